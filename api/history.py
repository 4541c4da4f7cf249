"""Scan history: every link and APK scan and message check, searchable by analysts and
their owners.

The lifespan of :mod:`api.main` puts a :class:`ScanHistory` on
``app.state.history``. The interface the routes and the console use::

    history: ScanHistory = app.state.history

    await history.search(principal: Principal, q: str | None, kind: str | None,
                         verdict: str | None, page: int, per_page: int) -> dict[str, Any]
        # {"items": [item, ...], "page": int, "per_page": int, "total": int}, newest first;
        # item = {scan_id, kind, created (datetime, UTC), status, input, host,
        #         registrable_domain, package, label, sha256, verdict, risk_score,
        #         status_url}; absent values are None.
        # A `client` principal sees only its own scans (Principal.can_see).
        # Invalid kind / verdict / page / per_page: ProblemException 422.
        # Backend down (Redis): HistoryUnavailable, a 503 ProblemException.
    await history.get(scan_id: str) -> dict[str, Any] | None
        # the record: the item's fields plus "owner" (key id, None: keyless),
        # "host_unicode", "lang" (links: language the report was stored in) and
        # "report" (links: the stored URL report dict, None when it was over the cap;
        # APK records: always None, the report lives with the job, see api.jobs).
        # No visibility check here: callers check principal.can_see(record["owner"]).

    history.record_url(report, owner=..., lang=...)   # after a link scan (never blocks)
    history.record_message(stored, owner=..., lang=...)  # after a message check (masked)
    history.record_apk(job, source_url=None)          # after an APK job is accepted
    history.observe_apk(view)                          # a job view the API just answered
    await history.flush()                              # wait for the queued writes

**Recording never fails a scan.** ``record_*`` and ``observe_apk`` only queue
the write; one writer task writes the queue in order, in batches. A backend
failure is logged as a warning and the batch dropped; past
:data:`MAX_QUEUED` queued writes new ones are dropped (bounded memory).
``search`` and ``get`` first wait for the writes this process queued, so a
scan is found as soon as its answer was sent (other replicas see it a few
milliseconds later).

**APK verdicts.** An APK record is written ``queued`` (or ``done`` when the
upload was answered from a stored report) without a verdict. The verdict,
score, package and label are filled when the API first observes the job done
(the upload answered with ``wait``, a ``GET /v1/scans/{id}``), or by
:meth:`ScanHistory.sync_pending`, which asks the job backend about records
still ``queued``/``running``: before every search and :meth:`get` of such a
record, and every ``SCAMSCAN_HISTORY_SYNC_INTERVAL`` seconds in the
background. So a search by verdict finds a finished APK scan even when nobody
polled it, including scans that a ``scamscan worker`` finished (the worker
writes nothing here; the API reads the job record).

**Storage.**

* Embedded (no ``SCAMSCAN_REDIS_URL``): ``<data_dir>/history.sqlite3`` (a
  ``scans`` table and, apart so that searches scan small rows, a ``reports``
  table of link reports; WAL; :class:`api.sqlite.SqliteFile`).
* Redis: shared by every API replica; keys under ``scamscan:history:``:
  ``index`` (sorted set: scan_id by creation time, microseconds),
  ``rec:<scan_id>`` (hash: the record, the link report as JSON in ``report``),
  ``lines`` (hash: scan_id → a compact search line ``kind␟owner␟verdict␟text``)
  and ``pending`` (sorted set: APK records not yet finished). Every write is
  one Lua script that also prunes.

Both keep at most ``SCAMSCAN_HISTORY_MAX_RECORDS`` records (default 50,000;
the oldest are dropped).

**Message checks** (``kind=message``) are stored as the caller's
:func:`scanners.identifiers.stored_report` made them: the text and the report
with every phone number and account masked (``091*****78``). They are kept
``SCAMSCAN_MESSAGE_RETENTION_DAYS`` days (default 30): SQLite deletes older
ones every :data:`PRUNE_EVERY` seconds (:meth:`ScanHistory.prune`); Redis sets
a TTL on the record and keeps a ``messages`` sorted set (scan_id by creation
time) that the same pruning reads to drop the index and search lines of
expired ones. :meth:`ScanHistory.get` never answers an expired one, pruned
yet or not. The clock is injectable (``clock=``) for tests. A link report larger than
``SCAMSCAN_HISTORY_REPORT_MAX_BYTES`` (256 KiB of JSON) is stored without the
``evidence`` of its findings, and not at all if still too large (the record
stays searchable; ``report`` is then None).

**Search.** ``q`` is a case-insensitive substring of the input, host (ASCII and
Unicode), registrable domain, sha256 (a prefix or the whole), package or
label; ``kind`` and ``verdict`` are exact. SQLite answers with one indexed
query; Redis scans the index in chunks of :data:`REDIS_CHUNK` ids with a Lua
script that matches the search lines in the server and returns only the
matching ids (each call is short, so Redis is never blocked for long), and
answers an unfiltered analyst search from the index alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.auth import Principal
from api.jobs import Job, JobBackend, QueueUnavailable
from api.problems import TYPE_BUSY, TYPE_VALIDATION, ProblemError, ProblemException
from api.redis_client import DEFAULT_TIMEOUT, async_client
from api.settings import Settings
from api.sqlite import SqliteFile
from scanners.errors import InvalidURLError
from scanners.findings import Verdict
from scanners.normalize import normalize

log = logging.getLogger("scamscan.api")

ScanKind = Literal["url", "apk", "message"]
KINDS: tuple[str, ...] = get_args(ScanKind)
VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
HISTORY_FILE = "history.sqlite3"
PREFIX = "scamscan:history:"
REDIS_CHUNK = 1000
"""Ids one Redis search script call looks at."""
MAX_QUEUED = 10_000
"""Writes waiting for the writer task at most; more are dropped with a warning."""
SYNC_BATCH = 200
"""Unfinished APK records one :meth:`ScanHistory.sync_pending` call looks at (oldest first)."""
SEEN_MAX = 10_000
"""APK statuses remembered to skip writing an observation that changed nothing."""
WARN_EVERY = 30.0
"""Seconds between two warnings about failing history writes."""
PRUNE_EVERY = 60.0
"""Seconds between two deletions of expired message checks."""
MESSAGE_INPUT_CHARS = 200
"""The start of a message's (masked) text kept as its ``input`` in search items."""

