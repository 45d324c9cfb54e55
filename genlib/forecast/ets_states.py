"""The states of exponential smoothing: where they start (Hyndman et al.'s heuristic, then a
least-squares refinement) and how they move (`ets_filter`, the recursion; ets.py fits and forecasts).

`heuristic_states` is Hyndman et al. (2008) §2.6, as statsmodels' `initialization_method=
"heuristic"`. `refine_states` improves on it. Where the form is linear in its states (additive
errors, trend none / additive / damped, season none / additive), given α, β, γ, φ every one-step
error is an affine function of the initial states x0 = (ℓ0, b0, s0),

    e(x0) = e(x̂) + J (x0 − x̂),   J's column j = the errors of the recursion run on y ≡ 0 from
                                  the unit state j (`_responses`: exact, four runs),

so the x0 of least squared error — the most likely for these parameters — is one small linear
solve per series (one Gauss–Newton step lands on it). Other forms (a multiplicative season or
error) get the same step with J from finite differences (`_differences`), kept only where it
lowers the objective. The season's m effects sum to zero (multiplicative: to m): adding c to
each and taking c from ℓ0 gives the same errors, so m − 1 are free. R's `ets` and statsforecast
search x0 inside their Nelder–Mead instead, statsmodels' `"estimated"` with L-BFGS-B; `fit_forms`
searches the parameters from the heuristic states, then takes one step on the states.

>>> import numpy as np
>>> y, one = 5 + 0.3 * np.arange(30.0), lambda v: np.array([v])
>>> l0, b0, s0, _ = refine_states(y[None], one(30), *map(one, (.5, .1, 0., 1., 0., 0.)), np.zeros((1, 1)),
...                            *map(one, (False, False, True, False)), 1)
>>> round(float(l0[0]), 6), round(float(b0[0]), 6)
(4.7, 0.3)
"""
from __future__ import annotations

import numpy as np

MEMORY = 40e6               # bytes: the rows refined together hold their errors in about this
CHUNK = 8                   # ets_filter: a product of 8 μ stays in range (|μ| < 1e38)


