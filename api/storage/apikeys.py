"""API keys: made once, stored as a hash, embedded (SQLite) or on Redis.

A key is ``ss_`` followed by 32 random bytes (URL-safe base64). It is shown
once, when it is made; the store keeps only its SHA-256 with an id, a name,
a role, the creation time, a revoked flag, (roughly) when it was last used and
its own rate limit (``rate``, ``limits`` notation such as ``600/minute``; None:
the role's setting, ``SCAMSCAN_RATE_LIMIT_CLIENT`` …, which is also what keys
stored before this field existed get).

* :class:`SqliteKeyStore`: the embedded default, one file
  (``<data_dir>/keys.sqlite3``), so keys survive a restart; stdlib
  :mod:`sqlite3` run off the event loop, WAL mode, schema version in
  ``PRAGMA user_version``.
* :class:`RedisKeyStore`: ``SCAMSCAN_REDIS_URL``; shared by every replica:
  a hash per key id, an index from key hash to id, a set of all ids and a
  set of the ids not revoked.
* :func:`api.storage.factory.open_key_store`: the one or the other, from the settings.

Both raise :class:`KeyStoreUnavailable` when their backend fails; the API
answers it with a 503 problem.

**Keys were made.** Creating a key also writes the marker file
``<data_dir>/keys-made`` (:func:`record_keys_made`; the API writes it too as
soon as it sees an active key). A key store can come back empty without
anyone deciding it (Redis restarted without persistence, a fail-over to an
empty replica, a lost ``keys.sqlite3``); with the marker present the API then
refuses keyless use instead of making every local request an admin again
(:mod:`api.auth`). ``scamscan keys allow-keyless`` removes it deliberately.

Why a plain SHA-256 and not a slow password hash (bcrypt, scrypt, argon2):
these keys carry 256 bits of randomness, so the stored hash cannot be
inverted by guessing, however fast the hash; slow hashes protect
low-entropy secrets people choose. A fast, unsalted, deterministic hash
also lets a request's key be looked up by its hash through an index in
one step, where a salted slow hash would cost tens of milliseconds on
every request.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol, TypeVar, cast, get_args

import redis.asyncio as aioredis
from limits import parse_many
from redis.exceptions import RedisError

from api.storage import prefixes
from api.storage.errors import KeyStoreUnavailable
from api.storage.files import KEYS_MADE_FILE
from api.storage.redis import DEFAULT_TIMEOUT, as_text, store_client, store_errors
from api.storage.sqlite import SqliteFile

Role = Literal["client", "analyst", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
"""From least to most allowed: each role may do what the ones before it may."""

KEY_PREFIX = "ss_"
SCHEMA_VERSION = 1

log = logging.getLogger("scamscan.api")

T = TypeVar("T")


def keys_made_marker(data_dir: Path) -> Path:
    """The marker file of :data:`KEYS_MADE_FILE` in ``data_dir``."""
    return Path(data_dir) / KEYS_MADE_FILE


def record_keys_made(marker: Path) -> None:
    """Write the marker that keys were made (once; atomically). A failure to write
    it is logged, not raised: the key itself was made."""
    if marker.exists():
        return
    text = (f"API keys were made on this server (first recorded {_now().isoformat()}).\n"
            "While this file exists an empty key store does not re-open keyless use;\n"
            "`scamscan keys allow-keyless` removes it (see docs/deployment.md).\n")
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=marker.parent, prefix=".keys-made-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, marker)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
    except OSError as e:
        log.warning("cannot record that API keys were made (%s): %s; an emptied key "
                    "store could re-open keyless use", marker, e)


def new_key() -> str:
    """A new secret API key: ``ss_`` and 32 random bytes, URL-safe base64."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """What is stored for ``key``: its SHA-256, hex (see the module doc for why)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_id() -> str:
    return "key_" + secrets.token_hex(8)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without the secret."""

    id: str
    name: str
    role: Role
    created: datetime
    revoked: bool = False
    last_used: datetime | None = None
    rate: str | None = None
    """This key's rate limit (``limits`` notation); None: its role's setting."""

    def public(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "role": self.role,
                "created": self.created.isoformat(), "revoked": self.revoked,
                "last_used": self.last_used.isoformat() if self.last_used else None,
                "rate": self.rate}


MAX_RATE_CHARS = 100


def check_rate(rate: str) -> str:
    """``rate`` stripped, when the ``limits`` library reads it as one or more limits of
    at least one request (``600/minute``, ``10/second;1000/hour``); else ValueError."""
    text = rate.strip()
    try:
        items = parse_many(text) if 0 < len(text) <= MAX_RATE_CHARS else []
    except ValueError:
        items = []
    if not items or any(i.amount < 1 for i in items):
        raise ValueError(f"not a rate limit: {rate!r} (e.g. '600/minute', "
                         "'10/second;1000/hour')")
    return text


def _check(name: str, role: str) -> Role:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    if not name.strip() or len(name) > 200:
        raise ValueError("a key name is 1 to 200 characters")
    return role


class KeyStore(Protocol):
    """Where the API keys are kept."""

    async def create(self, name: str, role: str, *,
                     rate: str | None = None) -> tuple[ApiKey, str]:
        """A new key: its record and the secret, which is not kept. ``rate``: its own
        rate limit (:func:`check_rate`), None for its role's setting."""
        ...

    async def lookup(self, key_hash: str) -> ApiKey | None:
        """The key with this hash (revoked or not), or None."""
        ...

    async def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        ...

    async def revoke(self, key_id: str) -> ApiKey | None:
        """Revoke a key; its record, or None when there is no such key."""
        ...

    async def has_active(self) -> bool:
        """Whether any key is not revoked."""
        ...

    async def touch(self, key_id: str, when: datetime) -> None:
        """Record that the key was used at ``when``."""
        ...

    async def close(self) -> None:
        ...


