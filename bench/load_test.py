"""Bounded load test of the HTTP API over real HTTP on loopback.

    .venv/bin/python bench/load_test.py [--requests 20000] [--concurrency 50]
                                        [--apks 200] [--apk-mode unique|cycled]
                                        [--max-seconds 1500] [--json FILE]
                                        [--redis-url redis://127.0.0.1:6379/0]
                                        [--client aiohttp|httpx]
                                        [--event-loop asyncio|uvloop]

Starts two servers on 127.0.0.1, each a subprocess on a free port, both with
the same event loop (``--event-loop``, default ``scamscan serve``'s own:
``SCAMSCAN_EVENT_LOOP``'s default, ``asyncio``; before 2026-12-06 ``uvloop``)
and otherwise uvicorn's defaults (one process; the ``httptools`` parser; access
logs on, to a file in a temporary folder):

* **baseline**: a trivial FastAPI app with one route, ``GET /ping`` (a small
  JSON object), served by ``uvicorn.run`` exactly as ``scamscan serve`` serves
  the real app;
* **scamscan**: ``scamscan serve --host 127.0.0.1 --port P`` with its data
  directory in the temporary folder, no key made (keyless loopback use, the
  ``admin`` role) and ``SCAMSCAN_RATE_LIMIT_KEYLESS=1000000/minute``: the
  default (60/minute per client address) would answer 429 to nearly all of
  the load; the limiter still runs and counts every request.

With ``--redis-url`` the scamscan server runs in Redis mode
(``SCAMSCAN_REDIS_URL``: keys, rate limits, history and APK jobs in that Redis;
use a throw-away database, and ``--apks 0`` unless a ``scamscan worker`` serves
it); without it, embedded (SQLite under the temporary data directory).

Then ``--concurrency`` workers, each with its own client of one keep-alive
connection (see :class:`Client`: aiohttp on uvloop by default, or httpx on
asyncio's loop as before 2026-12-06), keep that many requests in flight:

1. ``GET /ping`` on the baseline, ``--requests`` times;
2. ``GET /healthz`` on scamscan, ``--requests`` times (the app's middleware
   stack, no scan);
3. ``POST /v1/url-scans`` (``offline: true``), ``--requests`` different
   hosts: one in three from the bundled blocklists (the costly case: several
   findings), the others benign-looking names (known-good domains under new
   subdomains, made-up shop names);
4. ``--apks`` uploads (``POST /v1/apk-scans?wait=0``, multipart) of the
   fixtures in ``tests/fixtures/apk/`` cycled, then ``GET
   /v1/scans/{id}?wait=60`` for each until it is ``done`` or ``failed``. With
   ``--apk-mode unique`` (default) every upload is a distinct file (a ZIP
   comment, or trailing bytes for non-ZIP fixtures, tell the copies apart) so
   that every upload is a real scan; ``cycled`` sends the fixtures as they are
   (after the first round every upload is deduplicated and answered at once).

Each phase also reports the server process's CPU time per request (user and
system, from ``/proc/<pid>/stat``; Linux only, else absent): on a machine shared
with other work, throughput and latency swing with what else runs, this much less.

An error is a transport error, a time-out or an unexpected status (anything
but 200 for the first three, 200/202 for uploads), and for APKs a scan that
did not end, or ended ``failed`` for the server's sake (``timeout``,
``worker-lost``); broken fixtures (not a ZIP, a zip bomb...) are meant to end
``failed`` and are counted apart. Latency is per request, from just before
the call to the end of the response body, client side. The load generator
runs on the same machine, so it takes its share of the cores in every
figure; the baseline shows the most this client can drive.

Every phase and the whole run are bounded in time; the servers are stopped
on exit whatever happens. The exit status is 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import blocklists
from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "apk"
SELF = Path(__file__).resolve()
APK_TYPE = "application/vnd.android.package-archive"
HOST = "127.0.0.1"
SERVER_FAULTS = {"timeout", "worker-lost"}
"""``error_kind`` of a scan that failed because of the server, not the file."""


# --- servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def serve_ping(port: int, loop: str) -> None:
    """The baseline server: a trivial FastAPI app, served as ``scamscan serve`` serves
    (``loop``: its event loop)."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host=HOST, port=port, log_level="info", loop=loop)


