"""The ZIP pre-checks of an upload, in the caller's process, before any child.

:func:`inspect_zip` reads the file size, the end-of-central-directory record
and the central directory only (no entry is decompressed): entry count,
declared total uncompressed size, per-entry compression ratio, overlapping
entries, path-traversal names, presence of ``AndroidManifest.xml``, bundle
detection (XAPK / APKS / APKM). Refusals raise typed errors
(:mod:`scanners.apk_errors`) before any parse child is started.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanners.apk_errors import ApkTooLargeError, NotAnApkError, ZipBombError
from scanners.apk_fact_types import MAX_LIST, ApkLimits, ZipFacts

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


def is_suspicious_name(name: str) -> bool:
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
    that makes zipfile refuse the whole archive) does not stop the read; a name
    flagged UTF-8 that is not (the same trick) is read with U+FFFD.
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
        if h[3] > zipfile.MAX_EXTRACT_VERSION and not lenient:
            return None  # zipfile refuses the archive ("zip file version"): let it say
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
        elif flags & 0x800:
            # Android takes a name as bytes: one that is not UTF-8 although flagged so
            # makes zipfile refuse the whole archive, a trick read leniently here.
            name = raw.decode("utf-8", "replace" if lenient else "strict")
        else:
            name = raw.decode("cp437")
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


_DEFAULT_LIMITS = ApkLimits()


def inspect_zip(path: Path, limits: ApkLimits = _DEFAULT_LIMITS) -> ZipFacts:
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
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error,
                    NotImplementedError) as exc:  # "zip file version": Android ignores it
                try:
                    infos = _plain_central_directory(fp, end, lenient=True)
                except (UnicodeDecodeError, struct.error, OSError):
                    infos = None
                if infos is None:
                    raise NotAnApkError(
                        f"the ZIP file is truncated or corrupt ({exc})", "truncated"
                    ) from exc
                anomalies.append(
                    f"an entry name flagged UTF-8 is not UTF-8 ({exc}): strict ZIP readers "
                    "refuse the archive; Android's parser takes the name as bytes"
                    if isinstance(exc, UnicodeDecodeError) else
                    f"{exc}: strict ZIP readers refuse the archive; "
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
        if len(suspicious) < MAX_LIST and is_suspicious_name(name):
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
