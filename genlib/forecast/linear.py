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
   Normal equations, batched over series (padded, masked) in float64 on the chosen device.
4. Forecast. The differenced AR is folded back into one AR on the original scale,
   Φ(B) = φ(B)(1 − B)^d(1 − B^m)^D, run forward from the last values. Intervals from the
   ψ-weights of 1/Φ(B): var_h = σ²·Σ_{j<h} ψ_j², σ² = SSR/(rows − parameters).

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> y = np.zeros(300)
>>> for t in range(2, 300): y[t] = 0.6 * y[t-1] - 0.3 * y[t-2] + rng.normal()
>>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(300), "y": y})
>>> AR(d=0, D=0).fit(df).order_["a"]
2
"""
from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np
import torch

from ..device import resolve_device as _resolve_device
from ..errors import GenlibError
from .base import Capabilities, Forecaster, gaussian_bands
from .baselines import seasonal_indices

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


def choose_differencing(y: np.ndarray, m: int) -> tuple[int, int]:
    """(d, D): seasonal difference if the seasonality is strong, then a KPSS test for d.

    >>> rng = np.random.default_rng(1)
    >>> choose_differencing(rng.normal(size=200).cumsum(), 1)
    (1, 0)
    """
    y = np.asarray(y, dtype=np.float64)
    D = int(m > 1 and len(y) >= 3 * m and seasonal_strength(y, m) > SEASONAL_STRENGTH_LIMIT)
    z = y[m:] - y[:-m] if D else y
    d = int(len(z) >= 8 and np.ptp(z) > 0 and kpss_statistic(z) > KPSS_CRITICAL_5PCT)
    return d, D


def difference(y: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    """(1 − B)^d (1 − B^m)^D y."""
    z = np.asarray(y, dtype=np.float64)
    if D:
        z = z[m:] - z[:-m]
    if d:
        z = np.diff(z)
    return z


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


# ---- batched least squares ---------------------------------------------------------------------
def _right_align(series: Sequence[np.ndarray], P: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack series right-aligned in a zero matrix with at least P zeros in front: (S×T, lengths)."""
    lengths = np.array([len(s) for s in series])
    T = int(lengths.max()) + P
    Z = np.zeros((len(series), T))
    for i, s in enumerate(series):
        Z[i, T - len(s):] = s
    return Z, lengths


def lag_gram(series: Sequence[np.ndarray], P: int, start: np.ndarray, device: torch.device):
    """Normal-equation pieces of [1, z_{t−1}…z_{t−P}] → z_t over rows t ≥ start_i of each series.

    Returns G (S×(P+1)×(P+1)), g (S×(P+1)), yy (S), rows (S) as float64 CPU tensors. Lags
    before a series' start read zeros; callers use only the leading block they need.

    Products are summed through prefix sums: Σ_t z_{t−i} z_{t−j} is a difference of two prefix
    sums of z_u·z_{u+|i−j|}, so the cost is O(S·n·P) instead of O(S·n·P²) for X'X.
    """
    S = len(series)
    Z, lengths = _right_align(series, P)
    T = Z.shape[1]
    Zt = torch.from_numpy(Z).to(device)
    first = torch.as_tensor(T - lengths + np.asarray(start), device=device)   # column of row t = start
    lag = torch.arange(P + 1, device=device)
    full = torch.zeros(S, P + 1, P + 1, dtype=torch.float64, device=device)   # lags 0…P (0 = target)
    lo_col = first[:, None] - lag[None, :]                                   # S × (P+1), ≥ 0
    for k in range(P + 1):
        # Q[c] = Σ_{c' < c} Z[c']·Z[c'+k] = cs[c − 1] (0 for c = 0)
        cs = torch.cumsum(Zt[:, :T - k] * Zt[:, k:], dim=1)
        j = lag[k:]                                                           # second lag, i = j − k
        hi = cs[:, T - j - 1]                                                 # S × (P+1−k)
        lo_idx = lo_col[:, k:]
        lo = torch.gather(cs, 1, (lo_idx - 1).clamp_min(0)) * (lo_idx > 0)
        full[:, j - k, j] = hi - lo
        full[:, j, j - k] = hi - lo
    cs = torch.cumsum(Zt, dim=1)
    sums = cs[:, T - lag - 1] - torch.gather(cs, 1, (lo_col - 1).clamp_min(0)) * (lo_col > 0)
    rows = torch.as_tensor(lengths - np.asarray(start), device=device).to(torch.float64)
    G = torch.empty(S, P + 1, P + 1, dtype=torch.float64, device=device)
    G[:, 0, 0] = rows
    G[:, 0, 1:] = sums[:, 1:]
    G[:, 1:, 0] = sums[:, 1:]
    G[:, 1:, 1:] = full[:, 1:, 1:]
    g = torch.cat([sums[:, :1], full[:, 1:, 0]], dim=1)
    return G.cpu(), g.cpu(), full[:, 0, 0].cpu(), rows.cpu()


