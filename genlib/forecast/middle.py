"""The middle of three forecasts: at every step ahead, the median of AutoETS, the linear AR and naive.

A median of three is the mean of none: where one model carries a trend too far (a short yearly
series often ends on a run of rises) the other two outvote it, and where the series simply goes
on as it was, naive is one of the two. On M3's series without a seasonal period (645 yearly, 174
"other"), each fitted alone, relative MASE (geometric mean over series, against naive):

    mean of Theta, ETS and AR (auto's steady mean)    yearly 0.801   other 0.579
    median of ETS, AR and naive (this model)          yearly 0.781   other 0.569

and on the four one-file draws of bench/forecast_single.py, where auto forecasts every series
with the steady mean, 0.694 → 0.674 (yearly and other files use this model instead). Chosen among
every mean and median of Theta, ETS, AR, ARIMA and naive: choosing the best of them on one half
of the yearly series and scoring it on the other half beat the steady mean by 1.7 % on average,
in 180 of 200 random halves (the choice was this median 167 times). With a seasonal period it
is worse (quarterly 0.718 against 0.685), so auto uses it only without one (selection.steady_mean).
The bands are the median of the three models' bands, edge by edge (each stays on its side of the
median forecast), and auto calibrates them as any model's.

>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(30), "y": np.r_[np.zeros(25), 1, 2, 3, 4, 5]})
>>> fc = Middle().fit(df).predict(2)
>>> bool((fc["lo-80"] <= fc["mean"]).all() and (fc["mean"] <= fc["hi-80"]).all())
True
"""
from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np
import pandas as pd

from .base import Capabilities, Forecaster, level_name

MEMBERS = ("ets", "ar", "naive")


def _minimum(m: int) -> int:
    from .registry import MODELS
    return max(MODELS[lb].cls.capabilities.minimum(m) for lb in MEMBERS)


class Middle(Forecaster):
    """At every step ahead the median of the forecasts (and of each band edge) of AutoETS, the
    linear AR and naive, each fitted to the series on its own."""

    name = "middle"
    title = "Middle of three forecasts"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=_minimum, uses_season=True,
                                                        per_series=True)

    def __init__(self, season_length: int | None = None, freq=None):
        self.season_length = season_length   # seasonal period; None → from freq
        self.freq = freq                     # pandas alias or integer step; None → from ds

    def fit(self, df: pd.DataFrame) -> "Middle":
        from .registry import get_model
        super().fit(df)                      # the table's checks and the fitted state
        table, m = df[["unique_id", "ds", "y"]], self.season_length_
        self.members_ = {lb: get_model(lb, season_length=m, freq=self.freq).fit(table) for lb in MEMBERS}
        return self

    def _fit_arrays(self, series, m) -> None:
        pass                                 # the members are fitted on the table in fit

    def _predict_arrays(self, h: int, levels: Sequence[float]):
        cols = ["mean"] + [f"{s}-{level_name(lv)}" for lv in levels for s in ("lo", "hi")]
        stacked = [model.predict(h, levels)[cols].to_numpy(np.float64).reshape(-1, h, len(cols))
                   for model in self.members_.values()]     # the series in the same order: ids_
        mid = np.median(np.stack(stacked), axis=0)                  # S × h × columns
        return mid[:, :, 0], mid[:, :, 1::2].transpose(0, 2, 1), mid[:, :, 2::2].transpose(0, 2, 1)

    def describe(self, unique_id: str) -> str:
        words = [model.describe(unique_id) for model in self.members_.values()]
        return f"the middle, at each step, of {words[0]}, {words[1]} and {words[2]}"
