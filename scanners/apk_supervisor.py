"""The parse children's supervisor: forks, feeds, times and retires them.

:class:`ChildSupervisor` (one per process, :data:`SUPERVISOR`) runs a sample's
parse in a child process (:mod:`scanners._apk_worker`) under a wall time,
reads its JSON messages and turns its end into facts or a typed error
(:func:`interpret`). Its state (the warm server's owner, the idle
:class:`Child`, the children exiting, the refiller thread) lives on the
instance, not in module globals; a process forked from this one (a ``fork``
pool worker) drops the idle child, the locks and the exiting children of its
parent, and starts a fork server of its own on first use.

The warm server
---------------
A cold ``python -I`` + androguard import costs about 0.25 s per sample, more
than parsing most APKs. So the parse children are forked from a warm server:
the stdlib ``multiprocessing`` *forkserver*, started lazily on first use
(:meth:`ChildSupervisor.start_server`, under a lock, so any thread may
trigger it) with :data:`WARM_PRELOAD` imported and, through ``SCAMSCAN_APK_WARM_UP=1`` in its
environment only, a built-in harmless fixture parsed once
(:func:`scanners._apk_worker.warm_up`) so that lazy imports and compiled
regexes are already in memory. Samples are parsed by children forked from
that server (their own address space; the server itself never sees a
sample) running :func:`scanners._apk_worker.forked_main`: it sets the limits,
moves to the private temp dir, points stdin/stdout at ``/dev/null`` and
stderr at a pipe read here, and sends JSON messages (``partial`` after the
manifest stage, then ``done``) over a :func:`multiprocessing.Pipe`. This
process waits on both pipes with the wall-time deadline, kills the child on
expiry and always joins and closes it, once it has exited or after
:data:`EXIT_GRACE` (the answer does not wait for that): the server reaps its
children, so nothing is left as a zombie. ``RLIMIT_AS`` counts the mappings
inherited from the server (about 40 MB resident); a limit below them is reported as a
memory stop without parsing. A process forked from one that had started the
server (a ``fork`` process-pool worker) starts a server of its own on first
use; spawn/forkserver pool workers simply start theirs. The forkserver is
process-wide: another user of ``multiprocessing``'s forkserver in the same
process shares it (and our preload list).

The idle child: to take the fork off the critical path, one extra child is
forked ahead of time (by a short-lived thread, as soon as the previous one is
taken, so that its fork and warm-up run on another core during that parse)
and waits for its request on a pipe (:func:`scanners._apk_worker.spare_main`).
While idle it parses the built-in fixture once, so that the pages of the
server that a parse touches are already copied (a forked child otherwise pays
about a thousand copy-on-write faults during its first parse). The fork
server also ``gc.freeze()``-s its heap after the warm-up.

Reuse: the first parse in a new process is still 1.3-1.6 times slower than
the same parse repeated (the pages it copies or maps, cold caches). So a child
that answered ``done`` becomes the idle child again and serves the next
sample, up to ``SCAMSCAN_APK_CHILD_SAMPLES`` samples (default
:data:`DEFAULT_CHILD_SAMPLES`; ``1``: a fresh child for every sample), and
only while its peak RSS stays within :data:`CHILD_RSS_SLACK` of what it held
before its first sample: a child that grew (any full scan of a real app)
retires, so no sample starts in a child holding more than that. A child that
failed, timed out or was refused never serves again; the limits, the private
temp dir and the peak-RSS count start anew for each sample, and a test checks
that the facts of a reused child equal those of a fresh one. The trade: a
sample that subverted the parser could see or alter the next samples that
child parses (the child is not a sandbox in any case: same user, network
allowed); ``SCAMSCAN_APK_CHILD_SAMPLES=1`` removes it, at the cost above.
``SCAMSCAN_APK_SPARE=0`` turns the idle child off (a fresh fork per sample,
on the critical path); :meth:`ChildSupervisor.drop_idle_child` ends it.
``SCAMSCAN_APK_WORKER=cold`` in the environment (or a platform without
forkserver) selects the previous path: a
``python -I -c`` child per sample, request on stdin, JSON lines on stdout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from scanners.apk_errors import ApkParseIncomplete, NotAnApkError
from scanners.apk_fact_types import ApkFacts, ApkLimits, ZipFacts

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

EXIT_GRACE = 5.0
"""Seconds a parse child that has sent its facts gets to exit before it is killed."""

WARM_PRELOAD = (
    "loguru",
    "lxml.etree",
    "asn1crypto.cms",
    "asn1crypto.x509",
    "cryptography.x509",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "androguard.core.axml",
    "androguard.core.apk",
    "androguard.core.dex",
    "orjson",
    "scanners._apk_worker",
    "scanners.lifetime",
)
"""Modules imported once by the fork server, before it forks any parse child."""

DEFAULT_CHILD_SAMPLES = 16
CHILD_RSS_SLACK = 16 * 1024 * 1024
"""A child serves another sample only if this one's peak RSS stayed within this
many bytes of the child's RSS before its first sample: what a child keeps
between samples is at most its peak, so no sample starts with more than this
left over (a full scan of a real app peaks far above it: its child retires)."""

_WARM_ENV = "SCAMSCAN_APK_WARM_UP"
"""Set in the fork server's environment only (see ``scanners._apk_worker.WARM_ENV``)."""
_WORKER_ENV = "SCAMSCAN_APK_WORKER"
"""``cold`` in the environment: one ``python -I`` child per sample (the old path)."""
_SPARE_ENV = "SCAMSCAN_APK_SPARE"
"""``0`` in the environment: no idle pre-forked parse child (fork on the critical path)."""
_SAMPLES_ENV = "SCAMSCAN_APK_CHILD_SAMPLES"
"""Samples one parse child may serve before it exits (default
:data:`DEFAULT_CHILD_SAMPLES`; ``1``: a fresh child for every sample)."""

