"""Dependencies and response parts shared by the API's routers.

Routers read what the lifespan put on ``app.state`` through these functions,
so that tests can override one dependency (``app.dependency_overrides``) and
every router answers findings with the same documented model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from api.settings import Settings
from api.wiring import LiveScanners
from scanners.rules import Severity
from scanners.url_offline import OfflineURLScanner

Lang = Literal["vi", "en"]


class FindingOut(BaseModel):
    """One rule that matched, with what was observed."""

    model_config = ConfigDict(extra="allow")

    rule_id: str = Field(examples=["URL-GOV-002"])
    points: int = Field(description="Points this finding adds (0 when suppressed).")
    severity: Severity
    title: str
    evidence: dict[str, Any]
    suppressed_by: str | None = Field(
        default=None,
        description="Present only on a suppressed finding: the allowlist rule that zeroed "
        "it, or its own id when the rule already counted once.",
    )


class IncompleteOut(BaseModel):
    """A check that could not run, and why."""

    check: str
    reason: str


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_scanner(request: Request) -> OfflineURLScanner:
    scanner: OfflineURLScanner = request.app.state.scanner
    return scanner


def get_live(request: Request) -> LiveScanners:
    live: LiveScanners = request.app.state.live
    return live


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ScannerDep = Annotated[OfflineURLScanner, Depends(get_scanner)]
LiveDep = Annotated[LiveScanners, Depends(get_live)]


def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (``application/json`` or ``*+json``)."""
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = f"{media!r}" if media else "no content type"
        raise HTTPException(
            415, f"The request body must be JSON (Content-Type: application/json), got {shown}."
        )
