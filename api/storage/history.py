"""Where the scan history is kept: SQLite (embedded) or Redis.

The service over it is :class:`api.services.history.ScanHistory`; both backends
implement :class:`HistoryBackend` and raise
:class:`~api.storage.errors.HistoryUnavailable` when they fail.

**Storage.**

* Embedded (no ``SCAMSCAN_REDIS_URL``): ``<data_dir>/history.sqlite3`` (a
  ``scans`` table and, apart so that searches scan small rows, a ``reports``
  table of link reports; WAL; :class:`api.storage.sqlite.SqliteFile`).
* Redis: shared by every API replica; keys under ``scamscan:history:``:
  ``index`` (sorted set: scan_id by creation time, microseconds),
  ``rec:<scan_id>`` (hash: the record, the link report as JSON in ``report``),
  ``lines`` (hash: scan_id → a compact search line ``kind␟owner␟verdict␟text``)
  and ``pending`` (sorted set: APK records not yet finished). Every write is
  one Lua script that also prunes.

Both keep at most ``SCAMSCAN_HISTORY_MAX_RECORDS`` records (default 50,000;
the oldest are dropped).

**Search.** ``q`` is a case-insensitive substring of the input, host (ASCII and
Unicode), registrable domain, sha256 (a prefix or the whole), package or
label; ``kind`` and ``verdict`` are exact. SQLite answers with one indexed
query; Redis scans the index in chunks of :data:`REDIS_CHUNK` ids with a Lua
script that matches the search lines in the server and returns only the
matching ids (each call is short, so Redis is never blocked for long), and
answers an unfiltered analyst search from the index alone.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.storage import prefixes
from api.storage.errors import HistoryUnavailable
from api.storage.redis import DEFAULT_TIMEOUT, async_client
from api.storage.sqlite import SqliteFile

PREFIX = prefixes.HISTORY
REDIS_CHUNK = 1000
"""Ids one Redis search script call looks at."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(t: datetime) -> int:
    """A time as integer microseconds since the epoch (exact; sortable; a Redis score
    holds it exactly, being below 2**53)."""
    return (t - _EPOCH) // timedelta(microseconds=1)


def _from_us(us: int | float | str) -> datetime:
    return _EPOCH + timedelta(microseconds=int(float(us)))


def status_url(scan_id: str) -> str:
    """Where a scan is polled: ``/v1/scans/{scan_id}``."""
    return f"/v1/scans/{scan_id}"



# --- writes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Put:
    """A new record. ``fields``: the stored columns (None values are absent)."""

    scan_id: str
    created_us: int
    fields: dict[str, Any]
    pending: bool
    ttl: int = 0
    """Seconds the record is kept (message checks); 0: until pruned by count."""


@dataclass(frozen=True)
class Update:
    """A change of an APK record (status; verdict and app fields once known)."""

    scan_id: str
    fields: dict[str, Any]
    hay_app: str | None
    finished: bool


Op = Put | Update


class HistoryBackend(Protocol):
    async def write(self, ops: Sequence[Op]) -> None: ...

    async def search(self, *, owner: str | None, everyone: bool, q: str, kind: str,
                     verdict: str, offset: int, limit: int
                     ) -> tuple[list[dict[str, Any]], int]: ...

    async def get(self, scan_id: str) -> dict[str, Any] | None: ...

    async def pending(self, limit: int) -> list[tuple[str, str]]: ...

    async def prune_messages(self, before_us: int) -> int: ...

    async def prune(self, before_us: int) -> int: ...

    async def aclose(self) -> None: ...


_STORED = ("kind", "owner", "status", "input", "host", "host_unicode", "registrable_domain",
           "package", "label", "sha256", "verdict", "risk_score", "lang", "report",
           "hay", "hay_app")
"""Record fields besides scan_id and the creation time, as stored."""


