"""Domain age: when was the registrable domain registered?

Scam sites are used within days of registration, so a young domain is a
signal (rules ``URL-AGE-001/002/003``); an old one is not a sign of good
faith, and an unknown age is neither: it is reported as ``incomplete`` and
adds nothing.

Where the date comes from, in order:

1. **RDAP** over httpx. The TLD's RDAP base URL comes from the IANA bootstrap
   file (the bundled ``blocklists/data/rdap_dns.json``, or the file named by
   ``SCAMSCAN_RDAP_BOOTSTRAP``, passed here as ``bootstrap_path``); the
   ``registration`` event of ``GET {base}domain/{name}`` is the date. A 404
   means the registry does not know the domain: incomplete, no fallback.
2. **WHOIS**, when RDAP has no server for the TLD or fails (timeout, 429,
   5xx, bad JSON, no registration event). By default python-whois's own
   lookup runs in a worker thread bounded by a timeout; everything it raises
   is contained, ``socket.gaierror`` included (its IANA-referral path resolves
   ``whois.iana.org`` outside its own error handling). With ``whois_server``
   set, one port-43 query goes to that ``(host, port)`` over asyncio streams
   and python-whois only parses the answer (``WhoisEntry.load``): that is how
   tests and air-gapped deployments point WHOIS at a server of their own,
   since python-whois itself always connects to port 43 of hosts it picks.
3. **``.vn``** has neither public RDAP nor port-43 WHOIS. Without a
   :class:`VnWhoisProvider` the check is incomplete, with that reason; with
   one, its date is used like any other.

Ages are compared with exact time differences: a domain registered less than
7 days before the scan fires ``URL-AGE-001``, from 7 to less than 30 days
``URL-AGE-002``, from 30 to less than 180 days ``URL-AGE-003``; only the
tightest fires, and from 180 days on nothing does. Exactly 7 days old is
``URL-AGE-002``, exactly 30 is ``URL-AGE-003``, exactly 180 is nothing.

Results are cached through a :class:`~scanners.store.Store`: the registration
date (not the age, which is computed at each scan) for ``success_ttl``
seconds, a failure for the shorter ``failure_ttl`` so that a flapping
registry is not hammered, yet a domain registered a minute ago is soon
looked up again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from scanners.errors import DataError, ScanIncomplete, StoreError
from scanners.findings import Finding
from scanners.normalize import ParsedURL
from scanners.store import Store

log = logging.getLogger(__name__)

CHECK = "domain_age"
"""The check name used in :class:`~scanners.errors.ScanIncomplete`."""

VN_REASON = (
    "The .vn registry offers no public RDAP or port-43 WHOIS service, so the "
    "age of this domain is unknown; it is not counted either way."
)
"""Why a ``.vn`` domain has no age when no :class:`VnWhoisProvider` is configured."""

AGE_RULES: tuple[tuple[timedelta, str], ...] = (
    (timedelta(days=7), "URL-AGE-001"),
    (timedelta(days=30), "URL-AGE-002"),
    (timedelta(days=180), "URL-AGE-003"),
)
"""``(upper bound, rule)``, tightest first: an age strictly below the bound fires."""

MAX_RDAP_BYTES = 1 << 20
MAX_WHOIS_BYTES = 256 << 10
MAX_RDAP_REDIRECTS = 3
# Registries and caches disagree by some hours; a date further ahead than
# this is a broken record, not a young domain.
_FUTURE_SLACK = timedelta(days=1)
_CACHE_PREFIX = "domain_age:v1:"
_WHOIS_DEFAULT_SERVER = "python-whois"


@runtime_checkable
class VnWhoisProvider(Protocol):
    """A source of registration dates for ``.vn`` domains (a commercial WHOIS API).

    The .vn registry (VNNIC) publishes neither RDAP nor port-43 WHOIS, so
    scamscan ships no implementation: one that wraps a paid API would have to
    be written against that API's documented contract, configured with its
    key, and passed as ``vn_provider``. Without it, ``.vn`` ages are
    reported as incomplete. To plug one in, implement:

    * ``name``: a short identifier, shown as the finding's ``source``;
    * ``registration_date(domain)``: the registration date of the ASCII
      registrable ``domain`` (timezone-aware, or naive UTC), None when the
      provider has none; raise on any failure. It must never make a date up.

    The scanner bounds each call with its WHOIS timeout and caches results
    like WHOIS answers. A provider should be constructed only when its key is
    configured, so that no key means no provider.
    """

    name: str

    async def registration_date(self, domain: str) -> datetime | None:
        """When ``domain`` was registered, or None when the provider does not know."""
        ...


WhoisLookup = Callable[[str, float], Mapping[str, Any]]
"""Runs in a worker thread: ``(domain, timeout) -> parsed WHOIS record``."""


def python_whois_lookup(domain: str, timeout: float) -> Mapping[str, Any]:
    """python-whois's own lookup (it picks the server); raises on any failure."""
    import whois

    # ignore_socket_errors=False: otherwise a socket error comes back as a
    # "Socket not responding" text that then parses as an empty record.
    entry = whois.whois(
        domain, quiet=True, ignore_socket_errors=False, timeout=max(1, math.ceil(timeout))
    )
    return dict(entry)


