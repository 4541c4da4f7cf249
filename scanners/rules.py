"""The rule catalogue: the only place where points come from.

A scanner never invents a score. It emits :class:`~scanners.findings.Finding`
values that name a rule of this catalogue by its stable id; the points, the
severity and the titles are read from here. ``GET /v1/rules`` publishes the
catalogue and ``docs/rules.md`` is generated from it
(``python -m scanners.rules > docs/rules.md``; a test keeps the two equal).

Rule ids are stable: a rule may be retuned or retired, never renumbered.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass


class Severity(enum.StrEnum):
    """How bad a finding is on its own, independent of its points."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Kind(enum.StrEnum):
    """What a rule does to the aggregate."""

    RISK = "risk"
    """Adds its points to the score; an allowlist rule may suppress it."""
    BLOCKLIST = "blocklist"
    """Adds its points; never suppressed (an official site can be compromised)."""
    ALLOWLIST = "allowlist"
    """Adds nothing; zeroes the suppressible rules it names."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One entry of the catalogue."""

    id: str
    points: int
    severity: Severity
    title_vi: str
    title_en: str
    description: str
    kind: Kind = Kind.RISK
    suppressible: bool = True
    """Whether an allowlist rule zeroes this rule (always False for blocklists)."""
    official: bool = False
    """For allowlist rules: whether a match makes the verdict ``official``."""
    inherits: bool = False
    """``points`` is a ceiling: a finding carries the score of the item it reports
    (a link's own risk score), so that a message never scores below its worst link."""
    scam_type: str | None = None
    """For the chat-message typology rules: the family id reported as ``scam_type``."""

    def title(self, lang: str) -> str:
        """The title in ``lang`` (``"vi"`` or ``"en"``)."""
        return self.title_vi if lang == "vi" else self.title_en


def _r(
    id: str,
    points: int,
    severity: Severity,
    title_vi: str,
    title_en: str,
    description: str,
    kind: Kind = Kind.RISK,
    official: bool = False,
    inherits: bool = False,
    scam_type: str | None = None,
) -> Rule:
    return Rule(
        id=id,
        points=points,
        severity=severity,
        title_vi=title_vi,
        title_en=title_en,
        description=description,
        kind=kind,
        suppressible=kind is Kind.RISK,
        official=official,
        inherits=inherits,
        scam_type=scam_type,
    )


