"""Hostile input against the newer features (feeds, the CLI's --server, share links,
console actions): each test here failed before its fix.

Real parts: the real app over its ASGI lifespan, feed and hostile API servers on
127.0.0.1, the real ``scamscan`` in a subprocess.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from api import cli_remote
from tests.test_cli_server import cli
from tests.test_lists import Api, FeedServer, keys_for, running, settings

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a terminal obeys rather than shows (newline and tab aside)."""

pytestmark = pytest.mark.anyio
__all__ = ["Api"]


# --- feeds: a hostile or careless feed never makes an official domain dangerous -------


async def test_a_feed_listing_official_domains_does_not_make_them_dangerous(
        tmp_path: Path, feeds: FeedServer) -> None:
    s = settings(tmp_path)
    keys = await keys_for(s)
    feeds.routes["/hosts.txt"] = (200, b"gov.vn\ncom.vn\nvietcombank.com.vn\n"
                                  b"dichvucong.gov.vn\nchinhphu.vn\nwww.mbbank.com.vn\n"
                                  b"abc.xyz.gov.vn\nfeed-bad.example.net\n", 0)
    async with running(s, keys) as api:
        r = await api.call("POST", "/v1/lists/feeds", "admin", json={
            "name": "hostile", "url": feeds.url + "/hosts.txt", "format": "hosts"})
        assert r.status_code == 201, r.text
        feeds.routes["/urls.json"] = (200, b'["https://vietcombank.com.vn/login", '
                                      b'"https://dichvucong.gov.vn/p/home", '
                                      b'"https://feed-bad.example.org/login"]', 0)
        r = await api.call("POST", "/v1/lists/feeds", "admin", json={
            "name": "hostile-urls", "url": feeds.url + "/urls.json", "format": "json"})
        assert r.status_code == 201, r.text
        r = await api.call("POST", "/v1/lists/refresh", "admin")
        assert all(res["ok"] for res in r.json()["results"]), r.json()
        assert await api.bl_hits("https://feed-bad.example.org/login")
        assert await api.bl_hits("https://a.feed-bad.example.net/")  # the feed is in use
        for url in ("https://vietcombank.com.vn/", "https://www.vietcombank.com.vn/login",
                    "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html",
                    "https://vietcombank.com.vn/login", "https://dichvucong.gov.vn/p/home",
                    "https://chinhphu.vn/", "https://mbbank.com.vn/",
                    "https://abc.xyz.gov.vn/"):
            r = await api.call("POST", "/v1/url-scans", "client", json={"url": url})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["verdict"] == "official", (url, body["verdict"], body["reasons"])
            assert not [f for f in body["findings"] if f["rule_id"] == "URL-BL-001"], url


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


# --- scamscan --server: a hostile server's answer ------------------------------------


class HostileApi:
    """A fake scamscan API on 127.0.0.1 that answers every POST with ``answer``:
    ``(status, content type, body)``, or a body of ``size`` bytes of JSON padding."""

    def __init__(self) -> None:
        self.answer: tuple[int, str, bytes] = (200, "application/json", b"{}")
        holder = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                status, ctype, body = holder.answer
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                with suppress(OSError):
                    self.wfile.write(body)

            do_POST = do_GET = _reply

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile() -> Iterator[HostileApi]:
    server = HostileApi()
    yield server
    server.close()


ESC = "\x1b]0;owned\x07\x1b[2J\x1b[31m\u202e"


def _link_report(**over: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "input": "a.example", "url": "https://a.example/" + ESC, "verdict": "dangerous",
        "risk_score": 90, "reasons": ["r" + ESC], "incomplete": [
            {"check": "fetch", "reason": "x" + ESC}],
        "findings": [{"rule_id": "URL-BL-001", "points": 90, "title": "t" + ESC,
                      "severity": "critical", "evidence": {"title": ESC}}]}
    return {**report, **over}


def test_cli_never_prints_a_servers_terminal_escapes(hostile: HostileApi) -> None:
    hostile.answer = (403, "application/problem+json", json.dumps(
        {"type": "about:blank", "title": "No" + ESC, "status": 403,
         "detail": "d" + ESC}).encode())
    r = cli("url", "--server", hostile.url, "a.example")
    assert r.returncode == 1 and "the server answered 403" in r.stderr
    assert not CONTROL.search(r.stderr + r.stdout), r.stderr
    assert "\\x1b" in r.stderr  # shown, not obeyed

    hostile.answer = (200, "application/json", json.dumps(
        {"results": [_link_report()]}).encode())
    r = cli("url", "--server", hostile.url, "a.example")
    assert r.returncode == 0, r.stderr
    assert "URL-BL-001" in r.stdout and not CONTROL.search(r.stdout), r.stdout


@pytest.mark.parametrize("results", [
    ["not a report"],
    [{"verdict": "dangerous"}],
    [_link_report(findings=[{"rule_id": "X"}])],
    [_link_report(risk_score="lots", verdict="evil")],
])
def test_cli_a_malformed_server_answer_is_an_error_not_a_traceback(
        hostile: HostileApi, results: list[Any]) -> None:
    hostile.answer = (200, "application/json", json.dumps({"results": results}).encode())
    r = cli("url", "--server", hostile.url, "a.example")
    assert r.returncode == 1, (r.returncode, r.stdout)
    assert "Traceback" not in r.stderr, r.stderr
    assert "not what scamscan expects" in r.stderr, r.stderr


