"""Scan mutated copies of the APK fixtures: no exception may escape a scan.

    python tools/mutate_apks.py [--count N | --seconds S] [--seed K]

Each variant is a fixture with random bytes changed (anywhere, or in the 40 bytes
after a ``PK`` signature, where the ZIP headers are), sometimes cut short or with
bytes inserted. Every variant must give a report that ``orjson`` can write: a
finding, an ``incomplete`` entry or a refusal with a reason, never an exception.
Prints the count of each outcome and, for each escaped exception, the fixture,
the seed and the exception; exits 1 when one escaped.

Written for the hostile-input round of 2026-12-06: its first run found
``zipfile``'s ``NotImplementedError`` escaping the scan (26 of 8,909 variants). No
fuzzing library is used because the property is one line and the mutations are
ZIP-aware; a coverage-guided fuzzer (atheris) would need a native build.
``tests/test_rules_apk.py`` runs a short fixed-seed pass.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "apk"


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """A variant of ``data`` (see the module docstring)."""
    b = bytearray(data)
    for _ in range(rnd.choice((1, 2, 5, 20))):
        i = rnd.randrange(len(b))
        if rnd.random() < 0.7:
            b[i] = rnd.randrange(256)
        else:
            j = b.find(b"PK", i)
            if j >= 0 and j + 40 < len(b):
                b[j + rnd.randrange(4, 40)] = rnd.randrange(256)
    r = rnd.random()
    if r < 0.1:
        b = b[: rnd.randrange(1, len(b))]
    elif r < 0.2:
        i = rnd.randrange(len(b))
        b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 64)))
    return bytes(b)


def run(*, count: int | None = None, seconds: float | None = None,
        seed: int = 11) -> tuple[Counter[str], list[str]]:
    """(outcomes, escaped exceptions) of ``count`` variants, or as many as fit in
    ``seconds``."""
    from scanners.apk_report import scan_apk_path

    rnd = random.Random(seed)  # noqa: S311 - reproducible mutations, not secrets
    sources = sorted(p for p in FIXTURES.iterdir()
                     if p.suffix in (".apk", ".xapk", ".apks") and p.stat().st_size < 300_000)
    outcomes: Counter[str] = Counter()
    escaped: list[str] = []
    start = time.monotonic()
    n = 0
    with tempfile.TemporaryDirectory(prefix="scamscan-mutants-") as tmp:
        while (count is not None and n < count) or (
                seconds is not None and time.monotonic() - start < seconds):
            src = rnd.choice(sources)
            path = Path(tmp) / f"m{n}{src.suffix}"
            path.write_bytes(mutate(src.read_bytes(), rnd))
            n += 1
            try:
                report = scan_apk_path(path).report("en")
                orjson.dumps(report)
            except Exception as exc:  # the property under test: nothing escapes
                escaped.append(f"{src.name} (variant {n}, seed {seed}): "
                               f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}")
                continue
            finally:
                path.unlink(missing_ok=True)
            if report.get("error"):
                outcomes[f"refused: {report.get('error_kind')}"] += 1
            else:
                outcomes["incomplete" if report["incomplete"] else "scanned"] += 1
    return outcomes, escaped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=None, help="variants to scan")
    ap.add_argument("--seconds", type=float, default=None, help="or scan for this long")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)
    if args.count is None and args.seconds is None:
        args.count = 500
    outcomes, escaped = run(count=args.count, seconds=args.seconds, seed=args.seed)
    for e in escaped:
        print(e, file=sys.stderr)
    total = sum(outcomes.values()) + len(escaped)
    print(f"{total} variants: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
          + f"; escaped exceptions {len(escaped)}")
    return 1 if escaped else 0


if __name__ == "__main__":  # the parse children import this file's module: keep it guarded
    sys.exit(main())
