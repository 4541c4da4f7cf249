"""Rules on what the segmentation of a host reveals (URL-SEG-*, URL-IMP-006).

* ``URL-SEG-001``: a bank, wallet or shop name glued to a service word
  (``vcbchamsoc``, ``tpbank-vaytinchap``, ``shopeegiaohang``).
* ``URL-SEG-002``: a bank, wallet or government name as a subdomain of an
  unrelated registrable (``vietcombank.chamsocuudai.com``).
* ``URL-SEG-003``: residence and identity words of public services outside
  gov.vn (``thongtincutru.com``, ``dancu-vn.net``).
* ``URL-IMP-006``: a global brand two edits away, or with ``www``/``m``
  glued to it (``wvwpaypal``, ``m-fecabook``, ``amazzon``).

The host-name words come from :mod:`scanners.segment`; the word lists from
:mod:`scanners.url_words`. Every finding names the tokens it read.
"""

from __future__ import annotations

from functools import lru_cache

import ahocorasick
from rapidfuzz.distance import OSA, Levenshtein

from scanners import url_words
from scanners.findings import Finding
from scanners.registry import Registry
from scanners.segment import Segmenter

BRAND_KINDS = frozenset({"bank", "wallet", "brand", "finance"})
"""Registry kinds that are brands people are phished in the name of (not agencies)."""
_WORDS = url_words.SERVICE_WORDS | url_words.GOV_STRONG | url_words.GOV_WEAK
_GLUED_PREFIXES = ("www", "wvw", "vvww", "ww", "m")
_NEAR_MIN = 6
"""Brands shorter than this only match with one edit (two edits make too many real words)."""


