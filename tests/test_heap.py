"""api.heap: young survivors frozen, young garbage cycles freed first, frozen cycles freed
at the thaw, the keeper started and stopped with the app."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.heap import HeapKeeper
from api.main import create_app
from api.settings import Settings


class Node:
    """A weak-referenceable object that can be part of a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    gc.collect()
    yield
    gc.unfreeze()
    gc.collect()


def test_a_tick_frees_young_cycles_and_freezes_what_survives() -> None:
    keeper = HeapKeeper(1.0, thaw_every=3600.0)
    garbage, garbage_ref = cycle()
    kept, kept_ref = cycle()
    del garbage
    frozen_before = gc.get_freeze_count()
    assert keeper.tick(now=keeper._thawed_at + 1) is False
    assert garbage_ref() is None  # collected by the young collection, not frozen
    assert kept_ref() is kept  # alive, and now frozen with the rest
    assert gc.get_freeze_count() > frozen_before
    # Frozen objects still die by reference counting...
    plain = Node()
    plain_ref = weakref.ref(plain)
    keeper.tick(now=keeper._thawed_at + 2)
    del plain
    assert plain_ref() is None
    # ...and a cycle among them waits for the thaw, which frees it.
    del kept
    gc.collect()
    assert kept_ref() is not None
    assert keeper.tick(now=keeper._thawed_at + 3600) is True
    assert kept_ref() is None
    assert gc.get_freeze_count() > 0  # frozen again after the full collection


def test_the_thaw_comes_on_its_second_whatever_the_clock_reads() -> None:
    keeper = HeapKeeper(1.0, thaw_every=3600.0)
    # A monotonic time whose difference with itself + 3600 rounds below 3600.
    keeper._thawed_at = 63307.89845781
    assert keeper.tick(now=63307.89845781 + 3599) is False
    assert keeper.tick(now=63307.89845781 + 3600) is True


@pytest.mark.anyio
async def test_started_and_stopped_with_the_app(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, gc_freeze_interval=0.05))
    async with app.router.lifespan_context(app):
        keeper: HeapKeeper = app.state.services.heap
        assert keeper.interval == 0.05 and keeper._task is not None
        ref = cycle()[1]  # dropped at once: young garbage
        kept = Node()
        frozen = gc.get_freeze_count()
        gc.unfreeze()  # what the start-up froze, to see the keeper freeze again
        await asyncio.sleep(0.3)
        assert gc.get_freeze_count() >= frozen and ref() is None and kept.other is None
        task = keeper._task
        assert gc.get_freeze_count() > 0
    assert keeper._task is None and task.done()
    # Closed: nothing stays frozen, so the closed app (reference cycles) can be freed.
    assert gc.get_freeze_count() == 0
    app_ref = weakref.ref(app)
    del app, keeper
    gc.collect()
    assert app_ref() is None


@pytest.mark.anyio
async def test_interval_zero_is_off(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, gc_freeze_interval=0))
    async with app.router.lifespan_context(app):
        assert app.state.services.heap._task is None
        assert gc.get_freeze_count() > 0  # the start-up heap is frozen all the same
