"""Real loopback servers for the domain-age and store tests: RDAP, WHOIS, Redis.

Every server listens on 127.0.0.1 on a port the OS picks, counts what it is
asked (server side, so that a test can prove a cache hit made no request),
and is stopped by its context manager. Nothing here reaches the internet.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest


@dataclass
class RdapAnswer:
    """What the RDAP server sends for one domain."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def rdap_domain(name: str, registered: datetime | str | None, **extra: Any) -> RdapAnswer:
    """An RFC 9083 domain object with a registration event (None: without one)."""
    events: list[dict[str, str]] = [
        {"eventAction": "last changed", "eventDate": "2026-07-01T00:00:00Z"},
    ]
    if registered is not None:
        when = registered if isinstance(registered, str) else registered.isoformat()
        events.append({"eventAction": "registration", "eventDate": when})
    doc = {"objectClassName": "domain", "ldhName": name.upper(), "events": events, **extra}
    return RdapAnswer(200, json.dumps(doc).encode(), headers={
        "Content-Type": "application/rdap+json"})


class RdapServer:
    """An RDAP server under ``/rdap/``: ``answers[domain]`` or 404."""

    def __init__(self) -> None:
        self.answers: dict[str, RdapAnswer] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                prefix = "/rdap/domain/"
                name = self.path[len(prefix):] if self.path.startswith(prefix) else self.path
                with server._lock:
                    server.hits[name] += 1
                ans = server.answers.get(name, RdapAnswer(404, b'{"errorCode":404}'))
                if ans.delay:
                    time.sleep(ans.delay)
                try:
                    self.send_response(ans.status)
                    for k, v in ans.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(ans.body)))
                    self.end_headers()
                    self.wfile.write(ans.body)
                except OSError:
                    pass  # the client gave up (timeout tests)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/rdap/"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> RdapServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def total(self) -> int:
        with self._lock:
            return sum(self.hits.values())


@dataclass
class WhoisAnswer:
    """What the WHOIS server sends for one query."""

    text: str
    delay: float = 0.0


def whois_text(name: str, created: str) -> str:
    """A registry-style (Verisign-like) WHOIS answer with a creation date."""
    return (
        f"   Domain Name: {name.upper()}\r\n"
        f"   Registry Domain ID: 1234_DOMAIN_COM-VRSN\r\n"
        f"   Registrar WHOIS Server: whois.example-registrar.test\r\n"
        f"   Updated Date: 2026-07-20T10:00:00Z\r\n"
        f"   Creation Date: {created}\r\n"
        f"   Registry Expiry Date: 2027-07-20T10:00:00Z\r\n"
        f"   Registrar: Example Registrar\r\n"
        f">>> Last update of whois database: 2026-07-23T00:00:00Z <<<\r\n"
    )


class WhoisServer:
    """An RFC 3912 server: one line in, ``answers[domain]`` (or "No match") out, close."""

    def __init__(self) -> None:
        self.answers: dict[str, WhoisAnswer] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                query = self.rfile.readline(4096).decode("ascii", "replace").strip().lower()
                with server._lock:
                    server.hits[query] += 1
                ans = server.answers.get(
                    query, WhoisAnswer(f'No match for "{query.upper()}".\r\n'))
                if ans.delay:
                    time.sleep(ans.delay)
                with contextlib.suppress(OSError):  # the client gave up (timeout tests)
                    self.wfile.write(ans.text.encode())

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

        self._srv = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._srv.server_address[1]
        self.address = ("127.0.0.1", self.port)
        self._thread = threading.Thread(
            target=self._srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> WhoisServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._srv.shutdown()
        self._srv.server_close()

    def total(self) -> int:
        with self._lock:
            return sum(self.hits.values())


def write_bootstrap(path: Path, services: list[tuple[list[str], list[str]]]) -> Path:
    """An IANA-format RDAP bootstrap file with ``services``."""
    doc = {
        "description": "RDAP bootstrap file for Domain Name System registrations (test)",
        "publication": "2026-07-23T02:00:03Z",
        "services": [[tlds, urls] for tlds, urls in services],
        "version": "1.0",
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A throw-away ``redis-server`` on a free loopback port, without persistence.

    Fails the test (never skips) when Debian's ``redis-server`` is missing:
    the integration tests are part of the suite, and ``make test`` installs it.
    """

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail(
                "redis-server is not installed; the Redis integration tests need it. "
                "Run `make system-deps` (apt-get install -y redis-server).",
                pytrace=False,
            )
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> RedisServer:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                out = self._proc.stdout.read().decode() if self._proc.stdout else ""
                pytest.fail(f"redis-server exited with {self._proc.returncode}: {out}")
            if self.ping():
                return self
            time.sleep(0.05)
        self.__exit__(None, None, None)
        pytest.fail("redis-server did not answer PING within 10 s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()
