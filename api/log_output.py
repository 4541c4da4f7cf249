"""How the service's log lines are written: the JSON lines' timestamp
(:func:`iso_timestamp`) and the handler that writes the lines of one event-loop round
together (:class:`RoundBatchedStreamHandler`). :mod:`api.observability` formats the
lines and installs the handler (:func:`api.observability.configure_logging`).

Both exist for the request path's CPU: every request logs one access line
(docs/evaluation.md, "Service load").
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from typing import Any

_SECOND: list[Any] = [None, ""]
"""The last whole second :func:`iso_timestamp` wrote, and its text."""


def iso_timestamp(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat()`` with ``Z`` for ``+00:00``
    (microseconds only when not zero), the date and time of day written once a
    second: building the datetime and its text for each line was a third of the
    formatter's time, and every request logs a line. Microseconds are rounded as
    ``datetime`` rounds them (half to even, carried into the second)."""
    frac, whole = math.modf(created)
    micro = round(frac * 1e6)
    if micro >= 1_000_000:
        whole += 1
        micro -= 1_000_000
    elif micro < 0:  # before 1970
        whole -= 1
        micro += 1_000_000
    second, text = _SECOND
    if whole != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _SECOND[:] = [whole, text]
    return f"{text}.{micro:06d}Z" if micro else f"{text}Z"



class RoundBatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A :class:`logging.StreamHandler` whose lines logged on an event loop's thread are
    written together at the end of the loop's current round: one write (and one system
    call) for the access lines of all the requests answered in that round, instead of
    one per line. Under load a round answers several requests; a system call per line
    was a measurable part of each request's CPU on the service's machines
    (docs/evaluation.md, "Service load").

    Lines are the same and in the same order: a line logged from a thread without a
    running loop (a worker thread) is written at once, after the lines still waiting,
    and :meth:`flush` (also at exit, ``logging.shutdown``) writes whatever waits. A
    line waits at most until the loop's next round (microseconds; a process killed
    in between loses the lines of that round)."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False
        self._loops: dict[int, asyncio.AbstractEventLoop] = {}
        """The loop last seen running on each thread (:meth:`_running_loop`)."""

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop running on this thread, if any. The loop this thread last ran is
        asked first: on CPython 3.11 ``asyncio.get_running_loop`` makes a ``getpid``
        system call each time (its check for a fork)."""
        thread = threading.get_ident()
        loop = self._loops.get(thread)
        if loop is not None and loop.is_running():
            return loop  # a loop runs on one thread: this one, so we are inside it
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if len(self._loops) > 64:
            self._loops.clear()
        self._loops[thread] = loop
        return loop

    def emit(self, record: logging.LogRecord) -> None:
        # Called under self.lock (Handler.handle).
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)
        loop = self._running_loop()
        if loop is None:
            try:
                self.flush()
            except Exception:
                self.handleError(record)
            return
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._end_of_round)

    def _end_of_round(self) -> None:
        self._scheduled = False
        try:
            self.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": "(log lines of a loop round)"}))

    def flush(self) -> None:
        """Write the lines waiting, then flush the stream."""
        self.acquire()
        try:
            if self._pending:
                text = "".join(self._pending)
                self._pending.clear()
                if self.stream is not None:
                    self.stream.write(text)
            super().flush()
        finally:
            self.release()
