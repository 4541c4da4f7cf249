"""The console over HTTP (no browser): sessions, cookies, CSRF, expiry, escaping, headers.

httpx against the real app (lifespan entered); the session stores on their own,
the in-memory one with a fake clock and the Redis one against a throw-away
``redis-server``. The browser tests are in ``test_console_e2e.py``.
"""

from __future__ import annotations

import re
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.console import views
from api.console.routes import CSP, templates
from api.problems import PROBLEM_JSON
from api.settings import Settings
from api.storage.sessions import (
    SESSION_COOKIE,
    MemorySessionStore,
    RedisSessionStore,
    session_digest,
)
from scanners import rules
from tests.asgi import CONSOLE_KEYS, keyed_app
from tests.live_servers_age import RedisServer

pytestmark = pytest.mark.anyio


def settings(tmp_path: Path, **kw: Any) -> Settings:
    # These tests read the English pages; the Vietnamese default (and both languages
    # of every page) is tested in test_console_i18n.py.
    kw.setdefault("default_lang", "en")
    return Settings(data_dir=tmp_path / "data", log_level="WARNING", apk_workers=1, **kw)


def console(tmp_path: Path, *, base_url: str = "http://127.0.0.1", keys: bool = True,
            **kw: Any) -> AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient,
                                                            dict[str, str]]]:
    """The app (in English) with keys of each role (unless ``keys=False``), and a
    cookie-keeping client."""
    return keyed_app(settings(tmp_path, **kw), CONSOLE_KEYS if keys else (), base_url=base_url)


def _token(html: str, name: str = "csrf_token") -> str:
    m = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert m, f"no {name} in the page"
    return m.group(1)


