"""The container deployment, for real: ``make deploy-test``.

Builds the image from ``Dockerfile``, brings up ``docker-compose.yml`` (Redis with
a password and AOF, the API, two workers) with ``tests/deploy/compose.test.yml``
over it, and checks over HTTP only (the first admin key excepted, which only
the CLI can make when keys are required):

1. a client key made through ``POST /v1/keys``; a link scan; an APK upload
   (a fixture of ``tests/fixtures/apk``) followed to its report;
2. a second upload whose worker container is killed (SIGKILL) mid-job: the
   scan ends ``done`` on the other worker;
3. the whole stack taken down (containers removed, volumes kept) and brought
   up again: the key still works, the history still lists the scans and
   their reports are still served.

No image registry is reachable on the project's machines, so the base images
are made from Debian packages (``debootstrap``) and imported:
``scamscan-base:bookworm`` (Python 3.11) and ``scamscan-redis:bookworm``
(``redis-server``). They are kept once made. HTTPS from inside a container to
the package index fails there too, so the runtime dependencies are built into
wheels on the host (this interpreter's pip, pinned to its installed versions)
and installed in the image with ``--no-index``.

Needs root (``dockerd``, ``debootstrap``, ``apt-get``). Missing tools are
installed with apt; a ``dockerd`` is started when none answers, and stopped
again at the end. Any failure ends with a message and exit status 1; the
stack is always torn down (``docker-compose down -v``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FIXTURES = ROOT / "tests" / "fixtures" / "apk"
WHEELS = ROOT / "docker" / "wheels"
COMPOSE_FILES = (ROOT / "docker-compose.yml", HERE / "compose.test.yml")
PROJECT = "scamscan-deploy-test"
BASE_IMAGE = "scamscan-base:bookworm"
REDIS_IMAGE = "scamscan-redis:bookworm"
APP_IMAGE = "scamscan:deploy-test"
BUILD_LABEL = "org.scamscan.deploy-test"
MIRROR = "http://deb.debian.org/debian"
DEBIAN_PYTHON = "/usr/bin/python3"
APT_PACKAGES = {"dockerd": "docker.io", "docker-compose": "docker-compose",
                "debootstrap": "debootstrap", DEBIAN_PYTHON: "python3"}
APK_TYPE = "application/vnd.android.package-archive"


class Failed(Exception):
    """A check or a step failed: the message says which."""


class StackDown(Failed):
    """A container the test waits for is gone: no point in waiting longer."""


def log(msg: str) -> None:
    print(f"[deploy-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: Sequence[str], *, env: dict[str, str] | None = None, check: bool = True,
        capture: bool = False, stdin: Any = None, timeout: float = 1800) -> str:
    """Run a command; its output is shown (or returned with ``capture``)."""
    proc = subprocess.run(
        list(cmd), env=env, stdin=stdin, timeout=timeout, text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None, check=False)
    if check and proc.returncode != 0:
        tail = f":\n{proc.stdout[-3000:]}" if capture and proc.stdout else ""
        raise Failed(f"`{' '.join(cmd)}` exited with {proc.returncode}{tail}")
    return proc.stdout or ""


def ok(cmd: Sequence[str]) -> bool:
    return subprocess.run(list(cmd), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    """``probe()`` until it returns something true; :class:`Failed` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except StackDown:
            raise
        except (httpx.HTTPError, Failed) as e:
            value, last = None, e
        if value:
            return value
        time.sleep(every)
    raise Failed(f"timed out after {timeout:.0f} s waiting for {what}"
                 + (f" (last error: {last})" if last else ""))


# --- tools and the Docker engine -----------------------------------------------------


def ensure_tools() -> None:
    missing = sorted({pkg for tool, pkg in APT_PACKAGES.items() if not shutil.which(tool)})
    if not ok([DEBIAN_PYTHON, "-c", "import ensurepip, venv"]):
        missing.append("python3-venv")
    if not missing:
        return
    log(f"installing {' '.join(missing)} with apt")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, capture=True)
    run(["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=600", *missing],
        env=env, capture=True)
    still = [t for t in APT_PACKAGES if not shutil.which(t)]
    if not ok([DEBIAN_PYTHON, "-c", "import ensurepip, venv"]):
        still.append("python3-venv")
    if still:
        raise Failed(f"still missing after apt-get install: {', '.join(still)}")


