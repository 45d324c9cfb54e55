"""Baselines: values, FPP3 interval formulas, the output table, and errors that teach."""
from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from genlib.errors import DataError, GenlibError
from genlib.forecast import Naive, SeasonalNaive, WindowAverage, season_length_for
from genlib.forecast.base import future_ds, infer_freq, split_series
from genlib.forecast.baselines import drift, naive, seasonal_naive, window_average

Z80 = NormalDist().inv_cdf(0.9)


def frame(values: dict, start="2020-01-01", freq="MS") -> pd.DataFrame:
    parts = []
    for uid, y in values.items():
        ds = (np.arange(len(y)) if start is None
              else pd.date_range(start, periods=len(y), freq=freq))
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(y, float)}))
    return pd.concat(parts, ignore_index=True)


def test_naive_and_its_interval():
    y = np.array([1.0, 3.0, 2.0, 6.0])                   # steps 2, -1, 4
    mean, sd = naive(y, 3)
    sigma = np.sqrt((4 + 1 + 16) / 3)
    assert mean.tolist() == [6.0, 6.0, 6.0]
    assert np.allclose(sd, sigma * np.sqrt([1, 2, 3]))


def test_seasonal_naive_and_its_interval():
    y = np.array([1.0, 2.0, 3.0, 2.0, 4.0, 5.0])         # m = 3: lag-3 diffs 1, 2, 2
    mean, sd = seasonal_naive(y, 7, 3)
    assert mean.tolist() == [2.0, 4.0, 5.0, 2.0, 4.0, 5.0, 2.0]
    sigma = np.sqrt((1 + 4 + 4) / 3)
    assert np.allclose(sd, sigma * np.sqrt([1, 1, 1, 2, 2, 2, 3]))   # √(k+1), k full seasons


def test_drift_and_its_interval():
    y = np.array([0.0, 2.0, 3.0, 6.0])                   # slope 2; residuals 0, -1, 1
    mean, sd = drift(y, 2)
    assert mean.tolist() == [8.0, 10.0]
    sigma = np.sqrt(2 / 2)                               # Σe² / (3 − 1)
    T = 4
    assert np.allclose(sd, sigma * np.sqrt(np.array([1, 2]) * (1 + np.array([1, 2]) / T)))


def test_window_average_and_its_interval():
    mean, sd = window_average(np.array([100.0, 1.0, 2.0, 3.0]), 2, 3)
    assert mean.tolist() == [2.0, 2.0]
    assert np.allclose(sd, 1.0 * np.sqrt(1 + 1 / 3))


def test_output_table_many_series_levels_in_given_order():
    df = frame({"b": np.arange(30.0) % 12 + 1, "a": np.arange(20.0)})
    fc = SeasonalNaive().fit(df).predict(5, levels=(95, 50))
    assert fc.columns.tolist() == ["unique_id", "ds", "mean", "lo-95", "hi-95", "lo-50", "hi-50"]
    assert fc["unique_id"].tolist() == ["a"] * 5 + ["b"] * 5
    assert fc["ds"].iloc[0] == pd.Timestamp("2021-09-01")     # a: 20 months from 2020-01
    assert (fc["lo-95"] <= fc["lo-50"]).all() and (fc["hi-50"] <= fc["hi-95"]).all()
    assert (fc["lo-50"] <= fc["mean"]).all() and (fc["mean"] <= fc["hi-50"]).all()


def test_interval_columns_use_the_residual_sigma():
    df = frame({"s": [1.0, 3.0, 2.0, 6.0]}, start=None)
    fc = Naive().fit(df).predict(2, levels=[80])
    sigma = np.sqrt(21 / 3)
    assert np.allclose(fc["hi-80"] - fc["mean"], Z80 * sigma * np.sqrt([1, 2]))
    assert fc["ds"].tolist() == [4, 5]


@pytest.mark.parametrize("freq, m", [("h", 24), ("D", 7), ("W-SUN", 52), ("MS", 12), ("ME", 12),
                                     ("QS", 4), ("YS", 1), ("30min", 48), ("B", 5)])
