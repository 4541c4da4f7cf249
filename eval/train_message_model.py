"""Train the message model and write ``blocklists/data/message_model.json.gz``.

    python eval/train_message_model.py [--splits dev,dev2,...] [--out FILE]
                                       [--no-extra]   (make model-message)

Trains a logistic regression (scikit-learn, liblinear) over the features of
:func:`scanners.message_model.features`: the folded text's words, word pairs and
character 3-4-grams, and the MSG rules that fired on the message (the rules-only
check of :func:`scanners.message.check_message`). Fitted on the *tuning* splits of
``eval/messages/`` (:data:`TRAIN_SPLITS`) and the training-only messages of
``eval/messages/training/`` (written for the model, never an evaluation split).
``heldout4`` was a held-out split until it was measured once (2026-12-05); its misses
were then read to tune the rules, so it is tuning data and ``--splits`` may name it, but
the shipped model does not learn from it: with it, at the same benign budgets, the model
flagged two look-alike texts of the tests (a mobile number "để được hỗ trợ", a tax office
with its official link), having learnt heldout4's support-group words ("hỗ trợ", "để
được") more than the scripts. Its lessons are in the rules.
``heldout5`` was measured once the same way and read for the third round, ``heldout6``
for the fourth: tuning data for the rules, refused here all the same. In the fourth round
a model learning from heldout4-6 was cross-validated (``--splits`` with them, the refusal
lifted for the trial): out of fold it flagged 78-85% of their scams alone against 75-77%
for the shipped model on them, but its medium band fell to the 0.50 floor and it flagged
a look-alike text of the tests (a tax office asking to file and pay before a date), the
failure heldout4 showed in the second round; so the model still does not learn from them.
``heldout7`` was measured once and read for the fifth round: refused here the same way.
The held-out split now is ``heldout8`` (kept back from this project): refused.

The two probability thresholds are chosen by cross-validation on the training
messages only: five stratified folds (fixed seed), each message scored by a model
fitted without it; the high band (MSG-ML-001, flags alone) is the lowest threshold
at which the out-of-fold *combined* verdict (rules + model) flags at most
:data:`HIGH_BUDGET` of the benign messages, the medium band (MSG-ML-002) the lowest
at which it flags at most :data:`COMBINED_LIMIT`. The out-of-fold figures are
printed: they are the model's estimate on messages it did not learn from.

Deterministic: the folds are seeded, the vocabulary sorted, liblinear seeded, the
weights rounded and the gzip header carries no time: two runs write the same bytes
(on two machines too: the BLAS under the solver is pinned, ``eval/toolchain.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# First: it pins OpenBLAS's kernels, which are chosen when numpy loads.
from eval import toolchain  # isort: skip

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from scanners.catalogue.model import SUSPICIOUS_AT
from scanners.linear_model import write_doc
from scanners.message import check_message, offers_action
from scanners.message_model import MODEL_FILE, WARNING_RULE, features
from scanners.message_view import folded_view
from scanners.rules import CATALOGUE
from scanners.url_offline import default_scanner

HERE = Path(__file__).resolve().parent
DATA = HERE / "messages"
TRAIN_SPLITS = ("dev", "dev2", "heldout2", "heldout3")
"""The splits the model learns from: every split the rules were tuned on but heldout4
(see above)."""
REFUSED = ("heldout5", "heldout6", "heldout7", "heldout8")
"""Never learnt from: heldout5-7 (read for the rules in the third to fifth rounds, kept
out of the model, see above) and heldout8, the split kept back from this work (measured
by the lead)."""
EXTRA = DATA / "training"
"""Messages written for training only (never an evaluation split)."""
MIN_COUNT = 2
"""A feature seen in fewer training messages is dropped (noise, and file size)."""
C = 10.0
"""Chosen by the out-of-fold recall at the benign budgets below (C 1, 3, 10, 30 gave
63%, 71%, 80%, 81% of the training scams with the model alone at 0.5% of the benign
ones), and by the look-alike texts of tests/test_message_types.py and
tests/test_message_advice.py, which C 30 with a 1% budget began to flag."""
FOLDS = 5
HIGH_BUDGET = 0.01
"""Share of the benign training messages the combined verdict may flag out of fold
once the high band is set. 0.5% rested on two or three look-alikes and moved with each
batch; leaving the fourth training batch out, a model fitted on the rest flagged 13 of
its 20 scams at 0.5% and 16 at 1%, none of its 20 look-alikes either way."""
COMBINED_LIMIT = 0.02
"""... and once the medium band is set too."""


def split_dir(name: str) -> Path:
    return DATA if name == "dev" else DATA / name


def load_rows(splits: tuple[str, ...], extra: bool) -> list[dict[str, Any]]:
    """(text, label, split) rows of ``splits`` and, with ``extra``, of the training set."""
    dirs = [(name, split_dir(name)) for name in splits]
    if extra and EXTRA.is_dir():
        dirs.append(("training", EXTRA))
    rows: list[dict[str, Any]] = []
    for name, d in dirs:
        for fname, label in (("scams.jsonl", 1), ("benign.jsonl", 0)):
            for line in (d / fname).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    rows.append({"id": row["id"], "text": row["text"],
                                 "lang": row.get("lang", "vi"), "label": label, "split": name})
    return rows


async def _rules(rows: list[dict[str, Any]]) -> None:
    """Adds each row's rules-only score and fired rule ids."""
    scanner = default_scanner()
    for r in rows:
        rep = await check_message(r["text"], scanner, lang=r["lang"], use_model=False)
        # A warning (MSG-CTX-001) gets nothing from the model: as if its rules scored 0
        # and the model never reached a band (see MessageModel.findings).
        r["warning"] = any(f["rule_id"] == WARNING_RULE for f in rep["findings"])
        # Nothing to act on (no link, number, app, group or ask): the model adds nothing.
        r["acts"] = offers_action(r["text"])
        r["rules_score"] = rep["risk_score"]
        r["rule_ids"] = sorted({f["rule_id"] for f in rep["findings"]})
        r["feats"] = features(folded_view(r["text"]).text, r["rule_ids"])


