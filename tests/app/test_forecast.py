"""Forecast page: guard, a classic forecast made in the page, plain scores, short series that
still get forecasts, a neural forecast as a job."""
import re

from apphelpers import goto, job_of, no_exceptions, poll, texts

CODE_NAMES = re.compile(r"\b(seasonal_naive|window_average|neural_ar|neural_gru)\b|AR\(\d")
PLAIN_COLUMNS = ["Model", "Error compared with the simple baseline", "How often the 80 % band held",
                 "How often the 95 % band held", "Seconds"]


def _co2(app):
    goto(app, "forecast")
    assert "Load a table of time series" in texts(app)
    app.button(key="use-co2").click().run()
    no_exceptions(app)


def test_forecast_with_auto_shows_bands_explanation_backtest_and_download(app):
    _co2(app)
    assert not [b for b in app.selectbox if b.key == "holidays"]   # monthly: no public holidays
    form = app.get("form")[0]
    form.number_input[0].set_value(6)
    form.button[0].click()
    app.run()
    no_exceptions(app)
    result = app.session_state["forecast_result"]
    fc = result["forecasts"]["auto"]
    assert len(fc) == 6 and list(fc.columns[:3]) == ["unique_id", "ds", "mean"]
    assert (fc["lo-95"] <= fc["lo-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()
    assert "What auto chose" in texts(app)
    scores = result["scores"]
    assert "seasonal_naive" in str(scores) and any(c.endswith("_rel") for c in scores.columns)
    assert len(app.get("plotly_chart")) == 2
    buttons = [b.label for b in app.get("download_button")]
    assert buttons == ["Download the forecast (CSV)", "Download for a program (raw CSV)"]
    table = app.dataframe[0].value
    assert table.columns.tolist() == PLAIN_COLUMNS
    assert table["Model"].tolist() == ["Automatic choice", "Seasonal naive"]
    assert "Scores for all series together" in texts(app)
    assert "Data: **co2** — 1 series, monthly" in texts(app)
    assert not CODE_NAMES.search(texts(app) + table.to_string()), CODE_NAMES.search(texts(app))


def _upload(app, csv: str, name: str = "shops.csv"):
    goto(app, "data")
    app.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    app.file_uploader(key="upload-series").set_value((name, csv.encode(), "text/csv")).run()
    no_exceptions(app)
    goto(app, "forecast")


def _forecast_auto(app, h: int):
    """On the Forecast page: the automatic choice `h` steps ahead; its forecast table."""
    form = app.get("form")[0]
    form.number_input[0].set_value(h)
    form.button[0].click()
    app.run()
    no_exceptions(app)
    return app.session_state["forecast_result"]["forecasts"]["auto"]


def test_a_five_row_table_gets_a_forecast_and_says_why_it_was_not_tested(app):
    _upload(app, "month,sales\n" + "".join(f"2024-0{m}-01,{10 + m * 1.5}\n" for m in range(1, 6)))
    app.get("form")[0].button[0].click()
    app.run()
    no_exceptions(app)
    result = app.session_state["forecast_result"]
    assert len(result["forecasts"]["auto"]) >= 1
    assert "too short to test the models" in texts(app) and "more values needed" in texts(app)
    assert len(app.get("plotly_chart")) == 1


def test_many_series_some_short_all_forecast_scores_for_all_and_for_one(app):
    import pandas as pd

    rows = []
    # monthly, 6 steps: a test needs 13 + 6 values; south affords 2 of 3, east and west none, and
    # west is even too short for seasonal naive itself (naive stands in)
    for shop, n in (("north", 60), ("south", 30), ("east", 15), ("west", 8)):
        for i, d in enumerate(pd.date_range(end="2024-12-01", periods=n, freq="MS")):
            rows.append(f"{shop},{d:%Y-%m-%d},{100 + (i % 12) * 3 + i * 0.5}")
    _upload(app, "shop,month,sales\n" + "\n".join(rows) + "\n")
    form = app.get("form")[0]
    form.multiselect[0].set_value(["seasonal_naive", "window_average", "ar"])
    form.number_input[0].set_value(6)
    form.button[0].click()
    app.run()
    no_exceptions(app)
    result = app.session_state["forecast_result"]
    for fc in result["forecasts"].values():
        assert fc.groupby("unique_id").size().to_dict() == {"east": 6, "north": 6, "south": 6, "west": 6}
    assert app.radio(key="scores-for").options == ["All series", "east"]
    table = app.dataframe[0].value
    assert table.columns.tolist() == PLAIN_COLUMNS
    assert table["Model"].tolist() == ["Seasonal naive", "Window average", "Linear autoregression"]
    assert "1 shorter series on fewer stretches" in texts(app) and "2 series too short to test" in texts(app)
    assert "Not tested: too short to test the models: 4 more values needed" in texts(app)   # east's note
    assert result["tested"] == {"east": 0, "north": 3, "south": 2, "west": 0}
    app.radio(key="scores-for").set_value("east").run()
    assert "east was not tested" in texts(app) and "Scores for east" in texts(app)
    app.selectbox(key="show-id").set_value("north").run()
    app.radio(key="scores-for").set_value("north").run()
    assert app.dataframe[0].value["Model"].tolist() == table["Model"].tolist()
    assert not CODE_NAMES.search(texts(app)), CODE_NAMES.search(texts(app))
    chart = app.get("plotly_chart")[0].proto.spec
    assert '"Window average"' in chart and '"window_average"' not in chart


def test_public_holidays_of_a_country_move_the_forecast_and_say_how(app):
    import numpy as np
    import pandas as pd

    from genlib.forecast.calendar import holiday_dates

    holidays = holiday_dates("GB", range(2022, 2025))
    ds = pd.date_range("2022-01-03", "2024-12-10", freq="D")
    rng = np.random.default_rng(0)
    y = 80 * (1 + 0.4 * (ds.day_of_week >= 5)) * np.where([d in holidays for d in ds.date], 0.3, 1) \
        * np.exp(rng.normal(0, 0.05, len(ds)))
    _upload(app, "date,visitors\n" + "".join(f"{d:%Y-%m-%d},{v:.1f}\n" for d, v in zip(ds, y)))
    box = app.selectbox(key="holidays")
    assert box.label == "Public holidays of" and box.value is None
    assert "None: treat holidays like other days" in box.options and "United Kingdom (GB)" in box.options
    assert "United Kingdom: Scotland (GB-SCT)" in box.options     # regions whose holidays differ
    box.set_value("GB")
    form = app.get("form")[0]
    form.number_input[0].set_value(28)
    form.button[0].click()
    app.run()
    no_exceptions(app)
    result = app.session_state["forecast_result"]
    assert result["holidays"] == "GB"
    fc = result["forecasts"]["auto"].set_index("ds")["mean"]
    assert fc["2024-12-25"] < 0.5 * fc["2024-12-18"]              # Christmas Day, a Wednesday
    said = texts(app)
    assert "Public holidays (United Kingdom): on its" in said and "% lower than on the same days" in said
    assert "Christmas Day (25 Dec 2024), Boxing Day (26 Dec 2024) and New Year's Day (1 Jan 2025)" in said
    chart = app.get("plotly_chart")[0].proto.spec                # stars on the holidays shown
    assert '"public holiday"' in chart and "Christmas Day" in chart and "Boxing Day" in chart


def test_several_models_and_levels(app):
    _co2(app)
    form = app.get("form")[0]
    form.multiselect[0].set_value(["seasonal_naive", "ets"])
    form.multiselect[1].set_value([50, 90])
    form.button[0].click()
    app.run()
    no_exceptions(app)
    result = app.session_state["forecast_result"]
    assert set(result["forecasts"]) == {"seasonal_naive", "ets"}
    assert {"lo-50", "hi-90"} <= set(result["forecasts"]["ets"].columns)


def test_a_chosen_models_bands_are_calibrated_and_the_page_says_how(app):
    """Theta's own bands are scaled to hold 80 % on co2's past; the page says how its own held."""
    _co2(app)
    form = app.get("form")[0]
    form.multiselect[0].set_value(["theta"])
    form.number_input[0].set_value(12)
    form.button[0].click()
    app.run()
    no_exceptions(app)
    caption = next(t for t in (c.value for c in app.caption) if t.startswith("**Bands of Theta method:**"))
    held = re.search(r"own 80 % bands held (\d+) % of the values in its tests on the past \((\d+) stretches\), "
                     r"so they were (widened|narrowed) to hold 80 %\.", caption)
    assert held and int(held.group(2)) == 40, caption       # one series: 40 windows close together
    table = app.dataframe[0].value.set_index("Model")
    assert "%" in str(table.loc["Theta method", "How often the 80 % band held"])
    assert not CODE_NAMES.search(texts(app))


def test_a_neural_forecast_runs_as_a_background_job(app):
    _co2(app)
    form = app.get("form")[0]
    form.multiselect[0].set_value(["neural_ar"])
    form.number_input[0].set_value(6)
    form.number_input[2].set_value(100)                      # network training steps
    form.button[0].click()
    app.run()
    no_exceptions(app)
    job = job_of(app, "forecast")
    assert job is not None
    snap = job.wait(300)
    assert snap.status == "finished", snap.error
    poll(app, lambda at: "forecast_result" in at.session_state and at.get("plotly_chart"))
    assert len(app.session_state["forecast_result"]["forecasts"]["neural_ar"]) == 6
    no_exceptions(app)


def test_a_neural_forecast_can_be_stopped_and_still_forecasts(app):
    _co2(app)
    form = app.get("form")[0]
    form.multiselect[0].set_value(["neural_gru"])
    form.number_input[0].set_value(6)
    form.number_input[2].set_value(100_000)
    form.button[0].click()
    app.run()
    job = job_of(app, "forecast")
    poll(app, lambda at: job.snapshot().step > 0)
    app.button(key="stop-forecast").click().run()
    snap = job.wait(60)
    assert snap.status == "stopped" and snap.step < 100_000
    poll(app, lambda at: "forecast_result" in at.session_state)
    assert "Stopped at step" in texts(app)
    assert len(app.session_state["forecast_result"]["forecasts"]["neural_gru"]) == 6


def test_a_shop_closed_on_sundays_is_forecast_without_sundays(app):
    import numpy as np
    import pandas as pd

    ds = pd.date_range("2023-01-02", periods=300, freq="D")
    ds = ds[ds.day_of_week != 6]                                   # the file has no Sundays
    y = 200 * np.array([1.0, 0.9, 0.95, 1.05, 1.3, 1.6])[ds.day_of_week] \
        + np.random.default_rng(0).normal(0, 8, len(ds))
    _upload(app, "Date,Sales\n" + "".join(f"{d:%Y-%m-%d},{v:.1f}\n" for d, v in zip(ds, y)))
    assert "1 series, daily except Sundays" in texts(app)
    goto(app, "data")                                              # the Data page says why
    assert "the file has no Sundays, so the forecast skips them too" in texts(app)
    goto(app, "forecast")
    fc = _forecast_auto(app, 12)
    dates = pd.DatetimeIndex(fc["ds"])
    assert len(fc) == 12 and (dates.day_of_week != 6).all() and dates[-1] == pd.Timestamp("2023-11-11")
    assert "seasonal pattern every 6 open days" in texts(app)


def test_a_call_centre_open_from_nine_to_five_is_forecast_within_its_hours(app):
    import numpy as np
    import pandas as pd

    t = pd.date_range("2024-01-01", periods=24 * 7 * 8, freq="h")
    t = t[(t.hour >= 9) & (t.hour <= 17)]                           # the file has its opening hours only
    y = 10 * np.array([3, 5, 8, 9, 6, 7, 8, 6, 4.0])[t.hour - 9] + np.random.default_rng(0).normal(0, 2, len(t))
    _upload(app, "Time,Calls\n" + "".join(f"{d:%Y-%m-%d %H:%M},{v:.1f}\n" for d, v in zip(t, y)), "calls.csv")
    assert "1 series, hourly, 09:00 to 17:00" in texts(app)
    form = app.get("form")[0]
    assert form.number_input[0].value == 18                        # two days of open hours
    form.button[0].click()
    app.run()
    no_exceptions(app)
    fc = app.session_state["forecast_result"]["forecasts"]["auto"]
    dates = pd.DatetimeIndex(fc["ds"])
    assert len(fc) == 18 and dates.hour.min() == 9 and dates.hour.max() == 17
    assert dates[0] == pd.Timestamp("2024-02-26 09:00")            # the next morning, not 18:00
    assert "seasonal pattern every 9 open hours" in texts(app)


def test_an_order_export_is_forecast_as_daily_totals_never_below_zero(app):
    """One row per order at its own time, a quiet shop (some days without orders): the Forecast
    page forecasts daily totals, with bands that never go below 0 sales."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    times = pd.Timestamp("2024-01-01 08:00") + pd.to_timedelta(np.sort(rng.uniform(0, 120 * 86400, 240)), unit="s")
    csv = "Name,Created at,Total\n" + "".join(f"#{1000 + i},{t:%Y-%m-%d %H:%M:%S},{rng.uniform(5, 60):.2f}\n"
                                              for i, t in enumerate(times))
    _upload(app, csv, "orders_export.csv")
    assert "Data: **orders_export** — 1 series, daily" in texts(app)
    fc = _forecast_auto(app, 14)
    assert len(fc) == 14 and (fc.filter(like="lo-").to_numpy() >= 0).all() and (fc["mean"] > 0).all()
    assert len(app.get("plotly_chart")) >= 1
