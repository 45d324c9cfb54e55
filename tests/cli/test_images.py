"""python -m genlib: datasets, train, sample, runs; errors are one line and exit code 2."""
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
