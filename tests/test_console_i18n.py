"""The console in Vietnamese and English (issue 16, item 8), over HTTP without a browser.

* The catalogue (``api/console/messages.json``): every key in both languages with the
  same fields; every key the templates and scripts use exists.
* Every page, for each role, in Vietnamese (the default): ``<html lang="vi">`` and no
  visible text, label or script string that is an English-only catalogue text (text
  marked ``lang="en"``, such as an API's technical detail, is exempt: it says so).
* Times: ``<time datetime="...Z">`` with a UTC fallback.
* "Add to blocklist" and "Rescan" on link, app and message reports, with CSRF.

The browser side (local time zone, the buttons clicked) is in ``test_console_e2e.py``.
"""

from __future__ import annotations

import json
import re
from contextlib import AbstractAsyncContextManager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.console import i18n
from api.settings import Settings
from tests.asgi import CONSOLE_KEYS, keyed_app
from tests.test_console import _token, signed_in

pytestmark = pytest.mark.anyio
# Each test with the app takes from about a second (a link) to eight (every page of
# two roles, with an APK scan each): out of the inner loop (make test-fast).
slow = pytest.mark.slow

CONSOLE = Path(__file__).parent.parent / "api" / "console"
FIXTURES = Path(__file__).parent / "fixtures" / "apk"
MESSAGE = ("Cán bộ công an phường thông báo: gọi ngay 0966 111 222, nộp phí vào STK "
           "19036789123456 Techcombank, tải ứng dụng tại https://dichvucong-gov.com/app")


# --- the catalogue ---------------------------------------------------------------------------


def test_every_key_has_both_languages_with_the_same_fields() -> None:
    raw = json.loads(i18n.CATALOGUE_FILE.read_text("utf-8"))
    assert set(raw) == set(i18n.CATALOGUE) and len(raw) > 300
    for key, entry in raw.items():
        assert set(entry) == {"vi", "en"}, key
        assert entry["vi"].strip() and entry["en"].strip(), key
    # The check refuses what a merge could bring in.
    for bad in ({"k": {"vi": "x"}}, {"k": {"vi": "", "en": "x"}},
                {"k": {"vi": "{n} lần", "en": "{count} times"}},
                {"k": {"vi": "a", "en": "b", "fr": "c"}}):
        with pytest.raises(i18n.CatalogueError):
            i18n.check(bad)
    assert i18n.text("pager.page", "vi", page=2, pages=5) == "Trang 2/5"
    assert i18n.text("pager.page", "en", page=2, pages=5) == "Page 2 of 5"


def test_every_key_the_templates_and_scripts_use_exists() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    for template in (CONSOLE / "templates").glob("*.html"):
        text = template.read_text("utf-8")
        used |= set(re.findall(r"'([a-z_]+\.[a-z_.]*[a-z_])'", text))
        prefixes |= set(re.findall(r"\bt\('([a-z_]+\.)' ~", text))
    assert len(used) > 200
    groups = {k.split(".")[0] for k in i18n.CATALOGUE}
    used = {k for k in used if k.split(".")[0] in groups  # not a file name
            and not k.endswith("_")}  # a computed key's prefix
    assert sorted(k for k in used if k not in i18n.CATALOGUE) == []
    for prefix in prefixes:  # computed keys (t('severity.' ~ f.severity)): some exist
        assert any(k.startswith(prefix) for k in i18n.CATALOGUE), prefix
    scripts = i18n.script_catalogue("vi")
    for script in (CONSOLE / "static").glob("*.js"):
        for key in re.findall(r'\bt\("([a-z_.]+)"', script.read_text("utf-8")):
            assert key in scripts, f"{script.name}: {key}"
    # Every job failure code the API documents has its sentence.
    for code in ("not-zip", "windows-executable", "truncated", "zip-bomb", "no-manifest",
                 "timeout", "worker-lost", "sample-gone"):
        assert f"job.error.{code}" in i18n.CATALOGUE, code


# --- pages ---------------------------------------------------------------------------------------


