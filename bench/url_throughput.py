"""Throughput of ``scamscan url --offline --json --file`` on one core.

    python bench/url_throughput.py [--hosts N] [--repeat R] [--data ../shared/data/urls]
    python bench/url_throughput.py --input FILE

Runs the real CLI in a subprocess pinned to one core (``taskset -c 0`` when
available) over N unique hosts, and once over an empty file to measure the
start-up alone; hosts per second are counted without the start-up. The
baseline is a tldextract-only pass over the same input in this process, so
the ratio says how much the analysis costs beyond splitting the host.

Inputs: ``listed`` (always) is hosts from the bundled blocklists, the worst
case, since every host is a hit with several findings; with ``--data``,
``mixed`` is what a batch of real traffic looks like: the Tranco top 10k
(and, beyond it, the same names under new subdomains) with one host in ten
from the Vietnamese scam set.

The CLI's rate is also given per CPU second (user + system time of the child,
start-up subtracted), which the load of a shared machine disturbs far less
than wall time.

Each input is also scanned in this process with ``OfflineURLScanner.check``,
once with the rules only and once with rules and the learned model (fresh
scanners, so no cache is warm), to show what the model costs; and single
scans of a fresh host are timed for the p50 latency.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tldextract

import blocklists
from scanners.errors import InvalidURLError
from scanners.normalize import normalize
from scanners.segment import default_segmenter
from scanners.url_features import domain_features, sub_features
from scanners.url_model import default_model
from scanners.url_offline import OfflineURLScanner


def bundled_hosts(n: int) -> list[str]:
    seen: dict[str, None] = {}
    files = ["hostsvn_threat_vn.txt", "chongluadao_v2.txt", "chongluadao_v1.txt"]
    for name in files:
        for line in (blocklists.data_dir() / name).open(encoding="utf-8"):
            h = line.strip()
            if h and not h.startswith("#"):
                seen.setdefault(h, None)
    for line in (blocklists.data_dir() / "known_good.csv").open(encoding="utf-8"):
        h = line.split(",", 1)[0].strip()
        if h and not h.startswith("#") and h != "registrable_domain":
            seen.setdefault(h, None)
    base = list(seen)
    out = list(base)
    i = 0
    # Past the bundled hosts, make new unique names of the same shapes so that
    # no cache can serve a repeat.
    while len(out) < n:
        out.append(f"m{i}.{base[i % len(base)]}")
        i += 1
    return out[:n]


def mixed_hosts(data: Path, n: int) -> list[str]:
    tranco = [line.split(",", 1)[1].strip() for line in
              (data / "tranco_top10k.csv").open(encoding="utf-8") if "," in line]
    scam = [line.split(",", 1)[0] for line in
            (data / "vn_scam_hosts_dev.csv").open(encoding="utf-8")][1:]
    out: list[str] = []
    i = 0
    while len(out) < n:
        if i % 10 == 9:
            out.append(scam[(i // 10) % len(scam)])
        else:
            base = tranco[i % len(tranco)]
            out.append(base if i < len(tranco) else f"s{i // len(tranco)}.{base}")
        i += 1
    return out


def run_cli(path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one CLI run over ``path``."""
    cmd = [sys.executable, "-m", "api.cli", "url", "--offline", "--json", "--file", str(path)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # Exit 1 only says that some lines were not links; anything else is a failure.
    rc = subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - t
    if rc not in (0, 1):
        raise SystemExit(f"scamscan exited with {rc}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time (user + system) is what a shared machine's load disturbs least:
    # wall time also counts the minutes the core spent on other jobs.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def tldextract_pass(path: Path) -> float:
    ex = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    ex("warm.example.com")
    t = time.perf_counter()
    with path.open(encoding="utf-8") as f:
        for line in f:
            ex(line.strip())
    return time.perf_counter() - t


def _cold() -> None:
    """Empty the process-wide caches (segmentation, features, model parts)."""
    seg = default_segmenter()
    seg.chunk.cache_clear()
    seg.label.cache_clear()  # type: ignore[attr-defined]
    domain_features.cache_clear()
    sub_features.cache_clear()
    default_model().cache_clear()


def in_process(hosts: list[str], use_model: bool) -> float:
    """Hosts per second of ``check`` on a fresh scanner with cold caches (normalisation
    included)."""
    _cold()
    scanner = OfflineURLScanner(use_model=use_model)
    scanner.check(normalize("warm.example.com"))
    t = time.perf_counter()
    for h in hosts:
        try:
            scanner.check(normalize(h))
        except InvalidURLError:
            continue  # counted, as the CLI counts its error lines
    return len(hosts) / (time.perf_counter() - t)


def p50_single(hosts: list[str]) -> float:
    """Median seconds of one offline scan of a host not seen before (fresh caches)."""
    _cold()
    scanner = OfflineURLScanner()
    scanner.check(normalize("warm.example.com"))
    times = []
    for i, h in enumerate(hosts[:2000]):
        t = time.perf_counter()
        try:
            scanner.check(normalize(f"q{i}x.{h}"))
        except InvalidURLError:
            continue
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def measure(name: str, hosts: list[str], repeat: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        inp = Path(d) / "hosts.txt"
        inp.write_text("\n".join(hosts) + "\n", encoding="utf-8")
        empty = Path(d) / "empty.txt"
        empty.write_text("", encoding="utf-8")
        n = len(hosts)
        starts = [run_cli(empty) for _ in range(repeat)]
        runs = [run_cli(inp) for _ in range(repeat)]
        base = min(tldextract_pass(inp) for _ in range(repeat))
    startup = min(w for w, _ in starts)
    total = min(w for w, _ in runs)
    scan_rate = n / max(total - startup, 1e-9)
    cpu_rate = n / max(min(c for _, c in runs) - min(c for _, c in starts), 1e-9)
    base_rate = n / base
    print(f"[{name}] hosts: {n}  cpu pinning: "
          f"{'taskset -c 0' if shutil.which('taskset') else 'none'}  cores: {os.cpu_count()}"
          f"  load average: {os.getloadavg()[0]:.1f}")
    print(f"  start-up (empty file):         {startup * 1000:8.1f} ms")
    print(f"  scamscan url --offline --json: {scan_rate:10,.0f} hosts/s  ({total:.2f} s total)")
    print(f"    per CPU second (user+sys):   {cpu_rate:10,.0f} hosts/s")
    print(f"  tldextract only (baseline):    {base_rate:10,.0f} hosts/s")
    print(f"  ratio scamscan / baseline:     {scan_rate / base_rate:10.3f}")
    rules_rate = max(in_process(hosts, use_model=False) for _ in range(repeat))
    model_rate = max(in_process(hosts, use_model=True) for _ in range(repeat))
    print(f"  in process, rules only:        {rules_rate:10,.0f} hosts/s")
    print(f"  in process, rules + model:     {model_rate:10,.0f} hosts/s")
    print(f"  single offline scan, p50:      {p50_single(hosts) * 1e6:10.0f} µs")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=100_000)
    ap.add_argument("--input", type=Path, help="one host or URL per line instead of bundled hosts")
    ap.add_argument("--data", type=Path, help="../shared/data/urls, for the mixed input")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = ap.parse_args()
    if args.input:
        hosts = [x.strip() for x in args.input.read_text(encoding="utf-8").splitlines()
                 if x.strip()][: args.hosts]
        measure(str(args.input), hosts, args.repeat)
        return 0
    if args.data:
        measure("mixed", mixed_hosts(args.data, args.hosts), args.repeat)
    measure("listed", bundled_hosts(args.hosts), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
