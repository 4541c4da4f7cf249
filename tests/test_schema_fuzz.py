"""Schemathesis against the served OpenAPI spec: no 5xx, no answer that breaks its schema.

The fuzz runs the whole app in process (schemathesis's ASGI transport, the
lifespan run once) with one API key of each role (``client``, ``analyst``,
``admin``) and without a key, for every operation the spec lists, positive
and negative data, with the stateless checks: no server error, status code,
content type and response schema conformance.

No network: the schema lets a client ask for ``offline: false`` (domain age
over RDAP/WHOIS, a guarded fetch), so the fuzz runs in a child process

* in an empty network namespace (``unshare -n``: no interface but a loopback
  that is down; the ASGI transport needs no socket), when the machine allows;
* with an audit hook and a wrapped ``socket.connect`` that refuse every DNS
  look-up and every connection other than to loopback or a Unix socket, in
  any case (so also where ``unshare`` is not allowed);
* with a resolver that refuses every name (the guarded fetch) and an RDAP
  bootstrap that names no service, so the live checks end ``incomplete``;
  python-whois and the list feeds' fetch are still tried, and refused by the
  guards (the child prints what it refused and the statuses it got per
  operation).

Besides the generated cases, a few explicit ones: real-looking links and a
message sent live, and real apps uploaded and read back by each role (the
full APK report against its schema). The APK upload is fuzzed as multipart by
schemathesis too; a dedicated in-process test below also throws random
bytes, random multipart framing and wrong field names at it.

Bounded: ``SCAMSCAN_FUZZ_EXAMPLES`` examples per operation, role and mode
(default 20), derandomized (the same cases every run), no shrinking.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
UPLOAD = "/v1/apk-scans"
PROBLEM_JSON = "application/problem+json"
EXAMPLES = int(os.environ.get("SCAMSCAN_FUZZ_EXAMPLES", "20"))
CHILD_TIMEOUT = 300.0
ROLES = ("client", "analyst", "admin")

# --- the child process: the fuzz itself ----------------------------------------------

_refused: list[str] = []
_statuses: defaultdict[str, Counter[int]] = defaultdict(Counter)
"""Per operation, how many answers of each status the fuzz got (printed: coverage)."""


def _loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    h = str(host).strip("[]").lower()
    if h in ("localhost", "testserver"):
        return True
    try:
        return ipaddress.ip_address(h.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _network_guard(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook: no DNS look-up and no connection beyond loopback or Unix sockets."""
    if event == "socket.getaddrinfo":
        if not _loopback(args[0]):
            _refused.append(f"getaddrinfo {args[0]!r}")
            raise OSError(f"no DNS in the fuzz test ({args[0]!r})")
    elif event in ("socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        if not _loopback(args[0]):
            _refused.append(f"{event} {args[0]!r}")
            raise OSError(f"no DNS in the fuzz test ({args[0]!r})")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and not _loopback(address[0]):
            _refused.append(f"{event} {address!r}")
            raise OSError(f"no network in the fuzz test ({address!r})")


class NoDNS:
    """The live fetch's resolver: every name is refused."""

    async def resolve(self, host: str, port: int) -> list[Any]:
        raise OSError(f"no DNS in tests ({host})")


def fuzz_settings(tmp: Path, **overrides: Any) -> Any:
    from api.settings import Settings

    bootstrap = tmp / "rdap-bootstrap.json"
    bootstrap.write_text(json.dumps({"version": "1.0", "publication": "2025-01-01T00:00:00Z",
                                     "description": "no RDAP service (tests)",
                                     "services": []}), encoding="utf-8")
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 8000,
        "log_level": "ERROR",
        "log_format": "text",
        "redis_url": None,
        "data_dir": tmp / "data",
        "require_keys": False,
        "rdap_bootstrap": bootstrap,
        "rdap_timeout": 1.0,
        "whois_timeout": 1.0,
        "fetch_allow_networks": "",
        "fetch_hop_timeout": 1.0,
        "fetch_total_timeout": 3.0,
        "batch_live_timeout": 5.0,  # a generated live batch ends in seconds
        "apk_workers": 1,
        "apk_job_timeout": 30.0,
        "max_apk_bytes": 1024 * 1024,
        # The fuzz sends thousands of requests a minute per key: 429s would hide the rest.
        "rate_limit_client": "1000000/minute",
        "rate_limit_analyst": "1000000/minute",
        "rate_limit_admin": "1000000/minute",
        "rate_limit_keyless": "1000000/minute",
    }
    values.update(overrides)
    return Settings(**values)


