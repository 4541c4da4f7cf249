"""Scan history: every link and APK scan and message check, searchable by analysts and
their owners.

The lifespan of :mod:`api.main` puts a :class:`ScanHistory` in the app's
:class:`~api.services.container.Services` (``services.history``). The
interface the routes and the console use::

    history: ScanHistory = services.history

    await history.search(principal: Principal, q: str | None, kind: str | None,
                         verdict: str | None, page: int, per_page: int) -> dict[str, Any]
        # {"items": [item, ...], "page": int, "per_page": int, "total": int}, newest first;
        # item = {scan_id, kind, created (datetime, UTC), status, input, host,
        #         registrable_domain, package, label, sha256, verdict, risk_score,
        #         status_url}; absent values are None.
        # A `client` principal sees only its own scans (Principal.can_see).
        # Invalid kind / verdict / page / per_page: ProblemException 422.
        # Backend down (Redis): HistoryUnavailable, a 503 ProblemException.
    await history.get(scan_id: str) -> dict[str, Any] | None
        # the record: the item's fields plus "owner" (key id, None: keyless),
        # "host_unicode", "lang" (links: language the report was stored in) and
        # "report" (links: the stored URL report dict, None when it was over the cap;
        # APK records: always None, the report lives with the job, see api.jobs).
        # No visibility check here: callers check principal.can_see(record["owner"]).

    history.record_url(report, owner=..., lang=...)   # after a link scan (never blocks)
    history.record_message(stored, owner=..., lang=...)  # after a message check (masked)
    history.record_apk(job, source_url=None)          # after an APK job is accepted
    history.observe_apk(view)                          # a job view the API just answered
    await history.flush()                              # wait for the queued writes

**Recording never fails a scan, and is off the request path.** ``record_*`` and
``observe_apk`` only queue the write; one writer task writes the queue in order,
in batches: it gathers what is queued during :data:`WRITE_DELAY` seconds after a
first write (or until :data:`WRITE_BATCH` writes wait) into one transaction, so
that under load a commit serves many scans instead of one. A backend failure is
logged as a warning and the batch dropped. The queue is bounded: the routes
``await`` :meth:`ScanHistory.room` before recording, which holds the request
while :data:`MAX_QUEUED` writes wait (backpressure: the writer is asked to write
at once, and the request goes on when there is room again); a write queued past
the bound anyway (by a caller that did not wait) is dropped with a warning and
counted in ``dropped``. ``search`` and ``get`` first have the writer write what
this process queued, at once, and wait for it, so a scan is found as soon as its
answer was sent (other replicas see it within :data:`WRITE_DELAY` seconds and a
write). Closing the history (the app's shutdown) writes what is queued.

**APK verdicts.** An APK record is written ``queued`` (or ``done`` when the
upload was answered from a stored report) without a verdict. The verdict,
score, package and label are filled when the API first observes the job done
(the upload answered with ``wait``, a ``GET /v1/scans/{id}``), or by
:meth:`ScanHistory.sync_pending`, which asks the job backend about records
still ``queued``/``running``: before every search and :meth:`get` of such a
record, and every ``SCAMSCAN_HISTORY_SYNC_INTERVAL`` seconds in the
background. So a search by verdict finds a finished APK scan even when nobody
polled it, including scans that a ``scamscan worker`` finished (the worker
writes nothing here; the API reads the job record).

**Message checks** (``kind=message``) are stored as the caller's
:func:`scanners.identifiers.stored_report` made them: the text and the report
with every phone number and account masked (``091*****78``). They are kept
``SCAMSCAN_MESSAGE_RETENTION_DAYS`` days (default 30): SQLite deletes older
ones every :data:`PRUNE_EVERY` seconds (:meth:`ScanHistory.prune_messages`); Redis sets
a TTL on the record and keeps a ``messages`` sorted set (scan_id by creation
time) that the same pruning reads to drop the index and search lines of
expired ones. :meth:`ScanHistory.get` never answers an expired one, pruned
yet or not. The clock is injectable (``clock=``) for tests. A link report larger than
``SCAMSCAN_HISTORY_REPORT_MAX_BYTES`` (256 KiB of JSON) is stored without the
``evidence`` of its findings, and not at all if still too large (the record
stays searchable; ``report`` is then None).

**Storage**: :mod:`api.storage.history` (SQLite or Redis, picked by
:func:`api.storage.factory.open_storage`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import orjson

from api.auth import Principal
from api.jobs import Job, JobBackend
from api.problems import TYPE_VALIDATION, ProblemError, ProblemException
from api.settings import Settings
from api.storage.errors import HistoryUnavailable, QueueUnavailable
from api.storage.history import HistoryBackend, Op, Put, Update, _us
from scanners.errors import InvalidURLError
from scanners.findings import Verdict
from scanners.normalize import normalize

log = logging.getLogger("scamscan.api")

ScanKind = Literal["url", "apk", "message"]
KINDS: tuple[str, ...] = get_args(ScanKind)
VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
"""Ids one Redis search script call looks at."""
MAX_QUEUED = 10_000
"""Writes waiting for the writer task at most: :meth:`ScanHistory.room` waits below it,
a write past it is dropped with a warning."""
WRITE_DELAY = 0.05
"""Seconds the writer gathers writes after a first one, to write them in one transaction."""
WRITE_BATCH = 500
"""Writes in one transaction at most (and the writer does not wait once so many wait)."""
SYNC_BATCH = 200
"""Unfinished APK records one :meth:`ScanHistory.sync_pending` call looks at (oldest first)."""
SEEN_MAX = 10_000
"""APK statuses remembered to skip writing an observation that changed nothing."""
WARN_EVERY = 30.0
"""Seconds between two warnings about failing history writes."""
PRUNE_EVERY = 60.0
"""Seconds between two deletions of expired message checks."""
CLOSE_WAIT = 5.0
"""Seconds :meth:`ScanHistory.aclose` waits for its background tasks to end."""
MESSAGE_INPUT_CHARS = 200
"""The start of a message's (masked) text kept as its ``input`` in search items."""

