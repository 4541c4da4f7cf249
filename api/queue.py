"""APK scan jobs on Redis: dramatiq's Redis broker carries them to ``scamscan worker``.

Used by the API when ``SCAMSCAN_REDIS_URL`` is set (the embedded
:class:`api.jobs.JobManager` otherwise). Any number of API processes and
workers may share one Redis and one sample directory (``data_dir/samples``).

The queue is dramatiq's :class:`~dramatiq.brokers.redis.RedisBroker`, which
acknowledges messages: a worker takes a message into its own ack set and
removes it only once the actor returned, so a worker killed mid-job leaves the
message there. A worker silent for :attr:`Settings.queue_heartbeat_timeout`
seconds is taken for dead and the next queue maintenance moves its messages
back to the queue; :class:`api.broker.ScamscanBroker` runs that maintenance in
every consumer every few seconds (dramatiq's default is a 0.1 % chance per
command, minutes on an idle queue), and also requeues a message left in a
*live* worker's ack set that the worker does not hold (a fetch whose reply a
Redis freeze lost). Retries with
exponential backoff and the per-job time limit are dramatiq's ``Retries`` and
``TimeLimit`` middleware, set as options of the :func:`scan_apk` actor.

Keys (besides dramatiq's own under ``scamscan:dramatiq:``):

* ``scamscan:job:<scan_id>``: a hash per upload: ``status`` (queued, running,
  done, failed), ``reason``, ``error_kind``, ``created``/``started``/
  ``finished`` (unix seconds), ``sha256``, ``input``, ``size``, ``path``,
  ``deduplicated``, ``leader`` (the scan it follows), ``enqueued``,
  ``attempts``, ``owner`` (optional). Expires after ``apk_record_ttl``.
* ``scamscan:report:<SCANNER_VERSION>:<sha256>``: the report of a ``done``
  scan (:meth:`ApkResult.to_json`); the deduplication index. Once analysts
  made APK list entries the version is ``<SCANNER_VERSION>+l<lists version>``
  (:func:`scanners.lists.apk_lists_version`), so a list change is never
  answered with a report made before it; the version travels in the job
  record (``lists``) and the message (keyword ``lists``).
* ``scamscan:inflight:<SCANNER_VERSION>:<sha256>``: the scan_id of the scan of
  that file in flight (``SET NX`` with a TTL): a second upload follows it.
* ``scamscan:workers``: sorted set, member = worker id, score = last heartbeat
  (unix seconds), written by :mod:`api.worker` every few seconds.

Every change of several keys is one Lua script, so nothing is half-written;
the upload's claim also pushes the scan's message into dramatiq's queue (its
keys ``scamscan:dramatiq:apk`` and ``…apk.msgs``), so a claim whose answer was
lost in a Redis freeze leaves a job that runs, never an orphan holding the
file's lock.
Status transitions are idempotent and written by the worker; a redelivered
job whose report exists is only marked ``done``, and the report is written
with ``SET NX``, so a job run twice never ends with two different reports.

``SCAMSCAN_TEST_JOB_DELAY`` (seconds, read by the worker only) is a **test
hook**: the actor sleeps that long after marking a job ``running`` and before
scanning, so that the tests can kill a worker in the middle of a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import anyio.to_thread
import dramatiq
import redis
from dramatiq.middleware import Middleware, Retries, TimeLimitExceeded
from redis.exceptions import RedisError

from api.broker import ScamscanBroker
from api.jobs import Job, Status, run_apk_job
from api.samples import StoredSample
from api.settings import Settings
from api.storage import prefixes
from api.storage.errors import QueueUnavailable
from api.storage.redis import async_client, sync_client
from scanners.apk_facts import ApkLimits
from scanners.apk_report import SCANNER_VERSION, ApkResult
from scanners.lists import apk_lists_path, apk_lists_version

log = logging.getLogger("scamscan.queue")

PREFIX = prefixes.ROOT
WORKERS_KEY = prefixes.WORKERS
DRAMATIQ_NAMESPACE = prefixes.DRAMATIQ
QUEUE_NAME = "apk"
ACTOR_NAME = "scan_apk"
LOCK_TTL = 6 * 3600
"""Seconds the in-flight lock of a file lives at most (a scan lost for good frees it)."""
STALE_AFTER = 60.0
"""A job still ``queued`` and never handed to the broker this long after its
creation is abandoned: it shows ``failed`` and the next upload of the file
takes over. (Records written by versions that claimed and enqueued in two
steps; a claim now enqueues in the same script.)"""
POLL_INTERVAL = 0.15
"""Seconds between two reads of a job record while a request waits for it."""

_FINISHED = ("done", "failed")


def job_key(scan_id: str) -> str:
    return f"{prefixes.JOBS}{scan_id}"


def _version(lists: str) -> str:
    """The deduplication version: the scanner's, plus the analysts' APK list version."""
    return f"{SCANNER_VERSION}+l{lists}" if lists else SCANNER_VERSION


def report_key(sha256: str, lists: str = "") -> str:
    return f"{prefixes.REPORTS}{_version(lists)}:{sha256}"


def inflight_key(sha256: str, lists: str = "") -> str:
    return f"{prefixes.INFLIGHT}{_version(lists)}:{sha256}"


# --- Lua: every multi-key change is one script --------------------------------

# KEYS: report, inflight, job, dramatiq's queue list, dramatiq's message hash.
# ARGV: scan_id, record ttl, lock ttl, now, stale after, job key prefix, the
# message's redis id, the encoded message, then the record's field/value pairs.
# Returns {mode, leader, queue length}: mode is "done" (a report exists),
# "follow" (a scan of the file is in flight: leader) or "lead" (this upload took
# the file's lock and its message is in the queue).
#
# The message is pushed here, as dramatiq's own enqueue script does (HSET the
# message, RPUSH its id), and not by a second call: a claim whose answer was
# lost (Redis froze while the API waited, and ran it later) must never leave a
# ``queued`` record holding the lock with no message behind it. Either nothing
# happened, or the job is queued for real and ends like any other.
_CLAIM = """
local report, inflight, job, queue, msgs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local scan_id, ttl, lock_ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, stale, prefix = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local message_id, message = ARGV[7], ARGV[8]
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('hset', job, unpack(fields))
if redis.call('exists', report) == 1 then
  local created = redis.call('hget', job, 'created')
  redis.call('hset', job, 'status', 'done', 'deduplicated', '1',
             'started', created, 'finished', created)
  redis.call('expire', job, ttl)
  redis.call('expire', report, ttl)
  return {'done', '', 0}
