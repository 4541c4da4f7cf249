"""``POST /v1/apk-scans``: upload an Android app to scan (multipart ``file``).

The file is stored by :mod:`api.samples` and scanned by the job backend
(:mod:`api.jobs` embedded, :mod:`api.queue` with Redis); the answer is the
job's view (:func:`api.services.scans.job_view`). An optional
``callback_url`` (query or form field) gets the scan's end as a signed POST
(:mod:`api.services.webhooks`; its OpenAPI ``callbacks`` entry is here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
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
    WebhooksDep,
)
from api.jobs import QueueFull, Status
from api.observability import MetricsDep
from api.problems import (
    TYPE_BUSY,
    TYPE_VALIDATION,
    ProblemError,
    ProblemException,
    problem_responses,
)
from api.routing import Router
from api.samples import FIELD
from api.services.scans import job_view
from api.services.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_URL_CHARS,
    SIGNATURE_HEADER,
    CallbackURLError,
    NoSigningSecret,
    WebhookService,
    check_callback_url,
)
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


class CallbackAttemptOut(BaseModel):
    """One delivery attempt of a webhook."""

    at: datetime
    status: int | None = Field(default=None, description="The receiver's HTTP status "
                               "(2xx: delivered; a redirect is not followed).")
    error: str | None = Field(default=None, description="Why no status was received "
                              "(time-out, connection refused, refused by the SSRF guard…).")


class CallbackOut(BaseModel):
    """The webhook of this scan (only when the upload gave a `callback_url`)."""

    url: str = Field(description="The callback URL, its query values hidden (`?token=***`).")
    state: Literal["pending", "delivered", "failed"] = Field(
        description="`pending` until the scan ends and while retries remain; `delivered` "
        "once the receiver answered 2xx; `failed` once every attempt failed or the "
        "address was refused. Separate from the scan's own `status`.")
    attempts: list[CallbackAttemptOut]


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
    callback: CallbackOut | None = Field(
        default=None, description="Only when the upload gave a `callback_url`: the webhook's "
        "delivery state and every attempt.")


CallbackQuery = Annotated[
    str | None,
    Query(max_length=MAX_URL_CHARS, description="Where to POST the scan's end (its view, "
          "signed; see the `callbacks` of this operation and docs/webhooks.md): an http or "
          "https URL without credentials, at most 2048 characters. Also accepted as a form "
          "field of the upload."),
]


def _callback_problem(reason: str, location: str) -> ProblemException:
    return ProblemException(
        422, f"Invalid callback_url: {reason}.", type_=TYPE_VALIDATION,
        title="Invalid callback URL",
        errors=[ProblemError(field="callback_url", location=location, message=reason,
                             type="value_error")])


def _checked_callback(text: str, location: str) -> str:
    try:
        return check_callback_url(text)
    except CallbackURLError as e:
        raise _callback_problem(e.reason, location) from None



async def _check_signer(webhooks: WebhookService, key_id: str | None, location: str) -> None:
    try:
        await webhooks.check_signer(key_id)
    except NoSigningSecret:
        raise _callback_problem(
            "this API key has no webhook signing secret (it was made before webhooks); an "
            f"operator makes one with `scamscan webhooks secret --key {key_id}`",
            location) from None


async def create_apk_scan(
    request: Request,
    response: Response,
    jobs: JobsDep,
    samples: SamplesDep,
    settings: SettingsDep,
    principal: ClientAuth,
    metrics: MetricsDep,
    history: HistoryDep,
    webhooks: WebhooksDep,
    lang: LangQuery = None,
    wait: WaitQuery = 0,
    callback_url: CallbackQuery = None,
) -> dict[str, Any]:
    """Upload an Android app (APK, XAPK or APKS) as the multipart field `file`.

    202 with the scan's `status_url` to poll, or 200 with the report when the
    same file was already scanned or `wait` was given and the scan finished in
    time. The file is stored by its SHA-256 and never served back. With a
    `callback_url` (query or form field) the scan's end is also POSTed there,
    signed (`X-Scamscan-Signature`), and retried with backoff; `callback` shows how
    that went.
    """
    # A callback in the query is checked before the upload is read: a bad one costs none.
    callback = None
    if callback_url is not None:
        callback = _checked_callback(callback_url, "query")
        await _check_signer(webhooks, principal.key_id, "query")
    sample = await samples.receive(request)
    form_url = sample.fields.get("callback_url")
    if form_url is not None:
        if callback_url is not None and form_url != callback_url:
            raise _callback_problem("give callback_url once (query or form field)", "body")
        callback = _checked_callback(form_url, "body")
        await _check_signer(webhooks, principal.key_id, "body")
    try:
        job = await jobs.submit(sample, owner=principal.key_id)
    except QueueFull as e:
        raise ProblemException(503, f"The APK scanner is busy ({e}); try again in a minute.",
                               type_=TYPE_BUSY, title="Busy",
                               headers={"retry-after": "60"}) from None
    history.record_apk(job)
    if callback is not None:
        await webhooks.register(job.scan_id, callback, principal.key_id,
                                lang or settings.default_lang)
    finished = await jobs.wait(job, wait)
    body = await job_view(job, jobs, lang or settings.default_lang)
    history.observe_apk(body)
    if callback is not None:
        body = await webhooks.attach(body)
    await metrics.track_apk(jobs, job, body)
    if finished:
        response.status_code = 200
    else:
        response.headers["location"] = body["status_url"]
    return body


async def apk_scan_ended(
    body: ScanJobOut,
    event: Annotated[Literal["apk_scan.done", "apk_scan.failed"], Header(
        alias=EVENT_HEADER, description="What happened: the scan ended `done` or `failed`.")],
    delivery: Annotated[str, Header(
        alias=DELIVERY_HEADER, description="The delivery's id: the same on every attempt "
        "of one scan's webhook, so that a repeat can be dropped.")],
    signature: Annotated[str, Header(
        alias=SIGNATURE_HEADER, description="`t=<unix seconds>,v1=<hex HMAC-SHA256 of "
        "\"<t>.<raw body>\">`, keyed with the uploading API key's webhook secret (shown "
        "once at its creation) or, keyless, the server's (`scamscan webhooks secret`). "
        "Check it with a constant-time comparison and refuse a `t` older than 5 minutes.")],
) -> None:
    """The scan's view, as `GET /v1/scans/{scan_id}` answers it, POSTed as JSON once the
    scan ends. Answer 2xx within 10 s; anything else (a redirect too) is retried after
    10, 20, 40 and 80 s, then the webhook is `failed`."""


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/apk-scans`` (its documented file limit is ``settings``')."""
    router = Router()
    webhook = Router()
    webhook.add_api_route("{$request.query.callback_url}", apk_scan_ended, methods=["POST"],
                          summary="The end of an APK scan (webhook)", status_code=200,
                          responses={
                              200: {"description": "Received (any 2xx)."},
                              "default": {"description": "Any other status (a redirect too), "
                                          "a time-out or no answer: the attempt failed and "
                                          "is retried with backoff."}})
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
            }, "callback_url": {
                "type": "string", "maxLength": MAX_URL_CHARS, "format": "uri",
                "description": "As the `callback_url` query parameter (give one or the other).",
            }}},
        }}}},
        tags=["scans"],
        summary="Scan an Android app",
        callbacks=webhook.routes,
    )
    return router
