"""Read malformed APK archives the way Android does (APK-ANTI-003).

Banking trojans corrupt their ZIP headers so that analysis tools stop while
Android still installs the app: an "encrypted" flag on entries that are not
encrypted, an unknown compression method on stored or deflated data, a broken
local-header signature or a local file name that differs from the central
directory's. Android's parser trusts the central directory and ignores those
fields; Python's :mod:`zipfile` (and so androguard) refuses them.

:func:`repair` walks the central directory and patches a copy of the bytes so
that :mod:`zipfile` reads what Android reads, and says what it changed. The
patched bytes are only ever parsed, never written out or installed. Stdlib
only: it runs in the parse child before androguard sees the file.
"""

from __future__ import annotations

import struct
import zlib

_EOCD = b"PK\x05\x06"
_CEN = b"PK\x01\x02"
_LOC = b"PK\x03\x04"
_MAX_ENTRIES = 100_000


def _eocd(data: bytes | bytearray) -> tuple[int, int, int] | None:
    """(entries, central-directory size, offset) of the last end record."""
    pos = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if pos < 0 or pos + 22 > len(data):
        return None
    _, _, _, count, size, offset, _ = struct.unpack_from("<HHHHIIH", data, pos + 4)
    return count, size, offset


def repair(data: bytes, *, crc: bool = True) -> tuple[bytes, list[str]]:
    """``(bytes zipfile can read, what was changed)``; ``(data, [])`` when nothing was.

    Only fields Android ignores are changed: the encryption and strong-encryption
    flag bits, an unknown compression method (read as stored when the sizes agree,
    else as deflate, as Android's libziparchive does), the local-header signature,
    a local file name of the same length as the central one, and (with ``crc``, which
    inflates every entry) a CRC-32 that does not match the data (Android checks the
    signature digests, not the ZIP CRC).
    """
    end = _eocd(data)
    if end is None:
        return data, []
    count, _, offset = end
    # Read from the original; copy only once something has to change (most archives
    # are sound, and this runs on every parse).
    buf: bytes | bytearray = data
    flags = methods = magics = names = crcs = 0
    pos = offset
    for _ in range(min(count, _MAX_ENTRIES)):
        if pos + 46 > len(buf) or buf[pos:pos + 4] != _CEN:
            break
        flag, method = struct.unpack_from("<HH", buf, pos + 8)
        entry_crc, csize, usize, nlen, xlen, clen = struct.unpack_from("<IIIHHH", buf, pos + 16)
        (loc,) = struct.unpack_from("<I", buf, pos + 42)
        name = bytes(buf[pos + 46:pos + 46 + nlen])
        if flag & 0x41 or method not in (0, 8) or (
                loc + 30 <= len(buf) and buf[loc:loc + 4] != _LOC):
            buf = buf if isinstance(buf, bytearray) else bytearray(buf)
        if flag & 0x41:
            struct.pack_into("<H", buf, pos + 8, flag & ~0x41)
            flags += 1
        if method not in (0, 8):
            method = 0 if csize == usize else 8
            struct.pack_into("<H", buf, pos + 10, method)
            methods += 1
        if loc + 30 <= len(buf):
            if buf[loc:loc + 4] != _LOC and isinstance(buf, bytearray):
                buf[loc:loc + 4] = _LOC
                magics += 1
            lflag, lmethod = struct.unpack_from("<HH", buf, loc + 6)
            if (lflag & 0x41 or lmethod != method) and not isinstance(buf, bytearray):
                buf = bytearray(buf)
            if lflag & 0x41:
                struct.pack_into("<H", buf, loc + 6, lflag & ~0x41)
            if lmethod != method:
                struct.pack_into("<H", buf, loc + 8, method)
            lnlen, lxlen = struct.unpack_from("<HH", buf, loc + 26)
            if lnlen == nlen and bytes(buf[loc + 30:loc + 30 + nlen]) != name:
                fixed = bytearray(buf) if isinstance(buf, bytes) else buf
                fixed[loc + 30:loc + 30 + nlen] = name
                buf = fixed
                names += 1
            start = loc + 30 + lnlen + lxlen
            if not crc:
                pos += 46 + nlen + xlen + clen
                continue
            raw = bytes(buf[start:start + csize])
            try:
                plain = raw if method == 0 else zlib.decompressobj(-15).decompress(raw, usize + 1)
            except zlib.error:
                plain = None
            if plain is not None and len(plain) == usize:
                actual = zlib.crc32(plain)
                if actual != entry_crc:
                    buf = buf if isinstance(buf, bytearray) else bytearray(buf)
                    struct.pack_into("<I", buf, pos + 16, actual)
                    crcs += 1
        pos += 46 + nlen + xlen + clen
    changes = [f"{n} {what}" for n, what in (
        (flags, "entries flagged as encrypted although they are not"),
        (methods, "entries with an unknown compression method"),
        (magics, "local headers with a broken signature"),
        (names, "local file names that differ from the central directory"),
        (crcs, "entries whose CRC-32 does not match their data")) if n]
    return (bytes(buf), changes) if changes else (data, [])
