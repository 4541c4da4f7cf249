"""Live-fetch scanner: follow a link the way a victim's browser would, safely.

:class:`LiveFetchScanner` walks the redirect chain of a link one guarded hop
at a time (:class:`scanners.fetch.GuardedFetcher` does the fetching and the
address checks) and reports what it saw:

* every hop with its status and the address connected to (``URL-NET-000``,
  no points), the chain crossing registrable domains (``URL-RED-001``), and
  the worst hop judged by the offline link scanner (its findings, tagged with
  the hop). Redirects are HTTP 3xx ``Location``, the ``Refresh`` header,
  ``<meta http-equiv="refresh">`` and simple literal script redirects
  (``location.href = "…"``, ``location.replace("…")``, ``window.location = "…"``);
  scripts are read as text, never run;
* a hop whose host resolves to an internal address (``URL-NET-001``): it is
  not connected to, and the walk stops there;
* a redirect to a target that no browser could follow (``URL-NET-002``,
  ``//[x/``, ``http://xn--/``): the walk stops and the check is incomplete.
  Targets are resolved with a WHATWG URL parser, so what browsers repair
  (``http:foo``, TAB or DEL in the path) is followed as they follow it;
* an invalid certificate (``URL-TLS-001``): the hop is not fetched insecurely;
* an Android app download (``URL-DL-001``), served by a hop or linked from the
  final page ("tải ứng dụng" links are probed with the same guards); only a
  digest of the bytes read is kept, never the file;
* on the final HTML page of a non-official host: government branding, forms
  asking for a CCCD number, an OTP or card details, passwords, download
  prompts and fake Google Play pages (``URL-PAGE-001``..``005``), matched with
  and without Vietnamese diacritics; a password or personal-data form over
  plain http (``URL-TLS-002``).

Timeouts, a chain longer than ``max_hops`` and a page larger than the body
limit stop the walk; what was found so far is raised in
:class:`~scanners.errors.ScanIncomplete` so the report lists the check as
incomplete. So does any unexpected exception (logged with its traceback):
whatever a site answers, a live check ends as findings or an incomplete
entry, never as an error of the API. Points come from :mod:`scanners.rules` only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import webencodings

import blocklists
from scanners.errors import ScamscanError, ScanIncomplete
from scanners.fetch import (
    DEFAULT_MAX_BODY,
    GuardedFetcher,
    HopResult,
    MalformedTarget,
    resolve_reference,
)
from scanners.findings import Finding, aggregate
from scanners.normalize import ParsedURL
from scanners.registry import Registry, fold_vietnamese, has_idn_label, registry
from scanners.url_offline import OfflineURLScanner, default_scanner

CHECK = "live_fetch"
"""The check name in the report's ``incomplete`` list."""
log = logging.getLogger("scamscan.live")
MAX_APK_HANDOFFS = 2
ApkHandler = Callable[[bytes, str], Awaitable[dict[str, Any]]]
"""Takes a downloaded APK's bytes and URL; answers what to link from the report."""

APK_TYPE = "application/vnd.android.package-archive"
_ZIP_MAGIC = b"PK\x03\x04"
# File names that only an APK's ZIP directory carries near its start.
_APK_ENTRIES = (b"AndroidManifest.xml", b"classes.dex", b"resources.arsc")
_ZIP_MAGIC_WINDOW = 65536
"""How far into a ZIP to look for APK entry names (local headers come first)."""
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_MAX_PROBES = 2
_PROBE_REDIRECTS = 3
_MAX_ITEMS = 2000
"""Cap on inputs, links and scripts kept from one page (memory bound)."""
_MAX_TEXT = 500_000
"""Cap on visible-text characters kept from one page."""

