"""Operations: /metrics, JSON logs with a request id, /readyz, compose and the Dockerfile.

The app runs for real through httpx's ASGI transport with its lifespan; Redis
mode talks to a throw-away ``redis-server``. The compose file is validated
against the vendored Compose Specification schema (``tests/compose/``) and its
wiring is checked field by field; the image and the stack themselves are built
and run for real by ``make deploy-test`` (``tests/deploy/run_stack.py``), which
needs root and a Docker engine and so is not part of this suite.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import redis
import yaml
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from api import observability
from api.deps import get_live
from api.log_output import RoundBatchedStreamHandler, iso_timestamp
from api.main import create_app
from api.observability import HEARTBEAT_KEY, Metrics, Timed, check_worker, configure_logging
from api.settings import Settings
from scanners.errors import ScanIncomplete
from scanners.findings import Finding, Verdict
from scanners.normalize import ParsedURL
from tests.asgi import running as _running
from tests.json_logs import json_lines
from tests.live_servers_age import RedisServer, free_port

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "apk"
SCANS = "/v1/url-scans"
UPLOAD = "/v1/apk-scans"
APK_TYPE = "application/vnd.android.package-archive"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def running(app: FastAPI) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    # APK scans in the real process pool can take a while: a longer client timeout.
    return _running(app, client_timeout=90)



def ops_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings independent of the environment's SCAMSCAN_* values."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 8000,
        "default_lang": "vi",
        "log_level": "INFO",
        "redis_url": None,
        "data_dir": data_dir,
        "max_apk_bytes": 4 * 1024 * 1024,
        "apk_workers": 1,
        "apk_job_timeout": 60.0,
    }
    values.update(overrides)
    return Settings(**values)



Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> Samples:
    """Every sample as ``{(name, sorted labels): value}``."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def sample(samples: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    have = sorted(k for k in samples if k[0] == name)
    assert key in samples, f"{name}{labels} missing; have {have}"
    return samples[key]


async def scrape(c: httpx.AsyncClient) -> Samples:
    r = await c.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == METRICS_TYPE
    return parse_metrics(r.text)


# --- metrics ------------------------------------------------------------------------


async def test_metrics_after_a_url_scan(tmp_path: Path) -> None:
    async with running(create_app(ops_settings(tmp_path))) as c:
        r = await c.post(SCANS, json={"url": "dichvucong.hgov.cc"})
        assert r.status_code == 200, r.text
        verdict = r.json()["verdict"]
        m = await scrape(c)
    assert sample(m, "scamscan_scans_total", kind="url", verdict=verdict) == 1
    others = [v.value for v in Verdict if v.value != verdict]
    assert all(sample(m, "scamscan_scans_total", kind="url", verdict=v) == 0 for v in others)
    assert sample(m, "scamscan_scans_total", kind="message", verdict="dangerous") == 0
    assert sample(m, "scamscan_scanner_duration_seconds_count", scanner="url-offline") == 1
    assert sample(m, "scamscan_scanner_duration_seconds_sum", scanner="url-offline") > 0
    assert sample(m, "scamscan_queue_depth") == 0
    assert sample(m, "scamscan_cache_requests_total", cache="domain_age", result="hit") == 0
    assert sample(m, "scamscan_cache_requests_total", cache="domain_age", result="miss") == 0
    assert sample(m, "scamscan_http_requests_total",
                  route=SCANS, method="POST", status="200") == 1
    assert sample(m, "scamscan_http_request_duration_seconds_count",
                  route=SCANS, method="POST") == 1


