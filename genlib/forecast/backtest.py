"""Rolling-origin backtest: how well would each model have forecast the last few stretches?

For each of `windows` cutoffs — the last one h steps before each series' end, the others
`step` steps earlier each — every model is fitted on the data up to the cutoff and forecasts
the next h steps, which are then compared with what happened:

    series  ──────────────────────────────|─── h ───|
    window 1 (earliest)  fit ────────|▒▒▒▒▒▒|
    window 2             fit ──────────────|▒▒▒▒▒▒|
    window 3             fit ─────────────────────|▒▒▒▒▒▒|

Scores are means over series and windows of the per-window scores (metrics.py). MASE,
RMSSE and CRPS are scaled by the in-sample seasonal-naive error of each window's history, so
they average sensibly over series of different sizes. `*_rel` columns divide a model's score
by seasonal naive's (always included): below 1 means better than the benchmark.

>>> import numpy as np, pandas as pd
>>> t = np.arange(60)
>>> df = pd.DataFrame({"unique_id": "a", "ds": t, "y": np.sin(2 * np.pi * t / 12) + 0.05 * t})
>>> res = backtest(df, ["naive", "ar"], h=6, windows=2, season_length=12)
>>> res.scores["model"].tolist()
['naive', 'ar', 'seasonal_naive']
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, GenlibError
from ..freq import date_stamps
from . import metrics
from .base import (Forecaster, check_horizon, check_levels, fit_with, level_name,
                   resolve_season_length, split_series)
from .registry import accepts, get_model

ERROR_METRICS = ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "RMSSE", "CRPS"]


@dataclasses.dataclass
class BacktestResult:
    """What `backtest` returns: one score row per model, and every forecast it made."""

    scores: pd.DataFrame          # model, MAE RMSE MAPE sMAPE MASE RMSSE coverage-L… CRPS, *_rel, seconds
    forecasts: pd.DataFrame       # unique_id, ds, cutoff, y, model, mean, lo-L, hi-L…
    series_scores: pd.DataFrame   # unique_id, cutoff, model and the scores of each window
    h: int                        # forecast horizon of each window
    windows: int                  # number of cutoffs
    step: int                     # steps between cutoffs
    levels: tuple                 # interval levels scored
    season_length: int            # period of the seasonal-naive scale (MASE, RMSSE, CRPS)
    series_windows: dict = dataclasses.field(default_factory=dict)  # unique_id → windows it afforded
    skipped: dict = dataclasses.field(default_factory=dict)         # unique_id → why it was not tested


def backtest(df: pd.DataFrame, models: Any, *, h: int, windows: int = 3, step: int | None = None,
             levels: Sequence[float] = (80, 95), season_length: int | None = None,
             freq: Any = None, metric_season_length: int | None = None, callbacks: Sequence[Any] = (),
             stop_event: Any = None, holidays: str | None = None) -> BacktestResult:
    """Rolling-origin evaluation of one or more models on the long table df.

    models: a registry name, a forecaster, or a list of either (seasonal_naive is added).
    h: steps forecast from each cutoff; windows: cutoffs; step: distance between cutoffs
    (None → h); season_length: given to models built from names and used for the scales
    (metric_season_length overrides the latter, e.g. M4 weekly scores MASE with m = 1).
    A series too short for `windows` cutoffs is tested on fewer (`affordable_windows`); one too
    short for any is left out and named in `skipped`. Only when no series can be tested at all
    is it an error. `callbacks` and `stop_event` reach the fits that train (`base.fit_with`).
    holidays: a country's code; every model but the seasonal-naive benchmark is then tested with
    its public holidays as calendar effects, measured on each window's history alone
    (`calendar.HolidayAdjusted`).

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(40), "y": np.arange(40.0)})
    >>> float(backtest(df, "drift", h=4, windows=2).scores.set_index("model").loc["drift", "MAE"])
    0.0
    """
    h = check_horizon(h)
    windows = _positive_int(windows, "windows")
    step = h if step is None else _positive_int(step, "step")
    levels = check_levels(levels)
    data = split_series(df, freq)
    m = resolve_season_length(season_length, data.freq)
    m_metric = resolve_season_length(metric_season_length, data.freq) if metric_season_length else m
    named = _build_models(models, season_length, freq, h)
    if holidays:                        # a wrapper around each model (imported when used)
        from .calendar import HolidayAdjusted, check_holidays

        check_holidays(holidays, data.freq)
        named = {label: m if label == "seasonal_naive" or isinstance(m, HolidayAdjusted)
                 else HolidayAdjusted(m, holidays) for label, m in named.items()}
    if "seasonal_naive" not in named:
        named["seasonal_naive"] = get_model("seasonal_naive", season_length=m, freq=freq)
    need = max(model.capabilities.minimum(_model_m(model, m), data.freq) for model in named.values())
    lengths = [len(v) for v in data.values]
    wins = [affordable_windows(n, h, windows, step, need) for n in lengths]
    skipped = {uid: too_short_words(n, h, need) for uid, n, w in zip(data.ids, lengths, wins) if not w}
    if len(skipped) == len(lengths):
        most = max(lengths) - need
        action = (f"Choose a horizon of at most {most} steps, or add more history" if most >= 1
                  else "Add more history")
        what = (f"The series is {too_short_words(lengths[0], h, need)}" if len(lengths) == 1 else
                f"No series is long enough to test the models on {h} step{'s' * (h != 1)}: each "
                f"needs at least {need + h} values, the longest has {max(lengths)}")
        raise DataError(f"{what}. {action}; the forecasts themselves do not need this test.")
    frame = long_frame(data)
    groups = []                         # series that afford the same number of windows, together
    for w in sorted(set(wins) - {0}, reverse=True):
        members = [i for i, x in enumerate(wins) if x == w]
        ids = {data.ids[i] for i in members}
        groups.append((w, frame[frame["unique_id"].isin(ids)],
                       window_scales([data.values[i] for i in members], h, w, step, m_metric)))
    all_fc, all_scores, rows = [], [], []
    for label, model in named.items():
        t0 = time.perf_counter()
        parts = [(rolling_forecasts(model, sub, h, w, step, levels, callbacks, stop_event), scale)
                 for w, sub, scale in groups]
        seconds = time.perf_counter() - t0
        fc = pd.concat([f for f, _ in parts], ignore_index=True)
        sc = pd.concat([score_forecasts(f, scale, h, levels) for f, scale in parts], ignore_index=True)
        fc.insert(4, "model", label)
        sc.insert(2, "model", label)
        all_fc.append(fc)
        all_scores.append(sc)
        rows.append({"model": label, **summarise(sc, levels), "seconds": seconds})
    scores = pd.DataFrame(rows)
    base = scores.set_index("model").loc["seasonal_naive"]
    for col in ERROR_METRICS:
        scores[f"{col}_rel"] = scores[col] / base[col] if base[col] else np.nan
    order = [c for c in scores.columns if c != "seconds"] + ["seconds"]
    return BacktestResult(scores[order], pd.concat(all_fc, ignore_index=True),
                          pd.concat(all_scores, ignore_index=True), h, windows, step, levels,
                          m_metric, dict(zip(data.ids, wins)), skipped)


# ---- the one rule for short series (the Forecast page and the command line) --------------------
def affordable_windows(n: int, h: int, windows: int, step: int, need: int) -> int:
    """Backtest windows a series of n values affords: as many as asked, fewer when the series is
    short (each keeps `need` values before its first cutoff), 0 when not even one fits.

    A short series never blocks the others: it is tested on fewer windows, or not at all, and
    still gets its forecast.

    >>> affordable_windows(100, 12, 3, 12, 13), affordable_windows(40, 12, 3, 12, 13)
    (3, 2)
    >>> affordable_windows(5, 1, 3, 1, 13)
    0
    """
    free = int(n) - int(need) - int(h)
    return 0 if free < 0 else min(int(windows), free // int(step) + 1)


def too_short_words(n: int, h: int, need: int) -> str:
    """Why a series was not tested, in words: how many more values a test needs.

    >>> too_short_words(5, 1, 13)
    'too short to test the models: 9 more values needed (it has 5; a test of 1 step needs 14)'
    """
    more = int(need) + int(h) - int(n)
    return (f"too short to test the models: {more} more value{'s' * (more != 1)} needed (it has "
            f"{n}; a test of {h} step{'s' * (h != 1)} needs {need + h})")


# ---- pieces (also used by AutoForecaster) -----------------------------------------------------
def long_frame(data) -> pd.DataFrame:
    """The checked long table again, sorted, with each row's position in its series and its size."""
    n = np.array([len(v) for v in data.values])
    ds = []
    for first, k in zip(data.first_ds, n):
        if isinstance(data.freq, (int, np.integer)):
            ds.append(int(first) + int(data.freq) * np.arange(k, dtype=np.int64))
        else:
            ds.append(date_stamps(first, k, data.freq).to_numpy())
    return pd.DataFrame({
        "unique_id": np.repeat(np.asarray(data.ids, dtype=object), n),
        "ds": np.concatenate(ds),
        "y": np.concatenate(data.values),
        "pos": np.concatenate([np.arange(k) for k in n]),
        "size": np.repeat(n, n),
    })


