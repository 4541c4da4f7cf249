"""Per-key quotas and the RateLimit fields (api.auth, api.storage.apikeys, /v1/keys).

Real SQLite files in tmp_path, a real ``redis-server`` for the Redis mode, the real
CLI in a subprocess; no mocks.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from limits.aio.storage import MemoryStorage

from api.main import create_app
from api.storage.apikeys import check_rate
from api.storage.factory import open_key_store
from tests.live_servers_age import RedisServer
from tests.test_auth import (
    SCANS,
    assert_problem,
    auth_settings,
    client,
    get,
    make_key,
    run_cli,
    running,
    scan,
)

pytestmark = pytest.mark.anyio

FIELDS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


def quota(r: httpx.Response) -> tuple[int, int, int]:
    """(limit, remaining, reset) of a response, which must carry the three fields."""
    missing = [f for f in FIELDS if f not in r.headers]
    assert not missing, (r.status_code, dict(r.headers))
    limit, remaining, reset = (int(r.headers[f]) for f in FIELDS)
    return limit, remaining, reset


def no_quota(r: httpx.Response) -> None:
    assert not [f for f in FIELDS if f in r.headers], dict(r.headers)


async def create_key(app: Any, admin: str, **body: Any) -> httpx.Response:
    async with client(app, admin) as c:
        return await c.post("/v1/keys", json={"name": "bot", "role": "client", **body})


# --- the fields ---------------------------------------------------------------------


async def test_fields_count_down_with_the_role_default(tmp_path: Path) -> None:
    s = auth_settings(tmp_path, rate_limit_client="5/minute")
    _, key = await make_key(s, "client")
    async with running(create_app(s)) as app:
        seen = [quota(await scan(app, key)) for _ in range(5)]
        assert [q[1] for q in seen] == [4, 3, 2, 1, 0]
        assert all(q[0] == 5 and 1 <= q[2] <= 60 for q in seen), seen
        r = await scan(app, key)
        assert_problem(r, 429, "5 per 1 minute")
        assert quota(r)[:2] == (5, 0)
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert int(r.headers["retry-after"]) == quota(r)[2]


async def test_a_keys_own_rate_is_honoured(tmp_path: Path) -> None:
    s = auth_settings(tmp_path, rate_limit_client="100/minute")
    _, admin = await make_key(s, "admin", "ops")
    async with running(create_app(s)) as app:
        made = await create_key(app, admin, rate="3/minute")
        assert made.status_code == 201, made.text
        assert made.json()["rate"] == "3/minute"
        limited = made.json()["key"]
        default = (await create_key(app, admin, name="other")).json()
        assert default["rate"] is None
        for left in (2, 1, 0):
            r = await scan(app, limited)
            assert r.status_code == 200 and quota(r)[:2] == (3, left)
        r = await scan(app, limited)
        assert_problem(r, 429, "3 per 1 minute", "per key")
        assert r.headers["ratelimit-remaining"] == "0"
        assert r.headers["ratelimit-limit"] == "3"
        assert int(r.headers["retry-after"]) >= 1
        # The other client key has its role's limit, untouched by the first one's.
        assert quota(await scan(app, default["key"]))[:2] == (100, 99)
        # Listed with the key (never the secret).
        async with client(app, admin) as c:
            keys = {k["name"]: k for k in (await c.get("/v1/keys")).json()["keys"]}
        assert keys["bot"]["rate"] == "3/minute" and keys["other"]["rate"] is None
        assert "key" not in keys["bot"]


async def test_fields_on_errors_after_authentication(tmp_path: Path) -> None:
    s = auth_settings(tmp_path, rate_limit_client="10/minute")
    _, key = await make_key(s, "client")
    async with running(create_app(s)) as app, client(app, key) as c:
        invalid = await c.post(SCANS, json={"url": ""})  # 422 problem
        assert_problem(invalid, 422)
        assert quota(invalid)[:2] == (10, 9)
        unknown = await c.get("/v1/scans/" + "0" * 32)  # 404 problem
        assert_problem(unknown, 404)
        assert quota(unknown)[:2] == (10, 8)
        forbidden = await c.get("/v1/keys")  # 403: a client is not an admin
        assert_problem(forbidden, 403)
        assert quota(forbidden)[:2] == (10, 7)
        # Public routes are neither counted nor given the fields.
        no_quota(await c.get("/healthz"))
        assert quota(await c.post(SCANS, json={"url": "a.vn"}))[:2] == (10, 6)
    # A failed authentication counts nothing for a key: no fields.
    async with running(create_app(s)) as app:
        wrong = await scan(app, "ss_not-a-key")
        assert_problem(wrong, 401)
        no_quota(wrong)


async def test_keyless_local_use_gets_the_fields_of_its_address_limit(tmp_path: Path) -> None:
    s = auth_settings(tmp_path, rate_limit_keyless="4/minute")
    async with running(create_app(s)) as app:
        assert quota(await scan(app))[:2] == (4, 3)
        assert quota(await scan(app, addr=("127.0.0.2", 9)))[:2] == (4, 3)  # per address
        assert quota(await scan(app))[:2] == (4, 2)


async def test_a_wrong_key_is_401_while_no_key_exists(tmp_path: Path) -> None:
    s = auth_settings(tmp_path)
    async with running(create_app(s)) as app:
        assert (await scan(app)).status_code == 200  # keyless local use is open
        r = await scan(app, "ss_wrong")
        assert_problem(r, 401, "not valid")
        no_quota(r)


async def test_several_limits_report_the_nearest_to_running_out(tmp_path: Path) -> None:
    s = auth_settings(tmp_path)
    _, admin = await make_key(s, "admin", "ops")
    async with running(create_app(s)) as app:
        key = (await create_key(app, admin, rate="100/minute;2/hour")).json()["key"]
        assert quota(await scan(app, key))[:2] == (2, 1)
        r = await scan(app, key)
        assert quota(r)[:2] == (2, 0)
        assert 3500 <= quota(r)[2] <= 3600
        assert_problem(await scan(app, key), 429, "2 per 1 hour")


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["", "fast", "0/minute", "60/fortnight", "-1/second",
                                  "6" * 101 + "/minute"])
def test_check_rate_refuses_what_limits_cannot_read(rate: str) -> None:
    with pytest.raises(ValueError, match="not a rate limit"):
        check_rate(rate)


def test_check_rate_accepts_limits_notation() -> None:
    assert check_rate(" 600/minute ") == "600/minute"
    assert check_rate("10/second;1000/hour") == "10/second;1000/hour"


async def test_invalid_rate_is_a_422_problem(tmp_path: Path) -> None:
    s = auth_settings(tmp_path)
    _, admin = await make_key(s, "admin", "ops")
    async with running(create_app(s)) as app:
        for rate in ("lots", "0/minute", 600):
            r = await create_key(app, admin, rate=rate)
            body = assert_problem(r, 422)
            assert body["errors"][0]["field"] == "rate", body
        async with client(app, admin) as c:
            listed = (await c.get("/v1/keys")).json()["keys"]
        assert [k["name"] for k in listed] == ["ops"]  # nothing was made


@pytest.mark.slow
def test_cli_rate(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = run_cli("create", "--role", "client", "--name", "bot", "--rate", "often",
                  data_dir=data)
    assert bad.returncode == 2 and "not a rate limit" in bad.stderr, bad.stderr
    made = run_cli("create", "--role", "client", "--name", "bot", "--rate", "600/minute",
                   "--json", data_dir=data)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["rate"] == "600/minute"
    run_cli("create", "--role", "analyst", "--name", "desk", data_dir=data)
    rows = {r["name"]: r for r in map(json.loads, run_cli(
        "list", "--json", data_dir=data).stdout.splitlines())}
    assert rows["bot"]["rate"] == "600/minute" and rows["desk"]["rate"] is None
    text = run_cli("list", data_dir=data).stdout
    assert "RATE" in text and "600/minute" in text and "role default" in text


# --- stores ----------------------------------------------------------------------------


async def test_a_key_file_from_before_rates_keeps_working(tmp_path: Path) -> None:
    """A keys.sqlite3 made by the previous schema (no ``rate`` column): its keys get
    their role's limit, and new keys with a rate can be added to it."""
    s = auth_settings(tmp_path, rate_limit_client="7/minute")
    _, secret = await make_key(s, "client", "old")
    with sqlite3.connect(tmp_path / "keys.sqlite3") as db:  # back to the old table
        db.execute("ALTER TABLE api_keys DROP COLUMN rate")
    async with running(create_app(s)) as app:
        assert quota(await scan(app, secret))[:2] == (7, 6)
        store = open_key_store(s.data_dir, None)
        record, newer = await store.create("new", "client", rate="2/minute")
        assert record.rate == "2/minute"
        assert {k.name: k.rate for k in await store.list()} == {"old": None,
                                                                  "new": "2/minute"}
        assert quota(await scan(app, newer))[:2] == (2, 1)


