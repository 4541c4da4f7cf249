"""Facts about an Android package, extracted once, in a bounded subprocess.

This module and its worker (:mod:`scanners._apk_worker`) are the only code
that touches androguard. Rules never look at an APK: they read the plain,
JSON-serialisable :class:`ApkFacts` value returned by :func:`extract_facts`.

Two stages:

1. **In this process, cheaply** (:func:`inspect_zip`): the file size, the
   ZIP end-of-central-directory record and the central directory only (no
   entry is decompressed): entry count, declared total uncompressed size,
   per-entry compression ratio, overlapping entries, path-traversal names,
   presence of ``AndroidManifest.xml``, bundle detection (XAPK / APKS /
   APKM). Refusals raise typed errors before any child process is started.
2. **In a child process** (:mod:`scanners._apk_worker`, forked from a warm
   server, see *The warm server* below) with ``RLIMIT_AS`` (memory),
   ``RLIMIT_CPU``, ``RLIMIT_CORE`` 0 and, once androguard is loaded,
   ``RLIMIT_FSIZE`` 0 set in the child, a wall time enforced here (the child
   is killed on expiry), its working directory, ``HOME`` and ``TMPDIR`` in a
   private temp dir made here, loguru silenced. The child parses
   the manifest, resources, signatures and the file list, then, in the
   content stage, the heads of assets (code magic, entropy) and the DEX
   string and method-id tables (bounded by ``code_timeout`` and
   ``code_max_classes``),
   and writes the facts back as JSON lines: a first line after the manifest
   stage, so that a child killed during the code stage still yields partial
   facts. Nothing from the sample is ever executed or written to disk.

The warm server
---------------
A cold ``python -I`` + androguard import costs about 0.25 s per sample, more
than parsing most APKs. So the parse children are forked from a warm server:
the stdlib ``multiprocessing`` *forkserver*, started lazily on first use
(:func:`start_worker_server`, under a lock, so any thread may trigger it) with
:data:`WARM_PRELOAD` imported and, through ``SCAMSCAN_APK_WARM_UP=1`` in its
environment only, a built-in harmless fixture parsed once
(:func:`scanners._apk_worker.warm_up`) so that lazy imports and compiled
regexes are already in memory. Samples are parsed by children forked from
that server (their own address space; the server itself never sees a
sample) running :func:`scanners._apk_worker.forked_main`: it sets the limits,
moves to the private temp dir, points stdin/stdout at ``/dev/null`` and
stderr at a pipe read here, and sends JSON messages (``partial`` after the
manifest stage, then ``done``) over a :func:`multiprocessing.Pipe`. This
process waits on both pipes with the wall-time deadline, kills the child on
expiry and always joins and closes it, once it has exited or after
:data:`EXIT_GRACE` (the answer does not wait for that): the server reaps its
children, so nothing is left as a zombie. ``RLIMIT_AS`` counts the mappings inherited from
the server (about 40 MB resident); a limit below them is reported as a
memory stop without parsing. A process forked from one that had started the
server (a ``fork`` process-pool worker) starts a server of its own on first
use; spawn/forkserver pool workers simply start theirs. The forkserver is
process-wide: another user of ``multiprocessing``'s forkserver in the same
process shares it (and our preload list).

The idle child: to take the fork off the critical path, one extra child is
forked ahead of time (by a short-lived thread, as soon as the previous one is
taken, so that its fork and warm-up run on another core during that parse)
and waits for its request on a pipe (:func:`scanners._apk_worker.spare_main`).
While idle it parses the built-in fixture once, so that the pages of the
server that a parse touches are already copied (a forked child otherwise pays
about a thousand copy-on-write faults during its first parse). The fork
server also ``gc.freeze()``-s its heap after the warm-up.

Reuse: the first parse in a new process is still 1.3-1.6 times slower than
the same parse repeated (the pages it copies or maps, cold caches). So a child
that answered ``done`` becomes the idle child again and serves the next
sample, up to ``SCAMSCAN_APK_CHILD_SAMPLES`` samples (default
:data:`DEFAULT_CHILD_SAMPLES`; ``1``: a fresh child for every sample), and
only while its peak RSS stays within :data:`CHILD_RSS_SLACK` of what it held
before its first sample: a child that grew (any full scan of a real app)
retires, so no sample starts in a child holding more than that. A child that
failed, timed out or was refused never serves again; the limits, the private
temp dir and the peak-RSS count start anew for each sample, and a test checks
that the facts of a reused child equal those of a fresh one. The trade: a
sample that subverted the parser could see or alter the next samples that
child parses (the child is not a sandbox in any case: same user, network
allowed); ``SCAMSCAN_APK_CHILD_SAMPLES=1`` removes it, at the cost above.
``SCAMSCAN_APK_SPARE=0`` turns the idle child off (a fresh fork per sample,
on the critical path); :func:`drop_spare_child` ends it. ``SCAMSCAN_APK_WORKER=cold`` in the
environment (or a platform without forkserver) selects the previous path: a
``python -I -c`` child per sample, request on stdin, JSON lines on stdout.

Bundles (XAPK, APKS, APKM, or any ZIP of APKs without a manifest) have their
inner ``*.apk`` entries copied to a temp dir and each one extracted as above;
the outer facts list them in :attr:`ApkFacts.inner`.

Exceptions (all from :mod:`scanners.errors`)::

    ScamscanError
    ├── InputError
    │   └── ApkError                 the file cannot be analysed as an APK
    │       ├── NotAnApkError        not a ZIP (``kind``: not-zip, windows-executable,
    │       │                        truncated, no-manifest, empty-bundle)
    │       ├── ZipBombError         too many entries, too much declared data,
    │       │                        a compression ratio or overlapping entries
    │       └── ApkTooLargeError     the file is over ``max_file_bytes``
    └── ScanIncomplete
        └── ApkParseIncomplete       check ``apk_parse``: the child ran out of wall
                                     time, CPU or memory, or died; ``facts`` holds
                                     the partial facts, if any

A malformed DEX (androguard's ``InvalidInstruction``, a bad header) is not an
error: it is recorded in :attr:`CodeFacts.anti_analysis`, as the anti-analysis
finding it is. Path-traversal entry names are recorded in
:attr:`ZipFacts.suspicious_names`, not refused: androguard never extracts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import orjson

from scanners.errors import InputError, ScanIncomplete

SCHEMA_VERSION = 2
"""Bumped whenever a field of :class:`ApkFacts` changes meaning or shape."""

MAX_LIST = 500
"""Longest list of strings (URLs, IPs…) kept in :class:`CodeFacts`."""

MAX_INNER_APKS = 32
"""Most inner APKs of a bundle that are extracted."""

CHECK = "apk_parse"
"""The check name carried by :class:`ApkParseIncomplete`."""

EXIT_GRACE = 5.0
"""Seconds a parse child that has sent its facts gets to exit before it is killed."""

log = logging.getLogger("scamscan.apk")

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


# --------------------------------------------------------------------------- errors


class ApkError(InputError):
    """The file cannot be analysed as an APK; ``kind`` is a stable short code."""

    kind = "apk-error"

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if kind is not None:
            self.kind = kind


class NotAnApkError(ApkError):
    """Not a ZIP, a truncated ZIP, a renamed Windows executable, or no manifest."""

    kind = "not-zip"


class ZipBombError(ApkError):
    """Refused before decompression: entry count, declared size or ratio."""

    kind = "zip-bomb"


class ApkTooLargeError(ApkError):
    """The file is larger than :attr:`ApkLimits.max_file_bytes`."""

    kind = "too-large"


class ApkParseIncomplete(ScanIncomplete):
    """The parse child was stopped (time, CPU, memory) or died.

    ``facts`` holds what the child had established before it stopped (the
    manifest stage, typically), or ``None``.
    """

    def __init__(self, reason: str, facts: ApkFacts | None = None) -> None:
        super().__init__(CHECK, reason)
        self.facts = facts


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


# --------------------------------------------------------------------------- ZIP checks

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF


@dataclass(frozen=True, slots=True)
class _EndRecord:
    """The end-of-central-directory record, as :mod:`zipfile` finds it."""

    count: int
    """Entries, the larger of the EOCD and ZIP64 EOCD counts."""
    cd_size: int
    cd_offset: int
    at: int
    """File offset of the record."""
    zip64: bool
    """A ZIP64 locator precedes it."""


def _end_record(fp: Any, file_size: int) -> _EndRecord | None:
    """The end-of-central-directory record (ZIP64 aware), or None: read once per
    file, before :class:`zipfile.ZipFile` builds one object per entry, so that a
    ZIP with millions of entries is refused without building them.
    """
    tail_len = min(file_size, 22 + _MAX_COMMENT)
    fp.seek(file_size - tail_len)
    tail = fp.read(tail_len)
    pos = tail.rfind(_EOCD)
    if pos < 0 or len(tail) - pos < 22:
        return None
    (_, _, _, _, total, cd_size, cd_offset, _) = struct.unpack(
        "<4sHHHHIIH", tail[pos : pos + 22])
    count = int(total)
    loc = pos - 20
    zip64 = loc >= 0 and tail[loc : loc + 4] == _EOCD64_LOCATOR
    if zip64:
        (_, _, off64, _) = struct.unpack("<4sIQI", tail[loc : loc + 20])
        if 0 <= off64 < file_size - 56:
            fp.seek(off64)
            rec = fp.read(56)
            if rec[:4] == _EOCD64:
                count = max(count, int(struct.unpack("<Q", rec[32:40])[0]))
    return _EndRecord(count, int(cd_size), int(cd_offset), file_size - tail_len + pos, zip64)


def _is_suspicious_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name:
        return True
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    # The same answer as PurePosixPath(name).parts, at a tenth of the cost (it runs
    # for every entry): empty and "." parts never equal "..".
    return ".." in name.split("/")


_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
"""A central directory file header (:mod:`zipfile`'s ``structCentralDir``)."""


class _Entry:
    """What :func:`inspect_zip` reads of an entry (the fields of a ``ZipInfo`` it uses)."""

    __slots__ = ("compress_size", "file_size", "filename", "flag_bits", "header_offset")

    def __init__(self, filename: str, flag_bits: int, compress_size: int, file_size: int,
                 header_offset: int) -> None:
        self.filename = filename
        self.flag_bits = flag_bits
        self.compress_size = compress_size
        self.file_size = file_size
        self.header_offset = header_offset


def _plain_central_directory(fp: Any, end: _EndRecord,
                             lenient: bool = False) -> list[_Entry] | None:
    """The entries of a plain ZIP (no ZIP64, nothing prepended), read as
    :mod:`zipfile` reads them; ``None`` for anything else, which then goes to
    :class:`zipfile.ZipFile` itself.

    Why not zipfile: it builds a ``ZipInfo`` per entry and decodes its extra
    fields, about 4 µs an entry, and runs on every upload before any parse
    (10 ms for a 2,000-entry app); this loop does a third of that. The tests
    check that both agree on every fixture.

    ``lenient``: extra fields are skipped by their declared length without being
    decoded, as Android's parser does, so a corrupt one (an anti-analysis trick
    that makes zipfile refuse the whole archive) does not stop the read.
    """
    cd_size, cd_offset = end.cd_size, end.cd_offset
    if end.zip64 or cd_offset + cd_size != end.at:  # data prepended, or a lying directory
        return None
    fp.seek(cd_offset)
    cd = fp.read(cd_size)
    if len(cd) != cd_size:
        return None
    out: list[_Entry] = []
    at = 0
    unpack = _CENTRAL.unpack_from
    while at < cd_size:
        if at + 46 > cd_size:
            return None
        h = unpack(cd, at)
        if h[0] != b"PK\x01\x02":
            return None
        flags, csize, usize, n_len, x_len, c_len, offset = h[5], h[10], h[11], h[12], h[13], \
            h[14], h[18]
        if 0xFFFFFFFF in (csize, usize, offset):
            return None  # ZIP64 sizes live in the extra field
        name_at = at + 46
        at = name_at + n_len + x_len + c_len
        if at > cd_size:
            return None
        extra = cd[name_at + n_len : name_at + n_len + x_len] if x_len else b""
        while len(extra) >= 4 and not lenient:  # zipfile refuses a corrupt one: let it say
            tag, length = struct.unpack_from("<HH", extra)
            if length + 4 > len(extra) or tag == 0x0001:
                return None
            extra = extra[length + 4 :]
        raw = cd[name_at : name_at + n_len]
        if raw.isascii():  # the common case; both encodings agree on it
            name = raw.decode("ascii")
        else:
            name = raw.decode("utf-8") if flags & 0x800 else raw.decode("cp437")
        nul = name.find("\x00")
        if nul >= 0:  # zipfile cuts the name there
            name = name[:nul]
        out.append(_Entry(name, flags, csize, usize, offset))
    return out


def _bundle_kind(path: Path, names: Sequence[str], has_manifest: bool) -> str | None:
    if has_manifest:
        return None
    apks = [n for n in names if n.lower().endswith(".apk")]
    if not apks:
        return None
    suffix = path.suffix.lower()
    if "manifest.json" in names or suffix == ".xapk":
        return "xapk"
    if "info.json" in names or suffix == ".apkm":
        return "apkm"
    if "toc.pb" in names or suffix == ".apks":
        return "apks"
    return "bundle"


def inspect_zip(path: Path, limits: ApkLimits = ApkLimits()) -> ZipFacts:
    """Check the file cheaply (central directory only); raise an :class:`ApkError`.

    Nothing is decompressed. Refuses: over ``max_file_bytes``, not a ZIP (a
    Windows executable is named as such), truncated, more than ``max_entries``
    entries, more than ``max_uncompressed`` declared bytes, an entry larger
    than ``ratio_min_bytes`` compressed more than ``max_ratio`` times,
    overlapping entries, no ``AndroidManifest.xml`` and no inner APK.
    """
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise ApkTooLargeError(
            f"the file is {size} bytes, over the limit of {limits.max_file_bytes}"
        )
    with path.open("rb") as fp:
        head = fp.read(4)
        if head[:2] == b"MZ":
            raise NotAnApkError(
                "this is a Windows executable, not an Android app", "windows-executable"
            )
        if head[:4] == b"\x7fELF":
            raise NotAnApkError("this is a Linux/Android binary, not an app", "not-zip")
        end = _end_record(fp, size)
        if end is None:
            if head[:2] == b"PK":
                raise NotAnApkError(
                    "the ZIP file is truncated or corrupt (no central directory)", "truncated"
                )
            raise NotAnApkError("this is not a ZIP file, so not an Android app", "not-zip")
        if end.count > limits.max_entries:
            raise ZipBombError(
                f"the archive has {end.count} entries, over the limit of {limits.max_entries}"
            )
        infos: Sequence[_Entry | zipfile.ZipInfo] | None
        anomalies: list[str] = []
        try:
            infos = _plain_central_directory(fp, end)
        except (UnicodeDecodeError, struct.error, OSError):
            infos = None
        if infos is None:
            fp.seek(0)
            try:
                with zipfile.ZipFile(fp) as zf:
                    infos = zf.infolist()
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
                try:
                    infos = _plain_central_directory(fp, end, lenient=True)
                except (UnicodeDecodeError, struct.error, OSError):
                    infos = None
                if infos is None:
                    raise NotAnApkError(
                        f"the ZIP file is truncated or corrupt ({exc})", "truncated"
                    ) from exc
                anomalies.append(f"{exc}: strict ZIP readers refuse the archive; "
                                 "Android's parser skips the field")

    if len(infos) > limits.max_entries:
        raise ZipBombError(
            f"the archive has {len(infos)} entries, over the limit of {limits.max_entries}"
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise ZipBombError(
            f"the archive declares {total} uncompressed bytes, "
            f"over the limit of {limits.max_uncompressed}"
        )
    # One pass over the entries: this runs on every upload.
    max_ratio = 0.0
    offsets: dict[int, str] = {}
    seen: set[str] = set()
    duplicates: list[str] = []
    suspicious: list[str] = []
    compressed = encrypted = 0
    overlap: tuple[str, str] | None = None
    for info in infos:
        name = info.filename
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > max_ratio:
            max_ratio = ratio
        if info.file_size >= limits.ratio_min_bytes and ratio > limits.max_ratio:
            raise ZipBombError(
                f"entry {name!r} expands {ratio:.0f} times "
                f"({info.compress_size} to {info.file_size} bytes), "
                f"over the limit of {limits.max_ratio:.0f}"
            )
        if info.header_offset + info.compress_size > size:
            raise NotAnApkError(
                f"the ZIP file is truncated (entry {name!r} runs past the end)",
                "truncated",
            )
        compressed += info.compress_size
        encrypted += info.flag_bits & 0x1
        if name in seen:
            if name not in duplicates:
                duplicates.append(name)
        else:
            seen.add(name)
        if len(suspicious) < MAX_LIST and _is_suspicious_name(name):
            suspicious.append(name)
        other = offsets.setdefault(info.header_offset, name)
        if other != name and overlap is None:
            overlap = (other, name)  # reported after the checks above, as before
    if overlap is not None:
        raise ZipBombError(
            f"entries {overlap[0]!r} and {overlap[1]!r} share their data (overlapping ZIP)"
        )
    has_manifest = "AndroidManifest.xml" in seen
    bundle = _bundle_kind(path, [i.filename for i in infos], has_manifest)
    if not has_manifest and bundle is None:
        raise NotAnApkError(
            "the archive has no AndroidManifest.xml, so it is not an Android app",
            "no-manifest",
        )
    return ZipFacts(
        entries=len(infos),
        total_uncompressed=total,
        total_compressed=compressed,
        max_ratio=round(max_ratio, 2),
        suspicious_names=tuple(suspicious),
        duplicate_names=tuple(duplicates[:MAX_LIST]),
        encrypted_entries=encrypted,
        has_manifest=has_manifest,
        bundle=bundle,
        anomalies=tuple(anomalies),
    )


# --------------------------------------------------------------------------- the child

_worker_starts = 0


def worker_starts() -> int:
    """How many samples this process has handed to a parse child (for tests and
    metrics); a child may serve several, see ``SCAMSCAN_APK_CHILD_SAMPLES``."""
    return _worker_starts


_ROOT = str(Path(__file__).resolve().parent.parent)
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from scanners._apk_worker import main; sys.exit(main())"
)


_MEMORY_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "failed to map segment",
    "std::bad_alloc",
    "out of memory",
)


