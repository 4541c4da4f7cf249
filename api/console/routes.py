"""The analyst console's pages (``/console/...``): Jinja2 templates over the API.

Routes (HTML; every page but the sign-in needs a session of an ``analyst`` or
``admin`` key):

* ``GET /`` → ``/console/``;
* ``GET|POST /console/sign-in``, ``POST /console/sign-out``;
* ``GET /console/``: submit a link (form) or an APK (upload script calling
  ``POST /v1/apk-scans`` with a progress bar, then polling ``GET /v1/scans/{id}``);
* ``POST /console/scans/url``: scan a link (the API's own route function);
* ``GET /console/scans/{scan_id}``: a report (APK, link or message check) or an APK
  job's state;
* ``POST /console/scans/{scan_id}/block``: add what the report names to the analyst
  blocklist; ``POST /console/scans/{scan_id}/rescan``: scan it again
  (:mod:`api.console.actions`);
* ``GET /console/history``: past scans, searchable and paged;
* ``GET /console/lists``, ``POST /console/lists/entries``,
  ``POST /console/lists/entries/{id}/delete``, ``POST /console/lists/refresh`` (admin).

**Same API, same roles.** Pages depend on :func:`api.auth.require`, which
authenticates the session cookie through the same authenticator as
``X-API-Key``; writes call the API's own service and route functions
(:func:`api.services.scans.create_url_scan`, :mod:`api.routes.lists`) so they
validate and answer exactly as the JSON API does. The browser scripts call the
JSON API itself with the cookie and the
``X-CSRF-Token`` header. There is no console-only way to do anything.

**Errors.** :class:`ConsoleRoute` turns every error of a console route into an
HTML page (a 401 into a redirect to the sign-in page): never problem+json,
never a stack trace.

**Language.** Every word of a page comes from the catalogue of
:mod:`api.console.i18n`, in the language of :func:`page_lang` (Vietnamese unless
asked otherwise); the scripts get theirs as JSON in a ``<meta>`` of the page. Times
are ``<time datetime="...Z">`` in UTC, rewritten to the reader's zone by
``console.js``.

**Headers.** Every console response (pages and :class:`ConsoleStatic` files)
carries a strict Content-Security-Policy (no inline script or style, so the
templates have none), ``nosniff``, ``no-referrer`` and ``frame-ancestors
'none'``; pages are ``no-store`` (reports are not to be left in caches).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from api import observability
from api.auth import (
    Authenticator,
    Principal,
    SessionExpired,
    check_request_origin,
    require,
    session_of,
)
from api.console import actions, i18n, views
from api.console.templating import templates as templates  # re-exported: the tests render with it
from api.jobs import QueueFull
from api.problems import ProblemException, storage_problem
from api.routes import lists as list_routes
from api.routes.url_scans import UrlScanRequest
from api.routing import Router
from api.samples import StoredSample
from api.services import scans
from api.services.container import Services
from api.services.history import ScanHistory
from api.settings import Settings
from api.storage.apikeys import hash_key
from api.storage.errors import SessionStoreUnavailable, StorageUnavailable
from api.storage.sessions import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Session,
)
from scanners.errors import InvalidURLError
from scanners.lists import KINDS as LIST_KINDS

log = logging.getLogger("scamscan.console")

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/console"
SIGN_IN = PREFIX + "/sign-in"
SIGNIN_COOKIE = "scamscan_signin"
"""Double-submit token of the sign-in form (there is no session yet to hold one)."""
LANG_COOKIE = "scamscan_lang"
MAX_FORM_FIELD = 8192

CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def secure(response: Response, *, page: bool = True) -> Response:
    """Add the console's security headers (and ``no-store`` to pages)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if page:
        response.headers["cache-control"] = "no-store"
    return response


