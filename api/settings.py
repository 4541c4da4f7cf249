"""Settings of the HTTP API and the CLI, read from ``SCAMSCAN_*`` environment variables.

**The data directory** (``SCAMSCAN_DATA_DIR``) is shared by ``scamscan serve``,
``scamscan worker`` and every other ``scamscan`` command, so that keys, analyst
lists and feeds made by one apply to all. Its default does not depend on the
current directory (:func:`default_data_dir`): ``/var/lib/scamscan`` for root
(a service), else the user's data directory (``$XDG_DATA_HOME/scamscan``,
``~/.local/share/scamscan`` on Linux, through ``platformdirs``). The old default
was ``./.scamscan-data``: when that folder exists in the current directory and
the new one does not, it is still used, with a warning
(:func:`legacy_data_dir_warning`), so that keys made there are not lost and a
server with keys does not fall back to keyless use.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scanners.fetch_options import parse_networks, parse_ports

LEGACY_DATA_DIR = Path(".scamscan-data")
"""The default data directory before issue 16, relative to the current directory."""
SERVICE_DATA_DIR = Path("/var/lib/scamscan")
"""The default data directory of a process running as root (a service)."""


def standard_data_dir() -> Path:
    """``/var/lib/scamscan`` for root, else the user's data directory for ``scamscan``."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and geteuid() == 0:
        return SERVICE_DATA_DIR
    import platformdirs  # here: importing the settings stays light

    return platformdirs.user_data_path("scamscan", appauthor=False)


def default_data_dir() -> Path:
    """The data directory when ``SCAMSCAN_DATA_DIR`` is not set: :func:`standard_data_dir`,
    unless only the old ``./.scamscan-data`` exists (then that, absolute)."""
    standard = standard_data_dir()
    if LEGACY_DATA_DIR.is_dir() and not standard.exists():
        return LEGACY_DATA_DIR.resolve()
    return standard


_warned_legacy = False


def legacy_data_dir_warning(data_dir: Path) -> str | None:
    """The warning to give (once per process) when ``data_dir`` is the old default."""
    global _warned_legacy
    if _warned_legacy or "SCAMSCAN_DATA_DIR" in os.environ:
        return None
    try:
        legacy = LEGACY_DATA_DIR.resolve()
    except OSError:
        return None
    if Path(data_dir) != legacy:
        return None
    _warned_legacy = True
    return (f"using the old data directory {legacy} (found in the current directory): "
            f"the default is now {standard_data_dir()}, the same whatever the current "
            f"directory. Move it there (mv {legacy} {standard_data_dir()}) or set "
            f"SCAMSCAN_DATA_DIR={legacy}")