ITEM_FIELDS = ("scan_id", "kind", "created", "status", "input", "host", "registrable_domain",
               "package", "label", "sha256", "verdict", "risk_score", "status_url")
"""The fields of a search item, in the API's order."""

_FINISHED = ("done", "failed")
_SEP = "\x1e"
"""Between the searchable texts of one record (nobody types it in a query)."""


class HistoryUnavailable(ProblemException):
    """The history's backend failed (Redis down, the SQLite file unusable): a 503 problem."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, "The scan history is unavailable right now; try again shortly.",
                         type_=TYPE_BUSY, title="History unavailable",
                         headers={"retry-after": "10"})
        self.reason = detail


def _now() -> datetime:
    return datetime.now(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(t: datetime) -> int:
    """A time as integer microseconds since the epoch (exact; sortable; a Redis score
    holds it exactly, being below 2**53)."""
    return (t - _EPOCH) // timedelta(microseconds=1)


def _from_us(us: int | float | str) -> datetime:
    return _EPOCH + timedelta(microseconds=int(float(us)))


def status_url(scan_id: str) -> str:
    return f"/v1/scans/{scan_id}"


def _hay(*parts: str | None) -> str:
    """The lowercased searchable text of some fields."""
    return _SEP.join(p.lower() for p in parts if p)


def _capped_report(report: Mapping[str, Any], max_bytes: int) -> str | None:
    """``report`` as JSON within ``max_bytes``: whole, else without finding evidence,
    else None (not kept)."""
    text = json.dumps(report, ensure_ascii=False, default=str)
    if len(text.encode()) <= max_bytes:
        return text
    slim = {**report, "findings": [{**f, "evidence": {"omitted": "too large to keep"}}
                                   for f in report.get("findings") or []]}
    text = json.dumps(slim, ensure_ascii=False, default=str)
    if len(text.encode()) <= max_bytes:
        return text
    log.warning("link report %s (%d bytes) is over the history cap of %d bytes: not kept",
                report.get("scan_id"), len(text.encode()), max_bytes)
    return None


# --- writes ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Put:
    """A new record. ``fields``: the stored columns (None values are absent)."""

    scan_id: str
    created_us: int
    fields: dict[str, Any]
    pending: bool
    ttl: int = 0
    """Seconds the record is kept (message checks); 0: until pruned by count."""


@dataclass(frozen=True)
class _Update:
    """A change of an APK record (status; verdict and app fields once known)."""

    scan_id: str
    fields: dict[str, Any]
    hay_app: str | None
    finished: bool


_Op = _Put | _Update


class _Backend(Protocol):
    async def write(self, ops: Sequence[_Op]) -> None: ...

    async def search(self, *, owner: str | None, everyone: bool, q: str, kind: str,
                     verdict: str, offset: int, limit: int
                     ) -> tuple[list[dict[str, Any]], int]: ...

    async def get(self, scan_id: str) -> dict[str, Any] | None: ...

    async def pending(self, limit: int) -> list[tuple[str, str]]: ...

    async def prune_messages(self, before_us: int) -> int: ...

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


class SqliteHistory(SqliteFile):
    """The history in ``<data_dir>/history.sqlite3`` (the embedded default)."""

    error = HistoryUnavailable
    what = "scan history"
    schema = _SCHEMA
    schema_version = 1

    def __init__(self, path: Path, max_records: int) -> None:
        super().__init__(path)
        self.max_records = max_records

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

    async def write(self, ops: Sequence[_Op]) -> None:
        def run(db: sqlite3.Connection) -> None:
            added = False
            for op in ops:
                if isinstance(op, _Put):
                    fields = {k: v for k, v in op.fields.items() if k != "report"}
                    cols = ["scan_id", "created_us", "pending", *fields]
                    db.execute(
                        f"INSERT OR REPLACE INTO scans ({', '.join(cols)}) "  # noqa: S608
                        f"VALUES ({', '.join('?' * len(cols))})",
                        (op.scan_id, op.created_us, int(op.pending), *fields.values()))
                    if op.fields.get("report") is not None:
                        db.execute("INSERT OR REPLACE INTO reports (scan_id, report) "
                                   "VALUES (?, ?)", (op.scan_id, op.fields["report"]))
                    else:
                        db.execute("DELETE FROM reports WHERE scan_id = ?", (op.scan_id,))
                    added = True
                else:
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
            if added:
                # Keep the newest max_records: drop what is older than the last kept one.
                row = db.execute("SELECT created_us FROM scans ORDER BY created_us DESC "
                                 "LIMIT 1 OFFSET ?", (self.max_records - 1,)).fetchone()
                if row is not None:
                    db.execute("DELETE FROM reports WHERE scan_id IN "
                               "(SELECT scan_id FROM scans WHERE created_us < ?)", row)
                    db.execute("DELETE FROM scans WHERE created_us < ?", row)

        await self._run(run)

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

    async def aclose(self) -> None:
        return None


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


# KEYS: index, lines, pending, messages. ARGV: created before (microseconds), record key
# prefix, at most how many. Drops expired message checks; returns how many.
_PRUNE = """
local ids = redis.call('zrangebyscore', KEYS[4], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[3])
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
        # Bounded waits, one reconnect after a broken connection (api.redis_client):
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

    async def write(self, ops: Sequence[_Op]) -> None:
        with self._errors("write"):
            async with self._redis.pipeline(transaction=False) as p:
                for op in ops:
                    if isinstance(op, _Put):
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
        total = 0
        with self._errors("prune"):
            while True:
                n = int(await self._prune(
                    keys=[self.index, self.lines, self.pending_key, self.messages],
                    args=[before_us, self.prefix + "rec:", PRUNE_BATCH]))
                total += n
                if n < PRUNE_BATCH:
                    return total

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self._redis.aclose()


