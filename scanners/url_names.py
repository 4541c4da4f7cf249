"""Rules on kinds of Vietnamese scam host names that need no segmentation (fifth round).

* ``URL-SEG-005``: names of the "chẵn lẻ MoMo" / "tài xỉu" betting scams
  (``clmm``, ``cltx``, ``chanle``, ``taixiu`` in any label).
* ``URL-LEX-012``: the "task scam" and betting-site name: four letters and one
  digit written twice (``abcd22.com``), or two or three letters and a number
  of four digits or more on .com (``xy12345.com``), the forms of whole
  campaigns of sites that promise pay for "tasks" (liking, ordering) or
  winnings and then ask for deposits.
* ``URL-LEX-013``: a name that is mostly a number (five digits or more, three
  fifths of its characters or more: ``551008g``, ``8836511``, ``57365pp``), the
  form of betting and lottery sites that whole campaigns register by the hundred.
  Weak alone (15 points): benign names of that form exist (``10086.cn``).
* ``URL-IMP-007``: a Vietnamese shop or delivery brand misspelt at the start of
  a longer label (a letter dropped, doubled or swapped: ``shopexyz``,
  ``lazdaabc``), so that the name is neither the brand nor one edit from it.
* ``URL-SEG-006``: a brand with a number, ``vip``, ``vn`` or ``pro`` after it and
  nothing else (``lazada218``, ``shopee52``, ``sendovip``, ``facebookvni``): the
  names of fake shop "task" and prize sites, many at a time. Chosen on the training
  side (docs/evaluation.md, "URL-SEG-006"): 347 malicious registrables of it, 298 of
  them calm before, against none of the 10,122 benign train and tune registrables.

Each kind was read off the validation window's misses (hostsVN 2023-07 … 09,
dev data) and kept only if it flags at most 0.02% of the benign registrables of
the training and tune sides (docs/evaluation.md, "Fifth round (hosts)"). The
word lists are written here by hand from those kinds, never copied hosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from scanners.findings import Finding

GAMBLING_WORDS = ("clmm", "cltx", "chanle", "taixiu")
"""Chẵn lẻ MoMo, chẵn lẻ tài xỉu, chẵn lẻ, tài xỉu: glued, as the betting scams write them."""
_GAMBLING = re.compile("|".join(GAMBLING_WORDS))
_TASK_NAME = re.compile(r"[a-z]{4}([0-9])\1")
"""Four letters and a digit twice. Three or five letters flag benign names too (bef77,
and the like: 0.04% of benign train+tune registrables against 0.02%)."""
_NUMBER_NAME = re.compile(r"[a-z]{2,3}[0-9]{4,}")
"""Two or three letters and a number of four digits or more, on .com only (under other
suffixes benign names have it too)."""
SHOP_BRANDS = ("shopee", "lazada", "tiki", "sendo", "viettelpost", "vnpost", "jtexpress",
               "ninjavan", "bestexpress", "bachhoaxanh", "dienmayxanh", "thegioididong",
               "fptshop")
"""Vietnamese shopping and delivery brands whose misspelt names lead fake shop sites."""
_MIN_VARIANT = 5
GENERIC_BRANDS = frozenset({"office", "steam", "booking", "grab", "apple"})
"""Brand names that are everyday words too (office24, steam360): URL-SEG-006 skips them."""
_NUMBER_DIGITS = 5
_NUMBER_SHARE = 0.6
"""URL-LEX-013: at least this many digits, making at least this share of the name.
Chosen on the training side (docs/evaluation.md, "Four name rules"): it reads 869
malicious registrables (flagging 159 that were calm), 12 of the 10,126 benign train
and tune ones and 1 of Debian's 4,286, and flags none of those."""
_BRAND_TAIL = r"-?(?:[0-9]{2,}|(?:vip|vni|vn|pro)[0-9]*)"
"""What URL-SEG-006 reads after a brand: a number, or vip/vn/pro and maybe a number."""


