"""Every APK rule, with cases where it must and must not match.

Most cases are facts built as plain values (the rules are pure functions of
:class:`ApkFacts`); the committed fixtures check the same rules end to end
through real androguard in tests at the bottom.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanners import rules
from scanners.apk import ApkScanner, random_package
from scanners.apk_facts import (
    AccessibilityConfig,
    ApkFacts,
    AssetFact,
    Certificate,
    CodeFacts,
    Component,
    DeviceAdmin,
    DexFile,
    IntentFilter,
    ZipFacts,
    extract_facts,
)
from scanners.apk_report import scan_apk_path
from scanners.findings import Verdict, aggregate

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apk"
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # fixtures' fresh keys are then years old
P = "android.permission."

GOOD_CERT = Certificate(
    sha256="ab" * 32, schemes=("v1", "v2", "v3"), subject="CN=Example,O=Example Ltd,C=VN",
    issuer="CN=Example,O=Example Ltd,C=VN", not_before="2020-01-01T00:00:00+00:00",
    not_after="2050-01-01T00:00:00+00:00",
    subject_fields=(("CN", "Example"), ("O", "Example Ltd"), ("C", "VN")))
LAUNCHER = Component("activity", "org.example.Main", intent_filters=(IntentFilter(
    actions=("android.intent.action.MAIN",),
    categories=("android.intent.category.LAUNCHER",)),))
A11Y = Component("service", "org.example.A11y", permission=P + "BIND_ACCESSIBILITY_SERVICE",
                 intent_filters=(IntentFilter(
                     actions=("android.accessibilityservice.AccessibilityService",)),))

ADMIN = Component("receiver", "org.example.Admin", permission=P + "BIND_DEVICE_ADMIN")
FCM = Component("service", "org.example.Push", intent_filters=(IntentFilter(
    actions=("com.google.firebase.MESSAGING_EVENT",)),))


def app(**kw: Any) -> ApkFacts:
    """A plain, well-behaved app; keyword arguments change what a case needs."""
    base: dict[str, Any] = {
        "sha256": "00" * 32, "size": 1000, "file_name": "x.apk", "package": "org.example.app",
        "label": "Example", "permissions": (P + "INTERNET",), "components": (LAUNCHER,),
        "launcher_activity": "org.example.Main", "signed": True,
        "signature_schemes": ("v1", "v2", "v3"), "certificates": (GOOD_CERT,),
        "code": CodeFacts(), "zip": ZipFacts(entries=5, has_manifest=True),
    }
    base.update(kw)
    return ApkFacts(**base)


def cert(**kw: Any) -> Certificate:
    return dataclasses.replace(GOOD_CERT, **kw)


SMS = (P + "INTERNET", P + "READ_SMS", P + "RECEIVE_SMS")
RANDOM_PKG = "zjt.spoehyloohrstq.uaeldgadozprbyk"

KNOWN_BAD = "0496f43dcc6c2e25bbf6d05a13e72dadc2ae6397fc617c935fd865f243ffd084"

# rule id -> (facts on which it must fire, facts on which it must not)
CASES: dict[str, tuple[list[ApkFacts], list[ApkFacts]]] = {
    "APK-BL-001": ([app(sha256=KNOWN_BAD), app(sha256=KNOWN_BAD.upper())],
                   [app(), app(sha256=KNOWN_BAD[:-1] + "0")]),
    "APK-IMP-001": ([app(label="Vietcombank", package="com.vcb.update"),
                     app(label="VNeID - Định danh", package="vn.vneid.app")],
                    [app(), app(label="Vietcombank", package="com.VCB")]),
    "APK-IMP-002": ([app(label="VNeID", package="com.vnid")],
                    [app(), app(label="VNeID", package="vn.other")]),
    "APK-IMP-003": ([app(label="Dịch vụ công", package="vn.gov.dvc"),
                     app(label="Bộ Công An", package="x.y.z"),
                     app(label="DICH VU CONG", package="a.b.c")],
                    [app(), app(label="Công cụ", package="a.b.c")]),
    "APK-IMP-004": ([app(label="Google Play", package="com.x.y"),
                     app(label="System Service", package="com.tencent.mm"),
                     app(label="Corona", package="com.facebook")],
                    [app(), app(label="WeChat", package="com.tencent.mm"),
                     app(label="Facebook", package="com.facebook.katana")]),
    "APK-PKG-001": ([app(package=RANDOM_PKG), app(package="ivsi.waowcnc.uih"),
                     app(package="com.hubccjodsgt.dvhsle"),
                     app(package="com.ilcyoqlbbgnsetby.vfzfnnzrc")],
                    [app(), app(package="jakhar.aseem.diva"), app(package="a2dp.Vol"),
                     app(package="com.teleca.jamendo"), app(package="com.schwab.mobile"),
                     app(package="org.thoughtcrime.securesms"),
                     app(package="com.google.android.gms"),
                     app(package="com.whatsapp.w4b")]),
    "APK-PKG-002": ([app(components=(LAUNCHER, *(Component("service", f"x.y.{n}") for n in (
        "cmtstflxlxb", "fIvicKhU", "qpgopfninoaazln", "jcwzxSN", "opzsdswiddt"))))],
                    [app(), app(components=(LAUNCHER, *(Component("service", f"x.y.{n}") for n in (
                        "main", "service", "SmsReader", "BootReceiver", "a", "b")))),
                     app(components=(LAUNCHER, *(Component("service", f"x.y.{n}") for n in (
                         "cmtstflxlxb", "fIvicKhU", "qpgopfninoaazln", "jcwzxSN", "opzsdswiddt")),
                         *(Component("activity", f"x.y.Screen{i}") for i in range(30))))]),
    # Label words nowhere in a letter-soup package, only with takeover or a brand claim.
    "APK-PKG-003": ([app(label="Tra cứu phạt nguội", package="com.qwrtzpkl.xbvnmd",
                         permissions=SMS),
                     app(label="Weather Radar", package=RANDOM_PKG, components=(LAUNCHER, A11Y)),
                     app(label="Play Protect Service", package="com.hubccjodsgt.dvhsle")],
                    [app(label="Tra cứu phạt nguội", package="com.qwrtzpkl.xbvnmd"),
                     app(label="Tra cứu phạt nguội", package="vn.tracuu.phatnguoi",
                         permissions=SMS),
                     app(label="Weather Radar", package="com.example.weather",
                         components=(LAUNCHER, A11Y)),
                     app(label="Zalo", package="com.zing.zalo", permissions=SMS),
                     app(label="Signal", package="org.thoughtcrime.securesms", permissions=SMS),
                     app(label="Diva", package="jakhar.aseem.diva", permissions=SMS),
                     app(label="Vietcombank Mobile", package="com.vcbm.x", permissions=SMS),
                     app(label="xkqzt", package=RANDOM_PKG, permissions=SMS)]),
    "APK-PKG-004": ([app(code=CodeFacts(builder_roots={"com.metasploit.stage": 3})),
                     app(code=CodeFacts(builder_roots={"ahmyth.mine.king.ahmyth": 12}))],
                    [app(), app(code=CodeFacts(classes=4000, lower_classes=0))]),
    "APK-PKG-005": ([app(code=CodeFacts(classes=300, lower_classes=40, lower_class_names=(
        "cmtstflxlxb", "qpgopfninoaazln", "opzsdswiddt", "bnmxcvlk", "wrtpzqs", "notify")))],
                    [app(),
                     # Too few, or ordinary words (Scala's "package" objects and the like).
                     app(code=CodeFacts(classes=300, lower_classes=5, lower_class_names=(
                         "cmtstflxlxb", "qpgopfninoaazln", "opzsdswiddt", "bnmxcvlk",
                         "wrtpzqs"))),
                     app(code=CodeFacts(classes=300, lower_classes=40, lower_class_names=(
                         "package", "notify", "service", "handler", "cmtstflxlxb")))]),
    "APK-CAP-001": ([app(components=(LAUNCHER, A11Y))], [app()]),
    "APK-CAP-002": ([app(components=(LAUNCHER, A11Y), accessibility=(AccessibilityConfig(
        "org.example.A11y", "res/xml/a.xml", can_retrieve_window_content=True),))],
                    [app(components=(LAUNCHER, A11Y), accessibility=(AccessibilityConfig(
                        "org.example.A11y", "res/xml/a.xml",
                        can_retrieve_window_content=False, can_perform_gestures=False),))]),
    "APK-CAP-003": ([app(permissions=(*SMS, P + "SEND_SMS")),
                     app(permissions=SMS, components=(LAUNCHER, A11Y)),
                     app(permissions=SMS, launcher_activity=None)],
                    [app(), app(permissions=SMS)]),
    "APK-CAP-023": ([app(permissions=SMS),
                     # An SMS filter/client: declares the SMS role, so sending is its job.
                     app(permissions=(*SMS, P + "SEND_SMS"), components=(
                         LAUNCHER, Component("receiver", "org.example.Deliver",
                                             permission=P + "BROADCAST_SMS",
                                             intent_filters=(IntentFilter(actions=(
                                                 "android.provider.Telephony.SMS_DELIVER",
                                             )),))),
                         code=CodeFacts(api_refs={"SmsManager.sendTextMessage": 1}))],
                    [app(), app(permissions=(*SMS, P + "SYSTEM_ALERT_WINDOW")),
                     app(permissions=SMS, code=CodeFacts(
                         api_refs={"SmsManager.sendTextMessage": 1}))]),
    "APK-CAP-021": ([app(components=(LAUNCHER, A11Y),
                         permissions=(P + "INTERNET", P + "SYSTEM_ALERT_WINDOW"))],
                    [app(components=(LAUNCHER, A11Y)),
                     app(permissions=(P + "INTERNET", P + "SYSTEM_ALERT_WINDOW"))]),
    "APK-CAP-022": ([app(launcher_activity=None, components=(A11Y,)),
                     app(launcher_activity=None, components=(ADMIN,))],
                    [app(components=(LAUNCHER, A11Y)),
                     app(launcher_activity=None, components=(Component(
                         "activity", "org.example.Main"),))]),
    "APK-CODE-004": ([app(code=CodeFacts(api_refs={"SmsManager.sendTextMessage": 1})),
                      app(permissions=SMS, code=CodeFacts(
                          api_refs={"SmsManager.sendMultipartTextMessage": 2}))],
                     [app(), app(permissions=(P + "SEND_SMS",)),
                      app(components=(LAUNCHER, Component("receiver", "org.example.Deliver",
                          permission=P + "BROADCAST_SMS", intent_filters=(IntentFilter(
                              actions=("android.provider.Telephony.SMS_DELIVER",)),))),
                          code=CodeFacts(api_refs={"SmsManager.sendTextMessage": 1})),
                      app(components=(LAUNCHER, Component("activity", "org.example.Compose",
                          intent_filters=(IntentFilter(actions=("android.intent.action.SENDTO",),
                                                       schemes=("smsto",)),))),
                          code=CodeFacts(api_refs={"SmsManager.sendTextMessage": 1}))]),
    "APK-CODE-005": ([app(permissions=(P + "REQUEST_INSTALL_PACKAGES",),
                          code=CodeFacts(api_refs={"PackageInstaller.createSession": 1})),
                      app(permissions=(P + "REQUEST_INSTALL_PACKAGES",),
                          code=CodeFacts(api_refs={"DexClassLoader.<init>": 1})),
                      app(permissions=(P + "REQUEST_INSTALL_PACKAGES",),
                          files=("classes.dex", "assets/update.apk"))],
                     [app(), app(permissions=(P + "REQUEST_INSTALL_PACKAGES",)),
                      app(code=CodeFacts(api_refs={"PackageInstaller.createSession": 1}))]),
    "APK-URL-004": ([app(permissions=SMS, components=(LAUNCHER, FCM)),
                     app(components=(LAUNCHER, A11Y, FCM))],
                    [app(components=(LAUNCHER, FCM)), app(permissions=SMS)]),
    "APK-CAP-004": ([app(components=(LAUNCHER, Component("receiver", "org.example.Sms",
                                                         intent_filters=(IntentFilter(
        actions=("android.provider.Telephony.SMS_RECEIVED",), priority=999),))))],
                    [app()]),
    "APK-CAP-005": ([app(permissions=(P + "SEND_SMS",)),
                     app(code=CodeFacts(api_refs={"SmsManager.sendTextMessage": 1}))],
                    [app()]),
    "APK-CAP-006": ([app(permissions=(P + "SYSTEM_ALERT_WINDOW",))], [app()]),
    "APK-CAP-007": ([app(components=(LAUNCHER, Component(
        "receiver", "org.example.Admin", permission=P + "BIND_DEVICE_ADMIN")),
        device_admins=(DeviceAdmin("org.example.Admin", "res/xml/d.xml",
                                   policies=("wipe-data",)),))], [app()]),
    "APK-CAP-008": ([app(components=(LAUNCHER, Component(
        "service", "org.example.N", permission=P + "BIND_NOTIFICATION_LISTENER_SERVICE")))],
                    [app()]),
    "APK-CAP-009": ([app(permissions=(P + "REQUEST_INSTALL_PACKAGES",))], [app()]),
    "APK-CAP-010": ([app(permissions=(P + "QUERY_ALL_PACKAGES",))], [app()]),
    "APK-CAP-011": ([app(permissions=(P + "REQUEST_IGNORE_BATTERY_OPTIMIZATIONS",))], [app()]),
    "APK-CAP-012": ([app(components=(LAUNCHER, Component("receiver", "org.example.Boot",
                                                         intent_filters=(IntentFilter(
        actions=("android.intent.action.BOOT_COMPLETED",)),))))], [app()]),
    "APK-CAP-013": ([app(code=CodeFacts(api_refs={
        "MediaProjectionManager.createScreenCaptureIntent": 1}))], [app()]),
    "APK-CAP-014": ([app(launcher_activity=None, components=(Component(
        "activity", "org.example.Hidden"),))], [app(), app(split="config.arm64_v8a",
                                                            launcher_activity=None)]),
    "APK-CAP-015": ([app(permissions=(P + "READ_CALL_LOG",))], [app()]),
    "APK-CAP-016": ([app(permissions=(*SMS, P + "RECORD_AUDIO", P + "CAMERA",
                                      P + "READ_CONTACTS"))],
                    [app(permissions=(P + "RECORD_AUDIO", P + "CAMERA", P + "READ_CONTACTS"))]),
    "APK-CAP-020": ([app(components=(LAUNCHER, A11Y), permissions=SMS)],
                    [app(components=(LAUNCHER, A11Y)), app(permissions=SMS)]),
    "APK-CODE-001": ([app(code=CodeFacts(api_refs={"AccessibilityService.dispatchGesture": 1}))],
                     [app(code=CodeFacts(api_refs={"AccessibilityNodeInfo.performAction": 9}))]),
    "APK-CODE-002": ([app(code=CodeFacts(api_refs={"DevicePolicyManager.lockNow": 1}))],
                     [app(code=CodeFacts(api_refs={"DevicePolicyManager.isAdminActive": 1}))]),
    "APK-CODE-003": ([app(code=CodeFacts(api_refs={"DexClassLoader.<init>": 1}))], [app()]),
    "APK-CERT-001": ([app(certificates=(cert(is_debug=True, subject="CN=Android Debug"),))],
                     [app()]),
    "APK-CERT-002": ([app(signed=False, signature_schemes=(), certificates=())], [app()]),
    "APK-CERT-003": ([app(signature_schemes=("v1",))], [app()]),
    "APK-CERT-004": ([app(certificates=(cert(not_before="2029-12-20T00:00:00+00:00"),))],
                     [app(), app(certificates=(cert(not_before="2031-01-01T00:00:00+00:00"),))]),
    "APK-CERT-005": ([app(certificates=(cert(subject="CN=aaa",
                                              subject_fields=(("CN", "aaa"),)),)),
                      app(certificates=(cert(subject_fields=(("CN", "Unknown"),
                                                             ("O", "Unknown"))),))],
                     [app()]),
    "APK-URL-001": ([app(code=CodeFacts(urls=("https://dichvucong-gov.com/api",)))],
                    [app(code=CodeFacts(urls=("https://dichvucong.gov.vn/",
                                              "https://www.google.com/")))]),
    "APK-URL-002": ([app(code=CodeFacts(telegram_bot=(
        "https://api.telegram.org/bot123:SECRET/sendMessage",)))], [app()]),
    "APK-URL-003": ([app(code=CodeFacts(websockets=("wss://c2.example/ws",))),
                     app(code=CodeFacts(urls=("http://203.0.113.7:8080/",),
                                        ips=("203.0.113.7",)))], [app()]),
    "APK-PACK-001": ([app(native_libs=("lib/arm64-v8a/libsandhook.so",
                                       "lib/arm64-v8a/libv++.so")),
                      app(native_libs=("lib/armeabi-v7a/libjiagu.so",))],
                     [app(native_libs=("lib/arm64-v8a/libc++_shared.so",))]),
    "APK-PACK-002": ([app(suspicious_assets=(AssetFact("assets/x.dat", 40_000, 7.99, ""),
                                             )),
                      app(suspicious_assets=(AssetFact("assets/p.bin2", 900, 3.0, "dex"),))],
                     [app(suspicious_assets=(AssetFact("assets/a.png", 90_000, 7.99, ""),))]),
    "APK-ANTI-001": ([app(code=CodeFacts(anti_analysis=("invalid-instruction",)))], [app()]),
    "APK-PACK-003": ([app(code=CodeFacts(dex_files=(
        DexFile("classes.dex", 3000, 7, compiler="dexlib2"),)))],
                     [app(code=CodeFacts(dex_files=(
                         DexFile("classes.dex", 3000, 7, compiler="d8/r8"),))),
                      app(code=CodeFacts(dex_files=(
                          DexFile("classes.dex", 3000, 7, compiler="unknown"),)))]),
    "APK-ANTI-002": ([app(manifest_problem="text-xml", package=None, components=(),
                          warnings=("manifest-unparseable",)),
                      app(manifest_problem="tampered-axml"),
                      app(warnings=("manifest-unparseable",))],
                     [app(), app(warnings=("bundle (xapk) of 2 APKs",))]),
    "APK-IMP-005": ([app(label="PayPal Wallet", package="com.secure.wallet"),
                     app(label="Play Protect Service", package="com.protect.app"),
                     app(label="Sistem Güncelleme", package="org.upd.app"),
                     app(label="HSBC Mobile Banking", package="com.mobile.bnk"),
                     app(label="Ngân hàng Đông Nam Á", package="com.seab.update")],
                    [app(), app(label="PayPal", package="com.paypal.android.p2pmobile"),
                     app(label="Vietcombank", package="com.vcb.update"),
                     app(label="Orange Juice Recipes", package="com.recipes.juice"),
                     app(label="Visa Appointment", package="org.travel.visa")]),
    "APK-ML-001": ([app(permissions=(P + "INTERNET", P + "RECEIVE_SMS", P + "SYSTEM_ALERT_WINDOW",
                                     P + "KILL_BACKGROUND_PROCESSES",
                                     P + "RECEIVE_BOOT_COMPLETED", P + "WAKE_LOCK"))],
                   [app(), app(permissions=(P + "INTERNET", P + "CAMERA", P + "VIBRATE"))]),
    "APK-ANTI-003": ([app(archive_repairs=("1 entries flagged as encrypted although they "
                                           "are not",))], [app()]),
    "APK-ZIP-001": ([app(zip=ZipFacts(entries=6, has_manifest=True,
                                      suspicious_names=("../../evil.txt",)))], [app()]),
}


def ids(facts: ApkFacts, scanner: Callable[[], ApkScanner] | None = None) -> set[str]:
    s = scanner() if scanner else ApkScanner(now=lambda: NOW)
    return {f.rule_id for f in s.check(facts)}


def test_every_apk_rule_has_cases() -> None:
    apk_rules = {r for r in rules.CATALOGUE if r.startswith("APK-") and r != "APK-OFF-001"}
    assert set(CASES) == apk_rules


@pytest.mark.parametrize(("rule_id", "facts"),
                         [(r, f) for r, (pos, _) in CASES.items() for f in pos])
def test_apk_rule_fires(rule_id: str, facts: ApkFacts) -> None:
    assert rule_id in ids(facts)


@pytest.mark.parametrize(("rule_id", "facts"),
                         [(r, f) for r, (_, neg) in CASES.items() for f in neg])
def test_apk_rule_does_not_fire(rule_id: str, facts: ApkFacts) -> None:
    assert rule_id not in ids(facts)


def test_official_app_with_known_signer_is_official() -> None:
    from scanners.apk import AppRegistry, OfficialApp, app_registry

    reg = app_registry()
    known = AppRegistry(
        tuple(OfficialApp(a.name, a.package, a.kind, a.label_terms,
                          frozenset({"ab" * 32}) if a.package == "com.vnid" else a.signers)
              for a in reg.apps), reg.gov_label_terms, reg.well_known)
    s = ApkScanner(registry=known, now=lambda: NOW)
    found = s.check(app(package="com.vnid", label="VNeID",
                        permissions=(P + "INTERNET", P + "CAMERA")))
    agg = aggregate(found)
    assert "APK-OFF-001" in {f.rule_id for f in found}
    assert "APK-IMP-002" not in {f.rule_id for f in found}
    assert agg.verdict is Verdict.OFFICIAL
    # The same package signed by someone else is not official.
    other = s.check(app(package="com.vnid", label="VNeID",
                        certificates=(cert(sha256="cd" * 32),)))
    assert "APK-IMP-002" in {f.rule_id for f in other}


def test_official_app_with_known_signer_is_never_a_builder_app() -> None:
    from scanners.apk import AppRegistry, OfficialApp, app_registry

    reg = app_registry()
    known = AppRegistry(
        tuple(OfficialApp(a.name, a.package, a.kind, a.label_terms,
                          frozenset({"ab" * 32}) if a.package == "com.vnid" else a.signers)
              for a in reg.apps), reg.gov_label_terms, reg.well_known)
    s = ApkScanner(registry=known, now=lambda: NOW)
    obfuscated = CodeFacts(classes=3000, lower_classes=400, lower_class_names=(
        "cmtstflxlxb", "qpgopfninoaazln", "opzsdswiddt", "bnmxcvlk", "wrtpzqs"))
    found = s.check(app(package="com.vnid", label="VNeID", code=obfuscated))
    assert aggregate(found).verdict is Verdict.OFFICIAL, found
    # The same code in a copy signed by someone else is judged.
    other = s.check(app(package="com.vnid", label="VNeID", code=obfuscated,
                        certificates=(cert(sha256="cd" * 32),)))
    assert {"APK-IMP-002", "APK-PKG-005"} <= {f.rule_id for f in other}


def test_random_package_detector_reports_segments() -> None:
    assert random_package(RANDOM_PKG) == ["spoehyloohrstq", "uaeldgadozprbyk"]
    assert random_package("com.google.android.apps.maps") == []


def test_telegram_token_is_redacted_in_evidence() -> None:
    s = ApkScanner(now=lambda: NOW)
    f = next(f for f in s.check(app(code=CodeFacts(telegram_bot=(
        "https://api.telegram.org/bot123456:SECRETTOKEN/sendMessage",))))
        if f.rule_id == "APK-URL-002")
    assert "SECRETTOKEN" not in repr(f.evidence)
    assert "bot123456" in repr(f.evidence)


# --- end to end on the committed fixtures (real androguard) -----------------

@pytest.mark.parametrize(("name", "verdict", "must"), [
    ("fake_dichvucong.apk", Verdict.DANGEROUS,
     {"APK-IMP-003", "APK-CAP-020", "APK-PACK-003", "APK-CAP-001", "APK-CAP-002", "APK-CAP-007",
      "APK-URL-001", "APK-URL-002", "APK-URL-003", "APK-CODE-001", "APK-CERT-005"}),
    ("fake_vneid.apk", Verdict.DANGEROUS, {"APK-IMP-002", "APK-CAP-020"}),
    ("hidden_launcher.apk", Verdict.SUSPICIOUS, {"APK-CAP-014", "APK-IMP-004"}),
    ("benign_notes.apk", Verdict.NO_KNOWN_RISK, set()),
    # Debug-signed or unsigned AND reassembled with smali: home-made or repackaged.
    ("debug_signed.apk", Verdict.SUSPICIOUS, {"APK-CERT-001", "APK-CERT-003",
                                              "APK-PACK-003"}),
    # Unsigned: Android cannot install it as it is; a reason, not a scam verdict.
    ("unsigned.apk", Verdict.NO_KNOWN_RISK, {"APK-CERT-002", "APK-PACK-003"}),
    ("bad_dex.apk", Verdict.DANGEROUS, {"APK-ANTI-001"}),
    # Issue 12: premium SMS in a cat-pictures app; a dropper named after a foreign
    # bank; a 2023-2025 style banker (hidden icon, overlay, admin, push commands).
    ("premium_sms.apk", Verdict.SUSPICIOUS, {"APK-CODE-004", "APK-CAP-003", "APK-CAP-005"}),
    ("dropper_bank.apk", Verdict.DANGEROUS, {"APK-IMP-005", "APK-CODE-005", "APK-CAP-012"}),
    ("overlay_banker.apk", Verdict.DANGEROUS,
     {"APK-CAP-021", "APK-CAP-022", "APK-URL-004", "APK-IMP-005", "APK-PKG-001",
      "APK-PKG-002"}),
    # Issue 12: Metasploit's stage classes and builder-named classes in the DEX, under
    # a label that has nothing to do with the letter-soup package.
    ("rat_stage.apk", Verdict.DANGEROUS, {"APK-PKG-003", "APK-PKG-004", "APK-PKG-005"}),
    ("traversal.apk", Verdict.SUSPICIOUS, {"APK-ZIP-001"}),
])
def test_fixture_verdicts(name: str, verdict: Verdict, must: set[str]) -> None:
    facts = extract_facts(FIXTURES / name)
    found = ApkScanner(now=lambda: NOW).check(facts)
    agg = aggregate(found)
    got = {f.rule_id for f in found}
    assert must <= got, (name, got)
    if verdict is Verdict.SUSPICIOUS:
        assert agg.verdict in (Verdict.SUSPICIOUS, Verdict.DANGEROUS), (name, agg)
    else:
        assert agg.verdict is verdict, (name, agg.risk_score, got)


def test_bundle_reports_inner_apks_together() -> None:
    for name in ("bundle.xapk", "bundle.apks"):
        result = scan_apk_path(FIXTURES / name)
        report = result.report("en")
        assert result.ok, result.error
        inner = report["app"]["inner"]
        assert len(inner) == 2 and {i["split"] for i in inner} == {None, "config.arm64_v8a"}
        sms = [f for f in report["findings"] if f["rule_id"] in ("APK-CAP-003", "APK-CAP-023")]
        assert sms and sms[0]["evidence"]["apk"].endswith(".apk")


@pytest.mark.parametrize(("name", "kind"), [
    ("not_zip.apk", "not-zip"), ("windows.apk", "windows-executable"),
    ("truncated.apk", "truncated"), ("no_manifest.apk", "no-manifest"),
])
def test_refused_files_give_a_clear_error(name: str, kind: str) -> None:
    result = scan_apk_path(FIXTURES / name)
    report = result.report("en")
    assert not result.ok and result.error_kind == kind
    assert report["error"] and report["verdict"] is None and report["sha256"]


def test_zip_bomb_and_entry_flood_are_refused() -> None:
    for name in ("zip_bomb.apk", "many_entries.apk"):
        result = scan_apk_path(FIXTURES / name)
        assert not result.ok
        assert "limit" in (result.error or "")


def test_report_round_trips_through_json_and_languages_differ() -> None:
    result = scan_apk_path(FIXTURES / "fake_vneid.apk")
    again = type(result).from_json(result.to_json())
    assert again.report("en") == result.report("en")
    vi, en = result.report("vi"), result.report("en")
    assert vi["verdict"] == en["verdict"] == "dangerous"
    assert vi["reasons"] != en["reasons"]
    assert en["package"] == "com.vnid" and en["label"] == "VNeID"
    perms = {p["name"]: p for p in en["app"]["permissions"]}
    assert perms["android.permission.READ_SMS"]["dangerous"] is True


def test_configured_blocklist_matches_package_and_signer(tmp_path: Path) -> None:
    import json

    import blocklists

    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({
        "sha256": [], "packages": [{"package": "org.example.app", "note": "analyst: fake"}],
        "signers": ["AB" * 32]}), encoding="utf-8")
    bl = blocklists.apk_blocklist().merged(blocklists.load_apk_blocklist(extra))
    found = ApkScanner(now=lambda: NOW, blocklist=bl).check(app())
    matches = {f.evidence["match"] for f in found if f.rule_id == "APK-BL-001"}
    assert matches == {"package", "signer"}
    # Blocklist hits are never suppressed, even for an app that looks official.
    assert aggregate(found).verdict is Verdict.DANGEROUS


def test_bad_blocklist_file_is_a_clear_error(tmp_path: Path) -> None:
    import blocklists

    bad = tmp_path / "bad.json"
    bad.write_text('{"sha256": [42]}', encoding="utf-8")
    with pytest.raises(blocklists.ListDataError, match="sha256"):
        blocklists.load_apk_blocklist(bad)


def test_report_shows_the_icon_as_typed_base64() -> None:
    import base64

    app = scan_apk_path(FIXTURES / "fake_dichvucong.apk").report("en")["app"]
    assert app["icon"]["media_type"] == "image/png"
    assert base64.b64decode(app["icon"]["data_base64"]).startswith(b"\x89PNG")
    assert scan_apk_path(FIXTURES / "fake_vneid.apk").report("en")["app"]["icon"] is None


# --- manifests that Android and our parser read differently (issue 15) -------

def _with_manifest(tmp_path: Path, name: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of benign_notes.apk whose AndroidManifest.xml is ``change(manifest)``."""
    out = tmp_path / name
    with zipfile.ZipFile(FIXTURES / "benign_notes.apk") as src, \
            zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "AndroidManifest.xml":
                data = change(data)
            dst.writestr(info, data)
    return out


