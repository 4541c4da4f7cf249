"""Does a chat message warn about scams, or perform one?

Police, banks, BHXH, EVN and families forward warnings that *quote* the script
("kẻ gian giả danh công an yêu cầu chuyển tiền vào tài khoản tạm giữ…",
"MoMo không bao giờ thu phí để trao thưởng"). Their scam phrases are quoted,
not instructions. This module tells the two apart on the folded text
(lower case, no diacritics, as :mod:`scanners.message` makes it):

* :func:`advice_markers`: words only advice uses: "khuyến cáo", "cảnh giác",
  "thủ đoạn", "giả danh", "… không bao giờ yêu cầu", "… là lừa đảo", "beware",
  "never ask", "pretending to be"; and "cảnh báo"/"warning" when the text also
  names a scam (scripts say "Cảnh báo bảo mật: tài khoản bị khóa" too).
* :func:`mention_markers`: words a warning *and* a recovery script share
  ("scammers", "đối tượng lừa đảo", "bị lừa"): they make a warning only when the
  text asks the reader for nothing (see :func:`scanners.message.extract`).

It also knows the everyday uses of a remote-control app, :func:`everyday_remote`:
a colleague or the company's IT on an office computer (:func:`workplace_remote`), a
friend let onto the writer's own machine to help him.

Pure functions, no I/O; imports nothing of the scanner (no cycle).
"""

from __future__ import annotations

import re

# One phrase-pattern builder for every message module (possessive separators).
from scanners.message_signals import rx as _rx  # one builder for all message modules

# Words of advice: an instruction *about* scams, not one of their lines.
_ADVICE = _rx(
    r"khuyen cao", r"canh giac", r"than trong", r"de phong", r"phong tranh", r"thu doan",
    r"gia danh", r"mao danh", r"ke gian", r"doi tuong (?:xau|gia)",
    r"cac doi tuong", r"tuyet doi khong",
    r"khong bao gio (?:\w+\s+){0,3}(?:yeu cau|gui|goi|thu|nhan tin|lam viec|de nghi|hoi)",
    r"(?:la|deu la|chinh la|thuc chat la|co dau hieu) (?:\w+\s+){0,2}lua dao",
    r"lua (?:dao )?lan (?:hai|2|thu hai)",
    r"beware", r"be (?:careful|wary|alert)", r"watch out for", r"impersonat\w*",
    r"pretend\w* to be", r"posing as", r"(?:will )?never (?:\w+\s+){0,2}(?:(?:ask|send|call|"
    r"request|charge|text)\w*|do this)", r"(?:is|are) (?:all |always )?(?:a )?(?:scams?|fraud\w*)",
    r"second scam", r"so-?called",
    # Second round: someone posing as a role ("có người giả shipper gọi…"), and a sender's
    # disclaimer ("MB không gửi link yêu cầu cài đặt ứng dụng").
    r"(?:nguoi|ke|doi tuong|bon|may dua|thang) gia (?:lam )?(?:\w+\s+)?(?:shipper|nhan vien|"
    r"can bo|cong an|buu ta|ngan hang|nguoi than|bac si|giao vien)",
    r"(?:khong|never) (?:\w+\s+)?(?:gui|send\w*) (?:\w+\s+){0,2}(?:link|duong link|duong dan|"
    r"links?) (?:\w+\s+){0,2}(?:yeu cau|de|asking|to)",
    # Third round (heldout5 read). What makes a real notice benign: the sender says what
    # it never does ("Điện lực không gọi điện yêu cầu…", "Shopee không tuyển cộng tác
    # viên…"), it points to its official channels ("chỉ đăng trên trang … chính thức",
    # "tổng đài in trên hóa đơn"), or a friend judges the offer ("lừa đấy em", "thấy
    # nhóm nào … thì đừng vào").
    r"(?:khong|never) (?:\w+\s+)?(?:goi dien|nhan tin|gui tin nhan|lien he|lien lac|tuyen|"
    r"call\w*|text\w*|recruit\w*|hire\w*) (?:\w+\s+){0,3}(?:yeu cau|de nghi|doi|asking|to ask|"
    r"(?:qua|tren|via|on|through) (?:zalo|telegram|facebook|mang xa hoi|social media))",
    r"chi (?:\w+\s+){0,2}(?:dang|thong bao|cong bo|lien he|giao dich|ho tro|tuyen dung|dang tai) "
    r"(?:\w+\s+){0,2}(?:tren|qua|tai|o) (?:\w+\s+){0,4}chinh thuc",
    r"only (?:\w+\s+){0,3}(?:through|via|on|at|from) (?:\w+\s+){0,3}official",
    r"(?:in|ghi) (?:tren|o) (?:mat sau (?:cua )?)?(?:hoa don|the ngan hang|the atm)",
    r"(?:printed )?on the back of (?:your|the) (?:card|bill)",
    r"lua (?:dao )?day", r"(?:thay|gap) (?:\S+\s+){1,12}thi dung (?:co )?(?:vao|tin|tham gia|"
    r"bam|nghe|chuyen|nap|dau tu)",
)
# "Cảnh báo" / "warning" opens scripts too ("Cảnh báo bảo mật…"): advice only beside
# the name of a scam.
_ALERT = _rx(r"canh bao", r"warn\w*", r"scam alert")
_SCAM_WORD = _rx(r"lua dao", r"gia mao", r"mao danh", r"gia danh", r"ke gian", r"thu doan",
                 r"doi tuong", r"scam\w*", r"fraud\w*", r"fake")
