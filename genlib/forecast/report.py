"""Forecast, explain and score in one call: what the app's Forecast page and scripts share.

    from genlib.data import load_series
    from genlib.forecast.report import run_forecast
    series = load_series("sales.csv")
    result = run_forecast(series, ["auto", "ets"], h=12, levels=(80, 95))
    result["forecasts"]["auto"]          # unique_id, ds, mean, lo-80, hi-80, lo-95, hi-95
    result["scores"]                     # backtest table, every score also relative to seasonal naive
    result["explanations"]               # why auto chose what it chose, per series
    result["notes"]                      # short series: what was done instead, and why

`genlib.forecast.plain` turns the result into what a person reads: model titles, a three-column
score table, a glossary and a forecast table with friendly column names.
"""
from __future__ import annotations

import pandas as pd

from ..errors import DataError
from ..freq import default_horizon as _default_horizon, season_length_for, season_words
from .backtest import affordable_windows, backtest
from .base import fit_with, resolve_season_length, split_series
from .calendar import HolidayAdjusted, check_holidays
from .conformal import Calibrated, bands_sentence
from .frozen import freeze_network
from .registry import MODELS as FORECASTERS, accepts, get_model
from .selection import base_windows


def default_horizon(series) -> int:
    """The horizon the Forecast page starts from: `genlib.freq.default_horizon` for the series'
    season, at most a quarter of its shortest series.

    >>> from genlib.data.series import load_sample_series
    >>> default_horizon(load_sample_series("co2"))
    12
    """
    shortest = int(series.df.groupby("unique_id").size().min())
    return _default_horizon(season_length_for(series.freq), shortest=shortest)


def trains_a_network(models, n_series: int = 1) -> bool:
    """True when forecasting with `models` trains a neural network (minutes on a CPU): a network
    model, or auto on a panel large enough for its network candidate.

    >>> trains_a_network(["auto", "naive"]), trains_a_network(["auto"], n_series=500)
    (False, True)
    """
    from .auto import DEFAULT_CANDIDATES

    if "auto" in models and any(FORECASTERS[c].capabilities.trains_network
                                and FORECASTERS[c].capabilities.min_series <= n_series
                                for c in DEFAULT_CANDIDATES):
        return True
    return any(FORECASTERS[m].capabilities.trains_network for m in models if m in FORECASTERS)


def forecast_model(name: str, h: int, levels=(80, 95), *, freq=None, season_length: int | None = None,
                   steps: int | None = None, budget: float | None = None, holidays: str | None = None,
                   calibrate: bool = True):
    """The unfitted model `fit_forecast` fits for `name` (its arguments, same meaning): the
    registry's model, inside `conformal.Calibrated` (calibrate, for every model with bands but auto
    and the networks) and `calendar.HolidayAdjusted` (holidays). The command line's backtest scores
    this very model, so its band coverage is that of the bands `forecast` writes.

    >>> type(forecast_model("ets", 6)).__name__, type(forecast_model("auto", 6)).__name__
    ('Calibrated', 'AutoForecaster')
    """
    info = FORECASTERS[name]
    network = info.capabilities.trains_network
    wanted = {"season_length": season_length, "freq": freq, "h": int(h), "levels": tuple(levels),
              "steps": int(steps) if (network and steps) else None, "budget": budget}
    model = get_model(name, **{k: v for k, v in wanted.items()
                               if v is not None and accepts(info.cls, k)})
    if calibrate and name != "auto" and not network and info.capabilities.intervals:
        model = Calibrated(model, h=int(h), levels=tuple(levels))
    if holidays:
        model = HolidayAdjusted(model, holidays)
    return model


