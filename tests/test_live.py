"""The live-fetch scanner end to end, against real loopback servers.

Chains, page signals, APK downloads, refused hops (proved server side: the
refused server saw no request), TLS failures, budgets and the incomplete
reports. :class:`tests.live_servers.DictResolver` stands in for DNS only.
"""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from scanners.errors import ScanIncomplete
from scanners.fetch import GuardedFetcher, Resolver
from scanners.fetch_options import parse_networks
from scanners.findings import Finding, aggregate
from scanners.live import (
    CHECK,
    LiveFetchScanner,
    decode_body,
    field_kinds,
    fold,
    page_findings,
    parse_page,
)
from scanners.normalize import normalize
from tests.live_servers import APK, DictResolver, ScamSite

pytestmark = pytest.mark.anyio

LOCAL = parse_networks("127.0.0.1/32")



@pytest.fixture(scope="module")
def site() -> Iterator[ScamSite]:
    with ScamSite() as s:
        yield s


def scanner(allow: str = "127.0.0.1/32", resolver: Resolver | None = None,
            ssl_context: ssl.SSLContext | None = None, **kw: Any) -> LiveFetchScanner:
    fetcher = GuardedFetcher(parse_networks(allow), resolver=resolver, ssl_context=ssl_context,
                             hop_timeout=kw.pop("hop_timeout", 5.0))
    return LiveFetchScanner(fetcher, **kw)


