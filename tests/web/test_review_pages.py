"""/review: reviewers see objections oldest first with their deadline and decide them (uphold,
correct, revoke, with a reason) through the same use case as POST /api/v1/objections/{id}/decision."""

from __future__ import annotations

import pytest

from guihua.usecases import audit, notices, objections, scores
from tests.web.conftest import A, L, Portal, csrf_of
from tests.web.staff_helpers import html_lang, sign_in_resident, visible


def reviewer(portal: Portal, lang: str = "en") -> str:
    portal.sign_in_with_token("reviewer")
    page = portal.client.get(f"/review?lang={lang}")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def decide(portal: Portal, token: str, objection_id: int, **form: str) -> object:
    return portal.client.post(
        f"/review/objections/{objection_id}/decision",
        data={"csrf_token": token, **form},
        headers={"accept": "text/html"},
    )


@pytest.mark.parametrize("who", ["desk", "traffic", "resident"])
def test_only_reviewers_decide_and_refusals_are_audited(portal: Portal, who: str) -> None:
    filed = objections.file(portal.store, A, "CIVIL", "v1", "not me")
    if who == "resident":
        sign_in_resident(portal, A)
    else:
        portal.sign_in_with_token(who)
    page = portal.client.get("/review", headers={"accept": "text/html"})
    assert page.status_code == 403
    assert audit.entries(portal.store, limit=1)[0]["outcome"] == "refused"
    answer = decide(portal, csrf_of(page.text), filed.id, decision="revoke", reason="x")
    assert answer.status_code == 403
    assert objections.list_objections(portal.store)[0].state == "open"


def test_signed_out_is_sent_to_sign_in_and_every_form_needs_the_token(portal: Portal) -> None:
    filed = objections.file(portal.store, A, "CIVIL", "v1", "not me")
    path = f"/review/objections/{filed.id}"
    assert portal.client.get(path).headers["location"] == f"/login?next=%2Freview%2Fobjections%2F{filed.id}"
    reviewer(portal)
    missing = portal.client.post(
        f"{path}/decision", data={"decision": "revoke", "reason": "x"}, headers={"accept": "text/html"}
    )
    assert missing.status_code == 403 and "This form could not be accepted" in missing.text
    assert objections.list_objections(portal.store)[0].state == "open"


