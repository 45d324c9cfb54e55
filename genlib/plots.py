"""Plotly figures shared by the app's pages and the command line.

Every function takes plain data (lists of metric dicts, long DataFrames) and returns a plotly
`Figure`. Nothing here trains, loads or imports Streamlit: a page calls one genlib function, then
hands the result to one of these. Image grids, PNG and ZIP files live in `genlib.sample`.

    >>> fig = loss_figure([{"step": 10, "loss": 0.9}, {"step": 20, "loss": 0.7}])
    >>> fig.layout.xaxis.title.text
    'step'
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .freq import freq_words

# One palette for every figure, so a model keeps its colour from chart to chart.
PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6",
           "#9D755D", "#BAB0AC", "#EECA3B"]
# Columns of a metrics history that are bookkeeping, not curves to draw.
_NOT_CURVES = {"step", "time", "seconds", "elapsed", "epoch", "lr", "lr_scale", "images_per_second"}


# ---- training ------------------------------------------------------------------------------
def history_frame(history: Sequence[Mapping] | pd.DataFrame) -> pd.DataFrame:
    """A metrics history (list of dicts with a `step`, or a metrics.csv DataFrame) as a frame."""
    df = history.copy() if isinstance(history, pd.DataFrame) else pd.DataFrame(list(history))
    if len(df) and "step" not in df.columns:
        df.insert(0, "step", np.arange(1, len(df) + 1))
    return df


def loss_figure(history: Sequence[Mapping] | pd.DataFrame, *, max_points: int = 1500,
                title: str = "Training curves", names: Mapping[str, str] | None = None,
                separate: bool = False) -> go.Figure:
    """Loss curves: one line per metric against the step, raw values faint, a moving average bold.

    Long histories are thinned to `max_points` per curve so the browser stays fast. `names` gives
    metrics plain words (a model's `metric_words`); `separate` draws each metric in its own panel
    with its own axis, so that a small number is not flattened by one a thousand times larger.

    >>> fig = loss_figure([{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}])
    >>> [t.name for t in fig.data]
    ['loss', 'loss (smoothed)']
    """
    df = history_frame(history)
    curves = [c for c in df.columns
              if c not in _NOT_CURVES and pd.api.types.is_numeric_dtype(df[c])]
    separate = separate and len(curves) > 1
    if separate:
        from plotly.subplots import make_subplots
        fig = make_subplots(rows=len(curves), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                            subplot_titles=[(names or {}).get(c, c) for c in curves])
    else:
        fig = go.Figure()
    window = max(1, len(df) // 50)
    stride = max(1, math.ceil(len(df) / max_points))
    for i, name in enumerate(curves):
        colour = PALETTE[i % len(PALETTE)]
        y = df[name].astype(float)
        smooth = y.rolling(window, min_periods=1).mean()
        shown = (names or {}).get(name, name)
        where = dict(row=i + 1, col=1) if separate else {}
        fig.add_scatter(x=df["step"][::stride], y=y[::stride], name=shown, mode="lines",
                        line=dict(color=colour, width=1), opacity=0.35, showlegend=False, **where)
        fig.add_scatter(x=df["step"][::stride], y=smooth[::stride], name=f"{shown} (smoothed)",
                        mode="lines", line=dict(color=colour, width=2), showlegend=not separate,
                        **where)
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40, b=10),
                      height=max(320, 170 * len(curves)) if separate else 320,
                      legend=dict(orientation="h", y=-0.25))
    if separate:
        fig.update_xaxes(title_text="step", row=len(curves), col=1)
    else:
        fig.update_layout(xaxis_title="step", yaxis_title="value")
    if not curves:
        fig.add_annotation(text="No metrics yet", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    return fig


def progress_values(history: Sequence[Mapping] | pd.DataFrame, curve, image_shape) -> pd.DataFrame:
    """A model's headline curve (`genlib.models.ProgressCurve`) from a metrics history: a frame of
    step, value and a smoothed value (a moving average over a fiftieth of the history, at least 5
    points), without the rows that lack a metric.

    >>> from genlib.models import ProgressCurve
    >>> c = ProgressCurve("Bits", terms=(("bpd", 1.0),))
    >>> progress_values([{"step": 1, "bpd": 4.0}, {"step": 2, "bpd": 3.0}], c, (1, 8, 8)).value.tolist()
    [4.0, 3.0]
    """
    df = history_frame(history)
    rows = [(s, curve.value(r, image_shape)) for s, r in zip(df.get("step", []), df.to_dict("records"))]
    out = pd.DataFrame([(s, v) for s, v in rows if v is not None and math.isfinite(v)],
                       columns=["step", "value"])
    out["smoothed"] = out["value"].rolling(max(5, len(out) // 50), min_periods=1).mean()
    return out


def progress_figure(history: Sequence[Mapping] | pd.DataFrame, curve, image_shape, *,
                    max_points: int = 1500) -> go.Figure:
    """The one curve a newcomer watches: the model's `ProgressCurve` (lower is better), smoothed
    bold over the raw values faint, with the curve's title on the axis.

    >>> from genlib.models import ProgressCurve
    >>> c = ProgressCurve("Bits per value (lower is better)", terms=(("bpd", 1.0),))
    >>> progress_figure([{"step": 1, "bpd": 4.0}], c, (1, 8, 8)).layout.yaxis.title.text
    'Bits per value (lower is better)'
    """
    df = progress_values(history, curve, image_shape)
    stride = max(1, math.ceil(len(df) / max_points))
    fig = go.Figure()
    fig.add_scatter(x=df["step"][::stride], y=df["value"][::stride], mode="lines", name="each step",
                    line=dict(color=PALETTE[0], width=1), opacity=0.3, showlegend=False)
    fig.add_scatter(x=df["step"][::stride], y=df["smoothed"][::stride], mode="lines",
                    name="smoothed", line=dict(color=PALETTE[0], width=3), showlegend=False)
    fig.update_layout(title=curve.title, xaxis_title="training step", yaxis_title=curve.title,
                      margin=dict(l=10, r=10, t=40, b=10), height=320)
    if not len(df):
        fig.add_annotation(text="The curve starts after the first few steps", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


def compare_loss_figure(histories: Mapping[str, pd.DataFrame], metric: str) -> go.Figure:
    """One metric from several runs on one chart (run name → metrics DataFrame).

    >>> fig = compare_loss_figure({"a": pd.DataFrame({"step": [1], "loss": [1.0]})}, "loss")
    >>> fig.data[0].name
    'a'
    """
    fig = go.Figure()
    for i, (name, df) in enumerate(histories.items()):
        df = history_frame(df)
        if metric in df.columns:
            window = max(1, len(df) // 50)
            fig.add_scatter(x=df["step"], y=df[metric].rolling(window, min_periods=1).mean(),
                            name=name, mode="lines", line=dict(color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(title=f"{metric} (smoothed)", xaxis_title="step", height=320,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


# ---- series and forecasts ------------------------------------------------------------------
def series_figure(df: pd.DataFrame, freq: str | None = None, *, max_series: int = 12,
                  title: str | None = None) -> go.Figure:
    """Lines for the first `max_series` series of a long frame (unique_id, ds, y).

    >>> d = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020", periods=3), "y": [1., 2, 3]})
    >>> series_figure(d, "D").layout.title.text
    'a — daily'
    """
    ids = list(dict.fromkeys(df["unique_id"]))
    shown = ids[:max_series]
    fig = go.Figure()
    for i, uid in enumerate(shown):
        part = df[df["unique_id"] == uid]
        fig.add_scatter(x=part["ds"], y=part["y"], name=str(uid), mode="lines",
                        line=dict(color=PALETTE[i % len(PALETTE)], width=1.5))
    label = str(ids[0]) if len(ids) == 1 else f"{len(ids)} series"
    if len(ids) > max_series:
        label += f" (first {max_series} shown)"
    text = title or (f"{label} — {freq_words(freq)}" if isinstance(freq, str) and freq else label)
    fig.update_layout(title=text, xaxis_title="date", yaxis_title="value", height=320,
                      margin=dict(l=10, r=10, t=40, b=10), showlegend=1 < len(shown))
    return fig


def forecast_figure(history: pd.DataFrame, forecasts: pd.DataFrame | Mapping[str, pd.DataFrame],
                    unique_id: str | None = None, *, levels: Sequence[int] = (80, 95),
                    tail: int | None = None, title: str | None = None,
                    bands: str | None = None, holidays: Mapping | None = None) -> go.Figure:
    """The history of one series with each model's mean forecast and its prediction bands.

    `forecasts` is one predict() frame (unique_id, ds, mean, lo-80, hi-80, …) or a mapping
    model name → such a frame. One legend entry per model: its bands belong to its line
    (clicking the name hides both). Only one model's bands are shaded, so they do not pile up:
    `bands` (default: the first model). Wider levels are drawn lighter. `tail` keeps the last
    points of the history only, so a short forecast after a long history stays visible.
    `holidays` ({date: name}, `genlib.forecast.calendar.holiday_dates`) marks each public
    holiday shown with a star named in its hover text.

    >>> h = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020", periods=4), "y": [1., 2, 3, 4]})
    >>> f = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01-05", periods=2),
    ...                   "mean": [5., 6], "lo-80": [4., 5], "hi-80": [6., 7]})
    >>> [t.name for t in forecast_figure(h, f, levels=[80]).data]
    ['history', 'forecast 80%', 'forecast']
    """
    if not isinstance(forecasts, Mapping):
        forecasts = {"forecast": forecasts}
    uid = unique_id if unique_id is not None else history["unique_id"].iloc[0]
    hist = history[history["unique_id"] == uid]
    if tail:
        hist = hist.tail(tail)
    fig = go.Figure()
    fig.add_scatter(x=hist["ds"], y=hist["y"], name="history", mode="lines",
                    line=dict(color="#333333", width=1.5))
    shaded = bands if bands in forecasts else next(iter(forecasts), None)
    for i, (name, fc) in enumerate(forecasts.items()):
        colour = PALETTE[i % len(PALETTE)]
        part = fc[fc["unique_id"] == uid] if "unique_id" in fc.columns else fc
        drawn = [lv for lv in sorted(levels, reverse=True)                # widest band first,
                 if f"lo-{lv}" in part.columns and f"hi-{lv}" in part.columns   # under the others
                 and name == shaded]
        for rank, level in enumerate(drawn):
            lo, hi = f"lo-{level}", f"hi-{level}"
            opacity = 0.18 + 0.14 * rank / max(1, len(drawn) - 1) if len(drawn) > 1 else 0.25
            fig.add_scatter(x=list(part["ds"]) + list(part["ds"])[::-1],
                            y=list(part[hi]) + list(part[lo])[::-1],
                            fill="toself", fillcolor=_rgba(colour, opacity),
                            line=dict(width=0), hoverinfo="skip", name=f"{name} {level}%",
                            legendgroup=name, showlegend=False)
        fig.add_scatter(x=part["ds"], y=part["mean"], name=name, mode="lines", legendgroup=name,
                        line=dict(color=colour, width=2))
    if holidays and forecasts:
        first = next(iter(forecasts.values()))
        first = first[first["unique_id"] == uid] if "unique_id" in first.columns else first
        _mark_holidays(fig, pd.concat([hist[["ds", "y"]], first[["ds", "mean"]].rename(columns={"mean": "y"})],
                                      ignore_index=True), holidays)
    fig.update_layout(title=title or f"{uid}: forecast", xaxis_title="date", yaxis_title="value",
                      height=380, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def _mark_holidays(fig: go.Figure, points: pd.DataFrame, holidays: Mapping) -> None:
    """A star on the first time stamp of every public holiday among `points` (ds, y)."""
    if not pd.api.types.is_datetime64_any_dtype(points["ds"]):
        return
    day = points["ds"].dt.normalize()
    name = pd.Series([holidays.get(d) for d in day.dt.date], index=points.index)
    on = points[name.notna()].groupby(day[name.notna()]).head(1)
    if len(on):
        fig.add_scatter(x=on["ds"], y=on["y"], mode="markers", name="public holiday",
                        text=name[on.index], hovertemplate="%{text}, %{x|%d %b %Y}<extra></extra>",
                        marker=dict(symbol="star", size=11, color="#d62728"))


def backtest_figure(scores: pd.DataFrame, metric: str = "MASE") -> go.Figure:
    """Bars of each model's `metric` relative to seasonal naive (1.0 = as good; lower is better).

    `scores` has one row per model (a `model` column or the index) and a `{metric}_rel` column.

    >>> s = pd.DataFrame({"model": ["auto", "seasonal_naive"], "MASE_rel": [0.8, 1.0]})
    >>> backtest_figure(s).data[0].y.tolist()
    [0.8, 1.0]
    """
    df = scores.reset_index() if "model" not in scores.columns else scores
    if "model" not in df.columns:
        df = df.rename(columns={df.columns[0]: "model"})
    col = f"{metric}_rel"
    if col not in df.columns:
        raise ValueError(f"the scores have no column {col!r}; they have {list(df.columns)}")
    colours = [PALETTE[2] if v < 1 else PALETTE[3] if v > 1 else PALETTE[8] for v in df[col]]
    baseline = "Seasonal naive"
    fig = go.Figure(go.Bar(x=df["model"].astype(str), y=df[col], marker_color=colours,
                           text=[f"{v:.2f}" for v in df[col]], textposition="outside"))
    fig.add_hline(y=1.0, line_dash="dash", line_color="#666",
                  annotation_text=baseline, annotation_position="top left")
    fig.update_layout(title=f"Error ({metric}) compared with {baseline}: below 1 is better",
                      yaxis_title=f"{metric} ÷ {baseline}", height=320,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.2f})"
