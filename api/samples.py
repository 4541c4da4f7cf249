"""Uploaded APK samples: streamed to disk while hashed, stored by sha256.

:meth:`SampleStore.receive` parses a ``multipart/form-data`` request body as
it streams in (python-multipart's low-level parser, fed from
``request.stream()``), writes the ``file`` part to ``root/tmp/`` while
hashing it, and refuses it the moment it passes the size limit. A complete
upload is moved atomically to ``root/ab/cd/<sha256>``; a sample already there
is kept and the new copy dropped.

Memory is bounded by one network chunk plus :data:`FLUSH_BYTES`. The
client's file name is kept only as a display name (sanitised); it is never
part of a path. No route serves sample bytes back.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from api.problems import TYPE_INVALID_UPLOAD, ProblemError, ProblemException

log = logging.getLogger("scamscan.api")

FIELD = "file"
"""Name of the multipart field that carries the APK."""
TEXT_FIELDS = ("callback_url",)
"""Small text fields kept from an upload's body (the others are ignored)."""
MAX_TEXT_FIELD_BYTES = 4096
"""Longest kept text field; a longer one is a 422 problem."""
FLUSH_BYTES = 1024 * 1024
"""File data buffered in memory before it is written out (off the event loop)."""
MULTIPART_OVERHEAD = 64 * 1024
"""Body bytes allowed on top of the file: boundaries, part headers, small fields."""
MAX_NAME_CHARS = 200
DEFAULT_NAME = "upload.apk"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class StoredSample:
    """A sample on disk: its content address, size, path and the client's display name."""

    sha256: str
    size: int
    path: Path
    filename: str
    fields: dict[str, str] = field(default_factory=dict)
    """The upload's :data:`TEXT_FIELDS` that were given (UTF-8 text)."""


def display_name(raw: str | None) -> str:
    """The client's file name, safe to show: last path component, no control or
    bidi characters, NFC, at most :data:`MAX_NAME_CHARS`. Never used as a path."""
    if not raw:
        return DEFAULT_NAME
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("", name).strip().strip(".")
    return name[:MAX_NAME_CHARS] or DEFAULT_NAME


def _bad_upload(status: int, detail: str, *, field_error: str | None = None,
                field_name: str = FIELD) -> ProblemException:
    errors = None
    if field_error is not None:
        errors = [ProblemError(field=field_name, location="body", message=detail,
                               type=field_error)]
    return ProblemException(status, detail, type_=TYPE_INVALID_UPLOAD, title="Invalid upload",
                            errors=errors)


class _TooLarge(Exception):
    pass