class Settings(BaseSettings):
    """Everything the API can be configured with; each field is ``SCAMSCAN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SCAMSCAN_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    """Address ``scamscan serve`` binds to by default."""
    trusted_proxies: str = ""
    """Comma-separated IPs or CIDRs of the reverse proxies whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` ``scamscan serve`` believes; empty: none (the client address
    is the socket's)."""
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=65536, ge=1)
    """Largest accepted request body, counted as it streams in (413 above it)."""
    body_idle_timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds a request body may pause between two pieces (408 problem past it)."""
    body_timeout: float = Field(default=60.0, gt=0, le=3600)
    """Seconds a request body other than an APK upload may take in all (408 past it)."""
    upload_timeout: float = Field(default=900.0, gt=0, le=24 * 3600)
    """Seconds an APK upload's body may take in all (408 past it): 150 MiB in 15
    minutes is about 1.4 Mbit/s."""
    default_lang: Literal["vi", "en"] = "vi"
    """Language of titles and reasons when a request names none."""
    log_level: str = "INFO"
    event_loop: Literal["asyncio", "uvloop"] = "asyncio"
    """The event loop of ``scamscan serve``. ``asyncio`` (the default): a saturated
    server answers its connections in turn. ``uvloop`` costs a few percent less CPU a
    request, but under saturation it keeps some connections waiting two loop rounds
    for every answer, request after request: at concurrency 50, link scans had a p99
    of 49–51 ms on uvloop against 30–32 ms on asyncio, at the same throughput
    (docs/evaluation.md, "Service load")."""
    redis_url: str | None = None
    """Redis for the cache (domain ages); unset: the in-process store."""
    redis_timeout: float = Field(default=2.0, gt=0, le=60)
    """Seconds one Redis command (or connecting) may take; then the request gets a 503
    problem (see api/storage/redis.py). A time-out is not retried."""

    # --- operations (api/observability.py) ----------------------------------
    log_format: Literal["json", "text"] = "json"
    """``json``: one JSON object per log line, with the request id; ``text``: plain lines."""
    metrics_enabled: bool = True
    """Serve ``GET /metrics`` (Prometheus, no key needed); false: the route does not exist."""
    worker_heartbeat_max_age: float = Field(default=30.0, gt=0, le=3600)
    """With Redis, ``/readyz`` needs a worker heartbeat at most this many seconds old."""

    # --- live link analysis -------------------------------------------------
    rdap_bootstrap: Path | None = None
    """IANA-format RDAP bootstrap replacing the bundled one (tests, air-gapped sites)."""
    rdap_timeout: float = Field(default=5.0, gt=0, le=60)
    whois_timeout: float = Field(default=10.0, gt=0, le=120)
    fetch_allow_networks: str = ""
    """Comma-separated CIDRs the fetcher may reach although private (tests, labs)."""
    fetch_max_hops: int = Field(default=10, ge=1, le=20)
    fetch_max_body: int = Field(default=2_000_000, ge=1024, le=50_000_000)
    fetch_hop_timeout: float = Field(default=5.0, gt=0, le=60)
    fetch_total_timeout: float = Field(default=20.0, gt=0, le=300)
    fetch_allowed_ports: str = "80,443"
    """Comma-separated ports the fetcher connects to on public addresses (and feed
    downloads too); addresses in ``fetch_allow_networks`` may use any port."""

    # --- webhooks of APK scans (api/services/webhooks.py) ----------------------
    webhook_allow_networks: str = ""
    """Comma-separated CIDRs a webhook may be delivered to although private (tests,
    labs), as ``fetch_allow_networks`` for the live fetch; empty: none."""
    webhook_max_attempts: int = Field(default=5, ge=1, le=20)
    """Delivery attempts of one webhook before it is recorded ``failed``."""
    webhook_retry_delay: float = Field(default=10.0, gt=0, le=3600)
    """Seconds before the second attempt; doubled for each next one (10, 20, 40, 80 s)."""
    webhook_timeout: float = Field(default=10.0, gt=0, le=60)
    """Seconds one delivery attempt may take in all (resolution, connection, answer)."""
    webhook_poll_interval: float = Field(default=1.0, gt=0, le=60)
    """Seconds between two looks of the delivery loop for ended scans and due retries."""
    batch_max_urls: int = Field(default=500, ge=1, le=5000)
    """Links one ``POST /v1/url-scans/batch`` may carry (413 problem above it)."""
    batch_max_body_bytes: int = Field(default=2_097_152, ge=1024)
    """Largest request body of ``POST /v1/url-scans/batch`` (the other routes keep
    ``max_body_bytes``): 500 ordinary links fit in far less."""
    batch_live_concurrency: int = Field(default=4, ge=1, le=64)
    """Links of one live batch checked at the same time."""
    batch_live_timeout: float = Field(default=120.0, gt=0, le=3600)
    """Seconds the live checks of one batch may take in all; links whose live checks
    did not finish by then are judged offline and list ``live`` as incomplete."""
    message_live_max_links: int = Field(default=3, ge=0, le=20)
    """Links of one message check that get the live checks (the riskiest first);
    the others are judged offline and listed as incomplete."""

    @field_validator("fetch_allowed_ports")
    @classmethod
    def _ports(cls, v: str) -> str:
        parse_ports(v)
        return v

    # --- APK scans ------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir)
    """Uploaded samples (content-addressed by sha256), stored APK reports and, without
    Redis, keys, lists and history; shared by the server and every ``scamscan``
    command. Default: :func:`default_data_dir` (never the current directory)."""
    max_apk_bytes: int = Field(default=150 * 1024 * 1024, ge=1)
    """Largest accepted APK upload, counted while it streams in (413 above it)."""
    apk_workers: int = Field(default=2, ge=1, le=64)
    """Processes of the embedded scan pool."""
    apk_job_timeout: float = Field(default=180.0, gt=0, le=3600)
    """Wall time one APK scan may take once it runs; then it ends ``failed``."""
    apk_max_pending: int = Field(default=1000, ge=1)
    """Scans waiting for a worker; a new upload past it gets a 503 problem."""
    apk_max_records: int = Field(default=10_000, ge=10)
    """Scan records kept in memory (the oldest finished ones are forgotten first)."""

    # --- the Redis job queue (used when redis_url is set; see api/queue.py) -----
    queue_heartbeat_timeout: float = Field(default=15.0, ge=2, le=300)
    """Seconds without a heartbeat after which a worker is taken for dead and the
    jobs it had taken are given to another worker."""
    apk_max_retries: int = Field(default=3, ge=0, le=20)
    """Retries of a scan that raised (not of a refused file, nor of a time-out)."""
    apk_retry_backoff: float = Field(default=5.0, gt=0, le=3600)
    """Seconds before the first retry; doubled for each next one (at most 64 times it)."""
    apk_record_ttl: int = Field(default=30 * 86400, ge=60)
    """Seconds a scan record and a stored report are kept in Redis."""

    # --- retention (api/retention.py) ---------------------------------------------
    retention_days: float = Field(default=0, ge=0, le=36500)
    """Delete samples, APK reports and scan records older than this many days
    (swept hourly by the API); 0: keep everything."""

    @field_validator("fetch_allow_networks", "webhook_allow_networks")
    @classmethod
    def _cidrs(cls, v: str) -> str:
        # As strict as the fetcher that reads it (host bits zero): a value the fetcher
        # refuses must fail here, as a configuration error, not at the server's start.
        parse_networks(v)
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: str) -> str:
        parts = [p.strip() for p in v.split(",") if p.strip()]
        for part in parts:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"SCAMSCAN_TRUSTED_PROXIES: not an IP address or CIDR "
                                 f"network: {part!r}") from None
        return ",".join(parts)

    apk_blocklist: Path | None = None
    """Extra APK blocklist (JSON: sha256, packages, signers), added to the bundled one."""
    blocklists: Literal["on", "off"] = "on"
    """``off``: score without blocklists, for evaluations and analysts. Apps: no hash,
    package or signer blocklists (the official-app allowlist stays on), as ``scamscan
    apk --no-blocklists``. Links: no bundled, feed or analyst blocklists (rules, the
    model and the official-domain allowlists stay), as ``scamscan url --no-blocklists``."""

    @field_validator("rdap_bootstrap", "apk_blocklist")
    @classmethod
    def _bootstrap_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"file not found: {v}")
        return v

    # --- list management (api/services/lists.py) ---------------------------------
    lists_sync_interval: float = Field(default=2.0, gt=0, le=3600)
    """Seconds between two checks of the list store's version (changes made by
    another replica or process are applied within that time)."""
    lists_max_entries: int = Field(default=100_000, ge=1)
    """Analyst list entries at most (a new entry past it gets a 422 problem)."""
    feeds: str = ""
    """Feeds to configure at startup when the store has none of that name: a JSON
    list of ``{"name", "url", "format", "semantics", "enabled"}`` objects."""
    feed_timeout: float = Field(default=30.0, gt=0, le=600)
    """Seconds a feed download may take in all."""
    feed_max_bytes: int = Field(default=20_000_000, ge=1024, le=500_000_000)
    """Largest feed document, counted as it downloads."""
    feed_max_entries: int = Field(default=1_000_000, ge=1)
    """Entries (and lines) of one feed at most; a bigger feed is refused."""
    feeds_default: Literal["on", "off"] = "off"
    """``on``: configure the public Vietnamese feeds the bundled lists come from
    (hostsVN threat-VN, ChongLuaDao; :data:`api.services.feeds.DEFAULT_FEEDS`);
    ``off``: remove them again (feeds added otherwise stay)."""
    feeds_refresh_hours: float = Field(default=6.0, ge=0, le=24 * 365)
    """Hours between two background refreshes of each enabled feed (with jitter; one
    refresher per deployment); 0: only ``scamscan feeds refresh`` and
    ``POST /v1/lists/refresh`` fetch them."""

    @field_validator("feeds")
    @classmethod
    def _feeds(cls, v: str) -> str:
        if not v.strip():
            return ""
        import json

        try:
            doc = json.loads(v)
        except ValueError as e:
            raise ValueError(f"SCAMSCAN_FEEDS is not JSON: {e}") from None
        if not isinstance(doc, list) or not all(
                isinstance(d, dict) and {"name", "url", "format"} <= d.keys() for d in doc):
            raise ValueError("SCAMSCAN_FEEDS is a JSON list of objects with name, url, format")
        return v

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, v: str) -> str:
        level = v.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {v!r}")
        return level

    # --- API keys and rate limits ---------------------------------------------
    require_keys: bool = False
    """Refuse keyless requests even with no key made and bound to loopback."""
    rate_limit_client: str = "60/minute"
    """Requests per key with the ``client`` role (``limits`` notation, e.g. ``60/minute``)."""
    rate_limit_analyst: str = "600/minute"
    rate_limit_admin: str = "600/minute"
    rate_limit_keyless: str = "60/minute"
    """Keyless local requests, per client address."""
    rate_limit_auth_failures: str = "10/minute"
    """Failed authentications with one key (by a prefix of its hash) from one client
    address; past it that key from that address gets 429 without being looked up."""
    rate_limit_auth_failures_address: str = "100/minute"
    """Failed authentications from one client address, whatever the key; past it a
    wrong key from there gets 429 (a correct key still gets in)."""

    @field_validator("rate_limit_client", "rate_limit_analyst", "rate_limit_admin",
                     "rate_limit_keyless", "rate_limit_auth_failures",
                     "rate_limit_auth_failures_address")
    @classmethod
    def _rate_limit(cls, v: str) -> str:
        from limits import parse_many  # here: importing the settings stays light

        try:
            items = parse_many(v)
        except ValueError:
            items = []
        if not items or any(i.amount < 1 for i in items):
            raise ValueError(f"not a rate limit: {v!r} (e.g. '60/minute', "
                             "'10 per second', '60/minute;1000/hour')")
        return v.strip()

    # --- analyst web console (api/console) ------------------------------------
    session_idle: float = Field(default=8 * 3600.0, gt=0, le=30 * 86400)
    """Seconds a console session lives without a request (then: sign in again)."""
    session_max_age: float = Field(default=24 * 3600.0, gt=0, le=90 * 86400)
    """Seconds a console session lives at most after its sign-in, however active."""
    session_max_memory: int = Field(default=10_000, ge=1)
    """Console sessions kept in process memory (embedded, no Redis) at most; past it
    the least recently used one is signed out."""

    # --- scan history and exports (api/services/history.py) ------------------------
    history_max_records: int = Field(default=50_000, ge=100, le=10_000_000)
    """Scans the history keeps (SQLite, or Redis with ``redis_url``); the oldest are dropped."""
    history_report_max_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Largest link report (JSON) kept with its record; a bigger one is kept without
    its findings' evidence, or not at all."""
    history_sync_interval: float = Field(default=5.0, gt=0, le=3600)
    """Seconds between two reads of the job state of unfinished APK records (their
    verdicts are also read before every search)."""
    gc_freeze_interval: float = Field(default=1.0, ge=0, le=3600)
    """Seconds between two freezes of what survives a young garbage collection, so that
    full collections stay short under load (api.heap); 0: off."""
    message_retention_days: float = Field(default=30.0, gt=0, le=3650)
    """Days a message check is kept in the history (masked); older ones are deleted.
    Only message checks: link and APK scans are bounded by ``history_max_records``."""

    # --- feedback and sharing (api/services/feedback.py, api/services/shares.py) ----
    feedback_max_note_chars: int = Field(default=1000, ge=0, le=10_000)
    """Longest note of a feedback entry (a longer one is a 422 problem)."""
    feedback_max_pending: int = Field(default=1000, ge=1, le=1_000_000)
    """Pending feedback entries per key at most (a new one past it is a 429 problem;
    a report folded into a pending entry still counts)."""
    feedback_max_records: int = Field(default=50_000, ge=100, le=10_000_000)
    """Feedback entries kept in all; past it the oldest resolved ones are deleted
    (then, only if none is resolved, the oldest pending)."""
    share_default_ttl: int = Field(default=7 * 86400, ge=60)
    """Seconds a share link lives when ``expires_in`` is not given (7 days)."""
    share_max_ttl: int = Field(default=90 * 86400, ge=60, le=3650 * 86400)
    """Longest ``expires_in`` of a share link (90 days)."""
    share_max_per_scan: int = Field(default=20, ge=1, le=10_000)
    """Live share links per scan at most (a new one past it is a 429 problem)."""
    share_max_per_key: int = Field(default=10_000, ge=1, le=10_000_000)
    """Live share links per API key at most (keyless local use counts as one key); a
    new one past it is a 429 problem. Links live for weeks: this bounds the store."""
    share_rate_limit: str = "30/minute"
    """Views of public share pages (``/s/<token>``) per client address."""
    public_base_url: str = ""
    """The public origin share links are made with (``https://scamscan.example``);
    empty: the origin of the request that created the link."""

    @field_validator("share_rate_limit")
    @classmethod
    def _share_rate_limit(cls, v: str) -> str:
        return cls._rate_limit(v)

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if v and not v.startswith(("https://", "http://")):
            raise ValueError("SCAMSCAN_PUBLIC_BASE_URL is an http(s) origin, e.g. "
                             "https://scamscan.example")
        return v


class ClientSettings(BaseSettings):
    """What ``scamscan url|apk|message --server`` use when their options are not given."""

    model_config = SettingsConfigDict(env_prefix="SCAMSCAN_", extra="ignore", frozen=True)

    server: str | None = None
    """Base URL of a running scamscan API (``--server``), e.g. ``http://127.0.0.1:8000``."""
    key: SecretStr | None = None
    """The API key sent as ``X-API-Key`` (``--key``)."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
