"""Builder fingerprints beyond the manifest's names (issue 12).

Rules: APK-PKG-003 (a label that has nothing to do with a letter-soup package,
counted only together with takeover capabilities or a claimed brand),
APK-PKG-004 (classes of a public RAT/payload builder in the DEX) and
APK-PKG-005 (many DEX classes named the way builders name them). Pure
functions of :class:`ApkFacts`; the findings go through the ``add`` callback
of :class:`scanners.apk.ApkScanner`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scanners.apk_class_shapes import builder_root
from scanners.apk_facts import ApkFacts
from scanners.registry import fold_vietnamese
from scanners.segment import Token, default_segmenter

_P = "android.permission."
_SMS_READ = frozenset({_P + "READ_SMS", _P + "RECEIVE_SMS"})
# Reverse-domain heads and platform words that say nothing about what the app is.
_HEADS = frozenset({"com", "org", "net", "io", "app", "apps", "android", "me", "dev", "xyz",
                    "info", "biz", "edu", "gov", "mobi", "tech", "github", "ai", "vn", "co",
                    "www", "mobile", "application"})
_WORD_KINDS = frozenset({"vi", "en", "brand"})
MIN_BUILDER_CLASSES = 20
"""DEX classes of the builder shape needed for APK-PKG-005."""
MIN_SOUP_SHARE = 0.5
"""Share of those names that must read as letter soup (not words)."""


def _tokens(word: str) -> tuple[Token, ...]:
    return default_segmenter().label(word)


def soup(word: str) -> bool:
    """Whether a lower-case ASCII word reads as letter soup, not as words: three or
    more letters that no lexicon word explains, or so many one- and two-letter
    pieces that the average piece is under two letters (``spoehyloohrstq``)."""
    toks = _tokens(word)
    if not toks:
        return False
    unknown = sum(len(t.text) for t in toks if t.kind == "unk")
    return unknown >= 3 or len(word) / len(toks) < 2.0


def _words_of(text: str) -> list[str]:
    """Words (three letters or more) a segmentation finds in ``text``."""
    out: list[str] = []
    for chunk in text.split():
        for t in _tokens(chunk):
            if t.kind in _WORD_KINDS:
                out.extend(w for w in t.text.split() if len(w) >= 3)
    return out


def label_package_mismatch(label: str | None, package: str | None) -> dict[str, object] | None:
    """Evidence that the label has nothing to do with a letter-soup package, else None.

    Unrelated means: the label holds real words (Vietnamese, English or brand
    names), no label word appears in the package, no package segment appears in
    the label, and the package's segments are not the label words' initials.
    Letter soup means: the package's own segments (reverse-domain heads aside)
    are mostly soup (:func:`soup`). Both together; either alone is common in
    honest apps (brand names, translations, short vendor codes).
    """
    if not label or not package:
        return None
    folded = " ".join("".join(c for c in w if c.isascii() and c.isalnum())
                      for w in fold_vietnamese(label.lower()).split())
    lwords = _words_of(folded)
    if not lwords:
        return None
    segs = [s for s in package.lower().split(".") if s and s not in _HEADS]
    alpha = [s for s in segs if s.isascii() and s.isalpha()]
    if not alpha or len(alpha) != len(segs):
        return None
    compact_pkg = "".join(segs)
    compact_label = folded.replace(" ", "")
    if any(w in compact_pkg for w in lwords):
        return None
    if any(len(s) >= 3 and s in compact_label for s in segs):
        return None
    initials = "".join(w[0] for w in folded.split() if w)
    if len(initials) >= 2 and any(s.startswith(initials) or initials.startswith(s)
                                  for s in segs if len(s) >= 2):
        return None
    soupy = [s for s in segs if soup(s)]
    if sum(len(s) for s in soupy) * 2 < sum(len(s) for s in segs) or len(compact_pkg) < 8:
        return None
    return {"label_words": sorted(set(lwords))[:8], "package": package,
            "soup_segments": soupy}


def _takeover(a: ApkFacts) -> list[str]:
    out = []
    if any(c.kind == "service" and c.permission == _P + "BIND_ACCESSIBILITY_SERVICE"
           for c in a.components):
        out.append("accessibility service")
    if any(c.kind == "receiver" and c.permission == _P + "BIND_DEVICE_ADMIN"
           for c in a.components):
        out.append("device admin")
    if _SMS_READ & set(a.permissions):
        out.append("reads SMS")
    return out


def builder_class_names(a: ApkFacts) -> tuple[int, list[str]]:
    """(count of builder-shaped DEX classes, the soup ones among the kept names)."""
    code = a.code
    if code is None or code.lower_classes < MIN_BUILDER_CLASSES:
        return 0, []
    names = list(code.lower_class_names)
    soupy = [n for n in names if soup(n.lower())]
    if not names or len(soupy) < MIN_SOUP_SHARE * len(names):
        return 0, []
    return code.lower_classes, soupy


def check(a: ApkFacts, add: Callable[..., None], claims: Sequence[str]) -> None:
    """Emit the builder findings of one APK. ``claims``: the APK-IMP-* rules that
    fired on it (a claimed brand counts like a takeover capability)."""
    mismatch = label_package_mismatch(a.label, a.package)
    with_what = [*_takeover(a), *claims]
    if mismatch is not None and with_what:
        add("APK-PKG-003", label=a.label, **mismatch, together_with=with_what)
    code = a.code
    if code is not None:
        for root, classes in sorted(code.builder_roots.items()):
            name, source = builder_root(root)
            add("APK-PKG-004", builder=name, package_root=root, classes=classes,
                source=source)
        count, soupy = builder_class_names(a)
        if count:
            add("APK-PKG-005", count=count, classes=code.classes, examples=soupy[:6])
