"""Dynamic lists: analyst entries and feeds on top of the bundled blocklists.

Pure logic, no HTTP framework and no I/O besides the APK list file: the API's
:mod:`api.services.lists` loads entries and feed generations from its store and hands
them to :class:`DynamicLists`, which the link scanner uses as its
:class:`~scanners.url_offline.ListLookup`.

**Entries** (:class:`ListEntry`) have a ``kind`` (``host``, ``domain``, ``url``,
``apk_sha256``, ``package``, ``signer``, ``official_signer``, ``phone``,
``bank_account``), an ``action`` (``block`` or ``allow``) and a normalised
``value`` (:func:`normalize_entry`).

**Phone and account entries** (``phone``: stored as ``+84…``, or as dialled
for 1800/1900 numbers; ``bank_account``: the digits) are what the message
check looks up for the numbers it finds (:meth:`DynamicLists.identifier_entry`,
:mod:`scanners.identifiers`).

**Look-up order** (:meth:`ListView.lookup`), one immutable view per call:

1. analyst ``allow`` entries: a ``host`` or ``domain`` allow entry matching the
   host drops every feed and bundled hit for it; a ``url`` allow entry drops
   the feed and bundled hits that matched by URL. Analyst allow entries also
   override the *bundled* lists (an analyst must be able to correct a false
   positive of a bundled list); they never hide analyst ``block`` entries,
   nor any rule other than URL-BL-001;
2. analyst ``block`` entries (source ``"analyst: <who added it>"``);
3. feed generations (source ``"feed: <feed name>"``);
4. the bundled :class:`~blocklists.BlocklistIndex`.

Matching is as for the bundled lists: ``domain`` entries match the host and
every subdomain; ``host`` entries match the exact host (ignoring a leading
``www.`` on either side); ``url`` entries match that host when the request
path starts with the entry's path at a boundary (``/ ? # &`` or the end).

**Generations**: a refresh parses a feed into a :class:`FeedData` (frozen
sets) and the caller builds a new :class:`ListView`; :meth:`DynamicLists.swap`
replaces the view with one attribute assignment, so a reader sees either the
whole old or the whole new list, never a mix.

**Feeds** (:func:`parse_feed`): ``hosts`` (one host a line, ``#`` comments),
``hostsfile`` (``0.0.0.0 host`` / ``127.0.0.1 host``), ``adblock`` (``||host^``
lines only), ``csv`` (a ``url`` column) and ``json`` (a list of strings or of
objects with ``host``, ``domain`` or ``url``). Every parse is bounded in bytes
and lines; a feed with no valid entry is an error (the old generation stays).
Entries on a whole shared platform, a gov.vn name or an official domain of the
registry are dropped: a feed never makes the real bank or ministry dangerous.

**APK entries** reach the APK scanner through a JSON file
(:func:`write_apk_lists`, atomically replaced) that :func:`load_apk_lists`
reads; its ``version`` (a hash of the APK entries) is part of the stored-report
deduplication key of APK scans.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import blocklists
from blocklists import BlocklistHit, BlocklistIndex, never_host_match
from scanners.errors import InvalidURLError
from scanners.fetch import GuardedFetcher, MalformedTarget, resolve_reference
from scanners.identifiers import ListedEntry, phone_value
from scanners.normalize import normalize
from scanners.registry import registry

Kind = Literal["host", "domain", "url", "apk_sha256", "package", "signer", "official_signer",
               "phone", "bank_account"]
KINDS: tuple[Kind, ...] = get_args(Kind)
URL_KINDS: frozenset[str] = frozenset({"host", "domain", "url"})
APK_KINDS: frozenset[str] = frozenset({"apk_sha256", "package", "signer", "official_signer"})
IDENTIFIER_KINDS: frozenset[str] = frozenset({"phone", "bank_account"})
Action = Literal["block", "allow"]
FeedFormat = Literal["hosts", "hostsfile", "adblock", "csv", "json"]
FEED_FORMATS: tuple[FeedFormat, ...] = get_args(FeedFormat)
Semantics = Literal["domain", "host"]

MAX_FEED_BYTES = 50 * 1024 * 1024
MAX_FEED_LINES = 2_000_000
APK_LISTS_FILE = "apk_lists.json"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ACCOUNT = re.compile(r"^[0-9]{6,19}$")
_PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+$")
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+"
                   r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_ADBLOCK = re.compile(r"^\|\|([^/^$*|\s]+)\^$")
_HOSTSFILE_SKIP = frozenset({"localhost", "localhost.localdomain", "broadcasthost", "local",
                             "ip6-localhost", "ip6-loopback", "0.0.0.0"})  # noqa: S104
_BOUNDARY = frozenset("/?#&")


class EntryError(ValueError):
    """A list entry or a feed configuration that is not valid (the API answers 422)."""


class FeedError(Exception):
    """A feed that could not be fetched or parsed; the old generation stays."""


# --- entries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One analyst entry."""

    id: str
    kind: Kind
    action: Action
    value: str
    package: str = ""
    """Only for ``official_signer``: the package the signer is official for."""
    note: str = ""
    added_by: str = "local"
    added_at: str = ""
    """ISO 8601, UTC."""

    @property
    def key(self) -> tuple[str, str, str]:
        """What must be unique: two entries with the same key are duplicates."""
        return (self.kind, self.package, self.value)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "action": self.action, "value": self.value,
                "package": self.package or None, "note": self.note, "added_by": self.added_by,
                "added_at": self.added_at}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ListEntry:
        return cls(d["id"], d["kind"], d["action"], d["value"], d.get("package") or "",
                   d.get("note") or "", d.get("added_by") or "local", d.get("added_at") or "")


