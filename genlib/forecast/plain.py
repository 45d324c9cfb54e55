"""Forecast results in plain words: model titles, a three-column score table, a glossary, and a
forecast table with friendly column names and sensible rounding.

What the Forecast page and the command line show a person; the raw tables (code names, every
score, full precision) stay in the result for programs.

>>> title("seasonal_naive"), title("ar+theta")
('Seasonal naive', 'Linear autoregression + Theta method')
>>> better_or_worse(0.8), better_or_worse(1.25), better_or_worse(1.001)
('20 % better', '25 % worse', 'about the same')
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .registry import MODELS

BASELINE = "seasonal_naive"                    # what every error is compared with
ALL_SERIES = "All series"                      # the label of the scores of all series together
MODEL = "Model"
ERROR = "Error compared with the simple baseline"
SECONDS = "Seconds"


def held(level) -> str:
    """The column of how often a band held: "How often the 80 % band held"."""
    return f"How often the {_num(level)} % band held"


def title(name: str) -> str:
    """The registry title of a model (combinations joined with +); unknown labels as they are."""
    return " + ".join(MODELS[p].title if p in MODELS else p for p in str(name).split("+"))


def better_or_worse(ratio: float) -> str:
    """A model's error over the baseline's, in words (within half a percent: about the same)."""
    if ratio is None or not np.isfinite(ratio):
        return "not measured"
    pct = 100 * (1 - float(ratio))
    if abs(pct) < 0.5:
        return "about the same"
    return f"{abs(pct):.0f} % {'better' if pct > 0 else 'worse'}"


# ---- the score tables ----------------------------------------------------------------------
def plain_scores(result: Mapping, series: str | None = None) -> pd.DataFrame:
    """Three columns per model: error compared with seasonal naive, how often each band held,
    seconds. `series` None (or "All series") scores all series together; a series id scores
    that series alone (empty when it was too short to test).

    >>> r = {"levels": (80,), "scores": pd.DataFrame({"model": ["ar", "seasonal_naive"],
    ...      "MAE": [1., 2.], "MASE": [.5, 1.], "coverage-80": [78., 60.], "seconds": [.2, .01]})}
    >>> plain_scores(r).iloc[0].tolist()
    ['Linear autoregression', '50 % better', '78 %', '0.2']
    """
    scores = result.get("scores")
    levels = list(result.get("levels", ()))
    columns = [MODEL, ERROR, *[held(lv) for lv in levels], SECONDS]
    if scores is None or not len(scores):
        return pd.DataFrame(columns=columns)
    scores = scores.set_index("model")
    if series in (None, ALL_SERIES):
        table = scores
        rel = _rel(scores, "MASE")
        rel = rel.where(np.isfinite(rel), _rel(scores, "MAE"))
    else:
        per = result.get("series_scores")
        part = per[per["unique_id"] == series] if per is not None else None
        if part is None or not len(part):
            return pd.DataFrame(columns=columns)
        table = part.groupby("model", sort=False).mean(numeric_only=True).reindex(scores.index)
        rel = _rel(table, "MAE")
    rows = []
    for name in scores.index:
        ratio = rel.get(name, np.nan)
        rows.append([title(name), "the baseline" if name == BASELINE else better_or_worse(ratio),
                     *[_percent(table.loc[name].get(f"coverage-{_num(lv)}")) for lv in levels],
                     _seconds(scores.loc[name].get("seconds"))])
    return pd.DataFrame(rows, columns=columns)


def detail_scores(result: Mapping) -> pd.DataFrame:
    """Every backtest score, model titles instead of code names, three significant digits."""
    scores = result.get("scores")
    if scores is None:
        return pd.DataFrame()
    out = scores.copy()
    out["model"] = out["model"].map(title)
    for col in out.columns[1:]:
        out[col] = [float(f"{v:.3g}") if isinstance(v, (int, float)) and math.isfinite(v) else v
                    for v in out[col]]
    return out


def glossary(columns: Sequence[str]) -> dict[str, str]:
    """What each column of the detailed score table means, in a sentence.

    >>> glossary(["coverage-80"])["coverage-80"][:40]
    'How often (percent) the actual value fel'
    """
    base = {
        "model": "The forecasting model.",
        "MAE": "Mean absolute error: the average size of a miss, in the data's own units.",
        "RMSE": "Root mean squared error: like MAE, but large misses count more.",
        "MAPE": "Mean absolute percentage error: the average miss as a percentage of the actual "
                "value (steps where the actual value is 0 are left out).",
        "sMAPE": "Symmetric MAPE (as in the M4 competition): the miss as a percentage of the "
                 "average of actual and forecast, from 0 to 200.",
        "MASE": "Mean absolute scaled error: MAE divided by the average miss of repeating the last "
                "season on the history; below 1, smaller misses than that simple rule.",
        "RMSSE": "Root mean squared scaled error: RMSE scaled like MASE.",
        "CRPS": "Continuous ranked probability score, scaled like MASE: judges the forecast and "
                "its bands together; lower is better.",
        "seconds": "Seconds the backtest of this model took, all series together.",
    }
    out = {}
    for col in columns:
        if col in base:
            out[col] = base[col]
        elif col.startswith("coverage-"):
            lv = col.split("-", 1)[1]
            out[col] = (f"How often (percent) the actual value fell inside the {lv} % band; close "
                        f"to {lv} means the band is honest.")
        elif col.endswith("_rel") and col[:-4] in base:
            out[col] = (f"{col[:-4]} divided by {title(BASELINE)}'s {col[:-4]}: below 1 beats the "
                        "simple baseline, above 1 loses to it.")
        else:
            out[col] = col
    return out


def backtest_summary(result: Mapping) -> str:
    """One sentence on which series were tested, on how many windows, and which were too short."""
    tested = result.get("tested") or {}
    h, windows = result.get("h"), result.get("windows")
    if result.get("scores") is None:
        return result.get("backtest_note") or ""
    n = len(tested)
    full = sum(1 for w in tested.values() if w >= (windows or 0))
    fewer = sum(1 for w in tested.values() if 0 < w < (windows or 0))
    none = sum(1 for w in tested.values() if w == 0)
    text = (f"Tested on the last {windows} stretch{'es' * (windows != 1)} of {h} step"
            f"{'s' * (h != 1)} of each series ({full:,} of {n:,} series)")
    if fewer:
        text += f"; {fewer:,} shorter series on fewer stretches"
    if none:
        text += (f"; {none:,} series too short to test (they still have forecasts: see the notes "
                 "under the chart)")
    return text + "."


# ---- the forecast table --------------------------------------------------------------------
def people_table(forecasts: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every model's forecast in one table for people: model (title), series, date, forecast,
    low 80 %, high 80 %, …, rounded to four significant digits of each series' forecast.

    >>> f = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2024-01-01"]),
    ...                   "mean": [412.3456], "lo-80": [400.123456], "hi-80": [424.5]})
    >>> people_table({"naive": f}).iloc[0].tolist()[:1] + people_table({"naive": f}).columns.tolist()
    ['Naive', 'model', 'series', 'date', 'forecast', 'low 80 %', 'high 80 %']
    """
    frames = []
    for name, fc in forecasts.items():
        if not len(fc):
            continue
        when = "date" if pd.api.types.is_datetime64_any_dtype(fc["ds"]) else "position"
        names = {"unique_id": "series", "ds": when, "mean": "forecast"}
        for col in fc.columns:
            if col.startswith(("lo-", "hi-")):
                names[col] = f"{'low' if col.startswith('lo-') else 'high'} {col[3:]} %"
        table = rounded(fc, [c for c in fc.columns if c == "mean" or c.startswith(("lo-", "hi-"))])
        frames.append(table.rename(columns=names).assign(model=title(name)))
    if not frames:
        return pd.DataFrame(columns=["model", "series", "date", "forecast"])
    table = pd.concat(frames, ignore_index=True)
    return table[["model", *[c for c in table.columns if c != "model"]]]


