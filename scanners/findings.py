"""Findings and the explainable aggregate.

A :class:`Finding` names a rule of :mod:`scanners.rules` and carries the
evidence that made it match. Its points, severity and titles come from the
rule and nowhere else. :func:`aggregate` turns findings into a risk score, a
verdict and reasons; every point of the score is traceable to one finding,
after Assemblyline's heuristics: ``risk_score == min(100, sum(points))`` over
the findings it returns as counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scanners import rules
from scanners.rules import (
    DANGEROUS_AT,
    MAX_SCORE,
    SUSPICIOUS_AT,
    Kind,
    Rule,
    Severity,
    Status,
    Verdict,
    verdict_for,
)

__all__ = [
    "DANGEROUS_AT", "MAX_REASONS", "SUSPICIOUS_AT", "Aggregate", "Evidence", "Finding",
    "Verdict", "aggregate", "relabel", "verdict_for",
]

Evidence = Mapping[str, Any]

MAX_REASONS = 3


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that matched, with what was observed."""

    rule_id: str
    evidence: Evidence = field(default_factory=dict)
    inherited: int | None = None
    """For a rule that inherits (``Rule.inherits``): the score of the item it reports,
    from 0 to the rule's points; ``None`` for every other rule."""
    rule: Rule = field(init=False, repr=False, compare=False)
    """The catalogue entry this finding instantiates."""

    def __post_init__(self) -> None:
        # Fail at the point of creation: a typo in a rule id must not
        # surface later as a score that cannot be explained.
        rule = rules.CATALOGUE.get(self.rule_id)
        if rule is None:
            raise KeyError(f"unknown rule id {self.rule_id!r}")
        if rule.status is Status.RETIRED:
            raise ValueError(f"{self.rule_id} is retired: no scanner may emit it")
        if (self.inherited is not None) != rule.inherits or (
                self.inherited is not None and not 0 <= self.inherited <= rule.points):
            raise ValueError(f"{self.rule_id}: inherited points {self.inherited!r} do not fit "
                             "the rule")
        object.__setattr__(self, "rule", rule)

    @property
    def points(self) -> int:
        """The rule's points, or the inherited item score for an inheriting rule."""
        return self.rule.points if self.inherited is None else self.inherited

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def to_dict(self, lang: str, points: int | None = None) -> dict[str, Any]:
        """The finding as the report's JSON object, titled in ``lang``."""
        r = self.rule
        return {
            "rule_id": r.id,
            "points": self.points if points is None else points,
            "severity": r.severity.value,
            "title": r.title(lang),
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class Aggregate:
    """The explained result of a set of findings."""

    risk_score: int
    verdict: Verdict
    counted: tuple[Finding, ...]
    """Findings whose points count, worst first."""
    suppressed: tuple[tuple[Finding, str], ...]
    """Findings zeroed by an allowlist rule, with the id of that rule."""
    allowlisted: tuple[Finding, ...]

    def reasons(self, lang: str) -> list[str]:
        """The titles of the heaviest findings, in ``lang``, without repeats."""
        # Zero-point findings (decoded obfuscation, the fetched chain) inform
        # but are not reasons.
        source = [f for f in self.counted if f.points] or self.allowlisted
        return _first_titles(f.rule.title(lang) for f in source)

    def findings_json(self, lang: str) -> list[dict[str, Any]]:
        """Counted and allowlist findings, then suppressed ones shown with 0 points."""
        out = [f.to_dict(lang) for f in self.counted]
        out += [f.to_dict(lang) for f in self.allowlisted]
        for f, by in self.suppressed:
            d = f.to_dict(lang, points=0)
            d["suppressed_by"] = by
            out.append(d)
        return out


_SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


def aggregate(findings: Iterable[Finding]) -> Aggregate:
    """Combine findings into a score and a verdict.

    * Allowlist findings zero every suppressible finding; blocklist findings
      are never suppressed.
    * A rule counts once per report, however many findings name it: the
      strongest evidence stands for it and repeats are listed with 0 points.
    * The score is the capped sum of counted points; the verdict follows the
      thresholds, and is ``official`` only when an official-domain rule
      matched and nothing counts.
    """
    fs = list(findings)
    allow = [f for f in fs if f.rule.kind is Kind.ALLOWLIST]
    allow_id = allow[0].rule_id if allow else None
    counted: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = []
    seen_rules: set[str] = set()
    for f in fs:
        r = f.rule
        if r.kind is Kind.ALLOWLIST:
            continue
        if allow_id is not None and r.suppressible:
            suppressed.append((f, allow_id))
        elif r.id in seen_rules:
            suppressed.append((f, r.id))
        else:
            seen_rules.add(r.id)
            counted.append(f)
    if len(counted) > 1:
        counted.sort(key=lambda f: (-f.points, -_SEVERITY_ORDER[f.rule.severity],
                                    f.rule_id))
    score = min(MAX_SCORE, sum(f.points for f in counted))
    verdict = verdict_for(score, official=any(f.rule.official for f in allow))
    return Aggregate(score, verdict, tuple(counted), tuple(suppressed), tuple(allow))


def _first_titles(titles: Iterable[str]) -> list[str]:
    """The first :data:`MAX_REASONS` distinct titles."""
    out: list[str] = []
    for t in titles:
        if t not in out:
            out.append(t)
        if len(out) == MAX_REASONS:
            break
    return out


def relabel(report: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """``report`` (a stored link, app or message report) with its titles and reasons
    in ``lang``: the one way a report is read in the other language.

    Points, score, verdict and evidence stay as stored: the report is a record of
    what was decided then. Only the words change, looked up by rule id: each
    finding's title comes from the catalogue in ``lang`` (a rule no longer in the
    catalogue keeps its stored title), and the reasons are rebuilt from the
    findings the way :meth:`Aggregate.reasons` builds them (the titles of the
    counted findings with points, worst first, else of the allowlist findings).
    Stored reasons stay when none can be rebuilt.
    """
    out = dict(report)
    findings: list[dict[str, Any]] = []
    counted: list[str] = []
    allow: list[str] = []
    for f in report.get("findings") or []:
        g = dict(f)
        rule = rules.CATALOGUE.get(str(g.get("rule_id")))
        if rule is not None:
            g["title"] = rule.title(lang)
            if rule.kind is Kind.ALLOWLIST:
                allow.append(g["title"])
            elif rule.points and "suppressed_by" not in g:
                counted.append(g["title"])
        findings.append(g)
    out["findings"] = findings
    reasons = _first_titles(counted or allow)
    if reasons or not report.get("reasons"):
        out["reasons"] = reasons
    return out
