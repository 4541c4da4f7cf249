"""Accuracy of the APK scanner on the shared sample sets.

    python eval/apks.py --data ../shared/data/apks [--show] [--markdown] [--cache DIR]

The zips (password ``infected``) hold live Android malware: members are
extracted one at a time into a private temporary directory, parsed (never
installed or run) and deleted. ``--cache DIR`` keeps the extracted *facts*
(JSON, no sample bytes) so that a rerun only rescores. "Flagged" means a
verdict of ``suspicious`` or ``dangerous``; a file the scanner refuses (not an
app, a bare DEX) is counted apart, as it would be answered with an error, not
a verdict.

Every figure is without blocklists (``scamscan apk --no-blocklists``: no hash,
package or signer list; the official-app registry stays), in three modes:

- ``rules``: the catalogue rules without the capability model (APK-ML-001);
- ``model``: the capability model alone (flagged = its finding fired);
- ``combined``: what the product answers (rules and model).

Leave-one-source-out and leave-one-family-out tables group the same scores by
the sample's ``source_repo`` and by its family (from the notes and package).
Nothing is fitted on these APK files: the rules are hand-written and the model
is trained on the ``apk_features`` tables only (``eval/train_apk_model.py``),
so a left-out source or family is scored by exactly the rules and model that
score it in the full run; the tables say how each group fares.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import blocklists
from scanners.apk import ApkScanner
from scanners.apk_facts import ApkError, ApkFacts, extract_facts
from scanners.errors import ScanIncomplete
from scanners.findings import Finding, Verdict, aggregate

PASSWORD = b"infected"
FLAGGED = {Verdict.SUSPICIOUS, Verdict.DANGEROUS}
MODEL_RULE = "APK-ML-001"


@dataclass
class Row:
    sha: str
    set: str
    source: str
    family: str
    label: str
    package: str
    refused: str = ""
    rules_score: int = 0
    rules_flag: bool = False
    model_flag: bool = False
    combined_score: int = 0
    combined_flag: bool = False
    ids: tuple[str, ...] = ()
    seconds: float = 0.0


def family(meta: dict[str, str]) -> str:
    """A sample's family: the named malware or app in its notes, else its source."""
    notes = (meta.get("notes") or "").lower()
    for key, name in (("roaming mantis", "Roaming Mantis"), ("ahmyth", "AhMyth"),
                      ("spyware", "spyware (quark)"), ("phishing-domain", "TR/BR phishing bankers"),
                      ("quark test sample", "quark test malware"),
                      ("apksig", "AOSP apksig tests"), ("aosp sample", "AOSP samples"),
                      ("intentionally vulnerable", "vulnerable-by-design apps"),
                      ("f-droid", "F-Droid apps")):
        if key in notes:
            return name
    return meta.get("package") or meta.get("source_repo") or "unknown"


def _facts(z: zipfile.ZipFile, info: zipfile.ZipInfo, tmp: Path,
           cache: Path | None) -> tuple[ApkFacts | None, str, float]:
    sha = Path(info.filename).stem
    cached = cache / f"{sha}.json" if cache else None
    if cached is not None and cached.is_file():
        text = cached.read_text(encoding="utf-8")
        if text.startswith("refused:"):
            return None, text[8:], 0.0
        return ApkFacts.from_json(text), "", 0.0
    target = tmp / Path(info.filename).name
    target.write_bytes(z.read(info, pwd=PASSWORD))
    t = time.perf_counter()
    try:
        facts = extract_facts(target)
    except (ApkError, ScanIncomplete) as e:
        if cached is not None:
            cached.write_text("refused:" + str(e)[:200], encoding="utf-8")
        return None, str(e)[:200], time.perf_counter() - t
    finally:
        target.unlink(missing_ok=True)
    if cached is not None:
        cached.write_text(facts.to_json(), encoding="utf-8")
    return facts, "", time.perf_counter() - t


