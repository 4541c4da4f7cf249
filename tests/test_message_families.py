"""The family signals added after heldout2 and heldout3 were read (issue 13): each must
fire on its script with the rules alone and stay quiet on its look-alike with the model
too, in Vietnamese (with and without diacritics) and English.

The texts are written for these tests (not copied from an evaluation split); they
describe each family the way police and bank warnings do. Offline, bundled data.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from scanners.message import check_message
from scanners.message_types import TYPE_BY_ID
from scanners.registry import fold_vietnamese
from scanners.url_offline import default_scanner

FLAGGED = {"suspicious", "dangerous"}

# (scam_type, vi scam, en scam, vi look-alike, en look-alike)
CASES: list[tuple[str, str, str, str, str]] = [
    ("police_impersonation",
     "Tôi là trung tá Phạm Hùng, Công an tỉnh Nghệ An. Anh đang bị điều tra, anh phối hợp "
     "chuyển tiền xác minh nguồn gốc tài sản sang tài khoản của cơ quan trong hôm nay.",
     "Sergeant Vu from the provincial police cyber unit: your ID was used to open accounts for "
     "a gambling ring. Move your money to the verification account 1902771234 we give you.",
     "Công an phường thông báo: tổ làm căn cước lưu động phục vụ người cao tuổi tại nhà văn "
     "hóa tổ 4 sáng thứ bảy, không thu phí.",
     "The ward police team will issue ID cards at the community hall on Saturday; there is "
     "no fee."),
    ("romance_parcel",
     "Em à, anh là bác sĩ làm việc ở Syria, anh gửi thùng quà có tiền mặt và trang sức về "
     "cho em. Bên vận chuyển báo em phải nộp 18 triệu phí thông quan, em nộp giúp anh nhé.",
     "Honey, I am a surgeon with the UN in Yemen. My parcel for you is held at the airport in "
     "Hanoi. Pay 1,800 USD to the agent for the release papers and I will repay you.",
     "Chị ơi thùng quà dì gửi từ Canada về tới nhà rồi, có sô cô la với áo len, em trả tiền "
     "mặt cho bưu tá rồi nhé.",
     "The box of sweets my aunt sent from Canada arrived at home today, the kids loved it."),
    ("relative_new_number",
     "Chú ơi cháu Hải đây, zalo cũ của cháu bị mất rồi, đây là zalo mới. Chú chuyển tạm "
     "cháu 4 triệu vào số tài khoản của bạn cháu nhé, tối cháu gửi lại.",
     "Auntie it's Nam, my old Zalo got hacked so this is my new Zalo. Please send me 2 million "
     "now for the hospital bill, I will pay you back tomorrow.",
     "Mẹ ơi con chuyển khoản 3 triệu tiền học thêm của em cho cô giáo hôm qua rồi nhé, mẹ "
     "khỏi lo.",
     "Mum, my new Zalo is the same number, I only changed the profile picture."),
    ("recovery_scam",
     "Trung tâm tư vấn pháp lý: chúng tôi đã phong tỏa được tài khoản của kẻ lừa đảo anh. "
     "Để nhận lại số tiền đã mất, anh nộp 10% phí hồ sơ vào tài khoản văn phòng.",
     "Cyber law office: we traced the people who scammed you. Pay a 10% processing fee and "
     "we will get your money back within three days.",
     "Anh ơi tiền mua hàng bị lỗi shop đã hoàn lại vào tài khoản em rồi, cảm ơn anh nhắc.",
     "The shop refunded my broken kettle to my card this morning, thanks for the tip."),
    ("bhxh_refund",
     "Anh có khoản trợ cấp thất nghiệp 5 triệu chưa nhận. Anh kết bạn Zalo 0977 115 302 "
     "với cán bộ phụ trách và gửi ảnh căn cước để làm hồ sơ nhận tiền.",
     "Your unemployment benefit of 5 million is waiting. Send a photo of your ID card and your "
     "bank card number to our officer on Zalo to receive it today.",
     "Bố ơi tháng này bố ra bưu điện nhận lương hưu như mọi khi nhé, con đưa bố đi.",
     "Dad, your pension was paid into your savings account as usual this month."),
    ("remote_control_app",
     "Em là kỹ thuật viên hỗ trợ từ xa của nhà mạng, máy chị bị nhiễm mã độc. Chị cài ứng "
     "dụng điều khiển từ xa rồi đọc mã truy cập để em xử lý giúp.",
     "Microsoft technician here: your computer sends virus alerts. Install our remote "
     "access tool and tell us the access code so we can fix it for you.",
     "Anh ơi máy in phòng hành chính hỏng, anh IT mở TeamViewer trên máy phòng em sửa giúp "
     "nhé.",
     "Our office IT team will update the accounting software on the work computers tonight."),
    ("bank_card",
     "Thông báo: giao dịch 18.500.000đ bất thường đang chờ trên thẻ của quý khách. Nếu không "
     "phải quý khách, vào huygiaodich-the.com nhập số thẻ và mã OTP để hủy.",
     "Alert: a pending payment of 12,000,000 VND on your credit card. If it was not you, "
     "cancel it at card-cancel-now.com with your card number and OTP.",
     "Mẹ ơi con vừa thanh toán tiền điện bằng thẻ của mẹ trên app ngân hàng nhé.",
     "Your card payment of 250,000 VND at Highlands Coffee was successful."),
    ("prize_fee",
     "Tổng đài chúc mừng thuê bao được nhận quà tri ân là một tủ lạnh. Quý khách vui lòng "
     "chuyển 590.000đ phí vận chuyển để nhận quà tại nhà.",
     "Congratulations, your number was picked in our customer draw for a television. Send "
     "the 490,000 VND shipping fee to claim it.",
     "Công ty tổ chức tiệc tất niên, mỗi nhân viên được nhận quà tri ân tại phòng nhân sự.",
     "Thanks for shopping with us! Your loyalty points are in the app, no action needed."),
    ("job_task",
     "Tuyển người làm việc online tại nhà, mỗi ngày kiếm 300-500k. Bạn nạp 200k kích hoạt "
     "tài khoản rồi nhắn Telegram để nhận việc.",
     "We are hiring people to work online from home, 1 hour a day pays 500k. Deposit 200k to "
     "activate your account, then message us on Telegram.",
     "Hai hôm nay chị làm việc online tại nhà vì con ốm, có gì em gọi chị nhé.",
     "I will work from home tomorrow, call me if the meeting moves."),
    ("online_loan",
     "Hồ sơ vay 50 triệu của anh đã duyệt, giải ngân trong ngày. Anh đóng phí thẩm định 1 "
     "triệu qua Zalo 0906 223 118 để nhận tiền.",
     "Your loan of 50 million is approved. Pay the 1 million processing fee to our officer "
     "today to receive the money.",
     "Khoản vay mua nhà của anh chị đã tất toán, ngân hàng trả lại sổ đỏ tại chi nhánh.",
     "Your mortgage has been fully repaid; collect your documents at the branch."),
]


def check(text: str, lang: str, use_model: bool = True) -> dict[str, Any]:
    return asyncio.run(check_message(text, default_scanner(), lang=lang, use_model=use_model))


def _forms(vi: str, en: str) -> list[tuple[str, str]]:
    return [(vi, "vi"), (fold_vietnamese(vi), "vi"), (en, "en")]


FIRE = [(t, text, lang) for t, vi, en, _, _ in CASES for text, lang in _forms(vi, en)]
QUIET = [(t, text, lang) for t, _, _, vi, en in CASES for text, lang in _forms(vi, en)]


@pytest.mark.parametrize(("scam_type", "text", "lang"), FIRE,
                         ids=[f"{t}-{i % 3}" for i, (t, _, _) in enumerate(FIRE)])
def test_family_fires_with_the_rules_alone(scam_type: str, text: str, lang: str) -> None:
    r = check(text, lang, use_model=False)
    ids = {f["rule_id"] for f in r["findings"]}
    assert r["scam_type"] == scam_type, (text, r["findings"])
    assert TYPE_BY_ID[scam_type].rule_id in ids
    # Each script asks for money, a code, an app or opens a link: the step that loses money.
    assert "MSG-COMBO-006" in ids and r["verdict"] == "dangerous", (text, r["risk_score"])


@pytest.mark.parametrize(("scam_type", "text", "lang"), QUIET,
                         ids=[f"{t}-{i % 3}" for i, (t, _, _) in enumerate(QUIET)])
def test_family_stays_quiet_on_its_look_alike(scam_type: str, text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["scam_type"] is None, (text, r["findings"])
    assert r["verdict"] not in FLAGGED, (text, r["findings"])


@pytest.mark.parametrize(("text", "lang"), [
    # The writer reports an install they made for the family: nothing is asked.
    ("Grandpa, I installed TeamViewer on your computer last week so I can fix the email "
     "from home; just leave it on when I ring you.", "en"),
    ("We've downloaded the new banking app for mum and set it up at the branch together.",
     "en"),
])
def test_a_reported_install_is_not_an_ask(text: str, lang: str) -> None:
    r = check(text, lang)
    assert "MSG-APP-001" not in {f["rule_id"] for f in r["findings"]}, r["findings"]
    assert r["verdict"] not in FLAGGED, r["findings"]


@pytest.mark.parametrize(("text", "lang", "scam_type"), [
    ("My dear, I am a ship captain. I sent you a suitcase of gifts with gold and cash; the "
     "agent says customs need a release fee, please pay it today.", "en", "romance_parcel"),
    ("Power company inspector: your meter shows tampering. Pay a 2,000,000 VND fine to our "
     "account today or the electricity will be cut.", "en", "evn_cutoff"),
    ("You are our lucky winner of 30 million. Pay the 3% income tax to our finance account "
     "to receive the prize.", "en", "prize_fee"),
])
def test_fees_fines_and_taxes_in_english_are_asks(text: str, lang: str, scam_type: str) -> None:
    r = check(text, lang, use_model=False)
    assert r["scam_type"] == scam_type, r["findings"]
    assert r["verdict"] == "dangerous", r["findings"]


@pytest.mark.parametrize(("text", "lang"), [
    ("Đây là Phòng Cảnh sát điều tra. Số điện thoại của bà liên quan một vụ lừa đảo. Bà "
     "không được nói với người nhà, giữ máy và làm theo hướng dẫn của cán bộ.", "vi"),
    ("This is the economic police unit. Your account received money from a fraud case. Keep "
     "this confidential and follow the officer's instructions.", "en"),
])
def test_a_secrecy_order_from_an_officer_is_no_warning(text: str, lang: str) -> None:
    for form in {text, fold_vietnamese(text)}:
        r = check(form, lang, use_model=False)
        ids = {f["rule_id"] for f in r["findings"]}
        assert "MSG-CTX-001" not in ids and "MSG-URG-001" in ids, r["findings"]
        assert r["verdict"] in FLAGGED, r["findings"]


def test_advice_against_secrecy_is_not_an_order() -> None:
    r = check("Công an khuyến cáo: ai gọi tự xưng công an bảo giữ bí mật, chuyển tiền là lừa "
              "đảo. Hãy báo ngay cho người thân.", "vi")
    assert r["verdict"] not in FLAGGED, r["findings"]


@pytest.mark.parametrize(("text", "lang", "scam_type"), [
    ("Mum, this is a temporary number, my phone fell in the river. Please pay 3,000,000 to "
     "account 0451002233 at ACB for my rent, I will explain tonight.", "en",
     "relative_new_number"),
    ("Remote work for students: rate apps 20 minutes a day for 400k. Recharge your work "
     "account with 200k first to unlock the tasks.", "en", "job_task"),
    ("Can tuyen nguoi nhap lieu tai nha, luong 7 trieu/thang. Nop 250k tien tai lieu de nhan "
     "viec ngay hom nay.", "vi", "job_task"),
    ("Bác tải tệp VNeID_moi.apk trên Google Drive cháu gửi rồi cài vào máy để cập nhật nhé.",
     "vi", "apk_file_host"),
])
def test_unaccented_and_english_asks_of_the_fourth_batch(text: str, lang: str,
                                                         scam_type: str) -> None:
    r = check(text, lang, use_model=False)
    assert r["scam_type"] == scam_type, r["findings"]
    assert r["verdict"] == "dangerous", r["findings"]


@pytest.mark.parametrize(("text", "lang"), [
    ("Bố ơi tháng này BHXH chuyển tiền trợ cấp vào tài khoản của bố rồi, bố kiểm tra nhé.",
     "vi"),
    ("Con đã nộp 300k tiền học thêm cho cô rồi, mẹ khỏi lo.", "vi"),
    ("The photos are on Google Drive, download whatever you like.", "en"),
])
def test_money_already_paid_and_shared_drives_are_not_asks(text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["scam_type"] is None and r["verdict"] not in FLAGGED, r["findings"]


# --- second round: the signals written after heldout4 was read (issue 13) ----------------
# Fresh texts, written for these tests: each family's cause of a miss or a false positive,
# not the heldout4 wording. Vietnamese ones run with and without diacritics.

ROUND2_FIRE: list[tuple[str, str, str, bool]] = [
    # (scam_type, text, lang, dangerous): chat shorthand "ck … vào stk" is a transfer asked.
    ("evn_cutoff", "EVN báo nhà mình nợ tiền điện, tối nay cắt. Ck gấp 2tr vào stk 0071 0000 "
     "5523 để giữ điện nha.", "vi", True),
    # Loan-app extortion: "không trả … thì …" is a threat, not a negation.
    ("online_loan", "Khoản vay app Vay Vui của mày quá hạn rồi. Không trả 3.200.000đ vào STK "
     "1020 0000 7781 trong hôm nay thì tao gửi hình mày cho cả danh bạ.", "vi", True),
    ("online_loan", "Your loan from the Cash Now app is overdue. Pay today or we send your "
     "photos to all your contacts and your employer.", "en", False),
    # A card's annual fee "cancelled" through a mobile number or Zalo.
    ("bank_card", "Chị ơi thẻ Visa của chị sắp bị trừ phí thường niên 990k, muốn hủy thì chị "
     "kb Zalo 0912 000 447 bên em hủy giúp ạ.", "vi", False),
    ("bank_card", "Your Mastercard will be charged a 1,200,000 VND annual fee. To cancel it, "
     "add our Zalo 0987 000 321.", "en", False),
    # A prize to claim by calling back before a deadline, or at a lucky-spin link.
    ("prize_fee", "Chúc mừng quý khách đã trúng xe máy Honda trong chương trình tri ân. Gọi "
     "lại tổng đài 0283 000 1122 trước 18h hôm nay, quá hạn giải thưởng sẽ bị hủy.", "vi",
     False),
    ("prize_fee", "Bạn vừa trúng iPhone 15 ở mini game sinh nhật shop, vào đây nhận quà: "
     "tinyurl.com/nhanqua-shop88", "vi", True),
    # Guaranteed gains in speech ("lời … chắc chắn").
    ("investment", "Em theo nhóm thầy Minh đầu tư vàng, lời 25%/tháng chắc chắn, anh muốn vào "
     "em gửi link cho.", "vi", False),
    # Someone abroad sends gold or a watch and the reader pays the fee.
    ("romance_parcel", "Anh đang làm việc ở nước ngoài, anh gửi quà có dây chuyền vàng với "
     "đồng hồ cho e rồi, hải quan gọi thì e đóng giúp a phí 7tr nha.", "vi", True),
    # Withdrawal trouble "solved" in a chat group.
    ("support_group", "Tài khoản của bạn gặp sự cố khi rút tiền, vui lòng vào nhóm Telegram "
     "CSKH để được xử lý: t.me/cskh_rut_tien_vip", "vi", True),
    ("support_group", "Unable to withdraw your earnings? Join our Telegram customer support "
     "group to fix it: t.me/withdraw_help_desk", "en", True),
    # A recovery service moving the victim to Telegram, with a fee up front.
    ("recovery_scam", "Chị ơi bên em chuyên thu hồi tiền bị lừa qua mạng, đã làm cho nhiều "
     "người. Chị nhắn em qua Telegram, phí ban đầu chỉ 1,5 triệu thôi ạ.", "vi", True),
    # Phone cards bought for a relative "in hospital".
    ("relative_new_number", "Con ơi bố đang nằm viện, con mua giúp bố 4 thẻ cào Mobifone "
     "loại 500k rồi chụp mã gửi bố ngay nhé.", "vi", True),
    # A refund offered once the reader moves to a chat app.
    ("delivery_fee", "Dạ chị ơi em bên giao hàng, đơn của chị bị lỗi, chị ib Zalo 0877 000 "
     "214 để em hoàn tiền cho chị nha.", "vi", False),
    # Paid by the day to watch videos; "ko cần vốn, ib …" is a selling point, not advice.
    ("job_task", "e oi ben minh tuyen nguoi xem clip youtube tra luong theo ngay 150-400k, ko "
     "can von, ib minh qua tele @viec_xem_clip", "vi", False),
    ("job_task", "We pay you daily to like videos on TikTok, no experience needed, message "
     "our Telegram @daily_likes_job", "en", False),
    # The late stage of a task script: combo orders before any withdrawal.
    ("job_task", "Chị đang ở đơn combo 2, làm thêm 3 đơn nữa là rút được hết gốc và hoa hồng "
     "nha chị.", "vi", False),
    ("job_task", "You are on the last set: complete 2 more tasks to withdraw your commission "
     "and principal.", "en", False),
    # A foreign persona's parcel of valuables with customs duty to pay.
    ("romance_parcel", "Hi dear, I'm Mark, a nurse in Canada. I sent you a box with a laptop, "
     "perfume and 3,000 USD; the courier says you must pay the customs duty first.", "en",
     True),
    # A year-end draw that asks for the card number.
    ("prize_fee", "Congratulations, your phone number was drawn in our year-end lucky draw. "
     "Reply with your bank card number to receive 15,000,000 VND.", "en", True),
    # A code asked in a reply after a "login from a strange device".
    ("vneid", "Tài khoản VNeID của bác vừa đăng nhập trên một thiết bị lạ. Nếu không phải "
     "bác, trả lời tin nhắn này kèm mã OTP để khóa lại.", "vi", True),
]


def _round2_forms(text: str, lang: str) -> list[str]:
    return [text, fold_vietnamese(text)] if lang == "vi" else [text]


@pytest.mark.parametrize(("scam_type", "text", "lang", "dangerous"), ROUND2_FIRE,
                         ids=[f"{t}-{i}" for i, (t, _, _, _) in enumerate(ROUND2_FIRE)])
def test_second_round_signals_fire(scam_type: str, text: str, lang: str,
                                   dangerous: bool) -> None:
    for form in _round2_forms(text, lang):
        r = check(form, lang, use_model=False)
        assert r["scam_type"] == scam_type, (form, r["findings"])
        assert r["verdict"] in FLAGGED, (form, r["findings"])
        if dangerous:
            assert r["verdict"] == "dangerous", (form, r["risk_score"], r["findings"])


ROUND2_QUIET: list[tuple[str, str]] = [
    # A tax payment's OTP is a code, not an amount to pay.
    ("Mã xác thực giao dịch nộp thuế điện tử của bạn là 308214, hiệu lực 3 phút. Tuyệt đối "
     "không cung cấp mã cho người khác.", "vi"),
    # The room's power bill between landlord and tenants.
    ("Chủ nhà báo tiền điện tháng này của phòng mình là 540.000đ, mọi người chuyển khoản cùng "
     "tiền phòng như mọi tháng nhé.", "vi"),
    ("Hi, it's your landlord: this month's electricity for the room is 480,000 VND, please "
     "transfer it together with the rent.", "en"),
    # "giao dịch chuyển tiền" names a transaction; the bank's disclaimer is advice.
    ("Vietcombank thông báo: giao dịch chuyển tiền từ 10 triệu phải xác thực khuôn mặt trên "
     "ứng dụng VCB Digibank. Vietcombank không gửi đường link yêu cầu khách hàng cài ứng "
     "dụng.", "vi"),
    # Someone posing as a courier, described in a warning.
    ("Mọi người ơi, dạo này có kẻ giả nhân viên giao hàng gọi báo có đơn rồi bắt chuyển khoản "
     "tiền ship trước. Cứ nhận hàng rồi mới trả tiền nhé.", "vi"),
    # A help group among learners or colleagues.
    ("Nhóm hỗ trợ học viên lớp tiếng Anh: ai cần tài liệu cứ nhắn trong nhóm Zalo nhé.", "vi"),
    # Videos among friends, and paid work by the hour at a real shop.
    ("Em xem video này chưa, clip con mèo nhà bác Tư buồn cười lắm.", "vi"),
    ("Mẹ xem video làm bánh này nè https://www.youtube.com/watch?v=abcdEFGhijk cuối tuần "
     "mình làm thử.", "vi"),
    ("Quán cà phê cần tuyển phục vụ, trả lương theo giờ 25k, làm tại quán, không thu phí.",
     "vi"),
    ("Our customs broker will clear the machine parts; the import duty is on the invoice we "
     "sent to your company.", "en"),
    # A shop's combo deal, and money withdrawn at an ATM.
    ("Quán mình có combo 2 người 199k, đặt bàn trước qua fanpage nhé.", "vi"),
    ("Mẹ rút tiền ở cây ATM gần chợ rồi, con khỏi chuyển nhé.", "vi"),
    # Phone cards already bought for a parent.
    ("Bố ơi con mua thẻ cào cho bố rồi, mã con nhắn qua tin nhắn, bố nạp vào máy nhé.", "vi"),
    # A transfer already made in shorthand; "ko" negates as "không" does.
    ("Con ck cho mẹ 2tr rồi nha, mẹ kiểm tra giúp con.", "vi"),
    ("Ngân hàng ko bao giờ gọi xin mã OTP, mọi người ko đọc mã cho ai nhé.", "vi"),
    # A real prize result with no call under pressure, and a call-back among friends.
    ("Điện máy Xanh: kết quả quay thưởng tháng 11 đã đăng trên website, khách trúng giải sẽ "
     "được cửa hàng liên hệ trực tiếp.", "vi"),
    ("Anh gọi lại số này giúp em khi rảnh nhé, em hỏi chuyện đi chơi cuối tuần.", "vi"),
]


@pytest.mark.parametrize(("text", "lang"), ROUND2_QUIET,
                         ids=[f"quiet-{i}" for i in range(len(ROUND2_QUIET))])
def test_second_round_look_alikes_stay_quiet(text: str, lang: str) -> None:
    for form in _round2_forms(text, lang):
        r = check(form, lang)
        assert r["scam_type"] is None and r["verdict"] not in FLAGGED, (form, r["findings"])
