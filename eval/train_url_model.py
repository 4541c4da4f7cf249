"""Train the lexical link model: the shipped one and the one the evaluation measures.

    python eval/train_url_model.py --data ../shared/data/urls   (make model-url)
    python eval/train_url_model.py --data ../shared/data/urls --validate [--c C] [--host-weight W]
        [--one-model] [--url-budget B] [--half-life DAYS] [--recency-cut DATE]

``--validate`` is how the settings below were chosen: it trains before the
validation cuts (``url_split.VALIDATION_CUTS``, inside the training period),
reads nothing after the real cuts, and prints recall on the window between
them and the false positives on the benign tune side. It writes nothing.

Deterministic: the split is fixed (``eval/url_split.py``), the vocabulary is
sorted, liblinear runs with a fixed ``random_state``, weights are rounded, and
the gzip header carries no time, so two runs write the same bytes; and the BLAS
under the solver is pinned (one thread, the same kernels, the same versions:
``eval/toolchain.py``), so two machines do too.

Two models, the same settings, two training sides:

* ``eval/models/url_model_cut.json.gz``, the **evaluation's** model
  (:data:`CUT_MODEL`): fitted on the training side of the time split only
  (``eval/url_split.py``: hostsVN before :data:`~eval.url_split.HOSTSVN_CUT`, OpenPhish
  before :data:`~eval.url_split.OPENPHISH_CUT`). ``eval/urls.py`` measures this one on
  the later side, which it has never seen.
* ``blocklists/data/url_model.json.gz``, the **shipped** model: refitted the same
  way on every malicious row of the data (:data:`END`: hostsVN up to the data's
  split date 2024-04-01, OpenPhish up to 2025-01-10), so that the product does not
  leave its newest months of scam names unlearned; the links it will meet come
  after all of them. Measured on the validation split, the newest day of OpenPhish
  rows was worth 3 points of OpenPhish recall on the days after it (43.1% → 46.1%,
  ``--validate --recency-cut-openphish 2025-01-02`` against ``--validate``,
  2026-12-06). Its figures on the later side are not an evaluation (it trained on
  it); ``eval/urls.py --model shipped`` prints them only to check it.

The benign sides are the same for both: the same train side is fitted on, the
thresholds are chosen on the same tune side, and the test side is never read.

Each model is fitted twice: the main weights
on every training link, and the host model (``host_model`` in the file) on the
bare hosts alone, which then judges every link without a path. The two
probability thresholds of each kind of input (bare host, URL with a path) are
chosen on the benign ``tune`` side (registrables of their own): the high band at
a false-positive budget shared with the rules (0.1% of benign registrables, 0.8%
of benign URLs with a path: the 1% limit less a margin, since the tune side
ran higher than unseen links before; less what the rules flag already); the medium band
at the largest budget for which the whole scanner (rules + model, no
blocklists) stays within 0.1% / 1% on the tune side. The later side and the
test side are never read.
The shipped file holds weights of features (character n-grams, words, path
words, structure), never a list entry.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

# First: it pins OpenBLAS's kernels, which are chosen when numpy loads.
from eval import toolchain  # isort: skip

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from eval.url_split import HOSTSVN_CUT, OPENPHISH_CUT, VALIDATION_CUTS, Split, load
from eval.urls import wilson
from scanners.findings import aggregate
from scanners.linear_model import write_doc
from scanners.normalize import ParsedURL
from scanners.url_features import RuleFeatures, features, rule_features
from scanners.url_model import MODEL_FILE, UrlModel
from scanners.url_offline import NoLists, OfflineURLScanner

MIN_COUNT = 3
"""A feature seen in fewer training links is dropped (noise, and file size)."""
C = 0.5
HOST_WEIGHT = 1.0
"""Sample weight of a malicious bare host (no path) relative to every other link."""
MIN_WEIGHT = 0.02
"""Weights smaller than this are dropped from the shipped file."""
HIGH_BUDGET = {"host": 0.001, "url": 0.008}
"""False-positive budget of the high band (URL-ML-001, which flags alone) together with
the rules, tune side."""
MEDIUM_BUDGETS = (0.02, 0.01, 0.005, 0.002, 0.001)
"""Candidate budgets of the medium band (URL-ML-002, 20 points: flags only with other
rules); the largest one whose *combined* verdict (rules + model, no blocklists) keeps
the tune side within :data:`COMBINED_LIMIT` is kept."""
COMBINED_LIMIT = {"host": 0.001, "url": 0.01}
TWO_MODELS = True
"""Fit a second weight set on bare hosts alone for names without a path."""
HOST_MIN_COUNT = 5
""":data:`MIN_COUNT` of the host model (fewer weights; no worse on the validation window)."""
CUT_MODEL = Path("eval/models") / "url_model_cut.json.gz"
"""The evaluation's model, trained before the time-split cuts (committed, never shipped)."""
END = "9999-12-31"
"""A cut after every row: the shipped model's split has everything on its training side."""
_DATED_CUT = f"hostsVN before {HOSTSVN_CUT}, OpenPhish before {OPENPHISH_CUT}"
_DATED_ALL = "every hostsVN and OpenPhish row of the data (all of it before the data's split date)"
SCALE = {"url": "none", "host": "none"}
"""``sqrt``: each training row (a link's features) is scaled to unit length, and the
scorer divides a link's summed weights by the square root of its feature count
(``scale`` in the model file); ``none``: binary rows, plain sums. Per weight set: the
main one (links with a path) and the host model."""
HALF_LIFE: float | None = None
"""Days after which a malicious bare host's weight halves in the host model, by its
first-listed date before the hostsVN cut (``None``: every row weighs the same; tried on
the validation window, fifth round)."""


