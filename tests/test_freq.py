"""genlib.freq: aliases, inference, seasons, words, default horizon and future time stamps."""
import doctest

import numpy as np
import pandas as pd
import pytest

import genlib.freq as freq_mod
from genlib.errors import DataError
from genlib.freq import (alias_from_steps, check_freq, default_horizon, freq_words, future_ds, infer_alias,
                         infer_freq, normalise_alias, season_length_for, season_words)

# alias pandas builds with, what the loader calls it, season length, words
GRIDS = [
    ("h", "h", 24, "hourly"),
    ("D", "D", 7, "daily"),
    ("W-SUN", "W-SUN", 52, "weekly (Sundays)"),
    ("W-WED", "W-WED", 52, "weekly (Wednesdays)"),
    ("MS", "MS", 12, "monthly"),
    ("ME", "ME", 12, "monthly (month ends)"),
    ("QS", "QS", 4, "quarterly"),
    ("QE", "QE", 4, "quarterly (quarter ends)"),
    ("YS", "YS", 1, "yearly"),
    ("YE", "YE", 1, "yearly (year ends)"),
]


def ns(stamps: pd.DatetimeIndex) -> np.ndarray:
    """int64 nanoseconds, what the loader hands to infer_alias (pandas may build stamps in µs)."""
    return stamps.as_unit("ns").asi8


@pytest.mark.parametrize("alias, loader_alias, m, words", GRIDS)
def test_inference_on_regular_stamps(alias, loader_alias, m, words):
    stamps = pd.date_range("2021-01-01", periods=30, freq=alias)
    # one column (forecasters): pandas' own spelling, which steps to the same grid
    found = infer_freq(pd.Series(stamps))
    assert pd.date_range(stamps[0], periods=30, freq=found).equals(stamps)
    # many series (the loader): one spelling per grid
    assert infer_alias([ns(stamps), ns(stamps[5:20])]) == loader_alias
    assert season_length_for(loader_alias) == season_length_for(found) == m
    assert freq_words(loader_alias) == words


@pytest.mark.parametrize("alias, loader_alias", [(a, b) for a, b, _, _ in GRIDS])
def test_steps_alone_give_the_grid(alias, loader_alias):
    """With a gap pd.infer_freq gives up; the most common step still names the grid."""
    stamps = pd.date_range("2021-01-01", periods=30, freq=alias).delete([7, 8, 20])
    assert pd.infer_freq(stamps) is None
    assert infer_alias([ns(stamps)]) == loader_alias
    assert alias_from_steps([ns(stamps)]) == loader_alias


def test_infer_freq_on_integers_and_single_dates():
    assert infer_freq(pd.Series([3, 6, 9, 15])) == 3           # the step, not the gap
    assert infer_freq(pd.Series([7])) == 1
    with pytest.raises(DataError, match="single date has no frequency"):
        infer_freq(pd.Series(pd.to_datetime(["2024-01-01"])))


def test_business_days_need_ten_stamps():
    week = pd.bdate_range("2024-01-01", periods=4)              # Mon..Thu: could be daily
    assert infer_alias([ns(week)]) == "D"
    assert infer_alias([ns(pd.bdate_range("2024-01-01", periods=15))]) == "B"


@pytest.mark.parametrize("given, spelled", [("W", "W-SUN"), ("QS-APR", "QS"), ("QE-DEC", "QE"),
                                            ("YE-DEC", "YE"), ("YS-JUL", "YS-JUL"), ("2W", "2W-SUN"),
                                            ("15min", "15min")])
def test_one_spelling_per_grid(given, spelled):
    assert check_freq(given) == spelled
    assert normalise_alias(spelled) == spelled                  # already normal: unchanged


def test_old_pandas_spellings():
    """Aliases older pandas versions infer (M, Q, A, H, T, S) get today's spelling."""
    assert [normalise_alias(a) for a in ["M", "Q", "A", "Y", "H", "T", "S"]] == ["ME", "QE", "YE", "YE", "h",
                                                                              "min", "s"]


def test_bad_alias_says_what_to_use():
    with pytest.raises(DataError, match=r"not a pandas frequency; use one such as 'h' \(hourly\)"):
        check_freq("fortnightly")


@pytest.mark.parametrize("freq, m", [("h", 24), ("2h", 12), ("30min", 48), ("5min", 288), ("min", 1),
                                     ("7h", 1), ("D", 7), ("2D", 1), ("B", 5), ("W-MON", 52), ("2W", 1),
                                     ("MS", 12), ("2MS", 6), ("5MS", 1), ("SMS", 24), ("QE-NOV", 4),
                                     ("YS", 1), (None, 1), (1, 1), (np.int64(2), 1), ("nonsense", 1)])
