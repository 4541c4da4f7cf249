"""``POST /v1/apk-scans``: upload an Android app to scan (multipart ``file``).

The file is stored by :mod:`api.samples` and scanned by the job backend
(:mod:`api.jobs` embedded, :mod:`api.queue` with Redis); the answer is the
job's view (:func:`api.services.scans.job_view`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_RESPONSES, ClientAuth
from api.deps import (
    FindingOut,
    HistoryDep,
    IncompleteOut,
    JobsDep,
    LangQuery,
    SamplesDep,
    SettingsDep,
    WaitQuery,
)
from api.jobs import QueueFull, Status
from api.observability import MetricsDep
from api.problems import TYPE_BUSY, ProblemException, problem_responses
from api.samples import FIELD
from api.services.scans import job_view
from api.settings import Settings
from scanners.findings import Verdict


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
    body = await job_view(job, jobs, lang or settings.default_lang)
    history.observe_apk(body)
    await metrics.track_apk(jobs, job, body)
    if finished:
        response.status_code = 200
    else:
        response.headers["location"] = body["status_url"]
    return body


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/apk-scans`` (its documented file limit is ``settings``')."""
    router = APIRouter()
    router.add_api_route(
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
    return router
