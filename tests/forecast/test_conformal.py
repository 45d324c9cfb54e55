"""Every model's bands calibrated on the series' own past (genlib/forecast/conformal.py): on
simulated series of known noise whose model bands are too wide or too narrow, the calibrated
80 % and 95 % bands hold within 5 points of their level, for one upload at a time and for a
panel; what the Forecast page and the command line say about it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlib.data.series import load_series
from genlib.forecast.backtest import backtest
from genlib.forecast.baselines import Naive
from genlib.forecast.conformal import Calibrated, bands_sentence
from genlib.forecast.report import fit_forecast, run_forecast

H = 6


def frame(ys: dict) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": k, "ds": np.arange(len(y)), "y": y})
                      for k, y in ys.items()], ignore_index=True)


def held(fc: pd.DataFrame, future: dict, level: int) -> float:
    inside = [((g[f"lo-{level}"].to_numpy() <= future[u]) & (future[u] <= g[f"hi-{level}"].to_numpy()))
              for u, g in fc.groupby("unique_id", sort=False)]
    return 100 * float(np.mean(np.concatenate(inside)))


def noise(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """White noise around 10: naive's random-walk bands, growing with √step, are far too wide."""
    y = 10 + np.random.default_rng(seed).normal(0, 1, n + H)
    return y[:n], y[n:]


def trend(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A steep straight line: naive's bands ignore the slope and are far too narrow."""
    t = np.arange(n + H, dtype=float)
    y = 2.0 * t + np.random.default_rng(seed).normal(0, 1, n + H)
    return y[:n], y[n:]


@pytest.mark.parametrize("make, own_side", [(noise, "wide"), (trend, "narrow")])
def test_one_upload_at_a_time_holds_its_level(make, own_side):
    """120 single-series uploads (the thin path: 40 windows close together on each series)."""
    own, calibrated = {80: [], 95: []}, {80: [], 95: []}
    for seed in range(120):
        y, future = make(seed, 200)
        df = frame({"s": y})
        raw = Naive().fit(df).predict(H, (80, 95))
        fc = Calibrated(Naive(), h=H).fit(df).predict(H, (80, 95))
        for lv in (80, 95):
            own[lv].append(held(raw, {"s": future}, lv))
            calibrated[lv].append(held(fc, {"s": future}, lv))
    for lv in (80, 95):
        before, after = np.mean(own[lv]), np.mean(calibrated[lv])
        assert (before > lv + (100 - lv) / 2) if own_side == "wide" else (before < lv - 10), (lv, before)
        assert abs(after - lv) <= 5, (lv, before, after)


def test_a_panel_is_calibrated_on_its_last_windows_and_holds_its_level():
    """Four panels of 150 series (the pooled path: their last window), each series its own
    noise; a panel's future shares each series' last value, so one panel alone is a noisy check."""
    rng = np.random.default_rng(1)
    calibrated = {80: [], 95: []}
    for _ in range(4):
        ys, future = {}, {}
        for i in range(150):
            y = 10 + rng.normal(0, 1 + i / 50, 120 + H)
            ys[f"s{i}"], future[f"s{i}"] = y[:120], y[120:]
        model = Calibrated(Naive(), h=H).fit(frame(ys))
        assert set(model.windows_.values()) == {1}                # 150 series: no dense windows
        fc = model.predict(H, (80, 95))
        for lv in (80, 95):
            calibrated[lv].append(held(fc, future, lv))
    assert abs(np.mean(calibrated[80]) - 80) <= 5 and abs(np.mean(calibrated[95]) - 95) <= 5, calibrated


def test_bands_scale_about_the_forecast_and_keep_a_counts_floor():
    y = np.r_[np.zeros(5), np.random.default_rng(2).poisson(2.0, 195)].astype(float)   # touches 0
    df = frame({"s": y})
    model = Calibrated(Naive(), h=H).fit(df)
    raw, fc = model.model.predict(H, (80,)), model.predict(H, (80,))
    assert np.array_equal(fc["mean"], raw["mean"])                       # point forecast untouched
    assert (fc["lo-80"] >= 0).all()                                      # a count never below 0
    f = model._factor(80, H)
    np.testing.assert_allclose(fc["hi-80"] - fc["mean"], f * (raw["hi-80"] - raw["mean"]))
    assert model.predict(H + 4, (80,))["hi-80"].notna().all()            # beyond h: last factor


def test_fit_forecast_calibrates_every_model_but_auto_and_says_what_it_did():
    y, _ = noise(3, 200)
    df = frame({"s": y})
    _, fitted, _ = fit_forecast("naive", df, H, (80, 95))
    assert isinstance(fitted, Calibrated)
    sentence = bands_sentence(fitted)
    assert sentence.startswith("The model's own 80 % bands held ")
    assert "stretches), so they were narrowed to hold 80 %." in sentence
    _, plain, _ = fit_forecast("naive", df, H, (80, 95), calibrate=False)
    assert not isinstance(plain, Calibrated) and bands_sentence(plain) is None
    _, auto, _ = fit_forecast("auto", df, H, (80,))
    assert bands_sentence(auto) is None                                 # auto calibrates itself


def test_the_forecast_pages_test_scores_the_bands_it_shows():
    """The backtest refits the calibrated model at each window: its coverage is that of the
    bands the page draws, not of the model's own (which hold about 97 % here)."""
    y, _ = noise(4, 300)
    series = load_series(("Value\n" + "\n".join(f"{v:.4f}" for v in y)).encode(), name="noise.csv")
    calibrated = run_forecast(series, ["naive"], H, (80,))
    assert "narrowed to hold 80 %" in calibrated["bands"]["naive"]
    shown = calibrated["scores"].set_index("model").loc["naive", "coverage-80"]
    own = backtest(series.df, "naive", h=H, windows=3, levels=(80,)).scores.set_index("model")
    assert own.loc["naive", "coverage-80"] >= 90 and abs(shown - 80) <= 12     # 3 windows × 6 steps


def test_clone_keeps_the_calibration_settings():
    model = Calibrated(Naive(), h=9, levels=(50, 90), windows=4, seconds=2.0)
    twin = model.clone()
    assert isinstance(twin, Calibrated) and twin.get_params()["h"] == 9
    assert (twin.levels, twin.windows, twin.seconds) == ((50, 90), 4, 2.0) and twin.model is not model.model


def test_a_long_upload_is_calibrated_on_its_newest_values(monkeypatch):
    """A hosted upload may hold 2 million values: 40 windows of it would stack 80 million rows.
    Each window is fitted on at most HISTORY values before the earliest window."""
    from genlib.forecast import calibrate

    seen = []
    real = calibrate.rolling_forecasts

    def spy(model, frame, h, windows, step, levels):
        seen.append((len(frame), windows, step))
        return real(model, frame, h, windows, step, levels)

    monkeypatch.setattr(calibrate, "rolling_forecasts", spy)
    y, _ = noise(5, 30_000)
    model = Calibrated(Naive(), h=H).fit(frame({"s": y}))
    (rows, windows, step), = seen
    assert windows == 40 and rows == calibrate.HISTORY + (windows - 1) * step + H
    assert model.factors_[80][-1] < 0.6           # calibrated all the same: naive's 6th step narrowed
