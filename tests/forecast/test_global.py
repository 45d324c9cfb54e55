"""A network learned from all series: trained once per backtest, a candidate of auto on panels.

`backtest.rolling_forecasts` trains a `global_model` once, before the first window, and forecasts
every window from its own history (`Forecaster.predict_from`); auto tries the network only on
panels of `min_series` series or more and budgets it from a few timed steps.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import torch

from genlib.data import load_series
from genlib.errors import DataError, GenlibError
from genlib.forecast.auto import DEFAULT_CANDIDATES, AutoForecaster
from genlib.forecast.backtest import long_frame, rolling_forecasts
from genlib.forecast.base import split_series
from genlib.forecast.budget import GLOBAL_FITS, plan_candidates
from genlib.forecast.neural import GLOBAL_MIN_SERIES, NeuralAR
from genlib.forecast.registry import get_model
from genlib.forecast.report import run_forecast
from genlib.train import Callback

FAST = {"h": 6, "steps": 60, "hidden": 16, "batch_size": 64, "device": "cpu"}


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest.py


def panel(n_series: int, length: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return pd.concat([pd.DataFrame({
        "unique_id": f"s{i:03d}", "ds": t,
        "y": 20 + i + 5 * np.sin(2 * np.pi * (t + i) / 12) + rng.normal(0, 0.5, length)})
        for i in range(n_series)], ignore_index=True)


class CountingAR(NeuralAR):
    """NeuralAR that counts its trainings (class attribute: clones share it)."""

    fits = 0

    def fit(self, df, **kw):
        type(self).fits += 1
        return super().fit(df, **kw)


def test_predict_from_the_training_series_is_predict():
    df = panel(4)
    net = NeuralAR(**FAST).fit(df)
    pd.testing.assert_frame_equal(net.predict_from(df, 6), net.predict(6))


def test_predict_from_new_history_forecasts_after_its_end():
    net = NeuralAR(**FAST).fit(panel(4, length=60))
    longer = panel(4, length=80)
    fc = net.predict_from(longer, 6)
    assert fc.groupby("unique_id")["ds"].min().tolist() == [80] * 4
    assert fc["mean"].notna().all()
    # the network itself is untouched: it still forecasts after its own data
    assert net.predict(6).groupby("unique_id")["ds"].min().tolist() == [60] * 4
    with pytest.raises(DataError, match="reads the last"):
        net.predict_from(panel(1, length=net.input_size_ - 1), 6)


def test_per_series_models_refuse_predict_from():
    df = panel(2)
    with pytest.raises(GenlibError, match="fits each series"):
        get_model("ar").fit(df).predict_from(df, 3)


def test_backtest_trains_a_global_model_once_and_never_on_a_window_it_scores():
    df = panel(5)
    frame = long_frame(split_series(df))
    CountingAR.fits = 0
    fc = rolling_forecasts(CountingAR(**FAST), frame, 6, 3, 6, (80,))
    assert CountingAR.fits == 1
    assert len(fc) == 3 * 5 * 6 and fc["mean"].notna().all()
    # the same forecasts as the network trained on the first window's history, fed each history
    first = df[df["ds"] < 80 - 18]
    net = NeuralAR(**FAST).fit(first)
    last = net.predict_from(df[df["ds"] < 80 - 6], 6, (80,))
    got = fc[fc["cutoff"] == 73].sort_values(["unique_id", "ds"])
    np.testing.assert_allclose(got["mean"].to_numpy(), last["mean"].to_numpy(), rtol=1e-6)
    assert (fc.groupby("unique_id")["cutoff"].unique().map(sorted).tolist()
            == [[61, 67, 73]] * 5)


def test_network_projects_its_own_cost_for_the_budget():
    df = panel(3)
    net = NeuralAR(**FAST)
    seconds = net.seconds_per_fit(df, 6)
    assert seconds is not None and seconds > 0
    assert NeuralAR(**{**FAST, "h": 500}).seconds_per_fit(df, 500) is None   # would refuse at once
    models = {"naive": get_model("naive"), "neural_ar": net}
    kept, left_out, per_fit = plan_candidates(models, df, 6, fits=4, budget=1e4)
    assert kept == ["naive", "neural_ar"] and per_fit["neural_ar"] > 0
    # too little time: left out, with its projected cost (trained GLOBAL_FITS times, not 4)
    budget = 0.1 * per_fit["neural_ar"] * GLOBAL_FITS / 0.75
    kept, left_out, per_fit = plan_candidates(models, df, 6, fits=4, budget=budget)
    assert kept == ["naive"] and "neural_ar" in left_out


def test_auto_tries_the_network_on_panels_only():
    small = AutoForecaster(candidates=("naive", "neural_ar"), h=6).fit(panel(3))
    assert "neural_ar" not in small.scores_.columns and small.budget_ == pytest.approx(30.3)
    # the default budget gives a network a minute: it trains as long for 50 series as for 5,000
    assert AutoForecaster(candidates=("naive", "neural_ar"), h=6).fit(
        panel(GLOBAL_MIN_SERIES, length=40)).budget_ == pytest.approx(30 + 5 + 60)
    assert "neural_ar" in DEFAULT_CANDIDATES
    big = AutoForecaster(candidates=("naive", NeuralAR(**FAST)), h=6, budget=None).fit(
        panel(GLOBAL_MIN_SERIES, length=60))
    assert big.scores_["neural_ar"].notna().all()
    chosen = big.choices_["model"].str.contains("neural_ar")
    if chosen.any():     # trained on every series, whichever it won
        assert big.models_["neural_ar"].ids_ == big.ids_
    fc = big.predict(6)
    assert len(fc) == GLOBAL_MIN_SERIES * 6 and fc["mean"].notna().all()


def test_members_train_side_by_side_and_their_quantiles_are_averaged():
    df = panel(4)
    net = NeuralAR(members=3, **FAST).fit(df)
    x = torch.from_numpy(net.context_)
    out, loc, scale = net.net_(x)
    assert out.shape[0] == 3 and not torch.allclose(out[0], out[1])    # three different networks
    q = net.net_.forecast(x)["quantiles"]
    torch.testing.assert_close(q, loc.unsqueeze(-1) + scale.unsqueeze(-1) * out.mean(0))
    fc = net.predict(6, levels=(80, 95))
    cols = ["lo-95", "lo-80", "mean", "hi-80", "hi-95"]
    assert (np.diff(fc[cols].to_numpy(), axis=1) >= -1e-9).all()
    gauss = NeuralAR(members=2, head="gaussian", **FAST).fit(df).predict(6, levels=(80,))
    assert (gauss["hi-80"] > gauss["lo-80"]).all()
    with pytest.raises(GenlibError, match="'mlp' kind only"):
        NeuralAR(kind="gru", members=2, **FAST).fit(df)


class StopDuring(Callback):
    """Sets `event` at step `step` of the `fit_no`-th training it follows (1 = the first)."""

    def __init__(self, event, fit_no: int, step: int = 5):
        self.event, self.fit_no, self.step = event, fit_no, step
        self.trainings, self.last_steps = 0, []

    def on_start(self, state):
        self.trainings += 1

    def on_step(self, state, metrics):
        if self.trainings == self.fit_no and state.step >= self.step:
            self.event.set()

    def on_end(self, state):
        self.last_steps.append(state.step)


def trending_panel(n_series: int = GLOBAL_MIN_SERIES) -> pd.DataFrame:
    """Seasonal series with a steady trend: seasonal naive lags a year behind, a network does not."""
    df = panel(n_series, length=72)
    return df.assign(y=df["y"] + 0.8 * df["ds"])


def monthly_panel():
    """`trending_panel` as a user's monthly file (store, month, sales), loaded as the app loads it."""
    df = trending_panel()
    months = pd.date_range("2015-01-01", periods=72, freq="MS")
    return load_series(pd.DataFrame({"store": df["unique_id"], "month": months[df["ds"].to_numpy()],
                                     "sales": df["y"]}))