def fit_forecast(name: str, df: pd.DataFrame, h: int, levels=(80, 95), *, freq=None,
                 season_length: int | None = None, steps: int | None = None, callbacks=(),
                 stop_event=None, budget: float | None = None, holidays: str | None = None,
                 calibrate: bool = True) -> tuple[pd.DataFrame, object, dict]:
    """Fit one registered model and forecast h steps: (forecast, fitted model, notes).

    The rule for short series, shared by the Forecast page and the command line: a series with
    fewer values than the model needs is forecast by Naive (repeat the last value) instead, and
    its note says why; a series with a single value cannot be forecast and is left out with a
    note. A few short series never block the others. budget: seconds for auto's fit (None: its
    default). holidays: a country's code (US, DE, …): the model is fitted and forecasts with that
    country's public holidays as calendar effects (`calendar.HolidayAdjusted`; daily or hourly
    data), and each series' note says what they did. calibrate: a model's bands are scaled to
    hold their level on the series' own past (`conformal.Calibrated`; auto calibrates its own,
    and a network's quantiles are learned); False keeps the model's own bands.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01", periods=5, freq="MS"),
    ...                    "y": [3., 4, 5, 4, 6]})
    >>> fc, _, notes = fit_forecast("ets", df, 2, (80,))
    >>> fc["mean"].tolist(), notes["a"][:48]
    ([6.0, 6.0], 'Exponential smoothing (ETS) needs at least 10 va')
    """
    info = FORECASTERS[name]
    model = forecast_model(name, h, levels, freq=freq, season_length=season_length, steps=steps,
                           budget=budget, holidays=holidays, calibrate=calibrate)
    data = split_series(df, freq)
    m = resolve_season_length(getattr(model, "season_length", None) or season_length, data.freq)
    need = model.capabilities.minimum(m, data.freq)
    sizes = dict(zip(data.ids, (len(v) for v in data.values)))
    notes: dict[str, str] = {}
    long_ids = [u for u, n in sizes.items() if n >= need]
    short_ids = [u for u, n in sizes.items() if 2 <= n < need]
    for u, n in sizes.items():
        if n < 2:
            notes[u] = "only one value: a forecast needs at least two, so this series has none."
    for u in short_ids:
        notes[u] = (f"{info.title} needs at least {need} values and this series has {sizes[u]}: "
                    f"{FORECASTERS['naive'].title} (repeat the last value) was used instead.")
    if not long_ids and not short_ids:
        raise DataError("Every series has only one value; a forecast needs at least two. Load a "
                        "table with more rows per series.")
    parts, fitted = [], None
    if long_ids:
        sub = df[df["unique_id"].isin(set(long_ids))] if short_ids or len(long_ids) < len(sizes) else df
        # a network's training (auto's too) reports progress and can be stopped
        fitted = fit_with(model, sub, callbacks, stop_event)
        parts.append(fitted.predict(h, levels=levels))
        for u, note in (getattr(fitted, "notes_", None) or {}).items():
            notes.setdefault(u, note)
    if short_ids:
        fallback = get_model("naive", freq=freq).fit(df[df["unique_id"].isin(set(short_ids))])
        parts.append(fallback.predict(h, levels=levels))
    fc = pd.concat(parts, ignore_index=True).sort_values(["unique_id", "ds"], kind="stable",
                                                          ignore_index=True)
    return fc, fitted, notes


def run_forecast(series, models, h: int | None, levels, windows: int = 3, steps: int = 1000,
                 callbacks=(), stop_event=None, holidays: str | None = None) -> dict:
    """Fit each model, forecast h steps, backtest against seasonal naive; keep the result.

    Short series follow one rule (`fit_forecast`, `backtest.affordable_windows`): they are
    forecast by a simpler model when too short for the chosen one, tested on fewer windows, or
    not tested; their notes say why. The result is a plain dict (tables, words, numbers).
    `callbacks` follow the networks' training; `stop_event` stops it (auto then finishes without
    its network), and a backtest that Stop cut short leaves auto out (`stopped_tests`).
    `holidays`: a country's code; every model is fitted, forecast and tested with its public
    holidays (`fit_forecast`), each window's effect measured on that window's history."""
    h = int(h or default_horizon(series))
    if holidays:
        holidays = check_holidays(holidays, series.freq)
    levels = tuple(sorted(levels))
    forecasts, explanations, notes, tested_as, trains, bands = {}, {}, {}, {}, set(), {}
    for name in models:
        fc, fitted, why = fit_forecast(name, series.df, h, levels, freq=series.freq, steps=steps,
                                       callbacks=callbacks, stop_event=stop_event, holidays=holidays)
        inner = fitted.model if isinstance(fitted, HolidayAdjusted) else fitted
        forecasts[name], tested_as[name] = fc, as_backtested(name, inner)
        if bands_sentence(fitted):
            bands[name] = bands_sentence(fitted)  # what calibration did to its bands
        if name == "auto" and fitted is not None and any(
                lb in FORECASTERS and FORECASTERS[lb].capabilities.trains_network for lb in fitted.scores_):
            trains.add(name)                      # its backtest uses the network too
        explanations.update(getattr(fitted, "explanation_", None) or {})     # auto says why
        for uid, sentence in why.items():
            if sentence not in notes.setdefault(uid, []):    # what holidays did: once per series
                notes[uid].append(sentence)
    # networks are not backtested here: each backtest window would train the network again
    quick = [m for m in models if not FORECASTERS[m].capabilities.trains_network]
    scores = series_scores = note = None
    tested: dict = {}
    stopped: list = []
    if quick:
        for name in trains:                       # one training of the network for all windows
            back = h * (windows + base_windows(tested_as[name].windows))
            tested_as[name] = freeze_network(tested_as[name], series.df, back, callbacks, stop_event)
        try:
            bt = backtest(series.df, {m: tested_as[m] for m in quick}, h=h, windows=windows,
                          levels=levels, callbacks=callbacks, stop_event=stop_event,
                          holidays=holidays)      # + seasonal naive, which keeps no holidays
        except DataError as exc:                  # no series long enough: forecasts still stand
            note = str(exc)
        else:
            scores, series_scores, tested = bt.scores, bt.series_scores, bt.series_windows
            for uid, why in bt.skipped.items():
                notes.setdefault(uid, []).append(f"Not tested: {why}.")
            if stop_event is not None and stop_event.is_set() and trains:
                stopped = list(trains)            # Stop cut its network short in some windows
                scores = scores[~scores["model"].isin(trains)].reset_index(drop=True)
                series_scores = series_scores[~series_scores["model"].isin(trains)].reset_index(drop=True)
    return {"series": series.name, "h": h, "levels": levels, "windows": int(windows),
            "forecasts": forecasts, "scores": scores, "series_scores": series_scores,
            "tested": tested, "backtest_note": note, "explanations": explanations,
            "notes": notes, "models": list(models), "stopped_tests": stopped, "holidays": holidays,
            "bands": bands,
            "not_backtested": [m for m in models if m not in quick]}


