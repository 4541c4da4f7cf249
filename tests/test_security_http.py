"""Regression tests of the HTTP security fixes of issue 15 (an outside penetration test).

Each test failed before its fix. The app runs for real: its lifespan entered,
httpx's ASGI transport (client addresses and ``Host`` headers set per request),
real SQLite files in ``tmp_path``, a real ``redis-server`` where Redis matters,
and real uvicorn on 127.0.0.1 where the socket matters (forwarded headers,
slow uploads).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis as redis_sync
from fastapi import FastAPI

from api.main import create_app
from api.problems import PROBLEM_JSON
from api.settings import Settings
from tests.json_logs import json_lines
from tests.live_servers_age import RedisServer, free_port
from tests.test_auth import running

pytestmark = pytest.mark.anyio

SCANS = "/v1/url-scans"
UPLOAD = "/v1/apk-scans"
LOCAL = ("127.0.0.1", 50000)


def sec_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings independent of the environment's SCAMSCAN_* values (keyless loopback)."""
    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": 8000, "log_level": "INFO", "redis_url": None,
        "data_dir": data_dir, "require_keys": False, "apk_workers": 1,
        "max_apk_bytes": 1024 * 1024, "rate_limit_keyless": "60/minute",
    }
    values.update(overrides)
    return Settings(**values)




def client(app: FastAPI, *, base_url: str = "http://127.0.0.1:8000",
           addr: tuple[str, int] = LOCAL, headers: dict[str, str] | None = None,
           raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=addr,
                                    raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers or {},
                             timeout=30)


