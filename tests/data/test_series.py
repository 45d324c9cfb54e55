"""load_series: awkward files built in tmp_path, plus the shared real data sets when present."""
import gzip
import io
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from genlib.data.series import SAMPLE_SERIES, SeriesData, load_sample_series, load_series
from genlib.data.series import read as series_read
from genlib.data.series import sample_series_csv
from genlib.data.series import tidy as series_tidy
from genlib.errors import DataError, GenlibError



def write(tmp_path, name, text, encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def daily_csv(n=10, sep=",", start="2024-01-01", fmt="%Y-%m-%d", values=None):
    dates = pd.date_range(start, periods=n, freq="D")
    values = values if values is not None else [float(i) for i in range(1, n + 1)]
    return "date" + sep + "sales\n" + "".join(f"{d.strftime(fmt)}{sep}{v}\n" for d, v in zip(dates, values))


def check_schema(data: SeriesData):
    df = data.df
    assert list(df.columns) == ["unique_id", "ds", "y"]
    assert pd.api.types.is_string_dtype(df["unique_id"])
    assert df["ds"].dtype in (np.dtype("datetime64[ns]"), np.dtype("int64"))
    assert df["y"].dtype == np.float64
    assert df.equals(df.sort_values(["unique_id", "ds"], ignore_index=True))
    assert data.report.kind == "series" and data.report.used == df["unique_id"].nunique()


# --- delimiters, decimals, encodings, line endings -------------------------------------------

def test_semicolon_and_decimal_comma(tmp_path):
    text = "Datum;Umsatz\n01.02.2024;1.234,5\n02.02.2024;12,5\n03.02.2024;-3,25\n04.02.2024;7\n"
    data = load_series(write(tmp_path, "umsatz.csv", text))
    check_schema(data)
    assert data.guesses["delimiter"] == ";" and data.guesses["decimal"] == ","
    assert data.df["y"].tolist() == [1234.5, 12.5, -3.25, 7.0]
    assert data.freq == "D" and data.name == "umsatz"


@pytest.mark.parametrize("sep", ["\t", "|"])
def test_tab_and_pipe(tmp_path, sep):
    data = load_series(write(tmp_path, "s.txt", daily_csv(sep=sep)))
    assert data.guesses["delimiter"] == sep
    assert data.df["y"].tolist() == [float(i) for i in range(1, 11)]


def test_utf16_with_bom(tmp_path):
    data = load_series(write(tmp_path, "s.csv", daily_csv(), encoding="utf-16"))
    assert data.guesses["encoding"] == "UTF-16"
    assert len(data.df) == 10


def test_utf8_bom_and_crlf(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xef\xbb\xbf" + daily_csv().replace("\n", "\r\n").encode())
    data = load_series(path)
    assert data.guesses["date_column"] == "date"        # no BOM glued to the first name
    assert data.df["y"].iloc[-1] == 10.0 and data.freq == "D"


def test_latin1_headers_with_accents(tmp_path):
    text = "Année;Données température;Précipitations\n2001;12,5;3\n2002;13,1;4\n2003;11,9;5\n2004;12,2;6\n"
    data = load_series(write(tmp_path, "meteo.csv", text, encoding="latin-1"))
    assert "Windows-1252" in data.guesses["encoding"]
    assert data.guesses["value_columns"] == ["Données température", "Précipitations"]
    assert data.freq == "YS" and data.df["ds"].min() == pd.Timestamp("2001-01-01")
    assert any("not UTF-8" in w for w in data.report.warnings)


def test_excel_sep_hint_line(tmp_path):
    data = load_series(write(tmp_path, "s.csv", "sep=;\n" + daily_csv(sep=";")))
    assert data.guesses["delimiter"] == ";" and len(data.df) == 10


def test_gzip_csv(tmp_path):
    path = tmp_path / "s.csv.gz"
    path.write_bytes(gzip.compress(daily_csv().encode()))
    assert len(load_series(path).df) == 10


def test_decimal_comma_inside_quotes_of_a_comma_file(tmp_path):
    text = 'date,v\n2024-01-01,"1,5"\n2024-01-02,"2,25"\n2024-01-03,"3,5"\n'
    data = load_series(write(tmp_path, "q.csv", text))
    assert data.guesses["decimal"] == "," and data.df["y"].tolist() == [1.5, 2.25, 3.5]


def test_ambiguous_thousands_dot_is_reported(tmp_path):
    data = load_series(write(tmp_path, "t.csv", "d;v\n2024-01-01;1.234\n2024-01-02;2.000\n2024-01-03;3.500\n"))
    assert data.df["y"].tolist() == [1.234, 2.0, 3.5]
    assert any("could mean 1.234 or 1234" in w for w in data.report.warnings)
    clear = load_series(write(tmp_path, "t.csv", "d;v\n2024-01-01;1.234.567\n2024-01-02;2.000\n2024-01-03;3.500\n"))
    assert clear.guesses["decimal"] == "," and clear.df["y"].tolist() == [1234567.0, 2000.0, 3500.0]


def test_zip_with_one_csv(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("folder/data.csv", daily_csv())
    data = load_series(path)
    assert len(data.df) == 10 and any("inside the ZIP" in w for w in data.report.warnings)


def test_text_instead_of_a_path_is_explained():
    with pytest.raises(DataError, match="got text, not a file path"):
        load_series(daily_csv())


# --- dates: order of day and month, frequencies ------------------------------------------------

def test_dayfirst_detected_from_a_day_above_12(tmp_path):
    data = load_series(write(tmp_path, "s.csv", daily_csv(n=20, fmt="%d/%m/%Y")))
    assert data.guesses["dayfirst"] is True
    assert data.df["ds"].iloc[0] == pd.Timestamp("2024-01-01") and data.freq == "D"
    assert any("day-first" in w for w in data.report.warnings)


def test_monthfirst_detected(tmp_path):
    data = load_series(write(tmp_path, "s.csv", daily_csv(n=20, fmt="%m/%d/%Y")))
    assert data.guesses["dayfirst"] is False and data.freq == "D"


def test_ambiguous_dates_choose_the_regular_reading(tmp_path):
    # 01/03..10/03: day-first gives ten consecutive days; month-first gives the 3rd of ten months
    data = load_series(write(tmp_path, "s.csv", daily_csv(n=10, start="2024-03-01", fmt="%d/%m/%Y")))
    assert data.guesses["dayfirst"] is True and data.freq == "D"
    assert any("could be read day-first or month-first" in w for w in data.report.warnings)
    # the caller can insist
    forced = load_series(write(tmp_path, "s.csv", daily_csv(n=10, start="2024-03-01", fmt="%d/%m/%Y")),
                         dayfirst=False)
    assert forced.guesses["dayfirst"] is False and forced.freq == "MS"      # the 3rd of each month
    assert forced.df["ds"].iloc[0] == pd.Timestamp("2024-01-01")
    assert any("Moved 10 dates onto the monthly grid" in r for r in forced.report.repairs)


def test_ambiguous_monthly_dates_on_the_first(tmp_path):
    text = "month,value\n" + "".join(f"01/{m:02d}/2023,{m}\n" for m in range(1, 13))
    data = load_series(write(tmp_path, "m.csv", text))
    assert data.freq == "MS" and data.df["ds"].iloc[1] == pd.Timestamp("2023-02-01")
    assert data.season_length == 12


@pytest.mark.parametrize("freq, expected", [("h", "h"), ("W-SUN", "W-SUN"), ("MS", "MS"), ("ME", "ME"),
                                            ("QS", "QS"), ("YS", "YS"), ("15min", "15min")])
def test_frequency_inferred(tmp_path, freq, expected):
    ds = pd.date_range("2020-01-01", periods=12, freq=freq)
    text = "when,x\n" + "".join(f"{d},{i}\n" for i, d in enumerate(ds))
    assert load_series(write(tmp_path, "f.csv", text)).freq == expected


def test_quarter_strings_and_month_names(tmp_path):
    q = load_series(write(tmp_path, "q.csv", "q,v\n2020Q1,1\n2020Q2,2\n2020Q3,3\n2020Q4,4\n"))
    assert q.freq == "QS"
    m = load_series(write(tmp_path, "m.csv", "m,v\nJan 2021,1\nFeb 2021,2\nMar 2021,3\nApr 2021,4\n"))
    assert m.freq == "MS" and m.df["ds"].iloc[-1] == pd.Timestamp("2021-04-01")


def test_utc_offsets_and_compact_dates(tmp_path):
    text = ("t,v\n2020-03-29T00:00:00+01:00,1\n2020-03-29T01:00:00+01:00,2\n"
            "2020-03-29T03:00:00+02:00,3\n2020-03-29T04:00:00+02:00,4\n")
    data = load_series(write(tmp_path, "tz.csv", text))       # across a DST change: still hourly in UTC
    assert data.freq == "h" and data.df["ds"].iloc[0] == pd.Timestamp("2020-03-28 23:00")
    assert any("converted them to UTC" in w for w in data.report.warnings)
    compact = load_series(write(tmp_path, "c.csv", "d,v\n20240101,1\n20240102,2\n20240103,3\n"))
    assert compact.freq == "D" and compact.guesses["date_column"] == "d"


# --- repairs ----------------------------------------------------------------------------------

def test_gaps_are_filled_and_counted(tmp_path):
    text = "date,v\n2024-01-01,1\n2024-01-02,2\n2024-01-05,5\n2024-01-06,6\n2024-01-07,\n2024-01-08,8\n"
    data = load_series(write(tmp_path, "g.csv", text))
    assert data.df["y"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    repair = " ".join(data.report.repairs)
    assert "Filled 3 missing values by linear interpolation (2 missing timestamps and 1 empty cell)" in repair


@pytest.mark.parametrize("fill, expected", [("ffill", [1, 1, 3]), ("zero", [1, 0, 3])])
def test_other_fills(tmp_path, fill, expected):
    text = "date,v\n2024-01-01,1\n2024-01-03,3\n2024-01-04,4\n"
    assert load_series(write(tmp_path, "g.csv", text), fill=fill).df["y"].tolist()[:3] == expected


def test_fill_none_keeps_the_holes(tmp_path):
    text = "date,v\n2024-01-01,1\n2024-01-03,3\n2024-01-04,4\n"
    data = load_series(write(tmp_path, "g.csv", text), fill="none")
    assert data.df["y"].isna().sum() == 1 and any("left empty" in w for w in data.report.warnings)


def test_duplicate_timestamps_are_averaged_and_counted(tmp_path):
    text = "date,v\n2024-01-01,1\n2024-01-02,2\n2024-01-02,4\n2024-01-03,5\n2024-01-03,7\n2024-01-03,9\n"
    data = load_series(write(tmp_path, "d.csv", text))
    assert data.df["y"].tolist() == [1, 3, 7]
    assert any("Averaged 5 rows that shared a timestamp into 2" in r for r in data.report.repairs)


def test_unsorted_rows_are_sorted(tmp_path):
    text = "date,v\n2024-01-03,3\n2024-01-01,1\n2024-01-02,2\n"
    data = load_series(write(tmp_path, "u.csv", text))
    assert data.df["y"].tolist() == [1, 2, 3]
    assert any("Sorted" in r for r in data.report.repairs)


def test_leading_and_trailing_empties_are_dropped(tmp_path):
    text = "date,a,b\n2024-01-01,,1\n2024-01-02,,2\n2024-01-03,3,3\n2024-01-04,4,4\n2024-01-05,5,\n"
    data = load_series(write(tmp_path, "w.csv", text))
    a = data.df[data.df["unique_id"] == "a"]
    b = data.df[data.df["unique_id"] == "b"]
    assert a["ds"].min() == pd.Timestamp("2024-01-03") and len(a) == 3 and len(b) == 4
    assert any("Ignored 3 empty values" in r for r in data.report.repairs)
    assert not any("Filled" in r for r in data.report.repairs)


def test_thousands_separators_currency_and_percent(tmp_path):
    text = ('date,revenue,margin\n2024-01-01,"$1,234.50",12%\n2024-01-02,"$2,000.00",13.5%\n'
            '2024-01-03,"$999.00",9%\n')
    data = load_series(write(tmp_path, "r.csv", text))
    rev = data.df[data.df["unique_id"] == "revenue"]["y"].tolist()
    assert rev == [1234.5, 2000.0, 999.0]
    assert data.df[data.df["unique_id"] == "margin"]["y"].tolist() == [12.0, 13.5, 9.0]
    repairs = " ".join(data.report.repairs)
    assert "thousands separators" in repairs and "currency signs" in repairs and "percent signs" in repairs


def test_statistics_offices_missing_markers_and_quality_flags(tmp_path):
    """.. (World Bank), : and ': c' (Eurostat), n.a. and #DIV/0! are gaps; 125.4p, 12 e, 7.1 (r)
    and 104.8* are numbers with a mark (provisional, estimated, revised); codes like 12A stay text."""
    cells = ["1", "..", "3", ": c", "5", "n.a.", "7", "#DIV/0!", "9", "10p", "11 e", "12 (r)", "13*"]
    text = "date,v,code\n" + "".join(f"2024-01-{i + 1:02d},{c},{i}A\n" for i, c in enumerate(cells))
    data = load_series(write(tmp_path, "s.csv", text))
    assert data.df["y"].tolist() == list(map(float, range(1, 14)))
    repairs = " ".join(data.report.repairs)
    assert "Filled 4 missing values" in repairs and "data-quality marks (10p → 10)" in repairs
    assert ("column 'code'", "text, not numbers") in data.report.skipped


def test_fred_and_google_trends_exports(tmp_path):
    """FRED writes a missing value as '.'; Google Trends writes '<1' for values below 1, with a
    category line above the header."""
    fred = "observation_date,GDPC1\n" + "".join(f"{1990 + i // 4}-{3 * (i % 4) + 1:02d}-01,{'.' if i == 5 else 100 + i}\n"
                                                  for i in range(12))
    data = load_series(write(tmp_path, "fred.csv", fred))
    assert data.freq == "QS" and data.df["y"].iloc[5] == 105.0
    trends = "Category: All categories\n\nWeek,pizza: (United States)\n" + "".join(
        f"2020-01-{5 + 7 * i:02d},{'<1' if i == 2 else 40 + i}\n" for i in range(4))
    data = load_series(write(tmp_path, "multiTimeline.csv", trends))
    assert data.freq == "W-SUN" and data.df["y"].tolist() == [40.0, 41.0, 0.5, 43.0]
    assert "Removed the < of values below a limit (<1 read as 0.5, half the limit)" in " ".join(data.report.repairs)


def test_investing_com_export_reads_volumes_in_thousands_and_millions(tmp_path):
    """investing.com writes the newest day first, month-first dates, thousands separators,
    volumes as 81.29K or 1.20M (empty as '-') and the change in percent; a Eurostat flag
    (12.3 b: a break in the series) is not a billion."""
    rows = [("04/03/2024", "38,688.9", "81.29K", "2.57%"), ("04/02/2024", "37,718.1", "1.20M", "-0.40%"),
            ("04/01/2024", "37,870.0", "-", "1.10%"), ("03/31/2024", "37,455.2", "950", "0.00%")]
    text = '"Date","Price","Vol.","Change %"\n' + "".join(",".join(f'"{c}"' for c in r) + "\n" for r in rows)
    data = load_series(write(tmp_path, "BTC_USD Historical Data.csv", text))
    vol = data.df[data.df["unique_id"] == "Vol."].set_index("ds")["y"]
    assert vol.loc["2024-03-31"] == 950 and vol.loc["2024-04-02"] == 1_200_000 and vol.loc["2024-04-03"] == 81_290
    assert "Removed the K, M and B of thousands, millions and billions (81.29K → 81290) in column 'Vol.'." \
        in data.report.repairs
    eurostat = "time,value\n" + "".join(f"{2000 + i},{'12.3 b' if i == 2 else 10 + i}\n" for i in range(6))
    assert load_series(write(tmp_path, "eurostat.csv", eurostat)).df["y"].iloc[2] == 12.3


@pytest.mark.parametrize("index_name", ["", "date"])
def test_a_table_pandas_wrote_with_its_index(tmp_path, index_name):
    """df.to_csv() writes the dates' index first, with an empty name when it has none: the header
    ",sales" is the header (it was taken for a title line, and the series lost its name)."""
    days = pd.date_range("2024-01-01", periods=30, name=index_name or None)
    df = pd.DataFrame({"sales": np.arange(30.0)}, index=days)
    path = tmp_path / "frame.csv"
    df.to_csv(path)
    data = load_series(path)
    assert data.df["unique_id"].unique().tolist() == ["sales"] and data.freq == "D" and len(data.df) == 30
    assert not data.report.repairs


def test_two_header_rows_under_merged_cells_make_one_name_each(tmp_path):
    """A spreadsheet's header in two rows: Sales and Visits over merged cells, the regions below;
    a units row under a header is joined the same way."""
    rows = "".join(f"2024-01-{d:02d},{d},{d + 1},{d + 2},{d + 3}\n" for d in range(1, 29))
    data = load_series(write(tmp_path, "regions.csv", "Date,Sales,,Visits,\n,North,South,North,South\n" + rows))
    assert sorted(data.df["unique_id"].unique()) == ["Sales / North", "Sales / South", "Visits / North",
                                                     "Visits / South"]
    assert "Joined two header rows into column names ('Sales / North', …)." in data.report.repairs
    units = "".join(f"2024-01-{d:02d},{d},{d / 10}\n" for d in range(1, 29))
    data = load_series(write(tmp_path, "weather.csv", "date,temp,rain\n,°C,mm\n" + units))
    assert sorted(data.df["unique_id"].unique()) == ["rain / mm", "temp / °C"]


def test_title_line_and_footer_row(tmp_path):
    text = "Sales report 2024\n\n" + daily_csv(n=20) + "Total,210\n"
    data = load_series(write(tmp_path, "t.csv", text))
    assert data.df["y"].tolist() == list(range(1, 21))
    assert any("title line" in r for r in data.report.repairs)
    assert ("row 24", "'Total' is not a date") in data.report.skipped     # lines 1-2 title, 3 header


def test_off_grid_dates_snap_when_nothing_collides(tmp_path):
    text = "date,v\n2024-01-15,1\n2024-02-15,2\n2024-03-15,3\n2024-04-15,4\n"
    data = load_series(write(tmp_path, "mid.csv", text))
    assert data.freq == "MS" and data.df["ds"].iloc[0] == pd.Timestamp("2024-01-01")
    assert any("Moved 4 dates" in r for r in data.report.repairs)


def test_irregular_dates_need_a_freq(tmp_path):
    text = ("t,v\n2024-01-01 00:00,1\n2024-01-02 00:00,2\n2024-01-03 00:00,3\n2024-01-03 12:00,4\n"
            "2024-01-04 00:00,5\n2024-01-05 00:00,6\n")
    with pytest.raises(DataError, match="not evenly spaced.*freq="):
        load_series(write(tmp_path, "irr.csv", text))
    data = load_series(write(tmp_path, "irr.csv", text), freq="D")
    assert data.df["y"].tolist() == [1, 2, 3.5, 5, 6] and data.freq == "D"


def test_a_log_of_orders_is_read_as_daily_totals(tmp_path):
    """One row per order at its own time (a shop's export, times with their UTC offset): daily
    totals, since the columns are named like amounts; a day without orders is 0, not a gap."""
    rng = np.random.default_rng(3)
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 40 * 86400, 300)), unit="s")
    times = times[times.normalize() != pd.Timestamp("2024-01-20")]                # a day without orders
    total, qty = rng.uniform(5, 50, len(times)).round(2), rng.integers(1, 4, len(times))
    text = "Name,Created at,Total,Quantity\n" + "".join(
        f"#{i},{t:%Y-%m-%d %H:%M:%S} +0000,{v},{q}\n" for i, (t, v, q) in enumerate(zip(times, total, qty)))
    data = load_series(write(tmp_path, "orders_export.csv", text))
    assert data.freq == "D" and data.guesses["combine"] == "sum"
    got = data.df[data.df["unique_id"] == "Total"].set_index("ds")["y"]
    want = pd.Series(total, index=times.normalize()).groupby(level=0).sum()
    assert np.allclose(got.drop(pd.Timestamp("2024-01-20")), want) and got.loc["2024-01-20"] == 0
    words = " ".join(data.report.warnings + data.report.repairs)
    assert "were added up: 'Total', 'Quantity' look like amounts or counts" in words
    assert "The dates are irregular, about 7.17 rows a day" in words and "read as daily totals" in words
    assert "Counted 2 days without rows as 0" in words                       # 20 January, and one more
    averaged = load_series(write(tmp_path, "orders_export.csv", text), combine="mean")
    got = averaged.df[averaged.df["unique_id"] == "Total"].set_index("ds")["y"]
    assert np.allclose(got.drop(pd.Timestamp("2024-01-20")), pd.Series(total, index=times.normalize())
                       .groupby(level=0).mean()) and "read as daily averages" in " ".join(averaged.report.warnings)


def test_readings_at_irregular_times_are_averaged_and_sales_by_date_added_up(tmp_path):
    """A thermometer read a few times a day at no set time: daily means. A till roll with a row
    per sale and only the date: the rows of each day and product are added up, not averaged as
    if a day had been written twice; combine='mean' averages them."""
    rng = np.random.default_rng(4)
    times = pd.Timestamp("2024-05-01") + pd.to_timedelta(np.sort(rng.uniform(0, 20 * 86400, 70)), unit="s")
    temps = "time,Temperature\n" + "".join(f"{t:%Y-%m-%d %H:%M},{rng.normal(15, 3):.1f}\n" for t in times)
    data = load_series(write(tmp_path, "thermo.csv", temps))
    assert data.freq == "D" and data.guesses["combine"] == "mean"
    assert "Values that fall on the same date or period were averaged. If they are amounts to add up" in \
        " ".join(data.report.warnings)
    sales = [(d, p, int(rng.integers(1, 5))) for d in pd.date_range("2024-01-01", periods=30)
             for p in ("tea", "cake") for _ in range(int(rng.integers(1, 4)))]
    till = "Date,Product,Qty\n" + "".join(f"{d:%Y-%m-%d},{p},{q}\n" for d, p, q in sales)
    data = load_series(write(tmp_path, "till.csv", till))
    want = pd.DataFrame(sales, columns=["ds", "unique_id", "y"]).groupby(["unique_id", "ds"])["y"].sum()
    assert np.allclose(data.df.set_index(["unique_id", "ds"])["y"], want)
    assert any(r.startswith("Added up") and "rows that shared a timestamp" in r for r in data.report.repairs)
    assert any("rows repeat a date, and 'Qty' looks like amounts or counts" in w for w in data.report.warnings)
    assert load_series(write(tmp_path, "till.csv", till), combine="mean").df["y"].max() <= 4
    with pytest.raises(DataError, match="combine='median' is not a way to combine values; use 'mean' or 'sum'"):
        load_series(write(tmp_path, "till.csv", till), combine="median")


def test_daily_values_read_monthly_add_up_with_combine_sum(tmp_path):
    days = [d for d in pd.date_range("2024-01-01", "2024-04-30") if d.month != 3]     # March missing
    text = "date,visits\n" + "".join(f"{d:%Y-%m-%d},{d.day}\n" for d in days)
    data = load_series(write(tmp_path, "visits.csv", text), freq="MS", combine="sum")
    assert data.df["y"].tolist() == [496.0, 435.0, 0.0, 465.0]             # 1 + … + 31, + 29, March 0, + 30
    assert "Counted 1 month without rows as 0" in " ".join(data.report.repairs)
    data = load_series(write(tmp_path, "visits.csv", text), freq="MS")    # averaged: March is a gap, filled
    assert data.df["y"].tolist() == [16.0, 15.0, 15.25, 15.5]


def test_freq_bins_by_calendar_period(tmp_path):
    text = ("ts,v\n2024-01-01 13:00,1\n2024-01-01 18:00,3\n2024-01-02 09:00,5\n"
            "2024-01-03 10:00,6\n2024-01-04 11:00,7\n2024-01-04 12:00,9\n")
    data = load_series(write(tmp_path, "events.csv", text), freq="D")
    assert data.df["ds"].dt.hour.eq(0).all() and data.df["y"].tolist() == [2, 5, 6, 8]
    assert any("averaged 4 values that landed together into 2" in r for r in data.report.repairs)
    nine = load_series(write(tmp_path, "nine.csv", "ts,v\n2024-01-01 09:00,1\n2024-01-02 09:00,2\n"
                                                   "2024-01-04 09:00,4\n"))
    assert nine.freq == "D" and nine.df["ds"].dt.hour.eq(9).all() and len(nine.df) == 4   # kept at 09:00


# --- layouts ----------------------------------------------------------------------------------

def test_long_layout_any_column_order_and_names(tmp_path):
    rows = [f"{v},{s},2024-01-0{d}" for d in range(1, 6) for s, v in (("north", d), ("south", 10 * d))]
    data = load_series(write(tmp_path, "l.csv", "qty,store,day\n" + "\n".join(rows) + "\n"))
    check_schema(data)
    g = data.guesses
    assert (g["layout"], g["id_column"], g["date_column"], g["value_columns"]) == ("long", "store", "day", ["qty"])
    assert sorted(data.df["unique_id"].unique()) == ["north", "south"]
    assert data.df[data.df["unique_id"] == "south"]["y"].tolist() == [10, 20, 30, 40, 50]


def test_long_layout_with_numeric_ids(tmp_path):
    rows = [f"{s},2024-01-0{d},{d * s}" for s in (1, 2, 3) for d in range(1, 6)]
    data = load_series(write(tmp_path, "l.csv", "store,date,sales\n" + "\n".join(rows) + "\n"))
    assert data.guesses["id_column"] == "store" and data.n_series == 3


def test_long_layout_with_two_value_columns(tmp_path):
    rows = [f"{s},2024-01-0{d},{d},{d * 2}" for s in "ab" for d in range(1, 5)]
    data = load_series(write(tmp_path, "l.csv", "id,date,sales,price\n" + "\n".join(rows) + "\n"))
    assert sorted(data.df["unique_id"].unique()) == ["a/price", "a/sales", "b/price", "b/sales"]
    only = load_series(write(tmp_path, "l.csv", "id,date,sales,price\n" + "\n".join(rows) + "\n"),
                       value_column="price")
    assert sorted(only.df["unique_id"].unique()) == ["a", "b"]


def test_wide_layout(tmp_path):
    text = "when,paris,lyon,comment\n" + "".join(
        f"2024-01-0{d},{d},{d * 2},ok{d}\n" for d in range(1, 8))
    data = load_series(write(tmp_path, "w.csv", text))
    assert data.guesses["layout"] == "wide" and data.n_series == 2
    assert ("column 'comment'", "text, not numbers") in data.report.skipped


def test_single_layout_and_pandas_index_column(tmp_path):
    df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=6, freq="MS"), "y": range(6)})
    path = tmp_path / "single.csv"
    df.to_csv(path)                                   # writes an unnamed 0..n-1 index column first
    data = load_series(path)
    assert data.guesses["layout"] == "single" and data.freq == "MS" and data.n_series == 1
    assert data.df["unique_id"].iloc[0] == "y"


