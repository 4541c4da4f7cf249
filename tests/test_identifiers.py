"""Phone numbers, bank accounts and Zalo/Telegram handles of a message
(:mod:`scanners.identifiers`), their list look-ups and their masking."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from scanners import identifiers as ids
from scanners.lists import DynamicLists, EntryError, ListEntry, build_view, normalize_entry
from scanners.message import check_message
from scanners.url_offline import OfflineURLScanner


def found(text: str, kind: str) -> list[str]:
    return [i.value for i in ids.extract(text) if i.kind == kind]


# --- phone numbers -----------------------------------------------------------------------

PHONES_FIRE = [
    ("Gọi ngay 0912 345 678 để được hỗ trợ", "+84912345678"),
    ("Goi ngay 0912.345.678 de duoc ho tro", "+84912345678"),
    ("Liên hệ 0912-345-678", "+84912345678"),
    ("SĐT: 0912345678", "+84912345678"),
    ("call +84 912 345 678 now", "+84912345678"),
    ("call +84912345678", "+84912345678"),
    ("gọi 84912345678", "+84912345678"),
    ("số mới 0868 123 456", "+84868123456"),
    ("zalo 0389.123.456", "+84389123456"),
    ("văn phòng (028) 3822 1234", "+842838221234"),
    ("tổng đài 024.3822.1234", "+842438221234"),
    ("hotline 1900 545413", "1900545413"),
    ("miễn phí 1800 599 920", "1800599920"),
    ("Gọi ０９１２３４５６７８", "+84912345678"),  # full-width digits
]
PHONES_QUIET = [
    "Mã OTP của bạn là 739201",
    "Ngày 12/05/2025 lúc 10:30",
    "Số tiền 5.000.000 đồng",
    "Đơn hàng #123456789012 đã giao",
    "STK 19036789123456 Techcombank",
    "năm 2025 có 365 ngày",
]


@pytest.mark.parametrize(("text", "number"), PHONES_FIRE)
def test_phone_numbers_are_found_and_normalised(text: str, number: str) -> None:
    assert found(text, "phone") == [number]
    (i,) = [i for i in ids.extract(text) if i.kind == "phone"]
    assert text[i.start:i.end] == i.input


@pytest.mark.parametrize("text", PHONES_QUIET)
def test_not_phone_numbers(text: str) -> None:
    assert found(text, "phone") == []


def test_phone_types_and_repeats() -> None:
    got = ids.find_phones("0912345678, lại là 0912 345 678, và 024 3822 1234, 1900 545413")
    assert [(i.value, i.type) for i in got] == [
        ("+84912345678", "mobile"), ("+842438221234", "landline"), ("1900545413", "premium")]


# --- bank accounts ---------------------------------------------------------------------------

ACCOUNTS_FIRE = [
    ("Chuyển khoản vào STK 19036789123456 Techcombank", "19036789123456", "Techcombank"),
    ("chuyen khoan vao stk 19036789123456 techcombank", "19036789123456", "Techcombank"),
    ("Số tài khoản: 0071 0001 23456 Vietcombank", "0071000123456", "Vietcombank"),
    ("so tai khoan: 0071000123456", "0071000123456", None),
    ("STK Vietcombank: 0071000123456", "0071000123456", "Vietcombank"),
    ("Vietcombank 0071000123456 - Nguyen Van A", "0071000123456", "Vietcombank"),
    ("Ngân hàng MB 0912345678 chủ tài khoản Nguyễn Văn A", "0912345678", "MB Bank"),
    ("nộp phí vào tk 123456789 nhé", "123456789", None),
    ("Account number: 1234-5678-9012", "123456789012", None),
    ("a/c 987654321 ACB", "987654321", "ACB"),
    ("STK là 102874563211 VietinBank", "102874563211", "VietinBank"),
]
ACCOUNTS_QUIET = [
    "Mã OTP của bạn là 739201, không chia sẻ cho ai",
    "Ma xac thuc 482913 het han sau 5 phut",
    "Gọi 0912 345 678 ngay",  # a phone number without an account word
    "Chuyển 5.000.000đ vào tài khoản",  # an amount
    "Ngày 12/05/2025 tài khoản của bạn bị khóa",
    "Tài khoản của bạn đã nhận 1,500,000 VND",
    "Đơn hàng 123456789 đang giao",  # no account word
    "tài khoản 12345",  # too short
    "Mã OTP đăng nhập tài khoản là 739201",
    "Mat khau tai khoan: 88888888",
    "tài khoản của quý khách bị trừ 500000 đ",
]


@pytest.mark.parametrize(("text", "number", "bank"), ACCOUNTS_FIRE)
def test_bank_accounts_are_found(text: str, number: str, bank: str | None) -> None:
    got = ids.find_accounts(text)
    assert [i.value for i in got] == [number]
    assert got[0].bank == bank
    assert text[got[0].start:got[0].end] == got[0].input


@pytest.mark.parametrize("text", ACCOUNTS_QUIET)
def test_not_bank_accounts(text: str) -> None:
    assert found(text, "bank_account") == []


def test_the_amount_after_an_account_is_not_one() -> None:
    assert found("tk 123456789 so tien 5000000 dong", "bank_account") == ["123456789"]


# --- handles ------------------------------------------------------------------------------

HANDLES_FIRE = [
    ("Tham gia nhóm zalo.me/g/abcdef123", "zalo", "zalo.me/g/abcdef123", "group"),
    ("Kết bạn https://zalo.me/0912345678", "zalo", "zalo.me/0912345678", "profile"),
    ("Liên hệ Telegram @hotro_vneid", "telegram", "@hotro_vneid", "handle"),
    ("lien he telegram @hotro_vneid", "telegram", "@hotro_vneid", "handle"),
    ("Vào nhóm t.me/+AbCdEf12345", "telegram", "t.me/+AbCdEf12345", "invite"),
    ("https://t.me/joinchat/XyZ12345abc", "telegram", "t.me/joinchat/XyZ12345abc", "invite"),
    ("Kênh https://t.me/Vneid_Support", "telegram", "@vneid_support", "profile"),
]
HANDLES_QUIET = [
    "email nam@example.com",
    "cảm ơn @minh nhé",  # a mention in a group chat, no Telegram context
    "zalo.me là trang của Zalo",
    "xem tại https://example.com/t.me/abc",
]


@pytest.mark.parametrize(("text", "kind", "value", "type_"), HANDLES_FIRE)
def test_handles_are_found(text: str, kind: str, value: str, type_: str) -> None:
    got = [i for i in ids.find_handles(text) if i.kind == kind]
    assert [(i.value, i.type) for i in got] == [(value, type_)]


@pytest.mark.parametrize("text", HANDLES_QUIET)
def test_not_handles(text: str) -> None:
    assert ids.find_handles(text) == []


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "masked"), [
    ("0912345678", "091*****78"),
    ("+84912345678", "091*****78"),
    ("0912 345 678", "091* *** *78"),
    ("19036789123456", "190*********56"),
    ("1900545413", "190*****13"),
])
def test_mask_number(raw: str, masked: str) -> None:
    assert ids.mask_number(raw) == masked


def test_mask_text_keeps_length_and_masks_missed_long_numbers() -> None:
    text = "STK 19036789123456, gọi 0912 345 678, mã 739201, mã đơn 88812345678901"
    out = ids.mask_text(text, [(4, 18)])
    assert len(out) == len(text)
    assert "19036789123456" not in out and "190*********56" in out
    assert "0912 345 678" not in out and "091* *** *78" in out  # 9+ digits: masked anyway
    assert "739201" in out  # short codes stay readable
    assert "88812345678901" not in out


# --- lists and the message check ---------------------------------------------------------------


def entry(kind: str, value: str, action: str = "block", note: str = "") -> ListEntry:
    v, _ = normalize_entry(kind, value, action)
    return ListEntry("le_" + kind + v[-4:], kind, action, v, "", note,  # type: ignore[arg-type]
                     "analyst-1", "2026-12-01T00:00:00+00:00")


def lists_with(*entries: ListEntry) -> DynamicLists:
    d = DynamicLists()
    d.swap(build_view(d.bundled, entries, {}))
    return d


@pytest.mark.parametrize(("kind", "value", "stored"), [
    ("phone", "0912 345 678", "+84912345678"),
    ("phone", "+84-912-345-678", "+84912345678"),
    ("phone", "1900 545413", "1900545413"),
    ("bank_account", "1903 6789 1234 56", "19036789123456"),
    ("bank_account", "0071-000-123456", "0071000123456"),
])
def test_entries_are_normalised(kind: str, value: str, stored: str) -> None:
    assert normalize_entry(kind, value) == (stored, "")


@pytest.mark.parametrize(("kind", "value"), [
    ("phone", "12345"), ("phone", "0123 456 789"), ("phone", "+1 202 555 0100"),
    ("bank_account", "12345"), ("bank_account", "12345678901234567890"),
    ("bank_account", "0071abc123"),
])
def test_bad_entries_are_refused(kind: str, value: str) -> None:
    with pytest.raises(EntryError):
        normalize_entry(kind, value)


def check(text: str, lists: DynamicLists | None = None, lang: str = "vi") -> dict[str, Any]:
    scanner = OfflineURLScanner(index=lists)
    return asyncio.run(check_message(text, scanner, (), lang, identifier_lists=lists))


SCRIPT = ("Anh liên hệ 0912 345 678 hoặc chuyển phí vào STK 19036789123456 Techcombank, "
          "nhóm hỗ trợ zalo.me/g/abcdef123, telegram @hotro_vneid")


def test_listed_phone_is_dangerous_and_names_the_entry() -> None:
    lists = lists_with(entry("phone", "0912345678", note="reported 2026-11 by victims"))
    r = check(SCRIPT, lists)
    assert r["verdict"] == "dangerous"
    (f,) = [f for f in r["findings"] if f["rule_id"] == "MSG-ID-001"]
    assert f["points"] == 70 and f["evidence"]["values"] == ["+84912345678"]
    assert f["evidence"]["entries"][0]["note"] == "reported 2026-11 by victims"
    assert f["evidence"]["entries"][0]["added_by"] == "analyst-1"
    assert "MSG-ID-002" not in {f["rule_id"] for f in r["findings"]}
    (phone,) = [i for i in r["items"] if i["kind"] == "phone"]
    assert phone["listed"] is True and phone["list_entry"]["action"] == "block"
    (acct,) = [i for i in r["items"] if i["kind"] == "bank_account"]
    assert acct["listed"] is False and acct["bank"] == "Techcombank"


def test_listed_account_is_dangerous() -> None:
    lists = lists_with(entry("bank_account", "1903 6789 1234 56", note="mule account"))
    r = check(SCRIPT, lists, "en")
    (f,) = [f for f in r["findings"] if f["rule_id"] == "MSG-ID-002"]
    assert f["title"] == "Bank account on the scam list"
    assert f["evidence"]["entries"][0]["note"] == "mule account"
    assert r["verdict"] == "dangerous"


def test_a_listed_number_alone_gives_the_reply_its_reason() -> None:
    """A message dangerous only because of a listed number says why (reply words on the rule)."""
    text = "Gọi lại cho em số 0912 345 678 nhé"
    lists = lists_with(entry("phone", "0912345678"))
    for lang, why in (("vi", "Lý do: tin nhắn có số điện thoại đã bị báo lừa đảo."),
                      ("en", "Why: it contains a phone number already reported for scams.")):
        r = check(text, lists, lang)
        assert r["verdict"] == "dangerous" and r["scam_type"] is None
        assert {f["rule_id"] for f in r["findings"] if f["points"]} == {"MSG-ID-001"}
        assert r["steps"][0] == why and why in r["reply"]
    assert not any(s.startswith("Lý do") for s in check(text)["steps"])


def test_unlisted_and_allowed_numbers_add_nothing() -> None:
    plain = check(SCRIPT)
    allowed = check(SCRIPT, lists_with(entry("phone", "0912345678", "allow")))
    for r in (plain, allowed):
        assert not {"MSG-ID-001", "MSG-ID-002"} & {f["rule_id"] for f in r["findings"]}
    assert plain["risk_score"] == allowed["risk_score"]
    (phone,) = [i for i in allowed["items"] if i["kind"] == "phone"]
    assert phone["listed"] is True and phone["list_entry"]["action"] == "allow"
    kinds = sorted(i["kind"] for i in plain["items"])
    assert kinds == ["bank_account", "link", "phone", "telegram", "zalo"]  # zalo.me: a link too


def test_stored_report_masks_numbers_everywhere() -> None:
    lists = lists_with(entry("phone", "0912345678"), entry("bank_account", "19036789123456"))
    r = check(SCRIPT, lists)
    stored = ids.stored_report(r, SCRIPT, ids.extract(SCRIPT))
    blob = repr(stored)
    for secret in ("0912 345 678", "+84912345678", "0912345678", "19036789123456"):
        assert secret not in blob
    assert stored["text"].startswith("Anh liên hệ 091* *** *78")
    assert "190*********56" in stored["text"] and len(stored["text"]) == len(SCRIPT)
    (f,) = [f for f in stored["findings"] if f["rule_id"] == "MSG-ID-001"]
    assert f["evidence"]["values"] == ["091*****78"]
    assert "zalo.me/g/abcdef123" in stored["text"]  # handles are not masked


def test_spaced_numbers_one_after_the_other() -> None:
    # The library's matcher reads "0912 345 678 0987 654 321" as one invalid number.
    got = ids.find_phones("Gọi 0912 345 678 0987 654 321 nhé; mã 0912 345 678 12")
    assert [(i.value, i.input) for i in got] == [("+84912345678", "0912 345 678"),
                                                 ("+84987654321", "0987 654 321")]


def test_cli_lists_every_identifier_kind() -> None:
    from tests.test_api_message import run

    p = run("--offline", "--lang", "en", "Gọi 0912 345 678, STK 19036789123456 Techcombank, "
            "nhóm zalo.me/g/abc123, telegram @hotro_vneid")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode("utf-8")
    assert "phone: '0912 345 678' -> +84912345678 (mobile)" in out
    assert "bank_account: '19036789123456' -> 19036789123456 (Techcombank)" in out
    assert "zalo: 'zalo.me/g/abc123' -> zalo.me/g/abc123 (group)" in out
    assert "telegram: '@hotro_vneid' -> @hotro_vneid (handle)" in out
