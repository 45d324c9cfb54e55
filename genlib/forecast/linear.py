"""Linear autoregression AR(p), fitted by least squares in torch for many series at once.

Per series:

1. Differencing. Seasonal differencing (D = 1, period m) when the seasonal strength of a
   classical additive decomposition, Fs = max(0, 1 − var(remainder)/var(seasonal + remainder)),
   exceeds 0.64 (the rule of R's `forecast::nsdiffs`) and the series has ≥ 3 seasons; then one
   ordinary difference (d = 1) when the KPSS level-stationarity statistic of what is left
   exceeds its 5 % critical value 0.463 (as `forecast::ndiffs`, short Bartlett window
   ⌊4(n/100)^¼⌋). Both can also be fixed by hand (d=, D=).
2. Order. p = 0…max_p by AIC (or BIC), all orders compared on the same rows (those after
   max_p), then the chosen order refitted on every row — the procedure of statsmodels'
   `ar_select_order`. A constant is included unless d + D = 2 (it would be a quadratic trend).
3. Fit. Ordinary least squares on [1, z_{t−1} … z_{t−p}] → z_t (z the differenced series,
   centred and scaled for conditioning), as `statsmodels.tsa.ar_model.AutoReg(trend="c")`.
   Normal equations, batched over series (padded, masked) in float64 on the chosen device
   (genlib.forecast.lstsq).
4. Forecast. The differenced AR is folded back into one AR on the original scale,
   Φ(B) = φ(B)(1 − B)^d(1 − B^m)^D, run forward from the last values. Intervals from the
   ψ-weights of 1/Φ(B): var_h = σ²·Σ_{j<h} ψ_j², σ² = SSR/(rows − parameters).
5. Scale. Steps 1–3 run for a whole panel at once: series sorted by length into batches of
   similar length (little padding, bounded memory), each batch one set of tensor operations on
   the device; with n_jobs > 1 the batches are shared out to worker processes on the CPU.
   float64 on every device: the rules of step 1 compare with thresholds, float32 would flip them.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> y = np.zeros(300)
>>> for t in range(2, 300): y[t] = 0.6 * y[t-1] - 0.3 * y[t-2] + rng.normal()
>>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(300), "y": y})
>>> AR(d=0, D=0).fit(df).order_["a"]
2
"""
from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np
import torch

from .. import subprocesses
from ..device import resolve_device as _resolve_device
from ..errors import GenlibError
from .base import Capabilities, Forecaster, gaussian_bands
from .baselines import seasonal_indices
from .lstsq import fit_ar_batch, lag_gram, order_ssr, solve_orders  # noqa: F401 (re-exported)

KPSS_CRITICAL_5PCT = 0.463       # KPSS level-stationarity test, 5 % (Kwiatkowski et al. 1992)
SEASONAL_STRENGTH_LIMIT = 0.64   # forecast::nsdiffs "seas" heuristic (Wang, Smith & Hyndman 2006)