def _record(scan_id: str, created_us: int | float | str, v: Mapping[str, Any],
            *, with_report: bool) -> dict[str, Any]:
    """The public record from stored values (``v``: field → value, any may be missing)."""
    score = v.get("risk_score")
    out: dict[str, Any] = {
        "scan_id": scan_id,
        "kind": v.get("kind"),
        "created": _from_us(created_us),
        "status": v.get("status"),
        "input": v.get("input") or "",
        "host": v.get("host"),
        "registrable_domain": v.get("registrable_domain"),
        "package": v.get("package"),
        "label": v.get("label"),
        "sha256": v.get("sha256"),
        "verdict": v.get("verdict"),
        "risk_score": int(score) if score not in (None, "") else None,
        "status_url": status_url(scan_id),
    }
    if with_report:
        report = v.get("report")
        out.update({
            "owner": v.get("owner"),
            "host_unicode": v.get("host_unicode"),
            "lang": v.get("lang"),
            "report": json.loads(report) if report else None,
        })
    return out


# --- SQLite (embedded) ----------------------------------------------------------


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS scans (
        scan_id            TEXT PRIMARY KEY,
        created_us         INTEGER NOT NULL,
        kind               TEXT NOT NULL,
        owner              TEXT,
        status             TEXT NOT NULL,
        input              TEXT NOT NULL,
        host               TEXT,
        host_unicode       TEXT,
        registrable_domain TEXT,
        package            TEXT,
        label              TEXT,
        sha256             TEXT,
        verdict            TEXT,
        risk_score         INTEGER,
        lang               TEXT,
        hay                TEXT NOT NULL DEFAULT '',
        hay_app            TEXT NOT NULL DEFAULT '',
        pending            INTEGER NOT NULL DEFAULT 0
    )""",
    # Link reports apart: a search scans small rows, not kilobytes of report each.
    """CREATE TABLE IF NOT EXISTS reports (
        scan_id TEXT PRIMARY KEY,
        report  TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS scans_created ON scans (created_us)",
    "CREATE INDEX IF NOT EXISTS scans_owner ON scans (owner, created_us)",
    # Only APK records whose final state is not recorded yet: what sync_pending reads.
    "CREATE INDEX IF NOT EXISTS scans_pending ON scans (created_us) WHERE pending = 1",
)

_ITEM_COLUMNS = ("scan_id", "created_us", "kind", "status", "input", "host",
                 "registrable_domain", "package", "label", "sha256", "verdict", "risk_score")
_ALL_COLUMNS = ("scan_id", "created_us", *(c for c in _STORED if c != "report"))


def _put_groups(ops: Sequence[Op]
                ) -> Iterator[Update | tuple[tuple[str, ...], bool, list[Put]]]:
    """``ops`` in order, each run of :class:`Put` with the same stored columns (and a
    report or none) as one group ``(columns, with_report, puts)``; updates one by one.
    A batch of link scans is one group: two statements for all of them."""
    group: tuple[tuple[str, ...], bool, list[Put]] | None = None
    for op in ops:
        if isinstance(op, Update):
            if group is not None:
                yield group
                group = None
            yield op
            continue
        cols = tuple(k for k in op.fields if k != "report")
        with_report = op.fields.get("report") is not None
        if group is not None and group[0] == cols and group[1] == with_report:
            group[2].append(op)
        else:
            if group is not None:
                yield group
            group = (cols, with_report, [op])
    if group is not None:
        yield group


