"""Train the lexical link model and write ``blocklists/data/url_model.json.gz``.

    python eval/train_url_model.py --data ../shared/data/urls   (make model-url)

Deterministic: the split is fixed (``eval/url_split.py``), the vocabulary is
sorted, liblinear runs with a fixed ``random_state``, weights are rounded, and
the gzip header carries no time, so two runs write the same bytes.

Only the training side of the time split is fitted on; the two probability
thresholds of each kind of input (bare host, URL with a path) are chosen on
the benign ``tune`` side (registrables of their own): the high band at a
false-positive budget of the model alone (0.1% of benign registrables, 0.5% of
benign URLs with a path); the medium band at the largest budget for which the
whole scanner (rules + model, no blocklists) stays within 0.1% / 1% on the
tune side. The later side and the test side are never read.
The shipped file holds weights of features (character n-grams, words, path
words, structure), never a list entry.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from eval.url_split import HOSTSVN_CUT, OPENPHISH_CUT, load
from scanners.findings import aggregate
from scanners.normalize import ParsedURL
from scanners.url_features import features
from scanners.url_model import MODEL_FILE, UrlModel
from scanners.url_offline import NoLists, OfflineURLScanner

MIN_COUNT = 3
"""A feature seen in fewer training links is dropped (noise, and file size)."""
C = 0.5
MIN_WEIGHT = 0.02
"""Weights smaller than this are dropped from the shipped file."""
HIGH_BUDGET = {"host": 0.001, "url": 0.005}
"""False-positive budget of the high band (URL-ML-001, which flags alone), tune side."""
MEDIUM_BUDGETS = (0.02, 0.01, 0.005, 0.002, 0.001)
"""Candidate budgets of the medium band (URL-ML-002, 20 points: flags only with other
rules); the largest one whose *combined* verdict (rules + model, no blocklists) keeps
the tune side within :data:`COMBINED_LIMIT` is kept."""
COMBINED_LIMIT = {"host": 0.001, "url": 0.01}


def _feats(p: ParsedURL) -> list[str]:
    return features(p.domain, p.subdomain, p.suffix, p.path)


def _threshold(scores: list[float], budget: float) -> float:
    """The smallest threshold (4 decimals) that at most ``budget`` of ``scores`` reach."""
    ranked = sorted(scores, reverse=True)
    k = int(budget * len(ranked))
    t = ranked[k] if k < len(ranked) else 0.0
    return round(min(0.9999, math.floor(t * 10000) / 10000 + 0.0001), 4)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="../shared/data/urls")
    ap.add_argument("--out", type=Path, default=Path("blocklists/data") / MODEL_FILE)
    args = ap.parse_args(argv)
    sp = load(args.data)
    rows = [_feats(p) for p, _ in sp.train]
    labels = np.array([y for _, y in sp.train], dtype=np.int8)
    counts = Counter(f for r in rows for f in set(r))
    vocab = sorted(f for f, c in counts.items() if c >= MIN_COUNT)
    index = {f: i for i, f in enumerate(vocab)}
    indptr = [0]
    cols: list[int] = []
    for r in rows:
        cols.extend(sorted({index[f] for f in r if f in index}))
        indptr.append(len(cols))
    x = csr_matrix((np.ones(len(cols), dtype=np.float64), np.array(cols), np.array(indptr)),
                   shape=(len(rows), len(vocab)))
    clf = LogisticRegression(solver="liblinear", C=C, class_weight="balanced",
                             random_state=0, max_iter=1000)
    clf.fit(x, labels)
    weights = {f: round(float(w), 3) for f, w in zip(vocab, clf.coef_[0], strict=True)
               if abs(w) >= MIN_WEIGHT}
    doc = {
        "meta": {
            "what": "logistic regression over scanners/url_features.py features",
            "trained_by": "eval/train_url_model.py (make model-url)",
            "training_side": f"hostsVN before {HOSTSVN_CUT}, ChongLuaDao v2 + 2021, "
                             "PhishTank 2018-2021, ISCX-2016 phishing, OpenPhish before "
                             f"{OPENPHISH_CUT}; benign: Tranco top 10k, Umbrella top 100k, "
                             "known-good .vn, ISCX-2016 benign, train side by registrable",
            "links": len(rows), "malicious": int(labels.sum()), "features": len(weights),
            "C": C, "min_count": MIN_COUNT,
        },
        "intercept": round(float(clf.intercept_[0]), 3),
        "weights": weights,
        "thresholds": {"host": {"high": 0.5, "medium": 0.5}, "url": {"high": 0.5, "medium": 0.5}},
    }
    model = UrlModel(doc)
    th: dict[str, dict[str, float]] = {}
    tune = {"host": sp.tune_hosts, "url": sp.tune_urls}
    scores = {kind: [model.score(p).probability for p in benign]
              for kind, benign in tune.items()}
    for kind in tune:
        high = _threshold(scores[kind], HIGH_BUDGET[kind])
        th[kind] = {"high": high, "medium": high}
    for kind, benign in tune.items():
        for budget in MEDIUM_BUDGETS:
            cand = {k: dict(v) for k, v in th.items()}
            cand[kind]["medium"] = min(_threshold(scores[kind], budget), cand[kind]["high"])
            scanner = OfflineURLScanner(index=NoLists(),
                                        model=UrlModel({**doc, "thresholds": cand}))
            fp = sum(aggregate(scanner.check(p)).verdict.value in ("suspicious", "dangerous")
                     for p in benign) / max(1, len(benign))
            print(f"{kind}: medium budget {budget}: combined FP on tune {fp:.4%}",
                  file=sys.stderr)
            if fp <= COMBINED_LIMIT[kind]:
                th = cand
                break
    doc["thresholds"] = th
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    args.out.write_bytes(gzip.compress(blob.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{args.out}: {len(weights)} weights from {len(rows)} links "
          f"({int(labels.sum())} malicious); thresholds {th}; "
          f"{args.out.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
