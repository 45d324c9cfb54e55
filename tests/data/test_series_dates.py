"""Dates as people write them are the time axis: integer years, quarter, month and week labels."""
import numpy as np
import pandas as pd
import pytest

from genlib.cli.forecast import add_commands
from genlib.data.series import load_series
from genlib.data.series.labels import label_dates
from genlib.errors import DataError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sunspots_csv() -> str:
    """Shaped like statsmodels' yearly sunspots: YEAR 1700..1988 as integers, then the series."""
    years = np.arange(1700, 1989)
    activity = 50 + 40 * np.sin(2 * np.pi * (years - 1700) / 11)
    return "YEAR,SUNACTIVITY\n" + "".join(f"{y}.0,{a:.1f}\n" for y, a in zip(years, activity))


def labelled_csv(form: str, header: str = "Quarter", years=range(1965, 1970), per_year=4) -> str:
    rows = [f"{form.format(y=y, n=n)},{100 + 10 * i}" for i, (y, n) in
            enumerate((y, n) for y in years for n in range(1, per_year + 1))]
    return f"{header},sales\n" + "\n".join(rows) + "\n"


# --- integer years ----------------------------------------------------------------------------

def test_sunspots_years_from_1700_are_the_time_axis(tmp_path):
    data = load_series(write(tmp_path, "sunspots.csv", sunspots_csv()))
    assert data.has_dates and data.freq == "YS"
    assert data.df["unique_id"].unique().tolist() == ["SUNACTIVITY"]          # YEAR is not a series
    assert data.df["ds"].iloc[0] == pd.Timestamp("1700-01-01")
    assert data.df["ds"].iloc[-1] == pd.Timestamp("1988-01-01") and len(data.df) == 289
    assert data.guesses["date_column"] == "YEAR"
    assert "Read the numbers in column 'YEAR' as years." in data.report.warnings


def test_lowercase_year_from_1871_still_works(tmp_path):
    text = "year,flow\n" + "".join(f"{y},{1000 + (y * 37) % 200}\n" for y in range(1871, 1961))
    data = load_series(write(tmp_path, "nile.csv", text))
    assert data.freq == "YS" and data.df["unique_id"].unique().tolist() == ["flow"]
    assert data.df["ds"].iloc[0] == pd.Timestamp("1871-01-01") and len(data.df) == 90


def test_years_with_a_regular_step_in_another_column_position(tmp_path):
    text = "population,Year\n" + "".join(f"{100 + i},{y}\n" for i, y in enumerate(range(1750, 1850, 5)))
    data = load_series(write(tmp_path, "census.csv", text))
    assert data.freq == "5YS" and data.df["unique_id"].unique().tolist() == ["population"]
    assert data.df["ds"].iloc[1] == pd.Timestamp("1755-01-01")


def test_years_before_1678_are_refused_with_a_sentence(tmp_path):
    text = "year,wheat\n" + "".join(f"{y},{i}\n" for i, y in enumerate(range(1500, 1700)))
    with pytest.raises(DataError, match=r"Column 'year' holds years from 1500; genlib's dates start in 1678"):
        load_series(write(tmp_path, "wheat.csv", text))


@pytest.mark.parametrize("text", [
    "a,b\n3,1\n7,2\n2,3\n9,4\n",                                                   # counts
    "id,v\n" + "".join(f"{i},{i * 2 % 7}\n" for i in range(1, 101)),              # ids 1..100
    "store,sales\n" + "".join(f"{i},{i * 3 % 11}\n" for i in range(1701, 1801)),  # ids that step like years
])
def test_integers_that_are_not_years_are_not_dates(tmp_path, text):
    data = load_series(write(tmp_path, "n.csv", text))
    assert not data.has_dates and data.freq is None


# --- labels -----------------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["Q{n} {y}", "{y}Q{n}", "{y}-Q{n}", "{y} Q{n}", "Q{n}-{y}", "q{n} {y}",
                                  "{y}q{n}"])
def test_quarter_labels(tmp_path, form):
    data = load_series(write(tmp_path, "q.csv", labelled_csv(form)))
    assert data.freq == "QS" and len(data.df) == 20
    assert data.df["ds"].iloc[:3].tolist() == [pd.Timestamp("1965-01-01"), pd.Timestamp("1965-04-01"),
                                               pd.Timestamp("1965-07-01")]
    assert data.df["ds"].iloc[-1] == pd.Timestamp("1969-10-01")


