"""The scan history (api/history.py) through the API: GET /v1/scans and the link
scans GET /v1/scans/{id} answers from it.

Real apps through httpx's ASGI transport with their lifespan entered, the real
process pool and androguard on the committed fixtures; the Redis tests start a
throw-away Debian ``redis-server`` on a loopback port (the helper of
tests/test_queue.py) and, for the APK verdict, a real ``scamscan worker``. No
mocks.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from api.jobs import JobManager
from api.main import create_app
from api.services.history import ScanHistory
from api.settings import Settings
from api.storage.history import PREFIX, SqliteHistory
from scanners import rules
from scanners.fetch import Resolver
from scanners.findings import relabel
from scanners.report import scan_url
from scanners.url_offline import default_scanner
from tests.live_servers_age import RedisServer
from tests.test_api_apk import APK_TYPE, FIXTURES, apk_settings, assert_problem, sha256_of
from tests.test_auth import make_key
from tests.test_queue import Worker, status_of

pytestmark = pytest.mark.anyio

SCANS = "/v1/url-scans"
HISTORY = "/v1/scans"
DANGEROUS = "dichvucong.hgov.cc"  # blocklisted impersonation of Cổng Dịch vụ công
OFFICIAL = "dichvucong.gov.vn"
PLAIN = "example.org"


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Test settings with rate limits no test reaches (some make a hundred scans)."""
    many = "100000/minute"
    return apk_settings(data_dir, rate_limit_client=many, rate_limit_analyst=many,
                        rate_limit_admin=many, rate_limit_keyless=many, **overrides)