async def test_redis_mode(redis_server: RedisServer, tmp_path: Path) -> None:
    s = auth_settings(tmp_path / "data", redis_url=redis_server.url,
                      rate_limit_client="50/minute")
    made = run_cli("create", "--role", "admin", "--name", "ops", data_dir=s.data_dir,
                   redis_url=redis_server.url)
    assert made.returncode == 0, made.stderr
    admin = made.stdout.strip()
    async with running(create_app(s)) as a, running(create_app(s)) as b:
        key = (await create_key(a, admin, rate="3/minute")).json()
        old = (await create_key(a, admin, name="old")).json()
        # Both replicas count the same window, and say so.
        assert quota(await scan(a, key["key"]))[:2] == (3, 2)
        assert quota(await scan(b, key["key"]))[:2] == (3, 1)
        assert quota(await scan(a, key["key"]))[:2] == (3, 0)
        r = await scan(b, key["key"])
        assert_problem(r, 429)
        assert r.headers["ratelimit-remaining"] == "0" and int(r.headers["retry-after"]) >= 1
        # A key stored without a rate (as before rates existed) has its role's limit.
        redis = a.state.services.auth.store._redis
        assert await redis.hget(f"{a.state.services.auth.store.prefix}key:{old['id']}",
                                "rate") is None
        assert quota(await scan(b, old["key"]))[:2] == (50, 49)
        listed = {k["name"]: k["rate"] for k in (await _list(b, admin))}
        assert listed == {"ops": None, "bot": "3/minute", "old": None}