_ROOT = str(Path(__file__).resolve().parent.parent)
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from scanners._apk_worker import main; sys.exit(main())"
)

_MEMORY_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "failed to map segment",
    "std::bad_alloc",
    "out of memory",
)

log = logging.getLogger("scamscan.apk")


# --------------------------------------------------------------------------- settings


def _mp() -> Any:
    import multiprocessing

    return multiprocessing


def warm_available() -> bool:
    """Whether samples go to children of the warm fork server (else: the cold path)."""
    if os.environ.get(_WORKER_ENV, "").lower() == "cold":
        return False
    return "forkserver" in _mp().get_all_start_methods()


def spare_enabled() -> bool:
    """Whether an idle child is forked ahead of time (``SCAMSCAN_APK_SPARE``)."""
    return os.environ.get(_SPARE_ENV, "1") != "0"


def child_samples() -> int:
    """Samples one parse child serves at most (``SCAMSCAN_APK_CHILD_SAMPLES``)."""
    try:
        return max(1, int(os.environ.get(_SAMPLES_ENV, DEFAULT_CHILD_SAMPLES)))
    except ValueError:
        return DEFAULT_CHILD_SAMPLES


# --------------------------------------------------------------------------- messages


def _last_json(lines: bytes) -> dict[str, Any] | None:
    for raw in reversed(lines.splitlines()):
        raw = raw.strip()
        if not raw:
            continue
        with contextlib.suppress(ValueError):
            value = json.loads(raw)
            if isinstance(value, dict):
                return value
    return None


def _partial(msg: dict[str, Any] | None) -> ApkFacts | None:
    if msg is None or not isinstance(msg.get("facts"), dict):
        return None
    try:
        return ApkFacts.from_dict(msg["facts"])
    except (KeyError, TypeError, ValueError):
        return None


def interpret(
    msg: dict[str, Any] | None, err: bytes, rc: int | None, limits: ApkLimits
) -> ApkFacts:
    """Facts from the child's last message, or the typed error its end calls for."""
    if msg is not None and msg.get("status") == "done":
        facts = _partial(msg)
        if facts is not None:
            return facts
    if msg is not None and msg.get("status") == "refused":
        kind = str(msg.get("kind", "not-zip"))
        raise NotAnApkError(str(msg.get("reason", "not an Android app")), kind)
    partial = _partial(msg) if msg is not None and msg.get("status") == "partial" else None
    if msg is not None and msg.get("status") == "error" and msg.get("kind") == "memory":
        partial = _partial(msg) or partial
        raise ApkParseIncomplete(
            f"the app needed more than {limits.memory // (1024 * 1024)} MB to parse", partial
        )
    tail = err.decode("utf-8", "replace")[-2000:]
    if any(m in tail for m in _MEMORY_MARKERS):
        raise ApkParseIncomplete(
            f"the app needed more than {limits.memory // (1024 * 1024)} MB to parse", partial
        )
    if rc in (-24, 152):  # SIGXCPU
        raise ApkParseIncomplete("the app used too much CPU time to parse", partial)
    if msg is not None and msg.get("status") == "error":
        raise ApkParseIncomplete(f"the parser failed: {msg.get('reason', '')}"[:300], partial)
    last = tail.strip().splitlines()[-1:] or [f"exit status {rc}"]
    raise ApkParseIncomplete(f"the parser died ({last[0][:200]})", partial)