TEXT_MANIFEST = (b'<?xml version="1.0" encoding="utf-8"?>\n<manifest xmlns:android='
                 b'"http://schemas.android.com/apk/res/android" package="org.example.notes">'
                 b'<uses-permission android:name="android.permission.READ_SMS"/>'
                 b'<application android:label="Notes"/></manifest>')


@pytest.mark.parametrize(("name", "change", "problem"), [
    ("text.apk", lambda raw: TEXT_MANIFEST, "text-xml"),
    ("half.apk", lambda raw: raw[: len(raw) // 2], "malformed-axml"),
    ("stub.apk", lambda raw: raw[:8], "malformed-axml"),
    ("zeros.apk", lambda raw: bytes(len(raw)), "malformed-axml"),
])
def test_unreadable_manifest_is_incomplete_and_never_calm(
        tmp_path: Path, name: str, change: Callable[[bytes], bytes], problem: str) -> None:
    report = scan_apk_path(_with_manifest(tmp_path, name, change)).report("en")
    assert report["verdict"] in ("suspicious", "dangerous"), report
    anti = [f for f in report["findings"] if f["rule_id"] == "APK-ANTI-002"]
    assert anti and anti[0]["evidence"]["problem"] == problem
    assert "AndroidManifest.xml" in anti[0]["evidence"]["detail"]
    assert [i["check"] for i in report["incomplete"]] == ["apk_manifest"]


@pytest.mark.parametrize(("name", "change"), [
    # Wrong type in the first chunk header: Android's parser ignores it.
    ("badtype.apk", lambda raw: b"\x00\x00" + raw[2:]),
    # Bytes after the declared size.
    ("appended.apk", lambda raw: raw + b"\x00" * 64),
    # A null byte inside the package name's string: Android reads up to it,
    # tools that keep the whole string see another package (androguard warns).
    ("nullbyte.apk", lambda raw: raw.replace(
        "org.scamscan.fixture.notes".encode("utf-16-le"),
        "org.scamscan.fixture.note\x00".encode("utf-16-le"))),
])
def test_tampered_binary_manifest_is_read_and_flagged(
        tmp_path: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    report = scan_apk_path(_with_manifest(tmp_path, name, change)).report("en")
    # Read as Android reads it.
    assert report["package"] in ("org.scamscan.fixture.notes", "org.scamscan.fixture.note")
    assert report["incomplete"] == []
    assert report["verdict"] in ("suspicious", "dangerous"), report
    anti = [f for f in report["findings"] if f["rule_id"] == "APK-ANTI-002"]
    assert anti and anti[0]["evidence"]["problem"] == "tampered-axml"


def test_untouched_fixture_has_no_manifest_problem() -> None:
    report = scan_apk_path(FIXTURES / "benign_notes.apk").report("en")
    assert report["incomplete"] == []
    assert "APK-ANTI-002" not in {f["rule_id"] for f in report["findings"]}


# --- scamscan apk --no-blocklists -----------------------------------------------

@pytest.mark.parametrize(("flag", "env"), [
    ((), {}), (("--no-blocklists",), {}), ((), {"SCAMSCAN_BLOCKLISTS": "off"})])
@pytest.mark.slow
def test_cli_no_blocklists_drops_every_blocklist_hit(
        tmp_path: Path, flag: tuple[str, ...], env: dict[str, str]) -> None:
    import json
    import os
    import subprocess
    import sys

    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"sha256": [], "signers": [], "packages": [
        {"package": "org.scamscan.fixture.notes", "note": "test entry"}]}), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "apk", "--json", *flag,
         str(FIXTURES / "benign_notes.apk")],
        capture_output=True, timeout=120, check=False, cwd=FIXTURES.parent.parent.parent,
        env={**os.environ, "SCAMSCAN_APK_BLOCKLIST": str(extra), **env})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    hit = "APK-BL-001" in {f["rule_id"] for f in report["findings"]}
    assert hit is (not flag and not env)


