"""The typed services object of one app, built once in the lifespan.

The routes read it through one dependency (:func:`api.deps.get_services`,
``app.state.services``); the console and tests reach the same object.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from api.auth import Authenticator, open_auth
from api.heap import HeapKeeper
from api.jobs import JobBackend, JobManager
from api.retention import Retention
from api.samples import SampleStore
from api.services.feeds import FeedRefresher
from api.services.history import ScanHistory, open_history
from api.services.lists import ListService, open_lists
from api.services.scans import apk_handoff
from api.services.webhooks import USER_AGENT as WEBHOOK_USER_AGENT
from api.services.webhooks import WebhookService
from api.settings import Settings, legacy_data_dir_warning
from api.storage.factory import open_storage, open_webhook_store
from api.storage.feedback import FeedbackStore
from api.storage.sessions import SessionStore
from api.storage.shares import ShareStore
from api.wiring import LiveScanners, build_fetcher, build_live
from blocklists import BlocklistIndex
from scanners.apk_facts import ApkLimits
from scanners.fetch import Resolver
from scanners.lists import apk_lists_path
from scanners.normalize import normalize
from scanners.url_offline import NoLists, OfflineURLScanner, default_scanner

log = logging.getLogger("scamscan.api")


@dataclass
class Services:
    """Everything the routes need, opened by :func:`open_services`."""

    settings: Settings
    auth: Authenticator
    lists: ListService
    feeds: FeedRefresher
    """Refreshes the feeds in the background (``SCAMSCAN_FEEDS_REFRESH_HOURS``)."""
    scanner: OfflineURLScanner
    bundled_lists: list[dict[str, Any]]
    """Name and size of each bundled blocklist (``/healthz``); empty when unreadable."""
    samples: SampleStore
    jobs: JobBackend
    history: ScanHistory
    live: LiveScanners
    sessions: SessionStore
    retention: Retention
    """Deletes what is older than ``SCAMSCAN_RETENTION_DAYS``, hourly (api.retention)."""
    feedback: FeedbackStore
    """Feedback on verdicts and its review queue (:mod:`api.services.feedback`)."""
    shares: ShareStore
    """Share links of reports (:mod:`api.services.shares`)."""
    webhooks: WebhookService
    """Callbacks of APK scans and their delivery loop (api.services.webhooks)."""
    heap: HeapKeeper
    """Keeps the collector's full collections short under load (api.heap)."""

    async def aclose(self) -> None:
        """Close everything, in the reverse order of opening. Never stops half-way."""
        await self.heap.aclose()  # never raises
        await self.webhooks.aclose()  # never raises nor waits for a receiver
        await self.retention.aclose()  # never raises
        await self.feeds.aclose()  # never raises
        await self.history.aclose()  # never raises; writes what is queued
        try:
            await self.jobs.aclose()
        finally:
            try:
                await self.live.aclose()
            finally:
                try:
                    await self.lists.aclose()
                finally:
                    try:
                        await self.auth.aclose()
                    finally:
                        for close in (self.sessions.aclose, self.feedback.close,
                                      self.shares.close):
                            with contextlib.suppress(Exception):
                                await close()


def bundled_lists() -> list[dict[str, Any]]:
    """Name and size of each bundled blocklist; empty when they cannot be read."""
    try:
        sources = BlocklistIndex.bundled().sources()
    except Exception as e:  # health must answer even when the lists are broken
        log.warning("bundled blocklists unavailable: %s", e)
        return []
    return [{"name": s.name, "entries": s.entries} for s in sources]


def url_scanner(lists: ListService, blocklists: bool = True) -> OfflineURLScanner:
    """The link scanner of the API: the bundled data, with the dynamic lists as its index
    (no blocklist at all with ``SCAMSCAN_BLOCKLISTS=off``; allowlists stay)."""
    default_scanner()  # warm the shared registry and bundled lists
    if not blocklists:
        return OfflineURLScanner(index=NoLists())
    return OfflineURLScanner(index=lists.dynamic)


