"""Feedback: "this was a scam" / "this was not a scam", and its review by analysts.

The routes (:mod:`api.routes.feedback`) and the console's feedback page
(:mod:`api.console.feedback`) call these functions.

* :func:`submit_feedback` detects and normalises the target (a link through
  :func:`scanners.normalize.normalize`, an app's SHA-256, a Vietnamese phone
  number through :func:`scanners.identifiers.phone_value`, or a scan id that
  must exist and be the sender's to see) and stores the entry, folded into the
  sender's pending entry for the same target (:mod:`api.storage.feedback`).
* :func:`resolve_feedback` (analysts) turns an entry into a list entry through
  the list service (:meth:`api.services.lists.ListService.add_entry`: the same
  checks, log and audit fields as ``POST /v1/lists/entries``), or dismisses it,
  and marks it resolved with who and when.

**Feedback never changes a verdict by itself**: nothing here touches the lists
or any scanner until an analyst resolves an entry with ``block`` or ``allow``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from api.auth import Principal
from api.problems import TYPE_INVALID_INPUT, TYPE_NOT_FOUND, ProblemException
from api.storage.feedback import (
    Feedback,
    FeedbackKind,
    Resolution,
    Status,
    TargetType,
    TooManyPending,
)
from api.storage.lists import DuplicateEntry, TooManyEntries
from blocklists import never_host_match
from scanners.errors import InvalidURLError
from scanners.identifiers import phone_value
from scanners.lists import EntryError, official_host
from scanners.normalize import ParsedURL, normalize

if TYPE_CHECKING:  # the container imports the services
    from api.services.container import Services

TYPE_CONFLICT = "tag:scamscan,2025:problems/conflict"
TYPE_TOO_MANY_PENDING = "tag:scamscan,2025:problems/too-many-pending"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SCAN_ID = re.compile(r"^[0-9a-f]{32}$")
_PHONE_CHARS = re.compile(r"^[+(]?[0-9][0-9 ().\-]{5,24}$")
_DOTTED_IPV4 = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$")
"""A bare IPv4 address is a link target (a scam site on a raw address), not a phone."""
NOTE_PREFIX_CHARS = 1500
"""Characters of the feedback's note copied into the list entry's note (its limit is 2000)."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def status_url(feedback_id: str) -> str:
    """Where a feedback entry is read: ``/v1/feedback/{id}``."""
    return f"/v1/feedback/{feedback_id}"


def _invalid(detail: str) -> ProblemException:
    return ProblemException(422, detail, type_=TYPE_INVALID_INPUT, title="Invalid feedback")


def _link(text: str) -> ParsedURL:
    """A link target as the scanner reads it; 422 unless it names a real site."""
    try:
        p = normalize(text)
    except InvalidURLError as e:
        raise _invalid(f"The target is not a link, an app SHA-256, a phone number or a scan "
                       f"id: {e.reason}") from None
    if p.ip is None and not p.registrable_domain:
        raise _invalid(f"The target {text[:80]!r} is not a link, an app SHA-256, a "
                       "Vietnamese phone number or a scan id.")
    return p


async def _scan_record(services: Services, scan_id: str, principal: Principal
                       ) -> dict[str, Any] | None:
    """What feedback needs of a scan the caller may see (kind, verdict, its target), or
    None when it is unknown or not the caller's."""
    job = await services.jobs.lookup(scan_id)
    if job is not None:
        if not principal.can_see(job.owner):
            return None
        record = await services.history.get(scan_id)
        return {"kind": "apk", "sha256": job.sha256,
                "verdict": record.get("verdict") if record else None,
                "risk_score": record.get("risk_score") if record else None}
    record = await services.history.get(scan_id)
    if record is None or not principal.can_see(record.get("owner")):
        return None
    report = record.get("report") or {}
    return {"kind": record.get("kind"), "verdict": record.get("verdict"),
            "risk_score": record.get("risk_score"), "sha256": record.get("sha256"),
            "url": report.get("url") if record.get("kind") == "url" else None}


