"""``/v1/feedback``: "this was a scam" / "this was not a scam", and the analysts' queue.

What the handlers do is in :mod:`api.services.feedback`; where it is kept,
:mod:`api.storage.feedback`. Feedback never changes a verdict by itself: only an
analyst resolving an entry with ``block`` or ``allow`` adds a list entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_RESPONSES, AnalystAuth, ClientAuth
from api.deps import ServicesDep, require_json
from api.problems import problem_responses
from api.routes.lists import EntryOut
from api.routing import Router
from api.services import feedback as service
from api.settings import Settings
from scanners.findings import Verdict

FeedbackKind = Literal["scam", "false_positive"]
TargetType = Literal["url", "apk_sha256", "phone", "scan"]
FeedbackIdPath = Annotated[str, PathParam(max_length=64, description="The feedback's `id`.")]


class FeedbackCreate(BaseModel):
    """A report that a verdict was wrong (or right), for analysts to review."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"kind": "scam", "target": "dichvucong-gov.top/kich-hoat",
         "note": "sent by a caller posing as the police", "scan_id": None},
        {"kind": "false_positive", "target": "shop.example.vn"},
        {"kind": "scam", "target": "0912 345 678", "note": "fake bank officer"},
        {"kind": "scam", "target": "3f1c…(an app's SHA-256, 64 hex digits)"},
    ]})

    kind: FeedbackKind = Field(description="`scam`: this was a scam (the verdict was too "
                               "calm); `false_positive`: this was not a scam.")
    target: str = Field(min_length=1, max_length=2048, description="What the feedback is "
                        "about: a link (normalised as the scanner reads it), an app's SHA-256 "
                        "(64 hex digits), a Vietnamese phone number (stored as `+84…`) or a "
                        "scan id (32 hex digits; it must exist and be yours to see). The "
                        "type is detected.")
    note: str = Field(default="", max_length=10_000, description="Optional words for the "
                      "analyst (at most `SCAMSCAN_FEEDBACK_MAX_NOTE_CHARS`, 1,000).")
    scan_id: str | None = Field(default=None, max_length=64, description="Optional: the scan "
                                "this feedback is about (it must exist and be yours to see).")


class LinkedScanOut(BaseModel):
    """The scan a feedback names, as the history has it now."""

    scan_id: str
    kind: Literal["url", "apk", "message"] | None
    verdict: Verdict | None
    risk_score: int | None


class FeedbackOut(BaseModel):
    """One feedback entry."""

    id: str = Field(description="`fb_` and 16 hex digits.")
    kind: FeedbackKind
    target_type: TargetType = Field(description="How `target` was read.")
    target: str = Field(description="Normalised: a canonical URL, an app SHA-256 in lower "
                        "case, `+84…`, or a scan id.")
    note: str = Field(description="The newest non-empty note of the folded reports.")
    scan_id: str | None
    count: int = Field(ge=1, description="Reports folded into this entry: the same key "
                       "reporting the same target again while it is pending.")
    status: Literal["pending", "resolved"]
    reporter: str = Field(description="The name of the sending key, or `local`.")
    created: datetime
    updated: datetime = Field(description="The last report folded into it.")
    resolution: Literal["block", "allow", "dismiss"] | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    list_entry_id: str | None = Field(default=None, description="The list entry it became "
                                      "(`block`, `allow`).")
    status_url: str = Field(description="`/v1/feedback/{id}`.")
    scan: LinkedScanOut | None = Field(default=None, description="The linked scan's "
                                       "current verdict (when `scan_id` is set and kept).")


class FeedbackAccepted(BaseModel):
    """The answer of `POST /v1/feedback` (202: queued for review, no verdict changed)."""

    id: str
    status: Literal["pending"]
    kind: FeedbackKind
    target_type: TargetType
    target: str
    count: int = Field(description="Reports of this key for this target now pending.")
    folded: bool = Field(description="True when this report was folded into the key's "
                         "pending entry for the same target instead of a new one.")
    status_url: str


class FeedbackPage(BaseModel):
    """A page of the queue (newest first)."""

    items: list[FeedbackOut]
    total: int
    page: int
    per_page: int
    status: Literal["pending", "resolved"]


