"""Train the APK capability model (``blocklists/data/apk_model.json``) from the
permission/API feature tables of ``apk_features/`` (CC BY 4.0).

    python eval/train_apk_model.py --data ../shared/data [--check] [--report]

Four tables of about 36,000 labelled apps (ADROIT, AndroCrawl, Android
Permissions, TUANDROMD) name their columns in four ways; each column is mapped
onto a fact the scanner extracts (``perm:READ_SMS`` for a requested or
component permission, ``api:SmsManager.sendTextMessage`` for a framework call
of the DEX), and unmapped columns are dropped. The model is an L2 logistic
regression (scikit-learn, lbfgs, no randomness) with one intercept per table,
so that the tables' different malware shares and missing columns do not
become feature weights; the shipped intercept is their mean. Each table and
class weighs the same.

The threshold is chosen on the tables only (never on the APK files): the
lowest score at which leave-one-table-out benign apps are flagged at most
``--max-fpr`` of the time. The file is written with sorted features and
rounded numbers, and the BLAS under the solver is pinned (``eval/toolchain.py``), so
the same data gives the same bytes (``make model-apk``).
``--check`` fails when the committed file differs from a rebuild.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# First: it pins OpenBLAS's kernels, which are chosen when numpy loads.
from eval import toolchain  # isort: skip

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "blocklists" / "data" / "apk_model.json"
TABLES = ("adroit.csv", "androcrawl-balanced.csv", "android_permissions-balanced.csv",
          "TUANDROMD.csv")
C = 0.5
MIN_SUPPORT = 30  # apps holding a feature, over all tables
MAX_FPR = 0.02

# Framework calls of the tables -> the scanner's call names (scanners/apk_dex.API_CALLS).
API_MAP = {
    "Landroid/telephony/SmsManager;->sendTextMessage": "SmsManager.sendTextMessage",
    "Landroid/telephony/SmsManager;->sendMultipartTextMessage":
        "SmsManager.sendMultipartTextMessage",
    "Ldalvik/system/DexClassLoader;-><init>": "DexClassLoader.<init>",
    "Ldalvik/system/DexClassLoader;->loadClass": "DexClassLoader.<init>",
    "Ljava/lang/System;->loadLibrary": "System.loadLibrary",
    "Ljava/lang/System;->load": "System.load",
    "Ljava/lang/Runtime;->exec": "Runtime.exec",
}
_PERM = re.compile(r"^[A-Z][A-Z0-9_]+$")


def _label_map() -> dict[str, str]:
    """Old AOSP permission labels ("read SMS or MMS") -> permission names, from
    androguard's copies of the framework's permission tables (API 4-19)."""
    import androguard

    base = Path(androguard.__file__).parent / "core" / "api_specific_resources" / \
        "aosp_permissions"
    out: dict[str, str] = {}
    for level in range(19, 3, -1):  # older labels win: the table is from that era
        f = base / f"permissions_{level}.json"
        if not f.is_file():
            continue
        doc = json.loads(f.read_text(encoding="utf-8"))
        for name, p in doc.get("permissions", {}).items():
            label = str(p.get("label") or "").strip().lower()
            if label and name.startswith("android.permission."):
                out[label] = name.rsplit(".", 1)[-1]
    return out


def map_column(table: str, col: str, labels: dict[str, str]) -> str | None:
    """The scanner fact a column stands for, or None."""
    col = col.strip()
    if col.startswith("L") and ";->" in col:
        api = API_MAP.get(col.replace("K0wn", "Known"))
        return f"api:{api}" if api else None
    if table == "android_permissions-balanced.csv":
        m = re.match(r"^.*? : (.*) \([SD]\)$", col)
        if not m:
            return None
        name = labels.get(m.group(1).strip().lower())
        return f"perm:{name}" if name else None
    if ":" in col:  # AndroCrawl: "Dangerous Permission: READ_SMS", "Api Call: L…"
        head, _, rest = col.partition(":")
        rest = rest.strip()
        if head.strip() == "Api Call":
            api = API_MAP.get(rest)
            return f"api:{api}" if api else None
        col = rest
    name = col.rsplit(".", 1)[-1] if "." in col else col
    if table == "TUANDROMD.csv":
        name = name.replace("0", "NO")  # the table wrote every "NO" as "0"
    return f"perm:{name}" if _PERM.match(name) else None


def load(data: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Feature names, X (0/1), y and the table index of each row."""
    labels = _label_map()
    rows: list[tuple[int, set[str], int]] = []
    for t, name in enumerate(TABLES):
        with (data / "apk_features" / name).open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            head = next(reader)
            cols = [map_column(name, c, labels) for c in head[:-1]]
            for r in reader:
                if len(r) != len(head) or r[-1].strip() not in ("0", "1"):
                    continue  # blank or damaged rows
                feats = {c for c, v in zip(cols, r[:-1], strict=True)
                         if c and v.strip() not in ("0", "", "0.0")}
                rows.append((t, feats, int(r[-1])))
    counts: dict[str, int] = {}
    for _, feats, _ in rows:
        for x in feats:
            counts[x] = counts.get(x, 0) + 1
    names = sorted(k for k, v in counts.items() if v >= MIN_SUPPORT)
    index = {n: i for i, n in enumerate(names)}
    X = np.zeros((len(rows), len(names)), dtype=np.float64)
    for i, (_, feats, _) in enumerate(rows):
        for x in feats:
            j = index.get(x)
            if j is not None:
                X[i, j] = 1.0
    y = np.array([r[2] for r in rows], dtype=np.int64)
    tab = np.array([r[0] for r in rows], dtype=np.int64)
    return names, X, y, tab


