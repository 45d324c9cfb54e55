"""AutoForecaster(budget=…): the candidate set chosen from a time budget (genlib/forecast/budget.py)."""
import time

import numpy as np
import pandas as pd
import pytest

from genlib.errors import GenlibError
from genlib.forecast.auto import DEFAULT_CANDIDATES, AutoForecaster
from genlib.forecast.registry import MODELS


def monthly(n_series, n=96, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.concat([pd.DataFrame({
        "unique_id": f"s{i:03d}", "ds": pd.date_range("2010-01", periods=n, freq="MS"),
        "y": 50 + 0.2 * t + 8 * np.sin(2 * np.pi * t / 12 + i) + rng.normal(0, 2, n).cumsum() * 0.3})
        for i in range(n_series)])


def test_one_series_gets_every_model():
    """Every candidate, the opt-in ARIMA included, fits one series within a generous budget; the
    default budget for one series is 30 s."""
    auto = AutoForecaster(candidates=DEFAULT_CANDIDATES + ("arima",), h=12, budget=300).fit(monthly(1))
    assert auto.left_out_ == {}
    caps = {c: MODELS[c].cls.capabilities for c in DEFAULT_CANDIDATES}
    per_series = {c for c, cap in caps.items() if cap.min_series == 1 and not cap.multi_season}
    assert per_series | {"arima"} == set(auto.scores_.columns)      # monthly data: one cycle
    assert "neural_ar" in DEFAULT_CANDIDATES and "neural_ar" not in per_series   # panels only
    assert AutoForecaster(h=12).fit(monthly(1, n=30)).budget_ >= 30


def test_budget_is_respected_and_explained():
    df = monthly(40)
    # auto's own work (baselines, choosing, calibrating) has to fit too: on a busy machine it
    # takes seconds, so the budget is a few times that, and still far below the full set's
    t0 = time.perf_counter()
    AutoForecaster(candidates=("seasonal_naive", "naive"), h=12, budget=None).fit(df)
    budget = max(4.0, round(3 * (time.perf_counter() - t0)))
    auto = AutoForecaster(candidates=DEFAULT_CANDIDATES + ("arima_statsmodels", "ets_statsmodels"), h=12,
                          budget=budget)
    t0 = time.perf_counter()
    auto.fit(df)
    seconds = time.perf_counter() - t0
    # the full set takes minutes here (statsmodels ARIMA and ETS: 40 series × 4 fits each)
    assert seconds <= 1.2 * budget
    assert {"arima_statsmodels", "ets_statsmodels"} <= set(auto.left_out_)
    assert not set(auto.left_out_) & set(auto.scores_.columns)
    assert {"seasonal_naive", "naive"} <= set(auto.scores_.columns)
    why = auto.describe("s000")
    assert f"left out to stay within the {budget:g} s budget: " in why and "ARIMA" in why


def test_no_budget_keeps_every_candidate():
    auto = AutoForecaster(candidates=("naive", "drift"), h=6, budget=None).fit(monthly(2, n=40))
    assert auto.left_out_ == {} and {"naive", "drift"} <= set(auto.scores_.columns)


@pytest.mark.parametrize("bad", [0, -1, "fast"])
def test_bad_budget_says_what_to_do(bad):
    with pytest.raises(GenlibError, match="budget must be a number of seconds above 0, .auto. or None"):
        AutoForecaster(budget=bad).fit(monthly(1, n=40))


def test_command_line_budget(tmp_path, capsys):
    """`python -m genlib forecast … --budget SECONDS` reaches auto and its explanation."""
    import argparse

    from genlib.cli.forecast import add_commands

    path, out = tmp_path / "panel.csv", tmp_path / "fc.csv"
    monthly(12, n=60).to_csv(path, index=False)
    p = argparse.ArgumentParser(prog="genlib")
    add_commands(p.add_subparsers(dest="command"))
    args = p.parse_args(["forecast", str(path), "--horizon", "6", "--budget", "0.5",
                         "--id-column", "unique_id", "--out", str(out)])
    assert args.budget == 0.5 and args.func(args) == 0
    assert "left out to stay within the 0.5 s budget" in capsys.readouterr().out
    assert pd.read_csv(out).shape[0] > 0
    with pytest.raises(SystemExit):
        p.parse_args(["forecast", str(path), "--horizon", "6", "--budget", "-1", "--out", str(out)])


def test_the_backtest_of_auto_uses_what_its_fit_kept_without_a_budget():
    """The Forecast page backtests auto on 3 windows: with its own budget each window would time
    the candidates again and could spend the whole budget again (four times the wait)."""
    from genlib.forecast.report import as_backtested

    fitted = AutoForecaster(candidates=("seasonal_naive", "naive", "ar", "theta"), h=6).fit(monthly(2))
    fitted.left_out_ = {"theta": 99.0}          # as if the budget had left Theta out
    tested = as_backtested("auto", fitted)
    assert isinstance(tested, AutoForecaster) and tested.budget is None
    assert tested.candidates == ("seasonal_naive", "naive", "ar") and tested.h == 6
    assert as_backtested("ar", object()) == "ar"
