"""Check that a change left every link verdict as it was: byte-identical CLI output.

    python bench/url_same_output.py --data ../shared/data/urls --base DIR [--hosts 20000]

Builds a sample of about 20,000 mixed inputs from the shared data (the mixed
traffic of ``url_throughput.py``, scam hosts, government fakes, phishing and
benign URLs with paths, odd inputs), runs ``scamscan url --offline --json
--file`` of this checkout and of ``DIR`` (another checkout, e.g. ``git archive
HEAD`` of the commit before the change) over it, with and without blocklists
and in both languages, and reports the first lines that differ. Not a test:
it reads ``../shared/data``, which tests never depend on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.url_throughput import mixed_hosts

ODD = ["", "   ", "not a link", "http://", "hxxps://evil[.]cc/login", "192.168.0.1/admin",
       "http://[::1]:8080/x", "xn--vietcombnk-7za.com", "dịchvụcông.com", "user@paypal.com@evil.cc",
       "HTTP://WWW.EXAMPLE.COM:80/A?b=c#d", "vietcombank.com.vn", "dichvucong.gov.vn",
       "dichvucong.hgov.cc", "a" * 300 + ".com", "http://x.com/" + "p" * 5000]


def sample(data: Path, n: int) -> list[str]:
    """About ``n`` inputs of every kind the scanner sees, in a fixed order."""
    out = mixed_hosts(data, n // 2)
    scam = [line.split(",", 1)[0] for line in
            (data / "vn_scam_hosts_dev.csv").open(encoding="utf-8")][1:]
    out += scam[: n // 10]
    gov = [line.split(",", 1)[0] for line in
           (data / "gov_impersonation_dev.csv").open(encoding="utf-8")][1:]
    out += gov
    op = [json.loads(line)["url"] for line in (data / "openphish_dev.jsonl").open()]
    out += op[: n // 10]
    benign = (data / "benign_urls_iscx2016.txt").read_text(encoding="utf-8").split()
    out += benign[:: max(1, len(benign) // (n // 10))]
    phish = (data / "iscx2016_phishing.txt").read_text(encoding="utf-8").split()
    out += phish[:: max(1, len(phish) // (n // 20))]
    umb = [x for x in (data / "benign_umbrella_top100k.txt").read_text(
        encoding="utf-8").split() if not x.startswith("#")]
    out += umb[:: max(1, len(umb) // (n // 10))]
    return [*out, *ODD]


def run(root: Path, inp: Path, extra: list[str]) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "api.cli", "url", "--offline", "--json", "--file", str(inp),
           *extra]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, check=False).stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--base", type=Path, required=True, help="the checkout to compare with")
    ap.add_argument("--hosts", type=int, default=20_000)
    args = ap.parse_args()
    here = Path(__file__).resolve().parent.parent
    items = sample(args.data, args.hosts)
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        inp = Path(d) / "sample.txt"
        inp.write_text("\n".join(items) + "\n", encoding="utf-8")
        for extra in ([], ["--no-blocklists"], ["--lang", "en"]):
            a, b = run(args.base, inp, extra), run(here, inp, extra)
            la, lb = a.splitlines(), b.splitlines()
            diff = [i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y]
            same = not diff and len(la) == len(lb)
            print(f"{' '.join(extra) or '(default)':16} lines {len(la)} / {len(lb)}: "
                  f"{'identical' if same else f'{len(diff)} differ'}")
            for i in diff[:5]:
                print("  -", la[i].decode()[:300], "\n  +", lb[i].decode()[:300])
            bad += not same
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