@asynccontextmanager
async def app_client(settings: Settings, key: str | None = None, *,
                     resolver: Resolver | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client (with ``key``, if any) on a fresh app with its lifespan entered."""
    app = create_app(settings, resolver=resolver)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"X-API-Key": key} if key else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     headers=headers, timeout=90) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


def as_key(c: httpx.AsyncClient, key: str) -> httpx.AsyncClient:
    """Another client on the same app, with ``key``."""
    app = c.app  # type: ignore[attr-defined]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://127.0.0.1", headers={"X-API-Key": key},
                             timeout=90)


async def scan_link(c: httpx.AsyncClient, url: str, lang: str = "en") -> dict[str, Any]:
    r = await c.post(SCANS, json={"url": url, "lang": lang})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def search(c: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await c.get(HISTORY, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"items", "page", "per_page", "total"}
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [i["scan_id"] for i in page["items"]]


async def upload(c: httpx.AsyncClient, fixture: str, **params: Any) -> dict[str, Any]:
    files = {"file": (fixture, (FIXTURES / fixture).read_bytes(), APK_TYPE)}
    r = await c.post("/v1/apk-scans", params=params, files=files)
    assert r.status_code in (200, 202), r.text
    body: dict[str, Any] = r.json()
    return body


# --- embedded (SQLite) ------------------------------------------------------------------


async def test_link_scans_are_recorded_searched_and_paged(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        first = await scan_link(c, DANGEROUS)
        official = await scan_link(c, OFFICIAL)
        plain = await scan_link(c, f"https://{PLAIN}/page")
        second = await scan_link(c, f"hxxps://login.{DANGEROUS.upper()}/x")
        assert first["verdict"] == "dangerous" and official["verdict"] == "official"

        everything = await search(c)
        assert ids(everything) == [second["scan_id"], plain["scan_id"], official["scan_id"],
                                   first["scan_id"]]  # newest first
        assert everything["total"] == 4 and everything["page"] == 1
        item = everything["items"][-1]
        assert item == {
            "scan_id": first["scan_id"], "kind": "url", "created": item["created"],
            "status": "done", "input": DANGEROUS, "host": DANGEROUS,
            "registrable_domain": "hgov.cc", "package": None, "label": None, "sha256": None,
            "verdict": "dangerous", "risk_score": first["risk_score"],
            "status_url": f"/v1/scans/{first['scan_id']}"}
        assert item["created"].endswith("Z")

        # q: a case-insensitive part of the host, the registrable domain or the input
        assert ids(await search(c, q="HGOV")) == [second["scan_id"], first["scan_id"]]
        assert ids(await search(c, q="login.dichvucong")) == [second["scan_id"]]
        assert ids(await search(c, q="gov.vn")) == [official["scan_id"]]
        assert ids(await search(c, q="/page")) == [plain["scan_id"]]
        assert (await search(c, q="nothing-like-this"))["total"] == 0
        # verdict and kind filters
        assert ids(await search(c, verdict="official")) == [official["scan_id"]]
        assert set(ids(await search(c, verdict="dangerous"))) == {first["scan_id"],
                                                                  second["scan_id"]}
        assert (await search(c, kind="apk"))["total"] == 0
        assert (await search(c, kind="url", verdict="dangerous", q="login"))["total"] == 1

        # pages of 3: 3 then 1, then an empty page past the end; total on every page
        p1, p2, p3 = [await search(c, per_page=3, page=n) for n in (1, 2, 3)]
        assert ids(p1) + ids(p2) == ids(everything)
        assert [len(p["items"]) for p in (p1, p2, p3)] == [3, 1, 0]
        assert {p["total"] for p in (p1, p2, p3)} == {4}
        assert p2["page"] == 2 and p2["per_page"] == 3


async def test_a_link_scan_is_answered_again_by_id_in_either_language(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        report = await scan_link(c, DANGEROUS, lang="en")
        url = f"/v1/scans/{report['scan_id']}"
        en = await c.get(url, params={"lang": "en"})
        assert en.status_code == 200, en.text
        body = en.json()
        assert {k: body[k] for k in ("scan_id", "kind", "status", "status_url", "input")} == {
            "scan_id": report["scan_id"], "kind": "url", "status": "done", "status_url": url,
            "input": DANGEROUS}
        assert body["report"] == report  # the answer as it was sent

        vi = (await c.get(url, params={"lang": "vi"})).json()["report"]
        assert [f["rule_id"] for f in vi["findings"]] == [f["rule_id"] for f in
                                                          report["findings"]]
        for f in vi["findings"]:
            assert f["title"] == rules.CATALOGUE[f["rule_id"]].title("vi")
        assert vi["reasons"] and vi["reasons"] != report["reasons"]
        assert vi["reasons"][0] == vi["findings"][0]["title"]  # the heaviest finding first
        assert {k: vi[k] for k in ("risk_score", "verdict", "url")} == {
            k: report[k] for k in ("risk_score", "verdict", "url")}
        # the server default language (vi) when none is asked
        assert (await c.get(url)).json()["report"]["reasons"] == vi["reasons"]

        assert_problem(await c.get("/v1/scans/0123456789abcdef"), 404, "no scan")


async def test_relabel_rebuilds_reasons_like_the_aggregate() -> None:
    """The stored report's reasons in another language are those a new scan would give."""
    for url in (DANGEROUS, OFFICIAL):
        en = await scan_url(url, [default_scanner()], "en")
        vi = await scan_url(url, [default_scanner()], "vi")
        assert en["reasons"] != vi["reasons"]
        assert relabel(en, "vi") == vi
        assert relabel(vi, "en") == en
    assert relabel(vi, "en") == en


async def test_clients_see_their_own_scans_analysts_see_all(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    a_id, a_key = await make_key(settings, "client", "a")
    b_id, b_key = await make_key(settings, "client", "b")
    _, analyst_key = await make_key(settings, "analyst", "analyst")
    async with app_client(settings, a_key) as a:
        async with as_key(a, b_key) as b, as_key(a, analyst_key) as analyst:
            mine = await scan_link(a, DANGEROUS)
            other = await scan_link(b, DANGEROUS)
            also_mine = await scan_link(a, PLAIN)

            assert ids(await search(a)) == [also_mine["scan_id"], mine["scan_id"]]
            assert ids(await search(b)) == [other["scan_id"]]
            assert ids(await search(b, q="example")) == []
            assert ids(await search(analyst)) == [also_mine["scan_id"], other["scan_id"],
                                                  mine["scan_id"]]
            assert (await search(a, verdict="dangerous"))["total"] == 1

            # another client's scan does not exist for b; the analyst and a see it
            assert_problem(await b.get(f"/v1/scans/{mine['scan_id']}"), 404)
            assert (await analyst.get(f"/v1/scans/{mine['scan_id']}")).status_code == 200
            assert (await a.get(f"/v1/scans/{mine['scan_id']}")).status_code == 200

            # the history's own interface (what the console calls) applies the same rule
            history: ScanHistory = a.app.state.services.history  # type: ignore[attr-defined]
            record = await history.get(mine["scan_id"])
            assert record is not None and record["owner"] == a_id != b_id
            assert record["report"]["scan_id"] == mine["scan_id"]
        unauthenticated = await a.get(HISTORY, headers={"X-API-Key": "ss_wrong"})
        assert_problem(unauthenticated, 401)


@pytest.mark.slow
async def test_apk_verdict_is_searchable_once_the_job_finishes(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        queued = await upload(c, "fake_dichvucong.apk")  # no wait: nobody polls it
        sha = sha256_of("fake_dichvucong.apk")
        jobs: JobManager = c.app.state.services.jobs  # type: ignore[attr-defined]
        job = await jobs.lookup(queued["scan_id"])
        assert job is not None
        assert await jobs.wait(job, 60), "the scan did not finish"

        found = await search(c, verdict="dangerous")
        assert ids(found) == [queued["scan_id"]]
        item = found["items"][0]
        assert {k: item[k] for k in ("kind", "status", "input", "package", "label", "sha256",
                                     "verdict", "risk_score")} == {
            "kind": "apk", "status": "done", "input": "fake_dichvucong.apk",
            "package": "vn.gov.dichvucong.app", "label": "Dịch vụ công", "sha256": sha,
            "verdict": "dangerous", "risk_score": 100}
        # by package, label, sha256 prefix and whole, kind
        assert ids(await search(c, q="DICHVUCONG.APP")) == [queued["scan_id"]]
        assert ids(await search(c, q="dịch vụ")) == [queued["scan_id"]]
        assert ids(await search(c, q=sha[:12])) == [queued["scan_id"]]
        assert ids(await search(c, q=sha)) == [queued["scan_id"]]
        assert ids(await search(c, kind="apk")) == [queued["scan_id"]]
        assert (await search(c, kind="url"))["total"] == 0

        # a second upload answered from the stored report is recorded done at once, with
        # its verdict (written when answered, not left to the sync)
        again = await upload(c, "fake_dichvucong.apk", wait=5)
        assert again["deduplicated"] is True
        history: ScanHistory = c.app.state.services.history  # type: ignore[attr-defined]
        await history.flush()
        stored = await history.backend.get(again["scan_id"])
        assert stored is not None and stored["verdict"] == "dangerous"
        assert stored["package"] == "vn.gov.dichvucong.app"
        assert [i for i, _ in await history.backend.pending(100)] == []
        assert ids(await search(c, verdict="dangerous")) == [again["scan_id"],
                                                            queued["scan_id"]]
        # a refused file: failed, no verdict, not found by verdict
        bad = await c.post("/v1/apk-scans", params={"wait": 30},
                           files={"file": ("x.apk", b"MZ not an app", APK_TYPE)})
        assert bad.json()["status"] == "failed"
        failed = (await search(c, q="x.apk"))["items"]
        assert [(i["status"], i["verdict"]) for i in failed] == [("failed", None)]


async def test_bad_parameters_are_problems(tmp_path: Path) -> None:
    async with app_client(settings_for(tmp_path)) as c:
        for params, field in (({"per_page": 0}, "per_page"), ({"per_page": 101}, "per_page"),
                              ({"page": 0}, "page"), ({"page": "x"}, "page"),
                              ({"kind": "exe"}, "kind"), ({"verdict": "bad"}, "verdict"),
                              ({"q": "x" * 257}, "q")):
            body = assert_problem(await c.get(HISTORY, params=params), 422)
            assert [e["field"] for e in body["errors"]] == [field], body
            assert body["errors"][0]["location"] == "query"
        # the interface the console calls refuses the same values
        history: ScanHistory = c.app.state.services.history  # type: ignore[attr-defined]
        from api.auth import Principal
        from api.problems import ProblemException

        admin = Principal(None, "admin", "local", "127.0.0.1")
        with pytest.raises(ProblemException) as e:
            await history.search(admin, None, "exe", "bad", 1, 500)
        assert e.value.status_code == 422
        assert [x.field for x in e.value.errors or []] == ["kind", "verdict", "per_page"]


@pytest.mark.slow
async def test_the_history_is_bounded_and_survives_a_restart(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, history_max_records=100)
    async with app_client(settings) as c:
        made = [(await scan_link(c, f"site{i}.example.net"))["scan_id"] for i in range(105)]
        page = await search(c, per_page=100)
        assert page["total"] == 100
        assert ids(page) == made[:4:-1]  # the newest 100, newest first
        assert_problem(await c.get(f"/v1/scans/{made[0]}"), 404)
    async with app_client(settings) as c:  # a restarted service answers the same
        assert (await search(c))["total"] == 100
        assert (await c.get(f"/v1/scans/{made[-1]}")).json()["report"]["host"] == (
            "site104.example.net")
    with closing(sqlite3.connect(tmp_path / "history.sqlite3")) as db:
        # the pruned records' reports went with them
        assert db.execute("SELECT count(*) FROM reports").fetchone() == (100,)
        assert db.execute("SELECT count(*) FROM scans").fetchone() == (100,)


async def test_a_big_report_is_kept_without_its_evidence(tmp_path: Path) -> None:
    history = ScanHistory(SqliteHistory(tmp_path / "h.sqlite3", 100), report_max_bytes=2048)
    history.start()
    try:
        findings = [{"rule_id": "URL-GOV-002", "points": 50, "severity": "critical",
                     "title": "t", "evidence": {"blob": "x" * 4000}}]
        history.record_url({"scan_id": "big", "input": "a.example", "host": "a.example",
                            "verdict": "dangerous", "risk_score": 50, "reasons": ["t"],
                            "findings": findings}, owner=None, lang="en")
        history.record_url({"scan_id": "huge", "input": "b.example",
                            "verdict": "no_known_risk",
                            "reasons": ["y" * 5000], "findings": []}, owner=None, lang="en")
        big, huge = await history.get("big"), await history.get("huge")
    finally:
        await history.aclose()
    assert big is not None and huge is not None
    assert big["report"]["findings"][0]["evidence"] == {"omitted": "too large to keep"}
    assert big["report"]["findings"][0]["rule_id"] == "URL-GOV-002"
    assert huge["report"] is None and huge["input"] == "b.example"


# --- Redis ----------------------------------------------------------------------------------


def redis_settings(data_dir: Path, url: str, **overrides: Any) -> Settings:
    return settings_for(data_dir, redis_url=url, **overrides)


async def test_redis_history_is_shared_by_replicas_with_visibility(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    settings = redis_settings(tmp_path / "data", redis_server.url)
    a_id, a_key = await make_key(settings, "client", "a")
    _, b_key = await make_key(settings, "client", "b")
    _, analyst_key = await make_key(settings, "analyst", "analyst")
    async with app_client(settings, a_key) as one, app_client(settings, analyst_key) as two, \
            as_key(one, b_key) as b:
        mine = await scan_link(one, DANGEROUS, lang="en")
        other = await scan_link(b, f"https://{PLAIN}/x")
        official = await scan_link(one, OFFICIAL)
        await search(one)  # a replica makes its queued writes before it answers

        # the other replica (an analyst) sees all three, newest first
        everything = await search(two)
        assert ids(everything) == [official["scan_id"], other["scan_id"],
                                   mine["scan_id"]]
        assert everything["total"] == 3
        assert everything["items"][2]["registrable_domain"] == "hgov.cc"
        assert ids(await search(two, q="HGOV")) == [mine["scan_id"]]
        assert ids(await search(two, verdict="official")) == [official["scan_id"]]
        assert ids(await search(two, kind="url", q="example.org/x")) == [other["scan_id"]]
        assert (await search(two, kind="apk"))["total"] == 0
        p2 = await search(two, per_page=2, page=2)
        assert ids(p2) == [mine["scan_id"]] and p2["total"] == 3

        # clients: their own only (also when filtering)
        assert ids(await search(one)) == [official["scan_id"], mine["scan_id"]]
        assert ids(await search(b)) == [other["scan_id"]]
        assert ids(await search(b, q="hgov")) == []
        assert_problem(await b.get(f"/v1/scans/{mine['scan_id']}"), 404)

        # the link scan by id, from the other replica, in Vietnamese
        vi = await two.get(f"/v1/scans/{mine['scan_id']}", params={"lang": "vi"})
        assert vi.status_code == 200, vi.text
        assert vi.json()["kind"] == "url"
        assert vi.json()["report"]["reasons"][0] == rules.CATALOGUE[
            vi.json()["report"]["findings"][0]["rule_id"]].title("vi")
    record = rdb.hgetall(f"{PREFIX}rec:{mine['scan_id']}")
    assert record[b"owner"] == a_id.encode() and record[b"kind"] == b"url"
    assert rdb.zcard(f"{PREFIX}index") == 3


async def test_redis_history_is_bounded(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    settings = redis_settings(tmp_path / "data", redis_server.url, history_max_records=100)
    async with app_client(settings) as c:
        made = [(await scan_link(c, f"site{i}.example.net"))["scan_id"] for i in range(110)]
        page = await search(c, per_page=100, q="example.net")
        assert page["total"] == 100 and ids(page) == made[:9:-1]
        assert (await search(c))["total"] == 100
        assert_problem(await c.get(f"/v1/scans/{made[0]}"), 404)
    assert rdb.zcard(f"{PREFIX}index") == 100
    assert rdb.hlen(f"{PREFIX}lines") == 100
    assert len(list(rdb.scan_iter(f"{PREFIX}rec:*"))) == 100


async def test_redis_down_scans_still_work_searches_are_503(
    own_redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = redis_settings(tmp_path / "data", own_redis_server.url)
    async with app_client(settings) as c:
        kept = await scan_link(c, DANGEROUS)
        assert (await search(c))["total"] == 1
        own_redis_server.__exit__(None, None, None)  # Redis goes away
        t0 = time.monotonic()
        lost = await c.post(SCANS, json={"url": PLAIN, "lang": "en"})
        assert lost.status_code == 200, lost.text  # the scan is answered all the same
        assert lost.json()["verdict"] == "no_known_risk"
        body = assert_problem(await c.get(HISTORY), 503, "history")
        assert body["type"].startswith("tag:scamscan")
        # the lost record was reported as a warning (the search waited for that write)
        lost_writes = [r for r in caplog.records if r.levelname == "WARNING"
                       and "scan history" in r.getMessage()]
        assert lost_writes and "not written" in lost_writes[0].getMessage()
        assert_problem(await c.get(f"/v1/scans/{kept['scan_id']}"), 503)
        assert time.monotonic() - t0 < 30


@pytest.mark.slow
async def test_redis_apk_verdict_from_a_worker_is_searchable(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    worker = Worker(redis_server.url, data, tmp_path / "worker.log")
    try:
        worker.wait_ready(rdb)
        async with app_client(redis_settings(data, redis_server.url)) as c:
            queued = await upload(c, "fake_dichvucong.apk")
            assert queued["status"] in ("queued", "running")
            # Nobody polls the scan: wait on its job record in Redis only.
            deadline = time.monotonic() + 90
            while status_of(rdb, queued["scan_id"]) != "done":
                assert time.monotonic() < deadline, worker.output()
                await asyncio.sleep(0.1)
            found = await search(c, verdict="dangerous")
            assert ids(found) == [queued["scan_id"]]
            assert found["items"][0]["package"] == "vn.gov.dichvucong.app"
            assert found["items"][0]["risk_score"] == 100
            assert ids(await search(c, q="dichvucong.app", kind="apk")) == [queued["scan_id"]]
        assert rdb.zcard(f"{PREFIX}pending") == 0  # nothing left to sync
    finally:
        worker.stop()
