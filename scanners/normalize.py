"""Turn what people paste into one canonical URL.

Chats and warnings carry links in many shapes: bare hosts, defanged IOCs
(``hxxp://``, ``dichvucong[.]gov[.]vn``, ``(dot)``), spaces around dots,
zero-width and full-width characters, Unicode or punycode IDN, the userinfo
trick (``https://dichvucong.gov.vn@evil.top/``) and numeric IP forms
(``http://3232235777/``, ``0xC0.0xA8.1.1``). :func:`normalize` accepts all of
them and returns a :class:`ParsedURL`, or raises
:class:`~scanners.errors.InvalidURLError` with a reason a user can read.

The parser is hand-written on purpose: ``urllib.parse`` neither decodes
defanged forms nor parses IPv4 the way browsers do (WHATWG URL standard), and
both matter here, because the browser's reading is the one that takes the
victim somewhere. Public suffixes come from tldextract's bundled snapshot,
never fetched at run time.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

import idna
import tldextract

from scanners.errors import InvalidURLError

MAX_INPUT_CHARS = 8192
MAX_HOST_CHARS = 253

# Offline by design: suffix_list_urls=() makes tldextract use the snapshot it
# ships with, and cache_dir=None keeps it from writing anywhere.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"),
    None,
)
# Dots that IDNA (UTS #46) treats as label separators, after NFKC.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})

_DEFANG = [
    (re.compile(r"^h[xX*]{2}p(s?)", re.I), r"http\1", "hxxp"),
    (re.compile(r"^fxp(s?)", re.I), r"ftp\1", "hxxp"),
    (re.compile(r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}", re.I), ".",
     "[.]"),
    (re.compile(r"\s+(?:dot|chấm|cham)\s+", re.I), ".", "dot-word"),
    (re.compile(r"\[\s*:\s*\]|\[://\]|\[:/\]"), ":", "[:]"),
    (re.compile(r"\[\s*@\s*\]|\(\s*at\s*\)|\[at\]", re.I), "@", "[@]"),
    (re.compile(r"\s*([./:])\s*"), r"\1", "spaces"),
]
# Cheap pre-check: most inputs carry none of the defanging marks, and the
# seven substitutions below are the costliest part of normalising a host.
_MAYBE_DEFANGED = re.compile(r"[\[\](){}\s]|^[hf][xX*]{1,2}p", re.I)
_WHITESPACE = re.compile(r"\s")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_PORT_AFTER = re.compile(r"[0-9]*(?:[/?#]|$)")
# \Z, not $: "$" also matches before a final newline, which let "example.com\n"
# through the fast path with the newline in the host.
_SIMPLE_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\Z")
_VALID_HOST = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRAILING_JUNK = ".,;:!?)]}>'\"’”»"
_LEADING_JUNK = "([{<'\"‘“«"
_OPENER = {")": "(", "]": "[", "}": "{", ">": "<"}
# "[::1]" or "[2001:db8::1]:8080/x": the bracket belongs to an IPv6 literal.
_IPV6_START = re.compile(r"\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\]")


# Not frozen on purpose: a frozen dataclass pays object.__setattr__ per field,
# which was a tenth of the cost of normalising a host. Treat it as immutable.
@dataclass(slots=True)
class ParsedURL:
    """A normalised URL, with the parts the scanners look at (treat as read-only)."""

    input: str
    """What the caller gave, unchanged."""
    url: str
    """Canonical URL: scheme, punycode host, port only when not default, path."""
    scheme: str
    host: str
    """ASCII (punycode) host, lower case, no trailing dot; an IP in its canonical form."""
    host_unicode: str
    """The host as a reader sees it (IDN decoded)."""
    port: int | None
    """Explicit non-default port, else None."""
    path: str
    """Path, query and fragment as given ("/" when empty)."""
    userinfo: str | None
    """What stood before '@' in the authority, decoded; None when absent."""
    ip: str | None
    """Canonical IP address when the host is an IP literal."""
    registrable_domain: str
    """tldextract's top domain under the ICANN public suffix ("" for IPs)."""
    domain: str
    """The label left of the public suffix ("" for IPs)."""
    suffix: str
    """The ICANN public suffix ("" for IPs or unknown TLDs)."""
    subdomain: str
    scheme_given: bool
    """False when the input was a bare host and http was assumed."""
    deobfuscated: tuple[str, ...] = field(default=())
    """Which obfuscations were decoded (hxxp, [.], spaces, zero-width, full-width)."""

    @property
    def labels(self) -> tuple[str, ...]:
        """Host labels, left to right (empty for IPs)."""
        return () if self.ip else tuple(self.host.split("."))

    @property
    def subdomain_labels(self) -> tuple[str, ...]:
        return tuple(self.subdomain.split(".")) if self.subdomain else ()


