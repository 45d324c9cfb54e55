"""NeuralAR: schema, learning (beats naive on held-out data), heads, kinds, seeds, stopping.

Tiny networks and a few hundred steps: every test runs in seconds on a CPU.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import torch

from genlib.errors import DataError, GenlibError
from genlib.forecast.backtest import backtest
from genlib.forecast.registry import get_model
from genlib.forecast.neural import (
    NeuralAR, NeuralARNet, NeuralNetConfig, interpolate_quantiles, levels_to_quantiles,
    make_windows, pinball_loss, window_scale)
from genlib.models.base import ImageModel, Trainable
from genlib.train import Callback

H = 12       # the horizon every test forecasts
PERIOD = 12  # the sine's period
FAST = dict(steps=150, hidden=32, batch_size=128, device="cpu")


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest.py


def sine_trend(n_series: int = 4, length: int = 150, seed: int = 0, dates: bool = True) -> pd.DataFrame:
    """Noisy sines with different levels, amplitudes, phases and trends: a long frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    frames = []
    for i in range(n_series):
        level, amp, phase, slope = 50 + 30 * i, 5 + 3 * i, rng.uniform(0, 2 * np.pi), 0.1 * (i - 1)
        y = level + slope * t + amp * np.sin(2 * np.pi * t / PERIOD + phase) + rng.normal(0, 0.5, length)
        ds = pd.date_range("2023-01-01", periods=length, freq="D") if dates else t
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def split(df: pd.DataFrame, h: int = H) -> tuple[pd.DataFrame, pd.DataFrame]:
    test = df.groupby("unique_id").tail(h)
    return df.drop(test.index), test


def mae_vs_naive(model: NeuralAR, df: pd.DataFrame) -> tuple[float, float]:
    train, test = split(df)
    fc = model.fit(train).predict(H)
    merged = test.merge(fc, on=["unique_id", "ds"], validate="one_to_one")
    last = train.groupby("unique_id")["y"].last()
    naive = merged["unique_id"].map(last)
    return float((merged["y"] - merged["mean"]).abs().mean()), float((merged["y"] - naive).abs().mean())


# ---- pure functions -----------------------------------------------------------------------------
def test_levels_to_quantiles():
    assert levels_to_quantiles((80, 95)) == (0.025, 0.1, 0.5, 0.9, 0.975)
    assert levels_to_quantiles(()) == (0.5,)
    with pytest.raises(GenlibError, match="between 0 and 100"):
        levels_to_quantiles((120,))


def test_make_windows_shapes_and_cap():
    series = [np.arange(30.0), np.arange(100.0) + 1000]
    x, y, sid = make_windows(series, input_size=8, horizon=4, max_windows=20, seed=0)
    assert x.shape[1] == 8 and y.shape[1] == 4
    assert (sid == 0).sum() == 30 - 12 + 1 and (sid == 1).sum() == 20
    # each target continues its own input window
    np.testing.assert_array_equal(y[:, 0], x[:, -1] + 1)


def test_window_scale_survives_constant_and_zero_windows():
    x = torch.tensor([[0.0] * 6, [5.0] * 6, [1.0, 2, 3, 4, 5, 6]])
    loc, scale = window_scale(x)
    assert torch.isfinite((x - loc) / scale).all() and (scale > 0).all()


def test_pinball_loss_matches_hand_computation():
    pred = torch.tensor([[[1.0, 2.0]]])           # B=1, H=1, Q=2
    y = torch.tensor([[1.5]])
    q = torch.tensor([0.1, 0.9])
    # q=0.1: u=0.5 → 0.05 ; q=0.9: u=-0.5 → (0.9-1)(-0.5)=0.05
    assert pinball_loss(pred, y, q).item() == pytest.approx(0.05)


def test_interpolate_quantiles_inside_range_only():
    values = np.array([[1.0, 2.0, 4.0]])
    assert interpolate_quantiles(values, (0.1, 0.5, 0.9), 0.7)[0] == pytest.approx(3.0)
    with pytest.raises(GenlibError):
        interpolate_quantiles(values, (0.1, 0.5, 0.9), 0.95)


def test_network_is_not_an_image_model_and_outputs_its_head_shape():
    cfg = NeuralNetConfig(kind="gru", input_size=20, horizon=5, hidden=8, layers=1)
    net = NeuralARNet(cfg)
    assert isinstance(net, Trainable) and not isinstance(net, ImageModel)
    assert not hasattr(net, "sample") and not hasattr(net, "produces_images")
    out, loc, scale = net(torch.randn(3, 20))
    assert out.shape == (3, 5, len(cfg.quantiles)) and loc.shape == scale.shape == (3, 1)


# ---- the forecaster -----------------------------------------------------------------------------
def test_capabilities_registry_and_clone():
    caps = NeuralAR.capabilities
    assert caps.intervals and caps.trains_network
    gru = get_model("neural_gru", h=5, steps=10)
    assert isinstance(gru, NeuralAR) and gru.kind == "gru" and gru.name == "neural_gru"
    assert get_model("neural_ar").kind == "mlp"
    copy = gru.clone(seed=3)
    assert (copy.kind, copy.h, copy.steps, copy.seed) == ("gru", 5, 10, 3)


