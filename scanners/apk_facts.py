"""Facts about an Android package, extracted once, in a bounded subprocess.

The parse children (:mod:`scanners._apk_worker` and the readers it runs) are
the only code that touches androguard. Rules never look at an APK: they read
the plain, JSON-serialisable :class:`ApkFacts` value returned by
:func:`extract_facts`.

Two stages:

1. **In this process, cheaply** (:func:`inspect_zip`,
   :mod:`scanners.apk_zipcheck`): the file size, the
   ZIP end-of-central-directory record and the central directory only (no
   entry is decompressed): entry count, declared total uncompressed size,
   per-entry compression ratio, overlapping entries, path-traversal names,
   presence of ``AndroidManifest.xml``, bundle detection (XAPK / APKS /
   APKM). Refusals raise typed errors before any child process is started.
2. **In a child process** (:mod:`scanners._apk_worker`, forked from a warm
   server by :mod:`scanners.apk_supervisor`, which documents it) with
   ``RLIMIT_AS`` (memory), ``RLIMIT_CPU``, ``RLIMIT_CORE`` 0 and, once
   androguard is loaded, ``RLIMIT_FSIZE`` 0 set in the child, a wall time enforced here (the child
   is killed on expiry), its working directory, ``HOME`` and ``TMPDIR`` in a
   private temp dir made here, loguru silenced. The child parses
   the manifest, resources, signatures and the file list, then, in the
   content stage, the heads of assets (code magic, entropy) and the DEX
   string and method-id tables (bounded by ``code_timeout`` and
   ``code_max_classes``),
   and writes the facts back as JSON lines: a first line after the manifest
   stage, so that a child killed during the code stage still yields partial
   facts. Nothing from the sample is ever executed or written to disk.

The pipeline, one module per job (no import cycle; the child side, from
``_apk_worker`` down, never imports the parent side above it)::

    apk_facts        this entry point: extract_facts(), bundles, re-exports
    apk_supervisor   the parse children: warm fork server, idle child, reuse,
                     limits and deadline, the child's end -> facts or an error
    apk_zipcheck     inspect_zip(): the ZIP pre-checks, in this process
    apk_errors       ApkError and its kinds, ApkParseIncomplete
    apk_fact_types   ApkFacts and its parts, ApkLimits (plain JSON values)
    _apk_worker      the child's process side: limits, messages, warm-up
    apk_parse        extract(): one APK's bytes -> ApkFacts, in the child
    apk_manifest     the manifest reader (components, accessibility, admins)
    apk_resources    the resources.arsc reader (LazyArsc, androguard fallback)
    apk_certs        the signing certificates (v1 to v3.1)
    apk_files        entry heads, the launcher icon, suspicious assets
    apk_dex          the DEX reader (strings, method ids, calls, compiler)
    apk_zipfix       archives only Android's lenient ZIP parser accepts

Bundles (XAPK, APKS, APKM, or any ZIP of APKs without a manifest) have their
inner ``*.apk`` entries copied to a temp dir and each one extracted as above;
the outer facts list them in :attr:`ApkFacts.inner`.

Exceptions (:mod:`scanners.apk_errors`, under :mod:`scanners.errors`)::

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

import shutil
import tempfile
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from scanners.apk_errors import (
    CHECK,
    ApkError,
    ApkParseIncomplete,
    ApkTooLargeError,
    NotAnApkError,
    ZipBombError,
)
from scanners.apk_fact_types import (
    DEX_COMPILERS,
    DEXLIB_COMPILERS,
    ICON_MAX_BYTES,
    MAX_LIST,
    SCHEMA_VERSION,
    AccessibilityConfig,
    ApkFacts,
    ApkLimits,
    AssetFact,
    Certificate,
    CodeFacts,
    Component,
    DeviceAdmin,
    DexFile,
    IconFact,
    IntentFilter,
    ZipFacts,
)
from scanners.apk_supervisor import (
    CHILD_RSS_SLACK,
    DEFAULT_CHILD_SAMPLES,
    EXIT_GRACE,
    SUPERVISOR,
    WARM_PRELOAD,
    child_samples,
)
from scanners.apk_zipcheck import inspect_zip, is_suspicious_name

__all__ = [
    "CHECK",
    "CHILD_RSS_SLACK",
    "DEFAULT_CHILD_SAMPLES",
    "DEXLIB_COMPILERS",
    "DEX_COMPILERS",
    "EXIT_GRACE",
    "ICON_MAX_BYTES",
    "MAX_INNER_APKS",
    "MAX_LIST",
    "SCHEMA_VERSION",
    "WARM_PRELOAD",
    "AccessibilityConfig",
    "ApkError",
    "ApkFacts",
    "ApkLimits",
    "ApkParseIncomplete",
    "ApkTooLargeError",
    "AssetFact",
    "Certificate",
    "CodeFacts",
    "Component",
    "DeviceAdmin",
    "DexFile",
    "IconFact",
    "IntentFilter",
    "NotAnApkError",
    "ZipBombError",
    "ZipFacts",
    "child_samples",
    "drop_spare_child",
    "extract_facts",
    "inspect_zip",
    "last_child_stats",
    "sha256_file",
    "start_worker_server",
    "wait_for_idle_child",
    "worker_starts",
]

MAX_INNER_APKS = 32
"""Most inner APKs of a bundle that are extracted."""

_DEFAULT_LIMITS = ApkLimits()


# --------------------------------------------------------------------------- the children


def start_worker_server() -> bool:
    """Start the warm fork server now (else it starts on first use); ``False`` if
    unavailable (:meth:`~scanners.apk_supervisor.ChildSupervisor.start_server`)."""
    return SUPERVISOR.start_server()


def worker_starts() -> int:
    """How many samples this process has handed to a parse child (for tests and
    metrics); a child may serve several, see ``SCAMSCAN_APK_CHILD_SAMPLES``."""
    return SUPERVISOR.worker_starts()


def last_child_stats() -> dict[str, Any]:
    """What the last parse child of this thread reported (for benchmarks and metrics);
    see :meth:`~scanners.apk_supervisor.ChildSupervisor.last_stats`."""
    return SUPERVISOR.last_stats()


def wait_for_idle_child(timeout: float = 10.0) -> bool:
    """Wait until the idle child is ready (benchmarks and tests); see
    :meth:`~scanners.apk_supervisor.ChildSupervisor.wait_for_idle_child`."""
    return SUPERVISOR.wait_for_idle_child(timeout)


def drop_spare_child() -> None:
    """End the idle pre-forked child, if any (tests, shutdown), and every child that
    has answered but not yet exited."""
    SUPERVISOR.drop_idle_child()


# --------------------------------------------------------------------------- bundles


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, hex, read in chunks."""
    import hashlib

    with path.open("rb") as fp:
        return hashlib.file_digest(fp, "sha256").hexdigest()


def _extract_bundle(path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
    errors: list[str] = []
    inner: list[ApkFacts] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        # inspect_zip read the directory leniently (a name flagged UTF-8 that is
        # not); zipfile refuses the archive: the anti-analysis answer, as for an
        # APK that androguard cannot read (apk_report.scan_apk_path).
        raise ApkError(f"the bundle's archive defeats zipfile ({type(exc).__name__}: "
                       f"{exc})"[:300], "corrupt") from exc
    with zf:
        names = [
            i
            for i in zf.infolist()
            if i.filename.lower().endswith(".apk") and not is_suspicious_name(i.filename)
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
                except (ApkError, zipfile.BadZipFile, OSError, EOFError, ValueError,
                        NotImplementedError, RuntimeError, zlib.error) as exc:
                    # zipfile's refusals of one entry (an unknown compression method or
                    # version, an encrypted entry, corrupt deflate data): that inner APK
                    # is not read; the others are.
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
    facts = SUPERVISOR.run(path, zip_facts, limits)
    return replace(facts, file_name=path.name)


def extract_facts(path: Path, *, limits: ApkLimits = _DEFAULT_LIMITS) -> ApkFacts:
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