def evaluate(data: Path, cache: Path | None) -> list[Row]:
    with (data / "samples.csv").open(encoding="utf-8", newline="") as f:
        meta = {r["sha256"]: r for r in csv.DictReader(f)}
    scanner = ApkScanner(blocklist=blocklists.ApkBlocklist())
    rows: list[Row] = []
    for name in ("malware", "benign"):
        with zipfile.ZipFile(data / f"{name}.zip") as z, tempfile.TemporaryDirectory() as tmp:
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                if info.is_dir():
                    continue
                sha = Path(info.filename).stem
                m = meta.get(sha, {})
                row = Row(sha, name, m.get("source_repo", "?"), family(m), m.get("label", ""),
                          m.get("package", ""))
                facts, refused, row.seconds = _facts(z, info, Path(tmp), cache)
                if facts is None:
                    row.refused = refused or "refused"
                    rows.append(row)
                    continue
                found = scanner.check(facts)
                rules_only = [f for f in found if f.rule_id != MODEL_RULE]
                agg_r = aggregate(Finding(f.rule_id, f.evidence) for f in rules_only)
                agg = aggregate(found)
                row.package = facts.package or ""
                row.rules_score, row.rules_flag = agg_r.risk_score, agg_r.verdict in FLAGGED
                row.model_flag = any(f.rule_id == MODEL_RULE for f in found)
                row.combined_score, row.combined_flag = agg.risk_score, agg.verdict in FLAGGED
                row.ids = tuple(f.rule_id for f in agg.counted if f.rule.points)
                rows.append(row)
    return rows


def _rate(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "0/0"


def table(rows: list[Row], key: str, title: str) -> list[str]:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(getattr(r, key), r.set)].append(r)
    out = [f"| {title} | set | scanned | refused | rules | model | combined |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for (g, s), rs in sorted(groups.items()):
        ok = [r for r in rs if not r.refused]
        out.append(f"| {g} | {s} | {len(ok)} | {len(rs) - len(ok)} | "
                   f"{_rate(sum(r.rules_flag for r in ok), len(ok))} | "
                   f"{_rate(sum(r.model_flag for r in ok), len(ok))} | "
                   f"{_rate(sum(r.combined_flag for r in ok), len(ok))} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path, help="folder with benign.zip, malware.zip")
    ap.add_argument("--cache", type=Path, help="keep the extracted facts (JSON) here")
    ap.add_argument("--show", action="store_true", help="print every sample's verdict")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = ap.parse_args(argv)
    if not (args.data / "malware.zip").is_file():
        print(f"eval: {args.data} has no malware.zip", file=sys.stderr)
        return 2
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    rows = evaluate(args.data, args.cache)
    print("| set | scanned | refused | rules only | model only | combined (product, "
          "no blocklists) | s per file |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in ("malware", "benign"):
        rs = [r for r in rows if r.set == s]
        ok = [r for r in rs if not r.refused]
        per = sum(r.seconds for r in rs) / len(rs) if rs else 0.0
        print(f"| {s} | {len(ok)} | {len(rs) - len(ok)} | "
              f"{_rate(sum(r.rules_flag for r in ok), len(ok))} | "
              f"{_rate(sum(r.model_flag for r in ok), len(ok))} | "
              f"{_rate(sum(r.combined_flag for r in ok), len(ok))} | {per:.2f} |")
    if args.markdown:
        print()
        print("\n".join(table(rows, "source", "left-out source (source_repo)")))
        print()
        print("\n".join(table(rows, "family", "left-out family")))
    if args.show:
        for r in rows:
            state = r.refused[:50] if r.refused else (
                f"{r.combined_score:3d} {'FLAG' if r.combined_flag else 'calm'}"
                f"{' model' if r.model_flag else ''}")
            print(f"  {r.set[:3]} {r.sha[:10]} {r.label[:24]:24s} {r.package[:34]:34s} "
                  f"{state:18s} {' '.join(r.ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
