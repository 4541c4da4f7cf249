"""APK benchmark: our manifest verdict and full scan against raw androguard, per APK.

    .venv/bin/python bench/apk_bench.py [--data /work/shared/data/apks] [--repeats 3]
                                        [--cold] [--limit N] [--analyze-timeout 120]

Inputs: the committed fixtures ``tests/fixtures/apk/*.apk`` that pass
:func:`scanners.apk_facts.inspect_zip` and are not bundles; ``--data DIR`` adds
the members of ``DIR/benign.zip`` and ``DIR/malware.zip`` (password
``infected``). Those are LIVE MALWARE: each member is extracted alone into a
private (0700) temp dir, parsed, and deleted before the next one; nothing is
installed or run.

What is measured, per APK, in the same run:

``apk``      baseline 1: androguard ``APK(path)`` in a fresh ``python -I`` child
             that first imports ``androguard.core.apk`` (loguru removed). Time:
             median wall time of the ``APK()`` call alone over ``--repeats`` calls
             (imports excluded). Memory: that child's peak RSS (``VmHWM``), which
             includes the interpreter and androguard's imports.
``man``      ours, manifest verdict: ``extract_facts(path,
             limits=ApkLimits(code_stage=False))`` then ``ApkScanner().check`` and
             ``aggregate``, timed end to end in this process (ZIP checks, the
             isolated parse child, JSON, rules); median over ``--repeats``. Memory:
             peak RSS of the parse child (``VmHWM``; a child forked from the warm
             server counts the pages it shares with the server, as the baseline
             counts its imports).
``full``     ours, full scan: the same with the code stage.
``ana``      baseline 2: ``androguard.misc.AnalyzeAPK(path)`` in a fresh child
             (``RLIMIT_AS`` ``--analyze-memory``, killed after
             ``--analyze-timeout`` s; such samples are reported as skipped). One run.
             Time: the call alone. Memory: the child's peak RSS.

Ratios are ours / baseline: ``man/apk`` (target <= 1.5 for time and memory) and
``full/ana`` (target <= 0.5 for time and memory). The summary gives the median
and the worst per-APK ratio, and on how many APKs each target is met. No
timings are asserted anywhere: this is a report, not a test.

Our side runs as in production: the warm fork server and its idle,
pre-forked child (``SCAMSCAN_APK_SPARE=0`` in the environment forks a fresh
child per sample instead). The next idle child is forked in the background as
soon as one is taken, so its fork and warm-up overlap the parse. Between
repeats the bench waits, untimed, until that child is ready
(:func:`scanners.apk_facts.wait_for_idle_child`), as a server is between two
uploads; the baseline is likewise timed hot, in one process. The row's ``ms``
for ``man`` therefore excludes the fork but includes the ZIP checks, the
request round trip, the parse, JSON both ways and the rules. ``--burst``
prints, in addition, the mean time per sample of the fixtures scanned back to
back with no wait (the idle child then is often still warming up).

``--cold`` runs our side with the previous design (a ``python -I`` child per
sample, ``SCAMSCAN_APK_WORKER=cold``), for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "apk"
PASSWORD = b"infected"

_BASE_CHILD = r"""
import json, resource, sys, time
mode, path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
mem = int(sys.argv[4])
if mem:
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
def rss():
    with open("/proc/self/statm", "rb") as fp:
        return int(fp.read().split()[1]) * resource.getpagesize()
from loguru import logger
logger.remove()
if mode == "apk":
    from androguard.core.apk import APK as run
else:
    from androguard.misc import AnalyzeAPK as run
import_rss = rss()
times = []
for _ in range(repeats):
    t = time.perf_counter()
    run(path)
    times.append(time.perf_counter() - t)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"times": times, "peak": peak, "import_rss": import_rss}))
