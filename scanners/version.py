"""The cache version of stored app reports.

A report is reused for the same file only while everything that made it is
unchanged: the rule catalogue (every field of every rule, not only points),
the schema of the extracted facts, and the bundled data the scanners load
(blocklists, official apps, brand lists, the learned model). Any change to
one of them gives a new version, so stale reports are never served.
"""

from __future__ import annotations

import hashlib
import pathlib

import blocklists
from scanners import rules


def data_hash(root: pathlib.Path | None = None) -> str:
    """A digest of every bundled data file under ``root`` (``blocklists/data``):
    their paths relative to it and their bytes."""
    base = root if root is not None else blocklists.data_dir()
    h = hashlib.sha256()
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        h.update(path.relative_to(base).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def scanner_version(prefix: str, fact_schema: int, root: pathlib.Path | None = None) -> str:
    """``prefix`` + 12 hex digits over the catalogue, ``fact_schema`` and the data files."""
    h = hashlib.sha256()
    for part in (rules.content_hash(), f"facts-{fact_schema}", data_hash(root)):
        h.update(part.encode() + b"\0")
    return f"{prefix}+{h.hexdigest()[:12]}"
