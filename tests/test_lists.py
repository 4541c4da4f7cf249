"""List management (api.services.lists, scanners.lists): analyst entries, feeds, generations.

The real app through httpx's ASGI transport with its lifespan entered, real
SQLite files in tmp_path, a real ``redis-server`` for the Redis variant, feeds
served by a real loopback HTTP server (stdlib ``ThreadingHTTPServer`` in a
thread), the real process pool for APK scans. No mocks, no internet.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import blocklists
from api.main import create_app
from api.problems import PROBLEM_JSON
from api.services.lists import ListService
from api.settings import Settings
from api.storage.factory import open_key_store
from scanners.apk_facts import extract_facts
from scanners.lists import (
    DynamicLists,
    EntryError,
    FeedData,
    FeedError,
    build_view,
    normalize_entry,
    parse_feed,
)
from tests.live_servers_age import RedisServer

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures" / "apk"
APK_TYPE = "application/vnd.android.package-archive"
LOCAL = ("127.0.0.1", 50000)
ENTRIES = "/v1/lists/entries"



# --- feed parsing (pure) -------------------------------------------------------------


def test_hosts_format() -> None:
    d = parse_feed(b"# comment\nevil-one.example.com\n  EVIL-TWO.example.org.  # trailing\n"
                   b"not a host\n\nfacebook.com\nlocalhost\n", "hosts")
    assert d.domains == {"evil-one.example.com", "evil-two.example.org"}
    assert d.skipped == 2  # "not a host" and "localhost"; facebook.com is never a host entry
    h = parse_feed(b"evil-one.example.com\n", "hosts", "host")
    assert h.hosts == {"evil-one.example.com"} and not h.domains


def test_hostsfile_format() -> None:
    d = parse_feed(b"127.0.0.1 localhost\n::1 ip6-localhost\n0.0.0.0 a.evil.vn b.evil.vn\n"
                   b"127.0.0.1 c.evil.vn # x\nd.evil.vn\n", "hostsfile")
    assert d.domains == {"a.evil.vn", "b.evil.vn", "c.evil.vn"}
    assert d.skipped == 1  # the line without an address


def test_adblock_format() -> None:
    d = parse_feed(b"[Adblock Plus 2.0]\n! comment\n||ads.evil.vn^\n@@||good.vn^\n"
                   b"||evil.vn/path^\n##.banner\n||tracker.evil.vn^$third-party\n", "adblock")
    assert d.domains == {"ads.evil.vn"}
    assert d.skipped == 4


def test_csv_format() -> None:
    d = parse_feed(b"id,URL,note\n1,https://phish.evil.vn/login?x=1,a\n2,http://whole.evil.vn/,b\n"
                   b"3,,c\n4,not a url at all,d\n", "csv")
    assert d.urls == {"https://phish.evil.vn/login?x=1"}
    assert d.domains == {"whole.evil.vn"}
    assert d.skipped == 2
    with pytest.raises(FeedError, match="url"):
        parse_feed(b"id,host\n1,a.vn\n", "csv")


def test_json_format() -> None:
    d = parse_feed(b'["a.evil.vn", "https://b.evil.vn/x", {"domain": "c.evil.vn"},'
                   b' {"host": "d.evil.vn"}, {"url": "http://e.evil.vn/"}, 42, {"other": 1}]',
                   "json", "host")
    assert d.hosts == {"a.evil.vn", "d.evil.vn", "e.evil.vn"}
    assert d.domains == {"c.evil.vn"}
    assert d.urls == {"https://b.evil.vn/x"}
    assert d.skipped == 2
    assert parse_feed(b'{"entries": ["x.evil.vn"]}', "json").domains == {"x.evil.vn"}
    for bad in (b"{not json", b'{"a": 1}', b"[1, 2]"):
        with pytest.raises(FeedError):
            parse_feed(bad, "json")


def test_parse_bounds_and_garbage() -> None:
    with pytest.raises(FeedError, match="limit"):
        parse_feed(b"a.evil.vn\n" * 100, "hosts", max_bytes=500)
    with pytest.raises(FeedError, match="lines"):
        parse_feed(b"a.evil.vn\n" * 100, "hosts", max_lines=50)
    with pytest.raises(FeedError, match="no valid entry"):
        parse_feed(b"<html><body>Service unavailable</body></html>\n", "hosts")
    with pytest.raises(FeedError, match="UTF-8"):
        parse_feed(b"\xff\xfe\x00garbage", "hosts")
    with pytest.raises(FeedError):
        parse_feed(b"", "hosts")


def test_entry_normalisation() -> None:
    assert normalize_entry("host", "HTTPS://Evil[.]Example.COM") == ("evil.example.com", "")
    assert normalize_entry("domain", "xn--vit-nam-9za.vn")[0] == "xn--vit-nam-9za.vn"
    assert normalize_entry("url", "hxxps://evil.vn/a b")[0].startswith("https://evil.vn/a")
    sha = "AB" * 32
    assert normalize_entry("apk_sha256", sha) == (sha.lower(), "")
    assert normalize_entry("signer", ":".join(["AB"] * 32)) == ("ab" * 32, "")
    assert normalize_entry("official_signer", sha, "allow", "com.vnid") == (sha.lower(),
                                                                           "com.vnid")
    for kind, value, action, package in [
        ("host", "evil.vn/path", "block", None), ("domain", "com", "block", None),
        ("domain", "facebook.com", "block", None), ("url", "evil.vn", "block", None),
        ("apk_sha256", "abc", "block", None), ("package", "not a package", "block", None),
        ("package", "nodots", "block", None), ("official_signer", sha, "allow", None),
        ("official_signer", sha, "block", "com.vnid"), ("host", "evil.vn", "maybe", None),
        ("nope", "x", "block", None), ("host", "evil.vn", "block", "com.x"),
    ]:
        with pytest.raises(EntryError):
            normalize_entry(kind, value, action, package)


# --- generations (pure) ------------------------------------------------------------------


@pytest.mark.slow
def test_generations_swap_atomically_under_concurrent_readers() -> None:
    bundled = blocklists.BlocklistIndex({})
    n = 60_000
    old = FeedData(domains=frozenset(f"old{i}.feed.vn" for i in range(n)))
    new = FeedData(domains=frozenset(f"new{i}.feed.vn" for i in range(n + 1)))
    lists = DynamicLists(bundled)
    lists.swap(build_view(bundled, [], {"big": old}, generations={"big": 1}))
    stop = threading.Event()
    seen: set[tuple[int, int, bool, bool]] = set()
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            view = lists.view  # one reference: all of one generation
            gen, count = view.generations["big"], view.feed_counts["big"]
            first_old = bool(view.lookup("old0.feed.vn", "feed.vn"))
            last_new = bool(view.lookup(f"new{n}.feed.vn", "feed.vn"))
            seen.add((gen, count, first_old, last_new))
            # through the ListLookup itself: one call reads one generation
            hits = lists.lookup("old7.feed.vn", "feed.vn")
            if hits and hits[0].entry != "old7.feed.vn":
                errors.append(f"saw {hits}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    # a refresh: build the new generation while readers run, then swap
    lists.swap(build_view(bundled, [], {"big": new}, generations={"big": 2}))
    time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert seen <= {(1, n, True, False), (2, n + 1, False, True)}
    assert (2, n + 1, False, True) in seen
    hit = lists.lookup("sub.new5.feed.vn", "feed.vn")
    assert [(h.source, h.entry, h.match) for h in hit] == [("feed: big", "new5.feed.vn",
                                                            "domain")]


# --- a feed server -------------------------------------------------------------------------


class FeedServer:
    """Serves ``routes[path] = (status, body, delay)`` on a loopback port."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.redirects: dict[str, str] = {}
        """path -> Location of a 302 answer."""
        self.seen: list[str] = []
        """Paths asked for, in order (to prove a refused feed got no request)."""
        routes, redirects, seen = self.routes, self.redirects, self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                status, body, delay = routes.get(self.path, (404, b"not found", 0.0))
                if delay:
                    time.sleep(delay)
                if self.path in redirects:
                    status, body = 302, b""
                self.send_response(status)
                if self.path in redirects:
                    self.send_header("location", redirects[self.path])
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                with suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


