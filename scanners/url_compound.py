"""Rules on what the segmentation of a host reveals (URL-SEG-*, URL-IMP-005).

* ``URL-SEG-001``: a bank, wallet or shop name glued to a service word
  (``vcbchamsoc``, ``tpbank-vaytinchap``, ``shopeegiaohang``).
* ``URL-SEG-002``: a bank, wallet or government name as a subdomain of an
  unrelated registrable (``vietcombank.chamsocuudai.com``).
* ``URL-SEG-003``: residence and identity words of public services outside
  gov.vn (``thongtincutru.com``, ``dancu-vn.net``).
* ``URL-IMP-005``: a global brand two edits away, or with ``www``/``m``
  glued to it (``wvwpaypal``, ``m-fecabook``, ``amazzon``).

The host-name words come from :mod:`scanners.segment`; the word lists from
:mod:`scanners.url_words`. Every finding names the tokens it read.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from scanners import url_words
from scanners.findings import Finding
from scanners.registry import Registry
from scanners.segment import Segmenter, Token

_BRAND_KINDS = frozenset({"bank", "wallet", "brand", "finance"})
_GLUED_PREFIXES = ("www", "wvw", "vvww", "ww", "m")
_NEAR_MIN = 6
"""Brands shorter than this only match with one edit (two edits make too many real words)."""


class CompoundRules:
    """The segmentation rules over one registry and segmenter."""

    def __init__(self, reg: Registry, seg: Segmenter) -> None:
        self.reg = reg
        self.seg = seg
        self._global = sorted(b for b in url_words.GLOBAL_BRANDS if len(b) >= 5)
        self.near = lru_cache(maxsize=65536)(self._near)

    def findings(self, labels: list[str], registrable: str, suffix: str,
                 gov_suffix: bool) -> list[Finding]:
        """Findings for a host's labels (below the public suffix, registrable label last)."""
        if not labels:
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
                # A global brand: its own site never glues service words to its name.
                if b in url_words.GLOBAL_BRANDS and service and labels[-1] != b:
                    out.append(Finding("URL-SEG-001", {"brand": b, "service": service[:3],
                                                       "tokens": shown}))
                    break
                continue
            if tok.brand.kind in _BRAND_KINDS and service and official_here is None \
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
                b = self.reg.by_token[hit].brand
                if registrable not in b.domains:
                    out.append(Finding("URL-SEG-002", {"brand": hit, "registrable": registrable,
                                                       "imitates": b.domains[0],
                                                       "tokens": shown}))
                    break
        if not gov_suffix and suffix != "gov.vn":
            strong = sorted(words & url_words.GOV_STRONG)
            weak = sorted(words & url_words.GOV_WEAK)
            if strong and len(strong) + len(weak) >= 2:
                out.append(Finding("URL-SEG-003", {"words": [*strong, *weak][:4],
                                                   "tokens": shown}))
        for lab in labels:
            near = self.near(lab)
            if near is not None:
                out.append(Finding("URL-IMP-005", {"label": lab, "resembles": near[0],
                                                   "trick": near[1]}))
                break
        return out

    def _near(self, label: str) -> tuple[str, str] | None:
        core = label.replace("-", "").strip("0123456789")
        if len(core) < 5 or len(core) > 30 or core in url_words.GLOBAL_BRANDS:
            return None
        cands = [(core, "")]
        for pre in _GLUED_PREFIXES:
            rest = core[len(pre):]
            if core.startswith(pre) and len(rest) >= 5:
                if rest in url_words.GLOBAL_BRANDS:
                    return rest, f"'{pre}' glued to the name"
                cands.append((rest, f"'{pre}' glued to the name, "))
        for cand, trick in cands:
            for b in self._global:
                # Edits keep the first letter: vnexpress is not jtexpress.
                if abs(len(b) - len(cand)) > 2 or b[0] != cand[0]:
                    continue
                # Short brands: one substitution only (tiktokv is TikTok's own CDN).
                limit = 2 if len(b) >= _NEAR_MIN + 1 else 1 if len(cand) == len(b) else 0
                if limit == 0:
                    continue
                d = Levenshtein.distance(cand, b, score_cutoff=limit)
                if 0 < d <= limit:
                    return b, f"{trick}{d} edit{'s' if d > 1 else ''} away"
        return None
