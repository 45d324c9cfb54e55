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

from .backtest import backtest
from .base import season_length_for
from .registry import MODELS as FORECASTERS, accepts, get_model


def default_horizon(series) -> int:
    """A season ahead (a year of months, a day of hours), at least 8 steps, at most a quarter
    of the shortest series."""
    m = season_length_for(series.freq)
    h = m if m >= 12 else max(2 * m, 8)
    shortest = int(series.df.groupby("unique_id").size().min())
    return max(1, min(h, shortest // 4))


def run_forecast(series, models, h: int | None, levels, windows: int = 3, steps: int = 1000,
                 callbacks=(), stop_event=None) -> dict:
    """Fit each model, forecast h steps, backtest against seasonal naive; keep the result.

    Plain genlib calls: get_model(...).fit(df).predict(h, levels) and backtest(...)."""
    h = int(h or default_horizon(series))
    levels = tuple(sorted(levels))
    forecasts, explanations = {}, {}
    for name in models:
        kw = {"callbacks": callbacks, "stop_event": stop_event, "steps": int(steps)} \
            if FORECASTERS[name].capabilities.trains_network else {}
        model = get_model(name, freq=series.freq, **kw)
        if accepts(model, "h"):          # auto backtests, and networks train, for this horizon
            model.set_params(h=h)
        if accepts(model, "levels"):
            model.set_params(levels=levels)
        fitted = model.fit(series.df)
        forecasts[name] = fitted.predict(h, levels=levels)
        explanations.update(getattr(fitted, "explanation_", None) or {})     # auto says why
    # networks are not backtested here: each backtest window would train the network again
    quick = [m for m in models if not FORECASTERS[m].capabilities.trains_network]
    scores = backtest(series.df, list(dict.fromkeys([*quick, "seasonal_naive"])), h=h,
                      windows=windows, levels=levels).scores if quick else None
    return {"series": series.name, "h": h, "levels": levels, "forecasts": forecasts,
            "scores": scores, "explanations": explanations, "models": list(models),
            "not_backtested": [m for m in models if m not in quick]}
