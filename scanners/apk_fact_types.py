"""The fact model of an Android package: plain, JSON-serialisable values.

:class:`ApkFacts` is everything the APK rules may look at, extracted once by
:func:`scanners.apk_facts.extract_facts` (in the parse child) and sent back as
JSON; :class:`ApkLimits` bounds what one extraction may cost. Nothing here
touches androguard or a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA_VERSION = 3
"""Bumped whenever a field of :class:`ApkFacts` changes meaning or shape."""

MAX_LIST = 500
"""Longest list of strings (URLs, IPs…) kept in :class:`CodeFacts`."""


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(obj: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` for the value classes here, whose fields hold str,
    numbers, None, tuples of those, or (handled by the caller) other value
    classes; without asdict's recursive deep copy, several times slower. The
    parse child serialises hundreds of components and intent filters per app on
    the answer's path. Tuples stay tuples: JSON writes them as lists."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(obj))
    return {n: getattr(obj, n) for n in names}


def uniq(items: Iterable[str], limit: int = MAX_LIST) -> tuple[str, ...]:
    """The first ``limit`` distinct items, in order."""
    out: dict[str, None] = {}
    for item in items:
        if len(out) >= limit:
            break
        out.setdefault(item, None)
    return tuple(out)


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True, slots=True)
class ApkLimits:
    """Bounds on what one extraction may cost."""

    max_file_bytes: int = 150 * 1024 * 1024
    max_entries: int = 15_000
    max_uncompressed: int = 1024 * 1024 * 1024
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1024 * 1024
    """Entries smaller than this are exempt from the ratio check."""
    parse_timeout: float = 60.0
    """Wall time of one child, in seconds (enforced by the parent)."""
    memory: int = 1536 * 1024 * 1024
    """``RLIMIT_AS`` of the child, in bytes."""
    code_max_classes: int = 20_000
    """Above this many classes (all DEX files together) the code stage is skipped."""
    code_timeout: float = 30.0
    """Wall time of the code stage inside the child, in seconds."""
    code_stage: bool = True
    """``False``: manifest, resources, signatures and the file list only
    (``ApkFacts.code`` is ``None``, ``suspicious_assets`` empty: the content of
    assets and DEX files is not read); what a quick "manifest verdict" needs."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApkLimits:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


# --------------------------------------------------------------------------- facts


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True, slots=True)
class IntentFilter:
    """One ``<intent-filter>``; data elements are flattened per attribute."""

    actions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    mime_types: tuple[str, ...] = ()
    priority: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IntentFilter:
        return cls(
            actions=_strs(d.get("actions")),
            categories=_strs(d.get("categories")),
            schemes=_strs(d.get("schemes")),
            hosts=_strs(d.get("hosts")),
            paths=_strs(d.get("paths")),
            mime_types=_strs(d.get("mime_types")),
            priority=_opt_int(d.get("priority")),
        )


@dataclass(frozen=True, slots=True)
class Component:
    """An activity, activity-alias, service, receiver or provider."""

    kind: str
    """``activity``, ``activity-alias``, ``service``, ``receiver`` or ``provider``."""
    name: str
    """Fully qualified class name (relative names expanded against the package)."""
    exported: bool | None = None
    """``android:exported`` as written, ``None`` when absent."""
    effective_exported: bool = False
    """What Android applies: explicit value, else ``True`` iff it has intent filters
    (providers: else ``True`` below target SDK 17)."""
    enabled: bool = True
    permission: str | None = None
    intent_filters: tuple[IntentFilter, ...] = ()
    target_activity: str | None = None
    """For an activity-alias, the activity it points to."""
    meta_data: tuple[tuple[str, str], ...] = ()
    """``(android:name, android:value or android:resource)`` pairs."""
    authorities: str | None = None
    """For a provider."""

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        d["intent_filters"] = [f.to_dict() for f in self.intent_filters]
        d["meta_data"] = [list(p) for p in self.meta_data]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Component:
        return cls(
            kind=str(d["kind"]),
            name=str(d["name"]),
            exported=_opt_bool(d.get("exported")),
            effective_exported=bool(d.get("effective_exported", False)),
            enabled=bool(d.get("enabled", True)),
            permission=_opt_str(d.get("permission")),
            intent_filters=tuple(IntentFilter.from_dict(f) for f in d.get("intent_filters", ())),
            target_activity=_opt_str(d.get("target_activity")),
            meta_data=tuple((str(a), str(b)) for a, b in d.get("meta_data", ())),
            authorities=_opt_str(d.get("authorities")),
        )

    def has_action(self, action: str) -> bool:
        return any(action in f.actions for f in self.intent_filters)


