"""A day of more than 24 steps (half-hourly, 15-minute readings: `freq.long_day`): ETS and Theta
take the daily pattern out first instead of forecasting a flat line, as R's and statsforecast's
ETS do beyond 24 steps and as M4's seasonality test (capped at R's acf lag limit) made Theta do."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlib.forecast import Theta
from genlib.forecast.baselines import seasonality_test
from genlib.forecast.ets import AutoETS
from genlib.freq import long_day


def readings(freq: str, days: int, level: float = 30.0, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A load with a daily shape and noise: history of `days` days, and the next day."""
    per_day = int(pd.Timedelta("1D") / pd.tseries.frequencies.to_offset(freq))
    n = per_day * (days + 1)
    t = pd.date_range("2024-03-04", periods=n, freq=freq)
    hour = (t.hour + t.minute / 60).to_numpy()
    y = level + 8 * np.sin(2 * np.pi * (hour - 6) / 24) + 3 * np.cos(4 * np.pi * hour / 24)
    y = y + np.random.default_rng(seed).normal(0, 0.8, n)
    df = pd.DataFrame({"unique_id": "load", "ds": t[:-per_day], "y": y[:-per_day]})
    return df, y[-per_day:]


@pytest.mark.parametrize("freq, level", [("30min", 30.0), ("15min", 30.0), ("30min", 0.0)])
@pytest.mark.parametrize("model", [AutoETS, Theta])
def test_the_daily_pattern_of_half_hours_is_forecast(model, freq, level):
    """Before, both forecast a flat line (mean error about 6, the pattern's size); now about the
    noise (0.8). A series that crosses zero has the additive pattern taken out."""
    df, future = readings(freq, 20, level)
    fitted = model(freq=freq).fit(df)
    fc = fitted.predict(len(future), (80,))
    error = np.mean(np.abs(fc["mean"].to_numpy() - future))
    flat = np.mean(np.abs(np.mean(df["y"].to_numpy()[-len(future):]) - future))
    assert flat > 4 and error < 1.3, (error, flat)
    held = np.mean((fc["lo-80"].to_numpy() <= future) & (future <= fc["hi-80"].to_numpy()))
    assert held > 0.6                       # the bands follow the pattern, not a flat line's spread


def test_the_sentence_names_the_pattern_taken_out():
    df, _ = readings("30min", 20)
    assert AutoETS(freq="30min").fit(df).describe("load") == (
        "Exponential smoothing (ETS) with no trend and the pattern every 24 hours taken out first")
    assert Theta(freq="30min").fit(df).describe("load") == "Theta method (season removed first)"


def test_hourly_and_weekly_data_are_as_before():
    """R's limits stay where M4 set them: a day of 24 hours is an ETS season, and a week's 52-step
    year keeps the acf lag limit (M4 Weekly's Naive2 and Theta are reproduced exactly)."""
    df, _ = readings("h", 20)
    assert "day_" in vars(AutoETS(freq="h").fit(df)) and not AutoETS(freq="h").fit(df).day_
    assert not long_day(52, "W-SUN") and not long_day(24, "h") and long_day(288, "5min")
    y = 10 + np.sin(2 * np.pi * np.arange(600) / 52) + np.random.default_rng(0).normal(0, 0.1, 600)
    assert not seasonality_test(y, 52) and seasonality_test(y, 52, lag_limit=False)