def new_entry_id() -> str:
    return "le_" + uuid.uuid4().hex[:16]


def _sha256_value(value: str, what: str) -> str:
    v = value.strip().lower().replace(":", "")
    if not _SHA256.match(v):
        raise EntryError(f"{what} must be a SHA-256 in hex (64 hex digits, colons allowed), "
                         f"got {value[:80]!r}")
    return v


def _package_value(value: str) -> str:
    v = value.strip()
    if len(v) > 255 or not _PACKAGE.match(v):
        raise EntryError(f"not an Android package name: {value[:80]!r} (e.g. com.example.app)")
    return v


def normalize_entry(kind: str, value: str, action: str = "block",
                    package: str | None = None) -> tuple[str, str]:
    """``(value, package)`` normalised for ``kind``; :class:`EntryError` when invalid.

    Hosts and domains go through :func:`scanners.normalize.normalize` (defanged
    and Unicode forms accepted, stored as the ASCII host); a URL is stored in
    its canonical form; hashes are lower-case hex; package names are checked.
    A ``block`` entry may not name a whole shared platform (``facebook.com``,
    ``github.io`` …) nor an official site (:func:`official_host`): use a ``url``
    entry for one page of it.
    """
    if kind not in KINDS:
        raise EntryError(f"unknown kind {kind!r}; one of: {', '.join(KINDS)}")
    if action not in ("block", "allow"):
        raise EntryError(f"unknown action {action!r}; one of: block, allow")
    if kind != "official_signer" and package:
        raise EntryError("`package` is only for official_signer entries")
    if kind in URL_KINDS:
        try:
            p = normalize(value)
        except InvalidURLError as e:
            raise EntryError(f"not a valid {kind}: {e}") from None
        if kind == "url":
            if p.path in ("", "/"):
                raise EntryError("a url entry needs a path; use a host entry for a whole host")
            return p.url, ""
        if p.path not in ("", "/") or p.userinfo is not None or p.port is not None:
            raise EntryError(f"a {kind} entry is a bare name without path, port or user; "
                             "use a url entry for one page")
        if p.ip is None and not p.registrable_domain:
            raise EntryError(f"{p.host!r} is a public suffix, not a {kind}")
        if action == "block" and never_host_match(p.host):
            raise EntryError(f"{p.host!r} is a shared platform that can never be blocked as a "
                             "whole; block the page with a url entry")
        if action == "block" and p.ip is None and official_host(p.host):
            raise EntryError(f"{p.host!r} is an official site (gov.vn, or a bank or agency "
                             "of the registry) that can never be blocked as a whole; block "
                             "the page with a url entry")
        return p.host, ""
    if kind == "phone":
        got = phone_value(value.strip())
        if got is None:
            raise EntryError(f"not a valid Vietnamese phone number: {value[:80]!r} "
                             "(e.g. 0912 345 678, +84 912 345 678, 024 3822 1234)")
        return got[0], ""
    if kind == "bank_account":
        digits = re.sub(r"[\s.\-]", "", value)
        if not _ACCOUNT.match(digits):
            raise EntryError(f"a bank_account entry is 6 to 19 digits (spaces, dots or "
                             f"dashes between them allowed), got {value[:80]!r}")
        return digits, ""
    if kind == "apk_sha256":
        return _sha256_value(value, "an apk_sha256 entry"), ""
    if kind == "package":
        return _package_value(value), ""
    if kind == "signer":
        return _sha256_value(value, "a signer entry (the certificate's SHA-256)"), ""
    if not package:
        raise EntryError("an official_signer entry needs the `package` it signs")
    if action != "allow":
        raise EntryError("an official_signer entry is an allow entry (action 'allow')")
    return _sha256_value(value, "an official signer"), _package_value(package)


