"""Share links: ``POST /v1/scans/{scan_id}/share``, ``DELETE /v1/shares/{token}``, and for
analysts ``GET /v1/scans/{scan_id}/shares`` and ``DELETE /v1/scans/{scan_id}/shares/{id}``.

A share link is an unguessable, read-only, expiring URL (``/s/<token>``) of one
report's public page (served by :mod:`api.console.public`, no key needed). What
the handlers do is in :mod:`api.services.shares`; the store keeps only the
token's SHA-256 (:mod:`api.storage.shares`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_RESPONSES, AnalystAuth, ClientAuth
from api.deps import ServicesDep, SettingsDep
from api.problems import (
    TYPE_INVALID_INPUT,
    TYPE_NOT_FOUND,
    ProblemException,
    problem_responses,
)
from api.routing import Router
from api.services import shares as service
from api.settings import Settings


class ShareCreate(BaseModel):
    """How long the link lives."""

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"expires_in": 604800}]})

    expires_in: int | None = Field(
        default=None, ge=60, description="Seconds the link lives (60 to "
        "`SCAMSCAN_SHARE_MAX_TTL`, 90 days by default); absent: "
        "`SCAMSCAN_SHARE_DEFAULT_TTL` (7 days).")


class ShareOut(BaseModel):
    """A new share link. The token is in `url` only: it is shown this once."""

    id: str = Field(description="`sh_` and 16 hex digits: names the link in the console "
                    "(revocation) without revealing it.")
    url: str = Field(description="The public page: `<origin>/s/<token>` (origin: "
                     "`SCAMSCAN_PUBLIC_BASE_URL`, else this request's when its Host is "
                     "this machine: without the setting, another Host is a 503 "
                     "problem). No key is needed "
                     "to open it; anyone with it can read the verdict, score, reasons and "
                     "defanged links of this scan until it expires.")
    scan_id: str
    created: datetime
    expires_at: datetime


class ShareInfo(BaseModel):
    """A live share link, without its token (which is never stored)."""

    id: str
    scan_id: str
    created_by: str = Field(description="The name of the key that made it, or `local`.")
    created: datetime
    expires_at: datetime


class ShareList(BaseModel):
    """The live share links of a scan, the latest expiry first."""

    items: list[ShareInfo]


ScanIdPath = Annotated[str, PathParam(max_length=64, description="The `scan_id` of the scan.")]
TokenPath = Annotated[str, PathParam(max_length=service.MAX_TOKEN_CHARS,
                                     description="The token of the link (the last part of "
                                     "its `url`).")]


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


async def create_share(
    scan_id: ScanIdPath,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    principal: ClientAuth,
    body: Annotated[ShareCreate | None, Body()] = None,
) -> dict[str, Any]:
    """Make a read-only link to this scan's report, for a victim, a relative or the
    police: a minimal public page (Vietnamese by default, `?lang=en`) with the
    verdict, score, reasons and defanged links, nothing else reachable from it.
    A message check's text is never shown on it.

    For scans the caller may read (a `client` key: its own). 404 for another's or
    an unknown scan, 409 for a scan without a report, 429 past
    `SCAMSCAN_SHARE_MAX_PER_SCAN` live links of the scan or
    `SCAMSCAN_SHARE_MAX_PER_KEY` of the key, 503 when `SCAMSCAN_PUBLIC_BASE_URL` is
    not set and the request's Host is not this machine (a link is never built on a
    Host a client sent)."""
    expires_in = body.expires_in if body is not None else None
    if expires_in is not None and expires_in > settings.share_max_ttl:
        raise ProblemException(422, f"expires_in is at most {settings.share_max_ttl} seconds "
                               "(SCAMSCAN_SHARE_MAX_TTL).", type_=TYPE_INVALID_INPUT,
                               title="Invalid share")
    return await service.create_share(services, principal, scan_id, expires_in,
                                      _origin(request))


async def revoke_share(token: TokenPath, services: ServicesDep,
                       principal: ClientAuth) -> Response:
    """Revoke a share link at once: its page answers 404 from now on. The key that
    made it, or an analyst; anyone else gets 404, as for an unknown token."""
    await service.revoke_by_token(services, principal, token)
    return Response(status_code=204)


async def list_shares(scan_id: ScanIdPath, services: ServicesDep,
                      _: AnalystAuth) -> dict[str, Any]:
    """The live share links of a scan (analyst), by id: tokens are not kept."""
    return {"items": [service.share_info(s) for s in
                      await service.shares_of(services, scan_id)]}


async def revoke_share_by_id(
    scan_id: ScanIdPath,
    share_id: Annotated[str, PathParam(max_length=64, description="The link's `id`.")],
    services: ServicesDep,
    _: AnalystAuth,
) -> Response:
    """Revoke a share link by its id (analyst), without its token."""
    gone = await service.revoke_by_id(services, share_id, scan_id=scan_id)
    if gone is None:
        raise ProblemException(404, f"This scan has no live share link {share_id!r}.",
                               type_=TYPE_NOT_FOUND, title="Unknown share link")
    return Response(status_code=204)


def build(settings: Settings) -> APIRouter:
    """The router of share links."""
    router = Router(tags=["sharing"])
    router.add_api_route("/v1/scans/{scan_id}/share", create_share, methods=["POST"],
                         status_code=201, response_model=ShareOut,
                         responses={**problem_responses(404, 409, 422, 503),
                                    **AUTH_RESPONSES},
                         summary="Make a share link of a report")
    router.add_api_route("/v1/shares/{token}", revoke_share, methods=["DELETE"],
                         status_code=204, response_class=Response,
                         responses={204: {"description": "Revoked."},
                                    **problem_responses(404, 422), **AUTH_RESPONSES},
                         summary="Revoke a share link")
    router.add_api_route("/v1/scans/{scan_id}/shares", list_shares, methods=["GET"],
                         response_model=ShareList,
                         responses={**problem_responses(422), **AUTH_RESPONSES},
                         summary="The live share links of a scan (analyst)")
    router.add_api_route("/v1/scans/{scan_id}/shares/{share_id}", revoke_share_by_id,
                         methods=["DELETE"], status_code=204, response_class=Response,
                         responses={204: {"description": "Revoked."},
                                    **problem_responses(404, 422), **AUTH_RESPONSES},
                         summary="Revoke a share link by its id (analyst)")
    return router