def _matrix(rows: list[dict[str, Any]], vocab: list[str]) -> csr_matrix:
    """Binary rows over ``vocab``, each scaled to unit length (as the scorer does)."""
    index = {f: i for i, f in enumerate(vocab)}
    indptr = [0]
    cols: list[int] = []
    vals: list[float] = []
    for r in rows:
        c = sorted({index[f] for f in r["feats"] if f in index})
        cols.extend(c)
        vals.extend([1.0 / math.sqrt(len(c))] * len(c) if c else [])
        indptr.append(len(cols))
    return csr_matrix((np.array(vals, dtype=np.float64), np.array(cols, dtype=np.int64),
                       np.array(indptr)), shape=(len(rows), len(vocab)))


def _fit(rows: list[dict[str, Any]], c: float) -> tuple[list[str], LogisticRegression]:
    counts = Counter(f for r in rows for f in r["feats"])
    vocab = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
    clf = LogisticRegression(solver="liblinear", C=c, class_weight="balanced",
                             random_state=0, max_iter=1000)
    with toolchain.one_blas_thread():
        clf.fit(_matrix(rows, vocab), np.array([r["label"] for r in rows], dtype=np.int8))
    return vocab, clf


def _combined(row: dict[str, Any], p: float, high: float, medium: float,
              gate: bool = True) -> int:
    """The combined score as the scanner gives it; ``gate=False`` leaves out the gate of a
    message offering nothing to act on (see :func:`thresholds`)."""
    rules_score: int = row["rules_score"]
    if row["warning"] or (gate and not row.get("acts", True)):
        return rules_score
    pts = {"MSG-ML-001": CATALOGUE["MSG-ML-001"].points,
           "MSG-ML-002": CATALOGUE["MSG-ML-002"].points}
    # As the scanner does: the medium band adds only to points the rules counted.
    return rules_score + (pts["MSG-ML-001"] if p >= high else
                          pts["MSG-ML-002"] if p >= medium and rules_score > 0 else 0)


def _benign_fp(rows: list[dict[str, Any]], oof: list[float], high: float,
               medium: float) -> float:
    benign = [(r, p) for r, p in zip(rows, oof, strict=True) if r["label"] == 0]
    # Without the gate: it is a safeguard for look-alikes nobody wrote yet, not a budget
    # to spend on lower thresholds (with it, both bands fell to 0.5 and flagged the
    # look-alike texts of tests/test_message_advice.py).
    return sum(_combined(r, p, high, medium, gate=False) >= SUSPICIOUS_AT
               for r, p in benign) / max(1, len(benign))


