"""Interval calibration and the thin-evidence rule of AutoForecaster (genlib/forecast/calibrate.py):
coverage of the bands on simulated futures of known noise, one series and a panel; the simple
model kept when a complex model's backtest win is noise; the coverage columns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlib.forecast import AutoForecaster
from genlib.forecast.calibrate import beats_by_more_than_noise, step_factors


def ar1(rng, n: int, phi: float = 0.6, sigma: float = 1.0, level: float = 10.0) -> np.ndarray:
    e = rng.normal(0, sigma, n + 50)
    y = np.zeros(n + 50)
    for t in range(1, n + 50):
        y[t] = phi * y[t - 1] + e[t]
    return level + y[50:]


def frame(ys: dict) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": k, "ds": np.arange(len(y)), "y": y})
                      for k, y in ys.items()], ignore_index=True)


def covered(fc: pd.DataFrame, future: dict, level: int) -> np.ndarray:
    out = []
    for uid, g in fc.groupby("unique_id", sort=False):
        y = future[uid]
        out.append((g[f"lo-{level}"].to_numpy() <= y) & (y <= g[f"hi-{level}"].to_numpy()))
    return np.concatenate(out)


def test_step_factors_never_shrink_on_biased_evidence():
    r = [[np.full(50, 0.5)], [np.full(50, 1.5)]]
    assert step_factors(r, 80).tolist() == [0.5, 1.5]                      # per step, may shrink
    assert step_factors(r, 80, shrink=False).tolist() == [1.0, 1.5]        # biased: widen only
    few = [[np.full(5, 3.0)], [np.full(50, 0.5)]]                          # step 1 borrows all steps
    assert step_factors(few, 80)[0] == pytest.approx(0.5)
    assert beats_by_more_than_noise(np.array([0.3, 0.31, 0.29]))
    assert not beats_by_more_than_noise(np.array([0.9, -0.5, 0.4]))


def test_one_series_bands_shrink_only_on_honest_windows():
    """Naive's bands grow with the horizon, far too wide for white noise. With 3 backtest windows
    (each scored by the pick made without it) the calibration narrows them on one series; with
    one window the errors are those of the window that chose the model, and they never narrow."""
    y = 10 + np.random.default_rng(3).normal(0, 1, 120)
    honest = AutoForecaster(candidates=("naive",), h=6).fit(frame({"s": y}))
    assert honest.factors_[80.0].min() < 0.9, honest.factors_
    one = AutoForecaster(candidates=("naive",), h=6, windows=1).fit(frame({"s": y}))
    assert all((f >= 1).all() for f in one.factors_.values()), one.factors_


def test_one_series_bands_hold_their_level():
    """50 independent one-series uploads (random walk, σ = 1, 70 values), each fitted alone and
    judged on its own simulated next 6 values: the bands cover within 5 points of nominal."""
    rng = np.random.default_rng(11)
    hits = {80: [], 95: []}
    for rep in range(50):
        y = ar1(rng, 76, phi=1.0)
        past, future = y[:70], y[70:]
        auto = AutoForecaster(candidates=("naive", "ar"), h=6).fit(frame({"s": past}))
        fc = auto.predict(6)
        for lv in hits:
            hits[lv].append(covered(fc, {"s": future}, lv))
    for lv, h in hits.items():
        assert abs(100 * np.mean(np.concatenate(h)) - lv) <= 5, (lv, np.mean(np.concatenate(h)))


def test_panel_bands_hold_their_level():
    """300 series of trend + season + Gaussian noise of different sizes, one fit: the pooled
    per-step calibration covers the simulated futures within 5 points of nominal."""
    rng = np.random.default_rng(5)
    past, future = {}, {}
    t = np.arange(60 + 6)
    for i in range(300):
        sigma = rng.uniform(0.5, 3)
        y = 50 + rng.uniform(-0.2, 0.2) * t + 5 * np.sin(2 * np.pi * t / 12) + np.cumsum(
            rng.normal(0, sigma, len(t))) * (i % 2) + rng.normal(0, sigma, len(t))
        past[f"s{i}"], future[f"s{i}"] = y[:60], y[60:]
    auto = AutoForecaster(candidates=("naive", "drift", "ar"), h=6, season_length=12).fit(frame(past))
    assert auto.calibration_windows_ >= 300
    fc = auto.predict(6)
    for lv in (80, 95):
        share = 100 * covered(fc, future, lv).mean()
        assert abs(share - lv) <= 5, (lv, share)
    f80 = auto.factors_[80.0]
    assert len(f80) == 6 and f80.std() > 0             # calibrated step by step


def test_a_lead_that_rounds_to_nothing_is_said_in_words_not_as_0_percent():
    """The sentence of a kept forecast whose rival's lead is under half a percent: "scored about
    as well", never "0 % better" (an ETS lead of 0.2 % on 12 windows once read so)."""
    from genlib.forecast.explain import explain

    rng = np.random.default_rng(2)
    y = np.cumsum(rng.normal(size=60)) + rng.normal(0, 1, 60)
    auto = AutoForecaster(candidates=("naive", "ar", "theta"), h=6, margin=0.0, windows=3).fit(frame({"rw": y}))
    kept, rejected, gain = auto.kept_["rw"]
    row = auto.choices_.set_index("unique_id").loc["rw"]
    auto.kept_["rw"] = (kept, rejected, 0.2)
    sentence = explain(auto, "rw", row, y, 1)
    assert "scored about as well when tested" in sentence and " 0 % " not in sentence, sentence
    auto.kept_["rw"] = (kept, rejected, 12.4)
    assert "scored 12 % better when tested" in explain(auto, "rw", row, y, 1)


