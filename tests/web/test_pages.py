"""The public pages in both languages: <html lang>, the language switch and its cookie, search
with htmx, statistics with small cells withheld, offline /docs, our own assets, the CSP."""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files

import pytest

from tests.web.conftest import Portal

PAGES = ["/", "/stats", "/verify", "/verify/ZZZZ-ZZZZ-ZZZZ", "/login", "/login/code"]


def html_lang(text: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', text)
    assert found, text[:200]
    return found.group(1)


@pytest.mark.parametrize("path", PAGES)
def test_pages_speak_chinese_by_default_and_english_on_request(portal: Portal, path: str) -> None:
    zh = portal.client.get(path)
    assert zh.headers["content-type"].startswith("text/html")
    assert html_lang(zh.text) == "zh-CN"
    assert "登录" in zh.text  # the header's sign-in link, in Chinese
    en = portal.client.get(path, params={"lang": "en"})
    assert html_lang(en.text) == "en"
    assert "Sign in" in en.text and "登录" not in en.text
    portal.client.cookies.clear()


def test_language_is_remembered_and_accept_language_is_the_first_guess(portal: Portal) -> None:
    c = portal.client
    assert html_lang(c.get("/", headers={"accept-language": "en-GB,en;q=0.9,zh;q=0.5"}).text) == "en"
    assert html_lang(c.get("/", headers={"accept-language": "fr, zh-TW;q=0.8, en;q=0.7"}).text) == "zh-CN"
    assert html_lang(c.get("/", headers={"accept-language": "de"}).text) == "zh-CN"  # none spoken: zh-CN

    answer = c.get("/stats?lang=en")
    cookie = answer.headers["set-cookie"]
    assert (
        "guihua_lang=en" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    )
    # remembered: every page after speaks English, whatever the browser says
    assert html_lang(c.get("/verify", headers={"accept-language": "zh-CN"}).text) == "en"
    assert html_lang(c.get("/?lang=zh-CN").text) == "zh-CN"
    assert html_lang(c.get("/login").text) == "zh-CN"
    assert html_lang(c.get("/?lang=klingon").text) == "zh-CN"  # not a language spoken: ignored


def test_the_switch_keeps_the_page_and_its_query(portal: Portal) -> None:
    page = portal.client.get("/?q=volunteer").text
    assert 'href="/?q=volunteer&amp;lang=en"' in page
    assert 'href="/?q=volunteer&amp;lang=zh-CN"' in page


def test_home_shows_rules_with_legal_basis_perks_and_due_process(portal: Portal) -> None:
    page = portal.client.get("/?lang=en").text
    assert "Mini scheme" in page
    for legal_basis in (
        "Volunteer regulation Art. 5",
        "Road Traffic Safety Law Art. 47",
        "Credit reporting regulation Art. 9",
    ):
        assert legal_basis in page
    assert "Extended library loan" in page and "60-day loans" in page  # a perk and its benefit
    assert "If you think a record is wrong" in page and "30 days" in page
    assert "How to get off the defaulter list" in page
    assert "is one of" in page  # TRF-OTHER: offence in [speeding, red_light], in words


def test_rules_are_searchable_with_a_get_form_and_an_htmx_partial(portal: Portal) -> None:
    c = portal.client
    page = c.get("/", params={"q": "traffic", "lang": "en"}).text
    assert "TRF-YIELD" in page and "TRF-OTHER" in page and "VOL-10H" not in page
    assert 'hx-get="/"' in page and 'hx-target="#rules"' in page  # the form updates the list in place

    part = c.get("/", params={"q": "Art. 9"}, headers={"HX-Request": "true", "HX-Target": "rules"})
    assert part.status_code == 200
    assert "<html" not in part.text and part.text.lstrip().startswith('<div id="rules"')
    assert "LOAN-LIST" in part.text and "TRF-YIELD" not in part.text
    assert "HX-Request" in part.headers["vary"]
    nothing = c.get(
        "/", params={"q": "zzzz", "lang": "en"}, headers={"HX-Request": "true", "HX-Target": "rules"}
    )
    assert "No rule matches" in nothing.text


def test_stats_withhold_small_cells_as_the_api_does(portal: Portal) -> None:
    c = portal.client
    api = c.get("/api/v1/stats/distribution").json()
    assert api["subjects"] is None  # three residents: withheld
    page = c.get("/stats?lang=en").text
    assert "fewer than 10 (withheld)" in page
    assert "Bank" in page and "Traffic police" in page  # every department's feed
    assert "has never sent data" in page  # TRAFFIC sent nothing
    feeds = {f["department"]: f for f in c.get("/api/v1/stats/feeds").json()["feeds"]}
    assert feeds["BANK"]["last_submission_on"] in page
    zh = c.get("/stats?lang=zh-CN").text
    assert "少于 10（不予公布）" in zh and "从未报送数据" in zh


def test_docs_work_offline(portal: Portal) -> None:
    page = portal.client.get("/docs").text
    assert not re.search(r"(?:https?:)?//", page), "an external URL in /docs"
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page):
        answer = portal.client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.content) > 100
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page
    assert (
        portal.client.get("/static/swagger-ui/swagger-editor.js").status_code == 404
    )  # only what /docs uses
    assert portal.client.get("/redoc").status_code == 404  # ReDoc came from a CDN: not served
    assert portal.client.get("/openapi.json").json()["info"]["title"] == "Guihua"
    assert "/" not in portal.client.get("/openapi.json").json()["paths"]  # pages are not API operations


def test_pages_use_no_asset_from_elsewhere_and_no_inline_script(portal: Portal) -> None:
    for path in [*PAGES, "/docs"]:
        page = portal.client.get(path).text
        for url in re.findall(r'(?:src|href|action)="([^"]*)"', page):
            assert url.startswith(("/", "#", "?")), f"{path}: {url}"
        for script in re.findall(r"<script\b[^>]*>", page):
            assert "src=" in script, f"{path}: inline script {script}"
        assert not re.search(r"\son[a-z]+=", page), f"{path}: an inline event handler"
        assert not re.search(r"\sstyle=", page), f"{path}: an inline style"


def test_every_page_carries_a_csp_without_inline_scripts(portal: Portal) -> None:
    for path in [*PAGES, "/docs", "/static/portal.css", "/nope"]:
        answer = portal.client.get(path, headers={"accept": "text/html"})
        csp = answer.headers["content-security-policy"]
        script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert script.split() == ["script-src", "'self'"], csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_htmx_is_the_vendored_release(portal: Portal) -> None:
    static = files("guihua.web") / "static"
    recorded = (static / "htmx.min.js.sha256").read_text().split()[0]
    served = portal.client.get("/static/htmx.min.js")
    assert served.status_code == 200 and "javascript" in served.headers["content-type"]
    assert hashlib.sha256(served.content).hexdigest() == recorded
    assert "2.0.11" in (static / "NOTICE.md").read_text()
    assert 'version:"2.0.11"' in served.text


def test_errors_of_pages_are_pages_and_of_the_api_problems(portal: Portal) -> None:
    c = portal.client
    page = c.get("/no-such-page?lang=en", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Page not found" in page.text
    api = c.get("/api/v1/no-such", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    program = c.get("/no-such-page")  # no browser: the problem document as before
    assert program.headers["content-type"] == "application/problem+json"
