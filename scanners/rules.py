"""The rule catalogue: the only place where points, severities and rule text come from.

A scanner never invents a score. It emits :class:`~scanners.findings.Finding`
values that name a rule of this catalogue by its stable id; the points, the
severity, the titles and the reply words are read from here. ``GET /v1/rules``
publishes the catalogue and ``docs/rules.md`` is generated from it
(``python -m scanners.rules > docs/rules.md``; a test keeps the two equal).

The rules themselves are data in one module per scope: :mod:`scanners.catalogue.url`,
:mod:`scanners.catalogue.message` and :mod:`scanners.catalogue.apk`. Their types, the
verdicts and the verdict thresholds are in :mod:`scanners.catalogue.model` and are
re-exported here. This module assembles them, looks them up and renders them.

Rule ids are stable: a rule may be retuned or retired (``Status.RETIRED``), never
renumbered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys

from scanners.catalogue import apk as _apk
from scanners.catalogue import message as _message
from scanners.catalogue import url as _url
from scanners.catalogue.message import LINK_RULES
from scanners.catalogue.model import (
    DANGEROUS_AT,
    MAX_SCORE,
    SCOPE_PREFIX,
    SUSPICIOUS_AT,
    Kind,
    Rule,
    Scope,
    Severity,
    Status,
    Verdict,
    rule,
    verdict_for,
)

__all__ = [
    "CATALOGUE", "DANGEROUS_AT", "LINK_RULES", "MAX_SCORE", "RULES", "SCOPE_PREFIX",
    "SUSPICIOUS_AT", "Kind", "Rule", "Scope", "Severity", "Status", "Verdict",
    "content_hash", "markdown", "rule", "verdict_for",
]

RULES: tuple[Rule, ...] = (*_url.RULES, *_message.RULES, *_apk.RULES)
"""Every rule in catalogue order (links, chat messages, apps)."""

CATALOGUE: dict[str, Rule] = {r.id: r for r in RULES}
"""Every rule by id, in catalogue order."""


def content_hash() -> str:
    """A digest of every field of every rule: changes with any retune, retirement,
    re-wording or new rule (part of the cache version of stored reports)."""
    data = [dataclasses.asdict(r) for r in RULES]
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def markdown() -> str:
    """The catalogue as the Markdown document ``docs/rules.md``."""
    lines = [
        "# Rule catalogue",
        "",
        "Generated from `scanners/rules.py` by `python -m scanners.rules > docs/rules.md`;",
        f"a test fails when the two differ. Points add up to the risk score (capped at "
        f"{MAX_SCORE}).",
        "Allowlist rules add nothing and zero the suppressible rules; blocklist rules are",
        f"never suppressed. Verdicts: `dangerous` at {DANGEROUS_AT} points or more, "
        f"`suspicious` at {SUSPICIOUS_AT}",
        "or more, `official` when an official-domain rule matched and nothing counts,",
        "`no_known_risk` otherwise.",
        "",
        "| id | points | severity | kind | suppressible | title (vi) | title (en) |",
        "|---|---:|---|---|---|---|---|",
    ]
    for r in RULES:
        points = f"≤ {r.points} (item's score)" if r.inherits else str(r.points)
        lines.append(
            f"| `{r.id}` | {points} | {r.severity} | {r.kind} | "
            f"{'yes' if r.suppressible else 'no'} | {r.title_vi} | {r.title_en} |"
        )
    lines += ["", "## Descriptions", ""]
    for r in RULES:
        lines += [f"- **`{r.id}`**: {r.description}"]
    lines += [
        "", "## Chat message typology", "",
        "The scam families of `scanners/message_types.py`. A message whose topic meets one of",
        "its family's demands gets the family's rule; its `scam_type` is the family id, and",
        "the reply (headline, steps, \"if you already…\", hotlines) is the family's own.",
        "`MSG-COMBO-006` adds when the family script also asks for money, a code, an app or",
        "sends an unknown link.", "",
        "| scam_type | rule | vi | en |", "|---|---|---|---|",
    ]
    for r in RULES:
        if r.scam_type is not None:
            lines.append(f"| `{r.scam_type}` | `{r.id}` | {r.title_vi} | {r.title_en} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
