"""Chat messages: extract what a forwarded message carries and judge the whole.

A chatbot forwards the text a worried person received ("Cán bộ công an phường
thông báo tài khoản định danh mức 2 của bạn chưa được cập nhật, vui lòng tải
ứng dụng tại dichvucong-gov[.]com…"). :func:`check_message` answers it:

1. :func:`extract` finds the links (:mod:`scanners.message_links`; defanged
   ones included: ``hxxp``, ``[.]``, ``(.)``, ``(dot)``, spaces around dots,
   zero-width and full-width characters, bare hosts with a real public suffix, shortened links), the
   Vietnamese phone numbers, the APK file names and remote-control apps, and
   the scam-script phrases, each with its offsets in the original text;
2. every link gets its own report from the link scanners (offline, and the
   live ones on a few links within a bounded time);
3. :class:`MessageScanner` turns the phrases, the items and the link verdicts
   into ``MSG-*`` findings; combination rules score the script as a whole
   ("police + install an app + link" is dangerous even when the link is new);
4. :func:`aggregate` gives the score and the verdict: never calmer than the
   worst link, whose own score the MSG-LINK-* findings carry;
   :mod:`scanners.message_types` names the scam family (``scam_type``) and
   :mod:`scanners.message_reply` writes the reply a bot can post as is
   (``headline``, ``steps``, ``if_already``, ``hotlines``, ``reply``).

Phrases are matched on a folded view of the text (:mod:`scanners.message_view`:
lower case, Vietnamese diacritics stripped, zero-width characters dropped,
full-width forms mapped to ASCII), so "cán bộ công an" and "can bo cong an" are
the same signal; an index map keeps the offsets in the original text. Warnings
not to share a code ("không chia sẻ mã OTP") are negations and do not count,
nor do phrases that describe a trick ("giả danh cán bộ công an") in a message
that sends no unknown link or app.

Pure domain logic: no FastAPI, no I/O besides what the live link scanners do.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanners import (
    identifiers,
    message_advice,
    message_model,
    message_reply,
    message_types,
    rules,
)
from scanners.base import CheckIncomplete, Scanner
from scanners.errors import InputError
from scanners.findings import Finding, aggregate
from scanners.message_links import MAX_LINKS as MAX_LINKS
from scanners.message_links import LinkItem as LinkItem
from scanners.message_links import find_links as find_links
from scanners.message_signals import CATEGORIES
from scanners.message_view import View, folded_view
from scanners.normalize import ParsedURL
from scanners.registry import fold_vietnamese
from scanners.report import run_scanners, url_report
from scanners.url_offline import OfflineURLScanner

MAX_TEXT_CHARS = 10_000
"""Longest message accepted (characters)."""
MAX_PHONES = 10
MAX_APPS = 10
MAX_SIGNALS = 60
"""Script signals listed in a report (all of them still count)."""
LIVE_LINKS = 3
"""Links that get the live checks (the worst ones first)."""
LIVE_TIMEOUT = 15.0
"""Seconds the live checks of one message may take together."""

APP_STORES = frozenset({"play.google.com", "apps.apple.com", "itunes.apple.com",
                        "appgallery.huawei.com", "galaxystore.samsung.com"})


class MessageInputError(InputError):
    """The text cannot be checked (empty or too long); the message says why."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Control characters become spaces and lone surrogates U+FFFD, one for one.

    The length is kept, so that offsets into the cleaned text are offsets into
    what the caller sent.
    """
    return _CONTROL.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else " ", text)


def validate_text(text: str) -> str:
    """The cleaned text; :class:`MessageInputError` when empty or too long."""
    if len(text) > MAX_TEXT_CHARS:
        raise MessageInputError(
            f"the message is longer than {MAX_TEXT_CHARS} characters ({len(text)})")
    cleaned = clean_text(text)
    if not cleaned.strip():
        raise MessageInputError("the message is empty")
    return cleaned


# --- script signals (their phrases: scanners/message_signals.py) ------------------

_NEGATION = re.compile(
    r"(?<![a-z0-9])(?:khong|ko|hok|dung|chang|chua bao gio|never|do not|don't|dont|not|"
    r"no (?:one|need|app|download|link|guarantee\w*|such)|there (?:are|is) no|nobody|avoid|"
    r"without)(?![a-z0-9])")
# Folded, "đừng" (do not) is "dung" like "dụng" in "ứng dụng" (app) or "dùng" (use):
# only the written "đừng", or a bare "dung" outside these compounds, is a negation.
_DUNG_COMPOUND = re.compile(
    r"(?:ung|su|noi|tuyen|tin|ap|nguoi|tieu|trung|chung|cong|van|thich|khach hang|hay)\s*$")
_SECRECY = re.compile(
    r"\s+(?:duoc\s+|nen\s+)?(?:noi|bao|tiet lo|ke|chia se)(?:\s+\w+){0,3}?\s+(?:ai|nguoi than|"
    r"nguoi nha|gia dinh|ngan hang)(?![a-z0-9])|\s+tell\s+(?:anyone|anybody|your family)")
_NO_NEED = re.compile(r"\s+(?:can|need)(?![a-z0-9])")
_IF_NOT = re.compile(r"(?:neu|if|unless)\s+(?:\w+\s+){0,2}$")
# "không trả … thì tao gửi ảnh…" (pay, or else): "không … thì" is a condition, a threat.
_THEN = re.compile(r"(?:[^.!?;\n]|\.(?=\d)){0,60}?(?<![a-z0-9])thi(?![a-z0-9])")
_DESCRIBES = re.compile(
    r"(?:gia danh|mao danh|gia mao|gia lam|dong vai|tu xung|impersonat\w*|posing as|"
    r"pretend\w* to be|fake)\s*(?:la\s+|là\s+|as\s+)?(?:\w+\s+){0,2}$")
_CLAUSE_END = re.compile(r"[.!?;\n]")
_STORE_CONTEXT = re.compile(
    r"ch ?play|google play|play store|app ?store|kho ung dung|cua hang ung dung")
_NEG_WINDOW = 45
_TOPIC_NEG_WINDOW = 20


@dataclass(frozen=True, slots=True)
class Signal:
    """One scam-script phrase found in the text."""

    category: str
    rule_id: str
    text: str
    start: int
    end: int
    """Offsets in the original text (``text == original[start:end]``)."""
    note: str | None = None
    """Why it does not count: ``negated``, ``describes``, ``official_store``, ``warning``."""

    @property
    def counted(self) -> bool:
        return self.note is None

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "rule_id": self.rule_id, "text": self.text,
                "start": self.start, "end": self.end, "counted": self.counted,
                "note": self.note}


def _clause_before(v: str, pos: int, window: int = _NEG_WINDOW) -> str:
    """The folded text before ``pos`` in the same clause, at most ``window`` chars."""
    lo = max(0, pos - window)
    before = v[lo:pos]
    cut = None
    for m in _CLAUSE_END.finditer(before):
        cut = m.end()
    return before[cut:] if cut is not None else before


def _negated(view: View, pos: int, window: int = _NEG_WINDOW) -> bool:
    v = view.text
    before = _clause_before(v, pos, window)
    offset = pos - len(before)
    for m in _NEGATION.finditer(before):
        if m.group() == "dung":
            s, e = view.span(offset + m.start(), offset + m.end())
            word = unicodedata.normalize("NFC", view.original[s:e]).lower()
            # The word before may lie outside the window ("tín | dụng"): look at the text.
            lead = v[max(0, offset + m.start() - 20):offset + m.start()]
            if word != "đừng" and (word != "dung" or _DUNG_COMPOUND.search(lead)):
                continue
        # "không được nói với ai, chuyển…" orders secrecy: it negates the telling only.
        if _SECRECY.match(before, m.end()):
            continue
        # "không cần vốn, ib mình…" (no capital needed) is a selling point: it negates
        # nothing past its comma.
        if _NO_NEED.match(before, m.end()) and "," in before[m.end():]:
            continue
        # "To avoid arrest, pay…" names the threat; the order comes after the comma.
        if m.group() == "avoid" and "," in before[m.end():]:
            continue
        # "nếu không cài đặt…" (if you do not install) is a threat, not advice; so is
        # "không trả … thì …" (no "nếu" written).
        if not _IF_NOT.search(before[: m.start()]) and not _THEN.match(v, pos):
            return True
    return False


# A transfer already made or described in the passive is reported, not requested.
# "khi chuyển tiền" (when you transfer) names an occasion, not a request.
_REPORTED = re.compile(r"(?<![a-z0-9])(?:duoc|da|tiep tuc|khi|when(?: you)?)\s+$")


# The writer reports what they did ("I installed…", "we've downloaded…").
_DONE_BY_WRITER = re.compile(r"(?<![a-z0-9])(?:i|we)(?:'ve|'d| have| had| just| already)?\s+$")


def _not_a_gift(view: View, start: int, end: int) -> bool:
    """Folded, "nhận quà" (receive a gift) is also "nhân qua" / "nhận qua (app)"
    (via): with diacritics written, only "quà" is the lure."""
    written = unicodedata.normalize("NFC", view.original[start:end]).lower()
    return (bool(re.fullmatch(r"nh\S*[\s_\-]*qu\S*", written)) and not written.isascii()
            and "quà" not in written)


# Looking something up comes before "tại ứng dụng" (in the app), not "tải" (download).
_LOOK_UP = re.compile(r"(?<![a-z0-9])(?:xem|tra cuu|kiem tra|theo doi)(?:\s+\w+){0,3}\s+$")


def _at_not_download(view: View, start: int, vstart: int) -> bool:
    """Folded, "tại ứng dụng" (in the app: "tra cứu tại ứng dụng eTax") is also "tải
    ứng dụng" (download the app): with diacritics written, "tại" is a place; without,
    it is one after a verb of looking up ("xem chi tiết tai ung dung …")."""
    written = unicodedata.normalize("NFC", view.original[start:start + 4]).lower()
    if written.startswith("tại"):
        return True
    v = view.text
    return written.startswith("tai ") and bool(_LOOK_UP.search(v[max(0, vstart - 40):vstart]))


def _clause_around(v: str, start: int, end: int, width: int = 90) -> str:
    lo, hi = max(0, start - width), min(len(v), end + width)
    return v[lo:hi]


def find_signals(view: View) -> list[Signal]:
    """Every scam-script phrase of the view, with its offsets in the original text."""
    v = view.text
    out: list[Signal] = []
    for cat in CATEGORIES:
        for m in cat.pattern.finditer(v):
            start, end = view.span(m.start(), m.end())
            note: str | None = None
            vpos = m.start()
            if cat.negatable:
                if cat.verb_group:
                    g = next(g for g in ("v", "v2", "v3") if m.group(g) is not None)
                    vpos = m.start(g)
                if _negated(view, vpos):
                    note = "negated"
                elif cat.name == "install" and _STORE_CONTEXT.search(
                        _clause_around(v, m.start(), m.end())):
                    note = "official_store"
            if note is None and cat.name in ("secret_request", "id_request") and \
                    message_advice.own_login(v[vpos:m.end()],
                                             _clause_around(v, m.start(), m.end())):
                note = "login"  # counts only beside an unknown link (check)
            elif note is None and cat.name == "remote_control" and \
                    message_advice.everyday_remote(v):
                note = "workplace"  # counts only beside an unknown link (check)
            if cat.name in ("impersonation", "staff_impersonation") and _DESCRIBES.search(
                    _clause_before(v, m.start())):
                note = "describes"
            if note is None and cat.name == "install" and v[vpos:m.end()].endswith("ed") and \
                    _DONE_BY_WRITER.search(v[max(0, m.start() - 20):m.start()]):
                note = "describes"  # "I installed AnyDesk on your laptop…": done, not asked
            if note is None and cat.name == "payment" and _REPORTED.search(
                    v[max(0, m.start() - 16):m.start()]):
                note = "describes"  # "đã chuyển khoản", "tiền được chuyển vào tài khoản"
            if note is None and cat.name == "bait" and _not_a_gift(view, start, end):
                continue
            if cat.name == "install" and _at_not_download(view, start, m.start()):
                continue
            out.append(Signal(cat.name, cat.rule_id, view.original[start:end], start, end,
                              note))
    out.sort(key=lambda s: (s.start, s.end))
    return out



# --- phone numbers ------------------------------------------------------------------

_S = r"[ .\-]?"
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?P<mp>\+84|0084|84|0){_S}(?:\(0\){_S})?(?P<mn>[35789](?:{_S}\d){{8}})"
    rf"|(?:(?P<lp>\+84|0084|84){_S}|\(?0)(?P<ln>2(?:\)?{_S}\d){{9}})"
    rf"|(?P<hn>1[89]00(?:{_S}\d){{4}}(?:(?:{_S}\d){{2}})?)"
    rf")(?!{_S}\d)"
)
_SHORT = re.compile(r"(?<![\w.+])(11[345])(?![\w]|[.,]\d)")
_SHORT_CONTEXT = re.compile(
    r"(?:goi|call|dial|so|hotline|duong day nong|lien he|tong dai|bao)\W*(?:\w+\W+){0,2}$")
_EMERGENCY = {"113": ("police emergency", "Công an (khẩn cấp)"),
              "114": ("fire and rescue", "Cứu hỏa, cứu nạn"),
              "115": ("ambulance", "Cấp cứu")}


@dataclass(frozen=True, slots=True)
class PhoneItem:
    input: str
    number: str
    """``+84…`` for mobile and landline numbers; as dialled for 1800/1900 and 113-115."""
    type: str
    start: int
    end: int

    def to_dict(self, lang: str) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": "phone", "input": self.input, "number": self.number,
                             "type": self.type, "start": self.start, "end": self.end}
        if self.number in _EMERGENCY:
            en, vi = _EMERGENCY[self.number]
            d["note"] = (f"Số khẩn cấp chính thức: {vi}" if lang == "vi"
                         else f"Official emergency number: {en}")
        elif self.type == "premium":
            d["note"] = ("Số 1900 tính cước cao cho người gọi" if lang == "vi"
                         else "1900 numbers are charged at a premium rate to the caller")
        return d


def find_phones(view: View, limit: int = MAX_PHONES) -> list[PhoneItem]:
    """Vietnamese phone numbers, normalised; not a verdict on their own."""
    v = view.text
    found: list[PhoneItem] = []
    seen: set[str] = set()

    def add(number: str, type_: str, s: int, e: int) -> None:
        if number in seen or len(found) >= limit:
            return
        seen.add(number)
        start, end = view.span(s, e)
        found.append(PhoneItem(view.original[start:end], number, type_, start, end))

    taken: list[tuple[int, int]] = []
    for m in _PHONE.finditer(v):
        taken.append(m.span())
        if m.group("mn"):
            add("+84" + re.sub(r"\D", "", m.group("mn")), "mobile", m.start(), m.end())
        elif m.group("ln"):
            add("+84" + re.sub(r"\D", "", m.group("ln")), "landline", m.start(), m.end())
        else:
            digits = re.sub(r"\D", "", m.group("hn"))
            add(digits, "toll_free" if digits.startswith("1800") else "premium",
                m.start(), m.end())
    for m in _SHORT.finditer(v):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue  # the tail of a longer number ("0866 130 113")
        if _SHORT_CONTEXT.search(v[max(0, m.start() - 30):m.start()]):
            add(m.group(1), "emergency", m.start(), m.end())
    found.sort(key=lambda p: p.start)
    return found


# --- apps -----------------------------------------------------------------------------

_APK = re.compile(r"(?<![\w/.\-])([\w][\w\-.]{0,63}\.(?:apk|xapk|apks))(?![\w])")
_REMOTE_APPS = {"teamviewer": "TeamViewer", "anydesk": "AnyDesk", "ultraviewer": "UltraViewer",
                "rustdesk": "RustDesk", "airdroid": "AirDroid", "quicksupport": "QuickSupport"}


@dataclass(frozen=True, slots=True)
class AppItem:
    input: str
    name: str
    type: str
    """``apk`` (an Android app file) or ``remote_control``."""
    start: int
    end: int

    def to_dict(self, lang: str) -> dict[str, Any]:
        if self.type == "apk":
            note = ("Ứng dụng chính thức chỉ tải từ CH Play hoặc App Store, không bao giờ qua "
                    "tệp APK gửi trong tin nhắn" if lang == "vi" else
                    "Official apps come from Google Play or the App Store, never from an APK "
                    "file sent in a chat")
        else:
            note = ("Ứng dụng điều khiển máy từ xa: người lạ có thể chiếm quyền điện thoại"
                    if lang == "vi" else
                    "Remote-control app: a stranger can take over the phone")
        return {"kind": "app", "input": self.input, "name": self.name, "type": self.type,
                "start": self.start, "end": self.end, "note": note}


def find_apps(view: View, links: Sequence[LinkItem], signals: Sequence[Signal],
              limit: int = MAX_APPS) -> list[AppItem]:
    """APK file names (in the text or at the end of a link) and remote-control apps."""
    out: list[AppItem] = []
    seen: set[str] = set()

    def add(item: AppItem) -> None:
        key = item.name.lower()
        if key not in seen and len(out) < limit:
            seen.add(key)
            out.append(item)

    for m in _APK.finditer(view.text):
        start, end = view.span(m.start(1), m.end(1))
        raw = view.original[start:end]
        add(AppItem(raw, raw, "apk", start, end))
    for link in links:
        last = link.parsed.path.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
        if re.search(r"\.(?:apk|xapk|apks)$", last, re.I):
            add(AppItem(link.input, last, "apk", link.start, link.end))
    for s in signals:
        if s.category == "remote_control":
            key = re.sub(r"[\s_\-]", "", fold_vietnamese(s.text).lower())
            add(AppItem(s.text, _REMOTE_APPS.get(key, s.text), "remote_control", s.start,
                        s.end))
    out.sort(key=lambda a: a.start)
    return out


# --- extraction ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extraction:
    """What a message carries."""

    text: str
    links: list[LinkItem]
    phones: list[PhoneItem]
    apps: list[AppItem]
    signals: list[Signal]
    links_dropped: int = 0
    warning: bool = False
    """The text reads like a warning about scams (describes tricks)."""
    folded: View | None = field(default=None, repr=False, compare=False)
    """The folded view :func:`extract` made, kept so that it is made once."""

    @property
    def view(self) -> View:
        """The folded view of :attr:`text`."""
        return self.folded if self.folded is not None else folded_view(self.text)


def extract(text: str) -> Extraction:
    """Links, phone numbers, apps and script signals of ``text`` (already validated)."""
    view = folded_view(text)
    links, dropped = find_links(view)
    signals = find_signals(view)
    apps = find_apps(view, links, signals)
    phones = find_phones(view)
    warning = bool(_warning_markers(view, phones, signals))
    return Extraction(text, links, phones, apps, signals, dropped, warning, view)


_PRESSURE = frozenset({"MSG-URG-001", "MSG-URG-002"})
_ASKS = frozenset({"MSG-DATA-001", "MSG-DATA-002", "MSG-DATA-003", "MSG-APP-001",
                   "MSG-APP-003", "MSG-APP-004", "MSG-PAY-001"})


def _warning_markers(view: View, phones: Sequence[PhoneItem],
                     signals: Sequence[Signal]) -> list[str]:
    """The words that make the text a warning about scams rather than a script
    (empty if it is not one); see :mod:`scanners.message_advice`.

    Advice words ("khuyến cáo", "không bao giờ yêu cầu", "beware") make a warning
    unless it also asks something *and* gives a mobile number or speaks as an
    official ("tôi là cán bộ điều tra"); words a recovery script shares
    ("scammers", "bị lừa") only when nothing is asked at all."""
    v = view.text
    advice = message_advice.advice_markers(v)
    mentions = [] if advice else message_advice.mention_markers(v)
    if not (advice or mentions):
        return []  # most messages: the ask patterns need not run

    def asks() -> bool:
        return (any(s.counted and s.rule_id in _ASKS for s in signals)
                or any(not _negated(view, m.start())
                       for m in message_types.MONEY_ASK.finditer(v))
                or any(not _negated(view, m.start())
                       for m in message_types.CONTACT_ASK.finditer(v)))

    mobile = any(p.type == "mobile" for p in phones)
    # A call-back under a deadline or threat ("gọi lại số … trước 16h, nếu không sẽ ra
    # lệnh bắt") asks the reader to act, even at a landline.
    if not advice and any(s.counted and s.rule_id in _PRESSURE for s in signals) and any(
            not _negated(view, m.start()) for m in message_types.CALL_BACK.finditer(v)):
        return []
    if advice:
        return advice if not ((mobile or message_advice.self_claim(v)) and asks()) else []
    # A mention of a scam ("… nhận tiền từ một vụ lừa đảo") by someone who introduces
    # himself as an officer ("đây là Đội Cảnh sát kinh tế") is the script's threat.
    return mentions if not (mobile or asks() or message_advice.self_claim(v)) else []


# --- the message scanner -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """A message with its extraction and one report per link (same order)."""

    extraction: Extraction
    link_reports: Sequence[dict[str, Any]] = field(default_factory=tuple)


def _is_store(report: dict[str, Any]) -> bool:
    return str(report.get("host", "")) in APP_STORES


def _phrases(signals: Iterable[Signal]) -> list[str]:
    return list(dict.fromkeys(s.text for s in signals))[:5]


_COMBOS_IMPLY = {
    # A reason that repeats a heavier one is left out of the reply.
    "MSG-LINK-001": {"MSG-LINK-002", "MSG-COMBO-005"},
    "MSG-COMBO-001": {"MSG-IMP-001", "MSG-APP-001", "MSG-COMBO-005"},
    "MSG-COMBO-002": {"MSG-IMP-002", "MSG-DATA-001", "MSG-DATA-002", "MSG-DATA-003"},
    "MSG-COMBO-003": {"MSG-APP-001", "MSG-APP-003", "MSG-APP-004"},
    "MSG-COMBO-004": {"MSG-PAY-001"},
}


class MessageScanner:
    """Scores a message's script and items through the MSG-* rules."""

    name = "message"

    async def scan(self, target: Message) -> list[Finding]:
        return self.check(target)

    def check(self, target: Message) -> list[Finding]:
        """The synchronous core of :meth:`scan`."""
        ex = target.extraction
        reports = list(target.link_reports)
        unknown_links = [r for r in reports if r["verdict"] != "official" and not _is_store(r)]
        apks = [a for a in ex.apps if a.type == "apk"]
        # A warning ("các đối tượng giả danh cán bộ công an yêu cầu cài đặt…") describes
        # the script; it does not perform it, unless it also sends an unknown link or app.
        describe_only = ex.warning and not unknown_links and not apks
        out: list[Finding] = []
        if describe_only:
            out.append(Finding("MSG-CTX-001", {"markers": sorted(set(_warning_markers(
                ex.view, ex.phones, ex.signals)))[:5]}))
        # Logging in to one's own app, or the office IT's remote support, counts only
        # beside a link nobody vouches for or an app file.
        lifted = {"login", "workplace"} if (unknown_links or apks) else set()
        by_rule: dict[str, list[Signal]] = {}
        for s in ex.signals:
            if (s.counted or s.note in lifted) and not describe_only:
                by_rule.setdefault(s.rule_id, []).append(s)
        for cat in CATEGORIES:
            sigs = by_rule.get(cat.rule_id)
            if sigs:
                out.append(Finding(cat.rule_id, {"phrases": _phrases(sigs), "count": len(sigs)}))
        if apks:
            out.append(Finding("MSG-APP-002", {"files": [a.name for a in apks][:5]}))
        # Each band's worst link lends the message its own score: a message is never
        # calmer than the worst link it carries (MSG-LINK-001/002/004 inherit).
        bands = {v.value: rule_id for v, rule_id in rules.LINK_RULES.items()}
        worst: dict[str, dict[str, Any]] = {}
        for r in reports:
            v = r["verdict"]
            if v in bands and r["risk_score"] > 0 and (
                    v not in worst or r["risk_score"] > worst[v]["risk_score"]):
                worst[v] = r
        for verdict, rule_id in bands.items():
            top = worst.get(verdict)
            if top is not None:
                out.append(Finding(rule_id, {"url": top["url"], "risk_score": top["risk_score"],
                                             "verdict": verdict, "links": sum(
                                                 1 for x in reports if x["verdict"] == verdict
                                                 and x["risk_score"] > 0)},
                                   inherited=top["risk_score"]))
        ip_links = [link.parsed for link in ex.links if link.parsed.ip is not None]
        if ip_links:
            out.append(Finding("MSG-LINK-003", {"links": [p.url for p in ip_links][:3],
                                                "ips": [p.ip for p in ip_links][:3]}))
        has = set(by_rule) | ({"MSG-APP-002"} if apks else set())
        install = bool(has & {"MSG-APP-001", "MSG-APP-002"})
        pressure = sorted(has & {"MSG-IMP-001", "MSG-IMP-002", "MSG-URG-001"})
        hooks = sorted({*pressure, *(has & {"MSG-BAIT-001"})})
        if "MSG-IMP-001" in has and install and (unknown_links or apks):
            out.append(Finding("MSG-COMBO-001", {
                "links": [r["url"] for r in unknown_links][:3],
                "files": [a.name for a in apks][:3]}))
        data = sorted(has & {"MSG-DATA-001", "MSG-DATA-002", "MSG-DATA-003"})
        if hooks and data:
            out.append(Finding("MSG-COMBO-002", {"hooks": hooks, "requests": data}))
        control = sorted(has & {"MSG-APP-003", "MSG-APP-004"})
        if install and control:
            out.append(Finding("MSG-COMBO-003", {"with": control}))
        if hooks and "MSG-PAY-001" in has:
            out.append(Finding("MSG-COMBO-004", {"hooks": hooks}))
        # A link nobody vouches for (not official, not on the known-good list,
        # not an app store) behind a hook is the classic phishing SMS.
        strangers = [r for r in unknown_links if not any(
            f["rule_id"].startswith("URL-OFF-") for f in r["findings"])]
        # ... and not the site of the sender the message names ("Viettel: … viettel.vn").
        strangers = _not_own_sites(ex, strangers)
        if pressure and strangers:
            out.append(Finding("MSG-COMBO-005", {"pressure": pressure, "links": [
                r["url"] for r in strangers][:3]}))
        if not describe_only:
            out += _typology(ex, has, reports, bool(strangers))
        return out


