"""Two strangers on one hosted server (GENLIB_HOSTED=1), in two real browser contexts: a copied
address gives nothing away, a refresh keeps one's own work, runs stay private until published."""
import re

import pytest
from harness import click_button, open_page, wait_for_app

pytestmark = pytest.mark.browser


def _visitor(browser, url):
    page = browser.new_context().new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    wait_for_app(page)
    return page


def _start_training(page):
    click_button(page, "Train a digit generator")
    page.get_by_role("heading", name="Train a generator").wait_for()
    page.get_by_text(re.compile(r"step [\d,]+ of [\d,]+")).first.wait_for(timeout=120_000)


def _stop_training(page):
    page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"Stopped at step|Finished after")).first.wait_for(timeout=120_000)


def test_a_copied_address_gives_nothing_and_a_refresh_keeps_ones_own_work(hosted_server, browser):
    url, data = hosted_server
    a = _visitor(browser, url)
    _start_training(a)
    assert "sid=" not in a.url                       # nothing about A travels with the address
    assert any(c["name"] == "genlib_visitor" for c in a.context.cookies())

    b = _visitor(browser, a.url)                     # B opens A's exact address
    b.get_by_text("No data loaded yet.").wait_for()
    side = b.get_by_test_id("stSidebar")
    assert side.get_by_text("GAN on digits (quick)").count() == 0
    assert side.get_by_role("button", name="Stop").count() == 0
    assert b.get_by_test_id("stMain").get_by_role("button", name="Stop").count() == 0
    open_page(b, "Runs")
    b.get_by_text("No saved runs yet").wait_for()

    a.reload()                                       # A's refresh: the cookie brings A's job back
    wait_for_app(a)
    a.get_by_role("heading", name="GAN on digits (quick)").wait_for(timeout=60_000)
    _stop_training(a)
    open_page(a, "Runs")
    a.get_by_text(re.compile(r"gan-digits")).first.wait_for()

    open_page(b, "Runs")                             # A's saved run is still not B's to see
    b.get_by_text("No saved runs yet").wait_for()
    open_page(b, "Sample")
    b.get_by_text("No trained model yet").wait_for()
    visitors = [p for p in (data / "visitors").iterdir() if p.is_dir()]
    assert len(visitors) == 2                        # one workspace each


def test_publishing_shares_a_read_only_copy(hosted_server, browser):
    url, _ = hosted_server
    a = _visitor(browser, url)
    _start_training(a)
    _stop_training(a)
    open_page(a, "Runs")
    a.get_by_text("Publish to the gallery").click()
    a.get_by_label("Title").fill("Digits by A")
    click_button(a, "Publish")
    a.get_by_text(re.compile("Published as “Digits by A”")).wait_for()

    b = _visitor(browser, url)
    open_page(b, "Sample")
    b.get_by_role("button", name="Download the grid (PNG)").wait_for()     # B can sample it
    b.get_by_text("From the gallery: “Digits by A”", exact=False).wait_for()
    open_page(b, "Runs")                                                  # …but not manage it
    b.get_by_text("No saved runs yet").wait_for()
