"""`pip install .` gives a working `genlib` command with every sub-package and the shipped data."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_pip_install_gives_a_working_genlib_command(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT)], check=True, capture_output=True, timeout=300,
                   cwd=tmp_path)
    for part in ("cli/__init__.py", "cli/forecast.py", "data/series/__init__.py",
                 "data/images/__init__.py", "data/mnist/t10k-images-idx3-ubyte.gz", "pipeline.py"):
        assert (target / "genlib" / part).is_file(), part
    env = {**os.environ, "PYTHONPATH": str(target)}
    # run from an empty folder, so the installed copy (not this checkout) is what answers
    out = subprocess.run([str(target / "bin" / "genlib"), "datasets"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "mnist" in out.stdout and "digits" in out.stdout
    where = subprocess.run([sys.executable, "-c", "import genlib; print(genlib.__file__)"], env=env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert where.stdout.strip().startswith(str(target)), where.stdout
