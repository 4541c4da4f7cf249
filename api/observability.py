"""Operations: metrics, structured logs with a request id, and readiness.

:func:`install` wires everything into an app built by :func:`api.main.create_app`:
a :class:`Metrics` object on ``app.state.metrics`` (its own
``CollectorRegistry``, so several apps in one process never clash), the
:class:`RequestContextMiddleware` (request id, one access log line, HTTP
metrics), ``GET /readyz`` and, unless ``SCAMSCAN_METRICS_ENABLED=0``,
``GET /metrics``.

Metrics (Prometheus text format 0.0.4)
--------------------------------------

* ``scamscan_scans_total{kind, verdict}``: scans answered. ``kind`` is
  ``url``, ``apk`` or ``message``; ``verdict`` a :class:`~scanners.findings.Verdict`
  value, or ``failed`` for an APK that could not be scanned. Every upload that
  ends with an answer counts, deduplicated ones included.
* ``scamscan_scanner_duration_seconds{scanner}``: time in each scanner
  (``url-offline``, ``domain-age``, ``live-fetch``: each ``scan`` call through
  :class:`Timed`; ``apk``: a job's run, from ``started`` to ``finished``;
  deduplicated uploads ran no scan and add no sample).
* ``scamscan_cache_requests_total{cache="domain_age", result="hit"|"miss"}``:
  read at scrape time from the domain-age scanner's counters.
* ``scamscan_queue_depth``: APK scans waiting for a worker, refreshed at each
  scrape from ``app.state.queue_depth`` when it is set (a callable returning an
  ``int`` or an awaitable of one; meant for the Redis queue: e.g. an ``LLEN`` of
  its queue), else from ``app.state.services.jobs.pending`` (exact for the embedded
  ``JobManager``; the Redis manager's is the length it last saw).
* ``scamscan_http_requests_total{route, method, status}`` and
  ``scamscan_http_request_duration_seconds{route, method}``: ``route`` is the
  route template (``/v1/scans/{scan_id}``), never the raw path; requests that
  match no route are ``unmatched``.

Other code records scans with ``app.state.metrics.record_scan(kind, verdict)``
and scanner times with ``app.state.metrics.observe_scanner(name, seconds)``.

Logs
----

``SCAMSCAN_LOG_FORMAT=json`` (the default) renders every line of the
``scamscan`` loggers, and uvicorn's, as one JSON object through stdlib
logging and :class:`JsonFormatter`: ``timestamp``, ``level``,
``logger``, ``message``, ``request_id`` (inside a request) and whatever was
passed as ``extra=``. Log with the standard library
(``logging.getLogger("scamscan.…")``); the request id is added for you.
The request id is the caller's ``X-Request-ID`` when it is a sane token (at
most 64 characters of ``[A-Za-z0-9._-]``), else a new uuid4 hex; it is
returned in the ``X-Request-ID`` response header and as ``request_id`` in
problem+json bodies. uvicorn's own access log is silenced in JSON mode (it
would log query strings): :class:`RequestContextMiddleware` writes one line per
request with ``method``, ``route``, ``status`` and ``duration_ms``, never a
body or a query string; probe routes (``/healthz``, ``/readyz``,
``/metrics``) are logged at DEBUG. The handler :func:`configure_logging` adds
(:class:`RoundBatchedStreamHandler`) writes the lines logged during one round of the
event loop together, at its end: the same lines in the same order, one system call.

Readiness and the worker heartbeat contract
-------------------------------------------

``GET /readyz`` answers 200 ``{"status": "ready", "checks": {...}, "lists": {...}}``
or a 503 problem+json whose ``checks`` name what failed. Always checked: the offline
scanner is loaded and ``SCAMSCAN_DATA_DIR`` is writable. With
``SCAMSCAN_REDIS_URL`` set, also: Redis answers ``PING`` within
:data:`READY_TIMEOUT` seconds, and a worker heartbeat is recent.

``lists`` says what scans use: the bundled lists, the analyst entries, and
each feed with its age, generation, last error and whether it is ``stale``
(:meth:`api.services.lists.ListService.feed_status`). A stale or failing feed
is reported but never makes the service unready: the bundled lists and the
analyst entries still answer, and a feed host being down must not take every
replica out of the load balancer.

Heartbeats are a sorted set, :data:`HEARTBEAT_KEY` (``scamscan:workers``,
the same key as :data:`api.queue.WORKERS_KEY`): member = the worker's id,
score = the Unix time (``time.time()``, seconds) of its last beat. Each
``scamscan worker`` process (:class:`api.worker.Heartbeat`):

* uses an id that starts with its host name and a colon
  (``<hostname>:<pid>:<random>``), so that a container's health check can find
  its own (:func:`check_worker`);
* beats at start and then every few seconds (5 s today:
  ``ZADD scamscan:workers <time> <id>``), well within
  ``SCAMSCAN_WORKER_HEARTBEAT_MAX_AGE`` (30 s by default);
* removes itself on a clean stop (``ZREM``) and prunes members older than a
  day (``ZREMRANGEBYSCORE … -inf <time - 86400>``).

``/readyz`` reads the newest member (``ZREVRANGE scamscan:workers 0 0
WITHSCORES``) and is ready when it is at most
``SCAMSCAN_WORKER_HEARTBEAT_MAX_AGE`` seconds old. The machines' clocks must
agree (NTP): the score is the worker's clock, the age is measured with the API's.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, cast

import anyio.to_thread
import orjson
import redis.asyncio as aioredis
import structlog
from fastapi import Depends
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.ids import uuid4_hex
from api.log_output import RoundBatchedStreamHandler, iso_timestamp
from api.origin import scope_header
from api.problems import unhandled_error_handler
from api.storage import prefixes
from api.storage.redis import async_client, sync_client
from scanners.findings import Finding, Verdict

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.jobs import Job, JobManager
    from api.settings import Settings

log = logging.getLogger("scamscan.api")

# --- constants ------------------------------------------------------------------

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus text exposition format 0.0.4 (what every Prometheus scrapes)."""