class ConsoleStatic(StaticFiles):
    """The console's own scripts, styles and images, with the security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        return secure(response, page=False)


def console_static() -> ConsoleStatic:
    """The app mounts this at ``/console/static``."""
    return ConsoleStatic(directory=STATIC_DIR)


# --- language, context ---------------------------------------------------------------


def _services(request: Request) -> Services:
    """The app's services (:mod:`api.services.container`), as the API's routes see them."""
    services: Services = request.app.state.services
    return services


def _settings(request: Request) -> Settings:
    return _services(request).settings


def page_lang(request: Request) -> i18n.Lang:
    """``?lang=``, else the language cookie, else the server's default (``vi`` unless
    ``SCAMSCAN_DEFAULT_LANG=en``): the same switch as the reports'."""
    for raw in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if raw == "vi":
            return "vi"
        if raw == "en":
            return "en"
    return "en" if _settings(request).default_lang == "en" else "vi"


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def _toggle_urls(request: Request) -> dict[str, str]:
    """Links to this page in each language (GET pages), else to the submit page."""
    out: dict[str, str] = {}
    for lang in i18n.LANGS:
        if request.method == "GET":
            params = dict(request.query_params)
            params["lang"] = lang
            out[lang] = request.url.path + "?" + urlencode(params)
        else:
            out[lang] = f"{PREFIX}/?lang={lang}"
    return out


@dataclass(frozen=True)
class PageAuth:
    """Who is looking at a console page, in which language, with which CSRF token."""

    principal: Principal
    session: Session
    lang: i18n.Lang

    @property
    def csrf(self) -> str:
        return self.session.csrf


def render(request: Request, name: str, auth: PageAuth | None, status_code: int = 200,
           **context: Any) -> Response:
    """A console page: the template with the common context, secured, and the language
    cookie set when the page was asked for in a language."""
    lang = auth.lang if auth is not None else page_lang(request)
    ctx: dict[str, Any] = {
        "lang": lang, "auth": auth, "csrf": auth.csrf if auth else None,
        "principal": auth.principal if auth else None, "toggle": _toggle_urls(request),
        "csrf_field": CSRF_FIELD, "verdicts": views.VERDICTS,
        "verdict_labels": views.verdict_labels(lang),
        "script_strings": i18n.script_catalogue(lang),
    }
    ctx.update(context)
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/",
                            secure=_is_https(request), httponly=True, samesite="strict")
    return secure(response)


def _safe_next(raw: str | None) -> str:
    """Where to go after signing in: a console path of this site, nothing else
    (an open redirect would lend the console's name to a phishing link)."""
    if (not raw or not raw.startswith(PREFIX + "/") or raw.startswith("//")
            or "\\" in raw or any(c in raw for c in "\r\n\t") or raw.startswith(SIGN_IN)):
        return PREFIX + "/"
    return raw


def _sign_in_url(request: Request, *, expired: bool) -> str:
    target = PREFIX + "/"
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": _safe_next(target)}
    if expired:
        query["expired"] = "1"
    return SIGN_IN + "?" + urlencode(query, quote_via=quote)


# --- errors ----------------------------------------------------------------------------


def _error_page(request: Request, status: int, title: str, detail: str,
                technical: str | None = None) -> Response:
    return render(request, "error.html", None, status_code=status, title=title,
                  detail=detail, technical=technical)


def _lang(request: Request) -> i18n.Lang:
    return page_lang(request)


def _say(request: Request, key: str, **params: Any) -> str:
    """The catalogue's text of ``key`` in this request's language."""
    return i18n.text(key, page_lang(request), **params)


def _problem_page(request: Request, exc: StarletteHTTPException) -> Response:
    """An HTTP error as a page in the reader's language. The API's own detail is
    English: a Vietnamese page says the catalogue's text for it and shows the detail
    as a technical note (marked ``lang="en"``); an English page shows the detail."""
    lang = page_lang(request)
    status = exc.status_code
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    detail = str(exc.detail)
    text = i18n.problem_text(status, detail, lang, title=getattr(exc, "title", None),
                             retry_after=headers.get("retry-after"))
    technical = detail if lang == "vi" and detail and status != 404 else None
    api_title = getattr(exc, "title", None)
    title = api_title if lang == "en" and api_title else i18n.error_title(status, lang)
    response = _error_page(request, status, title, text, technical)
    if "retry-after" in headers:
        response.headers["retry-after"] = headers["retry-after"]
    return response


class ConsoleError(ProblemException):
    """An error of the console itself, with its text already in the reader's language."""