ITEM_FIELDS = ("scan_id", "kind", "created", "status", "input", "host", "registrable_domain",
               "package", "label", "sha256", "verdict", "risk_score", "status_url")
"""The fields of a search item, in the API's order."""

_FINISHED = ("done", "failed")
_SEP = "\x1e"
"""Between the searchable texts of one record (nobody types it in a query)."""

def _now() -> datetime:
    return datetime.now(UTC)



def _hay(*parts: str | None) -> str:
    """The lowercased searchable text of some fields."""
    return _SEP.join(p.lower() for p in parts if p)


def _capped_report(report: Mapping[str, Any], max_bytes: int) -> str | None:
    """``report`` as JSON within ``max_bytes``: whole, else without finding evidence,
    else None (not kept)."""
    # orjson: several times faster than json, and this runs for every scan answered.
    data = orjson.dumps(report, default=str, option=orjson.OPT_NON_STR_KEYS)
    if len(data) <= max_bytes:
        return data.decode()
    slim = {**report, "findings": [{**f, "evidence": {"omitted": "too large to keep"}}
                                   for f in report.get("findings") or []]}
    data = orjson.dumps(slim, default=str, option=orjson.OPT_NON_STR_KEYS)
    if len(data) <= max_bytes:
        return data.decode()
    log.warning("link report %s (%d bytes) is over the history cap of %d bytes: not kept",
                report.get("scan_id"), len(data), max_bytes)
    return None


# --- the facade ---------------------------------------------------------------------