end
local leader = redis.call('get', inflight)
if leader then
  local lkey = prefix .. leader
  local status = redis.call('hget', lkey, 'status')
  local alive = status ~= false
  if status == 'queued' and redis.call('hget', lkey, 'enqueued') ~= '1' then
    local created = tonumber(redis.call('hget', lkey, 'created') or '0')
    if created < now - stale then alive = false end
  end
  if alive then
    redis.call('hset', job, 'status', 'queued', 'deduplicated', '1', 'leader', leader)
    redis.call('expire', job, ttl)
    return {'follow', leader, 0}
  end
end
redis.call('set', inflight, scan_id, 'EX', lock_ttl)
redis.call('hset', job, 'status', 'queued', 'deduplicated', '0', 'enqueued', '1')
redis.call('expire', job, ttl)
redis.call('hset', msgs, message_id, message)
redis.call('rpush', queue, message_id)
return {'lead', '', redis.call('llen', queue)}
"""

# KEYS: job. ARGV: now. Returns the status before (false: no record).
_START = """
local status = redis.call('hget', KEYS[1], 'status')
if status and status ~= 'done' and status ~= 'failed' then
  redis.call('hset', KEYS[1], 'status', 'running', 'started', ARGV[1], 'enqueued', '1')
  redis.call('hincrby', KEYS[1], 'attempts', 1)
