"""Do reused parse children give the same facts as fresh ones?

    .venv/bin/python eval/apk_reuse.py [--data ../shared/data/apks] [--samples 16]

Extracts the full facts of every committed fixture and, with ``--data``, of
every member of ``DIR/benign.zip`` and ``DIR/malware.zip`` (password
``infected``; LIVE MALWARE: each member is written alone to a private (0700)
temp dir, parsed, and deleted; nothing is installed or run), twice: once with
``SCAMSCAN_APK_CHILD_SAMPLES=1`` (a fresh parse child per sample), once with
``--samples`` (children serving several samples in turn, as by default). It
prints how many files were compared, how many children each run used and
which files' facts differ; the exit status is 1 if any does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "apk"
PASSWORD = b"infected"


def _items(data: Path | None) -> Iterator[tuple[str, bytes]]:
    for p in sorted(FIXTURES.glob("*.ap*")):
        yield p.name, p.read_bytes()
    if data is None:
        return
    for name in ("benign.zip", "malware.zip"):
        with zipfile.ZipFile(data / name) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield f"{name[:3]}:{info.filename[:12]}", zf.read(info, pwd=PASSWORD)


def _run(data: Path | None, samples: int) -> tuple[dict[str, Any], set[int]]:
    from scanners import apk_facts

    os.environ["SCAMSCAN_APK_CHILD_SAMPLES"] = str(samples)
    apk_facts.drop_spare_child()
    out: dict[str, Any] = {}
    pids: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="scamscan-reuse-") as tmp:
        os.chmod(tmp, 0o700)
        path = Path(tmp) / "sample.apk"
        for name, blob in _items(data):
            path.write_bytes(blob)
            try:
                facts = apk_facts.extract_facts(path).to_dict()
                facts.pop("file_name", None)
                out[name] = facts
                pid = apk_facts.last_child_stats().get("pid")
                if isinstance(pid, int):
                    pids.add(pid)
            except (apk_facts.ApkError, apk_facts.ApkParseIncomplete) as e:
                out[name] = f"{type(e).__name__}: {e}"
            finally:
                path.unlink(missing_ok=True)
    apk_facts.drop_spare_child()
    return out, pids


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, help="dir with benign.zip and malware.zip")
    ap.add_argument("--samples", type=int, default=16, help="samples per child, second run")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from scanners import apk_facts

    apk_facts.start_worker_server()
    fresh, fresh_pids = _run(args.data, 1)
    reused, reused_pids = _run(args.data, args.samples)
    differ = sorted(k for k in fresh if fresh[k] != reused.get(k))
    print(f"{len(fresh)} files; fresh children: {len(fresh_pids)}, "
          f"reused children (up to {args.samples} samples each): {len(reused_pids)}; "
          f"facts differ for {len(differ)}{': ' + ', '.join(differ) if differ else ''}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