class ScanHistory:
    """Records scans and answers searches (see the module doc for the interface).

    ``jobs`` is the APK job backend the verdicts of unfinished APK records are
    read from. Call :meth:`start` on the event loop before recording (the app's
    lifespan does), :meth:`aclose` at the end.
    """

    def __init__(self, backend: HistoryBackend, *, jobs: JobBackend | None = None,
                 report_max_bytes: int = 256 * 1024, sync_interval: float = 5.0,
                 message_retention: timedelta = timedelta(days=30),
                 clock: Callable[[], datetime] = _now,
                 write_delay: float = WRITE_DELAY) -> None:
        self.backend = backend
        self.jobs = jobs
        self.report_max_bytes = report_max_bytes
        self.sync_interval = sync_interval
        self.message_retention = message_retention
        self.clock = clock
        """The time records are stamped with and message checks expire by."""
        self._pruner: asyncio.Task[None] | None = None
        self.dropped = 0
        """Writes dropped (queue full, or their batch failed)."""
        self.write_delay = write_delay
        """Seconds the writer gathers writes before writing them (:data:`WRITE_DELAY`)."""
        self._queue: asyncio.Queue[Op | asyncio.Future[None]] = asyncio.Queue()
        self._wake = asyncio.Event()
        """Write now: a reader waits (:meth:`flush`), or a batch is full."""
        self._written = asyncio.Event()
        """Set after each batch: the queue may have room again (:meth:`room`)."""
        self._writer: asyncio.Task[None] | None = None
        self._syncer: asyncio.Task[None] | None = None
        self._sync: asyncio.Task[None] | None = None
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._warned_at = -float("inf")
        self._closed = False

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Start the writer and the periodic sync of unfinished APK records."""
        loop = asyncio.get_running_loop()
        self._writer = loop.create_task(self._write_loop())
        self._pruner = loop.create_task(self._prune_loop())
        if self.jobs is not None:
            self._syncer = loop.create_task(self._sync_loop())

    async def aclose(self) -> None:
        """Write what is queued, stop the tasks, close the backend. Never raises."""
        self._closed = True
        try:
            tasks = [t for t in (self._syncer, self._sync, self._pruner) if t is not None]
            for t in tasks:
                t.cancel()
            if tasks:
                # Bounded: a task whose cancellation was swallowed (see _prune_loop)
                # must not hang the shutdown.
                await asyncio.wait(tasks, timeout=CLOSE_WAIT)
            if self._writer is not None and not self._writer.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.flush(), 10)
                self._writer.cancel()
                await asyncio.gather(self._writer, return_exceptions=True)
        finally:
            with contextlib.suppress(Exception):
                await self.backend.aclose()

    # --- recording -----------------------------------------------------------------

    def record_url(self, report: Mapping[str, Any], *, owner: str | None,
                   lang: str) -> None:
        """Record a finished link scan (``report``: the API's answer, with ``scan_id``)."""
        scan_id = str(report["scan_id"])
        fields: dict[str, Any] = {
            "kind": "url", "owner": owner, "status": "done",
            "input": str(report.get("input") or ""), "host": report.get("host"),
            "host_unicode": report.get("host_unicode"),
            "registrable_domain": report.get("registrable_domain"),
            "verdict": report.get("verdict"), "risk_score": report.get("risk_score"),
            "lang": lang, "report": _capped_report(report, self.report_max_bytes),
        }
        fields["hay"] = _hay(fields["input"], fields["host"], fields["host_unicode"],
                             fields["registrable_domain"])
        self._enqueue(Put(scan_id, _us(self.clock()), fields, pending=False))

    def record_message(self, report: Mapping[str, Any], *, owner: str | None,
                       lang: str) -> None:
        """Record a message check. ``report``: what may be kept of it, with ``check_id``
        and ``text``, its numbers already masked
        (:func:`scanners.identifiers.stored_report`); it expires after the retention."""
        scan_id = str(report["check_id"])
        text = str(report.get("text") or "")
        hosts = [str(i.get("host") or "") for i in report.get("items") or []
                 if isinstance(i, Mapping) and i.get("kind") == "link"]
        fields: dict[str, Any] = {
            "kind": "message", "owner": owner, "status": "done",
            "input": " ".join(text.split())[:MESSAGE_INPUT_CHARS],
            "verdict": report.get("verdict"), "risk_score": report.get("risk_score"),
            "lang": lang, "report": _capped_report(report, self.report_max_bytes),
            "hay": _hay(text, *hosts),
        }
        ttl = max(1, int(self.message_retention.total_seconds()))
        self._enqueue(Put(scan_id, _us(self.clock()), fields, pending=False, ttl=ttl))

    def _expired(self, record: Mapping[str, Any]) -> bool:
        """A message check older than the retention (pruned soon, never answered)."""
        created = record.get("created")
        return (record.get("kind") == "message" and isinstance(created, datetime)
                and created < self.clock() - self.message_retention)

    async def prune(self, older_than: datetime) -> int:
        """Delete the records of scans made before ``older_than`` (retention, see
        :mod:`api.retention`); how many there were. Backend down: HistoryUnavailable."""
        await self.flush()
        return await self.backend.prune(_us(older_than))

    async def prune_messages(self) -> int:
        """Delete the message checks older than the retention; how many went."""
        await self.flush()
        return await self.backend.prune_messages(_us(self.clock() - self.message_retention))

    async def _prune_loop(self) -> None:
        while not self._closed:
            try:
                n = await self.prune_messages()
                if n:
                    log.info("scan history: %d expired message checks deleted", n)
            except HistoryUnavailable as e:
                self._warn(f"expired message checks not deleted: {e.reason}")
            except Exception as e:  # keep pruning after a bug in one run
                log.error("scan history prune failed", exc_info=e)
            if self._closed:
                # Closing cancelled a prune that Redis answered with an error instead of
                # the cancellation (redis-py): stop here, not after another minute.
                return
            await asyncio.sleep(PRUNE_EVERY)

    def record_apk(self, job: Job, *, source_url: str | None = None) -> None:
        """Record an accepted APK job. ``source_url``: where a live link scan downloaded
        it; its host and registrable domain are recorded (so searching the site finds
        the app)."""
        host = host_unicode = domain = None
        if source_url:
            try:
                parsed = normalize(source_url)
            except InvalidURLError:
                pass
            else:
                host, host_unicode, domain = (parsed.host, parsed.host_unicode,
                                              parsed.registrable_domain)
        status, _ = job.view_status()
        fields: dict[str, Any] = {
            "kind": "apk", "owner": job.owner, "status": status, "input": job.input,
            "host": host, "host_unicode": host_unicode, "registrable_domain": domain,
            "sha256": job.sha256,
            "hay": _hay(job.input, host, host_unicode, domain, job.sha256),
        }
        # Pending until its final state is recorded; a job already done (answered from
        # a stored report) too, until its verdict is read.
        self._enqueue(Put(job.scan_id, _us(job.created), fields, pending=status != "failed"))
        self._remember(job.scan_id, f"{status}:")

    def observe_apk(self, view: Mapping[str, Any]) -> None:
        """Note what the API just answered about an APK job (``api.main``'s job view):
        its status and, once done, its verdict, score, package and label."""
        scan_id, status = str(view["scan_id"]), str(view["status"])
        report = view.get("report")
        if status == "done" and not isinstance(report, Mapping):
            return  # done without a report in hand: left to sync_pending
        self._observed(scan_id, status, report if isinstance(report, Mapping) else None)

    def _observed(self, scan_id: str, status: str, report: Mapping[str, Any] | None) -> None:
        seen = f"{status}:{'' if report is None else 'report'}"
        if self._seen.get(scan_id) == seen:
            return  # polling an unchanged job writes nothing
        self._remember(scan_id, seen)
        fields: dict[str, Any] = {"status": status}
        hay_app = None
        if report is not None:
            fields.update({"verdict": report.get("verdict"),
                           "risk_score": report.get("risk_score"),
                           "package": report.get("package"), "label": report.get("label")})
            hay_app = _hay(report.get("package"), report.get("label"))
        self._enqueue(Update(scan_id, fields, hay_app, finished=status in _FINISHED))

    def _remember(self, scan_id: str, seen: str) -> None:
        """What was last written for ``scan_id``: ``<status>:`` or ``<status>:report``
        (bounded: the oldest are forgotten)."""
        self._seen[scan_id] = seen
        self._seen.move_to_end(scan_id)
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)

    def _enqueue(self, op: Op) -> None:
        if self._closed or self._writer is None or self._writer.done():
            self._warn("the history writer is not running; a scan was not recorded")
            self.dropped += 1
            return
        waiting = self._queue.qsize()
        if waiting >= MAX_QUEUED:
            self._warn(f"{MAX_QUEUED} history writes are waiting; a scan was not recorded")
            self.dropped += 1
            return
        self._queue.put_nowait(op)
        if waiting + 1 >= WRITE_BATCH:
            self._wake.set()

    async def room(self) -> None:
        """Return once a write can be queued without passing :data:`MAX_QUEUED`: at once,
        unless the writer is that far behind (the backend is slow); then the writer
        is asked to write now and the caller waits for its batches (backpressure,
        instead of losing the scan's record). Never waits when the writer is not
        running (recording then drops with a warning, as before)."""
        while (self._queue.qsize() >= MAX_QUEUED and self._writer is not None
               and not self._writer.done() and not self._closed):
            self._wake.set()
            self._written.clear()
            await self._written.wait()

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("scan history: %s", message)

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if (self.write_delay > 0 and not isinstance(batch[0], asyncio.Future)
                    and not self._wake.is_set()):
                # Let the writes of the next few milliseconds join this transaction:
                # one commit (an fsync) for many scans. A reader (flush) or a full
                # batch wakes the writer at once.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.write_delay)
            self._wake.clear()
            while not self._queue.empty() and len(batch) < WRITE_BATCH:
                batch.append(self._queue.get_nowait())
            ops = [x for x in batch if not isinstance(x, asyncio.Future)]
            if ops:
                try:
                    await self.backend.write(ops)
                except HistoryUnavailable as e:
                    self.dropped += len(ops)
                    self._warn(f"{len(ops)} records not written: {e.reason}")
                except Exception as e:  # a bug must not stop the recording of the next scans
                    self.dropped += len(ops)
                    log.error("scan history write failed", exc_info=e)
            for x in batch:
                if isinstance(x, asyncio.Future) and not x.done():
                    x.set_result(None)
            self._written.set()

    async def flush(self) -> None:
        """Wait until the writes queued so far were made (or dropped)."""
        if self._writer is None or self._writer.done():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(done)
        self._wake.set()
        await done

    # --- APK verdicts ------------------------------------------------------------------

    async def sync_pending(self) -> None:
        """Read the job state of unfinished APK records (at most :data:`SYNC_BATCH`,
        oldest first) and record what changed. One run at a time: a caller arriving
        during a run waits for it. A failing job backend ends the run quietly."""
        if self.jobs is None:
            return
        if self._sync is None or self._sync.done():
            self._sync = asyncio.get_running_loop().create_task(self._sync_once())
        await asyncio.shield(self._sync)

    async def _sync_once(self) -> None:
        try:
            pending = await self.backend.pending(SYNC_BATCH)
        except HistoryUnavailable:
            return
        try:
            for scan_id, known in pending:
                try:
                    await self._refresh(scan_id, known)
                except QueueUnavailable:
                    return
                except Exception as e:  # one bad record must not stop the others
                    log.error("scan history: cannot read apk scan %s", scan_id, exc_info=e)
        finally:
            await self.flush()

    async def _refresh(self, scan_id: str, known: str) -> None:
        jobs = self.jobs
        if jobs is None:
            return
        job = await jobs.lookup(scan_id)
        if job is None:  # forgotten by the job backend: stop asking, keep the record
            self._enqueue(Update(scan_id, {}, None, finished=True))
            return
        status, _ = job.view_status()
        if status == "done":
            result = await jobs.result(job)
            report = result.report("en") if result is not None else None
            self._seen.pop(scan_id, None)
            if report is None:
                self._enqueue(Update(scan_id, {"status": status}, None, finished=True))
            else:
                self._observed(scan_id, status, report)
        elif status != known:
            self._seen.pop(scan_id, None)
            self._observed(scan_id, status, None)

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sync_interval)
            try:
                await self.sync_pending()
            except Exception as e:  # keep syncing after a bug in one run
                log.error("scan history sync failed", exc_info=e)

    # --- reading -----------------------------------------------------------------------

    async def search(self, principal: Principal, q: str | None, kind: str | None,
                     verdict: str | None, page: int, per_page: int) -> dict[str, Any]:
        """The scans ``principal`` may see that match, newest first, one page of them."""
        errors = []
        if kind and kind not in KINDS:
            errors.append(("kind", f"one of: {', '.join(KINDS)}"))
        if verdict and verdict not in VERDICTS:
            errors.append(("verdict", f"one of: {', '.join(VERDICTS)}"))
        if not 1 <= page <= MAX_PAGE:
            errors.append(("page", f"from 1 to {MAX_PAGE}"))
        if not 1 <= per_page <= MAX_PER_PAGE:
            errors.append(("per_page", f"from 1 to {MAX_PER_PAGE}"))
        if errors:
            raise ProblemException(
                422, "; ".join(f"{f}: {m}" for f, m in errors), type_=TYPE_VALIDATION,
                title="Invalid request",
                errors=[ProblemError(field=f, location="query", message=m, type="value_error")
                        for f, m in errors])
        everyone = principal.at_least("analyst")
        if not everyone and principal.key_id is None:
            return {"items": [], "page": page, "per_page": per_page, "total": 0}
        await self.flush()
        await self.sync_pending()
        items, total = await self.backend.search(
            owner=principal.key_id, everyone=everyone, q=(q or "").strip().lower(),
            kind=kind or "", verdict=verdict or "", offset=(page - 1) * per_page,
            limit=per_page)
        return {"items": items, "page": page, "per_page": per_page, "total": total}

    async def get(self, scan_id: str) -> dict[str, Any] | None:
        """The record of ``scan_id`` (with ``report`` for links), or None."""
        await self.flush()
        record = await self.backend.get(scan_id)
        if record is not None and self._expired(record):
            return None
        if (record is not None and record["kind"] == "apk" and self.jobs is not None
                and record["status"] != "failed" and record["verdict"] is None):
            try:
                await self._refresh(scan_id, str(record["status"]))
            except QueueUnavailable:
                return record
            except Exception as e:  # the record as stored is still an answer
                log.error("scan history: cannot read apk scan %s", scan_id, exc_info=e)
                return record
            await self.flush()
            record = await self.backend.get(scan_id)
        return record


def open_history(settings: Settings, backend: HistoryBackend,
                 jobs: JobBackend | None) -> ScanHistory:
    """The history over ``backend`` (from :func:`api.storage.factory.open_storage`),
    configured by ``settings``. Call :meth:`ScanHistory.start` on the event loop."""
    return ScanHistory(backend, jobs=jobs, report_max_bytes=settings.history_report_max_bytes,
                       sync_interval=settings.history_sync_interval,
                       message_retention=timedelta(days=settings.message_retention_days))
