"""Public holidays as calendar effects (genlib/forecast/calendar.py): measured on each series'
past, taken out before the fit, put back on the forecast's holidays; nothing changes where
holidays make no difference."""
import numpy as np
import pandas as pd
import pytest

from genlib.errors import DataError, GenlibError
from genlib.forecast.backtest import backtest
from genlib.forecast.calendar import (HolidayAdjusted, check_country, check_holidays, country_names,
                                      daily_or_finer, holiday_dates, place_names)
from genlib.forecast.registry import get_model

US = holiday_dates("US", range(2020, 2026))


def shop(start="2021-01-04", end="2024-12-31", effects=None, default=0.5, seed=0, noise=0.05):
    """A daily shop: weekends busier, slow growth, holidays at `effects[name]` (else `default`)
    times an ordinary day, multiplicative noise. Returns the whole table; tests cut it."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, end, freq="D")
    t = np.arange(len(ds))
    y = (200 + 0.05 * t) * (1 + 0.3 * (ds.day_of_week >= 5))
    factor = np.array([(effects or {}).get(US[d], default) if d in US else 1.0 for d in ds.date])
    y = y * factor * np.exp(rng.normal(0, noise, len(ds)))
    return pd.DataFrame({"unique_id": "shop", "ds": ds, "y": y})


def test_a_known_holiday_effect_is_measured_and_makes_the_forecast_better():
    df = shop()
    past, future = df[df["ds"] < "2024-12-01"], df[df["ds"] >= "2024-12-01"]
    model = HolidayAdjusted(get_model("ets", freq="D"), "US").fit(past)
    effect = model.effects_["shop"]
    assert effect.used and effect.log
    assert abs(effect.mean - np.log(0.5)) < 0.05                 # halved, within 5 %
    fc = model.predict(len(future), (80, 95))
    plain = get_model("ets", freq="D").fit(past).predict(len(future), (80, 95))
    xmas = (fc["ds"] == "2024-12-25").to_numpy()
    ratio = fc.loc[xmas, "mean"].item() / plain.loc[xmas, "mean"].item()
    assert 0.4 < ratio < 0.6
    inner = model.model.predict(len(future), (80, 95))             # the model on the adjusted past
    shift = np.exp(model.effects_["shop"].effects["Christmas Day"])
    for col in ("mean", "lo-80", "hi-80", "lo-95", "hi-95"):     # the bands move with the mean
        assert fc.loc[xmas, col].item() == pytest.approx(inner.loc[xmas, col].item() * shift)
    ordinary = fc["ds"] == "2024-12-18"
    assert fc.loc[ordinary, "mean"].item() == pytest.approx(plain.loc[ordinary, "mean"].item(), rel=0.05)
    y = future["y"].to_numpy()
    assert np.abs(fc["mean"] - y).mean() < 0.8 * np.abs(plain["mean"] - y).mean()
    note = model.notes_["shop"]
    assert "Public holidays (United States)" in note and "50 % lower" in note
    assert "Christmas Day (25 Dec 2024)" in note


def test_each_holiday_gets_its_own_effect_and_an_unseen_one_the_mean():
    df = shop(effects={"Christmas Day": 0.2, "Thanksgiving Day": 0.9}, default=0.6)
    model = HolidayAdjusted(get_model("naive", freq="D"), "US").fit(df)
    effect = model.effects_["shop"]
    xmas, thanks = effect.effects["Christmas Day"], effect.effects["Thanksgiving Day"]
    assert xmas == pytest.approx(np.log(0.2), abs=0.1)           # 4 days each, 5 % noise: hardly
    assert thanks == pytest.approx(np.log(0.9), abs=0.1)         # shrunk towards the mean
    ds = pd.DatetimeIndex(["2025-01-01"])                         # New Year's Day
    unseen = {d: "A holiday never seen" for d in ds.date}
    assert effect.shift(ds, unseen)[0] == pytest.approx(effect.mean)


def test_no_holiday_pattern_leaves_the_forecast_unchanged():
    rng = np.random.default_rng(1)
    ds = pd.date_range("2022-01-01", periods=900, freq="D")
    df = pd.DataFrame({"unique_id": "w", "ds": ds, "y": 50 + rng.normal(size=900)})
    plain = get_model("ets", freq="D").fit(df).predict(30)
    model = HolidayAdjusted(get_model("ets", freq="D"), "US").fit(df)
    fc = model.predict(30)
    assert not model.effects_["w"].used
    pd.testing.assert_frame_equal(fc, plain)
    assert "no more than chance explains" in model.notes_["w"]


def test_hourly_holidays_change_the_opening_hours_not_the_night():
    rng = np.random.default_rng(2)
    ds = pd.date_range("2022-01-03", "2024-06-30 23:00", freq="h")
    hour = ds.hour.to_numpy()
    opening = (hour >= 9) & (hour < 17)
    holiday = np.array([d in US for d in ds.date])
    y = 10 * np.sin(2 * np.pi * hour / 24) + 60 * opening - 50 * (opening & holiday) \
        + rng.normal(0, 3, len(ds)) - 20                    # crosses zero: effects in units
    df = pd.DataFrame({"unique_id": "store", "ds": ds, "y": y})
    model = HolidayAdjusted(get_model("seasonal_naive", freq="h"), "US").fit(df)
    effect = model.effects_["store"]
    assert effect.used and not effect.log and effect.hourly
    assert effect.effects[pd.Timedelta(hours=12)] == pytest.approx(-50, abs=5)
    assert abs(effect.effects[pd.Timedelta(hours=3)]) < 5
    fc = model.predict(24 * 7)                                   # to 7 July: the 4th is a holiday
    noon = fc.set_index("ds")["mean"]
    assert noon["2024-07-04 12:00"] == pytest.approx(noon["2024-07-03 12:00"] - 50, abs=15)
    assert "on average" in model.notes_["store"] and "Independence Day (4 Jul 2024)" in model.notes_["store"]


def test_a_backtest_measures_holidays_on_each_window_alone():
    df = shop(end="2024-03-31")
    wrapped = HolidayAdjusted(get_model("theta", freq="D"), "US")
    bt = backtest(df, {"theta": wrapped}, h=28, windows=3)
    got = bt.forecasts[bt.forecasts["model"] == "theta"]
    for cutoff, window in got.groupby("cutoff"):
        alone = wrapped.clone().fit(df[df["ds"] <= cutoff]).predict(28, (80, 95))
        np.testing.assert_allclose(window["mean"].to_numpy(), alone["mean"].to_numpy(), rtol=1e-9)
    scores = backtest(df, "theta", h=28, windows=3, holidays="US").scores.set_index("model")
    assert scores.loc["theta", "MASE"] == pytest.approx(
        bt.scores.set_index("model").loc["theta", "MASE"])
    assert scores.loc["seasonal_naive", "MASE"] == pytest.approx(    # the benchmark keeps none
        backtest(df, "theta", h=28, windows=3).scores.set_index("model").loc["seasonal_naive", "MASE"])


def test_countries_and_frequencies_say_what_to_do():
    assert check_country(" us ") == "US" and check_country("Germany") == "DE"
    assert country_names()["GB"] == "United Kingdom" and len(country_names()) > 200
    with pytest.raises(GenlibError, match="two-letter code, such as US"):
        check_country("Atlantis")
    assert daily_or_finer("D") and daily_or_finer("h") and daily_or_finer("15min") and daily_or_finer("B")
    assert not any(daily_or_finer(f) for f in ("W-SUN", "MS", "QS", "YS", "2D", 1))
    with pytest.raises(DataError, match="daily or hourly data.*monthly.*without public holidays"):
        check_holidays("US", "MS")
    with pytest.raises(DataError, match="numbered, without dates"):
        check_holidays("US", 1)
    monthly = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01", periods=36, freq="MS"),
                            "y": np.arange(36.0)})
    with pytest.raises(DataError, match="daily or hourly"):
        HolidayAdjusted(get_model("naive"), "US").fit(monthly)


def test_a_short_series_with_few_holidays_is_left_as_it_was():
    df = shop(start="2024-02-20", end="2024-05-20")              # no US holiday inside
    model = HolidayAdjusted(get_model("naive", freq="D"), "US").fit(df)
    pd.testing.assert_frame_equal(model.predict(7), get_model("naive", freq="D").fit(df).predict(7))
    assert not model.effects_["shop"].used
    assert "no holiday falls inside this series' dates" in model.notes_["shop"]


def test_too_short_to_compare_says_so():
    df = shop(start="2024-12-20", end="2025-01-05")               # Christmas and New Year, 17 days
    model = HolidayAdjusted(get_model("naive", freq="D"), "US").fit(df)
    model.predict(3)
    assert not model.effects_["shop"].used
    assert "too short to compare its 2 holiday days" in model.notes_["shop"]


def test_regions_have_their_own_holidays():
    assert check_country("de-by") == "DE-BY" and check_country("United States: California") == "US-CA"
    assert place_names()["DE-BY"] == "Germany: Bayern"
    with pytest.raises(GenlibError, match="Germany has no region 'XX'.*DE-BY"):
        check_country("DE-XX")
    with pytest.raises(GenlibError, match="the same everywhere: write IS"):
        check_country("IS-1")
    years = range(2024, 2025)
    assert set(holiday_dates("DE-BY", years).values()) - set(holiday_dates("DE", years).values()) >= {
        "Corpus Christi", "Epiphany"}
    ds = pd.date_range("2022-01-03", "2024-12-31", freq="D")
    bavaria = holiday_dates("DE-BY", range(2022, 2026))
    y = 100 * np.where([d in bavaria for d in ds.date], 0.4, 1.0)
    df = pd.DataFrame({"unique_id": "Munich", "ds": ds, "y": y})
    model = HolidayAdjusted(get_model("naive", freq="D"), "DE-BY").fit(df)
    fc = model.predict(7).set_index("ds")["mean"]
    assert fc["2025-01-06"] == pytest.approx(40)                  # Epiphany, a holiday in Bavaria only
    assert model.notes_["Munich"].startswith("Public holidays (Germany, Bayern): on its")


def test_time_zones_keep_their_local_dates():
    df = shop(end="2024-12-10")
    local = df.assign(ds=df["ds"].dt.tz_localize("America/New_York"))
    naive = HolidayAdjusted(get_model("ets", freq="D"), "US").fit(df).predict(28)
    model = HolidayAdjusted(get_model("ets", freq="D"), "US").fit(local)
    fc = model.predict(28)
    assert str(fc["ds"].dt.tz) == "America/New_York"
    np.testing.assert_allclose(fc["mean"], naive["mean"], rtol=1e-9)
    assert "Christmas Day (25 Dec 2024)" in model.notes_["shop"]
