"""Helpers of the console tests: a real server, keys, and Debian's Chromium.

* :class:`ConsoleServer`: the real app (``api.main.create_app``) under uvicorn
  on 127.0.0.1 and a free port, in a thread, with a temporary data directory
  and API keys (client, analyst, admin) made through the key store first.
* :func:`launch_chromium`: Playwright's Chromium driver on ``/usr/bin/chromium``
  (Debian's ``chromium`` package; never a downloaded browser), headless.
  A missing browser fails the tests (``make system-deps`` installs it).
* :func:`browser_context`: a fresh browser context with the tests' time-out; the
  module-scoped ``browser`` fixture (``tests/conftest.py``) gives the browser.
* :func:`register_failure_screenshots`: a failed test with a ``page`` leaves
  ``test-artifacts/<test>.png``.
* :func:`screenshot`: with ``SCAMSCAN_SCREENSHOTS=DIR`` (``make screenshots``),
  full-page screenshots of the main pages are saved in DIR.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from api.main import create_app
from api.settings import Settings
from api.storage.factory import open_key_store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SCREENSHOTS_ENV = "SCAMSCAN_SCREENSHOTS"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
"""Screenshots of failed browser tests (gitignored)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def make_keys(data_dir: Path) -> dict[str, str]:
    """One key per role, made through the key store (as ``scamscan keys create`` does)."""
    store = open_key_store(data_dir, None)
    try:
        keys = {}
        for role in ("client", "analyst", "admin"):
            _, secret = await store.create(f"e2e-{role}", role)
            keys[role] = secret
        return keys
    finally:
        await store.close()


class ConsoleServer:
    """The app under uvicorn in a thread; ``url`` once entered."""

    def __init__(self, data_dir: Path, *, keys: bool = True, **settings: Any) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        # In a thread of its own: Playwright's sync API keeps an event loop running in
        # this one, where asyncio.run() is refused.
        self.keys: dict[str, str] = {}
        if keys:
            with ThreadPoolExecutor(1) as pool:
                self.keys = pool.submit(asyncio.run, make_keys(data_dir)).result()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(data_dir=data_dir, host="127.0.0.1", port=self.port,
                                 log_level="WARNING", apk_workers=1, **settings)
        self.app = create_app(self.settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None,
                                log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="console-server",
                                       daemon=True)

    def __enter__(self) -> ConsoleServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the console server did not start", pytrace=False)
            time.sleep(0.05)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; fails (never skips) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the console tests need Debian's chromium "
                    "(run `make system-deps`)", pytrace=False)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS)


class _FailureScreenshots:
    """A pytest hook: a failed test that has a ``page`` leaves
    ``test-artifacts/<test>.png``."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        page = getattr(item, "funcargs", {}).get("page")
        if report.failed and report.when == "call" and isinstance(page, Page):
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{item.name}.png"), full_page=True)
            except Exception as e:  # the page may be gone; the failure itself matters
                report.sections.append(("screenshot", f"not taken: {e}"))
        return report


def register_failure_screenshots(config: pytest.Config) -> None:
    """Register the failure-screenshot hook once (the browser fixtures call it)."""
    plugins = config.pluginmanager
    if not plugins.has_plugin("scamscan-console-screenshots"):
        plugins.register(_FailureScreenshots(), "scamscan-console-screenshots")


@contextmanager
def chromium_browser(config: pytest.Config) -> Iterator[Browser]:
    """Debian's Chromium through Playwright for a module's browser tests, with the
    failure-screenshot hook registered; closed at the end."""
    register_failure_screenshots(config)
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


TIMEOUT_MS = 30_000
"""How long a browser test waits for a page, a locator or an expectation."""


@contextmanager
def browser_context(browser: Browser, **options: Any) -> Iterator[BrowserContext]:
    """A fresh context (no cookies; 1280×900 unless ``viewport`` is given; other
    Playwright ``new_context`` options as given) waiting up to :data:`TIMEOUT_MS`;
    closed at the end."""
    options.setdefault("viewport", {"width": 1280, "height": 900})
    ctx = browser.new_context(**options)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot ``DIR/<name>.png`` when ``SCAMSCAN_SCREENSHOTS=DIR``."""
    target = os.environ.get(SCREENSHOTS_ENV)
    if not target:
        return
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, animations="disabled",
                    caret="hide")


def sign_in(page: Page, base: str, key: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{base}/console/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base}/console/")