def test_season_lengths(freq, m):
    assert season_length_for(freq) == m


def test_season_words():
    assert [season_words(m, f) for m, f in [(12, "MS"), (24, "h"), (7, "D"), (52, "W-SUN"), (4, "QS"),
                                            (5, "B"), (6, "2MS"), (3, 1), (2, None)]] == [
        "12 months", "24 hours", "7 days", "52 weeks", "4 quarters", "5 business days", "6 steps",
        "3 steps", "2 steps"]


def test_season_words_count_steps_of_several_minutes_or_hours_in_time():
    """Half-hourly data's daily pattern is '24 hours', not '48 steps' (the reason in auto's sentence)."""
    assert [season_words(m, f) for m, f in [(48, "30min"), (336, "30min"), (96, "15min"), (3, "30min"),
                                            (12, "2h"), (1, "30min"), (2, "30min")]] == [
        "24 hours", "168 hours", "24 hours", "90 minutes", "24 hours", "30 minutes", "1 hour"]


def test_freq_words_for_multiples_and_no_dates():
    assert [freq_words(f) for f in ["15min", "2h", "3D", "10s", "B", None, "SMS"]] == [
        "every 15 minutes", "every 2 hours", "every 3 days", "every 10 seconds", "business-daily",
        "no dates", "SMS"]


@pytest.mark.parametrize("m, shortest, h", [
    (1, None, 8), (4, None, 8), (7, None, 14), (12, None, 12), (24, None, 24), (52, None, 52),
    (12, 200, 12), (12, 40, 10), (7, 20, 5), (24, 3, 1), (1, 0, 1)])
def test_one_default_horizon(m, shortest, h):
    assert default_horizon(m, shortest=shortest) == h


def test_every_default_horizon_is_the_same_rule():
    """The Forecast page, auto's backtest and the neural forecaster start from the same horizon."""
    from genlib.data.series import load_series
    from genlib.forecast import auto, neural, report

    stamps = pd.date_range("2020-01-06", periods=90, freq="D")
    csv = "date,y\n" + "".join(f"{d:%Y-%m-%d},{np.sin(i)}\n" for i, d in enumerate(stamps))
    series = load_series(csv.encode(), name="daily.csv")
    assert report.default_horizon(series) == default_horizon(7, shortest=90) == 14
    assert auto.default_horizon is default_horizon
    assert neural.choose_sizes(["a"], [np.zeros(90)], None, None, 7)[0] == 14
    assert neural.choose_sizes(["a"], [np.zeros(400)], None, None, 24)[0] == 24


def test_future_stamps():
    assert future_ds(pd.Timestamp("2024-01-31"), 3, "ME").tolist() == list(
        pd.to_datetime(["2024-02-29", "2024-03-31", "2024-04-30"]).to_numpy())
    assert future_ds(pd.Timestamp("2024-01-07"), 2, "W-SUN").tolist() == list(
        pd.to_datetime(["2024-01-14", "2024-01-21"]).to_numpy())
    assert future_ds(pd.Timestamp("2024-03-01 23:00"), 2, "h").tolist() == list(
        pd.to_datetime(["2024-03-02 00:00", "2024-03-02 01:00"]).to_numpy())
    assert future_ds(10, 3, 5).tolist() == [15, 20, 25]
    assert future_ds(np.int64(0), 2, np.int64(1)).dtype == np.int64


def test_forecasting_still_exports_the_frequency_helpers():
    import genlib.forecast as forecast
    from genlib.forecast import base

    for name in ("season_length_for", "infer_freq", "future_ds", "season_words"):
        assert getattr(base, name) is getattr(freq_mod, name) is getattr(forecast, name)


def test_docstring_examples_run():
    result = doctest.testmod(freq_mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("alias, words", [
    ("2MS", "every 2 months"), ("3h", "every 3 hours"), ("2W-SUN", "every 2 weeks (Sundays)"),
    ("YS-JUL", "yearly (starting in July)"), ("YE-MAR", "yearly (ending in March)"),
    ("BMS", "monthly (first business day)"), ("SMS-15", "twice a month (1st and 15th)"),
])
def test_more_aliases_in_words(alias, words):
    assert freq_words(alias) == words
    assert freq_words(check_freq(alias)) == words                   # what the loader keeps
