"""A real server and a real Chromium for tests marked @pytest.mark.browser."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import start_server, stop_server  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the real app in Chromium (needs /usr/bin/chromium)")


@pytest.fixture
def server(tmp_path):
    """`streamlit run app.py` on a free port with its own runs folder; killed afterwards."""
    runs = tmp_path / "runs"
    runs.mkdir()
    proc, url = start_server(runs)
    yield url
    stop_server(proc)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
