"""The link data's time split and the model's training script, on a small data folder
written by the test (the real sets live outside the repository)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from eval import train_url_model, url_split
from scanners.normalize import ParsedURL

BENIGN = [f"{w}{i}.com" for i, w in enumerate(
    ["shop", "news", "bank", "music", "travel", "garden", "school", "coffee",
     "library", "weather"] * 6)]


def write_data(d: Path) -> Path:
    d.mkdir()
    (d / "vn_scam_hosts_dev.csv").write_text(
        "host,first_seen,last_seen\n"
        "ghnn11.com,2023-01-10,2026-01-01\n"   # training
        "tmko22.com,2023-02-10,2026-01-01\n"   # training
        "vxqq33.com,2023-08-10,2026-01-01\n"   # validation window
        "later44.com,2023-11-10,2026-01-01\n", # after the real cut
        encoding="utf-8")
    (d / "gov_impersonation_dev.csv").write_text(
        "host,label,source,first_seen_in_list\n"
        "dichvucong-gov.top,malicious,x,2023-08-01\n"
        "vneid-gov.top,malicious,x,2024-01-01\n", encoding="utf-8")
    (d / "chongluadao_hosts.txt").write_text("cld-scam1.xyz\n", encoding="utf-8")
    (d / "chongluadao_v1_hosts.txt").write_text("v1-scam9.xyz\n", encoding="utf-8")
    (d / "chongluadao_typed_2021.json").write_text(
        json.dumps({"blacklist": [{"url": "http://acb-online.co/*"}], "whitelist": []}),
        encoding="utf-8")
    (d / "phishtank_2021.csv").write_text(
        "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n"
        "1,https://pt-login.club/verify/,x,2021,yes,2021,yes,Other\n", encoding="utf-8")
    (d / "phishtank_2018_2019.csv").write_text(
        "phish_id,url,submission_time,verification_time,target\n"
        "2,http://pp-update.info/webscr.php,2018,2018,PayPal\n", encoding="utf-8")
    (d / "iscx2016_phishing.txt").write_text("http://secure-acct.tk/signin\n", encoding="utf-8")
    (d / "openphish_dev.jsonl").write_text("".join(
        json.dumps({"url": u, "first_seen": day, "host": ""}) + "\n" for u, day in [
            ("https://op-train.com/login", "2025-01-01"),
            ("https://op-valid.com/", "2025-01-04"),
            ("https://op-later.com/", "2025-01-07"),
            # Sites on a shared platform: one trained on, one new after the cut.
            ("https://kit-one.webflow.io/", "2025-01-01"),
            ("https://kit-two.webflow.io/", "2025-01-07")]), encoding="utf-8")
    (d / "tranco_top10k.csv").write_text(
        "".join(f"{i},{h}\n" for i, h in enumerate(BENIGN[:20])), encoding="utf-8")
    (d / "benign_umbrella_top100k.txt").write_text("\n".join(BENIGN[20:]) + "\n",
                                                   encoding="utf-8")
    (d / "vn_domains_known_good.csv").write_text(
        "registrable_domain,category,sources,hosts_seen\nvnexpress.net,news,x,vnexpress.net\n",
        encoding="utf-8")
    (d / "benign_urls_iscx2016.txt").write_text(
        "\n".join(f"http://{h}/about/team" for h in BENIGN) + "\n", encoding="utf-8")
    return d


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return write_data(tmp_path / "urls")


def hosts(rows: Iterable[ParsedURL]) -> set[str]:
    return {p.host for p in rows}


def test_real_split_trains_before_the_cuts_and_measures_after(data: Path) -> None:
    sp = url_split.load(data)
    mal = hosts([p for p, y in sp.train if y == 1])
    assert {"ghnn11.com", "vxqq33.com", "v1-scam9.xyz", "op-train.com",
            "op-valid.com"} <= mal
    assert hosts(sp.later["new Vietnamese scam hosts (hostsVN)"]) == {"later44.com"}
    assert hosts(sp.later["government-service fakes"]) == {"vneid-gov.top"}
    assert hosts(sp.later["international phishing URLs (OpenPhish)"]) == {"op-later.com"}


def test_validation_split_measures_the_window_and_never_reads_after_it(data: Path) -> None:
    sp = url_split.load(data, *url_split.VALIDATION_CUTS, hostsvn_end=url_split.HOSTSVN_CUT,
                        openphish_end=url_split.OPENPHISH_CUT)
    mal = hosts([p for p, y in sp.train if y == 1])
    assert "ghnn11.com" in mal and "op-train.com" in mal
    seen = mal | {h for rows in sp.later.values() for h in hosts(rows)}
    assert not seen & {"later44.com", "op-later.com", "vneid-gov.top"}
    assert hosts(sp.later["new Vietnamese scam hosts (hostsVN)"]) == {"vxqq33.com"}
    assert hosts(sp.later["government-service fakes"]) == {"dichvucong-gov.top"}
    assert hosts(sp.later["international phishing URLs (OpenPhish)"]) == {"op-valid.com"}


def test_a_new_site_on_a_shared_platform_is_measured_apart(data: Path) -> None:
    sp = url_split.load(data)
    # webflow.io is on the training side (kit-one), but kit-two is a new site.
    assert hosts(sp.later[url_split.PLATFORM_SET]) == {"kit-two.webflow.io"}
    assert "kit-two.webflow.io" not in hosts(sp.later["international phishing URLs (OpenPhish)"])
    assert sp.removed["international phishing URLs (OpenPhish)"] == 1


def test_debians_platform_sites_split_by_site_and_train_on_names_only(data: Path) -> None:
    sp = url_split.load(data)
    deb = {p.host for p in url_split._parse_all(url_split.DEBIAN_HOMEPAGES)}
    train = {p.host for p, y in sp.train if y == 0 and p.host in deb}
    assert all(p.path == "/" for p, y in sp.train if y == 0 and p.host in deb)
    tune, test = hosts(sp.tune_platform), hosts(sp.test_platform)
    assert len(train) > 100 and len(tune) > 50 and len(test) > 50
    assert not (train & tune or train & test or tune & test)
    assert train | tune | test == deb


def test_debians_other_home_pages_split_by_registrable_and_train_with_paths(
        data: Path) -> None:
    sp = url_split.load(data)
    links = list(url_split._parse_all(url_split.DEBIAN_OTHERS))
    regs = {p.registrable_domain for p in links}
    train = [p for p, y in sp.train if y == 0 and p.registrable_domain in regs
             and p.url in {q.url for q in links}]
    tune = {p.registrable_domain for p in sp.tune_projects}
    test = {p.registrable_domain for p in sp.test_projects}
    train_regs = {p.registrable_domain for p in train}
    assert len(train_regs) > 1000 and len(tune) > 300 and len(test) > 300
    assert not (train_regs & tune or train_regs & test or tune & test)
    # Pages of projects, paths kept: what the model lacked.
    assert sum(p.path != "/" for p in train) > 1000
    assert len(train) + len(sp.tune_projects) + len(sp.test_projects) == len(links)


def test_debians_names_do_not_shrink_the_later_sets(data: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    later = url_split.load(data).later
    empty = tmp_path / "none.txt"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setattr(url_split, "DEBIAN_OTHERS", empty)
    assert url_split.load(data).later == later


def test_benign_registrables_sit_on_one_side_only(data: Path) -> None:
    sp = url_split.load(data)
    train = {p.registrable_domain for p, y in sp.train if y == 0}
    tune = {p.registrable_domain for p in sp.tune_hosts + sp.tune_urls}
    test = {p.registrable_domain for p in sp.test_hosts + sp.test_urls}
    assert train and tune and test
    assert not (train & tune or train & test or tune & test)


def test_training_writes_the_same_bytes_twice(data: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    ca, cb = tmp_path / "cut-a.json.gz", tmp_path / "cut-b.json.gz"
    assert train_url_model.main(["--data", str(data), "--out", str(a), "--cut-out", str(ca)]) == 0
    assert train_url_model.main(["--data", str(data), "--out", str(b), "--cut-out", str(cb)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert ca.read_bytes() == cb.read_bytes()
    doc = json.loads(gzip.decompress(a.read_bytes()))
    cut = json.loads(gzip.decompress(ca.read_bytes()))
    assert doc["meta"]["malicious"] >= 8
    assert any(f.startswith("shape:") for f in doc["weights"])
    for d in (doc, cut):
        for kind in ("host", "url"):
            th = d["thresholds"][kind]
            assert 0.0 < th["medium"] <= th["high"] < 1.0
    # The shipped model learned the later rows too (later44.com, op-later.com,
    # kit-two.webflow.io); the evaluation's did not, and each says which rows it read.
    assert doc["meta"]["malicious"] == cut["meta"]["malicious"] + 3
    assert cut["meta"]["training_side"].startswith(
        f"hostsVN before {url_split.HOSTSVN_CUT}, OpenPhish before {url_split.OPENPHISH_CUT}")
    assert doc["meta"]["training_side"].startswith("every hostsVN and OpenPhish row")


def test_the_shipped_models_split_trains_on_every_row_and_measures_none(data: Path) -> None:
    sp = url_split.load(data, train_url_model.END, train_url_model.END)
    mal = hosts([p for p, y in sp.train if y == 1])
    assert {"ghnn11.com", "later44.com", "op-later.com", "op-valid.com"} <= mal
    # Government fakes are only ever measured, never trained on.
    assert not mal & {"vneid-gov.top", "dichvucong-gov.top"}
    assert not any(sp.later.values())
    # The benign sides are the evaluation's: same tune side, test side never trained.
    assert hosts(sp.tune_hosts) == hosts(url_split.load(data).tune_hosts)
    test_regs = {p.registrable_domain for p in url_split.load(data).test_hosts}
    assert not test_regs & {p.registrable_domain for p, y in sp.train if y == 0}


def test_a_gap_before_the_window_is_neither_trained_nor_measured(data: Path) -> None:
    # Cut moved back to 2023-02-01: the row of 2023-02-10 falls in the gap up to the
    # validation cut; the window measured is the same as with the normal cut.
    sp = url_split.load(data, "2023-02-01", url_split.VALIDATION_CUTS[1],
                        hostsvn_end=url_split.HOSTSVN_CUT, openphish_end=url_split.OPENPHISH_CUT,
                        hostsvn_window=url_split.VALIDATION_CUTS[0])
    mal = hosts([p for p, y in sp.train if y == 1])
    assert "ghnn11.com" in mal and "tmko22.com" not in mal
    assert hosts(sp.later["new Vietnamese scam hosts (hostsVN)"]) == {"vxqq33.com"}
    assert len(sp.train_seen) == len(sp.train)
    dated = dict(zip([p.host for p, _ in sp.train], sp.train_seen, strict=True))
    assert dated["ghnn11.com"] == "2023-01-10" and dated["op-train.com"] == "2025-01-01"
    assert dated["shop0.com"] == ""


def test_recency_weights_favour_recent_rows_and_keep_the_class_mean() -> None:
    labels = np.array([1, 1, 1, 0], dtype=np.int8)
    seen = ["2023-06-01", "2022-06-01", "2021", ""]
    w = train_url_model.recency_weights(seen, labels, "2023-07-01", 365.0)
    assert w[0] > w[1]
    assert w[2] > w[0]  # a year alone reads as undated: the weight of a row of today
    assert w[3] == 1.0
    assert w[:3].mean() == pytest.approx(1.0)
    flat = train_url_model.recency_weights(seen, labels, "2023-07-01", None)
    assert list(flat) == [1.0, 1.0, 1.0, 1.0]


def test_a_scaled_training_run_writes_a_scaled_model(data: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(train_url_model.SCALE, "url", "sqrt")
    out, cut = tmp_path / "a.json.gz", tmp_path / "cut.json.gz"
    assert train_url_model.main(["--data", str(data), "--out", str(out),
                                 "--cut-out", str(cut)]) == 0
    doc = json.loads(gzip.decompress(out.read_bytes()))
    assert doc["scale"] == "sqrt" and "scale" not in doc["host_model"]
    # Training scales a row by its whole feature list; the scorer counts the same
    # features part by part (registrable, subdomains, the host's rules, path, the
    # path's rules).
    from scanners.normalize import normalize
    from scanners.url_features import domain_features, path_features, sub_features

    p = normalize("https://login.paypa1-verify.top/account/verify?email=x")
    host_rules, path_rules = train_url_model._rules(p)
    assert host_rules and path_rules  # URL-IMP-008, URL-LEX-001; URL-PATH-001
    assert len(train_url_model._feats(p)) == (len(domain_features(p.domain, p.suffix))
                                              + len(sub_features(p.subdomain))
                                              + len(host_rules)
                                              + len(path_features(p.path))
                                              + len(path_rules))


def test_a_rule_that_fired_never_lowers_the_score() -> None:
    # A rule seen only on benign rows would learn a negative weight, which a page
    # could earn by triggering the rule; the fit drops it, and keeps a word's.
    rows = [["rule:URL-LEX-006", "w:garden"]] * 20 + [["w:login"]] * 20
    labels = np.array([0] * 20 + [1] * 20, dtype=np.int8)
    _, weights = train_url_model._lr(rows, labels, np.ones(40), c=1.0, min_count=1)
    assert "rule:URL-LEX-006" not in weights
    assert weights["w:garden"] < 0 < weights["w:login"]


def test_debians_project_registrables_are_a_fresh_benign_row(data: Path) -> None:
    """The registrables of Debian's tune and test home pages, as bare names: none of
    them is a name of the other benign sets (so none was read in their rows), none
    is on the other side, and each is the registrable of one of its side's pages."""
    sp = url_split.load(data)
    for pages, names in ((sp.tune_projects, sp.tune_project_names),
                         (sp.test_projects, sp.test_project_names)):
        got = [p.host for p in names]
        assert len(got) > 300 and len(got) == len(set(got))
        assert all(p.path == "/" and p.host == p.registrable_domain for p in names)
        assert set(got) <= {p.registrable_domain for p in pages}
    assert not hosts(sp.tune_project_names) & hosts(sp.test_project_names)
    # A name that a benign list holds too stays in that list's rows only.
    listed = {sp.tune_project_names[0].host, sp.test_project_names[0].host}
    with (data / "tranco_top10k.csv").open("a", encoding="utf-8") as f:
        f.writelines(f"{900 + i},{h}\n" for i, h in enumerate(sorted(listed)))
    again = url_split.load(data)
    rows = hosts(again.tune_project_names) | hosts(again.test_project_names)
    assert not rows & listed
    assert rows == (hosts(sp.tune_project_names) | hosts(sp.test_project_names)) - listed


