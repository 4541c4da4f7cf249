"""Processes die with the server (issue 15): nothing outlives a ``kill -9``.

A real ``scamscan serve`` on a free loopback port scans a real APK fixture, so
that its scan pool worker, that worker's fork server, the idle parse child and
multiprocessing's resource tracker exist; then the server is killed with
SIGKILL (no clean-up code of its own runs). Within a few seconds none of the
processes it had started may be left, nor any of the POSIX semaphores
(``/dev/shm/sem.*``) they had mapped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis

from api.queue import WORKERS_KEY
from tests.live_servers_age import RedisServer, free_port
from tests.test_api_apk import APK_TYPE, FIXTURES

ROOT = Path(__file__).resolve().parent.parent
GONE_WITHIN = 10.0
"""Seconds allowed for every descendant to be gone (a bound, not a measurement)."""

Proc = tuple[int, str]
"""A process: pid and start time (field 22 of /proc/<pid>/stat), so a reused pid
is not taken for the same process."""


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()  # fields from 3 (state) on


def descendants(root: int) -> set[Proc]:
    """Every live process below ``root`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[Proc] = set()
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            fields = _stat(pid)
            if fields is not None:
                found.add((pid, fields[19]))
                todo.append(pid)
    return found


def alive(proc: Proc) -> bool:
    """The same process still exists and is not a zombie."""
    fields = _stat(proc[0])
    return fields is not None and fields[19] == proc[1] and fields[0] not in ("Z", "X")


def semaphores(pids: set[int]) -> set[str]:
    """The POSIX named semaphores (``/dev/shm/sem.*``) mapped by ``pids``."""
    found: set[str] = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as f:
                maps = f.read()
        except OSError:
            continue
        found.update(line.split()[-1] for line in maps.splitlines()
                     if "/dev/shm/sem." in line)
    return found


@pytest.mark.slow
def test_killed_server_leaves_no_process_nor_semaphore(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCAMSCAN_")}
    env.update(SCAMSCAN_DATA_DIR=str(tmp_path / "data"), SCAMSCAN_LOG_FORMAT="text",
               SCAMSCAN_APK_WORKERS="1")
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    kids: set[Proc] = set()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        files = {"file": ("a.apk", (FIXTURES / "fake_vneid.apk").read_bytes(), APK_TYPE)}
        r = httpx.post(base + "/v1/apk-scans", params={"wait": 60}, files=files, timeout=90)
        assert r.status_code == 200 and r.json()["status"] == "done", r.text

        kids = descendants(server.pid)
        # the pool worker, its fork server, the resource tracker (and the idle parse child)
        assert len(kids) >= 3, kids
        sems = semaphores({p for p, _ in kids} | {server.pid})
        assert sems, "the scan pool maps no semaphore: nothing would be proved"

        server.kill()  # SIGKILL: no clean-up of the server's own runs
        server.wait()
        deadline = time.monotonic() + GONE_WITHIN
        while any(alive(p) for p in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(p for p in kids if alive(p))
        assert not left, f"still running after the server was killed: {left}"
        deadline = time.monotonic() + GONE_WITHIN
        while any(os.path.exists(s) for s in sems) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [s for s in sems if os.path.exists(s)]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for proc in kids:  # whatever this test left behind (when it failed)
            if alive(proc):
                with contextlib.suppress(OSError):
                    os.kill(proc[0], signal.SIGKILL)
        log.close()


CHILD = """
import os, sys, time
from scanners.lifetime import set_parent_death_signal
pid = os.fork()
if pid == 0:
    assert set_parent_death_signal()
    print(os.getpid(), flush=True)
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""


def test_parent_death_signal_kills_a_child_whose_parent_was_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    fields = _stat(child)
    assert fields is not None and int(fields[1]) == parent.pid
    proc = (child, fields[19])
    try:
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + GONE_WITHIN
        while alive(proc) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(proc)
    finally:
        parent.stdout.close()
        if alive(proc):
            os.kill(child, signal.SIGKILL)


@pytest.mark.slow
def test_killed_worker_supervisor_leaves_no_worker_process(
    redis_server: RedisServer, rdb: redis.Redis, tmp_path: Path
) -> None:
    """``scamscan worker --processes 2`` killed with SIGKILL: its worker processes stop
    (cleanly: they leave the heartbeat set) instead of running on unsupervised."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCAMSCAN_")}
    env.update(SCAMSCAN_REDIS_URL=redis_server.url, SCAMSCAN_DATA_DIR=str(tmp_path / "data"))
    log = (tmp_path / "worker.log").open("wb")
    supervisor = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--processes", "2"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    kids: set[Proc] = set()
    try:
        deadline = time.monotonic() + 60
        while rdb.zcard(WORKERS_KEY) < 2:
            assert supervisor.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        kids = descendants(supervisor.pid)
        assert len(kids) >= 2, kids

        supervisor.kill()
        supervisor.wait()
        deadline = time.monotonic() + 2 * GONE_WITHIN
        while any(alive(p) for p in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(p for p in kids if alive(p))
        assert not left, f"still running after the supervisor was killed: {left}"
        assert rdb.zcard(WORKERS_KEY) == 0  # they stopped cleanly
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for proc in kids:
            if alive(proc):
                with contextlib.suppress(OSError):
                    os.kill(proc[0], signal.SIGKILL)
        log.close()
