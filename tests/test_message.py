"""Chat-message checks: extraction, script signals, combination scoring, reply, bounds.

Everything runs offline on the bundled data; the live-mode tests use in-process
scanners (no network at all).
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from typing import Any

import pytest

from scanners.errors import InputError, ScanIncomplete
from scanners.findings import Finding
from scanners.message import (
    MAX_LINKS,
    MAX_TEXT_CHARS,
    MessageInputError,
    check_message,
    clean_text,
    extract,
    find_links,
)
from scanners.message_view import folded_view
from scanners.normalize import ParsedURL
from scanners.url_offline import default_scanner

SCAM = ("Cán bộ công an phường thông báo tài khoản định danh mức 2 của bạn chưa được cập "
        "nhật, vui lòng tải ứng dụng tại dichvucong-gov[.]com để tích hợp thông tin.")


def check(text: str, lang: str = "vi", **kw: Any) -> dict[str, Any]:
    return asyncio.run(check_message(text, default_scanner(), lang=lang, **kw))


def counted(report: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in report["findings"] if f["points"] > 0}


def rule_ids(report: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in report["findings"]}


def links_of(text: str) -> list[str]:
    return [link.parsed.host for link in extract(text).links]


def sentences(reply: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", reply.strip()) if s]


# --- links ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "host"), [
    ("tải tại hxxps://vneid-gov[.]top/app ngay", "vneid-gov.top"),
    ("tải tại hxxp[:]//vneid-gov[.]top ngay", "vneid-gov.top"),
    ("link: dichvucong(.)gov-vn(.)com nhé", "dichvucong.gov-vn.com"),
    ("vào vneid-gov(dot)top để cập nhật", "vneid-gov.top"),
    ("vào vneid-gov [dot] top để cập nhật", "vneid-gov.top"),
    ("cai dat tai vneid-gov . top de cap nhat", "vneid-gov.top"),
    ("cài đặt tại thue\u200bdientu-gdt.com để hoàn tất", "thuedientu-gdt.com"),
    ("tại ｄｉｃｈｖｕｃｏｎｇ－ｇｏｖ．ｃｏｍ để cập nhật", "dichvucong-gov.com"),
    ("vào vneid-gov.top ngay", "vneid-gov.top"),
    ("rút gọn bit.ly/ghtk-capnhat nhé", "bit.ly"),
    ("xem tại https://dichvucong.gov.vn. Mọi thắc mắc", "dichvucong.gov.vn"),
    ("(https://vneid.gov.vn)", "vneid.gov.vn"),
    ("tải file tại hxxp://103.45.67.89/dvc.apk", "103.45.67.89"),
])
def test_link_forms_are_found_and_decoded(text: str, host: str) -> None:
    assert links_of(text) == [host]


@pytest.mark.parametrize(("text", "url"), [
    ("Tải ứng dụng VNeID tại http://[2001:db8::1]/vneid.apk ngay",
     "http://[2001:db8::1]/vneid.apk"),
    ("tai app tai hxxps://[2001:db8:0:1::5]:8443/dvc roi dang nhap",
     "https://[2001:db8:0:1::5]:8443/dvc"),
    ("Download it from [2001:db8::7]/app.apk today", "http://[2001:db8::7]/app.apk"),
    ("xem https://[::ffff:103.45.67.89]/login nhé", "https://[::ffff:672d:4359]/login"),
])
def test_ipv6_literal_links_are_extracted(text: str, url: str) -> None:
    links = extract(text).links
    assert [link.parsed.url for link in links] == [url]
    assert links[0].parsed.ip is not None
    assert text[links[0].start:links[0].end] == links[0].input


@pytest.mark.parametrize("text", [
    "địa chỉ IPv6 của máy chủ là [2001:db8::1] nhé",  # no scheme, no path: not a link
    "ghi chú [a:b] và [12:30] sáng mai",
])
def test_bracketed_text_without_a_path_is_not_a_link(text: str) -> None:
    assert extract(text).links == []


@pytest.mark.parametrize(("text", "lang"), [
    ("Tải ứng dụng VNeID tại http://[2001:db8::1]/vneid.apk để cập nhật mức 2", "vi"),
    ("Tai ung dung VNeID tai http://[2001:db8::1]/vneid.apk de cap nhat muc 2", "vi"),
    ("Install the VNeID update from http://[2001:db8::1]/vneid.apk", "en"),
])
def test_ipv6_apk_link_is_scanned_and_dangerous(text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["verdict"] == "dangerous"
    assert {"MSG-LINK-003", "MSG-APP-002"} <= counted(r)
    link = next(i for i in r["items"] if i["kind"] == "link")
    assert link["url"] == "http://[2001:db8::1]/vneid.apk"
    assert "URL-LEX-004" in {f["rule_id"] for f in link["findings"]}


def test_ip_literal_link_alone_is_suspicious() -> None:
    r = check("anh xem giúp em trang này https://[2001:db8::2]/login", "vi")
    assert "MSG-LINK-003" in counted(r)
    assert r["verdict"] in ("suspicious", "dangerous")


@pytest.mark.parametrize("text", [
    "Tải file VNeID.apk em gửi",
    "Hẹn gặp ở TP.HCM nhé",
    "Giá 1.500.000đ, ngày 12.05.2024",
    "Gửi CV qua tuyendung@congtyabc.vn nhé",
    "Xin chào.Tôi là Nam",
    "Nhớ nhé.Có gì gọi",
    "xong rồi . Com lên ăn cơm",
    "phiên bản 1.2.3 đã ra",
    "",
])
def test_no_link_without_a_real_suffix(text: str) -> None:
    assert links_of(text) == []


def test_links_are_deduplicated_by_canonical_url() -> None:
    ex = extract("vneid-gov.top hoặc hxxp://vneid-gov[.]top hoặc VNEID-GOV . TOP")
    assert [link.parsed.url for link in ex.links] == ["http://vneid-gov.top/"]


def test_link_offsets_point_into_the_original_text() -> None:
    text = "Cán bộ: tải ở dichvucong-gov[.]com nhé"
    (link,) = extract(text).links
    assert text[link.start:link.end] == link.input == "dichvucong-gov[.]com"


def test_links_are_capped() -> None:
    text = " ".join(f"site{i}-abc.com" for i in range(MAX_LINKS + 15))
    links, dropped = find_links(folded_view(text))
    assert len(links) == MAX_LINKS and dropped == 15
    report = check(text)
    assert len([i for i in report["items"] if i["kind"] == "link"]) == MAX_LINKS
    assert any(i["check"] == "links" for i in report["incomplete"])


# --- phone numbers and apps ----------------------------------------------------------


@pytest.mark.parametrize(("text", "number", "type_"), [
    ("gọi 0866.130.113 nhé", "+84866130113", "mobile"),
    ("call +84 866 130 113 now", "+84866130113", "mobile"),
    ("số 0866-130-113", "+84866130113", "mobile"),
    ("sdt 84866130113", "+84866130113", "mobile"),
    ("gọi (028) 3822 1234", "+842838221234", "landline"),
    ("hotline 1900 6868", "19006868", "premium"),
    ("gọi 1800.1090 miễn phí", "18001090", "toll_free"),
    ("hãy gọi 113 ngay", "113", "emergency"),
])
def test_phone_formats(text: str, number: str, type_: str) -> None:
    (phone,) = extract(text).phones
    assert (phone.number, phone.type) == (number, type_)
    assert text[phone.start:phone.end] == phone.input


@pytest.mark.parametrize("text", [
    "STK 0123456789 Vietcombank",        # account number, not a phone
    "số CCCD 079123456789",              # 12-digit ID number
    "giá 1.500.000 đồng",
    "có 113 người tham dự",              # 113 without a call context
    "mã OTP 482913",
])
def test_not_phone_numbers(text: str) -> None:
    assert extract(text).phones == []


def test_phone_numbers_are_items_without_a_verdict() -> None:
    report = check("Gọi 0866.130.113 hoặc +84 866 130 113 để được hỗ trợ")
    phones = [i for i in report["items"] if i["kind"] == "phone"]
    assert [p["number"] for p in phones] == ["+84866130113"]
    assert "verdict" not in phones[0] and report["verdict"] == "no_known_risk"
    assert report["risk_score"] == 0


def test_emergency_number_is_not_the_tail_of_a_longer_number() -> None:
    assert [p.number for p in extract("call 0866 130 113").phones] == ["+84866130113"]


def test_apk_names_from_text_and_links_deduplicated() -> None:
    ex = extract("Tải VNeID.apk hoặc dichvucong.apk, link hxxp://1.2.3.4/files/VNeID.apk")
    assert [(a.name, a.type) for a in ex.apps] == [("VNeID.apk", "apk"),
                                                   ("dichvucong.apk", "apk")]


def test_remote_control_apps_are_items() -> None:
    ex = extract("Anh cài Ultra Viewer hoặc AnyDesk giúp em")
    assert [(a.name, a.type) for a in ex.apps] == [("UltraViewer", "remote_control"),
                                                   ("AnyDesk", "remote_control")]


# --- script signals --------------------------------------------------------------------


@pytest.mark.parametrize("text", [SCAM, unicodedata.normalize("NFD", SCAM),
                                  "can bo cong an phuong thong bao dinh danh muc 2 chua duoc "
                                  "cap nhat, vui long tai ung dung"])
def test_signals_with_and_without_diacritics_keep_offsets(text: str) -> None:
    sigs = extract(text).signals
    cats = {s.category for s in sigs}
    assert {"impersonation", "urgency", "install"} <= cats
    for s in sigs:
        assert text[s.start:s.end] == s.text
    first = sigs[0]
    assert first.start == 0 and first.category == "impersonation"
    assert unicodedata.normalize("NFC", first.text).lower() in ("cán bộ công an",
                                                                "can bo cong an")


def test_spacing_and_case_are_tolerated() -> None:
    cats = {s.category for s in extract("CÁN  BỘ\nCÔNG AN yêu cầu TẢI   ỨNG DỤNG").signals}
    assert {"impersonation", "install"} <= cats


def test_negated_requests_do_not_count() -> None:
    text = "Tuyệt đối không cung cấp mã OTP, không cài đặt ứng dụng lạ, không chuyển tiền."
    sigs = extract(text).signals
    assert sigs and all(s.note == "negated" for s in sigs)
    report = check(text)
    assert report["risk_score"] == 0
    # "nếu không cài đặt" (if you do not install) is a threat, not advice.
    (sig,) = [s for s in extract("Nếu không cài đặt ứng dụng, tài khoản sẽ bị khóa").signals
              if s.category == "install"]
    assert sig.counted


# --- combination scoring ------------------------------------------------------------------


def test_issue_example_is_dangerous_with_every_part_explained() -> None:
    r = check(SCAM)
    assert r["verdict"] == "dangerous" and r["risk_score"] == 100
    assert {"MSG-LINK-001", "MSG-COMBO-001", "MSG-IMP-001", "MSG-APP-001",
            "MSG-URG-001"} <= counted(r)
    (link,) = [i for i in r["items"] if i["kind"] == "link"]
    assert link["verdict"] == "dangerous" and link["host"] == "dichvucong-gov.com"
    assert r["risk_score"] == min(100, sum(f["points"] for f in r["findings"]))


def test_police_install_and_unknown_new_link_is_dangerous() -> None:
    text = "Cán bộ công an phường yêu cầu anh tải ứng dụng tại abcxyz123.com để làm hồ sơ."
    r = check(text)
    (link,) = [i for i in r["items"] if i["kind"] == "link"]
    assert link["verdict"] == "no_known_risk"  # the link alone says nothing
    assert "MSG-COMBO-001" in counted(r)
    assert r["verdict"] == "dangerous"


@pytest.mark.parametrize("text", [
    "UBND phường thông báo: người dân nộp hồ sơ khai sinh trực tuyến tại "
    "https://dichvucong.gov.vn. Mọi thắc mắc liên hệ bộ phận một cửa.",
    "Công dân tra cứu thông tin cư trú trên vneid.gov.vn hoặc đến công an phường.",
    "Công an phường thông báo: người dân mang CCCD đến trụ sở để kích hoạt định danh điện tử "
    "mức 2. Tải ứng dụng VNeID chính thức trên CH Play hoặc App Store.",
])
def test_official_notices_stay_calm(text: str) -> None:
    r = check(text)
    assert r["verdict"] == "no_known_risk" and r["risk_score"] < 40
    for i in r["items"]:
        if i["kind"] == "link":
            assert i["verdict"] == "official"


@pytest.mark.parametrize("text", [
    "Ma OTP cua Quy khach la 482913. Tuyet doi KHONG cung cap ma nay cho bat ky ai, ke ca "
    "nhan vien ngan hang.",
    "Mã xác thực giao dịch của Quý khách là 739201. Không chia sẻ mã OTP này cho bất kỳ ai.",
    "Your OTP is 562918. Do not share this code with anyone, including bank staff.",
])
def test_bank_otp_warnings_stay_calm(text: str) -> None:
    r = check(text)
    assert r["verdict"] == "no_known_risk" and r["risk_score"] < 40
    assert not counted(r) & {"MSG-DATA-001", "MSG-COMBO-002"}


@pytest.mark.parametrize("text", [
    "Mẹ ơi xem video này hay lắm https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "Ảnh cưới đây facebook.com/photo/?fbid=123456 mọi người like giúp",
    "Check this https://youtu.be/abc123 and www.facebook.com/events/1",
])
def test_ordinary_chat_with_big_sites_stays_calm(text: str) -> None:
    r = check(text)
    assert r["risk_score"] == 0 and r["verdict"] == "no_known_risk"


def test_official_link_does_not_calm_a_scam_script() -> None:
    text = ("Cán bộ công an phường: tài khoản của chị sẽ bị khóa. Chị chụp ảnh CCCD 2 mặt và "
            "đọc mã OTP cho em, xem hướng dẫn tại dichvucong.gov.vn")
    r = check(text)
    assert r["verdict"] == "dangerous"
    assert not any("suppressed_by" in f for f in r["findings"])


# Each rule: a message that triggers it and a close one that does not.
RULE_CASES = [
    ("MSG-IMP-001", "Tôi là cán bộ công an phường", "Tôi là cán bộ phường đoàn"),
    ("MSG-IMP-002", "Em là nhân viên ngân hàng", "Em là sinh viên ngân hàng học"),
    ("MSG-URG-001", "Tài khoản của bạn sẽ bị khóa", "Tài khoản của bạn đã mở"),
    ("MSG-URG-002", "Hoàn tất trong vòng 24h", "Hoàn tất khi rảnh"),
    ("MSG-BAIT-001", "Chúc mừng bạn trúng thưởng xe SH", "Chúc mừng sinh nhật bạn"),
    ("MSG-APP-001", "Anh tải ứng dụng này về máy", "Anh không tải ứng dụng lạ"),
    ("MSG-APP-002", "Anh cài file VNeID.apk em gửi", "Anh cài VNeID từ cửa hàng"),
    ("MSG-APP-003", "Chị bật quyền trợ năng cho app", "Chị đừng bật quyền trợ năng cho app"),
    ("MSG-APP-004", "Anh cài TeamViewer giúp em", "Anh xem TV giúp em"),
    ("MSG-DATA-001", "Anh đọc mã OTP cho em", "Anh không đọc mã OTP cho ai"),
    ("MSG-DATA-002", "Chị chụp ảnh CCCD 2 mặt gửi em", "Chị mang CCCD đến phường"),
    ("MSG-DATA-003", "Anh liên kết tài khoản ngân hàng vào app",
     "Anh không liên kết tài khoản ngân hàng với app lạ"),
    ("MSG-PAY-001", "Chị nộp phí cài đặt 200k", "Chị không nộp phí cho ai"),
    ("MSG-LINK-001", "vào vneid-gov.top nhé", "vào vneid.gov.vn nhé"),
    ("MSG-LINK-002", "vào congan-vn.com nhé", "vào vnexpress.net nhé"),
    ("MSG-LINK-003", "vào http://[2001:db8::1]/login nhé", "vào https://vneid.gov.vn/login nhé"),
    ("MSG-LINK-004", "xem mẫu hoa ở http://tiemhoaxinh.com nhé",
     "xem mẫu hoa ở https://vnexpress.net nhé"),
    ("MSG-COMBO-006", "Mẹ ơi con đổi số mới, mẹ chuyển giúp con 5 triệu nhé",
     "Mẹ ơi con đổi số mới, mẹ lưu lại nhé"),
    ("MSG-CTX-001", "Cảnh báo thủ đoạn giả danh cán bộ công an yêu cầu cài đặt ứng dụng",
     "Cán bộ công an yêu cầu cài đặt ứng dụng tại abcxyz123.com (giả danh thì sao)"),
    ("MSG-COMBO-001", "Cán bộ công an yêu cầu tải ứng dụng tại abcxyz123.com",
     "Cán bộ công an yêu cầu tải ứng dụng VNeID trên CH Play"),
    ("MSG-COMBO-002", "Nhân viên ngân hàng cần anh đọc mã OTP",
     "Anh đọc mã OTP vào ứng dụng của anh"),
    ("MSG-COMBO-003", "Tải ứng dụng rồi cấp quyền trợ năng",
     "Tải ứng dụng rồi mở lên dùng"),
    ("MSG-COMBO-004", "Chị đang bị điều tra, nộp phí bảo lãnh ngay",
     "Chị nộp phí học thêm nhé"),
    ("MSG-COMBO-005", "Tài khoản của bạn sẽ bị khóa, xác minh tại abcxyz123.com",
     "Tài khoản của bạn sẽ bị khóa, xác minh tại vietcombank.com.vn"),
]


@pytest.mark.parametrize(("rule_id", "positive", "negative"), RULE_CASES,
                         ids=[c[0] for c in RULE_CASES])
def test_each_rule_positive_and_negative(rule_id: str, positive: str, negative: str) -> None:
    assert rule_id in rule_ids(check(positive)), positive
    assert rule_id not in rule_ids(check(negative)), negative


def test_every_msg_rule_has_a_case() -> None:
    from scanners import rules

    # The typology rules (MSG-TYPE-*) have their tables in tests/test_message_types.py;
    # MSG-ID-* need analyst list entries: their cases are in tests/test_identifiers.py;
    # the model's MSG-ML-* theirs in tests/test_message_model.py.
    msg_rules = {r for r in rules.CATALOGUE if r.startswith("MSG-")
                 and not r.startswith(("MSG-TYPE-", "MSG-ID-", "MSG-ML-"))}
    assert msg_rules == {c[0] for c in RULE_CASES}


def test_a_warning_that_sends_an_unknown_link_is_not_excused() -> None:
    text = "Cảnh giác thủ đoạn giả danh! Cán bộ công an hướng dẫn tải ứng dụng tại abcxyz123.com"
    r = check(text)
    assert "MSG-CTX-001" not in rule_ids(r) and r["verdict"] == "dangerous"


# --- the reply ------------------------------------------------------------------------------


REPLY_TEXTS = [
    SCAM,
    "Tài khoản của bạn sẽ bị khóa, xác minh tại abcxyz123.com",
    "Mẹ ơi xem video này https://www.youtube.com/watch?v=1",
    "vneid.gov.vn",
    "Cán bộ công an yêu cầu chị chuyển tiền vào tài khoản tạm giữ",
    "Tải ứng dụng rồi cấp quyền trợ năng",
    "Bưu kiện của bạn bị giữ, thanh toán phí lưu kho 20.000đ tại giaohang-phikho.com",
    "Chúc mừng bạn trúng thưởng xe máy, vui lòng đóng phí thủ tục 2 triệu để nhận giải.",
    "Bạn bị lừa mất tiền? Chúng tôi hỗ trợ lấy lại tiền, chỉ cần đặt cọc phí hồ sơ 2 triệu.",
]


@pytest.mark.parametrize("text", REPLY_TEXTS)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_reply_is_short_structured_and_in_the_language(text: str, lang: str) -> None:
    r = check(text, lang)
    assert len(r["reply"].split()) <= 80, r["reply"]
    assert len(r["headline"].split()) <= 25, r["headline"]
    assert 1 <= len(r["steps"]) <= 3
    # The reply is the headline, then some steps and 'if already' lines, in order.
    rest = r["reply"]
    for part in [r["headline"], *r["steps"], *r["if_already"]]:
        if rest.startswith(part):
            rest = rest[len(part):].lstrip(" ")
    assert rest == "", r["reply"]
    has_vietnamese = bool(re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]",
                                    r["reply"]))
    assert has_vietnamese == (lang == "vi"), r["reply"]
    if r["verdict"] in ("suspicious", "dangerous"):
        # Something to do if it already happened, and at least one line of it posted.
        assert r["if_already"] and any(a in r["reply"] for a in r["if_already"])
    else:
        assert r["if_already"] == [] and r["hotlines"] == []
    for h in r["hotlines"]:
        assert h["number"] in r["reply"]
    # The bot posts the reply as is: it never repeats a scam link.
    for item in r["items"]:
        if item["kind"] == "link" and item["verdict"] != "official":
            assert item["host"] not in r["reply"]


def test_dangerous_reply_says_what_to_do() -> None:
    vi = check(SCAM, "vi")
    assert vi["reply"].startswith("Cảnh báo: đây là lừa đảo")
    assert "căn cước" in vi["reply"] and "113" in vi["reply"] and "cài ứng dụng" in vi["reply"]
    assert any("OTP" in s for s in vi["steps"])
    assert vi["hotlines"] == [{"name": "Công an (khẩn cấp)", "number": "113"}]
    en = check(SCAM, "en")
    assert "scam" in en["reply"] and "install" in en["reply"] and "113" in en["reply"]


@pytest.mark.parametrize(("text", "name", "site"), [
    ("Nhân viên Vietcombank thông báo thẻ tín dụng của anh được nâng hạn mức, anh đọc mã OTP "
     "cho em để kích hoạt", "Vietcombank", "vietcombank.com.vn"),
    ("MB Bank: quy khach cung cap so the va ma CVV de nang han muc the tin dung",
     "MB Bank", "mbbank.com.vn"),
])
def test_bank_reply_names_the_bank_and_its_official_site(text: str, name: str,
                                                         site: str) -> None:
    r = check(text, "vi")
    assert r["scam_type"] == "bank_card"
    step = next(s for s in r["steps"] if site in s)
    assert name in step and "mặt sau thẻ" in step


@pytest.mark.parametrize("text", REPLY_TEXTS[6:8])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_delivery_and_prize_replies_do_not_send_people_to_their_card(text: str,
                                                                     lang: str) -> None:
    r = check(text, lang)
    assert r["scam_type"] in ("delivery_fee", "prize_fee")
    assert not any("thẻ" in s or "card" in s for s in [r["headline"], *r["steps"]])
    # A parcel or prize is not a threat to the person's account.
    assert "tài khoản" not in r["headline"] and "account" not in r["headline"]


# --- bounds and bad input -------------------------------------------------------------------


def test_empty_and_too_long_text_are_input_errors() -> None:
    for bad in ("", "   \n\t", "\x00\x01\x02"):
        with pytest.raises(MessageInputError, match="empty"):
            check(bad)
    with pytest.raises(InputError, match="longer than"):
        check("a" * (MAX_TEXT_CHARS + 1))


def test_longest_text_with_many_links_is_bounded() -> None:
    chunk = "Cán bộ công an: tải tại vneid-gov[.]top hoặc abc{}.xyz, gọi 0866130113. "
    text = "".join(chunk.format(i) for i in range(400))[:MAX_TEXT_CHARS]
    r = check(text)
    assert r["characters"] == MAX_TEXT_CHARS
    assert len([i for i in r["items"] if i["kind"] == "link"]) == MAX_LINKS
    assert len(r["script_signals"]) <= 60
    assert r["verdict"] == "dangerous"


def test_control_characters_and_surrogates_keep_offsets() -> None:
    raw = "can bo cong an\x00\x07 tai ung dung \ud800"
    cleaned = clean_text(raw)
    assert len(cleaned) == len(raw) and "\x00" not in cleaned and "\ufffd" in cleaned
    r = check(raw)
    assert r["characters"] == len(raw)


@pytest.mark.parametrize("text", [
    "\x00\xff\xfe\x80 binary \x1b[31m junk \x7f",
    "Привет 你好 مرحبا שלום 👋 vneid-gov.top",
    "😀" * 2000,
    "." * 5000,
    "[.]" * 3000,
    "a." * 4000,
])
def test_junk_and_mixed_scripts_get_calm_answers(text: str) -> None:
    r = check(text)
    assert r["verdict"] in ("no_known_risk", "suspicious", "dangerous")
    assert r["headline"] and len(r["reply"].split()) <= 80


# --- live mode (in-process scanners, no network) -------------------------------------------


class _SlowScanner:
    name = "slow"

    async def scan(self, target: ParsedURL) -> list[Finding]:
        await asyncio.sleep(30)
        return []


class _AgeScanner:
    name = "domain_age"

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def scan(self, target: ParsedURL) -> list[Finding]:
        self.seen.append(target.host)
        if target.host.startswith("new"):
            return [Finding("URL-AGE-001", {"days": 2})]
        raise ScanIncomplete("domain_age", "RDAP did not answer")


def test_live_checks_run_on_a_few_links_and_report_what_is_missing() -> None:
    age = _AgeScanner()
    text = ("Cán bộ công an: tải ứng dụng tại new-abc.com, old-abc.com, other-abc.com, "
            "more-abc.com hoặc dichvucong.gov.vn")
    r = check(text, live_scanners=[age], live_links=3)
    assert len(age.seen) == 3 and "dichvucong.gov.vn" not in age.seen
    new = next(i for i in r["items"] if i["kind"] == "link" and i["host"] == "new-abc.com")
    assert "URL-AGE-001" in {f["rule_id"] for f in new["findings"]}
    reasons = " ".join(i["reason"] for i in r["incomplete"])
    assert "RDAP did not answer" in reasons and "at most 3 links" in reasons


def test_live_checks_are_bounded_in_time() -> None:
    r = check("Cán bộ công an: tải ứng dụng tại abcxyz123.com", live_scanners=[_SlowScanner()],
              live_timeout=0.2)
    assert any("did not finish" in i["reason"] for i in r["incomplete"])
    assert r["verdict"] == "dangerous"  # the offline findings still count
