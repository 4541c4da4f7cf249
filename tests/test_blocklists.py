"""Tests of the bundled blocklists and their loader (bundled files only)."""

from __future__ import annotations

import json

import pytest

import blocklists as bl
from blocklists import BlocklistHit, BlocklistIndex

LIST_FILES = (
    "hostsvn_threat_vn.txt", "chongluadao_v2.txt", "chongluadao_v1.txt",
    "chongluadao_2021.txt", "known_good.csv", "banks.csv", "scam_vocab.txt",
    "sublime/url_shorteners.txt", "sublime/free_subdomain_hosts.txt",
    "sublime/free_file_hosts.txt", "sublime/suspicious_tlds.txt",
    "sublime/self_service_creation_platform_domains.txt",
)


@pytest.fixture(scope="module")
def idx() -> BlocklistIndex:
    return BlocklistIndex.bundled()


def sources(hits: list[BlocklistHit]) -> set[str]:
    return {h.source for h in hits}


def test_bundled_is_cached(idx: BlocklistIndex) -> None:
    assert BlocklistIndex.bundled() is idx


def test_domain_list_matches_host_and_subdomains(idx: BlocklistIndex) -> None:
    hits = idx.lookup("0088shop.com", "0088shop.com")
    assert {"hostsVN threat-VN", "ChongLuaDao v2"} <= sources(hits)
    assert all(h.entry == "0088shop.com" for h in hits)
    assert {h.match for h in hits if h.source == "hostsVN threat-VN"} == {"domain"}
    sub = idx.lookup("a.b.0088shop.com", "0088shop.com")
    assert "hostsVN threat-VN" in sources(sub)
    assert idx.lookup("not0088shop.com", "not0088shop.com") == []
    assert idx.lookup("0088shop.com.evil-example.org", "evil-example.org") == []


def test_domain_walk_stops_at_registrable() -> None:
    idx = BlocklistIndex({"chongluadao_v2.txt": ["0.watch-video.example", "co.uk"]})
    assert idx.lookup("0.watch-video.example", "watch-video.example")[0].match == "domain"
    assert idx.lookup("x.0.watch-video.example", "watch-video.example")
    assert idx.lookup("watch-video.example", "watch-video.example") == []
    assert idx.lookup("1.watch-video.example", "watch-video.example") == []
    # parents above the registrable domain are never looked at
    assert idx.lookup("shop.example.co.uk", "example.co.uk") == []


def test_lookup_is_case_and_trailing_dot_insensitive(idx: BlocklistIndex) -> None:
    assert idx.lookup("WWW.0088Shop.COM.", "0088shop.com")


def test_url_list_exact_host_with_www(idx: BlocklistIndex) -> None:
    hits = idx.lookup("coolcat.link", "coolcat.link")
    assert {(h.source, h.match, h.entry) for h in hits} == {
        ("ChongLuaDao v1", "host", "coolcat.link"), ("ChongLuaDao 2021", "host", "coolcat.link")}
    # v1 lists both forms (the one equal to the host wins); 2021 only the bare host
    www = idx.lookup("www.coolcat.link", "coolcat.link")
    assert {(h.source, h.entry) for h in www} == {
        ("ChongLuaDao v1", "www.coolcat.link"), ("ChongLuaDao 2021", "coolcat.link")}
    assert idx.lookup("api.coolcat.link", "coolcat.link") == []  # URL lists: exact host only


def test_url_prefix_entries(idx: BlocklistIndex) -> None:
    hits = idx.lookup("www.facebook.com", "facebook.com", "/BVCHORAY")
    assert {h.match for h in hits} == {"url"}
    assert {"ChongLuaDao v1", "ChongLuaDao 2021"} <= sources(hits)
    assert idx.lookup("facebook.com", "facebook.com", "/BVCHORAY/posts?x=1")
    assert idx.lookup("www.facebook.com", "facebook.com", "/BVCHORAYX") == []
    assert idx.lookup("www.facebook.com", "facebook.com", "/bvchoray") == []  # case-sensitive
    assert idx.lookup("sites.google.com", "google.com", "/view/hoadondo/home")
    assert idx.lookup("sites.google.com", "google.com", "/view/other") == []


