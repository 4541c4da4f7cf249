"""Identifiers in a chat message: phone numbers, bank accounts, Zalo and Telegram.

Scam scripts carry the scammer's contact and the account the money goes to.
This module finds them, normalises them, checks the phone numbers and
accounts against the analysts' lists (list kinds ``phone`` and
``bank_account``, :mod:`scanners.lists`) and masks them for storage:

* **phone numbers** (:func:`find_phones`): Vietnamese mobile and landline
  numbers in their spacing, dot, dash and ``+84`` / ``84`` / ``0084`` forms,
  and 1800/1900 numbers: candidates found by a regular expression, then
  validated, typed and normalised by the ``phonenumbers`` library (Google's
  libphonenumber metadata) to E.164 (``+84912345678``); 1800 and 1900 numbers
  are kept as dialled (``1900545413``), as :mod:`scanners.message` writes them;
* **bank accounts** (:func:`find_accounts`): a run of 6-19 digits (spaces,
  dots or dashes between groups allowed) right after an account word
  (``STK``, ``số tài khoản``, ``TK``, ``account``, ``a/c``…) or next to a bank
  name (``Vietcombank 0071000123456``, ``19036789123456 - Techcombank``).
  Nothing else is an account: an OTP code, a date, an amount (``5.000.000đ``)
  or a phone number without such a word is not;
* **Zalo** (``zalo.me/<phone or name>``, groups ``zalo.me/g/<code>``) and
  **Telegram** (``@name``, ``t.me/<name>``, invite links ``t.me/+<code>`` and
  ``t.me/joinchat/<code>``) handles (:func:`find_handles`).

Matching runs on a folded copy of the text (lower case, Vietnamese diacritics
and invisible characters dropped, full-width digits as ASCII) with a map back,
so offsets are offsets into what the caller sent, and "số tài khoản" and "so
tai khoan" are the same word.

**Masking** (:func:`mask_number`, :func:`mask_text`, :func:`mask_tree`): what
is stored keeps the first 3 and the last 2 digits of a phone number or an
account (``091*****78``); the digits in between become ``*`` one for one, so
offsets stay valid.

Pure logic: no I/O, no web framework.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

import phonenumbers

from scanners.findings import Finding

IdentifierKind = Literal["phone", "bank_account", "zalo", "telegram"]
LISTED_KINDS: frozenset[str] = frozenset({"phone", "bank_account"})
"""Identifier kinds the analysts' lists hold."""
MAX_PER_KIND = 10
"""Identifiers of one kind reported per message (the first ones)."""

# --- the folded view -----------------------------------------------------------------


_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