async def _error_response(request: Request, exc: Exception) -> Response:
    """Any error of a console route as HTML: 401 → the sign-in page, others a page."""
    if isinstance(exc, StorageUnavailable):
        log.error("console: %s: %s", type(exc).__name__, exc.reason)
        exc = storage_problem(exc)
    if isinstance(exc, ConsoleError):
        return _error_page(request, exc.status_code,
                           exc.title or i18n.error_title(exc.status_code, _lang(request)),
                           str(exc.detail))
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 401:
            had_cookie = bool(request.cookies.get(SESSION_COOKIE))
            redirect = RedirectResponse(_sign_in_url(request, expired=had_cookie), 303)
            redirect.delete_cookie(SESSION_COOKIE, path="/")
            return secure(redirect)
        return _problem_page(request, exc)
    if isinstance(exc, RequestValidationError | ValidationError):
        fields = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")]
            fields.append(f"{'.'.join(loc) or 'request'}: {err.get('msg', 'invalid')}")
        return _problem_page(request, ProblemException(422, "; ".join(fields)))
    log.error("console error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_page(request, 500, i18n.error_title(500, _lang(request)),
                       _say(request, "error.detail.500"))


class ConsoleRoute(APIRoute):
    """An API route whose errors become HTML pages and whose answers carry the
    console's security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as e:  # every error of a page is shown as a page
                return await _error_response(request, e)
            return secure(response)

        return console_handler


# --- authentication of pages ------------------------------------------------------------


_require_analyst = require("analyst")
_require_admin = require("admin")


def _page_auth(request: Request, principal: Principal) -> PageAuth:
    """A page also needs a console session: an ``X-API-Key`` header or keyless
    access alone sends the browser to the sign-in page, where it gets a session
    (and so a CSRF token for its forms)."""
    found: tuple[str, Session] | None = getattr(request.state, "session", None)
    if found is None:
        raise ProblemException(401, "Sign in to use the console.")
    return PageAuth(principal, found[1], page_lang(request))


async def analyst_page(
    request: Request, principal: Annotated[Principal, Depends(_require_analyst)]
) -> PageAuth:
    """A dependency: the :class:`PageAuth` of a page for analysts and admins. The
    principal comes from :func:`api.auth.require` (so the CSRF check of unsafe
    methods applies)."""
    return _page_auth(request, principal)


async def admin_page(
    request: Request, principal: Annotated[Principal, Depends(_require_admin)]
) -> PageAuth:
    """A dependency: the :class:`PageAuth` of an admin-only action."""
    return _page_auth(request, principal)


AnalystPage = Annotated[PageAuth, Depends(analyst_page)]
AdminPage = Annotated[PageAuth, Depends(admin_page)]


def _auth(request: Request) -> Authenticator:
    return _services(request).auth


def _client_addr(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _form(request: Request) -> dict[str, str]:
    """A URL-encoded form's text fields (files and over-long values dropped)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= MAX_FORM_FIELD}


# --- sign-in, sign-out ------------------------------------------------------------------


async def _keyless_offered(request: Request) -> bool:
    """Whether the API itself would accept this browser without a key."""
    try:
        # Through a DNS-rebinding name the keyless sign-in would be refused (421):
        # do not offer it there either.
        check_request_origin(request, Principal(None, "admin", "keyless-local",
                                                _client_addr(request)), cookie=True)
        return await _auth(request).keyless_allowed(_client_addr(request))
    except ProblemException:  # the key store is down: offer the key form only
        return False


async def _sign_in_form(request: Request, *, status: int = 200, error: str | None = None,
                        next_url: str | None = None, notice: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", None, status_code=status, error=error,
                      notice=notice, signin_token=token,
                      next_url=_safe_next(next_url or request.query_params.get("next")),
                      keyless=await _keyless_offered(request))
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, path=SIGN_IN, httponly=True,
                        samesite="strict", secure=_is_https(request))
    return response


async def sign_in_page(request: Request) -> Response:
    """The sign-in form (a signed-in browser goes straight to where it was going)."""
    try:
        found = await session_of(request)
    except (SessionExpired, ProblemException):
        found = None
    if found is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
    notice = None
    if request.query_params.get("expired"):
        notice = _say(request, "sign_in.notice_expired")
    elif request.query_params.get("signed_out"):
        notice = _say(request, "sign_in.notice_signed_out")
    return await _sign_in_form(request, notice=notice)


