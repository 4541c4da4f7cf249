"""Accuracy of the offline message check on the bundled message sets.

    python eval/messages.py [--data eval/messages]
                            [--split dev|dev2|heldout2|heldout3|all] [--show]
                            [--markdown]

Four splits, reported apart:

* ``dev`` (``eval/messages/scams.jsonl`` and ``benign.jsonl``): the messages the
  typology rules were written and tuned on;
* ``dev2`` (``eval/messages/dev2/``): the first held-out half, written before
  the typology rules. Its misses were read to fix the false positives of
  issue 13, so it is a tuning split now (it was ``heldout``);
* ``heldout2`` (``eval/messages/heldout2/``): written on 2026-12-05 before any
  rule change of that fix (its commit precedes them) and never tuned on. Only
  its aggregate figures are printed unless ``--show`` is given;
* ``heldout3`` (``eval/messages/heldout3/``): written after ``heldout2``'s
  aggregate was read once and before the rule changes that followed; held out
  the same way.

One JSON object a line: ``id``, ``lang``, ``text``, optionally ``type`` (the
scam family of ``scanners/message_types.py`` that the message is, or imitates
for a benign one) and ``based_on``.

"Flagged" means a verdict of ``suspicious`` or ``dangerous``. A scam "carries a
link, an app or a money request" when the extraction finds a link or an app in
it, or it asks for money (``MSG-PAY-001`` or the typology's money ask, whether or
not it counted). Targets (judged on the held-out split): at least 95% of the scams
flagged, at least 80% of those carrying a link, app or money request
``dangerous``, at most 5% of the benign messages flagged. The rules are the only
detector of messages (no learned model), so the rules-only figures are the
combined ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.message import check_message, extract
from scanners.message_types import MONEY_ASK
from scanners.message_view import folded_view
from scanners.url_offline import OfflineURLScanner, default_scanner

FLAGGED = {"suspicious", "dangerous"}
HERE = Path(__file__).resolve().parent
DETECTION_TARGET = 0.95
DANGEROUS_TARGET = 0.80
FPR_TARGET = 0.05


@dataclass
class Result:
    name: str
    total: int = 0
    flagged: int = 0
    carries: int = 0
    carries_dangerous: int = 0
    typed: int = 0
    type_right: int = 0
    misses: list[tuple[str, int, str, str | None]] = field(default_factory=list)
    """(id, score, verdict, scam_type) of the messages on the wrong side."""
    not_dangerous: list[tuple[str, int, str]] = field(default_factory=list)
    wrong_type: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0

    @property
    def dangerous_rate(self) -> float:
        return self.carries_dangerous / self.carries if self.carries else 0.0


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                raise SystemExit(f"{path}:{n}: not JSON: {e}") from None
    return rows


def carries(text: str, report: dict[str, Any]) -> bool:
    """A link, an app or a money request in the message."""
    ex = extract(text)
    return bool(ex.links or ex.apps or any(s.rule_id == "MSG-PAY-001" for s in ex.signals)
                or MONEY_ASK.search(folded_view(text).text))


async def run(scanner: OfflineURLScanner, rows: list[dict[str, Any]], name: str,
              scam: bool) -> Result:
    res = Result(name)
    for row in rows:
        report = await check_message(row["text"], scanner, lang=row.get("lang", "vi"))
        res.total += 1
        flagged = report["verdict"] in FLAGGED
        res.flagged += flagged
        if flagged != scam:
            res.misses.append((row["id"], report["risk_score"], report["verdict"],
                               report["scam_type"]))
        if scam and carries(row["text"], report):
            res.carries += 1
            if report["verdict"] == "dangerous":
                res.carries_dangerous += 1
            else:
                res.not_dangerous.append((row["id"], report["risk_score"], report["verdict"]))
        if scam and row.get("type"):
            res.typed += 1
            if report["scam_type"] == row["type"]:
                res.type_right += 1
            else:
                res.wrong_type.append((row["id"], row["type"], report["scam_type"]))
    return res


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.1%}" if b else "n/a"


def report_split(label: str, det: Result, fp: Result, markdown: bool, show: bool) -> bool:
    ok = (det.rate >= DETECTION_TARGET and fp.rate <= FPR_TARGET
          and det.dangerous_rate >= DANGEROUS_TARGET)
    if markdown:
        print(f"| {label} | {det.total} | {_pct(det.flagged, det.total)} | "
              f"{_pct(det.carries_dangerous, det.carries)} | {_pct(fp.flagged, fp.total)} | "
              f"{_pct(det.type_right, det.typed)} |")
    else:
        print(f"[{label}] messages: {det.total + fp.total} ({det.total} scams, "
              f"{fp.total} benign)")
        print(f"  scams flagged:                       {_pct(det.flagged, det.total)} "
              f"(target >= {DETECTION_TARGET:.0%})")
        print(f"  with link/app/money ask, dangerous:  "
              f"{_pct(det.carries_dangerous, det.carries)} (target >= {DANGEROUS_TARGET:.0%})")
        print(f"  benign flagged:                      {_pct(fp.flagged, fp.total)} "
              f"(target <= {FPR_TARGET:.0%})")
        print(f"  scam_type right (typed scams):       {_pct(det.type_right, det.typed)}")
    if show and not markdown:
        for label2, res in (("missed scam", det), ("false positive", fp)):
            for id_, score, verdict, st in res.misses:
                print(f"    {label2}: {id_} score={score} verdict={verdict} type={st}")
        for id_, score, verdict in det.not_dangerous:
            print(f"    not dangerous: {id_} score={score} verdict={verdict}")
        for id_, want, got in det.wrong_type:
            print(f"    type: {id_} expected={want} got={got}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE / "messages")
    ap.add_argument("--split", choices=("dev", "dev2", "heldout2", "heldout3", "all"),
                    default="all")
    ap.add_argument("--show", action="store_true",
                    help="list the misses (of the held-out split too: do not tune on them)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    scanner = default_scanner()
    splits = {"dev": args.data, "dev2": args.data / "dev2",
              "heldout2": args.data / "heldout2", "heldout3": args.data / "heldout3"}
    chosen = list(splits) if args.split == "all" else [args.split]
    if args.markdown:
        print("| split | scams | scams flagged (≥ 95%) | with link/app/money ask: dangerous "
              "(≥ 80%) | benign flagged (≤ 5%) | scam_type right |")
        print("|---|---:|---:|---:|---:|---:|")
    ok = True
    for name in chosen:
        d = splits[name]
        det = asyncio.run(run(scanner, load(d / "scams.jsonl"), "scams", scam=True))
        fp = asyncio.run(run(scanner, load(d / "benign.jsonl"), "benign", scam=False))
        show = args.show or (not name.startswith("heldout") and not args.markdown)
        ok = report_split(name, det, fp, args.markdown, show) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
