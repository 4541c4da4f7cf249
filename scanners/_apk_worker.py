"""The parse child of :mod:`scanners.apk_facts`: androguard runs here only.

Forked from the warm server of :mod:`scanners.apk_facts` (entry point
:func:`forked_main`, messages over a pipe) or, on the cold path, started as
``python -I -c …`` with a JSON request on stdin (``path``, ``limits``, ``zip``). It sets its own
resource limits first (address space, CPU time, no file writes, no core
dumps), silences loguru, parses the APK and prints JSON lines on stdout:

* ``{"status": "partial", "facts": …}`` after the manifest stage;
* ``{"status": "done", "facts": …}`` at the end;
* ``{"status": "refused", "kind": …, "reason": …}`` when androguard cannot
  open the file at all;
* ``{"status": "error", "kind": "memory" | "internal", "reason": …, "facts": …}``.

Nothing from the sample is executed; nothing is written to disk
(``RLIMIT_FSIZE`` is 0).

Resources: the label and the ``@xml/…`` references (accessibility and
device-admin configs) are resolved by :class:`LazyArsc`, which walks the
``resources.arsc`` chunk headers and reads only the entries asked for
(androguard's full ``ARSCParser`` is the fallback, see :class:`Resources`).
Each DEX file's writer (smali/apktool's dexlib, dx, d8/r8) is told from its
layout by :func:`dex_compiler`.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import itertools
import json
import math
import os
import re
import resource
import signal
import struct
import sys
import tempfile
import time as _time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import orjson

from scanners import apk_zipfix
from scanners.apk_facts import (
    ICON_MAX_BYTES,
    MAX_LIST,
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

# (framework class descriptor, method name) -> call name.
API_CALLS: dict[tuple[str, str], str] = {}
for _cls, _short, _methods in (
    ("Landroid/telephony/SmsManager;", "SmsManager",
     ("sendTextMessage", "sendMultipartTextMessage", "sendDataMessage")),
    ("Landroid/telephony/gsm/SmsManager;", "SmsManager",
     ("sendTextMessage", "sendMultipartTextMessage", "sendDataMessage")),
    ("Landroid/accessibilityservice/AccessibilityService;", "AccessibilityService",
     ("dispatchGesture", "performGlobalAction", "getRootInActiveWindow", "takeScreenshot")),
    ("Landroid/view/accessibility/AccessibilityNodeInfo;", "AccessibilityNodeInfo",
     ("performAction",)),
    ("Landroid/media/projection/MediaProjectionManager;", "MediaProjectionManager",
     ("createScreenCaptureIntent", "getMediaProjection")),
    ("Landroid/media/projection/MediaProjection;", "MediaProjection",
     ("createVirtualDisplay",)),
    ("Landroid/app/admin/DevicePolicyManager;", "DevicePolicyManager",
     ("lockNow", "wipeData", "resetPassword", "resetPasswordWithToken", "setCameraDisabled",
      "setKeyguardDisabledFeatures", "isAdminActive", "setPasswordQuality")),
    ("Landroid/content/pm/PackageInstaller;", "PackageInstaller",
     ("createSession", "openSession")),
    ("Landroid/content/pm/PackageInstaller$Session;", "PackageInstaller.Session",
     ("openWrite", "commit")),
    ("Ldalvik/system/DexClassLoader;", "DexClassLoader", ("<init>",)),
    ("Ldalvik/system/InMemoryDexClassLoader;", "InMemoryDexClassLoader", ("<init>",)),
    ("Ldalvik/system/PathClassLoader;", "PathClassLoader", ("<init>",)),
    ("Ljava/lang/System;", "System", ("loadLibrary", "load")),
    ("Ljava/lang/Runtime;", "Runtime", ("exec",)),
):
    for _m in _methods:
        API_CALLS[(_cls, _m)] = f"{_short}.{_m}"
FRAMEWORK_CLASSES = frozenset(c for c, _ in API_CALLS)
API_METHOD_NAMES = frozenset(m for _, m in API_CALLS)
INVOKE_OPS = frozenset([*range(0x6E, 0x73), *range(0x74, 0x79)])

URL_RE = re.compile(r"(?i)\b(?:https?|wss?|ftp)://[^\s\"'<>\\^`{|}]{1,2000}")
IP_RE = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?(?:/.*)?$")
HOST_RE = re.compile(r"(?i)^(?:https?|wss?|ftp)://(?:[^@/]*@)?([^/:?#]+)")
TG_TOKEN_RE = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,40}\b")
FIREBASE_RE = re.compile(
    r"(?i)\b[a-z0-9][a-z0-9-]*\.(?:firebaseio\.com|firebaseapp\.com|firebasedatabase\.app)\b"
    r"|\b[a-z0-9][a-z0-9.-]*\.appspot\.com\b|firebasestorage\.googleapis\.com"
)
MEDIA_EXT = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp3", ".mp4", ".ogg", ".wav",
             ".ttf", ".otf", ".woff", ".woff2", ".m4a", ".aac", ".webm", ".gz", ".br")
DEX_NAME_RE = re.compile(r"^classes\d*\.dex$")


class CodeTimeout(Exception):
    """The code stage ran out of its wall time."""


def _emit(status: str, **data: Any) -> None:
    sys.stdout.write(json.dumps({"status": status, **data}, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def set_limits(limits: ApkLimits, samples_left: int = 1) -> None:
    """Address space, CPU seconds, no core dumps.

    The CPU limit counts from what this process has used so far (a child that
    serves several samples gets the budget anew for each); its hard limit leaves
    room for ``samples_left`` samples, as a hard limit can be lowered but not
    raised again."""
    mem = int(limits.memory)
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    budget = max(1, math.ceil(limits.parse_timeout) + 5)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    want_hard = used + budget * max(1, samples_left) + 5
    if hard == resource.RLIM_INFINITY or hard > want_hard:
        hard = want_hard
    resource.setrlimit(resource.RLIMIT_CPU, (min(used + budget, hard), hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def forbid_writes() -> None:
    """No file writes from here on (androguard probes the temp dir at import)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


# --------------------------------------------------------------------------- helpers


def _attr(el: Any, name: str) -> str | None:
    value = el.get(NS + name)
    if value is None:
        value = el.get(name)
    return None if value is None else str(value)


def _expand(name: str | None, package: str | None) -> str | None:
    """Fully qualified class name, as PackageParser does."""
    if not name:
        return name
    if package:
        if name.startswith("."):
            return package + name
        if "." not in name:
            return f"{package}.{name}"
    return name


def _bool(value: str | None) -> bool | None:
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


def _sdk(value: str | None) -> int | None:
    n = _int(value)
    return n


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = Counter(data)
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


def _uniq(items: Iterable[str], limit: int = MAX_LIST) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for item in items:
        if len(out) >= limit:
            break
        out.setdefault(item, None)
    return tuple(out)


# --------------------------------------------------------------------------- resources


class ArscFallback(Exception):
    """The lazy reader met a layout it does not mimic: use androguard's full parse."""


_RES_STRING_POOL, _RES_TABLE, _RES_PACKAGE, _RES_TYPE = 0x0001, 0x0002, 0x0200, 0x0201
_TYPE_REFERENCE = 0x01
_ENTRY_COMPLEX, _ENTRY_COMPACT = 0x1, 0x8
_TYPE_SPARSE, _TYPE_OFFSET16 = 0x1, 0x2
_MAX_REFERENCE_DEPTH = 32
_MAX_CHUNKS = 200_000


def _config_bytes(size: int) -> int:
    """Bytes of a ``ResTable_config`` of declared ``size`` that androguard consumes."""
    used = 16
    for need, upto in ((20, 20), (24, 24), (28, 28), (32, 32), (36, 36), (40, 40),
                       (44, 48), (52, 52)):
        if size >= need:
            used = upto
    return max(used, size)