async def _make_keys(settings: Any) -> dict[str, str]:
    from api.storage.factory import open_key_store

    store = open_key_store(settings.data_dir, settings.redis_url)
    try:
        return {role: (await store.create(f"fuzz-{role}", role))[1] for role in ROLES}
    finally:
        await store.close()


LIVE_BODIES: dict[str, list[dict[str, Any]]] = {
    "POST /v1/url-scans": [
        {"url": u, "offline": False}
        for u in ("dichvucong.hgov.cc", "https://example.com/app.apk", "http://1.2.3.4/x",
                  "http://[::1]:8080/", "vnexpress.net", "xn--dchvcng-2ya2a.vn/login")
    ],
    "POST /v1/url-scans/batch": [
        {"urls": ["dichvucong.hgov.cc", "http://exa mple.com/", "http://1.2.3.4/x"],
         "offline": False, "lang": "en"},
        {"urls": ["vnexpress.net", "ftp://x.example/", "hxxps://vneid-xacthuc[.]top/login"]},
    ],
    "POST /v1/message-checks": [
        {"text": "Cán bộ công an: tải ứng dụng tại dichvucong-gov[.]com hoặc gọi 0912345678",
         "offline": False, "lang": "en"},
    ],
}
"""Bodies sent live (``offline: false``) as the ``client`` key, besides the fuzz."""


