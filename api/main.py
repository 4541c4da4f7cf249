"""The HTTP API: a thin FastAPI edge over :mod:`scanners`.

Run it with ``scamscan serve`` or ``uvicorn api.main:app``. Routes:

* ``POST /v1/url-scans``: scan one link offline and explain the score;
* ``POST /v1/apk-scans``: upload an Android app (multipart ``file``) to scan;
* ``GET /v1/scans/{scan_id}``: the status of an APK scan and, once done, its report;
  for a link scan (``kind: url``) or a message check (``kind: message``), its stored
  report (re-titled in ``lang``);
* ``GET /v1/scans?q=&kind=url|apk|message&verdict=&page=1&per_page=20``: the scan history,
  newest first (a ``client`` key sees its own scans; see :mod:`api.history`);
* ``GET /v1/scans/{scan_id}/export?format=json``: the scan with its report as a
  JSON download (``content-disposition: attachment``);
* ``GET /v1/scans/{scan_id}/export?format=stix``: a STIX 2.1 bundle
  (``application/stix+json;version=2.1``, :mod:`scanners.stix`); a safe verdict
  gives a bundle without indicators, an unfinished or failed scan a 409 problem;
* ``GET /v1/rules``: the rule catalogue and the verdict thresholds;
* ``GET /healthz``: liveness, version and the bundled lists;
* ``GET /readyz``, ``GET /metrics``: readiness and Prometheus metrics (:mod:`api.observability`);
* ``GET|POST /v1/keys``, ``DELETE /v1/keys/{key_id}``: API keys (admin);
* ``/v1/lists/...``: list sources, analyst entries and feeds (:mod:`api.lists`);
* ``/docs`` and ``/openapi.json``.

Scans need an API key (``X-API-Key``) with at least the ``client`` role, or
keyless local use; ``/v1/rules``, ``/healthz`` and the docs are public. See
:mod:`api.auth`.

No domain logic lives here: the report comes from
:func:`scanners.report.scan_url` (links) or :func:`scanners.apk_report.scan_apk_path`
run by :mod:`api.jobs` on samples stored by :mod:`api.samples` (apps); errors
become problem+json in :mod:`api.problems`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import lru_cache
from importlib import metadata
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from api import observability
from api.auth import AUTH_RESPONSES, ClientAuth, current_owner, keys_router, open_auth, require
from api.deps import (
    FindingOut,
    IncompleteOut,
    Lang,
    LiveDep,
    ScannerDep,
    SettingsDep,
    require_json,
)
from api.history import MAX_PAGE, MAX_PER_PAGE, ScanHistory, open_history
from api.jobs import Job, JobBackend, JobManager, QueueFull, QueueUnavailable, Status
from api.lists import ListService, lists_router, open_lists
from api.observability import MetricsDep
from api.problems import (
    EXCEPTION_HANDLERS,
    PROBLEM_JSON,
    TYPE_BUSY,
    TYPE_INVALID_INPUT,
    TYPE_NOT_FOUND,
    BodySizeLimitMiddleware,
    ProblemException,
    problem_responses,
)
from api.routes_messages import MessageScanOut, message_scan_view
from api.samples import FIELD, MULTIPART_OVERHEAD, SampleStore
from api.settings import Settings, get_settings
from api.wiring import build_live
from blocklists import BlocklistIndex
from scanners import rules
from scanners.apk_facts import ApkLimits
from scanners.base import Scanner
from scanners.fetch import Resolver
from scanners.findings import DANGEROUS_AT, SUSPICIOUS_AT, Verdict, relabel
from scanners.lists import apk_lists_path
from scanners.live import ApkHandler
from scanners.normalize import MAX_INPUT_CHARS, ParsedURL
from scanners.report import scan_url
from scanners.rules import Kind, Severity
from scanners.url_offline import OfflineURLScanner, default_scanner

log = logging.getLogger("scamscan.api")


def _version() -> str:
    try:
        return metadata.version("scamscan")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0+unknown"


VERSION = _version()
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
"""The media type of the STIX export (``scanners.stix.MEDIA_TYPE``; that module, and
the stix2 library, are imported on the first export only)."""
TYPE_NOT_FINISHED = "tag:scamscan,2025:problems/not-finished"

# --- models ---------------------------------------------------------------



class UrlScanRequest(BaseModel):
    """A link to scan."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"url": "https://dichvucong.hgov.cc/dang-nhap", "offline": True, "lang": "vi"},
                {"url": "dichvucong[.]gov[.]vn", "lang": "en"},
            ]
        },
    )

    url: str = Field(
        min_length=1,
        max_length=MAX_INPUT_CHARS,
        description="The link or host as pasted: bare hosts, defanged forms (hxxp, [.]) "
        "and Unicode/punycode are accepted.",
    )
    offline: bool = Field(
        default=True,
        description="`true`: only the link itself and bundled lists. `false`: also the "
        "domain's age (RDAP/WHOIS) and a guarded fetch of the link (redirect chain, "
        "page signals, APK downloads); checks that cannot finish are listed in "
        "`incomplete`.",
    )
    lang: Lang | None = Field(
        default=None,
        description="Language of titles and reasons; the server default (`vi`) when absent.",
    )