def test_rows_layout_without_dates(tmp_path):
    text = '"V1","V2","V3","V4","V5","V6"\n"W1","1","2","3","4","5"\n"W2","10","20","30",,\n"W3","7","8","9","10",\n'
    data = load_series(write(tmp_path, "m4.csv", text))
    assert data.guesses["layout"] == "rows" and data.freq is None and not data.has_dates
    assert data.df["ds"].dtype == np.int64
    assert data.df.groupby("unique_id").size().to_dict() == {"W1": 5, "W2": 3, "W3": 4}
    assert any("No date column found" in w for w in data.report.warnings)
    assert not data.report.repairs                        # ragged rows are the format, not a fault


def test_rows_layout_with_dates_in_the_header(tmp_path):
    text = "product,2024-01,2024-02,2024-03,2024-04\nA,1,2,3,4\nB,5,6,7,8\n"
    data = load_series(write(tmp_path, "h.csv", text))
    assert data.guesses["layout"] == "rows" and data.freq == "MS" and data.n_series == 2
    assert data.df["ds"].max() == pd.Timestamp("2024-04-01")


def test_plain_column_of_numbers_without_header(tmp_path):
    data = load_series(write(tmp_path, "n.txt", "1.5\n2.5\n3.5\n4.5\n"))
    assert data.guesses["header"] is False and data.df["y"].tolist() == [1.5, 2.5, 3.5, 4.5]
    assert data.df["ds"].tolist() == [0, 1, 2, 3]


