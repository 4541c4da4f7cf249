"""API keys, roles, keyless local use and rate limits (api.auth, api.storage.apikeys).

Real SQLite files in tmp_path, a real ``redis-server`` for the Redis variants,
the real CLI in a subprocess; no mocks.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.auth import Authenticator
from api.main import create_app
from api.origin import is_loopback_host
from api.problems import PROBLEM_JSON
from api.settings import Settings
from api.storage.apikeys import SCHEMA_VERSION, hash_key
from api.storage.factory import open_key_store
from tests.live_servers_age import RedisServer

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
SCANS = "/v1/url-scans"
UPLOAD = "/v1/apk-scans"
APK_TYPE = "application/vnd.android.package-archive"
LOCAL = ("127.0.0.1", 50000)



def auth_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings independent of the environment's SCAMSCAN_* values."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 8000,
        "log_level": "INFO",
        "redis_url": None,
        "data_dir": data_dir,
        "require_keys": False,
        "apk_workers": 1,
        "max_apk_bytes": 1024 * 1024,
        "rate_limit_client": "60/minute",
        "rate_limit_analyst": "600/minute",
        "rate_limit_admin": "600/minute",
        "rate_limit_keyless": "60/minute",
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


def client(app: FastAPI, key: str | None = None,
           addr: tuple[str, int] = LOCAL) -> httpx.AsyncClient:
    headers = {"X-API-Key": key} if key is not None else {}
    transport = httpx.ASGITransport(app=app, client=addr)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                             headers=headers, timeout=60)


async def get(app: FastAPI, path: str, key: str | None = None,
              addr: tuple[str, int] = LOCAL) -> httpx.Response:
    async with client(app, key, addr) as c:
        return await c.get(path)


async def scan(app: FastAPI, key: str | None = None,
               addr: tuple[str, int] = LOCAL) -> httpx.Response:
    async with client(app, key, addr) as c:
        return await c.post(SCANS, json={"url": "dichvucong.hgov.cc"})


async def make_key(s: Settings, role: str, name: str = "test") -> tuple[str, str]:
    """(id, secret) of a new key in the store the settings name."""
    store = open_key_store(s.data_dir, s.redis_url)
    try:
        record, secret = await store.create(name, role)
    finally:
        await store.close()
    return record.id, secret


def assert_problem(r: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"].startswith("tag:scamscan")
    assert body["title"] and len(body["detail"]) > 10
    for w in words:
        assert w.lower() in body["detail"].lower(), body["detail"]
    return body


def run_cli(*args: str, data_dir: Path, redis_url: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCAMSCAN_")}
    env["SCAMSCAN_DATA_DIR"] = str(data_dir)
    if redis_url:
        env["SCAMSCAN_REDIS_URL"] = redis_url
    return subprocess.run([sys.executable, "-m", "api.cli", "keys", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60, check=False)


# --- the keys command ------------------------------------------------------------


@pytest.mark.slow
def test_keys_cli_create_list_revoke(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cli("create", "--role", "client", "--name", "app one", data_dir=data)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("ss_") and len(secret) > 40 and "\n" not in secret
    key_id = made.stderr.split()[1]
    assert key_id.startswith("key_"), made.stderr
    assert "only now" in made.stderr

    as_json = run_cli("create", "--role", "admin", "--name", "ops", "--json", data_dir=data)
    assert as_json.returncode == 0
    admin = json.loads(as_json.stdout)
    assert admin["role"] == "admin" and admin["key"].startswith("ss_")

    listed = run_cli("list", data_dir=data)
    assert listed.returncode == 0
    assert key_id in listed.stdout and "app one" in listed.stdout and "client" in listed.stdout
    assert secret not in listed.stdout and admin["key"] not in listed.stdout
    rows = [json.loads(line)
            for line in run_cli("list", "--json", data_dir=data).stdout.splitlines()]
    assert {r["id"] for r in rows} == {key_id, admin["id"]}
    assert all("key" not in r and r["revoked"] is False for r in rows)

    # Only the hash is stored: the secret is nowhere in the database files.
    for f in data.glob("keys.sqlite3*"):
        assert secret.encode() not in f.read_bytes()
    with sqlite3.connect(data / "keys.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        hashes = {h for (h,) in db.execute("SELECT key_hash FROM api_keys")}
    assert hash_key(secret) in hashes

    revoked = run_cli("revoke", key_id, data_dir=data)
    assert revoked.returncode == 0 and key_id in revoked.stderr
    rows = [json.loads(line)
            for line in run_cli("list", "--json", data_dir=data).stdout.splitlines()]
    assert {r["id"]: r["revoked"] for r in rows} == {key_id: True, admin["id"]: False}

    missing = run_cli("revoke", "key_nope", data_dir=data)
    assert missing.returncode == 1 and "key_nope" in missing.stderr
    assert run_cli("create", "--role", "root", "--name", "x", data_dir=data).returncode == 2
    assert run_cli("create", "--role", "client", data_dir=data).returncode == 2
    assert run_cli("create", "--role", "client", "--name", " ", data_dir=data).returncode == 2
    assert run_cli(data_dir=data).returncode == 2


@pytest.mark.slow
async def test_key_from_the_cli_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cli("create", "--role", "client", "--name", "phone app", data_dir=data)
    secret = made.stdout.strip()
    s = auth_settings(data)
    for _ in range(2):  # a fresh app each time: nothing but the SQLite file is shared
        async with running(create_app(s)) as app:
            assert (await scan(app, secret)).status_code == 200
            assert_problem(await scan(app), 401, "X-API-Key")  # a key exists: no keyless
    listed = run_cli("list", "--json", data_dir=data)
    assert json.loads(listed.stdout)["last_used"] is not None


# --- 401, 403, scans' owners -------------------------------------------------------


async def test_missing_bad_and_revoked_keys_are_401_problems(tmp_path: Path) -> None:
    s = auth_settings(tmp_path)
    key_id, secret = await make_key(s, "client")
    async with running(create_app(s)) as app:
        missing = assert_problem(await scan(app), 401, "X-API-Key")
        assert missing["type"].endswith("/unauthorized")
        async with client(app) as c:
            r = await c.post(SCANS, json={"url": "x.vn"})
        assert "x-api-key" in r.headers["www-authenticate"].lower()
        assert_problem(await scan(app, "ss_not-a-real-key"), 401, "not valid")
        assert_problem(await get(app, "/v1/scans/abc", "ss_wrong"), 401)
        assert (await scan(app, secret)).status_code == 200
        # Revoked through another process (the CLI's store): applies within lookup_ttl.
        auth: Authenticator = app.state.services.auth
        auth.lookup_ttl = 0
        store = open_key_store(s.data_dir, None)
        assert await store.revoke(key_id) is not None
        assert_problem(await scan(app, secret), 401, "revoked")
        # Public routes need no key.
        for path in ("/healthz", "/v1/rules", "/openapi.json", "/docs", "/redoc",
                     "/docs/static/swagger-ui.css"):
            assert (await get(app, path)).status_code == 200, path


async def test_roles_and_the_admin_key_routes(tmp_path: Path) -> None:
    s = auth_settings(tmp_path)
    _, client_key = await make_key(s, "client")
    _, analyst_key = await make_key(s, "analyst")
    _, admin_key = await make_key(s, "admin")
    async with running(create_app(s)) as app:
        body = assert_problem(await get(app, "/v1/keys", client_key), 403, "admin")
        assert body["type"].endswith("/forbidden")
        assert_problem(await get(app, "/v1/keys", analyst_key), 403, "admin")
        listed = await get(app, "/v1/keys", admin_key)
        assert listed.status_code == 200
        assert len(listed.json()["keys"]) == 3
        assert all("key" not in k for k in listed.json()["keys"])
        async with client(app, admin_key) as c:
            made = await c.post("/v1/keys", json={"name": "new one", "role": "client"})
            assert made.status_code == 201, made.text
            new = made.json()
            assert new["key"].startswith("ss_") and new["role"] == "client"
            assert_problem(await c.post("/v1/keys", json={"name": "x", "role": "root"}), 422)
            assert (await scan(app, new["key"])).status_code == 200
            gone = await c.delete(f"/v1/keys/{new['id']}")
            assert gone.status_code == 200 and gone.json()["revoked"] is True
            assert_problem(await c.delete("/v1/keys/key_nope"), 404)
        # Revoked through this server: at once, whatever the cache.
        assert_problem(await scan(app, new["key"]), 401, "revoked")
        async with client(app, client_key) as c:
            assert_problem(await c.post("/v1/keys", json={"name": "x", "role": "admin"}), 403)


async def test_a_client_sees_only_its_own_scans(tmp_path: Path) -> None:
    s = auth_settings(tmp_path)
    _, alice = await make_key(s, "client", "alice")
    _, bob = await make_key(s, "client", "bob")
    _, analyst = await make_key(s, "analyst", "analyst")
    _, admin = await make_key(s, "admin", "admin")
    async with running(create_app(s)) as app:
        async with client(app, alice) as c:
            up = await c.post(UPLOAD, files={"file": ("a.apk", b"not an app at all", APK_TYPE)},
                              params={"wait": 30})
        assert up.status_code in (200, 202), up.text
        scan_id = up.json()["scan_id"]
        path = f"/v1/scans/{scan_id}"
        assert app.state.services.jobs.get(scan_id).owner is not None
        assert (await get(app, path, alice)).status_code == 200
        # Another client: as if the scan did not exist (no 403 that would tell it does).
        hidden = assert_problem(await get(app, path, bob), 404)
        unknown = assert_problem(await get(app, "/v1/scans/0123abcd", bob), 404)
        assert hidden["detail"] == unknown["detail"]
        for key in (analyst, admin):
            r = await get(app, path, key)
            assert r.status_code == 200 and r.json()["scan_id"] == scan_id
        assert_problem(await get(app, path), 401)


async def test_openapi_has_the_api_key_scheme(tmp_path: Path) -> None:
    async with running(create_app(auth_settings(tmp_path))) as app:
        spec = (await get(app, "/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["ApiKey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert spec["paths"][SCANS]["post"]["security"] == [{"ApiKey": []}]
    assert "security" in spec["paths"]["/v1/scans/{scan_id}"]["get"]
    assert "security" in spec["paths"]["/v1/keys"]["post"]
    assert "security" not in spec["paths"]["/v1/rules"]["get"]
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert "401" in spec["paths"][SCANS]["post"]["responses"]
    assert "429" in spec["paths"][SCANS]["post"]["responses"]


# --- keyless local use -------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST.", True), ("0.0.0.0", False), ("::", False),
    ("10.0.0.1", False), ("example.com", False), ("", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


async def test_keyless_on_loopback_with_no_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = auth_settings(tmp_path)
    with caplog.at_level(logging.WARNING, logger="scamscan"):
        async with running(create_app(s)) as app:
            assert any("keyless" in r.getMessage() and r.levelno == logging.WARNING
                       for r in caplog.records)
            assert (await scan(app)).status_code == 200
            assert (await get(app, "/v1/keys")).status_code == 200  # keyless is admin
            assert (await scan(app, addr=("::1", 5))).status_code == 200
            # A request from elsewhere is refused even so (e.g. `uvicorn --host 0.0.0.0`).
            assert_problem(await scan(app, addr=("192.0.2.7", 5)), 401)
            # A bad key is refused, not ignored.
            assert_problem(await scan(app, "ss_bogus"), 401)
            # A key made while the server runs ends keyless use (here through the CLI's store).
            auth: Authenticator = app.state.services.auth
            auth.has_keys_ttl = 0
            _, secret = await make_key(s, "client")
            assert_problem(await scan(app), 401)
            assert (await scan(app, secret)).status_code == 200


async def test_keyless_ends_at_once_when_a_key_is_made_through_the_api(tmp_path: Path) -> None:
    async with running(create_app(auth_settings(tmp_path))) as app, client(app) as c:
        made = await c.post("/v1/keys", json={"name": "first admin", "role": "admin"})
        assert made.status_code == 201
        assert_problem(await c.post(SCANS, json={"url": "x.vn"}), 401)
        assert (await scan(app, made.json()["key"])).status_code == 200


@pytest.mark.parametrize("overrides", [
    {"host": "0.0.0.0"}, {"host": "10.1.2.3"}, {"require_keys": True},
])
async def test_keyless_refused(tmp_path: Path, overrides: dict[str, Any]) -> None:
    async with running(create_app(auth_settings(tmp_path, **overrides))) as app:
        assert_problem(await scan(app), 401, "X-API-Key")
        assert (await get(app, "/healthz")).status_code == 200


async def test_keyless_refused_when_a_key_exists(tmp_path: Path) -> None:
    s = auth_settings(tmp_path)
    await make_key(s, "client")
    async with running(create_app(s)) as app:
        assert_problem(await scan(app), 401)


@pytest.mark.slow
async def test_revoked_keys_do_not_reopen_keyless_use(tmp_path: Path) -> None:
    """With every key revoked no key works, and keyless local use stays closed: keys
    were made here (the marker), and an empty store is not a decision to re-open.
    The operator re-opens it deliberately with `scamscan keys allow-keyless`."""
    s = auth_settings(tmp_path)
    key_id, _ = await make_key(s, "admin")
    assert (tmp_path / "keys-made").is_file()
    store = open_key_store(s.data_dir, None)
    await store.revoke(key_id)
    async with running(create_app(s)) as app:
        assert_problem(await scan(app), 401, "no api key is active")
    refused = run_cli("allow-keyless", data_dir=tmp_path)  # nothing active: allowed
    assert refused.returncode == 0, refused.stderr
    assert not (tmp_path / "keys-made").exists()
    async with running(create_app(s)) as app:
        assert (await scan(app)).status_code == 200
    async with running(create_app(auth_settings(tmp_path, require_keys=True))) as app:
        assert_problem(await scan(app), 401)
    # Not while a key is active: that would be a mistake, not a decision.
    await make_key(s, "client")
    assert run_cli("allow-keyless", data_dir=tmp_path).returncode == 1
    assert (tmp_path / "keys-made").is_file()


def test_require_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAMSCAN_REQUIRE_KEYS", "1")
    monkeypatch.setenv("SCAMSCAN_RATE_LIMIT_CLIENT", "10/second")
    s = Settings()
    assert s.require_keys is True and s.rate_limit_client == "10/second"
    monkeypatch.setenv("SCAMSCAN_RATE_LIMIT_CLIENT", "lots")
    with pytest.raises(ValueError, match="rate limit"):
        Settings()


# --- rate limits -------------------------------------------------------------------


async def test_rate_limit_per_key(tmp_path: Path) -> None:
    s = auth_settings(tmp_path, rate_limit_client="3/minute")
    _, one = await make_key(s, "client", "one")
    _, two = await make_key(s, "client", "two")
    _, admin = await make_key(s, "admin", "admin")
    async with running(create_app(s)) as app:
        for _ in range(3):
            assert (await scan(app, one)).status_code == 200
        r = await scan(app, one)
        body = assert_problem(r, 429, "3 per 1 minute")
        assert body["type"].endswith("/rate-limited")
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # Every route with the key counts, and the limit holds there too.
        assert_problem(await get(app, "/v1/scans/abc", one), 429)
        # Per key: another client key and the admin role's own limit are untouched.
        assert (await scan(app, two)).status_code == 200
        for _ in range(5):
            assert (await scan(app, admin)).status_code == 200
        # Public routes are not limited.
        for _ in range(5):
            assert (await get(app, "/healthz", one)).status_code == 200


async def test_rate_limit_keyless_per_address(tmp_path: Path) -> None:
    s = auth_settings(tmp_path, rate_limit_keyless="2/minute")
    async with running(create_app(s)) as app:
        a, b = ("127.0.0.2", 1), ("127.0.0.3", 1)
        assert (await scan(app, addr=a)).status_code == 200
        assert (await scan(app, addr=a)).status_code == 200
        r = await scan(app, addr=a)
        assert_problem(r, 429, "per address")
        assert int(r.headers["retry-after"]) >= 1
        assert (await scan(app, addr=b)).status_code == 200


# --- Redis ---------------------------------------------------------------------------


async def test_redis_keys_and_shared_limits(redis_server: RedisServer, tmp_path: Path) -> None:
    s = auth_settings(tmp_path / "data", redis_url=redis_server.url, rate_limit_client="3/minute")
    # The CLI writes the same Redis store as the server.
    made = run_cli("create", "--role", "admin", "--name", "ops", data_dir=s.data_dir,
                   redis_url=redis_server.url)
    assert made.returncode == 0, made.stderr
    admin = made.stdout.strip()
    assert not (s.data_dir / "keys.sqlite3").exists()
    async with running(create_app(s)) as a, running(create_app(s)) as b:
        assert_problem(await scan(a), 401)  # a key exists in Redis
        async with client(a, admin) as c:
            made_api = await c.post("/v1/keys", json={"name": "shared", "role": "client"})
        key = made_api.json()["key"]
        # Made on replica a, known to replica b; the limit of 3 counts both.
        assert (await scan(a, key)).status_code == 200
        assert (await scan(b, key)).status_code == 200
        assert (await scan(a, key)).status_code == 200
        r = await scan(b, key)
        assert_problem(r, 429)
        assert int(r.headers["retry-after"]) >= 1
        assert_problem(await scan(a, key), 429)
        listed = run_cli("list", "--json", data_dir=s.data_dir, redis_url=redis_server.url)
        names = {json.loads(line)["name"] for line in listed.stdout.splitlines()}
        assert names == {"ops", "shared"}
        # Revoked on b: applies on a (within its lookup cache time).
        a.state.services.auth.lookup_ttl = 0
        async with client(b, admin) as c:
            kid = made_api.json()["id"]
            assert (await c.delete(f"/v1/keys/{kid}")).status_code == 200
        assert_problem(await scan(a, key), 401, "revoked")


@pytest.mark.redis  # its own server, which it stops
async def test_redis_down_fails_open_for_limits_and_503_for_unknown_keys(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with RedisServer(tmp_path) as redis:
        s = auth_settings(tmp_path / "data", redis_url=redis.url, rate_limit_client="2/minute")
        _, key = await make_key(s, "client")
        async with running(create_app(s)) as app:
            assert (await scan(app, key)).status_code == 200
            redis.__exit__(None, None, None)  # Redis goes away while the server runs
            with caplog.at_level(logging.WARNING, logger="scamscan"):
                # A key seen valid a moment ago keeps working; the limit is not
                # enforced (it could not be counted): answered, and logged.
                for _ in range(3):
                    assert (await scan(app, key)).status_code == 200
            assert any("rate limits are not enforced" in r.getMessage()
                       for r in caplog.records)
            # A key never seen cannot be checked: a clear 503, not a 500.
            body = assert_problem(await scan(app, "ss_never-seen-before"), 503)
            assert body["type"].endswith("/auth-unavailable")
            assert_problem(await scan(app), 503)  # keyless: whether keys exist is unknown