# ---- differencing ------------------------------------------------------------------------------
def kpss_statistic(y: np.ndarray, lags: int | None = None) -> float:
    """KPSS statistic for level stationarity: Σ S_t² / (n² · long-run variance).

    S_t are partial sums of y − ȳ; the long-run variance uses a Bartlett window of `lags`
    (None → ⌊4(n/100)^¼⌋). Large values (> 0.463 at 5 %) say: difference the series.

    >>> rng = np.random.default_rng(0)
    >>> kpss_statistic(rng.normal(size=500)) < 0.463 < kpss_statistic(rng.normal(size=500).cumsum())
    True
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    e = y - y.mean()
    if lags is None:
        lags = int(np.floor(4 * (n / 100) ** 0.25))
    lags = min(lags, n - 1)
    s2 = np.dot(e, e) / n
    for k in range(1, lags + 1):
        s2 += 2 * (1 - k / (lags + 1)) * np.dot(e[k:], e[:-k]) / n
    if s2 <= 0:
        return 0.0
    partial = np.cumsum(e)
    return float(np.dot(partial, partial) / (n * n * s2))


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """Fs = max(0, 1 − var(R)/var(S + R)) from a classical additive decomposition (0 … 1).

    >>> t = np.arange(96.0)
    >>> round(seasonal_strength(np.sin(2 * np.pi * t / 12) + 0.01 * t, 12), 2)
    1.0
    """
    y = np.asarray(y, dtype=np.float64)
    if m <= 1 or len(y) < 2 * m:
        return 0.0
    s = seasonal_indices(y, m, kind="additive")
    half = m // 2
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(y, w, mode="valid")
    detrended = y[half:half + len(trend)] - trend
    remainder = detrended - s[half:half + len(trend)]
    v = np.var(detrended)
    return float(max(0.0, 1 - np.var(remainder) / v)) if v > 0 else 0.0


def choose_differencing(y: np.ndarray, m: int,
                        lags: Callable[[int], int] | None = None) -> tuple[int, int]:
    """(d, D): seasonal difference if the seasonality is strong, then a KPSS test for d.

    lags: the KPSS test's lags as a function of the length (None: ⌊4(n/100)^¼⌋; the ARIMA
    search uses arima.hyndman_lags, as auto.arima does).

    >>> rng = np.random.default_rng(1)
    >>> choose_differencing(rng.normal(size=200).cumsum(), 1)
    (1, 0)
    """
    y = np.asarray(y, dtype=np.float64)
    D = int(m > 1 and len(y) >= 3 * m and seasonal_strength(y, m) > SEASONAL_STRENGTH_LIMIT)
    z = y[m:] - y[:-m] if D else y
    d = int(len(z) >= 8 and np.ptp(z) > 0
            and kpss_statistic(z, lags(len(z)) if lags else None) > KPSS_CRITICAL_5PCT)
    return d, D


def difference(y: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    """(1 − B)^d (1 − B^m)^D y."""
    z = np.asarray(y, dtype=np.float64)
    if D:
        z = z[m:] - z[:-m]
    if d:
        z = np.diff(z)
    return z


# ---- the same choices for a whole panel at once ------------------------------------------------
def _masked_var(x: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Population variance of each row over the cells where `inside` (two passes, as np.var)."""
    k = inside.sum(1).clamp_min(1)
    mu = (x * inside).sum(1) / k
    return (((x - mu[:, None]) * inside) ** 2).sum(1) / k


def seasonal_strength_batch(Y: torch.Tensor, n: torch.Tensor, m: int) -> torch.Tensor:
    """seasonal_strength of every row of Y (S×T left-aligned, zero after its length n) at once.

    A row whose deseasonalised variance is only rounding noise (a constant series) gets 0.

    >>> t = torch.arange(96.0, dtype=torch.float64)
    >>> seasonal_strength_batch(torch.sin(2 * torch.pi * t / 12)[None], torch.tensor([96]), 12).round().tolist()
    [1.0]
    """
    S, T = Y.shape
    if m <= 1 or T < 2 * m:
        return torch.zeros(S, dtype=Y.dtype, device=Y.device)
    t = torch.arange(T, device=Y.device)
    valid = t[None, :] < n[:, None]
    # centred first: the moving average comes from prefix sums, which then stay small
    y = (Y - (Y.sum(1) / n.clamp_min(1))[:, None]) * valid
    C = torch.nn.functional.pad(torch.cumsum(y, 1), (1, 0))          # C[:, k] = Σ_{u<k} y_u
    half = m // 2
    c = t[half:T - half]                                             # centres of the average
    if m % 2:
        trend = (C[:, c + half + 1] - C[:, c - half]) / m
    else:                                                            # 2×m average: half weights
        trend = (C[:, c + half] - C[:, c - half + 1] + 0.5 * (y[:, c - half] + y[:, c + half])) / m
    inside = (c[None, :] < (n - half)[:, None]).to(Y.dtype)
    det = (y[:, c] - trend) * inside
    pos = c % m                                                      # place in the cycle
    count = torch.zeros(S, m, dtype=Y.dtype, device=Y.device).index_add_(1, pos, inside)
    figure = torch.zeros_like(count).index_add_(1, pos, det) / count.clamp_min(1)
    figure = figure - figure.mean(1, keepdim=True)
    v = _masked_var(det, inside)
    vr = _masked_var(det - figure[:, pos], inside)
    noise = 1e-24 * ((Y * Y).sum(1) / n.clamp_min(1)).clamp_min(1e-300)   # vs the level
    fs = torch.where(v > noise, (1 - vr / v.clamp_min(1e-300)).clamp_min(0.0), torch.zeros_like(v))
    return torch.where(n >= 2 * m, fs, torch.zeros_like(fs))


