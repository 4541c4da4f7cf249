"""The manifest reader of the parse child: components, intent filters,
accessibility and device-admin configs, and the checks that tell a manifest
Android would read differently from ours (plain-text XML, malformed or tampered
binary XML).

Runs in the parse child only (:mod:`scanners._apk_worker`); it reads the XML
tree androguard built and resolves ``@xml/…`` references through
:class:`scanners.apk_resources.Resources`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scanners.apk_fact_types import (
    AccessibilityConfig,
    Component,
    DeviceAdmin,
    IntentFilter,
    uniq,
)
from scanners.apk_resources import Resources

NS = "{http://schemas.android.com/apk/res/android}"
COMPONENT_TAGS = ("activity", "activity-alias", "service", "receiver", "provider")
A11Y_META = "android.accessibilityservice"
ADMIN_META = "android.app.device_admin"
MAIN = "android.intent.action.MAIN"
LAUNCHER = "android.intent.category.LAUNCHER"

# AccessibilityEvent types, as named in android:accessibilityEventTypes.
EVENT_TYPES: tuple[tuple[str, int], ...] = (
    ("typeViewClicked", 0x1),
    ("typeViewLongClicked", 0x2),
    ("typeViewSelected", 0x4),
    ("typeViewFocused", 0x8),
    ("typeViewTextChanged", 0x10),
    ("typeWindowStateChanged", 0x20),
    ("typeNotificationStateChanged", 0x40),
    ("typeViewHoverEnter", 0x80),
    ("typeViewHoverExit", 0x100),
    ("typeTouchExplorationGestureStart", 0x200),
    ("typeTouchExplorationGestureEnd", 0x400),
    ("typeWindowContentChanged", 0x800),
    ("typeViewScrolled", 0x1000),
    ("typeViewTextSelectionChanged", 0x2000),
    ("typeAnnouncement", 0x4000),
    ("typeViewAccessibilityFocused", 0x8000),
    ("typeViewAccessibilityFocusCleared", 0x10000),
    ("typeViewTextTraversedAtMovementGranularity", 0x20000),
    ("typeGestureDetectionStart", 0x40000),
    ("typeGestureDetectionEnd", 0x80000),
    ("typeTouchInteractionStart", 0x100000),
    ("typeTouchInteractionEnd", 0x200000),
    ("typeWindowsChanged", 0x400000),
    ("typeContextClicked", 0x800000),
    ("typeAssistReadingContext", 0x1000000),
)
A11Y_FLAGS: tuple[tuple[str, int], ...] = (
    ("flagDefault", 0x1),
    ("flagIncludeNotImportantViews", 0x2),
    ("flagRequestTouchExplorationMode", 0x4),
    ("flagRequestEnhancedWebAccessibility", 0x8),
    ("flagReportViewIds", 0x10),
    ("flagRequestFilterKeyEvents", 0x20),
    ("flagRetrieveInteractiveWindows", 0x40),
    ("flagEnableAccessibilityVolume", 0x80),
    ("flagRequestAccessibilityButton", 0x100),
    ("flagRequestFingerprintGestures", 0x200),
    ("flagRequestShortcutWarningDialogSpokenFeedback", 0x400),
    ("flagServiceHandlesDoubleTap", 0x800),
    ("flagRequestMultiFingerGestures", 0x1000),
    ("flagRequest2FingerPassthrough", 0x2000),
    ("flagSendMotionEvents", 0x4000),
    ("flagInputMethodEditor", 0x8000),
)
FEEDBACK_TYPES: tuple[tuple[str, int], ...] = (
    ("feedbackSpoken", 0x1),
    ("feedbackHaptic", 0x2),
    ("feedbackAudible", 0x4),
    ("feedbackVisual", 0x8),
    ("feedbackGeneric", 0x10),
    ("feedbackBraille", 0x20),
)


def attr(el: Any, name: str) -> str | None:
    value = el.get(NS + name)
    if value is None:
        value = el.get(name)
    return None if value is None else str(value)


def expand(name: str | None, package: str | None) -> str | None:
    """Fully qualified class name, as PackageParser does."""
    if not name:
        return name
    if package:
        if name.startswith("."):
            return package + name
        if "." not in name:
            return f"{package}.{name}"
    return name


def as_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("true", "1", "0xffffffff", "-1"):
        return True
    if v in ("false", "0", "0x00000000"):
        return False
    return None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        v = value.strip()
        return int(v, 16) if v.lower().startswith("0x") else int(v)
    except ValueError:
        return None


def _decode_bits(
    value: str | None, table: tuple[tuple[str, int], ...], all_name: str | None = None
) -> tuple[str, ...]:
    if value is None:
        return ()
    n = _int(value)
    if n is None:  # a literal "typeA|typeB" (not compiled by aapt)
        return tuple(p.strip() for p in value.split("|") if p.strip())
    n &= 0xFFFFFFFF
    if all_name and n == 0xFFFFFFFF:
        return (all_name,)
    names = [name for name, bit in table if n & bit]
    rest = n & ~sum(bit for _, bit in table)
    if rest:
        names.append(f"0x{rest:08X}")
    return tuple(names)


def sdk_version(value: str | None) -> int | None:
    n = _int(value)
    return n


def _intent_filter(el: Any) -> IntentFilter:
    def names(tag: str) -> tuple[str, ...]:
        return uniq(v for c in el.findall(tag) if (v := attr(c, "name")))

    data = el.findall("data")

    def data_attr(name: str) -> tuple[str, ...]:
        return uniq(v for d in data if (v := attr(d, name)))

    paths = uniq(
        v for d in data for a in ("path", "pathPrefix", "pathPattern") if (v := attr(d, a))
    )
    return IntentFilter(
        actions=names("action"),
        categories=names("category"),
        schemes=data_attr("scheme"),
        hosts=data_attr("host"),
        paths=paths,
        mime_types=data_attr("mimeType"),
        priority=_int(attr(el, "priority")),
    )


def components(app: Any, package: str | None, target_sdk: int | None) -> list[Component]:
    out: list[Component] = []
    for el in app:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag not in COMPONENT_TAGS:
            continue
        name = expand(attr(el, "name"), package) or ""
        filters = tuple(_intent_filter(f) for f in el.findall("intent-filter"))
        exported = as_bool(attr(el, "exported"))
        if exported is not None:
            effective = exported
        elif tag == "provider":
            effective = target_sdk is None or target_sdk < 17
        else:
            effective = bool(filters)
        meta = tuple(
            (attr(m, "name") or "", attr(m, "resource") or attr(m, "value") or "")
            for m in el.findall("meta-data")
        )
        out.append(
            Component(
                kind=tag,
                name=name,
                exported=exported,
                effective_exported=effective,
                enabled=as_bool(attr(el, "enabled")) is not False,
                permission=attr(el, "permission"),
                intent_filters=filters,
                target_activity=expand(attr(el, "targetActivity"), package),
                meta_data=meta,
                authorities=attr(el, "authorities"),
            )
        )
    return out


def _meta_xml(
    comps: list[Component], kind: str, meta: str, res: Resources
) -> Iterator[tuple[Component, str, str, Any, str | None]]:
    """``(component, config qualifier, path, parsed root, error)`` for every resource
    variant of the ``meta`` meta-data XML of the ``kind`` components; an
    unresolved reference gives one row with an empty path and the error."""
    for comp in comps:
        if comp.kind != kind:
            continue
        for meta_name, ref in comp.meta_data:
            if meta_name != meta or not ref:
                continue
            variants = res.files(ref)
            if not variants:
                yield comp, "", "", None, f"unresolved {ref}"
            for qual, path in variants:
                try:
                    root = res.xml(path)
                except Exception as exc:
                    yield comp, qual, path, None, f"{type(exc).__name__}: {exc}"[:200]
                    continue
                yield comp, qual, path, root, None


def accessibility_configs(
    comps: list[Component], res: Resources, errors: list[str]
) -> list[AccessibilityConfig]:
    out: list[AccessibilityConfig] = []
    for comp, qual, path, root, error in _meta_xml(comps, "service", A11Y_META, res):
        if error is not None:
            out.append(AccessibilityConfig(comp.name, path, qual, error=error))
            continue
        pkgs = attr(root, "packageNames")
        out.append(
            AccessibilityConfig(
                service=comp.name,
                path=path,
                config=qual,
                can_retrieve_window_content=as_bool(attr(root, "canRetrieveWindowContent")),
                can_perform_gestures=as_bool(attr(root, "canPerformGestures")),
                can_request_filter_key_events=as_bool(attr(root, "canRequestFilterKeyEvents")),
                event_types=_decode_bits(
                    attr(root, "accessibilityEventTypes"), EVENT_TYPES, "typeAllMask"
                ),
                flags=_decode_bits(attr(root, "accessibilityFlags"), A11Y_FLAGS),
                feedback_types=_decode_bits(
                    attr(root, "accessibilityFeedbackType"), FEEDBACK_TYPES, "feedbackAllMask",
                ),
                package_names=uniq(p.strip() for p in (pkgs or "").split(",") if p),
                notification_timeout=_int(attr(root, "notificationTimeout")),
                description=res.string(attr(root, "description")),
                settings_activity=attr(root, "settingsActivity"),
            )
        )
    return out


def device_admin_configs(comps: list[Component], res: Resources) -> list[DeviceAdmin]:
    out: list[DeviceAdmin] = []
    for comp, qual, path, root, error in _meta_xml(comps, "receiver", ADMIN_META, res):
        if error is not None:
            out.append(DeviceAdmin(comp.name, path, qual, error=error))
            continue
        policies = [
            str(p.tag)
            for up in root.iter("uses-policies")
            for p in up
            if isinstance(p.tag, str)
        ]
        out.append(DeviceAdmin(comp.name, path, qual, uniq(policies)))
    return out



_TEXT_XML = re.compile(rb"^(\xef\xbb\xbf)?\s*<")


def parse_manifest(apk: Any) -> tuple[str, str] | None:
    """Parse ``AndroidManifest.xml`` into ``apk`` (an androguard ``APK`` made with
    ``skip_analysis=True``) as its own analysis would, minus two costs.

    androguard's ``APK._apk_analysis`` also loads its AOSP permission tables (two
    JSON files, decoded on every call: more than half of an ``APK()`` of a small
    app) and resolves the labels of declared permissions (which parses the whole
    ``resources.arsc``). Nothing here reads either: permissions come from the
    manifest tree and strings from :class:`LazyArsc`.

    Returns ``(problem, reason)`` when the manifest is one that Android's parser
    and ours would treat differently (``text-xml``, ``malformed-axml``: not read;
    ``tampered-axml``: read, but built against strict parsers), else ``None``.
    """
    from androguard.core.axml import AXMLPrinter

    name = "AndroidManifest.xml"
    try:
        raw = apk.zip.read(name)
    except KeyError:
        return None
    if _TEXT_XML.match(raw[:256]):
        # Android installs only binary XML manifests; a text one is for tools that
        # read either (or a lure for the analyst), never for a phone.
        return ("text-xml", "AndroidManifest.xml is plain-text XML, which Android refuses "
                "to install; the manifest was not read")
    printer = AXMLPrinter(raw)
    if not printer.is_valid():
        return ("malformed-axml", f"AndroidManifest.xml is malformed binary XML ({len(raw)} "
                "bytes: truncated or broken chunks); the manifest was not read")
    apk.axml[name] = printer
    xml = apk.xml[name] = printer.get_xml_obj()
    if xml is None or xml.tag != "manifest":
        return ("malformed-axml", "AndroidManifest.xml has no <manifest> root element; "
                "the manifest was not read")
    apk.package = xml.get("package") or ""
    apk.valid_apk = True
    if printer.axml.axml_tampered:
        # Android's parser tolerates these (wrong chunk type, bytes after the declared
        # size); tools that follow the format strictly stop or read something else.
        return ("tampered-axml", "AndroidManifest.xml has a wrong chunk type or data past "
                "its declared size, a trick against analysis tools that Android tolerates")
    if printer.is_packed():
        # androguard's packer warning: names or values that no build tool writes
        # (an attribute name that is not its resource id's, null bytes, invalid XML
        # characters), which Android reads by resource id and tools by name.
        return ("tampered-axml", "AndroidManifest.xml has attribute names or values that "
                "no build tool writes (androguard's packer warning)")
    return None
