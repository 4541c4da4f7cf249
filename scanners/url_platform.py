"""Rules on the name of a site on a shared platform (URL-PLAT-*).

On ``webflow.io``, ``weebly.com``, ``pages.dev``, ``github.io`` and the other
platforms of :meth:`blocklists.PlatformLists.platform_of`, anyone names a site
in a minute, so the registrable domain says nothing and the site's own name is
what a reader sees. Phishing kits there name the site after what they fake:

* ``URL-PLAT-001``: sign-in or wallet words (``login``, ``signin``, ``sso``,
  ``auth``, ``wallet``, ``webmail``, ``verify``…) in the site's name.
* ``URL-PLAT-002``: a brand often phished (the global brands of
  :mod:`scanners.url_words`, the path brands of :mod:`scanners.url_path`, and
  the crypto wallets, mail and internet providers of :data:`SITE_BRANDS`) in
  the site's name, or spelt one slip off (``metmask``, ``trezzr``, ``l-edger``;
  off a developer platform, also a six-letter brand with a letter dropped, as a
  part of its own: ``trzor``, ``ledgr``, unless that is a word: ``ledge``).
  A developer platform's site named exactly after a brand (``facebook.github.io``)
  is that brand's own account there, and does not count; nor, there, does a brand
  spelt right beside other words with no sign-in word (``facebookresearch``,
  ``googlecloudplatform``: the brand's organisations).

Both read only the platforms whose subdomains are users' sites (:data:`SITE_LISTS`),
and neither reads a name that is one bare brand or sign-in word (``oauth.telegram.org``,
``login.wix.com``): platforms keep such names for their own services, and kits glue
more to them (``gimenilogin``, ``login-metmask``).

The word lists are written by hand from public knowledge of what kits fake,
never copied from links; the rules were chosen on the validation window of the
link data and the benign home pages of Debian's packages (docs/evaluation.md,
"Sites on shared platforms").
"""

from __future__ import annotations

import re
from functools import lru_cache

import ahocorasick
from rapidfuzz.distance import OSA

from scanners import url_words
from scanners.findings import Finding
from scanners.segment import Segmenter
from scanners.url_path import PATH_BRANDS

SIGN_IN_WORDS = ("login", "signin", "logon", "verify", "verification", "secure", "account",
                 "wallet", "recover", "unlock", "validate", "suspend", "confirm", "webmail",
                 "helpdesk", "billing", "authoriz", "authenticat", "airdrop", "password")
"""Read anywhere in the site's letters (``gimenilogin``, ``mettamisk_signin``)."""
SIGN_IN_PARTS = frozenset({"sso", "auth", "oauth", "dapp", "otp", "kyc"})
"""Too short to read inside words: whole parts only (``sso-crypto-auth``)."""
SITE_BRANDS = frozenset({
    # Crypto wallets and exchanges whose "connect your wallet" pages are faked.
    "uphold", "kraken", "exodus", "phantom", "trustwallet", "bitget", "kucoin", "robinhood",
    "coinbase", "metamask", "trezor", "ledger", "blockchain", "binance",
    # Mail and internet providers whose webmail log-ins are faked.
    "telstra", "bigpond", "optus", "xfinity", "comcast", "centurylink", "shaw", "eastlink",
    "juno", "webde", "gmx", "aol", "yahoo", "att", "bt", "sbcglobal", "roadrunner",
    "earthlink", "netzero", "verizon", "sympatico", "wanadoo", "libero", "telus",
})
"""Brands of the kits on shared platforms, besides the global and path brands."""
PHISHED_BRANDS = url_words.GLOBAL_BRANDS | PATH_BRANDS | SITE_BRANDS
"""Every brand the name rules read as phished: global, path and platform brands (also
URL-IMP-008's, :mod:`scanners.url_leet`)."""
_ALL_SIGN_IN = frozenset(SIGN_IN_WORDS) | SIGN_IN_PARTS | {"signon", "accounts"}
SITE_LISTS = frozenset({"free_subdomain_hosts", "user_site_platforms"})
"""Platform lists whose subdomains are users' sites. On the file hosts and form
builders of the other lists (telegram.org, wetransfer.com, surveymonkey.com) the
subdomains are mostly the operator's own services (auth.wetransfer.com)."""
_DEV_PLATFORMS = frozenset({"github.io", "gitlab.io", "bitbucket.io"})
"""Where a site's name is an account's, and accounts are named after software: a
brand's own name there is the brand's, its organisations add words to it, and a
project's name often starts like a short brand."""
_LETTERS = re.compile(r"[a-z]+")
_GLUED_MIN = 8
"""On a developer platform, brands this long or longer are also read misspelt at the
start of a longer part."""
_FUZZY_MIN = 6
"""Brands shorter than this match only exactly: one slip from a five-letter brand is
often a word (lloyd, apply)."""


_SLIP_NAMES = frozenset({"lloyd", "libro", "liber", "leger"})
"""Names and foreign words that a dropped letter makes of a six-letter brand (lloyds,
libero) and that the lexicon of :mod:`scanners.segment` does not hold."""


