"""The ``scamscan`` command line.

::

    scamscan url [--offline] [--json] [--lang vi|en] [--no-blocklists] URL...
    scamscan url [--offline] --json --file PATH      (one input a line, "-" for stdin)
    scamscan apk [--json] [--lang vi|en] FILE...
    scamscan rules [--json]
    scamscan serve [--host H] [--port P]
    scamscan worker [--processes N] [--threads M]   (APK jobs from SCAMSCAN_REDIS_URL)
    scamscan keys create --role client|analyst|admin --name NAME [--json]
    scamscan keys list [--json]
    scamscan keys revoke ID
    scamscan keys allow-keyless     (re-open keyless local use once no key is active)
    scamscan webhooks secret [--key ID]   (the keyless signing secret, or a new one for a key)

Exit status: 0 when every input was scanned, 1 when some input could not be
parsed or was refused (its JSON line has an ``error`` field and the run goes
on), 2 on a usage error. ``keys``: 0 done, 1 no such key (or the key store
failed, or ``allow-keyless`` while a key is active), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from api.storage.apikeys import KeyStore

EXIT_OK = 0
EXIT_SOME_INVALID = 1
EXIT_USAGE = 2

MAX_LINE_BYTES = 32 * 1024
"""Longer input lines are reported as errors without being held in memory."""


class UsageError(Exception):
    """A command-line mistake: message to stderr, exit 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scamscan",
        description="Tell whether a link is a scam, with the reasons (Vietnamese or English).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    u = sub.add_parser("url", help="scan links or hosts")
    u.add_argument("urls", nargs="*", metavar="URL", help="links or bare hosts")
    u.add_argument("--offline", action="store_true",
                   help="use only the link itself and bundled lists (no network)")
    u.add_argument("--json", action="store_true", help="one JSON object per input line")
    u.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="language of titles and reasons (default: vi)")
    u.add_argument("--file", metavar="PATH",
                   help="read one input per line from PATH ('-' for stdin)")
    u.add_argument("--no-blocklists", action="store_true",
                   help="score without the bundled, feed and analyst blocklists (rules, "
                        "model and official allowlists only; as SCAMSCAN_BLOCKLISTS=off)")

    a = sub.add_parser("apk", help="scan Android apps (APK, XAPK, APKS); never installs them")
    a.add_argument("files", nargs="+", metavar="FILE", help="app files")
    a.add_argument("--json", action="store_true", help="one JSON object per file")
    a.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="language of titles and reasons (default: vi)")
    a.add_argument("--no-blocklists", action="store_true",
                   help="score without hash, package or signer blocklists (evaluations; "
                        "the official-app allowlist stays on); also SCAMSCAN_BLOCKLISTS=off")

    m = sub.add_parser("message", help="check a chat message (links, phone numbers, apps, "
                       "scam script) and print a short reply")
    m.add_argument("text", metavar="TEXT", help="the message ('-' reads it from stdin)")
    m.add_argument("--offline", action="store_true",
                   help="no network: only the text, the links themselves and bundled lists")
    m.add_argument("--json", action="store_true", help="the report as one JSON object")
    m.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="language of the reply, titles and reasons (default: vi)")

    r = sub.add_parser("rules", help="print the rule catalogue")
    r.add_argument("--json", action="store_true", help="as JSON instead of Markdown")

    s = sub.add_parser("serve", help="run the HTTP API with uvicorn")
    s.add_argument("--host", default=None, help="bind address (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default: 8000)")

    k = sub.add_parser("keys", help="manage API keys (in SCAMSCAN_DATA_DIR, or Redis when "
                       "SCAMSCAN_REDIS_URL is set, as the server)")
    ksub = k.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    kc = ksub.add_parser("create", help="make a key; it is printed once, only its hash is kept")
    kc.add_argument("--role", required=True, choices=("client", "analyst", "admin"))
    kc.add_argument("--name", required=True, help="who or what uses the key")
    kc.add_argument("--json", action="store_true", help="print id, name, role and key as JSON")
    kl = ksub.add_parser("list", help="list keys (never the keys themselves)")
    kl.add_argument("--json", action="store_true", help="one JSON object per key")
    kr = ksub.add_parser("revoke", help="revoke a key by its id")
    kr.add_argument("id", metavar="ID", help="the key's id (from `keys list`)")
    ksub.add_parser("allow-keyless", help="re-open keyless local use: remove the record "
                    "that keys were made (only when no key is active)")

    wh = sub.add_parser("webhooks", help="webhook signing secrets (docs/webhooks.md)")
    whsub = wh.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    ws = whsub.add_parser("secret", help="print the server-wide secret that signs the webhooks "
                          "of keyless scans (made on first use), or with --key a new secret "
                          "for that API key (replacing its old one; printed once)")
    ws.add_argument("--key", metavar="ID", help="the API key's id (from `keys list`)")

    w = sub.add_parser("worker", help="run APK scan jobs from the Redis queue "
                       "(needs SCAMSCAN_REDIS_URL; samples under SCAMSCAN_DATA_DIR)")
    w.add_argument("--processes", type=int, default=1, help="worker processes (default: 1)")
    w.add_argument("--threads", type=int, default=1,
                   help="scan threads per process (default: 1)")
    w.add_argument("--shutdown-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="on SIGTERM, how long running scans may finish (default: 30)")
    return p


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


def _verdict_word(verdict: str, lang: str) -> str:
    """The verdict's label in capitals, as the terminal output shows it."""
    from scanners.rules import Verdict

    return Verdict(verdict).label(lang).upper()


def _human(report: dict[str, Any], lang: str) -> str:
    if "error" in report:
        label = "không đọc được" if lang == "vi" else "cannot parse"
        return f"{report['input']}\n  {label}: {report['error']}\n"
    out = [f"{report['input']}  ->  {_verdict_word(report['verdict'], lang)} "
           f"({report['risk_score']}/100)  {report['url']}"]
    for f in report["findings"]:
        ev = ", ".join(f"{k}={v}" for k, v in f["evidence"].items())
        sign = f"+{f['points']}" if f["points"] else " 0"
        out.append(f"  [{f['rule_id']} {sign}] {f['title']}" + (f"  ({ev})" if ev else ""))
    for i in report["incomplete"]:
        out.append(f"  ! {i['check']}: {i['reason']}")
    return "\n".join(out) + "\n"


async def _scan_stream(
    inputs: Iterator[tuple[str, str | None]],
    out: IO[bytes],
    *,
    as_json: bool,
    lang: str,
    offline: bool,
    progress: Any = None,
    blocklists: bool = True,
) -> int:
    # Imported here so that `scamscan --help` and usage errors stay instant.
    from scanners.errors import InvalidURLError
    from scanners.normalize import normalize
    from scanners.report import error_report, run_scanners, url_report
    from scanners.url_offline import default_scanner

    scanner = default_scanner(blocklists=blocklists and _settings().blocklists == "on")
    live = None
    if not offline:
        from api.wiring import build_live

        live = build_live(_settings(), scanner, apk_handler=_scan_downloaded_apk)
    invalid = 0
    try:
        for text, err in inputs:
            if progress is not None:
                progress.update(len(text.encode("utf-8", "replace")) + 1)
            report: dict[str, Any]
            if err is None:
                try:
                    parsed = normalize(text)
                except InvalidURLError as e:
                    err = e.reason
                else:
                    if live is None:
                        # The batch fast path: no task scheduling per line.
                        report = url_report(parsed, scanner.check(parsed), lang)
                    else:
                        found, missing = await run_scanners(parsed, [scanner, *live.scanners])
                        report = url_report(parsed, found, lang, missing)
            if err is not None:
                invalid += 1
                report = error_report(text, err)
            if as_json:
                out.write(orjson.dumps(report) + b"\n")
            else:
                out.write(_human(report, lang).encode("utf-8"))
    finally:
        if live is not None:
            await live.aclose()
    return EXIT_SOME_INVALID if invalid else EXIT_OK


def _cmd_url(args: argparse.Namespace) -> int:
    if args.file is not None and args.urls:
        raise UsageError("give URLs as arguments or --file, not both")
    if args.file is None and not args.urls:
        raise UsageError("give at least one URL, or --file PATH ('-' for stdin)")
    out = sys.stdout.buffer
    if args.file is None:
        inputs: Iterator[tuple[str, str | None]] = ((u, None) for u in args.urls)
        return asyncio.run(_scan_stream(inputs, out, as_json=args.json, lang=args.lang,
                                        offline=args.offline,
                                        blocklists=not args.no_blocklists))
    if args.file == "-":
        stream: IO[bytes] = sys.stdin.buffer
        total = None
    else:
        try:
            stream = open(args.file, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise UsageError(f"cannot read {args.file}: {e.strerror}") from None
        total = os.fstat(stream.fileno()).st_size
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        progress = tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr,
                        desc="scamscan")
    try:
        return asyncio.run(_scan_stream(_lines(stream), out, as_json=args.json,
                                        lang=args.lang, offline=args.offline,
                                        progress=progress, blocklists=not args.no_blocklists))
    finally:
        if progress is not None:
            progress.close()
        if stream is not sys.stdin.buffer:
            stream.close()


def _human_apk(report: dict[str, Any], lang: str) -> str:
    if report.get("error"):
        label = "không quét được" if lang == "vi" else "cannot scan"
        return f"{report['input']}\n  {label}: {report['error']}\n"
    head = {**report, "url": f"{report.get('package')} \"{report.get('label')}\" "
                             f"sha256={report['sha256'][:16]}…"}
    return _human(head, lang)


def _cmd_apk(args: argparse.Namespace) -> int:
    from pathlib import Path

    from scanners.apk import scanner_for
    from scanners.apk_report import scan_apk_path

    settings = _settings()
    extra = settings.apk_blocklist
    use_lists = not args.no_blocklists and settings.blocklists == "on"
    scanner = scanner_for(str(extra) if extra and use_lists else None,
                          use_blocklists=use_lists)
    failed = 0
    out = sys.stdout.buffer
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            report: dict[str, Any] = {"input": name, "error": "no such file"}
        else:
            report = scan_apk_path(path, name=name, scanner=scanner).report(args.lang)
        if report.get("error"):
            failed += 1
        if args.json:
            out.write(orjson.dumps(report) + b"\n")
        else:
            out.write(_human_apk(report, args.lang).encode("utf-8"))
        out.flush()
    return EXIT_SOME_INVALID if failed else EXIT_OK


async def _scan_downloaded_apk(data: bytes, url: str) -> dict[str, Any]:
    """Scan an APK the live fetch downloaded, in a temp file deleted afterwards."""
    import tempfile
    from pathlib import Path

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


def _settings() -> Any:
    """The ``SCAMSCAN_*`` settings; a bad value is a usage error, not a traceback."""
    from pydantic import ValidationError

    from api.settings import get_settings

    try:
        return get_settings()
    except ValidationError as e:
        problems = "; ".join(
            f"SCAMSCAN_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in e.errors())
        raise UsageError(f"bad configuration: {problems}") from None


def _cmd_rules(args: argparse.Namespace) -> int:
    from scanners import rules

    if args.json:
        data = [{"id": r.id, "points": r.points, "severity": r.severity.value,
                 "kind": r.kind.value, "suppressible": r.suppressible,
                 "title_vi": r.title_vi, "title_en": r.title_en,
                 "description": r.description} for r in rules.CATALOGUE.values()]
        sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write(rules.markdown())
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.settings import get_settings

    settings = _settings()
    host = args.host or settings.host
    # The app decides on keyless local use from the address it is bound to:
    # let it see --host (api.main builds its app from the settings on import).
    os.environ["SCAMSCAN_HOST"] = host
    get_settings.cache_clear()
    # Forwarded headers only from the configured proxies: uvicorn's default trusts
    # them from 127.0.0.1, so any local process (or a page's request relayed by one)
    # could pick its client address, e.g. to get a fresh keyless rate limit.
    proxies = settings.trusted_proxies
    uvicorn.run("api.main:app", host=host, port=args.port or settings.port,
                log_level=settings.log_level.lower(), proxy_headers=bool(proxies),
                forwarded_allow_ips=proxies)
    return EXIT_OK


def _cmd_keys(args: argparse.Namespace) -> int:
    from api.storage.errors import KeyStoreUnavailable, WebhookStoreUnavailable
    from api.storage.factory import open_key_store

    settings = _settings()
    store = open_key_store(settings.data_dir, settings.redis_url,
                           redis_timeout=settings.redis_timeout)

    async def run() -> int:
        try:
            if args.keys_command == "create":
                try:
                    record, secret = await store.create(args.name, args.role)
                except ValueError as e:
                    raise UsageError(str(e)) from None
                webhook_secret = await _new_webhook_secret(settings, record.id)
                if args.json:
                    print(orjson.dumps({**record.public(), "key": secret,
                                        "webhook_secret": webhook_secret}).decode())
                else:
                    print(secret)
                    print(f"created {record.id} ({record.role}, {record.name!r}); the key "
                          "above is shown only now: keep it", file=sys.stderr)
                    # stderr: stdout stays the key alone, for KEY=$(scamscan keys create …)
                    print(f"webhook signing secret (shown only now): {webhook_secret}",
                          file=sys.stderr)
                return EXIT_OK
            if args.keys_command == "list":
                keys = await store.list()
                if args.json:
                    for key in keys:
                        print(orjson.dumps(key.public()).decode())
                    return EXIT_OK
                print(f"{'ID':<22} {'ROLE':<8} {'CREATED':<26} {'STATE':<8} NAME")
                for key in keys:
                    state = "revoked" if key.revoked else "active"
                    print(f"{key.id:<22} {key.role:<8} {key.created.isoformat():<26} "
                          f"{state:<8} {key.name}")
                return EXIT_OK
            if args.keys_command == "allow-keyless":
                return await _allow_keyless(store, settings.data_dir)
            revoked = await store.revoke(args.id)
            if revoked is None:
                print(f"scamscan: no API key with the id {args.id!r}", file=sys.stderr)
                return EXIT_SOME_INVALID
            print(f"revoked {revoked.id} ({revoked.role}, {revoked.name!r})", file=sys.stderr)
            return EXIT_OK
        except (KeyStoreUnavailable, WebhookStoreUnavailable) as e:
            print(f"scamscan: {e}", file=sys.stderr)
            return EXIT_SOME_INVALID
        finally:
            await store.close()

    return asyncio.run(run())


async def _allow_keyless(store: KeyStore, data_dir: Path) -> int:
    """Remove the keys-made marker (:mod:`api.storage.apikeys`), unless a key is active."""
    from api.storage.apikeys import keys_made_marker

    if await store.has_active():
        print("scamscan: an API key is active; keyless use is only for a server with no "
              "active key (revoke them first)", file=sys.stderr)
        return EXIT_SOME_INVALID
    marker = keys_made_marker(data_dir)
    marker.unlink(missing_ok=True)
    print(f"removed {marker}: a server bound to loopback with SCAMSCAN_REQUIRE_KEYS unset "
          "accepts keyless requests from this machine again",
          file=sys.stderr)
    return EXIT_OK


async def _new_webhook_secret(settings: Any, key_id: str) -> str:
    """A new webhook signing secret for ``key_id``, kept where the server reads it."""
    from api.storage.factory import open_webhook_store
    from api.storage.webhooks import new_secret

    store = open_webhook_store(settings.data_dir, settings.redis_url,
                               ttl=settings.apk_record_ttl, redis_timeout=settings.redis_timeout)
    try:
        secret = new_secret()
        await store.set_key_secret(key_id, secret)
        return secret
    finally:
        await store.close()


def _cmd_webhooks(args: argparse.Namespace) -> int:
    from api.storage.errors import StorageUnavailable
    from api.storage.factory import open_key_store
    from api.storage.webhooks import server_secret

    settings = _settings()
    try:
        if args.key is None:
            print(server_secret(settings.data_dir))
            print("the secret above signs the webhooks of keyless scans; scans made with an "
                  "API key are signed with that key's own secret", file=sys.stderr)
            return EXIT_OK

        async def for_key() -> int:
            keys = open_key_store(settings.data_dir, settings.redis_url,
                                  redis_timeout=settings.redis_timeout)
            try:
                known = {k.id for k in await keys.list()}
            finally:
                await keys.close()
            if args.key not in known:
                print(f"scamscan: no API key with the id {args.key!r}", file=sys.stderr)
                return EXIT_SOME_INVALID
            print(await _new_webhook_secret(settings, args.key))
            print(f"new webhook signing secret of {args.key} (shown only now; the old one "
                  "no longer signs)", file=sys.stderr)
            return EXIT_OK

        return asyncio.run(for_key())
    except StorageUnavailable as e:
        print(f"scamscan: {e}", file=sys.stderr)
        return EXIT_SOME_INVALID


def _cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.redis_url:
        raise UsageError("the worker needs a job queue: set SCAMSCAN_REDIS_URL")
    if args.processes < 1 or args.threads < 1:
        raise UsageError("--processes and --threads must be at least 1")
    from api.worker import run_workers

    return run_workers(settings, processes=args.processes, threads=args.threads,
                       shutdown_timeout=args.shutdown_timeout)


def _cmd_message(args: argparse.Namespace) -> int:
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

    async def run() -> dict[str, Any]:
        from scanners.url_offline import default_scanner

        scanner = default_scanner()
        if args.offline:
            return await check_message(text, scanner, (), args.lang)
        from api.wiring import build_live

        settings = _settings()
        live = build_live(settings, scanner, apk_handler=_scan_downloaded_apk)
        try:
            return await check_message(text, scanner, live.scanners, args.lang,
                                       live_links=settings.message_live_max_links,
                                       live_timeout=settings.fetch_total_timeout)
        finally:
            await live.aclose()

    try:
        report = asyncio.run(run())
    except InputError as e:
        print(f"scamscan: cannot check the message: {e}", file=sys.stderr)
        return EXIT_SOME_INVALID
    out = sys.stdout.buffer
    if args.json:
        out.write(orjson.dumps(report) + b"\n")
        return EXIT_OK
    lines = [report["reply"], "",
             f"{_verdict_word(report['verdict'], args.lang)} ({report['risk_score']}/100)"]
    if report.get("scam_type"):
        lines.append(f"  type: {report['scam_type']}")
    for f in report["findings"]:
        sign = f"+{f['points']}" if f["points"] else " 0"
        lines.append(f"  [{f['rule_id']} {sign}] {f['title']}")
    for item in report["items"]:
        if item["kind"] == "link":
            desc = (f"{_verdict_word(item['verdict'], args.lang)} ({item['risk_score']}/100) "
                    f"{item['url']}")
        elif item["kind"] == "phone":
            desc = f"{item['number']} ({item['type']})"
        elif item["kind"] == "bank_account":
            desc = f"{item['number']} ({item.get('bank') or 'bank not named'})"
        elif item["kind"] == "app":
            desc = f"{item['name']} ({item['type']})"
        else:  # zalo, telegram
            desc = f"{item.get('value')} ({item.get('type')})"
        lines.append(f"  {item['kind']}: {item['input']!r} -> {desc}")
    for sig in report["script_signals"]:
        mark = "" if sig["counted"] else f" ({sig['note']})"
        lines.append(f"  \"{sig['text']}\" [{sig['start']}:{sig['end']}] {sig['category']}{mark}")
    for i in report["incomplete"]:
        lines.append(f"  ! {i['check']}: {i['reason']}")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scamscan`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "url":
            return _cmd_url(args)
        if args.command == "apk":
            return _cmd_apk(args)
        if args.command == "message":
            return _cmd_message(args)
        if args.command == "rules":
            return _cmd_rules(args)
        if args.command == "keys":
            return _cmd_keys(args)
        if args.command == "worker":
            return _cmd_worker(args)
        if args.command == "webhooks":
            return _cmd_webhooks(args)
        return _cmd_serve(args)
    except UsageError as e:
        print(f"scamscan: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `scamscan url --file big.txt | head` is normal use, not a failure.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