def test_wilson_interval_brackets_the_rate() -> None:
    from eval.urls import wilson

    low, high = wilson(3, 2422)
    assert 0.0004 < low < 3 / 2422 < high < 0.0037
    assert wilson(0, 0) == (0.0, 0.0)
    low, high = wilson(0, 1000)
    assert low == 0.0 and 0.003 < high < 0.004


def test_validate_prints_each_window_row_with_its_interval(
        data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_url_model.main(["--data", str(data), "--validate"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("  ")]
    names = [line.split(" n=")[0].strip() for line in rows]
    assert "international phishing URLs (OpenPhish)" in names
    assert "benign tune project registrables (FP)" in names
    for line in rows:
        # combined=R% (95% CI L%-H%), with L <= R <= H
        combined = line.split("combined=")[1]
        rate = float(combined.split("%")[0])
        low, high = (float(x.rstrip("%)")) for x in combined.split("CI ")[1].split("-"))
        assert low <= rate <= high


def test_the_curve_starts_at_the_models_own_band_and_looser_bands_flag_more(
        data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from eval import url_curve
    from scanners.linear_model import read_doc

    cut = tmp_path / "cut.json.gz"
    assert train_url_model.main(["--data", str(data), "--out", str(tmp_path / "m.json.gz"),
                                 "--cut-out", str(cut)]) == 0
    doc = read_doc(cut, "link model")
    sp = url_split.load(data)
    tune = {"host": sp.tune_hosts, "url": sp.tune_urls}
    rows = url_curve.curve(doc, tune, dict(sp.later),
                           budgets=(url_curve.BUDGETS[0], (0.5, 0.5), (1.0, 1.0)))
    # The first row is the band the model file itself holds.
    assert rows[0]["thresholds"] == {k: doc["thresholds"][k]["high"] for k in ("host", "url")}
    for looser, tighter in zip(rows[1:], rows, strict=False):
        for kind in ("host", "url"):
            assert looser["thresholds"][kind] <= tighter["thresholds"][kind]
        for name, (k, n) in looser["counts"].items():
            assert k >= tighter["counts"][name][0] and n == tighter["counts"][name][1]
    # At the whole tune side's budget the band flags every benign registrable there.
    k, n = rows[-1]["counts"]["tune host"]
    assert n > 0 and k == n

    assert url_curve.main(["--data", str(data), "--model", str(cut), "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + len(url_curve.BUDGETS)
    assert "benign registrables (test)" in lines[0] and "(later)" in lines[0]
    # --validate reads the window and the tune side, never the test side.
    assert url_curve.main(["--data", str(data), "--validate"]) == 0
    text = capsys.readouterr().out
    assert "(window)" in text and "(test)" not in text and "(later)" not in text
