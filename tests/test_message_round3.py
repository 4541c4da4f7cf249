"""The signals of the third round (issue 13, heldout5 read): what makes a real notice,
warning or family chat benign, and the scripts heldout5 showed the rules missing.

Each cause is tested as a signal, on fresh texts written for these tests (not the
heldout5 wording): must-not-fire look-alikes with the model on, must-fire scripts with
the rules alone. Vietnamese texts run with and without diacritics; English ones too.
Offline, bundled data.
"""

from __future__ import annotations

import pytest

from scanners.message_advice import advice_markers, everyday_remote
from scanners.registry import fold_vietnamese
from tests.message_checks import assert_fires, assert_quiet

# --- must not fire: the false positives' causes ------------------------------------------

QUIET: list[tuple[str, str]] = [
    # A salary or refund already paid into a payroll account asks for nothing.
    ("HR note: your overtime for October, 2,350,000 VND, went into your payroll account "
     "with this month's salary, as the tax rules require.", "en"),
    # The sender says what it never does, and where its real contact is printed.
    ("Cấp nước Gia Định lưu ý: công ty không nhắn tin yêu cầu khách hàng chuyển khoản tiền "
     "nước hay cài phần mềm. Cần hỏi gì xin gọi số tổng đài ghi trên hóa đơn.", "vi"),
    ("Reminder from City Water: we never text customers asking them to pay into a personal "
     "account. Call the number printed on your bill if in doubt.", "en"),
    # A firm says it recruits nowhere but on its own site.
    ("Tiki thông báo: Tiki không tuyển người làm nhiệm vụ đánh giá sản phẩm qua Telegram. "
     "Tin tuyển dụng chỉ đăng tại trang tuyển dụng chính thức của công ty.", "vi"),
    ("Lazada does not recruit people on Telegram to rate products. Job offers are posted "
     "only on our official careers page.", "en"),
    # A friend's verdict on a task job, after the reader asked whether it is real.
    ("Em: Chị ơi nhận việc thả tim sản phẩm có lương không ạ?\nChị Hoa: Lừa đấy em, đầu "
     "tiên cho ít tiền rồi bắt nạp tiền làm nhiệm vụ, em đừng tham gia.", "vi"),
    # Advice between friends: "if you see a group promising …, stay out".
    ("Mấy đứa gặp nhóm tiền ảo nào hứa lợi nhuận 20% mỗi tuần thì đừng tham gia nha, cứ "
     "gửi tiết kiệm ngân hàng cho chắc.", "vi"),
    # A second scam on a victim, named so by a friend who sends her to the police.
    ("Chị bị lừa mất 15 triệu, giờ có người hứa lấy lại tiền nếu nộp phí 2 triệu.\nBạn: "
     "Đó là lừa lần hai chị ơi, mai em đưa chị lên công an phường trình báo.", "vi"),
    # The writer lets a friend onto his own machine to help him.
    ("Ê tao mở TeamViewer rồi đấy, để mày chỉnh lại cái bảng lương giúp tao, ID với mật "
     "khẩu tao nhắn ở dưới.", "vi"),
    ("I've opened AnyDesk on my laptop so you can fix the printer driver for me, the code "
     "is on WhatsApp.", "en"),
    # The office IT's remote tool is not a borrower's ID photo.
    ("Chị ơi em gửi anh IT ID UltraView máy công ty để anh cài lại phần mềm kế toán nhé.",
     "vi"),
    # The new signals' own look-alikes: a gift's shipping paid in the family, something
    # got back that was no scam, a group admin sending a file, a relative who was cheated
    # asking to be called back.
    ("Quà anh gửi về rồi, em chuyển khoản tiền ship 30k cho shop giúp anh nhé.", "vi"),
    ("Chị ơi máy giặt hỏng, em nhờ thợ lấy lại được hết đồ rồi, chị nhắn thợ qua Zalo "
     "0903 111 222 nhé.", "vi"),
    ("Chào mừng bạn vào nhóm phụ huynh lớp 3A, admin sẽ nhắn tin cho bạn file danh sách.",
     "vi"),
    ("Welcome to the Python Hanoi study group, an admin will message you the meetup link.",
     "en"),
    ("Mẹ ơi con bị lừa mất 2 triệu rồi, mẹ gọi lại cho con trước 9h nhé.", "vi"),
    # ... and of the family signals that make scripts with an ask dangerous.
    ("To avoid late fees, pay your power bill in the EVN app before the 25th.", "en"),
    ("Sàn chứng khoán thông báo: lệnh rút tiền bị treo do bảo trì hệ thống, quý khách vui "
     "lòng thử lại sau 17h trên ứng dụng.", "vi"),
    ("Our customer service group on Facebook answers questions about orders every weekday.",
     "en"),
    ("Ngân hàng đã truy vết tài khoản nhận tiền và đề nghị chị ra công an trình báo.", "vi"),
]


@pytest.mark.parametrize(("text", "lang"), QUIET, ids=[f"quiet-{i}" for i in range(len(QUIET))])
def test_third_round_look_alikes_stay_quiet(text: str, lang: str) -> None:
    assert_quiet(text, lang, untyped=True)


