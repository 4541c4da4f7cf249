"""Feedback and share links in a real browser: Debian's Chromium driven by Playwright.

An analyst turns a feedback entry into a blocklist entry in one click; a share
link made from a report page opens, without a session, as a minimal public page
with no link to the console. Same server and browser helpers as
``tests/test_console_e2e.py`` (``tests/console_server.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from tests.console_server import ConsoleServer, browser_context, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    # English by default, as tests/console_server.sign_in reads the English form; the
    # pages below are asked for in Vietnamese (?lang=vi, then remembered by the cookie).
    with ConsoleServer(tmp_path_factory.mktemp("feedback"), default_lang="en") as s:
        yield s


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    with browser_context(browser) as ctx:
        yield ctx


@pytest.fixture
def analyst(context: BrowserContext, server: ConsoleServer) -> Page:
    page = context.new_page()
    sign_in(page, server.url, server.keys["analyst"])
    page.goto(f"{server.url}/console/?lang=vi")
    return page


def _api(server: ConsoleServer, method: str, path: str, role: str = "client",
         **kw: object) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"X-API-Key": server.keys[role]}) as c:
        return c.request(method, path, **kw)  # type: ignore[arg-type]


def test_analyst_blocks_a_feedback_entry_in_one_click(analyst: Page,
                                                      server: ConsoleServer) -> None:
    target = "https://hoatuoi-giare.net/don-hang"
    before = _api(server, "POST", "/v1/url-scans", json={"url": target, "offline": True})
    assert before.json()["verdict"] != "dangerous"
    for _ in range(3):
        r = _api(server, "POST", "/v1/feedback", json={
            "kind": "scam", "target": target, "note": "Gọi giả danh công an, bắt cài VNeID",
            "scan_id": before.json()["scan_id"]})
        assert r.status_code == 202
    page = analyst
    page.goto(f"{server.url}/console/feedback")
    row = page.locator(f'tr[data-feedback="{r.json()["id"]}"]')
    expect(row).to_contain_text("hxxps://hoatuoi-giare[.]net/don-hang")
    expect(row).to_contain_text("Gọi giả danh công an")
    expect(row.locator("td.num")).to_have_text("3")
    assert row.locator('a[href*="hoatuoi"]').count() == 0  # never a live link
    screenshot(page, "feedback")
    row.get_by_role("button", name="Chặn").click()
    expect(page.get_by_role("status").first).to_contain_text("Đã thêm vào danh sách chặn")
    expect(page.locator(f'tr[data-feedback="{r.json()["id"]}"]')).to_have_count(0)
    # The block entry is on the lists page, and the next scan is blocked.
    page.goto(f"{server.url}/console/lists?q=hoatuoi-giare.net")
    expect(page.locator("main")).to_contain_text("hoatuoi-giare.net")
    after = _api(server, "POST", "/v1/url-scans", json={"url": target, "offline": True})
    assert after.json()["verdict"] == "dangerous"


def test_share_link_opens_a_minimal_public_page(analyst: Page, browser: Browser,
                                                server: ConsoleServer) -> None:
    scan = _api(server, "POST", "/v1/url-scans",
                json={"url": "hxxps://dichvucong[.]hgov[.]cc/dang-nhap", "offline": True})
    page = analyst
    page.goto(f"{server.url}/console/scans/{scan.json()['scan_id']}")
    page.get_by_test_id("share-button").click()
    url = page.get_by_test_id("share-url").input_value()
    assert re.fullmatch(re.escape(server.url) + r"/s/[A-Za-z0-9_-]{43}", url)
    # A stranger's browser: no cookie, no key.
    stranger = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        requests: list[Request] = []
        public = stranger.new_page()
        public.on("request", lambda r: requests.append(r))
        public.goto(url)
        expect(public.locator("html")).to_have_attribute("lang", "vi")
        expect(public.get_by_role("heading", level=1)).to_have_text("Kết quả kiểm tra lừa đảo")
        expect(public.get_by_test_id("verdict")).to_have_attribute("data-verdict", "dangerous")
        expect(public.get_by_test_id("risk-score")).to_have_text("100")
        expect(public.locator("code.defanged").first).to_have_text(
            "hxxps://dichvucong[.]hgov[.]cc/dang-nhap")
        # Its stylesheet applied under the strict policy.
        colour = public.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(246, 247, 249)"
        hrefs = public.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert hrefs == ["?lang=en"]
        assert all("/console" not in r.url and "/v1/" not in r.url for r in requests)
        fetched = {r.url.split("?")[0] for r in requests} - {f"{server.url}/favicon.ico"}
        assert fetched == {url, f"{server.url}/s/-/share.css"}
        screenshot(public, "share-page")
        public.get_by_role("link", name="English").click()
        expect(public.get_by_role("heading", level=1)).to_have_text("Scam check result")
        # Revoked from the console: the page is gone, as if it never existed.
        page.get_by_role("link", name="Các đường dẫn đang dùng").click()
        page.get_by_role("button", name="Thu hồi").click()
        expect(page.get_by_role("status").first).to_contain_text("Đã thu hồi")
        public.goto(url)
        expect(public.get_by_role("heading", level=1)).to_have_text("Không tìm thấy trang")
    finally:
        stranger.close()
