"""Helpers for the AppTest tests: navigate, read the page, wait for a background job."""
from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 120          # seconds per script run: generous, CI has 2 shared cores


def goto(at: AppTest, page: str) -> AppTest:
    """Open app_pages/<page>.py as if chosen in the sidebar."""
    return at.switch_page(f"app_pages/{page}.py").run()


def texts(at: AppTest) -> str:
    """Everything a person reads on the page (markdown, captions, alerts, titles), as one string."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning",
                 "error"):
        parts += [str(el.value) for el in getattr(at, kind)]
    parts += [str(el.value) for el in at.sidebar.markdown] + [str(el.value) for el in at.sidebar.caption]
    return "\n".join(parts)


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def poll(at: AppTest, predicate, timeout: float = 120, every: float = 0.5) -> AppTest:
    """Rerun the page (what the fragment's run_every does in a browser) until predicate(at)."""
    end = time.time() + timeout
    while True:
        at.run()
        if predicate(at):
            return at
        if time.time() > end:
            raise AssertionError(f"timed out; page says:\n{texts(at)}")
        time.sleep(every)


def job_of(at: AppTest, kind: str | None = None):
    from genlib.jobs import REGISTRY
    return REGISTRY.latest(at.session_state["owner"], kind)