async def detect_target(services: Services, target: str, principal: Principal
                        ) -> tuple[TargetType, str]:
    """``(type, normalised target)`` of what a feedback names; a 422 problem when it is
    none of a link, an app SHA-256, a Vietnamese phone number or a visible scan id."""
    text = target.strip()
    if not text:
        raise _invalid("The target is empty.")
    lowered = text.lower().replace(":", "")
    if _SHA256.match(lowered):
        return "apk_sha256", lowered
    if _SCAN_ID.match(text.lower()):
        if await _scan_record(services, text.lower(), principal) is None:
            raise _invalid(f"There is no scan with the id {text!r} (or it is not yours to "
                           "see).")
        return "scan", text.lower()
    if _PHONE_CHARS.match(text) and not _DOTTED_IPV4.match(text):
        got = phone_value(text)
        if got is None:
            raise _invalid(f"The target {text[:80]!r} is not a valid Vietnamese phone "
                           "number (e.g. 0912 345 678, +84 912 345 678).")
        return "phone", got[0]
    return "url", _link(text).url


async def submit_feedback(services: Services, principal: Principal, kind: FeedbackKind,
                          target: str, note: str = "", scan_id: str | None = None
                          ) -> tuple[Feedback, bool]:
    """Store a feedback entry (or fold it into the sender's pending one for the same
    target): ``(entry, folded)``. 422 for a bad target or scan id, 429 past the
    sender's pending bound. Changes no list and no verdict."""
    settings = services.settings
    if len(note) > settings.feedback_max_note_chars:
        raise _invalid(f"The note is longer than {settings.feedback_max_note_chars} "
                       "characters (SCAMSCAN_FEEDBACK_MAX_NOTE_CHARS).")
    target_type, value = await detect_target(services, target, principal)
    linked = value if target_type == "scan" else None
    if scan_id is not None:
        scan_id = scan_id.strip().lower()
        if (not _SCAN_ID.match(scan_id)
                or await _scan_record(services, scan_id, principal) is None):
            raise _invalid(f"There is no scan with the id {scan_id[:64]!r} (or it is not "
                           "yours to see).")
        linked = scan_id
    now = _now()
    entry = Feedback(id="fb_" + uuid.uuid4().hex[:16], kind=kind, target_type=target_type,
                     target=value, owner=principal.key_id or "",
                     reporter=principal.name if principal.key_id else "local",
                     created=now, updated=now, note=note.strip(), scan_id=linked)
    try:
        return await services.feedback.submit(entry, settings.feedback_max_pending,
                                              settings.feedback_max_records)
    except TooManyPending:
        raise ProblemException(
            429, f"This key has {settings.feedback_max_pending} feedback entries waiting "
            "for review already (SCAMSCAN_FEEDBACK_MAX_PENDING); send more once analysts "
            "have reviewed them.", type_=TYPE_TOO_MANY_PENDING,
            title="Too much pending feedback", headers={"retry-after": "3600"}) from None


async def feedback_view(services: Services, entry: Feedback, *, with_scan: bool = True
                        ) -> dict[str, Any]:
    """An entry as the API answers it, with the linked scan's verdict (analysts)."""
    out = {**entry.to_dict(), "status_url": status_url(entry.id)}
    if with_scan:
        out["scan"] = None
        if entry.scan_id:
            record = await services.history.get(entry.scan_id)
            if record is not None:
                out["scan"] = {"scan_id": entry.scan_id, "kind": record.get("kind"),
                               "verdict": record.get("verdict"),
                               "risk_score": record.get("risk_score")}
    return out


async def get_feedback(services: Services, feedback_id: str, principal: Principal
                       ) -> Feedback:
    """An entry its sender (or an analyst) may read; 404 otherwise."""
    entry = await services.feedback.get(feedback_id)
    if entry is None or not principal.can_see(entry.owner or None):
        raise ProblemException(404, f"There is no feedback entry with the id "
                               f"{feedback_id!r}.", type_=TYPE_NOT_FOUND,
                               title="Unknown feedback")
    return entry


async def list_feedback(services: Services, status: Status, page: int, per_page: int
                        ) -> dict[str, Any]:
    """One page of the queue (``pending``: newest report first) or of resolved entries."""
    entries, total = await services.feedback.page(status, (page - 1) * per_page, per_page)
    return {"items": [await feedback_view(services, e) for e in entries], "total": total,
            "page": page, "per_page": per_page, "status": status}