async def _list(app: Any, key: str) -> list[dict[str, Any]]:
    r = await get(app, "/v1/keys", key)
    assert r.status_code == 200, r.text
    assert quota(r)[0] == 600  # the admin role's default
    keys: list[dict[str, Any]] = r.json()["keys"]
    return keys


# --- OpenAPI ---------------------------------------------------------------------------


async def test_openapi_describes_the_fields_and_the_rate(tmp_path: Path) -> None:
    async with running(create_app(auth_settings(tmp_path))) as app:
        doc = (await get(app, "/openapi.json")).json()
    headers = doc["components"]["headers"]
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
            "Retry-After"} <= set(headers)
    responses = doc["paths"][SCANS]["post"]["responses"]
    for status in ("200", "422", "429", "403"):
        refs = {h["$ref"] for h in responses[status]["headers"].values()}
        assert "#/components/headers/RateLimit-Remaining" in refs, status
    assert "Retry-After" in responses["429"]["headers"]
    assert "headers" not in responses["401"]
    assert "headers" not in doc["paths"]["/healthz"]["get"]["responses"]["200"]
    rate = doc["components"]["schemas"]["KeyCreate"]["properties"]["rate"]
    assert "limits" in rate["description"]
    assert "rate" in doc["components"]["schemas"]["KeyOut"]["properties"]