# --- refusals ---------------------------------------------------------------------------------

def test_one_row_with_dates_in_the_header_is_one_series(tmp_path):
    """A spreadsheet's single row of monthly sales, its months across the top (before, each month
    was a series of one value, and the file was refused)."""
    months = pd.date_range("2022-01-01", periods=24, freq="MS")
    text = ("Metric," + ",".join(f"{m:%Y-%m}" for m in months) + "\nSales,"
            + ",".join(str(10 + i) for i in range(24)) + "\n")
    data = load_series(write(tmp_path, "row.csv", text))
    assert data.freq == "MS" and data.df["unique_id"].unique().tolist() == ["Sales"]
    assert data.df["ds"].tolist() == list(months) and data.df["y"].tolist() == list(range(10, 34))


def test_months_across_the_top_without_a_year_say_how_to_get_dates(tmp_path):
    text = "Product,Jan,Feb,Mar,Apr,May,Jun\nTea,1,2,3,4,5,6\nCake,2,3,4,5,6,7\n"
    data = load_series(write(tmp_path, "plan.csv", text))
    assert not data.has_dates and data.n_series == 2
    assert ("The months across the top (Jan … Jun) have no year, so each value's time is its position and the "
            "forecasts are numbered; write the year in the headers (Jan 2024, …) for dated forecasts.") \
        in data.report.warnings
    assert not any(w.startswith("No date column found") for w in data.report.warnings)


