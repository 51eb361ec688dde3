"""/department: a clerk sends a file, sees the outcome, browses and downloads what was refused,
and sees the objections against the department's records: the API's use cases and limits.

The department is the account's (TRAFFIC in the portal fixture); files are CSV, JSON Lines or
Parquet; a file over the service's body limit or over the API's row limit is refused whole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from guihua.http.guards import RateLimit
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import audit, catalogs, feeds, objections, records
from guihua.web import department_pages
from tests.web.conftest import A, L, N, Portal, csrf_of
from tests.web.staff_helpers import html_lang, sign_in_resident, visible

HEADER = "source_id,subject_id,metric,occurred_at,offence,fine,paid,when_paid\n"
GOOD = f"t1,{A},traffic_offence,2026-06-01,fail_to_yield,200,true,2026-06-02\n"
BAD_ID = "t2,12345,traffic_offence,2026-06-01,fail_to_yield,200,true,2026-06-02\n"
BAD_FINE = f"t3,{N},traffic_offence,2026-06-01,fail_to_yield,lots,true,2026-06-02\n"
FILE = (HEADER + GOOD + BAD_ID + BAD_FINE).encode()


def department(portal: Portal, lang: str = "en") -> str:
    portal.sign_in_with_token("traffic")
    page = portal.client.get(f"/department?lang={lang}")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def send(portal: Portal, token: str, name: str, content: bytes, htmx: bool = False, **form: str) -> object:
    headers = {"HX-Request": "true", "X-CSRF-Token": token} if htmx else {"accept": "text/html"}
    return portal.client.post(
        "/department/upload",
        data={"csrf_token": token, **form},
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


def submission_count(store: Store) -> int:
    return len(feeds.list_submissions(store, "TRAFFIC", 1000))


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("who", ["desk", "reviewer", "resident"])
def test_only_a_department_account_and_the_refusal_is_audited(portal: Portal, who: str) -> None:
    if who == "resident":
        sign_in_resident(portal, A)
    else:
        portal.sign_in_with_token(who)
    page = portal.client.get("/department?lang=en", headers={"accept": "text/html"})
    assert page.status_code == 403
    assert audit.entries(portal.store, limit=1)[0]["action"] == "department.open"
    answer = portal.client.post(
        "/department/upload",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("a.csv", FILE, "text/csv")},
    )
    assert answer.status_code == 403 and submission_count(portal.store) == 0


def test_signed_out_and_csrf(portal: Portal) -> None:
    assert (
        portal.client.get("/department/rejects").headers["location"] == "/login?next=%2Fdepartment%2Frejects"
    )
    department(portal)
    refused = portal.client.post(
        "/department/upload", files={"file": ("a.csv", FILE, "text/csv")}, headers={"accept": "text/html"}
    )
    assert refused.status_code == 403 and "This form could not be accepted" in refused.text
    assert submission_count(portal.store) == 0


# --------------------------------------------------------------------------- the overview


def test_the_feed_and_agreement_in_both_languages(portal: Portal) -> None:
    department(portal)
    text = visible(portal.client.get("/department?lang=en").text)
    assert "Traffic police" in text and "Your data feed" in text and "Agreement in force" in text
    assert "Road Traffic Safety Law, Art. 2" in text and "has never sent data" in text
    assert "at most 10000 rows and 16 MiB" in text
    zh = portal.client.get("/department?lang=zh-CN")
    assert html_lang(zh.text) == "zh-CN"
    assert "本部门的数据报送" in zh.text and "报送文件" in zh.text and "对本部门记录的异议" in zh.text


def test_the_upload_form_is_a_plain_multipart_form_that_htmx_enhances(portal: Portal) -> None:
    department(portal)
    page = portal.client.get("/department?lang=en").text
    form = page[page.index('action="/department/upload"') - 200 : page.index("Send the file</button>")]
    assert 'method="post"' in form and 'enctype="multipart/form-data"' in form
    assert 'hx-post="/department/upload"' in form and 'hx-encoding="multipart/form-data"' in form
    assert "data-upload" in form and 'data-max-bytes="16777216"' in form and "<progress" in form
    assert 'name="csrf_token"' in form and 'type="file"' in form
    assert 'src="/static/staff.js"' in page
    script = portal.client.get("/static/staff.js")
    assert script.status_code == 200 and "htmx:xhr:progress" in script.text


# --------------------------------------------------------------------------- upload and outcome


def test_a_file_with_bad_rows_its_outcome_and_its_refused_rows(portal: Portal) -> None:
    token = department(portal)
    answer = send(portal, token, "june.csv", FILE)
    assert answer.status_code == 303
    sub = feeds.list_submissions(portal.store, "TRAFFIC", 1)[0]
    assert answer.headers["location"] == f"/department/submissions/{sub['id']}"
    assert (sub["accepted"], sub["rejected"], sub["file_name"]) == (1, 2, "june.csv")
    assert sub["sha256"] == hashlib.sha256(FILE).hexdigest() and sub["size_bytes"] == len(FILE)
    assert sub["sent_by"] == "traffic-feed"
    ingested = [e for e in audit.entries(portal.store, limit=20) if e["action"] == "records.ingest"]
    assert ingested and ingested[0]["account"] == "traffic-feed"

    text = visible(portal.client.get(answer.headers["location"]).text)
    assert f"Submission {sub['id']}" in text and "File june.csv" in text
    assert "Accepted (new records) 1" in text and "Refused 2" in text
    assert (
        "not a valid identity card number: 1" in text and "a field has a value of the wrong kind: 1" in text
    )
    assert "subject_id 12345 is not a valid 18-character resident identity number" in text  # the detail
    assert '"fine":"lots"' in text  # the row as sent
    zh = portal.client.get(answer.headers["location"] + "?lang=zh-CN").text
    assert "不是有效的身份证号码" in zh and "被拒行" in zh


def test_with_htmx_the_answer_is_the_outcome_only(portal: Portal) -> None:
    token = department(portal)
    part = send(portal, token, "june.csv", FILE, htmx=True)
    assert part.status_code == 200
    assert "<html" not in part.text and "Received: submission" in visible(part.text)
    assert "Refused 2" in visible(part.text) and "/department/rejects.csv?submission=" in part.text
    # the feed and the recent submissions are swapped out of band, now with this file in them
    recent = part.text[part.text.index('<section id="recent"') :]
    assert recent.startswith('<section id="recent" aria-labelledby="recent-h" hx-swap-oob="true">')
    assert (
        "june.csv" in recent
        and '<section id="feed" aria-labelledby="feed-h" hx-swap-oob="true">' in part.text
    )
    again = send(
        portal, token, "june.csv", FILE, htmx=True
    )  # the same file: duplicates, the rows refused again
    assert "Already stored (duplicates) 1" in visible(again.text)
    assert (
        len(records.list_rejects(portal.store, "TRAFFIC")) == 2
    )  # each refused row once, however often sent


def test_the_refused_rows_download_to_fix_and_send_again(portal: Portal) -> None:
    token = department(portal)
    send(portal, token, "june.csv", FILE)
    sub = feeds.list_submissions(portal.store, "TRAFFIC", 1)[0]["id"]
    download = portal.client.get(f"/department/rejects.csv?submission={sub}")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert f'filename="rejects-TRAFFIC-{sub}.csv"' in download.headers["content-disposition"]
    assert download.content.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [(r["source_id"], r["reason"], r["line"]) for r in rows] == [
        ("t2", "invalid_subject_id", "3"),
        ("t3", "invalid_field", "4"),
    ]
    assert audit.entries(portal.store, limit=1)[0]["action"] == "rejects.export"

    # fixed: the notes deleted, the values corrected, sent again
    fixed = io.StringIO()
    writer = csv.DictWriter(fixed, fieldnames=[c for c in rows[0] if c not in ("line", "reason", "detail")])
    writer.writeheader()
    for r in rows:
        r = {k: v for k, v in r.items() if k in writer.fieldnames}
        writer.writerow({**r, "subject_id": L if r["source_id"] == "t2" else r["subject_id"], "fine": "200"})
    assert send(portal, token, "june-fixed.csv", fixed.getvalue().encode()).status_code == 303
    open_page = visible(portal.client.get("/department/rejects?open=1&lang=en").text)
    assert "No refused rows." in open_page
    everything = visible(portal.client.get("/department/rejects?lang=en").text)
    assert "yes: accepted since" in everything


def test_json_lines_parquet_and_gb18030(portal: Portal, tmp_path: Path) -> None:
    token = department(portal)
    line = {
        "source_id": "j1",
        "subject_id": A,
        "metric": "traffic_offence",
        "occurred_at": "2026-06-02",
        "fields": {"offence": "speeding", "fine": 100, "paid": False, "when_paid": "2026-06-03"},
    }
    assert send(portal, token, "june.jsonl", (json.dumps(line) + "\n").encode()).status_code == 303
    table = pa.table(
        {
            "source_id": ["p1"],
            "subject_id": [N],
            "metric": ["traffic_offence"],
            "occurred_at": ["2026-06-03"],
            "offence": ["red_light"],
            "fine": ["50"],
            "paid": ["true"],
            "when_paid": ["2026-06-04"],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    assert send(portal, token, "june.parquet", buffer.getvalue()).status_code == 303
    chinese = (HEADER + f"g1,{A},traffic_offence,2026-06-04,闯红灯,200,true,2026-06-05\n").encode("gb18030")
    assert send(portal, token, "gbk.csv", chinese, encoding="gb18030").status_code == 303
    subs = feeds.list_submissions(portal.store, "TRAFFIC", 3)
    assert [(s["file_name"], s["accepted"], s["rejected"]) for s in subs] == [
        ("gbk.csv", 1, 0),
        ("june.parquet", 1, 0),
        ("june.jsonl", 1, 0),
    ]


# --------------------------------------------------------------------------- refused whole


def test_files_that_cannot_be_taken_are_refused_whole_in_words(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = department(portal)
    unknown = send(portal, token, "june.txt", b"hello")
    assert unknown.status_code == 422
    assert "The file could not be read" in unknown.text and "june.txt" in unknown.text
    nothing = portal.client.post(
        "/department/upload", data={"csrf_token": token}, headers={"accept": "text/html"}
    )
    assert nothing.status_code == 400 and "Choose a file to send." in nothing.text
    no_header = send(portal, token, "june.csv", b"a,b\n1,2\n", htmx=True)
    assert no_header.status_code == 422 and "The file was not taken in" in no_header.text

    monkeypatch.setattr(department_pages, "MAX_RECORDS", 2)
    too_many = send(portal, token, "june.csv", FILE)
    assert too_many.status_code == 413 and "at most 2 rows" in visible(too_many.text)
    assert submission_count(portal.store) == 0 and records.list_rejects(portal.store, "TRAFFIC") == []


def test_a_file_over_the_services_body_limit_is_refused_unread(portal_store: Store, tmp_path: Path) -> None:
    from guihua.usecases import accounts
    from tests.web.conftest import ADMIN

    token = accounts.create(portal_store, ADMIN, "department", "traffic-small", department="TRAFFIC")
    app = create_app(
        portal_store, max_body_bytes=4096, key_dir=tmp_path / "k", rate_limit=RateLimit(1000, 1000)
    )
    app.state.sign_in_limit = RateLimit(1000, 1000)
    with TestClient(app, follow_redirects=False) as c:
        c.post("/login/token", data={"token": token, "csrf_token": csrf_of(c.get("/login").text)})
        page = c.get("/department?lang=en")
        assert 'data-max-bytes="4096"' in page.text
        big = HEADER.encode() + GOOD.encode() * 200
        answer = c.post(
            "/department/upload",
            data={"csrf_token": csrf_of(page.text)},
            files={"file": ("big.csv", big, "text/csv")},
        )
        assert answer.status_code == 413
    assert feeds.list_submissions(portal_store, "TRAFFIC", 10) == []


def test_outside_the_agreement_nothing_is_kept(portal: Portal, mini_catalog_text: str) -> None:
    line = "    metrics: [traffic_offence]\n"
    catalogs.load_catalog(
        portal.store, mini_catalog_text.replace(line, f"{line}    agreement: {{status: suspended}}\n")
    )
    token = department(portal)
    answer = send(portal, token, "june.csv", FILE)
    assert answer.status_code == 403
    assert "data-sharing agreement is not in force today" in visible(answer.text)
    assert submission_count(portal.store) == 0
    portal.client.get("/department?lang=zh-CN")  # the language remembered: the answer speaks it
    zh = send(portal, token, "june.csv", FILE, htmx=True)
    assert zh.status_code == 403 and "本部门的数据共享协议今天不在有效期内" in zh.text
    assert submission_count(portal.store) == 0


# --------------------------------------------------------------------------- submissions of others, objections


def test_another_departments_submission_is_not_found(portal: Portal) -> None:
    department(portal)
    civil = feeds.list_submissions(portal.store, "CIVIL", 1)[0]["id"]
    page = portal.client.get(f"/department/submissions/{civil}", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert (
        portal.client.get(
            f"/department/rejects?submission={civil}", headers={"accept": "text/html"}
        ).status_code
        == 404
    )
    assert portal.client.get(f"/department/rejects.csv?submission={civil}").status_code == 404
    assert (
        portal.client.get("/department/rejects?submission=abc", headers={"accept": "text/html"}).status_code
        == 400
    )


def test_the_objections_against_the_departments_own_records(portal: Portal) -> None:
    token = department(portal)
    send(portal, token, "june.csv", FILE)
    mine = objections.file(portal.store, A, "TRAFFIC", "t1", "I was not driving")
    objections.file(portal.store, A, "CIVIL", "v1", "not me")  # another department's: never shown here
    overview = visible(portal.client.get("/department?lang=en").text)
    assert (
        f"Objection {mine.id} to record t1, filed on 2026-06-30" in overview
        and "I was not driving" in overview
    )
    assert "not me" not in overview and "Decision due by 2026-07-30" in overview
    listed = portal.client.get("/department/objections?lang=en")
    text = visible(listed.text)
    assert "I was not driving" in text and "not me" not in text
    assert A not in text and audit.mask(A) in text  # the resident's id masked
    assert audit.entries(portal.store, limit=1)[0]["action"] == "objections.list"
