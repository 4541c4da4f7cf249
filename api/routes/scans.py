"""``/v1/scans``: the scan history, one scan (an APK job, a stored link scan or message
check) and its export as JSON or a STIX 2.1 bundle (:mod:`scanners.stix`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, TypeAdapter

from api.auth import AUTH_RESPONSES, ClientAuth
from api.deps import HistoryDep, LangQuery, ServicesDep, SettingsDep, WaitQuery
from api.jobs import Status
from api.problems import TYPE_INVALID_INPUT, ProblemException, problem_responses
from api.routes.apk_scans import ScanJobOut
from api.routes.messages import MessageScanOut
from api.routes.url_scans import UrlReport
from api.routing import Router
from api.services import scans
from api.services.history import MAX_PAGE, MAX_PER_PAGE
from api.settings import Settings
from scanners.findings import Verdict

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
"""The media type of the STIX export (``scanners.stix.MEDIA_TYPE``; that module, and
the stix2 library, are imported on the first export only)."""
TYPE_NOT_FINISHED = "tag:scamscan,2025:problems/not-finished"


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



ScanIdPath = Annotated[str, PathParam(max_length=64, description="The `scan_id` of the scan.")]


async def get_scan(
    scan_id: ScanIdPath,
    services: ServicesDep,
    settings: SettingsDep,
    principal: ClientAuth,
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
    return await scans.scan_view(services, scan_id, principal,
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
    services: ServicesDep,
    settings: SettingsDep,
    principal: ClientAuth,
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
    view = await scans.scan_view(services, scan_id, principal, lang or settings.default_lang)
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


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/scans``, ``/v1/scans/{scan_id}`` and its export."""
    router = Router()
    router.add_api_route(
        "/v1/scans",
        list_scans,
        methods=["GET"],
        response_model=ScanListOut,
        responses={**problem_responses(422, 503), **AUTH_RESPONSES},
        tags=["scans"],
        summary="Search the scan history",
    )
    router.add_api_route(
        "/v1/scans/{scan_id}",
        get_scan,
        methods=["GET"],
        response_model=ScanOut,
        response_model_exclude_unset=True,
        responses={**problem_responses(404, 422, 503), **AUTH_RESPONSES},
        tags=["scans"],
        summary="Status and report of a scan (app or link)",
    )
    router.add_api_route(
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
    return router
