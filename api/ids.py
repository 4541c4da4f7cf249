"""Random ids for each request and scan: :func:`uuid4_hex`, ``uuid.uuid4().hex`` made
cheaper.

Every request gets a request id and every link scan a scan id. ``uuid.uuid4()`` builds
a :class:`uuid.UUID` (argument checks, an object) only for its ``hex``: about twice
the work of the same 16 random bytes (``os.urandom``) with the version and variant
bits set and written as 32 hex digits, which is what :func:`uuid4_hex` does. The
ids are the same kind: random (version 4, RFC 4122 variant), from the same source.
"""

from __future__ import annotations

import os

_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
"""The version nibble and the two variant bits, cleared."""
_SET = (0x4000 << 64) | (0x8000 << 48)
"""Version 4, variant RFC 4122 (``10`` in the top bits of clock_seq_hi)."""


def uuid4_hex() -> str:
    """A new random id as ``uuid.uuid4().hex`` gives it: 32 lowercase hex digits."""
    return "%032x" % (int.from_bytes(os.urandom(16), "big") & _CLEAR | _SET)
