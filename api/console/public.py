"""The public page of a share link: ``GET /s/<token>`` (no key, no session).

A minimal page for a victim, a relative or the police: the verdict, the score,
the reasons, the defanged links (``hxxps://evil[.]cc``), when the scan was made
and when the page expires; Vietnamese by default, ``?lang=en`` for English.
Nothing else is reachable from it: no link to the console, the history, the
lists or any other scan (its only link is the language switch), no evidence
(which may name internal addresses), and for a message check not the text,
which may hold personal data (only verdict, reasons and defanged links).

An unknown, revoked or expired token (or a scan no longer kept) gets the same
404 page, so the page says nothing of whether a token ever existed. Views are
rate-limited per client address (``SCAMSCAN_SHARE_RATE_LIMIT``, over the same
``limits`` storage as the API's limits; it fails open like them).

Headers: ``Cache-Control: no-store``, ``Referrer-Policy: no-referrer`` (the
token never leaks through a Referer), ``X-Robots-Tag: noindex``, and a
self-only policy stricter than the console's (no script at all).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from limits import parse_many
from limits.aio.strategies import MovingWindowRateLimiter

from api.console import i18n, views
from api.console.routes import STATIC_DIR
from api.console.templating import templates
from api.routing import Router
from api.services.container import Services
from api.services.shares import shared_scan
from api.storage.errors import StorageUnavailable

log = logging.getLogger("scamscan.console")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}
STYLESHEET = "/s/-/share.css"
MAX_LINKS = 10


def _lang(request: Request) -> i18n.Lang:
    """Vietnamese unless ``?lang=en``: the page is for people in Vietnam first."""
    return "en" if request.query_params.get("lang") == "en" else "vi"


def _page(request: Request, name: str, status: int, lang: i18n.Lang,
          **context: Any) -> Response:
    response = templates.TemplateResponse(request, name, {
        "lang": lang, "stylesheet": STYLESHEET,
        "other_lang": "vi" if lang == "en" else "en", **context}, status_code=status)
    response.headers.update(HEADERS)
    return response


def _links(view: Mapping[str, Any], report: Mapping[str, Any]) -> list[str]:
    """The links a reader must recognise, defanged: the scanned link and where it ended,
    or the links a message carried."""
    out: list[str] = []
    if view.get("kind") == "url":
        out.append(views.defang(str(report.get("url") or view.get("input") or "")))
        for f in report.get("findings", []):
            if f.get("rule_id") == "URL-NET-000" and f.get("evidence", {}).get("final_url"):
                out.append(views.defang(str(f["evidence"]["final_url"])))
    elif view.get("kind") == "message":
        for item in report.get("items", []):
            if isinstance(item, Mapping) and item.get("kind") == "link" and item.get("url"):
                out.append(views.defang(str(item["url"])))
    seen: list[str] = []
    for link in out:
        if link and link not in seen:
            seen.append(link)
    return seen[:MAX_LINKS]


def public_view(view: Mapping[str, Any], lang: i18n.Lang) -> dict[str, Any]:
    """What the public page shows of a scan's view (``GET /v1/scans/{id}``), and only
    that: no evidence, no message text, no ids of other things."""
    report: Mapping[str, Any] = view.get("report") or {}
    verdict = str(report.get("verdict", ""))
    when: Any = view.get("finished") or view.get("created")
    return {
        "kind": view.get("kind"),
        "verdict": verdict,
        "verdict_label": views.verdict_label(verdict, lang),
        "risk_score": int(report.get("risk_score", 0)),
        "reasons": [str(r) for r in report.get("reasons", [])],
        "links": _links(view, report),
        "app_label": report.get("label") if view.get("kind") == "apk" else None,
        "package": report.get("package") if view.get("kind") == "apk" else None,
        "sha256": report.get("sha256") if view.get("kind") == "apk" else None,
        "scanned": when.isoformat() if isinstance(when, datetime) else str(when or ""),
    }


async def _limited(request: Request, services: Services) -> int | None:
    """Seconds to wait when this address opened too many share pages lately, else None.
    Fails open (a warning) when the limit storage fails, as the API's limits do."""
    addr = request.client.host if request.client else "unknown"
    limiter = MovingWindowRateLimiter(services.auth.limiter.storage)
    try:
        for item in parse_many(services.settings.share_rate_limit):
            if not await limiter.hit(item, "share-page", addr):
                stats = await limiter.get_window_stats(item, "share-page", addr)
                return max(1, math.ceil(stats.reset_time - time.time()))
    except Exception as e:  # the limits' storage is down: answer anyway, say so
        log.warning("share page rate limit not enforced: %s: %s", type(e).__name__, e)
    return None


async def share_page(request: Request, token: str) -> Response:
    """The public page of a share link, or the same 404 page for any token that is not
    live."""
    services: Services = request.app.state.services
    lang = _lang(request)
    retry = await _limited(request, services)
    if retry is not None:
        response = _page(request, "public_error.html", 429, lang, title="public.too_many_title",
                         message="public.too_many")
        response.headers["retry-after"] = str(retry)
        return response
    addr = request.client.host if request.client else "unknown"
    try:
        found = await shared_scan(services, token, lang, addr)
    except StorageUnavailable as e:
        log.error("share page: %s: %s", type(e).__name__, e.reason)
        response = _page(request, "public_error.html", 503, lang,
                         title="public.unavailable_title", message="public.unavailable")
        response.headers["retry-after"] = "10"
        return response
    if found is None:
        return _page(request, "public_error.html", 404, lang, title="public.not_found_title",
                     message="public.not_found")
    share, view = found
    return _page(request, "public_share.html", 200, lang, r=public_view(view, lang),
                 expires=share.expires)


async def stylesheet() -> Response:
    """The page's own small stylesheet (nothing of the console's is loaded)."""
    response = FileResponse(Path(STATIC_DIR) / "share.css", media_type="text/css")
    response.headers.update({k: v for k, v in HEADERS.items() if k != "cache-control"})
    response.headers["cache-control"] = "public, max-age=3600"
    return response


def public_router() -> APIRouter:
    """``/s/<token>`` and its stylesheet (the app includes it; not in the OpenAPI)."""
    router = Router(include_in_schema=False)
    router.add_api_route(STYLESHEET, stylesheet, methods=["GET"])
    router.add_api_route("/s/{token}", share_page, methods=["GET"])
    return router