SERVER_PIDS: dict[str, int] = {}
"""The process id of each running server, by base URL (for :func:`cpu_seconds`)."""


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of process ``pid`` so far (None: not on Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(cmd: list[str], port: int, health: str, env: dict[str, str], log: Path,
           timeout: float = 60.0) -> Iterator[str]:
    """Run ``cmd`` until the block ends; yields its base URL once ``health`` answers 200."""
    base = f"http://{HOST}:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        SERVER_PIDS[base] = proc.pid
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited ({proc.returncode}); see {log}:\n"
                                       + log.read_text(errors="replace")[-3000:])
                try:
                    if httpx.get(base + health, timeout=2.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base}{health} did not answer within {timeout} s")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# --- load ------------------------------------------------------------------------------


@dataclass
class Stats:
    name: str
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float | None = None
    """CPU seconds the server process spent during the phase (None: not measured)."""

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rps(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] * 1000.0

    def row(self) -> dict[str, Any]:
        return {"phase": self.name, "requests": self.requests, "errors": self.error_count,
                "error_kinds": dict(self.errors), "wall_s": round(self.wall, 2),
                "req_per_s": round(self.rps, 1), "p50_ms": round(self.pct(0.50), 2),
                "p90_ms": round(self.pct(0.90), 2), "p99_ms": round(self.pct(0.99), 2),
                "max_ms": round(self.pct(1.0), 2),
                "server_cpu_ms_per_req": (round(1000 * self.server_cpu / self.requests, 3)
                                          if self.server_cpu is not None and self.requests
                                          else None)}


@dataclass
class Reply:
    """What a phase keeps of a response: its status and body."""

    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ClientError(Exception):
    """A transport error or a time-out, whichever client library raised it."""


