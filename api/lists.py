"""List management: analyst entries, feeds and their generations (``/v1/lists``).

The lists a link is checked against are, in order (:mod:`scanners.lists`):
analyst ``allow`` entries, analyst ``block`` entries, the feeds' current
generations, then the bundled lists. The bundled lists are the read-only base
layer, loaded from the package: with an empty store the service answers
exactly as the bundled lists do, and the store only ever holds what analysts
and admins added (entries, feeds and the feeds' generations).

Routes (problem+json errors):

* ``GET /v1/lists/sources`` (analyst): bundled sources with their sizes, feeds
  with their generation, entries, last success and last error, analyst entry
  counts by kind and action;
* ``GET /v1/lists/entries?kind=&q=&page=&per_page=`` (analyst);
* ``POST /v1/lists/entries`` (analyst): 201, 422 for a bad value, 409 for a
  duplicate; ``DELETE /v1/lists/entries/{id}`` (analyst, 404 when unknown);
* ``POST /v1/lists/feeds``, ``DELETE /v1/lists/feeds/{name}`` (admin);
* ``POST /v1/lists/refresh[?feed=name]`` (admin): fetch the feeds (through the
  live fetch's SSRF guard, :func:`scanners.lists.download_feed`: no internal
  address unless allowed, allowed ports only, size and time limits, at most 3
  redirects, each checked), parse them into a new generation and swap it in; a
  feed that fails keeps its old generation and says why.

**Store.** Embedded: one SQLite file, ``<data_dir>/lists.sqlite3`` (the same
pattern as :mod:`api.keystore`). Redis (``SCAMSCAN_REDIS_URL``): a hash of
entries (``scamscan:lists:entries``) with a uniqueness index
(``scamscan:lists:entry-keys``), a hash of feeds (``scamscan:lists:feeds``), per
feed ``scamscan:list:<feed>:gen:<n>`` (the generation, zlib JSON),
``scamscan:list:<feed>:current`` and ``scamscan:list:<feed>:status``, switched
in one MULTI/EXEC once the new generation is written. Every change increments
a version (``scamscan:lists:version`` / a row in SQLite); each API process
checks it every ``SCAMSCAN_LISTS_SYNC_INTERVAL`` seconds and reloads when it
moved, so the replicas see each other's changes.

**Phone and account entries** (``phone``, ``bank_account``) are read from the
same view by the message check (:meth:`scanners.lists.DynamicLists.identifier_entry`).

**APK entries** (``apk_sha256``, ``package``, ``signer``, ``official_signer``)
are written to ``<data_dir>/lists/apk_lists.json`` (atomic replace) on every
change; the scanner (the embedded pool and ``scamscan worker``, which shares
the data directory) re-reads it when it changes. Its version is part of the
stored-report deduplication key (see :mod:`api.jobs`, :mod:`api.queue`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypeVar

import anyio
import anyio.to_thread
import redis.asyncio as aioredis
from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError

from api.auth import AUTH_RESPONSES, AdminAuth, AnalystAuth, Principal
from api.problems import (
    TYPE_INVALID_INPUT,
    TYPE_NOT_FOUND,
    ProblemException,
    problem_responses,
)
from api.redis_client import DEFAULT_TIMEOUT, async_client
from api.settings import Settings
from api.sqlite import SqliteFile
from api.wiring import build_fetcher
from blocklists import BlocklistIndex
from scanners.fetch import Resolver
from scanners.lists import (
    KINDS,
    Action,
    DynamicLists,
    EntryError,
    FeedConfig,
    FeedData,
    FeedError,
    FeedFormat,
    Kind,
    ListEntry,
    Semantics,
    apk_lists_path,
    build_view,
    check_feed,
    download_feed,
    feed_layer,
    new_entry_id,
    normalize_entry,
    parse_feed,
    write_apk_lists,
)

log = logging.getLogger("scamscan.lists")

LISTS_FILE = "lists.sqlite3"
SCHEMA_VERSION = 1
TYPE_CONFLICT = "tag:scamscan,2025:problems/conflict"
TYPE_LISTS_UNAVAILABLE = "tag:scamscan,2025:problems/lists-unavailable"
MAX_REDIRECTS = 3
FEED_USER_AGENT = "scamscan-feeds/1"

T = TypeVar("T")


class ListStoreUnavailable(Exception):
    """The list store's backend failed (Redis down, the SQLite file unreadable)."""


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

    def __init__(self, url: str, prefix: str = "scamscan:", *,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.p = prefix + "lists:"
        self.feed_prefix = prefix + "list:"
        try:
            self._redis: aioredis.Redis = async_client(url, timeout)
        except (ValueError, RedisError) as e:
            raise ListStoreUnavailable(f"invalid Redis URL: {e}") from e
        self._add = self._redis.register_script(_ADD_ENTRY)
        self._del = self._redis.register_script(_DEL_ENTRY)

    def _f(self, name: str, what: str) -> str:
        return f"{self.feed_prefix}{name}:{what}"

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (RedisError, OSError, TimeoutError) as e:
            raise ListStoreUnavailable(f"the Redis list store failed ({what}): {e}") from e

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

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await self._redis.aclose()


def open_list_store(data_dir: Path, redis_url: str | None, *,
                    redis_timeout: float = DEFAULT_TIMEOUT) -> ListStore:
    """The Redis list store when ``redis_url`` is set, else the SQLite file in ``data_dir``."""
    if redis_url:
        return RedisListStore(redis_url, timeout=redis_timeout)
    return SqliteListStore(Path(data_dir) / LISTS_FILE)


# --- the service ------------------------------------------------------------------------


class ListService:
    """The lists of one API process: the store, the in-memory view and the refreshes."""

    def __init__(self, settings: Settings, store: ListStore,
                 bundled: BlocklistIndex | None = None, *,
                 resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.store = store
        self.resolver = resolver
        """Resolves feed hosts (None: the system resolver); tests replace it."""
        self.dynamic = DynamicLists(bundled)
        self.apk_file = apk_lists_path(settings.data_dir)
        self.version = -1
        self.entries: dict[str, ListEntry] = {}
        self.feeds: dict[str, FeedConfig] = {}
        self.states: dict[str, FeedState] = {}
        self._data: dict[str, tuple[int, FeedData]] = {}
        self._layer_key: tuple[tuple[str, int], ...] | None = None
        self._layer: Any = None
        self._reload_lock = asyncio.Lock()
        self._refresh_locks: dict[str, asyncio.Lock] = {}
        self._poller: asyncio.Task[None] | None = None
        self._warned_at = -1e9

    async def open(self) -> None:
        """Seed the configured feeds, load everything and start watching the version."""
        try:
            await self._seed_feeds()
            await self.reload(force=True)
        except ListStoreUnavailable as e:
            log.warning("list store unavailable at startup (%s): only the bundled lists "
                        "are used until it answers", e)
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        await self.store.close()

    async def _seed_feeds(self) -> None:
        if not self.settings.feeds:
            return
        loaded = await self.store.load()
        have = {f.name for f in loaded.feeds}
        for d in json.loads(self.settings.feeds):
            name = str(d["name"])
            if name in have:
                continue
            try:
                feed = self._feed(name, str(d["url"]), str(d["format"]),
                                  str(d.get("semantics") or "domain"),
                                  bool(d.get("enabled", True)), "settings")
                await self.store.add_feed(feed)
            except (EntryError, DuplicateFeed) as e:
                log.warning("SCAMSCAN_FEEDS: feed %r not added: %s", name, e)

    @staticmethod
    def _feed(name: str, url: str, fmt: str, semantics: str, enabled: bool,
              added_by: str) -> FeedConfig:
        check_feed(name, url, fmt, semantics)
        return FeedConfig(name, url, fmt, semantics, enabled,  # type: ignore[arg-type]
                          added_by, _now())

    async def _poll(self) -> None:
        interval = self.settings.lists_sync_interval
        while True:
            await asyncio.sleep(interval)
            try:
                if await self.store.version() != self.version:
                    await self.reload()
            except ListStoreUnavailable as e:
                now = time.monotonic()
                if now - self._warned_at > 60:
                    self._warned_at = now
                    log.warning("list store unavailable; the lists stay as last loaded: %s", e)
            except Exception as e:  # the poller must go on
                log.error("reloading the lists failed", exc_info=e)

    async def reload(self, *, force: bool = False) -> None:
        """Load the store and swap in a new view when its version moved (or ``force``)."""
        async with self._reload_lock:
            loaded = await self.store.load()
            if not force and loaded.version == self.version:
                return
            feeds = {f.name: f for f in loaded.feeds}
            for name, st in loaded.states.items():
                f = feeds.get(name)
                if f is None or not f.enabled or not st.generation:
                    continue
                have = self._data.get(name)
                if have is None or have[0] != st.generation:
                    data = await self.store.feed_data(name, st.generation)
                    if data is not None:  # else: superseded meanwhile; keep what we have
                        self._data[name] = (st.generation, data)
            for name in list(self._data):
                if name not in feeds or not feeds[name].enabled:
                    del self._data[name]
            self.entries = {e.id: e for e in loaded.entries}
            self.feeds, self.states = feeds, loaded.states
            await anyio.to_thread.run_sync(self._swap, loaded.version)
            self.version = loaded.version

    def _swap(self, version: int) -> None:
        """Build the new view (off the event loop) and swap it in, in one assignment."""
        data = {n: d for n, (_, d) in self._data.items()}
        key = tuple(sorted((n, g) for n, (g, _) in self._data.items()))
        if key != self._layer_key:
            self._layer, self._layer_key = feed_layer(data), key
        view = build_view(self.dynamic.bundled, self.entries.values(), data,
                          feed_cache=self._layer, version=version,
                          generations={n: g for n, (g, _) in self._data.items()})
        self.dynamic.swap(view)
        try:
            write_apk_lists(self.apk_file, self.entries.values())
        except OSError as e:
            log.error("cannot write the APK list file %s: %s", self.apk_file, e)

    # --- entries -----------------------------------------------------------------------

    async def add_entry(self, kind: str, value: str, action: str | None, package: str | None,
                        note: str, who: Principal) -> ListEntry:
        act = action or ("allow" if kind == "official_signer" else "block")
        norm, pkg = normalize_entry(kind, value, act, package)
        entry = ListEntry(new_entry_id(), kind, act, norm, pkg,  # type: ignore[arg-type]
                          note.strip(), who.name if who.key_id else "local", _now())
        await self.store.add_entry(entry, self.settings.lists_max_entries)
        log.info("list entry %s added: %s %s %s by %s", entry.id, entry.action, entry.kind,
                 entry.value, entry.added_by)
        await self.reload(force=True)
        return entry

    async def delete_entry(self, entry_id: str) -> ListEntry | None:
        entry = await self.store.delete_entry(entry_id)
        if entry is not None:
            log.info("list entry %s removed", entry_id)
            await self.reload(force=True)
        return entry

    # --- feeds -------------------------------------------------------------------------

    async def add_feed(self, name: str, url: str, fmt: str, semantics: str, enabled: bool,
                       who: Principal) -> FeedConfig:
        feed = self._feed(name, url, fmt, semantics, enabled,
                          who.name if who.key_id else "local")
        await self.store.add_feed(feed)
        await self.reload(force=True)
        return feed

    async def delete_feed(self, name: str) -> FeedConfig | None:
        feed = await self.store.delete_feed(name)
        if feed is not None:
            self._data.pop(name, None)
            await self.reload(force=True)
        return feed

    async def refresh(self, name: str | None = None) -> list[dict[str, Any]]:
        """Refresh one feed or every enabled one; one result per feed."""
        await self.reload()
        if name is not None:
            feeds = [self.feeds[name]]
        else:
            feeds = [f for f in self.feeds.values() if f.enabled]
        results = await asyncio.gather(*(self._refresh_one(f) for f in feeds))
        await self.reload(force=True)
        return list(results)

    async def _refresh_one(self, feed: FeedConfig) -> dict[str, Any]:
        lock = self._refresh_locks.setdefault(feed.name, asyncio.Lock())
        async with lock:
            old = self._data.get(feed.name)
            base: dict[str, Any] = {"feed": feed.name,
                                    "previous_generation": old[0] if old else 0}
            when = _now()
            try:
                raw = await self._fetch(feed.url)
                data = await anyio.to_thread.run_sync(self._parse, raw, feed)
            except FeedError as e:
                error = str(e)
                await self.store.record_failure(feed.name, error, when)
                log.warning("feed %s: refresh failed, generation %s kept: %s", feed.name,
                            old[0] if old else 0, error)
                return {**base, "ok": False, "error": error,
                        "generation": old[0] if old else 0,
                        "entries": old[1].entries if old else 0, "kept_previous": True}
            gen = await self.store.save_generation(feed.name, data, when)
            self._data[feed.name] = (gen, data)
            log.info("feed %s: generation %d, %d entries", feed.name, gen, data.entries)
            return {**base, "ok": True, "error": None, "generation": gen,
                    "entries": data.entries, "skipped": data.skipped, "kept_previous": False}

    def _parse(self, raw: bytes, feed: FeedConfig) -> FeedData:
        s = self.settings
        return parse_feed(raw, feed.format, feed.semantics, max_bytes=s.feed_max_bytes,
                          max_lines=s.feed_max_entries, max_entries=s.feed_max_entries)

    async def _fetch(self, url: str) -> bytes:
        s = self.settings
        # The live fetch's guard (api.wiring.build_fetcher): no private,
        # loopback or link-local address unless allowed, only the allowed
        # ports, every hop pinned to its checked address.
        fetcher = build_fetcher(s, resolver=self.resolver, hop_timeout=s.feed_timeout,
                                max_body=s.feed_max_bytes, user_agent=FEED_USER_AGENT)
        try:
            with anyio.fail_after(s.feed_timeout):
                return await download_feed(fetcher, url, max_redirects=MAX_REDIRECTS,
                                           budget=s.feed_timeout)
        except TimeoutError:
            raise FeedError(f"the feed took longer than {s.feed_timeout:g} s") from None
        except FeedError:
            raise
        except Exception as e:  # a bug: logged, and still never a 500
            log.exception("feed download from %s failed unexpectedly", url)
            raise FeedError(f"the feed could not be fetched: {type(e).__name__}") from None

    # --- views -------------------------------------------------------------------------

    def sources(self) -> dict[str, Any]:
        bundled = [{"name": s.name, "entries": s.entries, "semantics": s.semantics,
                    "licence": s.licence, "homepage": s.homepage}
                   for s in self.dynamic.bundled.sources()]
        view = self.dynamic.view
        feeds = []
        for f in self.feeds.values():
            st = self.states.get(f.name, FeedState())
            gen = view.generations.get(f.name, 0)
            status = ("failed" if st.last_error else "ok" if st.last_success else "never")
            feeds.append({**f.to_dict(), "generation": gen,
                          "entries": view.feed_counts.get(f.name, 0),
                          "last_success": st.last_success, "last_attempt": st.last_attempt,
                          "last_error": st.last_error, "status": status})
        counts: dict[str, dict[str, int]] = {k: {"block": 0, "allow": 0} for k in KINDS}
        for e in self.entries.values():
            counts[e.kind][e.action] += 1
        return {"bundled": bundled, "feeds": feeds,
                "analyst": {"total": len(self.entries), "by_kind": counts},
                "version": self.version}


# --- HTTP ---------------------------------------------------------------------------------


class EntryCreate(BaseModel):
    """A list entry to add."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"kind": "domain", "value": "vneid-capnhat.top", "note": "SMS campaign 2025-06"},
        {"kind": "host", "value": "shop.example.vn", "action": "allow",
         "note": "false positive of a feed"},
        {"kind": "package", "value": "com.fake.vnid", "note": "fake VNeID"},
        {"kind": "official_signer", "package": "com.vnid",
         "value": "AB:CD:...:EF (the signing certificate's SHA-256)"},
        {"kind": "phone", "value": "0912 345 678", "note": "fake police caller, 2026-11"},
        {"kind": "bank_account", "value": "1903 6789 1234 56", "note": "mule account (TCB)"},
    ]})

    kind: Kind
    value: str = Field(min_length=1, max_length=2048, description="A host, domain, URL, "
                       "APK SHA-256, package name, signer SHA-256, Vietnamese phone number "
                       "(stored as `+84…`) or bank account number (6-19 digits), by kind; "
                       "normalised.")
    action: Action | None = Field(default=None, description="`block` (default) or `allow`; "
                                  "an `allow` entry overrides feeds and bundled lists. "
                                  "`official_signer` entries are `allow`.")
    package: str | None = Field(default=None, max_length=255,
                                description="Only for `official_signer`: the app's package.")
    note: str = Field(default="", max_length=2000, description="Why (shown in evidence).")


class EntryOut(BaseModel):
    id: str
    kind: Kind
    action: Action
    value: str
    package: str | None
    note: str
    added_by: str = Field(description="The name of the API key that added it, or `local`.")
    added_at: datetime


class EntryPage(BaseModel):
    entries: list[EntryOut]
    total: int
    page: int
    per_page: int


class FeedCreate(BaseModel):
    """A feed to configure (admin)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"name": "vn-phish", "url": "https://example.org/vn-phishing-hosts.txt",
         "format": "hosts", "semantics": "domain"}]})

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    format: FeedFormat
    semantics: Semantics = "domain"
    enabled: bool = True


