"""APK reports: extract the facts, run the APK scanner, explain the result.

:func:`scan_apk_path` does the work for one file and returns an
:class:`ApkResult`, a language-neutral value that crosses process
boundaries as JSON (the embedded job pool and, later, the Redis queue store
it as is). :meth:`ApkResult.report` renders the contract report in a
language::

    input, sha256, package, label, risk_score, verdict, reasons,
    findings[{rule_id, points, severity, title, evidence}], incomplete

plus ``size``, ``scanner_version``, ``error`` (only when the file was
refused) and ``app`` (a summary of the facts for people: version, SDKs,
permissions, components, accessibility configs, certificates, embedded
endpoints, native libraries, inner APKs of a bundle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.apk import ApkScanner, manifest_problem, manifest_unread
from scanners.apk_facts import (
    SCHEMA_VERSION,
    ApkError,
    ApkFacts,
    ApkLimits,
    ApkParseIncomplete,
    extract_facts,
    sha256_file,
)
from scanners.base import CheckIncomplete
from scanners.errors import ScanIncomplete
from scanners.findings import Finding, aggregate
from scanners.version import scanner_version

SCANNER_VERSION = scanner_version("apk-1", SCHEMA_VERSION)
"""Changes whenever any rule (any field), the fact schema or a bundled data file
changes (:mod:`scanners.version`): stored reports of another version are not
reused for the same sha256."""


@dataclass(frozen=True)
class ApkResult:
    """The outcome of scanning one file, independent of the report language."""

    input: str
    sha256: str
    size: int
    facts: dict[str, Any] | None = None
    findings: tuple[tuple[str, dict[str, Any]], ...] = ()
    incomplete: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    error_kind: str | None = None
    scanner_version: str = SCANNER_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the file was scanned (even partly), False when it was refused."""
        return self.error is None

    def to_json(self) -> str:
        return json.dumps({
            "input": self.input, "sha256": self.sha256, "size": self.size,
            "facts": self.facts, "findings": [list(f) for f in self.findings],
            "incomplete": [list(i) for i in self.incomplete], "error": self.error,
            "error_kind": self.error_kind, "scanner_version": self.scanner_version,
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ApkResult:
        d = json.loads(text)
        return cls(
            input=d["input"], sha256=d["sha256"], size=d["size"], facts=d["facts"],
            findings=tuple((r, ev) for r, ev in d["findings"]),
            incomplete=tuple((c, why) for c, why in d["incomplete"]), error=d["error"],
            error_kind=d.get("error_kind"), scanner_version=d["scanner_version"])

    def report(self, lang: str = "vi") -> dict[str, Any]:
        """The contract report in ``lang``."""
        facts = self.facts or {}
        out: dict[str, Any] = {
            "input": self.input,
            "sha256": self.sha256,
            "size": self.size,
            "package": facts.get("package"),
            "label": facts.get("label"),
        }
        if self.error is not None:
            out.update({"risk_score": None, "verdict": None, "reasons": [], "findings": [],
                        "incomplete": [], "error": self.error, "error_kind": self.error_kind,
                        "scanner_version": self.scanner_version})
            return out
        agg = aggregate(Finding(r, ev) for r, ev in self.findings)
        out.update({
            "risk_score": agg.risk_score,
            "verdict": agg.verdict.value,
            "reasons": agg.reasons(lang),
            "findings": agg.findings_json(lang),
            "incomplete": [{"check": c, "reason": why} for c, why in self.incomplete],
            "scanner_version": self.scanner_version,
            "app": summary(facts) if facts else None,
        })
        return out


def scan_apk_path(
    path: Path,
    *,
    name: str | None = None,
    limits: ApkLimits | None = None,
    scanner: ApkScanner | None = None,
    sha256: str | None = None,
) -> ApkResult:
    """Scan the APK (or XAPK/APKS bundle) at ``path``; never raises for a bad file.

    A refused file (not an app, a zip bomb, too large) gives a result with
    ``error``; a parse stopped by its limits gives the partial facts with an
    ``incomplete`` entry.
    """
    path = Path(path)
    label = name or path.name
    size = path.stat().st_size if path.exists() else 0
    digest = sha256 or (sha256_file(path) if path.is_file() else "")
    incomplete: list[CheckIncomplete] = []
    try:
        facts: ApkFacts | None = extract_facts(path, limits=limits or ApkLimits())
    except ApkError as e:
        if e.kind == "corrupt":
            # The archive passed the ZIP checks (central directory, manifest entry)
            # and still defeats the parser even when read as leniently as Android
            # does: answered as the anti-analysis trick it is, never as a bare error.
            return ApkResult(
                label, digest, size, facts={"sha256": digest, "size": size},
                findings=(("APK-ANTI-003", {"repairs": [], "reason": e.reason}),),
                incomplete=(("apk_parse", f"{e.reason}; permissions, components, "
                             "signature and code were not checked"),))
        return ApkResult(label, digest, size, error=e.reason, error_kind=e.kind)
    except ApkParseIncomplete as e:
        facts = e.facts
        incomplete.append(CheckIncomplete(e.check, e.reason))
        if facts is None:
            return ApkResult(label, digest, size,
                             incomplete=((e.check, e.reason),),
                             error=f"the app could not be parsed: {e.reason}",
                             error_kind="parse-incomplete")
    except ScanIncomplete as e:
        return ApkResult(label, digest, size, error=e.reason, error_kind="incomplete")
    if facts is None:  # pragma: no cover - extract_facts returns facts or raises
        return ApkResult(label, digest, size, error="no facts", error_kind="internal")
    s = scanner or ApkScanner()
    found = s.check(facts)
    for apk in facts.all_apks():
        if manifest_unread(apk):
            problem = manifest_problem(apk)
            where = f"{apk.file_name}: " if facts.is_bundle and apk.file_name else ""
            incomplete.append(CheckIncomplete(
                "apk_manifest", where + (problem[1] if problem else "manifest not read")
                + "; permissions, components and identity were not checked"))
    code = facts.code
    if code is not None and code.skipped_reason:
        incomplete.append(CheckIncomplete("apk_code", code.skipped_reason))
    if facts.is_bundle:
        # An inner APK the bundle reader could not read (or read only in part) was not
        # checked: the verdict stands for the others only, and says so.
        incomplete.extend(CheckIncomplete("apk_bundle", f"{e}; not checked")
                          for e in facts.errors)
    return ApkResult(
        input=label, sha256=facts.sha256 or digest, size=facts.size or size,
        facts=json.loads(facts.to_json()),  # plain JSON types, as after a round trip
        findings=tuple((f.rule_id, dict(f.evidence)) for f in found),
        incomplete=tuple((i.check, i.reason) for i in incomplete),
    )


_DANGEROUS_PERMS = {
    "READ_SMS": "đọc tin nhắn / read SMS", "RECEIVE_SMS": "nhận tin nhắn / receive SMS",
    "SEND_SMS": "gửi tin nhắn / send SMS", "SYSTEM_ALERT_WINDOW": "vẽ đè / draw over apps",
    "REQUEST_INSTALL_PACKAGES": "cài ứng dụng / install apps",
    "QUERY_ALL_PACKAGES": "xem mọi ứng dụng / list all apps",
    "READ_CONTACTS": "đọc danh bạ / read contacts", "RECORD_AUDIO": "ghi âm / microphone",
    "CAMERA": "camera", "READ_CALL_LOG": "nhật ký cuộc gọi / call log",
    "CALL_PHONE": "gọi điện / place calls", "ACCESS_FINE_LOCATION": "vị trí / location",
    "REQUEST_IGNORE_BATTERY_OPTIMIZATIONS": "chạy ngầm / skip battery limits",
    "RECEIVE_BOOT_COMPLETED": "tự khởi động / start at boot",
    "READ_PHONE_STATE": "thông tin máy / phone identity",
}


def summary(facts: dict[str, Any]) -> dict[str, Any]:
    """What a person reading the report wants to see of the facts (no file list)."""
    perms = facts.get("permissions") or []
    code = facts.get("code") or {}
    out = {
        "version_name": facts.get("version_name"),
        "version_code": facts.get("version_code"),
        # {"path", "media_type", "data_base64"} of a small raster icon, or None.
        "icon": facts.get("icon"),
        "min_sdk": facts.get("min_sdk"),
        "target_sdk": facts.get("target_sdk"),
        "launcher_activity": facts.get("launcher_activity"),
        "permissions": [
            {"name": p, "dangerous": p.rsplit(".", 1)[-1] in _DANGEROUS_PERMS,
             "allows": _DANGEROUS_PERMS.get(p.rsplit(".", 1)[-1])} for p in perms],
        "components": [
            {"kind": c["kind"], "name": c["name"], "exported": c.get("effective_exported"),
             "permission": c.get("permission"),
             "intent_filters": [f.get("actions", []) for f in c.get("intent_filters", [])]}
            for c in facts.get("components") or []][:200],
        "accessibility": facts.get("accessibility") or [],
        "device_admins": facts.get("device_admins") or [],
        "signature_schemes": facts.get("signature_schemes") or [],
        "certificates": facts.get("certificates") or [],
        "urls": (code.get("urls") or [])[:100],
        "native_libs": facts.get("native_libs") or [],
        "inner": [{"file_name": i.get("file_name"), "package": i.get("package"),
                   "split": i.get("split"), "sha256": i.get("sha256")}
                  for i in facts.get("inner") or []],
    }
    return out
