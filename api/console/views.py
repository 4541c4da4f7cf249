"""What the console's templates show, computed from reports: no web framework here.

Everything in a report is attacker-controlled (an app's label, a page's title,
the URLs in evidence). The templates escape it (Jinja autoescape, never
``|safe`` on report data); this module adds two things on top:

* **defanging**: URLs and hosts from reports are shown as text in the
  ``hxxps://evil[.]cc`` form (:func:`defang`), never as links, so that an
  analyst who copies or forwards a report does not hand out a live link;
* **language**: titles and reasons are re-read from the rule catalogue by rule id
  in the reader's language (:func:`scanners.findings.relabel`, :func:`finding_title`),
  so a stored report can be read in Vietnamese or English whatever language it was
  made in.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from api.console.i18n import Lang
from scanners import rules
from scanners.findings import Verdict, relabel

VERDICTS: tuple[str, ...] = tuple(v.value for v in reversed(Verdict))
"""The verdicts, worst first (the history filter's order)."""

EVIDENCE_MAX_CHARS = 2000
"""A longer evidence value is cut (a page title or a list of URLs can be long)."""
ICON_TYPES = frozenset({"image/png", "image/webp", "image/jpeg"})
ICON_MAX_BASE64 = 512 * 1024
_HOST_KEYS = frozenset({"host", "domain", "entry", "imitates", "registrable_domain",
                        "hosts", "domains"})
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,15})://([^/?#\s]*)(.*)$", re.DOTALL)
_SCHEMES = {"http": "hxxp", "https": "hxxps", "ws": "wxs", "wss": "wxss", "ftp": "fxp",
            "hxxp": "hxxp", "hxxps": "hxxps"}
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


# --- defanging -----------------------------------------------------------------------


def defang_host(host: str) -> str:
    """``evil.cc`` → ``evil[.]cc`` (also IPv4 addresses); brackets of IPv6 kept.
    Already defanged text stays as it is (no ``[[.]]``)."""
    return host.replace("[.]", ".").replace(".", "[.]")


def defang(text: str) -> str:
    """A URL as inert text: ``https://evil.cc/x`` → ``hxxps://evil[.]cc/x``.

    A string that is not a URL is treated as a host (dots bracketed). Defanging
    is idempotent: an input pasted already defanged is shown the same way."""
    m = _URL.match(text)
    if m is None:
        return defang_host(text)
    scheme, netloc, rest = m.groups()
    return f"{_SCHEMES.get(scheme.lower(), scheme)}://{defang_host(netloc)}{rest}"


def looks_like_url(value: str) -> bool:
    return _URL.match(value) is not None