def _variants(brand: str) -> set[str]:
    """Spellings one slip from ``brand``: a letter dropped, doubled, or two swapped."""
    out = {brand[:i] + brand[i + 1 :] for i in range(len(brand))}
    out |= {brand[:i] + brand[i] + brand[i:] for i in range(len(brand))}
    out |= {brand[:i] + brand[i + 1] + brand[i] + brand[i + 2 :] for i in range(len(brand) - 1)}
    # The first letter stays (the rule reads the start of a label); a spelling
    # that begins the brand itself (shope) counts only when the label does not
    # go on to spell the brand (shopee-x is URL-BRAND-001's business).
    return {v for v in out if len(v) >= _MIN_VARIANT and v != brand and v[0] == brand[0]}


class NameRules:
    """The five rules above, over fixed word lists (thread-safe, cached per label)."""

    def __init__(self, brands: Iterable[str] = ()) -> None:
        """``brands``: the names URL-SEG-006 reads (four letters or more; the
        :data:`GENERIC_BRANDS` are left out)."""
        names = sorted({b for b in brands if len(b) >= 4 and b.isalnum()} - GENERIC_BRANDS,
                       key=lambda b: (-len(b), b))
        self._brand_names = frozenset(names)
        self._brand_tail = (re.compile(f"({'|'.join(map(re.escape, names))}){_BRAND_TAIL}")
                            if names else None)
        self._variants: dict[str, str] = {}
        for b in SHOP_BRANDS:
            for v in sorted(_variants(b)):
                self._variants.setdefault(v, b)
        self._lengths = sorted({len(v) for v in self._variants})
        # Every variant keeps its brand's first letter and most keep the second:
        # a label whose first two letters start no variant is skipped at once
        # (nearly every host: these rules run on every name scanned).
        self._heads = frozenset(v[:2] for v in self._variants)
        self.misspelt = lru_cache(maxsize=32768)(self._misspelt)

    def findings(self, labels: list[str], domain: str, suffix: str,
                 digits: int) -> list[Finding]:
        """Findings for a host's labels (below the public suffix), its registrable name,
        its public suffix and how many digits that name has (the scanner has counted
        them for URL-LEX-006)."""
        out: list[Finding] = []
        # One search over the whole name (dots stop a word as a label's end does);
        # the label is looked for only on a hit.
        name = ".".join(labels)
        bet = _GAMBLING.search(name.replace("-", "") if "-" in name else name)
        if bet is not None:
            word = bet.group()
            lab = next((x for x in labels if word in x.replace("-", "")), name)
            out.append(Finding("URL-SEG-005", {"word": word, "label": lab}))
        if len(domain) == 6 and _TASK_NAME.fullmatch(domain):
            out.append(Finding("URL-LEX-012", {"name": domain,
                                               "form": "4 letters + a digit twice"}))
        elif suffix == "com" and _NUMBER_NAME.fullmatch(domain):
            out.append(Finding("URL-LEX-012", {"name": domain,
                                               "form": "2-3 letters + 4 digits or more"}))
        if digits >= _NUMBER_DIGITS and digits >= _NUMBER_SHARE * len(domain):
            out.append(Finding("URL-LEX-013", {"name": domain, "digits": digits}))
        if self._brand_tail is not None and domain not in self._brand_names:
            tail = self._brand_tail.fullmatch(domain)
            if tail is not None:
                out.append(Finding("URL-SEG-006", {
                    "brand": tail.group(1), "name": domain,
                    "after": domain[tail.end(1):].lstrip("-")}))
        heads = self._heads
        for lab in labels:
            if lab[:2] not in heads:
                continue
            m = self.misspelt(lab)
            if m is not None:
                out.append(Finding("URL-IMP-007", {"label": lab, "spelt": m[0],
                                                   "resembles": m[1]}))
                break
        return out

    def _misspelt(self, label: str) -> tuple[str, str] | None:
        for n in self._lengths:
            if n >= len(label):
                break
            brand = self._variants.get(label[:n])
            if brand is not None and not label.startswith(brand):
                return label[:n], brand
        return None
