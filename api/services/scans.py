"""Scans: a link scan, an APK upload's job, and a scan as ``GET /v1/scans/{id}`` shows it.

The routes (:mod:`api.routes.url_scans`, :mod:`api.routes.apk_scans`,
:mod:`api.routes.scans`) and the console (:mod:`api.console.routes`) call these
same functions, so a link scanned from either is scanned, counted and recorded
the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from api import observability
from api.auth import Principal, current_owner
from api.ids import uuid4_hex
from api.jobs import Job, JobBackend, QueueFull
from api.problems import TYPE_INVALID_URL, TYPE_NOT_FOUND, ProblemException, storage_problem
from api.samples import SampleStore
from api.services.history import ScanHistory
from api.storage.errors import QueueUnavailable
from api.storage.history import status_url
from api.wiring import LiveScanners
from scanners.base import CheckIncomplete, Scanner
from scanners.errors import InvalidURLError
from scanners.findings import relabel
from scanners.live import ApkHandler
from scanners.normalize import ParsedURL
from scanners.report import scan_url
from scanners.url_offline import OfflineURLScanner

if TYPE_CHECKING:  # the container imports this module
    from api.services.container import Services


async def create_url_scan(services: Services, metrics: observability.Metrics, url: str, *,
                          offline: bool, lang: str,
                          scanner: OfflineURLScanner | None = None,
                          live: LiveScanners | None = None,
                          incomplete: Sequence[CheckIncomplete] = ()) -> dict[str, Any]:
    """Scan one link (offline, or with the live checks), count it and record it in the
    history; the answer has a new ``scan_id``. ``scanner`` and ``live`` replace the
    app's offline scanner and live checks (the route's overridable dependencies);
    ``incomplete`` names checks the caller already knows did not run.
    Raises :class:`~scanners.errors.InvalidURLError` when ``url`` is not a link."""
    scanners: list[Scanner[ParsedURL]] = [scanner or services.scanner]
    if not offline:
        scanners += (live or services.live).scanners
    report = await scan_url(url, observability.timed(scanners, metrics), lang, incomplete)
    metrics.record_scan("url", report["verdict"])
    answer = {"scan_id": uuid4_hex(), **report}
    # Queued, never awaited: a history failure must not fail the scan (api.services.history);
    # only a writer far behind holds the request (backpressure, ScanHistory.room).
    await services.history.room()
    services.history.record_url(answer, owner=current_owner.get(), lang=lang)
    return answer


def batch_item_error(index: int, url: str, reason: str) -> dict[str, Any]:
    """The result of a batch's link that is not a link: a problem-like object (RFC 9457
    members) with the link's ``index`` in the request and its ``input``."""
    return {"type": TYPE_INVALID_URL, "title": "Invalid URL", "status": 422,
            "detail": reason, "index": index, "input": url}


