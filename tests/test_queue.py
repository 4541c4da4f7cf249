"""APK scans through the Redis job queue (dramatiq) and ``scamscan worker``.

Everything is real: a throw-away ``redis-server`` on a loopback port, worker
subprocesses (``python -m api.cli worker``), the app through httpx's ASGI
transport with its lifespan entered, androguard on the committed fixtures.
No mocks.

A worker started with ``SCAMSCAN_TEST_JOB_DELAY`` runs as
``python -m tests.slow_worker`` (:mod:`tests.slow_worker`): it sleeps that long
in a job before scanning, so that a test can kill it in the middle of one. The tests lower
``SCAMSCAN_QUEUE_HEARTBEAT_TIMEOUT`` to 4 s (15 s by default) so that a dead
worker's job comes back quickly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from api.jobs import JobManager
from api.main import create_app
from api.queue import WORKERS_KEY, RedisJobManager, job_key, report_key
from api.worker import HEARTBEAT_EVERY, HEARTBEAT_FORGET, Heartbeat
from scanners.apk_report import ApkResult, scan_apk_path
from tests.live_servers_age import RedisServer
from tests.test_api_apk import APK_TYPE, FIXTURES, UPLOAD, apk_settings, assert_problem

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
HEARTBEAT_TIMEOUT = "4"



class SamePortRedis(RedisServer):
    """A ``redis-server`` on a given port: the same server again after a stop."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class Worker:
    """A ``scamscan worker`` subprocess; its output goes to a log file."""

    def __init__(self, url: str, data_dir: Path, log: Path, **env: str) -> None:
        self.log_path = log
        self._log = log.open("ab")
        # A delayed worker is the test launcher around the same worker (tests.slow_worker).
        entry = ["tests.slow_worker"] if "SCAMSCAN_TEST_JOB_DELAY" in env else ["api.cli",
                                                                                "worker"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *entry],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "SCAMSCAN_REDIS_URL": url, "SCAMSCAN_DATA_DIR": str(data_dir),
                 "SCAMSCAN_QUEUE_HEARTBEAT_TIMEOUT": HEARTBEAT_TIMEOUT,
                 "SCAMSCAN_LOG_LEVEL": "INFO", **env})

    def wait_ready(self, rdb: redis.Redis, timeout: float = 30) -> str:
        """The worker's id once it is in ``scamscan:workers``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            for member in rdb.zrange(WORKERS_KEY, 0, -1):
                if f":{self.proc.pid}:" in text(member):
                    return text(member)
            time.sleep(0.1)
        raise AssertionError(f"the worker did not start:\n{self.output()}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text("utf-8", "replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()


@asynccontextmanager
async def api(url: str, data_dir: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(apk_settings(data_dir, redis_url=url, **overrides))
    async with app.router.lifespan_context(app):
        assert isinstance(app.state.services.jobs, RedisJobManager)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     timeout=90) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def upload(client: httpx.AsyncClient, fixture: str, *, wait: float | None = None,
                 filename: str | None = None) -> httpx.Response:
    params = {"wait": wait} if wait is not None else {}
    files = {"file": (filename or fixture, (FIXTURES / fixture).read_bytes(), APK_TYPE)}
    return await client.post(UPLOAD, params=params, files=files)


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def status_of(rdb: redis.Redis, scan_id: str) -> str | None:
    value = rdb.hget(job_key(scan_id), "status")
    return value.decode() if isinstance(value, bytes) else None


def jobs_of(client: httpx.AsyncClient) -> RedisJobManager:
    jobs: RedisJobManager = client.app.state.services.jobs  # type: ignore[attr-defined]
    return jobs


# --- tests ------------------------------------------------------------------------


@pytest.mark.slow
async def test_scans_run_in_a_worker_and_are_shared(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    worker = Worker(redis_server.url, data, tmp_path / "worker.log")
    try:
        worker.wait_ready(rdb)
        async with api(redis_server.url, data) as one, api(redis_server.url, data) as two:
            r = await upload(one, "fake_dichvucong.apk", wait=60)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["status"] == "done" and body["deduplicated"] is False, body
            assert body["report"]["verdict"] == "dangerous"
            assert body["report"]["package"] == "vn.gov.dichvucong.app"
            assert {"APK-IMP-003", "APK-CAP-020"} <= {
                f["rule_id"] for f in body["report"]["findings"]}
            assert status_of(rdb, body["scan_id"]) == "done"

            # the same file again: answered at once from the stored report
            started = jobs_of(one).scans_started
            t0 = time.monotonic()
            again = await upload(one, "fake_dichvucong.apk", filename="again.apk")
            assert time.monotonic() - t0 < 2
            assert again.status_code == 200, again.text
            assert again.json()["deduplicated"] is True and again.json()["status"] == "done"
            assert again.json()["report"]["input"] == "again.apk"
            assert {**again.json()["report"], "input": None} == {**body["report"], "input": None}
            assert jobs_of(one).scans_started == started

            # without wait: 202 queued (or running), then done; the other app sees it too
            r = await upload(one, "fake_vneid.apk")
            assert r.status_code == 202, r.text
            queued = r.json()
            assert queued["status"] in ("queued", "running") and "report" not in queued
            assert r.headers["location"] == queued["status_url"]
            seen = {queued["status"]}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                g = (await two.get(queued["status_url"])).json()
                seen.add(g["status"])
                if g["status"] in ("done", "failed"):
                    break
                await asyncio.sleep(0.05)
            assert g["status"] == "done", g
            assert {"queued", "done"} <= seen
            assert g["started"] and g["finished"] and g["created"] <= g["finished"]
            assert g["report"]["package"] == "com.vnid"
            same = (await one.get(queued["status_url"])).json()
            assert same["report"] == g["report"]

            # two uploads of one file at once: one scan, the second follows it
            started = jobs_of(one).scans_started + jobs_of(two).scans_started
            a, b = await asyncio.gather(upload(one, "hidden_launcher.apk"),
                                        upload(two, "hidden_launcher.apk", filename="b.apk"))
            assert sorted([a.json()["deduplicated"], b.json()["deduplicated"]]) == [False, True]
            done = [(await one.get(x.json()["status_url"], params={"wait": 60})).json()
                    for x in (a, b)]
            assert [d["status"] for d in done] == ["done", "done"], done
            assert done[0]["report"]["risk_score"] == done[1]["report"]["risk_score"]
            assert done[1]["report"]["input"] == "b.apk"
            assert jobs_of(one).scans_started + jobs_of(two).scans_started == started + 1

            # a refused file ends failed with its reason (no retry)
            bad = (await upload(two, "not_zip.apk", wait=60)).json()
            assert bad["status"] == "failed" and bad["error_kind"] == "not-zip", bad
            assert rdb.hget(job_key(bad["scan_id"]), "attempts") == b"1"

            # unknown ids are 404 problems
            assert_problem(await one.get("/v1/scans/" + "0" * 32), 404)
    finally:
        assert worker.stop() == 0, worker.output()


@pytest.mark.slow
async def test_worker_heartbeat_and_clean_stop(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    worker = Worker(redis_server.url, tmp_path / "data", tmp_path / "worker.log")
    try:
        worker_id = worker.wait_ready(rdb)
        score = rdb.zscore(WORKERS_KEY, worker_id)
        assert score is not None and abs(time.time() - score) < 10
        # Later beats: test_heartbeat_beats_on_its_clock (no waiting for a real beat here).
    finally:
        code = worker.stop(signal.SIGTERM)
    assert code == 0, worker.output()
    assert rdb.zscore(WORKERS_KEY, worker_id) is None
    assert "stopped" in worker.output()


def test_heartbeat_beats_on_its_clock(redis_server: RedisServer, rdb: redis.Redis) -> None:
    """Each beat writes the clock's time; old entries go; stop() removes this worker."""

    class Clock:
        now = 1_000_000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    rdb.zadd(WORKERS_KEY, {"gone:1:a": clock.now - HEARTBEAT_FORGET + HEARTBEAT_EVERY + 2,
                           "other:2:b": clock.now})
    beat = Heartbeat(redis_server.url, "w:1:x", every=3600, clock=clock)
    beat.start()
    beat.stop()
    assert rdb.zscore(WORKERS_KEY, "w:1:x") is None  # a clean stop leaves no entry
    beat = Heartbeat(redis_server.url, "w:1:x", clock=clock)
    try:
        beat.beat()
        assert rdb.zscore(WORKERS_KEY, "w:1:x") == clock.now
        clock.now += HEARTBEAT_EVERY
        beat.beat()  # the next beat moves the score on ...
        assert rdb.zscore(WORKERS_KEY, "w:1:x") == clock.now
        assert rdb.zscore(WORKERS_KEY, "gone:1:a") is not None
        clock.now += 5
        beat.beat()  # ... and forgets workers silent for HEARTBEAT_FORGET
        assert rdb.zscore(WORKERS_KEY, "gone:1:a") is None
        assert rdb.zscore(WORKERS_KEY, "other:2:b") is not None
    finally:
        beat.redis.close()


