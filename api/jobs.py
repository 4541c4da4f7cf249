"""APK scan jobs, embedded: a process pool inside the API service.

:class:`JobManager` turns a stored sample into a job and runs
:func:`run_apk_job` in a ``spawn`` :class:`~concurrent.futures.ProcessPoolExecutor`.
A job goes ``queued`` → ``running`` → ``done`` | ``failed``; it is
``running`` only while it holds one of the ``workers`` slots, so its time
limit counts its own run, not the queue.

Decisions:

* **A refused file is ``failed``**: not an APK, a Windows executable, a
  truncated or corrupt ZIP, a zip bomb, too many entries, no manifest. There
  is no verdict to give, so the job carries ``reason`` (the scanner's
  refusal) and ``error_kind`` (e.g. ``not-zip``, ``zip-bomb``) and no report.
  A file that was scanned, even partly, is ``done``.
* **Deduplication** by ``(sha256, SCANNER_VERSION)``: reports of ``done``
  scans are stored in ``reports_dir/<version>/<sha256>.json``, so a second
  upload of the same file is answered at once from it (also after a restart),
  and an upload of a file whose scan is still queued or running follows that
  scan instead of starting another. Either way the upload gets its *own*
  ``scan_id`` and the report shows its own file name (the first uploader's
  name is not shown to the next); ``deduplicated`` tells that no new scan
  ran, and :attr:`JobManager.scans_started` counts the scans that did.
  Failed scans are not reused: uploading again tries again. Once analysts
  made APK list entries (:mod:`api.lists`), the key also holds the version of
  those entries (``reports_dir/<version>/<sha256>.l<lists version>.json``), so
  a list change makes the next upload of a file scan again instead of
  answering with a report made before the change; removing the entries again
  brings the earlier reports back.
* **Time limit**: the worker arms a timer of ``timeout`` seconds when the
  scan starts and, when it fires, kills the scan's parse subprocess and
  raises :class:`JobTimeout`; the parent also gives up ``TIMEOUT_GRACE``
  seconds later (a worker stuck beyond its timer). Either way the job ends
  ``failed`` with a reason naming the limit; in the second case the pool is
  replaced, as for a crash.
* **A broken pool** (a worker killed, out of memory): every job it had ends
  ``failed`` with a reason saying so, and the next job gets a new pool.
* **Bounded memory**: reports live on disk, not in the records; at most
  ``max_records`` records are kept (the oldest finished ones are forgotten
  first, and their ids then answer 404), and at most ``max_pending`` jobs may
  wait for a worker (:class:`QueueFull` past that).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from types import FrameType
from typing import Any, Literal, Protocol

import anyio.to_thread

from api.problems import TYPE_BUSY, ProblemException
from api.samples import StoredSample
from scanners.apk import scanner_for
from scanners.apk_facts import ApkLimits
from scanners.apk_report import SCANNER_VERSION, ApkResult, scan_apk_path
from scanners.lists import apk_lists_version

log = logging.getLogger("scamscan.api")

Status = Literal["queued", "running", "done", "failed"]

TIMEOUT_GRACE = 30.0
"""Seconds the parent waits past a job's time limit for the worker's own timer."""


class JobTimeout(BaseException):  # like KeyboardInterrupt: not an Exception
    """Raised in a worker when a scan passes its time limit.

    A ``BaseException``, so that no ``except Exception`` inside the scanner
    swallows it.
    """


class QueueFull(Exception):
    """Too many scans are waiting for a worker."""


class QueueUnavailable(ProblemException):
    """The job queue (Redis) cannot be reached: a 503 problem with ``Retry-After``."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail, type_=TYPE_BUSY, title="Scan queue unavailable",
                         headers={"retry-after": "10"})


# --- the worker side ---------------------------------------------------------


_PARSE_CHILD_MARK = b"scanners._apk_worker"
"""In the command line of the scanner's parse subprocess (its cold path)."""