# --- the capability model (APK-ML-001) -------------------------------------------

def test_model_finding_names_the_facts_that_drove_it() -> None:
    facts = CASES["APK-ML-001"][0][0]
    found = [f for f in ApkScanner(now=lambda: NOW).check(facts) if f.rule_id == "APK-ML-001"]
    ev = found[0].evidence
    assert ev["score"] >= ev["threshold"] > 0.5
    # "perm:RECEIVE_SMS (+1.23)": the fact and its weight, heaviest first.
    drivers = [d.split(" ")[0] for d in ev["drivers"]]
    weights = [float(d.split("(+")[1].rstrip(")")) for d in ev["drivers"]]
    assert "perm:RECEIVE_SMS" in drivers
    assert all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)


def test_model_alone_never_makes_an_app_suspicious() -> None:
    assert rules.CATALOGUE["APK-ML-001"].points < 40


def test_model_reads_component_permissions_and_dex_calls() -> None:
    from scanners.apk_model import model_facts

    facts = app(components=(LAUNCHER, A11Y), code=CodeFacts(
        api_refs={"SmsManager.sendTextMessage": 1}))
    got = model_facts(facts)
    assert {"perm:BIND_ACCESSIBILITY_SERVICE", "api:SmsManager.sendTextMessage",
            "perm:INTERNET"} <= got


