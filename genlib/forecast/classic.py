"""Classic statistical forecasters: Theta, exponential smoothing (ETS) and ARIMA.

- Theta: the method of Assimakopoulos & Nikolopoulos (2000) as Hyndman & Billah (2003) showed
  it to be — simple exponential smoothing with drift equal to half the slope of a straight-line
  fit — on the M4-deseasonalised series (90 % autocorrelation test, classical multiplicative
  decomposition). Written here in numpy and batched over series: statsmodels' `ThetaModel`
  takes 50–200 ms a series (a state-space fit of the SES), this takes well under 1 ms, and
  tests check that both give the same forecasts.
- ETS (registered as "ets_statsmodels"; "ets" is the batched numpy AutoETS of ets.py, which
  tests check against this one): statsmodels `ETSModel`, additive errors, trend none or damped, seasonality none,
  additive or multiplicative (only for 1 < m ≤ 24 with two seasons of data, as R's
  `forecast::ets`), chosen per series by AICc; intervals from `get_prediction`.
- ARIMA: statsmodels `ARIMA`, differencing from the AR model's tests (KPSS, seasonal
  strength), a handful of small (p, q)(P, Q) orders compared by AICc.

ETS and ARIMA fit one series at a time (n_jobs > 1 spreads them over processes). A fit that
fails or produces nonsense falls back to seasonal naive for that series and says so in `notes_`.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import warnings
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import pandas as pd

from ..freq import long_day
from .base import Capabilities, Forecaster, gaussian_bands, z_value
from .baselines import deseasonalize, reseasonalize, seasonal_naive
from .linear import choose_differencing


# ---- simple exponential smoothing, batched ---------------------------------------------------
def _ses_sse(Y: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SSE and final level of SES for S series (rows of Y, right-aligned) and S×G alphas.

    The level starts at each series' first value (padding in front repeats it, so the padded
    steps add nothing): ℓ_t = ℓ_{t−1} + α(y_t − ℓ_{t−1}).
    """
    S, T = Y.shape
    level = np.repeat(Y[:, :1], alpha.shape[1], axis=1)
    sse = np.zeros_like(alpha)
    for t in range(1, T):
        e = Y[:, t:t + 1] - level
        sse += e * e
        level += alpha * e
    return sse, level


def ses_fit(series: Sequence[np.ndarray], grid: int = 24, refine: int = 16):
    """Fit SES (initial level = first value) to many series: (alpha S, final level S, SSE S).

    A log-spaced grid of alphas in (0, 1], then golden-section search in the bracket around
    the best grid value — the same optimum statsmodels' `ExponentialSmoothing` finds.

    >>> a, level, sse = ses_fit([np.array([1., 1, 1, 5, 5, 5, 5, 5])])
    >>> round(float(a[0]), 2), round(float(level[0]), 2)
    (1.0, 5.0)
    """
    S = len(series)
    T = max(len(s) for s in series)
    Y = np.empty((S, T))
    for i, s in enumerate(series):
        Y[i, :T - len(s)] = s[0]
        Y[i, T - len(s):] = s
    alphas = np.r_[np.geomspace(1e-4, 1, grid - 1)[:-1], 0.5, 1.0]
    alphas = np.sort(np.unique(alphas))
    sse, _ = _ses_sse(Y, np.repeat(alphas[None, :], S, axis=0))
    k = np.argmin(sse, axis=1)
    lo = alphas[np.maximum(k - 1, 0)]
    hi = alphas[np.minimum(k + 1, len(alphas) - 1)]
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(refine):   # golden-section steps, both inner points in one pass
        a = hi - ratio * (hi - lo)
        b = lo + ratio * (hi - lo)
        f, _ = _ses_sse(Y, np.stack([a, b], axis=1))
        left = f[:, 0] <= f[:, 1]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
    cand = np.stack([alphas[k], (lo + hi) / 2], axis=1)
    sse_c, level_c = _ses_sse(Y, cand)
    j = np.argmin(sse_c, axis=1)
    rows = np.arange(S)
    return cand[rows, j], level_c[rows, j], sse_c[rows, j]