@pytest.mark.parametrize("form", ["FY{s} Q{n}", "FY{y}-Q{n}", "Q{n} FY{s}", "Q{n}-{s}", "Q{n} '{s}", "{s}Q{n}"])
def test_quarters_with_two_digit_and_fiscal_years(tmp_path, form):
    """Finance exports: FY20 Q1, Q1-24, 24Q1. A fiscal year is read as the calendar year it names,
    and the report says so, since the company's fiscal year may start in another month."""
    rows = [f"{form.format(y=y, s=y % 100, n=n)},{100 + 10 * i}" for i, (y, n) in
            enumerate((y, n) for y in range(2018, 2023) for n in range(1, 5))]
    data = load_series(write(tmp_path, "q.csv", "Quarter,Revenue\n" + "\n".join(rows) + "\n"))
    assert data.freq == "QS" and data.df["ds"].iloc[[0, 1, -1]].tolist() == [
        pd.Timestamp("2018-01-01"), pd.Timestamp("2018-04-01"), pd.Timestamp("2022-10-01")]
    fiscal = [w for w in data.report.warnings if w.startswith("Read fiscal periods such as")]
    assert bool(fiscal) == ("FY" in form)
    if fiscal:
        assert "→ 2018-01-01); if the fiscal year starts in another month, the dates are shifted" in fiscal[0]


@pytest.mark.parametrize("first, sep, last", [("%Y-%m-%d", " - ", "%Y-%m-%d"), ("%b %d, %Y", " – ", "%b %d, %Y"),
                                              ("%d/%m/%Y", " to ", "%d/%m/%Y")])
def test_date_ranges_are_read_by_their_first_day(tmp_path, first, sep, last):
    """Search Console, Ads and analytics exports write each week as a range of dates."""
    weeks = pd.date_range("2024-01-01", periods=20, freq="W-MON")
    text = "Week,Clicks,Impressions\n" + "".join(
        f'"{w.strftime(first)}{sep}{(w + pd.Timedelta(days=6)).strftime(last)}",{100 + i},{900 + 7 * i}\n'
        for i, w in enumerate(weeks))
    data = load_series(write(tmp_path, "weeks.csv", text))
    assert data.freq == "W-MON" and set(data.df["unique_id"]) == {"Clicks", "Impressions"}
    assert data.df["ds"].drop_duplicates().tolist() == list(weeks)
    assert any(w.startswith("Read date ranges such as") and "by their first day" in w for w in data.report.warnings)


def test_entsoe_quarter_hours_as_ranges_with_not_expected_values(tmp_path):
    """ENTSO-E's load export: each quarter-hour as a range of day-first stamps, and 'n/e' (not
    expected) for the hours not yet measured."""
    t = pd.date_range("2024-01-08", periods=96 * 3, freq="15min")
    rows = [f'"{a:%d.%m.%Y %H:%M} - {a + pd.Timedelta(minutes=15):%d.%m.%Y %H:%M}","{50000 + i}",'
            f'"{"n/e" if i >= 96 * 2 else 49000 + i}"' for i, a in enumerate(t)]
    text = '"Time (CET/CEST)","Day-ahead Total Load Forecast [MW]","Actual Total Load [MW]"\n' + "\n".join(rows)
    data = load_series(write(tmp_path, "Total Load - Day Ahead _ Actual.csv", text + "\n"))
    assert data.freq == "15min" and data.df.groupby("unique_id").size().to_dict() == {
        "Actual Total Load [MW]": 192, "Day-ahead Total Load Forecast [MW]": 288}
    assert data.df["ds"].iloc[0] == pd.Timestamp("2024-01-08 00:00")


@pytest.mark.parametrize("fmt, freq", [("{y}年{m}月{d}日", "D"), ("{y}年{m}月", "MS"), ("{y}년 {m}월 {d}일", "D")])
def test_chinese_japanese_and_korean_dates(tmp_path, fmt, freq):
    ds = pd.date_range("2024-01-01", periods=30, freq=freq)
    text = "日付,売上\n" + "".join(f"{fmt.format(y=d.year, m=d.month, d=d.day)},{100 + i}\n" for i, d in enumerate(ds))
    data = load_series(write(tmp_path, "sales.csv", text))
    assert data.freq == freq and data.df["ds"].tolist() == list(ds) and data.df["unique_id"].iloc[0] == "売上"


