"""An httpx client on a real app with its lifespan entered, for the API and console tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from api.settings import Settings
from tests.live_servers_age import RedisServer


@asynccontextmanager
async def running(
    app: FastAPI, *, raise_app_exceptions: bool = True, client_timeout: float = 5.0,
    base_url: str = "http://127.0.0.1", client: tuple[str, int] = ("127.0.0.1", 123),
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``app`` with its lifespan entered (scanners and jobs are built there);
    ``client`` is the address the app sees the requests come from."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions,
                                        client=client)
        async with httpx.AsyncClient(transport=transport, base_url=base_url,
                                     timeout=client_timeout) as c:
            yield c


CONSOLE_KEYS = (("client", "client"), ("analyst", "analyst"), ("admin", "admin"))
"""A key of each role: (name, role); each key is made as ``t-<name>``."""


@asynccontextmanager
async def keyed_app(
    settings: Settings, keys: Sequence[tuple[str, str]] = CONSOLE_KEYS, *,
    base_url: str = "http://127.0.0.1", client_timeout: float = 10.0,
    client: tuple[str, int] = ("127.0.0.1", 123),
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, dict[str, str]]]:
    """The app, the API keys ``keys`` made through its key store (``t-<name>``), and a
    cookie-keeping client; the secrets by name."""
    app = create_app(settings)
    async with running(app, client_timeout=client_timeout, base_url=base_url,
                       client=client) as c:
        made: dict[str, str] = {}
        for name, role in keys:
            _, made[name] = await app.state.services.auth.store.create(f"t-{name}", role)
        if keys:
            app.state.services.auth.invalidate()
        yield app, c, made


API_KEYS = (("client", "client"), ("client2", "client"), ("analyst", "analyst"),
            ("admin", "admin"))
"""The keys of :func:`api_in_mode`: two clients (one's scans are not the other's)."""


@asynccontextmanager
async def api_in_mode(
    tmp_path: Path, mode: str, request: pytest.FixtureRequest, *,
    keys: Sequence[tuple[str, str]] = API_KEYS, client_timeout: float = 30.0, **kw: Any,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, dict[str, dict[str, str]]]]:
    """The app embedded (``mode="sqlite"``) or on the run's redis-server (``"redis"``),
    with ``keys``; their ``X-API-Key`` headers by name. The requests come from
    127.0.0.1:50000."""
    if mode == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        kw["redis_url"] = server.url
    kw.setdefault("log_level", "WARNING")
    settings = Settings(data_dir=tmp_path / "data", apk_workers=1, **kw)
    async with keyed_app(settings, keys, client_timeout=client_timeout,
                         client=("127.0.0.1", 50000)) as (app, c, made):
        yield app, c, {name: {"X-API-Key": secret} for name, secret in made.items()}
