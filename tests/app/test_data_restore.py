"""A refresh keeps the loaded data: a new session of the same browser (the same ?sid= on one's own
machine, the same visitor id on a hosted server) loads again what it loaded last, with its
corrections; another browser never gets it."""
from __future__ import annotations

import io
import uuid

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import APP, TIMEOUT, goto, no_exceptions, texts


def _workbook() -> bytes:
    """The analyst's workbook: three monthly series, German dates written as text, some blanks."""
    months = pd.date_range("2019-01-01", periods=60, freq="MS")
    frame = pd.DataFrame({"Monat": [d.strftime("%d.%m.%Y") for d in months],
                          "Nord": [100.0 + i for i in range(60)],
                          "Süd": [200.0 + 2 * i if i % 7 else None for i in range(60)],
                          "West": [50.0 + i % 12 for i in range(60)]})
    buf = io.BytesIO()
    frame.to_excel(buf, index=False, sheet_name="Umsatz")
    return buf.getvalue()


def _refresh(sid: str | None = None, owner: str | None = None) -> AppTest:
    """A new session of a browser: its address (one's own machine) or its visitor id (hosted)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if sid is not None:
        at.query_params["sid"] = sid
    if owner is not None:
        at.session_state["owner"] = owner          # what the signed cookie gives on a hosted server
    return at.run()


def _load_workbook_and_digits(at: AppTest) -> None:
    goto(at, "data")
    at.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    at.file_uploader(key="upload-series").set_value(("umsatz.xlsx", _workbook(), "application/vnd.ms-excel")).run()
    no_exceptions(at)
    assert at.session_state["series"].n_series == 3
    form = at.get("form")[0]
    form.multiselect[0].set_value(["Nord", "West"])          # a correction: two of the three series
    form.button[0].click()
    at.run()
    no_exceptions(at)
    assert at.session_state["series"].n_series == 2
    at.radio(key="source").set_value("Built-in dataset").run()
    at.selectbox(key="builtin").set_value("digits")
    at.button(key="load-builtin").click().run()
    assert at.session_state["images"].name == "digits"


def test_a_refresh_loads_the_data_again_and_another_browser_gets_nothing(app):
    _load_workbook_and_digits(app)
    sid = app.session_state["owner"]

    again = _refresh(sid=sid)                                  # the same address, a new session
    assert again.session_state["owner"] == sid
    no_exceptions(again)
    series, images = again.session_state["series"], again.session_state["images"]
    assert series.name == "umsatz" and sorted(series.df["unique_id"].unique()) == ["Nord", "West"]
    assert series.freq == "MS" and images.name == "digits" and len(images) == 1_797
    assert any("Reloaded umsatz from your last visit" in t.value for t in again.toast)
    goto(again, "train")                                       # the Train page can start again
    no_exceptions(again)
    assert "Load images first" not in texts(again)
    assert "digits: 1,797" in "\n".join(m.value for m in again.sidebar.markdown)

    stranger = _refresh()                                      # another browser
    assert stranger.session_state["owner"] != sid
    assert "No data loaded yet." in texts(stranger)
    other = _refresh(sid=uuid.uuid4().hex)                     # an address with another id
    goto(other, "data")
    assert "Nothing loaded yet" in texts(other)
    assert other.session_state["images"] is None if "images" in other.session_state else True


def test_the_last_upload_is_the_one_kept(app, tmp_path):
    """On one's own machine only the last upload of each kind stays on disk."""
    goto(app, "data")
    app.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    for days in (20, 30):
        csv = "date,sales\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, days + 1))
        app.file_uploader(key="upload-series").set_value((f"s{days}.csv", csv.encode(), "text/csv")).run()
        no_exceptions(app)
    uploads = list((tmp_path / "visitors" / app.session_state["owner"] / "uploads").iterdir())
    assert len(uploads) == 1 and uploads[0].read_bytes().count(b"\n") == 31
    again = _refresh(sid=app.session_state["owner"])
    assert again.session_state["series"].name == "s30" and len(again.session_state["series"].df) == 30


def test_a_refresh_on_a_hosted_server_reloads_the_visitors_own_upload(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    monkeypatch.setenv("GENLIB_SECRET", "test-secret-not-for-production")
    monkeypatch.setenv("GENLIB_DATA_DIR", str(tmp_path / "data"))
    first = _refresh()
    _load_workbook_and_digits(first)
    visitor = first.session_state["owner"]
    assert "bytes" not in first.session_state["series_source"]        # kept on disk, not in memory

    again = _refresh(owner=visitor)                                   # the cookie brings the id back
    no_exceptions(again)
    assert sorted(again.session_state["series"].df["unique_id"].unique()) == ["Nord", "West"]
    assert again.session_state["images"].name == "digits"
    assert _refresh().session_state.get("series") is None             # a new visitor: nothing


def test_a_record_that_names_a_missing_upload_is_ignored(app, tmp_path):
    goto(app, "data")
    app.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    csv = "date,sales\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 29))
    app.file_uploader(key="upload-series").set_value(("gone.csv", csv.encode(), "text/csv")).run()
    for f in (tmp_path / "visitors" / app.session_state["owner"] / "uploads").iterdir():
        f.unlink()                                                    # expired meanwhile
    again = _refresh(sid=app.session_state["owner"])
    no_exceptions(again)
    assert again.session_state.get("series") is None if "series" in again.session_state else True
    goto(again, "data")
    assert "Nothing loaded yet" in texts(again)


@pytest.mark.parametrize("page", ["forecast", "data"])
def test_a_refreshed_sample_series_comes_back_on_any_page(app, page):
    goto(app, "data")
    app.selectbox(key="builtin").set_value("co2")
    app.button(key="load-builtin").click().run()
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)
    again.query_params["sid"] = app.session_state["owner"]
    again.switch_page(f"app_pages/{page}.py").run()
    no_exceptions(again)
    assert again.session_state["series"].name == "co2"
