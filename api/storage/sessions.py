"""Server-side sessions of the analyst console.

A session is created when someone signs in with an API key (or, in keyless
local mode, without one). The browser holds only a random id
(:func:`secrets.token_urlsafe` of 32 bytes) in the cookie
:data:`SESSION_COOKIE`; the server keys its record by the SHA-256 of that id,
so a leaked store (a Redis dump) gives no usable cookie. The record holds the
*hash* of the API key (never the key), a CSRF token and the creation and
last-seen times. Each request re-checks the key through the same
:class:`~api.auth.Authenticator` as ``X-API-Key`` requests (see
:func:`api.auth.require`), so revocation, role changes and rate limits apply
to console users exactly as to API clients.

Lifetime: a session ends after ``SCAMSCAN_SESSION_IDLE`` seconds without a
request, and in any case ``SCAMSCAN_SESSION_MAX_AGE`` seconds after sign-in.

* :class:`MemorySessionStore`: the embedded default, in process memory and
  bounded (``SCAMSCAN_SESSION_MAX_MEMORY``; the least recently used session
  goes first), so a flood of sign-ins cannot exhaust memory. Sessions end
  with the process.
* :class:`RedisSessionStore`: with ``SCAMSCAN_REDIS_URL``, shared by every
  replica; one key per session with a TTL, so Redis forgets expired sessions
  by itself.

This module imports no web framework: :mod:`api.auth` uses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from api.storage import prefixes
from api.storage.errors import SessionStoreUnavailable
from api.storage.redis import DEFAULT_TIMEOUT, store_client

log = logging.getLogger("scamscan.console")

SESSION_COOKIE = "scamscan_session"
"""The cookie that carries the session id (HttpOnly, SameSite=Strict, Path=/)."""
CSRF_HEADER = "X-CSRF-Token"
"""The header a script sends the session's CSRF token in."""
CSRF_FIELD = "csrf_token"
"""The form field an HTML form sends the session's CSRF token in."""
TOUCH_EVERY = 60.0
"""Seconds between two writes of a Redis session's last-seen time (at most)."""
MAX_ID_CHARS = 128
"""A cookie value longer than this is not a session id we made (43 characters)."""

Clock = Callable[[], float]


@dataclass(frozen=True)
class Session:
    """What the server remembers of one signed-in browser."""

    key_hash: str | None
    """SHA-256 of the API key signed in with (:func:`api.storage.apikeys.hash_key`);
    None for a keyless local session."""
    csrf: str
    """The token every unsafe request of this session must carry."""
    created: float
    """Wall-clock seconds (epoch) of the sign-in."""
    last_seen: float


