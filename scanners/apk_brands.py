"""Impersonation beyond Vietnam (APK-IMP-005): a label naming a bank, wallet,
payment service, government body, telecom or system component of
``blocklists/data/apk_brands.json`` (built by ``eval/build_apk_brands.py``;
each brand records where its name comes from) while the package is not that
brand's.

No public data here gives these brands' packages or signers, so "not that
brand's" is judged from the package name: a package that spells one of the
brand's terms (``com.paypal.android``, ``com.hsbc.hsbcnet``) is left alone,
the official-app registry and the well-known apps are judged by their own
rules, and everything else claiming the brand is reported.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import blocklists
from scanners.errors import DataError

_WORD = re.compile(r"[a-z0-9]+")
_EXTRA = str.maketrans({"ı": "i", "đ": "d", "Đ": "d", "ø": "o", "ß": "ss", "ł": "l"})


def fold(text: str) -> str:
    """Lower case, diacritics stripped (Vietnamese, Turkish, Portuguese…), words
    joined by single spaces: ``"Güncelleme!"`` -> ``"guncelleme"``."""
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_WORD.findall(text))


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    category: str
    terms: tuple[str, ...]
    sources: tuple[str, ...]


@cache
def brands() -> tuple[Brand, ...]:
    """The bundled brand list, loaded once."""
    path = blocklists.data_dir() / "apk_brands.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return tuple(Brand(str(b["name"]), str(b["category"]), tuple(b["terms"]),
                           tuple(b["sources"])) for b in doc["brands"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"cannot load the APK brand list {path}: {e}") from e


def claimed_brand(label: str | None, package: str | None) -> tuple[Brand, str] | None:
    """The brand (and the term) the label claims while the package is not the brand's."""
    words = fold(label or "")
    if not words:
        return None
    padded = f" {words} "
    pkg = re.sub(r"[^a-z0-9]", "", (package or "").lower())
    for b in brands():
        term = next((t for t in b.terms if f" {t} " in padded), None)
        if term is None:
            continue
        if any(t.replace(" ", "") in pkg for t in b.terms):
            return None  # the package carries the brand's own name
        return b, term
    return None
