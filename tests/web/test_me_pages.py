"""A resident's own pages (/me): the score and why, perks, notices, who looked, objections, credit
repair, the report and a certificate, consent codes for perk checks; both languages, only the
resident itself (staff are refused, audited), CSRF on every form, every read audited as the API's.

Residents of the mini scheme (tests/web/conftest.py), with more records here: A volunteered twice
in 2026 (12 hours each: the yearly gain cap of 5 bites) and failed to yield on 2026-05-01 (-3 from
2026-05-08, after 7 notice days); L is on the defaulter list (case C1); R was listed (case C9) and
the case was resolved on 2026-03-01. Today is 2026-06-30.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from guihua.core import policy
from guihua.core.policy import Actor
from guihua.store.database import Store
from guihua.usecases import accounts, audit, catalogs, certificates, consents, objections, scores, sign_in
from tests.helpers import loan, offence, record, subject, submit_as_they_happen
from tests.web.conftest import ADMIN, A, L, N, Portal, csrf_of

R = subject(4)
DESK = Actor("desk-wu", "service_desk")
GET_PAGES = [
    "/me",
    "/me/perks",
    "/me/consent",
    "/me/notices",
    "/me/access-log",
    "/me/objections",
    "/me/documents",
]
CONSENT_PERK = "library_long_loan"  # made consent_required in the tests that need it
CODE = re.compile(r'<p class="big-code code">([A-Z0-9]{4}-[A-Z0-9]{4})</p>')


@pytest.fixture
def me(portal: Portal, tmp_path: Path) -> Portal:
    """The portal with A's second volunteering and traffic offence, and R's resolved case."""
    store = portal.store
    more = tmp_path / "more"
    more.mkdir()
    submit_as_they_happen(
        store,
        more,
        "CIVIL",
        [record("v2", A, "volunteer_service", "2026-04-01", hours=12, organisation="Zoo")],
    )
    submit_as_they_happen(store, more, "TRAFFIC", [offence(1, A, "2026-05-01")])
    submit_as_they_happen(
        store,
        more,
        "BANK",
        [loan(9, R, "2025-02-01", "C9", "list"), loan(10, R, "2026-03-01", "C9", "resolve")],
    )
    return portal


def sign_in_as(portal: Portal, sid: str) -> None:
    """Sign ``sid`` in with a code printed at the counter (as a resident at a kiosk would)."""
    code = sign_in.counter_code(portal.store, DESK, sid).code
    answer = portal.client.post(
        "/login/code", data={"subject_id": sid, "code": code, "csrf_token": portal.csrf("/login/code")}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/me", answer.text


def html_lang(text: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', text)
    assert found
    return found.group(1)


def actions(store: Store, sid: str) -> list[tuple[str, str, str]]:
    """The audit trail about ``sid``, oldest first: (account, action, outcome)."""
    return [(e["account"], e["action"], e["outcome"]) for e in reversed(audit.entries(store, sid, 10_000))]


def visible(html: str) -> str:
    """The page's text, tags dropped and spaces squeezed (what a reader sees, roughly)."""
    body = html.split('<main id="main"', 1)[-1]
    return " ".join(re.sub(r"<[^>]+>", " ", body).replace("&#39;", "'").replace("&amp;", "&").split())


def consent_catalog(portal: Portal, mini_catalog_text: str) -> None:
    text = mini_catalog_text.replace(
        'benefit: "60-day loans"}', 'benefit: "60-day loans", consent_required: true}'
    )
    catalogs.load_catalog(portal.store, text)


# --------------------------------------------------------------------------- who may


def test_signing_in_is_needed_and_brings_the_resident_back(me: Portal) -> None:
    for path in GET_PAGES:
        answer = me.client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path.replace('/', '%2F')}"