def test_noise_win_hedges_between_the_simple_model_and_its_rival_and_says_so():
    """The plumbing of the thin-evidence rule, on one series where it applies (random walk plus
    noise, seed 2, chosen for that: the mean of the candidates scores 12 % better on 3 windows but
    the window scores spread widely): naive is kept, `kept_` records it, and on this thin evidence
    (one series) the forecast is half naive, half the rival's mean — bands included — and the
    sentence says so. The rule itself is tested on constructed differences above."""
    rng = np.random.default_rng(2)
    y = np.cumsum(rng.normal(size=60)) + rng.normal(0, 1, 60)
    auto = AutoForecaster(candidates=("naive", "ar", "theta"), h=6, margin=0.0, windows=3).fit(frame({"rw": y}))
    kept, rejected, gain = auto.kept_["rw"]
    assert kept in ("naive", "seasonal_naive") and gain > 10      # the backtest alone says switch
    assert len(rejected) > 1 and auto.chosen_["rw"] == (kept,) * len(rejected) + rejected
    assert auto.choices_.loc[0, "model"] == "+".join(dict.fromkeys((kept,) + rejected))
    sentence = auto.explanation_["rw"]
    assert sentence.startswith("forecast as half Naive (repeat the last value) and half the mean of ")
    assert "within what chance gives on 3 windows, so neither is trusted alone" in sentence
    assert "Theta method" in sentence, sentence
    fc = auto.predict(6, levels=(80,))
    alone = {c: auto.models_[c].predict(6, levels=(80,)) for c in set(rejected) | {kept}}
    rival = np.mean([alone[c]["mean"].to_numpy() for c in rejected], axis=0)
    np.testing.assert_allclose(fc["mean"], (alone[kept]["mean"].to_numpy() + rival) / 2)


def test_a_rival_of_one_model_gets_half_the_forecast():
    """Seed 5: the linear AR alone scored 18 % better than naive on 3 widely spread windows."""
    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(size=60)) + rng.normal(0, 1, 60)
    auto = AutoForecaster(candidates=("naive", "ar"), h=6, margin=0.0, windows=3).fit(frame({"rw": y}))
    kept, rejected, gain = auto.kept_["rw"]
    assert rejected == ("ar",) and auto.chosen_["rw"] == (kept, "ar")
    sentence = auto.explanation_["rw"]
    assert sentence.startswith("forecast as half Naive (repeat the last value) and half Linear "
                               "autoregression: Linear autoregression scored 18 % better"), sentence
    fc = auto.predict(6, levels=(80,))["mean"].to_numpy()
    parts = [auto.models_[c].predict(6, levels=(80,))["mean"].to_numpy() for c in (kept, "ar")]
    np.testing.assert_allclose(fc, np.mean(parts, axis=0))


