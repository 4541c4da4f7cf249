"""The parse child's process side: androguard runs in these processes only.

Forked from the warm server of :mod:`scanners.apk_supervisor` (entry points
:func:`spare_main` and :func:`forked_main`, messages over a pipe) or, on the
cold path, started as ``python -I -c …`` with a JSON request on stdin
(``path``, ``limits``, ``zip``; entry point :func:`main`). It sets its own
resource limits first (address space, CPU time, no file writes, no core
dumps), silences loguru, parses the APK (:func:`scanners.apk_parse.extract`)
and sends JSON messages (cold path: lines on stdout):

* ``{"status": "partial", "facts": …}`` after the manifest stage;
* ``{"status": "done", "facts": …}`` at the end;
* ``{"status": "refused", "kind": …, "reason": …}`` when androguard cannot
  open the file at all;
* ``{"status": "error", "kind": "memory" | "internal", "reason": …, "facts": …}``.

Nothing from the sample is executed; nothing is written to disk
(``RLIMIT_FSIZE`` is 0). The module keeps its name: it is in the cold child's
command line, by which ``api/jobs.py`` finds parse children to stop.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import sys
import tempfile
import time as _time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from scanners.apk_fact_types import ApkLimits, ZipFacts
from scanners.apk_parse import emit_line, extract


def set_limits(limits: ApkLimits, samples_left: int = 1) -> None:
    """Address space, CPU seconds, no core dumps.

    The CPU limit counts from what this process has used so far (a child that
    serves several samples gets the budget anew for each); its hard limit leaves
    room for ``samples_left`` samples, as a hard limit can be lowered but not
    raised again."""
    mem = int(limits.memory)
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    budget = max(1, math.ceil(limits.parse_timeout) + 5)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    want_hard = used + budget * max(1, samples_left) + 5
    if hard == resource.RLIM_INFINITY or hard > want_hard:
        hard = want_hard
    resource.setrlimit(resource.RLIMIT_CPU, (min(used + budget, hard), hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def forbid_writes() -> None:
    """No file writes from here on (androguard probes the temp dir at import)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def run(request: Mapping[str, Any], write: Callable[..., None] = emit_line) -> int:
    """Set the limits, parse ``request["path"]``, report through ``write``; exit status."""
    limits = ApkLimits.from_dict(request.get("limits", {}))
    set_limits(limits, int(request.get("samples_left", 1) or 1))
    partial: dict[str, Any] = {}

    def emit(status: str, **data: Any) -> None:
        if status == "partial":
            partial.update(data.get("facts", {}))
        write(status, **data)

    try:
        if _address_space() >= limits.memory:
            # A child forked from the warm server starts with the server's mappings;
            # a limit below them leaves no room to parse (a cold child could not
            # even import androguard): report it as the memory limit it is.
            raise MemoryError
        from loguru import logger

        logger.remove()
        importlib.import_module("androguard.core.apk")
        if limits.code_stage:
            importlib.import_module("androguard.core.dex")
        forbid_writes()
        t_parse = _time.perf_counter()
        flt0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        try:
            facts = extract(
                str(request["path"]), limits, ZipFacts.from_dict(request.get("zip", {})), emit
            )
        except MemoryError:
            raise
        except Exception as exc:
            if partial:
                write("error", kind="internal", reason=f"{type(exc).__name__}: {exc}"[:300],
                      facts=partial)
                return 1
            write("refused", kind="corrupt",
                  reason=f"androguard cannot read this file ({type(exc).__name__}: {exc})"[:300])
            return 0
        write("done", facts=facts.to_dict(), peak_rss=peak_rss(),
              parse_seconds=round(_time.perf_counter() - t_parse, 6),
              parse_faults=resource.getrusage(resource.RUSAGE_SELF).ru_minflt - flt0)
        return 0
    except MemoryError:
        write("error", kind="memory", reason="memory limit", facts=partial or None)
        return 3


def peak_rss() -> int:
    """Peak resident set size of this process since it started or since
    :func:`_reset_peak_rss`, in bytes (``VmHWM``)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _reset_peak_rss() -> None:
    """Start the peak RSS afresh (``5`` in ``/proc/self/clear_refs``, Linux), so
    that a child that serves several samples reports each one's own peak. A
    write to procfs, which ``RLIMIT_FSIZE`` 0 does not forbid."""
    try:
        with open("/proc/self/clear_refs", "w") as fp:
            fp.write("5")
    except OSError:
        pass


def _release_memory() -> None:
    """Between two samples (after the answer, so off its path): collect the last
    sample's objects and hand free heap pages back to the system, so that the next
    sample starts, and measures its peak, from close to where this child began."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the collection alone
        pass


