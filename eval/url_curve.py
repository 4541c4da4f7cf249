"""What each false-positive budget of the link model would buy: its operating curve.

    python eval/url_curve.py --data ../shared/data/urls [--validate] [--markdown]

The model's high band (URL-ML-001, which flags alone) sits where it flags 0.1% of the
benign registrables and 0.8% of the benign links with a path of the tune side, together
with the rules (``eval/train_url_model.py``, ``HIGH_BUDGET``). This script moves that
band along a ladder of budgets (:data:`BUDGETS`) and prints, for each, the thresholds,
the false positives on the benign sides and the recall on the later sets: how many
more scams a looser band would catch, and what it would cost.

* Default: the evaluation's model (``eval/models/url_model_cut.json.gz``) on the time
  split of ``eval/url_split.py``, the later side and the benign test side. This reads
  the later side like ``eval/urls.py`` does: a look at it, to be counted as one.
* ``--validate``: a model fitted before the validation cuts, on the window after them
  and the benign tune side only, like ``train_url_model.py --validate`` (the test side
  is not read).

Each row is the scanner itself (rules and model, no blocklists, the official
allowlists on) with the high band at that row's budget and no medium band
(URL-ML-002, which flags only beside other rules), so the first row, the shipped
budgets, can flag a little less than ``eval/urls.py``'s combined column.
"""

from __future__ import annotations

# First: it pins OpenBLAS's kernels, which are chosen when numpy loads.
from eval import toolchain  # isort: skip

import argparse
import sys
from pathlib import Path
from typing import Any

from eval import url_split
from eval.train_url_model import HIGH_BUDGET, fit, high_threshold, scores_of
from eval.urls import CUT_MODEL, FLAGGED, wilson
from scanners.findings import aggregate
from scanners.linear_model import read_doc
from scanners.normalize import ParsedURL
from scanners.url_model import UrlModel
from scanners.url_offline import NoLists, OfflineURLScanner

BUDGETS: tuple[tuple[float, float], ...] = (
    (HIGH_BUDGET["host"], HIGH_BUDGET["url"]),
    (0.002, 0.008), (0.005, 0.008), (0.01, 0.008), (0.02, 0.008), (0.05, 0.008),
    (0.1, 0.008), (0.001, 0.02), (0.001, 0.05), (0.05, 0.1),
)
"""(benign registrables, benign links with a path) budgets of the tune side; the first
is the shipped model's."""


def curve(doc: dict[str, Any], tune: dict[str, list[ParsedURL]],
          measured: dict[str, list[ParsedURL]],
          budgets: tuple[tuple[float, float], ...] = BUDGETS) -> list[dict[str, Any]]:
    """One row per budget pair: ``budgets``, ``thresholds`` and, for each set of
    ``measured`` (and the tune sets, as ``tune host`` / ``tune url``), ``(flagged, n)``."""
    model = UrlModel(doc)
    scores = {kind: scores_of(model, links) for kind, links in tune.items()}
    sets = {"tune host": tune["host"], "tune url": tune["url"], **measured}
    rows = []
    for b_host, b_url in budgets:
        th = {kind: high_threshold(tune[kind], scores[kind], b)
              for kind, b in (("host", b_host), ("url", b_url))}
        # Medium at the high threshold: no URL-ML-002, only the band that flags alone.
        band = UrlModel({**doc, "thresholds": {k: {"high": t, "medium": t}
                                               for k, t in th.items()}})
        scanner = OfflineURLScanner(index=NoLists(), model=band)
        rows.append({
            "budgets": (b_host, b_url), "thresholds": th,
            "counts": {name: (sum(aggregate(scanner.check(p)).verdict.value in FLAGGED
                                  for p in links), len(links))
                       for name, links in sets.items()},
        })
    return rows


def _cell(k: int, n: int) -> str:
    low, high = wilson(k, n)
    return f"{k / n if n else 0:.2%} ({low:.1%}–{high:.1%})"


def show(rows: list[dict[str, Any]], markdown: bool) -> None:
    """Print ``rows`` of :func:`curve`: rates with their 95% Wilson intervals."""
    names = list(rows[0]["counts"]) if rows else []
    sizes = {name: n for name, (_, n) in rows[0]["counts"].items()} if rows else {}
    head = ["budget: registrables / links with a path", "thresholds",
            *(f"{name} (n={sizes[name]})" for name in names)]
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|---|---|" + "---:|" * len(names))
    for r in rows:
        b_host, b_url = r["budgets"]
        cells = [f"{b_host:.1%} / {b_url:.1%}",
                 f"{r['thresholds']['host']:.6f} / {r['thresholds']['url']:.6f}",
                 *(_cell(*r["counts"][name]) for name in names)]
        if markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print("  ".join(f"{h.split(' (n=')[0]}={c}" for h, c in zip(head, cells,
                                                                       strict=True)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="../shared/data/urls")
    ap.add_argument("--validate", action="store_true",
                    help="fit before the validation cuts; the window after them and the "
                         "tune side only")
    ap.add_argument("--model", type=Path, default=CUT_MODEL,
                    help="the evaluation's model (without --validate)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    if not (args.data / "tranco_top10k.csv").exists():
        print(f"url_curve: {args.data} does not hold the URL sets", file=sys.stderr)
        return 2
    if args.validate:
        toolchain.warn()
        hv_cut, op_cut = url_split.VALIDATION_CUTS
        sp = url_split.load(args.data, hv_cut, op_cut, hostsvn_end=url_split.HOSTSVN_CUT,
                            openphish_end=url_split.OPENPHISH_CUT)
        doc = fit(sp)
        measured = {f"{name} (window)": links for name, links in sp.later.items()}
    else:
        sp = url_split.load(args.data)
        doc = read_doc(args.model, "link model")
        measured = {**{f"{name} (later)": links for name, links in sp.later.items()},
                    "benign registrables (test)": sp.test_hosts,
                    "benign URLs with paths (test)": sp.test_urls,
                    "benign project registrables (test)": sp.test_project_names}
    show(curve(doc, {"host": sp.tune_hosts, "url": sp.tune_urls}, measured), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