def recency_weights(seen: list[str], labels: np.ndarray, ref: str,
                    half_life: float | None) -> np.ndarray:
    """Sample weights that halve every ``half_life`` days of a malicious row's age at
    ``ref`` (rows listed later count as new), scaled so that the malicious rows keep
    a mean weight of 1 (the classes keep their balance); benign rows weigh 1."""
    w = np.ones(len(seen), dtype=np.float64)
    if half_life is None:
        return w
    end = date.fromisoformat(ref)
    for i, (day, y) in enumerate(zip(seen, labels, strict=True)):
        try:
            listed = date.fromisoformat(day) if y == 1 and day else None
        except ValueError:
            listed = None  # a year alone (2021): undated, full weight
        if listed is not None:
            w[i] = 0.5 ** (max(0, (end - listed).days) / half_life)
    mal = labels == 1
    w[mal] *= mal.sum() / w[mal].sum()
    return w


@cache
def _rules_only() -> OfflineURLScanner:
    return OfflineURLScanner(index=NoLists(), use_model=False)


def _rules(p: ParsedURL) -> RuleFeatures:
    """The rules that fire on ``p`` without lists or model, as the model reads them (the
    scanner passes the same, :meth:`OfflineURLScanner.check`)."""
    return rule_features(f.rule_id for f in _rules_only().check(p))


def _feats(p: ParsedURL) -> list[str]:
    host, path = _rules(p)
    out = [*features(p.domain, p.subdomain, p.suffix, p.path), *host]
    if p.path not in ("", "/"):
        out += path
    return out


def _threshold(scores: list[float], budget: float) -> float:
    """The smallest threshold (6 decimals) that at most ``budget`` of ``scores`` reach.

    Six decimals, not four: the bands sit above 0.999, where a step of 0.0001 is a
    large step of the logit and would cap the high band at 0.9999."""
    ranked = sorted(scores, reverse=True)
    k = int(budget * len(ranked))
    t = ranked[k] if k < len(ranked) else 0.0
    return round(min(0.999999, math.floor(t * 1e6) / 1e6 + 1e-6), 6)


def scores_of(model: UrlModel, links: list[ParsedURL]) -> list[float]:
    """The model's probability of each link, with the rules that fire on it as features
    (as the scanner scores it)."""
    return [model.probability(p, _rules(p)) for p in links]


