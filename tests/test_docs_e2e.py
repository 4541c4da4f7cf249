"""``/docs`` and ``/redoc`` in a real browser (Debian's Chromium through Playwright) with
every request to another host blocked: the operations still render, nothing was fetched
from elsewhere and the pages' Content-Security-Policy refused nothing they need.

A failed test leaves a screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from tests.console_server import ConsoleServer, browser_context

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""ReDoc's "API docs by Redocly" image, hard-coded in its bundle: the page's policy refuses
it (so it is never requested) and ReDoc then hides the image."""


@dataclass
class Offline:
    """What a page tried beyond the app, and the browser's complaints."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    # Keyless local use: the docs are public anyway; the app is addressed as 127.0.0.1.
    with ConsoleServer(tmp_path_factory.mktemp("docs"), keys=False) as s:
        yield s


@pytest.fixture
def offline() -> Offline:
    return Offline()


@pytest.fixture
def page(browser: Browser, server: ConsoleServer, offline: Offline) -> Iterator[Page]:
    with browser_context(browser) as ctx:

        def only_the_app(route: Route) -> None:
            url = route.request.url
            if url.startswith(server.url + "/") or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                offline.blocked.append(url)
                route.abort()

        ctx.route("**/*", only_the_app)
        page = ctx.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and ".map" not in msg.text:
                offline.errors.append(msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda e: offline.errors.append(str(e)))
        yield page


def test_swagger_ui_renders_the_operations_offline(page: Page, server: ConsoleServer,
                                                   offline: Offline) -> None:
    page.goto(f"{server.url}/docs")
    operation = page.locator(".opblock-summary-path", has_text="/v1/url-scans").first
    expect(operation).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/v1/apk-scans").first).to_be_visible()
    # Opening an operation renders its parameters and responses from /openapi.json.
    operation.click()
    expect(page.locator(".opblock-body").first).to_contain_text("422")
    assert offline.blocked == []
    assert offline.errors == []


def test_redoc_renders_the_operations_offline(page: Page, server: ConsoleServer,
                                              offline: Offline) -> None:
    page.goto(f"{server.url}/redoc")
    expect(page.locator("h1").first).to_contain_text("scamscan")
    expect(page.get_by_text("/v1/url-scans").first).to_be_attached()
    expect(page.get_by_role("menuitem").first).to_be_visible()
    expect(page.get_by_alt_text("redocly logo")).to_have_count(0)
    assert offline.blocked == []
    assert [e for e in offline.errors if f"'{REDOCLY_LOGO}'" not in e] == []


def test_the_blocking_is_real(page: Page, server: ConsoleServer, offline: Offline,
                              tmp_path: Path) -> None:
    """A page that names a CDN is refused by the route (else the checks above prove nothing)."""
    page.goto(f"{server.url}/docs")
    page.evaluate("fetch('https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css')"
                  ".catch(() => null)")
    page.wait_for_timeout(500)
    # The page's own policy refuses the request before the route sees it.
    assert offline.blocked == [] or offline.blocked == [
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"]
    assert any("Content Security Policy" in e for e in offline.errors), offline.errors
