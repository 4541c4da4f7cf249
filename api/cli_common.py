"""What the ``scamscan`` subcommands share: exit codes, usage errors, the settings,
the terminal form of a link report, and the ``--server`` client."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli_remote import RemoteError

if TYPE_CHECKING:
    from api.cli_remote import Remote
    from api.settings import Settings

EXIT_OK = 0
EXIT_SOME_INVALID = 1
EXIT_USAGE = 2

MAX_LINE_BYTES = 32 * 1024
"""Longer input lines are reported as errors without being held in memory."""


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                      "\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with the characters a terminal would obey rather than show (escape
    sequences, carriage returns, bidi overrides) written as ``\\xNN``/``\\uNNNN``:
    a report quotes hostile pages, messages and (with ``--server``) a server's
    answer, which must not retitle, clear or rewrite the user's terminal. Newlines
    and tabs stay."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def from_argv(arg: str) -> tuple[str, bool]:
    """``arg`` as a report can show it, and whether it was valid UTF-8.

    Linux hands a program its arguments as bytes, and Python turns the bytes that are
    not UTF-8 into lone surrogates (PEP 383). No UTF-8 output can carry those, so a
    report that quoted one failed as it was written; they are shown as U+FFFD."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = arg.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate that no byte became (not from argv)
            raw = arg.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "replace"), False
    return arg, True


class UsageError(Exception):
    """A command-line mistake: message to stderr, exit 2."""


def verdict_word(verdict: str, lang: str) -> str:
    """The verdict's label in capitals, as the terminal output shows it."""
    from scanners.rules import Verdict

    return Verdict(verdict).label(lang).upper()


def human(report: dict[str, Any], lang: str) -> str:
    """A link report (or an input error) as the terminal shows it."""
    if "error" in report:
        label = "không đọc được" if lang == "vi" else "cannot parse"
        return terminal_safe(f"{report['input']}\n  {label}: {report['error']}\n")
    out = [f"{report['input']}  ->  {verdict_word(report['verdict'], lang)} "
           f"({report['risk_score']}/100)  {report['url']}"]
    for f in report["findings"]:
        ev = ", ".join(f"{k}={v}" for k, v in f["evidence"].items())
        sign = f"+{f['points']}" if f["points"] else " 0"
        out.append(f"  [{f['rule_id']} {sign}] {f['title']}" + (f"  ({ev})" if ev else ""))
    for i in report["incomplete"]:
        out.append(f"  ! {i['check']}: {i['reason']}")
    return terminal_safe("\n".join(out) + "\n")


async def scan_downloaded_apk(data: bytes, url: str) -> dict[str, Any]:
    """Scan an APK the live fetch downloaded, in a temp file deleted afterwards."""
    import tempfile

    import anyio.to_thread

    from scanners.apk_report import scan_apk_path

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="scamscan-") as d:
            path = Path(d) / "download.apk"
            path.write_bytes(data)
            report = scan_apk_path(path, name=url).report("en")
        keep = ("sha256", "package", "label", "risk_score", "verdict", "error")
        return {k: report[k] for k in keep if report.get(k) is not None}

    return await anyio.to_thread.run_sync(run)


def settings() -> Settings:
    """The ``SCAMSCAN_*`` settings; a bad value is a usage error, not a traceback."""
    from pydantic import ValidationError

    from api.settings import get_settings, legacy_data_dir_warning

    try:
        got = get_settings()
    except ValidationError as e:
        problems = "; ".join(
            f"SCAMSCAN_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in e.errors())
        raise UsageError(f"bad configuration: {problems}") from None
    warning = legacy_data_dir_warning(got.data_dir)
    if warning:
        print(f"scamscan: warning: {warning}", file=sys.stderr)
    return got


def remote(args: argparse.Namespace) -> Remote | None:
    """The API to send scans to (``--server`` or ``SCAMSCAN_SERVER``), or None."""
    from api.settings import ClientSettings

    env = ClientSettings()
    server = args.server or env.server
    if not server:
        if args.key:
            raise UsageError("--key is for --server (or SCAMSCAN_SERVER)")
        return None
    from api.cli_remote import Remote

    key = args.key or (env.key.get_secret_value() if env.key else None)
    try:
        return Remote(server, key)
    except RemoteError as e:
        raise UsageError(str(e)) from None