class LazyArsc:
    """Resolves a few resource ids of a ``resources.arsc`` without parsing all of it.

    The constructor walks the chunk headers only (table, global string pool,
    packages, type chunks) and remembers, per type, where each type chunk's
    config and entry offsets are. :meth:`resolve` then reads the entries of one
    id in every config, following references, with the same semantics as
    androguard's ``ARSCParser.get_resolved_res_configs`` (config selection and
    fallback, the string pool's decoding, value formatting). The global string
    pool is read lazily: its offset table is indexed on demand and a string is
    decoded when asked for. Any layout this reader does not mimic exactly (dummy
    bytes between chunks, odd headers) raises :class:`ArscFallback`: the caller
    then uses androguard's full parse.
    """

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        n = len(raw)
        if n < 8 or n > 0xFFFFFFFF:
            raise ArscFallback("size")
        typ, hsz, size = self._chunk(0)
        if typ != _RES_TABLE or size > n:
            raise ArscFallback("table header")
        if hsz < 12:
            raise ArscFallback("table header size")
        (pkg_count,) = struct.unpack_from("<I", raw, 8)
        self._pool: tuple[int, ...] | None = None
        self._cache: dict[int, str] = {}
        groups: dict[str, list[tuple[int, ...]]] = {}
        pool_at: int | None = None
        pos, end, chunks = hsz, size, 0
        while pos <= end - 8:
            ctyp, chsz, csize = self._chunk(pos)
            cend = pos + csize
            if cend > end:
                break
            chunks += 1
            if ctyp == _RES_STRING_POOL:
                if pool_at is None:
                    pool_at = pos
            elif ctyp == _RES_PACKAGE:
                if len(groups) > pkg_count:
                    raise ArscFallback("package count")
                chunks += self._package(pos, chsz, cend, groups)
            if chunks > _MAX_CHUNKS:
                raise ArscFallback("too many chunks")
            pos = cend
        self._pool_at = pool_at
        by_type: dict[int, list[tuple[int, ...]]] = {}
        for descs in groups.values():
            for d in descs:
                by_type.setdefault(d[0], []).append(d)
        self._by_type = by_type

    def _chunk(self, pos: int) -> tuple[int, int, int]:
        if pos < 0 or pos + 8 > len(self.raw):
            raise ArscFallback("chunk past the end")
        typ, hsz, size = struct.unpack_from("<HHI", self.raw, pos)
        if hsz < 8 or size < hsz:
            raise ArscFallback("odd chunk header")  # androguard skips bytes here
        return typ, hsz, size

    def _package(self, start: int, hsz: int, end: int,
                 groups: dict[str, list[tuple[int, ...]]]) -> int:
        raw = self.raw
        if start + 288 > len(raw):
            raise ArscFallback("package header")
        (pid,) = struct.unpack_from("<I", raw, start + 8)
        name = raw[start + 12 : start + 268].decode("utf-16", "replace")
        name = name[: name.find("\x00")]
        (type_strings,) = struct.unpack_from("<I", raw, start + 268)
        (key_strings,) = struct.unpack_from("<I", raw, start + 276)
        t_typ, _h, t_size = self._chunk(start + type_strings)
        k_typ, _h, k_size = self._chunk(start + key_strings)
        if t_typ != _RES_STRING_POOL or k_typ != _RES_STRING_POOL:
            raise ArscFallback("package string pools")
        descs = groups.setdefault(name, [])
        base = ((pid << 24) & 0xFF000000)
        pos = start + hsz + t_size + k_size
        n = 0
        while pos <= end - 8:
            ctyp, _chsz, csize = self._chunk(pos)
            if pos + csize > end:
                break
            n += 1
            if ctyp == _RES_TYPE:
                if pos + 24 > len(raw):
                    raise ArscFallback("type chunk")
                tid, flags = raw[pos + 8], raw[pos + 9]
                count, entries_start, cfg_size = struct.unpack_from("<III", raw, pos + 12)
                used = _config_bytes(cfg_size)
                descs.append((
                    (base | tid << 16) >> 16, pos, flags, count, pos + entries_start,
                    pos + 20, used, pos + 20 + used, pos + csize,
                ))
            pos += csize
        return n

    # -- the global string pool, read lazily -----------------------------------

    def _pool_header(self) -> tuple[int, ...]:
        if self._pool is None:
            raw = self.raw
            at = self._pool_at
            if at is None:
                self._pool = (0, 0, 0, 0, 0)
                return self._pool
            _t, _h, size = self._chunk(at)
            count, styles, flags, strings_off, styles_off = struct.unpack_from(
                "<IIIII", raw, at + 8
            )
            if (strings_off - (styles * 4 + 28)) / 4 != count:
                count = int((strings_off - (styles * 4 + 28)) / 4)
            count = max(count, 0)
            offsets_at = at + 28
            buf_at = offsets_at + 4 * count + 4 * styles
            buf_len = size - strings_off
            if styles_off != 0 and styles != 0:
                buf_len = styles_off - strings_off
            buf_end = len(raw) if buf_len < 0 else min(len(raw), buf_at + buf_len)
            self._pool = (count, offsets_at, buf_at, buf_end, int(bool(flags & (1 << 8))))
        return self._pool

    def string(self, idx: int) -> str:
        """``StringBlock.getString`` of the global pool, decoding one string."""
        if idx in self._cache:
            return self._cache[idx]
        count, offsets_at, buf_at, buf_end, utf8 = self._pool_header()
        if idx < 0 or count == 0 or idx >= count:
            return ""
        (offset,) = struct.unpack_from("<I", self.raw, offsets_at + 4 * idx)
        buf = memoryview(self.raw)[buf_at:buf_end]
        text = self._decode8(buf, offset) if utf8 else self._decode16(buf, offset)
        self._cache[idx] = text
        return text

    @staticmethod
    def _length(buf: memoryview, offset: int, char: int) -> tuple[int, int]:
        fmt = "<2B" if char == 1 else "<2H"
        high = 0x80 << (8 * (char - 1))
        first, second = struct.unpack(fmt, buf[offset : offset + 2 * char])
        if first & high:
            length, skip = ((first & ~high) << (8 * char)) | second, 2 * char
        else:
            length, skip = first, char
        if length > (0x7FFF if char == 1 else 0x7FFFFFFF):
            raise ValueError("string length too large")
        return length, skip

    def _decode8(self, buf: memoryview, offset: int) -> str:
        _chars, skip = self._length(buf, offset, 1)
        offset += skip
        nbytes, skip = self._length(buf, offset, 1)
        offset += skip
        if len(buf) < offset + nbytes:
            return ""
        if buf[offset + nbytes] != 0:
            return ""
        return bytes(buf[offset : offset + nbytes]).decode("utf-8", "replace")

    def _decode16(self, buf: memoryview, offset: int) -> str:
        chars, skip = self._length(buf, offset, 2)
        offset += skip
        nbytes = chars * 2
        if len(buf) < offset + nbytes:
            return ""
        if bytes(buf[offset + nbytes : offset + nbytes + 2]) != b"\x00\x00":
            raise ValueError("UTF-16 string is not null terminated")
        return bytes(buf[offset : offset + nbytes]).decode("utf-16", "replace")

    # -- entries --------------------------------------------------------------

    def _entry_offset(self, d: tuple[int, ...], idx: int) -> int | None:
        _t, _pos, flags, count, _es, _cfg, _used, offsets_at, _end = d
        raw = self.raw
        if flags & _TYPE_SPARSE:
            found = None
            table = raw[offsets_at : offsets_at + 4 * count]
            if len(table) < 4 * count:
                raise ArscFallback("sparse table past the end")
            for e_idx, off in struct.iter_unpack("<HH", table):
                if e_idx == idx:
                    found = off * 4  # the last one wins, as in androguard
            return found
        if idx >= count:
            return None
        if flags & _TYPE_OFFSET16:
            (off16,) = struct.unpack_from("<H", raw, offsets_at + 2 * idx)
            return None if off16 == 0xFFFF else off16 * 4
        (off,) = struct.unpack_from("<I", raw, offsets_at + 4 * idx)
        return None if off == 0xFFFFFFFF else off

    def _configs(self, rid: int) -> dict[tuple[int, ...], tuple[Any, int]]:
        """``{config tuple: (first config object, last entry position)}``, in order."""
        axml = importlib.import_module("androguard.core.axml")
        out: dict[tuple[int, ...], tuple[Any, int]] = {}
        idx = rid & 0xFFFF
        for d in self._by_type.get(rid >> 16, ()):
            off = self._entry_offset(d, idx)
            if off is None:
                continue
            cfg_at, used = d[5], d[6]
            cfg_raw = self.raw[cfg_at : cfg_at + used]
            if len(cfg_raw) < used:
                raise ArscFallback("config past the end")
            cfg = axml.ARSCResTableConfig(io.BytesIO(cfg_raw))
            key = cfg._get_tuple()
            entry = d[4] + off
            if entry + 16 > len(self.raw):
                raise ArscFallback("entry past the end")
            first = out.get(key)
            out[key] = (first[0] if first else cfg, entry)
        return out

    def resolve(self, rid: int, config: Any = None, _depth: int = 0) -> list[tuple[Any, Any]]:
        """``ARSCParser.get_resolved_res_configs(rid, config)``, lazily.

        ``config``: ``None`` for every configuration, or androguard's default
        ``ARSCResTableConfig`` (the only one the worker asks for).
        """
        if _depth > _MAX_REFERENCE_DEPTH:
            raise ValueError("resource reference loop")
        if not rid:
            raise ValueError("'rid' should be set")
        options = self._configs(rid)
        if not options:
            return []
        items = list(options.values())
        if len(options) > 1 and config is not None:
            want = config._get_tuple()
            if want in options:
                chosen = [(config, options[want][1])]
            elif not any(want):  # the default config: androguard's fallback
                chosen = [items[0]]
            else:
                return []
        else:
            chosen = items
        result: list[tuple[Any, Any]] = []
        for cfg, entry in chosen:
            self._put(result, rid, cfg, entry, config, _depth)
        return result

    def _put(self, result: list[tuple[Any, Any]], rid: int, cfg: Any, entry: int,
             config: Any, depth: int) -> None:
        axml = importlib.import_module("androguard.core.axml")
        _size, flags, index = struct.unpack_from("<HHI", self.raw, entry)
        if flags & _ENTRY_COMPLEX:
            result.append((cfg, []))  # a style or array: never a label or a path
            return
        if flags & _ENTRY_COMPACT:
            result.append((cfg, self.string(index)))
            return
        _vsize, _res0, dtype, data = struct.unpack_from("<HBBI", self.raw, entry + 8)
        if dtype == _TYPE_REFERENCE:
            if data and data != rid:
                result.extend(self.resolve(data, config, depth + 1))
            return
        result.append((cfg, axml.format_value(dtype, data, self.string)))


