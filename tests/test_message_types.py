"""The scam typology of chat messages: each family must fire on its script and stay
quiet on its look-alike, in Vietnamese (with and without diacritics) and English.

Offline, on the bundled data; the no-diacritics form is the Vietnamese text folded
by the same function the scanner trusts for registry names.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanners import rules
from scanners.message import check_message
from scanners.message_types import TYPE_BY_ID, TYPES
from scanners.normalize import normalize
from scanners.registry import fold_vietnamese
from scanners.report import url_report
from scanners.url_offline import default_scanner

# (scam_type, vi scam, en scam, vi look-alike, en look-alike)
CASES: list[tuple[str, str, str, str, str]] = [
    ("police_impersonation",
     "Cán bộ công an quận thông báo chị liên quan một vụ án ma túy, chị phải chuyển 50 triệu "
     "vào tài khoản tạm giữ để xác minh.",
     "This is a police officer. You are linked to a money laundering case, transfer your "
     "savings to the safe account we give you.",
     "Công an phường mời bà con đến nhà văn hóa dự buổi tuyên truyền an toàn giao thông.",
     "The police station on our street is open on Saturday morning for ID renewals."),
    ("vneid",
     "Tài khoản định danh mức 2 của bác chưa được cập nhật, bác tải ứng dụng tại "
     "vneid-capnhat-muc2.com để đồng bộ dữ liệu cư trú.",
     "Your level 2 e-ID is not verified. Install the new app from vneid-verify-now.com today.",
     "Bác mang căn cước ra công an phường để được kích hoạt định danh mức 2 nhé.",
     "You can activate your level 2 e-ID at the ward police station with your chip ID card."),
    ("tax_refund",
     "Chi cục thuế thông báo anh được hoàn thuế 3 triệu, anh cài ứng dụng tại "
     "hoanthue-canhan.com và nhập số thẻ để nhận tiền.",
     "Tax office: you have a tax refund of 2 million VND. Install the refund app from "
     "taxrefund-vn.com and enter your card number.",
     "Công ty đã nộp hồ sơ quyết toán thuế cho nhân viên, ai được hoàn thuế sẽ nhận vào lương.",
     "I filed my tax return on the official portal last week, the refund took a month."),
    ("bhxh_refund",
     "Bảo hiểm xã hội thông báo bà được hoàn tiền 4 triệu, bà tải ứng dụng VssID mới tại "
     "vssid-hoantien.com và liên kết tài khoản ngân hàng.",
     "Social insurance notice: you have an unclaimed refund. Install the app from "
     "vssid-refund.com and link your bank account.",
     "Muốn rút bảo hiểm xã hội một lần thì chị mang sổ ra cơ quan BHXH quận nhé.",
     "My social insurance book was updated at the district office today."),
    ("evn_cutoff",
     "Điện lực thông báo nhà anh nợ tiền điện, sẽ cắt điện tối nay, anh thanh toán ngay tại "
     "evn-thanhtoan-no.com.",
     "EVN notice: your power will be cut tonight for an unpaid bill. Pay now at "
     "evn-billpay-now.com.",
     "Mai khu mình cắt điện từ 7h đến 11h để bảo trì đường dây, nhà mình nhớ sạc điện thoại.",
     "Scheduled maintenance: the electricity will be off on Sunday morning in our ward."),
    ("bank_card",
     "Ngân hàng thông báo thẻ tín dụng của chị được nâng hạn mức 80 triệu, chị cung cấp số "
     "thẻ và mã CVV để nhân viên kích hoạt.",
     "Your credit card limit can be raised to 90 million. Reply with your card number and CVV "
     "to confirm.",
     "Hôm nay anh ra chi nhánh ngân hàng đổi thẻ từ sang thẻ chip, miễn phí và nhanh lắm.",
     "I updated my biometrics in the official banking app, it took two minutes."),
    ("delivery_fee",
     "Bưu kiện của bạn đang bị giữ tại kho, vui lòng thanh toán phí lưu kho 20.000đ tại "
     "giaohang-phikho.com để được giao.",
     "Your parcel is held at the depot. Pay the redelivery fee at parcel-redeliver-vn.com "
     "today.",
     "Đơn hàng của bạn đang được giao, shipper sẽ gọi trước khi đến.",
     "Your package was delivered today, thank you for shopping with us."),
    ("prize_fee",
     "Chúc mừng bạn trúng thưởng xe máy, vui lòng đóng phí thủ tục 2 triệu để nhận giải.",
     "Congratulations, you won a car in our lucky draw! Pay the processing fee to claim it.",
     "Tiệc cuối năm bà trúng thưởng cái quạt điện, cuối tuần con về lấy nhé.",
     "My grandma won a fan in the year-end lucky draw at her club."),
    ("job_task",
     "Việc nhẹ lương cao: thả tim và đánh giá sản phẩm, mỗi đơn nhận hoa hồng 20k, kết bạn "
     "Zalo để nhận việc.",
     "Part-time job: like videos and earn 500k a day, each task pays 20k. Top up your task "
     "account to unlock bigger tasks.",
     "Quán cơm cần tuyển nhân viên phục vụ ca tối, làm tại quán, lương theo giờ.",
     "Our company is hiring a warehouse assistant, apply in person at the factory."),
    ("online_loan",
     "Vay tiền online giải ngân trong 5 phút, chỉ cần CCCD, nhắn Zalo để được duyệt.",
     "Instant loan with no credit check, only your ID card needed. Send photos of your ID "
     "card to apply.",
     "Anh vừa ra ngân hàng ký hợp đồng vay mua nhà, hai tuần nữa mới giải ngân.",
     "I paid off the last part of my motorbike loan at the bank today."),
    ("investment",
     "Tham gia nhóm đầu tư tiền ảo, cam kết lợi nhuận 10% mỗi ngày, nạp tiền qua "
     "coin-dautu-vip.com.",
     "Our crypto team guarantees 5% profit every day. Deposit USDT at usdt-profit-vip.com.",
     "Ba ơi con gửi tiết kiệm ở ngân hàng rồi, lãi suất 5% một năm.",
     "I read that bitcoin went up again, but I'm not buying any, too risky."),
    ("relative_new_number",
     "Mẹ ơi con đổi số mới rồi, mẹ chuyển giúp con 5 triệu vào tài khoản bạn con nhé, con "
     "cần gấp.",
     "Hi Mum, this is my new number, my phone broke. Can you transfer 5 million to my "
     "friend's account?",
     "Mẹ ơi con đổi số điện thoại rồi, mẹ lưu số mới của con nhé, cuối tuần con về.",
     "Hi Grandma, I have a new phone number, please save it. See you at Tet!"),
    ("romance_parcel",
     "Em yêu, anh gửi thùng quà từ Mỹ về nhưng hải quan đang giữ, em đóng phí thông quan 15 "
     "triệu giúp anh nhé.",
     "My darling, the gift box I sent from London is held at customs. Please pay the "
     "clearance fee today.",
     "Anh yêu ơi quà sinh nhật anh gửi em nhận được rồi, em thích lắm.",
     "The box of chocolates from my sister in Canada arrived today by post."),
    ("recovery_scam",
     "Bạn bị lừa mất tiền? Chúng tôi hỗ trợ lấy lại tiền trong 24 giờ, chỉ cần đặt cọc phí "
     "hồ sơ 2 triệu.",
     "Lost money to a scam? Our fund recovery agents get your money back. Pay the service "
     "fee to open your case.",
     "Nếu bị lừa, hãy báo ngay cho ngân hàng và công an; đừng tin dịch vụ lấy lại tiền trên "
     "mạng.",
     "If you lost money to a scam, report it to your bank and the police right away."),
    ("remote_control_app",
     "Em là kỹ thuật viên ngân hàng, chị cài UltraViewer rồi gửi em mã ID để em sửa lỗi "
     "tài khoản từ xa.",
     "Bank support here: install AnyDesk and give me the access code so I can fix your "
     "account remotely.",
     "Đừng bao giờ cài AnyDesk hay UltraViewer theo lời người lạ gọi điện.",
     "Never install TeamViewer because a caller asks you to."),
    ("apk_file_host",
     "Bác tải ứng dụng Dịch vụ công bản mới ở đây rồi cài đặt nhé "
     "https://www.mediafire.com/file/k2j4h5/DichVuCong.apk/file",
     "Install the new tax app from https://drive.google.com/file/d/1QwE7yUi/view and log "
     "in with your ID number.",
     "Ảnh đám cưới chị Mai em để trên Google Drive rồi, cả nhà vào xem nhé "
     "drive.google.com/drive/folders/1AbC",
     "The class notes are on mediafire.com/folder/x1y2/notes, print them before Friday."),
    ("support_group",
     "Tham gia nhóm Zalo hỗ trợ kích hoạt định danh mức 2 tại nhà zalo.me/g/hotrodinhdanh "
     "để được hướng dẫn.",
     "Join our Telegram group t.me/ekyc_help_vn for help with your bank biometric update "
     "in 5 minutes.",
     "Phụ huynh lớp 3A vào nhóm Zalo của lớp để nhận thông báo nhé zalo.me/g/lop3a",
     "Our reunion Telegram group is t.me/class12a_reunion, join when you can!"),
]

FLAGGED = {"suspicious", "dangerous"}


def check(text: str, lang: str) -> dict[str, Any]:
    return asyncio.run(check_message(text, default_scanner(), lang=lang))


def _forms(vi: str, en: str) -> list[tuple[str, str]]:
    return [(vi, "vi"), (fold_vietnamese(vi), "vi"), (en, "en")]


FIRE = [(t, text, lang) for t, vi, en, _, _ in CASES for text, lang in _forms(vi, en)]
QUIET = [(t, text, lang) for t, _, _, vi, en in CASES for text, lang in _forms(vi, en)]


# Rule ids are stable: a family keeps its rule.
RULE_OF = {
    "police_impersonation": "MSG-TYPE-001", "vneid": "MSG-TYPE-002",
    "tax_refund": "MSG-TYPE-003", "bhxh_refund": "MSG-TYPE-004", "evn_cutoff": "MSG-TYPE-005",
    "bank_card": "MSG-TYPE-006", "delivery_fee": "MSG-TYPE-007", "prize_fee": "MSG-TYPE-008",
    "job_task": "MSG-TYPE-009", "online_loan": "MSG-TYPE-010", "investment": "MSG-TYPE-011",
    "relative_new_number": "MSG-TYPE-012", "romance_parcel": "MSG-TYPE-013",
    "recovery_scam": "MSG-TYPE-014", "remote_control_app": "MSG-TYPE-015",
    "apk_file_host": "MSG-TYPE-016", "support_group": "MSG-TYPE-017",
}


def test_every_type_has_cases_and_a_rule() -> None:
    assert {c[0] for c in CASES} == set(TYPE_BY_ID) == set(RULE_OF)
    typed = {r.scam_type: r.id for r in rules.CATALOGUE.values() if r.scam_type}
    assert typed == {t.id: t.rule_id for t in TYPES} == RULE_OF


@pytest.mark.parametrize(("scam_type", "text", "lang"), FIRE,
                         ids=[f"{t}-{i % 3}" for i, (t, _, _) in enumerate(FIRE)])
def test_type_fires_on_its_script(scam_type: str, text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["scam_type"] == scam_type, (text, r["findings"])
    assert TYPE_BY_ID[scam_type].rule_id in {f["rule_id"] for f in r["findings"]}
    assert r["verdict"] in FLAGGED
    # Every script in the table asks for money, data, an app or a contact; the
    # ones that hand over money, a code, an app or open a link are dangerous.
    if "MSG-COMBO-006" in {f["rule_id"] for f in r["findings"]}:
        assert r["verdict"] == "dangerous", r["risk_score"]


@pytest.mark.parametrize(("scam_type", "text", "lang"), QUIET,
                         ids=[f"{t}-{i % 3}" for i, (t, _, _) in enumerate(QUIET)])
def test_type_stays_quiet_on_its_look_alike(scam_type: str, text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["scam_type"] is None, (text, r["findings"])
    assert r["verdict"] not in FLAGGED, (text, r["findings"])


def test_a_negated_topic_names_no_type() -> None:
    r = check("Không tin dịch vụ lấy lại tiền, chỉ báo công an và ngân hàng. Đừng chuyển "
              "khoản phí cho ai.", "vi")
    assert r["scam_type"] is None


def test_the_most_specific_family_wins() -> None:
    # A police script that sends the app through a file host is an APK-on-a-file-host case.
    r = check("Cán bộ công an phường gửi bà ứng dụng VNeID, bà tải về cài đặt: "
              "https://www.mediafire.com/file/a1/VNeID.apk/file", "vi")
    assert r["scam_type"] == "apk_file_host"
    f = next(f for f in r["findings"] if f["rule_id"] == "MSG-TYPE-016")
    assert "vneid" in f["evidence"]["also"]


# --- consistency: a message is never calmer than the links it carries ------------------------

LINKS = [
    "vietcombank-xacthuc.top", "hxxps://vneid-gov[.]top/app", "dichvucong-gov.com",
    "http://[2001:db8::1]/vneid.apk", "http://103.45.67.89/dvc.apk", "bit.ly/ghtk-capnhat",
    "http://tiemhoaxinh.com", "congan-vn.com", "https://dichvucong.gov.vn",
    "https://www.youtube.com/watch?v=abc", "shopee-khuyenmai.top", "vaytien-nhanh.com",
    "https://drive.google.com/file/d/1Ab/view", "techcombank-verify.online",
]
FILLERS = [
    "Mẹ ơi xem cái này nhé", "Cán bộ công an phường thông báo, tải ứng dụng tại",
    "Anh xem giúp em", "Your parcel is waiting, pay the fee at", "ok", "Tài khoản sẽ bị khóa",
    "Chúc mừng bạn trúng thưởng, nhận quà tại", "Cảnh báo thủ đoạn giả danh công an:",
]
_RANK = {"official": 0, "no_known_risk": 1, "suspicious": 2, "dangerous": 3}


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(FILLERS), st.sampled_from(LINKS)),
                min_size=1, max_size=4))
def test_message_never_scores_below_its_worst_link(parts: list[tuple[str, str]]) -> None:
    text = " ".join(f"{f} {link} ." for f, link in parts)
    scanner = default_scanner()
    r = check(text, "vi")
    links = [i for i in r["items"] if i["kind"] == "link"]
    assert links, text
    for item in links:
        p = normalize(item["input"])  # what a person would paste into the link check
        alone = url_report(p, scanner.check(p), "vi")
        assert item["risk_score"] == alone["risk_score"]
        assert r["risk_score"] >= alone["risk_score"], (text, item["url"])
        if alone["verdict"] != "official":
            assert _RANK[r["verdict"]] >= _RANK[alone["verdict"]], (text, item["url"])
    # Every point still traces to a finding.
    assert r["risk_score"] == min(100, sum(f["points"] for f in r["findings"]))


@pytest.mark.parametrize(("text", "lang"), [
    # Reported, not requested: a transfer already made or described in the passive.
    ("Mẹ ơi con chuyển khoản 2 triệu tiền điện cho mẹ rồi, mẹ xem tin nhắn ngân hàng.", "vi"),
    ("Tiền hoàn thuế được chuyển vào tài khoản do người nộp thuế đăng ký.", "vi"),
    ("Tien dien thang 11 la 612.000d, thanh toan qua ngan hang hoac tai diem thu.", "vi"),
    # Negated asks and guarantees.
    ("Cửa hàng tuyển cộng tác viên bán hàng, không cần đặt cọc, lấy hàng tại quận 5.", "vi"),
    ("My adviser says there are no guaranteed returns in stocks.", "en"),
    # Folded, "nhân qua" (via, in "thu nhập cá nhân qua ứng dụng") is "nhận quà" (a gift).
    ("Đề nghị hoàn thuế thu nhập cá nhân qua ứng dụng eTax Mobile chính thức.", "vi"),
    # A landline or hotline is what real bodies give; it is not a call-back script.
    ("Công an phường thông báo lịch tiếp công dân. Thắc mắc về cư trú xin liên hệ trực ban "
     "số 028 3896 1234.", "vi"),
    # Duty paid to the courier at the door is not a transfer to a stranger.
    ("Đơn hàng của anh về rồi, bên DHL báo phải nộp thuế nhập khẩu 320k khi nhận hàng, trả "
     "tiền mặt cho shipper.", "vi"),
    # Software for a computer on a shared drive is not an Android app on a file host.
    ("Thầy gửi bộ cài phần mềm vẽ cho máy tính ở drive.google.com/drive/folders/1Zy8, các em "
     "cài vào máy tính ở nhà.", "vi"),
    # A shop's promotion that links to the shop's own site.
    ("Điện Máy Xanh: mua tủ lạnh được quay số trúng thưởng, kết quả trên dienmayxanh.com.",
     "vi"),
    # Turning on a remote tool at work, without installing anything or a code to read.
    ("Chị bật TeamViewer trên máy tính văn phòng giúp em, em qua bàn chị lấy ID.", "vi"),
])
def test_reports_and_negations_are_not_asks(text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["scam_type"] is None, r["findings"]
    assert r["verdict"] not in FLAGGED, r["findings"]


def test_gift_with_diacritics_is_still_a_lure() -> None:
    r = check("Chúc mừng bạn được nhận quà tri ân, nộp phí vận chuyển 50k để nhận quà.", "vi")
    assert "MSG-BAIT-001" in {f["rule_id"] for f in r["findings"]}
    assert r["scam_type"] == "prize_fee" or r["verdict"] in FLAGGED


@pytest.mark.parametrize(("text", "lang", "scam_type"), [
    # A "không" earlier in the clause does not negate the topic.
    ("Vay 15 triệu không cần chứng minh thu nhập, giải ngân trong 5 phút. Anh cài app tại "
     "vayde-app.com rồi chụp căn cước để duyệt hồ sơ.", "vi", "online_loan"),
    # "I'll return it" is a promise, not investment returns.
    ("Hey bro, it's Tuan, this is my new Zalo, the old one got hacked. Can you send me 1.5 "
     "million now? I'll return it tonight.", "en", "relative_new_number"),
    ("Văn phòng luật sư hỗ trợ nạn nhân lấy lại tiền bị lừa, anh chuyển khoản phí mở hồ sơ 3 "
     "triệu để bắt đầu.", "vi", "recovery_scam"),
])
def test_type_fires_on_other_phrasings(text: str, lang: str, scam_type: str) -> None:
    r = check(text, lang)
    assert r["scam_type"] == scam_type, r["findings"]
    assert r["verdict"] == "dangerous"