class _Sink:
    """The temp file and the running hash; its methods run in a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hash = hashlib.sha256()
        self.size = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.file: BinaryIO = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self.hash.update(data)
        self.file.write(data)
        self.size += len(data)

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


@dataclass
class _Parts:
    """What the multipart callbacks saw (they are synchronous)."""

    max_bytes: int
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, bytes] = field(default_factory=dict)
    in_file: bool = False
    text_field: str | None = None
    texts: dict[str, bytearray] = field(default_factory=dict)
    file_parts: int = 0
    file_size: int = 0
    filename: str | None = None
    pending: bytearray = field(default_factory=bytearray)
    ended: bool = False
    problem: ProblemException | None = None

    def on_part_begin(self) -> None:
        self.headers = {}
        self.in_file = False
        self.text_field = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = bytes(self.header_name).decode("latin-1").strip().lower()
        self.headers[name] = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self.headers.get("content-disposition"))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if disposition == b"form-data" and name in TEXT_FIELDS:
            self.text_field = name
            self.texts[name] = bytearray()
            return
        if disposition != b"form-data" or name != FIELD:
            return
        self.file_parts += 1
        if self.file_parts > 1:
            self.problem = _bad_upload(422, "Send one file per request: the body has more "
                                       f"than one '{FIELD}' part.", field_error="too_many")
            raise self.problem
        self.in_file = True
        raw = params.get(b"filename")
        self.filename = raw.decode("utf-8", "replace") if raw is not None else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.text_field is not None:
            text = self.texts[self.text_field]
            text += data[start:end]
            if len(text) > MAX_TEXT_FIELD_BYTES:
                self.problem = _bad_upload(
                    422, f"The '{self.text_field}' field is longer than "
                    f"{MAX_TEXT_FIELD_BYTES} bytes.", field_error="too_long",
                    field_name=self.text_field)
                raise self.problem
            return
        if not self.in_file:
            return  # other fields are ignored; the body limit bounds them
        self.file_size += end - start
        if self.file_size > self.max_bytes:
            raise _TooLarge
        self.pending += data[start:end]

    def on_part_end(self) -> None:
        self.in_file = False
        self.text_field = None

    def on_end(self) -> None:
        self.ended = True


class SampleStore:
    """Samples under ``root``, content-addressed: ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.tmp = self.root / "tmp"

    @property
    def max_body_bytes(self) -> int:
        """The bound of a whole upload request body (file plus multipart framing)."""
        return self.max_bytes + MULTIPART_OVERHEAD

    def open(self) -> None:
        """Create the directories and drop temp files an interrupted run left."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        for stale in self.tmp.iterdir():
            if stale.is_file():
                stale.unlink(missing_ok=True)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put_bytes(self, data: bytes, filename: str) -> StoredSample:
        """Store a sample already in memory (an APK the live fetch downloaded)."""
        if len(data) > self.max_bytes:
            raise ValueError(f"the sample is larger than {self.max_bytes} bytes")
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path_for(sha256)

        def write() -> None:
            with tempfile.NamedTemporaryFile(dir=self.tmp, delete=False) as f:
                f.write(data)
            _settle(Path(f.name), final)

        await anyio.to_thread.run_sync(write)
        return StoredSample(sha256, len(data), final, display_name(filename))

    async def receive(self, request: Request) -> StoredSample:
        """Stream the ``file`` part of a multipart request to the store.

        Raises :class:`~api.problems.ProblemException` (415, 400, 413, 422)
        for a body that is not an acceptable upload; nothing is left on disk
        then.
        """
        media, params = parse_options_header(request.headers.get("content-type"))
        if media != b"multipart/form-data":
            shown = repr(media.decode("latin-1")) if media else "no content type"
            raise ProblemException(
                415, "Upload the APK as multipart/form-data with a "
                f"'{FIELD}' field, got {shown}.")
        boundary = params.get(b"boundary")
        if not boundary:
            raise _bad_upload(400, "The multipart/form-data content type has no boundary.")
        parts = _Parts(self.max_bytes)
        parser = MultipartParser(boundary, {
            "on_part_begin": parts.on_part_begin,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_end": parts.on_end,
        })
        tmp_path = self.tmp / f"{uuid.uuid4().hex}.part"
        sink = await anyio.to_thread.run_sync(_Sink, tmp_path)
        try:
            try:
                async for chunk in request.stream():
                    if chunk and not parts.ended:
                        parser.write(chunk)
                    if len(parts.pending) >= FLUSH_BYTES:
                        await self._flush(sink, parts)
                parser.finalize()
            except _TooLarge:
                raise ProblemException(
                    413, f"The APK is larger than the limit of {self.max_bytes} bytes.",
                    headers={"connection": "close"}) from None
            except MultipartParseError as e:
                if parts.problem is not None:
                    raise parts.problem from None
                raise _bad_upload(400, f"The multipart body is malformed: {e}.") from None
            except ClientDisconnect:
                raise _bad_upload(400, "The upload was interrupted before it was complete.") \
                    from None
            if parts.problem is not None:
                raise parts.problem
            if not parts.ended:
                raise _bad_upload(400, "The multipart body ended before its closing boundary.")
            if parts.file_parts == 0:
                raise _bad_upload(422, f"The multipart body has no '{FIELD}' field: send the "
                                  "APK as a file field named 'file'.", field_error="missing")
            await self._flush(sink, parts)
            await anyio.to_thread.run_sync(sink.close)
            if sink.size == 0:
                raise _bad_upload(422, "The uploaded file is empty.", field_error="empty")
            sha256 = sink.hash.hexdigest()
            final = self.path_for(sha256)
            await anyio.to_thread.run_sync(_settle, tmp_path, final)
        except BaseException:
            sink.discard()  # synchronous: it must also run when the request is cancelled
            raise
        texts = {name: bytes(raw).decode("utf-8", "replace") for name, raw in parts.texts.items()}
        return StoredSample(sha256, sink.size, final, display_name(parts.filename), texts)

    @staticmethod
    async def _flush(sink: _Sink, parts: _Parts) -> None:
        if parts.pending:
            data = bytes(parts.pending)
            parts.pending.clear()
            await anyio.to_thread.run_sync(sink.write, data)


def _settle(tmp_path: Path, final: Path) -> None:
    """Move the finished temp file to its content address (atomic; first copy wins)."""
    if final.is_file():
        # Uploaded again: young again, so that the retention sweep (api.retention)
        # does not delete a sample that a new scan is about to read.
        try:
            os.utime(final)
        except FileNotFoundError:
            pass  # swept meanwhile: this copy takes its place
        else:
            tmp_path.unlink(missing_ok=True)
            return
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp_path, final)