class Resources:
    """String and file-path resolution: :class:`LazyArsc` first, androguard's
    full ``ARSCParser`` when the lazy reader cannot (same answers, see the test
    that compares them)."""

    def __init__(self, apk: Any, package: str | None, errors: list[str],
                 files: Iterable[str] | None = None) -> None:
        self.apk = apk
        # androguard lists the ZIP anew on every get_files(): ask once.
        self._files = frozenset(files) if files is not None else None
        self.package = package
        self.errors = errors
        self._arsc: Any = None
        self._loaded = False
        self._lazy: LazyArsc | None = None
        self._lazy_loaded = False
        self.lazy_failures = 0
        """How many look-ups went to androguard's full parse (for tests)."""

    def arsc(self) -> Any:
        if not self._loaded:
            self._loaded = True
            try:
                self._arsc = self.apk.get_android_resources()
            except Exception as exc:
                self.errors.append(f"resources.arsc: {type(exc).__name__}: {exc}"[:300])
        return self._arsc

    def lazy(self) -> LazyArsc | None:
        if not self._lazy_loaded:
            self._lazy_loaded = True
            try:
                files = self._files if self._files is not None else self.apk.get_files()
                if "resources.arsc" in files:
                    self._lazy = LazyArsc(bytes(self.apk.get_file("resources.arsc")))
            except MemoryError:
                raise
            except Exception:
                self._lazy = None
                self.lazy_failures += 1
        return self._lazy

    def _lazy_resolve(self, rid: int, config: Any) -> list[tuple[Any, Any]] | None:
        """Lazy answer, or ``None``: ask androguard (which may fail the same way)."""
        lazy = self.lazy()
        if lazy is None:
            return None
        try:
            return lazy.resolve(rid, config)
        except MemoryError:
            raise
        except Exception:
            self.lazy_failures += 1
            return None

    def _rid(self, value: str) -> int | None:
        if not value.startswith("@") or value.startswith("@android:"):
            return None
        try:
            arsc_mod = importlib.import_module("androguard.core.axml")
            rid, _pkg = arsc_mod.ARSCParser.parse_id(value)
            return int(rid)
        except (ValueError, TypeError):
            return None

    def string(self, value: str | None) -> str | None:
        if value is None or not value.startswith("@"):
            return value
        rid = self._rid(value)
        if rid is None:
            return value
        axml = importlib.import_module("androguard.core.axml")
        default = axml.ARSCResTableConfig.default_config()
        if rid:
            configs = self._lazy_resolve(rid, default)
            if configs is not None:
                if not configs:
                    configs = self._lazy_resolve(rid, None)
                if configs is not None:
                    for _cfg, text in configs:
                        if isinstance(text, str):
                            return text
                    return value
        arsc = self.arsc()
        if arsc is None:
            return value
        try:
            configs = arsc.get_resolved_res_configs(rid, default)
            if not configs:
                configs = arsc.get_resolved_res_configs(rid)
            for _cfg, text in configs:
                if isinstance(text, str):
                    return text
        except Exception as exc:
            self.errors.append(f"resource {value}: {type(exc).__name__}: {exc}"[:300])
        return value

    def files(self, value: str) -> list[tuple[str, str]]:
        """``(config qualifier, path)`` of every variant of an ``@xml/…`` reference."""
        if value.startswith("res/"):
            return [("", value)]
        rid = self._rid(value)
        if rid is None:
            return []
        configs = self._lazy_resolve(rid, None) if rid else None
        if configs is None:
            arsc = self.arsc()
            if arsc is None:
                return []
            try:
                configs = arsc.get_resolved_res_configs(rid)
            except Exception as exc:
                self.errors.append(f"resource {value}: {type(exc).__name__}: {exc}"[:300])
                return []
        out: list[tuple[str, str]] = []
        for cfg, path in configs:
            if isinstance(path, str):
                try:
                    qual = str(cfg.get_qualifier())
                except Exception:
                    qual = ""
                out.append((qual, path))
        return sorted(set(out), key=lambda p: p[1])

    def xml(self, path: str) -> Any:
        axml = importlib.import_module("androguard.core.axml")
        printer = axml.AXMLPrinter(self.apk.get_file(path))
        if not printer.is_valid():
            raise ValueError("not a valid binary XML file")
        root = printer.get_xml_obj()
        if root is None:
            raise ValueError("empty XML")
        return root


# --------------------------------------------------------------------------- manifest


