"""Time series from the files analysts export: CSV, Excel, Parquet → one long table.

`load_series` reads a file whatever its delimiter, encoding, decimal mark or layout, finds the
date column, the value column(s) and the id column by what they hold (names only break ties: a
Year column of whole years, the Month or Hour beside it, a column per month named Jan … Dec),
infers the frequency, repairs what is safe to repair and says so, and refuses what is not a time
series with a sentence that names the rows or columns at fault.

The result is always the same long table, sorted by `unique_id` then `ds`:

    unique_id  str      one name per series
    ds         datetime64[ns]  (or int64 positions 0, 1, 2, … when the file has no dates)
    y          float64  no gaps, unless fill="none"

Layouts understood (`guesses["layout"]`):

    long    id, date, value              one series per id (any column order, any names), or
                                         per pair of ids (date, store, item, sales)
    wide    date, value A, value B, …    one series per number column (undated, or each dated by
                                         its length and start in its first rows: tourism data)
    single  date, value                  one series
    rows    id, v1, v2, v3, …            one series per row (M4 style, ragged); the time is the
                                         position, the header when the headers are dates, or
                                         each row's start (Starting Year, Starting Month) counted
                                         on across columns numbered 1, 2, 3, … (M3 style)
    single  Year, Jan, Feb, …, Dec       a row per year, a column per month (or Q1 … Q4): one
                                         series ("long" with an id column beside the year)

Dates spread over columns (Year + Month, Year + Quarter, Date + Hour, Date + Time, Date + a
numbered period such as UK settlement periods, …) are joined into one time axis (`parts`).

Row numbers in messages are those a spreadsheet shows: the header is row 1, and in a CSV blank
and title lines count too, so "row 17" is line 17 of the file.

`load_series` (in `load`) runs four steps, one module each: `read` (bytes → a table of cells;
`jsontable` finds the table in a JSON file),
`layout` (table → long rows, with `cells` reading numbers and dates, `labels` reading period
labels such as Q1 1965 and integer years, `parts` joining dates spread over columns, and `keys`
finding the id column or pair and the measurements among the columns of numbers), `tidy`
(sorted, regular, filled; `events` reads a log of events, one row per order at its own time,
at a calendar period, added up or averaged) and `describe` (the report). Frequencies live in `genlib.freq`;
`samples` holds the built-in sample series. Each limit lives in the module that checks it
(`read.MAX_BYTES`, `tidy.MIN_POINTS`, …) and is repeated here to be read: patch it where it lives.
"""
from .cells import DATE_SHARE, MISSING, NUMBER_SHARE
from .describe import in_words
from .load import SeriesData, load_series
from .read import DELIMITERS, MAX_BYTES
from .samples import SAMPLE_SERIES, load_sample_series, sample_series_csv
from .tidy import FILLS, MAX_TIMESTAMPS, MIN_POINTS

__all__ = ["SeriesData", "load_series", "SAMPLE_SERIES", "load_sample_series", "sample_series_csv",
           "DATE_SHARE", "DELIMITERS", "FILLS", "MAX_BYTES", "MAX_TIMESTAMPS", "MIN_POINTS", "MISSING",
           "NUMBER_SHARE", "in_words"]
