"""The link rules (``URL-*``) of the catalogue: data only.

Scanners that emit them: :mod:`scanners.url_offline` (offline checks),
:mod:`scanners.domain_age` and :mod:`scanners.live` (live checks). Order is
the order of ``docs/rules.md``; ids are stable (retune or retire, never renumber).
"""

from __future__ import annotations

from functools import partial

from scanners.catalogue.model import Kind, Rule, Scope, Severity, rule

S = Severity
_r = partial(rule, Scope.URL)

RULES: tuple[Rule, ...] = (
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
    _r("URL-IMP-006", 35, S.HIGH,
       "Tên miền gần giống một thương hiệu toàn cầu (sai hai ký tự, dính www/m)",
       "Close to a global brand (two edits, or www/m glued on)",
       "A label is one or two edits from a global or shopping brand often phished "
       "(paypal, facebook, amazon, microsoft, shopee…; two neighbouring letters swapped "
       "count as one edit: teleqrma), spells it with doubled letters "
       "(fecabookk, travelokaaaa), or is that name with www, wvw or m glued to it "
       "(wvwpaypal, m-fecabook)."),
    # --- kinds of scam names (scanners/url_names.py) ----------------------------
    _r("URL-SEG-005", 40, S.HIGH,
       "Tên miền kiểu trò chơi \"chẵn lẻ MoMo\", \"tài xỉu\"",
       "A \"chẵn lẻ MoMo\" / \"tài xỉu\" betting-scam name",
       "A label holds clmm, cltx, chanle or taixiu (chẵn lẻ MoMo, chẵn lẻ tài xỉu): the "
       "names of betting games that take deposits through e-wallets and never pay out, "
       "as police warnings describe them."),
    _r("URL-LEX-012", 40, S.MEDIUM,
       "Tên miền kiểu \"làm nhiệm vụ\", cờ bạc: vài chữ cái ghép với dãy số",
       "A \"task scam\" or betting-site name: a few letters and a number",
       "The name is four letters followed by one digit written twice (abcd22.com), or "
       "two or three letters followed by four digits or more on .com (xy12345.com): the "
       "forms of whole campaigns of sites that promise pay for online \"tasks\" or "
       "winnings and then ask for deposits."),
    _r("URL-LEX-013", 15, S.LOW,
       "Tên miền gần như chỉ là một dãy số (kiểu trang cờ bạc, xổ số)",
       "The name is mostly a number (the form of betting and lottery sites)",
       "The registrable name has five digits or more, and digits make three fifths of "
       "it or more (551008g.cc, 8836511.vip, 57365pp.cc): the form of betting and "
       "lottery sites registered by the hundred with only the number changed. Weak "
       "alone, because some benign names are numbers too (10086.cn): it adds to other "
       "signals."),
    _r("URL-LEX-014", 30, S.MEDIUM,
       "Tên miền là một chuỗi chữ cái ngẫu nhiên, không thành từ",
       "The name is random letters that spell no word",
       "The registrable name has ten letters or more, no digit, and read as words "
       "(scanners/segment.py: Vietnamese syllables, English words, brands) four fifths "
       "of its letters or more spell nothing (tbhzmpqcxkgyv.ink, fqtwplhzqm.top): the "
       "names that programs make by the hundred for throw-away scam sites. The "
       "evidence shows how the name was read."),
    _r("URL-SEG-006", 40, S.HIGH,
       "Tên miền kiểu trang \"làm nhiệm vụ\" giả sàn: tên thương hiệu kèm số, vip, vn",
       "A fake shop \"task\" site name: a brand with a number, vip or vn after it",
       "The registrable name is a shop, bank, wallet or global brand followed by a "
       "number, vip, vn or pro and nothing else (lazada218, shopee52, sendovip, "
       "facebookvni), on a domain that is not the brand's: the names of fake shop sites "
       "that pay for \"tasks\" or prizes and then ask for deposits, registered many at "
       "a time with only the number changed."),
    _r("URL-IMP-007", 40, S.HIGH,
       "Tên miền bắt đầu bằng tên sàn mua sắm/giao hàng viết sai",
       "Starts with a misspelt shop or delivery brand",
       "A label starts with a Vietnamese shopping or delivery brand misspelt by one slip "
       "(a letter dropped, doubled or swapped: shopexyz, lazdaabc) and goes on with other "
       "letters, so that it is neither the brand nor one edit from it."),
    _r("URL-IMP-008", 40, S.HIGH,
       "Tên thương hiệu lớn viết bằng chữ số thay cho chữ cái (paypa1, faceb00k)",
       "A well-known brand spelt with digits for letters (paypa1, faceb00k)",
       "Read with 0 as o, 1 as l or i, 3 as e, 4 as a, 5 as s and 7 as t, a label spells "
       "a global brand often phished (paypal, amazon, microsoft, facebook, wellsfargo, "
       "trezor…) that it does not spell in letters: paypa1, amaz0n-login, "
       "m1cros0ft-servercenter. Real brands do not write their names so; kits do, so "
       "that the name reads right at a glance."),
    # --- international lures in the host (scanners/url_lures.py) --------------
    _r("URL-LURE-001", 30, S.HIGH,
       "Tên hãng chuyển phát ghép với từ về bưu kiện trên tên miền không phải của hãng",
       "A parcel carrier's name with parcel words, on a host that is not the carrier's",
       "The host joins a parcel carrier's name (fedex, usps, royalmail, laposte, correos, "
       "postnl, evri, dhl, ups…) to words of a parcel notice (package, parcel, tracking, "
       "delivery, notice, colis, paquete, pakket…), glued or not, but the registrable "
       "domain is not the carrier's own (fedexnotice.com, usps-redelivery.top): the fake "
       "\"your parcel is held, pay the fee\" notice."),
    # --- path and query (scanners/url_path.py) ----------------------------------
    _r("URL-PATH-001", 15, S.MEDIUM,
       "Đường dẫn có từ đăng nhập/xác minh tài khoản",
       "Account words in the path (login, verify, update…)",
       "The path or query holds account words (login, signin, verify, update, secure, "
       "webscr, unlock, dangnhap, xacthuc…), as phishing pages do."),
    _r("URL-PATH-002", 25, S.MEDIUM,
       "Tên thương hiệu lớn nằm trong đường dẫn của trang khác",
       "A well-known brand's name in the path of another site",
       "A whole segment of the path or query names a global brand (paypal, microsoft, "
       "apple, netflix…) or a bank, post, telecom or wallet that phishing kits abroad "
       "dress up as (chase, dbs, correos, itau…), which the host's name does not: a page "
       "dressed as the brand on someone else's site (/chase/login.php)."),
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
    # --- sites on shared platforms (scanners/url_platform.py) ------------------
    _r("URL-PLAT-001", 30, S.HIGH,
       "Trang trên nền tảng tạo web miễn phí đặt tên kiểu trang đăng nhập/ví (login, sso, wallet…)",
       "A site on a free platform named like a sign-in or wallet page (login, sso, wallet…)",
       "The host is a site on a platform where anyone gets a subdomain (webflow.io, "
       "weebly.com, pages.dev, github.io…), and its name holds sign-in or wallet words "
       "(login, signin, sso, auth, wallet, webmail, verify…). Real services do not sign "
       "people in on a free site of a stranger's."),
    _r("URL-PLAT-002", 30, S.HIGH,
       "Trang trên nền tảng tạo web miễn phí mang tên (hoặc tên viết sai) của thương hiệu lớn",
       "A site on a free platform named after a well-known brand, or a misspelling of it",
       "The host is a site on a platform where anyone gets a subdomain, and its name "
       "holds a brand often phished (wallets such as MetaMask or Trezor, mail and "
       "internet providers, global brands), or spells one a slip or two off "
       "(metmask, trezzr, l-edger). A brand's own account on a developer platform "
       "(facebook.github.io) does not count."),
    # --- learned lexical model (scanners/url_model.py) --------------------------
    _r("URL-ML-001", 45, S.HIGH,
       "Mô hình học máy: liên kết rất giống các liên kết lừa đảo đã biết",
       "Learned model: the link reads much like known scam links",
       "A logistic regression over the link's words, character n-grams, suffix, "
       "structure and path words, and which other rules of this catalogue fired on it "
       "(trained by eval/train_url_model.py on lists first "
       "seen before the time split; a bare host is read by weights fitted on bare "
       "hosts alone) gives a probability in its high band, chosen on a held-apart "
       "tuning set so that, together with the rules, at most 0.1% of benign hosts "
       "(0.8% of benign links with a path) are flagged. The evidence names the "
       "tokens that drove the score, and the rules that weighed with them."),
    _r("URL-ML-002", 20, S.MEDIUM,
       "Mô hình học máy: liên kết khá giống các liên kết lừa đảo",
       "Learned model: the link somewhat reads like scam links",
       "The same model in its medium band (the lowest band for which the whole "
       "scanner still flags at most 0.1% of the tuning set's benign hosts and 1% of "
       "its benign links with a path): adds weight to other signals, rarely decides "
       "alone."),
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
)
del S
