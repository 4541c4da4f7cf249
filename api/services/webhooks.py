"""Webhooks of APK scans: a ``callback_url`` gets the scan's end, signed, with retries.

An upload to ``POST /v1/apk-scans`` may give a ``callback_url``
(:func:`check_callback_url`). :meth:`WebhookService.register` then records a
*delivery* (:mod:`api.storage.webhooks`) before the upload is answered. When
the scan ends, ``done`` or ``failed``, its view (the body
``GET /v1/scans/{id}`` answers, without the ``callback`` part) is POSTed to
the URL as JSON with these headers:

* ``X-Scamscan-Event``: ``apk_scan.done`` or ``apk_scan.failed``;
* ``X-Scamscan-Delivery``: the delivery's id, the same on every attempt, so a
  receiver can drop a repeat;
* ``X-Scamscan-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of
  "<t>.<body>">`` (Stripe's scheme, :func:`sign`, :func:`verify`), keyed with
  the signing secret of the API key that uploaded (shown once, when the key
  was made), or the server-wide secret for keyless local use.

**Design: one delivery loop per API process, over the stored deliveries.**
The scan may end in this process (the embedded pool), in another replica or
in a ``scamscan worker`` (Redis mode), and any process may stop at any time.
So nothing is pushed at the moment a job ends; instead every API process runs
:meth:`WebhookService.run` which, every ``SCAMSCAN_WEBHOOK_POLL_INTERVAL``
seconds, *claims* the due pending deliveries (the store pushes their due time
past one interval in the same step, so no two processes take the same one),
asks the job backend whether each scan ended and, when it did, extends that
lease to the attempt's time limit and delivers it; a scan still running is
simply due again one interval later, with nothing written. The job backend is the same one
``GET /v1/scans/{id}`` reads, so a scan that ended anywhere is seen, and the
delivery exists before the upload is answered, so every ended job with a
callback gets its delivery even across restarts: a process stopped
mid-delivery (the attempt is cancelled, shutdown never waits for it) leaves it
due again once its lease passed. That is at-least-once delivery; the delivery
id lets a receiver dedupe.

**The SSRF guard.** Deliveries go through :class:`scanners.fetch.GuardedFetcher`
(built by :func:`api.wiring.build_fetcher`), exactly as the live link checks:
the host is resolved once and every address checked (loopback, private,
link-local, CGNAT, metadata… are refused), the connection is pinned to the
checked address, only ``SCAMSCAN_FETCH_ALLOWED_PORTS`` are connected to,
no redirect is followed (a 3xx is a failed attempt), the attempt is bounded
by ``SCAMSCAN_WEBHOOK_TIMEOUT`` and the answer's body is not read.
``SCAMSCAN_WEBHOOK_ALLOW_NETWORKS`` exempts networks (tests, labs), as
``SCAMSCAN_FETCH_ALLOW_NETWORKS`` does for the live fetch. A refused address
or port ends the delivery ``failed`` at once (nothing was connected; trying
again would be refused again).

**Retries.** An answer other than 2xx, a time-out or a connection error is a
failed attempt; the next comes ``SCAMSCAN_WEBHOOK_RETRY_DELAY`` seconds later,
doubled each time (10, 20, 40, 80 s by default), up to
``SCAMSCAN_WEBHOOK_MAX_ATTEMPTS`` (5); then the delivery is ``failed``. Every
attempt is recorded and shown on the job (:meth:`WebhookService.view`); the
job's own status never depends on its webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio.to_thread
import orjson

from api.jobs import Job, JobBackend
from api.problems import ProblemException
from api.services.scans import job_view
from api.settings import Settings
from api.storage.errors import StorageUnavailable
from api.storage.webhooks import Delivery, WebhookStore, new_secret, server_secret
from scanners.errors import InvalidURLError
from scanners.fetch import GuardedFetcher, HopResult
from scanners.normalize import normalize

log = logging.getLogger("scamscan.webhooks")

MAX_URL_CHARS = 2048
"""Longest accepted ``callback_url``."""
EVENT_HEADER = "X-Scamscan-Event"
DELIVERY_HEADER = "X-Scamscan-Delivery"
SIGNATURE_HEADER = "X-Scamscan-Signature"
EVENTS = {"done": "apk_scan.done", "failed": "apk_scan.failed"}
USER_AGENT = "scamscan-webhook/1 (+signed APK scan results)"
SIGNATURE_TOLERANCE = 300
"""Seconds a receiver should accept a signature's timestamp (:func:`verify`)."""
MAX_CONCURRENT = 16
"""Deliveries (and job look-ups) one process runs at once."""
STOP_TIMEOUT = 5.0
"""Seconds :meth:`WebhookService.aclose` waits for its cancelled tasks at most."""
LEASE_GRACE = 30.0
"""Seconds past an attempt's time limit before a claimed delivery is due again."""

