"""The list store: analyst entries, feeds and the feeds' generations (SQLite or Redis).

Embedded: one SQLite file, ``<data_dir>/lists.sqlite3`` (the same pattern as
:mod:`api.storage.apikeys`). Redis (``SCAMSCAN_REDIS_URL``): a hash of entries
(``scamscan:lists:entries``) with a uniqueness index
(``scamscan:lists:entry-keys``), a hash of feeds (``scamscan:lists:feeds``), per
feed ``scamscan:list:<feed>:gen:<n>`` (the generation, zlib JSON),
``scamscan:list:<feed>:current`` and ``scamscan:list:<feed>:status``, switched
in one MULTI/EXEC once the new generation is written, and the feed refresher's
lease ``scamscan:lists:refresher`` (:meth:`RedisListStore.try_lease`: one
scheduled refresh per deployment at a time). Every change increments
a version (``scamscan:lists:version`` / a row in SQLite); the service
(:mod:`api.services.lists`) polls it. Every method may raise
:class:`~api.storage.errors.ListStoreUnavailable`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio.to_thread
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.storage import prefixes
from api.storage.errors import ListStoreUnavailable
from api.storage.redis import DEFAULT_TIMEOUT, store_client, store_errors
from api.storage.sqlite import SqliteFile
from scanners.lists import FeedConfig, FeedData, ListEntry

SCHEMA_VERSION = 1


class DuplicateEntry(Exception):
    def __init__(self, existing_id: str) -> None:
        super().__init__(existing_id)
        self.existing_id = existing_id


class DuplicateFeed(Exception):
    pass


class TooManyEntries(Exception):
    pass


def _now() -> str:
    # Microseconds: entries are listed newest first by this time.
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class FeedState:
    """What the store knows of a feed's refreshes."""

    generation: int = 0
    entries: int = 0
    last_success: str | None = None
    last_attempt: str | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Loaded:
    version: int
    entries: list[ListEntry]
    feeds: list[FeedConfig]
    states: dict[str, FeedState]


class ListStore(Protocol):
    """Where analyst entries, feeds and feed generations are kept."""

    async def version(self) -> int: ...

    async def load(self) -> Loaded: ...

    async def add_entry(self, entry: ListEntry, max_entries: int) -> None: ...

    async def delete_entry(self, entry_id: str) -> ListEntry | None: ...

    async def add_feed(self, feed: FeedConfig) -> None: ...

    async def delete_feed(self, name: str) -> FeedConfig | None: ...

    async def feed_data(self, name: str, generation: int) -> FeedData | None: ...

    async def save_generation(self, name: str, data: FeedData, when: str) -> int: ...

    async def record_failure(self, name: str, error: str, when: str) -> None: ...

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool:
        """Take the lease ``name`` for ``ttl`` seconds unless another owner holds it
        (one scheduled feed refresh per deployment)."""
        ...

    async def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back if ``owner`` still holds it."""
        ...

    async def close(self) -> None: ...


# --- SQLite ---------------------------------------------------------------------------

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS list_entries (
        id       TEXT PRIMARY KEY,
        kind     TEXT NOT NULL,
        action   TEXT NOT NULL CHECK (action IN ('block', 'allow')),
        value    TEXT NOT NULL,
        package  TEXT NOT NULL DEFAULT '',
        note     TEXT NOT NULL DEFAULT '',
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (kind, package, value))""",
    """CREATE TABLE IF NOT EXISTS list_feeds (
        name   TEXT PRIMARY KEY,
        config TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS feed_state (
        name         TEXT PRIMARY KEY,
        generation   INTEGER NOT NULL DEFAULT 0,
        data         BLOB,
        entries      INTEGER NOT NULL DEFAULT 0,
        last_success TEXT,
        last_attempt TEXT,
        last_error   TEXT)""",
    """CREATE TABLE IF NOT EXISTS list_meta (
        k TEXT PRIMARY KEY,
        v INTEGER NOT NULL)""",
)
_BUMP = ("INSERT INTO list_meta (k, v) VALUES ('version', 1) "
         "ON CONFLICT (k) DO UPDATE SET v = v + 1")