class UrlReport(BaseModel):
    """The explained report for one link."""

    model_config = ConfigDict(extra="allow")

    scan_id: str = Field(description="Unique id of this scan (uuid4, hex).")
    input: str
    url: str = Field(description="Canonical URL, with the ASCII (punycode) host.")
    host: str
    host_unicode: str = Field(description="The host as a reader sees it (IDN decoded).")
    registrable_domain: str
    risk_score: int = Field(ge=0, le=100)
    verdict: Verdict
    reasons: list[str]
    findings: list[FindingOut]
    incomplete: list[IncompleteOut]


class ApkReport(BaseModel):
    """The explained report for one Android app (or XAPK/APKS bundle)."""

    model_config = ConfigDict(extra="allow")

    input: str = Field(description="The uploaded file's name (display only).")
    sha256: str
    size: int = Field(description="Bytes of the uploaded file.")
    package: str | None
    label: str | None = Field(description="The app's name as the launcher shows it.")
    risk_score: int = Field(ge=0, le=100)
    verdict: Verdict
    reasons: list[str]
    findings: list[FindingOut]
    incomplete: list[IncompleteOut]
    scanner_version: str
    app: dict[str, Any] | None = Field(
        default=None,
        description="A summary of the app for people: versions, permissions, components, "
        "accessibility configs, certificates, embedded URLs, native libraries, inner APKs "
        "of a bundle.",
    )


class ScanJobOut(BaseModel):
    """An APK scan: its status and, once `done`, its report."""

    scan_id: str = Field(description="Unique id of this scan (uuid4, hex).")
    kind: Literal["apk"]
    status: Status = Field(
        description="`queued` → `running` → `done` (with `report`) or `failed` (with "
        "`reason`). A file that is not an Android app (not a ZIP, a Windows executable, "
        "a truncated archive, a zip bomb, no manifest) ends `failed`."
    )
    status_url: str = Field(description="Where to poll this scan: `/v1/scans/{scan_id}`.")
    created: datetime
    started: datetime | None
    finished: datetime | None
    sha256: str = Field(description="SHA-256 of the uploaded file (its storage address).")
    input: str = Field(description="The uploaded file's name (sanitised, display only).")
    size: int
    deduplicated: bool = Field(
        description="`true` when no new scan ran for this upload: the same file was already "
        "scanned (or is being scanned) by the same scanner version."
    )
    reason: str | None = Field(default=None, description="Only when `failed`: why.")
    error_kind: str | None = Field(
        default=None,
        description="Only when `failed`: a code, e.g. `not-zip`, `windows-executable`, "
        "`truncated`, `zip-bomb`, `no-manifest`, `timeout`, `worker-lost`.",
    )
    report: ApkReport | None = Field(default=None, description="Only when `done`.")


