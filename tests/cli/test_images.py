"""python -m genlib: datasets, train, sample, bundle, runs; errors are one line and exit code 2."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from genlib.cli import main

from tests.conftest import ROOT


def run_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "genlib", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, **kw)


def test_datasets_lists_the_builtins(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("mnist", "digits", "shapes"):
        assert name in out


def test_train_then_sample_png_and_npz(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "vae", "--data", "digits", "--steps", "3", "--device", "cpu",
                 "--out", str(run)]) == 0
    assert (run / "samples.png").exists()
    assert main(["sample", "--run", str(run), "--n", "5", "--seed", "1", "--out", str(tmp_path / "a.npz")]) == 0
    assert main(["sample", "--run", str(run), "--n", "5", "--seed", "1", "--out", str(tmp_path / "b.npz")]) == 0
    a, b = np.load(tmp_path / "a.npz")["images"], np.load(tmp_path / "b.npz")["images"]
    assert a.dtype == np.float32 and a.shape[0] == 5 and a.ndim == 4
    assert 0 <= a.min() and a.max() <= 1 and np.array_equal(a, b)
    assert main(["sample", "--run", str(run), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert main(["runs", "--root", str(tmp_path)]) == 0
    assert "vae" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["sample", "--run", "/nonexistent/run", "--out", "x.png"], "no run folder"),
    (["train", "--model", "gan", "--data", "no-such-dataset"], "digits"),
    (["sample", "--run", ".", "--out", "x.png"], "not a genlib run"),
    (["sample", "--run", "/nonexistent/shared.zip", "--out", "x.png"], "no bundle file"),
    (["sample", "--run", "README.md", "--out", "x.png"], "not a ZIP"),
])
def test_errors_are_one_line_and_exit_2(args, words):
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_help_reads_well():
    result = run_cli("train", "--help")
    assert result.returncode == 0 and "Examples:" in result.stdout and "--resume" in result.stdout
    assert run_cli("--help").stdout.count("python -m genlib") >= 3


# ---- bundles ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A VAE trained 3 steps on the built-in digits by the command line."""
    run = tmp_path_factory.mktemp("cli-bundle") / "vae-run"
    assert main(["train", "--model", "vae", "--data", "digits", "--steps", "3", "--device", "cpu",
                 "--out", str(run)]) == 0
    return run


def test_bundle_writes_one_file_and_says_what_it_holds(trained, tmp_path, capsys):
    from genlib.bundle import is_bundle

    out = tmp_path / "vae.zip"
    assert main(["bundle", "--run", str(trained), "--out", str(out), "--public"]) == 0
    printed = capsys.readouterr().out
    assert is_bundle(out) and sorted(p.name for p in tmp_path.iterdir()) == ["vae.zip"]
    for words in ("a vae trained for 3 steps", "model.safetensors", "card.json", "cannot be resumed",
                  "Public:", f"sample --run {out}"):
        assert words in printed, words
    assert "optimizer.safetensors" not in printed
    assert main(["bundle", "--run", str(trained), "--out", str(tmp_path / "r.zip"), "--with-optimizer"]) == 0
    printed = capsys.readouterr().out
    assert "optimizer.safetensors" in printed and f"train --resume {tmp_path / 'r.zip'}" in printed


def test_sample_from_a_bundle_gives_the_run_folders_images(trained, tmp_path, capsys):
    bundle = tmp_path / "vae.zip"
    assert main(["bundle", "--run", str(trained), "--out", str(bundle)]) == 0
    for source, name in ((trained, "a.npz"), (bundle, "b.npz"), (bundle, "c.npz")):    # c: from the cache
        assert main(["sample", "--run", str(source), "--n", "6", "--seed", "3", "--out", str(tmp_path / name)]) == 0
    a, b, c = (np.load(tmp_path / n)["images"] for n in ("a.npz", "b.npz", "c.npz"))
    assert np.array_equal(a, b) and np.array_equal(a, c) and a.shape[0] == 6
    assert "from vae (vae.zip)" in capsys.readouterr().out


def test_train_resumes_a_bundle_with_its_optimizer_in_a_new_run_folder(trained, tmp_path, capsys):
    from genlib.runs import list_runs, load_run

    bundle = tmp_path / "vae-opt.zip"
    assert main(["bundle", "--run", str(trained), "--out", str(bundle), "--with-optimizer"]) == 0
    before = bundle.read_bytes()
    assert main(["train", "--resume", str(bundle), "--steps", "5", "--device", "cpu"]) == 0
    runs = list_runs()                                            # GENLIB_RUNS_DIR (tests/conftest.py)
    assert len(runs) == 1 and runs[0].steps == 5 and "vae-opt" in runs[0].name
    assert f"into {runs[0].dir}" in capsys.readouterr().out
    assert load_run(trained).card["steps"] == 3 and bundle.read_bytes() == before
    out = tmp_path / "here"
    assert main(["train", "--resume", str(bundle), "--steps", "4", "--device", "cpu", "--out", str(out)]) == 0
    assert load_run(out).card["steps"] == 4


def test_train_refuses_a_bundle_without_the_optimizer_and_leaves_no_folder(trained, tmp_path):
    bundle = tmp_path / "vae.zip"
    assert main(["bundle", "--run", str(trained), "--out", str(bundle)]) == 0
    result = run_cli("train", "--resume", str(bundle), "--steps", "5", "--device", "cpu")  # runs: tmp_path/runs
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--with-optimizer" in lines[0], result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("case, words", [
    ("traversal", "folder or path"), ("checksum mismatch", "checksum"), ("zip bomb", "ZIP bomb"),
    ("pickle as weights", "does not load"), ("wrong format", "another format"),
])
def test_hostile_bundles_end_in_one_error_line(trained, tmp_path, case, words):
    from genlib.bundle import write_bundle

    from tests.test_bundle import forge

    bad = tmp_path / "shared.zip"
    bad.write_bytes(forge(write_bundle(trained, include_optimizer=True), case, tmp_path))
    for args in (["sample", "--run", str(bad), "--out", str(tmp_path / "x.png")],
                 ["train", "--resume", str(bad), "--steps", "5", "--device", "cpu"]):
        result = run_cli(*args)                     # its runs folder: tmp_path/runs (tests/conftest.py)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "unpickled").exists()
    assert not any(p for p in (tmp_path / "runs").rglob("*") if p.is_file())
