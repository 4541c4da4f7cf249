"""The training toolchain (eval/toolchain.py): one BLAS thread, pinned kernels, pinned
versions, whatever the machine has.

OpenBLAS splits long dot products over the cores and picks its kernels by CPU, and
the order of the partial sums changes the last bits of the weights: the link model
built on 2 cores, on 1, and on other kernels differed, so ``make model`` was byte for
byte only on machines alike. The first test allows 2 threads around each fit and
reads, inside the solver's call, how many the BLAS libraries were given."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

import blocklists
from eval import toolchain, train_apk_model, train_message_model, train_url_model
from eval.urls import CUT_MODEL
from scanners.url_model import MODEL_FILE


@pytest.fixture
def blas_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The largest BLAS thread count seen at each call of ``LogisticRegression.fit``."""
    seen: list[int] = []
    real = LogisticRegression.fit

    def fit(self: LogisticRegression, *args: Any, **kwargs: Any) -> LogisticRegression:
        seen.append(max(d["num_threads"] for d in threadpool_info()
                        if d["user_api"] == "blas"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", fit)
    yield seen


def _url() -> None:
    rows = [["a", "b"], ["a", "c"], ["b", "c"], ["c", "d"]] * 3
    labels = np.array([1, 0, 1, 0] * 3, dtype=np.int8)
    train_url_model._lr(rows, labels, np.ones(len(rows)), 1.0, min_count=1)


def _message() -> None:
    rows = [{"feats": f, "label": y} for f, y in
            [(["a", "b"], 1), (["a", "c"], 0), (["b", "c"], 1), (["c", "d"], 0)] * 3]
    train_message_model._fit(rows, 1.0)


def _apk() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]] * 3)
    y = np.array([1, 0, 1, 0] * 3)
    train_apk_model.fit(x, y, np.zeros(len(y), dtype=np.int64), 1)


@pytest.mark.parametrize("train", [_url, _message, _apk], ids=["url", "message", "apk"])
def test_each_training_script_fits_with_one_blas_thread(
        train: Callable[[], None], blas_threads: list[int]) -> None:
    assert any(d["user_api"] == "blas" for d in threadpool_info())
    with threadpool_limits(limits=2, user_api="blas"):
        # The allowance holds outside the fit (so the check below can fail).
        assert max(d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas") == 2
        train()
    assert blas_threads and all(n == 1 for n in blas_threads)


def test_training_scripts_pin_openblas_kernels_before_numpy_loads() -> None:
    """A fresh process that imports a training script runs OpenBLAS's pinned kernels
    (the CPU's own, SkylakeX here, gave other weights), and says nothing of them."""
    code = ("import eval.train_url_model, eval.train_message_model, eval.train_apk_model\n"
            "from eval import toolchain\n"
            "print(toolchain.describe()['openblas_core'])\n"
            "print(sum('OpenBLAS' in p for p in toolchain.problems()))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    # (The versions are make model's business: make test installs the newest.)
    assert out == [toolchain.CORE, "0"]


def test_the_toolchain_says_when_a_rebuild_will_differ(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pins = toolchain.pinned()
    assert set(pins) == {"numpy", "scikit-learn", "scipy", "threadpoolctl"}
    monkeypatch.setattr(toolchain, "pinned", lambda: {**pins, "scikit-learn": "0.1"})
    monkeypatch.setattr(toolchain, "_blas_cores", lambda: ["SkylakeX"])
    toolchain.warn()
    err = capsys.readouterr().err
    assert "scikit-learn" in err and "built with 0.1" in err
    assert "SkylakeX" in err and toolchain.CORE in err


def test_the_shipped_link_model_records_its_toolchain() -> None:
    for path in (blocklists.data_dir() / MODEL_FILE, CUT_MODEL):
        meta = json.loads(gzip.decompress(path.read_bytes()))["meta"]
        assert meta["toolchain"] == {**toolchain.pinned(), "openblas_core": toolchain.CORE}
