"""ETS initial states (genlib/forecast/ets_states.py): the least-squares states are the minimum,
the exact Jacobian agrees with finite differences, a step never makes a fit worse, and the whole
fit comes close to statsmodels' own estimated initial states."""
import numpy as np
import pandas as pd
import pytest

from genlib.forecast.ets import AutoETS, ets_filter, fit_forms
from genlib.forecast.ets_states import (
    _differences,
    _responses,
    heuristic_states,
    refine_states,
)

pytest.importorskip("statsmodels.tsa.exponential_smoothing.ets")
optimize = pytest.importorskip("scipy.optimize")
from tests.forecast.test_ets import (  # after the skip: needs statsmodels
    realgdp,
    statsmodels_fit,
)


def seasonal(n=60, m=12, seed=0, level=100.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + 0.5 * t + 8 * np.sin(2 * np.pi * t / m) + rng.normal(0, 2, n)


def directions(m):
    """The free directions of refine_states: ℓ0, b0, then s_j up and s_{m−1} down."""
    d = 2 + m - 1
    unit = np.zeros((d, 2 + m))
    unit[0, 0] = unit[1, 1] = 1.0
    for j in range(m - 1):
        unit[2 + j, 2 + j], unit[2 + j, 1 + m] = 1.0, -1.0
    return unit


def sse_at(y, params, x, m, mult=False):
    one = lambda v: np.array([v])
    return ets_filter(y[None], one(len(y)), *map(one, params), one(x[0]), one(x[1]), x[None, 2:],
                      one(mult), m)[0][0]


def test_least_squares_states_are_the_minimum():
    """Linear form (A, Ad, A): our states give the smallest squared error; a general-purpose
    optimiser started from the heuristic states finds no better ones, and the same ones."""
    y, m = seasonal(), 12
    params = (0.3, 0.02, 0.1, 0.9)                    # α, β, γ, φ
    l0, b0, s0 = heuristic_states(y, "A", m)
    one = lambda v: np.array([v])
    new = refine_states(y[None], one(len(y)), *map(one, params), one(l0), one(b0), s0[None],
                        *map(one, (False, False, True, True)), m)
    ours = np.r_[new[0], new[1], new[2][0]]
    start = np.r_[l0, b0, s0]
    unit = directions(m)
    best = optimize.minimize(lambda z: sse_at(y, params, start + z @ unit, m), np.zeros(len(unit)),
                             method="BFGS", options={"gtol": 1e-8, "maxiter": 5000})
    theirs = start + best.x @ unit
    assert sse_at(y, params, ours, m) < 0.97 * sse_at(y, params, start, m)
    assert sse_at(y, params, ours, m) <= best.fun * (1 + 1e-8)
    assert np.allclose(ours, theirs, atol=1e-3 * np.abs(y).mean())
    assert abs(ours[2:].sum()) < 1e-8                  # the season's effects still sum to zero


def test_exact_jacobian_equals_finite_differences_on_rows_of_any_length():
    """_responses (four runs, a unit s_0 shifted for each s_j) against _differences (one run a
    direction), on two rows of different length: nothing may leak past a row's end."""
    m, T = 12, 50
    Y = np.vstack([seasonal(T), np.r_[seasonal(40, seed=1), np.zeros(10)]])
    n = np.array([T, 40])
    rng = np.random.default_rng(2)
    params = [np.array(v) for v in ([.3, .2], [.02, .01], [.1, .2], [.9, 1.])]
    x0 = np.c_[[100.0, 80.0], [0.3, 0.0], rng.normal(0, 1, (2, m))]
    no = np.zeros(2, bool)
    args = (Y, n, *params, x0, no, no, m, directions(m))
    e1, J1 = _responses(np.arange(2), *args)
    e2, J2 = _differences(np.arange(2), *args)
    assert np.allclose(e1, e2)
    assert np.abs(J1 - J2).max() < 1e-6 * np.abs(J1).max()
    assert np.all(J1[40:, :, 1] == 0)


@pytest.mark.parametrize("error,season", [("A", "M"), ("M", "M"), ("M", "A")])
def test_a_step_never_makes_the_fit_worse(error, season):
    """Forms that are not linear in their states get a Gauss–Newton step, kept only where it
    lowers the objective; on series with a clear season it does."""
    m = 12
    rows = [seasonal(72, seed=s, level=200.0) for s in range(6)]
    mult, rel = season == "M", error == "M"
    Y, n = np.vstack(rows), np.full(len(rows), 72)
    params = [np.full(len(rows), v) for v in (0.2, 0.01, 0.1, 1.0)]
    states = [heuristic_states(y, season, m) for y in rows]
    l0, b0 = np.array([s[0] for s in states]), np.array([s[1] for s in states])
    s0 = np.array([s[2] for s in states])
    flags = [np.full(len(rows), v) for v in (mult, rel, True, True)]
    before = ets_filter(Y, n, *params, l0, b0, s0, flags[0], m, rel=flags[1])
    before = np.log(before[0]) + 2 * before[4] / n
    *_, after = refine_states(Y, n, *params, l0, b0, s0, *flags, m)
    assert np.all(after <= before)
    assert np.mean(after < before - 1e-3) >= 0.5


@pytest.mark.parametrize("data,m,trend,season", [
    ("seasonal", 12, "N", "A"), ("seasonal", 12, "A", "A"), ("seasonal", 12, "Ad", "N"),
    ("seasonal", 12, "A", "M"), ("realgdp", 4, "A", "N"), ("realgdp", 4, "Ad", "A"),
    ("realgdp", 4, "A", "M")])
def test_closer_to_statsmodels_estimated_states(data, m, trend, season):
    """statsmodels' ETSModel(initialization_method="estimated") optimises states and parameters
    together (L-BFGS-B). Ours searches the parameters from the heuristic states, then re-estimates
    the states once: more likely than our heuristic fit, and at least half of the way from it to
    statsmodels' fit (a quarter with a multiplicative season: one Gauss–Newton step), up to 0.5 %."""
    y = seasonal(120) if data == "seasonal" else realgdp()
    res = statsmodels_fit(y, trend, season, m, init="estimated")
    loglik = lambda f: -0.5 * len(y) * (np.log(2 * np.pi * f["sse"][0] / len(y)) + 1)
    ours = loglik(fit_forms([y], m, [(trend, season)], slow_trend=False)[0])
    heuristic = loglik(fit_forms([y], m, [(trend, season)], slow_trend=False, init="heuristic")[0])
    assert ours >= heuristic
    share = 0.75 if season == "M" else 0.5
    assert max(res.llf - ours, 0) <= share * max(res.llf - heuristic, 0) + 0.005 * abs(res.llf)


def test_a_perfect_line_is_extrapolated():
    """Optimal states fit a straight line exactly (SSE 0 for every trend form); the AICc then
    breaks the tie by the number of parameters, not by rounding noise: the line goes on."""
    df = pd.DataFrame({"unique_id": "a", "ds": np.arange(40), "y": 3.0 + 0.25 * np.arange(40)})
    fc = AutoETS().fit(df).predict(4)
    assert np.allclose(fc["mean"], 3.0 + 0.25 * np.arange(40, 44), atol=1e-6)


def test_init_is_checked_and_heuristic_still_available():
    with pytest.raises(ValueError, match="optimal"):
        AutoETS(init="estimated")
    y = seasonal(72)
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01", periods=72, freq="MS"), "y": y})
    a = AutoETS().fit(df).predict(12)["mean"].to_numpy()
    b = AutoETS(init="heuristic").fit(df).predict(12)["mean"].to_numpy()
    assert np.isfinite(a).all() and np.isfinite(b).all()
    assert not np.allclose(a, b)