def session_digest(session_id: str) -> str:
    """The store's key for a session id: its SHA-256, hex."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    """A fresh random session id (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    """A fresh random CSRF token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class SessionStore(Protocol):
    """Where sessions are kept; every method may raise :class:`SessionStoreUnavailable`."""

    idle: float
    max_age: float

    async def create(self, key_hash: str | None) -> tuple[str, Session]:
        """A new session: the id for the cookie (not kept) and its record."""
        ...

    async def get(self, session_id: str) -> Session | None:
        """The live session with this id (its last-seen time moved on), or None
        when it is unknown, idle too long or too old."""
        ...

    async def delete(self, session_id: str) -> None:
        """Forget a session (sign-out); unknown ids are ignored."""
        ...

    async def aclose(self) -> None: ...


def _valid_id(session_id: str) -> bool:
    return 0 < len(session_id) <= MAX_ID_CHARS


class _Expiry:
    """The two lifetimes, shared by both stores."""

    def __init__(self, idle: float, max_age: float, clock: Clock) -> None:
        self.idle = idle
        self.max_age = max_age
        self.clock = clock

    def alive(self, s: Session, now: float) -> bool:
        return now - s.last_seen < self.idle and now - s.created < self.max_age

    def ttl(self, s: Session, now: float) -> float:
        """Seconds this session has left if no request comes."""
        return max(0.0, min(s.last_seen + self.idle, s.created + self.max_age) - now)


class MemorySessionStore(_Expiry):
    """Sessions in this process, at most ``max_sessions`` (least recently used out first)."""

    def __init__(self, idle: float, max_age: float, *, max_sessions: int = 10_000,
                 clock: Clock = time.time) -> None:
        super().__init__(idle, max_age, clock)
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    async def create(self, key_hash: str | None) -> tuple[str, Session]:
        now = self.clock()
        session_id = new_session_id()
        session = Session(key_hash, new_csrf_token(), now, now)
        self._sessions[session_digest(session_id)] = session
        self._prune(now)
        return session_id, session

    def _prune(self, now: float) -> None:
        # Expired ones first, then the least recently used while over the cap.
        for digest in [d for d, s in self._sessions.items() if not self.alive(s, now)]:
            del self._sessions[digest]
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)

    async def get(self, session_id: str) -> Session | None:
        if not _valid_id(session_id):
            return None
        digest = session_digest(session_id)
        session = self._sessions.get(digest)
        if session is None:
            return None
        now = self.clock()
        if not self.alive(session, now):
            del self._sessions[digest]
            return None
        session = replace(session, last_seen=now)
        self._sessions[digest] = session
        self._sessions.move_to_end(digest)
        return session

    async def delete(self, session_id: str) -> None:
        self._sessions.pop(session_digest(session_id), None)

    async def aclose(self) -> None:
        self._sessions.clear()


class RedisSessionStore(_Expiry):
    """Sessions on Redis: ``<prefix>session:<sha256 of the id>`` → JSON, with a TTL."""

    def __init__(self, url: str, idle: float, max_age: float, *, prefix: str = prefixes.SESSIONS,
                 timeout: float = DEFAULT_TIMEOUT, clock: Clock = time.time) -> None:
        super().__init__(idle, max_age, clock)
        self.prefix = prefix
        self._redis: aioredis.Redis = store_client(url, timeout, SessionStoreUnavailable)

    def _key(self, session_id: str) -> str:
        return self.prefix + session_digest(session_id)

    async def _put(self, key: str, session: Session, now: float) -> None:
        ttl_ms = max(1, int(self.ttl(session, now) * 1000))
        try:
            await self._redis.set(key, json.dumps(asdict(session)), px=ttl_ms)
        except (RedisError, OSError) as e:
            raise SessionStoreUnavailable(f"the Redis session store failed: {e}") from e

    async def create(self, key_hash: str | None) -> tuple[str, Session]:
        now = self.clock()
        session_id = new_session_id()
        session = Session(key_hash, new_csrf_token(), now, now)
        await self._put(self._key(session_id), session, now)
        return session_id, session

    async def get(self, session_id: str) -> Session | None:
        if not _valid_id(session_id):
            return None
        key = self._key(session_id)
        try:
            raw = await self._redis.get(key)
        except (RedisError, OSError) as e:
            raise SessionStoreUnavailable(f"the Redis session store failed: {e}") from e
        if raw is None:
            return None
        try:
            session = Session(**json.loads(raw))
        except (ValueError, TypeError):  # not ours, or an older layout: no session
            return None
        now = self.clock()
        if not self.alive(session, now):  # the TTL is the same bound; belt and braces
            return None
        # Writing on every request would double the Redis traffic of the console:
        # the last-seen time moves on at most every TOUCH_EVERY seconds (or a tenth
        # of the idle time, when that is shorter), which is all the idle bound needs.
        if now - session.last_seen >= min(TOUCH_EVERY, self.idle / 10):
            session = replace(session, last_seen=now)
            await self._put(key, session, now)
        return session

    async def delete(self, session_id: str) -> None:
        try:
            await self._redis.delete(self._key(session_id))
        except (RedisError, OSError) as e:
            raise SessionStoreUnavailable(f"the Redis session store failed: {e}") from e

    async def aclose(self) -> None:
        try:
            await self._redis.aclose()
        except (RedisError, OSError) as e:  # closing a client of a dead Redis
            log.debug("closing the session store: %s", e)
