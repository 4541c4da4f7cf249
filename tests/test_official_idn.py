"""Only ASCII names get the ``official`` verdict (penetration test, issue 15).

``dichvucоng.gov.vn`` with a Cyrillic "о" was reported *official*: any host
under gov.vn was. gov.vn and the registry's official domains are ASCII, so a
punycode (IDN) label anywhere in a host that would otherwise be official or
allowlisted loses the allowlist and gets ``URL-IMP-005``; look-alike letters
also get the homograph finding ``URL-IMP-001``. The live scanner's "official:
do not score page signals" exemption follows the same rule.
"""

from __future__ import annotations

import pytest

from scanners.fetch import GuardedFetcher
from scanners.findings import Verdict, aggregate
from scanners.live import LiveFetchScanner
from scanners.normalize import normalize
from scanners.url_offline import default_scanner

CYRILLIC_O = "\u043e"


def verdict(text: str) -> tuple[Verdict, set[str]]:
    agg = aggregate(default_scanner().check(normalize(text)))
    return agg.verdict, {f.rule_id for f in agg.counted}


@pytest.mark.parametrize("host", [
    f"dichvuc{CYRILLIC_O}ng.gov.vn",            # Cyrillic о in the label
    f"https://dichvuc{CYRILLIC_O}ng.gov.vn/dang-nhap",
    "xn--dichvucng-62h.gov.vn",                 # the same, as punycode
    "xn--ch-1fa.gov.vn",                        # any punycode label under gov.vn
    "a.xn--80ak6aa92e.gov.vn",                  # ... anywhere in the host
    f"vietc{CYRILLIC_O}mbank.com.vn.xn--80ak6aa92e.com",
    "xn--vietcmbank-z2a.vietcombank.com.vn",    # an IDN label under an official bank domain
    f"{CYRILLIC_O}.hust.edu.vn",                # and under an allowlisted one
])
def test_idn_label_is_never_official(host: str) -> None:
    v, ids = verdict(host)
    assert v is not Verdict.OFFICIAL
    assert v in (Verdict.SUSPICIOUS, Verdict.DANGEROUS), (host, v, ids)


def test_cyrillic_look_alike_under_gov_vn_is_a_dangerous_homograph() -> None:
    v, ids = verdict(f"dichvuc{CYRILLIC_O}ng.gov.vn")
    assert v is Verdict.DANGEROUS
    assert {"URL-IMP-001", "URL-IMP-005"} <= ids
    f = next(f for f in default_scanner().check(normalize(f"dichvuc{CYRILLIC_O}ng.gov.vn"))
             if f.rule_id == "URL-IMP-005")
    assert f.evidence["shown_as"] == f"dichvuc{CYRILLIC_O}ng.gov.vn"
    assert f.evidence["labels"] == ["xn--dichvucng-62h"]
    assert f.evidence["would_be"] == "URL-OFF-001"


@pytest.mark.parametrize(("host", "expected"), [
    ("dichvucong.gov.vn", Verdict.OFFICIAL),
    ("https://DICHVUCONG.gov.vn/", Verdict.OFFICIAL),
    ("vneid.gov.vn", Verdict.OFFICIAL),
    ("vietcombank.com.vn", Verdict.OFFICIAL),
    ("hust.edu.vn", Verdict.NO_KNOWN_RISK),
])
def test_real_ascii_names_stay_as_they_were(host: str, expected: Verdict) -> None:
    v, ids = verdict(host)
    assert v is expected and "URL-IMP-005" not in ids


def test_live_page_signals_are_scored_on_an_idn_gov_vn_host() -> None:
    live = LiveFetchScanner(GuardedFetcher())
    assert live.is_official(normalize("dichvucong.gov.vn"))
    assert not live.is_official(normalize(f"dichvuc{CYRILLIC_O}ng.gov.vn"))
    assert not live.is_official(normalize("a.xn--80ak6aa92e.gov.vn"))