def _intent_filter(el: Any) -> IntentFilter:
    def names(tag: str) -> tuple[str, ...]:
        return _uniq(v for c in el.findall(tag) if (v := _attr(c, "name")))

    data = el.findall("data")

    def data_attr(name: str) -> tuple[str, ...]:
        return _uniq(v for d in data if (v := _attr(d, name)))

    paths = _uniq(
        v for d in data for a in ("path", "pathPrefix", "pathPattern") if (v := _attr(d, a))
    )
    return IntentFilter(
        actions=names("action"),
        categories=names("category"),
        schemes=data_attr("scheme"),
        hosts=data_attr("host"),
        paths=paths,
        mime_types=data_attr("mimeType"),
        priority=_int(_attr(el, "priority")),
    )


def _components(app: Any, package: str | None, target_sdk: int | None) -> list[Component]:
    out: list[Component] = []
    for el in app:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag not in COMPONENT_TAGS:
            continue
        name = _expand(_attr(el, "name"), package) or ""
        filters = tuple(_intent_filter(f) for f in el.findall("intent-filter"))
        exported = _bool(_attr(el, "exported"))
        if exported is not None:
            effective = exported
        elif tag == "provider":
            effective = target_sdk is None or target_sdk < 17
        else:
            effective = bool(filters)
        meta = tuple(
            (_attr(m, "name") or "", _attr(m, "resource") or _attr(m, "value") or "")
            for m in el.findall("meta-data")
        )
        out.append(
            Component(
                kind=tag,
                name=name,
                exported=exported,
                effective_exported=effective,
                enabled=_bool(_attr(el, "enabled")) is not False,
                permission=_attr(el, "permission"),
                intent_filters=filters,
                target_activity=_expand(_attr(el, "targetActivity"), package),
                meta_data=meta,
                authorities=_attr(el, "authorities"),
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


def _accessibility(
    comps: list[Component], res: Resources, errors: list[str]
) -> list[AccessibilityConfig]:
    out: list[AccessibilityConfig] = []
    for comp, qual, path, root, error in _meta_xml(comps, "service", A11Y_META, res):
        if error is not None:
            out.append(AccessibilityConfig(comp.name, path, qual, error=error))
            continue
        pkgs = _attr(root, "packageNames")
        out.append(
            AccessibilityConfig(
                service=comp.name,
                path=path,
                config=qual,
                can_retrieve_window_content=_bool(_attr(root, "canRetrieveWindowContent")),
                can_perform_gestures=_bool(_attr(root, "canPerformGestures")),
                can_request_filter_key_events=_bool(_attr(root, "canRequestFilterKeyEvents")),
                event_types=_decode_bits(
                    _attr(root, "accessibilityEventTypes"), EVENT_TYPES, "typeAllMask"
                ),
                flags=_decode_bits(_attr(root, "accessibilityFlags"), A11Y_FLAGS),
                feedback_types=_decode_bits(
                    _attr(root, "accessibilityFeedbackType"), FEEDBACK_TYPES, "feedbackAllMask",
                ),
                package_names=_uniq(p.strip() for p in (pkgs or "").split(",") if p),
                notification_timeout=_int(_attr(root, "notificationTimeout")),
                description=res.string(_attr(root, "description")),
                settings_activity=_attr(root, "settingsActivity"),
            )
        )
    return out


def _device_admins(comps: list[Component], res: Resources) -> list[DeviceAdmin]:
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
        out.append(DeviceAdmin(comp.name, path, qual, _uniq(policies)))
    return out


# --------------------------------------------------------------------------- certificates


def _cert_facts(der: bytes, schemes: tuple[str, ...]) -> Certificate:
    sha = hashlib.sha256(der).hexdigest()
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

        cert = x509.load_der_x509_certificate(der)
        fields = tuple((a.rfc4514_attribute_name, str(a.value)) for a in cert.subject)
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            algo = f"RSA-{key.key_size}"
        elif isinstance(key, ec.EllipticCurvePublicKey):
            algo = f"EC-{key.curve.name}"
        elif isinstance(key, dsa.DSAPublicKey):
            algo = f"DSA-{key.key_size}"
        else:
            algo = type(key).__name__
        return Certificate(
            sha256=sha,
            schemes=schemes,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            not_before=cert.not_valid_before_utc.isoformat(),
            not_after=cert.not_valid_after_utc.isoformat(),
            serial=format(cert.serial_number, "x"),
            is_debug=("CN", "Android Debug") in fields,
            self_signed=cert.subject == cert.issuer,
            subject_fields=fields,
            key_algorithm=algo,
        )
    except Exception as exc:
        first_error = f"{type(exc).__name__}: {exc}"[:200]
    try:
        asn1_x509: Any = importlib.import_module("asn1crypto.x509")
        c = asn1_x509.Certificate.load(der)
        subject = c.subject.native
        fields2 = tuple((str(k), str(v)) for k, v in subject.items())

        def _iso(t: Any) -> str:
            if isinstance(t, datetime):
                return t.astimezone(UTC).isoformat()
            return str(t)

        validity = c["tbs_certificate"]["validity"]
        return Certificate(
            sha256=sha,
            schemes=schemes,
            subject=c.subject.human_friendly,
            issuer=c.issuer.human_friendly,
            not_before=_iso(validity["not_before"].native),
            not_after=_iso(validity["not_after"].native),
            serial=format(int(c.serial_number), "x"),
            is_debug=subject.get("common_name") == "Android Debug",
            self_signed=c.subject == c.issuer,
            subject_fields=fields2,
            key_algorithm=str(c.public_key.algorithm),
            error=first_error,
        )
    except Exception as exc:
        return Certificate(sha256=sha, schemes=schemes, error=f"{first_error}; {exc}"[:300])


V1_SIGNATURE_RE = re.compile(r"\AMETA-INF/(?s:.)*\.(DSA|EC|RSA)\Z")
"""androguard's test for a v1 signature block (``APK.get_signature_names``)."""


def _v1_names(files: list[str]) -> list[str]:
    """The v1 signature blocks that have their ``.SF``, as ``APK.get_signature_names``
    finds them; that method lists the whole ZIP again for every candidate."""
    present = set(files)
    return [
        f for f in files
        if V1_SIGNATURE_RE.search(f) and "{}.SF".format(f.rsplit(".", 1)[0]) in present
    ]


def _v1_ders(apk: Any, files: list[str], errors: list[str]) -> list[bytes]:
    ders: list[bytes] = []
    names = _v1_names(files)
    cms: Any = importlib.import_module("asn1crypto.cms")
    for name in names:
        block: list[bytes] | None = None
        try:
            info = cms.ContentInfo.load(apk.get_file(name))
            block = [bytes(c.chosen.dump()) for c in info["content"]["certificates"] or ()]
        except Exception as exc:
            errors.append(f"v1 signature {name}: {type(exc).__name__}: {exc}"[:300])
        if block is not None and len(block) == 1:
            # The usual case. Verifying the SignerInfo (androguard's
            # get_certificate_der, a third of a small app's parse) could only
            # choose among the block's certificates, and an unverifiable
            # signer keeps them all anyway (below).
            ders.extend(block)
            continue
        der: bytes | None = None
        try:
            der = apk.get_certificate_der(name)
        except Exception as exc:
            errors.append(f"v1 signature {name}: {type(exc).__name__}: {exc}"[:300])
        if der:
            ders.append(bytes(der))
        elif block:  # unverifiable signer: keep every certificate of the PKCS#7 block
            ders.extend(block)
    return ders


def _certificates(
    apk: Any, files: list[str], errors: list[str]
) -> tuple[list[Certificate], list[str]]:
    by_scheme: dict[str, list[bytes]] = {"v1": _v1_ders(apk, files, errors)}
    for scheme, getter in (
        ("v2", "get_certificates_der_v2"),
        ("v3", "get_certificates_der_v3"),
        ("v31", "get_certificates_der_v31"),
    ):
        try:
            by_scheme[scheme] = [bytes(d) for d in getattr(apk, getter)() or ()]
        except Exception as exc:
            by_scheme[scheme] = []
            errors.append(f"{scheme} signature: {type(exc).__name__}: {exc}"[:300])
    order: dict[bytes, list[str]] = {}
    for scheme, ders in by_scheme.items():
        for der in ders:
            schemes = order.setdefault(der, [])
            if scheme not in schemes:
                schemes.append(scheme)
    certs = [_cert_facts(der, tuple(s)) for der, s in order.items()]
    used = [s for s, ders in by_scheme.items() if ders]
    return certs, used


# --------------------------------------------------------------------------- files


class _Heads:
    """Reads the first bytes of entries straight from the archive: the local header
    the central directory points at, then at most ``n`` bytes stored or inflated.
    Anything unusual (another method, a bad header, a tampered entry) goes to
    androguard's tolerant reader, which decompresses the whole entry.

    :class:`zipfile.ZipFile` would read the whole central directory again first
    (about 10 ms for 1,000 entries) for the few heads the asset check needs."""

    def __init__(self, data: bytes, apk: Any) -> None:
        self._data = memoryview(data)
        self._apk = apk
        try:
            self._entries: Mapping[str, Any] = apk.zip.infolist()
        except Exception:
            self._entries = {}

    def _direct(self, name: str, n: int) -> bytes | None:
        e = self._entries.get(name)
        if e is None:
            return None
        data = self._data
        off = int(e.relative_offset_of_local_file_header)
        if off < 0 or off + 30 > len(data) or bytes(data[off:off + 4]) != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
        start = off + 30 + name_len + extra_len
        size = int(e.compressed_size)
        if size == 0xFFFFFFFF or start + size > len(data):  # ZIP64 or truncated
            return None
        method = int(e.compression_method)
        if method == 0:
            return bytes(data[start:start + min(size, n)])
        if method == 8:
            return zlib.decompressobj(-15).decompress(data[start:start + size], n)
        return None

    def __call__(self, name: str, n: int) -> bytes:
        try:
            head = self._direct(name, n)
        except (zlib.error, struct.error, ValueError, TypeError, AttributeError):
            head = None
        if head is not None:
            return head
        return bytes(self._apk.get_file(name)[:n])


_IMAGE_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"WEBP", 8, "image/webp"),  # after "RIFF" and the chunk size
)
_RASTER_EXT = (".png", ".webp", ".jpg", ".jpeg")
_DENSITIES = ("ldpi", "mdpi", "tvdpi", "hdpi", "xhdpi", "xxhdpi", "xxxhdpi")