def test_an_excel_pivot_table_names_its_grand_total_column(tmp_path):
    """Excel's pivot export: a title line, Row Labels, months across, a Grand Total column (named
    and left out: it is no date) and a Grand Total row (a series like the others)."""
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    rows = [f"{p}," + ",".join(str(k * 10 + m) for m in range(12)) + f",{sum(k * 10 + m for m in range(12))}"
            for k, p in enumerate(["Bikes", "Helmets", "Grand Total"], start=1)]
    text = "Sum of Sales,Column Labels\nRow Labels," + ",".join(months) + ",Grand Total\n" + "\n".join(rows) + "\n"
    data = load_series(write(tmp_path, "pivot.csv", text))
    assert data.freq == "MS" and data.n_series == 3 and len(data.df) == 36
    assert ("column 'Grand Total'", "not a date among dates in the header (a total or an average of the "
            "others?)") in data.report.skipped


def test_text_in_value_column_names_the_row(tmp_path):
    values = [str(i) for i in range(1, 21)]
    values[15] = "n/a?"                                     # data row 16 = line 17 (header is line 1)
    with pytest.raises(DataError, match=r"Column 'sales' .*row 17: 'n/a\?'"):
        load_series(write(tmp_path, "bad.csv", daily_csv(n=20, values=values)))


