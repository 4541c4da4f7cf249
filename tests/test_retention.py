"""Retention (api/retention.py): samples, reports, job records and history older
than ``SCAMSCAN_RETENTION_DAYS`` are deleted, the rest kept.

A real data directory whose files get their ages from ``os.utime``, the sweep's
clock passed in (``now``) instead of waiting days; real apps with their
lifespan (the process pool and androguard on the committed fixtures) and a
throw-away Debian ``redis-server`` for the Redis parts. No mocks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from api.retention import DAY, sweep
from api.services.history import ScanHistory
from api.storage.history import PREFIX, RedisHistory
from tests.live_servers_age import RedisServer, free_port
from tests.test_history import app_client, scan_link, search, settings_for, upload

pytestmark = pytest.mark.anyio

OLD_SHA = "abcd" + "0" * 60
YOUNG_SHA = "abce" + "1" * 60


def aged(path: Path, days: float, now: float, data: bytes = b"x") -> Path:
    """A file at ``path`` last modified ``days`` before ``now``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (now - days * DAY, now - days * DAY))
    return path


def sample_path(data: Path, sha: str) -> Path:
    return data / "samples" / sha[:2] / sha[2:4] / sha


async def test_old_samples_and_reports_go_the_rest_stays(tmp_path: Path) -> None:
    data, now = tmp_path / "data", time.time()
    old = aged(sample_path(data, OLD_SHA), 10, now)
    young = aged(sample_path(data, YOUNG_SHA), 3, now)
    partial = aged(data / "samples" / "tmp" / "upload-123", 10, now)  # the API's business
    stray = aged(data / "samples" / "ab" / "cd" / "notes.txt", 10, now)  # not an address
    misplaced = aged(data / "samples" / "ff" / "ff" / OLD_SHA, 10, now)  # not *its* address
    old_report = aged(data / "reports" / "apk-1" / f"{OLD_SHA}.json", 8, now)
    young_report = aged(data / "reports" / "apk-1" / f"{YOUNG_SHA}.json", 6, now)
    keys = aged(data / "keys.sqlite3", 30, now)

    off = await sweep(settings_for(data, retention_days=0), None, now=now)
    assert off.total() == 0 and old.exists() and old_report.exists()

    swept = await sweep(settings_for(data, retention_days=7), None, now=now)
    assert (swept.samples, swept.reports, swept.job_records, swept.history) == (1, 1, 0, 0)
    assert not old.exists() and not old_report.exists()
    assert all(p.exists() for p in (young, partial, stray, misplaced, young_report, keys))

    again = await sweep(settings_for(data, retention_days=7), None, now=now)
    assert again.total() == 0
    # Ten days later the young ones are old too.
    later = await sweep(settings_for(data, retention_days=7), None, now=now + 10 * DAY)
    assert (later.samples, later.reports) == (1, 1)
    assert not young.exists() and not young_report.exists() and partial.exists()