@dataclass(frozen=True, slots=True)
class _Folded:
    """The folded text and, for each of its characters, where it came from."""

    text: str
    index: list[int] | None
    """None when the folded text has the original's offsets (ASCII text)."""
    length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in the original text of ``[start, end)`` of the folded one."""
        if self.index is None:
            return start, end
        s = self.index[start] if start < len(self.index) else self.length
        e = self.index[end - 1] + 1 if end > start else s
        return s, e


@lru_cache(maxsize=2048)
def _fold_char(c: str) -> str:
    """One non-ASCII character folded: a letter without its marks, "" for a mark."""
    if c in "đĐ":
        return "d"
    if c in _INVISIBLE or unicodedata.combining(c):
        return ""
    o = ord(c)
    if 0xFF01 <= o <= 0xFF5E:
        c = chr(o - 0xFEE0)
    base = unicodedata.normalize("NFD", c)[0]
    return base.lower() if base.isascii() else c


def _fold(text: str) -> _Folded:
    """Lower case, diacritics and invisible characters dropped, full-width ASCII mapped."""
    if text.isascii():
        return _Folded(text.lower(), None, len(text))
    out: list[str] = []
    idx: list[int] = []
    for i, c in enumerate(text):
        f = c.lower() if c.isascii() else _fold_char(c)
        if f:
            out.append(f)
            idx.append(i)
    return _Folded("".join(out), idx, len(text))


# --- phone numbers -------------------------------------------------------------------

_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium",
    phonenumbers.PhoneNumberType.SHARED_COST: "premium",
}


@dataclass(frozen=True, slots=True)
class Identifier:
    """A phone number, account or handle of the message."""

    kind: IdentifierKind
    input: str
    """As written in the message."""
    value: str
    """Normalised: ``+84…`` (phone), digits (account), ``zalo.me/…``, ``t.me/…`` or
    ``@name`` (Telegram)."""
    start: int
    end: int
    type: str = ""
    """Phones: ``mobile``, ``landline``, ``toll_free``, ``premium``; Zalo: ``profile`` or
    ``group``; Telegram: ``handle``, ``profile`` or ``invite``."""
    bank: str | None = None
    """Accounts: the bank named next to the number, when one is."""


@lru_cache(maxsize=4096)
def phone_value(raw: str) -> tuple[str, str] | None:
    """``(normalised number, type)`` of a Vietnamese phone number, or None when it is
    not a valid one. The form analysts type in a list entry goes through this too."""
    try:
        n = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return None
    if n.country_code != 84 or not phonenumbers.is_valid_number(n):
        return None
    kind = _PHONE_TYPES.get(phonenumbers.number_type(n), "other")
    national = str(n.national_number)
    if kind in ("toll_free", "premium") and national.startswith(("1800", "1900")):
        return national, kind
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164), kind


_S = r"[ .\-]?"
# Vietnamese numbers in their usual spellings. Not the library's PhoneNumberMatcher: it
# is several times slower on a chat message and reads spaced numbers written one after
# the other ("0912 345 678 0987 654 321") as one long invalid number.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?:\+84|0084|84|0){_S}(?:\(0\){_S})?[35789](?:{_S}\d){{8}}"
    rf"|(?:(?:\+84|0084|84){_S}|\(?0)2(?:\)?{_S}\d){{9}}"
    rf"|1[89]00(?:{_S}\d){{4}}(?:(?:{_S}\d){{2}})?"
    r")(?!\d|[.\-]\d|\s\d{1,2}\b)")


def find_phones(text: str, limit: int = MAX_PER_KIND, *,
                _view: _Folded | None = None) -> list[Identifier]:
    """Valid Vietnamese phone numbers, in order, each once: the candidates of
    :data:`_PHONE_CANDIDATE` that ``phonenumbers`` says are valid."""
    view = _view or _fold(text)
    out: list[Identifier] = []
    seen: set[str] = set()
    for m in _PHONE_CANDIDATE.finditer(view.text):
        got = phone_value(m.group())
        if got is None or got[0] in seen:
            continue
        seen.add(got[0])
        s, e = view.span(*m.span())
        out.append(Identifier("phone", text[s:e], got[0], s, e, got[1]))
        if len(out) >= limit:
            break
    return out


# --- bank accounts -------------------------------------------------------------------

_BANKS = {
    "vietcombank": "Vietcombank", "vcb": "Vietcombank", "techcombank": "Techcombank",
    "tcb": "Techcombank", "mbbank": "MB Bank", "mb bank": "MB Bank", "mb": "MB Bank",
    "bidv": "BIDV", "vietinbank": "VietinBank", "agribank": "Agribank", "acb": "ACB",
    "tpbank": "TPBank", "tp bank": "TPBank", "vpbank": "VPBank", "vp bank": "VPBank",
    "sacombank": "Sacombank", "hdbank": "HDBank", "shb": "SHB", "vib": "VIB", "ocb": "OCB",
    "msb": "MSB", "seabank": "SeABank", "eximbank": "Eximbank", "scb": "SCB",
    "abbank": "ABBANK", "lpbank": "LPBank", "lienvietpostbank": "LPBank",
    "nam a bank": "Nam A Bank", "namabank": "Nam A Bank", "bac a bank": "Bac A Bank",
    "pvcombank": "PVcomBank", "kienlongbank": "KienlongBank", "vietabank": "VietABank",
    "baovietbank": "BaoVietBank", "ncb": "NCB", "dong a bank": "DongA Bank",
    "vietbank": "Vietbank", "viet capital bank": "Viet Capital Bank", "bvbank": "BVBank",
    "cake": "Cake", "timo": "Timo", "ubank": "Ubank", "momo": "MoMo", "zalopay": "ZaloPay",
    "viettel money": "Viettel Money", "viettelpay": "Viettel Money",
}
_BANK_ALT = "|".join(sorted((re.escape(k).replace(r"\ ", r"\s*") for k in _BANKS),
                            key=len, reverse=True))
_BANK = rf"(?:ngan\s*hang\s*|nh\s+|bank\s+)?(?P<bank>{_BANK_ALT})(?![a-z0-9])"
# 6-19 digits; groups separated by one space, dot or dash ("1903 6789 1234 56").
_DIGITS = r"(?P<num>\d(?:[ .\-]?\d){5,18})(?![\d,]|[ .\-]\d|\.\d)"
_ACCOUNT_WORD = (r"(?:stk|so\s*tai\s*khoan|so\s*tk|tai\s*khoan(?:\s*(?:so|nhan|thu\s*huong|"
                 r"ngan\s*hang))?|tk|account(?:\s*(?:number|no\.?|#))?|acct|acc|a/c|"
                 r"chuyen\s*(?:khoan|tien)\s*(?:vao|toi|den|qua)(?:\s*(?:stk|tk))?)")
_ACCOUNT_BEFORE = re.compile(
    rf"(?<![a-z0-9]){_ACCOUNT_WORD}(?![a-z0-9])"
    # "STK Vietcombank: 0071…", "tài khoản của Nguyễn Văn A: 0071…", "STK là 0071…"
    rf"(?:\s*(?:{_BANK}))?(?:\s*(?:cua|la|:|-|–|so|#|\())*\s*"
    rf"(?:[a-z]+\s+){{0,4}}?[:\-–]?\s*{_DIGITS}")
_BANK_BEFORE = re.compile(rf"(?<![a-z0-9]){_BANK}\s*(?:[:\-–(]|stk|tk)*\s*{_DIGITS}")
_BANK_AFTER = re.compile(rf"(?<![\d.,]){_DIGITS}\s*(?:[\-–(,]|tai)*\s*{_BANK}")
_BANK_NEAR = re.compile(rf"\s*(?:[\-–(,]|tai)*\s*{_BANK}")
_CODE_WORDS = re.compile(r"(?<![a-z])(?:otp|ma|code|mat\s*khau|pin|passcode|password)"
                         r"(?![a-z])")
"""An OTP or a password near the number: "Mã OTP tài khoản là 739201" is no account."""
_NOT_ACCOUNT_AFTER = re.compile(
    r"\s*(?:d\b|dong|vnd|k\b|tr\b|trieu|nghin|ngan\b|usd|%|/|gio|h\b|phut|ngay)")


def _is_amount(num: str) -> bool:
    """``5.000.000`` or ``1,500,000``: thousands groups are money, not an account."""
    return bool(re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", num))


def find_accounts(text: str, limit: int = MAX_PER_KIND, *,
                  _view: _Folded | None = None) -> list[Identifier]:
    """Bank account numbers: digit runs next to an account word or a bank name."""
    view = _view or _fold(text)
    folded = view.text
    found: dict[int, Identifier] = {}
    for rx in (_ACCOUNT_BEFORE, _BANK_BEFORE, _BANK_AFTER):
        for m in rx.finditer(folded):
            num = m.group("num")
            if _is_amount(num) or _NOT_ACCOUNT_AFTER.match(folded, m.end("num")):
                continue
            if _CODE_WORDS.search(folded, max(0, m.start() - 25), m.start("num")):
                continue
            s, e = view.span(*m.span("num"))
            if s in found:
                continue
            digits = re.sub(r"\D", "", num)
            if not 6 <= len(digits) <= 19:
                continue
            name = m.group("bank")
            if name is None:  # "STK 1903… Techcombank": the bank after the number
                after = _BANK_NEAR.match(folded, m.end("num"))
                name = after.group("bank") if after else None
            bank = _BANKS.get(re.sub(r"\s+", " ", name)) if name else None
            found[s] = Identifier("bank_account", text[s:e], digits, s, e, bank=bank)
    out: list[Identifier] = []
    seen: set[str] = set()
    for ident in sorted(found.values(), key=lambda i: i.start):
        if ident.value not in seen and len(out) < limit:
            seen.add(ident.value)
            out.append(ident)
    return out


# --- Zalo and Telegram ------------------------------------------------------------------

_ZALO = re.compile(r"(?<![\w./])(?:https?://)?(?:www\.|chat\.)?zalo\.me/(?:(?P<g>g)/)?"
                   r"(?P<id>[a-z0-9_.\-]{3,64})(?![\w/])")
_TME = re.compile(r"(?<![\w./])(?:https?://)?(?:www\.)?(?:t|telegram)\.me/"
                  r"(?:(?P<plus>\+)|(?P<join>joinchat/))?(?P<id>[a-z0-9_\-]{3,64})(?![\w/])")
_AT = re.compile(r"(?<![\w@./])@(?P<id>[a-z][a-z0-9_]{4,31})(?![\w@.]|\.[a-z])")
_AT_CONTEXT = re.compile(r"(?:tele(?:gram)?|tg|tlg|nhom|group|kenh|channel|ib|inbox|"
                         r"lien\s*he|contact|nhan\s*tin)\W*(?:\w+\W+){0,4}$")


def find_handles(text: str, limit: int = MAX_PER_KIND, *,
                 _view: _Folded | None = None) -> list[Identifier]:
    """Zalo links and groups, Telegram links, invites and ``@handles``.

    A bare ``@name`` is a Telegram handle only in a Telegram-ish context
    ("telegram", "nhóm", "liên hệ", "ib" within a few words before), or when
    the message also has a t.me link; else it may be an e-mail or a mention.
    """
    view = _view or _fold(text)
    folded = view.text
    out: list[Identifier] = []
    if "@" not in folded and ".me/" not in folded:
        return out  # most messages: no handle, no need to run the patterns
    seen: set[str] = set()

    def add(kind: IdentifierKind, value: str, type_: str, fs: int, fe: int) -> None:
        if value not in seen and sum(1 for i in out if i.kind == kind) < limit:
            seen.add(value)
            s, e = view.span(fs, fe)
            out.append(Identifier(kind, text[s:e], value, s, e, type_))

    def original(m: re.Match[str], group: str) -> str:
        # Invite and group codes are case-sensitive: read them from the text as sent.
        s, e = view.span(*m.span(group))
        return text[s:e]

    for m in _ZALO.finditer(folded):
        g = m.group("g") is not None
        add("zalo", f"zalo.me/g/{original(m, 'id')}" if g else f"zalo.me/{m.group('id')}",
            "group" if g else "profile", *m.span())
    any_tme = False
    for m in _TME.finditer(folded):
        any_tme = True
        if m.group("plus"):
            add("telegram", f"t.me/+{original(m, 'id')}", "invite", *m.span())
        elif m.group("join"):
            add("telegram", f"t.me/joinchat/{original(m, 'id')}", "invite", *m.span())
        else:
            add("telegram", f"@{m.group('id')}", "profile", *m.span())
    for m in _AT.finditer(folded):
        before = folded[max(0, m.start() - 40):m.start()]
        if any_tme or _AT_CONTEXT.search(before):
            add("telegram", f"@{m.group('id')}", "handle", *m.span())
    out.sort(key=lambda i: i.start)
    return out


def extract(text: str) -> list[Identifier]:
    """Every identifier of ``text``, in order of appearance."""
    view = _fold(text)
    return sorted([*find_phones(text, _view=view), *find_accounts(text, _view=view),
                   *find_handles(text, _view=view)], key=lambda i: (i.start, i.kind))


# --- lists ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedEntry:
    """The analyst entry that lists an identifier."""

    id: str
    action: str
    """``block`` (a known scam number or account) or ``allow`` (a known good one)."""
    note: str
    added_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "note": self.note,
                "added_by": self.added_by}


class IdentifierLookup(Protocol):
    """Where the analysts' phone and account entries are read
    (:class:`scanners.lists.DynamicLists`)."""

    def identifier_entry(self, kind: str, value: str) -> ListedEntry | None: ...


_RULES = {"phone": "MSG-ID-001", "bank_account": "MSG-ID-002"}


def listed(found: Iterable[Identifier], lookup: IdentifierLookup | None
           ) -> dict[tuple[str, str], ListedEntry]:
    """The analyst entries of the phone numbers and accounts of ``found``."""
    out: dict[tuple[str, str], ListedEntry] = {}
    if lookup is None:
        return out
    for i in found:
        if i.kind in LISTED_KINDS:
            entry = lookup.identifier_entry(i.kind, i.value)
            if entry is not None:
                out[(i.kind, i.value)] = entry
    return out


def findings(found: Sequence[Identifier], hits: Mapping[tuple[str, str], ListedEntry]
             ) -> list[Finding]:
    """``MSG-ID-001`` (a blocked phone number) and ``MSG-ID-002`` (a blocked account),
    each naming the numbers and the analyst entries."""
    out: list[Finding] = []
    for kind, rule_id in _RULES.items():
        blocked = [(i, hits[(i.kind, i.value)]) for i in found
                   if i.kind == kind and (i.kind, i.value) in hits
                   and hits[(i.kind, i.value)].action == "block"]
        if blocked:
            out.append(Finding(rule_id, {
                "values": [i.value for i, _ in blocked],
                "entries": [{"value": i.value, **e.to_dict()} for i, e in blocked]}))
    return out


_NOTES = {
    "block": ("Có trong danh sách lừa đảo của chuyên viên", "On the analysts' scam list"),
    "allow": ("Có trong danh sách tin cậy của chuyên viên", "On the analysts' trusted list"),
}


def item(i: Identifier, entry: ListedEntry | None, lang: str) -> dict[str, Any]:
    """The report item of one identifier (phone numbers: see :func:`merge_items`)."""
    d: dict[str, Any] = {"kind": i.kind, "input": i.input, "start": i.start, "end": i.end}
    if i.kind == "phone":
        d.update(number=i.value, type=i.type)
    elif i.kind == "bank_account":
        d.update(number=i.value, bank=i.bank)
    else:
        d.update(value=i.value, type=i.type)
    if i.kind in LISTED_KINDS:
        d.update(_listing(entry, lang))
    return d


def _listing(entry: ListedEntry | None, lang: str) -> dict[str, Any]:
    if entry is None:
        return {"listed": False, "list_entry": None}
    vi, en = _NOTES.get(entry.action, _NOTES["block"])
    return {"listed": True, "list_entry": entry.to_dict(),
            "list_note": vi if lang == "vi" else en}


def merge_items(items: list[dict[str, Any]], found: Sequence[Identifier],
                hits: Mapping[tuple[str, str], ListedEntry], lang: str) -> None:
    """Add the identifiers to a message's ``items``, in place.

    A phone number the message scanner already reported (same ``number``) gets
    ``listed`` and ``list_entry``; every other identifier is appended as an item
    of its own kind (``phone``, ``bank_account``, ``zalo``, ``telegram``).
    """
    phones = {str(d.get("number")): d for d in items if d.get("kind") == "phone"}
    for d in phones.values():
        d.update(_listing(hits.get(("phone", str(d.get("number")))), lang))
    for i in found:
        if i.kind == "phone" and i.value in phones:
            continue
        items.append(item(i, hits.get((i.kind, i.value)), lang))


# --- masking -------------------------------------------------------------------------


def mask_number(s: str, keep_head: int = 3, keep_tail: int = 2) -> str:
    """The digits of ``s`` but the first ``keep_head`` and last ``keep_tail`` as ``*``,
    other characters kept (``0912 345 678`` → ``091* *** *78``). A ``+84`` number is
    masked in its national form (``+84912345678`` → ``091*****78``)."""
    if s.startswith("+84"):
        s = "0" + s[3:]
    n = sum(c.isdigit() for c in s)
    if n <= keep_head + keep_tail:
        return "".join("*" if c.isdigit() else c for c in s) if n > 2 else s
    out, k = [], 0
    for c in s:
        if c.isdigit():
            out.append(c if k < keep_head or k >= n - keep_tail else "*")
            k += 1
        else:
            out.append(c)
    return "".join(out)


_LONG_DIGITS = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){8,}(?!\d)")


def mask_text(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with the digits of each span masked, and of any other run of 9 or more
    digits (a number the extraction missed); the length is kept."""
    chars = list(text)
    spans = [*spans, *(m.span() for m in _LONG_DIGITS.finditer(text))]
    for s, e in spans:
        chars[s:e] = mask_number(text[s:e])
    return "".join(chars)