class SqliteHistory(SqliteFile):
    """The history in ``<data_dir>/history.sqlite3`` (the embedded default)."""

    error = HistoryUnavailable
    what = "scan history"
    schema = _SCHEMA
    schema_version = 1
    # A record is worth less than a commit's fsync on every batch of scans: one lost
    # to a power cut (never to a crash of the process: WAL) is acceptable.
    synchronous = "NORMAL"

    def __init__(self, path: Path, max_records: int) -> None:
        super().__init__(path)
        self.max_records = max_records
        self.prune_slack = max(1, max_records // 100)
        """Records added between two cuts to ``max_records``: finding the cut walks up
        to ``max_records`` index entries, too much for every batch. So the table holds
        up to 1 % more than ``max_records`` for a while."""
        self._added = self.prune_slack  # the first write after a start cuts

    def _migrate(self, db: sqlite3.Connection) -> None:
        super()._migrate(db)
        # Message checks expire (SCAMSCAN_MESSAGE_RETENTION_DAYS): found by this index.
        with db:
            db.execute("CREATE INDEX IF NOT EXISTS scans_messages ON scans (created_us) "
                       "WHERE kind = 'message'")

    async def prune_messages(self, before_us: int) -> int:
        def run(db: sqlite3.Connection) -> int:
            where = "kind = 'message' AND created_us < ?"
            db.execute(f"DELETE FROM reports WHERE scan_id IN "  # noqa: S608
                       f"(SELECT scan_id FROM scans WHERE {where})", (before_us,))
            return int(db.execute(f"DELETE FROM scans WHERE {where}",  # noqa: S608
                                  (before_us,)).rowcount)

        return await self._run(run)

    async def write(self, ops: Sequence[Op]) -> None:
        def run(db: sqlite3.Connection) -> None:
            added = 0
            for group in _put_groups(ops):
                if isinstance(group, Update):
                    op = group
                    sets = [f"{k} = ?" for k in op.fields]
                    values = list(op.fields.values())
                    if op.hay_app is not None:
                        sets.append("hay_app = ?")
                        values.append(op.hay_app)
                    if op.finished:
                        sets.append("pending = 0")
                    if sets:
                        db.execute(f"UPDATE scans SET {', '.join(sets)} "  # noqa: S608
                                   "WHERE scan_id = ?", (*values, op.scan_id))
                    continue
                # Puts in a row with the same columns: one statement each, many rows
                # (executemany), in their order; a scan's two tables are independent.
                cols, with_report, puts = group
                names = ["scan_id", "created_us", "pending", *cols]
                db.executemany(
                    f"INSERT OR REPLACE INTO scans ({', '.join(names)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' * len(names))})",
                    [(op.scan_id, op.created_us, int(op.pending),
                      *(op.fields[c] for c in cols)) for op in puts])
                if with_report:
                    db.executemany("INSERT OR REPLACE INTO reports (scan_id, report) "
                                   "VALUES (?, ?)",
                                   [(op.scan_id, op.fields["report"]) for op in puts])
                else:
                    db.executemany("DELETE FROM reports WHERE scan_id = ?",
                                   [(op.scan_id,) for op in puts])
                added += len(puts)
            self._added += added
            if added and self._added >= self.prune_slack:
                self._added = 0
                # Keep the newest max_records: drop what is older than the last kept one.
                row = db.execute("SELECT created_us FROM scans ORDER BY created_us DESC "
                                 "LIMIT 1 OFFSET ?", (self.max_records - 1,)).fetchone()
                if row is not None:
                    db.execute("DELETE FROM reports WHERE scan_id IN "
                               "(SELECT scan_id FROM scans WHERE created_us < ?)", row)
                    db.execute("DELETE FROM scans WHERE created_us < ?", row)

        # The batched writes of every scan: over the kept connection (api.storage.sqlite).
        await self._run_kept(run)

    async def search(self, *, owner: str | None, everyone: bool, q: str, kind: str,
                     verdict: str, offset: int, limit: int
                     ) -> tuple[list[dict[str, Any]], int]:
        where: list[str] = []
        args: list[Any] = []
        if not everyone:
            where.append("owner = ?")
            args.append(owner)
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if verdict:
            where.append("verdict = ?")
            args.append(verdict)
        if q:
            # instr: a plain substring, no LIKE wildcards to escape.
            where.append("(instr(hay, ?) > 0 OR instr(hay_app, ?) > 0)")
            args += [q, q]
        clause = f" WHERE {' AND '.join(where)}" if where else ""

        def run(db: sqlite3.Connection) -> tuple[list[dict[str, Any]], int]:
            total = db.execute(f"SELECT count(*) FROM scans{clause}", args).fetchone()[0]  # noqa: S608
            rows = db.execute(
                f"SELECT {', '.join(_ITEM_COLUMNS)} FROM scans{clause} "  # noqa: S608
                "ORDER BY created_us DESC, rowid DESC LIMIT ? OFFSET ?",
                (*args, limit, offset)).fetchall()
            items = []
            for row in rows:
                v = dict(zip(_ITEM_COLUMNS, row, strict=True))
                items.append(_record(v["scan_id"], v["created_us"], v, with_report=False))
            return items, int(total)

        return await self._run(run)

    async def get(self, scan_id: str) -> dict[str, Any] | None:
        def run(db: sqlite3.Connection) -> dict[str, Any] | None:
            row = db.execute(
                f"SELECT {', '.join(_ALL_COLUMNS)}, "  # noqa: S608
                "(SELECT report FROM reports r WHERE r.scan_id = scans.scan_id) "
                "FROM scans WHERE scan_id = ?", (scan_id,)).fetchone()
            if row is None:
                return None
            v = dict(zip((*_ALL_COLUMNS, "report"), row, strict=True))
            return _record(scan_id, v["created_us"], v, with_report=True)

        return await self._run(run)

    async def pending(self, limit: int) -> list[tuple[str, str]]:
        def run(db: sqlite3.Connection) -> list[tuple[str, str]]:
            return [(r[0], r[1]) for r in db.execute(
                "SELECT scan_id, status FROM scans WHERE pending = 1 "
                "ORDER BY created_us LIMIT ?", (limit,))]

        return await self._run(run)

    async def prune(self, before_us: int) -> int:
        """Delete the records created before ``before_us``; how many there were."""
        def run(db: sqlite3.Connection) -> int:
            db.execute("DELETE FROM reports WHERE scan_id IN "
                       "(SELECT scan_id FROM scans WHERE created_us < ?)", (before_us,))
            return db.execute("DELETE FROM scans WHERE created_us < ?", (before_us,)).rowcount

        pruned: int = await self._run(run)
        return pruned

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close_kept)


