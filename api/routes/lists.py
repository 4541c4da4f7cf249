"""``/v1/lists``: list sources, analyst entries, feeds and refreshes (see
:mod:`api.services.lists` for what they do, :mod:`api.storage.lists` for where they live).

A store that fails is a 503 problem (:func:`api.problems.storage_problem`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AUTH_RESPONSES, AdminAuth, AnalystAuth
from api.deps import ListsDep
from api.problems import (
    TYPE_INVALID_INPUT,
    TYPE_NOT_FOUND,
    ProblemException,
    problem_responses,
)
from api.routing import Router
from api.settings import Settings
from api.storage.lists import DuplicateEntry, DuplicateFeed, TooManyEntries
from scanners.lists import Action, EntryError, FeedFormat, Kind, ListEntry, Semantics

TYPE_CONFLICT = "tag:scamscan,2025:problems/conflict"


class EntryCreate(BaseModel):
    """A list entry to add."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"kind": "domain", "value": "vneid-capnhat.top", "note": "SMS campaign 2025-06"},
        {"kind": "host", "value": "shop.example.vn", "action": "allow",
         "note": "false positive of a feed"},
        {"kind": "package", "value": "com.fake.vnid", "note": "fake VNeID"},
        {"kind": "official_signer", "package": "com.vnid",
         "value": "AB:CD:...:EF (the signing certificate's SHA-256)"},
        {"kind": "phone", "value": "0912 345 678", "note": "fake police caller, 2026-11"},
        {"kind": "bank_account", "value": "1903 6789 1234 56", "note": "mule account (TCB)"},
    ]})

    kind: Kind
    value: str = Field(min_length=1, max_length=2048, description="A host, domain, URL, "
                       "APK SHA-256, package name, signer SHA-256, Vietnamese phone number "
                       "(stored as `+84…`) or bank account number (6-19 digits), by kind; "
                       "normalised. A `domain` or `host` block entry may not name a whole "
                       "shared platform (`github.io`) nor an official site (a gov.vn name, "
                       "`vietcombank.com.vn`…): 422, use a `url` entry for one page.")
    action: Action | None = Field(default=None, description="`block` (default) or `allow`; "
                                  "an `allow` entry overrides feeds and bundled lists. "
                                  "`official_signer` entries are `allow`.")
    package: str | None = Field(default=None, max_length=255,
                                description="Only for `official_signer`: the app's package.")
    note: str = Field(default="", max_length=2000, description="Why (shown in evidence).")


class EntryOut(BaseModel):
    id: str
    kind: Kind
    action: Action
    value: str
    package: str | None
    note: str
    added_by: str = Field(description="The name of the API key that added it, or `local`.")
    added_at: datetime


class EntryPage(BaseModel):
    entries: list[EntryOut]
    total: int
    page: int
    per_page: int


class FeedCreate(BaseModel):
    """A feed to configure (admin)."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"name": "vn-phish", "url": "https://example.org/vn-phishing-hosts.txt",
         "format": "hosts", "semantics": "domain"}]})

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    format: FeedFormat
    semantics: Semantics = "domain"
    enabled: bool = True


class FeedOut(BaseModel):
    name: str
    url: str
    format: FeedFormat
    semantics: Semantics
    enabled: bool
    added_by: str
    added_at: str
    generation: int = 0
    entries: int = 0
    last_success: str | None = None
    last_attempt: str | None = None
    last_error: str | None = None
    status: Literal["ok", "failed", "never"] = "never"


class BundledOut(BaseModel):
    name: str
    entries: int
    semantics: str
    licence: str
    homepage: str


class AnalystCounts(BaseModel):
    total: int
    by_kind: dict[str, dict[str, int]]


class SourcesOut(BaseModel):
    bundled: list[BundledOut]
    feeds: list[FeedOut]
    analyst: AnalystCounts
    version: int = Field(description="The list store's version this process last loaded.")


class RefreshOut(BaseModel):
    feed: str
    ok: bool
    error: str | None
    generation: int = Field(description="The generation now in use (the old one on failure).")
    previous_generation: int
    entries: int
    skipped: int | None = None
    kept_previous: bool


class RefreshResults(BaseModel):
    results: list[RefreshOut]


def _entry_out(e: ListEntry) -> dict[str, Any]:
    return e.to_dict()


async def list_sources(lists: ListsDep, _: AnalystAuth) -> dict[str, Any]:
    """Bundled sources, feeds (generation, last refresh, last error) and analyst entry counts."""
    return lists.sources()


async def list_entries(
    lists: ListsDep,
    _: AnalystAuth,
    kind: Annotated[Kind | None, Query(description="Only entries of this kind.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Substring of the value, "
                                   "note or author.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Analyst entries, newest first, filtered and paged."""
    entries = list(lists.entries.values())
    entries.reverse()
    if kind is not None:
        entries = [e for e in entries if e.kind == kind]
    if q:
        needle = q.lower()
        entries = [e for e in entries if needle in e.value.lower() or needle in e.note.lower()
                   or needle in e.added_by.lower() or needle in e.package.lower()]
    start = (page - 1) * per_page
    return {"entries": [_entry_out(e) for e in entries[start:start + per_page]],
            "total": len(entries), "page": page, "per_page": per_page}


