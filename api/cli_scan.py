"""The scans of the ``scamscan`` command line: ``url``, ``apk`` and ``message``.

Each scans here, with the server's lists (:mod:`api.cli_lists`) and offline
unless ``--live``, or on a running API with ``--server`` (:mod:`api.cli_remote`).
See :mod:`api.cli` for the commands and their exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from api import cli_lists
from api.cli_common import (
    EXIT_OK,
    EXIT_SOME_INVALID,
    MAX_LINE_BYTES,
    UsageError,
    from_argv,
    human,
    scan_downloaded_apk,
    terminal_safe,
    verdict_word,
)
from api.cli_common import remote as remote_for
from api.cli_common import (
    settings as load_settings,
)

if TYPE_CHECKING:
    from api.cli_remote import Remote

_VERDICTS = ("official", "no_known_risk", "suspicious", "dangerous")


def _lines(stream: IO[bytes]) -> Iterator[tuple[str, str | None]]:
    """(text, error) for each input line; memory stays bounded by MAX_LINE_BYTES."""
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            head = raw[:80].decode("utf-8", "replace")
            while True:  # drop the rest of the oversized line
                more = stream.readline(MAX_LINE_BYTES)
                if not more or more.endswith(b"\n"):
                    break
            yield head, f"the input line is longer than {MAX_LINE_BYTES} bytes"
            continue
        raw = raw.rstrip(b"\r\n")
        try:
            yield raw.decode("utf-8"), None
        except UnicodeDecodeError:
            yield raw.decode("utf-8", "replace"), "the input line is not valid UTF-8"


@dataclass
class Summary:
    """What a ``url --file`` run did, for its last line on stderr."""

    verdicts: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    started: float = field(default_factory=time.monotonic)

    def add(self, report: dict[str, Any]) -> None:
        """Count one report (or input error)."""
        if "error" in report:
            self.errors += 1
        else:
            self.verdicts[report["verdict"]] += 1

    def line(self) -> str:
        """The summary: links, time, links/s, counts by verdict, errors."""
        n = sum(self.verdicts.values()) + self.errors
        took = max(time.monotonic() - self.started, 1e-6)
        order = ("dangerous", "suspicious", "no_known_risk", "official")
        counts = ", ".join(f"{v} {self.verdicts[v]}" for v in order)
        return (f"scamscan: {n} links in {took:.1f} s ({n / took:.0f} links/s): {counts}; "
                f"errors {self.errors}")


def _reports_local(inputs: Iterator[tuple[str, str | None]], scanner: Any, live: Any,
                   lang: str) -> Iterator[Any]:
    """A report (or an awaitable of one, live) per input, in order."""
    from scanners.errors import InvalidURLError
    from scanners.normalize import normalize
    from scanners.report import error_report, run_scanners, url_report

    async def live_report(parsed: Any) -> dict[str, Any]:
        found, missing = await run_scanners(parsed, [scanner, *live.scanners])
        return url_report(parsed, found, lang, missing)

    for text, err in inputs:
        if err is None:
            try:
                parsed = normalize(text)
            except InvalidURLError as e:
                err = e.reason
            else:
                if live is None:
                    # The batch fast path: no task scheduling per line.
                    yield url_report(parsed, scanner.check(parsed), lang)
                else:
                    yield live_report(parsed)
                continue
        yield error_report(text, err)


def _reports_remote(inputs: Iterator[tuple[str, str | None]], remote: Remote, *,
                    live: bool, lang: str) -> Iterator[dict[str, Any]]:
    """The server's reports, a batch at a time; unreadable lines are reported here."""
    from api.cli_remote import BATCH
    from scanners.report import error_report

    def flush(chunk: list[tuple[str, str | None]]) -> Iterator[dict[str, Any]]:
        texts = [t for t, e in chunk if e is None]
        got = iter(remote.scan_urls(texts, offline=not live, lang=lang) if texts else [])
        for text, err in chunk:
            yield next(got) if err is None else error_report(text, err)

    chunk: list[tuple[str, str | None]] = []
    for item in inputs:
        chunk.append(item)
        if len(chunk) >= BATCH:
            yield from flush(chunk)
            chunk = []
    yield from flush(chunk)