def _runner(strategy: Any, n: int, headers: dict[str, str], checks: list[Any],
            counter: list[int]) -> Any:
    """A Hypothesis test sending ``n`` cases of ``strategy`` with ``headers``."""

    @hsettings(max_examples=n, deadline=None, derandomize=True, database=None,
               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        counter[0] += 1
        if case.headers:  # a generated key (if any) gives way to the real one
            case.headers.pop("X-API-Key", None)
        response = case.call_and_validate(headers=headers, checks=checks, timeout=60)
        _statuses[case.operation.label][response.status_code] += 1

    return run


def _explicit(ops: dict[str, Any], keys: dict[str, str | None], checks: list[Any],
              counter: list[int]) -> list[str]:
    """Cases the fuzz rarely makes, validated the same way.

    Real-looking links and a message, live (the domain age and the fetch run and
    are refused); real apps uploaded and their scans read by each role, so that
    the full APK report (``done``) and a ``failed`` scan meet their schema.
    """
    failures: list[str] = []

    def check(label: str, role: str, **kwargs: Any) -> Any:
        counter[0] += 1
        key = keys[role]
        try:
            response = ops[label].Case(**kwargs).call_and_validate(
                headers={"X-API-Key": key} if key else {}, checks=checks, timeout=90)
        except (Exception, BaseExceptionGroup) as e:
            failures.append(f"{label} as {role} {kwargs.get('body', '')!r:.200}:\n{e}")
            return None
        _statuses[label][response.status_code] += 1
        return response

    for label, bodies in LIVE_BODIES.items():
        for body in bodies:
            check(label, "client", body=body, media_type="application/json")
    for name in ("fake_vneid.apk", "benign_notes.apk", "bundle.xapk", "not_zip.apk"):
        data = (ROOT / "tests" / "fixtures" / "apk" / name).read_bytes()
        r = check("POST /v1/apk-scans", "client", body={"file": data},
                  media_type="multipart/form-data", query={"wait": 60})
        if r is None:
            continue
        if r.status_code != 200 or r.json().get("status") not in ("done", "failed"):
            failures.append(f"{name}: the scan did not end within wait=60: {r.text[:500]}")
            continue
        for role in (*ROLES, "anonymous"):
            check("GET /v1/scans/{scan_id}", role, path_parameters={"scan_id": r.json()[
                "scan_id"]}, query={"lang": "en"})
    return failures


def _fuzz() -> int:
    """Fuzz every operation as each role; print the failures; 0 when there is none."""
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Err
    from schemathesis.python import asgi
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from api.main import create_app

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="scamscan-fuzz-"))
    try:
        settings = fuzz_settings(tmp)
        keys: dict[str, str | None] = {**asyncio.run(_make_keys(settings)), "anonymous": None}
        app = create_app(settings, resolver=NoDNS())
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        failures: list[str] = []
        counter = [0]
        operations = 0
        for result in schema.get_all_operations():
            if isinstance(result, Err):  # an operation schemathesis cannot read: a failure
                failures.append(f"unreadable operation: {result.err()}")
                continue
            operation = result.ok()
            operations += 1
            for role, key in keys.items():
                headers = {"X-API-Key": key} if key else {}
                # Without a key every protected route answers 401: a few cases suffice.
                n = EXAMPLES if key else max(3, EXAMPLES // 5)
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    try:
                        strategy = operation.as_strategy(generation_mode=mode)
                    except Exception as e:  # nothing negative to make of a parameterless GET
                        print(f"  {operation.label} {mode.value}: no strategy ({e})")
                        continue

                    run = _runner(strategy, n, headers, checks, counter)
                    try:
                        run()
                    except (Exception, BaseExceptionGroup) as e:
                        if "Unsatisfiable" in type(e).__name__ or "Unsatisfied" in str(e):
                            continue
                        failures.append(f"{operation.label} as {role} ({mode.value}):\n"
                                        + (str(e) or repr(e)))
        ops = {r.ok().label: r.ok() for r in schema.get_all_operations() if not isinstance(r, Err)}
        failures += _explicit(ops, keys, checks, counter)
        asgi.shutdown_lifespans()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    took = time.monotonic() - started
    print(f"{operations} operations fuzzed, {counter[0]} requests, {len(failures)} failures, "
          f"{len(_refused)} network attempts refused, {took:.1f} s")
    for label, counts in _statuses.items():
        print(f"  {label}: " + ", ".join(f"{k}×{v}" for k, v in sorted(counts.items())))
    for attempt in sorted(set(_refused))[:10]:
        print("refused:", attempt)
    for f in failures:
        print("FAILURE", f)
    return 1 if failures else 0


def _guard_connect() -> None:
    """Refuse ``connect`` to a name or address beyond loopback before it is resolved.

    The ``socket.connect`` audit event comes after the C code resolved a host
    name (python-whois connects to ``(name, 43)``), so the audit hook alone
    would let that look-up through: the Python method is wrapped as well.
    """
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def check(address: Any) -> None:
        if isinstance(address, tuple) and not _loopback(address[0]):
            _refused.append(f"connect {address!r}")
            raise OSError(f"no network in the fuzz test ({address!r})")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


def _child_main() -> int:
    sys.addaudithook(_network_guard)
    _guard_connect()
    return _fuzz()


# --- the tests -------------------------------------------------------------------------


def _can_unshare_net() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_nor_schema_break(tmp_path: Path) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve())]
    if _can_unshare_net():
        cmd = ["unshare", "-n", *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCAMSCAN_")}
    env["SCAMSCAN_FUZZ_EXAMPLES"] = str(EXAMPLES)
    env["PYTHONPATH"] = str(ROOT)
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(tmp_path / "hypothesis")
    env["TMPDIR"] = str(tmp_path)  # the child's data directory, removed with tmp_path
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT, stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-20000:]
    assert "operations fuzzed" in proc.stdout, out[-5000:]
    assert " 0 failures" in proc.stdout, out[-20000:]


# --- the upload: random bytes and broken multipart ------------------------------------



@asynccontextmanager
async def _upload_client(tmp: Path) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app

    settings = fuzz_settings(tmp, max_apk_bytes=64 * 1024, apk_job_timeout=10.0)
    keys = await _make_keys(settings)
    app = create_app(settings, resolver=NoDNS())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers={"X-API-Key": keys["client"]}, timeout=60) as c:
            yield c


