"""Composition root: build the scanners from :class:`~api.settings.Settings`.

The API's lifespan and the CLI both call :func:`build_live`, so that a link
gets the same live checks whichever edge it came through. Only this module
maps ``SCAMSCAN_*`` settings onto scanner constructor arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from api.settings import Settings
from api.storage.factory import open_cache_store
from scanners import domain_age, live
from scanners.base import Contained, Scanner
from scanners.domain_age import DomainAgeScanner
from scanners.fetch import USER_AGENT, GuardedFetcher, Resolver
from scanners.fetch_options import parse_networks, parse_ports
from scanners.live import ApkHandler, LiveFetchScanner
from scanners.normalize import ParsedURL
from scanners.store import Store
from scanners.url_offline import OfflineURLScanner


@dataclass
class LiveScanners:
    """The live checks (domain age, guarded fetch) and what they hold open."""

    store: Store
    age: DomainAgeScanner
    fetch: LiveFetchScanner
    scanners: list[Scanner[ParsedURL]] = field(default_factory=list)

    async def aclose(self) -> None:
        """Close HTTP clients, thread pools and the store."""
        await self.age.aclose()
        await self.store.close()


def build_fetcher(
    settings: Settings,
    *,
    resolver: Resolver | None = None,
    hop_timeout: float | None = None,
    max_body: int | None = None,
    user_agent: str | None = None,
    allow_networks: str | None = None,
) -> GuardedFetcher:
    """The guarded fetcher of ``settings``: allowed networks and ports, limits.

    The live link checks, the feed downloads (:mod:`api.services.lists`) and the
    webhook deliveries (:mod:`api.services.webhooks`, with ``allow_networks`` from
    ``SCAMSCAN_WEBHOOK_ALLOW_NETWORKS``) all use it, so that one address and port
    policy covers every outgoing request.
    """
    networks = settings.fetch_allow_networks if allow_networks is None else allow_networks
    return GuardedFetcher(
        parse_networks(networks),
        resolver=resolver,
        hop_timeout=settings.fetch_hop_timeout if hop_timeout is None else hop_timeout,
        max_body=settings.fetch_max_body if max_body is None else max_body,
        allowed_ports=parse_ports(settings.fetch_allowed_ports),
        user_agent=USER_AGENT if user_agent is None else user_agent,
    )


def build_live(
    settings: Settings,
    offline: OfflineURLScanner,
    *,
    resolver: Resolver | None = None,
    apk_handler: ApkHandler | None = None,
) -> LiveScanners:
    """The live scanners configured by ``settings``, sharing one store.

    ``resolver`` replaces the system resolver (the one stand-in the tests use:
    a loopback server cannot answer DNS without changing the system's resolver).
    """
    store = open_cache_store(settings)
    age = DomainAgeScanner(
        store,
        bootstrap_path=settings.rdap_bootstrap,
        rdap_timeout=settings.rdap_timeout,
        whois_timeout=settings.whois_timeout,
    )
    fetcher = build_fetcher(settings, resolver=resolver)
    fetch = LiveFetchScanner(
        fetcher,
        offline,
        max_hops=settings.fetch_max_hops,
        total_timeout=settings.fetch_total_timeout,
        max_body=settings.fetch_max_body,
        apk_handler=apk_handler,
    )
    # Contained: a bug that a hostile answer triggers is an incomplete check
    # (and a logged traceback), never an error of the whole report.
    return LiveScanners(store, age, fetch, [Contained(age, domain_age.CHECK),
                                            Contained(fetch, live.CHECK)])