def _kill_parse_children() -> None:
    """SIGKILL this process's parse subprocesses (of a scan stopped by its timer).

    Only children running the scanner's parse worker: the multiprocessing
    fork server and resource tracker the scanner keeps warm are left alone.
    (The scanner's warm path kills its own child when interrupted.)
    """
    me = str(os.getpid())
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = f.read().rsplit(b")", 1)[1].split()[1].decode()
            if ppid != me:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, IndexError):
            continue
        if _PARSE_CHILD_MARK in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def run_apk_job(
    path_str: str,
    name: str,
    sha256: str,
    limits: dict[str, Any] | None = None,
    timeout: float | None = None,
    blocklist: str | None = None,
    lists_file: str | None = None,
) -> str:
    """Scan one stored sample in a pool worker: :meth:`ApkResult.to_json`.

    ``timeout`` arms a wall-clock timer; once it fired the scan's parse
    subprocess is killed and :class:`JobTimeout` is raised to the parent,
    whatever the interrupted code raised or returned.
    """
    apk_limits = ApkLimits.from_dict(limits) if limits else ApkLimits()
    scanner = scanner_for(blocklist, lists_file)
    if timeout is None:
        return scan_apk_path(Path(path_str), name=name, limits=apk_limits,
                             sha256=sha256, scanner=scanner).to_json()
    message = f"the scan took longer than its time limit of {timeout:g} s"
    fired = False

    def expired(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        fired = True
        raise JobTimeout(message)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        text = scan_apk_path(Path(path_str), name=name, limits=apk_limits,
                             sha256=sha256, scanner=scanner).to_json()
    except BaseException:
        if not fired:
            raise
        text = ""
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:  # also when the interrupted code swallowed the exception and went on
        _kill_parse_children()
        raise JobTimeout(message)
    return text


# --- the records -------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Job:
    """One APK scan as the API shows it. The report itself is on disk."""

    scan_id: str
    sha256: str
    input: str
    size: int
    path: Path
    kind: Literal["apk"] = "apk"
    status: Status = "queued"
    created: datetime = field(default_factory=_now)
    started: datetime | None = None
    finished: datetime | None = None
    reason: str | None = None
    error_kind: str | None = None
    deduplicated: bool = False
    owner: str | None = None
    """The API key id that asked for this scan (None: keyless); clients see only theirs."""
    lists_version: str = ""
    """Version of the analysts' APK entries when submitted ("" when none): part of the
    deduplication key, so that a list change is not answered with an older report."""
    leader: Job | None = None
    """For an upload that follows another job's scan of the same file."""
    done_event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def finished_ok(self) -> bool:
        return self.status in ("done", "failed")

    def view_status(self) -> tuple[Status, datetime | None]:
        """Status and start time to show: a follower shows its leader's until it ends."""
        if self.leader is not None and not self.finished_ok:
            return ("running" if self.leader.status == "running" else "queued",
                    self.leader.started)
        return self.status, self.started


# --- the manager -------------------------------------------------------------


class JobBackend(Protocol):
    """What the routes use of a job manager: the embedded :class:`JobManager`
    or :class:`api.queue.RedisJobManager` (records in Redis, scans in workers)."""

    scans_started: int

    @property
    def pending(self) -> int: ...

    async def submit(self, sample: StoredSample, owner: str | None = None) -> Job: ...

    async def lookup(self, scan_id: str) -> Job | None: ...

    async def wait(self, job: Job, seconds: float) -> bool: ...

    async def result(self, job: Job) -> ApkResult | None: ...

    async def aclose(self) -> None: ...



class JobManager:
    """Embedded APK jobs: records in memory, reports on disk, scans in a process pool."""

    def __init__(
        self,
        reports_dir: Path,
        *,
        workers: int = 2,
        timeout: float = 180.0,
        limits: ApkLimits | None = None,
        max_records: int = 10_000,
        max_pending: int = 1000,
        blocklist: Path | None = None,
        lists_file: Path | None = None,
    ) -> None:
        self.blocklist = str(blocklist) if blocklist is not None else None
        self.lists_file = str(lists_file) if lists_file is not None else None
        self.reports_dir = Path(reports_dir) / SCANNER_VERSION
        self.workers = workers
        self.timeout = timeout
        self.limits = (limits or ApkLimits()).to_dict()
        self.max_records = max_records
        self.max_pending = max_pending
        self.scans_started = 0
        """Scans actually submitted to the pool (deduplicated uploads do not count)."""
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._inflight: dict[str, Job] = {}
        self._slots = asyncio.Semaphore(workers)
        self._tasks: set[asyncio.Task[None]] = set()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    # --- public ---------------------------------------------------------------

    def open(self) -> None:
        self.reports_dir.mkdir(parents=True, exist_ok=True)

    def get(self, scan_id: str) -> Job | None:
        return self._jobs.get(scan_id)

    async def lookup(self, scan_id: str) -> Job | None:
        """:meth:`get`, awaitable like :meth:`api.queue.RedisJobManager.lookup`."""
        return self._jobs.get(scan_id)

    @property
    def pending(self) -> int:
        """Jobs waiting for a worker."""
        return sum(1 for j in self._inflight.values() if j.status == "queued")

    async def submit(self, sample: StoredSample, owner: str | None = None) -> Job:
        """A job for ``sample``: answered from a stored report, following a scan
        of the same file in flight, or a new scan. Raises :class:`QueueFull`."""
        if self._closed:
            raise QueueFull("the service is shutting down")
        job = Job(uuid.uuid4().hex, sample.sha256, sample.filename, sample.size, sample.path,
                  owner=owner)
        if self.lists_file:
            job.lists_version = await anyio.to_thread.run_sync(apk_lists_version,
                                                               self.lists_file)
        dedup = self._dedup_key(job)
        if await anyio.to_thread.run_sync(self._report_path(dedup).is_file):
            job.deduplicated = True
            job.status = "done"
            job.started = job.finished = job.created
            job.done_event.set()
            self._add(job)
            return job
        # From here to the end no await: checking for a scan of the same file in
        # flight and registering this one as it must not interleave.
        leader = self._inflight.get(dedup)
        if leader is not None:
            job.leader = leader
            job.deduplicated = True
            self._add(job)
            self._spawn(self._follow(job, leader))
            return job
        if self.pending >= self.max_pending:
            raise QueueFull(f"{self.max_pending} scans are already waiting")
        self._inflight[dedup] = job
        self._add(job)
        self._spawn(self._run(job))
        return job

    async def wait(self, job: Job, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``job`` to finish; True when it has."""
        if seconds > 0 and not job.done_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job.done_event.wait(), seconds)
        return job.done_event.is_set()

    async def result(self, job: Job) -> ApkResult | None:
        """The scan result of a ``done`` job, labelled with the job's file name."""
        if job.status != "done":
            return None
        path = self._report_path(self._dedup_key(job))
        try:
            text = await anyio.to_thread.run_sync(path.read_text, "utf-8")
        except OSError as e:
            log.error("stored APK report %s unreadable: %s", path.name, e)
            return None
        return dataclasses.replace(ApkResult.from_json(text), input=job.input)

    async def aclose(self) -> None:
        """Fail what has not finished, stop the pool and its workers."""
        self._closed = True
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            await anyio.to_thread.run_sync(_stop_pool, pool)

    # --- internals --------------------------------------------------------------

    def _report_path(self, key: str) -> Path:
        return self.reports_dir / f"{key}.json"

    @staticmethod
    def _dedup_key(job: Job) -> str:
        """``sha256``, or ``sha256.l<lists version>`` once analysts made APK entries."""
        return f"{job.sha256}.l{job.lists_version}" if job.lists_version else job.sha256

    def _add(self, job: Job) -> None:
        self._jobs[job.scan_id] = job
        if len(self._jobs) <= self.max_records:
            return
        for scan_id, old in list(self._jobs.items()):
            if len(self._jobs) <= self.max_records:
                break
            if old.finished_ok:
                del self._jobs[scan_id]

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self, job: Job, status: Status, reason: str | None = None,
                error_kind: str | None = None) -> None:
        if job.finished_ok:
            return
        job.status = status
        job.reason = reason
        job.error_kind = error_kind
        job.finished = _now()
        if self._inflight.get(self._dedup_key(job)) is job:
            del self._inflight[self._dedup_key(job)]
        job.done_event.set()
        log.info("apk scan %s %s%s", job.scan_id, status, f": {reason}" if reason else "")

    async def _follow(self, job: Job, leader: Job) -> None:
        try:
            await leader.done_event.wait()
        except asyncio.CancelledError:
            self._finish(job, "failed", "the service stopped before the scan finished")
            raise
        job.started = leader.started
        self._finish(job, leader.status, leader.reason, leader.error_kind)

    async def _run(self, job: Job) -> None:
        try:
            async with self._slots:
                job.status = "running"
                job.started = _now()
                await self._execute(job)
        except asyncio.CancelledError:
            self._finish(job, "failed", "the service stopped before the scan finished")
            raise
        except Exception as e:  # a bug here must still end the job visibly
            log.error("apk scan %s crashed", job.scan_id, exc_info=e)
            self._finish(job, "failed", "the scan failed on the server side")
        finally:
            if self._inflight.get(self._dedup_key(job)) is job:
                del self._inflight[self._dedup_key(job)]

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=get_context("spawn"))
        return self._pool

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        """Drop ``broken`` (once, however many jobs saw it break); the next job makes a new one."""
        if self._pool is broken:
            self._pool = None
            asyncio.get_running_loop().run_in_executor(None, _stop_pool, broken)

    async def _execute(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        call = partial(run_apk_job, str(job.path), job.input, job.sha256, self.limits,
                       self.timeout, self.blocklist, self.lists_file)
        pool = self._get_pool()
        try:
            future = loop.run_in_executor(pool, call)
        except (BrokenProcessPool, RuntimeError):
            self._replace_pool(pool)
            pool = self._get_pool()
            future = loop.run_in_executor(pool, call)
        self.scans_started += 1
        try:
            text = await asyncio.wait_for(future, self.timeout + TIMEOUT_GRACE)
        except JobTimeout as e:
            self._finish(job, "failed", str(e), "timeout")
            return
        except TimeoutError:
            self._finish(job, "failed", "the scan took longer than its time limit of "
                         f"{self.timeout:g} s and its worker was stopped", "timeout")
            self._replace_pool(pool)
            return
        except BrokenProcessPool:
            self._finish(job, "failed", "the scan worker stopped unexpectedly (it crashed or "
                         "ran out of memory); the scan was abandoned", "worker-lost")
            self._replace_pool(pool)
            return
        result = ApkResult.from_json(text)
        if result.error is not None:
            self._finish(job, "failed", result.error, result.error_kind or "refused")
            return
        try:
            await anyio.to_thread.run_sync(_write_atomic,
                                           self._report_path(self._dedup_key(job)), text)
        except OSError as e:
            log.error("cannot store APK report for %s: %s", job.sha256, e)
            self._finish(job, "failed", "the report could not be stored", "storage")
            return
        self._finish(job, "done")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool`` now: cancel what waits, kill the workers, reap them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.kill()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=5)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=True)
