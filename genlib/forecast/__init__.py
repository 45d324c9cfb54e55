"""Forecasting: many series at once, one output table, honest comparisons with benchmarks.

    from genlib.forecast import get_model, backtest, AutoForecaster
    fc = get_model("ar").fit(df).predict(12, levels=(80, 95))
    res = backtest(df, ["naive", "ar", "theta"], h=12, windows=3)

`df` is the long table (unique_id, ds, y) that `genlib.load_series` returns.
"""
from .auto import AutoForecaster
from .backtest import BacktestResult, backtest
from .base import Capabilities, Forecaster, future_ds, infer_freq, season_length_for, season_words
from .baselines import Drift, Naive, SeasonalNaive, WindowAverage
from .classic import ARIMA, ETS, Theta
from .ets import AutoETS
from .linear import AR
from .registry import MODELS, ModelInfo, get_model, list_models

__all__ = [
    "AR", "ARIMA", "AutoETS", "AutoForecaster", "BacktestResult", "Capabilities", "Drift", "ETS",
    "Forecaster", "MODELS", "ModelInfo", "Naive", "SeasonalNaive", "Theta", "WindowAverage",
    "backtest", "future_ds", "get_model", "infer_freq", "list_models", "season_length_for",
    "season_words",
]