def test_url_prefix_percent_encoding_and_query(idx: BlocklistIndex) -> None:
    raw = ("/%C4%90%E1%BA%A7u-t%C6%B0-t%C3%A0i-ch%C3%ADnh-forex-an-to%C3%A0n-"
           "hi%E1%BB%87u-qu%E1%BA%A3-Lion-Community-101611778624602")
    decoded = "/Đầu-tư-tài-chính-forex-an-toàn-hiệu-quả-Lion-Community-101611778624602"
    assert idx.lookup("www.facebook.com", "facebook.com", raw)
    assert idx.lookup("www.facebook.com", "facebook.com", decoded)
    q = "/profile.php?id=101512455192456"
    assert idx.lookup("facebook.com", "facebook.com", q + "&ref=x")
    assert idx.lookup("facebook.com", "facebook.com", q + "7") == []
    assert idx.lookup("facebook.com", "facebook.com", "/profile.php") == []


def test_url_prefix_on_ordinary_host(idx: BlocklistIndex) -> None:
    hits = idx.lookup("hqq.uyban.club", "uyban.club", "/app.php/Mzcy")
    assert any(h.match == "url" and h.source == "ChongLuaDao v1" for h in hits)
    assert not any(h.match == "url" for h in idx.lookup("hqq.uyban.club", "uyban.club", "/"))


@pytest.mark.parametrize(("host", "rd"), [
    ("facebook.com", "facebook.com"), ("www.facebook.com", "facebook.com"),
    ("m.facebook.com", "facebook.com"), ("weebly.com", "weebly.com"),
    ("www.weebly.com", "weebly.com"), ("sites.google.com", "google.com"),
    ("google.com", "google.com"), ("zalo.me", "zalo.me"), ("www.youtube.com", "youtube.com"),
])
def test_platforms_themselves_never_flagged(idx: BlocklistIndex, host: str, rd: str) -> None:
    assert idx.lookup(host, rd, "/") == []


def test_platform_user_sites_still_flagged(idx: BlocklistIndex) -> None:
    assert idx.lookup("nhankimcuongffmienphi2021.unaux.com", "unaux.com")
    # a shared-platform entry on a domain list matches the exact host, not its subdomains
    assert "ChongLuaDao v2" in sources(idx.lookup("unaux.com", "unaux.com"))
    assert "ChongLuaDao v2" not in sources(idx.lookup("someone.unaux.com", "unaux.com"))


def test_constructor_semantics() -> None:
    idx = BlocklistIndex({
        "hostsvn_threat_vn.txt": ["evil.example", "weebly.com", "www.facebook.com",
                                  "is.gd"],
        "chongluadao_v1.txt": ["www.bad.example", "facebook.com/Page", "good.example/x"],
    })
    assert idx.lookup("a.evil.example", "evil.example")
    assert idx.lookup("weebly.com", "weebly.com") == []
    assert idx.lookup("www.facebook.com", "facebook.com") == []
    assert [h.match for h in idx.lookup("is.gd", "is.gd")] == ["host"]
    assert idx.lookup("x.is.gd", "is.gd") == []
    assert idx.lookup("bad.example", "bad.example")[0].entry == "www.bad.example"
    assert idx.lookup("www.facebook.com", "facebook.com", "/Page")[0].match == "url"
    assert idx.lookup("good.example", "good.example", "/") == []
    counts = {s.file: s.entries for s in idx.sources()}
    assert counts["chongluadao_v1.txt"] == 3
    assert counts["chongluadao_2021.txt"] == 0


def test_sources(idx: BlocklistIndex) -> None:
    infos = {s.name: s for s in idx.sources()}
    assert set(infos) == {"hostsVN threat-VN", "ChongLuaDao v2", "ChongLuaDao v1",
                          "ChongLuaDao 2021"}
    assert infos["hostsVN threat-VN"].semantics == "domain"
    assert infos["ChongLuaDao v1"].semantics == "url"
    assert all(s.entries > 500 for s in infos.values())
    assert infos["ChongLuaDao v2"].licence.startswith("CC0")


