"""Bundled scam blocklists, platform lists and Vietnamese reference data.

Everything here is read from files shipped inside the package (``blocklists/data``),
never fetched at run time. ``python -m blocklists.build --data DIR`` regenerates them
from the pinned public snapshots; ``blocklists/ATTRIBUTION.md`` names every source,
commit and licence.

Matching semantics (:meth:`BlocklistIndex.lookup`), "as each source means it":

* **domain lists** (hostsVN ``threat-VN``, ChongLuaDao v2): an entry matches the
  host itself and every subdomain of it (the host's parent labels are walked down to
  the registrable domain, one set look-up each).
* **URL lists** (ChongLuaDao v1, ChongLuaDao 2021): an entry without a path matches
  the exact host, ignoring a leading ``www.`` on either side; an entry with a path
  matches only that host (same ``www.`` rule) when the request path starts with the
  entry's path at a boundary (``/``, ``?``, ``#``, ``&`` or the end). Paths are
  compared case-sensitively after percent-decoding and NFC.
* **shared platforms**: an entry that is itself a shared platform (any host on the
  sublime-security platform/shortener lists) matches that exact host only, never
  its subdomains. Entries that are a huge first-party platform or one of its
  subdomains (``facebook.com``, ``m.facebook.com``, ``google.com``, ``zalo.me`` …) or
  a curated user-site platform host (``weebly.com``, ``sites.google.com``,
  ``github.io`` …) never match as a host: lists that cut URLs down to their host
  would otherwise flag the whole platform. Their path entries still match by URL.

Exception tree::

    BlocklistError(Exception)      root of everything this package raises
     └── ListDataError             a bundled data file is missing or corrupt
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import pathlib
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = [
    "FIRST_PARTY_PLATFORMS",
    "USER_SITE_PLATFORMS",
    "ApkBlocklist",
    "BlocklistError",
    "BlocklistHit",
    "BlocklistIndex",
    "ListDataError",
    "PlatformLists",
    "SourceInfo",
    "apk_blocklist",
    "banks",
    "data_dir",
    "known_good",
    "load_apk_blocklist",
    "never_host_match",
    "platforms",
    "rdap_bootstrap_path",
    "scam_vocab",
]

_DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"

FIRST_PARTY_PLATFORMS: frozenset[str] = frozenset({
    "facebook.com", "fb.com", "fb.me", "fb.watch", "messenger.com", "instagram.com",
    "whatsapp.com", "google.com", "google.com.vn", "youtube.com", "youtu.be", "goo.gl",
    "gmail.com", "apple.com", "icloud.com", "microsoft.com", "live.com", "outlook.com",
    "office.com", "twitter.com", "x.com", "t.co", "tiktok.com", "telegram.org", "t.me",
    "zalo.me", "zalo.vn", "zaloapp.com", "linkedin.com", "amazon.com", "alchemer.com",
})
"""Registrable domains whose every subdomain belongs to the platform itself.

A host- or domain-semantics list entry equal to one of these or under one of them is
never matched as a host (it can only be an artefact of cutting a URL to its host)."""

USER_SITE_PLATFORMS: frozenset[str] = frozenset({
    "github.io", "blogspot.com", "weebly.com", "weeblysite.com", "wixsite.com", "wix.com",
    "wordpress.com", "sites.google.com", "docs.google.com", "forms.gle", "web.app",
    "firebaseapp.com", "netlify.app", "vercel.app", "pages.dev", "herokuapp.com",
    "glitch.me", "000webhostapp.com", "mystrikingly.com", "business.site", "square.site",
    "notion.site", "webflow.io", "tumblr.com", "medium.com", "bit.ly", "tinyurl.com",
})
"""Huge platforms where users get their own subdomain or page.

An entry equal to one of these hosts (or its ``www.`` form) never matches; entries
for the users' subdomains match normally."""


class BlocklistError(Exception):
    """Root of every exception raised by :mod:`blocklists`."""