class UrlScanOut(BaseModel):
    """A stored link scan: always `done`, with the report it was answered with."""

    scan_id: str = Field(description="The `scan_id` of the link scan's answer.")
    kind: Literal["url"]
    status: Literal["done"]
    status_url: str = Field(description="`/v1/scans/{scan_id}`.")
    created: datetime
    input: str = Field(description="The link as it was sent.")
    report: UrlReport | None = Field(
        default=None, description="The report as stored, its titles and reasons in the asked "
        "`lang` (points, score and verdict as decided then). Absent when it was larger than "
        "`SCAMSCAN_HISTORY_REPORT_MAX_BYTES` (then `reason` says so).")
    reason: str | None = Field(default=None, description="Only when `report` is absent: why.")


ScanOut = Annotated[ScanJobOut | UrlScanOut | MessageScanOut, Field(discriminator="kind")]
_SCAN_OUT: TypeAdapter[ScanJobOut | UrlScanOut | MessageScanOut] = TypeAdapter(ScanOut)


class ScanItemOut(BaseModel):
    """One scan of the history."""

    scan_id: str
    kind: Literal["url", "apk", "message"]
    created: datetime
    status: Status
    input: str = Field(description="The link, the app's file name, or the start of the "
                       "message (phone and account numbers masked).")
    host: str | None = Field(description="Links: the host (ASCII). Apps downloaded by a live "
                             "link scan: the host they were downloaded from.")
    registrable_domain: str | None
    package: str | None = Field(description="Apps, once scanned.")
    label: str | None = Field(description="Apps, once scanned: the launcher name.")
    sha256: str | None = Field(description="Apps: SHA-256 of the file.")
    verdict: Verdict | None = Field(description="None until an app's scan is done (and for a "
                                    "failed one).")
    risk_score: int | None = Field(ge=0, le=100)
    status_url: str


class ScanListOut(BaseModel):
    """A page of the scan history, newest first."""

    items: list[ScanItemOut]
    page: int
    per_page: int
    total: int = Field(description="Scans matching the query (on every page).")


class RuleOut(BaseModel):
    id: str
    points: int
    severity: Severity
    kind: Kind
    suppressible: bool
    official: bool
    title_vi: str
    title_en: str
    description: str


class Thresholds(BaseModel):
    suspicious: int
    dangerous: int


class RulesOut(BaseModel):
    rules: list[RuleOut]
    thresholds: Thresholds


class ListOut(BaseModel):
    name: str
    entries: int


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    rules: int = Field(description="Rules in the catalogue.")
    lists: list[ListOut] = Field(description="The bundled blocklists (empty if unreadable).")


# --- dependencies -----------------------------------------------------------


def get_jobs(request: Request) -> JobBackend:
    jobs: JobBackend = request.app.state.jobs
    return jobs


def get_samples(request: Request) -> SampleStore:
    samples: SampleStore = request.app.state.samples
    return samples


JobsDep = Annotated[JobBackend, Depends(get_jobs)]
SamplesDep = Annotated[SampleStore, Depends(get_samples)]


def get_history(request: Request) -> ScanHistory:
    history: ScanHistory = request.app.state.history
    return history


HistoryDep = Annotated[ScanHistory, Depends(get_history)]
LangQuery = Annotated[
    Lang | None,
    Query(description="Language of titles and reasons; the server default (`vi`) when absent."),
]
WaitQuery = Annotated[
    float,
    Query(ge=0, le=60, description="Seconds (0-60) to wait for the scan to finish before "
          "answering; 0 answers at once."),
]


# --- routes -----------------------------------------------------------------