# --- the facade ---------------------------------------------------------------------


class ScanHistory:
    """Records scans and answers searches (see the module doc for the interface).

    ``jobs`` is the APK job backend the verdicts of unfinished APK records are
    read from. Call :meth:`start` on the event loop before recording (the app's
    lifespan does), :meth:`aclose` at the end.
    """

    def __init__(self, backend: _Backend, *, jobs: JobBackend | None = None,
                 report_max_bytes: int = 256 * 1024, sync_interval: float = 5.0,
                 message_retention: timedelta = timedelta(days=30),
                 clock: Callable[[], datetime] = _now) -> None:
        self.backend = backend
        self.jobs = jobs
        self.report_max_bytes = report_max_bytes
        self.sync_interval = sync_interval
        self.message_retention = message_retention
        self.clock = clock
        """The time records are stamped with and message checks expire by."""
        self._pruner: asyncio.Task[None] | None = None
        self.dropped = 0
        """Writes dropped (queue full, or their batch failed)."""
        self._queue: asyncio.Queue[_Op | asyncio.Future[None]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._syncer: asyncio.Task[None] | None = None
        self._sync: asyncio.Task[None] | None = None
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._warned_at = -float("inf")
        self._closed = False

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Start the writer and the periodic sync of unfinished APK records."""
        loop = asyncio.get_running_loop()
        self._writer = loop.create_task(self._write_loop())
        self._pruner = loop.create_task(self._prune_loop())
        if self.jobs is not None:
            self._syncer = loop.create_task(self._sync_loop())

    async def aclose(self) -> None:
        """Write what is queued, stop the tasks, close the backend. Never raises."""
        self._closed = True
        try:
            tasks = [t for t in (self._syncer, self._sync, self._pruner) if t is not None]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._writer is not None and not self._writer.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.flush(), 10)
                self._writer.cancel()
                await asyncio.gather(self._writer, return_exceptions=True)
        finally:
            with contextlib.suppress(Exception):
                await self.backend.aclose()

    # --- recording -----------------------------------------------------------------

    def record_url(self, report: Mapping[str, Any], *, owner: str | None,
                   lang: str) -> None:
        """Record a finished link scan (``report``: the API's answer, with ``scan_id``)."""
        scan_id = str(report["scan_id"])
        fields: dict[str, Any] = {
            "kind": "url", "owner": owner, "status": "done",
            "input": str(report.get("input") or ""), "host": report.get("host"),
            "host_unicode": report.get("host_unicode"),
            "registrable_domain": report.get("registrable_domain"),
            "verdict": report.get("verdict"), "risk_score": report.get("risk_score"),
            "lang": lang, "report": _capped_report(report, self.report_max_bytes),
        }
        fields["hay"] = _hay(fields["input"], fields["host"], fields["host_unicode"],
                             fields["registrable_domain"])
        self._enqueue(_Put(scan_id, _us(self.clock()), fields, pending=False))

    def record_message(self, report: Mapping[str, Any], *, owner: str | None,
                       lang: str) -> None:
        """Record a message check. ``report``: what may be kept of it, with ``check_id``
        and ``text``, its numbers already masked
        (:func:`scanners.identifiers.stored_report`); it expires after the retention."""
        scan_id = str(report["check_id"])
        text = str(report.get("text") or "")
        hosts = [str(i.get("host") or "") for i in report.get("items") or []
                 if isinstance(i, Mapping) and i.get("kind") == "link"]
        fields: dict[str, Any] = {
            "kind": "message", "owner": owner, "status": "done",
            "input": " ".join(text.split())[:MESSAGE_INPUT_CHARS],
            "verdict": report.get("verdict"), "risk_score": report.get("risk_score"),
            "lang": lang, "report": _capped_report(report, self.report_max_bytes),
            "hay": _hay(text, *hosts),
        }
        ttl = max(1, int(self.message_retention.total_seconds()))
        self._enqueue(_Put(scan_id, _us(self.clock()), fields, pending=False, ttl=ttl))

    def _expired(self, record: Mapping[str, Any]) -> bool:
        """A message check older than the retention (pruned soon, never answered)."""
        created = record.get("created")
        return (record.get("kind") == "message" and isinstance(created, datetime)
                and created < self.clock() - self.message_retention)

    async def prune(self) -> int:
        """Delete the message checks older than the retention; how many went."""
        await self.flush()
        return await self.backend.prune_messages(_us(self.clock() - self.message_retention))

    async def _prune_loop(self) -> None:
        while True:
            try:
                n = await self.prune()
                if n:
                    log.info("scan history: %d expired message checks deleted", n)
            except HistoryUnavailable as e:
                self._warn(f"expired message checks not deleted: {e.reason}")
            except Exception as e:  # keep pruning after a bug in one run
                log.error("scan history prune failed", exc_info=e)
            await asyncio.sleep(PRUNE_EVERY)

    def record_apk(self, job: Job, *, source_url: str | None = None) -> None:
        """Record an accepted APK job. ``source_url``: where a live link scan downloaded
        it; its host and registrable domain are recorded (so searching the site finds
        the app)."""
        host = host_unicode = domain = None
        if source_url:
            try:
                parsed = normalize(source_url)
            except InvalidURLError:
                pass
            else:
                host, host_unicode, domain = (parsed.host, parsed.host_unicode,
                                              parsed.registrable_domain)
        status, _ = job.view_status()
        fields: dict[str, Any] = {
            "kind": "apk", "owner": job.owner, "status": status, "input": job.input,
            "host": host, "host_unicode": host_unicode, "registrable_domain": domain,
            "sha256": job.sha256,
            "hay": _hay(job.input, host, host_unicode, domain, job.sha256),
        }
        # Pending until its final state is recorded; a job already done (answered from
        # a stored report) too, until its verdict is read.
        self._enqueue(_Put(job.scan_id, _us(job.created), fields, pending=status != "failed"))
        self._remember(job.scan_id, f"{status}:")

    def observe_apk(self, view: Mapping[str, Any]) -> None:
        """Note what the API just answered about an APK job (``api.main``'s job view):
        its status and, once done, its verdict, score, package and label."""
        scan_id, status = str(view["scan_id"]), str(view["status"])
        report = view.get("report")
        if status == "done" and not isinstance(report, Mapping):
            return  # done without a report in hand: left to sync_pending
        self._observed(scan_id, status, report if isinstance(report, Mapping) else None)

    def _observed(self, scan_id: str, status: str, report: Mapping[str, Any] | None) -> None:
        seen = f"{status}:{'' if report is None else 'report'}"
        if self._seen.get(scan_id) == seen:
            return  # polling an unchanged job writes nothing
        self._remember(scan_id, seen)
        fields: dict[str, Any] = {"status": status}
        hay_app = None
        if report is not None:
            fields.update({"verdict": report.get("verdict"),
                           "risk_score": report.get("risk_score"),
                           "package": report.get("package"), "label": report.get("label")})
            hay_app = _hay(report.get("package"), report.get("label"))
        self._enqueue(_Update(scan_id, fields, hay_app, finished=status in _FINISHED))

    def _remember(self, scan_id: str, seen: str) -> None:
        """What was last written for ``scan_id``: ``<status>:`` or ``<status>:report``
        (bounded: the oldest are forgotten)."""
        self._seen[scan_id] = seen
        self._seen.move_to_end(scan_id)
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)

    def _enqueue(self, op: _Op) -> None:
        if self._closed or self._writer is None or self._writer.done():
            self._warn("the history writer is not running; a scan was not recorded")
            self.dropped += 1
            return
        if self._queue.qsize() >= MAX_QUEUED:
            self._warn(f"{MAX_QUEUED} history writes are waiting; a scan was not recorded")
            self.dropped += 1
            return
        self._queue.put_nowait(op)

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("scan history: %s", message)

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            ops = [x for x in batch if not isinstance(x, asyncio.Future)]
            if ops:
                try:
                    await self.backend.write(ops)
                except HistoryUnavailable as e:
                    self.dropped += len(ops)
                    self._warn(f"{len(ops)} records not written: {e.reason}")
                except Exception as e:  # a bug must not stop the recording of the next scans
                    self.dropped += len(ops)
                    log.error("scan history write failed", exc_info=e)
            for x in batch:
                if isinstance(x, asyncio.Future) and not x.done():
                    x.set_result(None)

    async def flush(self) -> None:
        """Wait until the writes queued so far were made (or dropped)."""
        if self._writer is None or self._writer.done():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(done)
        await done

    # --- APK verdicts ------------------------------------------------------------------

    async def sync_pending(self) -> None:
        """Read the job state of unfinished APK records (at most :data:`SYNC_BATCH`,
        oldest first) and record what changed. One run at a time: a caller arriving
        during a run waits for it. A failing job backend ends the run quietly."""
        if self.jobs is None:
            return
        if self._sync is None or self._sync.done():
            self._sync = asyncio.get_running_loop().create_task(self._sync_once())
        await asyncio.shield(self._sync)

    async def _sync_once(self) -> None:
        try:
            pending = await self.backend.pending(SYNC_BATCH)
        except HistoryUnavailable:
            return
        try:
            for scan_id, known in pending:
                try:
                    await self._refresh(scan_id, known)
                except QueueUnavailable:
                    return
                except Exception as e:  # one bad record must not stop the others
                    log.error("scan history: cannot read apk scan %s", scan_id, exc_info=e)
        finally:
            await self.flush()

    async def _refresh(self, scan_id: str, known: str) -> None:
        jobs = self.jobs
        if jobs is None:
            return
        job = await jobs.lookup(scan_id)
        if job is None:  # forgotten by the job backend: stop asking, keep the record
            self._enqueue(_Update(scan_id, {}, None, finished=True))
            return
        status, _ = job.view_status()
        if status == "done":
            result = await jobs.result(job)
            report = result.report("en") if result is not None else None
            self._seen.pop(scan_id, None)
            if report is None:
                self._enqueue(_Update(scan_id, {"status": status}, None, finished=True))
            else:
                self._observed(scan_id, status, report)
        elif status != known:
            self._seen.pop(scan_id, None)
            self._observed(scan_id, status, None)

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sync_interval)
            try:
                await self.sync_pending()
            except Exception as e:  # keep syncing after a bug in one run
                log.error("scan history sync failed", exc_info=e)

    # --- reading -----------------------------------------------------------------------

    async def search(self, principal: Principal, q: str | None, kind: str | None,
                     verdict: str | None, page: int, per_page: int) -> dict[str, Any]:
        """The scans ``principal`` may see that match, newest first, one page of them."""
        errors = []
        if kind and kind not in KINDS:
            errors.append(("kind", f"one of: {', '.join(KINDS)}"))
        if verdict and verdict not in VERDICTS:
            errors.append(("verdict", f"one of: {', '.join(VERDICTS)}"))
        if not 1 <= page <= MAX_PAGE:
            errors.append(("page", f"from 1 to {MAX_PAGE}"))
        if not 1 <= per_page <= MAX_PER_PAGE:
            errors.append(("per_page", f"from 1 to {MAX_PER_PAGE}"))
        if errors:
            raise ProblemException(
                422, "; ".join(f"{f}: {m}" for f, m in errors), type_=TYPE_VALIDATION,
                title="Invalid request",
                errors=[ProblemError(field=f, location="query", message=m, type="value_error")
                        for f, m in errors])
        everyone = principal.at_least("analyst")
        if not everyone and principal.key_id is None:
            return {"items": [], "page": page, "per_page": per_page, "total": 0}
        await self.flush()
        await self.sync_pending()
        items, total = await self.backend.search(
            owner=principal.key_id, everyone=everyone, q=(q or "").strip().lower(),
            kind=kind or "", verdict=verdict or "", offset=(page - 1) * per_page,
            limit=per_page)
        return {"items": items, "page": page, "per_page": per_page, "total": total}

    async def get(self, scan_id: str) -> dict[str, Any] | None:
        """The record of ``scan_id`` (with ``report`` for links), or None."""
        await self.flush()
        record = await self.backend.get(scan_id)
        if record is not None and self._expired(record):
            return None
        if (record is not None and record["kind"] == "apk" and self.jobs is not None
                and record["status"] != "failed" and record["verdict"] is None):
            try:
                await self._refresh(scan_id, str(record["status"]))
            except QueueUnavailable:
                return record
            except Exception as e:  # the record as stored is still an answer
                log.error("scan history: cannot read apk scan %s", scan_id, exc_info=e)
                return record
            await self.flush()
            record = await self.backend.get(scan_id)
        return record


def open_history(settings: Settings, jobs: JobBackend | None) -> ScanHistory:
    """The history for ``settings``: in Redis when ``redis_url`` is set, else SQLite in
    the data directory. Call :meth:`ScanHistory.start` on the event loop."""
    backend: _Backend
    if settings.redis_url:
        backend = RedisHistory(settings.redis_url, settings.history_max_records,
                               timeout=settings.redis_timeout)
    else:
        backend = SqliteHistory(Path(settings.data_dir) / HISTORY_FILE,
                                settings.history_max_records)
    return ScanHistory(backend, jobs=jobs, report_max_bytes=settings.history_report_max_bytes,
                       sync_interval=settings.history_sync_interval,
                       message_retention=timedelta(days=settings.message_retention_days))