# --- feeds ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """A feed an admin configured."""

    name: str
    url: str
    format: FeedFormat
    semantics: Semantics = "domain"
    enabled: bool = True
    added_by: str = "local"
    added_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "format": self.format,
                "semantics": self.semantics, "enabled": self.enabled,
                "added_by": self.added_by, "added_at": self.added_at}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeedConfig:
        return cls(d["name"], d["url"], d["format"], d.get("semantics") or "domain",
                   bool(d.get("enabled", True)), d.get("added_by") or "local",
                   d.get("added_at") or "")


_FEED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


async def download_feed(fetcher: GuardedFetcher, url: str, *, max_redirects: int,
                        budget: float) -> bytes:
    """The feed document at ``url``, fetched under the live fetch's guard.

    ``fetcher`` (its address policy, allowed ports, body limit and per-hop
    timeout) decides what may be fetched, exactly as for a live link check:
    a feed on a private, loopback or link-local address (unless allowed), or
    on a port that is not allowed, is refused before any connection, and every
    redirect hop is checked again and pinned to its checked address. Raises
    :class:`FeedError` with a reason for the admin; never anything else for
    a hostile or broken server. ``budget`` bounds the whole download, in seconds
    (each hop gets what is left, at most the fetcher's per-hop timeout).
    """
    try:
        current = normalize(url)
    except InvalidURLError as e:
        raise FeedError(f"the feed URL cannot be fetched: {e.reason}") from None
    deadline = time.monotonic() + budget
    for _ in range(max_redirects + 1):
        res = await fetcher.fetch(current, time_left=deadline - time.monotonic())
        if res.refused is not None:
            # The class only, not the address (as in link reports).
            raise FeedError(
                f"the feed's host {current.host} resolves to a {res.refused.cls} address, "
                "which is not fetched (feeds go through the same guard as live link "
                "checks; see SCAMSCAN_FETCH_ALLOW_NETWORKS)")
        if res.blocked_port is not None:
            raise FeedError(
                f"the feed URL's port {res.blocked_port} is not fetched (feeds go through "
                "the same guard as live link checks; see SCAMSCAN_FETCH_ALLOWED_PORTS)")
        if res.timed_out:
            raise FeedError(f"the feed took longer than {budget:g} s")
        if res.tls_error is not None:
            raise FeedError(f"the feed's TLS certificate is not valid: {res.tls_error}")
        if res.error is not None or res.status is None:
            raise FeedError(f"the feed could not be fetched: {res.error}")
        location = res.headers.get("location")
        if 300 <= res.status < 400 and location:
            try:
                nxt = resolve_reference(current.url, location)
            except MalformedTarget as e:
                raise FeedError(f"the feed redirects to a malformed address: {e.reason}"
                                ) from None
            if nxt is None:
                raise FeedError("the feed redirects to something that is not a web link")
            current = nxt
            continue
        if res.status != 200:
            raise FeedError(f"the feed answered HTTP {res.status}")
        if res.truncated:
            raise FeedError(f"the feed is more than the limit of {fetcher.max_body} bytes")
        return res.body
    raise FeedError(f"the feed redirected more than {max_redirects} times")


def check_feed(name: str, url: str, fmt: str, semantics: str) -> None:
    """:class:`EntryError` unless the feed configuration is valid."""
    if not _FEED_NAME.match(name):
        raise EntryError("a feed name is 1-64 letters, digits, '.', '_' or '-'")
    if not re.match(r"^https?://[^\s/]+", url):
        raise EntryError("a feed URL is an http:// or https:// URL")
    if fmt not in FEED_FORMATS:
        raise EntryError(f"unknown feed format {fmt!r}; one of: {', '.join(FEED_FORMATS)}")
    if semantics not in ("domain", "host"):
        raise EntryError(f"unknown semantics {semantics!r}; one of: domain, host")