S = Severity
_RULES: tuple[Rule, ...] = (
    # --- allowlist -------------------------------------------------------
    _r("URL-OFF-001", 0, S.INFO,
       "Tên miền chính thức của cơ quan nhà nước Việt Nam",
       "Official Vietnamese government domain",
       "The host is under gov.vn, which only Vietnamese state bodies can register, "
       "or under an official government domain of the registry.",
       Kind.ALLOWLIST, official=True),
    _r("URL-OFF-002", 0, S.INFO,
       "Tên miền chính thức của ngân hàng hoặc ví điện tử",
       "Official bank or e-wallet domain",
       "The registrable domain is the official domain of a bank or e-wallet in the registry.",
       Kind.ALLOWLIST, official=True),
    _r("URL-OFF-003", 0, S.INFO,
       "Tên miền giáo dục hoặc trang Việt Nam đã biết là hợp lệ",
       "Known legitimate Vietnamese education or public site",
       "The registrable domain is under edu.vn (registered only to Vietnamese "
       "schools) or on the bundled known-good list (public services and well-known "
       "sites). It is not an official-authority verdict.",
       Kind.ALLOWLIST),
    # --- blocklists ------------------------------------------------------
    _r("URL-BL-001", 90, S.CRITICAL,
       "Nằm trong danh sách lừa đảo/giả mạo đã biết",
       "Listed as scam or phishing by a blocklist",
       "The host, its registrable domain or the URL is on a bundled blocklist, matched "
       "as the source means it (exact host, domain and subdomains, or URL prefix).",
       Kind.BLOCKLIST),
    # --- government impersonation ---------------------------------------
    _r("URL-GOV-001", 45, S.HIGH,
       "Dùng tên dịch vụ của cơ quan nhà nước trên tên miền không chính thức",
       "Uses a Vietnamese government service name outside the official domain",
       "A government brand token (dichvucong, vneid, bocongan, bhxh, vssid, gplx…) "
       "stands as a label or a hyphen-separated part of a host that is not official."),
    _r("URL-GOV-002", 40, S.HIGH,
       "Tên miền giả dạng đuôi \"gov\" của cơ quan nhà nước",
       "Imitates a government (\"gov\") name outside a real government suffix",
       "A gov-like token (gov, govn, govvn, hgov, vgovn, govt…) with a Vietnamese "
       "context (a .vn suffix, vn/viet, a Vietnamese brand or agency code, or the "
       "one-or-two-letter prefix pattern of the 2023-24 wave: hgov, tgovn) is part "
       "of a label, but the host is not under a real government suffix (gov.vn, "
       ".gov, gov.uk, gouv.fr…)."),
    _r("URL-GOV-003", 40, S.HIGH,
       "Tên dịch vụ nhà nước bị ghép lẫn vào tên miền",
       "A government service name glued into a longer label",
       "A government brand token is hidden inside a longer label "
       "(vndichvuconggov, dichvucongbaohiemxahoi)."),
    _r("URL-GOV-005", 20, S.MEDIUM,
       "Tên miền có chữ \"gov\" nhưng không thuộc cơ quan nhà nước nào",
       "Has a \"gov\" name but belongs to no government",
       "A gov-like token outside any real government suffix, without a Vietnamese "
       "context; weaker than URL-GOV-002 because such names are common abroad "
       "(yougov, egov portals)."),
    _r("URL-GOV-004", 60, S.CRITICAL,
       "Tên của trang nhà nước chính thức nhưng dưới đuôi tên miền khác",
       "An official government site's name under another suffix",
       "The registrable domain repeats the name of an official government domain "
       "under a different suffix (dichvucong.vn for dichvucong.gov.vn, vneid.com)."),
    # --- bank and e-wallet impersonation ---------------------------------
    _r("URL-BANK-001", 40, S.HIGH,
       "Dùng tên ngân hàng hoặc ví điện tử trên tên miền không chính thức",
       "Uses a bank or e-wallet name outside its official domain",
       "A bank or e-wallet brand token appears in a host outside the brand's "
       "official domains."),
    _r("URL-BANK-002", 55, S.CRITICAL,
       "Tên ngân hàng/ví điện tử chính thức nhưng dưới đuôi tên miền khác",
       "An official bank or e-wallet name under another suffix",
       "The registrable domain repeats an official bank or e-wallet domain name "
       "under a different suffix (vietcombank.xyz for vietcombank.com.vn)."),
    _r("URL-BRAND-001", 25, S.MEDIUM,
       "Dùng tên thương hiệu lớn (mua sắm, giao hàng, mạng xã hội) trên tên miền khác",
       "Uses a well-known shopping, delivery or social brand outside its domain",
       "A brand token of a platform often used as bait in Vietnamese scams (Shopee, "
       "Lazada, Tiki, AEON, Lotte, Facebook, iCloud…) appears outside its official "
       "domains. Weaker than bank impersonation: it helps, rarely decides alone."),
    # --- impersonation techniques ----------------------------------------
    _r("URL-IMP-001", 55, S.CRITICAL,
       "Ký tự đánh lừa thị giác (homoglyph) giả mạo tên chính thức",
       "Look-alike characters (homoglyphs) imitate an official name",
       "After mapping Unicode confusables to their skeleton (UTS #39) and folding "
       "Vietnamese diacritics, the host spells an official name or brand token "
       "that its raw characters do not."),
    _r("URL-IMP-002", 40, S.HIGH,
       "Tên miền sai lệch một ký tự so với tên chính thức",
       "One character away from an official name",
       "A label is one edit (insertion, deletion, substitution or transposition) away "
       "from an official brand token or official domain name (veitgov, vneld)."),
    _r("URL-IMP-003", 30, S.HIGH,
       "Trang trên nền tảng tạo web miễn phí mang tên cơ quan nhà nước/ngân hàng",
       "Page on a free hosting platform named after a government body or bank",
       "The host is a user page on a free website or subdomain platform and its "
       "user part carries a government or bank token (mojgov.weebly.com)."),
    _r("URL-IMP-004", 70, S.CRITICAL,
       "Che giấu địa chỉ thật sau tên miền chính thức (thủ thuật userinfo)",
       "Hides the real destination behind an official-looking name (userinfo trick)",
       "The URL has a user-info part before '@' that looks like a domain; browsers "
       "go to the host after '@', not the one the reader sees first."),
    _r("URL-IMP-005", 40, S.HIGH,
       "Tên miền có ký tự Unicode (IDN) giả làm tên miền chính thức",
       "Non-ASCII (IDN) name posing as an official domain",
       "The host would be official or allowlisted (under gov.vn, edu.vn, an official "
       "bank or agency domain, or a known-good site), but one of its labels is an "
       "internationalised (punycode, xn--) label. Official Vietnamese names are ASCII, "
       "so such a host is a look-alike (e.g. a Cyrillic letter in dichvucong.gov.vn): "
       "it gets no official verdict and its findings are not zeroed."),
    # --- lexical ------------------------------------------------------------
    _r("URL-LEX-001", 10, S.LOW,
       "Đuôi tên miền thường bị lạm dụng",
       "Frequently abused top-level domain",
       "The public suffix is on the list of frequently abused or free TLDs."),
    _r("URL-LEX-002", 15, S.LOW,
       "Liên kết rút gọn che giấu đích đến",
       "Shortened link hides its destination",
       "The host is a URL shortener; the destination is unknown until the link is expanded."),
    _r("URL-LEX-003", 10, S.LOW,
       "Trang con trên nền tảng ai cũng tạo được",
       "Subdomain on a platform where anyone can create a site",
       "The host is a user subdomain of a free hosting, site-builder or file platform."),
    _r("URL-LEX-004", 30, S.MEDIUM,
       "Liên kết dùng địa chỉ IP thay cho tên miền",
       "Link uses a raw IP address instead of a name",
       "The host is an IP literal (including decimal, hex or octal forms)."),
    _r("URL-LEX-005", 10, S.LOW,
       "Quá nhiều tên miền con",
       "Unusually deep subdomains",
       "Four or more labels stand below the registrable domain."),
    _r("URL-LEX-006", 10, S.LOW,
       "Tên miền có nhiều dấu gạch ngang hoặc chữ số",
       "Many hyphens or digits in the name",
       "The registrable label has three or more hyphens, or five or more digits."),
    _r("URL-LEX-007", 10, S.LOW,
       "Dùng cổng không chuẩn",
       "Non-standard port",
       "The URL names a port other than 80 and 443."),
    _r("URL-LEX-008", 5, S.LOW,
       "Liên kết không mã hóa (http)",
       "Plain http link",
       "The URL explicitly uses http, so anything typed into the page travels unencrypted."),
    _r("URL-LEX-009", 20, S.MEDIUM,
       "Chứa từ ngữ thường gặp trong tên miền lừa đảo",
       "Contains words common in Vietnamese scam domains",
       "A label contains words that are far more frequent in Vietnamese scam domains "
       "than in legitimate ones (chamsockhachhang, uudai, nangcap, hotro…), learned "
       "from the bundled scam lists against benign lists."),
    _r("URL-LEX-010", 30, S.MEDIUM,
       "Giả các phần của địa chỉ web ở giữa tên miền (com-, www-, http-)",
       "Fake URL parts inside the host (com-, www-, http-)",
       "A label below the real suffix pretends to be a TLD or a URL prefix "
       "(facebook.c0m.ltd, usps.com-tracking.vip, www-icloud.com, http-icloud.com), "
       "so that a reader stops reading too early."),
    _r("URL-LEX-011", 20, S.MEDIUM,
       "Nhiều từ ngữ lừa đảo cùng lúc trong tên miền",
       "Several scam words together in the name",
       "Two or more distinct words of the scam vocabulary (URL-LEX-009) appear in the "
       "host (nang-hang-tin-dung-ca-nhan). Adds to URL-LEX-009."),
    # --- live: domain age (RDAP / WHOIS) -----------------------------------
    _r("URL-AGE-001", 45, S.HIGH,
       "Tên miền mới đăng ký dưới 7 ngày",
       "Domain registered less than 7 days ago",
       "RDAP or WHOIS gives a registration date less than 7 days before the scan. "
       "Scam sites are used within days of registration."),
    _r("URL-AGE-002", 30, S.MEDIUM,
       "Tên miền mới đăng ký dưới 30 ngày",
       "Domain registered less than 30 days ago",
       "RDAP or WHOIS gives a registration date 7 to 30 days before the scan."),
    _r("URL-AGE-003", 15, S.LOW,
       "Tên miền đăng ký dưới 6 tháng",
       "Domain registered less than 6 months ago",
       "RDAP or WHOIS gives a registration date 30 to 180 days before the scan."),
    # --- live: fetch --------------------------------------------------------
    _r("URL-NET-000", 0, S.INFO,
       "Đã truy cập liên kết (chuỗi chuyển hướng)",
       "Link was fetched (redirect chain)",
       "The live check followed the link; the evidence lists every hop with its "
       "status and the address connected to. Adds no points."),
    _r("URL-NET-001", 30, S.MEDIUM,
       "Liên kết trỏ tới địa chỉ nội bộ (không được truy cập)",
       "Points to an internal address (not fetched)",
       "A hop resolves to a loopback, private, link-local, CGNAT, multicast, reserved "
       "or cloud-metadata address. scamscan refuses to fetch it; a public link that "
       "leads there is either broken or an attack."),
    _r("URL-NET-002", 30, S.MEDIUM,
       "Trang web chuyển hướng tới địa chỉ sai định dạng (dấu hiệu né tránh kiểm tra)",
       "The site redirects to a malformed address (a sign of evasion)",
       "A hop answered a redirect (HTTP Location, Refresh header, meta refresh or a "
       "script redirect) whose target no browser-conformant (WHATWG) URL parser accepts, "
       "or that is no valid host name: an unterminated IPv6 literal, an empty punycode "
       "label. Honest servers do not send these; scam sites use them to make link "
       "checkers fail. The chain is not followed further (the live check is incomplete)."),
    _r("URL-RED-001", 10, S.LOW,
       "Chuyển hướng qua nhiều tên miền khác nhau",
       "Redirects through other domains",
       "Following the link crosses to another registrable domain (HTTP redirects, "
       "meta refresh or a script redirect); each hop is scanned and the worst counts."),
    _r("URL-DL-001", 50, S.HIGH,
       "Liên kết tải về tệp cài đặt ứng dụng Android (APK)",
       "Link downloads an Android app file (APK)",
       "A hop serves an APK, recognised by Content-Type, Content-Disposition, an .apk "
       "path or the ZIP/APK magic. Official apps come from the app stores, not links."),
    _r("URL-PAGE-001", 35, S.HIGH,
       "Trang dùng danh nghĩa cơ quan nhà nước nhưng không phải trang chính thức",
       "Page uses government branding but is not an official site",
       "The page text names Vietnamese government services (Cổng Dịch vụ công, Bộ "
       "Công an, VNeID, Cơ sở dữ liệu quốc gia về dân cư) on a non-official domain."),
    _r("URL-PAGE-002", 35, S.HIGH,
       "Trang đòi số CCCD, mã OTP hoặc thông tin thẻ ngân hàng",
       "Page asks for an ID number, OTP or bank card details",
       "A form on a non-official domain asks for a citizen ID (CCCD) number, a "
       "one-time password or card number, expiry or CVV."),
    _r("URL-PAGE-003", 25, S.MEDIUM,
       "Trang giục tải và cài đặt ứng dụng",
       "Page urges you to download and install an app",
       "The page text prompts to download or install an app (\"tải ứng dụng\", "
       "\"cài đặt\") on a non-official domain."),
    _r("URL-PAGE-004", 50, S.HIGH,
       "Trang giả mạo cửa hàng Google Play",
       "Fake Google Play page",
       "The page imitates Google Play (its name, layout words or assets) but is not "
       "served from play.google.com."),
    _r("URL-PAGE-005", 10, S.LOW,
       "Trang có ô nhập mật khẩu",
       "Page asks for a password",
       "A form with a password field on a domain that is not official."),
    _r("URL-TLS-001", 30, S.MEDIUM,
       "Chứng chỉ bảo mật (TLS) không hợp lệ",
       "Invalid TLS certificate",
       "The HTTPS certificate failed verification (expired, self-signed, wrong "
       "name or untrusted issuer)."),
    _r("URL-TLS-002", 25, S.MEDIUM,
       "Trang đăng nhập không mã hóa (http)",
       "Login form over plain http",
       "A form asking for a password or personal data is served over plain http."),
    # --- input tricks ------------------------------------------------------
    _r("URL-INP-001", 0, S.INFO,
       "Liên kết đã bị làm nhiễu (hxxp, [.], khoảng trắng…)",
       "Obfuscated link was decoded (hxxp, [.], spaces…)",
       "The input was written in an obfuscated form and was decoded before analysis. "
       "Defanged links are common in warnings, so this adds no points."),
    # === Chat messages (MSG) ===============================================
    # --- script signals --------------------------------------------------------
    _r("MSG-IMP-001", 20, S.HIGH,
       "Tự xưng là công an hoặc cán bộ cơ quan nhà nước",
       "Claims to be the police or a government official",
       "The message names the police or a state body as its sender or authority "
       "(\"cán bộ công an\", \"Bộ Công an\", \"cơ quan thuế\", \"police officer\"), "
       "with or without diacritics. Not counted when the phrase follows \"giả danh\", "
       "\"mạo danh\" or \"impersonating\" (a warning describing the trick)."),
    _r("MSG-IMP-002", 10, S.LOW,
       "Tự xưng là nhân viên ngân hàng, điện lực, nhà mạng, giao hàng hoặc người thân đổi số",
       "Claims to be bank, utility, telecom or delivery staff, or a relative with a new number",
       "The message presents its sender as staff of a bank, e-wallet, power company, "
       "telecom operator or courier, or as a relative writing from a new number. Common in "
       "real notices too: weak on its own."),
    _r("MSG-URG-001", 15, S.MEDIUM,
       "Báo tài khoản có vấn đề khẩn cấp hoặc đe dọa",
       "Urgent account problem or threat",
       "The message claims an urgent problem or threat: level-2 e-ID not updated, "
       "account locked or suspended, a deadline, an investigation or money laundering."),
    _r("MSG-BAIT-001", 15, S.MEDIUM,
       "Hứa trúng thưởng, hoàn tiền, hoa hồng hay lợi nhuận cao",
       "Promises a prize, refund, commission or easy profits",
       "A lure: a prize or gift, reward points, a tax refund, a commission or daily profit "
       "percentage, \"việc nhẹ lương cao\", paid \"tasks\". Weak alone; scores with a "
       "request (MSG-COMBO-002/004/005)."),
    _r("MSG-URG-002", 10, S.LOW,
       "Ép làm gấp trước hạn chót",
       "Pushes a tight deadline",
       "A deadline (\"trong vòng 24h\", \"hạn chót\", \"trước 17h hôm nay\", "
       "\"within 24 hours\"). Common in real notices: weak alone and no hook for the "
       "combination rules."),
    _r("MSG-APP-001", 20, S.MEDIUM,
       "Yêu cầu tải hoặc cài đặt ứng dụng",
       "Asks you to download or install an app",
       "An instruction to download or install an app or file (\"tải ứng dụng\", "
       "\"cài đặt\", \"tải về\", \"install the app\"), not negated (\"không cài đặt\")."),
    _r("MSG-APP-002", 35, S.HIGH,
       "Gửi tệp cài đặt ứng dụng Android (APK)",
       "Sends an Android app file (APK)",
       "The message names an .apk file or links to one. Official apps are installed "
       "from Google Play or the App Store, never from a file sent in a chat."),
    _r("MSG-APP-003", 35, S.HIGH,
       "Yêu cầu cấp quyền Trợ năng hoặc cài ứng dụng từ nguồn không rõ",
       "Asks to grant accessibility access or allow unknown sources",
       "An instruction to turn on accessibility (\"cấp quyền trợ năng\") or to allow "
       "installs from unknown sources: what banking trojans need to take over the phone."),
    _r("MSG-APP-004", 30, S.HIGH,
       "Yêu cầu cài ứng dụng điều khiển máy từ xa",
       "Asks to install a remote-control app",
       "The message names a remote-control app (TeamViewer, AnyDesk, UltraViewer, "
       "RustDesk, AirDroid) with which a stranger takes over the phone or computer."),
    _r("MSG-DATA-001", 30, S.HIGH,
       "Đòi mã OTP, mật khẩu hoặc mã PIN",
       "Asks for an OTP, password or PIN",
       "A request to give, send, read out or type an OTP, password, PIN or verification "
       "code, or to log in at a link nobody vouches for. A warning not to share the code "
       "(\"không chia sẻ mã OTP\") does not count, nor typing one's own password to log in "
       "to an app when no unknown link is sent."),
    _r("MSG-DATA-002", 30, S.HIGH,
       "Đòi ảnh CCCD, video khuôn mặt hoặc thông tin định danh",
       "Asks for ID card photos, a face video or identity details",
       "A request for photos of the citizen ID card (CCCD/CMND), a face video or selfie, "
       "or the ID number, used to open accounts and pass bank face checks."),
    _r("MSG-DATA-003", 25, S.HIGH,
       "Đòi liên kết tài khoản ngân hàng hoặc thông tin thẻ",
       "Asks to link a bank account or for card details",
       "A request to link a bank account or card, or for the card number, CVV or "
       "banking login."),
    _r("MSG-PAY-001", 20, S.MEDIUM,
       "Đòi đóng phí hoặc chuyển tiền",
       "Asks for a fee or a money transfer",
       "A request to pay a fee (\"phí cài đặt\", \"phí kích hoạt\", \"nộp phí\") or to "
       "transfer money, including to a \"safe\" or holding account."),
    _r("MSG-CTX-001", 0, S.INFO,
       "Tin nhắn là lời cảnh báo mô tả thủ đoạn lừa đảo",
       "The message is a warning that describes a scam",
       "The text is advice about scams (\"khuyến cáo\", \"cảnh giác\", \"giả danh\", "
       "\"thủ đoạn\", \"… không bao giờ yêu cầu\", \"… là lừa đảo\", \"beware\", "
       "\"never ask\"), unless it asks something while giving a mobile number or speaking "
       "as an official; or it only mentions a scam (\"bị lừa\", \"scammers\") and asks "
       "nothing and offers no service. It sends no unknown link or app file: its scam "
       "phrases are quoted, not instructions, so they add no points "
       "(scanners/message_advice.py). Adds no points."),
    # --- links in the message --------------------------------------------------
    _r("MSG-LINK-001", 100, S.CRITICAL,
       "Chứa đường link nguy hiểm",
       "Contains a dangerous link",
       "A link in the message has the verdict dangerous with the link scanner. The finding "
       "carries that link's own score (70-100; the link's findings explain it), so the "
       "message never scores below its worst link; the evidence names the link.",
       inherits=True),
    _r("MSG-LINK-002", 69, S.HIGH,
       "Chứa đường link đáng ngờ",
       "Contains a suspicious link",
       "A link in the message has the verdict suspicious with the link scanner. The finding "
       "carries that link's own score (40-69), so the message never scores below its worst "
       "link; the evidence names the link.",
       inherits=True),
    _r("MSG-LINK-004", 39, S.LOW,
       "Chứa đường link có dấu hiệu rủi ro nhỏ",
       "Contains a link with minor risk signs",
       "A link in the message scores 1-39 with the link scanner (for example a plain http "
       "link or a new top-level domain). The finding carries that score, so the message "
       "never scores below any link it carries.",
       inherits=True),
    _r("MSG-LINK-003", 40, S.HIGH,
       "Chứa đường link tới địa chỉ IP trần",
       "Contains a link to a bare IP address",
       "A link in the message goes to a literal IPv4 or IPv6 address (\"http://[2001:db8::1]/"
       "vneid.apk\") instead of a name: no bank, agency or shop sends one, and it dodges "
       "domain blocklists."),
    # --- combinations -----------------------------------------------------------
    _r("MSG-COMBO-001", 35, S.CRITICAL,
       "Giả danh cơ quan nhà nước + bắt cài ứng dụng + gửi link/tệp lạ",
       "Poses as an authority, asks to install an app and sends a link or file",
       "Official impersonation (MSG-IMP-001), an install instruction (MSG-APP-001/002) "
       "and a link that is neither official nor an app store, or an APK file: the "
       "2023-2025 fake e-ID/public-service script. Dangerous even when the link is new."),
    _r("MSG-COMBO-002", 25, S.HIGH,
       "Giả danh, dọa nạt hoặc dụ dỗ rồi đòi OTP, ảnh CCCD hay tài khoản ngân hàng",
       "Impersonation, threat or lure, then a request for OTP, ID or bank details",
       "Impersonation (MSG-IMP-*), an urgent threat (MSG-URG-001) or a lure (MSG-BAIT-001) "
       "together with a request for personal data (MSG-DATA-*)."),
    _r("MSG-COMBO-003", 25, S.CRITICAL,
       "Bắt cài ứng dụng và cấp quyền điều khiển máy",
       "Install instruction plus accessibility or remote control",
       "An install instruction or APK together with an accessibility request "
       "(MSG-APP-003) or a remote-control app (MSG-APP-004): full takeover of the phone."),
    _r("MSG-COMBO-004", 20, S.HIGH,
       "Giả danh, dọa nạt hoặc dụ dỗ rồi đòi tiền",
       "Impersonation, threat or lure, then a demand for money",
       "Impersonation (MSG-IMP-*), an urgent threat (MSG-URG-001) or a lure (MSG-BAIT-001) "
       "together with a fee or transfer demand (MSG-PAY-001)."),
    _r("MSG-COMBO-005", 25, S.HIGH,
       "Giả danh hoặc dọa nạt để dẫn tới trang web lạ",
       "Impersonation or threat pointing to an unknown website",
       "Impersonation (MSG-IMP-*) or an urgent threat (MSG-URG-001) with a link that is neither "
       "official, nor on the known-good list, nor an app store: the classic phishing SMS, "
       "scored even when the site itself is new and unlisted."),
    # --- scam typology (scanners/message_types.py) ----------------------------
    _r("MSG-TYPE-001", 40, S.HIGH,
       "Kịch bản giả danh công an, viện kiểm sát, tòa án",
       "Police, procuracy or court impersonation script",
       "Names the police, a procuracy, a court or an "
       "investigator, and asks to pay, hand over data, install an app, open an unknown "
       "link or call a number back. Real police summon people in writing to the station;"
       " they never ask for money, apps or codes by phone or chat.",
       scam_type="police_impersonation"),
    _r("MSG-TYPE-002", 40, S.HIGH,
       "Kịch bản lừa đảo VNeID, dịch vụ công, dữ liệu cư trú",
       "Fake VNeID, public-service or residence-data script",
       "Names VNeID, level-2 e-ID, the public-service portal or residence "
       "data, and asks to install, open an unknown link, pay, hand over ID photos or "
       "call back. Activation is done at the ward police station or in the official "
       "VNeID app.",
       scam_type="vneid"),
    _r("MSG-TYPE-003", 40, S.HIGH,
       "Kịch bản hoàn thuế, cơ quan thuế giả",
       "Fake tax refund or tax office script",
       "Names a tax refund, the tax department or eTax, and asks to "
       "install, open an unknown link, give card details, pay or call back.",
       scam_type="tax_refund"),
    _r("MSG-TYPE-004", 40, S.HIGH,
       "Kịch bản hoàn tiền bảo hiểm xã hội (BHXH) giả",
       "Fake social-insurance (BHXH) refund script",
       "Names social insurance (BHXH, VssID), usually a refund or an"
       " unclaimed payment, and asks to install, open an unknown link, link a bank "
       "account, pay or add a \"staff member\" on Zalo.",
       scam_type="bhxh_refund"),
    _r("MSG-TYPE-005", 40, S.HIGH,
       "Kịch bản dọa cắt điện (giả điện lực)",
       "Fake power company cut-off script",
       "Names the power company (EVN, điện lực), a bill or a cut-off,"
       " and asks to pay through a link, install an app, call back or allow remote "
       "access.",
       scam_type="evn_cutoff"),
    _r("MSG-TYPE-006", 40, S.HIGH,
       "Kịch bản nâng hạn mức thẻ, sinh trắc học, đổi thẻ ngân hàng giả",
       "Fake bank card limit, biometrics or card upgrade script",
       "Names a credit limit, biometric update, chip-card swap or bank"
       " staff, and asks for card details, an OTP, an app, an unknown link, remote "
       "access or a fee. Banks do these in their official app or at a branch.",
       scam_type="bank_card"),
    _r("MSG-TYPE-007", 40, S.HIGH,
       "Kịch bản giao hàng đòi phí hoặc bồi thường giả",
       "Fake delivery fee or compensation script",
       "Names a parcel, an order or a courier, and asks to pay a "
       "fee (storage, redelivery), give data or open an unknown link; or offers "
       "\"compensation\" for a lost order.",
       scam_type="delivery_fee"),
    _r("MSG-TYPE-008", 40, S.HIGH,
       "Kịch bản trúng thưởng phải đóng phí",
       "Prize that asks for a fee",
       "Announces a prize, a lucky draw or a gift, and asks to pay a "
       "fee or tax, give data or open an unknown link. A real prize is never paid for.",
       scam_type="prize_fee"),
    _r("MSG-TYPE-009", 40, S.HIGH,
       "Kịch bản việc nhẹ lương cao, làm nhiệm vụ, cộng tác viên",
       "Job, paid-task or CTV script",
       "Offers easy work (liking, rating, fake orders, \"CTV\") for "
       "commission and asks to advance money, contact a recruiter on Zalo or Telegram, "
       "or open a link; \"việc nhẹ lương cao\", fake orders or paid tasks count on their "
       "own.",
       scam_type="job_task"),
    _r("MSG-TYPE-010", 40, S.HIGH,
       "Kịch bản vay tiền online, giải ngân nhanh",
       "Online loan script",
       "Offers a fast loan (\"giải ngân 5 phút, chỉ cần CCCD\", no "
       "credit check) or a frozen loan, and asks for a fee, ID photos, an app or a "
       "contact; the fast-loan promise counts on its own.",
       scam_type="online_loan"),
    _r("MSG-TYPE-011", 40, S.HIGH,
       "Kịch bản đầu tư, tiền ảo, forex cam kết lợi nhuận",
       "Investment, crypto or forex with guaranteed returns",
       "Talks of investing, crypto or forex, and asks to deposit "
       "money or open a platform link; a guaranteed profit (\"cam kết lợi nhuận\", \"10% "
       "mỗi ngày\", \"never lose\") counts on its own.",
       scam_type="investment"),
    _r("MSG-TYPE-012", 40, S.HIGH,
       "Người thân, bạn bè \"đổi số mới\" hỏi vay tiền",
       "Relative or friend with a new number asking for money",
       "A relative or friend writes from a new number or "
       "account (\"con đổi số mới\", \"mất Zalo cũ\", \"my new number\") and asks for money. "
       "Call them on the old number before paying.",
       scam_type="relative_new_number"),
    _r("MSG-TYPE-013", 40, S.HIGH,
       "Kịch bản quà, bưu kiện từ nước ngoài bị hải quan giữ",
       "Romance or overseas parcel held at customs",
       "A parcel or gift sent from abroad (often by an online "
       "lover) is \"held at customs\", and a clearance or insurance fee must be paid.",
       scam_type="romance_parcel"),
    _r("MSG-TYPE-014", 40, S.HIGH,
       "Kịch bản \"lấy lại tiền bị lừa\" (lừa đảo lần hai)",
       "\"Recovering money you lost\" (a second scam on victims)",
       "Offers to recover money lost to a scam (lawyers, hackers, "
       "\"the police\") for a fee or a deposit, or asks for bank details. Only the police "
       "and your bank handle a fraud report, free of charge.",
       scam_type="recovery_scam"),
    _r("MSG-TYPE-015", 40, S.HIGH,
       "Kịch bản cài ứng dụng điều khiển máy từ xa",
       "Remote-control app script",
       "Names a remote-control app (TeamViewer, AnyDesk, "
       "UltraViewer, RustDesk, AirDroid, QuickSupport) and asks to install it, read out "
       "its code or pay: the caller then takes over the phone or computer.",
       scam_type="remote_control_app"),
    _r("MSG-TYPE-016", 40, S.HIGH,
       "Gửi ứng dụng qua kho tệp, Google Drive, Telegram",
       "App sent through a file host, cloud drive or Telegram",
       "An app to install (an install instruction or an .apk) is "
       "offered through a file host or cloud drive (Mediafire, Google Drive, Dropbox, "
       "Telegram files, OneDrive, Mega), where scammers host banking trojans.",
       scam_type="apk_file_host"),
    _r("MSG-TYPE-017", 40, S.HIGH,
       "Nhóm Zalo, Telegram \"hỗ trợ\" định danh, sinh trắc học, lấy lại tiền",
       "Zalo or Telegram group offering \"support\"",
       "Invites to a Zalo or Telegram group (or links to one) that"
       " offers to activate level-2 e-ID, update bank biometrics or recover money on "
       "your behalf.",
       scam_type="support_group"),
    _r("MSG-COMBO-006", 30, S.CRITICAL,
       "Kịch bản lừa đảo đã biết + đòi tiền, mã, ứng dụng hoặc gửi link lạ",
       "Known scam script asking for money, a code, an app or an unknown link",
       "A typology rule (MSG-TYPE-*) matched and the message also asks to pay, hand over a "
       "code, ID or card data, install an app or remote control, or sends a link nobody "
       "vouches for: the script has reached the step where the person loses money."),
    # --- identifiers on the analysts' lists (scanners/identifiers.py) ----------
    _r("MSG-ID-001", 70, S.CRITICAL,
       "Số điện thoại nằm trong danh sách lừa đảo",
       "Phone number on the scam list",
       "A phone number in the message is on the analysts' list (list kind `phone`, action "
       "block): a number already reported for scams. The evidence names the number and the "
       "analyst entry (id, note, who added it).",
       Kind.BLOCKLIST),
    _r("MSG-ID-002", 70, S.CRITICAL,
       "Số tài khoản ngân hàng nằm trong danh sách lừa đảo",
       "Bank account on the scam list",
       "A bank account number in the message (digits next to \"STK\", \"số tài khoản\", "
       "\"account\" or a bank name) is on the analysts' list (list kind `bank_account`, "
       "action block): an account already reported as receiving scam money. The evidence "
       "names the account and the analyst entry.",
       Kind.BLOCKLIST),
    # === Android apps (APK) ===============================================
    # --- allowlist ----------------------------------------------------------
    _r("APK-OFF-001", 0, S.INFO,
       "Ứng dụng chính thức, đúng chữ ký của nhà phát hành",
       "Official app signed by its known publisher",
       "The package is on the official-app registry and is signed by one of the "
       "registry's known signing certificates.",
       Kind.ALLOWLIST, official=True),
    # --- blocklist ------------------------------------------------------------
    _r("APK-BL-001", 90, S.CRITICAL,
       "Ứng dụng nằm trong danh sách mã độc đã biết",
       "Known malicious app (blocklist)",
       "The file's sha256, its package name or its signing certificate is on the "
       "bundled or configured APK blocklist.",
       Kind.BLOCKLIST),
    # --- impersonation ------------------------------------------------------
    _r("APK-IMP-001", 50, S.CRITICAL,
       "Mạo danh ứng dụng chính thức (tên giống, gói khác)",
       "Impersonates an official app (same name, different package)",
       "The label claims an official government, bank or e-wallet app of the "
       "registry, but the package name is not that app's."),
    _r("APK-IMP-002", 35, S.HIGH,
       "Dùng tên gói của ứng dụng chính thức nhưng chữ ký không được xác nhận",
       "Uses an official app's package, but the signer is not a known one",
       "The package name is an official app's, and the signing certificate is not "
       "one the registry knows for it. Official apps come from the stores; a copy "
       "passed around as a file cannot be confirmed."),
    _r("APK-IMP-003", 50, S.CRITICAL,
       "Ứng dụng mang tên \"Dịch vụ công\"/\"Bộ Công an\" không phải ứng dụng chính thức",
       "Named after a government service, but not an official app",
       "The label names a Vietnamese government service (Dịch vụ công, Cổng dịch vụ "
       "công, Bộ Công an, Công an, Thuế, BHXH, EVN…) and the package is not on the "
       "registry. There is no official \"Dịch vụ công\" app: services go through VNeID."),
    _r("APK-IMP-004", 30, S.HIGH,
       "Mạo danh ứng dụng phổ biến hoặc thành phần hệ thống",
       "Poses as a well-known app or a system component",
       "The label or package claims a well-known app or Android/Google system "
       "component (Google Play, Facebook, System Service…) that it is not."),
    _r("APK-IMP-005", 30, S.HIGH,
       "Mang tên ngân hàng, ví, dịch vụ thanh toán, cơ quan nhà nước hoặc thành phần hệ "
       "thống nhưng không phải ứng dụng của họ",
       "Named after a bank, wallet, payment service, government body, telecom or system "
       "component it does not come from",
       "The label names a brand of the bundled brand list (banks, wallets, payment services, "
       "tax offices, telecoms worldwide, from the PhishTank 2018-2019 target names and the "
       "Vietnamese bank list; system and store components such as Play Protect, Flash "
       "Player, \"Güncelleme\") and the package does not carry that brand's name. The "
       "evidence names the brand, the matched words and where the brand comes from."),
    _r("APK-PKG-001", 15, S.MEDIUM,
       "Tên gói ngẫu nhiên, vô nghĩa",
       "Random, meaningless package name",
       "The package name is made of long random letter strings, as generated by "
       "malware builders to dodge blocklists."),
    _r("APK-PKG-002", 15, S.MEDIUM,
       "Tên lớp thành phần do công cụ tạo mã độc sinh ra",
       "Component class names made by a malware builder",
       "Five or more of the manifest's components (and at least a quarter of them) have "
       "class names starting with a lower-case letter (cmtstflxlxb, fIvicKhU): the shape "
       "banking-trojan builders generate. Java classes are UpperCamelCase and shrinkers "
       "keep the names of manifest classes, so ordinary apps have none or one or two."),
    # --- capabilities ----------------------------------------------------------
    _r("APK-CAP-001", 25, S.HIGH,
       "Có dịch vụ Trợ năng (Accessibility) – có thể đọc và điều khiển màn hình",
       "Declares an accessibility service: can read and control the screen",
       "A service bound with BIND_ACCESSIBILITY_SERVICE. Banking trojans ask victims "
       "to enable it, then read the screen and tap for them."),
    _r("APK-CAP-002", 15, S.HIGH,
       "Cấu hình Trợ năng cho phép đọc nội dung cửa sổ hoặc thao tác cử chỉ",
       "Accessibility config reads window content or performs gestures",
       "In at least one resource variant the accessibility config sets "
       "canRetrieveWindowContent or canPerformGestures."),
    _r("APK-CAP-003", 20, S.HIGH,
       "Đọc hoặc nhận tin nhắn SMS (có thể lấy mã OTP)",
       "Reads or receives SMS (can steal OTP codes)",
       "The app asks for READ_SMS or RECEIVE_SMS."),
    _r("APK-CAP-004", 10, S.MEDIUM,
       "Chặn tin nhắn SMS đến",
       "Intercepts incoming SMS",
       "A receiver listens for SMS_RECEIVED (its priority is in the evidence)."),
    _r("APK-CAP-005", 10, S.MEDIUM,
       "Gửi tin nhắn SMS",
       "Sends SMS",
       "The app asks for SEND_SMS or calls SmsManager to send messages."),
    _r("APK-CAP-006", 10, S.MEDIUM,
       "Vẽ đè lên ứng dụng khác (overlay)",
       "Draws over other apps (overlay)",
       "The app asks for SYSTEM_ALERT_WINDOW, used to show fake login screens."),
    _r("APK-CAP-007", 20, S.HIGH,
       "Xin quyền quản trị thiết bị (khó gỡ bỏ, có thể khóa/xóa máy)",
       "Requests device administrator rights (hard to remove, can lock or wipe)",
       "A receiver bound with BIND_DEVICE_ADMIN; the evidence lists its policies."),
    _r("APK-CAP-008", 10, S.MEDIUM,
       "Đọc mọi thông báo (có thể lấy OTP)",
       "Reads every notification (can steal OTP codes)",
       "A NotificationListenerService."),
    _r("APK-CAP-009", 5, S.LOW,
       "Có thể cài thêm ứng dụng khác",
       "Can install other apps",
       "The app asks for REQUEST_INSTALL_PACKAGES or uses PackageInstaller sessions."),
    _r("APK-CAP-010", 5, S.LOW,
       "Xem danh sách mọi ứng dụng đã cài (ví dụ ứng dụng ngân hàng)",
       "Lists every installed app (e.g. banking apps)",
       "The app asks for QUERY_ALL_PACKAGES."),
    _r("APK-CAP-011", 5, S.LOW,
       "Xin bỏ qua tối ưu pin để chạy ngầm liên tục",
       "Asks to skip battery optimisation to run in the background",
       "The app asks for REQUEST_IGNORE_BATTERY_OPTIMIZATIONS."),
    _r("APK-CAP-012", 5, S.LOW,
       "Tự chạy khi khởi động máy",
       "Starts itself when the phone boots",
       "A receiver for BOOT_COMPLETED."),
    _r("APK-CAP-013", 10, S.MEDIUM,
       "Có thể quay/chụp màn hình",
       "Can capture the screen",
       "The code uses MediaProjection (screen capture)."),
    _r("APK-CAP-014", 20, S.HIGH,
       "Ẩn biểu tượng ứng dụng sau khi cài",
       "Hides its launcher icon",
       "No enabled launcher activity: once installed the app has no icon to find "
       "and uninstall it."),
    _r("APK-CAP-015", 10, S.MEDIUM,
       "Kiểm soát cuộc gọi hoặc đọc nhật ký cuộc gọi",
       "Controls calls or reads the call log",
       "The app asks for CALL_PHONE, READ_CALL_LOG, PROCESS_OUTGOING_CALLS or "
       "ANSWER_PHONE_CALLS."),
    _r("APK-CAP-016", 15, S.HIGH,
       "Nghe lén: ghi âm, camera, danh bạ và vị trí",
       "Spyware set: microphone, camera, contacts and location",
       "The app asks for at least three of RECORD_AUDIO, CAMERA, READ_CONTACTS and "
       "a location permission together with SMS access."),
    _r("APK-CAP-020", 30, S.CRITICAL,
       "Tổ hợp của mã độc ngân hàng: Trợ năng + SMS",
       "Banking-trojan profile: accessibility and SMS together",
       "An accessibility service and SMS read/receive access in one app: the "
       "combination used to take over the phone and read bank OTPs."),
    _r("APK-CAP-021", 15, S.HIGH,
       "Trợ năng cùng quyền vẽ đè: có thể hiện màn hình đăng nhập giả",
       "Accessibility plus overlay: can show fake login screens",
       "An accessibility service and SYSTEM_ALERT_WINDOW in one app: the overlay attack of "
       "Godfather-style banking trojans (watch which app opens, draw a fake login over it)."),
    _r("APK-CAP-022", 20, S.HIGH,
       "Ẩn biểu tượng nhưng xin Trợ năng hoặc quyền quản trị",
       "Hides its icon yet asks for accessibility or device admin",
       "No launcher icon together with an accessibility service or a device-admin receiver: "
       "an app the user cannot find that controls the phone."),
    _r("APK-CAP-023", 10, S.LOW,
       "Đọc tin nhắn SMS cho một tính năng hiển thị",
       "Reads SMS for a visible feature",
       "The app reads or receives SMS, has a launcher icon and none of the capabilities that "
       "turn SMS access into account takeover (accessibility, device admin, overlay, SMS "
       "sending, installing apps): a notification reader, SMS backup or filter app. Replaces "
       "APK-CAP-003 for such apps, so that this alone never makes an app suspicious."),
    # --- code ------------------------------------------------------------------
    _r("APK-CODE-001", 10, S.MEDIUM,
       "Mã lệnh tự thao tác thay người dùng (cử chỉ, nút hệ thống)",
       "Code performs gestures or system actions for the user",
       "The DEX calls AccessibilityService.dispatchGesture or performGlobalAction."),
    _r("APK-CODE-002", 10, S.MEDIUM,
       "Mã lệnh khóa hoặc xóa dữ liệu thiết bị",
       "Code can lock or wipe the device",
       "The DEX calls DevicePolicyManager.lockNow, wipeData or resetPassword."),
    _r("APK-CODE-003", 5, S.LOW,
       "Nạp mã lệnh ẩn khi chạy",
       "Loads hidden code at run time",
       "The DEX creates a DexClassLoader or InMemoryDexClassLoader."),
    _r("APK-CODE-004", 25, S.HIGH,
       "Tự gửi tin nhắn SMS dù không phải ứng dụng nhắn tin (SMS trả phí)",
       "Sends SMS from code but is not a messaging app (premium SMS)",
       "The DEX calls SmsManager.sendTextMessage (or the multipart/data variants) and the "
       "app declares nothing the default-SMS-app role needs (SMS_DELIVER receiver, "
       "RESPOND_VIA_MESSAGE service, sms:/smsto: activity): texts sent behind the user's "
       "back, to premium numbers or to spread the app."),
    _r("APK-CODE-005", 25, S.HIGH,
       "Có thể tải và cài ứng dụng khác (dropper)",
       "Dropper: can fetch or unpack and install another app",
       "REQUEST_INSTALL_PACKAGES together with an installer session (PackageInstaller), "
       "dynamic code loading (DexClassLoader) or an APK/DEX/JAR payload in the assets."),
    # --- certificate -----------------------------------------------------------
    _r("APK-CERT-001", 20, S.MEDIUM,
       "Ký bằng chứng chỉ gỡ lỗi (debug) của Android",
       "Signed with the Android debug certificate",
       "Release apps are never signed with the debug key."),
    _r("APK-CERT-002", 10, S.MEDIUM,
       "Ứng dụng không có chữ ký: Android không cài được nguyên trạng",
       "Not signed: Android cannot install it as it is",
       "No v1, v2 or v3 signature: Android refuses to install the file as it is (a test or "
       "unfinished build), and nobody vouches for it. A reason, not a scam verdict: on "
       "its own (or with a hidden icon) it leaves the app below suspicious; a re-signed "
       "copy is judged by what it does."),
    _r("APK-CERT-003", 5, S.LOW,
       "Chỉ có chữ ký kiểu cũ (v1)",
       "Only the old v1 signature",
       "Signed with JAR signing only; apps for Android 7+ normally add v2/v3."),
    _r("APK-CERT-004", 10, S.MEDIUM,
       "Chứng chỉ vừa được tạo ngay trước khi đóng gói",
       "Certificate created just before the app was built",
       "The signing certificate's validity starts within 30 days of the newest file "
       "in the package: a throw-away key."),
    _r("APK-CERT-005", 10, S.MEDIUM,
       "Chứng chỉ không có thông tin chủ sở hữu có nghĩa",
       "Certificate subject is meaningless",
       "The certificate subject has no organisation and a junk or placeholder name "
       "(CN=aaa, CN=Unknown)."),
    # --- embedded endpoints ----------------------------------------------------
    _r("APK-URL-001", 25, S.HIGH,
       "Chứa liên kết lừa đảo hoặc giả mạo",
       "Contains a scam or impersonating link",
       "A URL in the code scores suspicious or dangerous with the link scanner; the "
       "evidence names the URL and its link rules."),
    _r("APK-URL-002", 25, S.HIGH,
       "Gửi dữ liệu qua bot Telegram",
       "Sends data through a Telegram bot",
       "The code contains the Telegram bot API (api.telegram.org/bot…), a common "
       "channel for stolen data."),
    _r("APK-URL-003", 10, S.MEDIUM,
       "Kết nối tới máy chủ điều khiển qua WebSocket hoặc địa chỉ IP",
       "Connects to a WebSocket or raw-IP server",
       "The code contains ws:// or wss:// endpoints or URLs with an IP address host."),
    _r("APK-URL-004", 10, S.MEDIUM,
       "Nhận lệnh qua tin nhắn đẩy (Firebase) cùng quyền điều khiển máy",
       "Push messages as a command channel, with control of the phone",
       "A Firebase Cloud Messaging (or C2DM) service in an app that also holds "
       "accessibility, device admin or SMS access: push messages are a common way to send "
       "commands to banking trojans."),
    # --- packers, anti-analysis, odd files -------------------------------------
    _r("APK-PACK-001", 30, S.HIGH,
       "Được đóng gói/che giấu bằng công cụ packer",
       "Packed with a known packer",
       "Native libraries of a known Android packer (Virbox, Jiagu, Bangcle, "
       "ijiami, DexHelper…): the real code is hidden from analysis."),
    _r("APK-PACK-002", 15, S.MEDIUM,
       "Có mã lệnh ẩn trong tài nguyên",
       "Hidden code in the assets",
       "An asset is a DEX/ZIP/ELF file or looks encrypted (high entropy)."),
    _r("APK-PACK-003", 15, S.MEDIUM,
       "Mã lệnh được lắp ráp lại bằng công cụ dexlib (smali/apktool)",
       "Code reassembled with dexlib (smali/apktool): a repackaging sign",
       "A DEX file has the layout written by dexlib (smali, apktool), not by the "
       "Android build tools (dx, d8/r8): the app was most likely decompiled and "
       "rebuilt, as repackaged and home-made malware is."),
    _r("APK-ANTI-001", 25, S.HIGH,
       "Mã lệnh bị làm hỏng để chống phân tích",
       "Code is malformed to resist analysis",
       "The DEX fails to parse (invalid instruction, bad header or checksum)."),
    _r("APK-ANTI-002", 40, S.HIGH,
       "Tệp khai báo (manifest) được làm méo để chống công cụ phân tích",
       "Manifest built to break analysis tools",
       "AndroidManifest.xml is one that Android's own parser and analysis tools read "
       "differently: plain-text XML (Android refuses it), truncated or broken binary XML, "
       "or chunks only a lenient parser accepts (wrong type, data past the declared size). "
       "A known evasion of banking trojans; what the manifest hides could not be checked, "
       "so this alone makes the app suspicious."),
    _r("APK-ML-001", 15, S.MEDIUM,
       "Bộ quyền và lệnh hệ thống giống mã độc đã biết (mô hình học máy)",
       "Permissions and system calls like known malware (learned model)",
       "A logistic regression over the app's permissions and framework calls, trained on "
       "about 36,000 labelled apps (ADROIT, AndroCrawl, Android Permissions, TUANDROMD; "
       "CC BY 4.0), scores it at or above its threshold. The evidence names the facts that "
       "weighed most. Worth corroborating points only: alone it never makes an app "
       "suspicious."),
    _r("APK-ANTI-003", 40, S.HIGH,
       "Tệp nén được làm hỏng để chống công cụ phân tích",
       "Archive built to break analysis tools",
       "The ZIP headers carry values that Android's own parser overlooks but analysis tools "
       "refuse (entries flagged as encrypted, unknown compression methods, broken local "
       "headers, wrong CRC-32), a known trick of banking trojans. The app was read the way "
       "Android reads it; when even that fails, the report says what could not be checked. "
       "Enough on its own to make the app suspicious."),
    _r("APK-ZIP-001", 15, S.MEDIUM,
       "Tệp nén có tên đường dẫn bất thường",
       "Archive has abnormal entry names",
       "Path-traversal (../) or duplicate entry names, used to confuse tools."),
)
del S