def _clean(text: str, tricks: list[str]) -> str:
    s = text.strip()
    t = s.translate(_ZERO_WIDTH)
    if t != s:
        tricks.append("zero-width")
        s = t
    if not s.isascii():
        t = unicodedata.normalize("NFKC", s).translate(_DOTS)
        if t != s:
            tricks.append("full-width")
            s = t
    # Before the "spaces" rule, so that "a\\ b" and "a/ b" end up alike.
    s = _strip_junk(s).replace("\\", "/")
    if not _MAYBE_DEFANGED.search(s):
        return s
    for pat, repl, name in _DEFANG:
        t = pat.sub(repl, s)
        if t != s:
            if name != "spaces" or "://" not in t or t.count(" ") < s.count(" "):
                tricks.append(name)
            s = t
    return s


def _strip_junk(s: str) -> str:
    """Drop the quotes, brackets and punctuation a chat puts around a link.

    Strips to a fixed point (whitespace between junk included), so that an
    output URL normalises to itself, and keeps a closing bracket that the link
    opened itself (``[::1]``, ``/wiki/Foo_(bar)``).
    """
    i, j = 0, len(s)
    count: dict[str, int] | None = None  # bracket counts, only when needed
    while i < j:
        c = s[i]
        if c.isspace() or (c in _LEADING_JUNK and not _IPV6_START.match(s, i)):
            i += 1
        else:
            c = s[j - 1]
            if c.isspace() or c in _TRAILING_JUNK:
                if c in _OPENER:
                    if count is None:
                        count = {b: s.count(b, i, j) for b in "()[]{}<>"}
                    if count[_OPENER[c]] >= count[c]:
                        break
                j -= 1
            else:
                break
        if count is not None and c in count:
            count[c] -= 1
    return s[i:j]


