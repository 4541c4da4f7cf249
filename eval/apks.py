"""Accuracy of the APK scanner on the shared sample sets.

    python eval/apks.py --data ../shared/data/apks [--show] [--markdown]

The zips (password ``infected``) hold live Android malware: members are
extracted one at a time into a private temporary directory, parsed (never
installed or run) and deleted. "Flagged" means a verdict of ``suspicious`` or
``dangerous``; a file the scanner refuses (not an app, a bare DEX) is counted
apart, as it would be answered with an error, not a verdict.

Two modes: ``product`` (the bundled APK blocklist included: it holds these
malware samples' hashes, so it is 100% by construction) and ``rules only``
(no blocklist: what the capability, impersonation, certificate and code
rules find on their own; the number that matters).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import blocklists
from scanners.apk import ApkScanner
from scanners.apk_facts import ApkError, extract_facts
from scanners.errors import ScanIncomplete
from scanners.findings import Verdict, aggregate

PASSWORD = b"infected"
FLAGGED = {Verdict.SUSPICIOUS, Verdict.DANGEROUS}


@dataclass
class SetResult:
    name: str
    total: int = 0
    flagged: int = 0
    refused: int = 0
    seconds: float = 0.0
    rows: list[tuple[str, str, str, int, str, list[str]]] = field(default_factory=list)
    rules: Counter[str] = field(default_factory=Counter)
    flagged_rules_only: int = 0


def evaluate(zip_path: Path, meta: dict[str, dict[str, str]], scanner: ApkScanner,
             rules_only: ApkScanner, name: str) -> SetResult:
    res = SetResult(name)
    with zipfile.ZipFile(zip_path) as z, tempfile.TemporaryDirectory() as tmp:
        for info in sorted(z.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            target = Path(tmp) / Path(info.filename).name
            target.write_bytes(z.read(info, pwd=PASSWORD))
            sha = target.stem
            label = meta.get(sha, {}).get("label", "")
            t = time.perf_counter()
            try:
                facts = extract_facts(target)
            except (ApkError, ScanIncomplete) as e:
                res.refused += 1
                res.rows.append((sha[:12], label, "refused", 0, str(e)[:60], []))
                continue
            finally:
                res.seconds += time.perf_counter() - t
                target.unlink(missing_ok=True)
            agg = aggregate(scanner.check(facts))
            res.flagged_rules_only += aggregate(rules_only.check(facts)).verdict in FLAGGED
            res.total += 1
            hit = agg.verdict in FLAGGED
            res.flagged += hit
            ids = [f.rule_id for f in agg.counted if f.rule.points]
            res.rules.update(ids)
            res.rows.append((sha[:12], label, facts.package or "", agg.risk_score,
                             agg.verdict.value, ids))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path, help="folder with benign.zip, malware.zip")
    ap.add_argument("--show", action="store_true", help="print every sample's verdict")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    if not (args.data / "malware.zip").is_file():
        print(f"eval: {args.data} has no malware.zip", file=sys.stderr)
        return 2
    with (args.data / "samples.csv").open(encoding="utf-8", newline="") as f:
        meta = {r["sha256"]: r for r in csv.DictReader(f)}
    scanner = ApkScanner()
    rules_only = ApkScanner(blocklist=blocklists.ApkBlocklist())
    results = [evaluate(args.data / "malware.zip", meta, scanner, rules_only, "malware"),
               evaluate(args.data / "benign.zip", meta, scanner, rules_only, "benign")]
    if args.markdown:
        print("| set | apps scanned | flagged (product) | flagged (rules only) | "
              "refused (not an app) | s per file |")
        print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        files = r.total + r.refused
        per = r.seconds / files if files else 0.0
        what = "detection" if r.name == "malware" else "false positives"
        rate = r.flagged / r.total if r.total else 0.0
        rate_rules = r.flagged_rules_only / r.total if r.total else 0.0
        if args.markdown:
            print(f"| {r.name} | {r.total} | {r.flagged} ({what} {rate:.1%}) | "
                  f"{r.flagged_rules_only} ({rate_rules:.1%}) | {r.refused} | {per:.2f} |")
        else:
            print(f"{r.name:8s} scanned={r.total:3d} product: flagged={r.flagged:3d} {what} "
                  f"{rate:6.1%}  rules only: flagged={r.flagged_rules_only:3d} "
                  f"{rate_rules:6.1%}  refused={r.refused}  {per:.2f} s/file")
    if args.show:
        for r in results:
            print(f"\n[{r.name}]")
            for sha, label, pkg, score, verdict, ids in r.rows:
                print(f"  {sha} {label[:28]:28s} {pkg[:40]:40s} {score:3d} {verdict:13s} "
                      f"{' '.join(ids)}")
            print("  rules:", ", ".join(f"{k}×{v}" for k, v in r.rules.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