_BAD_CHARS = re.compile(r"[\x00-\x20\x7f]")


class CallbackURLError(ValueError):
    """A ``callback_url`` that cannot be used; ``reason`` is for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoSigningSecret(Exception):
    """The uploading API key has no webhook signing secret (made before webhooks)."""


def check_callback_url(text: str) -> str:
    """``text`` as a callback URL: http or https, a host, no credentials, at most
    :data:`MAX_URL_CHARS` characters, no spaces or control characters. The fragment
    is dropped (it is never sent). Raises :class:`CallbackURLError`."""
    if len(text) > MAX_URL_CHARS:
        raise CallbackURLError(f"the callback_url is longer than {MAX_URL_CHARS} characters")
    if _BAD_CHARS.search(text):
        raise CallbackURLError("the callback_url contains spaces or control characters")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        raise CallbackURLError(f"the callback_url is not a valid URL ({e})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise CallbackURLError("the callback_url must be an http or https URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise CallbackURLError("the callback_url must not contain credentials (user:password@);"
                               " deliveries are authenticated by their signature")
    if not parts.hostname:
        raise CallbackURLError("the callback_url has no host")
    url = parts._replace(fragment="").geturl()
    try:
        parsed = normalize(url)
    except InvalidURLError as e:
        raise CallbackURLError(f"the callback_url is not usable: {e.reason}") from None
    if parsed.deobfuscated:
        raise CallbackURLError("the callback_url must be a plain URL (not defanged)")
    return url


def redact(url: str) -> str:
    """``url`` as the job view shows it: the query's values (often tokens) hidden."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    query = "&".join(f"{name}=***" for name in names) or "***"
    return parts._replace(query=query).geturl()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Scamscan-Signature`` value: ``t=<timestamp>,v1=<hex HMAC-SHA256 of
    "<timestamp>.<body>" keyed with secret>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance: float = SIGNATURE_TOLERANCE,
           now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, within ``tolerance`` seconds
    of ``now`` (what a receiver does; docs/webhooks.md has the same in a few lines)."""
    fields = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def _at() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _outcome(hop: HopResult) -> tuple[dict[str, Any], bool]:
    """The attempt to record for ``hop``, and whether trying again could help."""
    at = _at()
    if hop.refused is not None:
        return {"at": at, "error": f"not delivered: the callback host resolves to a "
                f"{hop.refused.cls} address, which deliveries never reach (SSRF guard)"}, False
    if hop.blocked_port is not None:
        return {"at": at, "error": f"not delivered: port {hop.blocked_port} is not an allowed "
                "port (SCAMSCAN_FETCH_ALLOWED_PORTS)"}, False
    if hop.status is not None:
        return {"at": at, "status": hop.status}, True
    if hop.tls_error is not None:
        return {"at": at, "error": f"TLS certificate not valid: {hop.tls_error}"}, True
    return {"at": at, "error": hop.error or "no answer"}, True


class WebhookService:
    """Registers callbacks, shows their state, and delivers them (see the module doc)."""

    def __init__(self, settings: Settings, store: WebhookStore, jobs: JobBackend,
                 fetcher: GuardedFetcher) -> None:
        self.settings = settings
        self.store = store
        self.jobs = jobs
        self.fetcher = fetcher
        self.data_dir = Path(settings.data_dir)
        self.poll = settings.webhook_poll_interval
        self.lease = settings.webhook_timeout + LEASE_GRACE
        self._server_secret: str | None = None
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        """Deliveries this process completed (a 2xx answer)."""

    # --- secrets --------------------------------------------------------------------

    async def server_secret(self) -> str:
        """The server-wide signing secret of keyless use (made on first use)."""
        if self._server_secret is None:
            self._server_secret = await anyio.to_thread.run_sync(server_secret, self.data_dir)
        return self._server_secret

    async def create_key_secret(self, key_id: str) -> str:
        """A new signing secret for the API key ``key_id``: kept, and returned this once."""
        secret = new_secret()
        await self.store.set_key_secret(key_id, secret)
        return secret

    async def _secret(self, owner: str | None) -> str | None:
        if owner is None:
            return await self.server_secret()
        return await self.store.key_secret(owner)

    # --- the API side ---------------------------------------------------------------

    async def check_signer(self, owner: str | None) -> None:
        """Raise :class:`NoSigningSecret` when ``owner``'s deliveries could not be signed."""
        if await self._secret(owner) is None:
            raise NoSigningSecret(owner)

    async def register(self, scan_id: str, url: str, owner: str | None, lang: str) -> None:
        """Record the delivery of ``scan_id``'s end to ``url`` (checked by
        :func:`check_callback_url`); due at once (the scan may have ended already)."""
        await self.store.add(Delivery(scan_id, url, owner, lang), time.time())

    async def view(self, scan_id: str) -> dict[str, Any] | None:
        """The ``callback`` part of the job view, or None when the upload gave none."""
        d = await self.store.get(scan_id)
        if d is None:
            return None
        return {"url": redact(d.url), "state": d.state, "attempts": d.attempts}

    async def attach(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` (a job view) with its ``callback`` part when it has one. A store that
        fails only leaves the part out: the scan itself is still answered."""
        try:
            callback = await self.view(body["scan_id"])
        except StorageUnavailable as e:
            log.warning("webhook state of %s unavailable: %s", body["scan_id"], e)
            return body
        if callback is not None:
            body["callback"] = callback
        return body

    # --- the delivery loop ----------------------------------------------------------

    def start(self) -> None:
        """Run the delivery loop on the running event loop (until :meth:`aclose`)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self.run())

    async def aclose(self) -> None:
        """Stop the loop and cancel the attempts in flight (never waits for a receiver):
        their deliveries are due again once their lease passed, in the next process."""
        self._stopping = True
        tasks = [t for t in (self._loop, *self._tasks) if t is not None]
        for t in tasks:
            t.cancel()
        if tasks:
            # Bounded: a client library that turned the cancellation into an error of
            # its own must not hold the shutdown (the loop also checks _stopping).
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
        self._loop = None
        with contextlib.suppress(Exception):
            await self.store.close()

    async def run(self) -> None:
        """Claim and handle due deliveries every ``poll`` seconds, until :meth:`aclose`."""
        while not self._stopping:
            try:
                await self.tick()
            except StorageUnavailable as e:
                if self._stopping:  # a cancelled Redis call can surface as its error
                    return
                log.warning("webhook deliveries paused: %s", e)
            except Exception as e:  # a bug must not stop every later delivery
                log.error("webhook delivery loop failed", exc_info=e)
            if not self._stopping:
                await asyncio.sleep(self.poll)

    async def tick(self) -> None:
        """Claim what is due (as many as there is room for) and handle each in a task."""
        while (room := MAX_CONCURRENT - len(self._tasks)) > 0:
            # Claimed for one interval only: a scan still running then needs no write
            # (its delivery is simply due again); one that ended gets the full lease
            # before its attempt (_handle).
            claimed = await self.store.claim(time.time(), self.poll, room)
            for d in claimed:
                task = asyncio.get_running_loop().create_task(self._handle(d))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(claimed) < room:
                return

    async def _handle(self, d: Delivery) -> None:
        try:
            job = await self.jobs.lookup(d.scan_id)
            if job is None:
                d.state = "failed"
                d.attempts.append({"at": _at(), "error": "not delivered: the scan is no "
                                   "longer known"})
                await self.store.update(d, None)
            elif job.finished_ok:
                await self.store.update(d, time.time() + self.lease)
                await self._deliver(d, job)
        except StorageUnavailable as e:
            # Left claimed: due again once the lease passed.
            log.warning("webhook of %s postponed: %s", d.scan_id, e)
        except Exception as e:  # a bug: logged, and the delivery is due after its lease
            log.error("webhook of %s failed", d.scan_id, exc_info=e)

    async def _deliver(self, d: Delivery, job: Job) -> None:
        secret = await self._secret(d.owner)
        if secret is None:
            d.state = "failed"
            d.attempts.append({"at": _at(), "error": "not delivered: the API key has no "
                               "webhook signing secret"})
            await self.store.update(d, None)
            return
        try:
            view = await job_view(job, self.jobs, d.lang)
        except ProblemException as e:  # the stored report is unreadable
            view = {"scan_id": d.scan_id, "status": "failed", "reason": e.detail}
        body = orjson.dumps(view, option=orjson.OPT_UTC_Z)
        headers = {
            "Content-Type": "application/json",
            "Accept": "*/*",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: EVENTS.get(job.status, "apk_scan.failed"),
            DELIVERY_HEADER: d.delivery_id,
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        }
        hop = await self.fetcher.fetch(normalize(d.url), method="POST", content=body,
                                       headers=headers, read_body=False)
        attempt, retry = _outcome(hop)
        d.attempts.append(attempt)
        next_at: float | None = None
        if hop.status is not None and 200 <= hop.status < 300:
            d.state = "delivered"
            self.delivered += 1
        elif retry and len(d.attempts) < self.settings.webhook_max_attempts:
            delay = self.settings.webhook_retry_delay * 2 ** (len(d.attempts) - 1)
            next_at = time.time() + delay
        else:
            d.state = "failed"
        await self.store.update(d, next_at)
        log.info("webhook of %s: attempt %d, %s", d.scan_id, len(d.attempts),
                 d.state if next_at is None else "retrying")