# --- the app -------------------------------------------------------------------------------


def settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": 8000, "log_level": "INFO", "redis_url": None,
        "data_dir": data_dir, "require_keys": True, "apk_workers": 1,
        "max_apk_bytes": 4 * 1024 * 1024, "apk_job_timeout": 60.0,
        "rate_limit_client": "1000/minute", "rate_limit_analyst": "1000/minute",
        "rate_limit_admin": "1000/minute", "rate_limit_keyless": "1000/minute",
        "lists_sync_interval": 0.1, "feed_timeout": 2.0, "feed_max_bytes": 100_000,
        "feeds": "", "feeds_refresh_hours": 0,  # refreshes only when a test asks
        # The feed server is on loopback: feeds go through the live fetch's guard.
        "fetch_allow_networks": "127.0.0.1/32",
    }
    values.update(overrides)
    return Settings(**values)


async def make_key(s: Settings, role: str, name: str) -> str:
    store = open_key_store(s.data_dir, s.redis_url)
    try:
        _, secret = await store.create(name, role)
    finally:
        await store.close()
    return secret


class Api:
    def __init__(self, app: FastAPI, keys: dict[str, str]) -> None:
        self.app = app
        self.keys = keys

    def client(self, role: str = "analyst") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=LOCAL)
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                 headers={"X-API-Key": self.keys[role]}, timeout=90)

    async def call(self, method: str, path: str, role: str = "analyst",
                   **kw: Any) -> httpx.Response:
        async with self.client(role) as c:
            return await c.request(method, path, **kw)

    async def add(self, role: str = "analyst", **body: Any) -> httpx.Response:
        return await self.call("POST", ENTRIES, role, json=body)

    async def bl_hits(self, url: str) -> list[dict[str, Any]]:
        r = await self.call("POST", "/v1/url-scans", "client", json={"url": url})
        assert r.status_code == 200, r.text
        return [f["evidence"] for f in r.json()["findings"] if f["rule_id"] == "URL-BL-001"]

    @property
    def lists(self) -> ListService:
        service: ListService = self.app.state.services.lists
        return service


