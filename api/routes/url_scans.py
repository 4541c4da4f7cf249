"""``POST /v1/url-scans``: scan one link offline (or with the live checks) and explain
the score (:func:`api.services.scans.create_url_scan`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_RESPONSES, ClientAuth, require
from api.deps import (
    FindingOut,
    IncompleteOut,
    Lang,
    LiveDep,
    ScannerDep,
    ServicesDep,
    SettingsDep,
    json_response,
    read_json_body,
    require_json,
    scan_parts,
    validate_body,
)
from api.observability import MetricsDep, add_response_headers, metrics_of
from api.problems import TYPE_BODY_TOO_LARGE, ProblemException, problem_responses
from api.routing import Router
from api.services import scans
from api.settings import Settings
from scanners.findings import Verdict
from scanners.normalize import MAX_INPUT_CHARS


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



async def create_url_scan(
    request: Request, body: UrlScanRequest, scanner: ScannerDep, live: LiveDep,
    services: ServicesDep,
) -> Response:
    """Scan one link and explain the risk score (offline, or with the live checks)."""
    # Served by _UrlScanRoute's handler, which does the same without FastAPI's
    # dependency solving; this signature is what the OpenAPI document describes.
    return json_response(await scans.create_url_scan(
        services, metrics_of(request), body.url, offline=body.offline,
        lang=body.lang or services.settings.default_lang, scanner=scanner, live=live))


class _UrlScanRoute(APIRoute):
    """The route of ``POST /v1/url-scans``, the busiest one: its handler runs the same
    checks as FastAPI would for the endpoint, in the same order (reading and decoding
    the body; the key, its role and rate limit; a JSON content type; validating the
    body), but calls them directly. Profiled, FastAPI's dependency solving on this
    route cost several times the offline scan itself (it recomputes each dependency's
    cache key and scopes on every request; docs/evaluation.md, "Service load"). The
    endpoint's signature still makes the OpenAPI document, unchanged."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        authenticate = require("client")

        async def handler(request: Request) -> Response:
            # FastAPI reads (and decodes) a body before it solves the dependencies, and
            # validates it after them: so do we, for the same answer to every request.
            data = await read_json_body(request)
            await authenticate(request, None)
            await require_json(request)
            body = validate_body(data, UrlScanRequest)
            services, scanner, live = await scan_parts(request)
            return json_response(await scans.create_url_scan(
                services, metrics_of(request), body.url, offline=body.offline,
                lang=body.lang or services.settings.default_lang, scanner=scanner,
                live=live))

        return handler


class UrlBatchRequest(BaseModel):
    """Several links to scan in one request."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"urls": ["https://dichvucong.hgov.cc/dang-nhap", "vietcombank.com.vn"],
                 "offline": True, "lang": "en"},
            ]
        },
    )

    urls: list[Annotated[str, Field(min_length=1, max_length=MAX_INPUT_CHARS)]] = Field(
        min_length=1,
        description="The links or hosts as pasted (as `url` of `POST /v1/url-scans`), "
        "at most `SCAMSCAN_BATCH_MAX_URLS` (500 by default; more: 413 problem).",
    )
    offline: bool = Field(
        default=True,
        description="As for `POST /v1/url-scans`. `false`: at most "
        "`SCAMSCAN_BATCH_LIVE_CONCURRENCY` links are checked live at a time, all within "
        "`SCAMSCAN_BATCH_LIVE_TIMEOUT` seconds; a link still unfinished then is judged "
        "offline and lists `live` in `incomplete`.",
    )
    lang: Lang | None = Field(
        default=None,
        description="Language of titles and reasons; the server default (`vi`) when absent.",
    )


class UrlBatchItemError(BaseModel):
    """The result of a batch's entry that is not a link (problem-like, RFC 9457 members)."""

    type: str = Field(description="A problem type URI (`…/invalid-url`).")
    title: str
    status: int = Field(description="The status a single scan of this entry would answer "
                        "(422).")
    detail: str = Field(description="Why the entry is not a link, for the user.")
    index: int = Field(ge=0, description="Position of the entry in `urls` (from 0).")
    input: str = Field(description="The entry as sent.")


class UrlBatchReport(BaseModel):
    """The reports of a batch, in the order of its links."""

    results: list[UrlReport | UrlBatchItemError] = Field(
        description="One per link, in input order: the same report a single "
        "`POST /v1/url-scans` answers (its own `scan_id`, recorded in the history), or, "
        "for an entry that is not a link, an error object with its `index`.")


async def create_url_scan_batch(
    request: Request, body: UrlBatchRequest, principal: ClientAuth, scanner: ScannerDep,
    live: LiveDep, settings: SettingsDep, metrics: MetricsDep, services: ServicesDep,
) -> dict[str, Any]:
    """Scan up to `SCAMSCAN_BATCH_MAX_URLS` links in one request; each result is the
    report a single scan answers. An offline batch counts as one request against the
    rate limit; a live batch counts one per link."""
    n = len(body.urls)
    if n > settings.batch_max_urls:
        raise ProblemException(
            413, f"This batch has {n} links; at most {settings.batch_max_urls} are "
            "scanned in one request: split it.", type_=TYPE_BODY_TOO_LARGE,
            title="Too many links")
    if not body.offline and n > 1:
        # The dependency counted one request; each further live link counts too.
        quota = await services.auth.limiter.check(principal, cost=n - 1)
        if quota is not None:  # the RateLimit fields after the whole batch
            add_response_headers(request, quota.headers())
    results = await scans.create_url_scan_batch(
        services, metrics, body.urls, offline=body.offline,
        lang=body.lang or settings.default_lang, scanner=scanner, live=live)
    return {"results": results}


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/url-scans``."""
    router = Router()
    router.add_api_route(
        "/v1/url-scans",
        create_url_scan,
        methods=["POST"],
        response_model=UrlReport,
        response_model_exclude_unset=True,
        dependencies=[Depends(require("client")), Depends(require_json)],
        responses={**problem_responses(400, 413, 415, 422), **AUTH_RESPONSES},
        tags=["scans"],
        summary="Scan a link",
        route_class_override=_UrlScanRoute,
    )
    router.add_api_route(
        "/v1/url-scans/batch",
        create_url_scan_batch,
        methods=["POST"],
        response_model=UrlBatchReport,
        response_model_exclude_unset=True,
        dependencies=[Depends(require_json)],
        responses={**problem_responses(400, 413, 415, 422), **AUTH_RESPONSES},
        tags=["scans"],
        summary="Scan several links",
    )
    return router
