"""Metrics against hand-computed values, and the official M4 benchmark scores on the real data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genlib.forecast import metrics as M
from genlib.forecast.baselines import naive, naive2, seasonal_naive, seasonal_indices, seasonality_test

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_point_errors_by_hand():
    y, f = np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 33.0])
    assert M.mae(y, f) == pytest.approx(7 / 3)
    assert M.rmse(y, f) == pytest.approx(np.sqrt((4 + 4 + 9) / 3))
    assert M.mape(y, f) == pytest.approx(100 * (0.2 + 0.1 + 0.1) / 3)
    assert M.smape(y, f) == pytest.approx(200 / 3 * (2 / 22 + 2 / 38 + 3 / 63))


def test_scaled_errors_by_hand():
    history = np.array([1.0, 3.0, 2.0, 5.0, 4.0])     # lag-1 |diffs|: 2 1 3 1 → 1.75
    y, f = np.array([6.0, 8.0]), np.array([5.0, 5.0])  # MAE 2, MSE 5
    assert M.mase(y, f, history, 1) == pytest.approx(2 / 1.75)
    assert M.rmsse(y, f, history, 1) == pytest.approx(np.sqrt(5 / ((4 + 1 + 9 + 1) / 4)))
    # seasonal scale, m = 2: |2-1|, |5-3|, |4-2| → 5/3
    assert M.mase(y, f, history, 2) == pytest.approx(2 / (5 / 3))
    # a history no longer than one season falls back to m = 1
    assert M.naive_scale(history, 9) == pytest.approx(1.75)
    assert np.isnan(M.naive_scale(np.ones(5), 1))


def test_edge_cases():
    assert M.smape([0.0, 1.0], [0.0, 1.0]) == 0.0            # 0/0 counts as a perfect step
    assert M.mape([0.0, 100.0], [5.0, 90.0]) == pytest.approx(10.0)   # zero actual skipped
    assert np.isnan(M.mape([0.0], [1.0]))


def test_batch_rows_match_single_series():
    rng = np.random.default_rng(0)
    y, f = rng.uniform(1, 10, (4, 6)), rng.uniform(1, 10, (4, 6))
    for fn in (M.mae, M.rmse, M.mape, M.smape):
        assert np.allclose(fn(y, f), [fn(a, b) for a, b in zip(y, f)])


def test_interval_scores_by_hand():
    y = np.array([1.0, 5.0, 10.0, 3.0])
    lo, hi = np.array([0.0, 0.0, 0.0, 4.0]), np.array([2.0, 4.0, 12.0, 6.0])
    assert M.coverage(y, lo, hi) == 50.0
    # pinball at tau: max(tau·d, (tau−1)·d), d = y − q
    assert M.pinball([10.0], [8.0], 0.9) == pytest.approx(1.8)
    assert M.pinball([10.0], [12.0], 0.9) == pytest.approx(0.2)
    # MSIS for 95 %: width + 40·miss, scaled by the naive MAE of the history (1)
    assert M.msis([5.0, 0.0], [4.0, 1.0], [6.0, 2.0], [1.0, 2.0, 3.0], 1, 95) == pytest.approx(
        (2 + (1 + 40 * 1)) / 2)
    # CRPS from one 80 % band: 2 × mean of pinball at 0.5 (mean), 0.1 (lo), 0.9 (hi)
    got = M.crps_from_bands([3.0], [2.0], [[1.0]], [[4.0]], [80])
    assert got == pytest.approx(2 * np.mean([0.5, 0.1 * 2, 0.1 * 1]))


def test_crps_of_gaussian_bands_approaches_closed_form():
    from statistics import NormalDist
    levels = np.arange(2, 99, 2)
    rng = np.random.default_rng(1)
    y = rng.normal(size=4000)
    z = np.array([NormalDist().inv_cdf(0.5 + lv / 200) for lv in levels])
    lows = [np.full_like(y, -zz) for zz in z]
    highs = [np.full_like(y, zz) for zz in z]
    got = M.crps_from_bands(y, np.zeros_like(y), lows, highs, levels)
    # closed form for N(0,1) forecasts of N(0,1) data: E CRPS = 1/√π·(√2 − 1)… ≈ 0.5854
    exact = np.mean(y * (2 * np.vectorize(NormalDist().cdf)(y) - 1)
                    + 2 * np.vectorize(NormalDist().pdf)(y) - 1 / np.sqrt(np.pi))
    assert got == pytest.approx(exact, rel=0.03)


def test_owa_by_hand():
    assert M.owa(9.0, 2.0, 10.0, 2.5) == pytest.approx(0.5 * (0.9 + 0.8))


def test_seasonality_test_and_decomposition():
    t = np.arange(144.0)
    pattern = 1 + 0.3 * np.sin(2 * np.pi * t / 12)
    y = (100 + t) * pattern
    assert seasonality_test(y, 12)
    assert not seasonality_test(np.random.default_rng(0).normal(10, 1, 144), 12)
    s = seasonal_indices(y, 12)
    assert s.shape == y.shape and np.mean(s[:12]) == pytest.approx(1.0)
    assert np.allclose(s[:12], pattern[:12], atol=0.02)
    # Naive2 puts the season back on the last adjusted value
    f = naive2(y, 12, 12)
    assert np.allclose(f / f.mean(), s[-12:] / s[-12:].mean(), atol=1e-9)


def _m4(name):
    if not DATA.is_dir():
        pytest.skip("../shared/data is not here (it only exists on the project's own machines)")
    folder = DATA / "m4_hourly_weekly"
    train = pd.read_csv(folder / f"{name}-train.csv", index_col=0)
    test = pd.read_csv(folder / f"{name}-test.csv", index_col=0)
    return ([r.dropna().to_numpy(float) for _, r in train.iterrows()],
            [r.dropna().to_numpy(float) for _, r in test.iterrows()])


def _score(train, test, forecast, m):
    fc = [forecast(y, len(yt)) for y, yt in zip(train, test)]
    s = [M.smape(yt, f) for yt, f in zip(test, fc)]
    q = [M.mase(yt, f, y, m) for y, yt, f in zip(train, test, fc)]
    return round(float(np.mean(s)), 3), round(float(np.mean(q)), 3)


def test_official_m4_hourly_benchmarks():
    """Naive, seasonal naive and Naive2 on all 414 M4 Hourly series: the published scores."""
    train, test = _m4("Hourly")
    assert _score(train, test, lambda y, h: naive(y, h)[0], 24) == (43.003, 11.608)
    assert _score(train, test, lambda y, h: seasonal_naive(y, h, 24)[0], 24) == (13.912, 1.193)
    assert _score(train, test, lambda y, h: naive2(y, h, 24), 24) == (18.383, 2.395)


def test_official_m4_weekly_naive():
    train, test = _m4("Weekly")
    assert _score(train, test, lambda y, h: naive(y, h)[0], 1) == (9.161, 2.777)
