"""The API's routers: one module per resource, each with ``build(settings) -> APIRouter``
(an :class:`api.routing.Router`, which a request for another resource's path passes over
at once).

:func:`api.main.create_app` includes :data:`API_ROUTERS` in this order (the
order of the OpenAPI document), then the console, then :data:`LAST_ROUTERS`.
A new endpoint goes in the module of its resource, or in a new module here
listed below (see ``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter

from api.routes import (
    apk_scans,
    docs,
    feedback,
    keys,
    lists,
    messages,
    ops,
    scans,
    shares,
    url_scans,
)
from api.settings import Settings

RouterBuilder = Callable[[Settings], APIRouter]

API_ROUTERS: tuple[RouterBuilder, ...] = (
    url_scans.build,  # POST /v1/url-scans
    apk_scans.build,  # POST /v1/apk-scans
    scans.build,  # GET /v1/scans, /v1/scans/{scan_id}, /v1/scans/{scan_id}/export
    keys.build,  # /v1/keys (admin)
    lists.build,  # /v1/lists/... (analyst, admin)
    messages.build,  # POST /v1/message-checks
    feedback.build,  # /v1/feedback (client sends, analyst resolves)
    shares.build,  # POST /v1/scans/{scan_id}/share, /v1/scans/{scan_id}/shares, /v1/shares
)
"""Routers included before the console's."""

LAST_ROUTERS: tuple[RouterBuilder, ...] = (
    ops.build,  # GET /v1/rules, /healthz
    docs.build,  # GET /docs, /redoc (assets: api.routes.docs.docs_static)
)
"""Routers included after the console's."""