def as_backtested(name: str, fitted):
    """What the backtest fits for model `name`: its name; a calibrated model as it forecast,
    calibrated on each window's own past (the bands the table scores are those it shows); auto
    with the candidates its own fit kept and no budget of its own (each window would otherwise
    time them again and spend the whole budget again: four times the wait on the Forecast page),
    and without a network its Stop button cut short."""
    if isinstance(fitted, Calibrated):       # tested as forecast: calibrated on each window's past
        return fitted.clone()
    left_out = getattr(fitted, "left_out_", None)
    if name != "auto" or left_out is None:
        return name
    left_out = {**left_out, **getattr(fitted, "stopped_", {})}     # nor what Stop left out
    kept = tuple(c for c in fitted.candidates if (c if isinstance(c, str) else c.name) not in left_out)
    return fitted.clone(candidates=kept, budget=None)


def short_series_note(series, models=("auto",), h: int | None = None, windows: int = 3) -> str | None:
    """What forecasting with the Forecast page's settings (default: auto, the default horizon, 3
    tests) will do with the short series of `series`, in one sentence for the Data page; None
    when every series gets every test. The same rule as `run_forecast`: a series too short for
    the model is forecast by Naive, one short for the tests is tested fewer times or not at all
    (`backtest.affordable_windows`), and every series still gets a forecast.

    >>> import pandas as pd
    >>> from genlib.data.series import load_series
    >>> csv = "month,sales\\n" + "".join(f"2024-{m:02d}-01,{m}\\n" for m in range(1, 6))
    >>> short_series_note(load_series(csv.encode(), name="s.csv"))  # doctest: +ELLIPSIS
    'This series has 5 values: too few to test the models on the past (a test of 1 month needs ...'
    """
    h = int(h or default_horizon(series))
    m = season_length_for(series.freq)
    quick = [n for n in dict.fromkeys([*models, "seasonal_naive"])
             if not FORECASTERS[n].capabilities.trains_network]
    need = max(FORECASTERS[n].capabilities.minimum(m, series.freq) for n in quick)
    model_need = min(FORECASTERS[n].capabilities.minimum(m, series.freq) for n in models)
    lengths = series.df.groupby("unique_id", sort=False).size()
    wins = [affordable_windows(int(n), h, windows, h, need) for n in lengths]
    fewer, untested = sum(0 < w < windows for w in wins), sum(w == 0 for w in wins)
    naive = int((lengths < model_need).sum())
    if not fewer and not untested and not naive:
        return None
    test = f"a test of {season_words(h, series.freq)} needs {need + h} values"
    if len(lengths) == 1:
        n = int(lengths.iloc[0])
        if untested:
            what = f"too few to test the models on the past ({test})"
        else:
            what = f"enough to test the models on the past {wins[0]} time{'s' * (wins[0] != 1)}, not {windows}"
        simple = ("; it is also too short for the chosen model, so it will be forecast by repeating "
                  "its last value" if naive else "")
        return f"This series has {n:,} values: {what}{simple}. It will still get a forecast."
    parts = []
    if fewer:
        parts.append(f"{fewer:,} will be tested on the past fewer than {windows} times")
    if untested:
        parts.append(f"{untested:,} are too short to be tested at all ({test})")
    if naive:
        parts.append(f"{naive:,} are too short for the chosen model and will be forecast by "
                     f"repeating their last value")
    return (f"Of {len(lengths):,} series, with the Forecast page's settings (a horizon of "
            f"{season_words(h, series.freq)}, {windows} tests on the past): {'; '.join(parts)}. "
            f"Every series still gets a forecast.")
