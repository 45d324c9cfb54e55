"""Forecasting: many series at once, one output table, honest comparisons with benchmarks.

    from genlib.forecast import get_model, backtest, AutoForecaster
    fc = get_model("ar").fit(df).predict(12, levels=(80, 95))
    res = backtest(df, ["naive", "ar", "theta"], h=12, windows=3)
    fc = HolidayAdjusted(get_model("ets"), "US").fit(daily).predict(28)   # public holidays

`df` is the long table (unique_id, ds, y) that `genlib.load_series` returns. Names are imported
on first use (as in `genlib`): the command line's `--help` and the registry's model list do not
load statsmodels or the models (pandas and the backtest, yes).
"""
from __future__ import annotations

from .._lazy import lazy_names

# `backtest` is both a submodule and its function: importing the submodule sets the package's
# attribute to the module, so the function is bound here, after that import, once and for all
from .backtest import BacktestResult, backtest

_API = {
    "AutoForecaster": "auto", "BacktestResult": "backtest", "backtest": "backtest",   # bound above
    "Capabilities": "base", "Forecaster": "base", "future_ds": "base", "infer_freq": "base",
    "season_length_for": "base", "season_words": "base",
    "Drift": "baselines", "Naive": "baselines", "SeasonalNaive": "baselines",
    "WindowAverage": "baselines", "ARIMA": "classic", "ETS": "classic", "Theta": "classic",
    "AutoETS": "ets", "AutoARIMA": "arima", "AR": "linear", "MSTL": "mstl", "HolidayAdjusted": "calendar",
    "Middle": "middle",
    "MODELS": "registry", "ModelInfo": "registry", "get_model": "registry", "list_models": "registry",
}

__all__ = [
    "AR", "ARIMA", "AutoARIMA", "AutoETS", "AutoForecaster", "BacktestResult", "Capabilities", "Drift", "ETS",
    "Forecaster", "HolidayAdjusted", "MODELS", "MSTL", "Middle", "ModelInfo", "Naive", "SeasonalNaive", "Theta",
    "WindowAverage",
    "backtest", "future_ds", "get_model", "infer_freq", "list_models", "season_length_for",
    "season_words",
]


__getattr__, __dir__ = lazy_names(__name__, _API)
