"""Official-brand knowledge: who is official, and what impersonators copy.

Built once from ``blocklists/data/official.json`` (curated brands with their
official domains and tokens) and the bundled known-good list. Everything the
impersonation rules need is precomputed here so that a host is checked with
set look-ups and one Aho-Corasick pass, not loops over brands.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ahocorasick
import confusable_homoglyphs

import blocklists
from scanners.errors import DataError


@dataclass(frozen=True, slots=True)
class Brand:
    """An official organisation that scams imitate."""

    id: str
    kind: str
    """``gov`` (state bodies and public utilities), ``bank`` or ``wallet``."""
    name_vi: str
    name_en: str
    domains: tuple[str, ...]

    @property
    def is_gov(self) -> bool:
        return self.kind == "gov"


@dataclass(frozen=True, slots=True)
class Token:
    """A string that, seen in a host, points to a brand."""

    text: str
    brand: Brand
    glued: bool
    """Whether the token may match inside a longer label (only distinctive ones)."""


# Suffixes and registrables of real governments, so that another country's
# government site is never taken for a Vietnamese gov look-alike.
_GOV_SUFFIX_LABELS = frozenset({"gov", "gob", "gouv", "govt", "go", "gv", "mil", "gc", "admin"})
_GOV_REGISTRABLES = frozenset({
    "nic.in", "gc.ca", "canada.ca", "admin.ch", "bund.de", "europa.eu", "gv.at",
    "govt.nz", "gov.uk", "service.gov.uk", "usa.gov", "gob.mx", "gouv.fr", "fgov.be",
    "mygov.in", "gov.bc.ca",
})


def is_government_suffix(suffix: str, registrable: str) -> bool:
    """Whether a host with this public suffix / registrable is a real government's."""
    if suffix in ("gov", "mil", "int") or registrable in _GOV_REGISTRABLES:
        return True
    parts = suffix.split(".")
    return len(parts) >= 2 and parts[0] in _GOV_SUFFIX_LABELS


def has_idn_label(host: str) -> bool:
    """Whether any label of the ASCII ``host`` is punycode (an IDN, ``xn--``).

    gov.vn names and the registry's official domains are ASCII: a host with
    an IDN label is never one of them, whatever suffix it ends with.
    """
    return host.startswith("xn--") or ".xn--" in host


_VI_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ł": "l", "ø": "o"})


def fold_vietnamese(text: str) -> str:
    """Strip Vietnamese (and other Latin) diacritics: ``dịchvụcông`` → ``dichvucong``."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_VI_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _confusable_map() -> dict[str, str]:
    # UTS #39 confusables, from confusable_homoglyphs' copy of Unicode's
    # confusables.txt. The package answers "is this confusable?" but has no
    # skeleton function, so we keep only the entries that map one non-ASCII
    # character to one ASCII letter or digit: that is the part of the
    # skeleton that matters for hosts.
    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for ch, targets in data.items():
        if len(ch) != 1 or ch.isascii():
            continue
        for t in targets:
            c = t["c"]
            if len(c) == 1 and c.isascii() and c.isalnum():
                out[ch] = c.lower()
                break
    return out


def skeleton(text: str) -> tuple[str, bool]:
    """(ASCII skeleton, whether a confusable (not a diacritic) was mapped).

    Vietnamese diacritics are folded first, so a Vietnamese IDN is not called a
    homoglyph attack; what remains non-ASCII is mapped through the confusables.
    """
    folded = fold_vietnamese(text.lower())
    if folded.isascii():
        return folded, False
    cmap = _confusable_map()
    out = []
    mapped = False
    for c in folded:
        if c.isascii():
            out.append(c)
        elif c in cmap:
            out.append(cmap[c])
            mapped = True
        else:
            out.append(c)
    return "".join(out), mapped


_NON_TOKEN = re.compile(r"[^a-z]+")


class Registry:
    """Official brands, their domains and their tokens, indexed for speed."""

    def __init__(self, brands: list[Brand], tokens: list[Token], known_good: dict[str, str]):
        self.brands = brands
        self.tokens = tokens
        self.known_good = known_good
        self.official: dict[str, Brand] = {}
        for b in brands:
            for d in b.domains:
                self.official.setdefault(d, b)
        self.by_token: dict[str, Token] = {t.text: t for t in tokens}
        # First labels of official domains: a host that repeats one of them
        # before its real registrable domain may be using the official name
        # as a prefix (dichvucong.gov.vn.evil.top).
        self.official_heads = frozenset(d.split(".", 1)[0] for d in self.official)
        # Flattened forms of official names for "official name under another
        # suffix": dichvucong (dichvucong.gov.vn), gplxgov (gplx.gov.vn).
        self.flat_names: dict[str, tuple[str, Brand]] = {}
        for d, b in self.official.items():
            label, _, suffix = d.partition(".")
            forms = {label, label + suffix.replace(".", ""), label + suffix.split(".")[0]}
            for f in forms:
                if len(f) >= 5:
                    self.flat_names.setdefault(f, (d, b))
        self.automaton = ahocorasick.Automaton()
        for t in tokens:
            self.automaton.add_word(t.text, t.text)
        self.automaton.make_automaton()
        # Targets for the one-edit rule: distinctive names only. Short codes
        # and global shopping/social brands have too many honest neighbours
        # (pcloud, qcloud, napps), so they are left out; agency names may be
        # five letters (vneid, vssid), bank names need six.
        self.typo_targets: dict[str, tuple[str, Brand]] = {}
        for t in tokens:
            if t.glued and t.brand.kind != "brand" and len(t.text) >= (5 if t.brand.is_gov else 6):
                self.typo_targets.setdefault(t.text, (t.brand.domains[0], t.brand))
        for f, (d, b) in self.flat_names.items():
            if b.kind != "brand" and len(f) >= (5 if b.is_gov else 6):
                self.typo_targets.setdefault(f, (d, b))

    def official_brand(self, registrable: str) -> Brand | None:
        """The brand whose official domain is ``registrable``."""
        return self.official.get(registrable)


@cache
def registry() -> Registry:
    """The bundled registry, loaded once."""
    path = blocklists.data_dir() / "official.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"cannot load the official registry {path}: {e}") from e
    brands: list[Brand] = []
    tokens: list[Token] = []
    for raw in doc["brands"]:
        b = Brand(raw["id"], raw["kind"], raw["name_vi"], raw["name_en"], tuple(raw["domains"]))
        brands.append(b)
        for t in raw["tokens"]:
            tokens.append(Token(t, b, glued=True))
        for t in raw["short_tokens"]:
            tokens.append(Token(t, b, glued=False))
    return Registry(brands, tokens, dict(blocklists.known_good()))
