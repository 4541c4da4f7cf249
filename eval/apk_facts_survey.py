"""Dev survey: run :func:`scanners.apk_facts.extract_facts` over the shared samples.

    .venv/bin/python eval/apk_facts_survey.py [../shared/data/apks]

The sample archives hold live Android malware: they are only *parsed* here.
Members are extracted to a private temp dir under /tmp, which is deleted at
the end. Prints one line per sample and a summary (OK count, time per sample,
failures and their reasons). Not a test: the shared data is not in the repo.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

from scanners.apk_facts import ApkError, ApkParseIncomplete, extract_facts

PASSWORD = b"infected"


def main(argv: list[str]) -> int:
    data = Path(argv[1] if len(argv) > 1 else "../shared/data/apks")
    meta = {row["sha256"]: row for row in csv.DictReader((data / "samples.csv").open())}
    times: list[float] = []
    failures: Counter[str] = Counter()
    ok = 0
    with tempfile.TemporaryDirectory(prefix="apk-survey-", dir="/tmp") as tmp:
        for archive in ("benign.zip", "malware.zip"):
            with zipfile.ZipFile(data / archive) as zf:
                for member in sorted(zf.namelist()):
                    target = Path(tmp) / Path(member).name
                    target.write_bytes(zf.read(member, pwd=PASSWORD))
                    row = meta.get(target.name.split(".")[0], {})
                    started = time.monotonic()
                    try:
                        facts = extract_facts(target)
                    except (ApkError, ApkParseIncomplete) as exc:
                        took = time.monotonic() - started
                        times.append(took)
                        key = f"{type(exc).__name__}: {getattr(exc, 'kind', '')} {exc}"[:120]
                        failures[key] += 1
                        print(f"FAIL {took:6.2f}s {archive:11} {target.name[:16]} {key}")
                        continue
                    finally:
                        target.unlink()
                    took = time.monotonic() - started
                    times.append(took)
                    ok += 1
                    code = facts.code
                    print(
                        f"ok   {took:6.2f}s {archive:11} {target.name[:16]} "
                        f"pkg={facts.package} label={facts.label!r} "
                        f"expected_pkg={row.get('package')} perms={len(facts.permissions)} "
                        f"comps={len(facts.components)} launcher={facts.launcher_activity} "
                        f"a11y={len(facts.accessibility)} admin={len(facts.device_admins)} "
                        f"certs={len(facts.certificates)}{list(facts.signature_schemes)} "
                        f"libs={len(facts.native_libs)} assets={len(facts.suspicious_assets)} "
                        f"classes={code.classes if code else None} "
                        f"urls={len(code.urls) if code else None} "
                        f"calls={sorted(code.api_calls) if code else None} "
                        f"anti={list(code.anti_analysis) if code else None} "
                        f"skipped={code.skipped_reason if code else None} "
                        f"errors={len(facts.errors)}"
                    )
    total = ok + sum(failures.values())
    print(f"\n{ok}/{total} extracted OK")
    if times:
        print(
            f"time per sample: mean {statistics.mean(times):.2f}s, "
            f"median {statistics.median(times):.2f}s, max {max(times):.2f}s"
        )
    for reason, n in failures.most_common():
        print(f"  {n} x {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
