"""A real hosted server (GENLIB_HOSTED=1) for the hosted-mode tests (the browser: tests/conftest.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "browser"))
from harness import start_server, stop_server  # noqa: E402

HOSTED_ENV = {"GENLIB_HOSTED": "1", "GENLIB_SECRET": "test-secret-not-for-production"}


@pytest.fixture
def hosted_server(tmp_path):
    """`streamlit run app.py` in hosted mode, with its own data folder; killed afterwards."""
    data = tmp_path / "data"
    (data / "runs").mkdir(parents=True)
    proc, url = start_server(data / "runs", env={**HOSTED_ENV, "GENLIB_DATA_DIR": str(data)},
                             args=("--client.showErrorDetails", "false"))
    yield url, data
    stop_server(proc)
