"""An httpx client on a real app with its lifespan entered, for the API and console tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from api.main import create_app
from api.settings import Settings


@asynccontextmanager
async def running(
    app: FastAPI, *, raise_app_exceptions: bool = True, client_timeout: float = 5.0,
    base_url: str = "http://127.0.0.1",
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``app`` with its lifespan entered (scanners and jobs are built there)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url=base_url,
                                     timeout=client_timeout) as c:
            yield c


@asynccontextmanager
async def console_app(
    settings: Settings, *, keys: bool = True, base_url: str = "http://127.0.0.1",
    client_timeout: float = 10.0,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, dict[str, str]]]:
    """The app, a key of each role (``t-client``, ``t-analyst``, ``t-admin``; none with
    ``keys=False``) and a cookie-keeping client: what the console tests sign in with."""
    app = create_app(settings)
    async with running(app, client_timeout=client_timeout, base_url=base_url) as c:
        made: dict[str, str] = {}
        if keys:
            for role in ("client", "analyst", "admin"):
                _, made[role] = await app.state.services.auth.store.create(f"t-{role}", role)
            app.state.services.auth.invalidate()
        yield app, c, made
