"""Golden reports: a few link, APK and message reports, compared whole to JSON files.

They pin what a refactoring must not move: the contract reports (verdicts,
scores, findings with their evidence, reasons, replies, both languages) and, for
the APKs, the extracted facts themselves, produced by real androguard in the
parse child. Volatile fields (versions; an icon's bytes are reduced to their
hash to keep the files small) are taken out before the comparison.

When a behaviour change is intended, regenerate the files and review the diff::

    SCAMSCAN_GOLDEN_UPDATE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q tests/test_golden.py
    git diff tests/golden/
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanners.apk import ApkScanner
from scanners.apk_report import scan_apk_path
from scanners.message import check_message
from scanners.report import scan_url
from scanners.url_offline import default_scanner

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = Path(__file__).parent / "fixtures" / "apk"
UPDATE = os.environ.get("SCAMSCAN_GOLDEN_UPDATE") == "1"

VOLATILE = frozenset({"scanner_version", "schema_version", "duration", "duration_ms",
                      "elapsed", "created_at", "scanned_at", "checked_at", "id", "job_id",
                      "request_id"})
"""Keys removed wherever they occur: they change with versions, times and runs."""
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
"""The moment the APK reports are made at: a certificate's age (APK-CERT-004, the
fixtures' keys were made on 2026-11-30) must not move with the wall clock."""

LINKS = [
    "https://dichvucong-gov[.]com/dang-nhap",
    "hxxp://vneid-xacthuc.top/app/VNeID.apk",
    "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html",
    "http://vietcombank-khoa-tai-khoan.xyz/login?otp=1",
]
APKS = [
    "fake_dichvucong.apk",
    "fake_vneid.apk",
    "dropper_bank.apk",
    "overlay_banker.apk",
    "premium_sms.apk",
    "benign_notes.apk",
    "bad_dex.apk",
    "traversal.apk",
    "bundle.xapk",
    "zip_bomb.apk",
    "not_zip.apk",
]
MESSAGES = {
    "vneid": "Cán bộ công an phường thông báo tài khoản định danh mức 2 của bạn chưa được "
             "cập nhật, vui lòng tải ứng dụng tại dichvucong-gov[.]com để tích hợp thông tin.",
    "bank": "Vietcombank: tai khoan cua quy khach bi tam khoa. Xac thuc ngay tai "
            "http://vietcombank-khoa-tai-khoan.xyz va nhap ma OTP. Hotline 0912345678",
    "job": "Tuyển cộng tác viên làm việc online, hoa hồng 30%/đơn, nạp tiền trước để nhận "
           "nhiệm vụ, liên hệ Zalo 0987654321.",
    "benign": "Chiều nay 5 giờ họp lớp ở quán cà phê cũ nhé, nhớ mang ảnh kỷ yếu.",
}


def _clean(value: Any) -> Any:
    """``value`` without volatile keys; icon bytes replaced by their SHA-256."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in VOLATILE:
                continue
            if k == "data_base64" and isinstance(v, str):
                out["data_sha256"] = hashlib.sha256(v.encode()).hexdigest()
                continue
            out[k] = _clean(v)
        return out
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _compare(name: str, got: Any) -> None:
    path = GOLDEN / f"{name}.json"
    got = json.loads(json.dumps(_clean(got), ensure_ascii=False))
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                        encoding="utf-8")
    assert path.is_file(), f"missing {path}: regenerate with SCAMSCAN_GOLDEN_UPDATE=1"
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got == want


def _slug(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@pytest.mark.parametrize("link", LINKS)
def test_link_report_is_unchanged(link: str) -> None:
    got = {lang: asyncio.run(scan_url(link, [default_scanner()], lang)) for lang in ("vi", "en")}
    assert got["vi"]["verdict"] == got["en"]["verdict"]
    _compare(f"link-{_slug(link)}", {"input": link, "reports": got})


@pytest.mark.parametrize("name", APKS)
def test_apk_report_and_facts_are_unchanged(name: str) -> None:
    result = scan_apk_path(FIXTURES / name, scanner=ApkScanner(now=lambda: NOW))
    got = {
        "reports": {lang: result.report(lang) for lang in ("vi", "en")},
        "facts": result.facts,
        "findings": [list(f) for f in result.findings],
        "incomplete": [list(i) for i in result.incomplete],
        "error": result.error,
        "error_kind": result.error_kind,
    }
    _compare(f"apk-{name.replace('.', '_')}", got)


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_message_report_is_unchanged(key: str) -> None:
    text = MESSAGES[key]
    got = {lang: asyncio.run(check_message(text, default_scanner(), lang=lang))
           for lang in ("vi", "en")}
    assert got["vi"]["verdict"] == got["en"]["verdict"]
    _compare(f"message-{key}", {"input": text, "reports": got})


def test_golden_files_are_all_in_use() -> None:
    """A renamed input leaves no stale golden file behind that nothing compares."""
    names = {f"link-{_slug(s)}" for s in LINKS}
    names |= {f"apk-{n.replace('.', '_')}" for n in APKS}
    names |= {f"message-{k}" for k in MESSAGES}
    assert {p.stem for p in GOLDEN.glob("*.json")} == names
