"""Real loopback HTTP(S) servers for the live-fetch tests.

:class:`ScamSite` is a stdlib ``ThreadingHTTPServer`` in a thread that plays a
scam site: a shortener-like redirect into a meta-refresh page, a script
redirect, a fake "Cổng Dịch vụ công" page with a CCCD/OTP form and an APK
link, APK downloads, a fake Google Play page, an endless redirect loop, a
slow endpoint, a huge body and redirects to internal addresses. Every request
is recorded server side (path and ``Host`` header), so a test can prove that a
refused target was never asked. With ``tls=`` it serves https with the given
certificate and records the SNI name the client sent.

:class:`DictResolver` is the only stand-in of the live tests: it answers names
such as ``short.test`` from a table (a loopback server cannot stand in for DNS
without changing the system's resolver), optionally with a different answer on
each call to play DNS rebinding.
"""

from __future__ import annotations

import functools
import gzip
import io
import ipaddress
import ssl
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scanners.fetch import IPAddress

GOV_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Cổng Dịch vụ công Quốc gia - Định danh điện tử</title></head>
<body>
<h1>CỔNG DỊCH VỤ CÔNG QUỐC GIA</h1>
<p>Bộ Công an thông báo: cập nhật VNeID mức 2 để tránh bị khóa tài khoản.</p>
<form action="/submit" method="post">
  <label for="cccd">Số CCCD</label><input id="cccd" name="so_cccd" type="text">
  <label>Mã OTP <input name="otpCode" type="text"></label>
  <input type="hidden" name="csrf" value="x">
  <button type="submit">Xác nhận</button>
</form>
<p><a href="/app.apk">Tải ứng dụng Dịch vụ công</a> để hoàn tất.</p>
</body></html>
"""

PLAY_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>VNeID – Ứng dụng trên Google Play</title>
<link rel="icon" href="https://play-lh.googleusercontent.com/favicon.png"></head>
<body><div class="play-header">Google Play</div>
<h1>VNeID</h1><span>Bộ Công an</span>
<div>4,5★ 12 N đánh giá · 1 Tr+ lượt tải · Chứa quảng cáo</div>
<a class="install" href="/octet.bin">Cài đặt</a>
<h2>Giới thiệu về ứng dụng này</h2><h2>An toàn dữ liệu</h2>
</body></html>
"""

LOGIN_PAGE = """<!doctype html><html><head><title>Đăng nhập</title></head><body>
<form><input name="user"><input type="password" name="pw"></form></body></html>"""

PLAIN_PAGE = """<!doctype html><html><head><title>Hello</title></head>
<body><p>Nothing to see here.</p></body></html>"""