def _parse_whois_text(domain: str, text: str) -> Mapping[str, Any]:
    from whois.parser import WhoisEntry

    return dict(WhoisEntry.load(domain, text))


@dataclass(frozen=True, slots=True)
class AgeResult:
    """What a lookup established: a registration date, or why there is none."""

    registered: datetime | None
    source: str
    """``rdap``, ``whois`` or the provider's name; empty for a failure."""
    server: str
    reason: str = ""

    def to_bytes(self) -> bytes:
        return json.dumps({
            "registered": self.registered.isoformat() if self.registered else None,
            "source": self.source,
            "server": self.server,
            "reason": self.reason,
        }).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> AgeResult | None:
        try:
            d = json.loads(raw)
            reg = d["registered"]
            return cls(
                registered=_aware(datetime.fromisoformat(reg)) if reg else None,
                source=str(d["source"]),
                server=str(d["server"]),
                reason=str(d["reason"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


class _Fallback(Exception):
    """RDAP did not give a date, but WHOIS may."""


class _Final(Exception):
    """A definite failure: do not try another source."""


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def parse_iso_datetime(value: str) -> datetime:
    """An RDAP date (RFC 3339: ``Z`` or an offset, optional fractions) as aware UTC."""
    s = value.strip()
    if not s:
        raise ValueError("empty date")
    # fromisoformat (3.11) takes Z and any number of fraction digits; a
    # lower-case t/z from a sloppy server is normalised first.
    s = s[:10] + s[10:].upper()
    return _aware(datetime.fromisoformat(s))


def creation_date(value: Any) -> datetime | None:
    """The registration date from python-whois's ``creation_date``.

    It may be None, a datetime, a string (a format python-whois could not
    parse) or a list of those (registry and registrar both answered); the
    earliest date stands for a list.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        dates = [d for d in (creation_date(v) for v in value) if d is not None]
        return min(dates) if dates else None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return parse_iso_datetime(value)
        except ValueError:
            pass
        try:
            from whois.parser import cast_date

            parsed = cast_date(value)
        except Exception:
            return None
        return _aware(parsed) if isinstance(parsed, datetime) else None
    return None


def load_bootstrap(path: Path) -> dict[str, tuple[str, ...]]:
    """Label suffix -> RDAP base URLs (https first), from an IANA bootstrap file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        services = doc["services"]
        if not isinstance(services, list):
            raise TypeError("services is not a list")
        out: dict[str, tuple[str, ...]] = {}
        for service in services:
            suffixes, urls = service[0], service[1]
            if not all(isinstance(u, str) for u in urls):
                raise TypeError("a service URL is not a string")
            ordered = tuple(sorted(urls, key=lambda u: not u.lower().startswith("https:")))
            for suffix in suffixes:
                out[str(suffix).lower().strip(".")] = ordered
    except (OSError, UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError) as e:
        raise DataError(f"cannot read RDAP bootstrap file {path}: {e}") from e
    return out


def _is_vn(domain: str) -> bool:
    return domain.rsplit(".", 1)[-1] == "vn"


def _fmt_s(seconds: float) -> str:
    return f"{seconds:g} s"


class DomainAgeScanner:
    """Finds young domains through RDAP, WHOIS or a ``.vn`` provider; see the module doc.

    ``store`` caches results; ``bootstrap_path`` is an IANA RDAP bootstrap
    file (None: the bundled one); ``http`` an httpx client for RDAP (None:
    one is created, with redirects limited to :data:`MAX_RDAP_REDIRECTS`, and
    closed by :meth:`aclose`); ``rdap_timeout`` and ``whois_timeout`` bound
    each whole lookup, in seconds; ``vn_provider`` answers for ``.vn``;
    ``now`` gives the current aware time; ``success_ttl`` and
    ``failure_ttl`` are cache lifetimes in seconds; ``whois_server`` sends
    WHOIS queries to one ``(host, port)`` instead of python-whois's choice;
    ``whois_lookup`` replaces python-whois's lookup (it runs in a worker
    thread, and whatever it raises is contained).
    """

    name = "domain-age"

    def __init__(
        self,
        store: Store,
        *,
        bootstrap_path: Path | None = None,
        http: httpx.AsyncClient | None = None,
        rdap_timeout: float = 5.0,
        whois_timeout: float = 10.0,
        vn_provider: VnWhoisProvider | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        success_ttl: float = 86400.0,
        failure_ttl: float = 600.0,
        whois_server: tuple[str, int] | None = None,
        whois_lookup: WhoisLookup | None = None,
        whois_workers: int = 4,
    ) -> None:
        if bootstrap_path is None:
            from blocklists import rdap_bootstrap_path

            bootstrap_path = rdap_bootstrap_path()
        if rdap_timeout <= 0 or whois_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self._bootstrap = load_bootstrap(bootstrap_path)
        self._store = store
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(
            timeout=httpx.Timeout(rdap_timeout),
            follow_redirects=True,
            max_redirects=MAX_RDAP_REDIRECTS,
        )
        self._rdap_timeout = rdap_timeout
        self._whois_timeout = whois_timeout
        self._vn = vn_provider
        self._now = now
        self._success_ttl = success_ttl
        self._failure_ttl = failure_ttl
        self._whois_server = whois_server
        self._whois_lookup = whois_lookup or python_whois_lookup
        # A pool of our own: a python-whois call that outlives its timeout
        # keeps its thread until its socket gives up, and must not starve the
        # loop's default executor (which asyncio also uses for getaddrinfo).
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=whois_workers, thread_name_prefix="scamscan-whois"
        )
        self._inflight: dict[str, asyncio.Future[AgeResult]] = {}
        self.cache_hits = 0
        """Lookups answered from the store (read by the API's metrics)."""
        self.cache_misses = 0
        """Lookups the store could not answer (absent, unreadable or failed read)."""

    async def aclose(self) -> None:
        """Close the HTTP client if this scanner created it, and the WHOIS threads."""
        if self._owns_http:
            await self._http.aclose()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def rdap_base(self, domain: str) -> str | None:
        """The RDAP base URL (ending in ``/``) for ``domain``: longest label-suffix match."""
        labels = domain.lower().strip(".").split(".")
        for i in range(len(labels)):
            urls = self._bootstrap.get(".".join(labels[i:]))
            if urls:
                base = urls[0]
                return base if base.endswith("/") else base + "/"
        return None

    async def scan(self, target: ParsedURL) -> list[Finding]:
        """An age finding for the registrable domain, or :class:`ScanIncomplete`."""
        if target.ip:
            return []
        domain = target.registrable_domain
        if not domain:
            raise ScanIncomplete(
                CHECK,
                f"{target.host} is not under a known public suffix, so there is no "
                "registry to ask for its age.",
            )
        if _is_vn(domain) and self._vn is None:
            raise ScanIncomplete(CHECK, VN_REASON)
        result = await self.age(domain)
        if result.registered is None:
            raise ScanIncomplete(CHECK, result.reason)
        return self._findings(domain, result.registered, result)

    async def age(self, domain: str) -> AgeResult:
        """The (cached) lookup result for ``domain``; concurrent callers share one lookup."""
        fut = self._inflight.get(domain)
        if fut is None:
            fut = asyncio.ensure_future(self._cached_lookup(domain))
            self._inflight[domain] = fut
            fut.add_done_callback(lambda _f: self._inflight.pop(domain, None))
        # shield: one caller giving up must not cancel the lookup for the others.
        return await asyncio.shield(fut)

    def _findings(self, domain: str, registered: datetime, result: AgeResult) -> list[Finding]:
        age = self._now() - registered
        if age < -_FUTURE_SLACK:
            raise ScanIncomplete(
                CHECK,
                f"{result.source} gives a registration date in the future "
                f"({registered.date().isoformat()}) for {domain}; not counted.",
            )
        for bound, rule_id in AGE_RULES:
            if age < bound:
                return [Finding(rule_id, {
                    "domain": domain,
                    "registered": registered.date().isoformat(),
                    "age_days": max(0, age.days),
                    "source": result.source,
                    "server": result.server,
                })]
        return []

    async def _cached_lookup(self, domain: str) -> AgeResult:
        key = _CACHE_PREFIX + domain
        try:
            raw = await self._store.get(key)
        except StoreError as e:
            log.warning("domain age cache read failed, looking up: %s", e)
            raw = None
        if raw is not None:
            cached = AgeResult.from_bytes(raw)
            if cached is not None:
                self.cache_hits += 1
                return cached
        self.cache_misses += 1
        result = await self._lookup(domain)
        ttl = self._success_ttl if result.registered is not None else self._failure_ttl
        try:
            await self._store.set(key, result.to_bytes(), ttl)
        except StoreError as e:
            log.warning("domain age cache write failed: %s", e)
        return result

    async def _lookup(self, domain: str) -> AgeResult:
        if _is_vn(domain):
            if self._vn is None:  # scan() stops earlier; age() callers land here
                return AgeResult(None, "", "", VN_REASON)
            return await self._provider(self._vn, domain)
        try:
            return await self._rdap(domain)
        except _Final as e:
            return AgeResult(None, "", "rdap", str(e))
        except _Fallback as e:
            rdap_reason = str(e)
        w = await self._whois(domain)
        if w.registered is not None:
            return w
        return AgeResult(None, "", w.server, f"{rdap_reason} {w.reason}")

    async def _rdap(self, domain: str) -> AgeResult:
        base = self.rdap_base(domain)
        if base is None:
            tld = domain.rsplit(".", 1)[-1]
            raise _Fallback(f"The IANA bootstrap names no RDAP service for .{tld}.")
        url = f"{base}domain/{domain}"
        try:
            server = httpx.URL(base).host or base
        except httpx.InvalidURL:
            raise _Fallback(f"The RDAP base URL {base!r} in the bootstrap is invalid.") from None
        try:
            async with asyncio.timeout(self._rdap_timeout):
                status, body = await self._rdap_get(url)
        except TimeoutError:
            raise _Fallback(
                f"RDAP server {server} did not answer within {_fmt_s(self._rdap_timeout)}."
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as e:
            raise _Fallback(f"RDAP request to {server} failed ({type(e).__name__}).") from None
        if status == 404:
            raise _Final(f"The RDAP registry ({server}) has no record of {domain}.")
        if status != 200:
            raise _Fallback(f"RDAP server {server} answered HTTP {status}.")
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            raise _Fallback(f"RDAP server {server} sent an answer that is not JSON.") from None
        registered = _registration_event(doc)
        if registered is None:
            raise _Fallback(f"RDAP answer from {server} has no usable registration date.")
        return AgeResult(registered, "rdap", server)

    async def _rdap_get(self, url: str) -> tuple[int, bytes]:
        headers = {"Accept": "application/rdap+json, application/json;q=0.9"}
        async with self._http.stream("GET", url, headers=headers, follow_redirects=True) as r:
            if r.status_code != 200:
                return r.status_code, b""
            chunks: list[bytes] = []
            size = 0
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if size > MAX_RDAP_BYTES:
                    return 200, b""  # not JSON: treated as a bad answer
                chunks.append(chunk)
            return 200, b"".join(chunks)

    async def _whois(self, domain: str) -> AgeResult:
        loop = asyncio.get_running_loop()
        t = self._whois_timeout
        override = self._whois_server
        server = f"{override[0]}:{override[1]}" if override else _WHOIS_DEFAULT_SERVER
        try:
            # One deadline for the query and the parse: the caller waits t at most.
            async with asyncio.timeout(t):
                if override is not None:
                    text = await self._whois_query(override[0], override[1], domain)
                    record = await loop.run_in_executor(
                        self._pool, _parse_whois_text, domain, text)
                else:
                    record = await loop.run_in_executor(
                        self._pool, self._whois_lookup, domain, t)
        except TimeoutError:
            return AgeResult(None, "", server,
                             f"WHOIS ({server}) did not answer within {_fmt_s(t)}.")
        except Exception as e:
            # python-whois raises whatever its socket code meets, gaierror
            # included, past its own handlers: all of it means "no date".
            return AgeResult(None, "", server,
                             f"WHOIS lookup ({server}) failed ({type(e).__name__}: {e}).")
        registered = creation_date(record.get("creation_date"))
        if registered is None:
            return AgeResult(None, "", server,
                             f"WHOIS answer ({server}) has no usable creation date.")
        return AgeResult(registered, "whois", server)

    async def _whois_query(self, host: str, port: int, domain: str) -> str:
        """One RFC 3912 query to ``host:port``; the caller bounds it in time."""
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(domain.encode("ascii") + b"\r\n")
            await writer.drain()
            data = bytearray()
            while len(data) < MAX_WHOIS_BYTES:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return bytes(data[:MAX_WHOIS_BYTES]).decode("utf-8", "replace")

    async def _provider(self, provider: VnWhoisProvider, domain: str) -> AgeResult:
        name = provider.name
        try:
            async with asyncio.timeout(self._whois_timeout):
                registered = await provider.registration_date(domain)
        except TimeoutError:
            return AgeResult(None, "", name, f"The .vn WHOIS provider {name} did not answer "
                             f"within {_fmt_s(self._whois_timeout)}.")
        except Exception as e:
            return AgeResult(None, "", name, f"The .vn WHOIS provider {name} failed "
                             f"({type(e).__name__}: {e}).")
        if registered is None:
            return AgeResult(None, "", name,
                             f"The .vn WHOIS provider {name} has no registration date "
                             f"for {domain}.")
        return AgeResult(_aware(registered), name, name)


def _registration_event(doc: Any) -> datetime | None:
    """The earliest ``registration`` event date of an RDAP domain object."""
    if not isinstance(doc, dict):
        return None
    events = doc.get("events")
    if not isinstance(events, list):
        return None
    dates = []
    for ev in events:
        if not isinstance(ev, dict) or ev.get("eventAction") != "registration":
            continue
        raw = ev.get("eventDate")
        if not isinstance(raw, str):
            continue
        try:
            dates.append(parse_iso_datetime(raw))
        except ValueError:
            continue
    return min(dates) if dates else None