class ResolveRequest(BaseModel):
    """What an analyst makes of a feedback entry."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"action": "block", "note": "confirmed: fake VNeID site"}, {"action": "dismiss"}]})

    action: Literal["block", "allow", "dismiss"] = Field(
        description="`block`: add the target to the block list of its kind (a link's "
        "registrable domain, or the page of a shared platform; an app's SHA-256; a phone "
        "number; a scan's link or app); `allow`: add it to the allow list of its kind (a "
        "link's host); `dismiss`: no list entry.")
    note: str = Field(default="", max_length=1000, description="The list entry's note "
                      "(default: the feedback's).")


class ResolvedOut(FeedbackOut):
    """A resolved entry, with the list entry it became."""

    list_entry: EntryOut | None = Field(description="The list entry added (or the identical "
                                        "one that was listed already); None for `dismiss`.")


async def create_feedback(body: FeedbackCreate, services: ServicesDep, principal: ClientAuth,
                          response: Response) -> dict[str, Any]:
    """Report that a link, an app, a phone number or a scan was a scam (`scam`) or was
    not (`false_positive`), for analysts to review.

    Answers 202 at once: the entry waits in the analysts' queue (`GET /v1/feedback`)
    and **changes no verdict by itself**. The same key reporting the same target again
    while it is pending is folded into one entry (`count`). A key may have at most
    `SCAMSCAN_FEEDBACK_MAX_PENDING` entries pending (then 429)."""
    entry, folded = await service.submit_feedback(services, principal, body.kind, body.target,
                                                  body.note, body.scan_id)
    response.headers["location"] = service.status_url(entry.id)
    return {"id": entry.id, "status": entry.status, "kind": entry.kind,
            "target_type": entry.target_type, "target": entry.target, "count": entry.count,
            "folded": folded, "status_url": service.status_url(entry.id)}


async def list_feedback(
    services: ServicesDep,
    _: AnalystAuth,
    status: Annotated[Literal["pending", "resolved"], Query(
        description="The queue (`pending`, newest report first) or resolved entries "
        "(newest resolution first).")] = "pending",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """The feedback queue (analyst), with each linked scan's verdict."""
    return await service.list_feedback(services, status, page, per_page)


async def get_feedback(feedback_id: FeedbackIdPath, services: ServicesDep,
                       principal: ClientAuth) -> dict[str, Any]:
    """One feedback entry: its sender (the same key) or an analyst may read it."""
    entry = await service.get_feedback(services, feedback_id, principal)
    return await service.feedback_view(services, entry,
                                       with_scan=principal.at_least("analyst"))


async def resolve_feedback(feedback_id: FeedbackIdPath, body: ResolveRequest,
                           services: ServicesDep, principal: AnalystAuth) -> dict[str, Any]:
    """Resolve a pending entry (analyst): `block` or `allow` adds the matching list
    entry through the lists (as `POST /v1/lists/entries`, with a note naming the
    feedback), `dismiss` closes it; either way it records who and when."""
    return await service.resolve_feedback(services, principal, feedback_id, body.action,
                                          body.note)


def build(settings: Settings) -> APIRouter:
    """The router of ``/v1/feedback``."""
    router = Router(prefix="/v1/feedback", tags=["feedback"])
    router.add_api_route("", create_feedback, methods=["POST"], status_code=202,
                         response_model=FeedbackAccepted,
                         dependencies=[Depends(require_json)],
                         responses={202: {"description": "Queued for review (no verdict "
                                          "changed).", "headers": {"Location": {
                                              "description": "`/v1/feedback/{id}`: where "
                                              "the entry is read back.",
                                              "schema": {"type": "string"}}}},
                                    **problem_responses(400, 413, 415, 422, 429),
                                    **AUTH_RESPONSES},
                         summary="Report a scam or a false positive")
    router.add_api_route("", list_feedback, methods=["GET"], response_model=FeedbackPage,
                         responses={**problem_responses(422), **AUTH_RESPONSES},
                         summary="The feedback queue (analyst)")
    router.add_api_route("/{feedback_id}", get_feedback, methods=["GET"],
                         response_model=FeedbackOut, response_model_exclude_none=False,
                         responses={**problem_responses(404, 422), **AUTH_RESPONSES},
                         summary="One feedback entry")
    router.add_api_route("/{feedback_id}/resolve", resolve_feedback, methods=["POST"],
                         response_model=ResolvedOut, dependencies=[Depends(require_json)],
                         responses={**problem_responses(404, 409, 415, 422),
                                    **AUTH_RESPONSES},
                         summary="Resolve a feedback entry (analyst)")
    return router