HEARTBEAT_KEY = prefixes.WORKERS
"""Sorted set of worker heartbeats: member = worker id, score = Unix time."""
READY_TIMEOUT = 1.0
"""Seconds ``/readyz`` gives Redis (PING and the heartbeat read) before failing."""

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RAW = REQUEST_ID_HEADER.encode()
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

KINDS = ("url", "apk", "message")
FAILED = "failed"
"""The ``verdict`` label of an APK that could not be scanned."""
SCANNERS = ("url-offline", "domain-age", "live-fetch", "apk")
SCANNER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
TYPE_NOT_READY = "tag:scamscan,2025:problems/not-ready"
_MAX_PROBLEM_BYTES = 1 << 20

# --- headers added to whatever a request answers ------------------------------------

EXTRA_HEADERS_STATE = "response_headers"
"""The ``scope["state"]`` entry (``request.state.response_headers``) whose headers
:class:`RequestContextMiddleware` adds to the response, whatever it is."""


def add_response_headers(request: Request, headers: dict[str, str]) -> None:
    """Have ``headers`` (lowercase names) sent with this request's response, whatever
    answers it: the route, or an error handler (a 422, a problem raised later). A
    header the response already has is kept (e.g. the fields of a 429 problem)."""
    extra: dict[str, str] | None = request.scope.setdefault("state", {}).get(
        EXTRA_HEADERS_STATE)
    if extra is None:
        request.scope["state"][EXTRA_HEADERS_STATE] = dict(headers)
    else:
        extra.update(headers)


# --- request id -------------------------------------------------------------------


def sane_request_id(value: str | None) -> str:
    """``value`` when it is a safe token to echo and log, else a new uuid4 hex."""
    if value is not None and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid4_hex()


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


# --- logging ------------------------------------------------------------------------

_HANDLER_MARK = "_scamscan_handler"
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


_RECORD_KEYS = frozenset(logging.LogRecord("n", 0, "p", 0, "m", (), None).__dict__) | {
    "message", "asctime", "color_message"}
"""Attributes of every log record: what is not one of these was passed as ``extra=``
(uvicorn's ``color_message`` is dropped: the same message with terminal colours)."""