def _detach(err: Any) -> None:
    """Once per child: a session of its own, stdin and stdout on ``/dev/null``,
    stderr on the parent's pipe ``err``."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(err.fileno(), 2)
    os.close(null)
    err.close()


def encode(message: Mapping[str, Any]) -> bytes:
    """A message to the parent as JSON: orjson, several times faster than json on
    a big app's facts (tuples become arrays, as with json), else json for what
    orjson refuses (an integer over 64 bits from a crafted manifest)."""
    try:
        return orjson.dumps(message)
    except TypeError:
        return json.dumps(message, ensure_ascii=False).encode()


def _serve(request: Mapping[str, Any], out: Any) -> tuple[int, bool]:
    """Parse one sample in this child: move to its private temp dir, run it, send
    the messages to ``out``; the exit status :func:`run` gives, and whether its
    last message was ``done`` (a refusal also exits 0)."""
    tmp = str(request["tmp"])
    os.chdir(tmp)
    os.environ.update(TMPDIR=tmp, HOME=tmp)
    tempfile.tempdir = tmp
    start_rss = _current_rss()
    warm = "androguard.core.apk" in sys.modules

    last: list[str] = []

    def write(status: str, **data: Any) -> None:
        if status == "done":
            data.update(start_rss=start_rss, warm_imports=warm)
        last[:] = [status]
        out.send_bytes(encode({"status": status, **data}))

    rc = run(request, write)
    return rc, last == ["done"]


def forked_main(request: Mapping[str, Any], out: Any, err: Any,
                more: Callable[[], Mapping[str, Any] | None] | None = None) -> None:
    """Entry point of a child forked from the warm server (:mod:`scanners.apk_supervisor`).

    ``out`` is the write end of a :class:`multiprocessing.connection.Connection`
    (one JSON message per ``send_bytes``), ``err`` the write end of a pipe that
    becomes this process's standard error. Standard input and output go to
    ``/dev/null``; the working directory, ``TMPDIR`` and ``HOME`` move to the
    private temp dir ``request["tmp"]`` made by the parent.

    A request with ``"reuse": true`` asks the child to wait, once its facts are
    sent, for another request from ``more`` (``None``: the parent is done with
    it). It serves one only after a clean ``done`` (exit status 0; a refusal
    ends it); its limits and peak-RSS count start again for each sample.
    """
    _detach(err)
    while True:
        rc, done = _serve(request, out)
        # Only a clean answer earns another sample; after anything else the parent
        # waits for this process to end (and reads its stderr).
        if rc != 0 or not done or not request.get("reuse") or more is None:
            break
        _release_memory()
        out.send_bytes(b'{"status": "ready"}')  # as after a warm-up: see spare_main
        nxt = more()
        if nxt is None:
            break
        request = nxt
        _reset_peak_rss()
    out.close()
    # No interpreter teardown (finalisers, GC of androguard's objects): it would
    # only delay the parent, which waits for this process to end.
    sys.stderr.flush()
    os._exit(rc)


def spare_main(request_conn: Any, out: Any, err: Any, prewarm: bool = False) -> None:
    """Entry point of a child forked from the warm server: wait for the request,
    then :func:`forked_main`. Ends quietly when the parent goes away first.

    ``prewarm`` (an idle child forked ahead of time): parse the built-in fixture
    once while idle, so that the pages the parse code touches are copied from
    the server now rather than during the sample's parse."""

    def receive() -> Mapping[str, Any] | None:
        try:
            value = json.loads(request_conn.recv_bytes())
        except (EOFError, OSError, ValueError):  # the parent closed the pipe
            return None
        return value if isinstance(value, dict) else None

    try:
        if prewarm:
            warm_up()
            # Tells wait_for_idle_child() that this child is ready; the parent
            # skips it if it is still unread when the request goes out.
            out.send_bytes(b'{"status": "ready"}')
        request = receive()
    except BaseException:  # parent gone, interrupted
        os._exit(0)
    if request is None:
        os._exit(0)
    forked_main(request, out, err, receive)


def _statm(field: int) -> int:
    """Field ``field`` of ``/proc/self/statm`` in bytes (0: total size, 1: resident);
    0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as fp:
            return int(fp.read().split()[field]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _address_space() -> int:
    """Current virtual size of this process, in bytes (0 if unknown)."""
    return _statm(0)


def _current_rss() -> int:
    """Current resident set size of this process, in bytes (0 if unknown)."""
    return _statm(1)


def main() -> int:
    """Entry point of the cold ``python -I -c`` child: request on stdin, JSON lines out."""
    return run(json.loads(sys.stdin.buffer.read() or b"{}"))


# --------------------------------------------------------------------------- warm-up

WARM_ENV = "SCAMSCAN_APK_WARM_UP"
"""Set (to ``1``) in the environment of the fork server only, while it starts."""

WARM_UP_APK = Path(__file__).with_name("warm_up.apk")
"""A copy of ``tests/fixtures/apk/fake_dichvucong.apk``: built from our own sources
(inert stubs), it has what most apps exercise (resources, ``@xml`` configs, an
icon, v1+v2+v3 signatures, a DEX), so a parse of it touches most of the code and
pages a sample's parse will (``tools/build_apk_fixtures.sh`` keeps it in sync)."""


def warm_up() -> bool:
    """Parse :data:`WARM_UP_APK` once (full stage), so that lazy imports, compiled
    regexes and the pages the parse code touches are in memory: in the fork server
    before it forks, and again in each idle child while it waits (its own copies
    of those pages, made before a sample arrives rather than during its parse)."""
    try:
        from loguru import logger

        logger.remove()
        data = WARM_UP_APK.read_bytes()
        zip_facts = ZipFacts(entries=1, has_manifest=True)
        extract(str(WARM_UP_APK), ApkLimits(), zip_facts, lambda *_a, **_k: None, data=data)
    except Exception:
        return False
    return True


if os.environ.get(WARM_ENV) == "1":  # imported by the fork server's preload
    warm_up()
    # Everything the server holds now is permanent: the collector of a forked
    # child never walks it, so it does not touch (and copy) the inherited pages.
    import gc

    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