def _density(path: str) -> int:
    folder = path.rsplit("/", 1)[0]
    return max((i + 1 for i, d in enumerate(_DENSITIES) if f"-{d}" in folder), default=0)


class ResourceFiles(Protocol):
    """What :func:`_icon` needs of :class:`Resources`."""

    def files(self, value: str) -> list[tuple[str, str]]: ...


def _icon(ref: str | None, res: ResourceFiles, files: list[str], sizes: Mapping[str, int],
          head_of: Callable[[str, int], bytes]) -> IconFact | None:
    """The densest raster variant of the icon resource ``ref`` that fits the limit.

    An adaptive icon (``mipmap-anydpi-v26``, XML) has no pixels of its own: its
    raster siblings of the same name stand in for it, as on older Android. The
    image type comes from its magic bytes, never from the file name."""
    if not ref:
        return None
    paths = [p for _q, p in res.files(ref)]
    raster = [p for p in paths if p.lower().endswith(_RASTER_EXT)]
    if not raster:
        stems = {p.rsplit("/", 1)[-1].split(".", 1)[0] for p in paths}
        raster = [
            f for f in files
            if f.startswith(("res/mipmap", "res/drawable")) and f.lower().endswith(_RASTER_EXT)
            and f.rsplit("/", 1)[-1].split(".", 1)[0] in stems
        ]
    raster.sort(key=lambda p: (_density(p), sizes.get(p, 0)), reverse=True)
    for path in raster:
        if sizes.get(path, 0) > ICON_MAX_BYTES:
            continue
        try:
            data = head_of(path, ICON_MAX_BYTES + 1)
        except Exception:  # noqa: S112 - a tampered entry: try the next variant
            continue
        if len(data) > ICON_MAX_BYTES:
            continue
        for magic, at, media_type in _IMAGE_MAGIC:
            if data[at : at + len(magic)] == magic:
                import base64

                return IconFact(path, media_type, base64.b64encode(data).decode("ascii"))
    return None


def _entry_sizes(apk: Any) -> dict[str, int]:
    """Uncompressed size of each entry, from the central directory androguard read."""
    try:
        return {str(k): int(v.uncompressed_size) for k, v in apk.zip.infolist().items()}
    except Exception:  # another zip layer: sizes are only a hint for the asset check
        return {}


def _assets(
    files: list[str], sizes: dict[str, int], head_of: Callable[[str, int], bytes]
) -> list[AssetFact]:
    out: list[AssetFact] = []
    looked = 0
    for name in files:
        lower = name.lower()
        if DEX_NAME_RE.match(name) or lower.endswith(".so") or name in (
            "AndroidManifest.xml", "resources.arsc"
        ):
            continue
        top = name.split("/", 1)[0]
        if top in ("res", "META-INF", "kotlin", "okhttp3") and not lower.endswith(
            (".dex", ".jar", ".apk", ".zip", ".bin", ".dat")
        ):
            continue
        if looked >= 2000 or len(out) >= 200:
            break
        looked += 1
        known = sizes.get(name)
        media = lower.endswith(MEDIA_EXT)
        # Entropy (64 KiB inflated and counted) only where it can matter: a
        # file with a code magic, or a big non-media file. Media and small files
        # cost 4 bytes. The facts are the same as when every head was counted.
        may_be_high = not media and (known is None or known >= 8192)
        try:
            head = head_of(name, 65536 if may_be_high else 4)
        except Exception:  # noqa: S112
            continue
        magic = ""
        if head[:4] == b"dex\n":
            magic = "dex"
        elif head[:4] == b"PK\x03\x04":
            magic = "zip"
        elif head[:4] == b"\x7fELF":
            magic = "elf"
        size = known if known is not None else len(head)
        if not magic and not (may_be_high and size >= 8192):
            continue
        if not may_be_high:
            try:
                head = head_of(name, 65536)
            except Exception:  # noqa: S112
                continue
        ent = _entropy(head)
        high = ent >= 7.6 and size >= 8192 and not media
        if magic or high:
            out.append(AssetFact(name, size, round(ent, 3), magic))
    return out


# --------------------------------------------------------------------------- code


def _classify_string(s: str, acc: dict[str, dict[str, None]]) -> None:
    if len(s) > 65536:
        s = s[:65536]
    low = s.lower()
    if "://" in s:
        for m in URL_RE.finditer(s):
            url = m.group(0).rstrip(".,;)]")
            scheme = url.split(":", 1)[0].lower()
            if scheme in ("ws", "wss"):
                acc["websockets"].setdefault(url, None)
            acc["urls"].setdefault(url, None)
            hm = HOST_RE.match(url)
            if hm and _is_ip(hm.group(1)):
                acc["ips"].setdefault(hm.group(1), None)
    ipm = IP_RE.match(s.strip())
    if ipm and _is_ip(ipm.group(1)):
        acc["ips"].setdefault(ipm.group(1), None)
    if "api.telegram.org" in low or ("/bot" in low and TG_TOKEN_RE.search(s)):
        acc["telegram_bot"].setdefault(s[:300], None)
    if "firebase" in low or "appspot.com" in low:
        for fm in FIREBASE_RE.finditer(s):
            acc["firebase"].setdefault(fm.group(0).lower(), None)


