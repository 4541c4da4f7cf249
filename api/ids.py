"""Random ids for each request and scan: :func:`uuid4_hex`, ``uuid.uuid4().hex`` made
cheaper.

Every request gets a request id and every link scan a scan id. ``uuid.uuid4()`` asks
the kernel for 16 random bytes (a ``getrandom`` system call) and builds a
:class:`uuid.UUID` only for its ``hex``. System calls are dear on the service's
machines (a few microseconds each under load, more than the rest of making an id;
docs/evaluation.md, "Service load"), so :func:`uuid4_hex` reads the same random
source 4 KiB at a time (256 ids a call), then sets the version and variant bits and
writes 32 hex digits, as ``uuid4`` does. The ids are the same kind: random (version
4, RFC 4122 variant), from ``os.urandom``. The bytes not used yet are dropped in a
child process after ``fork`` (it must not repeat its parent's ids) and are taken
under a lock (ids are made on worker threads too).
"""

from __future__ import annotations

import os
import threading

_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
"""The version nibble and the two variant bits, cleared."""
_SET = (0x4000 << 64) | (0x8000 << 48)
"""Version 4, variant RFC 4122 (``10`` in the top bits of clock_seq_hi)."""
_CHUNK = 4096
"""Random bytes read at a time: 256 ids."""

_lock = threading.Lock()
_pool = b""
_at = 0


def _drop_pool() -> None:
    global _pool, _at, _lock
    _pool, _at, _lock = b"", 0, threading.Lock()


os.register_at_fork(after_in_child=_drop_pool)


def uuid4_hex() -> str:
    """A new random id as ``uuid.uuid4().hex`` gives it: 32 lowercase hex digits."""
    global _pool, _at
    with _lock:
        if _at + 16 > len(_pool):
            _pool, _at = os.urandom(_CHUNK), 0
        raw = _pool[_at:_at + 16]
        _at += 16
    return "%032x" % (int.from_bytes(raw, "big") & _CLEAR | _SET)
