"""What a command loads before its first answer, and settings that fail when they load.

An offline link scan on a machine where no store was ever written must not import
the HTTP client or Redis's: they were most of its start-up (issue 11: start-up
under 1 s). Timing is for ``bench/url_throughput.py``; here the imports themselves
are checked, which do not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli_common import EXIT_USAGE
from api.storage.factory import open_list_store
from scanners.lists import ListEntry, new_entry_id
from tests.test_cli import ROOT, run

_PROBE = """
import json, runpy, sys
sys.argv = ["scamscan", *json.loads(sys.argv[1])]
try:
    runpy.run_module("api.cli", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
heavy = ("httpx", "redis", "api.storage.factory", "api.services.lists", "scanners.fetch")
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}),
      file=sys.stderr)
"""


def _loaded(args: list[str], data_dir: Path) -> tuple[int, list[str], str]:
    env = {"PATH": "/usr/bin:/bin", "SCAMSCAN_DATA_DIR": str(data_dir),
           "PYTHONIOENCODING": "utf-8"}
    p = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True,
                       cwd=ROOT, env=env, timeout=60, check=False, text=True)
    last = p.stderr.strip().splitlines()[-1]
    got = json.loads(last)
    return got["code"], got["loaded"], p.stdout


def test_an_offline_scan_loads_neither_http_client_nor_redis(tmp_path: Path) -> None:
    code, loaded, out = _loaded(["url", "--offline", "--json", "vietcombank-chamsoc.top"],
                                tmp_path / "data")
    assert code == 0
    assert json.loads(out)["verdict"] in ("suspicious", "dangerous")
    assert loaded == []


def test_an_offline_scan_still_reads_the_analyst_lists(tmp_path: Path) -> None:
    # The short cut is only for a data directory with no list store: once an analyst
    # has listed a name, the offline scan opens the store and the entry counts.
    data = tmp_path / "data"
    data.mkdir()
    store = open_list_store(data, None)
    entry = ListEntry(new_entry_id(), "domain", "block", "example-listed.com")
    asyncio.run(store.add_entry(entry, 100))
    code, loaded, out = _loaded(["url", "--offline", "--json", "example-listed.com"], data)
    assert code == 0
    assert "api.services.lists" in loaded
    report = json.loads(out)
    assert report["verdict"] == "dangerous"
    assert any(f["evidence"].get("entry") == "example-listed.com" for f in report["findings"])


@pytest.mark.parametrize("name", ["SCAMSCAN_FETCH_ALLOW_NETWORKS",
                                  "SCAMSCAN_WEBHOOK_ALLOW_NETWORKS"])
def test_a_network_with_host_bits_is_a_usage_error_at_load(name: str) -> None:
    # The fetcher refuses host bits (a typo that widens what may be fetched); the
    # settings used to accept them, and the server then failed in its lifespan.
    p = run("serve", "--port", "1", env=(f"{name}=127.0.0.1/8",))
    assert p.returncode == EXIT_USAGE
    err = p.stderr.decode()
    assert name in err and "host bits" in err and "Traceback" not in err
