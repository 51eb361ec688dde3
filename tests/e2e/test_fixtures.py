"""The browser-test helpers themselves: each must catch what it is for, on pages made to fail.

A small real HTTP server on 127.0.0.1 serves pages under a strict Content-Security-Policy like
the portal's; each helper is shown passing a good page and failing a bad one, so that a journey
that passes means something.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'"

FORM = """<form action="/good" method="get">
  <label for="q">Search</label> <input id="q" name="q" type="search">
  <label for="lang">Language</label>
  <select id="lang" name="lang"><option value="zh-CN">中文</option><option value="en">English</option></select>
  <fieldset><legend>Channel</legend>
    <input type="radio" id="c1" name="channel" value="email" checked><label for="c1">E-mail</label>
    <input type="radio" id="c2" name="channel" value="counter"><label for="c2">Counter</label>
  </fieldset>
  <input type="checkbox" id="agree" name="agree" value="yes"><label for="agree">I agree</label>
  <button type="submit">Send</button>
</form>"""

PAGES = {
    "/good": f"<h1>Good</h1><a href='/good'>home</a>{FORM}",
    "/bad-alt": "<h1>Bad</h1><img src='/pixel.png'>",
    "/inline-script": "<h1>Inline</h1><script>document.title = 'ran'</script>",
    "/external": "<h1>External</h1><img alt='x' src='http://127.0.0.2:9/x.png'>",
    "/missing-style": "<h1>Missing</h1><link rel='stylesheet' href='/nowhere.css'>",
    "/mouse-only": "<h1>Mouse</h1><form action='/good'><label for='q'>Search</label>"
    "<input id='q' name='q' tabindex='-1'><button>Send</button></form>",
    "/no-ring": "<h1>No ring</h1><link rel='stylesheet' href='/no-ring.css'>"
    "<form action='/good'><label for='q'>Search</label><input id='q' name='q'><button>Send</button></form>",
}
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a2b3e1c30000000049454e44ae426082"
)


class Site:
    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path in PAGES:
                    body = (
                        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
                        f"<title>{path}</title></head><body><main>{PAGES[path]}</main></body></html>"
                    ).encode()
                    self._send(200, "text/html; charset=utf-8", body)
                elif path == "/pixel.png":
                    self._send(200, "image/png", PIXEL)
                elif path == "/no-ring.css":
                    self._send(200, "text/css", b"*:focus, *:focus-visible { outline: none !important; }")
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    s = Site()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def page_on(new_page: Any, site: Site) -> Any:
    return new_page("desktop", base_url=site.url, locale="en-GB")


def test_a_clean_accessible_page_passes_every_check(page_on: Any, axe_check: Any, assert_clean: Any) -> None:
    page_on.goto("/good")
    assert axe_check(page_on) == []
    assert_clean(page_on)


def test_axe_fails_a_serious_violation_and_names_it(page_on: Any, axe_check: Any) -> None:
    page_on.goto("/bad-alt")
    with pytest.raises(AssertionError, match=r"\[critical\] image-alt") as failed:
        axe_check(page_on)
    assert "img" in str(failed.value)  # where: the element is shown


def test_axe_runs_under_the_pages_csp_and_leaves_it_in_force(
    page_on: Any, axe_check: Any, assert_clean: Any
) -> None:
    page_on.goto("/inline-script")
    axe_check(page_on)  # injected through DevTools: the CSP did not stop axe
    assert page_on.title() == "/inline-script"  # ...but it did stop the page's inline script
    with pytest.raises(AssertionError, match="Content Security Policy"):
        assert_clean(page_on)


def test_assert_clean_catches_a_request_that_leaves_the_service(page_on: Any, assert_clean: Any) -> None:
    page_on.goto("/external")
    with pytest.raises(AssertionError, match=r"request left the service: http://127\.0\.0\.2:9/x\.png"):
        assert_clean(page_on)


def test_assert_clean_catches_a_missing_sub_resource(page_on: Any, assert_clean: Any) -> None:
    page_on.goto("/missing-style")
    with pytest.raises(AssertionError, match=r"failed sub-resource: 404 stylesheet .*/nowhere\.css"):
        assert_clean(page_on)


def test_a_form_completed_with_the_keyboard_alone(page_on: Any, complete_with_keyboard: Any) -> None:
    page_on.goto("/good")
    form = page_on.locator("form")
    order = complete_with_keyboard(
        page_on, form, {"q": "blood donation", "lang": "English", "channel": "counter", "agree": True}
    )
    page_on.wait_for_url("**/good?*")
    query = urlsplit(page_on.url).query
    assert query == "q=blood+donation&lang=en&channel=counter&agree=yes", (query, order)
    assert order[0] == "a 'home'" and order[-1] == "button[submit] 'Send'"


def test_keyboard_check_fails_a_field_only_a_mouse_can_reach(
    page_on: Any, complete_with_keyboard: Any
) -> None:
    page_on.goto("/mouse-only")
    with pytest.raises(pytest.fail.Exception, match=r"fields \['q'\] .* could not be reached"):
        complete_with_keyboard(page_on, page_on.locator("form"), {"q": "x"}, max_tabs=10)


def test_keyboard_check_fails_a_focus_that_cannot_be_seen(page_on: Any, complete_with_keyboard: Any) -> None:
    page_on.goto("/no-ring")
    with pytest.raises(AssertionError, match="focus not visible"):
        complete_with_keyboard(page_on, page_on.locator("form"), {"q": "x"})


def _png_size(path: Any) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_shoot_keeps_a_screenshot_at_each_width(page_on: Any, shoot: Any) -> None:
    page_on.goto("/good")
    phone, desktop = shoot(page_on, "fixtures-good")
    assert phone.name == "fixtures-good-phone.png" and desktop.name == "fixtures-good-desktop.png"
    assert _png_size(phone)[0] == 390 and _png_size(desktop)[0] == 1280
    assert page_on.viewport_size == {"width": 1280, "height": 800}  # the page's own size is back
    with pytest.raises(AssertionError, match="used twice"):
        shoot(page_on, "fixtures-good")
