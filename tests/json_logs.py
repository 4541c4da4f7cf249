"""The JSON log lines of a test (the ``json_log`` fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

import io
import json
from typing import Any


def json_lines(buf: io.StringIO) -> list[dict[str, Any]]:
    """The records written to ``buf`` by the JSON formatter, one per line."""
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]
