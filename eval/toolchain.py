"""The training toolchain, fixed so that ``make model`` writes the committed bytes.

Import this module **before numpy** (the training scripts import it first).

A fit's last bits depend on more than the data and the seed: the solver's dot
products go through OpenBLAS, whose kernels differ by CPU (it picks them at load
time) and whose threads split long vectors by the core count. On this project's
machine the link model's validation fit kept 81,652 weights on the SkylakeX
kernels, 81,653 on Nehalem's and 81,655 on two threads (docs/evaluation.md,
"The same bytes on any x86-64 machine"). So the scripts

* pin OpenBLAS to :data:`CORE` (``OPENBLAS_CORETYPE``, read when the library
  loads: hence the import order), a kernel set every x86-64 CPU runs;
* fit with one BLAS thread (:func:`one_blas_thread` around each fit);
* expect the versions of :data:`CONSTRAINTS` (``make model`` installs them), and
  :func:`warn` says on stderr when any of this does not hold, since a rebuild will
  then differ from the committed file. The link model records :func:`describe` in
  its meta.

Other architectures (aarch64) run other kernels: their rebuilds may differ in the
last bits whatever is pinned here.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

CORE = "Nehalem"
"""The OpenBLAS kernel set of every build (SSE4.2: any x86-64 CPU since 2008)."""
os.environ.setdefault("OPENBLAS_CORETYPE", CORE)

CONSTRAINTS = Path(__file__).resolve().parent / "model-constraints.txt"
"""The exact versions that wrote the committed models (pip's constraints format)."""


def pinned() -> dict[str, str]:
    """Package → version, from :data:`CONSTRAINTS`."""
    out: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out[name.strip()] = version.strip()
    return out


def _blas_cores() -> list[str]:
    """The kernel set of each OpenBLAS loaded in this process."""
    from threadpoolctl import threadpool_info  # after numpy and scipy are loaded

    return sorted({str(d.get("architecture")) for d in threadpool_info()
                   if d.get("internal_api") == "openblas"})


def describe() -> dict[str, str]:
    """The versions of :data:`CONSTRAINTS`'s packages installed, and the BLAS kernels."""
    out = {name: metadata.version(name) for name in sorted(pinned())}
    out["openblas_core"] = ",".join(_blas_cores())
    return out


def problems() -> list[str]:
    """How this process differs from the toolchain of the committed models."""
    out = [f"{name} {metadata.version(name)} is installed, the models were built with "
           f"{version}" for name, version in pinned().items()
           if metadata.version(name) != version]
    cores = _blas_cores()
    if cores != [CORE]:
        out.append(f"OpenBLAS runs the {', '.join(cores) or 'no'} kernels, not {CORE}'s "
                   "(OPENBLAS_CORETYPE is read when numpy loads: import eval.toolchain "
                   "first)")
    return out


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread: each training script fits in one.

    OpenBLAS splits long dot products over the machine's cores, and the order of the
    partial sums changes the last bits of the weights, and so the file, with the core
    count (a 2-core and a 1-core build of the link model differed)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def warn() -> None:
    """Say on stderr why a rebuild may differ from the committed file, if it may."""
    for p in problems():
        print(f"toolchain: {p}; the model may differ from the committed bytes "
              "(make model installs eval/model-constraints.txt)", file=sys.stderr)
