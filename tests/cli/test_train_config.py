"""python -m genlib train --config FILE: every setting from one JSON file, flags win over it, and
mistakes in the file are named (the key, the known keys, the type expected)."""
from __future__ import annotations

import json

import pytest

from genlib.cli import main
from genlib.trainconfig import check_train_config, export_training, train_arguments

SETTINGS = {"model": "vae", "preset": "quick", "data": "digits", "image_size": 16, "color": "gray",
            "steps": 50, "batch_size": 16, "lr": 0.002, "seed": 3, "device": "cpu",
            "model_settings": {"latent_dim": 4, "base_channels": 8},
            "train_settings": {"preview_every": 2, "warmup_steps": 1, "preview_n": 9}}


def write(tmp_path, settings, name="genlib-train.json"):
    path = tmp_path / name
    path.write_text(json.dumps(settings))
    return path


def saved_config(run) -> dict:
    return json.loads((run / "config.json").read_text())


def test_the_run_holds_the_files_settings_and_a_flag_wins(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--config", str(write(tmp_path, SETTINGS)), "--steps", "3",
                 "--out", str(run)]) == 0
    saved = saved_config(run)
    train, model = saved["train_config"], saved["model_config"]
    assert train["steps"] == 3                             # the flag, not the file's 50
    assert (train["batch_size"], train["lr"], train["seed"], train["device"]) == (16, 0.002, 3, "cpu")
    assert (train["preview_every"], train["warmup_steps"], train["preview_n"]) == (2, 1, 9)
    assert (model["latent_dim"], model["base_channels"]) == (4, 8)
    assert saved["family"] == "vae" and saved["build_args"]["image_shape"] == [1, 16, 16]


def test_flags_override_every_file_value_they_name(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--config", str(write(tmp_path, SETTINGS)), "--steps", "2", "--batch-size", "8",
                 "--lr", "0.01", "--seed", "5", "--image-size", "8", "--preview-every", "1",
                 "--out", str(run)]) == 0
    train = saved_config(run)["train_config"]
    assert (train["steps"], train["batch_size"], train["lr"], train["seed"], train["preview_every"]) \
        == (2, 8, 0.01, 5, 1)
    assert saved_config(run)["build_args"]["image_shape"] == [1, 8, 8]
    assert train["warmup_steps"] == 1                      # what no flag named stays the file's


def test_a_file_without_a_model_takes_the_flag_and_the_flag_is_checked_with_the_file(tmp_path, capsys):
    settings = {k: v for k, v in SETTINGS.items() if k != "model"}
    run = tmp_path / "run"
    assert main(["train", "--config", str(write(tmp_path, settings)), "--model", "vae", "--steps", "2",
                 "--out", str(run)]) == 0
    assert saved_config(run)["family"] == "vae"
    assert main(["train", "--config", str(write(tmp_path, settings)), "--model", "pixelcnn"]) == 2
    assert 'no setting "latent_dim"' in capsys.readouterr().err       # a VAE's setting, not PixelCNN's


def test_a_data_file_is_found_beside_the_training_file(tmp_path, monkeypatch):
    import numpy as np

    folder = tmp_path / "elsewhere"
    folder.mkdir()
    rng = np.random.default_rng(0)
    np.savez(folder / "pictures.npz", images=rng.integers(0, 255, (40, 16, 16), dtype=np.uint8))
    path = write(folder, {**SETTINGS, "data": "pictures.npz", "steps": 2, "image_size": None})
    monkeypatch.chdir(tmp_path)                            # not the file's folder
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 0
    assert saved_config(tmp_path / "run")["train_config"]["steps"] == 2


@pytest.mark.parametrize("settings, words", [
    ({"model": "vae", "step": 3}, ['no setting "step"', "model, preset, data", "train_settings"]),
    ({"model": "vae", "steps": "300"}, ['"steps" must be a whole number or null', '"300" (text)']),
    ({"model": "vae", "lr": True}, ['"lr" must be a number or null', "true (true or false)"]),
    ({"preset": "quick"}, ["which model", "gan, vae, pixelcnn"]),
    ({"model": "vae", "preset": "huge"}, ["Unknown preset 'huge'", "quick"]),
    ({"model": "vae", "model_settings": {"latent": 4}}, ['no setting "latent"', "latent_dim"]),
    ({"model": "vae", "model_settings": {"latent_dim": "four"}}, ['"latent_dim" must be a whole number']),
    ({"model": "vae", "train_settings": {"steps": 4}}, ['put "steps" at the top']),
    ({"model": "vae", "batch_size": 0}, ["Pictures per step must be at least 1"]),
    ([1, 2], ["one object of settings", "not a list"]),
])
def test_mistakes_in_the_file_are_named(tmp_path, capsys, settings, words):
    assert main(["train", "--config", str(write(tmp_path, settings)), "--steps", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    for w in words:
        assert w in err, err


def test_a_file_that_is_not_json_or_not_there(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": "vae",}')
    assert main(["train", "--config", str(bad)]) == 2
    assert "bad.json is not valid JSON" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "none.json")]) == 2
    assert "There is no training file" in capsys.readouterr().err
    assert main(["train", "--config", str(write(tmp_path, SETTINGS)), "--resume", str(tmp_path)]) == 2
    assert "use one of them" in capsys.readouterr().err


def test_yaml_needs_pyyaml_or_reads_it(tmp_path, capsys):
    path = tmp_path / "train.yaml"
    path.write_text("model: vae\nsteps: 2\ndevice: cpu\n")
    try:
        import yaml  # noqa: F401
    except ImportError:
        assert main(["train", "--config", str(path)]) == 2
        assert "needs PyYAML" in capsys.readouterr().err
    else:
        assert main(["train", "--config", str(path), "--out", str(tmp_path / "run")]) == 0
        assert saved_config(tmp_path / "run")["train_config"]["steps"] == 2


def test_train_arguments_are_those_of_the_pipeline():
    import inspect

    from genlib.pipeline import train_model

    args = train_arguments(check_train_config(SETTINGS))
    assert set(args) <= set(inspect.signature(train_model).parameters)
    assert args["overrides"] == {"latent_dim": 4, "base_channels": 8}
    assert args["train_overrides"]["batch_size"] == 16 and args["steps"] == 50


def test_an_export_leaves_out_only_what_the_command_line_would_use_anyway():
    from genlib.pipeline import train_settings

    settings = train_settings("gan", "quick")              # what the Train page starts with
    cfg = export_training("gan", "quick", "shapes", (3, 32, 32), overrides={}, settings=settings)
    assert cfg["steps"] == settings["steps"] and cfg["color"] == "rgb" and cfg["image_size"] == 32
    # the app's previews and checkpoints differ from the loop's defaults, so they are written down
    assert cfg["train_settings"]["preview_every"] == settings["preview_every"]
    assert "batch_size" not in cfg["train_settings"] and cfg["model_settings"] == {}