def open_jobs(settings: Settings) -> tuple[SampleStore, JobBackend]:
    """The sample store and the job manager, their directories made: the Redis queue
    (:mod:`api.queue`, scans in ``scamscan worker``) when ``redis_url`` is set, else
    the embedded process pool."""
    samples = SampleStore(settings.data_dir / "samples", max_bytes=settings.max_apk_bytes)
    samples.open()
    if settings.redis_url:
        from api.queue import RedisJobManager  # imports dramatiq: only when used

        return samples, RedisJobManager(settings)
    jobs = JobManager(
        settings.data_dir / "reports",
        workers=settings.apk_workers,
        timeout=settings.apk_job_timeout,
        limits=ApkLimits(max_file_bytes=settings.max_apk_bytes),
        max_records=settings.apk_max_records,
        max_pending=settings.apk_max_pending,
        blocklist=settings.apk_blocklist,
        lists_file=apk_lists_path(settings.data_dir),
        use_blocklists=settings.blocklists == "on",
    )
    jobs.open()
    return samples, jobs


def _warm_up(scanner: OfflineURLScanner) -> None:
    scanner.check(normalize("https://warm-up.example.com.vn/dang-nhap"))
    if scanner.model is not None:
        scanner.model.warm()


async def open_services(settings: Settings, *, resolver: Resolver | None = None) -> Services:
    """Open every store and service of ``settings`` (the app's lifespan).

    ``resolver`` replaces the system DNS resolver of the live fetch (tests).
    """
    warning = legacy_data_dir_warning(settings.data_dir)
    if warning:
        log.warning("%s", warning)
    storage = open_storage(settings)
    # API keys and rate limits (warns when keyless local requests are accepted).
    auth = await open_auth(settings, storage.keys)
    # Loading the bundled lists takes about half a second: off the event loop.
    bundled = await anyio.to_thread.run_sync(BlocklistIndex.bundled)
    # Analyst entries and feeds over the bundled lists (api.services.lists).
    lists = await open_lists(settings, storage.lists, bundled, resolver=resolver)
    # Fresh feeds in the background, never on the request path (api.services.feeds).
    feeds = FeedRefresher(lists)
    feeds.start()
    scanner = await anyio.to_thread.run_sync(url_scanner, lists, settings.blocklists == "on")
    # One scan now builds what the first scans would build on the event loop (the public
    # suffix trie, about half a second): no first request waits for it.
    await anyio.to_thread.run_sync(_warm_up, scanner)
    sources = await anyio.to_thread.run_sync(bundled_lists)
    samples, jobs = await anyio.to_thread.run_sync(open_jobs, settings)
    # The scan history (api.services.history): SQLite in the data dir, or Redis.
    history = open_history(settings, storage.history, jobs)
    history.start()
    retention = Retention(settings, history)
    retention.start()
    live = build_live(settings, scanner, resolver=resolver,
                      apk_handler=apk_handoff(samples, jobs, history))
    webhooks = open_webhooks(settings, jobs, resolver=resolver)
    webhooks.start()
    # Freezes the heap built so far, then what the requests leave behind (api.heap).
    heap = HeapKeeper(settings.gc_freeze_interval)
    heap.start()
    return Services(settings=settings, auth=auth, lists=lists, feeds=feeds, scanner=scanner,
                    bundled_lists=sources, samples=samples, jobs=jobs, history=history,
                    live=live, sessions=storage.sessions, retention=retention,
                    feedback=storage.feedback, shares=storage.shares,
                    webhooks=webhooks, heap=heap)


def open_webhooks(settings: Settings, jobs: JobBackend, *,
                  resolver: Resolver | None = None) -> WebhookService:
    """The webhook service: its store (SQLite or Redis, as the other stores) and a guarded
    fetcher with the live fetch's address and port policy, but the webhook allowance
    (``SCAMSCAN_WEBHOOK_ALLOW_NETWORKS``), time limit and no body read."""
    store = open_webhook_store(settings.data_dir, settings.redis_url,
                               ttl=settings.apk_record_ttl, redis_timeout=settings.redis_timeout)
    fetcher = build_fetcher(settings, resolver=resolver, hop_timeout=settings.webhook_timeout,
                            max_body=1024, user_agent=WEBHOOK_USER_AGENT,
                            allow_networks=settings.webhook_allow_networks)
    return WebhookService(settings, store, jobs, fetcher)
