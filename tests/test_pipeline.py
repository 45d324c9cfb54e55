"""The use cases the app and the command line share: train, resume (one rule), recover (one
policy), match runs to data by content, forecast, and the limits of a hosted server."""
from __future__ import annotations

import json

import pytest
import torch

from genlib import pipeline
from genlib.data import load_builtin
from genlib.errors import DataError, GenlibError
from genlib.models import get_preset
from genlib.pipeline import train_model
from genlib.runs import RunWriter, list_runs, load_run, new_run_dir
from genlib.train import TrainConfig, fit

from tests.test_train import Exploding, Tiny


class OtherTiny(Tiny):
    """Same name and shape as Tiny, other pictures."""

    def __init__(self):
        super().__init__()
        self.images = -self.images

    def fingerprint(self):
        return "other"


def test_train_model_writes_a_run(tmp_path):
    data = Tiny()
    result = train_model("vae", data, steps=3, device="cpu", out_dir=tmp_path / "run")
    assert result.state.status == "finished"
    for name in ("config.json", "model.safetensors", "optimizer.safetensors", "metrics.csv", "samples.png",
                 "card.json"):
        assert (tmp_path / "run" / name).is_file(), name
    more = train_model("vae", data, steps=5, device="cpu", resume=tmp_path / "run")
    assert more.state.step == 5 and more.run_dir == tmp_path / "run"


def test_train_model_accepts_overrides_of_preset_numbers(tmp_path):
    result = train_model("vae", Tiny(), steps=2, device="cpu", out_dir=tmp_path / "r",
                         train_overrides={"batch_size": 4, "lr": 1e-3, "seed": 3})
    assert result.state.status == "finished"
    saved = json.loads((tmp_path / "r" / "config.json").read_text())["train_config"]
    assert (saved["batch_size"], saved["lr"], saved["seed"]) == (4, 1e-3, 3)


def test_resume_refuses_other_data_and_leaves_the_run_alone(tmp_path):
    run = train_model("vae", Tiny(), steps=2, device="cpu", out_dir=tmp_path / "run").run_dir
    before = (run / "model.safetensors").read_bytes()
    with pytest.raises(DataError, match="other pictures"):
        pipeline.resume_run(run, OtherTiny(), steps=4, device="cpu")
    assert (run / "model.safetensors").read_bytes() == before
    assert load_run(run).card["steps"] == 2


def test_resume_goes_on_by_the_one_rule(tmp_path):
    assert pipeline.steps_to_resume(300, 800) == 800          # unfinished: to the plan
    assert pipeline.steps_to_resume(800, 800) == 1200         # finished: half as many again
    assert pipeline.steps_to_resume(20, 20) == 120            # …at least 100 more
    run = train_model("vae", Tiny(), steps=2, device="cpu", out_dir=tmp_path / "run").run_dir
    result = pipeline.resume_run(run, Tiny(), device="cpu")
    assert result.state.step == 102 and load_run(run).card["steps"] == 102


