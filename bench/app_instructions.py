"""Instructions (or CPU time) per request of the app's own path: the ASGI app called
directly, no HTTP server, no load generator.

    .venv/bin/python bench/app_instructions.py [--route url-scans|healthz|ping]
        [--requests 300] [--warm 300] [--no-scan] [--redis-url URL]
        [--event-loop asyncio|uvloop]
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \\
        .venv/bin/python bench/app_instructions.py --callgrind [...]

Builds the app over a fresh data directory (keyless loopback use, the keyless rate
limit lifted, the history's batch window made long so that its writes stay out of the
measured requests), enters its lifespan, sends ``--warm`` requests, then measures
``--requests`` more, one after another, each a hand-made ASGI ``http`` scope (the
headers an HTTP client sends) with the body ready, as uvicorn gives it. ``url-scans``
sends offline scans of the load test's hosts (``bench/load_test.py``); ``ping`` is a
trivial FastAPI app with one route, the load test's baseline. ``--no-scan`` answers
every scan with the first one's report, to measure the request path without the scan.

Wall-clock and CPU times swing with what else the machine runs. Under callgrind
(``--callgrind``: instrumentation is switched on for the measured requests only, with
``callgrind_control``, and the garbage collector is off while they run) the count of
instructions per request is the same from run to run within about 2 %, whatever the
load: divide the ``Collected`` count valgrind prints by ``--requests``. It counts
instructions, not time: a system call or a cache miss costs far more than its
instructions, so compare trees with both this and the load test's CPU column.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.settings import Settings
from bench.load_test import url_inputs

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope_for(path: str, method: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"Python/3.11 aiohttp/3.13"),
               (b"accept", b"*/*"), (b"accept-encoding", b"gzip, deflate")]
    if method == "POST":
        headers += [(b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json")]
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 40000), "scheme": "http", "method": method,
            "root_path": "", "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": headers, "state": {}}


async def call(app: ASGI, path: str, method: str, body: bytes) -> int:
    """One request through ``app``; its status."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_for(path, method, body), receive, send)
    return status


def ping_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


def fixed_scans() -> None:
    """Answer every scan with the first one's report (``--no-scan``); the scan function
    of this tree (``_scan_alone`` since 2026-12-06, ``scan_url`` before)."""
    import api.services.scans as scans

    for name in ("_scan_alone", "scan_url"):
        original = getattr(scans, name, None)
        if original is None:
            continue

        def again(original: Any) -> Any:
            first: dict[str, Any] = {}

            async def scan(url: str, scanner: Any, lang: str, incomplete: Any
                           ) -> dict[str, Any]:
                if not first:
                    first.update(await original(url, scanner, lang, incomplete))
                return dict(first)

            return scan

        setattr(scans, name, again(original))


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as data:
        lifespan: contextlib.AbstractAsyncContextManager[Any]
        if args.route == "ping":
            app, lifespan = ping_app(), contextlib.nullcontext()
        else:
            from api.main import create_app

            app = create_app(Settings(data_dir=Path(data), log_level="INFO",
                                      rate_limit_keyless="1000000/minute",
                                      redis_url=args.redis_url))
            lifespan = app.router.lifespan_context(app)
        # The access line of every request, to a file (as a server's to its stderr),
        # through the handler the server uses (a plain one in trees before 2026-12-06).
        import logging

        try:
            from api.log_output import RoundBatchedStreamHandler as Handler
        except ImportError:
            Handler = logging.StreamHandler  # type: ignore[assignment,misc]
        log = open(Path(data) / "access.log", "w")  # noqa: SIM115, ASYNC230 - before any request
        logging.getLogger("scamscan").handlers[:] = [Handler(log)]
        if args.no_scan:
            fixed_scans()
        urls = url_inputs(args.warm + args.requests)
        path, method = {"url-scans": ("/v1/url-scans", "POST"), "healthz": ("/healthz", "GET"),
                        "ping": ("/ping", "GET")}[args.route]

        def body(i: int) -> bytes:
            return json.dumps({"url": urls[i], "offline": True}).encode() if method == "POST" \
                else b""

        statuses: dict[int, int] = {}
        async with lifespan:
            if args.route != "ping":
                app.state.services.history.write_delay = 1e6
            for i in range(args.warm):
                await call(app, path, method, body(i))
            gc.collect()
            gc.freeze()
            gc.disable()
            if args.callgrind:
                subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())],  # noqa: ASYNC221
                               check=True, capture_output=True)
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(args.warm, args.warm + args.requests):
                status = await call(app, path, method, body(i))
                statuses[status] = statuses.get(status, 0) + 1
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if args.callgrind:
                subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())],  # noqa: ASYNC221
                               check=True, capture_output=True)
            gc.enable()
        log.close()
    n = args.requests
    print(json.dumps({"route": args.route, "requests": n, "no_scan": args.no_scan,
                      "statuses": statuses, "cpu_ms_per_request": round(1000 * cpu / n, 4),
                      "wall_ms_per_request": round(1000 * wall / n, 4)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--route", choices=("url-scans", "healthz", "ping"),
                        default="url-scans")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--no-scan", action="store_true")
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--redis-url", default=None,
                        help="Redis mode (a throw-away database: it is written to)")
    parser.add_argument("--event-loop", choices=("asyncio", "uvloop"),
                        default=Settings.model_fields["event_loop"].default,
                        help="the loop the app runs on (default: scamscan serve's; uvloop "
                        "before 2026-12-06)")
    args = parser.parse_args()
    os.environ.setdefault("SCAMSCAN_GC_FREEZE_INTERVAL", "0")
    if args.event_loop == "uvloop":
        import uvloop
        uvloop.run(run(args))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