class ListDataError(BlocklistError):
    """A bundled data file is missing, unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class BlocklistHit:
    """One list entry that matched a looked-up host or URL."""

    source: str
    """Human name of the list, e.g. ``"hostsVN threat-VN"``."""
    entry: str
    """The list entry that matched, as written in the bundled file."""
    match: str
    """``"domain"`` (host or parent on a domain list), ``"host"`` (exact host) or ``"url"``."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Provenance and size of one bundled blocklist."""

    name: str
    file: str
    """File name inside :func:`data_dir`."""
    licence: str
    homepage: str
    entries: int
    """Entries in the bundled file."""
    semantics: str
    """``"domain"`` or ``"url"`` (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class _Source:
    name: str
    file: str
    licence: str
    homepage: str
    semantics: str


_SOURCES: tuple[_Source, ...] = (
    _Source("hostsVN threat-VN", "hostsvn_threat_vn.txt", "MIT",
            "https://github.com/bigdargon/hostsVN", "domain"),
    _Source("ChongLuaDao v2", "chongluadao_v2.txt", "CC0-1.0",
            "https://github.com/curbengh/vn-badsite-filter", "domain"),
    _Source("ChongLuaDao v1", "chongluadao_v1.txt", "BSD-3-Clause",
            "https://github.com/elliotwutingfeng/ChongLuaDao-Phishing-Blocklist", "url"),
    _Source("ChongLuaDao 2021", "chongluadao_2021.txt", "MIT",
            "https://github.com/7zones/chongluadao-extension", "url"),
)

_PATH_BOUNDARY = frozenset("/?#&")
_HIT_CACHE_MAX = 100_000


def data_dir() -> pathlib.Path:
    """Directory holding the bundled data files."""
    return _DATA_DIR


def rdap_bootstrap_path() -> pathlib.Path:
    """Path of the bundled IANA RDAP bootstrap file for domains (``rdap_dns.json``)."""
    path = _DATA_DIR / "rdap_dns.json"
    if not path.is_file():
        raise ListDataError(f"bundled file missing: {path}")
    return path


def _read_text(name: str) -> str:
    path = _DATA_DIR / name
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ListDataError(f"cannot read bundled file {name}: {e}") from e


def _read_lines(name: str) -> list[str]:
    """Data lines of a bundled list: ``#`` comments and blank lines dropped."""
    out = []
    for line in _read_text(name).splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            out.append(s)
    if not out:
        raise ListDataError(f"bundled file {name} has no entries")
    return out


def _read_csv(name: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    body = "\n".join(line for line in _read_text(name).splitlines() if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body)))
    if not rows or any(c not in rows[0] for c in required):
        raise ListDataError(f"bundled file {name} lacks columns {required}")
    return rows


def _strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def _norm_path(path: str) -> str:
    """Path (with query) percent-decoded and NFC-normalised, for prefix comparison."""
    if "%" in path:
        path = unquote(path, errors="surrogateescape")
    if not path.isascii():
        path = unicodedata.normalize("NFC", path)
    return path


def _first_segment(path: str) -> str:
    """First path segment, up to ``/``, ``?``, ``#`` or ``&`` (percent-decoded)."""
    p = _norm_path(path).lstrip("/")
    for i, c in enumerate(p):
        if c in _PATH_BOUNDARY:
            return p[:i]
    return p