# Words a warning shares with a recovery script ("we get your money back from the
# scammers"): a warning only if nothing is asked.
_MENTION = _rx(r"scammers?", r"fraudsters?", r"doi tuong lua dao", r"bi lua(?: dao)?",
               r"nan nhan", r"victims?", r"lua dao")
# A service on offer ("chúng tôi lấy lại tiền", "our agents", "liên hệ ngay"): a
# recovery script, not a warning, whatever scam words it shares with one.
_OFFER = _rx(r"(?:chung toi|ben (?:em|minh|toi)|doi ngu|van phong) (?:\w+\s+){0,4}(?:giup|ho tro|"
             r"lay lai|thu hoi|cam ket)", r"lien (?:he|lac) ngay", r"contact us",
             r"we (?:can |will |have )?(?:\w+\s+)?(?:help|recover|get|start)",
             r"our (?:\w+\s+){0,2}(?:team|agents?|agency|lawyers?|experts?|hackers?)")

# The sender introduces himself as an official or staff ("tôi là cán bộ điều tra",
# "I'm from your bank"): a script speaks so; a warning speaks of "đối tượng", "kẻ gian".
# (Written with \s+: a plain space would let "im" + "personating" read as "I'm".)
_SELF_CLAIM = _rx(
    r"(?:toi|em|minh|chung\s+toi|anh|chau|day)\s+(?:la|ben|o|thuoc|tu)\s+(?:\w+\s+){0,2}"
    r"(?:can\s+bo|cong\s+an|canh\s+sat|chien\s+si|nhan\s+vien|dieu\s+tra|ngan\s+hang|"
    r"dien\s+luc|co\s+quan|toa\s+an)",
    r"(?:i\s+am|i'?m|this\s+is|we\s+are)\s+(?:\w+\s+){0,3}(?:officer|police|investigator|"
    r"from\s+(?:your|the)\s+(?:bank|police|tax|court))")

# A remote-control app on an office computer, for the company's IT or a colleague.
_WORK_COMPUTER = _rx(
    r"(?:may tinh|may in|may|laptop|pc) (?:cua )?(?:cong ty|van phong|co quan|phong)",
    r"(?:work|office|company) (?:laptop|computer|pc|machine)",
    # Fourth round: the company's own policy on the tool ("phần mềm AnyDesk do công ty cấp
    # phép", "phiếu yêu cầu trên hệ thống nội bộ"), not a stranger's call.
    r"do cong ty (?:cap phep|cung cap|cap|mua)", r"he thong noi bo", r"phieu (?:yeu cau|ho tro)",
    r"company-?(?:issued|licensed|approved|provided)", r"internal (?:ticket|system|helpdesk)")
_WORK_IT = _rx(r"(?:phong|ben|bo phan|team|anh|chi|em|ky thuat) it", r"it (?:cong ty|helpdesk|team|"
               r"support|department)", r"(?:office|company) it", r"helpdesk",
               r"phan mem ke toan", r"accounting software")


