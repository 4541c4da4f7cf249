"""One APK's bytes to :class:`~scanners.apk_fact_types.ApkFacts`: the parse
itself, run in the parse child (:mod:`scanners._apk_worker`).

The manifest stage (manifest, resources, signatures, the file list: reported
at once through ``emit("partial", …)``), then the content stage (asset heads,
DEX tables). The readers have a module each: :mod:`scanners.apk_manifest`,
:mod:`scanners.apk_resources`, :mod:`scanners.apk_certs`,
:mod:`scanners.apk_files`, :mod:`scanners.apk_dex`; an archive that only
Android's lenient parser accepts is read through :mod:`scanners.apk_zipfix`.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from scanners import apk_zipfix
from scanners.apk_certs import certificates
from scanners.apk_dex import DEX_NAME_RE, code_facts
from scanners.apk_fact_types import ApkFacts, ApkLimits, Component, ZipFacts, uniq
from scanners.apk_files import EntryHeads, entry_sizes, launcher_icon, suspicious_assets
from scanners.apk_manifest import (
    LAUNCHER,
    MAIN,
    accessibility_configs,
    as_bool,
    attr,
    components,
    device_admin_configs,
    expand,
    parse_manifest,
    sdk_version,
)
from scanners.apk_resources import Resources


def emit_line(status: str, **data: Any) -> None:
    """A message of the cold child: one JSON line on stdout."""
    sys.stdout.write(json.dumps({"status": status, **data}, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def extract(path: str, limits: ApkLimits, zip_facts: ZipFacts,
            emit: Callable[..., None] = emit_line, *, data: bytes | None = None) -> ApkFacts:
    """The facts of the APK at ``path`` (or ``data``). An archive whose headers only
    Android's lenient parser accepts is read as Android reads it
    (:mod:`scanners.apk_zipfix`); what had to be overlooked is in
    ``archive_repairs``."""
    if data is None:
        with open(path, "rb") as fp:
            data = fp.read()
    # The cheap fixes (header fields) first, always: they change nothing in a
    # well-formed archive. CRC fixes need every entry inflated: only on failure.
    fixed, changes = apk_zipfix.repair(data, crc=False)
    try:
        return _extract(limits, zip_facts, emit, data, fixed, changes)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError):
        again, more = apk_zipfix.repair(data, crc=True)
        if not more or again == fixed:
            raise
        return _extract(limits, zip_facts, emit, data, again, more)


def _extract(limits: ApkLimits, zip_facts: ZipFacts, emit: Callable[..., None],
             original: bytes, data: bytes, repairs: list[str]) -> ApkFacts:
    from androguard.core.apk import APK

    errors: list[str] = []
    warnings: list[str] = []
    apk = APK(data, raw=True, skip_analysis=True)
    problem = parse_manifest(apk)
    # androguard hashed the raw bytes already: a second pass costs 2 ms per MB.
    sha = getattr(apk, "_sha256", None)
    if repairs or not (isinstance(sha, str) and len(sha) == 64):
        sha = hashlib.sha256(original).hexdigest()  # the file as given, not as read
    sizes = entry_sizes(apk)
    # The same names, in the same order, as apk.get_files(), which first turns every
    # central-directory entry into a dict (a third of a 1,000-entry APK's parse).
    files = [str(f) for f in sizes] or [str(f) for f in apk.get_files()]
    if zip_facts.suspicious_names:
        warnings.append(f"path-traversal or odd entry names: {len(zip_facts.suspicious_names)}")

    manifest = apk.get_android_manifest_xml()
    package: str | None = None
    facts = ApkFacts(sha256=sha, size=len(original), zip=zip_facts,
                     manifest_problem=problem[0] if problem else None,
                     archive_repairs=tuple(repairs))
    if problem is not None:
        errors.append(problem[1])
    comps: list[Component] = []
    res = Resources(apk, None, errors, files)
    heads = EntryHeads(data, apk)
    if manifest is None:
        if problem is None:
            errors.append("AndroidManifest.xml could not be parsed")
        warnings.append("manifest-unparseable")
    else:
        package = manifest.get("package") or None
        res.package = package
        uses_sdk = manifest.find("uses-sdk")
        has_sdk = uses_sdk is not None
        min_sdk = sdk_version(attr(uses_sdk, "minSdkVersion")) if has_sdk else None
        target_sdk = sdk_version(attr(uses_sdk, "targetSdkVersion")) if has_sdk else None
        perms = uniq(
            v
            for tag in ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m")
            for el in manifest.findall(tag)
            if (v := attr(el, "name"))
        )
        declared = uniq(v for el in manifest.findall("permission") if (v := attr(el, "name")))
        app = manifest.find("application")
        app_class = None
        debuggable = None
        label = None
        icon_ref = None
        if app is not None:
            comps = components(app, package, target_sdk)
            app_class = expand(attr(app, "name"), package)
            debuggable = as_bool(attr(app, "debuggable"))
            label = res.string(attr(app, "label"))
            icon_ref = attr(app, "icon")
        candidates = [
            c for c in comps
            if c.kind in ("activity", "activity-alias")
            and any(MAIN in f.actions and LAUNCHER in f.categories for f in c.intent_filters)
        ]
        launcher = next((c for c in candidates if c.enabled), None)
        if (not label or not icon_ref) and launcher is not None:
            el = next(
                (e for e in (app if app is not None else ())
                 if expand(attr(e, "name"), package) == launcher.name),
                None,
            )
            if el is not None:
                label = label or res.string(attr(el, "label"))
                icon_ref = icon_ref or attr(el, "icon")
        facts = replace(
            facts,
            package=package,
            label=label,
            icon=launcher_icon(icon_ref, res, files, sizes, heads),
            version_code=attr(manifest, "versionCode"),
            version_name=res.string(attr(manifest, "versionName")),
            min_sdk=min_sdk,
            target_sdk=target_sdk,
            split=manifest.get("split") or None,
            permissions=perms,
            declared_permissions=declared,
            application_class=app_class,
            debuggable=debuggable,
            components=tuple(comps),
            launcher_activity=launcher.name if launcher else None,
            launcher_candidates=tuple(c.name for c in candidates),
        )
        facts = replace(
            facts,
            accessibility=tuple(accessibility_configs(comps, res, errors)),
            device_admins=tuple(device_admin_configs(comps, res)),
        )
    certs, schemes = certificates(apk, files, errors)
    native = uniq((f for f in files if f.lower().endswith(".so")), 5000)
    facts = replace(
        facts,
        signed=bool(certs),
        signature_schemes=tuple(schemes),
        certificates=tuple(certs),
        files=tuple(files),
        native_libs=native,
        errors=tuple(errors),
        warnings=tuple(warnings),
    )
    if not limits.code_stage:
        # The "done" message follows at once: a "partial" copy would only be
        # serialised, sent and decoded for nothing.
        return facts
    emit("partial", facts=facts.to_dict())
    # The content stage: what the files hold rather than what the manifest and
    # the signature say. Asset heads (inflated, entropy counted: 2 to 4 ms per
    # 64 KiB) first, then the DEX tables.
    facts = replace(facts, suspicious_assets=tuple(suspicious_assets(files, sizes, heads)))
    dex_names = sorted(
        (f for f in files if DEX_NAME_RE.match(f)),
        key=lambda n: (len(n), n),
    )
    code = code_facts(apk, dex_names, limits)
    return replace(facts, code=code, errors=tuple(errors), warnings=tuple(warnings))
