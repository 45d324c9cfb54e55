"""The one training loop: stop, NaN, resume, warm-up, callbacks, presets — with real small models."""
from __future__ import annotations

import threading

import pytest
import torch

from genlib.errors import GenlibError
from genlib.models import MODELS, build_model, get_preset
from genlib.models.base import GenerativeModel
from genlib.runs import RunWriter, read_checkpoint
from genlib.train import Callback, TrainConfig, fit, resolve_device


class Tiny:
    """Eight 8×8 gray images with labels: enough for a real step of every model."""

    def __init__(self, n=16, side=8):
        g = torch.Generator().manual_seed(0)
        self.images = torch.rand(n, 1, side, side, generator=g) * 2 - 1
        self.labels = torch.arange(n) % 2
        self.shape, self.num_classes, self.name = (1, side, side), 2, "tiny"

    def tensors(self):
        return self.images, self.labels

    def __len__(self):
        return len(self.images)

    def fingerprint(self):
        return "tiny"


def tiny_model(family, data):
    torch.manual_seed(0)
    return build_model(family, data.shape, data.num_classes, **get_preset(family, "quick").model)


def params(model):
    return torch.cat([p.detach().flatten().float() for p in model.state_dict().values()
                      if p.dtype.is_floating_point])


class Recorder(Callback):
    def __init__(self, stop_after=None, event=None):
        self.steps, self.previews, self.ended, self.checkpoints = [], 0, None, []
        self.stop_after, self.event = stop_after, event

    def on_step(self, state, metrics):
        self.steps.append(state.step)
        if self.stop_after and state.step >= self.stop_after:
            self.event.set()

    def on_preview(self, state, images):
        self.previews += 1
        assert images.min() >= -1 and images.max() <= 1

    def on_checkpoint(self, state, path):
        self.checkpoints.append(path)

    def on_end(self, state):
        self.ended = state.status


def test_fit_runs_logs_and_finishes():
    data = Tiny()
    rec = Recorder()
    cfg = TrainConfig(steps=4, batch_size=8, device="cpu", log_every=2, preview_every=2, preview_n=4)
    state = fit(tiny_model("gan", data), data, cfg, [rec])
    assert state.status == "finished" and state.step == 4
    assert rec.steps == [2, 4] and rec.ended == "finished"
    assert rec.previews == 1                      # at step 2; the final preview needs a run folder
    assert [row["step"] for row in state.history] == [2, 4]
    assert state.step_time > 0 and state.eta_seconds == 0


def test_stop_event_stops_within_a_step():
    data = Tiny()
    event = threading.Event()
    rec = Recorder(stop_after=3, event=event)
    state = fit(tiny_model("vae", data), data, TrainConfig(steps=100, batch_size=8, device="cpu", log_every=1),
                [rec], stop_event=event)
    assert state.status == "stopped" and state.step == 3


@pytest.mark.parametrize("family", sorted(MODELS))
def test_resume_continues_exactly(tmp_path, family):
    """4 steps straight == 2 steps, save, load into a fresh model, 2 more steps."""
    data = Tiny()
    cfg = TrainConfig(steps=4, batch_size=8, device="cpu", log_every=1, warmup_steps=3, preview_n=2)
    straight = tiny_model(family, data)
    fit(straight, data, cfg, writer=RunWriter(tmp_path / "a"))

    first = tiny_model(family, data)
    fit(first, data, TrainConfig(**{**cfg.__dict__, "steps": 2}), writer=RunWriter(tmp_path / "b"))
    resumed = tiny_model(family, data)
    torch.manual_seed(123)                        # whatever the RNG did meanwhile must not matter
    start = read_checkpoint(tmp_path / "b", resumed)
    state = fit(resumed, data, cfg, writer=RunWriter(tmp_path / "b"), start=start)
    assert state.step == 4 and [r["step"] for r in state.history] == [1, 2, 3, 4]
    torch.testing.assert_close(params(resumed), params(straight), rtol=0, atol=0)


