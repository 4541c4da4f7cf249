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
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.settings import Settings
from scanners.errors import ScanIncomplete
from scanners.fetch import GuardedFetcher, parse_networks
from scanners.findings import Finding
from scanners.live import CHECK, LiveFetchScanner
from scanners.normalize import normalize
from tests.live_servers import DictResolver, ScamSite

pytestmark = pytest.mark.anyio

INTERNAL = "10.1.2.3"
TABLE: dict[str, list[str] | list[list[str]]] = {
    "intranet.test": [INTERNAL], "local.test": ["127.0.0.1"], "public.test": ["93.184.216.34"],
}


@pytest.fixture(scope="module")
def site() -> Iterator[ScamSite]:
    with ScamSite() as s:
        s.routes["/to-intranet"] = lambda h, q: h.redirect("http://intranet.test/admin")
        s.routes["/dl-intranet"] = lambda h, q: h.html(
            '<html><body><a href="http://intranet.test/app.apk">Tải ứng dụng</a></body></html>')
        yield s


async def live_scan(sc: LiveFetchScanner, url: str) -> tuple[list[Finding], str | None]:
    try:
        return await sc.scan(normalize(url)), None
    except ScanIncomplete as e:
        assert e.check == CHECK
        return list(e.findings), e.reason


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
    async with api(tmp_path) as c:
        r = await c.post("/v1/url-scans", json={"url": "http://intranet.test/",
                                                "offline": False})
    assert r.status_code == 200
    assert INTERNAL not in r.text
    net = [f for f in r.json()["findings"] if f["rule_id"] == "URL-NET-001"]
    assert net and net[0]["evidence"]["class"] == "private"


@asynccontextmanager
async def api(tmp_path: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(**{"fetch_allow_networks": "127.0.0.1/32", "data_dir": tmp_path,
                           "apk_workers": 1, **overrides})
    app = create_app(settings, resolver=DictResolver(TABLE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://scamscan",
                                     timeout=30) as c:
            yield c
