"""Screenshots of each page for the README: docs/home.png, data, train, forecast, sample, runs.

A plain script, run by hand (it is not a test):

    python tests/browser/screenshots.py            # needs /usr/bin/chromium; ~5 minutes on a CPU

It starts `streamlit run app.py` with a temporary runs folder, walks the two one-click journeys in
Chromium, and saves a picture of every page along the way.
"""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))      # genlib, when run as a script
from harness import ROOT, click_button, launch, open_page, start_server, stop_server, wait_for_app  # noqa: E402

DOCS = ROOT / "docs"
VIEWPORT = {"width": 1400, "height": 1300}


def pretrain(runs: Path) -> None:
    """A finished VAE run on the digits, so Sample and Runs show a trained model."""
    import os

    import torch

    os.environ["GENLIB_RUNS_DIR"] = str(runs)
    torch.set_num_threads(1)
    from genlib.data import load_builtin
    from genlib.pipeline import train_model

    result = train_model("vae", load_builtin("digits"), preset="quick", device="cpu",
                         train_overrides={"preview_n": 36})
    print(f"pre-trained {result.run_dir.name}: {result.state.status} after {result.state.step} steps")


# Streamlit scrolls inside the page, so a full-page shot is as tall as the window: one height
# per page, enough to show what matters.
HEIGHTS = {"home": 800, "data": 1550, "train": 1350, "forecast": 1950, "sample": 1500, "runs": 1500}


def shoot(page, name: str) -> None:
    page.set_viewport_size({"width": VIEWPORT["width"], "height": HEIGHTS[name]})
    wait_for_app(page)
    page.wait_for_timeout(2000)                    # let charts and images finish drawing
    path = DOCS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    DOCS.mkdir(exist_ok=True)
    runs = Path(tempfile.mkdtemp(prefix="genlib-shots-")) / "runs"
    runs.mkdir()
    pretrain(runs)
    proc, url = start_server(runs)
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(300_000)
            page.goto(url)
            page.get_by_role("button", name="Train a digit generator").wait_for()
            shoot(page, "home")

            click_button(page, "Forecast a sample series")
            page.get_by_text("What auto chose:").wait_for()
            page.locator("th", has_text="Error compared with the simple baseline").first.wait_for(
                state="attached")
            shoot(page, "forecast")

            open_page(page, "Home")
            click_button(page, "Train a digit generator")
            page.get_by_text(re.compile(r"Samples from fixed noise at step [1-9]\d\d\b")).wait_for(
                timeout=900_000)
            shoot(page, "train")
            page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
            page.get_by_text(re.compile("Stopped at step|Finished after")).first.wait_for()

            open_page(page, "Data")
            page.get_by_role("heading", name="Images: digits").wait_for()
            shoot(page, "data")

            open_page(page, "Sample")
            page.get_by_text("Walk between two seeds").wait_for()
            model = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").first
            model.click()
            page.get_by_role("option", name=re.compile("Saved: VAE on digits")).click()
            page.get_by_text(re.compile("VAE trained on digits")).wait_for()
            shoot(page, "sample")

            open_page(page, "Runs")
            page.get_by_text("Samples from the fixed seed").first.wait_for()
            page.get_by_role("tab", name="Compare two").click()
            page.get_by_text("Samples from the fixed seed").nth(2).wait_for()
            page.get_by_role("tab", name="One run").click()
            shoot(page, "runs")
            browser.close()
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
