"""Dependencies and response parts shared by the API's routers.

The lifespan builds one :class:`~api.services.container.Services` and keeps it
on ``app.state.services``; :func:`get_services` is the one reader of it, and
the other dependencies here are parts of it (``Annotated`` aliases), so that a
test can override one (``app.dependency_overrides``) and every router answers
findings with the same documented model.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Authenticator
from api.jobs import JobBackend
from api.samples import SampleStore
from api.services.container import Services
from api.services.history import ScanHistory
from api.services.lists import ListService
from api.services.webhooks import WebhookService
from api.settings import Settings
from api.wiring import LiveScanners
from scanners.rules import Severity
from scanners.url_offline import OfflineURLScanner

M = TypeVar("M", bound=BaseModel)

Lang = Literal["vi", "en"]
LangQuery = Annotated[
    Lang | None,
    Query(description="Language of titles and reasons; the server default (`vi`) when absent."),
]
WaitQuery = Annotated[
    float,
    Query(ge=0, le=60, description="Seconds (0-60) to wait for the scan to finish before "
          "answering; 0 answers at once."),
]



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


def json_response(content: Any, status_code: int = 200) -> Response:
    """``content`` (plain JSON types) as an ``application/json`` response, encoded by
    orjson. A route on the hot path answers this instead of a dict: FastAPI then skips
    validating the dict against the route's ``response_model`` and encoding it again,
    about a fifth of a link scan's time in the API (docs/evaluation.md, "Service
    load"); the ``response_model`` still documents the answer in OpenAPI."""
    return Response(orjson.dumps(content), status_code=status_code,
                    media_type="application/json")


def services_of(request: Request) -> Services:
    """The app's services, built by its lifespan (:func:`api.services.container.open_services`)."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The app's services (:func:`services_of`), as a dependency."""
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]
# The readers are coroutines on purpose: FastAPI runs a plain ``def`` dependency in
# its thread pool, a hop per dependency on every request.


async def get_app_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_scanner(services: ServicesDep) -> OfflineURLScanner:
    return services.scanner


async def get_live(services: ServicesDep) -> LiveScanners:
    return services.live


async def get_jobs(services: ServicesDep) -> JobBackend:
    return services.jobs


async def get_samples(services: ServicesDep) -> SampleStore:
    return services.samples


async def get_history(services: ServicesDep) -> ScanHistory:
    return services.history


async def get_lists(services: ServicesDep) -> ListService:
    return services.lists


async def get_auth(services: ServicesDep) -> Authenticator:
    return services.auth


async def get_webhooks(services: ServicesDep) -> WebhookService:
    return services.webhooks


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ScannerDep = Annotated[OfflineURLScanner, Depends(get_scanner)]
LiveDep = Annotated[LiveScanners, Depends(get_live)]
JobsDep = Annotated[JobBackend, Depends(get_jobs)]
SamplesDep = Annotated[SampleStore, Depends(get_samples)]
HistoryDep = Annotated[ScanHistory, Depends(get_history)]
ListsDep = Annotated[ListService, Depends(get_lists)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
WebhooksDep = Annotated[WebhookService, Depends(get_webhooks)]


async def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (``application/json`` or ``*+json``).
    A coroutine, not a ``def``: see :func:`get_services`'s note on the thread pool."""
    if not _declares_json(request):
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        shown = f"{media!r}" if media else "no content type"
        raise HTTPException(
            415, f"The request body must be JSON (Content-Type: application/json), got {shown}."
        )


async def _overridable(request: Request, dependency: Callable[..., Any], value: Any) -> Any:
    """``value``, or what the app's ``dependency_overrides`` give for ``dependency`` (a
    callable of no arguments, plain or async)."""
    overrides: dict[Any, Any] = getattr(request.app, "dependency_overrides", None) or {}
    override = overrides.get(dependency)
    if override is None:
        return value
    result = override()
    return await result if inspect.isawaitable(result) else result


async def scan_parts(request: Request) -> tuple[Services, OfflineURLScanner, LiveScanners]:
    """The services, the offline scanner and the live checks, as :data:`ServicesDep`,
    :data:`ScannerDep` and :data:`LiveDep` give them (``dependency_overrides`` of
    :func:`get_scanner` and :func:`get_live` included, for tests), for a route that
    skips FastAPI's dependency solving (``POST /v1/url-scans``)."""
    services = services_of(request)
    scanner = await _overridable(request, get_scanner, services.scanner)
    live = await _overridable(request, get_live, services.live)
    return services, scanner, live


NO_BODY: Any = object()
"""What :func:`read_json_body` answers for an empty body."""


def _declares_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json"))


async def read_json_body(request: Request) -> Any:
    """The request's body, decoded when it is declared as JSON (else its bytes;
    :data:`NO_BODY` when empty), with the errors FastAPI gives while reading a body
    parameter, before any dependency runs: the 413 and 408 of the body limits as they
    are, a :class:`~fastapi.exceptions.RequestValidationError` of type
    ``json_invalid`` (with the character's position) for malformed JSON, and a 400
    for a body that cannot be read or decoded at all (not UTF-8...), so that
    :mod:`api.problems` answers the same problems. Decoded with the standard
    library's ``json``, as FastAPI does, so what a body may contain is unchanged."""
    try:
        raw = await request.body()
    except StarletteHTTPException:
        raise
    except Exception as e:
        raise HTTPException(400, "There was an error parsing the body") from e
    if not raw:
        return NO_BODY
    if not _declares_json(request):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise RequestValidationError([{
            "type": "json_invalid", "loc": ("body", e.pos), "msg": "JSON decode error",
            "input": {}, "ctx": {"error": e.msg}}], body=e.doc) from e
    except Exception as e:
        raise HTTPException(400, "There was an error parsing the body") from e


def validate_body(data: Any, model: type[M]) -> M:
    """``data`` (from :func:`read_json_body`) validated as ``model``, with the
    :class:`~fastapi.exceptions.RequestValidationError` FastAPI raises for a body
    parameter (locations starting with ``body``), answered as the same 422 problem."""
    if data is NO_BODY:
        raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                       "msg": "Field required", "input": None}])
    try:
        return model.model_validate(data, from_attributes=True)
    except ValidationError as e:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err.get("loc", ()))}
             for err in e.errors(include_url=False)], body=data) from None
