"""APK facts: real androguard (in the parse child) on the committed fixtures, no mocks."""

from __future__ import annotations

import hashlib
import json
import struct
import tracemalloc
import zipfile
import zlib
from functools import cache
from pathlib import Path

import pytest

from scanners import apk_facts
from scanners.apk_facts import (
    ApkError,
    ApkFacts,
    ApkLimits,
    ApkParseIncomplete,
    ApkTooLargeError,
    NotAnApkError,
    ZipBombError,
    extract_facts,
    inspect_zip,
)
from scanners.errors import InputError, ScanIncomplete

FIXTURES = Path(__file__).parent / "fixtures" / "apk"


@cache
def facts(name: str) -> ApkFacts:
    """Each fixture is extracted once per test session."""
    return extract_facts(FIXTURES / name)


def component(f: ApkFacts, name: str) -> apk_facts.Component:
    return next(c for c in f.components if c.name == name)


# --------------------------------------------------------------------------- manifest


def test_fake_dichvucong_manifest() -> None:
    f = facts("fake_dichvucong.apk")
    assert f.schema_version == apk_facts.SCHEMA_VERSION
    assert f.package == "vn.gov.dichvucong.app"
    assert f.label == "Dịch vụ công"
    assert (f.version_code, f.version_name) == ("3", "1.0.3")
    assert (f.min_sdk, f.target_sdk) == (24, 29)
    assert {
        "android.permission.RECEIVE_SMS",
        "android.permission.SEND_SMS",
        "android.permission.SYSTEM_ALERT_WINDOW",
        "android.permission.REQUEST_INSTALL_PACKAGES",
    } <= set(f.permissions)
    assert f.launcher_activity == "vn.gov.dichvucong.app.MainActivity"
    assert f.sha256 == hashlib.sha256((FIXTURES / "fake_dichvucong.apk").read_bytes()).hexdigest()
    assert f.size == (FIXTURES / "fake_dichvucong.apk").stat().st_size
    assert f.errors == ()


def test_components_are_fully_qualified_with_filters_and_permissions() -> None:
    f = facts("fake_dichvucong.apk")
    kinds = {c.name: c.kind for c in f.components}
    assert kinds == {
        "vn.gov.dichvucong.app.MainActivity": "activity",
        "vn.gov.dichvucong.app.A11yService": "service",
        "vn.gov.dichvucong.app.NotifListener": "service",
        "vn.gov.dichvucong.app.SmsReceiver": "receiver",
        "vn.gov.dichvucong.app.AdminReceiver": "receiver",
        "vn.gov.dichvucong.app.BootReceiver": "receiver",
    }
    sms = component(f, "vn.gov.dichvucong.app.SmsReceiver")
    assert sms.exported is True and sms.effective_exported
    assert sms.permission == "android.permission.BROADCAST_SMS"
    assert sms.has_action("android.provider.Telephony.SMS_RECEIVED")
    assert sms.intent_filters[0].priority == 999
    a11y = component(f, "vn.gov.dichvucong.app.A11yService")
    assert a11y.permission == "android.permission.BIND_ACCESSIBILITY_SERVICE"
    assert a11y.meta_data[0][0] == "android.accessibilityservice"


def test_accessibility_config_every_variant() -> None:
    f = facts("fake_dichvucong.apk")
    by_path = {a.path: a for a in f.accessibility}
    assert set(by_path) == {
        "res/xml/accessibility_config.xml",
        "res/xml-v22/accessibility_config.xml",
    }
    default = by_path["res/xml/accessibility_config.xml"]
    v22 = by_path["res/xml-v22/accessibility_config.xml"]
    assert default.service == v22.service == "vn.gov.dichvucong.app.A11yService"
    assert default.config == "" and v22.config == "v22"
    assert default.can_retrieve_window_content is True
    assert default.can_perform_gestures is True
    assert default.event_types == ("typeAllMask",)
    assert set(default.flags) == {
        "flagDefault",
        "flagRetrieveInteractiveWindows",
        "flagIncludeNotImportantViews",
    }
    assert default.notification_timeout == 100
    assert v22.can_retrieve_window_content is False
    assert v22.can_perform_gestures is False
    assert set(v22.event_types) == {
        "typeWindowStateChanged",
        "typeWindowContentChanged",
        "typeViewClicked",
    }
    assert v22.feedback_types == ("feedbackSpoken",)
    assert default.description and "dịch vụ hỗ trợ" in default.description
    assert all(a.error is None for a in f.accessibility)


