"""The catalogue is well-formed, published, and every rule is exercised by some test."""

from __future__ import annotations

import re
from pathlib import Path

from scanners import rules
from scanners.rules import Kind

TESTS = Path(__file__).resolve().parent


def test_ids_are_stable_shape_and_unique() -> None:
    ids = [r.id for r in rules.CATALOGUE.values()]
    assert len(ids) == len(set(ids))
    for rid in ids:
        assert re.fullmatch(r"[A-Z]+-[A-Z]+-\d{3}", rid), rid


def test_titles_in_both_languages_and_points_sane() -> None:
    for r in rules.CATALOGUE.values():
        assert r.title_vi and r.title_en and r.title_vi != r.title_en, r.id
        assert 0 <= r.points <= 100, r.id
        assert r.description, r.id
        if r.kind is Kind.ALLOWLIST:
            assert r.points == 0 and not r.suppressible, r.id
        if r.kind is Kind.BLOCKLIST:
            assert not r.suppressible, r.id


def test_every_rule_is_named_by_a_test() -> None:
    # Each rule id must appear in at least one test module other than this one,
    # where its positive and negative cases live.
    text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py")
                     if p.name != Path(__file__).name)
    missing = [r for r in rules.CATALOGUE if r not in text]
    assert not missing, f"rules without tests: {missing}"
