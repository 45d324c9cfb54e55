"""Benchmark forecasters every other model must beat: naive, seasonal naive (and its longer cycle),
drift, window average.

Intervals follow Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.),
§5.5, with σ the residual standard deviation of the one-step in-sample forecasts:

    naive            σ·√h
    seasonal naive   σ·√(k+1),  k = ⌊(h−1)/m⌋ (complete seasons in the horizon)
    drift            σ·√(h·(1 + h/T)),  T observations
    mean of a window σ·√(1 + 1/k),  k values in the window

The M4 "Naive2" benchmark (seasonally adjusted naive) and its 90 % seasonality test live here
too, written as in the M4 organisers' R code (`Benchmarks and Evaluation.R`,
github.com/Mcompetitions/M4-methods), because the OWA score and the Theta model both need them.
"""
from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from ..freq import PERIOD_WORDS, longer_cycle, season_words
from .base import Capabilities, Forecaster, gaussian_bands


# ---- pure functions: one series in, (mean h, sd h) out -----------------------------------------
def _sigma(residuals: np.ndarray, n_params: int = 0) -> float:
    """Residual standard deviation: √(Σe² / (N − k)), N residuals, k fitted parameters."""
    e = residuals[np.isfinite(residuals)]
    dof = len(e) - n_params
    return float(np.sqrt(np.sum(e ** 2) / dof)) if dof > 0 else float("nan")


