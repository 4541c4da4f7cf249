"""Count the Redis round trips of keyed link scans in Redis mode (in process).

    .venv/bin/python bench/redis_round_trips.py redis://127.0.0.1:6391/2 [--requests 200]

Builds the app (:func:`api.main.create_app`) on that Redis URL (use a throw-away
database: it is flushed first), makes a ``client`` key, sends 50 warm-up
offline ``POST /v1/url-scans`` with it, then ``--requests`` more one after
another, while Redis's ``MONITOR`` records every command. Prints the commands
the API sent per scan, by name, and their total: a command run inside a Lua
script (the ``limits`` moving window, the history's put script) is not a round
trip and is left out; a pipeline's commands are counted one by one, the
pipeline being one round trip (the history writer's ``EVALSHA``s).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
from collections import Counter
from pathlib import Path

import httpx
import redis

from api.main import create_app
from api.settings import Settings
from api.storage.factory import open_key_store


def monitor(url: str, seen: Counter[str], stop: threading.Event, ready: threading.Event
            ) -> None:
    r = redis.Redis.from_url(url)
    with r.monitor() as m:  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        ready.set()
        for command in m.listen():
            if stop.is_set():
                return
            if command.get("client_type") == "lua":
                continue
            seen[str(command["command"]).split(" ", 1)[0].upper()] += 1


async def run(url: str, n: int) -> Counter[str]:
    redis.Redis.from_url(url).flushdb()
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data), redis_url=url, log_level="WARNING",
                            rate_limit_client="1000000/minute")
        store = open_key_store(settings.data_dir, url)
        _, key = await store.create("bench", "client")
        await store.close()
        app = create_app(settings)
        seen: Counter[str] = Counter()
        stop, ready = threading.Event(), threading.Event()
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1",
                headers={"X-API-Key": key}) as c:
            for i in range(50):
                (await c.post("/v1/url-scans", json={"url": f"warm{i}.example.vn"})
                 ).raise_for_status()
            await asyncio.sleep(0.5)  # the warm-up's history writes
            thread = threading.Thread(target=monitor, args=(url, seen, stop, ready),
                                      daemon=True)
            thread.start()
            ready.wait(10)
            for i in range(n):
                (await c.post("/v1/url-scans", json={"url": f"shop{i}.example.vn"})
                 ).raise_for_status()
            await asyncio.sleep(0.5)  # their history writes
            stop.set()
            redis.Redis.from_url(url).ping()  # one more command wakes the monitor
            thread.join(10)
    seen.pop("PING", None)
    return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("url", help="a throw-away Redis database (flushed)")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    seen = asyncio.run(run(args.url, args.requests))
    per = {k: round(v / args.requests, 2) for k, v in seen.most_common()}
    print(f"Redis commands per keyed link scan: {sum(seen.values()) / args.requests:.2f} "
          f"{per}")


if __name__ == "__main__":
    main()
