"""Run folders: round trip, listing, damaged and foreign files, deletion (bundles: test_bundle.py)."""
from __future__ import annotations

import json

import pytest
import torch

from genlib.errors import RunError
from genlib.runs import delete_run, list_runs, load_run
from genlib.sample import sample_images
from genlib.pipeline import train_model

from tests.test_train import Tiny


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("runs") / "gan-run"
    train_model("gan", Tiny(), steps=3, device="cpu", out_dir=path)
    return path


def test_round_trip_gives_identical_samples(run_dir):
    a, b = load_run(run_dir), load_run(run_dir)
    assert a.family == "gan" and a.card["steps"] == 3 and a.card["status"] == "finished"
    torch.testing.assert_close(sample_images(a.model, 6, seed=4), sample_images(b.model, 6, seed=4))
    assert not torch.equal(sample_images(a.model, 6, seed=4), sample_images(a.model, 6, seed=5))
    assert list(a.metrics["step"]) == [3] and a.samples_png.startswith(b"\x89PNG")
    assert a.card["data"]["fingerprint"] == "tiny"


def test_only_safe_formats_are_written(run_dir):
    suffixes = {p.suffix for p in run_dir.iterdir()}
    assert suffixes <= {".json", ".csv", ".png", ".safetensors"}


def test_list_runs_skips_junk(run_dir, tmp_path):
    root = run_dir.parent
    (root / "not-a-run").mkdir(exist_ok=True)
    (root / "broken").mkdir(exist_ok=True)
    (root / "broken" / "config.json").write_text("{not json")
    names = [r.name for r in list_runs(root)]
    assert names == ["gan-run"]
    assert list_runs(tmp_path / "nowhere") == []


@pytest.mark.parametrize("damage", ["truncate_weights", "garbage_config", "foreign_config", "missing_weights",
                                    "wrong_shapes"])
def test_damaged_runs_raise_run_error(run_dir, tmp_path, damage):
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in run_dir.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    if damage == "truncate_weights":
        data = (bad / "model.safetensors").read_bytes()
        (bad / "model.safetensors").write_bytes(data[: len(data) // 3])
    elif damage == "garbage_config":
        (bad / "config.json").write_bytes(b"\x80\x04\x95 pickle?")
    elif damage == "foreign_config":
        (bad / "config.json").write_text(json.dumps({"model": "something else"}))
    elif damage == "missing_weights":
        (bad / "model.safetensors").unlink()
    elif damage == "wrong_shapes":
        cfg = json.loads((bad / "config.json").read_text())
        cfg["model_config"]["latent_dim"] = cfg["model_config"]["latent_dim"] + 3
        (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(RunError):
        load_run(bad)


def test_delete(run_dir, tmp_path):
    victim = tmp_path / "victim"
    train_model("vae", Tiny(), steps=1, device="cpu", out_dir=victim)
    delete_run(victim)
    assert not victim.exists()
    other = tmp_path / "precious"
    other.mkdir()
    (other / "config.json").write_text("{}")
    with pytest.raises(RunError):
        delete_run(other)
    assert other.exists()


def test_failed_save_keeps_the_earlier_checkpoint(run_dir, tmp_path, monkeypatch):
    """A crash while writing must leave the previous files whole (atomic writes)."""
    import genlib.runs as runs

    keep = tmp_path / "keep"
    keep.mkdir()
    for f in run_dir.iterdir():
        (keep / f.name).write_bytes(f.read_bytes())
    before = (keep / "model.safetensors").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(runs, "save_file", boom)
    with pytest.raises(OSError):
        train_model("gan", Tiny(), steps=5, device="cpu", resume=keep)
    assert (keep / "model.safetensors").read_bytes() == before
    load_run(keep)


@pytest.mark.parametrize("name", ["vae-v0.1", "gan-v0.1"])
def test_runs_written_before_the_refactor_still_load_sample_and_resume(name, tmp_path):
    """tests/fixtures/<name>: written by genlib 0.1 before the application layer existed
    (4 steps on 64 built-in digits); they must still open, sample, and resume on the same data."""
    import shutil

    from genlib.data import load_builtin
    from genlib.pipeline import resume_run

    from tests.conftest import ROOT

    run_dir = tmp_path / name
    shutil.copytree(ROOT / "tests" / "fixtures" / name, run_dir)
    run = load_run(run_dir)
    assert run.card["steps"] == 4 and run.family == name.split("-")[0]
    images = sample_images(run.model, 4, seed=0)
    assert images.shape == (4, 1, 16, 16) and images.abs().max() <= 1
    result = resume_run(run_dir, load_builtin("digits", n=64), steps=6, device="cpu")
    assert result.state.status == "finished" and result.state.step == 6
    assert load_run(run_dir).card["steps"] == 6


def test_runs_have_readable_names_and_cards_read_cheaply(tmp_path):
    import datetime as dt

    from genlib.data import load_builtin
    from genlib.pipeline import train_model
    from genlib.runs import display_name, list_runs, load_run, read_card

    result = train_model("gan", load_builtin("digits", n=64), steps=2, device="cpu",
                         train_overrides={"preview_n": 4}, runs_root=tmp_path)
    card = read_card(result.run_dir)
    assert card["display_name"].startswith("GAN on digits, ")
    assert list_runs(tmp_path)[0].display_name == card["display_name"]
    assert load_run(result.run_dir).display_name == card["display_name"]
    assert display_name("vae", "shapes.zip", dt.datetime(2026, 12, 1, 14, 5)) == "VAE on shapes, 1 Dec 14:05"
    assert read_card(tmp_path / "nothing-here") == {}


def test_runs_record_the_processes_they_trained_on(run_dir, tmp_path):
    """config.json's "distributed": one process here (torchrun's are in test_distributed.py); runs
    saved before it existed read as one process with their batch."""
    import shutil

    from tests.conftest import ROOT

    saved = json.loads((run_dir / "config.json").read_text())["distributed"]
    assert saved == {"world_size": 1, "backend": "", "global_batch": 16}    # 64 capped at Tiny's 16
    summary = next(r for r in list_runs(run_dir.parent) if r.dir == run_dir)
    assert (summary.world_size, summary.global_batch, summary.trained_on) == (1, 16, "")
    shutil.copytree(ROOT / "tests" / "fixtures" / "vae-v0.1", tmp_path / "old")
    assert load_run(tmp_path / "old").distributed == {"world_size": 1, "backend": "", "global_batch": 64}
    assert list_runs(tmp_path)[0].world_size == 1