def test_recovery_policy():
    quick = get_preset("gan", "quick")
    oom = pipeline.recovery("oom", "gan", "quick")
    assert oom.changes == {"batch_size": quick.batch_size // 2}
    assert oom.settings["lr"] == quick.lr and "pictures per step" in oom.words()
    nan = pipeline.recovery("nan", "gan", "quick", used={"lr": 1e-3})
    assert nan.changes == {"lr": 5e-4} and nan.settings["lr"] == 5e-4
    assert "learning rate" in nan.words()
    assert pipeline.recovery("error", "gan", "quick") is None


def test_a_failed_run_keeps_its_last_good_checkpoint_and_says_why(tmp_path):
    cfg = TrainConfig(steps=10, batch_size=8, device="cpu", log_every=1, checkpoint_every=1, preview_n=2)
    model = Exploding()
    model.config = TrainConfig()            # any dataclass: the run records its config
    state = fit(model, Tiny(), cfg, writer=RunWriter(tmp_path / "run"))
    assert state.status == "failed" and state.error_kind == "nan"
    card = json.loads((tmp_path / "run" / "card.json").read_text())
    assert card["status"] == "failed" and card["error_kind"] == "nan" and card["steps"] == 2
    assert "diverged" in card["error"]


def test_data_for_run_matches_by_content_not_by_name():
    digits = load_builtin("digits")
    card = {"data": {"name": "digits", "fingerprint": digits.fingerprint(), "shape": [1, 16, 16]}}
    assert pipeline.data_for_run(card, loaded=digits) is digits
    other = load_builtin("digits", n=100)                     # same name, other pictures
    found = pipeline.data_for_run(card, loaded=other)
    assert found is not other and found.fingerprint() == digits.fingerprint()
    upload = {"data": {"name": "digits", "fingerprint": "0123456789abcdef", "shape": [1, 16, 16]}}
    assert pipeline.data_for_run(upload, loaded=other) is None    # a user's upload named like a built-in


def test_matching_runs_by_fingerprint(tmp_path):
    root = tmp_path / "runs"
    train_model("vae", Tiny(), steps=1, device="cpu", out_dir=root / "a")
    train_model("vae", OtherTiny(), steps=1, device="cpu", out_dir=root / "b")
    assert [r.name for r in pipeline.matching_runs(Tiny(), root)] == ["a"]
    assert [r.name for r in pipeline.matching_runs(OtherTiny(), root)] == ["b"]
    assert {r.name for r in pipeline.image_runs(root)} == {"a", "b"}


def test_new_run_dirs_are_unique_even_in_the_same_second(tmp_path):
    made = [new_run_dir("gan", "digits", tmp_path) for _ in range(5)]
    assert len(set(made)) == 5 and all(p.is_dir() for p in made)


def test_hosted_limits_refuse_before_anything_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    with pytest.raises(GenlibError, match="shared server"):
        train_model("gan", Tiny(), device="cpu", out_dir=tmp_path / "r",
                    train_overrides={"steps": 50_000})
    with pytest.raises(GenlibError, match="shared server"):
        train_model("gan", Tiny(), steps=1, device="cpu", out_dir=tmp_path / "r",
                    train_overrides={"preview_n": 500})
    assert not (tmp_path / "r").exists() and not list_runs(tmp_path)
    monkeypatch.delenv("GENLIB_HOSTED")
    with pytest.raises(GenlibError, match="at most"):
        train_model("gan", Tiny(), device="cpu", train_overrides={"steps": 10**12})


def test_forecast_a_sample_series_and_its_csv():
    series = pipeline.load_sample_series("co2")
    result = pipeline.forecast(series, ["naive", "seasonal_naive"], h=6, levels=(80,), windows=1)
    assert set(result["forecasts"]) == {"naive", "seasonal_naive"} and result["h"] == 6
    text = pipeline.forecast_csv(result).decode()
    assert text.splitlines()[0].startswith("model,") and len(text.splitlines()) == 1 + 2 * 6
    assert not pipeline.forecast_needs_job(["auto", "naive"])
    assert pipeline.forecast_needs_job(["auto"], n_series=500)     # auto trains its network on panels
    assert pipeline.forecast_needs_job(["neural_ar"])
    with pytest.raises(GenlibError, match="at least one"):
        pipeline.forecast(series, [], h=6)


def test_load_one_image_decodes_like_training_pictures():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (255, 0, 0)).save(buf, format="PNG")
    x = pipeline.load_one_image(buf.getvalue(), "red.png", side=16, channels=3)
    assert x.shape == (1, 3, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert torch.allclose(x[0, 0], torch.ones(16, 16)) and torch.allclose(x[0, 1], -torch.ones(16, 16))


def test_a_run_being_written_cannot_be_resumed_or_deleted(tmp_path):
    import threading

    from genlib.errors import RunError
    from genlib.runs import WRITING, delete_run, is_being_written
    from genlib.train import Callback

    started, release = threading.Event(), threading.Event()

    class Hold(Callback):
        def on_step(self, state, metrics):
            if state.step == 2:                     # the step-1 checkpoint is on disk by now
                started.set()
                release.wait(60)

    run = tmp_path / "run"
    worker = threading.Thread(target=train_model, args=("vae", Tiny()), kwargs=dict(
        steps=3, device="cpu", out_dir=run, callbacks=[Hold()],
        train_overrides={"log_every": 1, "checkpoint_every": 1}))
    worker.start()
    try:
        assert started.wait(60) and is_being_written(run)
        with pytest.raises(RunError, match="being trained"):
            pipeline.resume_run(run, Tiny(), steps=10, device="cpu")
        with pytest.raises(RunError, match="being trained"):
            delete_run(run)
    finally:
        release.set()
        worker.join(60)
    assert not is_being_written(run) and not (run / WRITING).exists()
    assert pipeline.resume_run(run, Tiny(), steps=5, device="cpu").state.step == 5
    (run / WRITING).write_text("999999999\n")          # left behind by a process that died
    assert not is_being_written(run)
    delete_run(run)
    assert not run.exists()


def test_hosted_refuses_a_huge_model_before_building_it(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("GENLIB_HOSTED", "1")
    data = load_builtin("digits", n=64, image_size=64, color="rgb")
    started = time.perf_counter()
    with pytest.raises(GenlibError, match="Model size can be at most 20,000,000 parameters"):
        train_model("gan", data, preset="best", steps=1, device="cpu", out_dir=tmp_path / "r",
                    overrides={"base_channels": 128, "latent_dim": 256})
    assert time.perf_counter() - started < 30 and not (tmp_path / "r").exists()


def test_hosted_refuses_too_much_forecast_work(monkeypatch):
    import numpy as np
    import pandas as pd

    class Panel:
        name, freq = "panel", "D"
        df = pd.DataFrame({"unique_id": np.repeat([f"s{i}" for i in range(5_001)], 30),
                           "ds": np.tile(pd.date_range("2024-01-01", periods=30), 5_001),
                           "y": np.random.default_rng(0).normal(size=5_001 * 30)})

    monkeypatch.setenv("GENLIB_HOSTED", "1")
    with pytest.raises(GenlibError, match="Forecast work can be at most 50,000 model fits"):
        pipeline.forecast(Panel(), ["naive", "seasonal_naive"], h=7, windows=4)