def test_season_length_from_frequency(freq, m):
    assert season_length_for(freq) == m
    df = frame({"a": np.arange(3 * max(m, 2) + 2.0)}, freq=freq)
    model = SeasonalNaive().fit(df)
    assert model.season_length_ == m
    assert model.freq_ == infer_freq(df["ds"])


def test_future_dates_follow_the_frequency():
    got = future_ds(pd.Timestamp("2024-01-31"), 2, "ME")
    assert list(pd.DatetimeIndex(got)) == [pd.Timestamp("2024-02-29"), pd.Timestamp("2024-03-31")]
    assert future_ds(7, 3, 2).tolist() == [9, 11, 13]


def test_window_size_defaults_to_a_season():
    df = frame({"a": np.r_[np.zeros(12), np.arange(12.0)]})
    assert WindowAverage().fit(df).window_ == 12
    assert WindowAverage(window_size=3).fit(df).predict(1)["mean"].iloc[0] == 10.0


def test_too_short_names_the_series_and_the_minimum():
    df = frame({"long": np.arange(30.0), "tiny": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"at least 13 .*'tiny' \(3\)"):
        SeasonalNaive().fit(df)


@pytest.mark.parametrize("bad, message", [
    (lambda d: d.drop(columns="ds"), "lacks the column"),
    (lambda d: d.assign(y=np.where(d.index == 3, np.nan, d["y"])), "missing or infinite"),
    (lambda d: d.drop(index=[5]), "not regular"),
    (lambda d: pd.concat([d, d.iloc[:1]]), "same time stamp twice"),
    (lambda d: d.assign(ds=d["ds"].astype(str)), "must hold dates"),
    (lambda d: d.iloc[:0], "empty"),
])
def test_bad_tables_raise_data_errors_that_say_what_to_do(bad, message):
    df = frame({"a": np.arange(20.0)})
    with pytest.raises(DataError, match=message):
        Naive().fit(bad(df))


def test_the_series_with_a_gap_is_named():
    df = frame({"a": np.arange(20.0), "b": np.arange(20.0), "c": np.arange(20.0)})
    df = df.drop(index=df.index[(df["unique_id"] == "b")][7])
    with pytest.raises(DataError, match=r"Series 'b' is not regular at frequency 'MS'"):
        Naive().fit(df)
    ints = frame({"a": np.arange(10.0)}, start=None)
    assert Naive().fit(ints.iloc[::2]).freq_ == 2            # a step of 2 is a frequency, not a gap


def test_predict_before_fit_and_bad_arguments():
    with pytest.raises(GenlibError, match="not fitted"):
        Naive().predict(3)
    model = Naive().fit(frame({"a": np.arange(10.0)}))
    with pytest.raises(GenlibError, match="horizon"):
        model.predict(0)
    with pytest.raises(GenlibError, match="between 0 and 100"):
        model.predict(2, levels=(80, 120))
    with pytest.raises(GenlibError, match="season_length"):
        SeasonalNaive(season_length=0).fit(frame({"a": np.arange(10.0)}))


def test_split_series_does_not_touch_the_input():
    df = frame({"b": np.arange(5.0), "a": np.arange(4.0)}).sample(frac=1, random_state=0)
    before = df.copy()
    s = split_series(df)
    assert s.ids == ["a", "b"] and [len(v) for v in s.values] == [4, 5]
    pd.testing.assert_frame_equal(df, before)


def test_params_clone_and_repr():
    model = WindowAverage(window_size=4, season_length=7)
    assert model.get_params() == {"window_size": 4, "season_length": 7, "freq": None}
    twin = model.clone(window_size=2)
    assert twin.window_size == 2 and twin.season_length == 7
    assert repr(model) == "WindowAverage(window_size=4, season_length=7)"
    assert not hasattr(twin, "ids_")


def busy_weekdays(n_series: int, weeks: int = 5, seed: int = 0) -> pd.DataFrame:
    """Hourly series busy on weekdays (with a daily cycle) and quiet at weekends, ending on a
    Friday night: yesterday's hours say the next two days are busy, last week says quiet."""
    rng, t = np.random.default_rng(seed), np.arange(24 * 7 * weeks - 48)
    day = 1 + np.sin(2 * np.pi * t / 24)
    return frame({f"s{i}": 10 + (t % 168 < 120) * (50 + 20 * i) * day + rng.normal(0, 1, t.size)
                  for i in range(n_series)}, start="2024-01-01", freq="h")


def test_long_seasonal_naive_repeats_last_week_and_its_interval():
    from genlib.forecast.baselines import LongSeasonalNaive
    df = busy_weekdays(1)
    y = df["y"].to_numpy()
    fc = LongSeasonalNaive().fit(df).predict(200, levels=(80,))
    assert np.allclose(fc["mean"], np.resize(y[-168:], 200))           # the same hour last week
    sigma = np.sqrt(np.mean((y[168:] - y[:-168]) ** 2))
    k = np.arange(200) // 168                                          # complete weeks before the step
    assert np.allclose(fc["mean"] - fc["lo-80"], Z80 * sigma * np.sqrt(k + 1))
    assert LongSeasonalNaive().fit(df).describe("s0") == "Seasonal naive (repeat the last week)"
    with pytest.raises(DataError, match="169"):                      # needs one week and an hour
        LongSeasonalNaive().fit(df.head(150))


def test_long_seasonal_naive_on_opening_hours_needs_one_day_of_them():
    """A day of 7 opening hours has no week of days behind it (`freq.longer_cycle`): the longer
    cycle is the day itself, so 280 values (40 days) are plenty, as for seasonal naive."""
    from genlib.forecast.baselines import LongSeasonalNaive, SeasonalNaive
    from genlib.forecast.report import fit_forecast
    t = pd.date_range("2024-01-01", periods=24 * 40, freq="h")
    t = t[(t.hour >= 9) & (t.hour <= 15)]
    y = 10 + 5 * np.sin(2 * np.pi * np.arange(t.size) / 7)
    df = pd.DataFrame({"unique_id": "calls", "ds": t, "y": y})
    freq = "h@09:00-15:00"
    assert LongSeasonalNaive.capabilities.minimum(7, freq) == 8
    assert LongSeasonalNaive.capabilities.minimum(7, "D") == 366         # daily: a year of days
    fc, _, notes = fit_forecast("seasonal_naive_long", df, 14, (80,), freq=freq)
    assert notes == {}                                                 # no "needs 366 values"
    plain = SeasonalNaive(freq=freq).fit(df).predict(14, levels=(80,))
    assert np.allclose(fc["mean"], plain["mean"])
    assert np.allclose(fc["mean"], np.resize(y[-7:], 14))


def test_auto_calls_last_weeks_hours_by_one_name_in_its_sentence():
    """Where auto averages or hedges last week's hours with another model, the sentence names it
    as its own words do, "Seasonal naive (repeat the last week)", never also "…, longer cycle"."""
    from genlib.forecast import AutoForecaster
    sentences = []
    for seed in (1, 8):                    # a mean with Theta, and half yesterday half last week
        rng = np.random.default_rng(seed)
        t = np.arange(24 * 7 * 4 - int(rng.integers(0, 168)))
        day = 1 + np.sin(2 * np.pi * t / 24)
        y = 10 + np.where(t % 168 < 120, 30, 10) * day + rng.normal(0, 6, t.size)
        auto = AutoForecaster(h=24).fit(frame({"a": y}, start="2024-01-01", freq="h"))
        assert "seasonal_naive_long" in auto.chosen_["a"] and len(auto.chosen_["a"]) > 1
        sentences.append(auto.explanation_["a"])
    assert not any("longer cycle" in s for s in sentences), sentences
    assert [s.count("Seasonal naive (repeat the last week)") for s in sentences] == [2, 2], sentences


def test_auto_keeps_quiet_weekends_quiet():
    """Hourly panel ending on a Friday: auto picks last week over yesterday and says so; monthly
    data have no longer cycle, so it is not tried there (test_auto_budget)."""
    from genlib.forecast import AutoForecaster
    df = busy_weekdays(3)
    auto = AutoForecaster(h=48).fit(df)
    assert set(auto.choices_["model"]) == {"seasonal_naive_long"}
    assert "Seasonal naive (repeat the last week)" in auto.explanation_["s0"]
    weekend = auto.predict(48)["mean"].to_numpy()
    assert weekend.max() < 15                                          # quiet, as last weekend was
