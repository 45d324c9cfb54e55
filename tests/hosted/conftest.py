"""A real hosted server (GENLIB_HOSTED=1) and a real Chromium for the hosted-mode tests."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "browser"))
from harness import CHROMIUM, launch, start_server, stop_server  # noqa: E402

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


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("GENLIB_REQUIRE_BROWSER") == "1":          # CI: a missing browser fails
            pytest.fail("GENLIB_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
