"""The aggregate: points traceable to rules, suppression, thresholds."""

from __future__ import annotations

import pytest

from scanners import rules
from scanners.findings import (
    DANGEROUS_AT,
    SUSPICIOUS_AT,
    Finding,
    Verdict,
    aggregate,
    relabel,
    verdict_for,
)


def test_unknown_rule_id_is_refused() -> None:
    with pytest.raises(KeyError):
        Finding("URL-NOPE-999")


def test_points_come_from_the_catalogue() -> None:
    f = Finding("URL-GOV-001", {"token": "vneid"})
    assert f.points == rules.CATALOGUE["URL-GOV-001"].points
    d = f.to_dict("en")
    assert d["title"] == rules.CATALOGUE["URL-GOV-001"].title_en
    assert f.to_dict("vi")["title"] == rules.CATALOGUE["URL-GOV-001"].title_vi
    assert d["evidence"] == {"token": "vneid"}


def test_score_is_capped_sum_and_traceable() -> None:
    fs = [Finding("URL-GOV-004", {"n": 1}), Finding("URL-GOV-001", {"n": 2}),
          Finding("URL-LEX-001", {"tld": "cc"})]
    agg = aggregate(fs)
    expected = sum(f.points for f in fs)
    assert agg.risk_score == min(100, expected)
    assert sum(f.points for f in agg.counted) == expected
    assert agg.verdict is Verdict.DANGEROUS


def test_allowlist_zeroes_suppressible_rules() -> None:
    agg = aggregate([Finding("URL-OFF-001", {"domain": "x.gov.vn"}),
                     Finding("URL-GOV-002", {"token": "gov"})])
    assert agg.risk_score == 0
    assert agg.verdict is Verdict.OFFICIAL
    assert [(f.rule_id, by) for f, by in agg.suppressed] == [("URL-GOV-002", "URL-OFF-001")]
    js = agg.findings_json("en")
    assert {"rule_id": "URL-GOV-002", "points": 0} .items() <= js[-1].items()
    assert js[-1]["suppressed_by"] == "URL-OFF-001"


def test_blocklist_is_never_suppressed() -> None:
    agg = aggregate([Finding("URL-OFF-001", {"domain": "x.gov.vn"}),
                     Finding("URL-BL-001", {"source": "t", "entry": "x.gov.vn", "match": "host"})])
    assert agg.risk_score == rules.CATALOGUE["URL-BL-001"].points
    assert agg.verdict is Verdict.DANGEROUS


def test_known_good_allowlist_is_not_official() -> None:
    agg = aggregate([Finding("URL-OFF-003", {"domain": "vnexpress.net"})])
    assert agg.verdict is Verdict.NO_KNOWN_RISK


def test_rule_counts_once() -> None:
    agg = aggregate([Finding("URL-GOV-001", {"token": "vneid"}),
                     Finding("URL-GOV-001", {"token": "bhxh"})])
    assert agg.risk_score == rules.CATALOGUE["URL-GOV-001"].points
    assert len(agg.counted) == 1 and len(agg.suppressed) == 1


@pytest.mark.parametrize(("score", "official", "verdict"), [
    (0, False, Verdict.NO_KNOWN_RISK), (SUSPICIOUS_AT - 1, False, Verdict.NO_KNOWN_RISK),
    (SUSPICIOUS_AT, False, Verdict.SUSPICIOUS), (DANGEROUS_AT - 1, False, Verdict.SUSPICIOUS),
    (DANGEROUS_AT, False, Verdict.DANGEROUS), (100, True, Verdict.DANGEROUS),
    (0, True, Verdict.OFFICIAL), (5, True, Verdict.NO_KNOWN_RISK)])
def test_thresholds(score: int, official: bool, verdict: Verdict) -> None:
    assert verdict_for(score, official) is verdict


def test_reasons_in_both_languages() -> None:
    agg = aggregate([Finding("URL-GOV-004"), Finding("URL-LEX-001")])
    assert agg.reasons("vi")[0] == rules.CATALOGUE["URL-GOV-004"].title_vi
    assert agg.reasons("en")[0] == rules.CATALOGUE["URL-GOV-004"].title_en


def test_docs_rules_md_is_current() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == rules.markdown(), \
        "docs/rules.md is stale: run `make docs`"


def _report(findings: list[Finding], lang: str) -> dict[str, object]:
    agg = aggregate(findings)
    return {"risk_score": agg.risk_score, "verdict": agg.verdict.value,
            "reasons": agg.reasons(lang), "findings": agg.findings_json(lang)}


@pytest.mark.parametrize("ids", [
    ("URL-GOV-004", "URL-LEX-001", "URL-LEX-001"),          # a repeat is listed with 0
    ("URL-OFF-001", "URL-GOV-001"),                         # allowlist, suppressed finding
    ("APK-IMP-003", "APK-CAP-001", "APK-ANTI-001", "APK-ZIP-001"),  # an app, > 3 reasons
    ("MSG-IMP-001", "MSG-DATA-001", "MSG-COMBO-002"),       # a chat message
])
def test_relabel_by_rule_id_gives_the_report_of_the_other_language(ids: tuple[str, ...]) -> None:
    """One relabel for link, app and message reports: by rule id, never by title."""
    fs = [Finding(i) for i in ids]
    vi, en = _report(fs, "vi"), _report(fs, "en")
    assert vi["reasons"] != en["reasons"]
    assert relabel(vi, "en") == en and relabel(en, "vi") == vi
    assert relabel(vi, "vi") == vi


def test_relabel_keeps_what_it_cannot_read() -> None:
    gone = {"verdict": "suspicious", "risk_score": 40, "reasons": ["old words"],
            "findings": [{"rule_id": "URL-OLD-999", "points": 40, "title": "old title"}]}
    assert relabel(gone, "en") == gone
