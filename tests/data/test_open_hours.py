"""Hourly (or finer) data within opening hours — a call centre's 09:00 to 17:00, a shop's hours from
Monday to Saturday — are read on those hours: no night made up, none forecast."""
import numpy as np
import pandas as pd
import pytest

from genlib import hours
from genlib.data.series import load_series
from genlib.errors import DataError
from genlib.forecast.backtest import backtest
from genlib.forecast.base import split_series
from genlib.forecast.report import fit_forecast
from genlib.freq import (check_freq, date_stamps, freq_words, future_ds, infer_alias, infer_freq, season_length_for,
                         season_words, seasonal_periods, step_after)
from tests.data.test_open_days import forecast_command

SHOP = "h@09:00-17:00@MON-TUE-WED-THU-FRI-SAT"
SHAPE = np.array([3, 5, 8, 9, 6, 7, 8, 6, 4.0])                  # calls from 09:00 to 17:00


def calls(weeks: int = 10, step: str = "h", first: int = 9, last: int = 17, closed=(6,), seed: int = 0):
    """A call centre's counts at each step of its opening hours, the closed times left out."""
    t = pd.date_range("2024-01-01", periods=weeks * 7 * 24 * (2 if step == "30min" else 1), freq=step)
    hour = t.hour + t.minute / 60
    t = t[(hour >= first) & (hour <= last) & ~np.isin(t.day_of_week, closed)]
    y = 10 * np.interp(t.hour + t.minute / 60, np.arange(9, 18), SHAPE) * (1 + 0.3 * (t.day_of_week == 5))
    y = y + np.random.default_rng(seed).normal(0, 2, len(t))
    return pd.DataFrame({"Time": t.strftime("%Y-%m-%d %H:%M"), "Calls": y.round(1)})


