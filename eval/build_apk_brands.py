"""Build ``blocklists/data/apk_brands.json``: brands an app label may claim (banks,
wallets, payment services, government bodies, telecoms, system and store
components), each with its match terms and where its name comes from.

    python eval/build_apk_brands.py --data ../shared/data

Sources, recorded per brand:

- ``phishtank-2018-2019``: the ``target`` column of the PhishTank archive
  (``urls/phishtank_2018_2019.csv``). Only brand *names* are used (PhishTank's
  terms allow a derived list of names with credit; no URL is shipped). Targets
  that are not a bank, wallet, payment service, government body or telecom
  (games, shops, mail, social networks: the well-known-app list covers those)
  are left out; the category and the distinctive terms of each kept target are
  set below by hand (a generic word such as "orange" or "visa" alone would
  match innocent labels).
- ``vn-banks``: ``urls/vn_banks.csv`` (delta94/vietnam, MIT): each bank's
  domain label and brand codes.
- ``scamscan-system``: system and store components that droppers pose as
  ("Google Play Protect", "Flash Player", "Güncelleme" = update), written here.

The official-app registry (``official_apps.json``) is matched by APK-IMP-001
already and is not repeated. Output: sorted, so a rebuild is byte-identical.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "blocklists" / "data" / "apk_brands.json"

# PhishTank target -> (category, match terms). Targets absent here are not kept.
PHISHTANK: dict[str, tuple[str, tuple[str, ...]]] = {
    "PayPal": ("payment", ("paypal",)),
    "ABSA Bank": ("bank", ("absa",)),
    "Blockchain": ("wallet", ("blockchain wallet", "blockchain com")),
    "Binance": ("wallet", ("binance",)),
    "Internal Revenue Service": ("government", ("irs", "internal revenue service")),
    "Bradesco": ("bank", ("bradesco",)),
    "JPMorgan Chase and Co.": ("bank", ("jpmorgan", "chase bank", "chase mobile")),
    "MyEtherWallet": ("wallet", ("myetherwallet",)),
    "ING Direct": ("bank", ("ing direct", "ing bank", "ing banking")),
    "Her Majesty's Revenue and Customs": ("government", ("hmrc",)),
    "Bank of America Corporation": ("bank", ("bank of america", "bofa")),
    "Banco De Brasil": ("bank", ("banco do brasil", "banco de brasil")),
    "Orange": ("telecom", ("orange money", "mon orange")),
    "Caixa": ("bank", ("caixa",)),
    "Wells Fargo": ("bank", ("wells fargo",)),
    "Itau": ("bank", ("itau",)),
    "PKO Polish Bank": ("bank", ("pko", "ipko")),
    "Vodafone": ("telecom", ("vodafone",)),
    "ASB Bank Limited": ("bank", ("asb bank", "asb mobile")),
    "American Express": ("payment", ("american express", "amex")),
    "Development Bank of Singapore": ("bank", ("dbs bank", "digibank")),
    "Santander UK": ("bank", ("santander",)),
    "Allied Bank Limited": ("bank", ("allied bank",)),
    "ABN AMRO Bank": ("bank", ("abn amro",)),
    "HSBC Group": ("bank", ("hsbc",)),
    "NatWest Bank": ("bank", ("natwest",)),
    "Poste Italiane": ("payment", ("poste italiane", "postepay")),
    "Coinbase": ("wallet", ("coinbase",)),
    "Mastercard": ("payment", ("mastercard",)),
    "Visa": ("payment", ("visa card", "visa mobile")),
    "United Services Automobile Association": ("bank", ("usaa",)),
    "Cartasi": ("payment", ("cartasi",)),
    "CIBC": ("bank", ("cibc",)),
    "TD Ameritrade": ("bank", ("td ameritrade",)),
    "National Australia Bank": ("bank", ("national australia bank",)),
    "UniCredit": ("bank", ("unicredit",)),
    "Capital One": ("bank", ("capital one",)),
    "Alliance Bank": ("bank", ("alliance bank",)),
    "Scotiabank": ("bank", ("scotiabank",)),
    "PNC Bank": ("bank", ("pnc bank", "pnc mobile")),
    "Rabobank": ("bank", ("rabobank",)),
    "Royal Bank of Canada": ("bank", ("royal bank of canada", "rbc mobile")),
    "Capitec Bank": ("bank", ("capitec",)),
    "Safra Bank": ("bank", ("safra",)),
    "Australia and New Zealand Banking Group Limited": ("bank", ("anz",)),
    "TD Canada Trust": ("bank", ("td canada",)),
    "US Bank": ("bank", ("us bank",)),
    "Lloyds Bank": ("bank", ("lloyds",)),
    "Barclays Bank PLC": ("bank", ("barclays",)),
    "BMO Financial": ("bank", ("bmo",)),
    "Suncorp": ("bank", ("suncorp",)),
    "British Telecom": ("telecom", ("british telecom",)),
    "Standard Bank Ltd.": ("bank", ("standard bank",)),
    "TSB": ("bank", ("tsb",)),
    "Intesa Sanpaolo": ("bank", ("intesa", "sanpaolo")),
    "Regions Bank": ("bank", ("regions bank",)),
    "Bitfinex": ("wallet", ("bitfinex",)),
    "Westpac": ("bank", ("westpac",)),
    "Halifax": ("bank", ("halifax",)),
    "Discover Bank": ("bank", ("discover bank",)),
    "Citibank": ("bank", ("citibank", "citi mobile")),
    "Royal Bank of Scotland": ("bank", ("royal bank of scotland", "rbs")),
    "Western Union": ("payment", ("western union",)),
    "Banco Real": ("bank", ("banco real",)),
    "Deutsche Bank": ("bank", ("deutsche bank",)),
    "Discover Card": ("payment", ("discover card",)),
    "LocalBitcoins.com": ("wallet", ("localbitcoins",)),
    "Commonwealth Bank of Australia": ("bank", ("commbank", "commonwealth bank")),
    "Kiwibank": ("bank", ("kiwibank",)),
    "Navy Federal Credit Union": ("bank", ("navy federal",)),
    "Verizon Wireless": ("telecom", ("verizon",)),
    "Fifth Third Bank": ("bank", ("fifth third",)),
    "Bitmex": ("wallet", ("bitmex",)),
    "Citizens Bank": ("bank", ("citizens bank",)),
    "Gruppo Carige": ("bank", ("carige",)),
    "Nationwide Building Society": ("bank", ("nationwide building society",)),
    "First National Bank (South Africa)": ("bank", ("fnb",)),
    "Centurylink": ("telecom", ("centurylink",)),
    "Key Bank": ("bank", ("keybank", "key bank")),
    "CIMB Bank": ("bank", ("cimb",)),
    "PagSeguro": ("payment", ("pagseguro",)),
    "Paxful": ("wallet", ("paxful",)),
    "Metro Bank": ("bank", ("metro bank",)),
    "Volksbanken Raiffeisenbanken": ("bank", ("volksbank", "raiffeisen")),
    "MyMonero": ("wallet", ("mymonero",)),
    "Swedbank": ("bank", ("swedbank",)),
    "Giffgaff": ("telecom", ("giffgaff",)),
    "SunTrust Bank": ("bank", ("suntrust",)),
    "Diners Club International": ("payment", ("diners club",)),
    "Australian Taxation Office": ("government", ("australian taxation office",)),
    "Bank Millennium": ("bank", ("bank millennium", "millennium bank")),
    "Nedbank Ltd.": ("bank", ("nedbank",)),
    "Nordea Bank": ("bank", ("nordea",)),
    "Xapo": ("wallet", ("xapo",)),
    "MyCrypto": ("wallet", ("mycrypto",)),
    "bitFlyer": ("wallet", ("bitflyer",)),
    "Guaranty Trust Bank": ("bank", ("gtbank", "guaranty trust")),
    "South African Revenue Service": ("government", ("south african revenue service",
                                                     "sars efiling")),
    "Bendigo Bank": ("bank", ("bendigo",)),
}

# System and store components that droppers and bankers pose as.
SYSTEM: dict[str, tuple[str, ...]] = {
    "Google Play Protect": ("play protect", "google protect"),
    "Adobe Flash Player": ("flash player", "adobe flash", "flashplayer"),
    "System update": ("guncelleme", "sistem guncellemesi", "android update",
                      "software update", "security update", "actualizacion",
                      "atualizacao", "aktualisierung", "mise a jour"),
    "Google Chrome update": ("chrome update", "update chrome"),
    "Play Store": ("play market", "playstore"),
}
_SHORT_OK = {"acb", "vib", "shb", "msb", "ocb", "scb", "uob", "anz", "vdb", "ncb", "tpb",
             "bidv", "hsbc", "icbc", "smbc", "mufg", "bidc", "vbsp", "rhb", "vrb"}
_GENERIC = {"bank", "db", "hlb", "worldbank"}


def _fold(text: str) -> str:
    from scanners.apk_brands import fold

    return fold(text)


def vn_banks(path: Path) -> list[dict[str, object]]:
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            domain = (r.get("registrable_domain") or "").strip().lower()
            if not domain:
                continue
            terms: set[str] = set()
            head = domain.split(".")[0].replace("-", " ")
            if head not in _GENERIC and (len(head) >= 5 or head in _SHORT_OK):
                terms.add(head)
            for part in re.split(r"[-]", r.get("code") or ""):
                t = _fold(part)
                if t and t not in _GENERIC and (len(t.replace(" ", "")) >= 5 or t in _SHORT_OK):
                    terms.add(t)
            vi = _fold(r.get("name_vi") or "")
            if vi.startswith("ngan hang ") and len(vi.split()) >= 4:
                terms.add(vi)
            if terms:
                name = " ".join((r.get("name_en") or r.get("name_vi") or domain).split())
                out.append({"name": name, "category": "bank", "terms": sorted(terms),
                            "sources": ["vn-banks"], "domain": domain})
    return out


def build(data: Path) -> dict[str, object]:
    seen: set[str] = set()
    with (data / "urls" / "phishtank_2018_2019.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            seen.add((r.get("target") or "").strip())
    brands: list[dict[str, object]] = []
    for target, (cat, terms) in PHISHTANK.items():
        if target in seen:  # only names the archive really holds
            brands.append({"name": target, "category": cat, "terms": sorted(terms),
                           "sources": ["phishtank-2018-2019"]})
    brands += vn_banks(data / "urls" / "vn_banks.csv")
    for name, terms in SYSTEM.items():
        brands.append({"name": name, "category": "system", "terms": sorted(terms),
                       "sources": ["scamscan-system"]})
    brands.sort(key=lambda b: (str(b["category"]), str(b["name"])))
    return {
        "about": "Brands an app label may claim (APK-IMP-005), with match terms (lower case, "
                 "diacritics folded, whole words) and sources. Built by "
                 "eval/build_apk_brands.py.",
        "sources": {
            "phishtank-2018-2019": "brand names from the target column of the PhishTank "
                                   "archive 2018-2019 (data: PhishTank, phishtank.org; names "
                                   "only, no URLs)",
            "vn-banks": "delta94/vietnam libs/@vietnam/banks (MIT), commit "
                        "50ba96ee964082584452bfd679c288ca8aa2f6a3",
            "scamscan-system": "system and store components named by droppers, written for "
                               "scamscan (issue 12)",
        },
        "brands": brands,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    doc = build(args.data)
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                        encoding="utf-8")
    print(f"wrote {args.out}: {len(doc['brands'])} brands")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