def test_device_admin_policies() -> None:
    (admin,) = facts("fake_dichvucong.apk").device_admins
    assert admin.receiver == "vn.gov.dichvucong.app.AdminReceiver"
    assert admin.path == "res/xml/device_admin.xml"
    assert admin.policies == ("force-lock", "wipe-data")


def test_fake_vneid_single_variant_and_priority() -> None:
    f = facts("fake_vneid.apk")
    assert (f.package, f.label) == ("com.vnid", "VNeID")
    assert [a.path for a in f.accessibility] == ["res/xml/accessibility_config.xml"]
    assert f.accessibility[0].service == "com.vnid.SupportService"
    assert component(f, "com.vnid.SmsReceiver").intent_filters[0].priority == 1000
    assert f.device_admins == ()


def test_hidden_launcher_has_no_enabled_launcher() -> None:
    f = facts("hidden_launcher.apk")
    assert f.launcher_activity is None
    assert f.launcher_candidates == ("org.scamscan.fixture.hidden.LauncherAlias",)
    alias = component(f, "org.scamscan.fixture.hidden.LauncherAlias")
    assert alias.kind == "activity-alias" and alias.enabled is False
    assert alias.target_activity == "org.scamscan.fixture.hidden.HiddenActivity"
    hidden = component(f, "org.scamscan.fixture.hidden.HiddenActivity")
    assert hidden.exported is False and not hidden.effective_exported
    boot = component(f, "org.scamscan.fixture.hidden.BootReceiver")
    assert boot.has_action("android.intent.action.BOOT_COMPLETED")


def test_benign_notes() -> None:
    f = facts("benign_notes.apk")
    assert f.package == "org.scamscan.fixture.notes"
    assert f.label == "Notes"
    assert f.launcher_activity is not None
    assert f.accessibility == () and f.device_admins == ()
    assert f.code is not None
    assert f.code.api_calls == {} and f.code.anti_analysis == ()


# --------------------------------------------------------------------------- certificates


def test_certificates_v1_v2_v3_throwaway_subject() -> None:
    f = facts("fake_vneid.apk")
    assert f.signed and f.signature_schemes == ("v1", "v2", "v3")
    (cert,) = f.certificates
    assert cert.schemes == ("v1", "v2", "v3")
    assert dict(cert.subject_fields) == {
        "CN": "Unknown", "OU": "Unknown", "O": "Unknown",
        "L": "Unknown", "ST": "Unknown", "C": "Unknown",
    }
    assert cert.self_signed and not cert.is_debug
    assert cert.key_algorithm == "RSA-2048"
    assert len(cert.sha256) == 64
    assert cert.not_before is not None and cert.not_after is not None
    assert cert.not_before < cert.not_after
    dichvucong = facts("fake_dichvucong.apk").certificates
    assert [c.subject for c in dichvucong] == ["CN=aaa"]


def test_debug_certificate_v1_only() -> None:
    f = facts("debug_signed.apk")
    assert f.signature_schemes == ("v1",)
    (cert,) = f.certificates
    assert cert.is_debug
    assert cert.schemes == ("v1",)
    assert "CN=Android Debug" in cert.subject


def test_unsigned() -> None:
    f = facts("unsigned.apk")
    assert f.package == "org.scamscan.fixture.unsigned"
    assert not f.signed
    assert f.certificates == () and f.signature_schemes == ()


# --------------------------------------------------------------------------- code


def test_code_strings_and_api_calls() -> None:
    code = facts("fake_dichvucong.apk").code
    assert code is not None
    assert code.skipped_reason is None and code.instructions_complete
    assert code.classes == 7
    assert "https://dichvucong-gov.com/api" in code.urls
    assert code.websockets == ("wss://c2.example.top/ws",)
    assert code.telegram_bot == ("https://api.telegram.org/bot123:ABC/sendMessage",)
    assert code.firebase == ("x-default-rtdb.firebaseio.com",)
    assert code.ips == ("203.0.113.7",)
    expected = {
        "SmsManager.sendTextMessage": 1,
        "AccessibilityService.dispatchGesture": 1,
        "AccessibilityService.performGlobalAction": 1,
        "MediaProjectionManager.createScreenCaptureIntent": 1,
        "DevicePolicyManager.lockNow": 1,
        "PackageInstaller.createSession": 1,
    }
    assert code.api_calls == expected
    assert code.api_refs == expected
    assert code.anti_analysis == ()


