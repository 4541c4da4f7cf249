"""The resource-table reader of the parse child: resolves the label and the
``@xml/…`` references (accessibility and device-admin configs, the icon) of an
app.

:class:`LazyArsc` walks the ``resources.arsc`` chunk headers and reads only the
entries asked for; androguard's full ``ARSCParser`` is the fallback (see
:class:`Resources`). Runs in the parse child only (:mod:`scanners._apk_worker`).
"""

from __future__ import annotations

import importlib
import io
import struct
from collections.abc import Iterable
from typing import Any


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