async def create_url_scan_batch(services: Services, metrics: observability.Metrics,
                                urls: Sequence[str], *, offline: bool, lang: str,
                                scanner: OfflineURLScanner | None = None,
                                live: LiveScanners | None = None) -> list[dict[str, Any]]:
    """Scan several links, each exactly as :func:`create_url_scan` does (counted and
    recorded one by one), and answer their reports in input order. A link that is not
    a link gives :func:`batch_item_error` in its place, not a failed batch.

    Live batches run at most ``batch_live_concurrency`` links at a time, and all
    their live checks within ``batch_live_timeout`` seconds: a link whose live checks
    did not finish by then is judged offline, its report listing ``live`` as
    incomplete (never a calmer verdict without saying so)."""
    settings = services.settings
    results: list[dict[str, Any] | None] = [None] * len(urls)

    async def one(i: int, *, live_checks: bool,
                  incomplete: Sequence[CheckIncomplete] = ()) -> None:
        try:
            results[i] = await create_url_scan(services, metrics, urls[i],
                                               offline=not live_checks, lang=lang,
                                               scanner=scanner, live=live,
                                               incomplete=incomplete)
        except InvalidURLError as e:
            results[i] = batch_item_error(i, urls[i], e.reason)

    if offline:
        for i in range(len(urls)):
            await one(i, live_checks=False)
            await asyncio.sleep(0)  # CPU-bound work: let other requests in between links
        return [r for r in results if r is not None]

    gate = asyncio.Semaphore(settings.batch_live_concurrency)

    async def gated(i: int) -> None:
        async with gate:
            await one(i, live_checks=True)

    budget = settings.batch_live_timeout
    tasks = [asyncio.ensure_future(gated(i)) for i in range(len(urls))]
    try:
        _done, pending = await asyncio.wait(tasks, timeout=budget)
    finally:  # the client went away: no live check outlives its request
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for t in tasks:
        if not t.cancelled() and t not in pending:
            t.result()  # a bug in a scanner surfaces, as for a single scan
    late = CheckIncomplete("live", f"the live checks of this batch did not finish within "
                                   f"{budget:g} s (SCAMSCAN_BATCH_LIVE_TIMEOUT)")
    for i, r in enumerate(results):
        if r is None:  # cancelled before its report: judged offline, and it says so
            await one(i, live_checks=False, incomplete=[late])
    return [r for r in results if r is not None]


async def job_view(job: Job, jobs: JobBackend, lang: str) -> dict[str, Any]:
    """An APK job as the API answers it: status and, once ``done``, the report."""
    status, started = job.view_status()
    out: dict[str, Any] = {
        "scan_id": job.scan_id,
        "kind": job.kind,
        "status": status,
        "status_url": status_url(job.scan_id),
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


def stored_scan_view(scan_id: str, record: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """``GET /v1/scans/{scan_id}`` of a stored link scan or message check (``record``:
    the history's): always ``done``, its titles and reasons in ``lang``."""
    kind = record["kind"]
    out: dict[str, Any] = {"scan_id": scan_id, "kind": kind, "status": "done",
                           "status_url": status_url(scan_id), "created": record["created"],
                           "input": record["input"]}
    report = record.get("report")
    if report is None:
        out["reason"] = ("the check was too large to be kept; check the message again"
                         if kind == "message" else
                         "the report was too large to be kept; scan the link again")
    else:
        out["report"] = relabel(report, lang) if record.get("lang") != lang else report
    return out


def unknown_scan() -> ProblemException:
    """The 404 of a scan id that is unknown (or not the caller's to see)."""
    return ProblemException(
        404, "There is no scan with this id: it was never created or it is too old to be "
        "remembered (scan the link or upload the file again).", type_=TYPE_NOT_FOUND,
        title="Unknown scan")


async def scan_view(services: Services, scan_id: str, principal: Principal, lang: str,
                    wait: float = 0) -> dict[str, Any]:
    """The scan ``scan_id`` as ``GET /v1/scans/{scan_id}`` answers it (404 when unknown
    or not ``principal``'s to see): an APK job, else a stored link scan or message check."""
    jobs, history = services.jobs, services.history
    job = await jobs.lookup(scan_id)
    if job is not None:
        if not principal.can_see(job.owner):
            raise unknown_scan()
        await jobs.wait(job, wait)
        body = await job_view(job, jobs, lang)
        history.observe_apk(body)
        return await services.webhooks.attach(body)
    record = await history.get(scan_id)
    if (record is None or record["kind"] not in ("url", "message")
            or not principal.can_see(record["owner"])):
        raise unknown_scan()
    return stored_scan_view(scan_id, record, lang)


def apk_handoff(samples: SampleStore, jobs: JobBackend, history: ScanHistory) -> ApkHandler:
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
            return {"error": f"not scanned: {storage_problem(e).detail}"}
        history.record_apk(job, source_url=url)
        return {"scan_id": job.scan_id, "status_url": f"/v1/scans/{job.scan_id}",
                "sha256": sample.sha256}

    return handoff
