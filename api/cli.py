"""The ``scamscan`` command line.

::

    scamscan url [--live] [--json] [--lang vi|en] [--no-blocklists] URL...
    scamscan url [--live] --json --file PATH      (one input a line, "-" for stdin)
    scamscan url|apk|message --server URL [--key KEY] ...   (scan on a running API)
    scamscan apk [--json] [--lang vi|en] FILE...
    scamscan message [--live] [--json] [--lang vi|en] TEXT
    scamscan feeds refresh [--feed NAME] [--json]    (download the feeds now)
    scamscan feeds status [--json]
    scamscan rules [--json]
    scamscan serve [--host H] [--port P]
    scamscan worker [--processes N] [--threads M]   (APK jobs from SCAMSCAN_REDIS_URL)
    scamscan keys create --role client|analyst|admin --name NAME [--rate 600/minute] [--json]
    scamscan keys list [--json]
    scamscan keys revoke ID
    scamscan keys allow-keyless     (re-open keyless local use once no key is active)
    scamscan webhooks secret [--key ID]   (the keyless signing secret, or a new one for a key)

**The CLI and the server agree.** Every command reads the same settings and
the same data directory (``SCAMSCAN_DATA_DIR``, whose default does not
depend on the current directory: :func:`api.settings.default_data_dir`) or
Redis (``SCAMSCAN_REDIS_URL``) as the server: keys made here work there, and
a link or app scores with the same analyst entries and feeds
(:mod:`api.cli_lists`). Link and message checks are **offline by default**,
as in the API; ``--live`` adds the domain age and the guarded fetch
(``--offline`` is still accepted). With ``--server URL`` (or
``SCAMSCAN_SERVER``) the scans go to that running API instead and land in its
history (:mod:`api.cli_remote`).

``url --file`` shows a progress bar counting links on stderr when stderr is
a terminal, and ends with a summary line on stderr (links by verdict, errors,
links per second; ``--quiet`` leaves it out); stdout has only the reports.

Exit status: 0 when every input was scanned, 1 when some input could not be
parsed or was refused (its JSON line has an ``error`` field and the run goes
on) or the server refused the request or could not be reached, 2 on a usage
error. ``keys``: 0 done, 1 no such key (or the key store failed, or
``allow-keyless`` while a key is active), 2 usage error. ``feeds``: see
:mod:`api.cli_lists`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from api import cli_lists
from api.cli_common import (
    EXIT_OK,
    EXIT_SOME_INVALID,
    EXIT_USAGE,
    MAX_LINE_BYTES,
    UsageError,
    terminal_safe,
)
from api.cli_common import settings as _settings
from api.cli_remote import RemoteError
from api.cli_scan import cmd_apk, cmd_message, cmd_url

if TYPE_CHECKING:
    from api.settings import Settings
    from api.storage.apikeys import KeyStore

__all__ = ["EXIT_OK", "EXIT_SOME_INVALID", "EXIT_USAGE", "MAX_LINE_BYTES", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scamscan",
        description="Tell whether a link is a scam, with the reasons (Vietnamese or English).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    u = sub.add_parser("url", help="scan links or hosts (offline by default, as the API)")
    u.add_argument("urls", nargs="*", metavar="URL", help="links or bare hosts")
    _mode_options(u)
    u.add_argument("--json", action="store_true", help="one JSON object per input line")
    u.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="language of titles and reasons (default: vi)")
    u.add_argument("--file", metavar="PATH",
                   help="read one input per line from PATH ('-' for stdin)")
    u.add_argument("-q", "--quiet", action="store_true",
                   help="with --file: no summary line on stderr at the end")
    u.add_argument("--no-blocklists", action="store_true",
                   help="score without the bundled, feed and analyst blocklists (rules, "
                        "model and official allowlists only; as SCAMSCAN_BLOCKLISTS=off)")
    _server_options(u)

    a = sub.add_parser("apk", help="scan Android apps (APK, XAPK, APKS); never installs them")
    a.add_argument("files", nargs="+", metavar="FILE", help="app files")
    a.add_argument("--json", action="store_true", help="one JSON object per file")
    a.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="language of titles and reasons (default: vi)")
    a.add_argument("--no-blocklists", action="store_true",
                   help="score without hash, package or signer blocklists (evaluations; "
                        "the official-app allowlist stays on); also SCAMSCAN_BLOCKLISTS=off")
    _server_options(a)

    m = sub.add_parser("message", help="check a chat message (links, phone numbers, apps, "
                       "scam script) and print a short reply (offline by default, as the API)")
    m.add_argument("text", metavar="TEXT", help="the message ('-' reads it from stdin)")
    _mode_options(m)
    m.add_argument("--json", action="store_true", help="the report as one JSON object")
    m.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="language of the reply, titles and reasons (default: vi)")
    _server_options(m)

    cli_lists.add_parser(sub)

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
    kc.add_argument("--rate", default=None, metavar="LIMIT",
                    help="the key's own rate limit, e.g. 600/minute or 10/second;1000/hour "
                    "(default: the role's, SCAMSCAN_RATE_LIMIT_CLIENT …)")
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


def _mode_options(p: argparse.ArgumentParser) -> None:
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--live", dest="live", action="store_true",
                      help="also the live checks: domain age (RDAP/WHOIS) and a guarded fetch "
                           "of the link (redirects, page, APK downloads)")
    mode.add_argument("--offline", dest="live", action="store_false",
                      help="only the input itself and the lists, no network: the default, "
                           "as in the API")


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", metavar="URL",
                   help="send the scans to this running scamscan API (e.g. "
                        "http://127.0.0.1:8000) so that they appear in its history; "
                        "default: SCAMSCAN_SERVER, else scan here")
    p.add_argument("--key", metavar="KEY",
                   help="API key for --server (X-API-Key); default: SCAMSCAN_KEY. Prefer "
                        "SCAMSCAN_KEY: a --key value is visible to other users of this "
                        "machine in the process list (ps)")


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
                forwarded_allow_ips=proxies, loop=settings.event_loop)
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
                    record, secret = await store.create(args.name, args.role,
                                                        rate=args.rate)
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
                print(f"{'ID':<22} {'ROLE':<8} {'CREATED':<26} {'STATE':<8} "
                      f"{'RATE':<14} NAME")
                for key in keys:
                    state = "revoked" if key.revoked else "active"
                    print(f"{key.id:<22} {key.role:<8} {key.created.isoformat():<26} "
                          f"{state:<8} {key.rate or 'role default':<14} {key.name}")
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


async def _new_webhook_secret(settings: Settings, key_id: str) -> str:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scamscan`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "url":
            return cmd_url(args)
        if args.command == "apk":
            return cmd_apk(args)
        if args.command == "message":
            return cmd_message(args)
        if args.command == "rules":
            return _cmd_rules(args)
        if args.command == "keys":
            return _cmd_keys(args)
        if args.command == "worker":
            return _cmd_worker(args)
        if args.command == "webhooks":
            return _cmd_webhooks(args)
        if args.command == "feeds":
            return cli_lists.cmd_feeds(args, _settings())
        return _cmd_serve(args)
    except UsageError as e:
        print(f"scamscan: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except RemoteError as e:
        print(terminal_safe(f"scamscan: {e}"), file=sys.stderr)
        return EXIT_SOME_INVALID
    except BrokenPipeError:
        # `scamscan url --file big.txt | head` is normal use, not a failure.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
