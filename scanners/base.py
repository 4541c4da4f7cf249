"""The scanner extension point.

A scanner is one module with one class and one async method::

    class MyScanner:
        name = "my-scanner"

        async def scan(self, target: ParsedURL) -> list[Finding]: ...

``scan`` looks at one target and returns the findings it can back with
evidence. It never computes a score (the rule catalogue owns the points, the
aggregate adds them up) and never raises for an ordinary bad target: what it
cannot check it reports through :class:`CheckIncomplete`, so that the report's
``incomplete`` list says which checks did not run and why. The model is
Assemblyline's services and httpx's transports: a narrow interface that the
orchestrator (:mod:`scanners.report`) can drive without knowing what a
scanner does inside.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

from scanners.errors import ScanIncomplete
from scanners.findings import Finding

T_contra = TypeVar("T_contra", contravariant=True)
T = TypeVar("T")
log = logging.getLogger("scamscan.scanners")


@dataclass(frozen=True, slots=True)
class CheckIncomplete:
    """A check that could not run, and why (shown to the user)."""

    check: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "reason": self.reason}


@runtime_checkable
class Scanner(Protocol[T_contra]):
    """What every scanner implements; see the module docstring."""

    name: str

    async def scan(self, target: T_contra) -> list[Finding]:
        """Findings about ``target``; never a score."""
        ...


class Contained(Generic[T]):
    """A scanner whose unexpected exceptions become an incomplete check.

    For the live checks, which read what attackers' servers answer: a bug
    that such an answer triggers must not turn the whole report into an error
    (a 500 for the API), nor be hidden. It is logged with its traceback, and
    the report lists ``check`` as incomplete. :class:`ScanIncomplete` and
    cancellation pass through unchanged.
    """

    def __init__(self, inner: Scanner[T], check: str) -> None:
        self.inner = inner
        self.check = check
        self.name = inner.name

    async def scan(self, target: T) -> list[Finding]:
        """The inner scanner's findings; ScanIncomplete for anything unexpected."""
        try:
            return await self.inner.scan(target)
        except ScanIncomplete:
            raise
        except Exception:
            log.exception("the %s check stopped on an unexpected error", self.check)
            raise ScanIncomplete(self.check, "the check stopped on an unexpected error "
                                             "(logged for the operators)") from None