def rolling_forecasts(model: Forecaster, frame: pd.DataFrame, h: int, windows: int, step: int,
                      levels: Sequence[float], callbacks: Sequence[Any] = (),
                      stop_event: Any = None) -> pd.DataFrame:
    """Fit a fresh copy of `model` at each cutoff and forecast h steps: one table, all windows.

    Columns: unique_id, ds, cutoff, y, mean, lo-L, hi-L; rows by window, series, ds. A model
    that fits each series on its own (`capabilities.per_series`) is fitted once, on every
    window's history as a series of its own: the same forecasts, and the fixed cost of a fit
    (a Python loop over time steps, batched over series) is paid once instead of per window —
    the Forecast page's calibration backtests one series on 40 windows. A model learned from
    all series at once (`capabilities.global_model`: a network) is trained once, on the
    history before the first window, and forecasts every window from that window's history
    (Darts' `retrain=False`): no window's future is ever trained on, and one training replaces
    `windows` of them. `callbacks` and `stop_event` reach a fit that trains (`base.fit_with`).
    """
    def fit(tr: pd.DataFrame) -> Forecaster:
        return fit_with(model.clone(), tr, callbacks, stop_event)

    trains, tests = [], []
    for w in range(windows):
        back = h + (windows - 1 - w) * step          # steps held out after the cutoff
        end = frame["size"] - back
        trains.append(frame.loc[frame["pos"] < end, ["unique_id", "ds", "y"]])
        tests.append(frame.loc[(frame["pos"] >= end) & (frame["pos"] < end + h)])
    if model.capabilities.per_series and windows > 1:
        width = len(str(windows))                 # "window, series" ids sort by window first
        stacked = pd.concat([tr.assign(unique_id=f"{w:0{width}d}" + tr["unique_id"])
                             for w, tr in enumerate(trains)], ignore_index=True)
        fc = fit(stacked).predict(h, levels)
        window = fc["unique_id"].str[:width].astype(int).to_numpy()
        fc["unique_id"] = fc["unique_id"].str[width:]
        fcs = [fc[window == w] for w in range(windows)]
    elif model.capabilities.global_model and windows > 1:
        fitted = fit(trains[0])                   # trained before the first window, once
        fcs = [fitted.predict_from(tr, h, levels) for tr in trains]
    else:
        fcs = [fit(tr).predict(h, levels) for tr in trains]
    out = []
    for fc, train, test in zip(fcs, trains, tests):
        cutoff = train.groupby("unique_id", sort=True)["ds"].last()
        fc = fc.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
        test = test.sort_values(["unique_id", "ds"], kind="stable")
        if len(fc) != len(test) or not np.array_equal(fc["unique_id"].to_numpy(),
                                                      test["unique_id"].to_numpy()):
            raise GenlibError(f"{type(model).__name__} returned {len(fc)} rows for {len(test)} "
                              "expected; a forecaster must forecast every series it was fitted on.")
        fc.insert(2, "cutoff", fc["unique_id"].map(cutoff).to_numpy())
        fc.insert(3, "y", test["y"].to_numpy())
        out.append(fc)
    return pd.concat(out, ignore_index=True)