@contextmanager
def docker_engine(workdir: Path) -> Iterator[None]:
    """A Docker engine that answers: the running one, or a ``dockerd`` started here
    (and stopped on the way out)."""
    if ok(["docker", "info"]):
        yield
        return
    log("starting dockerd")
    logfile = (workdir / "dockerd.log").open("wb")
    daemon = subprocess.Popen(["dockerd"], stdout=logfile,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            wait_for("dockerd to answer", lambda: daemon.poll() is None
                     and ok(["docker", "info"]), timeout=60)
        except Failed:
            tail = (workdir / "dockerd.log").read_text(errors="replace")[-3000:]
            raise Failed(f"dockerd did not start (exit status {daemon.poll()}):\n{tail}"
                         ) from None
        yield
    finally:
        log("stopping the dockerd started here")
        daemon.terminate()
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        logfile.close()


# --- images -------------------------------------------------------------------------


def image_exists(tag: str) -> bool:
    return ok(["docker", "image", "inspect", tag])


def make_base_image(tag: str, packages: Sequence[str], workdir: Path,
                    changes: Sequence[str] = (), data_owner: str | None = None) -> None:
    """``debootstrap --variant=minbase bookworm`` with ``packages``, imported as ``tag``;
    nothing done when the image exists. ``data_owner``: a user of the new system that
    gets an empty ``/data``."""
    if image_exists(tag):
        log(f"{tag}: present")
        return
    started = time.monotonic()
    rootfs = workdir / tag.replace(":", "_")
    log(f"{tag}: debootstrap bookworm with {', '.join(packages)}")
    try:
        run(["debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
             "bookworm", str(rootfs), MIRROR], capture=True)
    finally:
        unmount_below(rootfs)  # a failed debootstrap may leave /proc and /sys mounted
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for f in (rootfs / cache).glob("*"):
            if f.is_file():
                f.unlink()
    if data_owner is not None:
        entry = next(line.split(":") for line in (rootfs / "etc/passwd").read_text().splitlines()
                     if line.split(":")[0] == data_owner)
        (rootfs / "data").mkdir(exist_ok=True)
        os.chown(rootfs / "data", int(entry[2]), int(entry[3]))
    tarball = workdir / "rootfs.tar"
    with tarfile.open(tarball, "w") as tar:
        tar.add(rootfs, arcname=".")
    args = ["docker", "import"]
    for change in changes:
        args += ["--change", change]
    run([*args, str(tarball), tag], capture=True)
    tarball.unlink()
    shutil.rmtree(rootfs)
    log(f"{tag}: made in {time.monotonic() - started:.0f} s")


def unmount_below(root: Path) -> None:
    """Unmount whatever is mounted under ``root``, deepest first, so that deleting it
    can never reach into a mounted file system."""
    prefix = str(root.resolve()) + "/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        run(["umount", "-l", point], check=False, capture=True)


def build_wheels(python: str, workdir: Path) -> None:
    """The runtime dependencies as wheels in ``docker/wheels`` (plus setuptools, which
    ``pip install .`` needs to build the project offline), pinned to the versions
    installed beside ``python``: the image runs what the tests ran.

    The wheels are made by Debian's ``/usr/bin/python3`` (3.11.2, in a throw-away
    venv), the interpreter of the base image: dependencies with environment markers
    (``python_full_version < "3.11.3"``) then resolve as they will in the image."""
    clear_wheels()
    frozen = run([python, "-m", "pip", "freeze", "--exclude-editable"], capture=True)
    constraints = workdir / "constraints.txt"
    constraints.write_text("\n".join(line for line in frozen.splitlines()
                                     if "==" in line and " @ " not in line) + "\n")
    log("wheels of the runtime dependencies (Debian's python3 and pip, on the host)")
    venv = workdir / "wheel-venv"
    run([DEBIAN_PYTHON, "-m", "venv", str(venv)], capture=True)
    # The dependencies named in pyproject.toml, not the project itself: the Dockerfile
    # builds that from its sources (and a build here would leave build/ in the checkout).
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    run([str(venv / "bin" / "python"), "-m", "pip", "wheel", "--disable-pip-version-check",
         "-q", "-w", str(WHEELS), "-c", str(constraints), *deps, "setuptools", "wheel"],
        capture=True)


def clear_wheels() -> None:
    for f in WHEELS.glob("*.whl"):
        f.unlink()


def build_app_image() -> None:
    started = time.monotonic()
    log(f"building {APP_IMAGE} on {BASE_IMAGE}")
    run(["docker", "build", "-q", "--force-rm", "--label", BUILD_LABEL, "-t", APP_IMAGE,
         "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
         "--build-arg", "PIP_INSTALL_OPTS=--no-index --find-links /wheels", str(ROOT)],
        capture=True)
    # The images of earlier runs, untagged by this one (and their layers): only ours.
    run(["docker", "image", "prune", "-f", "--filter", f"label={BUILD_LABEL}"], capture=True)
    log(f"{APP_IMAGE}: built in {time.monotonic() - started:.0f} s")


# --- the stack ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Stack:
    """``docker-compose`` on the project's files, with this run's variables."""

    def __init__(self, port: int, password: str) -> None:
        self.port = port
        self.env = {**os.environ, "REDIS_PASSWORD": password,
                    "API_BIND": f"127.0.0.1:{port}"}

    def compose(self, *args: str, capture: bool = False, check: bool = True) -> str:
        files = [a for f in COMPOSE_FILES for a in ("-f", str(f))]
        return run(["docker-compose", "-p", PROJECT, *files, *args], env=self.env,
                   capture=capture, check=check, timeout=600)

    def up(self) -> None:
        self.compose("up", "-d", "--no-build", "--scale", "worker=2", capture=True)

    def down(self, *, volumes: bool) -> None:
        self.compose("down", "--remove-orphans", *(["-v"] if volumes else []), capture=True)

    def containers(self, service: str) -> list[str]:
        out = self.compose("ps", "-q", service, capture=True)
        return [c for c in out.split() if c]

    def logs(self, container: str) -> str:
        return run(["docker", "logs", container], capture=True, check=False)


def ready(c: httpx.Client, stack: Stack) -> bool:
    """``/readyz`` answers 200; :class:`Failed` at once if the API container stopped."""
    for container in stack.containers("api"):
        state = run(["docker", "inspect", "-f", "{{.State.Status}}", container],
                    capture=True, check=False).strip()
        if state in ("exited", "dead"):
            raise StackDown(f"the api container {state}")
    return c.get("/readyz").status_code == 200


def admin_key(stack: Stack) -> str:
    """The first admin key: only the CLI can make it when keys are required."""
    out = stack.compose("exec", "-T", "api", "scamscan", "keys", "create", "--role", "admin",
                        "--name", "deploy-test-admin", "--json", capture=True)
    line = next((ln for ln in out.splitlines() if ln.startswith("{")), None)
    if line is None:
        raise Failed(f"`scamscan keys create` printed no key: {out!r}")
    key: str = json.loads(line)["key"]
    return key


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise Failed(what)


def upload(c: httpx.Client, fixture: str) -> dict[str, Any]:
    path = FIXTURES / fixture
    r = c.post("/v1/apk-scans", files={"file": (fixture, path.read_bytes(), APK_TYPE)})
    expect(r.status_code in (200, 202), f"upload of {fixture}: {r.status_code} {r.text}")
    body: dict[str, Any] = r.json()
    return body


def scan_status(c: httpx.Client, scan_id: str) -> dict[str, Any]:
    r = c.get(f"/v1/scans/{scan_id}")
    expect(r.status_code == 200, f"GET /v1/scans/{scan_id}: {r.status_code} {r.text}")
    body: dict[str, Any] = r.json()
    return body


def finished(c: httpx.Client, scan_id: str, timeout: float) -> dict[str, Any]:
    body: dict[str, Any] = wait_for(
        f"APK scan {scan_id} to finish",
        lambda: (b := scan_status(c, scan_id))["status"] in ("done", "failed") and b,
        timeout=timeout)
    expect(body["status"] == "done", f"APK scan {scan_id} ended {body['status']}: "
           f"{body.get('reason')}")
    expect(bool(body.get("report", {}).get("verdict")), f"scan {scan_id}: no verdict: {body}")
    return body


def check_stack(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.port}"
    with httpx.Client(base_url=base, timeout=30) as anon:
        wait_for("the API to be ready (/readyz)", lambda: ready(anon, stack), timeout=180, every=2)
        log("API ready")
        r = anon.post("/v1/url-scans", json={"url": "dichvucong.hgov.cc"})
        expect(r.status_code == 401, f"a keyless scan was not refused: {r.status_code}")
        expect(r.headers.get("content-type", "").startswith("application/problem+json"),
               f"the refusal is not problem+json: {r.headers}")

    admin = admin_key(stack)
    with httpx.Client(base_url=base, timeout=30, headers={"X-API-Key": admin}) as c:
        r = c.post("/v1/keys", json={"name": "deploy-test-client", "role": "client"})
        expect(r.status_code == 201, f"POST /v1/keys: {r.status_code} {r.text}")
        client_key = r.json()["key"]
    log("keys made (admin by the CLI, client over HTTP)")

    with httpx.Client(base_url=base, timeout=60, headers={"X-API-Key": client_key}) as c:
        r = c.post("/v1/url-scans", json={"url": "dichvucong.hgov.cc"})
        expect(r.status_code == 200, f"link scan: {r.status_code} {r.text}")
        url_scan = r.json()
        expect(url_scan["verdict"] in ("suspicious", "dangerous"),
               f"a fake Dịch vụ công host got {url_scan['verdict']}")
        log(f"link scan: {url_scan['verdict']} ({url_scan['risk_score']})")

        first = upload(c, "fake_vneid.apk")
        done = finished(c, first["scan_id"], timeout=180)
        log(f"APK scan: {done['report']['verdict']}")

        # Kill the worker container running the next scan (it naps in the job first).
        # The other worker is paused while the job is handed out, so which one
        # runs it is known without asking the workers.
        workers = stack.containers("worker")
        expect(len(workers) == 2, f"expected 2 worker containers, found {workers}")
        victim, other = workers
        run(["docker", "pause", other], capture=True)
        try:
            second = upload(c, "benign_notes.apk")
            sid = second["scan_id"]
            wait_for(f"scan {sid} to run", lambda: scan_status(c, sid)["status"] == "running",
                     timeout=120, every=0.5)
        finally:
            run(["docker", "unpause", other], capture=True)
        run(["docker", "kill", victim], capture=True)
        log(f"killed worker {victim[:12]} in the middle of scan {sid}")
        finished(c, sid, timeout=240)
        expect(f"{sid} done" in stack.logs(other),
               f"scan {sid} finished, but not on the other worker")
        expect(f"{sid} done" not in stack.logs(victim),
               f"scan {sid} was finished by the worker that was to be killed mid-job")
        log("the other worker finished the scan")

    log("restarting the whole stack (containers removed, volumes kept)")
    stack.down(volumes=False)
    stack.up()
    with httpx.Client(base_url=base, timeout=60, headers={"X-API-Key": client_key}) as c:
        wait_for("the API to be ready again", lambda: ready(c, stack), timeout=180, every=2)
        r = c.get("/v1/scans", params={"per_page": 100})
        expect(r.status_code == 200, f"history after the restart: {r.status_code} {r.text}")
        ids = {item["scan_id"] for item in r.json()["items"]}
        want = {url_scan["scan_id"], first["scan_id"], sid}
        expect(want <= ids, f"history after the restart lacks {want - ids}")
        for scan_id in (first["scan_id"], sid):
            body = scan_status(c, scan_id)
            expect(body["status"] == "done" and bool(body.get("report")),
                   f"scan {scan_id} after the restart: {body}")
        body = scan_status(c, url_scan["scan_id"])
        expect(body.get("report", {}).get("verdict") == url_scan["verdict"],
               f"link scan after the restart: {body}")
        log("after the restart: the key works, history and reports are there")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter whose pip builds the wheels (default: this one)")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("deploy-test: needs root (dockerd, debootstrap, apt-get)", file=sys.stderr)
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"deploy-test: interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="scamscan-deploy-") as tmp:
            work = Path(tmp)
            ensure_tools()
            with docker_engine(work):
                make_base_image(BASE_IMAGE, ["python3", "python3-venv"], work)
                make_base_image(REDIS_IMAGE, ["redis-server"], work,
                                changes=["USER redis", "WORKDIR /data",
                                         'CMD ["redis-server"]'],
                                data_owner="redis")
                try:
                    build_wheels(args.python, work)
                    build_app_image()
                finally:
                    clear_wheels()
                stack = Stack(free_port(), secrets.token_hex(24))
                try:
                    stack.down(volumes=True)  # what an interrupted run left
                    log(f"starting the stack (API on 127.0.0.1:{stack.port})")
                    stack.up()
                    check_stack(stack)
                except Failed:
                    for svc in ("api", "worker", "redis"):
                        print(f"--- logs of {svc} ---", file=sys.stderr)
                        print(stack.compose("logs", "--no-color", "--tail", "40", svc,
                                            capture=True, check=False)[-6000:],
                              file=sys.stderr)
                    raise
                finally:
                    log("tearing down the stack")
                    try:
                        stack.down(volumes=True)
                    except Failed as e:
                        print(f"deploy-test: teardown failed: {e}", file=sys.stderr)
    except (Failed, subprocess.TimeoutExpired, OSError) as e:
        print(f"deploy-test FAILED: {e}", file=sys.stderr)
        return 1
    log(f"deploy-test passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