@dataclass(frozen=True, slots=True)
class FeedData:
    """One generation of a feed: what it lists, as frozen sets."""

    domains: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    """Canonical URLs (with a path)."""
    skipped: int = 0
    """Lines that were not an entry (comments excluded)."""

    @property
    def entries(self) -> int:
        return len(self.domains) + len(self.hosts) + len(self.urls)

    def to_bytes(self) -> bytes:
        doc = {"domains": sorted(self.domains), "hosts": sorted(self.hosts),
               "urls": sorted(self.urls), "skipped": self.skipped}
        return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> FeedData:
        doc = json.loads(zlib.decompress(data))
        return cls(frozenset(doc["domains"]), frozenset(doc["hosts"]), frozenset(doc["urls"]),
                   int(doc.get("skipped", 0)))


class _Collector:
    def __init__(self, semantics: str) -> None:
        self.semantics = semantics
        self.domains: set[str] = set()
        self.hosts: set[str] = set()
        self.urls: set[str] = set()
        self.skipped = 0

    def host(self, raw: str, semantics: str | None = None) -> None:
        h = _feed_host(raw)
        if h is None:
            self.skipped += 1
            return
        if never_host_match(h):
            return  # a whole platform is never listed as a host (as for the bundled lists)
        if official_host(h):
            return
        (self.domains if (semantics or self.semantics) == "domain" else self.hosts).add(h)

    def url(self, raw: str) -> None:
        try:
            p = normalize(raw)
        except InvalidURLError:
            self.skipped += 1
            return
        if p.path in ("", "/"):
            self.host(p.host)
        elif not official_host(p.host):
            self.urls.add(p.url)

    def result(self, had_lines: int, max_entries: int) -> FeedData:
        n = len(self.domains) + len(self.hosts) + len(self.urls)
        if n == 0:
            raise FeedError(f"no valid entry in the feed ({had_lines} non-comment lines, "
                            f"{self.skipped} not understood)")
        if n > max_entries:
            raise FeedError(f"the feed has {n} entries, more than the limit of {max_entries}")
        return FeedData(frozenset(self.domains), frozenset(self.hosts), frozenset(self.urls),
                        self.skipped)


def official_host(host: str) -> bool:
    """Whether ``host`` is, or is under, a gov.vn name or an official domain of the
    registry. A feed is a third party's list, fetched unattended: a careless or
    hostile one must not make the real bank or government site dangerous (feed hits
    are never suppressed by the allowlist), so such entries are dropped. Nor may a
    ``domain`` or ``host`` block entry name one (:func:`normalize_entry`): one click
    on a hostile report or feedback must not flag the real site for everyone; a
    ``url`` entry still lists one page of it."""
    h = host.lower().rstrip(".")
    if h == "gov.vn" or h.endswith(".gov.vn"):
        return True
    official = registry().official
    labels = h.split(".")
    return any(".".join(labels[i:]) in official for i in range(len(labels) - 1))


def _feed_host(raw: str) -> str | None:
    h = raw.strip().lower().rstrip(".")
    if h.startswith("*."):
        h = h[2:]
    if h.isascii():
        return h if _HOST.match(h) else None
    try:
        p = normalize(h)
    except InvalidURLError:
        return None
    return p.host if p.path in ("", "/") and p.ip is None and p.registrable_domain else None


def _lines(text: str, max_lines: int) -> list[str]:
    lines = text.splitlines()
    if len(lines) > max_lines:
        raise FeedError(f"the feed has {len(lines)} lines, more than the limit of {max_lines}")
    return lines