class _Slow:
    """A live scanner stand-in: sleeps, then reports the check as incomplete."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def scan(self, target: ParsedURL) -> list[Finding]:
        await asyncio.sleep(0.02)
        raise ScanIncomplete(self.name, "stand-in")


class _FakeLive:
    def __init__(self) -> None:
        self.scanners = [_Slow("domain-age"), _Slow("live-fetch")]


async def test_live_scanners_are_timed_and_cache_counters_read(tmp_path: Path) -> None:
    app = create_app(ops_settings(tmp_path))
    app.dependency_overrides[get_live] = _FakeLive
    async with running(app) as c:
        app.state.services.live.age.cache_hits = 3
        app.state.services.live.age.cache_misses = 5
        r = await c.post(SCANS, json={"url": "example.com", "offline": False})
        assert r.status_code == 200, r.text
        assert len(r.json()["incomplete"]) == 2
        m = await scrape(c)
    for name in ("domain-age", "live-fetch"):
        assert sample(m, "scamscan_scanner_duration_seconds_count", scanner=name) == 1
        assert sample(m, "scamscan_scanner_duration_seconds_sum", scanner=name) >= 0.02
    assert sample(m, "scamscan_cache_requests_total", cache="domain_age", result="hit") == 3
    assert sample(m, "scamscan_cache_requests_total", cache="domain_age", result="miss") == 5


async def test_timed_keeps_name_and_results() -> None:
    metrics = Metrics()

    class Ok:
        name = "url-offline"

        async def scan(self, target: str) -> list[Finding]:
            return []

    t = Timed[str](Ok(), metrics.scanner_duration)
    assert t.name == "url-offline"
    assert await t.scan("x") == []
    with pytest.raises(ScanIncomplete):
        await Timed[Any](_Slow("domain-age"), metrics.scanner_duration).scan("x")
    m = parse_metrics(_latest(metrics))
    assert sample(m, "scamscan_scanner_duration_seconds_count", scanner="url-offline") == 1
    assert sample(m, "scamscan_scanner_duration_seconds_count", scanner="domain-age") == 1


def _latest(metrics: Metrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


async def _upload(c: httpx.AsyncClient, name: str) -> httpx.Response:
    data = (FIXTURES / name).read_bytes()
    return await c.post(UPLOAD, params={"wait": 60}, files={"file": (name, data, APK_TYPE)})


@pytest.mark.slow
async def test_metrics_after_apk_scans(tmp_path: Path) -> None:
    async with running(create_app(ops_settings(tmp_path))) as c:
        r = await _upload(c, "benign_notes.apk")
        assert r.status_code == 200, r.text
        verdict = r.json()["report"]["verdict"]
        again = await _upload(c, "benign_notes.apk")  # deduplicated: no new scan ran
        assert again.json()["deduplicated"] is True
        bad = await _upload(c, "not_zip.apk")
        assert bad.json()["status"] == "failed"
        m = await scrape(c)
    assert sample(m, "scamscan_scans_total", kind="apk", verdict=verdict) == 2
    assert sample(m, "scamscan_scans_total", kind="apk", verdict="failed") == 1
    assert sample(m, "scamscan_scanner_duration_seconds_count", scanner="apk") == 2
    assert sample(m, "scamscan_http_requests_total",
                  route=UPLOAD, method="POST", status="200") == 3


@pytest.mark.slow
async def test_an_apk_scan_finishing_later_is_counted(tmp_path: Path) -> None:
    async with running(create_app(ops_settings(tmp_path))) as c:
        data = (FIXTURES / "benign_notes.apk").read_bytes()
        r = await c.post(UPLOAD, files={"file": ("a.apk", data, APK_TYPE)})
        assert r.status_code == 202, r.text
        status = await c.get(r.json()["status_url"], params={"wait": 60})
        verdict = status.json()["report"]["verdict"]
        for _ in range(100):  # the watcher task runs right after the job ends
            m = await scrape(c)
            if sample(m, "scamscan_scans_total", kind="apk", verdict=verdict) == 1:
                break
            await asyncio.sleep(0.02)
        assert sample(m, "scamscan_scans_total", kind="apk", verdict=verdict) == 1
        assert sample(m, "scamscan_scanner_duration_seconds_count", scanner="apk") == 1
        assert sample(m, "scamscan_http_requests_total", route="/v1/scans/{scan_id}",
                      method="GET", status="200") == 1


async def test_queue_depth_hook(tmp_path: Path) -> None:
    app = create_app(ops_settings(tmp_path))
    async with running(app) as c:
        m = await scrape(c)
        assert sample(m, "scamscan_queue_depth") == 0

        async def depth() -> int:
            return 7

        app.state.queue_depth = depth
        assert sample(await scrape(c), "scamscan_queue_depth") == 7
        app.state.queue_depth = lambda: 4
        assert sample(await scrape(c), "scamscan_queue_depth") == 4

        def broken() -> int:
            raise RuntimeError("queue gone")

        app.state.queue_depth = broken  # the scrape still answers, with the last value
        assert sample(await scrape(c), "scamscan_queue_depth") == 4


async def test_route_templates_not_raw_paths(tmp_path: Path) -> None:
    async with running(create_app(ops_settings(tmp_path))) as c:
        assert (await c.get("/v1/scans/0123456789abcdef")).status_code == 404
        assert (await c.get("/no/such/path?token=secret")).status_code == 404
        r = await c.get("/metrics")
    assert "0123456789abcdef" not in r.text and "/no/such" not in r.text
    m = parse_metrics(r.text)
    assert sample(m, "scamscan_http_requests_total", route="/v1/scans/{scan_id}",
                  method="GET", status="404") == 1
    assert sample(m, "scamscan_http_requests_total", route="unmatched",
                  method="GET", status="404") == 1


async def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    one, two = create_app(ops_settings(tmp_path / "1")), create_app(ops_settings(tmp_path / "2"))
    assert one.state.metrics.registry is not two.state.metrics.registry
    async with running(one) as c1, running(two) as c2:
        await c1.post(SCANS, json={"url": "example.com"})
        m1, m2 = await scrape(c1), await scrape(c2)
    total = "scamscan_scans_total"
    assert sum(v for (n, _), v in m1.items() if n == total) == 1
    assert sum(v for (n, _), v in m2.items() if n == total) == 0


async def test_metrics_can_be_disabled(tmp_path: Path) -> None:
    async with running(create_app(ops_settings(tmp_path, metrics_enabled=False))) as c:
        r = await c.get("/metrics")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (await c.get("/readyz")).status_code == 200


async def test_metrics_and_readyz_need_no_key(tmp_path: Path) -> None:
    settings = ops_settings(tmp_path, require_keys=True)
    async with running(create_app(settings)) as c:
        assert (await c.post(SCANS, json={"url": "example.com"})).status_code == 401
        assert (await c.get("/metrics")).status_code == 200
        assert (await c.get("/readyz")).status_code == 200


# --- logs -----------------------------------------------------------------------------




async def test_json_access_line_with_request_id(tmp_path: Path, json_log: io.StringIO) -> None:
    async with running(create_app(ops_settings(tmp_path))) as c:
        r = await c.post(SCANS, json={"url": "secret-marker.example.com"},
                         headers={"X-Request-ID": "req-42.abc_DEF"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "req-42.abc_DEF"
    lines = json_lines(json_log)
    access = [x for x in lines if x.get("route") == SCANS]
    assert len(access) == 1, lines
    line = access[0]
    assert line["request_id"] == "req-42.abc_DEF"
    assert (line["method"], line["status"], line["level"]) == ("POST", 200, "info")
    assert line["logger"] == "scamscan.api"
    assert line["message"].startswith("POST /v1/url-scans 200")
    assert isinstance(line["duration_ms"], float) and "timestamp" in line
    assert "secret-marker" not in json_log.getvalue()
    # Lines outside a request carry no request id.
    assert all("request_id" not in x for x in lines if "route" not in x)


@pytest.mark.parametrize("supplied", ["x" * 65, "../../etc/passwd", "a b", "id;rm -rf /", ""])
async def test_unsafe_request_id_is_replaced(
    tmp_path: Path, json_log: io.StringIO, supplied: str
) -> None:
    # Probes are logged at DEBUG.
    async with running(create_app(ops_settings(tmp_path, log_level="DEBUG"))) as c:
        r = await c.get("/healthz", headers={"X-Request-ID": supplied})
    rid = r.headers["x-request-id"]
    assert rid != supplied and re.fullmatch(r"[0-9a-f]{32}", rid)
    probe = [x for x in json_lines(json_log) if x.get("route") == "/healthz"]
    assert probe[0]["request_id"] == rid and probe[0]["level"] == "debug"


async def test_request_id_generated_and_in_problems(tmp_path: Path) -> None:
    async with running(create_app(ops_settings(tmp_path))) as c:
        a = await c.get("/healthz")
        b = await c.get("/healthz")
        assert a.headers["x-request-id"] != b.headers["x-request-id"]
        r = await c.post(SCANS, content=b"{not json", headers={
            "content-type": "application/json", "x-request-id": "trace-1"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["request_id"] == "trace-1" and body["status"] == 400
    assert int(r.headers["content-length"]) == len(r.content)


def test_configure_logging_installs_one_json_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("scamscan")
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setattr(logger, "handlers", [])
    uvicorn_access = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(uvicorn_access, "level", uvicorn_access.level)
    configure_logging("INFO", "json")
    configure_logging("INFO", "json")
    assert len(logger.handlers) == 1
    formatter = logger.handlers[0].formatter
    assert formatter is not None
    record = logging.LogRecord("scamscan.api", logging.WARNING, __file__, 1, "hello %s",
                               ("world",), None)
    line = json.loads(formatter.format(record))
    assert (line["message"], line["level"], line["logger"]) == ("hello world", "warning",
                                                                "scamscan.api")
    assert uvicorn_access.level == logging.WARNING  # its lines carry query strings
    configure_logging("DEBUG", "text")
    assert len(logger.handlers) == 1 and logger.level == logging.DEBUG
    text_formatter = logger.handlers[0].formatter
    assert text_formatter is not None
    assert "WARNING scamscan.api: hello world" in text_formatter.format(record)


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().log_format == "json"
    monkeypatch.setenv("SCAMSCAN_LOG_FORMAT", "text")
    assert Settings().log_format == "text"
    monkeypatch.setenv("SCAMSCAN_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()


# --- readiness --------------------------------------------------------------------------


def assert_not_ready(r: httpx.Response, check: str, *words: str) -> dict[str, Any]:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == 503 and body["title"] == "Not ready"
    assert check in body["detail"]
    for w in words:
        assert w in body["checks"][check], body["checks"]
    return body


async def test_readyz_embedded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running(create_app(ops_settings(data))) as c:
        r = await c.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ready", "checks": {"scanner": "ok", "data_dir": "ok"},
                            "lists": {"bundled": True, "analyst_entries": 0, "feeds_in_use": 0,
                                      "stale_feeds": [], "feeds": []}}
        assert list(data.glob(".readyz-*")) == []  # the probe file is removed
        # The data directory becomes unusable (here: a file where it should be). Moved
        # away in one rename, not emptied: the history's background tasks may be writing
        # in it at that moment, and a store opened for the first time just then makes
        # the folder again (SqliteFile._connect), so it is moved away until the file
        # takes its place (a few tries at most; bounded).
        for attempt in range(100):
            data.rename(tmp_path / f"moved-away-{attempt}")
            try:
                data.write_text("not a directory")
                break
            except IsADirectoryError:
                await asyncio.sleep(0.01)
        assert data.is_file()
        assert_not_ready(await c.get("/readyz"), "data_dir", "not writable")


async def test_readyz_redis_down(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    async with running(create_app(ops_settings(tmp_path, redis_url=url))) as c:
        started = time.monotonic()
        r = await c.get("/readyz")
        assert time.monotonic() - started < 5
    body = assert_not_ready(r, "redis", "Redis does not answer")
    assert body["checks"]["scanner"] == "ok"


async def test_readyz_redis_needs_a_fresh_worker_heartbeat(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    settings = ops_settings(tmp_path / "data", redis_url=redis_server.url,
                            worker_heartbeat_max_age=10)
    r = redis.Redis.from_url(redis_server.url)
    async with running(create_app(settings)) as c:
        body = assert_not_ready(await c.get("/readyz"), "worker", "no worker heartbeat")
        assert body["checks"]["redis"] == "ok"

        r.zadd(HEARTBEAT_KEY, {"host-a:10:abcd": time.time()})
        ok = await c.get("/readyz")
        assert ok.status_code == 200, ok.text
        assert ok.json()["checks"] == {"scanner": "ok", "data_dir": "ok", "redis": "ok",
                                       "worker": "ok"}

        r.delete(HEARTBEAT_KEY)
        r.zadd(HEARTBEAT_KEY, {"host-a:10:abcd": time.time() - 60,
                               "host-b:11:ef01": time.time() - 30})
        stale = assert_not_ready(await c.get("/readyz"), "worker", "host-b:11:ef01",
                                 "30 s old")
        assert "10 s" in stale["checks"]["worker"]

        r.zadd(HEARTBEAT_KEY, {"host-b:11:ef01": time.time()})  # any fresh worker will do
        assert (await c.get("/readyz")).status_code == 200
    r.close()


@pytest.mark.redis  # its own server, which it stops
async def test_readyz_when_redis_goes_away(tmp_path: Path) -> None:
    server = RedisServer(tmp_path).__enter__()
    try:
        settings = ops_settings(tmp_path / "data", redis_url=server.url)
        redis.Redis.from_url(server.url).zadd(HEARTBEAT_KEY, {"w:1:a": time.time()})
        async with running(create_app(settings)) as c:
            assert (await c.get("/readyz")).status_code == 200
            server.__exit__(None, None, None)
            assert_not_ready(await c.get("/readyz"), "redis", "Redis does not answer")
    finally:
        server.__exit__(None, None, None)


def test_worker_health_check(redis_server: RedisServer, tmp_path: Path) -> None:
    assert check_worker(f"redis://127.0.0.1:{free_port()}/0", 30, host="h1") == 1
    r = redis.Redis.from_url(redis_server.url)
    assert check_worker(redis_server.url, 30, host="h1") == 1
    r.zadd(HEARTBEAT_KEY, {"h10:5:aa": time.time()})  # another host whose name starts alike
    assert check_worker(redis_server.url, 30, host="h1") == 1
    r.zadd(HEARTBEAT_KEY, {"h1:7:bb": time.time() - 40})  # stale
    assert check_worker(redis_server.url, 30, host="h1") == 1
    r.zadd(HEARTBEAT_KEY, {"h1:8:cc": time.time()})
    assert check_worker(redis_server.url, 30, host="h1") == 0
    r.close()


# --- compose and Dockerfile ----------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data


def test_compose_file_validates_against_the_spec(compose: dict[str, Any]) -> None:
    schema = json.loads((ROOT / "tests/compose/compose-spec.json").read_text("utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    validator.check_schema(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # The schema does catch mistakes: a misspelt key is refused.
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["healthchek"] = broken["services"]["api"].pop("healthcheck")
    assert list(validator.iter_errors(broken))


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return cmd.split() if isinstance(cmd, str) else list(cmd)


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Volume source -> container path."""
    out: dict[str, str] = {}
    for v in service.get("volumes", []):
        if isinstance(v, str):
            source, target = v.split(":")[:2]
        else:
            source, target = v["source"], v["target"]
        out[source] = target
    return out


