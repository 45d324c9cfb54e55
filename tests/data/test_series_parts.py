"""Dates written across several columns are one time axis: Year + Month, Year + Quarter, Year +
Week, Year + Month + Day, Date + Hour, Date + Time, and year × month tables; and the year-and-period
forms of one column (1965:1, 1965.1, fiscal years); summary rows under the years; a day and its
numbered periods (UK settlement periods); one series per row with its start in columns (M3)."""
import numpy as np
import pandas as pd
import pytest

from genlib.data.series import in_words, load_series
from genlib.errors import DataError
from genlib.data.series.labels import label_dates

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def load(text: str, name: str = "f.csv", **kw):
    return load_series(text.encode(), name=name, **kw)


def one_series(data, freq: str, start: str, n: int):
    assert data.df["unique_id"].nunique() == 1, data.df["unique_id"].unique()
    assert data.freq == freq
    assert data.df["ds"].iloc[0] == pd.Timestamp(start)
    assert len(data.df) == n


def test_year_and_month_numbers(tmp_path):
    ds = pd.date_range("1980-01-01", periods=30, freq="MS")
    data = load("year,month,v\n" + "".join(f"{d.year},{d.month},{i}\n" for i, d in enumerate(ds)))
    one_series(data, "MS", "1980-01-01", 30)
    assert data.df["y"].tolist() == list(range(30))
    assert "dates from 'year' and 'month'" in data.report.warnings[0]
    assert in_words(data.report, "app").facts["date column"] == "year + month"
    assert data.guesses["date_column"] == "year"            # a real column, for the Data page's list


def test_year_and_month_names_and_merged_year_cells():
    """A spreadsheet with the year only in each January's row (merged cells) and month names."""
    rows = [f"{1980 + i // 12 if i % 12 == 0 else ''},{MONTHS[i % 12]},{i}" for i in range(36)]
    data = load("Year,Month,Sales\n" + "\n".join(rows) + "\n")
    one_series(data, "MS", "1980-01-01", 36)
    assert data.df["ds"].iloc[-1] == pd.Timestamp("1982-12-01")
    assert any("Filled the empty cells of column 'Year'" in w for w in data.report.warnings)


@pytest.mark.parametrize("cell", ["{q}", "Q{q}"])
def test_year_and_quarter(cell):
    rows = [f"{1965 + i // 4},{cell.format(q=i % 4 + 1)},{100 + i}" for i in range(20)]
    data = load("Year,Quarter,GDP\n" + "\n".join(rows) + "\n")
    one_series(data, "QS", "1965-01-01", 20)
    assert data.df["ds"].iloc[5] == pd.Timestamp("1966-04-01")


def test_year_and_iso_week():
    mondays = pd.date_range("2020-01-06", periods=60, freq="W-MON")
    rows = [f"{d.isocalendar()[0]},{d.isocalendar()[1]},{i}" for i, d in enumerate(mondays)]
    data = load("year,week,visits\n" + "\n".join(rows) + "\n")
    one_series(data, "W-MON", "2020-01-06", 60)


def test_year_month_day_names_an_impossible_day():
    days = pd.date_range("2020-01-01", periods=80)
    rows = [f"{d.year},{d.month},{d.day},{i}" for i, d in enumerate(days)]
    rows[40] = "2020,2,30,40"                                 # the 30th of February
    data = load("Year,Month,Day,Temp\n" + "\n".join(rows) + "\n")
    assert data.freq == "D" and data.df["ds"].iloc[0] == pd.Timestamp("2020-01-01")
    assert ("row 42", "'2020 2 30' is not a date") in data.report.skipped


@pytest.mark.parametrize("header,first,note", [("Hour", 0, "Read the hours from column 'Hour'."),
                                               ("HE", 1, "as hours ending (1 = 00:00–01:00)")])
def test_date_and_hour(header, first, note):
    stamps = pd.date_range("2021-03-01", periods=72, freq="h")
    rows = [f"{t:%m/%d/%Y},{t.hour + first},{i}" for i, t in enumerate(stamps)]
    data = load(f"Date,{header},Load\n" + "\n".join(rows) + "\n")
    one_series(data, "h", "2021-03-01 00:00", 72)
    assert data.df["ds"].iloc[-1] == pd.Timestamp("2021-03-03 23:00")
    assert any(note in w for w in data.report.warnings)


