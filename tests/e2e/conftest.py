"""Browser tests: the real service on a demo store, driven by Debian's Chromium through Playwright.

Nothing here is a mock. A session builds a demo store with the real ``guihua demo``, starts
``guihua serve`` on it as a process on a free 127.0.0.1 port, with a real SMTP server (aiosmtpd)
catching what the service mails (sign-in codes, notices) and ``GUIHUA_PUBLIC_URL`` set to the
service's address, and launches one Chromium for the session; every test gets new browser
contexts (no cookie carries over from one test to the next).

What a test gets (tests/e2e/README.md shows a journey written with them):

- ``portal``: the running service (``url``, ``db``, ``examples``, ``mailbox``, ``guihua(...)`` to run
  the CLI on the same store, ``account(...)`` for staff accounts, ``set_contact(...)``).
- ``page`` (desktop, 1280x800), ``phone_page`` (390x844, mobile, touch), ``new_page(...)`` for more
  people in one test (a resident and a reviewer), each in its own context.
- ``shoot(page, name)``: full-page screenshots at both widths, kept under the artifacts folder.
- ``axe_check(page)``: axe-core in the page; fails on any serious or critical violation.
- ``complete_with_keyboard(page, form, values)``: fills and submits a form with Tab, typing,
  arrows, Space and Enter only.
- ``assert_clean(page)``: no console error, no uncaught exception, no CSP refusal, no request that
  left the service, no failed sub-resource.

Where the artifacts go: ``$GUIHUA_ARTIFACTS`` if set, else ``tests/e2e/artifacts/`` (git-ignored):
``screenshots/NAME-phone.png`` and ``NAME-desktop.png``, ``axe/NAME.json``, ``failures/`` (a
screenshot of every open page and a Playwright trace, for its trace viewer, of a test that
failed) and ``service.log`` (what the service printed).

The browser is ``/usr/bin/chromium`` (``make test`` installs Debian's package); Playwright never
downloads one. Without it, or without the ``playwright`` package, these tests skip with the
reason; under CI=true they fail instead.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TODAY

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = ROOT / ".venv" / "bin"
AXE_JS = HERE / "vendor" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("GUIHUA_ARTIFACTS") or HERE / "artifacts")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
DEMO_PEOPLE = 2000  # >= the city size that has a defaulter (synth.city.MIN_DEFAULTERS_CITY)
TIMEOUT_MS = 15_000  # two shared cores: generous, but a page that never comes still fails


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives the portal in Chromium (tests/e2e)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)  # so fixtures know at teardown that a test failed
    return report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:150]


# --------------------------------------------------------------------------- artifacts


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The artifacts folder, this session's own files of earlier runs removed (nothing else)."""
    for sub in ("screenshots", "axe", "failures"):
        shutil.rmtree(ARTIFACTS / sub, ignore_errors=True)
        (ARTIFACTS / sub).mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --------------------------------------------------------------------------- mail


class Mailbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) keeping every message the service sends."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        self._arrived = threading.Condition()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(msg)
            self._arrived.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self._arrived:
            return [m for m in self.messages if address.lower() in str(m.get("To", "")).lower()]

    def wait_for(self, address: str, *, after: int = 0, timeout: float = 20.0) -> email.message.EmailMessage:
        """The first message to ``address`` beyond the first ``after`` ones (``len(mailbox.to(a))``
        taken before the action that sends it); fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [m for m in self.messages if address.lower() in str(m.get("To", "")).lower()]
                if len(found) > after:
                    return found[after]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{m.get('To')}: {m.get('Subject')}" for m in self.messages[-10:]]
                    pytest.fail(f"no e-mail to {address} within {timeout:.0f} s; the last ones: {seen}")
                self._arrived.wait(left)

    @staticmethod
    def text(msg: email.message.EmailMessage) -> str:
        """The plain-text body (or the HTML one with tags dropped when there is no plain part)."""
        part = msg.get_body(preferencelist=("plain", "html"))
        content = part.get_content() if part is not None else ""
        return (
            re.sub(r"<[^>]+>", " ", content)
            if part is not None and part.get_content_subtype() == "html"
            else content
        )

    def code_in(self, msg: email.message.EmailMessage, pattern: str = r"\b(\d{6})\b") -> str:
        """The one-time code in a message: the first group of ``pattern`` in its text."""
        text = self.text(msg)
        found = re.search(pattern, text)
        assert found, f"no code matching {pattern!r} in the e-mail {msg.get('Subject')!r}:\n{text}"
        return found.group(1)


# --------------------------------------------------------------------------- the service


@dataclass
class Portal:
    """``guihua serve`` on a demo store of its own, as a process, with the mailbox as its SMTP relay."""

    folder: Path
    mailbox: Mailbox
    log_path: Path
    people: int = DEMO_PEOPLE
    port: int = field(default_factory=free_port)
    examples: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> Path:
        return self.folder / "demo" / "guihua-demo.db"

    @property
    def key_dir(self) -> Path:
        return self.folder / "keys"

    @property
    def env(self) -> dict[str, str]:
        """What the service and every command run here see: the same store, day, keys and relays."""
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "GUIHUA_DB": str(self.db),
            "GUIHUA_TODAY": TODAY,
            "GUIHUA_KEY_DIR": str(self.key_dir),
            "GUIHUA_PUBLIC_URL": self.url,
            "GUIHUA_SMTP": self.mailbox.address,
            "GUIHUA_SMTP_FROM": "guihua@guihua.local",
        }
        env.pop("GUIHUA_WEBHOOK_URL", None)
        return env

    def guihua(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run the real ``guihua`` command on this portal's store (as an operator at the console)."""
        done = subprocess.run(
            [str(BIN / "guihua"), *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            pytest.fail(f"guihua {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def account(self, role: str, name: str, **bindings: str) -> str:
        """Create a staff account (``department=``, ``provider=``, ``subject=``); its bearer token."""
        extra = [a for k, v in bindings.items() for a in (f"--{k}", v)]
        done = self.guihua("accounts", "create", "--role", role, "--name", name, *extra, "--json")
        return str(json.loads(done.stdout)["token"])

    def set_contact(self, subject_id: str, address: str) -> None:
        """Give a resident a contact address (as the counter does), so that mail can reach them."""
        self.guihua("contacts", "set", subject_id, "--email", address, "--as", "e2e-setup")

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        built = self.guihua("demo", "--people", str(self.people), "--db", str(self.db), "--json", timeout=600)
        self.examples = {e["label"]: e["subject_id"] for e in json.loads(built.stdout)["examples"]}
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                str(BIN / "guihua"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
            ],
            cwd=self.folder,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"guihua serve exited {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"guihua serve did not answer on {self.url} within 60 s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture(scope="session")
def make_portal(
    tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox, artifacts: Path
) -> Iterator[Callable[..., Portal]]:
    """A factory of portals, each on a demo store of its own (for a test that must not share one)."""
    started: list[Portal] = []

    def make(people: int = DEMO_PEOPLE) -> Portal:
        n = len(started)
        portal = Portal(
            tmp_path_factory.mktemp(f"portal{n}"), mailbox, artifacts / f"service{n or ''}.log", people
        )
        started.append(portal)
        portal.start()
        return portal

    yield make
    for portal in started:
        portal.stop()


@pytest.fixture(scope="session")
def portal(make_portal: Callable[..., Portal]) -> Portal:
    """The session's portal: shared by every test, so a journey that changes state uses residents
    of its own (``portal.examples`` are the demo's; tests that change them must not assume others
    did not)."""
    return make_portal()


@pytest.fixture(scope="session")
def notice_worker(portal: Portal) -> Iterator[subprocess.Popen[bytes]]:
    """``guihua notices deliver --loop`` on the portal's store (notices e-mailed to the mailbox).

    Only for journeys that wait for a notice: the service itself sends what it sends at once."""
    log = (portal.log_path.parent / "notices.log").open("wb")
    worker = subprocess.Popen(
        [str(BIN / "guihua"), "notices", "deliver", "--loop", "--interval", "1"],
        cwd=portal.folder,
        env=portal.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    yield worker
    worker.terminate()
    try:
        worker.wait(10)
    except subprocess.TimeoutExpired:
        worker.kill()


# --------------------------------------------------------------------------- the browser


@dataclass
class Watch:
    """What went wrong in a page while it was open, for ``assert_clean``."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("request", self._request)
        page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "") if isinstance(msg.location, dict) else ""
            if urlsplit(where).path == "/favicon.ico":  # the browser's own guess, not the page's asset
                return
            self.console_errors.append(f"{msg.text} [{where}]" if where else msg.text)

    def _request(self, request: Any) -> None:
        url = request.url
        if not (
            url.startswith(self.origin + "/")
            or url == self.origin
            or url.startswith(("data:", "blob:", "about:"))
        ):
            self.external.append(url)

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed.append(f"{response.status} {response.request.resource_type} {response.url}")

    def clear(self) -> None:
        for found in (self.console_errors, self.page_errors, self.external, self.failed):
            found.clear()


WATCHES: dict[int, Watch] = {}


@pytest.fixture
def new_page(browser: Any, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``new_page(width="desktop"|"phone", **context_options)``: a page in a context of its own.

    Relative URLs go to the session's portal (``base_url=`` for another origin, which is then the
    one ``assert_clean`` allows). Chinese is the browser's language (``locale="zh-CN"``, so
    ``Accept-Language: zh-CN``) unless ``locale=`` says otherwise. Contexts are closed after the
    test; a failed test leaves a screenshot of each of its pages and a Playwright trace in the
    artifacts' ``failures/``. The page's Content-Security-Policy is always in force."""
    contexts: list[Any] = []

    def make(width: str = "desktop", **options: Any) -> Any:
        sized: dict[str, Any] = {"viewport": WIDTHS[width]}
        if width == "phone":
            sized.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        base_url = options.pop("base_url", None) or request.getfixturevalue("portal").url
        context = browser.new_context(
            base_url=base_url, locale=options.pop("locale", "zh-CN"), **sized, **options
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.tracing.start(screenshots=True, snapshots=True)
        contexts.append(context)
        page = context.new_page()
        watch = Watch(base_url.rstrip("/"))
        watch.attach(page)
        WATCHES[id(page)] = watch
        return page

    yield make
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for i, context in enumerate(contexts):
        stem = artifacts / "failures" / f"{_slug(request.node.nodeid)}-{i}"
        if failed:
            for j, page in enumerate(context.pages):
                try:
                    page.screenshot(path=f"{stem}-page{j}.png", full_page=True)
                except Exception as exc:  # a page that crashed still lets the others be saved
                    print(f"could not screenshot {page.url}: {exc}")
            context.tracing.stop(path=f"{stem}-trace.zip")
        else:
            context.tracing.stop()
        for page in context.pages:
            WATCHES.pop(id(page), None)
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """A desktop page (1280x800)."""
    return new_page("desktop")


@pytest.fixture
def desktop_page(page: Any) -> Any:
    return page


@pytest.fixture
def phone_page(new_page: Callable[..., Any]) -> Any:
    """A phone page (390x844, mobile viewport rules, touch)."""
    return new_page("phone")


# --------------------------------------------------------------------------- helpers


def _assert_clean(page: Any) -> None:
    """Nothing went wrong in ``page`` since it opened (or since the last ``assert_clean``): no
    console error (CSP refusals are console errors), no uncaught exception, no request to
    anything but the service, no sub-resource answered 4xx/5xx."""
    watch = WATCHES[id(page)]
    problems = [
        *(f"console error: {e}" for e in watch.console_errors),
        *(f"uncaught exception: {e}" for e in watch.page_errors),
        *(f"request left the service: {u}" for u in watch.external),
        *(f"failed sub-resource: {f}" for f in watch.failed),
    ]
    watch.clear()
    assert not problems, f"{page.url}:\n  " + "\n  ".join(problems)


SHOT_NAMES: set[str] = set()


@pytest.fixture(scope="session")
def shoot(artifacts: Path) -> Callable[[Any, str], list[Path]]:
    """``shoot(page, name)``: full-page screenshots of ``page`` as it is now, at the phone width and
    at the desktop width (``screenshots/NAME-phone.png``, ``NAME-desktop.png``); the page's own size
    is put back after. A name is used once per session (so no screenshot overwrites another)."""

    def shoot(page: Any, name: str) -> list[Path]:
        name = _slug(name)
        assert name not in SHOT_NAMES, f"screenshot name {name!r} used twice in this session"
        SHOT_NAMES.add(name)
        own = page.viewport_size
        paths = []
        try:
            for label, size in WIDTHS.items():
                page.set_viewport_size(size)
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                path = artifacts / "screenshots" / f"{name}-{label}.png"
                page.screenshot(path=str(path), full_page=True, animations="disabled")
                paths.append(path)
        finally:
            if own:
                page.set_viewport_size(own)
        return paths

    return shoot


BLOCKING = ("serious", "critical")


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:10]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}: {summary[:300]}")
            lines.append(f"       {' '.join(node.get('html', '').split())[:200]}")
        if len(v.get("nodes", [])) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_check(artifacts: Path) -> Callable[..., list[dict[str, Any]]]:
    """``axe_check(page, name=None, *, exclude=(), disable=())``: run axe-core in the page as it is now.

    axe is put into the page through the DevTools protocol (``page.evaluate`` of the vendored
    file), which the page's Content-Security-Policy does not govern, so the CSP stays in force for
    everything else; a ``<script>`` tag would be refused by it. Fails listing every violation of
    impact serious or critical; moderate and minor ones are printed (``-rP``, or shown on failure)
    and, with ``name``, all results are kept in ``axe/NAME.json``. ``exclude`` takes CSS selectors
    to leave out, ``disable`` rule ids: each use must say why in the test."""
    source = AXE_JS.read_text(encoding="utf-8")

    def check(
        page: Any, name: str | None = None, *, exclude: tuple[str, ...] = (), disable: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(source)
        results = page.evaluate(
            """([exclude, disable]) => axe.run(
                   exclude.length ? {include: [document], exclude: exclude.map(s => [s])} : document,
                   {rules: Object.fromEntries(disable.map(r => [r, {enabled: false}])),
                    resultTypes: ['violations']})""",
            [list(exclude), list(disable)],
        )
        violations: list[dict[str, Any]] = results["violations"]
        if name:
            (artifacts / "axe" / f"{_slug(name)}.json").write_text(
                json.dumps({"url": page.url, "violations": violations}, ensure_ascii=False, indent=1)
            )
        minor = [v for v in violations if v.get("impact") not in BLOCKING]
        if minor:
            print(f"axe on {page.url}: {len(minor)} moderate or minor:\n{_describe(minor)}")
        blocking = [v for v in violations if v.get("impact") in BLOCKING]
        assert not blocking, (
            f"axe-core on {page.url}: {len(blocking)} serious or critical:\n{_describe(blocking)}"
        )
        return violations

    return check


_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const label = (e.labels && e.labels.length ? e.labels[0].innerText : '') || e.getAttribute('aria-label') || '';
  const s = getComputedStyle(e);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  return {tag: e.tagName.toLowerCase(), type: (e.getAttribute('type') || '').toLowerCase(),
          name: e.getAttribute('name') || '', id: e.id, label: label.trim().slice(0, 80),
          text: (e.innerText || e.value || '').trim().slice(0, 80), ring,
          value: e.value === undefined ? null : String(e.value), checked: !!e.checked,
          options: e.tagName === 'SELECT' ? Array.from(e.options).map(o => [o.value, o.text.trim()]) : null};
}"""


def _complete_with_keyboard(
    page: Any,
    form: Any,
    values: dict[str, str | bool],
    *,
    submit: bool = True,
    max_tabs: int = 150,
    focus_ring: bool = True,
) -> list[str]:
    """Fill ``form`` (a locator) and submit it with the keyboard alone, as a person without a mouse.

    From the top of the page, Tab moves through the page; each field of ``form`` whose ``name`` is
    a key of ``values`` is filled when focus reaches it: text fields by typing (what was there is
    selected and replaced), a ``<select>`` with the arrow keys until the option whose value or text
    is wanted, a radio group with the arrow keys, a checkbox with Space (``True``/``False``). Then
    Tab goes on to the form's submit button and Enter presses it (``submit=False`` stops before).
    Fails, with the order in which focus went, when a field or the button cannot be reached, or
    (``focus_ring``) when a focused control shows no focus indicator (outline or box-shadow).
    Returns that focus order. The caller asserts what the submission led to."""
    assert form.count() == 1, f"complete_with_keyboard: the form locator matches {form.count()} elements"
    handle = form.element_handle()
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    left = dict(values)
    order: list[str] = []
    no_ring: list[str] = []
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        now = page.evaluate(_FOCUSED)
        if now is None:
            order.append("(page)")
            continue
        described = f"{now['tag']}{'[' + now['type'] + ']' if now['type'] else ''}" + (
            f" name={now['name']}" if now["name"] else f" '{now['label'] or now['text']}'"
        )
        order.append(described)
        inside = page.evaluate("(f) => f.contains(document.activeElement)", handle)
        if not inside:
            continue
        if focus_ring and not now["ring"]:
            no_ring.append(described)
        name = now["name"]
        if name in left:
            _enter(page, now, left.pop(name))
            continue
        is_submit = (now["tag"] == "button" and now["type"] in ("", "submit")) or (
            now["tag"] == "input" and now["type"] == "submit"
        )
        if is_submit and not left:
            assert not no_ring, f"focus not visible on: {no_ring}"
            if submit:
                page.keyboard.press("Enter")
            return order
    pytest.fail(
        f"with the keyboard alone, {('fields ' + str(sorted(left))) if left else 'the submit button'} of the "
        f"form on {page.url} could not be reached in {max_tabs} Tabs; focus went: {' > '.join(order)}"
    )


def _enter(page: Any, now: dict[str, Any], value: str | bool) -> None:
    kind = now["type"]
    if now["tag"] == "select":
        wanted = str(value)
        targets = [v for v, text in now["options"] if wanted in (v, text)]
        assert targets, f"select {now['name']} has no option {wanted!r}: {now['options']}"
        for _ in range(len(now["options"]) * 2):
            if page.evaluate("() => document.activeElement.value") == targets[0]:
                return
            values = [v for v, _ in now["options"]]
            here = values.index(page.evaluate("() => document.activeElement.value"))
            page.keyboard.press("ArrowDown" if values.index(targets[0]) > here else "ArrowUp")
        pytest.fail(f"select {now['name']}: the arrow keys did not reach {wanted!r}")
    elif kind == "checkbox":
        if bool(value) != now["checked"]:
            page.keyboard.press("Space")
    elif kind == "radio":
        for _ in range(20):
            if page.evaluate("() => document.activeElement.value") == str(value):
                if not page.evaluate("() => document.activeElement.checked"):
                    page.keyboard.press("Space")
                return
            page.keyboard.press("ArrowDown")
        pytest.fail(f"radio group {now['name']}: the arrow keys did not reach {value!r}")
    else:
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type(str(value))


@pytest.fixture(scope="session")
def assert_clean() -> Callable[[Any], None]:
    """``assert_clean(page)``: see ``_assert_clean``."""
    return _assert_clean


@pytest.fixture(scope="session")
def complete_with_keyboard() -> Callable[..., list[str]]:
    """``complete_with_keyboard(page, form, values, submit=True)``: see ``_complete_with_keyboard``."""
    return _complete_with_keyboard