def thresholds(rows: list[dict[str, Any]], oof: list[float]) -> tuple[float, float]:
    """(high, medium): the lowest thresholds within the benign budgets, out of fold."""
    cands = sorted({round(p, 4) for p in oof} | {0.5, 0.999})
    cands = [t for t in cands if t >= 0.5]  # never below even odds
    high = next(t for t in cands if _benign_fp(rows, oof, t, t) <= HIGH_BUDGET)
    medium = next(t for t in cands if t <= high
                  and _benign_fp(rows, oof, high, t) <= COMBINED_LIMIT)
    return high, medium


def out_of_fold(rows: list[dict[str, Any]], c: float) -> list[float]:
    """Each row's probability from a model fitted on the other folds."""
    labels = np.array([r["label"] for r in rows])
    oof = [0.0] * len(rows)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    for train, test in folds.split(np.zeros(len(rows)), labels):
        tr = [rows[i] for i in train]
        vocab, clf = _fit(tr, c)
        te = [rows[i] for i in test]
        probs = clf.predict_proba(_matrix(te, vocab))[:, 1]
        for i, p in zip(test, probs, strict=True):
            oof[int(i)] = float(p)
    return oof


def report(rows: list[dict[str, Any]], oof: list[float], high: float, medium: float) -> None:
    """Out-of-fold figures per split: rules only, model only, combined."""
    for split in dict.fromkeys(r["split"] for r in rows):
        part = [(r, p) for r, p in zip(rows, oof, strict=True) if r["split"] == split]
        for label, name in ((1, "scams flagged"), (0, "benign flagged")):
            sel = [(r, p) for r, p in part if r["label"] == label]
            if not sel:
                continue
            n = len(sel)
            ru = sum(r["rules_score"] >= SUSPICIOUS_AT for r, _ in sel)
            mo = sum(p >= high and not r["warning"] and r.get("acts", True) for r, p in sel)
            co = sum(_combined(r, p, high, medium) >= SUSPICIOUS_AT
                     for r, p in sel)
            print(f"  out of fold {split:9s} {name:15s} n={n:4d}  rules={ru / n:6.1%}  "
                  f"model-only={mo / n:6.1%}  combined={co / n:6.1%}", file=sys.stderr)


def train(splits: tuple[str, ...], extra: bool, c: float = C) -> dict[str, Any]:
    """The model document: weights fitted on every row, thresholds out of fold."""
    rows = load_rows(splits, extra)
    asyncio.run(_rules(rows))
    oof = out_of_fold(rows, c)
    high, medium = thresholds(rows, oof)
    print(f"thresholds: high {high}, medium {medium} (out of fold, {FOLDS} folds)",
          file=sys.stderr)
    report(rows, oof, high, medium)
    vocab, clf = _fit(rows, c)
    return {
        "meta": {
            "what": "logistic regression over scanners/message_model.py features",
            "trained_by": "eval/train_message_model.py (make model-message)",
            "splits": list(splits) + (["training"] if extra and EXTRA.is_dir() else []),
            "messages": len(rows), "scams": sum(r["label"] for r in rows),
            "features": len(vocab), "C": c, "min_count": MIN_COUNT, "folds": FOLDS,
            "high_budget": HIGH_BUDGET, "combined_limit": COMBINED_LIMIT,
        },
        "intercept": round(float(clf.intercept_[0]), 4),
        # Every vocabulary feature is kept, small weights too: the scorer divides by
        # the number of known features, as the training rows were scaled.
        "weights": {f: round(float(w), 4) for f, w in zip(vocab, clf.coef_[0], strict=True)},
        "thresholds": {"high": high, "medium": medium},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", default=",".join(TRAIN_SPLITS),
                    help="comma-separated tuning splits to learn from")
    ap.add_argument("--no-extra", action="store_true",
                    help="leave out eval/messages/training/")
    ap.add_argument("--c", type=float, default=C, help="inverse regularisation")
    ap.add_argument("--out", type=Path,
                    default=HERE.parent / "blocklists" / "data" / MODEL_FILE)
    args = ap.parse_args(argv)
    toolchain.warn()
    splits = tuple(s for s in args.splits.split(",") if s)
    refused = [s for s in splits if s in REFUSED]
    if refused:
        raise SystemExit(f"{', '.join(refused)}: never trained on (heldout8 is held out; "
                         "heldout5-7 are kept out of the model)")
    doc = train(splits, not args.no_extra, args.c)
    write_doc(args.out, doc)
    print(f"{args.out}: {len(doc['weights'])} weights from {doc['meta']['messages']} "
          f"messages ({doc['meta']['scams']} scams); thresholds {doc['thresholds']}; "
          f"{args.out.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
