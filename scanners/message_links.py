"""The links of a message: defanged ones included (``hxxp``, ``[.]``, ``(.)``,
``(dot)``, spaces around dots, zero-width and full-width characters), bare hosts
with a real public suffix, bracketed IPv6 hosts; each normalised, with its
offsets in the original text. Part of :func:`scanners.message.extract`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanners.errors import InvalidURLError
from scanners.message_view import View, fold_char
from scanners.normalize import ParsedURL, normalize

MAX_LINKS = 20
"""Distinct links of one message that are checked."""

# A dot may be defanged ("[.]", "(dot)") or spaced ("vneid-gov . top"), but a dot
# followed by a space and no space before it ends a sentence ("…gov.vn. Mọi").
_DOT = (r"(?:[ \t]*(?:\[\s*(?:\.|dot|cham)\s*\]|\(\s*(?:\.|dot|cham)\s*\)|"
        r"\{\s*(?:\.|dot|cham)\s*\})[ \t]*|[ \t]+\.[ \t]*|\.)")
_LABEL = r"[\w](?:[\w-]{0,61}[\w])?"
_ALABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SCHEME = (r"(?:h(?:tt|xx|\*\*|tx|xt)ps?|fxps?)[ \t]*(?:\[[ \t]*:[ \t]*\]|:|\[:/\]|\[://\])"
           r"[ \t]*(?://|/)?")
_PATH = r"(?:[/?#][^\s<>\"“”‘’]*)?"
# An IPv6 literal in brackets ("http://[2001:db8::1]/vneid.apk"): hex groups with at
# least two colons, an optional embedded IPv4 tail and zone; normalize() validates it.
_V6 = r"\[(?=[0-9a-f.]*:[0-9a-f.]*:)[0-9a-f:.]{2,45}(?:%25[\w.~-]{1,20}|%[\w.~-]{1,20})?\]"
_LINK = re.compile(
    rf"(?P<s>{_SCHEME}(?:[^\s/@<>\"]+@)?(?:{_V6}|{_LABEL}(?:{_DOT}{_LABEL})*)(?::\d{{1,5}})?"
    rf"{_PATH})"
    rf"|(?<![\w@.\-/])(?P<b>{_ALABEL}(?:{_DOT}{_ALABEL})+(?::\d{{1,5}})?{_PATH})"
    r"(?![\w@\-])"
    # Without a scheme, a bracketed IPv6 host needs a port or a path to be a link.
    rf"|(?<![\w@.\-/\[])(?P<v6>{_V6}(?::\d{{1,5}})?[/?#][^\s<>\"“”‘’]*)",
    re.I,
)
_SPACED_DOT = re.compile(r"[ \t]+\.|\.[ \t]+")


@dataclass(frozen=True, slots=True)
class LinkItem:
    """A link of the message, normalised."""

    input: str
    parsed: ParsedURL
    start: int
    end: int


def find_links(view: View, limit: int = MAX_LINKS) -> tuple[list[LinkItem], int]:
    """(the distinct links, in order of appearance, at most ``limit``; how many were left out)."""
    seen: set[str] = set()
    out: list[LinkItem] = []
    dropped = 0
    for m in _LINK.finditer(view.text):
        start, end = view.span(m.start(), m.end())
        raw = view.original[start:end]
        bare = m.group("b") is not None
        if bare and not _ascii_form(raw):
            # The folded view made "rồi . Com" look like a host; a bare host in a
            # chat is ASCII (full-width and invisible characters aside).
            continue
        try:
            parsed = normalize("http://" + raw if m.group("v6") is not None else raw)
        except InvalidURLError:
            continue
        if bare and (not parsed.suffix or parsed.ip is not None or parsed.userinfo):
            # A bare word with a dot is a link only when its suffix is a real one.
            continue
        if bare and _SPACED_DOT.search(m.group("b")) and not _plausible_spaced(parsed):
            continue
        if parsed.url in seen:
            continue
        if len(out) >= limit:
            dropped += 1
            continue
        seen.add(parsed.url)
        out.append(LinkItem(raw, parsed, start, end))
    return out, dropped


def _ascii_form(raw: str) -> bool:
    return all(c.isascii() or fold_char(c) == "" or 0xFF01 <= ord(c) <= 0xFF5E
               or c in "\u3002\uff61" for c in raw)


def _plausible_spaced(p: ParsedURL) -> bool:
    """'vneid-gov . top' is a link; 'xong . Com' in prose is not: ask for a hint."""
    return bool(p.path != "/" or "-" in p.host or len(p.labels) >= 3
                or any(c.isdigit() for c in p.domain) or len(p.domain) >= 5)

