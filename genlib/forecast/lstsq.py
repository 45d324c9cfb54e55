"""Least squares for many autoregressions at once (the fit of genlib.forecast.linear.AR).

Normal equations of [1, z_{t−1} … z_{t−P}] → z_t for a batch of series of different lengths
(right-aligned, zero-padded, masked by each series' first row), built from prefix sums and solved
by batched Cholesky in float64 on the chosen device; every order 0…P is compared at once.

>>> rng = np.random.default_rng(0)
>>> z = np.zeros(300)
>>> for t in range(1, 300): z[t] = 0.5 * z[t - 1] + rng.normal()
>>> order, c, phi, s2 = fit_ar_batch([z], np.array([4]), np.array([True]))
>>> int(order[0])
1
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..errors import GenlibError


# ---- batched least squares ---------------------------------------------------------------------
def _right_align(series: Sequence[np.ndarray], P: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack series right-aligned in a zero matrix with at least P zeros in front: (S×T, lengths)."""
    lengths = np.array([len(s) for s in series])
    T = int(lengths.max()) + P
    Z = np.zeros((len(series), T))
    Z[np.arange(T)[None, :] >= T - lengths[:, None]] = np.concatenate(series)
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
    n = np.array([len(s) for s in series])
    flat, first = np.concatenate(series), np.r_[0, np.cumsum(n)[:-1]]
    mu = np.where(const, np.add.reduceat(flat, first) / n, 0.0)
    sd = np.sqrt(np.add.reduceat((flat - np.repeat(mu, n)) ** 2, first) / n)
    sd = np.where(sd > 0, sd, 1.0)
    scaled = np.split((flat - np.repeat(mu, n)) / np.repeat(sd, n), first[1:])
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
