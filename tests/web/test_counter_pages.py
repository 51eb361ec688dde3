"""/counter: a service desk serves a resident in person, through the same use cases as the API.

Look-up with a mandatory purpose (refused in words without one, and the refusal audited), the
resident's views read-only with every read audited with that purpose, an objection filed on the
resident's behalf (check answers, confirmation with the reference), a certificate issued and
printed, a sign-in code printed, and a certificate checked by its code or by the address in its
QR code. Both languages, CSRF on every form, other roles refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guihua.core import statement as cert
from guihua.kit import signing
from guihua.usecases import audit, certificates, objections
from tests.web.conftest import A, L, N, Portal, csrf_of
from tests.web.staff_helpers import html_lang, sign_in_resident, staff_token, visible

PURPOSE = "resident asks for a certificate"


def counter(portal: Portal, lang: str = "en") -> str:
    """Sign the desk in and open the counter; the page's CSRF token."""
    portal.sign_in_with_token("desk")
    page = portal.client.get(f"/counter?lang={lang}")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def look_up(portal: Portal, sid: str, purpose: str = PURPOSE) -> str:
    token = counter(portal)
    answer = portal.client.post(
        "/counter/lookup", data={"subject_id": sid, "purpose": purpose, "csrf_token": token}
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/counter/resident")
    return token


def reads(portal: Portal, sid: str, since: int = 0) -> list[tuple[str, str | None, str, str | None]]:
    """(action, purpose, account, outcome) of the audit entries about ``sid`` after seq ``since``."""
    return [
        (e["action"], e["purpose"], e["account"], e["outcome"])
        for e in reversed(audit.entries(portal.store, sid, limit=1000))
        if e["seq"] > since
    ]


def last_seq(portal: Portal) -> int:
    entries = audit.entries(portal.store, limit=1)
    return int(entries[0]["seq"]) if entries else 0


# --------------------------------------------------------------------------- who may


def test_signed_out_visitors_are_sent_to_sign_in_and_back(portal: Portal) -> None:
    answer = portal.client.get("/counter/resident")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fcounter%2Fresident"


@pytest.mark.parametrize("who", ["reviewer", "traffic", "resident"])
def test_other_roles_are_refused_and_the_refusal_is_audited(portal: Portal, who: str) -> None:
    if who == "resident":
        sign_in_resident(portal, A)
    else:
        portal.sign_in_with_token(who)
    since = last_seq(portal)
    page = portal.client.get("/counter?lang=en", headers={"accept": "text/html"})
    assert page.status_code == 403 and "You cannot see this page" in page.text
    refused = [e for e in audit.entries(portal.store, limit=5) if e["seq"] > since]
    assert [(e["action"], e["outcome"]) for e in refused] == [("counter.open", "refused")]
    token = csrf_of(page.text)
    posted = portal.client.post(
        "/counter/lookup", data={"subject_id": A, "purpose": "x", "csrf_token": token}
    )
    assert posted.status_code == 403
    assert "counter_case" not in str(portal.client.cookies)


def test_every_form_needs_the_csrf_token(portal: Portal) -> None:
    look_up(portal, A)
    c = portal.client
    for path, data in [
        ("/counter/lookup", {"subject_id": A, "purpose": PURPOSE}),
        ("/counter/finish", {}),
        ("/counter/objection/check", {"department": "CIVIL", "source_id": "v1", "reason": "x"}),
        ("/counter/objection", {"department": "CIVIL", "source_id": "v1", "reason": "x"}),
        ("/counter/certificate", {}),
        ("/counter/sign-in-code", {}),
    ]:
        answer = c.post(path, data=data, headers={"accept": "text/html"})
        assert answer.status_code == 403 and "This form could not be accepted" in answer.text, path
        wrong = c.post(path, data={**data, "csrf_token": "x" * 43})
        assert wrong.status_code == 403, path
    assert objections.subject_objections(portal.store, A) == []


# --------------------------------------------------------------------------- look-up


def test_a_look_up_without_a_purpose_is_refused_in_words_and_audited(portal: Portal) -> None:
    token = counter(portal)
    since = last_seq(portal)
    refused = portal.client.post(
        "/counter/lookup", data={"subject_id": A, "purpose": "  ", "csrf_token": token}
    )
    assert refused.status_code == 400
    assert "Say why you are looking at this resident's data" in visible(refused.text)
    assert 'href="#purpose"' in refused.text  # the error summary leads to the field
    assert reads(portal, A, since) == [("subject.explain", None, "desk-wu", "refused")]
    assert portal.client.get("/counter/resident").headers["location"] == "/counter"  # nobody is served

    zh = portal.client.post(
        "/counter/lookup?lang=zh-CN", data={"subject_id": A, "purpose": "", "csrf_token": token}
    )
    assert html_lang(zh.text) == "zh-CN" and "请说明查看该居民数据的原因" in zh.text

    bad_id = portal.client.post(
        "/counter/lookup?lang=en", data={"subject_id": "12345", "purpose": "x", "csrf_token": token}
    )
    assert bad_id.status_code == 400 and "18-character identity card number" in bad_id.text
    assert 'value="12345"' in bad_id.text  # what was typed stays


def test_the_longest_purpose_fits_in_the_session(portal: Portal) -> None:
    token = counter(portal)
    purpose = "居民申请信用证明用于租房" * 20  # 240 characters: over the limit, refused
    too_long = portal.client.post(
        "/counter/lookup", data={"subject_id": A, "purpose": purpose, "csrf_token": token}
    )
    assert too_long.status_code == 400 and "Keep the purpose under 200 characters" in too_long.text
    answer = portal.client.post(
        "/counter/lookup", data={"subject_id": A, "purpose": purpose[:200], "csrf_token": token}
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert len(cookie.split(";")[0]) < 4000, len(cookie)
    page = portal.client.get("/counter/resident")
    assert page.status_code == 200 and purpose[:200] in page.text
    reads = [e for e in audit.entries(portal.store, A, limit=4) if e["action"] == "subject.explain"]
    assert reads[0]["purpose"] == purpose[:200]


def test_the_resident_is_served_without_its_id_in_any_address(portal: Portal) -> None:
    look_up(portal, L)
    page = portal.client.get("/counter/resident")
    assert page.status_code == 200
    assert L not in page.url.path and L not in str(page.url.query)
    assert f"Resident {L}" in visible(page.text)
    finished = portal.client.post("/counter/finish", data={"csrf_token": csrf_of(page.text)})
    assert finished.headers["location"] == "/counter"
    assert portal.client.get("/counter/resident").headers["location"] == "/counter"


def test_the_residents_views_are_the_use_cases_and_every_read_is_audited_with_the_purpose(
    portal: Portal,
) -> None:
    look_up(portal, L)
    since = last_seq(portal)
    text = visible(portal.client.get("/counter/resident").text)
    # the score and the defaulter flag, the case, the breakdown after the caps
    assert "Score 60 on 2026-06-30; everyone starts at 100" in text and "On the defaulter list." in text
    assert "Case C1 of Bank, listed on 2025-01-01: open" in text
    assert "What the records of each category add to the score on 2026-06-30" in text
    # the record: department, rule in words, legal basis, points, from, until, status
    for said in (
        "Loan default",
        "“Loan default” (rule LOAN-LIST)",
        "Credit reporting regulation Art. 9",
        "−40",
    ):
        assert said in text
    # perks with every reason, the notice in words, no objection yet
    assert "The score 60 is below the minimum of 100." in text
    assert "On the defaulter list: this perk needs a clean record." in text
    assert "Defaulter list: case C1" in text
    assert "The resident has not objected to any record." in text
    assert "read-only" in text and "File an objection to this record" in text
    assert reads(portal, L, since) == [
        ("subject.explain", PURPOSE, "desk-wu", "ok"),
        ("subject.perks", PURPOSE, "desk-wu", "ok"),
        ("subject.objections", PURPOSE, "desk-wu", "ok"),
        ("subject.notices", PURPOSE, "desk-wu", "ok"),
    ]


def test_the_views_speak_chinese_by_default(portal: Portal) -> None:
    look_up(portal, A)
    page = portal.client.get("/counter/resident?lang=zh-CN")
    assert html_lang(page.text) == "zh-CN"
    text = visible(page.text)
    for said in ("居民", "查询用途", "分数的构成", "对此记录提出异议", "出具信用证明", "打印登录码"):
        assert said in text, said
    assert "Purpose of this look-up" not in text


# --------------------------------------------------------------------------- an objection for the resident


def test_an_objection_check_answers_then_a_confirmation_with_the_reference(portal: Portal) -> None:
    token = look_up(portal, A)
    c = portal.client
    form = c.get("/counter/objection", params={"department": "CIVIL", "source_id": "v1"})
    assert form.status_code == 200 and "Why is this record wrong?" in form.text
    assert "Volunteer service" in visible(form.text)

    empty = c.post(
        "/counter/objection/check",
        data={"department": "CIVIL", "source_id": "v1", "reason": " ", "csrf_token": token},
    )
    assert empty.status_code == 400 and "Write why the resident thinks the record is wrong" in empty.text

    reason = "I was abroad <b>that week</b>"
    check = c.post(
        "/counter/objection/check",
        data={"department": "CIVIL", "source_id": "v1", "reason": reason, "csrf_token": token},
    )
    assert check.status_code == 200 and "Check the objection before sending it" in check.text
    assert "&lt;b&gt;that week&lt;/b&gt;" in check.text and "<b>that week</b>" not in check.text
    assert objections.subject_objections(portal.store, A) == []  # nothing filed by checking

    change = c.post(
        "/counter/objection/change",
        data={"department": "CIVIL", "source_id": "v1", "reason": reason, "csrf_token": token},
    )
    assert change.status_code == 200 and "I was abroad &lt;b&gt;that week&lt;/b&gt;</textarea>" in change.text

    since = last_seq(portal)
    sent = c.post(
        "/counter/objection",
        data={"department": "CIVIL", "source_id": "v1", "reason": reason, "csrf_token": token},
    )
    assert sent.status_code == 303
    filed = objections.subject_objections(portal.store, A)
    assert [(o.source_id, o.reason, o.filed_by, o.state) for o in filed] == [
        ("v1", reason, "desk-wu", "open")
    ]
    assert sent.headers["location"] == f"/counter/objection/{filed[0].id}"
    assert ("objection.file", None, "desk-wu", "ok") in reads(portal, A, since)

    done = visible(c.get(sent.headers["location"]).text)
    assert "Objection sent" in done and f"Reference number {filed[0].id}" in done
    assert "If there is no decision by 2026-07-30, the record stops counting until there is one." in done
    assert "What happens next" in done

    again = c.post(
        "/counter/objection",
        data={"department": "CIVIL", "source_id": "v1", "reason": "again", "csrf_token": token},
    )
    assert again.status_code == 409 and "This could not be done" in again.text
    assert len(objections.subject_objections(portal.store, A)) == 1
    # the resident's card now shows the open objection instead of offering another
    page = c.get("/counter/resident").text
    assert 'href="/counter/objection?department=CIVIL' not in page
    assert "open: a reviewer is looking at it" in visible(page)


def test_an_objection_to_a_record_of_someone_else_is_not_found(portal: Portal) -> None:
    token = look_up(portal, A)
    page = portal.client.get(
        "/counter/objection",
        params={"department": "BANK", "source_id": "l1"},
        headers={"accept": "text/html"},
    )
    assert page.status_code == 404
    sent = portal.client.post(
        "/counter/objection",
        data={"department": "BANK", "source_id": "l1", "reason": "x", "csrf_token": token},
    )
    assert sent.status_code == 404 and objections.subject_objections(portal.store, L) == []


# --------------------------------------------------------------------------- a certificate


def test_a_certificate_is_issued_printed_and_downloaded_by_the_clerk_who_issued_it(
    portal: Portal, tmp_path: Path
) -> None:
    token = look_up(portal, N)
    since = last_seq(portal)
    issued = portal.client.post("/counter/certificate", data={"document_lang": "en", "csrf_token": token})
    assert issued.status_code == 303
    where = issued.headers["location"]
    code = where.rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert ("certificate.issue", PURPOSE, "desk-wu", "ok") in reads(portal, N, since)

    page = portal.client.get(where)
    text = visible(page.text)
    assert page.status_code == 200 and "The certificate is issued" in text
    assert f"Resident {N} is not on the defaulter list" in text and code in text
    qr = re.search(r'<img src="(data:image/svg\+xml;base64,[^"]+)"', page.text)
    assert qr and f"/verify/{code}" in page.text
    assert "data-print" in page.text and 'src="/static/staff.js"' in page.text
    assert "onclick" not in page.text and "<script>" not in page.text

    pdf = portal.client.get(f"{where}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    saved = tmp_path / "c.pdf"
    saved.write_bytes(pdf.content)

    checked = certificates.verify_file(saved, signing.load_or_create(portal.keys).public)
    assert checked.statement.subject_id == N and cert.display_code(checked.statement.code) == code

    # another clerk sees no such page
    other = staff_token(portal, "service_desk", "desk-li")
    portal.client.post("/logout", data={"csrf_token": token})
    portal.tokens["desk-li"] = other
    portal.sign_in_with_token("desk-li")
    assert portal.client.get(where, headers={"accept": "text/html"}).status_code == 404
    assert portal.client.get(f"{where}/pdf").status_code == 404


def test_a_chinese_certificate_page(portal: Portal) -> None:
    token = look_up(portal, L)
    issued = portal.client.post("/counter/certificate", data={"csrf_token": token, "document_lang": "zh-CN"})
    page = portal.client.get(issued.headers["location"] + "?lang=zh-CN")
    assert html_lang(page.text) == "zh-CN" and "信用证明已出具" in page.text and "打印" in page.text


# --------------------------------------------------------------------------- a sign-in code


def test_a_printed_sign_in_code_signs_the_resident_in(portal: Portal) -> None:
    token = look_up(portal, A)
    since = last_seq(portal)
    slip = portal.client.post("/counter/sign-in-code", data={"csrf_token": token})
    assert slip.status_code == 200 and "Sign-in code for the Guihua portal" in slip.text
    assert slip.headers["cache-control"] == "no-store"
    code = re.search(r'<p class="big-code code"[^>]*>(\d{6})</p>', slip.text)
    assert code, slip.text
    assert ("sign_in.counter_code", None, "desk-wu", "ok") in reads(portal, A, since)
    assert "It works once, within 30 minutes" in visible(slip.text)

    portal.client.post("/logout", data={"csrf_token": token})
    login = portal.client.post(
        "/login/code", data={"subject_id": A, "code": code.group(1), "csrf_token": portal.csrf("/login/code")}
    )
    assert login.status_code == 303 and login.headers["location"] == "/me"


# --------------------------------------------------------------------------- checking a certificate


def test_a_certificate_is_checked_by_its_code_or_the_address_in_its_qr_code(
    portal: Portal, tmp_path: Path
) -> None:
    issued = certificates.issue(portal.store, N, tmp_path / "n.json", portal.keys)
    code = cert.display_code(issued.statement.code)
    counter(portal)
    c = portal.client
    since = last_seq(portal)
    for typed in (code, code.lower().replace("-", ""), issued.url, f"  {issued.url}?from=qr  "):
        page = c.get("/counter/verify", params={"code": typed})
        assert page.status_code == 200, typed
        assert "This certificate holds" in page.text and audit.mask(N) in page.text and N not in page.text
    checks = [r for r in reads(portal, N, since) if r[0] == "certificate.check"]
    assert checks == [("certificate.check", None, "desk-wu", "valid")] * 4  # under the clerk, not "public"

    unknown = c.get("/counter/verify", params={"code": "http://127.0.0.1:8000/verify/ZZZZ-ZZZZ-ZZZZ"})
    assert unknown.status_code == 404 and "No certificate has this code" in unknown.text
    empty = c.get("/counter/verify", params={"code": " "})
    assert empty.status_code == 400 and "scan or paste the address in its QR code" in empty.text
    zh = c.get("/counter/verify", params={"code": code, "lang": "zh-CN"})
    assert "该信用证明有效" in zh.text