@dataclass(frozen=True)
class PlatformLists:
    """The sublime-security platform lists (TLDs, shorteners, free hosting)."""

    suspicious_tlds: frozenset[str]
    url_shorteners: frozenset[str]
    free_subdomain_hosts: frozenset[str]
    free_file_hosts: frozenset[str]
    self_service_platforms: frozenset[str]

    def platform_of(self, host: str) -> tuple[str, str] | None:
        """``(list name, platform)`` when ``host`` is a strict subdomain of a platform.

        The lists are ``free_subdomain_hosts``, ``self_service_platforms``,
        ``free_file_hosts`` and the curated :data:`USER_SITE_PLATFORMS`; the nearest
        enclosing platform wins. The platform host
        itself (and any host not under one) gives None.
        """
        h = host.lower().rstrip(".")
        i = h.find(".")
        while i >= 0:
            parent = h[i + 1:]
            if "." not in parent:
                return None
            if parent in self.free_subdomain_hosts:
                return ("free_subdomain_hosts", parent)
            if parent in self.self_service_platforms:
                return ("self_service_platforms", parent)
            if parent in self.free_file_hosts:
                return ("free_file_hosts", parent)
            if parent in USER_SITE_PLATFORMS and parent not in self.url_shorteners:
                return ("user_site_platforms", parent)
            i = h.find(".", i + 1)
        return None

    def is_shortener(self, host: str) -> bool:
        """True when ``host`` or its ``www.`` form equals a listed URL shortener."""
        h = host.lower().rstrip(".")
        s = self.url_shorteners
        return h in s or ("www." + h) in s or (h.startswith("www.") and h[4:] in s)

    def suspicious_tld(self, suffix: str) -> str | None:
        """The listed TLD matched by this public suffix (whole suffix or its last label)."""
        s = suffix.lower().strip(".")
        if not s:
            return None
        if s in self.suspicious_tlds:
            return s
        last = s.rsplit(".", 1)[-1]
        return last if last in self.suspicious_tlds else None

    def shared_hosts(self) -> frozenset[str]:
        """Every host on the shortener, free-subdomain, file-host and self-service lists."""
        return (self.url_shorteners | self.free_subdomain_hosts | self.free_file_hosts
                | self.self_service_platforms)


@functools.cache
def platforms() -> PlatformLists:
    """The bundled sublime-security platform lists (loaded once)."""

    def load(name: str) -> frozenset[str]:
        return frozenset(x.lower() for x in _read_lines(f"sublime/{name}"))

    return PlatformLists(
        suspicious_tlds=load("suspicious_tlds.txt"),
        url_shorteners=load("url_shorteners.txt"),
        free_subdomain_hosts=load("free_subdomain_hosts.txt"),
        free_file_hosts=load("free_file_hosts.txt"),
        self_service_platforms=load("self_service_creation_platform_domains.txt"),
    )


def _under_first_party(host: str) -> bool:
    """True when ``host`` is a first-party platform or one of its subdomains."""
    h = host
    while True:
        if h in FIRST_PARTY_PLATFORMS:
            return True
        i = h.find(".")
        if i < 0:
            return False
        h = h[i + 1:]


def never_host_match(host: str) -> bool:
    """True for hosts that no list entry may flag as a whole (huge shared platforms)."""
    s = _strip_www(host)
    return s in USER_SITE_PLATFORMS or _under_first_party(s)