def test_code_stage_skipped_past_class_count() -> None:
    f = extract_facts(FIXTURES / "fake_dichvucong.apk", limits=ApkLimits(code_max_classes=3))
    assert f.code is not None
    assert f.code.skipped_reason == "too-many-classes: 7 > 3"
    assert f.code.urls == () and f.code.api_calls == {}
    assert f.package == "vn.gov.dichvucong.app"  # the manifest stage still ran


def test_bad_dex_is_an_anti_analysis_fact() -> None:
    f = facts("bad_dex.apk")
    assert f.package == "vn.gov.dichvucong.app"
    assert len(f.accessibility) == 2  # manifest and resources are intact
    assert f.code is not None
    assert "malformed-dex" in f.code.anti_analysis
    assert "bad-dex-checksum" in f.code.anti_analysis
    assert f.code.urls == ()


def _with_invalid_opcode(tmp_path: Path) -> Path:
    """fake_dichvucong with one opcode in Dormant.run() replaced by an unused one
    (0x3e), the DEX checksum and signature fixed: only the instruction is wrong."""
    src = FIXTURES / "fake_dichvucong.apk"
    with zipfile.ZipFile(src) as zin:
        dex = bytearray(zin.read("classes.dex"))
        # const/4 v6, 0 ; if-eqz v6, … : the first instructions of Dormant.run()
        at = dex.find(b"\x12\x06\x38\x06")
        assert at > 0
        dex[at] = 0x3E
        dex[12:32] = hashlib.sha1(dex[32:]).digest()  # noqa: S324 - the DEX format's own
        dex[8:12] = struct.pack("<I", zlib.adler32(bytes(dex[12:])))
        out = tmp_path / "invalid_instruction.apk"
        with zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                if info.filename.startswith("META-INF/"):
                    continue
                data = bytes(dex) if info.filename == "classes.dex" else zin.read(info)
                zout.writestr(info.filename, data)
    return out


def test_invalid_instruction_is_recorded(tmp_path: Path) -> None:
    f = extract_facts(_with_invalid_opcode(tmp_path))
    assert f.code is not None
    assert "invalid-instruction" in f.code.anti_analysis
    assert "https://dichvucong-gov.com/api" in f.code.urls  # the tables are still read
    assert "SmsManager.sendTextMessage" in f.code.api_refs
    assert not f.signed


# --------------------------------------------------------------------------- bundles


@pytest.mark.parametrize(("name", "kind"), [("bundle.xapk", "xapk"), ("bundle.apks", "apks")])
def test_bundles_report_every_inner_apk(name: str, kind: str) -> None:
    f = facts(name)
    assert f.is_bundle and f.zip.bundle == kind
    assert len(f.inner) == 2
    assert {i.package for i in f.inner} == {"org.scamscan.fixture.bundle"}
    splits = sorted((i.split or "") for i in f.inner)
    assert splits == ["", "config.arm64_v8a"]
    base = next(i for i in f.inner if i.split is None)
    assert base.label == "Bundle Demo"
    assert base.launcher_activity is not None
    assert base.code is not None and base.code.classes >= 1
    assert all(i.signed for i in f.inner)
    assert (f.package, f.label, f.version_name) == ("org.scamscan.fixture.bundle",
                                                   "Bundle Demo", "1.5")
    assert list(f.all_apks()) == list(f.inner)
    assert f.errors == ()


# --------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize(
    ("name", "error", "kind"),
    [
        ("not_zip.apk", NotAnApkError, "not-zip"),
        ("windows.apk", NotAnApkError, "windows-executable"),
        ("truncated.apk", NotAnApkError, "truncated"),
        ("no_manifest.apk", NotAnApkError, "no-manifest"),
        ("zip_bomb.apk", ZipBombError, "zip-bomb"),
        ("many_entries.apk", ZipBombError, "zip-bomb"),
    ],
)
def test_hostile_files_are_refused_before_any_child(
    name: str, error: type[ApkError], kind: str
) -> None:
    before = apk_facts.worker_starts()
    with pytest.raises(error) as info:
        extract_facts(FIXTURES / name)
    assert info.value.kind == kind
    assert isinstance(info.value, InputError)
    assert info.value.reason
    assert apk_facts.worker_starts() == before  # refused in the parent, nothing parsed