# A community's own group (fourth round): the residents of a building or street, a class
# and its parents, a club, neighbours; its members are invited by who runs it.
_COMMUNITY = _rx(
    r"cu dan", r"ban quan ly", r"bql", r"to dan pho", r"khu pho", r"phu huynh", r"hoi phu huynh",
    r"(?:nhom|group) (?:zalo |telegram )?(?:lop|cau lac bo|clb|doi bong|hang xom|gia dinh|ho hang|"
    r"cuu hoc sinh|dong huong)", r"residents?", r"neighbou?rs?", r"parents'? (?:group|chat)",
    r"class (?:group|chat)", r"alumni", r"homeowners")


def community_group(folded: str) -> bool:
    """The message speaks of a community's own group: residents, parents, a class, a
    club ("Nhóm Zalo cư dân chung cư…", "nhóm phụ huynh lớp 3A")."""
    return bool(_COMMUNITY.search(folded))


def advice_markers(folded: str) -> list[str]:
    """The phrases of ``folded`` that only advice about scams uses (may be empty)."""
    out = [m.group() for m in _ADVICE.finditer(folded)]
    if _SCAM_WORD.search(folded):
        out += [m.group() for m in _ALERT.finditer(folded)]
    return out


def mention_markers(folded: str) -> list[str]:
    """Scam words that both a warning and a recovery script use; none when the text
    offers a service (a recovery script)."""
    if _OFFER.search(folded):
        return []
    return [m.group() for m in _MENTION.finditer(folded)]


# The writer opens his own machine to the reader ("tao cài AnyDesk để mày sửa lỗi Excel
# giúp tao"): a script has the *reader* install it and read out the code. The pronouns
# are the unambiguous first person ("em"/"anh" can be either side, so not them).
_OWN_MACHINE = _rx(
    r"(?:tao|toi|to) (?:da |vua |moi |dang |se )?(?:cai|tai|mo|bat)(?: dat| ve)? (?:\w+\s+)?"
    r"(?:anydesk|teamviewer|ultra ?viewer|rustdesk|team viewer|any desk) (?:\S+\s+){0,4}"
    r"(?:de|cho) (?:may|ban|cau|anh|chi|em|ong|ba|bac) (?:\w+\s+)?(?:sua|xem|giup|vao|ho tro|"
    r"kiem tra|cai|chinh)",
    r"i (?:have |just |'ve )?(?:installed|opened|started) (?:\w+\s+){0,2}(?:anydesk|teamviewer|"
    r"ultraviewer|rustdesk) (?:\w+\s+){0,3}(?:so|for) (?:you|u) (?:can|to)")


def everyday_remote(folded: str) -> bool:
    """A remote-control app used as people use it every day: the office IT on a work
    computer (:func:`workplace_remote`), or the writer letting the reader onto his own
    machine to help him."""
    return workplace_remote(folded) or bool(_OWN_MACHINE.search(folded))


def workplace_remote(folded: str) -> bool:
    """A remote-control app asked for on an office computer by the company's IT or a
    colleague ("phòng IT nhờ chị mở TeamViewer trên máy tính công ty")."""
    return bool(_WORK_COMPUTER.search(folded) and _WORK_IT.search(folded))


# Typing one's own ID and password into an app to log in is not handing them over.
_LOGIN = _rx(r"dang nhap", r"log ?in", r"sign ?in", r"ch ?play", r"google play", r"play store",
             r"app ?store", r"kho ung dung")
_ENTER = re.compile(r"(?:nhap|dien|enter|type)(?![a-z0-9])")
_LOG_IN = re.compile(r"(?:dang[\s_\-]*nhap|log[\s_\-]*in|sign[\s_\-]*in)(?![a-z0-9])")


def own_login(phrase: str, clause: str) -> bool:
    """``phrase`` (a folded data request) is typing into an app to log in: its verb is
    "nhập"/"enter" and ``clause`` (the folded text around it) speaks of logging in or
    an app store ("mở app VNeID, nhập số căn cước và mật khẩu là đăng nhập được")."""
    if _LOG_IN.match(phrase):
        return True  # "đăng nhập tại …": a password given to where the link goes
    return bool(_ENTER.match(phrase) and _LOGIN.search(clause))


def self_claim(folded: str) -> bool:
    """The sender says who he is, an official or staff ("tôi là cán bộ điều tra")."""
    return bool(_SELF_CLAIM.search(folded))
