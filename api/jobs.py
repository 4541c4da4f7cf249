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
  made APK list entries (:mod:`api.services.lists`), the key also holds the version of
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
  wait for a worker (:class:`QueueFull` past that). Records dropped from
  memory are still answered from the SQLite history (below).
* **Records survive a restart** in SQLite, ``<data dir>/jobs.sqlite3`` (next
  to ``reports/``; WAL; schema version in ``PRAGMA user_version``). A record
  is written when a job is accepted (before the upload is answered) and on
  every status change; the writes run in a worker thread, in order, through
  one connection behind a lock. :meth:`JobManager.lookup` (and ``get``) fall
  back to it for ids not in memory, so a restarted service still answers
  earlier scans: ``done`` with the stored report, ``failed`` with its reason.
  Finished records older than ``history_days`` (when set) are pruned on
  :meth:`~JobManager.open`.
* **Nothing accepted is lost across a restart**: on :meth:`~JobManager.open`,
  a record a previous process left ``queued`` or ``running`` (it crashed, or
  stopped while the job waited or ran: a graceful stop does not write its
  in-flight jobs as failed, they stay to be resumed) is *resubmitted* when its
  sample file is still stored: a new scan of the same sample under the same
  ``scan_id``, back to ``queued`` (or answered from a stored report, or
  following another resumed scan of the same file, as for an upload). When
  the sample is gone the record ends ``failed`` with the reason "the service
  restarted and the sample is gone" (``error_kind`` ``sample-gone``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sqlite3
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from types import FrameType
from typing import Any, Literal, Protocol

import anyio.from_thread
import anyio.to_thread

from api.samples import StoredSample
from scanners.apk import scanner_for
from scanners.apk_facts import ApkLimits
from scanners.apk_report import SCANNER_VERSION, ApkResult, scan_apk_path
from scanners.lifetime import die_with_parent
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
    use_blocklists: bool = True,
) -> str:
    """Scan one stored sample in a pool worker: :meth:`ApkResult.to_json`.

    ``timeout`` arms a wall-clock timer; once it fired the scan's parse
    subprocess is killed and :class:`JobTimeout` is raised to the parent,
    whatever the interrupted code raised or returned.
    """
    apk_limits = ApkLimits.from_dict(limits) if limits else ApkLimits()
    # SCAMSCAN_BLOCKLISTS=off: no hash, package or signer list (evaluations).
    scanner = scanner_for(blocklist, lists_file, use_blocklists=use_blocklists)
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



# --- the history (SQLite) ----------------------------------------------------


SCHEMA_VERSION = 1
"""``PRAGMA user_version`` of the jobs database."""

SAMPLE_GONE = "the service restarted and the sample is gone"
"""Reason of a job left unfinished by a previous process whose sample is no longer stored."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    scan_id       TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    input         TEXT NOT NULL,
    size          INTEGER NOT NULL,
    path          TEXT NOT NULL,
    owner         TEXT,
    deduplicated  INTEGER NOT NULL DEFAULT 0,
    leader        TEXT,
    lists_version TEXT NOT NULL DEFAULT '',
    reason        TEXT,
    error_kind    TEXT,
    created_us    INTEGER NOT NULL,
    started_us    INTEGER,
    finished_us   INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_us);
"""

_COLUMNS = ("scan_id", "kind", "status", "sha256", "input", "size", "path", "owner",
            "deduplicated", "leader", "lists_version", "reason", "error_kind",
            "created_us", "started_us", "finished_us")

_UPSERT = """
INSERT INTO jobs (
    scan_id, kind, status, sha256, input, size, path, owner,
    deduplicated, leader, lists_version, reason, error_kind, created_us, started_us, finished_us)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scan_id) DO UPDATE SET
    kind = excluded.kind,
    status = excluded.status,
    sha256 = excluded.sha256,
    input = excluded.input,
    size = excluded.size,
    path = excluded.path,
    owner = excluded.owner,
    deduplicated = excluded.deduplicated,
    leader = excluded.leader,
    lists_version = excluded.lists_version,
    reason = excluded.reason,
    error_kind = excluded.error_kind,
    created_us = excluded.created_us,
    started_us = excluded.started_us,
    finished_us = excluded.finished_us
"""

_SELECT = """
SELECT scan_id, kind, status, sha256, input, size, path, owner,
       deduplicated, leader, lists_version, reason, error_kind, created_us, started_us, finished_us
FROM jobs
"""
"""The columns of :data:`_COLUMNS`, in order; a ``WHERE`` clause follows."""

