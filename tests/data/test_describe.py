"""The series report in each reader's words (the rule for short series: tests/forecast/test_plain.py)."""
import pandas as pd
import pytest

from genlib.data import in_words, load_builtin
from genlib.data.series import load_series


def monthly(lengths: dict[str, int]) -> bytes:
    rows = [f"{uid},{d.date()},{i}" for uid, n in lengths.items()
            for i, d in enumerate(pd.date_range("2019-01-01", periods=n, freq="MS"))]
    return ("id,month,value\n" + "\n".join(rows) + "\n").encode()


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
