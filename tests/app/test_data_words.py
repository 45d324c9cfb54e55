"""The Data page in plain words: wrong files named with what to do, short series warned about,
frequencies in words, a preview of every class."""
import io
import zipfile

import pandas as pd
from PIL import Image

from apphelpers import goto, no_exceptions, texts

TABLE = "A table of time series (CSV, Excel, Parquet)"


def upload_table(app, name: str, csv: str) -> str:
    """Upload `csv` as a table of series on the Data page; the words the page then shows."""
    goto(app, "data")
    app.radio(key="source").set_value(TABLE).run()
    app.file_uploader(key="upload-series").set_value((name, csv.encode(), "text/csv")).run()
    no_exceptions(app)
    return texts(app)


def skipped_rows(app) -> list[dict]:
    """The rows of the health report's "Skipped (and why)" table."""
    return next(pd.DataFrame(d.value) for d in app.dataframe if "reason" in pd.DataFrame(d.value).columns) \
        .to_dict("records")


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType="'
                    'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("docProps/app.xml", "<Properties/>")
    return buf.getvalue()


def test_a_word_file_renamed_to_csv_is_named_with_what_to_do(app):
    goto(app, "data")
    app.radio(key="source").set_value(TABLE).run()
    app.file_uploader(key="upload-series").set_value(("sales.csv", _docx(), "text/csv")).run()
    assert not app.exception
    message = app.error[0].value
    assert "sales.csv is a Word document, not a table" in message and "save it as .xlsx or .csv" in message
    assert "ZIP" not in message


def test_word_and_pdf_files_reach_genlib_instead_of_being_refused_by_the_browser(app):
    goto(app, "data")
    app.radio(key="source").set_value(TABLE).run()
    app.file_uploader(key="upload-series").set_value(("report.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")).run()
    assert "report.pdf is a PDF document, not a table" in app.error[0].value
    app.radio(key="source").set_value("Images (ZIP, NPZ)").run()
    app.file_uploader(key="upload-images").set_value(("letter.docx", _docx(), "application/msword")).run()
    assert any("letter.docx is a Word document, not images" in e.value for e in app.error)


def test_a_five_row_table_gets_a_warning_that_says_what_will_happen(app):
    goto(app, "data")
    app.radio(key="source").set_value(TABLE).run()
    csv = "Monat;Umsatz\n" + "".join(f"01.{m:02d}.2024;{m},5\n" for m in range(1, 6))
    app.file_uploader(key="upload-series").set_value(("tiny.csv", csv.encode(), "text/csv")).run()
    no_exceptions(app)
    note = " ".join(w.value for w in app.info)
    assert "This series has 5 values: too few to test the models on the past" in note
    assert "It will still get a forecast." in note


def test_the_series_report_and_the_frequency_are_in_plain_words(app):
    goto(app, "data")
    app.selectbox(key="builtin").set_value("co2")
    app.button(key="load-builtin").click().run()
    no_exceptions(app)
    words = texts(app)
    assert "frequency: monthly" in words and "length: 526 values" in words
    assert "('MS')" not in words and "length median" not in words
    assert not app.warning                                            # long enough for a backtest
    freq = app.selectbox(key="freq")
    assert freq.value == "MS" and "monthly" in freq.options and "quarterly" in freq.options
    assert "MS" not in freq.options and "W-SUN" not in freq.options     # aliases are the values only
    assert app.get("form")[0].multiselect[0].label == "Value column(s)"


def _png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (24, 24), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_the_preview_shows_every_class_with_its_name(app):
    goto(app, "data")
    app.radio(key="source").set_value("Images (ZIP, NPZ)").run()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for cls, colour, n in [("circles", (200, 20, 20), 70), ("squares", (20, 200, 20), 5),
                               ("triangles", (20, 20, 200), 5)]:
            for i in range(n):
                zf.writestr(f"shapes/{cls}/{i}.png", _png(colour))
    app.file_uploader(key="upload-images").set_value(("shapes.zip", buf.getvalue(), "application/zip")).run()
    no_exceptions(app)
    preview = app.image[0]
    assert preview.captions == ["circles (70 images)", "squares (5 images)", "triangles (5 images)"]
    assert "A few images of each of the 3 classes" in texts(app)


def test_a_year_by_month_table_is_one_monthly_series_and_stays_one_on_reload(app):
    """A statistics-office table (a row per year, a column per month, an annual total) reads as
    one monthly series; correcting the guesses without changing them keeps it so."""
    months = "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec"
    rows = [f"{y}," + ",".join(str(100 + 12 * (y - 1949) + m) for m in range(12)) + ",0" for y in range(1949, 1955)]
    words = upload_table(app, "passengers.csv", f"Year,{months},Total\n" + "\n".join(rows) + "\n")
    assert "passengers: 1 series, monthly" in words
    assert "a row per year ('Year') and a column per month ('Jan' … 'Dec')" in words
    assert "length: 72 values" in words and "from: 1949-01-01" in words
    app.get("form")[0].button[0].click()
    app.run()
    no_exceptions(app)
    assert app.session_state["series"].freq == "MS" and len(app.session_state["series"].df) == 72