# --- page signals, on folded (no diacritics, lower-case) text --------------
_GOV_BRANDING = re.compile(
    r"\b(cong dich vu cong|dich vu cong quoc gia|bo cong an|vneid|"
    r"co so du lieu quoc gia ve dan cu)\b"
)
_DOWNLOAD_PROMPT = re.compile(
    r"\b(tai (?:xuong |ve )?ung dung|cai dat ung dung|tai app|cai app|"
    r"download (?:the )?app|install (?:the )?app)\b"
)
_PLAY_NAME = re.compile(r"\bgoogle ?play\b")
_PLAY_LAYOUT = re.compile(
    r"\b(luot tai|danh gia|chua co quang cao|co quang cao|mua hang trong ung dung|"
    r"play protect|gioi thieu ve ung dung nay|an toan du lieu|"
    r"downloads|reviews|contains ads|in-app purchases|about this app|data safety)\b"
)
_PLAY_ASSETS = ("play-lh.googleusercontent.com", "gstatic.com/android/market")
# What an input field asks for, on its folded descriptor (name, id,
# placeholder, label, aria-label, autocomplete), separators turned to spaces.
_FIELD_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cccd", re.compile(r"(?<![a-z])(cccd|cmnd|cmt)(?![a-z])|can cuoc|so dinh danh|"
                        r"chung minh nhan dan|citizen id|national id|id card")),
    ("otp", re.compile(r"(?<![a-z])otp(?![a-z])|ma xac (?:thuc|nhan|minh)|one time code|"
                       r"one time password")),
    ("card", re.compile(r"so the|card ?number|card ?no(?![a-z])|(?<![a-z])(cvv2?|cvc)(?![a-z])|"
                        r"ngay het han|expir|(?<![a-z])cc (number|csc|exp)")),
)
_FIELD_SEPARATORS = re.compile(r"[\s_\-.:\[\]]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_IGNORED_INPUTS = frozenset({"hidden", "submit", "button", "checkbox", "radio", "image",
                             "reset", "file", "range", "color"})

# --- redirects inside a page ----------------------------------------------
_REFRESH_URL = re.compile(r"""^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.*?)\1\s*$""",
                          re.I | re.S)