OUT_CHUNK = 64 * 1024
"""Bytes of reports written at a time for a file's links (:func:`_emit`)."""


async def _emit(reports: Iterator[Any], out: IO[bytes], *, as_json: bool, lang: str,
                progress: Any, summary: Summary | None, chunk: int = 0) -> int:
    """Write each report (awaiting the live ones) in input order; the exit status.

    With ``chunk`` (a file's links) reports are written ``chunk`` bytes at a time, and
    before each live scan is awaited: a write per link was a system call per link
    whenever stdout is unbuffered (``PYTHONUNBUFFERED``, set in the image), about a
    tenth of an offline link's cost (docs/evaluation.md, "Link throughput"). Without
    it (links given as arguments or on stdin) each report is written as soon as it
    is made, for a reader that waits for it."""
    invalid = 0
    pending = bytearray()  # reports made and not yet written (at most ``chunk`` bytes)
    try:
        for item in reports:
            if not isinstance(item, dict) and pending:
                out.write(bytes(pending))
                pending.clear()
            report = item if isinstance(item, dict) else await item
            if "error" in report:
                invalid += 1
            if summary is not None:
                summary.add(report)
            if progress is not None:
                progress.update(1)
            pending += (orjson.dumps(report) + b"\n" if as_json
                        else human(report, lang).encode("utf-8"))
            if len(pending) >= chunk:  # always, without a chunk: a write per report
                out.write(bytes(pending))
                pending.clear()
    finally:
        if pending:
            out.write(bytes(pending))
    return EXIT_SOME_INVALID if invalid else EXIT_OK


async def _scan_stream(
    inputs: Iterator[tuple[str, str | None]],
    out: IO[bytes],
    *,
    as_json: bool,
    lang: str,
    live: bool = False,
    progress: Any = None,
    blocklists: bool = True,
    remote: Remote | None = None,
    summary: Summary | None = None,
    chunk: int = 0,
) -> int:
    emit = {"out": out, "as_json": as_json, "lang": lang, "progress": progress,
            "summary": summary, "chunk": chunk}
    if remote is not None:  # the server scans, with its own lists
        return await _emit(_reports_remote(inputs, remote, live=live, lang=lang), **emit)
    # Imported here so that `scamscan --help` and usage errors stay instant.
    from scanners.url_offline import OfflineURLScanner, default_scanner

    settings = load_settings()
    async with cli_lists.open_cli_lists(settings) as lists:
        use_lists = blocklists and settings.blocklists == "on"
        scanner = default_scanner(blocklists=use_lists)
        if use_lists and lists is not None:
            # The server's lists: analyst entries and feeds over the bundled ones.
            scanner = OfflineURLScanner(index=lists.dynamic)
        checker = None
        if live:
            from api.wiring import build_live

            checker = build_live(settings, scanner, apk_handler=scan_downloaded_apk)
        try:
            return await _emit(_reports_local(inputs, scanner, checker, lang), **emit)
        finally:
            if checker is not None:
                await checker.aclose()


def _count_lines(path: str) -> int | None:
    """Lines of the file at ``path`` (the progress bar's total), None if unreadable."""
    n, last = 0, b"\n"
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                n += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None
    return n + (last != b"\n")


def cmd_url(args: argparse.Namespace) -> int:
    """``scamscan url``: each link's report on stdout; the exit status."""
    if args.file is not None and args.urls:
        raise UsageError("give URLs as arguments or --file, not both")
    if args.file is None and not args.urls:
        raise UsageError("give at least one URL, or --file PATH ('-' for stdin)")
    if args.no_blocklists and (args.server or os.environ.get("SCAMSCAN_SERVER")):
        raise UsageError("--no-blocklists is for local scans; the server uses its own lists")
    out = sys.stdout.buffer
    remote = remote_for(args)
    try:
        if args.file is None:
            inputs: Iterator[tuple[str, str | None]] = (
                (text, None if ok else "the argument is not valid UTF-8")
                for text, ok in map(from_argv, args.urls))
            return asyncio.run(_scan_stream(inputs, out, as_json=args.json, lang=args.lang,
                                            live=args.live, remote=remote,
                                            blocklists=not args.no_blocklists))
        return _url_file(args, out, remote)
    finally:
        if remote is not None:
            remote.close()


