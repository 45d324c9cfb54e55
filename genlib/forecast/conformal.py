"""Bands that hold their level for every model a person picks, not only for auto.

A model's own bands assume its own story of the noise: MSTL takes the seasonal patterns as
known, ETS on hourly data lets its bands grow with every step. Measured on 80 hourly stretches
uploaded one at a time (bench/forecast_single.py --kind hourly), their 80 % bands held 66.6 %
(MSTL) and 90.4 % (ETS) of what came next. `Calibrated` wraps a model and scales its bands, per
level and step ahead, by the split-conformal factor of its own errors on the series' past
(calibrate.py, as auto's bands): each past window is forecast by the model fitted on the history
before it, so the errors are those of a forecast, not of a fit.

- A panel of THIN series or more is measured on its last window (`windows`: more, h steps
  apart): one ratio per series and step, enough to resolve each step, for one more fit. Fewer
  series (one upload) are measured on up to DENSE_WINDOWS windows close together
  (`calibrate.dense_step`), for enough ratios per step.
- Time: each window costs at most what the fit took (less where the model fits every series on
  its own: the windows are then one batched fit, backtest.rolling_forecasts), and a slow model
  gets as many as `seconds` affords at that cost (at least one, at least the fit's own time).
- Memory: each window is fitted on at most calibrate.HISTORY values before the earliest window
  (`calibrate.window_ratios`, which auto's dense windows share).
- Networks are not wrapped: their quantiles are learned, and each window would train them again.

>>> import numpy as np, pandas as pd
>>> from genlib.forecast.baselines import Naive
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(300), "y": rng.normal(0, 1, 300)})
>>> model = Calibrated(Naive(), h=6, levels=(80,)).fit(df)
>>> model.windows_["a"], model.factors_[80].round(1).tolist()   # white noise: a random walk's bands grow too fast
(40, [1.0, 0.8, 0.6, 0.5, 0.4, 0.4])
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import GenlibError
from .backtest import affordable_windows, long_frame
from .base import Wrapper, Forecaster, check_horizon, check_levels, fit_with, level_name, split_series
from .calibrate import (DENSE_WINDOWS, THIN, dense_step, dense_windows, level_factors, step_factors,
                        window_ratios)
from .selection import MIN_TRAIN

SECONDS = 5.0          # calibration windows a looping model may spend, beyond its fit's own time


class Calibrated(Wrapper):
    """`model` with its bands scaled to hold their level on the series' own past (module docstring).

    h: the horizon calibrated (steps beyond it keep the last step's factor); levels: the levels
    calibrated (others are interpolated between them); windows: past windows of a panel of THIN
    series or more;
    seconds: the time a looping model's calibration may take beyond its fit's.
    """

    def __init__(self, model: Forecaster, h: int = 12, levels: Sequence[float] = (80, 95),
                 windows: int = 1, seconds: float = SECONDS):
        self.model = model
        self.h = h
        self.levels = levels
        self.windows = windows
        self.seconds = seconds

    @property
    def freq(self):
        return self.model.freq

    def __getattr__(self, attr: str):         # the model's fitted state: notes_, periods_, …
        if attr.startswith("__") or attr == "model":
            raise AttributeError(attr)
        return getattr(self.model, attr)

    def clone(self, **changes: Any) -> "Calibrated":
        own = {k: changes.pop(k) for k in ("h", "levels", "windows", "seconds") if k in changes}
        return Calibrated(self.model.clone(**changes), **{**self._own(), **own})

    def get_params(self) -> dict[str, Any]:
        return {"model": self.model, **self._own()}

    def _own(self) -> dict[str, Any]:
        return {"h": self.h, "levels": self.levels, "windows": self.windows, "seconds": self.seconds}

    def fit(self, df: pd.DataFrame, *, callbacks: Sequence[Any] = (), stop_event: Any = None
            ) -> "Calibrated":
        h, levels = check_horizon(self.h), check_levels(self.levels)
        t0 = time.perf_counter()
        self.model = fit_with(self.model, df, callbacks, stop_event)
        took = time.perf_counter() - t0
        data = split_series(df, self.model.freq)
        self.ids_ = data.ids
        self.factors_, self.windows_, self.own_coverage_ = self._factors(data, h, levels, took)
        return self

    def bands_sentence(self) -> str | None:
        """What calibration did to the bands, in plain words (None when nothing was measured).

        "The model's own 80 % bands held 67 % of the values in its tests on the past (40
        stretches), so they were widened to hold 80 %."
        """
        self._check_fitted()
        if not self.own_coverage_:
            return None
        level = 80 if 80 in self.own_coverage_ else min(self.own_coverage_)
        held, f = self.own_coverage_[level], float(np.mean(self.factors_[level]))
        tests = max(self.windows_.values())
        what = ("kept as they were" if abs(f - 1) < 0.05 else
                f"{'widened' if f > 1 else 'narrowed'} to hold {level:g} %")
        return (f"The model's own {level:g} % bands held {held:.0f} % of the values in its tests "
                f"on the past ({tests} stretch{'es' * (tests != 1)}{' per series' * (len(self.windows_) > 1)}), "
                f"so they were {what}.")

    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        """The model's forecast, each band scaled about the mean by its level's factor per step;
        a floor the model keeps (counts never below 0) still holds."""
        self._check_fitted()
        h, levels = check_horizon(h), check_levels(levels)
        fc = self.model.predict(h, levels)
        step = fc.groupby("unique_id", sort=False).cumcount().to_numpy()
        mean = fc["mean"].to_numpy(np.float64)
        floor = _floor(self.model, fc["unique_id"].to_numpy())
        for lv in levels:
            f = self._factor(lv, h)[step]
            lo, hi = f"lo-{level_name(lv)}", f"hi-{level_name(lv)}"
            fc[lo] = np.maximum(mean - f * (mean - fc[lo].to_numpy(np.float64)), floor)
            fc[hi] = np.maximum(mean + f * (fc[hi].to_numpy(np.float64) - mean), floor)
        return fc

    def _factor(self, level: float, h: int) -> np.ndarray:
        return level_factors(self.factors_, level, h)

    # -- the work -------------------------------------------------------------------------------
    def _factors(self, data, h: int, levels: Sequence[float], took: float) -> tuple[dict, dict, dict]:
        """level → factor per step, uid → the windows its ratios came from, and level → how
        often (%) the model's own bands held in those windows (empty when none was measured)."""
        m = getattr(self.model, "season_length_", None) or 1
        need = max(MIN_TRAIN, self.model.min_history(h, m))
        lengths = dict(zip(data.ids, (len(v) for v in data.values)))
        thin = len(data.ids) < THIN
        # windows cost at most a fit each (less where they are fitted at once): as many as fit
        afford = DENSE_WINDOWS if took * DENSE_WINDOWS <= self.seconds else max(1, int(max(self.seconds, took) / took))
        plans: dict[tuple, list[str]] = {}               # (windows, step) → series
        for uid, n in lengths.items():
            if thin:
                w = min(dense_windows(n, h, need), afford)
                step = dense_step(n, h, need, w, m)
            else:
                w, step = min(affordable_windows(n, h, self.windows, h, need), afford), h
            if w >= 1:
                plans.setdefault((w, step), []).append(uid)
        by_step = [[[] for _ in range(h)] for _ in levels]
        windows = {uid: 0 for uid in data.ids}
        frame = long_frame(data)
        for (w, step), uids in plans.items():
            try:
                ratios = window_ratios({"model": self.model}, ("model",),
                                       frame[frame["unique_id"].isin(set(uids))], h, w, step, levels)
            except GenlibError:                  # cannot fit this often: these series keep their own bands
                continue
            for j in range(len(levels)):
                for k in range(h):
                    by_step[j][k].append(ratios[j][k])
            windows.update({uid: w for uid in uids})
        held = {}
        for j, lv in enumerate(levels):
            r = np.concatenate([x for step in by_step[j] for x in step]) if by_step[j][0] else np.empty(0)
            r = r[~np.isnan(r)]
            if len(r):
                held[lv] = 100 * float(np.mean(r <= 1))
        return {lv: step_factors(by_step[j], lv) for j, lv in enumerate(levels)}, windows, held


def calibrated_in(model: Any) -> Calibrated | None:
    """The `Calibrated` model inside `model` (through wrappers such as HolidayAdjusted), else None."""
    while model is not None and not isinstance(model, Calibrated):
        model = getattr(model, "__dict__", {}).get("model")
    return model


def bands_sentence(model: Any) -> str | None:
    """The sentence of the `Calibrated` model inside `model` (through wrappers), else None."""
    model = calibrated_in(model)
    return model.bands_sentence() if model is not None else None


def _floor(model: Forecaster, uids: np.ndarray) -> np.ndarray:
    """Per row, the floor the model keeps for that row's series (−∞ where none)."""
    inner = model
    while not hasattr(inner, "floor_") and hasattr(inner, "model"):
        inner = inner.model
    floor = getattr(inner, "floor_", None)
    ids = getattr(inner, "ids_", None)
    if floor is None or ids is None or len(floor) != len(ids):
        return np.full(len(uids), -np.inf)
    by_id = dict(zip(ids, floor))
    return np.array([by_id.get(u, -np.inf) for u in uids], dtype=np.float64)
