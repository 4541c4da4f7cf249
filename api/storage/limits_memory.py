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
"""

from __future__ import annotations

import bisect
import time

from limits.aio.storage import MemoryStorage

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
        # same clean-up, synchronous: hits are kept newest first, so the expired ones
        # are a tail found by binary search.
        now = time.time()
        for key in list(self.events):
            events = self.events[key]
            cutoff = bisect.bisect_left(events, -now, key=lambda event: -event.expiry)
            del events[cutoff:]
            if not events:
                self.events.pop(key, None)
                self.locks.pop(key, None)
        for key in list(self.expirations):
            if self.expirations[key] <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)

    async def acquire_with_window(self, key: str, limit: int, expiry: int,
                                  amount: int = 1) -> tuple[bool, float, int]:
        """The hit, then the window's state (see
        :class:`api.storage.limits_redis.WindowStorage`); two calls in memory."""
        acquired = await self.acquire_entry(key, limit, expiry, amount)
        start, count = await self.get_moving_window(key, limit, expiry)
        return acquired, start, count