def _drain(err_r: Connection) -> None:
    """Read away whatever is waiting on a child's stderr pipe (never blocks)."""
    with contextlib.suppress(OSError, ValueError):
        while err_r.poll(0):
            if not os.read(err_r.fileno(), 65536):
                break


def _worker_entry() -> Any:
    """The parse child's entry: :func:`scanners._apk_worker.spare_main`, once the
    child arranged to be killed with its parent (the fork server, single-threaded),
    so that no parse outlives a killed server (:mod:`scanners.lifetime`)."""
    from functools import partial

    from scanners import _apk_worker
    from scanners.lifetime import with_parent_death_signal

    return partial(with_parent_death_signal, _apk_worker.spare_main)


# --------------------------------------------------------------------------- a child


@dataclass(eq=False, slots=True)
class Child:
    """A parse child forked from the warm server, with this process's ends of its pipes."""

    process: BaseProcess
    requests: Connection
    """Write end: JSON requests (closed: no more samples, the child exits)."""
    out: Connection
    """Read end: the child's JSON messages."""
    err: Connection
    """Read end of the pipe that is the child's standard error."""
    owner: int = field(default_factory=os.getpid)
    """PID of the process that forked it (only that process may use it)."""
    served: int = 0
    """Samples it has answered."""
    base_rss: int = 0
    """Its RSS before its first sample, in bytes (0 until known)."""
    ready: bool = False
    """It said it finished its warm-up, or released the last sample's memory."""

    @classmethod
    def fork(cls, ctx: Any, prewarm: bool = False) -> Child:
        """A child forked from the warm server, waiting for its request on a pipe."""
        req_r, req_w = ctx.Pipe(duplex=False)
        out_r, out_w = ctx.Pipe(duplex=False)
        err_r, err_w = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_worker_entry(), args=(req_r, out_w, err_w, prewarm), name="scamscan-apk",
            daemon=True,
        )
        try:
            proc.start()
        except BaseException:
            for conn in (req_r, req_w, out_r, out_w, err_r, err_w):
                conn.close()
            raise
        for conn in (req_r, out_w, err_w):
            conn.close()
        return cls(proc, req_w, out_r, err_r)

    def discard(self) -> None:
        """End it (killed if still running), wait for it and close its pipes."""
        with contextlib.suppress(Exception):
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.process.close()
        for conn in (self.requests, self.out, self.err):
            conn.close()


# --------------------------------------------------------------------------- the supervisor


