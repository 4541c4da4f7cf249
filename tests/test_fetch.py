"""The guarded HTTP client: address policy, pinning, SNI, limits; real loopback servers.

The only stand-in is :class:`tests.live_servers.DictResolver` for names such as
``rebind.test``; every request goes to a real server on 127.0.0.1 (or
127.0.0.2), which records what it was asked.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Iterator

import pytest
import trustme

from scanners.fetch import (
    USER_AGENT,
    AddressPolicy,
    GuardedFetcher,
    SystemResolver,
)
from scanners.fetch_options import parse_networks
from scanners.normalize import normalize
from tests.live_servers import PLAIN_PAGE, DictResolver, ScamSite, gzip_bomb

pytestmark = pytest.mark.anyio

LOCAL = parse_networks("127.0.0.1/32")



@pytest.fixture(scope="module")
def site() -> Iterator[ScamSite]:
    with ScamSite() as s:
        yield s


# --- parse_networks -----------------------------------------------------------

def test_parse_networks() -> None:
    assert parse_networks("") == ()
    assert parse_networks(" , ") == ()
    nets = parse_networks("127.0.0.1/32, 10.0.0.0/8,fd00::/8")
    assert [str(n) for n in nets] == ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]


@pytest.mark.parametrize("bad", ["nonsense", "127.0.0.1/33", "127.0.0.1/8", "10.0.0.0/8,x"])
def test_parse_networks_rejects_bad_cidr(bad: str) -> None:
    with pytest.raises(ValueError, match="not a network in CIDR form"):
        parse_networks(bad)


# --- AddressPolicy ------------------------------------------------------------

REFUSED = [
    # IPv4
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.1.1", "link-local"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("100.100.100.200", "metadata"),
    ("100.64.0.1", "cgnat"),
    ("100.127.255.254", "cgnat"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("203.0.113.9", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    # IPv6
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fec0::1", "private"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("fd00:ec2::254", "metadata"),
    ("2001:db8::1", "reserved"),
    ("::127.0.0.1", "reserved"),  # deprecated IPv4-compatible form
    # IPv6 that embeds a refused IPv4 address
    ("::ffff:127.0.0.1", "ipv4-mapped"),
    ("::ffff:10.0.0.1", "ipv4-mapped"),
    ("::ffff:169.254.169.254", "ipv4-mapped"),
    ("::ffff:100.64.0.1", "ipv4-mapped"),
    ("2002:7f00:1::1", "6to4"),         # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", "6to4"),      # 6to4 of 169.254.169.254
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "teredo"),  # Teredo client 127.0.0.1
    ("64:ff9b::a00:1", "nat64"),        # NAT64 of 10.0.0.1
    ("64:ff9b::a9fe:a9fe", "nat64"),    # NAT64 of 169.254.169.254
]

ALLOWED = [
    "8.8.8.8", "1.1.1.1", "113.160.0.1", "172.32.0.1", "100.128.0.1", "11.0.0.1",
    "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "2002:808:808::1",
    "64:ff9b::808:808",
]


@pytest.mark.parametrize(("ip", "cls"), REFUSED)
def test_policy_refuses(ip: str, cls: str) -> None:
    assert AddressPolicy().check(ip) == cls
    assert AddressPolicy().check(ipaddress.ip_address(ip)) == cls


@pytest.mark.parametrize("ip", ALLOWED)
def test_policy_allows_public(ip: str) -> None:
    assert AddressPolicy().check(ip) is None


@pytest.mark.parametrize(("allow", "ip", "expected"), [
    ("127.0.0.1/32", "127.0.0.1", None),
    ("127.0.0.1/32", "127.0.0.2", "loopback"),
    # An IPv4 allowance never extends to the IPv6 forms that embed it.
    ("127.0.0.1/32", "::ffff:127.0.0.1", "ipv4-mapped"),
    ("127.0.0.1/32", "2002:7f00:1::1", "6to4"),
    ("::ffff:127.0.0.1/128", "::ffff:127.0.0.1", None),
    ("10.0.0.0/8", "10.1.2.3", None),
    ("10.0.0.0/8", "192.168.0.1", "private"),
    ("::1/128", "::1", None),
    ("fd00::/8", "fd00::1", None),
    # Metadata addresses stay refused whatever is allowed.
    ("169.254.0.0/16", "169.254.1.1", None),
    ("169.254.0.0/16", "169.254.169.254", "metadata"),
    ("fd00::/8", "fd00:ec2::254", "metadata"),
    ("0.0.0.0/0", "169.254.169.254", "metadata"),
])
def test_policy_allow_networks(allow: str, ip: str, expected: str | None) -> None:
    assert AddressPolicy(parse_networks(allow)).check(ip) == expected


# --- one hop against a real server ---------------------------------------------

async def test_fetch_allowed_loopback(site: ScamSite) -> None:
    before = len(site.seen)
    f = GuardedFetcher(LOCAL)
    r = await f.fetch(normalize(site.url("/plain")))
    assert (r.status, r.ip, r.error, r.refused) == (200, "127.0.0.1", None, None)
    assert r.body == PLAIN_PAGE.encode()
    assert not r.truncated
    assert r.content_type == "text/html"
    seen = site.seen[before:]
    assert [s.path for s in seen] == ["/plain"]
    assert seen[0].user_agent == USER_AGENT
    assert seen[0].host == f"127.0.0.1:{site.port}"


async def test_fetch_keeps_no_cookies(site: ScamSite) -> None:
    before = len(site.seen)
    f = GuardedFetcher(LOCAL)
    for _ in range(2):  # the server sets a cookie on every answer
        await f.fetch(normalize(site.url("/plain")))
    assert [s.cookie for s in site.seen[before:]] == ["", ""]


async def test_fetch_does_not_follow_redirects(site: ScamSite) -> None:
    before = len(site.seen)
    r = await GuardedFetcher(LOCAL).fetch(normalize(site.url("/short")))
    assert r.status == 302
    assert r.headers["location"] == "/r1"
    assert r.body == b""
    assert site.paths()[before:] == ["/short"]


async def test_fetch_refuses_loopback_without_allowance(site: ScamSite) -> None:
    before = len(site.seen)
    r = await GuardedFetcher().fetch(normalize(site.url("/plain")))
    assert r.refused is not None
    assert (r.refused.cls, r.refused.ip, r.status) == ("loopback", "127.0.0.1", None)
    assert len(site.seen) == before


@pytest.mark.parametrize(("url", "cls"), [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://10.0.0.1/", "private"),
    ("http://100.64.1.1/", "cgnat"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://[::ffff:127.0.0.1]/", "ipv4-mapped"),
    ("http://0.0.0.0:8080/", "unspecified"),
    ("http://167772161/", "private"),  # decimal form of 10.0.0.1
])
async def test_fetch_refuses_ip_literals(url: str, cls: str) -> None:
    start = time.monotonic()
    r = await GuardedFetcher(LOCAL).fetch(normalize(url))
    assert r.refused is not None and r.refused.cls == cls
    assert r.status is None and r.error is None
    # Refused before any connection attempt: no connect timeout (5 s) was waited for.
    assert time.monotonic() - start < 2.0


async def test_fetch_refuses_name_resolving_to_private() -> None:
    resolver = DictResolver({"evil.test": ["10.0.0.1"]})
    r = await GuardedFetcher(LOCAL, resolver=resolver).fetch(normalize("http://evil.test/"))
    assert r.refused is not None
    assert (r.refused.host, r.refused.ip, r.refused.cls) == ("evil.test", "10.0.0.1", "private")


async def test_fetch_refuses_when_any_answer_is_refused(site: ScamSite) -> None:
    before = len(site.seen)
    resolver = DictResolver({"mixed.test": ["127.0.0.1", "10.0.0.1"]})
    r = await GuardedFetcher(LOCAL, resolver=resolver).fetch(
        normalize(site.url("/plain", "mixed.test")))
    assert r.refused is not None and r.refused.ip == "10.0.0.1"
    assert len(site.seen) == before


async def test_fetch_pins_the_checked_address(site: ScamSite) -> None:
    """DNS rebinding: the first answer is checked and connected to; the second is never used."""
    before = len(site.seen)
    resolver = DictResolver({"rebind.test": [["127.0.0.1"], ["10.0.0.1"]]})
    f = GuardedFetcher(LOCAL, resolver=resolver)
    r = await f.fetch(normalize(site.url("/plain", "rebind.test")))
    assert (r.status, r.ip) == (200, "127.0.0.1")
    assert resolver.calls == {"rebind.test": 1}
    seen = site.seen[before:]
    assert [(s.path, s.host) for s in seen] == [("/plain", f"rebind.test:{site.port}")]
    # The next hop to the same name is checked again, and now refused.
    r2 = await f.fetch(normalize(site.url("/plain", "rebind.test")))
    assert r2.refused is not None and r2.refused.cls == "private"
    assert resolver.calls == {"rebind.test": 2}
    assert len(site.seen) == before + 1


async def test_fetch_tries_the_next_checked_address_when_connecting_fails(
    site: ScamSite,
) -> None:
    # Nothing listens on 127.0.0.3: the second (also checked) answer is used.
    resolver = DictResolver({"pool.test": ["127.0.0.3", "127.0.0.1"]})
    f = GuardedFetcher(parse_networks("127.0.0.1/32,127.0.0.3/32"), resolver=resolver)
    r = await f.fetch(normalize(site.url("/plain", "pool.test")))
    assert (r.status, r.ip, r.error) == (200, "127.0.0.1", None)
    assert resolver.calls == {"pool.test": 1}


async def test_fetch_unresolvable_name_is_an_error() -> None:
    r = await GuardedFetcher(resolver=DictResolver({})).fetch(normalize("http://nowhere.test/"))
    assert r.error is not None and "cannot resolve" in r.error
    assert r.refused is None and r.status is None


async def test_system_resolver_resolves_localhost() -> None:
    addrs = await SystemResolver().resolve("localhost", 80)
    assert addrs and all(a.is_loopback for a in addrs)


# --- limits -------------------------------------------------------------------------

async def test_body_limit_stops_reading(site: ScamSite) -> None:
    r = await GuardedFetcher(LOCAL).fetch(normalize(site.url("/huge")), max_body=100_000)
    assert r.truncated
    assert len(r.body) == 100_000


async def test_body_at_exactly_the_limit_is_not_truncated(site: ScamSite) -> None:
    size = len(PLAIN_PAGE.encode())
    r = await GuardedFetcher(LOCAL).fetch(normalize(site.url("/plain")), max_body=size)
    assert not r.truncated and len(r.body) == size


async def test_gzip_answer_is_inflated_within_the_limit(site: ScamSite) -> None:
    assert len(gzip_bomb()) < 100_000
    r = await GuardedFetcher(LOCAL).fetch(normalize(site.url("/gzip-bomb")), max_body=50_000)
    assert r.truncated
    assert len(r.body) == 50_000
    assert r.body.startswith(b"<html>")


async def test_hop_timeout(site: ScamSite) -> None:
    start = time.monotonic()
    r = await GuardedFetcher(LOCAL, hop_timeout=0.3).fetch(normalize(site.url("/slow?s=3")))
    assert r.timed_out and r.status is None
    assert time.monotonic() - start < 2.0  # the endpoint takes 3 s


async def test_time_left_bounds_a_dripping_body(site: ScamSite) -> None:
    """A server that sends one byte at a time never trips a read timeout; the hop budget does."""
    start = time.monotonic()
    r = await GuardedFetcher(LOCAL, hop_timeout=5).fetch(normalize(site.url("/drip")),
                                                         time_left=0.4)
    assert r.timed_out
    assert r.status == 200
    assert 0 < len(r.body) < 100
    # The body would take 5,000 s and the hop timeout is 5 s: stopping well before
    # either shows the 0.4 s budget applied (a loose bound: the machine may be busy).
    assert time.monotonic() - start < 3.0


# --- TLS: pinned IP, real name for SNI and verification ----------------------------

@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_site(ca: trustme.CA) -> Iterator[ScamSite]:
    # The certificate names secure.test only, not 127.0.0.1: it verifies only
    # if the client checks the real name while connecting to the pinned IP.
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("secure.test").configure_cert(server_ctx)
    with ScamSite(tls=server_ctx) as s:
        yield s


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


TLS_NAMES = DictResolver({"secure.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})


async def test_tls_pinned_ip_verifies_the_real_name(tls_site: ScamSite, ca: trustme.CA) -> None:
    before = len(tls_site.seen)
    f = GuardedFetcher(LOCAL, resolver=TLS_NAMES, ssl_context=trusting(ca))
    r = await f.fetch(normalize(tls_site.url("/plain", "secure.test")))
    assert (r.status, r.ip, r.tls_error, r.error) == (200, "127.0.0.1", None, None)
    assert tls_site.sni[-1] == "secure.test"
    assert tls_site.seen[before].host == f"secure.test:{tls_site.port}"


async def test_tls_wrong_name_fails_verification(tls_site: ScamSite, ca: trustme.CA) -> None:
    before = len(tls_site.seen)
    f = GuardedFetcher(LOCAL, resolver=TLS_NAMES, ssl_context=trusting(ca))
    r = await f.fetch(normalize(tls_site.url("/plain", "other.test")))
    assert r.tls_error is not None and "other.test" in r.tls_error
    assert r.status is None
    assert tls_site.sni[-1] == "other.test"
    # An IP-literal URL is checked against the IP, which the certificate does not name.
    r2 = await f.fetch(normalize(tls_site.url("/plain")))
    assert r2.tls_error is not None
    assert len(tls_site.seen) == before


async def test_tls_untrusted_certificate(tls_site: ScamSite) -> None:
    before = len(tls_site.seen)
    f = GuardedFetcher(LOCAL, resolver=TLS_NAMES)  # default trust store: our CA is unknown
    r = await f.fetch(normalize(tls_site.url("/plain", "secure.test")))
    assert r.tls_error is not None
    assert r.status is None and r.error is None
    assert len(tls_site.seen) == before
