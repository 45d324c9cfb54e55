"""The main journeys in a real browser: the two one-click starts, and an awkward CSV upload."""
import re

import pytest
from harness import click_button, open_page, wait_for_app

pytestmark = pytest.mark.browser


def test_train_a_digit_generator_from_home_then_refresh_finds_the_job(server, page):
    page.goto(server)
    page.get_by_text("CPU — training will be slower").or_(page.get_by_text("GPU:")).first.wait_for()
    click_button(page, "Train a digit generator")
    page.get_by_role("heading", name="Train a generator").wait_for()
    page.get_by_text(re.compile(r"step [\d,]+ of [\d,]+")).first.wait_for(timeout=120_000)
    page.get_by_text(re.compile("Samples from fixed noise at step")).wait_for(timeout=180_000)
    assert "sid=" in page.url

    page.reload()                                           # a refresh finds the running job again
    wait_for_app(page)
    page.get_by_role("heading", name="GAN on digits (quick)").wait_for(timeout=60_000)
    page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"Stopped at step|Finished after")).first.wait_for(timeout=120_000)
    page.get_by_role("button", name="Resume training").wait_for()


def test_forecast_a_sample_series_from_home_and_download(server, page):
    page.goto(server)
    wait_for_app(page)
    click_button(page, "Forecast a sample series")
    page.get_by_role("heading", name="Forecast").wait_for()
    page.get_by_text("What auto chose:").wait_for(timeout=240_000)
    page.get_by_test_id("stPlotlyChart").first.wait_for()       # the forecast chart
    # the score table is drawn on a canvas; its column headers are there for screen readers
    page.locator("th", has_text="Error compared with the simple baseline").first.wait_for(state="attached")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the forecast (CSV)").click()
    text = open(download.value.path()).read()
    assert text.splitlines()[0].startswith("model,series,date,forecast,low 80 %,high 80 %,low 95 %,high 95 %")
    assert len(text.splitlines()) == 13                          # header + a year of months


def test_upload_a_csv_with_semicolons_and_decimal_commas(server, page, tmp_path):
    csv = tmp_path / "umsatz.csv"
    rows = "".join(f"{d:02d}.03.2024;{1200 + 3 * d},{d % 10}5\n" for d in range(1, 31))
    csv.write_text("Datum;Umsatz (€)\n" + rows, encoding="utf-8")
    page.goto(server)
    wait_for_app(page)
    open_page(page, "Data")
    page.get_by_text("A table of time series (CSV, Excel, Parquet)").click()
    page.locator("input[type='file']").set_input_files(str(csv))
    page.get_by_role("heading", name="Series: umsatz").wait_for(timeout=60_000)
    main = page.get_by_test_id("stMain")
    main.get_by_text("Numbers use a decimal comma").wait_for()
    assert main.get_by_text("Frequency: daily, inferred from the dates.").is_visible()
    page.get_by_test_id("stPlotlyChart").first.wait_for()
    assert page.get_by_test_id("stPlotlyChart").count() == 1
    side = page.get_by_test_id("stSidebar")
    side.get_by_text(re.compile(r"umsatz: 1 series, daily")).wait_for()


def test_two_browsers_never_see_each_others_data(server, browser):
    first, second = (browser.new_context().new_page() for _ in range(2))
    first.goto(server)
    wait_for_app(first)
    open_page(first, "Data")
    click_button(first, "Load")
    first.get_by_role("heading", name=re.compile("Images: mnist")).wait_for(timeout=60_000)
    second.goto(server)
    second.get_by_text("No data loaded yet.").wait_for()          # the other browser has nothing
    second.wait_for_url(re.compile("sid="))
    assert first.url.split("sid=")[1] != second.url.split("sid=")[1]
    first.get_by_test_id("stSidebar").get_by_text(re.compile("mnist: 10,000 pictures")).wait_for()