async def list_target(services: Services, entry: Feedback, action: Resolution
                      ) -> tuple[str, str]:
    """``(list kind, value)`` an entry becomes with ``action`` (``block``/``allow``).

    A link: ``block`` lists its registrable domain (a ``url`` entry for one page of
    a shared platform or an official site, which can never be blocked whole),
    ``allow`` its host; an
    app: its SHA-256; a phone number: itself; a scan: the link or app it scanned.
    A message check has no single target: 422 (dismiss it, or list its numbers
    from the lists page)."""
    kind, value = entry.target_type, entry.target
    if kind == "scan":
        record = await services.history.get(value)
        job = await services.jobs.lookup(value)
        if job is not None:
            return "apk_sha256", job.sha256
        if record is None:
            raise _invalid("The scan this feedback names is no longer in the history; "
                           "dismiss it, or add a list entry by hand.")
        if record.get("kind") == "apk" and record.get("sha256"):
            return "apk_sha256", str(record["sha256"])
        url = (record.get("report") or {}).get("url") or record.get("input")
        if record.get("kind") != "url" or not url:
            raise _invalid("A message check names no single link, app or number to list; "
                           "dismiss it, or list its numbers from the lists page.")
        kind, value = "url", str(url)
    if kind == "phone":
        return "phone", value
    if kind == "apk_sha256":
        return "apk_sha256", value
    p = _link(value)
    if action == "allow":
        return "host", p.host
    domain = p.registrable_domain or p.host
    if p.ip is None and official_host(p.host):
        # A client's report must never get the real bank or ministry blocked in one
        # click: only the page it names, if any (as for a shared platform).
        if p.path in ("", "/"):
            raise _invalid(f"{p.host!r} is an official site (gov.vn, or a bank or agency "
                           "of the registry) that cannot be blocked as a whole, and the "
                           "link names no page of it; dismiss it.")
        return "url", p.url
    if p.ip is None and never_host_match(domain):
        if p.path in ("", "/"):
            raise _invalid(f"{p.host!r} is on a shared platform that cannot be blocked as "
                           "a whole, and the link names no page of it; dismiss it.")
        return "url", p.url
    return "domain", domain


async def resolve_feedback(services: Services, principal: Principal, feedback_id: str,
                           action: Resolution, note: str = "") -> dict[str, Any]:
    """Resolve a pending entry: ``block`` or ``allow`` adds the matching list entry
    through the list service (an identical entry already listed is linked, not
    duplicated), ``dismiss`` only closes it. 404 unknown, 409 already resolved,
    422 when it cannot become a list entry."""
    entry = await services.feedback.get(feedback_id)
    if entry is None:
        raise ProblemException(404, f"There is no feedback entry with the id "
                               f"{feedback_id!r}.", type_=TYPE_NOT_FOUND,
                               title="Unknown feedback")
    if entry.status != "pending":
        raise _already(entry)
    list_entry: dict[str, Any] | None = None
    if action != "dismiss":
        kind, value = await list_target(services, entry, action)
        why = note.strip() or entry.note
        list_note = f"feedback {entry.id} ({entry.kind}, x{entry.count})" + (
            f": {why[:NOTE_PREFIX_CHARS]}" if why else "")
        try:
            added = await services.lists.add_entry(kind, value, action, None, list_note,
                                                   principal)
            list_entry = added.to_dict()
        except EntryError as e:
            raise _invalid(f"This feedback cannot become a list entry: {e}") from None
        except DuplicateEntry as e:  # listed already (by hand, or another feedback)
            existing = services.lists.entries.get(e.existing_id)
            list_entry = existing.to_dict() if existing else {"id": e.existing_id}
        except TooManyEntries:
            raise _invalid(f"The lists hold {services.settings.lists_max_entries} analyst "
                           "entries already (SCAMSCAN_LISTS_MAX_ENTRIES).") from None
    by = principal.name if principal.key_id else "local"
    done, changed = await services.feedback.resolve(
        entry.id, action, by, _now(), list_entry["id"] if list_entry else None)
    if done is None:
        raise ProblemException(404, f"There is no feedback entry with the id "
                               f"{feedback_id!r}.", type_=TYPE_NOT_FOUND,
                               title="Unknown feedback")
    if not changed:
        raise _already(done)
    return {**await feedback_view(services, done), "list_entry": list_entry}


def _already(entry: Feedback) -> ProblemException:
    return ProblemException(409, f"This feedback was resolved already ({entry.resolution} "
                            f"by {entry.resolved_by} at {entry.resolved_at}).",
                            type_=TYPE_CONFLICT, title="Already resolved")
