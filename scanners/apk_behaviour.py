"""Behaviour rules of the APK scanner that combine manifest and DEX facts.

Rules: APK-PKG-002 (builder-made component names), APK-CODE-004 (premium SMS),
APK-CODE-005 (dropper), APK-CAP-021
(overlay plus accessibility), APK-CAP-022 (hidden icon plus accessibility or
device admin), APK-URL-004 (push messages as a command channel) and the
softer APK-CAP-023, which takes APK-CAP-003's place when an app reads SMS for
a feature the user can see. Pure functions of :class:`ApkFacts`; the findings
go through the ``add`` callback of :class:`scanners.apk.ApkScanner`.
"""

from __future__ import annotations

from collections.abc import Callable

from scanners.apk_facts import ApkFacts

_P = "android.permission."
SMS_READ = frozenset({_P + "READ_SMS", _P + "RECEIVE_SMS"})
# What a messaging app declares (the SMS role needs these; see RoleManager's
# "android.app.role.SMS" requirements): a receiver for SMS_DELIVER, a
# RESPOND_VIA_MESSAGE service or an activity for sms:/smsto: links.
SMS_ROLE_ACTIONS = frozenset({"android.provider.Telephony.SMS_DELIVER",
                              "android.provider.Telephony.WAP_PUSH_DELIVER",
                              "android.intent.action.RESPOND_VIA_MESSAGE"})
SMS_SCHEMES = frozenset({"sms", "smsto", "mms", "mmsto"})
FCM_EVENT = "com.google.firebase.MESSAGING_EVENT"
C2DM = "com.google.android.c2dm.intent.RECEIVE"
_PAYLOAD_EXT = (".apk", ".dex", ".jar")


def _a11y(a: ApkFacts) -> list[str]:
    return [c.name for c in a.components if c.kind == "service"
            and c.permission == _P + "BIND_ACCESSIBILITY_SERVICE"]


def _admins(a: ApkFacts) -> list[str]:
    return [c.name for c in a.components if c.kind == "receiver"
            and c.permission == _P + "BIND_DEVICE_ADMIN"]


def is_messaging_app(a: ApkFacts) -> bool:
    """Whether the app declares what the default-SMS-app role needs."""
    for c in a.components:
        for f in c.intent_filters:
            if SMS_ROLE_ACTIONS & set(f.actions):
                return True
            if c.kind in ("activity", "activity-alias") and SMS_SCHEMES & set(f.schemes):
                return True
    return False


def sms_send_calls(a: ApkFacts) -> list[str]:
    refs = a.code.api_refs if a.code is not None else {}
    return sorted(k for k in refs if k.startswith("SmsManager.send"))


def takeover_signs(a: ApkFacts) -> list[str]:
    """The capabilities that turn SMS access into account takeover (empty: none)."""
    perms = set(a.permissions)
    signs = []
    if _a11y(a):
        signs.append("accessibility service")
    if _admins(a):
        signs.append("device admin")
    if _P + "SYSTEM_ALERT_WINDOW" in perms:
        signs.append("overlay")
    if (_P + "SEND_SMS" in perms or sms_send_calls(a)) and not is_messaging_app(a):
        # An SMS app (filter, backup, full client) declares the SMS role and sends
        # texts as its visible feature; anything else sending them is suspect.
        signs.append("sends SMS")
    if _P + "REQUEST_INSTALL_PACKAGES" in perms:
        signs.append("installs apps")
    if not a.launcher_activity and not a.split:
        signs.append("no launcher icon")
    return signs


def visible_sms_feature(a: ApkFacts) -> bool:
    """Reads SMS with an icon to open and none of :func:`takeover_signs`: a notification
    reader, an SMS backup or filter app (which may send texts if it declares the SMS
    role). Such an app gets APK-CAP-023, not APK-CAP-003."""
    return bool(set(a.permissions) & SMS_READ) and not takeover_signs(a)


def builder_names(a: ApkFacts) -> list[str]:
    """Component class names of the shape malware builders generate: the simple
    name starts with a lower-case letter (``cmtstflxlxb``, ``fIvicKhU``). Java
    classes are named in UpperCamelCase, and R8/ProGuard keep the names of
    classes the manifest references, so an ordinary app has none or one or two
    (``main``); builders give dozens."""
    out = []
    for c in a.components:
        simple = c.name.rsplit(".", 1)[-1].rsplit("$", 1)[-1]
        if len(simple) >= 3 and simple.isalpha() and simple[0].islower():
            out.append(simple)
    return out


def check(a: ApkFacts, add: Callable[..., None]) -> None:
    """Emit the behaviour findings of one APK."""
    perms = set(a.permissions)
    shaped = builder_names(a)
    if len(shaped) >= 5 and len(shaped) * 4 >= len(a.components):
        add("APK-PKG-002", count=len(shaped), components=len(a.components),
            examples=shaped[:6])
    refs = dict(a.code.api_refs) if a.code is not None else {}
    a11y, admins = _a11y(a), _admins(a)
    # Premium SMS: sending SMS in code while declaring nothing a messaging app needs.
    send = sms_send_calls(a)
    if send and not is_messaging_app(a):
        add("APK-CODE-004", calls=send, permission=_P + "SEND_SMS" in perms,
            messaging_app=False)
    # Dropper: may install apps, and has the means to fetch or unpack another one.
    if _P + "REQUEST_INSTALL_PACKAGES" in perms:
        means = sorted(k for k in refs if k.startswith("PackageInstaller")
                       or "DexClassLoader" in k)
        payloads = sorted(n for n in a.files if n.lower().startswith("assets/")
                          and n.lower().endswith(_PAYLOAD_EXT))[:5]
        hidden = [s.name for s in a.suspicious_assets if s.magic in ("dex", "zip")][:5]
        if means or payloads or hidden:
            add("APK-CODE-005", permission=_P + "REQUEST_INSTALL_PACKAGES", calls=means,
                payloads=sorted({*payloads, *hidden}))
    if a11y and _P + "SYSTEM_ALERT_WINDOW" in perms:
        add("APK-CAP-021", accessibility=a11y, permission=_P + "SYSTEM_ALERT_WINDOW")
    if not a.launcher_activity and not a.split and (a11y or admins):
        add("APK-CAP-022", accessibility=a11y, device_admins=admins)
    push = [c.name for c in a.components if any(
        {FCM_EVENT, C2DM} & set(f.actions) for f in c.intent_filters)]
    if push and (a11y or admins or perms & SMS_READ):
        add("APK-URL-004", services=push[:3],
            capabilities=[*(["accessibility"] if a11y else []),
                          *(["device admin"] if admins else []),
                          *(["SMS"] if perms & SMS_READ else [])])