def test_resume_needs_more_steps(tmp_path):
    data = Tiny()
    cfg = TrainConfig(steps=2, batch_size=8, device="cpu", preview_n=2)
    fit(tiny_model("vae", data), data, cfg, writer=RunWriter(tmp_path))
    model = tiny_model("vae", data)
    with pytest.raises(GenlibError, match="more steps"):
        fit(model, data, cfg, start=read_checkpoint(tmp_path, model))


class Exploding(GenerativeModel):
    """A real model whose loss overflows on its third step."""

    family = "exploding"

    def __init__(self):
        super().__init__(config=None)
        self.w = torch.nn.Parameter(torch.ones(1))
        self.calls = 0

    def train_step(self, x, y=None):
        self.calls += 1
        loss = (self.w * x.mean()) ** 2 * (float("inf") if self.calls >= 3 else 1.0)
        self.update("model", loss)
        return {"loss": float(loss.detach())}

    def sample(self, n, seed=None, labels=None):
        return torch.zeros(n, 1, 8, 8)


def test_nan_loss_fails_cleanly_with_a_reason():
    rec = Recorder()
    state = fit(Exploding(), Tiny(), TrainConfig(steps=10, batch_size=8, device="cpu", log_every=1), [rec])
    assert state.status == "failed" and state.step == 2 and rec.ended == "failed"
    assert "diverged at step 3" in state.error and "learning rate" in state.error
    assert state.error_kind == "nan"


def test_warmup_scales_the_learning_rate():
    data = Tiny()
    model = tiny_model("vae", data)
    seen = []

    class Watch(Callback):
        def on_step(self, state, metrics):
            seen.append(model.optimizers["model"].param_groups[0]["lr"])

    fit(model, data, TrainConfig(steps=4, batch_size=8, lr=1e-3, warmup_steps=4, device="cpu", log_every=1),
        [Watch()])
    assert seen == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])


def test_cosine_decay_falls_to_zero_and_a_stopped_run_resumes_on_the_same_curve(tmp_path):
    data = Tiny()
    cfg = TrainConfig(steps=5, batch_size=8, lr=1e-3, warmup_steps=2, lr_decay=True, device="cpu",
                      log_every=1)
    seen = []

    class Watch(Callback):
        def __init__(self, model, stop_at=None, event=None):
            self.model, self.stop_at, self.event = model, stop_at, event

        def on_step(self, state, metrics):
            seen.append(self.model.optimizers["model"].param_groups[0]["lr"])
            if state.step == self.stop_at:
                self.event.set()

    straight = tiny_model("vae", data)
    fit(straight, data, cfg, [Watch(straight)], writer=RunWriter(tmp_path / "a"))
    # warm-up 1/2, 2/2, times cos decay over steps 0…4: 1, .854, .5, .146, 0
    assert seen == pytest.approx([5e-4, 1e-3 * 0.8536, 5e-4, 1e-3 * 0.1464, 0.0], abs=1e-7)

    seen.clear()
    event = threading.Event()
    first = tiny_model("vae", data)
    state = fit(first, data, cfg, [Watch(first, stop_at=2, event=event)], stop_event=event,
                writer=RunWriter(tmp_path / "b"))
    assert state.status == "stopped" and state.step == 2
    resumed = tiny_model("vae", data)
    start = read_checkpoint(tmp_path / "b", resumed)
    fit(resumed, data, cfg, [Watch(resumed)], writer=RunWriter(tmp_path / "b"), start=start)
    assert seen == pytest.approx([5e-4, 1e-3 * 0.8536, 5e-4, 1e-3 * 0.1464, 0.0], abs=1e-7)
    torch.testing.assert_close(params(resumed), params(straight), rtol=0, atol=0)


