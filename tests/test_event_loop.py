"""``SCAMSCAN_EVENT_LOOP``: the event loop ``scamscan serve`` runs on.

Real ``scamscan serve`` subprocesses on free loopback ports: the start-up line
names the loop that runs (``asyncio`` unless the setting says ``uvloop``), a link
scan is answered on each, and a value that is no loop is a usage error, not a
traceback. Why ``asyncio`` is the default is measured in docs/evaluation.md
("Service load": uvloop's p99 at concurrency 50).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from api.cli_common import EXIT_USAGE
from api.settings import Settings
from tests.test_cli import run
from tests.test_security_http import Served


def _ready_line(tmp: Path, **env: str) -> str:
    """The start-up line of a server run with ``env``, after one offline link scan."""
    with Served(tmp, SCAMSCAN_LOG_LEVEL="INFO", **env) as server:
        r = httpx.post(server.url + "/v1/url-scans",
                       json={"url": "vietcombank-chamsoc.top", "offline": True}, timeout=30)
        assert r.status_code == 200
        assert r.json()["verdict"] in ("suspicious", "dangerous")
        server.proc.terminate()
        server.proc.wait(timeout=15)
        assert server.proc.stderr is not None
        err = server.proc.stderr.read().decode()
    # uvicorn's own lines are plain text; scamscan's are JSON objects.
    ready = [m for line in err.splitlines() if line.startswith("{")
             and "ready:" in (m := str(json.loads(line).get("message", "")))]
    assert len(ready) == 1, err[-2000:]
    return ready[0]


def test_the_default_is_asyncio() -> None:
    assert Settings.model_fields["event_loop"].default == "asyncio"


@pytest.mark.slow
def test_serve_runs_on_asyncio_by_default(tmp_path: Path) -> None:
    assert _ready_line(tmp_path).endswith(", asyncio event loop")


@pytest.mark.slow
def test_serve_runs_on_uvloop_when_set(tmp_path: Path) -> None:
    assert _ready_line(tmp_path, SCAMSCAN_EVENT_LOOP="uvloop").endswith(", uvloop event loop")


def test_a_bad_event_loop_is_a_usage_error() -> None:
    p = run("serve", "--port", "1", env=("SCAMSCAN_EVENT_LOOP=trio",))
    assert p.returncode == EXIT_USAGE
    err = p.stderr.decode()
    assert "SCAMSCAN_EVENT_LOOP" in err and "Traceback" not in err