async def create_entry(lists: ListsDep, body: EntryCreate, who: AnalystAuth) -> dict[str, Any]:
    """Add a list entry; it applies to the next scans (URL scans at once, APK scans on
    their next run: stored APK reports made before the change are not reused)."""
    try:
        entry = await lists.add_entry(body.kind, body.value, body.action, body.package,
                                        body.note, who)
    except EntryError as e:
        raise ProblemException(422, str(e), type_=TYPE_INVALID_INPUT,
                               title="Invalid list entry") from None
    except DuplicateEntry as e:
        raise ProblemException(409, f"This entry already exists (id {e.existing_id!r}); "
                               "delete it first to change it.", type_=TYPE_CONFLICT,
                               title="Duplicate entry") from None
    except TooManyEntries:
        raise ProblemException(422, f"The lists hold {lists.settings.lists_max_entries} "
                               "analyst entries already (SCAMSCAN_LISTS_MAX_ENTRIES).",
                               type_=TYPE_INVALID_INPUT, title="Too many entries") from None
    return _entry_out(entry)


async def delete_entry(
    lists: ListsDep,
    entry_id: Annotated[str, PathParam(max_length=64, description="The entry's id.")],
    _: AnalystAuth,
) -> dict[str, Any]:
    """Remove a list entry."""
    entry = await lists.delete_entry(entry_id)
    if entry is None:
        raise ProblemException(404, f"There is no list entry with the id {entry_id!r}.",
                               type_=TYPE_NOT_FOUND, title="Unknown entry")
    return _entry_out(entry)


async def create_feed(lists: ListsDep, body: FeedCreate, who: AdminAuth) -> dict[str, Any]:
    """Configure a feed (admin); it is fetched on the next refresh."""
    try:
        feed = await lists.add_feed(body.name, body.url, body.format, body.semantics,
                                      body.enabled, who)
    except EntryError as e:
        raise ProblemException(422, str(e), type_=TYPE_INVALID_INPUT,
                               title="Invalid feed") from None
    except DuplicateFeed:
        raise ProblemException(409, f"A feed named {body.name!r} exists already.",
                               type_=TYPE_CONFLICT, title="Duplicate feed") from None
    return {**feed.to_dict(), "status": "never"}


async def delete_feed(
    lists: ListsDep,
    name: Annotated[str, PathParam(max_length=64, description="The feed's name.")],
    _: AdminAuth,
) -> dict[str, Any]:
    """Remove a feed and its generations (admin)."""
    feed = await lists.delete_feed(name)
    if feed is None:
        raise ProblemException(404, f"There is no feed named {name!r}.",
                               type_=TYPE_NOT_FOUND, title="Unknown feed")
    return feed.to_dict()


async def refresh_feeds(
    lists: ListsDep,
    _: AdminAuth,
    feed: Annotated[str | None, Query(max_length=64, description="Only this feed.")] = None,
) -> dict[str, Any]:
    """Fetch the feeds and swap each in as a new generation (admin).

    A feed that fails (HTTP error, time-out, too big, nothing parseable) keeps
    its previous generation; its result says so (`ok: false`, `error`).
    """
    if feed is not None and feed not in lists.feeds:
        await lists.reload()
    if feed is not None and feed not in lists.feeds:
        raise ProblemException(404, f"There is no feed named {feed!r}.",
                               type_=TYPE_NOT_FOUND, title="Unknown feed")
    return {"results": await lists.refresh(feed)}


def build(settings: Settings) -> APIRouter:
    """``/v1/lists``: sources, analyst entries, feeds and refreshes."""
    router = Router(prefix="/v1/lists", tags=["lists"])
    errors = {**AUTH_RESPONSES}
    router.add_api_route("/sources", list_sources, methods=["GET"], response_model=SourcesOut,
                         responses=errors, summary="List sources and their sizes")
    router.add_api_route("/entries", list_entries, methods=["GET"], response_model=EntryPage,
                         responses={**errors, **problem_responses(422)},
                         summary="List analyst entries")
    router.add_api_route("/entries", create_entry, methods=["POST"], status_code=201,
                         response_model=EntryOut, summary="Add a list entry",
                         responses={**errors, **problem_responses(409, 422)})
    router.add_api_route("/entries/{entry_id}", delete_entry, methods=["DELETE"],
                         response_model=EntryOut, summary="Remove a list entry",
                         responses={**errors, **problem_responses(404)})
    router.add_api_route("/feeds", create_feed, methods=["POST"], status_code=201,
                         response_model=FeedOut, summary="Configure a feed (admin)",
                         responses={**errors, **problem_responses(409, 422)})
    router.add_api_route("/feeds/{name}", delete_feed, methods=["DELETE"],
                         response_model=FeedOut, summary="Remove a feed (admin)",
                         responses={**errors, **problem_responses(404)})
    router.add_api_route("/refresh", refresh_feeds, methods=["POST"],
                         response_model=RefreshResults, summary="Refresh feeds (admin)",
                         responses={**errors, **problem_responses(404, 422)})
    return router
