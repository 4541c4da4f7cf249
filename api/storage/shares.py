"""The share store: read-only links to one report, with an expiry (SQLite or Redis).

A share (:class:`Share`) names a scan and when it expires. Its token is never
stored: only its SHA-256 (``token_hash``), so a copy of the store (a backup, a
Redis dump) does not reveal a live link. A share also has a short ``id``, by
which an analyst revokes it without knowing the token.

**Storage.** Embedded: ``<data_dir>/shares.sqlite3`` (one ``shares`` table;
expired rows are deleted on every new share). Redis: under ``scamscan:share:``:
``tok:<token hash>`` (the share as JSON) and ``id:<id>`` (its token hash),
both expiring with the share, and ``scan:<scan_id>`` (a sorted set of the
scan's share ids by expiry), and ``owner:<key id>`` (the same, per creating
key). At most ``max_per_scan`` live shares per scan and ``max_per_owner`` per
key (:class:`TooManyShares`): links live for weeks, so without the second bound
a key making new scans and links at its rate limit would fill the store (Redis
runs with ``noeviction``: every write would then fail). Every method may raise
:class:`~api.storage.errors.ShareStoreUnavailable`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.storage import prefixes
from api.storage.errors import ShareStoreUnavailable
from api.storage.redis import DEFAULT_TIMEOUT, as_text, store_client, store_errors
from api.storage.sqlite import SqliteFile


class TooManyShares(Exception):
    """The scan (``per == "scan"``) or the key (``per == "owner"``) has as many live
    shares as allowed already (the API answers 429)."""

    def __init__(self, per: str = "scan") -> None:
        super().__init__(per)
        self.per = per


@dataclass(frozen=True)
class Share:
    """One share link (its token only as a hash)."""

    id: str
    token_hash: str
    scan_id: str
    owner: str
    """The creator's key id (empty for keyless local use)."""
    created_by: str
    created: str
    expires: str
    """ISO 8601, UTC."""
    expires_at: float
    """The same, as a Unix time (what expiry is checked against)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Share:
        d = json.loads(raw)
        d["expires_at"] = float(d["expires_at"])
        return cls(**d)

    def live(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.expires_at


class ShareStore(Protocol):
    """Where shares are kept."""

    async def create(self, share: Share, max_per_scan: int, max_per_owner: int) -> None: ...

    async def by_token_hash(self, token_hash: str) -> Share | None:
        """The live share of this token hash (None when unknown, revoked or expired)."""
        ...

    async def for_scan(self, scan_id: str) -> list[Share]:
        """The live shares of a scan, the newest first."""
        ...

    async def revoke(self, *, token_hash: str | None = None, share_id: str | None = None
                     ) -> Share | None:
        """Delete a share by its token hash or its id; the share, or None when unknown."""
        ...

    async def close(self) -> None: ...


# --- SQLite ---------------------------------------------------------------------------

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS shares (
        id         TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        scan_id    TEXT NOT NULL,
        expires_at REAL NOT NULL,
        doc        TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS shares_by_scan ON shares (scan_id, expires_at)",
    "CREATE INDEX IF NOT EXISTS shares_by_expiry ON shares (expires_at)",
    "CREATE INDEX IF NOT EXISTS shares_by_owner ON shares (json_extract(doc, '$.owner'))",
)


class SqliteShareStore(SqliteFile):
    """Shares in one SQLite file; each call opens a short connection in a worker thread."""

    error = ShareStoreUnavailable
    what = "share store"
    schema = _SCHEMA

    async def create(self, share: Share, max_per_scan: int, max_per_owner: int) -> None:
        def q(db: sqlite3.Connection) -> None:
            now = time.time()
            db.execute("DELETE FROM shares WHERE expires_at <= ?", (now,))
            live = db.execute("SELECT COUNT(*) FROM shares WHERE scan_id = ?",
                              (share.scan_id,)).fetchone()[0]
            if live >= max_per_scan:
                raise TooManyShares("scan")
            mine = db.execute("SELECT COUNT(*) FROM shares WHERE json_extract(doc, '$.owner') "
                              "= ?", (share.owner,)).fetchone()[0]
            if mine >= max_per_owner:
                raise TooManyShares("owner")
            db.execute("INSERT INTO shares (id, token_hash, scan_id, expires_at, doc) "
                       "VALUES (?, ?, ?, ?, ?)", (share.id, share.token_hash, share.scan_id,
                                                  share.expires_at,
                                                  json.dumps(share.to_dict())))

        await self._run(q)

    async def by_token_hash(self, token_hash: str) -> Share | None:
        def q(db: sqlite3.Connection) -> Share | None:
            row = db.execute("SELECT doc FROM shares WHERE token_hash = ? AND expires_at > ?",
                             (token_hash, time.time())).fetchone()
            return None if row is None else Share.from_json(row[0])

        result: Share | None = await self._run(q)
        return result

    async def for_scan(self, scan_id: str) -> list[Share]:
        def q(db: sqlite3.Connection) -> list[Share]:
            rows = db.execute("SELECT doc FROM shares WHERE scan_id = ? AND expires_at > ? "
                              "ORDER BY expires_at DESC", (scan_id, time.time()))
            return [Share.from_json(r[0]) for r in rows]

        result: list[Share] = await self._run(q)
        return result

    async def revoke(self, *, token_hash: str | None = None, share_id: str | None = None
                     ) -> Share | None:
        column, value = ("token_hash", token_hash) if token_hash else ("id", share_id)

        def q(db: sqlite3.Connection) -> Share | None:
            row = db.execute(f"SELECT doc FROM shares WHERE {column} = ?",  # noqa: S608
                             (value,)).fetchone()
            if row is None:
                return None
            db.execute(f"DELETE FROM shares WHERE {column} = ?", (value,))  # noqa: S608
            return Share.from_json(row[0])

        result: Share | None = await self._run(q)
        return result

    async def close(self) -> None:
        return None


# --- Redis ----------------------------------------------------------------------------

# KEYS: tok:<hash>, id:<id>, scan:<scan_id>, owner:<key id>
# ARGV: json, token hash, id, expires (unix ms), now (unix ms), max per scan, max per owner
# Returns 1 (made), 0 (too many for the scan), -1 (too many for the key).
_CREATE = """
redis.call('zremrangebyscore', KEYS[3], '-inf', ARGV[5])
redis.call('zremrangebyscore', KEYS[4], '-inf', ARGV[5])
if redis.call('zcard', KEYS[3]) >= tonumber(ARGV[6]) then return 0 end
if redis.call('zcard', KEYS[4]) >= tonumber(ARGV[7]) then return -1 end
redis.call('set', KEYS[1], ARGV[1], 'PXAT', ARGV[4])
redis.call('set', KEYS[2], ARGV[2], 'PXAT', ARGV[4])
for i = 3, 4 do
  redis.call('zadd', KEYS[i], ARGV[4], ARGV[3])
  local last = redis.call('zrange', KEYS[i], -1, -1, 'WITHSCORES')
  redis.call('pexpireat', KEYS[i], last[2])
