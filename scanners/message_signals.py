"""The script-signal phrases of a chat message, by category: data only.

Each category names the catalogue rule its phrases count for (``MSG-*``, see
``scanners/catalogue/message.py``) and whether a negation before it ("không cài
đặt", "do not") turns it into advice. Patterns match the folded text (lower case,
no diacritics) built by :mod:`scanners.message`, which finds and scores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEP = r"[\s_\-]*+"

def tokens(pattern: str) -> str:
    """A phrase pattern with its spaces made separators.

    The separator is possessive and words are letters and digits only (``_`` is a
    separator, not part of a word): where both could take an underscore, a long run of
    them made the patterns backtrack cubically (a hang on "send ____…")."""
    word, gap = r"[^\W_]+", r"[\s_\-]++"
    p = pattern.replace(" ?", " ").replace(r"\w+", word)
    # Beside a generic word the gap is required: else "\w+ \w+" splits one long word
    # in as many ways as it has letters.
    return p.replace(" " + word, gap + word).replace(word + " ", word + gap).replace(" ", SEP)


def rx(*patterns: str) -> re.Pattern[str]:
    """One regex from folded phrase patterns; a space means 'any spacing'."""
    alts = "|".join(f"(?:{tokens(p)})" for p in patterns)
    return re.compile(rf"(?<![a-z0-9])(?:{alts})(?![a-z0-9])")


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of script signal: its phrases and the rule they count for."""

    name: str
    rule_id: str
    pattern: re.Pattern[str]
    negatable: bool = True
    """An instruction: "không …", "do not …" before it turns it into advice."""
    verb_group: bool = False
    """Negation is looked for before the group ``v`` rather than the match."""


# A secrecy order: police warnings name it as the mark of the fake-officer call
# (MSG-URG-001 here, a demand of the police family in scanners/message_types.py).
SECRECY_ORDER = (
    r"(?:khong duoc|cam|tuyet doi khong) (?:noi|bao|tiet lo|ke|chia se) (?:\w+\s+){0,2}"
    r"(?:voi|cho) (?:ai|nguoi than|nguoi nha|gia dinh|bat ky ai)", r"giu bi mat",
    r"keep (?:this|it) (?:confidential|secret)",
    r"(?:do not|don't) tell (?:anyone|anybody|your family)",
)
GOV_BODY = (r"(?:cong an|canh sat|thue|to tung|vien kiem sat|toa an|bao hiem xa hoi|"
             r"bhxh|quan ly thi truong|hai quan)")
