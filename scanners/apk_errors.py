"""The typed errors of the APK pipeline (all under :mod:`scanners.errors`).

A refused file raises an :class:`ApkError` (an input error: not an app, a zip
bomb, too large); a parse child that was stopped raises
:class:`ApkParseIncomplete` (a :class:`~scanners.errors.ScanIncomplete`) with
the partial facts it had sent.
"""

from __future__ import annotations

from scanners.apk_fact_types import ApkFacts
from scanners.errors import InputError, ScanIncomplete

CHECK = "apk_parse"
"""The check name carried by :class:`ApkParseIncomplete`."""


class ApkError(InputError):
    """The file cannot be analysed as an APK; ``kind`` is a stable short code."""

    kind = "apk-error"

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if kind is not None:
            self.kind = kind


class NotAnApkError(ApkError):
    """Not a ZIP, a truncated ZIP, a renamed Windows executable, or no manifest."""

    kind = "not-zip"


class ZipBombError(ApkError):
    """Refused before decompression: entry count, declared size or ratio."""

    kind = "zip-bomb"


class ApkTooLargeError(ApkError):
    """The file is larger than :attr:`ApkLimits.max_file_bytes`."""

    kind = "too-large"


class ApkParseIncomplete(ScanIncomplete):
    """The parse child was stopped (time, CPU, memory) or died.

    ``facts`` holds what the child had established before it stopped (the
    manifest stage, typically), or ``None``.
    """

    def __init__(self, reason: str, facts: ApkFacts | None = None) -> None:
        super().__init__(CHECK, reason)
        self.facts = facts