class BlocklistIndex:
    """All bundled blocklists, indexed for constant-time look-ups by host."""

    __slots__ = ("_domain", "_exact", "_hit_cache", "_hu", "_infos", "_names")

    def __init__(self, lists: dict[str, list[str]]) -> None:
        """Index ``lists`` (file name -> entries) of the known sources.

        Most callers want :meth:`bundled`; this constructor is for tests and tools
        that bring their own entries.
        """
        shared = platforms().shared_hosts()
        self._names: tuple[str, ...] = tuple(s.name for s in _SOURCES)
        # host/domain -> bitmask of sources (bit i = _SOURCES[i])
        self._domain: dict[str, int] = {}
        self._exact: dict[str, int] = {}
        # www-stripped host -> (((bit, entry), ...) exact-host entries,
        #     {first path segment: ((normalised path, bit, entry), ...)} URL entries)
        self._hu: dict[str, tuple[tuple[tuple[int, str], ...],
                                  dict[str, tuple[tuple[str, int, str], ...]]]] = {}
        self._hit_cache: dict[tuple[int, str, str], BlocklistHit] = {}
        infos = []
        for idx, src in enumerate(_SOURCES):
            entries = lists.get(src.file, [])
            infos.append(SourceInfo(src.name, src.file, src.licence, src.homepage,
                                    len(entries), src.semantics))
            bit = 1 << idx
            if src.semantics == "domain":
                self._add_domain(entries, bit, shared)
            else:
                self._add_url(entries, bit)
        self._infos = tuple(infos)

    def _add_domain(self, entries: list[str], bit: int, shared: frozenset[str]) -> None:
        dom, exact = self._domain, self._exact
        for raw in entries:
            e = raw.lower()
            if "/" in e or "." not in e:
                continue
            if never_host_match(e):
                continue
            if e in shared or _strip_www(e) in shared:
                exact[e] = exact.get(e, 0) | bit
            else:
                dom[e] = dom.get(e, 0) | bit

    def _add_url(self, entries: list[str], bit: int) -> None:
        host_map: dict[str, list[tuple[int, str]]] = {}
        url_map: dict[str, list[tuple[str, int, str]]] = {}
        for raw in entries:
            slash = raw.find("/")
            if slash < 0:
                h = raw.lower()
                if "." not in h or never_host_match(h):
                    continue
                host_map.setdefault(_strip_www(h), []).append((bit, raw))
            else:
                h = raw[:slash].lower()
                path = _norm_path(raw[slash:])
                if path in ("/", ""):
                    if never_host_match(h):
                        continue
                    host_map.setdefault(_strip_www(h), []).append((bit, raw))
                else:
                    url_map.setdefault(_strip_www(h), []).append((path, bit, raw))
        hu = self._hu
        for k, v in host_map.items():
            old = hu.get(k)
            hu[k] = (old[0] + tuple(v), old[1]) if old else (tuple(v), {})
        for k, w in url_map.items():
            if k not in hu:
                hu[k] = ((), {})
            buckets = hu[k][1]
            for t in w:
                seg = _first_segment(t[0])
                buckets[seg] = (*buckets.get(seg, ()), t)

    @classmethod
    def bundled(cls) -> BlocklistIndex:
        """The index of the bundled lists, loaded once per process."""
        return _bundled_index()

    def lookup(self, host: str, registrable_domain: str, path: str = "/") -> list[BlocklistHit]:
        """Every list entry matching ``host`` (and ``path``), as each source means it.

        ``host`` is the ASCII (punycode) host, ``registrable_domain`` its registrable
        domain ("" for IP addresses), ``path`` the path with query as requested.
        Returns one hit per matching entry, domain lists first; empty when clean.
        """
        h = host.lower()
        if h[-1:] == ".":
            h = h.rstrip(".")
        hits: list[BlocklistHit] = []
        # domain lists: the host, then its parents down to the registrable domain
        dom = self._domain
        m = dom.get(h)
        if m:
            self._add_hits(hits, m, h, "domain")
        rd = registrable_domain
        n = len(rd)
        minlen = n if n and h.endswith(rd) and (len(h) == n or h[-n - 1] == ".") else 0
        s = h[4:] if h.startswith("www.") else h
        end = len(h) - 1
        i = h.find(".")
        while i >= 0 and end - i >= minlen:
            p = s if i == 3 and s is not h else h[i + 1:]
            m = dom.get(p)
            if m:
                self._add_hits(hits, m, p, "domain")
            i = h.find(".", i + 1)
        if self._exact:
            m = self._exact.get(h)
            if m:
                self._add_hits(hits, m, h, "host")
        # URL lists: exact host (www.-insensitive), then URL prefixes on that host
        v = self._hu.get(s)
        if v is not None:
            pairs, buckets = v
            if pairs:
                best: dict[int, str] = {}
                for bit, entry in pairs:
                    if bit not in best or entry.lower() == h:
                        best[bit] = entry
                for bit, entry in best.items():
                    hits.append(self._hit(bit, entry, "host"))
            triples = buckets.get(_first_segment(path)) if buckets else None
            if triples:
                req = _norm_path(path or "/")
                for prefix, bit, entry in triples:
                    if req.startswith(prefix) and (
                        len(req) == len(prefix) or prefix[-1] in _PATH_BOUNDARY
                        or req[len(prefix)] in _PATH_BOUNDARY
                    ):
                        hits.append(self._hit(bit, entry, "url"))
        return hits

    def _add_hits(self, hits: list[BlocklistHit], mask: int, entry: str, kind: str) -> None:
        if mask & (mask - 1) == 0:
            hits.append(self._hit(mask, entry, kind))
            return
        bit = 1
        while bit <= mask:
            if mask & bit:
                hits.append(self._hit(bit, entry, kind))
            bit <<= 1

    def _hit(self, bit: int, entry: str, kind: str) -> BlocklistHit:
        key = (bit, entry, kind)
        hit = self._hit_cache.get(key)
        if hit is None:
            hit = BlocklistHit(self._names[bit.bit_length() - 1], entry, kind)
            if len(self._hit_cache) < _HIT_CACHE_MAX:
                self._hit_cache[key] = hit
        return hit

    def sources(self) -> list[SourceInfo]:
        """Provenance and entry counts of the indexed lists."""
        return list(self._infos)


