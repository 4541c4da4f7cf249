"""Accuracy of the offline link scanner on the shared evaluation sets.

    python eval/urls.py --data ../shared/data/urls [--show-fp N] [--markdown]

"Flagged" means a verdict of ``suspicious`` or ``dangerous``. Each set is run in
two modes:

* ``product``: everything scamscan ships, bundled blocklists included;
* ``rules only``: the blocklists switched off, so that the numbers measure
  the impersonation and lexical rules alone.

The Vietnamese scam hosts first listed on or after the bundling cut-off
(``blocklists/data/hostsvn_threat_vn.txt`` keeps only earlier ones) and not on
any bundled list measure the rules on scams the lists do not know.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import blocklists
from scanners.errors import InvalidURLError
from scanners.findings import aggregate
from scanners.normalize import normalize
from scanners.registry import Registry, registry
from scanners.url_offline import OfflineURLScanner

FLAGGED = {"suspicious", "dangerous"}


class _NoLists:
    def lookup(
        self, host: str, registrable_domain: str, path: str = "/"
    ) -> Sequence[blocklists.BlocklistHit]:
        return ()


@dataclass
class Result:
    name: str
    kind: str  # "recall" or "fpr"
    total: int = 0
    flagged: int = 0
    errors: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0


def run(scanner: OfflineURLScanner, name: str, kind: str, inputs: Iterable[str]) -> Result:
    res = Result(name, kind)
    for text in inputs:
        try:
            p = normalize(text)
        except InvalidURLError:
            res.errors += 1
            continue
        res.total += 1
        verdict = aggregate(scanner.check(p)).verdict.value
        hit = verdict in FLAGGED
        if hit:
            res.flagged += 1
        if hit == (kind == "fpr"):
            res.examples.append(text)
    return res


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def cutoff() -> str:
    for line in (blocklists.data_dir() / "hostsvn_threat_vn.txt").open(encoding="utf-8"):
        if line.startswith("#") and line.lower().startswith("# cutoff"):
            return line.split("<", 1)[1].strip().split()[0]
        if not line.startswith("#"):
            break
    raise SystemExit("cannot find the cut-off in hostsvn_threat_vn.txt")


def datasets(data: Path) -> list[tuple[str, str, list[str]]]:
    gov = _csv(data / "gov_impersonation_dev.csv")
    good = _csv(data / "vn_domains_known_good.csv")
    scam = _csv(data / "vn_scam_hosts_dev.csv")
    cut = cutoff()
    listed = blocklists.BlocklistIndex.bundled()
    later = []
    for r in scam:
        if r["first_seen"] >= cut:
            try:
                p = normalize(r["host"])
            except InvalidURLError:
                continue
            if not listed.lookup(p.host, p.registrable_domain, p.path):
                later.append(r["host"])
    tranco = [row[1] for row in csv.reader((data / "tranco_top10k.csv").open(encoding="utf-8"))]
    good_hosts = sorted({r["registrable_domain"] for r in good}
                        | {h for r in good for h in r["hosts_seen"].split(";") if h})
    openphish = [json.loads(line)["url"] for line in
                 (data / "openphish_dev.jsonl").open(encoding="utf-8") if line.strip()]
    return [
        ("gov_impersonation_dev malicious", "recall",
         [r["host"] for r in gov if r["label"] == "malicious"]),
        ("gov_impersonation_dev benign", "fpr",
         [r["host"] for r in gov if r["label"] == "benign"]),
        ("tranco_top10k", "fpr", tranco),
        ("vn_domains_known_good (registrables + hosts seen)", "fpr", good_hosts),
        (f"vn_scam_hosts_dev first seen >= {cut}, not on bundled lists", "recall", later),
        (f"vn_scam_hosts_dev first seen < {cut}", "recall",
         [r["host"] for r in scam if r["first_seen"] < cut]),
        ("openphish_dev (international phishing URLs)", "recall", openphish),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path,
                    help="folder with the URL sets (../shared/data/urls)")
    ap.add_argument("--show-fp", type=int, default=0, metavar="N",
                    help="print up to N false positives / misses per set")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    if not (args.data / "tranco_top10k.csv").exists():
        print(f"eval: {args.data} does not hold the URL sets", file=sys.stderr)
        return 2
    modes = {"product": OfflineURLScanner(), "rules only": OfflineURLScanner(index=_NoLists())}
    reg = registry()
    # The known-good set measured without its own allowlist: how the rules
    # alone treat real Vietnamese sites.
    bare = OfflineURLScanner(reg=Registry(reg.brands, reg.tokens, {}), index=_NoLists())
    rows = []
    for name, kind, inputs in datasets(args.data):
        for mode, scanner in modes.items():
            rows.append((mode, run(scanner, name, kind, inputs)))
        if name.startswith("vn_domains_known_good"):
            rows.append(("rules, no known-good allowlist", run(bare, name, kind, inputs)))
    if args.markdown:
        print("| set | mode | n | flagged | recall / FPR |")
        print("|---|---|---:|---:|---:|")
        for mode, r in rows:
            label = "recall" if r.kind == "recall" else "FPR"
            print(f"| {r.name} | {mode} | {r.total} | {r.flagged} | {label} {r.rate:.2%} |")
    else:
        for mode, r in rows:
            label = "recall" if r.kind == "recall" else "false-positive rate"
            print(f"{r.name:60s} {mode:30s} n={r.total:6d} flagged={r.flagged:6d} "
                  f"{label} {r.rate:7.2%}" + (f" ({r.errors} unparseable)" if r.errors else ""))
    if args.show_fp:
        for mode, r in rows:
            if (r.examples and mode == "rules only") or r.kind == "fpr":
                what = "false positives" if r.kind == "fpr" else "missed"
                print(f"\n{r.name} [{mode}] {what}:")
                for ex in r.examples[: args.show_fp]:
                    print("  ", ex)
    return 0


if __name__ == "__main__":
    sys.exit(main())