def test_shipped_model_is_small_and_credited() -> None:
    import json

    import blocklists

    path = blocklists.data_dir() / "apk_model.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert path.stat().st_size < 20_000
    assert "CC BY 4.0" in doc["credit"] and "TUANDROMD" in doc["credit"]
    assert list(doc["weights"]) == sorted(doc["weights"])


def test_brand_finding_says_where_the_brand_comes_from() -> None:
    found = [f for f in ApkScanner(now=lambda: NOW).check(
        app(label="Binance Pro", package="com.crypto.pro")) if f.rule_id == "APK-IMP-005"]
    ev = found[0].evidence
    assert ev["claims"] == "Binance" and ev["category"] == "wallet"
    assert ev["brand_sources"] == ["phishtank-2018-2019"]


def test_brand_list_records_a_source_for_every_brand() -> None:
    import json

    import blocklists

    doc = json.loads((blocklists.data_dir() / "apk_brands.json").read_text(encoding="utf-8"))
    assert len(doc["brands"]) > 100
    for b in doc["brands"]:
        assert b["sources"] and set(b["sources"]) <= set(doc["sources"]), b
        assert b["terms"] and all(t == t.lower() for t in b["terms"]), b
    cats = {b["category"] for b in doc["brands"]}
    assert {"bank", "wallet", "payment", "government", "telecom", "system"} <= cats


