"""Who is asking: API keys, roles, keyless local use and rate limits.

Requests carry their key in ``X-API-Key``. Roles are ordered
``client`` < ``analyst`` < ``admin``; a route asks for the least role it
needs with :data:`ClientAuth`, :data:`AnalystAuth` or :data:`AdminAuth`
(or ``Depends(require(role))``):

* ``client``: scan, and read its own scans;
* ``analyst``: also read every scan (and, later, edit list entries);
* ``admin``: also manage keys (``/v1/keys``) and list sources.

A missing, unknown or revoked key is a 401 problem, a role too low a 403
problem, both ``application/problem+json``.

**Console sessions.** A request without ``X-API-Key`` but with the console's
``scamscan_session`` cookie is authenticated as the key its server-side
session holds (:mod:`api.storage.sessions` keeps the key's hash), through
:meth:`Authenticator.authenticate_hash`: the same revocation, role and rate
limit as the header. Such a request with an unsafe method (POST, PUT, PATCH,
DELETE) must carry the session's CSRF token (``X-CSRF-Token`` header, or the
``csrf_token`` field of a URL-encoded form), else a 403 problem; an expired or
unknown session is a 401 problem (the console turns it into a redirect to its
sign-in page).

**Keyless local use.** When ``SCAMSCAN_REQUIRE_KEYS`` is unset, no key that
is not revoked exists, and the server's ``host`` is a loopback address, a
request without a key is accepted with the ``admin`` role (the single-user
``make run`` case: the console may do everything), provided it also comes
from a loopback address (defence in depth: started with ``uvicorn --host
0.0.0.0`` and the default settings, the world would otherwise be admin).
Because a browser on this machine is local too, a keyless request must also
be addressed to this machine (a loopback ``Host``, else 421: DNS rebinding)
and, for a write, come from this origin (``Origin``/``Sec-Fetch-Site``, else
403: cross-site forms); a console-cookie write must not be marked cross-site
by the browser (:func:`check_request_origin`, :mod:`api.origin`).
Once a key was ever made (the ``keys-made`` marker of :mod:`api.storage.apikeys`),
an empty key store does not re-open keyless use: keyless requests get a 401
problem saying so, and a warning is logged. A credential that was sent (an
unknown or empty ``X-API-Key``, or only an ``Authorization`` header, which this
API does not read) is never ignored: 401, even while keyless use is open.
The startup logs a warning. As soon as a key exists keyless requests get
401: whether keys exist is re-read from the store at most every
:attr:`Authenticator.has_keys_ttl` seconds (and at once after a key is made
or revoked through this process's API).

**Rate limits** (the ``limits`` library, moving window): per key with its own
limit (``rate``, set when the key is made) or else the limit of its role
(``SCAMSCAN_RATE_LIMIT_CLIENT`` …), per client address for
keyless requests, and for failed authentications (an unknown or revoked key):
per tried key and address (``SCAMSCAN_RATE_LIMIT_AUTH_FAILURES``; that key is
then not even looked up; a key the lookup cache holds as valid skips this check,
which would cost a storage round trip on every request) and per address
(``SCAMSCAN_RATE_LIMIT_AUTH_FAILURES_ADDRESS``; wrong keys get 429), neither
ever refusing a correct key; counted in process memory when embedded, in Redis when
``SCAMSCAN_REDIS_URL`` is set (so every replica shares the count). Only
authenticated routes are limited: ``/healthz``, ``/v1/rules``, ``/docs``, ``/redoc``
(and their assets under ``/docs/static``) and ``/openapi.json`` are public and
not limited. Past the limit: 429 problem with ``Retry-After``.

**RateLimit headers.** Every response to a request that was counted (a key, a
console session or keyless local use, whatever its status: a 403, a 422 or a 429
too) carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(draft-ietf-httpapi-ratelimit-headers-06: the three fields; Reset in seconds),
filled from :meth:`limits.aio.strategies.MovingWindowRateLimiter.get_window_stats`
after the hit (:class:`Quota`); with several limits (``10/second;600/minute``), of
the one nearest to running out. A failed authentication (401, or a 429 for too many
failures) has none: nothing was counted for a key. When the limit
storage fails (Redis down) the limits **fail open**: the request is answered and
a warning logged (at most every :data:`FAIL_OPEN_LOG_EVERY` seconds).

**Key lookups** are cached in process for :attr:`Authenticator.lookup_ttl`
seconds (a revocation through another process takes that long to apply).
When the key store fails (Redis down), a key seen valid within
:attr:`Authenticator.stale_max` seconds still works; any other request gets a
503 problem, never a 500.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from api.observability import add_response_headers
from api.origin import (
    SAFE_METHODS,
    check_fetch_site,
    check_loopback_host,
    check_same_origin,
    header,
    is_loopback_host,
)
from api.problems import (
    TYPE_FORBIDDEN,
    TYPE_RATE_LIMITED,
    TYPE_UNAUTHORIZED,
    ProblemException,
    problem_responses,
    storage_problem,
)
from api.settings import Settings
from api.storage.apikeys import (
    ROLES,
    ApiKey,
    KeyStore,
    Role,
    hash_key,
    keys_made_marker,
    record_keys_made,
)
from api.storage.errors import KeyStoreUnavailable, SessionStoreUnavailable
from api.storage.factory import open_limit_storage
from api.storage.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Session,
    SessionStore,
)

log = logging.getLogger("scamscan.api")

HEADER = "X-API-Key"
_HEADER_RAW = HEADER.lower().encode("latin-1")
RANK: dict[str, int] = {r: i for i, r in enumerate(ROLES)}
KEYLESS_ROLE: Role = "admin"
"""The role of a keyless local request: everything the local console needs."""
FAIL_OPEN_LOG_EVERY = 30.0
TOUCH_EVERY = 60.0
"""Seconds between two writes of a key's ``last_used``."""
MAX_CACHED_KEYS = 10_000

