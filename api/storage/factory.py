"""The one place that picks SQLite (or memory) or Redis for every store.

``SCAMSCAN_REDIS_URL`` set: every store is on Redis, shared by the API
replicas and ``scamscan worker``. Unset: the embedded default, SQLite files in
``SCAMSCAN_DATA_DIR`` (console sessions and rate limits in process memory).
The live checks' cache (:func:`open_cache_store`) and the rate limits
(:func:`open_limit_storage`) too. The APK job backend (the embedded process
pool or the Redis queue) is picked by :func:`api.services.container.open_jobs`
on the same switch (the job modules import the web framework's upload types).

A new backend goes here: implement the store's protocol (e.g.
:class:`api.storage.lists.ListStore`) in a module of this package, raise the
store's :class:`~api.storage.errors.StorageUnavailable` subclass on failure,
and pick it below.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.storage import prefixes
from api.storage.apikeys import (
    KeyStore,
    RedisKeyStore,
    SqliteKeyStore,
    keys_made_marker,
)
from api.storage.feedback import (
    FeedbackStore,
    RedisFeedbackStore,
    SqliteFeedbackStore,
)
from api.storage.files import (
    FEEDBACK_FILE,
    HISTORY_FILE,
    KEYS_FILE,
    LISTS_FILE,
    SHARES_FILE,
    WEBHOOKS_FILE,
)
from api.storage.history import HistoryBackend, RedisHistory, SqliteHistory
from api.storage.limits_memory import SpacedMemoryStorage
from api.storage.limits_redis import WindowedRedisStorage
from api.storage.lists import ListStore, RedisListStore, SqliteListStore
from api.storage.redis import DEFAULT_TIMEOUT, async_client, async_pool
from api.storage.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from api.storage.shares import RedisShareStore, ShareStore, SqliteShareStore
from api.storage.webhooks import (
    RedisWebhookStore,
    SqliteWebhookStore,
    WebhookStore,
)
from scanners.store import Store, open_store


@dataclass
class Storage:
    """The stores of one API process (see :func:`open_storage`)."""

    keys: KeyStore
    lists: ListStore
    history: HistoryBackend
    sessions: SessionStore
    feedback: FeedbackStore
    shares: ShareStore


def open_key_store(data_dir: Path, redis_url: str | None, *,
                   redis_timeout: float = DEFAULT_TIMEOUT) -> KeyStore:
    """The Redis key store when ``redis_url`` is set, else the SQLite file in ``data_dir``;
    either writes the :func:`~api.storage.apikeys.keys_made_marker` of ``data_dir`` when
    it makes a key. (The CLI's ``scamscan keys`` opens it alone.)"""
    marker = keys_made_marker(data_dir)
    if redis_url:
        return RedisKeyStore(redis_url, timeout=redis_timeout, marker=marker)
    return SqliteKeyStore(Path(data_dir) / KEYS_FILE, marker=marker)


def open_webhook_store(data_dir: Path, redis_url: str | None, *, ttl: int,
                       redis_timeout: float = DEFAULT_TIMEOUT) -> WebhookStore:
    """Webhook deliveries and the keys' signing secrets: Redis when ``redis_url`` is set,
    else the SQLite file in ``data_dir``; ended deliveries are kept ``ttl`` seconds.
    (The API's webhook service and the CLI's ``keys create`` open it.)"""
    if redis_url:
        return RedisWebhookStore(redis_url, ttl=ttl, timeout=redis_timeout)
    return SqliteWebhookStore(Path(data_dir) / WEBHOOKS_FILE, keep_seconds=ttl)


def open_list_store(data_dir: Path, redis_url: str | None, *,
                    redis_timeout: float = DEFAULT_TIMEOUT) -> ListStore:
    """The Redis list store when ``redis_url`` is set, else the SQLite file in ``data_dir``."""
    if redis_url:
        return RedisListStore(redis_url, timeout=redis_timeout)
    return SqliteListStore(Path(data_dir) / LISTS_FILE)


def open_session_store(redis_url: str | None, idle: float, max_age: float,
                       max_memory: int, *, redis_timeout: float = DEFAULT_TIMEOUT
                       ) -> SessionStore:
    """Redis sessions when ``redis_url`` is set, else bounded in-process ones."""
    if redis_url:
        return RedisSessionStore(redis_url, idle, max_age, timeout=redis_timeout)
    return MemorySessionStore(idle, max_age, max_sessions=max_memory)


def open_cache_store(settings: Settings) -> Store:
    """The live checks' cache (domain ages, :mod:`scanners.store`): Redis through a client
    of :mod:`api.storage.redis`, else in process memory."""
    client = (async_client(settings.redis_url, settings.redis_timeout)
              if settings.redis_url else None)
    return open_store(settings.redis_url, client=client)


def open_limit_storage(
        settings: Settings) -> tuple[SpacedMemoryStorage | WindowedRedisStorage, Any]:
    """The ``limits`` storage of the rate limits (memory, or Redis through redis-py; both
    a :class:`~api.storage.limits_redis.WindowStorage`) and the connection pool to
    close (None in memory)."""
    if not settings.redis_url:
        return SpacedMemoryStorage(), None
    pool = async_pool(settings.redis_url, settings.redis_timeout)
    uri = settings.redis_url
    if uri.startswith("unix://"):
        uri = "redis+unix://" + uri.removeprefix("unix://")
    options: dict[str, Any] = {"connection_pool": pool}
    storage = WindowedRedisStorage("async+" + uri, wrap_exceptions=True, implementation="redispy",
                           key_prefix=prefixes.RATELIMIT, **options)
    return storage, pool


def open_history_backend(settings: Settings) -> HistoryBackend:
    """The scan history's backend: Redis, else ``<data_dir>/history.sqlite3``."""
    if settings.redis_url:
        return RedisHistory(settings.redis_url, settings.history_max_records,
                            timeout=settings.redis_timeout)
    return SqliteHistory(Path(settings.data_dir) / HISTORY_FILE, settings.history_max_records)


def open_feedback_store(settings: Settings) -> FeedbackStore:
    """The feedback store: Redis, else ``<data_dir>/feedback.sqlite3``."""
    if settings.redis_url:
        return RedisFeedbackStore(settings.redis_url, timeout=settings.redis_timeout)
    return SqliteFeedbackStore(Path(settings.data_dir) / FEEDBACK_FILE)


def open_share_store(settings: Settings) -> ShareStore:
    """The share store: Redis, else ``<data_dir>/shares.sqlite3``."""
    if settings.redis_url:
        return RedisShareStore(settings.redis_url, timeout=settings.redis_timeout)
    return SqliteShareStore(Path(settings.data_dir) / SHARES_FILE)


def open_storage(settings: Settings) -> Storage:
    """Every store of ``settings`` (no connection is made yet)."""
    keys = open_key_store(settings.data_dir, settings.redis_url,
                          redis_timeout=settings.redis_timeout)
    lists = open_list_store(settings.data_dir, settings.redis_url,
                            redis_timeout=settings.redis_timeout)
    history = open_history_backend(settings)
    sessions = open_session_store(settings.redis_url, settings.session_idle,
                                  settings.session_max_age, settings.session_max_memory,
                                  redis_timeout=settings.redis_timeout)
    return Storage(keys, lists, history, sessions, open_feedback_store(settings),
                   open_share_store(settings))


async def aclose_quietly(*closers: Any) -> None:
    """Await each ``closer()``, ignoring failures (closing must never raise)."""
    for close in closers:
        with contextlib.suppress(Exception):
            await close()