@pytest.mark.parametrize("fit_no", [1, 2])
def test_stop_leaves_the_network_out_and_auto_finishes_with_the_others(fit_no):
    df, event = trending_panel(), threading.Event()
    stop = StopDuring(event, fit_no)
    net = NeuralAR(**{**FAST, "steps": 200})
    auto = AutoForecaster(candidates=("seasonal_naive", "ar", net), h=6, budget=None)
    auto.fit(df, callbacks=[stop], stop_event=event)
    # fit 1 is the backtest's training, fit 2 the refit on every series for the forecast
    assert stop.trainings == fit_no and stop.last_steps[-1] < 200       # it stopped within a step or so
    assert list(auto.stopped_) == ["neural_ar"]
    assert not auto.choices_["model"].str.contains("neural_ar").any() and "neural_ar" not in auto.models_
    assert all("left out because its training was stopped: Neural network" in s
               for s in auto.explanation_.values())
    assert auto.predict(6)["mean"].notna().all()


def test_a_finished_network_that_won_is_refitted_and_kept():
    df, event = trending_panel(), threading.Event()
    stop = StopDuring(event, fit_no=3)                  # never reached
    auto = AutoForecaster(candidates=("seasonal_naive", NeuralAR(**FAST)), h=6, budget=None)
    auto.fit(df, callbacks=[stop], stop_event=event)
    assert stop.trainings == 2 and not auto.stopped_      # the fit-2 case above is not vacuous
    assert auto.choices_["model"].str.contains("neural_ar").any()


