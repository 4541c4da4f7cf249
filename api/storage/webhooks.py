"""Webhook deliveries and signing secrets: embedded (SQLite) or on Redis.

A *delivery* is the promise to POST the end of one APK scan to the
``callback_url`` its upload gave (:mod:`api.services.webhooks` keeps it). It
is written before the upload is answered and holds everything needed to
deliver later, in any process: the full URL, the owner (the key id whose
secret signs it), the language, a delivery id, the state (``pending``,
``delivered``, ``failed``), every attempt made, and ``next_at``, the time it
is next due (none once it ended). :meth:`WebhookStore.claim` hands out the
due ones and pushes their ``next_at`` past a lease in the same step, so two
processes never deliver one at once, and a process that stops mid-delivery
leaves it due again once the lease passed: nothing is lost on restart.

The *signing secrets* of API keys (``whsec_`` and 32 random bytes) are kept
here by key id, away from the key store: the key itself is kept only as a
hash (:mod:`api.storage.apikeys`), but an HMAC needs the secret, so it is
stored as it is, like the other state of the data directory (or of Redis),
and never answered again after the key's creation. Keyless local use signs
with one server-wide secret, the file ``<data_dir>/webhook-secret``
(:func:`server_secret`; ``scamscan webhooks secret`` shows it).

* :class:`SqliteWebhookStore`: ``<data_dir>/webhooks.sqlite3``.
* :class:`RedisWebhookStore`: ``scamscan:webhook:d:<scan_id>`` (a hash per
  delivery, expiring with the job records), ``scamscan:webhook:due`` (a sorted
  set of pending deliveries by ``next_at``) and ``scamscan:webhook:secrets``
  (key id → secret).

Both raise :class:`WebhookStoreUnavailable` when their backend fails.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.storage import prefixes
from api.storage.errors import WebhookStoreUnavailable
from api.storage.files import SERVER_SECRET_FILE
from api.storage.redis import DEFAULT_TIMEOUT, store_client, store_errors
from api.storage.sqlite import SqliteFile

State = Literal["pending", "delivered", "failed"]
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets


def new_secret() -> str:
    """A new signing secret: ``whsec_`` and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def server_secret(data_dir: Path) -> str:
    """The server-wide signing secret of keyless use, made on first use (mode 0600).

    Raises :class:`WebhookStoreUnavailable` when the file cannot be read or made.
    """
    path = Path(data_dir) / SERVER_SECRET_FILE
    try:
        with suppress(FileNotFoundError):
            text = path.read_text("ascii").strip()
            if text.startswith(SECRET_PREFIX):
                return text
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".webhook-secret-")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:  # mkstemp: mode 0600
                f.write(new_secret() + "\n")
                f.flush()
                os.fsync(f.fileno())
            # link, not replace: when two processes race, the first file wins and
            # both read it back. (A file system without hard links: replace.)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            except OSError:
                os.replace(tmp, path)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
        return path.read_text("ascii").strip()
    except (OSError, UnicodeError) as e:
        raise WebhookStoreUnavailable(f"the webhook secret {path} failed: {e}") from e


@dataclass
class Delivery:
    """One scan's webhook: where, signed with whose secret, and how it went."""

    scan_id: str
    url: str
    owner: str | None
    """The API key id whose secret signs it (None: keyless, the server secret)."""
    lang: str
    delivery_id: str = field(default_factory=lambda: secrets.token_hex(16))
    """Sent as ``X-Scamscan-Delivery``; the same on every attempt (receivers dedupe)."""
    state: State = "pending"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    """``{"at": ISO time, "status": int}`` or ``{"at": ..., "error": str}``, in order."""
    created: float = field(default_factory=time.time)


class WebhookStore(Protocol):
    """Where deliveries and the keys' signing secrets are kept."""

    async def add(self, delivery: Delivery, next_at: float) -> None:
        """Record a new pending delivery, due at ``next_at`` (unix seconds)."""
        ...

    async def get(self, scan_id: str) -> Delivery | None:
        """The delivery of ``scan_id``, or None when the upload gave no callback."""
        ...

    async def claim(self, now: float, lease: float, limit: int) -> list[Delivery]:
        """At most ``limit`` pending deliveries due by ``now``, each made due again only
        ``lease`` seconds later (the claimer updates it before that)."""
        ...

    async def update(self, delivery: Delivery, next_at: float | None) -> None:
        """Write ``delivery``'s state and attempts; due again at ``next_at`` (None: ended)."""
        ...

    async def key_secret(self, key_id: str) -> str | None:
        """The signing secret of the API key ``key_id``, or None when it has none."""
        ...

    async def set_key_secret(self, key_id: str, secret: str) -> None:
        """Keep ``secret`` as the signing secret of ``key_id`` (replacing any)."""
        ...

    async def close(self) -> None:
        ...