def raw_table(forecasts: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every model's forecast as programs read it: model (code name), unique_id, ds, mean, lo-80…"""
    table = pd.concat([f.assign(model=name) for name, f in forecasts.items()], ignore_index=True)
    return table[["model", *[c for c in table.columns if c != "model"]]]


def rounded(fc: pd.DataFrame, columns: Sequence[str], digits: int = 4) -> pd.DataFrame:
    """The forecast table with `columns` rounded per series to `digits` significant digits of
    the series' typical forecast (412.3, 0.05123, 18 250)."""
    out = fc.copy()
    for uid, idx in out.groupby("unique_id", sort=False).groups.items():
        d = decimals_for(out.loc[idx, "mean"].to_numpy(np.float64), digits)
        out.loc[idx, list(columns)] = out.loc[idx, list(columns)].round(d)
    return out


def decimals_for(values, digits: int = 4) -> int:
    """Decimals that keep `digits` significant digits of the typical (median absolute) value.

    >>> decimals_for([412.3, 415.0]), decimals_for([0.0512]), decimals_for([18250.0]), decimals_for([0.0])
    (1, 5, 0, 0)
    """
    a = np.abs(np.asarray(values, dtype=np.float64))
    a = a[np.isfinite(a) & (a > 0)]
    if not len(a):
        return 0
    return int(np.clip(digits - 1 - math.floor(math.log10(float(np.median(a)))), 0, 10))


# ---- pieces --------------------------------------------------------------------------------
def _rel(table: pd.DataFrame, col: str) -> pd.Series:
    if col not in table.columns or BASELINE not in table.index:
        return pd.Series(np.nan, index=table.index)
    base = table.loc[BASELINE, col]
    return table[col] / base if base and np.isfinite(base) else pd.Series(np.nan, index=table.index)


def _num(level) -> str:
    return f"{float(level):g}"


def _percent(v) -> str:
    return f"{v:.0f} %" if v is not None and np.isfinite(v) else "—"


def _seconds(v) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:.2g}" if v < 10 else f"{v:.0f}"