def test_backtest_runs_the_neural_forecaster():
    res = backtest(sine_trend(3, 100), [NeuralAR(h=H, **FAST)], h=H, windows=1)
    scores = res.scores.set_index("model")
    assert scores.loc["neural_ar", "MASE"] < scores.loc["seasonal_naive", "MASE"]


def test_predict_schema_and_dates():
    df = sine_trend(3, 80)
    fc = NeuralAR(h=H, steps=5, device="cpu").fit(df).predict(H, levels=(95, 80))
    assert list(fc.columns) == ["unique_id", "ds", "mean", "lo-95", "hi-95", "lo-80", "hi-80"]
    assert len(fc) == 3 * H and fc["unique_id"].value_counts().eq(H).all()
    last = df.groupby("unique_id")["ds"].max()
    first = fc.groupby("unique_id")["ds"].min()
    assert (first - last).eq(pd.Timedelta(days=1)).all()
    assert fc[["mean", "lo-80", "hi-80"]].notna().all().all()


def test_integer_time_index():
    df = sine_trend(2, 80, dates=False)
    fc = NeuralAR(h=6, steps=5, device="cpu").fit(df).predict(6)
    assert fc.groupby("unique_id")["ds"].min().eq(80).all()


@pytest.mark.parametrize("head", ["quantile", "gaussian"])
def test_mlp_learns_sine_and_trend_and_beats_naive(head):
    model_mae, naive_mae = mae_vs_naive(NeuralAR("mlp", h=H, head=head, **FAST), sine_trend())
    assert model_mae < 0.3 * naive_mae, (model_mae, naive_mae)


def test_gru_learns_sine_and_trend_and_beats_naive():
    model_mae, naive_mae = mae_vs_naive(NeuralAR("gru", h=H, layers=1, **FAST), sine_trend())
    assert model_mae < 0.4 * naive_mae, (model_mae, naive_mae)


def test_untrained_network_does_not_beat_naive():
    """The quality thresholds above are not met by a network that learned nothing."""
    model_mae, naive_mae = mae_vs_naive(NeuralAR("mlp", h=H, steps=1, hidden=32, device="cpu"),
                                        sine_trend())
    assert model_mae > 0.5 * naive_mae


def test_quantile_intervals_do_not_cross_and_interpolate_inside_trained_levels():
    model = NeuralAR(h=H, **FAST).fit(sine_trend(3, 100))
    fc = model.predict(H, levels=(80, 90, 95))
    order = ["lo-95", "lo-90", "lo-80", "mean", "hi-80", "hi-90", "hi-95"]
    values = fc[order].to_numpy()
    assert (np.diff(values, axis=1) >= -1e-9).all()
    with pytest.raises(GenlibError, match="levels=.*99"):
        model.predict(H, levels=(99,))


def test_gaussian_head_gives_any_level():
    model = NeuralAR(h=H, head="gaussian", log=False, **FAST).fit(sine_trend(3, 100))
    fc = model.predict(H, levels=(50, 99))
    assert (fc["hi-99"] - fc["lo-99"] > fc["hi-50"] - fc["lo-50"]).all()
    np.testing.assert_allclose(fc["hi-50"] - fc["mean"], fc["mean"] - fc["lo-50"], rtol=1e-6)


def test_log_learns_positive_series_as_logarithms():
    df = sine_trend(3, 100)
    assert (df["y"] > 0).all()
    model = NeuralAR(h=H, head="gaussian", **FAST).fit(df)          # log="auto"
    assert model.logged_.all()
    fc = model.predict(H, levels=(50,))
    # a normal band on the log scale: symmetric around the forecast as ratios
    np.testing.assert_allclose(np.log(fc["hi-50"] / fc["mean"]), np.log(fc["mean"] / fc["lo-50"]),
                               rtol=1e-5)
    mixed = df.assign(y=np.where(df["unique_id"] == df["unique_id"].iloc[0], df["y"] - 100, df["y"]))
    assert NeuralAR(h=H, **FAST).fit(mixed).logged_.tolist() == [False, True, True]
    with pytest.raises(DataError, match="log=True needs values above zero"):
        NeuralAR(h=H, log=True, **FAST).fit(mixed)
    with pytest.raises(GenlibError, match="log must be"):
        NeuralAR(h=H, log="yes", **FAST).fit(df)


def test_predict_beyond_trained_horizon_is_recursive_and_widens():
    model = NeuralAR(h=6, **FAST).fit(sine_trend(2, 100))
    fc = model.predict(18, levels=(80,))
    assert len(fc) == 2 * 18
    width = (fc["hi-80"] - fc["lo-80"]).to_numpy().reshape(2, 18)
    assert (width[:, -1] >= width[:, 5]).all()


