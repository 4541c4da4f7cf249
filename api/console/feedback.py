"""The console's feedback queue and share links (analysts and admins).

* ``GET /console/feedback[?status=resolved]``: pending feedback, newest first,
  with target, kind, count, note and the linked scan's verdict; one button per
  action (block, allow, dismiss), each a form with the session's CSRF token;
* ``POST /console/feedback/{id}/resolve`` (``action``): through
  :func:`api.services.feedback.resolve_feedback`, the function behind
  ``POST /v1/feedback/{id}/resolve`` (a list entry by the list service);
* ``POST /console/scans/{scan_id}/share`` (``days``): a share link through
  :func:`api.services.shares.create_share`, shown once on the answer page;
* ``GET /console/scans/{scan_id}/shares``: the scan's live links;
  ``POST /console/shares/{id}/revoke``: revoke one.

Every visible string is in the console's catalogue (``feedback.``, ``share.`` and
``public.`` keys of ``messages.json``, :mod:`api.console.i18n`).
:func:`feedback_console_router` is included by the app before the console's
own router (whose last route is a catch-all page).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.console import i18n, views
from api.console.routes import PREFIX, AnalystPage, ConsoleRoute, _form, _services, render
from api.problems import ProblemException
from api.routing import Router
from api.services import feedback as feedback_service
from api.services import shares as share_service
from api.storage.feedback import Status

PER_PAGE = 25
ACTIONS = ("block", "allow", "dismiss")


def _target_text(item: dict[str, Any]) -> str:
    """The target as an analyst reads it: links defanged, never clickable."""
    if item["target_type"] == "url":
        return views.defang(str(item["target"]))
    return str(item["target"])


async def feedback_page(request: Request, auth: AnalystPage) -> Response:
    """The queue (pending, newest first) or the resolved entries."""
    status: Status = ("resolved" if request.query_params.get("status") == "resolved"
                      else "pending")
    try:
        page = max(1, min(100_000, int(request.query_params.get("page", "1"))))
    except ValueError:
        page = 1
    result = await feedback_service.list_feedback(_services(request), status, page, PER_PAGE)
    items = []
    for item in result["items"]:
        scan = item.get("scan")
        items.append({**item, "target_text": _target_text(item),
                      "scan_label": views.verdict_label(str(scan["verdict"]), auth.lang)
                      if scan and scan.get("verdict") else None})

    def page_url(n: int) -> str:
        return f"{PREFIX}/feedback?" + urlencode({"status": status, "page": n})

    done = request.query_params.get("done", "")
    return render(request, "feedback.html", auth, active="feedback", items=items,
                  status=status, total=result["total"],
                  notice=i18n.text(f"feedback.done_{done}", auth.lang)
                  if done in ACTIONS else None,
                  **views.paging(page, int(result["total"]), PER_PAGE, page_url))


async def resolve_form(request: Request, feedback_id: str, auth: AnalystPage) -> Response:
    """One click: block, allow or dismiss an entry (the API's own service function)."""
    form = await _form(request)
    action = form.get("action", "")
    if action not in ACTIONS:
        raise ProblemException(422, "The action is one of block, allow, dismiss.",
                               title="Invalid request")
    await feedback_service.resolve_feedback(_services(request), auth.principal,
                                            feedback_id[:64], action)  # type: ignore[arg-type]
    return RedirectResponse(f"{PREFIX}/feedback?done={action}", 303)


async def share_form(request: Request, scan_id: str, auth: AnalystPage) -> Response:
    """Make a share link of a scan; the page shows it once (it is not stored)."""
    form = await _form(request)
    settings = _services(request).settings
    try:
        days = float(form.get("days") or settings.share_default_ttl / 86400)
    except ValueError:
        days = settings.share_default_ttl / 86400
    seconds = int(max(60, min(settings.share_max_ttl, days * 86400)))
    origin = f"{request.url.scheme}://{request.url.netloc}"
    made = await share_service.create_share(_services(request), auth.principal, scan_id[:64],
                                            seconds, origin)
    return render(request, "share_created.html", auth, status_code=201,
                  share=made, scan_id=scan_id[:64])


async def shares_page(request: Request, scan_id: str, auth: AnalystPage) -> Response:
    """The scan's live share links, each with a revoke button."""
    scan_id = scan_id[:64]
    live = await share_service.shares_of(_services(request), scan_id)
    notice = (i18n.text("share.revoked", auth.lang)
              if request.query_params.get("done") == "revoked" else None)
    return render(request, "shares.html", auth, scan_id=scan_id, shares=live, notice=notice)


async def revoke_form(request: Request, share_id: str, auth: AnalystPage) -> Response:
    """Revoke a share link by its id."""
    gone = await share_service.revoke_by_id(_services(request), share_id)
    if gone is None:
        raise ProblemException(404, "There is no live share link with this id.",
                               title="Unknown share link")
    return RedirectResponse(f"{PREFIX}/scans/{quote(gone.scan_id)}/shares?done=revoked", 303)


def feedback_console_router() -> APIRouter:
    """The feedback and share pages of the console (HTML errors, console headers)."""
    router = Router(route_class=ConsoleRoute, include_in_schema=False)
    router.add_api_route(PREFIX + "/feedback", feedback_page, methods=["GET"])
    router.add_api_route(PREFIX + "/feedback/{feedback_id}/resolve", resolve_form,
                         methods=["POST"])
    router.add_api_route(PREFIX + "/scans/{scan_id}/share", share_form, methods=["POST"])
    router.add_api_route(PREFIX + "/scans/{scan_id}/shares", shares_page, methods=["GET"])
    router.add_api_route(PREFIX + "/shares/{share_id}/revoke", revoke_form, methods=["POST"])
    return router
