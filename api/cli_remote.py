"""``scamscan url|apk|message --server URL --key KEY``: the scans sent to a running API.

The server scans with its own lists and settings and keeps each scan in its
history, so that analysts see them in the console. Links go in batches of at
most :data:`BATCH` (``POST /v1/url-scans/batch``; each result is the report a
single scan answers, with its ``scan_id``); an app is uploaded
(``POST /v1/apk-scans``) and followed until its report; a message goes to
``POST /v1/message-checks``. ``SCAMSCAN_SERVER`` and ``SCAMSCAN_KEY`` stand
for the options (:class:`api.settings.ClientSettings`).

A refusal of the server (its problem+json: 401, 403, 413, 429, 503…) or a
server that cannot be reached is a :class:`RemoteError`, printed as one clear
line by the CLI, which then exits 1.

**The server's answer is not trusted**: ``--server`` may name the wrong host.
An answer is read up to :data:`MAX_ANSWER_BYTES` and within the request's
timeout in all (a slow drip does not hold the CLI), and each report is
checked against the fields the terminal output reads (:class:`LinkReport`,
:class:`ApkReport`, :class:`MessageReport`): a malformed one is a
:class:`RemoteError`, never a traceback. What is printed goes through
:func:`api.cli_common.terminal_safe`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:  # httpx is imported when a Remote is made: `scamscan --help` stays quick
    import httpx

BATCH = 100
"""Links per batch request (the server takes up to ``SCAMSCAN_BATCH_MAX_URLS``, 500)."""
APK_WAIT = 30.0
"""Seconds each request of an app scan waits for the scan to end (the server's ``wait``)."""
APK_TIMEOUT = 900.0
"""Seconds an app scan is followed at most, upload included."""


MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""Largest answer read from the server (a batch of 100 reports is far less)."""


class RemoteError(Exception):
    """The server refused the request or could not be reached; the message says why."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Finding(_Loose):
    """What the terminal prints of a finding."""

    rule_id: str
    points: int
    title: str
    evidence: dict[str, Any] = {}


class Incomplete(_Loose):
    """A check that could not run."""

    check: str
    reason: str


class LinkReport(_Loose):
    """The fields of a link report that the terminal output reads."""

    verdict: Literal["official", "no_known_risk", "suspicious", "dangerous"]
    risk_score: int
    url: str
    findings: list[Finding]
    incomplete: list[Incomplete]


class ApkReport(LinkReport):
    """An app report: a link report's fields (``url`` aside) and the file's hash."""

    url: str = ""
    sha256: str


class MessageReport(LinkReport):
    """A message check: a link report's fields (``url`` aside), the reply and items."""

    url: str = ""
    reply: str
    items: list[dict[str, Any]]
    script_signals: list[dict[str, Any]]


def checked(model: type[LinkReport], doc: Any) -> dict[str, Any]:
    """``doc`` when it has what the terminal output reads of a ``model``, else a
    :class:`RemoteError`."""
    if not isinstance(doc, dict):
        raise RemoteError("the server's answer is not what scamscan expects (not an object)")
    try:
        model.model_validate(doc)
    except ValidationError as e:
        where = ".".join(str(p) for p in e.errors()[0]["loc"]) if e.errors() else "?"
        raise RemoteError("the server's answer is not what scamscan expects (field "
                          f"{where[:80]!r})") from None
    return doc


def problem_message(r: httpx.Response) -> str:
    """One line from a problem+json answer (or whatever else the server said)."""
    detail = ""
    title = r.reason_phrase
    try:
        body = r.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or title)
        detail = str(body.get("detail") or "")
    msg = f"the server answered {r.status_code} {title}"
    if detail:
        msg += f": {detail}"
    if r.status_code == 429 and r.headers.get("retry-after"):
        msg += f" (retry after {r.headers['retry-after']} s)"
    return msg