@pytest.mark.slow
async def test_killed_worker_job_is_redelivered(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    fixture = "benign_notes.apk"
    slow = Worker(redis_server.url, data, tmp_path / "slow.log", SCAMSCAN_TEST_JOB_DELAY="60")
    fresh: Worker | None = None
    try:
        slow.wait_ready(rdb)
        async with api(redis_server.url, data) as client:
            r = await upload(client, fixture)
            assert r.status_code == 202, r.text
            scan_id = r.json()["scan_id"]
            for _ in range(400):  # 20 s
                if status_of(rdb, scan_id) == "running":
                    break
                await asyncio.sleep(0.05)
            assert status_of(rdb, scan_id) == "running", slow.output()
            await asyncio.sleep(0.5)
            slow.stop(signal.SIGKILL)
            assert status_of(rdb, scan_id) == "running"  # nobody finished it
            assert rdb.get(report_key(r.json()["sha256"])) is None

            t0 = time.monotonic()
            fresh = Worker(redis_server.url, data, tmp_path / "fresh.log")
            body: dict[str, Any] = {}
            while time.monotonic() - t0 < 60:
                body = (await client.get(f"/v1/scans/{scan_id}", params={"wait": 10})).json()
                if body["status"] in ("done", "failed"):
                    break
            redelivered_in = time.monotonic() - t0
            assert body["status"] == "done", (body, fresh.output())
            assert redelivered_in < 60
            assert rdb.hget(job_key(scan_id), "attempts") == b"2"  # the killed run and this one

            # the same report as a scan in this process
            direct = scan_apk_path(FIXTURES / fixture, name=fixture).report("vi")
            assert body["report"] == direct
            stored = rdb.get(report_key(body["sha256"]))
            assert stored is not None
            assert ApkResult.from_json(text(stored)).report("vi") == direct

            # nothing left in the queue: the job is not run a third time
            assert not rdb.llen("scamscan:dramatiq:apk")
            assert not rdb.hlen("scamscan:dramatiq:apk.msgs")
    finally:
        slow.stop(signal.SIGKILL)
        if fresh is not None:
            assert fresh.stop() == 0, fresh.output()


@pytest.mark.redis  # its own server, which it stops
@pytest.mark.slow
async def test_redis_down_gives_503_and_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server: RedisServer = RedisServer(tmp_path).__enter__()
    worker: Worker | None = None
    try:
        rdb = redis.Redis.from_url(server.url, socket_timeout=5)
        worker = Worker(server.url, data, tmp_path / "worker.log")
        worker.wait_ready(rdb)
        async with api(server.url, data) as client:
            first = await upload(client, "debug_signed.apk", wait=60)
            assert first.json()["status"] == "done", first.text

            server.__exit__(None, None, None)  # Redis stops while the API runs
            r = await upload(client, "fake_vneid.apk", wait=5)
            body = assert_problem(r, 503, "unavailable")
            assert int(r.headers["retry-after"]) > 0
            assert body["status"] == 503
            g = await client.get(first.json()["status_url"])
            assert_problem(g, 503)
            # link scans do not need the queue
            u = await client.post("/v1/url-scans", json={"url": "dichvucong.gov.vn.hgov.cc"})
            assert u.status_code == 200, u.text

            server = SamePortRedis(tmp_path, server.port).__enter__()  # back, empty
            r = await upload(client, "fake_vneid.apk", wait=60)
            assert r.status_code == 200, (r.text, worker.output())
            assert r.json()["status"] == "done", r.json()
            assert r.json()["report"]["package"] == "com.vnid"
        rdb.close()
    finally:
        server.__exit__(None, None, None)
        if worker is not None:
            worker.stop(signal.SIGKILL)


def test_embedded_mode_without_redis(tmp_path: Path) -> None:
    """No redis_url: the embedded process pool, as before."""
    app = create_app(apk_settings(tmp_path))
    assert app.state.settings.redis_url is None

    async def check() -> None:
        async with app.router.lifespan_context(app):
            assert isinstance(app.state.services.jobs, JobManager)

    asyncio.run(check())


@pytest.mark.slow
async def test_job_time_limit_fails_the_job(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    worker = Worker(redis_server.url, data, tmp_path / "worker.log",
                    SCAMSCAN_APK_JOB_TIMEOUT="1", SCAMSCAN_TEST_JOB_DELAY="20")
    try:
        worker.wait_ready(rdb)
        async with api(redis_server.url, data) as client:
            t0 = time.monotonic()
            r = await upload(client, "unsigned.apk", wait=30)
            assert time.monotonic() - t0 < 10
            body = r.json()
            assert body["status"] == "failed" and body["error_kind"] == "timeout", body
            assert "time limit of 1 s" in body["reason"]
            assert rdb.hget(job_key(body["scan_id"]), "attempts") == b"1"  # not retried
            assert rdb.get(report_key(body["sha256"])) is None
    finally:
        assert worker.stop() == 0, worker.output()


@pytest.mark.slow
async def test_failing_job_is_retried_with_backoff_then_failed(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    """A sample the worker cannot find (a volume not mounted yet) is retried,
    then the job ends failed with the reason."""
    data = tmp_path / "data"
    async with api(redis_server.url, data) as client:
        r = await upload(client, "debug_signed.apk")  # no worker yet: it stays queued
        assert r.status_code == 202 and r.json()["status"] == "queued", r.text
        digest = r.json()["sha256"]
        (data / "samples" / digest[:2] / digest[2:4] / digest).unlink()
        worker = Worker(redis_server.url, data, tmp_path / "worker.log",
                        SCAMSCAN_APK_MAX_RETRIES="2", SCAMSCAN_APK_RETRY_BACKOFF="0.2")
        try:
            t0 = time.monotonic()
            body = (await client.get(r.json()["status_url"], params={"wait": 30})).json()
            assert body["status"] == "failed", (body, worker.output())
            assert body["error_kind"] == "sample-missing" and "3 attempts" in body["reason"]
            assert rdb.hget(job_key(body["scan_id"]), "attempts") == b"3"
            assert time.monotonic() - t0 < 20
            assert worker.output().count("Retrying message") == 2
        finally:
            assert worker.stop() == 0, worker.output()
        # the file uploaded again scans (failures are not reused)
        worker = Worker(redis_server.url, data, tmp_path / "worker2.log")
        try:
            again = (await upload(client, "debug_signed.apk", wait=60)).json()
            assert again["status"] == "done" and again["deduplicated"] is False, again
        finally:
            assert worker.stop() == 0, worker.output()
