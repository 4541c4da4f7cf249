"""The scam typology of chat messages: which family a message belongs to.

Vietnamese police and anti-fraud groups warn about a small set of recurring
scripts (fake police, fake VNeID, tax and social-insurance refunds, power
cut-offs, bank card "upgrades", delivery and prize fees, paid "tasks", online
loans, guaranteed-return investments, a relative with a new number, romance
parcels, "recovering" lost money, remote-control apps, APKs on file hosts,
"support" groups). Each :class:`ScamType` pairs a *topic* (what the message is
about, matched on the folded text) with the *demands* that turn the topic into
a scam (pay, hand over data, install, open an unknown link, call back, join a
group). A topic alone is a look-alike ("EVN thông báo lịch cắt điện"); a topic
with one of its demands is the script, scored by the type's catalogue rule
``MSG-TYPE-0NN``. A few types also have *strong* phrases that are the script
on their own ("việc nhẹ lương cao", "cam kết lợi nhuận 30%").

:func:`classify` returns the matching types, most specific first; the message
scanner reports the first as the message's ``scam_type``. Pure functions over
the folded text and the facts the scanner already has; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from scanners import message_advice

# One phrase-pattern builder for every message module (possessive separators).
from scanners.message_signals import SECRECY_ORDER as _SECRECY_ORDER
from scanners.message_signals import rx as _rx  # one builder for all message modules

PAY = "pay"
DATA = "data"
INSTALL = "install"
LINK = "link"
REMOTE = "remote"
CONTACT = "contact"
GROUP = "group"
SECRECY = "secrecy"
"""An order to tell no one: with the police topic, the fake-officer call itself."""
FILE_HOST = "file_host"
"""Not an ask of its own: a link to a file host or cloud drive (for ``apk_file_host``)."""
STRONG_DEMANDS = frozenset({PAY, DATA, INSTALL, LINK, REMOTE})
"""Demands that hand over money, secrets or the phone (MSG-COMBO-006)."""
ALL_DEMANDS = frozenset({*STRONG_DEMANDS, CONTACT, GROUP, FILE_HOST, SECRECY})
SECRECY_ORDER = _rx(*_SECRECY_ORDER)


@dataclass(frozen=True, slots=True)
class ScamType:
    """One family of the typology."""

    id: str
    """Stable id, reported as ``scam_type``."""
    rule_id: str
    topic: re.Pattern[str]
    demands: frozenset[str]
    """Demands that, with the topic, make the script."""
    strong: re.Pattern[str] | None = None
    """Phrases that are the script on their own, demand or not."""


# Money asks beyond MSG-PAY-001: advances, deposits, fees named by their purpose.
MONEY_ASK = _rx(
    r"(?:chuyen|gui|nap|ung|tra) (?:giup|tam|gap|ngay|truoc|ho|them)(?:\s+\w+){0,6} \d[\d.,]* ?"
    r"(?:trieu|tr|k|nghin|ngan|d|dong|vnd|usd|usdt)",
    r"(?:can|phai|vui long|hay|de nghi|yeu cau|xin) (?:\w+\s+){0,2}(?:chuyen|dong|nop|tra|nap|gop|"
    r"thanh toan)(?:\s+\w+){0,6} \d[\d.,]* ?(?:trieu|tr|k|nghin|ngan|d|dong|vnd|usd|usdt)",
    r"gop \d[\d.,]* ?(?:trieu|tr|k|usd|usdt)",
    r"cho (?:con|em|minh|chau|anh|chi|to) muon", r"muon (?:tam )?\d[\d.,]* ?(?:trieu|tr|k)",
    r"ung truoc", r"dat coc", r"nap (?:von|tien)",
    r"(?:dong|nop|tra|chiu) (?:\d+ ?% )?(?:\w+\s+){0,2}(?:phi|le phi)",
    # "đóng trước 3 triệu thuế…": an amount paid up front.
    r"(?:dong|nop|tra|gui) (?:truoc|them|ngay|gap) \d[\d.,]* ?(?:trieu|tr|k|nghin|ngan|usd|usdt)",
    # An amount (a unit or thousands separators), not the OTP of a tax payment.
    r"(?:dong|nop) thue (?:\w+\s+){0,3}(?:\d[\d.,]* ?(?:trieu|tr|k|nghin|ngan|d|dong|vnd)"
    r"(?![a-z0-9])|\d{1,3}(?:[.,]\d{3})+)",
    r"(?:le )?phi (?:\w+\s+){0,2}(?:van chuyen|thong quan|luu kho|giao lai|ho tro|mo khoa|"
    r"bao hiem|ho so|xac minh|dich vu)",
    r"(?:chuyen|nop|dong|tra|thanh toan) (?:khoan |tien )?phi",
    # (A "payroll" or "payslip" account is where a salary goes, not a payment.)
    r"(?:pay(?!roll|slip)|send|transfer|deposit|top up|lend)\w* (?:[\w.,%\-]+\s+){0,5}"
    r"(?:fee|tax|fine|deposit|bond|bail|guarantee)",
    r"(?:first|initial|small|minimum) deposit", r"deposit (?:of \d|to (?:start|begin|unlock|join))",
    r"(?:send|transfer|lend) (?:me|us)? ?\d[\d.,]* ?(?:million|k|vnd|usd|usdt|dong)",
    r"(?:service|clearance|shipping|redelivery|processing|insurance|small) (?:\w+\s+)?fee",
    r"(?:please )?(?:transfer|pay|send) it",
    # Folded, "căn cước" and "lưu động" read as "cần" and "đóng": neither asks anything.
    r"(?:vui long|hay|can(?!\s+cuoc)|phai|de nghi|yeu cau|xin|nho) (?:\w+\s+){0,3}"
    r"(?:chuyen|nop|(?<!luu\s)dong|"
    r"thanh toan|nap|tra|gui)(?:\s+\w+){0,3}\s+(?:tien|phi|khoan|ngay|truoc|vao|cho|qua|tai)",
    # "(tiền) được chuyển vào tài khoản…", "đã chuyển cho…" describe; they ask nothing.
    r"(?<!duoc\s)(?<!da\s)chuyen (?:khoan |tien )?(?:ngay|gap|truoc|giup|ho|tam)",
    r"(?<!duoc\s)(?<!da\s)chuyen (?:\w+\s+){0,4}(?:vao|cho|qua) "
    r"(?:so tai khoan |tai khoan |so |tk |stk )?(?:em|anh|chi|minh|toi|chung toi|cong ty|ben|"
    r"co quan|can bo|ho|nay|con|chau|\d{6,})",
    r"nap (?:toi thieu |it nhat |ngay )?\d[\d.,]* ?(?:trieu|tr|k|nghin|ngan|d|dong|vnd|usd|usdt)",
    r"(?:nop|dong|chuyen) \d[\d.,]* ?(?:trieu|tr|k) (?:tien )?(?:bao lanh|phat|chuoc|dam bao|"
    r"ky quy|coc)",
    r"chuyen (?:khoan |tien )?\d[\d.,]* ?(?:trieu|tr|k|usd|usdt) (?:de|vao|truoc)",
    r"tai khoan (?:tam giu|an toan|tam thoi|cua co quan|chuyen dung|chuyen an|chi dinh|"
    r"do (?:\w+\s+){1,3}"
    r"(?:chi dinh|cung cap))",
    r"chuyen (?:het|toan bo) (?:\w+\s+){0,4}(?:tien|so du)",
    # ("thanh toán ngày 15/12" is a due date, not "pay now".)
    r"thanh toan (?:ngay(?! \d)|phi|truoc|de)", r"(?:nop|dong) (?:tien )?(?:phat|bao lanh)",
    # "send your CV to the HR office" asks for an application, not money.
    r"(?:pay|transfer|send) (?!(?:\w+\s+){0,2}(?:cv|resume|application|photos?|documents?|"
    r"files?|address|email|location)(?![a-z0-9]))(?:\w+\s+){0,3}(?:now|today|immediately|here|"
    r"at|to (?:the|our|this|my))",
    r"top up", r"deposit (?:at least|usdt|\d+)", r"pay (?:it|here|now) ",
    r"transfer (?:\w+\s+){0,3}(?:savings|money|funds)", r"(?:safe|holding) account",
    r"account (?:our|the|my) (?:\w+\s+)?(?:officer|investigator|agent|lawyer) (?:provides|gives)",
    # Generic asks of every family: an amount to transfer ("chị chuyển 10 triệu", "chuyển
    # khoản 850k phí…"), money into an account ("chuyển tiền xác minh tài sản vào tài
    # khoản…"), funds moved to a "verification" account, an amount to pay in English.
    # A transfer already made ("… rồi", "đã chuyển") is reported, not asked.
    r"(?<!duoc\s)(?<!da\s)(?<!vua\s)chuyen (?:khoan |tien )?(?:\w+\s+){0,4}\d[\d.,]* ?"
    r"(?:trieu|tr|k|nghin|ngan|usd|usdt)(?![a-z0-9])(?![^.!?\n]{0,60}?(?<![a-z0-9])roi(?![a-z0-9]))",
    r"(?<!duoc\s)(?<!da\s)chuyen (?:het |toan bo )?(?:tien|khoan)(?:\s+\w+){0,5} (?:vao|sang|"
    r"den|toi) (?:so )?(?:tai khoan|tk|stk)(?! (?:cua quy khach|cua ban|ngan hang cua))"
    r"(?![^.!?\n]{0,40}?(?<![a-z0-9])roi(?![a-z0-9]))",
    # An amount to pay ("nộp 300k tiền tài liệu"), unless already paid.
    r"(?<!da\s)(?:nop|dong) \d[\d.,]* ?(?:trieu|tr|k|nghin|ngan)(?![a-z0-9])"
    r"(?![^.!?\n]{0,40}?(?<![a-z0-9])roi(?![a-z0-9]))",
    # Money to an account number the message gives; "recharge" a work or task account.
    r"(?:to|into) (?:the |this |my |our )?(?:bank )?(?:account|acc) (?:number |no\.? )?\d{6,}",
    r"recharge\w*", r"(?:top up|fund) (?:your )?(?:\w+\s+){0,2}account",
    r"(?:move|transfer|send|wire) (?:\w+\s+){0,3}(?:savings|money|funds)",
    r"(?:verification|safe|safety|secure|holding|supervision) account",
    r"(?:pay|send|transfer|wire) (?:me |us |him |her |the |a )?\$? ?\d[\d.,]* ?(?:usd|dollars?|"
    r"eur|euros?|pounds?|million|k|vnd|dong|usdt)",
    r"(?:le )?phi (?:tham dinh|kiem dinh|giai ngan|mo the|kich hoat)",
    # Following an "officer's" instructions in one's banking app is how the money moves.
    r"(?:mo|vao|dang nhap) (?:\w+\s+){0,2}(?:ung dung|app|tai khoan) ngan hang (?:\w+\s+){0,6}"
    r"(?:lam theo|theo) (?:\w+\s+)?huong dan cua (?:can bo|dieu tra vien|toi|chung toi|em)",
    r"(?:shipping|delivery|redelivery|insurance|customs|clearance|processing|handling)"
    r"(?: and \w+)? (?:cost|charge|fee|dut(?:y|ies))s?",
    # Second round (heldout4 read): chat shorthand, "ck" for chuyển khoản ("ck gấp vào
    # stk…", "ck cho e 2tr"), unless already done ("ck r", "ck rồi", "đã ck").
    r"(?<!da\s)(?<!vua\s)ck (?:gap|ngay|truoc|giup|ho|tam|lien|vao|cho|qua|sang|tien|"
    r"\d)(?![^.!?\n]{0,40}?(?<![a-z0-9])(?:roi|r)(?![a-z0-9]))",
    # Paying (repaying a loan, a fee) into an account the message gives by number.
    # Phone or gift cards bought and their codes sent: money that cannot be traced back.
    # ("… rồi chụp mã gửi" is "then"; "… rồi." or "… rồi, mã …" is done.)
    r"(?<!da\s)mua (?:giup |ho |gap |them )?(?:\w+\s+){0,3}(?:the cao|the nap|the dien thoai)"
    r"(?![^.!?\n]{0,40}?(?<![a-z0-9])roi(?:\s*+(?:[.,!?;\n]|$)|\s++(?:nha|nhe|a|day|do)"
    r"(?![a-z0-9])))",
    r"(?:buy|purchase|get) (?:\w+\s+){0,3}(?:gift|itunes|google play|steam|apple|top-?up|phone) "
    r"cards?",
    # A fee up front ("phí ban đầu chỉ 2 triệu"): the advance-fee mark of every family.
    r"(?:phi|chi phi|le phi) (?:ban dau|truoc|tam ung|mo dau)",
    r"(?<!da\s)(?:tra|nop|dong|chuyen|ck|gui|thanh toan) (?:[\w.,]+\s+){0,4}"
    r"(?:vao|qua|toi|den|sang) "
    r"(?:so tai khoan|stk|tk|tai khoan)(?: \w+){0,3} \d{3,}",
)
# A contact the script moves to: a chat app (a mobile number counts apart). A landline
# or hotline ("liên hệ trực ban số 028…", "gọi tổng đài 1900…") is what real bodies give.
CONTACT_ASK = _rx(
    r"(?:goi|lien he|lien lac|lh|nhan tin|ket ban|kb|add|inbox|ib|nhan) "
    r"(?:\w+\s+){0,4}(?:zalo|telegram|tele|facebook|fb|messenger|whatsapp)",
    # Fourth round: a chat handle to write to ("inbox admin @…", "lh tele @…", "DM
    # @…"): a private chat with a stranger, whichever app the handle is on.
    r"(?:lien he|lien lac|lh|nhan tin|inbox|ib|ib cho|add|ket ban|kb|dm|pm|message|contact|"
    r"text|tim) (?:\w+\s+){0,3}@[a-z0-9_.]{3,}",
    r"(?:zalo|telegram) (?:\w+\s+){0,2}(?:de|nhe|ngay|cua)",
    r"(?:on|via|our) (?:zalo|telegram|whatsapp)",
)
# Paid at the door (cash on delivery, duty to the courier): not a transfer to a stranger.
# "a parcel with gifts and cash" is the romance lure, not a payment at the door.
# Calling back a number, any number, before a deadline or else ("gọi lại tổng đài … trước
# 17h …, quá hạn sẽ bị hủy"): the pressure is the script's, counted with MSG-URG-*.
CALL_BACK = _rx(r"(?:goi|lien he|lien lac) (?:lai |ngay )?(?:\w+\s+){0,2}(?:tong dai|so|hotline|"
                r"sdt|dien thoai|duong day)", r"call (?:us )?(?:back|now|the number|this number)",
                # Fourth round: the number straight after the verb ("Gọi lại ngay 028…",
                # "gọi ngay 1800…", "call 024…"), as scripts write it.
                r"(?:goi|lien he|lien lac|lh) (?:lai |ngay |gap )*\d+",
                r"call (?:us )?(?:on |at )?\d+")
# A mobile number to call written with some digits hidden ("gọi 0945 xx7 231"), as people
# do when they forward a message: still a mobile number given (counted with the mobiles).
# Only after a call verb: a carrier or bank masks the *reader's* number too ("thuê bao
# 098xxxxx12").
MASKED_MOBILE = re.compile(r"(?<![a-z0-9])(?:goi|lien he|lien lac|lh|nhan tin|zalo|call|text|"
                           r"whatsapp)(?:\s+\w+){0,3}\s+(0[35789][0-9x](?:[ .]?[0-9x]){7})"
                           r"(?![a-z0-9])")
# Household bills among people who know each other (rent, a landlord, room-mates): the
# power or water of a room, not the power company.
HOUSEHOLD = _rx(r"tien (?:nha|phong|tro)", r"chu (?:nha|tro)", r"(?:nha|phong) tro", r"landlord",
                r"rent", r"room-?mates?", r"tenants?", r"o ghep")
COD = _rx(r"khi nhan (?:hang|buu pham|buu kien|buu gui|don)",
          r"(?:tra|thanh toan|nop|dong|pay|paid) (?:\w+\s+){0,3}(?:bang )?"
          r"(?:tien mat|in cash|cash)",
          r"(?:tien mat|cash) (?:khi|when|on|at)", r"on delivery",
          r"cod", r"thu ho",
          r"(?:tra|dua) (?:\w+\s+){0,2}(?:shipper|buu ta|courier)")
TRANSFER = _rx(r"chuyen khoan", r"chuyen tien", r"transfer\w*", r"stk", r"so tai khoan",
               r"link", r"qr")
# Paid through a channel the reader holds (the bank's or the body's own app, a counter):
# a bill, not a transfer to a stranger ("thanh toán qua ứng dụng EVNHCMC CSKH").
OWN_CHANNEL = _rx(r"(?:qua|tren|tai|bang|o) (?:cac )?(?:ung dung|app|quay|chi nhanh|buu cuc|"
                  r"diem thu|diem giao dich|phong giao dich|vi dien tu|internet banking|"
                  r"mobile banking|ngan hang)",
                  # Fourth round: the bank debits the reader's own account on the due date
                  # ("vui lòng đảm bảo số dư tài khoản"): a reminder, not a transfer asked.
                  r"(?:dam bao|bao dam|duy tri) (?:du )?so du", r"(?:ensure|maintain|keep) "
                  r"(?:a )?(?:sufficient|enough) (?:\w+\s+)?balance")
# ... unless the money goes to an account the message gives.
TO_ACCOUNT = re.compile(r"(?<![a-z0-9])(?:stk|so tai khoan|(?:vao|toi|den|sang) (?:so )?"
                        r"(?:tai khoan|tk)(?! (?:cua quy khach|cua ban|ngan hang cua))|"
                        r"\d{8,16})(?![a-z0-9])")
# A fee to *get* something (a loan, a prize, a parcel, a task): a scam whatever the channel.
ADVANCE_FEE = _rx(r"(?:le )?phi (?:\w+\s+){0,2}(?:van chuyen|thong quan|luu kho|giao lai|ho tro|"
                  r"mo khoa|bao hiem|ho so|xac minh|dich vu|kich hoat|giai ngan|dang ky|xu ly|"
                  r"bao lanh|thu tuc|nhan (?:giai|thuong|qua)|ban dau|truoc|tam ung)", r"dat coc",
                  r"ung truoc",
                  r"nap (?:von|tien)", r"(?:processing|activation|unlock|clearance|verification|"
                  r"insurance) fee", r"deposit")
COMPUTER = _rx(r"may tinh", r"computer", r"laptop", r"windows", r"macbook", r"pc")
GROUP_LINK = re.compile(r"(?:zalo\.me/g/|t\.me/|telegram\.me/|chat\.whatsapp\.com/)")
GROUP_WORDS = _rx(r"nhom (?:zalo|telegram|kin|vip|ho tro)", r"(?:telegram|zalo) (?:support )?group",
                  r"(?:join|tham gia) (?:\w+\s+){0,3}(?:nhom|group|kenh|channel)",
                  # Third round: a "support" group whose admin writes first ("our admin
                  # will DM you"): a firm's support does not come looking for you in a chat.
                  r"support (?:\w+\s+){0,2}group",
                  r"(?:admin|quan tri vien|mod) (?:\w+\s+){0,2}(?:will |se )?(?:dm|inbox|ib|pm|"
                  r"nhan tin|message|contact) (?:you|ban|cho ban)")
FILE_HOSTS = frozenset({
    "mediafire.com", "drive.google.com", "docs.google.com", "dropbox.com", "dropboxusercontent.com",
    "t.me", "telegram.me", "telegra.ph", "onedrive.live.com", "1drv.ms", "mega.nz", "fshare.vn",
    "sites.google.com", "github.io", "firebasestorage.googleapis.com", "box.com", "wetransfer.com",
    "we.tl", "4shared.com", "apkpure.com", "uptodown.com",
})
FILE_HOST_WORDS = _rx(r"google drive", r"mediafire", r"dropbox", r"onedrive", r"fshare",
                      r"terabox", r"mega\.nz", r"kenh telegram", r"telegram channel")
APP_WORDS = _rx(r"ung dung", r"app\w*", r"apk", r"phan mem", r"cai dat", r"cai", r"install\w*",
                r"vneid", r"etax\w*", r"vssid", r"evn\w*")

# The sender claims to be a police or judicial body, or the police come with a threat.
_POLICE = (
    r"(?:can bo|chien si|dong chi|doi|phong|cuc|co quan) (?:cong an|canh sat)",
    r"cong an (?:phuong|xa|quan|huyen|tinh|thanh pho|tp|thi xa|thi tran|khu vuc)",
    r"canh sat (?:hinh su|giao thong|dieu tra|kinh te|co dong|khu vuc)", r"csgt", r"bo cong an",
    r"vien kiem sat", r"toa an", r"co quan dieu tra", r"dieu tra vien", r"can bo dieu tra",
    r"police (?:officer|department|station|investigator)", r"people'?s court",
    r"court (?:of|summons|order|case)", r"procuracy", r"prosecutor\w*", r"investigator",
    r"ministry of public security", r"immigration (?:department|office|police)",
    r"(?:cuc|phong) (?:quan ly )?xuat nhap canh",
    # ("CÔNG AN QUẬN X: …", "District police: …": a heading's colon.)
    r"(?:cong an|canh sat|police):?(?:\s+[\w.,:]+){0,15} (?:vu an|lenh bat|khoi to|trieu tap|"
    r"dieu tra|rua tien|ma tuy|phat nguoi|bat giam|tam giam|warrant|arrest\w*|summons|case)",
    r"(?:dai|thuong|trung|thieu) (?:uy|ta) (?:\w+\s+){0,3}(?:cong an|canh sat|phong|doi|cuc|"
    r"an ninh)", r"(?:phong|cuc|doi) an ninh(?: mang)?",
    r"police (?:\w+\s+){0,3}(?:unit|division|bureau|department|team)",
    r"(?:economic|cyber|financial) crimes? (?:unit|police|division|department)",
    # Fourth round: a warrant threatened, whoever the caller says he is (customs, a bank's
    # "legal department"): only the police and courts issue one.
    r"warrant (?:\w+\s+){0,2}(?:will be|has been|is being|was) issued",
    r"lenh bat (?:\w+\s+){0,2}(?:se duoc|da duoc|duoc) ban hanh",
)

TYPES: tuple[ScamType, ...] = (
    ScamType("remote_control_app", "MSG-TYPE-015", _rx(
        r"team ?viewer", r"any ?desk", r"ultra ?viewer", r"rust ?desk", r"air ?droid",
        r"quick ?support",
        # A "technician" taking the device over, whatever the tool's name.
        r"remote (?:support|access|control|desktop)", r"(?:dieu khien|truy cap) (?:\w+\s+)?tu xa",
        # Fourth round: a "technician" who will "connect remotely" to fix a scare.
        r"ket noi (?:\w+\s+){0,2}tu xa", r"connect (?:\w+\s+){0,2}remotely",
        r"(?:microsoft|windows|apple|google) (?:support|technician)", r"tech(?:nical)? support",
        # Third round: a helper who will fix the device "remotely" through a tool he sends.
        r"(?:so|then) (?:i|we) can (?:\w+\s+){1,3}remotely",
        r"(?:de|roi) (?:em|anh|chi|toi|minh|ben em) (?:\w+\s+){1,5}tu xa"),
        frozenset({INSTALL, DATA, CONTACT, LINK, PAY}),
        # "cài (giúp cháu ứng dụng) TeamViewer", "install AnyDesk": installing it is the ask.
        # "Bố ơi con đã cài AnyDesk…", "I installed AnyDesk…" report a family's help.
        strong=_rx(r"(?<!da\s)(?<!vua\s)(?:cai|tai|install|download|setup)(?!ed)\w* "
                   r"(?:\w+\s+){0,4}(?:team ?viewer|"
                   r"any ?desk|ultra ?viewer|rust ?desk|air ?droid|quick ?support)")),
    ScamType("apk_file_host", "MSG-TYPE-016", APP_WORDS, frozenset({FILE_HOST})),
    ScamType("support_group", "MSG-TYPE-017", _rx(
        r"(?:ho tro|giup|lam ho|lam giup|support|help) (?:\w+\s+){0,6}(?:dinh danh|vneid|muc 2|"
        r"sinh trac\w*|xac thuc khuon mat|e-?id|ekyc|biometric\w*|face verification|"
        r"lay lai tien|recover\w*)",
        r"(?:ho tro|giup|tu van) (?:\w+\s+){0,2}nan nhan", r"victim support",
        r"(?:dinh danh|vneid|muc 2|sinh trac\w*|e-?id|biometric\w*) (?:\w+\s+){0,4}"
        r"(?:tai nha|nhanh|trong \d+ phut|in \d+ minutes|for you)",
        # Customer care run in a Zalo or Telegram group: a firm's care is its hotline or
        # app; a withdrawal "problem" solved in a group is the late stage of a task or
        # investment script.
        r"(?:nhom|group) (?:zalo |telegram )?(?:cham soc khach hang|cskh|"
        r"customer (?:care|service|support))",
        r"(?:su co|loi|van de) (?:khi )?rut tien", r"(?:khong|chua) (?:the )?rut (?:duoc )?tien",
        r"(?:cannot|can't|unable to) withdraw",
        # Third round: a withdrawal "stuck" on an exchange, help to get it out; a customer
        # support group in either word order.
        r"rut tien (?:\w+\s+){0,2}bi (?:treo|khoa|chan|loi|giu)", r"ho tro rut tien",
        r"(?:withdrawal|funds) (?:\w+\s+){0,2}(?:stuck|frozen|on hold)",
        r"customer (?:care|service|support) group",
        # Third round: a "support" group whose admin writes to the member first ("an
        # admin will DM you"): a firm's support answers at its hotline or in its app, a
        # fake desk moves the member to a private chat.
        r"(?:support|ho tro|cskh|cham soc khach hang|customer (?:care|service)|helpdesk)"
        r"(?:\s+\S+){0,12} (?:admin|quan tri vien) (?:\w+\s+){0,2}(?:will |se )?"
        r"(?:dm|inbox|ib|pm|nhan tin|message) (?:you|ban|cho ban)"), frozenset({GROUP})),
    ScamType("recovery_scam", "MSG-TYPE-014", _rx(
        r"(?:lay lai|thu hoi|doi lai) (?:\w+\s+){0,3}(?:tien|tai san|von)",
        # Third round: a fellow victim's word of mouth, after a scam ("bị lừa … nhờ anh
        # này lấy lại được hết"); a shop's refund "lấy lại được hết" is not one.
        r"bi lua (?:\S+\s+){0,25}?(?:nho (?:\w+\s+){0,3})?(?:lay lai|thu hoi|doi lai) "
        r"(?:duoc )?(?:het|du|toan bo|ca|tien|nho)",
        r"(?:lost|scam\w*) (?:\S+\s+){0,20}?(?:got|get) (?:\w+\s+){0,2}(?:all|everything|"
        r"it all) back",
        r"bi lua (?:\w+\s+){0,4}(?:hoan tien|lay lai|thu hoi)",
        r"(?:recover\w*|get (?:your|the) money back|fund recovery|money back from)",
        r"(?:get|receive) (?:\w+\s+)?money back", r"(?:victim )?compensation (?:program|fund)",
        r"nhan lai (?:\w+\s+){0,3}(?:so )?tien",
        r"hoan lai (?:\w+\s+){0,2}(?:so )?tien (?:\w+\s+)?(?:da mat|bi lua|bi chiem doat|bi mat)",
        r"(?:phong toa|thu giu|bat duoc) (?:\w+\s+){0,5}"
        r"(?:ke|doi tuong|nguoi) lua dao",
        # Third round: the victim's money "traced" or "frozen" and released for a fee.
        r"truy vet (?:\w+\s+){0,4}(?:vi|tai khoan|san|dong tien|tien)",
        r"tien cua (?:ban|chi|anh|em|bac|co|chu) (?:\S+\s+){0,4}(?:dang )?(?:duoc )?"
        r"(?:phong toa|tam giu|nam trong)",
        r"giai phong (?:\w+\s+){0,2}(?:so )?(?:tien|\d[\d.,]* ?(?:trieu|tr|k))",
        r"(?:traced|frozen|located) (?:\w+\s+){0,3}(?:your )?(?:funds|money|wallet)"),
        # Moving a victim to Telegram, Zalo or a mobile is how recovery services work; so
        # is bringing him into a chat group of "victims who got it back" (fourth round).
        frozenset({PAY, DATA, LINK, CONTACT, GROUP}),
        strong=_rx(r"(?:ho tro|dich vu|chung toi|chuyen) (?:\w+\s+){0,2}(?:lay lai|thu hoi) "
                   r"(?:\w+\s+){0,2}tien", r"fund recovery", r"recover (?:\w+\s+){0,2}(?:lost )?"
                   r"(?:funds|money)", r"get your money back")),
    ScamType("romance_parcel", "MSG-TYPE-013", _rx(
        r"(?:qua|thung qua|kien hang|buu kien|hop qua|gift|parcel|package|box)"
        r"(?:\s+[\w.,]+){0,12} (?:hai quan|thong quan|quoc te|customs|clearance)",
        r"(?:hai quan|customs) (?:\w+\s+){0,6}(?:giu|held|stuck|holding)",
        # Fourth round: a sweetheart's parcel "stuck at customs" ("hàng anh gửi em bị kẹt ở
        # hải quan"), the gift held for a fee.
        r"(?:anh|em) gui (?:\w+\s+){0,3}(?:bi )?(?:ket|giu|tam giu) (?:o|tai) (?:hai quan|san bay)",
        r"(?:ket|stuck|held) (?:o |tai |at )?(?:the )?(?:hai quan|customs)",
        r"kien hang tu (?:\w+\s+){0,3}(?:o|tu) (?:my|anh|uc|phap|duc|canada|nhat|han)",
        # A gift box said to hold cash or jewels.
        r"(?:box|parcel|package|gift|suitcase)\w* (?:\w+\s+){0,4}(?:with|containing|of) "
        r"(?:[\w.,]+\s+){0,4}(?:\d[\d.,]* ?(?:usd|dollars|pounds|euros?)|cash|money|jewel\w*)",
        r"(?:thung|hop|vali|va li) qua (?:\w+\s+){0,3}(?:co|chua) (?:\w+\s+){0,2}"
        r"(?:tien|\d[\d.,]* ?usd|do la|vang|trang suc)",
        r"(?:gui|sent) (?:\w+\s+){0,8}(?:tu|from) (?:my|anh|uc|phap|duc|london|usa|america|"
        r"england|uk|canada|nuoc ngoai|abroad)",
        # The persona of the script: a foreigner or an expatriate far away (an engineer
        # on an oil rig, an army doctor in Syria, a diplomat) who sends money or gifts.
        r"(?:ky su|bac si|quan nhan|si quan|linh|phi cong|thuy thu|thuyen truong|doanh nhan)"
        r"(?:\s+\w+){0,5} (?:o|tai|lam viec o|dong quan o|cong tac o) (?:syria|yemen|iraq|"
        r"afghanistan|"
        r"my|anh|uc|phap|duc|nuoc ngoai|gian khoan|tau)",
        r"(?:engineer|doctor|surgeon|nurse|soldier|officer|captain|sailor)(?:\s+\w+){0,3} "
        r"(?:in|on|at|with) (?:syria|yemen|iraq|afghanistan|an oil rig|a ship|the un|abroad)",
        r"diplomat\w*", r"nha ngoai giao",
        r"(?:package|parcel|box|kien hang|thung qua|hop qua|buu kien)(?:\s+[\w.,']+){0,6} "
        r"(?:held|stuck|detained|giu|mac ket|tam giu)(?:\s+\w+){0,3} (?:airport|san bay)",
        r"gui (?:tien|qua|do|thung qua|hop qua) (?:\w+\s+){0,4}(?:ve )?(?:cho|tang) (?:em|e)",
        # A gift said to hold gold, a watch or dollars, sent by someone abroad.
        r"qua (?:\w+\s+){0,5}(?:co|gom|chua) (?:\w+\s+){0,3}(?:vang|trang suc|dong ho|rolex|"
        r"kim cuong|do la|usd)",
        r"(?:anh|a|em|e|minh) (?:dang )?(?:o|song|lam viec o) nuoc ngoai",
        # Third round: a sweetheart's gift that only arrives once the reader pays a fee
        # ("quà anh gửi … phải nộp phí bảo hiểm mới giao").
        r"qua (?:cua )?(?:anh|a|em|e) (?:da )?gui(?:\s+[\w.,]+){0,14} (?:phi|le phi) "
        r"(?:\w+\s+){0,2}(?:bao hiem|thong quan|hai quan|kiem dinh|quoc te)",
        r"(?:gift|parcel|package|box) i sent(?:\s+[\w.,]+){0,14} (?:insurance|customs|"
        r"clearance) (?:fee|charge|cost)"),
        frozenset({PAY, DATA, LINK})),
    ScamType("relative_new_number", "MSG-TYPE-012", _rx(
        r"(?:con|em|chau|minh|anh|chi) (?:da |moi )?doi so", r"so (?:dien thoai )?moi",
        r"dung (?:so|nick|zalo|facebook) (?:moi|nay)", r"(?:mat|hong|bi hack) (?:\w+\s+){0,2}"
        r"(?:zalo|facebook|dien thoai|may)", r"dien thoai (?:\w+\s+){0,2}(?:bi )?hong",
        r"new (?:phone )?number", r"(?:lost|broke) my phone", r"my phone (?:broke|is broken)",
        r"changed my (?:phone )?number", r"(?:thay|doi) (?:so|sim) (?:dien thoai|moi)",
        r"new (?:zalo|facebook|account|nick)",
        r"(?:zalo|nick|facebook|fb|sim|acc|account) moi",
        r"(?:zalo|nick|facebook|fb|sim|so|acc) cu "
        r"(?:\w+\s+){0,3}(?:bi )?(?:mat|hack|khoa|hong)",
        r"(?:old|cu) (?:one|zalo|nick|account) "
        r"(?:\w+\s+){0,2}hack\w*",
        # A relative in an emergency, or writing from a borrowed phone.
        r"(?:bi|gap) tai nan", r"dang cap cuu", r"(?:dang|nam) (?:o )?(?:benh )?vien",
        r"bi (?:cong an|canh sat) (?:giu|bat)",
        r"(?:nhan|goi) (?:bang|tu|qua) (?:so|may|dien thoai) (?:cua )?ban",
        r"(?:so|sim|zalo|nick) (?:\w+\s+){0,2}bi khoa",
        r"(?:temporary|new|other) (?:phone )?number", r"so (?:tam|phu)",
        r"my phone (?:fell|was stolen|died|got)", r"(?:muon|dung) (?:may|dien thoai) (?:cua )?ban",
        r"(?:had|was in) an accident", r"in (?:the )?hospital", r"it'?s me\b",
        r"(?:i'?m|i am) in trouble", r"don'?t tell (?:mum|mom|dad|anyone)"),
        frozenset({PAY})),
    ScamType("tax_refund", "MSG-TYPE-003", _rx(
        r"hoan thue", r"(?:tong )?cuc thue", r"chi cuc thue", r"co quan thue", r"can bo thue",
        r"thue (?:tncn|thu nhap ca nhan|dien tu)", r"quyet toan thue", r"ma so thue", r"etax\w*",
        r"tax (?:refund|office|authority|department|code)", r"taxation"),
        frozenset({PAY, DATA, INSTALL, LINK, CONTACT})),
    ScamType("bhxh_refund", "MSG-TYPE-004", _rx(
        r"bhxh", r"bao hiem xa hoi", r"vssid", r"so bao hiem", r"social insurance",
        r"(?:bao hiem|tro cap) that nghiep", r"luong huu", r"unemployment (?:benefit|insurance)",
        r"pension", r"vss", r"health insurance card"),
        frozenset({PAY, DATA, INSTALL, LINK, CONTACT})),
    ScamType("evn_cutoff", "MSG-TYPE-005", _rx(
        r"dien luc", r"evn\w*", r"tien dien", r"cat dien", r"ngung cap dien", r"cong to",
        r"hoa don dien", r"electricity", r"power (?:cut|will be)", r"disconnected"),
        frozenset({PAY, DATA, INSTALL, LINK, CONTACT, REMOTE})),
    ScamType("vneid", "MSG-TYPE-002", _rx(
        r"vneid", r"dinh danh", r"muc (?:2|hai)", r"dich vu cong", r"du lieu dan cu",
        r"(?:thong tin|ho so|du lieu) cu tru", r"cu tru", r"can cuoc dien tu",
        r"level ?2", r"e-?id", r"electronic id", r"residence data", r"population database",
        r"public service portal", r"citizen (?:account|data|identity)"),
        frozenset({PAY, DATA, INSTALL, LINK, CONTACT})),
    ScamType("police_impersonation", "MSG-TYPE-001", _rx(*_POLICE),
             frozenset({PAY, DATA, INSTALL, LINK, CONTACT, REMOTE, SECRECY})),
    ScamType("job_task", "MSG-TYPE-009", _rx(
        r"ctv", r"cong tac vien", r"viec (?:lam )?(?:them|online|tai nha)",
        r"lam (?:tai nha|online)", r"nhiem vu", r"hoa hong", r"tha tim",
        r"danh gia (?:\d )?(?:\w+\s+)?san pham", r"don (?:hang )?ao",
        r"tang (?:tuong tac|doanh so)",
        r"like (?:\w+\s+){0,2}(?:video|san pham)",
        r"part-? ?time", r"tasks?", r"commission", r"rate (?:hotels|products)",
        r"liking (?:\w+\s+)?videos?", r"earn \d+",
        r"(?:nhan vien|viec|cong viec) (?:\w+\s+){0,2}tai nha",
        r"kiem tien (?:online|tai nha|tren mang)", r"xem quang cao",
        r"work (?:online|from home|at home)", r"(?:online|remote|home-based) (?:job|work)",
        r"(?:tuyen|can) (?:\w+\s+){0,4}tai nha", r"go chu", r"nhan viec (?:ngay|tai nha|online)",
        r"hiring (?:\w+\s+){0,3}(?:online|from home|at home)",
        # Paid to watch or like videos, paid by the day.
        # (paid: "xem video này hay lắm" shares a clip.)
        r"(?:xem|like|tha tim|follow|theo doi) (?:\w+\s+){0,2}(?:video|clip|tiktok|youtube|kenh)"
        r"(?:\s+[\w.,\-]+){0,6} (?:luong|tra luong|tra tien|hoa hong|kiem|\d+ ?k)",
        r"(?:tra )?luong (?:theo )?(?:ngay|gio)",
        r"(?:paid|pay\w*|earn\w*) (?:\w+\s+){0,4}(?:to )?(?:watch|like)\w* (?:\w+\s+){0,2}"
        r"videos?"),
        frozenset({PAY, CONTACT, LINK, INSTALL}),
        strong=_rx(r"viec nhe luong cao", r"(?:tha tim|like|danh gia) (?:\w+\s+){0,6}"
                   r"(?:hoa hong|nhan \d|\d+ ?k)", r"don (?:hang )?ao",
                   r"(?:lam|nap tien lam) nhiem vu", r"(?:ung|nap) (?:\w+\s+)?truoc",
                   r"each task pays", r"(?:earn|pays?) (?:\w+\s+){0,3}(?:a|per|every) day",
                   # The late stage: "combo" orders, and more orders before any withdrawal.
                   r"don combo", r"combo (?:\w+\s+)?\d+ don",
                   r"(?:hoan thanh|lam) (?:them |not |du )?(?:\d+ )?(?:don|nhiem vu)"
                   r"(?:\s+\w+){0,3} (?:moi |la |thi |de )?(?:duoc )?rut",
                   r"complete (?:\w+\s+){0,3}(?:tasks|orders) (?:\w+\s+){0,2}(?:to|before you) "
                   r"withdraw")),
    ScamType("online_loan", "MSG-TYPE-010", _rx(
        r"vay (?:tien )?(?:online|nhanh|gap|\d+)", r"giai ngan", r"khoan vay", r"ho so vay",
        r"khong (?:can )?tham dinh", r"no xau", r"loan\w*", r"no credit check",
        r"(?:vay|no) (?:\w+\s+){0,2}app", r"app (?:vay|cho vay)"),
        frozenset({PAY, DATA, INSTALL, LINK, CONTACT}),
        strong=_rx(r"giai ngan (?:trong )?\d+ phut", r"chi can (?:cccd|can cuoc|cmnd)",
                   # Loan-app extortion: shaming the borrower to the contact list.
                   r"(?:gui|dang|phat tan|boc phot|bia) (?:\w+\s+){0,4}(?:anh|hinh|thong tin) "
                   r"(?:\w+\s+){0,5}(?:danh ba|nguoi than|dong nghiep|(?<!may\s)cong ty)",
                   r"khung bo (?:\w+\s+)?(?:danh ba|dien thoai)",
                   r"(?:send|post|share) (?:\w+\s+){0,3}(?:photos?|pictures?) (?:\w+\s+){0,4}"
                   r"(?:contacts|family|employer|colleagues)",
                   r"no credit check", r"only (?:your )?(?:citizen )?id")),
    ScamType("investment", "MSG-TYPE-011", _rx(
        r"dau tu", r"loi nhuan", r"lai (?:suat )?(?:dam bao )?\d+ ?%", r"san (?:giao dich|forex)",
        r"tien ao", r"usdt", r"bitcoin", r"crypto\w*", r"forex", r"chung khoan", r"copy trad\w*",
        r"co phieu",
        r"vang ky thuat so", r"invest(?!igat)\w*", r"returns", r"profit\w*", r"trading"),
        frozenset({PAY, LINK, CONTACT, INSTALL}),
        strong=_rx(r"(?:cam ket|bao dam|dam bao) (?:\w+\s+){0,3}"
                   r"(?:loi nhuan|lai|khong lo|hoan von)",
                   r"loi nhuan (?:\w+\s+){0,2}\d+(?:[.,]\d+)?(?:\s*-\s*\d+)? ?% ?(?:/ ?)?"
                   r"(?:moi |mot )?(?:ngay|thang|tuan)",
                   # A loan's "lãi suất 1,5%/tháng" is a rate, not a promised gain.
                   r"lai (?!suat)(?:\w+\s+){0,2}\d+(?:[.,]\d+)?(?:\s*-\s*\d+)? ?% ?(?:/ ?)?"
                   r"(?:moi |mot )?(?:ngay|thang|tuan)",
                   r"lai suat (?:\w+\s+){0,2}\d+(?:[.,]\d+)? ?% ?(?:/ ?)?(?:moi |mot )?"
                   r"(?:ngay|tuan)",
                   r"guarantee\w* (?:\d+ ?% )?(?:\w+\s+)?(?:profit|return)s?",
                   # "lời 30%/tháng chắc chắn": "lời" is "lãi" in speech.
                   r"loi (?:\w+\s+){0,2}\d+(?:[.,]\d+)?(?:\s*-\s*\d+)? ?% ?(?:/ ?)?"
                   r"(?:moi |mot )?(?:ngay|thang|tuan)",
                   r"\d+ ?% ?(?:/ ?)?(?:moi |mot )?(?:ngay|thang|tuan) (?:\w+\s+){0,2}"
                   r"(?:chac chan|dam bao|cam ket)",
                   r"never lose", r"khong (?:rui ro|lo)")),
    ScamType("delivery_fee", "MSG-TYPE-007", _rx(
        r"buu kien", r"buu pham", r"don hang", r"kien hang", r"giao hang", r"shipper",
        r"van don", r"giao lai", r"that lac", r"boi thuong", r"parcel", r"package",
        r"(?:hang|kien|buu pham|buu kien) (?:cua (?:ban|quy khach) )?(?:bi|dang bi) "
        r"(?:giu|tam giu)", r"j ?& ?t(?: express)?", r"ghn", r"ghtk", r"vnpost", r"viettel ?post",
        r"ninja ?van", r"shopee ?express", r"spx",
        r"deliver\w*", r"shipment"),
        frozenset({PAY, DATA, LINK}),
        strong=_rx(r"(?:boi thuong|den bu|hoan tien|compensat\w*) (?:[\w.,%]+\s+){0,12}"
                   r"(?:ket ban|zalo|telegram|lien he|nhan tin|contact)",
                   # ... or the chat app first: "ib zalo 08… để em hoàn tiền".
                   r"(?:ket ban|kb|ib|inbox|nhan tin) (?:zalo|telegram)(?:\s+[\w.,]+){0,8} "
                   r"(?:hoan tien|boi thuong|den bu|refund\w*)")),
    ScamType("prize_fee", "MSG-TYPE-008", _rx(
        r"trung (?:thuong|giai)", r"khach hang may man", r"quay so", r"nhan (?:giai|thuong|xe)",
        r"you(?: have|'ve)? won", r"prize", r"lucky draw", r"(?:lucky )?winner",
        r"(?:duoc chon|may man) (?:\w+\s+){0,3}nhan", r"voucher",
        r"selected to (?:receive|win|get)", r"(?:tet|cash|year-end|holiday) bonus",
        r"(?:anniversary|customer|year-?end|year end|monthly|annual|lucky) (?:\w+\s+)?draw",
        r"(?:picked|chosen|selected|drawn) (?:\w+\s+){0,3}(?:draw|lottery|raffle)", r"selected in",
        r"(?:lucky|prize) (?:spin|wheel|draw)", r"(?:account|number|phone) (?:has )?won",
        r"(?:chosen|selected) as (?:a |our )?(?:\w+\s+){0,2}customer", r"receive a gift",
        r"qua tri an", r"trung (?:phieu qua|qua|voucher|phan thuong)",
        r"chuc mung (?:quy khach|thue bao|ban|bn|khach hang) (?:\w+\s+){0,4}"
        r"(?:nhan|trung|duoc)",
        # What was "won": a thing of value, a lucky spin or a mini game.
        r"(?:da )?trung (?:\d+ |mot )?(?:chi vang|xe (?:may|o to|oto|sh)|o to|oto|tu lanh|tivi|"
        r"ti vi|iphone|dien thoai|laptop|may giat|vang|tien mat)", r"giai thuong",
        r"vong quay(?: may man)?", r"mini ?game", r"quay thuong"),
        # "Gọi lại tổng đài … trước 17h, quá hạn giải thưởng sẽ bị hủy": a call under pressure.
        frozenset({PAY, DATA, LINK, CONTACT})),
    ScamType("bank_card", "MSG-TYPE-006", _rx(
        r"the tin dung", r"han muc",
        # Fourth round: a service or charge said to be on the reader's card, to cancel.
        r"(?:dang ky|tru|thu|khau tru|gia han) (?:\S+\s+){0,6}tren (?:the|tai khoan)"
        r"(?! cua (?:em|anh|chi|con|toi|minh))",
        r"(?:charged?|subscri\w+) (?:\S+\s+){0,6}(?:on|to) your (?:\w+\s+)?card",
        r"(?:account|card|subscription) (?:\w+\s+){0,2}(?:was|has been) charged",
        r"the (?:chip|tu|atm|visa|master ?card|jcb|napas|ghi no|debit)",
        r"phi thuong nien", r"annual fee", r"sinh trac hoc", r"nang hang",
        r"(?:nang cap|doi|kich hoat) the", r"(?:nhan vien|ky thuat vien|bo phan \w+) ngan hang",
        r"(?:tai khoan|app|ung dung) ngan hang", r"ngan hang \w+ thong bao",
        r"credit (?:card|limit)", r"card limit", r"biometric\w*", r"bank (?:staff|officer|account)",
        r"(?:from|at) your bank", r"banking app", r"cvv",
        r"(?:pending|suspicious|unusual|unauthori[sz]ed) (?:\w+\s+){0,2}(?:payment|transaction)s?"
        r"(?:\s+\w+){0,4} (?:on|to|from) your (?:\w+\s+)?card",
        r"giao dich (?:[\w.,]+\s+){0,2}(?:bat thuong|dang cho|chua xac nhan) (?:\w+\s+){0,4}the",
        r"(?:unusual|suspicious|strange) (?:login|sign ?in)",
        r"(?:login|sign ?in) from (?:a |an )?(?:new|unknown) device",
        r"dang nhap (?:\w+\s+){0,2}(?:tren|tu|o|bang) (?:mot )?thiet bi (?:la|moi)"),
        # A bank's care is its hotline, never a mobile number or a Zalo account.
        frozenset({PAY, DATA, INSTALL, LINK, REMOTE, CONTACT})),
)
TYPE_BY_ID: Mapping[str, ScamType] = {t.id: t for t in TYPES}


@dataclass(frozen=True, slots=True)
class TypeMatch:
    """A family the message belongs to, and why."""

    type: ScamType
    topic: str
    """The folded phrase that named the topic (or the strong phrase)."""
    start: int
    end: int
    """Where ``topic`` is in the folded text."""
    demands: tuple[str, ...]
    """The demands present that the type accepts (empty for a strong phrase alone)."""


def _first(pattern: re.Pattern[str] | None, folded: str,
           negated: Callable[[int], bool]) -> re.Match[str] | None:
    if pattern is None:
        return None
    for m in pattern.finditer(folded):
        if not negated(m.start()):
            return m
    return None


def _never(_pos: int) -> bool:
    return False


def demands_of(folded: str, rules: Iterable[str], strangers: bool, hosts: Iterable[str],
               mobiles: int, negated: Callable[[int], bool] | None = None,
               official: bool = False) -> frozenset[str]:
    """The demands a message makes, from its folded text and what the scanner found.

    ``rules`` are the counted MSG-* rule ids, ``strangers`` whether a link nobody
    vouches for (and that is not the named sender's own site) is present, ``hosts``
    the link hosts, ``mobiles`` how many mobile phone numbers the text gives,
    ``negated(pos)`` whether the phrase at ``pos`` is negated ("không cần đặt cọc"
    asks for nothing).

    Paying is a request to the reader (:data:`MONEY_ASK`), not any mention of a
    transfer: "con chuyển khoản tiền điện cho mẹ rồi" reports one. A bill paid through
    an official link (``official``: the message carries one and no stranger's) or the
    reader's own channel (:data:`OWN_CHANNEL`) is no such ask either, unless the
    message gives an account or a mobile number to pay.
    """
    neg = negated or _never
    has = set(rules)
    out: set[str] = set()
    own_channel = ((official and not strangers) or bool(OWN_CHANNEL.search(folded))) and not (
        mobiles or TO_ACCOUNT.search(folded) or strangers or ADVANCE_FEE.search(folded))
    if _first(MONEY_ASK, folded, neg) and not (COD.search(folded)
                                               and not TRANSFER.search(folded)) and not own_channel:
        out.add(PAY)
    if has & {"MSG-DATA-001", "MSG-DATA-002", "MSG-DATA-003"}:
        out.add(DATA)
    if has & {"MSG-APP-001", "MSG-APP-002", "MSG-APP-003"}:
        out.add(INSTALL)
    if "MSG-APP-004" in has:
        out.add(REMOTE)
    if strangers:
        out.add(LINK)
    host_list = [h.lower() for h in hosts]
    masked = any("x" in m.group(1) for m in MASKED_MOBILE.finditer(folded))
    if mobiles or masked or _first(CONTACT_ASK, folded, neg):
        out.add(CONTACT)
    elif has & {"MSG-URG-001", "MSG-URG-002"} and _first(CALL_BACK, folded, neg):
        out.add(CONTACT)  # a call-back under a deadline or threat, landline or not
    if _first(SECRECY_ORDER, folded, neg):
        out.add(SECRECY)
    if GROUP_LINK.search(folded) or GROUP_WORDS.search(folded):
        out.add(GROUP)
    if any(h in FILE_HOSTS or any(h.endswith("." + f) for f in FILE_HOSTS) for h in host_list):
        out.add(FILE_HOST)
    elif FILE_HOST_WORDS.search(folded):
        out.add(FILE_HOST)  # "tải file … trên Google Drive em gửi": the host named, not linked
    return frozenset(out)


def classify(folded: str, demands: frozenset[str],
             negated: Callable[[int], bool] = _never) -> list[TypeMatch]:
    """Every family whose topic meets one of its demands (or a strong phrase), most
    specific first.

    ``negated(pos)`` says whether the phrase at ``pos`` of the folded text is negated
    ("không tin dịch vụ lấy lại tiền"); such a phrase names no topic.
    """
    out: list[TypeMatch] = []
    for t in TYPES:
        met = tuple(sorted(demands & t.demands))
        if t.id == "apk_file_host":
            # An app (not photos or documents) offered through a file host or channel.
            # The family is Android apps: software for a computer is something else.
            if met and (".apk" in folded or (INSTALL in demands
                                             and not COMPUTER.search(folded))):
                m = _first(t.topic, folded, negated)
                if m:
                    out.append(TypeMatch(t, m.group(), m.start(), m.end(), met))
            continue
        if t.id == "evn_cutoff" and not demands & {LINK, INSTALL, DATA, REMOTE} and \
                HOUSEHOLD.search(folded):
            continue  # the room's power bill between landlord and tenant
        if t.id == "remote_control_app" and not demands & {PAY, DATA, LINK} and \
                message_advice.everyday_remote(folded):
            continue  # the office IT on a work computer, asking for nothing else
        # The topic is searched only when one of its demands is there (the cheap test).
        m = _first(t.topic, folded, negated) if met else None
        if m:
            out.append(TypeMatch(t, m.group(), m.start(), m.end(), met))
            continue
        s = _first(t.strong, folded, negated)
        if s:
            out.append(TypeMatch(t, s.group(), s.start(), s.end(), met))
    return out