@pytest.mark.parametrize("who", ["desk", "reviewer", "traffic"])
def test_staff_cannot_use_the_residents_pages(me: Portal, who: str) -> None:
    me.sign_in_with_token(who)
    token = me.csrf("/")
    for path in [*GET_PAGES, "/me/objection?department=BANK&record=l1", "/me/report?format=pdf"]:
        answer = me.client.get(path, headers={"accept": "text/html"})
        assert answer.status_code == 403, path
        assert (
            "staff look a resident up at the service counter" in answer.text.lower()
            or "工作人员" in answer.text
        )
    for path, data in [
        ("/me/consent", {"perk": CONSENT_PERK}),
        ("/me/objection", {"department": "BANK", "record": "l1", "reason": "x"}),
        ("/me/objections", {"department": "BANK", "record": "l1", "reason": "x"}),
        ("/me/certificate", {}),
    ]:
        assert me.client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert objections.list_objections(me.store) == []
    refused = [e for e in audit.entries(me.store, None, 1000) if e["action"] == "portal.me"]
    assert refused and all(e["outcome"] == "refused" for e in refused)
    assert {e["role"] for e in refused} == {accounts_role(who)}


def accounts_role(who: str) -> str:
    return {"desk": "service_desk", "reviewer": "reviewer", "traffic": "department"}[who]


def test_a_resident_sees_only_itself(me: Portal) -> None:
    sign_in_as(me, A)
    # an id in the address is ignored: the pages are the session's resident's
    page = visible(me.client.get("/me?lang=en", params={"subject_id": L}).text)
    assert "v1" in page and "t1" in page and "l1" not in page and "Loan default" not in page
    # another resident's record, objection and everything else: as if it did not exist
    assert me.client.get("/me/objection", params={"department": "BANK", "record": "l1"}).status_code == 404
    token = me.csrf("/me")
    sent = me.client.post(
        "/me/objections",
        data={"department": "BANK", "record": "l1", "reason": "not mine", "csrf_token": token},
    )
    assert sent.status_code == 404
    assert objections.list_objections(me.store) == []
    theirs = objections.file(me.store, L, "BANK", "l1", "I paid", sign_in.policy_actor(L))
    assert me.client.get(f"/me/objections/{theirs.id}").status_code == 404
    assert "l1" not in visible(me.client.get("/me/objections?lang=en").text)
    # nothing about L was read by A's pages
    assert all(
        account != "portal" or action == "objection.file" for account, action, _ in actions(me.store, L)
    )


# --------------------------------------------------------------------------- both languages


@pytest.mark.parametrize("path", GET_PAGES)
def test_every_page_speaks_chinese_first_and_english_on_request(me: Portal, path: str) -> None:
    sign_in_as(me, L)
    zh = me.client.get(path)
    assert zh.status_code == 200 and html_lang(zh.text) == "zh-CN"
    assert "我的信用" in zh.text and "Score and records" not in zh.text
    en = me.client.get(path, params={"lang": "en"})
    assert en.status_code == 200 and html_lang(en.text) == "en"
    assert "Score and records" in en.text and "分数和记录" not in en.text
    assert 'aria-current="page"' in en.text
    assert "<script>" not in en.text and " style=" not in en.text and " onclick" not in en.text


# --------------------------------------------------------------------------- the score, and why


def test_the_score_by_category_with_the_caps_that_bit_and_the_timeline(me: Portal) -> None:
    sign_in_as(me, A)
    explained = scores.explain(me.store, A, categories=True)
    assert explained.score.score == 102  # 100 + volunteering capped at 5 - 3
    page = visible(me.client.get("/me?lang=en").text)
    assert "102 points on 2026-06-30" in page
    assert "You are not on the defaulter list" in page
    # the breakdown: volunteering 6 before its cap, 5 after; traffic -3, no cap
    assert re.search(
        r"Volunteering 2026 \+6 0 \+5 the yearly cap on gains for “Volunteering” was reached", page
    )
    assert re.search(r"Traffic 2026 0 -3 -3 no cap reached", page)
    # the timeline: oldest first, today in its place, each expiry ahead
    timeline = page.split("What changed your score, and when", 2)[2].split("Your records", 1)[0]
    assert timeline.index("2026-03-01") < timeline.index("2026-05-08") < timeline.index("Today")
    assert "+3 started to count" in timeline and "-3 started to count" in timeline
    assert "2027-05-08 -3 will stop counting (the record expires)" in timeline
    assert "2027-03-01 +3 will stop counting" in timeline
    # every record a card: department, what happened, rule in words, legal basis, points, from, until
    card = (
        page.split("Your records", 2)[2].split("Traffic offence", 1)[1].split("Object to this record", 1)[0]
    )
    for said in (
        "Traffic police",
        "Traffic offence on 2026-05-01",
        "offence: fail_to_yield",
        "(rule TRF-YIELD)",
        "Road Traffic Safety Law Art. 47",
        "Data sent under: Road Traffic Safety Law, Art. 2",
        "Points -3",
        "From 2026-05-08",
        "Until 2027-05-08",
        "takes 3 points off your score from 2026-05-08",
    ):
        assert said in card, said
    assert page.count("Object to this record") == 3  # every card of A's offers it
    # one read, audited as the API's explanation is
    assert actions(me.store, A)[-1] == ("portal", "subject.explain", "ok")