@pytest.mark.parametrize("text", [
    "Điện lực không gọi điện yêu cầu khách hàng cài ứng dụng",
    "Hãng chỉ thông báo trên trang web chính thức",
    "Số tổng đài in trên hóa đơn",
    "We only take payments through our official app",
    "Lừa đấy, đừng nghe",
    "Thấy ai mời vào sàn lãi cao thì đừng vào",
    "Đó là lừa lần 2",
])
def test_notices_and_verdicts_are_advice(text: str) -> None:
    assert advice_markers(fold_vietnamese(text).lower())


def test_only_an_own_machine_or_the_office_is_everyday_remote() -> None:
    own = fold_vietnamese("tao cài AnyDesk để mày sửa giúp tao").lower()
    assert everyday_remote(own)
    # The reader asked to install it is the script, whoever speaks.
    asked = fold_vietnamese("bác cài AnyDesk để tôi sửa giúp bác").lower()
    assert not everyday_remote(asked)


# --- must fire: the misses' causes --------------------------------------------------------

FIRE: list[tuple[str, str, str, bool]] = [
    # (scam_type, text, lang, dangerous) A call-back under a threat, to a landline, with
    # the fraud case the reader is "linked to": the police script, not a warning.
    ("police_impersonation", "Phòng Cảnh sát hình sự Công an TP thông báo: anh có liên quan "
     "đến vụ lừa đảo đang điều tra. Yêu cầu gọi lại số 0283 777 4412 trước 10h sáng mai, quá "
     "hạn sẽ bị bắt giữ.", "vi", False),
    ("police_impersonation", "District police: you are linked to a fraud case under "
     "investigation. Call back 0243 555 0198 before 3pm today or an arrest warrant will be "
     "issued.", "en", False),
    # A sweetheart's gift that only arrives once a fee is paid.
    ("romance_parcel", "Vợ yêu ơi, quà anh gửi về tới Sài Gòn rồi, bên giao hàng đòi nộp phí "
     "bảo hiểm 4tr5 mới giao, em ck trước giúp anh vào stk họ nha.", "vi", True),
    ("romance_parcel", "My love, the gift I sent has reached Hanoi, but the courier wants a "
     "2,000,000 VND insurance fee before delivery. Please pay it for me today.", "en", True),
    # A fellow "victim" vouching for a recoverer reached on Telegram.
    ("recovery_scam", "Anh ơi em đọc thấy anh bị lừa tiền đầu tư. Em cũng thế, nhờ chú Tâm "
     "lấy lại được toàn bộ rồi. Anh nhắn chú ấy Telegram @chu_tam_thuhoi nha.", "vi", False),
    ("recovery_scam", "I saw your post about the scam. I lost money too and got it all back "
     "thanks to Mr Long. Message him on Telegram @long_recovers, tell him I sent you.", "en",
     False),
    # A "support" group whose admin writes first.
    ("support_group", "Chào mừng bạn đến nhóm Support OKX Việt Nam. Quản trị viên sẽ nhắn "
     "tin cho bạn để xác minh tài khoản.", "vi", False),
    ("support_group", "Welcome to the MetaMask Support Asia group. An admin will DM you "
     "shortly to solve your wallet issue.", "en", False),
    # Scripts with a money ask or a link that no family named, so that they stayed
    # "suspicious": the order after "To avoid arrest," is not negated by "avoid".
    ("police_impersonation", "Hanoi police: your bank account was used to launder money. To "
     "avoid arrest, pay a 30,000,000 VND bail to account 1900 2233 4455 today.", "en", True),
    # A helper who will fix the device "remotely" through his link.
    ("remote_control_app", "Microsoft 365 admin: your account storage is corrupted. Open "
     "fixnow-office365.top and start the tool so I can repair it remotely.", "en", True),
    ("remote_control_app", "Bác vào trang suachua-dienthoai.top tải công cụ về rồi em sửa "
     "máy cho bác từ xa nhé.", "vi", True),
    # A withdrawal "stuck" on an exchange, help in a chat group for a fee.
    ("support_group", "Ai rút tiền bị khóa trên sàn thì vào nhóm tele t.me/giaicuu_rut_von "
     "để được hỗ trợ, phí chỉ 300k.", "vi", True),
    ("support_group", "Lazada Customer Support Group: join our WhatsApp group "
     "https://chat.whatsapp.com/LzRefund777 and send your card details to the admin.", "en",
     True),
    # The victim's money "traced" or "frozen", released for a fee.
    ("recovery_scam", "Bên mình đã truy vết được ví của sàn lừa đảo, tiền của chị 80 triệu "
     "đang được phong tỏa. Chị nộp phí 4 triệu để giải phóng số tiền về tài khoản.", "vi",
     True),
]


@pytest.mark.parametrize(("scam_type", "text", "lang", "dangerous"), FIRE,
                         ids=[f"{t}-{i}" for i, (t, _, _, _) in enumerate(FIRE)])
def test_third_round_signals_fire(scam_type: str, text: str, lang: str,
                                  dangerous: bool) -> None:
    assert_fires(text, lang, scam_type, dangerous=dangerous)