class Client:
    """One keep-alive connection to the server, through ``--client``'s library.

    ``aiohttp`` (the default) costs the load generator about a tenth of the CPU per
    request that ``httpx`` does (0.09 against 0.86 ms on the 2-core machine of
    docs/evaluation.md): with ``httpx`` the client, which shares the cores with the
    server, was the bottleneck, and a trivial endpoint's p99 at concurrency 50 was
    mostly the client's own queueing. ``httpx`` stays available to compare runs with
    the figures measured before.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._aio: Any = None
        self._httpx: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Client:
        if self.kind == "aiohttp":
            import aiohttp
            self._aio = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1),
                timeout=aiohttp.ClientTimeout(total=30.0))
        else:
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
            self._httpx = httpx.AsyncClient(limits=limits, timeout=30.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._aio is not None:
            await self._aio.close()
        if self._httpx is not None:
            await self._httpx.aclose()

    async def request(self, method: str, url: str, *, params: dict[str, Any] | None = None,
                      json_body: Any = None, file: tuple[str, bytes, str] | None = None,
                      seconds: float = 30.0) -> Reply:
        """``method`` on ``url`` with a JSON body or one multipart ``file`` field, within
        ``seconds``."""
        if self._aio is not None:
            import aiohttp
            data = None
            if file is not None:
                data = aiohttp.FormData()
                data.add_field("file", file[1], filename=file[0], content_type=file[2])
            try:
                async with self._aio.request(
                        method, url, params=params, json=json_body, data=data,
                        timeout=aiohttp.ClientTimeout(total=seconds)) as r:
                    return Reply(r.status, await r.read())
            except (aiohttp.ClientError, TimeoutError) as e:
                raise ClientError(type(e).__name__) from e
        if self._httpx is None:
            raise RuntimeError("Client used outside its `async with`")
        try:
            r = await self._httpx.request(
                method, url, params=params, json=json_body, timeout=seconds,
                files={"file": file} if file is not None else None)
        except httpx.HTTPError as e:
            raise ClientError(type(e).__name__) from e
        return Reply(r.status_code, r.content)

    async def get(self, url: str, **kw: Any) -> Reply:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> Reply:
        return await self.request("POST", url, **kw)


Call = Callable[[Client, int], Awaitable[Reply]]


@asynccontextmanager
async def connections(n: int, kind: str) -> AsyncIterator[list[Client]]:
    """``n`` clients of one keep-alive connection each: one per worker.

    Not one client with a pool of ``n``: httpx's pool costs grow with its size
    (on this machine one pool of 50 drove a trivial route at ~190 req/s, 50
    clients of one connection at ~580 req/s), which would measure the client.
    """
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(Client(kind)) for _ in range(n)]


async def load(name: str, clients: list[Client], n: int, call: Call,
               ok: Callable[[Reply], bool], deadline: float,
               keep: list[Reply] | None = None, server: str | None = None) -> Stats:
    """``n`` calls, one worker per client; stops (as errors) at ``deadline``. ``server``:
    the base URL whose process's CPU time is measured over the phase."""
    stats = Stats(name)
    counter = iter(range(n))

    async def worker(client: Client) -> None:
        for i in counter:
            if time.monotonic() > deadline:
                stats.errors["run deadline"] += 1
                continue
            t0 = time.perf_counter()
            try:
                r = await call(client, i)
            except ClientError as e:
                stats.errors[str(e)] += 1
                continue
            finally:
                stats.requests += 1
            stats.latencies.append(time.perf_counter() - t0)
            if not ok(r):
                stats.errors[f"HTTP {r.status_code}"] += 1
            elif keep is not None:
                keep.append(r)

    pid = SERVER_PIDS.get(server or "")
    cpu0 = cpu_seconds(pid) if pid else None
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    stats.wall = time.perf_counter() - t0
    cpu1 = cpu_seconds(pid) if pid else None
    if cpu0 is not None and cpu1 is not None:
        stats.server_cpu = cpu1 - cpu0
    return stats


# --- inputs ----------------------------------------------------------------------------


def _lines(name: str) -> list[str]:
    out = []
    for line in (blocklists.data_dir() / name).open(encoding="utf-8"):
        h = line.split(",", 1)[0].strip()
        if h and not h.startswith("#") and h != "registrable_domain":
            out.append(h)
    return out