def write(tmp_path, df, name="calls.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


# --- the frequency -------------------------------------------------------------------------------

def test_opening_hours_are_found_and_spelled():
    t = pd.DatetimeIndex(pd.to_datetime(calls()["Time"]))
    assert infer_alias([t.as_unit("ns").asi8]) == SHOP
    assert infer_freq(pd.Series(t)) == SHOP                        # a program passing no freq
    every_day = pd.DatetimeIndex(pd.to_datetime(calls(closed=())["Time"]))
    assert infer_alias([every_day.as_unit("ns").asi8]) == "h@09:00-17:00"
    half = pd.DatetimeIndex(pd.to_datetime(calls(step="30min", last=17.5, closed=(5, 6))["Time"]))
    assert infer_alias([half.as_unit("ns").asi8]) == "30min@09:00-17:30@MON-TUE-WED-THU-FRI"
    clock = pd.date_range("2024-01-01", periods=24 * 30, freq="h")
    assert infer_alias([clock.as_unit("ns").asi8]) == "h"          # round the clock, as before
    gaps = clock[np.random.default_rng(0).random(len(clock)) < 0.7]
    assert infer_alias([gaps.as_unit("ns").asi8]) == "h"           # gaps at any hour are gaps
    lunch = clock[(clock.hour < 12) | (clock.hour > 13)]           # closed from 12:00 to 13:59
    assert infer_alias([lunch.as_unit("ns").asi8]) == "h@00:00-11:00,14:00-23:00"
    scattered = clock[clock.hour.isin([9, 10, 12, 13, 15, 16, 18, 19])]   # four windows: too many
    assert infer_alias([scattered.as_unit("ns").asi8]) == "h"
    short = clock[:24 * 5][clock[:24 * 5].hour >= 9]               # under a week: too short to tell
    assert infer_alias([short.as_unit("ns").asi8]) == "h"


def test_spelling_words_seasons_and_steps():
    assert check_freq("h@09:00-17:00@SAT-MON-TUE-WED-THU-FRI") == SHOP
    for bad in ("h@9-17", "h@17:00-09:00", "D@09:00-17:00", "h@09:30-17:00", "h@09:00-12:00,11:00-17:00",
                "h@01:00-02:00,04:00-05:00,07:00-08:00,10:00-11:00"):
        with pytest.raises(DataError, match="opening hours|steps of|windows a day"):
            check_freq(bad)
    assert check_freq("30min@19:00-22:30,12:00-14:30") == "30min@12:00-14:30,19:00-22:30"   # in order
    assert freq_words(SHOP) == "hourly, 09:00 to 17:00, except Sundays"
    assert freq_words("30min@08:00-17:30") == "every 30 minutes, 08:00 to 17:30"
    assert season_length_for(SHOP) == 9 and season_length_for("30min@08:00-17:30") == 20
    assert season_words(9, SHOP) == "9 open hours" and hours.per_week(SHOP) == 54
    assert seasonal_periods(9, SHOP) == (9,) and seasonal_periods(7, "h@09:00-15:00") == (7,)   # not (7, 365)
    sat = pd.Timestamp("2024-01-06 16:00")
    assert date_stamps(sat, 3, SHOP).strftime("%a %H:%M").tolist() == ["Sat 16:00", "Sat 17:00", "Mon 09:00"]
    assert pd.DatetimeIndex(future_ds(sat, 2, SHOP)).strftime("%a %H:%M").tolist() == ["Sat 17:00", "Mon 09:00"]
    assert step_after(pd.DatetimeIndex([sat, pd.Timestamp("2024-01-08 09:00")]), SHOP).strftime(
        "%a %H:%M").tolist() == ["Sat 17:00", "Mon 10:00"]
    week = date_stamps(pd.Timestamp("2024-01-01 09:00"), 54, SHOP)
    assert week[-1] == pd.Timestamp("2024-01-06 17:00") and week.is_unique and (week.day_of_week != 6).all()


# --- loading and forecasting ---------------------------------------------------------------------

def test_a_call_centre_is_read_on_its_hours_and_forecast_on_them(tmp_path):
    df = calls()
    data = load_series(write(tmp_path, df.iloc[:-27]))
    assert data.freq == SHOP and len(data.df) == len(df) - 27
    assert not data.report.repairs                                   # no night made up
    note = data.report.warnings[1]
    assert "hourly, 09:00 to 17:00, except Sundays" in note and "the forecast skips them too" in note
    assert not any("made up" in w for w in data.report.warnings)
    fc, fitted, _ = fit_forecast("auto", data.df, 27, (80,), freq=data.freq)
    dates = pd.DatetimeIndex(fc["ds"])
    assert dates.equals(pd.DatetimeIndex(pd.to_datetime(df["Time"].iloc[-27:])))      # the held-out hours
    assert "seasonal pattern every 9 open hours" in fitted.explanation_["Calls"]
    mean = pd.Series(fc["mean"].to_numpy(), index=dates)
    assert mean[mean.index.hour == 12].mean() > 2 * mean[mean.index.hour == 9].mean()  # the day's shape
    assert np.isfinite(fc[["mean", "lo-80", "hi-80"]].to_numpy()).all()


def test_a_restaurant_open_for_lunch_and_dinner_is_read_on_both_services(tmp_path):
    t = pd.date_range("2024-01-01", periods=24 * 2 * 7 * 9, freq="30min")
    clock = t.hour + t.minute / 60
    t = t[(((clock >= 12) & (clock <= 14.5)) | ((clock >= 19) & (clock <= 22.5))) & (t.day_of_week != 0)]
    covers = 20 + 15 * ((t.hour >= 19) & (t.hour <= 20)) + np.random.default_rng(4).normal(0, 2, len(t))
    data = load_series(write(tmp_path, pd.DataFrame({"Time": t.strftime("%Y-%m-%d %H:%M"), "Covers": covers.round(1)})))
    assert data.freq == "30min@12:00-14:30,19:00-22:30@TUE-WED-THU-FRI-SAT-SUN" and not data.report.repairs
    assert "every 30 minutes, 12:00 to 14:30 and 19:00 to 22:30, except Mondays" in data.report.warnings[1]
    fc, _, _ = fit_forecast("seasonal_naive", data.df, 14, (80,), freq=data.freq)
    assert pd.DatetimeIndex(fc["ds"]).strftime("%a %H:%M").tolist()[:7] == [
        "Tue 12:00", "Tue 12:30", "Tue 13:00", "Tue 13:30", "Tue 14:00", "Tue 14:30", "Tue 19:00"]
    assert season_length_for(data.freq) == 14


def test_a_missing_hour_is_still_filled_and_choosing_hourly_fills_the_night(tmp_path):
    df = calls()
    path = write(tmp_path, df.drop(index=[40, 41]))                  # two open hours missing
    data = load_series(path)
    assert data.freq == SHOP and len(data.df) == len(df)
    assert any("Filled 2 missing values" in r for r in data.report.repairs)
    hourly = load_series(path, freq="h")                             # the old reading, by choice
    assert hourly.freq == "h" and len(hourly.df) > 2 * len(df)
    assert any("made up" in w for w in hourly.report.warnings)


def test_choosing_opening_hours_leaves_the_rows_outside_them_out(tmp_path):
    df = calls(first=7, last=20)                                     # 07:00 to 20:00, quiet at the ends
    data = load_series(write(tmp_path, df), freq="h@09:00-17:00@MON-TUE-WED-THU-FRI-SAT")
    hour = pd.to_datetime(df["Time"]).dt.hour
    inside = (hour >= 9) & (hour <= 17)
    assert len(data.df) == int(inside.sum())
    assert f"Left out {int((~inside).sum())} rows outside the opening hours" in " ".join(data.report.repairs)
    np.testing.assert_allclose(data.df["y"].to_numpy(), df.loc[inside, "Calls"].to_numpy())
    with pytest.raises(DataError, match="no value falls within the opening hours"):
        load_series(write(tmp_path, df[hour < 9], "early.csv"), freq="h@09:00-17:00")


def test_a_panel_its_backtest_and_public_holidays(tmp_path):
    a, b = calls(seed=1), calls(seed=2, weeks=6)
    long = pd.concat([a.assign(site="leeds"), b.assign(site="york")])[["site", "Time", "Calls"]]
    data = load_series(write(tmp_path, long))
    assert data.freq == SHOP and data.n_series == 2
    assert split_series(data.df, None).freq == SHOP
    result = backtest(data.df, ["seasonal_naive", "ets"], h=9, windows=2, freq=data.freq)
    stamps = pd.DatetimeIndex(result.forecasts["ds"])
    assert stamps.hour.min() == 9 and stamps.hour.max() == 17 and (stamps.day_of_week != 6).all()
    assert result.scores["MASE"].notna().all() and result.season_length == 9
    fc, _, _ = fit_forecast("ets", data.df, 18, (80,), freq=data.freq, holidays="GB")
    assert len(fc) == 36 and pd.DatetimeIndex(fc["ds"]).hour.isin(range(9, 18)).all()


def test_the_command_line(tmp_path, capsys):
    said, fc = forecast_command(write(tmp_path, calls()), capsys, "--horizon", "12", "--model", "seasonal_naive")
    assert "hourly, 09:00 to 17:00, except Sundays" in said
    assert len(fc) == 12 and fc["date"].dt.hour.between(9, 17).all()
    assert fc["date"].iloc[0] == pd.Timestamp("2024-03-11 09:00")   # after Saturday 17:00: Monday
    assert fc["date"].iloc[9] == pd.Timestamp("2024-03-12 09:00")