@dataclass(frozen=True, slots=True)
class AccessibilityConfig:
    """One resource variant (``res/xml/…``, ``res/xml-v22/…``) of an accessibility config."""

    service: str
    path: str
    config: str = ""
    """Resource configuration qualifier (``""`` for default, ``v22``…)."""
    can_retrieve_window_content: bool | None = None
    can_perform_gestures: bool | None = None
    can_request_filter_key_events: bool | None = None
    event_types: tuple[str, ...] = ()
    """Names as in XML: ``typeAllMask`` or ``typeViewClicked``…"""
    flags: tuple[str, ...] = ()
    feedback_types: tuple[str, ...] = ()
    package_names: tuple[str, ...] = ()
    notification_timeout: int | None = None
    description: str | None = None
    settings_activity: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AccessibilityConfig:
        return cls(
            service=str(d["service"]),
            path=str(d["path"]),
            config=str(d.get("config", "")),
            can_retrieve_window_content=_opt_bool(d.get("can_retrieve_window_content")),
            can_perform_gestures=_opt_bool(d.get("can_perform_gestures")),
            can_request_filter_key_events=_opt_bool(d.get("can_request_filter_key_events")),
            event_types=_strs(d.get("event_types")),
            flags=_strs(d.get("flags")),
            feedback_types=_strs(d.get("feedback_types")),
            package_names=_strs(d.get("package_names")),
            notification_timeout=_opt_int(d.get("notification_timeout")),
            description=_opt_str(d.get("description")),
            settings_activity=_opt_str(d.get("settings_activity")),
            error=_opt_str(d.get("error")),
        )


@dataclass(frozen=True, slots=True)
class DeviceAdmin:
    """One resource variant of a device-admin receiver's policy file."""

    receiver: str
    path: str
    config: str = ""
    policies: tuple[str, ...] = ()
    """Tag names under ``<uses-policies>``: ``force-lock``, ``wipe-data``…"""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeviceAdmin:
        return cls(
            receiver=str(d["receiver"]),
            path=str(d["path"]),
            config=str(d.get("config", "")),
            policies=_strs(d.get("policies")),
            error=_opt_str(d.get("error")),
        )


@dataclass(frozen=True, slots=True)
class Certificate:
    """A signing certificate, deduplicated by its DER SHA-256 across schemes."""

    sha256: str
    schemes: tuple[str, ...] = ()
    """``v1``, ``v2``, ``v3``, ``v31`` — the schemes whose signers carry it."""
    subject: str = ""
    """RFC 4514 string."""
    issuer: str = ""
    not_before: str | None = None
    """ISO 8601, UTC."""
    not_after: str | None = None
    serial: str = ""
    """Hexadecimal."""
    is_debug: bool = False
    """Subject is ``CN=Android Debug`` (the SDK's debug key)."""
    self_signed: bool = False
    subject_fields: tuple[tuple[str, str], ...] = ()
    """``(attribute short name, value)`` pairs of the subject, in order."""
    key_algorithm: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        d["subject_fields"] = [list(p) for p in self.subject_fields]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Certificate:
        return cls(
            sha256=str(d["sha256"]),
            schemes=_strs(d.get("schemes")),
            subject=str(d.get("subject", "")),
            issuer=str(d.get("issuer", "")),
            not_before=_opt_str(d.get("not_before")),
            not_after=_opt_str(d.get("not_after")),
            serial=str(d.get("serial", "")),
            is_debug=bool(d.get("is_debug", False)),
            self_signed=bool(d.get("self_signed", False)),
            subject_fields=tuple((str(a), str(b)) for a, b in d.get("subject_fields", ())),
            key_algorithm=str(d.get("key_algorithm", "")),
            error=_opt_str(d.get("error")),
        )


DEX_COMPILERS = ("dexlib2", "dexlib1", "dx", "d8/r8", "unknown")
"""Values of :attr:`DexFile.compiler` (besides ``None``)."""

DEXLIB_COMPILERS = frozenset({"dexlib2", "dexlib1"})
"""The :attr:`DexFile.compiler` values of smali/apktool output."""


