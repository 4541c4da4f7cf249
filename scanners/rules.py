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
    # --- segmented host names (scanners/url_compound.py) ---------------------
    _r("URL-SEG-001", 30, S.HIGH,
       "Tên ngân hàng/thương hiệu ghép với từ dịch vụ (chăm sóc, ưu đãi, vay…)",
       "A bank or brand name glued to a service word (care, offer, loan…)",
       "Read as words (scanners/segment.py), the host joins a bank, e-wallet, shop or "
       "global brand name with a service word (cham soc, uu dai, khach hang, han muc, "
       "vay, tin chap, giai ngan, care, login…) outside the brand's official domains "
       "(vcbchamsoc, tpbank-vaytinchap). The evidence lists the tokens read."),
    _r("URL-SEG-002", 30, S.HIGH,
       "Tên ngân hàng/cơ quan nằm ở tên miền con của một tên miền không liên quan",
       "A bank or agency name as a subdomain of an unrelated domain",
       "A subdomain label holds a bank, e-wallet or government brand name while the "
       "registrable domain is not that brand's (vietcombank.chamsocuudai.com): the "
       "reader sees the brand first, the real owner last."),
    _r("URL-SEG-003", 40, S.HIGH,
       "Từ ngữ về cư trú/định danh công dân trên tên miền không phải gov.vn",
       "Residence or citizen-identity words outside gov.vn",
       "Read as words, the host has a residence or identity word of public services "
       "(cu tru, dan cu, cong dan, dinh danh, can cuoc…) and at least one more public-"
       "service word (thong tin, cap nhat, dien tu…), but is not under gov.vn or another "
       "real government suffix (thongtincutru.com)."),
    _r("URL-SEG-004", 20, S.MEDIUM,
       "Tên thương hiệu toàn cầu nằm trong tên miền của người khác",
       "A global brand's name inside someone else's name",
       "Read as words, a label holds the name of a global or shopping brand often "
       "phished (amazon, paypal, apple, ebay, traveloka…) joined to other words, while the "
       "registrable domain is not simply that name (amazonsg.shop, app.amazon-line.com). "
       "Weak alone: it adds to other signals."),
    _r("URL-IMP-005", 35, S.HIGH,
       "Tên miền gần giống một thương hiệu toàn cầu (sai hai ký tự, dính www/m)",
       "Close to a global brand (two edits, or www/m glued on)",
       "A label is one or two edits from a global or shopping brand often phished "
       "(paypal, facebook, amazon, microsoft, shopee…), spells it with doubled letters "
       "(fecabookk, travelokaaaa), or is that name with www, wvw or m glued to it "
       "(wvwpaypal, m-fecabook)."),
    # --- path and query (scanners/url_path.py) ----------------------------------
    _r("URL-PATH-001", 15, S.MEDIUM,
       "Đường dẫn có từ đăng nhập/xác minh tài khoản",
       "Account words in the path (login, verify, update…)",
       "The path or query holds account words (login, signin, verify, update, secure, "
       "webscr, unlock, dangnhap, xacthuc…), as phishing pages do."),
    _r("URL-PATH-002", 25, S.MEDIUM,
       "Tên thương hiệu lớn nằm trong đường dẫn của trang khác",
       "A well-known brand's name in the path of another site",
       "The path or query names a global brand (paypal, microsoft, apple, netflix…) that "
       "the host's name does not: a page dressed as the brand on someone else's site."),
    _r("URL-PATH-003", 30, S.MEDIUM,
       "Trang lưu trên IPFS (khó gỡ bỏ)",
       "Page served from IPFS",
       "The link goes through an IPFS gateway or names an IPFS content id: common for "
       "phishing kits, because such pages are hard to take down."),
    _r("URL-PATH-004", 10, S.LOW,
       "Đường dẫn có chuỗi ngẫu nhiên dài",
       "Long random-looking token in the path",
       "A path or query part of 24 or more letters and digits mixed, such as the "
       "per-victim tokens of phishing kits."),
    # --- learned lexical model (scanners/url_model.py) --------------------------
    _r("URL-ML-001", 45, S.HIGH,
       "Mô hình học máy: liên kết rất giống các liên kết lừa đảo đã biết",
       "Learned model: the link reads much like known scam links",
       "A logistic regression over the link's words, character n-grams, suffix, "
       "structure and path words (trained by eval/train_url_model.py on lists first "
       "seen before the time split) gives a probability in its high band: at most "
       "0.05% of benign hosts (0.5% of benign links with a path) of a held-apart "
       "tuning set reach it. The evidence names the tokens that drove the score."),
    _r("URL-ML-002", 20, S.MEDIUM,
       "Mô hình học máy: liên kết khá giống các liên kết lừa đảo",
       "Learned model: the link somewhat reads like scam links",
       "The same model in its medium band (at most 0.5% of benign hosts, 2% of benign "
       "links with a path of the tuning set reach it): adds weight to other signals, "
       "rarely decides alone."),
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
       "code. A warning not to share the code (\"không chia sẻ mã OTP\") does not count."),
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
       "The text describes scam tricks (\"giả danh\", \"mạo danh\", \"thủ đoạn\", "
       "\"impersonating\") and sends no unknown link or app file: its scam phrases are "
       "quoted, not instructions, so they add no points. Adds no points."),
    # --- links in the message --------------------------------------------------
    _r("MSG-LINK-001", 70, S.CRITICAL,
       "Chứa đường link nguy hiểm",
       "Contains a dangerous link",
       "A link in the message has the verdict dangerous with the link scanner; the "
       "evidence names the link and its score."),
    _r("MSG-LINK-002", 40, S.HIGH,
       "Chứa đường link đáng ngờ",
       "Contains a suspicious link",
       "A link in the message has the verdict suspicious with the link scanner; the "
       "evidence names the link and its score."),
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
    _r("APK-PKG-001", 15, S.MEDIUM,
       "Tên gói ngẫu nhiên, vô nghĩa",
       "Random, meaningless package name",
       "The package name is made of long random letter strings, as generated by "
       "malware builders to dodge blocklists."),
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
    # --- certificate -----------------------------------------------------------
    _r("APK-CERT-001", 20, S.MEDIUM,
       "Ký bằng chứng chỉ gỡ lỗi (debug) của Android",
       "Signed with the Android debug certificate",
       "Release apps are never signed with the debug key."),
    _r("APK-CERT-002", 25, S.HIGH,
       "Ứng dụng không có chữ ký",
       "App is not signed",
       "No v1, v2 or v3 signature: Android refuses to install it as is, and nobody "
       "vouches for it."),
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
        lines.append(
            f"| `{r.id}` | {r.points} | {r.severity} | {r.kind} | "
            f"{'yes' if r.suppressible else 'no'} | {r.title_vi} | {r.title_en} |"
        )
    lines += ["", "## Descriptions", ""]
    for r in _RULES:
        lines += [f"- **`{r.id}`**: {r.description}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
