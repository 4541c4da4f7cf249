"""STIX 2.1 bundles of scamscan reports, for threat-intelligence platforms.

Pure domain code (no FastAPI): :func:`scan_bundle` takes a scan as the API
shows it (``kind``, ``scan_id``, ``created`` and the ``report``) and returns a
:class:`stix2.Bundle`, built with the OASIS ``stix2`` library, which checks
every object and every pattern as it is made. Serialise it with
:func:`bundle_json`.

What a bundle holds:

* the **identity** of scamscan (``identity_class`` ``system``; one fixed id),
  the ``created_by_ref`` of every other object;
* **observables** (SCOs) for what was scanned: ``url`` and ``domain-name`` for
  a link; ``file`` (SHA-256, name, size) and one ``x509-certificate`` per
  signing certificate (SHA-256, subject, issuer, serial, validity) for an app;
* **indicators**, only when the verdict is ``suspicious`` or ``dangerous``
  (``indicator_types`` ``anomalous-activity`` or ``malicious-activity``;
  ``confidence`` is the risk score):

  - a link: ``[url:value = '…']`` for the link and every URL of its redirect
    chain and its download links, ``[domain-name:value = '…']`` for their
    hosts, and ``[file:hashes.'SHA-256' = '…']`` for each APK it served;
  - an app: ``[file:hashes.'SHA-256' = '…']`` for the sample,
    ``[x509-certificate:hashes.'SHA-256' = '…']`` for each signer, and
    ``url`` / ``domain-name`` patterns for the embedded links the scanner
    judged suspicious or dangerous (``APK-URL-001``) and the WebSocket or
    raw-IP endpoints it found (``APK-URL-003``);

  never for a host that many unrelated sites share or that is official: a
  shortener, a free-hosting or first-party platform host, an official or
  known-good domain (its *URL* is still an indicator when it is the scanned
  link itself, e.g. a blocklisted page on a compromised site);
* for a ``dangerous`` app, a **malware** object (``is_family`` false, the
  sample as ``sample_refs``) that every indicator ``indicates`` (relationships);
* a **report** whose ``object_refs`` are all of the above, with the verdict,
  the score, the reasons and the rule ids (with their points) in its
  ``description``, and ``labels`` ``scamscan``, ``verdict:<verdict>`` and the
  rule ids that counted. A ``report_types`` of ``threat-report`` for a risky
  verdict, ``observed-data`` for ``official`` / ``no_known_risk``.

A safe report (``official``, ``no_known_risk``) is a valid bundle **without
indicators**: observables and the report only, so that a consumer can file
"scanned, nothing found" without blocking anything.

Ids are deterministic (version-4-formatted UUIDs derived from the scan id and
the object's content): exporting a scan twice gives the same bundle, so a
platform importing both keeps one copy. Timestamps are the scan's creation
time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import stix2  # type: ignore[import-untyped]  # the library has no type hints

import blocklists
from scanners.errors import InvalidURLError
from scanners.findings import Verdict
from scanners.normalize import ParsedURL, normalize
from scanners.registry import registry

MEDIA_TYPE = "application/stix+json;version=2.1"
RISKY = (Verdict.SUSPICIOUS.value, Verdict.DANGEROUS.value)
IDENTITY_ID = "identity--4c3f1f0e-5b3a-4d56-9a0e-6f3d2c1b7a90"
"""scamscan's identity in every bundle (fixed, so that platforms see one producer)."""
_IDENTITY_CREATED = datetime(2025, 1, 1, tzinfo=UTC)
MAX_INDICATORS = 200
"""Indicators of one bundle at most (an app can embed hundreds of links)."""


def identity() -> stix2.Identity:
    """The ``identity`` object of scamscan."""
    return stix2.Identity(
        id=IDENTITY_ID, name="scamscan", identity_class="system",
        description="scamscan: explainable risk scores for Vietnamese scam links and "
        "Android apps.", created=_IDENTITY_CREATED, modified=_IDENTITY_CREATED,
        allow_custom=False)