def test_the_catalogs_words_name_rules_and_metrics_in_each_language(
    me: Portal, mini_catalog_text: str
) -> None:
    words = mini_catalog_text.replace(
        'legal_basis: "Road Traffic Safety Law Art. 47"}',
        'legal_basis: "Road Traffic Safety Law Art. 47", name: Failing to yield, why: "You did not yield.", '
        'translations: {zh-CN: {name: "未礼让", why: "您未礼让行人。", legal_basis: "道路交通安全法第47条"}}}',
    ).replace(
        "{code: traffic_offence, name: Traffic offence,",
        '{code: traffic_offence, name: Traffic offence, translations: {zh-CN: {name: "交通违法"}},',
    )
    catalogs.load_catalog(me.store, words)
    sign_in_as(me, A)
    en = visible(me.client.get("/me?lang=en").text)
    assert "“Failing to yield” (rule TRF-YIELD)" in en and "You did not yield." in en
    zh = visible(me.client.get("/me?lang=zh-CN").text)
    assert "“未礼让”" in zh and "您未礼让行人。" in zh and "道路交通安全法第47条" in zh and "交通违法" in zh


def test_credit_repair_says_what_ends_a_listing_and_offers_the_certificate_once_resolved(me: Portal) -> None:
    sign_in_as(me, L)
    page = visible(me.client.get("/me?lang=en").text)
    assert "You are on the defaulter list." in page
    repair = page.split("Defaulter list: what ends it", 2)[2]
    assert "Case C1: Loan default" in repair and "On the list since 2025-01-01" in repair
    assert "The listing ends on the day Bank records that case C1 is resolved" in repair
    assert "Get a certificate that the case is resolved Cannot start yet" in repair
    me.client.post("/logout", data={"csrf_token": me.csrf("/me")})

    sign_in_as(me, R)
    html = me.client.get("/me?lang=en").text
    page = visible(html)
    assert "Resolved on 2026-03-01: from that day the listing and its penalty ended." in page
    assert "Settle case C9 with Bank Done" in page
    assert 'action="/me/certificate"' in html and "Get the certificate (PDF)" in page


def test_perks_say_eligible_or_every_reason_why_not(me: Portal) -> None:
    sign_in_as(me, L)
    page = visible(me.client.get("/me/perks?lang=en").text)
    library = page.split("Extended library loan", 1)[1].split("Civilization loan", 1)[0]
    assert "Not for you yet" in library and "Your score 60 is below the minimum of 102." in library
    loan_perk = page.split("Civilization loan", 1)[1]
    assert "Your score 60 is below the minimum of 100." in loan_perk
    assert "You are on the defaulter list, and this perk needs a clean record." in loan_perk
    me.client.post("/logout", data={"csrf_token": me.csrf("/me")})
    sign_in_as(me, A)
    page = visible(me.client.get("/me/perks?lang=en").text)
    assert page.count("You can use it") == 2 and "Your score 102 reaches the minimum of 102." in page
    assert "You are not on the defaulter list, as this perk requires." in page
    assert actions(me.store, A)[-1] == ("portal", "subject.perks", "ok")
    zh = visible(me.client.get("/me/perks?lang=zh-CN").text)
    assert "您可以享受" in zh and "您的分数 102 达到了最低要求 102。" in zh


def test_notices_in_the_pages_language(me: Portal) -> None:
    sign_in_as(me, L)
    en = visible(me.client.get("/me/notices?lang=en").text)
    assert "Defaulter list: case C1" in en and "Kind defaulter list" in en and "not sent on any channel" in en
    zh = me.client.get("/me/notices?lang=zh-CN").text
    assert "失信" in zh
    assert actions(me.store, L)[-1] == ("portal", "subject.notices", "ok")