@pytest.mark.parametrize("fmt", ["%H:%M", "%I:%M %p", "%H:%M:%S"])
def test_date_and_time_of_day(fmt):
    stamps = pd.date_range("2021-03-01", periods=96, freq="30min")
    rows = [f"{t:%Y-%m-%d},{t.strftime(fmt)},{i}" for i, t in enumerate(stamps)]
    data = load("Date,Time,Demand\n" + "\n".join(rows) + "\n")
    one_series(data, "30min", "2021-03-01 00:00", 96)
    assert data.df["y"].tolist() == list(range(96))          # nothing averaged into days


def test_year_by_month_table_with_a_total_column_and_a_part_year():
    """Statistical tables: a row per year, a column per month, an annual total beside them."""
    v = np.arange(1, 41, dtype=float)
    rows = []
    for k, year in enumerate(range(1949, 1953)):
        cells = [f"{x:g}" if x <= 40 else "" for x in range(12 * k + 1, 12 * k + 13)]
        rows.append(f"{year}," + ",".join(cells) + f",{sum(float(c) for c in cells if c):g}")
    data = load("Year," + ",".join(MONTHS) + ",Annual\n" + "\n".join(rows) + "\n", name="passengers.csv")
    one_series(data, "MS", "1949-01-01", 40)
    assert data.df["y"].tolist() == v.tolist() and data.df["unique_id"].iloc[0] == "passengers"
    assert ("column 'Annual'", "not a month (the series runs through the month columns)") in data.report.skipped
    assert "a row per year ('Year') and a column per month ('Jan' … 'Dec')" in data.report.warnings[0]


def test_year_by_quarter_table_per_region():
    rows = [f"{r},{y},{y - 1990 + 1},{y - 1990 + 2},{y - 1990 + 3},{y - 1990 + 4}"
            for r in ("North", "South") for y in range(1990, 2000)]
    data = load("Region,Year,Q1,Q2,Q3,Q4\n" + "\n".join(rows) + "\n")
    assert sorted(data.df["unique_id"].unique()) == ["North", "South"]
    assert data.freq == "QS" and len(data.df) == 80


@pytest.mark.parametrize("cells,freq", [(["1965:1", "1965:2", "1965:3", "1965:4", "1966:1"], "QS"),
                                        (["1980:01", "1980:02", "1980:03", "1980:04", "1980:05"], "MS"),
                                        (["1980.10", "1980.11", "1980.12", "1981.01", "1981.02"], "MS")])
