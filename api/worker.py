"""``scamscan worker``: run APK scan jobs from the Redis queue (dramatiq).

One worker process runs a dramatiq :class:`~dramatiq.Worker` with ``threads``
threads consuming the ``apk`` queue, plus a heartbeat thread that writes
``ZADD scamscan:workers <now> <worker id>`` every :data:`HEARTBEAT_EVERY`
seconds (``/readyz`` reads it), and a :class:`~api.broker.StrayWatch` thread
that requeues messages stranded in this worker's ack sets. ``--processes N``
starts N such processes and restarts one that dies.

SIGTERM or SIGINT stops cleanly: no new job is taken, the jobs running are
given ``shutdown_timeout`` seconds to finish, messages taken but not started
go back to the queue, and the worker leaves ``scamscan:workers``. A job still
running past that bound is left unacknowledged: dramatiq hands it to another
worker once this one's broker heartbeat is stale.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from types import FrameType

import dramatiq
from redis.exceptions import RedisError

from api.broker import StrayWatch
from api.queue import QUEUE_NAME, WORKERS_KEY, make_broker, register_actor
from api.settings import Settings
from api.storage.redis import DEFAULT_TIMEOUT, sync_client
from scanners.lifetime import die_with_parent

log = logging.getLogger("scamscan.worker")

HEARTBEAT_EVERY = 5.0
"""Seconds between two heartbeats in ``scamscan:workers``."""
HEARTBEAT_FORGET = 86400.0
"""Entries older than this (workers killed long ago) are dropped by the heartbeat."""


class Heartbeat(threading.Thread):
    """``ZADD scamscan:workers <now> <id>`` every few seconds; ``ZREM`` on :meth:`stop`."""

    def __init__(self, url: str, worker_id: str, every: float = HEARTBEAT_EVERY, *,
                 timeout: float = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(name="scamscan-heartbeat", daemon=True)
        self.redis = sync_client(url, timeout)
        self.worker_id = worker_id
        self.every = every
        self.clock = clock
        """Unix time of a beat (injected by tests, so that none waits for a real beat)."""
        self._stop_event = threading.Event()

    def beat(self) -> None:
        """Record this worker as alive now, and drop entries of workers long gone."""
        now = self.clock()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(WORKERS_KEY, {self.worker_id: now})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now - HEARTBEAT_FORGET)
        pipe.execute()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.beat()
            except (RedisError, OSError) as e:
                log.warning("worker heartbeat failed: %s", e)
            self._stop_event.wait(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
        try:
            self.redis.zrem(WORKERS_KEY, self.worker_id)
        except (RedisError, OSError) as e:
            log.warning("could not remove the worker heartbeat: %s", e)
        finally:
            self.redis.close()


def _configure_logging(level: str) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("scamscan").setLevel(level)


def run_worker(settings: Settings, *, threads: int = 1, shutdown_timeout: float = 30.0) -> int:
    """Run one worker process until SIGTERM/SIGINT; returns the exit status."""
    _configure_logging(settings.log_level)
    assert settings.redis_url  # noqa: S101 - the CLI checks it
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    register_actor(broker, settings)
    worker = dramatiq.Worker(broker, queues={QUEUE_NAME}, worker_threads=threads,
                             worker_timeout=1000)
    # Take one message per thread, not dramatiq's two: a busy worker must not
    # hold back jobs that an idle one could run.
    worker.queue_prefetch = threads
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    heartbeat = Heartbeat(settings.redis_url, worker_id, timeout=settings.redis_timeout)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # As dramatiq's own CLI does: TimeLimit starts its watchdog thread here.
    broker.emit_after("process_boot")
    worker.start()
    heartbeat.start()
    strays = StrayWatch(broker)
    strays.start()
    log.info("scamscan worker %s ready: %d thread(s), queue %r", worker_id, threads, QUEUE_NAME)
    while not stop.wait(0.5):
        pass
    log.info("scamscan worker %s stopping", worker_id)
    strays.stop()
    try:
        worker.stop(timeout=int(shutdown_timeout * 1000))
    finally:
        heartbeat.stop()
        with contextlib.suppress(Exception):
            broker.close()
            broker.client.close()
    log.info("scamscan worker %s stopped", worker_id)
    return 0


def _child(settings: Settings, threads: int, shutdown_timeout: float, parent: int) -> None:
    # A supervisor killed outright must not leave its workers running unsupervised
    # (a restarted one would add as many again): they stop as on SIGTERM.
    die_with_parent(parent, signal.SIGTERM)
    raise SystemExit(run_worker(settings, threads=threads, shutdown_timeout=shutdown_timeout))


def run_workers(settings: Settings, *, processes: int = 1, threads: int = 1,
                shutdown_timeout: float = 30.0) -> int:
    """Run ``processes`` worker processes (one: in this process); restart one that dies."""
    if processes <= 1:
        return run_worker(settings, threads=threads, shutdown_timeout=shutdown_timeout)
    _configure_logging(settings.log_level)
    ctx = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def spawn() -> multiprocessing.process.BaseProcess:
        p = ctx.Process(target=_child, args=(settings, threads, shutdown_timeout, os.getpid()),
                        name="scamscan-worker")
        p.start()
        return p

    children = [spawn() for _ in range(processes)]
    while not stop.wait(1.0):
        for i, p in enumerate(children):
            if not p.is_alive():
                log.warning("worker process %s exited with %s; starting another", p.pid,
                            p.exitcode)
                children[i] = spawn()
    for p in children:
        if p.pid is not None and p.is_alive():
            os.kill(p.pid, signal.SIGTERM)
    for p in children:
        p.join(shutdown_timeout + 10)
        if p.is_alive():
            p.kill()
            p.join()
    return 0