# --------------------------------------------------------------------------- objections


def test_contesting_a_record_form_check_answers_confirmation(me: Portal) -> None:
    c = me.client
    sign_in_as(me, A)
    overview = c.get("/me?lang=en").text
    link = re.search(r'href="(/me/objection\?department=TRAFFIC&amp;record=t1)"', overview)
    assert link
    form = c.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200 and "Why is this record wrong?" in form.text
    assert "takes 3 points off your score" in visible(form.text)  # the record, in words, beside the question
    token = csrf_of(form.text)
    key = {"department": "TRAFFIC", "record": "t1", "csrf_token": token}

    empty = c.post("/me/objection", data={**key, "reason": "  ", "step": "check"})
    assert empty.status_code == 400
    assert "There is a problem" in empty.text and 'href="#reason"' in empty.text
    assert (
        "Say why you think this record is wrong" in empty.text
        and 'aria-describedby="reason-hint reason-error"' in empty.text
    )

    reason = "I had sold the car by then.\nThe buyer was driving."
    check = c.post("/me/objection", data={**key, "reason": reason, "step": "check"})
    assert check.status_code == 200 and "Check your answers before sending your objection" in check.text
    assert "I had sold the car by then." in check.text and "Traffic police" in check.text
    assert ">Change<" in check.text
    edit = c.post("/me/objection", data={**key, "reason": reason, "step": "edit"})
    assert "Why is this record wrong?" in edit.text and "I had sold the car by then." in edit.text
    assert objections.list_objections(me.store) == []  # nothing sent before "Send"

    sent = c.post("/me/objections", data={**key, "reason": reason})
    assert sent.status_code == 303
    filed = objections.list_objections(me.store)
    assert len(filed) == 1 and filed[0].reason == reason and filed[0].filed_by == "portal"
    assert sent.headers["location"] == f"/me/objections/{filed[0].id}?filed=1"

    done = visible(c.get(sent.headers["location"]).text)
    assert "Objection sent" in done and f"Your reference number {filed[0].id}" in done
    assert f"A reviewer must decide by {filed[0].suspends_on}." in done and "30 days are left." in done
    assert "What happens next" in done and "may ask Traffic police about it" in done
    assert "open: a reviewer is looking at it" in done

    listed = visible(c.get("/me/objections?lang=en").text)
    assert f"Objection {filed[0].id}" in listed and "t1" in listed and filed[0].suspends_on in listed
    card = visible(c.get("/me?lang=en").text).split("Traffic offence on 2026-05-01", 1)[1]
    assert card.split("Object to this record")[0].count("open: a reviewer is looking at it") == 1
    assert visible(c.get("/me?lang=en").text).count("Object to this record") == 2  # not on t1 any more

    again = c.post("/me/objections", data={**key, "reason": "again"})
    assert again.status_code == 409 and "already has an objection" in again.text
    assert len(objections.list_objections(me.store)) == 1
    zh = c.get(f"/me/objections/{filed[0].id}?filed=1&lang=zh-CN").text
    assert "异议已提交" in zh and "您的受理编号" in zh and "接下来会怎样" in zh
    trail = actions(me.store, A)
    assert ("portal", "objection.file", "ok") in trail


def test_every_form_needs_the_csrf_token(me: Portal, mini_catalog_text: str) -> None:
    consent_catalog(me, mini_catalog_text)
    sign_in_as(me, A)
    before = len(audit.entries(me.store, A, 10_000))
    for path, data in [
        ("/me/consent", {"perk": CONSENT_PERK}),
        ("/me/objection", {"department": "TRAFFIC", "record": "t1", "reason": "x", "step": "check"}),
        ("/me/objections", {"department": "TRAFFIC", "record": "t1", "reason": "x"}),
        ("/me/certificate", {}),
    ]:
        for token in (None, "forged-" + "x" * 40):
            sent = {**data, **({"csrf_token": token} if token else {})}
            answer = me.client.post(f"{path}?lang=en", data=sent, headers={"accept": "text/html"})
            assert answer.status_code == 403 and "This form could not be accepted" in answer.text, path
    assert objections.list_objections(me.store) == []
    assert len(audit.entries(me.store, A, 10_000)) == before  # no code made, no certificate issued
    # and every form of the pages carries it
    for path in ("/me", "/me/consent", "/me/documents", "/me/objection?department=TRAFFIC&record=t1"):
        html = me.client.get(path).text
        for form in re.findall(r'<form method="post".*?</form>', html, re.S):
            assert 'name="csrf_token"' in form, (path, form[:80])


