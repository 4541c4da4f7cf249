"""Webhooks of APK scans (api.services.webhooks, api.storage.webhooks), end to end.

Real parts only: the app with its lifespan (the embedded process pool and
androguard on the committed fixtures, or the Redis queue with a real
``redis-server`` and a ``scamscan worker`` subprocess), and a real HTTP
receiver on 127.0.0.1 (:mod:`tests.webhook_receiver`), reached because
``SCAMSCAN_WEBHOOK_ALLOW_NETWORKS`` allows 127.0.0.0/8, or refused by the SSRF
guard when it does not.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from api.main import create_app
from api.services.webhooks import check_callback_url, redact, sign, verify
from api.storage.webhooks import server_secret
from tests.asgi import running
from tests.live_servers_age import RedisServer
from tests.test_api_apk import APK_TYPE, FIXTURES, UPLOAD, apk_settings, assert_problem
from tests.webhook_receiver import Received, Receiver

pytestmark = pytest.mark.anyio
# The tests that scan run under ``slow`` (the process pool takes seconds to start);
# ``make test-fast`` keeps the validation, the signature and the OpenAPI document.

ROOT = Path(__file__).resolve().parent.parent
FAST = {"webhook_poll_interval": 0.05, "webhook_retry_delay": 0.05, "webhook_timeout": 5.0,
        # The tests poll the scan's view often; the client limits are not under test here.
        "rate_limit_keyless": "100000/minute", "rate_limit_client": "100000/minute",
        "rate_limit_admin": "100000/minute"}
LOOPBACK = {"webhook_allow_networks": "127.0.0.0/8", **FAST}


@asynccontextmanager
async def app_client(data_dir: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(apk_settings(data_dir, **overrides))
    async with running(app, client_timeout=90) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.fixture(scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """One keyless app allowing loopback receivers (one process pool for the module)."""
    async with app_client(tmp_path_factory.mktemp("data"), **LOOPBACK) as client:
        yield client


def data_dir(client: httpx.AsyncClient) -> Path:
    return Path(client.app.state.services.settings.data_dir)  # type: ignore[attr-defined]


async def upload(client: httpx.AsyncClient, fixture: str, callback: str | None = None, *,
                 form: bool = False, key: str | None = None,
                 wait: float | None = None) -> httpx.Response:
    params: dict[str, Any] = {}
    data: dict[str, str] = {}
    if callback is not None:
        (data if form else params)["callback_url"] = callback
    if wait is not None:
        params["wait"] = wait
    headers = {"X-API-Key": key} if key else {}
    files = {"file": (fixture, (FIXTURES / fixture).read_bytes(), APK_TYPE)}
    return await client.post(UPLOAD, params=params, data=data, files=files, headers=headers)


async def settled(client: httpx.AsyncClient, scan_id: str, *,
                  key: str | None = None) -> dict[str, Any]:
    """The scan's view once its webhook is no longer ``pending`` (within a minute)."""
    headers = {"X-API-Key": key} if key else {}
    deadline = time.monotonic() + 60
    while True:
        r = await client.get(f"/v1/scans/{scan_id}", headers=headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["callback"]["state"] != "pending":
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


DOCS = ROOT / "docs" / "webhooks.md"


def documented_verify() -> Any:
    """The ``verify`` function of the Python snippet in docs/webhooks.md, as printed."""
    text = DOCS.read_text("utf-8")
    code = text.split("### Verifying in Python", 1)[1].split("```python", 1)[1].split("```")[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["verify"]


def independent_check(secret: str, got: Received) -> None:
    """The documented scheme, computed here from scratch (not with api's helpers), and
    the snippet of docs/webhooks.md."""
    header = got.headers["x-scamscan-signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    assert set(parts) == {"t", "v1"}, header
    assert abs(time.time() - int(parts["t"])) < 120
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + got.body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert verify(secret, header, got.body)
    assert documented_verify()(secret, header, got.body)
    assert not documented_verify()(secret, header, got.body[:-1])
    assert not verify(secret, header, got.body + b" ")  # any change breaks it
    assert not verify("whsec_other", header, got.body)


# --- delivery ------------------------------------------------------------------------


@pytest.mark.slow  # the real process pool scans: seconds
async def test_done_scan_is_delivered_signed(shared: httpx.AsyncClient) -> None:
    client = shared
    with Receiver() as rx:
        r = await upload(client, "fake_vneid.apk", rx.url("/hook?token=s3cret"))
        assert r.status_code in (200, 202), r.text
        scan_id = r.json()["scan_id"]
        assert r.json()["callback"]["url"] == rx.url("/hook?token=***")
        body = await settled(client, scan_id)
        assert body["status"] == "done"
        cb = body["callback"]
        assert cb["state"] == "delivered", cb
        assert [a["status"] for a in cb["attempts"]] == [200]
        assert "s3cret" not in json.dumps(body)
        assert len(rx.requests) == 1
        got = rx.requests[0]
        assert got.path == "/hook?token=s3cret"
        assert got.headers["content-type"] == "application/json"
        assert got.headers["x-scamscan-event"] == "apk_scan.done"
        assert len(got.headers["x-scamscan-delivery"]) == 32
        # Keyless local use: signed with the server-wide secret of the data dir.
        independent_check(server_secret(data_dir(client)), got)
        sent = json.loads(got.body)
        assert sent["scan_id"] == scan_id and sent["status"] == "done"
        assert sent["report"]["verdict"] == body["report"]["verdict"] == "dangerous"
        assert "callback" not in sent


@pytest.mark.slow  # the real process pool scans: seconds
async def test_failed_scan_is_delivered_from_a_form_field(shared: httpx.AsyncClient) -> None:
    with Receiver() as rx:
        r = await upload(shared, "not_zip.apk", rx.url(), form=True)
        assert r.status_code in (200, 202), r.text
        body = await settled(shared, r.json()["scan_id"])
    assert body["status"] == "failed" and body["callback"]["state"] == "delivered"
    assert rx.requests[0].headers["x-scamscan-event"] == "apk_scan.failed"
    assert json.loads(rx.requests[0].body)["error_kind"] == "not-zip"


@pytest.mark.slow  # the real process pool scans: seconds
async def test_failures_are_retried_then_delivered(shared: httpx.AsyncClient) -> None:
    with Receiver([500, 302, 503]) as rx:
        r = await upload(shared, "not_zip.apk", rx.url())
        body = await settled(shared, r.json()["scan_id"])
    cb = body["callback"]
    assert cb["state"] == "delivered", cb
    assert [a["status"] for a in cb["attempts"]] == [500, 302, 503, 200]
    assert len(rx.requests) == 4
    assert all(q.path == "/hook" for q in rx.requests)  # the redirect was not followed
    assert len({q.headers["x-scamscan-delivery"] for q in rx.requests}) == 1
    times = [a["at"] for a in cb["attempts"]]
    assert times == sorted(times)


@pytest.mark.slow  # the real process pool scans: seconds
async def test_every_attempt_failing_ends_failed_and_the_scan_stays_done(
        shared: httpx.AsyncClient) -> None:
    attempts = shared.app.state.services.settings.webhook_max_attempts  # type: ignore[attr-defined]
    with Receiver([500] * 10) as rx:
        r = await upload(shared, "benign_notes.apk", rx.url())
        body = await settled(shared, r.json()["scan_id"])
        # A closed port on loopback: every attempt is a connection error.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r2 = await upload(shared, "benign_notes.apk", f"http://127.0.0.1:{port}/x")
        body2 = await settled(shared, r2.json()["scan_id"])
    assert body["status"] == "done"
    assert body["callback"]["state"] == "failed"
    assert [a["status"] for a in body["callback"]["attempts"]] == [500] * attempts
    assert len(rx.requests) == attempts == 5
    assert body2["status"] == "done" and body2["callback"]["state"] == "failed"
    assert len(body2["callback"]["attempts"]) == attempts
    assert all("error" in a for a in body2["callback"]["attempts"])


# --- the SSRF guard ----------------------------------------------------------------------


@pytest.mark.slow
async def test_ssrf_guard_refuses_internal_targets(tmp_path: Path) -> None:
    """Without the allowance, loopback and private targets are never fetched, and a public
    address on a port outside SCAMSCAN_FETCH_ALLOWED_PORTS is not even connected to."""
    with Receiver() as rx:
        async with app_client(tmp_path / "data", **FAST) as client:
            targets = {
                rx.url(): "loopback",
                "http://8.8.8.8:6379/hook": "port 6379",
                f"http://[::1]:{rx.port}/hook": "loopback",
                "http://10.1.2.3/hook": "private",
                "https://192.168.0.10/hook": "private",
                "http://169.254.169.254/latest": "metadata",
                "http://localhost/hook": "loopback",  # a name, resolved, then refused
            }
            ids = {}
            for url in targets:
                r = await upload(client, "not_zip.apk", url)
                assert r.status_code in (200, 202), r.text
                ids[url] = r.json()["scan_id"]
            for url, cls in targets.items():
                cb = (await settled(client, ids[url]))["callback"]
                assert cb["state"] == "failed", (url, cb)
                assert len(cb["attempts"]) == 1  # refused: not retried
                assert cls in cb["attempts"][0]["error"], (url, cb)
                assert "SSRF" in cb["attempts"][0]["error"] or "ALLOWED_PORTS" in \
                    cb["attempts"][0]["error"]
        assert rx.requests == []


# --- validation ------------------------------------------------------------------------


BAD_CALLBACKS = [
    ("ftp://example.com/hook", "http or https"),
    ("javascript:alert(1)", "http or https"),
    ("https://user:pw@example.com/hook", "credentials"),
    ("https://token@example.com/hook", "credentials"),
    ("https://example.com/" + "a" * 2100, "2048"),
    ("https:///nohost", "no host"),
    ("https://exa mple.com/", "spaces"),
    ("https://example.com:99999/", "not a valid url"),
    ("hxxps://example[.]com/hook", "not a valid url"),
]


async def test_bad_callback_url_is_422(shared: httpx.AsyncClient) -> None:
    client = shared
    jobs = client.app.state.services.jobs  # type: ignore[attr-defined]
    before = jobs.scans_started
    with Receiver() as rx:
        for url, words in BAD_CALLBACKS:
            for form in (False, True):
                body = assert_problem(await upload(client, "not_zip.apk", url, form=form),
                                      422)
                assert body["errors"][0]["field"] == "callback_url", body
                if "2048" in words and not form:
                    continue  # the query parameter's declared bound answers first
                assert words in body["detail"].lower(), (url, body)
        twice = await client.post(UPLOAD, params={"callback_url": rx.url("/a")},
                                  data={"callback_url": rx.url("/b")},
                                  files={"file": ("x.apk", b"PK", APK_TYPE)})
        assert_problem(twice, 422, "once")
        # Nothing was scanned nor registered for a refused upload.
        assert jobs.scans_started == before
    assert rx.requests == []


def test_check_callback_url_and_redact() -> None:
    assert check_callback_url("https://Hooks.Example.com/a?b=1#frag") == \
        "https://Hooks.Example.com/a?b=1"
    assert redact("https://h.example/cb?token=abc&x=1") == "https://h.example/cb?token=***&x=***"
    assert redact("https://h.example/cb") == "https://h.example/cb"
    header = sign("whsec_x", 1_700_000_000, b"{}")
    assert verify("whsec_x", header, b"{}", now=1_700_000_100)
    assert not verify("whsec_x", header, b"{}", now=1_700_000_000 + 301)  # too old: replay
    assert not verify("whsec_x", "v1=abc", b"{}")


# --- keys and secrets -----------------------------------------------------------------


@pytest.mark.slow  # the real process pool scans: seconds
async def test_key_secret_is_shown_once_and_signs_its_scans(tmp_path: Path) -> None:
    from api.storage.factory import open_key_store

    data = tmp_path / "data"
    store = open_key_store(data, None)
    _, admin = await store.create("ops", "admin")
    with Receiver() as rx:
        async with app_client(data, **LOOPBACK) as client:
            made = await client.post("/v1/keys", json={"name": "bot", "role": "client"},
                                     headers={"X-API-Key": admin})
            assert made.status_code == 201, made.text
            key, secret = made.json()["key"], made.json()["webhook_secret"]
            assert secret.startswith("whsec_") and len(secret) > 40
            listed = await client.get("/v1/keys", headers={"X-API-Key": admin})
            assert secret not in listed.text and "webhook_secret" not in listed.text
            assert all(set(k) == {"id", "name", "role", "created", "revoked", "last_used",
                                   "rate"}
                       for k in listed.json()["keys"])
            r = await upload(client, "not_zip.apk", rx.url(), key=key)
            assert r.status_code in (200, 202), r.text
            body = await settled(client, r.json()["scan_id"], key=key)
            # The admin key was made before webhooks existed here (straight in the key
            # store): it has no signing secret, so its callbacks are refused up front.
            no_secret = await upload(client, "not_zip.apk", rx.url(), key=admin)
            assert_problem(no_secret, 422, "signing secret", "webhooks secret --key key_")
    assert body["callback"]["state"] == "delivered"
    independent_check(secret, rx.requests[0])
    assert not verify(server_secret(data), rx.requests[0].headers["x-scamscan-signature"],
                      rx.requests[0].body)


# --- shutdown and restart ----------------------------------------------------------------


@pytest.mark.slow  # the real process pool scans: seconds
async def test_shutdown_does_not_wait_for_a_hanging_receiver(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Receiver(delay=30) as rx:
        settings = {**LOOPBACK, "webhook_timeout": 60.0}
        async with app_client(data, **settings) as client:
            r = await upload(client, "not_zip.apk", rx.url())
            scan_id = r.json()["scan_id"]
            deadline = time.monotonic() + 60
            while not rx.requests:  # the delivery is in flight, the receiver hangs
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            closing = time.monotonic()
        # Leaving the lifespan cancelled the attempt instead of waiting 30 s for it.
        assert time.monotonic() - closing < 20
        async with app_client(data, **settings) as client:
            body = (await client.get(f"/v1/scans/{scan_id}")).json()
    assert body["status"] == "failed"
    assert body["callback"]["state"] == "pending"  # still owed: due again after its lease
    assert body["callback"]["attempts"] == []


@pytest.mark.slow
async def test_embedded_restart_delivers_what_the_last_process_owed(tmp_path: Path) -> None:
    """The service stops while the scan is still queued (the pool has not even started):
    the next process resumes the scan and delivers its webhook."""
    data = tmp_path / "data"
    with Receiver() as rx:
        async with app_client(data, **LOOPBACK) as client:
            r = await upload(client, "fake_vneid.apk", rx.url())
            scan_id = r.json()["scan_id"]
            assert r.json()["status"] in ("queued", "running")
        assert rx.requests == []
        async with app_client(data, **LOOPBACK) as client:
            body = await settled(client, scan_id)
    assert body["status"] == "done" and body["callback"]["state"] == "delivered"
    assert len(rx.requests) == 1
    independent_check(server_secret(data), rx.requests[0])


# --- Redis mode ----------------------------------------------------------------------------


@pytest.mark.slow
async def test_redis_mode_delivery_survives_an_api_restart(
        redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path) -> None:
    """The job ends in a ``scamscan worker``; the delivery was registered by an API
    process that stopped before that, and a new one delivers it."""
    from tests.test_queue import Worker

    data = tmp_path / "data"
    settings = {"redis_url": redis_server.url, **LOOPBACK}
    with Receiver() as rx:
        async with app_client(data, **settings) as client:
            r = await upload(client, "fake_vneid.apk", rx.url())  # no worker yet: queued
            assert r.status_code in (200, 202), r.text
            scan_id = r.json()["scan_id"]
            assert r.json()["callback"]["state"] == "pending"
        worker = Worker(redis_server.url, data, tmp_path / "worker.log")
        try:
            worker.wait_ready(rdb)
            async with app_client(data, **settings) as client:
                body = await settled(client, scan_id)
        finally:
            assert worker.stop() == 0, worker.output()
    assert body["status"] == "done", body
    assert body["callback"]["state"] == "delivered"
    assert len(rx.requests) == 1
    independent_check(server_secret(data), rx.requests[0])
    assert json.loads(rx.requests[0].body)["report"]["verdict"] == "dangerous"
    assert rdb.zcard("scamscan:webhook:due") == 0


@pytest.mark.slow
async def test_redis_mode_key_secret_and_retries(
        redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path) -> None:
    from api.storage.factory import open_key_store
    from tests.test_queue import Worker

    data = tmp_path / "data"
    settings = {"redis_url": redis_server.url, **LOOPBACK}
    store = open_key_store(data, redis_server.url)
    _, admin = await store.create("ops", "admin")
    await store.close()
    worker = Worker(redis_server.url, data, tmp_path / "worker.log")
    try:
        worker.wait_ready(rdb)
        with Receiver([502]) as rx:
            async with app_client(data, **settings) as client:
                made = (await client.post("/v1/keys", json={"name": "bot", "role": "client"},
                                          headers={"X-API-Key": admin})).json()
                r = await upload(client, "not_zip.apk", rx.url(), key=made["key"])
                body = await settled(client, r.json()["scan_id"], key=made["key"])
    finally:
        assert worker.stop() == 0, worker.output()
    assert body["status"] == "failed"  # not an app: the scan failed, the webhook did not
    assert [a["status"] for a in body["callback"]["attempts"]] == [502, 200]
    assert body["callback"]["state"] == "delivered"
    independent_check(made["webhook_secret"], rx.requests[1])
    assert rdb.hget("scamscan:webhook:secrets", made["id"]) is not None


# --- the command line and the OpenAPI document ------------------------------------------


def run_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCAMSCAN_")}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT,
                          env={**env, "SCAMSCAN_DATA_DIR": str(data)})


@pytest.mark.slow
async def test_cli_shows_secrets_once(tmp_path: Path) -> None:
    from api.storage.factory import open_webhook_store

    data = tmp_path / "data"
    first = run_cli(data, "webhooks", "secret")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == run_cli(data, "webhooks", "secret").stdout.strip() \
        == server_secret(data)
    assert first.stdout.startswith("whsec_")

    made = run_cli(data, "keys", "create", "--role", "client", "--name", "bot")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("ss_") and "\n" not in made.stdout.strip()
    key_id = made.stderr.split()[1]
    secret = made.stderr.rsplit("shown only now): ", 1)[1].strip()
    as_json = json.loads(run_cli(data, "keys", "create", "--role", "admin", "--name", "ops",
                                 "--json").stdout)
    assert as_json["webhook_secret"].startswith("whsec_")
    listed = run_cli(data, "keys", "list", "--json").stdout
    assert secret not in listed and as_json["webhook_secret"] not in listed

    store = open_webhook_store(data, None, ttl=86400)
    assert await store.key_secret(key_id) == secret
    assert await store.key_secret(as_json["id"]) == as_json["webhook_secret"]
    rotated = run_cli(data, "webhooks", "secret", "--key", key_id)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.strip() != secret
    assert await store.key_secret(key_id) == rotated.stdout.strip()
    unknown = run_cli(data, "webhooks", "secret", "--key", "key_nope")
    assert unknown.returncode == 1 and "key_nope" in unknown.stderr


async def test_openapi_describes_the_webhook(shared: httpx.AsyncClient) -> None:
    doc = (await shared.get("/openapi.json")).json()
    op = doc["paths"]["/v1/apk-scans"]["post"]
    assert any(p["name"] == "callback_url" and p["in"] == "query" for p in op["parameters"])
    form = op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form["callback_url"]["maxLength"] == 2048
    (callback,) = op["callbacks"].values()
    hook = callback["{$request.query.callback_url}"]["post"]
    headers = {p["name"] for p in hook["parameters"] if p["in"] == "header"}
    assert headers == {"X-Scamscan-Event", "X-Scamscan-Delivery", "X-Scamscan-Signature"}
    schemas = doc["components"]["schemas"]
    assert "callback" in schemas["ScanJobOut"]["properties"]
    assert schemas["CallbackOut"]["properties"]["state"]["enum"] == [
        "pending", "delivered", "failed"]
    assert "webhook_secret" in schemas["KeyCreated"]["properties"]
    assert "webhook_secret" not in schemas["KeyOut"]["properties"]
