"""The loader: `load_series` reads, lays out, tidies and describes; `SeriesData` is what it returns."""
from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from genlib.data.types import HealthReport
from genlib.errors import DataError
from genlib.freq import check_freq, season_length_for

from .describe import describe
from .layout import to_long
from .read import file_title, read_table
from .tidy import FILLS, tidy
from .totals import drop_totals, total_note, total_reason

COMBINES = ("mean", "sum")    # how values that fall on one date or period are combined


@dataclasses.dataclass
class SeriesData:
    """Time series ready for forecasting, with what the loader found and did.

    `df` is the long table (unique_id, ds, y) sorted by unique_id then ds; `freq` a pandas
    alias ("h", "D", "W-SUN", "MS", "ME", "QS", "YS", …) or None when ds holds positions.
    """

    df: pd.DataFrame                    # unique_id str, ds datetime64[ns] | int64, y float64
    freq: str | None                    # pandas frequency alias; None when the file had no dates
    report: HealthReport                # kind="series": repairs, skipped series/rows, facts
    guesses: dict[str, Any]             # what was inferred: columns, layout, dayfirst, delimiter…
    name: str = "series"                # a short name for titles (the file name without extension)
    season_length: int = 1              # steps in one season, from freq (h→24, D→7, W→52, M→12, Q→4)

    @property
    def n_series(self) -> int:
        return int(self.df["unique_id"].nunique())

    @property
    def has_dates(self) -> bool:
        """False when the file had no dates and ds counts positions 0, 1, 2, …"""
        return pd.api.types.is_datetime64_any_dtype(self.df["ds"])


def load_series(source, *, name: str | None = None, date_column: str | None = None,
                value_column: str | list[str] | None = None, id_column: str | list[str] | None = None,
                freq: str | None = None, dayfirst: bool | None = None, fill: str | None = "interpolate",
                sheet: str | int | None = None, combine: str | None = None) -> SeriesData:
    """Read time series from a CSV, Excel or Parquet file (a path, its bytes, or an upload).

    Every guess can be overridden: `date_column`, `value_column` (one name or a list),
    `id_column` (one name, or a list such as ["store", "item"]: one series per pair), `freq` (a
    pandas alias such as "D" or "MS"; dates off that grid are averaged into their period),
    `dayfirst` (True for 31/12/2020, False for 12/31/2020), `sheet` (Excel).
    `fill` says how missing values inside a series are filled: "interpolate" (linear, default),
    "ffill" (repeat the last value), "zero", or "none" (leave them empty). `combine` says how
    values that fall on one date or period are combined: "mean" or "sum" (a period without rows
    is then 0); by default a log of events (one row per order, at irregular times or many on a
    date) is read at a calendar period and added up when its columns are named like amounts or
    counts (sales, orders, visits), averaged otherwise, and a few repeated dates are averaged.

    Raises DataError, naming the rows or columns at fault, when the file is not a time series.

    >>> data = load_series(b"date;sales\\n01/02/2024;1,5\\n02/02/2024;2,5\\n04/02/2024;4,5\\n", name="s.csv")
    >>> data.freq, data.guesses["dayfirst"], data.df["y"].tolist()
    ('D', True, [1.5, 2.5, 3.5, 4.5])
    >>> print("\\n".join(data.report.lines()))  # doctest: +ELLIPSIS
    Used 1 series.
    Repaired: Filled 1 missing value by linear interpolation (1 missing timestamp).
    ...
    """
    if fill is None:
        fill = "none"
    if fill not in FILLS:
        raise DataError(f"fill={fill!r} is not a fill method; use one of {', '.join(map(repr, FILLS))}.")
    if freq is not None:
        freq = check_freq(freq)
    if combine not in (None, *COMBINES):
        raise DataError(f"combine={combine!r} is not a way to combine values; use 'mean' or 'sum'.")
    report = HealthReport(kind="series")
    guesses: dict[str, Any] = {}
    table, fname = read_table(source, name, sheet, guesses, report)
    long, info = to_long(table, fname, date_column=date_column, value_column=value_column,
                         id_column=id_column, dayfirst=dayfirst, guesses=guesses, report=report)
    long = _without_totals(long, value_column, report)
    df, freq_used = tidy(long, has_dates=info["has_dates"], freq=freq, fill=fill, fname=fname,
                         report=report, combine=combine, value_names=info["value_columns"] or (),
                         guesses=guesses)
    guesses["freq"] = freq_used
    describe(df, freq_used, freq is not None, info, guesses, report)
    return SeriesData(df=df, freq=freq_used, report=report, guesses=guesses, name=file_title(name or fname),
                      season_length=season_length_for(freq_used))


def _without_totals(long: pd.DataFrame, value_column, report: HealthReport) -> pd.DataFrame:
    """Leave out a table's total or average of the other series (genlib.data.series.totals), unless
    the person chose that column by name."""
    chosen = {value_column} if isinstance(value_column, str) else set(value_column or ())
    kept, dropped = drop_totals(long, keep=chosen)
    report.skipped += [(f"series {n!r}", total_reason(k)) for n, k in dropped]
    report.warnings += [total_note(n, k) for n, k in dropped]
    return kept