def high_threshold(benign: list[ParsedURL], scores: list[float], budget: float) -> float:
    """The high band's threshold at ``budget`` of ``benign`` (tune links of one kind,
    ``scores`` their :func:`scores_of`). The band flags alone: it gets what the rules
    leave of the budget, and only links the rules do not flag already count against it."""
    rules = _rules_only()
    calm = [s for p, s in zip(benign, scores, strict=True) if not _flagged(rules, [p])]
    left = int(budget * len(benign)) - (len(benign) - len(calm))
    return _threshold(calm, max(0, left) / max(1, len(calm)))


def _lr(rows: list[list[str]], labels: np.ndarray, sw: np.ndarray, c: float,
        min_count: int = MIN_COUNT, scale: str = "none") -> tuple[float, dict[str, float]]:
    """Fit the logistic regression: (intercept, weights of the kept features)."""
    counts = Counter(f for r in rows for f in set(r))
    vocab = sorted(f for f, n in counts.items() if n >= min_count)
    index = {f: i for i, f in enumerate(vocab)}
    indptr = [0]
    cols: list[int] = []
    for r in rows:
        cols.extend(sorted({index[f] for f in r if f in index}))
        indptr.append(len(cols))
    vals = np.ones(len(cols), dtype=np.float64)
    if scale == "sqrt":
        # Every feature of the row counts in its length, kept or not: the scorer
        # divides by the square root of the link's feature count, which it knows
        # without the vocabulary (url_model.UrlModel._z).
        for i, r in enumerate(rows):
            vals[indptr[i]:indptr[i + 1]] = 1.0 / math.sqrt(len(r)) if r else 0.0
    x = csr_matrix((vals, np.array(cols), np.array(indptr)), shape=(len(rows), len(vocab)))
    clf = LogisticRegression(solver="liblinear", C=c, class_weight="balanced",
                             random_state=0, max_iter=1000)
    with toolchain.one_blas_thread():
        clf.fit(x, labels, sample_weight=sw)
    # A rule that fired never lowers a score: a rule reads a risk, and a negative
    # weight would let a page hide by triggering one (three hyphens in its name).
    weights = {f: round(float(w), 3) for f, w in zip(vocab, clf.coef_[0], strict=True)
               if abs(w) >= MIN_WEIGHT and not (w < 0 and f.startswith("rule:"))}
    return round(float(clf.intercept_[0]), 3), weights