# --------------------------------------------------------------------------- who looked


def test_the_access_log_shows_who_when_role_purpose_in_pages_like_the_api(me: Portal) -> None:
    scores.subject_score(me.store, A, actor=DESK, purpose="library card renewal")
    sign_in_as(me, A)
    for _ in range(60):
        scores.subject_score(me.store, A, actor=sign_in.policy_actor(A))
    first = me.client.get("/me/access-log?lang=en").text
    rows = re.findall(r"<tr>\s*<td data-label=", first)
    assert len(rows) == 50
    following = re.search(r'href="/me/access-log\?before=(\d+)" rel="next"', first)
    assert following
    newest = audit.entries(me.store, A, 50)  # what the API's first page holds (unaudited here)
    assert int(following.group(1)) == int(newest[-1]["seq"])
    assert "read who accessed the data" in visible(first)  # this very reading, first
    older = visible(me.client.get(f"/me/access-log?lang=en&before={following.group(1)}").text)
    assert "desk-wu" in older and "service centre counter" in older and "library card renewal" in older
    assert "Newest entries" in older
    reads = [a for _, a, _ in actions(me.store, A) if a == "subject.access_log"]
    assert len(reads) == 1  # the first page is an audited read; paging on is not
    zh = me.client.get("/me/access-log?lang=zh-CN").text
    assert "谁查看了我的数据" in zh


# --------------------------------------------------------------------------- documents


