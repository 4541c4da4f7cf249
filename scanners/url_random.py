"""URL-LEX-014: a registrable name of random letters (``tbhzmpqcxkgyv``, ``fqtwplhzqm``).

Campaigns register names by the hundred, made by a program from random
letters, on cheap new suffixes (``.ink``, ``.wiki``, ``.top``, ``.club``); no
reader can say what such a name stands for. A name counts when it has ten
letters or more and no digit, and the segmentation of :mod:`scanners.segment`
(Vietnamese syllables, English words, brands) leaves four fifths of its letters
or more unexplained, or explained only by one-letter syllables. Shorter names
are left alone: acronyms and abbreviations (``crwdcntrl``, ``mrktmtrcs``) are
benign names of that kind.

Chosen on the training side of the link data (docs/evaluation.md, "Four name
rules"): it reads 47 malicious registrables (and flags 23 that were calm), and 2
of the 14,412 benign train, tune and Debian registrables, flagging none.
"""

from __future__ import annotations

from scanners.findings import Finding
from scanners.segment import Segmenter

MIN_RANDOM = 10
"""Letters a name needs to be read at all (callers may skip shorter names)."""
_UNEXPLAINED = 0.8
_MAX_VOWELS = 0.35
"""A cheap first filter: words have more vowels than this (about two in five), and a
name with more is not segmented at all (most names scanned)."""
_NO_VOWELS = str.maketrans("", "", "aeiouy")


class RandomNameRule:
    """URL-LEX-014 over a segmenter (thread-safe: the segmenter caches per label)."""

    def __init__(self, seg: Segmenter) -> None:
        self.seg = seg

    def findings(self, domain: str) -> list[Finding]:
        """A finding when the registrable name ``domain`` reads as random letters."""
        n = len(domain)
        if n < MIN_RANDOM or not domain.isalpha() or not domain.isascii():
            return []
        if n - len(domain.translate(_NO_VOWELS)) > _MAX_VOWELS * n:
            return []
        toks = self.seg.label(domain)
        # A one-letter syllable (v, a) explains nothing: random letters hold many.
        unexplained = sum(len(t.text) for t in toks if t.kind == "unk" or len(t.text) == 1)
        if unexplained < _UNEXPLAINED * n:
            return []
        return [Finding("URL-LEX-014", {"name": domain,
                                        "tokens": " · ".join(t.text for t in toks),
                                        "unexplained": f"{unexplained}/{n}"})]
