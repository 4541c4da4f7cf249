"""Hostile answers to a live scan (penetration test, issue 15): never a crash.

A scam site chooses what it answers. Redirect targets that no URL parser
accepts (``//[x/``, ``http://[::1/x``, ``http://xn--/``), targets a browser
repairs (``http:foo``, ``http:\\\\x/ok``, TAB or DEL in the path), in a
``Location`` or ``Refresh`` header, a meta refresh, a script redirect or an
app download link, must each end as a finding or an ``incomplete`` entry,
through the scanner, the HTTP API (link scans and message checks) and the
CLI, never as an exception or a 500.
Real loopback servers (:mod:`tests.live_servers`); :class:`DictResolver`
stands in for DNS only.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.settings import Settings
from scanners.base import Contained
from scanners.errors import ScanIncomplete
from scanners.fetch import GuardedFetcher
from scanners.fetch_options import parse_networks
from scanners.findings import Finding
from scanners.live import CHECK, LiveFetchScanner
from scanners.normalize import ParsedURL, normalize
from scanners.report import run_scanners
from tests.live_servers import DictResolver, Route, ScamSite

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]

# "x" is the host of http:\\x/ok once a browser has repaired it; it resolves
# to a private address, so the fetcher refuses it without connecting.
RESOLVER_TABLE: dict[str, list[str] | list[list[str]]] = {"x": ["10.9.9.9"]}

# trigger -> what a browser makes of it, relative to a page at /h/<pos><n>:
#   ("malformed", None)   no browser can follow it: URL-NET-002 (+ incomplete)
#   ("follows", suffix)   followed, the next hop's URL ends with suffix
#   ("refused", None)     followed to a host that resolves to a refused address
TRIGGERS: list[tuple[str, str, str | None]] = [
    ("http:foo", "follows", "/h/foo"),
    ("http:\\\\x/ok", "refused", None),
    ("http://xn--/", "malformed", None),
    ("//[x/", "malformed", None),
    ("http://[::1/x", "malformed", None),
    ("/a\tb", "follows", "/ab"),
    ("/a\x7fb", "follows", "/a%7Fb"),
]
POSITIONS = ("location", "refresh", "meta", "script", "download")


def _html(doc: str) -> Route:
    return lambda h, q: h.html(doc)


def _redirect(location: str) -> Route:
    # The header goes out raw, as a hostile server sends it (no quoting, no checks).
    return lambda h, q: h.redirect(location)


def _refresh(target: str) -> Route:
    return lambda h, q: h.send(200, "text/plain", b"wait", [("Refresh", f"0; url={target}")])


def install_routes(site: ScamSite) -> None:
    """/h/<position><n> answers trigger n in that position."""
    head = "<!doctype html><html><head>{}</head><body></body></html>"
    for n, (trigger, _, _) in enumerate(TRIGGERS):
        site.routes[f"/h/location{n}"] = _redirect(trigger)
        site.routes[f"/h/refresh{n}"] = _refresh(trigger)
        site.routes[f"/h/meta{n}"] = _html(head.format(
            f'<meta http-equiv="refresh" content="0; url={trigger}">'))
        site.routes[f"/h/script{n}"] = _html(head.format(
            f'<script>location.href="{trigger}";</script>'))
        site.routes[f"/h/download{n}"] = _html(
            f'<!doctype html><html><body><p>Tải ứng dụng VNeID mới</p>'
            f'<a href="{trigger}">Tải ứng dụng</a></body></html>')


@pytest.fixture(scope="module")
def site() -> Iterator[ScamSite]:
    with ScamSite() as s:
        install_routes(s)
        yield s


def scanner(**kw: Any) -> LiveFetchScanner:
    fetcher = GuardedFetcher(parse_networks("127.0.0.1/32"),
                             resolver=DictResolver(RESOLVER_TABLE), hop_timeout=5.0)
    return LiveFetchScanner(fetcher, **kw)


async def live_scan(sc: LiveFetchScanner, url: str) -> tuple[list[Finding], str | None]:
    """Findings and the incomplete reason (None when the scan finished)."""
    try:
        return await sc.scan(normalize(url)), None
    except ScanIncomplete as e:
        assert e.check == CHECK
        return list(e.findings), e.reason


def by_id(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


CASES = [pytest.param(n, pos, id=f"{pos}-{TRIGGERS[n][0]!r}")
         for n in range(len(TRIGGERS)) for pos in POSITIONS]


@pytest.mark.parametrize(("n", "position"), CASES)
async def test_hostile_target_is_a_finding_or_incomplete(
        site: ScamSite, n: int, position: str) -> None:
    trigger, outcome, suffix = TRIGGERS[n]
    findings, incomplete = await live_scan(scanner(), site.url(f"/h/{position}{n}"))
    fs = by_id(findings)
    chain = fs["URL-NET-000"][0].evidence["chain"]
    assert chain[0]["status"] in (200, 302)
    if position == "download":
        # The page itself is scored; the broken or odd link is noted, never a crash.
        assert "URL-PAGE-003" in fs
        notes = fs["URL-NET-000"][0].evidence.get("download_links", [])
        if outcome == "malformed":
            assert [d.get("malformed") is not None for d in notes] == [True]
            assert notes[0]["url"] == trigger
        elif outcome == "follows":
            assert suffix is not None and notes[0]["url"].endswith(suffix.rsplit("/", 1)[1])
        else:
            assert notes[0].get("refused") == "private"
        return
    if position == "script" and "\t" in trigger:
        # Not a literal the script-redirect pattern reads: the page is the end.
        assert len(chain) == 1 and incomplete is None
        return
    if outcome == "malformed":
        net2 = fs["URL-NET-002"][0].evidence
        assert net2["target"] == trigger and net2["hop"] == 0
        assert net2["via"] in ("http-302", "refresh-header", "meta-refresh", "script")
        assert incomplete is not None and "malformed" in incomplete
        assert len(chain) == 1
    elif outcome == "follows":
        assert suffix is not None
        assert len(chain) == 2 and chain[1]["url"].endswith(suffix), chain
        assert chain[1]["status"] == 404
    else:
        assert fs["URL-NET-001"][0].evidence["class"] == "private"
        assert chain[1]["url"] == "http://x/ok"


@pytest.mark.parametrize("path", ["/pl\tain", "/pl\x7fain"])
async def test_control_characters_in_the_scanned_url(site: ScamSite, path: str) -> None:
    """TAB is dropped and DEL percent-encoded, as a browser does; the hop is fetched."""
    before = len(site.seen)
    findings, incomplete = await live_scan(scanner(), site.url(path))
    chain = by_id(findings)["URL-NET-000"][0].evidence["chain"]
    assert chain[0]["status"] in (200, 404)
    assert site.paths()[before:] == (["/plain"] if "\t" in path else ["/pl%7Fain"])
    assert incomplete is None


async def test_unexpected_error_is_incomplete_and_logged(
        site: ScamSite, caplog: pytest.LogCaptureFixture) -> None:
    """A bug inside a live scan (here: the APK hand-off raises) is an incomplete entry."""
    async def broken_handler(body: bytes, url: str) -> dict[str, Any]:
        raise RuntimeError("bug in the hand-off")

    with caplog.at_level(logging.ERROR):
        findings, incomplete = await live_scan(scanner(apk_handler=broken_handler),
                                               site.url("/app.apk"))
    assert incomplete is not None and "unexpected" in incomplete
    assert "bug in the hand-off" not in incomplete  # details go to the log, not the user
    # What was established before the failure is kept.
    assert "URL-DL-001" in by_id(findings)
    assert any(r.exc_info and "bug in the hand-off" in str(r.exc_info[1])
               for r in caplog.records)


class Broken:
    """A scanner with a bug (what a hostile answer could trigger in any live check)."""

    name = "broken"

    async def scan(self, target: ParsedURL) -> list[Finding]:
        raise RuntimeError("bug in a live check")


async def test_contained_scanner_bug_is_an_incomplete_check(
        caplog: pytest.LogCaptureFixture) -> None:
    target = normalize("example.com")
    with caplog.at_level(logging.ERROR):
        found, missing = await run_scanners(target, [Contained(Broken(), "domain_age")])
    assert found == [] and [m.check for m in missing] == ["domain_age"]
    assert "bug in a live check" not in missing[0].reason
    assert any(r.exc_info and "bug in a live check" in str(r.exc_info[1])
               for r in caplog.records)
    # Uncontained, the bug still surfaces (run_scanners hides nothing by itself).
    with pytest.raises(RuntimeError):
        await run_scanners(target, [Broken()])


async def test_api_live_checks_are_contained(site: ScamSite, tmp_path: Path) -> None:
    """A bug in the domain-age check is an incomplete entry of the API's report, not a 500."""
    settings = Settings(fetch_allow_networks="127.0.0.1/32", data_dir=tmp_path, apk_workers=1)
    app = create_app(settings, resolver=DictResolver({"vneid-portal.com": ["127.0.0.1"]}))
    async with app.router.lifespan_context(app):
        assert all(isinstance(s, Contained) for s in app.state.services.live.scanners)
        app.state.services.live.age.scan = Broken().scan
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     timeout=30) as c:
            r = await c.post("/v1/url-scans", json={
                "url": f"http://vneid-portal.com:{site.port}/plain", "offline": False})
    assert r.status_code == 200, r.text
    assert [i["check"] for i in r.json()["incomplete"]] == ["domain_age"]
    assert "URL-NET-000" in {f["rule_id"] for f in r.json()["findings"]}