def _healthcheck(service: dict[str, Any]) -> str:
    hc = service["healthcheck"]
    assert not hc.get("disable", False)
    test = hc["test"]
    return test if isinstance(test, str) else " ".join(test)


def test_compose_services_are_wired(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"redis", "api", "worker"}
    assert set(compose["volumes"]) >= {"redis-data", "samples"}

    redis_svc = services["redis"]
    assert redis_svc["image"].startswith("redis:7")
    assert "--appendonly" in _command(redis_svc)
    cmd = _command(redis_svc)
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert _mounts(redis_svc).get("redis-data") == "/data"
    assert "redis-cli" in _healthcheck(redis_svc) and "ping" in _healthcheck(redis_svc)

    api, worker = services["api"], services["worker"]
    assert _command(api)[:2] == ["scamscan", "serve"] and "0.0.0.0" in _command(api)
    assert _command(worker)[:2] == ["scamscan", "worker"]
    assert any(str(p).endswith("8000") for p in api["ports"])
    for svc in (api, worker):
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
        assert "build" in svc or svc["image"] == api["image"]
    api_env, worker_env = _env(api), _env(worker)
    assert api_env["SCAMSCAN_REDIS_URL"] == worker_env["SCAMSCAN_REDIS_URL"]
    # Redis needs the password the API and the workers use, and never evicts.
    password = re.fullmatch(r"redis://:(\$\{REDIS_PASSWORD:\?[^}]+\})@redis:6379/0",
                            api_env["SCAMSCAN_REDIS_URL"])
    assert password, api_env["SCAMSCAN_REDIS_URL"]
    assert cmd[cmd.index("--requirepass") + 1] == password.group(1)
    assert _env(redis_svc)["REDISCLI_AUTH"] == password.group(1)
    assert cmd[cmd.index("--maxmemory-policy") + 1] == "noeviction"
    assert "--maxmemory" in cmd
    # The API is published on loopback unless the operator says otherwise.
    assert api["ports"] == ["${API_BIND:-127.0.0.1:8000}:8000"]
    assert api_env["SCAMSCAN_REQUIRE_KEYS"] in ("1", "true")
    assert api_env["SCAMSCAN_DATA_DIR"] == worker_env["SCAMSCAN_DATA_DIR"]
    data_dir = api_env["SCAMSCAN_DATA_DIR"]
    assert _mounts(api).get("samples") == data_dir == _mounts(worker).get("samples")
    assert "/readyz" in _healthcheck(api) and "python" in _healthcheck(api)
    assert "check_worker" in _healthcheck(worker)


