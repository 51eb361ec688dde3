"""A resident's journey, end to end in Chromium: sign in with the e-mailed code, find why points
were taken, contest the record (the question, check your answers, send), see the objection.

The resident is this test's own (the session's portal is shared): a department sends one
traffic offence about them, received on 2026-05-20 (the traffic police ran ``guihua ingest``
that day), so by today (2026-06-30) its notice period is over and the points are taken. Every
page is checked with axe, kept as screenshots at phone and desktop widths, and watched for
console errors and requests leaving the service; the objection's question is answered with the
keyboard alone.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.e2e.conftest import BIN
from tests.helpers import subject

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures say why (skip, or fail under CI=true)
    expect = None  # type: ignore[assignment]

RESIDENT = subject(731, birth="19790415", area="320505")  # nobody of the demo city: the test's own
ADDRESS = "journey-resident@example.org"
RECORD = "E2E-RESIDENT-0001"
REASON = "I had sold the car on 2 May 2026; the buyer was driving it on 18 May."


@pytest.fixture(scope="module")
def resident(portal: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """This module's resident, with a contact address and one traffic offence sent on 2026-05-20
    (the traffic police ran ``guihua ingest`` that day): by today its points are taken."""
    csv = tmp_path_factory.mktemp("resident") / "traffic-e2e-resident.csv"
    csv.write_text(
        "source_id,subject_id,metric,occurred_at,offence,fine,paid\n"
        f"{RECORD},{RESIDENT},traffic_offence,2026-05-18,running_red_light,200.00,true\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(BIN / "guihua"), "ingest", str(csv), "--department", "TRAFFIC", "--json"],
        cwd=portal.folder,
        env={**portal.env, "GUIHUA_TODAY": "2026-05-20"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["accepted"] == 1, done.stdout
    portal.set_contact(RESIDENT, ADDRESS)
    return RESIDENT


def sign_in(page: Any, mailbox: Any, complete_with_keyboard: Any) -> None:
    """Sign the resident in with the code the portal e-mails, with the keyboard alone."""
    page.goto("/login?lang=en")
    before = len(mailbox.to(ADDRESS))
    complete_with_keyboard(page, page.locator('form[action="/login/code/request"]'), {"subject_id": RESIDENT})
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    code = mailbox.code_in(mailbox.wait_for(ADDRESS, after=before))
    complete_with_keyboard(page, page.locator('form[action="/login/code"]'), {"code": code})
    expect(page).to_have_url(re.compile(r"/me$"))


def only_the_refused_form(page: Any, assert_clean: Any) -> None:
    """The page answering a form with errors is a 400, which Chromium logs to the console: that
    one line, and nothing else, is what ``assert_clean`` may find here."""
    try:
        assert_clean(page)
    except AssertionError as exc:
        problems = [line.strip() for line in str(exc).splitlines()[1:] if line.strip().startswith("console")]
        assert problems and all("status of 400" in p and p.endswith("/me/objection]") for p in problems), exc


def test_a_resident_signs_in_finds_why_points_were_taken_and_contests_the_record(
    resident: str,
    phone_page: Any,
    mailbox: Any,
    complete_with_keyboard: Any,
    axe_check: Any,
    assert_clean: Any,
    shoot: Any,
) -> None:
    if expect is None:
        pytest.skip("playwright is not installed")
    page = phone_page

    # sign in with the code the portal e-mails
    page.goto("/login?lang=en")
    axe_check(page, "resident-login")
    sign_in(page, mailbox, complete_with_keyboard)

    # why points were taken: the score, the breakdown, the timeline and the record's card
    expect(page.get_by_role("heading", name="Your score and records", level=1)).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("98 points on 2026-06-30")
    card = page.locator("article.record").filter(has_text=RECORD)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("-2")
    expect(card).to_contain_text("it takes 2 points off your score from 2026-06-04")
    expect(card).to_contain_text("Serious traffic offence")
    expect(card).to_contain_text("Road Traffic Safety Law, Art. 90")
    expect(card.locator('dt:text-is("From") + dd')).to_have_text("2026-06-04")
    expect(card.locator('dt:text-is("Until") + dd')).to_have_text("2027-06-04")
    expect(page.locator("ol.timeline")).to_contain_text("will stop counting (the record expires)")
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 390, f"the phone page is {wide} px wide: it scrolls sideways"
    axe_check(page, "resident-me")
    assert_clean(page)
    shoot(page, "resident-me")

    # contest it in place: the question, answered with the keyboard only (first empty: the error)
    card.get_by_role("link", name=re.compile("Object to this record")).click()
    expect(page.get_by_role("heading", name="Object to a record")).to_be_visible()
    axe_check(page, "resident-objection-question")
    shoot(page, "resident-objection-question")
    assert_clean(page)
    question = page.locator('form[action="/me/objection"]')
    complete_with_keyboard(page, question, {"reason": " "})
    expect(page.get_by_role("alert")).to_contain_text("Say why you think this record is wrong")
    axe_check(page, "resident-objection-error")
    shoot(page, "resident-objection-error")
    only_the_refused_form(page, assert_clean)
    order = complete_with_keyboard(page, page.locator('form[action="/me/objection"]'), {"reason": REASON})
    assert any("textarea name=reason" in step for step in order), order

    # check your answers, change nothing, send
    expect(
        page.get_by_role("heading", name="Check your answers before sending your objection")
    ).to_be_visible()
    expect(main).to_contain_text(REASON)
    axe_check(page, "resident-objection-check")
    shoot(page, "resident-objection-check")
    complete_with_keyboard(page, page.locator('form[action="/me/objections"]'), {})

    # the confirmation: a reference number, the 30-day clock, what happens next
    expect(page.get_by_role("heading", name="Objection sent")).to_be_visible()
    reference = page.locator(".panel-confirm .reference").inner_text().strip()
    assert reference.isdigit(), reference
    expect(main).to_contain_text("A reviewer must decide by 2026-07-30.")
    expect(main).to_contain_text("What happens next")
    axe_check(page, "resident-objection-sent")
    assert_clean(page)
    shoot(page, "resident-objection-sent")

    # and the objection, with its state, among the resident's own; the card says it is disputed
    page.get_by_role("link", name="All your objections").click()
    item = page.locator("article").filter(has_text=RECORD)
    expect(item).to_contain_text(f"Objection {reference}")
    expect(item).to_contain_text("open: a reviewer is looking at it")
    axe_check(page, "resident-objections")
    shoot(page, "resident-objections")
    page.goto("/me")
    card = page.locator("article.record").filter(has_text=RECORD)
    expect(card).to_contain_text("disputed")
    expect(card.get_by_role("link", name=re.compile("Object to this record"))).to_have_count(0)

    # the same pages in Chinese, by the switch on the page
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="我的分数和记录", level=1)).to_be_visible()
    axe_check(page, "resident-me-zh")
    assert_clean(page)
    shoot(page, "resident-me-zh")


OTHER_PAGES = {
    "/me/perks": "Perks",
    "/me/consent": "Consent to a perk check",
    "/me/notices": "Notices",
    "/me/access-log": "Who looked at my data",
    "/me/documents": "Report and certificate",
}


def test_every_page_of_the_resident_passes_axe_and_reads_on_a_phone(
    resident: str,
    new_page: Any,
    mailbox: Any,
    complete_with_keyboard: Any,
    axe_check: Any,
    assert_clean: Any,
    shoot: Any,
) -> None:
    """The resident's other pages, at both widths: axe finds nothing serious, nothing scrolls
    sideways on a phone, nothing leaves the service; the report downloads."""
    if expect is None:
        pytest.skip("playwright is not installed")
    page = new_page("phone")
    sign_in(page, mailbox, complete_with_keyboard)
    for path, heading in OTHER_PAGES.items():
        page.goto(f"{path}?lang=en")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390, f"{path} is {wide} px wide on a phone: it scrolls sideways"
        name = "resident-" + path.rsplit("/", 1)[1]
        axe_check(page, f"{name}-phone")
        page.set_viewport_size({"width": 1280, "height": 800})
        axe_check(page, f"{name}-desktop")
        page.set_viewport_size({"width": 390, "height": 844})
        assert_clean(page)
        shoot(page, name)
    expect(page.locator("main")).to_contain_text("Download the report (PDF)")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (PDF)").click()
    assert download.value.suggested_filename.startswith(f"report-{RESIDENT}-")
    log = page.goto("/me/access-log?lang=en")
    assert log is not None and log.status == 200
    expect(page.locator("main")).to_contain_text("made this report")