end
return status
"""

# KEYS: job, inflight, report. ARGV: scan_id, status, reason, error_kind, now,
# report text ('' for none), report ttl. Returns 1 when the record changed.
_FINISH = """
local job, inflight, report = KEYS[1], KEYS[2], KEYS[3]
if ARGV[6] ~= '' then redis.call('set', report, ARGV[6], 'NX', 'EX', tonumber(ARGV[7])) end
if redis.call('get', inflight) == ARGV[1] then redis.call('del', inflight) end
local status = redis.call('hget', job, 'status')
if not status or status == 'done' or status == 'failed' then return 0 end
redis.call('hset', job, 'status', ARGV[2], 'finished', ARGV[5], 'enqueued', '1')
if ARGV[3] ~= '' then redis.call('hset', job, 'reason', ARGV[3], 'error_kind', ARGV[4]) end
return 1
"""


# --- the broker -------------------------------------------------------------------


def _sync_client(settings: Settings) -> redis.Redis:
    assert settings.redis_url  # noqa: S101 - the callers checked it
    return sync_client(settings.redis_url, settings.redis_timeout, health_check_interval=10)


def make_broker(settings: Settings) -> ScamscanBroker:
    """The broker for ``settings.redis_url`` (no connection is made yet)."""
    if not settings.redis_url:
        raise ValueError("the Redis job queue needs SCAMSCAN_REDIS_URL")
    return ScamscanBroker(
        client=_sync_client(settings),
        namespace=DRAMATIQ_NAMESPACE,
        heartbeat_timeout=int(settings.queue_heartbeat_timeout * 1000),
    )


def scan_message(scan_id: str, path: str, name: str, sha256: str,
                 lists: str = "") -> dramatiq.Message[Any]:
    """The message the API enqueues for :func:`scan_apk` (no actor needed to send it).

    ``lists`` (the analysts' APK list version, part of the deduplication key)
    travels as a keyword argument, only when there is one. It carries its
    ``redis_message_id`` already, as :meth:`RedisBroker.enqueue` would give it.
    """
    return dramatiq.Message(queue_name=QUEUE_NAME, actor_name=ACTOR_NAME,
                            args=(scan_id, path, name, sha256),
                            kwargs={"lists": lists} if lists else {},
                            options={"redis_message_id": str(uuid.uuid4())})


QUEUE_KEY = f"{DRAMATIQ_NAMESPACE}:{QUEUE_NAME}"
"""dramatiq's list of the queue's message ids (its Redis broker's layout)."""
MESSAGES_KEY = f"{QUEUE_KEY}.msgs"
"""dramatiq's hash of the queue's messages, by redis message id."""


# --- the API side -------------------------------------------------------------------


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(float(value), UTC)


def _str(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace") or None
    return str(value) if value else None


class RedisJobManager:
    """APK jobs whose records live in Redis and whose scans run in ``scamscan worker``.

    The same interface as the embedded :class:`api.jobs.JobManager`. When Redis
    cannot be reached, :meth:`submit`, :meth:`lookup` and :meth:`result` raise
    :class:`~api.storage.errors.QueueUnavailable` (a 503 problem); nothing is cached, so
    once Redis is back every call works again.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.redis_url:
            raise ValueError("the Redis job queue needs SCAMSCAN_REDIS_URL")
        self.record_ttl = settings.apk_record_ttl
        self.lists_file = str(apk_lists_path(settings.data_dir))
        # Bounded waits, one reconnect after a broken connection (api.storage.redis),
        # then a 503: a request never hangs on a dead Redis.
        self._redis = async_client(settings.redis_url, settings.redis_timeout)
        self._claim = self._redis.register_script(_CLAIM)
        self.scans_started = 0
        """Scans this API process enqueued (deduplicated uploads do not count)."""
        self._pending = 0

    def open(self) -> None:
        """Nothing to prepare: Redis is reached on first use."""

    @property
    def pending(self) -> int:
        """Jobs waiting in the queue, as last seen by this process."""
        return self._pending

    async def submit(self, sample: StoredSample, owner: str | None = None) -> Job:
        job = Job(uuid.uuid4().hex, sample.sha256, sample.filename, sample.size, sample.path,
                  owner=owner)
        created = time.time()
        job.created = datetime.fromtimestamp(created, UTC)
        job.lists_version = await anyio.to_thread.run_sync(apk_lists_version, self.lists_file)
        fields: list[str | int | float] = [
            "created", repr(created), "sha256", job.sha256, "input", job.input,
            "size", job.size, "path", str(job.path), "kind", "apk"]
        if owner is not None:
            fields += ["owner", owner]
        if job.lists_version:
            fields += ["lists", job.lists_version]
        lv = job.lists_version
        message = scan_message(job.scan_id, str(job.path), job.input, job.sha256, lv)
        try:
            mode, leader, queued = await self._claim(
                keys=[report_key(job.sha256, lv), inflight_key(job.sha256, lv),
                      job_key(job.scan_id), QUEUE_KEY, MESSAGES_KEY],
                args=[job.scan_id, self.record_ttl, LOCK_TTL, created, STALE_AFTER,
                      PREFIX + "job:", message.options["redis_message_id"],
                      message.encode(), *fields])
        except (RedisError, OSError) as e:
            # Whether Redis ran the claim is unknown (a time-out): if it did, the
            # job is queued and ends like any other; nothing is left half-done.
            raise _unavailable(e) from None
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode == "done":
            job.deduplicated = True
            job.status = "done"
            job.started = job.finished = job.created
            return job
        if mode == "follow":
            job.deduplicated = True
            log.info("apk scan %s follows %s", job.scan_id, _str(leader))
            await self._refresh(job)
            return job
        self.scans_started += 1
        self._pending = int(queued)
        return job

    def get(self, scan_id: str) -> Job | None:
        """Records live in Redis: use :meth:`lookup`."""
        raise NotImplementedError("RedisJobManager.get: use `await lookup(scan_id)`")

    async def lookup(self, scan_id: str) -> Job | None:
        """The job ``scan_id`` as it is now, or None when unknown (or expired)."""
        try:
            record = await self._redis.hgetall(job_key(scan_id))
        except (RedisError, OSError) as e:
            raise _unavailable(e) from None
        if not record:
            return None
        job = Job(scan_id, _str(record.get(b"sha256")) or "", _str(record.get(b"input")) or "",
                  int(record.get(b"size") or 0), Path(_str(record.get(b"path")) or ""))
        job.created = _dt(record.get(b"created")) or job.created
        job.deduplicated = record.get(b"deduplicated") == b"1"
        job.owner = _str(record.get(b"owner"))
        job.lists_version = _str(record.get(b"lists")) or ""
        await self._apply(job, record)
        return job

    async def wait(self, job: Job, seconds: float) -> bool:
        """Poll ``job``'s record until it finished or ``seconds`` passed; True when finished.

        Redis failing meanwhile ends the wait (the job is shown as last seen).
        """
        deadline = time.monotonic() + seconds
        while not job.finished_ok:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(min(POLL_INTERVAL, left))
            try:
                await self._refresh(job)
            except QueueUnavailable:
                break
        return job.finished_ok

    async def result(self, job: Job) -> ApkResult | None:
        """The report of a ``done`` job, labelled with the job's own file name."""
        if job.status != "done":
            return None
        try:
            text = await self._redis.get(report_key(job.sha256, job.lists_version))
        except (RedisError, OSError) as e:
            raise _unavailable(e) from None
        if text is None:
            log.error("stored APK report of %s missing", job.sha256)
            return None
        return dataclasses.replace(ApkResult.from_json(_str(text) or ""), input=job.input)

    async def aclose(self) -> None:
        """Close the connections; queued jobs stay in Redis for the workers."""
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    # --- internals ----------------------------------------------------------------

    async def _refresh(self, job: Job) -> None:
        try:
            record = await self._redis.hgetall(job_key(job.scan_id))
        except (RedisError, OSError) as e:
            raise _unavailable(e) from None
        if record:
            await self._apply(job, record)

    async def _apply(self, job: Job, record: Mapping[Any, Any]) -> None:
        """Set ``job``'s state from its record (and its leader's, for a follower)."""
        status = cast(Status, _str(record.get(b"status")) or "queued")
        reason, kind = _str(record.get(b"reason")), _str(record.get(b"error_kind"))
        started, finished = _dt(record.get(b"started")), _dt(record.get(b"finished"))
        leader = _str(record.get(b"leader"))
        if status == "queued" and leader is not None:
            status, started, finished, reason, kind = await self._leader_state(job, leader)
        elif status == "queued" and record.get(b"enqueued") != b"1" and \
                time.time() - float(record.get(b"created") or 0) > STALE_AFTER:
            status, reason, kind = ("failed", "the scan could not be queued (the job queue "
                                    "was unavailable); upload the file again",
                                    "queue-unavailable")
            finished = job.created
        job.status, job.started, job.finished = status, started, finished
        job.reason, job.error_kind = reason, kind

    async def _leader_state(
        self, job: Job, leader: str
    ) -> tuple[Status, datetime | None, datetime | None, str | None, str | None]:
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hgetall(job_key(leader))
            pipe.exists(report_key(job.sha256, job.lists_version))
            record, has_report = await pipe.execute()
        except (RedisError, OSError) as e:
            raise _unavailable(e) from None
        if has_report:
            started = _dt(record.get(b"started")) if record else None
            finished = _dt(record.get(b"finished")) if record else None
            return "done", started or job.created, finished or job.created, None, None
        if not record:
            return ("failed", None, job.created, "the scan this upload followed is no longer "
                    "known; upload the file again", "lost")
        probe = Job(leader, job.sha256, "", 0, job.path, created=_dt(record.get(b"created"))
                    or job.created)
        await self._apply(probe, record)
        return probe.status, probe.started, probe.finished, probe.reason, probe.error_kind


def _unavailable(e: BaseException) -> QueueUnavailable:
    log.warning("the Redis job queue is unavailable: %s", e)
    return QueueUnavailable(f"the Redis job queue failed: {e}")


# --- the worker side -----------------------------------------------------------------


class _Worker:
    """What the actor needs in a worker process: its settings and Redis."""

    def __init__(self, settings: Settings) -> None:
        assert settings.redis_url  # noqa: S101 - make_broker checked it
        self.settings = settings
        self.redis = _sync_client(settings)
        self.start = self.redis.register_script(_START)
        self.finish_script = self.redis.register_script(_FINISH)
        self.samples = settings.data_dir / "samples"
        self.limits = ApkLimits(max_file_bytes=settings.max_apk_bytes).to_dict()
        self.blocklist = str(settings.apk_blocklist) if settings.apk_blocklist else None
        self.use_blocklists = settings.blocklists == "on"
        self.lists_file = str(apk_lists_path(settings.data_dir))

    def sample_path(self, sha256: str, given: str) -> str:
        """This worker's copy of the sample (mounts may differ from the API's)."""
        own = self.samples / sha256[:2] / sha256[2:4] / sha256
        return str(own) if own.is_file() or not Path(given).is_file() else given

    def finish(self, scan_id: str, sha256: str, status: Status, reason: str = "",
               error_kind: str = "", report: str = "", lists: str = "") -> None:
        """Write the end of a job, retrying a while if Redis is away (then raise)."""
        keys = [job_key(scan_id), inflight_key(sha256, lists), report_key(sha256, lists)]
        args: list[str | int] = [scan_id, status, reason, error_kind, repr(time.time()), report,
                self.settings.apk_record_ttl]
        for attempt in range(8):
            try:
                self.finish_script(keys=keys, args=args)
                log.info("apk scan %s %s%s", scan_id, status, f": {reason}" if reason else "")
                return
            except (RedisError, OSError):
                if attempt == 7:
                    raise
                time.sleep(min(2.0 ** attempt * 0.25, 8.0))


_worker: _Worker | None = None


class SampleMissing(Exception):
    """The sample is not (yet) in this worker's sample directory: retried, as a
    volume being mounted or synchronised would be."""


def scan_apk(scan_id: str, sample_path: str, name: str, sha256: str, lists: str = "") -> None:
    """The actor: scan one stored sample and write the job's end.

    Idempotent: a job already finished, or whose file already has a report,
    is only marked ``done``. A refused file ends ``failed`` at once (no retry:
    it would be refused again); an exception is retried by dramatiq, and
    :class:`JobFailures` marks the job failed once the retries are spent.
    """
    w = _worker
    if w is None:
        raise RuntimeError("scan_apk runs in `scamscan worker` (register_actor was not called)")
    before = w.start(keys=[job_key(scan_id)], args=[repr(time.time())])
    if before in (b"done", b"failed"):
        log.info("apk scan %s already %s; nothing to do", scan_id, before.decode())
        return
    if w.redis.exists(report_key(sha256, lists)):
        w.finish(scan_id, sha256, "done", lists=lists)
        return
    path = w.sample_path(sha256, sample_path)
    if not Path(path).is_file():
        raise SampleMissing(f"sample {sha256} not found under {w.samples}")
    text = run_apk_job(path, name, sha256, w.limits, None, w.blocklist, w.lists_file,
                       w.use_blocklists)
    result = ApkResult.from_json(text)
    if result.error is not None:
        w.finish(scan_id, sha256, "failed", result.error, result.error_kind or "refused",
                 lists=lists)
    else:
        w.finish(scan_id, sha256, "done", report=text, lists=lists)


class JobFailures(Middleware):
    """Marks a job ``failed`` when dramatiq gives its message up (retries spent, time limit)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        if exception is None or not message.failed or message.actor_name != ACTOR_NAME:
            return
        scan_id, _, _, sha256 = message.args
        lists = str((message.kwargs or {}).get("lists", ""))
        if isinstance(exception, TimeLimitExceeded):
            reason, kind = (f"the scan took longer than its time limit of {self.timeout:g} s",
                            "timeout")
        else:
            tries = message.options.get("retries", 1)
            attempts = f"{tries} attempt{'s' if tries != 1 else ''}"
            if isinstance(exception, SampleMissing):
                reason, kind = ("the uploaded file was not found in the workers' sample "
                                f"store ({attempts}); upload it again", "sample-missing")
            else:
                reason, kind = (f"the scan failed on the server side "
                                f"({type(exception).__name__}, {attempts})", "internal")
        w = _worker
        if w is not None:
            try:
                w.finish(scan_id, sha256, "failed", reason, kind, lists=lists)
            except (RedisError, OSError):
                log.error("apk scan %s failed and its end could not be written", scan_id)


def register_actor(broker: ScamscanBroker, settings: Settings) -> dramatiq.Actor[Any, Any]:
    """Declare :func:`scan_apk` on ``broker`` with its retry and time-limit options."""
    global _worker
    _worker = _Worker(settings)
    # Before Retries in the list: dramatiq runs "after" hooks in reverse, so this
    # one sees the message once Retries decided to give it up (message.failed).
    broker.add_middleware(JobFailures(settings.apk_job_timeout), before=Retries)
    options: dict[str, Any] = {
        "max_retries": settings.apk_max_retries,
        "min_backoff": int(settings.apk_retry_backoff * 1000),
        "max_backoff": int(settings.apk_retry_backoff * 1000 * 2 ** 6),
        "time_limit": int(settings.apk_job_timeout * 1000),
        "throws": (TimeLimitExceeded,),
    }
    decorate = dramatiq.actor(broker=broker, actor_name=ACTOR_NAME, queue_name=QUEUE_NAME,
                              **options)
    return decorate(scan_apk)
