"""An httpx client on a real app with its lifespan entered, for the API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def running(
    app: FastAPI, *, raise_app_exceptions: bool = True, client_timeout: float = 5.0
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``app`` with its lifespan entered (scanners and jobs are built there)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     timeout=client_timeout) as c:
            yield c
