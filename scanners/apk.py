"""APK scanner: judge an Android app from its extracted facts.

Input is an :class:`~scanners.apk_facts.ApkFacts` value (extracted once, in a
limited subprocess, by :mod:`scanners.apk_facts`); nothing here imports
androguard or touches the file. Rules it can emit: APK-OFF-*, APK-IMP-*,
APK-PKG-*, APK-CAP-*, APK-CODE-*, APK-CERT-*, APK-URL-*, APK-PACK-*,
APK-ANTI-*, APK-ZIP-*, APK-ML-001. Bundles (XAPK, APKS) are judged over all their inner
APKs at once; the evidence names the inner file.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import blocklists
from scanners import apk_behaviour, apk_builders
from scanners.apk_brands import claimed_brand
from scanners.apk_facts import ApkFacts
from scanners.apk_model import ApkModel, apk_model
from scanners.errors import DataError, InvalidURLError
from scanners.findings import Finding, Verdict, aggregate
from scanners.normalize import normalize
from scanners.registry import fold_vietnamese
from scanners.url_offline import OfflineURLScanner

if TYPE_CHECKING:
    from scanners.lists import ApkLists

_P = "android.permission."
SMS_READ = frozenset({_P + "READ_SMS", _P + "RECEIVE_SMS"})
CALLS = frozenset({_P + "CALL_PHONE", _P + "READ_CALL_LOG", _P + "PROCESS_OUTGOING_CALLS",
                   _P + "ANSWER_PHONE_CALLS"})
SPY = {
    "microphone": frozenset({_P + "RECORD_AUDIO"}),
    "camera": frozenset({_P + "CAMERA"}),
    "contacts": frozenset({_P + "READ_CONTACTS"}),
    "location": frozenset({_P + "ACCESS_FINE_LOCATION", _P + "ACCESS_COARSE_LOCATION",
                           _P + "ACCESS_BACKGROUND_LOCATION"}),
}
SMS_RECEIVED = "android.provider.Telephony.SMS_RECEIVED"
BOOT = frozenset({"android.intent.action.BOOT_COMPLETED",
                  "android.intent.action.QUICKBOOT_POWERON",
                  "android.intent.action.LOCKED_BOOT_COMPLETED"})

# Native libraries by packer (names from public packer write-ups; a match on
# any one is enough, the evidence lists what was seen).
PACKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Virbox", re.compile(r"^lib(sandhook|v\+\+)\.so$")),
    ("Jiagu (Qihoo 360)", re.compile(r"^libjiagu.*\.so$")),
    ("Bangcle", re.compile(r"^lib(secexe|secmain|SecShell|dexjni)\.so$")),
    ("SecNeo DexHelper", re.compile(r"^libDexHelper.*\.so$")),
    ("Tencent Legu", re.compile(r"^libshell[a-z0-9]*\.so$")),
    ("ijiami", re.compile(r"^lib(exec|execmain|ijmDataEncryption)\.so$")),
    ("Baidu", re.compile(r"^libbaiduprotect.*\.so$")),
    ("Alibaba", re.compile(r"^lib(mobisec|sgmain)\.so$")),
    ("APKProtect", re.compile(r"^libAPKProtect\.so$")),
    ("Nagapt", re.compile(r"^libchaosvmp\.so$")),
)
_JUNK_CN = frozenset({"aaa", "abc", "unknown", "android", "test", "a", "x", "xx", "xxx", "1",
                      "12", "123", "name", "company", "qwe", "asd", "admin", "user", "key"})
_COMMON_PKG_HEADS = frozenset({"com", "org", "net", "io", "app", "android", "me", "dev", "xyz",
                               "info", "biz", "edu", "gov", "mobi", "tech", "github", "ai"})
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{4,}")
_WORD = re.compile(r"[a-z0-9]+")
_CERT_FRESH = timedelta(days=30)
_MAX_URLS = 200
_MEDIA = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp3", ".ogg", ".mp4", ".ttf", ".otf",
          ".woff", ".woff2", ".zip", ".gz", ".pdf", ".db", ".tflite", ".bin", ".pb")


@dataclass(frozen=True, slots=True)
class OfficialApp:
    """An app of the official-app registry."""

    name: str
    package: str
    kind: str
    label_terms: tuple[str, ...]
    signers: frozenset[str]


@dataclass(frozen=True, slots=True)
class WellKnownApp:
    name: str
    packages: frozenset[str]
    label_terms: tuple[str, ...]
    namespaces: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppRegistry:
    """Official Vietnamese apps, government label terms and well-known apps."""

    apps: tuple[OfficialApp, ...]
    gov_label_terms: tuple[str, ...]
    well_known: tuple[WellKnownApp, ...]

    def by_package(self, package: str | None) -> OfficialApp | None:
        if not package:
            return None
        low = package.lower()
        return next((a for a in self.apps if a.package.lower() == low), None)


@cache
def app_registry() -> AppRegistry:
    """The bundled registry (``blocklists/data/official_apps.json``), loaded once."""
    path = blocklists.data_dir() / "official_apps.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        apps = tuple(OfficialApp(a["name"], a["package"], a["kind"], tuple(a["label_terms"]),
                                 frozenset(s.lower() for s in a["signers"]))
                     for a in doc["apps"])
        known = tuple(WellKnownApp(w["name"], frozenset(w["packages"]), tuple(w["label_terms"]),
                                   tuple(w["namespaces"])) for w in doc["well_known"])
        return AppRegistry(apps, tuple(doc["gov_label_terms"]), known)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"cannot load the official-app registry {path}: {e}") from e


def _words(text: str | None) -> str:
    """Lower case, Vietnamese diacritics folded, words separated by single spaces."""
    if not text:
        return ""
    return " ".join(_WORD.findall(fold_vietnamese(text.lower())))


def _has_term(words: str, term: str) -> bool:
    return f" {term} " in f" {words} "


def random_package(package: str | None) -> list[str]:
    """Segments of a machine-generated package name, or [] when it looks written by a person.

    Builders of Cerberus-style bankers generate names like
    ``zjt.spoehyloohrstq.uaeldgadozprbyk``: three or more segments, no
    reverse-domain head, and letter soup that no language spells (four or more
    consonants in a row, or very long segments).
    """
    if not package:
        return []
    segs = package.lower().split(".")
    if len(segs) < 3 or not all(s.isalpha() for s in segs):
        return []
    if segs[0] in _COMMON_PKG_HEADS or len(segs[0]) <= 2:
        # A reverse-domain head ("com.hubccjodsgt.dvhsle"): the builders of 2023-2025
        # learned to add one, so the rest must be soup in two segments or more.
        rest = segs[1:]
        odd = [s for s in rest if _CONSONANT_RUN.search(s.replace("y", "a"))]
        return odd if len(odd) >= 2 and sum(len(s) for s in rest) >= 12 else []
    odd = [s for s in segs if _CONSONANT_RUN.search(s.replace("y", "a")) or len(s) >= 14]
    return odd if len(odd) >= 1 and sum(len(s) for s in segs) >= 14 else []


class ApkScanner:
    """Scores an APK (or bundle) from its facts; see the module docstring."""

    name = "apk"

    def __init__(
        self,
        registry: AppRegistry | None = None,
        links: OfflineURLScanner | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        blocklist: blocklists.ApkBlocklist | None = None,
        model: ApkModel | None = None,
    ) -> None:
        self.registry = registry or app_registry()
        self.model = model if model is not None else apk_model()
        self.blocklist = blocklist if blocklist is not None else blocklists.apk_blocklist()
        self._links = links
        self._now = now

    @property
    def links(self) -> OfflineURLScanner:
        if self._links is None:
            from scanners.url_offline import default_scanner

            self._links = default_scanner()
        return self._links

    async def scan(self, target: ApkFacts) -> list[Finding]:
        """Findings about the app; see :meth:`check`."""
        return self.check(target)

    def check(self, facts: ApkFacts) -> list[Finding]:
        """The synchronous core of :meth:`scan` (pure CPU work on the facts)."""
        out: list[Finding] = []
        bl = self.blocklist
        if facts.sha256.lower() in bl.sha256:
            out.append(Finding("APK-BL-001", {"match": "sha256", "value": facts.sha256,
                                              "note": bl.notes.get(facts.sha256.lower(), "")}))
        apks = list(facts.all_apks())
        for apk in apks:
            if apk is not facts and apk.sha256.lower() in bl.sha256:
                out.append(Finding("APK-BL-001", {"match": "sha256", "value": apk.sha256,
                                                  "apk": apk.file_name}))
            if apk.package and apk.package in bl.packages:
                out.append(Finding("APK-BL-001", {"match": "package", "value": apk.package,
                                                  "note": bl.notes.get(apk.package, "")}))
            for c in apk.certificates:
                if c.sha256.lower() in bl.signers:
                    out.append(Finding("APK-BL-001", {
                        "match": "signer", "value": c.sha256, "subject": c.subject,
                        "note": bl.notes.get(c.sha256.lower(), "")}))
        for apk in apks:
            where = {"apk": apk.file_name} if facts.is_bundle else {}
            out.extend(self._one(apk, where))
        return out

    # -- one APK -------------------------------------------------------------
    def _one(self, a: ApkFacts, where: dict[str, str]) -> list[Finding]:
        out: list[Finding] = []

        def add(rule: str, **ev: Any) -> None:
            out.append(Finding(rule, {**where, **ev}))

        self._identity(a, add)
        self._capabilities(a, add)
        self._certificate(a, add)
        self._code(a, add)
        apk_behaviour.check(a, add)
        self._learned(a, add)
        return out

    def _learned(self, a: ApkFacts, add: Callable[..., None]) -> None:
        if a.split or apk_behaviour.visible_sms_feature(a):
            # A config split holds no permissions of its own. An app reading SMS for a
            # visible feature is the model's blind spot (the tables have no launcher
            # fact): there it would only repeat APK-CAP-023's SMS in other words.
            return
        s = self.model.score(a)
        if s.fires:
            add("APK-ML-001", score=s.score, threshold=s.threshold,
                drivers=[f"{f} (+{w:.2f})" for f, w in s.drivers[:6]])

    def _identity(self, a: ApkFacts, add_finding: Callable[..., None]) -> None:
        claims: list[str] = []

        def add(rule: str, **ev: Any) -> None:
            if rule.startswith("APK-IMP-"):
                claims.append(rule)
            add_finding(rule, **ev)

        reg = self.registry
        label = _words(a.label)
        pkg = a.package or ""
        own = reg.by_package(pkg)
        signers = {c.sha256.lower() for c in a.certificates}
        if own is not None:
            if own.signers & signers:
                add("APK-OFF-001", app=own.name, package=pkg)
            else:
                add("APK-IMP-002", app=own.name, package=pkg,
                    signers=sorted(signers) or ["unsigned"],
                    known_signers=sorted(own.signers) or "none recorded in the registry")
        else:
            for app in reg.apps:
                term = next((t for t in app.label_terms if _has_term(label, t)), None)
                if term is not None:
                    add("APK-IMP-001", label=a.label, claims=app.name,
                        official_package=app.package, package=pkg)
                    break
            gov = next((t for t in reg.gov_label_terms if _has_term(label, t)), None)
            if gov is not None:
                add("APK-IMP-003", label=a.label, term=gov, package=pkg)
        for known in reg.well_known:
            if pkg in known.packages:
                if label and not any(_has_term(label, t) for t in known.label_terms):
                    add("APK-IMP-004", claims=known.name, package=pkg, label=a.label,
                        trick="package of a well-known app under another name")
                continue
            term = next((t for t in known.label_terms if _has_term(label, t)), None)
            if term is not None:
                add("APK-IMP-004", claims=known.name, label=a.label, package=pkg,
                    official_packages=sorted(known.packages))
            elif pkg in known.namespaces:
                add("APK-IMP-004", claims=known.name, package=pkg,
                    trick="bare vendor namespace as package name")
        if own is None and not claims:
            brand = claimed_brand(a.label, pkg)
            if brand is not None:
                add("APK-IMP-005", label=a.label, claims=brand[0].name,
                    category=brand[0].category, term=brand[1], package=pkg,
                    brand_sources=list(brand[0].sources))
        odd = random_package(pkg)
        if odd:
            add("APK-PKG-001", package=pkg, segments=odd)
        if own is None or not own.signers & signers:
            # An official app signed by its publisher: its code's naming (a
            # commercial obfuscator) is the publisher's choice, never a builder's.
            apk_builders.check(a, add_finding, claims)

    def _capabilities(self, a: ApkFacts, add: Callable[..., None]) -> None:
        perms = set(a.permissions)
        a11y = [c for c in a.components if c.kind == "service"
                and c.permission == _P + "BIND_ACCESSIBILITY_SERVICE"]
        if a11y:
            add("APK-CAP-001", services=[c.name for c in a11y])
            strong = [x for x in a.accessibility
                      if x.can_retrieve_window_content or x.can_perform_gestures]
            if strong:
                add("APK-CAP-002", configs=[
                    {"service": x.service, "path": x.path,
                     "canRetrieveWindowContent": bool(x.can_retrieve_window_content),
                     "canPerformGestures": bool(x.can_perform_gestures),
                     "events": list(x.event_types)} for x in strong[:4]])
        sms = sorted(perms & SMS_READ)
        if sms and apk_behaviour.visible_sms_feature(a):
            add("APK-CAP-023", permissions=sms, launcher=a.launcher_activity)
        elif sms:
            add("APK-CAP-003", permissions=sms,
                alongside=apk_behaviour.takeover_signs(a))
        sms_rx = [(c.name, max((f.priority or 0 for f in c.intent_filters
                                if SMS_RECEIVED in f.actions), default=0))
                  for c in a.components if c.kind == "receiver"
                  and any(SMS_RECEIVED in f.actions for f in c.intent_filters)]
        if sms_rx:
            add("APK-CAP-004", receivers=[{"name": n, "priority": p} for n, p in sms_rx])
        code = a.code
        calls = dict(code.api_refs) if code is not None else {}
        send_code = sorted(k for k in calls if k.startswith("SmsManager.send"))
        if _P + "SEND_SMS" in perms or send_code:
            add("APK-CAP-005", permission=_P + "SEND_SMS" in perms, calls=send_code)
        if _P + "SYSTEM_ALERT_WINDOW" in perms:
            add("APK-CAP-006", permission=_P + "SYSTEM_ALERT_WINDOW")
        admins = [c for c in a.components if c.kind == "receiver"
                  and c.permission == _P + "BIND_DEVICE_ADMIN"]
        if admins:
            policies = sorted({p for d in a.device_admins for p in d.policies})
            add("APK-CAP-007", receivers=[c.name for c in admins], policies=policies)
        listeners = [c.name for c in a.components if c.kind == "service"
                     and c.permission == _P + "BIND_NOTIFICATION_LISTENER_SERVICE"]
        if listeners:
            add("APK-CAP-008", services=listeners)
        installer = sorted(k for k in calls if k.startswith("PackageInstaller"))
        if _P + "REQUEST_INSTALL_PACKAGES" in perms or installer:
            add("APK-CAP-009", permission=_P + "REQUEST_INSTALL_PACKAGES" in perms,
                calls=installer)
        if _P + "QUERY_ALL_PACKAGES" in perms:
            add("APK-CAP-010", permission=_P + "QUERY_ALL_PACKAGES")
        if _P + "REQUEST_IGNORE_BATTERY_OPTIMIZATIONS" in perms:
            add("APK-CAP-011", permission=_P + "REQUEST_IGNORE_BATTERY_OPTIMIZATIONS")
        boot = [c.name for c in a.components if c.kind == "receiver"
                and any(BOOT & set(f.actions) for f in c.intent_filters)]
        if boot:
            add("APK-CAP-012", receivers=boot)
        capture = sorted(k for k in calls if k.startswith("MediaProjection"))
        if capture:
            add("APK-CAP-013", calls=capture)
        if not a.launcher_activity and not a.split and a.components:
            add("APK-CAP-014", activities=[c.name for c in a.components
                                           if c.kind in ("activity", "activity-alias")][:5])
        calls_perm = sorted(perms & CALLS)
        if calls_perm:
            add("APK-CAP-015", permissions=calls_perm)
        spy = sorted(k for k, ps in SPY.items() if perms & ps)
        if len(spy) >= 3 and sms:
            add("APK-CAP-016", capabilities=spy, sms=sms)
        if a11y and sms:
            add("APK-CAP-020", accessibility=[c.name for c in a11y], sms=sms)

    def _certificate(self, a: ApkFacts, add: Callable[..., None]) -> None:
        if a.split:
            return  # config splits carry the base's signer; judged there
        if not a.signed or not a.certificates:
            add("APK-CERT-002", schemes=list(a.signature_schemes))
            return
        if any(c.is_debug for c in a.certificates):
            add("APK-CERT-001", subject=next(c.subject for c in a.certificates if c.is_debug))
        if tuple(a.signature_schemes) == ("v1",):
            add("APK-CERT-003", schemes=["v1"])
        now = self._now()
        for c in a.certificates:
            if c.not_before:
                try:
                    start = datetime.fromisoformat(c.not_before)
                except ValueError:
                    start = None
                if start is not None:
                    if start.tzinfo is None:
                        start = start.replace(tzinfo=UTC)
                    if timedelta(0) <= now - start <= _CERT_FRESH:
                        add("APK-CERT-004", subject=c.subject, not_before=c.not_before,
                            age_days=(now - start).days)
                        break
        for c in a.certificates:
            fields = {k.upper(): v.strip() for k, v in c.subject_fields}
            cn = fields.get("CN", "").lower()
            all_unknown = bool(fields) and all(v.lower() in ("unknown", "")
                                               for v in fields.values())
            no_org = not fields.get("O")
            if not c.is_debug and (all_unknown or (no_org and (cn in _JUNK_CN or len(cn) <= 3))):
                add("APK-CERT-005", subject=c.subject)
                break

    def _code(self, a: ApkFacts, add: Callable[..., None]) -> None:
        code = a.code
        if code is not None:
            refs = dict(code.api_refs)
            gestures = sorted(k for k in refs if k in ("AccessibilityService.dispatchGesture",
                                                        "AccessibilityService.performGlobalAction"))
            if gestures:
                add("APK-CODE-001", calls=gestures)
            lock = sorted(k for k in refs if k in ("DevicePolicyManager.lockNow",
                                                    "DevicePolicyManager.wipeData",
                                                    "DevicePolicyManager.resetPassword"))
            if lock:
                add("APK-CODE-002", calls=lock)
            loaders = sorted(k for k in refs if "DexClassLoader" in k)
            if loaders:
                add("APK-CODE-003", calls=loaders)
            bad = self._bad_urls(code.urls)
            if bad:
                add("APK-URL-001", urls=bad[:5], count=len(bad))
            if code.telegram_bot:
                add("APK-URL-002", urls=[_redact_bot(u) for u in code.telegram_bot[:5]])
            ep = sorted({*code.websockets, *(u for u in code.urls if _ip_url(u, code.ips))})
            if ep:
                add("APK-URL-003", endpoints=ep[:5])
            if code.dexlib_dex:
                add("APK-PACK-003", dex_files=list(code.dexlib_dex),
                    compilers=sorted({d.compiler for d in code.dex_files
                                      if d.assembled_with_dexlib and d.compiler}))
            if code.anti_analysis:
                add("APK-ANTI-001", signs=list(code.anti_analysis), errors=list(code.errors)[:3])
        libs = [n.rsplit("/", 1)[-1] for n in a.native_libs]
        packers = sorted({name for name, pat in PACKERS for lib in libs if pat.match(lib)})
        if packers:
            add("APK-PACK-001", packers=packers,
                libraries=sorted({lib for _, pat in PACKERS for lib in libs if pat.match(lib)}))
        hidden = [s for s in a.suspicious_assets
                  if s.magic == "dex" or (s.magic in ("", "elf") and s.entropy >= 7.9
                                          and s.size >= 32_768
                                          and not s.name.lower().endswith(_MEDIA))]
        if hidden:
            add("APK-PACK-002", assets=[{"name": s.name, "size": s.size, "magic": s.magic,
                                         "entropy": s.entropy} for s in hidden[:5]])
        if a.archive_repairs or a.zip.anomalies:
            add("APK-ANTI-003", repairs=[*a.zip.anomalies, *a.archive_repairs])
        problem = manifest_problem(a)
        if problem is not None:
            add("APK-ANTI-002", problem=problem[0], detail=problem[1])
        odd = [*a.zip.suspicious_names, *a.zip.duplicate_names]
        if odd:
            add("APK-ZIP-001", names=odd[:5])

    def _bad_urls(self, urls: Iterable[str]) -> list[dict[str, Any]]:
        bad: list[dict[str, Any]] = []
        for u in list(urls)[:_MAX_URLS]:
            try:
                p = normalize(u)
            except InvalidURLError:
                continue
            agg = aggregate(self.links.check(p))
            if agg.verdict in (Verdict.SUSPICIOUS, Verdict.DANGEROUS):
                bad.append({"url": u, "verdict": agg.verdict.value,
                            "rules": [f.rule_id for f in agg.counted if f.rule.points]})
        return bad


_MANIFEST_READ = ("tampered-axml",)


def manifest_problem(a: ApkFacts) -> tuple[str, str] | None:
    """``(problem, reason)`` when the app's manifest is not one Android and our parser
    read alike (see :attr:`ApkFacts.manifest_problem`), else ``None``."""
    problem = a.manifest_problem
    if problem is None and "manifest-unparseable" in a.warnings:
        problem = "unreadable"
    if problem is None:
        return None
    reason = next((e for e in a.errors if e.startswith("AndroidManifest.xml")),
                  "AndroidManifest.xml could not be parsed")
    return problem, reason


def manifest_unread(a: ApkFacts) -> bool:
    """True when the manifest was not read at all (its rules could not run)."""
    p = manifest_problem(a)
    return p is not None and p[0] not in _MANIFEST_READ


def _ip_url(url: str, ips: Iterable[str]) -> bool:
    return any(f"//{ip}" in url for ip in ips)


def _redact_bot(url: str) -> str:
    # Keep the bot id (useful for takedown requests), drop the secret part of the token.
    return re.sub(r"(/bot\d+):[A-Za-z0-9_-]+", r"\1:<token>", url)


def scanner_for(extra_blocklist: str | None = None, lists_file: str | None = None,
                *, use_blocklists: bool = True) -> ApkScanner:
    """An :class:`ApkScanner` over the bundled lists plus an extra APK blocklist file
    (``SCAMSCAN_APK_BLOCKLIST``), built once per process and path.

    ``lists_file`` is the analysts' APK list file (:func:`scanners.lists.write_apk_lists`):
    its block entries are added, its allow entries removed from the blocklist, and
    its official signers added to the official-app registry. The file is re-read
    (and the scanner rebuilt) whenever it changes.

    ``use_blocklists=False`` (``--no-blocklists``, ``SCAMSCAN_BLOCKLISTS=off``): no hash,
    package or signer blocklist at all, for evaluations; the registry stays.
    """
    if not use_blocklists:
        return _unlisted_scanner()
    if not lists_file:
        return _scanner_for(extra_blocklist)
    from scanners.lists import load_apk_lists

    lists = load_apk_lists(lists_file)
    if lists is None or not lists.version:
        return _scanner_for(extra_blocklist)
    key = (extra_blocklist, lists.version)
    scanner = _WITH_LISTS.get(key)
    if scanner is None:
        if len(_WITH_LISTS) >= 4:
            _WITH_LISTS.clear()
        scanner = _WITH_LISTS[key] = _scanner_with_lists(extra_blocklist, lists)
    return scanner


_WITH_LISTS: dict[tuple[str | None, str], ApkScanner] = {}


@cache
def _scanner_for(extra_blocklist: str | None = None) -> ApkScanner:
    bl = blocklists.apk_blocklist()
    if extra_blocklist:
        from pathlib import Path

        bl = bl.merged(blocklists.load_apk_blocklist(Path(extra_blocklist)))
    return ApkScanner(blocklist=bl)


@cache
def _unlisted_scanner() -> ApkScanner:
    return ApkScanner(blocklist=blocklists.ApkBlocklist())


def _scanner_with_lists(extra_blocklist: str | None, lists: ApkLists) -> ApkScanner:
    base = _scanner_for(extra_blocklist)
    bl = base.blocklist.merged(lists.block)
    allow = lists.allow
    bl = blocklists.ApkBlocklist(bl.sha256 - allow.sha256, bl.packages - allow.packages,
                                 bl.signers - allow.signers, bl.notes)
    reg = base.registry
    official: dict[str, frozenset[str]] = dict(lists.official_signers)
    if official:
        apps = []
        for app in reg.apps:
            extra = official.pop(app.package, None) or official.pop(app.package.lower(), None)
            apps.append(app if extra is None else dataclasses.replace(
                app, signers=app.signers | extra))
        for package, signers in sorted(official.items()):
            apps.append(OfficialApp(package, package, "app", (), frozenset(signers)))
        reg = dataclasses.replace(reg, apps=tuple(apps))
    return ApkScanner(registry=reg, blocklist=bl)