def test_objections_oldest_first_with_their_deadline_and_overdue_ones_marked(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIHUA_TODAY", "2026-05-01")
    old = objections.file(portal.store, L, "BANK", "l1", "the loan was repaid in 2024")
    monkeypatch.setenv("GUIHUA_TODAY", "2026-06-30")
    new = objections.file(portal.store, A, "CIVIL", "v1", "I was not there")
    reviewer(portal)
    page = portal.client.get("/review?lang=en")
    text = visible(page.text)
    assert text.index(f"Objection {old.id}") < text.index(f"Objection {new.id}")
    assert "2026-05-31: overdue, the record does not count until you decide" in text
    assert "Decision due by 2026-07-30" in text
    assert A not in text and audit.mask(A) in text  # the list masks ids; the objection's page shows it
    assert audit.entries(portal.store, limit=1)[0]["action"] == "objections.list"
    zh = portal.client.get("/review?lang=zh-CN")
    assert html_lang(zh.text) == "zh-CN" and "已逾期" in zh.text and "待决定的异议" in zh.text


def test_the_objection_page_reads_the_record_with_a_purpose(portal: Portal) -> None:
    filed = objections.file(portal.store, A, "CIVIL", "v1", "I was not there")
    reviewer(portal)
    page = portal.client.get(f"/review/objections/{filed.id}?lang=en")
    text = visible(page.text)
    assert f"Objection {filed.id}" in text and "I was not there" in text and A in text
    assert "Volunteer service" in text and "(rule VOL-10H)" in text and "Volunteer regulation Art. 5" in text
    assert 'name="decision" value="uphold"' in page.text and 'name="field.hours"' in page.text
    reads = [e for e in audit.entries(portal.store, A, limit=5) if e["action"] == "subject.explain"]
    assert reads[0]["purpose"] == f"review of objection {filed.id}" and reads[0]["account"] == "reviewer-li"
    assert portal.client.get("/review/objections/999", headers={"accept": "text/html"}).status_code == 404


def test_a_decision_needs_a_choice_and_a_reason_said_in_words(portal: Portal) -> None:
    filed = objections.file(portal.store, A, "CIVIL", "v1", "I was not there")
    token = reviewer(portal)
    none = decide(portal, token, filed.id, reason="checked")
    assert none.status_code == 400 and "Choose a decision: uphold, correct or revoke" in none.text
    assert 'href="#decision"' in none.text and "checked</textarea>" in none.text  # what was typed stays
    no_reason = decide(portal, token, filed.id, decision="uphold", reason="  ")
    assert no_reason.status_code == 400 and "Give the reason for the decision" in no_reason.text
    assert 'value="uphold" checked' in no_reason.text
    portal.client.get("/review?lang=zh-CN")
    zh = decide(portal, token, filed.id, decision="uphold")
    assert "请填写决定理由" in zh.text
    assert objections.list_objections(portal.store)[0].state == "open"


def test_uphold_and_the_resident_is_told(portal: Portal) -> None:
    filed = objections.file(portal.store, A, "CIVIL", "v1", "I was not there")
    token = reviewer(portal)
    answer = decide(portal, token, filed.id, decision="uphold", reason="the organisation confirmed the hours")
    assert (
        answer.status_code == 303 and answer.headers["location"] == f"/review/objections/{filed.id}?decided=1"
    )
    page = visible(portal.client.get(answer.headers["location"] + "&lang=en").text)
    assert "Decision recorded" in page and "upheld (the record stands as it was)" in page
    assert "the organisation confirmed the hours" in page and "Record the decision" not in page
    decided = objections.list_objections(portal.store)[0]
    assert (decided.state, decided.decided_by) == ("upheld", "reviewer-li")
    assert [n["kind"] for n in notices.notices_of(portal.store, A)] == ["decision"]
    assert ("objection.uphold", "reviewer-li") in [
        (e["action"], e["account"]) for e in audit.entries(portal.store, A)
    ]
    again = decide(portal, token, filed.id, decision="revoke", reason="changed my mind")
    assert again.status_code == 409 and objections.list_objections(portal.store)[0].state == "upheld"


def test_correct_makes_a_new_version_with_only_the_fields_changed(portal: Portal) -> None:
    filed = objections.file(portal.store, A, "CIVIL", "v1", "it was 2 hours, not 12")
    token = reviewer(portal)
    assert scores.subject_score(portal.store, A).score == 103
    bad_date = decide(portal, token, filed.id, decision="correct", reason="x", occurred_at="30/06/2026")
    assert bad_date.status_code == 400 and "Enter the date as YYYY-MM-DD" in bad_date.text
    unchanged = decide(portal, token, filed.id, decision="correct", reason="x", **{"field.hours": "12.0"})
    assert unchanged.status_code == 422 and "This could not be done" not in unchanged.text
    assert "a correction needs at least one changed field" in unchanged.text
    answer = decide(
        portal,
        token,
        filed.id,
        decision="correct",
        reason="the log shows 2 hours",
        **{"field.hours": "2", "field.organisation": "Red Cross"},
    )
    assert answer.status_code == 303
    assert objections.list_objections(portal.store)[0].state == "corrected"
    explained = scores.explain(portal.store, A)
    item = next(i for i in explained.items if i.source_id == "v1")
    assert (item.version, item.fields["hours"], item.rule_id) == (2, 2, "VOL-1H")
    assert item.fields["organisation"] == "Red Cross"


def test_revoke_stops_the_record_counting(portal: Portal) -> None:
    filed = objections.file(portal.store, L, "BANK", "l1", "repaid")
    token = reviewer(portal)
    assert scores.subject_score(portal.store, L).score == 60
    answer = decide(portal, token, filed.id, decision="revoke", reason="the bank confirmed the repayment")
    assert answer.status_code == 303
    assert scores.subject_score(portal.store, L).score == 100
