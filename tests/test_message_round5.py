"""The signals of the fifth round (issue 13, heldout7 read): the benign side first.

The false positives of the four blind sets before they were tuned on (heldout4-7, 25 in
all) were grouped by cause; the largest cause (11 of 25) was advice that quotes a
script's words while telling the reader what to refuse. Each cause here is tested as a
signal, on fresh texts written for these tests (not the held-out wording): must-not-fire
look-alikes with the model on, must-fire scripts that share their words, with the rules
alone. Vietnamese texts run with and without diacritics; English ones too. Offline,
bundled data.
"""

from __future__ import annotations

import pytest

from scanners.message_advice import advice_markers, workplace_remote
from scanners.registry import fold_vietnamese
from tests.message_checks import assert_fires, assert_quiet

# --- must not fire: the false positives' causes ------------------------------------------

QUIET: list[tuple[str, str]] = [
    # Advice that tells the reader what to refuse: "đừng tin ai…", "nếu ai gọi xưng… thì
    # cứ cúp máy", "không tham gia các nhóm…", "đừng bấm link…", "we never DM".
    ("Bố ơi, bố đừng tin ai gọi điện bảo chuyển tiền để xác minh tài khoản, cứ hỏi con "
     "trước nhé.", "vi"),
    ("Chú công an khu vực dặn: nếu có ai gọi tự xưng cán bộ điều tra đòi chuyển tiền thì cứ "
     "cúp máy rồi báo 113.", "vi"),
    ("If someone calls saying they are from the police and asks you to transfer money, just "
     "hang up and call 113.", "en"),
    ("Ngân hàng Nhà nước khuyên người dân không tham gia các nhóm Telegram hứa lợi nhuận 20% "
     "một tháng.", "vi"),
    ("Mẹ cập nhật sinh trắc học ngay trong app Vietcombank là xong, đừng bấm link lạ ai gửi "
     "qua tin nhắn nhé mẹ.", "vi"),
    ("Reminder from the parents' group moderators: we never DM anyone to ask for fees or "
     "offer refunds.", "en"),
    # A courier's own short name and site.
    ("UPS: Package 1Z88 4402 will be delivered tomorrow between 9 and 12. Track it on "
     "ups.com.", "en"),
    # A meeting's shared screen; a group admin's own warning, asking nothing.
    ("Cả nhóm vào Zoom lúc 9h nhé, Hà chia sẻ màn hình bản kế hoạch quý để mọi người góp "
     "ý.", "vi"),
    ("Mình là admin nhóm. Nhắc mọi người: ai nhắn riêng xưng admin đòi phí thì đừng chuyển "
     "tiền, báo lại cho mình.", "vi"),
    # A colleague's remote help on the office computer, through the office's IT group.
    ("Chị ơi em mở UltraViewer trên máy tính văn phòng rồi, chị rảnh vào cài giúp em máy "
     "in nhé, ID em để trong nhóm IT.", "vi"),
]


@pytest.mark.parametrize(("text", "lang"), QUIET, ids=[f"quiet-{i}" for i in range(len(QUIET))])
def test_fifth_round_look_alikes_stay_quiet(text: str, lang: str) -> None:
    assert_quiet(text, lang)


# --- must fire: scripts that share those words --------------------------------------------

FIRE: list[tuple[str | None, str, str]] = [
    # A script's "đừng tin ai, kể cả người nhà" keeps the victim alone: no advice.
    ("police_impersonation",
     "Cơ quan điều tra yêu cầu ông giữ bí mật, đừng tin ai kể cả người nhà, chuyển ngay 200 "
     "triệu vào tài khoản tạm giữ 1900 2233 4455 để chứng minh trong sạch.", "vi"),
    # The scripts' own "do not hang up" / "đừng cúp máy" is no advice.
    ("police_impersonation",
     "Đây là Cục Cảnh sát hình sự. Số căn cước của ông liên quan đường dây rửa tiền. Ông "
     "đừng cúp máy, chuyển ngay 80 triệu vào tài khoản tạm giữ 0011 2233 4455 để xác minh.",
     "vi"),
    (None,  # flagged; "this is the police" alone names no family
     "Do not trust anyone else, this is the police. Transfer your savings to the safe "
     "account 0011 2233 4455 today.", "en"),
    ("police_impersonation",
     "This is the Ministry of Public Security. Your ID is linked to a drug case. Do not hang "
     "up. Transfer your savings to the safekeeping account 5566 7788 9900 today.", "en"),
    # A short brand name on a cheap suffix is a stranger's link, not the sender's site.
    ("delivery_fee",
     "UPS: kiện hàng của bạn bị giữ do thiếu phí giao lại 18.000đ. Thanh toán tại ups.top "
     "trong hôm nay.", "vi"),
    # A bank "technician" using the office words is no office IT.
    ("remote_control_app",
     "Chào anh, em là nhân viên kỹ thuật ngân hàng. Anh cài AnyDesk lên máy tính cơ quan rồi "
     "gửi ID cho phòng IT hỗ trợ để em khóa giao dịch lạ nhé.", "vi"),
]