def _parse_ipv4_part(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        if not part.isdigit() or any(c in "89" for c in part):
            raise InvalidURLError(f"invalid octal number {part!r} in IPv4 address")
        return int(part, 8)
    return int(part)


def _parse_ipv4(host: str) -> str | None:
    """WHATWG IPv4 parsing: None when the host does not end in a number."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not _NUMERIC_PART.match(parts[-1]):
        return None
    if len(parts) > 4 or any(not _NUMERIC_PART.match(p) for p in parts):
        raise InvalidURLError(f"{host!r} ends in a number but is not an IPv4 address")
    nums = [_parse_ipv4_part(p) for p in parts]
    if any(n > 255 for n in nums[:-1]) or nums[-1] >= 256 ** (5 - len(nums)):
        raise InvalidURLError(f"IPv4 address {host!r} is out of range")
    value = nums[-1]
    for i, n in enumerate(nums[:-1]):
        value += n * 256 ** (3 - i)
    return str(ipaddress.IPv4Address(value))


def _split_authority(rest: str) -> tuple[str, str]:
    for i, c in enumerate(rest):
        if c in "/?#":
            return rest[:i], rest[i:]
    return rest, ""


@lru_cache(maxsize=32768)
def _host_forms(raw: str) -> tuple[str, str, str | None]:
    """(ascii host, unicode host, ip) for a raw host; raises InvalidURLError."""
    h = raw.rstrip(".").lower() if raw != "." else ""
    if not h:
        raise InvalidURLError("the URL has no host")
    if h.startswith("["):
        if not h.endswith("]"):
            raise InvalidURLError("unterminated IPv6 address")
        try:
            ip6 = ipaddress.IPv6Address(h[1:-1].split("%")[0])
        except ValueError as e:
            raise InvalidURLError(f"invalid IPv6 address: {e}") from None
        return f"[{ip6.compressed}]", f"[{ip6.compressed}]", ip6.compressed
    if _SIMPLE_HOST.match(h) and "xn--" not in h:
        # Only a host whose last label starts with a digit can be an IPv4 form.
        if h[h.rfind(".") + 1 :][:1].isdigit():
            ip = _parse_ipv4(h)
            if ip is not None:
                return ip, ip, ip
        if len(h) <= MAX_HOST_CHARS and _VALID_HOST.match(h):
            return h, h, None  # the common case: one regex instead of one per label
        ascii_host = h
        uni = h
    else:
        if any(c in h for c in " \t\r\n/\\@%<>\"'`{}|^"):
            raise InvalidURLError(f"the host {raw!r} contains characters not allowed in a host")
        try:
            ascii_host = idna.encode(h, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            try:
                ascii_host = h.encode("idna").decode("ascii").lower()
            except UnicodeError:
                raise InvalidURLError(
                    f"the host {raw!r} is not a valid (internationalised) domain name"
                ) from None
        ip = _parse_ipv4(ascii_host)
        if ip is not None:
            return ip, ip, ip
        try:
            uni = idna.decode(ascii_host) if "xn--" in ascii_host else ascii_host
        except (idna.IDNAError, UnicodeError, ValueError):
            # Browsers show a punycode label they cannot decode as is; so do we.
            uni = ascii_host
    if len(ascii_host) > MAX_HOST_CHARS:
        raise InvalidURLError(f"the host is longer than {MAX_HOST_CHARS} characters")
    for label in ascii_host.split("."):
        if not _LABEL_RE.match(label):
            if not label:
                raise InvalidURLError(f"the host {raw!r} has an empty label")
            raise InvalidURLError(f"the host label {label!r} is not a valid DNS label")
    return ascii_host, uni, None


@cache
def _suffix_trie_paths() -> frozenset[str]:
    """Every right-hand part of a public-suffix rule (``jp``, ``kawasaki.jp``,
    ``*.kawasaki.jp``): the names where tldextract's trie walk can go on."""
    out: set[str] = set()
    for rule in _EXTRACT.tlds:
        labels = rule.lstrip("!").split(".")
        out.update(".".join(labels[i:]) for i in range(len(labels)))
    return frozenset(out)


@lru_cache(maxsize=32768)
def _suffix_parts(host: str) -> tuple[str, str, str]:
    """(subdomain, domain, suffix) of an ASCII host, exactly as tldextract splits it."""
    dot = host.find(".")
    if dot > 0 and "." in host[dot + 1 :]:
        # tldextract walks the public-suffix trie from the right and stops at
        # the first label that no rule continues with. When that label is the
        # parent's registrable name (no rule ends in "example.com" or in
        # "*.com"), the labels left of it are subdomain, whatever they are.
        # Traffic repeats parents (s1.example.com, s2.example.com) far more
        # than hosts, and the parent's split is cached.
        sub, domain, suffix = _suffix_parts(host[dot + 1 :])
        paths = _suffix_trie_paths()
        if domain and suffix and not domain.startswith("xn--") and (
                f"{domain}.{suffix}" not in paths and f"*.{suffix}" not in paths):
            return (f"{host[:dot]}.{sub}" if sub else host[:dot]), domain, suffix
    r = _EXTRACT.extract_str(host)
    return r.subdomain, r.domain, r.suffix


def normalize(text: str) -> ParsedURL:
    """Normalise one link or host; raise InvalidURLError with the reason when it cannot."""
    if not isinstance(text, str):
        raise InvalidURLError("the input is not text")
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidURLError(f"the input is longer than {MAX_INPUT_CHARS} characters")
    if "\x00" in text:
        raise InvalidURLError("the input contains a NUL character")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone UTF-16 surrogate (from a JSON escape, a DEX string or bytes
            # that were not UTF-8): no link has one, and no report could quote it.
            raise InvalidURLError("the input is not valid Unicode (a lone surrogate)") from None
    if _SIMPLE_HOST.match(text):
        # Fast path for the common case of a bare lower-case host (lists, logs):
        # nothing to decode, no scheme, no port, no path.
        return _build(text, "http", text, None, "/", None, False, ())
    tricks: list[str] = []
    s = _clean(text, tricks)
    if not s:
        raise InvalidURLError("the input is empty")
    m = _SCHEME_RE.match(s)
    scheme_given = False
    # "host:8080/x" also matches the scheme grammar: a colon followed by a
    # port number means a bare host with a port, anything else is a scheme.
    if m and (m.group(1).lower() in _DEFAULT_PORTS or s.startswith("//", m.end())
              or not _PORT_AFTER.match(s, m.end())):
        scheme = m.group(1).lower()
        if scheme not in _DEFAULT_PORTS:
            raise InvalidURLError(f"the scheme {scheme!r} is not a web link (http or https)")
        rest = s[m.end():].lstrip("/")
        scheme_given = True
    else:
        scheme = "http"
        rest = s[2:] if s.startswith("//") else s
    authority, path = _split_authority(rest)
    if _WHITESPACE.search(authority):
        raise InvalidURLError("the host contains spaces")
    userinfo: str | None = None
    if "@" in authority:
        userinfo, authority = authority.rsplit("@", 1)
    hostport = authority
    port: int | None = None
    if hostport.startswith("["):
        end = hostport.find("]")
        host_raw, after = (hostport[: end + 1], hostport[end + 1:]) if end >= 0 else (hostport, "")
        port_s = after[1:] if after.startswith(":") else None
        if after and port_s is None:
            raise InvalidURLError("unexpected characters after the IPv6 address")
    else:
        host_raw, sep, port_s_ = hostport.partition(":")
        port_s = port_s_ if sep else None
    if port_s is not None and port_s != "":
        if not port_s.isdigit() or not port_s.isascii():
            raise InvalidURLError(f"the port {port_s!r} is not a number")
        port = int(port_s)
        if port > 65535:
            raise InvalidURLError(f"the port {port} is out of range")
        if port == _DEFAULT_PORTS[scheme]:
            port = None
    return _build(text, scheme, host_raw, port, path, userinfo, scheme_given, tuple(tricks))


def _build(
    text: str,
    scheme: str,
    host_raw: str,
    port: int | None,
    path: str,
    userinfo: str | None,
    scheme_given: bool,
    tricks: tuple[str, ...],
) -> ParsedURL:
    host, host_unicode, ip = _host_forms(host_raw)
    if ip is None:
        subdomain, domain, suffix = _suffix_parts(host)
        registrable = f"{domain}.{suffix}" if domain and suffix else ""
    else:
        subdomain = domain = suffix = registrable = ""
    path = path or "/"
    if path[0] != "/":
        path = "/" + path
    netloc = host if port is None else f"{host}:{port}"
    return ParsedURL(
        input=text,
        url=f"{scheme}://{netloc}{path}",
        scheme=scheme,
        host=host,
        host_unicode=host_unicode,
        port=port,
        path=path,
        userinfo=userinfo,
        ip=ip,
        registrable_domain=registrable,
        domain=domain,
        suffix=suffix,
        subdomain=subdomain,
        scheme_given=scheme_given,
        deobfuscated=tuple(dict.fromkeys(tricks)),
    )
