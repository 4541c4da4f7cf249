"""``POST /v1/message-checks`` end to end (ASGI, lifespan entered) and ``scamscan message``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli import EXIT_OK, EXIT_SOME_INVALID, EXIT_USAGE
from api.main import create_app
from scanners.message import MAX_TEXT_CHARS
from tests.asgi import running
from tests.test_api import api_settings, assert_problem

pytestmark = pytest.mark.anyio

CHECKS = "/v1/message-checks"
ROOT = Path(__file__).resolve().parent.parent
SCAM = ("Cán bộ công an phường thông báo tài khoản định danh mức 2 của bạn chưa được cập "
        "nhật, vui lòng tải ứng dụng tại dichvucong-gov[.]com")
REPORT_KEYS = {"check_id", "characters", "risk_score", "verdict", "reply", "reasons",
               "findings", "items", "script_signals", "incomplete", "scam_type", "headline",
               "steps", "if_already", "hotlines"}
REPLY_FIELDS = {"scam_type", "headline", "steps", "if_already", "hotlines", "reply"}



@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(api_settings()), raise_app_exceptions=False) as c:
        yield c


async def post_raw(c: httpx.AsyncClient, body: Any) -> httpx.Response:
    # json.dumps escapes lone surrogates, which httpx's json= cannot encode.
    return await c.post(CHECKS, content=json.dumps(body),
                        headers={"content-type": "application/json"})


async def test_scam_message_in_vietnamese(client: httpx.AsyncClient) -> None:
    r = await client.post(CHECKS, json={"text": SCAM, "lang": "vi", "offline": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == REPORT_KEYS
    assert body["verdict"] == "dangerous" and body["risk_score"] == 100
    assert body["reply"].startswith("Cảnh báo") and "113" in body["reply"]
    assert body["scam_type"] == "vneid"
    assert body["hotlines"] == [{"name": "Công an (khẩn cấp)", "number": "113"}]
    assert body["reply"].startswith(body["headline"]) and len(body["reply"].split()) <= 80
    assert 1 <= len(body["steps"]) <= 3 and body["if_already"]
    kinds = [i["kind"] for i in body["items"]]
    assert kinds == ["link"]
    assert body["items"][0]["host"] == "dichvucong-gov.com"
    for s in body["script_signals"]:
        assert SCAM[s["start"]:s["end"]] == s["text"]
    assert {"MSG-COMBO-001", "MSG-LINK-001"} <= {f["rule_id"] for f in body["findings"]}


async def test_default_language_and_english(client: httpx.AsyncClient) -> None:
    r = await client.post(CHECKS, json={"text": SCAM})
    assert r.status_code == 200 and r.json()["reply"].startswith("Cảnh báo")
    r = await client.post(CHECKS, json={"text": SCAM, "lang": "en"})
    assert r.status_code == 200
    assert r.json()["reply"].startswith("Warning: this is a fake VNeID or public-service scam")
    assert r.json()["findings"][0]["title"] == "Contains a dangerous link"


async def test_benign_message_is_calm(client: httpx.AsyncClient) -> None:
    text = "Mã OTP của Quý khách là 739201. Không chia sẻ mã OTP này cho bất kỳ ai. Gọi 1900 545413"
    r = await client.post(CHECKS, json={"text": text, "lang": "vi"})
    assert r.status_code == 200
    body = r.json()
    assert body["verdict"] == "no_known_risk"
    assert [i["kind"] for i in body["items"]] == ["phone"]
    assert all(not s["counted"] for s in body["script_signals"])


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"text": ""}, "text", ("at least 1 character",)),
    ({"text": " \n\t\u0000 "}, "text", ("empty",)),
    ({"text": "a" * (MAX_TEXT_CHARS + 1)}, "text", ("at most 10000",)),
    ({"text": 5}, "text", ("valid string",)),
    ({"text": ["a"]}, "text", ("valid string",)),
    ({"text": "hi", "lang": "fr"}, "lang", ("'vi' or 'en'",)),
    ({"text": "hi", "offline": "yes"}, "offline", ("boolean",)),
    ({"text": "hi", "url": "x"}, "url", ("Extra inputs",)),
    ({}, "text", ("Field required",)),
])
@pytest.mark.slow
async def test_invalid_requests_are_422(client: httpx.AsyncClient, body: dict[str, Any],
                                        field: str, words: tuple[str, ...]) -> None:
    r = await post_raw(client, body)
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["field"] == field
    for w in words:
        assert w in problem["detail"], problem["detail"]


async def test_longest_text_is_accepted(client: httpx.AsyncClient) -> None:
    text = ("Cán bộ công an yêu cầu tải ứng dụng tại vneid-gov[.]top, gọi 0866130113. " * 200)
    text = text[:MAX_TEXT_CHARS]
    r = await client.post(CHECKS, json={"text": text})
    assert r.status_code == 200, r.text
    assert r.json()["characters"] == MAX_TEXT_CHARS


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    r = await client.post(CHECKS, content=json.dumps({"text": "\u1ea1" * 12000}),
                          headers={"content-type": "application/json"})
    assert_problem(r, 413)


@pytest.mark.slow
async def test_malformed_and_non_json_bodies(client: httpx.AsyncClient) -> None:
    r = await client.post(CHECKS, content=b'{"text": "\xff\xfe"}',
                          headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith(
        "application/problem+json")
    r = await client.post(CHECKS, content=b'{"text": ', headers={"content-type":
                                                                  "application/json"})
    assert_problem(r, 400)
    r = await client.post(CHECKS, content=b"text=hello",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert_problem(r, 415)


@pytest.mark.parametrize("text", [
    "\u0000\u0001\u00ff\u00fe binary \u001b[0m junk \u007f\ufffd",
    "\ud83d\ude00 Привет 你好 مرحبا שלום vneid-gov.top ok",
    "\u202e\u200b\u200b\u0301\u0301",
    "\ud800\udc00" * 10,
    "[.]" * 3000,
])
async def test_junk_and_mixed_scripts_never_500(client: httpx.AsyncClient, text: str) -> None:
    r = await post_raw(client, {"text": text, "lang": "en"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        body = r.json()
        assert body["verdict"] in ("no_known_risk", "suspicious", "dangerous")
        assert body["reply"]


async def test_lone_surrogate_is_a_clear_422(client: httpx.AsyncClient) -> None:
    r = await client.post(CHECKS, content='{"text": "abc \\ud800 def"}',
                          headers={"content-type": "application/json"})
    assert_problem(r, 422)


async def test_openapi_documents_the_route(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    op = schema["paths"][CHECKS]["post"]
    assert "200" in op["responses"] and "422" in op["responses"]


# --- the command line -----------------------------------------------------------------------


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "api.cli", "message", *args], input=stdin,
                          capture_output=True, cwd=ROOT, env=env, timeout=120, check=False)


def test_cli_json_from_argument() -> None:
    p = run("--offline", "--json", "--lang", "en", SCAM)
    assert p.returncode == EXIT_OK, p.stderr
    report = json.loads(p.stdout)
    assert report["verdict"] == "dangerous"
    assert report["reply"].startswith("Warning")
    assert set(report) == REPORT_KEYS - {"check_id"}


def test_cli_reads_stdin_and_prints_the_reply() -> None:
    p = run("--offline", "-", stdin=SCAM.encode("utf-8") + b"\n")
    assert p.returncode == EXIT_OK, p.stderr
    out = p.stdout.decode("utf-8")
    assert out.startswith("Cảnh báo: đây là lừa đảo giả VNeID")
    assert "NGUY HIỂM (100/100)" in out and "MSG-COMBO-001" in out
    assert "dichvucong-gov[.]com" in out


def test_cli_calm_message() -> None:
    p = run("--offline", "--json", "Mẹ ơi xem video https://www.youtube.com/watch?v=1 nha")
    assert p.returncode == EXIT_OK
    assert json.loads(p.stdout)["verdict"] == "no_known_risk"


@pytest.mark.parametrize(("args", "stdin"), [
    (("--offline", ""), b""),
    (("--offline", "   "), b""),
    (("--offline", "-"), b""),
    (("--offline", "-"), b"\x00\x00\n"),
    (("--offline", "-"), b"a" * (MAX_TEXT_CHARS + 1)),
    (("--offline", "--lang", "fr", "hi"), b""),
    (("--offline",), b""),
])
@pytest.mark.slow
def test_cli_usage_errors_exit_2(args: tuple[str, ...], stdin: bytes) -> None:
    p = run(*args, stdin=stdin)
    assert p.returncode == EXIT_USAGE, (p.stdout, p.stderr)
    assert b"error" in p.stderr


def test_cli_binary_stdin_cannot_be_checked() -> None:
    p = run("--offline", "-", stdin=b"\xff\xfe\x00\x81junk")
    assert p.returncode == EXIT_SOME_INVALID
    assert b"not valid UTF-8" in p.stderr


async def test_reply_fields_are_in_the_openapi_schema(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    report = schema["components"]["schemas"]["MessageReport"]
    assert set(report["required"]) >= REPLY_FIELDS
    props = report["properties"]
    assert props["steps"]["maxItems"] == 3
    assert props["hotlines"]["items"]["$ref"].endswith("/HotlineOut")
    assert "police_impersonation" in props["scam_type"]["description"]
    assert set(schema["components"]["schemas"]["HotlineOut"]["required"]) == {"name", "number"}


async def test_message_is_never_calmer_than_its_link(client: httpx.AsyncClient) -> None:
    text = "Anh xem giúp em cái này vietcombank-xacthuc.top nhé"
    link = await client.post("/v1/url-scans",
                             json={"url": "vietcombank-xacthuc.top", "offline": True})
    msg = await client.post(CHECKS, json={"text": text})
    assert link.status_code == 200 and msg.status_code == 200, (link.text, msg.text)
    assert msg.json()["risk_score"] >= link.json()["risk_score"] > 0
