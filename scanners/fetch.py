"""The guarded HTTP client: fetch one hop of an attacker's link, safely.

The live checks fetch URLs that scammers chose, so every request is a
potential server-side request forgery. :class:`GuardedFetcher` fetches exactly
one hop (no redirect is ever followed here; :mod:`scanners.live` walks the
chain and calls back for each hop) under these guards:

* **Address checks.** The host is resolved here, by a :class:`Resolver`, and
  every address it resolves to is checked by :class:`AddressPolicy`: loopback,
  private, link-local, CGNAT, multicast, reserved, unspecified, cloud-metadata
  addresses and IPv6 forms that embed such an IPv4 address (IPv4-mapped, 6to4,
  Teredo, NAT64) are refused. A host with *any* refused address is refused:
  a name that answers both a public and an internal address is either broken
  or set up to win a race.
* **Ports.** Only ``allowed_ports`` (80 and 443 by default) are connected to,
  so the fetcher is neither a relay to other services nor a port-probe oracle;
  a hop on another port is not fetched (``blocked_port``), with no timing or
  error that would tell whether the port is open. Addresses of an explicitly
  allowed network (tests, labs) may use any port.
* **Pinning.** The request goes to ``scheme://<checked IP>:port/path`` with the
  original ``Host`` header, so no second DNS look-up happens between the check
  and the connection (DNS rebinding cannot switch the address). For https the
  original name is passed as ``sni_hostname``: httpcore uses it as the TLS
  ``server_hostname``, so SNI and certificate-name verification still concern
  the real name, not the IP.
* **Isolation.** A fresh transport per hop, driven directly rather than
  through an ``httpx.AsyncClient`` (``trust_env=False``: no proxy or netrc
  from the environment; no connection pool shared between hops, since a pooled
  TLS connection verified for one name must never carry a request for
  another; no cookie jar at all; no parsing of the ``Location`` header, which
  a hostile server controls), a fixed honest User-Agent, no credentials from
  the URL, and no request body except the one a caller gives on purpose (the
  signed webhook POST of :mod:`api.services.webhooks`, under the same guards).
* **Limits.** A per-hop timeout around resolution, connection and body; the
  body is streamed and reading stops at ``max_body`` bytes (also after
  decompression: only ``identity`` is asked for, and gzip/deflate answers are
  inflated with a bounded output).

A refused target is not an error: :class:`HopResult` says so through
``refused``, and the caller turns it into a finding. Nothing is written to
disk; the body stays in memory for the caller to inspect and drop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from ada_url import join_url

from scanners.errors import InvalidURLError
from scanners.fetch_options import IPNetwork
from scanners.normalize import ParsedURL, normalize

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = "scamscan/0.1 (+link safety checker; does not execute content)"
"""Sent on every request: honest about what we are, and that nothing is executed."""

DEFAULT_HOP_TIMEOUT = 5.0
DEFAULT_MAX_BODY = 2_000_000
DEFAULT_ALLOWED_PORTS = (80, 443)
"""Ports fetched on public addresses (``SCAMSCAN_FETCH_ALLOWED_PORTS``)."""

KEPT_HEADERS = (
    "location", "refresh", "content-type", "content-disposition", "content-length",
    "content-encoding", "server",
)
"""The response headers a :class:`HopResult` keeps (lower-case names)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_ADDRESSES = 3
"""How many checked addresses of one host a hop tries when connecting fails."""

# Cloud instance-metadata endpoints. They are refused even when an allowed
# network covers them: nothing legitimate in a link check needs them, and they
# hand out credentials.
_METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
    "169.254.170.2",    # AWS ECS task metadata
    "169.254.169.123",  # AWS time sync
    "100.100.100.200",  # Alibaba Cloud
    "fd00:ec2::254",    # AWS IPv6
    "fd00:ec2::23",     # AWS IPv6 DNS
))

