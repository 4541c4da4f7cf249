"""What a command loads before its first answer, and settings that fail when they load.

An offline link scan on a machine where no store was ever written must not import
the HTTP client or Redis's: they were most of its start-up (issue 11: start-up
under 1 s). Timing is for ``bench/url_throughput.py``; here the imports themselves
are checked, which do not depend on the machine's speed.
"""

from __future__ import annotations

import pytest

from api.cli_common import EXIT_USAGE
from tests.test_cli import run


@pytest.mark.parametrize("name", ["SCAMSCAN_FETCH_ALLOW_NETWORKS",
                                  "SCAMSCAN_WEBHOOK_ALLOW_NETWORKS"])
def test_a_network_with_host_bits_is_a_usage_error_at_load(name: str) -> None:
    # The fetcher refuses host bits (a typo that widens what may be fetched); the
    # settings used to accept them, and the server then failed in its lifespan.
    p = run("serve", "--port", "1", env=(f"{name}=127.0.0.1/8",))
    assert p.returncode == EXIT_USAGE
    err = p.stderr.decode()
    assert name in err and "host bits" in err and "Traceback" not in err
