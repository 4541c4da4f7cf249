"""The history's writer off the request path (api.services.history): writes gathered
into few transactions, read-your-writes, backpressure when the writer is far behind,
and what is queued written on shutdown.

A real SQLite history in tmp_path (and a real ``redis-server`` for Redis mode). The
"slow backend" is the real SqliteHistory whose ``write`` first waits for a gate the
test opens: the one edge no local server can stand in for (a disk that stalls).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from api.services import history as history_module
from api.services.history import ScanHistory
from api.storage.history import Op, RedisHistory, SqliteHistory
from tests.live_servers_age import RedisServer

pytestmark = pytest.mark.anyio


class CountingHistory(SqliteHistory):
    """The SQLite history, counting its write calls, each held until ``gate`` opens."""

    def __init__(self, path: Path, max_records: int = 1000) -> None:
        super().__init__(path, max_records)
        self.calls: list[int] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, ops: Sequence[Op]) -> None:
        await self.gate.wait()
        self.calls.append(len(ops))
        await super().write(ops)


def report(i: int) -> dict[str, Any]:
    host = f"shop{i}.example.vn"
    return {"scan_id": f"{i:032x}", "input": host, "url": f"http://{host}/", "host": host,
            "host_unicode": host, "registrable_domain": "example.vn", "risk_score": 10,
            "verdict": "no_known_risk", "reasons": [], "findings": [], "incomplete": []}


async def test_writes_are_gathered_into_one_transaction(tmp_path: Path) -> None:
    backend = CountingHistory(tmp_path / "h.sqlite3")
    history = ScanHistory(backend, write_delay=30.0)  # nothing but a reader wakes it
    history.start()
    try:
        # The start's pruning of expired message checks reads (and so flushes) first.
        await asyncio.sleep(0.3)
        await history.flush()
        for i in range(40):
            await history.room()
            history.record_url(report(i), owner=None, lang="en")
        await asyncio.sleep(0.05)
        assert backend.calls == []  # still gathering
        # A read has the writer write at once, and finds the scan just recorded.
        record = await history.get(report(39)["scan_id"])
        assert record is not None and record["input"] == "shop39.example.vn"
        assert backend.calls == [40]
    finally:
        await history.aclose()


async def test_shutdown_writes_what_is_queued(tmp_path: Path) -> None:
    history = ScanHistory(SqliteHistory(tmp_path / "h.sqlite3", 1000), write_delay=30.0)
    history.start()
    history.record_url(report(1), owner=None, lang="vi")
    await history.aclose()
    again = ScanHistory(SqliteHistory(tmp_path / "h.sqlite3", 1000))
    again.start()
    try:
        record = await again.get(report(1)["scan_id"])
        assert record is not None and record["lang"] == "vi"
    finally:
        await again.aclose()


async def test_a_full_queue_holds_the_caller_instead_of_dropping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "MAX_QUEUED", 5)
    backend = CountingHistory(tmp_path / "h.sqlite3")
    backend.gate.clear()  # the disk stalls
    history = ScanHistory(backend, write_delay=0.0)
    history.start()
    try:
        recorded = 0

        async def scans(n: int) -> None:
            nonlocal recorded
            for i in range(n):
                await history.room()
                history.record_url(report(i), owner=None, lang="en")
                recorded += 1

        task = asyncio.ensure_future(scans(20))
        for _ in range(50):
            await asyncio.sleep(0)
        # The writer is stuck on a batch and the queue filled up: the caller is held,
        # nothing is dropped.
        assert not task.done()
        assert 1 <= recorded <= 6 and history.dropped == 0
        assert backend.calls == []
        backend.gate.set()
        await asyncio.wait_for(task, 30)
        await history.flush()
        assert history.dropped == 0 and sum(backend.calls) == 20
        page = await history.backend.search(owner=None, everyone=True, q="", kind="",
                                            verdict="", offset=0, limit=100)
        assert page[1] == 20
    finally:
        backend.gate.set()
        await history.aclose()


async def test_redis_mode_gathers_and_reads_its_writes(redis_server: RedisServer) -> None:
    history = ScanHistory(RedisHistory(redis_server.url, 1000), write_delay=30.0)
    history.start()
    try:
        for i in range(10):
            await history.room()
            history.record_url(report(100 + i), owner="key_x", lang="en")
        record = await history.get(report(105)["scan_id"])
        assert record is not None and record["owner"] == "key_x"
    finally:
        await history.aclose()


def test_sqlite_history_cuts_to_max_records_with_slack(tmp_path: Path) -> None:
    assert SqliteHistory(tmp_path / "a.sqlite3", 50_000).prune_slack == 500
    assert SqliteHistory(tmp_path / "b.sqlite3", 100).prune_slack == 1


async def test_sqlite_writes_keep_one_connection_and_reopen_after_an_error(
        tmp_path: Path) -> None:
    import sqlite3

    from api.storage.errors import HistoryUnavailable
    from api.storage.history import Put

    backend = SqliteHistory(tmp_path / "h.sqlite3", 1000)

    def put(scan_id: str) -> Put:
        return Put(scan_id=scan_id, created_us=1, pending=False,
                   fields={"kind": "url", "status": "done", "input": scan_id})

    await backend.write([put("a")])
    kept = backend._kept
    assert kept is not None
    await backend.write([put("b")])
    assert backend._kept is kept  # one connection for every batch
    assert await backend.get("b") is not None  # a reader's own connection sees it

    def broken(db: sqlite3.Connection) -> None:
        db.execute("SELECT * FROM no_such_table")

    with pytest.raises(HistoryUnavailable):
        await backend._run_kept(broken)
    assert backend._kept is None  # dropped after the error...
    await backend.write([put("c")])  # ...and the next write opens another
    assert await backend.get("c") is not None
    await backend.aclose()
    assert backend._kept is None


async def test_sqlite_batch_keeps_the_order_of_puts_and_updates(tmp_path: Path) -> None:
    """A batch mixing puts of different columns, with and without a report, and updates
    (grouped into one statement per run of like puts) ends as the same writes one by
    one would: the last put of an id wins, an update applies to the put before it."""
    from api.storage.history import Put, Update

    backend = SqliteHistory(tmp_path / "h.sqlite3", max_records=1000)
    url = {"kind": "url", "owner": None, "status": "done", "input": "a.vn", "host": "a.vn",
           "verdict": "safe", "risk_score": 0, "lang": "vi", "report": '{"n": 1}', "hay": "a"}
    apk = {"kind": "apk", "owner": "k1", "status": "queued", "input": "x.apk",
           "sha256": "ab" * 32, "hay": "x"}
    try:
        await backend.write([
            Put("u1", 1, url, pending=False),
            Put("u2", 2, {**url, "report": '{"n": 2}'}, pending=False),
            Put("p1", 3, apk, pending=True),
            Update("p1", {"status": "done", "verdict": "dangerous"}, None, True),
            Put("u1", 4, {**url, "report": None, "verdict": "suspicious"}, pending=False),
            Put("u3", 5, url, pending=False),
            Update("u3", {"verdict": "dangerous"}, None, False),
            Put("p1", 6, apk, pending=True),  # put again after its update: put wins
        ])
        u1, u2, u3, p1 = [await backend.get(i) for i in ("u1", "u2", "u3", "p1")]
        assert u1 is not None and u1["verdict"] == "suspicious" and u1["report"] is None
        assert u2 is not None and u2["report"] == {"n": 2}
        assert u3 is not None and u3["verdict"] == "dangerous" and u3["report"] == {"n": 1}
        assert p1 is not None and p1["status"] == "queued" and p1["verdict"] is None
        assert [i for i, _ in await backend.pending(10)] == ["p1"]
    finally:
        await backend.aclose()
