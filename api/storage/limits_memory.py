"""The embedded rate limits' storage: ``limits``' in-memory storage, its clean-up spaced.

:class:`limits.aio.storage.MemoryStorage` starts a clean-up task after nearly every
hit whenever the previous one has ended, and that task hands each key's list of
hits to a worker thread to find the expired ones: a thread hop, and a copy of the
list, per request. Profiled under load (docs/evaluation.md, "Service load"), that
was about a twelfth of the server's samples on an offline link scan.
:class:`SpacedMemoryStorage` runs the same clean-up at most once every
``interval`` seconds. Limits are unchanged: a moving window counts only the hits
inside the window (``acquire_entry`` and ``get_moving_window`` compare each hit's
time), and fixed windows check their expiry on every read (``get``); the clean-up
only frees the memory of hits already outside their window, a little later.

The clean-up itself is also done differently: ``limits`` holds each key's lock while
a worker thread finds the first expired hit (a binary search), so every request
counted against that key waited for the thread hop, once a second: with one busy key
(a bot's, or keyless local use) the whole load stalled for tens of milliseconds each
time, most of a link scan's p99 at concurrency 50 (docs/evaluation.md, "Service
load"). Here the search runs on the event loop (it is O(log n)) and the expired tail
is cut in place, with no ``await`` in between, so no request can interleave and no
lock is needed.

**Hits oldest first.** ``limits`` keeps each key's hits newest first, and inserts every
hit at the front of the list: a copy of the whole list per request, which under a
high limit (the load test's keyless one, 1,000,000 a minute) grew to tens of
thousands of hits and microseconds a request. Here they are kept oldest first, so a
hit is an append; every method that reads or writes the list (:meth:`acquire_entry`,
:meth:`get_moving_window`, the clean-up, :meth:`acquire_with_window`) is overridden to
answer exactly what ``limits``' own answers for the same hits (tests/test_quotas.py
compares them). None of them awaits while it reads or changes a list, so they need
no lock: each runs whole on the event loop.
"""

from __future__ import annotations

import bisect
import time

from limits.aio.storage import MemoryStorage
from limits.aio.storage.memory import Entry

CLEANUP_INTERVAL = 1.0
"""Seconds between two clean-ups of expired hits."""


class SpacedMemoryStorage(MemoryStorage):
    """:class:`~limits.aio.storage.MemoryStorage` whose clean-up of expired hits runs
    at most once every ``interval`` seconds (see the module doc)."""

    def __init__(self, interval: float = CLEANUP_INTERVAL) -> None:
        super().__init__()
        self.interval = interval
        self._last_cleanup = float("-inf")

    async def _MemoryStorage__schedule_expiry(self) -> None:
        # Overrides MemoryStorage's private ``__schedule_expiry`` (name-mangled), called
        # by every hit; tests/test_quotas.py fails if a new ``limits`` renames it.
        now = time.monotonic()
        if now - self._last_cleanup < self.interval:
            return
        self._last_cleanup = now
        await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]

    async def _MemoryStorage__expire_events(self) -> None:
        # Overrides MemoryStorage's private ``__expire_events`` (see the module doc); the
        # same clean-up, synchronous: hits are kept oldest first, so the expired ones are
        # a head found by binary search.
        now = time.time()
        for key in list(self.events):
            events = self.events[key]
            del events[:bisect.bisect_right(events, now, key=_expiry)]
            if not events:
                self.events.pop(key, None)
                self.locks.pop(key, None)
        for key in list(self.expirations):
            if self.expirations[key] <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)

    def _acquire(self, key: str, limit: int, expiry: int, amount: int) -> bool:
        """``limits``' ``acquire_entry`` over a list kept oldest first: refused when the
        ``limit - amount + 1``-th newest hit is still inside the window."""
        events = self.events.setdefault(key, [])
        timestamp = time.time()
        index = len(events) - 1 - (limit - amount)
        entry = events[index] if index >= 0 else None
        if entry and entry.atime >= timestamp - expiry:
            return False
        events.extend([Entry(expiry)] * amount)
        return True

    def _window(self, key: str, expiry: int) -> tuple[float, int]:
        """``limits``' ``get_moving_window`` over a list kept oldest first: the time of
        the oldest hit inside the window and how many are inside (with none inside, the
        oldest hit kept and 0, as ``limits`` answers)."""
        timestamp = time.time()
        events = self.events.get(key)
        if events:
            first = bisect.bisect_right(events, timestamp - expiry, key=_atime)
            inside = len(events) - first
            return events[first if inside else 0].atime, inside
        return timestamp, 0

    async def acquire_entry(self, key: str, limit: int, expiry: int,
                            amount: int = 1) -> bool:
        if amount > limit:
            return False
        await self._MemoryStorage__schedule_expiry()
        return self._acquire(key, limit, expiry, amount)

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self._window(key, expiry)

    async def acquire_with_window(self, key: str, limit: int, expiry: int,
                                  amount: int = 1) -> tuple[bool, float, int]:
        """The hit, then the window's state (see
        :class:`api.storage.limits_redis.WindowStorage`), in one step on the loop."""
        acquired = False
        if amount <= limit:
            await self._MemoryStorage__schedule_expiry()
            acquired = self._acquire(key, limit, expiry, amount)
        start, count = self._window(key, expiry)
        return acquired, start, count


def _atime(entry: Entry) -> float:
    return entry.atime


def _expiry(entry: Entry) -> float:
    return entry.expiry
