"""Series that are mostly 0 (a product's daily sales) and counts that cannot go below 0."""
from __future__ import annotations

import numpy as np
import pandas as pd

from genlib.forecast import AutoForecaster, Naive
from genlib.forecast.base import floors
from genlib.forecast.selection import intermittent

H = 28


def shop_items(n_series: int = 20, seed: int = 0):
    """Daily sales of slow items: a sale on 10–45 % of the days (more at weekends), 1–6 units."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-02", periods=360 + H)
    train, test = [], []
    for i in range(n_series):
        p = rng.uniform(0.1, 0.45) * np.where(days.day_of_week >= 5, 1.5, 1.0)
        y = (rng.uniform(size=len(days)) < p) * (1 + rng.poisson(rng.uniform(0.5, 3), len(days)))
        frame = pd.DataFrame({"unique_id": f"item {i}", "ds": days, "y": y.astype(float)})
        train.append(frame.iloc[:-H])
        test.append(frame.iloc[-H:])
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True)


def rmsse(train: pd.DataFrame, test: pd.DataFrame, fc: pd.DataFrame) -> float:
    """M5's score: root mean squared error over that of yesterday's value on the history."""
    out = []
    for uid, g in test.groupby("unique_id"):
        hist = train.loc[train["unique_id"] == uid, "y"].to_numpy()
        err = g["y"].to_numpy() - fc.loc[fc["unique_id"] == uid, "mean"].to_numpy()
        out.append(np.sqrt(np.mean(err ** 2) / np.mean(np.diff(hist) ** 2)))
    return float(np.mean(out))


def test_intermittent_is_the_classic_rule():
    assert intermittent(np.array([0., 3, 0, 0, 1, 0, 2, 0, 0, 0]))           # a sale every 3.3 days
    assert not intermittent(np.array([5., 3, 0, 4, 1, 2, 6, 1, 0, 3]))       # a sale 4 days in 5
    assert not intermittent(np.array([0., -3, 0, 0, 1, 0, 2, 0, 0, 0]))      # goes below 0
    assert not intermittent(np.zeros(3))


def test_auto_scores_a_mostly_zero_series_by_squared_errors_and_says_why():
    """The absolute error is smallest for forecasting 0 (the median of such a series): scored by
    it, backtests keep repeating yesterday's 0. Scored by squared errors, as M5 was, auto
    forecasts the average rate of sales; on the weeks held out its squared error is lower."""
    train, test = shop_items()
    auto = AutoForecaster(h=H).fit(train)
    assert set(auto.metric_.values()) == {"rmsse"}
    by_mae = AutoForecaster(h=H, metric="mae").fit(train)
    now, before = rmsse(train, test, auto.predict(H)), rmsse(train, test, by_mae.predict(H))
    assert now < 0.95 * before, (now, before)
    assert (by_mae.predict(H).groupby("unique_id")["mean"].max() == 0).sum() >= 5   # "0 expected" before
    sentence = auto.explanation_["item 0"]
    assert "the tests scored squared errors, since" in sentence and "% of its values are 0" in sentence
    assert "squared errors" not in by_mae.explanation_["item 0"]


def test_counts_are_never_forecast_below_zero_and_other_series_are_left_alone():
    """A series never below 0 that touches 0 (sales, visits) keeps its forecast and bands at 0 or
    above; a series that goes below 0, or never reaches it, is not cut."""
    days = pd.date_range("2024-01-01", periods=60)
    falling = np.maximum(30 - 0.6 * np.arange(60), 0)                     # 0 from the 50th day
    df = pd.concat([pd.DataFrame({"unique_id": "visits", "ds": days, "y": falling}),
                    pd.DataFrame({"unique_id": "profit", "ds": days, "y": 5 - 0.2 * np.arange(60.0)}),
                    pd.DataFrame({"unique_id": "price", "ds": days, "y": 60 - 0.9 * np.arange(60.0)})])
    assert floors([falling, 5 - 0.2 * np.arange(60.0)]).tolist() == [0.0, -np.inf]
    fc = Naive().fit(df).predict(30, levels=(80, 95)).set_index("unique_id")
    visits, profit = fc.loc["visits"], fc.loc["profit"]
    assert (visits[["mean", "lo-80", "lo-95"]].to_numpy() >= 0).all()
    assert (visits["lo-95"] == 0).all() and (visits["hi-95"] > 0).all()
    assert (profit["lo-95"] < 0).all() and (fc.loc["price", "lo-95"] < fc.loc["price", "mean"]).all()
    auto = AutoForecaster(h=7, candidates=("naive", "drift")).fit(df)
    assert (auto.predict(30).set_index("unique_id").loc["visits"].drop(columns="ds").to_numpy() >= 0).all()
