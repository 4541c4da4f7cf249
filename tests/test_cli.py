"""The ``scamscan`` command line, run for real in a subprocess (nothing mocked)."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.cli import EXIT_OK, EXIT_SOME_INVALID, EXIT_USAGE, MAX_LINE_BYTES
from scanners import rules

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = {"input", "url", "host", "host_unicode", "registrable_domain", "risk_score",
            "verdict", "reasons", "findings", "incomplete"}
FINDING = {"rule_id", "points", "severity", "title", "evidence"}
VERDICTS = {"official", "no_known_risk", "suspicious", "dangerous"}


Proc = subprocess.CompletedProcess[bytes]


def run(*args: str, stdin: bytes | None = None, timeout: float = 60,
        env: tuple[str, ...] = ()) -> Proc:
    """Run ``python -m api.cli ARGS``; ``env`` adds NAME=VALUE settings."""
    extra = dict(e.split("=", 1) for e in env)
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **extra}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=ROOT,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def json_lines(out: bytes) -> list[dict[str, Any]]:
    lines = out.decode("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def check_report(r: dict[str, Any]) -> None:
    assert set(r) == CONTRACT
    assert isinstance(r["input"], str)
    assert r["url"].startswith(("http://", "https://"))
    assert isinstance(r["risk_score"], int) and 0 <= r["risk_score"] <= 100
    assert r["verdict"] in VERDICTS
    assert isinstance(r["reasons"], list)
    assert all(isinstance(x, str) for x in r["reasons"])
    for f in r["findings"]:
        assert FINDING <= set(f) <= FINDING | {"suppressed_by"}
        assert f["rule_id"] in rules.CATALOGUE
        assert isinstance(f["points"], int)
        assert isinstance(f["evidence"], dict)
    assert isinstance(r["incomplete"], list)


# --------------------------------------------------------------------------
# url, arguments
# --------------------------------------------------------------------------


def test_url_json_contract() -> None:
    inputs = ["dichvucong.hgov.cc", "https://dichvucong.gov.vn/", "bộcôngan.vn",
              "hxxps://vietcombank-xacthuc[.]top/login"]
    p = run("url", "--offline", "--json", *inputs)
    assert p.returncode == EXIT_OK, p.stderr
    assert p.stderr == b""
    reports = json_lines(p.stdout)
    assert [r["input"] for r in reports] == inputs
    for r in reports:
        check_report(r)
        assert r["incomplete"] == []

    fake, real, idn, _ = reports
    assert fake["host"] == "dichvucong.hgov.cc"
    assert fake["registrable_domain"] == "hgov.cc"
    assert fake["verdict"] in ("dangerous", "suspicious")
    assert any(f["rule_id"].startswith("URL-GOV") for f in fake["findings"])
    assert fake["risk_score"] == min(100, sum(f["points"] for f in fake["findings"]
                                              if "suppressed_by" not in f))

    assert real["verdict"] == "official"
    assert real["risk_score"] == 0
    assert real["url"] == "https://dichvucong.gov.vn/"

    assert idn["host"] == "xn--bcngan-jxa6332d.vn"
    assert idn["host_unicode"] == "bộcôngan.vn"


@pytest.mark.slow
def test_lang_en_and_vi_titles() -> None:
    vi = json_lines(run("url", "--offline", "--json", "dichvucong.hgov.cc").stdout)[0]
    vi2 = json_lines(run("url", "--offline", "--json", "--lang", "vi",
                         "dichvucong.hgov.cc").stdout)[0]
    en = json_lines(run("url", "--offline", "--json", "--lang", "en",
                        "dichvucong.hgov.cc").stdout)[0]
    assert vi == vi2
    assert [f["rule_id"] for f in vi["findings"]] == [f["rule_id"] for f in en["findings"]]
    assert vi["findings"], "expected findings for a known fake"
    for fv, fe in zip(vi["findings"], en["findings"], strict=True):
        rule = rules.CATALOGUE[fv["rule_id"]]
        assert fv["title"] == rule.title_vi
        assert fe["title"] == rule.title_en
        assert fv["title"] != fe["title"]
    assert vi["reasons"] != en["reasons"]
    assert set(en["reasons"]) <= {rules.CATALOGUE[f["rule_id"]].title_en
                                  for f in en["findings"]}
    # Everything but the language is the same.
    assert {k: v for k, v in vi.items() if k not in ("reasons", "findings")} == {
        k: v for k, v in en.items() if k not in ("reasons", "findings")}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connections to it are refused


# A loopback address (allowed for this test) on a closed port: the live fetch
# cannot complete, fails fast, and nothing leaves the machine (an IP literal
# needs no DNS; an IP host has no domain age to look up).
UNREACHABLE = f"http://127.0.0.1:{_closed_port()}/dang-nhap"
LIVE_ENV = ("SCAMSCAN_FETCH_ALLOW_NETWORKS=127.0.0.1/32", "SCAMSCAN_FETCH_TOTAL_TIMEOUT=5",
            "SCAMSCAN_FETCH_HOP_TIMEOUT=3")


def test_online_mode_reports_the_live_check_as_incomplete() -> None:
    p = run("url", "--live", "--json", UNREACHABLE, env=LIVE_ENV)
    assert p.returncode == EXIT_OK, p.stderr
    (r,) = json_lines(p.stdout)
    check_report(r)
    checks = [i["check"] for i in r["incomplete"]]
    assert any(c.startswith("live") for c in checks), checks
    for i in r["incomplete"]:
        assert set(i) >= {"check", "reason"}
        assert i["check"] and i["reason"]
    (off,) = json_lines(run("url", "--offline", "--json", UNREACHABLE).stdout)
    assert off["incomplete"] == []
    assert {k: v for k, v in off.items() if k != "incomplete"} == {
        k: v for k, v in r.items() if k != "incomplete"}


def test_invalid_argument_gets_an_error_line_and_exit_1() -> None:
    p = run("url", "--offline", "--json", "example.com", "ftp://x", "https://dichvucong.gov.vn/")
    assert p.returncode == EXIT_SOME_INVALID
    a, b, c = json_lines(p.stdout)
    check_report(a)
    assert b == {"input": "ftp://x", "error": b["error"]}
    assert "ftp" in b["error"]
    check_report(c)


@pytest.mark.slow
def test_human_output() -> None:
    p = run("url", "--offline", "--lang", "en", "dichvucong.hgov.cc",
            "https://dichvucong.gov.vn/", "ftp://x")
    assert p.returncode == EXIT_SOME_INVALID
    out = p.stdout.decode("utf-8")
    assert "DANGEROUS" in out or "SUSPICIOUS" in out
    assert "OFFICIAL" in out
    assert "URL-GOV-001" in out
    assert "URL-OFF-001" in out
    assert "cannot parse" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.splitlines()[0])

    vi = run("url", "--offline", "https://dichvucong.gov.vn/").stdout.decode("utf-8")
    assert "CHÍNH THỨC" in vi
    assert "URL-OFF-001" in vi
    assert "! live" not in vi
    online = run("url", "--live", UNREACHABLE, env=LIVE_ENV).stdout.decode("utf-8")
    assert "! live" in online


# --------------------------------------------------------------------------
# url --file
# --------------------------------------------------------------------------

FILE_LINES: list[bytes] = [
    b"dichvucong.hgov.cc",
    b"ftp://x",
    b"",
    b"https://dichvucong.gov.vn/",
    b"\xff\xfeexample.com",
    b"x" * (MAX_LINE_BYTES + 10),
    b"  hxxps://example[.]com/a  \r",
    b"example.org",
]


SUMMARY = re.compile(r"^scamscan: (\d+) links in [0-9.]+ s \((\d+) links/s\): dangerous (\d+), "
                     r"suspicious (\d+), no_known_risk (\d+), official (\d+); errors (\d+)$")


def summary_of(stderr: bytes) -> dict[str, int]:
    """The summary line that ends a ``--file`` run: stderr holds nothing else."""
    m = SUMMARY.match(stderr.decode("utf-8").rstrip("\n"))
    assert m, stderr
    keys = ("links", "rate", "dangerous", "suspicious", "no_known_risk", "official", "errors")
    return dict(zip(keys, map(int, m.groups()), strict=True))


def _check_file_output(out: bytes) -> None:
    reports = json_lines(out)
    assert len(reports) == len(FILE_LINES)
    ok = [0, 3, 6, 7]
    for i, r in enumerate(reports):
        if i in ok:
            check_report(r)
        else:
            assert set(r) == {"input", "error"}
            assert r["error"]
    assert reports[0]["input"] == "dichvucong.hgov.cc"
    assert reports[1]["input"] == "ftp://x"
    assert reports[2]["input"] == ""
    assert reports[3]["verdict"] == "official"
    assert "UTF-8" in reports[4]["error"]
    assert str(MAX_LINE_BYTES) in reports[5]["error"]
    assert len(reports[5]["input"]) < 100  # the long line is not echoed back
    assert reports[6]["url"] == "https://example.com/a"
    assert reports[7]["host"] == "example.org"


@pytest.mark.parametrize("final_newline", [True, False])
def test_file_path(tmp_path: Path, final_newline: bool) -> None:
    f = tmp_path / "in.txt"
    f.write_bytes(b"\n".join(FILE_LINES) + (b"\n" if final_newline else b""))
    p = run("url", "--offline", "--json", "--file", str(f))
    assert p.returncode == EXIT_SOME_INVALID
    summary = summary_of(p.stderr)
    assert (summary["links"], summary["errors"], summary["official"]) == (8, 4, 1)
    assert summary["dangerous"] + summary["suspicious"] == 1
    _check_file_output(p.stdout)


def test_file_stdin() -> None:
    p = run("url", "--offline", "--json", "--file", "-", stdin=b"\n".join(FILE_LINES) + b"\n")
    assert p.returncode == EXIT_SOME_INVALID
    assert summary_of(p.stderr)["links"] == len(FILE_LINES)
    _check_file_output(p.stdout)
    quiet = run("url", "--json", "-q", "--file", "-", stdin=b"\n".join(FILE_LINES) + b"\n")
    assert quiet.stderr == b"" and quiet.stdout == p.stdout


def test_file_all_valid_exit_0_and_clean_stderr(tmp_path: Path) -> None:
    inputs = ["example.com", "https://dichvucong.gov.vn/", "dichvucong[.]hgov[.]cc",
              "http://3232235777/", "bộcôngan.vn"]
    f = tmp_path / "ok.txt"
    f.write_text("\r\n".join(inputs) + "\r\n", encoding="utf-8")
    p = run("url", "--offline", "--json", "--file", str(f))
    assert p.returncode == EXIT_OK
    # No progress bar when stderr is not a terminal: only the summary.
    assert summary_of(p.stderr)["links"] == len(inputs)
    reports = json_lines(p.stdout)
    assert [r["input"] for r in reports] == inputs
    for r in reports:
        check_report(r)
    assert reports[2]["host"] == "dichvucong.hgov.cc"
    assert reports[3]["host"] == "192.168.1.1"


def test_file_empty_input() -> None:
    p = run("url", "--offline", "--json", "--file", "-", stdin=b"")
    assert p.returncode == EXIT_OK
    assert p.stdout == b""
    assert summary_of(p.stderr)["links"] == 0


def test_file_human_output(tmp_path: Path) -> None:
    f = tmp_path / "in.txt"
    f.write_bytes(b"dichvucong.hgov.cc\nftp://x\n")
    p = run("url", "--offline", "--lang", "en", "--file", str(f))
    assert p.returncode == EXIT_SOME_INVALID
    out = p.stdout.decode("utf-8")
    assert out.index("dichvucong.hgov.cc") < out.index("ftp://x")
    assert "URL-GOV-001" in out
    assert "cannot parse" in out


# --------------------------------------------------------------------------
# usage errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("url",),
        ("url", "--offline", "--json"),
        ("url", "example.com", "--file", "-"),
        ("url", "--file", "/nonexistent/dir/in.txt"),
        ("url", "--file", "."),
        ("url", "--lang", "fr", "example.com"),
        ("frobnicate",),
        (),
        ("serve", "--port", "abc"),
    ],
    ids=["no-url", "no-url-flags", "urls-and-file", "missing-file", "directory", "bad-lang",
         "unknown-command", "no-command", "bad-port"],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    p = run(*args)
    assert p.returncode == EXIT_USAGE
    assert p.stdout == b""
    err = p.stderr.decode("utf-8")
    assert "error" in err
    assert "Traceback" not in err


def test_usage_error_names_the_file() -> None:
    p = run("url", "--file", "/nonexistent/dir/in.txt")
    assert b"/nonexistent/dir/in.txt" in p.stderr


# --------------------------------------------------------------------------
# rules, serve
# --------------------------------------------------------------------------


def test_rules_markdown() -> None:
    p = run("rules")
    assert p.returncode == EXIT_OK
    out = p.stdout.decode("utf-8")
    assert out == rules.markdown()
    assert out == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_rules_json() -> None:
    p = run("rules", "--json")
    assert p.returncode == EXIT_OK
    data = json.loads(p.stdout)
    assert [r["id"] for r in data] == list(rules.CATALOGUE)
    for r in data:
        rule = rules.CATALOGUE[r["id"]]
        assert r["points"] == rule.points
        assert r["severity"] == rule.severity.value
        assert r["title_vi"] == rule.title_vi
        assert r["title_en"] == rule.title_en


def test_help() -> None:
    p = run("--help")
    assert p.returncode == EXIT_OK
    for cmd in (b"url", b"rules", b"serve"):
        assert cmd in p.stdout


def test_serve_help() -> None:
    p = run("serve", "--help")
    assert p.returncode == EXIT_OK
    assert b"--host" in p.stdout
    assert b"--port" in p.stdout


# --------------------------------------------------------------------------
# memory bound
# --------------------------------------------------------------------------

N_HOSTS = 200_000
MAX_RSS_MB = 400

# Runs the CLI as its only child, so RUSAGE_CHILDREN is the CLI's peak RSS alone.
_MEASURE = """
import resource, subprocess, sys
with open(sys.argv[1], "rb") as fin, open(sys.argv[2], "wb") as fout:
    rc = subprocess.run([sys.executable, "-m", "api.cli", "url", "--offline", "--json",
                         "--file", "-"], stdin=fin, stdout=fout, check=False).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kilobytes on Linux only")