async def keys_for(s: Settings) -> dict[str, str]:
    return {role: await make_key(s, role, f"{role}-key") for role in ("client", "analyst",
                                                                      "admin")}


@asynccontextmanager
async def running(s: Settings, keys: dict[str, str]) -> AsyncIterator[Api]:
    app = create_app(s)
    async with app.router.lifespan_context(app):
        yield Api(app, keys)


def assert_problem(r: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"]
    for w in words:
        assert w.lower() in body["detail"].lower(), body["detail"]
    return body


def bundled_domain() -> str:
    """A domain of the bundled hostsVN list (so a URL scan of it has a bundled hit)."""
    for line in (blocklists.data_dir() / "hostsvn_threat_vn.txt").read_text().splitlines():
        s = line.strip()
        if s and not s.startswith("#") and not blocklists.never_host_match(s):
            return s
    raise AssertionError("no bundled entry")


async def test_roles_and_entries(tmp_path: Path) -> None:
    s = settings(tmp_path)
    keys = await keys_for(s)
    async with running(s, keys) as api:
        for method, path in [("GET", "/v1/lists/sources"), ("GET", ENTRIES),
                             ("POST", ENTRIES), ("DELETE", ENTRIES + "/le_x"),
                             ("POST", "/v1/lists/feeds"), ("POST", "/v1/lists/refresh")]:
            kw: dict[str, Any] = {"json": {"kind": "host", "value": "a.vn"}} \
                if method == "POST" else {}
            assert_problem(await api.call(method, path, "client", **kw), 403, "analyst"
                           if "feeds" not in path and "refresh" not in path else "")
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app,
                                                                       client=LOCAL),
                                         base_url="http://127.0.0.1") as anon:
                assert_problem(await anon.request(method, path, **kw), 401)
        feed = {"name": "f1", "url": "http://127.0.0.1:9/x", "format": "hosts"}
        assert_problem(await api.call("POST", "/v1/lists/feeds", "analyst", json=feed), 403,
                       "admin")
        assert_problem(await api.call("POST", "/v1/lists/refresh", "analyst"), 403, "admin")
        assert_problem(await api.call("DELETE", "/v1/lists/feeds/f1", "analyst"), 403)

        r = await api.add(kind="domain", value="Evil-Campaign[.]vn", note="SMS wave 12")
        assert r.status_code == 201, r.text
        e = r.json()
        assert (e["kind"], e["action"], e["value"], e["note"], e["added_by"]) == (
            "domain", "block", "evil-campaign.vn", "SMS wave 12", "analyst-key")
        assert e["id"].startswith("le_") and e["added_at"]
        assert_problem(await api.add(kind="domain", value="evil-campaign.vn"), 409, e["id"])
        r2 = await api.add("admin", kind="url", value="https://shop.example.vn/fake-login",
                           action="block", note="by admin")
        assert r2.status_code == 201 and r2.json()["added_by"] == "admin-key"
        bads: list[dict[str, Any]] = [
                    {"kind": "host", "value": "a.vn/path"}, {"kind": "package", "value": "x"},
                    {"kind": "apk_sha256", "value": "zz"}, {"kind": "nope", "value": "a.vn"},
                    {"kind": "host", "value": ""}, {"kind": "host", "value": "a.vn", "x": 1},
                    {"kind": "official_signer", "value": "ab" * 32},
                    {"kind": "domain", "value": "github.io"}]
        for bad in bads:
            assert_problem(await api.add(**bad), 422)

        page = (await api.call("GET", ENTRIES)).json()
        assert page["total"] == 2 and page["entries"][0]["kind"] == "url"  # newest first
        only = (await api.call("GET", ENTRIES, params={"kind": "domain"})).json()
        assert [x["value"] for x in only["entries"]] == ["evil-campaign.vn"]
        found = (await api.call("GET", ENTRIES, params={"q": "wave"})).json()
        assert found["total"] == 1
        assert (await api.call("GET", ENTRIES, params={"page": 2, "per_page": 1})).json()[
            "entries"][0]["kind"] == "domain"
        assert_problem(await api.call("GET", ENTRIES, params={"kind": "bogus"}), 422)
        src = (await api.call("GET", "/v1/lists/sources")).json()
        assert src["analyst"]["by_kind"]["domain"]["block"] == 1
        assert {b["name"] for b in src["bundled"]} >= {"hostsVN threat-VN"}
        assert all(b["entries"] > 0 for b in src["bundled"])

        hits = await api.bl_hits("https://login.evil-campaign.vn/otp")
        assert hits == [{"source": "analyst: analyst-key", "entry": "evil-campaign.vn",
                         "match": "domain"}]
        assert await api.bl_hits("https://shop.example.vn/fake-login/step2") == [
            {"source": "analyst: admin-key", "entry": "https://shop.example.vn/fake-login",
             "match": "url"}]
        assert await api.bl_hits("https://shop.example.vn/") == []

        assert_problem(await api.call("DELETE", ENTRIES + "/le_unknown"), 404)
        d = await api.call("DELETE", f"{ENTRIES}/{e['id']}")
        assert d.status_code == 200 and d.json()["id"] == e["id"]
        assert await api.bl_hits("https://login.evil-campaign.vn/otp") == []
        assert "/v1/lists/entries/{entry_id}" in (
            await api.call("GET", "/openapi.json")).json()["paths"]

    # entries survive a restart (SQLite in the data directory)
    async with running(s, keys) as api:
        page = (await api.call("GET", ENTRIES)).json()
        assert [x["value"] for x in page["entries"]] == ["https://shop.example.vn/fake-login"]
        assert (await api.bl_hits("https://shop.example.vn/fake-login"))[0]["source"] == \
            "analyst: admin-key"
    assert (tmp_path / "lists.sqlite3").is_file()