async def create_url_scan(
    body: UrlScanRequest, scanner: ScannerDep, live: LiveDep, settings: SettingsDep,
    metrics: MetricsDep, history: HistoryDep,
) -> dict[str, Any]:
    """Scan one link and explain the risk score (offline, or with the live checks)."""
    lang = body.lang or settings.default_lang
    scanners: list[Scanner[ParsedURL]] = [scanner]
    if not body.offline:
        scanners += live.scanners
    report = await scan_url(body.url, observability.timed(scanners, metrics), lang)
    metrics.record_scan("url", report["verdict"])
    answer = {"scan_id": uuid.uuid4().hex, **report}
    # Queued, never awaited: a history failure must not fail the scan (api.history).
    history.record_url(answer, owner=current_owner.get(), lang=lang)
    return answer


def _status_url(scan_id: str) -> str:
    return f"/v1/scans/{scan_id}"


async def _job_view(job: Job, jobs: JobBackend, lang: str) -> dict[str, Any]:
    status, started = job.view_status()
    out: dict[str, Any] = {
        "scan_id": job.scan_id,
        "kind": job.kind,
        "status": status,
        "status_url": _status_url(job.scan_id),
        "created": job.created,
        "started": started,
        "finished": job.finished,
        "sha256": job.sha256,
        "input": job.input,
        "size": job.size,
        "deduplicated": job.deduplicated,
    }
    if status == "failed":
        out["reason"] = job.reason or "the scan failed"
        out["error_kind"] = job.error_kind
    if status == "done":
        result = await jobs.result(job)
        if result is None:
            raise ProblemException(503, "The stored report of this scan is unavailable; "
                                   "upload the file again.", title="Report unavailable")
        out["report"] = result.report(lang)
    return out


async def create_apk_scan(
    request: Request,
    response: Response,
    jobs: JobsDep,
    samples: SamplesDep,
    settings: SettingsDep,
    principal: ClientAuth,
    metrics: MetricsDep,
    history: HistoryDep,
    lang: LangQuery = None,
    wait: WaitQuery = 0,
) -> dict[str, Any]:
    """Upload an Android app (APK, XAPK or APKS) as the multipart field `file`.

    202 with the scan's `status_url` to poll, or 200 with the report when the
    same file was already scanned or `wait` was given and the scan finished in
    time. The file is stored by its SHA-256 and never served back.
    """
    sample = await samples.receive(request)
    try:
        job = await jobs.submit(sample, owner=principal.key_id)
    except QueueFull as e:
        raise ProblemException(503, f"The APK scanner is busy ({e}); try again in a minute.",
                               type_=TYPE_BUSY, title="Busy",
                               headers={"retry-after": "60"}) from None
    history.record_apk(job)
    finished = await jobs.wait(job, wait)
    body = await _job_view(job, jobs, lang or settings.default_lang)
    history.observe_apk(body)
    await metrics.track_apk(jobs, job, body)
    if finished:
        response.status_code = 200
    else:
        response.headers["location"] = body["status_url"]
    return body


ScanIdPath = Annotated[str, PathParam(max_length=64, description="The `scan_id` of the scan.")]


def _unknown_scan() -> ProblemException:
    return ProblemException(
        404, "There is no scan with this id: it was never created or it is too old to be "
        "remembered (scan the link or upload the file again).", type_=TYPE_NOT_FOUND,
        title="Unknown scan")


