"""The staff's journeys, end to end in Chromium on the session's portal (the real ``guihua serve``):

- a clerk at the service counter looks a resident up with a purpose, issues a certificate, and
  verifies it by pasting the address its QR code holds (the QR code on the page is read back with
  zbarimg, as a phone would read it);
- a department's clerk uploads a file with bad rows, sees the outcome and downloads the rejects;
- a reviewer decides an objection.

Each key page is checked with axe-core, watched for console errors and requests leaving the
service, and kept as screenshots at phone and desktop widths; one form of each journey is sent
with the keyboard alone. The residents, records and objections are this file's own (the portal is
shared by the session), so no other test's state is assumed or changed.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BIN
from tests.helpers import subject

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures say why (skip, or fail under CI=true)
    expect = None  # type: ignore[assignment]

UPLOADER = subject(811, birth="19800101", area="320505")  # nobody of the demo city
OBJECTOR = subject(812, birth="19800101", area="320505")
VISITOR = subject(813, birth="19800101", area="320505")  # comes to the counter to object
HEADER = "source_id,subject_id,metric,occurred_at,offence,fine,paid\n"


def needs_playwright() -> None:
    if expect is None:
        pytest.skip("playwright is not installed")


def sign_in_with_key(page: Any, token: str) -> None:
    """Staff sign in on /login with their account's key (the form is in a disclosure)."""
    page.goto("/login?lang=en")
    page.get_by_text("Sign in with your account's key").click()
    form = page.locator("form[action='/login/token']")
    form.get_by_label("Account key").fill(token)
    form.get_by_role("button", name="Sign in").click()


def reads_on_a_phone(page: Any) -> None:
    """At the phone's width (390 px) the page does not scroll sideways (wide tables scroll in
    their own box); the page's own size is put back after."""
    own = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390, f"{page.url} is {wide} px wide on a phone: it scrolls sideways"
    finally:
        page.set_viewport_size(own)