def test_a_column_of_unread_dates_taken_for_names_says_so(tmp_path):
    """Before, such a file was refused with "no series has at least 3 values (the longest has 1)"."""
    text = "Tag,Umsatz\n" + "".join(f"{d} der {i + 1}.,{i}\n" for i, d in enumerate(["Montag", "Dienstag",
                                                                                         "Mittwoch", "Donnerstag"]))
    with pytest.raises(DataError, match=r"each of the 4 series has a single value: 'Dienstag der 2\.', .* were "
                                        r"read as the names of series\. If they are dates, pass date_column=… with their column"):
        load_series(write(tmp_path, "tage.csv", text))


def test_excel_day_numbers_in_a_date_column_are_dates_and_amounts_are_not(tmp_path):
    """A spreadsheet saved with its dates as numbers: 45292 is 1 January 2024 (days since
    30 December 1899). Amounts in that range under a name that says time stay a series."""
    days = np.arange(45292, 45352)
    data = load_series(write(tmp_path, "sheet.csv", "Date,Sales\n" + "".join(f"{d},{d % 7 + 50}\n" for d in days)))
    assert data.freq == "D" and data.df["unique_id"].unique().tolist() == ["Sales"]
    assert data.df["ds"].iloc[0] == pd.Timestamp("2024-01-01") and data.df["ds"].iloc[-1] == pd.Timestamp("2024-02-29")
    assert "Read the numbers in column 'Date' as dates the way Excel counts them, in days since 1900 (45292 → " \
           "2024-01-01)." in data.report.warnings
    visitors = np.random.default_rng(0).integers(20_000, 79_000, 40)
    data = load_series(write(tmp_path, "v.csv", "visitors per day\n" + "".join(f"{v}\n" for v in visitors)))
    assert not data.has_dates and data.df["y"].tolist() == visitors.tolist()


@pytest.mark.parametrize("fmt", ["%b %Y", "%B %Y", "%Y-%b", "%b-%y", "%Y %B", "%b. %Y"])
def test_month_names(tmp_path, fmt):
    ds = pd.date_range("1980-01-01", periods=30, freq="MS")
    text = "Month,v\n" + "".join(f"{d.strftime(fmt)},{i}\n" for i, d in enumerate(ds))
    data = load_series(write(tmp_path, "m.csv", text))
    assert data.freq == "MS" and data.df["ds"].tolist() == list(ds)


def test_two_digit_years_after_month_names_follow_the_century_rule(tmp_path):
    text = "Month,v\nNov-23,1\nDec-23,2\nJan-24,3\nFeb-24,4\nMar-24,5\n"     # not March 24th, year 1
    data = load_series(write(tmp_path, "m.csv", text))
    assert data.freq == "MS"
    assert data.df["ds"].iloc[[0, -1]].tolist() == [pd.Timestamp("2023-11-01"), pd.Timestamp("2024-03-01")]


@pytest.mark.parametrize("form", ["{y}-W{n:02d}", "{y} W{n}", "W{n:02d} {y}", "{y}W{n:02d}",
                                  "Week {n} {y}", '"Wk {n}, {y}"', "week{n}-{y}", "{y} week {n}",
                                  "{y}-W{n:02d}-1"])
@pytest.mark.parametrize("header", ["Week", "Period"])
def test_iso_week_labels_are_their_mondays(tmp_path, form, header):
    data = load_series(write(tmp_path, "w.csv", labelled_csv(form, header, [2020], per_year=53)))
    assert data.freq == "W-MON" and len(data.df) == 53
    assert data.df["ds"].iloc[0] == pd.Timestamp("2019-12-30")               # 2020-W01 starts in 2019
    assert data.df["ds"].iloc[-1] == pd.Timestamp("2020-12-28")              # 2020 has a week 53


def test_label_dates_reads_each_form_and_rejects_impossible_periods():
    cells = pd.Series(["Q1 1965", "1965-q4", "2020-W05", "2021-W53", "Jan-80", "1980M03", "Q5 1965", None])
    got = label_dates(cells)
    assert got.iloc[:3].tolist() == [pd.Timestamp("1965-01-01"), pd.Timestamp("1965-10-01"),
                                     pd.Timestamp("2020-01-27")]
    assert pd.isna(got.iloc[3])                                      # 2021 has only 52 ISO weeks
    assert got.iloc[4:6].tolist() == [pd.Timestamp("1980-01-01"), pd.Timestamp("1980-03-01")]
    assert got.iloc[6:].isna().all() and got.dtype == "datetime64[ns]"
    assert label_dates(pd.Series(["2024-01-31", "2024-02-29"])) is None      # ordinary dates: not labels
    days = label_dates(pd.Series(["2020-W05-3", "2020-W05-7", "2020-W05-8"]))  # ISO week dates
    assert days.iloc[:2].tolist() == [pd.Timestamp("2020-01-29"), pd.Timestamp("2020-02-02")]
    assert pd.isna(days.iloc[2])                                             # no 8th weekday


