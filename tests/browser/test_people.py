"""People who do not program, in a real browser on `streamlit run app.py`, with their data built
here: an analyst with an Excel workbook (three monthly series, German dates, blanks), a teacher
with a ZIP of coloured shapes in three folders, someone who makes every mistake, and a café
owner whose sales fall on public holidays.
Each test asserts what the person sees: plain words (no code names, no raw column names), the
sidebar on every page, a forecast whatever the length of the series, resume refusing other data.
"""
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from harness import click_button, open_page, wait_for_app
from PIL import Image, ImageDraw

pytestmark = pytest.mark.browser

TABLE = "A table of time series (CSV, Excel, Parquet)"
IMAGES = "Images (ZIP, NPZ)"
# what a person must never read: code names of models and settings, raw columns, pandas aliases
CODE = re.compile(r"\b(seasonal_naive|unique_id|MAE_rel|RMSSE|lo-80|hi-80|n_critic|grad_clip|"
                  r"preview_n|lr|dayfirst|frequency MS|W-SUN)\b")


def sidebar_is_there(page) -> None:
    """The sidebar's device line and data summary, whatever the page did (stopped early or not)."""
    side = page.get_by_test_id("stSidebar")
    side.get_by_text("Device").first.wait_for(timeout=60_000)
    side.get_by_text(re.compile(r"Images ·|Series ·|No data loaded yet")).first.wait_for()


def no_code_words(page) -> None:
    words = page.get_by_test_id("stMain").inner_text() + page.get_by_test_id("stSidebar").inner_text()
    found = CODE.findall(words)
    assert not found, f"code-form words on screen: {found}"


def upload(page, kind: str, path) -> None:
    open_page(page, "Data")
    page.get_by_text(kind).click()
    wait_for_app(page)
    page.locator("input[type='file']").set_input_files(str(path))
    wait_for_app(page)


def workbook(path) -> None:
    """Three monthly series of 48 months, dates written the German way, a few cells left blank."""
    months = pd.date_range("2021-01-01", periods=48, freq="MS")
    t = np.arange(48)
    table = pd.DataFrame({"Monat": [d.strftime("%d.%m.%Y") for d in months]})
    for k, shop in enumerate(["Köln", "Bonn", "Aachen"]):
        values = 200 + 40 * k + 25 * np.sin(2 * np.pi * t / 12) + 1.5 * t
        table[f"Umsatz {shop}"] = np.round(values, 1)
    table.loc[[5, 17, 30], "Umsatz Bonn"] = np.nan                 # blanks
    table.to_excel(path, index=False, sheet_name="Umsätze")