class FeedOut(BaseModel):
    name: str
    url: str
    format: FeedFormat
    semantics: Semantics
    enabled: bool
    added_by: str
    added_at: str
    generation: int = 0
    entries: int = 0
    last_success: str | None = None
    last_attempt: str | None = None
    last_error: str | None = None
    status: Literal["ok", "failed", "never"] = "never"


class BundledOut(BaseModel):
    name: str
    entries: int
    semantics: str
    licence: str
    homepage: str


class AnalystCounts(BaseModel):
    total: int
    by_kind: dict[str, dict[str, int]]


class SourcesOut(BaseModel):
    bundled: list[BundledOut]
    feeds: list[FeedOut]
    analyst: AnalystCounts
    version: int = Field(description="The list store's version this process last loaded.")


class RefreshOut(BaseModel):
    feed: str
    ok: bool
    error: str | None
    generation: int = Field(description="The generation now in use (the old one on failure).")
    previous_generation: int
    entries: int
    skipped: int | None = None
    kept_previous: bool


class RefreshResults(BaseModel):
    results: list[RefreshOut]


def get_lists(request: Request) -> ListService:
    service: ListService = request.app.state.list_service
    return service


def _unavailable(e: ListStoreUnavailable) -> ProblemException:
    log.error("list store unavailable: %s", e)
    return ProblemException(503, "The list store is unavailable right now; try again shortly.",
                            type_=TYPE_LISTS_UNAVAILABLE, title="Lists unavailable",
                            headers={"retry-after": "5"})