def test_zip_bomb_is_refused_without_decompressing() -> None:
    path = FIXTURES / "zip_bomb.apk"
    tracemalloc.start()
    try:
        with pytest.raises(ZipBombError, match="expands"):
            inspect_zip(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # the 200 MB entry was never inflated


def test_declared_total_and_entry_count_limits() -> None:
    with pytest.raises(ZipBombError, match="uncompressed"):
        inspect_zip(FIXTURES / "fake_dichvucong.apk", ApkLimits(max_uncompressed=1000))
    with pytest.raises(ZipBombError, match="entries"):
        inspect_zip(FIXTURES / "fake_dichvucong.apk", ApkLimits(max_entries=3))


def test_file_over_size_limit() -> None:
    before = apk_facts.worker_starts()
    with pytest.raises(ApkTooLargeError) as info:
        extract_facts(FIXTURES / "fake_dichvucong.apk", limits=ApkLimits(max_file_bytes=1000))
    assert info.value.kind == "too-large"
    assert apk_facts.worker_starts() == before


def test_path_traversal_names_are_recorded_not_followed() -> None:
    f = facts("traversal.apk")
    assert f.zip.suspicious_names == ("../../evil.txt",)
    assert f.warnings
    assert f.package == "org.scamscan.fixture.notes"
    assert not (FIXTURES.parent / "evil.txt").exists()


def test_missing_file() -> None:
    with pytest.raises(NotAnApkError):
        extract_facts(FIXTURES / "does-not-exist.apk")


# --------------------------------------------------------------------------- the child's limits


def test_child_over_memory_limit_is_reported() -> None:
    before = apk_facts.worker_starts()
    with pytest.raises(ApkParseIncomplete) as info:
        extract_facts(FIXTURES / "fake_dichvucong.apk", limits=ApkLimits(memory=48 * 1024 * 1024))
    assert isinstance(info.value, ScanIncomplete)
    assert info.value.check == "apk_parse"
    assert "48 MB" in info.value.reason
    assert apk_facts.worker_starts() == before + 1


def test_child_over_wall_time_is_killed_and_reported() -> None:
    with pytest.raises(ApkParseIncomplete) as info:
        extract_facts(FIXTURES / "fake_dichvucong.apk", limits=ApkLimits(parse_timeout=0.05))
    assert info.value.check == "apk_parse"
    assert "longer than 0.05 s" in info.value.reason


# --------------------------------------------------------------------------- serialisation


@pytest.mark.parametrize("name", ["fake_dichvucong.apk", "bundle.xapk", "bad_dex.apk"])
def test_json_round_trip(name: str) -> None:
    f = facts(name)
    text = f.to_json()
    assert ApkFacts.from_json(text) == f
    assert ApkFacts.from_dict(json.loads(json.dumps(f.to_dict()))) == f


def test_other_schema_version_is_rejected() -> None:
    d = facts("unsigned.apk").to_dict()
    d["schema_version"] = apk_facts.SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="schema"):
        ApkFacts.from_dict(d)


def test_limits_round_trip() -> None:
    limits = ApkLimits(memory=123, code_timeout=1.5)
    assert ApkLimits.from_dict(limits.to_dict()) == limits


# --------------------------------------------------------------------------- the warm worker


def test_code_stage_off_gives_manifest_facts_only() -> None:
    f = extract_facts(FIXTURES / "fake_dichvucong.apk", limits=ApkLimits(code_stage=False))
    assert f.code is None
    assert f.package == "vn.gov.dichvucong.app" and f.label == "Dịch vụ công"
    assert len(f.accessibility) == 2 and f.signed


def test_warm_children_from_threads_leave_no_process_behind() -> None:
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    if not apk_facts.start_worker_server():
        pytest.skip("no forkserver start method here")
    names = ["fake_dichvucong.apk", "fake_vneid.apk", "unsigned.apk", "benign_notes.apk"] * 2
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda n: extract_facts(FIXTURES / n), names))
    assert [f.file_name for f in got] == names
    stats: dict[str, object] = {}

    def one() -> None:
        extract_facts(FIXTURES / "unsigned.apk")
        stats.update(apk_facts.last_child_stats())

    t = threading.Thread(target=one)
    t.start()
    t.join()
    assert stats["mode"] == "warm" and stats["warm_imports"] is True
    # The parse children are the fork server's: none is ours, none is a zombie.
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fp:
                fields = fp.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        assert not (fields[0] == "Z" and int(fields[1]) == me), f"zombie child {entry}"


def test_cold_worker_is_still_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAMSCAN_APK_WORKER", "cold")
    before = apk_facts.worker_starts()
    f = extract_facts(FIXTURES / "fake_vneid.apk")
    assert f.package == "com.vnid"
    assert apk_facts.worker_starts() == before + 1