def _meta_csrf(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert m, "no CSRF meta in the page"
    return m.group(1)


async def sign_in(c: httpx.AsyncClient, key: str | None, *, next_url: str = "/console/"
                  ) -> httpx.Response:
    form = await c.get("/console/sign-in")
    data = {"csrf_token": _token(form.text), "next": next_url}
    data.update({"mode": "keyless"} if key is None else {"mode": "key", "api_key": key})
    return await c.post("/console/sign-in", data=data)


async def signed_in(c: httpx.AsyncClient, key: str | None) -> str:
    """Sign in; the session's CSRF token."""
    r = await sign_in(c, key)
    assert r.status_code == 303, r.text
    page = await c.get("/console/")
    assert page.status_code == 200
    return _meta_csrf(page.text)


def _set_cookie(r: httpx.Response, name: str) -> str:
    for raw in r.headers.get_list("set-cookie"):
        if raw.startswith(name + "="):
            return raw
    raise AssertionError(f"no Set-Cookie {name} in {r.headers.get_list('set-cookie')}")


# --- sign-in and the cookie ---------------------------------------------------------------


async def test_session_cookie_flags_and_rotation(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        r = await sign_in(c, keys["analyst"])
        assert r.status_code == 303 and r.headers["location"] == "/console/"
        cookie = _set_cookie(r, SESSION_COOKIE)
        flags = {p.strip().lower() for p in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags  # plain http here; see the https test
        first = c.cookies[SESSION_COOKIE]
        assert len(first) >= 43
        # The store keeps the id's digest and the key's hash, never either secret.
        stored = app.state.services.sessions._sessions
        assert session_digest(first) in stored and first not in stored
        assert keys["analyst"] not in repr(stored)
        # A signed-in browser skips the form.
        r = await c.get("/console/sign-in?next=/console/lists")
        assert r.status_code == 303 and r.headers["location"] == "/console/lists"
        # Signing in again (the old cookie sent along) rotates the id and ends the
        # earlier session.
        c.cookies.clear()
        form = await c.get("/console/sign-in")
        jar = f"{SESSION_COOKIE}={first}; scamscan_signin={c.cookies['scamscan_signin']}"
        c.cookies.clear()
        r = await c.post("/console/sign-in", headers={"cookie": jar},
                         data={"csrf_token": _token(form.text), "mode": "key",
                               "api_key": keys["admin"]})
        assert r.status_code == 303
        second = c.cookies[SESSION_COOKIE]
        assert second != first
        assert await app.state.services.sessions.get(first) is None
        page = await c.get("/console/lists")
        assert page.status_code == 200 and "Refresh feeds now" in page.text


async def test_secure_cookie_over_https(tmp_path: Path) -> None:
    async with console(tmp_path, base_url="https://127.0.0.1") as (_, c, keys):
        r = await sign_in(c, keys["analyst"])
        assert "secure" in _set_cookie(r, SESSION_COOKIE).lower()
        assert (await c.get("/console/")).status_code == 200


async def test_sign_in_refusals(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        r = await sign_in(c, keys["client"])
        assert r.status_code == 403
        assert "needs an analyst or admin key" in r.text
        assert SESSION_COOKIE not in c.cookies
        r = await sign_in(c, "ss_wrong")
        assert r.status_code == 401 and "not valid" in r.text
        r = await sign_in(c, None)  # keys exist: no keyless session
        assert r.status_code == 401 and "needs an API key" in r.text
        # The sign-in form's own CSRF token (double submit) is checked.
        await c.get("/console/sign-in")
        r = await c.post("/console/sign-in", data={"api_key": keys["analyst"], "mode": "key"})
        assert r.status_code == 403 and "expired" in r.text
        r = await c.post("/console/sign-in", data={"api_key": keys["analyst"], "mode": "key",
                                                   "csrf_token": "forged"})
        assert r.status_code == 403
        assert SESSION_COOKIE not in c.cookies


async def test_next_is_only_a_console_path(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        for evil in ("https://evil.example/", "//evil.example/console/", "/console/\\evil",
                     "/v1/keys"):
            c.cookies.clear()
            r = await sign_in(c, keys["analyst"], next_url=evil)
            assert r.headers["location"] == "/console/", evil
        c.cookies.clear()
        r = await sign_in(c, keys["analyst"], next_url="/console/history?q=x")
        assert r.headers["location"] == "/console/history?q=x"


async def test_pages_redirect_to_sign_in_and_headers_are_strict(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        r = await c.get("/")
        assert r.status_code == 307 and r.headers["location"] == "/console/"
        r = await c.get("/console/history?q=a")
        assert r.status_code == 303
        assert r.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fhistory%3Fq%3Da"
        # A key in the header alone is no console session either.
        r = await c.get("/console/", headers={"X-API-Key": keys["analyst"]})
        assert r.status_code == 303
        for path in ("/console/sign-in", "/console/static/console.css",
                     "/console/static/submit.js"):
            r = await c.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-security-policy"] == CSP
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"
        assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP
        await signed_in(c, keys["analyst"])
        for path in ("/console/", "/console/history", "/console/lists", "/console/nothing-here",
                     "/console/scans/0123456789abcdef"):
            r = await c.get(path)
            assert r.headers["content-security-policy"] == CSP, path
            assert r.headers["cache-control"] == "no-store", path
            assert r.headers["content-type"].startswith("text/html"), path
            # No inline script or style for the CSP to block.
            assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), path
            assert " style=" not in r.text and "<style" not in r.text, path
        assert (await c.get("/console/nothing-here")).status_code == 404
        assert (await c.get("/console/scans/0123456789abcdef")).status_code == 404


# --- CSRF --------------------------------------------------------------------------------------


async def test_csrf_is_required_for_cookie_writes(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        entry = {"kind": "domain", "value": "csrf-test.top"}
        r = await c.post("/v1/lists/entries", json=entry)
        assert r.status_code == 403
        assert r.headers["content-type"] == PROBLEM_JSON
        assert r.json()["title"] == "CSRF check failed"
        r = await c.post("/v1/lists/entries", json=entry, headers={"X-CSRF-Token": "wrong"})
        assert r.status_code == 403 and "does not match" in r.json()["detail"]
        r = await c.post("/v1/lists/entries", json=entry, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text
        # Reads need no token; the JSON API answers the session's principal.
        r = await c.get("/v1/lists/entries")
        assert r.status_code == 200 and r.json()["total"] == 1
        # An HTML form without the token: a page saying so, nothing done.
        r = await c.post("/console/lists/entries", data={"kind": "domain", "value": "f.top"})
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        assert "CSRF check failed" in r.text
        r = await c.post("/console/lists/entries",
                         data={"kind": "domain", "value": "f.top", "csrf_token": csrf})
        assert r.status_code == 303
        assert (await c.get("/v1/lists/entries")).json()["total"] == 2
        # Sign-out needs the token too.
        r = await c.post("/console/sign-out", data={})
        assert r.status_code == 403
        assert (await c.get("/console/")).status_code == 200


async def test_api_key_header_requests_are_unchanged(tmp_path: Path) -> None:
    """The header path needs no CSRF token (a browser does not add it by itself), and a
    stray cookie does not override the header's key."""
    async with console(tmp_path) as (_, c, keys):
        await signed_in(c, keys["analyst"])
        r = await c.post("/v1/lists/entries", json={"kind": "domain", "value": "h.top"},
                         headers={"X-API-Key": keys["admin"]})
        assert r.status_code == 201 and r.json()["added_by"] == "t-admin"
        r = await c.get("/v1/keys", headers={"X-API-Key": keys["client"]})
        assert r.status_code == 403


# --- expiry, revocation, sign-out -------------------------------------------------------------


async def test_idle_session_expires(tmp_path: Path) -> None:
    async with console(tmp_path, session_idle=0.3) as (app, c, keys):
        clock = app.state.services.sessions.clock = Clock()  # time moves when the test says so
        csrf = await signed_in(c, keys["analyst"])
        clock.now += 0.29
        assert (await c.get("/console/history")).status_code == 200  # still alive
        clock.now += 0.31
        r = await c.post("/v1/lists/entries", json={"kind": "domain", "value": "late.top"},
                         headers={"X-CSRF-Token": csrf})
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM_JSON
        assert r.json()["title"] == "Session expired"
        r = await c.post("/console/lists/entries",
                         data={"kind": "domain", "value": "late.top", "csrf_token": csrf})
        assert r.status_code == 303
        assert r.headers["location"] == "/console/sign-in?next=%2Fconsole%2F&expired=1"
        assert 'scamscan_session=""' in _set_cookie(r, SESSION_COOKIE)
        page = await c.get(r.headers["location"])
        assert "Your session has expired" in page.text
        # Nothing half-done: the entry was not added.
        await signed_in(c, keys["analyst"])
        assert (await c.get("/v1/lists/entries")).json()["total"] == 0


async def test_session_max_age_is_absolute(tmp_path: Path) -> None:
    async with console(tmp_path, session_max_age=1.0) as (app, c, keys):
        clock = app.state.services.sessions.clock = Clock()
        await signed_in(c, keys["analyst"])
        for _ in range(9):  # activity every 0.1 s does not extend it
            assert (await c.get("/console/history")).status_code == 200
            clock.now += 0.1
        clock.now += 0.2
        r = await c.get("/console/history")
        assert r.status_code == 303 and "expired=1" in r.headers["location"]


async def test_revoked_key_ends_its_sessions(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        await signed_in(c, keys["analyst"])
        session_id = c.cookies[SESSION_COOKIE]
        listed = await c.get("/v1/keys", headers={"X-API-Key": keys["admin"]})
        key_id = next(k["id"] for k in listed.json()["keys"] if k["name"] == "t-analyst")
        r = await c.delete(f"/v1/keys/{key_id}", headers={"X-API-Key": keys["admin"]})
        assert r.status_code == 200
        r = await c.get("/v1/lists/sources")
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
        assert await app.state.services.sessions.get(session_id) is None
        c.cookies.set(SESSION_COOKIE, session_id)
        r = await c.get("/console/")
        assert r.status_code == 303 and "sign-in" in r.headers["location"]


async def test_sign_out_deletes_the_server_side_session(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        session_id = c.cookies[SESSION_COOKIE]
        r = await c.post("/console/sign-out", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?signed_out=1"
        assert await app.state.services.sessions.get(session_id) is None
        c.cookies.set(SESSION_COOKIE, session_id)  # a copied cookie is worth nothing now
        r = await c.get("/v1/lists/sources")
        assert r.status_code == 401


async def test_keyless_local_sign_in_follows_the_api(tmp_path: Path) -> None:
    async with console(tmp_path, keys=False) as (app, c, _):
        page = await c.get("/console/sign-in")
        assert "Continue without a key" in page.text
        csrf = await signed_in(c, None)
        assert (await c.get("/console/lists")).status_code == 200
        r = await c.post("/v1/lists/entries", json={"kind": "domain", "value": "kl.top"},
                         headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201 and r.json()["added_by"] == "local"
        # Once a key exists the API refuses keyless requests, and so the session.
        await app.state.services.auth.store.create("first", "admin")
        app.state.services.auth.invalidate()
        r = await c.get("/console/lists")
        assert r.status_code == 303 and "sign-in" in r.headers["location"]
        assert "Continue without a key" not in (await c.get("/console/sign-in")).text


async def test_keyless_is_not_offered_off_loopback(tmp_path: Path) -> None:
    async with console(tmp_path, keys=False, host="0.0.0.0") as (_, c, _k):
        page = await c.get("/console/sign-in")
        assert "Continue without a key" not in page.text
        assert (await sign_in(c, None)).status_code == 401


# --- pages and bad input -------------------------------------------------------------------


async def test_link_scan_page_escapes_the_input(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        evil = "https://evil-login.top/<script>alert(1)</script>?\"onmouseover=x"
        r = await c.post("/console/scans/url", data={"url": evil, "csrf_token": csrf})
        assert r.status_code == 303
        report = await c.get(r.headers["location"] + "?lang=en")
        assert report.status_code == 200
        assert "<script>alert(1)</script>" not in report.text
        assert "&lt;script&gt;" in report.text or "%3Cscript%3E" in report.text
        assert 'href="https://evil-login.top' not in report.text
        assert "hxxps://evil-login[.]top" in report.text
        # The language cookie remembers the choice.
        assert (await c.get("/console/")).text.count('aria-current="true">English') == 1


async def test_empty_and_invalid_forms_say_so(tmp_path: Path) -> None:
    async with console(tmp_path) as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        r = await c.post("/console/scans/url", data={"url": " ", "csrf_token": csrf})
        assert r.status_code == 422 and "Enter a link" in r.text
        r = await c.post("/console/scans/url",
                         data={"url": "javascript:alert(1)", "csrf_token": csrf})
        assert r.status_code == 422 and "cannot be scanned" in r.text
        r = await c.post("/console/lists/entries", data={"kind": "host", "csrf_token": csrf})
        assert r.status_code == 422 and "Enter the value" in r.text
        r = await c.post("/console/lists/entries",
                         data={"kind": "nonsense", "value": "x.top", "csrf_token": csrf})
        assert r.status_code == 422 and "kind" in r.text
        r = await c.post("/console/lists/entries",
                         data={"kind": "apk_sha256", "value": "not-a-hash", "csrf_token": csrf})
        assert r.status_code == 422 and 'role="alert" id="entry-error"' in r.text
        r = await c.post("/console/lists/refresh", data={"csrf_token": csrf})
        assert r.status_code == 403 and "admin" in r.text  # an analyst may not refresh
        for bad in ("/console/history?page=abc&verdict=<b>", "/console/lists?page=-1&kind=zz"):
            r = await c.get(bad)
            assert r.status_code == 200, bad
            assert "<b>" not in r.text


async def test_apk_upload_limits_through_the_cookie(tmp_path: Path) -> None:
    """The console's upload calls the API: too large is a 413 problem, not a page."""
    async with console(tmp_path, max_apk_bytes=1024) as (_, c, keys):
        csrf = await signed_in(c, keys["analyst"])
        files = {"file": ("big.apk", b"PK" + b"\0" * 4096, "application/octet-stream")}
        r = await c.post("/v1/apk-scans", files=files, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM_JSON
        r = await c.post("/v1/apk-scans", files=files)  # no token: refused before reading
        assert r.status_code in (403, 413)
        assert 'data-max-bytes="1024"' in (await c.get("/console/")).text


# --- templates: escaping of report data ----------------------------------------------------


def _render_apk(report: dict[str, Any]) -> str:
    ctx = {"lang": "en", "csrf": "t", "principal": None, "toggle": {"vi": "", "en": ""},
           "csrf_field": "csrf_token", "verdicts": views.VERDICTS,
           "verdict_labels": views.verdict_labels("en"), "scan_id": "abc",
           "r": views.apk_report_view(report, "en"), "exports": None}
    return templates.env.get_template("report_apk.html").render(ctx)


def test_apk_report_escapes_attacker_data() -> None:
    xss = "<script>alert(1)</script>"
    report = {
        "input": f"{xss}.apk", "sha256": "a" * 64, "size": 10, "package": f"com.x{xss}",
        "label": f"Dịch vụ {xss}", "risk_score": 80, "verdict": "dangerous",
        "reasons": [xss], "scanner_version": "t",
        "findings": [{"rule_id": "APK-IMP-003", "points": 50, "severity": "critical",
                      "title": xss, "evidence": {"label": xss, "url": "https://e.vil/x"}}],
        "incomplete": [{"check": xss, "reason": xss}],
        "app": {"permissions": [{"name": xss, "dangerous": True, "allows": xss}],
                "components": [{"kind": "service", "name": xss, "exported": True,
                                "permission": None, "intent_filters": [[xss]]}],
                "accessibility": [{"service": xss, "description": xss}],
                "certificates": [{"subject": xss, "sha256": xss}],
                "urls": [f"https://e.vil/{xss}"],
                "icon": {"media_type": "text/html", "data_base64": "PHNjcmlwdD4="}},
    }
    html = _render_apk(report)
    assert xss not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "data:text/html" not in html  # only image types become an icon
    assert 'href="https://e.vil' not in html and "hxxps://e[.]vil/x" in html


def test_apk_icon_is_an_image_data_uri_only() -> None:
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a"
           "wAAAABJRU5ErkJggg==")
    assert views.icon_src({"media_type": "image/png", "data_base64": png}) == \
        f"data:image/png;base64,{png}"
    assert views.icon_src({"media_type": "image/svg+xml", "data_base64": png}) is None
    assert views.icon_src({"media_type": "image/png", "data_base64": 'x" onerror="y'}) is None
    assert views.icon_src(None) is None
    html = _render_apk({"sha256": "b" * 64, "risk_score": 0, "verdict": "no_known_risk",
                        "app": {"icon": {"media_type": "image/png", "data_base64": png}}})
    assert f'src="data:image/png;base64,{png}"' in html


# --- views -----------------------------------------------------------------------------------


def test_defang_is_idempotent_and_inert() -> None:
    assert views.defang("https://evil.cc/a.b") == "hxxps://evil[.]cc/a.b"
    assert views.defang("hxxps://evil[.]cc/x") == "hxxps://evil[.]cc/x"
    assert views.defang(views.defang("http://1.2.3.4:80/")) == "hxxp://1[.]2[.]3[.]4:80/"
    assert views.defang("evil.cc") == "evil[.]cc"
    items = dict(views.evidence_items({"entry": "evil.cc", "permission": "android.permission.X",
                                       "urls": ["wss://c2.top/ws"], "n": 3, "ok": True,
                                       "nested": {"url": "http://a.b/"}}))
    assert items == {"entry": "evil[.]cc", "permission": "android.permission.X",
                     "urls": "wxss://c2[.]top/ws", "n": "3", "ok": "true",
                     "nested": '{"url": "hxxp://a[.]b/"}'}


def test_titles_and_reasons_follow_the_reader() -> None:
    rule = rules.CATALOGUE["URL-GOV-001"]
    # Reasons are relabelled by the findings' rule ids, not looked up by their titles.
    report = {"verdict": "suspicious", "risk_score": 45, "reasons": [rule.title_vi],
              "findings": [{"rule_id": "URL-GOV-001", "points": 45, "severity": "high",
                            "title": rule.title_vi, "evidence": {}}]}
    assert views.url_report_view(report, "en")["reasons"] == [rule.title_en]
    assert views.url_report_view(report, "vi")["reasons"] == [rule.title_vi]
    kept = {**report, "reasons": ["something else"], "findings": [
        {"rule_id": "NOPE", "points": 45, "title": "kept", "evidence": {}}]}
    assert views.url_report_view(kept, "en")["reasons"] == ["something else"]
    assert views.verdict_label("dangerous", "vi") == "Nguy hiểm"
    assert views.verdict_label("dangerous", "en") == "Dangerous"
    assert views.verdict_label("odd", "en") == "odd"
    assert views.verdict_labels("en")["no_known_risk"] == "No known risk"
    assert views.finding_title({"rule_id": "URL-GOV-001", "title": "x"}, "en") == rule.title_en
    assert views.finding_title({"rule_id": "NOPE", "title": "kept"}, "vi") == "kept"
    assert views.bilingual("đọc tin nhắn / read SMS", "en") == "read SMS"
    assert views.bilingual("đọc tin nhắn / read SMS", "vi") == "đọc tin nhắn"


# --- session stores ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_sessions_expire_and_are_bounded() -> None:
    clock = Clock()
    store = MemorySessionStore(idle=10, max_age=25, max_sessions=3, clock=clock)
    sid, session = await store.create("h")
    assert session.key_hash == "h" and len(session.csrf) >= 43
    clock.now += 9
    assert await store.get(sid) is not None  # and last-seen moves on
    clock.now += 9
    assert await store.get(sid) is not None
    clock.now += 8  # 26 s after sign-in: past the absolute bound
    assert await store.get(sid) is None
    sid, _ = await store.create(None)
    clock.now += 11
    assert await store.get(sid) is None  # idle
    ids = [(await store.create("h"))[0] for _ in range(5)]
    assert len(store) == 3  # the least recently used went first
    assert await store.get(ids[0]) is None and await store.get(ids[-1]) is not None
    await store.delete(ids[-1])
    assert await store.get(ids[-1]) is None
    assert await store.get("x" * 500) is None


async def test_redis_sessions(redis_server: RedisServer, tmp_path: Path) -> None:
    clock = Clock()
    store = RedisSessionStore(redis_server.url, idle=100, max_age=1000, clock=clock)
    try:
        sid, session = await store.create("h")
        got = await store.get(sid)
        assert got == session
        raw = await store._redis.get(store.prefix + session_digest(sid))
        assert raw is not None and sid.encode() not in raw
        ttl = await store._redis.pttl(store.prefix + session_digest(sid))
        assert 90_000 < ttl <= 100_000  # Redis forgets it by itself
        clock.now += 50  # past a tenth of the idle time: last-seen is written
        got = await store.get(sid)
        assert got is not None and got.last_seen == clock.now
        clock.now += 101
        assert await store.get(sid) is None
        sid, _ = await store.create(None)
        await store.delete(sid)
        assert await store.get(sid) is None
    finally:
        await store.aclose()


async def test_console_with_redis_sessions(redis_server: RedisServer, tmp_path: Path) -> None:
    async with console(tmp_path, redis_url=redis_server.url) as (app, c, keys):
        assert isinstance(app.state.services.sessions, RedisSessionStore)
        csrf = await signed_in(c, keys["analyst"])
        r = await c.post("/v1/lists/entries", json={"kind": "domain", "value": "r.top"},
                         headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text


# --- live-shaped link report, contrast ---------------------------------------------------------


REASONS = ("URL-DL-001", "URL-AGE-001", "URL-PAGE-002")


def test_live_link_report_shows_chain_age_page_signals_and_apks() -> None:
    report = {
        "scan_id": "f" * 32, "input": "bit.ly/x", "url": "https://bit.ly/x", "host": "bit.ly",
        "host_unicode": "bit.ly", "registrable_domain": "bit.ly", "risk_score": 100,
        "verdict": "dangerous", "reasons": [rules.CATALOGUE[r].title_vi for r in REASONS],
        "incomplete": [],
        "findings": [
            # in the order a report lists them: counted worst first, then 0 points
            {"rule_id": "URL-DL-001", "points": 50, "severity": "high", "title": "t",
             "evidence": {"url": "https://vneid-xacthuc.top/vneid.apk",
                          "sample": {"sha256": "c" * 64, "size": 100, "complete": True},
                          "apk_scan": {"scan_id": "d" * 32, "status_url": "/v1/scans/x"}}},
            {"rule_id": "URL-AGE-001", "points": 45, "severity": "high", "title": "t",
             "evidence": {"domain": "vneid-xacthuc.top", "registered": "2026-11-28",
                          "age_days": 2, "source": "rdap", "server": "x"}},
            {"rule_id": "URL-PAGE-002", "points": 35, "severity": "high", "title": "t",
             "evidence": {"url": "https://vneid-xacthuc.top/app", "asks_for": ["otp"]}},
            {"rule_id": "URL-NET-000", "points": 0, "severity": "info", "title": "t",
             "evidence": {"chain": [
                 {"url": "https://bit.ly/x", "via": None, "status": 301, "ip": "1.2.3.4",
                  "shortener": True},
                 {"url": "https://vneid-xacthuc.top/app", "via": "http", "status": 200,
                  "ip": "5.6.7.8"}], "final_url": "https://vneid-xacthuc.top/app"}},
        ],
    }
    view = views.url_report_view(report, "en")
    assert [h["url"] for h in view["chain"]] == ["hxxps://bit[.]ly/x",
                                                  "hxxps://vneid-xacthuc[.]top/app"]
    assert view["domain_age"]["state"] == "young" and view["domain_age"]["age_days"] == 2
    assert view["reasons"] == [rules.CATALOGUE[r].title_en for r in REASONS]
    ctx = {"lang": "en", "csrf": "t", "principal": None, "toggle": {"vi": "", "en": ""},
           "csrf_field": "csrf_token", "verdicts": views.VERDICTS,
           "verdict_labels": views.verdict_labels("en"), "r": view,
           "exports": {"json": "/j", "stix": "/s"}}
    html = templates.env.get_template("report_url.html").render(ctx)
    assert "registered 2026-11-28 (2 days before the scan; rdap)" in html
    assert "hxxps://vneid-xacthuc[.]top/vneid[.]apk" not in html  # the path's dots stay
    assert "hxxps://vneid-xacthuc[.]top/vneid.apk" in html
    assert f'href="/console/scans/{"d" * 32}"' in html
    assert "shortener" in html and "URL-PAGE-002" in html
    assert 'href="https://' not in html


def _contrast(a: str, b: str) -> float:
    def lum(h: str) -> float:
        r, g, bl = (int(h[i:i + 2], 16) / 255 for i in (1, 3, 5))

        def f(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else float(((c + 0.055) / 1.055) ** 2.4)

        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(bl)

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_have_a_contrast_of_at_least_4_5() -> None:
    css = (Path(views.__file__).parent / "static" / "console.css").read_text(encoding="utf-8")
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [(var["fg"], var["bg"]), (var["muted"], var["bg"]), (var["muted"], var["panel"]),
             (var["link"], var["bg"]), ("#ffffff", "#10294d"), ("#ffffff", var["danger"]),
             ("#1a1a1a", var["warn-bg"]), ("#ffffff", var["ok"]), ("#ffffff", var["official"]),
             (var["bad"], "#fdecec"), ("#7a4b00", "#ffffff"), (var["muted"], "#fdecec")]
    for fg, bg in pairs:
        assert _contrast(fg, bg) >= 4.5, (fg, bg)


# --- paging (history and feedback pages) ---------------------------------------------------


def test_paging_gives_the_pager_its_pages_and_neighbours() -> None:
    def url(n: int) -> str:
        return f"/console/history?page={n}"

    assert views.paging(2, 51, 25, url) == {
        "page": 2, "pages": 3, "prev_url": url(1), "next_url": url(3)}
    assert views.paging(1, 0, 25, url) == {
        "page": 1, "pages": 1, "prev_url": None, "next_url": None}
    assert views.paging(3, 75, 25, url)["next_url"] is None


def test_the_pager_macro_links_both_neighbours_in_the_page_language() -> None:
    source = ('{% from "_macros.html" import pager with context %}'
              '{{ pager("Pages", page, pages, prev_url, next_url) }}')
    for lang, label in (("en", "Page 2 of 3"), ("vi", "Trang 2/3")):
        html = templates.env.from_string(source).render(
            lang=lang, **views.paging(2, 60, 25, lambda n: f"/x?page={n}"))
        assert '<nav class="pager" aria-label="Pages">' in html
        assert '<a href="/x?page=1" rel="prev">' in html
        assert '<a href="/x?page=3" rel="next">' in html
        assert label in html
    alone = templates.env.from_string(source).render(
        lang="en", **views.paging(1, 3, 25, lambda n: f"/x?page={n}"))
    assert "pager" not in alone