@functools.cache
def _bundled_index() -> BlocklistIndex:
    return BlocklistIndex({s.file: _read_lines(s.file) for s in _SOURCES})


@functools.cache
def _known_good() -> dict[str, str]:
    rows = _read_csv("known_good.csv", ("registrable_domain", "category", "sources"))
    return {r["registrable_domain"]: r["category"] for r in rows}


def known_good() -> dict[str, str]:
    """Known-good Vietnamese registrable domains -> category (gov.vn / edu.vn / other.vn).

    Returns a fresh copy of the cached mapping.
    """
    return dict(_known_good())


@functools.cache
def _banks() -> tuple[dict[str, str], ...]:
    cols = ("code", "name_vi", "name_en", "registrable_domain")
    return tuple(_read_csv("banks.csv", cols))


def banks() -> list[dict[str, str]]:
    """Vietnamese banks: ``code``, ``name_vi``, ``name_en``, ``registrable_domain`` …"""
    return [dict(r) for r in _banks()]


@functools.cache
def scam_vocab() -> frozenset[str]:
    """Unaccented Vietnamese scam tokens (e.g. ``khachhang``) learned from the lists."""
    return frozenset(line.split("\t", 1)[0] for line in _read_lines("scam_vocab.txt"))


@dataclass(frozen=True)
class ApkBlocklist:
    """Known-bad Android apps: file sha256, package names and signer sha256.

    Matching is exact (lower-case hex; package names as written). ``notes``
    keeps the note of each entry for the evidence.
    """

    sha256: frozenset[str] = frozenset()
    packages: frozenset[str] = frozenset()
    signers: frozenset[str] = frozenset()
    notes: dict[str, str] = dataclasses.field(default_factory=dict)

    def merged(self, other: ApkBlocklist) -> ApkBlocklist:
        return ApkBlocklist(self.sha256 | other.sha256, self.packages | other.packages,
                            self.signers | other.signers, {**self.notes, **other.notes})


def _apk_entries(doc: object, key: str, lower: bool) -> tuple[set[str], dict[str, str]]:
    values: set[str] = set()
    notes: dict[str, str] = {}
    items = doc.get(key, []) if isinstance(doc, dict) else []
    if not isinstance(items, list):
        raise ListDataError(f"APK blocklist: {key!r} must be a list")
    for item in items:
        value, note = (item, "") if isinstance(item, str) else (
            (item.get(key.rstrip("s") if key != "sha256" else "sha256") or item.get("value"),
             str(item.get("note", ""))) if isinstance(item, dict) else (None, ""))
        if not isinstance(value, str) or not value.strip():
            raise ListDataError(f"APK blocklist: bad {key} entry {item!r}")
        v = value.strip().lower() if lower else value.strip()
        values.add(v)
        if note:
            notes[v] = note
    return values, notes


def load_apk_blocklist(path: pathlib.Path) -> ApkBlocklist:
    """An APK blocklist file: JSON with ``sha256``, ``packages`` and ``signers`` lists
    (strings, or objects with the value and a ``note``)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ListDataError(f"cannot read the APK blocklist {path}: {e}") from e
    sha, n1 = _apk_entries(doc, "sha256", True)
    pkgs, n2 = _apk_entries(doc, "packages", False)
    signers, n3 = _apk_entries(doc, "signers", True)
    return ApkBlocklist(frozenset(sha), frozenset(pkgs), frozenset(signers), {**n1, **n2, **n3})


@functools.cache
def apk_blocklist() -> ApkBlocklist:
    """The bundled APK blocklist (``data/apk_blocklist.json``), loaded once."""
    return load_apk_blocklist(_DATA_DIR / "apk_blocklist.json")
