"""Lures of international phishing read in a host name (URL-LURE-*).

* ``URL-LURE-001``: a parcel carrier's name beside parcel words (``fedexnotice``,
  ``usps-redelivery``, ``colis-laposte``) on a host that is not the carrier's.

Fake parcel notices ("your package is held, pay the fee") are among the
commonest phishing abroad; their names join the carrier to the notice.
Carriers with long names count anywhere in the host (glued or not); the
three-letter ones (dhl, ups, dpd, gls) only as a whole label or hyphen-separated
part, since inside a word they are just letters (``groups``, ``pdpd``).
"""

from __future__ import annotations

import re

from scanners.findings import Finding

CARRIERS = frozenset({
    "fedex", "usps", "royalmail", "laposte", "correos", "auspost", "canadapost", "postnl",
    "evri", "jtexpress", "ninjavan", "swisspost", "inpost", "postnord", "posteitaliane",
    "hermes", "yodel", "purolator", "aramex", "bpost",
})
"""Carriers named anywhere in the host (long enough not to be letters of another word)."""
SHORT_CARRIERS = frozenset({"dhl", "ups", "dpd", "gls"})
"""Carriers named only as a whole label or hyphen-separated part."""
PARCEL_WORDS = (
    "package", "parcel", "tracking", "track", "redeliver", "delivery", "deliver", "notice",
    "shipment", "shipping", "customs", "colis", "livraison", "expedition", "paquete",
    "envio", "pakket", "sendung", "zustellung", "reschedule",
)
"""Words of a parcel notice, in the languages of the carriers above (read glued)."""
_PARTS = re.compile(r"[.\-_]+")
# One search tells whether any carrier's letters are in the host at all (most
# hosts: none), before the host is split and read.
_ANY_CARRIER = re.compile("|".join(sorted(CARRIERS | SHORT_CARRIERS, key=lambda c: (-len(c), c))))


def lure_findings(name: str, domain: str) -> list[Finding]:
    """Findings for ``name`` (the host below its public suffix); ``domain`` is the
    registrable label (a carrier's own site, ``usps.com``, is never a lure)."""
    if _ANY_CARRIER.search(name) is None or domain in CARRIERS or domain in SHORT_CARRIERS:
        return []
    parts = [x for x in _PARTS.split(name) if x]
    flat = "".join(parts)
    carrier = next((c for c in sorted(CARRIERS) if c in flat), None)
    if carrier is None:
        carrier = next((c for c in sorted(SHORT_CARRIERS) if c in parts), None)
    if carrier is None:
        return []
    rest = flat.replace(carrier, " ")
    words = [w for w in PARCEL_WORDS if w in rest]
    if not words:
        return []
    return [Finding("URL-LURE-001", {"carrier": carrier, "words": words[:3]})]
