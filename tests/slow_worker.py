"""``scamscan worker`` whose scans first sleep ``SCAMSCAN_TEST_JOB_DELAY`` seconds.

Run as ``python -m tests.slow_worker`` (arguments as ``scamscan worker``'s). A test
kills such a worker in the middle of a job, or lets the job pass its time limit.
The production actor (:func:`api.queue.scan_apk`) has no hook for this: the delay
is put in front of the scan function it calls, in this process only.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import api.queue
from api.cli import main
from api.jobs import run_apk_job

DELAY_ENV = "SCAMSCAN_TEST_JOB_DELAY"

_scan = run_apk_job


def _delay() -> None:
    """Sleep the delay in short naps (so that a signal is handled promptly)."""
    try:
        delay = float(os.environ.get(DELAY_ENV) or 0)
    except ValueError:
        delay = 0.0
    end = time.monotonic() + delay
    while time.monotonic() < end:
        time.sleep(min(0.1, end - time.monotonic()))


def slow_scan(*args: Any, **kwargs: Any) -> str:
    """:func:`api.jobs.run_apk_job`, after the delay."""
    _delay()
    return _scan(*args, **kwargs)


if __name__ == "__main__":
    # The actor looks the function up in its module at call time.
    vars(api.queue)["run_apk_job"] = slow_scan
    sys.exit(main(["worker", *sys.argv[1:]]))