def test_no_numeric_column(tmp_path):
    text = "date,name\n2024-01-01,alice\n2024-01-02,bob\n2024-01-03,carol\n"
    with pytest.raises(DataError, match="no column of numbers.*'name' \\(text"):
        load_series(write(tmp_path, "t.csv", text))


def test_all_missing(tmp_path):
    with pytest.raises(DataError, match="every value is missing.*'v'"):
        load_series(write(tmp_path, "m.csv", "date,v\n2024-01-01,\n2024-01-02,NA\n2024-01-03,-\n"))


def test_too_few_points(tmp_path):
    with pytest.raises(DataError, match="at least 3 values"):
        load_series(write(tmp_path, "s.csv", "date,v\n2024-01-01,1\n2024-01-02,2\n"))


def test_short_series_are_skipped_when_others_are_fine(tmp_path):
    rows = [f"a,2024-01-0{d},{d}" for d in range(1, 6)] + ["b,2024-01-01,1"]
    data = load_series(write(tmp_path, "s.csv", "id,date,v\n" + "\n".join(rows) + "\n"))
    assert data.n_series == 1
    assert ("series 'b'", "only 1 value(s); at least 3 are needed") in data.report.skipped


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\n\n  \n", "empty"),
                                              (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "is a picture, not a table"),
                                              (b"\x00\x01\x02\x03binary" * 20, "not a text file")])
def test_empty_and_binary_files(tmp_path, content, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_series(path)


def test_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(series_read, "MAX_BYTES", 100)      # the limit lives where the size is checked
    with pytest.raises(DataError, match=r"^Table file can be at most 100 bytes \(big.csv is 482 bytes\)\. "
                                        "Keep only the columns and rows you need"):
        load_series(write(tmp_path, "big.csv", daily_csv(n=30)))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="No file at"):
        load_series(tmp_path / "nope.csv")


# --- overrides --------------------------------------------------------------------------------

def test_overrides(tmp_path):
    text = "a,b,c,d\n" + "".join(f"x,2024-01-0{i},{i},{10 * i}\n" for i in range(1, 6)) + \
        "".join(f"y,2024-01-0{i},{i},{10 * i}\n" for i in range(1, 6))
    path = write(tmp_path, "o.csv", text)
    data = load_series(path, date_column="B", value_column="d", id_column="a", freq="D")
    assert data.guesses["date_column"] == "b"                # case-insensitive match
    assert data.df[data.df["unique_id"] == "y"]["y"].tolist() == [10, 20, 30, 40, 50]
    assert any("given" in w for w in data.report.warnings)


@pytest.mark.parametrize("kw", [{"date_column": "when"}, {"value_column": ["c", "zz"]}, {"id_column": "who"}])
def test_bad_override_names_the_columns(tmp_path, kw):
    with pytest.raises(DataError, match=r"no such column. Its columns are: 'date', 'sales'"):
        load_series(write(tmp_path, "o.csv", daily_csv()), **kw)


def test_bad_freq_and_fill(tmp_path):
    path = write(tmp_path, "o.csv", daily_csv())
    with pytest.raises(DataError, match="not a pandas frequency"):
        load_series(path, freq="fortnightly")
    with pytest.raises(DataError, match="not a fill method"):
        load_series(path, fill="magic")


# --- other formats and sources ------------------------------------------------------------------

def test_excel_round_trip(tmp_path):
    df = pd.DataFrame({"Date": pd.date_range("2023-01-31", periods=8, freq="ME"),
                       "North": np.arange(8.0), "South": np.arange(8.0) * 2})
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame().to_excel(xl, sheet_name="Empty")
        df.to_excel(xl, sheet_name="Data", index=False)
    data = load_series(path)
    assert data.guesses["sheet"] == "Data" and data.freq == "ME" and data.n_series == 2
    assert data.df[data.df["unique_id"] == "South"]["y"].tolist() == list(np.arange(8.0) * 2)
    with pytest.raises(DataError, match="no sheet 'Nope'"):
        load_series(path, sheet="Nope")


def test_parquet_round_trip(tmp_path):
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 5),
                       "ds": np.tile(pd.date_range("2024-01-01", periods=5, freq="h"), 2),
                       "y": np.arange(10.0)})
    path = tmp_path / "s.parquet"
    df.to_parquet(path)
    data = load_series(path)
    assert data.freq == "h" and data.guesses["layout"] == "long"
    pd.testing.assert_frame_equal(data.df[["y"]], df[["y"]])


def test_bytes_and_file_like_uploads():
    raw = daily_csv(sep=";").encode()
    a = load_series(raw, name="upload.csv")
    buf = io.BytesIO(raw)
    buf.name = "sales.csv"
    buf.read(5)                                             # already read a little: rewound
    b = load_series(buf)
    assert a.df.equals(b.df) and b.name == "sales"


def test_dataframe_source():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4]}, index=pd.date_range("2024-01-01", periods=4, freq="W-MON"))
    data = load_series(df)
    assert data.freq == "W-MON" and data.df["y"].tolist() == [1, 2, 3, 4]


