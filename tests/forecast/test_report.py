"""run_forecast: one call that forecasts, explains and backtests (the Forecast page's engine)."""
import numpy as np
import pandas as pd

from genlib.data import load_series
from genlib.forecast.report import default_horizon, run_forecast


def monthly(n=96, series=2):
    rows = []
    rng = np.random.default_rng(0)
    for k in range(series):
        t = np.arange(n)
        y = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n) + 20 * k
        rows.append(pd.DataFrame({"id": f"s{k}", "date": pd.date_range("2015-01-01", periods=n, freq="MS"), "y": y}))
    return load_series(pd.concat(rows))


def test_auto_is_told_the_horizon_and_everything_is_scored():
    series = monthly()
    assert default_horizon(series) == 12
    result = run_forecast(series, ["auto", "naive"], h=6, levels=(95, 80), windows=2)
    fc = result["forecasts"]["auto"]
    assert list(fc.columns) == ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert len(fc) == 2 * 6 and (fc["lo-95"] <= fc["lo-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()
    assert set(result["explanations"]) == {"s0", "s1"}
    # two series of 96 months (a thin panel): 8 windows of 6 months from each one's second half
    assert all("tested on the last 8 stretches" in text for text in result["explanations"].values())
    scores = result["scores"].set_index("model") if "model" in result["scores"] else result["scores"]
    assert {"auto", "naive", "seasonal_naive"} <= set(scores.index)
    # a trending seasonal series: auto must beat the obvious guess
    assert scores.loc["auto", "MASE"] < scores.loc["seasonal_naive", "MASE"]