def _entry_out(e: ListEntry) -> dict[str, Any]:
    return e.to_dict()


async def list_sources(request: Request, _: AnalystAuth) -> dict[str, Any]:
    """Bundled sources, feeds (generation, last refresh, last error) and analyst entry counts."""
    return get_lists(request).sources()


async def list_entries(
    request: Request,
    _: AnalystAuth,
    kind: Annotated[Kind | None, Query(description="Only entries of this kind.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Substring of the value, "
                                   "note or author.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Analyst entries, newest first, filtered and paged."""
    entries = list(get_lists(request).entries.values())
    entries.reverse()
    if kind is not None:
        entries = [e for e in entries if e.kind == kind]
    if q:
        needle = q.lower()
        entries = [e for e in entries if needle in e.value.lower() or needle in e.note.lower()
                   or needle in e.added_by.lower() or needle in e.package.lower()]
    start = (page - 1) * per_page
    return {"entries": [_entry_out(e) for e in entries[start:start + per_page]],
            "total": len(entries), "page": page, "per_page": per_page}


async def create_entry(request: Request, body: EntryCreate, who: AnalystAuth) -> dict[str, Any]:
    """Add a list entry; it applies to the next scans (URL scans at once, APK scans on
    their next run: stored APK reports made before the change are not reused)."""
    service = get_lists(request)
    try:
        entry = await service.add_entry(body.kind, body.value, body.action, body.package,
                                        body.note, who)
    except EntryError as e:
        raise ProblemException(422, str(e), type_=TYPE_INVALID_INPUT,
                               title="Invalid list entry") from None
    except DuplicateEntry as e:
        raise ProblemException(409, f"This entry already exists (id {e.existing_id!r}); "
                               "delete it first to change it.", type_=TYPE_CONFLICT,
                               title="Duplicate entry") from None
    except TooManyEntries:
        raise ProblemException(422, f"The lists hold {service.settings.lists_max_entries} "
                               "analyst entries already (SCAMSCAN_LISTS_MAX_ENTRIES).",
                               type_=TYPE_INVALID_INPUT, title="Too many entries") from None
    except ListStoreUnavailable as e:
        raise _unavailable(e) from None
    return _entry_out(entry)


async def delete_entry(
    request: Request,
    entry_id: Annotated[str, PathParam(max_length=64, description="The entry's id.")],
    _: AnalystAuth,
) -> dict[str, Any]:
    """Remove a list entry."""
    try:
        entry = await get_lists(request).delete_entry(entry_id)
    except ListStoreUnavailable as e:
        raise _unavailable(e) from None
    if entry is None:
        raise ProblemException(404, f"There is no list entry with the id {entry_id!r}.",
                               type_=TYPE_NOT_FOUND, title="Unknown entry")
    return _entry_out(entry)


async def create_feed(request: Request, body: FeedCreate, who: AdminAuth) -> dict[str, Any]:
    """Configure a feed (admin); it is fetched on the next refresh."""
    service = get_lists(request)
    try:
        feed = await service.add_feed(body.name, body.url, body.format, body.semantics,
                                      body.enabled, who)
    except EntryError as e:
        raise ProblemException(422, str(e), type_=TYPE_INVALID_INPUT,
                               title="Invalid feed") from None
    except DuplicateFeed:
        raise ProblemException(409, f"A feed named {body.name!r} exists already.",
                               type_=TYPE_CONFLICT, title="Duplicate feed") from None
    except ListStoreUnavailable as e:
        raise _unavailable(e) from None
    return {**feed.to_dict(), "status": "never"}


async def delete_feed(
    request: Request,
    name: Annotated[str, PathParam(max_length=64, description="The feed's name.")],
    _: AdminAuth,
) -> dict[str, Any]:
    """Remove a feed and its generations (admin)."""
    try:
        feed = await get_lists(request).delete_feed(name)
    except ListStoreUnavailable as e:
        raise _unavailable(e) from None
    if feed is None:
        raise ProblemException(404, f"There is no feed named {name!r}.",
                               type_=TYPE_NOT_FOUND, title="Unknown feed")
    return feed.to_dict()


async def refresh_feeds(
    request: Request,
    _: AdminAuth,
    feed: Annotated[str | None, Query(max_length=64, description="Only this feed.")] = None,
) -> dict[str, Any]:
    """Fetch the feeds and swap each in as a new generation (admin).

    A feed that fails (HTTP error, time-out, too big, nothing parseable) keeps
    its previous generation; its result says so (`ok: false`, `error`).
    """
    service = get_lists(request)
    try:
        if feed is not None and feed not in service.feeds:
            await service.reload()
        if feed is not None and feed not in service.feeds:
            raise ProblemException(404, f"There is no feed named {feed!r}.",
                                   type_=TYPE_NOT_FOUND, title="Unknown feed")
        return {"results": await service.refresh(feed)}
    except ListStoreUnavailable as e:
        raise _unavailable(e) from None


def lists_router() -> APIRouter:
    """``/v1/lists``: sources, analyst entries, feeds and refreshes."""
    router = APIRouter(prefix="/v1/lists", tags=["lists"])
    errors = {**AUTH_RESPONSES}
    router.add_api_route("/sources", list_sources, methods=["GET"], response_model=SourcesOut,
                         responses=errors, summary="List sources and their sizes")
    router.add_api_route("/entries", list_entries, methods=["GET"], response_model=EntryPage,
                         responses={**errors, **problem_responses(422)},
                         summary="List analyst entries")
    router.add_api_route("/entries", create_entry, methods=["POST"], status_code=201,
                         response_model=EntryOut, summary="Add a list entry",
                         responses={**errors, **problem_responses(409, 422)})
    router.add_api_route("/entries/{entry_id}", delete_entry, methods=["DELETE"],
                         response_model=EntryOut, summary="Remove a list entry",
                         responses={**errors, **problem_responses(404)})
    router.add_api_route("/feeds", create_feed, methods=["POST"], status_code=201,
                         response_model=FeedOut, summary="Configure a feed (admin)",
                         responses={**errors, **problem_responses(409, 422)})
    router.add_api_route("/feeds/{name}", delete_feed, methods=["DELETE"],
                         response_model=FeedOut, summary="Remove a feed (admin)",
                         responses={**errors, **problem_responses(404)})
    router.add_api_route("/refresh", refresh_feeds, methods=["POST"],
                         response_model=RefreshResults, summary="Refresh feeds (admin)",
                         responses={**errors, **problem_responses(404, 422)})
    return router


async def open_lists(settings: Settings, bundled: BlocklistIndex | None = None) -> ListService:
    """The list service of an app (from its lifespan): loaded and watching its store."""
    service = ListService(settings, open_list_store(settings.data_dir, settings.redis_url,
                                                    redis_timeout=settings.redis_timeout),
                          bundled)
    await service.open()
    return service


__all__ = ["ListService", "ListStoreUnavailable", "lists_router", "open_lists"]
