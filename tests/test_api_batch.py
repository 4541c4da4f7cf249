"""``POST /v1/url-scans/batch`` through the real app (httpx's ASGI transport, the
lifespan run); live batches reach real scam-site servers on 127.0.0.1
(tests/live_servers.py), the DNS resolver being the only stand-in."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.problems import TYPE_INVALID_URL
from api.settings import Settings
from tests.asgi import running
from tests.live_servers import DictResolver, ScamSite
from tests.test_api import api_settings, assert_problem

pytestmark = pytest.mark.anyio

BATCH = "/v1/url-scans/batch"
SINGLE = "/v1/url-scans"
LINKS = [
    "https://dichvucong.hgov.cc/dang-nhap",
    "vietcombank.com.vn",
    "hxxps://vneid-xacthuc[.]top/login",
    "https://example.org/",
    "http://192.0.2.7/app.apk",
]


def strip(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between two scans of the same link."""
    return {k: v for k, v in report.items() if k != "scan_id"}


@asynccontextmanager
async def client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(**overrides), resolver=DictResolver({}))
    async with running(app, client_timeout=30.0) as c:
        yield c


@pytest.fixture
def site() -> Iterator[ScamSite]:
    with ScamSite() as s:
        yield s


def live_settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {"fetch_allow_networks": "127.0.0.1/32", "data_dir": tmp_path, **overrides}


# --- offline batches ---------------------------------------------------------------


