"""``/department``: a department's clerk sends a file, sees what became of it, fixes what was refused.

The department is always the signed-in account's (``policy.department_of``), as in the API: no
clerk sends or reads for another department. What each page calls:

- the upload: ``submissions.ingest_chunks`` on the file's chunks (``intake.readers.read_chunks``,
  CSV, JSON Lines or Parquet, UTF-8 or GB 18030), as ``POST /api/v1/records`` and
  ``guihua ingest`` do, with the API's limits: the service's body limit (16 MiB unless
  configured) and :data:`~guihua.http.department_routes.MAX_RECORDS` rows; a file over either is
  refused whole and nothing of it is kept. The submission records the file's name, SHA-256 and
  size. With htmx the form shows the upload's progress and answers with the outcome only;
  without a script it is an ordinary form post, answered with the submission's page;
- the outcome and the rejected rows: ``feeds.list_submissions`` and ``records.list_rejects``
  (``GET /api/v1/submissions``, ``GET /api/v1/rejects``); the download is ``records.write_rejects``
  (``guihua rejects --out``: the department's own columns plus line, reason and detail, audited);
- the feed and the agreement: ``feeds.feed_status`` and ``agreements.list_agreements`` (its own row);
- objections against its records: ``objections.list_objections`` with the department, audited as
  ``GET /api/v1/objections`` audits it.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from guihua.core import policy
from guihua.core.errors import GuihuaError, InvalidInput
from guihua.core.policy import Actor
from guihua.http.department_routes import MAX_RECORDS
from guihua.http.limits import DEFAULT_MAX_BODY, BodySizeLimit
from guihua.intake.chunks import RawChunk
from guihua.intake.readers import ENCODINGS, estimated_rows, read_chunks
from guihua.usecases import agreements, audit, feeds, objections, records, submissions
from guihua.web.actors import require_actor, store_of
from guihua.web.page_errors import PageError
from guihua.web.portal import portal_router
from guihua.web.rendering import is_htmx, render
from guihua.web.staff import enforce, problem_kind, words

router = portal_router()

RECENT = 10  # submissions on the overview
SHOWN_REJECTS = 500  # rows a page lists (the download has them all)
SHOWN_OBJECTIONS = 1000
MAX_FILE_NAME = 200
MAX_NAME_BYTES = 200  # a file system takes 255 bytes in a name
COPY_BLOCK = 1 << 20


class TooManyRows(InvalidInput):
    """A file with more rows than one upload takes (the API's ``MAX_RECORDS``)."""


def clerk(request: Request, action: str) -> tuple[Actor, str]:
    """The signed-in department account and its department (others: the audited 403)."""
    actor = require_actor(request)
    dept = policy.department_of(actor)
    enforce(request, actor, None if dept else "only a department account may do this", action)
    assert dept is not None
    return actor, dept


def body_limit(request: Request) -> int:
    """The service's limit on a request's body (what ``create_app`` gave :class:`BodySizeLimit`)."""
    for middleware in request.app.user_middleware:
        if middleware.cls is BodySizeLimit:
            value = middleware.kwargs.get("max_bytes")
            if isinstance(value, int):
                return value
    return DEFAULT_MAX_BODY


# --------------------------------------------------------------------------- the overview


def _feed(request: Request, actor: Actor, dept: str) -> dict[str, Any]:
    """The department's feed (``GET /api/v1/feeds``) and its agreement's terms."""
    enforce(request, actor, policy.read_feeds(actor, dept), "feeds.read")
    store = store_of(request)
    day, found = feeds.feed_status(store, None, dept)
    terms = next(
        (a for a in agreements.list_agreements(store, day)["agreements"] if a["department"] == dept), None
    )
    return {"feed": found[0].as_dict() if found else None, "agreement": terms}


def _objections(request: Request, actor: Actor, dept: str, open_only: bool) -> list[Any]:
    """Objections against the department's records, oldest first (audited as the API's list)."""
    enforce(request, actor, policy.list_objections(actor), "objections.list")
    store = store_of(request)
    rows = objections.list_objections(store, open_only, False, dept, limit=SHOWN_OBJECTIONS)
    audit.record(store, actor, "objections.list", detail=f"{len(rows)} objections")
    return rows


def _overview(request: Request, actor: Actor, dept: str, status: int = 200, **extra: Any) -> HTMLResponse:
    store = store_of(request)
    feed = _feed(request, actor, dept)
    context: dict[str, Any] = {
        "dept": dept,
        "w": words(request),
        "recent": feeds.list_submissions(store, dept, RECENT),
        "open_objections": _objections(request, actor, dept, True),
        "max_bytes": body_limit(request),
        "max_rows": MAX_RECORDS,
        "encodings": ["utf-8", "gb18030"],
        "errors": {},
        "problem": None,
        "outcome": None,
        "refreshed": None,
        **feed,
    }
    return render(request, "department.html", {**context, **extra}, status=status)


@router.get("/department")
def overview(request: Request) -> HTMLResponse:
    """The feed and agreement, the upload form, recent submissions, open objections."""
    actor, dept = clerk(request, "department.open")
    return _overview(request, actor, dept)


# --------------------------------------------------------------------------- the upload


def _file_name(upload: UploadFile) -> str:
    """The file's base name as the browser sent it (no folders, no control characters)."""
    name = re.split(r"[\\/]", upload.filename or "")[-1]
    return "".join(c for c in name if c.isprintable())[:MAX_FILE_NAME]


def _saved(upload: UploadFile, folder: Path, name: str) -> tuple[Path, submissions.Payload]:
    """The upload copied into ``folder`` under its own name (so the readers' messages name the
    clerk's file and its extension picks the reader), with its digest and size."""
    on_disk = name if name not in ("", ".", "..") and len(name.encode()) <= MAX_NAME_BYTES else ""
    path = folder / (on_disk or f"upload{Path(name).suffix[:20]}")
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        while block := upload.file.read(COPY_BLOCK):
            digest.update(block)
            size += len(block)
            out.write(block)
    return path, submissions.Payload(digest.hexdigest(), size, name or None)


def at_most(chunks: Iterable[RawChunk], limit: int) -> Iterator[RawChunk]:
    """The chunks, refusing the file (:class:`TooManyRows`) once it holds more than ``limit`` rows.

    Raised while the submission is being stored, so its transaction is rolled back: nothing of
    the file is kept, as for a request over the API's limit."""
    seen = 0
    for chunk in chunks:
        seen += chunk.table.num_rows + len(chunk.unreadable)
        if seen > limit:
            raise TooManyRows(
                f"the file has more than {limit:,} rows; send at most {limit:,} rows in one upload"
            )
        yield chunk


def _upload_problem(
    request: Request, actor: Actor, dept: str, kind: str, detail: str, status: int
) -> Response:
    if is_htmx(request):
        problem = {"kind": kind, "detail": detail}
        context = {"problem": problem, "outcome": None, "max_rows": MAX_RECORDS, "refreshed": None}
        return render(request, "_department_outcome.html", context, status=status)
    problem = {"kind": kind, "detail": detail}
    return _overview(request, actor, dept, status, problem=problem, errors={"file": kind})


@router.post("/department/upload")
def upload(request: Request, file: UploadFile | None = File(None), encoding: str = Form("utf-8")) -> Response:
    """Send a file: one submission, as ``guihua ingest`` and ``POST /api/v1/records`` make it."""
    actor, dept = clerk(request, "records.ingest")
    if file is None or not (file.filename or "").strip():
        return _upload_problem(request, actor, dept, "no_file", "", 400)
    name = _file_name(file)
    codec = encoding if encoding in ENCODINGS else "utf-8"
    with tempfile.TemporaryDirectory(prefix="guihua-upload-") as folder:
        path, payload = _saved(file, Path(folder), name)
        try:
            result = submissions.ingest_chunks(
                store_of(request),
                at_most(read_chunks(path, encoding=codec), MAX_RECORDS),
                dept,
                f"portal:{actor.account}",
                size_hint=estimated_rows(path),
                actor=actor,
                payload=payload,
            )
        except TooManyRows as exc:
            return _upload_problem(request, actor, dept, "too_many_rows", exc.message, 413)
        except GuihuaError as exc:
            return _upload_problem(request, actor, dept, problem_kind(exc), exc.message, exc.status)
    if is_htmx(request):
        outcome = {**result.as_dict(), "id": result.submission_id, "file_name": name}
        # the feed and the recent submissions on the page change too: swapped out of band
        refreshed = {
            **_feed(request, actor, dept),
            "dept": dept,
            "recent": feeds.list_submissions(store_of(request), dept, RECENT),
        }
        context = {"problem": None, "outcome": outcome, "max_rows": MAX_RECORDS, "refreshed": refreshed}
        return render(request, "_department_outcome.html", {**context, "w": words(request)})
    return RedirectResponse(f"/department/submissions/{result.submission_id}", status_code=303)


# --------------------------------------------------------------------------- a submission and its rejects


def _submission(request: Request, dept: str, submission_id: int) -> dict[str, Any]:
    """One of the department's submissions (``GET /api/v1/submissions``), or a 404 page."""
    found = next(
        (
            s
            for s in feeds.list_submissions(store_of(request), dept, feeds.MAX_LIMIT)
            if s["id"] == submission_id
        ),
        None,
    )
    if found is None:
        raise PageError(404, "not_found")
    return found


@router.get("/department/submissions/{submission_id}")
def submission_page(request: Request, submission_id: int) -> HTMLResponse:
    """What became of a file: counts by outcome, rejects by reason, and the rejected rows."""
    actor, dept = clerk(request, "submissions.list")
    enforce(request, actor, policy.read_feeds(actor, dept), "submissions.list")
    if not 1 <= submission_id <= records.MAX_ID:
        raise PageError(404, "not_found")
    sub = _submission(request, dept, submission_id)
    rows = records.list_rejects(store_of(request), dept, SHOWN_REJECTS, submission_id)
    return render(
        request,
        "department_submission.html",
        {"sub": sub, "rejects": rows, "shown": SHOWN_REJECTS, "w": words(request)},
    )


def _submission_filter(value: str) -> int | None:
    """``?submission=`` as a number (empty: all); anything else is refused in words by the page."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= records.MAX_ID:
        raise PageError(400, "invalid")
    return int(value)


@router.get("/department/rejects")
def rejects(request: Request, submission: str = "", open: str = "") -> HTMLResponse:
    """The quarantine: rows refused, newest submission first, with reason, line and the row itself."""
    _, dept = clerk(request, "rejects.read")
    chosen, open_only = _submission_filter(submission), open == "1"
    try:
        rows = records.list_rejects(store_of(request), dept, SHOWN_REJECTS, chosen, open_only)
    except GuihuaError as exc:
        raise PageError(exc.status, "not_found" if exc.status == 404 else "invalid") from None
    recent = feeds.list_submissions(store_of(request), dept, 100)
    return render(
        request,
        "department_rejects.html",
        {
            "rejects": rows,
            "shown": SHOWN_REJECTS,
            "submission": chosen,
            "open_only": open_only,
            "recent": recent,
            "w": words(request),
        },
    )


@router.get("/department/rejects.csv")
def rejects_csv(request: Request, submission: str = "", open: str = "") -> Response:
    """The rejected rows as a CSV in the department's own columns, to fix and send again."""
    actor, dept = clerk(request, "rejects.export")
    chosen, open_only = _submission_filter(submission), open == "1"
    folder = tempfile.mkdtemp(prefix="guihua-rejects-")
    name = f"rejects-{dept}" + (f"-{chosen}" if chosen else "") + ("-open" if open_only else "") + ".csv"
    out = Path(folder) / name
    try:
        records.write_rejects(store_of(request), out, dept, chosen, open_only, actor=actor)
    except GuihuaError as exc:
        _remove(folder)
        raise PageError(exc.status, "not_found" if exc.status == 404 else "invalid") from None
    return FileResponse(
        out,
        media_type="text/csv; charset=utf-8",
        filename=name,
        headers={"cache-control": "no-store"},
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- objections


@router.get("/department/objections")
def objection_list(request: Request) -> HTMLResponse:
    """Every objection against the department's records, oldest first, with its state."""
    actor, dept = clerk(request, "objections.list")
    rows = _objections(request, actor, dept, False)
    return render(
        request,
        "department_objections.html",
        {"objections": rows, "w": words(request), "mask": audit.mask},
    )
