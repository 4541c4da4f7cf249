"""The file of a learned linear model (links: :mod:`scanners.url_model`; messages:
:mod:`scanners.message_model`): gzip'd JSON with an ``intercept``, feature
``weights``, ``thresholds`` and ``meta``, written by the training scripts in eval/,
read once, and scored in plain Python (no scikit-learn at run time).
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanners.errors import DataError


@dataclass(frozen=True, slots=True)
class LinearWeights:
    """What every linear model file holds besides its thresholds."""

    intercept: float
    weights: dict[str, float]
    meta: dict[str, Any]


def read_doc(path: Path, what: str) -> dict[str, Any]:
    """The JSON document of the model file ``path``; ``what`` names it in errors."""
    try:
        doc = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read the {what} {path}: {e}") from e
    if not isinstance(doc, dict):
        raise DataError(f"malformed {what}: not a JSON object")
    return doc


def linear_weights(doc: dict[str, Any], what: str) -> LinearWeights:
    """The intercept, weights and meta of ``doc``, checked."""
    try:
        return LinearWeights(float(doc["intercept"]),
                             {str(k): float(v) for k, v in doc["weights"].items()},
                             dict(doc.get("meta", {})))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise DataError(f"malformed {what}: {e!r}") from e


def sigmoid(z: float) -> float:
    """The logistic function, clamped so that ``exp`` never overflows."""
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def write_doc(path: Path, doc: dict[str, Any]) -> None:
    """Write a model file the way every training script does: sorted keys, no
    whitespace, gzip without a time stamp, so a rebuild is byte-for-byte the same."""
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    path.write_bytes(gzip.compress(blob.encode("utf-8"), compresslevel=9, mtime=0))