def _weights(y: np.ndarray, tab: np.ndarray) -> np.ndarray:
    w = np.zeros(len(y))
    for t in np.unique(tab):
        for c in (0, 1):
            m = (tab == t) & (y == c)
            if m.any():
                w[m] = 1.0 / m.sum()
    return np.asarray(w * len(y) / w.sum(), dtype=np.float64)


def fit(X: np.ndarray, y: np.ndarray, tab: np.ndarray, n_tables: int) -> tuple[np.ndarray, float]:
    """Coefficients and the mean of the per-table intercepts."""
    onehot = np.eye(n_tables)[tab]
    model = LogisticRegression(C=C, max_iter=5000, fit_intercept=False, solver="lbfgs")
    with toolchain.one_blas_thread():
        model.fit(np.hstack([X, onehot]), y, sample_weight=_weights(y, tab))
    coef = np.asarray(model.coef_[0], dtype=np.float64)
    present = np.unique(tab)
    return coef[: X.shape[1]], float(np.mean(coef[X.shape[1]:][present]))


def score(X: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-(X @ coef + intercept))), dtype=np.float64)


def _pr(p: np.ndarray, y: np.ndarray, thr: float) -> tuple[float, float, float]:
    hit = p >= thr
    tp = int((hit & (y == 1)).sum())
    fp = int((hit & (y == 0)).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / int((y == 1).sum()) if (y == 1).any() else 0.0
    fpr = fp / int((y == 0).sum()) if (y == 0).any() else 0.0
    return prec, rec, fpr


def evaluate(names: list[str], X: np.ndarray, y: np.ndarray, tab: np.ndarray,
             max_fpr: float) -> dict[str, Any]:
    """Leave-one-table-out and 5-fold (stratified, fixed seed) cross-validation."""
    n = len(TABLES)
    loto = np.zeros(len(y))
    for t in range(n):
        tr = tab != t
        coef, b = fit(X[tr], y[tr], tab[tr], n)
        loto[~tr] = score(X[~tr], coef, b)
    benign = np.sort(loto[y == 0])
    # The lowest threshold keeping the left-out benign apps' flag rate within max_fpr.
    k = int(np.floor(len(benign) * (1 - max_fpr)))
    thr = float(np.round(benign[min(k, len(benign) - 1)] + 1e-6, 4))
    cv = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for tr, te in folds.split(X, y * 10 + tab):
        coef, b = fit(X[tr], y[tr], tab[tr], n)
        cv[te] = score(X[te], coef, b)
    out: dict[str, Any] = {"threshold": thr, "leave_one_table_out": {}, "cv5": {}}
    for t, name in enumerate(TABLES):
        m = tab == t
        for key, p in (("leave_one_table_out", loto), ("cv5", cv)):
            prec, rec, fpr = _pr(p[m], y[m], thr)
            out[key][name] = {"apps": int(m.sum()), "malware": int(y[m].sum()),
                              "precision": round(prec, 3), "recall": round(rec, 3),
                              "benign_flagged": round(fpr, 3)}
    for key, p in (("leave_one_table_out", loto), ("cv5", cv)):
        prec, rec, fpr = _pr(p, y, thr)
        out[key]["all"] = {"apps": len(y), "malware": int(y.sum()), "precision": round(prec, 3),
                           "recall": round(rec, 3), "benign_flagged": round(fpr, 3)}
    return out


def build(data: Path, max_fpr: float = MAX_FPR) -> tuple[dict[str, Any], dict[str, Any]]:
    names, X, y, tab = load(data)
    report = evaluate(names, X, y, tab, max_fpr)
    coef, b = fit(X, y, tab, len(TABLES))
    doc = {
        "about": "scamscan APK capability model: logistic regression over permission and "
                 "framework-call facts; score = 1 / (1 + exp(-(intercept + sum of the "
                 "weights of the facts present))). Built by eval/train_apk_model.py "
                 "(make model-apk).",
        "credit": "Android feature data from the Malware-Hunter datasets collection "
                  "(github.com/Malware-Hunter/datasets; ADROIT, AndroCrawl and Android "
                  "Permissions, CC BY 4.0) and TUANDROMD (Borah, Bhattacharyya and Kalita; "
                  "UCI Machine Learning Repository, CC BY 4.0). "
                  "Licence: https://creativecommons.org/licenses/by/4.0/",
        "tables": list(TABLES),
        "apps": len(y),
        "C": C,
        "intercept": round(b, 4),
        "threshold": report["threshold"],
        "weights": {n: round(float(w), 4) for n, w in zip(names, coef, strict=True)
                    if abs(w) >= 1e-4},
    }
    return doc, report


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _table(report: dict[str, Any]) -> Iterable[str]:
    yield "| protocol | table | apps | malware | precision | recall | benign flagged |"
    yield "|---|---|---:|---:|---:|---:|---:|"
    for key, title in (("leave_one_table_out", "leave one table out"), ("cv5", "5-fold CV")):
        for name, r in report[key].items():
            yield (f"| {title} | {name} | {r['apps']} | {r['malware']} | {r['precision']:.3f} | "
                   f"{r['recall']:.3f} | {r['benign_flagged']:.3f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                    help="folder holding apk_features/ (default: ../shared/data)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--max-fpr", type=float, default=MAX_FPR)
    ap.add_argument("--check", action="store_true", help="fail if --out differs from a rebuild")
    ap.add_argument("--report", action="store_true", help="print the validation table")
    args = ap.parse_args(argv)
    toolchain.warn()
    if not (args.data / "apk_features").is_dir():
        print(f"train_apk_model: {args.data} has no apk_features/", file=sys.stderr)
        return 2
    doc, report = build(args.data, args.max_fpr)
    text = dumps(doc)
    if args.report:
        print("\n".join(_table(report)))
        print(f"\nthreshold {report['threshold']}, {len(doc['weights'])} weights")
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print("apk model: up to date" if same else "apk model: differs from a rebuild")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