current_owner: ContextVar[str | None] = ContextVar("scamscan_owner", default=None)
"""The key id of the request being served (None: keyless), for work it starts
out of band, e.g. the APK scan a live link scan downloads."""


@dataclass(frozen=True)
class Principal:
    """Who made a request: a key (``key_id``) or a keyless local user (``None``)."""

    key_id: str | None
    role: Role
    name: str
    client_addr: str
    rate: str | None = None
    """The key's own rate limit (``limits`` notation); None: its role's setting."""

    def at_least(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]

    def can_see(self, owner: str | None) -> bool:
        """Whether a scan made by ``owner`` (a key id, None: keyless) may be shown."""
        if self.at_least("analyst"):
            return True
        return self.key_id is not None and owner == self.key_id


# --- rate limits ----------------------------------------------------------------


FAILURE_PREFIX_CHARS = 16
"""Hex characters of a tried key's SHA-256 that name it in the failure counts (64
bits: a wrong key never shares a count with a good one, and no secret is stored)."""


@dataclass(frozen=True)
class Quota:
    """What is left of a principal's rate limit after a request: the RateLimit fields."""

    limit: int
    """Requests allowed in the window (``RateLimit-Limit``)."""
    remaining: int
    """Requests still allowed now (``RateLimit-Remaining``, never below 0)."""
    reset: int
    """Seconds until the oldest request counted leaves the window, so that one more
    is allowed (``RateLimit-Reset``; 0: nothing is counted)."""

    def headers(self) -> dict[str, str]:
        return {"ratelimit-limit": str(self.limit),
                "ratelimit-remaining": str(self.remaining),
                "ratelimit-reset": str(self.reset)}


RATELIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


@lru_cache(maxsize=1024)
def _parsed(rate: str) -> tuple[RateLimitItem, ...]:
    """A key's own ``rate``, parsed once (keys are few; checked when made)."""
    return tuple(parse_many(rate))