@pytest.mark.slow
def test_memory_stays_bounded_on_a_large_stream(tmp_path: Path) -> None:
    src = tmp_path / "hosts.txt"
    dst = tmp_path / "out.jsonl"
    with src.open("w", encoding="utf-8") as f:
        for i in range(N_HOSTS):
            if i % 3:
                f.write(f"host{i}.shop{i % 977}.vn\n")
            else:
                f.write(f"https://login-{i}.example{i % 13}.top/p?i={i}\n")
    p = subprocess.run([sys.executable, "-c", _MEASURE, str(src), str(dst)],
                       capture_output=True, cwd=ROOT, timeout=180, check=False)
    assert p.returncode == 0, p.stderr
    rc_s, maxrss_s = p.stdout.decode().split()
    assert int(rc_s) == EXIT_OK
    maxrss_mb = int(maxrss_s) / 1024  # kilobytes on Linux
    assert maxrss_mb < MAX_RSS_MB, f"peak RSS {maxrss_mb:.0f} MB"
    n = 0
    last = b""
    with dst.open("rb") as f:
        for line in f:
            n += 1
            last = line
    assert n == N_HOSTS
    assert json.loads(last)["input"] == f"host{N_HOSTS - 1}.shop{(N_HOSTS - 1) % 977}.vn"