# --- archives that Android installs and strict parsers refuse (issue 12, item 5) --

def _patch_central(src: Path, out: Path, name: str, flag_or: int = 0,
                   method: int | None = None, crc_xor: int = 0,
                   version: int | None = None, rename: bytes | None = None) -> Path:
    """A copy of ``src`` whose central-directory (and local) header of ``name`` is altered:
    flag bits or'ed in, a compression method, a CRC xor, a "version needed to extract"
    (central only, the field zipfile reads), or a new name of the same length."""
    import struct

    buf = bytearray(src.read_bytes())
    pos = buf.rfind(b"PK\x05\x06")
    _, _, _, count, _, offset, _ = struct.unpack_from("<HHHHIIH", buf, pos + 4)
    pos = offset
    for _ in range(count):
        nlen, xlen, clen = struct.unpack_from("<HHH", buf, pos + 28)
        (loc,) = struct.unpack_from("<I", buf, pos + 42)
        if bytes(buf[pos + 46:pos + 46 + nlen]).decode("utf-8", "replace") == name:
            (flag,) = struct.unpack_from("<H", buf, pos + 8)
            struct.pack_into("<H", buf, pos + 8, flag | flag_or)
            struct.pack_into("<H", buf, loc + 6, flag | flag_or)
            if method is not None:
                struct.pack_into("<H", buf, pos + 10, method)
                struct.pack_into("<H", buf, loc + 8, method)
            (crc,) = struct.unpack_from("<I", buf, pos + 16)
            struct.pack_into("<I", buf, pos + 16, crc ^ crc_xor)
            if version is not None:
                struct.pack_into("<B", buf, pos + 6, version)
            if rename is not None:
                assert len(rename) == nlen
                buf[pos + 46:pos + 46 + nlen] = rename
                buf[loc + 30:loc + 30 + nlen] = rename
        pos += 46 + nlen + xlen + clen
    out.write_bytes(bytes(buf))
    return out