# ---- initial states ------------------------------------------------------------------------------
def heuristic_states(y: np.ndarray, season: str, m: int) -> tuple[float, float, np.ndarray]:
    """(ℓ0, b0, s (m,)) as statsmodels' `_initialization_heuristic`: s[j] is the effect of the
    time steps j mod m (a 2×m moving average over up to five seasons), ℓ0 and b0 from a straight
    line through the first ten (seasonally adjusted) values.

    >>> l0, b0, s = heuristic_states(np.arange(12.0), "N", 1)
    >>> round(l0, 6), round(b0, 6)
    (-1.0, 1.0)
    """
    s = np.zeros(max(m, 1)) if season != "M" else np.ones(max(m, 1))
    base = y
    if season != "N":
        min_obs = 10 + 2 * (m // 2)
        k = max(min(5, len(y) // m), int(np.ceil(min_obs / m)))
        x = y[:m * k]
        trail = np.full(len(x), np.nan)
        trail[m - 1:] = np.convolve(x, np.ones(m) / m, mode="valid")
        off = (m - 1) // 2 if m % 2 else m // 2      # pandas rolling(m, center=True)
        centred = np.full(len(x), np.nan)
        centred[:len(x) - (m - 1 - off)] = trail[m - 1 - off:]
        if m % 2 == 0:   # then shift(−1).rolling(2).mean(): a 2×m moving average
            nxt = np.r_[centred[1:], np.nan]
            centred = (centred + nxt) / 2
        detrended = x - centred if season == "A" else x / centred
        tmp = np.full(k * m, np.nan)
        tmp[:len(detrended)] = detrended
        with np.errstate(all="ignore"):
            s = np.nanmean(tmp.reshape(k, m), axis=0)
        s = s - s.mean() if season == "A" else s / s.mean()
        base = centred[np.isfinite(centred)]
    q = min(10, len(base))
    X = np.c_[np.ones(q), np.arange(q) + 1.0]
    coef = np.linalg.pinv(X) @ base[:q]
    return float(coef[0]), float(coef[1]), s


# ---- the recursion -------------------------------------------------------------------------------
def ets_filter(Y, n, alpha, beta, gamma, phi, l0, b0, s0, mult, m: int, rows=None, rel=None,
               errors: bool = False):
    """Run the recursion on R rows at once: (SSE R, ℓ R, b R, s R×m, Σ log μ R) at each row's end,
    and with `errors` each step's error (e = y − μ, e / μ for a relative-error row; T×R, 0 past a
    row's end) as a sixth: SSE is the sum of their squares.

    Y: left-aligned series, row r valid for t < n[r]; rows: the rows of Y to run (None: all;
    repeats allowed), so R = len(rows); the other arguments have one entry per run row. mult:
    R booleans, multiplicative season (None: none is). rel: R booleans, multiplicative error
    (None: none is): the states move as for additive errors (Hyndman et al. Table 2.3: the
    updates are the same functions of y), but the row's SSE sums the relative errors (e / μ)²,
    μ the one-step forecast, and its last return sums log μ (∞ SSE where a μ ≤ 0: the form is
    then undefined); 0 for the other rows. Rows without a trend pass b0 = β = 0;
    rows without a season pass γ = 0 and s0 of zeros. Rows run longest first, so the rows
    still running at step t are a prefix; the arrays are time-major (a step reads contiguous
    memory) and each stretch of steps with the same rows running works on fixed views, a dozen
    in-place operations a step: a fit of one series is this loop's Python overhead, nothing else.
    """
    rows = np.arange(len(Y)) if rows is None else np.asarray(rows)
    R, T = len(rows), Y.shape[1]
    order = np.argsort(-n, kind="stable")
    Yt = Y.T[:, rows[order]]                               # T×R, longest rows first
    a, b, g, p = alpha[order], beta[order], gamma[order], phi[order]
    level, slope = l0[order].astype(float), b0[order].astype(float)
    s = np.ascontiguousarray(s0[order].T, dtype=float)     # m×R
    mk = None if mult is None or not np.any(mult) else np.asarray(mult)[order].astype(float)
    rk = None if rel is None or not np.any(rel) else np.asarray(rel)[order].astype(bool)
    seasonal = m > 1 and np.any(gamma > 0)
    running = np.searchsorted(-n[order], -np.arange(T), side="left")   # rows with n > t
    sse, logmu, low = np.zeros(R), np.zeros(R), np.full(R, np.inf)   # low: the smallest μ
    prod = np.ones(R)                  # μ's product since the last log (a log a step is slow)
    base, e, tmp, w, mu = (np.empty(R) for _ in range(5))
    record = np.zeros((T, R)) if errors else None
    t = 0
    with np.errstate(all="ignore"):
        while t < T and running[t] > 0:
            c = running[t]
            stop = t + int(np.searchsorted(-running[t:], -c, side="right"))   # same rows until
            lv, sl, ac, bc, gc, pc, ss = level[:c], slope[:c], a[:c], b[:c], g[:c], p[:c], sse[:c]
            B, E, X, W, Yc, S = base[:c], e[:c], tmp[:c], w[:c], Yt[:, :c], s[:, :c]
            if rk is not None:
                U, lo, P, plain = mu[:c], low[:c], prod[:c], ~rk[:c]
            if mk is not None:
                mul = mk[:c]
                add, is_mul = 1.0 - mul, mul > 0
            for k in range(t, stop):
                st = S[k % m]
                sl *= pc                                   # φb
                np.add(lv, sl, out=B)                      # ℓ + φb
                if mk is None:
                    np.subtract(Yc[k], B, out=E)
                    E -= st                                # e = y − (ℓ + φb) − s
                    er = E
                else:                                      # ⊕ is × where mul, else +
                    np.multiply(st, mul, out=W)
                    W += add                               # r = s or 1
                    np.multiply(B, W, out=X)
                    np.subtract(Yc[k], X, out=E)
                    np.multiply(st, add, out=X)
                    E -= X                                 # e = y − (ℓ + φb) ⊕ s
                    er = E / W
                if rk is None:
                    np.multiply(E, E, out=X)
                    if record is not None:
                        record[k, :c] = E
                else:                                      # relative errors where rel
                    np.subtract(Yc[k], E, out=U)           # μ
                    np.copyto(U, 1.0, where=plain)         # 1 where the error is additive
                    np.minimum(lo, U, out=lo)
                    np.divide(E, U, out=X)
                    if record is not None:
                        record[k, :c] = X
                    X *= X
                    P *= U
                    if k % CHUNK == CHUNK - 1:             # Σ log μ, CHUNK steps at a time
                        logmu += np.log(prod)
                        prod.fill(1.0)
                ss += X
                np.multiply(ac, er, out=lv)
                lv += B                                    # ℓ = ℓ + φb + α e / r
                np.multiply(bc, er, out=X)
                sl += X                                    # b = φb + β e / r
                if seasonal:
                    if mk is None:
                        np.multiply(gc, E, out=X)
                    else:                                  # 1 / (ℓ + φb), or 1 (additive
                        X.fill(0.0)                        # rows, even where ℓ + φb = 0)
                        np.divide(mul, B, out=X, where=is_mul)
                        X += add
                        X *= E
                        X *= gc
                    st += X                                # s = s + γ e (/ (ℓ + φb))
            t = stop
    back = np.empty(R, int)
    back[order] = np.arange(R)
    with np.errstate(all="ignore"):
        logmu += np.log(prod)
    ok = np.isfinite(sse) & (low > 0) & np.isfinite(logmu)
    sse = np.where(ok, sse, np.inf)[back]
    out = sse, level[back], slope[back], s.T[back], np.where(ok, logmu, 0.0)[back]
    return (*out, record[:, back]) if errors else out


# ---- refining the initial states -----------------------------------------------------------------
def refine_states(Y, n, alpha, beta, gamma, phi, l0, b0, s0, mult, rel, trend, seasonal, m: int,
                  now=None):
    """One Gauss–Newton step on the initial states of R rows, kept where it lowers the objective.

    Y: R×T left-aligned series, row r valid for t < n[r]; alpha … phi, the states (l0 R, b0 R,
    s0 R×m) and the booleans mult (multiplicative season), rel (multiplicative error), trend,
    seasonal: one entry a row; m: the season length of the seasonal rows (1: none); now: the
    objective at the given states, if known (`scaled_nll`; else computed). Returns the
    new (l0, b0, s0) — least squares where the row is linear (additive error and season), a step
    towards it elsewhere; a row without a trend keeps b0, without a season s0 — and the
    objective there.
    """
    R, T = Y.shape
    mm = max(m, 1)
    d = 2 + (mm - 1)                                  # ℓ0, b0, the m − 1 free seasonal effects
    unit = np.zeros((d, 2 + mm))                      # each free direction in (ℓ0, b0, s0) terms
    unit[0, 0] = unit[1, 1] = 1.0
    for j in range(mm - 1):
        unit[2 + j, 2 + j], unit[2 + j, 1 + mm] = 1.0, -1.0   # s_j up, s_{m−1} down: sum kept
    x0 = np.c_[l0, b0, s0.reshape(R, mm)].astype(float)
    out = x0.copy()
    args = Y, n, alpha, beta, gamma, phi, x0, mult, rel, mm, unit
    linear = ~mult & ~rel
    for rows, jacobian, runs in ((np.flatnonzero(linear), _responses, 4),
                                 (np.flatnonzero(~linear), _differences, d + 1)):
        at_once = max(1, int(MEMORY // (8 * T * (runs + d))))   # errors, then the Jacobian
        for lo in range(0, len(rows), at_once):
            r = rows[lo:lo + at_once]
            e0, J = jacobian(r, *args)                   # T×k, T×d×k
            J[:, 1, ~trend[r]] = 0.0                     # no trend: b0 stays
            J[:, 2:, ~seasonal[r]] = 0.0                 # no season: s0 stays
            J[~np.isfinite(J)] = 0.0
            Jt = np.ascontiguousarray(J.transpose(2, 1, 0))   # k×d×T: batched products (BLAS)
            G = Jt @ Jt.transpose(0, 2, 1)
            c = (Jt @ np.nan_to_num(e0).T[:, :, None])[..., 0]
            diag = np.einsum("kdd->kd", G)               # a view: writes go to G's diagonal
            dead = diag <= 1e-12 * (1 + diag.sum(axis=1, keepdims=True))
            diag += dead + 1e-10 * diag.mean(axis=1, keepdims=True)   # 0 where dead; a ridge
            c[dead] = 0.0                                # keeps a near-collinear solve finite
            out[r] = x0[r] - np.linalg.solve(G, c[..., None])[..., 0] @ unit
    bad = ~np.isfinite(out).all(axis=1) | (mult & (out[:, 2:] <= 0).any(axis=1))
    out[bad] = x0[bad]
    at = lambda x: scaled_nll(ets_filter(Y, n, alpha, beta, gamma, phi, x[:, 0], x[:, 1], x[:, 2:],
                                         mult, mm, rel=rel), n)
    old, new = at(x0) if now is None else now, at(out)
    keep = ~(new < old)
    out[keep] = x0[keep]
    return out[:, 0], out[:, 1], out[:, 2:], np.where(keep, old, new)


def _responses(r, Y, n, alpha, beta, gamma, phi, x0, mult, rel, m, unit):
    """Errors and their exact Jacobian in the states for linear rows r: the recursion is linear
    and time-invariant, so e(x0 + v) = e(x0) + (errors on y ≡ 0 from the state v), and a unit
    s_j acts as a unit s_0 does, j steps later. Four runs: the data, then ℓ0, b0, s_0 alone."""
    k, T, d = len(r), Y.shape[1], unit.shape[0]
    start = np.zeros((3 * k, 2 + m))
    start[:k, 0], start[k:2 * k, 1], start[2 * k:, 2] = 1.0, 1.0, 1.0
    x = np.vstack([x0[r], start])
    rows = np.r_[r, np.full(3 * k, len(Y))]           # the unit runs read a row of zeros
    rep = lambda v: np.tile(v[r], 4)
    *_, err = ets_filter(np.vstack([Y, np.zeros((1, T))]), rep(n), rep(alpha), rep(beta),
                         rep(gamma), rep(phi), x[:, 0], x[:, 1], x[:, 2:], None, m, rows=rows,
                         errors=True)                 # T × 4k, 0 past each row's end
    J = np.zeros((T, d, k))
    J[:, 0], J[:, 1] = err[:, k:2 * k], err[:, 2 * k:3 * k]
    s = err[:, 3 * k:]                                 # T×k: the response to a unit s_0
    late = np.zeros((T + m, k))
    late[m:] = s
    for j in range(m - 1):                             # s_j up and s_{m−1} down
        J[:, 2 + j] = late[m - j:T + m - j] - late[1:T + 1]
    J *= (np.arange(T)[:, None] < n[r][None])[:, None]   # nothing past a row's end
    return err[:, :k], J


def _differences(r, Y, n, alpha, beta, gamma, phi, x0, mult, rel, m, unit):
    """Errors and their forward-difference Jacobian in the states for rows r (any form)."""
    k, T, d = len(r), Y.shape[1], unit.shape[0]
    step = np.repeat((1e-4 * (1 + np.abs(x0[r, 0])))[None], d, axis=0)   # the states' units
    step[2:, mult[r]] = 1e-4                           # (a multiplicative season's factor: 1)
    x = np.vstack([x0[r], (x0[r][None] + step[..., None] * unit[:, None, :]).reshape(d * k, -1)])
    rep = lambda v: np.tile(v[r], d + 1)
    *_, err = ets_filter(Y, rep(n), rep(alpha), rep(beta), rep(gamma), rep(phi), x[:, 0], x[:, 1],
                         x[:, 2:], rep(mult), m, rows=rep(np.arange(len(Y))), rel=rep(rel),
                         errors=True)                 # T × k(d + 1), 0 past each row's end
    e0 = err[:, :k]
    return e0, (err[:, k:].reshape(T, d, k) - e0[:, None]) / step[None]


def scaled_nll(filtered, n):
    """−2 log-likelihood / n + constant, from ets_filter's (SSE, …, Σ log μ): what fit_forms'
    search and refine_states minimise."""
    sse, *_, logmu = filtered
    return np.log(np.maximum(sse, 1e-300)) + 2 * logmu / n