def window_scales(values: Sequence[np.ndarray], h: int, windows: int, step: int, m: int) -> dict:
    """In-sample seasonal-naive scales per window: {"mae": W×S, "mse": W×S} (NaN if flat)."""
    mae = np.empty((windows, len(values)))
    mse = np.empty((windows, len(values)))
    for w in range(windows):
        back = h + (windows - 1 - w) * step
        for i, y in enumerate(values):
            hist = y[:len(y) - back]
            mae[w, i] = metrics.naive_scale(hist, m)
            mse[w, i] = metrics.naive_scale(hist, m, power=2)
    return {"mae": mae, "mse": mse}


def score_forecasts(fc: pd.DataFrame, scale: dict, h: int, levels: Sequence[float],
                    series_index: np.ndarray | None = None) -> pd.DataFrame:
    """Scores of each (series, window) of a `rolling_forecasts` table (rows: window, series, ds).

    series_index: position of each forecast series in the scale arrays (None → all, in order).
    """
    y = fc["y"].to_numpy(np.float64).reshape(-1, h)
    mean = fc["mean"].to_numpy(np.float64).reshape(-1, h)
    rows = len(y)
    S = scale["mae"].shape[1] if series_index is None else len(series_index)
    W = rows // S
    idx = np.arange(S) if series_index is None else np.asarray(series_index)
    s_mae = scale["mae"][-W:][:, idx].reshape(-1)
    s_mse = scale["mse"][-W:][:, idx].reshape(-1)
    out = pd.DataFrame({
        "unique_id": fc["unique_id"].to_numpy()[::h],
        "cutoff": fc["cutoff"].to_numpy()[::h],
        "MAE": metrics.mae(y, mean),
        "RMSE": metrics.rmse(y, mean),
        "MAPE": metrics.mape(y, mean),
        "sMAPE": metrics.smape(y, mean),
    })
    out["MASE"] = out["MAE"] / s_mae
    out["RMSSE"] = np.sqrt(out["RMSE"] ** 2 / s_mse)
    lows = [fc[f"lo-{level_name(lv)}"].to_numpy(np.float64).reshape(-1, h) for lv in levels]
    highs = [fc[f"hi-{level_name(lv)}"].to_numpy(np.float64).reshape(-1, h) for lv in levels]
    for lv, lo, hi in zip(levels, lows, highs):
        out[f"coverage-{level_name(lv)}"] = metrics.coverage(y, lo, hi)
    crps = metrics.crps_from_bands(y, mean, lows, highs, levels)
    out["CRPS"] = crps / s_mae
    return out