_JS_REDIRECT = re.compile(
    r"""(?:\b(?:window|document|top|self|parent)\s*\.\s*)?\blocation"""
    r"""(?:\s*\.\s*href)?\s*=\s*(['"`])([^'"`\s]+)\1"""
    r"""|\blocation\s*\.\s*(?:replace|assign)\s*\(\s*(['"`])([^'"`\s]+)\3\s*\)"""
)
_CHARSET_HEADER = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_CHARSET_META = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_SPACES = re.compile(r"\s+")
_DECIMAL = re.compile(r"[0-9]{1,18}")
_MAX_TARGET = 300
"""Characters of a malformed redirect target kept as evidence."""


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics, collapse whitespace."""
    return _SPACES.sub(" ", fold_vietnamese(text.lower())).strip()


@dataclass(slots=True)
class _Input:
    type: str
    descriptor: str
    label_id: str


@dataclass(slots=True)
class Page:
    """What :class:`_PageParser` kept from one HTML document."""

    title: str = ""
    text: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    refresh: str | None = None
    inputs: list[_Input] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    """(href, anchor text) of every ``<a>``."""
    assets: list[str] = field(default_factory=list)
    """``src``/``href`` of images, scripts and stylesheets."""


class _PageParser(HTMLParser):
    """Collects text, forms, links and redirects; never runs anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._skip = 0
        self._in_title = False
        self._in_script = False
        self._script: list[str] = []
        self._anchor: tuple[str, list[str]] | None = None
        self._labels: list[tuple[str, list[str], list[_Input]]] = []
        self._chars = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        p = self.page
        if tag in ("style", "template"):
            self._skip += 1
        elif tag == "script":
            self._in_script = True
            self._script = []
            if a.get("src") and len(p.assets) < _MAX_ITEMS:
                p.assets.append(a["src"])
        elif tag == "title":
            self._in_title = True
        elif tag == "meta":
            if a.get("http-equiv", "").strip().lower() == "refresh" and p.refresh is None:
                p.refresh = a.get("content", "")
        elif tag == "a":
            self._anchor = (a.get("href", ""), [])
        elif tag in ("img", "link", "source"):
            src = a.get("src") or a.get("href") or ""
            if src and len(p.assets) < _MAX_ITEMS:
                p.assets.append(src)
        elif tag == "label":
            self._labels.append((a.get("for", ""), [], []))
        elif tag in ("input", "textarea", "select") and len(p.inputs) < _MAX_ITEMS:
            kind = a.get("type", "text").strip().lower() if tag == "input" else tag
            parts = [a.get(k, "") for k in ("name", "id", "placeholder", "aria-label",
                                             "autocomplete", "title", "inputmode")]
            inp = _Input(kind, " ".join(x for x in parts if x), a.get("id", ""))
            p.inputs.append(inp)
            if self._labels:
                self._labels[-1][2].append(inp)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style", "template", "title", "a", "label"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        p = self.page
        if tag in ("style", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag == "script" and self._in_script:
            self._in_script = False
            if len(p.scripts) < _MAX_ITEMS:
                p.scripts.append("".join(self._script))
        elif tag == "title":
            self._in_title = False
        elif tag == "a" and self._anchor is not None:
            href, text = self._anchor
            if len(p.links) < _MAX_ITEMS:
                p.links.append((href, " ".join(text)))
            self._anchor = None
        elif tag == "label" and self._labels:
            for_id, text, inputs = self._labels.pop()
            label = " ".join(text)
            if for_id:
                p.labels[for_id] = label
            for inp in inputs:
                inp.descriptor += " " + label

    def handle_data(self, data: str) -> None:
        if self._in_script:
            if sum(map(len, self._script)) < _MAX_TEXT:
                self._script.append(data)
            return
        if self._skip:
            return
        p = self.page
        if self._in_title:
            p.title += data
        if self._chars < _MAX_TEXT:
            p.text.append(data)
            self._chars += len(data)
        if self._anchor is not None:
            self._anchor[1].append(data)
        for _, text, _ in self._labels:
            text.append(data)


def parse_page(html: str) -> Page:
    """Parse an HTML document (already bounded by the body limit)."""
    parser = _PageParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        # html.parser gives up on some broken markup; keep what it read.
        pass
    page = parser.page
    for inp in page.inputs:
        if inp.label_id and inp.label_id in page.labels:
            inp.descriptor += " " + page.labels[inp.label_id]
    return page


def decode_body(body: bytes, content_type: str) -> str:
    """The body as text, as a browser decodes it: a byte-order mark, else the header's
    charset, else a ``<meta charset>``, else UTF-8.

    Charset labels are the WHATWG Encoding Standard's (``webencodings``), the only
    ones browsers know. A page that names another codec is read as if it named none:
    Python's ``utf-7`` and ``unicode_escape`` decode ``+2AA-`` and ``\\ud800`` to lone
    UTF-16 surrogates, which no report can carry (a hostile page made the API answer
    500), and ``hex`` or ``zlib`` are not text at all."""
    m = _CHARSET_HEADER.search(content_type)
    enc = webencodings.lookup(m.group(1)) if m else None
    if enc is None:
        mb = _CHARSET_META.search(body[:4096])
        enc = webencodings.lookup(mb.group(1).decode("ascii", "replace")) if mb else None
        if enc is not None and enc.name in ("utf-16le", "utf-16be"):
            enc = webencodings.UTF8  # a <meta> cannot name UTF-16 (the HTML standard)
    text, _ = webencodings.decode(body, enc or webencodings.UTF8, errors="replace")
    return str(text)


def field_kinds(inp: _Input) -> set[str]:
    """What a form field asks for: ``password``, ``cccd``, ``otp``, ``card``."""
    if inp.type in _IGNORED_INPUTS:
        return set()
    out = {"password"} if inp.type == "password" else set()
    desc = fold(_FIELD_SEPARATORS.sub(" ", _CAMEL.sub(r"\1 \2", inp.descriptor)))
    for kind, pat in _FIELD_KINDS:
        if pat.search(desc):
            out.add(kind)
    return out


def page_redirect(page: Page) -> tuple[str, str] | None:
    """``(target, via)`` of a meta refresh or literal script redirect, if any."""
    if page.refresh is not None:
        target = refresh_target(page.refresh)
        if target:
            return target, "meta-refresh"
    for script in page.scripts:
        m = _JS_REDIRECT.search(script)
        if m:
            return (m.group(2) or m.group(4)), "script"
    return None


def refresh_target(value: str) -> str | None:
    """The URL of a ``Refresh`` value (``"0; url=/next"``), None when it has none."""
    m = _REFRESH_URL.match(value)
    target = m.group(2).strip() if m else ""
    return target or None


def is_html(hop: HopResult) -> bool:
    """Whether the hop's body is an HTML document."""
    ct = hop.content_type
    if ct in _HTML_TYPES:
        return True
    if ct in ("", "text/plain"):
        head = hop.body[:512].lstrip().lower()
        return head.startswith((b"<!doctype html", b"<html"))
    return False


def apk_signals(hop: HopResult, p: ParsedURL) -> list[str]:
    """How ``hop`` shows itself to be an APK download (empty when it is not one)."""
    if hop.status is None or not 200 <= hop.status < 300:
        return []
    out: list[str] = []
    if hop.content_type == APK_TYPE:
        out.append("content-type")
    disposition = hop.headers.get("content-disposition", "").lower()
    if re.search(r"filename\*?\s*=[^;]*\.apk\b", disposition):
        out.append("content-disposition")
    head = hop.body[:_ZIP_MAGIC_WINDOW]
    zip_magic = hop.body.startswith(_ZIP_MAGIC)
    if zip_magic and any(e in head for e in _APK_ENTRIES):
        out.append("apk-magic")
    # An .apk path alone is not enough: an error page at /x.apk is no download.
    path = p.path.split("?", 1)[0].split("#", 1)[0].lower()
    if path.endswith(".apk") and (zip_magic or not is_html(hop)):
        out.append("apk-path")
    if out and zip_magic and "apk-magic" not in out:
        out.append("zip-magic")
    return out


@dataclass(slots=True)
class _Hop:
    n: int
    parsed: ParsedURL
    via: str
    result: HopResult | None = None

    def entry(self) -> dict[str, Any]:
        r = self.result
        e: dict[str, Any] = {"url": self.parsed.url, "via": self.via,
                             "status": r.status if r else None, "ip": r.ip if r else None}
        if r is not None and r.refused is not None:
            e["refused"] = r.refused.cls
        if r is not None and r.blocked_port is not None:
            e["not_fetched"] = "port"
        if blocklists.platforms().is_shortener(self.parsed.host):
            e["shortener"] = True
        return e


class LiveFetchScanner:
    """Follows a link's redirect chain and inspects where it ends; see the module docstring.

    ``fetcher`` does every request (its address policy decides what may be
    fetched); ``offline`` judges each hop's URL; ``max_hops`` is the number of
    redirects followed; ``total_timeout`` bounds the whole scan (each hop gets
    what is left, at most the fetcher's own per-hop timeout); ``max_body``
    bounds every body read. A hop on a port the fetcher does not connect to
    (:attr:`GuardedFetcher.allowed_ports`) stops the walk as incomplete.
    """

    name = "live-fetch"

    def __init__(
        self,
        fetcher: GuardedFetcher,
        offline: OfflineURLScanner | None = None,
        *,
        max_hops: int = 10,
        total_timeout: float = 20.0,
        max_body: int = DEFAULT_MAX_BODY,
        reg: Registry | None = None,
        apk_handler: ApkHandler | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.apk_handler = apk_handler
        """Receives each complete APK download (bytes, URL); its answer (e.g. the
        APK scan's id and status URL) is linked from the URL-DL-001 evidence."""
        self.offline = offline if offline is not None else default_scanner()
        self.max_hops = max_hops
        self.total_timeout = total_timeout
        self.max_body = max_body
        self.reg = reg if reg is not None else registry()

    async def scan(self, target: ParsedURL) -> list[Finding]:
        """Findings about ``target``'s live behaviour; ScanIncomplete with partial ones."""
        run = _Run(self, target)
        try:
            await run.walk()
            await run.hand_off_apks()
            findings = run.findings()
        except Exception:
            # A bug, or an answer nobody foresaw: the report says the check
            # did not finish (never a 500, never a calm "complete" report),
            # and the traceback goes to the operators' log.
            log.exception("live check of %s stopped on an unexpected error", target.url)
            try:
                partial = run.findings()
            except Exception:
                partial = list(run.found)
            raise ScanIncomplete(
                CHECK, "the live check stopped on an unexpected error (logged for the "
                       "operators); only what it found before is listed",
                findings=partial) from None
        if run.incomplete is not None:
            raise ScanIncomplete(CHECK, run.incomplete, findings=findings)
        return findings

    def is_official(self, p: ParsedURL) -> bool:
        """Whether page signals are not scored on ``p``'s host (official or known good)."""
        reg = p.registrable_domain
        if has_idn_label(p.host):
            return False  # official names are ASCII (see URL-IMP-005)
        return (p.suffix == "gov.vn" or p.host.endswith(".gov.vn")
                or reg in self.reg.official or reg in self.reg.known_good)


class _Run:
    """The state of one scan, so that a stop at any point keeps what was found."""

    def __init__(self, scanner: LiveFetchScanner, target: ParsedURL) -> None:
        self.s = scanner
        self.target = target
        self.deadline = time.monotonic() + scanner.total_timeout
        self.chain: list[_Hop] = []
        self.found: list[Finding] = []
        self.downloads: list[dict[str, Any]] = []
        self.pages: dict[int, Page] = {}
        """Parsed pages by ``id()`` of their HopResult (kept alive by the chain)."""
        self.incomplete: str | None = None
        self.apks: dict[int, bytes] = {}
        """Complete APK bodies by index of their URL-DL-001 finding, for the hand-off."""

    def keep_apk(self, res: HopResult) -> None:
        # Only whole files go to the APK scanner; a truncated one is just a finding.
        if (self.s.apk_handler is not None and not res.truncated and res.body
                and len(self.apks) < MAX_APK_HANDOFFS):
            self.apks[len(self.found) - 1] = res.body

    async def hand_off_apks(self) -> None:
        """Give each complete APK to the handler; link its answer from the finding."""
        handler = self.s.apk_handler
        if handler is None:
            return
        for index, body in self.apks.items():
            f = self.found[index]
            try:
                async with asyncio.timeout(max(self.left(), 1.0)):
                    linked = await handler(body, str(f.evidence.get("url", "")))
            except (TimeoutError, OSError, ScamscanError) as e:
                linked = {"error": f"the APK could not be handed to the APK scanner: {e}"}
            self.found[index] = Finding(f.rule_id, {**f.evidence, "apk_scan": linked})
        self.apks.clear()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def out_of_time(self, what: str) -> bool:
        if self.left() > 0:
            return False
        self.incomplete = (f"the live check ran out of its {self.s.total_timeout:g} s budget "
                           f"before {what}")
        return True

    async def walk(self) -> None:
        current, via = self.target, "start"
        for n in range(self.s.max_hops + 1):
            if self.out_of_time(f"fetching hop {n} ({current.url})"):
                return
            hop = _Hop(n, current, via)
            self.chain.append(hop)
            res = await self.s.fetcher.fetch(current, time_left=self.left(),
                                              max_body=self.s.max_body)
            hop.result = res
            if not self._usable(res, n):
                return
            apk = apk_signals(res, current)
            if apk:
                self.found.append(self._download(res, apk, hop=n))
                self.keep_apk(res)
                return
            nxt = await self._next(res)
            if self.incomplete is not None:
                return
            if nxt is None:
                await self._final_page(hop)
                return
            if n == self.s.max_hops:
                self.incomplete = (f"the link redirects more than {self.s.max_hops} times; "
                                   f"stopped at {current.url}")
                return
            try:
                resolved = resolve_reference(current.url, nxt[0])
            except MalformedTarget as e:
                self.found.append(Finding("URL-NET-002", {
                    "hop": n, "hop_url": current.url, "via": nxt[1],
                    "target": nxt[0][:_MAX_TARGET], "reason": e.reason}))
                self.incomplete = (f"hop {n} ({current.url}) redirects to a malformed "
                                   f"address; the chain could not be followed")
                return
            if resolved is None:
                # javascript:, intent:, market: and the like: nothing to fetch.
                return
            current, via = resolved, nxt[1]

    def _usable(self, res: HopResult, n: int) -> bool:
        """Turn a failed hop into a finding or an incomplete reason; True when it is usable."""
        if res.refused is not None:
            # The class, never the address: a name's internal address is
            # internal DNS, not something to hand to whoever scans the link.
            self.found.append(Finding("URL-NET-001", {
                "host": res.refused.host, "class": res.refused.cls,
                "hop": n, "hop_url": res.url}))
            return False
        if res.blocked_port is not None:
            ports = ", ".join(map(str, sorted(self.s.fetcher.allowed_ports)))
            self.incomplete = (f"hop {n} ({res.url}) was not fetched: port "
                               f"{res.blocked_port} is not one the live check connects to "
                               f"(only {ports})")
            return False
        if res.tls_error is not None:
            self.found.append(Finding("URL-TLS-001", {
                "url": res.url, "hop": n, "error": res.tls_error}))
            return False
        if res.timed_out:
            self.incomplete = f"hop {n} ({res.url}) timed out ({res.error})"
            return False
        if res.error is not None:
            self.incomplete = f"hop {n} ({res.url}) could not be fetched: {res.error}"
            return False
        return True

    async def _next(self, res: HopResult) -> tuple[str, str] | None:
        status = res.status or 0
        if 300 <= status < 400 and res.headers.get("location"):
            return res.headers["location"].strip(), f"http-{status}"
        refresh = res.headers.get("refresh")
        if refresh:
            target = refresh_target(refresh)
            if target:
                return target, "refresh-header"
        if 200 <= status < 300 and is_html(res):
            page = await self._page(res)
            return page_redirect(page) if page is not None else None
        return None

    async def _page(self, res: HopResult) -> Page | None:
        """Parse the hop's HTML in a thread, within the budget (None when it ran out)."""
        if id(res) in self.pages:
            return self.pages[id(res)]
        # html.parser is pure Python: 2 MB take a noticeable time, and that
        # time must count against the budget like the network's.
        try:
            page = await asyncio.wait_for(
                asyncio.to_thread(parse_page, decode_body(
                    res.body, res.headers.get("content-type", ""))),
                max(self.left(), 0.0))
        except TimeoutError:
            self.incomplete = (f"the live check ran out of its {self.s.total_timeout:g} s "
                               f"budget while reading the page {res.url}")
            return None
        self.pages[id(res)] = page
        return page

    async def _final_page(self, hop: _Hop) -> None:
        res = hop.result
        if res is None or res.status is None or not 200 <= res.status < 300 or not is_html(res):
            return
        if res.truncated:
            self.incomplete = (f"the page {res.url} is larger than {self.s.max_body} bytes; "
                               f"only its beginning was checked")
        page = await self._page(res)
        if page is None:
            return
        p = hop.parsed
        kinds: dict[str, list[str]] = {}
        for inp in page.inputs:
            for k in field_kinds(inp):
                kinds.setdefault(k, []).append(inp.descriptor.strip()[:80] or inp.type)
        personal = sorted(kinds.keys() & {"password", "cccd", "otp", "card"})
        if p.scheme == "http" and personal:
            self.found.append(Finding("URL-TLS-002", {"url": p.url, "asks_for": personal}))
        if self.s.is_official(p):
            return
        self.found += page_findings(page, p, kinds)
        await self._probe_downloads(page, p)

    async def _probe_downloads(self, page: Page, p: ParsedURL) -> None:
        """Fetch (guarded) the page's app-download links, to confirm an APK."""
        candidates: list[str] = []
        for href, text in page.links:
            path = href.split("?", 1)[0].split("#", 1)[0].lower()
            wanted = path.endswith(".apk") or _DOWNLOAD_PROMPT.search(fold(text))
            if wanted and href not in candidates and not href.lower().startswith(
                    ("javascript:", "#", "mailto:", "tel:")):
                candidates.append(href)
        for href in candidates[:_MAX_PROBES]:
            try:
                first = resolve_reference(p.url, href)
            except MalformedTarget as e:
                self.downloads.append({"url": href[:_MAX_TARGET], "malformed": e.reason})
                continue
            if first is None:
                continue
            current = first
            for _ in range(_PROBE_REDIRECTS + 1):
                if self.out_of_time(f"checking the download link {current.url}"):
                    return
                res = await self.s.fetcher.fetch(current, time_left=self.left(),
                                                  max_body=self.s.max_body)
                note: dict[str, Any] = {"url": current.url, "status": res.status, "ip": res.ip}
                if res.refused is not None:
                    note["refused"] = res.refused.cls
                if res.blocked_port is not None:
                    note["not_fetched"] = "port"
                self.downloads.append(note)
                if res.timed_out:
                    self.incomplete = f"the download link {current.url} timed out"
                    return
                apk = apk_signals(res, current)
                if apk:
                    self.found.append(self._download(res, apk, linked_from=p.url))
                    self.keep_apk(res)
                    return
                location = res.headers.get("location")
                if res.status is None or not 300 <= res.status < 400 or not location:
                    break
                try:
                    nxt = resolve_reference(current.url, location)
                except MalformedTarget as e:
                    self.downloads.append({"url": location[:_MAX_TARGET], "malformed": e.reason})
                    break
                if nxt is None:
                    break
                current = nxt

    @staticmethod
    def _download(res: HopResult, how: list[str], *, hop: int | None = None,
                  linked_from: str | None = None) -> Finding:
        declared = res.headers.get("content-length", "")
        ev: dict[str, Any] = {
            "url": res.url,
            "content_type": res.headers.get("content-type"),
            "content_disposition": res.headers.get("content-disposition"),
            "declared_size": int(declared) if _DECIMAL.fullmatch(declared) else None,
            "detected_by": how,
            # A digest of what was read within the limit; the bytes themselves
            # are dropped with the HopResult, never stored or served.
            "sample": {"sha256": hashlib.sha256(res.body).hexdigest(), "size": len(res.body),
                       "complete": not res.truncated},
        }
        if hop is not None:
            ev["hop"] = hop
        if linked_from is not None:
            ev["linked_from"] = linked_from
        return Finding("URL-DL-001", ev)

    def findings(self) -> list[Finding]:
        """Everything found so far: chain, worst hop, redirects and the hop findings."""
        out: list[Finding] = []
        chain = [h.entry() for h in self.chain if h.result is not None]
        if any(h.result is not None and h.result.status is not None for h in self.chain):
            ev: dict[str, Any] = {"chain": chain, "final_url": self.chain[-1].parsed.url}
            if self.downloads:
                ev["download_links"] = self.downloads
            out.append(Finding("URL-NET-000", ev))
        keys = list(dict.fromkeys(h.parsed.registrable_domain or h.parsed.host
                                  for h in self.chain if h.result is not None))
        if len(keys) > 1:
            out.append(Finding("URL-RED-001", {"chain": chain, "domains": keys}))
        out += self._worst_hop()
        out += self.found
        return out

    def _worst_hop(self) -> list[Finding]:
        """The offline findings of the worst hop after the input, tagged with the hop."""
        best: tuple[int, _Hop, Iterable[Finding]] | None = None
        seen: set[str] = {self.target.url}
        for h in self.chain[1:]:
            if h.result is None or h.parsed.url in seen:
                continue
            seen.add(h.parsed.url)
            agg = aggregate(self.s.offline.check(h.parsed))
            # Only counted findings: an official hop's allowlist finding must
            # never zero the input's findings (a scam may end on a real site).
            if agg.risk_score > 0 and (best is None or agg.risk_score > best[0]):
                best = (agg.risk_score, h, agg.counted)
        if best is None:
            return []
        _, hop, counted = best
        # What the input itself already shows (same port, same scheme, an IP
        # host…) would only be listed again with 0 points: leave it out.
        own = {(f.rule_id, repr(sorted(f.evidence.items())))
               for f in self.s.offline.check(self.target)}
        return [Finding(f.rule_id, {**f.evidence, "hop": hop.n, "hop_url": hop.parsed.url})
                for f in counted
                if (f.rule_id, repr(sorted(f.evidence.items()))) not in own]


def page_findings(page: Page, p: ParsedURL, kinds: dict[str, list[str]]) -> list[Finding]:
    """URL-PAGE-* findings for a page of a non-official host."""
    out: list[Finding] = []
    text = fold(" ".join(page.text))
    gov = sorted(set(m.group(1) for m in _GOV_BRANDING.finditer(text)))
    if gov:
        out.append(Finding("URL-PAGE-001", {"url": p.url, "matched": gov}))
    asks = {k: v[:5] for k, v in kinds.items() if k in ("cccd", "otp", "card")}
    if asks:
        out.append(Finding("URL-PAGE-002", {"url": p.url, "asks_for": sorted(asks),
                                            "fields": asks}))
    prompts = sorted(set(m.group(1) for m in _DOWNLOAD_PROMPT.finditer(text)))
    apk_links = [h for h, _ in page.links
                 if h.split("?", 1)[0].split("#", 1)[0].lower().endswith(".apk")][:5]
    if prompts or apk_links:
        out.append(Finding("URL-PAGE-003", {"url": p.url, "matched": prompts,
                                            "apk_links": apk_links}))
    if p.host != "play.google.com" and _PLAY_NAME.search(text):
        title = fold(page.title)
        layout = sorted(set(m.group(1) for m in _PLAY_LAYOUT.finditer(text)))
        assets = sorted({a for a in page.assets for s in _PLAY_ASSETS if s in a.lower()})[:5]
        if _PLAY_NAME.search(title) or len(layout) >= 2 or assets:
            out.append(Finding("URL-PAGE-004", {"url": p.url, "title": page.title.strip()[:120],
                                                "layout_words": layout, "assets": assets}))
    if "password" in kinds:
        out.append(Finding("URL-PAGE-005", {"url": p.url, "fields": kinds["password"][:5]}))
    return out

