"""The analyst console in a real browser: Debian's Chromium driven by Playwright.

One server (the real app under uvicorn, temporary data directory, small
``SCAMSCAN_MAX_APK_BYTES``) and one browser for the module; each test has its
own browser context (its own cookies). A failed test leaves a screenshot in
``test-artifacts/``; ``SCAMSCAN_SCREENSHOTS=docs/screenshots`` (``make
screenshots``) saves the main pages there.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stix2  # type: ignore[import-untyped]  # the library has no type hints
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    expect,
)

from scanners import rules
from tests.console_server import (
    ConsoleServer,
    browser_context,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIXTURES = Path(__file__).parent / "fixtures" / "apk"
MAX_APK_BYTES = 64 * 1024
"""Small, so that an oversized upload is cheap; the fixture apps are 5-20 KB."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    # English pages (the labels these tests find things by); Vietnamese, the default,
    # is asked for with ?lang=vi in the tests of the language (and in test_console_i18n).
    with ConsoleServer(tmp_path_factory.mktemp("console"), max_apk_bytes=MAX_APK_BYTES,
                       default_lang="en") as s:
        yield s


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    with browser_context(browser, accept_downloads=True) as ctx:
        yield ctx


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def analyst(page: Page, server: ConsoleServer) -> Page:
    """A page signed in with the analyst key."""
    sign_in(page, server.url, server.keys["analyst"])
    return page


def _scan_link(page: Page, url: str, *, lang: str | None = None) -> None:
    page.get_by_label("Link or host").fill(url)
    page.get_by_role("button", name="Scan link").click()
    page.wait_for_url(re.compile(r".*/console/scans/[0-9a-f]{32}.*"))


def _upload_apk(page: Page, name: str) -> None:
    """Upload a fixture app from the submit page; back when its report's page opens."""
    page.get_by_label("Choose a file").set_input_files(FIXTURES / name)
    page.get_by_role("button", name="Upload and scan").click()
    page.wait_for_url(re.compile(r".*/console/scans/[0-9a-f]+.*"), timeout=90_000)


def _finding_row(page: Page, rule_id: str) -> Any:
    return page.locator(f'table.findings tr[data-rule="{rule_id}"]')


# --- sign-in ---------------------------------------------------------------------------------