def test_year_and_period_after_a_colon_or_dot(cells, freq):
    data = load("Period,v\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells)))
    assert data.has_dates and data.freq == freq


def test_dotted_quarters_in_a_column_of_numbers():
    """1965.1 reads as a number; named Quarter it is a year and its quarter, not a second series."""
    rows = [f"{1965 + i // 4}.{i % 4 + 1},{100 + i}" for i in range(20)]
    data = load("Quarter,GDP\n" + "\n".join(rows) + "\n")
    one_series(data, "QS", "1965-01-01", 20)
    assert data.df["ds"].iloc[-1] == pd.Timestamp("1969-10-01")


@pytest.mark.parametrize("fmt", ["{a}-{b:02d}", "{a}/{a1}", "FY{a}-{b:02d}"])
def test_fiscal_years_are_the_year_they_start(fmt):
    rows = [fmt.format(a=a, a1=a + 1, b=(a + 1) % 100) + f",{a}" for a in range(1990, 2010)]
    data = load("Year,Budget\n" + "\n".join(rows) + "\n")
    one_series(data, "YS", "1990-01-01", 20)
    assert any("Read fiscal years such as" in w for w in data.report.warnings)


def test_label_dates_fy_and_monthly_spans_are_not_fiscal():
    assert label_dates(pd.Series(["FY2020", "FY 21"])).dt.year.tolist() == [2020, 2021]
    months = label_dates(pd.Series(["2010-11", "2010-12", "2011-01"]))
    assert months is None or months.isna().all()              # months, read by to_datetime, not fiscal years
    data = load("month,v\n2010-11,1\n2010-12,2\n2011-01,3\n2011-02,4\n")
    assert data.freq == "MS"


def test_columns_named_like_parts_that_hold_other_numbers_stay_series():
    """A column named Month holding sales (not 1–12) is a series; an Hour column beside timed
    dates is not joined to them (they have their times) and, repeating their hours, is named as
    the hour of the dates rather than forecast; a Day column of other numbers stays a series."""
    data = load("Year,Month\n" + "".join(f"{y},{200 + y % 7}\n" for y in range(1990, 2010)))
    assert data.freq == "YS" and data.df["unique_id"].unique().tolist() == ["Month"]
    stamps = pd.date_range("2021-03-01 00:30", periods=30, freq="h")
    data = load("Time,Hour,Load\n" + "".join(f"{t:%Y-%m-%d %H:%M},{t.hour},{i}\n" for i, t in enumerate(stamps)))
    assert data.freq == "h" and set(data.df["unique_id"]) == {"Load"}
    assert ("column 'Hour'", "the hour of the dates in 'Time', not a measurement") in data.report.skipped
    data = load("Time,Hour,Load\n" + "".join(f"{t:%Y-%m-%d %H:%M},{t.hour + 1},{i}\n" for i, t in enumerate(stamps)))
    assert set(data.df["unique_id"]) == {"Hour", "Load"}


def test_the_chosen_year_column_still_joins_its_month():
    ds = pd.date_range("1980-01-01", periods=24, freq="MS")
    data = load("year,month,v\n" + "".join(f"{d.year},{d.month},{i}\n" for i, d in enumerate(ds)),
                date_column="year")
    one_series(data, "MS", "1980-01-01", 24)


# --- the exports of statistics offices ------------------------------------------------------

def test_world_bank_csv_a_row_per_country_and_a_column_per_year():
    """World Bank files start with label-and-value lines, then Country Name … 1960, 1961, …,
    with empty early years and a trailing comma on every line."""
    years = list(range(1960, 1980))
    head = '"Data Source","World Development Indicators",\n\n"Last Updated Date","2023-05-10",\n\n'
    header = '"Country Name","Country Code","Indicator Name","Indicator Code",' + \
        ",".join(f'"{y}"' for y in years) + ",\n"
    rows = "".join(f'"{c}","{c[:3].upper()}","GDP (current US$)","NY.GDP.MKTP.CD",' +
                   ",".join('""' if y < 1963 else f'"{k * 1e9 + (y - 1960) * 12345.678:.3f}"' for y in years) + ",\n"
                   for k, c in enumerate(["Aruba", "Afghanistan", "Angola"], start=1))
    data = load(head + header + rows, name="API_NY.GDP.MKTP.CD.csv")
    assert sorted(data.df["unique_id"].unique()) == ["Afghanistan", "Angola", "Aruba"]
    assert data.freq == "YS" and data.df["ds"].min() == pd.Timestamp("1963-01-01")
    assert data.df.groupby("unique_id").size().tolist() == [17, 17, 17]
    assert "Skipped 2 title line(s) above the table ('Data Source')." in data.report.repairs


def test_ons_csv_notes_above_and_yearly_rows_among_quarterly_ones():
    """ONS files: Title, CDID, … each with its value, then the years, then the quarters."""
    notes = ['"Title","Gross Domestic Product: chained volume measures"', '"CDID","ABMI"', '"PreUnit","£"',
             '"Unit","m"', '"Release date","12-05-2023"', '"Important notes",""']
    years = [f'"{y}","{4000 + y}"' for y in range(2000, 2010)]
    quarters = [f'"{y} Q{q}","{1000 + 4 * (y - 2000) + q}"' for y in range(2000, 2010) for q in range(1, 5)]
    data = load("\n".join(notes + years + quarters) + "\n", name="ons.csv")
    one_series(data, "QS", "2000-01-01", 40)
    assert data.df["unique_id"].iloc[0] == "Gross Domestic Product: chained volume measures"
    assert data.df["y"].iloc[:3].tolist() == [1001.0, 1002.0, 1003.0]          # no year averaged in
    words = " ".join(data.report.warnings + data.report.repairs)
    assert "Skipped 6 lines of notes above the data ('Title', 'CDID', 'PreUnit' …)." in words
    assert "mixes yearly rows ('2000') with quarterly ones ('2000 Q1'); used the quarterly rows" in words


def test_eurostat_tsv_flags_and_colons_are_said_once():
    cols = [f"2020M{m:02d} " for m in range(1, 13)]
    rows = [f"M,I15,{g}\t" + "\t".join(": " if m == 3 else f"{100 + m}.5" + (" p" if m > 9 else "")
                                        for m in range(12)) for g in ("AT", "BE")]
    data = load("freq,unit,geo\\TIME_PERIOD\t" + "\t".join(cols) + "\n" + "\n".join(rows) + "\n", name="e.tsv")
    assert data.freq == "MS" and data.df["unique_id"].nunique() == 2 and len(data.df) == 24
    marks = [r for r in data.report.repairs if "data-quality marks" in r]
    assert marks == ["Removed data-quality marks (110.5 p → 110.5) in columns '2020M11', '2020M12'."]


def test_our_world_in_data_csv_a_year_per_entity():
    """Entity, Code, Year, value: the years repeat across entities, so Entity names the series."""
    rows = [f"{e},{c},{y},{50 + k + 0.3 * (y - 1950):.3f}" for k, (e, c) in
            enumerate([("Afghanistan", "AFG"), ("World", "OWID_WRLD")]) for y in range(1950, 1980)]
    data = load("Entity,Code,Year,Life expectancy at birth (historical)\n" + "\n".join(rows) + "\n")
    assert sorted(data.df["unique_id"].unique()) == ["Afghanistan", "World"]
    assert data.freq == "YS" and len(data.df) == 60


@pytest.mark.parametrize("name,scale,unit", [("timestamp", 1, "seconds"), ("open_time", 1000, "milliseconds")])
def test_unix_times_in_a_column_named_for_time(name, scale, unit):
    """Exchange and sensor exports: Unix times are the time axis, not a series to forecast."""
    start = 1609459200                                        # 2021-01-01 00:00 UTC
    rows = [f"{(start + 3600 * i) * scale},{30000 + i}" for i in range(48)]
    data = load(f"{name},price\n" + "\n".join(rows) + "\n")
    one_series(data, "h", "2021-01-01 00:00", 48)
    assert any(f"as Unix times in {unit}" in w for w in data.report.warnings)


def test_durations_named_time_stay_numbers():
    data = load("time,temperature\n" + "".join(f"{i * 30},{20 + i % 3}\n" for i in range(40)))
    assert not data.has_dates


@pytest.mark.parametrize("names", [
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
    ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"],
    ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
    ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"],
    ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]])