def test_cli_a_huge_server_answer_is_refused_in_bounded_memory(hostile: HostileApi) -> None:
    pad = b" " * (cli_remote.MAX_ANSWER_BYTES + 1)
    hostile.answer = (200, "application/json", b'{"results": [' + pad + b"]}")
    r = cli("url", "--server", hostile.url, "a.example")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "more than" in r.stderr, r.stderr


def test_cli_help_recommends_the_key_in_the_environment() -> None:
    r = cli("url", "--help")
    assert r.returncode == 0
    flat = " ".join(r.stdout.split())
    assert "SCAMSCAN_KEY" in flat and "ps" in flat, flat


def test_cli_a_hostile_message_check_answer_is_shown_safely(hostile: HostileApi) -> None:
    hostile.answer = (200, "application/json", json.dumps({
        **_link_report(), "reply": "reply" + ESC, "scam_type": ESC,
        "items": [{"kind": "link", "input": ESC}, {"kind": ESC}, "junk"],
        "script_signals": [{"text": ESC}]}).encode())
    r = cli("message", "--server", hostile.url, "xin chào")
    assert "Traceback" not in r.stderr, r.stderr
    assert not CONTROL.search(r.stdout + r.stderr), r.stdout
    assert r.returncode == 1 and "not what scamscan expects" in r.stderr  # "junk" item
    hostile.answer = (200, "application/json", json.dumps({
        **_link_report(), "reply": "reply" + ESC, "scam_type": ESC,
        "items": [{"kind": "link", "input": ESC}, {"kind": ESC}],
        "script_signals": [{"text": ESC}]}).encode())
    r = cli("message", "--server", hostile.url, "xin chào")
    assert r.returncode == 0 and "reply" in r.stdout, r.stderr
    assert not CONTROL.search(r.stdout + r.stderr), r.stdout


