"""Share links: an unguessable, read-only, expiring link to one report.

The routes (:mod:`api.routes.shares`), the console (:mod:`api.console.feedback`)
and the public page (:mod:`api.console.public`) call these functions.

* :func:`create_share`: for a finished scan the caller may read, a token of
  :data:`TOKEN_BYTES` random bytes (``secrets.token_urlsafe``) is made; the store
  keeps only its SHA-256 (:mod:`api.storage.shares`), so a storage read does not
  reveal live links. The link is ``<origin>/s/<token>``, the origin being
  ``SCAMSCAN_PUBLIC_BASE_URL``, or without it the request's own only when its
  ``Host`` is this machine (:func:`link_origin`).
* :func:`shared_scan`: the share of a token and the scan's view, for the public
  page; None for an unknown, revoked or expired token, whichever it is.
* :func:`revoke_by_token` (the creator, or an analyst) and :func:`revoke_by_id`
  (analysts, by the link's id: the API and the console), :func:`shares_of` (a
  scan's live links, without tokens).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from api.auth import Principal
from api.origin import is_loopback_host, parse_authority
from api.problems import TYPE_NOT_FOUND, ProblemException
from api.services.scans import scan_view
from api.storage.shares import Share, TooManyShares

if TYPE_CHECKING:  # the container imports the services
    from api.services.container import Services

TOKEN_BYTES = 32
"""Random bytes of a share token (256 bits; 43 URL-safe characters)."""
MAX_TOKEN_CHARS = 128
PUBLIC_PREFIX = "/s/"
TYPE_NOT_FINISHED = "tag:scamscan,2025:problems/not-finished"
TYPE_TOO_MANY_SHARES = "tag:scamscan,2025:problems/too-many-shares"
TYPE_NO_PUBLIC_URL = "tag:scamscan,2025:problems/no-public-base-url"

SHARE_PRINCIPAL_NAME = "share-link"
"""The name of the reader a public page reads its scan as (the link's creator could
read it when the link was made; the page shows only what :mod:`api.console.public`
picks from it)."""


def token_hash(token: str) -> str:
    """What the store keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def link_origin(public_base_url: str, request_origin: str) -> str:
    """The origin of a new share link: ``SCAMSCAN_PUBLIC_BASE_URL`` when set; else the
    request's own (``scheme://Host``) only when its ``Host`` names this machine (local
    use). Any other ``Host`` is whatever the client, a proxy or an attacker's request
    said it was: a link built on it could send the token to another site, or publish
    an internal name, so a 503 problem asks for the setting instead."""
    if public_base_url:
        return public_base_url.rstrip("/")
    parts = urlsplit(request_origin)
    authority = parse_authority(parts.netloc, parts.scheme)
    if authority is not None and is_loopback_host(authority[0]):
        return f"{parts.scheme}://{parts.netloc}"
    raise ProblemException(
        503, "Share links need SCAMSCAN_PUBLIC_BASE_URL (the public origin of this "
        "service, e.g. https://scamscan.example): this request's Host does not name this "
        "machine, and a link is never built on a Host a client sent.",
        type_=TYPE_NO_PUBLIC_URL, title="No public address configured")


async def create_share(services: Services, principal: Principal, scan_id: str,
                       expires_in: int | None, origin: str) -> dict[str, Any]:
    """A new share link of ``scan_id`` for ``expires_in`` seconds (the default when
    None): ``{"id", "url", "scan_id", "expires_at", "created"}``. 404 for a scan the
    caller may not read, 409 for one that has no report, 429 past the per-scan bound."""
    settings = services.settings
    view = await scan_view(services, scan_id, principal, settings.default_lang)
    base = link_origin(settings.public_base_url, origin)
    if view.get("status") != "done" or not view.get("report"):
        raise ProblemException(409, "This scan has no report to share yet (it is "
                               f"{view.get('status')}); share it once it is done.",
                               type_=TYPE_NOT_FINISHED, title="No report")
    ttl = settings.share_default_ttl if expires_in is None else expires_in
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = time.time()
    share = Share(id="sh_" + uuid.uuid4().hex[:16], token_hash=token_hash(token),
                  scan_id=scan_id, owner=principal.key_id or "",
                  created_by=principal.name if principal.key_id else "local",
                  created=_iso(now), expires=_iso(now + ttl), expires_at=now + ttl)
    try:
        await services.shares.create(share, settings.share_max_per_scan,
                                     settings.share_max_per_key)
    except TooManyShares as e:
        if e.per == "owner":
            raise ProblemException(
                429, f"This key has {settings.share_max_per_key} live share links already "
                "(SCAMSCAN_SHARE_MAX_PER_KEY); revoke some or wait until they expire.",
                type_=TYPE_TOO_MANY_SHARES, title="Too many share links") from None
        raise ProblemException(
            429, f"This scan has {settings.share_max_per_scan} live share links already "
            "(SCAMSCAN_SHARE_MAX_PER_SCAN); revoke one or wait until one expires.",
            type_=TYPE_TOO_MANY_SHARES, title="Too many share links") from None
    return {"id": share.id, "url": f"{base}{PUBLIC_PREFIX}{token}", "scan_id": scan_id,
            "created": share.created, "expires_at": share.expires}


def _unknown_share() -> ProblemException:
    return ProblemException(404, "There is no live share link with this token (it was "
                            "revoked, has expired, or never existed).", type_=TYPE_NOT_FOUND,
                            title="Unknown share link")


async def revoke_by_token(services: Services, principal: Principal, token: str) -> Share:
    """Revoke the link of ``token``: its creator or an analyst; 404 for anyone else, as
    for a token that does not exist."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise _unknown_share()
    h = token_hash(token)
    share = await services.shares.by_token_hash(h)
    if share is None or not principal.can_see(share.owner or None):
        raise _unknown_share()
    gone = await services.shares.revoke(token_hash=h)
    if gone is None:
        raise _unknown_share()
    return gone


async def revoke_by_id(services: Services, share_id: str, *, scan_id: str | None = None
                       ) -> Share | None:
    """Revoke a link by its id (analysts: the API or the console); None when unknown (or
    not a link of ``scan_id`` when given)."""
    if scan_id is not None and not any(
            s.id == share_id for s in await services.shares.for_scan(scan_id)):
        return None
    return await services.shares.revoke(share_id=share_id[:64])


def share_info(share: Share) -> dict[str, Any]:
    """A live link as the API lists it: no token, no token hash."""
    return {"id": share.id, "scan_id": share.scan_id, "created_by": share.created_by,
            "created": share.created, "expires_at": share.expires}


async def shares_of(services: Services, scan_id: str) -> list[Share]:
    """The live links of a scan (analysts, from the console)."""
    return await services.shares.for_scan(scan_id)


async def shared_scan(services: Services, token: str, lang: str, client_addr: str
                      ) -> tuple[Share, dict[str, Any]] | None:
    """The share of ``token`` and its scan as ``GET /v1/scans/{id}`` shows it (in
    ``lang``), or None: unknown, revoked and expired tokens, and scans no longer
    kept, all give None alike."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    share = await services.shares.by_token_hash(token_hash(token))
    if share is None:
        return None
    reader = Principal(None, "analyst", SHARE_PRINCIPAL_NAME, client_addr)
    try:
        view = await scan_view(services, share.scan_id, reader, lang)
    except ProblemException as e:
        if e.status_code == 404:
            return None
        raise
    if view.get("status") != "done" or not view.get("report"):
        return None
    return share, view
