"""The learned lexical link model, scored in-process with plain Python.

A logistic regression over the readable features of
:mod:`scanners.url_features`, trained by ``eval/train_url_model.py``
(``make model-url``) and shipped as ``blocklists/data/url_model.json.gz``:
the intercept, one weight per feature and the probability thresholds of its
two bands, chosen on a benign split held apart by registrable domain. No
scikit-learn at run time: a score is a sum of dictionary look-ups.

The file may hold a second weight set, ``host_model``, fitted on bare hosts
alone (names without a path): a bare host is then scored by it, a link with a
path by the main weights. Each kind keeps its own thresholds.

Besides the words of the link it reads which catalogue rules fired on it
(``rule:URL-LEX-014``, :func:`scanners.url_features.rule_features`): the scanner
passes them in, so a model score is the link's words and the rules' signals
weighed together.

Its findings are catalogue rules (``URL-ML-001`` high band, ``URL-ML-002``
medium band) whose evidence names the features that drove the score, so
that a model verdict always comes with a reason a person can read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

import blocklists
from scanners.errors import DataError
from scanners.findings import Finding
from scanners.linear_model import linear_weights, read_doc, sigmoid
from scanners.normalize import ParsedURL
from scanners.segment import default_segmenter
from scanners.url_features import (
    NO_RULES,
    RuleFeatures,
    domain_features,
    explains,
    is_ngram,
    path_features,
    platform_names,
    readable,
    sub_features,
)

MODEL_FILE = "url_model.json.gz"
CACHE_SIZE = 32768
"""Registrable names and subdomains whose model part is kept (each, per model file;
the bound of a long stream's memory, tests/test_cli.py)."""
HOST_GATE = 0.5
"""A link with a path is judged only when its host alone has at least this probability
(0.3 was tried in the fifth round and dropped: big sites that the benign training side
lacks, youtube.com among them, read 0.3-0.5; docs/evaluation.md)."""
_TOP = 5


@dataclass(frozen=True, slots=True)
class Score:
    """A link's model score and what drove it."""

    probability: float
    drivers: tuple[tuple[str, float], ...]
    """(feature, weight) of the heaviest positive readable features of the link itself,
    heaviest first (size buckets such as ``x:len24`` count in the score but explain
    nothing; the rules' features are :attr:`rules`)."""
    rules: tuple[tuple[str, float], ...] = ()
    """(``rule:<id>``, weight) of the rules that fired and added to the score, heaviest
    first: the report lists those rules' own evidence, so they are named apart."""


class UrlModel:
    """Weights and thresholds of the lexical model (immutable once loaded)."""

    def __init__(self, doc: dict[str, Any], cache_size: int = CACHE_SIZE) -> None:
        base = linear_weights(doc, "link model")
        self.intercept, self.weights, self.meta = base.intercept, base.weights, base.meta
        try:
            # "sqrt": a link's summed weights are divided by the square root of its
            # feature count, as its row was scaled to unit length in training (so
            # that a long name or path does not add up evidence by length alone).
            scale = doc.get("scale", "none")
            if scale not in ("none", "sqrt"):
                raise ValueError(f"unknown scale {scale!r}")
            self.scaled = scale == "sqrt"
            th = doc["thresholds"]
            self.thresholds = {kind: (float(th[kind]["high"]), float(th[kind]["medium"]))
                               for kind in ("host", "url")}
            sub = doc.get("host_model")
            # Two weight sets share the memory of one: bare hosts fill the host
            # model's caches, links with a path the main ones (a long stream of
            # new names keeps every cache full).
            if sub is not None:
                cache_size //= 2
            self._host: UrlModel | None = (
                None if sub is None else UrlModel({**sub, "thresholds": th}, cache_size))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise DataError(f"malformed link model: {e!r}") from e
        # Only the sums (and feature counts) are kept: what drove a score is read
        # again, from the features' own caches, for the few links in a band.
        self._domain_part = lru_cache(maxsize=cache_size)(
            lambda domain, suffix: self._part(domain_features(domain, suffix)))
        self._sub_part = lru_cache(maxsize=cache_size)(
            lambda subdomain: self._part(sub_features(subdomain)))
        # The rules' features come in few combinations (a sorted tuple each).
        self._rules_part = lru_cache(maxsize=4096)(self._part)

    @classmethod
    def load(cls, path: Path | None = None) -> UrlModel:
        """The model in ``path`` (default: the bundled one)."""
        return cls(read_doc(path or blocklists.data_dir() / MODEL_FILE, "link model"))

    def cache_clear(self) -> None:
        """Empty the per-name caches (of the host model too): benchmarks start cold."""
        self._domain_part.cache_clear()
        self._sub_part.cache_clear()
        self._rules_part.cache_clear()
        if self._host is not None:
            self._host.cache_clear()

    @cached_property
    def _explains(self) -> frozenset[str]:
        """The positive features a reader understands, decided once per feature (at
        the first score with drivers: 13 ms that start-up need not pay)."""
        return frozenset(f for f, v in self.weights.items() if v > 0 and explains(f))

    def warm(self) -> None:
        """Build now what the first link with drivers would build, for both weight sets
        (a server's start-up, so that no request waits for it)."""
        _ = self._explains
        if self._host is not None:
            self._host.warm()

    def for_link(self, p: ParsedURL) -> UrlModel:
        """The weights that judge ``p``: the host model for a bare host, if there is one."""
        if self._host is not None and p.path in ("", "/"):
            return self._host
        return self

    def score(self, p: ParsedURL, probability: float | None = None,
              rules: RuleFeatures = NO_RULES) -> Score:
        """The probability that ``p`` is malicious, with its drivers (``probability``:
        :meth:`probability` of ``p``, when the caller has it already; ``rules``: the
        rules that fired on ``p``, :func:`scanners.url_features.rule_features`)."""
        m = self.for_link(p)
        if m is not self:
            return m.score(p, probability, rules)
        feats = [*domain_features(p.domain, p.suffix), *sub_features(p.subdomain), *rules[0]]
        if p.path not in ("", "/"):
            feats += path_features(p.path)
            feats += rules[1]
        # Positive features as (-weight, feature), so that plain tuple order is the
        # drivers' order; the names of features never repeat across parts (their
        # prefixes differ), so the order is total.
        w = self.weights
        pos = sorted((-v, f) for f in feats if (v := w.get(f, 0.0)) > 0)
        own = [t for t in pos if not t[1].startswith("rule:")]
        # Never a score without a reason: with no readable driver, the size and
        # shape features speak, and with none of the link's own, the rules.
        shown = _distinct([t for t in own if t[1] in self._explains]) or _distinct(own)
        by_rules = [t for t in pos if t[1].startswith("rule:")][:_TOP]
        return Score(self.probability(p, rules) if probability is None else probability,
                     tuple((f, -v) for v, f in shown or by_rules),
                     tuple((f, -v) for v, f in by_rules))

    def probability(self, p: ParsedURL, rules: RuleFeatures = NO_RULES) -> float:
        """The model's probability for ``p``, summed per part: the registrable name and
        the subdomains are cached (traffic repeats them), the path and the rules are not."""
        # The hot path of every scan: no list of parts, no second call for the host
        # model's weights.
        m = self._host if self._host is not None and p.path in ("", "/") else self
        total, n = m._host_sum(p, rules[0])
        if m is self and p.path not in ("", "/"):
            s, k = m._part(path_features(p.path))
            total += s
            n += k
            if rules[1]:
                s, k = m._rules_part(rules[1])
                total += s
                n += k
        return sigmoid(m._logit(total, n))

    def host_probability(self, p: ParsedURL, rules: RuleFeatures = NO_RULES) -> float:
        """The probability of ``p``'s host alone, as if it had no path (the host's
        rules count, the path's do not)."""
        return sigmoid(self._logit(*self._host_sum(p, rules[0])))

    def _host_sum(self, p: ParsedURL, host_rules: tuple[str, ...]) -> tuple[float, int]:
        """The summed weights and feature count of ``p``'s host: its registrable name,
        its subdomains (both cached) and the host's rules."""
        total, n = self._domain_part(p.domain, p.suffix)
        s, k = self._sub_part(p.subdomain)
        total += s
        n += k
        if host_rules:
            s, k = self._rules_part(host_rules)
            total += s
            n += k
        return total, n

    def _logit(self, total: float, n: int) -> float:
        """The logit of a link from its features' summed weights and their count."""
        if self.scaled:
            total = total / math.sqrt(n) if n else 0.0
        return self.intercept + total

    def _part(self, feats: tuple[str, ...] | list[str]) -> tuple[float, int]:
        """The summed weights of one part's features, and how many features it has."""
        return sum(map(self.weights.get, feats, repeat(0.0))), len(feats)

    def findings(self, p: ParsedURL, rules: RuleFeatures = NO_RULES) -> list[Finding]:
        """``URL-ML-001`` / ``URL-ML-002`` for ``p``, or nothing below the medium band
        (``rules``: the rules that fired on ``p``, as :meth:`probability` takes them)."""
        if p.ip is not None or not p.host:
            return []
        if p.subdomain in ("", "www", "m") and p.registrable_domain in platform_names():
            # The platform's own site (www.dropbox.com/s/…): whatever it hosts is in
            # a path the model cannot tell from its many benign shares; the
            # platform rule (URL-LEX-003) and a live check speak there.
            return []
        kind = "url" if p.path not in ("", "/") else "host"
        high, medium = self.thresholds[kind]
        prob = self.probability(p, rules)
        if prob < medium:
            return []  # the common case: no drivers to collect
        host_p = self.host_probability(p, rules) if kind == "url" else None
        if host_p is not None and host_p < HOST_GATE:
            # A path can raise a doubtful host, never indict a host the model
            # reads as benign: the benign links with a path it learned from are
            # few, so paths alone (github.com/login) would make it jumpy.
            return []
        s = self.score(p, prob, rules)
        seg = default_segmenter()
        if p.registrable_domain in platform_names():
            # The model reads a platform as one name (url_features: plat:github.io),
            # not as syllables ("gi · thu · b"): so do its tokens.
            words = [t.text for lab in p.subdomain.split(".") if lab for t in seg.label(lab)]
            words.append(p.registrable_domain)
        else:
            words = [t.text for lab in p.host.split(".")[: -1 - p.suffix.count(".")]
                     for t in seg.label(lab)]
        ev = {
            "probability": round(s.probability, 3),
            "band": "high" if s.probability >= high else "medium",
            "threshold": high if s.probability >= high else medium,
            "tokens": " · ".join(words),
            "drivers": [readable(f) for f, _ in s.drivers],
        }
        if s.rules:
            # The rules that fired and weighed with the words (their evidence is
            # in the report's own findings).
            ev["with_rules"] = [f.removeprefix("rule:") for f, _ in s.rules]
        if host_p is not None:
            ev["host_probability"] = round(host_p, 3)
        return [Finding("URL-ML-001" if s.probability >= high else "URL-ML-002", ev)]


def _distinct(ranked: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """The first :data:`_TOP` of ``ranked`` (heaviest first) that tell a reader something
    new: a letter n-gram whose letters are in a driver already shown (``…vcb…`` after
    ``vcb…``), or a driver that reads as one shown, would take the place of one that
    says more. A word that spells an n-gram shown stands in its place (``vcb`` for
    ``…vcb…``): the same letters, read as a word."""
    out: list[tuple[float, str]] = []
    texts: list[str] = []
    for t in ranked:
        text = readable(t[1])
        if not is_ngram(t[1]):
            same = next((i for i, (_, f) in enumerate(out)
                         if is_ngram(f) and texts[i].strip("…") == text), None)
            if same is not None:
                out[same], texts[same] = t, text
                continue
        elif any(text.strip("…") in s for s in texts):
            continue
        if text in texts:
            continue
        out.append(t)
        texts.append(text)
        if len(out) == _TOP:
            break
    # Heaviest first again: a word that took an n-gram's place may weigh less than
    # the drivers after it.
    out.sort()
    return out


@cache
def default_model() -> UrlModel:
    """The bundled model, loaded once per process."""
    return UrlModel.load()
