"""Signals in a link's path and query (URL-PATH-*), where international phishing shows.

* ``URL-PATH-001``: account words (login, verify, update, signin…).
* ``URL-PATH-002``: a global brand's name in the path of another site.
* ``URL-PATH-003``: an IPFS gateway or content id.
* ``URL-PATH-004``: a long random-looking token (tracking or per-victim ids).

Only the first :data:`MAX_PATH` characters are read, so a huge path costs no
more than a normal one.
"""

from __future__ import annotations

import re

from scanners import url_words
from scanners.findings import Finding

MAX_PATH = 2048
_WORDS = re.compile(r"[a-z]+")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_IPFS = re.compile(r"/ip[fn]s/|\bbafy[a-z2-7]{40,}|\bQm[1-9A-HJ-NP-Za-km-z]{44}")
ACCOUNT_WORDS = frozenset({
    "login", "signin", "logon", "verify", "verification", "update", "secure", "account",
    "webscr", "unlock", "suspended", "recover", "recovery", "confirm", "validate",
    "authenticate", "auth", "wallet", "billing", "password", "dangnhap", "xacthuc",
    "xacminh", "otp", "kyc", "restore",
})
_LONG = 24


_SEGMENTS = re.compile(r"[/?&=#.]+")


def _brand_in(low: str, host: str) -> str | None:
    # A whole path segment (/paypal/, /microsoft.html), not a word of an
    # article's slug (/video/...-apple-devices).
    segs = set(_SEGMENTS.split(low))
    for w in sorted(segs & url_words.GLOBAL_BRANDS):
        if w not in host:
            return w
    return None


def path_findings(host: str, path: str) -> list[Finding]:
    """Findings about ``path`` (path, query and fragment) of a link to ``host``."""
    if not path or path == "/":
        return []
    path = path[:MAX_PATH]
    low = path.lower()
    words = set(_WORDS.findall(low))
    out: list[Finding] = []
    acct = sorted(words & ACCOUNT_WORDS)
    if acct:
        out.append(Finding("URL-PATH-001", {"words": acct[:4]}))
    brand = _brand_in(low, host)
    if brand is not None:
        out.append(Finding("URL-PATH-002", {"brand": brand, "host": host}))
    m = _IPFS.search(path)
    if m is not None or host.startswith(("ipfs.", "gateway.ipfs")) or ".ipfs." in host:
        out.append(Finding("URL-PATH-003", {"match": (m.group() if m else host)[:60]}))
    for part in _SPLIT.split(path):
        if len(part) >= _LONG and not part.isalpha() and not part.isdigit() \
                and sum(c.isdigit() for c in part) >= 4:
            out.append(Finding("URL-PATH-004", {"token": part[:40], "length": len(part)}))
            break
    return out