def _is_ip(host: str) -> bool:
    try:
        IPv4Address(host)
    except ValueError:
        return False
    return host not in ("0.0.0.0", "127.0.0.1", "255.255.255.255")  # noqa: S104


def _dex_header(name: str, raw: bytes) -> tuple[DexFile, list[str]]:
    anti: list[str] = []
    if len(raw) < 0x70 or raw[:4] != b"dex\n":
        return DexFile(name, len(raw), None, False, None), ["bad-dex-header"]
    version = raw[4:7].decode("ascii", "replace")
    (checksum,) = struct.unpack_from("<I", raw, 8)
    (file_size,) = struct.unpack_from("<I", raw, 0x20)
    (classes,) = struct.unpack_from("<I", raw, 0x60)
    if zlib.adler32(raw[12:]) != checksum:
        anti.append("bad-dex-checksum")
    if file_size != len(raw):
        anti.append("dex-size-mismatch")
    compiler = dex_compiler(raw)
    return DexFile(name, len(raw), int(classes), True, version, compiler), anti


# --------------------------------------------------------------------------- DEX compiler

# map_list item types (dex-format): the ID sections come first in every writer's
# layout; the data sections after them are where the writers differ.
_MAP_HEADER, _MAP_STRING_IDS, _MAP_TYPE_IDS, _MAP_CLASS_DEFS = 0x0000, 0x0001, 0x0002, 0x0006
_MAP_METHOD_HANDLES, _MAP_LIST = 0x0008, 0x1000
_MAP_TYPE_LIST, _MAP_ANN_SET_REF, _MAP_ANN_SET = 0x1001, 0x1002, 0x1003
_MAP_CLASS_DATA, _MAP_CODE, _MAP_STRING_DATA, _MAP_DEBUG = 0x2000, 0x2001, 0x2002, 0x2003
_MAP_ANN_DIR = 0x2006
_ID_SECTIONS = frozenset(range(0x0000, 0x0009))
_MAX_MAP_ITEMS = 64
"""A valid map_list has one item per section type (about 20 types exist)."""
_STRING_ORDER_PROBE = 4096
"""String ids whose data offsets are checked for dexlib 1.x's unsorted pool."""
_CLASS_DEF_PROBE = 256
"""class_defs checked for dexlib 2.x beta's non-zero empty interfaces offset."""
_R8_MARKER = re.compile(rb"~~(?:D8|R8|L8)\{\"")
"""The marker string d8/r8 add to the string pool (``~~D8{"backend":…}``)."""


def dex_compiler(raw: bytes) -> str:
    """Which tool wrote this DEX, from its layout (after APKiD's compiler rules).

    ``dexlib2`` / ``dexlib1``: assembled by smali/apktool (dexlib 2.x, 1.x,
    including dexlib 2 beta); ``dx``; ``d8/r8``; ``unknown`` (too small to tell,
    another writer, or a malformed header or map_list). Reads the header, the
    map_list (at most 64 items), the first 4096 string ids and 256 class defs,
    and searches the bytes for the d8/r8 marker. Never raises.

    * dexlib 1.x writes the string data out of string-id order;
    * dexlib 2.x beta gives every class an ``interfaces_off`` pointing at an
      empty list (dx and d8 write 0);
    * dexlib 2.x lays string data out first, right after the ID sections, and
      code items and type lists after it; dx and d8/r8 put code items and type
      lists before the string data (d8/r8 also leave a ``~~D8{`` marker).
    """
    try:
        return _dex_compiler(raw)
    except Exception:  # malformed input: no answer, never a crash
        return "unknown"


def _dex_compiler(raw: bytes) -> str:
    size = len(raw)
    if size < 0x70 or raw[:4] != b"dex\n":
        return "unknown"
    (map_off,) = struct.unpack_from("<I", raw, 0x34)
    string_ids_size, string_ids_off = struct.unpack_from("<II", raw, 0x38)
    class_defs_size, class_defs_off = struct.unpack_from("<II", raw, 0x60)
    if map_off == 0 or map_off % 4 or map_off + 4 > size:
        return "unknown"
    (count,) = struct.unpack_from("<I", raw, map_off)
    if not 0 < count <= _MAX_MAP_ITEMS or map_off + 4 + 12 * count > size:
        return "unknown"
    items = [struct.unpack_from("<HxxII", raw, map_off + 4 + 12 * i) for i in range(count)]
    types = [t for t, _n, _o in items]
    if types[0] != _MAP_HEADER or any(o > size for _t, _n, o in items):
        return "unknown"

    # dexlib 1.x: string data not in string-id order.
    n = min(string_ids_size, _STRING_ORDER_PROBE)
    if n > 1 and string_ids_off + 4 * n <= size:
        offs = struct.unpack_from(f"<{n}I", raw, string_ids_off)
        if any(b < a for a, b in itertools.pairwise(offs)):
            return "dexlib1"

    # dexlib 2.x beta: interfaces_off (class_def + 12) pointing at a zero-length list.
    n = min(class_defs_size, _CLASS_DEF_PROBE)
    if n and class_defs_off + 32 * n <= size:
        for i in range(n):
            (ifaces,) = struct.unpack_from("<I", raw, class_defs_off + 32 * i + 12)
            if 0 < ifaces <= size - 4 and raw[ifaces : ifaces + 4] == b"\0\0\0\0":
                return "dexlib2"

    data = [t for t in types if t not in _ID_SECTIONS]
    # dexlib 2.x: string data is the first data section, with code or type lists
    # after it (dx and d8/r8 both write those before the string data; without
    # any, a tiny dexlib2 DEX looks like a tiny d8 one: no answer).
    if data and data[0] == _MAP_STRING_DATA and (_MAP_CODE in data or _MAP_TYPE_LIST in data):
        return "dexlib2"

    if _R8_MARKER.search(raw):
        return "d8/r8"
    if _MAP_STRING_DATA not in data:
        return "unknown"
    before = data[: data.index(_MAP_STRING_DATA)]
    if (
        _MAP_DEBUG in before and _MAP_CODE in before
        and before.index(_MAP_CODE) < before.index(_MAP_DEBUG)
    ):
        return "d8/r8"  # d8/r8 order: code, debug info, type lists, string data
    if before and before[0] == _MAP_LIST:
        return "dx"  # dexmerge (dx's merger) writes the map_list early
    if _MAP_CODE in before or _MAP_TYPE_LIST in before:
        # dx order: annotation set refs, annotation sets, code, annotation
        # directories, type lists, then string data.
        return "dx"
    return "unknown"


def _on_alarm(_sig: int, _frame: FrameType | None) -> None:
    raise CodeTimeout


