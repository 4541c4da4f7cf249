"""What the live fetch reveals and where it may connect (penetration test, issue 15).

* A refused target's evidence names the class of address (private, loopback…)
  but never the address a name resolved to: the scanner must not disclose
  internal DNS.
* Only ports 80 and 443 are fetched unless configured otherwise, so the
  scanner is no relay or port-probe oracle for arbitrary addresses and ports.

Real loopback servers (:mod:`tests.live_servers`); :class:`DictResolver`
stands in for DNS only.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.main import create_app
from api.settings import Settings
from scanners.fetch import AddressPolicy, GuardedFetcher, IPAddress
from scanners.fetch_options import parse_networks, parse_ports
from scanners.findings import Finding
from scanners.live import CHECK, LiveFetchScanner
from scanners.normalize import normalize
from tests.live_servers import DictResolver, ScamSite
from tests.test_live_hostile import live_scan

pytestmark = pytest.mark.anyio

INTERNAL = "10.1.2.3"
TABLE: dict[str, list[str] | list[list[str]]] = {
    "intranet.test": [INTERNAL], "local.test": ["127.0.0.1"],
}


@pytest.fixture(scope="module")
def site() -> Iterator[ScamSite]:
    with ScamSite() as s:
        s.routes["/to-intranet"] = lambda h, q: h.redirect("http://intranet.test/admin")
        s.routes["/dl-intranet"] = lambda h, q: h.html(
            '<html><body><a href="http://intranet.test/app.apk">Tải ứng dụng</a></body></html>')
        yield s




def scanner(allow: str = "127.0.0.1/32", **kw: Any) -> LiveFetchScanner:
    fetcher = GuardedFetcher(parse_networks(allow), resolver=DictResolver(TABLE),
                             hop_timeout=3.0, **kw)
    return LiveFetchScanner(fetcher)


def dump(findings: list[Finding]) -> str:
    return json.dumps([f.to_dict("en") for f in findings])


# --- internal DNS is not disclosed --------------------------------------------------------

@pytest.mark.parametrize("path", ["/to-intranet", "/dl-intranet"])
async def test_refused_name_keeps_the_class_not_the_address(site: ScamSite, path: str) -> None:
    findings, _ = await live_scan(scanner(), site.url(path))
    text = dump(findings)
    assert INTERNAL not in text
    if path == "/to-intranet":
        [net] = [f for f in findings if f.rule_id == "URL-NET-001"]
        assert dict(net.evidence) == {"host": "intranet.test", "class": "private", "hop": 1,
                                      "hop_url": "http://intranet.test/admin"}
        chain = next(f for f in findings if f.rule_id == "URL-NET-000").evidence["chain"]
        assert chain[1]["refused"] == "private" and chain[1]["ip"] is None
    else:
        chain_ev = next(f for f in findings if f.rule_id == "URL-NET-000").evidence
        [note] = chain_ev["download_links"]
        assert note["refused"] == "private" and note["ip"] is None


async def test_refused_name_through_the_api_discloses_nothing(
        site: ScamSite, tmp_path: Path) -> None:
    async with api(tmp_path) as (c, _):
        r = await c.post("/v1/url-scans", json={"url": "http://intranet.test/",
                                                "offline": False})
    assert r.status_code == 200
    assert INTERNAL not in r.text
    net = [f for f in r.json()["findings"] if f["rule_id"] == "URL-NET-001"]
    assert net and net[0]["evidence"]["class"] == "private"


# --- ports ------------------------------------------------------------------------------
# No test may reach a real public address, so the Internet is played by a
# loopback server and a policy that judges 127.0.0.1 like a public address
# (an address no local server can stand in for is the one edge replaced).


class LoopbackAsPublic(AddressPolicy):
    """127.0.0.1 is judged like a public address: no refusal, no lab allowance."""

    def check(self, ip: IPAddress | str) -> str | None:
        return None if str(ip) == "127.0.0.1" else super().check(ip)

    def explicitly_allowed(self, ip: IPAddress) -> bool:
        return False


def public_fetcher(**kw: Any) -> GuardedFetcher:
    f = GuardedFetcher(resolver=DictResolver({"public.test": ["127.0.0.1"]}),
                       hop_timeout=3.0, **kw)
    f.policy = LoopbackAsPublic()
    return f


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


async def test_other_ports_are_not_fetched_on_public_addresses(site: ScamSite) -> None:
    """An open and a closed port get the same answer, and nothing is connected."""
    before = len(site.seen)
    fetcher = public_fetcher()
    results = [await fetcher.fetch(normalize(f"http://public.test:{port}/plain"))
               for port in (site.port, closed_port())]
    assert len(site.seen) == before
    shapes = {(r.status, r.ip, r.error, r.timed_out, r.refused, r.tls_error) for r in results}
    assert shapes == {(None, None, None, False, None, None)}
    assert [r.blocked_port is not None for r in results] == [True, True]
    findings, incomplete = await live_scan(LiveFetchScanner(fetcher),
                                           f"http://public.test:{site.port}/plain")
    assert incomplete is not None and f"port {site.port}" in incomplete
    assert "not fetched" in incomplete and "80, 443" in incomplete
    # Nothing that tells open from closed: no timing, no connection error.
    assert not re.search(r"\d s\b|timed out|refused|reset|errno|connection", incomplete, re.I)
    assert not [f for f in findings if f.rule_id == "URL-NET-000"]
    assert len(site.seen) == before


async def test_allowed_ports_widen_the_ports(site: ScamSite) -> None:
    before = len(site.seen)
    r = await public_fetcher(allowed_ports=(80, 443, site.port)).fetch(
        normalize(f"http://public.test:{site.port}/plain"))
    assert (r.status, r.blocked_port) == (200, None)
    assert site.paths()[before:] == ["/plain"]


async def test_a_redirect_to_another_port_is_not_followed(site: ScamSite) -> None:
    with ScamSite() as other:
        fetcher = public_fetcher(allowed_ports=(80, 443, site.port))
        url = f"http://public.test:{site.port}/to?u=http://public.test:{other.port}/plain"
        findings, incomplete = await live_scan(LiveFetchScanner(fetcher), url)
        chain = next(f for f in findings if f.rule_id == "URL-NET-000").evidence["chain"]
        assert chain[1]["not_fetched"] == "port" and chain[1]["status"] is None
        assert incomplete is not None and f"port {other.port}" in incomplete
        assert other.seen == []


async def test_lab_networks_may_use_any_port(site: ScamSite) -> None:
    """An address of SCAMSCAN_FETCH_ALLOW_NETWORKS is the operator's own: any port."""
    r = await GuardedFetcher(parse_networks("127.0.0.1/32"), resolver=DictResolver(TABLE),
                             allowed_ports=(80, 443)).fetch(
        normalize(site.url("/plain", "local.test")))
    assert r.status == 200 and r.blocked_port is None
    # Without the allowance the address is refused first (URL-NET-001), port or not.
    r = await GuardedFetcher(resolver=DictResolver(TABLE)).fetch(
        normalize(site.url("/plain", "local.test")))
    assert r.refused is not None and r.refused.cls == "loopback" and r.blocked_port is None


