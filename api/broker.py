"""The dramatiq Redis broker of ``scamscan worker``, with two repairs.

dramatiq's :class:`~dramatiq.brokers.redis.RedisBroker` takes a message by
moving its id from the queue into the worker's *ack set* (one Lua script),
and removes it from there once the actor returned. Two gaps are closed here:

* **Maintenance on a clock.** dramatiq moves the ack sets of *dead* workers
  back to their queue during a "maintenance" that a command triggers with a
  small chance (0.1 %): on an idle queue that can take many minutes. Here each
  thread asks for one at least every ``maintenance_every`` seconds.
* **Messages stranded with a live worker.** When Redis freezes, a worker's
  fetch can time out on the worker's side and still run in Redis once it is
  thawed: the message then sits in the ack set of a worker that never
  received it and, the worker being alive, no maintenance ever moves it (the
  job stayed ``queued`` until the worker was restarted). The broker keeps the
  ids its consumers really hold (fetched and not yet acked, rejected or
  requeued), and :meth:`ScamscanBroker.requeue_strays`, run every few seconds
  by :class:`StrayWatch`, puts back into the queue every id of its own ack
  sets that it does not hold, once seen in two passes in a row (a fetch
  whose reply is on its way is never taken for a stray). The same repairs a
  message whose ack's reply was lost before the ack ran. The job being
  idempotent (:func:`api.queue.scan_apk`), a message run twice is harmless.

Redis time-outs reach dramatiq as connection errors (it retries those, and
restarts its consumer), not as errors it does not expect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed
from redis.exceptions import RedisError

log = logging.getLogger("scamscan.queue")

MAINTENANCE_EVERY = 5.0
"""Seconds between the queue maintenances each consumer runs (requeues dead workers' jobs)."""
STRAY_CHECK_EVERY = 5.0
"""Seconds between two looks for stranded messages in this worker's ack sets."""


def _redis_id(data: bytes | str) -> str | None:
    try:
        rid = dramatiq.Message.decode(data if isinstance(data, bytes) else data.encode()
                                      ).options.get("redis_message_id")
    except Exception:  # not a message dramatiq can read: nobody holds it
        return None
    return str(rid) if rid else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _closed(e: RedisError) -> Exception:
    """dramatiq's "connection closed", which it handles (retry, consumer restart)."""
    error: Exception = ConnectionClosed(e)  # type: ignore[no-untyped-call]
    return error


class _Consumer(_RedisConsumer):
    """dramatiq's Redis consumer; a Redis error (a time-out) is a closed connection,
    and what it prefetched but never handed out is released when it closes."""

    def __next__(self) -> Any:
        try:
            return super().__next__()  # type: ignore[no-untyped-call]
        except RedisError as e:
            raise _closed(e) from None

    def ack(self, message: Any) -> None:
        try:
            super().ack(message)  # type: ignore[no-untyped-call]
        except RedisError as e:
            raise _closed(e) from None

    def nack(self, message: Any) -> None:
        try:
            super().nack(message)  # type: ignore[no-untyped-call]
        except RedisError as e:
            raise _closed(e) from None

    def requeue(self, messages: Iterable[Any]) -> None:
        try:
            super().requeue(messages)  # type: ignore[no-untyped-call]
        except RedisError as e:
            raise _closed(e) from None

    def close(self) -> None:
        broker: ScamscanBroker = self.broker
        if self.queue_name in broker.delay_queues:
            # dramatiq requeued this thread's delayed messages or, after a connection
            # error, dropped them: either way nobody holds them any more.
            broker.release_all(self.queue_name)
        else:
            broker.release(self.queue_name,
                           [r for r in map(_redis_id, self.message_cache) if r])
        self.message_cache = []
        super().close()


class ScamscanBroker(RedisBroker):
    """dramatiq's Redis broker, with its maintenance on a clock and stray messages
    of its own ack sets requeued (see the module doc)."""

    def __init__(self, *, maintenance_every: float = MAINTENANCE_EVERY, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.maintenance_every = maintenance_every
        self._clock = threading.local()
        self._held: dict[str, set[str]] = {}
        self._held_lock = threading.Lock()
        # A fetch and a look at the ack sets never interleave: an id fetched is
        # in the held set before the next look can see it in Redis.
        self._fetch_lock = threading.Lock()
        self._suspects: dict[str, set[str]] = {}

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _Consumer

    def _should_do_maintenance(self, command: str) -> int:
        if command in ("ack", "nack"):
            return 0
        now = time.monotonic()
        last: float | None = getattr(self._clock, "last", None)
        if last is None or now - last >= self.maintenance_every:
            self._clock.last = now
            return 1
        return 0

    # --- what this worker holds ------------------------------------------------------

    def release(self, queue_name: str, ids: Iterable[str]) -> None:
        """``ids`` are no longer held by a consumer of ``queue_name``."""
        with self._held_lock:
            self._held.get(queue_name, set()).difference_update(ids)

    def release_all(self, queue_name: str) -> None:
        with self._held_lock:
            self._held.pop(queue_name, None)

    def held(self, queue_name: str) -> set[str]:
        with self._held_lock:
            return set(self._held.get(queue_name, ()))

    def _command(self, command: str, queue_name: str, *args: Any) -> Any:
        """Run one command of dramatiq's dispatch script."""
        return self._dispatch(command)(queue_name, *args)  # type: ignore[no-untyped-call]

    def do_fetch(self, queue_name: str, prefetch: int) -> list[Any]:
        with self._fetch_lock:
            data: list[Any] = self._command("fetch", queue_name, prefetch)
            ids = [r for r in (_redis_id(d) for d in data if d is not None) if r]
            with self._held_lock:
                self._held.setdefault(queue_name, set()).update(ids)
        return data

    def do_ack(self, queue_name: str, message_id: str) -> Any:
        result = self._command("ack", queue_name, message_id)  # dramatiq retries a failure
        self.release(queue_name, [message_id])
        return result

    def do_nack(self, queue_name: str, message_id: str) -> Any:
        result = self._command("nack", queue_name, message_id)
        self.release(queue_name, [message_id])
        return result

    def do_requeue(self, queue_name: str, *message_ids: str) -> Any:
        try:
            return self._command("requeue", queue_name, *message_ids)
        finally:  # not retried by dramatiq: a failed one is left to requeue_strays
            self.release(queue_name, message_ids)

    # --- strays --------------------------------------------------------------------

    def ack_set(self, queue_name: str) -> str:
        """The Redis key of this broker's ack set for ``queue_name`` (dramatiq's layout)."""
        return f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"

    def requeue_strays(self) -> int:
        """Requeue the ids of this broker's ack sets that no consumer of it holds, seen
        so in the previous call too; the number requeued. Raises on Redis errors."""
        moved = 0
        for queue_name in sorted(self.queues | self.delay_queues):
            with self._fetch_lock:
                members = {_text(m) for m in self.client.smembers(self.ack_set(queue_name))}
                strays = members - self.held(queue_name)
            confirmed = strays & self._suspects.get(queue_name, set())
            self._suspects[queue_name] = strays - confirmed
            if confirmed:
                self.do_requeue(queue_name, *sorted(confirmed))
                log.warning("requeued %d message%s of queue %r found in this worker's ack "
                            "set without being held (a fetch whose reply was lost)",
                            len(confirmed), "" if len(confirmed) == 1 else "s", queue_name)
                moved += len(confirmed)
        return moved


class StrayWatch(threading.Thread):
    """Calls :meth:`ScamscanBroker.requeue_strays` every ``every`` seconds until stopped."""

    def __init__(self, broker: ScamscanBroker, every: float = STRAY_CHECK_EVERY) -> None:
        super().__init__(name="scamscan-strays", daemon=True)
        self.broker = broker
        self.every = every
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            try:
                self.broker.requeue_strays()
            except (RedisError, OSError) as e:  # Redis away: the next pass tries again
                log.info("looking for stranded messages failed: %s", e)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