def assert_problem(r: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    for w in words:
        assert w.lower() in body["detail"].lower(), body["detail"]
    return body




# --- a 500 carries its request id ---------------------------------------------------


async def test_an_unhandled_error_is_a_500_problem_with_the_request_id(
    tmp_path: Path, json_log: io.StringIO
) -> None:
    app = create_app(sec_settings(tmp_path))

    async def boom() -> None:
        raise RuntimeError("a bug with a secret-looking detail")

    app.add_api_route("/boom", boom, methods=["GET"])
    async with running(app), client(app, raise_app_exceptions=False) as c:
        r = await c.get("/boom", headers={"X-Request-ID": "trace-500"})
        fresh = await c.get("/boom")
    body = assert_problem(r, 500)
    assert r.headers["x-request-id"] == "trace-500"
    assert body["request_id"] == "trace-500"
    assert "secret-looking" not in r.text  # the exception stays in the log
    assert int(r.headers["content-length"]) == len(r.content)
    # A generated id when the caller sent none, the same in header and body.
    assert fresh.status_code == 500
    assert fresh.headers["x-request-id"] == fresh.json()["request_id"]
    lines = json_lines(json_log)
    errors = [x for x in lines if x["level"] == "error"]
    assert errors and errors[0]["request_id"] == "trace-500", lines
    assert "secret-looking" in errors[0].get("exception", ""), errors[0]
    access = [x for x in lines if x.get("route") == "/boom"]
    assert (access[0]["status"], access[0]["request_id"]) == (500, "trace-500")


# --- DNS rebinding and cross-site requests in keyless loopback mode --------------------

REBIND = "http://rebind.attacker.example:8000"
APK_TYPE = "application/vnd.android.package-archive"


def _upload() -> dict[str, Any]:
    return {"files": {"file": ("a.apk", b"not an app at all", APK_TYPE)}}


async def test_dns_rebinding_cannot_make_an_admin_key(tmp_path: Path) -> None:
    """A page on a rebinding name reaches 127.0.0.1 with its own Host and Origin:
    keyless admin must not be granted to it, on any route."""
    async with running(create_app(sec_settings(tmp_path))) as app:
        async with client(app, base_url=REBIND, headers={"Origin": REBIND}) as c:
            made = await c.post("/v1/keys", json={"name": "pwned", "role": "admin"})
            assert_problem(made, 421, "host")
            assert_problem(await c.get("/v1/keys"), 421)
            assert_problem(await c.post(SCANS, json={"url": "x.vn"}), 421)
            assert_problem(await c.post(UPLOAD, **_upload()), 421)
            # What needs no key still answers (it is public anyway).
            assert (await c.get("/healthz")).status_code == 200
        assert await app.state.services.auth.store.list() == []
        # The same requests with a loopback Host (any port, any loopback form) work.
        for base in ("http://127.0.0.1:8000", "http://localhost:1234", "http://[::1]",
                     "http://127.3.2.1:80"):
            async with client(app, base_url=base) as c:
                assert (await c.post(SCANS, json={"url": "x.vn"})).status_code == 200, base
        # Tricks on the Host header are not loopback.
        for host in ("evil.example@127.0.0.1", "127.0.0.1.evil.example", "2130706433",
                     "127.0.0.1:80/x", ""):
            async with client(app, headers={"Host": host}) as c:
                r = await c.post(SCANS, json={"url": "x.vn"})
            assert_problem(r, 421)


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:9999"},  # another local port is another origin
    {"Origin": "http://localhost:8000"},  # another name of this machine, too
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "cross-site"},
])
async def test_cross_site_writes_are_refused_in_keyless_mode(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    async with running(create_app(sec_settings(tmp_path))) as app:
        async with client(app, headers=headers) as c:
            assert_problem(await c.post(UPLOAD, **_upload()), 403, "cross-site")
            assert_problem(await c.post("/v1/keys", json={"name": "x", "role": "admin"}),
                           403, "cross-site")
            assert_problem(await c.post(SCANS, json={"url": "x.vn"}), 403)
            # Reading is not a write: a cross-site page cannot read the answer anyway.
            assert (await c.get("/v1/scans")).status_code == 200
        assert await app.state.services.auth.store.list() == []


@pytest.mark.parametrize("headers", [
    {}, {"Origin": "http://127.0.0.1:8000"}, {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"}, {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site":
                                 "same-origin"},
])
@pytest.mark.slow
async def test_same_origin_writes_still_work_in_keyless_mode(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    app = create_app(sec_settings(tmp_path))
    async with running(app), client(app, headers=headers) as c:
        assert (await c.post(UPLOAD, **_upload())).status_code in (200, 202)
        made = await c.post("/v1/keys", json={"name": "first", "role": "admin"})
        assert made.status_code == 201, made.text


async def test_a_key_in_the_header_is_not_an_ambient_credential(tmp_path: Path) -> None:
    """With a key, neither Host nor Origin matter: a page cannot send the header."""
    s = sec_settings(tmp_path)
    async with running(create_app(s)) as app:
        _, key = await app.state.services.auth.store.create("ops", "admin")
        app.state.services.auth.invalidate()
        async with client(app, base_url="https://scamscan.example.org",
                          headers={"Origin": "https://other.example", "X-API-Key": key,
                                   "Sec-Fetch-Site": "cross-site"}) as c:
            assert (await c.post(SCANS, json={"url": "x.vn"})).status_code == 200


def _csrf_of(html: str, pattern: str) -> str:

    m = re.search(pattern, html)
    assert m, pattern
    return m.group(1)


async def _console_form(c: httpx.AsyncClient) -> str:
    page = await c.get("/console/sign-in")
    assert page.status_code == 200
    return _csrf_of(page.text, r'name="csrf_token" value="([^"]+)"')


async def test_console_keyless_sign_in_refuses_a_rebinding_host(tmp_path: Path) -> None:
    async with running(create_app(sec_settings(tmp_path))) as app:
        async with client(app, base_url=REBIND) as c:
            page = await c.get("/console/sign-in")
            assert 'value="keyless"' not in page.text  # not offered there
            token = await _console_form(c)
            r = await c.post("/console/sign-in", data={"csrf_token": token, "mode": "keyless"})
            assert r.status_code == 421, r.text
            assert "scamscan_session" not in c.cookies
        async with client(app, headers={"Origin": "https://evil.example"}) as c:
            token = await _console_form(c)
            r = await c.post("/console/sign-in", data={"csrf_token": token, "mode": "keyless"})
            assert r.status_code == 403 and "scamscan_session" not in c.cookies
        async with client(app) as c:  # the real thing still works
            assert 'value="keyless"' in (await c.get("/console/sign-in")).text
            token = await _console_form(c)
            r = await c.post("/console/sign-in", data={"csrf_token": token, "mode": "keyless"})
            assert r.status_code == 303 and "scamscan_session" in c.cookies


async def test_console_cookie_writes_refuse_cross_site_fetches_with_keys(
    tmp_path: Path
) -> None:
    """Keyed mode behind a proxy (any Host): a cookie-authenticated write that the
    browser marks cross-site or same-site is refused even with the CSRF token."""
    async with running(create_app(sec_settings(tmp_path))) as app:
        _, key = await app.state.services.auth.store.create("analyst", "admin")
        app.state.services.auth.invalidate()
        async with client(app, base_url="https://scamscan.example.org") as c:
            token = await _console_form(c)
            signed = await c.post("/console/sign-in", data={
                "csrf_token": token, "mode": "key", "api_key": key})
            assert signed.status_code == 303, signed.text
            page = await c.get("/console/")
            csrf = _csrf_of(page.text, r'<meta name="csrf-token" content="([^"]+)">')
            for site in ("cross-site", "same-site"):
                r = await c.post(SCANS, json={"url": "x.vn"},
                                 headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": site})
                assert_problem(r, 403, "cross-site")
            ok = await c.post(SCANS, json={"url": "x.vn"},
                              headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin",
                                       "Origin": "https://scamscan.example.org"})
            assert ok.status_code == 200, ok.text
        # Sign-in itself (login CSRF) is refused from another site.
        async with client(app, base_url="https://scamscan.example.org") as c:
            token = await _console_form(c)
            r = await c.post("/console/sign-in", headers={"Sec-Fetch-Site": "cross-site"},
                             data={"csrf_token": token, "mode": "key", "api_key": key})
            assert r.status_code == 403


# --- an emptied key store does not re-open keyless admin ------------------------------


async def test_wrong_credentials_are_401_even_while_no_key_exists(tmp_path: Path) -> None:
    async with running(create_app(sec_settings(tmp_path))) as app:
        for headers in ({"X-API-Key": "ss_wrong"}, {"X-API-Key": ""}, {"X-API-Key": "  "},
                        {"Authorization": "Bearer ss_wrong"}, {"Authorization": "Basic eDp5"}):
            async with client(app, headers=headers) as c:
                assert_problem(await c.post(SCANS, json={"url": "x.vn"}), 401)
                assert_problem(await c.get("/v1/keys"), 401)
        async with client(app) as c:  # no credential at all: keyless local use
            assert (await c.post(SCANS, json={"url": "x.vn"})).status_code == 200


async def test_an_emptied_sqlite_key_store_does_not_reopen_keyless(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = sec_settings(tmp_path)
    async with running(create_app(s)) as app, client(app) as c:
        made = await c.post("/v1/keys", json={"name": "first admin", "role": "admin"})
        assert made.status_code == 201
    assert (tmp_path / "keys-made").is_file()
    for f in list(tmp_path.glob("keys.sqlite3*")):  # noqa: ASYNC240 - the key file is lost
        f.unlink()
    with caplog.at_level(logging.WARNING, logger="scamscan"):
        async with running(create_app(s)) as app:
            async with client(app) as c:
                body = assert_problem(await c.post(SCANS, json={"url": "x.vn"}), 401,
                                      "scamscan keys create")
                assert "no api key is active" in body["detail"].lower()
                assert_problem(await c.post("/v1/keys", json={"name": "x", "role": "admin"}),
                               401)
                assert (await c.get("/healthz")).status_code == 200
                assert (await c.get("/v1/rules")).status_code == 200
                # The console offers no keyless sign-in either.
                page = await c.get("/console/sign-in")
                assert 'value="keyless"' not in page.text
            assert await app.state.services.auth.store.list() == []
            # The operator re-opens deliberately: a key made on the host.
            _, key = await app.state.services.auth.store.create("ops", "admin")
            app.state.services.auth.invalidate()
            async with client(app, headers={"X-API-Key": key}) as c:
                assert (await c.post(SCANS, json={"url": "x.vn"})).status_code == 200
    assert any("keys-made" in r.getMessage() and r.levelno >= logging.WARNING
               for r in caplog.records), [r.getMessage() for r in caplog.records]


async def test_an_emptied_redis_key_store_does_not_reopen_keyless(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    s = sec_settings(tmp_path / "data", redis_url=redis_server.url)
    async with running(create_app(s)) as app:
        await app.state.services.auth.store.create("ops", "admin")
        app.state.services.auth.invalidate()
        async with client(app) as c:
            assert_problem(await c.post(SCANS, json={"url": "x.vn"}), 401)
        # Redis restarts without persistence, or fails over to an empty replica.
        r = redis_sync.Redis.from_url(redis_server.url)
        r.flushall()
        r.close()
        app.state.services.auth.has_keys_ttl = 0
        app.state.services.auth.invalidate()
        async with client(app) as c:
            assert_problem(await c.post(SCANS, json={"url": "x.vn"}), 401,
                           "no api key is active")
    async with running(create_app(s)) as app, client(app) as c:  # and after a restart
        assert_problem(await c.post("/v1/keys", json={"name": "x", "role": "admin"}), 401)


# --- failed authentications are limited, good keys never locked out ----------------------


async def test_failed_console_sign_ins_do_not_lock_out_a_good_key(tmp_path: Path) -> None:
    """A network behind one address: wrong keys from it must not lock a good key out."""
    s = sec_settings(tmp_path, rate_limit_keyless="5/minute",
                     rate_limit_auth_failures="3/minute")
    async with running(create_app(s)) as app:
        _, key = await app.state.services.auth.store.create("analyst", "admin")
        app.state.services.auth.invalidate()
        async with client(app) as c:
            for i in range(12):  # many people mistyping, each a different key
                token = await _console_form(c)
                r = await c.post("/console/sign-in", data={
                    "csrf_token": token, "mode": "key", "api_key": f"ss_wrong-{i}"})
                assert r.status_code == 401, (i, r.status_code)
            token = await _console_form(c)
            r = await c.post("/console/sign-in", data={
                "csrf_token": token, "mode": "key", "api_key": key})
            assert r.status_code == 303, r.text
            # One key tried again and again from one address is locked (429).
            c.cookies.clear()
            codes = []
            for _ in range(5):
                token = await _console_form(c)
                r = await c.post("/console/sign-in", data={
                    "csrf_token": token, "mode": "key", "api_key": "ss_same-wrong"})
                codes.append(r.status_code)
            assert codes == [401, 401, 401, 429, 429], codes
            assert int(r.headers["retry-after"]) >= 1


async def test_failed_api_authentications_are_limited_per_key_and_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = sec_settings(tmp_path, rate_limit_auth_failures="3/minute",
                     rate_limit_auth_failures_address="6/minute")
    async with running(create_app(s)) as app:
        _, good = await app.state.services.auth.store.create("client", "client")
        app.state.services.auth.invalidate()

        async def scan(key: str, addr: tuple[str, int] = LOCAL) -> httpx.Response:
            async with client(app, addr=addr, headers={"X-API-Key": key}) as c:
                return await c.post(SCANS, json={"url": "x.vn"})

        codes = [(await scan("ss_wrong")).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429], codes
        r = assert_problem(await scan("ss_wrong"), 429, "failed")
        assert r["type"].endswith("/rate-limited")
        # The same wrong key from another address: its own count.
        assert (await scan("ss_wrong", ("192.0.2.9", 1))).status_code == 401
        # The good key from the first address is not locked out.
        assert (await scan(good)).status_code == 200
        # Past the per-address limit of failures, any wrong key from that address is a
        # 429; the good key still gets in.
        with caplog.at_level(logging.WARNING, logger="scamscan"):
            codes = [(await scan(f"ss_other-{i}")).status_code for i in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[-1] == 429, codes
        assert any("failed authentications" in rec.getMessage() for rec in caplog.records)
        assert (await scan(good)).status_code == 200


async def test_failed_authentications_are_counted_in_redis_across_replicas(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    s = sec_settings(tmp_path / "data", redis_url=redis_server.url,
                     rate_limit_auth_failures="2/minute")
    async with running(create_app(s)) as a, running(create_app(s)) as b:
        _, good = await a.state.services.auth.store.create("client", "client")
        codes = []
        for app in (a, b, a):
            async with client(app, headers={"X-API-Key": "ss_wrong"}) as c:
                codes.append((await c.post(SCANS, json={"url": "x.vn"})).status_code)
        assert codes == [401, 401, 429], codes
        async with client(b, headers={"X-API-Key": good}) as c:
            assert (await c.post(SCANS, json={"url": "x.vn"})).status_code == 200


# --- forwarded headers are trusted only from the configured proxies ----------------------


class Served:
    """``scamscan serve`` in a subprocess on a free loopback port (real uvicorn)."""

    def __init__(self, tmp: Path, **env: str) -> None:

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith("SCAMSCAN_") and k != "FORWARDED_ALLOW_IPS"}
        clean.update({"SCAMSCAN_DATA_DIR": str(tmp), "SCAMSCAN_LOG_LEVEL": "WARNING",
                      "SCAMSCAN_APK_WORKERS": "1", **env})
        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port",
             str(self.port)], env=clean, cwd=root, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)

    def __enter__(self) -> Served:

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                pytest.fail(f"scamscan serve exited: {err[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        pytest.fail("scamscan serve did not start within 60 s")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


def _forwarded_scans(url: str, n: int) -> list[int]:
    codes = []
    with httpx.Client(base_url=url, timeout=30) as c:
        for i in range(n):
            r = c.post(SCANS, json={"url": "x.vn"},
                       headers={"X-Forwarded-For": f"127.0.0.{i + 2}"})
            codes.append(r.status_code)
    return codes


@pytest.mark.slow
def test_a_forwarded_address_does_not_bypass_the_keyless_limit(tmp_path: Path) -> None:
    with Served(tmp_path / "a", SCAMSCAN_RATE_LIMIT_KEYLESS="2/minute") as server:
        assert _forwarded_scans(server.url, 3) == [200, 200, 429]


@pytest.mark.slow
def test_forwarded_headers_of_a_trusted_proxy_are_used(tmp_path: Path) -> None:
    with Served(tmp_path / "b", SCAMSCAN_RATE_LIMIT_KEYLESS="2/minute",
                SCAMSCAN_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8") as server:
        # Each forwarded client has its own count: the proxy is trusted.
        assert _forwarded_scans(server.url, 3) == [200, 200, 200]


def test_trusted_proxies_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAMSCAN_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")
    assert Settings().trusted_proxies == "10.0.0.0/8,192.0.2.1"
    assert Settings(trusted_proxies="").trusted_proxies == ""
    for bad in ("*", "proxy.example", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
            Settings(trusted_proxies=bad)


# --- slow request bodies -----------------------------------------------------------------


def _slow_upload(url: str, *, first: bytes, drip: bytes = b"", every: float = 0.0,
                 declared: int = 500_000) -> tuple[int, bytes]:
    """POST an upload whose body trickles: ``first``, then ``drip`` every ``every``
    seconds (nothing at all when empty), never complete. The status and body of the
    server's answer (0 if it never answered within 60 s)."""

    parts = urlsplit(url)
    boundary = "b0undary"
    head = (f"POST {UPLOAD} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {declared}\r\n\r\n").encode()
    preamble = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"a.apk\"\r\nContent-Type: {APK_TYPE}\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=60) as sock:
        sock.sendall(head + preamble + first)
        sock.setblocking(False)
        answer = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
                if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                    break
            except BlockingIOError:
                if drip:
                    with suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                        sock.send(drip)
                time.sleep(every or 0.05)
    if not answer:
        return 0, b""
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


@pytest.mark.slow
def test_a_stalled_upload_body_gets_a_408_problem(tmp_path: Path) -> None:
    with Served(tmp_path, SCAMSCAN_BODY_IDLE_TIMEOUT="1",
                SCAMSCAN_UPLOAD_TIMEOUT="120") as server:
        status, body = _slow_upload(server.url, first=b"PK\x03\x04" + b"x" * 1000)
        assert status == 408, body
        problem = json.loads(body)
        assert problem["status"] == 408 and "request_id" in problem
        assert "seconds" in problem["detail"]
        # The partial upload is not left behind.
        assert list((tmp_path / "samples").rglob("*.part")) == []


@pytest.mark.slow
def test_a_dripping_upload_body_gets_a_408_problem(tmp_path: Path) -> None:
    """Slowloris on the body: a byte every 0.2 s never trips the idle timeout, the
    upload's total deadline ends it."""
    with Served(tmp_path, SCAMSCAN_BODY_IDLE_TIMEOUT="5",
                SCAMSCAN_UPLOAD_TIMEOUT="2") as server:
        status, body = _slow_upload(server.url, first=b"PK", drip=b"x", every=0.2)
    assert status == 408, body
    assert json.loads(body)["status"] == 408


# --- APK deduplication across tenants (a documented decision) ----------------------------


@pytest.mark.slow
async def test_a_dedup_hit_tells_nothing_of_the_first_uploader(tmp_path: Path) -> None:
    """The decision in docs/deployment.md: a second tenant learns that the same
    file was scanned before (``deduplicated``, answered at once) and nothing else:
    its own scan id and file name, no trace of the first uploader, whose scan stays
    invisible to it."""
    fixture = Path(__file__).parent / "fixtures" / "apk" / "unsigned.apk"
    data = fixture.read_bytes()
    app = create_app(sec_settings(tmp_path))
    async with running(app):
        _, alice = await app.state.services.auth.store.create("alice-tenant", "client")
        _, bob = await app.state.services.auth.store.create("bob-tenant", "client")
        app.state.services.auth.invalidate()
        async with client(app, headers={"X-API-Key": alice}) as c:
            first = await c.post(UPLOAD, params={"wait": 60}, files={
                "file": ("alice-private-name.apk", data, APK_TYPE)})
        assert first.status_code == 200 and first.json()["status"] == "done", first.text
        async with client(app, headers={"X-API-Key": bob}) as c:
            second = await c.post(UPLOAD, files={"file": ("b.apk", data, APK_TYPE)})
            assert second.status_code == 200, second.text
            view = second.json()
            assert view["deduplicated"] is True and view["input"] == "b.apk"
            assert view["scan_id"] != first.json()["scan_id"]
            assert "alice" not in second.text
            assert (await c.get(view["status_url"])).status_code == 200
            assert (await c.get(first.json()["status_url"])).status_code == 404


# --- the same attacks from a real browser (Debian's Chromium) ------------------------------

ATTACK_JS = """
async (target) => {
  const form = new FormData();
  form.append("file", new Blob(["PK\\u0003\\u0004 not an app"]), "a.apk");
  const out = {};
  try {
    const r = await fetch(target + "/v1/apk-scans", {method: "POST", body: form,
                                                    mode: "no-cors"});
    out.upload = r.type === "opaque" ? "opaque" : r.status;
  } catch (e) { out.upload = "error " + e; }
  try {
    const r = await fetch(target + "/v1/keys", {method: "POST", body: JSON.stringify(
      {name: "pwned", role: "admin"}), headers: {"content-type": "application/json"}});
    out.key = r.status;
  } catch (e) { out.key = "error " + e; }
  return out;
}
"""


def _samples(data_dir: Path) -> list[Path]:
    """The stored samples (not the uploads in progress under ``samples/tmp``)."""
    root = data_dir / "samples"
    return [p for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).parts[0] != "tmp"]


@pytest.mark.browser
def test_a_web_page_cannot_use_keyless_admin_in_a_real_browser(tmp_path: Path) -> None:
    """A page on another site, and a page on a DNS-rebinding name (Chromium maps
    ``rebind.test`` to 127.0.0.1, as an attacker's DNS would), try to upload an app
    and make an admin key on a keyless local server; the console's own origin can."""
    from playwright.sync_api import sync_playwright

    from tests.console_server import CHROMIUM, CHROMIUM_ARGS, ConsoleServer

    with ConsoleServer(tmp_path / "data", keys=False) as server, sync_playwright() as pw:
        port = server.port
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP rebind.test 127.0.0.1",
                  # Chromium's own defence (Local Network Access) would stop the
                  # rebinding page first; other browsers have none: the server must.
                  "--disable-features=LocalNetworkAccessChecks,"
                  "BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights"])
        try:
            page = browser.new_page()
            attack = "<!doctype html><title>cute cats</title><p>cats</p>"
            for origin in ("http://localhost:9", f"http://rebind.test:{port}"):
                page.route(f"{origin}/cats", lambda route: route.fulfill(
                    status=200, content_type="text/html", body=attack))
            # 1. Another site (cross-site: localhost is not 127.0.0.1's site).
            page.goto("http://localhost:9/cats")
            cross = page.evaluate(ATTACK_JS, server.url)
            assert _samples(server.data_dir) == [], cross
            # 2. DNS rebinding: the page's own name now reaches 127.0.0.1.
            page.goto(f"http://rebind.test:{port}/cats")
            rebind = page.evaluate(ATTACK_JS, f"http://rebind.test:{port}")
            assert rebind["key"] == 421, rebind
            assert _samples(server.data_dir) == [], rebind
            # 3. The service's own page (same origin) still may.
            page.goto(f"{server.url}/console/sign-in")
            own = page.evaluate(ATTACK_JS, server.url)
            assert own["upload"] in (200, 202) and own["key"] == 201, own
            assert len(_samples(server.data_dir)) == 1
        finally:
            browser.close()


async def test_the_new_answers_are_documented_in_openapi(tmp_path: Path) -> None:
    app = create_app(sec_settings(tmp_path))
    async with running(app), client(app) as c:
        spec = (await c.get("/openapi.json")).json()
    scans = spec["paths"][SCANS]["post"]["responses"]
    assert {"408", "421"} <= set(scans)
    assert list(scans["421"]["content"]) == [PROBLEM_JSON]
    assert "408" in spec["paths"][UPLOAD]["post"]["responses"]