async def sign_in(request: Request) -> Response:
    """Check the key through the API's authenticator; open a session for an analyst or
    admin key (a fresh id: any earlier session of this browser is ended)."""
    form = await _form(request)
    next_url = form.get("next")
    sent, expected = form.get(CSRF_FIELD, ""), request.cookies.get(SIGNIN_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return await _sign_in_form(request, status=403, next_url=next_url,
                                   error=_say(request, "sign_in.error_form_expired"))
    auth = _auth(request)
    addr = _client_addr(request)
    keyless = form.get("mode") == "keyless"
    key = form.get("api_key", "").strip()
    if not keyless and not key:
        return await _sign_in_form(request, status=422, next_url=next_url,
                                   error=_say(request, "sign_in.error_enter_key"))
    try:
        # Failed attempts count per (key, address) and per address (api.auth), so a
        # network's mistyped keys never lock out a good one; a success counts against
        # the key's own limit (keyless: the address's), as any request.
        key_hash = None if keyless else hash_key(key)
        principal = await auth.authenticate_hash(key_hash, addr, where="you entered")
        # Keyless: a loopback Host and a same-origin form only (DNS rebinding, CSRF);
        # with a key: not from another site (login CSRF).
        check_request_origin(request, principal, cookie=True)
        await auth.limiter.check(principal)
    except ProblemException as e:
        headers = {k.lower(): v for k, v in (e.headers or {}).items()}
        if keyless and e.status_code == 401:
            detail = _say(request, "sign_in.error_keyless")
        elif e.status_code == 401 and page_lang(request) == "vi":
            detail = _say(request, "sign_in.error_401")
        else:
            detail = i18n.problem_text(e.status_code, str(e.detail), page_lang(request),
                                       title=e.title, retry_after=headers.get("retry-after"))
        page = await _sign_in_form(request, status=e.status_code, next_url=next_url,
                                   error=detail)
        for name, value in (e.headers or {}).items():
            if name.lower() == "retry-after":  # a 429 or 503 says when to try again
                page.headers["retry-after"] = value
        return page
    if not principal.at_least("analyst"):
        return await _sign_in_form(
            request, status=403, next_url=next_url,
            error=_say(request, "sign_in.error_role", name=principal.name,
                       role=principal.role))
    sessions = _services(request).sessions
    try:
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            await sessions.delete(old)
        session_id, _ = await sessions.create(key_hash)
    except SessionStoreUnavailable as e:
        log.error("console session store unavailable: %s", e)
        return await _sign_in_form(request, status=503, next_url=next_url,
                                   error=_say(request, "sign_in.error_sessions"))
    log.info("console sign-in: %s (%s)", principal.name, principal.role)
    response = RedirectResponse(_safe_next(next_url), 303)
    # A browser-session cookie (no Max-Age): the server enforces both lifetimes, and
    # a cookie the browser still sends lets the sign-in page say the session expired.
    response.set_cookie(SESSION_COOKIE, session_id, path="/", httponly=True,
                        samesite="strict", secure=_is_https(request))
    response.delete_cookie(SIGNIN_COOKIE, path=SIGN_IN)
    return response


async def sign_out(request: Request) -> Response:
    """End the session on the server and forget the cookie."""
    try:
        found = await session_of(request)
    except SessionExpired:
        found = None
    if found is not None:
        session_id, session = found
        sent = (await _form(request)).get(CSRF_FIELD, "")
        if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            raise ConsoleError(403, _say(request, "error.sign_out_csrf"),
                               title=i18n.error_title(403, page_lang(request)))
        await _services(request).sessions.delete(session_id)
    response = RedirectResponse(SIGN_IN + "?signed_out=1", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- submit, reports ---------------------------------------------------------------------


def _submit_context(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    return {"max_apk_bytes": settings.max_apk_bytes, "active": "submit"}


async def submit_page(request: Request, auth: AnalystPage) -> Response:
    """Submit a link or an APK."""
    return render(request, "submit.html", auth, **_submit_context(request))


def _history(request: Request) -> ScanHistory:
    """The scan history (:mod:`api.services.history`)."""
    return _services(request).history


async def scan_url_form(request: Request, auth: AnalystPage) -> Response:
    """Scan a link through the API's own service function and show its report."""

    form = await _form(request)
    url = form.get("url", "").strip()
    live = form.get("live") == "on"
    if not url:
        return render(request, "submit.html", auth, status_code=422,
                      url_error=_say(request, "submit.error_empty"), **_submit_context(request))
    try:
        body = UrlScanRequest(url=url, offline=not live, lang=auth.lang)
        report = await scans.create_url_scan(_services(request),
                                             observability.metrics_of(request), body.url,
                                             offline=body.offline,
                                             lang=body.lang or auth.lang)
    except ValidationError as e:
        message = "; ".join(str(err.get("msg")) for err in e.errors())
        return render(request, "submit.html", auth, status_code=422, url_value=url,
                      url_error=_invalid_link(auth.lang, f"{message}."),
                      **_submit_context(request))
    except InvalidURLError as e:
        return render(request, "submit.html", auth, status_code=422, url_value=url,
                      url_error=_invalid_link(auth.lang, e.reason),
                      **_submit_context(request))
    return RedirectResponse(f"{PREFIX}/scans/{quote(str(report['scan_id']))}", 303)


def _invalid_link(lang: i18n.Lang, reason: str) -> str:
    """Why a link cannot be scanned: the scanner's reason in English, the catalogue's
    sentence in Vietnamese (the reasons are English, written for API callers)."""
    if lang == "en":
        return f"This link cannot be scanned: {reason}"
    return i18n.text("submit.error_invalid", lang)


def _exports(scan_id: str) -> dict[str, str]:
    """The API's export routes of a scan (the console only links to them)."""
    base = f"/v1/scans/{quote(scan_id)}/export?format="
    return {"json": base + "json", "stix": base + "stix"}


def _blocked_notice(request: Request, auth: PageAuth) -> dict[str, Any] | None:
    """After "Add to blocklist": the confirmation, with links to the entries named in
    ``?blocked=`` (added) and ``?listed=`` (already there)."""
    params = request.query_params
    ids = [i for i in (params.get("blocked", "") + "," + params.get("listed", "")).split(",")
           if i][:20]
    if not ids:
        return None
    entries = _services(request).lists.entries
    found = [entries[i] for i in ids if i in entries]
    shown = [{"id": e.id, "kind": e.kind, "value": e.value,
              "shown": views.defang(e.value) if e.kind in ("host", "domain", "url")
              else e.value} for e in found]
    key = "actions.blocked" if params.get("blocked") else "actions.blocked_already"
    return {"message": i18n.text(key, auth.lang), "entries": shown}


def _actions(request: Request, auth: PageAuth, targets: list[actions.BlockTarget],
             rescan: dict[str, Any]) -> dict[str, Any]:
    """The actions card of a report: what is already listed, the block choices not yet
    listed, and whether "Rescan" can run (and why not)."""
    already = actions.listed(_services(request).lists, targets)
    taken = {(e["kind"], e["value"]) for e in already}
    return {"listed": already, "rescan": rescan,
            "block": [t for t in targets if (t.kind, t.value) not in taken]}


def _apk_rescan(request: Request, sha256: str, lang: i18n.Lang) -> dict[str, Any]:
    if _services(request).samples.path_for(sha256).is_file():
        return {"available": True, "live": False}
    return {"available": False, "why": i18n.text("actions.rescan_sample_gone", lang)}


async def _apk_job_page(request: Request, auth: PageAuth, scan_id: str) -> Response | None:
    jobs = _services(request).jobs
    job = await jobs.lookup(scan_id)
    if job is None or not auth.principal.can_see(job.owner):
        return None
    status, _started = job.view_status()
    if status == "done":
        result = await jobs.result(job)
        if result is None:
            return _error_page(request, 503, _say(request, "error.report_unavailable_title"),
                               _say(request, "error.report_unavailable"))
        report = result.report(auth.lang)
        view = views.apk_report_view(report, auth.lang)
        return render(request, "report_apk.html", auth, scan_id=scan_id, r=view,
                      exports=_exports(scan_id), created=job.created,
                      blocked=_blocked_notice(request, auth),
                      actions=_actions(request, auth, actions.apk_targets(job.sha256),
                                       _apk_rescan(request, job.sha256, auth.lang)))
    return render(request, "scan_status.html", auth, scan_id=scan_id, status=status,
                  job=job, reason=i18n.job_failure(job.error_kind, job.reason, auth.lang)
                  if status == "failed" else None,
                  error_kind=job.error_kind if status == "failed" else None)


def _unknown_scan(request: Request) -> ConsoleError:
    return ConsoleError(404, _say(request, "error.unknown_scan"))


async def _stored(request: Request, auth: PageAuth, scan_id: str,
                  kind: str) -> dict[str, Any] | None:
    """The history record of a link scan or message check this reader may see."""
    record = await _history(request).get(scan_id)
    if (record is not None and record.get("kind") == kind
            and auth.principal.can_see(record.get("owner"))):
        return record
    return None


async def scan_page(request: Request, scan_id: str, auth: AnalystPage) -> Response:
    """A scan: the APK report, the APK job's state, a stored link report or a stored
    message check."""
    if len(scan_id) > 64:
        raise _unknown_scan(request)
    page = await _apk_job_page(request, auth, scan_id)
    if page is not None:
        return page
    record = await _stored(request, auth, scan_id, "url")
    if record is not None:
        report = record.get("report")
        if report is None:
            return _error_page(request, 410, i18n.error_title(410, auth.lang),
                               _say(request, "error.url_not_kept"))
        view = views.url_report_view({**report, "scan_id": scan_id}, auth.lang)
        targets = actions.url_targets(report, views.defang)
        return render(request, "report_url.html", auth, r=view, stored=True,
                      created=record.get("created"), exports=_exports(scan_id),
                      blocked=_blocked_notice(request, auth),
                      actions=_actions(request, auth, targets,
                                       {"available": True, "live": view["live"]}))
    record = await _stored(request, auth, scan_id, "message")
    if record is not None:
        report = record.get("report")
        if report is None:
            return _error_page(request, 410, i18n.error_title(410, auth.lang),
                               _say(request, "error.message_not_kept"))
        view = views.message_report_view({**report, "scan_id": scan_id}, auth.lang)
        return render(request, "report_message.html", auth, r=view,
                      created=record.get("created"), blocked=_blocked_notice(request, auth),
                      exports={"json": _exports(scan_id)["json"], "stix": None})
    raise _unknown_scan(request)


def _after_block(scan_id: str, outcome: actions.BlockOutcome) -> Response:
    query = {"blocked": ",".join(e["id"] for e in outcome.added),
             "listed": ",".join(e["id"] for e in outcome.existing)}
    return RedirectResponse(f"{PREFIX}/scans/{quote(scan_id)}?"
                            + urlencode({k: v for k, v in query.items() if v}), 303)


async def block_from_report(request: Request, scan_id: str, auth: AnalystPage) -> Response:
    """"Add to blocklist" on a report: the chosen target of a link report, the file's
    SHA-256 of an app report, the ticked links of a message check; then the report
    again, confirming and linking to the entries."""
    form = await request.form()
    note = _say(request, "actions.note", scan=scan_id[:64])
    targets: list[actions.BlockTarget] = []
    services = _services(request)
    job = await services.jobs.lookup(scan_id[:64])
    if job is not None and auth.principal.can_see(job.owner):
        targets = actions.apk_targets(job.sha256)
    elif (record := await _stored(request, auth, scan_id[:64], "url")) is not None:
        chosen = str(form.get("target") or "")
        targets = [t for t in actions.url_targets(record.get("report") or {}, views.defang)
                   if t.kind == chosen][:1]
    elif (record := await _stored(request, auth, scan_id[:64], "message")) is not None:
        found = actions.message_targets(record.get("report") or {}, views.defang_host)
        ticked = {str(v) for v in form.getlist("item")}
        targets = [t for i, t in found.items() if str(i) in ticked]
    else:
        raise _unknown_scan(request)
    if not targets:
        raise ConsoleError(422, _say(request, "actions.block_nothing"))
    try:
        outcome = await actions.block(services.lists, auth.principal, targets, note)
    except ProblemException as e:
        if e.status_code != 422:
            raise
        raise ConsoleError(422, i18n.problem_text(422, str(e.detail), auth.lang)) from None
    return _after_block(scan_id[:64], outcome)


async def rescan(request: Request, scan_id: str, auth: AnalystPage) -> Response:
    """"Rescan": a link again as it was scanned (offline or live), an app again from
    its stored sample; then the new report."""
    services = _services(request)
    job = await services.jobs.lookup(scan_id[:64])
    if job is not None and auth.principal.can_see(job.owner):
        path = services.samples.path_for(job.sha256)
        if not path.is_file():
            raise ConsoleError(410, _say(request, "actions.rescan_sample_gone"))
        sample = StoredSample(job.sha256, job.size, path, job.input)
        try:
            new = await services.jobs.submit(sample, owner=auth.principal.key_id)
        except QueueFull as e:
            raise ProblemException(503, f"The APK scanner is busy ({e}); try again in a "
                                   "minute.", headers={"retry-after": "60"}) from None
        services.history.record_apk(new)
        return RedirectResponse(f"{PREFIX}/scans/{quote(new.scan_id)}", 303)
    record = await _stored(request, auth, scan_id[:64], "url")
    if record is None:
        raise _unknown_scan(request)
    report = record.get("report")
    if report is None:
        raise ConsoleError(410, _say(request, "actions.rescan_not_kept"))
    live = bool(views.url_report_view(report, auth.lang)["live"])
    answer = await scans.create_url_scan(services, observability.metrics_of(request),
                                         str(report.get("input") or report.get("url")),
                                         offline=not live, lang=auth.lang)
    return RedirectResponse(f"{PREFIX}/scans/{quote(str(answer['scan_id']))}", 303)


HISTORY_PER_PAGE = 25


async def history_page(request: Request, auth: AnalystPage) -> Response:
    """Past scans, newest first: searchable by host, package, sha256 (or any part of the
    input) and filtered by kind and verdict, paged (:meth:`api.services.history.ScanHistory.search`,
    the store behind ``GET /v1/scans``)."""
    history = _history(request)
    params = request.query_params
    q = params.get("q", "").strip()[:256]
    kind = params.get("kind", "")
    kind = kind if kind in ("url", "apk", "message") else ""
    verdict = params.get("verdict", "")
    verdict = verdict if verdict in views.VERDICTS else ""
    try:
        page = max(1, min(100_000, int(params.get("page", "1"))))
    except ValueError:
        page = 1
    result = await history.search(auth.principal, q or None, kind or None, verdict or None,
                                  page, HISTORY_PER_PAGE)
    items = []
    for item in result["items"]:
        items.append({**item,
                      "target": (views.defang(str(item.get("input") or ""))
                                 if item.get("kind") == "url" else
                                 views.defang_text(str(item.get("input") or ""))
                                 if item.get("kind") == "message" else item.get("input")),
                      "host": views.defang_host(str(item["host"])) if item.get("host") else None,
                      "verdict_label": views.verdict_label(str(item["verdict"]), auth.lang)
                      if item.get("verdict") else None})

    def page_url(n: int) -> str:
        query = {k: v for k, v in (("q", q), ("kind", kind), ("verdict", verdict)) if v}
        return f"{PREFIX}/history?" + urlencode({**query, "page": n})

    return render(request, "history.html", auth, active="history", items=items, q=q,
                  kind=kind, verdict=verdict, total=result["total"],
                  **views.paging(page, int(result["total"]), HISTORY_PER_PAGE, page_url))


# --- lists -------------------------------------------------------------------------------


ENTRY_KINDS: tuple[str, ...] = LIST_KINDS


async def lists_page(request: Request, auth: AnalystPage) -> Response:
    """List sources with their counts, and the analyst entries (searchable, paged)."""
    q = request.query_params.get("q", "")[:200] or None
    kind = request.query_params.get("kind") or None
    if kind not in ENTRY_KINDS:
        kind = None
    try:
        page = max(1, min(100_000, int(request.query_params.get("page", "1"))))
    except ValueError:
        page = 1
    sources = await list_routes.list_sources(_services(request).lists, auth.principal)
    lists = _services(request).lists
    entries = await list_routes.list_entries(lists, auth.principal, kind, q, page, 50)  # type: ignore[arg-type]
    done = request.query_params.get("done", "")
    notice = _say(request, f"lists.notice_{done}") if done in ("added", "removed") else None
    refreshed, of = request.query_params.get("refreshed"), request.query_params.get("of")
    if refreshed is not None and refreshed.isdigit() and of is not None and of.isdigit():
        notice = (_say(request, "lists.notice_refreshed", ok=int(refreshed), total=int(of))
                  if int(of) else _say(request, "lists.notice_no_feed"))
    return render(request, "lists.html", auth, active="lists", sources=sources,
                  entries=entries, q=q or "", kind=kind or "", kinds=ENTRY_KINDS,
                  notice=notice, form={}, form_error=None,
                  highlight=request.query_params.get("entry"))


async def add_entry(request: Request, auth: AnalystPage) -> Response:
    """Add a list entry through the API's route function (same checks, same errors)."""
    form = await _form(request)
    values = {k: form.get(k, "").strip() for k in ("kind", "value", "action", "package", "note")}
    error, technical = None, None
    if not values["value"]:
        error = _say(request, "lists.error_empty")
    else:
        try:
            body = list_routes.EntryCreate(kind=values["kind"], value=values["value"],  # type: ignore[arg-type]
                               action=values["action"] or None,  # type: ignore[arg-type]
                               package=values["package"] or None, note=values["note"])
            await list_routes.create_entry(_services(request).lists, body, auth.principal)
        except ValidationError as e:
            technical = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                                  for err in e.errors())
            error = _say(request, "lists.error_invalid")
        except ProblemException as e:
            if e.status_code not in (409, 422):
                raise
            technical = str(e.detail)
            error = _say(request, "lists.error_duplicate" if e.status_code == 409
                         else "lists.error_invalid")
        if auth.lang == "en":  # the API's detail is English and says exactly what is wrong
            error, technical = technical, None
    if error is None:
        return RedirectResponse(f"{PREFIX}/lists?done=added", 303)
    return render(request, "lists.html", auth, status_code=422, active="lists",
                  sources=await list_routes.list_sources(_services(request).lists, auth.principal),
                  entries=await list_routes.list_entries(_services(request).lists,
                                                         auth.principal, None, None, 1, 50),
                  q="", kind="", kinds=ENTRY_KINDS, notice=None, form=values,
                  form_technical=technical,
                  form_error=error)


async def remove_entry(request: Request, entry_id: str, auth: AnalystPage) -> Response:
    """Remove a list entry through the API's route function."""
    await list_routes.delete_entry(_services(request).lists, entry_id[:64], auth.principal)
    return RedirectResponse(f"{PREFIX}/lists?done=removed", 303)


async def refresh_lists(request: Request, auth: AdminPage) -> Response:
    """Refresh every feed (admin) through the API's route function."""
    results = (await list_routes.refresh_feeds(_services(request).lists, auth.principal,
                                               None))["results"]
    ok = sum(1 for r in results if r["ok"])
    return RedirectResponse(f"{PREFIX}/lists?"
                            + urlencode({"refreshed": ok, "of": len(results)}), 303)


# --- the router ---------------------------------------------------------------------------


async def root() -> Response:
    return RedirectResponse(PREFIX + "/", 307)


async def not_found(request: Request, rest: str, auth: AnalystPage) -> Response:
    return _error_page(request, 404, i18n.error_title(404, auth.lang),
                       _say(request, "error.not_found_page"))


def console_router() -> APIRouter:
    """The console's pages; the app also mounts :func:`console_static` at
    ``/console/static`` (before this router: the catch-all 404 page is last here)."""
    router = Router(route_class=ConsoleRoute, include_in_schema=False)
    router.add_api_route("/", root, methods=["GET"])
    router.add_api_route(SIGN_IN, sign_in_page, methods=["GET"])
    router.add_api_route(SIGN_IN, sign_in, methods=["POST"])
    router.add_api_route(PREFIX + "/sign-out", sign_out, methods=["POST"])
    router.add_api_route(PREFIX, root, methods=["GET"])
    router.add_api_route(PREFIX + "/", submit_page, methods=["GET"])
    router.add_api_route(PREFIX + "/scans/url", scan_url_form, methods=["POST"])
    router.add_api_route(PREFIX + "/scans/{scan_id}", scan_page, methods=["GET"])
    router.add_api_route(PREFIX + "/scans/{scan_id}/block", block_from_report,
                         methods=["POST"])
    router.add_api_route(PREFIX + "/scans/{scan_id}/rescan", rescan, methods=["POST"])
    router.add_api_route(PREFIX + "/history", history_page, methods=["GET"])
    router.add_api_route(PREFIX + "/lists", lists_page, methods=["GET"])
    router.add_api_route(PREFIX + "/lists/entries", add_entry, methods=["POST"])
    router.add_api_route(PREFIX + "/lists/entries/{entry_id}/delete", remove_entry,
                         methods=["POST"])
    router.add_api_route(PREFIX + "/lists/refresh", refresh_lists, methods=["POST"])
    router.add_api_route(PREFIX + "/{rest:path}", not_found, methods=["GET"])
    return router