class Remote:
    """A client of one scamscan API (``server``, e.g. ``http://127.0.0.1:8000``)."""

    def __init__(self, server: str, key: str | None, *, timeout: float = 120.0) -> None:
        server = server.strip().rstrip("/")
        if not server.startswith(("http://", "https://")):
            raise RemoteError(f"--server must be an http:// or https:// URL, got {server!r}")
        import httpx

        headers = {"user-agent": "scamscan-cli"}
        if key:
            headers["x-api-key"] = key
        self.server = server
        self.client = httpx.Client(base_url=server, headers=headers,
                                   timeout=httpx.Timeout(timeout, connect=10.0))

    def close(self) -> None:
        self.client.close()

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The answer, read whole but at most :data:`MAX_ANSWER_BYTES`, within the
        client's read timeout in all."""
        import httpx

        read_timeout = self.client.timeout.read or 120.0
        deadline = time.monotonic() + read_timeout
        try:
            with self.client.stream(method, path, **kw) as r:
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise RemoteError(f"the server's answer is more than "
                                          f"{MAX_ANSWER_BYTES} bytes; not read further")
                    if time.monotonic() > deadline:
                        raise RemoteError(f"the server's answer took more than "
                                          f"{read_timeout:g} s; not read further")
                return httpx.Response(r.status_code, headers=r.headers, content=bytes(body),
                                      request=r.request)
        except httpx.HTTPError as e:
            raise RemoteError(f"cannot reach the server at {self.server}: "
                              f"{type(e).__name__}: {e}") from None

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        r = self._request(method, path, **kw)
        if r.status_code >= 400:
            raise RemoteError(problem_message(r))
        try:
            return json.loads(r.content)
        except (ValueError, RecursionError):
            raise RemoteError(f"the server at {self.server} did not answer JSON "
                              f"({r.headers.get('content-type', 'no content type')}): "
                              "is it a scamscan API?") from None

    def scan_urls(self, urls: list[str], *, offline: bool, lang: str
                  ) -> Iterator[dict[str, Any]]:
        """One report per link (or ``{"input", "error"}`` for an entry that is not one)."""
        for i in range(0, len(urls), BATCH):
            chunk = urls[i:i + BATCH]
            body = self._call("POST", "/v1/url-scans/batch",
                              json={"urls": chunk, "offline": offline, "lang": lang})
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list) or len(results) != len(chunk):
                raise RemoteError("the server's batch answer is not what scamscan expects")
            for text, res in zip(chunk, results, strict=True):
                if not isinstance(res, dict):
                    raise RemoteError("the server's answer is not what scamscan expects "
                                      "(a result is not an object)")
                if "verdict" in res:
                    yield {"input": text, **checked(LinkReport, res)}
                else:
                    yield {"input": text,
                           "error": str(res.get("detail") or res.get("title") or "")}

    def check_message(self, text: str, *, offline: bool, lang: str) -> dict[str, Any]:
        """The server's message check."""
        body = self._call("POST", "/v1/message-checks",
                          json={"text": text, "offline": offline, "lang": lang})
        return checked(MessageReport, body)

    def scan_apk(self, path: Path, *, name: str, lang: str) -> dict[str, Any]:
        """The server's report of the app at ``path``, or ``{"input", "error"}``."""
        deadline = time.monotonic() + APK_TIMEOUT
        with path.open("rb") as f:
            job = self._call("POST", "/v1/apk-scans",
                             params={"wait": APK_WAIT, "lang": lang},
                             files={"file": (path.name, f,
                                             "application/vnd.android.package-archive")})
        if not isinstance(job, dict):
            raise RemoteError("the server's answer is not what scamscan expects")
        while job.get("status") in ("queued", "running"):
            if time.monotonic() > deadline:
                return {"input": name, "error": f"the scan {job.get('scan_id')} did not "
                        f"end within {APK_TIMEOUT:g} s"}
            job = self._call("GET", f"/v1/scans/{quote(str(job.get('scan_id')), safe='')}",
                             params={"wait": APK_WAIT, "lang": lang})
            if not isinstance(job, dict):
                raise RemoteError("the server's answer is not what scamscan expects")
        if job.get("status") != "done" or not isinstance(job.get("report"), dict):
            return {"input": name, "error": str(job.get("reason") or "the scan failed"),
                    "scan_id": job.get("scan_id")}
        report: dict[str, Any] = {**checked(ApkReport, job["report"]), "input": name,
                                  "scan_id": job.get("scan_id")}
        return report
