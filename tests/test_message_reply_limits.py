"""Every family's reply, in both languages and both flagged verdicts, with and without
a named bank, keeps the limits of :mod:`scanners.message_reply` and names no number
but 113 (no hotline is invented)."""

from __future__ import annotations

import re

import pytest

from scanners import message_reply as mr

CASES = [(t, v, lang, folded) for t in sorted(mr.TYPE_IDS) for v in ("dangerous", "suspicious")
         for lang in ("vi", "en") for folded in ("", "vietcombank thong bao")]


@pytest.mark.parametrize(("scam_type", "verdict", "lang", "folded"), CASES)
def test_reply_keeps_its_limits(scam_type: str, verdict: str, lang: str, folded: str) -> None:
    report = {"verdict": verdict, "scam_type": scam_type, "findings": [], "items": [],
              "incomplete": []}
    r = mr.build(report, lang, folded)
    assert mr.words(r["headline"]) <= mr.MAX_HEADLINE_WORDS, r["headline"]
    assert mr.words(r["reply"]) <= mr.MAX_REPLY_WORDS, r["reply"]
    assert 1 <= len(r["steps"]) <= mr.MAX_STEPS
    assert set(re.findall(r"(?<![\w.])\d{3,}(?![\w.])", r["reply"])) <= {"113"}, r["reply"]
    assert r["reply"].startswith(r["headline"])
    if any(n["number"] == "113" for n in r["hotlines"]):
        assert "113" in " ".join(r["steps"])
