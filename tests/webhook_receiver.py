"""A real loopback webhook receiver for the webhook tests.

A stdlib ``ThreadingHTTPServer`` in a thread on ``127.0.0.1`` (a free port):
it records every request (method, path, headers, body) and answers each with
the next status of its script (then 200), optionally after a pause, so a test
can play a receiver that fails, recovers or hangs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes


class Receiver:
    """``with Receiver([500, 200]) as r:`` then POST to ``r.url("/hook")``."""

    def __init__(self, statuses: Sequence[int] = (), *, delay: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.delay = delay
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(Received(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                        body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                payload = b"ok" * 5000  # more than a delivery ever reads
                self.send_response(status)
                self.send_header("content-length", str(len(payload)))
                if 300 <= status < 400:
                    self.send_header("location", "/elsewhere")
                self.end_headers()
                with contextlib.suppress(OSError):  # the client closed: it reads no body
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
