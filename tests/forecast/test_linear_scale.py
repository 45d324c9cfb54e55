"""Linear AR on large panels: the batched fit equals the per-series rules, worker processes and
the GPU change nothing. Speed is measured in bench/forecast_scale.py, never asserted here."""
from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
import torch

from genlib.forecast import AR, linear
from genlib.forecast.linear import (choose_differencing, choose_differencing_batch, default_max_p,
                                    difference, fit_ar_batch, fit_panel, is_stationary, kpss_batch,
                                    kpss_statistic, seasonal_strength, seasonal_strength_batch)

M = 12


def panel(count: int, lo: int, hi: int, seed: int = 0) -> list[np.ndarray]:
    """Mixed AR(1), AR(2), seasonal, trending random-walk series of varied lengths."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        n = int(rng.integers(lo, hi + 1))
        e = rng.normal(size=n + 50)
        t = np.arange(n + 50)
        if k % 4 == 0:
            y = np.zeros(n + 50)
            for i in range(1, n + 50):
                y[i] = 0.6 * y[i - 1] + e[i]
        elif k % 4 == 1:
            y = np.zeros(n + 50)
            for i in range(2, n + 50):
                y[i] = 0.5 * y[i - 1] - 0.3 * y[i - 2] + e[i]
        elif k % 4 == 2:
            y = 4 * np.sin(2 * np.pi * t / M + k) + 0.05 * t + e
        else:
            y = np.cumsum(e + 0.3)
        out.append(100 + y[50:])
    return out


def long(series: list[np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": np.repeat([f"s{i:05d}" for i in range(len(series))],
                                                [len(y) for y in series]),
                         "ds": np.concatenate([np.arange(len(y)) for y in series]),
                         "y": np.concatenate(series)})


def one_at_a_time(y: np.ndarray, m: int):
    """The per-series path: the scalar differencing rules, then least squares on this series alone."""
    d, D = choose_differencing(y, m)
    D = 0 if D and len(y) < m + 8 else D
    z = difference(y, d, D, m)
    order, c, phi, s2 = fit_ar_batch([z], np.array([default_max_p(len(z), m)]), np.array([d + D < 2]))
    if not is_stationary(phi)[0]:       # it would run away: the mean change
        c = np.array([z.mean() if d + D < 2 else 0.0])
        return d, D, 0, c[0], phi[0, :0], np.mean((z - c[0]) ** 2), True
    return d, D, int(order[0]), c[0], phi[0, :order[0]], s2[0], False


@pytest.fixture(scope="module")
def series():
    return panel(60, 30, 300, seed=1)


def left_aligned(series: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    Y = np.zeros((len(series), max(map(len, series))))
    for i, y in enumerate(series):
        Y[i, :len(y)] = y
    return torch.from_numpy(Y), torch.tensor([len(y) for y in series])


def test_batched_differencing_equals_per_series(series):
    d, D = choose_differencing_batch(*left_aligned(series), M)
    ref = [choose_differencing(y, M) for y in series]
    assert list(zip(d.long().tolist(), D.long().tolist())) == ref
    assert {r for r in ref} >= {(0, 0), (1, 0), (0, 1)}     # the panel exercises each rule


def test_batched_rules_equal_the_per_series_rules(series):
    Y, n = left_aligned(series)
    kpss = kpss_batch(Y, n)
    for m in (M, 7, 4):                                         # even and odd periods
        strength = seasonal_strength_batch(Y, n, m)
        for i, y in enumerate(series):
            assert float(strength[i]) == pytest.approx(seasonal_strength(y, m), rel=1e-9, abs=1e-12)
    for i, y in enumerate(series):
        assert float(kpss[i]) == pytest.approx(kpss_statistic(y), rel=1e-9)


def test_batched_fit_equals_per_series_fit(series):
    model = AR(season_length=M, device="cpu").fit(long(series))
    for i, y in enumerate(series):
        d, D, p, c, phi, s2, explosive = one_at_a_time(y, M)
        uid = f"s{i:05d}"
        assert (uid in model.notes_) == explosive
        assert model.differences_[uid] == (d, D) and model.order_[uid] == p
        np.testing.assert_allclose(model.intercept_[i], c, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(model.coef_[i], phi, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(model.sigma2_[i], s2, rtol=1e-6)
    together = model.predict(8)
    for i in (0, 1, 2, 3, 17, 42):
        alone = AR(season_length=M, device="cpu").fit(long([series[i]])).predict(8)
        mine = together[together["unique_id"] == f"s{i:05d}"]
        for col in ("mean", "lo-80", "hi-95"):
            np.testing.assert_allclose(mine[col].to_numpy(), alone[col].to_numpy(), rtol=1e-6)


def test_small_batches_equal_one_batch(series, monkeypatch):
    settings = {"p": None, "max_p": None, "d": None, "D": None, "ic": "aic"}
    whole = fit_panel(series, M, settings)
    monkeypatch.setitem(linear.BLOCK_VALUES, "cpu", 1500)      # a handful of series per batch
    parts = fit_panel(series, M, settings)
    for k in whole:
        np.testing.assert_allclose(parts[k], whole[k], rtol=1e-9, atol=1e-12)


def test_worker_processes_give_the_same_fit(series, monkeypatch):
    pools = []

    class Spy(linear.cf.ProcessPoolExecutor):
        def __init__(self, *a, **k):
            pools.append(a)
            super().__init__(*a, **k)

    monkeypatch.setattr(linear, "cf", types.SimpleNamespace(ProcessPoolExecutor=Spy))
    monkeypatch.setitem(linear.BLOCK_VALUES, "cpu", 3000)      # several batches to share out
    monkeypatch.setattr(linear, "WORKERS_FROM", 0)              # workers even for a small panel
    one = AR(season_length=M, device="cpu").fit(long(series))
    two = AR(season_length=M, device="cpu", n_jobs=2).fit(long(series))
    assert len(pools) == 1 and pools[0][0] == 2                 # the fit really used two workers
    assert two.order_ == one.order_ and two.differences_ == one.differences_
    np.testing.assert_allclose(two.predict(6)["hi-95"], one.predict(6)["hi-95"], rtol=1e-12)


def test_bad_n_jobs_explains_itself(series):
    with pytest.raises(Exception, match="n_jobs"):
        AR(n_jobs=0).fit(long(series[:2]))


def test_small_panels_start_no_workers(series, monkeypatch):
    monkeypatch.setattr(linear, "cf", None)                    # a pool would fail here
    AR(season_length=M, device="cpu", n_jobs=-1).fit(long(series))


def test_five_thousand_short_series_forecast():
    series = panel(5000, 20, 40, seed=3)
    fc = AR(season_length=M, device="cpu").fit(long(series)).predict(6)
    assert len(fc) == 5000 * 6
    assert np.isfinite(fc[["mean", "lo-95", "hi-95"]].to_numpy()).all()
    assert (fc["lo-95"] < fc["mean"]).all() and (fc["mean"] < fc["hi-95"]).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none visible to PyTorch)")
def test_gpu_fit_equals_cpu_fit(series):
    cpu = AR(season_length=M, device="cpu").fit(long(series))
    gpu = AR(season_length=M, device="cuda").fit(long(series))
    assert gpu.order_ == cpu.order_ and gpu.differences_ == cpu.differences_
    np.testing.assert_allclose(gpu.predict(6)["hi-95"], cpu.predict(6)["hi-95"], rtol=1e-6)