def test_sign_in_is_required_and_a_client_key_is_refused(page: Page,
                                                         server: ConsoleServer) -> None:
    page.goto(f"{server.url}/console/lists")
    expect(page).to_have_url(re.compile(r".*/console/sign-in\?next=%2Fconsole%2Flists"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # Keys exist: no keyless way in.
    expect(page.get_by_role("button", name="Continue without a key")).to_have_count(0)
    screenshot(page, "sign-in")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Enter your API key.")
    page.get_by_label("API key").fill(server.keys["client"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("needs an analyst or admin key")
    page.get_by_label("API key").fill("ss_not-a-key")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    # The right key goes where the visitor was going.
    page.get_by_label("API key").fill(server.keys["analyst"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{server.url}/console/lists")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{server.url}/console/")
    expect(page).to_have_url(re.compile(r".*/console/sign-in.*"))


# --- links ----------------------------------------------------------------------------------


def test_link_scan_shows_verdict_findings_and_both_languages(analyst: Page,
                                                             server: ConsoleServer) -> None:
    page = analyst
    screenshot(page, "submit")
    _scan_link(page, "hxxps://dichvucong[.]hgov[.]cc/dang-nhap")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "dangerous")
    expect(page.get_by_test_id("risk-score")).to_have_text("100")
    expect(page.get_by_test_id("target")).to_have_text("hxxps://dichvucong[.]hgov[.]cc/dang-nhap")
    # The findings table: rule id, points and evidence.
    row = _finding_row(page, "URL-GOV-001")
    expect(row).to_contain_text("45")
    expect(row).to_contain_text("dichvucong")
    expect(_finding_row(page, "URL-BL-001")).to_contain_text("hostsVN")
    # The attacker's link is text, never a link.
    assert page.locator('a[href*="hgov"]').count() == 0
    expect(page.get_by_test_id("domain-age")).to_contain_text("offline scan")
    # Language toggle: the reasons and titles are re-read in the other language.
    title = {lang: rules.CATALOGUE["URL-GOV-001"].title(lang) for lang in ("vi", "en")}
    page.get_by_role("link", name="English").click()
    expect(page.locator(".reasons")).to_contain_text(title["en"])
    expect(page.locator("[data-verdict]")).to_have_text("Dangerous")
    screenshot(page, "link-report")
    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.locator(".reasons")).to_contain_text(title["vi"])
    expect(page.locator("[data-verdict]")).to_have_text("Nguy hiểm")


def test_empty_link_form_says_so(analyst: Page) -> None:
    analyst.get_by_role("button", name="Scan link").click()
    expect(analyst.get_by_role("alert")).to_have_text("Enter a link (or a host) to scan.")
    analyst.get_by_label("Link or host").fill("ftp://example.com/x")
    analyst.get_by_role("button", name="Scan link").click()
    expect(analyst.get_by_role("alert")).to_contain_text("cannot be scanned")


# --- apps -------------------------------------------------------------------------------------


def test_apk_upload_progress_and_report(analyst: Page, server: ConsoleServer) -> None:
    page = analyst
    _upload_apk(page, "fake_dichvucong.apk")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "dangerous",
                                                             timeout=90_000)
    expect(page.get_by_test_id("package")).to_have_text("vn.gov.dichvucong.app")
    expect(page.get_by_test_id("app-label")).to_have_text("Dịch vụ công")
    expect(_finding_row(page, "APK-IMP-003")).to_contain_text("50")
    # The launcher icon, as a data: image the CSP allows, really decoded by the browser.
    icon = page.locator("img.app-icon")
    expect(icon).to_have_attribute("src", re.compile(r"^data:image/(png|webp|jpeg);base64,"))
    assert icon.evaluate("img => img.complete && img.naturalWidth > 0")
    # Dangerous permissions are highlighted with what they allow.
    sms = page.locator("table.permissions tr.dangerous", has_text="android.permission.READ_SMS")
    expect(sms).to_be_visible()
    expect(page.get_by_role("heading", name="Accessibility services")).to_be_visible()
    sample = (FIXTURES / "fake_dichvucong.apk").read_bytes()
    expect(page.locator("#sha256-sample")).to_have_text(hashlib.sha256(sample).hexdigest())
    # Embedded URLs are defanged text with a button to their link report.
    urls = page.locator("ul.urls")
    expect(urls).to_contain_text("hxxps://dichvucong-gov[.]com/api")
    assert urls.locator("a").count() == 0
    screenshot(page, "apk-report")
    urls.locator("li", has_text="dichvucong-gov[.]com").get_by_role("button").click()
    page.wait_for_url(re.compile(r".*/console/scans/[0-9a-f]{32}.*"))
    expect(page.get_by_test_id("target")).to_have_text("hxxps://dichvucong-gov[.]com/api")


def test_upload_progress_bar_and_job_state(analyst: Page) -> None:
    """The bar is fed by the XHR upload events; then the page follows the job's state.
    The status poll is held back here so the submit page can be looked at."""
    page = analyst
    held: list[Route] = []
    scan_status = re.compile(r".*/v1/scans/[0-9a-f]+\?.*")

    def hold(route: Route) -> None:
        held.append(route)

    page.route(scan_status, hold)
    page.get_by_label("Choose a file").set_input_files(FIXTURES / "benign_notes.apk")
    page.get_by_role("button", name="Upload and scan").click()
    expect(page.locator("#apk-progress-label")).to_have_text("Uploaded")
    expect(page.locator("#apk-progress-text")).to_have_text("100%")
    assert page.evaluate("document.getElementById('apk-progress').value") == 100
    expect(page.locator("#apk-status")).to_contain_text(re.compile(r"Scan (queued|running)"))
    expect(page.get_by_role("button", name="Upload and scan")).to_be_disabled()
    assert held, "the page did not poll the job"
    # Let the poll through (unroute passes the held requests on): the report opens.
    page.unroute(scan_status, hold)
    page.wait_for_url(re.compile(r".*/console/scans/[0-9a-f]+.*"), timeout=90_000)
    expect(page.locator("[data-verdict]")).to_be_visible(timeout=90_000)


def test_not_an_apk_empty_and_oversized_uploads_are_explained(analyst: Page) -> None:
    page = analyst
    error = page.locator("#apk-error")
    page.get_by_role("button", name="Upload and scan").click()
    expect(error).to_have_text("Choose an APK file (or drop one on the box) first.")
    page.get_by_label("Choose a file").set_input_files(FIXTURES / "not_zip.apk")
    page.get_by_role("button", name="Upload and scan").click()
    expect(error).to_contain_text("could not be scanned", timeout=90_000)
    expect(error).to_contain_text("not a ZIP")
    big = {"name": "big.apk", "mimeType": "application/vnd.android.package-archive",
           "buffer": b"PK\x03\x04" + b"\0" * (MAX_APK_BYTES + 1)}
    page.get_by_label("Choose a file").set_input_files(big)  # type: ignore[arg-type]
    page.get_by_role("button", name="Upload and scan").click()
    expect(error).to_contain_text("too large")
    # Without the page's own check, the server's limit answers (413) and is explained.
    page.evaluate("document.getElementById('apk-form').setAttribute('data-max-bytes', '0')")
    with page.expect_response(re.compile(r".*/v1/apk-scans.*")) as answer:
        page.get_by_role("button", name="Upload and scan").click()
    assert answer.value.status == 413
    expect(error).to_have_text(re.compile(r"This file is too large: the limit is .*\."))
    assert "Traceback" not in page.content()
    # The failed scan is in the history, and its page says why.
    page.goto(page.url.replace("/console/", "/console/history?kind=apk&q=not_zip"))
    page.locator("table.history a", has_text="not_zip.apk").first.click()
    expect(page.locator("#scan-failed")).to_contain_text("could not be scanned")
    expect(page.locator("#scan-failed")).to_contain_text("not-zip")


# --- lists ----------------------------------------------------------------------------------


def test_list_entry_is_added_and_used_by_the_next_scan(analyst: Page,
                                                       server: ConsoleServer) -> None:
    page = analyst
    page.get_by_role("link", name="Lists").click()
    expect(page.get_by_role("heading", name="Bundled lists")).to_be_visible()
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the value")
    page.get_by_label("Kind", exact=True).select_option("host")
    page.get_by_label("Value").fill("vneid-e2e-xacminh.top")
    page.get_by_label("Note").fill("SMS campaign seen in the e2e test")
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_role("status")).to_contain_text("Entry added")
    expect(page.locator("table.entries")).to_contain_text("vneid-e2e-xacminh[.]top")
    screenshot(page, "lists")
    # A duplicate is refused with the API's message.
    page.get_by_label("Kind", exact=True).select_option("host")
    page.get_by_label("Value").fill("vneid-e2e-xacminh.top")
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    # See it used: a scan of that host now has the analyst's block finding.
    page.get_by_role("link", name="Submit").click()
    _scan_link(page, "https://vneid-e2e-xacminh.top/xac-thuc")
    blocked = page.locator("table.findings tr", has_text="analyst: e2e-analyst")
    expect(blocked).to_have_count(1)
    expect(blocked).to_have_attribute("data-rule", "URL-BL-001")
    # Remove it again.
    page.get_by_role("link", name="Lists").click()
    page.once("dialog", lambda d: d.accept())
    page.locator("tr", has_text="vneid-e2e-xacminh[.]top").get_by_role("button",
                                                                     name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Entry removed.")


def test_admin_refreshes_feeds_and_analyst_cannot(page: Page, server: ConsoleServer) -> None:
    sign_in(page, server.url, server.keys["analyst"])
    page.goto(f"{server.url}/console/lists")
    expect(page.get_by_role("button", name="Refresh feeds now")).to_have_count(0)
    page.context.clear_cookies()
    sign_in(page, server.url, server.keys["admin"])
    page.goto(f"{server.url}/console/lists")
    page.get_by_role("button", name="Refresh feeds now").click()
    expect(page.get_by_role("status")).to_contain_text("Feeds refreshed: no feed is configured")


# --- history and exports ------------------------------------------------------------------


def test_history_search_and_stix_export(analyst: Page, server: ConsoleServer) -> None:
    page = analyst
    _scan_link(page, "dichvucong.hgov.cc")
    _scan_link_back = page.url
    page.get_by_role("link", name="History").click()
    page.get_by_label("Host, package, SHA-256 or input").fill("hgov")
    page.get_by_label("Verdict").select_option("dangerous")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.history tbody tr[data-scan]")
    expect(rows.first).to_contain_text("dichvucong[.]hgov[.]cc")
    screenshot(page, "history")
    page.get_by_label("Verdict").select_option("official")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.history")).not_to_contain_text("hgov")
    # Export: the report as JSON and as a STIX 2.1 bundle, checked by stix2.
    page.goto(_scan_link_back)
    with page.expect_download() as got:
        page.get_by_role("link", name="Export JSON").click()
    exported = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    assert exported["report"]["verdict"] == "dangerous"
    with page.expect_download() as got:
        page.get_by_role("link", name="Export STIX 2.1").click()
    bundle = stix2.parse(Path(got.value.path()).read_text(encoding="utf-8"), allow_custom=False)
    assert bundle.type == "bundle"
    patterns = [o.pattern for o in bundle.objects if o.type == "indicator"]
    assert "[domain-name:value = 'dichvucong.hgov.cc']" in patterns
    assert any(p.startswith("[url:value = 'http://dichvucong.hgov.cc") for p in patterns)


# --- sessions and CSRF ------------------------------------------------------------------------


def test_csrf_token_is_required_for_writes(analyst: Page, server: ConsoleServer) -> None:
    page = analyst
    script = """async (withToken) => {
        const headers = {"Content-Type": "application/json"};
        if (withToken) {
            headers["X-CSRF-Token"] =
                document.querySelector('meta[name="csrf-token"]').content;
        }
        const r = await fetch("/v1/lists/entries", {method: "POST", headers,
            body: JSON.stringify({kind: "domain", value: "csrf-e2e.top"})});
        return [r.status, r.headers.get("content-type"), await r.text()];
    }"""
    status, ctype, body = page.evaluate(script, False)
    assert status == 403 and ctype == "application/problem+json", body
    assert json.loads(body)["title"] == "CSRF check failed"
    status, _, body = page.evaluate(script, True)
    assert status == 201, body
    # An HTML form whose token was removed is refused with a page, nothing is added.
    page.goto(f"{server.url}/console/lists")
    page.evaluate("document.querySelector('.entry-form input[name=csrf_token]').remove()")
    page.get_by_label("Value").fill("csrf-form-e2e.top")
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_role("heading", name="CSRF check failed")).to_be_visible()
    page.goto(f"{server.url}/console/lists?q=csrf-form-e2e")
    expect(page.locator("table.entries")).to_contain_text("No analyst entry matches")


def test_expired_session_returns_to_sign_in_and_keeps_nothing(
        browser: Browser, tmp_path: Path) -> None:
    with (ConsoleServer(tmp_path / "short", session_idle=1.0, default_lang="en") as short,
          browser_context(browser, viewport={"width": 1280, "height": 720}) as ctx):
        page = ctx.new_page()
        sign_in(page, short.url, short.keys["analyst"])
        page.goto(f"{short.url}/console/lists")
        page.get_by_label("Value").fill("half-done-e2e.top")
        time.sleep(1.3)  # idle for longer than SCAMSCAN_SESSION_IDLE
        page.get_by_role("button", name="Add entry").click()
        expect(page).to_have_url(re.compile(r".*/console/sign-in\?.*expired=1"))
        expect(page.get_by_role("status")).to_contain_text("Your session has expired")
        sign_in(page, short.url, short.keys["analyst"])
        page.goto(f"{short.url}/console/lists?q=half-done")
        expect(page.locator("table.entries")).to_contain_text("No analyst entry matches")


# --- phone --------------------------------------------------------------------------------------


def test_phone_width_report_is_readable(browser: Browser, server: ConsoleServer) -> None:
    with browser_context(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                         device_scale_factor=2, has_touch=True) as ctx:
        page = ctx.new_page()
        sign_in(page, server.url, server.keys["analyst"])
        _scan_link(page, "https://dichvucong.hgov.cc/dang-nhap")
        expect(page.locator("[data-verdict]")).to_be_visible()
        # Nothing wider than the screen: tables scroll inside their own region.
        width: int = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        screenshot(page, "phone-link-report")


def test_keyboard_only_sign_in_and_scan(page: Page, server: ConsoleServer) -> None:
    page.goto(f"{server.url}/console/sign-in")
    expect(page.get_by_label("API key")).to_be_focused()  # autofocus
    page.keyboard.type(server.keys["analyst"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip")).to_be_focused()
    for _ in range(20):  # the link field is reachable with Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "url":
            break
    expect(page.get_by_label("Link or host")).to_be_focused()
    page.keyboard.type("dichvucong.hgov.cc")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/console/scans/.*"))
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "dangerous")


# --- message checks --------------------------------------------------------------------------


def test_message_check_report_from_the_history(analyst: Page, server: ConsoleServer) -> None:
    """A chatbot's message check (real HTTP) shows in the history and opens as a report:
    verdict, the listed number's finding, the masked text, no live link."""
    import httpx

    page = analyst
    headers = {"X-API-Key": server.keys["analyst"]}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
        r = api.post("/v1/lists/entries", json={"kind": "phone", "value": "0966 111 222",
                                                "note": "e2e: fake police caller"})
        assert r.status_code in (201, 409), r.text
        r = api.post("/v1/message-checks", json={
            "text": "Cán bộ công an phường thông báo: gọi ngay 0966 111 222, nộp phí vào STK "
                    "19036789123456 Techcombank, tải ứng dụng tại https://dichvucong-gov.com/app",
            "lang": "vi"})
        assert r.status_code == 200, r.text
        check_id = r.json()["check_id"]
    page.goto(f"{server.url}/console/history?kind=message")
    row = page.locator(f'tr[data-scan="{check_id}"]')
    expect(row).to_contain_text("message")
    expect(row).to_contain_text("Cán bộ công an")
    row.get_by_role("link").click()
    page.wait_for_url(f"{server.url}/console/scans/{check_id}")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "dangerous")
    expect(_finding_row(page, "MSG-ID-001")).to_contain_text("e2e: fake police caller")
    text = page.get_by_test_id("message-text")
    expect(text).to_contain_text("096* *** *22")  # separators kept: offsets stay valid
    expect(text).to_contain_text("190*********56")
    expect(text).to_contain_text("hxxps://dichvucong-gov[.]com/app")
    assert "0966 111 222" not in page.content() and "19036789123456" not in page.content()
    assert page.locator('a[href*="dichvucong-gov"]').count() == 0
    expect(page.locator('tr[data-item="bank_account"]')).to_contain_text("Techcombank")
    expect(page.locator('tr[data-item="phone"]')).to_contain_text("block")
    screenshot(page, "message-report")


# --- Vietnamese, local times, block and rescan (issue 16, item 8) --------------------------------


def test_vietnamese_pages_and_times_in_the_viewers_zone(browser: Browser,
                                                        server: ConsoleServer) -> None:
    """A browser in Hà Nội's time zone: the pages in Vietnamese (labels, the upload
    script's messages), times shown in GMT+7 with the zone named."""
    with browser_context(browser, viewport={"width": 1280, "height": 720},
                         timezone_id="Asia/Ho_Chi_Minh", locale="vi-VN") as ctx:
        page = ctx.new_page()
        page.goto(f"{server.url}/console/sign-in?lang=vi")
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        page.get_by_label("Khóa API").fill(server.keys["analyst"])
        page.get_by_role("button", name="Đăng nhập", exact=True).click()
        page.wait_for_url(f"{server.url}/console/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Kiểm tra một liên kết hoặc một ứng dụng")
        # The upload script's words come from the catalogue too.
        page.get_by_role("button", name="Tải lên và quét").click()
        expect(page.locator("#apk-error")).to_have_text(
            "Hãy chọn một tệp APK (hoặc kéo thả vào ô) trước.")
        page.get_by_label("Liên kết hoặc tên miền").fill("dichvucong.hgov.cc")
        page.get_by_role("button", name="Quét liên kết").click()
        page.wait_for_url(re.compile(r".*/console/scans/[0-9a-f]{32}"))
        expect(page.locator("[data-verdict]")).to_have_text("Nguy hiểm")
        when = page.locator("p.kicker time")
        expect(when).to_contain_text("GMT+7")
        iso = when.get_attribute("datetime")
        assert iso and iso.endswith("Z")
        # The same moment, seven hours on: the script rewrote the UTC fallback.
        hour = (int(iso[11:13]) + 7) % 24
        expect(when).to_contain_text(f"{hour:02d}:{iso[14:16]}")
        expect(when).not_to_contain_text("UTC")
        page.get_by_role("link", name="Lịch sử").click()
        expect(page.locator("table.history time").first).to_contain_text("GMT+7")
        screenshot(page, "history-vi")
        # In English, the same zone, named the same way.
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("table.history time").first).to_contain_text("GMT+7")