def _code(apk: Any, dex_names: list[str], limits: ApkLimits) -> CodeFacts:
    from androguard.core import dex as dexmod

    anti: list[str] = []
    errors: list[str] = []
    dex_files: list[DexFile] = []
    raws: list[tuple[str, bytes]] = []
    for name in dex_names:
        try:
            raw = bytes(apk.get_file(name))
        except Exception as exc:
            errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
            anti.append("unreadable-dex")
            continue
        info, flags = _dex_header(name, raw)
        dex_files.append(info)
        anti.extend(flags)
        if info.valid_header:
            raws.append((name, raw))
    classes = sum(d.classes or 0 for d in dex_files)
    if classes > limits.code_max_classes:
        return CodeFacts(
            dex_files=tuple(dex_files),
            classes=classes,
            skipped_reason=f"too-many-classes: {classes} > {limits.code_max_classes}",
            anti_analysis=_uniq(anti),
            errors=tuple(errors),
        )
    acc: dict[str, dict[str, None]] = {
        k: {} for k in ("urls", "ips", "websockets", "telegram_bot", "firebase")
    }
    refs: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    n_strings = 0
    skipped: str | None = None
    complete = False
    parsed: list[tuple[Any, dict[int, str]]] = []
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, float(limits.code_timeout)))
    try:
        # 1. Tables: strings, classes (for the superclass chains), method ids.
        supers: dict[str, str] = {}
        loaded: list[tuple[str, Any]] = []
        for name, raw in raws:
            try:
                d = dexmod.DEX(raw)
                for s in d.get_strings():
                    n_strings += 1
                    _classify_string(str(s), acc)
                for c in d.get_classes():
                    supers[str(c.get_name())] = str(c.get_superclassname())
            except CodeTimeout:
                raise
            except dexmod.InvalidInstruction as exc:
                anti.append("invalid-instruction")
                errors.append(f"{name}: InvalidInstruction: {exc}"[:300])
                continue
            except MemoryError:
                raise
            except Exception as exc:
                anti.append("malformed-dex")
                errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
                continue
            loaded.append((name, d))

        def framework_class(cls: str) -> str | None:
            seen = 0
            while cls and seen < 32:
                if cls in FRAMEWORK_CLASSES:
                    return cls
                nxt = supers.get(cls)
                if nxt is None or nxt == cls:
                    return None
                cls = nxt
                seen += 1
            return None

        for name, d in loaded:
            wanted: dict[int, str] = {}
            try:
                for idx, m in enumerate(d.get_methods()):
                    mname = str(m.get_name())
                    if mname not in API_METHOD_NAMES:
                        continue
                    fw = framework_class(str(m.get_class_name()))
                    call = API_CALLS.get((fw, mname)) if fw else None
                    if call:
                        wanted[idx] = call
                        refs[call] += 1
            except CodeTimeout:
                raise
            except MemoryError:
                raise
            except Exception as exc:
                anti.append("malformed-dex")
                errors.append(f"{name}: method ids: {type(exc).__name__}: {exc}"[:300])
                continue
            parsed.append((d, wanted))

        # 2. Instruction sweep: invoke sites of the wanted methods, bad opcodes.
        bad_methods = 0
        for d, wanted in parsed:
            for c in d.get_classes():
                for m in c.get_methods():
                    try:
                        for ins in m.get_instructions():
                            if ins.get_op_value() in INVOKE_OPS:
                                call = wanted.get(ins.BBBB)
                                if call:
                                    calls[call] += 1
                    except CodeTimeout:
                        raise
                    except MemoryError:
                        raise
                    except dexmod.InvalidInstruction:
                        bad_methods += 1
                    except Exception:
                        bad_methods += 1
        if bad_methods:
            anti.append("invalid-instruction")
            errors.append(f"{bad_methods} methods with invalid instructions")
        complete = True
    except CodeTimeout:
        skipped = f"timeout: code stage over {limits.code_timeout:g} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return CodeFacts(
        dex_files=tuple(dex_files),
        classes=classes,
        strings=n_strings,
        urls=tuple(acc["urls"])[:MAX_LIST],
        ips=tuple(acc["ips"])[:MAX_LIST],
        websockets=tuple(acc["websockets"])[:MAX_LIST],
        telegram_bot=tuple(acc["telegram_bot"])[:MAX_LIST],
        firebase=tuple(acc["firebase"])[:MAX_LIST],
        api_refs=dict(sorted(refs.items())),
        api_calls=dict(sorted(calls.items())),
        instructions_complete=complete,
        skipped_reason=skipped,
        anti_analysis=_uniq(anti),
        errors=_uniq(errors, 50),
    )


# --------------------------------------------------------------------------- main


_TEXT_XML = re.compile(rb"^(\xef\xbb\xbf)?\s*<")


def _parse_manifest(apk: Any) -> tuple[str, str] | None:
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


def extract(path: str, limits: ApkLimits, zip_facts: ZipFacts,
            emit: Callable[..., None] = _emit, *, data: bytes | None = None) -> ApkFacts:
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
    problem = _parse_manifest(apk)
    # androguard hashed the raw bytes already: a second pass costs 2 ms per MB.
    sha = getattr(apk, "_sha256", None)
    if repairs or not (isinstance(sha, str) and len(sha) == 64):
        sha = hashlib.sha256(original).hexdigest()  # the file as given, not as read
    sizes = _entry_sizes(apk)
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
    heads = _Heads(data, apk)
    if manifest is None:
        if problem is None:
            errors.append("AndroidManifest.xml could not be parsed")
        warnings.append("manifest-unparseable")
    else:
        package = manifest.get("package") or None
        res.package = package
        uses_sdk = manifest.find("uses-sdk")
        min_sdk = _sdk(_attr(uses_sdk, "minSdkVersion")) if uses_sdk is not None else None
        target_sdk = _sdk(_attr(uses_sdk, "targetSdkVersion")) if uses_sdk is not None else None
        perms = _uniq(
            v
            for tag in ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m")
            for el in manifest.findall(tag)
            if (v := _attr(el, "name"))
        )
        declared = _uniq(v for el in manifest.findall("permission") if (v := _attr(el, "name")))
        app = manifest.find("application")
        app_class = None
        debuggable = None
        label = None
        icon_ref = None
        if app is not None:
            comps = _components(app, package, target_sdk)
            app_class = _expand(_attr(app, "name"), package)
            debuggable = _bool(_attr(app, "debuggable"))
            label = res.string(_attr(app, "label"))
            icon_ref = _attr(app, "icon")
        candidates = [
            c for c in comps
            if c.kind in ("activity", "activity-alias")
            and any(MAIN in f.actions and LAUNCHER in f.categories for f in c.intent_filters)
        ]
        launcher = next((c for c in candidates if c.enabled), None)
        if (not label or not icon_ref) and launcher is not None:
            el = next(
                (e for e in (app if app is not None else ())
                 if _expand(_attr(e, "name"), package) == launcher.name),
                None,
            )
            if el is not None:
                label = label or res.string(_attr(el, "label"))
                icon_ref = icon_ref or _attr(el, "icon")
        facts = replace(
            facts,
            package=package,
            label=label,
            icon=_icon(icon_ref, res, files, sizes, heads),
            version_code=_attr(manifest, "versionCode"),
            version_name=res.string(_attr(manifest, "versionName")),
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
            accessibility=tuple(_accessibility(comps, res, errors)),
            device_admins=tuple(_device_admins(comps, res)),
        )
    certs, schemes = _certificates(apk, files, errors)
    native = _uniq((f for f in files if f.lower().endswith(".so")), 5000)
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
    facts = replace(facts, suspicious_assets=tuple(_assets(files, sizes, heads)))
    dex_names = sorted(
        (f for f in files if DEX_NAME_RE.match(f)),
        key=lambda n: (len(n), n),
    )
    code = _code(apk, dex_names, limits)
    return replace(facts, code=code, errors=tuple(errors), warnings=tuple(warnings))