def theta_forecast(y: np.ndarray, alpha: float, level: float, sse: float, h: int):
    """Theta (θ = 2) mean and sd for one (deseasonalised) series from its SES fit.

    mean_h = ℓ_n + ½·b0·(h − 1 + 1/α − (1 − α)^n/α), b0 the least-squares slope on 0…n−1;
    sd_h = σ√(1 + α²(h − 1)) (R `forecast::thetaf`), σ² = SSE/(n − 2).
    """
    n = len(y)
    t = np.arange(n, dtype=np.float64)
    b0 = np.polyfit(t, y, 1)[0] if n > 1 else 0.0
    steps = np.arange(h, dtype=np.float64)
    a = max(alpha, 1e-10)
    trend = steps + 1 / a - (1 - a) ** n / a
    sigma = np.sqrt(sse / max(n - 2, 1))
    return level + 0.5 * b0 * trend, sigma * np.sqrt(1 + a * a * steps)


# ---- per-series loop ---------------------------------------------------------------------------
def map_series(fn: Callable[..., Any], jobs: Sequence[tuple], n_jobs: int | None = 1) -> list:
    """fn(*job) for each job, in order; n_jobs > 1 (or -1: all cores) spreads them over processes."""
    n = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs or 1)
    if n <= 1 or len(jobs) < 8:
        return [fn(*job) for job in jobs]
    chunk = max(1, len(jobs) // (4 * n))
    with cf.ProcessPoolExecutor(max_workers=n) as pool:
        return list(pool.map(_call, [fn] * len(jobs), jobs, chunksize=chunk))


def _call(fn, job):
    return fn(*job)


@contextlib.contextmanager
def _quiet():
    """One small statsmodels fit: no warnings, and one BLAS thread.

    The matrices are tiny, so BLAS threads only add overhead — and on a busy machine they
    spin-wait for each other: one ARIMA fit measured 11 s with the default threads, 0.3 s with one.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"), _one_blas_thread():
        warnings.simplefilter("ignore")
        yield


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits   # installed with scikit-learn
    except ImportError:                               # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# ---- ETS ---------------------------------------------------------------------------------------
def ets_configs(y: np.ndarray, m: int, damped: bool = True) -> list[tuple[str | None, str | None]]:
    """(trend, seasonal) pairs worth trying for this series."""
    trends = [None, "add"]
    seasonals: list[str | None] = [None]
    if 1 < m <= 24 and len(y) >= 2 * m + 2:
        seasonals.append("add")
        if np.all(y > 0):
            seasonals.append("mul")
    return [(t, s) for t in trends for s in seasonals]


def ets_fit_one(y: np.ndarray, m: int, max_train_length: int | None) -> tuple[Any, str]:
    """Fit the ETS configurations to one series, keep the best by AICc: (result or None, words)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    if max_train_length:
        y = y[-max_train_length:]
    best, best_aicc, words = None, np.inf, ""
    with _quiet():
        for trend, seasonal in ets_configs(y, m):
            try:
                model = ETSModel(pd.Series(y), error="add", trend=trend,
                                 damped_trend=trend is not None, seasonal=seasonal,
                                 seasonal_periods=m if seasonal else None,
                                 initialization_method="heuristic" if seasonal else "estimated")
                res = model.fit(disp=False, maxiter=200)
            except Exception:   # noqa: BLE001 - statsmodels raises many kinds; try the next
                continue
            aicc = res.aicc
            if np.isfinite(aicc) and aicc < best_aicc:
                best, best_aicc = res, aicc
                words = "Exponential smoothing (ETS) with {} and {}".format(
                    "a damped trend" if trend else "no trend",
                    {"add": "a season", "mul": "a season that grows with the level"}.get(
                        seasonal, "no season"))
    return best, words


def ets_predict_one(res: Any, h: int, levels: Sequence[float]):
    """Mean and bands from a fitted ETSResults (simulated bands for multiplicative seasons)."""
    with _quiet():
        n = int(res.nobs)
        pred = res.get_prediction(start=n, end=n + h - 1, repetitions=500, random_state=0)
        mean = np.asarray(pred.predicted_mean, dtype=np.float64)
        lo, hi = [], []
        for lv in levels:
            frame = pred.summary_frame(alpha=1 - lv / 100)
            lo.append(frame["pi_lower"].to_numpy(np.float64))
            hi.append(frame["pi_upper"].to_numpy(np.float64))
    return mean, np.stack(lo), np.stack(hi)


# ---- ARIMA -------------------------------------------------------------------------------------
ARIMA_ORDERS = [(1, 0), (0, 1), (1, 1), (2, 0), (2, 1), (0, 2)]   # (p, q) tried


def arima_fit_one(y: np.ndarray, m: int, max_train_length: int | None) -> tuple[Any, str]:
    """Small AICc search over ARIMA(p,d,q)(P,D,Q)_m for one series: (result or None, words)."""
    from statsmodels.tsa.arima.model import ARIMA

    if max_train_length:
        y = y[-max_train_length:]
    d, D = choose_differencing(y, m)
    seasonal_ok = 1 < m <= 24 and len(y) >= 3 * m
    D = D if seasonal_ok else 0
    seasonal = [(0, 0)] + ([(0, 1), (1, 0)] if seasonal_ok else [])
    trend = "c" if d + D == 0 else ("t" if d + D == 1 else "n")
    best, best_aicc, words = None, np.inf, ""
    with _quiet():
        for p, q in ARIMA_ORDERS:
            for P, Q in seasonal:
                try:
                    model = ARIMA(y, order=(p, d, q),
                                  seasonal_order=(P, D, Q, m) if (P or D or Q) else (0, 0, 0, 0),
                                  trend=trend)
                    res = model.fit(method_kwargs={"maxiter": 50})
                except Exception:   # noqa: BLE001
                    continue
                aicc = res.aicc
                if np.isfinite(aicc) and aicc < best_aicc:
                    best, best_aicc = res, aicc
                    words = _arima_words(p, d, q, P or D or Q)
    return best, words


def _arima_words(p: int, d: int, q: int, seasonal: bool) -> str:
    """ARIMA(1,1,1) in words: "ARIMA on the changes, with 1 past value and 1 past error"."""
    on = " on the changes" if d else ""
    return (f"ARIMA{on}, with {p} past value{'s' * (p != 1)} and {q} past error{'s' * (q != 1)}"
            + (" and a seasonal part" if seasonal else ""))


def arima_predict_one(res: Any, h: int, levels: Sequence[float]):
    """Mean and normal bands from a fitted statsmodels ARIMA result."""
    with _quiet():
        fc = res.get_forecast(h)
        mean = np.asarray(fc.predicted_mean, dtype=np.float64)
        lo, hi = [], []
        for lv in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - lv / 100), dtype=np.float64)
            lo.append(ci[:, 0])
            hi.append(ci[:, 1])
    return mean, np.stack(lo), np.stack(hi)