def test_month_names_in_other_languages(names):
    text = "Mois;Ventes\n" + "".join(f"{names[i % 12]} {2018 + i // 12};{i}\n" for i in range(36))
    data = load(text)
    one_series(data, "MS", "2018-01-01", 36)
    assert data.df["ds"].iloc[-1] == pd.Timestamp("2020-12-01")
    german = "Jahr;Monat;Umsatz\n" + "".join(f"{2018 + i // 12};{names[i % 12]};{i}\n" for i in range(24))
    one_series(load(german), "MS", "2018-01-01", 24)


@pytest.mark.parametrize("fmt", ["%a %d/%m/%Y", "%A, %Y-%m-%d"])
def test_a_days_name_before_the_date_is_ignored(fmt):
    days = pd.date_range("2020-01-06", periods=30)
    data = load("Date,Sales\n" + "".join(f'"{d.strftime(fmt)}",{i}\n' for i, d in enumerate(days)))
    one_series(data, "D", "2020-01-06", 30)


# --- summary rows under a table of years ----------------------------------------------------------
def test_year_by_month_table_with_summary_rows_below():
    """An "Average" row and a source line under the years are left out and named, not a reason to
    read the table as twelve yearly series."""
    rows = [f"{y}," + ",".join(str(100 + 12 * (y - 2015) + m) for m in range(12)) + ",0" for y in range(2015, 2021)]
    text = "Year," + ",".join(MONTHS) + ",Total\n" + "\n".join(rows) + "\nAverage," + ",".join(["1"] * 13) + \
        "\nSource: statistics office" + "," * 13 + "\n"
    data = load(text, name="visitors.csv")
    one_series(data, "MS", "2015-01-01", 72)
    assert data.df["y"].tolist() == [100.0 + i for i in range(72)]
    assert ("row 8", "'Average' is not a year (a summary row, left out)") in data.report.skipped
    assert ("row 9", "'Source: statistics office' is not a year (a summary row, left out)") in data.report.skipped


def test_year_and_month_columns_with_a_total_row_below():
    rows = [f"{1990 + i // 12},{i % 12 + 1},{i}" for i in range(36)]
    data = load("Year,Month,Sales\n" + "\n".join(rows) + "\nTotal,,630\n")
    one_series(data, "MS", "1990-01-01", 36)
    assert ("row 38", "'Total' is not a date") in data.report.skipped


