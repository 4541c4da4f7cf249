"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.live_servers_age import RedisServer


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, the server's loop."""
    return "asyncio"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real ``redis-server`` (Debian's) on a free loopback port, for one test."""
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def rdb(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of :func:`redis_server`."""
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    yield client
    client.close()
