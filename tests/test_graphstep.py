"""The training step recorded as one CUDA graph (`genlib.graphstep`): the same updates as the plain
eager step, no wait for the host, previews and checkpoints in between, and a correct fallback.

The CPU tests run everywhere (the eager path every processor trains through, the saved optimizer
settings, the on-device EMA step); the CUDA tests need an NVIDIA GPU and are skipped without one.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import shutil

import pytest
import torch

from genlib import graphstep
from genlib.models import build_model, get_preset
from genlib.models.base import GenerativeModel, adam
from genlib.runs import RunWriter, read_checkpoint
from genlib.train import TrainConfig, _Batches, fit
from tests.test_train import Tiny

cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="needs an NVIDIA GPU: CUDA graphs are recorded on CUDA only (none visible to PyTorch)")


def Pictures(n=64, side=16):
    """64 random 16×16 gray pictures with two classes: a real step for every model."""
    return Tiny(n=n, side=side)


def model_of(family, data, **changes):
    torch.manual_seed(0)
    return build_model(family, data.shape, data.num_classes, **{**get_preset(family, "quick").model, **changes})


def weights(model):
    return torch.cat([p.detach().flatten().float().cpu() for p in model.state_dict().values()
                      if p.dtype.is_floating_point])


def curves(state):
    keys = [k for k in state.history[0] if k not in ("step", "seconds")]
    return torch.tensor([[row[k] for k in keys] for row in state.history], dtype=torch.float64)


# ---- everywhere ---------------------------------------------------------------------------------
def test_on_a_processor_the_step_is_eager_and_the_setting_changes_nothing():
    data = Pictures()
    runs = []
    for graph in (True, False):
        model = model_of("gan", data)
        state = fit(model, data, TrainConfig(steps=6, batch_size=16, device="cpu", log_every=1, cuda_graph=graph))
        assert state.status == "finished" and state.cuda_graph is False
        runs.append((curves(state), weights(model)))
    torch.testing.assert_close(runs[0][0], runs[1][0], rtol=0, atol=0)
    torch.testing.assert_close(runs[0][1], runs[1][1], rtol=0, atol=0)


def test_why_a_step_is_not_recorded():
    data = Pictures()
    model = model_of("vae", data)
    assert "not on an NVIDIA GPU" in graphstep.capture_problem(model, torch.device("cpu"))
    assert graphstep.capture_problem(model, torch.device("cuda")) is None
    model.gradient_hook = lambda params: None               # torchrun: gradients averaged by hand
    assert "across processes" in graphstep.capture_problem(model, torch.device("cuda"))
    eager = type("Eager", (HostReading,), {"capturable": False})()        # models declare it
    assert "not recorded" in graphstep.capture_problem(eager, torch.device("cuda"))
    batches = _Batches(data.tensors(), 16, 0, torch.device("cpu"))
    model = model_of("vae", data)
    model.setup_training(1e-3)
    step = graphstep.Step(model, batches, capture=True)
    assert not step.want and "not on an NVIDIA GPU" in step.reason
    assert set(step(0)) == {"loss", "elbo", "recon", "kl"} and not step.captured


def test_the_batch_is_gathered_by_indices_that_follow_the_epochs():
    data = Pictures(n=40)
    batches = _Batches(data.tensors(), 16, 3, torch.device("cpu"))
    rows = [batches.indices(s) for s in range(4)]               # 2 batches per epoch, then a new order
    assert all(len(r) == 16 for r in rows)
    assert not set(rows[0].tolist()) & set(rows[1].tolist())
    for s in range(4):
        torch.testing.assert_close(batches(s)[0], data.images[rows[s]])


def test_learning_rates_on_the_device_are_saved_as_numbers():
    """A recorded step keeps the rate as a tensor and Adam `capturable`; a checkpoint must still be
    plain JSON numbers that any device (a processor too) loads."""
    data = Pictures()
    model = model_of("vae", data)
    model.setup_training(1e-3, 1.0)
    model.train_step(*[t[:16] for t in data.tensors()])
    graphstep.on_device_learning_rates(model.optimizers.values(), torch.device("cpu"))
    group = model.optimizers["model"].param_groups[0]
    assert torch.is_tensor(group["lr"]) and group["capturable"] is True
    rate = group["lr"]
    model.set_lr_scale(0.5)
    assert group["lr"] is rate and rate.item() == pytest.approx(5e-4)   # changed in place
    saved = model.optimizer_state()["model"]["param_groups"][0]
    assert saved["lr"] == pytest.approx(5e-4) and saved["capturable"] is False
    json.dumps(saved)
    fresh = model_of("vae", data)
    fresh.setup_training(1e-3, 1.0)
    fresh.load_optimizer_state(model.optimizer_state())
    assert fresh.optimizers["model"].param_groups[0]["capturable"] is False
    fresh.train_step(*[t[:16] for t in data.tensors()])            # a processor steps with it


def test_the_average_generator_moves_the_same_with_its_weight_on_the_device():
    g = torch.Generator().manual_seed(0)
    ema = [torch.randn(5, 3, generator=g), torch.randn(7, generator=g)]
    params = [torch.randn(5, 3, generator=g), torch.randn(7, generator=g)]
    expected = [e.clone() for e in ema]
    torch._foreach_lerp_(expected, params, 0.3)
    graphstep.lerp_on_device(ema, params, torch.tensor(0.3))
    torch.testing.assert_close(ema, expected)


class HostReading(GenerativeModel):
    """A step that reads its loss on the host (`.item()`) yet claims it can be recorded: the
    recording fails and training must go on eagerly, with the same numbers."""

    family = "host-reading"
    capturable = True

    def __init__(self):
        super().__init__(config=None)
        self.w = torch.nn.Parameter(torch.ones(1))

    def configure_optimizers(self, lr):
        return {"model": adam(self.parameters(), lr=lr)}

    def train_step(self, x, y=None):
        loss = ((x.float().mean() - self.w) ** 2).sum()
        if loss.item() > 1e9:                                      # a host read: not recordable
            raise RuntimeError("unreachable")
        self.update("model", loss)
        return {"loss": loss.detach().float()}

    def sample(self, n, seed=None, labels=None):
        return torch.zeros(n, 1, 8, 8)


# ---- on an NVIDIA GPU ---------------------------------------------------------------------------
@pytest.fixture
def deterministic():
    """cuDNN's deterministic kernels: some of its fastest convolution gradients add in a varying
    order, and a GAN's 30 steps turn that into differences of 1e-3 between two plain runs."""
    before = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    yield
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before