def test_sample_series_load_like_an_upload():
    data = load_sample_series("co2")
    check_schema(data)
    assert data.name == "co2" and data.freq == "MS" and data.season_length == 12
    assert data.n_series == 1 and len(data.df) > 400
    assert data.df["ds"].iloc[0] == pd.Timestamp("1958-03-01") and 300 < data.df["y"].iloc[0] < 330
    assert set(SAMPLE_SERIES) >= {"co2", "macrodata"}
    with pytest.raises(GenlibError, match="no sample series called 'sunspots'"):
        load_sample_series("sunspots")


@pytest.mark.parametrize("freq, m", [("h", 24), ("2h", 12), ("30min", 48), ("15min", 96), ("min", 1), ("s", 1),
                                     ("D", 7), ("2D", 1), ("B", 5), ("W-SUN", 52), ("MS", 12), ("ME", 12),
                                     ("2MS", 6), ("QS", 4), ("QE", 4), ("YS", 1), ("SMS", 24)])
def test_season_length_matches_the_forecasters(freq, m):
    from genlib.forecast.base import season_length_for
    stamps = pd.date_range("2024-01-01", periods=60, freq=freq)
    csv = "date,y\n" + "".join(f"{d},{i}\n" for i, d in enumerate(stamps))
    data = load_series(csv.encode(), name="s.csv", freq=freq)
    assert data.season_length == season_length_for(data.freq) == m


def test_report_lines_and_facts(tmp_path):
    data = load_series(write(tmp_path, "s.csv", daily_csv()))
    lines = data.report.lines()
    assert lines[0] == "Used 1 series." and any("Frequency: daily ('D')" in line for line in lines)
    f = data.report.facts
    assert (f["n_series"], f["length_min"], f["length_max"], f["freq"]) == (1, 10, 10, "D")
    assert (f["start"], f["end"]) == ("2024-01-01", "2024-01-10")
    assert data.report.to_dict()["facts"]["value_columns"] == ["sales"]


# --- real data (the shared_data fixture skips when ../shared/data is absent) -----------------------------------------

def test_etth1_is_hourly(shared_data):
    data = load_series(shared_data / "ett_small" / "ETTh1.csv")
    assert data.freq == "h" and data.season_length == 24
    assert data.n_series == 7 and len(data.df) == 7 * 17420
    assert not data.report.repairs


def test_m4_weekly_rows(shared_data):
    t0 = time.perf_counter()
    data = load_series(shared_data / "m4_hourly_weekly" / "Weekly-train.csv")
    elapsed = time.perf_counter() - t0
    assert data.n_series == 359 and data.guesses["layout"] == "rows" and data.freq is None
    lengths = data.df.groupby("unique_id").size()
    assert lengths.min() == 80 and lengths.max() == 2597
    assert data.df.loc[data.df["unique_id"] == "W1", "y"].iloc[0] == 1089.2
    assert elapsed < 20                                       # ~1 s on a quiet machine


def test_exchange_rate_gz_without_header_or_dates(shared_data):
    data = load_series(shared_data / "exchange_rate" / "exchange_rate.txt.gz")
    assert data.n_series == 8 and data.guesses["header"] is False and not data.has_dates
    assert len(data.df) == 8 * 7588


def test_m3_sheet(shared_data):
    # the M3 workbook as downloaded: one row per series, N, NF and Category, then each row's start
    # (Starting Year, Starting Month) and its values in columns numbered 1 … 144
    data = load_series(shared_data / "m3_competition" / "M3C.xls", sheet="M3Month")
    assert data.guesses["format"] == "xls" and data.guesses["sheet"] == "M3Month"
    assert data.freq == "MS" and data.guesses["layout"] == "rows" and data.guesses["id_column"] == "Series"
    lengths = data.df.groupby("unique_id").size()
    assert (lengths.min(), lengths.max()) == (66, 144)                        # column N of the sheet
    first = data.df[data.df["unique_id"] == "N1402"]
    assert len(first) == 68 and first["ds"].iloc[0] == pd.Timestamp("1990-01-01")    # 1990, month 1
    # 29 series start in "year 0, month 0" in the published file: left out, each named, not guessed
    lost = [(item, why) for item, why in data.report.skipped if item.startswith("series")]
    assert len(lengths) == 1428 - 29 and len(lost) == 29
    assert lost[0] == ("series 'N2801'", "its start (0 0 in 'Starting Year' and 'Starting Month') is not a date")
    assert ("column 'N'", "not a time step (the values run through the columns numbered '1' … '144')") \
        in data.report.skipped
    assert "each row starts at the date in 'Starting Year' and 'Starting Month' and goes on a month a column" \
        in data.report.warnings[0]
    # the columns chosen by hand read the same way
    chosen = load_series(shared_data / "m3_competition" / "M3C.xls", sheet="M3Month", id_column="Series",
                         value_column=[str(i) for i in range(1, 145)])
    pd.testing.assert_frame_equal(chosen.df, data.df)


# --- a shared server's limits (GENLIB_HOSTED=1) --------------------------------------------------
MiB = 1 << 20