# --- through the HTTP API ----------------------------------------------------------------


@asynccontextmanager
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(fetch_allow_networks="127.0.0.1/32", data_dir=tmp_path,
                        apk_workers=1, rate_limit_keyless="10000/minute")
    app = create_app(settings, resolver=DictResolver(RESOLVER_TABLE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     timeout=30) as c:
            yield c


def _live_evidence(report: dict[str, Any]) -> bool:
    ids = {f["rule_id"] for f in report["findings"]}
    return bool(report["incomplete"]) or bool(ids & {"URL-NET-000", "URL-NET-001",
                                                     "URL-NET-002"})


async def test_api_link_scans_answer_every_hostile_target(
        site: ScamSite, tmp_path: Path) -> None:
    urls = [site.url(f"/h/{pos}{n}") for n in range(len(TRIGGERS)) for pos in POSITIONS]
    urls += [site.url("/pl\tain"), site.url("/pl\x7fain")]
    async with api(tmp_path) as c:
        for url in urls:
            r = await c.post("/v1/url-scans", json={"url": url, "offline": False})
            assert r.status_code == 200, (url, r.status_code, r.text[:300])
            assert _live_evidence(r.json()), (url, r.json())
        # the malformed ones carry the finding with its points
        r = await c.post("/v1/url-scans", json={"url": site.url("/h/location3"),
                                                "offline": False})
        ids = {f["rule_id"]: f for f in r.json()["findings"]}
        assert ids["URL-NET-002"]["points"] > 0
        assert any(i["check"] == CHECK for i in r.json()["incomplete"])


async def test_api_message_check_answers_hostile_targets(
        site: ScamSite, tmp_path: Path) -> None:
    async with api(tmp_path) as c:
        for n in range(len(TRIGGERS)):
            text = f"Cập nhật VNeID tại {site.url(f'/h/location{n}')} ngay"
            r = await c.post("/v1/message-checks", json={"text": text, "offline": False})
            assert r.status_code == 200, (n, r.status_code, r.text[:300])
            [link] = [i for i in r.json()["items"] if i["kind"] == "link"]
            assert _live_evidence(link), link


def test_cli_reports_a_malformed_redirect(site: ScamSite) -> None:
    """The console's sibling edge: ``scamscan url`` prints a report, no traceback."""
    n = next(i for i, t in enumerate(TRIGGERS) if t[0] == "//[x/")
    env = {**os.environ, "SCAMSCAN_FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
           "SCAMSCAN_FETCH_TOTAL_TIMEOUT": "5"}
    r = subprocess.run([sys.executable, "-m", "api.cli", "url", "--live", "--json",
                        site.url(f"/h/location{n}")], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    report = json.loads(r.stdout)
    assert "URL-NET-002" in {f["rule_id"] for f in report["findings"]}
    assert [i["check"] for i in report["incomplete"]] == [CHECK]


# --- pages that name a codec no browser has ----------------------------------------------

# "+2AA-" in UTF-7 and "\ud800" in unicode_escape decode to a lone UTF-16 surrogate,
# which no report can carry; browsers read such pages as UTF-8 (WHATWG labels only).
_ODD_CHARSETS = [
    ("text/html; charset=utf-7", b"<title>Vietcombank +2AA- </title>"),
    ("text/html; charset=unicode_escape", b"<title>Vietcombank \\ud800 </title>"),
    ("text/html", b'<meta charset="utf-7"><title>Vietcombank +2AA- </title>'),
    ("text/html; charset=utf-7",
     b'<meta http-equiv="refresh" content="0; url=/pl+2AA-ain">'),
    ("text/html; charset=utf-7",
     b'<script>location.href="/pl+2AA-ain";</script>'),
]


@pytest.mark.parametrize(("ctype", "head"), _ODD_CHARSETS)
async def test_a_page_naming_a_codec_no_browser_has_is_read_as_utf8(
        site: ScamSite, tmp_path: Path, ctype: str, head: bytes) -> None:
    body = (b"<!doctype html><html><head>" + head + b"</head><body><form>"
            b'<input name="user" placeholder="CCCD +2AA-"><input type="password" name="pw">'
            b'</form><p>T+2AA-i VNeID</p><a href="/app+2AA-.apk">T+2AA-i</a></body></html>')
    site.routes["/odd-charset"] = lambda h, q: h.send(200, ctype, body)
    async with api(tmp_path) as c:
        r = await c.post("/v1/url-scans", json={"url": site.url("/odd-charset"),
                                                "offline": False})
    assert r.status_code == 200, r.text[:300]
    assert "URL-NET-000" in {f["rule_id"] for f in r.json()["findings"]}, r.json()
    assert "\\ud800" not in r.text
