"""Shared test setup: small thread counts (CI has 2 cores), the shared data folder, a runs folder per test."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# One thread: CI has 2 shared cores, and these models are too small to gain from more.
torch.set_num_threads(1)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (real public datasets); tests that need it skip on a user's machine."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not here (it only exists on the project's own machines)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    """Every test saves runs in its own temporary folder, never in ./runs."""
    monkeypatch.setenv("GENLIB_RUNS_DIR", str(tmp_path / "runs"))


def pytest_configure(config):
    config.addinivalue_line("markers", "scoring: keeps the quality score at the end of trainings on")


@pytest.fixture(autouse=True)
def _no_score_after_training(request, monkeypatch):
    """Trainings end without their quality score (GENLIB_SCORE=0): it trains a feature network per
    dataset and test folder, minutes in all. Tests marked `scoring` keep it on."""
    if request.node.get_closest_marker("scoring") is None:
        monkeypatch.setenv("GENLIB_SCORE", "0")


@pytest.fixture
def browser():
    """Debian's Chromium through Playwright (tests/browser/harness.py); CI requires it."""
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from harness import CHROMIUM, launch

    if not Path(CHROMIUM).exists():
        if os.environ.get("GENLIB_REQUIRE_BROWSER") == "1":          # CI: a missing browser fails
            pytest.fail("GENLIB_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
