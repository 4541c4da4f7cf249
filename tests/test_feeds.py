"""Fresh data by default (issue 16, item 6): the default feeds, ``scamscan feeds``, the
background refresher, feed ages in ``/readyz``, and the bundled lists without network.

Feeds are served by a real loopback HTTP server (:class:`tests.test_lists.FeedServer`;
``SCAMSCAN_FETCH_ALLOW_NETWORKS`` lets the guard reach it); the default feeds'
internet hosts are resolved by a table resolver that knows none of them, so no
request leaves the machine. Real SQLite files, a real ``redis-server``, the
real app with its lifespan, the real CLI in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from api.services.feeds import FeedRefresher
from api.services.lists import DEFAULT_FEEDS, DEFAULT_FEEDS_BY, ListService
from api.storage.factory import open_list_store
from scanners.lists import parse_feed
from tests.live_servers import DictResolver
from tests.live_servers_age import RedisServer
from tests.test_lists import Api, FeedServer, bundled_domain, keys_for, settings

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def feeds_json(*items: tuple[str, str]) -> str:
    return json.dumps([{"name": n, "url": u, "format": "hosts"} for n, u in items])


def cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "SCAMSCAN_DATA_DIR": str(data_dir), "PYTHONIOENCODING": "utf-8",
            "SCAMSCAN_FETCH_ALLOW_NETWORKS": "127.0.0.1/32", "SCAMSCAN_FEED_TIMEOUT": "5",
            **env}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, env=full, timeout=120, check=False)


# --- the default configuration ---------------------------------------------------------


def test_default_feeds_are_the_credited_public_lists() -> None:
    names = {f.name: f for f in DEFAULT_FEEDS}
    assert set(names) == {"hostsvn-threat-vn", "chongluadao"}
    assert names["hostsvn-threat-vn"].url.startswith(
        "https://raw.githubusercontent.com/bigdargon/hostsVN/")
    assert "vn-badsite-filter" in names["chongluadao"].url
    attribution = (ROOT / "blocklists" / "ATTRIBUTION.md").read_text("utf-8")
    deployment = (ROOT / "docs" / "deployment.md").read_text("utf-8")
    for f in DEFAULT_FEEDS:
        assert f.url.startswith("https://") and f.format == "hosts"
        assert f.url in attribution and f.url in deployment
        assert f.licence.split()[0] in attribution


def test_default_feed_formats_parse() -> None:
    """Both are one host a line under `#` comments; ChongLuaDao's export has IP lines."""
    hostsvn = b"# --- Block threatVN ---\nsupport-maps.live\napple.support-maps.live\n" \
              b"banking24hsingapore.weebly.com\n"
    d = parse_feed(hostsvn, "hosts")
    assert d.domains == {"support-maps.live", "apple.support-maps.live",
                         "banking24hsingapore.weebly.com"}
    cld = (b"# Title: VN Malicious Domains Blocklist\n# Updated: 2025-03-29T12:07:59Z\n"
           b"000000.live\n0011384.com\n103.56.1.2\n")
    d = parse_feed(cld, "hosts")
    assert d.domains == {"000000.live", "0011384.com"} and d.skipped == 1


async def test_default_feeds_only_when_enabled(tmp_path: Path) -> None:
    async def names(**kw: Any) -> dict[str, str]:
        service = ListService(settings(tmp_path, feeds_refresh_hours=0, **kw),
                              open_list_store(tmp_path, None))
        try:
            await service.open(watch=False)
            return {f.name: f.added_by for f in service.feeds.values()}
        finally:
            await service.aclose()

    assert await names() == {}
    on = await names(feeds_default="on")
    assert on == {f.name: DEFAULT_FEEDS_BY for f in DEFAULT_FEEDS}
    mine = feeds_json(("mine", "http://127.0.0.1:9/x"))
    assert await names(feeds_default="on", feeds=mine) == {**on, "mine": "settings"}
    # Off again: the default feeds go, the others stay.
    assert await names(feeds=mine) == {"mine": "settings"}


# --- scamscan feeds ----------------------------------------------------------------------