def test_compose_healthchecks_run() -> None:
    """The healthchecks' Python is valid and names functions that exist."""
    compose_text = (ROOT / "docker-compose.yml").read_text("utf-8")
    for service in yaml.safe_load(compose_text)["services"].values():
        test = service["healthcheck"]["test"]
        if isinstance(test, list) and test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], "healthcheck", "exec")
    assert callable(observability.check_worker)


def test_dockerfile_runs_as_non_root_without_dev_deps() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    lines = [ln.strip() for ln in text.replace("\\\n", " ").splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    # The base is a build argument whose default is the official slim image.
    assert lines[0] == "ARG BASE_IMAGE=python:3.11-slim"
    froms = [ln for ln in lines if ln.upper().startswith("FROM ")]
    assert froms and all(ln.split()[1] == "${BASE_IMAGE}" for ln in froms)
    users = [ln.split()[1] for ln in lines if ln.upper().startswith("USER ")]
    assert users and users[-1] not in ("root", "0", "0:0")
    runs = " ".join(ln for ln in lines if ln.upper().startswith("RUN "))
    assert re.search(r"pip install (\$\{PIP_INSTALL_OPTS\} )?\.(\s|$)", runs)
    assert "[dev]" not in runs and "pytest" not in runs and "-e " not in runs
    assert any(ln.startswith("EXPOSE 8000") for ln in lines)
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert {"tests", ".venv", ".git", ".scamscan-data"} <= set(ignored)


def test_every_setting_is_documented_in_deployment_md() -> None:
    from api.settings import Settings

    doc = (Path(__file__).resolve().parent.parent / "docs" / "deployment.md").read_text()
    missing = [f for f in Settings.model_fields if f"`SCAMSCAN_{f.upper()}`" not in doc]
    assert missing == []


# --- the request path's cheaper parts answer as what they replace --------------------


def test_iso_timestamp_writes_what_datetime_writes() -> None:
    """The log's timestamp, its date and time of day written once a second, is
    ``datetime``'s text: microseconds rounded half to even and carried, none when 0."""
    import random
    from datetime import UTC, datetime

    rng = random.Random(16)  # noqa: S311 - test inputs, not secrets
    now = time.time()
    cases = [now + rng.uniform(-1e7, 1e7) for _ in range(20_000)]
    cases += [0.0, 1.0, 1.5, 86399.9999999, 1796518096.0000005, 1796518096.9999995,
              1796518096.9999996, 1796518096.0000015]
    cases += [1_700_000_000 + j / 1e6 + 5e-7 for j in range(0, 1_000_000, 499)]
    for created in cases:
        want = datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")
        assert iso_timestamp(created) == want, created


def test_uuid4_hex_ids_are_uuid4s() -> None:
    import uuid

    from api.ids import uuid4_hex

    seen = {uuid4_hex() for _ in range(2000)}  # several reads of the random source
    assert len(seen) == 2000
    for value in seen:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # A child after fork does not repeat the ids its parent has not used yet.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, uuid4_hex().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child not in seen and child != uuid4_hex()


async def test_within_answers_as_a_timeout_would() -> None:
    """``api.problems.within``: a coroutine that answers at once arms no timer; one
    that waits is awaited under the time-out, answered, timed out or cancelled as
    ``asyncio.timeout`` would."""
    from api.problems import within

    ready = asyncio.Event()
    ready.set()

    async def wait_for(event: asyncio.Event, value: str) -> str:
        await event.wait()
        return value

    assert await within(wait_for(ready, "now"), 0.0) == "now"  # no wait: no time-out
    later = asyncio.Event()
    asyncio.get_running_loop().call_later(0.02, later.set)
    assert await within(wait_for(later, "later"), 5.0) == "later"
    with pytest.raises(TimeoutError):
        await within(wait_for(asyncio.Event(), "never"), 0.02)
    seen: list[str] = []

    async def cancelled() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled inside")
            raise

    task = asyncio.ensure_future(within(cancelled(), 5.0))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled inside"]
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    future.set_result("a future")
    assert await within(future, 1.0) == "a future"  # not a coroutine: awaited as is


async def test_log_lines_of_a_loop_round_are_written_together() -> None:
    """The service's own handler writes the lines logged on the loop at the end of the
    round, in one write, and keeps their order with lines from other threads."""
    import threading

    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    stream = Stream()
    handler = RoundBatchedStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("scamscan.test-batched")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("one")
        logger.info("two")
        assert stream.getvalue() == ""  # not yet: at the end of this round
        await asyncio.sleep(0)
        assert writes == ["one\ntwo\n"]  # both in one write
        logger.info("three")
        worker = threading.Thread(target=logger.info, args=("from a thread",))
        worker.start()
        worker.join()  # no loop there: written at once, after what was waiting
        assert stream.getvalue() == "one\ntwo\nthree\nfrom a thread\n"
        logger.info("four")
        handler.flush()  # as logging.shutdown does at exit
        assert stream.getvalue().endswith("from a thread\nfour\n")
        await asyncio.sleep(0)
        assert stream.getvalue().count("four") == 1
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


async def test_routers_pass_over_only_paths_none_of_their_routes_match(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every router of the app is an ``api.routing.Router``; its expression finds every
    path one of its routes matches, and the app answers every request (route, 404, 405,
    slash redirect, console catch-all) exactly as with FastAPI's matching alone."""
    import re

    from fastapi import APIRouter

    from api.routing import Router, paths_expression

    app = create_app(ops_settings(tmp_path))
    included = [r.original_router for r in app.router.routes
                if hasattr(r, "original_router")]
    assert included and all(isinstance(r, Router) for r in included)
    for router in included:
        expression = paths_expression(router.routes)
        assert expression is not None
        for route in router.routes:
            concrete = re.sub(r"\{[^}]+\}", "x1", route.path)
            assert expression.search(concrete), (route.path, concrete)
    requests = [("GET", p) for p in (
        "/healthz", "/v1/rules", "/docs", "/redoc", "/openapi.json", "/nope", "/healthz/",
        "/v1/scans", "/v1/scans/", "/v1/scans/abc", "/v1/scans/abc/export", "/console",
        "/console/", "/console/anything/deeper", "/s/-/share.css", "/s/tok",
        "/v1/lists/sources", "/v1/feedback", "/v1/keys", "/readyz", "/metrics",
        "/docs/static/nope.js", "/console/static/nope.css")]
    requests += [("DELETE", "/healthz"), ("POST", "/v1/rules"), ("PUT", "/v1/url-scans")]

    async def answers() -> list[tuple[int, str | None]]:
        async with running(app) as c:
            out = []
            for method, path in requests:
                r = await c.request(method, path, follow_redirects=False)
                out.append((r.status_code, r.headers.get("location")))
            return out

    with_prefilter = await answers()
    monkeypatch.setattr(Router, "matches", APIRouter.matches)
    assert await answers() == with_prefilter
    assert {s for s, _ in with_prefilter} >= {200, 404, 405}