def naive(y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Last value repeated; sd σ√h (random walk).

    >>> naive(np.array([1., 2., 4.]), 2)[0].tolist()
    [4.0, 4.0]
    """
    sigma = _sigma(np.diff(y))
    steps = np.arange(1, h + 1)
    return np.full(h, y[-1]), sigma * np.sqrt(steps)


def seasonal_naive(y: np.ndarray, h: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The value one season earlier; sd σ√(k+1), k = complete seasons before step h.

    A series shorter than one season falls back to naive (m = 1).

    >>> seasonal_naive(np.array([1., 2., 3., 4.]), 3, 2)[0].tolist()
    [3.0, 4.0, 3.0]
    """
    if m <= 1 or len(y) < m:
        return naive(y, h)
    steps = np.arange(h)
    mean = y[len(y) - m + steps % m]
    sigma = _sigma(y[m:] - y[:-m])
    return mean, sigma * np.sqrt(steps // m + 1)


def drift(y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The line from the first to the last value, extended; sd σ√(h(1+h/T)).

    >>> drift(np.array([1., 2., 3.]), 2)[0].tolist()
    [4.0, 5.0]
    """
    T = len(y)
    slope = (y[-1] - y[0]) / (T - 1) if T > 1 else 0.0
    steps = np.arange(1, h + 1)
    sigma = _sigma(np.diff(y) - slope, n_params=1)
    return y[-1] + slope * steps, sigma * np.sqrt(steps * (1 + steps / T))


def window_average(y: np.ndarray, h: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the last `window` values; sd of those values × √(1 + 1/k) (the mean method).

    >>> window_average(np.array([5., 1., 2., 3.]), 2, 3)[0].tolist()
    [2.0, 2.0]
    """
    w = y[-window:]
    k = len(w)
    sd = float(np.std(w, ddof=1)) if k > 1 else float("nan")
    return np.full(h, w.mean()), np.full(h, sd * np.sqrt(1 + 1 / k))


# ---- M4 seasonality test, classical decomposition, Naive2 --------------------------------------
def acf(y: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations r_1..r_max_lag (R's `acf`: mean-centred, divided by n·var)."""
    x = y - y.mean()
    denom = float(np.dot(x, x))
    if denom == 0:
        return np.zeros(max_lag)
    return np.array([np.dot(x[k:], x[:-k]) / denom for k in range(1, max_lag + 1)])


def seasonality_test(y: np.ndarray, m: int, lag_limit: bool = True) -> bool:
    """M4's 90 % test: is the lag-m autocorrelation significant? (the organisers' R code)

    |r_m| > 1.645·√((1 + 2·Σ_{k<m} r_k²)/n), and False when the series is shorter than 3
    seasons or (`lag_limit`) m exceeds R's default acf lag limit ⌊10·log10 n⌋. That limit keeps
    M4's benchmarks exact, but it rules out a day of half-hours (48 steps) below 63,000 values:
    `freq.long_day` data are tested without it.

    >>> t, noise = np.arange(120.0), np.random.default_rng(0).normal(size=120)
    >>> seasonality_test(10 + np.sin(2 * np.pi * t / 12), 12), seasonality_test(noise, 12)
    (True, False)
    """
    n = len(y)
    if m <= 1 or n < 3 * m or (lag_limit and m > int(np.floor(10 * np.log10(n)))):
        return False
    r = acf(np.asarray(y, dtype=np.float64), m)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n)
    return bool(abs(r[-1]) > limit)


def seasonal_indices(y: np.ndarray, m: int, kind: str = "multiplicative") -> np.ndarray:
    """Classical decomposition (R `decompose`): the seasonal component, one value per observation.

    Centred moving average (2×m when m is even) as trend, detrended ratio (or difference)
    averaged by position in the cycle, normalised to mean 1 (or 0), tiled over the series.
    """
    n = len(y)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    half = len(w) // 2
    trend = np.full(n, np.nan)
    trend[half:n - half] = np.convolve(y, w, mode="valid")
    detrended = y / trend if kind == "multiplicative" else y - trend
    cycles = -(-n // m)
    grid = np.full(cycles * m, np.nan)
    grid[:n] = detrended
    grid = grid.reshape(cycles, m)                        # one row per cycle
    with np.errstate(invalid="ignore", divide="ignore"):   # a position never seen: NaN, as R
        figure = np.nansum(grid, axis=0) / np.sum(~np.isnan(grid), axis=0)
    figure = figure / figure.mean() if kind == "multiplicative" else figure - figure.mean()
    return np.tile(figure, n // m + 1)[:n]


def deseasonalize(y: np.ndarray, m: int, h: int, lag_limit: bool = True) -> tuple[np.ndarray, np.ndarray, str]:
    """M4 deseasonalising: (adjusted series, season of the next h steps, kind); `reseasonalize`
    puts the season back on a forecast of the adjusted series.

    - "multiplicative" (M4's rule, kept as it is so that M4's Theta and Naive2 are reproduced
      exactly): a positive series that `seasonality_test` calls seasonal, divided by its
      classical-decomposition factors.
    - "additive": a series that touches zero or below (M4's series never do; ETT's loads do)
      whose *differences* the test calls seasonal, less its additive seasonal component. The
      test is on the differences because a wandering level alone makes the lag-m autocorrelation
      large: tested on the levels, ETT's daily means "had" a weekly season and Theta lost 3 %
      taking it out (one-file stretches, relative MASE 0.794 → 0.821), while on hourly
      stretches taking the daily cycle out won 14 % (0.926 → 0.798); tested on the
      differences, hourly 0.926 → 0.798 and 1.226 → 1.125, daily 0.794 → 0.794 and 0.887 → 0.885
      (two draws each, `bench/forecast_single.py --kind hourly|daily`).
    - "" (not seasonal): the series itself.

    lag_limit: as `seasonality_test` (False for a day of more than 24 steps).

    >>> t = np.arange(96.0)
    >>> adj, future, kind = deseasonalize(np.sin(2 * np.pi * t / 12) + 0.01 * t, 12, 3)
    >>> kind, round(float(np.std(np.diff(adj))), 3)    # what is left: the slope of 0.01 a step
    ('additive', 0.0)
    """
    if m > 1 and np.all(y > 0) and seasonality_test(y, m, lag_limit):
        s = seasonal_indices(y, m)
        return y / s, np.resize(s[len(y) - m:], h), "multiplicative"
    if m > 1 and not np.all(y > 0) and len(y) > 1 and seasonality_test(np.diff(y), m, lag_limit):
        s = seasonal_indices(y, m, "additive")
        return y - s, np.resize(s[len(y) - m:], h), "additive"
    return y, np.ones(h), ""


def reseasonalize(mean: np.ndarray, future: np.ndarray, kind: str) -> np.ndarray:
    """A forecast of the adjusted series with `deseasonalize`'s season put back."""
    return mean * future if kind == "multiplicative" else mean + future if kind == "additive" else mean


def naive2(y: np.ndarray, h: int, m: int) -> np.ndarray:
    """M4's Naive2: naive on the seasonally adjusted series, seasonality put back.

    >>> naive2(np.arange(1.0, 11.0), 3, 1).tolist()
    [10.0, 10.0, 10.0]
    """
    adjusted, future, kind = deseasonalize(np.asarray(y, dtype=np.float64), m, h)
    return reseasonalize(np.full(h, adjusted[-1]), future, kind)


# ---- forecasters -------------------------------------------------------------------------------
class _Baseline(Forecaster):
    """Shared shell: store the series, compute mean and sd per series at predict time."""

    def _fit_arrays(self, series: list[np.ndarray], m: int) -> None:
        self.series_ = series

    def _predict_arrays(self, h: int, levels: Sequence[float]):
        out = [self._one(y, h) for y in self.series_]
        mean = np.stack([o[0] for o in out])
        sd = np.stack([o[1] for o in out])
        return (mean, *gaussian_bands(mean, sd, levels))

    def _one(self, y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class Naive(_Baseline):
    """Tomorrow looks like today: the last value, repeated.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(5), "y": [1., 3, 2, 4, 5]})
    >>> Naive().fit(df).predict(2)["mean"].tolist()
    [5.0, 5.0]
    """

    name = "naive"
    title = "Naive"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=2, per_series=True)

    def _one(self, y, h):
        return naive(y, h)

    def describe(self, unique_id: str) -> str:
        return "Naive (repeat the last value)"


class SeasonalNaive(_Baseline):
    """The same time last season: the value one seasonal period earlier.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(6), "y": [1., 2, 3, 4, 5, 6]})
    >>> SeasonalNaive(season_length=3).fit(df).predict(3)["mean"].tolist()
    [4.0, 5.0, 6.0]
    """

    name = "seasonal_naive"
    title = "Seasonal naive"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=lambda m: max(m + 1, 2),
                                                        uses_season=True, per_series=True)

    def _one(self, y, h):
        return seasonal_naive(y, h, self.season_length_)

    def describe(self, unique_id: str) -> str:
        m = self.season_length_
        return "Seasonal naive (repeat the last season)" if m > 1 else "Naive (repeat the last value)"


class LongSeasonalNaive(_Baseline):
    """The same time one longer cycle earlier: the same hour last week, the same day last year.

    Hourly data repeat every day and every week; seasonal naive repeats yesterday, this repeats
    last week, which keeps a quiet weekend quiet. Only for frequencies with a longer cycle
    (`freq.LONGER`: hourly 168, half-hourly 336, daily 365); on M4 Hourly, choosing between the
    two by a three-window backtest alone scored sMAPE 10.06 against 13.91 for yesterday's hours.

    >>> import pandas as pd
    >>> t = np.arange(24 * 7 * 2 + 24 * 5)                  # two weeks of hours, then Monday to Friday
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=t.size, freq="h"),
    ...                    "y": (t % 168 < 120).astype(float)})   # busy on weekdays, quiet at weekends
    >>> [float(m().fit(df).predict(48)["mean"].mean()) for m in (SeasonalNaive, LongSeasonalNaive)]
    [1.0, 0.0]
    """

    name = "seasonal_naive_long"
    title = "Seasonal naive, longer cycle"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=lambda m, freq=None: (
                                                            longer_cycle(m, freq) or m) + 1,
                                                        uses_season=True, per_series=True,
                                                        multi_season=True)

    def cycle(self, m: int) -> int:
        """The longer cycle of season length m (m itself where the frequency has none)."""
        return longer_cycle(m, getattr(self, "freq_", None)) or m

    def _one(self, y, h):
        return seasonal_naive(y, h, self.cycle(self.season_length_))

    def describe(self, unique_id: str) -> str:
        return repeat_words(self.season_length_, self.freq_)


def repeat_words(m: int, freq) -> str:
    """LongSeasonalNaive's name for people at season length m: which cycle it repeats.

    >>> repeat_words(24, "h"), repeat_words(7, "D")
    ('Seasonal naive (repeat the last week)', 'Seasonal naive (repeat the last year)')
    """
    cycle = longer_cycle(m, freq) or m
    return f"Seasonal naive (repeat the last {PERIOD_WORDS.get((m, cycle)) or season_words(cycle, freq)})"


class Drift(_Baseline):
    """A straight line through the first and the last value, extended into the future.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(4), "y": [0., 1, 2, 3]})
    >>> Drift().fit(df).predict(2)["mean"].tolist()
    [4.0, 5.0]
    """

    name = "drift"
    title = "Drift"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=3, per_series=True)

    def _one(self, y, h):
        return drift(y, h)

    def describe(self, unique_id: str) -> str:
        return "Drift (a straight line through the first and last values)"


class WindowAverage(_Baseline):
    """The average of the last `window_size` values (None → one season, or 5 without seasons).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(4), "y": [9., 1, 2, 3]})
    >>> WindowAverage(window_size=3).fit(df).predict(1)["mean"].tolist()
    [2.0]
    """

    name = "window_average"
    title = "Window average"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=2, uses_season=True, per_series=True)

    def __init__(self, window_size: int | None = None, season_length: int | None = None,
                 freq=None):
        self.window_size = window_size       # values averaged; None → season length (or 5)
        self.season_length = season_length   # seasonal period; None → from freq
        self.freq = freq                     # pandas alias or integer step; None → from ds

    def _fit_arrays(self, series, m):
        self.window_ = int(self.window_size or (m if m > 1 else 5))
        super()._fit_arrays(series, m)

    def _one(self, y, h):
        return window_average(y, h, self.window_)

    def describe(self, unique_id: str) -> str:
        return f"Window average of the last {self.window_} values"