# --- the embedded storage's spaced clean-up -------------------------------------------


async def test_spaced_memory_storage_counts_the_same_and_still_cleans_up() -> None:
    from limits import parse
    from limits.aio.strategies import MovingWindowRateLimiter

    from api.storage.limits_memory import SpacedMemoryStorage

    # The hook it overrides must exist: a new ``limits`` that renames it fails here.
    assert hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry")
    spaced = SpacedMemoryStorage(interval=3600.0)
    limiter = MovingWindowRateLimiter(spaced)
    three = parse("3/minute")
    assert [await limiter.hit(three, "k") for _ in range(4)] == [True, True, True, False]
    first = spaced.timer
    assert first is not None  # the first hit started one clean-up...
    await first
    await limiter.hit(three, "other")
    assert spaced.timer is first  # ...and no other within the interval
    # With no interval, each hit may clean up: expired hits leave the memory.
    eager = SpacedMemoryStorage(interval=0.0)
    assert await eager.acquire_entry("e", 5, expiry=0)
    await asyncio.sleep(0.01)
    assert await eager.acquire_entry("f", 5, expiry=60)
    assert eager.timer is not None
    await eager.timer
    assert "e" not in eager.events and "f" in eager.events


async def test_oldest_first_memory_storage_answers_as_limits_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded storage keeps hits oldest first (an append per hit); every read
    answers what ``limits``' own MemoryStorage (newest first) answers for the same hits
    at the same times (a stepped clock), through the strategies (hit, test, window
    stats) and the combined call, as hits leave the window."""
    from limits import parse
    from limits.aio.strategies import MovingWindowRateLimiter

    from api.storage.limits_memory import SpacedMemoryStorage

    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    ours, theirs = SpacedMemoryStorage(interval=3600.0), MemoryStorage()
    mine, plain = MovingWindowRateLimiter(ours), MovingWindowRateLimiter(theirs)
    three = parse("3/second")
    key = three.key_for("k")
    seen: set[bool] = set()
    for step in range(16):
        cost = 1 + step % 2
        answers = []
        for limiter, storage in ((mine, ours), (plain, theirs)):
            hit = await limiter.hit(three, "k", cost=cost)
            stats = await limiter.get_window_stats(three, "k")
            answers.append((hit, await limiter.test(three, "k"), stats.remaining,
                            stats.reset_time, await storage.get_moving_window(key, 3, 1)))
        assert answers[0] == answers[1], step
        seen.add(answers[0][0])
        now[0] += 0.15 if step % 4 else 0.6
    assert seen == {True, False}  # both allowed and refused hits were compared
    # The combined call: the same hit and window as acquire_entry then get_moving_window.
    for cost in (1, 2, 5, 1, 3):
        combined = await ours.acquire_with_window(key, 3, 1, cost)
        acquired = await theirs.acquire_entry(key, 3, 1, cost)
        assert combined == (acquired, *await theirs.get_moving_window(key, 3, 1))
        now[0] += 0.3
    # The clean-up drops exactly the expired head.
    await ours.acquire_entry("x", 10, 1)
    now[0] += 0.5
    await ours.acquire_entry("x", 10, 60)
    now[0] += 1
    await ours._MemoryStorage__expire_events()
    assert [e.expiry - e.atime for e in ours.events["x"]] == [60]


# --- one round trip for the hit and its window -------------------------------------------


def _evalsha_calls(url: str) -> int:
    import redis as redis_sync

    r = redis_sync.Redis.from_url(url)
    try:
        stats = r.info("commandstats").get("cmdstat_evalsha", {})
    finally:
        r.close()
    return int(stats.get("calls", 0)) if isinstance(stats, dict) else 0


async def test_acquire_with_window_matches_limits_own_calls(redis_server: RedisServer) -> None:
    """The combined script answers what ``limits``' hit then get_window_stats answer, on
    the same keys (so ``test`` and the failure limits read the same windows), in one
    EVALSHA; the memory storage's version answers the same."""
    from limits import parse
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter

    from api.storage.limits_memory import SpacedMemoryStorage
    from api.storage.limits_redis import WindowedRedisStorage

    uri = "async+" + redis_server.url
    windowed = WindowedRedisStorage(uri, implementation="redispy", key_prefix="t")
    plain = MovingWindowRateLimiter(RedisStorage(uri, implementation="redispy",
                                                 key_prefix="t"))
    memory = SpacedMemoryStorage()
    four = parse("4/minute")
    key = four.key_for("key", "k1")
    seen: list[tuple[bool, int]] = []
    for i, cost in enumerate((1, 2, 1, 1, 5)):
        before = _evalsha_calls(redis_server.url)
        acquired, start, count = await windowed.acquire_with_window(key, 4, 60, cost)
        if i:  # (the first call also loads the script: NOSCRIPT, SCRIPT LOAD, EVALSHA)
            assert _evalsha_calls(redis_server.url) == before + 1
        stats = await plain.get_window_stats(four, "key", "k1")
        assert stats.remaining == 4 - count
        assert abs(stats.reset_time - (start + 60)) < 0.01
        m_acquired, _, m_count = await memory.acquire_with_window(key, 4, 60, cost)
        assert (m_acquired, m_count) == (acquired, count)
        seen.append((acquired, count))
    # 1 + 2 + 1 fill the window; the next single hit and a cost over the limit are refused.
    assert seen == [(True, 1), (True, 3), (True, 4), (False, 4), (False, 4)]
    assert not await plain.test(four, "key", "k1")
    # A window nobody hit: not acquired past the limit, starts now, empty.
    acquired, start, count = await windowed.acquire_with_window("empty", 2, 60, 3)
    assert (acquired, count) == (False, 0) and abs(start - time.time()) < 5