async def _scan_view(scan_id: str, principal: ClientAuth, jobs: JobBackend,
                     history: ScanHistory, lang: str, wait: float = 0) -> dict[str, Any]:
    """The scan ``scan_id`` as ``GET /v1/scans/{scan_id}`` answers it (404 when unknown
    or not ``principal``'s to see): an APK job, else a stored link scan."""
    job = await jobs.lookup(scan_id)
    if job is not None:
        if not principal.can_see(job.owner):
            raise _unknown_scan()
        await jobs.wait(job, wait)
        body = await _job_view(job, jobs, lang)
        history.observe_apk(body)
        return body
    record = await history.get(scan_id)
    if (record is None or record["kind"] not in ("url", "message")
            or not principal.can_see(record["owner"])):
        raise _unknown_scan()
    if record["kind"] == "message":
        return message_scan_view(scan_id, record, lang)
    out: dict[str, Any] = {"scan_id": scan_id, "kind": "url", "status": "done",
                           "status_url": _status_url(scan_id), "created": record["created"],
                           "input": record["input"]}
    report = record["report"]
    if report is None:
        out["reason"] = "the report was too large to be kept; scan the link again"
    else:
        out["report"] = relabel(report, lang) if record["lang"] != lang else report
    return out


async def get_scan(
    scan_id: ScanIdPath,
    jobs: JobsDep,
    settings: SettingsDep,
    principal: ClientAuth,
    history: HistoryDep,
    lang: LangQuery = None,
    wait: WaitQuery = 0,
) -> dict[str, Any]:
    """A scan by its id: an APK scan's status and, once it is `done`, its report; a
    link scan (`kind: url`) or a message check (`kind: message`, by its `check_id`;
    phone and account numbers masked) with the report it was answered with, its
    titles and reasons in `lang`.

    A `client` key sees only the scans it made (another's scan is a 404, as if
    it did not exist); `analyst` and `admin` see every scan.
    """
    return await _scan_view(scan_id, principal, jobs, history,
                            lang or settings.default_lang, wait)