def test_flat_and_all_zero_series_give_finite_flat_forecasts():
    df = sine_trend(3, 100)
    ds = df["ds"][:100]
    flat = pd.DataFrame({"unique_id": "flat", "ds": ds, "y": 7.0})
    zeros = pd.DataFrame({"unique_id": "zeros", "ds": ds, "y": 0.0})
    fc = NeuralAR(h=H, **FAST).fit(pd.concat([df, flat, zeros])).predict(H).set_index("unique_id")
    assert np.isfinite(fc.drop(columns="ds").to_numpy()).all()
    np.testing.assert_allclose(fc.loc["flat", "mean"], 7.0, atol=0.1)
    np.testing.assert_allclose(fc.loc["zeros", "hi-95"], 0.0, atol=0.1)
    assert (fc.loc["zeros", "lo-95"] >= 0).all()      # never below zero → clipped at zero


def test_same_seed_same_forecast_other_seed_differs():
    df = sine_trend(2, 80)
    a = NeuralAR(h=H, steps=30, seed=3, device="cpu").fit(df).predict(H)
    b = NeuralAR(h=H, steps=30, seed=3, device="cpu").fit(df).predict(H)
    c = NeuralAR(h=H, steps=30, seed=4, device="cpu").fit(df).predict(H)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["mean"], c["mean"])


def test_stop_event_stops_training_early_and_keeps_a_usable_model():
    stop = threading.Event()

    class StopAt(Callback):
        def on_step(self, state, metrics):
            if state.step >= 20:
                stop.set()

    model = NeuralAR(h=H, steps=10_000, device="cpu")
    model.fit(sine_trend(2, 80), callbacks=[StopAt()], stop_event=stop)
    assert model.train_state_.status == "stopped"
    assert model.train_state_.step < 100
    assert len(model.predict(H)) == 2 * H


def test_callbacks_and_stop_event_belong_to_fit_not_to_the_hyperparameters():
    params = NeuralAR().get_params()
    assert "callbacks" not in params and "stop_event" not in params
    with pytest.raises(TypeError):
        NeuralAR(callbacks=[])
    with pytest.raises(GenlibError, match="no setting 'stop_event'"):
        get_model("neural_ar", stop_event=threading.Event())


def test_network_settings_are_checked_with_plain_words():
    with pytest.raises(GenlibError, match="Width of the network can be at most 1,024"):
        NeuralAR(h=H, hidden=100_000, steps=2, device="cpu").fit(sine_trend(2, 80))


def test_defaults_choose_sizes_from_the_data():
    model = NeuralAR(steps=2, device="cpu").fit(sine_trend(2, 100))   # daily → season 7
    assert model.horizon_ == 14 and model.input_size_ == 28
    assert model.capabilities.minimum(7) <= model.input_size_ + model.horizon_ + 2


def test_errors_teach():
    df = sine_trend(2, 80)
    with pytest.raises(GenlibError, match="fit"):
        NeuralAR().predict(3)
    with pytest.raises(DataError, match="unique_id"):
        NeuralAR().fit(df.drop(columns="unique_id"))
    short = pd.concat([df, pd.DataFrame({"unique_id": "tiny", "ds": df["ds"][:5], "y": 1.0})])
    with pytest.raises(DataError, match="tiny"):
        NeuralAR(h=H, steps=2, device="cpu").fit(short)
    with pytest.raises(DataError, match="input_size"):
        NeuralAR(h=H, input_size=500, steps=2, device="cpu").fit(df)
    gaps = df.copy()
    gaps.loc[3, "y"] = np.nan
    with pytest.raises(DataError, match="missing"):
        NeuralAR(h=H, steps=2, device="cpu").fit(gaps)
    with pytest.raises(GenlibError, match="kind"):
        NeuralAR(kind="lstm", steps=2, device="cpu").fit(df)


# ---- on an NVIDIA GPU ---------------------------------------------------------------------------
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU (none visible to PyTorch)")
@pytest.mark.parametrize("kind,extra", [("mlp", {}), ("mlp", {"members": 3}), ("gru", {"layers": 1})])
def test_on_a_gpu_the_network_learns_as_well_as_on_a_processor(kind, extra):
    """`device="auto"` trains on the GPU where there is one: the same training there learns as well
    (not the same numbers: other kernels) and its forecast comes back as plain numbers."""
    on = {}
    for device in ("cuda", "cpu"):
        model = NeuralAR(kind, h=H, **{**FAST, **extra, "device": device})
        on[device] = mae_vs_naive(model, sine_trend())
    (gpu, naive), (cpu, _) = on["cuda"], on["cpu"]
    assert gpu < 0.4 * naive and gpu < 1.5 * cpu + 0.05 * naive, on
    fc = NeuralAR(kind, h=H, **{**FAST, **extra, "device": "cuda"}).fit(sine_trend(2, 80)).predict(H)
    assert fc["mean"].dtype == np.float64 and np.isfinite(fc[["mean", "lo-80", "hi-80"]].to_numpy()).all()