# Explicit tables rather than ipaddress's is_private/is_global alone: their
# definitions changed between Python versions, and the class name is part of
# the evidence a user reads.
_V4_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unspecified", ("0.0.0.0/8",)),
    ("loopback", ("127.0.0.0/8",)),
    ("private", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("link-local", ("169.254.0.0/16",)),
    ("cgnat", ("100.64.0.0/10",)),
    ("multicast", ("224.0.0.0/4",)),
    ("reserved", ("240.0.0.0/4", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
                  "198.51.100.0/24", "203.0.113.0/24", "192.88.99.0/24")),
)
_V6_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unspecified", ("::/128",)),
    ("loopback", ("::1/128",)),
    ("link-local", ("fe80::/10",)),
    ("private", ("fc00::/7", "fec0::/10")),
    ("multicast", ("ff00::/8",)),
    ("reserved", ("::/8", "100::/64", "2001:db8::/32", "2001:10::/28", "2001:20::/28",
                  "3fff::/20", "5f00::/16")),
)


def _nets(table: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, IPNetwork], ...]:
    return tuple((name, ipaddress.ip_network(n)) for name, ns in table for n in ns)


_V4_NETS = _nets(_V4_CLASSES)
_V6_NETS = _nets(_V6_CLASSES)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def request_path(path: str) -> str:
    """The path and query to request for ``path``, repaired the way browsers do.

    The WHATWG URL standard drops TAB, CR and LF anywhere in a URL and
    percent-encodes the other C0 controls and DEL; httpx refuses them
    outright. The fragment is never sent.
    """
    path = _TAB_NEWLINE.sub("", path.split("#", 1)[0])
    path = _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", path)
    return path if path.startswith("/") else "/" + path


