"""Time the API's request path in process: no HTTP server, no load generator.

    .venv/bin/python bench/api_request_path.py [--requests 1500] [--warm 100]

Builds the app (:func:`api.main.create_app`) over a fresh data directory
(keyless loopback use, the keyless rate limit lifted), enters its lifespan and
sends, one after another through httpx's ASGI transport, ``--warm`` link scans
to warm the caches, then ``--requests`` offline ``POST /v1/url-scans`` of
distinct hosts and ``--requests`` ``GET /healthz``. Prints milliseconds per
request for each. On a shared machine run it several times and compare the
best runs.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from api.main import create_app
from api.settings import Settings


async def run(requests: int, warm: int) -> tuple[float, float]:
    """Milliseconds per link scan and per health check."""
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data), rate_limit_keyless="1000000/minute",
                            log_level="WARNING")
        app = create_app(settings)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
            for i in range(warm):
                await c.post("/v1/url-scans", json={"url": f"warm{i}.example.vn"})
            started = time.perf_counter()
            for i in range(requests):
                r = await c.post("/v1/url-scans", json={"url": f"shop{i}.example{i % 7}.vn"})
                r.raise_for_status()
            scans = time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(requests):
                (await c.get("/healthz")).raise_for_status()
            health = time.perf_counter() - started
    return 1000 * scans / requests, 1000 * health / requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--warm", type=int, default=100)
    args = ap.parse_args()
    scan_ms, health_ms = asyncio.run(run(args.requests, args.warm))
    print(f"POST /v1/url-scans {scan_ms:.3f} ms/request; GET /healthz {health_ms:.3f} "
          "ms/request")


if __name__ == "__main__":
    main()
