"""The HTTP API: a thin FastAPI edge over :mod:`scanners`.

Run it with ``scamscan serve`` or ``uvicorn api.main:app``. Routes:

* ``POST /v1/url-scans``: scan one link offline and explain the score;
* ``POST /v1/apk-scans``: upload an Android app (multipart ``file``) to scan;
* ``GET /v1/scans/{scan_id}``: the status of an APK scan and, once done, its report;
  for a link scan (``kind: url``) or a message check (``kind: message``), its stored
  report (re-titled in ``lang``);
* ``GET /v1/scans?q=&kind=url|apk|message&verdict=&page=1&per_page=20``: the scan history,
  newest first (a ``client`` key sees its own scans; see :mod:`api.services.history`);
* ``GET /v1/scans/{scan_id}/export?format=json``: the scan with its report as a
  JSON download (``content-disposition: attachment``);
* ``GET /v1/scans/{scan_id}/export?format=stix``: a STIX 2.1 bundle
  (``application/stix+json;version=2.1``, :mod:`scanners.stix`); a safe verdict
  gives a bundle without indicators, an unfinished or failed scan a 409 problem;
* ``GET /v1/rules``: the rule catalogue and the verdict thresholds;
* ``GET /healthz``: liveness, version and the bundled lists;
* ``GET /readyz``, ``GET /metrics``: readiness and Prometheus metrics (:mod:`api.observability`);
* ``GET|POST /v1/keys``, ``DELETE /v1/keys/{key_id}``: API keys (admin);
* ``/v1/lists/...``: list sources, analyst entries and feeds (:mod:`api.routes.lists`);
* ``/v1/feedback``: feedback on verdicts and the analysts' queue (:mod:`api.routes.feedback`);
* ``POST /v1/scans/{scan_id}/share``, ``DELETE /v1/shares/{token}``: share links
  (:mod:`api.routes.shares`), whose public page is ``GET /s/<token>`` (:mod:`api.console.public`);
* ``/docs`` (Swagger UI), ``/redoc`` and ``/openapi.json``: the documentation, its
  assets bundled (:mod:`api.routes.docs`, no CDN).

Scans need an API key (``X-API-Key``) with at least the ``client`` role, or
keyless local use; ``/v1/rules``, ``/healthz`` and the docs are public. See
:mod:`api.auth`.

No domain logic lives here: this module assembles the app. The routers are in
:mod:`api.routes` (one per resource), their dependencies in :mod:`api.deps`
over the :class:`~api.services.container.Services` that :func:`lifespan` opens
(:mod:`api.services`, over :mod:`api.storage`); errors become problem+json in
:mod:`api.problems`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import observability
from api.auth import document_ratelimit_headers
from api.problems import (
    EXCEPTION_HANDLERS,
    PROBLEM_JSON,
    BodySizeLimitMiddleware,
    problem_responses,
)
from api.routes import API_ROUTERS, LAST_ROUTERS
from api.routes.docs import STATIC_PREFIX as DOCS_STATIC
from api.routes.docs import docs_static
from api.routes.scans import STIX_MEDIA_TYPE
from api.samples import MULTIPART_OVERHEAD
from api.services.container import Services, open_services
from api.settings import Settings, get_settings
from api.version import VERSION
from scanners import rules
from scanners.fetch import Resolver

log = logging.getLogger("scamscan.api")

__all__ = ["STIX_MEDIA_TYPE", "VERSION", "app", "create_app", "lifespan"]


def _loop_name() -> str:
    """``asyncio`` or ``uvloop``: the package of the running loop's class (the start-up
    line names it, since ``SCAMSCAN_EVENT_LOOP`` changes how a busy server queues)."""
    return type(asyncio.get_running_loop()).__module__.split(".", 1)[0]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the app's :class:`~api.services.container.Services` (``app.state.services``)
    for its life, and close them (and the metrics) at the end."""
    settings: Settings = app.state.settings
    services: Services = await open_services(settings, resolver=app.state.resolver)
    app.state.services = services
    log.info("scamscan %s ready: %d rules, %d lists, %s event loop", VERSION,
             len(rules.CATALOGUE), len(services.bundled_lists), _loop_name())
    try:
        yield
    finally:
        await observability.aclose(app)  # never raises
        await services.aclose()


def _problem_only_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Document error responses as problem+json only (FastAPI adds application/json).

    An error FastAPI documents on its own (the 422 of a route with parameters
    whose ``responses=`` names no 422) is rewritten to the problem+json that the
    handlers of :mod:`api.problems` really answer. Every operation that takes a
    body also documents the 400 (a body FastAPI cannot decode), the 408 (a body
    too slow) and the 413 (:class:`~api.problems.BodySizeLimitMiddleware`) that
    any such route may answer. The RateLimit fields are described on the responses of
    the routes that need a key (:func:`api.auth.document_ratelimit_headers`).
    """
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
            for path in schema.get("paths", {}).values():
                for op in path.values():
                    if "requestBody" in op:
                        for status, desc in (("400", "Bad Request"),
                                             ("408", "Request Timeout"),
                                             ("413", "Content Too Large")):
                            op.setdefault("responses", {}).setdefault(status, {
                                "description": desc, "content": {PROBLEM_JSON: problem_ref}})
                    for status, resp in op.get("responses", {}).items():
                        content = resp.get("content", {})
                        if status[:1] not in "45":
                            continue
                        if PROBLEM_JSON not in content and "application/json" in content:
                            content[PROBLEM_JSON] = problem_ref
                        if PROBLEM_JSON in content:
                            content.pop("application/json", None)
            document_ratelimit_headers(schema)
            schemas = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                if f'"#/components/schemas/{unused}"' not in json.dumps(schema):
                    schemas.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def create_app(settings: Settings | None = None, *, resolver: Resolver | None = None) -> FastAPI:
    """The API application; ``settings`` default to the environment's.

    ``resolver`` replaces the system DNS resolver of the live fetch (tests).
    """
    settings = settings or get_settings()
    observability.configure_logging(settings.log_level, settings.log_format)
    app = FastAPI(
        title="scamscan",
        version=VERSION,
        summary="Is this link a Vietnamese scam? An explainable 0-100 risk score.",
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
        responses=problem_responses(500),
        # /docs and /redoc are api.routes.docs: the same pages over bundled assets.
        docs_url=None,
        redoc_url=None,
    )
    # What the lifespan builds the services from; nothing else is kept on app.state
    # but the services and the metrics (api.observability).
    app.state.settings = settings
    app.state.resolver = resolver
    for build in API_ROUTERS:
        app.include_router(build(settings))
    # The analyst console (api/console): its static files and pages (its router ends
    # with a catch-all page), and the public page of share links (/s/<token>).
    from api.console.app import include_console

    include_console(app)
    app.mount(DOCS_STATIC, docs_static(), name="docs-static")
    for build in LAST_ROUTERS:
        app.include_router(build(settings))
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        # The upload has its own bound: the file limit plus the multipart framing.
        path_limits={"/v1/apk-scans": settings.max_apk_bytes + MULTIPART_OVERHEAD,
                     "/v1/url-scans/batch": settings.batch_max_body_bytes},
        # Slow bodies (a stalled or dripping upload) end with a 408 problem.
        idle_timeout=settings.body_idle_timeout,
        timeout=settings.body_timeout,
        path_timeouts={"/v1/apk-scans": settings.upload_timeout},
    )
    # Metrics, /readyz, /metrics, request ids and the access log (outermost).
    observability.install(app, settings)
    app.openapi = _problem_only_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
