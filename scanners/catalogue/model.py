"""The types of the rule catalogue, the verdicts and the thresholds that make them.

Everything that gives a rule its meaning is on :class:`Rule` itself: points,
severity, kind, titles and reply words in both languages, scope and status.
The verdict thresholds live here, beside the rules, because some rules are
defined from them (a message's link rules score exactly a link's verdict band).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DANGEROUS_AT = 70
"""Score from which the verdict is ``dangerous``."""
SUSPICIOUS_AT = 40
"""Score from which the verdict is ``suspicious``."""
MAX_SCORE = 100
"""Scores are capped here."""


class Verdict(enum.StrEnum):
    """The one-word answer, from best to worst."""

    OFFICIAL = "official"
    NO_KNOWN_RISK = "no_known_risk"
    SUSPICIOUS = "suspicious"
    DANGEROUS = "dangerous"

    def label(self, lang: str) -> str:
        """The verdict as a reader sees it, in ``lang`` (``"vi"``, else English)."""
        return _VERDICT_LABELS[self][0 if lang == "vi" else 1]


_VERDICT_LABELS: dict[Verdict, tuple[str, str]] = {
    Verdict.OFFICIAL: ("Chính thức", "Official"),
    Verdict.NO_KNOWN_RISK: ("Chưa thấy rủi ro", "No known risk"),
    Verdict.SUSPICIOUS: ("Đáng ngờ", "Suspicious"),
    Verdict.DANGEROUS: ("Nguy hiểm", "Dangerous"),
}


def verdict_for(score: int, official: bool = False) -> Verdict:
    """The verdict for a score; ``official`` when an official-domain rule matched."""
    if score >= DANGEROUS_AT:
        return Verdict.DANGEROUS
    if score >= SUSPICIOUS_AT:
        return Verdict.SUSPICIOUS
    if score == 0 and official:
        return Verdict.OFFICIAL
    return Verdict.NO_KNOWN_RISK


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


class Scope(enum.StrEnum):
    """What a rule looks at: the id prefix says the same (``URL-``, ``APK-``, ``MSG-``)."""

    URL = "url"
    APK = "apk"
    MESSAGE = "message"


SCOPE_PREFIX: dict[Scope, str] = {Scope.URL: "URL-", Scope.APK: "APK-", Scope.MESSAGE: "MSG-"}


class Status(enum.StrEnum):
    """Whether scanners may still emit a rule.

    A retired rule stays in the catalogue so that stored reports naming it can
    still be read and relabelled; its id is never given to another rule."""

    ACTIVE = "active"
    RETIRED = "retired"


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
    scope: Scope = Scope.URL
    status: Status = Status.ACTIVE
    reply_vi: str | None = None
    """For message rules: the reason in a chat reply, after "Lý do: tin nhắn "."""
    reply_en: str | None = None
    """For message rules: the reason in a chat reply, after "Why: "."""

    def title(self, lang: str) -> str:
        """The title in ``lang`` (``"vi"`` or ``"en"``)."""
        return self.title_vi if lang == "vi" else self.title_en

    def reply(self, lang: str) -> str | None:
        """The short reason for a chat reply in ``lang``; None for a rule without one."""
        return self.reply_vi if lang == "vi" else self.reply_en


def rule(
    scope: Scope,
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
    reply: tuple[str, str] | None = None,
    status: Status = Status.ACTIVE,
) -> Rule:
    """A catalogue entry; ``suppressible`` follows from ``kind`` (only risk rules are).

    ``reply``: the (vi, en) reason words of a message rule."""
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
        scope=scope,
        status=status,
        reply_vi=reply[0] if reply else None,
        reply_en=reply[1] if reply else None,
    )
