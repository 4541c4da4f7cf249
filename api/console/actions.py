"""What the console's "Add to blocklist" and "Rescan" buttons act on: no HTTP here.

* **Block**: a link report offers its registrable domain, its host (when it differs)
  and the link itself, each only when the list service would take it (a ``block``
  entry may not name a whole shared platform such as ``google.com``); an app report
  offers the file's SHA-256 (list kind ``apk_sha256``); a message check offers the
  hosts of the links it carries. Its phone numbers and bank accounts are stored
  masked (:func:`scanners.identifiers.stored_report`), so they cannot be blocked from
  the report. Entries are added through the API's own route function
  (:func:`api.routes.lists.create_entry`): same checks, same author, same errors.
* **Rescan**: a link is scanned again as it was the first time (offline, or with the
  live checks when the report shows they ran); an app is scanned again from its
  stored sample (:meth:`api.samples.SampleStore.path_for`) while the retention keeps
  it, else the button says why it cannot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.auth import Principal
from api.problems import ProblemException
from api.routes import lists as list_routes
from api.services.lists import ListService
from scanners.errors import InvalidURLError
from scanners.lists import EntryError, normalize_entry
from scanners.normalize import normalize

NOTE_MAX = 200


@dataclass(frozen=True)
class BlockTarget:
    """One thing a report can add to the blocklist: list kind, value as the lists
    store it, and the value as the page shows it (defanged)."""

    kind: str
    value: str
    shown: str


def _target(kind: str, raw: str, shown: str) -> BlockTarget | None:
    """The target, normalised as the lists store it, or None when the lists refuse it."""
    if not raw:
        return None
    try:
        value, _ = normalize_entry(kind, raw, "block")
    except (EntryError, InvalidURLError, ValueError):
        return None
    return BlockTarget(kind, value, shown)


def url_targets(report: Mapping[str, Any], defang: Any) -> list[BlockTarget]:
    """A link report's block choices, broadest first: registrable domain, host, link."""
    out: list[BlockTarget] = []
    domain = str(report.get("registrable_domain") or "")
    host = str(report.get("host") or "")
    url = str(report.get("url") or "")
    for kind, raw in (("domain", domain), ("host", host), ("url", url)):
        t = _target(kind, raw, defang(raw))
        if t is not None and all(t.value != o.value for o in out):
            out.append(t)
    return out


def apk_targets(sha256: str | None) -> list[BlockTarget]:
    """An app report's block choice: the file's SHA-256."""
    t = _target("apk_sha256", sha256 or "", sha256 or "")
    return [t] if t is not None else []


def message_targets(report: Mapping[str, Any], defang_host: Any) -> dict[int, BlockTarget]:
    """By item index: the host of each link a message check carries."""
    out: dict[int, BlockTarget] = {}
    for i, item in enumerate(x for x in report.get("items", []) if isinstance(x, Mapping)):
        if item.get("kind") != "link":
            continue
        try:
            host = normalize(str(item.get("url") or item.get("input") or "")).host
        except (InvalidURLError, ValueError):
            continue
        t = _target("host", host, defang_host(host))
        if t is not None:
            out[i] = t
    return out


def listed(lists: ListService, targets: Iterable[BlockTarget]) -> list[dict[str, Any]]:
    """The analyst entries that already name one of ``targets`` (any action)."""
    wanted = {(t.kind, t.value): t for t in targets}
    out = []
    for e in lists.entries.values():
        t = wanted.get((e.kind, e.value))
        if t is not None:
            out.append({"id": e.id, "kind": e.kind, "value": e.value, "action": e.action,
                        "shown": t.shown})
    return out


@dataclass
class BlockOutcome:
    """What a click on "Add to blocklist" did: entries added and entries already there."""

    added: list[dict[str, Any]]
    existing: list[dict[str, Any]]


async def block(lists: ListService, principal: Principal, targets: Sequence[BlockTarget],
                note: str) -> BlockOutcome:
    """Add ``targets`` as ``block`` entries through the API's route function. A target
    already listed is reported, not an error; any other refusal is raised as the
    API raises it (a :class:`~api.problems.ProblemException`)."""
    outcome = BlockOutcome([], [])
    for t in targets:
        body = list_routes.EntryCreate(kind=t.kind, value=t.value,  # type: ignore[arg-type]
                                       action="block", note=note[:NOTE_MAX])
        try:
            entry = await list_routes.create_entry(lists, body, principal)
        except ProblemException as e:
            if e.status_code != 409:
                raise
            outcome.existing.extend(listed(lists, [t]))
            continue
        outcome.added.append({**entry, "shown": t.shown})
    return outcome

