"""Offline link scanner: judge a link from itself and bundled knowledge.

No network: the host's form, the official-brand registry
(:mod:`scanners.registry`), the bundled blocklists and platform lists
(:mod:`blocklists`). Rules it can emit: URL-OFF-*, URL-BL-*, URL-GOV-*,
URL-BANK-*, URL-IMP-*, URL-LEX-*, URL-INP-*; with the host read as words
(:mod:`scanners.segment`), URL-SEG-* and URL-IMP-006 (:mod:`scanners.url_compound`);
kinds of scam names, URL-SEG-005, URL-LEX-012, URL-LEX-013, URL-IMP-007
(:mod:`scanners.url_names`); digits for a brand's letters, URL-IMP-008
(:mod:`scanners.url_leet`); a name of random letters, URL-LEX-014
(:mod:`scanners.url_random`);
parcel-notice lures, URL-LURE-* (:mod:`scanners.url_lures`);
from the path, URL-PATH-* (:mod:`scanners.url_path`); and the learned lexical
model's URL-ML-* (:mod:`scanners.url_model`).

``SCAMSCAN_BLOCKLISTS=off`` (or ``scamscan url --no-blocklists``) builds the
scanner with :class:`NoLists`: every blocklist is dropped, while the official
allowlists, the rules and the model stay.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Protocol

import ahocorasick
from rapidfuzz.distance import DamerauLevenshtein

import blocklists
from scanners.findings import Finding
from scanners.normalize import ParsedURL
from scanners.registry import (
    Brand,
    Registry,
    has_idn_label,
    is_government_suffix,
    registry,
    skeleton,
)
from scanners.segment import Segmenter, default_segmenter
from scanners.url_compound import BRAND_KINDS, CompoundRules
from scanners.url_features import NO_RULES, rule_features_of
from scanners.url_leet import LeetBrandRule
from scanners.url_lures import lure_findings
from scanners.url_model import UrlModel, default_model
from scanners.url_names import NameRules
from scanners.url_path import path_findings
from scanners.url_platform import PlatformSiteRules
from scanners.url_random import MIN_RANDOM, RandomNameRule
from scanners.url_words import GLOBAL_BRANDS, SERVICE_WORDS

# A label part that imitates a government "gov" name: hgov, tgovn, vietgov22,
# gdtgov, gov-vn, vngovfeed, govt. Digits are stripped before matching.
_GOV_LIKE = re.compile(r"^(?:[a-z]*gov(?:t|v*n)?|vn?gov[a-z]*|govv*n[a-z]*)$")
_PART_SPLIT = re.compile(r"[-_]+")
_DIGITS = re.compile(r"[0-9]")
# Look-alike ASCII spellings (vietc0mbank, vne1d): checked only when they turn
# into a brand token that the raw host does not contain.
_ASCII_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "3": "e", "5": "s"})
_LOOKALIKE_DIGIT = re.compile(r"[a-z][0135][a-z]")
# Names that read as "Vietnamese government" without being a brand's domain.
_GOV_TYPO_TARGETS = {"vietgov": "gov.vn", "vietnamgov": "gov.vn", "govvn": "gov.vn"}
_MAX_TYPO_PART = 40


@dataclass(frozen=True, slots=True)
class _TokenHit:
    token: str
    brand: Brand
    label: str
    whole: bool
    """The token is a whole label or a whole hyphen-separated part of one."""
    label_is_registrable: bool


class ListLookup(Protocol):
    """What the scanner needs of a blocklist index (:class:`blocklists.BlocklistIndex`)."""

    def lookup(
        self, host: str, registrable_domain: str, path: str = "/"
    ) -> Sequence[blocklists.BlocklistHit]: ...


class NoLists:
    """An empty blocklist index: rules, model and allowlists only (``SCAMSCAN_BLOCKLISTS=off``)."""

    def lookup(
        self, host: str, registrable_domain: str, path: str = "/"
    ) -> Sequence[blocklists.BlocklistHit]:
        """Never a hit."""
        return ()


def _is_gov(b: Brand) -> bool:
    return b.kind == "gov"


def _token_rule(b: Brand, whole: bool) -> str:
    if b.kind == "gov":
        return "URL-GOV-001" if whole else "URL-GOV-003"
    return "URL-BRAND-001" if b.kind == "brand" else "URL-BANK-001"


def _other_suffix_rule(b: Brand) -> str:
    if b.kind == "gov":
        return "URL-GOV-004"
    return "URL-BRAND-001" if b.kind == "brand" else "URL-BANK-002"


# Words that, beside a short bank or agency code (acb-online, vib-the), make
# the code read as the brand rather than as some unrelated abbreviation.
_CONTEXT_WORDS = frozenset({
    "online", "bank", "banking", "ebank", "ibank", "ebanking", "ibanking", "mobile",
    "digital", "smart", "vn", "vietnam", "viet", "app", "login", "dangnhap", "khuyenmai",
    "uudai", "the", "card", "visa", "vay", "tindung", "cskh", "hotro", "support",
    "service", "verify", "xacthuc", "xacminh", "otp", "secure", "dichvu", "dich", "vu",
    "vip", "gov", "govn", "govvn", "canhan", "taikhoan", "tk", "nganhang", "money",
})
# Gov names that are common abroad with a one-letter or two-letter prefix.
_FOREIGN_GOV_PREFIXES = frozenset({"e", "my", "we", "go", "io"})
_FAKE_TLD = re.compile(
    r"(?:^|\.)((?:com|c0m|corn|net|org)(?=\.|$)|c[o0]m-[^.]*|(?:www|https?)-[^.]*)")


_IMPERSONATION = frozenset({"URL-IMP-001", "URL-IMP-002", "URL-IMP-003", "URL-IMP-006",
                            "URL-IMP-008",
                            "URL-BANK-001", "URL-BANK-002", "URL-BRAND-001"})
"""Rules that already count a brand in the name (URL-PLAT-002 does not add to them)."""
_BRAND_NAME_RULES = frozenset({"URL-BRAND-001", "URL-BANK-001", "URL-IMP-003", "URL-SEG-002",
                               "URL-SEG-004"})
"""Rules that read a brand's name in a host, which a brand's own account on a developer
platform carries by right."""


def _seg006_brands(reg: Registry) -> set[str]:
    """The brands URL-SEG-006 reads: the registry's shops, banks and wallets, and the
    global brands."""
    return {t for t, tok in reg.by_token.items()
            if tok.brand.kind in BRAND_KINDS} | set(GLOBAL_BRANDS)


class OfflineURLScanner:
    """Scores a link with no network access; see the module docstring."""

    name = "url-offline"

    def __init__(
        self,
        reg: Registry | None = None,
        index: ListLookup | None = None,
        platforms: blocklists.PlatformLists | None = None,
        vocab: frozenset[str] | None = None,
        model: UrlModel | None = None,
        use_model: bool = True,
        segmenter: Segmenter | None = None,
    ) -> None:
        self.reg = reg or registry()
        self.model: UrlModel | None = (model or default_model()) if use_model else None
        self.seg = segmenter or default_segmenter()
        self.compound = CompoundRules(self.reg, self.seg)
        self.names = NameRules(brands=_seg006_brands(self.reg))
        self.sites = PlatformSiteRules(self.seg)
        self.leet = LeetBrandRule()
        self.random_name = RandomNameRule(self.seg)
        self.index: ListLookup = index if index is not None else blocklists.BlocklistIndex.bundled()
        self.platforms = platforms or blocklists.platforms()
        words = vocab if vocab is not None else blocklists.scam_vocab()
        self._vocab = ahocorasick.Automaton()
        for w in words:
            self._vocab.add_word(w, w)
        if words:
            self._vocab.make_automaton()
        self._has_vocab = bool(words)
        self._typo_choices = dict(self.reg.typo_targets)
        for name, dom in _GOV_TYPO_TARGETS.items():
            self._typo_choices.setdefault(name, (dom, self.reg.brands[0]))
        # One-deletion neighbourhoods (the SymSpell idea): two strings one edit
        # apart share a deletion variant, so candidates come from set look-ups
        # instead of comparing every label with every name.
        # Cheap first filter: one edit leaves either the first two or the last
        # two letters of a name of five or more letters untouched.
        self._typo_heads = frozenset(k[:2] for k in self._typo_choices)
        self._typo_tails = frozenset(k[-2:] for k in self._typo_choices)
        self._typo_max = max(map(len, self._typo_choices), default=0) + 1
        self._typo_deletes: dict[str, list[str]] = {}
        for key in self._typo_choices:
            for d in _deletions(key):
                self._typo_deletes.setdefault(d, []).append(key)
        self._typo = lru_cache(maxsize=32768)(self._typo_uncached)
        self._label_typos = lru_cache(maxsize=32768)(self._label_typos_uncached)
        self._suspicious_tld = lru_cache(maxsize=4096)(self.platforms.suspicious_tld)
        pl = self.platforms
        self._platform_tails = frozenset(
            ".".join(h.rstrip(".").lower().split(".")[-2:])
            for h in (pl.free_subdomain_hosts | pl.self_service_platforms
                      | pl.free_file_hosts | blocklists.USER_SITE_PLATFORMS))

    async def scan(self, target: ParsedURL) -> list[Finding]:
        """Findings about ``target``; see :meth:`check`."""
        return self.check(target)

    def check(self, p: ParsedURL) -> list[Finding]:
        """The synchronous core of :meth:`scan` (pure CPU work, no I/O)."""
        out: list[Finding] = []
        for hit in self.index.lookup(p.host, p.registrable_domain, p.path):
            out.append(Finding("URL-BL-001", {"source": hit.source, "entry": hit.entry,
                                              "match": hit.match}))
        if p.deobfuscated:
            out.append(Finding("URL-INP-001", {"decoded": list(p.deobfuscated),
                                               "as": p.url}))
        if p.userinfo is not None:
            shown = p.userinfo.split(":", 1)[0]
            if "." in shown:
                out.append(Finding("URL-IMP-004", {"shown_as": shown, "real_host": p.host}))
        if p.port is not None:
            out.append(Finding("URL-LEX-007", {"port": p.port}))
        if p.scheme == "http" and p.scheme_given:
            out.append(Finding("URL-LEX-008", {"scheme": "http"}))
        if p.ip is not None:
            out.append(Finding("URL-LEX-004", {"ip": p.ip}))
            return out
        out.extend(self._allowlist(p))
        out.extend(self._host_findings(p.host, p.host_unicode, p.subdomain, p.domain, p.suffix,
                                       p.registrable_domain))
        out.extend(path_findings(p.host, p.path))
        if self.model is not None:
            # The model weighs the rules' signals with the link's words.
            rules = rule_features_of(tuple([f.rule_id for f in out])) if out else NO_RULES
            out.extend(self.model.findings(p, rules))
        return out

    # -- allowlist -----------------------------------------------------------
    def _allowlist(self, p: ParsedURL) -> list[Finding]:
        found = self._allowlist_ascii(p)
        if found and has_idn_label(p.host):
            # Official and allowlisted names are ASCII: an IDN label anywhere
            # (dichvucоng.gov.vn with a Cyrillic о) is a look-alike, not the
            # real name, and must neither be official nor zero the findings.
            return [Finding("URL-IMP-005", {
                "host": p.host, "shown_as": p.host_unicode,
                "labels": [lab for lab in p.host.split(".") if lab.startswith("xn--")],
                "would_be": found[0].rule_id})]
        return found

    def _allowlist_ascii(self, p: ParsedURL) -> list[Finding]:
        reg = p.registrable_domain
        brand = self.reg.official_brand(reg)
        if p.suffix == "gov.vn" or (brand is not None and _is_gov(brand)):
            ev: dict[str, Any] = {"domain": reg}
            if brand is not None:
                ev["official"] = brand.name_en
            return [Finding("URL-OFF-001", ev)]
        if brand is not None:
            rule = "URL-OFF-003" if brand.kind == "brand" else "URL-OFF-002"
            return [Finding(rule, {"domain": reg, "official": brand.name_en})]
        if p.suffix == "edu.vn":
            # Like gov.vn, edu.vn is only registered to Vietnamese schools.
            return [Finding("URL-OFF-003", {"domain": reg, "category": "edu.vn"})]
        cat = self.reg.known_good.get(reg)
        if cat is not None:
            if cat == "gov.vn":
                return [Finding("URL-OFF-001", {"domain": reg})]
            return [Finding("URL-OFF-003", {"domain": reg, "category": cat})]
        return []

    # -- everything that depends on the host name only (cached) ---------------
    @lru_cache(maxsize=32768)  # noqa: B019 - one scanner per process; bounded
    def _host_findings(
        self, host: str, host_unicode: str, subdomain: str, domain: str, suffix: str,
        registrable: str,
    ) -> tuple[Finding, ...]:
        out: list[Finding] = []
        pl = self.platforms
        tld = self._suspicious_tld(suffix)
        if tld is not None:
            out.append(Finding("URL-LEX-001", {"tld": tld}))
        if pl.is_shortener(host):
            out.append(Finding("URL-LEX-002", {"shortener": host}))
        # Every platform has two labels or more: a host whose last two are no
        # platform's last two is under none (most hosts; one set look-up).
        platform = (pl.platform_of(host) if host[host.rfind(".", 0, host.rfind(".")) + 1 :]
                    in self._platform_tails else None)
        if platform is not None:
            out.append(Finding("URL-LEX-003", {"platform": platform[1], "list": platform[0]}))
        sub_labels = subdomain.split(".") if subdomain else []
        if len(sub_labels) >= 4:
            out.append(Finding("URL-LEX-005", {"subdomains": len(sub_labels)}))
        hyphens = host.count("-") - host.count("xn--") * 2
        digits = len(_DIGITS.findall(domain))
        if hyphens >= 3 or digits >= 5:
            out.append(Finding("URL-LEX-006", {"label": domain, "hyphens": hyphens,
                                               "digits": digits}))

        # Names are compared on their skeleton: diacritics folded, confusables mapped.
        # The suffix is counted in labels: an IDN suffix is longer in punycode.
        name_ascii = host[: len(host) - len(suffix) - 1] if suffix else host
        if host_unicode == host and domain and name_ascii.isascii():
            # An ASCII name is its own skeleton (nothing to fold or map).
            skel, confusable = name_ascii.lower(), False
        else:
            n_suffix = suffix.count(".") + 1 if suffix else 0
            name_uni = (".".join(host_unicode.split(".")[:-n_suffix]) if n_suffix
                        else host_unicode)
            skel, confusable = skeleton(name_uni)
        labels = skel.split(".")
        gov_suffix = is_government_suffix(suffix, registrable)

        hits = self._token_hits(labels)
        claimed: set[str] = set()

        # Official name under another suffix, or an official domain used as a prefix.
        flat = labels[-1].replace("-", "") if labels else ""
        if flat in self.reg.flat_names and registrable not in self.reg.official:
            dom, brand = self.reg.flat_names[flat]
            out.append(Finding(_other_suffix_rule(brand), {"name": labels[-1], "imitates": dom,
                                                           "brand": brand.name_en}))
            claimed.update(h.token for h in hits if h.label_is_registrable)
        all_labels = [*labels, *(suffix.split(".") if suffix else [])]
        heads = self.reg.official_heads
        for i in range(len(all_labels) - 2):
            if all_labels[i] not in heads:
                continue
            for k in (2, 3):
                cand = ".".join(all_labels[i : i + k])
                b = self.reg.official.get(cand)
                if b is not None and registrable != cand and i + k < len(all_labels):
                    ev = {"name": cand, "imitates": cand, "brand": b.name_en,
                          "trick": "official domain used as a prefix"}
                    out.append(Finding(_other_suffix_rule(b), ev))
                    claimed.update(cand.split("."))

        if confusable:
            for h in hits:
                out.append(Finding("URL-IMP-001", {"shown_as": host_unicode, "reads_as": skel,
                                                   "token": h.token,
                                                   "imitates": h.brand.domains[0]}))
                claimed.add(h.token)
        elif _LOOKALIKE_DIGIT.search(skel):
            alike = skel.translate(_ASCII_LOOKALIKE)
            seen = {h.token for h in hits}
            for h in self._token_hits(alike.split(".")):
                if h.token not in seen:
                    claimed.add(h.token)
                    out.append(Finding("URL-IMP-001", {"shown_as": host, "reads_as": alike,
                                                       "token": h.token,
                                                       "imitates": h.brand.domains[0]}))

        for h in hits:
            if h.token in claimed or registrable in h.brand.domains:
                continue
            ev = {"token": h.token, "label": h.label, "imitates": h.brand.domains[0],
                  "brand": h.brand.name_en}
            out.append(Finding(_token_rule(h.brand, h.whole), ev))

        gov_like: list[str] = []
        vn_context = suffix == "vn" or suffix.endswith(".vn") or bool(hits)
        if "gov" in skel and not gov_suffix and not self._foreign_gov_label(domain, suffix):
            for lab in labels:
                for part in lab.split("-"):
                    core = part.strip("0123456789_")
                    if core and "gov" in core and _GOV_LIKE.match(core):
                        gov_like.append(part)
                        vn_context = vn_context or self._vn_gov_context(core)
                if gov_like and ("vn" in lab or "viet" in lab):
                    vn_context = True
            if gov_like:
                out.append(Finding("URL-GOV-002" if vn_context else "URL-GOV-005",
                                   {"token": gov_like[0], "labels": gov_like,
                                    "real_suffix": suffix}))

        fake_tld = _FAKE_TLD.search(name_ascii)
        if fake_tld:
            out.append(Finding("URL-LEX-010", {"label": fake_tld.group(1),
                                               "real_suffix": suffix}))

        if platform is not None and sub_labels and (gov_like or any(
                not h.label_is_registrable for h in hits)):
            token = gov_like[0] if gov_like else next(h.token for h in hits)
            out.append(Finding("URL-IMP-003", {"platform": platform[1], "token": token,
                                               "host": host}))

        matched = {h.token for h in hits} | set(claimed)
        for lab in labels:
            if len(lab) < 5:
                continue
            for part, (target, dom) in self._label_typos(lab):
                if part in matched or (matched and any(t in part for t in matched)):
                    continue
                out.append(Finding("URL-IMP-002", {"label": part, "resembles": target,
                                                   "imitates": dom}))

        out.extend(self.compound.findings(labels, registrable, suffix, gov_suffix))
        out.extend(self.names.findings(labels, domain, suffix, digits))
        if len(domain) >= MIN_RANDOM and not digits:  # most names stop here
            out.extend(self.random_name.findings(domain))
        leet = self.leet.findings(labels) if digits or _DIGITS.search(subdomain) else []
        # URL-IMP-001 has read the digits already, for a registry name.
        if leet and not any(f.rule_id == "URL-IMP-001" for f in out):
            # One trick, one finding: app1e is one edit from apple too.
            brand = leet[0].evidence["reads_as"]
            out = [f for f in out if not (f.rule_id == "URL-IMP-006"
                                          and f.evidence.get("resembles") == brand)]
            out.extend(leet)
        out.extend(lure_findings(name_ascii, domain))
        if platform is not None:
            out = self._with_site_findings(out, host, platform)

        if self._has_vocab:
            # Hyphens split words in scam names (tin-dung-ca-nhan): match across them.
            words = sorted({w for _, w in self._vocab.iter(name_ascii.replace("-", ""))})
            if words:
                out.append(Finding("URL-LEX-009", {"words": words[:5]}))
            if len(words) >= 2:
                out.append(Finding("URL-LEX-011", {"words": words[:5]}))
        return tuple(out)

    def _with_site_findings(self, out: list[Finding], host: str,
                            platform_of: tuple[str, str]) -> list[Finding]:
        """``out`` with the URL-PLAT-* findings of a site on ``platform``.

        A brand already counted as an impersonation (URL-IMP-*) is not counted
        again; URL-PLAT-002 says what URL-SEG-004 says of a platform site, and
        more, so it replaces it."""
        kind, platform = platform_of
        name = host[: -len(platform) - 1]
        # The platform's own name is its operator's (amazon in s3.amazonaws.com): a
        # brand there is no one's imitation; the site's name speaks.
        out = [f for f in out if not (f.rule_id == "URL-SEG-004"
                                      and f.evidence.get("brand", "") in platform
                                      and f.evidence.get("brand", "") not in name)]
        if self.sites.own_account(name, platform):
            # facebook.github.io is Facebook's own account there, not a fake of it.
            return [f for f in out if f.rule_id not in _BRAND_NAME_RULES]
        site = self.sites.findings(name, platform, kind)
        if not site:
            return out
        ids = {f.rule_id for f in out}
        if ids & _IMPERSONATION:
            site = [f for f in site if f.rule_id != "URL-PLAT-002"]
        if any(f.rule_id == "URL-PLAT-002" for f in site):
            out = [f for f in out if f.rule_id != "URL-SEG-004"]
        return [*out, *site]

    def _label_typos_uncached(self, lab: str) -> tuple[tuple[str, tuple[str, str]], ...]:
        """(part, (brand name, its domain)) for each part of ``lab`` one edit from a brand
        name, in a fixed order: the whole label first (a set's order would change with
        the process's string hashing, and so would the order of the findings)."""
        parts = ((lab.strip("0123456789"),) if "-" not in lab and "_" not in lab else
                 tuple(dict.fromkeys(p.strip("0123456789") for p in (
                     lab.replace("-", ""), *_PART_SPLIT.split(lab)))))
        out = []
        for part in parts:
            if len(part) >= 5:
                typo = self._typo(part)
                if typo is not None:
                    out.append((part, typo))
        return tuple(out)

    def _token_hits(self, labels: list[str]) -> list[_TokenHit]:
        reg = self.reg
        hits: list[_TokenHit] = []
        # Tokens hold no dots, so one pass over the whole name tells whether
        # any label needs the per-label work below (most hosts: none).
        if next(reg.automaton.iter(".".join(labels)), None) is None:
            return hits
        last = len(labels) - 1
        context: bool | None = None  # computed on first need: most hosts never ask
        for idx, lab in enumerate(labels):
            if not lab:
                continue
            found: list[tuple[int, int, str]] = []
            for end, tok in reg.automaton.iter(lab):
                found.append((end - len(tok) + 1, end + 1, tok))
            if not found:
                continue
            # Longest first, no overlaps: "dichvucongquocgia" over "dichvucong".
            found.sort(key=lambda t: (-(t[1] - t[0]), t[0]))
            taken: list[tuple[int, int]] = []
            for start, end, tok in found:
                if any(start < e and s < end for s, e in taken):
                    continue
                token = reg.by_token[tok]
                before = lab[start - 1] if start > 0 else "-"
                after = lab[end] if end < len(lab) else "-"
                whole = not before.isalpha() and not after.isalpha()
                # Short codes (acb, vcb, momo) only count as a whole part in a
                # host that also has a banking or Vietnamese word (acb-online,
                # vib.tructuyen-the): alone they are some other company's own
                # name (scb.co.th, shb-sync.com).
                if not token.glued:
                    if not whole:
                        continue
                    if context is None:
                        context = any(not _CONTEXT_WORDS.isdisjoint(_PART_SPLIT.split(x))
                                      for x in labels) or self._glued_context(labels)
                    if not context:
                        continue
                taken.append((start, end))
                hits.append(_TokenHit(tok, token.brand, lab, whole, idx == last))
        return hits

    def _glued_context(self, labels: list[str]) -> bool:
        """Whether a label read as words holds a banking or service word (vcb.chamsocthe)."""
        for lab in labels:
            for t in self.seg.label(lab):
                if t.kind == "vi" and " " in t.text and t.text in SERVICE_WORDS:
                    return True
                if t.text in _CONTEXT_WORDS and len(t.text) >= 3:
                    return True
        return False

    def _vn_gov_context(self, core: str) -> bool:
        """Whether a gov-like part carries a Vietnamese marker (hgov, gdtgov, vietgov)."""
        head = core[: core.index("gov")]
        if "vn" in core or "viet" in head:
            return True
        if head in self.reg.by_token:
            return True
        return 1 <= len(head) <= 2 and head not in _FOREIGN_GOV_PREFIXES

    @staticmethod
    def _foreign_gov_label(domain: str, suffix: str) -> bool:
        """gov.bc.ca and the like: a government label right under another country's TLD."""
        top = suffix.rsplit(".", 1)[-1]
        return domain in ("gov", "gouv", "gob", "govt") and len(top) == 2 and top != "vn"

    def _typo_uncached(self, part: str) -> tuple[str, str] | None:
        if len(part) > _MAX_TYPO_PART:
            return None
        if len(part) > self._typo_max or part in self._typo_choices or (
                part[:2] not in self._typo_heads and part[-2:] not in self._typo_tails):
            return None
        cands = set(self._typo_deletes.get(part, ()))
        for d in _deletions(part):
            if d in self._typo_choices:
                cands.add(d)
            cands.update(self._typo_deletes.get(d, ()))
        # Short names: one inserted or dropped letter turns too many real
        # words into a brand (credit → mcredit, tbank → tpbank), so below seven
        # letters only same-length edits count.
        n = len(part)
        found = sorted(c for c in cands
                       if (n >= 7 or len(c) == n)
                       and DamerauLevenshtein.distance(part, c, score_cutoff=1) == 1)
        if not found:
            return None
        target = found[0]
        return target, self._typo_choices[target][0]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@cache
def default_scanner(blocklists: bool = True) -> OfflineURLScanner:
    """The scanner over the bundled data, built once per process; ``blocklists=False``:
    without any blocklist (:class:`NoLists`), allowlists, rules and model kept."""
    if not blocklists:
        default_scanner()  # share the registry's and lists' caches
        scanner = OfflineURLScanner(index=NoLists())
    else:
        scanner = OfflineURLScanner()
    # The lists, lexicon and automata live as long as the process: moved out of
    # the collector's generations, they are no longer traversed by every full
    # collection that the per-link allocations of a batch trigger (about a tenth
    # of the time of `scamscan url --file`).
    gc.freeze()
    return scanner