def test_allowed_ports_setting_is_parsed_and_checked() -> None:
    assert Settings(fetch_allowed_ports="80, 443,8443").fetch_allowed_ports == "80, 443,8443"
    assert parse_ports("80, 443,8443,80") == (80, 443, 8443)
    for bad in ("http", "0", "65536", "80,,443", "", "٨٠"):
        with pytest.raises(ValueError, match="port"):
            Settings(fetch_allowed_ports=bad)


async def test_api_other_port_is_not_fetched(site: ScamSite, tmp_path: Path) -> None:
    before = len(site.seen)
    async with api(tmp_path, fetch_allow_networks="") as (c, app):
        app.state.services.live.fetch.fetcher.policy = LoopbackAsPublic()
        r = await c.post("/v1/url-scans", json={
            "url": f"http://public.test:{site.port}/plain", "offline": False})
    assert r.status_code == 200
    [inc] = [i for i in r.json()["incomplete"] if i["check"] == CHECK]
    assert f"port {site.port}" in inc["reason"]
    assert len(site.seen) == before


@asynccontextmanager
async def api(tmp_path: Path, **overrides: Any
              ) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    settings = Settings(**{"fetch_allow_networks": "127.0.0.1/32", "data_dir": tmp_path,
                           "apk_workers": 1, **overrides})
    app = create_app(settings, resolver=DictResolver({**TABLE, "public.test": ["127.0.0.1"]}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     timeout=30) as c:
            yield c, app


# --- how many links one message check fetches ----------------------------------------------

async def test_message_check_live_links_are_bounded(site: ScamSite, tmp_path: Path) -> None:
    before = len(site.seen)
    paths = ["/plain", "/login", "/play"]
    text = "Xem ngay: " + " và ".join(site.url(p) for p in paths)
    async with api(tmp_path, message_live_max_links=1) as (c, _):
        r = await c.post("/v1/message-checks", json={"text": text, "offline": False})
    assert r.status_code == 200, r.text
    fetched = site.paths()[before:]
    assert len(fetched) == 1 and fetched[0] in paths
    skipped = [i["reason"] for i in r.json()["incomplete"] if "not checked live" in i["reason"]]
    assert len(skipped) == 2 and all("at most 1 link" in s for s in skipped)
    # The skipped links still have their offline report.
    links = [i for i in r.json()["items"] if i["kind"] == "link"]
    assert len(links) == 3 and all("verdict" in i for i in links)