@pytest.mark.parametrize(("name", "kw"), [
    ("encrypted_flag.apk", {"flag_or": 0x1}),
    ("odd_method.apk", {"method": 0x7A}),
])
def test_malformed_archive_is_read_like_android_and_flagged(
        tmp_path: Path, name: str, kw: dict[str, Any]) -> None:
    import zipfile as zf

    src = FIXTURES / "fake_vneid.apk"
    bad = _patch_central(src, tmp_path / name, "AndroidManifest.xml", **kw)
    with pytest.raises((zf.BadZipFile, RuntimeError, NotImplementedError)):
        zf.ZipFile(bad).read("AndroidManifest.xml")  # what strict tools see
    result = scan_apk_path(bad)
    report = result.report("en")
    assert result.ok, result.error
    assert report["package"] == "com.vnid" and report["verdict"] == "dangerous"
    assert report["sha256"] == __import__("hashlib").sha256(bad.read_bytes()).hexdigest()
    anti = [f for f in report["findings"] if f["rule_id"] == "APK-ANTI-003"]
    assert anti and anti[0]["evidence"]["repairs"]


def test_an_entry_name_flagged_utf8_that_is_not_is_read_like_android_and_flagged(
        tmp_path: Path) -> None:
    # Android takes entry names as bytes; zipfile refuses the whole archive when a
    # name flagged UTF-8 is not UTF-8, so the app used to be refused as corrupt.
    bad = _patch_central(FIXTURES / "benign_notes.apk", tmp_path / "odd_name.apk",
                         "res/drawable/icon.png", flag_or=0x800,
                         rename=b"res/drawable/ic\xc3(.png")
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(bad)  # what strict tools see
    result = scan_apk_path(bad)
    report = result.report("en")
    assert result.ok, result.error
    assert report["package"] == "org.scamscan.fixture.notes" and report["label"] == "Notes"
    assert report["verdict"] in ("suspicious", "dangerous")
    anti = [f for f in report["findings"] if f["rule_id"] == "APK-ANTI-003"]
    assert anti and "not UTF-8" in anti[0]["evidence"]["repairs"][0]


