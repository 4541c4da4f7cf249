"""The chat-message rules (``MSG-*``) of the catalogue: data only.

Scanners that emit them: :mod:`scanners.message` (script signals, links,
combinations), :mod:`scanners.message_types` (the typology) and
:mod:`scanners.identifiers` (listed numbers). Every rule carries its ``reply``
words: the reason a chat reply gives after "Lý do: tin nhắn " / "Why: ".
"""

from __future__ import annotations

from functools import partial

from scanners.catalogue.model import (
    DANGEROUS_AT,
    MAX_SCORE,
    SUSPICIOUS_AT,
    Kind,
    Rule,
    Scope,
    Severity,
    Verdict,
    rule,
)

LINK_RULES: dict[Verdict, str] = {
    Verdict.DANGEROUS: "MSG-LINK-001",
    Verdict.SUSPICIOUS: "MSG-LINK-002",
    Verdict.NO_KNOWN_RISK: "MSG-LINK-004",
}
"""The rule a message gets for its worst link of each verdict band."""

S = Severity
_r = partial(rule, Scope.MESSAGE)

RULES: tuple[Rule, ...] = (
    # === Chat messages (MSG) ===============================================
    # --- script signals --------------------------------------------------------
    _r("MSG-IMP-001", 20, S.HIGH,
       "Tự xưng là công an hoặc cán bộ cơ quan nhà nước",
       "Claims to be the police or a government official",
       "The message names the police or a state body as its sender or authority "
       "(\"cán bộ công an\", \"Bộ Công an\", \"cơ quan thuế\", \"police officer\"), "
       "with or without diacritics. Not counted when the phrase follows \"giả danh\", "
       "\"mạo danh\" or \"impersonating\" (a warning describing the trick).",
       reply=("tự xưng là công an hoặc cán bộ nhà nước",
              "the sender claims to be the police or a government official")),
    _r("MSG-IMP-002", 10, S.LOW,
       "Tự xưng là nhân viên ngân hàng, điện lực, nhà mạng, giao hàng hoặc người thân đổi số",
       "Claims to be bank, utility, telecom or delivery staff, or a relative with a new number",
       "The message presents its sender as staff of a bank, e-wallet, power company, "
       "telecom operator or courier, or as a relative writing from a new number. Common in "
       "real notices too: weak on its own.",
       reply=("tự xưng là nhân viên ngân hàng hoặc dịch vụ",
              "the sender claims to be bank or service staff")),
    _r("MSG-URG-001", 15, S.MEDIUM,
       "Báo tài khoản có vấn đề khẩn cấp hoặc đe dọa",
       "Urgent account problem or threat",
       "The message claims an urgent problem or threat: level-2 e-ID not updated, "
       "account locked or suspended, a deadline, an investigation or money laundering.",
       reply=("báo có chuyện khẩn cấp để ép làm theo",
              "it claims something urgent to rush you")),
    _r("MSG-BAIT-001", 15, S.MEDIUM,
       "Hứa trúng thưởng, hoàn tiền, hoa hồng hay lợi nhuận cao",
       "Promises a prize, refund, commission or easy profits",
       "A lure: a prize or gift, reward points, a tax refund, a commission or daily profit "
       "percentage, \"việc nhẹ lương cao\", paid \"tasks\". Weak alone; scores with a "
       "request (MSG-COMBO-002/004/005).",
       reply=("hứa trúng thưởng, hoàn tiền hay lợi nhuận cao",
              "it promises a prize, a refund or easy profits")),
    _r("MSG-URG-002", 10, S.LOW,
       "Ép làm gấp trước hạn chót",
       "Pushes a tight deadline",
       "A deadline (\"trong vòng 24h\", \"hạn chót\", \"trước 17h hôm nay\", "
       "\"within 24 hours\"). Common in real notices: weak alone and no hook for the "
       "combination rules.",
       reply=("ép làm gấp trước hạn chót",
              "it pushes a tight deadline")),
    _r("MSG-APP-001", 20, S.MEDIUM,
       "Yêu cầu tải hoặc cài đặt ứng dụng",
       "Asks you to download or install an app",
       "An instruction to download or install an app or file (\"tải ứng dụng\", "
       "\"cài đặt\", \"tải về\", \"install the app\"), not negated (\"không cài đặt\").",
       reply=("yêu cầu cài ứng dụng",
              "it asks you to install an app")),
    _r("MSG-APP-002", 35, S.HIGH,
       "Gửi tệp cài đặt ứng dụng Android (APK)",
       "Sends an Android app file (APK)",
       "The message names an .apk file or links to one. Official apps are installed "
       "from Google Play or the App Store, never from a file sent in a chat.",
       reply=("gửi tệp cài đặt APK",
              "it sends an Android app file (APK)")),
    _r("MSG-APP-003", 35, S.HIGH,
       "Yêu cầu cấp quyền Trợ năng hoặc cài ứng dụng từ nguồn không rõ",
       "Asks to grant accessibility access or allow unknown sources",
       "An instruction to turn on accessibility (\"cấp quyền trợ năng\") or to allow "
       "installs from unknown sources: what banking trojans need to take over the phone.",
       reply=("đòi cấp quyền Trợ năng cho ứng dụng",
              "it asks you to grant accessibility access")),
    _r("MSG-APP-004", 30, S.HIGH,
       "Yêu cầu cài ứng dụng điều khiển máy từ xa",
       "Asks to install a remote-control app",
       "The message names a remote-control app (TeamViewer, AnyDesk, UltraViewer, "
       "RustDesk, AirDroid) with which a stranger takes over the phone or computer.",
       reply=("đòi cài ứng dụng điều khiển từ xa",
              "it asks you to install a remote-control app")),
    _r("MSG-DATA-001", 30, S.HIGH,
       "Đòi mã OTP, mật khẩu hoặc mã PIN",
       "Asks for an OTP, password or PIN",
       "A request to give, send, read out or type an OTP, password, PIN or verification "
       "code, or to log in at a link nobody vouches for. A warning not to share the code "
       "(\"không chia sẻ mã OTP\") does not count, nor typing one's own password to log in "
       "to an app when no unknown link is sent.",
       reply=("đòi mã OTP hoặc mật khẩu",
              "it asks for an OTP or password")),
    _r("MSG-DATA-002", 30, S.HIGH,
       "Đòi ảnh CCCD, video khuôn mặt hoặc thông tin định danh",
       "Asks for ID card photos, a face video or identity details",
       "A request for photos of the citizen ID card (CCCD/CMND), a face video or selfie, "
       "or the ID number, used to open accounts and pass bank face checks.",
       reply=("đòi ảnh CCCD hoặc video khuôn mặt",
              "it asks for ID card photos or a face video")),
    _r("MSG-DATA-003", 25, S.HIGH,
       "Đòi liên kết tài khoản ngân hàng hoặc thông tin thẻ",
       "Asks to link a bank account or for card details",
       "A request to link a bank account or card, or for the card number, CVV or "
       "banking login.",
       reply=("đòi liên kết tài khoản hoặc thông tin thẻ ngân hàng",
              "it asks to link your bank account or for card details")),
    _r("MSG-PAY-001", 20, S.MEDIUM,
       "Đòi đóng phí hoặc chuyển tiền",
       "Asks for a fee or a money transfer",
       "A request to pay a fee (\"phí cài đặt\", \"phí kích hoạt\", \"nộp phí\") or to "
       "transfer money, including to a \"safe\" or holding account.",
       reply=("đòi đóng phí hoặc chuyển tiền",
              "it asks for a fee or a money transfer")),
    _r("MSG-CTX-001", 0, S.INFO,
       "Tin nhắn là lời cảnh báo mô tả thủ đoạn lừa đảo",
       "The message is a warning that describes a scam",
       "The text is advice about scams (\"khuyến cáo\", \"cảnh giác\", \"giả danh\", "
       "\"thủ đoạn\", \"… không bao giờ yêu cầu\", \"… là lừa đảo\", \"beware\", "
       "\"never ask\"), unless it asks something while giving a mobile number or speaking "
       "as an official; or it only mentions a scam (\"bị lừa\", \"scammers\") and asks "
       "nothing and offers no service. It sends no unknown link or app file: its scam "
       "phrases are quoted, not instructions, so they add no points "
       "(scanners/message_advice.py). Adds no points.",
       reply=("là lời cảnh báo mô tả thủ đoạn lừa đảo",
              "it is a warning that describes a scam")),
    # --- links in the message --------------------------------------------------
    # The three link rules (LINK_RULES) score exactly a link's verdict band: a finding
    # inherits the link's own score (Rule.inherits), and ``points`` is the band's top.
    _r("MSG-LINK-001", MAX_SCORE, S.CRITICAL,
       "Chứa đường link nguy hiểm",
       "Contains a dangerous link",
       "A link in the message has the verdict dangerous with the link scanner. The finding "
       "carries that link's own score "
       f"({DANGEROUS_AT}-{MAX_SCORE}; the link's findings explain it), so the "
       "message never scores below its worst link; the evidence names the link.",
       inherits=True,
       reply=("có đường link nguy hiểm (giả mạo hoặc đã bị báo lừa đảo)",
              "it contains a dangerous link (fake or reported as a scam)")),
    _r("MSG-LINK-002", DANGEROUS_AT - 1, S.HIGH,
       "Chứa đường link đáng ngờ",
       "Contains a suspicious link",
       "A link in the message has the verdict suspicious with the link scanner. The finding "
       f"carries that link's own score ({SUSPICIOUS_AT}-{DANGEROUS_AT - 1}), so the message "
       "never scores below its worst link; the evidence names the link.",
       inherits=True,
       reply=("có đường link đáng ngờ",
              "it contains a suspicious link")),
    _r("MSG-LINK-004", SUSPICIOUS_AT - 1, S.LOW,
       "Chứa đường link có dấu hiệu rủi ro nhỏ",
       "Contains a link with minor risk signs",
       f"A link in the message scores 1-{SUSPICIOUS_AT - 1} with the link scanner (for "
       "example a plain http link or a new top-level domain). The finding carries that "
       "score, so the message never scores below any link it carries.",
       inherits=True,
       reply=("có đường link có dấu hiệu rủi ro nhỏ",
              "it contains a link with minor risk signs")),
    _r("MSG-LINK-003", 40, S.HIGH,
       "Chứa đường link tới địa chỉ IP trần",
       "Contains a link to a bare IP address",
       "A link in the message goes to a literal IPv4 or IPv6 address (\"http://[2001:db8::1]/"
       "vneid.apk\") instead of a name: no bank, agency or shop sends one, and it dodges "
       "domain blocklists.",
       reply=("có đường link tới địa chỉ IP trần thay cho tên miền",
              "it contains a link to a bare IP address instead of a name")),
    # --- combinations -----------------------------------------------------------
    _r("MSG-COMBO-001", 35, S.CRITICAL,
       "Giả danh cơ quan nhà nước + bắt cài ứng dụng + gửi link/tệp lạ",
       "Poses as an authority, asks to install an app and sends a link or file",
       "Official impersonation (MSG-IMP-001), an install instruction (MSG-APP-001/002) "
       "and a link that is neither official nor an app store, or an APK file: the "
       "2023-2025 fake e-ID/public-service script. Dangerous even when the link is new.",
       reply=("giả danh cơ quan nhà nước để bắt cài ứng dụng từ link hoặc tệp lạ",
              "it poses as an authority to make you install an app from an unknown link or file")),
    _r("MSG-COMBO-002", 25, S.HIGH,
       "Giả danh, dọa nạt hoặc dụ dỗ rồi đòi OTP, ảnh CCCD hay tài khoản ngân hàng",
       "Impersonation, threat or lure, then a request for OTP, ID or bank details",
       "Impersonation (MSG-IMP-*), an urgent threat (MSG-URG-001) or a lure (MSG-BAIT-001) "
       "together with a request for personal data (MSG-DATA-*).",
       reply=("dùng danh nghĩa, lời dọa hay mồi nhử để lấy OTP, ảnh CCCD hay thông tin ngân hàng",
              "it uses a fake authority, threats or a lure to get your OTP, ID or bank details")),
    _r("MSG-COMBO-003", 25, S.CRITICAL,
       "Bắt cài ứng dụng và cấp quyền điều khiển máy",
       "Install instruction plus accessibility or remote control",
       "An install instruction or APK together with an accessibility request "
       "(MSG-APP-003) or a remote-control app (MSG-APP-004): full takeover of the phone.",
       reply=("bắt cài ứng dụng rồi cấp quyền điều khiển điện thoại",
              "it asks you to install an app and hand over control of your phone")),
    _r("MSG-COMBO-004", 20, S.HIGH,
       "Giả danh, dọa nạt hoặc dụ dỗ rồi đòi tiền",
       "Impersonation, threat or lure, then a demand for money",
       "Impersonation (MSG-IMP-*), an urgent threat (MSG-URG-001) or a lure (MSG-BAIT-001) "
       "together with a fee or transfer demand (MSG-PAY-001).",
       reply=("dùng danh nghĩa, lời dọa hay mồi nhử để đòi tiền",
              "it uses a fake authority, threats or a lure to ask for money")),
    _r("MSG-COMBO-005", 25, S.HIGH,
       "Giả danh hoặc dọa nạt để dẫn tới trang web lạ",
       "Impersonation or threat pointing to an unknown website",
       "Impersonation (MSG-IMP-*) or an urgent threat (MSG-URG-001) with a link that is neither "
       "official, nor on the known-good list, nor an app store: the classic phishing SMS, "
       "scored even when the site itself is new and unlisted.",
       reply=("dùng lời dọa hay danh nghĩa người khác để dẫn tới một trang web lạ",
              "it uses threats or a fake sender to send you to an unknown site")),
    # --- scam typology (scanners/message_types.py) ----------------------------
    _r("MSG-TYPE-001", 40, S.HIGH,
       "Kịch bản giả danh công an, viện kiểm sát, tòa án",
       "Police, procuracy or court impersonation script",
       "Names the police, a procuracy, a court or an "
       "investigator, and asks to pay, hand over data, install an app, open an unknown "
       "link or call a number back, or orders the person to tell no one. Real police "
       "summon people in writing to the station; they never ask for money, apps or codes "
       "by phone or chat, nor for secrecy.",
       scam_type="police_impersonation",
       reply=("theo kịch bản giả danh công an, viện kiểm sát, tòa án",
              "it follows a police, procuracy or court impersonation script")),
    _r("MSG-TYPE-002", 40, S.HIGH,
       "Kịch bản lừa đảo VNeID, dịch vụ công, dữ liệu cư trú",
       "Fake VNeID, public-service or residence-data script",
       "Names VNeID, level-2 e-ID, the public-service portal or residence "
       "data, and asks to install, open an unknown link, pay, hand over ID photos or "
       "call back. Activation is done at the ward police station or in the official "
       "VNeID app.",
       scam_type="vneid",
       reply=("theo kịch bản lừa đảo VNeID, dịch vụ công, dữ liệu cư trú",
              "it follows a fake VNeID, public-service or residence-data script")),
    _r("MSG-TYPE-003", 40, S.HIGH,
       "Kịch bản hoàn thuế, cơ quan thuế giả",
       "Fake tax refund or tax office script",
       "Names a tax refund, the tax department or eTax, and asks to "
       "install, open an unknown link, give card details, pay or call back.",
       scam_type="tax_refund",
       reply=("theo kịch bản hoàn thuế giả",
              "it follows a fake tax refund script")),
    _r("MSG-TYPE-004", 40, S.HIGH,
       "Kịch bản hoàn tiền bảo hiểm xã hội (BHXH) giả",
       "Fake social-insurance (BHXH) refund script",
       "Names social insurance (BHXH, VssID), usually a refund or an"
       " unclaimed payment, and asks to install, open an unknown link, link a bank "
       "account, pay or add a \"staff member\" on Zalo.",
       scam_type="bhxh_refund",
       reply=("theo kịch bản hoàn tiền bảo hiểm xã hội giả",
              "it follows a fake social-insurance refund script")),
    _r("MSG-TYPE-005", 40, S.HIGH,
       "Kịch bản dọa cắt điện (giả điện lực)",
       "Fake power company cut-off script",
       "Names the power company (EVN, điện lực), a bill or a cut-off,"
       " and asks to pay through a link, install an app, call back or allow remote "
       "access.",
       scam_type="evn_cutoff",
       reply=("theo kịch bản dọa cắt điện",
              "it follows a fake power cut-off script")),
    _r("MSG-TYPE-006", 40, S.HIGH,
       "Kịch bản nâng hạn mức thẻ, sinh trắc học, đổi thẻ ngân hàng giả",
       "Fake bank card limit, biometrics or card upgrade script",
       "Names a credit limit, biometric update, chip-card swap or bank"
       " staff, and asks for card details, an OTP, an app, an unknown link, remote "
       "access or a fee. Banks do these in their official app or at a branch.",
       scam_type="bank_card",
       reply=("theo kịch bản nâng hạn mức thẻ, sinh trắc học, đổi thẻ ngân hàng giả",
              "it follows a fake card limit, biometrics or card upgrade script")),
    _r("MSG-TYPE-007", 40, S.HIGH,
       "Kịch bản giao hàng đòi phí hoặc bồi thường giả",
       "Fake delivery fee or compensation script",
       "Names a parcel, an order or a courier, and asks to pay a "
       "fee (storage, redelivery), give data or open an unknown link; or offers "
       "\"compensation\" for a lost order.",
       scam_type="delivery_fee",
       reply=("theo kịch bản giao hàng đòi phí hoặc bồi thường giả",
              "it follows a fake delivery fee or compensation script")),
    _r("MSG-TYPE-008", 40, S.HIGH,
       "Kịch bản trúng thưởng phải đóng phí",
       "Prize that asks for a fee",
       "Announces a prize, a lucky draw or a gift, and asks to pay a "
       "fee or tax, give data or open an unknown link. A real prize is never paid for.",
       scam_type="prize_fee",
       reply=("báo trúng thưởng nhưng đòi đóng phí",
              "it announces a prize but asks for a fee")),
    _r("MSG-TYPE-009", 40, S.HIGH,
       "Kịch bản việc nhẹ lương cao, làm nhiệm vụ, cộng tác viên",
       "Job, paid-task or CTV script",
       "Offers easy work (liking, rating, fake orders, \"CTV\") for "
       "commission and asks to advance money, contact a recruiter on Zalo or Telegram, "
       "or open a link; \"việc nhẹ lương cao\", fake orders or paid tasks count on their "
       "own.",
       scam_type="job_task",
       reply=("mời việc nhẹ lương cao, làm nhiệm vụ, cộng tác viên",
              "it offers easy paid tasks or a CTV job")),
    _r("MSG-TYPE-010", 40, S.HIGH,
       "Kịch bản vay tiền online, giải ngân nhanh",
       "Online loan script",
       "Offers a fast loan (\"giải ngân 5 phút, chỉ cần CCCD\", no "
       "credit check) or a frozen loan, and asks for a fee, ID photos, an app or a "
       "contact; the fast-loan promise counts on its own.",
       scam_type="online_loan",
       reply=("mời vay tiền online, giải ngân nhanh",
              "it offers a fast online loan")),
    _r("MSG-TYPE-011", 40, S.HIGH,
       "Kịch bản đầu tư, tiền ảo, forex cam kết lợi nhuận",
       "Investment, crypto or forex with guaranteed returns",
       "Talks of investing, crypto or forex, and asks to deposit "
       "money or open a platform link; a guaranteed profit (\"cam kết lợi nhuận\", \"10% "
       "mỗi ngày\", \"never lose\") counts on its own.",
       scam_type="investment",
       reply=("mời đầu tư, tiền ảo, forex cam kết lợi nhuận",
              "it offers investments, crypto or forex with guaranteed returns")),
    _r("MSG-TYPE-012", 40, S.HIGH,
       "Người thân, bạn bè \"đổi số mới\" hỏi vay tiền",
       "Relative or friend with a new number asking for money",
       "A relative or friend writes from a new number or "
       "account (\"con đổi số mới\", \"mất Zalo cũ\", \"my new number\") and asks for money. "
       "Call them on the old number before paying.",
       scam_type="relative_new_number",
       reply=('là người thân, bạn bè "đổi số mới" hỏi vay tiền',
              'it is a relative or friend with a new number asking for money')),
    _r("MSG-TYPE-013", 40, S.HIGH,
       "Kịch bản quà, bưu kiện từ nước ngoài bị hải quan giữ",
       "Romance or overseas parcel held at customs",
       "A parcel or gift sent from abroad (often by an online "
       "lover) is \"held at customs\", and a clearance or insurance fee must be paid.",
       scam_type="romance_parcel",
       reply=("báo có quà, bưu kiện từ nước ngoài bị hải quan giữ",
              "it claims a parcel or gift from abroad is held at customs")),
    _r("MSG-TYPE-014", 40, S.HIGH,
       "Kịch bản \"lấy lại tiền bị lừa\" (lừa đảo lần hai)",
       "\"Recovering money you lost\" (a second scam on victims)",
       "Offers to recover money lost to a scam (lawyers, hackers, "
       "\"the police\") for a fee or a deposit, or asks for bank details. Only the police "
       "and your bank handle a fraud report, free of charge.",
       scam_type="recovery_scam",
       reply=("hứa lấy lại tiền đã bị lừa",
              "it offers to recover money you lost to a scam")),
    _r("MSG-TYPE-015", 40, S.HIGH,
       "Kịch bản cài ứng dụng điều khiển máy từ xa",
       "Remote-control app script",
       "Names a remote-control app (TeamViewer, AnyDesk, "
       "UltraViewer, RustDesk, AirDroid, QuickSupport) and asks to install it, read out "
       "its code or pay: the caller then takes over the phone or computer.",
       scam_type="remote_control_app",
       reply=("bắt cài ứng dụng điều khiển máy từ xa",
              "it asks you to install a remote-control app")),
    _r("MSG-TYPE-016", 40, S.HIGH,
       "Gửi ứng dụng qua kho tệp, Google Drive, Telegram",
       "App sent through a file host, cloud drive or Telegram",
       "An app to install (an install instruction or an .apk) is "
       "offered through a file host or cloud drive (Mediafire, Google Drive, Dropbox, "
       "Telegram files, OneDrive, Mega), where scammers host banking trojans.",
       scam_type="apk_file_host",
       reply=("gửi ứng dụng qua kho tệp, Google Drive hoặc Telegram",
              "it sends an app through a file host, cloud drive or Telegram")),
    _r("MSG-TYPE-017", 40, S.HIGH,
       "Nhóm Zalo, Telegram \"hỗ trợ\" định danh, sinh trắc học, lấy lại tiền",
       "Zalo or Telegram group offering \"support\"",
       "Invites to a Zalo or Telegram group (or links to one) that"
       " offers to activate level-2 e-ID, update bank biometrics or recover money on "
       "your behalf.",
       scam_type="support_group",
       reply=('mời vào nhóm Zalo, Telegram "hỗ trợ"',
              'it invites you to a Zalo or Telegram "support" group')),
    _r("MSG-COMBO-006", 30, S.CRITICAL,
       "Kịch bản lừa đảo đã biết + đòi tiền, mã, ứng dụng hoặc gửi link lạ",
       "Known scam script asking for money, a code, an app or an unknown link",
       "A typology rule (MSG-TYPE-*) matched and the message also asks to pay, hand over a "
       "code, ID or card data, install an app or remote control, or sends a link nobody "
       "vouches for: the script has reached the step where the person loses money.",
       reply=("theo kịch bản lừa đảo đã biết và đòi tiền, mã, cài ứng dụng hoặc gửi link lạ",
              "it follows a known scam script and asks for money, a code, an app or sends "
              "an unknown link")),
    # --- the learned model (scanners/message_model.py) --------------------------
    _r("MSG-ML-001", 40, S.HIGH,
       "Mô hình học máy: tin nhắn rất giống các tin nhắn lừa đảo đã biết",
       "Learned model: the message reads much like known scam messages",
       "A logistic regression over the words and character n-grams of the folded text and "
       "the rules that already fired (trained by eval/train_message_model.py on the tuning "
       "message sets) gives a probability in its high band, chosen by cross-validation on "
       "the training messages so that, together with the rules, few benign messages are "
       "flagged. It only adds points, never makes a message calmer. The evidence names the "
       "words and rules that drove the score.",
       reply=("viết rất giống các tin lừa đảo đã biết",
              "it is worded much like known scam messages")),
    _r("MSG-ML-002", 20, S.MEDIUM,
       "Mô hình học máy: tin nhắn khá giống các tin nhắn lừa đảo",
       "Learned model: the message reads somewhat like scam messages",
       "The same model as MSG-ML-001 in its medium band: weak alone, it flags a message "
       "only together with rules that already found something. The evidence names the "
       "words and rules that drove the score.",
       reply=("viết giống các tin lừa đảo",
              "it is worded like scam messages")),
    # --- identifiers on the analysts' lists (scanners/identifiers.py) ----------
    _r("MSG-ID-001", 70, S.CRITICAL,
       "Số điện thoại nằm trong danh sách lừa đảo",
       "Phone number on the scam list",
       "A phone number in the message is on the analysts' list (list kind `phone`, action "
       "block): a number already reported for scams. The evidence names the number and the "
       "analyst entry (id, note, who added it).",
       Kind.BLOCKLIST,
       reply=("có số điện thoại đã bị báo lừa đảo",
              "it contains a phone number already reported for scams")),
    _r("MSG-ID-002", 70, S.CRITICAL,
       "Số tài khoản ngân hàng nằm trong danh sách lừa đảo",
       "Bank account on the scam list",
       "A bank account number in the message (digits next to \"STK\", \"số tài khoản\", "
       "\"account\" or a bank name) is on the analysts' list (list kind `bank_account`, "
       "action block): an account already reported as receiving scam money. The evidence "
       "names the account and the analyst entry.",
       Kind.BLOCKLIST,
       reply=("có số tài khoản ngân hàng đã bị báo nhận tiền lừa đảo",
              "it contains a bank account already reported as receiving scam money")),
)
del S