def shapes_zip(path, per_class: int = 30) -> None:
    """A teacher's ZIP: circles, squares and triangles in three folders, coloured, 40×40 pixels."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as zf:
        for shape in ("circles", "squares", "triangles"):
            for i in range(per_class):
                img = Image.new("RGB", (40, 40), tuple(int(c) for c in rng.integers(200, 256, 3)))
                draw = ImageDraw.Draw(img)
                colour = tuple(int(c) for c in rng.integers(0, 160, 3))
                x, y, r = (int(v) for v in rng.integers(14, 26, 3))
                r = r // 2
                if shape == "circles":
                    draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
                elif shape == "squares":
                    draw.rectangle([x - r, y - r, x + r, y + r], fill=colour)
                else:
                    draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=colour)
                buf = io.BytesIO()
                img.save(buf, "PNG")
                zf.writestr(f"shapes/{shape}/{i:03d}.png", buf.getvalue())


def test_an_analyst_forecasts_a_workbook_and_reads_the_scores(server, page, tmp_path):
    book = tmp_path / "Umsatz 2021-2024.xlsx"
    workbook(book)
    page.goto(server)
    wait_for_app(page)
    sidebar_is_there(page)
    upload(page, TABLE, book)
    main = page.get_by_test_id("stMain")
    page.get_by_role("heading", name=re.compile("Series: Umsatz")).wait_for(timeout=60_000)
    main.get_by_text(re.compile("monthly")).first.wait_for()
    page.get_by_test_id("stSidebar").get_by_text(re.compile(r"3 series, monthly")).wait_for()
    no_code_words(page)

    open_page(page, "Forecast")
    sidebar_is_there(page)
    click_button(page, "Forecast")
    main.get_by_text("Error compared with the simple baseline").first.wait_for(timeout=300_000)
    # the table is drawn on a canvas; its column headers are there for screen readers
    main.locator("th", has_text="How often the 80 % band held").first.wait_for(state="attached")
    main.get_by_text("All series").first.wait_for()                 # scores for all series, labelled
    main.get_by_text("What auto chose:").wait_for()
    no_code_words(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the forecast (CSV)").click()
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0] == "model,series,date,forecast,low 80 %,high 80 %,low 95 %,high 95 %"
    assert len(lines) == 1 + 3 * 12                                # a year for each shop
    assert all(len(v.split(".")[-1]) <= 4 for v in lines[1].split(",")[3:])   # rounded


def test_a_teacher_trains_on_her_shapes_and_resume_refuses_other_pictures(server, page, tmp_path):
    archive = tmp_path / "shapes.zip"
    shapes_zip(archive)
    page.goto(server)
    wait_for_app(page)
    upload(page, IMAGES, archive)
    main = page.get_by_test_id("stMain")
    page.get_by_role("heading", name="Images: shapes").wait_for(timeout=60_000)
    for shape in ("circles", "squares", "triangles"):               # every class in the preview
        main.get_by_text(re.compile(shape)).first.wait_for()
    sidebar_is_there(page)

    open_page(page, "Train")
    main.get_by_text(re.compile(r"Expected time: about")).wait_for(timeout=180_000)
    assert "shapes" in main.inner_text() and "digits" not in main.inner_text()
    no_code_words(page)
    click_button(page, "Start training")
    main.get_by_text(re.compile(r"Preparing…|step [\d,]+ of [\d,]+")).first.wait_for(timeout=120_000)
    main.get_by_text(re.compile(r"step [\d,]+ of [\d,]+")).first.wait_for(timeout=180_000)
    main.get_by_role("button", name="Stop").click()
    main.get_by_text(re.compile(r"Stopped at step|Finished after")).first.wait_for(timeout=120_000)

    open_page(page, "Data")                                         # now other pictures are loaded
    page.get_by_text("Built-in dataset").click()
    wait_for_app(page)
    click_button(page, "Load")
    page.get_by_role("heading", name=re.compile("Images: (mnist|digits)")).wait_for(timeout=60_000)
    open_page(page, "Runs")
    sidebar_is_there(page)
    click_button(page, "Resume training")
    warning = main.get_by_text(re.compile("Load the data this run was trained on"))
    warning.wait_for(timeout=60_000)
    said = warning.inner_text()
    assert "shapes" in said and "90 pictures" in said and "are not the same pictures" in said
    assert page.get_by_test_id("stSidebar").get_by_text(re.compile(r"step [\d,]+ of")).count() == 0


def test_someone_who_makes_every_mistake_still_gets_a_forecast(server, page, tmp_path):
    page.goto(server)
    wait_for_app(page)
    open_page(page, "Forecast")                        # before any data: the page stops early …
    page.get_by_text("Load a table of time series on the Data page first").wait_for()
    sidebar_is_there(page)                             # … and the sidebar is still there

    word = tmp_path / "sales.csv"                      # a Word file renamed to .csv
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType='
                    '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                    '</Types>')
        zf.writestr("word/document.xml", "<doc/>")
    word.write_bytes(buf.getvalue())
    upload(page, TABLE, word)
    main = page.get_by_test_id("stMain")
    error = main.get_by_text(re.compile("is a Word document, not a table"))
    error.wait_for(timeout=60_000)
    assert "ZIP" not in error.inner_text()
    sidebar_is_there(page)

    five = tmp_path / "five.csv"                       # then a table of only five rows
    five.write_text("month,sales\n" + "".join(f"2024-{m:02d}-01,{10 + m}\n" for m in range(1, 6)))
    page.locator("input[type='file']").set_input_files(str(five))
    wait_for_app(page)
    main.get_by_text(re.compile("This series has 5 values: too few to test")).wait_for(timeout=60_000)
    open_page(page, "Forecast")
    click_button(page, "Forecast")
    page.get_by_test_id("stPlotlyChart").first.wait_for(timeout=300_000)   # a forecast, not an error
    main.get_by_text(re.compile("too short to test the models")).first.wait_for()
    no_code_words(page)

    shops = tmp_path / "shops.csv"                     # a panel where some series are short
    rows = [f"{shop},{d.date()},{50 + 3 * k + (i % 7)}" for k, (shop, n) in
            enumerate({"north": 150, "south": 150, "east": 60, "west": 12}.items())
            for i, d in enumerate(pd.date_range(end="2024-12-29", periods=n, freq="W-SUN"))]
    shops.write_text("shop,week,sales\n" + "\n".join(rows) + "\n")
    upload(page, TABLE, shops)
    main.get_by_text(re.compile(r"Of 4 series, with the Forecast page's settings")).wait_for(timeout=60_000)
    open_page(page, "Forecast")
    click_button(page, "Forecast")
    main.get_by_text("Error compared with the simple baseline").first.wait_for(timeout=300_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the forecast (CSV)").click()
    table = pd.read_csv(download.value.path())
    assert set(table["series"]) == {"north", "south", "east", "west"}     # every shop forecast


def test_a_cafe_owner_forecasts_christmas_with_her_countrys_holidays(server, page, tmp_path):
    from genlib.forecast.calendar import holiday_dates

    closed = holiday_dates("DE", range(2022, 2025))      # the café sells little on public holidays
    days = pd.date_range("2022-01-03", "2024-12-10", freq="D")
    rng = np.random.default_rng(3)
    cups = (120 * (1 + 0.5 * (days.day_of_week >= 5)) * np.where([d in closed for d in days.date], 0.3, 1)
            * np.exp(rng.normal(0, 0.05, len(days))))
    path = tmp_path / "Kaffee.csv"
    path.write_text("Datum;Tassen\n" + "".join(f"{d:%d.%m.%Y};{c:.0f}\n" for d, c in zip(days, cups)))
    page.goto(server)
    wait_for_app(page)
    upload(page, TABLE, path)
    main = page.get_by_test_id("stMain")
    main.get_by_text(re.compile("daily")).first.wait_for(timeout=60_000)
    open_page(page, "Forecast")
    main.get_by_label("Horizon (steps ahead)").fill("28")          # four weeks: past Christmas
    box = main.get_by_test_id("stSelectbox").filter(has_text="Public holidays of")
    assert "None: treat holidays like other days" in box.inner_html()        # the default
    box.click()
    page.keyboard.type("Germany")
    page.get_by_role("option", name="Germany (DE)", exact=True).click()
    wait_for_app(page)
    click_button(page, "Forecast")
    note = main.get_by_text(re.compile(r"Public holidays \(Germany\): on its \d+ holiday days"))
    note.wait_for(timeout=300_000)
    said = note.inner_text()
    assert re.search(r"on average (6[5-9]|7[0-5]) % lower", said), said     # 70 % lower, in words
    assert "Christmas Day (25 Dec 2024)" in said
    no_code_words(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the forecast (CSV)").click()
    table = pd.read_csv(download.value.path()).set_index("date")["forecast"]
    assert table["2024-12-25"] < 0.5 * table["2024-12-18"]          # Christmas, a Wednesday: lower