# ---- forecasters -------------------------------------------------------------------------------
class Theta(Forecaster):
    """The Theta method: exponential smoothing plus half the long-run trend, on deseasonalised data.

    deseasonalize: test for seasonality and remove it first (M4 way); None season → from freq.

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(50), "y": np.arange(50.0) + 10})
    >>> round(float(Theta().fit(df).predict(1)["mean"].iloc[0]), 1)
    59.5
    """

    name = "theta"
    title = "Theta method"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=4, uses_season=True, per_series=True)

    def __init__(self, deseasonalize: bool = True, season_length: int | None = None, freq=None):
        self.deseasonalize = deseasonalize   # remove a tested seasonal pattern before smoothing
        self.season_length = season_length   # seasonal period; None → from freq
        self.freq = freq                     # pandas alias or integer step; None → from ds

    def _fit_arrays(self, series, m):
        self.series_ = series
        self.seasonal_ = {}
        adjusted = []
        for uid, y in zip(self.ids_, series):
            if self.deseasonalize and m > 1:
                # a long enough horizon of factors is computed at predict time; here only the test
                adj, _, seasonal = deseasonalize(y, m, 1, not long_day(m, self.freq_))
            else:
                adj, seasonal = y, False
            self.seasonal_[uid] = seasonal
            adjusted.append(adj)
        self.adjusted_ = adjusted
        self.alpha_, self.level_, self.sse_ = ses_fit(adjusted)

    def _predict_arrays(self, h, levels):
        means, sds = [], []
        m = self.season_length_
        for i, (uid, y) in enumerate(zip(self.ids_, self.series_)):
            mean, sd = theta_forecast(self.adjusted_[i], self.alpha_[i], self.level_[i],
                                      self.sse_[i], h)
            if self.seasonal_[uid]:
                _, future, kind = deseasonalize(y, m, h, not long_day(m, self.freq_))
                mean = reseasonalize(mean, future, kind)
                sd = sd * future if kind == "multiplicative" else sd
            means.append(mean)
            sds.append(sd)
        mean = np.stack(means)
        return (mean, *gaussian_bands(mean, np.stack(sds), levels))

    def describe(self, unique_id):
        return "Theta method" + (" (season removed first)" if self.seasonal_[unique_id] else "")