# --- Redis ------------------------------------------------------------------------

# The search line of the record ARGV[1] (its hash is rec prefix .. id), rebuilt from
# the record itself so that both scripts write it the same way.
_LINE = """
local function line_of(rec)
  local f = redis.call('hmget', rec, 'kind', 'owner', 'verdict', 'hay', 'hay_app')
  return (f[1] or '') .. '\\31' .. (f[2] or '') .. '\\31' .. (f[3] or '') .. '\\31' ..
         (f[4] or '') .. '\\30' .. (f[5] or '')
end
"""

# KEYS: index, lines, pending, messages. ARGV: scan_id, created_us, pending ('1'/'0'),
# max records, record key prefix, TTL in seconds ('0': none; message checks), then the
# record's field/value pairs. Returns how many old records were pruned.
_PUT = _LINE + """
local id, prefix = ARGV[1], ARGV[5]
local rec = prefix .. id
redis.call('del', rec)
redis.call('hset', rec, unpack(ARGV, 7))
if tonumber(ARGV[6]) > 0 then
  redis.call('expire', rec, ARGV[6])
  redis.call('zadd', KEYS[4], ARGV[2], id)
end
redis.call('zadd', KEYS[1], ARGV[2], id)
redis.call('hset', KEYS[2], id, line_of(rec))
if ARGV[3] == '1' then redis.call('zadd', KEYS[3], ARGV[2], id)
else redis.call('zrem', KEYS[3], id) end
local over = redis.call('zcard', KEYS[1]) - tonumber(ARGV[4])
if over > 0 then
  local old = redis.call('zrange', KEYS[1], 0, over - 1)
  for _, o in ipairs(old) do
    redis.call('del', prefix .. o)
    redis.call('hdel', KEYS[2], o)
    redis.call('zrem', KEYS[3], o)
    redis.call('zrem', KEYS[4], o)
  end
  redis.call('zremrangebyrank', KEYS[1], 0, over - 1)
  return over
end
return 0
"""

# KEYS: record, lines, pending. ARGV: scan_id, finished ('1'/'0'), hay_app ('\\0':
# unchanged), then field/value pairs (maybe none). A pruned record is not re-created.
_UPDATE = _LINE + """
local id, rec = ARGV[1], KEYS[1]
if redis.call('exists', rec) == 0 then
  redis.call('zrem', KEYS[3], id)
  return 0
end
if #ARGV >= 5 then redis.call('hset', rec, unpack(ARGV, 4)) end
if ARGV[3] ~= '\\0' then redis.call('hset', rec, 'hay_app', ARGV[3]) end
redis.call('hset', KEYS[2], id, line_of(rec))
if ARGV[2] == '1' then redis.call('zrem', KEYS[3], id) end
return 1
"""

