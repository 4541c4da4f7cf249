"""``POST /v1/message-checks``: check a chat message a chatbot forwarded.

A thin edge over :func:`scanners.message.check_message`: the request names the
text, the language and whether the live link checks may run; the answer has
the score, the verdict, the scam family (``scam_type``), a short ``reply`` the
bot can post as is with its parts (``headline``, ``steps``, ``if_already``,
``hotlines``) for a bot that formats them itself, one report per extracted
item (links, phone numbers, bank accounts, Zalo and Telegram handles, apps),
the scam-script phrases with their offsets, and the checks that did not
finish. Phone numbers and accounts are looked up in the analysts' lists (list
kinds ``phone`` and ``bank_account``).

**Remembered.** Each check is recorded in the scan history (``kind=message``,
:meth:`api.services.history.ScanHistory.record_message`) under its ``check_id``, so
``GET /v1/scans/{check_id}`` answers it again (:func:`api.services.scans.stored_scan_view`),
``GET /v1/scans?kind=message`` lists it, and it counts in
``scamscan_scans_total{kind="message"}``. What is stored has every phone
number and account number masked (``091*****78``, the text included); the
live answer to the caller is not masked (the caller sent those numbers and
its bot may need them). Stored checks expire after
``SCAMSCAN_MESSAGE_RETENTION_DAYS``. Included by :func:`api.main.create_app`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import AUTH_RESPONSES, current_owner, require
from api.deps import (
    FindingOut,
    IncompleteOut,
    Lang,
    LiveDep,
    ScannerDep,
    ServicesDep,
    SettingsDep,
    require_json,
)
from api.observability import MetricsDep
from api.problems import problem_responses
from api.routing import Router
from api.settings import Settings
from scanners import identifiers
from scanners.findings import Verdict
from scanners.message import MAX_TEXT_CHARS, check_message, clean_text
from scanners.message_reply import MAX_HEADLINE_WORDS, MAX_REPLY_WORDS, MAX_STEPS
from scanners.message_types import TYPE_BY_ID

SCAM_TYPES = frozenset(TYPE_BY_ID)

class MessageCheckRequest(BaseModel):
    """A message to check, as the person received it."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{
            "text": "Cán bộ công an phường thông báo tài khoản định danh mức 2 của bạn chưa "
                    "được cập nhật, vui lòng tải ứng dụng tại dichvucong-gov[.]com",
            "lang": "vi",
            "offline": True,
        }]},
    )

    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description=f"The message, 1 to {MAX_TEXT_CHARS} characters. Control characters "
        "are read as spaces; defanged links (hxxp, [.], (.), spaced dots) are decoded.",
    )
    lang: Lang | None = Field(
        default=None,
        description="Language of the reply, titles and reasons; the server default (`vi`) "
        "when absent.",
    )
    offline: bool = Field(
        default=True,
        description="`true`: only the text, the links themselves and bundled lists. `false`: "
        "also the live checks (domain age, guarded fetch) on the few riskiest links "
        "(`SCAMSCAN_MESSAGE_LIVE_MAX_LINKS`, 3 by default), within a bounded time; the "
        "other links and what does not finish are listed in `incomplete`.",
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not clean_text(v).strip():
            raise ValueError("the message is empty: it has only spaces or control characters")
        return v


class MessageItemOut(BaseModel):
    """One link, phone number, bank account, handle or app of the message.

    Links carry the link report (`url`, `risk_score`, `verdict`, `findings`…);
    phone numbers their normalised `number` (`+84…`; 1800/1900 numbers as
    dialled) and `type`; bank accounts their `number` (digits) and `bank` (when
    named next to it); Zalo and Telegram handles their `value` (`zalo.me/…`,
    `zalo.me/g/…`, `@name`, `t.me/+…`) and `type`; apps their `name` and `type`
    (`apk` or `remote_control`). Phone numbers and accounts also carry `listed`
    and `list_entry` (the analyst entry: `id`, `action`, `note`, `added_by`, or
    null). In a stored check (`GET /v1/scans/{check_id}`) numbers are masked.
    """

    model_config = ConfigDict(extra="allow")

    kind: Literal["link", "phone", "bank_account", "zalo", "telegram", "app"]
    input: str = Field(description="The item as written in the message.")
    start: int = Field(description="Offset of the item in the text (characters).")
    end: int


class MessageSignalOut(BaseModel):
    """A scam-script phrase: `text == request.text[start:end]`."""

    category: str = Field(examples=["impersonation"])
    rule_id: str
    text: str
    start: int
    end: int
    counted: bool = Field(description="Whether it adds to the score.")
    note: str | None = Field(
        description="Why it does not count: `negated` (\"không chia sẻ mã OTP\"), "
        "`describes` (\"giả danh cán bộ công an\", a transfer reported as done: \"đã chuyển "
        "khoản\"), `official_store` (install from CH Play / "
        "App Store), or null."
    )


class HotlineOut(BaseModel):
    """A number to call, named in the reply."""

    name: str = Field(examples=["Công an (khẩn cấp)"])
    number: str = Field(examples=["113"])


class MessageReport(BaseModel):
    """The explained answer for one message."""

    model_config = ConfigDict(extra="allow")

    check_id: str = Field(description="Unique id of this check (uuid4, hex).")
    characters: int = Field(description="Length of the text checked.")
    risk_score: int = Field(
        ge=0, le=100, description="Never below the score of the worst link the message "
        "carries (the `MSG-LINK-*` findings carry that link's own score).")
    verdict: Verdict
    scam_type: str | None = Field(
        description="The scam family when one matched (its `MSG-TYPE-*` rule): one of "
        + ", ".join(f"`{t}`" for t in sorted(SCAM_TYPES)) + "; null otherwise.",
        examples=["police_impersonation"])
    headline: str = Field(
        description=f"At most {MAX_HEADLINE_WORDS} words: what this is and what not to do.")
    steps: list[str] = Field(
        max_length=MAX_STEPS,
        description=f"At most {MAX_STEPS} steps suited to the scam family, with the number "
        "to call (113 for police matters; the named bank's official site and card number).")
    if_already: list[str] = Field(
        description="What to do if the person already installed the app, gave a code or "
        "paid (airplane mode, call the bank…); empty when nothing was flagged.")
    hotlines: list[HotlineOut] = Field(description="The numbers the reply names.")
    reply: str = Field(
        description=f"The whole answer for the chatbot to post as is, at most "
        f"{MAX_REPLY_WORDS} words: the headline, then the steps and 'if already' lines "
        "that fit.")
    reasons: list[str]
    findings: list[FindingOut]
    items: list[MessageItemOut]
    script_signals: list[MessageSignalOut]
    incomplete: list[IncompleteOut]


class StoredMessageReport(MessageReport):
    """A message check as the history keeps it: numbers masked, the text included."""

    text: str = Field(description="The message, every phone number and account number "
                      "masked (`091*****78`); the length and the offsets are kept.")


class MessageScanOut(BaseModel):
    """A stored message check (`kind: message`): always `done`."""

    scan_id: str = Field(description="The `check_id` of the message check's answer.")
    kind: Literal["message"]
    status: Literal["done"]
    status_url: str = Field(description="`/v1/scans/{scan_id}`.")
    created: datetime
    input: str = Field(description="The start of the message (masked).")
    report: StoredMessageReport | None = Field(
        default=None, description="The check as stored (masked), its finding titles and "
        "reasons in the asked `lang`; `reply` stays in the language it was made in. Absent "
        "when it was larger than `SCAMSCAN_HISTORY_REPORT_MAX_BYTES` (`reason` says so).")
    reason: str | None = Field(default=None, description="Only when `report` is absent: why.")


async def create_message_check(
    body: MessageCheckRequest,
    scanner: ScannerDep,
    live: LiveDep,
    settings: SettingsDep,
    services: ServicesDep,
    metrics: MetricsDep,
) -> dict[str, Any]:
    """Check everything in a forwarded message: links, phone numbers, bank accounts, Zalo
    and Telegram handles, apps, scam script.

    The `reply` is short enough to post back in the chat as is. The check is
    remembered (numbers masked) for `SCAMSCAN_MESSAGE_RETENTION_DAYS`:
    `GET /v1/scans/{check_id}` answers it again.
    """
    lang = body.lang or settings.default_lang
    report = await check_message(
        body.text,
        scanner,
        () if body.offline else live.scanners,
        lang,
        # Each link live-checked may start a dozen fetches: the bound keeps one
        # message from turning the service into a crawler (issue 15).
        live_links=settings.message_live_max_links,
        live_timeout=settings.fetch_total_timeout,
        identifier_lists=services.lists.dynamic,
    )
    answer = {"check_id": uuid.uuid4().hex, **report}
    metrics.record_scan("message", answer["verdict"])
    # Queued, never awaited: a history failure must not fail the check
    # (api.services.history).
    text = clean_text(body.text)
    stored = identifiers.stored_report(answer, text, identifiers.extract(text))
    await services.history.room()  # backpressure when the history writer is far behind
    services.history.record_message(stored, owner=current_owner.get(), lang=lang)
    return answer


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/message-checks``."""
    router = Router()
    router.add_api_route(
        "/v1/message-checks",
        create_message_check,
        methods=["POST"],
        response_model=MessageReport,
        dependencies=[Depends(require("client")), Depends(require_json)],
        responses={**problem_responses(400, 413, 415, 422), **AUTH_RESPONSES},
        tags=["messages"],
        summary="Check a chat message",
    )
    return router