def pattern_literal(value: str) -> str:
    """``value`` as a STIX pattern string literal (quoted; ``\\`` and ``'`` escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _id(kind: str, scan_id: str, *parts: str) -> str:
    """A deterministic ``kind--uuid`` (version-4 formatted) for one object of one scan."""
    digest = hashlib.sha256("\x00".join((kind, scan_id, *parts)).encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def _parse(url: str) -> ParsedURL | None:
    try:
        return normalize(url)
    except InvalidURLError:
        return None


def _endpoint(url: str) -> tuple[str, ParsedURL] | None:
    """The URL value and the parsed host of a web or WebSocket URL (``ws``/``wss``,
    which the link normaliser refuses, keep their own text as the value)."""
    p = _parse(url)
    if p is not None:
        return p.url, p
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("ws", "wss") and parts.hostname:
        host = _parse("https://" + parts.netloc)
        if host is not None:
            return url.strip(), host
    return None


def _official(p: ParsedURL) -> bool:
    """Official or known-good (the same test as the live scanner's page signals)."""
    reg = registry()
    return (p.suffix == "gov.vn" or p.host.endswith(".gov.vn")
            or p.registrable_domain in reg.official or p.registrable_domain in reg.known_good)


def _shared(host: str) -> bool:
    """A host many unrelated sites share: a shortener, a listed platform host, a first-party
    platform (flagging it as a domain would flag everyone on it)."""
    lists = blocklists.platforms()
    return (lists.is_shortener(host) or host in lists.shared_hosts()
            or blocklists.never_host_match(host))


def _is_ip(p: ParsedURL) -> bool:
    try:
        ipaddress.ip_address(p.host.strip("[]"))
    except ValueError:
        return False
    return True


class _Builder:
    """Collects the objects of one bundle; indicators are unique by pattern."""

    def __init__(self, scan_id: str, created: datetime, verdict: str, score: int | None) -> None:
        self.scan_id = scan_id
        self.created = created
        self.verdict = verdict
        self.score = score
        self.objects: dict[str, Any] = {}
        self.indicators: dict[str, stix2.Indicator] = {}

    @property
    def risky(self) -> bool:
        return self.verdict in RISKY

    def add(self, obj: Any) -> str:
        self.objects.setdefault(str(obj.id), obj)
        return str(obj.id)

    def indicate(self, pattern: str, name: str, description: str) -> None:
        if not self.risky or pattern in self.indicators or \
                len(self.indicators) >= MAX_INDICATORS:
            return
        kinds = (["malicious-activity"] if self.verdict == Verdict.DANGEROUS.value
                 else ["anomalous-activity"])
        extra: dict[str, Any] = {}
        if self.score is not None:
            extra["confidence"] = self.score
        self.indicators[pattern] = stix2.Indicator(
            id=_id("indicator", self.scan_id, pattern), created=self.created,
            modified=self.created, created_by_ref=IDENTITY_ID, name=name[:250],
            description=description, pattern=pattern, pattern_type="stix",
            pattern_version="2.1", valid_from=self.created, indicator_types=kinds,
            allow_custom=False, **extra)

    def url(self, p: ParsedURL, why: str, *, scanned: bool = False,
            value: str | None = None) -> None:
        """Indicators for a URL (``value``, else ``p.url``) and its host (see the module
        doc for what is left out)."""
        official = _official(p)
        url = value or p.url
        if scanned or not official:
            self.indicate(f"[url:value = {pattern_literal(url)}]", f"Scam URL {url}", why)
        if not official and not _shared(p.host) and not _is_ip(p):
            self.indicate(f"[domain-name:value = {pattern_literal(p.host)}]",
                          f"Scam domain {p.host}", why)

    def sha256(self, sha: str, why: str, name: str) -> None:
        self.indicate(f"[file:hashes.'SHA-256' = {pattern_literal(sha.lower())}]", name, why)

    def finish(self, *, title: str, summary: str, rule_ids: list[str],
               observables: list[str], malware: stix2.Malware | None) -> stix2.Bundle:
        refs = [*observables, *(str(i.id) for i in self.indicators.values())]
        objects: list[Any] = [identity(), *self.objects.values(), *self.indicators.values()]
        if malware is not None:
            objects.append(malware)
            refs.append(str(malware.id))
            for ind in self.indicators.values():
                rel = stix2.Relationship(
                    id=_id("relationship", self.scan_id, str(ind.id), str(malware.id)),
                    created=self.created, modified=self.created, created_by_ref=IDENTITY_ID,
                    relationship_type="indicates", source_ref=ind.id, target_ref=malware.id,
                    allow_custom=False)
                objects.append(rel)
                refs.append(str(rel.id))
        extra: dict[str, Any] = {}
        if self.score is not None:
            extra["confidence"] = self.score
        report = stix2.Report(
            id=_id("report", self.scan_id), created=self.created, modified=self.created,
            created_by_ref=IDENTITY_ID, name=title[:250], description=summary,
            published=self.created,
            report_types=["threat-report"] if self.risky else ["observed-data"],
            object_refs=refs or [IDENTITY_ID],
            labels=["scamscan", f"verdict:{self.verdict}", *rule_ids],
            allow_custom=False, **extra)
        objects.append(report)
        return stix2.Bundle(objects=objects, id=_id("bundle", self.scan_id),
                            allow_custom=False)


def _summary(kind: str, report: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The report's description (verdict, score, reasons, rules) and its counted rule ids."""
    verdict, score = report.get("verdict"), report.get("risk_score")
    findings = [f for f in report.get("findings") or [] if isinstance(f, Mapping)]
    counted = [f for f in findings if "suppressed_by" not in f]
    rule_ids = list(dict.fromkeys(str(f.get("rule_id")) for f in counted))
    lines = [f"scamscan {kind} scan: verdict {verdict}, risk score {score}/100."]
    reasons = [str(r) for r in report.get("reasons") or []]
    if reasons:
        lines.append("Reasons: " + "; ".join(reasons) + ".")
    if counted:
        lines.append("Rules: " + ", ".join(
            f"{f.get('rule_id')} (+{f.get('points')}) {f.get('title')}" for f in counted) + ".")
    return "\n".join(lines), rule_ids


def _evidence(report: Mapping[str, Any], rule_id: str) -> Iterable[Mapping[str, Any]]:
    for f in report.get("findings") or []:
        if isinstance(f, Mapping) and f.get("rule_id") == rule_id:
            ev = f.get("evidence")
            if isinstance(ev, Mapping):
                yield ev


def url_bundle(report: Mapping[str, Any], *, scan_id: str, created: datetime) -> stix2.Bundle:
    """The bundle of a link report (:func:`scanners.report.url_report`'s fields)."""
    verdict = str(report.get("verdict"))
    b = _Builder(scan_id, created, verdict, report.get("risk_score"))
    summary, rule_ids = _summary("link", report)
    observables: list[str] = []
    p = _parse(str(report.get("url") or report.get("input") or ""))
    if p is not None:
        observables.append(b.add(stix2.URL(value=p.url, allow_custom=False)))
        if not _is_ip(p):
            observables.append(b.add(stix2.DomainName(value=p.host, allow_custom=False)))
        b.url(p, f"The scanned link. {summary}", scanned=True)
    # The live check's redirect chain and download links.
    for ev in _evidence(report, "URL-NET-000"):
        hops = [h.get("url") for h in ev.get("chain") or [] if isinstance(h, Mapping)]
        hops += [d.get("url") for d in ev.get("download_links") or [] if isinstance(d, Mapping)]
        hops.append(ev.get("final_url"))
        for url in hops:
            hop = _parse(str(url)) if url else None
            if hop is not None:
                b.url(hop, f"Reached from the scanned link {report.get('url')} "
                      f"(verdict {verdict}).")
    for ev in _evidence(report, "URL-DL-001"):
        dl = _parse(str(ev.get("url") or ""))
        if dl is not None:
            b.url(dl, f"Android app download served via the scanned link {report.get('url')}.")
        sample = ev.get("sample")
        if isinstance(sample, Mapping) and sample.get("complete") and sample.get("sha256"):
            b.sha256(str(sample["sha256"]), f"Android app downloaded from {ev.get('url')}, "
                     f"reached from the scanned link {report.get('url')}.",
                     f"APK served by {ev.get('url')}")
    title = f"scamscan: {verdict} link {report.get('host') or report.get('input')}"
    return b.finish(title=title, summary=summary, rule_ids=rule_ids,
                    observables=observables, malware=None)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def apk_bundle(report: Mapping[str, Any], *, scan_id: str, created: datetime) -> stix2.Bundle:
    """The bundle of an app report (:meth:`scanners.apk_report.ApkResult.report`)."""
    verdict = str(report.get("verdict"))
    b = _Builder(scan_id, created, verdict, report.get("risk_score"))
    summary, rule_ids = _summary("app", report)
    name = str(report.get("label") or report.get("package") or report.get("input") or "app")
    observables: list[str] = []
    sha = str(report.get("sha256") or "").lower()
    file_id: str | None = None
    if sha:
        file_props: dict[str, Any] = {"hashes": {"SHA-256": sha}}
        if report.get("input"):
            file_props["name"] = str(report["input"])
        if isinstance(report.get("size"), int):
            file_props["size"] = report["size"]
        file_id = b.add(stix2.File(allow_custom=False, **file_props))
        observables.append(file_id)
        b.sha256(sha, f"The scanned app {name} ({report.get('package')}). {summary}",
                 f"Scam app {name}")
    app = report.get("app") if isinstance(report.get("app"), Mapping) else {}
    for cert in (app or {}).get("certificates") or []:
        if not isinstance(cert, Mapping) or not cert.get("sha256"):
            continue
        cert_sha = str(cert["sha256"]).lower()
        props: dict[str, Any] = {"hashes": {"SHA-256": cert_sha}}
        for key, prop in (("subject", "subject"), ("issuer", "issuer"),
                          ("serial", "serial_number")):
            if cert.get(key):
                props[prop] = str(cert[key])
        for key, prop in (("not_before", "validity_not_before"),
                          ("not_after", "validity_not_after")):
            when = _when(cert.get(key))
            if when is not None:
                props[prop] = when
        if isinstance(cert.get("self_signed"), bool):
            props["is_self_signed"] = cert["self_signed"]
        observables.append(b.add(stix2.X509Certificate(allow_custom=False, **props)))
        b.indicate(f"[x509-certificate:hashes.'SHA-256' = {pattern_literal(cert_sha)}]",
                   f"Signing certificate of scam app {name}",
                   f"Signed the app {name} ({report.get('package')}, sha256 {sha}).")
    for ev in _evidence(report, "APK-URL-001"):
        for entry in ev.get("urls") or []:
            if isinstance(entry, Mapping) and entry.get("verdict") in RISKY:
                p = _parse(str(entry.get("url") or ""))
                if p is not None:
                    b.url(p, f"Embedded in the app {name} ({report.get('package')}); judged "
                          f"{entry.get('verdict')} ({', '.join(entry.get('rules') or [])}).")
    for ev in _evidence(report, "APK-URL-003"):
        for endpoint in ev.get("endpoints") or []:
            found = _endpoint(str(endpoint))
            if found is not None:
                b.url(found[1], f"WebSocket or raw-IP endpoint in the app {name} "
                      f"({report.get('package')}).", value=found[0])
    malware = None
    if verdict == Verdict.DANGEROUS.value:
        samples: dict[str, Any] = {"sample_refs": [file_id]} if file_id else {}
        malware = stix2.Malware(
            id=_id("malware", scan_id), created=created, modified=created,
            created_by_ref=IDENTITY_ID, name=name[:250], is_family=False,
            description=summary, allow_custom=False, **samples)
    title = f"scamscan: {verdict} app {name}"
    return b.finish(title=title, summary=summary, rule_ids=rule_ids,
                    observables=observables, malware=malware)


def scan_bundle(scan: Mapping[str, Any]) -> stix2.Bundle:
    """The bundle of a finished scan as the API shows it (``kind``, ``scan_id``,
    ``created`` and ``report``; the descriptions use the report's language).
    Raises ValueError without a report."""
    report = scan.get("report")
    if not isinstance(report, Mapping) or report.get("verdict") is None:
        raise ValueError("the scan has no report to export")
    created = scan.get("created")
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    if not isinstance(created, datetime):
        raise ValueError("the scan has no creation time")
    build = url_bundle if scan.get("kind") == "url" else apk_bundle
    return build(report, scan_id=str(scan["scan_id"]), created=created)


def bundle_json(bundle: stix2.Bundle) -> str:
    """The bundle as JSON text (what ``stix2.parse`` reads back)."""
    text: str = bundle.serialize()
    return text
