"""The folded view of a message: what its phrases and links are matched on.

Lower case, Vietnamese diacritics stripped, zero-width characters dropped,
full-width forms mapped to ASCII, so that "cán bộ công an" and "can bo cong an"
are the same; :meth:`View.span` maps offsets in the view back to the original
text. Used by :mod:`scanners.message` and :mod:`scanners.message_links`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from scanners.registry import fold_vietnamese

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064"
                        "\ufeff\u00ad\u180e")
_FOLD_CACHE: dict[str, str] = {}


def fold_char(c: str) -> str:
    """``c`` folded: lower case, no diacritics, ASCII for full-width forms, ``""`` for
    zero-width and combining characters."""
    f = _FOLD_CACHE.get(c)
    if f is not None:
        return f
    if c in _ZERO_WIDTH or unicodedata.combining(c):
        f = ""
    else:
        o = ord(c)
        if 0xFF01 <= o <= 0xFF5E or c in "\u3002\uff61":
            f = unicodedata.normalize("NFKC", c).replace("\u3002", ".").replace("\uff61", ".")
        else:
            f = c
        f = fold_vietnamese(f).lower()
    if len(_FOLD_CACHE) < 65536:
        _FOLD_CACHE[c] = f
    return f


@dataclass(frozen=True, slots=True)
class View:
    """The folded text and, when it differs in length, where each char came from."""

    text: str
    index: list[int] | None
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in the original text for ``[start, end)`` of the view."""
        if self.index is None:
            return start, end
        s = self.index[start]
        e = self.index[end - 1] + 1
        o = self.original
        # Keep the combining marks and invisible characters that follow.
        while e < len(o) and (unicodedata.combining(o[e]) or o[e] in _ZERO_WIDTH):
            e += 1
        return s, e


def folded_view(text: str) -> View:
    """The folded view of ``text`` (see the module docstring)."""
    if text.isascii():
        return View(text.lower(), None, text)
    out: list[str] = []
    idx: list[int] = []
    for i, c in enumerate(text):
        if c.isascii():
            out.append(c.lower())
            idx.append(i)
            continue
        f = fold_char(c)
        for ch in f:
            out.append(ch)
            idx.append(i)
    return View("".join(out), idx, text)