BATCH_GC_THRESHOLD = 50_000
"""The cyclic collector's first threshold while a file's links are scanned (:func:`_batch_gc`)."""


@contextmanager
def _batch_gc() -> Iterator[None]:
    """The cyclic collector at a slower pace for a file's links scanned offline
    (restored after).

    A link's objects die by reference count as soon as its report is written; what
    lives on is the scanner's bounded caches, which the collector's default pace (a
    collection every 700 new objects) read again and again: 0.28-0.30 s of the CPU time
    of 100,000 mixed links in 820 collections, against 0.13-0.15 s in 19 at this
    threshold (``gc.callbacks``; docs/evaluation.md, "Link throughput"). Garbage in
    cycles, rare here, is still collected after at most this many new objects."""
    before = gc.get_threshold()
    gc.set_threshold(BATCH_GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _url_file(args: argparse.Namespace, out: IO[bytes], remote: Remote | None) -> int:
    if args.file == "-":
        stream: IO[bytes] = sys.stdin.buffer
        total = None
    else:
        try:
            stream = open(args.file, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise UsageError(f"cannot read {args.file}: {e.strerror}") from None
        total = _count_lines(args.file)
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        progress = tqdm(total=total, unit=" links", file=sys.stderr, desc="scamscan")
    summary = Summary()
    try:
        # Live scans wait on the network, and their clients make cycles of their own.
        with nullcontext() if args.live else _batch_gc():
            status = asyncio.run(_scan_stream(
                _lines(stream), out, as_json=args.json, lang=args.lang, live=args.live,
                progress=progress, blocklists=not args.no_blocklists, remote=remote,
                summary=summary, chunk=0 if stream is sys.stdin.buffer else OUT_CHUNK))
    finally:
        if progress is not None:
            progress.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    out.flush()
    if not args.quiet:
        print(summary.line(), file=sys.stderr)
    return status


def _human_apk(report: dict[str, Any], lang: str) -> str:
    if report.get("error"):
        label = "không quét được" if lang == "vi" else "cannot scan"
        return terminal_safe(f"{report['input']}\n  {label}: {report['error']}\n")
    # An app whose manifest could not be read has no package or label to show.
    who = " ".join(x for x in (report.get("package"),
                               f"\"{report['label']}\"" if report.get("label") else None) if x)
    head = {**report, "url": f"{who + ' ' if who else ''}sha256={report['sha256'][:16]}…"}
    return human(head, lang)


def cmd_apk(args: argparse.Namespace) -> int:
    """``scamscan apk``: each app's report (the analysts' APK entries of the data
    directory apply, as in the server's workers); the exit status."""
    from scanners.apk import scanner_for
    from scanners.apk_report import scan_apk_path
    from scanners.lists import apk_lists_path

    settings = load_settings()
    remote = remote_for(args)
    if remote is not None and args.no_blocklists:
        remote.close()
        raise UsageError("--no-blocklists is for local scans; the server uses its own lists")
    extra = settings.apk_blocklist
    use_lists = not args.no_blocklists and settings.blocklists == "on"
    # The analysts' APK entries, as the server's scan workers read them.
    lists_file = apk_lists_path(settings.data_dir)
    scanner = None
    if remote is None:
        scanner = scanner_for(str(extra) if extra and use_lists else None,
                              str(lists_file) if lists_file.is_file() else None,
                              use_blocklists=use_lists)
    failed = 0
    out = sys.stdout.buffer
    try:
        for arg in args.files:
            path = Path(arg)  # the bytes the shell gave, whatever their encoding
            name, _ = from_argv(arg)
            if not path.is_file():
                report: dict[str, Any] = {"input": name, "error": "no such file"}
            elif remote is not None:
                report = remote.scan_apk(path, name=name, lang=args.lang)
            else:
                report = scan_apk_path(path, name=name, scanner=scanner).report(args.lang)
            if report.get("error"):
                failed += 1
            if args.json:
                out.write(orjson.dumps(report) + b"\n")
            else:
                out.write(_human_apk(report, args.lang).encode("utf-8"))
            out.flush()
    finally:
        if remote is not None:
            remote.close()
    return EXIT_SOME_INVALID if failed else EXIT_OK


def cmd_message(args: argparse.Namespace) -> int:
    """``scamscan message``: the check's reply and report; the exit status."""
    from scanners.errors import InputError
    from scanners.message import MAX_TEXT_CHARS, check_message, clean_text

    text: str = args.text
    if text == "-":
        raw = sys.stdin.buffer.read(MAX_TEXT_CHARS * 4 + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            print(f"scamscan: cannot check the message: it is not valid UTF-8 ({e.reason} at "
                  f"byte {e.start})", file=sys.stderr)
            return EXIT_SOME_INVALID
        text = text.removesuffix("\n").removesuffix("\r")
    if not clean_text(text).strip():
        raise UsageError("the message is empty; give TEXT, or '-' to read it from stdin")
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(f"the message is longer than {MAX_TEXT_CHARS} characters "
                         f"({len(text) if len(text) <= MAX_TEXT_CHARS * 4 else 'more'})")

    remote = remote_for(args)

    async def run() -> dict[str, Any]:
        from scanners.url_offline import OfflineURLScanner, default_scanner

        if remote is not None:
            return remote.check_message(text, offline=not args.live, lang=args.lang)
        settings = load_settings()
        async with cli_lists.open_cli_lists(settings) as lists:
            scanner = default_scanner(blocklists=settings.blocklists == "on")
            ids = None
            if lists is not None:
                # The server's lists: link entries and feeds, phone and account entries.
                ids = lists.dynamic
                if settings.blocklists == "on":
                    scanner = OfflineURLScanner(index=lists.dynamic)
            if not args.live:
                return await check_message(text, scanner, (), args.lang,
                                           identifier_lists=ids)
            from api.wiring import build_live

            live = build_live(settings, scanner, apk_handler=scan_downloaded_apk)
            try:
                return await check_message(text, scanner, live.scanners, args.lang,
                                           live_links=settings.message_live_max_links,
                                           live_timeout=settings.fetch_total_timeout,
                                           identifier_lists=ids)
            finally:
                await live.aclose()

    try:
        report = asyncio.run(run())
    except InputError as e:
        print(f"scamscan: cannot check the message: {e}", file=sys.stderr)
        return EXIT_SOME_INVALID
    finally:
        if remote is not None:
            remote.close()
    out = sys.stdout.buffer
    if args.json:
        out.write(orjson.dumps(report) + b"\n")
        return EXIT_OK
    lines = [report["reply"], "",
             f"{verdict_word(report['verdict'], args.lang)} ({report['risk_score']}/100)"]
    if report.get("scam_type"):
        lines.append(f"  type: {report['scam_type']}")
    for f in report["findings"]:
        sign = f"+{f['points']}" if f["points"] else " 0"
        lines.append(f"  [{f['rule_id']} {sign}] {f['title']}")
    # .get: with --server these come from another process (checked only in outline)
    for item in report["items"]:
        kind = item.get("kind")
        if kind == "link":
            verdict = item.get("verdict")
            word = (verdict_word(verdict, args.lang) if verdict in _VERDICTS
                    else str(verdict))
            desc = f"{word} ({item.get('risk_score')}/100) {item.get('url')}"
        elif kind == "phone":
            desc = f"{item.get('number')} ({item.get('type')})"
        elif kind == "bank_account":
            desc = f"{item.get('number')} ({item.get('bank') or 'bank not named'})"
        elif kind == "app":
            desc = f"{item.get('name')} ({item.get('type')})"
        else:  # zalo, telegram
            desc = f"{item.get('value')} ({item.get('type')})"
        lines.append(f"  {kind}: {item.get('input')!r} -> {desc}")
    for sig in report["script_signals"]:
        mark = "" if sig.get("counted") else f" ({sig.get('note')})"
        lines.append(f"  \"{sig.get('text')}\" [{sig.get('start')}:{sig.get('end')}] "
                     f"{sig.get('category')}{mark}")
    for i in report["incomplete"]:
        lines.append(f"  ! {i['check']}: {i['reason']}")
    out.write(terminal_safe("\n".join(lines) + "\n").encode("utf-8"))
    return EXIT_OK