def cli(portal: Any, *args: str, today: str | None = None) -> str:
    env = {**portal.env, **({"GUIHUA_TODAY": today} if today else {})}
    done = subprocess.run(
        [str(BIN / "guihua"), *args], cwd=portal.folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def read_qr(image: Path) -> str | None:
    """The text of the QR code in ``image`` (zbarimg, from Debian's zbar-tools), or None without it."""
    if shutil.which("zbarimg") is None:
        return None
    done = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"no QR code found in {image}: {done.stderr}"
    return done.stdout.strip()


# --------------------------------------------------------------------------- the service counter


def test_a_clerk_issues_and_verifies_a_certificate(
    portal: Any,
    page: Any,
    tmp_path: Path,
    complete_with_keyboard: Any,
    axe_check: Any,
    assert_clean: Any,
    shoot: Any,
) -> None:
    needs_playwright()
    resident = portal.examples["above"]  # not on the defaulter list: a certificate says so
    sign_in_with_key(page, portal.account("service_desk", "desk-journey"))
    expect(page).to_have_url(re.compile(r"/counter$"))
    expect(page.get_by_role("heading", name="Service counter", level=1)).to_be_visible()
    axe_check(page, "counter")
    shoot(page, "counter")
    reads_on_a_phone(page)
    assert_clean(page)

    # the look-up, with the keyboard alone: the id and the purpose of the visit
    complete_with_keyboard(
        page,
        page.locator("form[action='/counter/lookup']"),
        {"subject_id": resident, "purpose": "the resident asks for a certificate for a landlord"},
    )
    expect(page).to_have_url(re.compile(r"/counter/resident$"))
    expect(page.get_by_role("heading", name=f"Resident {resident}")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Purpose of this look-up: the resident asks for a certificate"
    )
    expect(page.get_by_role("heading", name="What makes up the score")).to_be_visible()
    axe_check(page, "counter-resident")
    shoot(page, "counter-resident")
    reads_on_a_phone(page)
    assert_clean(page)

    # a certificate, printed from its page (the PDF too)
    page.get_by_role("button", name="Issue a certificate").click()
    expect(page.get_by_role("heading", name="The certificate is issued")).to_be_visible()
    code = page.url.rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code), page.url
    expect(page.locator("article.certificate")).to_contain_text("NOT ON THE DEFAULTER LIST")
    axe_check(page, "counter-certificate")
    shoot(page, "counter-certificate")
    reads_on_a_phone(page)
    assert_clean(page)
    qr = tmp_path / "qr.png"
    page.locator(".qr img").screenshot(path=str(qr))
    url = read_qr(qr)
    if url is not None:
        assert url == f"{portal.url}/verify/{code}"
    else:
        url = f"{portal.url}/verify/{code}"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    # ... and checked by the address its QR code holds, pasted (or typed by a scanner)
    page.goto("/counter")
    complete_with_keyboard(page, page.locator("form[action='/counter/verify']"), {"code": url})
    expect(page.get_by_role("heading", name="This certificate holds")).to_be_visible()
    expect(page.locator("main")).to_contain_text(code)
    axe_check(page, "counter-verify")
    shoot(page, "counter-verify")
    reads_on_a_phone(page)
    assert_clean(page)

    # the same pages speak Chinese
    page.goto("/counter/resident?lang=zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="分数的构成")).to_be_visible()
    axe_check(page, "counter-resident-zh")
    shoot(page, "counter-resident-zh")
    reads_on_a_phone(page)
    assert_clean(page)


def test_a_clerk_files_an_objection_for_a_resident_and_prints_a_sign_in_code(
    portal: Any,
    page: Any,
    tmp_path: Path,
    axe_check: Any,
    assert_clean: Any,
    shoot: Any,
) -> None:
    needs_playwright()
    record = tmp_path / "traffic-e2e-counter.csv"
    record.write_text(
        HEADER + f"E2E-COUNTER-0001,{VISITOR},traffic_offence,2026-06-05,running_red_light,200.00,false\n",
        encoding="utf-8",
    )
    cli(portal, "ingest", str(record), "--department", "TRAFFIC", "--json", today="2026-06-06")
    sign_in_with_key(page, portal.account("service_desk", "desk-journey-2"))
    page.get_by_label("Identity card number").fill(VISITOR)
    page.get_by_label("Purpose of this look-up").fill("the resident objects to a traffic record")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Resident {VISITOR}")).to_be_visible()

    page.get_by_role("link", name=re.compile(r"File an objection to this record.*E2E-COUNTER-0001")).click()
    expect(page.get_by_role("heading", name="Object to a record")).to_be_visible()
    axe_check(page, "counter-objection")
    shoot(page, "counter-objection")
    reads_on_a_phone(page)
    assert_clean(page)
    page.get_by_label("Why is this record wrong?").fill(
        "I sold the car on 1 June 2026; here is the contract."
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check the objection before sending it")).to_be_visible()
    axe_check(page, "counter-objection-check")
    shoot(page, "counter-objection-check")
    reads_on_a_phone(page)
    assert_clean(page)
    page.get_by_role("button", name="Send the objection").click()
    expect(page.get_by_role("heading", name="Objection sent")).to_be_visible()
    expect(page.locator("main")).to_contain_text("If there is no decision by 2026-07-30")
    axe_check(page, "counter-objection-sent")
    shoot(page, "counter-objection-sent")
    reads_on_a_phone(page)
    assert_clean(page)

    page.get_by_role("link", name="Back to the resident").click()
    page.get_by_role("button", name="Print a sign-in code").click()
    expect(page.get_by_role("heading", name="Sign-in code for the Guihua portal")).to_be_visible()
    expect(page.locator(".big-code")).to_have_text(re.compile(r"^\d{6}$"))
    axe_check(page, "counter-sign-in-code")
    shoot(page, "counter-sign-in-code")
    reads_on_a_phone(page)
    assert_clean(page)


# --------------------------------------------------------------------------- a department


def choose_file_and_send_with_keyboard(page: Any, form: Any, path: Path) -> None:
    """Tab to the file field, open the file chooser with Space, pick ``path``, Tab on to the send
    button and press Enter: the upload form used without a mouse."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    chosen = False
    for _ in range(100):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "(f) => ({inside: f.contains(document.activeElement), type: document.activeElement.type || '',"
            " tag: document.activeElement.tagName.toLowerCase()})",
            form.element_handle(),
        )
        if not here["inside"]:
            continue
        if here["type"] == "file" and not chosen:
            with page.expect_file_chooser() as chooser:
                page.keyboard.press("Space")
            chooser.value.set_files(str(path))
            chosen = True
        elif chosen and here["tag"] == "button":
            page.keyboard.press("Enter")
            return
    pytest.fail("the upload form could not be used with the keyboard alone")


def test_a_department_uploads_a_file_with_bad_rows_and_downloads_the_rejects(
    portal: Any,
    page: Any,
    tmp_path: Path,
    axe_check: Any,
    assert_clean: Any,
    shoot: Any,
) -> None:
    needs_playwright()
    sign_in_with_key(page, portal.account("department", "traffic-journey", department="TRAFFIC"))
    expect(page).to_have_url(re.compile(r"/department$"))
    expect(page.get_by_role("heading", name="Your data feed")).to_be_visible()
    axe_check(page, "department")
    shoot(page, "department")
    reads_on_a_phone(page)
    assert_clean(page)

    upload = tmp_path / "traffic-2026-06-e2e.csv"
    upload.write_text(
        HEADER
        + f"E2E-DEPT-0001,{UPLOADER},traffic_offence,2026-06-20,speeding_50pct,500.00,true\n"
        + "E2E-DEPT-0002,11010519411227518X,traffic_offence,2026-06-21,parking,50.00,true\n"
        + f"E2E-DEPT-0003,{UPLOADER},traffic_offence,2026-06-22,parking,fifty,true\n"
        + f"E2E-DEPT-0004,{UPLOADER},traffic_offence,2099-01-01,parking,50.00,true\n",
        encoding="utf-8",
    )
    form = page.locator("form[action='/department/upload']")
    choose_file_and_send_with_keyboard(page, form, upload)
    outcome = page.locator("#outcome")
    expect(outcome).to_contain_text("Received: submission", timeout=60_000)
    expect(outcome).to_contain_text("Refused3")  # the counts table: header cell then number
    expect(page.locator("[data-upload-status]")).to_have_text("Done.")
    axe_check(page, "department-outcome")
    shoot(page, "department-outcome")
    reads_on_a_phone(page)
    assert_clean(page)

    outcome.get_by_role("link", name="See this submission and its refused rows").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Submission \d+$"))).to_be_visible()
    table = page.locator("table.rejects")
    expect(table).to_contain_text("not a valid identity card number")
    expect(table).to_contain_text("a field has a value of the wrong kind")
    expect(table).to_contain_text("a date in the future")
    axe_check(page, "department-submission")
    shoot(page, "department-submission")
    reads_on_a_phone(page)
    assert_clean(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the refused rows (CSV)").click()
    saved = Path(download.value.path())
    rows = list(csv.DictReader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["source_id"], r["reason"]) for r in rows] == [
        ("E2E-DEPT-0002", "invalid_subject_id"),
        ("E2E-DEPT-0003", "invalid_field"),
        ("E2E-DEPT-0004", "future_date"),
    ]
    assert download.value.suggested_filename.startswith("rejects-TRAFFIC-")

    page.goto("/department/rejects?open=1")
    expect(page.locator("table.rejects")).to_contain_text("E2E-DEPT-0003")
    axe_check(page, "department-rejects")
    shoot(page, "department-rejects")
    reads_on_a_phone(page)
    assert_clean(page)


# --------------------------------------------------------------------------- a reviewer


def test_a_reviewer_decides_an_objection(
    portal: Any,
    page: Any,
    tmp_path: Path,
    complete_with_keyboard: Any,
    axe_check: Any,
    assert_clean: Any,
    shoot: Any,
) -> None:
    needs_playwright()
    record = tmp_path / "traffic-e2e-review.csv"
    record.write_text(
        HEADER + f"E2E-REVIEW-0001,{OBJECTOR},traffic_offence,2026-06-08,running_red_light,200.00,false\n",
        encoding="utf-8",
    )
    cli(portal, "ingest", str(record), "--department", "TRAFFIC", "--json", today="2026-06-10")
    filed = json.loads(
        cli(
            portal,
            "objections",
            "file",
            OBJECTOR,
            "-d",
            "TRAFFIC",
            "--record",
            "E2E-REVIEW-0001",
            "--reason",
            "The camera photo shows another car's plate.",
            "--as",
            "clerk-e2e",
            "--json",
        )
    )
    number = filed["id"]

    sign_in_with_key(page, portal.account("reviewer", "reviewer-journey"))
    expect(page).to_have_url(re.compile(r"/review$"))
    link = page.get_by_role("link", name=f"Objection {number}", exact=True)
    expect(link).to_be_visible()
    axe_check(page, "review")
    shoot(page, "review")
    reads_on_a_phone(page)
    assert_clean(page)

    link.click()
    expect(page.get_by_role("heading", name=re.compile(rf"^Objection {number}"), level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("The camera photo shows another car's plate.")
    axe_check(page, "review-objection")
    shoot(page, "review-objection")
    reads_on_a_phone(page)
    assert_clean(page)

    complete_with_keyboard(
        page,
        page.locator(f"form[action='/review/objections/{number}/decision']"),
        {"decision": "revoke", "reason": "The photo shows plate 苏E·12345, not the resident's car."},
    )
    expect(page.get_by_role("heading", name="Decision recorded")).to_be_visible()
    expect(page.locator("main")).to_contain_text("revoked (the record no longer counts)")
    axe_check(page, "review-decided")
    shoot(page, "review-decided")
    reads_on_a_phone(page)
    assert_clean(page)
    listed = json.loads(cli(portal, "objections", "list", "--json"))
    mine = next(o for o in listed["objections"] if o["id"] == number)
    assert (mine["state"], mine["decided_by"]) == ("revoked", "reviewer-journey")
