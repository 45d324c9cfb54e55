"""Data page: built-in datasets, uploads (file_uploader filled by AppTest), health card, corrections."""
import io
import zipfile

import numpy as np
from PIL import Image

from apphelpers import goto, no_exceptions, texts


def _png(colour, size=20) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_builtin_image_dataset_shows_report_preview_and_sidebar(app):
    goto(app, "data")
    app.selectbox(key="builtin").set_value("digits")
    app.button(key="load-builtin").click().run()
    no_exceptions(app)
    assert app.header[0].value == "Images: digits"
    assert "used **1,797** images" in texts(app)
    assert len(app.image) == 1                        # the preview grid
    assert "digits: 1,797 pictures, 16×16 pixels, grey" in texts(app)   # the sidebar says what is loaded


def test_builtin_sample_series_shows_frequency_and_repairs(app):
    goto(app, "data")
    app.selectbox(key="builtin").set_value("co2")
    app.button(key="load-builtin").click().run()
    no_exceptions(app)
    assert app.header[0].value == "Series: co2"
    words = texts(app)
    assert "Repaired: Filled 5 missing values" in words
    assert "co2: 1 series, monthly" in words and "frequency MS" not in words
    assert len(app.get("plotly_chart")) == 1


def test_upload_npz_images(app):
    goto(app, "data")
    app.radio(key="source").set_value("Images (ZIP, NPZ)").run()
    buf = io.BytesIO()
    np.savez(buf, images=np.random.default_rng(0).integers(0, 255, (20, 28, 28), dtype=np.uint8),
             labels=np.arange(20) % 2)
    app.file_uploader(key="upload-images").set_value(("tiny.npz", buf.getvalue(), "application/octet-stream"))
    app.run()
    no_exceptions(app)
    data = app.session_state["images"]
    assert app.header[0].value == "Images: tiny"
    assert len(data) == 20 and data.shape == (1, 28, 28) and data.num_classes == 2


def test_upload_zip_reports_what_was_skipped_and_corrections_reload(app):
    goto(app, "data")
    app.radio(key="source").set_value("Images (ZIP, NPZ)").run()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(6):
            zf.writestr(f"red/{i}.png", _png((200, 20, 20)))
            zf.writestr(f"blue/{i}.png", _png((20, 20, 200)))
        zf.writestr("blue/broken.png", b"not a png at all")
    app.file_uploader(key="upload-images").upload("colours.zip", buf.getvalue(), "application/zip").run()
    no_exceptions(app)
    assert "used **12** images" in texts(app)
    assert any("Skipped 1" in e.label for e in app.expander)
    assert app.session_state["images"].shape == (3, 16, 16)
    form = app.get("form")[0]
    form.selectbox[0].set_value(32)
    form.selectbox[1].set_value("gray")
    form.button[0].click()
    app.run()
    no_exceptions(app)
    assert app.session_state["images"].shape == (1, 32, 32)


def test_upload_csv_with_semicolons_and_decimal_commas(app):
    goto(app, "data")
    app.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    csv = "Datum;Umsatz\n" + "".join(f"{d:02d}.03.2024;{1000 + d},{d % 10}\n" for d in range(1, 29))
    app.file_uploader(key="upload-series").set_value(("verkauf.csv", csv.encode(), "text/csv")).run()
    no_exceptions(app)
    series = app.session_state["series"]
    assert series.freq == "D" and series.guesses["decimal"] == ","
    assert series.df["y"].iloc[0] == 1001.1
    assert "decimal comma" in texts(app)


def test_a_pivot_tables_grand_total_is_left_out_and_the_page_says_so(app):
    goto(app, "data")
    app.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    rows = {"Bikes": [27 + m for m in range(12)], "Locks": [12 + 2 * m for m in range(12)],
            "Helmets": [50 - m for m in range(12)]}
    rows["Grand Total"] = [sum(v) for v in zip(*rows.values())]
    csv = "Sum of Sales,Column Labels\nRow Labels," + ",".join(months) + "\n" + "".join(
        f"{k}," + ",".join(map(str, v)) + "\n" for k, v in rows.items())
    app.file_uploader(key="upload-series").set_value(("pivot.csv", csv.encode(), "text/csv")).run()
    no_exceptions(app)
    assert sorted(app.session_state["series"].df["unique_id"].unique()) == ["Bikes", "Helmets", "Locks"]
    assert "Left out 'Grand Total': it adds up the other series" in texts(app)
    assert "upload a file with that series alone" in texts(app)


def test_a_quarterly_series_among_monthly_ones_is_left_out_and_the_page_says_what_to_do(app):
    goto(app, "data")
    app.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    rows = [f"sales,2020-{m:02d}-01,{100 + m}" for m in range(1, 13)] + \
           [f"costs,2020-{m:02d}-01,{50 + m}" for m in range(1, 13)] + \
           [f"gdp,2020-{m:02d}-01,{500 + m}" for m in (1, 4, 7, 10)] + [f"gdp,2021-{m:02d}-01,{520 + m}" for m in (1, 4)]
    csv = "series,date,value\n" + "\n".join(rows) + "\n"
    app.file_uploader(key="upload-series").set_value(("mixed.csv", csv.encode(), "text/csv")).run()
    no_exceptions(app)
    assert sorted(app.session_state["series"].df["unique_id"].unique()) == ["costs", "sales"]
    assert "Left out 'gdp': its values are quarterly, the others' monthly" in texts(app)
    assert "choose that frequency for this file" in texts(app)


def test_a_bad_upload_is_explained_not_raised(app):
    goto(app, "data")
    app.radio(key="source").set_value("Images (ZIP, NPZ)").run()
    app.file_uploader(key="upload-images").set_value(("photos.zip", b"this is not a zip", "application/zip")).run()
    assert not app.exception
    assert app.error and "photos.zip" in app.error[0].value
    assert app.session_state["images"] is None if "images" in app.session_state else True


def test_series_corrections_reload_with_a_chosen_frequency(app):
    goto(app, "data")
    app.selectbox(key="builtin").set_value("co2")
    app.button(key="load-builtin").click().run()
    form = app.get("form")[0]
    form.selectbox[1].set_value("QS")                         # frequency: quarterly
    form.button[0].click()
    app.run()
    no_exceptions(app)
    series = app.session_state["series"]
    assert series.freq == "QS" and len(series.df) < 200        # months averaged into quarters
    assert "co2: 1 series, quarterly" in texts(app)
