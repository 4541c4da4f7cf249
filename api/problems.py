"""RFC 9457 problem details: every error the API answers is ``application/problem+json``.

The domain (:mod:`scanners`) raises its own exceptions and knows nothing of
HTTP; this module is where they, FastAPI's validation errors and Starlette's
HTTP errors become a problem object::

    {"type": ..., "title": ..., "status": ..., "detail": ..., "instance": ...}

plus ``errors`` (one entry per invalid field) for validation failures.
``detail`` is always a sentence a caller can act on; request bodies are never
echoed back or logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.storage.errors import (
    FeedbackStoreUnavailable,
    HistoryUnavailable,
    KeyStoreUnavailable,
    ListStoreUnavailable,
    QueueUnavailable,
    SessionStoreUnavailable,
    ShareStoreUnavailable,
    StorageUnavailable,
    WebhookStoreUnavailable,
)
from scanners.errors import DataError, InputError, InvalidURLError, ScamscanError

T = TypeVar("T")

log = logging.getLogger("scamscan.api")

PROBLEM_JSON = "application/problem+json"

_TYPE_BASE = "tag:scamscan,2025:problems/"
TYPE_VALIDATION = _TYPE_BASE + "validation"
TYPE_MALFORMED_JSON = _TYPE_BASE + "malformed-json"
TYPE_INVALID_URL = _TYPE_BASE + "invalid-url"
TYPE_INVALID_INPUT = _TYPE_BASE + "invalid-input"
TYPE_DATA = _TYPE_BASE + "data-unavailable"
TYPE_BODY_TOO_LARGE = _TYPE_BASE + "body-too-large"
TYPE_BODY_TIMEOUT = _TYPE_BASE + "body-timeout"
TYPE_UNSUPPORTED_MEDIA = _TYPE_BASE + "unsupported-media-type"
TYPE_INTERNAL = _TYPE_BASE + "internal"
TYPE_INVALID_UPLOAD = _TYPE_BASE + "invalid-upload"
TYPE_NOT_FOUND = _TYPE_BASE + "not-found"
TYPE_BUSY = _TYPE_BASE + "busy"
TYPE_UNAUTHORIZED = _TYPE_BASE + "unauthorized"
TYPE_FORBIDDEN = _TYPE_BASE + "forbidden"
TYPE_RATE_LIMITED = _TYPE_BASE + "rate-limited"
TYPE_AUTH_UNAVAILABLE = _TYPE_BASE + "auth-unavailable"
TYPE_LISTS_UNAVAILABLE = _TYPE_BASE + "lists-unavailable"
ABOUT_BLANK = "about:blank"


class ProblemError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="Dotted path of the field in its location, e.g. `url`.")
    location: str = Field(description="Where the field is: `body`, `query`, `path`, `header`.")
    message: str
    type: str = Field(description="Machine-readable error code (pydantic's error type).")


class Problem(BaseModel):
    """An RFC 9457 problem details object (`application/problem+json`)."""

    type: str = Field(default=ABOUT_BLANK, description="URI identifying the problem type.")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[ProblemError] | None = Field(
        default=None, description="Only for validation failures: one entry per invalid field."
    )


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = ABOUT_BLANK,
    instance: str | None = None,
    errors: Sequence[ProblemError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = [e.model_dump() for e in errors]
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem+json answers."""
    return {
        s: {
            "description": _phrase(s),
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- validation -----------------------------------------------------------


def _field_errors(exc: RequestValidationError) -> list[ProblemError]:
    out: list[ProblemError] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        location = str(loc[0]) if loc else "body"
        field = ".".join(str(p) for p in loc[1:]) or location
        message = str(err.get("msg", "invalid value"))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        out.append(ProblemError(field=field, location=location, message=message,
                                type=str(err.get("type", "invalid"))))
    return out


async def validation_error_handler(request: Request, exc: RequestValidationError) -> Response:
    raw = list(exc.errors())
    instance = request.url.path
    json_errors = [e for e in raw if e.get("type") == "json_invalid"]
    if json_errors:
        e = json_errors[0]
        loc = tuple(e.get("loc", ()))
        pos = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason = (e.get("ctx") or {}).get("error", "not valid JSON")
        return problem(
            400,
            f"The request body is not valid JSON{pos}: {reason}.",
            title="Malformed JSON",
            type_=TYPE_MALFORMED_JSON,
            instance=instance,
        )
    errors = _field_errors(exc)
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    else:
        detail = "The request is not valid."
    return problem(
        422,
        detail,
        title="Invalid request",
        type_=TYPE_VALIDATION,
        instance=instance,
        errors=errors,
    )


# --- HTTP errors (404, 405, 413, 415, ...) --------------------------------


class ProblemException(StarletteHTTPException):
    """An HTTP error that names its problem ``type`` and ``title`` (and field errors)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str = ABOUT_BLANK,
        title: str | None = None,
        errors: Sequence[ProblemError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, detail, headers=dict(headers) if headers else None)
        self.type_ = type_
        self.title = title
        self.errors = list(errors) if errors is not None else None


_FASTAPI_BODY_ERROR = "There was an error parsing the body"
"""The detail of FastAPI's own 400 for a body it could not decode (fastapi.routing)."""


async def http_error_handler(request: Request, exc: StarletteHTTPException) -> Response:
    status = exc.status_code
    headers = dict(exc.headers) if exc.headers else None
    detail = str(exc.detail) if exc.detail else _phrase(status)
    if isinstance(exc, ProblemException):
        type_ = exc.type_
        if type_ == ABOUT_BLANK:
            type_ = {413: TYPE_BODY_TOO_LARGE, 415: TYPE_UNSUPPORTED_MEDIA}.get(status, type_)
        return problem(status, detail, title=exc.title, type_=type_,
                       instance=request.url.path, errors=exc.errors, headers=headers)
    if status == 404 and detail == _phrase(404):
        detail = f"There is no resource at {request.url.path}; see /docs for the API."
    elif status == 405 and detail == _phrase(405):
        allowed = (headers or {}).get("allow") or (headers or {}).get("Allow")
        detail = f"Method {request.method} is not allowed on {request.url.path}"
        detail += f"; allowed: {allowed}." if allowed else "."
    elif status == 400 and detail == _FASTAPI_BODY_ERROR:
        # FastAPI's answer to a JSON body it cannot even decode (not UTF-8 text, or
        # the client went away): say what a caller can fix, as for other bad JSON.
        return problem(400, "The request body could not be read as JSON: send UTF-8 JSON "
                       "text (Content-Type: application/json).", title="Malformed JSON",
                       type_=TYPE_MALFORMED_JSON, instance=request.url.path, headers=headers)
    type_ = {413: TYPE_BODY_TOO_LARGE, 415: TYPE_UNSUPPORTED_MEDIA}.get(status, ABOUT_BLANK)
    return problem(status, detail, type_=type_, instance=request.url.path, headers=headers)


# --- domain errors ----------------------------------------------------------


async def invalid_url_handler(request: Request, exc: InvalidURLError) -> Response:
    return problem(
        422, exc.reason, title="Invalid URL", type_=TYPE_INVALID_URL, instance=request.url.path
    )


async def scamscan_error_handler(request: Request, exc: ScamscanError) -> Response:
    if isinstance(exc, InputError):
        return problem(422, str(exc) or "The input cannot be analysed.", title="Invalid input",
                       type_=TYPE_INVALID_INPUT, instance=request.url.path)
    log.error("scanner data error on %s %s: %s", request.method, request.url.path, exc)
    if isinstance(exc, DataError):
        return problem(503, "The service's bundled data is unavailable; try again later.",
                       title="Data unavailable", type_=TYPE_DATA, instance=request.url.path)
    return problem(500, "The scan failed on the server side.", type_=TYPE_INTERNAL,
                   instance=request.url.path)


# --- storage errors ---------------------------------------------------------


_STORAGE_PROBLEMS: tuple[tuple[type[StorageUnavailable], str, str, str, str], ...] = (
    # (store, type, title, detail, retry-after seconds); the first match wins.
    (KeyStoreUnavailable, TYPE_AUTH_UNAVAILABLE, "Authentication unavailable",
     "API keys cannot be checked right now (the key store is unavailable); try again "
     "shortly.", "5"),
    (SessionStoreUnavailable, TYPE_AUTH_UNAVAILABLE, "Sessions unavailable",
     "Console sessions cannot be checked right now; try again shortly.", "5"),
    (ListStoreUnavailable, TYPE_LISTS_UNAVAILABLE, "Lists unavailable",
     "The list store is unavailable right now; try again shortly.", "5"),
    (HistoryUnavailable, TYPE_BUSY, "History unavailable",
     "The scan history is unavailable right now; try again shortly.", "10"),
    (QueueUnavailable, TYPE_BUSY, "Scan queue unavailable",
     "The APK scan queue is unavailable right now; try again shortly.", "10"),
    (FeedbackStoreUnavailable, TYPE_BUSY, "Feedback unavailable",
     "The feedback store is unavailable right now; try again shortly.", "10"),
    (ShareStoreUnavailable, TYPE_BUSY, "Share links unavailable",
     "The share link store is unavailable right now; try again shortly.", "10"),
    (WebhookStoreUnavailable, TYPE_BUSY, "Webhooks unavailable",
     "The webhook store is unavailable right now; try again shortly.", "10"),
    (StorageUnavailable, TYPE_BUSY, "Storage unavailable",
     "A store this service needs is unavailable right now; try again shortly.", "10"),
)


def storage_problem(exc: StorageUnavailable) -> ProblemException:
    """The 503 problem (with ``Retry-After``) that a store's failure is answered with.

    The one place a :class:`~api.storage.errors.StorageUnavailable` becomes HTTP:
    the exception handler below, and the few callers that must answer on the spot
    (authentication, which the console turns into a page)."""
    for cls, type_, title, detail, retry in _STORAGE_PROBLEMS:
        if isinstance(exc, cls):
            return ProblemException(503, detail, type_=type_, title=title,
                                    headers={"retry-after": retry})
    raise AssertionError("unreachable: StorageUnavailable is the last entry")


async def storage_error_handler(request: Request, exc: StorageUnavailable) -> Response:
    """Any store that failed during a request: logged, answered 503 problem+json."""
    log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path,
              exc.reason)
    return await http_error_handler(request, storage_problem(exc))


async def unhandled_error_handler(request: Request, exc: Exception) -> Response:
    """Last resort: a bug. Log it with its traceback, answer a bare 500 problem."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "An unexpected error occurred on the server.", type_=TYPE_INTERNAL,
                   instance=request.url.path)


Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]

EXCEPTION_HANDLERS: dict[int | type[Exception], Handler] = {
    RequestValidationError: validation_error_handler,
    StarletteHTTPException: http_error_handler,
    InvalidURLError: invalid_url_handler,
    ScamscanError: scamscan_error_handler,
    StorageUnavailable: storage_error_handler,
    Exception: unhandled_error_handler,
}
"""For ``FastAPI(exception_handlers=...)``; Starlette picks the most specific class."""


# --- request body limit -----------------------------------------------------


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` once a request body passes the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyTimeout(ProblemException):
    """Raised from ``receive`` when a request body stalls or takes too long in all."""

    def __init__(self, detail: str) -> None:
        super().__init__(408, detail, type_=TYPE_BODY_TIMEOUT, title="Request body timeout",
                         headers={"connection": "close"})


class _Resumed:
    """What is left of a coroutine that was stepped once and suspended: awaiting this
    goes on from there, exactly as ``await`` would have (``yield from`` by hand: what
    the task sends or throws in goes to the coroutine, what it yields goes out)."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.pending
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # the task's cancellation (a time-out) and others
                try:
                    value = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as done:
                    return done.value


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable`` within ``seconds`` (else :class:`TimeoutError`), like
    :func:`asyncio.timeout`, but without arming a timer when a coroutine answers
    without waiting: a request body the server already holds (nearly every JSON body)
    comes back from the first step of ``receive()``. ``asyncio.timeout`` cost about
    6 microseconds per call on uvloop, for every request body (docs/evaluation.md,
    "Service load"); this step costs a tenth of that."""
    if not isinstance(awaitable, Coroutine):
        async with asyncio.timeout(seconds):
            return await awaitable
    try:
        pending = awaitable.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    async with asyncio.timeout(seconds):
        resumed: T = await _Resumed(awaitable, pending)
        return resumed


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_body_bytes`` with a 413 problem, and bodies
    that stall or trickle with a 408 problem.

    ``path_limits`` gives some paths a limit of their own (the APK upload
    takes far more than a JSON body). A declared ``Content-Length`` over the
    limit is refused before the body is read; otherwise the bytes are counted
    as they stream in (chunked uploads declare no length), and reading past
    the limit raises :class:`BodyTooLarge` into the application, whose HTTP
    error handler answers it. Pure ASGI, so nothing is buffered here.

    Time: waiting more than ``idle_timeout`` seconds for the next piece of a
    body, or reading it past ``timeout`` seconds after the request arrived
    (``path_timeouts`` per path: an upload may take longer), raises
    :class:`BodyTimeout` the same way (408, ``Connection: close``), so a client
    dripping a body byte by byte cannot hold a connection, a temporary file and
    a task for ever. ``None`` turns a bound off.
    """

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, path_limits: Mapping[str, int] | None = None,
        *, idle_timeout: float | None = None, timeout: float | None = None,
        path_timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_limits = dict(path_limits or {})
        self.idle_timeout = idle_timeout
        self.timeout = timeout
        self.path_timeouts = dict(path_timeouts or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.max_body_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await self._refuse(scope, receive, send, limit)
                    return
        received = 0
        started = False
        total = self.path_timeouts.get(scope.get("path", ""), self.timeout)
        deadline = None if total is None else time.monotonic() + total

        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:  # e.g. waiting for http.disconnect while streaming an answer
                return await receive()
            wait = self.idle_timeout
            if deadline is not None:
                left = deadline - time.monotonic()
                wait = left if wait is None else min(wait, left)
            if wait is None:
                return await receive()
            try:
                return await within(receive(), max(0.0, wait))
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise BodyTimeout(f"The request body was not complete within {total:g} "
                                      "seconds.") from None
                raise BodyTimeout(f"The request body stalled: nothing arrived for "
                                  f"{self.idle_timeout:g} seconds.") from None

        async def limited_receive() -> Message:
            nonlocal received, body_done
            message = await timed_receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Only when the application let it escape (e.g. no route read it
            # through FastAPI's handler); the usual path is the 413 handler.
            if started:
                raise
            await self._refuse(scope, receive, send, limit)
        except BodyTimeout as e:  # the same for a slow body (the usual path: the handler)
            if started:
                raise
            await problem(408, str(e.detail), title=e.title, type_=TYPE_BODY_TIMEOUT,
                          instance=scope.get("path") or None,
                          headers={"connection": "close"})(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        path = scope.get("path", "")
        response = problem(
            413,
            f"The request body is larger than the limit of {limit} bytes.",
            type_=TYPE_BODY_TOO_LARGE,
            instance=path or None,
            headers={"connection": "close"},
        )
        await response(scope, receive, send)