@pytest.mark.parametrize(("scam_type", "text", "lang"), FIRE,
                         ids=[f"fire-{i}-{t}" for i, (t, _, _) in enumerate(FIRE)])
def test_fifth_round_scripts_still_fire(scam_type: str | None, text: str, lang: str) -> None:
    assert_fires(text, lang, scam_type)


HELDOUT7_KINDS: list[tuple[str, str, str]] = [
    # The screen shared in a video call while the bank app is open (no tool named).
    ("remote_control_app",
     "Nhân viên ngân hàng: chị bật chia sẻ màn hình qua Messenger giúp em, rồi mở ứng dụng "
     "ngân hàng để em kiểm tra giao dịch lỗi nhé.", "vi"),
    ("remote_control_app",
     "Bank support here. Please share your screen on the video call, then open your banking "
     "app so I can check the failed payment.", "en"),
    # A "lawyer" or a warning group's "admin" asking money or papers, whatever scam words
    # he quotes ("kẻ gian", "cảnh báo lừa đảo").
    ("recovery_scam",
     "Chào chị, em là luật sư bên văn phòng Hòa Bình. Bên em phong tỏa được tài khoản kẻ gian "
     "và lấy lại tiền cho chị trong tuần, phí dịch vụ 2 triệu chuyển trước.", "vi"),
    ("recovery_scam",
     "Mình là admin nhóm Cảnh báo lừa đảo. Chị bị lừa bao nhiêu, gửi mình ảnh CCCD hai mặt "
     "để mình chuyển hồ sơ cho bên điều tra.", "vi"),
]


@pytest.mark.parametrize(("scam_type", "text", "lang"), HELDOUT7_KINDS,
                         ids=[f"kind-{i}-{t}" for i, (t, _, _) in enumerate(HELDOUT7_KINDS)])
def test_heldout7_miss_kinds_fire(scam_type: str, text: str, lang: str) -> None:
    assert_fires(text, lang, scam_type)


# --- the heldout7 misses, as kinds: an amount asked up front -------------------------------

MONEY: list[tuple[str, str]] = [
    # A share of the loan paid "to prove" one can repay (online loan).
    ("online_loan",
     "Hồ sơ vay 30 triệu của chị đã duyệt. Chị chuyển 15% khoản vay vào tài khoản công ty để "
     "chứng minh thu nhập, giải ngân xong hoàn lại."),
    # The tax on a prize, paid first.
    ("prize_fee",
     "Chúc mừng bạn trúng thưởng chiếc xe máy SH trị giá 80 triệu. Bạn cần nộp thuế thu nhập "
     "10% là 8 triệu trước khi nhận giải."),
    # A fee to join a "closed group" promising returns.
    ("investment",
     "Anh ơi, nhóm VIP của chuyên gia cam kết lợi nhuận 25% mỗi tháng, phí tham gia chỉ 3 "
     "triệu, anh vào sớm kẻo hết chỗ."),
]


@pytest.mark.parametrize(("scam_type", "text"), MONEY,
                         ids=[f"money-{t}" for t, _ in MONEY])
def test_an_amount_asked_up_front_is_a_money_ask(scam_type: str, text: str) -> None:
    assert_fires(text, "vi", scam_type)


def test_advice_markers_and_their_negations() -> None:
    def folded(t: str) -> str:
        return fold_vietnamese(t).lower()

    assert advice_markers(folded("Mẹ đừng tin ai gọi tới nói lấy lại tiền nhé."))
    assert advice_markers(folded("nếu có ai gọi xưng công an thì cứ cúp máy"))
    assert advice_markers("we never dm members")
    # The scripts' words: no advice.
    assert not advice_markers(folded("Ông đừng cúp máy, tôi chuyển máy cho kiểm sát viên."))
    assert not advice_markers("do not hang up, i am transferring you to the prosecutor")


def test_office_words_are_no_office_it_beside_a_bank_pretext() -> None:
    office = fold_vietnamese("Em cài TeamViewer trên máy tính công ty rồi, gửi ID vào nhóm IT "
                             "nhé anh.").lower()
    bank = fold_vietnamese("Em là nhân viên ngân hàng, anh cài TeamViewer trên máy tính công "
                           "ty rồi gửi ID cho phòng IT để khóa giao dịch.").lower()
    assert workplace_remote(office)
    assert not workplace_remote(bank)
