"""Backtest schema and arithmetic, and one contract test over every registered model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlib.errors import DataError, GenlibError
from genlib.forecast import AR, MODELS, Naive, backtest, get_model, list_models
from genlib.forecast import metrics as M


def monthly(n_series=3, n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    parts = []
    for i in range(n_series):
        y = 100 + (i + 1) * 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "y": y[: n - 3 * i],
                                   "ds": pd.date_range("2015-01-01", periods=n - 3 * i, freq="MS")}))
    return pd.concat(parts, ignore_index=True)


def test_schema_and_seasonal_naive_reference():
    df = monthly()
    res = backtest(df, ["naive", AR()], h=6, windows=3, levels=(80, 95))
    assert res.scores["model"].tolist() == ["naive", "ar", "seasonal_naive"]
    expected = ["model", "MAE", "RMSE", "MAPE", "sMAPE", "MASE", "RMSSE", "coverage-80",
                "coverage-95", "CRPS"] + [f"{c}_rel" for c in
                                          ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "RMSSE", "CRPS"]] + ["seconds"]
    assert res.scores.columns.tolist() == expected
    sn = res.scores.set_index("model").loc["seasonal_naive"]
    assert all(sn[f"{c}_rel"] == pytest.approx(1.0) for c in ["MAE", "MASE", "CRPS"])
    fc = res.forecasts
    assert fc.columns.tolist() == ["unique_id", "ds", "cutoff", "y", "model", "mean",
                                   "lo-80", "hi-80", "lo-95", "hi-95"]
    assert len(fc) == 3 * 3 * 6 * 3                     # models × windows × h × series
    assert res.series_scores.shape[0] == 3 * 3 * 3       # models × windows × series
    ar = res.scores.set_index("model").loc["ar"]
    assert ar["MASE_rel"] < 1                           # seasonal + trend: AR beats the benchmark


def test_windows_cut_where_they_should_and_scores_add_up():
    df = monthly(n_series=2)
    res = backtest(df, "naive", h=4, windows=2, step=3)
    fc = res.forecasts[(res.forecasts["model"] == "naive") & (res.forecasts["unique_id"] == "s1")]
    s1 = df[df["unique_id"] == "s1"].reset_index(drop=True)
    n = len(s1)
    cutoffs = sorted(fc["cutoff"].unique())
    assert list(pd.DatetimeIndex(cutoffs)) == [s1["ds"].iloc[n - 4 - 3 - 1], s1["ds"].iloc[n - 4 - 1]]
    first = fc[fc["cutoff"] == cutoffs[0]]
    np.testing.assert_allclose(first["y"], s1["y"].iloc[n - 7:n - 3])
    np.testing.assert_allclose(first["mean"], s1["y"].iloc[n - 8])        # naive = last value
    hist = s1["y"].iloc[: n - 7].to_numpy()
    row = res.series_scores.query("model == 'naive' and unique_id == 's1'").iloc[0]
    assert row["MASE"] == pytest.approx(M.mase(first["y"], first["mean"], hist, 12))
    assert row["sMAPE"] == pytest.approx(M.smape(first["y"], first["mean"]))
    naive_rows = res.series_scores.query("model == 'naive'")
    assert res.scores.set_index("model").loc["naive", "MASE"] == pytest.approx(naive_rows["MASE"].mean())


def test_metric_season_length_changes_only_the_scale():
    df = monthly(n_series=1)
    a = backtest(df, "naive", h=6, windows=2)
    b = backtest(df, "naive", h=6, windows=2, metric_season_length=1)
    assert a.scores["MAE"].tolist() == b.scores["MAE"].tolist()
    assert a.scores["MASE"].tolist() != b.scores["MASE"].tolist()
    assert b.season_length == 1


def test_duplicate_labels_and_bad_inputs():
    df = monthly(n_series=1)
    res = backtest(df, [Naive(), Naive()], h=3, windows=1)
    assert res.scores["model"].tolist() == ["naive", "naive-2", "seasonal_naive"]
    with pytest.raises(GenlibError, match="no forecasting model called 'prophet'"):
        backtest(df, "prophet", h=3, windows=1)
    with pytest.raises(GenlibError, match="windows must be"):
        backtest(df, "naive", h=3, windows=0)
    with pytest.raises(DataError, match=r"too short to test the models: .* Choose a horizon of at most"):
        backtest(df, "naive", h=50, windows=5)


def test_short_series_get_fewer_windows_and_too_short_ones_are_named():
    df = monthly(n_series=1, n=60)
    short = df.assign(unique_id="short").head(30)               # 30 values: 13 + 12 → 1 window
    tiny = df.assign(unique_id="tiny").head(10)                 # fewer than 13 + 12: not tested
    res = backtest(pd.concat([df, short, tiny]), ["naive"], h=12, windows=3, step=12)
    assert res.series_windows == {"s0": 3, "short": 1, "tiny": 0}
    assert set(res.skipped) == {"tiny"} and "15 more values needed" in res.skipped["tiny"]
    per = res.series_scores.groupby("unique_id")["cutoff"].nunique().to_dict()
    assert per == {"s0": 3, "short": 1}
    alone = backtest(df, ["naive"], h=12, windows=3, step=12).scores.set_index("model")
    both = res.scores.set_index("model")
    assert both.loc["naive", "MAE"] != alone.loc["naive", "MAE"]     # the short series counts


def test_registry_lists_every_model_with_capabilities():
    names = [m.name for m in list_models()]
    for name in ["naive", "seasonal_naive", "drift", "window_average", "ar", "neural_ar",
                 "neural_gru", "ets", "arima", "arima_statsmodels", "theta", "mstl", "auto"]:
        assert name in names
    for info in list_models():
        assert info.title and info.blurb.endswith(".")
        caps = info.capabilities
        assert caps.minimum(12) >= 1
    assert MODELS["neural_ar"].capabilities.trains_network
    with pytest.raises(GenlibError, match="has no setting 'bogus'"):
        get_model("naive", bogus=1)


FAST = [m.name for m in list_models()
        if not m.capabilities.trains_network and m.name not in ("arima_statsmodels",)]


@pytest.mark.parametrize("name", FAST)
def test_every_registered_model_keeps_the_contract(name):
    """Build by name, fit two series of different lengths, predict: one schema for all."""
    df = monthly(n_series=2, n=40)
    kw = {"candidates": ("seasonal_naive", "naive", "ar"), "h": 4} if name == "auto" else {}
    model = get_model(name, **kw)
    assert model.fit(df) is model
    fc = model.predict(5, levels=(95, 80))
    assert fc.columns.tolist() == ["unique_id", "ds", "mean", "lo-95", "hi-95", "lo-80", "hi-80"]
    assert fc["unique_id"].tolist() == ["s0"] * 5 + ["s1"] * 5
    last = df.groupby("unique_id")["ds"].max()
    assert fc.groupby("unique_id")["ds"].min().tolist() == [d + pd.offsets.MonthBegin(1) for d in last]
    values = fc[["mean", "lo-95", "hi-95", "lo-80", "hi-80"]].to_numpy()
    assert np.isfinite(values).all()
    assert (fc["lo-95"] <= fc["lo-80"] + 1e-9).all() and (fc["lo-80"] <= fc["mean"] + 1e-9).all()
    assert (fc["mean"] <= fc["hi-80"] + 1e-9).all() and (fc["hi-80"] <= fc["hi-95"] + 1e-9).all()
    assert isinstance(model.describe("s0"), str)
    assert type(model)(**model.get_params()).get_params() == model.get_params()


PER_SERIES = [name for name in FAST if MODELS[name].capabilities.per_series]


@pytest.mark.parametrize("name", PER_SERIES)
def test_a_per_series_model_fits_each_series_on_its_own(name):
    """What `capabilities.per_series` promises (the backtest fits all windows as one panel on
    it): a series' forecast is the same whether other series are fitted with it or not."""
    df = monthly(n_series=3, n=48)
    together = get_model(name, season_length=12).fit(df).predict(6)
    alone = get_model(name, season_length=12).fit(df[df["unique_id"] == "s1"]).predict(6)
    mine = together[together["unique_id"] == "s1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone, rtol=1e-9)


def test_backtest_windows_fitted_as_one_panel_match_a_fit_per_window():
    from genlib.forecast.backtest import long_frame, rolling_forecasts
    from genlib.forecast.base import split_series
    df = monthly(n_series=2, n=48)
    model = get_model("ets", season_length=12)
    assert model.capabilities.per_series
    fc = rolling_forecasts(model, long_frame(split_series(df)), 6, 3, 2, (80,))
    for w, back in enumerate((10, 8, 6)):              # h + (windows − 1 − w) · step
        train = df[df.groupby("unique_id").cumcount(ascending=False) >= back]
        own = model.clone().fit(train).predict(6, levels=(80,))
        got = fc.iloc[w * 12:(w + 1) * 12]
        assert got["unique_id"].tolist() == own["unique_id"].tolist()
        np.testing.assert_allclose(got[["mean", "lo-80", "hi-80"]].to_numpy(),
                                   own[["mean", "lo-80", "hi-80"]].to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("module", ["base", "baselines", "metrics", "linear", "classic", "backtest",
                                    "auto", "registry", "selection", "calibrate", "conformal", "report",
                                    "calendar", "mstl", "ets", "arima", "plain", "middle", "budget",
                                    "neural"])
def test_docstring_examples_run(module):
    """Every example in the forecasting docstrings runs and prints what it says."""
    import doctest
    import importlib
    mod = importlib.import_module(f"genlib.forecast.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