def _is_sign_in(part: str) -> bool:
    return part in SIGN_IN_PARTS or any(w in part for w in SIGN_IN_WORDS)


def _edits_allowed(brand: str) -> int:
    # Two slips keep a long name readable (mettamisk), but not a short one.
    return 1 if len(brand) < 8 else 2


class PlatformSiteRules:
    """The two rules above (thread-safe; cached per site name)."""

    def __init__(self, seg: Segmenter) -> None:
        """``seg``: the segmenter that tells a dropped-letter brand from a word (the
        scanner's own)."""
        brands = PHISHED_BRANDS
        self._brands = brands
        self._long = ahocorasick.Automaton()
        self._by_first: dict[str, list[str]] = {}
        for b in sorted(b for b in brands if len(b) >= _FUZZY_MIN):
            self._long.add_word(b, b)
            self._by_first.setdefault(b[0], []).append(b)
        self._long.make_automaton()
        # A six-letter brand with one letter dropped (not the first), read as a
        # whole part off developer platforms: wallet kits write trzor, trezr, ledgr.
        self._dropped: dict[str, str] = {}
        for b in sorted(b for b in brands if len(b) == _FUZZY_MIN):
            for i in range(1, len(b)):
                v = b[:i] + b[i + 1 :]
                toks = seg.label(v)
                is_word = len(toks) == 1 and toks[0].kind in ("en", "vi")
                if v not in brands and v not in _SLIP_NAMES and not is_word:
                    self._dropped.setdefault(v, b)
        self.site = lru_cache(maxsize=32768)(self._site)

    def findings(self, name: str, platform: str, kind: str) -> list[Finding]:
        """Findings about the site ``name`` (its host without ``.<platform>``) on
        ``platform`` of the platform list ``kind``
        (:meth:`blocklists.PlatformLists.platform_of`)."""
        if kind not in SITE_LISTS:
            return []
        return list(self.site(name, platform))

    def own_account(self, name: str, platform: str) -> bool:
        """Whether the site ``name`` is a developer platform's account named exactly
        after a brand (``facebook`` on github.io): the brand holds that account."""
        return platform in _DEV_PLATFORMS and name in self._brands

    def _site(self, name: str, platform: str) -> tuple[Finding, ...]:
        parts = _LETTERS.findall(name)
        if not parts:
            return ()
        letters = "".join(parts)
        if name == letters and (name in self._brands or name in _ALL_SIGN_IN):
            # One bare word (oauth.telegram.org, login.wix.com, paypal.weebly.com):
            # a name the platform keeps for itself or the brand's own; kits glue more.
            return ()
        out: list[Finding] = []
        words = [w for w in SIGN_IN_WORDS if w in letters]
        words += sorted(SIGN_IN_PARTS.intersection(parts))
        if words:
            out.append(Finding("URL-PLAT-001", {"words": words[:4], "site": name,
                                                "platform": platform}))
        brand = self._brand(parts, letters, platform in _DEV_PLATFORMS)
        if brand is not None and not brand[1] and not words and platform in _DEV_PLATFORMS:
            # A brand's organisations there put more words to its name
            # (facebookresearch, googlecloudplatform, microsoftdocs): spelt right and
            # with no sign-in word, the name is more likely theirs than a kit's.
            brand = None
        if brand is not None:
            ev = {"brand": brand[0], "site": name, "platform": platform}
            if brand[1]:
                ev["spelt"] = brand[1]
            out.append(Finding("URL-PLAT-002", ev))
        return tuple(out)

    def _brand(self, parts: list[str], letters: str, dev: bool) -> tuple[str, str] | None:
        """(brand, the part that misspells it, or "") for a site's name, read as its
        runs of letters (``parts``) and those runs joined (``letters``), on a developer
        platform or not (``dev``)."""
        for _, b in self._long.iter(letters):
            return str(b), ""
        for x in parts:
            # Short brands (att, bt, shaw, apple) only as a whole part, beside
            # nothing but numbers or sign-in words (shaw-106648, bt-login): as
            # parts of longer names they are everyday words.
            if x in self._brands and len(x) < _FUZZY_MIN and all(
                    y == x or _is_sign_in(y) for y in parts):
                return x, ""
        for x in parts:
            if len(x) < _FUZZY_MIN:
                continue
            for b in self._by_first.get(x[0], ()):
                k = _edits_allowed(b)
                # The brand may be glued to more letters (metmaskapp, ledgurlive).
                # On a developer platform, where sites are named after software,
                # a short brand misspelt at a word's start is too often another
                # word (libproxy is not libero): there it must be the whole part.
                cands = (x,) if dev and len(b) < _GLUED_MIN else (
                    x, x[: len(b) - 1], x[: len(b)], x[: len(b) + 1])
                for cand in cands:
                    if len(cand) >= _FUZZY_MIN and 0 < OSA.distance(cand, b, score_cutoff=k) <= k:
                        return b, x
        if not dev:
            for x in parts:
                b = self._dropped.get(x)
                if b is not None:
                    return b, x
        return None