def apk_bytes() -> bytes:
    """A tiny ZIP that looks like an APK (its first entry is AndroidManifest.xml)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00" + b"\x00" * 60)
        z.writestr("classes.dex", b"dex\n035\x00" + b"\x00" * 100)
    return buf.getvalue()


APK = apk_bytes()


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    path: str
    host: str
    user_agent: str
    cookie: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: ScamSite


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        site.record(Seen(self.path, self.headers.get("Host", ""),
                         self.headers.get("User-Agent", ""), self.headers.get("Cookie", "")))
        url = urlsplit(self.path)
        route = site.routes.get(url.path)
        if route is None and url.path.startswith("/loop/"):
            n = int(url.path.rsplit("/", 1)[1])
            self.redirect(f"/loop/{n + 1}")
            return
        if route is None:
            self.send(404, "text/html", b"<html><body>not found</body></html>")
            return
        route(self, parse_qs(url.query))

    # -- helpers used by the routes -----------------------------------------
    def send(self, status: int, ctype: str, body: bytes,
             headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "tracker=1; Path=/")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send(status, "text/html", b"", [("Location", location)])

    def html(self, text: str) -> None:
        self.send(200, "text/html; charset=utf-8", text.encode("utf-8"))


Route = Callable[[_Handler, dict[str, list[str]]], None]


class ScamSite:
    """A loopback scam site; use as a context manager. See the module docstring."""

    def __init__(self, bind: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.bind = bind
        self.tls = tls
        self.seen: list[Seen] = []
        self.sni: list[str | None] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.routes: dict[str, Route] = {
            "/short": lambda h, q: h.redirect("/r1", 302),
            "/r1": lambda h, q: h.html(
                '<html><head><meta http-equiv="refresh" content="0; URL=\'/r2\'"></head>'
                "<body>Đang chuyển hướng…</body></html>"),
            "/r2": lambda h, q: h.html(
                "<html><body><script>\n  var t = 1;\n  window.location.href = \"/page\";\n"
                "</script></body></html>"),
            "/page": lambda h, q: h.html(GOV_PAGE),
            "/play": lambda h, q: h.html(PLAY_PAGE),
            "/login": lambda h, q: h.html(LOGIN_PAGE),
            "/plain": lambda h, q: h.html(PLAIN_PAGE),
            "/app.apk": lambda h, q: h.send(200, "application/vnd.android.package-archive",
                                            APK),
            "/octet.bin": lambda h, q: h.send(
                200, "application/octet-stream", APK,
                [("Content-Disposition", 'attachment; filename="update.apk"')]),
            "/missing.apk": lambda h, q: h.send(404, "text/html",
                                                b"<html><body>gone</body></html>"),
            "/zip": lambda h, q: h.send(200, "application/zip", _plain_zip()),
            "/to": lambda h, q: h.redirect(q["u"][0]),
            "/to-metadata": lambda h, q: h.redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-private": lambda h, q: h.redirect("http://10.0.0.1/"),
            "/to-mapped": lambda h, q: h.redirect(f"http://[::ffff:127.0.0.1]:{self.port}/page"),
            "/refresh-header": lambda h, q: h.send(200, "text/plain", b"wait",
                                                   [("Refresh", "1; url=/plain")]),
            "/slow": self._slow,
            "/drip": self._drip,
            "/huge": self._huge,
            "/gzip-bomb": self._gzip_bomb,
        }
        self.server = _Server((bind, 0), _Handler)
        self.server.site = self
        if tls is not None:
            tls.sni_callback = self._on_sni
            inner = self.server.finish_request

            def finish_request(request: Any, client_address: Any) -> None:
                # The handshake runs in the handler thread, so a client that
                # rejects our certificate fails only its own connection.
                try:
                    conn = tls.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                inner(conn, client_address)

            self.server.finish_request = finish_request  # type: ignore[method-assign]
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def base(self) -> str:
        """``scheme://bind:port`` of the server."""
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def url(self, path: str, host: str | None = None) -> str:
        """A URL on this server, optionally through a resolver name instead of the IP."""
        if host is None:
            return self.base + path
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def paths(self) -> list[str]:
        with self._lock:
            return [s.path for s in self.seen]

    def _on_sni(self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None,
                ctx: ssl.SSLContext) -> None:
        with self._lock:
            self.sni.append(name)

    def _slow(self, h: _Handler, q: dict[str, list[str]]) -> None:
        # Sleeps in small steps so that stopping the server ends it quickly.
        end = time.monotonic() + float(q.get("s", ["3"])[0])
        while time.monotonic() < end and not self._stop.is_set():
            time.sleep(0.02)
        h.html(PLAIN_PAGE)

    def _drip(self, h: _Handler, q: dict[str, list[str]]) -> None:
        # Headers at once, then one byte every 50 ms: no read timeout ever fires.
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        try:
            for _ in range(100000):
                if self._stop.is_set():
                    return
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            return

    def _huge(self, h: _Handler, q: dict[str, list[str]]) -> None:
        size = int(q.get("n", [str(3_000_000)])[0])
        chunk = b"<p>" + b"x" * 1021
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(size + 6))
        h.end_headers()
        try:
            h.wfile.write(b"<html>")
            sent = 0
            while sent < size and not self._stop.is_set():
                part = chunk[: size - sent]
                h.wfile.write(part)
                sent += len(part)
        except OSError:
            return

    def _gzip_bomb(self, h: _Handler, q: dict[str, list[str]]) -> None:
        # Sent gzip-encoded although the client asked for identity.
        h.send(200, "text/html", gzip_bomb(), [("Content-Encoding", "gzip")])

    def __enter__(self) -> ScamSite:
        self._thread.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@functools.cache
def gzip_bomb() -> bytes:
    """20 MB of spaces in an HTML page, gzip-compressed to about 20 kB."""
    return gzip.compress(b"<html>" + b" " * 20_000_000, 6)


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", b"hello")
    return buf.getvalue()


class DictResolver:
    """A resolver over a table; a list of answers per name plays one per call (rebinding).

    ``table[name]`` is either a list of addresses (the same answer every
    time) or a list of lists (call *n* gets answer *n*, the last repeats).
    ``calls`` counts look-ups per name.
    """

    def __init__(self, table: dict[str, list[str] | list[list[str]]]) -> None:
        self.plays: dict[str, list[list[str]]] = {}
        for name, entry in table.items():
            if all(isinstance(a, str) for a in entry):
                self.plays[name] = [[str(a) for a in entry]]
            else:
                self.plays[name] = [list(a) for a in entry if isinstance(a, list)]
        self.calls: dict[str, int] = {}

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        n = self.calls.get(host, 0)
        self.calls[host] = n + 1
        plays = self.plays.get(host)
        if plays is None:
            raise OSError(f"no such name: {host}")
        return [ipaddress.ip_address(a) for a in plays[min(n, len(plays) - 1)]]
