"""How long the API takes to answer while Redis is frozen (SIGSTOP): upload, search, status.

Usage: ``PYTHONPATH=$PWD python bench/redis_freeze.py [PAUSE]``. Starts a
throw-away ``redis-server``, an app with ``SCAMSCAN_REDIS_URL`` set (no
worker), warms it up, stops Redis and times one upload, one history search and
one status read, each after ``PAUSE`` seconds (default 3: longer than the
Redis time-out, so no request profits from the previous one's time-out).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.live_servers_age import RedisServer
from tests.test_queue import api, upload


async def main(pause: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="scamscan-freeze-"))
    with RedisServer(tmp) as server:
        async with api(server.url, tmp / "data") as client:
            warm = await upload(client, "debug_signed.apk")
            await client.get("/v1/scans")
            calls: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]] = [
                ("upload", lambda: upload(client, "fake_vneid.apk")),
                ("search", lambda: client.get("/v1/scans", params={"q": "x"})),
                ("status", lambda: client.get(warm.json()["status_url"])),
            ]
            os.kill(server._proc.pid, signal.SIGSTOP)
            try:
                for name, call in calls:
                    await asyncio.sleep(pause)
                    t0 = time.monotonic()
                    r = await call()
                    print(f"{name}: {r.status_code} in {time.monotonic() - t0:.1f} s",
                          flush=True)
            finally:
                os.kill(server._proc.pid, signal.SIGCONT)


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0))
