"""Forecast accuracy: pure functions on arrays of one series (actuals, forecasts, history).

Definitions follow the M4 competition (Makridakis, Spiliotis & Assimakopoulos 2020, IJF 36(1))
so that scores compare with published tables:

    sMAPE = mean(200·|y − ŷ| / (|y| + |ŷ|))                 (percent, 0/0 counts as 0)
    MASE  = mean|y − ŷ| / mean|x_t − x_{t−m}|                (x the history, m the period)
    OWA   = ½·(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)    (over a whole data set)

Averages over many series are plain means of the per-series scores (as in M4). The error
functions also take 2-D arrays (one series per row) and then return one score per row.
Interval scores: coverage (percent of actuals inside the band), MSIS (M4's scaled interval
score) and a scaled CRPS approximated by the pinball loss over the quantiles the bands imply.

>>> y, f = np.array([10., 20.]), np.array([11., 18.])
>>> round(smape(y, f), 4), round(mase(y, f, np.array([1., 2., 4.]), 1), 4)
(10.0251, 1.0)
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np


def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _out(x):
    """A float for one series; an array (one value per row) for a 2-D batch."""
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def mae(y, yhat) -> float:
    """Mean absolute error.

    >>> mae([1, 2], [2, 4])
    1.5
    """
    return _out(np.mean(np.abs(_a(y) - _a(yhat)), axis=-1))


def rmse(y, yhat) -> float:
    """Root mean squared error.

    >>> rmse([0, 0], [3, 4]) == (12.5) ** 0.5
    True
    """
    return _out(np.sqrt(np.mean((_a(y) - _a(yhat)) ** 2, axis=-1)))


def mape(y, yhat) -> float:
    """Mean absolute percentage error (percent); steps where y = 0 are left out (NaN if all).

    >>> mape([100, 200], [110, 180])
    10.0
    """
    y, yhat = np.broadcast_arrays(_a(y), _a(yhat))
    ape = np.divide(np.abs(y - yhat), np.abs(y), out=np.full(y.shape, np.nan), where=y != 0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _out(100 * np.nanmean(ape, axis=-1))


def smape(y, yhat) -> float:
    """Symmetric MAPE as in M4: mean of 200·|y − ŷ| / (|y| + |ŷ|); 0/0 counts as 0.

    >>> round(smape([100], [50]), 4)
    66.6667
    """
    y, yhat = _a(y), _a(yhat)
    denom = np.abs(y) + np.abs(yhat)
    ratio = np.divide(np.abs(y - yhat), denom, out=np.zeros_like(denom), where=denom > 0)
    return _out(200 * np.mean(ratio, axis=-1))


def naive_scale(insample, m: int = 1, power: int = 1) -> float:
    """mean |x_t − x_{t−m}|^power over the history: the MASE / RMSSE denominator.

    Falls back to m = 1 when the history is not longer than one season; NaN if it is flat.
    """
    x = _a(insample)
    if m < 1 or len(x) <= m:
        m = 1
    if len(x) <= m:
        return float("nan")
    s = float(np.mean(np.abs(x[m:] - x[:-m]) ** power))
    return s if s > 0 else float("nan")


def mase(y, yhat, insample, m: int = 1) -> float:
    """Mean absolute scaled error (M4): MAE over the in-sample seasonal-naive MAE with period m.

    >>> mase([3, 5], [4, 4], [1, 2, 3], 1)
    1.0
    """
    return mae(y, yhat) / naive_scale(insample, m)


def rmsse(y, yhat, insample, m: int = 1) -> float:
    """Root mean squared scaled error (M5): √(MSE / in-sample seasonal-naive MSE).

    >>> rmsse([3, 5], [4, 4], [1, 2, 3], 1)
    1.0
    """
    return _out(np.sqrt(np.mean((_a(y) - _a(yhat)) ** 2, axis=-1) / naive_scale(insample, m, power=2)))


def coverage(y, lo, hi) -> float:
    """Percent of actuals inside [lo, hi].

    >>> coverage([1, 2, 3, 4], [0, 0, 0, 0], [2, 2, 2, 2])
    50.0
    """
    y = _a(y)
    return _out(100 * np.mean((y >= _a(lo)) & (y <= _a(hi)), axis=-1))


def pinball(y, q, tau: float) -> float:
    """Pinball (quantile) loss of the forecast quantile q at probability tau.

    >>> round(pinball([10.], [8.], 0.9), 6), round(pinball([10.], [12.], 0.9), 6)
    (1.8, 0.2)
    """
    d = _a(y) - _a(q)
    return _out(np.mean(np.maximum(tau * d, (tau - 1) * d), axis=-1))


def band_quantiles(levels: Sequence[float]) -> list[tuple[float, float]]:
    """(lower, upper) probabilities of the central bands: 80 → (0.1, 0.9)."""
    return [((1 - lv / 100) / 2, 1 - (1 - lv / 100) / 2) for lv in levels]


def crps_from_bands(y, mean, lows: Sequence, highs: Sequence, levels: Sequence[float]) -> float:
    """CRPS approximated by twice the mean pinball loss over the quantiles the bands imply.

    The mean stands for the median; each level gives a lower and an upper quantile. With many
    levels this tends to the CRPS (Gneiting & Raftery 2007: CRPS = 2∫ pinball dτ).

    >>> round(crps_from_bands([1.], [1.], [[0.]], [[2.]], [80]), 4)
    0.1333
    """
    parts = [pinball(y, mean, 0.5)]
    for lo, hi, (a, b) in zip(lows, highs, band_quantiles(levels)):
        parts += [pinball(y, lo, a), pinball(y, hi, b)]
    return _out(2 * np.mean(parts, axis=0))


def scaled_crps(y, mean, lows, highs, levels, insample, m: int = 1) -> float:
    """`crps_from_bands` divided by the in-sample seasonal-naive MAE: comparable across series."""
    return crps_from_bands(y, mean, lows, highs, levels) / naive_scale(insample, m)


def msis(y, lo, hi, insample, m: int = 1, level: float = 95) -> float:
    """M4's mean scaled interval score for a (100−α)% band: width plus 2/α per miss, scaled.

    >>> msis([5.], [4.], [6.], [1., 2., 3.], 1, 95)
    2.0
    """
    y, lo, hi = _a(y), _a(lo), _a(hi)
    a = 1 - level / 100
    score = (hi - lo) + (2 / a) * (lo - y) * (y < lo) + (2 / a) * (y - hi) * (y > hi)
    return _out(np.mean(score, axis=-1)) / naive_scale(insample, m)


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """M4's overall weighted average relative to Naive2 (1 = as good as Naive2, lower is better).

    >>> owa(9.0, 2.0, 10.0, 2.5)
    0.85
    """
    return round(0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2), 12)
