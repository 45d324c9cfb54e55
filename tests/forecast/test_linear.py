"""Linear AR: statsmodels as the oracle, interval coverage on simulated data, differencing rules."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlib.forecast import AR
from genlib.forecast.linear import (ar_forecast, choose_differencing, combined_polynomial,
                                    fit_ar_batch, kpss_statistic, psi_weights)


def simulate_ar(n, phi, const=0.0, rng=None, burn=100, count=None):
    """One AR(p) path of length n (or `count` paths as rows) after a burn-in."""
    rng = rng or np.random.default_rng(0)
    p = len(phi)
    y = np.zeros((count or 1, n + burn))
    noise = rng.normal(size=y.shape)
    for t in range(p, n + burn):
        y[:, t] = const + y[:, t - p:t][:, ::-1] @ np.asarray(phi) + noise[:, t]
    return y[0, burn:] if count is None else y[:, burn:]


def long(series: list[np.ndarray]) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": f"s{i:02d}", "ds": np.arange(len(y)), "y": y})
                      for i, y in enumerate(series)], ignore_index=True)


@pytest.fixture(scope="module")
def ar_series():
    rng = np.random.default_rng(42)
    return [simulate_ar(150 + 40 * i, [0.5, -0.3, 0.1], const=3.0, rng=rng) for i in range(4)]


@pytest.mark.parametrize("p", [1, 3, 7])
def test_matches_statsmodels_autoreg(ar_series, p):
    from statsmodels.tsa.ar_model import AutoReg
    model = AR(p=p, d=0, D=0).fit(long(ar_series))
    fc = model.predict(12, levels=(80,))
    for i, y in enumerate(ar_series):
        ref = AutoReg(y, lags=p, trend="c").fit()
        ours = np.r_[model.intercept_[i], model.coef_[i]]
        np.testing.assert_allclose(ours, ref.params, rtol=1e-6)
        pred = ref.get_prediction(start=len(y), end=len(y) + 11)
        mine = fc[fc["unique_id"] == f"s{i:02d}"]
        np.testing.assert_allclose(mine["mean"], pred.predicted_mean, rtol=1e-6)
        # same ψ-weights; statsmodels divides the SSR by n, we by n − k (unbiased)
        ref_half = pred.predicted_mean - pred.conf_int(alpha=0.2)[:, 0]
        ratio = (mine["mean"] - mine["lo-80"]).to_numpy() / ref_half
        np.testing.assert_allclose(ratio, np.sqrt(ref.nobs / (ref.nobs - p - 1)), rtol=1e-6)


def test_order_selection_matches_statsmodels():
    from statsmodels.tsa.ar_model import ar_select_order
    rng = np.random.default_rng(7)
    series = [simulate_ar(int(rng.integers(120, 400)), rng.uniform(-0.4, 0.4, 3), 1.0, rng)
              for _ in range(12)]
    for ic in ("aic", "bic"):
        order, *_ = fit_ar_batch(series, np.full(12, 8), np.ones(12, bool), ic=ic)
        ref = [len(ar_select_order(y, maxlag=8, ic=ic, trend="c").ar_lags or []) for y in series]
        assert order.tolist() == ref


def test_batched_fit_equals_one_at_a_time(ar_series):
    together = AR().fit(long(ar_series)).predict(6)
    for i, y in enumerate(ar_series):
        alone = AR().fit(long([y])).predict(6)
        mine = together[together["unique_id"] == "s%02d" % i]
        np.testing.assert_allclose(mine["mean"], alone["mean"], rtol=1e-9)
        np.testing.assert_allclose(mine["hi-95"], alone["hi-95"], rtol=1e-9)


def test_interval_coverage_on_simulated_ar2():
    """80 % and 95 % bands cover close to 80 % and 95 % of future values of AR(2) processes."""
    rng = np.random.default_rng(3)
    n, h, S = 240, 6, 300
    full = list(simulate_ar(n + h, [0.6, -0.25], const=1.0, rng=rng, count=S))
    fc = AR().fit(long([y[:n] for y in full])).predict(h, levels=(80, 95))
    actual = np.concatenate([y[n:] for y in full])
    for level, tol in ((80, 6), (95, 4)):
        inside = (actual >= fc[f"lo-{level}"].to_numpy()) & (actual <= fc[f"hi-{level}"].to_numpy())
        assert abs(100 * inside.mean() - level) < tol, (level, 100 * inside.mean())


def test_differencing_rules():
    rng = np.random.default_rng(0)
    assert choose_differencing(rng.normal(size=300), 1) == (0, 0)
    assert choose_differencing(rng.normal(size=300).cumsum(), 1) == (1, 0)
    t = np.arange(240)
    seasonal = 10 * np.sin(2 * np.pi * t / 12) + rng.normal(size=240)
    assert choose_differencing(seasonal, 12)[1] == 1
    assert kpss_statistic(rng.normal(size=400)) < 0.463 < kpss_statistic(rng.normal(size=400).cumsum())


@pytest.mark.filterwarnings("ignore")
def test_kpss_matches_statsmodels():
    from statsmodels.tsa.stattools import kpss
    y = np.random.default_rng(5).normal(size=200).cumsum()
    lags = int(4 * (200 / 100) ** 0.25)
    ref = kpss(y, regression="c", nlags=lags)[0]
    assert kpss_statistic(y) == pytest.approx(ref, rel=1e-9)


def test_random_walk_gives_sqrt_h_bands():
    # AR(0) on the differences without drift = naive: ψ all ones, sd = σ√h
    ar = combined_polynomial(np.array([]), 1, 0, 1)
    assert ar.tolist() == [1.0]
    assert psi_weights(ar[None, :], 4).tolist() == [[1.0, 1.0, 1.0, 1.0]]
    # seasonal random walk: ψ_j = 1 at multiples of m
    ar = combined_polynomial(np.array([]), 0, 1, 3)
    assert psi_weights(ar[None, :], 7).tolist() == [[1, 0, 0, 1, 0, 0, 1]]
    assert ar_forecast(np.array([[1.0, 2.0, 3.0]]), np.zeros(1), ar[None, :], 4).tolist() == [[1, 2, 3, 1]]


def test_seasonal_trend_series_is_followed():
    t = np.arange(144)
    y = 50 + 0.5 * t + 8 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(1).normal(0, 0.5, 144)
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2010-01", periods=120, freq="MS"),
                       "y": y[:120]})
    model = AR().fit(df)
    assert model.season_length_ == 12 and model.differences_["a"][1] == 1
    fc = model.predict(24)
    mae = np.mean(np.abs(fc["mean"].to_numpy() - (50 + 0.5 * t[120:] + 8 * np.sin(2 * np.pi * t[120:] / 12))))
    assert mae < 1.5
    words = model.describe("a")
    assert words.startswith("Linear autoregression") and "season" in words and "AR(" not in words


def test_degenerate_series_do_not_break():
    df = long([np.full(30, 5.0), np.arange(30.0), np.r_[np.zeros(29), 1.0]])
    fc = AR().fit(df).predict(3)
    assert np.isfinite(fc[["mean", "lo-80", "hi-95"]].to_numpy()).all()
    np.testing.assert_allclose(fc["mean"].iloc[:3], 5.0)
    np.testing.assert_allclose(fc["mean"].iloc[3:6], [30, 31, 32], atol=1e-6)


def test_bad_settings_explain_themselves():
    from genlib.errors import GenlibError
    with pytest.raises(GenlibError, match="d must be 0, 1 or None"):
        AR(d=2).fit(long([np.arange(20.0)]))
    with pytest.raises(GenlibError, match="ic must be"):
        AR(ic="hqic").fit(long([np.arange(20.0)]))


def test_one_lag_is_said_in_the_singular():
    rng = np.random.default_rng(3)
    y = np.zeros(200)
    for i in range(1, 200):
        y[i] = 0.7 * y[i - 1] + rng.normal()
    df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2010-01-01", periods=200, freq="D"), "y": y})
    model = AR(p=1, d=0, D=0).fit(df)
    assert model.describe("a") == "Linear autoregression on the last value"