# KEYS: index, lines. ARGV: start, stop (ranks, newest first), kind, by owner ('1'/'0'),
# owner, verdict, q. Returns {ids looked at, matching id, ...}.
_SEARCH = """
local ids = redis.call('zrevrange', KEYS[1], ARGV[1], ARGV[2])
local out = {#ids}
if #ids == 0 then return out end
local kind, by_owner, owner, verdict, q = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local lines = redis.call('hmget', KEYS[2], unpack(ids))
-- Plain finds and substrings only (no patterns, no captures): a few us a line.
for i, line in ipairs(lines) do
  if line and (q == '' or string.find(line, q, 1, true)) then
    local a = string.find(line, '\\31', 1, true)
    local b = a and string.find(line, '\\31', a + 1, true)
    local c = b and string.find(line, '\\31', b + 1, true)
    if c and (kind == '' or string.sub(line, 1, a - 1) == kind)
        and (by_owner ~= '1' or string.sub(line, a + 1, b - 1) == owner)
        and (verdict == '' or string.sub(line, b + 1, c - 1) == verdict)
        and (q == '' or string.find(line, q, c + 1, true)) then
      out[#out + 1] = ids[i]
    end
  end
end
return out
"""


# KEYS: index, lines, pending, messages, and the index walked (messages: expired message
# checks; index: every record past the retention). ARGV: created before (microseconds,
# exclusive), record key prefix, at most how many. Drops those records from every index;
# returns how many.
_PRUNE = """
local ids = redis.call('zrangebyscore', KEYS[5], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do
  redis.call('del', ARGV[2] .. id)
  redis.call('hdel', KEYS[2], id)
  redis.call('zrem', KEYS[1], id)
  redis.call('zrem', KEYS[3], id)
  redis.call('zrem', KEYS[4], id)
end
return #ids
"""
PRUNE_BATCH = 1000
"""Expired message checks one Redis prune script call drops at most."""


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class RedisHistory:
    """The history in Redis, shared by every API replica (keys: see the module doc)."""

    def __init__(self, url: str, max_records: int, prefix: str = PREFIX, *,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.max_records = max_records
        self.prefix = prefix
        self.index, self.lines, self.pending_key = (prefix + "index", prefix + "lines",
                                                    prefix + "pending")
        self.messages = prefix + "messages"
        # Bounded waits, one reconnect after a broken connection (api.storage.redis):
        # a search never hangs on a dead Redis.
        self._redis: aioredis.Redis = async_client(url, timeout, decode_responses=True)
        self._put = self._redis.register_script(_PUT)
        self._update = self._redis.register_script(_UPDATE)
        self._search = self._redis.register_script(_SEARCH)
        self._prune = self._redis.register_script(_PRUNE)

    def rec(self, scan_id: str) -> str:
        return f"{self.prefix}rec:{scan_id}"

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (RedisError, OSError) as e:
            raise HistoryUnavailable(f"Redis failed ({what}): {e}") from e

    async def write(self, ops: Sequence[Op]) -> None:
        with self._errors("write"):
            async with self._redis.pipeline(transaction=False) as p:
                for op in ops:
                    if isinstance(op, Put):
                        pairs: list[Any] = ["created_us", op.created_us]
                        for k, v in op.fields.items():
                            if v is not None:
                                pairs += [k, v]
                        await self._put(keys=[self.index, self.lines, self.pending_key,
                                              self.messages],
                                        args=[op.scan_id, op.created_us, int(op.pending),
                                              self.max_records, self.prefix + "rec:", op.ttl,
                                              *pairs],
                                        client=p)
                    else:
                        pairs = []
                        for k, v in op.fields.items():
                            if v is not None:
                                pairs += [k, v]
                        await self._update(
                            keys=[self.rec(op.scan_id), self.lines, self.pending_key],
                            args=[op.scan_id, int(op.finished),
                                  "\0" if op.hay_app is None else op.hay_app, *pairs],
                            client=p)
                await p.execute()

    async def search(self, *, owner: str | None, everyone: bool, q: str, kind: str,
                     verdict: str, offset: int, limit: int
                     ) -> tuple[list[dict[str, Any]], int]:
        with self._errors("search"):
            if everyone and not (q or kind or verdict):
                # The common console view: straight from the index.
                total = int(await self._redis.zcard(self.index))
                ids = [_text(i) for i in
                       await self._redis.zrevrange(self.index, offset, offset + limit - 1)]
            else:
                ids, total = await self._scan(owner, everyone, q, kind, verdict, offset, limit)
            return await self._items(ids), total

    async def _scan(self, owner: str | None, everyone: bool, q: str, kind: str,
                    verdict: str, offset: int, limit: int) -> tuple[list[str], int]:
        """Matching ids of the page, and how many match in all, chunk by chunk."""
        seen: set[str] = set()  # a record added meanwhile shifts the ranks: no repeats
        page: list[str] = []
        total = 0
        start = 0
        by_owner = "0" if everyone else "1"
        while True:
            out = await self._search(
                keys=[self.index, self.lines],
                args=[start, start + REDIS_CHUNK - 1, kind, by_owner, owner or "", verdict, q])
            looked = int(out[0])
            for raw in out[1:]:
                scan_id = _text(raw)
                if scan_id in seen:
                    continue
                seen.add(scan_id)
                if offset <= total < offset + limit:
                    page.append(scan_id)
                total += 1
            if looked < REDIS_CHUNK:
                return page, total
            start += REDIS_CHUNK

    async def _items(self, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        fields = [c for c in _ITEM_COLUMNS if c not in ("scan_id", "created_us")]
        async with self._redis.pipeline(transaction=False) as p:
            for scan_id in ids:
                p.hmget(self.rec(scan_id), ["created_us", *fields])
            rows = await p.execute()
        items = []
        for scan_id, row in zip(ids, rows, strict=True):
            if row[0] is None:  # pruned between the index read and this one
                continue
            v = dict(zip(fields, row[1:], strict=True))
            items.append(_record(scan_id, row[0], v, with_report=False))
        return items

    async def get(self, scan_id: str) -> dict[str, Any] | None:
        with self._errors("get"):
            raw = await self._redis.hgetall(self.rec(scan_id))
        if not raw:
            return None
        v = {_text(k): _text(x) for k, x in raw.items()}
        return _record(scan_id, v["created_us"], v, with_report=True)

    async def pending(self, limit: int) -> list[tuple[str, str]]:
        with self._errors("pending"):
            ids = [_text(i) for i in await self._redis.zrange(self.pending_key, 0, limit - 1)]
            if not ids:
                return []
            async with self._redis.pipeline(transaction=False) as p:
                for scan_id in ids:
                    p.hget(self.rec(scan_id), "status")
                statuses = await p.execute()
        return [(i, _text(s) if s is not None else "") for i, s in
                zip(ids, statuses, strict=True)]

    async def prune_messages(self, before_us: int) -> int:
        return await self._prune_walking(self.messages, before_us, PRUNE_BATCH)

    async def prune(self, before_us: int) -> int:
        """Delete the records created before ``before_us``, :data:`REDIS_CHUNK` per
        script call (Redis is never blocked for long); how many there were."""
        return await self._prune_walking(self.index, before_us, REDIS_CHUNK)

    async def _prune_walking(self, walk: str, before_us: int, batch: int) -> int:
        """Delete the records of index ``walk`` created before ``before_us``, ``batch``
        per script call; how many there were."""
        total = 0
        with self._errors("prune"):
            while True:
                n = int(await self._prune(
                    keys=[self.index, self.lines, self.pending_key, self.messages, walk],
                    args=[before_us, self.prefix + "rec:", batch]))
                total += n
                if n < batch:
                    return total

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self._redis.aclose()
