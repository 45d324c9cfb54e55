"""MSTL: several seasonal patterns removed (statsmodels' MSTL), the rest smoothed (our AutoETS)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import MSTL as SM_MSTL

from genlib.forecast.auto import AutoForecaster
from genlib.forecast.ets import AutoETS
from genlib.forecast.mstl import MSTL, seasonal_periods
from genlib.forecast.registry import get_model


def hourly(weeks: int = 6, seed: int = 0, noise: float = 0.3) -> tuple[pd.DataFrame, np.ndarray]:
    """A daily cycle plus quieter weekends; returns the table and the next week's truth."""
    t = np.arange(168 * (weeks + 1))
    signal = 50 + 5 * np.sin(2 * np.pi * t / 24) + 8 * (t % 168 >= 120) + 0.01 * t
    y = signal + np.random.default_rng(seed).normal(0, noise, t.size)
    n = 168 * weeks
    df = pd.DataFrame({"unique_id": "load", "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                       "y": y[:n]})
    return df, signal[n:]


def test_periods_follow_the_frequency():
    assert seasonal_periods(24) == (24, 168) and seasonal_periods(7) == (7, 365)
    assert seasonal_periods(12) == (12,) and seasonal_periods(1) == ()


def test_decomposition_is_statsmodels_and_the_rest_is_our_ets():
    df, _ = hourly()
    model = MSTL().fit(df)
    y = df["y"].to_numpy()
    seasonal = np.asarray(SM_MSTL(y, periods=(24, 168)).fit().seasonal)
    np.testing.assert_allclose(model.seasonal_[0][0][1], seasonal[:, 0])
    np.testing.assert_allclose(model.seasonal_[0][1][1], seasonal[:, 1])
    rest = pd.DataFrame({"unique_id": "load", "ds": np.arange(len(y)), "y": y - seasonal.sum(axis=1)})
    ets = AutoETS(seasons=("N",), max_train_length=None, season_length=1).fit(rest).predict(24)
    fc = model.predict(24)
    back = seasonal[len(y) - 24:, 0] + seasonal[len(y) - 168:len(y) - 144, 1]   # last cycles
    np.testing.assert_allclose(fc["mean"].to_numpy(), ets["mean"].to_numpy() + back, rtol=1e-9)
    # the bands are the smoothing's bands around the same shift
    np.testing.assert_allclose((fc["hi-80"] - fc["mean"]).to_numpy(),
                               (ets["hi-80"] - ets["mean"]).to_numpy(), rtol=1e-9)


def test_two_patterns_beat_one_on_a_week_with_quiet_weekends():
    df, truth = hourly()
    errors = {name: np.abs(get_model(name).fit(df).predict(168)["mean"].to_numpy() - truth).mean()
              for name in ("mstl", "ets", "seasonal_naive")}
    assert errors["mstl"] < 0.5 * min(errors["ets"], errors["seasonal_naive"]), errors


def test_short_series_keep_the_patterns_they_cover_twice_and_flat_ones_work():
    df, _ = hourly(weeks=1)                         # one week: only the daily pattern fits twice
    model = MSTL().fit(df)
    assert model.periods_["load"] == (24,)
    assert "every day" in model.describe("load") and "week" not in model.describe("load")
    flat = df.assign(y=3.0)
    fc = MSTL().fit(flat).predict(5)
    np.testing.assert_allclose(fc["mean"], 3.0)
    assert MSTL().fit(hourly()[0]).describe("load").endswith(
        "the patterns every day and every week taken out, the rest forecast by exponential smoothing")


@pytest.mark.parametrize("freq, tried", [("h", True), ("MS", False)])
def test_auto_tries_mstl_only_where_there_are_two_patterns(freq, tried):
    n = 400 if freq == "h" else 96
    t = np.arange(n)
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=n, freq=freq),
                       "y": 10 + np.sin(2 * np.pi * t / 24) + 0.01 * t})
    auto = AutoForecaster(candidates=("seasonal_naive", "mstl"), h=12, budget=None).fit(df)
    assert ("mstl" in auto.scores_.columns) is tried
