"""The lists of the ``scamscan`` command line: the server's, read from the same store.

``scamscan url``, ``apk`` and ``message`` score with the analyst entries and
the feeds' generations exactly as the server does (:func:`open_cli_lists`):
the list store of ``SCAMSCAN_DATA_DIR`` (``lists.sqlite3``) or of
``SCAMSCAN_REDIS_URL``. A scan only reads it (no feed is seeded, no file is
written); with no store yet (a fresh machine) only the bundled lists apply,
as on a fresh server.

``scamscan feeds refresh [--feed NAME] [--json]`` downloads the configured
feeds now (``SCAMSCAN_FEEDS``, and the default feeds with
``SCAMSCAN_FEEDS_DEFAULT=on``), through the same guard and limits as the
server, and saves each new generation in the store in one transaction (SQLite
in the data directory, or Redis): a running server picks it up within
``SCAMSCAN_LISTS_SYNC_INTERVAL``, without a restart. It prints, per feed, the
entries, the age and the error; exit 1 when every feed failed (or none is
configured), 2 for an unknown feed. ``scamscan feeds status [--json]`` prints
the same without downloading.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from api.services.lists import ListService
    from api.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    """The ``feeds`` subcommand on ``sub`` (the CLI's subparsers)."""
    f = sub.add_parser("feeds", help="refresh the blocklist feeds now, or show their state "
                       "(the server's store: SCAMSCAN_DATA_DIR, or Redis)")
    fsub = f.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    fr = fsub.add_parser("refresh", help="download the configured feeds now (SCAMSCAN_FEEDS; "
                         "hostsVN and ChongLuaDao with SCAMSCAN_FEEDS_DEFAULT=on)")
    fr.add_argument("--feed", metavar="NAME", help="only this feed")
    fr.add_argument("--json", action="store_true", help="one JSON object per feed")
    fs = fsub.add_parser("status", help="each feed's entries, age and last error")
    fs.add_argument("--json", action="store_true", help="one JSON object per feed")


@asynccontextmanager
async def open_cli_lists(settings: Settings, *, seed: bool = False
                         ) -> AsyncIterator[ListService | None]:
    """The server's lists (None when there is no store yet, embedded).

    ``seed``: add the configured feeds to the store first, as the server does at
    start (``scamscan feeds``); a scan only reads.
    """
    from api.storage.files import LISTS_FILE

    if not settings.redis_url and not seed and not (Path(settings.data_dir)
                                                     / LISTS_FILE).is_file():
        # No store was ever written: the stores (and Redis's client) stay unimported,
        # which is most of a first scan's start-up.
        yield None
        return
    from api.services.lists import ListService
    from api.storage.errors import ListStoreUnavailable
    from api.storage.factory import open_list_store

    try:
        store = open_list_store(settings.data_dir, settings.redis_url,
                                redis_timeout=settings.redis_timeout)
        if seed:
            await store.version()  # unavailable: say so, rather than "no feed"
    except ListStoreUnavailable as e:
        if seed:
            raise
        # As the server: the bundled lists answer while the store does not.
        print(f"scamscan: warning: {e}; only the bundled lists are used", file=sys.stderr)
        yield None
        return
    service = ListService(settings, store, write_apk_file=False)
    try:
        await service.open(watch=False, seed=seed)
        yield service
    finally:
        await service.aclose()


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never refreshed"
    if seconds < 120:
        return f"{seconds:.0f} s old"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min old"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h old"
    return f"{seconds / 86400:.1f} days old"


def _line(st: dict[str, Any], error: str | None) -> str:
    state = "FAILED" if error else ("ok" if st["in_use"] else "no data")
    out = (f"{st['name']}: {state}, {st['entries']} entries (generation {st['generation']}), "
           f"{_age(st['age_seconds'])}")
    if st["stale"] and st["enabled"]:
        out += ", stale"
    if not st["enabled"]:
        out += ", disabled"
    if error:
        out += f"\n  error: {error}"
        out += ("\n  the previous generation stays in use" if st["in_use"] else
                "\n  no generation yet: scans use the bundled lists")
    return out


async def _feeds(args: argparse.Namespace, settings: Settings) -> int:
    from api.storage.errors import ListStoreUnavailable

    try:
        async with open_cli_lists(settings, seed=True) as lists:
            if lists is None or not lists.feeds:
                print("scamscan: no feed is configured: set SCAMSCAN_FEEDS_DEFAULT=on (hostsVN "
                      "and ChongLuaDao) or SCAMSCAN_FEEDS", file=sys.stderr)
                return EXIT_FAILED
            errors: dict[str, str | None] = {}
            if args.feeds_command == "refresh":
                if args.feed is not None and args.feed not in lists.feeds:
                    print(f"scamscan: error: no feed named {args.feed!r} (configured: "
                          f"{', '.join(sorted(lists.feeds))})", file=sys.stderr)
                    return EXIT_USAGE
                results = await lists.refresh(args.feed)
                errors = {r["feed"]: r["error"] for r in results}
            status = lists.feed_status()
    except ListStoreUnavailable as e:
        print(f"scamscan: {e}", file=sys.stderr)
        return EXIT_FAILED
    if args.feeds_command == "refresh":
        status = [s for s in status if s["name"] in errors]
    else:
        errors = {s["name"]: s["last_error"] for s in status}
    for st in status:
        if args.json:
            sys.stdout.buffer.write(orjson.dumps({**st, "last_error": errors[st["name"]]})
                                    + b"\n")
        else:
            print(_line(st, errors[st["name"]]))
    if args.feeds_command == "refresh" and all(errors.values()):
        return EXIT_FAILED
    return EXIT_OK


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """``scamscan feeds refresh|status``; the exit status."""
    import asyncio

    return asyncio.run(_feeds(args, settings))