def _entry(row: tuple[Any, ...]) -> ListEntry:
    return ListEntry(*row)


class SqliteListStore(SqliteFile):
    """Lists in one SQLite file; each call opens a short connection in a worker thread."""

    error = ListStoreUnavailable
    what = "list store"
    schema = _SCHEMA
    schema_version = SCHEMA_VERSION

    async def version(self) -> int:
        def q(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT v FROM list_meta WHERE k = 'version'").fetchone()
            return int(row[0]) if row else 0

        return int(await self._run(q))

    async def load(self) -> Loaded:
        def q(db: sqlite3.Connection) -> Loaded:
            row = db.execute("SELECT v FROM list_meta WHERE k = 'version'").fetchone()
            entries = [_entry(r) for r in db.execute(
                "SELECT id, kind, action, value, package, note, added_by, added_at "
                "FROM list_entries ORDER BY added_at, id")]
            feeds = [FeedConfig.from_dict(json.loads(r[0])) for r in db.execute(
                "SELECT config FROM list_feeds ORDER BY name")]
            states = {r[0]: FeedState(*r[1:]) for r in db.execute(
                "SELECT name, generation, entries, last_success, last_attempt, last_error "
                "FROM feed_state")}
            return Loaded(int(row[0]) if row else 0, entries, feeds, states)

        result: Loaded = await self._run(q)
        return result

    async def add_entry(self, entry: ListEntry, max_entries: int) -> None:
        def q(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT id FROM list_entries WHERE kind = ? AND package = ? AND "
                             "value = ?", entry.key).fetchone()
            if row:
                raise DuplicateEntry(row[0])
            if db.execute("SELECT COUNT(*) FROM list_entries").fetchone()[0] >= max_entries:
                raise TooManyEntries()
            db.execute("INSERT INTO list_entries (id, kind, action, value, package, note, "
                       "added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (entry.id, entry.kind, entry.action, entry.value, entry.package,
                        entry.note, entry.added_by, entry.added_at))
            db.execute(_BUMP)

        await self._run(q)

    async def delete_entry(self, entry_id: str) -> ListEntry | None:
        def q(db: sqlite3.Connection) -> ListEntry | None:
            row = db.execute("SELECT id, kind, action, value, package, note, added_by, "
                             "added_at FROM list_entries WHERE id = ?",
                             (entry_id,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM list_entries WHERE id = ?", (entry_id,))
            db.execute(_BUMP)
            return _entry(row)

        result: ListEntry | None = await self._run(q)
        return result

    async def add_feed(self, feed: FeedConfig) -> None:
        def q(db: sqlite3.Connection) -> None:
            try:
                db.execute("INSERT INTO list_feeds (name, config) VALUES (?, ?)",
                           (feed.name, json.dumps(feed.to_dict())))
            except sqlite3.IntegrityError:
                raise DuplicateFeed(feed.name) from None
            db.execute(_BUMP)

        await self._run(q)

    async def delete_feed(self, name: str) -> FeedConfig | None:
        def q(db: sqlite3.Connection) -> FeedConfig | None:
            row = db.execute("SELECT config FROM list_feeds WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM list_feeds WHERE name = ?", (name,))
            db.execute("DELETE FROM feed_state WHERE name = ?", (name,))
            db.execute(_BUMP)
            return FeedConfig.from_dict(json.loads(row[0]))

        result: FeedConfig | None = await self._run(q)
        return result

    async def feed_data(self, name: str, generation: int) -> FeedData | None:
        def q(db: sqlite3.Connection) -> bytes | None:
            row = db.execute("SELECT data FROM feed_state WHERE name = ? AND generation = ?",
                             (name, generation)).fetchone()
            return bytes(row[0]) if row and row[0] is not None else None

        raw = await self._run(q)
        return None if raw is None else await anyio.to_thread.run_sync(FeedData.from_bytes, raw)

    async def save_generation(self, name: str, data: FeedData, when: str) -> int:
        blob = await anyio.to_thread.run_sync(data.to_bytes)

        def q(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT generation FROM feed_state WHERE name = ?",
                             (name,)).fetchone()
            gen = (row[0] if row else 0) + 1
            db.execute(
                "INSERT INTO feed_state (name, generation, data, entries, last_success, "
                "last_attempt, last_error) VALUES (?, ?, ?, ?, ?, ?, NULL) "
                "ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, "
                "data = excluded.data, entries = excluded.entries, "
                "last_success = excluded.last_success, last_attempt = excluded.last_attempt, "
                "last_error = NULL", (name, gen, blob, data.entries, when, when))
            db.execute(_BUMP)
            return int(gen)

        return int(await self._run(q))

    async def record_failure(self, name: str, error: str, when: str) -> None:
        def q(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO feed_state (name, last_attempt, last_error) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET last_attempt = excluded.last_attempt, "
                "last_error = excluded.last_error", (name, when, error))
            db.execute(_BUMP)

        await self._run(q)

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool:
        # Embedded mode has one server process: its refresher task is the only one.
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        return None

    async def close(self) -> None:
        return None


# --- Redis ---------------------------------------------------------------------------

_ADD_ENTRY = """
local existing = redis.call('hget', KEYS[2], ARGV[2])
if existing then return existing end
if redis.call('hlen', KEYS[1]) >= tonumber(ARGV[4]) then return '!full' end
redis.call('hset', KEYS[1], ARGV[1], ARGV[3])
redis.call('hset', KEYS[2], ARGV[2], ARGV[1])
redis.call('incr', KEYS[3])
return ''
"""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

_DEL_ENTRY = """
local raw = redis.call('hget', KEYS[1], ARGV[1])
if not raw then return false end
redis.call('hdel', KEYS[1], ARGV[1])
if redis.call('hget', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('hdel', KEYS[2], ARGV[2]) end
redis.call('incr', KEYS[3])
return raw
"""


def _text(v: bytes | str | None) -> str | None:
    if v is None:
        return None
    return v.decode("utf-8") if isinstance(v, bytes) else v


def _entry_key(entry: ListEntry) -> str:
    return "\x1f".join(entry.key)


class RedisListStore:
    """Lists on Redis (see the module docstring for the keys)."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.p = prefixes.LISTS
        self.feed_prefix = prefixes.LIST_FEED
        self._redis: aioredis.Redis = store_client(url, timeout, ListStoreUnavailable)
        self._add = self._redis.register_script(_ADD_ENTRY)
        self._del = self._redis.register_script(_DEL_ENTRY)
        self._release = self._redis.register_script(_RELEASE)

    def _f(self, name: str, what: str) -> str:
        return f"{self.feed_prefix}{name}:{what}"

    def _errors(self, what: str) -> AbstractContextManager[None]:
        return store_errors(ListStoreUnavailable, "list", what)

    async def version(self) -> int:
        with self._errors("version"):
            v = await self._redis.get(self.p + "version")
        return int(v or 0)

    async def load(self) -> Loaded:
        with self._errors("load"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.get(self.p + "version")
            pipe.hgetall(self.p + "entries")
            pipe.hgetall(self.p + "feeds")
            version, raw_entries, raw_feeds = await pipe.execute()
            feeds = sorted((FeedConfig.from_dict(json.loads(v)) for v in raw_feeds.values()),
                           key=lambda f: f.name)
            states: dict[str, FeedState] = {}
            if feeds:
                pipe = self._redis.pipeline(transaction=False)
                for f in feeds:
                    pipe.get(self._f(f.name, "current"))
                    pipe.hgetall(self._f(f.name, "status"))
                got = await pipe.execute()
                for i, f in enumerate(feeds):
                    current, status = got[2 * i], {
                        _text(k): _text(v) for k, v in got[2 * i + 1].items()}
                    states[f.name] = FeedState(
                        int(current or 0), int(status.get("entries") or 0),
                        status.get("last_success") or None, status.get("last_attempt") or None,
                        status.get("last_error") or None)
        entries = sorted((ListEntry.from_dict(json.loads(v)) for v in raw_entries.values()),
                         key=lambda e: (e.added_at, e.id))
        return Loaded(int(version or 0), entries, feeds, states)

    async def add_entry(self, entry: ListEntry, max_entries: int) -> None:
        with self._errors("add entry"):
            got = _text(await self._add(
                keys=[self.p + "entries", self.p + "entry-keys", self.p + "version"],
                args=[entry.id, _entry_key(entry), json.dumps(entry.to_dict()), max_entries]))
        if got == "!full":
            raise TooManyEntries()
        if got:
            raise DuplicateEntry(got)

    async def delete_entry(self, entry_id: str) -> ListEntry | None:
        with self._errors("get entry"):
            raw = await self._redis.hget(self.p + "entries", entry_id)
        if raw is None:
            return None
        entry = ListEntry.from_dict(json.loads(raw))
        with self._errors("delete entry"):
            gone = await self._del(
                keys=[self.p + "entries", self.p + "entry-keys", self.p + "version"],
                args=[entry_id, _entry_key(entry)])
        return entry if gone else None

    async def add_feed(self, feed: FeedConfig) -> None:
        with self._errors("add feed"):
            if not await self._redis.hsetnx(self.p + "feeds", feed.name,
                                            json.dumps(feed.to_dict())):
                raise DuplicateFeed(feed.name)
            await self._redis.incr(self.p + "version")

    async def delete_feed(self, name: str) -> FeedConfig | None:
        with self._errors("delete feed"):
            raw = await self._redis.hget(self.p + "feeds", name)
            if raw is None:
                return None
            current = int(await self._redis.get(self._f(name, "current")) or 0)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(self.p + "feeds", name)
                pipe.delete(self._f(name, "current"), self._f(name, "status"),
                            *(self._f(name, f"gen:{g}") for g in (current, current - 1)
                              if g > 0))
                pipe.incr(self.p + "version")
                await pipe.execute()
        return FeedConfig.from_dict(json.loads(raw))

    async def feed_data(self, name: str, generation: int) -> FeedData | None:
        with self._errors("feed data"):
            raw = await self._redis.get(self._f(name, f"gen:{generation}"))
        if raw is None:
            return None
        data = raw.encode() if isinstance(raw, str) else raw
        return await anyio.to_thread.run_sync(FeedData.from_bytes, data)

    async def save_generation(self, name: str, data: FeedData, when: str) -> int:
        blob = await anyio.to_thread.run_sync(data.to_bytes)
        with self._errors("save generation"):
            gen = int(await self._redis.incr(self._f(name, "gens")))
            # The new generation is written first, then switched to in one transaction:
            # a reader finds either the old or the new current, never a partial one.
            await self._redis.set(self._f(name, f"gen:{gen}"), blob)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._f(name, "current"), gen)
                pipe.hset(self._f(name, "status"), mapping={
                    "entries": data.entries, "last_success": when, "last_attempt": when,
                    "last_error": ""})
                pipe.incr(self.p + "version")
                await pipe.execute()
            if gen > 2:  # keep the previous generation for readers that are loading it
                await self._redis.delete(self._f(name, f"gen:{gen - 2}"))
        return gen

    async def record_failure(self, name: str, error: str, when: str) -> None:
        with self._errors("record failure"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._f(name, "status"),
                          mapping={"last_attempt": when, "last_error": error})
                pipe.incr(self.p + "version")
                await pipe.execute()

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool:
        with self._errors("lease"):
            got = await self._redis.set(self.p + name, owner, nx=True,
                                        px=max(1, int(ttl * 1000)))
        return bool(got)

    async def release_lease(self, name: str, owner: str) -> None:
        with self._errors("lease"):
            await self._release(keys=[self.p + name], args=[owner])

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await self._redis.aclose()


__all__ = ["ListStore", "ListStoreUnavailable", "RedisListStore", "SqliteListStore"]