@pytest.mark.slow
def test_cli_feeds_refresh_and_status(tmp_path: Path, feeds: FeedServer) -> None:
    feeds.routes["/good.txt"] = (200, b"# list\nfeed-bad.example.net\nother.example.net\n", 0)
    feeds.routes["/down.txt"] = (500, b"oops", 0)
    conf = {"SCAMSCAN_FEEDS": feeds_json(("good", feeds.url + "/good.txt"),
                                         ("down", feeds.url + "/down.txt"))}
    r = cli(tmp_path, "feeds", "refresh", **conf)
    assert r.returncode == 0, r.stderr
    assert "good: ok, 2 entries (generation 1), 0 s old" in r.stdout
    assert "down: FAILED, 0 entries (generation 0), never refreshed, stale" in r.stdout
    assert "HTTP 500" in r.stdout and "scans use the bundled lists" in r.stdout
    assert (tmp_path / "lists.sqlite3").is_file()

    r = cli(tmp_path, "feeds", "status", "--json", **conf)
    assert r.returncode == 0, r.stderr
    status = {d["name"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert status["good"]["in_use"] and status["good"]["entries"] == 2
    assert not status["good"]["stale"] and status["good"]["age_seconds"] is not None
    assert not status["down"]["in_use"] and "HTTP 500" in status["down"]["last_error"]

    # a URL scan from the CLI now sees the feed (the same store as the server)
    r = cli(tmp_path, "url", "--json", "https://a.feed-bad.example.net/", **conf)
    assert r.returncode == 0, r.stderr
    hits = [f["evidence"] for f in json.loads(r.stdout)["findings"]
            if f["rule_id"] == "URL-BL-001"]
    assert hits == [{"source": "feed: good", "entry": "feed-bad.example.net",
                     "match": "domain"}]

    # every feed failing: exit 1, the old generation stays
    feeds.routes["/good.txt"] = (200, b"<html>maintenance</html>\n", 0)
    r = cli(tmp_path, "feeds", "refresh", "--json", **conf)
    assert r.returncode == 1
    results = {d["name"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert "no valid entry" in results["good"]["last_error"]
    assert results["good"]["generation"] == 1 and results["good"]["in_use"]

    assert cli(tmp_path, "feeds", "refresh", "--feed", "nope", **conf).returncode == 2
    none = cli(tmp_path / "empty", "feeds", "refresh")
    assert none.returncode == 1 and "SCAMSCAN_FEEDS_DEFAULT=on" in none.stderr


@pytest.mark.slow
async def test_cli_refresh_reaches_a_running_server_without_restart(
        tmp_path: Path, feeds: FeedServer) -> None:
    feeds.routes["/f.txt"] = (200, b"fresh-scam.example.net\n", 0)
    conf = feeds_json(("fresh", feeds.url + "/f.txt"))
    s = settings(tmp_path, feeds=conf, feeds_refresh_hours=0)
    keys = await keys_for(s)
    app = create_app(s)
    async with app.router.lifespan_context(app):
        api = Api(app, keys)
        assert await api.bl_hits("https://fresh-scam.example.net/") == []
        r = await asyncio.to_thread(cli, tmp_path, "feeds", "refresh", SCAMSCAN_FEEDS=conf)
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 10
        while not await api.bl_hits("https://fresh-scam.example.net/"):
            assert time.monotonic() < deadline, "the server did not pick up the new feed"
            await asyncio.sleep(0.1)


# --- the background refresher and /readyz -------------------------------------------------


@pytest.mark.slow
async def test_background_refresh_and_feed_age_in_readyz(tmp_path: Path,
                                                         feeds: FeedServer) -> None:
    feeds.routes["/f.txt"] = (200, b"bg-scam.example.net\n", 0)
    # 0.0005 h = 1.8 s: the refresher looks every 0.15 s or so.
    s = settings(tmp_path, feeds=feeds_json(("bg", feeds.url + "/f.txt")),
                 feeds_refresh_hours=0.0005)
    keys = await keys_for(s)
    app = create_app(s)
    async with app.router.lifespan_context(app):
        api = Api(app, keys)
        deadline = time.monotonic() + 10
        while not await api.bl_hits("https://bg-scam.example.net/"):
            assert time.monotonic() < deadline, "the background refresh did not happen"
            await asyncio.sleep(0.05)
        r = await api.call("GET", "/readyz")
        assert r.status_code == 200, r.text
        lists = r.json()["lists"]
        [feed] = lists["feeds"]
        assert feed["name"] == "bg" and feed["in_use"] and feed["entries"] == 1
        assert feed["age_seconds"] is not None and feed["age_seconds"] < 10
        assert not feed["stale"] and feed["last_error"] is None
        assert "url" not in feed and "added_by" not in feed  # /readyz is public
        assert lists["feeds_in_use"] == 1 and lists["stale_feeds"] == []
        # ... and again once the period has passed: a new generation
        feeds.routes["/f.txt"] = (200, b"bg-scam.example.net\nbg-two.example.net\n", 0)
        deadline = time.monotonic() + 15
        while not await api.bl_hits("https://bg-two.example.net/"):
            assert time.monotonic() < deadline, "no second refresh"
            await asyncio.sleep(0.1)
        refresher: FeedRefresher = app.state.services.feeds
        assert refresher.runs >= 2


@pytest.mark.slow
async def test_without_network_the_bundled_lists_still_work(tmp_path: Path) -> None:
    """Default feeds enabled, nothing reachable (no name resolves): scans use the bundled
    lists, and /readyz stays ready while naming each feed's error."""
    s = settings(tmp_path, feeds_default="on", feeds_refresh_hours=0.0005,
                 fetch_allow_networks="")
    keys = await keys_for(s)
    resolver = DictResolver({})
    app = create_app(s, resolver=resolver)
    async with app.router.lifespan_context(app):
        api = Api(app, keys)
        deadline = time.monotonic() + 10
        while True:
            body = (await api.call("GET", "/readyz")).json()
            if all(f["last_error"] for f in body["lists"]["feeds"]):
                break
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.05)
        assert body["status"] == "ready"
        lists = body["lists"]
        assert lists["bundled"] is True and lists["feeds_in_use"] == 0
        assert sorted(lists["stale_feeds"]) == sorted(f.name for f in DEFAULT_FEEDS)
        for f in lists["feeds"]:
            assert not f["in_use"] and f["generation"] == 0 and f["age_seconds"] is None
            assert "could not be fetched" in f["last_error"], f
        assert set(resolver.calls) == {"raw.githubusercontent.com",
                                       "malware-filter.gitlab.io"}
        domain = bundled_domain()
        assert any(h["source"] == "hostsVN threat-VN" for h in await api.bl_hits(domain))


async def test_one_refresher_at_a_time_with_redis(redis_server: RedisServer, tmp_path: Path,
                                                  feeds: FeedServer) -> None:
    feeds.routes["/f.txt"] = (200, b"shared-scam.example.net\n", 0.5)
    s = settings(tmp_path, redis_url=redis_server.url,
                 feeds=feeds_json(("shared", feeds.url + "/f.txt")), feeds_refresh_hours=6)
    services = [ListService(s, open_list_store(tmp_path, s.redis_url)) for _ in range(3)]
    try:
        for service in services:
            await service.open(watch=False)
        refreshers = [FeedRefresher(service) for service in services]
        results = await asyncio.gather(*(r.run_once() for r in refreshers))
        assert sorted(len(r) for r in results) == [0, 0, 1]  # one replica refreshed
        assert feeds.seen == ["/f.txt"]
        # The lease is given back: once due again, another replica may refresh.
        for r in refreshers:
            await r.lists.reload()
            assert r.due() == []  # fresh for 6 hours, whoever refreshed
    finally:
        for service in services:
            await service.aclose()


async def test_a_feed_is_stale_after_four_refresh_periods(tmp_path: Path,
                                                          feeds: FeedServer) -> None:
    from datetime import datetime, timedelta

    feeds.routes["/f.txt"] = (200, b"stale-scam.example.net\n", 0)
    s = settings(tmp_path, feeds=feeds_json(("f", feeds.url + "/f.txt")),
                 feeds_refresh_hours=2)
    service = ListService(s, open_list_store(tmp_path, None))
    try:
        await service.open(watch=False)
        [never] = service.feed_status()
        assert never["stale"] and never["age_seconds"] is None and not never["in_use"]
        [result] = await service.refresh()
        assert result["ok"], result
        done = datetime.fromisoformat(service.feed_status()[0]["last_success"])
        fresh = service.feed_status(done + timedelta(hours=7, minutes=59))[0]
        assert not fresh["stale"] and fresh["in_use"]
        assert fresh["age_seconds"] == 7 * 3600 + 59 * 60
        old = service.feed_status(done + timedelta(hours=8, seconds=1))[0]
        assert old["stale"] and old["in_use"]  # still used: stale is a warning
        refresher = FeedRefresher(service)
        assert refresher.due(done + timedelta(hours=1)) == []
        assert refresher.due(done + timedelta(hours=2)) == ["f"]
        # A failure is tried again after 15 minutes, not a whole period.
        feeds.routes["/f.txt"] = (503, b"busy", 0)
        [result] = await service.refresh()
        assert not result["ok"]
        tried = datetime.fromisoformat(service.feed_status()[0]["last_attempt"])
        assert refresher.due(tried + timedelta(minutes=14)) == []
        assert refresher.due(tried + timedelta(minutes=15)) == ["f"]
    finally:
        await service.aclose()
