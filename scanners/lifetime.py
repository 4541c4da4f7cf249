"""Child processes that die with their parent.

A server killed with SIGKILL runs no clean-up: its scan pool workers, their
fork servers and parse children would keep running (about 130 MB), and the
multiprocessing resource tracker, which holds the pool's POSIX semaphores,
would wait for them and never remove those semaphores from ``/dev/shm``.
The children therefore arrange at start to end when their parent does:

* :func:`set_parent_death_signal`: Linux's ``prctl(PR_SET_PDEATHSIG,
  SIGKILL)``, through :mod:`ctypes` (no maintained library wraps this one
  call: ``python-prctl`` is unmaintained and needs a compiler). The kernel
  sends the signal when the *thread* that created the child ends, so it is
  used where that thread is the parent's only one (children forked by
  multiprocessing's single-threaded fork server).
* :func:`watch_parent`: a daemon thread that checks every ``interval``
  seconds whether the parent is still ``parent_pid`` and SIGKILLs its own
  process when not: for children of a multi-threaded parent (the API's scan
  pool workers), and wherever ``prctl`` is unavailable.

Once the last of them is gone the resource tracker sees its pipe close,
removes the semaphores the pool had registered and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

PR_SET_PDEATHSIG = 1
"""From ``<linux/prctl.h>``."""
WATCH_EVERY = 0.5
"""Seconds between two checks of :func:`watch_parent`."""


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent ends (Linux only).

    ``False`` where unavailable. A parent that ended before the call is not
    noticed: callers that know their parent's pid compare it afterwards.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def with_parent_death_signal(target: Callable[..., Any], *args: Any) -> Any:
    """Arm :func:`set_parent_death_signal`, then run ``target(*args)``: the entry of a
    child of a single-threaded parent (wrap it in :func:`functools.partial`)."""
    set_parent_death_signal()
    return target(*args)


def _kill_self() -> None:
    with contextlib.suppress(OSError):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(1)  # only if SIGKILL could not be sent


def watch_parent(parent_pid: int, interval: float = WATCH_EVERY,
                 sig: int = signal.SIGKILL) -> threading.Thread:
    """Start a daemon thread that sends ``sig`` to this process once its parent is no
    longer ``parent_pid`` (it died: this process was given to another). Another
    signal than SIGKILL is sent once (the process's handler decides)."""

    def run() -> None:
        stop = threading.Event()
        while not stop.wait(interval):
            if os.getppid() != parent_pid:
                if sig == signal.SIGKILL:
                    _kill_self()
                os.kill(os.getpid(), sig)
                return

    thread = threading.Thread(target=run, name="scamscan-parent-watch", daemon=True)
    thread.start()
    return thread


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """In a new child of ``parent_pid`` (e.g. a pool initializer): end with it, by
    ``sig`` (SIGTERM: let the child stop cleanly).

    The watch thread only, not the death signal: the parent has many threads
    and may create children from one that ends long before it (the signal
    would then kill a healthy child).
    """
    if os.getppid() != parent_pid and sig == signal.SIGKILL:  # it ended already
        _kill_self()
    watch_parent(parent_pid, sig=sig)
