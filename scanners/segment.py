"""Read glued host labels the way a Vietnamese reader does.

``vietcombankchamsocuudai`` is three things to a person: a bank's name and two
Vietnamese service words. This module splits every label of a host into
unaccented Vietnamese syllables, English words and brand names with a
dictionary-based Viterbi segmentation (fewest, most plausible words), so that
the rules and the lexical model see words, not letters.

The lexicon is bundled (``blocklists/data/lexicon.txt``, built by
``tools/build_lexicon.py`` from Debian's ``hunspell-vi`` and ``wamerican``);
nothing is fetched at run time. Results are cached per label chunk, since real
traffic repeats labels (``www``, ``m``, brand names) far more than hosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import ahocorasick

import blocklists

_CHUNKS = re.compile(r"[a-z]+|[0-9]+")
_MAX_CHUNK = 63
"""A DNS label is at most 63 octets; longer chunks are not segmented."""

# Costs of one token of each kind: the segmentation with the lowest total
# wins. A brand is cheapest, so that "vietcombank" is never read as three
# syllables; short English words cost more than syllables, so that glued
# Vietnamese ("chamsoc") is read as Vietnamese, not as "chams" + "oc".
_COST = {"brand": 0.6, "vi": 1.0, "en": 1.0}
_COST_EN_SHORT = 1.6
_COST_VI_SINGLE = 1.5
_COST_UNKNOWN = 2.6
_COST_COMPOUND = 0.8
"""Per syllable of a known compound word."""
"""Per unknown letter: a run of letters that no word explains."""


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a segmented label."""

    text: str
    kind: str
    """``brand``, ``vi`` (unaccented syllable), ``en``, ``num`` or ``unk``."""


class Segmenter:
    """Splits labels into words over a fixed lexicon (thread-safe, cached)."""

    def __init__(self, words: dict[str, str], brands: Iterable[str] = (),
                 compounds: Iterable[str] = ()) -> None:
        entries: dict[str, tuple[str, str, float]] = {}
        for w, kind in words.items():
            if kind == "en" and len(w) == 3:
                cost = _COST_EN_SHORT
            elif kind == "vi" and len(w) == 1:
                cost = _COST_VI_SINGLE
            else:
                cost = _COST[kind]
            entries[w] = (w, kind, cost)
        # Compounds of two or three syllables are one cheaper word ("chamsoc" →
        # "cham soc"), so that "chamsocuudai" reads cham soc · uu dai, not
        # cham · so · cuu · dai (both four syllables).
        for c in compounds:
            parts = c.split()
            if len(parts) > 1:
                entries["".join(parts)] = (c, "vi", _COST_COMPOUND * len(parts))
        for b in brands:
            if b.isalpha() and b.isascii():
                entries[b] = (b, "brand", _COST["brand"])
        # One Aho-Corasick pass finds every lexicon word in a chunk, in C; it
        # stores integers (an index into the table), which builds faster.
        self._table: list[tuple[int, str, str, float]] = []
        self._auto = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for w, (text, kind, cost) in entries.items():
            self._auto.add_word(w, len(self._table))
            self._table.append((len(w), text, kind, cost))
        self._auto.make_automaton()
        self.chunk = lru_cache(maxsize=65536)(self._chunk)
        self.label = lru_cache(maxsize=32768)(self._label)  # type: ignore[method-assign]

    def label(self, label: str) -> tuple[Token, ...]:
        """The words of one (lower-case, ASCII) host label, left to right (cached)."""
        return self._label(label)

    def _label(self, label: str) -> tuple[Token, ...]:
        out: list[Token] = []
        for m in _CHUNKS.finditer(label):
            out.extend(self.chunk(m.group()))
        return tuple(out)

    def _chunk(self, s: str) -> tuple[Token, ...]:
        if s.isdigit():
            return (Token(s, "num"),)
        n = len(s)
        if n > _MAX_CHUNK:
            return (Token(s, "unk"),)
        ending: list[list[tuple[int, str, str, float]]] = [[] for _ in range(n + 1)]
        table = self._table
        for end, i in self._auto.iter(s):
            length, text, kind, cost = table[i]
            ending[end + 1].append((end + 1 - length, text, kind, cost))
        inf = float("inf")
        best = [0.0] + [inf] * n
        back: list[tuple[int, str, str]] = [(0, "", "")] * (n + 1)
        for j in range(1, n + 1):
            # An unknown letter: always possible, expensive.
            b = best[j - 1] + _COST_UNKNOWN
            choice = (j - 1, s[j - 1], "unk")
            for i, text, kind, cost in ending[j]:
                c = best[i] + cost
                if c < b:
                    b, choice = c, (i, text, kind)
            best[j], back[j] = b, choice
        toks: list[Token] = []
        j = n
        while j > 0:
            i, text, kind = back[j]
            if kind == "unk" and toks and toks[-1].kind == "unk":
                # Consecutive unknown letters form one unknown token.
                toks[-1] = Token(text + toks[-1].text, "unk")
            else:
                toks.append(Token(text, kind))
            j = i
        toks.reverse()
        return tuple(toks)

    @staticmethod
    def words(tokens: Iterable[Token]) -> list[str]:
        """Tokens as a reader groups them (compounds already hold a space: "cham soc")."""
        return [t.text for t in tokens]


def read_lexicon() -> dict[str, str]:
    """The bundled lexicon: word → ``vi`` or ``en``."""
    out: dict[str, str] = {}
    with (blocklists.data_dir() / "lexicon.txt").open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or "\t" not in line:
                continue
            word, kind = line.rstrip("\n").split("\t", 1)
            out[word] = kind
    return out


@cache
def default_segmenter() -> Segmenter:
    """The segmenter over the bundled lexicon, the registry's brand tokens and
    the curated service words, built once per process."""
    from scanners import url_words
    from scanners.registry import registry

    reg = registry()
    brands = {t for t in reg.by_token if len(t) >= 3} | url_words.GLOBAL_BRANDS
    return Segmenter(read_lexicon(), brands, url_words.COMPOUNDS)