@dataclass(frozen=True, slots=True)
class DexFile:
    """A DEX file: ``classes*.dex`` at the root, or a DEX found elsewhere (assets…)."""

    name: str
    size: int
    classes: int | None = None
    """``class_defs_size`` from the header, ``None`` if the header is unreadable."""
    valid_header: bool = True
    version: str | None = None
    compiler: str | None = None
    """Which tool wrote it, from the DEX layout (after APKiD's compiler rules):
    ``dexlib2`` or ``dexlib1`` (assembled by smali/apktool: a repackaging sign),
    ``dx``, ``d8/r8``, ``unknown``; ``None`` when the header is unreadable."""

    @property
    def assembled_with_dexlib(self) -> bool:
        """Written by smali/apktool's dexlib (``compiler`` in :data:`DEXLIB_COMPILERS`)."""
        return self.compiler in DEXLIB_COMPILERS

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DexFile:
        return cls(
            name=str(d["name"]),
            size=int(d["size"]),
            classes=_opt_int(d.get("classes")),
            valid_header=bool(d.get("valid_header", True)),
            version=_opt_str(d.get("version")),
            compiler=_opt_str(d.get("compiler")),
        )


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """What the DEX string and method tables (and a bounded code sweep) show."""

    dex_files: tuple[DexFile, ...] = ()
    classes: int = 0
    strings: int = 0
    """Number of strings read."""
    urls: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    websockets: tuple[str, ...] = ()
    telegram_bot: tuple[str, ...] = ()
    """Strings referencing the Telegram bot API (``api.telegram.org/bot…``, bot tokens)."""
    firebase: tuple[str, ...] = ()
    """Firebase database / storage / hosting URLs or hosts."""
    api_refs: dict[str, int] = field(default_factory=dict)
    """``{call name: method-id entries}`` from the method-id tables (always read)."""
    api_calls: dict[str, int] = field(default_factory=dict)
    """``{call name: invoke sites}`` from the instruction sweep (see ``instructions_complete``)."""
    instructions_complete: bool = False
    """The instruction sweep went through every method of every DEX."""
    builder_roots: dict[str, int] = field(default_factory=dict)
    """``{package root of a public RAT/payload builder: classes under it}``
    (:data:`scanners.apk_class_shapes.BUILDER_ROOTS`)."""
    lower_classes: int = 0
    """Top-level classes whose simple name starts lower-case, six letters or more."""
    lower_class_names: tuple[str, ...] = ()
    """Up to 64 of those simple names (evidence; the count covers all)."""
    letter_chain_classes: int = 0
    """Classes in single-letter package chains (``a/b/c/D``); counted, not scored."""
    skipped_reason: str | None = None
    """Why the code stage did not run (fully): ``too-many-classes``, ``timeout``…"""
    anti_analysis: tuple[str, ...] = ()
    """``invalid-instruction``, ``malformed-dex``, ``bad-dex-header``…"""
    errors: tuple[str, ...] = ()

    @property
    def dexlib_dex(self) -> tuple[str, ...]:
        """Names of the DEX files assembled with dexlib (smali/apktool)."""
        return tuple(d.name for d in self.dex_files if d.assembled_with_dexlib)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dex_files": [d.to_dict() for d in self.dex_files],
            "classes": self.classes,
            "strings": self.strings,
            "urls": list(self.urls),
            "ips": list(self.ips),
            "websockets": list(self.websockets),
            "telegram_bot": list(self.telegram_bot),
            "firebase": list(self.firebase),
            "api_refs": dict(self.api_refs),
            "api_calls": dict(self.api_calls),
            "instructions_complete": self.instructions_complete,
            "builder_roots": dict(self.builder_roots),
            "lower_classes": self.lower_classes,
            "lower_class_names": list(self.lower_class_names),
            "letter_chain_classes": self.letter_chain_classes,
            "skipped_reason": self.skipped_reason,
            "anti_analysis": list(self.anti_analysis),
            "errors": list(self.errors),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CodeFacts:
        return cls(
            dex_files=tuple(DexFile.from_dict(x) for x in d.get("dex_files", ())),
            classes=int(d.get("classes", 0)),
            strings=int(d.get("strings", 0)),
            urls=_strs(d.get("urls")),
            ips=_strs(d.get("ips")),
            websockets=_strs(d.get("websockets")),
            telegram_bot=_strs(d.get("telegram_bot")),
            firebase=_strs(d.get("firebase")),
            api_refs={str(k): int(v) for k, v in dict(d.get("api_refs", {})).items()},
            api_calls={str(k): int(v) for k, v in dict(d.get("api_calls", {})).items()},
            instructions_complete=bool(d.get("instructions_complete", False)),
            builder_roots={str(k): int(v)
                           for k, v in dict(d.get("builder_roots", {})).items()},
            lower_classes=int(d.get("lower_classes", 0)),
            lower_class_names=_strs(d.get("lower_class_names")),
            letter_chain_classes=int(d.get("letter_chain_classes", 0)),
            skipped_reason=_opt_str(d.get("skipped_reason")),
            anti_analysis=_strs(d.get("anti_analysis")),
            errors=_strs(d.get("errors")),
        )