class _PerSeries(Forecaster):
    """Shell for statsmodels models fitted one series at a time, with a seasonal-naive fallback."""

    _fit_one: ClassVar[Callable] = staticmethod(lambda y, m, n: (None, ""))
    _predict_one: ClassVar[Callable] = staticmethod(lambda res, h, levels: None)

    def __init__(self, n_jobs: int = 1, max_train_length: int | None = None,
                 season_length: int | None = None, freq=None):
        self.n_jobs = n_jobs                 # processes for the per-series fits
        self.max_train_length = max_train_length  # newest values used; None → all
        self.season_length = season_length   # seasonal period; None → from freq
        self.freq = freq                     # pandas alias or integer step; None → from ds

    def _fit_arrays(self, series, m):
        jobs = [(y, m, self.max_train_length) for y in series]
        out = map_series(type(self)._fit_one, jobs, self.n_jobs)
        self.series_ = series
        self.results_ = [r for r, _ in out]
        self.words_ = {}
        for uid, (res, words) in zip(self.ids_, out):
            if res is None:
                self.notes_[uid] = (f"{self.title} could not be fitted to this series; used "
                                    "seasonal naive instead.")
                words = "Seasonal naive (used because the model could not be fitted)"
            self.words_[uid] = words

    def _predict_arrays(self, h, levels):
        m = self.season_length_
        S, L = len(self.series_), len(levels)
        mean, lo, hi = np.empty((S, h)), np.empty((S, L, h)), np.empty((S, L, h))
        for i, (uid, y, res) in enumerate(zip(self.ids_, self.series_, self.results_)):
            out = None
            if res is not None:
                try:
                    out = type(self)._predict_one(res, h, levels)
                except Exception:   # noqa: BLE001
                    out = None
                if out is not None and not _sane(out[0], y):
                    out = None
            if out is None:
                if res is not None:
                    self.notes_[uid] = (f"{self.title} gave unusable forecasts for this series; "
                                        "used seasonal naive instead.")
                    self.words_[uid] = "Seasonal naive (used because the model's forecast was unusable)"
                mu, sd = seasonal_naive(y, h, m)
                z = np.array([z_value(lv) for lv in levels])[:, None]
                out = (mu, mu - z * sd, mu + z * sd)
            mean[i], lo[i], hi[i] = out
        return mean, lo, hi

    def describe(self, unique_id):
        return self.words_.get(unique_id, self.title)


def _sane(mean: np.ndarray, y: np.ndarray) -> bool:
    """Finite forecasts within a wide band around the history (a runaway fit is not)."""
    if not np.all(np.isfinite(mean)):
        return False
    span = np.ptp(y) + np.abs(y).max() + 1e-9
    return bool(np.all(np.abs(mean - y[-1]) < 10 * span))


class ETS(_PerSeries):
    """Exponential smoothing (ETS) with the trend and season chosen per series by AICc.

    n_jobs: processes for the per-series fits (1: none, -1: all cores); max_train_length:
    use only the newest values (None → all).

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(40), "y": np.arange(40.0)})
    >>> ETS().fit(df).predict(2).shape
    (2, 7)
    """

    name = "ets_statsmodels"
    title = "Exponential smoothing (statsmodels)"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=10, uses_season=True, per_series=True)
    _fit_one = staticmethod(ets_fit_one)
    _predict_one = staticmethod(ets_predict_one)


class ARIMA(_PerSeries):
    """ARIMA with differencing by tests and a small AICc search over orders (statsmodels).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(60), "y": rng.normal(size=60).cumsum()})
    >>> ARIMA().fit(df).predict(2).shape
    (2, 7)
    """

    name = "arima_statsmodels"
    title = "ARIMA (statsmodels)"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=12, uses_season=True, per_series=True)
    _fit_one = staticmethod(arima_fit_one)
    _predict_one = staticmethod(arima_predict_one)
