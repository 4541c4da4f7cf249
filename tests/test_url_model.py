"""The learned link model (URL-ML-*): bands, evidence, allowlists, the shipped file."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

import blocklists
from scanners.errors import DataError
from scanners.findings import Verdict, aggregate
from scanners.normalize import normalize
from scanners.url_model import HOST_GATE, MODEL_FILE, UrlModel, default_model
from scanners.url_offline import NoLists, OfflineURLScanner


def small_model(intercept: float = -2.0) -> UrlModel:
    """A model written for the test: "cham soc" and .top are what it fears."""
    return UrlModel({
        "intercept": intercept,
        "weights": {"w:cham soc": 3.0, "tld:top": 1.0, "p:verify": 2.5, "x:len12": 0.1},
        "thresholds": {"host": {"high": 0.8, "medium": 0.5},
                       "url": {"high": 0.9, "medium": 0.6}},
    })


def ml(text: str, model: UrlModel) -> list[tuple[str, dict[str, object]]]:
    scanner = OfflineURLScanner(index=NoLists(), model=model)
    return [(f.rule_id, dict(f.evidence)) for f in scanner.check(normalize(text))
            if f.rule_id.startswith("URL-ML-")]


def test_high_band_fires_with_readable_drivers() -> None:
    found = ml("chamsoc.top", small_model())  # z = -2 + 3 + 1 = 2: p = 0.88
    assert [r for r, _ in found] == ["URL-ML-001"]
    ev = found[0][1]
    assert ev["band"] == "high" and ev["probability"] == pytest.approx(0.881, abs=1e-3)
    assert ev["drivers"] == ["cham soc", ".top"]
    assert ev["tokens"] == "cham soc"


def test_a_platform_is_one_token_as_the_model_reads_it() -> None:
    model = UrlModel({
        "intercept": -2.0, "weights": {"plat:github.io": 2.0, "sw:cham soc": 2.0},
        "thresholds": {"host": {"high": 0.8, "medium": 0.5},
                       "url": {"high": 0.9, "medium": 0.6}},
    })
    found = ml("https://chamsoc.github.io/", model)
    assert [r for r, _ in found] == ["URL-ML-001"]
    assert found[0][1]["tokens"] == "cham soc · github.io"  # not "gi · thu · b"


def test_medium_band_and_nothing_below() -> None:
    assert [r for r, _ in ml("chamsoc.com", small_model())] == ["URL-ML-002"]  # p = 0.73
    assert ml("example.com", small_model()) == []
    assert ml("example.top", small_model()) == []  # p = 0.27


def path_model() -> UrlModel:
    return UrlModel({
        "intercept": -2.0, "weights": {"tld:top": 2.5, "tld:xyz": 1.7, "p:verify": 1.0,
                                       "p:signin": 5.0},
        "thresholds": {"host": {"high": 0.95, "medium": 0.9},
                       "url": {"high": 0.99, "medium": 0.8}},
    })


def test_urls_with_a_path_use_their_own_thresholds() -> None:
    # Host alone: z = 0.5, p = 0.62 (below the host bands); with /verify: z = 1.5,
    # p = 0.82, the URL medium band; the host leans malicious, so the path counts.
    assert ml("example.top", path_model()) == []
    found = ml("https://example.top/verify", path_model())
    assert [r for r, _ in found] == ["URL-ML-002"]
    assert found[0][1]["host_probability"] == pytest.approx(0.622, abs=1e-3)


def test_a_path_never_indicts_a_host_read_as_benign() -> None:
    # /signin alone lifts example.com to p = 0.95, but its host reads benign
    # (p = 0.12 < HOST_GATE): no model finding.
    assert HOST_GATE == 0.5
    assert ml("https://example.com/signin", path_model()) == []
    assert [r for r, _ in ml("https://example.top/signin", path_model())] == ["URL-ML-001"]


def test_a_path_never_counts_on_a_host_below_the_gate() -> None:
    # example.xyz alone: z = -0.3, p = 0.43 < HOST_GATE; /signin would lift it to
    # p = 0.991, but big sites missing from the benign training side (youtube.com)
    # read this way too, so the path does not count.
    assert ml("https://example.xyz/signin", path_model()) == []


@pytest.mark.parametrize("host", ["vietcombank.com.vn", "dichvucong.gov.vn", "https://momo.vn/",
                                  "https://vneid.gov.vn/verify", "hust.edu.vn"])
def test_official_allowlists_win_over_the_model(host: str) -> None:
    # A model that calls everything malicious still cannot flag an official domain.
    scanner = OfflineURLScanner(index=NoLists(), model=small_model(intercept=20.0))
    agg = aggregate(scanner.check(normalize(host)))
    assert agg.verdict in (Verdict.OFFICIAL, Verdict.NO_KNOWN_RISK), agg
    assert agg.risk_score == 0
    assert any(f.rule_id.startswith("URL-ML-") for f, _ in agg.suppressed)


@pytest.mark.parametrize("host", ["vietcombank.com.vn", "dichvucong.gov.vn", "vneid.gov.vn",
                                  "https://www.vietcombank.com.vn/login", "momo.vn"])
def test_shipped_model_never_flags_official_domains(host: str) -> None:
    agg = aggregate(OfflineURLScanner(index=NoLists()).check(normalize(host)))
    assert agg.verdict is Verdict.OFFICIAL, agg


@pytest.mark.parametrize("url", ["http://chriscool.github.io/sharness/",
                                 "https://rometools.github.io/rome/",
                                 "http://khibino.github.io/haskell-relational-record/",
                                 "http://jancoding.wordpress.com/auralquiz/"])
def test_shipped_model_does_not_flag_a_project_site_for_its_platform(url: str) -> None:
    # Home pages of Debian packages: the model once flagged them by "github.io" and
    # the letters of the account alone, having met platform sites only as phishing.
    found = OfflineURLScanner(index=NoLists()).check(normalize(url))
    assert not [f for f in found if f.rule_id == "URL-ML-001"], found
    assert aggregate(found).verdict is Verdict.NO_KNOWN_RISK


def test_shipped_model_is_small_and_well_formed() -> None:
    path = blocklists.data_dir() / MODEL_FILE
    assert path.stat().st_size < 1_000_000
    doc = json.loads(gzip.decompress(path.read_bytes()))
    assert 1000 < len(doc["weights"]) < 200_000
    # Bare hosts have weights of their own (eval/train_url_model.py TWO_MODELS).
    assert 1000 < len(doc["host_model"]["weights"]) < 200_000
    assert default_model().for_link(normalize("ghnn22.com")) is not default_model()
    m = default_model()
    for kind in ("host", "url"):
        high, medium = m.thresholds[kind]
        assert 0.5 <= medium <= high < 1.0
    # Trained on the dev lists only: the meta says what and how.
    assert "train_url_model.py" in doc["meta"]["trained_by"]
    assert doc["meta"]["training_side"].startswith("every hostsVN and OpenPhish row")


def test_the_evaluation_measures_a_model_trained_before_its_cuts() -> None:
    """eval/urls.py scores the later side with the committed cut model, never with the
    shipped one (which trained on the later side too): same features, fewer rows."""
    from eval import urls
    from eval.url_split import HOSTSVN_CUT, OPENPHISH_CUT

    cut = json.loads(gzip.decompress(urls.CUT_MODEL.read_bytes()))
    shipped = json.loads(gzip.decompress((blocklists.data_dir() / MODEL_FILE).read_bytes()))
    assert cut["meta"]["training_side"].startswith(
        f"hostsVN before {HOSTSVN_CUT}, OpenPhish before {OPENPHISH_CUT},")
    assert cut["meta"]["malicious"] < shipped["meta"]["malicious"]
    assert {k: v for k, v in cut["meta"].items() if k not in (
        "training_side", "links", "malicious", "features", "host_model_links",
        "host_model_features")} == {k: v for k, v in shipped["meta"].items() if k not in (
            "training_side", "links", "malicious", "features", "host_model_links",
            "host_model_features")}


def test_shipped_model_separates_obvious_cases() -> None:
    m = default_model()
    phish = m.score(normalize(
        "http://secure-paypal-account-verify.top/webscr/login/verify.php?cmd=_login-run"))
    plain = m.score(normalize("https://www.wikipedia.org/"))
    assert phish.probability > 0.99 > plain.probability
    assert phish.drivers and all(isinstance(f, str) for f, _ in phish.drivers)


def test_malformed_model_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "m.json.gz"
    bad.write_bytes(gzip.compress(b'{"weights": {}}'))
    with pytest.raises(DataError):
        UrlModel.load(bad)
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError):
        UrlModel.load(bad)


def test_hostile_path_is_bounded() -> None:
    # The longest accepted input, all path: scored from its first characters.
    url = "https://example.top/" + "a1/" * 2700
    found = OfflineURLScanner(index=NoLists()).check(normalize(url))
    assert all(f.rule_id for f in found)


def test_shape_features_explain_when_nothing_else_does() -> None:
    model = UrlModel({
        "intercept": 0.0, "weights": {"x:len12": 5.0},
        "thresholds": {"host": {"high": 0.9, "medium": 0.5}, "url": {"high": 0.9, "medium": 0.5}},
    })
    found = ml("abcdefghij.com", model)  # 10 letters: the "≤12" length bucket
    assert [r for r, _ in found] == ["URL-ML-001"]
    assert found[0][1]["drivers"] == ["name length ≤12"]


@pytest.mark.parametrize("url", [
    "https://github.com/example/project/pull/42", "https://accounts.google.com/signin",
    "https://docs.python.org/3/library/re.html", "https://github.com/login",
    "https://en.wikipedia.org/wiki/Phishing", "https://vnexpress.net/thoi-su/abc-4712345.html",
])
def test_shipped_model_leaves_ordinary_links_with_paths_calm(url: str) -> None:
    agg = aggregate(OfflineURLScanner(index=NoLists()).check(normalize(url)))
    assert agg.verdict in (Verdict.NO_KNOWN_RISK, Verdict.OFFICIAL), agg


@pytest.mark.parametrize("url", ["https://www.dropbox.com/s/xyz123/bienban.pdf",
                                 "https://www.dropbox.com/sh/abc123/photos"])
def test_model_leaves_a_platforms_own_site_to_the_platform_rule(url: str) -> None:
    ids = {f.rule_id for f in OfflineURLScanner(index=NoLists()).check(normalize(url))}
    assert not ids & {"URL-ML-001", "URL-ML-002"}


def test_name_pattern_features_read_as_letters_and_digits() -> None:
    from scanners.url_features import domain_features, readable, shape, sub_features

    assert shape("ghnn22") == "a4d2"
    assert shape("vn66733shop") == "a2d5a4"
    assert shape("my-very-long-name1234567890") == "a2h1a4h1a4h1"  # six runs at most
    assert shape("x" * 30) == "a9"  # run lengths capped
    feats = domain_features("ghnn22", "com")
    assert "shape:a4d2" in feats and "shape:a4d2.com" in feats
    assert readable("shape:a4d2.com") == "name pattern 4 letters + 2 digits .com"
    assert readable("shape:d6") == "name pattern 6 digits"
    assert "sshape:a5d3" in sub_features("login123")
    assert readable("sshape:a5d3") == "subdomain pattern 5 letters + 3 digits"


def test_kit_page_features_read_the_file_folder_and_query_keys() -> None:
    from scanners.url_features import explains, path_features, readable

    feats = path_features("/wp-content/x/login.php?email=a@b.example&token="
                          "9f8e7d6c5b4a39281726354abcdef012")
    assert {"x:ext:php", "x:kitdir", "q:email", "q:token", "x:hex"} <= set(feats)
    assert "x:rootext:php" not in feats  # deep in the tree, not the root
    assert "x:rootext:html" in path_features("/index.html")
    assert "x:ext:php" in path_features("/netsol.php/")
    # Values are not keys, and a page without a file type has none.
    assert not [f for f in path_features("/news/2024/story?a=b=c") if f.startswith("x:ext")]
    assert [f for f in path_features("/a?x=1&bb=2") if f.startswith("q:")] == ["q:x", "q:bb"]
    assert "x:hex" not in path_features("/a/9f8e7d6c5b4a3928")
    assert readable("x:ext:php") == ".php page" and explains("x:ext:php")
    assert readable("x:rootext:html") == ".html page at the root"
    assert readable("q:email") == "query key email=" and explains("q:email")
    assert readable("x:kitdir").startswith("a folder of a web site's software")


def test_name_pattern_drives_a_finding_with_a_readable_reason() -> None:
    model = UrlModel({
        "intercept": -2.0, "weights": {"shape:a4d2.com": 4.0},
        "thresholds": {"host": {"high": 0.8, "medium": 0.5},
                       "url": {"high": 0.9, "medium": 0.6}},
    })
    found = ml("ghnn22.com", model)
    assert [r for r, _ in found] == ["URL-ML-001"]
    assert found[0][1]["drivers"] == ["name pattern 4 letters + 2 digits .com"]
    assert ml("ghnn.com", model) == []


@pytest.mark.parametrize("url", [
    "vietcombank.chamsocuudai.com", "ghnn22.com", "s3.google.com", "tpbank-vaytinchap.top",
    "https://secure-login.weebly.com/verify/account?id=1", "http://x1y2z3.xyz/a/b/c",
    "dichvucong.hgov.cc", "example.com/",
])
def test_drivers_are_the_heaviest_readable_features(url: str) -> None:
    # The model keeps each part's sum and heaviest features (registrable,
    # subdomains, path) to score fast; the result must be what reading every
    # feature of the link at once gives.
    from scanners.url_features import explains, features, is_ngram, readable

    p = normalize(url)
    model = default_model().for_link(p)
    feats = features(p.domain, p.subdomain, p.suffix, p.path)
    w = model.weights
    pos = [(v, f) for f in feats if (v := w.get(f, 0.0)) > 0 and explains(f)] or [
        (v, f) for f in feats if (v := w.get(f, 0.0)) > 0]
    pos.sort(key=lambda t: (-t[0], t[1]))
    s = model.score(p)
    # The heaviest, less those that would tell a reader nothing new: every feature
    # heavier than the last driver is a driver, or reads as one, or is a letter n-gram
    # whose letters a driver shows.
    texts = [readable(f) for f, _ in s.drivers]
    assert 0 < len(s.drivers) <= 5 and len(set(texts)) == len(texts)
    assert [v for _, v in s.drivers] == sorted((v for _, v in s.drivers), reverse=True)
    assert set(s.drivers) <= {(f, v) for v, f in pos}
    last = s.drivers[-1][1]
    for v, f in pos:
        if v > last and (f, v) not in s.drivers:
            assert readable(f) in texts or (is_ngram(f) and any(
                readable(f).strip("…") in t for t in texts)), f
    if len(s.drivers) < 5:
        assert all((f, v) in s.drivers or readable(f) in texts or is_ngram(f)
                   for v, f in pos)
    z = model.intercept + sum(w.get(f, 0.0) for f in feats)
    assert s.probability == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-9)


def test_drivers_say_where_letters_sit_and_never_repeat_them() -> None:
    """A letter n-gram reads as the start, end or inside of the name; a word spelling an
    n-gram shown stands in its place; letters already shown are not shown again."""
    from scanners.url_features import readable

    assert readable("r4:^vcb") == "vcb…"
    assert readable("r3:dai$") == "…dai"
    assert readable("r3:han") == "…han…"
    assert readable("s3:^ab$") == "ab"
    m = UrlModel({
        "intercept": -9.0,
        "weights": {"r4:^vcb": 5.0, "r3:vcb": 4.0, "w:vcb": 3.0, "r3:^vc": 2.5,
                    "r3:han": 2.0, "tld:top": 1.0},
        "thresholds": {"host": {"high": 0.5, "medium": 0.4},
                       "url": {"high": 0.5, "medium": 0.4}},
    })
    s = m.score(normalize("vcbhan.top"))
    # The word weighs less than …han… would: the drivers stay heaviest first.
    heavy = UrlModel({"intercept": -9.0,
                      "weights": {"r4:^vcb": 5.0, "r3:han": 4.5, "w:vcb": 3.0},
                      "thresholds": {"host": {"high": 0.5, "medium": 0.4},
                                     "url": {"high": 0.5, "medium": 0.4}}})
    assert [readable(f) for f, _ in heavy.score(normalize("vcbhan.top")).drivers] == [
        "…han…", "vcb"]
    # vcb… shown, …vcb… and vc… add nothing, the word vcb takes vcb…'s place.
    assert [readable(f) for f, _ in s.drivers] == ["vcb", "…han…", ".top"]


def two_model() -> UrlModel:
    """Main weights fear the path word; the host model (bare hosts) fears "cham soc"."""
    return UrlModel({
        "intercept": -2.0, "weights": {"tld:top": 2.5, "p:verify": 1.0, "w:cham soc": -1.0},
        "host_model": {"intercept": -3.0, "weights": {"w:cham soc": 5.0}},
        "thresholds": {"host": {"high": 0.8, "medium": 0.6},
                       "url": {"high": 0.9, "medium": 0.8}},
    })


def test_bare_hosts_are_judged_by_the_host_model() -> None:
    m = two_model()
    bare, with_path = normalize("chamsoc.com"), normalize("https://example.top/verify")
    assert m.for_link(bare) is not m and m.for_link(with_path) is m
    # Host model: z = -3 + 5 = 2, p = 0.88 (the main weights would say 0.05).
    found = ml("chamsoc.com", m)
    assert [r for r, _ in found] == ["URL-ML-001"]
    assert found[0][1]["drivers"] == ["cham soc"]
    assert m.probability(bare) == pytest.approx(0.881, abs=1e-3)
    # Main weights for a link with a path: z = -2 + 2.5 + 1 = 1.5, p = 0.82, medium.
    assert [r for r, _ in ml("https://example.top/verify", m)] == ["URL-ML-002"]
    # The host model does not fear .top: the bare host stays calm.
    assert ml("example.top", m) == []


def test_a_path_is_gated_by_the_main_weights_not_the_host_model() -> None:
    # chamsoc.com/verify: the host model would say 0.88, but a path is the main
    # weights' to judge (z = -2 - 1 + 1 = -2: calm), and so is its host gate.
    assert ml("https://chamsoc.com/verify", two_model()) == []


def test_cache_clear_empties_the_host_model_too() -> None:
    m = two_model()
    host = m.for_link(normalize("chamsoc.com"))
    m.probability(normalize("chamsoc.com"))
    assert host._domain_part.cache_info().currsize == 1
    m.cache_clear()
    assert host._domain_part.cache_info().currsize == 0


def test_warm_builds_the_readable_drivers_of_both_weight_sets() -> None:
    m = two_model()
    host = m.for_link(normalize("chamsoc.com"))
    assert "_explains" not in vars(m) and "_explains" not in vars(host)
    m.warm()
    # Only positive readable features can be drivers.
    from scanners.url_features import explains

    assert host._explains == {"w:cham soc"}
    assert m._explains == {"tld:top", "p:verify"}  # not w:cham soc: a negative weight
    shipped = default_model()
    shipped.warm()
    assert shipped._explains == {f for f, v in shipped.weights.items()
                                 if v > 0 and explains(f)}


def test_a_given_probability_is_the_scores_own() -> None:
    m = two_model()
    p = normalize("chamsoc.com")
    assert m.score(p).probability == m.probability(p)
    assert m.score(p, 0.5).probability == 0.5
    assert m.score(p, 0.5).drivers == m.score(p).drivers


def test_a_scaled_model_divides_the_sum_by_the_root_of_the_feature_count() -> None:
    from scanners.url_features import features

    doc = {"intercept": -1.0, "weights": {"tld:top": 2.0, "p:verify": 1.5},
           "thresholds": {"host": {"high": 0.9, "medium": 0.8},
                          "url": {"high": 0.9, "medium": 0.8}}}
    plain, scaled = UrlModel(doc), UrlModel({**doc, "scale": "sqrt"})
    assert not plain.scaled and scaled.scaled
    p = normalize("https://example.top/verify")
    n = len(features(p.domain, p.subdomain, p.suffix, p.path))
    assert n > 4
    assert plain.probability(p) == pytest.approx(1 / (1 + math.exp(-(-1.0 + 3.5))))
    assert scaled.probability(p) == pytest.approx(
        1 / (1 + math.exp(-(-1.0 + 3.5 / math.sqrt(n)))))
    # The host alone: its own features only.
    nh = len(features(p.domain, p.subdomain, p.suffix, ""))
    assert scaled.host_probability(p) == pytest.approx(
        1 / (1 + math.exp(-(-1.0 + 2.0 / math.sqrt(nh)))))
    # The drivers do not change: one factor scales every weight of a link.
    assert scaled.score(p).drivers == plain.score(p).drivers


def test_an_unknown_scale_is_a_malformed_model() -> None:
    with pytest.raises(DataError, match="unknown scale"):
        UrlModel({"intercept": 0.0, "weights": {}, "scale": "log",
                  "thresholds": {"host": {"high": 0.9, "medium": 0.8},
                                 "url": {"high": 0.9, "medium": 0.8}}})


def test_the_rules_that_fired_are_features_of_the_model() -> None:
    from scanners.url_features import rule_features

    # Its own, the lists', the allowlists', plain http and decoded obfuscation are
    # not read; a path rule goes with the path.
    assert rule_features(["URL-LEX-014", "URL-ML-001", "URL-BL-001", "URL-OFF-002",
                          "URL-LEX-008", "URL-INP-001", "URL-PATH-001", "URL-LEX-001"]) == (
        ("rule:URL-LEX-001", "rule:URL-LEX-014"), ("rule:URL-PATH-001",))
    model = UrlModel({
        "intercept": -2.0, "weights": {"rule:URL-LEX-014": 3.0, "rule:URL-PATH-001": 2.0},
        "thresholds": {"host": {"high": 0.8, "medium": 0.5},
                       "url": {"high": 0.9, "medium": 0.6}},
    })
    host = normalize("tbhzmpqcxkgyv.ink")
    assert model.probability(host) == pytest.approx(0.119, abs=1e-3)  # no rules passed
    # The scanner passes what its rules found (random letters): z = 1, p = 0.73.
    found = ml("tbhzmpqcxkgyv.ink", model)
    assert [r for r, _ in found] == ["URL-ML-002"]
    assert found[0][1]["probability"] == pytest.approx(0.731, abs=1e-3)
    # Nothing of the link's own weighed: the rules are the reason.
    assert found[0][1]["drivers"] == ["rule URL-LEX-014"]
    assert found[0][1]["with_rules"] == ["URL-LEX-014"]
    # With a sign-in path the path's rule adds (z = 3, p = 0.95), and the host's
    # rules count for the host's gate.
    found = ml("https://tbhzmpqcxkgyv.ink/login", model)
    assert [r for r, _ in found] == ["URL-ML-001"]
    assert found[0][1]["with_rules"] == ["URL-LEX-014", "URL-PATH-001"]
    assert found[0][1]["host_probability"] == pytest.approx(0.731, abs=1e-3)
    assert ml("https://example.com/login", model) == []
    # The link's own words come first as drivers; the rules are named apart.
    worded = UrlModel({
        "intercept": -2.0, "weights": {"rule:URL-LEX-014": 3.0, "tld:ink": 0.5},
        "thresholds": {"host": {"high": 0.8, "medium": 0.5},
                       "url": {"high": 0.9, "medium": 0.6}},
    })
    found = ml("tbhzmpqcxkgyv.ink", worded)  # z = 1.5, p = 0.82
    assert [r for r, _ in found] == ["URL-ML-001"]
    assert found[0][1]["drivers"] == [".ink"]
    assert found[0][1]["with_rules"] == ["URL-LEX-014"]