def test_a_version_needed_above_any_readers_is_read_like_android_and_flagged(
        tmp_path: Path) -> None:
    # zipfile refuses an archive whose "version needed to extract" is above 6.3
    # (NotImplementedError, which once escaped the scan); Android ignores the field.
    bad = _patch_central(FIXTURES / "benign_notes.apk", tmp_path / "version.apk",
                         "AndroidManifest.xml", version=0xFF)  # version needed: 25.5
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(bad)  # what strict tools see
    result = scan_apk_path(bad)
    report = result.report("en")
    assert result.ok, result.error
    assert report["label"] == "Notes" and report["incomplete"] == []
    anti = [f for f in report["findings"] if f["rule_id"] == "APK-ANTI-003"]
    assert anti and "zip file version" in anti[0]["evidence"]["repairs"][0]


def test_a_bundle_whose_entry_name_is_not_utf8_is_flagged_not_a_crash(
        tmp_path: Path) -> None:
    # The bundle reader opens the archive with zipfile, which refuses it: the
    # anti-analysis answer with an incomplete entry, never an exception.
    bad = _patch_central(FIXTURES / "bundle.xapk", tmp_path / "odd_name.xapk",
                         "manifest.json", flag_or=0x800, rename=b"manife\xc3(.json")
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(bad)  # what strict tools see
    result = scan_apk_path(bad)
    report = result.report("en")
    assert result.ok, result.error
    assert report["verdict"] in ("suspicious", "dangerous")
    assert "APK-ANTI-003" in {f["rule_id"] for f in report["findings"]}
    assert [i["check"] for i in report["incomplete"]] == ["apk_parse"]


def test_a_bundle_says_which_inner_apk_it_could_not_read(tmp_path: Path) -> None:
    # zipfile refuses to open an entry with an unknown compression method
    # (NotImplementedError, which once escaped the bundle reader); the other APK is
    # read, and the report names the one that was not checked.
    bad = _patch_central(FIXTURES / "bundle.xapk", tmp_path / "odd_method.xapk",
                         "config.arm64_v8a.apk", method=0x63)
    result = scan_apk_path(bad)
    report = result.report("en")
    assert result.ok, result.error
    assert [i["package"] for i in report["app"]["inner"]] == ["org.scamscan.fixture.bundle"]
    assert [i["check"] for i in report["incomplete"]] == ["apk_bundle"]
    assert report["incomplete"][0]["reason"].startswith("config.arm64_v8a.apk: ")


def test_a_sound_bundle_is_complete() -> None:
    report = scan_apk_path(FIXTURES / "bundle.xapk").report("en")
    assert report["incomplete"] == [] and len(report["app"]["inner"]) == 2


def test_sound_archive_needs_no_repair() -> None:
    report = scan_apk_path(FIXTURES / "fake_vneid.apk").report("en")
    assert "APK-ANTI-003" not in {f["rule_id"] for f in report["findings"]}


def test_unreadable_archive_is_a_warning_and_incomplete_not_an_error(tmp_path: Path) -> None:
    # Every byte of the deflated manifest garbage while the headers stay sound: not
    # even a lenient read recovers it, so androguard fails inside the parse child.
    import struct

    buf = bytearray((FIXTURES / "benign_notes.apk").read_bytes())
    with zipfile.ZipFile(FIXTURES / "benign_notes.apk") as z:
        info = z.getinfo("AndroidManifest.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
    (nlen, xlen) = struct.unpack_from("<HH", buf, info.header_offset + 26)
    start = info.header_offset + 30 + nlen + xlen
    buf[start:start + info.compress_size] = b"\xff" * info.compress_size
    bad = tmp_path / "garbled.apk"
    bad.write_bytes(bytes(buf))
    result = scan_apk_path(bad)
    report = result.report("en")
    assert result.ok, result.error
    assert report["verdict"] in ("suspicious", "dangerous"), report
    assert [i["check"] for i in report["incomplete"]] == ["apk_parse"]
    assert "APK-ANTI-003" in {f["rule_id"] for f in report["findings"]}


def test_zipfix_restores_a_broken_local_header_and_leaves_sound_files_alone() -> None:
    from scanners.apk_zipfix import repair

    sound = (FIXTURES / "benign_notes.apk").read_bytes()
    assert repair(sound) == (sound, [])
    with zipfile.ZipFile(FIXTURES / "benign_notes.apk") as z:
        off = z.getinfo("classes.dex").header_offset
    broken = sound[:off] + b"XX\x00\x00" + sound[off + 4:]
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(__import__("io").BytesIO(broken)).read("classes.dex")
    fixed, changes = repair(broken)
    assert changes == ["1 local headers with a broken signature"]
    assert zipfile.ZipFile(__import__("io").BytesIO(fixed)).read("classes.dex")


def test_console_shows_the_model_drivers_as_text() -> None:
    from api.console.views import apk_report_view

    facts = CASES["APK-ML-001"][0][0]
    found = ApkScanner(now=lambda: NOW).check(facts)
    report = {"findings": aggregate(found).findings_json("en"), "app": {}}
    rows = {f["rule_id"]: dict(f["evidence"]) for f in apk_report_view(report, "en")["findings"]}
    assert "perm:RECEIVE_SMS (+" in rows["APK-ML-001"]["drivers"]


def test_service_jobs_honour_blocklists_off(tmp_path: Path) -> None:
    import json

    from api.jobs import run_apk_job
    from scanners.apk_report import ApkResult

    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"sha256": [], "signers": [], "packages": [
        {"package": "org.scamscan.fixture.notes", "note": "test entry"}]}), encoding="utf-8")
    path = str(FIXTURES / "benign_notes.apk")
    on = ApkResult.from_json(run_apk_job(path, "n.apk", "", blocklist=str(extra)))
    off = ApkResult.from_json(run_apk_job(path, "n.apk", "", blocklist=str(extra),
                                          use_blocklists=False))
    assert "APK-BL-001" in {r for r, _ in on.findings}
    assert "APK-BL-001" not in {r for r, _ in off.findings}