def test_config_errors_teach():
    with pytest.raises(GenlibError, match="learning rate"):
        TrainConfig(lr=-1)
    with pytest.raises(GenlibError, match="device"):
        TrainConfig(device="tpu")
    assert resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(GenlibError, match="--device cpu"):
            resolve_device("cuda")


def test_presets_state_their_expected_times():
    for family, spec in MODELS.items():
        for name in ("quick", "standard", "best"):
            p = get_preset(family, name)
            assert p.expected_cpu_seconds > 0 and p.expected_gpu_seconds > 0 and p.description
    with pytest.raises(GenlibError):
        get_preset("gan", "ludicrous")


class LateNaN(GenerativeModel):
    """Metrics as detached 0-d tensors (what models return); the loss is NaN from step 7 on."""

    family = "late-nan"

    def __init__(self):
        super().__init__(config=None)
        self.w = torch.nn.Parameter(torch.ones(1))
        self.calls = 0

    def train_step(self, x, y=None):
        self.calls += 1
        loss = (self.w * x.mean()) ** 2 + (float("nan") if self.calls >= 7 else 0.0)
        self.update("model", loss)
        return {"loss": loss.detach(), "scale": torch.tensor(2.0), "steps": float(self.calls)}

    def sample(self, n, seed=None, labels=None):
        return torch.zeros(n, 1, 8, 8)


def test_a_nan_between_reads_fails_at_its_step_and_keeps_the_last_checkpoint(tmp_path):
    """Read every 5 steps: the NaN of step 7 is found at step 10, named, and nothing after the
    checkpoint of step 5 (the last read that found every value finite) is saved."""
    class Saves:
        def __init__(self):
            self.steps, self.ended = [], None

        def save(self, model, config, state, samples):
            self.steps.append(state.step)
            return tmp_path / f"step{state.step}"

        def end(self, state):
            self.ended = state.status

    rec, writer, model = Recorder(), Saves(), LateNaN()
    cfg = TrainConfig(steps=20, batch_size=8, device="cpu", log_every=5, checkpoint_every=5)
    state = fit(model, Tiny(), cfg, [rec], writer=writer)
    assert state.status == "failed" and state.error_kind == "nan" and rec.ended == "failed"
    assert "diverged at step 7: loss became nan" in state.error
    assert model.calls == 10 and state.step == 6      # found at the read of step 10
    assert writer.steps == [5] and writer.ended == "failed" and rec.steps == [5]
    assert state.last_checkpoint == str(tmp_path / "step5")
    assert [row["step"] for row in state.history] == [5]


def test_metrics_are_read_once_per_log_point_and_arrive_as_floats(monkeypatch):
    import genlib.train as train

    reads, seen = [], []
    real = train._Pending.read

    def counted(self, stop):
        reads.append(len(self.rows))
        return real(self, stop)

    class Watch(Callback):
        def on_step(self, state, metrics):
            seen.append(metrics)

    monkeypatch.setattr(train._Pending, "read", counted)
    state = fit(LateNaN(), Tiny(), TrainConfig(steps=6, batch_size=8, device="cpu", log_every=3), [Watch()])
    assert state.status == "finished" and reads == [3, 3]      # one read per 3 steps, none between
    assert [type(v) for v in seen[0].values()] == [float, float, float]
    assert seen[-1]["scale"] == 2.0 and seen[-1]["steps"] == 6.0
    assert [row["step"] for row in state.history] == [3, 6] and state.examples_per_second > 0


def test_cpu_threads_follow_the_setting_and_are_put_back():
    seen = []

    class Watch(Callback):
        def on_step(self, state, metrics):
            seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    fit(LateNaN(), Tiny(), TrainConfig(steps=2, batch_size=8, device="cpu", log_every=1, threads=2), [Watch()])
    assert seen == [2, 2] and torch.get_num_threads() == before
    with pytest.raises(GenlibError, match="Processor threads"):
        TrainConfig(threads=-1)
