"""The cyclic garbage collector under load: what survives a young collection is frozen.

**Why.** The scanners keep caches of small objects (segmented labels, the model's
parts of a name, list hits: tens of thousands of them under varied traffic) that end
in the collector's oldest generation, and CPython 3.11 walks all of that generation on
every full collection. Under load a full collection came every second or two and took
15 to 100 ms, longer as the caches filled, and each one held up every request in
flight: most of a link scan's p99 at concurrency 50, and about a tenth of its CPU
(docs/evaluation.md, "Service load"). Those collections freed nothing: the caches'
objects die by reference counting when evicted.

**What.** :class:`HeapKeeper` runs on the event loop. Every ``interval`` seconds it
makes a young collection (generations 0 and 1, well under a millisecond), so that
short-lived garbage cycles are freed first, then :func:`gc.freeze`: what survived moves
to the permanent generation, which collections do not walk. Frozen objects are still
freed by reference counting as usual; only a reference cycle among them would wait,
so every ``thaw_every`` seconds the permanent generation is collected once
(:func:`gc.unfreeze`, a full :func:`gc.collect` of about 0.3 s with full caches, then
:func:`gc.freeze` again), which bounds how long such a cycle can stay.
:meth:`HeapKeeper.start` first freezes the heap built at start-up (lists, model
weights, routes, schemas: it lives as long as the process; under load a full collection
walking it was a pause of ~10 ms). ``SCAMSCAN_GC_FREEZE_INTERVAL=0`` turns the rounds
off (the collector's own schedule then applies, after that first freeze).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

log = logging.getLogger("scamscan.api")

THAW_EVERY = 600.0
"""Seconds between two full collections of everything frozen."""


class HeapKeeper:
    """Freezes young survivors every ``interval`` seconds (0: never); see the module doc."""

    def __init__(self, interval: float, thaw_every: float = THAW_EVERY) -> None:
        self.interval = interval
        self.thaw_every = thaw_every
        self._thawed_at = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def tick(self, now: float) -> bool:
        """One round: a young collection and a freeze, or, once ``thaw_every`` seconds
        have passed since the last one, a full collection of everything first.
        Answers whether it was a thaw."""
        # The deadline form, not now - thawed_at >= thaw_every: a difference of two
        # large monotonic times loses the last bits (63307.89845781 + 3600 comes back
        # 3599.9999999999927 later), and the thaw would wait one round too long.
        thaw = now >= self._thawed_at + self.thaw_every
        if thaw:
            self._thawed_at = now
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()
        return thaw

    def start(self) -> None:
        """Freeze the start-up heap (after a full collection), then start the rounds on
        the running loop (none when ``interval`` is 0)."""
        gc.collect()
        gc.freeze()
        if self.interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.tick(time.monotonic())
            except Exception as e:  # never expected; the service must go on without it
                log.error("heap keeper stopped", exc_info=e)
                return

    async def aclose(self) -> None:
        """Stop the rounds and unfreeze (also what the start-up froze), so that what
        this app leaves behind can be collected: a process that opens apps one after
        another (the tests, an embedding) would otherwise keep every closed one, a web
        of reference cycles, frozen for good. Never raises."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        gc.unfreeze()
