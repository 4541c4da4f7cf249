"""The catalogue is well-formed, published, and every rule is exercised by some test."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from scanners import rules, version
from scanners.apk_facts import SCHEMA_VERSION
from scanners.apk_report import SCANNER_VERSION
from scanners.catalogue import apk, message, url
from scanners.findings import Finding
from scanners.rules import SCOPE_PREFIX, Kind, Scope, Severity, Status, Verdict, verdict_for

TESTS = Path(__file__).resolve().parent


def test_ids_are_stable_shape_and_unique() -> None:
    # Over the assembled tuple, not the dict keyed by id (where a repeat would vanish).
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert list(rules.CATALOGUE) == ids
    for rid in ids:
        assert re.fullmatch(r"[A-Z]+-[A-Z]+-\d{3}", rid), rid


def test_each_rule_sits_in_the_module_of_its_scope() -> None:
    for scope, module in ((Scope.URL, url), (Scope.MESSAGE, message), (Scope.APK, apk)):
        assert module.RULES, scope
        for r in module.RULES:
            assert r.scope is scope and r.id.startswith(SCOPE_PREFIX[scope]), r.id
            assert r.status is Status.ACTIVE, r.id


def test_every_message_rule_has_reply_words_in_both_languages() -> None:
    for r in rules.RULES:
        if r.scope is Scope.MESSAGE:
            assert r.reply_vi and r.reply_en and r.reply_vi != r.reply_en, r.id
            assert r.reply("vi") == r.reply_vi and r.reply("en") == r.reply_en
        else:
            assert r.reply_vi is None and r.reply_en is None, r.id


def test_link_rules_score_exactly_the_verdict_bands() -> None:
    """MSG-LINK-001/002/004 inherit a link's score; their ceilings are the band tops."""
    top = {Verdict.DANGEROUS: rules.MAX_SCORE, Verdict.SUSPICIOUS: rules.DANGEROUS_AT - 1,
           Verdict.NO_KNOWN_RISK: rules.SUSPICIOUS_AT - 1}
    assert set(rules.LINK_RULES) == set(top)
    for verdict, rule_id in rules.LINK_RULES.items():
        r = rules.CATALOGUE[rule_id]
        assert r.inherits and r.points == top[verdict], rule_id
        assert verdict_for(r.points) is verdict, rule_id
    assert {r.id for r in rules.RULES if r.inherits} == set(rules.LINK_RULES.values())


def test_verdict_labels_are_on_the_verdict() -> None:
    labels = {v: (v.label("vi"), v.label("en")) for v in Verdict}
    assert labels[Verdict.DANGEROUS] == ("Nguy hiểm", "Dangerous")
    assert labels[Verdict.NO_KNOWN_RISK] == ("Chưa thấy rủi ro", "No known risk")
    assert len({x for pair in labels.values() for x in pair}) == 2 * len(Verdict)


def test_content_hash_covers_every_field() -> None:
    before = rules.content_hash()
    first = rules.RULES[0]
    for change in ({"description": first.description + "!"}, {"title_en": "x"},
                   {"severity": Severity.CRITICAL}, {"reply_vi": "x"},
                   {"status": Status.RETIRED}):
        swapped = (dataclasses.replace(first, **change), *rules.RULES[1:])
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(rules, "RULES", swapped)
            assert rules.content_hash() != before, change
    assert rules.content_hash() == before


def test_scanner_version_follows_the_data_files(tmp_path: Path) -> None:
    (tmp_path / "official_apps.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "model.json").write_text("[1]")
    v1 = version.scanner_version("apk-1", 2, tmp_path)
    assert re.fullmatch(r"apk-1\+[0-9a-f]{12}", v1)
    assert version.scanner_version("apk-1", 2, tmp_path) == v1
    assert version.scanner_version("apk-1", 3, tmp_path) != v1  # fact schema
    (tmp_path / "sub" / "model.json").write_text("[2]")
    assert version.scanner_version("apk-1", 2, tmp_path) != v1  # a data file
    assert version.scanner_version("apk-1", SCHEMA_VERSION) == SCANNER_VERSION


def test_retired_rules_cannot_be_emitted() -> None:
    retired = dataclasses.replace(rules.CATALOGUE["URL-LEX-001"], status=Status.RETIRED)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(rules.CATALOGUE, "URL-LEX-001", retired)
        with pytest.raises(ValueError, match="retired"):
            Finding("URL-LEX-001")
    Finding("URL-LEX-001")


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
