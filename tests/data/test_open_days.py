"""Daily data without a day of the week (a shop's sales without Sundays) are read on the days they
have: no made-up Sundays in the history, none in the forecast."""
import argparse
import warnings

import numpy as np
import pandas as pd
import pytest

from genlib.cli.forecast import add_commands
from genlib.data.series import load_series
from genlib.errors import DataError
from genlib.forecast.backtest import backtest
from genlib.forecast.base import split_series
from genlib.forecast.report import fit_forecast
from genlib.freq import (check_freq, daily_alias, freq_words, future_ds, infer_alias, infer_freq, offset,
                         season_length_for, season_words, step_after)

MON_SAT = "C-MON-TUE-WED-THU-FRI-SAT"
WEEK = np.array([1.0, 0.9, 0.95, 1.05, 1.3, 1.6, 0.4])        # Monday … Sunday


def shop(days: int = 280, closed=(6,), seed: int = 0, start: str = "2023-01-02") -> pd.DataFrame:
    """A shop's daily sales with a weekly pattern, the rows of its closed days left out."""
    rng = np.random.default_rng(seed)
    d = pd.date_range(start, periods=days, freq="D")
    y = 200 * WEEK[d.day_of_week] + rng.normal(0, 8, days)
    keep = ~np.isin(d.day_of_week, closed)
    return pd.DataFrame({"Date": d[keep].strftime("%Y-%m-%d"), "Sales": y[keep].round(1)})


