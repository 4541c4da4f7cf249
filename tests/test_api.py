"""The HTTP API end to end, through httpx's ASGI transport with the lifespan run.

Every error must be ``application/problem+json`` with a useful ``detail`` and
never a 500 for bad input.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.deps import get_scanner
from api.main import create_app
from api.problems import PROBLEM_JSON
from api.settings import Settings
from scanners import rules
from scanners.errors import DataError
from scanners.findings import DANGEROUS_AT, SUSPICIOUS_AT, Finding
from scanners.normalize import ParsedURL
from tests.asgi import running

pytestmark = pytest.mark.anyio

SCANS = "/v1/url-scans"
LIMIT = 65536



def api_settings(**overrides: Any) -> Settings:
    """Settings for an API test, independent of the environment's SCAMSCAN_* values."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 8000,
        "max_body_bytes": LIMIT,
        "default_lang": "vi",
        "log_level": "INFO",
        "redis_url": None,
        # Samples and reports go to a fresh directory, never into the checkout.
        "data_dir": Path(tempfile.mkdtemp(prefix="scamscan-test-")),
    }
    values.update(overrides)
    return Settings(**values)



@pytest.fixture
async def api_client() -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(api_settings())) as c:
        yield c


def assert_problem(r: httpx.Response, status: int, *detail_words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    for w in detail_words:
        assert w.lower() in body["detail"].lower(), body["detail"]
    return body


async def scan(c: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    r = await c.post(SCANS, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    out: dict[str, Any] = r.json()
    return out


# --- url scans --------------------------------------------------------------


async def test_scam_host_is_flagged(api_client: httpx.AsyncClient) -> None:
    report = await scan(api_client, url="dichvucong.hgov.cc")
    assert report["verdict"] in ("dangerous", "suspicious")
    assert report["risk_score"] >= SUSPICIOUS_AT
    assert report["host"] == "dichvucong.hgov.cc"
    assert report["url"] == "http://dichvucong.hgov.cc/"
    assert report["input"] == "dichvucong.hgov.cc"
    assert report["host_unicode"] == "dichvucong.hgov.cc"
    assert report["registrable_domain"] == "hgov.cc"
    ids = [f["rule_id"] for f in report["findings"]]
    assert any(i.startswith("URL-GOV") for i in ids), ids
    assert report["reasons"]
    for f in report["findings"]:
        rule = rules.CATALOGUE[f["rule_id"]]
        assert f["severity"] == rule.severity.value
        assert f["title"] == rule.title_vi
        assert isinstance(f["evidence"], dict)
        assert f["points"] in (rule.points, 0)
    # The score is explained: it is the capped sum of the counted points.
    assert report["risk_score"] == min(100, sum(f["points"] for f in report["findings"]))
    assert report["incomplete"] == []


async def test_official_host(api_client: httpx.AsyncClient) -> None:
    report = await scan(api_client, url="https://dichvucong.gov.vn/")
    assert report["verdict"] == "official"
    assert report["risk_score"] == 0
    assert report["host"] == "dichvucong.gov.vn"
    assert any(f["rule_id"].startswith("URL-OFF") for f in report["findings"])
    # Suppressed findings, when any, say which rule zeroed them.
    for f in report["findings"]:
        if f["points"] == 0 and "suppressed_by" in f:
            assert f["suppressed_by"] in rules.CATALOGUE


@pytest.mark.slow
async def test_lang_selects_titles(api_client: httpx.AsyncClient) -> None:
    vi = await scan(api_client, url="dichvucong.hgov.cc", lang="vi")
    en = await scan(api_client, url="dichvucong.hgov.cc", lang="en")
    default = await scan(api_client, url="dichvucong.hgov.cc")
    assert [f["rule_id"] for f in vi["findings"]] == [f["rule_id"] for f in en["findings"]]
    assert [f["title"] for f in vi["findings"]] != [f["title"] for f in en["findings"]]
    for f in en["findings"]:
        assert f["title"] == rules.CATALOGUE[f["rule_id"]].title_en
    assert vi["reasons"] != en["reasons"]
    assert default["reasons"] == vi["reasons"]


async def test_default_lang_comes_from_settings() -> None:
    async with running(create_app(api_settings(default_lang="en"))) as c:
        report = await scan(c, url="dichvucong.hgov.cc")
    for f in report["findings"]:
        assert f["title"] == rules.CATALOGUE[f["rule_id"]].title_en


@pytest.mark.slow
async def test_scan_id_present_and_unique(api_client: httpx.AsyncClient) -> None:
    ids = [(await scan(api_client, url="example.com"))["scan_id"] for _ in range(5)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)


async def test_defanged_input_is_accepted(api_client: httpx.AsyncClient) -> None:
    report = await scan(api_client, url="hxxps://dichvucong[.]hgov[.]cc/login")
    assert report["host"] == "dichvucong.hgov.cc"
    assert report["input"] == "hxxps://dichvucong[.]hgov[.]cc/login"


# --- rules and health -------------------------------------------------------


async def test_rules_match_the_catalogue(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/v1/rules")
    assert r.status_code == 200
    body = r.json()
    assert body["thresholds"] == {"suspicious": SUSPICIOUS_AT, "dangerous": DANGEROUS_AT}
    assert [x["id"] for x in body["rules"]] == list(rules.CATALOGUE)
    for x in body["rules"]:
        rule = rules.CATALOGUE[x["id"]]
        assert x == {
            "id": rule.id,
            "points": rule.points,
            "severity": rule.severity.value,
            "kind": rule.kind.value,
            "suppressible": rule.suppressible,
            "official": rule.official,
            "title_vi": rule.title_vi,
            "title_en": rule.title_en,
            "description": rule.description,
        }


async def test_healthz(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]
    assert body["rules"] == len(rules.CATALOGUE)
    assert isinstance(body["lists"], list)
    for x in body["lists"]:
        assert isinstance(x["name"], str) and x["name"]
        assert isinstance(x["entries"], int) and x["entries"] >= 0


async def test_openapi_documents_the_routes(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert "post" in spec["paths"]["/v1/url-scans"]
    assert "get" in spec["paths"]["/v1/rules"]
    assert "get" in spec["paths"]["/healthz"]
    schemas = spec["components"]["schemas"]
    for name in ("UrlScanRequest", "UrlReport", "FindingOut", "IncompleteOut", "Problem"):
        assert name in schemas, sorted(schemas)
    assert "suppressed_by" in schemas["FindingOut"]["properties"]
    assert "host_unicode" in schemas["UrlReport"]["properties"]
    err = spec["paths"]["/v1/url-scans"]["post"]["responses"]["422"]["content"]
    assert list(err) == [PROBLEM_JSON]
    docs = await api_client.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


# --- bad input: problem+json, never a 500 ------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"url": ""}, 422, ("url", "at least 1")),
        ({"url": "   "}, 422, ("empty",)),
        ({"url": "ftp://x"}, 422, ("ftp",)),
        ({"url": "http://a b.com"}, 422, ("space",)),
        ({"url": "x" * 9000}, 422, ("url", "8192")),
        ({"url": "dichvucong.hgov.cc", "lang": "fr"}, 422, ("lang", "'vi'", "'en'")),
        ({}, 422, ("url", "required")),
        ({"url": 5}, 422, ("url", "string")),
        ({"url": "example.com", "offline": "maybe"}, 422, ("offline",)),
        ({"url": "example.com", "lnag": "en"}, 422, ("lnag",)),
        (["example.com"], 422, ("body",)),
    ],
    ids=[
        "empty", "blank", "ftp", "space-in-host", "too-long", "lang-fr", "missing-url",
        "url-not-string", "offline-not-bool", "unknown-field", "not-an-object",
    ],
)
@pytest.mark.slow
async def test_bad_scan_requests_are_problems(
    api_client: httpx.AsyncClient, body: Any, status: int, words: tuple[str, ...]
) -> None:
    r = await api_client.post(SCANS, json=body)
    problem = assert_problem(r, status, *words)
    assert problem["instance"] == SCANS


async def test_validation_problem_lists_each_field(api_client: httpx.AsyncClient) -> None:
    r = await api_client.post(SCANS, json={"url": "", "lang": "fr"})
    problem = assert_problem(r, 422, "url", "lang")
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"url", "lang"}
    for e in problem["errors"]:
        assert e["location"] == "body"
        assert e["message"] and e["type"]


async def test_invalid_url_detail_is_the_reason(api_client: httpx.AsyncClient) -> None:
    r = await api_client.post(SCANS, json={"url": "http://a b.com"})
    problem = assert_problem(r, 422)
    assert problem["detail"] == "the host contains spaces"
    assert problem["title"] == "Invalid URL"


async def test_malformed_json(api_client: httpx.AsyncClient) -> None:
    r = await api_client.post(
        SCANS, content=b'{"url": "example.com",', headers={"content-type": "application/json"}
    )
    assert_problem(r, 400, "not valid JSON")


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {},
    ],
    ids=["text-plain", "form", "none"],
)
async def test_wrong_content_type(api_client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    r = await api_client.post(SCANS, content=b'{"url": "example.com"}', headers=headers)
    assert_problem(r, 415, "application/json")


async def test_json_content_type_with_charset_is_accepted(api_client: httpx.AsyncClient) -> None:
    r = await api_client.post(
        SCANS,
        content=b'{"url": "example.com"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text


async def test_body_over_limit_with_content_length(api_client: httpx.AsyncClient) -> None:
    r = await api_client.post(SCANS, json={"url": "x" * (LIMIT + 10)})
    assert_problem(r, 413, str(LIMIT))


async def test_streamed_body_over_limit_without_content_length(
    api_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"url": "'
        for _ in range(LIMIT // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    r = await api_client.post(SCANS, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, str(LIMIT))


async def test_body_limit_comes_from_settings() -> None:
    async with running(create_app(api_settings(max_body_bytes=100))) as c:
        r = await c.post(SCANS, json={"url": "example.com/" + "a" * 200})
        assert_problem(r, 413, "100 bytes")
        ok = await c.post(SCANS, json={"url": "example.com"})
        assert ok.status_code == 200


async def test_unknown_route(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/v1/nope")
    problem = assert_problem(r, 404, "/v1/nope")
    assert problem["instance"] == "/v1/nope"


async def test_wrong_method(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get(SCANS)
    assert_problem(r, 405, "GET", "POST")
    assert "POST" in r.headers["allow"]
    r = await api_client.delete("/v1/rules")
    assert_problem(r, 405, "DELETE")


# --- server-side failures --------------------------------------------------


class _BrokenScanner:
    name = "broken"

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def scan(self, target: ParsedURL) -> list[Finding]:
        raise self.exc


async def test_data_error_is_a_503_problem() -> None:
    app = create_app(api_settings())
    app.dependency_overrides[get_scanner] = lambda: _BrokenScanner(DataError("list is corrupt"))
    async with running(app) as c:
        r = await c.post(SCANS, json={"url": "example.com"})
    body = assert_problem(r, 503)
    assert "corrupt" not in body["detail"]  # internals stay in the log


async def test_unexpected_error_is_a_500_problem(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(api_settings())
    app.dependency_overrides[get_scanner] = lambda: _BrokenScanner(RuntimeError("bug here"))
    with caplog.at_level(logging.ERROR, logger="scamscan"):
        async with running(app, raise_app_exceptions=False) as c:
            r = await c.post(SCANS, json={"url": "example.com"})
    body = assert_problem(r, 500)
    assert "bug here" not in body["detail"]
    assert any(rec.exc_info and "bug here" in str(rec.exc_info[1]) for rec in caplog.records)


# --- logging and settings -------------------------------------------------------


async def test_one_log_line_per_request_without_body(
    api_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="scamscan"):
        await api_client.post(SCANS, json={"url": "secret-marker.example.com"})
    lines = [r.getMessage() for r in caplog.records if r.name == "scamscan.api"]
    assert len(lines) == 1, lines
    assert lines[0].startswith("POST /v1/url-scans 200")
    assert "secret-marker" not in caplog.text


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAMSCAN_PORT", "9001")
    monkeypatch.setenv("SCAMSCAN_DEFAULT_LANG", "en")
    monkeypatch.setenv("SCAMSCAN_LOG_LEVEL", "debug")
    s = Settings()
    assert (s.port, s.default_lang, s.log_level) == (9001, "en", "DEBUG")
    assert s.host == "127.0.0.1" and s.max_body_bytes == 65536 and s.redis_url is None
    monkeypatch.setenv("SCAMSCAN_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="log level"):
        Settings()


def test_api_package_is_import_light() -> None:
    import subprocess
    import sys

    code = "import sys, api; print('fastapi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_blocklists_off_setting_keeps_allowlists() -> None:
    # 0088shop.com is on a bundled blocklist; with SCAMSCAN_BLOCKLISTS=off only the
    # rules and the model judge it, and official domains stay official.
    async with running(create_app(api_settings(blocklists="on"))) as c:
        on = await scan(c, url="0088shop.com", offline=True)
    assert "URL-BL-001" in {f["rule_id"] for f in on["findings"]}
    async with running(create_app(api_settings(blocklists="off"))) as c:
        off = await scan(c, url="0088shop.com", offline=True)
        official = await scan(c, url="https://dichvucong.gov.vn/", offline=True)
        fake = await scan(c, url="dichvucong.hgov.cc", offline=True)
    assert "URL-BL-001" not in {f["rule_id"] for f in off["findings"]}
    assert official["verdict"] == "official"
    assert fake["verdict"] == "dangerous"


# --- the url-scans route's own handler (no dependency solving) ----------------------

_RL = "ratelimit-remaining"


async def _chunks() -> AsyncIterator[bytes]:
    for _ in range(10):
        yield b"x" * 500


@pytest.mark.parametrize(("case", "kwargs", "status", "counted"), [
    # Read and decoded before the key is checked, as FastAPI does: not counted.
    ("chunked over the limit", {"content": _chunks,
                                "headers": {"content-type": "application/json"}}, 413, False),
    ("malformed JSON", {"content": b'{"url": ',
                        "headers": {"content-type": "application/json"}}, 400, False),
    ("not UTF-8", {"content": b'{"url":"\xff"}',
                   "headers": {"content-type": "application/json"}}, 400, False),
    ("wrong key", {"json": {"url": "a.vn"}, "headers": {"x-api-key": "nope"}}, 401, False),
    ("cross-site", {"json": {"url": "a.vn"},
                    "headers": {"origin": "http://evil.example"}}, 403, False),
    # Then the content type and the body's fields, once counted.
    ("text body", {"content": b'{"url":"a.vn"}',
                   "headers": {"content-type": "text/plain"}}, 415, True),
    ("no body", {"content": b"", "headers": {"content-type": "application/json"}}, 422, True),
    ("an array", {"json": [1]}, 422, True),
    ("an extra field", {"json": {"url": "a.vn", "x": 1}}, 422, True),
    ("NaN", {"content": b'{"url":"a.vn","offline":NaN}',
             "headers": {"content-type": "application/json"}}, 422, True),
    ("a scan", {"json": {"url": "a.vn", "lang": "en"}}, 200, True),
])
async def test_url_scan_answers_in_fastapis_order(
        case: str, kwargs: dict[str, Any], status: int, counted: bool) -> None:
    """The route's handler checks what FastAPI's dependencies did, in FastAPI's order
    (tests the answers the tree before it gave, 2026-12-05), never a 500."""
    app = create_app(api_settings(max_body_bytes=1000))
    if callable(kwargs.get("content")):
        kwargs = {**kwargs, "content": kwargs["content"]()}
    async with running(app) as c:
        r = await c.post(SCANS, **kwargs)
    assert r.status_code == status, (case, r.text)
    assert (_RL in r.headers) is counted, (case, dict(r.headers))
    assert "x-request-id" in r.headers
    if status != 200:
        assert r.headers["content-type"].startswith(PROBLEM_JSON)
        assert r.json()["status"] == status
    else:
        assert r.json()["host"] == "a.vn"


async def test_a_lone_scanner_reports_as_gathered_scanners_do() -> None:
    """run_scanners awaits a lone (offline) scanner without ``asyncio.gather``; the report
    is the gathered one's, for findings, a scanner that could not finish, and one that
    fails."""
    from scanners.base import CheckIncomplete
    from scanners.errors import ScanIncomplete
    from scanners.report import scan_url
    from scanners.url_offline import OfflineURLScanner

    class Nothing:
        """A second scanner with no finding: the list goes through ``gather``."""

        name = "nothing"

        async def scan(self, target: ParsedURL) -> list[Any]:
            return []

    offline = OfflineURLScanner()
    earlier = [CheckIncomplete("live", "not asked")]
    for url in ("dichvucong.hgov.cc", "https://vietcombank.com.vn/x?y=1", "xn--vcb-ula.vn",
                "shop123nhac.com.vn"):
        for lang in ("vi", "en"):
            assert await scan_url(url, [offline], lang, earlier) == await scan_url(
                url, [offline, Nothing()], lang, earlier)

    class Partial:
        name = "partial"

        async def scan(self, target: ParsedURL) -> list[Any]:
            found = await offline.scan(target)
            raise ScanIncomplete("domain_age", "timed out", findings=found)

    class Broken:
        name = "broken"

        async def scan(self, target: ParsedURL) -> list[Any]:
            raise RuntimeError("a bug")

    partial = await scan_url("dichvucong.hgov.cc", [Partial()], "en")
    assert partial == await scan_url("dichvucong.hgov.cc", [Partial(), Nothing()], "en")
    assert partial["incomplete"] == [{"check": "domain_age", "reason": "timed out"}]
    assert partial["findings"]
    with pytest.raises(RuntimeError, match="a bug"):
        await scan_url("a.vn", [Broken()], "vi")
