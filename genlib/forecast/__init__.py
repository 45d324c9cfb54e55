"""Forecasting: many series at once, one output table, honest comparisons with benchmarks.

    from genlib.forecast import get_model, backtest, AutoForecaster
    fc = get_model("ar").fit(df).predict(12, levels=(80, 95))
    res = backtest(df, ["naive", "ar", "theta"], h=12, windows=3)

`df` is the long table (unique_id, ds, y) that `genlib.load_series` returns. Names are imported
on first use (as in `genlib`): the command line's `--help` and the registry's model list do not
load statsmodels or the models (pandas and the backtest, yes).
"""
from __future__ import annotations

import importlib

# `backtest` is both a submodule and its function: importing the submodule sets the package's
# attribute to the module, so the function is bound here, after that import, once and for all
from .backtest import BacktestResult, backtest

_API = {
    "AutoForecaster": "auto", "BacktestResult": "backtest", "backtest": "backtest",   # bound above
    "Capabilities": "base", "Forecaster": "base", "future_ds": "base", "infer_freq": "base",
    "season_length_for": "base", "season_words": "base",
    "Drift": "baselines", "Naive": "baselines", "SeasonalNaive": "baselines",
    "WindowAverage": "baselines", "ARIMA": "classic", "ETS": "classic", "Theta": "classic",
    "AutoETS": "ets", "AR": "linear", "MSTL": "mstl",
    "MODELS": "registry", "ModelInfo": "registry", "get_model": "registry", "list_models": "registry",
}

__all__ = [
    "AR", "ARIMA", "AutoETS", "AutoForecaster", "BacktestResult", "Capabilities", "Drift", "ETS",
    "Forecaster", "MODELS", "MSTL", "ModelInfo", "Naive", "SeasonalNaive", "Theta", "WindowAverage",
    "backtest", "future_ds", "get_model", "infer_freq", "list_models", "season_length_for",
    "season_words",
]


def __getattr__(name: str):
    """A public name, or a submodule (`genlib.forecast.auto`), imported on first use."""
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    elif not name.startswith("__"):
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