@dataclass(frozen=True, slots=True)
class ZipFacts:
    """What the central directory says (read without decompressing anything)."""

    entries: int = 0
    total_uncompressed: int = 0
    total_compressed: int = 0
    max_ratio: float = 0.0
    suspicious_names: tuple[str, ...] = ()
    """Absolute, ``..``-climbing, backslash or NUL-bearing names."""
    duplicate_names: tuple[str, ...] = ()
    encrypted_entries: int = 0
    """Entries with the "encrypted" flag bit (an anti-analysis trick in APKs)."""
    has_manifest: bool = False
    bundle: str | None = None
    """``xapk``, ``apks``, ``apkm`` or ``bundle`` when the ZIP holds APKs, else ``None``."""
    anomalies: tuple[str, ...] = ()
    """Central-directory faults that strict ZIP readers refuse and Android overlooks
    (a corrupt extra field); the directory was read as Android reads it."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ZipFacts:
        return cls(
            entries=int(d.get("entries", 0)),
            total_uncompressed=int(d.get("total_uncompressed", 0)),
            total_compressed=int(d.get("total_compressed", 0)),
            max_ratio=float(d.get("max_ratio", 0.0)),
            suspicious_names=_strs(d.get("suspicious_names")),
            duplicate_names=_strs(d.get("duplicate_names")),
            encrypted_entries=int(d.get("encrypted_entries", 0)),
            has_manifest=bool(d.get("has_manifest", False)),
            bundle=_opt_str(d.get("bundle")),
            anomalies=_strs(d.get("anomalies")),
        )


ICON_MAX_BYTES = 48 * 1024
"""Largest launcher icon kept in the facts (as base64); a bigger one is left out."""


@dataclass(frozen=True, slots=True)
class IconFact:
    """The launcher icon, when a raster variant (PNG, WebP or JPEG, told by its magic
    bytes) of at most :data:`ICON_MAX_BYTES` exists; the densest such variant."""

    path: str
    media_type: str
    data_base64: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IconFact:
        return cls(path=str(d["path"]), media_type=str(d["media_type"]),
                   data_base64=str(d["data_base64"]))


@dataclass(frozen=True, slots=True)
class AssetFact:
    """A non-code file that may hide code: DEX/ZIP/ELF magic or high entropy."""

    name: str
    size: int
    entropy: float
    """Shannon entropy of the first 64 KiB, bits per byte."""
    magic: str = ""
    """``dex``, ``zip``, ``elf`` or ``""``."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AssetFact:
        return cls(
            name=str(d["name"]),
            size=int(d["size"]),
            entropy=float(d["entropy"]),
            magic=str(d.get("magic", "")),
        )


