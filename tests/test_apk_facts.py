"""APK facts: real androguard (in the parse child) on the committed fixtures, no mocks."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tracemalloc
import zipfile
import zlib
from functools import cache
from pathlib import Path

import pytest

from scanners import apk_facts, apk_supervisor, apk_zipcheck
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
        # 1 ms: a prewarmed idle child parses a fixture in well under 50 ms.
        extract_facts(FIXTURES / "fake_dichvucong.apk", limits=ApkLimits(parse_timeout=0.001))
    assert info.value.check == "apk_parse"
    assert "longer than 0.001 s" in info.value.reason


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


# --------------------------------------------------------------------------- DEX compiler


def test_smali_built_fixtures_are_dexlib2() -> None:
    for name in ("fake_dichvucong.apk", "benign_notes.apk", "debug_signed.apk"):
        code = facts(name).code
        assert code is not None
        assert [(d.name, d.compiler) for d in code.dex_files] == [("classes.dex", "dexlib2")]
        assert code.dex_files[0].assembled_with_dexlib
        assert code.dexlib_dex == ("classes.dex",)
    bad = facts("bad_dex.apk").code
    assert bad is not None and bad.dex_files[0].compiler == "unknown"
    assert bad.dexlib_dex == ()


def _synthetic_dex(
    order: list[int], *, strings: int = 4, unsorted: bool = False, marker: bool = False
) -> bytes:
    """A DEX header, ID and data sections of 16 bytes each laid out in ``order``
    (map item types), string ids pointing into the string data, and a map_list
    listing the sections in layout order: what the compiler check reads."""
    offsets: dict[int, int] = {}
    pos = 0x70
    for t in order:
        if t == 0x0000:
            offsets[t] = 0
            continue
        offsets[t] = pos
        pos += 4 * strings if t == 0x0001 else 16 * strings if t == 0x2002 else 16
    body = bytearray(pos)
    if 0x2002 in offsets:
        if marker:
            text = b'~~D8{"backend":"dex","compilation-mode":"release"}'
            body[offsets[0x2002] : offsets[0x2002] + len(text) + 1] = bytes([len(text)]) + text
        ids = [offsets[0x2002] + 16 * i for i in range(strings)]
        if unsorted:
            ids[1], ids[2] = ids[2], ids[1]
        struct.pack_into(f"<{strings}I", body, offsets[0x0001], *ids)
    map_off = len(body)
    items = [(t, offsets[t]) for t in order] + [(0x1000, map_off)]
    body += struct.pack("<I", len(items))
    for t, off in items:
        body += struct.pack("<HHII", t, 0, strings if t in (0x0001, 0x2002) else 1, off)
    body[0:8] = b"dex\n035\x00"
    struct.pack_into("<III", body, 0x20, len(body), 0x70, 0x12345678)
    struct.pack_into("<I", body, 0x34, map_off)
    struct.pack_into("<II", body, 0x38, strings, offsets.get(0x0001, 0))
    struct.pack_into("<II", body, 0x60, 0, 0)  # no class defs
    struct.pack_into("<I", body, 8, zlib.adler32(bytes(body[12:])))
    return bytes(body)


IDS = [0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006]


@pytest.mark.parametrize(
    ("data", "marker", "unsorted", "expected"),
    [
        # smali (dexlib2): string data first, then type lists, annotations, code.
        ([0x2002, 0x1001, 0x1003, 0x2001, 0x2000], False, False, "dexlib2"),
        # a tiny smali DEX without type lists (as benign_notes.apk).
        ([0x2002, 0x1003, 0x2001, 0x2000], False, False, "dexlib2"),
        # dx (dalvik-exchange): annotations, code, type lists, then string data.
        ([0x1002, 0x1003, 0x2001, 0x2006, 0x1001, 0x2002, 0x2004, 0x2000], False, False, "dx"),
        ([0x2001, 0x1001, 0x2002, 0x2003, 0x2000], False, False, "dx"),
        # d8/r8: code, debug info, type lists, string data; with or without marker.
        ([0x2001, 0x2003, 0x1001, 0x2002, 0x1003, 0x2000], True, False, "d8/r8"),
        ([0x2001, 0x2003, 0x1001, 0x2002, 0x1003, 0x2000], False, False, "d8/r8"),
        # dx with its d8 marker string would still say d8/r8 (the marker wins over dx).
        ([0x2001, 0x1001, 0x2002, 0x2000], True, False, "d8/r8"),
        # dexlib 1.x: string data out of string-id order.
        ([0x2001, 0x1001, 0x2002, 0x2000], False, True, "dexlib1"),
        # no code, no type lists: dexlib2 and d8 write the same layout.
        ([0x2002, 0x1003], False, False, "unknown"),
    ],
)
def test_dex_compiler_from_layout(
    data: list[int], marker: bool, unsorted: bool, expected: str
) -> None:
    from scanners.apk_dex import dex_compiler

    assert dex_compiler(_synthetic_dex(IDS + data, marker=marker, unsorted=unsorted)) == expected


def test_dex_compiler_never_raises_on_malformed_input() -> None:
    from scanners.apk_dex import dex_compiler

    good = bytearray(_synthetic_dex([*IDS, 0x2002, 0x1001, 0x2001, 0x2000]))
    assert dex_compiler(bytes(good)) == "dexlib2"
    map_off = struct.unpack_from("<I", good, 0x34)[0]
    cases = [b"", b"dex\n035\x00", b"\xff" * 0x70, bytes(good[:map_off + 6])]
    for count in (0, 65, 0xFFFFFFFF):
        bad = bytearray(good)
        struct.pack_into("<I", bad, map_off, count)
        cases.append(bytes(bad))
    for map_at in (0xFFFFFFF0, 3, len(good)):
        bad = bytearray(good)
        struct.pack_into("<I", bad, 0x34, map_at)
        cases.append(bytes(bad))
    bad = bytearray(good)
    struct.pack_into("<II", bad, 0x38, 0xFFFFFFFF, 0xFFFFFFF0)  # string ids off the end
    cases.append(bytes(bad))
    bad = bytearray(good)
    struct.pack_into("<II", bad, 0x60, 0xFFFFFFFF, 0x70)  # class defs off the end
    cases.append(bytes(bad))
    for raw in cases:
        assert dex_compiler(raw) in ("unknown", "dexlib2")
    assert dex_compiler(b"") == "unknown"
    assert dex_compiler(bytes(good[: map_off + 6])) == "unknown"


def test_dex_compiler_round_trips() -> None:
    f = facts("fake_dichvucong.apk")
    again = ApkFacts.from_json(f.to_json())
    assert again.code is not None and again.code.dex_files[0].compiler == "dexlib2"
    d = f.to_dict()
    del d["code"]["dex_files"][0]["compiler"]  # older producers: no answer
    assert ApkFacts.from_dict(d).code.dex_files[0].compiler is None  # type: ignore[union-attr]


# --------------------------------------------------------------------------- lazy resources.arsc


def _arsc_answers(res: object) -> list[tuple[tuple[int, ...], str, object]]:
    return [
        (cfg._get_tuple(), cfg.get_qualifier(), v if isinstance(v, str) else "complex")
        for cfg, v in res  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name for p in FIXTURES.glob("*.apk")
        if zipfile.is_zipfile(p) and "resources.arsc" in zipfile.ZipFile(p).namelist()
    ),
)
def test_lazy_arsc_matches_androguard_on_every_resource(name: str) -> None:
    """Every resource id of the fixture, in every config and in the default one."""
    from androguard.core.axml import ARSCParser, ARSCResTableConfig

    from scanners.apk_resources import LazyArsc

    raw = zipfile.ZipFile(FIXTURES / name).read("resources.arsc")
    full = ARSCParser(raw)
    lazy = LazyArsc(raw)
    full.get_resolved_res_configs(0x7F000000)  # runs androguard's full analysis
    rids = list(full.resource_values)
    assert rids
    for rid in rids:
        for cfg in (None, ARSCResTableConfig.default_config()):
            assert _arsc_answers(lazy.resolve(rid, cfg)) == _arsc_answers(
                full.get_resolved_res_configs(rid, cfg)
            ), (hex(rid), cfg)


def test_lazy_arsc_unknown_id_and_odd_tables() -> None:
    from scanners.apk_resources import ArscFallback, LazyArsc

    raw = zipfile.ZipFile(FIXTURES / "fake_dichvucong.apk").read("resources.arsc")
    lazy = LazyArsc(raw)
    assert lazy.resolve(0x7F7F0001) == []
    with pytest.raises(ValueError, match="rid"):
        lazy.resolve(0)
    for broken in (b"", raw[:6], b"\x02\x00\x0c\x00" + b"\xff" * 8, b"\x01\x00" + raw[2:]):
        with pytest.raises(ArscFallback):
            LazyArsc(broken)


def test_labels_and_configs_from_the_lazy_reader() -> None:
    """The manifest stage resolves through the lazy reader, not the full parse."""
    from scanners import apk_parse, apk_resources

    calls: list[int] = []
    real = apk_resources.Resources.arsc

    def spy(self: apk_resources.Resources) -> object:
        calls.append(1)
        return real(self)

    apk_resources.Resources.arsc = spy  # type: ignore[method-assign]
    try:
        path = FIXTURES / "fake_dichvucong.apk"
        f = apk_parse.extract(
            str(path), ApkLimits(code_stage=False), inspect_zip(path), lambda *a, **k: None
        )
    finally:
        apk_resources.Resources.arsc = real  # type: ignore[method-assign]
    assert calls == []
    assert f.label == "Dịch vụ công"
    assert {(a.config, a.path) for a in f.accessibility} == {
        ("", "res/xml/accessibility_config.xml"),
        ("v22", "res/xml-v22/accessibility_config.xml"),
    }
    assert f.device_admins[0].policies == ("force-lock", "wipe-data")


def test_idle_child_is_used_and_can_be_dropped() -> None:
    if not apk_facts.start_worker_server():
        pytest.skip("no forkserver start method here")
    extract_facts(FIXTURES / "unsigned.apk", limits=ApkLimits(code_stage=False))
    f = extract_facts(FIXTURES / "fake_vneid.apk", limits=ApkLimits(code_stage=False))
    assert f.label == "VNeID" and f.code is None
    apk_facts.drop_spare_child()
    apk_facts.drop_spare_child()  # idempotent
    assert extract_facts(FIXTURES / "unsigned.apk").package == "org.scamscan.fixture.unsigned"


# --- the fast paths agree with the slow ones ---------------------------------------


def _zipfile_view(path: Path) -> list[tuple[str, int, int, int, int]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.flag_bits, i.compress_size, i.file_size, i.header_offset)
                for i in zf.infolist()]


def _fast_view(path: Path) -> list[tuple[str, int, int, int, int]] | None:
    with path.open("rb") as fp:
        end = apk_zipcheck._end_record(fp, path.stat().st_size)
        got = None if end is None else apk_zipcheck._plain_central_directory(fp, end)
    if got is None:
        return None
    return [(e.filename, e.flag_bits, e.compress_size, e.file_size, e.header_offset)
            for e in got]


@pytest.mark.parametrize("name", sorted(
    p.name for p in FIXTURES.iterdir()
    if p.suffix in (".apk", ".apks", ".xapk") and p.name not in
    ("not_zip.apk", "windows.apk", "truncated.apk")
))
def test_central_directory_reader_agrees_with_zipfile(name: str) -> None:
    path = FIXTURES / name
    assert _fast_view(path) == _zipfile_view(path)


def test_central_directory_reader_names_like_zipfile(tmp_path: Path) -> None:
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"x")
        zf.writestr("assets/tệp.bin", b"y" * 100)  # UTF-8 flag set by zipfile
        zf.writestr(zipfile.ZipInfo("evil\x00.so"), b"z")  # cut at NUL, as zipfile does
        zf.writestr("../../escape.txt", b"w")
        zf.comment = b"a trailing comment"
    fast = _fast_view(path)
    assert fast == _zipfile_view(path)
    assert fast is not None and [n for n, *_ in fast][1:3] == ["assets/tệp.bin", "evil"]
    assert inspect_zip(path).suspicious_names == ("../../escape.txt",)


def test_central_directory_reader_leaves_odd_archives_to_zipfile(tmp_path: Path) -> None:
    src = FIXTURES / "benign_notes.apk"
    prefixed = tmp_path / "prefixed.apk"  # a self-extractor-style stub before the ZIP
    prefixed.write_bytes(b"#!/bin/sh\nexit 0\n" + src.read_bytes())
    assert _fast_view(prefixed) is None
    # zipfile still reads it (offsets corrected), so inspect_zip does too.
    assert inspect_zip(prefixed).has_manifest
    z64 = tmp_path / "zip64.apk"
    with zipfile.ZipFile(z64, "w") as zf, zf.open(
        "AndroidManifest.xml", "w", force_zip64=True
    ) as fp:
        fp.write(b"x")
    # The ZIP64 local header: read alike (the fast reader bows out of ZIP64 directories).
    assert _fast_view(z64) in (None, _zipfile_view(z64))
    assert inspect_zip(z64).entries == 1


def test_asset_heads_are_read_without_zipfile_and_bounded() -> None:
    from loguru import logger

    from scanners import apk_files

    logger.remove()
    from androguard.core.apk import APK

    data = (FIXTURES / "fake_dichvucong.apk").read_bytes()
    apk = APK(data, raw=True, skip_analysis=True)
    heads = apk_files.EntryHeads(data, apk)
    with zipfile.ZipFile(FIXTURES / "fake_dichvucong.apk") as zf:
        for info in zf.infolist():
            want = zf.read(info)[:64]
            assert heads._direct(info.filename, 64) == want, info.filename
            assert heads(info.filename, 64) == want
    assert heads._direct("no/such/entry", 64) is None


def test_v1_certificate_of_a_single_certificate_block_is_androguards() -> None:
    from loguru import logger

    from scanners import apk_certs

    logger.remove()
    from androguard.core.apk import APK

    for name in ("fake_vneid.apk", "debug_signed.apk", "benign_notes.apk"):
        apk = APK(str(FIXTURES / name))
        files = list(apk.get_files())
        assert apk_certs._v1_names(files) == list(apk.get_signature_names())
        verified = [bytes(apk.get_certificate_der(n)) for n in apk.get_signature_names()]
        errors: list[str] = []
        assert apk_certs._v1_ders(apk, files, errors) == verified and errors == []


# --- the launcher icon --------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_icon_is_the_densest_raster_variant() -> None:
    import base64

    f = facts("fake_dichvucong.apk")
    assert f.icon is not None
    # mipmap-anydpi-v26 (adaptive, XML) and mipmap-mdpi lose to mipmap-xxhdpi.
    assert f.icon.path == "res/mipmap-xxhdpi-v4/ic_launcher.png"
    assert f.icon.media_type == "image/png"
    assert _png_size(base64.b64decode(f.icon.data_base64)) == (144, 144)
    notes = facts("benign_notes.apk").icon
    assert notes is not None and notes.path == "res/drawable/icon.png"
    assert facts("fake_vneid.apk").icon is None  # declares none
    assert ApkFacts.from_dict(f.to_dict()).icon == f.icon


class _Res:
    def __init__(self, paths: list[str]) -> None:
        self.paths = paths

    def files(self, ref: str) -> list[tuple[str, str]]:
        return [("", p) for p in self.paths]


def test_icon_type_comes_from_magic_bytes_and_size_is_bounded() -> None:
    from scanners import apk_files

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    webp = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20
    blobs = {
        "res/mipmap-xxxhdpi-v4/ic.png": b"<html><script>alert(1)</script>",  # not an image
        "res/mipmap-xxhdpi-v4/ic.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * (60 * 1024),  # too big
        "res/mipmap-xhdpi-v4/ic.png": webp,  # a WebP named .png: typed by its bytes
        "res/mipmap-mdpi-v4/ic.png": png,
    }
    sizes = {k: len(v) for k, v in blobs.items()}
    icon = apk_files.launcher_icon("@mipmap/ic", _Res(list(blobs)), list(blobs), sizes,
                             lambda name, n: blobs[name][:n])
    assert icon is not None
    assert (icon.path, icon.media_type) == ("res/mipmap-xhdpi-v4/ic.png", "image/webp")
    # An adaptive icon only (XML): its raster siblings of the same name stand in.
    files = ["res/mipmap-anydpi-v26/ic.xml", "res/mipmap-hdpi-v4/ic.png", "res/raw/ic.png"]
    icon = apk_files.launcher_icon("@mipmap/ic", _Res(files[:1]), files, {},
                             lambda name, n: png)
    assert icon is not None and icon.path == "res/mipmap-hdpi-v4/ic.png"
    assert apk_files.launcher_icon(None, _Res([]), [], {}, lambda n, k: png) is None


def test_wait_for_idle_child_never_waits_for_a_child_nobody_asked_for() -> None:
    import time

    assert apk_facts.start_worker_server()
    apk_facts.drop_spare_child()
    t = time.monotonic()
    assert apk_facts.wait_for_idle_child(timeout=5) is False
    assert time.monotonic() - t < 4  # did not sit out the timeout
    extract_facts(FIXTURES / "unsigned.apk", limits=ApkLimits(code_stage=False))
    assert apk_facts.wait_for_idle_child(timeout=30) is True  # forked and warmed up
    assert apk_facts.wait_for_idle_child(timeout=30) is True  # and stays ready
    f = extract_facts(FIXTURES / "fake_vneid.apk", limits=ApkLimits(code_stage=False))
    assert f.package == "com.vnid"  # the "ready" message is not taken for an answer
    apk_facts.drop_spare_child()


def test_warm_up_sample_is_the_committed_fixture_and_parses() -> None:
    from scanners import _apk_worker

    warm = _apk_worker.WARM_UP_APK.read_bytes()
    assert warm == (FIXTURES / "fake_dichvucong.apk").read_bytes()
    assert _apk_worker.warm_up() is True


# --- a parse child serves several samples --------------------------------------------

_SAMPLES = ["fake_dichvucong.apk", "fake_vneid.apk", "benign_notes.apk", "unsigned.apk",
            "hidden_launcher.apk", "debug_signed.apk", "bad_dex.apk", "traversal.apk"]


def _run_all(monkeypatch: pytest.MonkeyPatch, samples: int) -> tuple[list[dict[str, object]],
                                                                      list[int]]:
    monkeypatch.setenv("SCAMSCAN_APK_CHILD_SAMPLES", str(samples))
    apk_facts.drop_spare_child()
    got: list[dict[str, object]] = []
    pids: list[int] = []
    for name in _SAMPLES:
        apk_facts.wait_for_idle_child()
        got.append(extract_facts(FIXTURES / name).to_dict())
        pids.append(int(apk_facts.last_child_stats()["pid"]))
    apk_facts.drop_spare_child()
    return got, pids


def test_a_reused_child_gives_the_facts_of_a_fresh_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert apk_facts.start_worker_server()
    fresh, fresh_pids = _run_all(monkeypatch, 1)
    reused, reused_pids = _run_all(monkeypatch, 16)
    assert len(set(fresh_pids)) == len(_SAMPLES)  # a child per sample
    assert len(set(reused_pids)) < len(_SAMPLES)  # one child, several samples
    assert reused == fresh


def test_a_child_retires_after_its_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    assert apk_facts.start_worker_server()
    _, pids = _run_all(monkeypatch, 2)
    # Two samples a child, whether it was forked ahead of time or on demand.
    assert all(pids.count(p) <= 2 for p in pids)
    assert len(set(pids)) >= len(_SAMPLES) // 2


def test_a_failed_parse_is_never_followed_in_the_same_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert apk_facts.start_worker_server()
    monkeypatch.setenv("SCAMSCAN_APK_CHILD_SAMPLES", "16")
    apk_facts.drop_spare_child()
    extract_facts(FIXTURES / "unsigned.apk")
    apk_facts.wait_for_idle_child()
    first = apk_facts.last_child_stats()["pid"]
    with pytest.raises(ApkParseIncomplete):  # killed at its deadline
        extract_facts(FIXTURES / "fake_dichvucong.apk", limits=ApkLimits(parse_timeout=0.001))
    apk_facts.wait_for_idle_child()
    f = extract_facts(FIXTURES / "fake_vneid.apk")
    assert f.package == "com.vnid" and f.code is not None
    after = apk_facts.last_child_stats()["pid"]
    assert after != first  # the killed child served nothing more
    apk_facts.drop_spare_child()


def test_a_child_over_its_memory_slack_retires(monkeypatch: pytest.MonkeyPatch) -> None:
    assert apk_facts.start_worker_server()
    # A slack no peak fits in: no child is given another sample.
    monkeypatch.setattr(apk_supervisor.SUPERVISOR, "rss_slack", -(1 << 40))
    _, pids = _run_all(monkeypatch, 16)
    assert len(set(pids)) == len(_SAMPLES)


def test_child_messages_survive_integers_orjson_refuses() -> None:
    import orjson

    from scanners import _apk_worker

    facts = {"priority": 10**30, "names": ("a", "ệ")}  # a crafted android:priority
    raw = _apk_worker.encode({"status": "done", "facts": facts})
    assert json.loads(raw) == {"status": "done", "facts": {"priority": 10**30,
                                                            "names": ["a", "ệ"]}}
    assert orjson.loads(_apk_worker.encode({"n": 1, "t": ("x",)})) == {"n": 1, "t": ["x"]}
    # What the parent makes of it: a number it can still compare.
    parsed = apk_facts.IntentFilter.from_dict({"priority": orjson.loads(raw)["facts"]["priority"]})
    assert parsed.priority is not None and parsed.priority > 999


def test_a_refusal_in_a_reusable_child_is_answered_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    assert apk_facts.start_worker_server()
    monkeypatch.setenv("SCAMSCAN_APK_CHILD_SAMPLES", "16")
    extract_facts(FIXTURES / "unsigned.apk")
    apk_facts.wait_for_idle_child()
    # A path the child cannot open: androguard is never reached, the child refuses
    # (exit status 0). It must end rather than wait for another sample, or the
    # caller would sit out the whole deadline.
    t = time.monotonic()
    with pytest.raises(NotAnApkError):
        apk_supervisor.SUPERVISOR.run_warm(FIXTURES / "no-such-file.apk", apk_facts.ZipFacts(),
                            ApkLimits(parse_timeout=20))
    assert time.monotonic() - t < 10
    assert extract_facts(FIXTURES / "fake_vneid.apk").package == "com.vnid"


_FORKED = """
import os, sys
from pathlib import Path
from scanners import apk_facts
from scanners.apk_supervisor import SUPERVISOR
fixtures = Path(sys.argv[1])
assert apk_facts.start_worker_server()
assert apk_facts.extract_facts(fixtures / "unsigned.apk").package
assert apk_facts.wait_for_idle_child(timeout=30)  # the parent now holds an idle child
pid = os.fork()
if pid == 0:
    # A forked process (a "fork" pool worker) must not use its parent's idle child
    # nor its fork server: it starts both anew and parses as well.
    ok = SUPERVISOR._spare is None and not SUPERVISOR._exiting
    facts = apk_facts.extract_facts(fixtures / "fake_vneid.apk")
    ok = ok and facts.package == "com.vnid" and facts.code is not None
    ok = ok and apk_facts.last_child_stats()["mode"] == "warm"
    apk_facts.drop_spare_child()
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
assert SUPERVISOR._spare is not None  # the parent's idle child is still there, still its own
assert apk_facts.extract_facts(fixtures / "benign_notes.apk").package
apk_facts.drop_spare_child()
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_process_gets_a_supervisor_state_of_its_own() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _FORKED, str(FIXTURES)], cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=120,
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