def test_the_forecast_page_stops_auto_and_does_not_train_the_network_again():
    event = threading.Event()
    event.set()                                         # Stop pressed before the network started
    counting = StopDuring(event, fit_no=99)
    series = monthly_panel()
    result = run_forecast(series, ["auto"], 6, (80,), callbacks=[counting], stop_event=event)
    assert counting.trainings == 0
    assert "training was stopped" in next(iter(result["explanations"].values()))
    assert "auto" in set(result["scores"]["model"])     # still tested, on the models it kept


def test_a_stop_during_the_forecast_pages_backtest_leaves_auto_out_of_the_scores():
    event = threading.Event()
    stop = StopDuring(event, fit_no=3)      # auto's fit trains at most twice: 3 is in the backtest
    series = monthly_panel()
    result = run_forecast(series, ["auto"], 6, (80,), callbacks=[stop], stop_event=event)
    assert stop.trainings == 3 and result["stopped_tests"] == ["auto"]
    assert "auto" not in set(result["scores"]["model"]) and result["forecasts"]["auto"]["mean"].notna().all()


def test_the_pages_test_of_auto_trains_its_network_once_and_never_on_a_window_it_scores():
    from genlib.forecast.frozen import Frozen, freeze_network
    df, counting = trending_panel(), StopDuring(threading.Event(), fit_no=99)
    auto = AutoForecaster(candidates=("seasonal_naive", "ar", NeuralAR(**FAST)), h=6, budget=None)
    frozen = freeze_network(auto, df, back=6 * (3 + 3), callbacks=[counting])
    net = next(c for c in frozen.candidates if isinstance(c, Frozen))
    assert counting.trainings == 1 and set(net.model.last_ds_) == {72 - 36 - 1}    # before every cutoff
    # auto's fits in each window reuse it: fit keeps the history, forecasts come from it
    tested = frozen.fit(df)
    assert counting.trainings == 1 and "neural_ar" in tested.scores_
    one = net.clone().fit(df)
    pd.testing.assert_frame_equal(one.predict(6), net.model.predict_from(df, 6))
    # series too short for the network before the earliest cutoff: auto is returned as it was
    assert freeze_network(auto, panel(GLOBAL_MIN_SERIES, length=40), back=36) is auto
    assert freeze_network(AutoForecaster(candidates=("ar",), h=6), df, back=36).candidates == ("ar",)


def test_the_forecast_page_trains_the_network_of_auto_three_times_in_all():
    counting = StopDuring(threading.Event(), fit_no=99)
    result = run_forecast(monthly_panel(), ["auto"], 6, (80,), callbacks=[counting])
    # auto's fit: 1 for its backtest (+ 1 refit where it won); the page's 3 windows: 1, not 3 to 6
    assert counting.trainings in (2, 3)
    assert "auto" in set(result["scores"]["model"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU (none visible to PyTorch)")
def test_on_a_gpu_auto_trains_its_network_there_and_forecasts_every_series():
    big = AutoForecaster(candidates=("naive", NeuralAR(**{**FAST, "device": "cuda"})), h=6, budget=None).fit(
        panel(GLOBAL_MIN_SERIES, length=60))
    assert big.scores_["neural_ar"].notna().all()
    kept = big.models_.get("neural_ar")           # refitted on every series where it won
    assert kept is None or next(kept.net_.parameters()).device.type == "cuda"
    fc = big.predict(6)
    assert len(fc) == GLOBAL_MIN_SERIES * 6 and np.isfinite(fc["mean"].to_numpy()).all()


def test_the_network_never_forecasts_a_series_alone_and_the_sentence_says_why():
    """Its backtest comes from another training than its forecast: where it wins alone, its
    forecast is averaged with the series' best other candidate (selection.with_partner)."""
    auto = AutoForecaster(candidates=("naive", "theta", NeuralAR(**FAST)), h=6, budget=None).fit(
        panel(GLOBAL_MIN_SERIES, length=60))
    choices = auto.choices_.set_index("unique_id")
    assert not choices["model"].eq("neural_ar").any()
    paired = choices[choices["model"].str.contains("neural_ar")]
    alone_better = [u for u in paired.index if auto.scores_.loc[u, "neural_ar"] < paired.loc[u, "score"]]
    assert alone_better, "the network won no series alone: the rule was not exercised"
    uid = alone_better[0]
    assert "it never forecasts a series alone" in auto.explanation_[uid]
    assert "Neural network (MLP) alone scored" in auto.explanation_[uid]
    fc = auto.predict(6).set_index("unique_id").loc[uid, "mean"].to_numpy()
    members = [auto.models_[m].predict(6).set_index("unique_id").loc[uid, "mean"].to_numpy()
               for m in paired.loc[uid, "model"].split("+")]
    np.testing.assert_allclose(fc, np.mean(members, axis=0), rtol=1e-9)
