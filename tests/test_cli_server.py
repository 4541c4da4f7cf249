"""The CLI and the server agree (issue 16, item 9): one data directory, the same
analyst lists, the same offline default, and ``--server`` to scan on a running API.

The real app (ASGI lifespan, or uvicorn on 127.0.0.1 in a thread), the real
``scamscan`` in a subprocess, real SQLite files, a real ``redis-server``. The
one stand-in is the process's effective uid, to reach the non-root default
data directory from a test run as root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import api.settings as settings_mod
from api.settings import Settings, default_data_dir, legacy_data_dir_warning
from tests.console_server import ConsoleServer
from tests.live_servers_age import RedisServer
from tests.test_lists import Api, keys_for, running, settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "apk"


def cli(*args: str, data_dir: Path | None = None, cwd: Path = ROOT,
        extra: dict[str, str] | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    env = {**(extra or {}), **env}
    full = {**os.environ, "PYTHONIOENCODING": "utf-8", **env}
    if data_dir is not None:
        full["SCAMSCAN_DATA_DIR"] = str(data_dir)
    for name in ("SCAMSCAN_SERVER", "SCAMSCAN_KEY"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=full, timeout=180, check=False)


# --- the data directory ------------------------------------------------------------------


@pytest.fixture
def fresh_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No SCAMSCAN_DATA_DIR, an empty cwd and XDG_DATA_HOME, the legacy warning re-armed."""
    monkeypatch.delenv("SCAMSCAN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(settings_mod, "_warned_legacy", False)
    yield tmp_path


def test_default_data_dir_does_not_depend_on_the_current_directory(
        fresh_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:
        assert Settings().data_dir == Path("/var/lib/scamscan")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # a user, not root
    user = fresh_env / "xdg" / "scamscan"
    assert default_data_dir() == user == Settings().data_dir
    other = fresh_env / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    assert Settings().data_dir == user
    monkeypatch.setenv("SCAMSCAN_DATA_DIR", str(fresh_env / "mine"))
    assert Settings().data_dir == fresh_env / "mine"


def test_the_old_data_directory_is_kept_with_one_warning(
        fresh_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    legacy = fresh_env / "cwd" / ".scamscan-data"
    legacy.mkdir()
    (legacy / "keys-made").write_text("")
    s = Settings()
    assert s.data_dir == legacy  # the keys made there are not lost
    warning = legacy_data_dir_warning(s.data_dir)
    assert warning and str(legacy) in warning and "mv " in warning
    assert str(fresh_env / "xdg" / "scamscan") in warning
    assert legacy_data_dir_warning(s.data_dir) is None  # once per process
    # Once the new directory exists, it wins.
    (fresh_env / "xdg" / "scamscan").mkdir(parents=True)
    assert Settings().data_dir == fresh_env / "xdg" / "scamscan"


@pytest.mark.slow
def test_keys_made_by_the_cli_work_on_the_server(tmp_path: Path) -> None:
    made = cli("keys", "create", "--role", "client", "--name", "bot", "--json",
               data_dir=tmp_path / "data", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    with ConsoleServer(tmp_path / "data", keys=False) as server:
        ok = httpx.post(server.url + "/v1/url-scans", json={"url": "example.com"},
                        headers={"X-API-Key": key})
        assert ok.status_code == 200, ok.text
        wrong = httpx.post(server.url + "/v1/url-scans", json={"url": "example.com"},
                           headers={"X-API-Key": key[:-2] + "xx"})
        assert wrong.status_code == 401


# --- the same lists ------------------------------------------------------------------------


SCAM_HOST = "agree-scam.example.net"
PHONE = "0912 345 678"


async def _agree(s: Settings, env: dict[str, str]) -> None:
    keys = await keys_for(s)
    async with running(s, keys) as api:
        for kind, value in (("domain", SCAM_HOST), ("phone", PHONE),
                            ("package", "org.scamscan.fixture.notes")):
            r = await api.add(kind=kind, value=value, note="issue 16")
            assert r.status_code == 201, r.text
        via_api = await _api_scan(api, f"https://login.{SCAM_HOST}/otp")
    via_cli = cli("url", "--json", f"https://login.{SCAM_HOST}/otp", data_dir=s.data_dir,
                  extra=env)
    assert via_cli.returncode == 0, via_cli.stderr
    report = json.loads(via_cli.stdout)
    assert report == {k: v for k, v in via_api.items() if k != "scan_id"}
    hits = [f["evidence"] for f in report["findings"] if f["rule_id"] == "URL-BL-001"]
    assert hits == [{"source": "analyst: analyst-key", "entry": SCAM_HOST, "match": "domain"}]
    assert report["risk_score"] == via_api["risk_score"] >= 70

    msg = cli("message", "--json", f"Anh gọi {PHONE} để nhận tiền hoàn thuế nhé",
              data_dir=s.data_dir, extra=env)
    assert msg.returncode == 0, msg.stderr
    assert "MSG-ID-001" in {f["rule_id"] for f in json.loads(msg.stdout)["findings"]}

    apk = cli("apk", "--json", str(FIXTURES / "benign_notes.apk"), data_dir=s.data_dir, extra=env)
    assert apk.returncode == 0, apk.stderr
    bl = [f for f in json.loads(apk.stdout)["findings"] if f["rule_id"] == "APK-BL-001"]
    assert bl and bl[0]["evidence"]["match"] == "package"


async def _api_scan(api: Api, url: str) -> dict[str, Any]:
    r = await api.call("POST", "/v1/url-scans", "client", json={"url": url})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.anyio
@pytest.mark.slow
async def test_analyst_lists_score_the_same_in_the_cli_embedded(tmp_path: Path) -> None:
    await _agree(settings(tmp_path), {})


@pytest.mark.anyio
@pytest.mark.slow
async def test_analyst_lists_score_the_same_in_the_cli_redis(tmp_path: Path,
                                                             redis_server: RedisServer) -> None:
    s = settings(tmp_path, redis_url=redis_server.url)
    await _agree(s, {"SCAMSCAN_REDIS_URL": redis_server.url})
    assert not (tmp_path / "lists.sqlite3").exists()  # the lists were Redis's


@pytest.mark.slow
def test_a_scan_with_no_store_yet_writes_nothing(tmp_path: Path) -> None:
    r = cli("url", "--json", "dichvucong.hgov.cc", data_dir=tmp_path / "new")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verdict"] == "dangerous"
    assert not (tmp_path / "new").exists()


# --- the same default --------------------------------------------------------------------


@pytest.mark.slow
def test_offline_is_the_default_as_in_the_api() -> None:
    for cmd in ("url", "message"):
        out = " ".join(cli(cmd, "--help").stdout.split())
        assert "--live also the live checks" in out
        assert "no network: the default, as in the API" in out
    from api.routes.url_scans import UrlScanRequest

    assert UrlScanRequest.model_fields["offline"].default is True
    # A loopback link the live fetch would try (allowed here): offline, nothing is tried.
    r = cli("url", "--json", "http://127.0.0.1:9/login",
            SCAMSCAN_FETCH_ALLOW_NETWORKS="127.0.0.1/32")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["incomplete"] == []
    both = cli("url", "--live", "--offline", "example.com")
    assert both.returncode == 2 and "not allowed with" in both.stderr


# --- --server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    with ConsoleServer(tmp_path_factory.mktemp("server-data")) as s:
        yield s


def history(server: ConsoleServer, **params: str) -> list[dict[str, Any]]:
    r = httpx.get(server.url + "/v1/scans", params={"per_page": "100", **params},
                  headers={"X-API-Key": server.keys["admin"]})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


@pytest.mark.slow
def test_server_option_scans_land_in_the_history(server: ConsoleServer, tmp_path: Path) -> None:
    r = cli("url", "--json", "--server", server.url, "--key", server.keys["client"],
            "server-a.example.net", "ftp://x", "dichvucong.hgov.cc")
    assert r.returncode == 1, r.stderr  # one entry is not a link
    a, bad, fake = map(json.loads, r.stdout.splitlines())
    assert a["scan_id"] and a["host"] == "server-a.example.net"
    assert bad["input"] == "ftp://x" and "ftp" in bad["error"]
    assert fake["verdict"] == "dangerous"
    ids = {x["scan_id"] for x in history(server, kind="url")}
    assert {a["scan_id"], fake["scan_id"]} <= ids

    f = tmp_path / "links.txt"
    f.write_text("server-b.example.net\nserver-c.example.net\n", encoding="utf-8")
    r = cli("url", "--json", "--file", str(f), SCAMSCAN_SERVER=server.url,
            SCAMSCAN_KEY=server.keys["client"])
    assert r.returncode == 0, r.stderr
    assert "2 links" in r.stderr and "errors 0" in r.stderr
    got = [json.loads(x)["scan_id"] for x in r.stdout.splitlines()]
    assert set(got) <= {x["scan_id"] for x in history(server, kind="url")}

    m = cli("message", "--json", "--server", server.url, "--key", server.keys["client"],
            "Cán bộ công an thông báo tải ứng dụng tại dichvucong-gov[.]com")
    assert m.returncode == 0, m.stderr
    check = json.loads(m.stdout)
    assert check["verdict"] == "dangerous"
    assert check["check_id"] in {x["scan_id"] for x in history(server, kind="message")}

    app = cli("apk", "--json", "--server", server.url, "--key", server.keys["client"],
              str(FIXTURES / "fake_dichvucong.apk"), str(FIXTURES / "not_zip.apk"))
    assert app.returncode == 1, app.stderr
    good, refused = map(json.loads, app.stdout.splitlines())
    assert good["verdict"] == "dangerous" and good["scan_id"]
    assert refused["error"] and refused["input"].endswith("not_zip.apk")
    assert good["scan_id"] in {x["scan_id"] for x in history(server, kind="apk")}


@pytest.mark.slow
def test_server_errors_are_clear_messages(server: ConsoleServer) -> None:
    r = cli("url", "--server", server.url, "--key", "sk_wrong", "example.com")
    assert r.returncode == 1
    assert "401" in r.stderr and "Traceback" not in r.stderr and r.stdout == ""
    too_long = cli("message", "--server", server.url, "--key", server.keys["client"],
                       "x" * 20_000)
    assert too_long.returncode == 2 and "longer than" in too_long.stderr
    down = cli("url", "--server", "http://127.0.0.1:9", "example.com")
    assert down.returncode == 1 and "cannot reach the server" in down.stderr
    assert cli("url", "--server", "ftp://x", "example.com").returncode == 2
    assert cli("url", "--key", "k", "example.com").returncode == 2