def test_words_above_the_years_still_refuse_the_year_column():
    """Only words below the last year are a summary; a word among the years is not."""
    rows = [f"{1990 + i // 12},{i % 12 + 1},{i}" for i in range(36)]
    rows[5] = "see note,6,5"
    with pytest.raises(DataError, match="Column 'Year' should hold numbers but 1 cell.s. do not: row 7: 'see note'"):
        load("Year,Month,Sales\n" + "\n".join(rows) + "\n")


# --- a day and its numbered periods ---------------------------------------------------------------
def test_uk_settlement_periods_across_the_clock_change():
    """SETTLEMENT_DATE + SETTLEMENT_PERIOD 1–48 (46 on the spring day the clocks go forward): one
    half-hourly series on UTC with no gap and no repeat."""
    rows = []
    for day in pd.date_range("2023-03-24", "2023-04-02"):
        for p in range(1, (46 if day == pd.Timestamp("2023-03-26") else 48) + 1):
            rows.append(f"{day.date()},{p},{20000 + 100 * p}")
    data = load("SETTLEMENT_DATE,SETTLEMENT_PERIOD,ND\n" + "\n".join(rows) + "\n", name="demand.csv")
    one_series(data, "30min", "2023-03-24", len(rows))
    ds = data.df["ds"]
    assert ds.diff().dropna().eq(pd.Timedelta("30min")).all()                 # no gap, no repeat
    assert ds.iloc[-1] == pd.Timestamp("2023-04-02 22:30")                # summer: UK midnight is 23:00 UTC
    assert not data.report.repairs
    assert any("as the day's half-hours (1 = 00:00 UK time; times are in UTC" in w for w in data.report.warnings)
    assert in_words(data.report, "app").facts["date column"] == "SETTLEMENT_DATE + SETTLEMENT_PERIOD"


@pytest.mark.parametrize("name,per_day,step", [("Period", 48, "30min"), ("Block", 96, "15min"),
                                               ("Interval", 24, "h")])
def test_a_day_and_its_numbered_periods(name, per_day, step):
    days = pd.date_range("2024-01-01", periods=5)
    rows = [f"{d.date()},{p},{i}" for i, (d, p) in enumerate((d, p) for d in days for p in range(1, per_day + 1))]
    data = load(f"Date,{name},Load\n" + "\n".join(rows) + "\n")
    one_series(data, step, "2024-01-01", 5 * per_day)
    assert data.df["y"].tolist() == list(range(5 * per_day))


def test_a_period_column_of_months_is_not_read_as_hours():
    """Period 1–12 beside dates is not a day's hours: the rows stay one series per period value."""
    rows = [f"2024-01-{d:02d},{p},{d * p}" for d in range(1, 11) for p in range(1, 13)]
    data = load("Date,Period,Load\n" + "\n".join(rows) + "\n")
    assert data.freq == "D" and data.df["unique_id"].nunique() == 12


# --- one series per row with its start in columns (the M3 competition's files) ---------------------
def m3_rows(start_cols: str, starts: list[str], lengths: list[int]) -> str:
    width = max(lengths)
    head = f"Series,N,NF,Category,{start_cols}," + ",".join(str(i) for i in range(1, width + 1))
    rows = [f"N{k},{n},6,MICRO,{s}," + ",".join(str(10 * k + i) for i in range(n)) + "," * (width - n)
            for k, (s, n) in enumerate(zip(starts, lengths))]
    return head + "\n" + "\n".join(rows) + "\n"


def test_rows_with_a_starting_year_and_month():
    data = load(m3_rows("Starting Year,Starting Month", ["1990,1", "1985,10", "1992,7"], [30, 24, 20]))
    assert data.freq == "MS" and data.guesses["layout"] == "rows" and data.guesses["id_column"] == "Series"
    first = data.df.groupby("unique_id")["ds"].first()
    assert first.to_dict() == {"N0": pd.Timestamp("1990-01-01"), "N1": pd.Timestamp("1985-10-01"),
                               "N2": pd.Timestamp("1992-07-01")}
    assert data.df.groupby("unique_id").size().to_dict() == {"N0": 30, "N1": 24, "N2": 20}
    n1 = data.df[data.df["unique_id"] == "N1"]
    assert n1["y"].iloc[0] == 10 and n1["ds"].iloc[-1] == pd.Timestamp("1987-09-01")   # N and NF are not values
    assert ("column 'N'", "not a time step (the values run through the columns numbered '1' … '30')") \
        in data.report.skipped
    assert in_words(data.report, "app").facts["date column"] == "Starting Year + Starting Month"


