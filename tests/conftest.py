"""Fixtures shared by every test module, and the markers they imply.

Markers (registered in ``pyproject.toml``; ``make test-fast`` leaves out ``slow``
and ``browser``):

* ``redis``: the test talks to a real ``redis-server``. Tests using the
  :func:`redis_server`, :func:`rdb` or :func:`own_redis_server` fixtures get it
  automatically; a test that starts its own server is marked by hand.
* ``browser``: the test drives Debian's Chromium through Playwright.
* ``slow``: the test takes more than about two seconds on the project's machines.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from api import observability
from tests.live_servers_age import RedisServer

_REDIS_FIXTURES = frozenset({"redis_server", "rdb", "own_redis_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a Redis fixture with ``redis``."""
    for item in items:
        if _REDIS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, the server's loop."""
    return "asyncio"


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real ``redis-server`` (Debian's) on a free loopback port for the whole run:
    starting one per test cost more than most Redis tests themselves."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_server(redis_session: RedisServer) -> Iterator[RedisServer]:
    """The run's ``redis-server``, emptied (``FLUSHALL``) before this test.

    A test may pause it (SIGSTOP) if it resumes it; a test that stops the server
    for good takes :func:`own_redis_server` instead."""
    if not redis_session.ping():
        pytest.fail("the shared redis-server no longer answers: a test stopped it "
                    "(use the own_redis_server fixture to stop one)", pytrace=False)
    client = redis.Redis.from_url(redis_session.url, socket_timeout=5)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_session


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` for this test alone, which it may stop."""
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def rdb(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of :func:`redis_server`."""
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the ``scamscan`` loggers write through the JSON formatter
    (read it with :func:`tests.json_logs.json_lines`)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(observability.json_formatter())
    logger = logging.getLogger("scamscan")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield buf
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
