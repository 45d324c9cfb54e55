"""python -m genlib evaluate and genlib.evaluate: scores that order runs the way they should, on
every family, from a folder or a bundle, and a clear error when the data cannot be found."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from genlib import pipeline
from genlib.bundle import write_bundle
from genlib.cli import main
from genlib.data import load_builtin, load_dataset
from genlib.errors import GenlibError
from genlib.evaluate import compare, evaluate_run
from genlib.features import inception_extractor

KEYS = ("fid", "fid_real", "kid", "kid_std", "precision", "recall", "density", "coverage", "copies",
        "copies_pixels", "class_coverage", "extractor", "n", "seconds", "held_out", "nearest")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """One runs folder for the module: the feature network trains once and is reused."""
    return tmp_path_factory.mktemp("evaluate")


@pytest.fixture(autouse=True)
def _shared_runs_dir(root, monkeypatch):
    monkeypatch.setenv("GENLIB_RUNS_DIR", str(root))


@pytest.fixture(scope="module")
def digits():
    return load_builtin("digits")


@pytest.fixture(scope="module")
def runs(root, digits):
    """Tiny runs on the whole digits set (so the evaluation finds the data by itself)."""
    plan = {"vae": ("vae", 300), "vae-30": ("vae", 30), "vae-1": ("vae", 1), "gan": ("gan", 2), "pixelcnn": ("pixelcnn", 2)}
    return {name: pipeline.train_model(family, digits, steps=steps, device="cpu",
                                       out_dir=root / name).run_dir
            for name, (family, steps) in plan.items()}


def evaluate_json(capsys, *args) -> dict:
    assert main(["evaluate", *map(str, args), "--device", "cpu", "--json"]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1                      # exactly one JSON object
    return json.loads(out)


def test_fid_orders_real_trained_partly_trained_untrained_and_noise(runs, digits):
    """More training, lower FID; noise far above any run that learned something. (An untrained VAE
    draws flat gray pictures, which these features place even further from digits than noise.)"""
    trained = evaluate_run(runs["vae"], n=500, device="cpu")
    partly = evaluate_run(runs["vae-30"], n=500, device="cpu")
    untrained = evaluate_run(runs["vae-1"], n=500, device="cpu")
    noise = compare(torch.rand(500, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1, digits)
    assert trained["fid_real"] == untrained["fid_real"] == noise["fid_real"]
    fids = [trained["fid_real"], trained["fid"], partly["fid"], untrained["fid"]]
    assert fids == sorted(fids) and partly["fid"] < noise["fid"], (fids, noise["fid"])
    assert trained["kid"] < partly["kid"] < noise["kid"]
    assert trained["precision"] > noise["precision"]
    assert trained["class_agreement"] > 0.5 > untrained["class_agreement"]   # it draws the asked digit
    assert trained["nll"] < partly["nll"] < untrained["nll"]


@pytest.mark.parametrize("name, likelihood", [("gan", None), ("vae", "nll"), ("pixelcnn", "bpd")])
def test_evaluate_json_on_every_family(runs, capsys, name, likelihood):
    result = evaluate_json(capsys, "--run", runs[name], "--n", 60, "--seed", 1)
    for key in KEYS:
        assert key in result, key
    for key in ("fid", "fid_real", "kid", "precision", "recall", "density", "coverage", "copies"):
        assert isinstance(result[key], (int, float)) and math.isfinite(result[key]), key
    assert 0 <= result["precision"] <= 1 and 0 <= result["copies"] <= 1
    assert result["n"] == 60 and result["seed"] == 1 and result["family"] == runs[name].name.split("-")[0]
    assert result["extractor"] == "digits classifier (genlib, trained on this data)"
    assert "1,438 of the 1,797" in result["held_out"] and "trained on all" in result["held_out"]
    pair = result["nearest"][0]
    assert 0 <= pair["sample"] < 60 and 0 <= pair["image"] < 1797
    for key in ("nll", "bpd"):
        assert (key in result) == (key == likelihood), key
    if likelihood:
        assert result[likelihood] > 0 and math.isfinite(result[likelihood])


def test_the_table_reads_in_words(runs, capsys):
    assert main(["evaluate", "--run", str(runs["vae"]), "--n", "40", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "FID (lower is better)" in out and "(real vs real: " in out and "−log p(x)" in out
    assert "Precision" in out and "Copies" in out and "held-out accuracy" in out


def test_a_bundle_scores_like_its_folder(runs, tmp_path, capsys):
    bundle = write_bundle(runs["gan"], tmp_path / "gan.zip")
    from_folder = evaluate_json(capsys, "--run", runs["gan"], "--n", 50)
    from_bundle = evaluate_json(capsys, "--run", bundle, "--n", 50)
    assert from_bundle["fid"] == pytest.approx(from_folder["fid"])
    assert from_bundle["copies_pixels"] == from_folder["copies_pixels"]


def test_unknown_data_is_a_clear_error(root, capsys):
    subset = load_builtin("digits", n=300)
    run = pipeline.train_model("gan", subset, steps=1, device="cpu", out_dir=root / "subset").run_dir
    assert main(["evaluate", "--run", str(run), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot find the pictures this run was trained on") and "--data" in err
    # given the data, it works; given pictures of another size, it says which size it needs
    assert evaluate_run(run, data=subset, n=20, device="cpu")["train_count"] == 240
    with pytest.raises(GenlibError, match="image_size=16"):
        evaluate_run(run, data=load_builtin("mnist", n=200), n=20, device="cpu")
    assert main(["evaluate", "--run", str(run), "--n", "5"]) == 2
    assert "at least 10 samples" in capsys.readouterr().err


def test_pictures_without_labels_from_a_file(root, digits, tmp_path, capsys):
    """--data PATH; no labels: the features come from an autoencoder and no classes are counted."""
    path = tmp_path / "unlabelled.npz"
    np.savez(path, images=((digits.images[:600, 0] + 1) * 127.5).round().numpy().astype(np.uint8))
    data = load_dataset(path)
    assert data.labels is None and data.shape == (1, 16, 16)
    run = pipeline.train_model("gan", data, steps=2, device="cpu", out_dir=root / "unlabelled").run_dir
    result = evaluate_json(capsys, "--run", run, "--data", path, "--n", 40)
    assert result["extractor"] == "unlabelled autoencoder (genlib, trained on this data)"
    assert "class_coverage" not in result and result["train_count"] == 480 and math.isfinite(result["fid"])


def test_inception_is_refused_in_words_when_absent(runs, capsys):
    if inception_extractor() is not None:
        pytest.skip("Inception-v3 is installed here")
    assert main(["evaluate", "--run", str(runs["gan"]), "--n", "20", "--features", "inception"]) == 2
    assert "Inception-v3 needs torchvision" in capsys.readouterr().err
