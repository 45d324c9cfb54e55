"""Theta (native, checked against statsmodels), ETS and ARIMA wrappers, and their fallbacks."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from genlib.forecast import ARIMA, ETS, SeasonalNaive, Theta
from genlib.forecast.classic import ses_fit


def long(series, freq=None):
    parts = []
    for i, y in enumerate(series):
        ds = np.arange(len(y)) if freq is None else pd.date_range("2000-01-01", periods=len(y), freq=freq)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def trending():
    rng = np.random.default_rng(0)
    return [50 + 0.3 * np.arange(n) + rng.normal(0, 2, n).cumsum() * s
            for n, s in [(80, 0.3), (120, 1.0), (200, 0.6)]]


def test_ses_matches_statsmodels(trending):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    alpha, level, _ = ses_fit(trending)
    for i, y in enumerate(trending):
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            ref = ExponentialSmoothing(y, initial_level=y[0], initialization_method="known").fit()
        assert alpha[i] == pytest.approx(ref.params["smoothing_level"], abs=2e-3)
        assert level[i] == pytest.approx(ref.forecast(1)[0], rel=1e-3)


def test_theta_matches_statsmodels_theta_model(trending):
    from statsmodels.tsa.forecasting.theta import ThetaModel
    fc = Theta(deseasonalize=False).fit(long(trending)).predict(10)
    for i, y in enumerate(trending):
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            ref = np.asarray(ThetaModel(y, deseasonalize=False).fit().forecast(10))
        np.testing.assert_allclose(fc.loc[fc["unique_id"] == f"s{i}", "mean"], ref, rtol=1e-3)


def test_theta_deseasonalises_seasonal_series():
    t = np.arange(120)
    y = (100 + t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    model = Theta().fit(long([y], freq="MS"))
    assert model.seasonal_["s0"] and "season removed first" in model.describe("s0")
    fc = model.predict(12)["mean"].to_numpy()
    truth = (100 + np.arange(120, 132)) * (1 + 0.2 * np.sin(2 * np.pi * np.arange(120, 132) / 12))
    assert np.mean(np.abs(fc - truth) / truth) < 0.03


def test_theta_takes_a_daily_cycle_out_of_a_series_that_crosses_zero():
    """A load that swings through zero every day, on a wandering level: the cycle is taken out
    additively (a ratio means nothing at zero) and the forecast follows it; Theta without it
    forecasts a flat line."""
    rng = np.random.default_rng(3)
    n, h = 24 * 20, 24
    t = np.arange(n + h)
    y = 5 * np.sin(2 * np.pi * t / 24) + np.cumsum(rng.normal(0, 0.2, n + h)) + rng.normal(0, 0.5, n + h)
    model = Theta().fit(long([y[:n]], freq="h"))
    assert model.seasonal_["s0"] == "additive" and "season removed first" in model.describe("s0")
    fc = model.predict(h)
    flat = Theta(deseasonalize=False).fit(long([y[:n]], freq="h")).predict(h)["mean"].to_numpy()
    err = np.abs(fc["mean"].to_numpy() - y[n:]).mean()
    assert err < 0.5 * np.abs(flat - y[n:]).mean()
    inside = (fc["lo-95"].to_numpy() <= y[n:]) & (y[n:] <= fc["hi-95"].to_numpy())
    assert inside.mean() >= 0.8


def test_a_wandering_level_is_not_a_season():
    """Random walks through zero have a large lag-m autocorrelation from the level alone; the
    test on their differences does not call them seasonal (at its 10 % false-alarm rate), where
    the test on the levels calls most of them seasonal."""
    from genlib.forecast.baselines import deseasonalize, seasonality_test
    rng = np.random.default_rng(0)
    walks = [np.cumsum(rng.normal(0, 1, 200)) for _ in range(100)]
    walks = [w - w.mean() for w in walks]                          # every one crosses zero
    called = sum(deseasonalize(w, 7, 7)[2] != "" for w in walks)
    assert called <= 20
    assert sum(seasonality_test(w, 7) for w in walks) >= 60        # the levels' test is fooled


def test_naive2_puts_an_additive_season_back():
    from genlib.forecast.baselines import naive2
    t = np.arange(96.0)
    y = 3 * np.sin(2 * np.pi * t / 12) - 1.0                       # below zero half the time
    np.testing.assert_allclose(naive2(y, 12, 12), y[-12:], atol=1e-9)


def test_ets_fits_and_picks_a_seasonal_model():
    t = np.arange(48)
    rng = np.random.default_rng(1)
    y = 20 + 0.2 * t + 4 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 0.3, 48)
    model = ETS().fit(long([y, y[:30] + 5], freq="QS"))
    fc = model.predict(8, levels=(80, 95))
    assert fc.shape == (16, 7) and np.isfinite(fc.iloc[:, 2:].to_numpy()).all()
    assert (fc["lo-95"] <= fc["lo-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()
    words = model.describe("s0")
    assert words.startswith("Exponential smoothing (ETS) with") and "and a season" in words
    assert model.notes_ == {}


def test_failed_fits_fall_back_to_seasonal_naive(monkeypatch):
    monkeypatch.setattr(ETS, "_fit_one", staticmethod(lambda y, m, n: (None, "")))
    y = np.tile([1.0, 5.0, 3.0, 2.0], 6) + np.arange(24)
    df = long([y], freq="QS")
    model = ETS().fit(df)
    assert "seasonal naive" in model.notes_["s0"]
    assert model.describe("s0").startswith("Seasonal naive (used because")
    fc = model.predict(4)
    np.testing.assert_allclose(fc["mean"], SeasonalNaive().fit(df).predict(4)["mean"])


def test_arima_small_search():
    rng = np.random.default_rng(2)
    y = rng.normal(size=80).cumsum() + 10
    model = ARIMA().fit(long([y]))
    fc = model.predict(5)
    assert fc.shape == (5, 7) and np.isfinite(fc["mean"]).all()
    words = model.describe("s0")
    assert words.startswith("ARIMA") and "past value" in words and "(" not in words
