"""A fast automatic ARIMA: orders searched stepwise by AICc, each fit a conditional sum of squares.

The same search as Hyndman & Khandakar's auto.arima (R's forecast package; statsforecast's
AutoARIMA), made fast enough for auto's default candidates:

- differencing by the tests the linear AR uses (`linear.choose_differencing`: a seasonal
  difference where the season is strong, then KPSS for a first difference), with the KPSS lags
  auto.arima takes (⌊3√n / 13⌋: one for a 30-value series, where the AR's rule takes two). On
  M3's 645 yearly series that alone took ARIMA's relative MASE from 0.835 to 0.808
  (statsforecast's AutoARIMA: 0.817);
- each ARMA(p, q)(P, Q)_m is fitted to the differenced series w by conditional sum of squares
  (CSS: residuals from the (p + mP)-th value on, earlier errors zero), the residuals one call of
  scipy's `lfilter`, minimised by L-BFGS-B over unconstrained numbers that map onto stationary
  AR and invertible MA polynomials (partial autocorrelations through tanh, Jones 1980); a mean
  (d + D = 0) or a drift (d + D = 1) is estimated with them;
- orders move stepwise from the best of five starting models to the neighbour with the lowest
  AICc, p and q up to MAX_PQ, P and Q up to 1.

statsmodels' ARIMA (exact likelihood by Kalman filter, "arima_statsmodels") takes 20–35 s for one
monthly M3 series' search on this project's busy 2-core machine; this search takes 0.1 s for a
yearly series and 0.25 s for a quarterly one there, and an M3 file of any frequency is read, fitted
and forecast in 1.2 s on average (bench/forecast_single.py --models arima). The forecast runs the
ARMA recursion forward with future errors zero and undoes the differencing; the bands are normal
with the ψ-weights of the full model (statsforecast's AutoARIMA, as R's, leaves out the
coefficients' own uncertainty too: on simulated series both held 76 % and 71 % of 80 % bands).
As R does, a start with the mean (or drift) left out is tried, the mean is toggled as a step, and
a fit with a root within 1 % of the unit circle is refused.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.signal import lfilter

from .base import Capabilities, z_value
from .classic import _arima_words, _PerSeries
from .linear import choose_differencing, combined_polynomial, difference

MAX_PQ = 3                  # p and q searched up to this
MAX_STEPS = 30              # stepwise moves at most (R: 94 models)


@dataclasses.dataclass
class ArimaFit:
    """One fitted ARIMA(p,d,q)(P,D,Q)_m: the coefficients on w = Δ^d Δ_m^D y, and the data."""

    order: tuple[int, int, int, int]     # p, q, P, Q
    d: int
    D: int
    m: int
    phi: np.ndarray                      # φ(B)Φ(B^m) as 1 − Σ ar_i B^i: ar_1 …
    theta: np.ndarray                    # θ(B)Θ(B^m) as 1 + Σ ma_j B^j: ma_1 …
    mu: float                            # mean of w (a drift when d + D = 1); 0 when left out
    sigma2: float                        # CSS residual variance
    aicc: float
    y: np.ndarray                        # the series fitted
    resid: np.ndarray                    # residuals on w (zeros before the conditioning point)


def hyndman_lags(n: int) -> int:
    """KPSS lags as R's forecast::ndiffs (and statsforecast) take them: ⌊3√n / 13⌋.

    Fewer than the AR's ⌊4(n/100)^¼⌋ on short series (a 30-value series: 1, not 2), so the test
    sees a trend sooner.

    >>> hyndman_lags(30), hyndman_lags(144)
    (1, 2)
    """
    return int(np.floor(3 * np.sqrt(n) / 13))


def coefficients(x: np.ndarray) -> np.ndarray:
    """Stationary AR coefficients from unconstrained numbers (partial autocorrelations tanh(x),
    Durbin–Levinson). The negatives are the coefficients of an invertible MA.

    >>> bool(np.abs(np.roots(np.r_[1.0, -coefficients(np.array([3.0, -2.0, 1.0]))][::-1])).min() > 1)
    True
    """
    phi: list[float] = []
    for v in x:                 # python floats: these polynomials have one to three terms
        r = math.tanh(v)
        phi = [a - r * b for a, b in zip(phi, reversed(phi))] + [r]
    return np.array(phi)


def _seasonal(c: np.ndarray, m: int) -> np.ndarray:
    """c_1 … c_P of Φ(B^m) spread over lags m, 2m, …"""
    out = np.zeros(m * len(c))
    out[m - 1::m] = c
    return out


def _multiply(a: np.ndarray, b: np.ndarray, sign: float) -> np.ndarray:
    """Coefficients of (1 + sign·Σa_i B^i)(1 + sign·Σb_j B^j) in the same convention."""
    if not len(b):
        return a
    if not len(a):
        return b
    return sign * np.convolve(np.r_[1.0, sign * a], np.r_[1.0, sign * b])[1:]


def _polys(x: np.ndarray, order: tuple[int, int, int, int], m: int):
    p, q, P, Q = order
    i = np.cumsum([0, p, q, P, Q])
    ar = _multiply(coefficients(x[i[0]:i[1]]), _seasonal(coefficients(x[i[2]:i[3]]), m), -1.0)
    ma = _multiply(-coefficients(x[i[1]:i[2]]), _seasonal(-coefficients(x[i[3]:i[4]]), m), 1.0)
    return ar, ma


def css_residuals(w: np.ndarray, ar: np.ndarray, ma: np.ndarray, mu: float) -> np.ndarray:
    """Residuals e_t = θ(B)⁻¹ φ(B)(w_t − μ) from t = len(ar) on, earlier errors zero."""
    z = w - mu
    k = len(ar)
    u = z[k:] - (np.convolve(z, ar)[k - 1:len(z) - 1] if k else 0.0)
    return lfilter([1.0], np.r_[1.0, ma], u) if len(ma) else u


def fit_order(w: np.ndarray, order: tuple[int, int, int, int], m: int, mean: bool):
    """CSS fit of one ARMA order to w: (x, μ, σ², AICc) or None when too few values remain."""
    p, q, P, Q = order
    k = p + P * m
    n = len(w) - k
    npar = p + q + P + Q + mean + 1
    if n <= npar + 1:
        return None
    loc, scale = (float(np.mean(w)), float(np.std(w)) or 1.0)
    wz = (w - loc) / scale

    def sse(x: np.ndarray) -> float:
        ar, ma = _polys(x[mean:], order, m)
        e = css_residuals(wz, ar, ma, x[0] if mean else -loc / scale)
        v = float(e @ e)
        return v if np.isfinite(v) else 1e300

    x0 = np.zeros(npar - 1)
    if len(x0):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            x = minimize(sse, x0, method="L-BFGS-B", options={"maxiter": 50}).x
    else:
        x = x0
    sigma2 = max(sse(x) * scale ** 2 / n, 1e-300)
    N = len(w)      # every order scored on all of w: orders condition on different numbers of values
    aicc = N * (np.log(2 * np.pi * sigma2) + 1) + 2 * npar + 2 * npar * (npar + 1) / max(N - npar - 1, 1)
    mu = loc + scale * x[0] if mean else 0.0
    return x, mu, sigma2, aicc


def auto_arima(y: np.ndarray, m: int, max_train_length: int | None = None) -> ArimaFit | None:
    """The stepwise AICc search (Hyndman & Khandakar 2008) for one series; None if nothing fits.

    >>> rng = np.random.default_rng(0)
    >>> e = rng.normal(size=300)
    >>> y = np.zeros(300)
    >>> for t in range(2, 300): y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + e[t]
    >>> fit = auto_arima(y, 1)
    >>> fit.order[:2], fit.d, np.round(fit.phi, 1).tolist()
    ((2, 0), 0, [0.6, -0.3])
    """
    y = np.asarray(y, dtype=np.float64)
    if max_train_length:
        y = y[-max_train_length:]
    if len(y) < 4 or not np.all(np.isfinite(y)):
        return None
    d, D = choose_differencing(y, m, hyndman_lags)
    seasonal = m > 1 and len(y) >= 3 * m
    D = D if seasonal else 0
    w = difference(y, d, D, m)
    c = int(d + D <= 1)                  # a mean (d + D = 0) or a drift (1) may be estimated
    if len(w) < 3 or np.ptp(w) == 0:
        order = (0, 0, 0, 0)
        mu = float(w[0]) if len(w) and c else 0.0
        return ArimaFit(order, d, D, m, np.zeros(0), np.zeros(0), mu, 0.0, -np.inf, y,
                        np.zeros(len(w)))
    top = 1 if seasonal else 0
    fits: dict[tuple, tuple | None] = {}

    def aicc(key):                       # key: p, q, P, Q, with a mean (or drift)
        if key not in fits:
            fits[key] = fit_order(w, key[:4], m, bool(key[4]))
            if fits[key] is not None and _near_unit_root(fits[key][0], key):
                fits[key] = None        # R's auto.arima: a root within 1 % of the circle is refused
        return fits[key][3] if fits[key] is not None else np.inf

    starts = [(2, 2, top, top, c), (0, 0, 0, 0, c), (1, 0, top, 0, c), (0, 1, 0, top, c), (0, 0, 0, 0, 0)]
    best = min(starts, key=aicc)
    steps = [(1, 0, 0, 0, 0), (-1, 0, 0, 0, 0), (0, 1, 0, 0, 0), (0, -1, 0, 0, 0), (1, 1, 0, 0, 0),
             (-1, -1, 0, 0, 0), (0, 0, 1, 0, 0), (0, 0, -1, 0, 0), (0, 0, 0, 1, 0), (0, 0, 0, -1, 0)]
    for _ in range(MAX_STEPS):
        moves = [tuple(a + b for a, b in zip(best, step)) for step in steps]
        moves = [o for o in moves if 0 <= o[0] <= MAX_PQ and 0 <= o[1] <= MAX_PQ
                 and 0 <= o[2] <= top and 0 <= o[3] <= top]
        if c:
            moves.append(best[:4] + (1 - best[4],))     # with and without the mean or drift
        nxt = min(moves, key=aicc)
        if aicc(nxt) >= aicc(best):
            break
        best = nxt
    if fits[best] is None:
        return None
    x, mu, sigma2, score = fits[best]
    mean = bool(best[4])
    ar, ma = _polys(x[mean:], best[:4], m)
    resid = np.zeros(len(w))
    resid[len(ar):] = css_residuals(w, ar, ma, mu)
    npar = sum(best) + 1
    sigma2 *= max(len(w) - len(ar), 1) / max(len(w) - len(ar) - npar, 1)   # unbiased, for bands
    best = best[:4]
    return ArimaFit(best, d, D, m, ar, ma, mu, sigma2, score, y, resid)


def _near_unit_root(x: np.ndarray, key: tuple) -> bool:
    """Whether a fitted AR or MA polynomial has a root within 1 % of the unit circle."""
    p, q, P, Q, mean = key
    i = np.cumsum([mean, p, q, P, Q])
    for lo, hi in itertools.pairwise(i):
        if hi > lo:
            roots = np.roots(np.r_[1.0, -coefficients(x[lo:hi])][::-1])
            if len(roots) and np.abs(roots).min() < 1.01:
                return True
    return False


def arima_forecast(fit: ArimaFit, h: int, levels: Sequence[float]):
    """Mean and normal bands (L×h) of a fitted ARIMA, h steps past the end of its series."""
    w = difference(fit.y, fit.d, fit.D, fit.m)
    ar, ma = fit.phi, fit.theta
    z = np.r_[w - fit.mu, np.zeros(h)]
    e = np.r_[fit.resid, np.zeros(h)]
    n = len(w)
    for t in range(n, n + h):
        past = z[max(t - len(ar), 0):t][::-1]
        errs = e[max(t - len(ma), 0):t][::-1]
        z[t] = ar[:len(past)] @ past + ma[:len(errs)] @ errs
    wf = z[n:] + fit.mu
    undo = combined_polynomial(np.zeros(0), fit.d, fit.D, fit.m)   # y_t = w_t + Σ undo_i y_{t−i}
    yy = np.r_[fit.y, np.zeros(h)]
    for j in range(h):
        t = len(fit.y) + j
        yy[t] = wf[j] + (undo @ yy[t - len(undo):t][::-1] if len(undo) else 0.0)
    mean = yy[len(fit.y):]
    full_ar = combined_polynomial(ar, fit.d, fit.D, fit.m)       # φ(B)(1 − B)^d(1 − B^m)^D
    psi = np.zeros(h)
    psi[0] = 1.0
    for j in range(1, h):
        a = full_ar[:j]
        psi[j] = (ma[j - 1] if j <= len(ma) else 0.0) + a @ psi[j - 1::-1][:len(a)]
    sd = np.sqrt(fit.sigma2 * np.cumsum(psi ** 2))
    z_ = np.array([z_value(lv) for lv in levels])[:, None]
    return mean, mean - z_ * sd, mean + z_ * sd


def _fit_one(y: np.ndarray, m: int, max_train_length: int | None):
    fit = auto_arima(y, m, max_train_length)
    return fit, (describe_fit(fit) if fit is not None else "")


def describe_fit(fit: ArimaFit) -> str:
    """ARIMA(1,1,1) in words, as statsmodels' ARIMA says it (classic._arima_words)."""
    p, q, P, Q = fit.order
    return _arima_words(p, fit.d, q, bool(P or Q or fit.D))


class AutoARIMA(_PerSeries):
    """ARIMA with differencing by tests and a stepwise AICc search over orders (fast CSS fits).

    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(60), "y": rng.normal(size=60).cumsum()})
    >>> AutoARIMA().fit(df).predict(2).shape
    (2, 7)
    """

    name = "arima"
    title = "ARIMA"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=8, uses_season=True, per_series=True)
    _fit_one = staticmethod(_fit_one)
    _predict_one = staticmethod(arima_forecast)