class _Visible(HTMLParser):
    """Text nodes and the attributes a person reads or hears (aria-label, title, alt,
    placeholder, data-confirm), outside elements marked ``lang="en"`` and scripts."""

    SPOKEN = ("aria-label", "title", "alt", "placeholder", "data-confirm")
    VOID = frozenset({"meta", "link", "input", "img", "br", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []
        self.html_lang: str | None = None
        self.script_strings: dict[str, str] = {}

    def _english(self) -> bool:
        return any(en for _, en in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "meta" and a.get("name") == "console-i18n":
            self.script_strings = json.loads(a["content"])
        english = a.get("lang") == "en"
        if not (english or self._english()):
            self.texts += [a[k].strip() for k in self.SPOKEN if a.get(k)]
        if tag not in self.VOID:
            self.stack.append((tag, english or tag in ("script", "style")))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._english():
            self.texts.append(" ".join(data.split()))


def _english_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each English-only catalogue text as a pattern (its fields match anything)."""
    out = []
    for key, entry in i18n.CATALOGUE.items():
        en = " ".join(entry["en"].split())
        if en == " ".join(entry["vi"].split()):
            continue
        pattern = re.escape(en)
        pattern = re.sub(r"\\\{[a-z_]+\\\}", ".+", pattern)
        out.append((key, re.compile(pattern, re.DOTALL)))
    return out


ENGLISH = _english_patterns()


def assert_vietnamese(html: str, where: str) -> None:
    page = _Visible()
    page.feed(html)
    assert page.html_lang == "vi", where
    found = [(key, text) for text in page.texts for key, p in ENGLISH if p.fullmatch(text)]
    assert found == [], f"{where}: English text on a Vietnamese page: {found[:5]}"
    vi_scripts = i18n.script_catalogue("vi")
    assert page.script_strings == vi_scripts, where


def assert_english(html: str, where: str) -> None:
    page = _Visible()
    page.feed(html)
    assert page.html_lang == "en", where
    assert page.script_strings == i18n.script_catalogue("en"), where


def console(tmp_path: Path, *, keys: bool = True, **kw: Any
            ) -> AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient, dict[str, str]]]:
    """The app (SCAMSCAN_DEFAULT_LANG left to its default) and a cookie-keeping client."""
    return keyed_app(Settings(data_dir=tmp_path / "data", log_level="WARNING", apk_workers=1,
                              **kw), CONSOLE_KEYS if keys else (), client_timeout=60)


async def _scan_link(c: httpx.AsyncClient, csrf: str, url: str) -> str:
    r = await c.post("/console/scans/url", data={"url": url, "csrf_token": csrf})
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


async def _upload(c: httpx.AsyncClient, csrf: str, name: str, data: bytes) -> dict[str, Any]:
    r = await c.post("/v1/apk-scans?wait=60", files={"file": (name, data)},
                     headers={"X-CSRF-Token": csrf})
    assert r.status_code in (200, 202), r.text
    body: dict[str, Any] = r.json()
    assert body["status"] in ("done", "failed"), body
    return body


async def _pages(c: httpx.AsyncClient, csrf: str) -> dict[str, httpx.Response]:
    """Every kind of console page, with data in it, as this session sees it."""
    link = await _scan_link(c, csrf, "hxxps://dichvucong[.]hgov[.]cc/dang-nhap")
    r = await c.post("/v1/message-checks", json={"text": MESSAGE},
                     headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    message = f"/console/scans/{r.json()['check_id']}"
    apk = await _upload(c, csrf, "fake_vneid.apk", (FIXTURES / "fake_vneid.apk").read_bytes())
    failed = await _upload(c, csrf, "notes.txt", b"not an app at all" * 10)
    assert failed["status"] == "failed"
    r = await c.post("/console/lists/entries", data={
        "kind": "domain", "value": "vneid-capnhat.top", "action": "block", "note": "SMS",
        "csrf_token": csrf})
    assert r.status_code in (303, 422)  # 422: the previous role's entry (a duplicate)
    r = await c.post("/v1/feedback", json={"kind": "scam", "target": "hxxps://evil[.]cc/a",
                                           "note": "giả danh công an"},
                     headers={"X-CSRF-Token": csrf})
    assert r.status_code == 202, r.text
    share = await c.post(f"{link}/share", data={"days": "1", "csrf_token": csrf})
    assert share.status_code == 201, share.text
    pages = {path: await c.get(path) for path in (
        "/console/feedback", "/console/feedback?status=resolved", "/console/feedback?done=block",
        f"{link}/shares", f"{link}/shares?done=revoked",
        "/console/", "/console/history", "/console/history?kind=apk&verdict=dangerous&q=zz",
        "/console/lists", "/console/lists?done=added", "/console/lists?refreshed=0&of=0",
        link, message, f"/console/scans/{apk['scan_id']}",
        f"/console/scans/{failed['scan_id']}", "/console/nothing-here",
        "/console/scans/" + "0" * 32)}
    pages["share made"] = share
    pages["empty link"] = await c.post("/console/scans/url", data={"url": "",
                                                                  "csrf_token": csrf})
    pages["bad link"] = await c.post("/console/scans/url", data={"url": "ftp://x.cc/a",
                                                                "csrf_token": csrf})
    pages["empty entry"] = await c.post("/console/lists/entries", data={
        "kind": "domain", "value": "", "csrf_token": csrf})
    pages["bad entry"] = await c.post("/console/lists/entries", data={
        "kind": "apk_sha256", "value": "zz", "csrf_token": csrf})
    pages["no csrf"] = await c.post("/console/lists/entries", data={"kind": "domain",
                                                                   "value": "a.cc"})
    return pages


@slow
async def test_every_page_of_every_role_is_in_vietnamese_by_default(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        assert app.state.services.settings.default_lang == "vi"
        # Signed out: the sign-in page, its errors and notices.
        r = await c.get("/console/sign-in?expired=1")
        assert_vietnamese(r.text, "sign-in")
        assert "Phiên làm việc đã hết hạn" in r.text
        token = _token((await c.get("/console/sign-in")).text)
        for data, status in (({"mode": "key", "api_key": ""}, 422),
                             ({"mode": "key", "api_key": "ss_wrong"}, 401),
                             ({"mode": "key", "api_key": keys["client"]}, 403),
                             ({"mode": "keyless"}, 401)):
            r = await c.post("/console/sign-in", data={"csrf_token": token, **data})
            assert r.status_code == status, data
            assert_vietnamese(r.text, f"sign-in {data}")
            token = _token(r.text)  # each answer is a fresh form
        r = await c.post("/console/sign-in", data={"csrf_token": "forged", "mode": "key"})
        assert r.status_code == 403
        assert_vietnamese(r.text, "sign-in, forged form")
        for role in ("analyst", "admin"):
            c.cookies.clear()
            csrf = await signed_in(c, keys[role])
            pages = await _pages(c, csrf)
            for where, page in pages.items():
                assert page.headers["content-type"].startswith("text/html"), where
                assert_vietnamese(page.text, f"{role} {where}")
            assert pages["/console/nothing-here"].status_code == 404
            assert pages["no csrf"].status_code == 403
            assert "Không quét được tệp này" in pages[next(
                p for p in pages if p.startswith("/console/scans/") and "Mã lỗi" in
                pages[p].text)].text
            r = await c.post("/console/sign-out", data={"csrf_token": csrf})
            assert_vietnamese((await c.get(r.headers["location"])).text, "signed out")


@slow
async def test_keyless_local_use_is_admin_and_vietnamese(tmp_path: Path) -> None:
    async with console(tmp_path, keys=False) as (_, c, _keys):
        r = await c.get("/console/sign-in")
        assert_vietnamese(r.text, "keyless sign-in")
        assert "Tiếp tục không cần khóa" in r.text
        csrf = await signed_in(c, None)
        pages = await _pages(c, csrf)
        for where, page in pages.items():
            assert_vietnamese(page.text, f"keyless {where}")
        lists = pages["/console/lists"].text
        assert "Cập nhật các nguồn ngay" in lists  # the admin's button
        assert "(quản trị)" in lists


@slow
async def test_english_follows_the_query_the_cookie_and_the_setting(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        r = await c.get("/console/history?lang=en")
        assert_english(r.text, "history ?lang=en")
        assert "scamscan_lang=en" in r.headers["set-cookie"]
        link = await _scan_link(c, csrf, "dichvucong.hgov.cc")
        assert_english((await c.get(link)).text, "link report, by the cookie")
        r = await c.post("/console/scans/url", data={"url": "", "csrf_token": csrf})
        assert "Enter a link (or a host) to scan." in r.text
        assert_vietnamese((await c.get("/console/lists?lang=vi")).text, "back to vi")
    async with console(tmp_path / "en", default_lang="en") as (_, c, keys):
        r = await c.get("/console/sign-in")
        assert_english(r.text, "SCAMSCAN_DEFAULT_LANG=en")


@slow
async def test_times_are_utc_time_elements(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        link = await _scan_link(c, csrf, "dichvucong.hgov.cc")
        for path in (link, "/console/history"):
            html = (await c.get(path)).text
            m = re.search(r'<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)" '
                          r'class="local-time">(\d{4}-\d\d-\d\d \d\d:\d\d) UTC</time>', html)
            assert m, path
            assert m.group(1)[:16].replace("T", " ") == m.group(2)


# --- block and rescan ---------------------------------------------------------------------


def _blocked_ids(location: str) -> list[str]:
    m = re.search(r"[?&](?:blocked|listed)=([0-9a-zA-Z_,-]+)", location)
    assert m, location
    return m.group(1).split(",")


@slow
async def test_block_a_link_and_rescan_it(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        link = await _scan_link(c, csrf, "https://shop.hoa-tuoi-xinh.vn/dat-hang")
        page = (await c.get(link)).text
        assert 'id="add-to-blocklist"' in page and 'value="domain"' in page
        assert "hoa-tuoi-xinh[.]vn" in page and 'data-rule="URL-BL-001"' not in page
        first = re.search(r'data-testid="risk-score">(\d+)<', page)
        assert first
        scan_id = link.rsplit("/", 1)[1]
        # No CSRF token, or another site: refused, nothing added.
        r = await c.post(f"{link}/block", data={"target": "domain"})
        assert r.status_code == 403
        r = await c.post(f"{link}/block", data={"target": "domain", "csrf_token": csrf},
                         headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
        assert app.state.services.lists.entries == {}
        r = await c.post(f"{link}/block", data={"target": "domain", "csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"].startswith(link + "?blocked=")
        (entry_id,) = _blocked_ids(r.headers["location"])
        entry = app.state.services.lists.entries[entry_id]
        assert (entry.kind, entry.value, entry.action) == ("domain", "hoa-tuoi-xinh.vn",
                                                           "block")
        assert entry.added_by == "t-analyst" and scan_id in entry.note
        page = (await c.get(r.headers["location"])).text
        assert 'role="status" id="block-notice"' in page
        assert f"entry={entry_id}" in page  # the report links to the entry
        assert 'data-testid="listed"' in page
        assert 'value="domain"' not in page and 'value="host"' in page  # the rest offered
        lists = (await c.get(f"/console/lists?q=hoa-tuoi-xinh.vn&entry={entry_id}")).text
        assert f'data-entry="{entry_id}" class="highlight"' in lists
        # Twice: already listed, not an error.
        r = await c.post(f"{link}/block", data={"target": "domain", "csrf_token": csrf})
        assert r.status_code == 303 and "listed=" in r.headers["location"]
        # Rescan: a new scan of the same link, offline as the first, now blocked.
        r = await c.post(f"{link}/rescan", data={"csrf_token": csrf})
        assert r.status_code == 303
        again = r.headers["location"]
        assert again != link and re.fullmatch(r"/console/scans/[0-9a-f]{32}", again)
        page = (await c.get(again)).text
        second = re.search(r'data-testid="risk-score">(\d+)<', page)
        assert second and int(second.group(1)) > int(first.group(1))
        assert 'data-rule="URL-BL-001"' in page  # the analyst's entry
        assert 'data-rule="URL-NET-000"' not in page  # still offline
        r = await c.post(f"{link}/rescan", data={})
        assert r.status_code == 403  # CSRF
        r = await c.post(f"{link}/rescan", data={"csrf_token": csrf},
                         headers={"Sec-Fetch-Site": "same-site"})
        assert r.status_code == 403
        # A made-up id is a 404 page, not a 500.
        r = await c.post("/console/scans/" + "1" * 32 + "/block",
                         data={"target": "domain", "csrf_token": csrf})
        assert r.status_code == 404 and "Không có lượt quét nào" in r.text
        # Nothing chosen: said so.
        r = await c.post(f"{link}/block", data={"target": "nothing", "csrf_token": csrf})
        assert r.status_code == 422 and "Hãy chọn ít nhất một mục" in r.text


@slow
async def test_a_shared_platform_offers_only_its_host_or_page(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        link = await _scan_link(c, csrf, "https://sites.google.com/view/vneid-capnhat")
        page = (await c.get(link)).text
        assert 'value="domain"' not in page  # google.com may not be blocked whole
        assert 'value="url"' in page


@slow
async def test_block_an_app_and_rescan_it_from_its_sample(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        data = (FIXTURES / "benign_notes.apk").read_bytes()
        job = await _upload(c, csrf, "notes.apk", data)
        report = f"/console/scans/{job['scan_id']}"
        page = (await c.get(report)).text
        assert 'name="target" value="apk_sha256"' in page
        assert f'action="{report}/rescan"' in page
        r = await c.post(f"{report}/block", data={"target": "apk_sha256", "csrf_token": csrf})
        assert r.status_code == 303
        (entry_id,) = _blocked_ids(r.headers["location"])
        entry = app.state.services.lists.entries[entry_id]
        assert (entry.kind, entry.value) == ("apk_sha256", job["sha256"])
        r = await c.post(f"{report}/rescan", data={"csrf_token": csrf})
        assert r.status_code == 303
        new_id = r.headers["location"].rsplit("/", 1)[1]
        assert new_id != job["scan_id"]
        r = await c.get(f"/v1/scans/{new_id}?wait=60")
        assert r.json()["status"] == "done"
        assert r.json()["report"]["verdict"] == "dangerous"  # the list applies
        # Once the sample is gone (retention), the button says why it cannot.
        app.state.services.samples.path_for(job["sha256"]).unlink()
        page = (await c.get(report)).text
        assert 'id="rescan" disabled' in page and "không còn được lưu" in page
        r = await c.post(f"{report}/rescan", data={"csrf_token": csrf})
        assert r.status_code == 410 and "không còn được lưu" in r.text


@slow
async def test_block_the_links_a_message_carries(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        r = await c.post("/v1/message-checks", json={"text": MESSAGE},
                         headers={"X-CSRF-Token": csrf})
        check = f"/console/scans/{r.json()['check_id']}"
        page = (await c.get(check)).text
        boxes = re.findall(r'<input type="checkbox" name="item" value="(\d+)"', page)
        assert len(boxes) == 1
        # Numbers are stored masked: their boxes are disabled, and the page says why.
        assert page.count('type="checkbox" disabled') == 2 and 'id="masked-why"' in page
        r = await c.post(f"{check}/block", data={"csrf_token": csrf})
        assert r.status_code == 422
        r = await c.post(f"{check}/block", data={"item": boxes, "csrf_token": csrf})
        assert r.status_code == 303
        (entry_id,) = _blocked_ids(r.headers["location"])
        entry = app.state.services.lists.entries[entry_id]
        assert (entry.kind, entry.value) == ("host", "dichvucong-gov.com")
        page = (await c.get(r.headers["location"])).text
        assert f"entry={entry_id}" in page