Row = tuple[Any, ...]


def _us(t: datetime | None) -> int | None:
    """A time as integer microseconds since the epoch (exact, sortable)."""
    if t is None:
        return None
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _from_us(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def job_row(job: Job) -> Row:
    """The record of ``job`` as stored, in :data:`_COLUMNS` order."""
    return (job.scan_id, job.kind, job.status, job.sha256, job.input, job.size,
            str(job.path), job.owner, int(job.deduplicated),
            job.leader.scan_id if job.leader is not None else None, job.lists_version,
            job.reason, job.error_kind, _us(job.created), _us(job.started), _us(job.finished))


def job_from_row(row: Row) -> Job:
    """A :class:`Job` from its stored record (no leader object; finished ones are set)."""
    v = dict(zip(_COLUMNS, row, strict=True))
    created = _from_us(v["created_us"]) or _now()
    job = Job(v["scan_id"], v["sha256"], v["input"], int(v["size"]), Path(v["path"]),
              status=v["status"], created=created, started=_from_us(v["started_us"]),
              finished=_from_us(v["finished_us"]), reason=v["reason"],
              error_kind=v["error_kind"], deduplicated=bool(v["deduplicated"]),
              owner=v["owner"], lists_version=v["lists_version"] or "")
    if job.finished_ok:
        job.done_event.set()
    return job


class JobStore:
    """The job records in SQLite: one connection, used by one thread at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                   timeout=30.0)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{path} has schema version {version}, newer than this "
                                   f"scamscan's ({SCHEMA_VERSION}); upgrade scamscan")
            if version < SCHEMA_VERSION:
                with self._db:  # a transaction (also for executescript's statements)
                    self._db.execute("BEGIN")
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            self._db.close()
            raise

    def upsert(self, rows: list[Row]) -> None:
        if not rows:
            return
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany(_UPSERT, rows)

    def load(self, scan_id: str) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(
                _SELECT + "WHERE scan_id = ?", (scan_id,)).fetchone()
        return row

    def unfinished(self) -> list[Row]:
        """Records left ``queued`` or ``running``, oldest first."""
        with self._lock:
            return list(self._db.execute(
                _SELECT + "WHERE status IN ('queued', 'running') ORDER BY created_us, rowid"))

    def prune(self, older_than: datetime) -> int:
        """Forget finished records created before ``older_than``; how many were."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            cur = self._db.execute(
                "DELETE FROM jobs WHERE status IN ('done', 'failed') AND created_us < ?",
                (_us(older_than),))
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


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
    """Embedded APK jobs: records in memory and SQLite, reports on disk, scans in a
    process pool."""

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
        use_blocklists: bool = True,
        db_path: Path | None = None,
        history_days: float | None = None,
    ) -> None:
        self.db_path = Path(db_path) if db_path is not None else (
            Path(reports_dir).parent / "jobs.sqlite3")
        """The SQLite history of the job records (in the data directory by default)."""
        self.history_days = history_days
        """Finished records older than this are pruned on :meth:`open` (None: kept)."""
        self.blocklist = str(blocklist) if blocklist is not None else None
        self.use_blocklists = use_blocklists
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
        self._store: JobStore | None = None
        self._writes: asyncio.Queue[tuple[Row | None, asyncio.Future[None]]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._resume: list[Job] = []
        """Jobs of a previous process to resubmit once the event loop runs."""

    # --- public ---------------------------------------------------------------

    def open(self) -> None:
        """Make the directories, open the history and resume what a previous process left.

        Blocking (SQLite, the file system): call it off the event loop, as the app
        does, or before the loop runs. The resumed jobs are dispatched on the loop:
        at once when called from an AnyIO worker thread or on the loop, else at the
        first awaited call.
        """
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        store = self._store = JobStore(self.db_path)
        if self.history_days is not None:
            pruned = store.prune(_now() - timedelta(days=self.history_days))
            if pruned:
                log.info("forgot %d apk scan records older than %g days", pruned,
                         self.history_days)
        resumed: list[Job] = []
        for row in store.unfinished():
            job = job_from_row(row)
            if job.path.is_file():
                job.status = "queued"
                job.started = job.finished = job.reason = job.error_kind = None
                job.deduplicated = False
                resumed.append(job)
            else:
                job.status = "failed"
                job.reason = SAMPLE_GONE
                job.error_kind = "sample-gone"
                job.finished = _now()
                job.done_event.set()
                log.warning("apk scan %s failed: %s", job.scan_id, SAMPLE_GONE)
            store.upsert([job_row(job)])
        if not resumed:
            return
        log.info("resuming %d apk scans left unfinished by the previous process", len(resumed))
        for job in resumed:
            self._add(job)
        self._resume = resumed
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            with contextlib.suppress(RuntimeError):  # not in an AnyIO worker thread
                anyio.from_thread.run_sync(self._start_resume)
        else:
            self._start_resume()

    def get(self, scan_id: str) -> Job | None:
        """The job ``scan_id`` (from the history when not in memory; blocking then)."""
        job = self._jobs.get(scan_id)
        if job is None and self._store is not None:
            job = self._remember(self._load(scan_id))
        return job

    async def lookup(self, scan_id: str) -> Job | None:
        """The job ``scan_id``: in memory, else from the SQLite history."""
        self._start_resume()
        job = self._jobs.get(scan_id)
        if job is None and self._store is not None:
            row = await anyio.to_thread.run_sync(self._load, scan_id)
            job = self._jobs.get(scan_id) or self._remember(row)
        return job

    @property
    def pending(self) -> int:
        """Jobs waiting for a worker."""
        return sum(1 for j in self._inflight.values() if j.status == "queued")

    async def submit(self, sample: StoredSample, owner: str | None = None) -> Job:
        """A job for ``sample``: answered from a stored report, following a scan
        of the same file in flight, or a new scan. Raises :class:`QueueFull`."""
        if self._closed:
            raise QueueFull("the service is shutting down")
        self._start_resume()
        job = Job(uuid.uuid4().hex, sample.sha256, sample.filename, sample.size, sample.path,
                  owner=owner)
        # Recorded before the upload is answered: a crash after that resumes it.
        await self._dispatch(job, new=True)
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
        """Stop what has not finished (in memory it ends ``failed``; its stored record
        stays unfinished, to be resumed by the next :meth:`open`), stop the pool and its
        workers, write the last records and close the history."""
        self._closed = True
        self._resume = []
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        pool, self._pool = self._pool, None
        try:
            if pool is not None:
                await anyio.to_thread.run_sync(_stop_pool, pool)
        finally:
            writer, store = self._writer, self._store
            self._store = None
            if writer is not None and not writer.done() and self._writes is not None:
                self._writes.put_nowait((None, asyncio.get_running_loop().create_future()))
                await asyncio.gather(writer, return_exceptions=True)
            if store is not None:
                await anyio.to_thread.run_sync(store.close)

    # --- internals --------------------------------------------------------------

    async def _dispatch(self, job: Job, *, new: bool) -> None:
        """Answer ``job`` from a stored report, make it follow a scan of the same file in
        flight, or start its scan; record it. ``new``: an upload (:class:`QueueFull`
        applies, and the record is written before returning); else a resumed job."""
        if self.lists_file:
            job.lists_version = await anyio.to_thread.run_sync(apk_lists_version,
                                                               self.lists_file)
        dedup = self._dedup_key(job)
        if await anyio.to_thread.run_sync(self._report_path(dedup).is_file):
            job.deduplicated = True
            job.status = "done"
            job.started = job.finished = job.created if new else _now()
            job.done_event.set()
            self._add(job)
            saved = self._save(job)
        else:
            # From here to the save no await: checking for a scan of the same file in
            # flight and registering this one as it must not interleave.
            leader = self._inflight.get(dedup)
            if leader is not None:
                job.leader = leader
                job.deduplicated = True
                self._add(job)
                saved = self._save(job)
                self._spawn(self._follow(job, leader))
            else:
                if new and self.pending >= self.max_pending:
                    raise QueueFull(f"{self.max_pending} scans are already waiting")
                self._inflight[dedup] = job
                self._add(job)
                saved = self._save(job)
                self._spawn(self._run(job))
        if new:
            await asyncio.shield(saved)

    def _start_resume(self) -> None:
        """Dispatch the jobs :meth:`open` took over (on the event loop; once)."""
        jobs, self._resume = self._resume, []
        if jobs and not self._closed:
            self._spawn(self._resume_jobs(jobs))

    async def _resume_jobs(self, jobs: list[Job]) -> None:
        for i, job in enumerate(jobs):
            try:
                await self._dispatch(job, new=False)
            except asyncio.CancelledError:
                for rest in jobs[i:]:  # their records stay queued for the next start
                    self._finish(rest, "failed", "the service stopped before the scan "
                                 "finished", persist=False)
                raise
            except Exception as e:  # a bug here must still end the job visibly
                log.error("apk scan %s could not be resumed", job.scan_id, exc_info=e)
                self._finish(job, "failed", "the scan failed on the server side")

    def _load(self, scan_id: str) -> Row | None:
        """The stored record of ``scan_id`` (blocking); None when unknown or unreadable."""
        store = self._store
        if store is None:
            return None
        try:
            return store.load(scan_id)
        except sqlite3.Error as e:
            log.error("cannot read apk scan record %s: %s", scan_id, e)
            return None

    def _remember(self, row: Row | None) -> Job | None:
        """A job from the history, kept in memory again (bounded like the others)."""
        if row is None:
            return None
        job = job_from_row(row)
        self._add(job)
        return job

    def _save(self, job: Job) -> asyncio.Future[None]:
        """Queue a write of ``job``'s record as it is now; done once written (or failed).

        One writer task writes the queue in order, in a worker thread, so the
        record of a job always ends as its last status.
        """
        loop = asyncio.get_running_loop()
        saved: asyncio.Future[None] = loop.create_future()
        if self._store is None:
            saved.set_result(None)
            return saved
        if self._writes is None or self._writer is None or self._writer.done():
            self._writes = asyncio.Queue()
            self._writer = loop.create_task(self._write_records(self._writes, self._store))
        self._writes.put_nowait((job_row(job), saved))
        return saved

    @staticmethod
    async def _write_records(
        queue: asyncio.Queue[tuple[Row | None, asyncio.Future[None]]], store: JobStore,
    ) -> None:
        """Write queued records, in batches, until a ``None`` row (the stop mark)."""
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            rows = [row for row, _ in batch if row is not None]
            try:
                await anyio.to_thread.run_sync(store.upsert, rows)
            except (sqlite3.Error, OSError) as e:
                log.error("cannot store %d apk scan records: %s", len(rows), e)
            for _, saved in batch:
                if not saved.done():
                    saved.set_result(None)
            if any(row is None for row, _ in batch):
                return

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
                error_kind: str | None = None, *, persist: bool = True) -> None:
        """End ``job``; ``persist=False`` (the service stopping) leaves its stored
        record unfinished, so that the next start resumes it."""
        if job.finished_ok:
            return
        job.status = status
        job.reason = reason
        job.error_kind = error_kind
        job.finished = _now()
        if self._inflight.get(self._dedup_key(job)) is job:
            del self._inflight[self._dedup_key(job)]
        job.done_event.set()
        if persist:
            self._save(job)
        log.info("apk scan %s %s%s", job.scan_id, status, f": {reason}" if reason else "")

    async def _follow(self, job: Job, leader: Job) -> None:
        try:
            await leader.done_event.wait()
        except asyncio.CancelledError:
            self._finish(job, "failed", "the service stopped before the scan finished",
                         persist=False)
            raise
        job.started = leader.started
        self._finish(job, leader.status, leader.reason, leader.error_kind)

    async def _run(self, job: Job) -> None:
        try:
            async with self._slots:
                job.status = "running"
                job.started = _now()
                self._save(job)
                await self._execute(job)
        except asyncio.CancelledError:
            self._finish(job, "failed", "the service stopped before the scan finished",
                         persist=False)
            raise
        except Exception as e:  # a bug here must still end the job visibly
            log.error("apk scan %s crashed", job.scan_id, exc_info=e)
            self._finish(job, "failed", "the scan failed on the server side")
        finally:
            if self._inflight.get(self._dedup_key(job)) is job:
                del self._inflight[self._dedup_key(job)]

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Its workers end with this process, even killed (scanners.lifetime): then
            # multiprocessing's resource tracker removes the pool's semaphores.
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=get_context("spawn"),
                                             initializer=die_with_parent,
                                             initargs=(os.getpid(),))
        return self._pool

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        """Drop ``broken`` (once, however many jobs saw it break); the next job makes a new one."""
        if self._pool is broken:
            self._pool = None
            asyncio.get_running_loop().run_in_executor(None, _stop_pool, broken)

    async def _execute(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        call = partial(run_apk_job, str(job.path), job.input, job.sha256, self.limits,
                       self.timeout, self.blocklist, self.lists_file, self.use_blocklists)
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
