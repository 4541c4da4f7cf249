"""Where a request comes from: loopback ``Host`` values and cross-site writes.

Keyless local use (:mod:`api.auth`) makes any request from this machine an
admin. A browser is on this machine too, so two attacks reach it from an
ordinary web page:

* **DNS rebinding**: the page's own name (``rebind.attacker.example``) is
  made to resolve to 127.0.0.1; the browser then sends the page's requests
  to the local server, *same-origin* from its point of view, with
  ``Host: rebind.attacker.example:PORT``. :func:`check_loopback_host`
  accepts only a loopback ``Host`` (``localhost``, 127.0.0.0/8, ``[::1]``,
  any port), so such a request is answered 421 Misdirected Request.
* **Cross-site requests**: a page on another site posts a form (a multipart
  upload needs no CORS pre-flight) to ``http://127.0.0.1:8000``.
  :func:`check_same_origin` refuses an unsafe method whose ``Origin`` is not
  the request's own (``scheme://Host``; ``null`` included) or whose
  ``Sec-Fetch-Site`` is ``cross-site`` or ``same-site`` (another port of
  localhost is same-site), with a 403.

With keys, a key in a header is not an ambient credential (a page cannot
make the browser send it), so neither check applies; the console's cookie is
one, and :func:`check_fetch_site` refuses its cross-site writes on top of the
CSRF token and ``SameSite=Strict``. It reads only ``Sec-Fetch-Site``, which
the browser computes from the real origins: a reverse proxy that rewrites
``Host`` cannot make it wrong, whereas comparing ``Origin`` with ``Host``
behind such a proxy would refuse the console's own writes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from api.problems import TYPE_FORBIDDEN, ProblemException

TYPE_MISDIRECTED = "tag:scamscan,2025:problems/misdirected"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSED_FETCH_SITES = frozenset({"cross-site", "same-site"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# A name or an IPv4 address, or an IPv6 address in brackets, and an optional
# port: nothing else (no user info, path or spaces that a lenient parser
# would read a loopback address out of).
_AUTHORITY = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?")


def scope_header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """The first value of the header ``name`` (lower case, as ASGI servers give names)
    in an ASGI ``scope``, or None: what ``request.headers.get`` answers, without the
    exception Starlette's mapping raises inside ``get`` for a missing header (several
    per request, on every request: a measurable part of the request path,
    docs/evaluation.md)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def header(request: Request, name: bytes) -> str | None:
    """:func:`scope_header` of the request's scope."""
    return scope_header(request.scope, name)


@lru_cache(maxsize=1024)
def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (brackets and a trailing dot allowed).
    Cached: asked for the client address of every keyless request (parsing an
    address is a noticeable part of a request's cost; client addresses are few)."""
    h = host.strip().strip("[]").rstrip(".").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1024)
def parse_authority(value: str, scheme: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``Host`` value (lower case, without brackets or a
    trailing dot; the scheme's default port when none is given), or None when it
    is not a plain ``host[:port]``. Cached, like :func:`is_loopback_host`: parsed for
    every keyless request, from a handful of values."""
    m = _AUTHORITY.fullmatch(value.strip())
    if m is None:
        return None
    host = m.group(1).strip("[]").rstrip(".").lower()
    port = int(m.group(2)) if m.group(2) else DEFAULT_PORTS.get(scheme, 80)
    if not host or port > 65535:
        return None
    return host, port


def request_authority(request: Request) -> tuple[str, int] | None:
    """The request's ``Host`` as ``(host, port)``, or None when absent or malformed."""
    # The scope's scheme, which ``request.url`` is built from: building that URL
    # (on every keyless request) cost more than the check itself.
    return parse_authority(header(request, b"host") or "", request.scope.get("scheme", "http"))


def check_loopback_host(request: Request) -> None:
    """421 problem unless the request's ``Host`` is a loopback name or address."""
    authority = request_authority(request)
    if authority is None or not is_loopback_host(authority[0]):
        raise ProblemException(
            421, "Keyless local use answers only requests addressed to this machine "
            "(Host localhost, 127.0.0.1 or [::1]); this request's Host names another "
            "site, as a DNS-rebinding web page would. Open the service at "
            "http://127.0.0.1:PORT, or use an API key.",
            type_=TYPE_MISDIRECTED, title="Misdirected request")


def _cross_site(detail: str) -> ProblemException:
    return ProblemException(403, detail, type_=TYPE_FORBIDDEN,
                            title="Cross-site request refused")


def check_fetch_site(request: Request) -> None:
    """403 problem for an unsafe method the browser marks ``Sec-Fetch-Site:
    cross-site`` or ``same-site``."""
    if request.method in SAFE_METHODS:
        return
    site = (header(request, b"sec-fetch-site") or "").strip().lower()
    if site in REFUSED_FETCH_SITES:
        raise _cross_site(f"This write came from another site (Sec-Fetch-Site: {site}); "
                          "cross-site writes are refused. Use the service's own pages, or "
                          "an API key in the X-API-Key header.")


def check_same_origin(request: Request) -> None:
    """403 problem for an unsafe method sent from another origin: an ``Origin``
    that is not ``scheme://Host`` of this request (``null`` included), or a
    cross-site or same-site ``Sec-Fetch-Site``."""
    if request.method in SAFE_METHODS:
        return
    check_fetch_site(request)
    origin = header(request, b"origin")
    if origin is None:
        return  # not a browser, or an old one: Sec-Fetch-Site and the Host check remain
    own = request_authority(request)
    theirs: tuple[str, int] | None = None
    parts = urlsplit(origin.strip())
    if parts.scheme in DEFAULT_PORTS and not parts.path and not parts.query:
        theirs = parse_authority(parts.netloc, parts.scheme)
    if own is None or theirs is None or theirs != own or parts.scheme != request.url.scheme:
        raise _cross_site(f"This write came from another site (Origin: {origin[:200]}); "
                          "cross-site writes are refused in keyless local use. Use the "
                          "service's own pages, or an API key in the X-API-Key header.")