# --- SQLite -----------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id        TEXT PRIMARY KEY,
    key_hash  TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('client', 'analyst', 'admin')),
    created   TEXT NOT NULL,
    revoked   INTEGER NOT NULL DEFAULT 0,
    last_used TEXT,
    rate      TEXT
)
"""


def _row(row: tuple[str, str, str, str, int, str | None, str | None]) -> ApiKey:
    key_id, name, role, created, revoked, last_used, rate = row
    return ApiKey(key_id, name, cast(Role, role), datetime.fromisoformat(created),
                  bool(revoked), datetime.fromisoformat(last_used) if last_used else None,
                  rate or None)


_SELECT = "SELECT id, name, role, created, revoked, last_used, rate FROM api_keys"


class SqliteKeyStore(SqliteFile):
    """Keys in one SQLite file. Each call opens its own short connection in a
    worker thread (sqlite3 objects are bound to their thread), so the CLI and
    a running server can use the same file at once (WAL mode)."""

    error = KeyStoreUnavailable
    what = "key store"
    schema = (_SCHEMA,)
    schema_version = SCHEMA_VERSION

    def __init__(self, path: Path, *, marker: Path | None = None) -> None:
        super().__init__(path)
        self.marker = marker
        """Written by :meth:`create` (:func:`record_keys_made`), when set."""

    def _migrate(self, db: sqlite3.Connection) -> None:
        super()._migrate(db)
        # Files made before keys had their own rate: add the column (NULL: the role's
        # setting). Checked by name, not by schema version, so that other columns can
        # be added the same way independently.
        columns = {row[1] for row in db.execute("PRAGMA table_info(api_keys)")}
        if "rate" not in columns:
            with db:
                db.execute("ALTER TABLE api_keys ADD COLUMN rate TEXT")

    async def create(self, name: str, role: str, *,
                     rate: str | None = None) -> tuple[ApiKey, str]:
        checked = _check(name, role)
        secret = new_key()
        record = ApiKey(_new_id(), name.strip(), checked, _now(),
                        rate=None if rate is None else check_rate(rate))

        def insert(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO api_keys (id, key_hash, name, role, created, rate) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       (record.id, hash_key(secret), record.name, record.role,
                        record.created.isoformat(), record.rate))

        await self._run(insert)
        if self.marker is not None:
            record_keys_made(self.marker)
        return record, secret

    async def lookup(self, key_hash: str) -> ApiKey | None:
        def select(db: sqlite3.Connection) -> ApiKey | None:
            row = db.execute(_SELECT + " WHERE key_hash = ?",
                             (key_hash,)).fetchone()
            return _row(row) if row else None

        return await self._run(select)

    async def list(self) -> list[ApiKey]:
        def select(db: sqlite3.Connection) -> list[ApiKey]:
            return [_row(r) for r in db.execute(
                _SELECT + " ORDER BY created, id")]

        return await self._run(select)

    async def revoke(self, key_id: str) -> ApiKey | None:
        def update(db: sqlite3.Connection) -> ApiKey | None:
            db.execute("UPDATE api_keys SET revoked = 1 WHERE id = ?", (key_id,))
            row = db.execute(_SELECT + " WHERE id = ?",
                             (key_id,)).fetchone()
            return _row(row) if row else None

        return await self._run(update)

    async def has_active(self) -> bool:
        def select(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked = 0)")
            return bool(row.fetchone()[0])

        return await self._run(select)

    async def touch(self, key_id: str, when: datetime) -> None:
        def update(db: sqlite3.Connection) -> None:
            db.execute("UPDATE api_keys SET last_used = ? WHERE id = ?",
                       (when.replace(microsecond=0).isoformat(), key_id))

        await self._run(update)

    async def close(self) -> None:
        return None


# --- Redis ------------------------------------------------------------------


class RedisKeyStore:
    """Keys on Redis: ``<prefix>key:<id>`` (a hash), ``<prefix>by-hash`` (key hash → id),
    ``<prefix>ids`` (every id) and ``<prefix>active`` (ids not revoked)."""

    def __init__(self, url: str, prefix: str = prefixes.APIKEYS, *,
                 timeout: float = DEFAULT_TIMEOUT, marker: Path | None = None) -> None:
        self.prefix = prefix
        self.marker = marker
        """Written by :meth:`create` (:func:`record_keys_made`), when set."""
        self._redis: aioredis.Redis = store_client(url, timeout, KeyStoreUnavailable,
                                                   decode_responses=True)

    def _k(self, key_id: str) -> str:
        return f"{self.prefix}key:{key_id}"

    def _errors(self, what: str) -> AbstractContextManager[None]:
        return store_errors(KeyStoreUnavailable, "key", what)

    @staticmethod
    def _record(key_id: str, raw: Mapping[bytes | str, bytes | str]) -> ApiKey:
        h = {as_text(k): as_text(v) for k, v in raw.items()}
        return ApiKey(key_id, h["name"], cast(Role, h["role"]),
                      datetime.fromisoformat(h["created"]), h.get("revoked") == "1",
                      datetime.fromisoformat(h["last_used"]) if h.get("last_used") else None,
                      h.get("rate") or None)

    async def create(self, name: str, role: str, *,
                     rate: str | None = None) -> tuple[ApiKey, str]:
        checked = _check(name, role)
        secret = new_key()
        record = ApiKey(_new_id(), name.strip(), checked, _now(),
                        rate=None if rate is None else check_rate(rate))
        key_hash = hash_key(secret)
        with self._errors("create"):
            async with self._redis.pipeline(transaction=True) as p:
                p.hset(self._k(record.id), mapping={
                    "name": record.name, "role": record.role,
                    "created": record.created.isoformat(), "revoked": "0",
                    "key_hash": key_hash,
                    # absent: the role's setting (as for keys made before rates)
                    **({"rate": record.rate} if record.rate is not None else {})})
                p.hset(self.prefix + "by-hash", key_hash, record.id)
                p.sadd(self.prefix + "ids", record.id)
                p.sadd(self.prefix + "active", record.id)
                await p.execute()
        if self.marker is not None:
            record_keys_made(self.marker)
        return record, secret

    async def _get(self, key_id: str) -> ApiKey | None:
        h = await self._redis.hgetall(self._k(key_id))
        return self._record(key_id, h) if h else None

    async def lookup(self, key_hash: str) -> ApiKey | None:
        with self._errors("lookup"):
            key_id = await self._redis.hget(self.prefix + "by-hash", key_hash)
            return await self._get(as_text(key_id)) if key_id else None

    async def list(self) -> list[ApiKey]:
        with self._errors("list"):
            ids = await self._redis.smembers(self.prefix + "ids")
            found = [await self._get(as_text(i)) for i in ids]
        return sorted((k for k in found if k is not None), key=lambda k: (k.created, k.id))

    async def revoke(self, key_id: str) -> ApiKey | None:
        with self._errors("revoke"):
            if not await self._redis.exists(self._k(key_id)):
                return None
            async with self._redis.pipeline(transaction=True) as p:
                p.hset(self._k(key_id), "revoked", "1")
                p.srem(self.prefix + "active", key_id)
                await p.execute()
            return await self._get(key_id)

    async def has_active(self) -> bool:
        with self._errors("count"):
            n = await self._redis.scard(self.prefix + "active")
        return bool(n)

    async def touch(self, key_id: str, when: datetime) -> None:
        with self._errors("touch"):
            await self._redis.hset(
                self._k(key_id), "last_used", when.replace(microsecond=0).isoformat())

    async def close(self) -> None:
        with suppress(RedisError, OSError, TimeoutError):
            await self._redis.aclose()
