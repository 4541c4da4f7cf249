"""Domain age against real loopback RDAP, WHOIS and Redis servers; no internet.

The bootstrap file written for each test sends ``.com``, ``.xyz``, ``.net``
and even ``.vn`` to the loopback RDAP server, and WHOIS goes to the loopback
WHOIS server through the scanner's ``whois_server`` override, so that a
request that should not happen is seen by a server, and counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from scanners.domain_age import (
    AGE_RULES,
    VN_REASON,
    DomainAgeScanner,
    VnWhoisProvider,
    creation_date,
    load_bootstrap,
    parse_iso_datetime,
)
from scanners.errors import DataError, ScanIncomplete
from scanners.findings import Finding, Verdict, aggregate
from scanners.normalize import normalize
from scanners.store import MemoryStore, RedisStore, Store
from scanners.url_offline import OfflineURLScanner
from tests.live_servers_age import (
    RdapAnswer,
    RdapServer,
    RedisServer,
    WhoisAnswer,
    WhoisServer,
    free_port,
    rdap_domain,
    whois_text,
    write_bootstrap,
)

NOW = datetime(2026, 7, 25, 12, 0, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def rdap() -> Iterator[RdapServer]:
    with RdapServer() as srv:
        yield srv


@pytest.fixture
def whois_srv() -> Iterator[WhoisServer]:
    with WhoisServer() as srv:
        yield srv


@pytest.fixture
def bootstrap(tmp_path: Path, rdap: RdapServer) -> Path:
    # ".xyz" without the trailing slash: the scanner must add it.
    return write_bootstrap(tmp_path / "rdap_dns.json", [
        (["com", "net"], [rdap.base_url]),
        (["xyz"], [rdap.base_url.rstrip("/")]),
        (["vn"], [rdap.base_url]),
    ])


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make(
    bootstrap: Path,
    whois_srv: WhoisServer | None = None,
    store: Store | None = None,
    **kw: Any,
) -> DomainAgeScanner:
    kw.setdefault("now", lambda: NOW)
    kw.setdefault("rdap_timeout", 2.0)
    kw.setdefault("whois_timeout", 2.0)
    if whois_srv is not None:
        kw.setdefault("whois_server", whois_srv.address)
    else:
        # Never python-whois's real lookup in these tests: it would go online.
        kw.setdefault("whois_lookup", _no_whois)
    return DomainAgeScanner(store if store is not None else MemoryStore(),
                            bootstrap_path=bootstrap, **kw)


def _no_whois(domain: str, timeout: float) -> dict[str, Any]:
    raise RuntimeError("WHOIS disabled in this test")


def run(scanner: DomainAgeScanner, coro: Callable[[DomainAgeScanner], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        try:
            return await coro(scanner)
        finally:
            await scanner.aclose()

    return asyncio.run(main())


def scan_one(scanner: DomainAgeScanner, url: str) -> list[Finding]:
    result: list[Finding] = run(scanner, lambda s: s.scan(normalize(url)))
    return result


def incomplete(scanner: DomainAgeScanner, url: str) -> ScanIncomplete:
    async def go(s: DomainAgeScanner) -> ScanIncomplete:
        with pytest.raises(ScanIncomplete) as ei:
            await s.scan(normalize(url))
        return ei.value

    result: ScanIncomplete = run(scanner, go)
    assert result.check == "domain_age"
    assert result.findings == ()
    return result


# --- ages and rules -----------------------------------------------------------


@pytest.mark.parametrize(("days", "rule"), [
    (2, "URL-AGE-001"), (20, "URL-AGE-002"), (100, "URL-AGE-003"), (400, None),
])
def test_rdap_age_gives_the_tightest_rule(
    rdap: RdapServer, bootstrap: Path, days: int, rule: str | None
) -> None:
    name = f"age{days}.com"
    registered = NOW - timedelta(days=days, hours=3)
    rdap.answers[name] = rdap_domain(name, registered.strftime("%Y-%m-%dT%H:%M:%SZ"))
    findings = scan_one(make(bootstrap), f"https://www.{name}/login")
    if rule is None:
        assert findings == []
    else:
        assert [f.rule_id for f in findings] == [rule]
        assert findings[0].evidence == {
            "domain": name,
            "registered": registered.date().isoformat(),
            "age_days": days,
            "source": "rdap",
            "server": "127.0.0.1",
        }
    assert rdap.hits[name] == 1


@pytest.mark.parametrize(("age", "rule"), [
    (timedelta(0), "URL-AGE-001"),
    (timedelta(days=7) - timedelta(seconds=1), "URL-AGE-001"),
    (timedelta(days=7), "URL-AGE-002"),
    (timedelta(days=30) - timedelta(seconds=1), "URL-AGE-002"),
    (timedelta(days=30), "URL-AGE-003"),
    (timedelta(days=180) - timedelta(seconds=1), "URL-AGE-003"),
    (timedelta(days=180), None),
    (-timedelta(hours=5), "URL-AGE-001"),  # registry clock a little ahead
])
def test_age_boundaries(
    rdap: RdapServer, bootstrap: Path, age: timedelta, rule: str | None
) -> None:
    rdap.answers["edge.com"] = rdap_domain("edge.com", NOW - age)
    findings = scan_one(make(bootstrap), "edge.com")
    assert [f.rule_id for f in findings] == ([rule] if rule else [])


def test_age_rules_are_the_catalogue_boundaries() -> None:
    assert [(b.days, r) for b, r in AGE_RULES] == [
        (7, "URL-AGE-001"), (30, "URL-AGE-002"), (180, "URL-AGE-003")]


def test_registration_date_far_in_the_future_is_not_counted(
    rdap: RdapServer, bootstrap: Path
) -> None:
    rdap.answers["future.com"] = rdap_domain("future.com", NOW + timedelta(days=30))
    err = incomplete(make(bootstrap), "future.com")
    assert "future" in err.reason


@pytest.mark.parametrize("stamp", [
    "2026-07-23T11:00:00Z",
    "2026-07-23T11:00:00.123Z",
    "2026-07-23T11:00:00.123456789Z",
    "2026-07-23T18:00:00+07:00",
    "2026-07-23t11:00:00z",
    "2026-07-23T11:00:00",
])
def test_rdap_date_formats(rdap: RdapServer, bootstrap: Path, stamp: str) -> None:
    rdap.answers["fmt.com"] = rdap_domain("fmt.com", stamp)
    (f,) = scan_one(make(bootstrap), "fmt.com")
    assert f.rule_id == "URL-AGE-001"
    assert f.evidence["registered"] == "2026-07-23"
    assert f.evidence["age_days"] == 2


def test_young_domain_with_impersonation_is_dangerous(
    rdap: RdapServer, bootstrap: Path
) -> None:
    # A bank name with a neutral word: suspicious offline (vietcombank-hotro.com,
    # bank + service word, is already dangerous without the domain's age).
    url = "https://vietcombank-portal.com/"
    offline = asyncio.run(OfflineURLScanner().scan(normalize(url)))
    assert "URL-BANK-001" in {f.rule_id for f in offline}
    assert aggregate(offline).verdict is not Verdict.DANGEROUS
    rdap.answers["vietcombank-portal.com"] = rdap_domain(
        "vietcombank-portal.com", NOW - timedelta(days=3))
    age = scan_one(make(bootstrap), url)
    assert [f.rule_id for f in age] == ["URL-AGE-001"]
    assert aggregate([*offline, *age]).verdict is Verdict.DANGEROUS


# --- bootstrap --------------------------------------------------------------------


def test_bootstrap_longest_suffix_and_trailing_slash(tmp_path: Path) -> None:
    path = write_bootstrap(tmp_path / "b.json", [
        (["uk"], ["http://127.0.0.1:9/uk/"]),
        (["co.uk"], ["http://127.0.0.1:9/co-uk", "https://127.0.0.1:9/co-uk-tls/"]),
    ])
    s = make(path)
    assert s.rdap_base("shop.co.uk") == "https://127.0.0.1:9/co-uk-tls/"
    assert s.rdap_base("gov.uk") == "http://127.0.0.1:9/uk/"
    assert s.rdap_base("example.fr") is None
    asyncio.run(s.aclose())


def test_bundled_bootstrap_is_used_by_default() -> None:
    s = DomainAgeScanner(MemoryStore(), whois_lookup=_no_whois)
    base = s.rdap_base("example.com")
    assert base is not None and base.startswith("https://") and base.endswith("/")
    asyncio.run(s.aclose())


def test_bad_bootstrap_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"services": 3}')
    with pytest.raises(DataError):
        load_bootstrap(bad)
    with pytest.raises(DataError):
        load_bootstrap(tmp_path / "missing.json")


def test_unbootstrapped_tld_goes_straight_to_whois(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    whois_srv.answers["old.org"] = WhoisAnswer(whois_text("old.org", "2026-07-20T08:00:00Z"))
    (f,) = scan_one(make(bootstrap, whois_srv), "old.org")
    assert f.rule_id == "URL-AGE-001"
    assert f.evidence["source"] == "whois"
    assert f.evidence["server"] == f"127.0.0.1:{whois_srv.port}"
    assert rdap.total() == 0


# --- failures and the WHOIS fallback -----------------------------------------------


def test_rdap_500_falls_back_to_whois(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    rdap.answers["flaky.com"] = RdapAnswer(500, b"oops")
    whois_srv.answers["flaky.com"] = WhoisAnswer(
        whois_text("flaky.com", "2026-07-01T00:00:00Z"))
    (f,) = scan_one(make(bootstrap, whois_srv), "flaky.com")
    assert f.rule_id == "URL-AGE-002"
    assert f.evidence["source"] == "whois"
    assert f.evidence["registered"] == "2026-07-01"
    assert rdap.hits["flaky.com"] == 1
    assert whois_srv.hits["flaky.com"] == 1


@pytest.mark.parametrize("answer", [
    RdapAnswer(429, b""),
    RdapAnswer(503, b""),
    RdapAnswer(200, b"{not json"),
    rdap_domain("x.com", None),  # no registration event
])
def test_other_rdap_failures_fall_back_to_whois(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path, answer: RdapAnswer
) -> None:
    rdap.answers["fb.com"] = answer
    whois_srv.answers["fb.com"] = WhoisAnswer(whois_text("fb.com", "2020-01-01T00:00:00Z"))
    assert scan_one(make(bootstrap, whois_srv), "fb.com") == []
    assert whois_srv.hits["fb.com"] == 1


def test_both_failing_is_incomplete_with_both_reasons(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    rdap.answers["nowhere.com"] = RdapAnswer(503, b"")
    err = incomplete(make(bootstrap, whois_srv), "nowhere.com")
    assert "HTTP 503" in err.reason
    assert "WhoisDomainNotFoundError" in err.reason
    assert whois_srv.hits["nowhere.com"] == 1


def test_whois_without_creation_date_is_incomplete(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    rdap.answers["nodate.com"] = RdapAnswer(500, b"")
    whois_srv.answers["nodate.com"] = WhoisAnswer("Domain Name: NODATE.COM\r\n")
    err = incomplete(make(bootstrap, whois_srv), "nodate.com")
    assert "no usable creation date" in err.reason


def test_rdap_404_is_incomplete_without_whois(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    err = incomplete(make(bootstrap, whois_srv), "unregistered.com")
    assert "no record of unregistered.com" in err.reason
    assert rdap.hits["unregistered.com"] == 1
    assert whois_srv.total() == 0


def test_rdap_unreachable_falls_back(whois_srv: WhoisServer, tmp_path: Path) -> None:
    dead = write_bootstrap(tmp_path / "dead.json", [
        (["com"], [f"http://127.0.0.1:{free_port()}/"])])
    whois_srv.answers["down.com"] = WhoisAnswer(whois_text("down.com", "2026-07-20T00:00:00Z"))
    (f,) = scan_one(make(dead, whois_srv), "down.com")
    assert f.evidence["source"] == "whois"


def test_rdap_redirect_is_followed_but_limited(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    rdap.answers["moved.com"] = RdapAnswer(
        301, b"", headers={"Location": f"{rdap.base_url}domain/real.com"})
    rdap.answers["real.com"] = rdap_domain("real.com", NOW - timedelta(days=1))
    rdap.answers["loop.com"] = RdapAnswer(
        302, b"", headers={"Location": f"{rdap.base_url}domain/loop.com"})
    assert [f.rule_id for f in scan_one(make(bootstrap, whois_srv), "moved.com")] == [
        "URL-AGE-001"]
    err = incomplete(make(bootstrap, whois_srv), "loop.com")
    assert "TooManyRedirects" in err.reason
    assert rdap.hits["loop.com"] == 4  # the first request and three redirects


def test_slow_rdap_respects_its_timeout(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    rdap.answers["slow.com"] = RdapAnswer(200, b"{}", delay=3.0)
    t0 = time.monotonic()
    err = incomplete(make(bootstrap, whois_srv, rdap_timeout=0.4), "slow.com")
    assert time.monotonic() - t0 < 2.0
    assert "did not answer within 0.4 s" in err.reason
    assert whois_srv.hits["slow.com"] == 1


def test_rdap_timeout_applies_to_a_caller_supplied_client(
    rdap: RdapServer, bootstrap: Path
) -> None:
    rdap.answers["slow2.com"] = RdapAnswer(200, b"{}", delay=3.0)

    async def go() -> float:
        async with httpx.AsyncClient(timeout=30) as client:  # far too patient
            s = make(bootstrap, http=client, rdap_timeout=0.3)
            t0 = time.monotonic()
            with pytest.raises(ScanIncomplete):
                await s.scan(normalize("slow2.com"))
            await s.aclose()
            assert not client.is_closed  # not ours to close
            return time.monotonic() - t0

    assert asyncio.run(go()) < 2.0


def test_slow_whois_respects_its_timeout(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    rdap.answers["slowwhois.com"] = RdapAnswer(502, b"")
    whois_srv.answers["slowwhois.com"] = WhoisAnswer(
        whois_text("slowwhois.com", "2026-07-20T00:00:00Z"), delay=3.0)
    t0 = time.monotonic()
    err = incomplete(make(bootstrap, whois_srv, whois_timeout=0.4), "slowwhois.com")
    assert time.monotonic() - t0 < 2.0
    assert "did not answer within 0.4 s" in err.reason


# --- python-whois containment --------------------------------------------------------


def test_gaierror_at_the_thread_boundary_is_contained(
    rdap: RdapServer, bootstrap: Path
) -> None:
    calls: list[tuple[str, float]] = []

    def failing(domain: str, timeout: float) -> dict[str, Any]:
        calls.append((domain, timeout))
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    rdap.answers["gai.com"] = RdapAnswer(500, b"")
    err = incomplete(make(bootstrap, whois_lookup=failing, whois_timeout=1.5), "gai.com")
    assert calls == [("gai.com", 1.5)]
    assert "gaierror" in err.reason


def test_hanging_whois_lookup_is_bounded(rdap: RdapServer, bootstrap: Path) -> None:
    def hang(domain: str, timeout: float) -> dict[str, Any]:
        time.sleep(2.0)
        return {"creation_date": NOW}

    t0 = time.monotonic()
    err = incomplete(make(bootstrap, whois_lookup=hang, whois_timeout=0.3), "hang.org")
    assert time.monotonic() - t0 < 1.5
    assert "did not answer within 0.3 s" in err.reason


def _can_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_real_python_whois_gaierror_is_contained_offline(tmp_path: Path) -> None:
    """python-whois's own IANA-referral path, in a network namespace with no network.

    ``unshare -n`` gives the child an empty network namespace (not even an up
    loopback), so resolving ``whois.iana.org`` fails at once with
    ``socket.gaierror`` and nothing leaves the machine. python-whois raises it
    from ``NICClient.findwhois_iana``, outside its own error handling.
    """
    # CI runs as root on Debian, where unshare is permitted: a missing
    # capability must fail loudly rather than skip silently.
    assert _can_unshare(), "unshare -n is not permitted here (needs root / util-linux)"
    empty = write_bootstrap(tmp_path / "empty.json", [])
    script = textwrap.dedent(f"""
        import asyncio, json, time
        from pathlib import Path
        from scanners.domain_age import DomainAgeScanner
        from scanners.errors import ScanIncomplete
        from scanners.normalize import normalize
        from scanners.store import MemoryStore

        async def main():
            s = DomainAgeScanner(MemoryStore(), bootstrap_path=Path({str(empty)!r}),
                                 whois_timeout=8)
            t0 = time.monotonic()
            try:
                out = await s.scan(normalize("example.xyz"))
                return {{"findings": len(out)}}
            except ScanIncomplete as e:
                return {{"reason": e.reason, "seconds": time.monotonic() - t0}}
            finally:
                await s.aclose()

        print(json.dumps(asyncio.run(main())))
    """)
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", script],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "gaierror" in result["reason"], result
    assert result["seconds"] < 5


# --- .vn --------------------------------------------------------------------------------


def test_vn_without_provider_is_incomplete_and_asks_nobody(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    rdap.answers["shopee-uudai.com.vn"] = rdap_domain("shopee-uudai.com.vn", NOW)
    for url in ("https://shopee-uudai.com.vn/", "http://abc.vn"):
        err = incomplete(make(bootstrap, whois_srv), url)
        assert err.reason == VN_REASON
    assert "no public RDAP or port-43 WHOIS" in VN_REASON
    assert rdap.total() == 0
    assert whois_srv.total() == 0


class StubVnProvider:
    """A test double standing in for a configured commercial .vn WHOIS API."""

    name = "vn-test-provider"

    def __init__(self, answer: datetime | Exception | None) -> None:
        self.answer = answer
        self.calls: list[str] = []

    async def registration_date(self, domain: str) -> datetime | None:
        self.calls.append(domain)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_vn_provider_is_used_and_cached(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    provider = StubVnProvider(NOW - timedelta(days=10))
    assert isinstance(provider, VnWhoisProvider)
    s = make(bootstrap, whois_srv, vn_provider=provider)

    async def go(s: DomainAgeScanner) -> list[list[Finding]]:
        return [await s.scan(normalize("a.dichvucong-vn.com.vn")),
                await s.scan(normalize("dichvucong-vn.com.vn/x"))]

    first, second = run(s, go)
    assert [f.rule_id for f in first] == ["URL-AGE-002"]
    assert first[0].evidence["source"] == "vn-test-provider"
    assert second == first
    assert provider.calls == ["dichvucong-vn.com.vn"]
    assert rdap.total() == 0 and whois_srv.total() == 0


@pytest.mark.parametrize(("answer", "words"), [
    (None, "has no registration date"),
    (RuntimeError("quota exceeded"), "quota exceeded"),
])
def test_vn_provider_without_date_is_incomplete(
    bootstrap: Path, answer: datetime | Exception | None, words: str
) -> None:
    err = incomplete(make(bootstrap, vn_provider=StubVnProvider(answer)), "abc.vn")
    assert words in err.reason


# --- targets without a domain --------------------------------------------------------------


def test_ip_host_has_no_age_and_no_incomplete(rdap: RdapServer, bootstrap: Path) -> None:
    assert scan_one(make(bootstrap), "http://203.0.113.7/login") == []
    assert scan_one(make(bootstrap), "http://[2001:db8::1]/") == []
    assert rdap.total() == 0


def test_host_without_public_suffix_is_incomplete(bootstrap: Path) -> None:
    err = incomplete(make(bootstrap), "http://intranet.notarealtld/")
    assert "public suffix" in err.reason


# --- caching -----------------------------------------------------------------------------------


def test_second_scan_is_served_from_the_cache(rdap: RdapServer, bootstrap: Path) -> None:
    rdap.answers["cached.com"] = rdap_domain("cached.com", NOW - timedelta(days=3))
    s = make(bootstrap)

    async def go(s: DomainAgeScanner) -> list[list[Finding]]:
        return [await s.scan(normalize(u)) for u in
                ("cached.com", "https://www.cached.com/a", "m.cached.com")]

    results = run(s, go)
    assert all([f.rule_id for f in r] == ["URL-AGE-001"] for r in results)
    assert rdap.hits["cached.com"] == 1


def test_concurrent_scans_share_one_lookup(rdap: RdapServer, bootstrap: Path) -> None:
    rdap.answers["burst.com"] = rdap_domain("burst.com", NOW - timedelta(days=3))
    rdap.answers["burst.com"].delay = 0.3

    async def go(s: DomainAgeScanner) -> list[list[Finding]]:
        return list(await asyncio.gather(*(s.scan(normalize("burst.com")) for _ in range(8))))

    results = run(make(bootstrap), go)
    assert len(results) == 8 and all(len(r) == 1 for r in results)
    assert rdap.hits["burst.com"] == 1


def test_the_cached_date_is_aged_at_each_scan(rdap: RdapServer, bootstrap: Path) -> None:
    rdap.answers["ages.com"] = rdap_domain("ages.com", NOW - timedelta(days=5))
    now = [NOW]
    s = make(bootstrap, now=lambda: now[0])

    async def go(s: DomainAgeScanner) -> list[str]:
        a = await s.scan(normalize("ages.com"))
        now[0] = NOW + timedelta(days=5)
        b = await s.scan(normalize("ages.com"))
        return [f.rule_id for f in a + b]

    assert run(s, go) == ["URL-AGE-001", "URL-AGE-002"]
    assert rdap.hits["ages.com"] == 1


def test_failures_are_cached_for_a_shorter_time(
    rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path
) -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    rdap.answers["good.com"] = rdap_domain("good.com", NOW - timedelta(days=3))
    rdap.answers["bad.com"] = RdapAnswer(503, b"")
    s = make(bootstrap, whois_srv, store=store, success_ttl=100, failure_ttl=10)

    async def scan(s: DomainAgeScanner, url: str) -> str:
        try:
            return ",".join(f.rule_id for f in await s.scan(normalize(url)))
        except ScanIncomplete:
            return "incomplete"

    async def go(s: DomainAgeScanner) -> list[tuple[int, int, int]]:
        seen = []
        for step in (0, 5, 6, 90):  # t = 0, 5, 11, 101
            clock.t += step
            assert await scan(s, "good.com") == "URL-AGE-001"
            assert await scan(s, "bad.com") == "incomplete"
            seen.append((rdap.hits["good.com"], rdap.hits["bad.com"],
                         whois_srv.hits["bad.com"]))
        return seen

    assert run(s, go) == [
        (1, 1, 1),  # t=0: both looked up
        (1, 1, 1),  # t=5: both cached
        (1, 2, 2),  # t=11: the failure expired, the success did not
        (2, 3, 3),  # t=101: both expired
    ]


def test_rdap_404_is_cached_as_a_failure(rdap: RdapServer, bootstrap: Path) -> None:
    clock = FakeClock()
    s = make(bootstrap, store=MemoryStore(clock=clock), success_ttl=1000, failure_ttl=60)

    async def go(s: DomainAgeScanner) -> None:
        with pytest.raises(ScanIncomplete):
            await s.scan(normalize("fresh.com"))
        # Registered right after the first look: seen once the failure expires.
        rdap.answers["fresh.com"] = rdap_domain("fresh.com", NOW - timedelta(hours=1))
        clock.t += 30
        with pytest.raises(ScanIncomplete):
            await s.scan(normalize("fresh.com"))
        assert rdap.hits["fresh.com"] == 1
        clock.t += 31
        assert [f.rule_id for f in await s.scan(normalize("fresh.com"))] == ["URL-AGE-001"]

    run(s, go)
    assert rdap.hits["fresh.com"] == 2


class BrokenStore:
    """A store whose backend is down: the scanner must still answer."""

    async def get(self, key: str) -> bytes | None:
        from scanners.errors import StoreError
        raise StoreError("down")

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        from scanners.errors import StoreError
        raise StoreError("down")

    async def close(self) -> None:
        pass


def test_a_failing_store_is_a_cache_miss(rdap: RdapServer, bootstrap: Path) -> None:
    rdap.answers["nocache.com"] = rdap_domain("nocache.com", NOW - timedelta(days=3))
    findings = scan_one(make(bootstrap, store=BrokenStore()), "nocache.com")
    assert [f.rule_id for f in findings] == ["URL-AGE-001"]


def test_corrupt_cache_entry_is_a_miss(rdap: RdapServer, bootstrap: Path) -> None:
    rdap.answers["corrupt.com"] = rdap_domain("corrupt.com", NOW - timedelta(days=3))
    store = MemoryStore()
    asyncio.run(store.set("domain_age:v1:corrupt.com", b"\xffnot json", 100))
    assert [f.rule_id for f in scan_one(make(bootstrap, store=store), "corrupt.com")] == [
        "URL-AGE-001"]
    assert rdap.hits["corrupt.com"] == 1


def test_redis_store_backs_the_scanner(
    redis_server: RedisServer, rdap: RdapServer, whois_srv: WhoisServer, bootstrap: Path,
    tmp_path: Path
) -> None:
    rdap.answers["shared.com"] = rdap_domain("shared.com", NOW - timedelta(days=40))
    rdap.answers["gone.com"] = RdapAnswer(500, b"")
    async def replica() -> tuple[list[str], bool]:
        store = RedisStore(redis_server.url, prefix="age-test:")
        s = make(bootstrap, whois_srv, store=store, success_ttl=3600, failure_ttl=60)
        try:
            rules = [f.rule_id for f in await s.scan(normalize("shared.com"))]
            try:
                await s.scan(normalize("gone.com"))
                failed = False
            except ScanIncomplete:
                failed = True
            return rules, failed
        finally:
            await s.aclose()
            await store.close()

    # Two replicas, one after the other, each with its own scanner and pool.
    assert asyncio.run(replica()) == (["URL-AGE-003"], True)
    assert asyncio.run(replica()) == (["URL-AGE-003"], True)
    assert rdap.hits["shared.com"] == 1
    assert rdap.hits["gone.com"] == 1
    raw = redis.Redis.from_url(redis_server.url)
    try:
        ok_ttl = raw.pttl("age-test:domain_age:v1:shared.com")
        fail_ttl = raw.pttl("age-test:domain_age:v1:gone.com")
        assert isinstance(ok_ttl, int) and isinstance(fail_ttl, int)
        assert 60_000 < ok_ttl <= 3_600_000
        assert 0 < fail_ttl <= 60_000
    finally:
        raw.close()


# --- parsing helpers -------------------------------------------------------------------------


def test_creation_date_shapes() -> None:
    naive = datetime(2026, 7, 1, 8, 0)
    assert creation_date(None) is None
    assert creation_date(naive) == naive.replace(tzinfo=UTC)
    assert creation_date([datetime(2026, 7, 2, tzinfo=UTC), naive]) == naive.replace(tzinfo=UTC)
    assert creation_date("2026-07-01T08:00:00Z") == naive.replace(tzinfo=UTC)
    assert creation_date("01-Jul-2026") == datetime(2026, 7, 1, tzinfo=UTC)
    assert creation_date("not a date at all") is None
    assert creation_date(["garbage", None]) is None


def test_parse_iso_datetime_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_iso_datetime("yesterday")
    with pytest.raises(ValueError):
        parse_iso_datetime("")
    assert parse_iso_datetime("2026-07-01") == datetime(2026, 7, 1, tzinfo=UTC)