end
return 1
"""


class RedisShareStore:
    """Shares on Redis (see the module docstring for the keys)."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT,
                 prefix: str = prefixes.SHARES) -> None:
        self._redis: aioredis.Redis = store_client(url, timeout, ShareStoreUnavailable)
        self.p = prefix
        self._create = self._redis.register_script(_CREATE)

    def _errors(self, what: str) -> AbstractContextManager[None]:
        return store_errors(ShareStoreUnavailable, "share", what)

    async def create(self, share: Share, max_per_scan: int, max_per_owner: int) -> None:
        with self._errors("create"):
            ok = await self._create(
                keys=[f"{self.p}tok:{share.token_hash}", f"{self.p}id:{share.id}",
                      f"{self.p}scan:{share.scan_id}", f"{self.p}owner:{share.owner}"],
                args=[json.dumps(share.to_dict()), share.token_hash, share.id,
                      int(share.expires_at * 1000), int(time.time() * 1000), max_per_scan,
                      max_per_owner])
        if ok != 1:
            raise TooManyShares("scan" if ok == 0 else "owner")

    async def by_token_hash(self, token_hash: str) -> Share | None:
        with self._errors("get"):
            raw = await self._redis.get(f"{self.p}tok:{token_hash}")
        share = None if raw is None else Share.from_json(raw)
        return share if share is not None and share.live() else None

    async def for_scan(self, scan_id: str) -> list[Share]:
        with self._errors("list"):
            ids = await self._redis.zrevrangebyscore(f"{self.p}scan:{scan_id}", "+inf",
                                                     int(time.time() * 1000))
            hashes = [await self._redis.get(f"{self.p}id:{as_text(i)}")
                      for i in ids if isinstance(i, bytes | str)]
            raws = [await self._redis.get(f"{self.p}tok:{as_text(h)}") for h in hashes if h]
        shares = [Share.from_json(r) for r in raws if r is not None]
        return [s for s in shares if s.live()]

    async def revoke(self, *, token_hash: str | None = None, share_id: str | None = None
                     ) -> Share | None:
        with self._errors("revoke"):
            if token_hash is None and share_id is not None:
                found = await self._redis.get(f"{self.p}id:{share_id}")
                token_hash = None if found is None else as_text(found)
            if token_hash is None:
                return None
            raw = await self._redis.get(f"{self.p}tok:{token_hash}")
            if raw is None:
                return None
            share = Share.from_json(raw)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(f"{self.p}tok:{token_hash}", f"{self.p}id:{share.id}")
                pipe.zrem(f"{self.p}scan:{share.scan_id}", share.id)
                pipe.zrem(f"{self.p}owner:{share.owner}", share.id)
                await pipe.execute()
        return share

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await self._redis.aclose()