def by_id(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


async def scan(sc: LiveFetchScanner, url: str) -> list[Finding]:
    return await sc.scan(normalize(url))


async def scan_incomplete(sc: LiveFetchScanner, url: str) -> ScanIncomplete:
    with pytest.raises(ScanIncomplete) as ei:
        await sc.scan(normalize(url))
    assert ei.value.check == CHECK
    return ei.value


# --- the contract ----------------------------------------------------------------------

async def test_short_link_end_to_end(site: ScamSite) -> None:
    before = len(site.seen)
    fs = by_id(await scan(scanner(), site.url("/short")))
    chain = fs["URL-NET-000"][0].evidence["chain"]
    assert [(h["url"].rsplit("/", 1)[1], h["via"], h["status"], h["ip"]) for h in chain] == [
        ("short", "start", 302, "127.0.0.1"),
        ("r1", "http-302", 200, "127.0.0.1"),
        ("r2", "meta-refresh", 200, "127.0.0.1"),
        ("page", "script", 200, "127.0.0.1"),
    ]
    assert fs["URL-NET-000"][0].evidence["final_url"] == site.url("/page")
    for rule in ("URL-DL-001", "URL-PAGE-001", "URL-PAGE-002", "URL-PAGE-003", "URL-TLS-002"):
        assert rule in fs, rule
    assert "URL-NET-001" not in fs
    dl = fs["URL-DL-001"][0].evidence
    assert dl["url"] == site.url("/app.apk")
    assert dl["linked_from"] == site.url("/page")
    assert dl["content_type"] == "application/vnd.android.package-archive"
    assert dl["declared_size"] == len(APK)
    assert dl["sample"] == {"sha256": hashlib.sha256(APK).hexdigest(), "size": len(APK),
                            "complete": True}
    assert fs["URL-PAGE-002"][0].evidence["asks_for"] == ["cccd", "otp"]
    assert "cong dich vu cong" in fs["URL-PAGE-001"][0].evidence["matched"]
    assert site.paths()[before:] == ["/short", "/r1", "/r2", "/page", "/app.apk"]


async def test_short_link_without_allowance_fetches_nothing(site: ScamSite) -> None:
    before = len(site.seen)
    fs = await scan(scanner(allow=""), site.url("/short"))
    assert [f.rule_id for f in fs] == ["URL-NET-001"]
    assert dict(fs[0].evidence) == {"host": "127.0.0.1", "class": "loopback",
                                    "hop": 0, "hop_url": site.url("/short")}
    assert len(site.seen) == before


# --- refused hops in the middle of a chain -------------------------------------------

@pytest.mark.parametrize(("path", "cls"), [
    ("/to-metadata", "metadata"),
    ("/to-private", "private"),
    ("/to-mapped", "ipv4-mapped"),
])
async def test_redirect_to_refused_address(site: ScamSite, path: str, cls: str) -> None:
    before = len(site.seen)
    start = time.monotonic()
    fs = by_id(await scan(scanner(), site.url(path)))
    refused = fs["URL-NET-001"][0].evidence
    assert (refused["class"], refused["hop"]) == (cls, 1)
    assert "ip" not in refused  # the class, never the address (issue 15)
    chain = fs["URL-NET-000"][0].evidence["chain"]
    assert chain[1]["refused"] == cls and chain[1]["status"] is None
    assert site.paths()[before:] == [path]  # the refused target got nothing
    assert time.monotonic() - start < 2.0   # and no connection was attempted (5 s timeout)


async def test_redirect_to_another_loopback_server_is_never_connected(site: ScamSite) -> None:
    """Only 127.0.0.1/32 is allowed: a real server on 127.0.0.2 must see no request."""
    with ScamSite(bind="127.0.0.2") as other:
        fs = by_id(await scan(scanner(), site.url(f"/to?u={other.url('/page')}")))
        assert fs["URL-NET-001"][0].evidence["class"] == "loopback"
        assert other.seen == []
        # With that address allowed too, the same chain reaches it.
        fs = by_id(await scan(scanner(allow="127.0.0.1/32,127.0.0.2/32"),
                              site.url(f"/to?u={other.url('/plain')}")))
        assert "URL-NET-001" not in fs
        assert other.paths() == ["/plain"]


async def test_rebinding_name_is_checked_again_on_the_next_hop(site: ScamSite) -> None:
    """rebind.test answers 127.0.0.1, then 10.0.0.1: hop 0 is fetched, hop 1 refused."""
    before = len(site.seen)
    resolver = DictResolver({"rebind.test": [["127.0.0.1"], ["10.0.0.1"]]})
    fs = by_id(await scan(scanner(resolver=resolver), site.url("/to?u=/plain", "rebind.test")))
    ev = fs["URL-NET-001"][0].evidence
    assert (ev["host"], ev["class"], ev["hop"]) == ("rebind.test", "private", 1)
    assert resolver.calls == {"rebind.test": 2}
    assert [(s.path, s.host) for s in site.seen[before:]] == [
        ("/to?u=/plain", f"rebind.test:{site.port}")]


# --- redirects: shorteners, other domains, the worst hop ------------------------------

async def test_shortener_expanded_and_worst_hop_counted(site: ScamSite) -> None:
    resolver = DictResolver({"bit.ly": ["127.0.0.1"], "vneid-capnhat.top": ["127.0.0.1"]})
    target = site.url("/page", "vneid-capnhat.top")
    fs = await scan(scanner(resolver=resolver), site.url(f"/to?u={target}", "bit.ly"))
    ids = by_id(fs)
    chain = ids["URL-NET-000"][0].evidence["chain"]
    assert chain[0]["shortener"] is True
    assert [h["url"] for h in chain] == [site.url(f"/to?u={target}", "bit.ly"), target]
    assert ids["URL-RED-001"][0].evidence["domains"] == ["bit.ly", "vneid-capnhat.top"]
    # The landing host's own offline findings, tagged with the hop.
    gov = ids["URL-GOV-001"][0].evidence
    assert (gov["hop"], gov["hop_url"]) == (1, target)
    assert "URL-LEX-001" in ids  # .top
    # What the input URL shows itself (port, plain http) is not repeated.
    assert "URL-LEX-007" not in ids and "URL-LEX-008" not in ids
    assert aggregate(fs).risk_score >= 70


async def test_official_hop_adds_no_allowlist_finding(site: ScamSite) -> None:
    """A scam that ends on a real government site must not be zeroed by it."""
    resolver = DictResolver({"dichvucong.gov.vn": ["127.0.0.1"]})
    final = site.url("/page", "dichvucong.gov.vn")
    before = len(site.seen)
    fs = by_id(await scan(scanner(resolver=resolver), site.url(f"/to?u={final}")))
    assert not any(r.startswith("URL-OFF") for r in fs)
    # No page signals on an official host, and its links are not probed...
    assert not any(r.startswith("URL-PAGE") for r in fs)
    assert "URL-DL-001" not in fs
    assert site.paths()[before:] == [f"/to?u={final}", "/page"]
    # ...but a personal-data form over plain http is reported wherever it is.
    assert "URL-TLS-002" in fs


async def test_refresh_header_is_a_hop(site: ScamSite) -> None:
    fs = by_id(await scan(scanner(), site.url("/refresh-header")))
    chain = fs["URL-NET-000"][0].evidence["chain"]
    assert [h["via"] for h in chain] == ["start", "refresh-header"]
    assert chain[1]["url"] == site.url("/plain")


async def test_redirect_loop_is_incomplete(site: ScamSite) -> None:
    before = len(site.seen)
    e = await scan_incomplete(scanner(), site.url("/loop/0"))
    assert "more than 10" in e.reason
    fs = by_id(list(e.findings))
    assert len(fs["URL-NET-000"][0].evidence["chain"]) == 11
    assert len(site.seen) - before == 11


# --- downloads ---------------------------------------------------------------------

@pytest.mark.parametrize(("path", "how"), [
    ("/app.apk", ["content-type", "apk-magic", "apk-path"]),
    ("/octet.bin", ["content-disposition", "apk-magic"]),
])
async def test_apk_download(site: ScamSite, path: str, how: list[str]) -> None:
    fs = by_id(await scan(scanner(), site.url(path)))
    ev = fs["URL-DL-001"][0].evidence
    assert ev["detected_by"] == how
    assert ev["hop"] == 0
    assert ev["sample"]["sha256"] == hashlib.sha256(APK).hexdigest()


@pytest.mark.parametrize("path", ["/zip", "/missing.apk", "/plain"])
async def test_not_an_apk(site: ScamSite, path: str) -> None:
    fs = by_id(await scan(scanner(), site.url(path)))
    assert "URL-DL-001" not in fs


async def test_apk_sample_is_bounded(site: ScamSite) -> None:
    fs = by_id(await scan(scanner(max_body=100), site.url("/app.apk")))
    sample = fs["URL-DL-001"][0].evidence["sample"]
    assert sample == {"sha256": hashlib.sha256(APK[:100]).hexdigest(), "size": 100,
                      "complete": False}


# --- page signals -------------------------------------------------------------------

async def test_fake_google_play(site: ScamSite) -> None:
    fs = by_id(await scan(scanner(), site.url("/play")))
    ev = fs["URL-PAGE-004"][0].evidence
    assert "luot tai" in ev["layout_words"]
    assert ev["assets"] == ["https://play-lh.googleusercontent.com/favicon.png"]
    assert "URL-PAGE-001" in fs  # "Bộ Công an", "VNeID"


async def test_login_over_http(site: ScamSite) -> None:
    fs = by_id(await scan(scanner(), site.url("/login")))
    assert fs["URL-TLS-002"][0].evidence["asks_for"] == ["password"]
    assert "URL-PAGE-005" in fs
    assert "URL-PAGE-002" not in fs


def test_signals_match_without_diacritics_and_any_case() -> None:
    page = parse_page(
        "<html><title>x</title><body><P>CONG DICH VU CONG - co so du lieu quoc gia ve dan cu"
        "</P><form><input placeholder='Nhap so can cuoc'><input name='cardNumber'>"
        "<input autocomplete='one-time-code'><input type='password'></form>"
        "<a href='/x'>TAI UNG DUNG</a></body></html>")
    kinds = {k: [d] for i in page.inputs for k in field_kinds(i) for d in [i.descriptor]}
    assert set(kinds) == {"cccd", "card", "otp", "password"}
    found = by_id(page_findings(page, normalize("http://fake.example/"), kinds))
    assert found["URL-PAGE-001"][0].evidence["matched"] == [
        "co so du lieu quoc gia ve dan cu", "cong dich vu cong"]
    assert set(found) == {"URL-PAGE-001", "URL-PAGE-002", "URL-PAGE-003", "URL-PAGE-005"}
    assert fold("Cổng  Dịch vụ CÔNG") == "cong dich vu cong"


def test_plain_page_has_no_signals() -> None:
    page = parse_page("<html><body><p>Cài đặt giao diện. Google Play có nhiều ứng dụng.</p>"
                      "<form><input name='q' placeholder='Tìm kiếm'></form></body></html>")
    kinds = {k: ["x"] for i in page.inputs for k in field_kinds(i)}
    assert kinds == {}
    assert page_findings(page, normalize("http://fine.example/"), kinds) == []


# --- TLS --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_site() -> Iterator[ScamSite]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("secure.test").configure_cert(server_ctx)
    with ScamSite(tls=server_ctx) as s:
        yield s


async def test_untrusted_certificate_is_a_finding(tls_site: ScamSite) -> None:
    resolver = DictResolver({"secure.test": ["127.0.0.1"]})
    url = tls_site.url("/short", "secure.test")
    fs = by_id(await scan(scanner(resolver=resolver), url))
    ev = fs["URL-TLS-001"][0].evidence
    assert (ev["url"], ev["hop"]) == (url, 0)
    assert tls_site.seen == []  # not fetched insecurely either


# --- budgets ----------------------------------------------------------------------------

async def test_total_budget_against_a_slow_endpoint(site: ScamSite) -> None:
    budget = 0.5
    start = time.monotonic()
    e = await scan_incomplete(scanner(total_timeout=budget), site.url("/slow?s=3"))
    assert time.monotonic() - start < budget + 1.5  # the endpoint itself takes 3 s
    assert "timed out" in e.reason
    assert e.findings == ()


async def test_budget_spent_across_hops(site: ScamSite) -> None:
    """A chain whose second hop is slow keeps the first hop in the partial findings."""
    budget = 0.6
    start = time.monotonic()
    e = await scan_incomplete(scanner(total_timeout=budget), site.url("/to?u=/slow"))
    assert time.monotonic() - start < budget + 1.5  # the endpoint itself takes 3 s
    assert "timed out" in e.reason
    chain = by_id(list(e.findings))["URL-NET-000"][0].evidence["chain"]
    assert [h["status"] for h in chain] == [302, None]


async def test_default_limits_finish_within_budget(site: ScamSite) -> None:
    """Default 2 MB body limit and 10 hops: a huge page and a dripping page stay in budget."""
    start = time.monotonic()
    e = await scan_incomplete(scanner(total_timeout=5.0), site.url("/huge"))
    assert "larger than 2000000 bytes" in e.reason
    assert time.monotonic() - start < 5.0
    budget = 0.8
    start = time.monotonic()
    e = await scan_incomplete(scanner(total_timeout=budget), site.url("/drip"))
    assert time.monotonic() - start < budget + 1.5  # the endpoint itself takes 3 s
    assert "timed out" in e.reason


# --- charsets, as browsers read them ---------------------------------------------------

@pytest.mark.parametrize(("body", "ctype", "text"), [
    # the header's label, then a <meta>, then UTF-8
    ("Đăng ơ ư".encode("cp1258"), "text/html; charset=windows-1258", "Đăng ơ ư"),
    (b'<meta charset="windows-1252">caf\xe9', "text/html", '<meta charset="windows-1252">café'),
    ("Đăng nhập".encode(), "text/html", "Đăng nhập"),
    # latin1 is windows-1252 for a browser (0x80 is the euro sign)
    (b"\x80", "text/html; charset=latin1", "\u20ac"),
    # a byte-order mark wins over every label
    (b"\xef\xbb\xbfcaf\xc3\xa9", "text/html; charset=windows-1252", "café"),
    # a label no browser knows is no label: the <meta> (here none), then UTF-8
    (b"a+2AA-b", "text/html; charset=utf-7", "a+2AA-b"),
    (b"a\\ud800b", "text/html; charset=unicode_escape", "a\\ud800b"),
    (b"616263", "text/html; charset=hex", "616263"),
    (b'<meta charset="utf-8">\xc3\xa9', "text/html; charset=bogus", '<meta charset="utf-8">é'),
    # a <meta> cannot name UTF-16
    (b'<meta charset="utf-16">\xc3\xa9', "text/html", '<meta charset="utf-16">é'),
])
def test_decode_body_reads_charsets_as_browsers_do(body: bytes, ctype: str, text: str) -> None:
    got = decode_body(body, ctype)
    assert got == text
    got.encode("utf-8")  # never a lone surrogate