def both_ways(family, data, steps=30, **config):
    """The same training with the recorded step and with the plain eager step (fp32, deterministic
    kernels: the two must agree to float rounding)."""
    out = []
    for graph in (True, False):
        model = model_of(family, data)
        cfg = TrainConfig(steps=steps, batch_size=16, device="cuda", log_every=1, amp=False, cuda_graph=graph,
                          seed=5, **config)
        state = fit(model, data, cfg)
        assert state.status == "finished", state.error
        assert state.cuda_graph is graph
        out.append((curves(state), weights(model)))
    return out


@cuda
@pytest.mark.parametrize("family", ["gan", "vae", "pixelcnn"])
def test_the_recorded_step_trains_as_the_plain_step(family, deterministic):
    (fast_curves, fast_weights), (plain_curves, plain_weights) = both_ways(family, Pictures())
    torch.testing.assert_close(fast_curves, plain_curves, rtol=2e-3, atol=2e-4)
    torch.testing.assert_close(fast_weights, plain_weights, rtol=2e-3, atol=2e-4)


@cuda
def test_a_warm_up_and_decay_reach_the_recorded_optimizers(deterministic):
    (fast_curves, fast_weights), (plain_curves, plain_weights) = both_ways(
        "vae", Pictures(), warmup_steps=8, lr_decay=True)
    torch.testing.assert_close(fast_curves, plain_curves, rtol=2e-3, atol=2e-4)
    torch.testing.assert_close(fast_weights, plain_weights, rtol=2e-3, atol=2e-4)


@cuda
@pytest.mark.parametrize("graph", [True, False])
def test_no_step_waits_for_the_host(graph):
    """After the first steps (the recording, the labels' range check) a step makes no host sync:
    PyTorch's sync debug mode turns any into an error."""
    data = Pictures()
    model = model_of("gan", data, conditional=True, ema_decay=0.99).to("cuda")
    model.setup_training(2e-4, 1.0)
    model.train()
    batches = _Batches(data.tensors(), 16, 0, torch.device("cuda"))
    step = graphstep.Step(model, batches, amp=True, capture=graph)
    for i in range(graphstep.WARMUP + 1):
        step(i)
    assert step.captured is graph
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for i in range(graphstep.WARMUP + 1, batches.per_epoch):
            step(i)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()


@cuda
def test_previews_checkpoints_and_resume_around_the_recorded_step(tmp_path):
    data = Pictures()
    model = model_of("gan", data, ema_decay=0.99)
    cfg = TrainConfig(steps=24, batch_size=16, device="cuda", log_every=4, preview_every=8, checkpoint_every=8,
                      warmup_steps=4, lr_decay=True)
    state = fit(model, data, cfg, writer=RunWriter(tmp_path / "run"))
    assert state.status == "finished" and state.cuda_graph and len(state.history) == 6
    assert all(torch.isfinite(torch.tensor(list(row.values()))).all() for row in state.history)
    longer = dataclasses.replace(cfg, steps=30)
    for device in ("cuda", "cpu"):                        # the checkpoint resumes on a GPU and a processor
        run = shutil.copytree(tmp_path / "run", tmp_path / device)
        resumed = model_of("gan", data, ema_decay=0.99)
        start = read_checkpoint(run, resumed)
        again = fit(resumed, data, dataclasses.replace(longer, device=device), writer=RunWriter(run), start=start)
        assert again.status == "finished" and again.step == 30, again.error
        assert again.cuda_graph is (device == "cuda")
    assert resumed.sample(4, seed=0).shape == (4, 1, 16, 16)


@cuda
def test_a_step_that_cannot_be_recorded_trains_eagerly_and_says_so(caplog):
    data = Pictures()
    runs = []
    for graph in (True, False):
        torch.manual_seed(0)
        model = HostReading()
        with caplog.at_level(logging.WARNING, logger="genlib.graphstep"):
            state = fit(model, data, TrainConfig(steps=8, batch_size=16, device="cuda", log_every=1,
                                                 cuda_graph=graph))
        assert state.status == "finished" and not state.cuda_graph, state.error
        runs.append(weights(model))
    assert "could not be recorded" in caplog.text
    torch.testing.assert_close(runs[0], runs[1])
