"""AppTest helpers: the real app (app.py + app_pages/) driven headless, with real genlib underneath."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))
from apphelpers import APP, TIMEOUT  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models train several times faster on one thread when the cores are shared."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def app():
    """A fresh browser session on the home page. Jobs it starts are stopped afterwards."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    yield at
    from genlib.jobs import REGISTRY
    owner = at.session_state["owner"] if "owner" in at.session_state else None
    if owner:
        for job in REGISTRY.jobs(owner):
            job.stop()
            job.wait(60)


@pytest.fixture
def saved_run():
    """A real, tiny run saved in this test's runs folder (GENLIB_RUNS_DIR): a VAE on 64 digits."""
    from genlib.data import load_builtin
    from genlib.pipeline import train_model

    def make(family: str = "vae", steps: int = 3, n: int | None = 64):
        result = train_model(family, load_builtin("digits", n=n), steps=steps, device="cpu",
                             train_overrides={"preview_n": 16, "log_every": 1})
        assert result.state.status == "finished", result.state.error
        return result.run_dir
    return make