@pytest.mark.slow
async def test_feeds_refresh_generations_and_failures(tmp_path: Path,
                                                      feeds: FeedServer) -> None:
    s = settings(tmp_path)
    keys = await keys_for(s)
    feeds.routes["/hosts.txt"] = (200, b"# feed\nfeed-bad.example.net\nother.example.net\n", 0)
    async with running(s, keys) as api:
        r = await api.call("POST", "/v1/lists/feeds", "admin", json={
            "name": "vnphish", "url": feeds.url + "/hosts.txt", "format": "hosts"})
        assert r.status_code == 201, r.text
        assert r.json()["added_by"] == "admin-key" and r.json()["status"] == "never"
        assert_problem(await api.call("POST", "/v1/lists/feeds", "admin", json={
            "name": "vnphish", "url": feeds.url + "/x", "format": "hosts"}), 409)
        assert_problem(await api.call("POST", "/v1/lists/feeds", "admin", json={
            "name": "x", "url": feeds.url + "/x", "format": "xml"}), 422)
        assert await api.bl_hits("https://a.feed-bad.example.net/") == []

        r = await api.call("POST", "/v1/lists/refresh", "admin")
        assert r.status_code == 200, r.text
        [res] = r.json()["results"]
        assert res["ok"] and res["generation"] == 1 and res["entries"] == 2
        assert await api.bl_hits("https://a.feed-bad.example.net/") == [
            {"source": "feed: vnphish", "entry": "feed-bad.example.net", "match": "domain"}]

        # a new generation replaces the old one
        feeds.routes["/hosts.txt"] = (200, b"second.example.net\n", 0)
        res = (await api.call("POST", "/v1/lists/refresh", "admin",
                              params={"feed": "vnphish"})).json()["results"][0]
        assert res["ok"] and res["generation"] == 2 and res["previous_generation"] == 1
        assert await api.bl_hits("https://a.feed-bad.example.net/") == []
        assert len(await api.bl_hits("http://second.example.net")) == 1

        # failures keep generation 2 and say why
        cases = [
            ((500, b"oops", 0), "HTTP 500"),
            ((200, b"slow.example.net\n", 3.0), "longer than"),
            ((200, b"big.example.net\n" * 10_000, 0), "limit"),
            ((200, b"<html>garbage</html>\n\x01\x02", 0), "no valid entry"),
        ]
        for route, words in cases:
            feeds.routes["/hosts.txt"] = route
            r = await api.call("POST", "/v1/lists/refresh", "admin")
            [res] = r.json()["results"]
            assert not res["ok"] and words in res["error"], res
            assert res["generation"] == 2 and res["kept_previous"] and res["entries"] == 1
            assert len(await api.bl_hits("http://second.example.net")) == 1
            src = (await api.call("GET", "/v1/lists/sources")).json()
            [f] = src["feeds"]
            assert f["status"] == "failed" and words in f["last_error"]
            assert f["generation"] == 2 and f["entries"] == 1 and f["last_success"]
        assert_problem(await api.call("POST", "/v1/lists/refresh", "admin",
                                      params={"feed": "nope"}), 404)

        # analyst allow entries win over feed (and bundled) entries
        bundled = bundled_domain()
        assert any(h["source"] == "hostsVN threat-VN" for h in await api.bl_hits(bundled))
        allow = await api.add(kind="host", value="second.example.net", action="allow",
                              note="false positive")
        assert allow.status_code == 201
        assert await api.bl_hits("http://second.example.net") == []
        assert (await api.add(kind="domain", value=bundled, action="allow")).status_code == 201
        assert await api.bl_hits(bundled) == []
        # ... but not over another analyst's block entry
        assert (await api.add(kind="url", value="http://second.example.net/pay")
                ).status_code == 201
        assert [h["match"] for h in await api.bl_hits("http://second.example.net/pay")] == [
            "url"]

    # the feed and its generation survive a restart
    async with running(s, keys) as api:
        src = (await api.call("GET", "/v1/lists/sources")).json()
        assert src["feeds"][0]["generation"] == 2 and src["feeds"][0]["entries"] == 1
        assert await api.bl_hits("http://second.example.net") == []  # still allowed
        d = await api.call("DELETE", "/v1/lists/feeds/vnphish", "admin")
        assert d.status_code == 200
        assert (await api.call("GET", "/v1/lists/sources")).json()["feeds"] == []
        assert_problem(await api.call("DELETE", "/v1/lists/feeds/vnphish", "admin"), 404)