def fit(sp: Split, c: float = C, host_weight: float = HOST_WEIGHT,
        two_models: bool = TWO_MODELS, half_life: float | None = HALF_LIFE,
        ref: str = HOSTSVN_CUT, dated: str | None = None) -> dict[str, Any]:
    """Fit on ``sp.train`` and choose the thresholds on ``sp.tune_*``: the model document.

    ``half_life`` (days) weighs the host model's malicious rows by their age at ``ref``
    (the hostsVN cut of the split), :func:`recency_weights`. ``dated`` says which rows
    of the dated lists were trained on (the meta); by default the time split's."""
    rows = [_feats(p) for p, _ in sp.train]
    labels = np.array([y for _, y in sp.train], dtype=np.int8)
    # Bare malicious hosts (the Vietnamese lists) are outnumbered by phishing URLs
    # with paths; without a weight the host features learn mostly from PhishTank.
    sw = np.array([host_weight if y == 1 and p.path in ("", "/") else 1.0
                   for p, y in sp.train], dtype=np.float64)
    intercept, weights = _lr(rows, labels, sw, c, scale=SCALE["url"])
    doc: dict[str, Any] = {
        "meta": {
            "what": "logistic regression over scanners/url_features.py features and "
                    "the rules that fired (rule_features)",
            "trained_by": "eval/train_url_model.py (make model-url)",
            "training_side": f"{dated or _DATED_CUT}, ChongLuaDao v1 + v2 + 2021, "
                             "PhishTank 2018-2021, ISCX-2016 phishing; benign: Tranco top "
                             "10k, Umbrella top 100k, known-good .vn, ISCX-2016 benign, "
                             "train side by registrable",
            "links": len(rows), "malicious": int(labels.sum()), "features": len(weights),
            "C": c, "host_weight": host_weight, "min_count": MIN_COUNT,
            # This file's last bits depend on these (eval/toolchain.py); the message
            # and APK models' did not move with them.
            "toolchain": toolchain.describe(),
        },
        "intercept": intercept,
        "weights": weights,
        "thresholds": {"host": {"high": 0.5, "medium": 0.5}, "url": {"high": 0.5, "medium": 0.5}},
    }
    if SCALE["url"] != "none":
        doc["scale"] = SCALE["url"]
    if two_models:
        # Names alone, judged against names alone: the bare hosts of both labels.
        bare = [i for i, (p, _) in enumerate(sp.train) if p.path in ("", "/")]
        h_sw = sw[bare] * recency_weights([sp.train_seen[i] for i in bare], labels[bare],
                                          ref, half_life)
        h_int, h_w = _lr([rows[i] for i in bare], labels[bare], h_sw, c, HOST_MIN_COUNT,
                         SCALE["host"])
        doc["host_model"] = {"intercept": h_int, "weights": h_w}
        if SCALE["host"] != "none":
            doc["host_model"]["scale"] = SCALE["host"]
        doc["meta"]["host_model_links"] = len(bare)
        doc["meta"]["host_model_features"] = len(h_w)
    model = UrlModel(doc)
    th: dict[str, dict[str, float]] = {}
    tune = {"host": sp.tune_hosts, "url": sp.tune_urls}
    scores = {kind: scores_of(model, benign) for kind, benign in tune.items()}
    for kind, benign in tune.items():
        high = high_threshold(benign, scores[kind], HIGH_BUDGET[kind])
        th[kind] = {"high": high, "medium": high}
    for kind, benign in tune.items():
        for budget in MEDIUM_BUDGETS:
            cand = {k: dict(v) for k, v in th.items()}
            cand[kind]["medium"] = min(_threshold(scores[kind], budget), cand[kind]["high"])
            scanner = OfflineURLScanner(index=NoLists(),
                                        model=UrlModel({**doc, "thresholds": cand}))
            fp = _flagged(scanner, benign)
            print(f"{kind}: medium budget {budget}: combined FP on tune {fp:.4%}",
                  file=sys.stderr)
            if fp <= COMBINED_LIMIT[kind]:
                th = cand
                break
    doc["thresholds"] = th
    return doc


def _flagged(scanner: OfflineURLScanner, links: list[ParsedURL]) -> float:
    """The share of ``links`` that ``scanner`` calls suspicious or dangerous."""
    return sum(aggregate(scanner.check(p)).verdict.value in ("suspicious", "dangerous")
               for p in links) / max(1, len(links))