class RateLimiter:
    """Per-key (the key's own limit, else its role's) and per-address (keyless)
    moving-window limits, and the limits of failed authentications (:meth:`locked`,
    :meth:`failed`)."""

    def __init__(self, settings: Settings) -> None:
        self.items: dict[str, list[RateLimitItem]] = {
            "client": parse_many(settings.rate_limit_client),
            "analyst": parse_many(settings.rate_limit_analyst),
            "admin": parse_many(settings.rate_limit_admin),
            "keyless": parse_many(settings.rate_limit_keyless),
            "failures": parse_many(settings.rate_limit_auth_failures),
            "failures-address": parse_many(settings.rate_limit_auth_failures_address),
        }
        self.storage, self._pool = open_limit_storage(settings)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._warned_at = -math.inf
        self._warned_failures = -math.inf
        self._keys: dict[tuple[RateLimitItem, tuple[str, ...]], str] = {}
        """Storage keys by limit and identifiers (:meth:`_key`)."""

    def _key(self, item: RateLimitItem, ids: tuple[str, ...]) -> str:
        """``item.key_for(*ids)``, remembered: built on every request otherwise (the
        identifiers are an address or a key id, few; the memory is bounded)."""
        key = self._keys.get((item, ids))
        if key is None:
            if len(self._keys) >= MAX_CACHED_KEYS:
                self._keys.clear()
            key = self._keys[(item, ids)] = item.key_for(*ids)
        return key

    async def _retry_after(self, item: RateLimitItem, *ids: str) -> int:
        stats = await self.limiter.get_window_stats(item, *ids)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _fail_open(self, e: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= FAIL_OPEN_LOG_EVERY:
            self._warned_at = now
            log.warning("rate limits are not enforced: their storage failed (%s: %s)",
                        type(e).__name__, e)

    async def locked(self, key_hash: str, client_addr: str) -> None:
        """429 when this key failed too often from this address lately (checked before
        the key is looked up: a key guessed or mistyped again and again costs nothing
        more). Another key from the same address is not affected. Fails open."""
        ids = ("fail", key_hash[:FAILURE_PREFIX_CHARS], client_addr)
        try:
            for item in self.items["failures"]:
                if not await self.limiter.test(item, *ids):
                    retry = await self._retry_after(item, *ids)
                    raise _too_many_failures(f"{item} per key and address", retry)
        except ProblemException:
            raise
        except Exception as e:  # storage down: answer anyway, say so in the log
            self._fail_open(e)

    async def failed(self, key_hash: str, client_addr: str) -> None:
        """Count a failed authentication (an unknown or revoked key); 429 instead of the
        401 once the address is past its limit of failures. Only failures are counted
        and refused: a correct key from the same address still gets in. Past the
        address limit the per-key counts stop growing, so that memory (or Redis) use
        is bounded by the address limit. Fails open."""
        try:
            over: tuple[RateLimitItem, int] | None = None
            for item in self.items["failures-address"]:
                if not await self.limiter.hit(item, "fail-addr", client_addr):
                    over = (item, await self._retry_after(item, "fail-addr", client_addr))
            if over is None:
                for item in self.items["failures"]:
                    await self.limiter.hit(item, "fail", key_hash[:FAILURE_PREFIX_CHARS],
                                           client_addr)
                return
        except Exception as e:  # storage down: answer anyway, say so in the log
            self._fail_open(e)
            return
        now = time.monotonic()
        if now - self._warned_failures >= FAIL_OPEN_LOG_EVERY:
            self._warned_failures = now
            log.warning("too many failed authentications from %s (limit %s): wrong keys "
                        "from there get 429", client_addr, over[0])
        raise _too_many_failures(f"{over[0]} per address", over[1])

    def limits_of(self, principal: Principal) -> Sequence[RateLimitItem]:
        """The limits ``principal`` is counted against."""
        if principal.key_id is None:
            return self.items["keyless"]
        if principal.rate:
            return _parsed(principal.rate)
        return self.items[principal.role]

    async def check(self, principal: Principal, cost: int = 1) -> Quota | None:
        """Count one request (``cost`` requests: a live batch counts each of its
        links) and answer what is left (None when the storage failed: the limits fail
        open); raise a 429 problem past the limit, with ``Retry-After`` and the
        RateLimit fields.

        One storage round trip per limit: the hit and the window's state after it
        (:meth:`~api.storage.limits_redis.WindowStorage.acquire_with_window`)."""
        if principal.key_id is None:
            ids: tuple[str, ...] = ("addr", principal.client_addr)
        else:
            ids = ("key", principal.key_id)
        quota: Quota | None = None
        try:
            for item in self.limits_of(principal):
                expiry = item.get_expiry()
                allowed, start, count = await self.storage.acquire_with_window(
                    self._key(item, ids), item.amount, expiry, cost)
                # Never more than the window (a clock read a little before the hit's).
                reset = min(expiry, max(0, math.ceil(start + expiry - time.time())))
                this = Quota(item.amount, max(0, item.amount - count), reset)
                if not allowed:
                    retry = max(1, reset)
                    raise ProblemException(
                        429, f"Too many requests: the limit is {item} "
                        f"({'per address' if principal.key_id is None else 'per key'}); "
                        f"try again in {retry} s.", type_=TYPE_RATE_LIMITED,
                        title="Too many requests",
                        headers={"retry-after": str(retry),
                                 **Quota(item.amount, 0, retry).headers()})
                if quota is None or (this.remaining, -this.reset) < (quota.remaining,
                                                                     -quota.reset):
                    quota = this
        except ProblemException:
            raise
        except Exception as e:  # storage down: answer anyway, say so in the log
            self._fail_open(e)
            return None
        return quota

    async def aclose(self) -> None:
        if self._pool is not None:
            try:
                await self._pool.aclose()
            except Exception as e:  # closing a pool to a dead Redis
                log.debug("closing the rate-limit pool: %s", e)
        elif isinstance(self.storage, MemoryStorage):
            timer = getattr(self.storage, "timer", None)
            if timer is not None:
                timer.cancel()


def _too_many_failures(limit: str, retry: int) -> ProblemException:
    return ProblemException(
        429, f"Too many failed authentications: the limit is {limit}; try again in "
        f"{retry} s with a valid key.", type_=TYPE_RATE_LIMITED,
        title="Too many failed authentications", headers={"retry-after": str(retry)})


# --- authentication -----------------------------------------------------------


def _unauthorized(detail: str) -> ProblemException:
    return ProblemException(401, detail, type_=TYPE_UNAUTHORIZED, title="Unauthorized",
                            headers={"www-authenticate": f'ApiKey header="{HEADER}"'})


class Authenticator:
    """Checks keys against a :class:`~api.storage.apikeys.KeyStore`, with small caches."""

    has_keys_ttl = 1.0
    lookup_ttl = 5.0
    stale_max = 300.0

    def __init__(self, store: KeyStore, limiter: RateLimiter, *, keyless_possible: bool,
                 marker: Path | None = None) -> None:
        self.store = store
        self.limiter = limiter
        self.keyless_possible = keyless_possible
        """Keys are not required and the server is bound to loopback."""
        self.marker = marker
        """The :func:`~api.storage.apikeys.keys_made_marker`: once it exists, an empty key
        store never re-opens keyless use."""
        self._marked = False
        self._made = False
        self._made_read = -math.inf
        self._warned_empty = -math.inf
        self._has_keys: tuple[bool, float] | None = None
        self._reads: dict[str, asyncio.Future[Any]] = {}
        """Store reads under way, by what they read (:meth:`_once`)."""
        self._keys: dict[str, tuple[ApiKey, float]] = {}
        self._touched: dict[str, float] = {}
        self._keyless: dict[str, Principal] = {}
        """The keyless principal of each client address (immutable, made once)."""

    def invalidate(self) -> None:
        """Forget the cached key records and the "keys exist" flag."""
        self._has_keys = None
        self._made_read = -math.inf
        self._keys.clear()
        # A read started before the change may answer from before it: later callers
        # start their own (the ones already waiting keep theirs).
        self._reads.clear()

    async def _once(self, name: str, read: Callable[[], Awaitable[Any]]) -> Any:
        """``read()``, one at a time per ``name``: a caller arriving while it runs waits
        for the same answer (or error). When a cached answer expires under load, every
        request in flight would otherwise read the store at once (with SQLite, one worker
        thread each: a stall of the whole load every second; docs/evaluation.md,
        "Service load")."""
        task = self._reads.get(name)
        if task is None:
            task = asyncio.ensure_future(read())
            self._reads[name] = task
            task.add_done_callback(lambda done: self._reads.pop(name, None)
                                   if self._reads.get(name) is done else None)
        # Shielded: a waiter's cancellation (a client gone) must not cancel the others'.
        return await asyncio.shield(task)

    async def has_keys(self) -> bool:
        cached = self._has_keys
        if cached is not None and time.monotonic() - cached[1] < self.has_keys_ttl:
            return cached[0]
        value: bool = await self._once("has_keys", self._read_has_keys)
        return value

    async def _read_has_keys(self) -> bool:
        now = time.monotonic()
        cached = self._has_keys
        try:
            value = await self.store.has_active()
        except KeyStoreUnavailable as e:
            if cached is not None and now - cached[1] < self.stale_max:
                return cached[0]
            raise storage_problem(e) from None
        self._has_keys = (value, now)
        if value and not self._marked and self.marker is not None:
            # Keys made by another process (the CLI, another replica) count too.
            await anyio.to_thread.run_sync(record_keys_made, self.marker)
            self._marked = True
        return value

    def keys_were_made(self) -> bool:
        """Whether keys were ever made here (the marker file exists). Once seen, for
        good (the marker is never removed); until then re-read at most every
        :attr:`has_keys_ttl` seconds, like the store's "keys exist": it was a file
        system call on every keyless request."""
        if self._made or self.marker is None:
            return self._made
        now = time.monotonic()
        if now - self._made_read >= self.has_keys_ttl:
            self._made_read = now
            self._made = self.marker.exists()
        return self._made

    async def keyless_allowed(self, client_addr: str) -> bool:
        """Whether a request without a key from ``client_addr`` is a keyless local
        admin: keys not required, bound to and asked from loopback, no active key
        and none ever made. Raises a 503 problem when the store cannot say."""
        return (self.keyless_possible and is_loopback_host(client_addr)
                and not await self.has_keys() and not self.keys_were_made())

    def _emptied(self) -> ProblemException:
        """The 401 of a keyless request once keys were made but none is active now."""
        now = time.monotonic()
        if now - self._warned_empty >= FAIL_OPEN_LOG_EVERY:
            self._warned_empty = now
            log.warning("the key store has no active API key, but keys were made before "
                        "(%s exists): the store may have been emptied (Redis restarted "
                        "without persistence, a fail-over to an empty replica, a lost "
                        "keys.sqlite3) or every key revoked. Keyless use stays closed; "
                        "create a key with `scamscan keys create --role admin --name NAME`",
                        self.marker)
        return ProblemException(
            401, "No API key is active on this server, but keys were made before (the key "
            "store may have been emptied), so keyless use stays closed. An operator makes a "
            "key on the host with `scamscan keys create --role admin --name NAME` and sends "
            f"it in the {HEADER} header.", type_=TYPE_UNAUTHORIZED, title="No active key",
            headers={"www-authenticate": f'ApiKey header="{HEADER}"'})

    def _known_good(self, key_hash: str) -> bool:
        """Whether the lookup cache holds this key, fresh and not revoked."""
        cached = self._keys.get(key_hash)
        return (cached is not None and not cached[0].revoked
                and time.monotonic() - cached[1] < self.lookup_ttl)

    async def _lookup(self, key_hash: str) -> ApiKey | None:
        cached = self._keys.get(key_hash)
        if cached is not None and time.monotonic() - cached[1] < self.lookup_ttl:
            return cached[0]
        record: ApiKey | None = await self._once("key:" + key_hash,
                                                 lambda: self._read_key(key_hash))
        return record

    async def _read_key(self, key_hash: str) -> ApiKey | None:
        now = time.monotonic()
        cached = self._keys.get(key_hash)
        try:
            record = await self.store.lookup(key_hash)
        except KeyStoreUnavailable as e:
            if cached is not None and now - cached[1] < self.stale_max:
                return cached[0]
            raise storage_problem(e) from None
        if record is None:
            self._keys.pop(key_hash, None)
            return None
        if len(self._keys) >= MAX_CACHED_KEYS:
            self._keys.pop(next(iter(self._keys)))
        self._keys[key_hash] = (record, now)
        return record

    async def authenticate(self, api_key: str | None, client_addr: str) -> Principal:
        """The principal of a request (``api_key`` None: sent no key), or a 401 (or
        503) problem. A key that was sent is checked, never ignored: an empty one
        is a 401 too, not keyless use."""
        if api_key is None:
            return await self.authenticate_hash(None, client_addr)
        if not api_key.strip():
            raise _unauthorized(f"The {HEADER} header is empty.")
        return await self.authenticate_hash(hash_key(api_key.strip()), client_addr)

    async def authenticate_hash(self, key_hash: str | None, client_addr: str, *,
                                where: str = f"in the {HEADER} header") -> Principal:
        """The principal of a key given by its hash (None: keyless), or a 401 (or 503)
        problem. The console's sessions keep only the hash and come through here, so
        revocation, the role and the keyless rule apply to them as to the header;
        ``where`` names the key's origin in the messages."""
        if key_hash is None:
            if (self.keyless_possible and is_loopback_host(client_addr)
                    and not await self.has_keys()):
                if self.keys_were_made():
                    raise self._emptied()
                principal = self._keyless.get(client_addr)
                if principal is None:
                    if len(self._keyless) >= MAX_CACHED_KEYS:
                        self._keyless.clear()
                    principal = self._keyless[client_addr] = Principal(
                        None, KEYLESS_ROLE, "keyless-local", client_addr)
                return principal
            raise _unauthorized(f"This request needs an API key in the {HEADER} header "
                                "(an administrator makes one with `scamscan keys create`).")
        if not self._known_good(key_hash):
            # A key this process saw valid moments ago cannot have failed since: its
            # failure count needs no storage round trip (each one is on every request).
            await self.limiter.locked(key_hash, client_addr)
        record = await self._lookup(key_hash)
        if record is None or record.revoked:
            await self.limiter.failed(key_hash, client_addr)
            raise _unauthorized(f"The API key {where} "
                                f"{'was revoked' if record else 'is not valid'}.")
        await self._touch(record.id)
        return Principal(record.id, record.role, record.name, client_addr, record.rate)

    async def _touch(self, key_id: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(key_id, -math.inf) < TOUCH_EVERY:
            return
        self._touched[key_id] = now
        try:
            await self.store.touch(key_id, datetime.now(UTC))
        except KeyStoreUnavailable as e:  # bookkeeping only
            log.debug("cannot record the use of key %s: %s", key_id, e)

    async def aclose(self) -> None:
        try:
            await self.limiter.aclose()
        finally:
            await self.store.close()


async def open_auth(settings: Settings, store: KeyStore) -> Authenticator:
    """The authenticator of an app over ``store`` (from its lifespan); logs the
    keyless-local case."""
    keyless_possible = not settings.require_keys and is_loopback_host(settings.host)
    auth = Authenticator(store, RateLimiter(settings), keyless_possible=keyless_possible,
                         marker=keys_made_marker(settings.data_dir))
    try:
        has_keys = await store.has_active()
    except KeyStoreUnavailable as e:
        log.warning("API key store unavailable at startup (%s); authenticated requests will "
                    "get 503 until it answers", e)
        return auth
    if has_keys:  # keys made before the marker existed (an upgrade), or by another host
        await anyio.to_thread.run_sync(record_keys_made, keys_made_marker(settings.data_dir))
    elif auth.keys_were_made():
        auth._emptied()  # logs why keyless use stays closed
    elif keyless_possible:
        log.warning("no API keys and bound to loopback (%s): keyless requests from this "
                    "machine are accepted with the %r role; create a key with `scamscan keys "
                    "create` (or set SCAMSCAN_REQUIRE_KEYS=1) to require keys",
                    settings.host, KEYLESS_ROLE)
    elif not has_keys:
        log.warning("no API key exists: every request to a protected route will get 401; "
                    "create one with `scamscan keys create --role admin --name NAME`")
    return auth


# --- the dependency ---------------------------------------------------------------

api_key_header = APIKeyHeader(
    name=HEADER, scheme_name="ApiKey", auto_error=False,
    description="An API key (`scamscan keys create`). Keyless requests are accepted only "
    "by a server bound to loopback with no key made.")


def _client_addr(request: Request) -> str:
    # The scope's pair, as ``request.client`` gives it, without building an Address.
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


class SessionExpired(ProblemException):
    """A console session cookie that names no live session: a 401 problem for a
    script, a redirect to the sign-in page for a console page."""

    def __init__(self) -> None:
        super().__init__(401, "The console session has expired or is unknown; sign in "
                         "again.", type_=TYPE_UNAUTHORIZED, title="Session expired")


def _forbidden_csrf(detail: str) -> ProblemException:
    return ProblemException(403, detail, type_=TYPE_FORBIDDEN, title="CSRF check failed")


def authenticator(request: Request) -> Authenticator:
    """The app's :class:`Authenticator` (built in the lifespan, in its services)."""
    auth: Authenticator = request.app.state.services.auth
    return auth


def _sessions(request: Request) -> SessionStore | None:
    """The app's console session store, when the app has services (it always has after
    its lifespan started)."""
    services = getattr(request.app.state, "services", None)
    return None if services is None else services.sessions


async def session_of(request: Request) -> tuple[str, Session] | None:
    """The console session the request's cookie names: None without a cookie (or
    without a console), :class:`SessionExpired` for a dead one, 503 when the store
    fails."""
    if header(request, b"cookie") is None:  # no cookie at all: the common case, cheaply
        return None
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    sessions: SessionStore | None = _sessions(request)
    if sessions is None:
        return None
    try:
        session = await sessions.get(session_id)
    except SessionStoreUnavailable as e:
        log.error("console session store unavailable: %s", e)
        raise storage_problem(e) from None
    if session is None:
        raise SessionExpired()
    return session_id, session


async def check_csrf(request: Request, session: Session) -> None:
    """403 unless the request carries the session's CSRF token, in the
    ``X-CSRF-Token`` header (scripts) or the ``csrf_token`` field of a URL-encoded
    form (HTML forms). Multipart bodies are not parsed for it: they may be large
    uploads that the route streams (the console's upload script sends the header)."""
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            # Starlette caches the parsed form: the route still reads it afterwards.
            value = (await request.form()).get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    if not token:
        raise _forbidden_csrf(f"This request is authenticated by a console session, so it "
                              f"needs the session's CSRF token ({CSRF_HEADER} header or "
                              f"{CSRF_FIELD} form field).")
    if not hmac.compare_digest(token.encode("utf-8"), session.csrf.encode("utf-8")):
        raise _forbidden_csrf("The CSRF token does not match this console session; reload "
                              "the page and try again.")


def check_request_origin(request: Request, principal: Principal, *, cookie: bool) -> None:
    """Where the request comes from, for the credentials it used (see :mod:`api.origin`):
    keyless use needs a loopback ``Host`` (421) and same-origin writes (403); a
    write authenticated by a console cookie must not be marked cross-site by the
    browser (403). A key in a header is not ambient: no check."""
    if principal.key_id is None:
        check_loopback_host(request)
        check_same_origin(request)
    elif cookie:
        check_fetch_site(request)


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the request's :class:`Principal`, at least ``role``, counted
    against its rate limit; otherwise a 401, 403, 429 or 503 problem.

    The key comes from ``X-API-Key`` or, when that header is absent, from the
    console session named by the ``scamscan_session`` cookie (:func:`session_of`),
    checked through the same :class:`Authenticator`. A request authenticated by
    the cookie with an unsafe method must also pass :func:`check_csrf`: a cookie
    is sent by the browser whoever made the page, a header is not."""

    async def dependency(
        request: Request, api_key: Annotated[str | None, Security(api_key_header)]
    ) -> Principal:
        auth = authenticator(request)
        # ``api_key`` declares the scheme in OpenAPI; the raw header is read instead,
        # because APIKeyHeader gives None for an empty one. A credential that was sent
        # is checked, never ignored: an empty X-API-Key, or only an Authorization
        # header (which this API does not read), is a 401, not keyless use. (With a
        # console cookie, Authorization is left alone: a proxy's Basic auth sends it.)
        del api_key
        sent = header(request, _HEADER_RAW)
        found = None if sent is not None else await session_of(request)
        if sent is None and found is None and header(request, b"authorization") is not None:
            raise _unauthorized(f"This API reads its key from the {HEADER} header, not "
                                "from Authorization.")
        request.state.session = found
        if found is None:
            principal = await auth.authenticate(sent, _client_addr(request))
        else:
            session_id, session = found
            try:
                principal = await auth.authenticate_hash(
                    session.key_hash, _client_addr(request), where="of this console session")
            except ProblemException as e:
                if e.status_code == 401:  # revoked key, or keys made since a keyless sign-in
                    await _end_session(request, session_id)
                raise
        check_request_origin(request, principal, cookie=found is not None)
        if found is not None and request.method not in SAFE_METHODS:
            await check_csrf(request, found[1])
        quota = await auth.limiter.check(principal)
        if quota is not None:  # on whatever this request answers, errors included
            add_response_headers(request, quota.headers())
        if not principal.at_least(role):
            raise ProblemException(403, f"This needs the {role!r} role; the key "
                                   f"{principal.name!r} has the {principal.role!r} role.",
                                   type_=TYPE_FORBIDDEN, title="Forbidden")
        current_owner.set(principal.key_id)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


async def _end_session(request: Request, session_id: str) -> None:
    sessions: SessionStore | None = _sessions(request)
    if sessions is not None:
        try:
            await sessions.delete(session_id)
        except SessionStoreUnavailable as e:  # it expires by itself
            log.warning("could not delete a console session: %s", e)


ClientAuth = Annotated[Principal, Depends(require("client"))]
AnalystAuth = Annotated[Principal, Depends(require("analyst"))]
AdminAuth = Annotated[Principal, Depends(require("admin"))]

AUTH_RESPONSES = problem_responses(401, 403, 421, 429, 503)
"""OpenAPI ``responses=`` entries for a protected route."""


_NOT_COUNTED = frozenset({"401", "421", "503"})
"""Answers given before the request is counted (or when nothing could be): no fields."""

RATELIMIT_HEADER_DOCS: dict[str, dict[str, Any]] = {
    "RateLimit-Limit": {
        "description": "Requests allowed in the window of the rate limit that applies "
        "(the key's own `rate`, else its role's; keyless: per address). With several "
        "limits, the one nearest to running out (draft-ietf-httpapi-ratelimit-headers-06).",
        "schema": {"type": "integer", "minimum": 1}},
    "RateLimit-Remaining": {
        "description": "Requests still allowed in the window, this one counted.",
        "schema": {"type": "integer", "minimum": 0}},
    "RateLimit-Reset": {
        "description": "Seconds until the oldest request counted leaves the (moving) "
        "window, so that at least one more request is allowed.",
        "schema": {"type": "integer", "minimum": 0}},
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1}},
}
"""The ``components.headers`` of the OpenAPI document (:func:`document_ratelimit_headers`)."""


def document_ratelimit_headers(schema: dict[str, Any]) -> None:
    """Describe the RateLimit fields in the OpenAPI ``schema``: shared
    ``components.headers``, referenced by every response of an operation that needs
    an API key (``security``) that is given after the request was counted (all but
    401, 421 and 503), and ``Retry-After`` on its 429."""
    components = schema.setdefault("components", {})
    components.setdefault("headers", {}).update(RATELIMIT_HEADER_DOCS)
    for path in schema.get("paths", {}).values():
        for op in path.values():
            if not isinstance(op, dict) or not any(
                    api_key_header.scheme_name in req for req in op.get("security", ())):
                continue
            for status, response in op.get("responses", {}).items():
                if status in _NOT_COUNTED:
                    continue
                names = [*RATELIMIT_HEADERS, *(("Retry-After",) if status == "429" else ())]
                headers = response.setdefault("headers", {})
                for name in names:
                    headers.setdefault(name, {"$ref": f"#/components/headers/{name}"})
