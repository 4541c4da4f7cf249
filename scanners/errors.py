"""Exceptions raised by the domain logic.

Every exception raised on purpose by :mod:`scanners` derives from one root, so
that an edge (the API, the CLI) can catch the family with a single clause and
turn it into a problem+json answer or an exit code. The tree::

    ScamscanError
    ├── InputError                 the caller's input cannot be analysed
    │   └── InvalidURLError        a URL or host that cannot be normalised
    ├── DataError                  bundled or configured data is missing or corrupt
    ├── ScanIncomplete             a check could not run (fully); carries partial findings
    └── StoreError                 the cache / store backend failed
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanners.findings import Finding


class ScamscanError(Exception):
    """Root of every exception that :mod:`scanners` raises on purpose."""


class InputError(ScamscanError):
    """The input cannot be analysed; the message says why, for the caller."""


class InvalidURLError(InputError):
    """A URL or host that cannot be normalised.

    ``reason`` is a short English sentence meant to be shown to the user as is.
    """

    def __init__(self, reason: str, value: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


class DataError(ScamscanError):
    """Bundled or configured list data is missing or corrupt."""


class ScanIncomplete(ScamscanError):
    """A scanner could not complete a check; the report lists it as ``incomplete``.

    ``check`` names the check (``domain_age``, ``live_fetch``…), ``reason`` is a
    sentence for the user, ``findings`` what the scanner did establish before it
    stopped (they count like any other finding).
    """

    def __init__(self, check: str, reason: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason
        self.findings = tuple(findings)


class StoreError(ScamscanError):
    """The cache or store backend (in-process or Redis) failed."""
