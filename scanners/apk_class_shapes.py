"""Class-name shapes of malware builders, read from the DEX class list.

Runs in the parse child (:func:`class_shapes`, fed the class descriptors that
:mod:`scanners.apk_dex` reads anyway) and keeps only a bounded summary in
:class:`~scanners.apk_fact_types.CodeFacts`:

* known roots of public RAT/payload builders (:data:`BUILDER_ROOTS`: a class
  under one of them means the builder's code is in the app; rule APK-PKG-004);
* top-level classes whose simple name starts with a lower-case letter and is
  six letters or longer (``cmtstflxlxb``, ``fIvicKhU``): the DEX side of the
  builder shape APK-PKG-002 reads from the manifest. Java classes are
  UpperCamelCase; R8/ProGuard rename to ``a``, ``b``, ``aa``… (one to three
  letters), and Play services' obfuscated classes start with ``zz``, so neither
  reaches this shape. The scanner side judges the names (rule APK-PKG-005);
* classes in single-letter package chains (``a/b/c/d``), counted only: R8's
  repackaging makes that shape in honest apps too, so it scores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Package roots of public Android RAT and payload builders: each builder ships
# its client/stage source under a fixed package, which survives in every APK it
# makes unless the operator renames it. Where each root comes from (the
# builder's own public source tree):
BUILDER_ROOTS: tuple[tuple[str, str, str], ...] = (
    ("com/metasploit/stage/", "Metasploit Android payload (msfvenom)",
     "rapid7/metasploit-payloads, java/androidpayload: package com.metasploit.stage"),
    ("ahmyth/mine/king/ahmyth/", "AhMyth Android RAT",
     "AhMyth/AhMyth-Android-RAT, AhMyth-Client: package ahmyth.mine.king.ahmyth"),
    ("com/etechd/l3mon/", "L3MON (AhMyth-based RAT)",
     "D3VL/L3MON, app source: package com.etechd.l3mon"),
    ("my/app/client/", "AndroRAT",
     "RobinDavid/androrat, client source: package my.app.client"),
)
MAX_EXAMPLES = 64
"""Lower-case class names kept as evidence (the count covers all of them)."""
MIN_LOWER_NAME = 6


@dataclass(frozen=True, slots=True)
class ClassShapes:
    """What the class list shows (bounded)."""

    roots: dict[str, int]
    """``{builder root (dotted): classes under it}``."""
    lower_classes: int
    """Top-level classes with a lower-case simple name of six letters or more."""
    lower_names: tuple[str, ...]
    """Up to :data:`MAX_EXAMPLES` distinct such simple names, in DEX order."""
    letter_chain_classes: int
    """Classes in a package of three or more single-letter segments (``a/b/c/D``)."""


def _lower_shaped(simple: str) -> bool:
    return (len(simple) >= MIN_LOWER_NAME and simple.isascii() and simple.isalpha()
            and simple[0].islower() and not simple.startswith("zz"))


def class_shapes(descriptors: Iterable[str]) -> ClassShapes:
    """Summarise class descriptors (``Lcom/example/Main;``); never raises on odd input."""
    roots: dict[str, int] = {}
    lower = 0
    names: dict[str, None] = {}
    chains = 0
    for desc in descriptors:
        if not (desc.startswith("L") and desc.endswith(";")):
            continue
        path = desc[1:-1]
        for root, _name, _src in BUILDER_ROOTS:
            if path.startswith(root):
                key = root.rstrip("/").replace("/", ".")
                roots[key] = roots.get(key, 0) + 1
        pkg, _, simple = path.rpartition("/")
        if not pkg:
            continue
        segs = pkg.split("/")
        if len(segs) >= 3 and all(len(s) == 1 for s in segs):
            chains += 1
        if "$" not in simple and _lower_shaped(simple):
            lower += 1
            if len(names) < MAX_EXAMPLES:
                names.setdefault(simple, None)
    return ClassShapes(roots, lower, tuple(names), chains)


def builder_root(dotted: str) -> tuple[str, str]:
    """The builder's name and the public source of a root :func:`class_shapes` reported."""
    for root, name, src in BUILDER_ROOTS:
        if root.rstrip("/").replace("/", ".") == dotted:
            return name, src
    return dotted, ""