async def test_feed_on_a_refused_address_is_refused_without_a_request(
        tmp_path: Path, feeds: FeedServer) -> None:
    """Feeds go through the SSRF guard of the live fetch (issue 15): no allowance, no fetch."""
    feeds.routes["/hosts.txt"] = (200, b"feed-bad.example.net\n", 0)
    s = settings(tmp_path, fetch_allow_networks="")
    keys = await keys_for(s)
    async with running(s, keys) as api:
        r = await api.call("POST", "/v1/lists/feeds", "admin", json={
            "name": "internal", "url": feeds.url + "/hosts.txt", "format": "hosts"})
        assert r.status_code == 201, r.text
        r = await api.call("POST", "/v1/lists/refresh", "admin")
        assert r.status_code == 200, r.text
        [res] = r.json()["results"]
        assert not res["ok"] and res["generation"] == 0
        assert "loopback address" in res["error"], res
        assert "SCAMSCAN_FETCH_ALLOW_NETWORKS" in res["error"]
        assert await api.bl_hits("https://feed-bad.example.net/") == []
    assert feeds.seen == []


async def test_feed_redirect_to_a_refused_address_is_not_followed(
        tmp_path: Path, feeds: FeedServer) -> None:
    feeds.redirects["/moved"] = "http://169.254.169.254/latest/meta-data/"
    feeds.redirects["/broken"] = "http://[::1/x"
    feeds.redirects["/ok"] = "/hosts.txt"
    feeds.routes["/hosts.txt"] = (200, b"feed-bad.example.net\n", 0)
    s = settings(tmp_path)
    keys = await keys_for(s)
    async with running(s, keys) as api:
        for name in ("moved", "broken", "ok"):
            r = await api.call("POST", "/v1/lists/feeds", "admin", json={
                "name": name, "url": f"{feeds.url}/{name}", "format": "hosts"})
            assert r.status_code == 201, r.text
        r = await api.call("POST", "/v1/lists/refresh", "admin")
        results = {x["feed"]: x for x in r.json()["results"]}
    assert "metadata address" in results["moved"]["error"]
    assert "malformed" in results["broken"]["error"]
    assert results["ok"]["ok"] and results["ok"]["entries"] == 1
    assert sorted(feeds.seen) == ["/broken", "/hosts.txt", "/moved", "/ok"]