def validate(data: Path, c: float, host_weight: float, two_models: bool = TWO_MODELS,
             half_life: float | None = HALF_LIFE, recency_cut: str | None = None,
             recency_cut_openphish: str | None = None) -> None:
    """Train before :data:`VALIDATION_CUTS` and print recall on the window up to the
    real cuts, with the false positives on the benign tune side (never the later or
    test side): how the settings of this file were chosen.

    ``recency_cut`` (before the validation cut): train on hostsVN rows before it only,
    and measure on the same window (what the months between add);
    ``recency_cut_openphish`` does the same for OpenPhish (what the days between add)."""
    hv_cut, op_cut = VALIDATION_CUTS
    sp = load(data, recency_cut or hv_cut, recency_cut_openphish or op_cut,
              hostsvn_end=HOSTSVN_CUT, openphish_end=OPENPHISH_CUT,
              hostsvn_window=hv_cut if recency_cut else None,
              openphish_window=op_cut if recency_cut_openphish else None)
    doc = fit(sp, c, host_weight, two_models, half_life, recency_cut or hv_cut)
    model = UrlModel(doc)
    only = OfflineURLScanner(index=NoLists(), model=model)
    rules = _rules_only()
    print(f"validation C={c} host_weight={host_weight} scale={SCALE} half_life={half_life} "
          f"recency_cut={recency_cut}/{recency_cut_openphish} thresholds={doc['thresholds']} "
          f"features={len(doc['weights'])} host features="
          f"{len(doc.get('host_model', {}).get('weights', {}))}")
    for name, rows in [*sp.later.items(), ("benign tune hosts (FP)", sp.tune_hosts),
                       ("benign tune URLs (FP)", sp.tune_urls),
                       ("benign tune platform sites (FP)", sp.tune_platform),
                       ("benign tune project home pages (FP)", sp.tune_projects),
                       ("benign tune project registrables (FP)", sp.tune_project_names)]:
        ml = sum(aggregate([f for f in only.check(p) if f.rule_id.startswith(
            ("URL-ML-", "URL-OFF-"))]).verdict.value in ("suspicious", "dangerous")
            for p in rows)
        both = _flagged(only, rows)
        # The interval: a window of 304 links moves 0.33 points a link.
        low, high = wilson(round(both * len(rows)), len(rows))
        print(f"  {name:48s} n={len(rows):5d}  model-only={ml / max(1, len(rows)):7.2%}  "
              f"rules={_flagged(rules, rows):7.2%}  combined={both:7.2%} "
              f"(95% CI {low:.2%}-{high:.2%})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="../shared/data/urls")
    ap.add_argument("--out", type=Path, default=Path("blocklists/data") / MODEL_FILE,
                    help="the shipped model (every row of the data)")
    ap.add_argument("--cut-out", type=Path, default=CUT_MODEL,
                    help="the evaluation's model (the training side of the time split)")
    ap.add_argument("--validate", action="store_true",
                    help="train before the validation cuts and report the window after "
                         "them (writes nothing)")
    ap.add_argument("--c", type=float, default=C, help="inverse regularisation (--validate)")
    ap.add_argument("--host-weight", type=float, default=HOST_WEIGHT,
                    help="weight of bare malicious hosts (--validate)")
    ap.add_argument("--one-model", action="store_true",
                    help="no separate bare-host model (--validate)")
    ap.add_argument("--url-budget", type=float, default=HIGH_BUDGET["url"],
                    help="false-positive budget of the URL high band, tune URLs (--validate)")
    ap.add_argument("--scale", choices=("none", "sqrt"), default=SCALE["url"],
                    help="rows of the main weight set scaled to unit length (--validate)")
    ap.add_argument("--host-scale", choices=("none", "sqrt"), default=SCALE["host"],
                    help="the same for the host model (--validate)")
    ap.add_argument("--half-life", type=float, default=HALF_LIFE,
                    help="days after which a malicious row's weight halves (--validate)")
    ap.add_argument("--recency-cut", default=None,
                    help="train on hostsVN before this date, still measure the validation "
                         "window (--validate)")
    ap.add_argument("--recency-cut-openphish", default=None,
                    help="train on OpenPhish before this date, still measure the validation "
                         "window (--validate)")
    args = ap.parse_args(argv)
    toolchain.warn()
    if args.validate:
        HIGH_BUDGET["url"] = args.url_budget
        SCALE.update(url=args.scale, host=args.host_scale)
        validate(args.data, args.c, args.host_weight, two_models=not args.one_model,
                 half_life=args.half_life, recency_cut=args.recency_cut,
                 recency_cut_openphish=args.recency_cut_openphish)
        return 0
    for out, sp, dated in ((args.cut_out, load(args.data), _DATED_CUT),
                           (args.out, load(args.data, END, END), _DATED_ALL)):
        doc = fit(sp, dated=dated)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_doc(out, doc)
        print(f"{out}: {len(doc['weights'])} weights from {doc['meta']['links']} links "
              f"({doc['meta']['malicious']} malicious); thresholds {doc['thresholds']}; "
              f"{out.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
