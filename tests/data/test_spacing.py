"""Series of another frequency in a panel (genlib.data.series.spacing): a quarterly series among
monthly ones is left out rather than read with two values in three made up, and said, with what
to do; a chosen frequency reads every series on it."""
from __future__ import annotations

import numpy as np
import pandas as pd

from genlib.data.series import load_series


def long_file(parts) -> bytes:
    rng = np.random.default_rng(0)
    rows = [f"{name},{d.date()},{100 + rng.normal(0, 5):.1f}"
            for name, freq, n in parts for d in pd.date_range("2015-01-01", periods=n, freq=freq)]
    return ("series,date,value\n" + "\n".join(rows) + "\n").encode()


def test_a_quarterly_series_among_monthly_ones_is_left_out_not_made_up():
    data = load_series(long_file([("sales", "MS", 60), ("stock", "MS", 60), ("gdp", "QS", 20)]), name="m.csv")
    assert data.freq == "MS" and sorted(data.df["unique_id"].unique()) == ["sales", "stock"]
    assert not any("interpolation" in r for r in data.report.repairs)
    assert dict(data.report.skipped)["series 'gdp'"] == "quarterly among monthly series"
    note = next(w for w in data.report.warnings if w.startswith("Left out 'gdp'"))
    assert "most of its values would be made up" in note and "load it in a file of its own" in note
    assert "to forecast every series quarterly, choose that frequency" in note


def test_a_monthly_series_among_quarterly_ones_no_longer_refuses_the_file():
    data = load_series(long_file([("a", "QS", 20), ("b", "QS", 20), ("m", "MS", 60)]), name="q.csv")
    assert data.freq == "QS" and sorted(data.df["unique_id"].unique()) == ["a", "b"]
    assert any(w.startswith("Left out 'm': its values are monthly, the others' quarterly.")
               for w in data.report.warnings)


def test_a_chosen_frequency_reads_every_series_on_it():
    data = load_series(long_file([("sales", "MS", 60), ("gdp", "QS", 20)]), name="m.csv", freq="QS")
    assert data.df.groupby("unique_id").size().to_dict() == {"gdp": 20, "sales": 20}
    assert not data.report.skipped


def test_business_days_and_gaps_are_not_another_frequency():
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", periods=90, freq="D")
    weekdays = days[days.day_of_week < 5]
    gappy = days.delete([10, 11, 40])
    rows = [f"{n},{d.date()},{rng.normal(50, 5):.1f}" for n, ds in (("shop", days), ("office", weekdays),
                                                                    ("sensor", gappy)) for d in ds]
    data = load_series(("series,date,value\n" + "\n".join(rows) + "\n").encode(), name="d.csv")
    assert set(data.df["unique_id"]) == {"shop", "office", "sensor"} and not data.report.skipped
