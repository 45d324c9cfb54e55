"""MSTL: a series with several seasonal patterns at once (hours of the day and days of the week).

Bandara, Hyndman & Bergmeir (2021), "MSTL: A Seasonal-Trend Decomposition Algorithm for Time
Series with Multiple Seasonal Patterns", as statsmodels' `MSTL` computes it. Per series:

1. Decompose y = trend + Σ seasonal_p + remainder for the periods p of the data's frequency
   (`seasonal_periods`: hourly 24 and 168, half-hourly 48 and 336, daily 7 and 365) that the
   series covers at least twice; a period it does not cover is left to the trend.
2. Forecast the series without its seasonal patterns (trend + remainder) with non-seasonal
   AutoETS (ets.py, all series at once), as statsforecast's `MSTL` model does.
3. Add each seasonal pattern's last cycle, repeated. The bands are the ETS bands: the seasonal
   patterns are taken as known (auto's calibration widens them when they are not).

>>> import numpy as np, pandas as pd
>>> t = np.arange(24 * 7 * 4)
>>> y = 10 + np.sin(2 * np.pi * t / 24) + 2 * (t % 168 >= 120) + np.random.default_rng(0).normal(0, .1, t.size)
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=t.size, freq="h"), "y": y})
>>> model = MSTL().fit(df)
>>> model.periods_["a"]
(24, 168)
>>> future = np.arange(t.size, t.size + 168)                 # a week ahead, weekend included
>>> truth = 10 + np.sin(2 * np.pi * future / 24) + 2 * (future % 168 >= 120)
>>> bool(np.abs(model.predict(168)["mean"].to_numpy() - truth).mean() < 0.3)
True
"""
from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd

from ..freq import LONGER, PERIOD_WORDS, seasonal_periods  # noqa: F401 (re-exported)
from .base import Capabilities, Forecaster, season_words
from .ets import AutoETS


class MSTL(Forecaster):
    """Several seasonal patterns removed by MSTL, the rest forecast by exponential smoothing.

    periods: the seasonal periods (None → `seasonal_periods` of the season length);
    max_train_length: newest values decomposed (None → all; the default keeps 10 weeks of hours
    or 4½ years of days, and a fit of one hourly series at a fraction of a second).
    """

    name = "mstl"
    title = "Several seasonal patterns (MSTL)"
    capabilities: ClassVar[Capabilities] = Capabilities(
        min_length=lambda m: max(2 * m + 1, 10), uses_season=True, per_series=True, multi_season=True)

    def __init__(self, periods: tuple[int, ...] | None = None, max_train_length: int | None = 1680,
                 season_length: int | None = None, freq=None):
        super().__init__(season_length=season_length, freq=freq)
        self.periods = periods                    # seasonal periods; None → from season_length
        self.max_train_length = max_train_length  # newest values used; None → all

    def _fit_arrays(self, series, m):
        from statsmodels.tsa.seasonal import MSTL as _MSTL  # imported where it is used

        wanted = tuple(sorted(int(p) for p in (self.periods or seasonal_periods(m, self.freq_)) if int(p) > 1))
        cut = self.max_train_length
        self.periods_, self.seasonal_, rest = {}, [], []
        for uid, y in zip(self.ids_, series):
            y = np.asarray(y[-cut:] if cut else y, np.float64)
            periods = tuple(p for p in wanted if len(y) >= 2 * p + 1)
            self.periods_[uid] = periods
            if not periods or np.ptp(y) == 0:
                self.seasonal_.append([])
                rest.append(y)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seasonal = np.asarray(_MSTL(y, periods=periods).fit().seasonal).reshape(len(y), -1)
            self.seasonal_.append([(p, seasonal[:, k]) for k, p in enumerate(periods)])
            rest.append(y - seasonal.sum(axis=1))
        lengths = [len(r) for r in rest]
        smoothed = pd.DataFrame({"unique_id": np.repeat(np.asarray(self.ids_, dtype=object), lengths),
                                 "ds": np.concatenate([np.arange(n) for n in lengths]),
                                 "y": np.concatenate(rest)})
        self.trend_ = AutoETS(seasons=("N",), max_train_length=None, season_length=1).fit(smoothed)
        self.notes_.update(self.trend_.notes_)

    def _predict_arrays(self, h, levels):
        mean, lo, hi = self.trend_._predict_arrays(h, levels)     # S×h, S×L×h: the smoothed rest
        shift = np.zeros_like(mean)
        for i, parts in enumerate(self.seasonal_):
            for p, s in parts:                     # the last cycle of each pattern, repeated
                shift[i] += s[len(s) - p + (np.arange(h) % p)]
        return mean + shift, lo + shift[:, None], hi + shift[:, None]

    def describe(self, unique_id: str) -> str:
        periods = self.periods_.get(unique_id, ())
        if not periods:
            return "Exponential smoothing (no seasonal pattern the series covers twice)"
        words = (lambda p: PERIOD_WORDS.get((self.season_length_, p)) or season_words(p, self.freq_))
        every = " and every ".join(words(p) for p in periods)
        return (f"{self.title}: the patterns every {every} taken out, the rest forecast by "
                "exponential smoothing")
