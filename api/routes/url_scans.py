"""``POST /v1/url-scans``: scan one link offline (or with the live checks) and explain
the score (:func:`api.services.scans.create_url_scan`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_RESPONSES, require
from api.deps import (
    FindingOut,
    IncompleteOut,
    Lang,
    LiveDep,
    ScannerDep,
    ServicesDep,
    SettingsDep,
    require_json,
)
from api.observability import MetricsDep
from api.problems import problem_responses
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
    body: UrlScanRequest, scanner: ScannerDep, live: LiveDep, settings: SettingsDep,
    metrics: MetricsDep, services: ServicesDep,
) -> dict[str, Any]:
    """Scan one link and explain the risk score (offline, or with the live checks)."""
    return await scans.create_url_scan(services, metrics, body.url, offline=body.offline,
                                       lang=body.lang or settings.default_lang,
                                       scanner=scanner, live=live)


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/url-scans``."""
    router = APIRouter()
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
    )
    return router
