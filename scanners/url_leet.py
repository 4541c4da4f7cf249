"""URL-IMP-008: digits written for the letters of a brand (``paypa1``, ``faceb00k``).

Kits spell a brand with digits that look like its letters (0 for o, 1 for l or
i, 3 for e, 4 for a, 5 for s, 7 for t), so that the name reads right at a
glance and no list of the brand's misspellings holds it: ``amaz0n-login``,
``m1cros0ft-servercenter``, ``we11sfargo-online``. The registry's own names
(Vietnamese banks, government) are read so by URL-IMP-001; this rule reads the
global, path and platform brands (:mod:`scanners.url_words`,
:mod:`scanners.url_path`, :mod:`scanners.url_platform`), which have no official
domain in the registry to name.

A name counts when, with the digits read as letters, a brand of five letters or
more appears that the name does not spell in letters already, and the brand's
span holds a digit (``office365`` spells ``office`` in letters: not this trick).
A span that ends in two digits or more is a number glued to letters
(``shop33``, ``tiki77``), not a brand spelt with digits.

Chosen on the training side of the link data (docs/evaluation.md, "Four name
rules"): it reads 13 malicious registrables, none of the benign train and tune
ones nor of the registrables of Debian's home pages.
"""

from __future__ import annotations

from functools import lru_cache

import ahocorasick

from scanners.findings import Finding
from scanners.url_platform import PHISHED_BRANDS

_READINGS = (str.maketrans("013457", "oleast"), str.maketrans("013457", "oieast"))
"""The digits read as letters; 1 is read as l, then as i (we11sfargo, m1crosoft)."""
_DIGITS = frozenset("013457")
_MIN_BRAND = 5
"""Shorter brands (ebay, usps) read out of too many numbers and words."""


class LeetBrandRule:
    """URL-IMP-008 over the bundled brand lists (thread-safe; cached per label)."""

    def __init__(self) -> None:
        self._auto = ahocorasick.Automaton()
        for b in sorted(PHISHED_BRANDS):
            if len(b) >= _MIN_BRAND and b.isalpha():
                self._auto.add_word(b, b)
        self._auto.make_automaton()
        self.label = lru_cache(maxsize=32768)(self._label)

    def findings(self, labels: list[str]) -> list[Finding]:
        """At most one finding for a host's labels (below the public suffix)."""
        for lab in labels:
            if _DIGITS.isdisjoint(lab):
                continue
            hit = self.label(lab)
            if hit is not None:
                return [Finding("URL-IMP-008", {"label": lab, "spelt": hit[1],
                                                "reads_as": hit[0]})]
        return []

    def _label(self, label: str) -> tuple[str, str] | None:
        """(brand, the part of ``label`` that spells it with digits), or None."""
        plain = {str(b) for _, b in self._auto.iter(label)}
        for reading in _READINGS:
            for end, b in self._auto.iter(label.translate(reading)):
                if b in plain:
                    continue
                span = label[end - len(b) + 1 : end + 1]
                if _DIGITS.isdisjoint(span) or (span[-1].isdigit() and span[-2].isdigit()):
                    continue
                return str(b), span
        return None