class MalformedTarget(Exception):
    """A redirect or link target that no browser could follow; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def resolve_reference(base: str, ref: str) -> ParsedURL | None:
    """Where a browser on ``base`` goes for the reference ``ref``.

    Resolved with a WHATWG URL parser (ada), so that what browsers repair
    (``http:foo``, backslashes, TAB and DEL in the path) is followed as they
    follow it. None for a reference that is no web link (``javascript:``,
    ``intent:``, ``market:``); :class:`MalformedTarget` for one that no
    browser can follow (``//[x/``) or whose host is not a valid name
    (``http://xn--/``). Never raises anything else for hostile text.
    """
    try:
        joined = join_url(base, ref)
    except ValueError:
        raise MalformedTarget("not a URL that a browser accepts") from None
    if joined.split(":", 1)[0].lower() not in ("http", "https"):
        return None
    try:
        return normalize(joined)
    except InvalidURLError as e:
        raise MalformedTarget(e.reason) from None


class AddressPolicy:
    """Decides which IP addresses a fetch may connect to.

    :meth:`check` returns ``None`` for an allowed address, else the name of
    the class that refuses it: ``unspecified``, ``loopback``, ``private``,
    ``link-local``, ``cgnat``, ``multicast``, ``reserved``, ``metadata``,
    ``ipv4-mapped``, ``6to4``, ``teredo`` or ``nat64``. ``allow_networks``
    exempts addresses (tests, labs), but never the metadata addresses, and an
    IPv4 network never allows the IPv6 forms that embed its addresses (allow
    ``::ffff:127.0.0.1/128`` explicitly if that is really wanted).
    """

    def __init__(self, allow_networks: Sequence[IPNetwork] = ()) -> None:
        self.allow_networks = tuple(allow_networks)

    def explicitly_allowed(self, ip: IPAddress) -> bool:
        """Whether ``ip`` is in one of ``allow_networks`` (and no metadata address)."""
        return ip not in _METADATA and any(
            ip.version == n.version and ip in n for n in self.allow_networks)

    def check(self, ip: IPAddress | str) -> str | None:
        """``None`` when ``ip`` may be fetched, else the refusal class."""
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        if addr in _METADATA:
            return "metadata"
        if any(addr.version == n.version and addr in n for n in self.allow_networks):
            return None
        return self._classify(addr)

    @classmethod
    def _classify(cls, addr: IPAddress) -> str | None:
        if isinstance(addr, ipaddress.IPv4Address):
            for name, net in _V4_NETS:
                if addr in net:
                    return name
            if addr == ipaddress.IPv4Address("255.255.255.255") or not addr.is_global:
                return "reserved"
            return None
        # IPv6 forms that carry an IPv4 address: a dual-stack socket or a
        # relay would take the connection to that IPv4 address, so it is the
        # one to judge (allow_networks deliberately does not apply to it).
        embedded: list[tuple[str, ipaddress.IPv4Address]] = []
        if addr.ipv4_mapped is not None:
            embedded.append(("ipv4-mapped", addr.ipv4_mapped))
        if addr.sixtofour is not None:
            embedded.append(("6to4", addr.sixtofour))
        if addr.teredo is not None:
            embedded += [("teredo", addr.teredo[0]), ("teredo", addr.teredo[1])]
        if addr in _NAT64:
            embedded.append(("nat64", ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)))
        for name, v4 in embedded:
            if v4 in _METADATA or cls._classify(v4) is not None:
                return name
        if addr.ipv4_mapped is not None or addr in _NAT64:
            # Translation forms (inside ::/8) stand for their public IPv4 address.
            return None
        for name, net in _V6_NETS:
            if addr in net:
                return name
        if addr in _NAT64_LOCAL:
            return "private"
        if embedded or addr.is_global:
            return None
        return "reserved"


class Resolver(Protocol):
    """Resolves a host name to the addresses a connection could use."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address of ``host`` (order kept, duplicates dropped); raises OSError."""
        ...


class SystemResolver:
    """The system resolver, through ``loop.getaddrinfo`` (a thread, not blocking)."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       proto=socket.IPPROTO_TCP)
        out: list[IPAddress] = []
        for _family, _type, _proto, _canon, sockaddr in infos:
            # A scoped IPv6 address ("fe80::1%eth0") is refused anyway; drop
            # the scope so that ipaddress can parse it.
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in out:
                out.append(ip)
        return out


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a hop was not fetched: its host resolved to a refused address."""

    host: str
    ip: str
    """The refused address. Internal only: reports give ``cls``, never this
    (what an internal name resolves to is not for the public to learn)."""
    cls: str
    """The refusal class of :meth:`AddressPolicy.check`."""


@dataclass(frozen=True, slots=True)
class HopResult:
    """What one guarded request established. Plain data, nothing to close."""

    url: str
    """The URL asked for (the hop's canonical URL, not the pinned one)."""
    host: str
    ip: str | None = None
    """The address connected to (None when the hop was refused or not fetched)."""
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """The :data:`KEPT_HEADERS` that the response carried."""
    body: bytes = b""
    """The (decoded) body, at most ``max_body`` bytes; empty for redirects."""
    truncated: bool = False
    """The body had more than ``max_body`` bytes and reading stopped."""
    refused: Refusal | None = None
    blocked_port: int | None = None
    """The hop was not fetched because its port is not an allowed one. Nothing
    was connected, so nothing is known (or told) about that port."""
    tls_error: str | None = None
    """Certificate verification failed (the hop was not fetched insecurely)."""
    timed_out: bool = False
    error: str | None = None
    """Any other failure (resolution, connection, protocol), for the user."""
    elapsed: float = 0.0

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters ("" when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class _BoundedInflater:
    """Inflates gzip/deflate output without ever producing more than a limit."""

    def __init__(self, encoding: str) -> None:
        # 47 = 32 + 15: zlib auto-detects gzip or zlib headers.
        wbits = 47 if encoding in ("gzip", "x-gzip") else 15
        self._raw_fallback = encoding == "deflate"
        self._d = zlib.decompressobj(wbits)

    def feed(self, data: bytes, room: int) -> tuple[bytes, bool]:
        """Up to ``room`` inflated bytes of ``data``; True when more output was left."""
        try:
            out = self._d.decompress(data, room)
        except zlib.error:
            if not self._raw_fallback:
                raise
            # Some servers send raw deflate without the zlib header.
            self._d = zlib.decompressobj(-15)
            self._raw_fallback = False
            out = self._d.decompress(data, room)
        return out, bool(self._d.unconsumed_tail)


def _tls_failure(exc: BaseException) -> str | None:
    """The certificate-verification message hidden in httpx's exception chain."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return str(e.verify_message or e.reason or e)
        e = e.__cause__ or e.__context__
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class GuardedFetcher:
    """Fetches one hop of a link under the guards of the module docstring.

    ``allow_networks`` exempts private ranges (tests, labs); ``allowed_ports``
    are the only ports connected to, except on addresses that ``allow_networks``
    covers (a lab network is the operator's own, whatever its ports); ``resolver``
    defaults to the system resolver; ``ssl_context`` defaults to httpx's
    (certifi roots, hostname checking on). ``hop_timeout`` bounds one call of
    :meth:`fetch` as a whole, resolution included; the caller passes a
    smaller ``time_left`` when its total budget has less left.
    """

    def __init__(
        self,
        allow_networks: Sequence[IPNetwork] = (),
        *,
        resolver: Resolver | None = None,
        hop_timeout: float = DEFAULT_HOP_TIMEOUT,
        max_body: int = DEFAULT_MAX_BODY,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
        allowed_ports: Sequence[int] = DEFAULT_ALLOWED_PORTS,
    ) -> None:
        self.policy = AddressPolicy(allow_networks)
        self.allowed_ports = frozenset(allowed_ports)
        self.resolver: Resolver = resolver if resolver is not None else SystemResolver()
        self.hop_timeout = hop_timeout
        self.max_body = max_body
        self.ssl_context = ssl_context if ssl_context is not None else httpx.create_ssl_context()
        self.user_agent = user_agent

    async def addresses(self, p: ParsedURL) -> list[IPAddress]:
        """The addresses ``p``'s host stands for (the literal itself for an IP host)."""
        if p.ip is not None:
            return [ipaddress.ip_address(p.ip)]
        port = p.port or _DEFAULT_PORTS[p.scheme]
        return await self.resolver.resolve(p.host, port)

    async def fetch(
        self, p: ParsedURL, *, time_left: float | None = None, max_body: int | None = None,
        read_body: bool = True, method: str = "GET", content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HopResult:
        """GET ``p`` once (no redirect followed) and return what happened.

        Never raises for network trouble: refusals, TLS failures, timeouts and
        errors are fields of the result. ``read_body=False`` skips the body
        (the caller only wants the status and headers). ``method``, ``content``
        and ``headers`` (added to, or replacing, the fixed ones except ``Host``)
        make another request under the same guards: a webhook's signed POST.
        """
        limit = self.max_body if max_body is None else max_body
        budget = self.hop_timeout if time_left is None else min(time_left, self.hop_timeout)
        start = time.monotonic()
        state = _HopState(url=p.url, host=p.host)
        try:
            async with asyncio.timeout(max(budget, 0.0)):
                await self._fetch(p, state, limit, budget, read_body,
                                  _Request(method, content, headers or {}))
        except TimeoutError:
            state.timed_out = True
            state.error = f"timed out after {budget:g} s"
        return state.result(time.monotonic() - start)

    async def _fetch(
        self, p: ParsedURL, st: _HopState, limit: int, budget: float, read_body: bool,
        req: _Request,
    ) -> None:
        try:
            addrs = await self.addresses(p)
        except (OSError, UnicodeError, ValueError) as e:
            st.error = f"cannot resolve {p.host}: {_describe(e)}"
            return
        if not addrs:
            st.error = f"cannot resolve {p.host}: no address"
            return
        for a in addrs:
            cls = self.policy.check(a)
            if cls is not None:
                # One refused answer refuses the host, and nothing is connected.
                # The address stays in the Refusal (internal) but not in
                # ``ip``: reports must not disclose what internal names resolve to.
                st.refused = Refusal(p.host, str(a), cls)
                return
        port = p.port or _DEFAULT_PORTS[p.scheme]
        if port not in self.allowed_ports and not all(
                self.policy.explicitly_allowed(a) for a in addrs):
            # Not a relay or a port scanner for the world: other ports are not
            # even connected to, so the answer is the same whether they are
            # open, closed or filtered.
            st.blocked_port = port
            return
        # Every answer passed. Connect to a checked address, and only to one:
        # the next is tried only when the connection itself failed (an IPv6
        # answer on a host without an IPv6 route, a dead server of a pool).
        for chosen in addrs[:_MAX_ADDRESSES]:
            st.error = None
            if not await self._attempt(p, chosen, st, limit, budget, read_body, req):
                return

    async def _attempt(
        self, p: ParsedURL, chosen: IPAddress, st: _HopState, limit: int, budget: float,
        read_body: bool, req: _Request,
    ) -> bool:
        """One request to ``chosen``; True when no connection could be made at all."""
        st.ip = str(chosen)
        port = p.port or _DEFAULT_PORTS[p.scheme]
        ip_host = f"[{chosen}]" if chosen.version == 6 else str(chosen)
        path = request_path(p.path)
        try:
            pinned = httpx.URL(f"{p.scheme}://{ip_host}:{port}{path}")
        except httpx.InvalidURL:
            pinned = None
        if pinned is None or pinned.host != str(chosen) or pinned.port not in (port, None):
            # Defence in depth: whatever the path holds, the request must go
            # to the address that was checked and nowhere else.
            st.error = f"cannot build a request for {p.url}"
            return False
        headers = {
            "Host": p.host if p.port is None else f"{p.host}:{p.port}",
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            "Accept-Encoding": "identity",
            "Accept-Language": "vi,en;q=0.8",
            "Connection": "close",
        }
        # The caller's headers, but never another Host: the pinned address was
        # checked for this name.
        headers.update({k: v for k, v in req.headers.items() if k.lower() != "host"})
        extensions: dict[str, object] = {"timeout": httpx.Timeout(budget).as_dict()}
        if p.ip is None and p.scheme == "https":
            # TLS to the pinned IP, but SNI and certificate-name checks for
            # the real host name.
            extensions["sni_hostname"] = p.host
        # The transport is driven directly, not through an AsyncClient: the
        # client parses every Location header to prepare a redirect (even
        # with follow_redirects=False), and a hostile Location ("http:foo",
        # "http://xn--/") made it raise from inside send(). Here the header
        # is only read as text; scanners.live resolves it like a browser. No
        # client also means no cookie jar and no environment proxy at all.
        transport = httpx.AsyncHTTPTransport(
            verify=self.ssl_context, trust_env=False, retries=0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
        )
        try:
            async with transport:
                request = httpx.Request(req.method, pinned, headers=headers,
                                        content=req.content, extensions=extensions)
                response = await transport.handle_async_request(request)
                response.request = request
                try:
                    st.status = response.status_code
                    st.headers = {k: response.headers[k] for k in KEPT_HEADERS
                                  if k in response.headers}
                    if read_body and not (300 <= response.status_code < 400
                                          and "location" in response.headers):
                        await self._read(response, st, limit)
                finally:
                    await response.aclose()
        except httpx.TimeoutException:
            st.timed_out = True
            st.error = f"timed out after {budget:g} s"
        except (httpx.HTTPError, OSError, zlib.error, ValueError) as e:
            # ValueError: h11 and the header decoding reject some malformed
            # answers with it (httpx.InvalidURL is one too); never a crash.
            tls = _tls_failure(e)
            if tls is not None:
                st.tls_error = tls
            else:
                st.error = _describe(e)
                return isinstance(e, httpx.ConnectError) and st.status is None
        return False

    @staticmethod
    async def _read(response: httpx.Response, st: _HopState, limit: int) -> None:
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        inflater = _BoundedInflater(encoding) if encoding in (
            "gzip", "x-gzip", "deflate") else None
        buf = st.buf
        # No chunk size: httpx would buffer up to it; take bytes as they come.
        async for chunk in response.aiter_raw():
            room = limit - len(buf)
            if inflater is not None:
                data, more = inflater.feed(chunk, room + 1)
            else:
                data, more = chunk, False
            buf += data[:room]
            if len(data) > room or more:
                # Stop reading: the rest is never received, let alone kept.
                st.truncated = True
                return


@dataclass(frozen=True, slots=True)
class _Request:
    """What to send: the method, a body and extra headers (a plain GET by default)."""

    method: str = "GET"
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _HopState:
    """The mutable result being built, so that a timeout keeps what was read."""

    url: str
    host: str
    ip: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    buf: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    refused: Refusal | None = None
    blocked_port: int | None = None
    tls_error: str | None = None
    timed_out: bool = False
    error: str | None = None

    def result(self, elapsed: float) -> HopResult:
        return HopResult(
            url=self.url, host=self.host, ip=self.ip, status=self.status,
            headers=dict(self.headers), body=bytes(self.buf), truncated=self.truncated,
            refused=self.refused, blocked_port=self.blocked_port, tls_error=self.tls_error,
            timed_out=self.timed_out, error=self.error, elapsed=elapsed,
        )