class ChildSupervisor:
    """Runs parses in bounded children: the warm fork server, the idle child, reuse.

    One per process (:data:`SUPERVISOR`): the fork server is process-wide. Every
    method may be called from any thread.
    """

    def __init__(self) -> None:
        self.rss_slack = CHILD_RSS_SLACK
        """See :data:`CHILD_RSS_SLACK`."""
        self._starts = 0
        self._server_lock = threading.Lock()
        self._server_pid: int | None = None
        """PID of the process that set up the fork server (``None``: not yet)."""
        self._stats = threading.local()
        self._spare_lock = threading.Lock()
        self._spare: Child | None = None
        self._exiting_lock = threading.Lock()
        self._exiting: list[tuple[float, Child]] = []
        """Children that sent their facts and are exiting: ``(since when, child)``."""
        self._refiller_pid: int | None = None
        self._refill_wanted = threading.Event()
        self._refilling = False
        """The refiller thread is between its wake-up and the idle child's fork."""
        self._scratch: str | None = None
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        # A forked process (a process-pool worker) must not use, nor wait for, a lock
        # or an idle child that belong to its parent.
        self._spare_lock = threading.Lock()
        self._spare = None
        self._exiting_lock = threading.Lock()
        self._exiting = []
        self._refill_wanted = threading.Event()  # the refiller thread is not in this process

    # -- public ----------------------------------------------------------------

    def worker_starts(self) -> int:
        """How many samples this process has handed to a parse child (for tests and
        metrics); a child may serve several, see ``SCAMSCAN_APK_CHILD_SAMPLES``."""
        return self._starts

    def last_stats(self) -> dict[str, Any]:
        """What the last parse child of this thread reported (for benchmarks and metrics).

        ``mode`` (``warm`` or ``cold``), ``pid`` (warm: the child's), ``peak_rss`` and
        ``start_rss`` (bytes, ``VmHWM`` of this sample's parse and ``VmRSS`` before it;
        0 when unknown), ``warm_imports`` (the child found
        androguard already imported), ``parse_seconds`` (the parse itself, in the child),
        ``elapsed`` (seconds, wall, from the request sent to the facts received, or to the
        child reaped when it failed).
        """
        return dict(getattr(self._stats, "last", {}))

    def start_server(self) -> bool:
        """Start the warm fork server now (else it starts on first use); ``False`` if
        unavailable.

        Safe to call from any thread, and from a process forked from one that already
        started it (such a process gets a server of its own).
        """
        if not warm_available():
            return False
        with self._server_lock:
            from multiprocessing import forkserver

            me = os.getpid()
            if self._server_pid != me:
                if self._server_pid is not None:
                    # Forked from a process that owned a server: that server is not our
                    # child (``waitpid`` fails on it) and its lock may have been held
                    # across the fork, so this process starts a server of its own.
                    forkserver._forkserver = forkserver.ForkServer()
                ctx = _mp().get_context("forkserver")
                ctx.set_forkserver_preload(list(WARM_PRELOAD))
                self._server_pid = me
            # The server inherits this variable when (re)started: its import of
            # scanners._apk_worker then parses a built-in fixture (see warm_up()).
            os.environ[_WARM_ENV] = "1"
            try:
                forkserver.ensure_running()
            finally:
                os.environ.pop(_WARM_ENV, None)
        return True

    def run(self, path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
        """The facts of the single APK at ``path`` (already through the ZIP checks),
        parsed in a child: a warm one when available, else a cold one."""
        if warm_available():
            try:
                self.start_server()
            except (OSError, ValueError, RuntimeError):
                pass
            else:
                return self.run_warm(path, zip_facts, limits)
        return self.run_cold(path, zip_facts, limits)

    def wait_for_idle_child(self, timeout: float = 10.0) -> bool:
        """Wait until the idle child is forked and has finished its warm-up parse (or,
        when it is a reused child, has released the last sample's memory).

        For benchmarks and tests, which time one sample at a time as a server sees
        uploads that do not arrive back to back; a server never waits for it (a
        sample that finds the idle child still warming up is handed to it anyway).
        ``False`` when there is no idle child (``SCAMSCAN_APK_SPARE=0``, no fork
        server) or the wait timed out.
        """
        if not (spare_enabled() and warm_available()):
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._spare_lock:
                spare = self._spare
                if spare is None and not self._refill_wanted.is_set() and not self._refilling:
                    return False  # none asked for (no sample parsed yet), none coming
                if spare is not None and spare.owner == os.getpid():
                    if spare.ready:
                        return True
                    with contextlib.suppress(OSError, EOFError, ValueError):
                        if spare.out.poll(0.005):
                            # The only message an idle child sends (see spare_main).
                            spare.ready = (
                                json.loads(spare.out.recv_bytes()).get("status") == "ready"
                            )
                            continue
            time.sleep(0.002)
        return False

    def drop_idle_child(self) -> None:
        """End the idle pre-forked child, if any (tests, shutdown), and every child that
        has answered but not yet exited."""
        taken = self._take_spare()
        if taken is not None:
            taken.discard()
        self._reap_exiting(block=True)

    # -- the cold path -----------------------------------------------------------

    def run_cold(self, path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
        """The previous path: a ``python -I -c`` child for this sample, request on
        stdin, JSON lines on stdout."""
        request = json.dumps(
            {"path": str(path.resolve()), "limits": limits.to_dict(), "zip": zip_facts.to_dict()}
        ).encode()
        with tempfile.TemporaryDirectory(prefix="scamscan-apk-") as tmp:
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "TMPDIR": tmp,
                "HOME": tmp,
                "LANG": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONHASHSEED": "0",
            }
            self._starts += 1
            started = time.monotonic()
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
                [sys.executable, "-I", "-c", _BOOT, _ROOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=tmp,
                env=env,
                start_new_session=True,
            )
            try:
                out, err = proc.communicate(request, timeout=limits.parse_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                elapsed = time.monotonic() - started
                raise ApkParseIncomplete(
                    f"the app took longer than {limits.parse_timeout:g} s to parse "
                    f"(stopped after {elapsed:.1f} s)",
                    _partial(_last_json(out)),
                ) from None
            except BaseException:
                # Interrupted some other way (a job time limit, shutdown): the child
                # must not outlive the request that started it.
                proc.kill()
                proc.wait()
                raise
        return interpret(_last_json(out), err, proc.returncode, limits)

    # -- the warm path -----------------------------------------------------------

    def run_warm(self, path: Path, zip_facts: ZipFacts, limits: ApkLimits) -> ApkFacts:
        """Parse in a child of the warm server: the idle one if there is one."""
        from multiprocessing import connection

        self._reap_exiting()
        ctx = _mp().get_context("forkserver")
        with tempfile.TemporaryDirectory(prefix="scamscan-apk-", dir=self._scratch_root()) as tmp:
            request: dict[str, Any] = {
                "path": str(path.resolve()),
                "limits": limits.to_dict(),
                "zip": zip_facts.to_dict(),
                "tmp": tmp,
            }
            spare = spare_enabled()
            taken = self._take_spare() if spare else None
            child = taken if taken is not None else Child.fork(ctx)
            served, base = child.served, child.base_rss
            self._starts += 1
            proc, req_w, out_r, err_r = child.process, child.requests, child.out, child.err
            pid = proc.pid
            # Reused for the next sample only as the idle child: without one, a child
            # serves one sample, as before.
            samples = child_samples() if spare else 1
            request["reuse"] = served + 1 < samples
            request["samples_left"] = samples - served
            _drain(err_r)  # what an earlier sample left on stderr is not this one's
            started = time.monotonic()
            msg: dict[str, Any] | None = None
            err = bytearray()
            timed_out = False
            finished = False
            try:
                # A child that died before its request is reported as such below.
                with contextlib.suppress(OSError):
                    req_w.send_bytes(json.dumps(request).encode())
                if not request["reuse"]:
                    req_w.close()
                    if spare:
                        # Forked and warmed up on another core while this child parses;
                        # woken only now, so that its thread cannot hold the GIL while
                        # the request above is still to be sent.
                        self._wake_refiller()
                deadline = started + limits.parse_timeout
                open_conns: list[Any] = [out_r, err_r]
                while open_conns:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        timed_out = True
                        break
                    ready: Any
                    for ready in connection.wait(open_conns, timeout=left):
                        if ready is err_r:
                            chunk = os.read(err_r.fileno(), 65536)  # raw bytes, not messages
                            if chunk:
                                err += chunk[: max(0, 8192 - len(err))]
                                continue
                        else:
                            try:
                                raw = out_r.recv_bytes()
                            except (EOFError, OSError):
                                pass
                            else:
                                with contextlib.suppress(ValueError):
                                    value = orjson.loads(raw)
                                    if isinstance(value, dict) and value.get("status") != "ready":
                                        msg = value
                                if msg is not None and msg.get("status") == "done":
                                    # The facts are in; the child exits or waits now.
                                    finished = True
                                    open_conns.clear()
                                    break
                                continue
                        open_conns.remove(ready)
            finally:
                elapsed = time.monotonic() - started
                rc: int | None = None
                if finished:
                    base = base or int((msg or {}).get("start_rss", 0) or 0)
                    peak = int((msg or {}).get("peak_rss", 0) or 0)
                    reused = (
                        request["reuse"]
                        and base > 0
                        and peak <= base + self.rss_slack
                        and self._give_back(child, served + 1, base)
                    )
                    if not reused:
                        req_w.close()  # a child waiting for more sees the end and exits
                        self._exit_later(child)
                        if request["reuse"] and spare:
                            self._wake_refiller()
                else:
                    # proc.start() itself may have been interrupted: a process that never
                    # started can be neither killed nor joined.
                    if proc.pid is not None:
                        if proc.is_alive():  # timed out, or an error in this loop: no orphan
                            proc.kill()
                        proc.join()
                    rc = proc.exitcode
                    proc.close()
                    for conn in (out_r, err_r, req_w):
                        conn.close()
                    if request["reuse"] and spare:
                        self._wake_refiller()  # this child was to be the next idle one
                self._stats.last = {
                    "mode": "warm",
                    "pid": pid,
                    "peak_rss": int((msg or {}).get("peak_rss", 0) or 0),
                    "start_rss": int((msg or {}).get("start_rss", 0) or 0),
                    "warm_imports": bool((msg or {}).get("warm_imports", False)),
                    "parse_seconds": float((msg or {}).get("parse_seconds", 0.0) or 0.0),
                    "parse_faults": int((msg or {}).get("parse_faults", 0) or 0),
                    "elapsed": elapsed,
                }
        if timed_out:
            raise ApkParseIncomplete(
                f"the app took longer than {limits.parse_timeout:g} s to parse "
                f"(stopped after {elapsed:.1f} s)",
                _partial(msg),
            )
        return interpret(msg, bytes(err), rc, limits)

    # -- the idle child ----------------------------------------------------------

    def _take_spare(self) -> Child | None:
        """The idle child, if there is a live one of this process (its ``served`` and
        ``base_rss`` say how many samples it has served and its RSS before the first)."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is None:
            return None
        if spare.owner != os.getpid():
            return None
        try:
            alive = spare.process.is_alive()
        except Exception:
            alive = False
        if alive:
            return spare
        spare.discard()
        return None

    def _give_back(self, child: Child, served: int, base: int) -> bool:
        """Make a child that answered and waits for more the idle child again; ``False``
        when another idle child is already there (the caller retires this one)."""
        with self._spare_lock:
            if self._spare is not None:
                return False
            child.owner, child.served, child.base_rss = os.getpid(), served, base
            child.ready = False  # until it says so, once its memory is released
            self._spare = child
            return True

    def _refill_spare(self) -> None:
        """Fork the next idle child now, off the caller's critical path (a thread)."""
        with self._spare_lock:
            if self._spare is not None:
                return
            try:
                child = Child.fork(_mp().get_context("forkserver"), prewarm=True)
            except Exception:
                return
            self._spare = child

    def _wake_refiller(self) -> None:
        """Ask the refiller thread for the next idle child. One long-lived thread: a
        new thread per sample costs 0.1 ms and a GIL hand-over on the critical path."""
        if self._refiller_pid != os.getpid():  # first use, or a process forked since
            self._refiller_pid = os.getpid()
            threading.Thread(target=self._refiller, name="scamscan-apk-spare",
                             daemon=True).start()
        self._refill_wanted.set()

    def _refiller(self) -> None:
        me = os.getpid()
        while self._refiller_pid == me:
            self._refill_wanted.wait()
            self._refilling = True
            self._refill_wanted.clear()
            try:
                self._refill_spare()
            except Exception as e:  # the next sample forks its own child
                log.debug("idle parse child not forked: %s", e)
            finally:
                self._refilling = False

    # -- children that answered ------------------------------------------------------

    def _exit_later(self, child: Child) -> None:
        """Let a child that has answered exit on its own time. Its exit (unmapping a copy
        of the warm server) then never delays the answer; its pipes stay open meanwhile,
        so that its last writes cannot fail."""
        with self._exiting_lock:
            self._exiting.append((time.monotonic(), child))

    def _reap_exiting(self, *, block: bool = False) -> None:
        """Release the children of :meth:`_exit_later` that have exited; kill one that
        lingers past :data:`EXIT_GRACE` (or every one, with ``block``). Called before
        each parse, so at most a few are ever waiting."""
        with self._exiting_lock:
            waiting = list(self._exiting)
            self._exiting.clear()
        keep: list[tuple[float, Child]] = []
        now = time.monotonic()
        for when, child in waiting:
            with contextlib.suppress(Exception):  # a broken process is ended below all the same
                if child.process.exitcode is None and not block and now - when < EXIT_GRACE:
                    keep.append((when, child))
                    continue
            child.discard()
        if keep:
            with self._exiting_lock:
                self._exiting.extend(keep)

    def _scratch_root(self) -> str | None:
        """Where the per-sample working directories go: ``/dev/shm`` when it is a
        writable tmpfs (a directory made and removed there costs microseconds; on a
        journalled disk, up to milliseconds per sample), else the default temp dir."""
        if self._scratch is None:
            shm = "/dev/shm"  # noqa: S108 - only a parent for mkdtemp's private (0700) dirs
            ok = os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK)
            self._scratch = shm if ok else ""
        return self._scratch or None


SUPERVISOR = ChildSupervisor()
"""This process's supervisor (the fork server and the idle child are process-wide)."""