"""


@dataclass
class Row:
    name: str
    size: int
    apk_t: float | None = None
    apk_m: int | None = None
    man_t: float | None = None
    man_m: int | None = None
    full_t: float | None = None
    full_m: int | None = None
    ana_t: float | None = None
    ana_m: int | None = None
    verdict: str = ""
    notes: list[str] = field(default_factory=list)


def _baseline(mode: str, path: Path, repeats: int, memory: int, timeout: float,
              ) -> tuple[float, int] | str:
    """(median seconds of the call, peak RSS bytes) from a fresh child, or why not."""
    with tempfile.TemporaryDirectory(prefix="apkbench-base-") as tmp:
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-c", _BASE_CHILD, mode, str(path), str(repeats),
                 str(memory)],
                capture_output=True, timeout=timeout, cwd=tmp,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": tmp,
                     "HOME": tmp},
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"{mode}: over {timeout:g} s, skipped"
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        return f"{mode}: failed ({tail[0][:80]})"
    data = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return statistics.median(data["times"]), int(data["peak"])


def _ours(path: Path, code_stage: bool, repeats: int) -> tuple[float, int, str] | str:
    from scanners.apk import ApkScanner
    from scanners.apk_facts import (
        ApkError,
        ApkLimits,
        ApkParseIncomplete,
        extract_facts,
        last_child_stats,
        wait_for_idle_child,
    )
    from scanners.findings import aggregate

    scanner = ApkScanner()
    limits = ApkLimits(code_stage=code_stage)
    times: list[float] = []
    peaks: list[int] = []
    verdict = ""
    for _ in range(repeats):
        wait_for_idle_child()  # untimed: see "between repeats" in the module docstring
        t = time.perf_counter()
        try:
            facts = extract_facts(path, limits=limits)
        except ApkParseIncomplete as exc:
            return f"ours: incomplete ({exc.reason[:60]})"
        except ApkError as exc:
            return f"ours: refused ({exc.kind})"
        agg = aggregate(scanner.check(facts))
        times.append(time.perf_counter() - t)
        peaks.append(int(last_child_stats().get("peak_rss", 0)))
        verdict = f"{agg.verdict}/{agg.risk_score}"
    return statistics.median(times), max(peaks), verdict


def _burst(repeats: int) -> str:
    """Mean wall time per manifest verdict of the fixtures scanned back to back."""
    from scanners.apk import ApkScanner
    from scanners.apk_facts import ApkLimits, extract_facts, wait_for_idle_child
    from scanners.findings import aggregate

    paths = [p for _, p in _inputs(None, None)] * max(1, repeats)
    scanner, limits = ApkScanner(), ApkLimits(code_stage=False)
    wait_for_idle_child()
    t = time.perf_counter()
    for p in paths:
        aggregate(scanner.check(extract_facts(p, limits=limits)))
    per = (time.perf_counter() - t) / len(paths) * 1000
    return f"burst: {len(paths)} fixture manifest verdicts back to back, {per:.1f} ms each"


def _inputs(data: Path | None, limit: int | None) -> Iterator[tuple[str, Path]]:
    from scanners.apk_facts import ApkError, inspect_zip

    def usable(p: Path) -> bool:
        try:
            return inspect_zip(p).bundle is None  # androguard's APK() reads no bundle
        except ApkError:
            return False

    n = 0
    for p in sorted(FIXTURES.glob("*.apk")):
        if usable(p):
            n += 1
            yield p.name, p
    if data is None:
        return
    for archive in ("benign.zip", "malware.zip"):
        with zipfile.ZipFile(data / archive) as zf:
            for info in zf.infolist():
                if limit is not None and n >= limit:
                    return
                if info.is_dir():
                    continue
                with tempfile.TemporaryDirectory(prefix="apkbench-sample-") as tmp:
                    os.chmod(tmp, 0o700)
                    target = Path(tmp) / "sample.apk"  # never the member's own name
                    target.write_bytes(zf.read(info, pwd=PASSWORD))
                    if usable(target):
                        n += 1
                        yield f"{archive[:-4][:3]}:{info.filename[:12]}", target
                    target.unlink()


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    if unit == "ms":
        return f"{x * 1000:.1f}"
    if unit == "MB":
        return f"{x / 1048576:.0f}"
    return f"{x:.2f}"


def _summary(name: str, ratios: list[float], target: float) -> str:
    if not ratios:
        return f"{name:<22} no data"
    met = sum(1 for r in ratios if r <= target)
    return (f"{name:<22} median {statistics.median(ratios):6.2f}  worst {max(ratios):6.2f}  "
            f"target <= {target:g}: met on {met}/{len(ratios)} "
            f"({'MET' if statistics.median(ratios) <= target else 'NOT MET'} at the median)")


def _model_cost(rounds: int = 200) -> str:
    """The capability model's cost (APK-ML-001), inside the times above: loading its
    weights once per process, and scoring one app's facts."""
    from scanners import apk_model
    from scanners.apk_facts import extract_facts

    apk_model.apk_model.cache_clear()
    t = time.perf_counter()
    model = apk_model.apk_model()
    load = time.perf_counter() - t
    facts = [extract_facts(p) for p in sorted(FIXTURES.glob("*.apk"))
             if p.name.startswith(("fake_", "overlay_", "dropper_", "premium_"))]
    t = time.perf_counter()
    for _ in range(rounds):
        for f in facts:
            model.score(f)
    per = (time.perf_counter() - t) / (rounds * max(len(facts), 1))
    return (f"capability model: load {load * 1000:.2f} ms once per process, "
            f"{per * 1e6:.0f} us per app ({len(model.weights)} weights)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, help="dir with benign.zip and malware.zip")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, help="at most this many APKs")
    ap.add_argument("--analyze-timeout", type=float, default=120.0)
    ap.add_argument("--analyze-memory", type=int, default=8 * 1024**3)
    ap.add_argument("--no-analyze", action="store_true", help="skip AnalyzeAPK")
    ap.add_argument("--cold", action="store_true", help="our side with a cold child per sample")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--burst", action="store_true",
                    help="also time the fixtures' manifest verdicts back to back")
    args = ap.parse_args(argv)

    if args.cold:
        os.environ["SCAMSCAN_APK_WORKER"] = "cold"
    sys.path.insert(0, str(ROOT))
    from scanners.apk_facts import start_worker_server

    t = time.perf_counter()
    warm = start_worker_server()
    first = next(iter(sorted(FIXTURES.glob("fake_*.apk"))), None)
    if first is not None:  # not timed: server start-up, rule tables, blocklists
        _ours(first, True, 1)
    print(f"our worker: {'warm fork server' if warm else 'cold python -I child per sample'}"
          f" (start-up and first scan {time.perf_counter() - t:.2f} s, not counted)")

    rows: list[Row] = []
    head = (f"{'apk':<22}{'KB':>7} | {'apk ms':>7}{'MB':>5} | {'man ms':>7}{'MB':>5}"
            f"{'t x':>6}{'m x':>6} | {'ana ms':>8}{'MB':>6} | {'full ms':>8}{'MB':>5}"
            f"{'t x':>6}{'m x':>6} | verdict")
    print(head)
    print("-" * len(head))
    for name, path in _inputs(args.data, args.limit):
        row = Row(name, path.stat().st_size)
        base = _baseline("apk", path, args.repeats, 0, 120.0)
        if isinstance(base, str):
            row.notes.append(base)
        else:
            row.apk_t, row.apk_m = base
        man = _ours(path, False, args.repeats)
        if isinstance(man, str):
            row.notes.append(man)
        else:
            row.man_t, row.man_m, row.verdict = man
        if not args.no_analyze:
            ana = _baseline("ana", path, 1, args.analyze_memory, args.analyze_timeout)
            if isinstance(ana, str):
                row.notes.append(ana)
            else:
                row.ana_t, row.ana_m = ana
        full = _ours(path, True, args.repeats)
        if isinstance(full, str):
            row.notes.append(full)
        else:
            row.full_t, row.full_m, row.verdict = full
        rows.append(row)
        print(f"{name:<22}{row.size // 1024:>7} | {_fmt(row.apk_t, 'ms'):>7}"
              f"{_fmt(row.apk_m, 'MB'):>5} | {_fmt(row.man_t, 'ms'):>7}{_fmt(row.man_m, 'MB'):>5}"
              f"{_fmt(_ratio(row.man_t, row.apk_t)):>6}{_fmt(_ratio(row.man_m, row.apk_m)):>6} | "
              f"{_fmt(row.ana_t, 'ms'):>8}{_fmt(row.ana_m, 'MB'):>6} | "
              f"{_fmt(row.full_t, 'ms'):>8}{_fmt(row.full_m, 'MB'):>5}"
              f"{_fmt(_ratio(row.full_t, row.ana_t)):>6}{_fmt(_ratio(row.full_m, row.ana_m)):>6}"
              f" | {row.verdict} {'; '.join(row.notes)}", flush=True)

    def ratios(a: str, b: str) -> list[float]:
        return [r for row in rows if (r := _ratio(getattr(row, a), getattr(row, b))) is not None]

    print()
    print(f"{len(rows)} APKs, medians over {args.repeats} repeats"
          f" ({'cold' if args.cold else 'warm'} worker)")
    print(_summary("manifest time / APK()", ratios("man_t", "apk_t"), 1.5))
    print(_summary("manifest mem / APK()", ratios("man_m", "apk_m"), 1.5))
    print(_summary("full time / AnalyzeAPK", ratios("full_t", "ana_t"), 0.5))
    print(_summary("full mem / AnalyzeAPK", ratios("full_m", "ana_m"), 0.5))
    if args.burst:
        print(_burst(args.repeats))
    print(_model_cost())
    skipped = [r.name for r in rows if any("skipped" in n for n in r.notes)]
    if skipped:
        print(f"AnalyzeAPK skipped (over {args.analyze_timeout:g} s): {', '.join(skipped)}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
