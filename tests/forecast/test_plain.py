"""Plain words and no dead ends: the one short-series rule, the plain score table, the friendly
forecast table and the same model titles everywhere."""
import re

import numpy as np
import pandas as pd

from genlib import pipeline
from genlib.data import load_series
from genlib.forecast import plain
from genlib.forecast.registry import MODELS
from genlib.forecast.report import run_forecast
from genlib.plots import forecast_figure

CODE_NAMES = re.compile(r"\b(" + "|".join(n for n in MODELS if "_" in n) + r")\b|AR\(\d")


def weekly(lengths, seed=0):
    """Weekly seasonal series ending on the same Sunday, one per length (long layout)."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        y = 50 + 10 * k + 5 * np.sin(2 * np.pi * t / 52) + 0.1 * t + rng.normal(0, 1, n)
        parts.append(pd.DataFrame({"store": f"s{k}", "week": pd.date_range(end="2024-12-29", periods=n,
                                                                          freq="W-SUN"), "sales": y}))
    return load_series(pd.concat(parts, ignore_index=True))


def test_a_five_row_table_gets_a_forecast_and_the_reason_it_was_not_tested():
    five = load_series(pd.DataFrame({"month": pd.date_range("2024-01-01", periods=5, freq="MS"),
                                     "sales": [12.0, 15, 14, 18, 17]}))
    result = run_forecast(five, ["auto", "ets", "naive"], h=None, levels=(80, 95), windows=3)
    for name in ("auto", "ets", "naive"):
        fc = result["forecasts"][name]
        assert len(fc) == result["h"] >= 1 and np.isfinite(fc["mean"]).all()
    assert result["scores"] is None
    assert re.search(r"too short to test the models: \d+ more values needed", result["backtest_note"])
    uid = five.df["unique_id"].iloc[0]
    assert any("Exponential smoothing (ETS) needs at least 10 values" in n for n in result["notes"][uid])
    assert "too short to compare models" in result["explanations"][uid]
    assert plain.plain_scores(result).empty
    assert "too short" in plain.backtest_summary(result)


def test_a_panel_of_long_and_short_series_forecasts_every_series():
    # weekly: seasonal naive needs 53 values before a cutoff; with h = 20 and 3 windows of step
    # 20 a series needs 113 for all three, 93 for two, 73 for one; 30 is too short even to fit
    # seasonal naive
    series = weekly([150, 150, 95, 80, 60, 30])
    result = pipeline.forecast(series, ["seasonal_naive", "ar"], h=20, levels=(80, 95), windows=3)
    ids = sorted(series.df["unique_id"].unique())
    for fc in result["forecasts"].values():
        assert fc.groupby("unique_id").size().to_dict() == {uid: 20 for uid in ids}
    assert result["tested"] == {"s0": 3, "s1": 3, "s2": 2, "s3": 1, "s4": 0, "s5": 0}
    assert any("not tested: too short to test the models: 13 more values needed" in n.lower()
               for n in result["notes"]["s4"])
    assert any("Seasonal naive needs at least 53 values and this series has 30" in n
               for n in result["notes"]["s5"])
    assert not any("too short" in n for n in result["notes"].get("s0", []))
    summary = plain.backtest_summary(result)
    assert "shorter series on fewer stretches" in summary and "2 series too short to test" in summary
    # scores for all series together, and for one series alone
    together = plain.plain_scores(result)
    assert together.columns.tolist() == ["Model", "Error compared with the simple baseline",
                                         "How often the 80 % band held", "How often the 95 % band held",
                                         "Seconds"]
    assert together["Model"].tolist() == ["Seasonal naive", "Linear autoregression"]
    assert together.iloc[0, 1] == "the baseline"
    assert re.fullmatch(r"\d+ % (better|worse)|about the same", together.iloc[1, 1])
    assert all(re.fullmatch(r"\d+ %", v) for v in together.iloc[:, 2])
    alone = plain.plain_scores(result, "s3")
    assert alone.columns.tolist() == together.columns.tolist() and len(alone) == 2
    assert alone.iloc[1, 1] != together.iloc[1, 1] or alone.iloc[1, 2] != together.iloc[1, 2]
    assert plain.plain_scores(result, "s4").empty


def test_the_plain_error_is_the_ratio_to_seasonal_naive():
    series = weekly([150, 120])
    result = pipeline.forecast(series, ["naive", "ar"], h=8, levels=(80,), windows=2)
    scores = result["scores"].set_index("model")
    table = plain.plain_scores(result).set_index("Model")
    for name in ("naive", "ar"):
        assert table.loc[MODELS[name].title, plain.ERROR] == plain.better_or_worse(scores.loc[name, "MASE_rel"])
    assert table.loc["Naive", "How often the 80 % band held"] == f"{scores.loc['naive', 'coverage-80']:.0f} %"


def test_details_and_glossary_explain_every_column_with_titles():
    result = pipeline.forecast(weekly([150]), ["drift", "window_average"], h=6, windows=2)
    details = plain.detail_scores(result)
    assert details["model"].tolist() == ["Drift", "Window average", "Seasonal naive"]
    words = plain.glossary(details.columns)
    assert set(words) == set(details.columns)
    assert all(text != col and len(text) > 20 for col, text in words.items())
    mase = details["MASE"].iloc[0]
    assert mase == float(f"{mase:.3g}")


def test_friendly_csv_columns_rounding_and_the_raw_one():
    result = pipeline.forecast(weekly([150, 120]), ["seasonal_naive", "window_average"], h=4,
                               levels=(80, 95), windows=1)
    people = pd.read_csv(pd.io.common.BytesIO(pipeline.forecast_csv(result)))
    assert people.columns.tolist() == ["model", "series", "date", "forecast", "low 80 %", "high 80 %",
                                       "low 95 %", "high 95 %"]
    assert set(people["model"]) == {"Seasonal naive", "Window average"}
    for col in ["forecast", "low 80 %", "high 95 %"]:       # values 50–70: four significant digits
        assert all(round(v, 2) == v for v in people[col])
    raw = pd.read_csv(pd.io.common.BytesIO(pipeline.forecast_csv(result, raw=True)))
    assert raw.columns.tolist()[:4] == ["model", "unique_id", "ds", "mean"]
    assert set(raw["model"]) == {"seasonal_naive", "window_average"}
    assert np.allclose(people["forecast"], raw["mean"], atol=0.05)
    assert any(round(v, 2) != v for v in raw["mean"])
    assert plain.decimals_for([0.001234]) == 6 and plain.decimals_for([123456.0]) == 0


def test_model_titles_everywhere_no_code_names():
    series = weekly([150, 140])
    result = pipeline.forecast(series, ["auto", "seasonal_naive", "window_average"], h=8, windows=2)
    shown = " ".join([
        plain.plain_scores(result).to_string(), plain.detail_scores(result).to_string(),
        pipeline.forecast_csv(result).decode(), *result["explanations"].values(),
        *[n for notes in result["notes"].values() for n in notes]])
    assert not CODE_NAMES.search(shown), CODE_NAMES.search(shown)
    assert "Automatic choice" in shown and "Window average" in shown


def test_forecast_chart_one_legend_entry_per_model_bands_grouped():
    series = weekly([120])
    result = pipeline.forecast(series, ["naive", "drift", "seasonal_naive"], h=6, levels=(80, 95), windows=1)
    titled = {plain.title(m): fc for m, fc in result["forecasts"].items()}
    fig = forecast_figure(series.df, titled, "s0", levels=(80, 95), bands="Drift")
    in_legend = [t.name for t in fig.data if t.showlegend is not False]
    assert in_legend == ["history", "Naive", "Drift", "Seasonal naive"]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert [t.name for t in bands] == ["Drift 95%", "Drift 80%"]
    assert all(t.legendgroup == "Drift" and t.showlegend is False for t in bands)


def test_the_data_pages_note_tells_what_the_forecast_will_do():
    """One rule: the note shown on the Data page counts what run_forecast then does."""
    from genlib.forecast.report import short_series_note

    series = weekly([150, 150, 95, 80, 60, 30])
    note = short_series_note(series, models=["seasonal_naive", "ar"], h=20, windows=3)
    result = pipeline.forecast(series, ["seasonal_naive", "ar"], h=20, levels=(80,), windows=3)
    fewer = sum(0 < w < 3 for w in result["tested"].values())
    untested = sum(w == 0 for w in result["tested"].values())
    assert (fewer, untested) == (2, 2)
    assert note.startswith("Of 6 series, with the Forecast page's settings (a horizon of 20 weeks, "
                           "3 tests on the past): ")
    assert f"{fewer} will be tested on the past fewer than 3 times" in note
    assert f"{untested} are too short to be tested at all (a test of 20 weeks needs 73 values)" in note
    assert note.endswith("Every series still gets a forecast.")

    five = load_series(pd.DataFrame({"month": pd.date_range("2024-01-01", periods=5, freq="MS"),
                                     "sales": [12.0, 15, 14, 18, 17]}))
    assert short_series_note(five).startswith("This series has 5 values: too few to test the models")
    assert run_forecast(five, ["auto"], h=None, levels=(80,))["scores"] is None
    assert short_series_note(weekly([300, 300])) is None            # long enough for every test