def url_inputs(n: int) -> list[str]:
    """``n`` distinct hosts: one in three listed, the others benign-looking."""
    listed = list(dict.fromkeys(_lines("hostsvn_threat_vn.txt") + _lines("chongluadao_v2.txt")))
    good = list(dict.fromkeys(_lines("known_good.csv")))
    words = ["shop", "news", "cafe", "travel", "hoc", "nhac", "sach", "phim", "xe", "nha"]
    tlds = ["com", "vn", "com.vn", "net", "org", "io"]
    out: list[str] = []
    for i in range(n):
        if i % 3 == 0:
            h = listed[(i // 3) % len(listed)]
            out.append(h if i // 3 < len(listed) else f"m{i}.{h}")
        elif i % 3 == 1:
            out.append(f"https://www{i}.{good[i % len(good)]}/tin-tuc?id={i}")
        else:
            out.append(f"{words[i % len(words)]}{i}{words[(i // 7) % len(words)]}."
                       f"{tlds[i % len(tlds)]}")
    return out


def apk_fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.suffix in (".apk", ".apks", ".xapk"))


def unique_copy(data: bytes, tag: int) -> bytes:
    """A distinct file: a ZIP with a comment naming ``tag``, else ``data`` plus bytes."""
    mark = f"scamscan load test {tag}".encode()
    eocd = data.rfind(b"PK\x05\x06")
    if eocd >= 0 and len(data) - eocd >= 22:
        (comment_len,) = struct.unpack_from("<H", data, eocd + 20)
        if eocd + 22 + comment_len == len(data):
            return data[:eocd + 20] + struct.pack("<H", len(mark)) + mark
    return data + b"\n" + mark


# --- the run ---------------------------------------------------------------------------


async def run_apks(clients: list[Client], base: str, n: int, mode: str,
                   deadline: float) -> tuple[Stats, Stats, dict[str, Any]]:
    files = [(p.name, p.read_bytes()) for p in apk_fixtures()]

    def body(i: int) -> tuple[str, bytes]:
        name, data = files[i % len(files)]
        return name, (unique_copy(data, i) if mode == "unique" else data)

    async def upload(c: Client, i: int) -> Reply:
        name, data = body(i)
        return await c.post(f"{base}/v1/apk-scans", params={"wait": 0},
                            file=(name, data, APK_TYPE))

    accepted: list[Reply] = []
    t0 = time.perf_counter()
    up = await load("POST /v1/apk-scans (upload)", clients, n, upload,
                    lambda r: r.status_code in (200, 202), deadline, accepted)
    ids = [r.json()["scan_id"] for r in accepted]
    outcomes: Counter[str] = Counter()
    by_fixture: dict[str, Counter[str]] = {}
    polls = Counter[str]()

    async def finish(c: Client, i: int) -> Reply:
        while True:
            polls["polls"] += 1
            r = await c.get(f"{base}/v1/scans/{ids[i]}", params={"wait": 60}, seconds=90)
            if r.status_code != 200 or r.json()["status"] in ("done", "failed"):
                return r
            if time.monotonic() > deadline:
                return r

    def ended(r: Reply) -> bool:
        if r.status_code != 200:
            return False
        job = r.json()
        fixture = job["input"]
        outcome = job["status"] if job["status"] != "failed" else f"failed:{job['error_kind']}"
        outcomes[outcome] += 1
        by_fixture.setdefault(fixture, Counter())[outcome] += 1
        return job["status"] == "done" or (job["status"] == "failed"
                                           and job.get("error_kind") not in SERVER_FAULTS)

    done = await load("GET /v1/scans/{id}?wait=60 (until ended)", clients, len(ids),
                      finish, ended, deadline)
    total = time.perf_counter() - t0
    summary = {"uploads": n, "accepted": len(ids), "mode": mode,
               "deduplicated": sum(1 for r in accepted if r.json().get("deduplicated")),
               "polls": polls["polls"], "wall_s": round(total, 2),
               "scans_per_s": round(len(ids) / total, 2) if total else 0.0,
               "outcomes": dict(outcomes),
               "by_fixture": {k: dict(v) for k, v in sorted(by_fixture.items())}}
    return up, done, summary


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    deadline = time.monotonic() + args.max_seconds
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCAMSCAN_")}
    env.update({
        "SCAMSCAN_DATA_DIR": str(tmp / "data"),
        "SCAMSCAN_RATE_LIMIT_KEYLESS": "1000000/minute",
        "SCAMSCAN_LOG_LEVEL": "INFO",
        "SCAMSCAN_EVENT_LOOP": args.event_loop,
    })
    if args.redis_url:
        env["SCAMSCAN_REDIS_URL"] = args.redis_url
    scamscan = shutil.which("scamscan", path=str(Path(sys.executable).parent)) or "scamscan"
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
                   f"Python {platform.python_version()}",
        "requests": args.requests, "concurrency": args.concurrency, "client": args.client,
        "mode": "redis" if args.redis_url else "embedded", "event_loop": args.event_loop,
        "phases": []}
    urls = url_inputs(args.requests)

    async with connections(args.concurrency, args.client) as clients:
        port = free_port()
        with server([sys.executable, str(SELF), "--serve-ping", str(port),
                     "--event-loop", args.event_loop],
                    port, "/ping", env, tmp / "ping.log") as base:
            ping = await load("baseline GET /ping", clients, args.requests,
                              lambda c, i: c.get(f"{base}/ping"),
                              lambda r: r.status_code == 200, deadline, server=base)
            print(_line(ping), flush=True)

    async with connections(args.concurrency, args.client) as clients:
        port = free_port()
        with server([scamscan, "serve", "--host", HOST, "--port", str(port)], port,
                    "/healthz", env, tmp / "scamscan.log", timeout=120) as base:
            health = await load("GET /healthz", clients, args.requests,
                                lambda c, i: c.get(f"{base}/healthz"),
                                lambda r: r.status_code == 200, deadline, server=base)
            print(_line(health), flush=True)
            scans = await load(
                "POST /v1/url-scans (offline)", clients, args.requests,
                lambda c, i: c.post(f"{base}/v1/url-scans",
                                    json_body={"url": urls[i], "offline": True}),
                lambda r: r.status_code == 200, deadline, server=base)
            print(_line(scans), flush=True)
            up, done, apk = await run_apks(clients, base, args.apks, args.apk_mode, deadline)
            print(_line(up), flush=True)
            print(_line(done), flush=True)
            print(json.dumps(apk), flush=True)
    results["phases"] = [s.row() for s in (ping, health, scans, up, done)]
    results["apk"] = apk
    results["ratios"] = {
        "healthz/baseline throughput": round(health.rps / ping.rps, 3),
        "url-scans/baseline throughput": round(scans.rps / ping.rps, 3),
        "url-scans/baseline p50": round(scans.pct(0.5) / ping.pct(0.5), 2),
        "url-scans/baseline p99": round(scans.pct(0.99) / ping.pct(0.99), 2),
    }
    if scans.server_cpu and ping.server_cpu:
        results["ratios"]["url-scans/baseline server CPU per request"] = round(
            (scans.server_cpu / scans.requests) / (ping.server_cpu / ping.requests), 2)
    results["errors"] = sum(p["errors"] for p in results["phases"])
    return results


def _line(s: Stats) -> str:
    r = s.row()
    return (f"{r['phase']:<44} {r['requests']:>6} req  {r['req_per_s']:>8.1f} req/s  "
            f"p50 {r['p50_ms']:>7.1f} ms  p90 {r['p90_ms']:>7.1f} ms  "
            f"p99 {r['p99_ms']:>7.1f} ms  errors {r['errors']} {r['error_kinds'] or ''}"
            + (f"  server CPU {r['server_cpu_ms_per_req']:.3f} ms/req"
               if r["server_cpu_ms_per_req"] is not None else ""))


def markdown(res: dict[str, Any]) -> str:
    rows = ["| phase | requests | errors | req/s | p50 ms | p90 ms | p99 ms |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for p in res["phases"]:
        rows.append(f"| {p['phase']} | {p['requests']:,} | {p['errors']} | "
                    f"{p['req_per_s']:,.0f} | {p['p50_ms']:.1f} | {p['p90_ms']:.1f} | "
                    f"{p['p99_ms']:.1f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--apks", type=int, default=200)
    ap.add_argument("--apk-mode", choices=("unique", "cycled"), default="unique")
    ap.add_argument("--max-seconds", type=float, default=1500.0,
                    help="bound of the whole run; what is left then counts as errors")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--redis-url", help="run the scamscan server in Redis mode on this "
                    "(throw-away) Redis database")
    ap.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp",
                    help="the load generator's HTTP client (aiohttp on uvloop; httpx on "
                    "asyncio's loop, as the figures before 2026-12-06 were measured)")
    ap.add_argument("--event-loop", choices=("asyncio", "uvloop"),
                    default=Settings.model_fields["event_loop"].default,
                    help="the event loop of both servers (SCAMSCAN_EVENT_LOOP; default: "
                    "scamscan serve's)")
    ap.add_argument("--serve-ping", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_ping:
        serve_ping(args.serve_ping, args.event_loop)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="scamscan-load-"))
    try:
        if args.client == "aiohttp":
            import uvloop
            res = uvloop.run(run(args, tmp))
        else:
            res = asyncio.run(run(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(markdown(res))
    print()
    print(json.dumps({k: v for k, v in res.items() if k != "phases"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
