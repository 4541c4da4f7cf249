"""The store backends: MemoryStore (TTL, bound, concurrency); RedisStore on a real redis-server."""

from __future__ import annotations

import asyncio

import pytest
import redis

from scanners.errors import StoreError
from scanners.store import MemoryStore, RedisStore, Store, open_store
from tests.live_servers_age import RedisServer, free_port


class FakeClock:
    """A monotonic clock that tests move by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_memory_store_expires_each_entry_after_its_own_ttl() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)

    async def main() -> None:
        await store.set("short", b"1", 10)
        await store.set("long", b"2", 100)
        assert await store.get("short") == b"1"
        clock.t += 9.9
        assert await store.get("short") == b"1"
        clock.t += 0.2
        assert await store.get("short") is None
        assert await store.get("long") == b"2"
        clock.t += 90
        assert await store.get("long") is None
        assert await store.get("never") is None

    asyncio.run(main())


def test_memory_store_set_replaces_value_and_ttl() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)

    async def main() -> None:
        await store.set("k", b"old", 100)
        await store.set("k", b"new", 5)
        assert await store.get("k") == b"new"
        clock.t += 6
        assert await store.get("k") is None
        await store.set("k", b"x", 100)
        await store.set("k", b"y", 0)  # ttl <= 0 deletes
        assert await store.get("k") is None

    asyncio.run(main())


def test_memory_store_is_bounded_and_evicts_least_recently_used() -> None:
    store = MemoryStore(max_entries=3, clock=FakeClock())

    async def main() -> None:
        for k in "abc":
            await store.set(k, k.encode(), 100)
        assert await store.get("a") == b"a"  # a is now the most recently used
        await store.set("d", b"d", 100)
        assert len(store) == 3
        assert await store.get("b") is None
        assert {k: await store.get(k) for k in "acd"} == {"a": b"a", "c": b"c", "d": b"d"}
        for i in range(100):
            await store.set(f"k{i}", b"v", 100)
        assert len(store) == 3

    asyncio.run(main())


def test_memory_store_evicts_expired_entries_before_live_ones() -> None:
    clock = FakeClock()
    store = MemoryStore(max_entries=2, clock=clock)

    async def main() -> None:
        await store.set("live", b"1", 100)
        await store.set("dying", b"2", 1)
        assert await store.get("dying") == b"2"  # most recently used, yet expired next
        clock.t += 2
        await store.set("new", b"3", 100)
        assert await store.get("live") == b"1"
        assert await store.get("new") == b"3"

    asyncio.run(main())


def test_memory_store_concurrent_tasks_keep_every_write() -> None:
    store = MemoryStore(max_entries=10_000)

    async def worker(n: int) -> None:
        for i in range(50):
            await store.set(f"{n}:{i}", f"{n}-{i}".encode(), 60)
            await asyncio.sleep(0)
            assert await store.get(f"{n}:{i}") == f"{n}-{i}".encode()

    async def main() -> None:
        await asyncio.gather(*(worker(n) for n in range(40)))
        values = [await store.get(f"{n}:{i}") for n in range(40) for i in range(50)]
        assert values == [f"{n}-{i}".encode() for n in range(40) for i in range(50)]

    asyncio.run(main())


def test_memory_store_rejects_non_bytes_and_bad_bound() -> None:
    with pytest.raises(ValueError):
        MemoryStore(max_entries=0)
    with pytest.raises(TypeError):
        asyncio.run(MemoryStore().set("k", "text", 1))  # type: ignore[arg-type]


def test_open_store_picks_the_backend() -> None:
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store(""), MemoryStore)
    s = open_store("redis://127.0.0.1:1/0")
    assert isinstance(s, RedisStore)
    assert isinstance(s, Store)
    asyncio.run(s.close())


def test_redis_store_round_trip_expiry_and_prefix(redis_server: RedisServer) -> None:
    async def main() -> None:
        store = RedisStore(redis_server.url, prefix="t1:")
        try:
            await store.ping()
            assert await store.get("k") is None
            await store.set("k", b"\x00binary\xff", 60)
            assert await store.get("k") == b"\x00binary\xff"
            await store.set("short", b"v", 0.2)
            assert await store.get("short") == b"v"
            # Redis itself expires the key (SET ... PX): no need to wait for it.
            raw = redis.Redis.from_url(redis_server.url)
            try:
                pttl = raw.pttl("t1:short")
                assert isinstance(pttl, int) and 0 < pttl <= 200
            finally:
                raw.close()
            await store.set("k", b"gone", -1)
            assert await store.get("k") is None
        finally:
            await store.close()

    asyncio.run(main())
    # Server side: the key carries the prefix and a real expiry (SET ... PX).
    async def put() -> None:
        store = RedisStore(redis_server.url, prefix="t2:")
        await store.set("ttl", b"v", 30)
        await store.close()

    asyncio.run(put())
    raw = redis.Redis.from_url(redis_server.url)
    try:
        assert raw.get("t2:ttl") == b"v"
        pttl = raw.pttl("t2:ttl")
        assert isinstance(pttl, int)
        assert 0 < pttl <= 30_000
        assert raw.get("ttl") is None
    finally:
        raw.close()


def test_redis_store_shared_between_instances(redis_server: RedisServer) -> None:
    async def main() -> None:
        a = RedisStore(redis_server.url)
        b = RedisStore(redis_server.url)
        try:
            await a.set("shared", b"from-a", 60)
            assert await b.get("shared") == b"from-a"
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())


def test_redis_store_wraps_connection_errors_in_store_error() -> None:
    port = free_port()  # nothing listens there

    async def main() -> None:
        store = RedisStore(f"redis://127.0.0.1:{port}/0", timeout=0.5)
        try:
            with pytest.raises(StoreError):
                await store.get("k")
            with pytest.raises(StoreError):
                await store.set("k", b"v", 10)
        finally:
            await store.close()

    asyncio.run(main())


def test_redis_store_rejects_a_bad_url() -> None:
    with pytest.raises(StoreError):
        RedisStore("nonsense://x")
