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
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api import observability
from api.main import create_app
from api.problems import PROBLEM_JSON
from api.settings import Settings

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


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


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


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the ``scamscan`` loggers write through the JSON formatter."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(observability.json_formatter())
    logger = logging.getLogger("scamscan")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield buf
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def json_lines(buf: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


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
