"""The feedback store: reports that a verdict was wrong, and their review (SQLite or Redis).

A feedback entry (:class:`Feedback`) says "this was a scam" or "this was not a
scam" about one normalised target (a link, an app's SHA-256, a phone number or a
scan id). It is **pending** until an analyst resolves it (``block``, ``allow``
or ``dismiss``); it never changes a verdict by itself.

**Folding.** A pending entry is unique per *fold key* (the sender's key id,
the kind, the target type and the target): the same key reporting the same
target again increments ``count`` (and keeps the newest non-empty note)
instead of storing another entry.

**Bounds.** At most ``max_pending`` pending entries per sender key (a new,
unfolded entry past it raises :class:`TooManyPending`), and at most
``max_records`` entries in all: past it the oldest *resolved* entries are
deleted first, then, only if every entry is pending, the oldest pending ones.

**Storage.** Embedded: ``<data_dir>/feedback.sqlite3`` (one ``feedback``
table, the entry as JSON beside the indexed columns). Redis: under
``scamscan:feedback:``: ``recs`` (hash id → JSON), ``pending`` and
``resolved`` (sorted sets by time, microseconds), ``fold`` (hash fold key →
pending id) and ``owners`` (hash key id → pending count); each write is one
Lua script. Every method may raise
:class:`~api.storage.errors.FeedbackStoreUnavailable`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.storage import prefixes
from api.storage.errors import FeedbackStoreUnavailable
from api.storage.redis import DEFAULT_TIMEOUT, as_text, store_client, store_errors
from api.storage.sqlite import SqliteFile

FeedbackKind = Literal["scam", "false_positive"]
TargetType = Literal["url", "apk_sha256", "phone", "scan"]
Resolution = Literal["block", "allow", "dismiss"]
Status = Literal["pending", "resolved"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(iso: str) -> int:
    """An ISO 8601 time as integer microseconds since the epoch (a sortable score)."""
    return (datetime.fromisoformat(iso) - _EPOCH) // timedelta(microseconds=1)


class TooManyPending(Exception):
    """The sender already has ``max_pending`` pending entries (the API answers 429)."""


@dataclass(frozen=True)
class Feedback:
    """One feedback entry (JSON-ready: every field is a plain value)."""

    id: str
    kind: FeedbackKind
    target_type: TargetType
    target: str
    """Normalised: a canonical URL, 64 lowercase hex, ``+84…`` or a scan id."""
    owner: str
    """The sender's key id (empty for keyless local use): who it is folded by."""
    reporter: str
    """The sender's key name (``local`` for keyless use)."""
    created: str
    updated: str
    note: str = ""
    scan_id: str | None = None
    count: int = 1
    status: Status = "pending"
    resolution: Resolution | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None
    list_entry_id: str | None = None

    @property
    def fold_key(self) -> str:
        return "\x1f".join((self.owner, self.kind, self.target_type, self.target))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps({**self.to_dict(), "fold_key": self.fold_key}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Feedback:
        d: dict[str, Any] = json.loads(raw)
        d.pop("fold_key", None)
        if d.get("count") is not None:
            d["count"] = int(d["count"])
        return cls(**d)


class FeedbackStore(Protocol):
    """Where feedback entries are kept."""

    async def submit(self, entry: Feedback, max_pending: int, max_records: int
                     ) -> tuple[Feedback, bool]:
        """Store ``entry``, or fold it into the sender's pending entry for the same target
        (``(stored entry, folded)``); :class:`TooManyPending` past ``max_pending``."""
        ...

    async def get(self, entry_id: str) -> Feedback | None: ...

    async def page(self, status: Status, offset: int, limit: int
                   ) -> tuple[list[Feedback], int]:
        """Entries of ``status``, newest first (pending: by last report; resolved: by
        resolution), and how many there are."""
        ...

    async def resolve(self, entry_id: str, resolution: Resolution, by: str, at: str,
                      list_entry_id: str | None) -> tuple[Feedback | None, bool]:
        """Mark a pending entry resolved: ``(entry, changed)``; ``(entry, False)`` when it
        was resolved already, ``(None, False)`` when unknown."""
        ...

    async def close(self) -> None: ...


def _resolved(entry: Feedback, resolution: Resolution, by: str, at: str,
              list_entry_id: str | None) -> Feedback:
    return replace(entry, status="resolved", resolution=resolution, resolved_by=by,
                   resolved_at=at, list_entry_id=list_entry_id)


# --- SQLite ---------------------------------------------------------------------------

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feedback (
        id       TEXT PRIMARY KEY,
        fold_key TEXT NOT NULL,
        status   TEXT NOT NULL CHECK (status IN ('pending', 'resolved')),
        owner    TEXT NOT NULL,
        sort_us  INTEGER NOT NULL,
        doc      TEXT NOT NULL)""",
    # One pending entry per fold key: a second report folds into it.
    "CREATE UNIQUE INDEX IF NOT EXISTS feedback_fold ON feedback (fold_key) "
    "WHERE status = 'pending'",
    "CREATE INDEX IF NOT EXISTS feedback_by_status ON feedback (status, sort_us)",
    "CREATE INDEX IF NOT EXISTS feedback_by_owner ON feedback (owner, status)",
)


class SqliteFeedbackStore(SqliteFile):
    """Feedback in one SQLite file; each call opens a short connection in a worker thread."""

    error = FeedbackStoreUnavailable
    what = "feedback store"
    schema = _SCHEMA

    async def submit(self, entry: Feedback, max_pending: int, max_records: int
                     ) -> tuple[Feedback, bool]:
        def q(db: sqlite3.Connection) -> tuple[Feedback, bool]:
            row = db.execute("SELECT doc FROM feedback WHERE fold_key = ? AND "
                             "status = 'pending'", (entry.fold_key,)).fetchone()
            if row is not None:
                old = Feedback.from_json(row[0])
                new = replace(old, count=old.count + 1, updated=entry.updated,
                              note=entry.note or old.note,
                              scan_id=entry.scan_id or old.scan_id)
                db.execute("UPDATE feedback SET doc = ?, sort_us = ? WHERE id = ?",
                           (new.to_json(), micros(new.updated), old.id))
                return new, True
            pending = db.execute("SELECT COUNT(*) FROM feedback WHERE owner = ? AND "
                                 "status = 'pending'", (entry.owner,)).fetchone()[0]
            if pending >= max_pending:
                raise TooManyPending()
            db.execute("INSERT INTO feedback (id, fold_key, status, owner, sort_us, doc) "
                       "VALUES (?, ?, 'pending', ?, ?, ?)",
                       (entry.id, entry.fold_key, entry.owner, micros(entry.updated),
                        entry.to_json()))
            over = db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] - max_records
            for status in ("resolved", "pending"):  # the oldest resolved go first
                if over <= 0:
                    break
                gone = db.execute(
                    "DELETE FROM feedback WHERE id IN (SELECT id FROM feedback WHERE status = ? "
                    "AND id != ? ORDER BY sort_us LIMIT ?)", (status, entry.id, over)).rowcount
                over -= gone
            return entry, False

        result: tuple[Feedback, bool] = await self._run(q)
        return result

    async def get(self, entry_id: str) -> Feedback | None:
        def q(db: sqlite3.Connection) -> Feedback | None:
            row = db.execute("SELECT doc FROM feedback WHERE id = ?", (entry_id,)).fetchone()
            return None if row is None else Feedback.from_json(row[0])

        result: Feedback | None = await self._run(q)
        return result

    async def page(self, status: Status, offset: int, limit: int
                   ) -> tuple[list[Feedback], int]:
        def q(db: sqlite3.Connection) -> tuple[list[Feedback], int]:
            total = db.execute("SELECT COUNT(*) FROM feedback WHERE status = ?",
                               (status,)).fetchone()[0]
            rows = db.execute("SELECT doc FROM feedback WHERE status = ? ORDER BY sort_us "
                              "DESC, id DESC LIMIT ? OFFSET ?", (status, limit, offset))
            return [Feedback.from_json(r[0]) for r in rows], int(total)

        result: tuple[list[Feedback], int] = await self._run(q)
        return result

    async def resolve(self, entry_id: str, resolution: Resolution, by: str, at: str,
                      list_entry_id: str | None) -> tuple[Feedback | None, bool]:
        def q(db: sqlite3.Connection) -> tuple[Feedback | None, bool]:
            row = db.execute("SELECT doc, status FROM feedback WHERE id = ?",
                             (entry_id,)).fetchone()
            if row is None:
                return None, False
            old = Feedback.from_json(row[0])
            if row[1] != "pending":
                return old, False
            new = _resolved(old, resolution, by, at, list_entry_id)
            db.execute("UPDATE feedback SET status = 'resolved', doc = ?, sort_us = ? "
                       "WHERE id = ?", (new.to_json(), micros(at), entry_id))
            return new, True

        result: tuple[Feedback | None, bool] = await self._run(q)
        return result

    async def close(self) -> None:
        return None


# --- Redis ----------------------------------------------------------------------------

# KEYS: recs, pending, resolved, fold, owners
# ARGV: fold key, id, json, owner, now (us), max pending, max records, note, updated, scan id
_SUBMIT = """
local id = redis.call('hget', KEYS[4], ARGV[1])
if id then
  local doc = cjson.decode(redis.call('hget', KEYS[1], id))
  doc['count'] = tonumber(doc['count']) + 1
  doc['updated'] = ARGV[9]
  if ARGV[8] ~= '' then doc['note'] = ARGV[8] end
  if ARGV[10] ~= '' then doc['scan_id'] = ARGV[10] end
  local raw = cjson.encode(doc)
  redis.call('hset', KEYS[1], id, raw)
  redis.call('zadd', KEYS[2], ARGV[5], id)
  return {'1', raw}
end
if tonumber(redis.call('hget', KEYS[5], ARGV[4]) or '0') >= tonumber(ARGV[6]) then
  return {'2', ''}
end
redis.call('hset', KEYS[1], ARGV[2], ARGV[3])
redis.call('zadd', KEYS[2], ARGV[5], ARGV[2])
redis.call('hset', KEYS[4], ARGV[1], ARGV[2])
redis.call('hincrby', KEYS[5], ARGV[4], 1)
local over = redis.call('hlen', KEYS[1]) - tonumber(ARGV[7])
while over > 0 do
  local old = redis.call('zrange', KEYS[3], 0, 0)
  if #old > 0 then
    redis.call('zrem', KEYS[3], old[1])
    redis.call('hdel', KEYS[1], old[1])
  else
    old = redis.call('zrange', KEYS[2], 0, 1)
    local victim = old[1]
    if victim == ARGV[2] then victim = old[2] end
    if not victim then break end
    local doc = cjson.decode(redis.call('hget', KEYS[1], victim))
    redis.call('zrem', KEYS[2], victim)
    redis.call('hdel', KEYS[1], victim)
    if redis.call('hget', KEYS[4], doc['fold_key']) == victim then
      redis.call('hdel', KEYS[4], doc['fold_key'])
    end
    redis.call('hincrby', KEYS[5], doc['owner'], -1)
  end
  over = over - 1
end
return {'0', ARGV[3]}
"""

# KEYS: recs, pending, resolved, fold, owners
# ARGV: id, resolution, by, at, list entry id, at (us)
_RESOLVE = """
local raw = redis.call('hget', KEYS[1], ARGV[1])
if not raw then return {'0', ''} end
if not redis.call('zscore', KEYS[2], ARGV[1]) then return {'1', raw} end
local doc = cjson.decode(raw)
doc['status'] = 'resolved'
doc['resolution'] = ARGV[2]
doc['resolved_by'] = ARGV[3]
doc['resolved_at'] = ARGV[4]
if ARGV[5] ~= '' then doc['list_entry_id'] = ARGV[5] end
raw = cjson.encode(doc)
redis.call('hset', KEYS[1], ARGV[1], raw)
redis.call('zrem', KEYS[2], ARGV[1])
redis.call('zadd', KEYS[3], ARGV[6], ARGV[1])
if redis.call('hget', KEYS[4], doc['fold_key']) == ARGV[1] then
  redis.call('hdel', KEYS[4], doc['fold_key'])
end
redis.call('hincrby', KEYS[5], doc['owner'], -1)
return {'2', raw}
"""


class RedisFeedbackStore:
    """Feedback on Redis (see the module docstring for the keys)."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT,
                 prefix: str = prefixes.FEEDBACK) -> None:
        self._redis: aioredis.Redis = store_client(url, timeout, FeedbackStoreUnavailable)
        self._keys = [prefix + k for k in ("recs", "pending", "resolved", "fold", "owners")]
        self._submit = self._redis.register_script(_SUBMIT)
        self._resolve = self._redis.register_script(_RESOLVE)

    def _errors(self, what: str) -> AbstractContextManager[None]:
        return store_errors(FeedbackStoreUnavailable, "feedback", what)

    async def submit(self, entry: Feedback, max_pending: int, max_records: int
                     ) -> tuple[Feedback, bool]:
        with self._errors("submit"):
            code, raw = await self._submit(keys=self._keys, args=[
                entry.fold_key, entry.id, entry.to_json(), entry.owner, micros(entry.updated),
                max_pending, max_records, entry.note, entry.updated, entry.scan_id or ""])
        if as_text(code) == "2":
            raise TooManyPending()
        return Feedback.from_json(raw), as_text(code) == "1"

    async def get(self, entry_id: str) -> Feedback | None:
        with self._errors("get"):
            raw = await self._redis.hget(self._keys[0], entry_id)
        return None if raw is None else Feedback.from_json(raw)

    async def page(self, status: Status, offset: int, limit: int
                   ) -> tuple[list[Feedback], int]:
        zset = self._keys[1] if status == "pending" else self._keys[2]
        with self._errors("page"):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zcard(zset)
                pipe.zrevrange(zset, offset, offset + limit - 1)
                total, ids = await pipe.execute()
            raws = await self._redis.hmget(self._keys[0], ids) if ids else []
        return [Feedback.from_json(r) for r in raws if r is not None], int(total)

    async def resolve(self, entry_id: str, resolution: Resolution, by: str, at: str,
                      list_entry_id: str | None) -> tuple[Feedback | None, bool]:
        with self._errors("resolve"):
            code, raw = await self._resolve(keys=self._keys, args=[
                entry_id, resolution, by, at, list_entry_id or "", micros(at)])
        code = as_text(code)
        if code == "0":
            return None, False
        return Feedback.from_json(raw), code == "2"

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await self._redis.aclose()
