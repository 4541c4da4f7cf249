"""Link reports: run the scanners on one input and explain the result.

The report is a plain dict with the contract fields that the CLI's JSON lines
and the API share::

    input, url, host, registrable_domain, risk_score, verdict, reasons,
    findings[{rule_id, points, severity, title, evidence}], incomplete

plus ``host_unicode`` (the host as a reader sees it; equal to ``host`` unless
IDN). ``host`` is always the ASCII (punycode) form used in ``url``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from scanners.base import CheckIncomplete, Scanner
from scanners.errors import ScanIncomplete
from scanners.findings import Finding, aggregate
from scanners.normalize import ParsedURL, normalize


def url_report(
    parsed: ParsedURL,
    findings: Iterable[Finding],
    lang: str = "vi",
    incomplete: Sequence[CheckIncomplete] = (),
) -> dict[str, Any]:
    """The contract report for one parsed URL and its findings."""
    fs = findings if isinstance(findings, list) else list(findings)
    # Most links of real traffic have no finding: their aggregate is always the same.
    agg = aggregate(fs) if fs else _NOTHING
    return {
        "input": parsed.input,
        "url": parsed.url,
        "host": parsed.host,
        "host_unicode": parsed.host_unicode,
        "registrable_domain": parsed.registrable_domain,
        "risk_score": agg.risk_score,
        "verdict": agg.verdict.value,
        "reasons": agg.reasons(lang),
        "findings": agg.findings_json(lang),
        "incomplete": [i.to_dict() for i in incomplete],
    }


_NOTHING = aggregate(())


def error_report(text: str, reason: str) -> dict[str, Any]:
    """The JSON line for an input that could not be parsed."""
    return {"input": text, "error": reason}


async def scan_url(
    text: str,
    scanners: Sequence[Scanner[ParsedURL]],
    lang: str = "vi",
    incomplete: Sequence[CheckIncomplete] = (),
) -> dict[str, Any]:
    """Normalise ``text``, run every scanner on it and build the report.

    Raises :class:`~scanners.errors.InvalidURLError` when ``text`` is not a link.
    """
    parsed = normalize(text)
    findings, missing = await run_scanners(parsed, scanners)
    return url_report(parsed, findings, lang, [*incomplete, *missing])


async def run_scanners(
    target: ParsedURL, scanners: Sequence[Scanner[ParsedURL]]
) -> tuple[list[Finding], list[CheckIncomplete]]:
    """Run the scanners concurrently; collect findings and the checks that did not finish.

    A scanner that raises :class:`ScanIncomplete` contributes its partial
    findings and one ``incomplete`` entry. Any other exception propagates: a
    report that silently lost a check could call a scam "no known risk", so a
    bug must surface as an error, not as a calm verdict.

    A lone scanner (every offline scan) is awaited directly: gathering one coroutine
    makes it a task of its own and takes another round of the event loop, a measurable
    part of an offline link scan through the API (docs/evaluation.md, "Service load").
    """
    results: Sequence[list[Finding] | BaseException]
    if len(scanners) == 1:
        try:
            results = [await scanners[0].scan(target)]
        except ScanIncomplete as e:
            results = [e]
    else:
        results = await asyncio.gather(*(s.scan(target) for s in scanners),
                                       return_exceptions=True)
    findings: list[Finding] = []
    missing: list[CheckIncomplete] = []
    for r in results:
        if isinstance(r, ScanIncomplete):
            findings.extend(r.findings)
            missing.append(CheckIncomplete(r.check, r.reason))
        elif isinstance(r, BaseException):
            raise r
        else:
            findings.extend(r)
    return findings, missing