def _not_own_sites(ex: Extraction, links: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The links that are not the site of a sender the text names outside the link.

    "Điện Máy Xanh: … kết quả trên dienmayxanh.com" links to its own shop; a script's
    fake portal (vietcombank-xacthuc.top, vcb-biometric.info) is never just the name
    the message gives.
    """
    if not links:
        return []
    text, cut = ex.text, 0
    parts: list[str] = []
    for link in ex.links:
        parts.append(text[cut:link.start])
        cut = link.end
    parts.append(text[cut:])
    names = re.sub(r"[^a-z0-9]", "", fold_vietnamese(" ".join(parts)).lower())
    out = []
    for r in links:
        label = str(r.get("registrable_domain", "")).split(".", 1)[0].replace("-", "")
        if not (len(label) >= 5 and label in names):
            out.append(r)
    return out


def _typology(ex: Extraction, has: set[str], reports: Sequence[dict[str, Any]],
              strangers: bool) -> list[Finding]:
    """The family rule (MSG-TYPE-*) of the most specific matching family, and
    MSG-COMBO-006 when that script also asks for money, a code, an app or a link."""
    view = ex.view
    def ask_negated(pos: int) -> bool:
        return _negated(view, pos)

    # A topic is negated by the words just before it ("không tin dịch vụ lấy lại
    # tiền"), not by a "không" earlier in the clause ("không cần chứng minh thu nhập,
    # giải ngân…").
    def topic_negated(pos: int) -> bool:
        return _negated(view, pos, _TOPIC_NEG_WINDOW)

    demands = message_types.demands_of(
        view.text, has, strangers, [str(r.get("host", "")) for r in reports],
        sum(1 for p in ex.phones if p.type == "mobile"), ask_negated,
        official=any(r["verdict"] == "official" or _is_store(r) for r in reports))
    matches = message_types.classify(view.text, demands, topic_negated)
    if not matches:
        return []
    top = matches[0]
    s, e = view.span(top.start, top.end)
    out = [Finding(top.type.rule_id, {
        "scam_type": top.type.id, "phrase": view.original[s:e], "demands": list(top.demands),
        "also": [m.type.id for m in matches[1:4]]})]
    strong = sorted(demands & message_types.STRONG_DEMANDS)
    if strong:
        out.append(Finding("MSG-COMBO-006", {"scam_type": top.type.id, "demands": strong}))
    return out


def _offers_action(ex: Extraction, ids: Sequence[identifiers.Identifier],
                   findings: Iterable[Finding]) -> bool:
    """Whether the message gives the reader something to act on: a link (a group's
    too), an app, a number, an account or handle, or an ask (money, a code, an
    install).

    The model's words alone ("nhân viên chăm sóc khách hàng", "nhóm hỗ trợ") are not
    enough to flag a message that asks nothing and carries nothing: a shop's care
    message or a study group named without a link reads like a script's opening
    without being one.

    Nor is a group link alone in the invitation of a community the reader belongs to
    (the residents of a building, a class's parents: :func:`message_advice.community_group`)
    when nothing else is asked: the model reads "nhóm" and "mời tham gia" as a support
    group's (fourth round)."""
    v = ex.view.text
    group_only = bool(ex.links) and not (ex.apps or ex.phones) and all(
        message_types.GROUP_LINK.search(link.input.lower()) for link in ex.links) and all(
        i.type == "group" for i in ids)
    if group_only and message_advice.community_group(v) and not (
            any(f.points > 0 and f.rule_id in _ASKS for f in findings)
            or message_types.MONEY_ASK.search(v)):
        return False
    if ex.links or ex.apps or ex.phones or ids:
        return True
    if any(f.points > 0 and f.rule_id in _ASKS for f in findings):
        return True
    # Money asked, or a move to a chat app ("nhắn Telegram để nhận việc"), is an ask;
    # chatting in a group one is in ("nhắn trong nhóm Zalo") is not.
    return bool(message_types.MONEY_ASK.search(v) or any(
        not _IN_GROUP.search(m.group()) for m in message_types.CONTACT_ASK.finditer(v)))


_IN_GROUP = re.compile(r"(?<![a-z0-9])(?:nhom|group)(?![a-z0-9])")


def offers_action(text: str) -> bool:
    """:func:`_offers_action` of a validated text with the rules' findings (training and
    evaluation: whether the model may add points to it)."""
    ex = extract(text)
    ids = identifiers.extract(text)
    found = MessageScanner().check(Message(ex, ()))
    return _offers_action(ex, ids, found)


# --- the reply ---------------------------------------------------------------------------


def _reasons(report: dict[str, Any], lang: str) -> list[str]:
    """Plain reasons from the counted rules, a heavier rule hiding those it implies."""
    counted = [f["rule_id"] for f in report["findings"] if f["points"] > 0]
    # The model's words ("worded like known scams") come after every named rule's.
    counted.sort(key=lambda rid: rid in message_model.ML_RULES)
    implied: set[str] = set()
    for rid in counted:
        implied |= _COMBOS_IMPLY.get(rid, set())
    out: list[str] = []
    for rid in counted:
        rule = rules.CATALOGUE.get(rid)
        words = rule.reply(lang) if rule is not None else None
        if words and rid not in implied:
            out.append(words)
    return out[:3]


# --- the orchestrator ------------------------------------------------------------------------


async def _live_reports(
    links: Sequence[LinkItem],
    offline: Sequence[list[Finding]],
    offline_reports: Sequence[dict[str, Any]],
    live: Sequence[Scanner[ParsedURL]],
    lang: str,
    max_links: int,
    budget: float,
) -> tuple[list[dict[str, Any]], list[CheckIncomplete]]:
    """Reports with the live checks on the worst ``max_links`` links, within ``budget`` s."""
    reports = list(offline_reports)
    missing: list[CheckIncomplete] = []
    order = sorted((i for i, r in enumerate(offline_reports) if r["verdict"] != "official"),
                   key=lambda i: -offline_reports[i]["risk_score"])
    chosen, skipped = order[:max_links], order[max_links:]
    for i in skipped:
        missing.append(CheckIncomplete(
            "live", f"{links[i].parsed.url}: not checked live (at most {max_links} links "
                    "per message)"))
    tasks = {i: asyncio.ensure_future(run_scanners(links[i].parsed, live)) for i in chosen}
    if tasks:
        _done, pending = await asyncio.wait(tasks.values(), timeout=budget)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    for i, t in tasks.items():
        url = links[i].parsed.url
        if t.cancelled():
            missing.append(CheckIncomplete(
                "live", f"{url}: the live checks did not finish within {budget:g} s"))
            continue
        found, inc = t.result()  # a bug in a scanner surfaces, as for links
        reports[i] = url_report(links[i].parsed, [*offline[i], *found], lang, inc)
    return reports, missing


async def check_message(
    text: str,
    offline_scanner: OfflineURLScanner,
    live_scanners: Sequence[Scanner[ParsedURL]] = (),
    lang: str = "vi",
    *,
    live_links: int = LIVE_LINKS,
    live_timeout: float = LIVE_TIMEOUT,
    identifier_lists: identifiers.IdentifierLookup | None = None,
    use_model: bool = True,
) -> dict[str, Any]:
    """The report for one message; see the module docstring.

    ``identifier_lists``: the analysts' phone and account entries
    (:mod:`scanners.identifiers`); without it no number is looked up.
    ``use_model``: whether the learned model (:mod:`scanners.message_model`) adds
    its points; off, the report is the rules' alone (evaluations).
    Raises :class:`MessageInputError` when the text is empty or too long.
    """
    cleaned = validate_text(text)
    ex = extract(cleaned)
    offline = [offline_scanner.check(link.parsed) for link in ex.links]
    reports = [url_report(link.parsed, f, lang) for link, f in zip(ex.links, offline,
                                                                   strict=True)]
    incomplete: list[CheckIncomplete] = []
    if ex.links_dropped:
        incomplete.append(CheckIncomplete(
            "links", f"only the first {MAX_LINKS} distinct links were checked "
                     f"({ex.links_dropped} more left out)"))
    if live_scanners and ex.links:
        reports, missing = await _live_reports(ex.links, offline, reports, live_scanners, lang,
                                               live_links, live_timeout)
        incomplete += missing
    findings = await MessageScanner().scan(Message(ex, reports))
    # --- identifiers (scanners/identifiers.py): numbers and handles, listed ones scored
    ids = identifiers.extract(cleaned)
    id_hits = identifiers.listed(ids, identifier_lists)
    findings += identifiers.findings(ids, id_hits)
    # --- end identifiers
    if use_model and _offers_action(ex, ids, findings):
        # Last, over what the rules found: the model only adds points (MSG-ML-*).
        findings += message_model.default_model().findings(
            ex.view.text, [f.rule_id for f in findings], any(f.points > 0 for f in findings))
    agg = aggregate(findings)
    items: list[dict[str, Any]] = []
    for link, r in zip(ex.links, reports, strict=True):
        items.append({"kind": "link", "start": link.start, "end": link.end, **r})
        for inc in r["incomplete"]:
            incomplete.append(CheckIncomplete(inc["check"], f"{r['url']}: {inc['reason']}"))
    items += [p.to_dict(lang) for p in ex.phones]
    items += [a.to_dict(lang) for a in ex.apps]
    identifiers.merge_items(items, ids, id_hits, lang)  # identifiers: listed, accounts, handles
    report: dict[str, Any] = {
        "characters": len(text),
        "risk_score": agg.risk_score,
        "verdict": agg.verdict.value,
        "reasons": agg.reasons(lang),
        "findings": agg.findings_json(lang),
        "items": items,
        "script_signals": [s.to_dict() for s in ex.signals[:MAX_SIGNALS]],
        "incomplete": [i.to_dict() for i in dict.fromkeys(incomplete)],
        "scam_type": next((f.rule.scam_type for f in agg.counted if f.rule.scam_type), None),
    }
    report.update(message_reply.build(report, lang, ex.view.text,
                                      _reasons(report, lang)))
    return report