def test_the_m3_workbook_layout_is_dated_from_each_rows_start_and_stays_so_on_reload(app):
    """One series per row with its start in two columns and its values in columns numbered 1, 2,
    3, …: dated monthly series; the counts beside them (N, NF) are named as left out."""
    head = "Series,N,NF,Category,Starting Year,Starting Month," + ",".join(str(i) for i in range(1, 31))
    rows = [f"N{k},{30 - 4 * k},18,MICRO,{1990 + k},{3 * k + 1}," + ",".join(str(100 + i) for i in range(30 - 4 * k))
            + "," * (4 * k) for k in range(3)]
    words = upload_table(app, "m3 monthly.csv", head + "\n" + "\n".join(rows) + "\n")
    assert "m3 monthly: 3 series, monthly" in words
    assert "each row starts at the date in 'Starting Year' and 'Starting Month' and goes on a month a column" in words
    assert "date column: Starting Year + Starting Month" in words and "from: 1990-01-01" in words
    assert {"item": "column 'N'", "reason": "not a time step (the values run through the columns numbered '1' … "
            "'30')"} in skipped_rows(app)
    app.get("form")[0].button[0].click()
    app.run()
    no_exceptions(app)
    series = app.session_state["series"]
    assert series.freq == "MS" and series.df.groupby("unique_id")["ds"].first()["N2"] == pd.Timestamp("1992-07-01")


def test_a_store_file_names_its_flags_and_forecasts_one_when_chosen(app):
    """Rossmann's columns: Sales and Customers per store are the series; DayOfWeek and the 0/1
    flags are named with why they were left out, and the Data page offers them: choosing Promo
    under "Value column(s)" forecasts it."""
    rows = [f"{s},{d.isoweekday()},{d.date()},{5000 + 37 * k % 900},{500 + 7 * k % 90},{k % 2},{int(k % 7 == 0)}"
            for k, d in enumerate(pd.date_range("2015-01-01", periods=60)) for s in (1, 2)]
    words = upload_table(app, "train.csv", "Store,DayOfWeek,Date,Sales,Customers,Promo,SchoolHoliday\n"
                         + "\n".join(rows) + "\n")
    assert "train: 4 series, daily" in words
    reasons = {r["item"]: r["reason"] for r in skipped_rows(app)}
    assert reasons["column 'DayOfWeek'"] == "the day of the week of the dates in 'Date', not a measurement"
    assert reasons["column 'Promo'"].startswith("0/1 flags (such as open or on promotion)")
    values = next(m for m in app.get("form")[0].multiselect if m.label == "Value column(s)")
    assert {"Promo", "SchoolHoliday", "DayOfWeek"} <= set(values.options)
    values.set_value(["Promo"])
    app.get("form")[0].button[0].click()
    app.run()
    no_exceptions(app)
    assert set(app.session_state["series"].df["unique_id"]) == {"1", "2"}


def choose_daily_except_sundays(app) -> None:
    """On a file read as daily, choose "daily except Sundays" in the frequency box and apply it."""
    freq = app.selectbox(key="freq")
    assert freq.value == "D" and "daily except Sundays" in freq.options
    freq.set_value("C-MON-TUE-WED-THU-FRI-SAT")
    app.get("form")[0].button[0].click()
    app.run()
    no_exceptions(app)


def test_a_shop_that_writes_0_on_closed_sundays_can_choose_daily_except_sundays(app):
    ds = pd.date_range("2023-01-02", periods=280, freq="D")
    sales = [0.0 if d.day_of_week == 6 else 100.0 + d.day_of_week * 10 for d in ds]
    upload_table(app, "shop.csv", "date,sales\n" + "".join(f"{d:%Y-%m-%d},{v}\n" for d, v in zip(ds, sales)))
    choose_daily_except_sundays(app)
    words = texts(app)
    assert "Left out 40 rows on Sundays (the frequency is daily except Sundays" in words
    assert app.selectbox(key="freq").value == "C-MON-TUE-WED-THU-FRI-SAT"
    series = app.session_state["series"]
    assert len(series.df) == 240 and (pd.DatetimeIndex(series.df["ds"]).day_of_week != 6).all()


def test_shops_closed_on_sundays_beside_one_that_opens_are_named_and_the_way_out_works(app):
    """Two shops never open on Sundays, the station shop does: the page says whose Sundays were
    filled in and offers "daily except Sundays", which then leaves the station's Sunday rows out."""
    rows = [f"{d:%Y-%m-%d},{shop},{100 + 10 * d.day_of_week + i}\n"
            for i, shop in enumerate(["north", "south", "station"])
            for d in pd.date_range("2024-01-01", periods=84, freq="D")
            if shop == "station" or d.day_of_week != 6]
    words = upload_table(app, "shops.csv", "date,store,sales\n" + "".join(rows))
    assert ("2 of 3 series never have a value on Sundays (e.g. 'north', 'south'), but 1 other does "
            "(e.g. 'station')") in words
    choose_daily_except_sundays(app)
    assert "never have a value on Sundays" not in texts(app)
    series = app.session_state["series"]
    assert (pd.DatetimeIndex(series.df["ds"]).day_of_week != 6).all() and series.n_series == 3