@dataclass(frozen=True, slots=True)
class ApkFacts:
    """Everything the APK rules may look at. Plain data; crosses processes as JSON."""

    sha256: str
    size: int
    file_name: str = ""
    schema_version: int = SCHEMA_VERSION
    package: str | None = None
    label: str | None = None
    version_code: str | None = None
    version_name: str | None = None
    icon: IconFact | None = None
    min_sdk: int | None = None
    target_sdk: int | None = None
    split: str | None = None
    """``split="…"`` of a split APK's manifest; ``None`` for a base APK."""
    permissions: tuple[str, ...] = ()
    declared_permissions: tuple[str, ...] = ()
    application_class: str | None = None
    """``<application android:name>``, fully qualified (packers set one)."""
    debuggable: bool | None = None
    components: tuple[Component, ...] = ()
    launcher_activity: str | None = None
    """First *enabled* activity or alias with MAIN + LAUNCHER; ``None`` if hidden."""
    launcher_candidates: tuple[str, ...] = ()
    """Every activity or alias with MAIN + LAUNCHER, enabled or not."""
    accessibility: tuple[AccessibilityConfig, ...] = ()
    device_admins: tuple[DeviceAdmin, ...] = ()
    signed: bool = False
    signature_schemes: tuple[str, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    files: tuple[str, ...] = ()
    native_libs: tuple[str, ...] = ()
    """Paths of ``lib/<abi>/*.so`` (and any other ``*.so``)."""
    suspicious_assets: tuple[AssetFact, ...] = ()
    """Filled by the content stage, with :attr:`code` (empty without it)."""
    zip: ZipFacts = field(default_factory=ZipFacts)
    code: CodeFacts | None = None
    inner: tuple[ApkFacts, ...] = ()
    """Inner APKs of a bundle (XAPK, APKS…), each extracted on its own."""
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    manifest_problem: str | None = None
    """How Android's manifest parser and ours part ways: ``text-xml`` (plain-text
    manifest: Android refuses it), ``malformed-axml`` (truncated or broken binary
    XML: not read), ``tampered-axml`` (read, but with chunks only a lenient parser
    accepts); ``None`` for an ordinary manifest."""
    archive_repairs: tuple[str, ...] = ()
    """Header fields only Android's lenient ZIP parser overlooks, which had to be
    overlooked to read the app (:mod:`scanners.apk_zipfix`); empty for a sound archive."""

    # -- helpers for rules -------------------------------------------------

    @property
    def is_bundle(self) -> bool:
        return self.zip.bundle is not None

    def all_apks(self) -> Iterator[ApkFacts]:
        """This APK (unless it is a bundle) and every inner APK."""
        if not self.is_bundle:
            yield self
        for inner in self.inner:
            yield from inner.all_apks()

    # -- (de)serialisation -------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "sha256": self.sha256,
            "size": self.size,
            "file_name": self.file_name,
            "package": self.package,
            "label": self.label,
            "version_code": self.version_code,
            "version_name": self.version_name,
            "icon": None if self.icon is None else self.icon.to_dict(),
            "min_sdk": self.min_sdk,
            "target_sdk": self.target_sdk,
            "split": self.split,
            "permissions": list(self.permissions),
            "declared_permissions": list(self.declared_permissions),
            "application_class": self.application_class,
            "debuggable": self.debuggable,
            "components": [c.to_dict() for c in self.components],
            "launcher_activity": self.launcher_activity,
            "launcher_candidates": list(self.launcher_candidates),
            "accessibility": [a.to_dict() for a in self.accessibility],
            "device_admins": [a.to_dict() for a in self.device_admins],
            "signed": self.signed,
            "signature_schemes": list(self.signature_schemes),
            "certificates": [c.to_dict() for c in self.certificates],
            "files": list(self.files),
            "native_libs": list(self.native_libs),
            "suspicious_assets": [a.to_dict() for a in self.suspicious_assets],
            "zip": self.zip.to_dict(),
            "code": None if self.code is None else self.code.to_dict(),
            "inner": [i.to_dict() for i in self.inner],
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "manifest_problem": self.manifest_problem,
            "archive_repairs": list(self.archive_repairs),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ApkFacts:
        version = int(d.get("schema_version", SCHEMA_VERSION))
        if version != SCHEMA_VERSION:
            raise ValueError(f"ApkFacts schema {version}, expected {SCHEMA_VERSION}")
        code = d.get("code")
        return cls(
            schema_version=version,
            sha256=str(d["sha256"]),
            size=int(d["size"]),
            file_name=str(d.get("file_name", "")),
            package=_opt_str(d.get("package")),
            label=_opt_str(d.get("label")),
            version_code=_opt_str(d.get("version_code")),
            version_name=_opt_str(d.get("version_name")),
            icon=IconFact.from_dict(d["icon"]) if d.get("icon") else None,
            min_sdk=_opt_int(d.get("min_sdk")),
            target_sdk=_opt_int(d.get("target_sdk")),
            split=_opt_str(d.get("split")),
            permissions=_strs(d.get("permissions")),
            declared_permissions=_strs(d.get("declared_permissions")),
            application_class=_opt_str(d.get("application_class")),
            debuggable=_opt_bool(d.get("debuggable")),
            components=tuple(Component.from_dict(c) for c in d.get("components", ())),
            launcher_activity=_opt_str(d.get("launcher_activity")),
            launcher_candidates=_strs(d.get("launcher_candidates")),
            accessibility=tuple(
                AccessibilityConfig.from_dict(a) for a in d.get("accessibility", ())
            ),
            device_admins=tuple(DeviceAdmin.from_dict(a) for a in d.get("device_admins", ())),
            signed=bool(d.get("signed", False)),
            signature_schemes=_strs(d.get("signature_schemes")),
            certificates=tuple(Certificate.from_dict(c) for c in d.get("certificates", ())),
            files=_strs(d.get("files")),
            native_libs=_strs(d.get("native_libs")),
            suspicious_assets=tuple(
                AssetFact.from_dict(a) for a in d.get("suspicious_assets", ())
            ),
            zip=ZipFacts.from_dict(d.get("zip") or {}),
            code=None if code is None else CodeFacts.from_dict(code),
            inner=tuple(ApkFacts.from_dict(i) for i in d.get("inner", ())),
            errors=_strs(d.get("errors")),
            warnings=_strs(d.get("warnings")),
            manifest_problem=_opt_str(d.get("manifest_problem")),
            archive_repairs=_strs(d.get("archive_repairs")),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ApkFacts:
        return cls.from_dict(json.loads(text))