def test_wide_file_with_quarter_labels_and_two_value_columns(tmp_path):
    rows = [f"Q{n} {y},{100 + i},{50 - i}" for i, (y, n) in
            enumerate((y, n) for y in range(2001, 2006) for n in range(1, 5))]
    data = load_series(write(tmp_path, "gdp.csv", "Period,exports,imports\n" + "\n".join(rows) + "\n"))
    assert data.guesses["layout"] == "wide" and data.freq == "QS"
    assert sorted(data.df["unique_id"].unique()) == ["exports", "imports"]
    assert data.df.groupby("unique_id")["ds"].max().tolist() == [pd.Timestamp("2005-10-01")] * 2


def test_long_file_with_repeated_quarter_labels(tmp_path):
    rows = [f"{shop},{y}-Q{n},{i}" for shop in ("north", "south") for i, (y, n) in
            enumerate((y, n) for y in range(2010, 2013) for n in range(1, 5))]
    data = load_series(write(tmp_path, "long.csv", "shop,quarter,sales\n" + "\n".join(rows) + "\n"))
    assert data.guesses["layout"] == "long" and data.freq == "QS" and data.n_series == 2


def test_half_hourly_and_ordinary_dates_still_work(tmp_path):
    ds = pd.date_range("2020-01-01", periods=60, freq="30min")
    text = "t,v\n" + "".join(f"{d},{i}\n" for i, d in enumerate(ds))
    assert load_series(write(tmp_path, "hh.csv", text)).freq == "30min"
    text = "date,v\n" + "".join(f"{d:%d/%m/%Y},{i}\n" for i, d in enumerate(pd.date_range("2024-01-01", periods=40)))
    data = load_series(write(tmp_path, "d.csv", text))
    assert data.freq == "D" and data.guesses["dayfirst"] is True


# --- refusals ---------------------------------------------------------------------------------

def test_unreadable_date_column_is_named_with_one_of_its_values(tmp_path):
    text = labelled_csv("Qtr {n}/{y}", years=range(65, 70))
    with pytest.raises(DataError) as err:
        load_series(write(tmp_path, "q.csv", text))
    msg = str(err.value)
    assert msg.startswith("The column “Quarter” looks like dates but “Qtr 1/65” (row 2) is not a form")
    assert "2024-03-31" in msg and "Q1 1965" in msg and "Mar 2024" in msg


def test_mostly_dates_with_garbage_names_the_first_bad_cell(tmp_path):
    ds = [f"{d:%Y-%m-%d}" for d in pd.date_range("2024-01-01", periods=10)]
    ds[3:6] = ["tbd", "soon", "later"]
    text = "when,v\n" + "".join(f"{d},{i}\n" for i, d in enumerate(ds))
    with pytest.raises(DataError, match="The column “when” looks like dates but “tbd” \\(row 5\\)"):
        load_series(write(tmp_path, "g.csv", text))


def test_chosen_date_column_that_cannot_be_read_says_what_can(tmp_path):
    text = labelled_csv("Qtr {n}/{y}", years=range(65, 70))
    with pytest.raises(DataError, match="Column 'Quarter' should hold dates .* Write dates like 2024-03-31"):
        load_series(write(tmp_path, "q.csv", text), date_column="Quarter")


# --- through the command line -----------------------------------------------------------------

@pytest.mark.parametrize("name, text, first", [
    ("quarters.csv", labelled_csv("Q{n} {y}"), "1970-01-01"),
    ("sunspots.csv", sunspots_csv(), "1989-01-01"),
])
def test_forecast_command_gives_dated_rows(tmp_path, capsys, name, text, first):
    import argparse
    p = argparse.ArgumentParser(prog="genlib")
    add_commands(p.add_subparsers(dest="command"))
    out = tmp_path / "fc.csv"
    args = p.parse_args(["forecast", str(write(tmp_path, name, text)), "--horizon", "4", "--model", "naive",
                         "--raw", "--out", str(out)])
    assert args.func(args) == 0
    fc = pd.read_csv(out, parse_dates=["ds"])
    assert len(fc) == 4 and fc["unique_id"].nunique() == 1
    assert fc["ds"].iloc[0] == pd.Timestamp(first)
    assert fc["ds"].is_monotonic_increasing and fc["ds"].dt.month.isin([1, 4, 7, 10]).all()
