"""Every link rule, with cases where it must and must not match (bundled data only)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanners import rules
from scanners.findings import Verdict, aggregate
from scanners.normalize import normalize
from scanners.url_offline import OfflineURLScanner, default_scanner

# rule id -> (inputs on which it must fire, inputs on which it must not)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "URL-OFF-001": (["https://dichvucong.gov.vn/", "vneid.gov.vn", "angiang.gov.vn", "chinhphu.vn"],
                    ["dichvucong-gov.com", "gov.vn.evil.top", "vneid.com"]),
    "URL-OFF-002": (["vietcombank.com.vn", "https://www.momo.vn/"],
                    ["vietcombank-online.xyz", "dichvucong.gov.vn"]),
    "URL-OFF-003": (["hust.edu.vn", "24h.com.vn", "shopee.vn"],
                    ["example.com", "dichvucong.gov.vn"]),
    "URL-BL-001": (["0088shop.com", "www.0088shop.com"],
                   ["facebook.com", "www.facebook.com", "weebly.com", "dichvucong.gov.vn"]),
    "URL-GOV-001": (["vneid-tracuu.com", "dichvucong.hgov.cc", "bhxh.online"],
                    ["vneid.gov.vn", "example.com", "vnexpress.net"]),
    "URL-GOV-002": (["dichvucong.hgov.cc", "vietgov22.cc", "vietnamvisa.govt.vn",
                     "dichvucong-gov.com", "vngovfeed.xyz"],
                    ["www.gov.uk", "usa.gov", "govdelivery.com", "service.gov.uk",
                     "dichvucong.gov.vn", "government.nl"]),
    "URL-GOV-003": (["vndichvuconggov.com", "dichvucongbaohiemxahoi.com", "cucgplxgov.vn"],
                    ["dichvucong.gov.vn", "dichvucong-online.com"]),
    "URL-GOV-004": (["dichvucong.vn", "gplxgov.org.vn", "vneid.com",
                     "dichvucong.gov.vn.evil.top", "dịchvụcông.com"],
                    ["dichvucong.gov.vn", "vneid.gov.vn", "example.com"]),
    "URL-BANK-001": (["vietcombank-khuyenmai.top", "acb-online.co", "khuyenmai-techcombank.xyz"],
                     ["vietcombank.com.vn", "scb.co.th", "acb.com.vn", "example.com"]),
    "URL-BANK-002": (["vietcombank.xyz", "momovn.com"],
                     ["vietcombank.com.vn", "example.com"]),
    "URL-GOV-005": (["yougov-survey.com", "egov.uz"], ["vietgov.cc", "usa.gov"]),
    "URL-BRAND-001": (["shopee-khuyenmai.top", "lazada.xyz"], ["shopee.vn", "example.com"]),
    "URL-LEX-011": (["nang-hang-tin-dung-vay-tien.com"], ["vaytien.com", "example.com"]),
    "URL-LEX-010": (["facebook.c0m.ltd", "usps.com-tracking.vip", "www-icloud.com"],
                    ["example.com", "www.com.vn"]),
    "URL-IMP-001": (["vn\u0435id.com", "vietc0mbank.top", "xn--dchvucong-v9h.com"],
                    ["dịchvụcông.com", "vneid.gov.vn", "example.com"]),
    "URL-IMP-002": (["vneld.com", "veitgov.cc", "dichvucomg.net"],
                    ["vneid.gov.vn", "google.com", "vnexpress.net"]),
    "URL-IMP-003": (["mojgov.weebly.com", "movgov-vn.weeblysite.com"],
                    ["weebly.com", "myshop.weebly.com"]),
    "URL-IMP-004": (["https://dichvucong.gov.vn@evil.top/", "http://www.vietcombank.com.vn:x@1.2.3.4/"],
                    ["https://user:pass@example.com/", "https://example.com/"]),
    "URL-IMP-005": (["dichvuc\u043eng.gov.vn", "xn--dichvucng-62h.gov.vn",
                     "a.xn--80ak6aa92e.gov.vn", "xn--vietcmbank-z2a.vietcombank.com.vn"],
                    ["dichvucong.gov.vn", "d\u1ecbchv\u1ee5c\u00f4ng.com", "vietcombank.com.vn",
                     "xn--dichvucng-62h.com"]),
    "URL-LEX-001": (["example.top", "vietgov.cc"], ["example.com", "example.vn"]),
    "URL-LEX-002": (["bit.ly/abc", "https://tinyurl.com/xyz"], ["example.com"]),
    "URL-LEX-003": (["myshop.weebly.com"], ["weebly.com", "example.com"]),
    "URL-LEX-004": (["http://3232235777/", "1.2.3.4", "http://[2001:db8::1]/"],
                    ["example.com"]),
    "URL-LEX-005": (["a.b.c.d.example.com"], ["a.b.example.com"]),
    "URL-LEX-006": (["my-very-long-name.com", "web12345.com"], ["my-name.com", "web1234.com"]),
    "URL-LEX-007": (["example.com:8080", "https://example.com:80/"],
                    ["https://example.com:443/", "example.com"]),
    "URL-LEX-008": (["http://example.com/"], ["example.com", "https://example.com"]),
    "URL-LEX-009": (["vaytien-nhanh.com", "hotro-taikhoan.top"], ["example.com", "vnexpress.net"]),
    "URL-INP-001": (["hxxp://example[.]com", "example (dot) com"], ["http://example.com"]),
    # --- the host read as words (scanners/url_compound.py) ---
    "URL-SEG-001": (["acbchamsockhachhang.com", "tpbank-vaytinchap.com", "shopeegiaohang.com",
                     "paypal-chamsoc.top"],
                    ["vietcombank.com.vn", "microsoftonline.com", "example.com",
                     "chamsockhachhang.com"]),
    "URL-SEG-002": (["vietcombank.chamsocuudai.com", "techcombank.uudaithe.net"],
                    ["www.vietcombank.com.vn", "vietcombank.com.vn", "cdn.example.com",
                     "vietcombank-uudai.com"]),
    "URL-SEG-003": (["thongtincutru.com", "dancu-thongtin.net", "capnhatcongdan.top"],
                    ["thongtin.com", "dancu.gov.vn", "example.com", "cutru.gov.vn"]),
    "URL-SEG-004": (["amazonsg.shop", "app.amazon-line.com"],
                    ["amazon.de", "example.com", "www.amazon.com",
                     # The brand is in the platform's own name, not the site's.
                     "https://jets3t.s3.amazonaws.com/index.html"]),
    # --- kinds of scam names (scanners/url_names.py) ---
    "URL-SEG-006": (["lazada218.com", "shopee52.vip", "sendovip.com", "facebookvni.com",
                     "vietcombank-vn.top", "tiki588.com", "https://www.viettelpost24.com/"],
                    ["lazada.vn", "shopee.vn", "shopeefood.vn", "office365.com", "steam250.com",
                     "amazon.com", "lazada218.example.com", "shopee-52-sale.com",
                     # The brand's own name, or a name that only starts like one.
                     "momo.vn", "tikiservice24.com",
                     # A brand's own product name (Microsoft 365), a brand of its own.
                     "microsoft365.com"]),
    "URL-SEG-005": (["clmm-vip.top", "chanlemomo24.net", "game.taixiu-online.xyz", "cltx79.site"],
                    ["example.com", "chanel.com", "taxi-online.com", "clm.example.com"]),
    "URL-LEX-012": (["qwer55.com", "zxcv11.net", "xy12345.com", "qwe2024.com"],
                    ["qwer5.com", "qwe55.com", "qwert55.com", "qwer56.com", "qw55er.com",
                     "xy12345.net", "xy123.com", "wxyz12345.com", "x1234567.com"]),
    "URL-LEX-013": (["551008g.cc", "8836511.vip", "57365pp.cc", "www.478563.cc", "10086.cn"],
                    ["163.com", "4399.com", "bet365.com", "abc12345xyz.com", "a1b2c3d4e5.com",
                     "12345.example.com"]),
    "URL-LEX-014": (["tbhzmpqcxkgyv.ink", "http://fqtwplhzqm.top/", "www.gvslqxmktyncz.club"],
                    ["crwdcntrl.net", "mrktmtrcs.net", "chamsockhachhang.com",
                     "strengthsfinder.com", "rhythmsnbltz.com", "x1bhzmpqcxkgyv.ink",
                     "tbhzmpqcxkgyv.example.com", "example.com"]),
    "URL-IMP-007": (["shopexyz.com", "lazdaabc.net", "tikki-sale.com", "www.shpoee-deal.top"],
                    ["shopee.vn", "shopify.com", "shopee-sale.top", "example.com", "shope.com",
                     "shopping.com", "tiki.vn"]),
    "URL-IMP-006": (["wvwpaypal.com", "m-fecabook.com", "fecabookk.com", "travelokaaaa.com",
                     "teleqrma.example", "telargam.example"],
                    ["paypal.com", "vnexpress.net", "bookings.com", "tiktokv.us", "maple.com",
                     "telegram.org", "elegant.example"]),
    "URL-IMP-008": (["paypa1.com", "amaz0n-login.com", "faceb00k-mobile.com",
                     "www.m1cros0ft-servercenter.example", "we11sfargo-online.com",
                     "1edger-live.com", "login.c0inbase.example", "app1e-id.com"],
                    ["paypal.com", "office365.com", "shop3322.com", "tiki77.vn", "microsoft.com",
                     "amazon.de", "example.com",
                     # A registry name spelt with digits is URL-IMP-001's.
                     "vietc0mbank.top"]),
    # --- international lures in the host (scanners/url_lures.py) ---
    "URL-LURE-001": (["fedexnotice.com", "usps-redelivery.top", "www.colis-laposte.info",
                      "dhl-parcel-track.xyz", "track.evri-package.example"],
                     ["fedex.com", "informeddelivery.usps.com", "groups-delivery.com",
                      "dhlparcel.nl", "fedex-careers.example", "example.com"]),
    # --- the path and query (scanners/url_path.py) ---
    "URL-PATH-001": (["https://evil.top/login/verify.php", "https://x.com/a?next=signin"],
                     ["https://example.com/", "https://example.com/blog/2024/news"]),
    "URL-PATH-002": (["https://evil.top/paypal/signin", "https://x.net/apple.html",
                      "https://shop.example/old/chase/login.php",
                      "https://school.example/images/lab/Correos/index.php",
                      "https://blog.example/sg/DBS/access/"],
                     ["https://www.paypal.com/paypal/x",
                      "https://digg.com/video/adorable-slew-of-apple-devices",
                      "https://www.chase.com/chase/personal",
                      "https://news.example/2024/purchase-ideas/page.html",
                      "https://example.com/things/missing/"]),
    "URL-PATH-003": (["https://gw.example.net/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylq"
                      "abf3oclgtqy55fbzdi", "https://ipfs.io/ipns/site.example",
                      # A subdomain gateway serves the page at its root.
                      "https://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
                      ".ipfs.dweb.link/"],
                     ["https://example.com/about", "https://example.com/ipfsguide",
                      "https://ipfs.io/", "https://docs.ipfs.tech/"]),
    "URL-PLAT-001": (["https://gimenilogin.webflow.io/", "https://sso-crypto-cdn-w-auth.webflow.io/",
                      "http://mettamisk_signin.godaddysites.com/",
                      "https://x.my-wallet-sync.pages.dev/"],
                     ["https://streamlink.github.io/", "https://bakery-swap.pages.dev/",
                      # Sign-in words outside a platform site are other rules' business.
                      "https://login.example.com/", "https://author-tools.github.io/",
                      "https://webflow.io/",
                      # The platforms' own service hosts (one bare word, or a file
                      # host's or form builder's subdomain).
                      "https://oauth.telegram.org/", "https://login.wix.com/",
                      "https://auth.wetransfer.com/", "https://secure.surveymonkey.com/",
                      "https://sso.behance.net/"]),
    "URL-PLAT-002": (["https://mentamskextensoin.webflow.io/", "http://start-m-trezorsd.webflow.io/",
                      "http://shaw-106648.weeblysite.com/", "https://kra-ken-usa.godaddysites.com/",
                      "https://att-login.weebly.com/", "https://app-ledgurlive.webflow.io/",
                      # There, a misspelt brand or one beside sign-in words still counts.
                      "https://live-io-tresor.github.io/", "https://instagram-login.github.io/",
                      "https://paypal-verify.weebly.com/",
                      "https://s--start--l-edger-oauth.webflow.io/",
                      # Off a developer platform, a six-letter brand with a letter dropped.
                      "http://help-us-trzor--hdware.webflow.io/", "https://ledgr-support.webflow.io/"],
                     ["https://facebook.github.io/react/", "https://shopify.github.io/",
                      "https://alarm-clock-applet.github.io/", "https://lloyd.github.io/",
                      "https://trezor.io/", "https://metamask.example.com/",
                      # Short brands count only alone: "att" and "bt" are in words.
                      "https://att-lab-notes.github.io/", "https://bt-tracker.vercel.app/",
                      "https://att-lab-login.github.io/",
                      # One bare brand: the brand's or the platform's own name; and the
                      # subdomains of a form builder are its own services.
                      "https://paypal.weebly.com/", "https://onedrive.monday.com/",
                      # A brand's organisations on a developer platform.
                      "https://facebookresearch.github.io/detectron2/",
                      "https://googlecloudplatform.github.io/", "https://microsoftdocs.github.io/",
                      # On a developer platform a short brand misspelt at the start
                      # of a word is another word.
                      "https://libproxy.github.io/",
                      # A dropped letter that leaves a word or a name, or on a developer
                      # platform, where short project names are common.
                      "https://ledge-coffee.webflow.io/", "https://lloyd-photos.weebly.com/",
                      "https://trzor.github.io/"]),
    "URL-PATH-004": (["https://evil.top/a/9f8e7d6c5b4a39281726354abcdef",
                      "https://x.top/?t=Zm9vYmFy1234567890abcdefXYZ"],
                     ["https://example.com/news/the-longest-article-title-ever-written",
                      "https://example.com/2024/05/13"]),
}
# The learned model's rules depend on its weights; tests/test_url_model.py checks
# them with a model written for the test and with the shipped one.
LEARNED = {"URL-ML-001", "URL-ML-002"}


def rule_ids(text: str, scanner: OfflineURLScanner | None = None) -> set[str]:
    s = scanner or _RULES_ONLY
    return {f.rule_id for f in asyncio.run(s.scan(normalize(text)))}


# The rules without the model, so that a must-not-fire case checks the rule, not
# whatever the model adds around it; URL-BL-001 needs the bundled lists.
_RULES_ONLY = OfflineURLScanner(use_model=False)

LIVE_PREFIXES = ("URL-AGE-", "URL-NET-", "URL-RED-", "URL-DL-", "URL-PAGE-", "URL-TLS-")


def test_every_offline_rule_has_cases() -> None:
    offline = {r for r in rules.CATALOGUE
               if r.startswith("URL-") and not r.startswith(LIVE_PREFIXES)} - LEARNED
    assert set(CASES) == offline, "each offline rule needs positive and negative cases"
    for rid, (pos, neg) in CASES.items():
        assert pos and neg, rid


@pytest.mark.parametrize(("rule_id", "text"),
                         [(r, t) for r, (pos, _) in CASES.items() for t in pos])
def test_rule_fires(rule_id: str, text: str) -> None:
    assert rule_id in rule_ids(text)


@pytest.mark.parametrize(("rule_id", "text"),
                         [(r, t) for r, (_, neg) in CASES.items() for t in neg])
def test_rule_does_not_fire(rule_id: str, text: str) -> None:
    assert rule_id not in rule_ids(text)


@pytest.mark.parametrize("host", ["dichvucong.hgov.cc", "vneid.vieegovn.cc", "dichvucong-gov.com",
                                  "vssid.govvvn.com", "https://dichvucong.gov.vn@evil.top/"])
def test_real_scam_shapes_are_flagged(host: str) -> None:
    agg = aggregate(default_scanner().check(normalize(host)))
    assert agg.verdict in (Verdict.SUSPICIOUS, Verdict.DANGEROUS), (host, agg)


@pytest.mark.parametrize("host", ["dichvucong.gov.vn", "https://vneid.gov.vn/", "bocongan.gov.vn",
                                  "vietcombank.com.vn", "www.gov.uk", "google.com"])
def test_official_and_big_sites_are_calm(host: str) -> None:
    agg = aggregate(default_scanner().check(normalize(host)))
    assert agg.verdict in (Verdict.OFFICIAL, Verdict.NO_KNOWN_RISK), (host, agg)


def test_official_domain_verdict() -> None:
    agg = aggregate(default_scanner().check(normalize("https://dichvucong.gov.vn/p/home")))
    assert agg.verdict is Verdict.OFFICIAL
    assert agg.risk_score == 0


def test_evidence_names_token_and_imitated_domain() -> None:
    fs = default_scanner().check(normalize("dichvucong.hgov.cc"))
    gov = [f for f in fs if f.rule_id == "URL-GOV-001"]
    assert gov and gov[0].evidence["token"] == "dichvucong"
    assert gov[0].evidence["imitates"] == "dichvucong.gov.vn"


def test_homoglyph_evidence_shows_both_forms() -> None:
    fs = default_scanner().check(normalize("vn\u0435id.com"))
    imp = next(f for f in fs if f.rule_id == "URL-IMP-001")
    assert imp.evidence["reads_as"] == "vneid"
    assert imp.evidence["imitates"] == "vneid.gov.vn"


@pytest.mark.slow  # three interpreters load the bundled data
def test_findings_come_in_the_same_order_in_every_process() -> None:
    # The parts of a hyphenated label were a set, whose order follows the
    # process's string hashing: two runs of the CLI differed in the order of
    # their look-alike findings. The whole label is read first.
    import os
    import subprocess
    import sys

    code = ("from scanners.normalize import normalize\n"
            "from scanners.url_offline import OfflineURLScanner\n"
            "fs = OfflineURLScanner().check(normalize('movgov-vn.weeblysite.com'))\n"
            "print([f.evidence['label'] for f in fs if f.rule_id == 'URL-IMP-002'])\n")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3")}
    assert outs == {"['movgovvn', 'movgov']\n"}


def test_a_brands_own_account_on_a_developer_platform_is_calm() -> None:
    # facebook.github.io is Facebook's own GitHub account: no brand rule reads it,
    # while the same name on a builder anyone can take, or with a sign-in word, counts.
    assert rule_ids("https://facebook.github.io/react/") == {"URL-LEX-003"}
    fs = asyncio.run(_RULES_ONLY.scan(normalize("https://facebook-help.weebly.com/")))
    assert aggregate(fs).verdict is not Verdict.NO_KNOWN_RISK
    fs = asyncio.run(_RULES_ONLY.scan(normalize("https://facebook-login.github.io/")))
    assert aggregate(fs).verdict is Verdict.DANGEROUS


def test_platform_findings_name_the_site_and_what_it_read() -> None:
    fs = asyncio.run(_RULES_ONLY.scan(normalize("http://start-m-trezorsd.webflow.io/")))
    plat = next(f for f in fs if f.rule_id == "URL-PLAT-002")
    assert plat.evidence == {"brand": "trezor", "site": "start-m-trezorsd",
                             "platform": "webflow.io"}
    # URL-PLAT-002 replaces URL-SEG-004's weaker reading of the same brand.
    assert "URL-SEG-004" not in {f.rule_id for f in fs}
    assert aggregate(fs).verdict is Verdict.SUSPICIOUS
    fs = asyncio.run(_RULES_ONLY.scan(normalize("https://mentamskextensoin.webflow.io/")))
    assert next(f for f in fs if f.rule_id == "URL-PLAT-002").evidence["spelt"] == (
        "mentamskextensoin")
    fs = asyncio.run(_RULES_ONLY.scan(normalize("https://sso-crypto-cdn-w-auth.webflow.io/")))
    assert next(f for f in fs if f.rule_id == "URL-PLAT-001").evidence["words"] == ["auth", "sso"]


# Labels made of what the name rules read: brand pieces, digits written for
# letters, sign-in words, random letters and long numbers, glued or hyphenated.
_PIECES = st.sampled_from(["paypa1", "faceb00k", "amaz0n", "trzor", "ledgr", "login",
                           "551008", "tbhzmpqcxkgyv", "shopee", "vietcombank", "365",
                           "m1cros0ft", "chamsoc", "www", "x", "0", "-", "qq"])
_LABEL = st.lists(_PIECES, min_size=1, max_size=5).map("".join).map(
    lambda s: s.strip("-")[:63] or "a")
_SUFFIX = st.sampled_from(["com", "top", "ink", "webflow.io", "github.io", "com.vn", "gov.vn",
                           "weebly.com", "s3.amazonaws.com", "cc"])
_PATH = st.sampled_from(["/", "/login", "/paypal/verify.php?email=x", "/a/b/c"])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(_LABEL, min_size=1, max_size=4), _SUFFIX, _PATH)
def test_any_name_the_rules_read_ends_in_a_verdict_with_reasons(
        labels: list[str], suffix: str, path: str) -> None:
    p = normalize(f"http://{'.'.join(labels)}.{suffix}{path}")
    found = default_scanner(blocklists=False).check(p)
    ids = {f.rule_id for f in found}
    assert ids <= set(rules.CATALOGUE)
    agg = aggregate(found)
    assert 0 <= agg.risk_score <= 100
    for f in found:
        if f.rule_id.startswith("URL-ML-"):
            assert f.evidence["drivers"]
            # The rules the model names as weighing did fire on this link.
            assert set(f.evidence.get("with_rules", ())) <= ids
