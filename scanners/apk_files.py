"""The archive-content reader of the parse child: entry heads read straight
from the archive, the launcher icon, and the assets that may hide code (a code
magic or high entropy).

Runs in the parse child only (:mod:`scanners._apk_worker`).
"""

from __future__ import annotations

import math
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from scanners.apk_dex import DEX_NAME_RE
from scanners.apk_fact_types import ICON_MAX_BYTES, AssetFact, IconFact

MEDIA_EXT = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp3", ".mp4", ".ogg", ".wav",
             ".ttf", ".otf", ".woff", ".woff2", ".m4a", ".aac", ".webm", ".gz", ".br")


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = Counter(data)
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


class EntryHeads:
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
    """What :func:`launcher_icon` needs of :class:`~scanners.apk_resources.Resources`."""

    def files(self, value: str) -> list[tuple[str, str]]: ...


def launcher_icon(ref: str | None, res: ResourceFiles, files: list[str], sizes: Mapping[str, int],
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


def entry_sizes(apk: Any) -> dict[str, int]:
    """Uncompressed size of each entry, from the central directory androguard read."""
    try:
        return {str(k): int(v.uncompressed_size) for k, v in apk.zip.infolist().items()}
    except Exception:  # another zip layer: sizes are only a hint for the asset check
        return {}


def suspicious_assets(
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