def test_platform_helpers() -> None:
    p = bl.platforms()
    assert bl.platforms() is p
    assert p.platform_of("abc.weebly.com") == ("free_subdomain_hosts", "weebly.com")
    assert p.platform_of("weebly.com") is None
    assert p.platform_of("example.com") is None
    assert p.platform_of("x.y.github.io") == ("free_subdomain_hosts", "github.io")
    assert p.is_shortener("bit.ly")
    assert p.is_shortener("www.bit.ly")
    assert not p.is_shortener("x.bit.ly")
    assert not p.is_shortener("example.com")
    assert p.suspicious_tld("xyz") == "xyz"
    assert p.suspicious_tld("ac.th") == "ac.th"
    assert p.suspicious_tld("com.xyz") == "xyz"
    assert p.suspicious_tld("com.vn") is None
    assert p.suspicious_tld("") is None


def test_known_good_and_banks() -> None:
    kg = bl.known_good()
    assert kg["dichvucong.gov.vn"] == "gov.vn"
    assert set(kg.values()) == {"gov.vn", "edu.vn", "other.vn"}
    assert "123c.vn" not in kg  # sourced only from Tranco: not bundled
    kg["example.vn"] = "x"
    assert "example.vn" not in bl.known_good()
    banks = bl.banks()
    assert len(banks) == 39
    assert {b["country"] for b in banks} == {"Vietnam"}
    assert "vietcombank.com.vn" in {b["registrable_domain"] for b in banks}


def test_scam_vocab() -> None:
    vocab = bl.scam_vocab()
    assert 20 <= len(vocab) <= 150
    assert {"vaytien", "hotro", "nhanqua"} <= vocab
    assert all(len(t) >= 5 and t.isascii() and t.isalpha() for t in vocab)
    assert not vocab & {"vietcombank", "dichvucong", "vneid", "online", "login"}


def test_rdap_bootstrap() -> None:
    d = json.loads(bl.rdap_bootstrap_path().read_text(encoding="utf-8"))
    assert d["publication"].startswith("2026-07-23")
    assert any("com" in s[0] for s in d["services"])


def test_every_file_has_header_and_attribution() -> None:
    attribution = (bl.data_dir().parent / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for name in LIST_FILES:
        text = (bl.data_dir() / name).read_text(encoding="utf-8")
        head = [x for x in text.splitlines() if x.startswith("#")]
        assert head and text.startswith("#"), name
        assert any(x.startswith("# source:") for x in head), name
        assert any(x.startswith("# licence:") for x in head), name
        assert f"data/{name}" in attribution, name
    assert "data/rdap_dns.json" in attribution
    hv = (bl.data_dir() / "hostsvn_threat_vn.txt").read_text(encoding="utf-8")
    assert "# cutoff:" in hv
    lic = bl.data_dir().parent / "licenses"
    assert (lic / "bigdargon+hostsVN.LICENSE").is_file()
    assert len(list(lic.iterdir())) >= 7


def test_missing_file_raises_list_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bl, "_DATA_DIR", bl.data_dir() / "does-not-exist")
    with pytest.raises(bl.ListDataError):
        bl._read_lines("hostsvn_threat_vn.txt")
    with pytest.raises(bl.BlocklistError):
        bl.rdap_bootstrap_path()


def test_scam_vocab_learns_nothing_the_link_evaluation_counts_as_later() -> None:
    """URL-LEX-009/011 read the vocabulary with the blocklists off, so it must be learned
    from hostsVN rows before the evaluation's cut, and say so in its header."""
    from blocklists.build import VOCAB_CUTOFF
    from eval.url_split import HOSTSVN_CUT

    assert VOCAB_CUTOFF == HOSTSVN_CUT
    header = (bl.data_dir() / "scam_vocab.txt").read_text(encoding="utf-8").split("\n")[:10]
    assert f"# scam hosts: bundled lists, hostsVN before {HOSTSVN_CUT}" in header


def test_a_rebuild_keeps_the_hand_written_attribution_sections() -> None:
    from blocklists.build import Src, attribution

    src = Src("x", "o/r", "p", "c", "MIT", (), "https://example.org")
    old = "# Attribution\n| t |\n\n### Not built here\n\n| file |\n|---|\n\n## Thanks\n* x\n"
    text = attribution([("a.txt", 1, src, "what")], "2024-01-01", old)
    assert "### Not built here\n\n| file |\n|---|\n\n## Thanks" in text
    assert "### Not built here" not in attribution([("a.txt", 1, src, "what")], "2024-01-01")
