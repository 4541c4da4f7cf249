"""Lexical features of a link, shared by the model's training and its scoring.

Each feature is a readable string, so that the model's weights stay
explainable: ``w:cham soc`` (a segmented word of the registrable name),
``sw:paypal`` (a word of a subdomain), ``r3:^vi`` (a character 3-gram of the
registrable name), ``tld:cc``, ``p:verify`` (a word of the path or query),
``q:email`` (a key of the query), ``x:...`` (structure: digits, hyphens, depth,
random-looking tokens, the page's file type ``x:ext:php``), ``rule:URL-LEX-014`` (a
rule of the catalogue that fired on the link, :func:`rule_features`).
Training (``eval/train_url_model.py``) and scoring (:mod:`scanners.url_model`)
call the same :func:`features`, so they cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

import blocklists
from scanners.segment import default_segmenter

_PATH_WORDS = re.compile(r"[a-z]+|[0-9]+")
_PATH_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_MAX_PATH = 2048
"""Only the first characters of a path and query are read (memory and time bound)."""
_MAX_PATH_WORDS = 64
_LONG_TOKEN = 24
"""A path part this long with letters and digits mixed reads as a random token."""
_IPFS = re.compile(r"\b(?:ipfs|ipns)\b|\bbafy[a-z0-9]{20,}|\bqm[1-9a-z]{40,}", re.I)
_FILE = re.compile(r"\.(php|html?|aspx?|jsp|cgi|pdf|js)/*$")
_KIT_DIR = re.compile(r"/(?:wp-content|wp-includes|wp-admin|\.well-known|cgi-bin)/")
_QUERY_KEY = re.compile(r"(?:^|[&;])([a-z_][a-z0-9_]{0,19})=")
_HEX = re.compile(r"[0-9a-f]{32}")


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    for e in edges:
        if n <= e:
            return str(e)
    return f">{edges[-1]}"


_RUNS = re.compile(r"[a-z]+|[0-9]+|-+")


def shape(name: str) -> str:
    """The letter/digit/hyphen runs of a name, lengths capped at 9: ``ghnn22`` → ``a4d2``
    (the "task scam" names are short letter runs glued to digits)."""
    out = []
    for run in _RUNS.findall(name)[:6]:
        kind = "d" if run[0].isdigit() else "h" if run[0] == "-" else "a"
        out.append(f"{kind}{min(len(run), 9)}")
    return "".join(out)


def _ngrams(text: str, prefix: str, sizes: tuple[int, ...]) -> list[str]:
    s = f"^{text}$"
    return [f"{prefix}{n}:{s[i : i + n]}" for n in sizes for i in range(len(s) - n + 1)]


@cache
def platform_names() -> frozenset[str]:
    """Registrable domains of the bundled free-hosting and site-builder platform lists."""
    pl = blocklists.platforms()
    return pl.free_subdomain_hosts | pl.self_service_platforms | pl.free_file_hosts


@lru_cache(maxsize=32768)
def domain_features(domain: str, suffix: str) -> tuple[str, ...]:
    """Features of the registrable name and its suffix (cached: traffic repeats them)."""
    seg = default_segmenter()
    out: list[str] = [f"tld:{suffix.rsplit('.', 1)[-1] if suffix else '-'}"]
    if suffix and "." in suffix:
        out.append(f"sfx:{suffix}")
    registrable = f"{domain}.{suffix}" if suffix else domain
    if registrable in platform_names():
        # A platform where anyone gets a subdomain (github.io, weebly.com): its
        # name says nothing about the page, and must not teach the model that
        # "github" is bad (github.com is not github.io); the subdomain speaks.
        return (*out, f"plat:{registrable}")
    out += _ngrams(domain, "r", (3, 4))
    tld = suffix.rsplit(".", 1)[-1] if suffix else "-"
    shp = shape(domain)
    out += [f"shape:{shp}", f"shape:{shp}.{tld}"]
    dom_toks = seg.label(domain)
    for t in dom_toks:
        out.append(f"w:{t.text}" if t.kind != "num" else "w:#")
    out.append(f"x:words{_bucket(len(dom_toks), (1, 2, 3, 4, 6))}")
    unknown = sum(len(t.text) for t in dom_toks if t.kind == "unk")
    out.append(f"x:unk{_bucket(unknown, (0, 2, 4, 8))}")
    digits = sum(c.isdigit() for c in domain)
    out.append(f"x:dig{_bucket(digits, (0, 2, 4))}")
    out.append(f"x:hy{_bucket(domain.count('-'), (0, 1, 2))}")
    out.append(f"x:len{_bucket(len(domain), (5, 8, 12, 16, 24))}")
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=32768)
def sub_features(subdomain: str) -> tuple[str, ...]:
    """Features of the labels left of the registrable name (cached)."""
    seg = default_segmenter()
    subs = [s for s in subdomain.split(".") if s] if subdomain else []
    out = [f"x:sub{_bucket(len(subs), (0, 1, 2, 3))}"]
    for lab in subs:
        if lab in ("www", "m"):
            out.append(f"sl:{lab}")
            continue
        out += _ngrams(lab, "s", (3,))
        out.append(f"sshape:{shape(lab)}")
        for t in seg.label(lab):
            out.append(f"sw:{t.text}" if t.kind != "num" else "sw:#")
    return tuple(dict.fromkeys(out))


def host_features(domain: str, subdomain: str, suffix: str) -> tuple[str, ...]:
    """Features of the host: :func:`domain_features` then :func:`sub_features`."""
    return (*domain_features(domain, suffix), *sub_features(subdomain))


def path_features(path: str) -> list[str]:
    """Features of the path, query and fragment (``"/"`` or empty: none)."""
    if not path or path == "/":
        return []
    path = path[:_MAX_PATH]
    out: list[str] = []
    low = path.lower()
    words = _PATH_WORDS.findall(low)[:_MAX_PATH_WORDS]
    for w in words:
        if w.isdigit():
            continue
        if 2 <= len(w) <= 20:
            out.append(f"p:{w}")
    parts = [x for x in _PATH_SPLIT.split(path) if x]
    if any(len(x) >= _LONG_TOKEN and not x.isalpha() and not x.isdigit() for x in parts):
        out.append("x:randtok")
    depth = path.split("?", 1)[0].count("/")
    out.append(f"x:depth{_bucket(depth, (1, 2, 3, 5))}")
    if "?" in path:
        out.append("x:query")
        out.append(f"x:qparams{_bucket(path.count('&') + 1, (1, 2, 4))}")
    if "@" in path:
        out.append("x:at")
    if "//" in path[1:]:
        out.append("x:dslash")
    if "http" in low[1:]:
        out.append("x:url-in-path")
    if _IPFS.search(path):
        out.append("x:ipfs")
    if "%" in path:
        out.append("x:pct")
    # The page a kit serves: its file type (login.php, index.html at the root of a
    # random host), the folders of a hacked CMS it hides in, the query's keys
    # (email=, token=) without their values, and per-victim hex ids.
    m = _FILE.search(low.split("?", 1)[0].split("#", 1)[0])
    if m is not None:
        out.append(f"x:ext:{m.group(1)}")
        if depth <= 1:
            out.append(f"x:rootext:{m.group(1)}")
    if _KIT_DIR.search(low):
        out.append("x:kitdir")
    if "?" in path:
        for key in _QUERY_KEY.findall(path.split("?", 1)[1].lower())[:8]:
            out.append(f"q:{key}")
    if _HEX.search(low):
        out.append("x:hex")
    out.append(f"x:plen{_bucket(len(path), (8, 16, 32, 64, 128))}")
    return list(dict.fromkeys(out))


def features(domain: str, subdomain: str, suffix: str, path: str) -> list[str]:
    """Every lexical feature of a link: :func:`host_features` then :func:`path_features`
    (the rules' features, :func:`rule_features`, come from the scanner's findings)."""
    return [*host_features(domain, subdomain, suffix), *path_features(path)]


RULE_SKIP = ("URL-ML-", "URL-BL-", "URL-OFF-", "URL-LEX-008", "URL-INP-")
"""Rules the model does not read: its own, the lists (an evaluation scores without
them, and a listed link needs no model), the allowlists (they zero the model's
finding anyway), and two that say how the link was written, not what it is: plain
http (the lists write a bare host's scheme as they please) and decoded obfuscation."""


RuleFeatures = tuple[tuple[str, ...], tuple[str, ...]]
"""The rules' features of a link: (the host's, the path's)."""
NO_RULES: RuleFeatures = ((), ())
"""No rule fired (or the caller did not run the rules)."""


def rule_features(rule_ids: Iterable[str]) -> RuleFeatures:
    """The rules that fired on a link as features: (``rule:<id>`` of the host's rules,
    of the path's ``URL-PATH-*``), sorted, without the :data:`RULE_SKIP` ones.

    The model learns how much each rule says beside the words it reads (a name of
    random letters on a cheap suffix; a misspelt brand and a sign-in word), so that
    signals too weak for the catalogue's points alone add up where they go together.
    The scanner (:meth:`scanners.url_offline.OfflineURLScanner.check`) and the training
    both take the ids from the rules-only findings of the link."""
    host: set[str] = set()
    path: set[str] = set()
    for r in rule_ids:
        if r.startswith(RULE_SKIP):
            continue
        (path if r.startswith("URL-PATH-") else host).add(f"rule:{r}")
    return tuple(sorted(host)), tuple(sorted(path))


_NAMED = {"x:randtok": "random-looking token in the path", "x:ipfs": "IPFS gateway",
          "x:kitdir": "a folder of a web site's software (wp-content, .well-known…)",
          "x:hex": "a long hexadecimal id in the path",
          "x:at": "@ in the path", "x:url-in-path": "a URL inside the path",
          "x:query": "query string", "x:dslash": "// inside the path",
          "x:pct": "percent-encoded path"}


_BUCKET = re.compile(r"^x:([a-z]+?)(>?\d+)$")
_BUCKETS = {"len": "name length", "dig": "digits in the name", "hy": "hyphens in the name",
            "words": "words in the name", "unk": "letters that form no word",
            "sub": "subdomain labels", "depth": "path depth", "plen": "path length",
            "qparams": "query parameters"}


def _shape_words(value: str) -> str:
    runs, _, tld = value.partition(".")
    names = {"a": "letters", "d": "digits", "h": "hyphens"}
    words = " + ".join(f"{m.group(2)} {names[m.group(1)]}"
                       for m in re.finditer(r"([adh])(\d)", runs))
    return f"{words} .{tld}" if tld else words


def explains(feature: str) -> bool:
    """Whether a feature means something to a reader (words, n-grams, suffix, named tricks,
    the page's file type)."""
    return (not feature.startswith("x:") or feature in _NAMED
            or feature.startswith(("x:ext:", "x:rootext:")))


def is_ngram(feature: str) -> bool:
    """Whether ``feature`` is a character n-gram of a name (``r3:^vi``, ``s3:abc``)."""
    kind = feature.partition(":")[0]
    return kind[:1] in ("r", "s") and kind[1:].isdigit()


@lru_cache(maxsize=8192)
def readable(feature: str) -> str:
    """A feature as a person reads it in evidence (``w:cham soc`` → ``cham soc``; cached:
    the drivers of flagged links are a few thousand of the model's features)."""
    kind, _, value = feature.partition(":")
    if kind in ("w", "sw", "p", "sl"):
        return value
    if kind == "sshape":
        return f"subdomain pattern {_shape_words(value)}"
    if kind == "shape":
        return f"name pattern {_shape_words(value)}"
    if kind == "plat":
        return f"free hosting platform {value}"
    if kind == "rule":
        return f"rule {value}"
    if kind == "q":
        return f"query key {value}="
    if feature.startswith("x:ext:"):
        return f".{feature[6:]} page"
    if feature.startswith("x:rootext:"):
        return f".{feature[10:]} page at the root"
    if kind in ("tld", "sfx"):
        return f".{value}"
    if is_ngram(feature):
        # Where the letters sit: "vcb…" starts the name, "…dai" ends it.
        core = value.strip("^$")
        if value.startswith("^"):
            return core if value.endswith("$") else f"{core}…"
        return f"…{core}" if value.endswith("$") else f"…{core}…"
    if feature in _NAMED:
        return _NAMED[feature]
    m = _BUCKET.match(feature)
    if m is not None:
        what = _BUCKETS.get(m.group(1), m.group(1))
        n = m.group(2)
        return f"{what} {'>' + n[1:] if n.startswith('>') else '≤' + n}"
    return feature


@lru_cache(maxsize=4096)
def rule_features_of(rule_ids: tuple[str, ...]) -> RuleFeatures:
    """:func:`rule_features` of a tuple of ids, cached: links meet few combinations."""
    return rule_features(rule_ids)
