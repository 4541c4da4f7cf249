"""The learned message model (MSG-ML-001/002, scanners/message_model.py), its training
(eval/train_message_model.py) and the evaluation's detectors (eval/messages.py).

The mechanics are tested on small hand-made models (their weights are in the test);
the shipped model on messages written here. Offline; no shared data.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from eval import messages as eval_messages
from eval import train_message_model as train
from scanners import rules
from scanners.errors import DataError
from scanners.findings import Finding
from scanners.message import check_message
from scanners.message_model import (
    ML_RULES,
    MODEL_FILE,
    MessageModel,
    default_model,
    features,
)
from scanners.message_view import folded_view
from scanners.url_offline import default_scanner

FLAGGED = {"suspicious", "dangerous"}
ORDER = {"no_known_risk": 0, "official": 0, "suspicious": 1, "dangerous": 2}


def check(text: str, lang: str = "vi", use_model: bool = True) -> dict[str, Any]:
    return asyncio.run(check_message(text, default_scanner(), lang=lang, use_model=use_model))


def toy(weights: dict[str, float], intercept: float = -2.0, high: float = 0.9,
        medium: float = 0.6) -> MessageModel:
    return MessageModel({"intercept": intercept, "weights": weights,
                         "thresholds": {"high": high, "medium": medium}})


def test_features_read_the_folded_words_characters_and_signal_rules() -> None:
    f = features(folded_view("Việc nhẹ lương cao, nhận 500k/ngày").text,
                 ["MSG-BAIT-001", "MSG-TYPE-009", "MSG-COMBO-006", "MSG-ML-001"])
    assert {"w:viec", "w:viec nhe", "w:luong cao", "w:#k", "c: vie", "c:viec"} <= f
    # The script signals are features; the families, combinations and the model are not.
    assert "r:MSG-BAIT-001" in f
    assert not {"r:MSG-TYPE-009", "r:MSG-COMBO-006", "r:MSG-ML-001"} & f


def test_bands_points_and_drivers_of_a_toy_model() -> None:
    m = toy({"w:viec nhe": 30.0, "w:luong cao": 10.0, "w:me": -5.0, "c:abc": 50.0})
    text = folded_view("Việc nhẹ lương cao cho mọi người").text
    [f] = m.findings(text, [], rules_found=False)
    assert f.rule_id == "MSG-ML-001" and f.evidence["band"] == "high"
    # The drivers are the words that weighed most, readable (never a character n-gram).
    assert f.evidence["drivers"] == ["viec nhe", "luong cao"]
    assert 0.9 <= f.evidence["probability"] <= 1
    # Below the medium band: nothing; words that weigh against calm the score.
    assert m.findings(folded_view("Mẹ ơi").text, [], rules_found=True) == []


def test_medium_band_only_adds_to_points_the_rules_counted() -> None:
    m = toy({"w:hoa hong": 2.2}, intercept=-1.0)  # p(hoa hong …) is between the bands
    text = folded_view("Hoa hồng hấp dẫn").text
    assert 0.6 <= m.probability(text, []) < 0.9
    assert m.findings(text, [], rules_found=False) == []
    [f] = m.findings(text, ["MSG-BAIT-001"], rules_found=True)
    assert f.rule_id == "MSG-ML-002" and f.evidence["band"] == "medium"


def test_a_warning_gets_nothing_from_the_model() -> None:
    m = toy({"w:lua dao": 50.0})
    text = folded_view("Cảnh báo: tin nhắn trúng thưởng kèm phí là lừa đảo").text
    assert m.findings(text, [], rules_found=False)
    assert m.findings(text, ["MSG-CTX-001"], rules_found=False) == []


def test_malformed_or_missing_model_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        MessageModel({"weights": {}})
    with pytest.raises(DataError):
        MessageModel.load(tmp_path / MODEL_FILE)


def test_shipped_model_is_small_learned_from_tuning_splits_with_sane_bands() -> None:
    m = default_model()
    assert 0.5 <= m.medium <= m.high < 1
    assert "heldout5" not in m.meta["splits"] and "dev" in m.meta["splits"]
    assert "heldout6" not in m.meta["splits"]
    # Tuning data since it was measured once, but not learnt from (eval/train_message_model.py)
    assert "heldout4" not in m.meta["splits"]
    assert len(m.weights) < 50_000
    for rid in ML_RULES:
        r = rules.CATALOGUE[rid]
        assert r.points > 0 and r.reply("vi") and r.reply("en")
    assert rules.CATALOGUE["MSG-ML-001"].points >= 40  # the high band flags alone


# Scams written for this test.
MODEL_SCAMS = [
    ("Tuyển người làm online tại nhà bằng điện thoại, mỗi ngày 1-2 tiếng, thu nhập 300-500k. "
     "Nhắn Telegram để nhận việc.", "vi"),
    ("Dear customer, your account has been suspended due to unusual activity. Verify your "
     "identity at secure-verify-login.com to restore access.", "en"),
]


@pytest.mark.parametrize(("text", "lang"), MODEL_SCAMS)
def test_shipped_model_scores_a_scam_and_names_its_words(text: str, lang: str) -> None:
    r = check(text, lang)
    ml = [f for f in r["findings"] if f["rule_id"] in ML_RULES]
    assert ml, r["findings"]
    assert ml[0]["evidence"]["drivers"]
    assert ml[0]["title"] == rules.CATALOGUE[ml[0]["rule_id"]].title(lang)


# Look-alikes of many families, and scams, both in both languages.
NEVER_CALMER = [
    ("Mẹ ơi con chuyển khoản tiền điện cho mẹ rồi nhé, mẹ xem tin nhắn ngân hàng.", "vi"),
    ("Your parcel arrives tomorrow between 9 and 12, the courier will call first.", "en"),
    ("Cán bộ công an phường yêu cầu bác tải ứng dụng tại vneid-capnhat.top để cập nhật.", "vi"),
    ("Tuyen CTV lam online tai nha, nap 500k de nhan nhiem vu, hoan goc va hoa hong.", "vi"),
    ("Your loan is approved, pay the 2 million insurance fee to receive it.", "en"),
    ("Chị ơi mai họp phụ huynh lúc 7h, chị nhắn giúp em cô giáo nhé.", "vi"),
]


@pytest.mark.parametrize(("text", "lang"), NEVER_CALMER)
def test_the_model_never_makes_a_message_calmer(text: str, lang: str) -> None:
    rules_only = check(text, lang, use_model=False)
    combined = check(text, lang)
    assert combined["risk_score"] >= rules_only["risk_score"]
    assert ORDER[combined["verdict"]] >= ORDER[rules_only["verdict"]]
    # Every rule finding is still there; the model only adds its own.
    rule_findings = {f["rule_id"] for f in rules_only["findings"]}
    assert rule_findings <= {f["rule_id"] for f in combined["findings"]}
    assert {f["rule_id"] for f in combined["findings"]} - rule_findings <= set(ML_RULES)


def test_model_findings_are_catalogue_findings() -> None:
    Finding("MSG-ML-001", {"probability": 0.9})
    Finding("MSG-ML-002", {"probability": 0.7})


# --- training ------------------------------------------------------------------------


def test_training_is_deterministic_and_refuses_the_held_out_split(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    assert train.main(["--splits", "dev2", "--no-extra", "--out", str(a)]) == 0
    assert train.main(["--splits", "dev2", "--no-extra", "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(gzip.decompress(a.read_bytes()))
    assert doc["meta"]["splits"] == ["dev2"] and doc["meta"]["messages"] == 109
    m = MessageModel(doc)
    assert 0.5 <= m.medium <= m.high < 1
    for refused in ("heldout5", "heldout6", "heldout7"):
        with pytest.raises(SystemExit, match=refused):
            train.main(["--splits", f"dev,{refused}", "--out", str(tmp_path / "c.json.gz")])


def test_thresholds_keep_the_benign_budget_out_of_fold() -> None:
    rows = [{"label": y, "rules_score": 0, "warning": False} for y in [1] * 50 + [0] * 200]
    oof = [0.95] * 45 + [0.55] * 5 + [0.1] * 197 + [0.97, 0.96, 0.8]
    high, medium = train.thresholds(rows, oof)
    # At most HIGH_BUDGET of the benign reach the high band, and the band is as low as
    # that allows (one benign more would break the budget).
    benign = sorted((p for r, p in zip(rows, oof, strict=True) if r["label"] == 0), reverse=True)
    allowed = int(train.HIGH_BUDGET * len(benign))
    assert sum(p >= high for p in benign) <= allowed < sum(p >= benign[allowed] for p in benign)
    assert medium <= high


# --- the evaluation ----------------------------------------------------------------------


def _write_split(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "scams.jsonl").write_text(json.dumps({
        "id": "x-s1", "lang": "vi", "type": "vneid",
        "text": "Cán bộ công an yêu cầu bác tải ứng dụng tại vneid-capnhat.top"}) + "\n",
        encoding="utf-8")
    (d / "benign.jsonl").write_text(json.dumps({
        "id": "x-b1", "lang": "vi", "text": "Mẹ ơi tối nay con về ăn cơm nhé"}) + "\n",
        encoding="utf-8")


def test_eval_names_a_missing_held_out_split(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert eval_messages.main(["--data", str(tmp_path), "--split", "heldout7"]) == 2
    assert "heldout7" in capsys.readouterr().err


def test_eval_reports_each_detector_and_includes_heldout7_when_present(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_split(tmp_path)  # the dev split is the data directory itself
    _write_split(tmp_path / "heldout4")
    _write_split(tmp_path / "heldout5")
    _write_split(tmp_path / "heldout6")
    _write_split(tmp_path / "heldout7")
    assert eval_messages.main(["--data", str(tmp_path), "--split", "all"]) == 0
    out = capsys.readouterr().out
    for mode in ("rules", "model", "combined"):
        assert f"[heldout7: {mode}]" in out and f"[dev: {mode}]" in out
        assert f"[heldout4 (tuned): {mode}]" in out  # measured once, tuned on since
        assert f"[heldout5 (tuned): {mode}]" in out
        assert f"[heldout6 (tuned): {mode}]" in out  # read in the fourth round
    assert "heldout2" not in out  # absent splits are left out of "all"
    # The held-out split's misses are not listed (only its aggregates).
    assert "x-s1" not in out.split("[heldout7: rules]")[1]


def test_the_model_adds_nothing_to_a_message_that_offers_nothing_to_act_on() -> None:
    from scanners.message import check_message, offers_action
    from scanners.url_offline import default_scanner

    group = "Nhóm hỗ trợ học viên lớp tiếng Anh: ai cần tài liệu cứ nhắn trong nhóm Zalo nhé."
    # A group named without a link: nothing to act on; with its link, something.
    assert not offers_action(group)
    assert offers_action(group + " zalo.me/g/hocvien-tienganh")
    shop = ("Chào anh, em là nhân viên chăm sóc khách hàng của tiệm. Anh mang máy tới cửa "
            "hàng gần nhất để được đổi mới miễn phí nhé.")
    assert not offers_action(shop)
    report = asyncio.run(check_message(shop, default_scanner(), lang="vi"))
    assert not any(f["rule_id"] in ML_RULES for f in report["findings"]), report["findings"]
    # The same words with a number to call, a link or money asked: the model may add points.
    assert offers_action(shop + " Gọi em 0912 000 118.")
    assert offers_action(shop + " Chi tiết: doimoi-khuyenmai.top")
    assert offers_action(shop + " Anh chuyển trước 200k phí giữ hàng.")
