"""Retention: uploaded samples, APK reports and scan records older than
``SCAMSCAN_RETENTION_DAYS`` are deleted (0, the default: everything is kept).

The API runs :func:`sweep` once when it starts and then every
:data:`SWEEP_EVERY` seconds (:class:`Retention`, started by the app's
lifespan). Each replica sweeps; a sweep is idempotent, so replicas sweeping
at once only repeat each other's work. What goes, when it is older than the
cut-off (now minus the retention):

* **samples** (``<data_dir>/samples/ab/cd/<sha256>``) by their modification
  time. An upload of a file already stored touches it
  (:func:`api.samples._settle`), so a sample that is still being uploaded and
  scanned is never "old";
* **APK report files** (``<data_dir>/reports/<version>/*.json``, embedded
  mode) by their modification time; a later upload of the same file is
  scanned again;
* **embedded job records** (``<data_dir>/jobs.sqlite3``): finished records
  created before the cut-off;
* **Redis job records and reports** (``scamscan:job:*``,
  ``scamscan:report:*``): they expire ``SCAMSCAN_APK_RECORD_TTL`` seconds
  after their last write anyway; when the retention is shorter, a key whose
  remaining TTL shows it was last written before the cut-off is deleted;
* **the scan history** (SQLite or Redis): records created before the cut-off
  (:meth:`api.services.history.ScanHistory.prune`).

A failed part (Redis away, a file that vanished) is logged and the sweep goes
on with the next part; the next sweep tries again. Temporary uploads
(``samples/tmp``) are never touched here (the API clears them at start).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.jobs import JobStore
from api.services.history import ScanHistory
from api.settings import Settings
from api.storage.errors import StorageUnavailable
from api.storage.redis import async_client

log = logging.getLogger("scamscan.retention")

SWEEP_EVERY = 3600.0
"""Seconds between two sweeps of one API process."""
DAY = 86400.0
REDIS_SCAN_COUNT = 500
"""Keys one Redis ``SCAN`` step looks at."""
JOBS_FILE = "jobs.sqlite3"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Swept:
    """What one sweep deleted."""

    samples: int = 0
    reports: int = 0
    job_records: int = 0
    history: int = 0

    def total(self) -> int:
        return self.samples + self.reports + self.job_records + self.history


def _unlink_older(paths: list[Path], cutoff: float) -> int:
    gone = 0
    for path in paths:
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                gone += 1
        except FileNotFoundError:  # removed meanwhile (another replica's sweep)
            continue
    return gone


def sweep_files(data_dir: Path, cutoff: float) -> tuple[int, int]:
    """Delete samples and APK report files last modified before ``cutoff`` (Unix
    time); ``(samples, reports)`` deleted. Blocking: run it in a thread."""
    samples_dir, reports_dir = data_dir / "samples", data_dir / "reports"
    # Only content addresses (ab/cd/<sha256>): never tmp/ nor anything else.
    samples = [p for p in samples_dir.glob("??/??/*")
               if _SHA256.fullmatch(p.name) and p.parent.parent.name == p.name[:2]
               and p.parent.name == p.name[2:4] and p.is_file()]
    reports = [p for p in reports_dir.glob("*/*.json") if p.is_file()]
    return _unlink_older(samples, cutoff), _unlink_older(reports, cutoff)


def prune_job_file(data_dir: Path, cutoff: float) -> int:
    """Finished embedded job records created before ``cutoff``; how many were deleted."""
    path = data_dir / JOBS_FILE
    if not path.is_file():
        return 0
    store = JobStore(path)
    try:
        return store.prune(datetime.fromtimestamp(cutoff, UTC))
    finally:
        store.close()


async def prune_redis_records(url: str, record_ttl: int, retention: float,
                              redis_timeout: float = 10.0) -> int:
    """Delete Redis job records and APK reports last written more than ``retention``
    seconds ago, read from their TTL (set to ``record_ttl`` at each write); how many
    were deleted. Nothing to do when the TTL is the shorter."""
    if retention >= record_ttl:
        return 0
    from api.queue import PREFIX  # imports dramatiq: only in Redis mode

    # Remaining TTL below this: last written before the cut-off.
    below = record_ttl - retention
    gone = 0
    client = async_client(url, redis_timeout)
    try:
        for pattern in (f"{PREFIX}job:*", f"{PREFIX}report:*"):
            batch: list[bytes] = []
            async for key in client.scan_iter(match=pattern, count=REDIS_SCAN_COUNT):
                batch.append(key)
                if len(batch) >= REDIS_SCAN_COUNT:
                    gone += await _delete_aged(client, batch, below)
                    batch = []
            gone += await _delete_aged(client, batch, below)
    finally:
        await client.aclose()
    return gone


async def _delete_aged(client: aioredis.Redis, keys: list[bytes], below: float) -> int:
    if not keys:
        return 0
    async with client.pipeline(transaction=False) as p:
        for key in keys:
            p.ttl(key)
        ttls = await p.execute()
    # TTL -1 (no expiry: not ours to judge) and -2 (gone) are left alone.
    aged = [k for k, t in zip(keys, ttls, strict=True) if 0 <= int(t) < below]
    if aged:
        await client.delete(*aged)
    return len(aged)


async def sweep(settings: Settings, history: ScanHistory | None,
                now: float | None = None) -> Swept:
    """One sweep with ``settings.retention_days`` (``now``: Unix time, default the
    clock's). Never raises for a failed part: it is logged and skipped."""
    swept = Swept()
    if settings.retention_days <= 0:
        return swept
    retention = settings.retention_days * DAY
    cutoff = (time.time() if now is None else now) - retention
    data_dir = Path(settings.data_dir)
    try:
        swept.samples, swept.reports = await asyncio.to_thread(sweep_files, data_dir, cutoff)
        if not settings.redis_url:
            swept.job_records = await asyncio.to_thread(prune_job_file, data_dir, cutoff)
    except (OSError, sqlite3.Error, RuntimeError) as e:
        log.warning("retention: the data directory sweep failed: %s", e)
    if settings.redis_url:
        try:
            swept.job_records = await prune_redis_records(
                settings.redis_url, settings.apk_record_ttl, retention, settings.redis_timeout)
        except (RedisError, OSError) as e:
            log.warning("retention: pruning Redis job records failed: %s", e)
    if history is not None:
        try:
            swept.history = await history.prune(datetime.fromtimestamp(cutoff, UTC))
        except StorageUnavailable as e:
            log.warning("retention: pruning the scan history failed: %s", e)
    if swept.total():
        log.info("retention (%s days): deleted %d samples, %d report files, %d job records, "
                 "%d history records", settings.retention_days, swept.samples, swept.reports,
                 swept.job_records, swept.history)
    return swept


CLOSE_WAIT = 5.0
"""Seconds :meth:`Retention.aclose` waits for a sweep in progress to end."""


class Retention:
    """:func:`sweep` now and then every ``every`` seconds, on the event loop."""

    def __init__(self, settings: Settings, history: ScanHistory | None,
                 every: float = SWEEP_EVERY) -> None:
        self.settings = settings
        self.history = history
        self.every = every
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Start sweeping (nothing when the retention is off)."""
        if self.settings.retention_days > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        # Checks _closed too: a cancellation that arrives inside a Redis call can be
        # swallowed by the client library (as in api.services.history's prune loop).
        while not self._closed:
            await sweep(self.settings, self.history)
            if self._closed:
                return
            await asyncio.sleep(self.every)

    async def aclose(self) -> None:
        """Stop sweeping (waiting at most :data:`CLOSE_WAIT` seconds). Never raises."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=CLOSE_WAIT)
