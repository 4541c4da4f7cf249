"""Warnings, advice and everyday look-alikes are not scripts (issue 13, false positives),
and the scripts that share their words still are.

Each generic fix has a must-not-fire case and a must-fire one, in Vietnamese with
diacritics, the same folded (no diacritics, as people type) and English. Offline, on
the bundled data.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from scanners.message import check_message, extract
from scanners.message_advice import advice_markers, mention_markers, own_login, workplace_remote
from scanners.message_view import folded_view as _view
from scanners.registry import fold_vietnamese
from scanners.url_offline import default_scanner

FLAGGED = {"suspicious", "dangerous"}


def check(text: str, lang: str) -> dict[str, Any]:
    return asyncio.run(check_message(text, default_scanner(), lang=lang))


def _forms(vi: str, en: str) -> list[tuple[str, str]]:
    return [(vi, "vi"), (fold_vietnamese(vi), "vi"), (en, "en")]


# (fix, vi, en) — benign: must not be flagged.
QUIET: list[tuple[str, str, str]] = [
    ("advice: an official body says what it never asks",
     "BHXH quận khuyến cáo: cơ quan BHXH không gọi điện, nhắn tin đề nghị người dân chuyển "
     "tiền hoặc cung cấp mã OTP để nhận trợ cấp. Chỉ làm thủ tục trên ứng dụng VssID.",
     "Social insurance advice: the agency never calls or texts asking people to transfer "
     "money or to give an OTP to receive benefits. Use the VssID app only."),
    ("advice: a warning that quotes the script's demand",
     "Cảnh báo của công an huyện: các đối tượng tự xưng cán bộ công an yêu cầu người dân "
     "chuyển tiền vào tài khoản tạm giữ. Đây là thủ đoạn lừa đảo, hãy báo ngay 113.",
     "Police warning: callers pretending to be officers ask victims to transfer money into "
     "a safe account. The police never do this. Report it to 113."),
    ("advice: 'trúng thưởng kèm phí … là lừa đảo'",
     "Ví điện tử cảnh báo: tin nhắn báo trúng thưởng kèm yêu cầu đóng phí nhận giải là lừa "
     "đảo. Chúng tôi không thu phí trao thưởng.",
     "Wallet alert: messages saying you won a prize and must pay a fee to claim it are "
     "scams."),
    ("mention: forwarded news of a scam, nothing asked",
     "Cả nhà ơi, chị Lan bị lừa mất 20 triệu vì tin nhắn giả ngân hàng, mọi người nhớ gọi "
     "cho nhau trước khi làm gì nhé.",
     "Aunt Lan lost 20 million to scammers pretending to be her bank, everyone please call "
     "each other first."),
    ("own login: typing one's ID and password into the official app",
     "Mẹ mở ứng dụng VNeID, nhập số căn cước và mật khẩu của mẹ là đăng nhập được nhé.",
     "Mum, open the VNeID app you got from the App Store and enter your ID number and your "
     "password to log in."),
    ("workplace: the office IT and a remote tool on a work computer",
     "Phòng IT nhờ chị mở TeamViewer trên máy tính công ty lúc 2h để cập nhật phần mềm kế "
     "toán.",
     "IT helpdesk: please keep AnyDesk running on your office PC tonight for the update."),
    ("'khi chuyển tiền' names an occasion",
     "Ngân hàng thông báo: từ 01/07 khách hàng xác thực khuôn mặt khi chuyển tiền trên 10 "
     "triệu, thực hiện trên ứng dụng của ngân hàng.",
     "From July, customers verify their face when you transfer money over 10 million in the "
     "bank's app."),
    ("sending a CV is not paying",
     "Trung tâm tuyển giáo viên part-time buổi tối, gửi CV cho phòng nhân sự trước 15/12.",
     "We are hiring part-time tutors. Send your CV to the HR office by Friday."),
]

# (fix, scam_type or None, vi, en) — scams: must be flagged.
FIRE: list[tuple[str, str | None, str, str]] = [
    ("advice words, but the sender speaks as an official and asks for money",
     "police_impersonation",
     "Cảnh giác! Số của anh đang bị kẻ gian lợi dụng. Tôi là cán bộ điều tra, anh chuyển số "
     "dư sang tài khoản an toàn do tôi cung cấp để bảo vệ tiền.",
     "Beware: criminals are using your number. I am an investigator from the police, transfer "
     "your savings to the safe account I give you today."),
    ("scam words in a recovery offer",
     "recovery_scam",
     "Bạn bị lừa đảo qua mạng? Đội ngũ luật sư của chúng tôi lấy lại tiền trong 48 giờ, "
     "đóng phí hồ sơ 2 triệu để bắt đầu.",
     "Scammed online? Our recovery agents get your money back from the scammers. Pay the "
     "case fee and we start today."),
    ("login on a link nobody vouches for",
     None,
     "Tài khoản VNeID sắp bị khóa, đăng nhập tại vneid-dongbo-muc2.site, nhập số căn cước "
     "và mật khẩu để giữ tài khoản.",
     "Your VNeID account will be locked: log in at vneid-sync-level2.site and enter your ID "
     "number and password."),
    ("a remote tool on the phone for 'the bank's IT'",
     "remote_control_app",
     "Em bên IT của ngân hàng, tài khoản chị bị lỗi, chị cài AnyDesk trên điện thoại rồi đọc "
     "mã cho em.",
     "I'm from your bank's IT team. Install AnyDesk on your phone and tell me the code."),
    ("a secrecy order does not negate the transfer",
     "police_impersonation",
     "Đây là công an tỉnh, tài khoản của bà liên quan đường dây rửa tiền. Bà không được nói "
     "với ai, chuyển toàn bộ tiền tiết kiệm vào tài khoản do cơ quan điều tra chỉ định.",
     "This is the provincial police. Your account is linked to money laundering. Do not tell "
     "anyone, transfer your savings to the holding account the investigator gives you."),
    ("an amount with commas before the fee",
     "prize_fee",
     "Chúc mừng bạn trúng thưởng xe máy trong chương trình tri ân, nộp thuế 2.500.000đ vào "
     "tài khoản ban tổ chức để nhận giải.",
     "You were selected in the anniversary draw and won a motorbike! Pay the 2,500,000 VND "
     "tax to receive it."),
]

QUIET_CASES = [(fix, text, lang) for fix, vi, en in QUIET for text, lang in _forms(vi, en)]
FIRE_CASES = [(fix, st, text, lang) for fix, st, vi, en in FIRE
              for text, lang in _forms(vi, en)]


@pytest.mark.parametrize(("fix", "text", "lang"), QUIET_CASES,
                         ids=[f"quiet-{i}" for i in range(len(QUIET_CASES))])
def test_look_alike_is_not_flagged(fix: str, text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["verdict"] not in FLAGGED, (fix, text, r["findings"])
    assert r["scam_type"] is None, (fix, text, r["findings"])


@pytest.mark.parametrize(("fix", "scam_type", "text", "lang"), FIRE_CASES,
                         ids=[f"fire-{i}" for i in range(len(FIRE_CASES))])
def test_script_is_still_flagged(fix: str, scam_type: str | None, text: str,
                                 lang: str) -> None:
    r = check(text, lang)
    assert r["verdict"] == "dangerous", (fix, text, r["risk_score"], r["findings"])
    if scam_type is not None:
        assert r["scam_type"] == scam_type, (fix, text, r["findings"])
    assert "MSG-CTX-001" not in {f["rule_id"] for f in r["findings"]}


def test_a_warning_says_why_in_its_evidence() -> None:
    r = check("Công an khuyến cáo: không cung cấp mã OTP, không chuyển tiền cho người lạ.",
              "vi")
    ctx = [f for f in r["findings"] if f["rule_id"] == "MSG-CTX-001"]
    assert ctx and "khuyen cao" in ctx[0]["evidence"]["markers"]
    assert r["risk_score"] == 0


def test_alert_is_advice_only_beside_a_scam_word() -> None:
    # "Cảnh báo bảo mật" opens scripts too.
    assert advice_markers(_view("Cảnh báo bảo mật: tài khoản bị khóa").text) == []
    assert "canh bao" in advice_markers(_view("Cảnh báo lừa đảo qua tin nhắn").text)


def test_mentions_are_dropped_when_a_service_is_offered() -> None:
    assert mention_markers(_view("Chị Hoa bị lừa qua mạng").text)
    assert mention_markers(_view("Bị lừa? Chúng tôi hỗ trợ lấy lại tiền").text) == []


def test_own_login_needs_the_typing_verb() -> None:
    clause = "mo app vneid, nhap mat khau la dang nhap duoc"
    assert own_login("nhap mat khau", clause)
    assert not own_login("gui mat khau", clause)  # handing it over, not typing it


def test_workplace_needs_both_a_work_computer_and_the_it() -> None:
    assert workplace_remote(_view("Anh IT cài UltraViewer trên máy tính văn phòng").text)
    assert not workplace_remote(_view("Anh IT ngân hàng, chị cài UltraViewer trên điện "
                                      "thoại").text)


def test_login_signals_count_beside_an_unknown_link() -> None:
    ex = extract("Nhập số căn cước và mật khẩu để đăng nhập tại vneid-dongbo.site")
    notes = {s.note for s in ex.signals if s.rule_id in ("MSG-DATA-001", "MSG-DATA-002")}
    assert notes == {"login"}
    r = check("Nhập số căn cước và mật khẩu để đăng nhập tại vneid-dongbo.site", "vi")
    assert {"MSG-DATA-001", "MSG-DATA-002"} <= {f["rule_id"] for f in r["findings"]}


@pytest.mark.parametrize(("text", "lang"), [
    # A bill paid through the body's own app or official site.
    ("EVNHCMC: Tiền điện kỳ 11 của quý khách là 512.000đ. Vui lòng thanh toán trước 20/12 qua "
     "ứng dụng EVNHCMC CSKH hoặc tại https://www.evnhcmc.vn.", "vi"),
    ("EVNHCMC: Tien dien ky 11 cua quy khach la 512.000d. Vui long thanh toan truoc 20/12 qua "
     "ung dung EVNHCMC CSKH hoac tai https://www.evnhcmc.vn.", "vi"),
    ("Tax office: please file and pay your tax before 30/01 at https://thuedientu.gdt.gov.vn.",
     "en"),
    # Cash when the parcel arrives.
    ("VNPost: Quý khách vui lòng thanh toán cước 25.000đ khi nhận bưu phẩm EB123VN.", "vi"),
    # A sender's own site that no list knows yet: not a stranger's link.
    ("Viettel: Thuê bao của quý khách còn nợ cước 120.000đ, vui lòng thanh toán trước 10/12 để "
     "tránh bị tạm ngưng dịch vụ. Thanh toán tại https://viettel.vn/thanh-toan", "vi"),
])
def test_a_bill_through_an_official_channel_is_not_a_money_ask(text: str, lang: str) -> None:
    r = check(text, lang)
    assert r["verdict"] not in FLAGGED, r["findings"]
    assert r["scam_type"] is None, r["findings"]


@pytest.mark.parametrize(("text", "lang", "scam_type"), [
    # The app is the channel, but the money goes to an account the message gives.
    ("Điện lực thông báo nhà anh nợ tiền điện, anh thanh toán ngay qua ứng dụng ngân hàng vào "
     "số tài khoản 0123456789 để tránh cắt điện.", "vi", "evn_cutoff"),
    ("Dien luc thong bao nha anh no tien dien, anh thanh toan ngay qua ung dung ngan hang vao "
     "so tai khoan 0123456789 de tranh cat dien.", "vi", "evn_cutoff"),
    # A fee to get something is a scam whatever the channel.
    ("Khoản vay 30 triệu đã duyệt, anh nộp phí bảo hiểm 2 triệu qua ứng dụng VayNhanh để giải "
     "ngân.", "vi", "online_loan"),
    ("Your prize is ready. Pay the processing fee via our app to receive it.", "en",
     "prize_fee"),
])
def test_an_account_or_a_fee_is_still_a_money_ask(text: str, lang: str, scam_type: str) -> None:
    r = check(text, lang)
    assert r["verdict"] == "dangerous", r["findings"]
    assert r["scam_type"] == scam_type, r["findings"]


@pytest.mark.parametrize(("text", "lang"), [
    # A relative in an emergency, money to an account number.
    ("Cháu chào bác, anh Tuấn con bác bị tai nạn đang cấp cứu, cần đóng ngay 15 triệu viện "
     "phí, bác chuyển vào số tài khoản 190333222111 giúp cháu.", "vi"),
    ("Chau chao bac, anh Tuan con bac bi tai nan dang cap cuu, can dong ngay 15 trieu vien "
     "phi, bac chuyen vao so tai khoan 190333222111 giup chau.", "vi"),
    # A voucher that costs a fee.
    ("Chị được chọn nhận voucher nghỉ dưỡng miễn phí, chị chỉ cần đóng 1,5 triệu phí giữ "
     "chỗ.", "vi"),
    # Logging in at a link nobody vouches for, behind a refund lure.
    ("Quý khách được hoàn tiền cước 500.000đ. Vui lòng đăng nhập tại viettel-hoantien.com để "
     "nhận.", "vi"),
    ("You are due a refund. Please log in at refund-telco-vn.com to receive it.", "en"),
    # Money "earned online" after a top-up.
    ("Ban oi app kiem tien online, moi ngay xem quang cao duoc 200k, nap 500k de mo khoa cap "
     "VIP nhe.", "vi"),
])
def test_fresh_scripts_are_flagged(text: str, lang: str) -> None:
    assert check(text, lang)["verdict"] in FLAGGED


@pytest.mark.parametrize(("text", "lang"), [
    ("Anh ơi bố bị tai nạn nhẹ đang nằm ở bệnh viện, không sao đâu, chiều anh qua thăm bố "
     "nhé.", "vi"),
    ("Highlands tặng voucher giảm 20% cho đơn từ 2 ly, áp dụng đến 31/12 tại mọi cửa hàng.",
     "vi"),
    ("Shopee: Quý khách được hoàn tiền 150.000đ cho đơn hàng bị hủy, tiền sẽ về ví ShopeePay.",
     "vi"),
    ("Bac dang nhap vao ung dung VNeID bang so can cuoc roi bam vao muc Thong tin cu tru.",
     "vi"),
    ("Please log in to the company portal to submit your leave request before Friday.", "en"),
    ("Quán cơm tuyển phụ bếp, không cần kinh nghiệm, lương 250k/ngày. Liên hệ chị Hoa "
     "0912 334 556.", "vi"),
])
def test_their_look_alikes_are_not(text: str, lang: str) -> None:
    assert check(text, lang)["verdict"] not in FLAGGED


@pytest.mark.parametrize(("text", "lang", "flagged"), [
    # "Returning" a mistaken transfer to another account; a friend's plain mistake is not.
    ("Bạn nhận được 3.000.000đ do chuyển nhầm. Hãy chuyển trả lại vào số tài khoản "
     "0571000234567 để tránh bị tố cáo chiếm đoạt.", "vi", True),
    ("Chị ơi lúc nãy em chuyển nhầm cho chị 500k, chị kiểm tra giúp em rồi chuyển lại em nhé.",
     "vi", False),
    # Payment details on a stranger's site behind a hold; a receipt is not.
    ("Your Netflix membership is on hold. Update your payment details at "
     "netflix-billing-help.com to keep watching.", "en", True),
    ("Netflix: Your payment for December was successful. Manage your plan in the Netflix app.",
     "en", False),
    # A daily gain with a decimal; a loan's monthly rate is not one.
    ("Cong dong dau tu Bitcoin, lai 1,5% moi ngay, tham gia bang cach nap toi thieu 200 USDT.",
     "vi", True),
    ("FE Credit: ưu đãi vay tiêu dùng lãi suất từ 1,5%/tháng. Đăng ký tại quầy giao dịch.",
     "vi", False),
])
def test_batch_three_fixes(text: str, lang: str, flagged: bool) -> None:
    assert (check(text, lang)["verdict"] in FLAGGED) is flagged


@pytest.mark.parametrize(("text", "lang", "flagged"), [
    # A rank and unit, and money into a "case account"; an officer's office hours are not.
    ("Tôi là đại úy Phạm Long, Phòng An ninh mạng. Số căn cước của anh bị dùng để lừa đảo, anh "
     "nộp 20 triệu tiền đảm bảo vào tài khoản chuyên án.", "vi", True),
    ("Toi la dai uy Pham Long, Phong An ninh mang. So can cuoc cua anh bi dung de lua dao, anh "
     "nop 20 trieu tien dam bao vao tai khoan chuyen an.", "vi", True),
    ("Đại úy Nguyễn Văn Hòa, Công an phường Láng Thượng, sẽ tiếp công dân vào sáng thứ Năm.",
     "vi", False),
    # A courier named, a fee at a stranger's site; cash on delivery is not.
    ("J&T Express: Hàng của bạn bị giữ lại do chưa thanh toán phí bảo hiểm 9.000đ. Thanh toán "
     "tại jnt-vn.help để được giao trong ngày.", "vi", True),
    ("GHN: Đơn hàng GHN77120 sẽ được giao hôm nay, vui lòng thanh toán 210.000đ tiền thu hộ "
     "cho shipper khi nhận hàng.", "vi", False),
    # A phone's battery is not a PIN.
    ("Mẹ ơi con nhắn bằng số bạn vì điện thoại con hết pin, tối con về muộn nhé.", "vi", False),
    ("You have been selected to receive a 10,000,000 VND Tet bonus from Vietcombank. Confirm "
     "your account at vcb-tet-bonus.com.", "en", True),
])
def test_batch_four_fixes(text: str, lang: str, flagged: bool) -> None:
    assert (check(text, lang)["verdict"] in FLAGGED) is flagged


@pytest.mark.parametrize(("text", "lang", "flagged"), [
    ("This is the Vietnam Immigration Department. Your passport has been flagged. Pay the "
     "12,000,000 VND bond into the account our officer provides.", "en", True),
    ("Vietnam Immigration Department: e-visa applications are only accepted at "
     "https://evisa.gov.vn. Beware of fake websites charging extra fees.", "en", False),
    ("Grandma, it's me Tom, I'm in trouble abroad and need 20 million for a lawyer. Please "
     "transfer it to my friend's account and don't tell mum.", "en", True),
    ("Grandma, I got home safely after the trip, I'll visit you on Sunday with the kids.", "en",
     False),
    ("My love, the courier says the box with 100,000 USD needs a certificate fee of 3,000 USD. "
     "Please help me pay it.", "en", True),
    ("Work from home: earn 2 million a day with simple tasks. A first deposit of 500k is "
     "needed to unlock tasks.", "en", True),
])
def test_batch_five_fixes(text: str, lang: str, flagged: bool) -> None:
    assert (check(text, lang)["verdict"] in FLAGGED) is flagged


def test_phrase_patterns_cannot_backtrack_on_separators() -> None:
    # Separators are possessive and a generic word holds no "_": a long run of
    # underscores or letters after a trigger word cannot be split many ways (it hung
    # on "send ____…" before). Speed itself is in bench/message_hostile_bench.py.
    from scanners import message_advice as a
    from scanners import message_signals as ms
    from scanners import message_types as mt
    # One builder serves every message module.
    assert vars(mt)["_rx"] is ms.rx and vars(a)["_rx"] is ms.rx
    for name, tokens, build in ((ms.__name__, ms.tokens, ms.rx),):
        p = tokens(r"send (?:\w+ ){0,2}fee|team ?viewer")
        assert r"[\s_\-]*+" in p and r"[^\W_]+[\s_\-]++" in p and r"\w+" not in p
        rx = build(r"send (?:\w+ ){0,2}fee", r"team ?viewer")
        for text in ("send the fee", "send_fee", "send the small fee", "teamviewer",
                     "team viewer", "team-viewer"):
            assert rx.search(text), (name, text)
        for text in ("send a b c fee", "sendfees"):
            assert not rx.search(text), (name, text)