def test_url_no_blocklists_flag_and_setting() -> None:
    listed = "0088shop.com"  # on a bundled blocklist
    p = run("url", "--offline", "--json", listed, "https://dichvucong.gov.vn/")
    assert p.returncode == EXIT_OK, p.stderr
    with_lists, official = json_lines(p.stdout)
    assert "URL-BL-001" in {f["rule_id"] for f in with_lists["findings"]}
    for args, env in ((("--no-blocklists",), ()), ((), ("SCAMSCAN_BLOCKLISTS=off",))):
        p = run("url", "--offline", "--json", *args, listed, "https://dichvucong.gov.vn/",
                env=env)
        assert p.returncode == EXIT_OK, p.stderr
        bare, still_official = json_lines(p.stdout)
        check_report(bare)
        assert "URL-BL-001" not in {f["rule_id"] for f in bare["findings"]}
        assert still_official["verdict"] == official["verdict"] == "official"


def test_url_no_blocklists_setting_must_be_on_or_off() -> None:
    p = run("url", "--offline", "example.com", env=("SCAMSCAN_BLOCKLISTS=maybe",))
    assert p.returncode == 2
    assert b"SCAMSCAN_BLOCKLISTS" in p.stderr or b"blocklists" in p.stderr


@pytest.mark.slow
def test_progress_bar_counts_links_on_a_terminal(tmp_path: Path) -> None:
    """stderr a terminal (a pty): a bar in links (3 of 3), then the summary; stdout clean."""
    import fcntl
    import pty
    import struct
    import termios

    f = tmp_path / "in.txt"
    f.write_bytes(b"a.example.vn\nb.example.vn\nftp://x\n")
    master, slave = pty.openpty()
    # A terminal of 24 rows and 100 columns, as a user's would be.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "url", "--json", "--file", str(f)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, cwd=ROOT,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        os.close(slave)
        out, _ = proc.communicate(timeout=120)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    assert proc.returncode == EXIT_SOME_INVALID
    assert [r["input"] for r in json_lines(out)] == ["a.example.vn", "b.example.vn", "ftp://x"]
    err = b"".join(chunks).decode("utf-8", "replace")
    assert "3/3" in err and "links" in err, err
    assert "B/s" not in err and "kB" not in err  # not bytes
    assert "scamscan: 3 links in" in err and "errors 1" in err


