"""The one place that picks SQLite (or memory) or Redis for every store.

``SCAMSCAN_REDIS_URL`` set: every store is on Redis, shared by the API
replicas and ``scamscan worker``. Unset: the embedded default, SQLite files in
``SCAMSCAN_DATA_DIR`` (console sessions and rate limits in process memory).
The APK job backend (the embedded process pool or the Redis queue) is picked
by :func:`api.services.container.open_jobs` on the same switch; the domain-age
cache by :func:`scanners.store.open_store`.

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

from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.storage import Storage as LimitStorage

from api.settings import Settings
from api.storage import prefixes
from api.storage.apikeys import KeyStore, open_key_store
from api.storage.history import HISTORY_FILE, HistoryBackend, RedisHistory, SqliteHistory
from api.storage.lists import ListStore, open_list_store
from api.storage.redis import async_pool
from api.storage.sessions import SessionStore, open_session_store


@dataclass
class Storage:
    """The stores of one API process (see :func:`open_storage`)."""

    keys: KeyStore
    lists: ListStore
    history: HistoryBackend
    sessions: SessionStore


def open_limit_storage(settings: Settings) -> tuple[LimitStorage, Any]:
    """The ``limits`` storage of the rate limits (memory, or Redis through redis-py)
    and the connection pool to close (None in memory)."""
    if not settings.redis_url:
        return MemoryStorage(), None
    pool = async_pool(settings.redis_url, settings.redis_timeout)
    uri = settings.redis_url
    if uri.startswith("unix://"):
        uri = "redis+unix://" + uri.removeprefix("unix://")
    options: dict[str, Any] = {"connection_pool": pool}
    storage = RedisStorage("async+" + uri, wrap_exceptions=True, implementation="redispy",
                           key_prefix=prefixes.RATELIMIT, **options)
    return storage, pool


def open_history_backend(settings: Settings) -> HistoryBackend:
    """The scan history's backend: Redis, else ``<data_dir>/history.sqlite3``."""
    if settings.redis_url:
        return RedisHistory(settings.redis_url, settings.history_max_records,
                            timeout=settings.redis_timeout)
    return SqliteHistory(Path(settings.data_dir) / HISTORY_FILE, settings.history_max_records)


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
    return Storage(keys, lists, history, sessions)


async def aclose_quietly(*closers: Any) -> None:
    """Await each ``closer()``, ignoring failures (closing must never raise)."""
    for close in closers:
        with contextlib.suppress(Exception):
            await close()