def _last_json(lines: bytes) -> dict[str, Any] | None:
    for raw in reversed(lines.splitlines()):
        raw = raw.strip()
        if not raw:
            continue
        with contextlib.suppress(ValueError):
            value = json.loads(raw)
            if isinstance(value, dict):
                return value
    return None


def _partial(msg: dict[str, Any] | None) -> ApkFacts | None:
    if msg is None or not isinstance(msg.get("facts"), dict):
        return None
    try:
        return ApkFacts.from_dict(msg["facts"])
    except (KeyError, TypeError, ValueError):
        return None


def _run_cold(path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
    global _worker_starts
    request = json.dumps(
        {"path": str(path.resolve()), "limits": limits.to_dict(), "zip": zip_facts.to_dict()}
    ).encode()
    with tempfile.TemporaryDirectory(prefix="scamscan-apk-") as tmp:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TMPDIR": tmp,
            "HOME": tmp,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
        }
        _worker_starts += 1
        started = time.monotonic()
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [sys.executable, "-I", "-c", _BOOT, _ROOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp,
            env=env,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(request, timeout=limits.parse_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            elapsed = time.monotonic() - started
            raise ApkParseIncomplete(
                f"the app took longer than {limits.parse_timeout:g} s to parse "
                f"(stopped after {elapsed:.1f} s)",
                _partial(_last_json(out)),
            ) from None
        except BaseException:
            # Interrupted some other way (a job time limit, shutdown): the child
            # must not outlive the request that started it.
            proc.kill()
            proc.wait()
            raise
    return _interpret(_last_json(out), err, proc.returncode, limits)


def _interpret(
    msg: dict[str, Any] | None, err: bytes, rc: int | None, limits: ApkLimits
) -> ApkFacts:
    """Facts from the child's last message, or the typed error its end calls for."""
    if msg is not None and msg.get("status") == "done":
        facts = _partial(msg)
        if facts is not None:
            return facts
    if msg is not None and msg.get("status") == "refused":
        kind = str(msg.get("kind", "not-zip"))
        raise NotAnApkError(str(msg.get("reason", "not an Android app")), kind)
    partial = _partial(msg) if msg is not None and msg.get("status") == "partial" else None
    if msg is not None and msg.get("status") == "error" and msg.get("kind") == "memory":
        partial = _partial(msg) or partial
        raise ApkParseIncomplete(
            f"the app needed more than {limits.memory // (1024 * 1024)} MB to parse", partial
        )
    tail = err.decode("utf-8", "replace")[-2000:]
    if any(m in tail for m in _MEMORY_MARKERS):
        raise ApkParseIncomplete(
            f"the app needed more than {limits.memory // (1024 * 1024)} MB to parse", partial
        )
    if rc in (-24, 152):  # SIGXCPU
        raise ApkParseIncomplete("the app used too much CPU time to parse", partial)
    if msg is not None and msg.get("status") == "error":
        raise ApkParseIncomplete(f"the parser failed: {msg.get('reason', '')}"[:300], partial)
    last = tail.strip().splitlines()[-1:] or [f"exit status {rc}"]
    raise ApkParseIncomplete(f"the parser died ({last[0][:200]})", partial)


# --------------------------------------------------------------------------- the warm server

WARM_PRELOAD = (
    "loguru",
    "lxml.etree",
    "asn1crypto.cms",
    "asn1crypto.x509",
    "cryptography.x509",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "androguard.core.axml",
    "androguard.core.apk",
    "androguard.core.dex",
    "orjson",
    "scanners._apk_worker",
    "scanners.lifetime",
)
"""Modules imported once by the fork server, before it forks any parse child."""

_WARM_ENV = "SCAMSCAN_APK_WARM_UP"
_WORKER_ENV = "SCAMSCAN_APK_WORKER"
"""``cold`` in the environment: one ``python -I`` child per sample (the old path)."""

_server_lock = threading.Lock()
_server_pid: int | None = None
"""PID of the process that set up the fork server (``None``: not yet)."""
_stats = threading.local()


def _mp() -> Any:
    import multiprocessing

    return multiprocessing


def _warm_available() -> bool:
    if os.environ.get(_WORKER_ENV, "").lower() == "cold":
        return False
    return "forkserver" in _mp().get_all_start_methods()


def start_worker_server() -> bool:
    """Start the warm fork server now (else it starts on first use); ``False`` if unavailable.

    Safe to call from any thread, and from a process forked from one that already
    started it (such a process gets a server of its own).
    """
    global _server_pid
    if not _warm_available():
        return False
    with _server_lock:
        from multiprocessing import forkserver

        me = os.getpid()
        if _server_pid != me:
            if _server_pid is not None:
                # Forked from a process that owned a server: that server is not our
                # child (``waitpid`` fails on it) and its lock may have been held
                # across the fork, so this process starts a server of its own.
                forkserver._forkserver = forkserver.ForkServer()
            ctx = _mp().get_context("forkserver")
            ctx.set_forkserver_preload(list(WARM_PRELOAD))
            _server_pid = me
        # The server inherits this variable when (re)started: its import of
        # scanners._apk_worker then parses a built-in fixture (see warm_up()).
        os.environ[_WARM_ENV] = "1"
        try:
            forkserver.ensure_running()
        finally:
            os.environ.pop(_WARM_ENV, None)
    return True


def last_child_stats() -> dict[str, Any]:
    """What the last parse child of this thread reported (for benchmarks and metrics).

    ``mode`` (``warm`` or ``cold``), ``pid`` (warm: the child's), ``peak_rss`` and
    ``start_rss`` (bytes, ``VmHWM`` of this sample's parse and ``VmRSS`` before it;
    0 when unknown), ``warm_imports`` (the child found
    androguard already imported), ``parse_seconds`` (the parse itself, in the child),
    ``elapsed`` (seconds, wall, from the request sent to the facts received, or to the
    child reaped when it failed).
    """
    return dict(getattr(_stats, "last", {}))


def _run_child(path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
    if _warm_available():
        try:
            start_worker_server()
        except (OSError, ValueError, RuntimeError):
            pass
        else:
            return _run_warm(path, zip_facts, limits)
    return _run_cold(path, zip_facts, limits)


_SPARE_ENV = "SCAMSCAN_APK_SPARE"
"""``0`` in the environment: no idle pre-forked parse child (fork on the critical path)."""
_SAMPLES_ENV = "SCAMSCAN_APK_CHILD_SAMPLES"
"""Samples one parse child may serve before it exits (default
:data:`DEFAULT_CHILD_SAMPLES`; ``1``: a fresh child for every sample)."""
DEFAULT_CHILD_SAMPLES = 16
CHILD_RSS_SLACK = 16 * 1024 * 1024
"""A child serves another sample only if this one's peak RSS stayed within this
many bytes of the child's RSS before its first sample: what a child keeps
between samples is at most its peak, so no sample starts with more than this
left over (a full scan of a real app peaks far above it: its child retires)."""
_spare_lock = threading.Lock()
_spare: tuple[int, Any, Any, Any, Any, int, int] | None = None
"""``(owner pid, process, request conn, out conn, err conn, samples served, base RSS)``
of the idle child (base RSS: before its first sample; 0 until known)."""
_spare_ready = False
"""Whether the idle child said it finished its warm-up (see :func:`wait_for_idle_child`)."""


def _spare_enabled() -> bool:
    return os.environ.get(_SPARE_ENV, "1") != "0"


def child_samples() -> int:
    """Samples one parse child serves at most (``SCAMSCAN_APK_CHILD_SAMPLES``)."""
    try:
        return max(1, int(os.environ.get(_SAMPLES_ENV, DEFAULT_CHILD_SAMPLES)))
    except ValueError:
        return DEFAULT_CHILD_SAMPLES


def _reset_spare_after_fork() -> None:
    # A forked process (a process-pool worker) must not use, nor wait for, a lock
    # or an idle child that belong to its parent.
    global _spare_lock, _spare, _exiting_lock, _exiting, _refill_wanted
    _spare_lock = threading.Lock()
    _spare = None
    _exiting_lock = threading.Lock()
    _exiting = []
    _refill_wanted = threading.Event()  # the refiller thread is not in this process


os.register_at_fork(after_in_child=_reset_spare_after_fork)


def _new_child(ctx: Any, prewarm: bool = False) -> tuple[Any, Any, Any, Any]:
    """A child forked from the warm server, waiting for its request on a pipe."""
    req_r, req_w = ctx.Pipe(duplex=False)
    out_r, out_w = ctx.Pipe(duplex=False)
    err_r, err_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_worker_entry(), args=(req_r, out_w, err_w, prewarm), name="scamscan-apk",
        daemon=True,
    )
    try:
        proc.start()
    except BaseException:
        for conn in (req_r, req_w, out_r, out_w, err_r, err_w):
            conn.close()
        raise
    for conn in (req_r, out_w, err_w):
        conn.close()
    return proc, req_w, out_r, err_r


def _discard_child(child: tuple[Any, ...]) -> None:
    """End a child (killed if still running), wait for it and close its pipes."""
    proc, *conns = child
    with contextlib.suppress(Exception):
        if proc.is_alive():
            proc.kill()
        proc.join()
        proc.close()
    for conn in conns:
        conn.close()


def _take_spare() -> tuple[tuple[Any, Any, Any, Any], int, int] | None:
    """The idle child, if there is a live one of this process, how many samples it
    has served and its RSS before the first."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    owner, proc, req_w, out_r, err_r, served, base = spare
    child = (proc, req_w, out_r, err_r)
    if owner != os.getpid():
        return None
    try:
        alive = proc.is_alive()
    except Exception:
        alive = False
    if alive:
        return child, served, base
    _discard_child(child)
    return None


def _give_back(child: tuple[Any, Any, Any, Any], served: int, base: int) -> bool:
    """Make a child that answered and waits for more the idle child again; ``False``
    when another idle child is already there (the caller retires this one)."""
    global _spare, _spare_ready
    with _spare_lock:
        if _spare is not None:
            return False
        _spare = (os.getpid(), *child, served, base)
        _spare_ready = False  # until it says so, once its memory is released
        return True


def _refill_spare() -> None:
    """Fork the next idle child now, off the caller's critical path (a thread)."""
    global _spare, _spare_ready
    with _spare_lock:
        if _spare is not None:
            return
        try:
            child = _new_child(_mp().get_context("forkserver"), prewarm=True)
        except Exception:
            return
        _spare = (os.getpid(), *child, 0, 0)
        _spare_ready = False


def wait_for_idle_child(timeout: float = 10.0) -> bool:
    """Wait until the idle child is forked and has finished its warm-up parse (or,
    when it is a reused child, has released the last sample's memory).

    For benchmarks and tests, which time one sample at a time as a server sees
    uploads that do not arrive back to back; a server never waits for it (a
    sample that finds the idle child still warming up is handed to it anyway).
    ``False`` when there is no idle child (``SCAMSCAN_APK_SPARE=0``, no fork
    server) or the wait timed out.
    """
    global _spare_ready
    if not (_spare_enabled() and _warm_available()):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _spare_lock:
            spare = _spare
            if spare is None and not _refill_wanted.is_set() and not _refilling:
                return False  # none asked for (no sample parsed yet), none coming
            if spare is not None and spare[0] == os.getpid():
                if _spare_ready:
                    return True
                out_r = spare[3]
                with contextlib.suppress(OSError, EOFError, ValueError):
                    if out_r.poll(0.005):
                        # The only message an idle child sends (see spare_main).
                        _spare_ready = json.loads(out_r.recv_bytes()).get("status") == "ready"
                        continue
        time.sleep(0.002)
    return False


def drop_spare_child() -> None:
    """End the idle pre-forked child, if any (tests, shutdown), and every child that
    has answered but not yet exited."""
    taken = _take_spare()
    if taken is not None:
        _discard_child(taken[0])
    _reap_exiting(block=True)


_exiting_lock = threading.Lock()
_exiting: list[tuple[float, Any, tuple[Any, ...]]] = []
"""Children that sent their facts and are exiting: ``(when, process, pipes)``."""


def _exit_later(proc: Any, conns: tuple[Any, ...]) -> None:
    """Let a child that has answered exit on its own time. Its exit (unmapping a copy
    of the warm server) then never delays the answer; its pipes stay open meanwhile,
    so that its last writes cannot fail."""
    with _exiting_lock:
        _exiting.append((time.monotonic(), proc, conns))


def _reap_exiting(*, block: bool = False) -> None:
    """Release the children of :func:`_exit_later` that have exited; kill one that
    lingers past :data:`EXIT_GRACE` (or every one, with ``block``). Called before each
    parse, so at most a few are ever waiting."""
    with _exiting_lock:
        waiting = list(_exiting)
        _exiting.clear()
    keep: list[tuple[float, Any, tuple[Any, ...]]] = []
    now = time.monotonic()
    for when, proc, conns in waiting:
        with contextlib.suppress(Exception):  # a broken process is ended below all the same
            if proc.exitcode is None and not block and now - when < EXIT_GRACE:
                keep.append((when, proc, conns))
                continue
        _discard_child((proc, *conns))
    if keep:
        with _exiting_lock:
            _exiting.extend(keep)


def _run_warm(path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
    global _worker_starts
    from multiprocessing import connection

    _reap_exiting()
    ctx = _mp().get_context("forkserver")
    with tempfile.TemporaryDirectory(prefix="scamscan-apk-", dir=_scratch_root()) as tmp:
        request: dict[str, Any] = {
            "path": str(path.resolve()),
            "limits": limits.to_dict(),
            "zip": zip_facts.to_dict(),
            "tmp": tmp,
        }
        spare = _spare_enabled()
        taken = _take_spare() if spare else None
        if taken is None:
            child, served, base = _new_child(ctx), 0, 0
        else:
            child, served, base = taken
        _worker_starts += 1
        proc, req_w, out_r, err_r = child
        pid = proc.pid
        # Reused for the next sample only as the idle child: without one, a child
        # serves one sample, as before.
        samples = child_samples() if spare else 1
        request["reuse"] = served + 1 < samples
        request["samples_left"] = samples - served
        _drain(err_r)  # what an earlier sample left on stderr is not this one's
        started = time.monotonic()
        msg: dict[str, Any] | None = None
        err = bytearray()
        timed_out = False
        finished = False
        try:
            # A child that died before its request is reported as such below.
            with contextlib.suppress(OSError):
                req_w.send_bytes(json.dumps(request).encode())
            if not request["reuse"]:
                req_w.close()
                if spare:
                    # Forked and warmed up on another core while this child parses;
                    # woken only now, so that its thread cannot hold the GIL while
                    # the request above is still to be sent.
                    _wake_refiller()
            deadline = started + limits.parse_timeout
            open_conns: list[Any] = [out_r, err_r]
            while open_conns:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                ready: Any
                for ready in connection.wait(open_conns, timeout=left):
                    if ready is err_r:
                        chunk = os.read(err_r.fileno(), 65536)  # raw bytes, not messages
                        if chunk:
                            err += chunk[: max(0, 8192 - len(err))]
                            continue
                    else:
                        try:
                            raw = out_r.recv_bytes()
                        except (EOFError, OSError):
                            pass
                        else:
                            with contextlib.suppress(ValueError):
                                value = orjson.loads(raw)
                                if isinstance(value, dict) and value.get("status") != "ready":
                                    msg = value
                            if msg is not None and msg.get("status") == "done":
                                # The facts are in; the child exits or waits now.
                                finished = True
                                open_conns.clear()
                                break
                            continue
                    open_conns.remove(ready)
        finally:
            elapsed = time.monotonic() - started
            rc: int | None = None
            if finished:
                base = base or int((msg or {}).get("start_rss", 0) or 0)
                peak = int((msg or {}).get("peak_rss", 0) or 0)
                reused = (
                    request["reuse"]
                    and base > 0
                    and peak <= base + CHILD_RSS_SLACK
                    and _give_back(child, served + 1, base)
                )
                if not reused:
                    req_w.close()  # a child waiting for more sees the end and exits
                    _exit_later(proc, (out_r, err_r, req_w))
                    if request["reuse"] and spare:
                        _wake_refiller()
            else:
                # proc.start() itself may have been interrupted: a process that never
                # started can be neither killed nor joined.
                if proc.pid is not None:
                    if proc.is_alive():  # timed out, or an error in this loop: no orphan
                        proc.kill()
                    proc.join()
                rc = proc.exitcode
                proc.close()
                for conn in (out_r, err_r, req_w):
                    conn.close()
                if request["reuse"] and spare:
                    _wake_refiller()  # this child was to be the next idle one
            _stats.last = {
                "mode": "warm",
                "pid": pid,
                "peak_rss": int((msg or {}).get("peak_rss", 0) or 0),
                "start_rss": int((msg or {}).get("start_rss", 0) or 0),
                "warm_imports": bool((msg or {}).get("warm_imports", False)),
                "parse_seconds": float((msg or {}).get("parse_seconds", 0.0) or 0.0),
                "parse_faults": int((msg or {}).get("parse_faults", 0) or 0),
                "elapsed": elapsed,
            }
    if timed_out:
        raise ApkParseIncomplete(
            f"the app took longer than {limits.parse_timeout:g} s to parse "
            f"(stopped after {elapsed:.1f} s)",
            _partial(msg),
        )
    return _interpret(msg, bytes(err), rc, limits)


def _drain(err_r: Any) -> None:
    """Read away whatever is waiting on a child's stderr pipe (never blocks)."""
    with contextlib.suppress(OSError, ValueError):
        while err_r.poll(0):
            if not os.read(err_r.fileno(), 65536):
                break


_refiller_pid: int | None = None
_refill_wanted = threading.Event()


def _wake_refiller() -> None:
    """Ask the refiller thread for the next idle child. One long-lived thread: a
    new thread per sample costs 0.1 ms and a GIL hand-over on the critical path."""
    global _refiller_pid
    if _refiller_pid != os.getpid():  # first use, or a process forked since
        _refiller_pid = os.getpid()
        threading.Thread(target=_refiller, name="scamscan-apk-spare", daemon=True).start()
    _refill_wanted.set()


_refilling = False
"""The refiller thread is between its wake-up and the idle child's fork."""


def _refiller() -> None:
    global _refilling
    me = os.getpid()
    while _refiller_pid == me:
        _refill_wanted.wait()
        _refilling = True
        _refill_wanted.clear()
        try:
            _refill_spare()
        except Exception as e:  # the next sample forks its own child
            log.debug("idle parse child not forked: %s", e)
        finally:
            _refilling = False


_scratch: str | None = None


def _scratch_root() -> str | None:
    """Where the per-sample working directories go: ``/dev/shm`` when it is a
    writable tmpfs (a directory made and removed there costs microseconds; on a
    journalled disk, up to milliseconds per sample), else the default temp dir."""
    global _scratch
    if _scratch is None:
        shm = "/dev/shm"  # noqa: S108 - only a parent for mkdtemp's private (0700) dirs
        _scratch = shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else ""
    return _scratch or None


def _worker_entry() -> Any:
    """The parse child's entry: :func:`scanners._apk_worker.spare_main`, once the
    child arranged to be killed with its parent (the fork server, single-threaded),
    so that no parse outlives a killed server (:mod:`scanners.lifetime`)."""
    from functools import partial

    from scanners import _apk_worker
    from scanners.lifetime import with_parent_death_signal

    return partial(with_parent_death_signal, _apk_worker.spare_main)


# --------------------------------------------------------------------------- bundles


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, hex, read in chunks."""
    import hashlib

    with path.open("rb") as fp:
        return hashlib.file_digest(fp, "sha256").hexdigest()


def _extract_bundle(path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
    errors: list[str] = []
    inner: list[ApkFacts] = []
    with zipfile.ZipFile(path) as zf:
        names = [
            i
            for i in zf.infolist()
            if i.filename.lower().endswith(".apk") and not _is_suspicious_name(i.filename)
        ]
        if len(names) > MAX_INNER_APKS:
            errors.append(f"bundle has {len(names)} APKs: only the first {MAX_INNER_APKS} read")
            names = names[:MAX_INNER_APKS]
        files = tuple(i.filename for i in zf.infolist())
        with tempfile.TemporaryDirectory(prefix="scamscan-bundle-") as tmp:
            for n, info in enumerate(names):
                target = Path(tmp) / f"inner{n}.apk"
                try:
                    # ZipExtFile stops at the declared size, already checked.
                    with zf.open(info) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    facts = _extract_single(target, limits, nested=True)
                except ApkParseIncomplete as exc:
                    errors.append(f"{info.filename}: {exc.reason}")
                    if exc.facts is not None:
                        facts = exc.facts
                    else:
                        continue
                except (ApkError, zipfile.BadZipFile, OSError, EOFError) as exc:
                    errors.append(f"{info.filename}: {exc}")
                    continue
                inner.append(replace(facts, file_name=info.filename))
    if not inner:
        raise NotAnApkError(
            "the bundle holds no APK that could be read" + (f": {errors[0]}" if errors else ""),
            "empty-bundle",
        )
    base = next((i for i in inner if i.split is None and i.package), inner[0])
    return ApkFacts(
        sha256=sha256_file(path),
        size=path.stat().st_size,
        file_name=path.name,
        package=base.package,
        label=base.label,
        version_code=base.version_code,
        version_name=base.version_name,
        min_sdk=base.min_sdk,
        target_sdk=base.target_sdk,
        files=files[:20_000],
        zip=zip_facts,
        inner=tuple(inner),
        errors=tuple(errors),
        warnings=(f"bundle ({zip_facts.bundle}) of {len(inner)} APKs",),
    )


# --------------------------------------------------------------------------- API


def _extract_single(path: Path, limits: ApkLimits, *, nested: bool = False) -> ApkFacts:
    zip_facts = inspect_zip(path, limits)
    if zip_facts.bundle is not None:
        if nested:
            raise NotAnApkError("a bundle inside a bundle is not read", "nested-bundle")
        return _extract_bundle(path, zip_facts, limits)
    facts = _run_child(path, zip_facts, limits)
    return replace(facts, file_name=path.name)


def extract_facts(path: Path, *, limits: ApkLimits = ApkLimits()) -> ApkFacts:
    """The facts about the APK (or XAPK/APKS bundle) at ``path``.

    Raises :class:`NotAnApkError`, :class:`ZipBombError` or
    :class:`ApkTooLargeError` for files that are refused, and
    :class:`ApkParseIncomplete` (a :class:`ScanIncomplete`) when the parse
    child is stopped; see the module docstring.
    """
    path = Path(path)
    if not path.is_file():
        raise NotAnApkError(f"no such file: {path.name}", "not-found")
    return _extract_single(path, limits)