# --- one store read for every request in flight ------------------------------------------


async def test_requests_in_flight_share_one_store_read(tmp_path: Path) -> None:
    """When the cached "keys exist" or a key's record expires, the requests in flight
    wait for one read of the (real, SQLite) store, not one each; a change made through
    this process (invalidate) is not answered by a read started before it."""
    from api.auth import Authenticator, RateLimiter
    from api.settings import Settings

    settings = Settings(data_dir=tmp_path)
    store = open_key_store(tmp_path, None)
    reads: list[str] = []
    has_active, lookup = store.has_active, store.lookup

    async def counted_has_active() -> bool:
        reads.append("has_active")
        value = await has_active()
        await asyncio.sleep(0.05)  # a slow store: the others arrive meanwhile
        return value

    async def counted_lookup(key_hash: str) -> Any:
        reads.append("lookup")
        await asyncio.sleep(0.05)
        return await lookup(key_hash)

    store.has_active = counted_has_active  # type: ignore[method-assign]
    store.lookup = counted_lookup  # type: ignore[method-assign]
    auth = Authenticator(store, RateLimiter(settings), keyless_possible=True)
    assert await asyncio.gather(*(auth.has_keys() for _ in range(50))) == [False] * 50
    assert reads == ["has_active"]
    from api.storage.apikeys import hash_key

    auth._has_keys = None  # expired
    first = asyncio.ensure_future(auth.has_keys())  # a read under way, before the key...
    await asyncio.sleep(0.01)
    _, secret = await store.create("bot", "client")
    auth.invalidate()  # ...made through this process
    assert await auth.has_keys() is True  # a read of its own, not the one under way
    assert await first is False and reads == ["has_active"] * 3
    reads.clear()
    principals = await asyncio.gather(*(auth.authenticate(secret, "127.0.0.1")
                                        for _ in range(20)))
    assert {p.name for p in principals} == {"bot"} and reads.count("lookup") == 1
    assert auth._known_good(hash_key(secret))