async def test_feeds_from_settings(tmp_path: Path, feeds: FeedServer) -> None:
    feeds.routes["/f.csv"] = (200, b"url\nhttps://csv-bad.example.net/login\n", 0)
    s = settings(tmp_path, feeds=f'[{{"name": "csvfeed", "url": "{feeds.url}/f.csv", '
                                 '"format": "csv"}]')
    keys = await keys_for(s)
    async with running(s, keys) as api:
        src = (await api.call("GET", "/v1/lists/sources")).json()
        assert [f["name"] for f in src["feeds"]] == ["csvfeed"]
        assert src["feeds"][0]["added_by"] == "settings"
        await api.call("POST", "/v1/lists/refresh", "admin")
        assert await api.bl_hits("https://csv-bad.example.net/login?x") == [
            {"source": "feed: csvfeed", "entry": "https://csv-bad.example.net/login",
             "match": "url"}]


async def test_redis_lists_are_shared_between_instances(redis_server: RedisServer, tmp_path: Path,
                                                        feeds: FeedServer) -> None:
    feeds.routes["/list.json"] = (200, b'["json-bad.example.net"]', 0)
    s1 = settings(tmp_path / "one", redis_url=redis_server.url)
    s2 = settings(tmp_path / "two", redis_url=redis_server.url)
    keys = await keys_for(s1)
    async with running(s1, keys) as one, running(s2, keys) as two:
        r = await one.add(kind="host", value="redis-bad.example.net", note="shared")
        assert r.status_code == 201
        assert not (tmp_path / "one" / "lists.sqlite3").exists()

        async def eventually(api: Api, url: str, n: int) -> list[dict[str, Any]]:
            deadline = time.monotonic() + 10
            while True:
                hits = await api.bl_hits(url)
                if len(hits) == n or time.monotonic() > deadline:
                    return hits
                await asyncio.sleep(0.1)

        assert await eventually(two, "http://redis-bad.example.net", 1) == [
            {"source": "analyst: analyst-key", "entry": "redis-bad.example.net",
             "match": "host"}]
        assert_problem(await two.add(kind="host", value="redis-bad.example.net"), 409)

        await one.call("POST", "/v1/lists/feeds", "admin", json={
            "name": "jf", "url": feeds.url + "/list.json", "format": "json"})
        res = (await one.call("POST", "/v1/lists/refresh", "admin")).json()["results"]
        assert res[0]["ok"] and res[0]["generation"] == 1
        assert (await eventually(two, "http://x.json-bad.example.net", 1))[0]["source"] \
            == "feed: jf"
        feeds.routes["/list.json"] = (500, b"", 0)
        res = (await two.call("POST", "/v1/lists/refresh", "admin")).json()["results"]
        assert not res[0]["ok"] and res[0]["generation"] == 1
        assert len(await one.bl_hits("http://x.json-bad.example.net")) == 1

        entry_id = r.json()["id"]
        assert (await two.call("DELETE", f"{ENTRIES}/{entry_id}")).status_code == 200
        assert await eventually(one, "http://redis-bad.example.net", 0) == []

    # a restart reads everything back from Redis
    async with running(s2, keys) as again:
        assert (await again.bl_hits("http://x.json-bad.example.net"))[0]["source"] == \
            "feed: jf"
        src = (await again.call("GET", "/v1/lists/sources")).json()
        assert src["feeds"][0]["last_error"] and src["feeds"][0]["generation"] == 1