def test_a_panel_keeps_the_simple_model_without_a_hedge():
    """Enough evidence (a panel of 12 random walks, 36 windows; seed 1: four series where a
    rival led by chance): the simple model is kept alone, as the sentences say."""
    rng = np.random.default_rng(1)
    ys = {f"s{i}": 50 + np.cumsum(rng.normal(size=60)) for i in range(12)}
    auto = AutoForecaster(candidates=("naive", "ar", "theta"), h=6, margin=0.0).fit(frame(ys))
    assert not auto.thin_ and len(auto.kept_) == 4
    for uid, (kept, _, _) in auto.kept_.items():
        assert auto.chosen_[uid] == (kept,), uid
        assert auto.explanation_[uid].startswith("kept Naive"), auto.explanation_[uid]


def test_clear_ar2_still_picks_ar():
    """AR(2) with 8 backtest windows: the AR's gain is consistent across windows, so it is kept."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        e = rng.normal(0, 1, 250)
        y = np.zeros(250)
        for t in range(2, 250):
            y[t] = 1.0 * y[t - 1] - 0.5 * y[t - 2] + e[t]
        auto = AutoForecaster(candidates=("naive", "ar"), h=6, windows=8, combine=False,
                              calibrate=False).fit(frame({"a": 20 + y[50:]}))
        assert auto.choices_.loc[0, "model"] == "ar" and not auto.kept_, seed
        assert "kept" not in auto.explanation_["a"]


def test_coverage_columns_in_the_backtest_tables():
    from genlib.data import load_series
    from genlib.forecast import plain
    from genlib.forecast.report import run_forecast

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": "a", "date": pd.date_range("2015-01-01", periods=72, freq="MS"),
                       "y": ar1(rng, 72)})
    result = run_forecast(load_series(df), ["auto", "naive"], h=6, levels=(80, 95), windows=2)
    assert {"coverage-80", "coverage-95"} <= set(result["scores"].columns)
    held = plain.plain_scores(result).set_index("Model")["How often the 80 % band held"]
    assert held.str.endswith("%").all()
    auto = AutoForecaster(candidates=("naive", "ar"), h=6).fit(frame({"a": df["y"].to_numpy()}))
    assert auto.coverage_.columns.tolist() == ["model", "coverage-80", "coverage-95"]
    assert auto.coverage_["coverage-95"].between(0, 100).all()


def monthly(ys: dict) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": k, "ds": pd.date_range("2015-01", periods=len(y), freq="MS"),
                                    "y": y}) for k, y in ys.items()], ignore_index=True)


def sales(rng, n: int = 54) -> np.ndarray:
    t = np.arange(n)
    return 100 + 0.8 * t + 12 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 6, n)


def test_one_short_series_keeps_the_steady_mean():
    """One uploaded monthly series (3 backtest windows: thin evidence): the all-series winner is
    the mean of Theta, ETS and the linear AR, every series keeps it even where another model
    scored better on those windows, and the sentence names the three models and says why."""
    sentences = []
    for seed in range(4):
        auto = AutoForecaster(h=6).fit(monthly({"a": sales(np.random.default_rng(seed))}))
        assert auto.overall_best_ == "theta+ets+ar" and auto.thin_, seed
        assert auto.choices_.loc[0, "model"] == "theta+ets+ar", seed
        sentence = auto.explanation_["a"]
        sentences.append(sentence)
        assert "Theta method, Exponential smoothing (ETS)" in sentence and "Linear autoregression" in sentence
        if "a" in auto.kept_:                   # another model scored better: said, and why kept
            kept, _, gain = auto.kept_["a"]
            assert kept == "theta+ets+ar" and gain > 0
            assert "kept this average:" in sentence and "cannot show that the lead will last" in sentence
            assert "steadier choice" in sentence, sentence
    assert any("kept this average" in s for s in sentences), sentences
    fc = auto.predict(6, levels=(80,))
    assert np.isfinite(fc[["mean", "lo-80", "hi-80"]].to_numpy()).all()


def test_a_panel_picks_its_overall_winner_by_the_backtest():
    """Twenty AR(2) series give 60 windows: enough evidence, and the linear AR (which follows
    the swings) scores better over all of them than the steady mean, so it is the overall winner."""
    rng = np.random.default_rng(0)
    ys = {}
    for i in range(20):
        e, y = rng.normal(0, 1, 170), np.zeros(170)
        for t in range(2, 170):
            y[t] = 1.2 * y[t - 1] - 0.6 * y[t - 2] + e[t]
        ys[f"s{i:02d}"] = 50 + y[50:]
    auto = AutoForecaster(h=6).fit(monthly(ys))
    assert auto.overall_best_ == "ar"


def test_one_long_series_leaves_the_steady_mean_on_enough_windows():
    """One upload of 300 yearly values that swing like sunspots (an AR(2)): the backtest takes
    12 windows from its second half, not 3, and on those the linear AR (which follows the
    swings) beats the steady default (yearly data: the middle of ETS, AR and naive) by more than
    chance, so the series leaves it and the sentence says why. The same series cut to 40 values
    is tested on 3 windows and keeps it. Monthly, the steady default is the mean of Theta, ETS
    and AR."""
    e, y = np.random.default_rng(0).normal(0, 10, 350), np.zeros(350)
    for t in range(2, 350):
        y[t] = 1.3 * y[t - 1] - 0.7 * y[t - 2] + e[t]
    y = 100 + y[50:]
    yearly = lambda v: pd.DataFrame({"unique_id": "a", "ds": pd.date_range("1700", periods=len(v), freq="YS"),
                                     "y": v})
    auto = AutoForecaster(h=10).fit(yearly(y))
    assert auto.plan_["a"] == (10, 12) and auto.thin_ and auto.overall_best_ == "middle"
    assert "ar" in auto.chosen_["a"] and auto.chosen_["a"] != ("middle",)
    assert auto.left_steady_["a"] > 20
    assert ("better than the middle of three forecasts on those 12 stretches, more than chance "
            "explains") in auto.explanation_["a"]
    short = AutoForecaster(h=10).fit(yearly(y[-40:]))
    assert short.plan_["a"][1] <= 3 and short.chosen_["a"] == ("middle",)
    months = AutoForecaster(h=10).fit(yearly(y).assign(ds=pd.date_range("1700", periods=len(y), freq="MS")))
    assert months.overall_best_ == "theta+ets+ar" and "middle" not in months.scores_.columns
    assert ("than the average of Theta method, Exponential smoothing (ETS) and Linear autoregression "
            "on those 12 stretches, more than chance explains") in months.explanation_["a"]


def test_hourly_data_never_start_from_the_steady_mean():
    """Theta and ETS follow one seasonal cycle; hourly data have two (day and week)."""
    rng = np.random.default_rng(1)
    t = np.arange(24 * 7 * 4)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) + 8 * (t % 168 < 120) + rng.normal(0, 2, len(t))
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=len(t), freq="h"), "y": y})
    auto = AutoForecaster(h=24, candidates=("seasonal_naive", "theta", "ets", "ar")).fit(df)
    assert auto.overall_best_ != "theta+ets+ar" and auto.thin_


def test_a_series_too_short_to_test_the_steady_mean_still_gets_it_and_is_told():
    """20 yearly values: the backtest windows leave too few values to fit ETS in them, so the
    steady default (yearly: the middle of ETS, AR and naive) cannot be scored; on such thin
    evidence it is still the forecast, and the sentence says it was not tested (no made-up
    score). 20 quarterly values get the mean of Theta, ETS and AR the same way."""
    y = 100 + np.cumsum(np.random.default_rng(0).normal(2, 5, 20))
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2000", periods=20, freq="YS"), "y": y})
    auto = AutoForecaster(h=6).fit(df)
    row = auto.choices_.iloc[0]
    assert row["model"] == "middle" and np.isnan(row["score"]) and "middle" not in auto.scores_.columns
    assert "Middle of three forecasts" not in auto.explanation_["a"]
    assert auto.explanation_["a"].startswith("the middle, at each step, of Exponential smoothing (ETS)")
    assert "was used: the series is too short to test it on its own past (20 values)" in auto.explanation_["a"]
    quarterly = AutoForecaster(h=6).fit(df.assign(ds=pd.date_range("2000", periods=20, freq="QS")))
    assert quarterly.choices_.iloc[0]["model"] == "theta+ets+ar"
    assert ("too short to test Theta method, Exponential smoothing (ETS) and Linear autoregression"
            in quarterly.explanation_["a"])
    fc = auto.predict(6, levels=(80,))
    assert np.isfinite(fc[["mean", "lo-80", "hi-80"]].to_numpy()).all()
    assert (fc["lo-80"] < fc["mean"]).all() and (fc["mean"] < fc["hi-80"]).all()
    panel = AutoForecaster(h=6, candidates=("naive", "theta")).fit(df)    # without ETS: no steady mean
    assert panel.choices_.iloc[0]["model"] != "theta+ets+ar"