async def test_results_in_input_order_and_equal_to_single_scans() -> None:
    async with client() as c:
        r = await c.post(BATCH, json={"urls": LINKS, "lang": "en"})
        singles = [(await c.post(SINGLE, json={"url": u, "lang": "en"})).json()
                   for u in LINKS]
        reversed_ = await c.post(BATCH, json={"urls": LINKS[::-1], "lang": "en"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["input"] for x in results] == LINKS
    assert [strip(x) for x in results] == [strip(s) for s in singles]
    assert len({x["scan_id"] for x in results}) == len(LINKS)  # each its own scan
    assert {x["verdict"] for x in results} >= {"dangerous", "official"}  # not all alike
    assert [strip(x) for x in reversed_.json()["results"]] == [strip(s) for s in singles[::-1]]


async def test_lang_and_default_lang_apply_to_every_result() -> None:
    async with client() as c:
        vi = (await c.post(BATCH, json={"urls": LINKS[:1]})).json()["results"][0]
        en = (await c.post(BATCH, json={"urls": LINKS[:1], "lang": "en"})).json()["results"][0]
    assert vi["risk_score"] == en["risk_score"] and vi["reasons"] != en["reasons"]


async def test_an_invalid_link_is_an_item_error_not_a_failed_batch() -> None:
    urls = [LINKS[0], "http://exa mple.com/", "ftp://files.example.org/x", LINKS[1]]
    async with client() as c:
        r = await c.post(BATCH, json={"urls": urls})
        single = await c.post(SINGLE, json={"url": urls[1]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 4
    assert results[0]["verdict"] == "dangerous" and results[3]["verdict"] == "official"
    for i in (1, 2):
        err = results[i]
        assert err["index"] == i and err["input"] == urls[i]
        assert err["type"] == TYPE_INVALID_URL and err["status"] == 422
        assert err["title"] and len(err["detail"]) > 5
        assert "scan_id" not in err and "verdict" not in err
    assert results[1]["detail"] == single.json()["detail"]  # the single scan's reason


async def test_each_scan_of_a_batch_is_recorded_in_the_history() -> None:
    urls = [LINKS[0], "http://exa mple.com/", LINKS[2]]
    async with client() as c:
        results = (await c.post(BATCH, json={"urls": urls, "lang": "en"})).json()["results"]
        views = [(await c.get(f"/v1/scans/{x['scan_id']}", params={"lang": "en"})).json()
                 for x in results if "scan_id" in x]
        listed = (await c.get("/v1/scans", params={"kind": "url"})).json()
    assert [v["report"] for v in views] == [results[0], results[2]]
    assert all(v["kind"] == "url" and v["status"] == "done" for v in views)
    ids = {item["scan_id"] for item in listed["items"]}
    assert {results[0]["scan_id"], results[2]["scan_id"]} <= ids
    assert len(ids) == 2  # the invalid link is not recorded, as for a single scan


# --- limits and bad bodies -----------------------------------------------------------


async def test_over_the_limit_is_a_413_problem() -> None:
    async with client(batch_max_urls=3) as c:
        at_limit = await c.post(BATCH, json={"urls": LINKS[:3]})
        over = await c.post(BATCH, json={"urls": LINKS[:4]})
    assert at_limit.status_code == 200 and len(at_limit.json()["results"]) == 3
    body = assert_problem(over, 413, "at most 3")
    assert body["instance"] == BATCH


async def test_a_body_over_the_batch_body_limit_is_a_413_problem() -> None:
    async with client(batch_max_body_bytes=2048, max_body_bytes=65536) as c:
        r = await c.post(BATCH, json={"urls": ["https://example.org/" + "a" * 100] * 30})
        small = await c.post(BATCH, json={"urls": ["example.org"] * 3})
    assert_problem(r, 413)
    assert small.status_code == 200


async def test_a_batch_body_may_exceed_the_ordinary_body_limit() -> None:
    urls = [f"https://shop{i}.example.org/" + "p" * 150 for i in range(100)]
    async with client(max_body_bytes=4096) as c:
        batch = await c.post(BATCH, json={"urls": urls})
        single = await c.post(SINGLE, json={"url": "https://example.org/" + "p" * 5000})
    assert batch.status_code == 200 and len(batch.json()["results"]) == 100
    assert_problem(single, 413)  # the other routes keep SCAMSCAN_MAX_BODY_BYTES


@pytest.mark.parametrize("body", [
    {},
    {"urls": []},
    {"urls": "https://example.org/"},
    {"urls": [""]},
    {"urls": ["x" * 8193]},
    {"urls": [42]},
    {"urls": ["example.org"], "lang": "fr"},
    {"urls": ["example.org"], "offline": "no"},
    {"urls": ["example.org"], "url": "example.org"},
])
async def test_a_bad_body_is_a_422_problem(body: dict[str, Any]) -> None:
    async with client() as c:
        r = await c.post(BATCH, json=body)
    problem = assert_problem(r, 422)
    assert problem["errors"], problem


async def test_malformed_json_and_wrong_media_type() -> None:
    async with client() as c:
        bad = await c.post(BATCH, content=b'{"urls": [', headers={"content-type":
                                                                  "application/json"})
        form = await c.post(BATCH, content=b"urls=example.org",
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert_problem(bad, 400)
    assert_problem(form, 415)


async def test_openapi_describes_the_batch() -> None:
    async with client() as c:
        spec = (await c.get("/openapi.json")).json()
    op = spec["paths"][BATCH]["post"]
    assert {"200", "413", "422", "429"} <= set(op["responses"])
    schemas = spec["components"]["schemas"]
    req = schemas["UrlBatchRequest"]["properties"]
    for field in ("urls", "offline", "lang"):
        assert req[field].get("description"), field
    assert "SCAMSCAN_BATCH_MAX_URLS" in req["urls"]["description"]
    assert schemas["UrlBatchReport"]["properties"]["results"]["description"]
    err = schemas["UrlBatchItemError"]["properties"]
    assert {"type", "title", "status", "detail", "index", "input"} <= set(err)
    assert err["index"]["description"]


# --- live batches on loopback servers ------------------------------------------------


class Held:
    """A page that holds each request ``seconds`` and counts how many are in flight."""

    def __init__(self, site: ScamSite, seconds: float) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = self.total = 0
        self.seconds = seconds
        site.routes["/held"] = self.serve

    def serve(self, h: Any, q: dict[str, list[str]]) -> None:
        with self.lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.seconds)
            h.html("<html><body>Xin chào</body></html>")
        finally:
            with self.lock:
                self.now -= 1


async def test_live_batch_is_bounded_in_concurrency(site: ScamSite, tmp_path: Path) -> None:
    held = Held(site, 0.3)
    urls = [site.url(f"/held?n={i}") for i in range(6)]
    app = create_app(Settings(**live_settings(tmp_path, batch_live_concurrency=2)),
                     resolver=DictResolver({}))
    async with running(app, client_timeout=60.0) as c:
        r = await c.post(BATCH, json={"urls": urls, "offline": False, "lang": "en"})
        fetched = held.total
        offline = await c.post(BATCH, json={"urls": urls, "offline": True})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["input"] for x in results] == urls
    assert held.total >= 6  # every link was fetched…
    assert held.peak == 2  # …two at a time, never more
    assert all("live" not in {i["check"] for i in x["incomplete"]} for x in results)
    assert offline.status_code == 200 and held.total == fetched  # offline fetches nothing
    assert held.total == len([p for p in site.paths() if p.startswith("/held")])


async def test_live_batch_equals_single_live_scans(site: ScamSite, tmp_path: Path) -> None:
    urls = [site.url("/login"), site.url("/plain")]  # no download: no APK job ids
    app = create_app(Settings(**live_settings(tmp_path)), resolver=DictResolver({}))
    async with running(app, client_timeout=60.0) as c:
        batch = (await c.post(BATCH, json={"urls": urls, "offline": False})).json()
        singles = [(await c.post(SINGLE, json={"url": u, "offline": False})).json()
                   for u in urls]
    assert [strip(x) for x in batch["results"]] == [strip(s) for s in singles]
    assert batch["results"][0]["risk_score"] > batch["results"][1]["risk_score"]


async def test_live_batch_time_budget_falls_back_offline_and_says_so(
    site: ScamSite, tmp_path: Path
) -> None:
    urls = [site.url("/slow?s=4"), site.url("/slow?s=4"), "http://exa mple.com/"]
    app = create_app(Settings(**live_settings(tmp_path, batch_live_timeout=1.0,
                                              fetch_total_timeout=10.0,
                                              fetch_hop_timeout=10.0)),
                     resolver=DictResolver({}))
    started = time.monotonic()
    async with running(app, client_timeout=60.0) as c:
        r = await c.post(BATCH, json={"urls": urls, "offline": False})
        history = (await c.get("/v1/scans", params={"kind": "url"})).json()
    assert time.monotonic() - started < 3.5  # not the 4 s of the slow page
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    for x in results[:2]:
        late = [i for i in x["incomplete"] if i["check"] == "live"]
        assert late and "1 s" in late[0]["reason"], x["incomplete"]
        assert x["verdict"]  # judged offline, not dropped
    assert results[2]["index"] == 2 and results[2]["status"] == 422
    assert len(history["items"]) == 2  # each fallback recorded once


async def test_rate_limit_counts_offline_batch_once_and_live_batch_per_link(
    site: ScamSite, tmp_path: Path
) -> None:
    urls = [site.url(f"/plain?n={i}") for i in range(4)]
    settings = Settings(**live_settings(tmp_path, rate_limit_keyless="5/minute"))
    async with running(create_app(settings, resolver=DictResolver({})),
                       client_timeout=60.0) as c:
        first = await c.post(BATCH, json={"urls": urls})  # counts 1
        second = await c.post(BATCH, json={"urls": urls})  # 2
        live = await c.post(BATCH, json={"urls": urls[:2], "offline": False})  # 4
        refused = await c.post(BATCH, json={"urls": urls[:2], "offline": False})  # 6 > 5
    assert first.status_code == second.status_code == live.status_code == 200
    problem = assert_problem(refused, 429, "5 per 1 minute")
    assert int(refused.headers["retry-after"]) >= 1
    assert problem["instance"] == BATCH
    fetched = [p for p in site.paths() if p.startswith("/plain")]
    assert len(fetched) == 2  # the refused batch fetched nothing