def order_ssr(G: torch.Tensor, g: torch.Tensor, yy: torch.Tensor, const: torch.Tensor) -> torch.Tensor:
    """SSR of every nested order at once (S×(P+1), column q = AR(q)) from one Cholesky per series.

    With G = LLᵀ and w = L⁻¹g, the least-squares fit on the first k columns leaves
    SSR_k = y'y − Σ_{j<k} w_j² (nested regressions share the leading block of L).
    """
    S, K, _ = G.shape
    G = G.clone()
    g = g.clone()
    off = ~const
    G[off, 0, :] = 0.0
    G[off, :, 0] = 0.0
    G[off, 0, 0] = 1.0
    g[off, 0] = 0.0
    scale = torch.diagonal(G, dim1=1, dim2=2).amax(1).clamp_min(1.0)
    G = G + 1e-10 * scale[:, None, None] * torch.eye(K, dtype=G.dtype)[None]
    L, info = torch.linalg.cholesky_ex(G)
    w = torch.linalg.solve_triangular(L, g[..., None], upper=False)[..., 0]
    ssr = yy[:, None] - torch.cumsum(w ** 2, dim=1)
    return ssr.clamp_min(0.0)


def solve_orders(G: torch.Tensor, g: torch.Tensor, yy: torch.Tensor, order: torch.Tensor,
                 const: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares coefficients using the first order_i lags (and the constant if const_i).

    Unused columns are masked out (coefficient 0). Returns beta (S×(P+1)) and SSR (S).
    """
    S, K, _ = G.shape
    col = torch.arange(K)[None, :]
    use = (col >= 1) & (col <= order[:, None])
    use[:, 0] = const
    u = use.to(G.dtype)
    Gm = G * u[:, :, None] * u[:, None, :]
    eye = torch.eye(K, dtype=G.dtype)[None]
    scale = torch.diagonal(Gm, dim1=1, dim2=2).amax(1).clamp_min(1.0)[:, None, None]
    Gm = Gm + eye * (1 - u)[:, None, :] + 1e-12 * scale * eye * u[:, None, :]
    gm = g * u
    beta = torch.linalg.solve(Gm, gm)
    ssr = (yy - 2 * (beta * g).sum(1) + torch.einsum("si,sij,sj->s", beta, G, beta)).clamp_min(0)
    return beta, ssr


def fit_ar_batch(series: Sequence[np.ndarray], max_p: np.ndarray, const: np.ndarray,
                 p: np.ndarray | None = None, ic: str = "aic", device: str | torch.device = "cpu"):
    """Fit AR models to many (already differenced) series at once.

    series: 1-D float arrays; max_p: largest order per series; const: include a constant;
    p: fixed orders (None → chosen by `ic` on common rows). Returns (order S, intercept S,
    coefficients S×P, sigma2 S) on the scale of the input.

    >>> rng = np.random.default_rng(0)
    >>> z = np.zeros(500)
    >>> for t in range(1, 500): z[t] = 0.7 * z[t - 1] + rng.normal()
    >>> order, c, phi, s2 = fit_ar_batch([z], np.array([5]), np.array([True]))
    >>> int(order[0]), round(float(phi[0, 0]), 1)
    (1, 0.7)
    """
    if ic not in ("aic", "bic"):
        raise GenlibError(f"ic must be 'aic' or 'bic', not {ic!r}.")
    device = torch.device(device)
    const = np.asarray(const, dtype=bool)
    # centre (only with a constant) and scale each series: the normal equations stay well
    # conditioned; the intercept is mapped back below
    mu = np.array([s.mean() if c else 0.0 for s, c in zip(series, const)])
    sd = np.array([np.sqrt(np.mean((s - a) ** 2)) for s, a in zip(series, mu)])
    sd = np.where(sd > 0, sd, 1.0)
    scaled = [(s - a) / b for s, a, b in zip(series, mu, sd)]
    max_p = np.asarray(max_p, dtype=np.int64)
    P = int(max_p.max())
    const_t = torch.as_tensor(const)
    if p is None:
        G, g, yy, rows = lag_gram(scaled, P, max_p, device)
        ssr = order_ssr(G, g, yy, const_t)                        # S × (P+1)
        q = torch.arange(P + 1, dtype=torch.float64)[None, :]
        k = q + const_t.to(torch.float64)[:, None]
        n_rows = rows[:, None]
        penalty = 2 * k if ic == "aic" else k * torch.log(n_rows)
        value = n_rows * torch.log((ssr / n_rows).clamp_min(1e-300)) + penalty
        value[q.expand_as(value) > torch.as_tensor(max_p, dtype=torch.float64)[:, None]] = float("inf")
        order_np = torch.argmin(value, dim=1).numpy()
    else:
        order_np = np.minimum(np.asarray(p, dtype=np.int64), max_p)
    G, g, yy, rows = lag_gram(scaled, P, order_np, device)
    beta, ssr = solve_orders(G, g, yy, torch.as_tensor(order_np), const_t)
    beta, ssr, rows = beta.numpy(), ssr.numpy(), rows.numpy()
    k = order_np + const
    sigma2 = ssr / np.maximum(rows - k, 1) * sd ** 2
    phi = beta[:, 1:]
    intercept = np.where(const, beta[:, 0] * sd + mu * (1 - phi.sum(1)), 0.0)
    return order_np, intercept, phi, sigma2


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


class AR(Forecaster):
    """Linear autoregression on the (seasonally) differenced series, one model per series.

    p: fixed order (None → AIC/BIC up to max_p); d, D: ordinary / seasonal differences
    (None → chosen per series, see the module notes); ic: "aic" or "bic"; max_train_length:
    use only the newest values (None → all); device: "auto" uses a GPU when there is one.

    >>> import numpy as np, pandas as pd
    >>> t = np.arange(120)
    >>> df = pd.DataFrame({"unique_id": "a", "ds": t, "y": 10 + np.sin(2 * np.pi * t / 12) + 0.1 * t})
    >>> AR(season_length=12).fit(df).predict(3)["mean"].round(2).tolist()
    [22.0, 22.6, 23.07]
    """

    name = "ar"
    title = "Linear autoregression"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=lambda m: 8, uses_season=True)

    def __init__(self, p: int | None = None, max_p: int | None = None, d: int | None = None,
                 D: int | None = None, ic: str = "aic", max_train_length: int | None = None,
                 device: str = "auto", season_length: int | None = None, freq=None):
        self.p = p                           # AR order; None → chosen by ic
        self.max_p = max_p                   # largest order tried; None → 1.5 seasons (≥ 8)
        self.d = d                           # 0/1 ordinary differences; None → KPSS test
        self.D = D                           # 0/1 seasonal differences; None → seasonal strength
        self.ic = ic                         # "aic" or "bic"
        self.max_train_length = max_train_length  # newest values used; None → all
        self.device = device                 # "auto", "cpu" or "cuda"
        self.season_length = season_length   # seasonal period; None → from freq
        self.freq = freq                     # pandas alias or integer step; None → from ds

    def _fit_arrays(self, series: list[np.ndarray], m: int) -> None:
        for name, v in (("d", self.d), ("D", self.D)):
            if v not in (None, 0, 1):
                raise GenlibError(f"{name} must be 0, 1 or None (automatic), not {v!r}.")
        if self.max_train_length:
            series = [s[-int(self.max_train_length):] for s in series]
        diffs = []
        for s in series:
            d, D = choose_differencing(s, m) if (self.d is None or self.D is None) else (0, 0)
            d = d if self.d is None else int(self.d)
            D = D if self.D is None else int(self.D)
            if D and len(s) < m + 8:          # too short to lose a season: no seasonal difference
                D = 0
            diffs.append((d, D))
        z = [difference(s, d, D, m) for s, (d, D) in zip(series, diffs)]
        n = np.array([len(v) for v in z])
        if self.max_p is not None:
            max_p = np.minimum(int(self.max_p), np.maximum((n - 2) // 2, 0))
        else:
            max_p = np.array([default_max_p(k, m) for k in n])
        if self.p is not None:
            max_p = np.maximum(np.minimum(int(self.p), n - 2), 0)
        const = np.array([d + D < 2 for d, D in diffs])
        order, c, phi, s2 = fit_ar_batch(z, max_p, const, None if self.p is None else max_p,
                                         self.ic, resolve_device(self.device))
        bad = ~is_stationary(phi)
        for i in np.nonzero(bad)[0]:   # an explosive fit would run away: use the mean change
            self.notes_[self.ids_[i]] = (f"{self.title} on the last {order[i]} values would have "
                                         "grown without bound; it forecasts the average change "
                                         "instead.")
            order[i], phi[i] = 0, 0.0
            c[i] = z[i].mean() if const[i] else 0.0
            s2[i] = np.mean((z[i] - c[i]) ** 2)
        self.order_ = dict(zip(self.ids_, order.tolist()))
        self.differences_ = dict(zip(self.ids_, diffs))
        self.intercept_ = c
        self.coef_ = [phi[i, :order[i]] for i in range(len(series))]
        self.sigma2_ = s2
        polys = [combined_polynomial(phi[i, :order[i]], *diffs[i], m) for i in range(len(series))]
        P = max(1, max(len(q) for q in polys))
        self.ar_ = np.zeros((len(series), P))
        for i, q in enumerate(polys):
            self.ar_[i, :len(q)] = q
        self.history_ = np.stack([np.r_[np.zeros(max(0, P - len(s))), s[-P:]] for s in series])

    def _predict_arrays(self, h: int, levels: Sequence[float]):
        mean = ar_forecast(self.history_, self.intercept_, self.ar_, h)
        psi = psi_weights(self.ar_, h)
        sd = np.sqrt(self.sigma2_[:, None] * np.cumsum(psi ** 2, axis=1))
        return (mean, *gaussian_bands(mean, sd, levels))

    def describe(self, unique_id: str) -> str:
        p = self.order_[unique_id]
        d, D = self.differences_[unique_id]
        if p == 0:                   # no lags: a constant on the (differenced) series, in words
            return {(0, 0): "Linear autoregression: the average of the series",
                    (1, 0): "Linear autoregression: the last value plus the average change",
                    (0, 1): "Linear autoregression: the last season plus its average change",
                    (1, 1): "Linear autoregression: the last season plus the recent change"}[(d, D)]
        what = {(0, 0): "values", (1, 0): "changes from step to step",
                (0, 1): "changes over one season",
                (1, 1): "changes over one season and one step"}[(d, D)]
        return f"Linear autoregression on the last {p} {what}"
