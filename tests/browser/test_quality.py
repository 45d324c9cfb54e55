"""Is it good, and is it copying? A person trains digits and reads the answer where they look."""
import re

import pytest
from harness import click_button, open_page, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.scoring]     # the end-of-training score stays on
VERDICT = re.compile(r"(Very close to|Close to|Recognisable but clearly different from|Far from) "
                     r"your pictures")
RAW = re.compile(r"\b(fid|fid_real|kid|copies_pixels|nll|bpd|json)\b")


def test_a_trained_generator_says_how_close_it_comes_and_shows_its_nearest_copies(server, page):
    page.goto(server)
    wait_for_app(page)
    click_button(page, "Train a digit generator")
    main = page.get_by_test_id("stMain")
    main.get_by_text(re.compile(r"step [\d,]+ of [\d,]+")).first.wait_for(timeout=120_000)
    main.get_by_text(re.compile("Samples from fixed noise at step")).wait_for(timeout=180_000)
    main.get_by_role("button", name="Stop").click()
    # stopped: the model so far is saved, then scored on 500 samples in the background
    main.get_by_text(re.compile(r"Quality: .* from 500 samples")).wait_for(timeout=240_000)
    main.get_by_text(VERDICT).first.wait_for()
    assert not RAW.findall(main.inner_text())

    click_button(page, "See its quality in full (Runs page)")
    page.get_by_role("heading", name="Runs").wait_for(timeout=60_000)
    main.get_by_text("Quality", exact=True).wait_for(timeout=60_000)
    main.get_by_text(VERDICT).first.wait_for()
    main.get_by_text(re.compile(r"Measured on 500 of its pictures after [\d,]+ steps")).wait_for()
    for header in ("What", "Score", "What it means"):                 # the score table's columns
        main.locator("th", has_text=header).first.wait_for(state="attached")
    main.get_by_text(re.compile("above the training picture most like it")).first.wait_for()
    assert main.get_by_role("img").count() >= 2                      # samples and the nearest pairs
    main.get_by_role("button", name=re.compile(r"Measure again \(2,000 samples\)")).wait_for()
    assert not RAW.findall(main.inner_text())

    open_page(page, "Sample")
    main.get_by_text("Is it copying your pictures?").wait_for(timeout=60_000)
    main.get_by_text(re.compile(r"near-cop", re.I)).first.wait_for()
    main.get_by_text(re.compile("above the training picture most like it")).first.wait_for()
