"""Every Redis client of the service is built here, with bounded waits.

A Redis that stops answering (a frozen process, a paused VM, a black-holed
network) must cost a request about ``SCAMSCAN_REDIS_TIMEOUT`` seconds, then a
503 problem, never the 12-21 s that redis-py's defaults add up to. Three
things make that so:

* **Time-outs.** ``socket_timeout`` and ``socket_connect_timeout`` are the
  configured time-out, for every client.
* **No retry that multiplies them.** redis-py 8 retries a failed command ten
  times by default, time-outs included. Here a command is retried once, and
  only after a *connection* error (a pooled connection that a Redis restart
  broke answers that at once); a time-out is not retried.
* **A short memory of time-outs** (:class:`Outages`). Once a command to a
  server timed out, the async clients of this process fail fast
  (:class:`RedisUnavailable`) for the next time-out's length instead of
  each waiting out its own: one request touches Redis several times (the key
  check, the rate limit, the job record, the history) and would otherwise
  wait once per touch. The first answer from the server ends that early.
  It lives in a connection class (redis-py's own extension point), so every
  command, pipeline and script of every client built here goes through it.
  No library does this for redis-py's asyncio client (its circuit breakers
  come with the multi-database client only).

The worker's clients (:func:`sync_client`, dramatiq's broker and the
heartbeat) get the same time-outs and retry rule, without the memory: a
worker serves no requests, and its threads each recover on their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from api.storage.errors import StorageUnavailable

DEFAULT_TIMEOUT = 2.0
"""Seconds, when no setting is at hand (``Settings.redis_timeout`` has the same default)."""


class RedisUnavailable(RedisConnectionError):
    """A command not sent: the server timed out moments ago (see :class:`Outages`)."""


class Outages:
    """Servers that timed out recently, by address, until when (``time.monotonic``)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def check(self, where: str) -> None:
        """Raise :class:`RedisUnavailable` while ``where`` is marked as not answering."""
        until = self._until.get(where)
        if until is not None and time.monotonic() < until:
            raise RedisUnavailable(f"Redis at {where} did not answer in time moments ago; "
                                   f"not asking again for {until - time.monotonic():.1f} s")

    def trip(self, where: str, seconds: float) -> None:
        """Mark ``where`` as not answering for ``seconds``."""
        self._until[where] = time.monotonic() + seconds

    def clear(self, where: str) -> None:
        """``where`` answered: forget its time-out."""
        if where in self._until:
            self._until.pop(where, None)


OUTAGES = Outages()
"""This process's memory of time-outs, shared by every async client."""


class _Guarded(AbstractConnection):
    """A connection that fails fast while its server is in :data:`OUTAGES`."""

    def _where(self) -> str:
        path = getattr(self, "path", None)
        if path:
            return str(path)
        return f"{getattr(self, 'host', '?')}:{getattr(self, 'port', '?')}"

    def _trip(self) -> None:
        OUTAGES.trip(self._where(), float(self.socket_timeout or DEFAULT_TIMEOUT))

    async def connect(self) -> None:
        # Called whenever a client takes a connection from its pool: the place to
        # refuse before a command is written.
        OUTAGES.check(self._where())
        try:
            await super().connect()  # type: ignore[no-untyped-call]  # redis-py: untyped
        except RedisTimeoutError:
            self._trip()
            raise

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = await super().read_response(*args, **kwargs)
        except RedisTimeoutError:
            self._trip()
            raise
        OUTAGES.clear(self._where())
        return response


class GuardedConnection(_Guarded, Connection):
    """``redis://``."""


class GuardedSSLConnection(_Guarded, SSLConnection):
    """``rediss://``."""


class GuardedUnixConnection(_Guarded, UnixDomainSocketConnection):
    """``unix://``."""


def _connection_class(url: str) -> type[AbstractConnection]:
    scheme = url.split("://", 1)[0].lower()
    if scheme == "rediss":
        return GuardedSSLConnection
    if scheme == "unix":
        return GuardedUnixConnection
    return GuardedConnection


def _options(timeout: float, *, asynchronous: bool) -> dict[str, Any]:
    # Retried once, after a broken connection only (never after a time-out).
    retry = (AsyncRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
             if asynchronous else Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": retry}


def async_pool(url: str, timeout: float = DEFAULT_TIMEOUT,
               **options: Any) -> aioredis.ConnectionPool:
    """A connection pool for ``url`` (for libraries that take a pool, e.g. ``limits``)."""
    return aioredis.ConnectionPool.from_url(
        url, connection_class=_connection_class(url), **_options(timeout, asynchronous=True),
        **options)


def async_client(url: str, timeout: float = DEFAULT_TIMEOUT, **options: Any) -> aioredis.Redis:
    """An asyncio client of ``url`` whose every command is bounded by ``timeout`` seconds.

    ``options`` go to :meth:`redis.asyncio.Redis.from_url` (e.g. ``decode_responses``).
    Raises ``ValueError`` for an invalid URL.
    """
    return aioredis.Redis.from_url(url, connection_class=_connection_class(url),
                                   **_options(timeout, asynchronous=True), **options)


def sync_client(url: str, timeout: float = DEFAULT_TIMEOUT, **options: Any) -> redis.Redis:
    """A blocking client of ``url`` (the worker, dramatiq, health checks), same bounds."""
    return redis.Redis.from_url(url, **_options(timeout, asynchronous=False), **options)


def store_client(url: str, timeout: float, unavailable: type[StorageUnavailable],
                 **options: Any) -> aioredis.Redis:
    """:func:`async_client` for a store: an invalid URL is the store's own failure
    (``unavailable``), as any other Redis trouble of that store is."""
    try:
        return async_client(url, timeout, **options)
    except (ValueError, RedisError) as e:
        raise unavailable(f"invalid Redis URL: {e}") from e


@contextmanager
def store_errors(unavailable: type[StorageUnavailable], store: str, what: str
                 ) -> Iterator[None]:
    """Raise a Redis failure (an error, a lost connection, a time-out) inside the block
    as the store's own ``unavailable``, saying which store and what it was doing: callers
    catch one exception per store, never redis-py's."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as e:
        raise unavailable(f"the Redis {store} store failed ({what}): {e}") from e


def as_text(value: bytes | str) -> str:
    """A reply as text: redis-py declares ``bytes | str`` whether or not it decodes."""
    return value.decode("utf-8") if isinstance(value, bytes) else value
