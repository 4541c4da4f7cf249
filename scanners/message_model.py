"""The learned message model (MSG-ML-*), scored in-process with plain Python.

A logistic regression over the folded text of a message (:mod:`scanners.message_view`)
and the rules that already fired on it, trained by ``eval/train_message_model.py``
(``make model-message``) on the tuning sets of ``eval/messages/`` and shipped as
``blocklists/data/message_model.json.gz``, in the same form as the link model
(:mod:`scanners.url_model`): an intercept, one weight per feature and the
probability thresholds of two bands, chosen by cross-validation on the training
messages (never on a held-out split).

Features (:func:`features`), each present or absent:

* ``w:`` words and word pairs of the folded text (digit runs read as ``#``), so that
  "chuyen khoan" or "viec nhe" count whatever the wording around them;
* ``c:`` character 3- and 4-grams inside words, for spellings the words miss
  ("chuyenkhoan", "ck", a misspelt "dinh danh");
* ``r:`` the script-signal rules the message already triggered (impersonation,
  urgency, a lure, an install, data or payment request, the band of its worst link):
  the signal families the rules detect (:data:`SIGNAL_PREFIXES`).

The score is ``intercept + sum(weights) / sqrt(n)``, ``n`` the number of the
message's features the model knows (each row was scaled to unit length in
training), so that a long message is not guilty by its length alone.

The findings only add points (``MSG-ML-001`` high band, ``MSG-ML-002`` medium
band): the model can make a message more severe, never calmer than its rules. Their
evidence names the words and rules that drove the score.
:func:`scanners.message.check_message` asks the model only about a message that gives
something to act on (a link, number, app, account, or an ask of money or a move to a
chat app): its words alone do not flag a shop's or a study group's message.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import blocklists
from scanners.errors import DataError
from scanners.findings import Finding

# The same logistic link as the link model's: one definition of the score's scale.
from scanners.linear_model import linear_weights, read_doc, sigmoid

MODEL_FILE = "message_model.json.gz"
_TOP = 5
_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"[0-9]+")
ML_RULES = ("MSG-ML-001", "MSG-ML-002")
"""The model's own rules: never features of the model."""
WARNING_RULE = "MSG-CTX-001"
"""The rules found a warning about scams, not a script: the model adds nothing."""
SIGNAL_PREFIXES = ("MSG-IMP-", "MSG-URG-", "MSG-BAIT-", "MSG-APP-", "MSG-DATA-", "MSG-PAY-",
                   "MSG-LINK-", "MSG-CTX-")
"""The rules that are features: the script signals, the link bands and the warning
context. Not the families and combinations (MSG-TYPE-*, MSG-COMBO-*): they are
conjunctions of these that fire on nearly every training scam, so the model would
learn them and little of the wording, and have nothing to say where they are silent."""


def features(folded: str, rule_ids: Iterable[str]) -> set[str]:
    """The features of a message: its folded text (lower case, no diacritics) and the
    ids of the rules that fired on it (see the module docstring)."""
    words = [_DIGITS.sub("#", w) for w in _WORD.findall(folded)]
    out = {f"w:{w}" for w in words}
    out.update(f"w:{a} {b}" for a, b in pairwise(words))
    for w in set(words):
        out.update(_char_grams(w))
    out.update(f"r:{r}" for r in rule_ids if r.startswith(SIGNAL_PREFIXES))
    return out


@lru_cache(maxsize=65536)
def _char_grams(word: str) -> tuple[str, ...]:
    """The character 3- and 4-grams of ``word`` with its boundaries (cached: messages
    repeat their words)."""
    padded = f" {word} "
    return tuple(f"c:{padded[i:i + n]}" for n in (3, 4) for i in range(len(padded) - n + 1))


def readable(feature: str) -> str:
    """A feature as a person reads it: the words, or the rule id."""
    return feature[2:].strip()


def _explains(feature: str) -> bool:
    # Character n-grams, numbers and one- or two-letter words ("a", "de") weigh in the
    # score but explain nothing to a reader.
    if feature.startswith("c:"):
        return False
    if feature.startswith("w:"):
        words = feature[2:].split()
        return any(len(w) > 2 and "#" not in w for w in words)
    return True


@dataclass(frozen=True, slots=True)
class Score:
    """A message's model probability and what drove it."""

    probability: float
    drivers: tuple[tuple[str, float], ...]
    """(feature, weight) of the heaviest positive words and rules, heaviest first."""


class MessageModel:
    """Weights and thresholds of the message model (immutable once loaded)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        base = linear_weights(doc, "message model")
        self.intercept, self.weights, self.meta = base.intercept, base.weights, base.meta
        try:
            th = doc["thresholds"]
            self.high = float(th["high"])
            self.medium = float(th["medium"])
            self._logit_medium = math.log(self.medium / (1 - self.medium))
            # The features that may be named as drivers, decided once.
            self._drivers = frozenset(f for f, v in self.weights.items()
                                      if v > 0 and _explains(f))
        except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as e:
            raise DataError(f"malformed message model: {e!r}") from e

    @classmethod
    def load(cls, path: Path | None = None) -> MessageModel:
        """The model in ``path`` (default: the bundled one)."""
        return cls(read_doc(path or blocklists.data_dir() / MODEL_FILE, "message model"))

    def _known(self, feats: Iterable[str]) -> list[tuple[str, float]]:
        get = self.weights.get
        return [(f, v) for f in feats if (v := get(f)) is not None]

    def probability(self, folded: str, rule_ids: Iterable[str]) -> float:
        """The probability that the message is a scam."""
        known = self._known(features(folded, rule_ids))
        return sigmoid(self._z(known))

    def _z(self, known: list[tuple[str, float]]) -> float:
        if not known:
            return self.intercept
        return self.intercept + sum(v for _, v in known) / math.sqrt(len(known))

    def score(self, folded: str, rule_ids: Iterable[str]) -> Score:
        """The probability with its drivers."""
        known = self._known(features(folded, rule_ids))
        z = self._z(known)
        if z < self._logit_medium:
            return Score(sigmoid(z), ())  # the common case: no drivers to collect
        # The few heaviest only: a full sort of every known feature costs more.
        shown = self._drivers
        top = heapq.nsmallest(_TOP, ((-v, f) for f, v in known if f in shown))
        return Score(sigmoid(z), tuple((f, -nv) for nv, f in top))

    def findings(self, folded: str, rule_ids: Iterable[str], rules_found: bool) -> list[Finding]:
        """``MSG-ML-001`` / ``MSG-ML-002`` for the message, or nothing below the
        medium band. ``rules_found``: whether the rules counted points already; the
        medium band only adds to them (alone it would be noise in a calm message)."""
        ids = list(rule_ids)
        if WARNING_RULE in ids:
            # The rules read a warning that quotes a script ("… là lừa đảo"): its words
            # are the scam's words, and the rules' reading is the better one.
            return []
        s = self.score(folded, ids)
        high = s.probability >= self.high
        if s.probability < self.medium or not (high or rules_found):
            return []
        return [Finding("MSG-ML-001" if high else "MSG-ML-002", {
            "probability": round(s.probability, 3),
            "band": "high" if high else "medium",
            "threshold": self.high if high else self.medium,
            "drivers": [readable(f) for f, _ in s.drivers],
        })]


@cache
def default_model() -> MessageModel:
    """The bundled model, loaded once per process."""
    return MessageModel.load()
