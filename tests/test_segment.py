"""Reading host labels as words (scanners/segment.py) over the bundled lexicon."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

import blocklists
from scanners.segment import Segmenter, default_segmenter, read_lexicon


def words(label: str) -> list[str]:
    seg = default_segmenter()
    return seg.words(seg.label(label))


def test_glued_vietnamese_and_brand() -> None:
    assert words("vietcombankchamsocuudai") == ["vietcombank", "cham soc", "uu dai"]
    assert words("thongtincutru") == ["thong tin", "cu tru"]
    assert words("tpbankvaytinchap") == ["tpbank", "vay", "tin chap"]
    assert words("hanmucthetindung") == ["han muc", "the", "tin dung"]


def test_english_words_and_digits() -> None:
    seg = default_segmenter()
    toks = seg.label("secureloginupdate")
    assert [t.text for t in toks] == ["secure", "login", "update"]
    assert all(t.kind == "en" for t in toks)
    toks = seg.label("vn66733shop")
    assert [(t.text, t.kind) for t in toks][1] == ("66733", "num")
    assert toks[-1].text == "shop"


def test_unknown_letters_form_one_token() -> None:
    toks = Segmenter({"cham": "vi"}).label("chamxqzw")
    assert [(t.text, t.kind) for t in toks] == [("cham", "vi"), ("xqzw", "unk")]


def test_brand_beats_syllables() -> None:
    seg = Segmenter({"viet": "vi", "com": "en", "bank": "en"}, brands=["vietcombank"])
    assert [t.text for t in seg.label("vietcombank")] == ["vietcombank"]


def test_overlong_chunk_is_not_segmented() -> None:
    toks = default_segmenter().label("a" * 500)
    assert len(toks) == 1 and toks[0].kind == "unk"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_lowercase + string.digits + "-", max_size=80))
def test_segmentation_covers_every_letter(label: str) -> None:
    toks = default_segmenter().label(label)
    joined = "".join(t.text.replace(" ", "") for t in toks)
    assert joined == label.replace("-", "")


def test_lexicon_is_bundled_with_its_licences() -> None:
    lex = read_lexicon()
    assert lex["cham"] == "vi" and lex["khach"] == "vi" and lex["login"] == "en"
    head = (blocklists.data_dir() / "lexicon.txt").read_text(encoding="utf-8")[:800]
    assert "hunspell-vi 1:7.5.0-1" in head and "wamerican 2020.12.07-2" in head
    lic = blocklists.data_dir().parent / "licenses"
    assert (lic / "hunspell-vi.copyright").is_file()
    assert (lic / "wamerican.copyright").is_file()
    assert (lic / "GPL-2").is_file()