async def test_embedded_scans_history_and_job_records_are_pruned(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", retention_days=7)
    async with app_client(settings) as c:
        link = await scan_link(c, "dichvucong.hgov.cc")
        apk = await upload(c, "fake_vneid.apk", wait=60)
        assert apk["status"] == "done", apk
        assert (await search(c))["total"] == 2
        history = c.app.state.services.history  # type: ignore[attr-defined]
        samples = [p for p in (settings.data_dir / "samples").rglob("*")
                   if p.is_file() and p.parent.name != "tmp"]
        reports = list((settings.data_dir / "reports").rglob("*.json"))
        assert len(samples) == 1 and len(reports) == 1

        # Six days on, with a retention of seven: nothing is old yet.
        kept = await sweep(settings, history, now=time.time() + 6 * DAY)
        assert kept.total() == 0
        assert (await search(c))["total"] == 2
        assert (await c.get(f"/v1/scans/{link['scan_id']}")).status_code == 200

        # Eight days on: the scans, their files and their records are gone.
        swept = await sweep(settings, history, now=time.time() + 8 * DAY)
        assert (swept.samples, swept.reports, swept.history) == (1, 1, 2)
        assert swept.job_records == 1  # the finished APK job in jobs.sqlite3
        assert not any(p.exists() for p in samples + reports)
        assert (await search(c))["total"] == 0
        r = await c.get(f"/v1/scans/{link['scan_id']}")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")

        # The same file uploaded again is scanned again, from a new copy.
        again = await upload(c, "fake_vneid.apk", wait=60)
        assert again["status"] == "done" and not again.get("deduplicated"), again
        assert again["report"]["verdict"] == apk["report"]["verdict"]


async def test_an_upload_of_a_stored_sample_makes_it_young(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", retention_days=7)
    async with app_client(settings) as c:
        first = await upload(c, "benign_notes.apk", wait=60)
        path = sample_path(settings.data_dir, first["sha256"])
        now = time.time()
        os.utime(path, (now - 10 * DAY, now - 10 * DAY))
        await upload(c, "benign_notes.apk")  # the same bytes: the stored copy is kept
        assert path.stat().st_mtime > now - 60
        assert (await sweep(settings, None, now=now)).samples == 0
        assert path.exists()


async def test_the_server_sweeps_when_it_starts(tmp_path: Path) -> None:
    data, now = tmp_path / "data", time.time()
    old = aged(sample_path(data, OLD_SHA), 10, now)
    young = aged(sample_path(data, YOUNG_SHA), 1, now)
    async with app_client(settings_for(data, retention_days=7)):
        for _ in range(200):  # the first sweep runs in the background at start
            if not old.exists():
                break
            await asyncio.sleep(0.05)
        assert not old.exists() and young.exists()
    async with app_client(settings_for(data, retention_days=0)) as c:
        assert c.app.state.services.retention._task is None  # type: ignore[attr-defined]


# --- Redis ------------------------------------------------------------------------------


async def test_redis_records_reports_and_history_are_pruned(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ttl = 30 * 86400
    settings = settings_for(tmp_path / "data", redis_url=redis_server.url, retention_days=7,
                            apk_record_ttl=ttl)
    # Remaining TTL = record TTL minus the time since the key was last written.
    rdb.set("scamscan:report:apk-1:old", "{}", ex=ttl - 10 * 86400)
    rdb.set("scamscan:report:apk-1:new", "{}", ex=ttl - 86400)
    rdb.hset("scamscan:job:old", mapping={"status": "done"})
    rdb.expire("scamscan:job:old", ttl - 8 * 86400)
    rdb.hset("scamscan:job:new", mapping={"status": "queued"})
    rdb.expire("scamscan:job:new", ttl)
    rdb.set("scamscan:job:no-ttl", "x")  # not written by the queue: not judged
    rdb.set("other:report:old", "x", ex=60)

    history = ScanHistory(RedisHistory(redis_server.url, 100))
    history.start()
    try:
        report = {"input": "a.example", "verdict": "no_known_risk", "risk_score": 0,
                  "reasons": [], "findings": []}
        ten_days_ago = datetime.now(UTC) - timedelta(days=10)
        with monkeypatch.context() as m:
            m.setattr(history, "clock", lambda: ten_days_ago)
            history.record_url({**report, "scan_id": "old-scan"}, owner=None, lang="en")
            await history.flush()
        history.record_url({**report, "scan_id": "new-scan"}, owner=None, lang="en")
        await history.flush()

        # A retention longer than the record TTL leaves the records to their TTL.
        longer = await sweep(settings_for(tmp_path / "data", redis_url=redis_server.url,
                                          retention_days=60, apk_record_ttl=ttl), history)
        assert longer.total() == 0

        swept = await sweep(settings, history)
        assert (swept.job_records, swept.history) == (2, 1)
        left = [*rdb.scan_iter("*:report:*"), *rdb.scan_iter("*:job:*")]
        assert sorted(k.decode() if isinstance(k, bytes) else k for k in left) == [
            "other:report:old", "scamscan:job:new", "scamscan:job:no-ttl",
            "scamscan:report:apk-1:new"]
        assert await history.get("old-scan") is None
        assert await history.get("new-scan") is not None
        assert not rdb.hexists(PREFIX + "lines", "old-scan")
        assert rdb.zscore(PREFIX + "index", "old-scan") is None
        assert rdb.zcard(PREFIX + "index") == 1
    finally:
        await history.aclose()


async def test_a_sweep_with_redis_down_logs_and_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data, now = tmp_path / "data", time.time()
    old = aged(sample_path(data, OLD_SHA), 10, now)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = settings_for(data, redis_url=dead, retention_days=7, apk_record_ttl=30 * 86400)
    history = ScanHistory(RedisHistory(dead, 100))
    with caplog.at_level(logging.WARNING, logger="scamscan.retention"):
        swept = await sweep(settings, history, now=now)
    await history.aclose()
    assert swept.samples == 1 and not old.exists()  # the files are swept all the same
    assert (swept.job_records, swept.history) == (0, 0)
    messages = [r.getMessage() for r in caplog.records]
    assert any("Redis job records failed" in m for m in messages), messages
    assert any("scan history failed" in m for m in messages), messages