def _orders(n_days: int = 30) -> tuple[str, pd.DataFrame]:
    """A shop's order export: one row per order at its own time, several a day."""
    rng = __import__("numpy").random.default_rng(4)
    times = pd.Timestamp("2024-03-01 08:00") + pd.to_timedelta(sorted(rng.uniform(0, n_days * 86400, 8 * n_days)),
                                                                unit="s")
    orders = pd.DataFrame({"Created at": times.floor("s"), "Total": rng.integers(10, 90, len(times)).astype(float)})
    csv = "Name,Created at,Total\n" + "".join(f"#{1000 + i},{t:%Y-%m-%d %H:%M:%S},{v:.2f}\n"
                                              for i, (t, v) in enumerate(orders.itertuples(index=False)))
    return csv, orders


def test_an_order_export_is_read_as_daily_totals_and_can_be_averaged_instead(app):
    """One row per order at irregular times: read as daily totals (the column is named like an
    amount), said in words with where to change it; "averaged" then gives each day's mean order."""
    csv, orders = _orders()
    words = upload_table(app, "orders_export.csv", csv)
    day = orders.groupby(orders["Created at"].dt.normalize())["Total"]
    series = app.session_state["series"]
    assert series.freq == "D" and series.df["y"].tolist() == day.sum().tolist()
    assert "'Total' looks like amounts or counts" in words and "were added up" in words
    assert "read as daily totals" in words and "choose “averaged” under “Values in one period” below" in words
    assert "combine=" not in words and "freq=" not in words                   # no Python on the page
    box = app.selectbox(key="combine")
    assert box.value == "sum" and box.options == ["averaged", "added up"]
    box.set_value("mean")
    app.get("form")[0].button[0].click()
    app.run()
    no_exceptions(app)
    series = app.session_state["series"]
    assert series.df["y"].round(6).tolist() == day.mean().round(6).tolist()
    words = texts(app)
    assert "Moved 240 dates onto the daily grid" in words and "averaged 240 values that landed together" in words


def test_a_refused_table_can_be_read_again_with_a_frequency_chosen_on_the_page(app):
    """Dates between the steps: the loader refuses the file; the page says why in its own words
    (no Python), keeps the file, and offers the frequency, which reads it."""
    csv = ("time,visits\n2024-01-01 00:00,1\n2024-01-02 00:00,2\n2024-01-03 00:00,3\n2024-01-03 12:00,4\n"
           "2024-01-04 00:00,5\n2024-01-05 00:00,6\n")
    goto(app, "data")
    app.radio(key="source").set_value(TABLE).run()
    app.file_uploader(key="upload-series").set_value(("visits.csv", csv.encode(), "text/csv")).run()
    assert not app.exception
    assert "Series: visits.csv (not loaded)" in texts(app)
    error = " ".join(e.value for e in app.error)
    assert "the dates are not evenly spaced" in error and "under “Frequency” below" in error
    assert "freq=" not in error and "combine=" not in error
    assert app.session_state["series"] is None if "series" in app.session_state else True
    app.run()                                                    # a rerun reads nothing again, still says why
    assert len(app.error) == 1 and "not evenly spaced" in app.error[0].value
    app.selectbox(key="freq").set_value("D")
    app.get("form")[0].button[0].click()
    app.run()
    no_exceptions(app)
    series = app.session_state["series"]
    assert series.freq == "D" and series.df["y"].tolist() == [1, 2, 3.5, 5, 6]
    assert "not loaded" not in texts(app) and "Series: visits" in texts(app)


def test_an_empty_file_uploaded_as_a_table_gets_no_form(app):
    goto(app, "data")
    app.radio(key="source").set_value(TABLE).run()
    app.file_uploader(key="upload-series").set_value(("photo.csv", b"", "text/csv")).run()
    assert not app.exception and not app.get("form")
    assert app.error[0].value == "photo.csv is empty: there are no columns or rows to read."


def test_a_json_answer_of_a_web_api_loads_with_where_its_rows_were(app):
    """CoinGecko's market chart: [time in ms, value] pairs under three keys, joined on their times."""
    import json
    t0 = 1704067200000
    doc = {k: [[t0 + i * 86_400_000, base + i] for i in range(40)] for k, base in (("prices", 42000.0),
                                                                                 ("total_volumes", 2e10))}
    words = upload_table(app, "bitcoin.json", json.dumps(doc))
    assert 'Read the 40 rows under "prices", "total_volumes" in bitcoin.json.' in words
    assert "frequency: daily" in words and "Unix times in milliseconds" in words
    assert app.session_state["series"].n_series == 2