def parse_feed(data: bytes, fmt: str, semantics: str = "domain", *,
               max_bytes: int = MAX_FEED_BYTES, max_lines: int = MAX_FEED_LINES,
               max_entries: int = MAX_FEED_LINES) -> FeedData:
    """Parse a feed document; :class:`FeedError` when it is too big or has no entry."""
    if len(data) > max_bytes:
        raise FeedError(f"the feed is {len(data)} bytes, more than the limit of {max_bytes}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedError("the feed is not UTF-8 text") from None
    if "\x00" in text:
        raise FeedError("the feed is binary, not text")
    c = _Collector(semantics)
    had = 0
    if fmt in ("hosts", "hostsfile", "adblock"):
        for line in _lines(text, max_lines):
            s = line.strip()
            if fmt == "adblock":
                if not s or s[0] in "![":
                    continue
                had += 1
                m = _ADBLOCK.match(s)
                if m:
                    c.host(m.group(1))
                else:
                    c.skipped += 1  # exceptions, cosmetic and path rules are not host rules
                continue
            s = s.split("#", 1)[0].strip()
            if not s:
                continue
            had += 1
            parts = s.split()
            if fmt == "hosts":
                c.host(parts[0])
            else:
                if len(parts) < 2 or not _is_ip(parts[0]):
                    c.skipped += 1
                    continue
                for name in parts[1:]:
                    if name.lower() not in _HOSTSFILE_SKIP and not name.startswith("ip6-"):
                        c.host(name)
    elif fmt == "csv":
        rows = csv.reader(io.StringIO(text))
        header: list[str] | None = None
        col = -1
        for i, row in enumerate(_csv_rows(rows)):
            if i > max_lines:
                raise FeedError(f"the feed has more than {max_lines} lines")
            if not row or (row[0].startswith("#") and header is None):
                continue
            if header is None:
                header = [h.strip().lower() for h in row]
                if "url" not in header:
                    raise FeedError("the CSV feed has no `url` column")
                col = header.index("url")
                continue
            had += 1
            if col < len(row) and row[col].strip():
                c.url(row[col].strip())
            else:
                c.skipped += 1
        if header is None:
            raise FeedError("the CSV feed is empty")
    elif fmt == "json":
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise FeedError(f"the JSON feed does not parse: {e}") from None
        if isinstance(doc, dict):
            doc = next((doc[k] for k in ("entries", "data", "items") if
                        isinstance(doc.get(k), list)), None)
        if not isinstance(doc, list):
            raise FeedError("a JSON feed is a list of strings or of objects with "
                            "host, domain or url")
        if len(doc) > max_lines:
            raise FeedError(f"the feed has {len(doc)} items, more than the limit of {max_lines}")
        for item in doc:
            had += 1
            if isinstance(item, str):
                (c.url if "/" in item else c.host)(item)
            elif isinstance(item, dict):
                if isinstance(item.get("url"), str):
                    c.url(item["url"])
                elif isinstance(item.get("host"), str):
                    c.host(item["host"], "host" if semantics == "host" else None)
                elif isinstance(item.get("domain"), str):
                    c.host(item["domain"], "domain")
                else:
                    c.skipped += 1
            else:
                c.skipped += 1
    else:
        raise FeedError(f"unknown feed format {fmt!r}")
    return c.result(had, max_entries)


def _csv_rows(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from rows
    except csv.Error as e:
        raise FeedError(f"the CSV feed does not parse: {e}") from None


def _is_ip(s: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


# --- the index ----------------------------------------------------------------------------


def _strip_www(h: str) -> str:
    return h[4:] if h.startswith("www.") else h


def _url_key(url: str) -> tuple[str, str] | None:
    """``(www-stripped host, normalised path)`` of a canonical URL."""
    try:
        p = normalize(url)
    except InvalidURLError:
        return None
    return _strip_www(p.host), blocklists._norm_path(p.path)


def _path_matches(req: str, prefix: str) -> bool:
    return req.startswith(prefix) and (
        len(req) == len(prefix) or prefix[-1] in _BOUNDARY or req[len(prefix)] in _BOUNDARY)


class _Layer:
    """Domain, exact-host and URL entries of one or several sources."""

    __slots__ = ("domain", "host", "url")

    def __init__(self) -> None:
        self.domain: dict[str, tuple[BlocklistHit, ...]] = {}
        self.host: dict[str, tuple[BlocklistHit, ...]] = {}
        self.url: dict[str, tuple[tuple[str, BlocklistHit], ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.domain or self.host or self.url)

    def add_domain(self, value: str, source: str) -> None:
        self.domain[value] = (*self.domain.get(value, ()), BlocklistHit(source, value, "domain"))

    def add_host(self, value: str, source: str) -> None:
        k = _strip_www(value)
        self.host[k] = (*self.host.get(k, ()), BlocklistHit(source, value, "host"))

    def add_url(self, url: str, source: str) -> None:
        key = _url_key(url)
        if key is None:
            return
        h, path = key
        self.url[h] = (*self.url.get(h, ()), (path, BlocklistHit(source, url, "url")))

    def lookup(self, cands: list[str], s: str, path: str, out: list[BlocklistHit]) -> None:
        if self.domain:
            for c in cands:
                m = self.domain.get(c)
                if m:
                    out.extend(m)
        if self.host:
            m = self.host.get(s)
            if m:
                out.extend(m)
        if self.url:
            u = self.url.get(s)
            if u:
                req = blocklists._norm_path(path or "/")
                out.extend(hit for prefix, hit in u if _path_matches(req, prefix))


def _candidates(h: str, rd: str) -> list[str]:
    """The host and its parents down to the registrable domain (the host only for IPs)."""
    out = [h]
    if not rd:
        return out
    i = h.find(".")
    n = len(rd)
    while i >= 0 and len(h) - i - 1 >= n:
        out.append(h[i + 1:])
        i = h.find(".", i + 1)
    return out


def feed_layer(feeds: Mapping[str, FeedData]) -> _Layer:
    """One layer holding every feed's entries (source ``"feed: <name>"``)."""
    layer = _Layer()
    for name, data in sorted(feeds.items()):
        src = f"feed: {name}"
        for d in data.domains:
            layer.add_domain(d, src)
        for h in data.hosts:
            layer.add_host(h, src)
        for u in data.urls:
            layer.add_url(u, src)
    return layer


def _analyst_layers(entries: Iterable[ListEntry]) -> tuple[_Layer, _Layer]:
    block, allow = _Layer(), _Layer()
    for e in entries:
        if e.kind not in URL_KINDS:
            continue
        layer = block if e.action == "block" else allow
        src = f"analyst: {e.added_by}"
        if e.kind == "domain":
            layer.add_domain(e.value, src)
        elif e.kind == "host":
            layer.add_host(e.value, src)
        else:
            layer.add_url(e.value, src)
    return block, allow


@dataclass(frozen=True)
class ListView:
    """An immutable state of every list: what one look-up reads."""

    bundled: BlocklistIndex
    block: _Layer = field(default_factory=_Layer)
    allow: _Layer = field(default_factory=_Layer)
    feeds: _Layer = field(default_factory=_Layer)
    feed_counts: Mapping[str, int] = field(default_factory=dict)
    """Entries of each feed's current generation."""
    generations: Mapping[str, int] = field(default_factory=dict)
    version: int = 0
    identifiers: Mapping[tuple[str, str], ListEntry] = field(default_factory=dict)
    """Analyst ``phone`` and ``bank_account`` entries by ``(kind, value)``."""

    def lookup(self, host: str, registrable_domain: str, path: str = "/") -> list[BlocklistHit]:
        h = host.lower().rstrip(".")
        s = _strip_www(h)
        cands = _candidates(h, registrable_domain)
        allowed: list[BlocklistHit] = []
        if self.allow:
            self.allow.lookup(cands, s, path, allowed)
        out: list[BlocklistHit] = []
        if self.block:
            self.block.lookup(cands, s, path, out)
        whole = any(a.match != "url" for a in allowed)
        if whole:
            return out
        rest: list[BlocklistHit] = []
        if self.feeds:
            self.feeds.lookup(cands, s, path, rest)
        rest.extend(self.bundled.lookup(host, registrable_domain, path))
        if allowed:  # only URL allow entries: drop the URL hits
            rest = [x for x in rest if x.match != "url"]
        out.extend(rest)
        return out


def build_view(bundled: BlocklistIndex, entries: Iterable[ListEntry],
               feeds: Mapping[str, FeedData], *, feed_cache: _Layer | None = None,
               version: int = 0, generations: Mapping[str, int] | None = None) -> ListView:
    """A new view; ``feed_cache`` reuses an already built feed layer."""
    entries = list(entries)
    block, allow = _analyst_layers(entries)
    layer = feed_cache if feed_cache is not None else feed_layer(feeds)
    ids: dict[tuple[str, str], ListEntry] = {(e.kind, e.value): e for e in entries
                                             if e.kind in IDENTIFIER_KINDS}
    return ListView(bundled, block, allow, layer,
                    {n: d.entries for n, d in feeds.items()}, dict(generations or {}), version,
                    ids)


class DynamicLists:
    """The :class:`~scanners.url_offline.ListLookup` of the API: the current :class:`ListView`.

    :meth:`swap` replaces the view in one assignment; :meth:`lookup` reads it once.
    """

    def __init__(self, bundled: BlocklistIndex | None = None) -> None:
        self.bundled = bundled if bundled is not None else BlocklistIndex.bundled()
        self._view = ListView(self.bundled)

    @property
    def view(self) -> ListView:
        return self._view

    def swap(self, view: ListView) -> None:
        self._view = view

    def lookup(self, host: str, registrable_domain: str, path: str = "/") -> list[BlocklistHit]:
        return self._view.lookup(host, registrable_domain, path)

    def identifier_entry(self, kind: str, value: str) -> ListedEntry | None:
        """The analyst entry for a phone number or account (normalised as in
        :func:`normalize_entry`), or None: the
        :class:`~scanners.identifiers.IdentifierLookup` of the message check."""
        e = self._view.identifiers.get((kind, value))
        if e is None:
            return None
        return ListedEntry(e.id, e.action, e.note, e.added_by)


# --- APK entries --------------------------------------------------------------------------


def apk_lists_path(data_dir: Path) -> Path:
    """Where the API writes the analysts' APK entries for the scan workers."""
    return Path(data_dir) / "lists" / APK_LISTS_FILE


def apk_document(entries: Iterable[ListEntry]) -> dict[str, Any]:
    """The APK list file's content: block and allow sets, official signers, a version."""
    doc: dict[str, Any] = {
        "block": {"sha256": {}, "packages": {}, "signers": {}},
        "allow": {"sha256": {}, "packages": {}, "signers": {}},
        "official_signers": {},
    }
    slot = {"apk_sha256": "sha256", "package": "packages", "signer": "signers"}
    for e in sorted(entries, key=lambda e: (e.kind, e.package, e.value)):
        if e.kind in slot:
            doc[e.action][slot[e.kind]][e.value] = e.note
        elif e.kind == "official_signer":
            doc["official_signers"].setdefault(e.package, []).append(e.value)
    empty = not any(doc["block"][k] or doc["allow"][k] for k in slot.values()) and not doc[
        "official_signers"]
    body = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    doc["version"] = "" if empty else hashlib.sha256(body.encode()).hexdigest()[:12]
    return doc


def write_apk_lists(path: Path, entries: Iterable[ListEntry]) -> str:
    """Write the APK list file atomically when its content changed; its version."""
    doc = apk_document(entries)
    text = json.dumps(doc, sort_keys=True, indent=1)
    path = Path(path)
    try:
        if path.read_text("utf-8") == text:
            return str(doc["version"])
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
    return str(doc["version"])


@dataclass(frozen=True)
class ApkLists:
    """The analysts' APK entries as the scanner uses them."""

    block: blocklists.ApkBlocklist
    allow: blocklists.ApkBlocklist
    official_signers: Mapping[str, frozenset[str]]
    version: str


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def load_apk_lists(path: Path | str | None) -> ApkLists | None:
    """The APK list file (None when there is none); re-read when it changes."""
    if not path:
        return None
    key = _file_key(Path(path))
    return None if key is None else _load_apk_lists(str(path), key)


@lru_cache(maxsize=8)
def _load_apk_lists(path: str, _key: tuple[int, int]) -> ApkLists | None:
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None

    def bl(part: Mapping[str, Mapping[str, str]]) -> blocklists.ApkBlocklist:
        notes = {k: v for s in part.values() for k, v in s.items() if v}
        return blocklists.ApkBlocklist(frozenset(part["sha256"]), frozenset(part["packages"]),
                                       frozenset(part["signers"]), notes)

    return ApkLists(bl(doc["block"]), bl(doc["allow"]),
                    {k: frozenset(v) for k, v in doc["official_signers"].items()},
                    str(doc.get("version") or ""))


def apk_lists_version(path: Path | str | None) -> str:
    """The version of the APK list file ("" when absent or empty): part of the
    deduplication key of stored APK reports."""
    lists = load_apk_lists(path)
    return lists.version if lists is not None else ""