def test_a_scan_with_the_servers_lists_does_not_load_the_web_framework(tmp_path: Path) -> None:
    # The CLI reads the server's list store, but a scan must not pay for FastAPI
    # (start-up time of every `scamscan url`; bench/url_throughput.py).
    env = (f"SCAMSCAN_DATA_DIR={tmp_path}",)
    assert run("feeds", "status", env=env).returncode in (0, 1)
    from api.storage.files import LISTS_FILE
    assert (tmp_path / LISTS_FILE).is_file()
    probe = ("import sys\nfrom api.cli import main\n"
             "code = main(['url', '--json', 'vietcombank-uudai.com'])\n"
             "print('fastapi' in sys.modules, file=sys.stderr)\nsys.exit(code)\n")
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, cwd=ROOT,
                       env={**os.environ, "SCAMSCAN_DATA_DIR": str(tmp_path)},
                       timeout=60, check=False)
    assert p.returncode == EXIT_OK, p.stderr
    assert json_lines(p.stdout)[0]["host"] == "vietcombank-uudai.com"
    assert p.stderr.decode().strip().splitlines()[-1] == "False"


class _Recorder(io.BytesIO):
    """An output that keeps every write apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> int:
        self.writes.append(bytes(data))
        return super().write(data)


def test_a_files_reports_are_written_a_chunk_at_a_time_all_in_order() -> None:
    import asyncio

    from api.cli_scan import OUT_CHUNK, _emit

    reports: list[Any] = [{"input": f"host{i}.example", "verdict": "no_known_risk",
                           "pad": "x" * 200} for i in range(2000)]
    seen_before_live: list[int] = []

    async def live() -> dict[str, Any]:
        # Everything made before a live scan is out before it is awaited.
        seen_before_live.append(b"".join(out.writes).count(b"\n"))
        return {"input": "live.example", "verdict": "dangerous"}

    items: list[Any] = [*reports[:700], live(), *reports[700:]]
    out = _Recorder()
    status = asyncio.run(_emit(iter(items), out, as_json=True, lang="en", progress=None,
                               summary=None, chunk=OUT_CHUNK))
    assert status == EXIT_OK
    lines = b"".join(out.writes).splitlines()
    assert [json.loads(x)["input"] for x in lines] == (
        [r["input"] for r in reports[:700]] + ["live.example"]
        + [r["input"] for r in reports[700:]])
    assert seen_before_live == [700]
    assert 3 < len(out.writes) < 20  # ~450 KB in 64 KiB writes, not 2,001 writes
    assert all(len(w) < OUT_CHUNK + 1024 for w in out.writes)

    # Links given one by one (arguments, stdin): each report is written when made.
    out = _Recorder()
    asyncio.run(_emit(iter(reports[:5]), out, as_json=True, lang="en", progress=None,
                      summary=None))
    assert len(out.writes) == 5


def test_a_files_links_run_with_a_slower_collector_restored_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline batch path raises the collector's first threshold while it scans (the
    scanner's caches are what the default pace re-reads), and restores it after,
    also when the scan fails."""
    import argparse
    import gc

    from api import cli_scan

    inp = tmp_path / "links.txt"
    inp.write_text("example.com\nvietcombank-uudai.com\n", encoding="utf-8")
    args = argparse.Namespace(file=str(inp), json=True, lang="en", live=False,
                              no_blocklists=False, quiet=True)
    seen: list[tuple[int, int, int]] = []
    real = cli_scan._scan_stream

    async def spy(*a: Any, **k: Any) -> int:
        seen.append(gc.get_threshold())
        return await real(*a, **k)

    monkeypatch.setattr(cli_scan, "_scan_stream", spy)
    before = gc.get_threshold()
    out = io.BytesIO()
    assert cli_scan._url_file(args, out, None) == EXIT_OK
    assert seen == [(cli_scan.BATCH_GC_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before
    assert [r["input"] for r in json_lines(out.getvalue())] == [
        "example.com", "vietcombank-uudai.com"]

    async def boom(*a: Any, **k: Any) -> int:
        raise RuntimeError("scan failed")

    monkeypatch.setattr(cli_scan, "_scan_stream", boom)
    with pytest.raises(RuntimeError):
        cli_scan._url_file(args, io.BytesIO(), None)
    assert gc.get_threshold() == before

    # Live scans keep the default pace (their HTTP clients make cycles of their own).
    async def fake(*a: Any, **k: Any) -> int:
        seen.append(gc.get_threshold())
        return EXIT_OK

    monkeypatch.setattr(cli_scan, "_scan_stream", fake)
    args.live = True
    assert cli_scan._url_file(args, io.BytesIO(), None) == EXIT_OK
    assert seen[-1] == before


def test_arguments_that_are_not_utf8_are_reported_not_a_traceback(tmp_path: Path) -> None:
    # A shell passes bytes; Python turns the ones that are not UTF-8 into lone
    # surrogates, which no UTF-8 output can carry. Each such link is an input error,
    # and the others are scanned.
    p = run("url", "--offline", "--json", "http://a.com/\udcff", "vietcombank-uudai.com")
    assert p.returncode == EXIT_SOME_INVALID, p.stderr
    first, second = json_lines(p.stdout)
    assert first == {"input": "http://a.com/\ufffd", "error": "the argument is not valid UTF-8"}
    assert second["verdict"] in ("suspicious", "dangerous")
    human_out = run("url", "--offline", "vietcombank\udcff.com")
    assert human_out.returncode == EXIT_SOME_INVALID
    assert "not valid UTF-8" in human_out.stdout.decode() and not human_out.stderr


def test_an_apk_whose_file_name_is_not_utf8_is_scanned(tmp_path: Path) -> None:
    # Latin-1 file names are legal on Linux: the file is read by its bytes and its
    # name shown with U+FFFD.
    apk = tmp_path / "caf\udce9.apk"
    apk.write_bytes((ROOT / "tests/fixtures/apk/benign_notes.apk").read_bytes())
    for args in (("apk", "--json", str(apk)), ("apk", str(apk))):
        p = run(*args)
        assert p.returncode == EXIT_OK, p.stderr
        assert not p.stderr
    report = json_lines(run("apk", "--json", str(apk)).stdout)[0]
    assert report["input"] == str(tmp_path / "caf\ufffd.apk")
    assert report["package"] == "org.scamscan.fixture.notes"


def test_from_argv_shows_every_lone_surrogate_as_replacement_characters() -> None:
    from api.cli_common import from_argv

    assert from_argv("vietcombank.com") == ("vietcombank.com", True)
    assert from_argv("caf\udce9") == ("caf\ufffd", False)  # the byte 0xE9, as argv gives it
    text, ok = from_argv("a\ud800b")  # a surrogate no byte became (not from argv)
    assert not ok and text.startswith("a\ufffd") and text.endswith("b")
    text.encode("utf-8")
