"""Every forecaster by name: what the pages' select boxes, the CLI and `backtest` read.

>>> sorted(MODELS)[:3]
['ar', 'arima', 'arima_statsmodels']
>>> get_model("seasonal_naive", season_length=12)
SeasonalNaive(season_length=12)
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Any, Callable

from ..errors import GenlibError
from .base import Capabilities, Forecaster


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """One registered forecaster. The class is looked up when first used: `auto` and `backtest`
    build their candidates through this registry, so the registry cannot import them up front."""

    name: str                                   # registry key, e.g. "ar"
    title: str                                  # plain-words name for a select box
    blurb: str                                  # one sentence for a newcomer
    loader: Callable[[], type]                  # returns the forecaster class
    defaults: dict = dataclasses.field(default_factory=dict)   # fixed constructor arguments
    seconds_per_fit: float | None = None        # least cost of one series' fit, where a first
                                                # timing would itself blow a small time budget

    @property
    def cls(self) -> type:
        return self.loader()

    @property
    def capabilities(self) -> Capabilities:
        return self.cls.capabilities


def _attr(module: str, name: str) -> Callable[[], type]:
    def load() -> type:
        return getattr(importlib.import_module(module, __package__), name)
    return load


MODELS: dict[str, ModelInfo] = {m.name: m for m in [
    ModelInfo("naive", "Naive", "Repeats the last value: the simplest forecast, and the first "
              "one any model has to beat.", _attr(".baselines", "Naive")),
    ModelInfo("seasonal_naive", "Seasonal naive", "Repeats the last season (the same hour "
              "yesterday, the same month last year): the benchmark for seasonal data.",
              _attr(".baselines", "SeasonalNaive")),
    ModelInfo("seasonal_naive_long", "Seasonal naive, longer cycle", "Repeats the longer cycle "
              "(the same hour last week, the same day last year): for hourly and daily data whose "
              "weekends or seasons differ.", _attr(".baselines", "LongSeasonalNaive")),
    ModelInfo("drift", "Drift", "Draws a straight line through the first and last values and "
              "extends it: a steady trend.", _attr(".baselines", "Drift")),
    ModelInfo("window_average", "Window average", "Forecasts the average of the most recent "
              "values: good for noisy series without trend.", _attr(".baselines", "WindowAverage")),
    ModelInfo("ar", "Linear autoregression", "Predicts each value from a weighted sum of the "
              "previous ones, after removing trend and season; fast, with honest intervals.",
              _attr(".linear", "AR")),
    ModelInfo("ets", "Exponential smoothing (ETS)", "Smooths level, trend and season with weights "
              "that fade into the past; a classic that adapts to each series.",
              _attr(".ets", "AutoETS")),
    ModelInfo("ets_statsmodels", "Exponential smoothing (statsmodels)", "The same exponential "
              "smoothing fitted by statsmodels one series at a time; slower, for comparison.",
              _attr(".classic", "ETS"), seconds_per_fit=0.05),
    ModelInfo("arima", "ARIMA", "The textbook statistical model of a series' own past values and "
              "past errors, its orders chosen step by step.", _attr(".arima", "AutoARIMA"),
              seconds_per_fit=0.02),
    ModelInfo("arima_statsmodels", "ARIMA (statsmodels)", "The same ARIMA fitted by statsmodels "
              "with the exact likelihood, one series at a time; much slower, for comparison.",
              _attr(".classic", "ARIMA"), seconds_per_fit=0.3),
    ModelInfo("theta", "Theta method", "Exponential smoothing plus half the long-run trend, after "
              "removing the season; a strong, simple competition winner.",
              _attr(".classic", "Theta")),
    ModelInfo("middle", "Middle of three forecasts", "At each step the middle one of three "
              "forecasts (exponential smoothing, linear autoregression and the last value), so no "
              "one model's trend runs away: auto's default for yearly and undated series.",
              _attr(".middle", "Middle")),
    ModelInfo("mstl", "Several seasonal patterns (MSTL)", "Takes out daily and weekly patterns "
              "(or weekly and yearly ones), forecasts the rest by exponential smoothing and puts "
              "the patterns back: for hourly and daily data.", _attr(".mstl", "MSTL")),
    ModelInfo("neural_ar", "Neural network (MLP)", "A small neural network that learns from "
              "windows of all your series at once; trains for a while, best with many series.",
              _attr(".neural", "NeuralAR"), {"kind": "mlp"}),
    ModelInfo("neural_gru", "Neural network (GRU)", "A recurrent neural network that reads the "
              "recent past step by step; trains for a while, best with long series.",
              _attr(".neural", "NeuralAR"), {"kind": "gru"}),
    ModelInfo("auto", "Automatic choice", "Tries several models on the last stretches of each "
              "series and keeps the one that would have forecast best; a short series gets the "
              "average of three steady models, which a few test stretches cannot beat reliably.",
              _attr(".auto", "AutoForecaster")),
]}


def list_models() -> list[ModelInfo]:
    """Registered forecasters in a sensible order for a select box.

    >>> [m.name for m in list_models()][:2]
    ['naive', 'seasonal_naive']
    """
    return list(MODELS.values())


def get_model(name: str, **settings: Any) -> Forecaster:
    """A new forecaster by registry name, with hyperparameters as keyword arguments.

    >>> get_model("ar", p=2).p
    2
    """
    info = MODELS.get(name)
    if info is None:
        raise GenlibError(f"There is no forecasting model called {name!r}; choose one of "
                          f"{', '.join(MODELS)}.")
    cls = info.cls
    params = inspect.signature(cls.__init__).parameters
    unknown = [k for k in settings if k not in params]
    if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        allowed = [k for k in params if k != "self" and k not in info.defaults]
        raise GenlibError(f"{info.title} has no setting {', '.join(map(repr, unknown))}; its "
                          f"settings are {', '.join(allowed)}.")
    return cls(**{**info.defaults, **settings})


def accepts(model_or_cls: Any, setting: str) -> bool:
    """True when the forecaster's constructor takes `setting` (e.g. season_length)."""
    cls = model_or_cls if isinstance(model_or_cls, type) else type(model_or_cls)
    return setting in inspect.signature(cls.__init__).parameters
