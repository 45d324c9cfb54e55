"""Forecast, explain and score in one call: what the app's Forecast page and scripts share.

    from genlib.data import load_series
    from genlib.forecast.report import run_forecast
    series = load_series("sales.csv")
    result = run_forecast(series, ["auto", "ets"], h=12, levels=(80, 95))
    result["forecasts"]["auto"]          # unique_id, ds, mean, lo-80, hi-80, lo-95, hi-95
    result["scores"]                     # backtest table, every score also relative to seasonal naive
    result["explanations"]               # why auto chose what it chose, per series
"""
from __future__ import annotations

from ..freq import default_horizon as _default_horizon, season_length_for
from .backtest import backtest
from .registry import MODELS as FORECASTERS, accepts, get_model


def default_horizon(series) -> int:
    """The horizon the Forecast page starts from: `genlib.freq.default_horizon` for the series'
    season, at most a quarter of its shortest series.

    >>> from genlib.data.series import load_sample_series
    >>> default_horizon(load_sample_series("co2"))
    12
    """
    shortest = int(series.df.groupby("unique_id").size().min())
    return _default_horizon(season_length_for(series.freq), shortest=shortest)


def run_forecast(series, models, h: int | None, levels, windows: int = 3, steps: int = 1000,
                 callbacks=(), stop_event=None) -> dict:
    """Fit each model, forecast h steps, backtest against seasonal naive; keep the result.

    Plain genlib calls: get_model(...).fit(df).predict(h, levels) and backtest(...)."""
    h = int(h or default_horizon(series))
    levels = tuple(sorted(levels))
    forecasts, explanations = {}, {}
    for name in models:
        network = FORECASTERS[name].capabilities.trains_network
        model = get_model(name, freq=series.freq, **({"steps": int(steps)} if network else {}))
        if accepts(model, "h"):          # auto backtests, and networks train, for this horizon
            model.set_params(h=h)
        if accepts(model, "levels"):
            model.set_params(levels=levels)
        # a network's training reports progress and can be stopped; the others fit in one go
        fitted = (model.fit(series.df, callbacks=callbacks, stop_event=stop_event) if network
                  else model.fit(series.df))
        forecasts[name] = fitted.predict(h, levels=levels)
        explanations.update(getattr(fitted, "explanation_", None) or {})     # auto says why
    # networks are not backtested here: each backtest window would train the network again
    quick = [m for m in models if not FORECASTERS[m].capabilities.trains_network]
    scores = backtest(series.df, list(dict.fromkeys([*quick, "seasonal_naive"])), h=h,
                      windows=windows, levels=levels).scores if quick else None
    return {"series": series.name, "h": h, "levels": levels, "forecasts": forecasts,
            "scores": scores, "explanations": explanations, "models": list(models),
            "not_backtested": [m for m in models if m not in quick]}
