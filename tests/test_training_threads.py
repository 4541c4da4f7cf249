"""The training scripts fit with one BLAS thread, whatever the machine has.

OpenBLAS splits long dot products over the cores, and the order of the partial
sums changes the last bits of the weights: the link model built on 2 cores and
on 1 differed, so ``make model`` was byte for byte only on machines alike. The
test allows 2 threads around each fit and reads, inside the solver's call, how
many the BLAS libraries were given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from eval import train_apk_model, train_message_model, train_url_model


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
