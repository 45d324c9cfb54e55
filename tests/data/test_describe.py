"""The series report in each reader's words, and the rule for series too short for a backtest."""
import pandas as pd
import pytest

from genlib.data import in_words, load_builtin
from genlib.data.series import load_sample_series, load_series, min_backtest_length, short_series_note
from genlib.freq import default_horizon, season_length_for


def monthly(lengths: dict[str, int]) -> bytes:
    rows = [f"{uid},{d.date()},{i}" for uid, n in lengths.items()
            for i, d in enumerate(pd.date_range("2019-01-01", periods=n, freq="MS"))]
    return ("id,month,value\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("freq", ["h", "D", "W-SUN", "MS", "QS", "YS"])
def test_the_rule_is_three_default_horizons_after_a_season(freq):
    m = season_length_for(freq)
    assert min_backtest_length(m) == 3 * default_horizon(m) + max(m, 8)
    assert min_backtest_length(m, windows=1) == default_horizon(m) + max(m, 8)


def test_a_five_row_table_is_warned_about_in_words_of_what_will_happen():
    data = load_series(monthly({"a": 5}), name="five.csv")
    assert short_series_note(data) == (
        "The series has only 5 values, fewer than the 48 a backtest needs (3 checks of 12 months "
        "each, after 12 months of history): it will get a simple forecast without a backtest.")


def test_some_short_series_among_many_are_counted():
    data = load_series(monthly({"a": 60, "b": 47, "c": 48, "d": 10}), name="shops.csv")
    assert short_series_note(data).startswith("2 of 4 series have fewer than 48 values")
    assert "they will get a simple forecast without a backtest" in short_series_note(data)
    one = load_series(monthly({"a": 60, "b": 20}), name="two.csv")
    assert short_series_note(one).startswith("1 of 2 series have fewer than 48 values") and "it will" in short_series_note(one)
    assert short_series_note(load_series(monthly({"a": 48, "b": 60}), name="ok.csv")) is None
    assert short_series_note(load_sample_series("co2")) is None


def test_the_app_reads_plain_facts_and_no_aliases():
    data = load_series(monthly({"a": 60, "b": 48, "c": 60}), name="three.csv")
    app = in_words(data.report, "app")
    assert app.facts["lengths"] == "48 to 60 values, typically 60"
    assert app.facts["frequency"] == "monthly" and app.facts["series"] == "3"
    assert "Frequency: monthly, inferred from the dates." in app.warnings
    assert "Frequency: monthly ('MS'), inferred from the dates." in data.report.warnings   # unchanged
    assert data.report.facts["length_median"] == 60.0                # the stored facts are untouched
    assert in_words(data.report, "python") is data.report
    with pytest.raises(ValueError):
        in_words(data.report, "fax")


AMBIGUOUS = ("date;sales\n" + "".join(f"{d:02d}/{m:02d}/2024;{d}\n" for m in (1, 2) for d in range(1, 13))).encode()


def test_a_date_order_hint_names_the_dropdown_in_the_app_and_the_option_on_the_command_line():
    data = load_series(AMBIGUOUS, name="orders.csv")
    note = next(w for w in data.report.warnings if "could be read day-first or month-first" in w)
    assert "pass dayfirst=" in note                                   # the Python call's words
    app = " ".join(in_words(data.report, "app").warnings)
    cli = " ".join(in_words(data.report, "cli").warnings)
    assert "under “Dates are written” below" in app
    assert "dayfirst" not in app and "--" not in app and "command line" not in app
    assert ("use --monthfirst" in cli or "use --dayfirst" in cli) and "pass dayfirst" not in cli


def test_no_dates_and_several_columns_name_the_widgets():
    data = load_series(b"a,b\n" + b"".join(f"{i},{2 * i}\n".encode() for i in range(12)), name="nodates.csv")
    app = " ".join(in_words(data.report, "app").warnings)
    assert "“Date column” below" in app and "date_column" not in app


def test_image_facts_in_plain_words():
    facts = in_words(load_builtin("digits").report, "app").facts
    assert facts["size used"] == "16×16 pixels, grey"
    assert facts["sizes found"] == "8×8 pixels (1,797)"
    assert facts["images per class"].startswith("0 178, 1 182")
    assert "layout" not in facts and "value_range" not in facts