class JsonFormatter(logging.Formatter):
    """Each stdlib record as one JSON object: ``timestamp`` (ISO 8601, UTC, ``Z``),
    ``level``, ``logger``, the bound context (``request_id``), the ``extra=`` fields,
    ``message``, and ``exception`` (the traceback) when there is one.

    The fields structlog's ``ProcessorFormatter`` gave before, written directly: it
    ran a chain of processors over each record, and the access line of every request
    made it a visible part of a link scan's CPU (docs/evaluation.md, "Service load")."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "timestamp": iso_timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        for key, value in structlog.contextvars.get_contextvars().items():
            event.setdefault(key, value)
        for key, value in record.__dict__.items():
            if key not in _RECORD_KEYS:
                event[key] = value
        event["message"] = record.getMessage()
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            event["exception"] = record.exc_text
        try:
            return orjson.dumps(event, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # what orjson refuses (an integer beyond 64 bits...)
            return json.dumps(event, default=str, ensure_ascii=False)


def json_formatter() -> logging.Formatter:
    """A formatter rendering each stdlib record as one JSON object (see the module doc)."""
    return JsonFormatter()


def configure_logging(level: str, fmt: Literal["json", "text"] = "json") -> None:
    """Level and format of the ``scamscan`` loggers (and uvicorn's, in JSON mode).

    A handler is added to ``scamscan`` only when nobody configured logging
    (uvicorn configures only its own loggers; pytest has root handlers), and
    never twice: a second call updates its formatter.
    """
    logger = logging.getLogger("scamscan")
    logger.setLevel(level)
    formatter = json_formatter() if fmt == "json" else logging.Formatter(_TEXT_FORMAT)
    ours = [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]
    for h in ours:
        h.setFormatter(formatter)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = RoundBatchedStreamHandler(sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    if fmt == "json":
        # uvicorn configured its loggers before importing the app: same format,
        # and its access line (with query strings) gives way to ours.
        for name in ("uvicorn", "uvicorn.error"):
            for h in logging.getLogger(name).handlers:
                h.setFormatter(formatter)
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


# --- metrics ------------------------------------------------------------------------

CacheCounts = Callable[[], tuple[int, int]]


class _CacheCollector(Collector):
    """``scamscan_cache_requests_total``, read from the caches' own counters at scrape."""

    def __init__(self, sources: dict[str, CacheCounts]) -> None:
        self.sources = sources

    def describe(self) -> Iterable[Metric]:
        return [CounterMetricFamily("scamscan_cache_requests",
                                    "Cache lookups, by cache and result.",
                                    labels=["cache", "result"])]

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily("scamscan_cache_requests",
                                     "Cache lookups, by cache and result.",
                                     labels=["cache", "result"])
        for cache, source in sorted(self.sources.items()):
            try:
                hits, misses = source()
            except Exception as e:  # a scrape must not fail for one cache
                log.warning("cache counters of %s unavailable: %s", cache, e)
                continue
            family.add_metric([cache, "hit"], hits)
            family.add_metric([cache, "miss"], misses)
        yield family


class Metrics:
    """The service's Prometheus metrics, in a registry of their own (see the module doc)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.scans = Counter("scamscan_scans", "Scans answered, by kind and verdict.",
                             ["kind", "verdict"], registry=r)
        for kind in KINDS:
            for verdict in Verdict:
                self.scans.labels(kind, verdict.value)
        self.scans.labels("apk", FAILED)
        self.scanner_duration = Histogram(
            "scamscan_scanner_duration_seconds", "Time spent in each scanner.", ["scanner"],
            buckets=SCANNER_BUCKETS, registry=r)
        for name in SCANNERS:
            self.scanner_duration.labels(name)
        self.queue_depth = Gauge("scamscan_queue_depth", "APK scans waiting for a worker.",
                                 registry=r)
        self.http_requests = Counter("scamscan_http_requests", "HTTP requests answered.",
                                     ["route", "method", "status"], registry=r)
        self.http_duration = Histogram(
            "scamscan_http_request_duration_seconds", "Time to answer an HTTP request.",
            ["route", "method"], buckets=HTTP_BUCKETS, registry=r)
        self.cache_sources: dict[str, CacheCounts] = {}
        r.register(_CacheCollector(self.cache_sources))
        self._tasks: set[asyncio.Task[None]] = set()
        # Labelled children by their labels, and Timed wrappers by scanner: looked up
        # once, not on every request (prometheus_client's labels() validates and
        # locks each time). Every label here has a bounded set of values.
        self._children: dict[tuple[Any, ...], Any] = {}
        self._timed: dict[int, Timed[Any]] = {}

    # --- recording ---------------------------------------------------------------

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def record_scan(self, kind: str, verdict: str) -> None:
        self._child(self.scans, kind, verdict).inc()

    def observe_scanner(self, scanner: str, seconds: float) -> None:
        self._child(self.scanner_duration, scanner).observe(max(0.0, seconds))

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        self._child(self.http_requests, route, method, str(status)).inc()
        self._child(self.http_duration, route, method).observe(seconds)

    def timed(self, scanner: Any) -> Timed[Any]:
        """``scanner`` wrapped in :class:`Timed`, the same wrapper for the same scanner."""
        wrapper = self._timed.get(id(scanner))
        if wrapper is None or wrapper.scanner is not scanner:
            if len(self._timed) > 64:  # scanners made per request (tests' stand-ins)
                self._timed.clear()
            wrapper = self._timed[id(scanner)] = Timed[Any](scanner, self.scanner_duration)
        return wrapper

    def add_cache(self, cache: str, counts: CacheCounts) -> None:
        """Report ``counts() -> (hits, misses)`` as ``scamscan_cache_requests_total``."""
        self.cache_sources[cache] = counts

    async def refresh_queue_depth(self, state: Any) -> None:
        """Set the queue gauge from ``state.queue_depth()`` or the embedded job manager."""
        hook: Callable[[], int | Awaitable[int]] | None = getattr(state, "queue_depth", None)
        try:
            if hook is not None:
                value = hook()
                depth = await value if inspect.isawaitable(value) else value
            else:
                jobs = getattr(getattr(state, "services", None), "jobs", None)
                if jobs is None:
                    return
                depth = jobs.pending
        except Exception as e:  # keep the last value; the scrape still answers
            log.warning("queue depth unavailable: %s", e)
            return
        self.queue_depth.set(depth)

    # --- APK jobs -----------------------------------------------------------------

    async def track_apk(self, jobs: Any, job: Job, view: dict[str, Any]) -> None:
        """Count the APK scan ``job`` once it ends; ``view`` is the answer just built.

        A job already finished is counted now. Otherwise, with the embedded
        :class:`~api.jobs.JobManager`, a task waits for it (an event, no
        polling); with the Redis queue the scan ends in a worker and is not
        counted here (only uploads answered finished are).
        """
        status = view.get("status")
        if status in ("done", FAILED):
            report = view.get("report") or {}
            self._record_apk(job, str(report.get("verdict", FAILED)) if status == "done"
                             else FAILED)
            return
        from api.jobs import JobManager

        if not isinstance(jobs, JobManager):
            return
        task = asyncio.get_running_loop().create_task(self._watch_apk(jobs, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_apk(self, jobs: JobManager, job: Job) -> None:
        while not await jobs.wait(job, 3600.0):
            pass
        status, _ = job.view_status()
        verdict = FAILED
        if status == "done":
            result = await jobs.result(job)
            if result is not None:
                verdict = str(result.report("en").get("verdict", FAILED))
        self._record_apk(job, verdict)

    def _record_apk(self, job: Job, verdict: str) -> None:
        self.record_scan("apk", verdict)
        if not job.deduplicated and job.started is not None and job.finished is not None:
            self.observe_scanner("apk", (job.finished - job.started).total_seconds())

    async def aclose(self) -> None:
        """Stop waiting for APK jobs (at shutdown)."""
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def metrics_of(request: Request) -> Metrics:
    """The app's metrics (``app.state.metrics``)."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_metrics(request: Request) -> Metrics:
    """The dependency of :data:`MetricsDep`: a coroutine, because FastAPI runs a plain
    ``def`` dependency in its thread pool, a thread hop on every request."""
    return metrics_of(request)


MetricsDep = Annotated[Metrics, Depends(get_metrics)]

T_contra = TypeVar("T_contra", contravariant=True)


class Timed(Generic[T_contra]):
    """A scanner that records the time each ``scan`` of ``scanner`` takes.

    Same ``name`` and ``scan`` as the wrapped scanner; a scan that raises
    (e.g. :class:`~scanners.errors.ScanIncomplete`) is timed too.
    """

    def __init__(self, scanner: Any, histogram: Histogram) -> None:
        self.scanner = scanner
        self.name: str = scanner.name
        self._histogram = histogram.labels(self.name)

    async def scan(self, target: T_contra) -> list[Finding]:
        start = time.perf_counter()
        try:
            findings: list[Finding] = await self.scanner.scan(target)
        finally:
            self._histogram.observe(time.perf_counter() - start)
        return findings


def timed(scanners: Sequence[Any], metrics: Metrics) -> list[Any]:
    """Each of ``scanners`` wrapped in :class:`Timed` (:meth:`Metrics.timed`)."""
    return [metrics.timed(s) for s in scanners]


# --- the request middleware ----------------------------------------------------------


def route_template(scope: Scope) -> str:
    """The template of the route ``scope`` matches (``/v1/scans/{scan_id}``), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    router = getattr(app, "router", None)
    partial: str | None = None
    for candidate in getattr(router, "routes", ()):
        try:
            match, _ = candidate.matches(scope)
        except Exception:  # noqa: S112 - an odd route must not break the log line
            continue
        cpath = getattr(candidate, "path", None)
        if not isinstance(cpath, str):
            continue
        if match == Match.FULL:
            return cpath
        if match == Match.PARTIAL and partial is None:
            partial = cpath
    return partial or UNMATCHED


def _method(scope: Scope) -> str:
    method = str(scope.get("method", "")).upper()
    return method if method in _METHODS else "OTHER"


class RequestContextMiddleware:
    """Request id, one access log line and the HTTP metrics for every request.

    Binds the request id (see :func:`sane_request_id`) to every log line of
    the request, returns it in ``X-Request-ID`` and adds it to problem+json
    bodies as ``request_id``. Adds the headers :func:`add_response_headers` asked
    for (the RateLimit fields of :mod:`api.auth`). An exception no handler took (a bug) is answered
    here with the 500 problem of :func:`api.problems.unhandled_error_handler`,
    logged with its traceback and the request id. Logs method, route template,
    status and duration; never a body or a query string.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        # Shared by reference with every inner copy of the scope: add_response_headers.
        scope.setdefault("state", {})
        request_id = sane_request_id(scope_header(scope, b"x-request-id"))
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        held: Message | None = None
        chunks: list[bytes] = []

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, held, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                # The raw header list is read once and rebuilt, rather than through
                # MutableHeaders, which scans it again for each name (on every request).
                headers: list[tuple[bytes, bytes]] = []
                present: set[bytes] = set()
                ctype = b""
                for name, value in message.get("headers", ()):
                    lname = name.lower()
                    if lname == _REQUEST_ID_RAW:
                        continue  # replaced by ours
                    if lname == b"content-type":
                        ctype = value
                    present.add(lname)
                    headers.append((name, value))
                headers.append((_REQUEST_ID_RAW, request_id.encode("latin-1")))
                extra = scope.get("state", {}).get(EXTRA_HEADERS_STATE)
                if extra:
                    for name, value in extra.items():
                        raw_name = name.encode("latin-1")
                        if raw_name not in present:
                            headers.append((raw_name, value.encode("latin-1")))
                message["headers"] = headers
                if ctype.startswith(b"application/problem+json"):
                    held = message  # add request_id to the body once it is complete
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                size = sum(len(c) for c in chunks)
                if message.get("more_body", False) and size <= _MAX_PROBLEM_BYTES:
                    return
                start_message, held = held, None
                body = b"".join(chunks)
                if not message.get("more_body", False):
                    rewritten = _with_request_id(body, request_id)
                    if rewritten is not body:
                        body = rewritten
                        MutableHeaders(scope=start_message)["content-length"] = str(len(body))
                await send(start_message)
                await send({"type": "http.response.body", "body": body,
                            "more_body": message.get("more_body", False)})
                return
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # A bug. Answered here, inside the request's context, so that the 500
            # problem carries X-Request-ID and the error line its request_id
            # (Starlette's own last-resort handler runs outside this middleware).
            if started:
                log.error("unhandled error after the response started on %s %s",
                          _method(scope), route_template(scope), exc_info=exc)
                raise
            response = await unhandled_error_handler(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            method = _method(scope)
            if self.metrics is not None:
                self.metrics.observe_http(route, method, status, elapsed)
            log.log(logging.DEBUG if route in PROBE_ROUTES else logging.INFO,
                    "%s %s %d %.1fms", method, route, status, elapsed * 1000,
                    extra={"method": method, "route": route, "status": status,
                           "duration_ms": round(elapsed * 1000, 1)})
            structlog.contextvars.reset_contextvars(**tokens)


def _with_request_id(body: bytes, request_id: str) -> bytes:
    try:
        problem = json.loads(body)
    except ValueError:
        return body
    if not isinstance(problem, dict):
        return body
    problem.setdefault("request_id", request_id)
    return json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()


# --- readiness ----------------------------------------------------------------------


def _writable(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-"):
        pass


class Readiness:
    """What ``/readyz`` checks (see the module doc); holds its own Redis client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._redis: aioredis.Redis | None = None

    def _client(self, url: str) -> aioredis.Redis:
        if self._redis is None:
            self._redis = async_client(url, READY_TIMEOUT)
        return self._redis

    async def check(self, state: Any) -> tuple[bool, dict[str, str]]:
        """``(ready, checks)``: each check is ``ok`` or the reason it failed."""
        checks: dict[str, str] = {}
        services = getattr(state, "services", None)
        checks["scanner"] = ("ok" if getattr(services, "scanner", None) is not None
                             else "the offline scanner is not loaded")
        try:
            await anyio.to_thread.run_sync(_writable, self.settings.data_dir)
            checks["data_dir"] = "ok"
        except OSError as e:
            checks["data_dir"] = f"the data directory is not writable ({e.strerror or e})"
        if self.settings.redis_url:
            checks.update(await self._redis_checks(self.settings.redis_url))
        return all(v == "ok" for v in checks.values()), checks

    async def _redis_checks(self, url: str) -> dict[str, str]:
        client = self._client(url)
        try:
            async with asyncio.timeout(READY_TIMEOUT * 2):
                await client.ping()
                newest = await client.zrevrange(HEARTBEAT_KEY, 0, 0, withscores=True)
        except (RedisError, OSError, TimeoutError) as e:
            reason = f"Redis does not answer ({type(e).__name__}: {e})"
            return {"redis": reason, "worker": "unknown: Redis does not answer"}
        max_age = self.settings.worker_heartbeat_max_age
        if not newest:
            return {"redis": "ok", "worker": f"no worker heartbeat in Redis ({HEARTBEAT_KEY} "
                    "is empty): is a `scamscan worker` running?"}
        member, score = cast("tuple[bytes | str, float]", newest[0])
        name = member.decode("utf-8", "replace") if isinstance(member, bytes) else str(member)
        age = time.time() - float(score)
        if age > max_age:
            return {"redis": "ok", "worker": f"the newest worker heartbeat ({name}) is "
                    f"{age:.0f} s old (at most {max_age:g} s allowed)"}
        return {"redis": "ok", "worker": "ok"}

    async def aclose(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()


def _feeds(state: Any) -> dict[str, Any]:
    """The ``lists`` member of ``/readyz``: what the scans use, and each feed's age.

    Informational only: a stale or failed feed leaves the service ready, since
    the bundled lists and analyst entries still answer (see the module doc)."""
    lists = getattr(getattr(state, "services", None), "lists", None)
    if lists is None:
        return {"bundled": False, "analyst_entries": 0, "feeds_in_use": 0,
                "stale_feeds": [], "feeds": []}
    # /readyz needs no key: not the feeds' URLs (they may carry a token) nor who
    # added them.
    feeds = [{k: v for k, v in f.items() if k not in ("url", "added_by")}
             for f in lists.feed_status()]
    return {"bundled": True, "analyst_entries": len(lists.entries),
            "feeds_in_use": sum(1 for f in feeds if f["in_use"]),
            "stale_feeds": [f["name"] for f in feeds if f["stale"]], "feeds": feeds}


async def readyz(request: Request) -> Response:
    """Readiness: the scanner, the data directory and, with Redis, Redis and a worker;
    also the lists in use and each feed's age (never a reason to be unready)."""
    readiness: Readiness = request.app.state.readiness
    ready, checks = await readiness.check(request.app.state)
    lists = _feeds(request.app.state)
    if ready:
        return JSONResponse({"status": "ready", "checks": checks, "lists": lists})
    failed = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    body = {"type": TYPE_NOT_READY, "title": "Not ready", "status": 503,
            "detail": f"The service cannot take scans yet: {failed}.",
            "instance": request.url.path, "checks": checks, "lists": lists}
    return JSONResponse(body, status_code=503, media_type="application/problem+json",
                        headers={"retry-after": "5"})


async def metrics_endpoint(request: Request) -> Response:
    """The metrics in the Prometheus text format (0.0.4)."""
    metrics: Metrics = request.app.state.metrics
    await metrics.refresh_queue_depth(request.app.state)
    return Response(generate_latest(metrics.registry), media_type=METRICS_CONTENT_TYPE)


# --- wiring -----------------------------------------------------------------------------


def _domain_age_counts(state: Any) -> CacheCounts:
    def counts() -> tuple[int, int]:
        live = getattr(getattr(state, "services", None), "live", None)
        age = getattr(live, "age", None)
        return int(getattr(age, "cache_hits", 0)), int(getattr(age, "cache_misses", 0))

    return counts


def install(app: FastAPI, settings: Settings) -> Metrics:
    """Metrics, readiness, ``/readyz``, ``/metrics`` and the request middleware on ``app``.

    Call it where the outermost middleware is added; close with :func:`aclose`.
    """
    metrics = Metrics()
    metrics.add_cache("domain_age", _domain_age_counts(app.state))
    app.state.metrics = metrics
    app.state.readiness = Readiness(settings)
    app.add_api_route(
        "/readyz", readyz, methods=["GET"], tags=["health"], summary="Readiness check",
        responses={200: {"description": "Ready: every check is `ok`. `lists` says what "
                         "scans use: the bundled lists, the analyst entries and each feed "
                         "(`name`, `entries`, `generation`, `in_use`, `age_seconds` since "
                         "its last success, `last_error`, `stale`); a stale feed never "
                         "makes the service unready."},
                   503: {"description": "Not ready: `checks` names what failed.",
                         "content": {"application/problem+json": {}}}})
    if settings.metrics_enabled:
        app.add_api_route(
            "/metrics", metrics_endpoint, methods=["GET"], tags=["health"],
            summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {METRICS_CONTENT_TYPE: {}}}})
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return metrics


async def aclose(app: FastAPI) -> None:
    """Release what :func:`install` holds (APK watchers, the readiness Redis client).

    Never raises: the lifespan goes on closing the rest.
    """
    for part in (app.state.metrics, app.state.readiness):
        try:
            await part.aclose()
        except Exception as e:
            log.warning("closing %s failed: %s", type(part).__name__, e)


# --- worker side of the heartbeat contract -----------------------------------------------


def check_worker(redis_url: str | None = None, max_age: float | None = None,
                 host: str | None = None) -> int:
    """Health check of a worker container: 0 when Redis answers and a worker on
    this host beat within ``max_age`` seconds, else 1 (the reason on stderr).

    For ``docker-compose.yml``: ``python -c "import sys; from api.observability
    import check_worker; sys.exit(check_worker())"``; the defaults come from
    ``SCAMSCAN_REDIS_URL`` and ``SCAMSCAN_WORKER_HEARTBEAT_MAX_AGE``.
    """
    if redis_url is None or max_age is None:
        from api.settings import Settings

        settings = Settings()
        redis_url = redis_url or settings.redis_url
        max_age = settings.worker_heartbeat_max_age if max_age is None else max_age
    if not redis_url:
        print("unhealthy: SCAMSCAN_REDIS_URL is not set", file=sys.stderr)
        return 1
    host = host or socket.gethostname()
    client = sync_client(redis_url)
    try:
        client.ping()
        fresh = client.zrangebyscore(HEARTBEAT_KEY, time.time() - max_age, "+inf")
    except (RedisError, OSError) as e:
        print(f"unhealthy: Redis does not answer ({e})", file=sys.stderr)
        return 1
    finally:
        client.close()
    for member in fresh:
        name = member.decode("utf-8", "replace") if isinstance(member, bytes) else str(member)
        if name == host or name.startswith(host + ":"):
            return 0
    print(f"unhealthy: no heartbeat from a worker on {host} in the last {max_age:g} s",
          file=sys.stderr)
    return 1