def summarise(series_scores: pd.DataFrame, levels: Sequence[float]) -> dict:
    """Means over series and windows (NaN-aware: MAPE skips zero actuals, flat histories)."""
    cols = ERROR_METRICS[:-1] + [f"coverage-{level_name(lv)}" for lv in levels] + ["CRPS"]
    return {c: float(np.nanmean(series_scores[c].to_numpy(np.float64)))
            if series_scores[c].notna().any() else float("nan") for c in cols}


def _build_models(models: Any, season_length: int | None, freq: Any, h: int | None = None
                  ) -> dict[str, Forecaster]:
    if isinstance(models, (str, Forecaster)):
        models = [models]
    if isinstance(models, dict):
        items = list(models.items())
    else:
        items = [(m if isinstance(m, str) else getattr(m, "name", type(m).__name__), m)
                 for m in models]
    if not items:
        raise GenlibError("Give at least one model to backtest, e.g. models=['naive', 'ar'].")
    named: dict[str, Forecaster] = {}
    for label, m in items:
        if isinstance(m, str):
            kw = {}
            if season_length is not None:
                kw["season_length"] = season_length
            if freq is not None:
                kw["freq"] = freq
            m = get_model(m, **kw)
            if h is not None and accepts(m, "h") and getattr(m, "h", None) is None:
                m.set_params(h=h)  # models that train for a horizon (neural) train for this one
        elif not isinstance(m, Forecaster):
            raise GenlibError(f"{m!r} is not a forecaster; give registry names such as 'ar' or "
                              "forecaster objects such as AR().")
        base, k = label, 2
        while label in named:
            label, k = f"{base}-{k}", k + 1
        named[label] = m
    return named


def _model_m(model: Forecaster, m: int) -> int:
    own = getattr(model, "season_length", None) if accepts(model, "season_length") else None
    return int(own) if own else m


def _positive_int(v: Any, name: str) -> int:
    if not isinstance(v, (int, np.integer)) or v < 1:
        raise GenlibError(f"{name} must be a whole number ≥ 1; got {v!r}.")
    return int(v)