CATALOGUE: dict[str, Rule] = {r.id: r for r in _RULES}
"""Every rule by id, in catalogue order."""


def get(rule_id: str) -> Rule:
    """The rule with ``rule_id``; ``KeyError`` for an unknown id (a programming error)."""
    return CATALOGUE[rule_id]




def markdown() -> str:
    """The catalogue as the Markdown document ``docs/rules.md``."""
    lines = [
        "# Rule catalogue",
        "",
        "Generated from `scanners/rules.py` by `python -m scanners.rules > docs/rules.md`;",
        "a test fails when the two differ. Points add up to the risk score (capped at 100).",
        "Allowlist rules add nothing and zero the suppressible rules; blocklist rules are",
        "never suppressed. Verdicts: `dangerous` at 70 points or more, `suspicious` at 40",
        "or more, `official` when an official-domain rule matched and nothing counts,",
        "`no_known_risk` otherwise.",
        "",
        "| id | points | severity | kind | suppressible | title (vi) | title (en) |",
        "|---|---:|---|---|---|---|---|",
    ]
    for r in _RULES:
        points = f"≤ {r.points} (item's score)" if r.inherits else str(r.points)
        lines.append(
            f"| `{r.id}` | {points} | {r.severity} | {r.kind} | "
            f"{'yes' if r.suppressible else 'no'} | {r.title_vi} | {r.title_en} |"
        )
    lines += ["", "## Descriptions", ""]
    for r in _RULES:
        lines += [f"- **`{r.id}`**: {r.description}"]
    lines += [
        "", "## Chat message typology", "",
        "The scam families of `scanners/message_types.py`. A message whose topic meets one of",
        "its family's demands gets the family's rule; its `scam_type` is the family id, and",
        "the reply (headline, steps, \"if you already…\", hotlines) is the family's own.",
        "`MSG-COMBO-006` adds when the family script also asks for money, a code, an app or",
        "sends an unknown link.", "",
        "| scam_type | rule | vi | en |", "|---|---|---|---|",
    ]
    for r in _RULES:
        if r.scam_type is not None:
            lines.append(f"| `{r.scam_type}` | `{r.id}` | {r.title_vi} | {r.title_en} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