def _defang_tree(value: Any, key: str = "") -> Any:
    """Every URL in a JSON value defanged, and hosts under host-like keys."""
    if isinstance(value, str):
        if looks_like_url(value) or (key in _HOST_KEYS and "." in value and " " not in value):
            return defang(value)
        return value
    if isinstance(value, Mapping):
        return {k: _defang_tree(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_defang_tree(v, key) for v in value]
    return value


def _cut(text: str) -> str:
    if len(text) <= EVIDENCE_MAX_CHARS:
        return text
    return text[:EVIDENCE_MAX_CHARS] + " …"


def evidence_items(evidence: Any) -> list[tuple[str, str]]:
    """A finding's evidence as ``(name, text)`` pairs for a definition list:
    scalars as they are, lists of scalars comma-separated, anything nested as
    compact JSON; URLs defanged."""
    if not isinstance(evidence, Mapping):
        return [("", _cut(json.dumps(_defang_tree(evidence), ensure_ascii=False)))]
    out: list[tuple[str, str]] = []
    for key, raw in evidence.items():
        value = _defang_tree(raw, str(key))
        if isinstance(value, str):
            text = value
        elif isinstance(value, bool) or value is None:
            text = json.dumps(value)
        elif isinstance(value, int | float):
            text = str(value)
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            text = ", ".join(str(v) for v in value)
        else:
            text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        out.append((str(key), _cut(text)))
    return out


# --- language ----------------------------------------------------------------------------


def finding_title(finding: Mapping[str, Any], lang: Lang) -> str:
    """The finding's title in ``lang`` from the catalogue (its own title for a rule
    this version does not know)."""
    rule = rules.CATALOGUE.get(str(finding.get("rule_id", "")))
    return rule.title(lang) if rule is not None else str(finding.get("title", ""))


def verdict_labels(lang: Lang) -> dict[str, str]:
    """Every verdict's label in ``lang``, by verdict value."""
    return {v.value: v.label(lang) for v in Verdict}


def verdict_label(verdict: str, lang: Lang) -> str:
    """The label of ``verdict`` in ``lang``; an unknown value as it is."""
    return Verdict(verdict).label(lang) if verdict in VERDICTS else verdict


def bilingual(text: str | None, lang: Lang) -> str | None:
    """One side of a ``"vi text / en text"`` pair (what a permission allows)."""
    if text is None:
        return None
    parts = text.split(" / ", 1)
    if len(parts) == 2:
        return parts[0] if lang == "vi" else parts[1]
    return text


# --- reports ------------------------------------------------------------------------------


def _verdict_view(report: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """What both report pages show of the outcome: score, verdict, reasons, findings."""
    verdict = str(report.get("verdict", ""))
    return {
        "risk_score": int(report.get("risk_score", 0)),
        "verdict": verdict,
        "verdict_label": verdict_label(verdict, lang),
        "reasons": [str(r) for r in relabel(report, lang).get("reasons", [])],
        "findings": findings_view(report.get("findings", []), lang),
        "incomplete": report.get("incomplete", []),
    }


def findings_view(findings: Iterable[Mapping[str, Any]], lang: Lang) -> list[dict[str, Any]]:
    """The findings table's rows: rule, points, severity, title in ``lang``, evidence."""
    return [{
        "rule_id": str(f.get("rule_id", "")),
        "points": f.get("points", 0),
        "severity": str(f.get("severity", "")),
        "title": finding_title(f, lang),
        "evidence": evidence_items(f.get("evidence", {})),
        "suppressed_by": f.get("suppressed_by"),
    } for f in findings]


def _by_rule(report: Mapping[str, Any], prefix: str) -> list[Mapping[str, Any]]:
    return [f for f in report.get("findings", []) if str(f.get("rule_id", "")).startswith(prefix)]


def url_report_view(report: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """What the link report page shows, from a link report (``POST /v1/url-scans``)."""
    incomplete = {str(i.get("check")): str(i.get("reason")) for i in report.get("incomplete", [])}
    net = _by_rule(report, "URL-NET-000")
    chain: list[dict[str, Any]] = []
    final_url = None
    if net:
        ev = net[0].get("evidence", {})
        for hop in ev.get("chain", []):
            chain.append({"url": defang(str(hop.get("url", ""))), "via": hop.get("via"),
                          "status": hop.get("status"), "ip": hop.get("ip"),
                          "refused": hop.get("refused"), "shortener": hop.get("shortener")})
        if ev.get("final_url"):
            final_url = defang(str(ev["final_url"]))
    live_ran = bool(net or _by_rule(report, "URL-NET-001") or _by_rule(report, "URL-TLS-001")
                    or "live-fetch" in incomplete or "domain-age" in incomplete
                    or _by_rule(report, "URL-AGE-"))
    age = _by_rule(report, "URL-AGE-")
    if age:
        ev = age[0].get("evidence", {})
        domain_age = {"state": "young", "title": finding_title(age[0], lang),
                      "registered": ev.get("registered"), "age_days": ev.get("age_days"),
                      "source": ev.get("source")}
    elif "domain-age" in incomplete:
        domain_age = {"state": "unknown", "reason": incomplete["domain-age"]}
    elif live_ran:
        domain_age = {"state": "old"}
    else:
        domain_age = {"state": "not-checked"}
    page = [f for f in report.get("findings", [])
            if str(f.get("rule_id", "")).startswith(("URL-PAGE-", "URL-TLS-"))]
    apks = []
    for f in _by_rule(report, "URL-DL-001"):
        ev = f.get("evidence", {})
        linked = ev.get("apk_scan") or {}
        sample = ev.get("sample") or {}
        apks.append({"url": defang(str(ev.get("url", ""))), "sha256": sample.get("sha256"),
                     "size": sample.get("size"), "complete": sample.get("complete"),
                     "scan_id": linked.get("scan_id"), "error": linked.get("error")})
    return {
        "kind": "url",
        "scan_id": report.get("scan_id"),
        "input": defang(str(report.get("input", ""))),
        "url": defang(str(report.get("url", ""))),
        "host": defang_host(str(report.get("host_unicode") or report.get("host", ""))),
        "registrable_domain": defang_host(str(report.get("registrable_domain") or "")),
        **_verdict_view(report, lang),
        "chain": chain,
        "final_url": final_url,
        "live": live_ran,
        "page_signals": findings_view(page, lang),
        "domain_age": domain_age,
        "apks": apks,
    }


def icon_src(icon: Any) -> str | None:
    """A ``data:`` URI for the app's icon, or None: only the allowed image types and
    well-formed base64 (the CSP allows ``data:`` images, nothing else inline)."""
    if not isinstance(icon, Mapping):
        return None
    media, data = icon.get("media_type"), icon.get("data_base64")
    if media not in ICON_TYPES or not isinstance(data, str) or not data:
        return None
    if len(data) > ICON_MAX_BASE64 or not _BASE64.match(data):
        return None
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return f"data:{media};base64,{data}"


def _url_verdicts(report: Mapping[str, Any]) -> dict[str, str]:
    """URL → verdict of the offline link scan the APK rules ran on embedded URLs."""
    out: dict[str, str] = {}
    for f in _by_rule(report, "APK-URL-001"):
        for u in f.get("evidence", {}).get("urls", []):
            if isinstance(u, Mapping) and u.get("url"):
                out[str(u["url"])] = str(u.get("verdict", ""))
    return out


def apk_report_view(report: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """What the APK report page shows, from an APK report (``GET /v1/scans/{id}``)."""
    app: Mapping[str, Any] = report.get("app") or {}
    verdicts = _url_verdicts(report)
    permissions = [{"name": str(p.get("name", "")), "dangerous": bool(p.get("dangerous")),
                    "allows": bilingual(p.get("allows"), lang)}
                   for p in app.get("permissions", []) if isinstance(p, Mapping)]
    permissions.sort(key=lambda p: (not p["dangerous"], p["name"]))
    components = [{"kind": c.get("kind"), "name": c.get("name"), "exported": c.get("exported"),
                   "permission": c.get("permission"),
                   "intent_filters": [", ".join(str(a) for a in f) if isinstance(f, list)
                                      else str(f) for f in c.get("intent_filters") or []]}
                  for c in app.get("components", []) if isinstance(c, Mapping)]
    urls = []
    for u in app.get("urls", []):
        text = str(u)
        urls.append({"raw": text, "text": defang(text), "verdict": verdicts.get(text),
                     "verdict_label": verdict_label(verdicts[text], lang)
                     if text in verdicts else None,
                     "scannable": text.lower().startswith(("http://", "https://"))})
    packer = [f for f in report.get("findings", [])
              if str(f.get("rule_id", "")).startswith(("APK-PACK-", "APK-ANTI-"))]
    return {
        "kind": "apk",
        "input": str(report.get("input", "")),
        "sha256": report.get("sha256"),
        "size": report.get("size"),
        "package": report.get("package"),
        "label": report.get("label"),
        "icon": icon_src(app.get("icon")),
        "version_name": app.get("version_name"),
        "version_code": app.get("version_code"),
        "min_sdk": app.get("min_sdk"),
        "target_sdk": app.get("target_sdk"),
        "launcher_activity": app.get("launcher_activity"),
        **_verdict_view(report, lang),
        "scanner_version": report.get("scanner_version"),
        "permissions": permissions,
        "dangerous_count": sum(1 for p in permissions if p["dangerous"]),
        "components": components,
        "accessibility": [a for a in app.get("accessibility", []) if isinstance(a, Mapping)],
        "device_admins": [d for d in app.get("device_admins", []) if isinstance(d, Mapping)],
        "signature_schemes": app.get("signature_schemes") or [],
        "certificates": [c for c in app.get("certificates", []) if isinstance(c, Mapping)],
        "urls": urls,
        "native_libs": app.get("native_libs") or [],
        "inner": [i for i in app.get("inner", []) if isinstance(i, Mapping)],
        "packer": findings_view(packer, lang),
        "has_app": bool(app),
    }


REPLY_FIELDS = ("headline", "scam_type", "reply", "steps", "if_already", "hotlines")
"""What a message check may carry for the person who asked (shown when present)."""


_HOSTLIKE = re.compile(r"(?i)(?<![\w@.\-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                       r"[a-z][a-z0-9-]{1,62}(?![\w-])")


def defang_text(text: str) -> str:
    """Free text (a chat message) with every URL scheme and host-like word defanged
    (``https://evil.cc`` → ``hxxps://evil[.]cc``), so nothing in it is a live link."""
    text = re.sub(r"(?i)\b(https?|ftp)://", lambda m: _SCHEMES[m.group(1).lower()] + "://",
                  text)
    return _HOSTLIKE.sub(lambda m: defang_host(m.group()), text)


def _message_item(i: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    kind = str(i.get("kind", ""))
    entry = i.get("list_entry") if isinstance(i.get("list_entry"), Mapping) else None
    d: dict[str, Any] = {"kind": kind, "input": str(i.get("input", "")),
                         "listed": bool(i.get("listed")),
                         "list_action": entry.get("action") if entry else None,
                         "list_note": entry.get("note") if entry else None,
                         "list_by": entry.get("added_by") if entry else None,
                         "note": i.get("note") or i.get("list_note")}
    if kind == "link":
        verdict = str(i.get("verdict", ""))
        d.update(value=defang(str(i.get("url", ""))), verdict=verdict,
                 verdict_label=verdict_label(verdict, lang), risk_score=i.get("risk_score"),
                 input=defang(d["input"]))
    elif kind in ("phone", "bank_account"):
        d.update(value=str(i.get("number", "")), detail=i.get("type") or i.get("bank"))
    elif kind == "app":
        d.update(value=str(i.get("name", "")), detail=i.get("type"))
    else:  # zalo, telegram and kinds this version does not know
        d.update(value=defang_host(str(i.get("value", ""))), detail=i.get("type"),
                 input=defang_host(d["input"]))
    return d


def message_report_view(report: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """What the message report page shows, from a stored message check (numbers masked)."""
    items = [i for i in report.get("items", []) if isinstance(i, Mapping)]
    reply = {k: report.get(k) for k in REPLY_FIELDS if report.get(k)}
    hotlines = reply.get("hotlines")
    if hotlines is not None:
        reply["hotlines"] = [h for h in hotlines if isinstance(h, Mapping)] \
            if isinstance(hotlines, list) else []
    for k in ("steps", "if_already"):
        if k in reply and not isinstance(reply[k], list):
            reply[k] = [str(reply[k])]
    return {
        "kind": "message",
        "scan_id": report.get("scan_id") or report.get("check_id"),
        "text": defang_text(str(report.get("text", ""))),
        "characters": report.get("characters"),
        **_verdict_view(report, lang),
        **reply,
        "carried": [_message_item(i, lang) for i in items],
        "signals": [{"text": str(s.get("text", "")), "category": s.get("category"),
                     "rule_id": s.get("rule_id"), "counted": bool(s.get("counted")),
                     "note": s.get("note")}
                    for s in report.get("script_signals", []) if isinstance(s, Mapping)],
    }


def paging(page: int, total: int, per_page: int, page_url: Callable[[int], str]
           ) -> dict[str, Any]:
    """What the ``pager`` macro of a paged table needs: ``page``, ``pages`` (at least
    one) and the previous and next pages' addresses (None at either end)."""
    pages = max(1, -(-total // per_page))
    return {"page": page, "pages": pages,
            "prev_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None}