async def list_scans(
    history: HistoryDep,
    principal: ClientAuth,
    q: Annotated[str | None, Query(max_length=256, description="Part of the link, host, "
                                   "registrable domain, package, app name, SHA-256 or "
                                   "message text (masked) (case-insensitive).")] = None,
    kind: Annotated[Literal["url", "apk", "message"] | None,
                    Query(description="Only links, apps or message checks.")] = None,
    verdict: Annotated[Verdict | None, Query(description="Only this verdict (apps once "
                                             "scanned).")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> dict[str, Any]:
    """The scan history, newest first: link and app scans and message checks with their
    verdicts (message checks for `SCAMSCAN_MESSAGE_RETENTION_DAYS`, numbers masked).

    A `client` key sees only the scans it made; `analyst` and `admin` see every
    scan. The history keeps the newest `SCAMSCAN_HISTORY_MAX_RECORDS` scans.
    """
    return await history.search(principal, q, kind, verdict.value if verdict else None,
                                page, per_page)


async def export_scan(
    scan_id: ScanIdPath,
    jobs: JobsDep,
    settings: SettingsDep,
    principal: ClientAuth,
    history: HistoryDep,
    fmt: Annotated[Literal["json", "stix"], Query(
        alias="format", description="`json`: the scan with its report (as "
        "`GET /v1/scans/{scan_id}`); `stix`: a STIX 2.1 bundle.")] = "json",
    lang: LangQuery = None,
) -> Response:
    """A finished scan's report as a file: JSON, or a STIX 2.1 bundle.

    The STIX bundle has scamscan's identity, observables for what was scanned,
    indicators (URL, domain, file and signer-certificate hashes) only when the
    verdict is `suspicious` or `dangerous`, a `malware` object for a
    dangerous app and a `report` with the verdict, score and rule ids. A scan
    that is not `done` (queued, running, failed) is a 409 problem. Same
    visibility as `GET /v1/scans/{scan_id}`.
    """
    view = await _scan_view(scan_id, principal, jobs, history, lang or settings.default_lang)
    if view["status"] != "done" or not view.get("report"):
        if view["status"] == "failed":
            why = f"the scan failed ({view.get('reason')})"
        elif view["status"] != "done":
            why = f"the scan is {view['status']}; export it once it is done"
        else:
            why = view.get("reason") or "it was not kept"
        raise ProblemException(409, f"This scan has no report to export: {why}.",
                               type_=TYPE_NOT_FINISHED, title="No report")
    if fmt == "json":
        # Through the route's model: the same JSON as GET /v1/scans/{scan_id}.
        data = _SCAN_OUT.dump_json(_SCAN_OUT.validate_python(view), exclude_unset=True,
                                   indent=2)
        return Response(data, media_type="application/json", headers={
            "content-disposition": f'attachment; filename="scamscan-{scan_id}.json"'})
    if view["kind"] == "message":
        raise ProblemException(422, "A message check is exported as JSON (format=json); STIX "
                               "bundles are made for link and app scans.",
                               type_=TYPE_INVALID_INPUT, title="No STIX export")
    from scanners.stix import bundle_json, scan_bundle  # stix2 loads in ~0.2 s: on first use

    text = bundle_json(scan_bundle(view))
    return Response(text, media_type=STIX_MEDIA_TYPE, headers={
        "content-disposition": f'attachment; filename="scamscan-{scan_id}.stix.json"'})


@lru_cache(maxsize=1)
def _rules_payload() -> dict[str, Any]:
    return {
        "rules": [
            {
                "id": r.id,
                "points": r.points,
                "severity": r.severity.value,
                "kind": r.kind.value,
                "suppressible": r.suppressible,
                "official": r.official,
                "title_vi": r.title_vi,
                "title_en": r.title_en,
                "description": r.description,
            }
            for r in rules.CATALOGUE.values()
        ],
        "thresholds": {"suspicious": SUSPICIOUS_AT, "dangerous": DANGEROUS_AT},
    }


async def list_rules() -> dict[str, Any]:
    """Every rule that can add points, with the verdict thresholds."""
    return _rules_payload()


async def healthz(request: Request) -> dict[str, Any]:
    """Liveness: the scanner is loaded and the version and bundled lists are known."""
    lists: list[dict[str, Any]] = request.app.state.lists
    return {"status": "ok", "version": VERSION, "rules": len(rules.CATALOGUE), "lists": lists}


# --- application ------------------------------------------------------------


def _bundled_lists() -> list[dict[str, Any]]:
    """Name and size of each bundled blocklist; empty when they cannot be read."""
    try:
        from blocklists import BlocklistIndex  # optional: health works without it

        sources = BlocklistIndex.bundled().sources()
    except Exception as e:  # health must answer even when the lists are broken
        log.warning("bundled blocklists unavailable: %s", e)
        return []
    return [{"name": s.name, "entries": s.entries} for s in sources]


def _url_scanner(lists: ListService) -> OfflineURLScanner:
    """The link scanner of the API: the bundled data, with the dynamic lists as its index."""
    default_scanner()  # warm the shared registry and bundled lists
    return OfflineURLScanner(index=lists.dynamic)


def _apk_parts(settings: Settings) -> tuple[SampleStore, JobBackend]:
    """The sample store and the job manager, their directories made: the Redis queue
    (:mod:`api.queue`, scans in ``scamscan worker``) when ``redis_url`` is set, else
    the embedded process pool."""
    samples = SampleStore(settings.data_dir / "samples", max_bytes=settings.max_apk_bytes)
    samples.open()
    if settings.redis_url:
        from api.queue import RedisJobManager  # imports dramatiq: only when used

        return samples, RedisJobManager(settings)
    jobs = JobManager(
        settings.data_dir / "reports",
        workers=settings.apk_workers,
        timeout=settings.apk_job_timeout,
        limits=ApkLimits(max_file_bytes=settings.max_apk_bytes),
        max_records=settings.apk_max_records,
        max_pending=settings.apk_max_pending,
        blocklist=settings.apk_blocklist,
        lists_file=apk_lists_path(settings.data_dir),
        use_blocklists=settings.blocklists == "on",
    )
    jobs.open()
    return samples, jobs


def _apk_handoff(samples: SampleStore, jobs: JobBackend, history: ScanHistory) -> ApkHandler:
    """Store an APK the live fetch downloaded and queue its scan; link the job."""

    async def handoff(data: bytes, url: str) -> dict[str, Any]:
        name = url.rsplit("/", 1)[-1] or "download.apk"
        try:
            sample = await samples.put_bytes(data, name)
            # The key of the link scan that downloaded it owns it (see api.auth).
            job = await jobs.submit(sample, owner=current_owner.get())
        except (ValueError, QueueFull) as e:
            return {"error": f"not scanned: {e}"}
        except QueueUnavailable as e:
            return {"error": f"not scanned: {e.detail}"}
        history.record_apk(job, source_url=url)
        return {"scan_id": job.scan_id, "status_url": f"/v1/scans/{job.scan_id}",
                "sha256": sample.sha256}

    return handoff


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # API keys and rate limits (warns when keyless local requests are accepted).
    app.state.auth = await open_auth(settings)
    # Loading the bundled lists takes about half a second: off the event loop.
    bundled = await anyio.to_thread.run_sync(BlocklistIndex.bundled)
    # Analyst entries and feeds over the bundled lists (api.lists).
    app.state.list_service = await open_lists(settings, bundled)
    app.state.scanner = await anyio.to_thread.run_sync(_url_scanner, app.state.list_service)
    app.state.lists = await anyio.to_thread.run_sync(_bundled_lists)
    app.state.samples, app.state.jobs = await anyio.to_thread.run_sync(_apk_parts, settings)
    # The scan history (api.history): SQLite in the data dir, or Redis.
    app.state.history = open_history(settings, app.state.jobs)
    app.state.history.start()
    app.state.live = build_live(app.state.settings, app.state.scanner,
                                resolver=app.state.resolver,
                                apk_handler=_apk_handoff(app.state.samples, app.state.jobs,
                                                         app.state.history))
    log.info("scamscan %s ready: %d rules, %d lists", VERSION, len(rules.CATALOGUE),
             len(app.state.lists))
    try:
        yield
    finally:
        await observability.aclose(app)  # never raises
        await app.state.history.aclose()  # never raises; writes what is queued
        try:
            await app.state.jobs.aclose()
        finally:
            try:
                await app.state.live.aclose()
            finally:
                try:
                    await app.state.list_service.aclose()
                finally:
                    await app.state.auth.aclose()


def _problem_only_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Document error responses as problem+json only (FastAPI adds application/json).

    An error FastAPI documents on its own (the 422 of a route with parameters
    whose ``responses=`` names no 422) is rewritten to the problem+json that the
    handlers of :mod:`api.problems` really answer. Every operation that takes a
    body also documents the 400 (a body FastAPI cannot decode), the 408 (a body
    too slow) and the 413 (:class:`~api.problems.BodySizeLimitMiddleware`) that
    any such route may answer.
    """
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
            for path in schema.get("paths", {}).values():
                for op in path.values():
                    if "requestBody" in op:
                        for status, desc in (("400", "Bad Request"),
                                             ("408", "Request Timeout"),
                                             ("413", "Content Too Large")):
                            op.setdefault("responses", {}).setdefault(status, {
                                "description": desc, "content": {PROBLEM_JSON: problem_ref}})
                    for status, resp in op.get("responses", {}).items():
                        content = resp.get("content", {})
                        if status[:1] not in "45":
                            continue
                        if PROBLEM_JSON not in content and "application/json" in content:
                            content[PROBLEM_JSON] = problem_ref
                        if PROBLEM_JSON in content:
                            content.pop("application/json", None)
            schemas = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                if f'"#/components/schemas/{unused}"' not in json.dumps(schema):
                    schemas.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def create_app(settings: Settings | None = None, *, resolver: Resolver | None = None) -> FastAPI:
    """The API application; ``settings`` default to the environment's.

    ``resolver`` replaces the system DNS resolver of the live fetch (tests).
    """
    settings = settings or get_settings()
    observability.configure_logging(settings.log_level, settings.log_format)
    app = FastAPI(
        title="scamscan",
        version=VERSION,
        summary="Is this link a Vietnamese scam? An explainable 0-100 risk score.",
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
        responses=problem_responses(500),
    )
    app.state.settings = settings
    app.state.resolver = resolver
    app.add_api_route(
        "/v1/url-scans",
        create_url_scan,
        methods=["POST"],
        response_model=UrlReport,
        response_model_exclude_unset=True,
        dependencies=[Depends(require("client")), Depends(require_json)],
        responses={**problem_responses(400, 413, 415, 422), **AUTH_RESPONSES},
        tags=["scans"],
        summary="Scan a link",
    )
    app.add_api_route(
        "/v1/apk-scans",
        create_apk_scan,
        methods=["POST"],
        status_code=202,
        response_model=ScanJobOut,
        response_model_exclude_unset=True,
        responses={
            200: {"description": "Finished: the same file was already scanned, or the scan "
                  "ended within `wait`.", "model": ScanJobOut},
            **problem_responses(400, 413, 415, 422, 503),
            **AUTH_RESPONSES,
        },
        openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": [FIELD], "properties": {FIELD: {
                "type": "string", "format": "binary",
                "description": f"The APK, XAPK or APKS file (at most {settings.max_apk_bytes} "
                "bytes).",
            }}},
        }}}},
        tags=["scans"],
        summary="Scan an Android app",
    )
    app.add_api_route(
        "/v1/scans",
        list_scans,
        methods=["GET"],
        response_model=ScanListOut,
        responses={**problem_responses(422, 503), **AUTH_RESPONSES},
        tags=["scans"],
        summary="Search the scan history",
    )
    app.add_api_route(
        "/v1/scans/{scan_id}",
        get_scan,
        methods=["GET"],
        response_model=ScanOut,
        response_model_exclude_unset=True,
        responses={**problem_responses(404, 422, 503), **AUTH_RESPONSES},
        tags=["scans"],
        summary="Status and report of a scan (app or link)",
    )
    app.add_api_route(
        "/v1/scans/{scan_id}/export",
        export_scan,
        methods=["GET"],
        response_class=Response,
        responses={
            200: {"description": "The report as a download (`content-disposition: "
                  "attachment`).", "content": {
                      "application/json": {"schema": {"type": "object"}},
                      STIX_MEDIA_TYPE: {"schema": {"type": "object", "description":
                                                   "A STIX 2.1 bundle."}}}},
            **problem_responses(404, 409, 422, 503),
            **AUTH_RESPONSES,
        },
        tags=["scans"],
        summary="Export a scan's report (JSON or STIX 2.1)",
    )
    app.include_router(keys_router())
    app.include_router(lists_router())
    from api.routes_messages import router as messages_router

    app.include_router(messages_router)
    # The analyst console (api/console): its static files first, as its router ends
    # with a catch-all page.
    from api.console.routes import console_router, console_static

    app.mount("/console/static", console_static(), name="console-static")
    app.include_router(console_router())
    app.add_api_route("/v1/rules", list_rules, methods=["GET"], response_model=RulesOut,
                      tags=["rules"], summary="The rule catalogue")
    app.add_api_route("/healthz", healthz, methods=["GET"], response_model=Health,
                      tags=["health"], summary="Health check")
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        # The upload has its own bound: the file limit plus the multipart framing.
        path_limits={"/v1/apk-scans": settings.max_apk_bytes + MULTIPART_OVERHEAD},
        # Slow bodies (a stalled or dripping upload) end with a 408 problem.
        idle_timeout=settings.body_idle_timeout,
        timeout=settings.body_timeout,
        path_timeouts={"/v1/apk-scans": settings.upload_timeout},
    )
    # Metrics, /readyz, /metrics, request ids and the access log (outermost).
    observability.install(app, settings)
    app.openapi = _problem_only_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