def test_cli_a_slow_drip_answer_is_cut_at_the_timeout() -> None:
    """A server that sends one byte at a time, forever, never holds the CLI: each
    byte comes well within the read timeout, the whole answer does not."""
    stop = threading.Event()

    class Drip(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            with suppress(OSError):
                self.wfile.write(b'{"results": [')
                while not stop.wait(0.05):
                    self.wfile.write(b" ")
                    self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    remote = cli_remote.Remote(f"http://127.0.0.1:{httpd.server_address[1]}", None,
                               timeout=1.0)
    try:
        with pytest.raises(cli_remote.RemoteError, match="took more than 1 s"):
            list(remote.scan_urls(["a.example"], offline=True, lang="en"))
    finally:
        stop.set()
        remote.close()
        httpd.shutdown()
        httpd.server_close()


# --- share links: the link's origin never comes from an untrusted Host ---------------


async def test_a_share_link_never_points_at_the_requests_host(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Without SCAMSCAN_PUBLIC_BASE_URL, a Host that is not this machine's (a poisoned
    or proxied one, or an internal name) does not become the origin of a public link:
    a clear problem names the setting, and no link is made. A loopback Host (local use)
    still works, and the setting always wins."""
    from tests.test_shares import _link_scan, api

    async with api(tmp_path, "sqlite", request) as (app, c, h):
        scan_id = await _link_scan(c, h["client"])
        for host in ("evil.example", "attacker.example:8000", "10.0.0.5:8000",
                     "a@evil.example"):
            r = await c.post(f"/v1/scans/{scan_id}/share",
                             headers={**h["client"], "host": host})
            assert r.status_code == 503, (host, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "SCAMSCAN_PUBLIC_BASE_URL" in r.json()["detail"]
            assert "evil" not in r.text
        assert await app.state.services.shares.for_scan(scan_id) == []
        r = await c.post(f"/v1/scans/{scan_id}/share", headers={**h["client"],
                                                                "host": "localhost:8000"})
        assert r.status_code == 201 and r.json()["url"].startswith("http://localhost:8000/s/")
    async with api(tmp_path / "b", "sqlite", request,
                   public_base_url="https://scamscan.example") as (_, c, h):
        scan_id = await _link_scan(c, h["client"])
        r = await c.post(f"/v1/scans/{scan_id}/share",
                         headers={**h["client"], "host": "evil.example"})
        assert r.status_code == 201 and r.json()["url"].startswith(
            "https://scamscan.example/s/"), r.text


# --- one click never blocks the real bank or ministry --------------------------------


async def test_feedback_cannot_get_an_official_domain_blocked_in_one_click(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A client reports the real bank's page as a scam; the analyst working through the
    queue clicks Block. Only that page is listed (as for a shared platform), never the
    bank's whole domain; a bare official host cannot be blocked at all (422)."""
    from tests.test_feedback import api

    async with api(tmp_path, "sqlite", request) as (app, c, h):
        ids = []
        for target in ("https://vietcombank.com.vn/khuyen-mai/qua-tang",
                       "https://dichvucong.gov.vn/", "https://www.chinhphu.vn/x"):
            r = await c.post("/v1/feedback", json={"kind": "scam", "target": target},
                             headers=h["client"])
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        r = await c.post(f"/v1/feedback/{ids[0]}/resolve", json={"action": "block"},
                         headers=h["analyst"])
        assert r.status_code == 200, r.text
        assert [(e.kind, e.value) for e in app.state.services.lists.entries.values()] == [
            ("url", "https://vietcombank.com.vn/khuyen-mai/qua-tang")]
        r = await c.post(f"/v1/feedback/{ids[1]}/resolve", json={"action": "block"},
                         headers=h["analyst"])
        assert r.status_code == 422 and "official" in r.json()["detail"], r.text
        r = await c.post(f"/v1/feedback/{ids[2]}/resolve", json={"action": "block"},
                         headers=h["analyst"])
        assert r.status_code == 200, r.text
        for url in ("https://vietcombank.com.vn/", "https://dichvucong.gov.vn/",
                    "https://chinhphu.vn/"):
            r = await c.post("/v1/url-scans", json={"url": url}, headers=h["client"])
            assert r.json()["verdict"] == "official", (url, r.json()["reasons"])
        # the lists API refuses the whole domain or host too, and takes the page
        for kind, value in (("domain", "vietcombank.com.vn"), ("host", "www.vietcombank.com.vn"),
                            ("domain", "dichvucong.gov.vn"), ("host", "abc.xyz.gov.vn")):
            r = await c.post("/v1/lists/entries", headers=h["analyst"], json={
                "kind": kind, "value": value, "action": "block"})
            assert r.status_code == 422 and "official" in r.json()["detail"], (value, r.text)
        r = await c.post("/v1/lists/entries", headers=h["analyst"], json={
            "kind": "host", "value": "vietcombank.com.vn", "action": "allow"})
        assert r.status_code == 201, r.text


def test_a_report_of_an_official_page_offers_only_that_page_to_block() -> None:
    from api.console.actions import url_targets

    report = {"registrable_domain": "vietcombank.com.vn", "host": "www.vietcombank.com.vn",
              "url": "https://www.vietcombank.com.vn/khuyen-mai"}
    assert [(t.kind, t.value) for t in url_targets(report, str)] == [
        ("url", "https://www.vietcombank.com.vn/khuyen-mai")]


# --- share links: storage bounded per key -------------------------------------------


@pytest.mark.parametrize("mode", [pytest.param("sqlite", id="sqlite"),
                                  pytest.param("redis", id="redis", marks=pytest.mark.redis)])
async def test_live_share_links_are_bounded_per_key(
        tmp_path: Path, mode: str, request: pytest.FixtureRequest) -> None:
    """Twenty links per scan times a new scan each minute, living 90 days, would fill
    the store (Redis runs with noeviction: every write then fails); a key holds at most
    SCAMSCAN_SHARE_MAX_PER_KEY live links, another key is not affected, and revoking
    one frees its place."""
    from tests.test_shares import _link_scan, _token, api

    async with api(tmp_path, mode, request, share_max_per_key=3) as (_, c, h):
        made = []
        for i in range(3):
            scan_id = await _link_scan(c, h["client"], f"https://a{i}.example/x")
            r = await c.post(f"/v1/scans/{scan_id}/share", headers=h["client"])
            assert r.status_code == 201, r.text
            made.append(r.json())
        scan_id = await _link_scan(c, h["client"], "https://a9.example/x")
        r = await c.post(f"/v1/scans/{scan_id}/share", headers=h["client"])
        assert r.status_code == 429, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "SCAMSCAN_SHARE_MAX_PER_KEY" in r.json()["detail"]
        other = await _link_scan(c, h["client2"])
        assert (await c.post(f"/v1/scans/{other}/share",
                             headers=h["client2"])).status_code == 201
        r = await c.delete(f"/v1/shares/{_token(made[0]['url'])}", headers=h["client"])
        assert r.status_code == 204
        r = await c.post(f"/v1/scans/{scan_id}/share", headers=h["client"])
        assert r.status_code == 201, r.text


# --- pages: text from a report cannot reorder what is shown around it --------------


def test_pages_show_bidi_controls_instead_of_obeying_them() -> None:
    """An app label (or page title, or message) with a right-to-left override shows
    ``Vietcombank‮kpa.exe`` as "Vietcombankexe.apk"; every page the console and the
    public share page render shows the control as a visible mark instead."""
    from markupsafe import Markup

    from api.console.templating import templates

    page = templates.env.from_string(
        "<p>{{ label }}</p><p>{{ n }}</p><p>{{ none }}</p><p>{{ m }}</p>").render(
        label="Vietcombank\u202ekpa.exe<b>", n=3, none=None,
        m=Markup("<i>ok</i>\u2067x"))
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", page), repr(page)
    assert "Vietcombank[U+202E]kpa.exe&lt;b&gt;" in page
    assert "<p>3</p>" in page and "<p>None</p>" in page
    assert "<i>ok</i>[U+2067]x" in page