def mask_tree(value: Any, secrets: Mapping[str, str]) -> Any:
    """A JSON value with every occurrence of each key of ``secrets`` replaced by its
    masked form (strings inside dicts and lists, dict keys left alone)."""
    if isinstance(value, str):
        for raw, masked in secrets.items():
            if raw in value:
                value = value.replace(raw, masked)
        return value
    if isinstance(value, Mapping):
        return {k: mask_tree(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_tree(v, secrets) for v in value]
    return value


def secrets_of(found: Iterable[Identifier], items: Iterable[Mapping[str, Any]] = ()
               ) -> dict[str, str]:
    """The strings to mask in a stored report: each phone number's and account's
    form as written and normalised, longest first (so a whole number is masked
    before a part of it)."""
    raw: set[str] = set()
    for i in found:
        if i.kind in LISTED_KINDS:
            raw |= {i.input, i.value}
    for d in items:
        if d.get("kind") in LISTED_KINDS:
            raw |= {str(d.get("input") or ""), str(d.get("number") or "")}
    raw = {r for r in raw if sum(c.isdigit() for c in r) >= 6}
    return {r: mask_number(r) for r in sorted(raw, key=len, reverse=True)}


def stored_report(report: Mapping[str, Any], text: str, found: Sequence[Identifier]
                  ) -> dict[str, Any]:
    """What is kept of a message check: ``report`` with ``text`` added, both with
    every phone number and account masked (:func:`mask_number`)."""
    items = report.get("items") or []
    secrets = secrets_of(found, items)
    spans = [(i.start, i.end) for i in found if i.kind in LISTED_KINDS]
    spans += [(int(d["start"]), int(d["end"])) for d in items
              if d.get("kind") in LISTED_KINDS and isinstance(d.get("start"), int)
              and isinstance(d.get("end"), int)]
    out: dict[str, Any] = mask_tree(dict(report), secrets)
    out["text"] = mask_text(text, spans)
    return out


__all__ = ["Identifier", "IdentifierLookup", "ListedEntry", "extract", "find_accounts",
           "find_handles", "find_phones", "findings", "listed", "mask_number", "mask_text",
           "mask_tree", "merge_items", "phone_value", "stored_report"]
