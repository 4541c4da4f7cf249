"""The lists of one API process: the store, the in-memory view and the feed refreshes.

The lists a link is checked against are, in order (:mod:`scanners.lists`):
analyst ``allow`` entries, analyst ``block`` entries, the feeds' current
generations, then the bundled lists. The bundled lists are the read-only base
layer, loaded from the package: with an empty store the service answers
exactly as the bundled lists do, and the store only ever holds what analysts
and admins added (entries, feeds and the feeds' generations).

The routes (:mod:`api.routes.lists`):

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

**Store**: :mod:`api.storage.lists` (SQLite or Redis, picked by
:func:`api.storage.factory.open_storage`).

**Feeds configured at startup**: ``SCAMSCAN_FEEDS`` (added when the store has
none of that name) and, with ``SCAMSCAN_FEEDS_DEFAULT=on``, :data:`DEFAULT_FEEDS`
(the public sources of the bundled Vietnamese lists, ``added_by`` ``default``);
with ``off`` the default feeds are removed again. They are refreshed in the
background by :mod:`api.services.feeds`, by ``scamscan feeds refresh`` and by
``POST /v1/lists/refresh``; :meth:`ListService.feed_status` is what ``/readyz``
and ``scamscan feeds status`` show.

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
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread

from api.auth import Principal
from api.settings import Settings
from api.storage.errors import ListStoreUnavailable
from api.storage.lists import DuplicateFeed, FeedState, ListStore
from api.wiring import build_fetcher
from blocklists import BlocklistIndex
from scanners.fetch import Resolver
from scanners.lists import (
    KINDS,
    DynamicLists,
    EntryError,
    FeedConfig,
    FeedData,
    FeedError,
    ListEntry,
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

MAX_REDIRECTS = 3
FEED_USER_AGENT = "scamscan-feeds/1"
DEFAULT_FEEDS_BY = "default"
"""``added_by`` of the feeds of :data:`DEFAULT_FEEDS`."""
STALE_FACTOR = 4
"""A feed whose last success is older than this many refresh periods is ``stale``."""
UNSCHEDULED_HOURS = 6.0
"""The period staleness is judged against when ``SCAMSCAN_FEEDS_REFRESH_HOURS=0``."""


@dataclass(frozen=True)
class DefaultFeed:
    """A public feed scamscan knows, with its terms (docs: blocklists/ATTRIBUTION.md)."""

    name: str
    url: str
    format: str
    semantics: str
    licence: str
    homepage: str


DEFAULT_FEEDS: tuple[DefaultFeed, ...] = (
    # The live versions of the two lists the bundled ones are snapshots of.
    DefaultFeed("hostsvn-threat-vn",
                "https://raw.githubusercontent.com/bigdargon/hostsVN/master/extensions/"
                "source/threat-VN.txt",
                "hosts", "domain", "MIT (hostsVN by BigDargon)",
                "https://github.com/bigdargon/hostsVN"),
    DefaultFeed("chongluadao",
                "https://malware-filter.gitlab.io/malware-filter/vn-badsite-filter-domains.txt",
                "hosts", "domain", "CC0-1.0 (data of api.chongluadao.vn, exported by "
                "malware-filter/vn-badsite-filter)",
                "https://gitlab.com/malware-filter/vn-badsite-filter"),
)
"""Configured with ``SCAMSCAN_FEEDS_DEFAULT=on``; both are one host a line with ``#``
comments, listed with domain semantics as the bundled snapshots are."""


def _now() -> str:
    # Microseconds: entries are listed newest first by this time.
    return datetime.now(UTC).isoformat()


class ListService:
    """The lists of one API process: the store, the in-memory view and the refreshes."""

    def __init__(self, settings: Settings, store: ListStore,
                 bundled: BlocklistIndex | None = None, *,
                 resolver: Resolver | None = None, write_apk_file: bool = True) -> None:
        self.settings = settings
        self.store = store
        self.resolver = resolver
        """Resolves feed hosts (None: the system resolver); tests replace it."""
        self.dynamic = DynamicLists(bundled)
        self.apk_file = apk_lists_path(settings.data_dir)
        self.write_apk_file = write_apk_file
        """False for a CLI scan: it reads the lists, the server writes the APK file."""
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

    async def open(self, *, watch: bool = True, seed: bool = True) -> None:
        """Seed the configured feeds (``seed``), load everything and (``watch``) start
        watching the version."""
        try:
            if seed:
                await self._seed_feeds()
            await self.reload(force=True)
        except ListStoreUnavailable as e:
            log.warning("list store unavailable at startup (%s): only the bundled lists "
                        "are used until it answers", e)
        if watch:
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        await self.store.close()

    async def _seed_feeds(self) -> None:
        loaded = await self.store.load()
        have = {f.name: f for f in loaded.feeds}
        wanted: list[tuple[dict[str, Any], str]] = []
        if self.settings.feeds:
            wanted += [(d, "settings") for d in json.loads(self.settings.feeds)]
        if self.settings.feeds_default == "on":
            wanted += [({"name": d.name, "url": d.url, "format": d.format,
                         "semantics": d.semantics}, DEFAULT_FEEDS_BY) for d in DEFAULT_FEEDS]
        else:
            # The setting decides: turned off, the default feeds go (and their data).
            for f in list(have.values()):
                if f.added_by == DEFAULT_FEEDS_BY:
                    await self.store.delete_feed(f.name)
                    del have[f.name]
                    log.info("feed %s removed: SCAMSCAN_FEEDS_DEFAULT is off", f.name)
        for d, by in wanted:
            name = str(d["name"])
            if name in have:
                continue
            try:
                feed = self._feed(name, str(d["url"]), str(d["format"]),
                                  str(d.get("semantics") or "domain"),
                                  bool(d.get("enabled", True)), by)
                await self.store.add_feed(feed)
                have[name] = feed
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
        if not self.write_apk_file:
            return
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

    async def refresh(self, name: str | None = None, *,
                      names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Refresh one feed, the feeds ``names``, or every enabled one; one result per
        feed (``KeyError`` for an unknown name)."""
        await self.reload()
        if name is not None:
            feeds = [self.feeds[name]]
        elif names is not None:
            feeds = [self.feeds[n] for n in names]
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


    def feed_status(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Each feed's age and state, for ``/readyz`` and ``scamscan feeds status``.

        ``age_seconds``: since its last successful refresh (None: never);
        ``in_use``: a generation is loaded and scans use it; ``stale``: enabled and
        not refreshed successfully for :data:`STALE_FACTOR` refresh periods (or
        never). A stale feed does not make the service unready (see /readyz).
        """
        now = now or datetime.now(UTC)
        period = self.settings.feeds_refresh_hours or UNSCHEDULED_HOURS
        stale_after = STALE_FACTOR * period * 3600
        view = self.dynamic.view
        out = []
        for f in sorted(self.feeds.values(), key=lambda f: f.name):
            st = self.states.get(f.name, FeedState())
            age = None
            if st.last_success:
                age = max(0.0, (now - datetime.fromisoformat(st.last_success)
                                ).total_seconds())
            generation = view.generations.get(f.name, 0)
            out.append({
                "name": f.name, "url": f.url, "enabled": f.enabled,
                "added_by": f.added_by, "generation": generation,
                "entries": view.feed_counts.get(f.name, 0), "in_use": generation > 0,
                "last_success": st.last_success, "last_attempt": st.last_attempt,
                "age_seconds": None if age is None else round(age),
                "stale": f.enabled and (age is None or age > stale_after),
                "last_error": st.last_error})
        return out


async def open_lists(settings: Settings, store: ListStore,
                     bundled: BlocklistIndex | None = None, *,
                     resolver: Resolver | None = None) -> ListService:
    """The list service of an app (from its lifespan): loaded and watching ``store``;
    ``resolver`` resolves feed hosts (None: the system's; tests replace it)."""
    service = ListService(settings, store, bundled, resolver=resolver)
    await service.open()
    return service