def _attempts(text: str | None) -> list[dict[str, Any]]:
    value = json.loads(text) if text else []
    return cast(list[dict[str, Any]], value if isinstance(value, list) else [])


# --- SQLite -----------------------------------------------------------------------

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS deliveries (
        scan_id     TEXT PRIMARY KEY,
        url         TEXT NOT NULL,
        owner       TEXT,
        lang        TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts    TEXT NOT NULL,
        created     REAL NOT NULL,
        next_at     REAL
    )""",
    "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at) "
    "WHERE next_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS deliveries_created ON deliveries (created)",
    """CREATE TABLE IF NOT EXISTS key_secrets (
        key_id  TEXT PRIMARY KEY,
        secret  TEXT NOT NULL,
        created TEXT NOT NULL
    )""",
)

_SELECT = ("SELECT scan_id, url, owner, lang, delivery_id, state, attempts, created "
           "FROM deliveries")


def _from_row(row: tuple[Any, ...]) -> Delivery:
    scan_id, url, owner, lang, delivery_id, state, attempts, created = row
    return Delivery(scan_id, url, owner, lang, delivery_id, cast(State, state),
                    _attempts(attempts), float(created))


class SqliteWebhookStore(SqliteFile):
    """Deliveries and secrets in one SQLite file. Ended deliveries older than
    ``keep_seconds`` are dropped when a new one is added."""

    error = WebhookStoreUnavailable
    what = "webhook store"
    schema = _SCHEMA
    schema_version = 1

    def __init__(self, path: Path, *, keep_seconds: float = 30 * 86400) -> None:
        super().__init__(path)
        self.keep_seconds = keep_seconds

    async def add(self, delivery: Delivery, next_at: float) -> None:
        d = delivery

        def insert(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM deliveries WHERE next_at IS NULL AND created < ?",
                       (time.time() - self.keep_seconds,))
            db.execute("INSERT OR REPLACE INTO deliveries (scan_id, url, owner, lang, "
                       "delivery_id, state, attempts, created, next_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (d.scan_id, d.url, d.owner, d.lang, d.delivery_id, d.state,
                        json.dumps(d.attempts), d.created, next_at))

        await self._run(insert)

    async def get(self, scan_id: str) -> Delivery | None:
        def select(db: sqlite3.Connection) -> Delivery | None:
            row = db.execute(_SELECT + " WHERE scan_id = ?", (scan_id,)).fetchone()
            return _from_row(row) if row else None

        return await self._run(select)

    async def claim(self, now: float, lease: float, limit: int) -> list[Delivery]:
        def take(db: sqlite3.Connection) -> list[Delivery]:
            # One transaction (SqliteFile): BEGIN IMMEDIATE so that two processes on
            # the same file never claim the same rows.
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute(_SELECT + " WHERE next_at IS NOT NULL AND next_at <= ? "
                              "ORDER BY next_at LIMIT ?", (now, limit)).fetchall()
            db.executemany("UPDATE deliveries SET next_at = ? WHERE scan_id = ?",
                           [(now + lease, r[0]) for r in rows])
            return [_from_row(r) for r in rows]

        return await self._run(take)

    async def update(self, delivery: Delivery, next_at: float | None) -> None:
        d = delivery

        def write(db: sqlite3.Connection) -> None:
            db.execute("UPDATE deliveries SET state = ?, attempts = ?, next_at = ? "
                       "WHERE scan_id = ?",
                       (d.state, json.dumps(d.attempts), next_at, d.scan_id))

        await self._run(write)

    async def key_secret(self, key_id: str) -> str | None:
        def select(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT secret FROM key_secrets WHERE key_id = ?",
                             (key_id,)).fetchone()
            return str(row[0]) if row else None

        return await self._run(select)

    async def set_key_secret(self, key_id: str, secret: str) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO key_secrets (key_id, secret, created) "
                       "VALUES (?, ?, ?)", (key_id, secret, datetime.now(UTC).isoformat()))

        await self._run(write)

    async def close(self) -> None:
        return None


# --- Redis ------------------------------------------------------------------------

# KEYS: the due set. ARGV: now, now + lease, limit. Returns the claimed scan ids.
_CLAIM = """
local ids = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('zadd', KEYS[1], ARGV[2], id) end
return ids
"""


def _s(v: bytes | str | None) -> str | None:
    if v is None:
        return None
    return v.decode() if isinstance(v, bytes) else v


class RedisWebhookStore:
    """Deliveries and secrets on Redis (keys in the module docstring). A delivery's
    hash expires ``ttl`` seconds after its last write, like the job records."""

    def __init__(self, url: str, *, ttl: int, prefix: str = prefixes.WEBHOOKS,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self.due_key = prefix + "due"
        self.secrets_key = prefix + "secrets"
        self._redis: aioredis.Redis = store_client(url, timeout, WebhookStoreUnavailable,
                                                   decode_responses=True)
        self._claim = self._redis.register_script(_CLAIM)

    def _k(self, scan_id: str) -> str:
        return f"{self.prefix}d:{scan_id}"

    def _errors(self, what: str) -> AbstractContextManager[None]:
        return store_errors(WebhookStoreUnavailable, "webhook", what)

    def _record(self, scan_id: str, raw: Mapping[Any, Any]) -> Delivery:
        h = {str(_s(k)): str(_s(v)) for k, v in raw.items()}
        return Delivery(scan_id, h["url"], h.get("owner") or None, h.get("lang", "vi"),
                        h["delivery"], cast(State, h.get("state", "pending")),
                        _attempts(h.get("attempts")), float(h.get("created") or 0))

    async def add(self, delivery: Delivery, next_at: float) -> None:
        d = delivery
        with self._errors("add"):
            async with self._redis.pipeline(transaction=True) as p:
                p.hset(self._k(d.scan_id), mapping={
                    "url": d.url, "owner": d.owner or "", "lang": d.lang,
                    "delivery": d.delivery_id, "state": d.state,
                    "attempts": json.dumps(d.attempts), "created": repr(d.created)})
                p.expire(self._k(d.scan_id), self.ttl)
                p.zadd(self.due_key, {d.scan_id: next_at})
                await p.execute()

    async def get(self, scan_id: str) -> Delivery | None:
        with self._errors("get"):
            h = await self._redis.hgetall(self._k(scan_id))
        return self._record(scan_id, h) if h else None

    async def claim(self, now: float, lease: float, limit: int) -> list[Delivery]:
        with self._errors("claim"):
            ids = [str(_s(i)) for i in await self._claim(keys=[self.due_key],
                                                         args=[now, now + lease, limit])]
            if not ids:
                return []
            async with self._redis.pipeline(transaction=False) as p:
                for scan_id in ids:
                    p.hgetall(self._k(scan_id))
                records = await p.execute()
            out: list[Delivery] = []
            for scan_id, h in zip(ids, records, strict=True):
                if h:
                    out.append(self._record(scan_id, h))
                else:  # expired: nothing left to deliver
                    await self._redis.zrem(self.due_key, scan_id)
        return out

    async def update(self, delivery: Delivery, next_at: float | None) -> None:
        d = delivery
        with self._errors("update"):
            async with self._redis.pipeline(transaction=True) as p:
                p.hset(self._k(d.scan_id), mapping={
                    "state": d.state, "attempts": json.dumps(d.attempts)})
                p.expire(self._k(d.scan_id), self.ttl)
                if next_at is None:
                    p.zrem(self.due_key, d.scan_id)
                else:
                    p.zadd(self.due_key, {d.scan_id: next_at})
                await p.execute()

    async def key_secret(self, key_id: str) -> str | None:
        with self._errors("secret"):
            return _s(await self._redis.hget(self.secrets_key, key_id))

    async def set_key_secret(self, key_id: str, secret: str) -> None:
        with self._errors("secret"):
            await self._redis.hset(self.secrets_key, key_id, secret)

    async def close(self) -> None:
        with suppress(RedisError, OSError, TimeoutError):
            await self._redis.aclose()