def _framed(boundary: bytes, parts: list[tuple[bytes, bytes]], tail: bytes) -> bytes:
    out = b""
    for head, data in parts:
        out += b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n"
    return out + tail


_name = st.one_of(st.just(b"file"), st.binary(max_size=12), st.text(max_size=12).map(
    lambda s: s.encode("utf-8", "surrogatepass")))
_part_head = st.one_of(
    st.builds(lambda n, f: b'Content-Disposition: form-data; name="' + n + b'"; filename="'
              + f + b'"', _name, st.binary(max_size=40)),
    st.builds(lambda n: b'Content-Disposition: form-data; name="' + n + b'"', _name),
    st.binary(max_size=80),
)
_bodies = st.one_of(
    st.binary(max_size=2048),  # not multipart at all
    st.builds(
        _framed,
        st.just(b"BOUNDARY"),
        st.lists(st.tuples(_part_head, st.binary(max_size=3000)), max_size=3),
        st.sampled_from([b"--BOUNDARY--\r\n", b"--BOUNDARY--", b"", b"--BOUND", b"junk"]),
    ),
)
_ctypes = st.sampled_from([
    "multipart/form-data; boundary=BOUNDARY",
    "multipart/form-data; boundary=BOUNDARY",
    "multipart/form-data",
    'multipart/form-data; boundary=""',
    "multipart/form-data; boundary=OTHER",
    "application/octet-stream",
    "application/vnd.android.package-archive",
    "",
])


@pytest.mark.anyio
async def test_random_multipart_uploads_get_an_answer_never_a_500(tmp_path: Path) -> None:
    """Random bytes, random framing, wrong fields and types: a problem or a scan, never 5xx."""
    async with _upload_client(tmp_path) as c:
        cases: list[tuple[bytes, str]] = []

        @hsettings(max_examples=150, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        @given(body=_bodies, ctype=_ctypes)
        def collect(body: bytes, ctype: str) -> None:
            cases.append((body, ctype))

        collect()
        scan_ids = []
        for body, ctype in cases:
            headers = {"content-type": ctype} if ctype else {}
            r = await c.post(UPLOAD, content=body, headers=headers)
            assert r.status_code < 500, (body[:200], ctype, r.status_code, r.text)
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers
                problem = r.json()
                assert problem["status"] == r.status_code and len(problem["detail"]) > 10
                assert r.status_code in (400, 413, 415, 422), (r.status_code, r.text)
            else:
                assert r.status_code in (200, 202), r.text
                scan_ids.append(r.json()["scan_id"])
        assert scan_ids, "no random upload was accepted: the strategy misses the happy path"
        # Every accepted random file ends (as failed: it is no app), none hangs.
        for scan_id in scan_ids:
            r = await c.get(f"/v1/scans/{scan_id}", params={"wait": 30})
            assert r.status_code == 200, r.text
            assert r.json()["status"] in ("done", "failed"), r.text


# --- what the fuzz found (regressions) ------------------------------------------------


@pytest.mark.anyio
async def test_every_error_is_documented_as_problem_json(tmp_path: Path) -> None:
    """FastAPI's own 422 became problem+json; body routes document 400 and 413."""
    async with _upload_client(tmp_path) as c:
        spec = (await c.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            for status, resp in op["responses"].items():
                if status[0] in "45":
                    assert list(resp.get("content", {})) == [PROBLEM_JSON], (where, status)
            if "requestBody" in op:
                assert {"400", "413"} <= set(op["responses"]), where
            if op.get("parameters"):
                assert "422" in op["responses"], where


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/v1/url-scans", "/v1/message-checks", "/v1/keys"])
async def test_json_body_that_is_not_utf8_is_a_malformed_json_problem(
    tmp_path: Path, path: str
) -> None:
    async with _upload_client(tmp_path) as c:
        r = await c.post(path, content=b'{"url": "\xff\xfe"}',
                         headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    problem = r.json()
    assert problem["type"].endswith("/malformed-json") and problem["title"] == "Malformed JSON"
    assert "UTF-8" in problem["detail"] and problem["instance"] == path


if __name__ == "__main__":
    sys.exit(_child_main())
