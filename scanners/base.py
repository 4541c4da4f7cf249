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

from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from scanners.findings import Finding

T_contra = TypeVar("T_contra", contravariant=True)


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
