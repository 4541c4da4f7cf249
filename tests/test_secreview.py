"""Hostile input against the newer features (feeds, the CLI's --server, share links,
console actions): each test here failed before its fix.

Real parts: the real app over its ASGI lifespan, feed and hostile API servers on
127.0.0.1, the real ``scamscan`` in a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_lists import Api, FeedServer, keys_for, running, settings

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