def test_the_report_and_a_certificate_to_download(me: Portal) -> None:
    sign_in_as(me, R)
    pdf = me.client.get("/me/report?format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    html = me.client.get("/me/report?format=html&lang=en")
    assert (
        html.headers["content-type"].startswith("text/html")
        and "attachment" in html.headers["content-disposition"]
    )
    assert R in html.text and "Case C9" in html.text
    assert me.client.get("/me/report?format=docx").status_code == 404
    assert [a for _, a, _ in actions(me.store, R)].count("subject.report") == 2

    token = me.csrf("/me/documents")
    cert = me.client.post("/me/certificate", data={"csrf_token": token})
    assert cert.status_code == 200 and cert.content.startswith(b"%PDF")
    code = re.search(r"certificate-([A-Z0-9-]+)\.pdf", cert.headers["content-disposition"])
    assert code
    check = certificates.check_code(me.store, code.group(1))
    assert check.status == "valid" and check.certified_status == "resolved"
    assert ("portal", "certificate.issue", "ok") in actions(me.store, R)
    # the public's check of it is counted in the resident's access log, as the API's is
    log = visible(me.client.get("/me/access-log?lang=en").text)
    assert "Checks of your certificates" in log and "2026-06-30 the certificate holds 1" in log


# --------------------------------------------------------------------------- consent


def decode_qr(data_uri: str, tmp_path: Path) -> str | None:
    """The text of the page's QR image (its SVG drawn module by module, read by zbarimg), or None
    where zbarimg is missing (``make test`` installs it)."""
    import base64

    from PIL import Image, ImageDraw

    if shutil.which("zbarimg") is None:
        return None
    svg = base64.b64decode(data_uri.split(",", 1)[1]).decode()
    side = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))  # type: ignore[union-attr]
    scale = 8
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path[^>]* d="([^"]+)"', svg) or re.search(r'd="([^"]+)"', svg)
    assert path
    for x, y, w in re.findall(r"M(\d+)[ ,](\d+)h(\d+)", path.group(1)):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle([x0, y0, x0 + int(w) * scale - 1, y0 + scale - 1], fill=0)
    png = tmp_path / "qr.png"
    image.save(png)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def make_code(portal: Portal, perk: str = CONSENT_PERK) -> tuple[str, str]:
    answer = portal.client.post(
        "/me/consent?lang=en", data={"perk": perk, "csrf_token": portal.csrf("/me/consent")}
    )
    assert answer.status_code == 200, answer.text
    found = CODE.search(answer.text)
    assert found, answer.text
    return found.group(1), answer.text


def test_a_consent_code_lets_the_provider_check_once_and_shows_in_the_access_log(
    me: Portal, mini_catalog_text: str, tmp_path: Path
) -> None:
    consent_catalog(me, mini_catalog_text)
    library = accounts.create(me.store, ADMIN, "provider", "lib-desk", provider="SZLIB")
    bank = accounts.create(me.store, ADMIN, "provider", "bank-desk", provider="SZBANK")
    check_url = f"/api/v1/perks/{CONSENT_PERK}/eligibility/{A}"

    def check(token: str, consent: str | None) -> Any:
        params = {"consent": consent} if consent is not None else {}
        return me.client.get(check_url, params=params, headers={"Authorization": f"Bearer {token}"})

    assert check(library, None).status_code == 403  # no consent, no answer
    sign_in_as(me, A)
    page = visible(me.client.get("/me/consent?lang=en").text)
    assert "Extended library loan checked by SZLIB" in page and "within 10 minutes" in page
    code, html = make_code(me)
    assert "one check of “Extended library loan” by SZLIB" in visible(html)
    qr = re.search(r'<img class="qr" src="(data:image/svg\+xml;base64,[^"]+)"', html)
    assert qr and 'alt="QR code of the consent code ' + code in html
    decoded = decode_qr(qr.group(1), tmp_path)
    if decoded is not None:
        parts = urlsplit(decoded)
        assert parts.path == check_url and parse_qs(parts.query)["consent"] == [code]

    assert check(bank, code).status_code == 403  # another provider: refused, and the code left alone
    assert check(library, code.lower().replace("-", " ")).json()["eligible"] is True  # as typed at a desk
    assert check(library, code).status_code == 403  # spent by that one check

    log = visible(me.client.get("/me/access-log?lang=en").text)
    assert "lib-desk perk provider used your consent code for a perk check" in log
    assert f"perk {CONSENT_PERK}, with the resident's consent" in log
    assert "made a consent code for a perk check" in log

    # five wrong codes kill a live one; an old one has expired
    fresh, _ = make_code(me)
    for _ in range(consents.MAX_ATTEMPTS):
        assert check(library, "ZZZZ-ZZZZ").status_code == 403
    assert check(library, fresh).status_code == 403
    late, _ = make_code(me)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=consents.CONSENT_MINUTES + 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(consents, "now", lambda: later)
        assert check(library, late).status_code == 403


def test_consent_is_the_residents_own_and_only_for_perks_that_need_it(
    me: Portal, mini_catalog_text: str
) -> None:
    sign_in_as(me, A)
    none = visible(me.client.get("/me/consent?lang=en").text)
    assert "No perk of the scheme needs your consent at the moment" in none
    consent_catalog(me, mini_catalog_text)
    token = me.csrf("/me/consent")
    wrong = me.client.post("/me/consent?lang=en", data={"perk": "civilization_loan", "csrf_token": token})
    assert wrong.status_code == 400 and "Choose the perk the check is for" in wrong.text
    missing = me.client.post("/me/consent?lang=en", data={"csrf_token": token})
    assert missing.status_code == 400 and 'href="#perk"' in missing.text and 'id="perk"' in missing.text
    assert (
        policy.give_consent(DESK, A) is not None
        and policy.give_consent(sign_in.policy_actor(L), A) is not None
    )
    assert policy.give_consent(sign_in.policy_actor(A), A) is None
    with pytest.raises(Exception, match="only the resident itself"):
        consents.give(me.store, DESK, A, CONSENT_PERK)
    assert ("desk-wu", "consent.give", "refused") in actions(me.store, A)


def test_a_resident_without_records_reads_its_base_score(me: Portal) -> None:
    """N (no record at all): the base score, and pages that say there is nothing, not errors."""
    sign_in_as(me, N)
    page = me.client.get("/me?lang=en").text
    assert 'href="/me" aria-current="page"' in page and "/counter" not in page
    said = visible(page)
    assert "100 points on 2026-06-30" in said and "No department has sent a record about you." in said
    assert "Nothing has changed your score yet." in said
