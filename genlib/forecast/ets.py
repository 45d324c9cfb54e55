"""AutoETS: exponential smoothing with the form chosen per series by AICc, batched in numpy.

The innovations state-space models of Hyndman, Koehler, Ord & Snyder, "Forecasting with
Exponential Smoothing" (2008), error-correction form (Table 2.3):

    μ_t = (ℓ + φb) ⊕ s_{t−m}            ⊕: + (additive season) or × (multiplicative)
    e_t = y_t − μ_t
    ℓ_t = ℓ + φb + α e_t / r             r = 1, or s_{t−m} for a multiplicative season
    b_t = φb + β e_t / r
    s_t = s_{t−m} + γ e_t  (additive)   or   s_{t−m} + γ e_t / (ℓ + φb)  (multiplicative)

Errors additive, or also multiplicative (y_t = μ_t(1 + ε_t); positive data only; `errors=("A",
"M")`). The two share the updates above, written in e_t = y_t − μ_t (a multiplicative error's
α μ_t ε_t is α e_t); they differ in the likelihood and the bands. Trend none / additive /
additive damped (φ in [0.8, 0.98]), season none / additive / multiplicative (only for positive
data, 1 < m ≤ 24 and two full seasons, as R's `forecast::ets`); an additive error with a
multiplicative season is left out when multiplicative errors are tried (R's `restrict`, as
statsforecast: unstable). α, β ≤ α, γ ≤ 1 − α and φ are found by a Nelder–Mead search that runs
on every series and every form at once (rows of one array, the recursion — ets_states.ets_filter —
vectorised over them), from the initial states of Hyndman et al. §2.6 (statsmodels'
`initialization_method="heuristic"`); then the states are re-estimated for the parameters found (ets_states.py: least
squares where the form is linear in them, a Gauss–Newton step elsewhere), as R, statsforecast
and statsmodels' `"estimated"` estimate them (tests: about as likely as statsmodels).
`init="heuristic"` keeps the first states (the tests that compare with statsmodels' heuristic
fit). Re-estimating the states once, after the search, did as well as alternating (search,
states, search, states) and costs less (README, "Estimated initial states"). The likelihood of
an additive-error model is −n/2·(log(2π·SSE/n) + 1), of a multiplicative one the same in the
relative errors ε_t = e_t / μ_t less Σ log μ_t (statsmodels' and R's); each series keeps the
form with the lowest AICc, counting smoothing parameters, initial states and σ (as R does).
Multiplicative errors are not the default: in auto they did not pay for their time (README,
"Multiplicative errors"). ETS alone gains on most panels, and its bands on one file hold
better; the fit takes 1.6 × as long (M4 Hourly 4.6 → 7.4 s on 2 cores), and on a busy machine
that pushed the network out of auto's time budget on M4 Hourly (auto's sMAPE 8.85 → 9.29).

A slow trend (`slow_trend`, on by default): β ≤ min(α, 0.2 / m), m the season the forms model
(1 without one). statsforecast's AutoETS has this bound in effect (its `initparam` lowers β's
upper bound to its starting α, 0.2 / m, and keeps it for the search); with β ≤ α alone the
slope of a short series chases its last few steps. M3, sMAPE / MASE, β ≤ α → slow trend: yearly
16.35 / 2.85 → 15.93 / 2.67, quarterly 9.78 / 1.20 → 9.27 / 1.13, monthly 14.31 / 0.878 →
14.30 / 0.880; statsforecast 16.19 / 2.70 and 9.45 / 1.14. `slow_trend=False` is the
statsmodels model the tests compare with.

Bands: for additive errors and seasons the exact variance σ²(1 + Σ_{j<h} c_j²), c_j = α +
β·Σ_{i≤j} φ^i + γ·[j mod m = 0] (Hyndman et al. 2008, Table 6.1), σ² = SSE/(n − k). For a
multiplicative error their class 2, exact without a season: v_h = (1 + σ²)θ_h − μ_h², θ_h =
μ_h² + σ² Σ_{j<h} c_j² θ_{h−j} (σ² of the relative errors). A multiplicative season has no
closed form (their class 3); its bands use the same formulas, an approximation that takes the
ratio of the seasonal factors an error passes through as 1 (narrow where the season is far from
1) — auto's conformal calibration corrects the rest.

A day of more than 24 steps (half-hourly or 15-minute readings: `freq.long_day`) is beyond
the seasons above, as in R and statsforecast, whose ETS then forecasts such data without their
daily pattern. Here the pattern is taken out first where M4's seasonality test finds it
(`baselines.deseasonalize`, as Theta does; R's `stlf` does the same with STL), the rest is
smoothed without a season, and the pattern's last cycle is put back on the forecast and bands.

Fitting uses the newest `max_train_length` values (default 300): the weights fade
geometrically, and it keeps a fit of thousands of long series within seconds.

>>> import numpy as np, pandas as pd
>>> t = np.arange(60.0)
>>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(60), "y": 10 + 0.5 * t})
>>> fc = AutoETS().fit(df).predict(2)
>>> [round(v, 1) for v in fc["mean"]]
[40.0, 40.5]
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from ..freq import long_day, season_words
from .base import Capabilities, Forecaster, gaussian_bands
from .baselines import deseasonalize, reseasonalize
from .ets_states import ets_filter, heuristic_states, refine_states, scaled_nll

ERRORS = ("A",)                    # the default: additive errors only (see the docstring)
TRENDS = ("N", "A", "Ad")
SEASONS = ("N", "A", "M")
PHI_RANGE = (0.8, 0.98)            # damping, as statsmodels and R
BETA_SHARE = 0.2                   # slow_trend: β ≤ 0.2 / m, see fit_forms
ALPHA_RANGE = (1e-4, 0.9999)
SPECULATE_ROWS = 256              # Nelder–Mead rows at most for one evaluation an iteration
MOVES = np.array([1.0, 2.0, 0.5, -0.5])   # reflect, expand, contract outside, inside
WORDS_TREND = {"N": "no trend", "A": "a trend", "Ad": "a damped trend"}
WORDS_SEASON = {"N": "no season", "A": "a season", "M": "a season that grows with the level"}


# ---- batched Nelder–Mead -------------------------------------------------------------------------
def nelder_mead(f, x0: np.ndarray, step: float = 1.0, iters: int = 80, tol: float = 1e-5):
    """Minimise f on each row at once: f(X k×q×d, rows k) → k×q; returns (x R×d, f R).

    The standard moves (reflect 1, expand 2, contract ½, shrink ½), two evaluations an
    iteration: the reflection, then per row whichever of expansion / contraction it needs.
    With few rows left (≤ SPECULATE_ROWS) every move's point is evaluated at once instead: the
    same path, one call an iteration (a call's cost is then its Python loop, not its rows).
    Rows whose simplex has converged (values within `tol`, relative) drop out of the evaluations.
    """
    R, d = x0.shape
    simplex = np.repeat(x0[:, None, :], d + 1, axis=1)
    simplex[:, 1:, :] += step * np.eye(d)[None]
    fs = f(simplex, np.arange(R))
    for _ in range(iters):
        order = np.argsort(fs, axis=1)
        simplex = np.take_along_axis(simplex, order[:, :, None], axis=1)
        fs = np.take_along_axis(fs, order, axis=1)
        with np.errstate(invalid="ignore"):             # ∞ − ∞ where a row is undefined
            done = ~np.isfinite(fs[:, 0]) | (fs[:, -1] - fs[:, 0] <= tol * (np.abs(fs[:, 0]) + tol))
        rows = np.flatnonzero(~done)
        if not len(rows):
            break
        sx, sf = simplex[rows], fs[rows]
        worst = sx[:, -1]
        c = sx[:, :-1].mean(axis=1)
        if len(rows) <= SPECULATE_ROWS:    # few rows: every move's point in one evaluation
            points = c[:, None] + MOVES[None, :, None] * (c - worst)[:, None]
            fp = f(points, rows)
            xr, fr = points[:, 0], fp[:, 0]
        else:
            xr = c + (c - worst)
            fr = f(xr[:, None], rows)[:, 0]
        expand = fr < sf[:, 0]
        accept_r = (fr >= sf[:, 0]) & (fr < sf[:, -2])
        outside = (fr >= sf[:, -2]) & (fr < sf[:, -1])
        coef = np.where(expand, 2.0, np.where(outside, 0.5, -0.5))[:, None]
        if len(rows) <= SPECULATE_ROWS:
            move = np.where(expand, 1, np.where(outside, 2, 3))
            x2, f2 = points[np.arange(len(rows)), move], fp[np.arange(len(rows)), move]
        else:
            x2 = c + coef * (c - worst)
            f2 = f(x2[:, None], rows)[:, 0]
        new_x, new_f = worst.copy(), sf[:, -1].copy()
        take_e = expand & (f2 < fr)
        take_r = (expand & ~take_e) | accept_r
        take_c = ~expand & ~accept_r & (f2 < np.minimum(fr, sf[:, -1]))
        for mask, x, fv in ((take_e, x2, f2), (take_r, xr, fr), (take_c, x2, f2)):
            new_x[mask], new_f[mask] = x[mask], fv[mask]
        simplex[rows, -1], fs[rows, -1] = new_x, new_f
        shrink = rows[~(take_e | take_r | take_c)]
        if len(shrink):
            best = simplex[shrink, :1]
            simplex[shrink, 1:] = best + 0.5 * (simplex[shrink, 1:] - best)
            fs[shrink, 1:] = f(simplex[shrink, 1:], shrink)
    k = np.argmin(fs, axis=1)
    return simplex[np.arange(R), k], fs[np.arange(R), k]


def _sigmoid(u):
    return 1 / (1 + np.exp(-np.clip(u, -30, 30)))


def unpack(u: np.ndarray, trend: np.ndarray, damped: np.ndarray, seasonal: np.ndarray,
           beta_max: np.ndarray | float = 1.0):
    """Bounded (α, β, γ, φ) from unconstrained u (…×4); trend/damped/seasonal: booleans per row;
    β ≤ min(α, beta_max)."""
    a = ALPHA_RANGE[0] + (ALPHA_RANGE[1] - ALPHA_RANGE[0]) * _sigmoid(u[..., 0])
    b = np.where(trend, np.minimum(a, beta_max) * _sigmoid(u[..., 1]), 0.0)
    g = np.where(seasonal, (1 - a) * _sigmoid(u[..., 3]), 0.0)
    p = np.where(damped, PHI_RANGE[0] + (PHI_RANGE[1] - PHI_RANGE[0]) * _sigmoid(u[..., 2]), 1.0)
    return a, b, g, p


def _logit(p):
    return np.log(p / (1 - p))


# ---- fitting every form --------------------------------------------------------------------------
def fit_forms(series: Sequence[np.ndarray], m: int, forms: Sequence[tuple[str, ...]],
              iters: int = 80, slow_trend: bool = True, init: str = "optimal") -> list[dict]:
    """Fit the given (error, trend, season) forms to every series; one dict of arrays per form.

    A form of two letters, (trend, season), has additive errors. Each dict: alpha, beta, gamma,
    phi, l0, b0, s0, level, slope, s (end states), sse (of relative errors for a multiplicative
    error), logmu, n, aicc (∞ where the form does not apply to the series); forms that apply to
    no series are left out. Multiplicative errors and seasons apply to positive series only.
    init: "optimal" re-estimates the initial states for the parameters found
    (ets_states.refine_states), "heuristic" keeps Hyndman et al.'s start.
    """
    S = len(series)
    n = np.array([len(y) for y in series])
    T = int(n.max())
    Y = np.zeros((S, T))
    for i, y in enumerate(series):
        Y[i, :len(y)] = y
    positive = np.array([np.all(y > 0) for y in series])
    scale = np.array([np.mean(np.abs(y)) for y in series]) + 1e-12
    seasonal_ok = (1 < m <= 24) & (n >= np.maximum(2 * m, 10 + 2 * (m // 2)))
    forms = [tuple(f) if len(f) == 3 else ("A", *f) for f in forms]
    M = m if (1 < m <= 24 and any(se != "N" for _, _, se in forms)) else 1
    blocks = []                                       # (error, trend, season, series indices)
    for error, trend, season in forms:
        ok = np.ones(S, bool) if season == "N" else seasonal_ok & (positive if season == "M" else True)
        ok &= positive if error == "M" else True
        if ok.any():
            blocks.append((error, trend, season, np.flatnonzero(ok)))
    if not blocks:
        return []
    start_states = {}
    for _, _, season, idx in blocks:                           # heuristic states, once a season
        for i in idx:
            if (season, i) not in start_states:
                l0, b0, s0 = heuristic_states(series[i], season, M if season != "N" else 1)
                start_states[season, i] = (l0, b0, np.resize(s0, M) if season != "N" else np.zeros(M))
    rows = np.concatenate([idx for *_, idx in blocks])         # every form × eligible series
    rep = lambda f: np.concatenate([np.full(len(idx), f(er, t, se)) for er, t, se, idx in blocks])
    tr, dp = rep(lambda er, t, se: t != "N"), rep(lambda er, t, se: t == "Ad")
    seas, mult = rep(lambda er, t, se: se != "N"), rep(lambda er, t, se: se == "M")
    rel = rep(lambda er, t, se: er == "M")
    cap = np.full(len(rows), BETA_SHARE / M if slow_trend else 1.0)        # M: the season ETS models
    states = [start_states[se, i] for _, _, se, idx in blocks for i in idx]
    l0 = np.array([v[0] for v in states])
    b0 = np.where(tr, [v[1] for v in states], 0.0)
    s0 = np.array([v[2] for v in states]).reshape(len(rows), M)
    Yr, nr = Y[rows], n[rows]

    def objective(U, sel):                  # U: R×k×4 → R×k: −2 log-likelihood / n + constant
        R, k, _ = U.shape
        a, b, g, p = unpack(U.reshape(R * k, -1), *(np.repeat(v[sel], k) for v in (tr, dp, seas, cap)))
        nk = np.repeat(nr[sel], k)
        filtered = ets_filter(Yr, nk, a, b, g, p, np.repeat(l0[sel], k), np.repeat(b0[sel], k),
                              np.repeat(s0[sel], k, axis=0), np.repeat(mult[sel], k), M,
                              rows=np.repeat(sel, k), rel=np.repeat(rel[sel], k))
        return scaled_nll(filtered, nk).reshape(R, k)

    start = np.array([_logit(0.5 - 1e-4), _logit(0.1), _logit(0.5), _logit(0.05)])
    u, _ = nelder_mead(objective, np.repeat(start[None], len(rows), axis=0), iters=iters)
    u, now = nelder_mead(objective, np.clip(u, -3, 3), iters=iters // 2)   # a restart from the
    if init == "optimal":                                                  # interior: flat edges
        a, b, g, p = unpack(u, tr, dp, seas, cap)     # the states for these parameters
        l0, b0, s0, _ = refine_states(Yr, nr, a, b, g, p, l0, b0, s0, mult, rel, tr, seas, M, now)
    a, b, g, p = unpack(u, tr, dp, seas, cap)
    sse, level, slope, s, logmu = ets_filter(Yr, nr, a, b, g, p, l0, b0, s0.copy(), mult, M, rel=rel)
    out, start_row = [], 0
    for error, trend, season, idx in blocks:
        sl = slice(start_row, start_row + len(idx))
        start_row += len(idx)
        mm = M if season != "N" else 1
        n_par = 1 + (trend != "N") + (trend == "Ad") + (season != "N")   # smoothing
        n_par += 1 + (trend != "N") + ((mm - 1) if season != "N" else 0) + 1   # states, σ
        nn = n[idx]
        with np.errstate(all="ignore"):
            floor = nn * (1e-9 * (scale[idx] if error == "A" else 1.0)) ** 2   # a perfect fit
            fit_sse = np.maximum(sse[sl], floor)      # ties with its like: the penalty decides
            loglik = -0.5 * nn * (np.log(2 * np.pi * fit_sse / nn) + 1) - logmu[sl]
            aicc = -2 * loglik + 2 * n_par + 2 * n_par * (n_par + 1) / np.maximum(nn - n_par - 1, 1e-9)
            aicc = np.where((nn - n_par - 1 > 0) & np.isfinite(aicc), aicc, np.inf)
        full = {"aicc": np.full(S, np.inf), "sse": np.full(S, np.inf), "k": n_par,
                "error": error, "trend": trend, "season": season, "m": mm, "n": n}
        for key, val in (("alpha", a), ("beta", b), ("gamma", g), ("phi", p), ("l0", l0),
                         ("b0", b0), ("level", level), ("slope", slope), ("logmu", logmu)):
            full[key] = np.zeros(S)
            full[key][idx] = val[sl]
        for key, val in (("s0", s0), ("s", s)):
            full[key] = np.zeros((S, mm)) + (season == "M")
            full[key][idx] = val[sl][:, :mm]
        full["aicc"][idx], full["sse"][idx] = aicc, sse[sl]
        out.append(full)
    return out


def ets_forecast(fit: dict, i: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the h-step forecasts of series i under a fitted form."""
    a, b, g, p = (fit[k][i] for k in ("alpha", "beta", "gamma", "phi"))
    level, slope, s, n, mm = fit["level"][i], fit["slope"][i], fit["s"][i], fit["n"][i], fit["m"]
    steps = np.arange(1, h + 1)
    damp = np.cumsum(p ** steps)                       # φ + φ² + … + φ^h
    seas = s[(n + steps - 1) % mm]                     # seasonal state each step uses
    base = level + damp * slope
    mean = base * seas if fit["season"] == "M" else base + seas
    sigma2 = fit["sse"][i] / max(n - fit["k"], 1)
    j = steps[:-1]                                      # c_j for j = 1 … h−1
    c = a + b * damp[:-1] if h > 1 else np.zeros(0)
    if fit["season"] != "N" and h > 1:
        c = c + g * (j % mm == 0)
    if fit["error"] == "M":        # class 2: θ_h = μ_h² + σ² Σ_{j<h} c_j² θ_{h−j}
        theta = np.empty(h)
        theta[0] = mean[0] ** 2
        for k in range(1, h):
            theta[k] = mean[k] ** 2 + sigma2 * np.dot(c[:k] ** 2, theta[k - 1::-1])
        var = np.maximum((1 + sigma2) * theta - mean ** 2, 0.0)
    else:
        var = sigma2 * np.r_[1.0, 1 + np.cumsum(c * c)]
    return mean, np.sqrt(var)


# ---- the forecaster ------------------------------------------------------------------------------
class AutoETS(Forecaster):
    """Exponential smoothing with trend, damping and season chosen per series by AICc (numpy).

    errors / trends / seasons: the forms tried ("A", "M" / "N", "A", "Ad" / "N", "A", "M";
    multiplicative ones on positive series only; errors default to "A" alone); restrict: leave
    out an additive error with a multiplicative season (None: when "M" errors are tried);
    max_train_length: newest values used to fit (None → all); iters: Nelder–Mead iterations;
    slow_trend: β ≤ 0.2 / m (module docstring).

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": np.arange(40), "y": np.arange(40.0)})
    >>> AutoETS().fit(df).predict(2).shape
    (2, 7)
    """

    name = "ets"
    title = "Exponential smoothing (ETS)"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=10, uses_season=True, per_series=True)

    def __init__(self, trends: Sequence[str] = TRENDS, seasons: Sequence[str] = SEASONS,
                 max_train_length: int | None = 300, iters: int = 80, slow_trend: bool = True,
                 season_length: int | None = None, freq=None, errors: Sequence[str] = ERRORS,
                 restrict: bool | None = None, init: str = "optimal"):
        if init not in ("optimal", "heuristic"):
            raise ValueError(f'init must be "optimal" or "heuristic", not {init!r}')
        self.errors = tuple(errors)            # error forms tried: "A", "M" (positive data)
        self.trends = tuple(trends)            # trend forms tried: "N", "A", "Ad"
        self.seasons = tuple(seasons)          # season forms tried: "N", "A", "M"
        self.max_train_length = max_train_length   # newest values used; None → all
        self.iters = iters                     # Nelder–Mead iterations
        self.slow_trend = slow_trend           # β ≤ 0.2 / m (else only β ≤ α)
        self.restrict = restrict               # no additive error with a multiplicative season
                                               # (None: when multiplicative errors are tried)
        self.init = init                       # initial states: least squares where linear, or
                                               # the heuristic start alone (ets_states.py)
        self.season_length = season_length     # seasonal period; None → from freq
        self.freq = freq                       # pandas alias or integer step; None → from ds

    def _fit_arrays(self, series, m):
        cut = self.max_train_length
        self.day_ = {}                         # series → (the pattern's last day, kind): taken out first
        if long_day(m, self.freq_) and "N" in self.seasons:
            series = list(series)
            for i, y in enumerate(series):
                adjusted, last_day, kind = deseasonalize(np.asarray(y, np.float64), m, m, lag_limit=False)
                if kind:
                    self.day_[i] = (last_day, kind)
                    series[i] = adjusted
        train = [np.asarray(y[-cut:] if cut else y, np.float64) for y in series]
        forms = [(e, t, s) for e in self.errors for s in self.seasons for t in self.trends
                 if not (e == "A" and s == "M" and self._restricted())]
        self.fits_ = fit_forms(train, m, forms, self.iters, self.slow_trend, self.init)
        aicc = np.stack([f["aicc"] for f in self.fits_])          # forms × S
        best = np.argmin(aicc, axis=0)
        self.form_ = [int(k) if np.isfinite(aicc[k, i]) else -1 for i, k in enumerate(best)]
        for uid, k in zip(self.ids_, self.form_):
            if k < 0:
                self.notes_[uid] = "Exponential smoothing could not be fitted; used the last value."
        self.series_, self.row_ = train, {uid: i for i, uid in enumerate(self.ids_)}

    def _restricted(self) -> bool:
        """R's `restrict`: leave out an additive error with a multiplicative season."""
        return "M" in self.errors if self.restrict is None else bool(self.restrict)

    def _predict_arrays(self, h, levels):
        means, sds = [], []
        for i, k in enumerate(self.form_):
            if k < 0:
                y = self.series_[i]
                mean, sd = np.full(h, y[-1]), np.full(h, np.std(np.diff(y))) * np.sqrt(np.arange(1, h + 1))
            else:
                mean, sd = ets_forecast(self.fits_[k], i, h)
            if i in self.day_:                 # the daily pattern back on the forecast and bands
                last_day, kind = self.day_[i]
                future = np.resize(last_day, h)
                mean = reseasonalize(mean, future, kind)
                sd = sd * future if kind == "multiplicative" else sd
            means.append(mean)
            sds.append(sd)
        mean = np.stack(means)
        return (mean, *gaussian_bands(mean, np.stack(sds), levels))

    def form(self, unique_id: str) -> str:
        """The chosen form in Hyndman's letters, e.g. "A,Ad,M" (error, trend, season)."""
        k = self.form_[self.row_[unique_id]]
        return "" if k < 0 else ",".join(self.fits_[k][key] for key in ("error", "trend", "season"))

    def describe(self, unique_id):
        k = self.form_[self.row_[unique_id]]
        if k < 0:
            return "Naive (exponential smoothing could not be fitted)"
        f = self.fits_[k]
        spread = "; its uncertainty grows with the level" if f["error"] == "M" else ""
        season = WORDS_SEASON[f["season"]]
        if self.row_[unique_id] in self.day_:
            season = f"the pattern every {season_words(self.season_length_, self.freq_)} taken out first"
        return f"Exponential smoothing (ETS) with {WORDS_TREND[f['trend']]} and {season}{spread}"