def test_add_to_blocklist_and_rescan_a_link(analyst: Page, server: ConsoleServer) -> None:
    page = analyst
    _scan_link(page, "https://shop.hoa-tuoi-xinh-e2e.vn/dat-hang")
    report = page.url
    expect(_finding_row(page, "URL-BL-001")).to_have_count(0)
    page.get_by_label(re.compile("^domain")).check()
    page.get_by_role("button", name="Add to blocklist").click()
    page.wait_for_url(re.compile(r".*\?blocked=.+"))
    notice = page.locator("#block-notice")
    expect(notice).to_contain_text("Added to the blocklist")
    screenshot(page, "link-report-blocked")
    # The report links to the entry, highlighted on the Lists page.
    notice.get_by_role("link").click()
    expect(page.locator("table.entries tr.highlight")).to_contain_text(
        "hoa-tuoi-xinh-e2e[.]vn")
    page.goto(report)
    expect(page.get_by_test_id("listed")).to_be_visible()
    page.get_by_role("button", name="Rescan").click()
    page.wait_for_url(re.compile(r".*/console/scans/[0-9a-f]{32}$"))
    assert page.url != report
    expect(_finding_row(page, "URL-BL-001")).to_contain_text("e2e-analyst")


def test_add_to_blocklist_and_rescan_an_app(analyst: Page, server: ConsoleServer) -> None:
    page = analyst
    _upload_apk(page, "benign_notes.apk")
    expect(page.locator("[data-verdict]")).not_to_have_attribute("data-verdict", "dangerous",
                                                                 timeout=90_000)
    first = page.url.split("?")[0]
    page.get_by_role("button", name="Add to blocklist").click()
    expect(page.locator("#block-notice")).to_contain_text("Added to the blocklist")
    expect(page.locator("#block-notice")).to_contain_text("app SHA-256")
    page.get_by_role("button", name="Rescan").click()
    page.wait_for_url(re.compile(r".*/console/scans/[0-9a-f]{32}$"))
    assert page.url != first
    # Straight to the report, or the job's page that opens it when done.
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "dangerous",
                                                             timeout=90_000)