def run(request: Mapping[str, Any], write: Callable[..., None] = _emit) -> int:
    """Set the limits, parse ``request["path"]``, report through ``write``; exit status."""
    limits = ApkLimits.from_dict(request.get("limits", {}))
    set_limits(limits, int(request.get("samples_left", 1) or 1))
    partial: dict[str, Any] = {}

    def emit(status: str, **data: Any) -> None:
        if status == "partial":
            partial.update(data.get("facts", {}))
        write(status, **data)

    try:
        if _address_space() >= limits.memory:
            # A child forked from the warm server starts with the server's mappings;
            # a limit below them leaves no room to parse (a cold child could not
            # even import androguard): report it as the memory limit it is.
            raise MemoryError
        from loguru import logger

        logger.remove()
        importlib.import_module("androguard.core.apk")
        if limits.code_stage:
            importlib.import_module("androguard.core.dex")
        forbid_writes()
        t_parse = _time.perf_counter()
        flt0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        try:
            facts = extract(
                str(request["path"]), limits, ZipFacts.from_dict(request.get("zip", {})), emit
            )
        except MemoryError:
            raise
        except Exception as exc:
            if partial:
                write("error", kind="internal", reason=f"{type(exc).__name__}: {exc}"[:300],
                      facts=partial)
                return 1
            write("refused", kind="corrupt",
                  reason=f"androguard cannot read this file ({type(exc).__name__}: {exc})"[:300])
            return 0
        write("done", facts=facts.to_dict(), peak_rss=peak_rss(),
              parse_seconds=round(_time.perf_counter() - t_parse, 6),
              parse_faults=resource.getrusage(resource.RUSAGE_SELF).ru_minflt - flt0)
        return 0
    except MemoryError:
        write("error", kind="memory", reason="memory limit", facts=partial or None)
        return 3


def peak_rss() -> int:
    """Peak resident set size of this process since it started or since
    :func:`_reset_peak_rss`, in bytes (``VmHWM``)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _reset_peak_rss() -> None:
    """Start the peak RSS afresh (``5`` in ``/proc/self/clear_refs``, Linux), so
    that a child that serves several samples reports each one's own peak. A
    write to procfs, which ``RLIMIT_FSIZE`` 0 does not forbid."""
    try:
        with open("/proc/self/clear_refs", "w") as fp:
            fp.write("5")
    except OSError:
        pass


def _release_memory() -> None:
    """Between two samples (after the answer, so off its path): collect the last
    sample's objects and hand free heap pages back to the system, so that the next
    sample starts, and measures its peak, from close to where this child began."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the collection alone
        pass


def _detach(err: Any) -> None:
    """Once per child: a session of its own, stdin and stdout on ``/dev/null``,
    stderr on the parent's pipe ``err``."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(err.fileno(), 2)
    os.close(null)
    err.close()


def encode(message: Mapping[str, Any]) -> bytes:
    """A message to the parent as JSON: orjson, several times faster than json on
    a big app's facts (tuples become arrays, as with json), else json for what
    orjson refuses (an integer over 64 bits from a crafted manifest)."""
    try:
        return orjson.dumps(message)
    except TypeError:
        return json.dumps(message, ensure_ascii=False).encode()


def _serve(request: Mapping[str, Any], out: Any) -> tuple[int, bool]:
    """Parse one sample in this child: move to its private temp dir, run it, send
    the messages to ``out``; the exit status :func:`run` gives, and whether its
    last message was ``done`` (a refusal also exits 0)."""
    tmp = str(request["tmp"])
    os.chdir(tmp)
    os.environ.update(TMPDIR=tmp, HOME=tmp)
    tempfile.tempdir = tmp
    start_rss = _current_rss()
    warm = "androguard.core.apk" in sys.modules

    last: list[str] = []

    def write(status: str, **data: Any) -> None:
        if status == "done":
            data.update(start_rss=start_rss, warm_imports=warm)
        last[:] = [status]
        out.send_bytes(encode({"status": status, **data}))

    rc = run(request, write)
    return rc, last == ["done"]


def forked_main(request: Mapping[str, Any], out: Any, err: Any,
                more: Callable[[], Mapping[str, Any] | None] | None = None) -> None:
    """Entry point of a child forked from the warm server of :mod:`scanners.apk_facts`.

    ``out`` is the write end of a :class:`multiprocessing.connection.Connection`
    (one JSON message per ``send_bytes``), ``err`` the write end of a pipe that
    becomes this process's standard error. Standard input and output go to
    ``/dev/null``; the working directory, ``TMPDIR`` and ``HOME`` move to the
    private temp dir ``request["tmp"]`` made by the parent.

    A request with ``"reuse": true`` asks the child to wait, once its facts are
    sent, for another request from ``more`` (``None``: the parent is done with
    it). It serves one only after a clean ``done`` (exit status 0; a refusal
    ends it); its limits and peak-RSS count start again for each sample.
    """
    _detach(err)
    while True:
        rc, done = _serve(request, out)
        # Only a clean answer earns another sample; after anything else the parent
        # waits for this process to end (and reads its stderr).
        if rc != 0 or not done or not request.get("reuse") or more is None:
            break
        _release_memory()
        out.send_bytes(b'{"status": "ready"}')  # as after a warm-up: see spare_main
        nxt = more()
        if nxt is None:
            break
        request = nxt
        _reset_peak_rss()
    out.close()
    # No interpreter teardown (finalisers, GC of androguard's objects): it would
    # only delay the parent, which waits for this process to end.
    sys.stderr.flush()
    os._exit(rc)


def spare_main(request_conn: Any, out: Any, err: Any, prewarm: bool = False) -> None:
    """Entry point of a child forked from the warm server: wait for the request,
    then :func:`forked_main`. Ends quietly when the parent goes away first.

    ``prewarm`` (an idle child forked ahead of time): parse the built-in fixture
    once while idle, so that the pages the parse code touches are copied from
    the server now rather than during the sample's parse."""

    def receive() -> Mapping[str, Any] | None:
        try:
            value = json.loads(request_conn.recv_bytes())
        except (EOFError, OSError, ValueError):  # the parent closed the pipe
            return None
        return value if isinstance(value, dict) else None

    try:
        if prewarm:
            warm_up()
            # Tells wait_for_idle_child() that this child is ready; the parent
            # skips it if it is still unread when the request goes out.
            out.send_bytes(b'{"status": "ready"}')
        request = receive()
    except BaseException:  # parent gone, interrupted
        os._exit(0)
    if request is None:
        os._exit(0)
    forked_main(request, out, err, receive)


def _statm(field: int) -> int:
    """Field ``field`` of ``/proc/self/statm`` in bytes (0: total size, 1: resident);
    0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as fp:
            return int(fp.read().split()[field]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _address_space() -> int:
    """Current virtual size of this process, in bytes (0 if unknown)."""
    return _statm(0)


def _current_rss() -> int:
    """Current resident set size of this process, in bytes (0 if unknown)."""
    return _statm(1)


def main() -> int:
    """Entry point of the cold ``python -I -c`` child: request on stdin, JSON lines out."""
    return run(json.loads(sys.stdin.buffer.read() or b"{}"))


# --------------------------------------------------------------------------- warm-up

WARM_ENV = "SCAMSCAN_APK_WARM_UP"
"""Set (to ``1``) in the environment of the fork server only, while it starts."""

WARM_UP_APK = Path(__file__).with_name("warm_up.apk")
"""A copy of ``tests/fixtures/apk/fake_dichvucong.apk``: built from our own sources
(inert stubs), it has what most apps exercise (resources, ``@xml`` configs, an
icon, v1+v2+v3 signatures, a DEX), so a parse of it touches most of the code and
pages a sample's parse will (``tools/build_apk_fixtures.sh`` keeps it in sync)."""


def warm_up() -> bool:
    """Parse :data:`WARM_UP_APK` once (full stage), so that lazy imports, compiled
    regexes and the pages the parse code touches are in memory: in the fork server
    before it forks, and again in each idle child while it waits (its own copies
    of those pages, made before a sample arrives rather than during its parse)."""
    try:
        from loguru import logger

        logger.remove()
        data = WARM_UP_APK.read_bytes()
        zip_facts = ZipFacts(entries=1, has_manifest=True)
        extract(str(WARM_UP_APK), ApkLimits(), zip_facts, lambda *_a, **_k: None, data=data)
    except Exception:
        return False
    return True


if os.environ.get(WARM_ENV) == "1":  # imported by the fork server's preload
    warm_up()
    # Everything the server holds now is permanent: the collector of a forked
    # child never walks it, so it does not touch (and copy) the inherited pages.
    import gc

    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