# --- APK scans ---------------------------------------------------------------------------


async def upload(api: Api, fixture: str) -> dict[str, Any]:
    files = {"file": (fixture, (FIXTURES / fixture).read_bytes(), APK_TYPE)}
    r = await api.call("POST", "/v1/apk-scans", "client", files=files, params={"wait": 60})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == "done", body
    return body


def rules_of(body: dict[str, Any]) -> list[str]:
    return [f["rule_id"] for f in body["report"]["findings"]]


@pytest.mark.slow
async def test_apk_entries_reach_the_scanner(tmp_path: Path) -> None:
    s = settings(tmp_path)
    keys = await keys_for(s)
    async with running(s, keys) as api:
        first = await upload(api, "benign_notes.apk")
        assert "APK-BL-001" not in rules_of(first)
        assert first["report"]["verdict"] != "dangerous"
        again = await upload(api, "benign_notes.apk")
        assert again["deduplicated"] is True

        r = await api.add(kind="package", value="org.scamscan.fixture.notes",
                          note="repackaged notes dropper")
        assert r.status_code == 201
        blocked = await upload(api, "benign_notes.apk")
        assert blocked["deduplicated"] is False  # the list change bypasses the stored report
        bl = [f for f in blocked["report"]["findings"] if f["rule_id"] == "APK-BL-001"]
        assert bl and bl[0]["evidence"]["match"] == "package"
        assert bl[0]["evidence"]["note"] == "repackaged notes dropper"
        assert blocked["report"]["verdict"] == "dangerous"

        vneid = await upload(api, "fake_vneid.apk")
        assert "APK-IMP-002" in rules_of(vneid) and "APK-OFF-001" not in rules_of(vneid)
        signer = extract_facts(FIXTURES / "fake_vneid.apk").certificates[0].sha256
        r = await api.add(kind="official_signer", package="com.vnid", value=signer.upper(),
                          note="test: the fixture's own key")
        assert r.status_code == 201, r.text
        assert r.json()["action"] == "allow" and r.json()["package"] == "com.vnid"
        official = await upload(api, "fake_vneid.apk")
        assert official["deduplicated"] is False
        assert "APK-OFF-001" in rules_of(official)
        assert "APK-IMP-002" not in rules_of(official)

        # removing the entries brings the earlier reports back (same list version as then)
        for e in (await api.call("GET", ENTRIES)).json()["entries"]:
            await api.call("DELETE", f"{ENTRIES}/{e['id']}")
        back = await upload(api, "benign_notes.apk")
        assert back["deduplicated"] is True and "APK-BL-001" not in rules_of(back)