def test_hosted_file_size_at_and_past_the_edge(monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    blob = bytes(50 * MiB)
    with pytest.raises(DataError, match="not a text file"):             # the size is allowed
        load_series(blob, name="x.csv")
    message = (r"^Table file can be at most 50 MB on this shared server \(x.csv is 50 MB\)\. Keep only "
               "the columns and rows you need")
    for source in (blob + b"\0", io.BytesIO(blob + b"\0")):
        with pytest.raises(DataError, match=message):
            load_series(source, name="x.csv")
    monkeypatch.delenv("GENLIB_HOSTED")                                 # 200 MB on one's own machine
    with pytest.raises(DataError, match="not a text file"):
        load_series(blob + b"\0", name="x.csv")


def test_hosted_refuses_a_frequency_that_blows_up_the_rows_and_names_the_one_that_fits(monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    csv = sample_series_csv("co2")
    with pytest.raises(DataError) as e:
        load_series(csv, name="co2.csv", freq="min")
    assert str(e.value) == ("Rows in the series table can be at most 2,000,000 rows on this shared server "
                            "(co2.csv needs 23,012,641 rows at freq 'min', every minute). The dates are "
                            "monthly: pass freq='MS' (or no freq, to use the file's own), or a coarser one.")
    with pytest.raises(DataError, match=r"needs 1,380,758,401 rows at freq 's'"):
        load_series(csv, name="co2.csv", freq="s")
    assert load_series(csv, name="co2.csv", freq="h").df.shape == (383_545, 3)   # hourly fits
    assert load_series(csv, name="co2.csv").freq == "MS"


def test_hosted_rows_at_and_past_the_edge(monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    start = pd.Timestamp("2024-01-01")

    def minutes(n):                       # three values, n minutes from the first to the last
        return pd.DataFrame({"ds": [start, start + pd.Timedelta(minutes=1000),
                                    start + pd.Timedelta(minutes=n - 1)], "y": [1.0, 2.0, 3.0]})

    assert len(load_series(minutes(2_000_000), freq="min").df) == 2_000_000
    with pytest.raises(DataError, match=r"^Rows in the series table can be at most 2,000,000 rows on this "
                                        r"shared server \(table needs 2,000,001 rows at freq 'min'"):
        load_series(minutes(2_000_001), freq="min")


def test_the_module_cap_on_rows_still_applies_with_or_without_dates(tmp_path, monkeypatch):
    monkeypatch.setattr(series_tidy, "MAX_TIMESTAMPS", 10)
    assert len(load_series(write(tmp_path, "d.csv", daily_csv(n=10))).df) == 10
    with pytest.raises(DataError, match=r"at most 10 rows \(d.csv needs 11 rows at freq 'D', daily\)\. "
                                        r"Pass a coarser freq such as 'W-SUN' \(weekly \(Sundays\)\)"):
        load_series(write(tmp_path, "d.csv", daily_csv(n=11)))
    positions = "".join(f"{v * 7 % 11 + 0.5}\n" for v in range(11))        # no dates: one per line
    assert len(load_series(write(tmp_path, "p.csv", positions[:-4])).df) == 10     # less "4.5\n"
    with pytest.raises(DataError, match=r"at most 10 rows \(p.csv holds 11 values\)"):
        load_series(write(tmp_path, "p.csv", positions))


def test_hosted_series_count_at_and_past_the_edge(monkeypatch):
    def frame(k):
        return pd.DataFrame({"id": np.repeat([f"s{i}" for i in range(k)], 3),
                             "ds": np.tile(pd.date_range("2024-01-01", periods=3), k),
                             "y": np.arange(3.0 * k)})

    assert load_series(frame(10_001)).n_series == 10_001               # no limit on one's own machine
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    assert load_series(frame(10_000)).n_series == 10_000
    with pytest.raises(DataError, match=r"^Number of series can be at most 10,000 on this shared server "
                                        r"\(table holds 10,001 series\)\. Keep fewer series"):
        load_series(frame(10_001))


def test_hosted_refuses_too_many_rows_and_compression_bombs_before_parsing(tmp_path, monkeypatch):
    many = b"y\n" + b"1\n" * 2_000_001                                  # 4 MB, 2,000,001 rows
    bomb = gzip.compress(b"date,y\n" + b"2024-01-01,0\n" * 1_000_000)   # 13 MB in 30 KB
    table = pd.DataFrame({"y": np.zeros(2_000_001)})
    table.to_parquet(tmp_path / "many.parquet")
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    with pytest.raises(DataError, match=r"^Rows in the series table .* \(many.csv has 2,000,001 rows\)"):
        load_series(many, name="many.csv")
    with pytest.raises(DataError, match=r"^Rows in the series table .* \(many.parquet has 2,000,001 rows\)"):
        load_series(tmp_path / "many.parquet")
    with pytest.raises(DataError, match=r"^Compression ratio can be at most 100:1 on this shared server "
                                        r"\(bomb.csv.gz unpacks from .* to more than .*\)\. Load the file "
                                        "without compression"):
        load_series(bomb, name="bomb.csv.gz")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.csv", gzip.decompress(bomb))
    with pytest.raises(DataError, match=r"^Compression ratio .* \(bomb.zip unpacks from"):
        load_series(zipped.getvalue(), name="bomb.zip")


def test_ordinary_files_load_the_same_on_a_shared_server(tmp_path, monkeypatch):
    gz = tmp_path / "d.csv.gz"
    gz.write_bytes(gzip.compress(daily_csv(n=400).encode()))
    sources = [gz, write(tmp_path, "w.csv", daily_csv(n=30, sep=";", fmt="%d/%m/%Y"))]
    local = [load_series(s) for s in sources] + [load_sample_series("macrodata")]
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    hosted = [load_series(s) for s in sources] + [load_sample_series("macrodata")]
    for a, b in zip(local, hosted):
        assert a.df.equals(b.df) and a.report.lines() == b.report.lines()


# --- store files: two key columns, calendar columns, 0/1 flags ---------------------------------------
def _store_item(sales_spread: int = 1) -> str:
    rng = np.random.default_rng(0)
    rows = [f"{d.date()},{s},{i},{10 + s + i + sales_spread * int(rng.integers(0, 1000))}"
            for d in pd.date_range("2013-01-01", periods=60) for s in (1, 2, 3) for i in range(1, 6)]
    return "date,store,item,sales\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("spread", [0, 1])
def test_a_store_and_an_item_column_make_one_series_per_pair(spread):
    """Kaggle's store-item demand file: neither column alone tells the rows of a day apart, the
    pair does. A sales column that happens to be unique within each day (spread 1) is not an id."""
    data = load_series(_store_item(spread).encode(), name="train.csv")
    assert data.n_series == 15 and data.freq == "D" and len(data.df) == 15 * 60
    assert data.guesses["id_column"] == ["store", "item"] and data.guesses["value_columns"] == ["sales"]
    assert "store 2 / item 5" in set(data.df["unique_id"])
    assert not data.report.repairs                                  # nothing averaged, nothing filled
    assert "one series per value of 'store + item', values from 'sales'" in data.report.warnings[0]
    again = load_series(_store_item(spread).encode(), name="train.csv", id_column=["store", "item"])
    pd.testing.assert_frame_equal(again.df, data.df)


def test_a_store_file_forecasts_its_measurements_not_its_calendar_or_flags():
    """Rossmann's columns: DayOfWeek repeats the date's weekday (1 = Monday); Open, Promo and
    SchoolHoliday are 0/1 flags; Sales and Customers are the series, per store."""
    rng = np.random.default_rng(0)
    rows = [f"{s},{d.isoweekday()},{d.date()},{5000 + rng.integers(0, 900)},{500 + rng.integers(0, 90)},1,{k % 2},"
            f"{'a' if k == 5 else 0},{int(k % 7 == 0)}"
            for k, d in enumerate(pd.date_range("2013-01-01", periods=60)) for s in (1, 2)]
    text = "Store,DayOfWeek,Date,Sales,Customers,Open,Promo,StateHoliday,SchoolHoliday\n" + "\n".join(rows) + "\n"
    data = load_series(text.encode(), name="train.csv")
    assert set(data.df["unique_id"]) == {"1/Sales", "1/Customers", "2/Sales", "2/Customers"}
    skipped = dict(data.report.skipped)
    assert skipped["column 'DayOfWeek'"] == "the day of the week of the dates in 'Date', not a measurement"
    for flag in ("Promo", "SchoolHoliday"):
        assert skipped[f"column {flag!r}"].startswith("0/1 flags (such as open or on promotion), not a measurement")
    assert skipped["column 'Open'"] == "the same number (1) in every row: nothing to forecast"
    chosen = load_series(text.encode(), name="train.csv", value_column="Promo")   # asked for: forecast
    assert set(chosen.df["unique_id"]) == {"1", "2"}


def test_a_sales_file_with_m5s_calendar_columns_forecasts_the_sales():
    """M5's calendar joined to its sales, as people export it: `wday` numbers the days of the
    week from Saturday (1 = Saturday) and `wm_yr_wk` numbers Walmart's weeks (11101, 11102, …,
    each from a Saturday); both repeat the date, so they are named and left out, not forecast.
    A column of whole numbers that changes every week by other steps stays a series, and so does
    a running week number in a weekly file (a row a week: nothing repeats within a week)."""
    rng = np.random.default_rng(1)
    days = pd.date_range("2011-01-29", periods=70)                    # a Saturday
    rows = [f"{d.date()},{11101 + k // 7},{d.day_name()},{(d.day_of_week - 5) % 7 + 1},{d.month},"
            f"{int(d.day <= 10)},{rng.integers(0, 40)},{rng.integers(0, 90)},{100 + 3 * (k // 7)}"
            for k, d in enumerate(days)]
    text = "date,wm_yr_wk,weekday,wday,month,snap_CA,FOODS_1,HOBBIES_1,week_stock\n" + "\n".join(rows) + "\n"
    data = load_series(text.encode(), name="sales.csv")
    assert set(data.df["unique_id"]) == {"FOODS_1", "HOBBIES_1", "week_stock"} and data.freq == "D"
    skipped = dict(data.report.skipped)
    assert skipped["column 'wday'"] == "the day of the week of the dates in 'date', not a measurement"
    assert skipped["column 'wm_yr_wk'"] == "the week number of the dates in 'date', not a measurement"
    assert skipped["column 'snap_CA'"].startswith("0/1 flags")
    weekly = "date,week_no,sales\n" + "".join(f"{d.date()},{k + 101},{rng.integers(0, 99)}\n"
                                              for k, d in enumerate(pd.date_range("2020-01-05", periods=20, freq="W")))
    assert set(load_series(weekly.encode(), name="weekly.csv").df["unique_id"]) == {"sales", "week_no"}


def test_our_world_in_data_file_names_its_series_by_location():
    """Our World in Data's export: `iso_code` and `location` both tell the countries apart (the
    longer names win), and `continent` does too in a small file but is empty for the World, whose
    rows it would leave out."""
    rng = np.random.default_rng(2)
    places = [("AFG", "Asia", "Afghanistan"), ("ALB", "Europe", "Albania"), ("OWID_WRL", "", "World")]
    rows = [f"{code},{cont},{name},{d.date()},{rng.integers(0, 500)}"
            for code, cont, name in places for d in pd.date_range("2020-03-01", periods=40)]
    text = "iso_code,continent,location,date,new_cases\n" + "\n".join(rows) + "\n"
    data = load_series(text.encode(), name="owid-covid-data.csv")
    assert set(data.df["unique_id"]) == {"Afghanistan", "Albania", "World"} and len(data.df) == 120
    assert data.guesses["id_column"] == "location"


def test_flags_alone_are_the_series():
    text = "date,rain,frost\n" + "".join(f"2024-01-{d:02d},{d % 2},{d % 3 == 0:d}\n" for d in range(1, 29))
    data = load_series(text.encode(), name="weather.csv")
    assert set(data.df["unique_id"]) == {"rain", "frost"}


def test_a_bike_share_file_keeps_its_counts_and_names_the_rest():
    """UCI's bike-sharing hour.csv: a row counter first (instant), the date and its hour, the
    month and weekday repeated (mnth, weekday: Sunday = 0), a year stuck at 0 in a short export,
    0/1 flags, and the counts to forecast."""
    rng = np.random.default_rng(0)
    stamps = pd.date_range("2011-02-20", periods=24 * 20, freq="h")
    rows = [f"{i + 1},{t.date()},{t.month},{t.hour},{(t.day_of_week + 1) % 7},0,{int(t.day_of_week < 5)},"
            f"{c},{c + r}" for i, (t, c, r) in enumerate(zip(stamps, rng.integers(0, 30, 480), rng.integers(0, 200, 480)))]
    text = "instant,dteday,mnth,hr,weekday,yr,workingday,casual,cnt\n" + "\n".join(rows) + "\n"
    data = load_series(text.encode(), name="hour.csv")
    assert data.freq == "h" and set(data.df["unique_id"]) == {"casual", "cnt"}
    skipped = dict(data.report.skipped)
    assert skipped["column 'instant'"].startswith("a row counter (1, 2, 3, …), not a measurement")
    assert skipped["column 'mnth'"] == "the month of the dates in 'dteday', not a measurement"
    assert skipped["column 'weekday'"] == "the day of the week of the dates in 'dteday', not a measurement"
    assert skipped["column 'yr'"] == "the same number (0) in every row: nothing to forecast"
    assert skipped["column 'workingday'"].startswith("0/1 flags")


@pytest.mark.parametrize("store", [False, True])
def test_a_day_written_twice_is_averaged_not_a_reason_to_split_the_series(store):
    """Whole-number sales with a day written twice: the sales column is not an id that tells the
    two rows apart (it once was: the file was refused, or split into one series per sales value)."""
    rng = np.random.default_rng(5)
    rows = []
    for d in pd.date_range("2020-01-01", periods=200):
        for s in ("A", "B") if store else ("",):
            for _ in range(2 if (d.month, d.day) == (2, 20) else 1):    # the second row: another count
                rows.append(f"{d.date()},{s}{',' if store else ''}{rng.integers(0, 21)}")
    head = "date,store,sales" if store else "date,sales"
    data = load_series((head + "\n" + "\n".join(rows) + "\n").encode(), name="sales.csv")
    assert data.n_series == (2 if store else 1) and data.freq == "D"
    assert data.guesses["id_column"] == ("store" if store else None)
    assert any(r.startswith(f"Averaged {4 if store else 2} rows that shared a timestamp") for r in data.report.repairs)


def test_a_bike_share_day_file_names_its_season_column_and_keeps_the_weather_and_counts():
    """UCI's bike-sharing day.csv over two years: `season` (1 = winter … 4 = autumn, turning on
    the 21st of March, June, September and December, one turn a day later in 2012) is the season
    of the dates, not a measurement; temperatures and counts are forecast. A column named season
    that does not follow the dates is kept."""
    rng = np.random.default_rng(1)
    days = pd.date_range("2011-01-01", "2012-12-31", freq="D")
    turn = {2011: ("03-21", "06-21", "09-23", "12-21"), 2012: ("03-21", "06-21", "09-22", "12-21")}
    season = [1 + sum(f"{d:%m-%d}" >= t for t in turn[d.year]) for d in days]
    season = [1 if s == 5 else s for s in season]
    rows = [f"{i + 1},{d.date()},{s},{d.year - 2011},{rng.uniform(0.1, 0.9):.3f},{rng.integers(500, 8000)},"
            f"{rng.integers(1, 5)}" for i, (d, s) in enumerate(zip(days, season))]
    text = "instant,dteday,season,yr,temp,cnt,sales_season\n" + "\n".join(rows) + "\n"
    data = load_series(text.encode(), name="day.csv")
    skipped = dict(data.report.skipped)
    assert skipped["column 'season'"] == "the season of the dates in 'dteday', not a measurement"
    assert set(data.df["unique_id"]) == {"temp", "cnt", "sales_season"}     # random codes stay
    assert data.freq == "D" and data.n_series == 3


def test_weather_codes_beside_measurements_are_left_out_and_say_how_to_forecast_them():
    """Bike sharing's `weathersit` (1 = clear, 2 = mist, 3 = rain) names a category: left out,
    with the reason and the way back. Small whole numbers under a plain name (orders a day) stay."""
    rng = np.random.default_rng(2)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    rows = [f"{d.date()},{rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])},{rng.integers(1, 5)},{rng.integers(0, 4)},"
            f"{rng.integers(5, 10)},{rng.integers(500, 8000)}" for d in days]
    text = ("dteday,weathersit,weather,orders,weather_temp,cnt\n" + "\n".join(rows) + "\n").encode()
    data = load_series(text, name="day.csv")
    assert set(data.df["unique_id"]) == {"orders", "weather_temp", "cnt"}       # Kaggle's `weather` too
    reason = dict(data.report.skipped)["column 'weathersit'"]
    assert reason.startswith("codes of a category") and "choose it as a value column to forecast it" in reason
    chosen = load_series(text, name="day.csv", value_column=["weathersit", "cnt"])
    assert set(chosen.df["unique_id"]) == {"weathersit", "cnt"}