class CompoundRules:
    """The segmentation rules over one registry and segmenter."""

    def __init__(self, reg: Registry, seg: Segmenter) -> None:
        self.reg = reg
        self.seg = seg
        self._global = sorted(b for b in url_words.GLOBAL_BRANDS if len(b) >= 5)
        self._by_first: dict[str, list[str]] = {}
        for b in self._global:
            self._by_first.setdefault(b[0], []).append(b)
        self._global_auto = ahocorasick.Automaton()
        for b in self._global:
            self._global_auto.add_word(b, b)
        self._global_auto.make_automaton()
        # Brands with doubled letters collapsed (facebook → facebok), for the
        # doubled-letter trick (fecabookk, travelokaaaa, shoppeemall).
        self._collapsed = {_collapse(b): b for b in url_words.GLOBAL_BRANDS
                           if len(_collapse(b)) >= 5}
        self.near = lru_cache(maxsize=32768)(self._near)
        self._interesting = lru_cache(maxsize=32768)(self._interesting_uncached)

    def findings(self, labels: list[str], registrable: str, suffix: str,
                 gov_suffix: bool) -> list[Finding]:
        """Findings for a host's labels (below the public suffix, registrable label last)."""
        # Fast path, cached per label: most hosts hold no brand, no listed word
        # and nothing near a brand, and every rule here needs one of those.
        interesting = self._interesting
        for lab in labels:  # a plain loop: no generator to build for every host
            if interesting(lab):
                break
        else:
            return []
        toks = [self.seg.label(lab) for lab in labels]
        flat = [t for ts in toks for t in ts]
        words = {t.text for t in flat}
        shown = " · ".join(t.text for t in flat)
        out: list[Finding] = []
        brand_words = [t.text for t in flat if t.kind == "brand"]
        service = sorted(words & url_words.SERVICE_WORDS)
        official_here = self.reg.official_brand(registrable)
        for b in brand_words:
            tok = self.reg.by_token.get(b)
            if tok is None:
                # A global brand's own sites glue English words to its name
                # (microsoftonline, sharepointonline): only Vietnamese service
                # words, or two of them, count.
                if b in url_words.GLOBAL_BRANDS and labels[-1] != b and (
                        len(service) >= 2 or any(" " in w for w in service)):
                    out.append(Finding("URL-SEG-001", {"brand": b, "service": service[:3],
                                                       "tokens": shown}))
                    break
                continue
            if tok.brand.kind in BRAND_KINDS and service and official_here is None \
                    and registrable not in tok.brand.domains:
                out.append(Finding("URL-SEG-001", {"brand": b, "service": service[:3],
                                                   "tokens": shown,
                                                   "imitates": tok.brand.domains[0]}))
                break
        if len(labels) > 1 and official_here is None:
            reg_words = {t.text for t in toks[-1]}
            for ts in toks[:-1]:
                hit = next((t.text for t in ts if t.kind == "brand"
                            and t.text in self.reg.by_token and t.text not in reg_words), None)
                if hit is None:
                    continue
                owner = self.reg.by_token[hit].brand
                if registrable not in owner.domains:
                    out.append(Finding("URL-SEG-002", {"brand": hit, "registrable": registrable,
                                                       "imitates": owner.domains[0],
                                                       "tokens": shown}))
                    break
        if not gov_suffix and suffix != "gov.vn":
            strong = sorted(words & url_words.GOV_STRONG)
            weak = sorted(words & url_words.GOV_WEAK)
            if strong and len(strong) + len(weak) >= 2:
                out.append(Finding("URL-SEG-003", {"words": [*strong, *weak][:4],
                                                   "tokens": shown}))
        gb = self._global_brand_in(labels, registrable)
        if gb is not None:
            out.append(Finding("URL-SEG-004", {"brand": gb, "tokens": shown}))
        for lab in labels:
            near = self.near(lab)
            if near is not None:
                out.append(Finding("URL-IMP-006", {"label": lab, "resembles": near[0],
                                                   "trick": near[1]}))
                break
        return out

    def _interesting_uncached(self, label: str) -> bool:
        if any(t.kind == "brand" or t.text in _WORDS for t in self.seg.label(label)):
            return True
        if next(self._global_auto.iter(label), None) is not None:
            return True
        return self.near(label) is not None

    def _global_brand_in(self, labels: list[str], registrable: str) -> str | None:
        """A global brand (not one of the registry's) inside a longer label."""
        own = registrable.split(".")[0]
        for lab in labels:
            if lab == own and lab in url_words.GLOBAL_BRANDS:
                return None  # the brand's own name under some suffix (paypal.de)
            if lab in url_words.GLOBAL_BRANDS:
                continue  # amazon.example.com: a subdomain named after a shop
            for _, b in self._global_auto.iter(lab):
                if b not in self.reg.by_token:
                    return str(b)
        return None

    def _near(self, label: str) -> tuple[str, str] | None:
        core = label.replace("-", "").strip("0123456789")
        if len(core) < 5 or len(core) > 30 or core in url_words.GLOBAL_BRANDS:
            return None
        doubled = _doubled(core, self._collapsed)
        if doubled is not None:
            return doubled, "doubled letters"
        cands = [(core, "")]
        for pre in _GLUED_PREFIXES:
            rest = core[len(pre):]
            if core.startswith(pre) and len(rest) >= 5:
                if rest in url_words.GLOBAL_BRANDS:
                    return rest, f"'{pre}' glued to the name"
                cands.append((rest, f"'{pre}' glued to the name, "))
        for cand, trick in cands:
            # Edits keep the first letter: vnexpress is not jtexpress.
            for b in self._by_first.get(cand[0], ()):
                if abs(len(b) - len(cand)) > 2 or cand == b + "s":
                    continue
                # Short brands: one substitution only (tiktokv is TikTok's own CDN).
                limit = 2 if len(b) >= _NEAR_MIN + 1 else 1 if len(cand) == len(b) else 0
                if limit == 0:
                    continue
                # Swapped neighbours count as one edit (teelgram, telegarm), as
                # URL-IMP-002 counts them: a reader's eye skips them as easily.
                d = OSA.distance(cand, b, score_cutoff=limit)
                if 0 < d <= limit:
                    return b, f"{trick}{d} edit{'s' if d > 1 else ''} away"
        return None


def _collapse(word: str) -> str:
    """``word`` with runs of one letter cut to one (``shoppee`` → ``shope``)."""
    out: list[str] = []
    for c in word:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _doubled(core: str, collapsed: dict[str, str]) -> str | None:
    """The brand that ``core`` spells with a letter doubled or dropped, if any."""
    if core == _collapse(core):
        return None  # no doubled letter: not this trick
    flat = _collapse(core)
    for cb, brand in collapsed.items():
        if brand in core:
            # The name itself is there: only a pure repeat of its letters
            # (travelokaaaa) is this trick; bookings is other words' business.
            if flat == cb and core != brand:
                return brand
            continue
        if cb in flat:
            return brand
        # Doubled letters and swapped ones together (fecabookk): two edits of a long name.
        if len(cb) >= 6 and cb[0] == flat[0] and abs(len(cb) - len(flat)) <= 1 \
                and Levenshtein.distance(flat, cb, score_cutoff=2) <= 2:
            return brand
    return None
