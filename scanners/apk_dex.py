"""The DEX reader of the parse child: headers, the writer of each DEX (smali's
dexlib, dx, d8/r8), the string tables (URLs, IPs, Telegram bots, Firebase), the
method-id tables and a bounded instruction sweep for the framework calls the
rules look for.

Runs in the parse child only (:mod:`scanners._apk_worker`), under the code
stage's wall time (``SIGALRM``: :class:`CodeTimeout`).
"""

from __future__ import annotations

import itertools
import re
import signal
import struct
import zlib
from collections import Counter
from ipaddress import IPv4Address
from types import FrameType
from typing import Any

from scanners.apk_class_shapes import class_shapes
from scanners.apk_fact_types import MAX_LIST, ApkLimits, CodeFacts, DexFile, uniq

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
DEX_NAME_RE = re.compile(r"^classes\d*\.dex$")


class CodeTimeout(Exception):
    """The code stage ran out of its wall time."""



def _unicode(s: str) -> str:
    """``s`` with each lone UTF-16 surrogate as U+FFFD (valid pairs joined).

    DEX strings are MUTF-8, which encodes a lone surrogate, and androguard keeps it.
    No UTF-8 output can carry one: a single such string made the parse child fail
    as it sent its facts, and the whole code analysis was lost (an evasion)."""
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return s


def _classify_string(s: str, acc: dict[str, dict[str, None]]) -> None:
    if len(s) > 65536:
        s = s[:65536]
    s = _unicode(s)
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


def code_facts(apk: Any, dex_names: list[str], limits: ApkLimits) -> CodeFacts:
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
            anti_analysis=uniq(anti),
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
    supers: dict[str, str] = {}
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, float(limits.code_timeout)))
    try:
        # 1. Tables: strings, classes (for the superclass chains), method ids.
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
    # The class list read in step 1 (all of it, or what the time allowed).
    shapes = class_shapes(supers)
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
        builder_roots=dict(sorted(shapes.roots.items())),
        lower_classes=shapes.lower_classes,
        lower_class_names=shapes.lower_names,
        letter_chain_classes=shapes.letter_chain_classes,
        skipped_reason=skipped,
        anti_analysis=uniq(anti),
        errors=uniq(errors, 50),
    )