CATEGORIES: tuple[Category, ...] = (
    Category("impersonation", "MSG-IMP-001", rx(
        rf"can bo {GOV_BODY}",
        r"cong an (?:phuong|xa|quan|huyen|tinh|thanh pho|tp|thi xa|thi tran|khu vuc)",
        r"bo cong an", r"doi canh sat", r"phong canh sat", r"cuc canh sat",
        r"canh sat (?:hinh su|giao thong|dieu tra|kinh te|co dong|khu vuc)",
        r"co quan (?:cong an|canh sat|dieu tra|thue|bao hiem xa hoi|chuc nang)",
        r"(?:tong )?cuc thue", r"chi cuc thue", r"vien kiem sat", r"toa an (?:nhan dan)?",
        r"dieu tra vien", r"csgt",
        # Ranks and units the callers give ("đại úy …, Phòng An ninh mạng").
        r"(?:dai|thuong|trung|thieu) (?:uy|ta) (?:\w+\s+){0,3}(?:cong an|canh sat|phong|doi|"
        r"cuc|an ninh)", r"(?:phong|cuc|doi) an ninh(?: mang)?", r"pa05|pc0[1-9]|a05",
        r"(?:toi la|day la|chung toi la|minh la|em la|anh la|chung toi den tu) "
        r"(?:can bo |chien si )?(?:cong an|canh sat|ben thue|ben bao hiem)",
        r"police(?: officer| department| station| investigator)?",
        r"ministry of public security", r"public security", r"tax (?:office|authority|department)",
        r"immigration (?:department|office|police)", r"(?:cuc|phong) (?:quan ly )?xuat nhap canh",
        r"government official", r"social insurance (?:agency|office)",
    ), negatable=False),
    Category("staff_impersonation", "MSG-IMP-002", rx(
        r"nhan vien (?:ngan hang|dien luc|nha mang|buu dien|buu chinh|giao hang|"
        r"cham soc khach hang|tong dai|ho tro)",
        r"tong dai vien", r"dien luc", r"evn\w*", r"bo phan (?:cham soc khach hang|ho tro)",
        r"bank (?:staff|officer|employee|agent)", r"customer (?:service|support) (?:team|agent)",
        r"(?:from|at) your bank", r"delivery (?:staff|driver|company)",
        r"(?:em|toi|minh|anh|chi) (?:ben|o|thuoc) (?:giao hang|ngan hang|dien luc|nha mang|"
        r"buu dien|buu chinh|tong dai|cham soc khach hang|ho tro(?: ky thuat)?|ky thuat)",
        r"(?:day la|this is) (?:so|my) (?:dien thoai )?(?:moi|new number)(?: cua (?:con|em|chau))?",
        r"(?:con|em|chau) (?:doi|moi doi) so(?: dien thoai)?", r"(?:this is )?my new number",
    ), negatable=False),
    Category("urgency", "MSG-URG-001", rx(
        r"dinh danh (?:dien tu )?muc (?:2|hai)", r"muc do 2", r"chua (?:duoc )?cap nhat",
        r"chua (?:duoc )?(?:kich hoat|xac thuc|xac minh|dong bo|tich hop|chuan hoa)",
        r"(?:bi|se bi|da bi|co the bi) (?:tam )?(?:khoa|dong bang|vo hieu hoa|dinh chi|huy|"
        r"phong toa|xu ly|phat|cat|ngung|thu hoi|bat(?! dau)|bat giam|tam giam|truy to)",
        # Fourth round: the scares of call-back scripts (arrest, a cancelled card or
        # insurance, a virus on the computer), in English too.
        r"(?:bi|da bi) nhiem (?:virus|ma doc)", r"infected (?:with|by)",
        r"(?:to )?avoid (?:being )?(?:arrest\w*|prosecut\w*|legal action|penalt\w*)",
        r"(?:insurance|policy|benefits?|card|licen[cs]e|number|sim) (?:\w+\s+){0,2}will be "
        r"(?:cancell?ed|terminated|revoked|suspended|blocked|locked)",
        r"(?:you|u) (?:will|could|may) be (?:arrested|prosecuted|detained)",
        r"(?:tam )?ngung (?:hoat dong|giao dich|cung cap dich vu)",
        r"khan cap", r"lien quan (?:den|toi) (?:mot )?(?:vu an|duong day)",
        r"rua tien", r"lenh bat", r"truy na", r"khoi to", r"giay trieu tap", r"trieu tap",
        r"phat nguoi", r"vi pham (?:phap luat|giao thong)", r"no (?:thue|cuoc)",
        r"(?:cap nhat|xac thuc|bo sung) (?:thong tin )?sinh trac(?: hoc)?",
        r"chuan hoa (?:thong tin|thue bao)", r"khoa (?:sim|2 chieu|hai chieu)",
        r"(?:dang|bi) (?:cap cuu|tai nan)", r"(?:bi|dang bi) dieu tra",
        r"(?:account|card|sim|membership|subscription)(?: has been| is| will be)? (?:locked|"
        r"suspended|blocked|frozen|disabled|deactivated|closed|on hold)",
        r"(?:bi|se bi) to cao",
        r"not (?:yet )?(?:been )?(?:updated|verified)",
        r"(?:could not|cannot|can't|failed to) be delivered", r"delivery failed",
        r"giao (?:hang )?(?:khong thanh cong|that bai)", r"(?:se bi|bi) hoan (?:ve|tra)",
        r"will be returned",
        r"urgent(?:ly)?", r"money laundering", r"arrest warrant", r"immediately",
        *SECRECY_ORDER, r"chung minh (?:su )?trong sach",
        r"level ?2 (?:e-?id|electronic id|identification|account)",
    ), negatable=False),
    Category("deadline", "MSG-URG-002", rx(
        r"han chot", r"qua han", r"trong vong \d+ ?(?:h|gio|tieng|ngay)(?! lam viec)",
        r"trong (?:ngay )?hom nay", r"truoc \d+ ?(?:h|gio)(?: \d+)? (?:hom nay|ngay mai)",
        r"het han (?:ngay mai|hom nay)", r"within \d+ ?(?:hours|h|days)(?! working| business)",
        r"final notice", r"by (?:today|tonight|tomorrow)", r"within (?:today|the day|24 hours)",
        r"(?:today|tomorrow) (?:is the )?deadline",
    ), negatable=False),
    Category("bait", "MSG-BAIT-001", rx(
        r"trung thuong", r"trung giai", r"nhan (?:qua|giai|thuong)",
        r"qua tang (?:mien phi|tri an)",
        r"tri an khach hang", r"diem thuong", r"doi diem", r"hoa hong(?: len (?:toi|den))? \d+ ?%",
        r"loi nhuan(?: len (?:toi|den))? \d+ ?%", r"viec nhe luong cao",
        r"thu nhap \d+\S{0,6} ?/ ?ngay", r"lam nhiem vu", r"nhiem vu (?:don gian|online)",
        r"cam ket (?:hoan von|loi nhuan)", r"(?:duoc )?cong \d[\d.,]* ?(?:d|dong|vnd|diem)",
        r"duoc hoan (?:tien|phi|cuoc)", r"kiem tien (?:online|tai nha|tren mang)",
        r"(?:due|eligible for|owed) (?:a |your )?refund",
        r"hoan thue", r"(?:you(?: have|'ve)? )?won (?:a|an|the)", r"(?:cash )?prize",
        r"lottery", r"lucky draw", r"guaranteed (?:profit|return)s?", r"easy money",
        r"commission of \d+ ?%", r"reward points",
    ), negatable=False),
    Category("install", "MSG-APP-001", rx(
        r"tai (?:ve )?(?:va cai dat )?(?:ung dung|app|phan mem|file|tep)", r"tai ve",
        r"cai (?:dat )?(?:lai )?(?:ung dung|app|phan mem)", r"cai dat", r"file cai",
        r"cap nhat (?:ung dung|app|phien ban moi)", r"download\w*", r"install\w*",
        r"update the app",
    )),
    Category("accessibility", "MSG-APP-003", rx(
        r"(?:quyen )?tro nang", r"accessibility", r"nguon khong (?:xac dinh|ro|xac minh)",
        r"khong ro nguon goc", r"unknown sources?",
        r"(?:cap|bat|mo|cho phep) (?:tat ca )?(?:cac )?quyen(?: truy cap)?",
        r"allow (?:all )?(?:the )?permissions?",
    )),
    Category("remote_control", "MSG-APP-004", rx(
        r"team ?viewer", r"any ?desk", r"ultra ?viewer", r"rust ?desk", r"air ?droid",
        r"quick ?support",
    )),
    Category("secret_request", "MSG-DATA-001", re.compile(tokens(
        r"(?<![a-z0-9])(?:"
        # "điện thoại … hết pin" is a phone's battery, not a PIN given.
        # "trả lời tin nhắn này kèm mã OTP": a reply carrying the code hands it over.
        r"(?P<v>cung cap|gui|doc|nhap|dien(?!\s*thoai)|bao|xin|nhan lai|chia se|dua|send|give|"
        r"tra loi|reply|kem|"
        r"tell|provide|share|enter|read|ask(?:s|ing)? for|request|with your|using your)"
        r"(?![a-z0-9])"
        r".{0,30}?(?<![a-z0-9])(?:otp|mat khau|ma pin|(?<!het\s)(?<!sac\s)(?<!cuc\s)pin|"
        r"ma xac (?:thuc|nhan|minh)|"
        r"ma bao mat|ma (?:gom )?\d (?:chu )?so|ma vua (?:nhan|gui|nhan tin)|password|passcode|"
        r"verification code|the code|this code|your code|the \d-digit code)"
        r"|(?:otp|mat khau|ma xac (?:thuc|nhan))(?![a-z0-9]).{0,30}?(?<![a-z0-9])"
        r"(?P<v2>doc (?:lai|giup|cho)|gui lai|bao lai|nhap vao|cung cap cho (?:em|anh|toi))"
        # Logging in somewhere gives the password to that place (counts beside an
        # unknown link only: see message_advice.own_login).
        r"|(?P<v3>dang nhap|log ?in|sign ?in) (?:lai )?(?:tai|vao|o|qua|at|to|on|via|here)"
        r")(?![a-z0-9])")), verb_group=True),
    Category("id_request", "MSG-DATA-002", rx(
        r"(?:chup|gui|cung cap|nop)(?: lai)?(?: (?:anh|hinh))?(?: (?:2|hai) mat| mat truoc"
        r"| mat sau)? (?:can cuoc|cccd|cmnd|cmt|chung minh nhan dan)",
        r"anh (?:chup )?(?:(?:2|hai) mat )?(?:can cuoc|cccd|cmnd)",
        r"(?:quay|gui|chup|thuc hien|lam)(?: \w+){0,3} (?:video|clip)(?: \w+){0,2} "
        r"(?:khuon mat|chan dung|guong mat|selfie)",
        r"video (?:khuon mat|quay mat|xac thuc)", r"(?:cung cap|gui|nhap) so (?:cccd|can cuoc)",
        r"(?:photo|picture|scan|image)s? of (?:your |the )?(?:id|identity card|citizen id|"
        r"cccd|id card)", r"(?:selfie|face) video", r"video of your face",
    )),
    Category("bank_request", "MSG-DATA-003", rx(
        r"lien ket (?:voi )?(?:tai khoan|the)(?: ngan hang)?",
        r"(?:cung cap|gui|nhap|dien) (?:\w+ ){0,3}(?:so the|so tai khoan|thong tin the|ma cvv|"
        r"cvv|tai khoan ngan hang|internet banking|mat khau ngan hang)",
        r"cvv", r"(?:link|connect) (?:your )?(?:bank|card)",
        r"(?:update|enter|confirm|verify) (?:your )?(?:payment|billing|card) (?:details|"
        r"information|info|method)",
        r"card (?:number|details)", r"(?:online|internet) banking (?:login|password|username)",
    )),
    Category("payment", "MSG-PAY-001", rx(
        r"phi (?:cai dat|kich hoat|xac minh|ho so|bao hiem|giai ngan|dang ky|xu ly|"
        r"mo khoa|bao lanh|thu tuc)",
        r"(?:nop|dong|thanh toan) (?:phi|tien|khoan)",
        # "giao dịch chuyển tiền trên 10 triệu…" names a kind of transaction, asks nothing.
        r"(?<!giao\sdich\s)(?<!lenh\s)chuyen khoan",
        r"(?<!giao\sdich\s)(?<!lenh\s)chuyen (?:tra )?(?:lai )?(?:tien|vao (?:so )?tai khoan|"
        r"so tien)", r"nap (?:tien|them)",
        r"tai khoan (?:tam giu|an toan|tam thoi|cua co quan|chuyen dung)",
        r"(?:pay|transfer|wire|send) (?:a |the |an? )?(?:\w+ )?(?:fee|money|deposit|payment)",
        r"(?:send|transfer|lend) (?:me |us )?\d[\d.,]* ?(?:million|k|m|vnd|dong)",
        r"(?:chuyen|gui|cho (?:con|em|minh) muon) (?:cho (?:con|em|minh) )?\d[\d.,]* ?"
        r"(?:trieu|tr|k|nghin|ngan)",
        r"(?:processing|installation|activation|unlock) fee",
    )),
)