def test_zipfix_never_raises_on_hostile_bytes() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from scanners.apk_zipfix import repair

    sound = (FIXTURES / "benign_notes.apk").read_bytes()

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.lists(st.tuples(st.integers(0, len(sound) - 1), st.integers(0, 255)),
                    max_size=20), st.binary(max_size=64))
    def check(flips: list[tuple[int, int]], tail: bytes) -> None:
        buf = bytearray(sound)
        for at, value in flips:
            buf[at] = value
        data = bytes(buf) + tail
        fixed, changes = repair(data)
        assert isinstance(fixed, bytes) and len(fixed) == len(data)
        assert (fixed != data) == bool(changes)

    check()
    for junk in (b"", b"PK\x05\x06", b"PK\x05\x06" + b"\xff" * 18, b"\x00" * 100):
        assert repair(junk) == (junk, [])


def test_zipfix_fixes_a_wrong_crc_only_when_asked(tmp_path: Path) -> None:
    # androguard's reader ignores ZIP CRCs; the CRC pass (every entry inflated)
    # runs only after a read failed, so the cheap pass leaves it alone.
    from scanners.apk_zipfix import repair

    bad = _patch_central(FIXTURES / "fake_vneid.apk", tmp_path / "crc.apk",
                         "AndroidManifest.xml", crc_xor=0xDEAD).read_bytes()
    assert repair(bad, crc=False) == (bad, [])
    fixed, changes = repair(bad)
    assert changes == ["1 entries whose CRC-32 does not match their data"]
    assert zipfile.ZipFile(__import__("io").BytesIO(fixed)).read("AndroidManifest.xml")


def test_corrupt_central_extra_field_is_read_like_android(tmp_path: Path) -> None:
    import struct

    data = (FIXTURES / "fake_vneid.apk").read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    _, _, _, _, cd_size, cd_offset, _ = struct.unpack_from("<HHHHIIH", data, eocd + 4)
    cd = bytearray(data[cd_offset:cd_offset + cd_size])
    nlen, xlen = struct.unpack_from("<HH", cd, 28)
    # An extra field that claims 100 bytes and holds none: zipfile refuses the archive.
    struct.pack_into("<H", cd, 30, xlen + 4)
    cd[46 + nlen + xlen:46 + nlen + xlen] = b"\xfe\xca\x64\x00"
    end = bytearray(data[eocd:])
    struct.pack_into("<I", end, 12, cd_size + 4)
    bad = tmp_path / "extra.apk"
    bad.write_bytes(data[:cd_offset] + bytes(cd) + bytes(end))
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(bad)
    result = scan_apk_path(bad)
    report = result.report("en")
    assert result.ok, result.error
    assert report["package"] == "com.vnid" and report["verdict"] == "dangerous"
    anti = [f for f in report["findings"] if f["rule_id"] == "APK-ANTI-003"]
    assert anti and "extra field" in anti[0]["evidence"]["repairs"][0]


# --- builder fingerprints in the DEX class list (issue 12) --------------------

def test_class_shapes_count_builder_roots_and_lower_case_names() -> None:
    from scanners.apk_class_shapes import MAX_EXAMPLES, class_shapes

    shapes = class_shapes([
        "Lcom/metasploit/stage/Payload;", "Lcom/metasploit/stage/Payload$1;",
        "Lahmyth/mine/king/ahmyth/MainService;", "Lcom/example/MainActivity;",
        "Lx/y/cmtstflxlxb;", "Lx/y/fIvicKhU;",
        # Not the shape: R8's short names, Play services' zz names, inner classes,
        # a class in no package, UpperCamelCase, odd descriptors.
        "La/b/c/d;", "La/b/c/ab;", "Lcom/google/android/gms/internal/ads/zzfqxyk;",
        "Lx/y/Outer$innerclass;", "Lnopackage;", "Lx/y/MainActivity;", "[I", "garbage"])
    assert shapes.roots == {"com.metasploit.stage": 2, "ahmyth.mine.king.ahmyth": 1}
    assert shapes.lower_classes == 2
    assert shapes.lower_names == ("cmtstflxlxb", "fIvicKhU")
    assert shapes.letter_chain_classes == 2
    many = class_shapes(f"Lq/w/name{chr(97 + i % 26)}{i:04d}x;" for i in range(500))
    assert many.lower_classes == 0  # digits: not a builder name
    many = class_shapes(f"Lq/w/k{''.join(chr(97 + (i >> k) % 26) for k in range(6))};"
                        for i in range(500))
    assert many.lower_classes == 500
    assert len(many.lower_names) == MAX_EXAMPLES


def test_code_facts_round_trip_keeps_the_class_shapes() -> None:
    code = CodeFacts(builder_roots={"my.app.client": 4}, lower_classes=30,
                     lower_class_names=("cmtstflxlxb",), letter_chain_classes=7)
    assert CodeFacts.from_dict(code.to_dict()) == code
    assert CodeFacts.from_dict({}).builder_roots == {}


def test_builder_root_finding_names_the_builder_and_its_source() -> None:
    facts = extract_facts(FIXTURES / "rat_stage.apk")
    assert facts.code is not None
    assert facts.code.builder_roots == {"com.metasploit.stage": 3}
    found = {f.rule_id: f.evidence for f in ApkScanner(now=lambda: NOW).check(facts)}
    assert found["APK-PKG-004"]["builder"].startswith("Metasploit")
    assert "rapid7/metasploit-payloads" in found["APK-PKG-004"]["source"]
    assert found["APK-PKG-005"]["count"] == 24
    assert found["APK-PKG-003"]["together_with"] == ["reads SMS"]
    assert found["APK-PKG-003"]["soup_segments"] == ["qwrtzpkl", "xbvnmd"]


@pytest.mark.parametrize("name", ["benign_notes.apk", "premium_sms.apk", "dropper_bank.apk",
                                  "fake_dichvucong.apk", "hidden_launcher.apk"])
def test_builder_rules_stay_quiet_on_other_fixtures(name: str) -> None:
    facts = extract_facts(FIXTURES / name)
    got = {f.rule_id for f in ApkScanner(now=lambda: NOW).check(facts)}
    assert not got & {"APK-PKG-003", "APK-PKG-004", "APK-PKG-005"}, got


@pytest.mark.slow
def test_mutated_fixtures_never_raise() -> None:
    # A short fixed-seed pass of tools/mutate_apks.py (random bytes changed in and
    # around the ZIP headers, files cut short or grown): every variant must end in a
    # report, an incomplete entry or a refusal, never an exception.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mutate_apks", Path(__file__).resolve().parent.parent / "tools" / "mutate_apks.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    outcomes, escaped = mod.run(count=150, seed=11)
    assert escaped == []
    assert sum(outcomes.values()) == 150
    assert outcomes["scanned"] and len(outcomes) >= 3  # the mutations reach every outcome