def write(tmp_path, df, name="sales.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


# --- the frequency -------------------------------------------------------------------------------

@pytest.mark.parametrize("closed, alias", [
    ((6,), MON_SAT),                                  # closed on Sundays
    ((0,), "C-TUE-WED-THU-FRI-SAT-SUN"),              # a museum closed on Mondays
    ((4, 5), "C-MON-TUE-WED-THU-SUN"),                # a week from Sunday to Thursday
    ((5, 6), "B"),                                    # business days, as before
    ((), "D"),
])
def test_the_days_a_file_has_are_its_frequency(closed, alias):
    stamps = pd.DatetimeIndex(pd.to_datetime(shop(closed=closed)["Date"]))
    assert daily_alias(stamps) == alias
    assert infer_alias([stamps.as_unit("ns").asi8]) == alias
    assert infer_freq(pd.Series(stamps)) == alias     # forecasters given a table without freq


def test_a_missing_day_is_a_gap_not_a_closed_day():
    d = pd.date_range("2023-01-02", periods=280, freq="D")
    short = d[:49][d[:49].day_of_week != 6]           # 7 weeks: too short to tell
    assert daily_alias(short) == "D"
    sparse = d[np.random.default_rng(1).random(280) < 0.35]
    sparse = sparse[sparse.day_of_week != 6]          # the other days too often absent
    assert daily_alias(sparse) == "D"
    assert daily_alias(d[d.day_of_week.isin([0, 2, 4])]) == "B"   # weekdays only: business days, as before
    assert daily_alias(d[d.day_of_week.isin([0, 2, 4, 6])]) == "D"  # three days a week: not a shop week
    panel = [d[d.day_of_week != 6].as_unit("ns").asi8, d[:70].as_unit("ns").asi8]
    assert infer_alias(panel) == "D"                  # one shop opens on Sundays: every day is there
    stray = d[d.day_of_week != 6].append(pd.DatetimeIndex(["1700-01-01"]))   # a year among the dates
    assert daily_alias(stray) == "D"                  # 323 years: most days absent (it once overflowed)


def test_open_days_spelling_steps_and_words():
    assert check_freq("c-sat-fri-thu-wed-tue-mon") == MON_SAT
    assert check_freq("C-MON-TUE-WED-THU-FRI") == "B" and check_freq("C-MON-TUE-WED-THU-FRI-SAT-SUN") == "D"
    with pytest.raises(DataError, match="C-MON-TUE-WED-THU-FRI-SAT"):
        check_freq("C-MONDAY")
    assert season_length_for(MON_SAT) == 6 and season_length_for("C-MON-TUE-WED-THU-SUN") == 5
    assert freq_words(MON_SAT) == "daily except Sundays"
    assert freq_words("C-MON-TUE-WED-THU-SUN") == "daily except Fridays and Saturdays"
    assert season_words(6, MON_SAT) == "6 open days"
    stamps = pd.DatetimeIndex(["2024-01-05", "2024-01-06 10:30", "2024-12-28"])   # Fri, Sat, Sat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")               # pandas' own addition warns it is slow
        assert step_after(stamps, MON_SAT).equals(stamps + offset(MON_SAT))
    assert step_after(stamps, "D").equals(stamps + pd.Timedelta(days=1))
    ahead = pd.DatetimeIndex(future_ds(pd.Timestamp("2024-01-05"), 8, MON_SAT))
    assert (ahead.day_of_week != 6).all() and ahead[1] == pd.Timestamp("2024-01-08")


# --- loading and forecasting ---------------------------------------------------------------------

def test_a_shop_without_sundays_is_read_on_its_days_and_forecast_without_sundays(tmp_path):
    df = shop()
    data = load_series(write(tmp_path, df.iloc[:-24]))
    assert data.freq == MON_SAT and len(data.df) == len(df) - 24
    assert not any("Filled" in r for r in data.report.repairs)       # no Sunday made up
    note = data.report.warnings[1]
    assert "daily except Sundays" in note and "the file has no Sundays, so the forecast skips them" in note
    fc, _, notes = fit_forecast("auto", data.df, 24, (80,), freq=data.freq)
    dates = pd.DatetimeIndex(fc["ds"])
    assert (dates.day_of_week != 6).all() and dates.equals(pd.DatetimeIndex(pd.to_datetime(df["Date"].iloc[-24:])))
    assert np.isfinite(fc[["mean", "lo-80", "hi-80"]].to_numpy()).all()
    # the weekly pattern is followed: Saturdays forecast above Tuesdays, as in the data
    mean = pd.Series(fc["mean"].to_numpy(), index=dates)
    assert mean[mean.index.day_of_week == 5].mean() > 1.4 * mean[mean.index.day_of_week == 1].mean()


def test_a_closed_day_is_filled_only_when_asked_and_a_missing_open_day_still_is(tmp_path):
    df = shop()
    path = write(tmp_path, df.drop(index=[30, 31]))                 # two open days missing too
    data = load_series(path)
    assert data.freq == MON_SAT and len(data.df) == len(df)
    assert any("Filled 2 missing values" in r for r in data.report.repairs)
    daily = load_series(path, freq="D")                             # the old reading, by choice
    assert daily.freq == "D" and "given" in daily.report.warnings[1]
    assert any("missing timestamps" in r for r in daily.report.repairs)
    first, last = pd.to_datetime(df["Date"].iloc[[0, -1]])
    assert len(daily.df) == (last - first).days + 1                # every Sunday made up, as asked


def test_choosing_open_days_leaves_the_closed_days_rows_out_instead_of_averaging_them(tmp_path):
    df = shop(closed=())
    sunday = pd.to_datetime(df["Date"]).dt.day_of_week == 6
    df.loc[sunday, "Sales"] = 0.0                                   # closed: 0 sold
    data = load_series(write(tmp_path, df), freq=MON_SAT)
    assert data.freq == MON_SAT and len(data.df) == int((~sunday).sum())
    assert f"Left out {int(sunday.sum())} rows on Sundays" in " ".join(data.report.repairs)
    np.testing.assert_allclose(data.df["y"].to_numpy(), df.loc[~sunday, "Sales"].to_numpy())  # Saturdays kept
    only = df[sunday]
    with pytest.raises(DataError, match="every date is on Sundays"):
        load_series(write(tmp_path, only, "sundays.csv"), freq=MON_SAT)


def test_a_panel_of_shops_closed_on_sundays_and_its_backtest(tmp_path):
    a, b = shop(seed=1), shop(seed=2, days=210)
    long = pd.concat([a.assign(store="north"), b.assign(store="south")])[["store", "Date", "Sales"]]
    data = load_series(write(tmp_path, long))
    assert data.freq == MON_SAT and set(data.df["unique_id"]) == {"north", "south"}
    split = split_series(data.df, None)                             # a program passing no freq
    assert split.freq == MON_SAT
    result = backtest(data.df, ["seasonal_naive", "ets"], h=12, windows=2, freq=data.freq)
    assert (pd.DatetimeIndex(result.forecasts["ds"]).day_of_week != 6).all()
    assert result.scores["MASE"].notna().all() and result.season_length == 6


def test_public_holidays_work_on_open_days(tmp_path):
    data = load_series(write(tmp_path, shop(days=400)))
    fc, fitted, notes = fit_forecast("ets", data.df, 12, (80,), freq=data.freq, holidays="DE")
    assert (pd.DatetimeIndex(fc["ds"]).day_of_week != 6).all() and len(fc) == 12


def forecast_command(path, capsys, *options) -> tuple[str, pd.DataFrame]:
    """`python -m genlib forecast PATH OPTIONS --out …`: what it printed and the table it wrote."""
    p = argparse.ArgumentParser(prog="genlib")
    add_commands(p.add_subparsers(dest="command"))
    out = path.parent / f"{path.stem}-forecast.csv"
    args = p.parse_args(["forecast", str(path), *options, "--out", str(out)])
    assert args.func(args) == 0
    return capsys.readouterr().out, pd.read_csv(out, parse_dates=["date"])


def test_the_command_line_reads_and_takes_open_days(tmp_path, capsys):
    said, fc = forecast_command(write(tmp_path, shop()), capsys, "--horizon", "6", "--model", "seasonal_naive")
    assert "daily except Sundays" in said
    assert len(fc) == 6 and (fc["date"].dt.day_of_week != 6).all()
    museum = write(tmp_path, shop(closed=()), "museum.csv")          # closed on Mondays, said on the command line
    _, fc = forecast_command(museum, capsys, "--horizon", "6", "--model", "naive",
                             "--freq", "C-TUE-WED-THU-FRI-SAT-SUN")
    assert (fc["date"].dt.day_of_week != 0).all()


def test_hourly_data_at_scattered_hours_say_the_hours_between_were_made_up_and_what_to_do(tmp_path):
    """Up to three windows of hours a day are read as opening hours (test_open_hours.py); hours
    scattered over more are not: the hours between are filled in, and the loader says so with
    what to do."""
    t = pd.date_range("2024-01-01", periods=24 * 7 * 6, freq="h")
    t = t[t.hour.isin([9, 10, 12, 13, 15, 16, 18])]                 # four windows a day
    y = 50 + 10 * np.sin((t.hour - 9) / 8 * np.pi) + np.random.default_rng(0).normal(0, 2, len(t))
    path = write(tmp_path, pd.DataFrame({"Time": t.strftime("%Y-%m-%d %H:%M"), "Calls": y.round(1)}))
    data = load_series(path)
    said = " ".join(data.report.warnings)
    assert data.freq == "h"
    assert "The file has values only at 7 of the 24 times of day its frequency (hourly) has" in said
    assert "made up" in said and "choose daily ('D')" in said and "more than half gaps" not in said
    daily = load_series(path, freq="D")                             # the action it offers works
    assert daily.freq == "D" and len(daily.df) == 42 and "made up" not in " ".join(daily.report.warnings)
    np.testing.assert_allclose(daily.df["y"].iloc[0], np.asarray(y)[:7].round(1).mean(), rtol=1e-6)
    one_window = write(tmp_path, pd.DataFrame({"Time": t[t.hour <= 11].strftime("%Y-%m-%d %H:%M"), "v": 1.0}),
                       "w.csv")     # opening hours when inferred; hourly when asked for:
    assert "made up" in " ".join(load_series(one_window, freq="h").report.warnings)   # hourly, as asked
    clock = pd.date_range("2024-01-01", periods=24 * 10, freq="h")      # round the clock, random gaps
    clock = clock[np.random.default_rng(1).random(len(clock)) < 0.6]
    gappy = write(tmp_path, pd.DataFrame({"Time": clock.strftime("%Y-%m-%d %H:%M"), "v": 1.0}), "g.csv")
    assert not any("values only" in w for w in load_series(gappy, freq="h").report.warnings)


def stores(closed: dict, days: int = 84) -> pd.DataFrame:
    """A panel of shops, each with its own closed days (their rows left out)."""
    parts = [shop(days, c, seed=i).assign(Store=name) for i, (name, c) in enumerate(closed.items())]
    return pd.concat(parts)[["Date", "Store", "Sales"]]


def test_a_panel_where_only_some_shops_close_on_sundays_says_so_and_both_actions_work(tmp_path):
    """One frequency serves a file: when one shop opens on Sundays, the others' Sundays are filled
    in. The loader says which, why, and what to do; each action it offers works."""
    path = write(tmp_path, stores({"north": (6,), "south": (6,), "station": ()}), "shops.csv")
    data = load_series(path)
    assert data.freq == "D"
    note = next(w for w in data.report.warnings if "never have a value on Sundays" in w)
    assert note.startswith("2 of 3 series never have a value on Sundays (e.g. 'north', 'south'), but 1 "
                           "other does (e.g. 'station')")
    assert "load them without the series that have Sundays" in note and f"('{MON_SAT}')" in note
    alone = load_series(write(tmp_path, stores({"north": (6,), "south": (6,)}), "two.csv"))
    assert alone.freq == MON_SAT and not any("never have" in w for w in alone.report.warnings)
    chosen = load_series(path, freq=MON_SAT)
    assert chosen.freq == MON_SAT and (chosen.df["ds"].dt.day_of_week != 6).all()
    assert any("Sunday" in r for r in chosen.report.repairs + chosen.report.warnings)    # station's rows, counted


def test_shops_closed_on_different_days_are_named_without_a_frequency_to_choose(tmp_path):
    data = load_series(write(tmp_path, stores({"north": (6,), "museum": (0,)}), "mixed.csv"))
    note = next(w for w in data.report.warnings if "never have a value" in w)
    assert note.startswith("2 of 2 series never have a value on some day of the week ('museum' on Mondays; "
                           "'north' on Sundays)")
    assert "choose the frequency" not in note and "as a file of their own" in note


def test_every_day_open_or_random_gaps_bring_no_such_note(tmp_path):
    gappy = shop(84, ()).sample(frac=0.85, random_state=1).sort_values("Date")       # random days missing
    df = pd.concat([shop(84, ()).assign(Store="a"), gappy.assign(Store="b")])
    data = load_series(write(tmp_path, df[["Date", "Store", "Sales"]], "open.csv"))
    assert data.freq == "D" and not any("never ha" in w for w in data.report.warnings)