def kpss_batch(Z: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """kpss_statistic of every row of Z (S×T left-aligned, zero after its length n) at once."""
    T = Z.shape[1]
    valid = (torch.arange(T, device=Z.device)[None, :] < n[:, None]).to(Z.dtype)
    nf = n.clamp_min(1).to(Z.dtype)
    mu = (Z * valid).sum(1) / nf
    mu = mu + ((Z - mu[:, None]) * valid).sum(1) / nf      # a second pass: the partial sums
    e = (Z - mu[:, None]) * valid                           # below are sensitive to the mean
    window = {k: int(np.floor(4 * (k / 100) ** 0.25)) for k in n.unique().tolist()}  # as the scalar
    lags = torch.as_tensor([window[k] for k in n.tolist()], device=Z.device)
    lags = torch.minimum(lags, (n - 1).clamp_min(0))
    s2 = (e * e).sum(1) / nf
    for k in range(1, min(int(lags.max()), T - 1) + 1):
        w = 2 * (1 - k / (lags + 1).to(Z.dtype)) * (k <= lags)
        s2 = s2 + w * (e[:, k:] * e[:, :-k]).sum(1) / nf
    partial = torch.cumsum(e, 1) * valid
    stat = (partial * partial).sum(1) / (nf * nf * s2.clamp_min(1e-300))
    return torch.where(s2 > 0, stat, torch.zeros_like(stat))


def choose_differencing_batch(Y: torch.Tensor, n: torch.Tensor, m: int):
    """choose_differencing for every row of Y (S×T left-aligned) at once: (d S, D S) bool tensors."""
    T = Y.shape[1]
    t = torch.arange(T, device=Y.device)
    D = (n >= 3 * m) & (seasonal_strength_batch(Y, n, m) > SEASONAL_STRENGTH_LIMIT)
    Z = Y.clone()
    if D.any():
        Z[D, :T - m] = Y[D, m:] - Y[D, :T - m]
    nz = n - m * D.long()
    valid = t[None, :] < nz[:, None]
    Z = Z * valid
    ptp = torch.where(valid, Z, -torch.inf).amax(1) - torch.where(valid, Z, torch.inf).amin(1)
    d = (nz >= 8) & (ptp > 0) & (kpss_batch(Z, nz) > KPSS_CRITICAL_5PCT)
    return d, D


def combined_polynomial(phi: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    """AR coefficients on the original scale: Φ(B) = φ(B)(1 − B)^d(1 − B^m)^D.

    Returns Φ_1 … Φ_P with y_t = c + Σ Φ_i y_{t−i} + ε_t.

    >>> combined_polynomial(np.array([0.5]), 1, 0, 1).tolist()
    [1.5, -0.5]
    """
    poly = np.r_[1.0, -np.asarray(phi, dtype=np.float64)]
    if d:
        poly = np.convolve(poly, [1.0, -1.0])
    if D:
        seasonal = np.zeros(m + 1)
        seasonal[0], seasonal[m] = 1.0, -1.0
        poly = np.convolve(poly, seasonal)
    return -poly[1:]


def psi_weights(ar: np.ndarray, h: int) -> np.ndarray:
    """ψ_0 … ψ_{h−1} of 1/Φ(B) for a batch of AR polynomials ar (S×P, y_t = Σ ar_i y_{t−i}).

    >>> psi_weights(np.array([[0.5]]), 3).tolist()
    [[1.0, 0.5, 0.25]]
    """
    S, P = ar.shape
    psi = np.zeros((S, h))
    psi[:, 0] = 1.0
    for j in range(1, h):
        k = min(j, P)
        psi[:, j] = np.einsum("si,si->s", ar[:, :k], psi[:, j - 1::-1][:, :k])
    return psi


def ar_forecast(history: np.ndarray, const: np.ndarray, ar: np.ndarray, h: int) -> np.ndarray:
    """Run y_t = c + Σ ar_i y_{t−i} forward h steps for a batch (history S×P, newest last).

    >>> ar_forecast(np.array([[1.0, 2.0]]), np.array([0.0]), np.array([[1.0, 0.0]]), 2).tolist()
    [[2.0, 2.0]]
    """
    S, P = ar.shape
    buf = np.concatenate([history[:, history.shape[1] - P:] if P else history[:, :0],
                          np.zeros((S, h))], axis=1)
    rev = ar[:, ::-1]
    for j in range(h):
        buf[:, P + j] = const + np.einsum("si,si->s", rev, buf[:, j:j + P])
    return buf[:, P:]


def is_stationary(phi: np.ndarray) -> np.ndarray:
    """True per row when all roots of 1 − φ_1 B − … lie outside the unit circle.

    >>> is_stationary(np.array([[0.5, 0.0], [1.2, 0.0], [0.0, 0.0]])).tolist()
    [True, False, True]
    """
    S, P = phi.shape
    out = np.ones(S, dtype=bool)
    nz = phi != 0
    order = np.where(nz.any(1), P - np.argmax(nz[:, ::-1], axis=1), 0)
    order[np.abs(phi).sum(1) < 1] = 0          # Σ|φ| < 1 is enough: no eigenvalues needed
    for q in np.unique(order[order > 0]):
        rows = np.nonzero(order == q)[0]
        companion = np.zeros((len(rows), q, q))
        companion[:, 0, :] = phi[rows, :q]
        companion[:, 1:, :-1] = np.eye(q - 1)
        out[rows] = np.abs(np.linalg.eigvals(companion)).max(1) < 1 - 1e-8
    return out


def resolve_device(device: str) -> torch.device:
    """'auto' → CUDA when present, else CPU (the fit needs float64, so never MPS)."""
    return _resolve_device(device, allow_mps=False)


# ---- the forecaster ----------------------------------------------------------------------------
def default_max_p(n: int, m: int) -> int:
    """Largest order tried: a season and a half (at least 8; 8 without seasons), ≤ a third of n."""
    base = max(8, m + m // 2) if m > 1 else 8
    return int(max(0, min(base, (n - 1) // 3)))


# ---- a whole panel: blocks of similar length, on a device or in worker processes ---------------
BLOCK_VALUES = {"cpu": 2 ** 21, "cuda": 2 ** 24}   # values per batch (series × longest length)
WORKERS_FROM = 2 ** 23      # fewer values in the panel: no workers (each imports torch: seconds)


def fit_block(series: Sequence[np.ndarray], m: int, settings: dict, device="cpu") -> dict:
    """Differencing, order and coefficients of a batch of series (see the module notes).

    settings: p, max_p, d, D, ic as in AR. Returns arrays: order, d, D, intercept, phi (S×P),
    sigma2, explosive (the order whose fit would have grown without bound, else 0).
    """
    device = torch.device(device)
    n = np.array([len(s) for s in series], dtype=np.int64)
    T = int(n.max())
    Y = np.zeros((len(series), T))
    Y[np.arange(T)[None, :] < n[:, None]] = np.concatenate(series)
    if settings["d"] is None or settings["D"] is None:
        d_t, D_t = choose_differencing_batch(torch.from_numpy(Y).to(device),
                                             torch.from_numpy(n).to(device), m)
        d, D = d_t.long().cpu().numpy(), D_t.long().cpu().numpy()
    else:
        d = D = np.zeros(len(series), dtype=np.int64)
    d = d if settings["d"] is None else np.full(len(series), int(settings["d"]))
    D = D if settings["D"] is None else np.full(len(series), int(settings["D"]))
    D = np.where(D.astype(bool) & (n < m + 8), 0, D)   # too short to lose a season: no seasonal difference
    Z, s = Y.copy(), D.astype(bool)
    if s.any():                                  # (1 − B^m), then (1 − B), as `difference`
        Z[s, :T - m] = Y[s, m:] - Y[s, :T - m]
    s = d.astype(bool)
    Z[s, :-1] = Z[s, 1:] - Z[s, :-1]
    nz = n - m * D - d
    z = [Z[i, :k] for i, k in enumerate(nz)]
    if settings["max_p"] is not None:
        max_p = np.minimum(int(settings["max_p"]), np.maximum((nz - 2) // 2, 0))
    else:
        max_p = np.array([default_max_p(k, m) for k in nz])
    if settings["p"] is not None:
        max_p = np.maximum(np.minimum(int(settings["p"]), nz - 2), 0)
    const = d + D < 2
    order, c, phi, s2 = fit_ar_batch(z, max_p, const, None if settings["p"] is None else max_p,
                                     settings["ic"], device)
    explosive = np.zeros(len(series), dtype=np.int64)
    for i in np.nonzero(~is_stationary(phi))[0]:   # it would run away: use the mean change
        explosive[i], order[i], phi[i] = order[i], 0, 0.0
        c[i] = z[i].mean() if const[i] else 0.0
        s2[i] = np.mean((z[i] - c[i]) ** 2)
    return {"order": order, "d": d, "D": D, "intercept": c, "phi": phi, "sigma2": s2,
            "explosive": explosive}


def _fit_block_worker(values: np.ndarray, lengths: np.ndarray, m: int, settings: dict) -> dict:
    """fit_block in a worker process: plain arrays in and out, one thread per process."""
    torch.set_num_threads(1)
    return fit_block(np.split(values, np.cumsum(lengths)[:-1]), m, settings, "cpu")


def fit_panel(series: Sequence[np.ndarray], m: int, settings: dict, device="cpu",
              n_jobs: int = 1) -> dict:
    """fit_block over a whole panel: series sorted by length into batches of similar length
    (little padding, bounded memory); with n_jobs > 1 (-1: all cores) the batches of a large
    panel (≥ WORKERS_FROM values) are fitted in worker processes (CPU only; a GPU takes them one
    after another in this process).

    >>> rng = np.random.default_rng(0)
    >>> settings = {"p": None, "max_p": None, "d": 0, "D": 0, "ic": "aic"}
    >>> fit = fit_panel([rng.normal(size=k) for k in (40, 90)], 1, settings)
    >>> fit["order"].tolist(), fit["phi"].shape
    ([0, 0], (2, 8))
    """
    device = torch.device(device)
    n = np.array([len(s) for s in series], dtype=np.int64)
    rank = np.argsort(n, kind="stable")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    want = (cores if n_jobs == -1 else int(n_jobs)) if device.type == "cpu" else 1
    want = want if n.sum() >= WORKERS_FROM else 1
    budget = BLOCK_VALUES.get(device.type, BLOCK_VALUES["cpu"])
    if want > 1:                                   # a few batches per worker, to share them out
        budget = min(budget, max(int(n.max()), int(n.sum()) // (4 * want)))
    L, blocks, start = n[rank], [], 0
    while start < len(rank):   # sorted: a block's last series is its longest; k · longest ≤ budget
        k = max(1, int(np.searchsorted(np.arange(1, len(L) - start + 1) * L[start:], budget, "right")))
        blocks.append(rank[start:start + k])
        start += k
    workers = min(want, len(blocks))
    if workers > 1:
        with cf.ProcessPoolExecutor(workers, mp_context=subprocesses.context()) as pool:
            jobs = [pool.submit(_fit_block_worker, np.concatenate([series[i] for i in b]), n[b],
                                m, settings) for b in blocks]
            parts = [j.result() for j in jobs]
    else:
        parts = [fit_block([series[i] for i in b], m, settings, device) for b in blocks]
    width = max(p["phi"].shape[1] for p in parts)
    out = {k: np.empty(len(series), dtype=parts[0][k].dtype) for k in parts[0] if k != "phi"}
    out["phi"] = np.zeros((len(series), width))
    for b, part in zip(blocks, parts):
        for k, v in part.items():
            if k == "phi":
                out[k][b, :v.shape[1]] = v
            else:
                out[k][b] = v
    return out


def combined_polynomials(phi: np.ndarray, d: np.ndarray, D: np.ndarray, m: int) -> np.ndarray:
    """combined_polynomial for every row (S×P φ, d and D per row), zero-padded to the longest.

    >>> (combined_polynomials(np.array([[0.5], [0.0]]), np.array([1, 0]), np.array([0, 0]), 1) + 0.0).tolist()
    [[1.5, -0.5], [0.0, 0.0]]
    """
    S, P = phi.shape
    poly = np.zeros((S, P + 2 + m))
    poly[:, 0], poly[:, 1:P + 1] = 1.0, -phi
    for rows, lag in ((d.astype(bool), 1), (D.astype(bool), m)):
        poly[rows, lag:] = poly[rows, lag:] - poly[rows, :-lag]
    nz = poly[:, 1:] != 0
    width = max(1, int((nz.shape[1] - np.argmax(nz[:, ::-1], axis=1))[nz.any(1)].max(initial=0)))
    return -poly[:, 1:width + 1]


def last_values(series: Sequence[np.ndarray], P: int) -> np.ndarray:
    """The newest P values of every series (S×P, zeros in front of a shorter one)."""
    n = np.array([len(s) for s in series])
    flat = np.concatenate(series)
    idx = np.cumsum(n)[:, None] - P + np.arange(P)[None, :]
    inside = np.arange(P)[None, :] >= P - n[:, None]
    return np.where(inside, flat[np.clip(idx, 0, len(flat) - 1)], 0.0)


class AR(Forecaster):
    """Linear autoregression on the (seasonally) differenced series, one model per series.

    p: fixed order (None → AIC/BIC up to max_p); d, D: ordinary / seasonal differences
    (None → chosen per series, see the module notes); ic: "aic" or "bic"; max_train_length:
    use only the newest values (None → all); device: "auto" uses a GPU when there is one;
    n_jobs: worker processes on the CPU for a large panel, ≥ 8 M values (1: none, -1: every core).

    >>> import numpy as np, pandas as pd
    >>> t = np.arange(120)
    >>> df = pd.DataFrame({"unique_id": "a", "ds": t, "y": 10 + np.sin(2 * np.pi * t / 12) + 0.1 * t})
    >>> AR(season_length=12).fit(df).predict(3)["mean"].round(2).tolist()
    [22.0, 22.6, 23.07]
    """

    name = "ar"
    title = "Linear autoregression"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=lambda m: 8, uses_season=True,
                                                        per_series=True)

    def __init__(self, p: int | None = None, max_p: int | None = None, d: int | None = None,
                 D: int | None = None, ic: str = "aic", max_train_length: int | None = None,
                 device: str = "auto", season_length: int | None = None, freq=None,
                 n_jobs: int = 1):
        self.p = p                           # AR order; None → chosen by ic
        self.max_p = max_p                   # largest order tried; None → 1.5 seasons (≥ 8)
        self.d = d                           # 0/1 ordinary differences; None → KPSS test
        self.D = D                           # 0/1 seasonal differences; None → seasonal strength
        self.ic = ic                         # "aic" or "bic"
        self.max_train_length = max_train_length  # newest values used; None → all
        self.device = device                 # "auto", "cpu" or "cuda"
        self.season_length = season_length   # seasonal period; None → from freq
        self.freq = freq                     # pandas alias or integer step; None → from ds
        self.n_jobs = n_jobs                 # worker processes on the CPU (1: none, -1: all cores)

    def _fit_arrays(self, series: list[np.ndarray], m: int) -> None:
        for name, v in (("d", self.d), ("D", self.D)):
            if v not in (None, 0, 1):
                raise GenlibError(f"{name} must be 0, 1 or None (automatic), not {v!r}.")
        if self.ic not in ("aic", "bic"):
            raise GenlibError(f"ic must be 'aic' or 'bic', not {self.ic!r}.")
        if not isinstance(self.n_jobs, (int, np.integer)) or not (self.n_jobs == -1 or self.n_jobs >= 1):
            raise GenlibError(f"n_jobs is the number of worker processes: 1 (none), 2 or more, "
                              f"or -1 for every core; not {self.n_jobs!r}.")
        if self.max_train_length:
            series = [s[-int(self.max_train_length):] for s in series]
        settings = {"p": self.p, "max_p": self.max_p, "d": self.d, "D": self.D, "ic": self.ic}
        fit = fit_panel(series, m, settings, resolve_device(self.device), int(self.n_jobs))
        order, phi = fit["order"], fit["phi"]
        for i in np.nonzero(fit["explosive"])[0]:
            self.notes_[self.ids_[i]] = (f"{self.title} on the last {fit['explosive'][i]} values "
                                         "would have grown without bound; it forecasts the "
                                         "average change instead.")
        self.order_ = dict(zip(self.ids_, order.tolist()))
        self.differences_ = dict(zip(self.ids_, zip(fit["d"].tolist(), fit["D"].tolist())))
        self.intercept_ = fit["intercept"]
        self.coef_ = [phi[i, :k] for i, k in enumerate(order)]
        self.sigma2_ = fit["sigma2"]
        self.ar_ = combined_polynomials(phi, fit["d"], fit["D"], m)
        self.history_ = last_values(series, self.ar_.shape[1])

    def _predict_arrays(self, h: int, levels: Sequence[float]):
        mean = ar_forecast(self.history_, self.intercept_, self.ar_, h)
        psi = psi_weights(self.ar_, h)
        sd = np.sqrt(self.sigma2_[:, None] * np.cumsum(psi ** 2, axis=1))
        return (mean, *gaussian_bands(mean, sd, levels))

    def describe(self, unique_id: str) -> str:
        p = self.order_[unique_id]
        d, D = self.differences_[unique_id]
        if p == 0:                   # no lags: a constant on the (differenced) series, in words
            return "Linear autoregression (here " + {
                (0, 0): "the average of the series",
                (1, 0): "the last value plus the average change",
                (0, 1): "the last season plus its average change",
                (1, 1): "the last season plus the recent change"}[(d, D)] + ")"
        what = {(0, 0): "values", (1, 0): "changes from step to step",
                (0, 1): "changes over one season",
                (1, 1): "changes over one season and one step"}[(d, D)]
        if p == 1:                   # "the last change", not "the last 1 changes"
            one = what.replace("values", "value").replace("changes", "change", 1)
            return f"Linear autoregression on the last {one}"
        return f"Linear autoregression on the last {p} {what}"
