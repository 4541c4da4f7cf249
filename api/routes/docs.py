"""The interactive API documentation, served from bundled assets: ``GET /docs``
(Swagger UI) and ``GET /redoc`` (ReDoc), both over ``/openapi.json``.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which leaves a blank
page without internet access. The app turns them off (``docs_url=None``,
``redoc_url=None``) and serves the same pages, built by FastAPI's
:func:`~fastapi.openapi.docs.get_swagger_ui_html` and
:func:`~fastapi.openapi.docs.get_redoc_html`, over the files in
``api/static/docs/`` (versions and licences in its ``README.md``), mounted at
:data:`STATIC_PREFIX` by :func:`docs_static`.

Both pages and their assets carry a Content-Security-Policy that allows only
this origin: the one inline script of the Swagger UI page (its configuration)
by its SHA-256 hash, inline styles (both libraries set styles at run time),
``data:`` images and ``blob:`` workers (ReDoc's search). The console keeps its
own stricter policy (:mod:`api.console.routes`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from api.routing import Router
from api.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "docs"
"""Swagger UI and ReDoc, copied from their npm packages (shipped as package data)."""
STATIC_PREFIX = "/docs/static"
OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
TITLE = "scamscan"

SWAGGER_UI_PARAMETERS = {
    # FastAPI's defaults, and no online validator badge (an image from another host).
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    "validatorUrl": None,
}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def csp(html: str = "") -> str:
    """The Content-Security-Policy of a docs page (or asset): this origin only, and
    the inline scripts of ``html`` by hash."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in _INLINE_SCRIPT.findall(html))
    return ("default-src 'self'; "
            f"script-src 'self'{hashes}; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; "
            "font-src 'self'; "
            "connect-src 'self'; "
            "worker-src 'self' blob:; "
            "object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _secure(response: Response, policy: str) -> Response:
    response.headers["content-security-policy"] = policy
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "no-referrer"
    return response


def _page(response: HTMLResponse) -> HTMLResponse:
    """A fixed page: its bytes and headers, computed once."""
    html = bytes(response.body).decode()
    page = HTMLResponse(html)
    _secure(page, csp(html))
    return page


class DocsStatic(StaticFiles):
    """The bundled Swagger UI and ReDoc files, with the docs' security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        return _secure(response, csp())


def docs_static() -> DocsStatic:
    """The app mounts this at :data:`STATIC_PREFIX`."""
    return DocsStatic(directory=STATIC_DIR)


def build(settings: Settings) -> APIRouter:  # every router takes the settings
    """``GET /docs`` and ``GET /redoc``, public and not in the OpenAPI document."""
    swagger = _page(get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{TITLE} - Swagger UI",
        swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PREFIX}/favicon-32x32.png",
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    ))
    redoc = _page(get_redoc_html(
        openapi_url=OPENAPI_URL,
        title=f"{TITLE} - ReDoc",
        redoc_js_url=f"{STATIC_PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{STATIC_PREFIX}/favicon-32x32.png",
        with_google_fonts=False,
    ))
    router = Router(include_in_schema=False)

    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger.body, headers=dict(swagger.headers))

    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc.body, headers=dict(redoc.headers))

    router.add_api_route(DOCS_URL, swagger_ui, methods=["GET"])
    router.add_api_route(REDOC_URL, redoc_ui, methods=["GET"])
    return router
