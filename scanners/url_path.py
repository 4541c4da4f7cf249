"""Signals in a link's path and query (URL-PATH-*), where international phishing shows.

* ``URL-PATH-001``: account words (login, verify, update, signin…).
* ``URL-PATH-002``: a global brand's name in the path of another site (the global
  brands of :mod:`scanners.url_words` and :data:`PATH_BRANDS`, whole path segments only).
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
_IPFS_CID = re.compile(r"baf[a-z2-7]{40,}\.")
"""A CIDv1 in base32 as a host's first label, the form subdomain gateways take (a
CIDv0, Qm…, is case-sensitive base58 and cannot be a host label)."""
_LONG = 24

# Banks, posts, telecoms and wallets that international phishing kits dress up
# as, in a folder or file name of a hacked site (/chase/login.php, /correos/,
# /dbs/...): read in the path only, as a whole segment, so that short or common
# names (ing, ups, nab) never match inside words or host names. Chosen from
# public knowledge of the brands most phished abroad, not from any list of links.
PATH_BRANDS = frozenset({
    "chase", "bankofamerica", "citibank", "hsbc", "santander", "barclays", "natwest",
    "lloyds", "halifax", "rabobank", "abnamro", "ing", "bbva", "bnpparibas",
    "creditagricole", "societegenerale", "sparkasse", "postbank", "commerzbank",
    "deutschebank", "unicredit", "intesa", "bancolombia", "banorte", "itau", "bradesco",
    "caixa", "nubank", "dbs", "ocbc", "uob", "maybank", "cimb", "anz", "westpac",
    "commbank", "nab", "scotiabank", "rbc", "interac", "desjardins", "kakao", "naver",
    "rakuten", "docomo", "postnl", "dpd", "royalmail", "laposte", "correos", "auspost",
    "canadapost", "evri", "swisspost", "postfinance", "sbb", "bpost", "poste",
    "posteitaliane", "inpost", "ups", "gls", "att", "verizon", "allegro", "mercadolibre",
    "mercadopago", "ameli", "impots", "kraken", "okx", "bybit", "exodus", "uniswap",
    "opensea", "trustwallet", "roundcube", "zimbra", "owa", "disney",
}) | url_words.GLOBAL_BRANDS


_SEGMENTS = re.compile(r"[/?&=#.]+")


def _brand_in(low: str, host: str) -> str | None:
    # A whole path segment (/paypal/, /microsoft.html), not a word of an
    # article's slug (/video/...-apple-devices).
    segs = set(_SEGMENTS.split(low))
    for w in sorted(segs & PATH_BRANDS):
        if w not in host:
            return w
    return None


def path_findings(host: str, path: str) -> list[Finding]:
    """Findings about ``path`` (path, query and fragment) of a link to ``host``."""
    if not path or path == "/":
        # A subdomain gateway (<cid>.ipfs.dweb.link) serves the page at its root.
        if ".ipfs." in host and _IPFS_CID.match(host):
            return [Finding("URL-PATH-003", {"match": host[:60]})]
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
