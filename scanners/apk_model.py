"""The APK capability model: a logistic regression over permission and
framework-call facts, trained on about 36,000 labelled apps
(``eval/train_apk_model.py``, ``make model-apk``) and shipped as plain
weights in ``blocklists/data/apk_model.json``.

Scored here in plain Python (no scikit-learn or numpy at run time): the
weights of the facts an app has are summed with the intercept, and the
logistic of the sum is the score. The facts that pushed the score up the most
are the finding's evidence, so the model explains itself.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache

import blocklists
from scanners.apk_facts import ApkFacts
from scanners.errors import DataError

_PERM = re.compile(r"^[A-Z][A-Z0-9_]+$")


@dataclass(frozen=True, slots=True)
class ModelScore:
    """A model's verdict on one app: its score and the facts that drove it."""

    score: float
    threshold: float
    drivers: tuple[tuple[str, float], ...]
    """(fact, weight) of the present facts with positive weight, largest first."""

    @property
    def fires(self) -> bool:
        return self.score >= self.threshold


@dataclass(frozen=True, slots=True)
class ApkModel:
    """Weights by fact name (``perm:READ_SMS``, ``api:SmsManager.sendTextMessage``)."""

    weights: dict[str, float]
    intercept: float
    threshold: float

    def score(self, facts: ApkFacts) -> ModelScore:
        present = sorted(f for f in model_facts(facts) if f in self.weights)
        z = self.intercept + sum(self.weights[f] for f in present)
        drivers = sorted(((f, self.weights[f]) for f in present if self.weights[f] > 0),
                         key=lambda x: (-x[1], x[0]))
        return ModelScore(round(1.0 / (1.0 + math.exp(-z)), 4), self.threshold,
                          tuple(drivers))


def model_facts(facts: ApkFacts) -> set[str]:
    """The facts of ``facts`` in the model's vocabulary."""
    out: set[str] = set()
    for p in (*facts.permissions, *(c.permission for c in facts.components if c.permission)):
        name = p.rsplit(".", 1)[-1]
        if _PERM.match(name):
            out.add(f"perm:{name}")
    if facts.code is not None:
        out.update(f"api:{k}" for k in facts.code.api_refs)
    return out


@cache
def apk_model() -> ApkModel:
    """The bundled model, loaded once."""
    path = blocklists.data_dir() / "apk_model.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return ApkModel({str(k): float(v) for k, v in doc["weights"].items()},
                        float(doc["intercept"]), float(doc["threshold"]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"cannot load the APK model {path}: {e}") from e
