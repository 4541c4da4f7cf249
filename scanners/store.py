"""The store: a small key-value cache with expiry, in-process or on Redis.

Scanners that remember things between scans (domain ages, later the job
records and lists) go through :class:`Store`, never through a backend
directly, so that the embedded default and a Redis deployment behave alike.

* :class:`MemoryStore`: the embedded default, bounded, per process.
* :class:`RedisStore`: ``SCAMSCAN_REDIS_URL``; shared by every API and worker
  replica.
* :func:`open_store`: the one or the other, from an optional Redis URL.

Both backends give the same meaning to ``ttl``: a positive number of seconds
(fractions allowed); a ``ttl`` of zero or less removes the key instead of
storing a value that would already be expired.

Backend failures raise :class:`~scanners.errors.StoreError`; callers treat a
failed cache read as a miss.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import redis.asyncio as aioredis
from cachetools import TLRUCache
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from scanners.errors import StoreError


@runtime_checkable
class Store(Protocol):
    """A key-value cache whose entries expire."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def _expires_at(_key: str, entry: tuple[bytes, float], now: float) -> float:
    return now + entry[1]


class MemoryStore:
    """The in-process store: a bounded LRU whose entries each carry their own TTL.

    Backed by :class:`cachetools.TLRUCache`. When ``max_entries`` is reached,
    expired entries go first, then the least recently used. ``clock`` is a
    monotonic clock in seconds, injectable so that tests can move time.

    The methods never await while they touch the cache, so concurrent
    coroutines on one event loop cannot interleave inside an operation; the
    lock covers callers on other threads (a worker thread, a second loop),
    because cachetools itself is not thread-safe.
    """

    def __init__(
        self, max_entries: int = 10000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._cache: TLRUCache[str, tuple[bytes, float], float] = TLRUCache(
            maxsize=max_entries, ttu=_expires_at, timer=clock
        )
        self._lock = threading.Lock()

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        with self._lock:
            entry = self._cache.get(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``ttl <= 0`` deletes it)."""
        if not isinstance(value, bytes):
            raise TypeError("store values are bytes")
        with self._lock:
            if not ttl > 0 or not math.isfinite(ttl):
                self._cache.pop(key, None)
                return
            self._cache[key] = (value, float(ttl))

    async def close(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        """Entries held, expired ones not yet evicted included."""
        with self._lock:
            return len(self._cache)


class RedisStore:
    """The store on Redis (``redis.asyncio``), shared by every replica.

    Keys are ``prefix + key``; expiry is Redis's own (``SET … PX``), so the
    value disappears for every replica at once. ``timeout`` bounds connecting
    and each command: a cache must never hold a scan up for long. Every Redis
    or connection error is raised as :class:`~scanners.errors.StoreError`.
    """

    def __init__(self, url: str, prefix: str = "scamscan:", *, timeout: float = 2.0,
                 client: aioredis.Redis | None = None) -> None:
        self.prefix = prefix
        if client is not None:  # the service's, from api.storage.redis
            self._redis: aioredis.Redis = client
            return
        try:
            # Not retried (redis-py's default retries a time-out ten times).
            self._redis = aioredis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        except (ValueError, RedisError) as e:
            raise StoreError(f"invalid Redis URL: {e}") from e

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        try:
            value = await self._redis.get(self.prefix + key)
        except (RedisError, OSError, TimeoutError) as e:
            raise StoreError(f"Redis GET failed: {e}") from e
        if value is None:
            return None
        # The client is built without decode_responses, so this is bytes;
        # the branch only satisfies redis-py's declared ``bytes | str``.
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``ttl <= 0`` deletes it)."""
        if not isinstance(value, bytes):
            raise TypeError("store values are bytes")
        try:
            if not ttl > 0 or not math.isfinite(ttl):
                await self._redis.delete(self.prefix + key)
                return
            # Milliseconds, rounded up: a sub-second TTL must not become 0,
            # which Redis rejects.
            await self._redis.set(self.prefix + key, value, px=max(1, math.ceil(ttl * 1000)))
        except (RedisError, OSError, TimeoutError) as e:
            raise StoreError(f"Redis SET failed: {e}") from e

    async def ping(self) -> None:
        """Raise :class:`StoreError` unless Redis answers."""
        try:
            await self._redis.ping()
        except (RedisError, OSError, TimeoutError) as e:
            raise StoreError(f"Redis PING failed: {e}") from e

    async def close(self) -> None:
        """Close the connection pool."""
        try:
            await self._redis.aclose()
        except (RedisError, OSError, TimeoutError) as e:
            raise StoreError(f"closing Redis failed: {e}") from e


def open_store(redis_url: str | None, *, client: aioredis.Redis | None = None) -> Store:
    """A :class:`RedisStore` for ``redis_url`` (through ``client`` when given), or a
    :class:`MemoryStore` when it is unset."""
    if redis_url:
        return RedisStore(redis_url, client=client)
    return MemoryStore()
