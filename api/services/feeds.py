"""The background feed refresher of the server (``SCAMSCAN_FEEDS_REFRESH_HOURS``).

Every enabled feed (:mod:`api.services.lists`) is refreshed when its last
attempt is older than the period (6 hours by default), or than
:data:`RETRY_FAILED` seconds after a failure (at most the period). The
refresher wakes every period/12 (at most :data:`MAX_CHECK` seconds), with a
random jitter so that replicas started together do not fetch together, and
never blocks a request: the downloads run in their own task, and the new
generations are swapped in as a whole (:meth:`ListService.reload`), so scans
pick them up without a restart (another replica, or the CLI's ``scamscan feeds
refresh``, within ``SCAMSCAN_LISTS_SYNC_INTERVAL``).

One refresher per deployment: before fetching, a replica takes the store's
lease :data:`LEASE` (Redis: ``SET NX PX``; embedded: the one process), then
re-reads the feeds' state, since another replica may just have refreshed
them. A failed refresh keeps the feed's previous generation; with no
generation at all, the bundled lists are what scans use, as without feeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from api.services.lists import ListService
from api.storage.errors import ListStoreUnavailable
from api.storage.lists import FeedState

log = logging.getLogger("scamscan.lists")

LEASE = "refresher"
"""The store's lease name (Redis key ``scamscan:lists:refresher``)."""
RETRY_FAILED = 900.0
"""Seconds before a failed feed is tried again (unless the period is shorter)."""
MAX_CHECK = 300.0
"""Seconds between two checks of what is due, at most."""
JITTER = 0.2
"""Each wait is drawn within ±20 % of its length."""


class FeedRefresher:
    """Refreshes the due feeds of ``lists`` in a background task (:meth:`start`)."""

    def __init__(self, lists: ListService, *, rng: random.Random | None = None) -> None:
        self.lists = lists
        self.period = lists.settings.feeds_refresh_hours * 3600.0
        self.owner = uuid.uuid4().hex
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        """Refresh rounds this refresher ran (it held the lease and something was due)."""

    def start(self) -> None:
        """Start the task; nothing when the period is 0 (no schedule)."""
        if self.period > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def aclose(self) -> None:
        """Stop the task (a refresh in progress is cancelled; its feeds keep their
        previous generation). Never raises."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def due(self, now: datetime | None = None) -> list[str]:
        """Names of the enabled feeds whose refresh is due."""
        now = now or datetime.now(UTC)
        out = []
        for f in self.lists.feeds.values():
            if not f.enabled:
                continue
            st = self.lists.states.get(f.name, FeedState())
            if not st.last_attempt:
                out.append(f.name)
                continue
            wait = self.period if not st.last_error else min(self.period, RETRY_FAILED)
            if (now - datetime.fromisoformat(st.last_attempt)).total_seconds() >= wait:
                out.append(f.name)
        return sorted(out)

    async def run_once(self) -> list[dict[str, Any]]:
        """Refresh what is due, if this replica gets the lease; the results."""
        if not self.due():
            return []
        ttl = self.lists.settings.feed_timeout * 2 + 60
        if not await self.lists.store.try_lease(LEASE, self.owner, ttl):
            return []
        try:
            await self.lists.reload()  # another replica may have refreshed meanwhile
            names = self.due()
            if not names:
                return []
            self.runs += 1
            results = await self.lists.refresh(names=names)
        finally:
            with contextlib.suppress(ListStoreUnavailable):
                await self.lists.store.release_lease(LEASE, self.owner)
        for r in results:
            if r["ok"]:
                log.info("feed %s refreshed: %d entries", r["feed"], r["entries"])
        return results

    def _wait(self, base: float) -> float:
        return base * self._rng.uniform(1 - JITTER, 1 + JITTER)

    async def _loop(self) -> None:
        check = min(MAX_CHECK, self.period / 12)
        # The first look one check period after start (at most about 5 minutes:
        # never-fetched feeds are due then), not at once: a restart loop must not
        # hammer the feed hosts, and the jitter keeps replicas started together apart.
        await asyncio.sleep(self._wait(check))
        while True:
            try:
                await self.run_once()
            except ListStoreUnavailable as e:
                log.warning("feed refresh skipped, the list store is unavailable: %s", e)
            except Exception as e:  # the refresher must go on
                log.error("feed refresh failed", exc_info=e)
            await asyncio.sleep(self._wait(check))
