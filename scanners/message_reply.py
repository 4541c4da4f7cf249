"""The reply to a checked message: what a chatbot posts back, in vi or en.

An elderly person reads it on a phone, so it is short and plain, in the style of
police warnings ("Công an không làm việc qua điện thoại, không yêu cầu cài ứng
dụng, không yêu cầu chuyển tiền."):

* ``headline``: at most 25 words, what this is and the one thing not to do;
* ``steps``: at most 3, suited to the scam family, with the right number to call
  (113 for police matters; the bank named in the message, on the number printed
  on the card or its official site, for bank matters);
* ``if_already``: what to do if the person already installed the app, gave the
  code or paid (airplane mode, call the bank from its official number…);
* ``hotlines``: the numbers named, as ``{"name", "number"}`` for a bot to format;
* ``reply``: the whole text, at most 80 words, posted as is.

No phone number is invented: the only number given is 113 (police); bank
hotlines are not in the bundled bank registry, so the reply points to the
number on the back of the card and the bank's official site from the registry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from scanners.registry import Brand, registry

MAX_HEADLINE_WORDS = 25
MAX_STEPS = 3
MAX_REPLY_WORDS = 80

POLICE = {"vi": {"name": "Công an (khẩn cấp)", "number": "113"},
          "en": {"name": "Police (emergency)", "number": "113"}}

# What to do if it already happened: (vi, en).
_INSTALLED = ("Nếu đã cài: bật chế độ máy bay, gỡ ứng dụng, gọi ngân hàng để khóa tài khoản.",
              "If you installed it: turn on airplane mode, remove the app, call your bank to "
              "lock your account.")
_CODE = ("Nếu đã đưa mã OTP hay số thẻ: gọi ngay ngân hàng để khóa thẻ, tài khoản.",
         "If you gave a code or card number: call your bank at once to lock the card and "
         "account.")
_PAID = ("Nếu đã chuyển tiền: gọi ngay ngân hàng để chặn giao dịch, rồi trình báo công an.",
         "If you paid: call your bank at once to trace the transfer, and report it to the "
         "police.")
_ID = ("Nếu đã gửi ảnh căn cước: báo công an phường và ngân hàng.",
       "If you sent ID photos: tell the ward police and your bank.")


@dataclass(frozen=True, slots=True)
class _Text:
    """The reply of one family: (vi, en) pairs."""

    what: tuple[str, str]
    """Completes "Đây là lừa đảo …" / "This is …" ("a police impersonation scam")."""
    dont: tuple[str, str]
    steps: tuple[tuple[str, str], ...]
    already: tuple[tuple[str, str], ...]
    police: bool = False
    """Whether 113 is the number to call."""
    bank_step: bool = False
    """Whether a step names the bank of the message."""


_TEXTS: dict[str, _Text] = {
    "police_impersonation": _Text(
        ("giả danh công an", "a police impersonation scam"),
        ("Đừng chuyển tiền, đừng cài ứng dụng, đừng đọc mã OTP.",
         "Do not send money, install any app or read out a code."),
        (("Công an không làm việc qua điện thoại, không yêu cầu cài ứng dụng, không yêu cầu "
          "chuyển tiền.",
          "The police never handle cases by phone, never ask you to install an app or to send "
          "money."),
         ("Không gọi lại số lạ. Nếu lo lắng, gọi 113 hoặc đến trụ sở công an.",
          "Do not call the number back. If worried, call 113 or go to a police station."),
         ("Kể cho người thân biết.", "Tell a family member.")),
        (_PAID, _INSTALLED, _CODE), police=True),
    "vneid": _Text(
        ("giả VNeID, dịch vụ công", "a fake VNeID or public-service scam"),
        ("Đừng bấm link, cài ứng dụng hay gửi ảnh căn cước.",
         "Do not open the link, install any app or send ID photos."),
        (("VNeID chỉ tải từ CH Play hoặc App Store; kích hoạt mức 2 làm tại công an phường, xã.",
          "VNeID comes only from Google Play or the App Store; level 2 is activated at the "
          "ward police station."),
         ("Nếu lo lắng, gọi 113 hoặc hỏi thẳng công an phường, xã.",
          "If worried, call 113 or ask the ward police in person."),
         ("Không gửi mã OTP hay ảnh căn cước cho ai.",
          "Never send a code or photos of your ID card to anyone.")),
        (_INSTALLED, _ID, _CODE), police=True),
    "tax_refund": _Text(
        ("hoàn thuế", "a fake tax refund scam"),
        ("Đừng bấm link, đừng cài ứng dụng, đừng nhập số thẻ.",
         "Do not open the link, install any app or type your card number."),
        (("Cơ quan thuế không gửi link hay tệp cài đặt để hoàn thuế.",
          "The tax office never sends links or app files for a refund."),
         ("Chỉ dùng eTax Mobile tải từ CH Play, App Store hoặc trang thuedientu.gdt.gov.vn.",
          "Use only eTax Mobile from Google Play, the App Store or thuedientu.gdt.gov.vn."),
         ("Nếu còn băn khoăn, hỏi thẳng chi cục thuế nơi mình ở.",
          "If in doubt, ask your local tax office in person.")),
        (_INSTALLED, _CODE)),
    "bhxh_refund": _Text(
        ("giả bảo hiểm xã hội", "a fake social insurance scam"),
        ("Đừng bấm link, đừng cài ứng dụng, đừng chuyển tiền.",
         "Do not open the link, install any app or send money."),
        (("Cơ quan bảo hiểm xã hội không gọi điện, nhắn tin đòi tiền hay mã OTP.",
          "Social insurance never calls or texts to ask for money or codes."),
         ("Chỉ dùng ứng dụng VssID tải từ CH Play hoặc App Store.",
          "Use only the VssID app from Google Play or the App Store."),
         ("Hỏi thẳng cơ quan bảo hiểm xã hội quận, huyện nơi mình ở.",
          "Ask your district social insurance office in person.")),
        (_INSTALLED, _CODE, _PAID)),
    "evn_cutoff": _Text(
        ("giả điện lực dọa cắt điện", "a fake power-cut scam"),
        ("Đừng bấm link, đừng chuyển tiền cho số lạ.",
         "Do not open the link or send money to a stranger."),
        (("Điện lực không gọi điện dọa cắt điện để đòi tiền ngay.",
          "The power company never threatens a cut-off to get paid at once."),
         ("Chỉ trả tiền điện qua ứng dụng ngân hàng, ứng dụng chính thức của điện lực hoặc tại "
          "quầy thu.",
          "Pay the bill only in your banking app, the official power company app or at a "
          "counter."),
         ("Tự gọi tổng đài điện lực in trên hóa đơn tiền điện để hỏi.",
          "Call the hotline printed on your electricity bill yourself.")),
        (_PAID, _INSTALLED)),
    "bank_card": _Text(
        ("giả ngân hàng", "a fake bank scam"),
        ("Đừng đưa mã OTP hay số thẻ cho ai.",
         "Never give a code, card number or CVV to anyone."),
        (("Ngân hàng không bao giờ hỏi mã OTP, mật khẩu hay số thẻ qua điện thoại, tin nhắn.",
          "Banks never ask for a code, password or CVV by phone or message."),
         ("Nâng hạn mức, sinh trắc học chỉ làm trên ứng dụng chính thức của ngân hàng hoặc tại "
          "quầy.",
          "Limits and biometrics are done only in the bank's official app or at a branch."),),
        (_CODE, _INSTALLED), bank_step=True),
    "delivery_fee": _Text(
        ("giả giao hàng đòi phí", "a fake delivery fee scam"),
        ("Đừng bấm link, đừng chuyển khoản phí.", "Do not open the link or pay any fee."),
        (("Người giao hàng thật chỉ thu đúng tiền hàng ghi trên đơn khi giao.",
          "A real courier only collects the amount on the order, at your door."),
         ("Xem đơn trong ứng dụng mua hàng chính thức, không bấm link trong tin nhắn.",
          "Check the order in the official shopping app, not through the link."),
         ("Không đọc mã OTP cho người giao hàng.", "Never read out a code to a courier.")),
        (_PAID, _CODE)),
    "prize_fee": _Text(
        ("trúng thưởng phải đóng phí", "a fake prize scam"),
        ("Đừng đóng bất kỳ khoản phí nào để nhận thưởng.", "Do not pay anything to get a prize."),
        (("Giải thưởng thật không bắt đóng phí, thuế hay chuyển tiền trước.",
          "A real prize never asks for a fee, tax or transfer first."),
         ("Không bấm link, không gửi thông tin cá nhân.",
          "Do not open links or send personal details."),
         ("Nếu muốn, hỏi lại đơn vị tổ chức qua số trên trang chính thức của họ.",
          "If you like, ask the organiser on the number from their official website.")),
        (_PAID, _CODE)),
    "job_task": _Text(
        ("việc nhẹ lương cao, làm nhiệm vụ", "a paid-task job scam"),
        ("Đừng nạp hay chuyển tiền để nhận việc.", "Do not pay or top up money to get work."),
        (("Công việc thật không bắt nạp tiền, ứng tiền hay mua đơn trước.",
          "A real job never asks you to pay, advance money or buy orders first."),
         ("Vài lần đầu được trả tiền chỉ là mồi; tiền nạp sau đó sẽ mất.",
          "The first small payouts are bait; the money you top up later is lost."),
         ("Chặn người nhắn và rời nhóm.", "Block the sender and leave the group.")),
        (_PAID,)),
    "online_loan": _Text(
        ("vay tiền online", "an online loan scam"),
        ("Đừng đóng phí, đừng gửi ảnh căn cước.", "Do not pay a fee or send ID photos."),
        (("Chỉ vay ở ngân hàng, công ty tài chính có giấy phép, tại quầy hoặc ứng dụng chính "
          "thức.",
          "Borrow only from a licensed bank or finance company, at a branch or its official "
          "app."),
         ("Không đóng phí trước để được giải ngân.",
          "Never pay a fee to get a loan paid out."),
         ("Không cài ứng dụng vay từ link lạ: nó lấy danh bạ để đòi nợ.",
          "Do not install loan apps from links: they take your contacts to harass them.")),
        (_PAID, _INSTALLED, _ID)),
    "investment": _Text(
        ("đầu tư cam kết lợi nhuận", "a guaranteed-return investment scam"),
        ("Đừng nạp tiền vào sàn hay nhóm này.", "Do not put money into this platform or group."),
        (("Không ai cam kết được lợi nhuận cao mỗi ngày, mỗi tháng.",
          "Nobody can guarantee high daily or monthly returns."),
         ("Sàn lạ cho rút ít tiền lúc đầu, rồi khóa tài khoản khi bạn nạp nhiều.",
          "Such platforms let you withdraw a little, then lock the account once you pay more."),
         ("Rời nhóm, không chuyển thêm tiền.", "Leave the group and send no more money.")),
        (_PAID,)),
    "relative_new_number": _Text(
        ("mạo danh người thân đổi số", "a scam by someone posing as a relative with a new number"),
        ("Đừng chuyển tiền khi chưa gọi lại người thân.",
         "Do not send money before calling your relative back."),
        (("Gọi lại người thân bằng số cũ hoặc gọi video để chắc đúng là họ.",
          "Call your relative on their old number or by video to be sure it is them."),
         ("Hỏi một chuyện chỉ người nhà mới biết.", "Ask something only family would know."),
         ("Không chuyển tiền vào tài khoản của người khác.",
          "Never send money to someone else's account.")),
        (_PAID,)),
    "romance_parcel": _Text(
        ("gửi quà từ nước ngoài", "an overseas parcel scam"),
        ("Đừng đóng phí hải quan hay phí nhận quà.", "Do not pay any customs or delivery fee."),
        (("Hải quan không nhắn tin bắt chuyển tiền vào tài khoản cá nhân.",
          "Customs never texts you to pay into a personal account."),
         ("Người quen qua mạng chưa gặp mặt mà gửi quà, tiền là kịch bản lừa đảo quen thuộc.",
          "An online friend you never met sending gifts or cash is a known scam."),
         ("Ngừng chuyển tiền và kể cho người thân.", "Stop paying and tell your family.")),
        (_PAID,)),
    "recovery_scam": _Text(
        ("hứa lấy lại tiền bị lừa", "a fake money-recovery scam"),
        ("Đừng đóng phí để được lấy lại tiền.", "Do not pay to get your money back."),
        (("Không ai lấy lại được tiền bị lừa bằng cách thu phí trước; đây là lừa đảo lần hai.",
          "Nobody recovers lost money for an upfront fee; this is a second scam."),
         ("Hãy trình báo công an và báo ngân hàng của mình, việc này không mất phí. Gọi 113 "
          "nếu bị đe dọa.",
          "Report only to the police and your own bank, free of charge; call 113 if "
          "threatened.")),
        (_PAID, _CODE), police=True),
    "remote_control_app": _Text(
        ("điều khiển điện thoại từ xa", "a remote-control scam"),
        ("Đừng cài ứng dụng, đừng đọc mã cho người lạ.",
         "Do not install the app or read out any code."),
        (("Ngân hàng, công an, điện lực không bao giờ cần điều khiển máy của bạn từ xa.",
          "Banks, the police and utilities never need to control your phone."),
         ("Không cài AnyDesk, TeamViewer, UltraViewer theo lời người lạ.",
          "Never install AnyDesk, TeamViewer or UltraViewer for a caller.")),
        (_INSTALLED, _CODE), bank_step=True),
    "apk_file_host": _Text(
        ("gửi tệp cài ứng dụng qua link", "a scam app sent through a file link"),
        ("Đừng tải, đừng cài tệp này.", "Do not download or install this file."),
        (("Ứng dụng thật chỉ tải từ CH Play hoặc App Store.",
          "Real apps come only from Google Play or the App Store."),
         ("Tệp cài gửi qua Drive, Mediafire, Telegram thường là mã độc lấy tiền trong tài khoản.",
          "App files sent through Drive, Mediafire or Telegram often steal bank money."),
         ("Xóa tệp nếu đã tải về.", "Delete the file if you downloaded it.")),
        (_INSTALLED,)),
    "support_group": _Text(
        ("nhóm hỗ trợ trên Zalo, Telegram", "a fake support group scam"),
        ("Đừng vào nhóm, đừng trả phí hỗ trợ.", "Do not join the group or pay for help."),
        (("Định danh mức 2 làm tại công an phường, xã; sinh trắc học làm trên ứng dụng ngân "
          "hàng chính thức.",
          "Level 2 e-ID is done at the ward police; biometrics in your bank's official app."),
         ("Người trong nhóm sẽ xin ảnh căn cước, mã OTP hoặc bắt cài ứng dụng.",
          "The group will ask for ID photos, codes or an app install."),
         ("Rời nhóm và chặn người nhắn.", "Leave the group and block the sender.")),
        (_CODE, _INSTALLED, _PAID)),
}
TYPE_IDS = frozenset(_TEXTS)


def words(text: str) -> int:
    """Words as a reader counts them: runs between spaces (a Vietnamese syllable is one)."""
    return len(text.split())


@cache
def _bank_pattern() -> tuple[re.Pattern[str], dict[str, Brand]]:
    names: dict[str, Brand] = {}
    for b in registry().brands:
        if b.kind != "bank":
            continue
        for d in b.domains[:1] + tuple(b.domains[0].split(".")[:1]):
            names.setdefault(d.lower(), b)
    for t in registry().tokens:
        if t.brand.kind == "bank" and len(t.text) >= 3:
            names.setdefault(t.text.lower(), t.brand)
    alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alts})(?![a-z0-9])"), names


def named_bank(folded: str) -> Brand | None:
    """The first bank of the registry named in the folded text (spaces inside a name
    are ignored: "MB Bank" is mbbank), or None."""
    pattern, names = _bank_pattern()
    for text in (folded, re.sub(r"(?<=[a-z]) (?=bank\b)", "", folded)):
        m = pattern.search(text)
        if m:
            return names[m.group()]
    return None


def _bank_step(bank: Brand | None, vi: bool) -> str:
    if bank is None:
        return ("Nếu lo lắng, tự gọi ngân hàng theo số in ở mặt sau thẻ." if vi else
                "If worried, call your bank yourself on the number on the back of your card.")
    name = bank.name_vi if vi else bank.name_en
    return (f"Nếu lo lắng, tự gọi {name} theo số in ở mặt sau thẻ hoặc trên {bank.domains[0]}."
            if vi else
            f"If worried, call {name} yourself on the number on the back of your card or on "
            f"{bank.domains[0]}.")


def _compose(headline: str, steps: Sequence[str], already: Sequence[str]) -> str:
    """Headline, then as many steps and 'if already' lines as fit in the word limit:
    the first two steps and the first 'if already' line come before the others."""
    order = [("s", 0), ("s", 1), ("a", 0), ("s", 2), ("a", 1), ("a", 2)]
    keep: set[tuple[str, int]] = set()
    total = words(headline)
    for kind, i in order:
        src = steps if kind == "s" else already
        if i < len(src) and total + words(src[i]) <= MAX_REPLY_WORDS:
            keep.add((kind, i))
            total += words(src[i])
    parts = [headline]
    parts += [s for i, s in enumerate(steps) if ("s", i) in keep]
    parts += [a for i, a in enumerate(already) if ("a", i) in keep]
    return " ".join(parts)


def build(report: dict[str, Any], lang: str, folded: str,
          reasons: Sequence[str] = ()) -> dict[str, Any]:
    """The reply fields for a message report (its ``verdict``, ``scam_type``,
    ``findings``, ``items``, ``incomplete``), in ``lang``.

    ``folded`` is the folded message text (to find a named bank); ``reasons`` the
    plain-language reasons used when no family matched.
    """
    vi = lang == "vi"
    k = 0 if vi else 1
    verdict, scam_type = report["verdict"], report.get("scam_type")
    counted = {f["rule_id"] for f in report["findings"] if f["points"] > 0}
    flagged = verdict in ("suspicious", "dangerous")
    hotlines: list[dict[str, str]] = []
    if flagged and scam_type in _TEXTS:
        t = _TEXTS[scam_type]
        lead = ("Cảnh báo: đây là lừa đảo" if verdict == "dangerous" else
                "Cẩn thận: rất có thể đây là lừa đảo") if vi else (
                "Warning: this is" if verdict == "dangerous" else "Careful: this looks like")
        what = f"{lead} {t.what[k]}."
        headline = f"{what} {t.dont[k]}"
        steps = [s[k] for s in t.steps]
        if t.bank_step:
            # The number to call comes right after the first step, so that it fits.
            steps.insert(1, _bank_step(named_bank(folded), vi))
        already = [a[k] for a in t.already]
        if t.police:
            hotlines.append(POLICE[lang if lang in POLICE else "vi"])
    elif flagged:
        headline = ("Cảnh báo: tin nhắn này rất có thể là lừa đảo." if verdict == "dangerous"
                    else "Cẩn thận: tin nhắn này có dấu hiệu lừa đảo.") if vi else (
                    "Warning: this message is very likely a scam." if verdict == "dangerous"
                    else "Careful: this message looks like a scam.")
        links = any(i["kind"] == "link" for i in report["items"])
        headline += (" Đừng bấm link, đừng cài ứng dụng, đừng chuyển tiền." if links else
                     " Đừng cài ứng dụng, đừng chuyển tiền, đừng đọc mã OTP.") if vi else (
                     " Do not open the link, install any app or send money." if links else
                     " Do not install any app, send money or read out a code.")
        steps = []
        if reasons:
            steps.append(("Lý do: tin nhắn " if vi else "Why: ") + reasons[0] + ".")
        steps.append("Không gửi mã OTP, mật khẩu hay ảnh căn cước cho bất kỳ ai." if vi else
                     "Never share a code, password or ID card photo with anyone.")
        if "MSG-IMP-001" in counted:
            steps.append("Công an không làm việc qua điện thoại; nếu lo lắng, gọi 113." if vi
                         else "The police never handle cases by phone; if worried, call 113.")
            hotlines.append(POLICE[lang if lang in POLICE else "vi"])
        else:
            bank = named_bank(folded)
            steps.append(_bank_step(bank, vi) if bank else (
                "Nếu lo lắng, tự gọi số chính thức in trên thẻ, hóa đơn hoặc trang web của đơn vị."
                if vi else
                "If worried, call the official number on your card, bill or the official "
                "website yourself."))
        already = [a[k] for a in (_PAID, _INSTALLED, _CODE)]
    else:
        headline = ("Chưa thấy dấu hiệu lừa đảo rõ ràng trong tin nhắn này." if vi else
                    "No clear sign of a scam in this message.")
        steps = []
        link_items = [i for i in report["items"] if i["kind"] == "link"]
        if link_items and all(i["verdict"] == "official" for i in link_items):
            steps.append("Các đường link trong tin là trang chính thức của cơ quan nhà nước "
                         "hoặc ngân hàng." if vi else
                         "The links in it go to official government or bank sites.")
        if report["incomplete"]:
            steps.append("Một số bước kiểm tra chưa xong nên kết quả có thể chưa đầy đủ." if vi
                         else "Some checks did not finish, so this answer may be incomplete.")
        steps.append("Dù vậy, đừng gửi mã OTP, mật khẩu hay ảnh căn cước cho ai; nếu nghi ngờ, "
                     "hãy gọi số chính thức để hỏi." if vi else
                     "Still, never share a code, password or ID card photo; if in doubt, call "
                     "the official number.")
        already = []
    steps = steps[:MAX_STEPS]
    return {"headline": headline, "steps": steps, "if_already": already,
            "hotlines": hotlines, "reply": _compose(headline, steps, already)}
