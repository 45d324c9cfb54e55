"""Which candidate models fit in a time budget: time each on a few series, project, cheapest first.

AutoForecaster fits every candidate `fits` times per series (one per backtest window, plus the
final refit). Costs are measured, not written down: each candidate is fitted and forecast once
on a small sample of the series (1, then 8, then 64 while, growing linearly, that would cost
under half the time left), and its cost for the whole panel is
projected as a + b·S (a: fixed cost, b: per series, from the last two timings; after one
timing all of it counts as per series, the safe side for a model fitted series by series).
`always` (the simple baselines every score is compared with) is kept whatever it costs; the
others are taken in the order given (cheapest first: the defaults are listed that way,
statsmodels' ARIMA last) and kept while the projected total — with the time already spent on
timing — stays within `SHARE` of the budget; the rest is left for choosing, calibrating and
the winners' refit. A model that can project its own cost (`Forecaster.seconds_per_fit`:
a network times a few training steps) is not timed on samples, and one learned from all
series (`capabilities.global_model`) needs GLOBAL_FITS fits, not one per window. A thin
panel's calibration refits the winners on up to 40 more windows; `affordable` swaps a winner
too slow for that for a stand-in that refuses, and calibration then keeps the backtest's own
band ratios. The one cost the plan cannot bound is a candidate's first timing (one series):
statsmodels' ARIMA on a long seasonal series takes seconds, more on a busy machine.

>>> import numpy as np, pandas as pd
>>> from genlib.forecast.registry import get_model
>>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(30), "y": np.arange(30.0)})
>>> kept, left_out, per_fit = plan_candidates({"naive": get_model("naive")}, df, h=3, fits=4, budget=10)
>>> kept, left_out
(['naive'], {})
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..errors import GenlibError

SHARE = 0.75                    # of the budget for the candidates' fits; the rest for the others
SAMPLES = (1, 8, 64)            # series in the successive timings
GLOBAL_FITS = 2                 # a global model (a network) trains once for the backtest, once
                                # for the forecast (backtest.rolling_forecasts)


def _time_fit(model, frame: pd.DataFrame, ids: list, h: int) -> float:
    """Seconds to fit and forecast `model` on the series `ids` (0 when it refuses them)."""
    sub = frame[frame["unique_id"].isin(set(ids))]
    t0 = time.perf_counter()
    try:
        model.clone().fit(sub).predict(h)
    except GenlibError:
        pass
    return time.perf_counter() - t0


def plan_candidates(models: dict, frame: pd.DataFrame, h: int, fits: int, budget: float,
                    always=("seasonal_naive", "naive"), least: dict | None = None
                    ) -> tuple[list[str], dict[str, float], dict[str, float]]:
    """(labels kept, {label left out: projected seconds}, {label: seconds per fit of the panel}).

    models: label → forecaster (in preference order); frame: the long table; fits: fits per
    series each candidate needs; least: label → least seconds of one series' fit (statsmodels'
    ARIMA: even timing it on one series can take seconds) — a candidate that cannot fit even at
    that cost is left out untimed.
    """
    start = time.perf_counter()
    ids = list(dict.fromkeys(frame["unique_id"]))
    S = len(ids)
    pick = lambda k: [ids[i] for i in np.unique(np.linspace(0, S - 1, min(k, S)).astype(int))]
    target = SHARE * budget
    kept, left_out, committed, per_fit = [], {}, 0.0, {}
    table = frame[["unique_id", "ds", "y"]]      # what a model that times itself is given
    for label, model in sorted(models.items(), key=lambda kv: kv[0] not in always):
        room = target - (time.perf_counter() - start) - committed
        floor = (least or {}).get(label) or 0.0
        if (room <= 0 or floor * S * fits > room) and label not in always:
            left_out[label] = floor * S * fits if floor else np.inf   # no time to even try it
            continue
        own = model.seconds_per_fit(table, h)
        if own is not None:           # a network projects its own training time
            n_fits = GLOBAL_FITS if model.capabilities.global_model else fits
            cost = own * n_fits
            per_fit[label] = own
            if cost <= target - (time.perf_counter() - start) - committed:
                kept.append(label)
                committed += cost
            else:
                left_out[label] = float(cost)
            continue
        k, t = len(pick(SAMPLES[0])), _time_fit(model, frame, pick(SAMPLES[0]), h)
        cost, t_prev = t * S / k * fits, t               # one timing: all cost per series
        for nxt in SAMPLES[1:]:
            room = target - (time.perf_counter() - start) - committed
            if k >= S or t * nxt / k > room / 2:
                break       # the whole panel timed, or the next timing could cost too much
            t_prev, k_prev = t, k
            k = len(pick(nxt))
            t = _time_fit(model, frame, pick(nxt), h)
            b = max(t - t_prev, 0.0) / (k - k_prev)
            a = max(t - b * k, 0.0)
            cost = (a + b * S) * fits
        room = target - (time.perf_counter() - start) - committed
        per_fit[label] = cost / fits
        if label in always or cost <= room:
            kept.append(label)
            # a baseline's cost counts twice: choosing, calibrating and the winners' refit
            # cost about as much again as its backtest (measured on 40 monthly series)
            committed += cost * (2 if label in always else 1)
        else:
            left_out[label] = float(cost)
    order = list(models)
    return sorted(kept, key=order.index), left_out, per_fit


class _OverBudget:
    """A model whose extra refits would overrun the budget: fitting it raises GenlibError, which
    calibration reads as "cannot fit this often" and keeps the backtest's own band ratios."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def clone(self, **changes):
        raise GenlibError("too slow for more refits within the time budget")


def affordable(models: dict, per_fit: dict, refits: int, deadline: float | None) -> dict:
    """`models`, with those whose `refits` more fits would pass `deadline` (perf_counter
    seconds) replaced by stand-ins that refuse to fit (thin panels' calibration refits the
    winners on up to 40 more windows: 40 ARIMA fits of one series take minutes)."""
    if deadline is None:
        return models
    left = deadline - time.perf_counter()
    return {lb: (md if per_fit.get(lb, 0.0) * refits <= left else _OverBudget(md))
            for lb, md in models.items()}