@pytest.mark.parametrize("cols,starts,freq,second", [
    ("Starting Year,Starting Quarter", ["1984,1", "1980,3"], "QS", "1980-07-01"),
    ("Start Year", ["1975", "1969"], "YS", "1969-01-01"),
    ("start_year,start_month", ["2001,Mar", "2002,Jan"], "MS", "2002-01-01"),
])
def test_rows_with_other_starts(cols, starts, freq, second):
    data = load(m3_rows(cols, starts, [20, 16]))
    assert data.freq == freq
    assert data.df.groupby("unique_id")["ds"].first()["N1"] == pd.Timestamp(second)


def test_a_row_whose_start_is_no_date_is_left_out_and_named():
    """The published M3 workbook has series starting in "year 0, month 0" and a quarter 9."""
    starts = [f"{1980 + k},1" for k in range(11)] + ["0,0"]
    data = load(m3_rows("Starting Year,Starting Month", starts, [24] * 12))
    assert data.df["unique_id"].nunique() == 11 and data.freq == "MS"
    assert ("series 'N11'", "its start (0 0 in 'Starting Year' and 'Starting Month') is not a date") \
        in data.report.skipped


def test_rows_without_a_start_leave_their_counts_out():
    """M3's "other" sheet: no dates at all, N and NF beside the columns 1 … n."""
    data = load(m3_rows("x,y", ["0,0", "0,0"], [12, 10]))
    assert not data.has_dates and data.guesses["layout"] == "rows"
    assert data.df.groupby("unique_id").size().to_dict() == {"N0": 12, "N1": 10}
    assert data.df.groupby("unique_id")["y"].first().to_dict() == {"N0": 0, "N1": 10}
    skipped = dict(data.report.skipped)
    assert {"column 'N'", "column 'NF'", "column 'x'", "column 'y'"} <= set(skipped)


def test_numbered_year_headers_are_dates_not_time_steps():
    """World Bank tables have columns 1960, 1961, …: dates, not steps 1, 2, 3."""
    data = load("Country,Code,1960,1961,1962,1963\nAruba,ABW,1,2,3,4\nChad,TCD,5,6,7,8\n")
    assert data.freq == "YS" and data.df["unique_id"].nunique() == 2


# --- one series per column with its length and start in its first rows (the tourism competition) --
def tourism(names: list[str], heads: list[list[int]], lengths: list[int]) -> str:
    width = max(lengths)
    cells = [[*head, *[100 + 10 * j + i for i in range(n)], *[""] * (width - n)]
             for j, (head, n) in enumerate(zip(heads, lengths))]
    return ",".join(names) + "\n" + "\n".join(",".join(map(str, row)) for row in zip(*cells)) + "\n"


@pytest.mark.parametrize("names,heads,freq,second", [
    (["m1", "m2"], [[30, 1994, 1], [24, 1995, 7]], "MS", "1995-07-01"),
    (["q1", "q2"], [[30, 1980, 1], [24, 1982, 3]], "QS", "1982-07-01"),
    (["y1", "y2"], [[30, 1960], [24, 1970]], "YS", "1970-01-01"),
])
def test_columns_with_their_length_and_start_in_the_first_rows(names, heads, freq, second):
    data = load(tourism(names, heads, [30, 24]), name="monthly_in.csv" if freq == "MS" else "in.csv")
    assert data.freq == freq
    assert data.df.groupby("unique_id").size().to_dict() == {names[0]: 30, names[1]: 24}
    assert data.df.groupby("unique_id")["ds"].first()[names[1]] == pd.Timestamp(second)
    assert data.df.groupby("unique_id")["y"].first().to_dict() == {names[0]: 100, names[1]: 110}
    head = len(heads[0])
    assert any(w.startswith(f"Read the first {head} rows of each column as its length, start year") for w in
               data.report.warnings)


def test_a_first_row_that_is_not_the_count_is_a_value():
    text = tourism(["a", "b"], [[29, 1994, 1], [24, 1995, 7]], [30, 24])        # 29: not the count below
    data = load(text)
    assert not data.has_dates and data.df.groupby("unique_id").size().to_dict() == {"a": 33, "b": 27}
