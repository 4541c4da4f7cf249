"""Accuracy of the offline message check on the bundled message set.

    python eval/messages.py [--data eval/messages] [--show N] [--markdown]

The set (``eval/messages/scams.jsonl`` and ``benign.jsonl``, one JSON object a
line: ``id``, ``lang``, ``based_on``, ``text``) holds Vietnamese and English
messages: scams written after the public police, tax, power-company and bank
warnings of 2023-2025, and benign look-alikes (official notices with gov.vn
links, police and bank warnings, OTP messages, ordinary chat with links).

"Flagged" means a verdict of ``suspicious`` or ``dangerous``. Targets: at least
95% of the scams flagged, at most 5% of the benign messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.message import check_message
from scanners.url_offline import OfflineURLScanner, default_scanner

FLAGGED = {"suspicious", "dangerous"}
HERE = Path(__file__).resolve().parent
DETECTION_TARGET = 0.95
FPR_TARGET = 0.05


@dataclass
class Result:
    name: str
    total: int = 0
    flagged: int = 0
    misses: list[tuple[str, int, str]] = field(default_factory=list)
    """(id, score, verdict) of the messages on the wrong side."""

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                raise SystemExit(f"{path}:{n}: not JSON: {e}") from None
    return rows


async def run(scanner: OfflineURLScanner, rows: list[dict[str, Any]], name: str,
              scam: bool) -> Result:
    res = Result(name)
    for row in rows:
        report = await check_message(row["text"], scanner, lang=row.get("lang", "vi"))
        res.total += 1
        flagged = report["verdict"] in FLAGGED
        res.flagged += flagged
        if flagged != scam:
            res.misses.append((row["id"], report["risk_score"], report["verdict"]))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE / "messages")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    scams = load(args.data / "scams.jsonl")
    benign = load(args.data / "benign.jsonl")
    scanner = default_scanner()
    det = asyncio.run(run(scanner, scams, "scams", scam=True))
    fp = asyncio.run(run(scanner, benign, "benign", scam=False))
    langs = {lang: sum(1 for r in scams + benign if r.get("lang") == lang) for lang in ("vi", "en")}
    if args.markdown:
        print("| set | messages | flagged | rate | target |")
        print("|---|---:|---:|---:|---|")
        print(f"| scams (detection) | {det.total} | {det.flagged} | {det.rate:.1%} | ≥ 95% |")
        print(f"| benign (false positives) | {fp.total} | {fp.flagged} | {fp.rate:.1%} | ≤ 5% |")
    else:
        print(f"messages: {det.total + fp.total} ({langs['vi']} vi, {langs['en']} en)")
        print(f"detection: {det.flagged}/{det.total} scams flagged = {det.rate:.1%} "
              f"(target >= {DETECTION_TARGET:.0%})")
        print(f"false positives: {fp.flagged}/{fp.total} benign flagged = {fp.rate:.1%} "
              f"(target <= {FPR_TARGET:.0%})")
    for label, res in (("missed scam", det), ("false positive", fp)):
        for id_, score, verdict in res.misses:
            print(f"  {label}: {id_} score={score} verdict={verdict}")
    ok = det.rate >= DETECTION_TARGET and fp.rate <= FPR_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
