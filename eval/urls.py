"""Accuracy of the offline link scanner on the shared evaluation sets.

    python eval/urls.py --data ../shared/data/urls [--show-fp N] [--markdown] [--dev-sets]

The default output is the **time-split table** (``eval/url_split.py``): recall
on links first listed after the cut dates (with every host and registrable of
the training side removed) and false positives on the benign ``test`` side
(registrables never trained or tuned on), each for

* ``rules only``: the offline rules, blocklists off, model off;
* ``model only``: the learned model's findings (URL-ML-*) and the allowlists (the
  model reads which rules fired as features of its own, so this is the model's
  verdict, not a model blind to the rules);
* ``combined``: rules and model, blocklists off (``SCAMSCAN_BLOCKLISTS=off``),
  with its 95% Wilson interval (:func:`wilson`): the sets are small, and a target
  such as "at most 0.1% of benign registrables" is one or two names on them.

The model measured is the **evaluation's** (``eval/models/url_model_cut.json.gz``,
trained before the cuts by ``make model-url``), not the shipped one, which is
refitted on every row, the later side included (``eval/train_url_model.py``).
``--model shipped`` measures the shipped file instead: a check, not an evaluation.

``--dev-sets`` adds the older whole-set table below.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from scipy.stats import binomtest

import blocklists
from eval import url_split
from scanners.errors import InvalidURLError
from scanners.findings import aggregate
from scanners.normalize import ParsedURL, normalize
from scanners.registry import Registry, registry
from scanners.url_model import UrlModel
from scanners.url_offline import NoLists, OfflineURLScanner

CUT_MODEL = Path(__file__).resolve().parent / "models" / "url_model_cut.json.gz"
"""The model trained before the time-split cuts (``eval/train_url_model.py``)."""

FLAGGED = {"suspicious", "dangerous"}




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


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of ``k`` in ``n`` (scipy's): how far a rate on a set
    of this size may lie from the rate on links like them (0.12% is 3 of 2,422, and
    0.04–0.36% alike). ``(0, 0)`` for an empty set."""
    if n == 0:
        return 0.0, 0.0
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _model_only(scanner: OfflineURLScanner, p: ParsedURL) -> str:
    found = [f for f in scanner.check(p) if f.rule_id.startswith(("URL-ML-", "URL-OFF-"))]
    return aggregate(found).verdict.value


def time_split(data: Path, markdown: bool, show: int, model: UrlModel) -> None:
    """Print the time-split table (see the module docstring) for ``model``."""
    sp = url_split.load(data)
    rules = OfflineURLScanner(index=NoLists(), use_model=False)
    combined = OfflineURLScanner(index=NoLists(), model=model)
    sets: list[tuple[str, str, list[ParsedURL]]] = [
        (f"{name} (later side)", "recall", rows) for name, rows in sp.later.items()]
    sets += [("benign registrable domains (test side)", "fpr", sp.test_hosts),
             ("benign URLs with paths (test side)", "fpr", sp.test_urls),
             ("benign service hosts with subdomains (test side)", "fpr", sp.test_infra),
             ("benign sites on shared platforms (Debian home pages, test side)", "fpr",
              sp.test_platform),
             ("benign project home pages off platforms (Debian, test side)", "fpr",
              sp.test_projects),
             ("benign project registrables, names never read (Debian, test side)",
              "fpr", sp.test_project_names)]
    modes: list[tuple[str, Callable[[ParsedURL], str]]] = [
        ("rules only", lambda p: aggregate(rules.check(p)).verdict.value),
        ("model only", lambda p: _model_only(combined, p)),
        ("combined", lambda p: aggregate(combined.check(p)).verdict.value),
    ]
    print(f"model: {str(model.meta.get('training_side', '')).split(', ChongLuaDao')[0]}")
    print(f"time split: hostsVN/gov cut {url_split.HOSTSVN_CUT}, OpenPhish cut "
          f"{url_split.OPENPHISH_CUT}; later rows removed because their host or "
          f"registrable is on the training side: {sp.removed}")
    if markdown:
        print("\n| set | n | " + " | ".join(m for m, _ in modes) + " | combined, 95% CI |")
        print("|---|---:|" + "---:|" * (len(modes) + 1))
    examples: list[tuple[str, list[str]]] = []
    for name, kind, rows in sets:
        cells = []
        for mode, fn in modes:
            hits = [p for p in rows if fn(p) in FLAGGED]
            rate = len(hits) / len(rows) if rows else 0.0
            cells.append(f"{len(hits)} ({rate:.2%})")
            if mode == "combined":
                low, high = wilson(len(hits), len(rows))
                cells.append(f"{low:.2%}–{high:.2%}")
            if mode == "combined" and show:
                bad = hits if kind == "fpr" else [p for p in rows if p not in hits]
                examples.append((f"{name} [{mode}] {'flagged' if kind == 'fpr' else 'missed'}",
                                 [p.url for p in bad[:show]]))
        label = "recall" if kind == "recall" else "flagged (FP)"
        if markdown:
            print(f"| {name}: {label} | {len(rows)} | " + " | ".join(cells) + " |")
        else:
            print(f"{name + ': ' + label:62s} n={len(rows):6d}  " + "  ".join(
                f"{m}={c}" for m, c in zip([*(m for m, _ in modes), "95% CI"], cells,
                                           strict=True)))
    for title, urls in examples:
        print(f"\n{title}:")
        for u in urls:
            print("  ", u)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path,
                    help="folder with the URL sets (../shared/data/urls)")
    ap.add_argument("--show-fp", type=int, default=0, metavar="N",
                    help="print up to N false positives / misses per set")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--dev-sets", action="store_true",
                    help="also print the whole-set table (product and rules-only modes)")
    ap.add_argument("--model", choices=("cut", "shipped"), default="cut",
                    help="cut: the model trained before the cuts (the evaluation); shipped: "
                         "the product's, which trained on the later side too (a check)")
    args = ap.parse_args(argv)
    if not (args.data / "tranco_top10k.csv").exists():
        print(f"eval: {args.data} does not hold the URL sets", file=sys.stderr)
        return 2
    model = UrlModel.load(CUT_MODEL if args.model == "cut" else None)
    time_split(args.data, args.markdown, args.show_fp, model)
    if not args.dev_sets:
        return 0
    print()
    # The model of the time split (cut by default): the shipped one trained on the
    # "later" rows of this table too.
    modes = {"product": OfflineURLScanner(model=model),
             "rules only": OfflineURLScanner(index=NoLists(), use_model=False)}
    reg = registry()
    # The known-good set measured without its own allowlist: how the rules
    # alone treat real Vietnamese sites.
    bare = OfflineURLScanner(reg=Registry(reg.brands, reg.tokens, {}), index=NoLists(),
                             use_model=False)
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
