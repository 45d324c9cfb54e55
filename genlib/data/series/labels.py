"""Period labels as people write them → timestamps: quarters (Q1 1965, 1965Q1, 1965-Q1), ISO weeks
(2020-W05, 2020 W5, W05 2020, Week 5 2020; 2020-W05-3 is that week's Wednesday), months by name
(Jan 1980, January 1980, 1980-Jan, Jan-80; in English, German, French, Spanish, Italian, Dutch and
Portuguese) or number (1980M01), a year and its quarter or month
after a colon or dot (1965:1 … 1965:4 quarters; 1980:01 or 1980.7 months), fiscal years (FY2020,
1990-91, 1990/1991: the year each starts in) and integer years (1965).

Each label form is one row of `_FORMS`: a regex (compiled once) and the period it names. A label
becomes the first day of its period (a quarter's first month, an ISO week's Monday). Only the
distinct labels are parsed, so a long file that repeats its dates costs what its calendar costs.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from genlib.errors import DataError

# Timestamps are datetime64[ns], which hold 1677-09-21 .. 2262-04-11; the last year leaves room
# for a forecast horizon after the data.
FIRST_YEAR, LAST_YEAR = 1678, 2200
DATE_FORMS = "2024-03-31, Mar 2024, Q1 1965, 2024-W13 or a year such as 1965"

# month names and their short forms in English, German, French, Spanish, Italian, Dutch and
# Portuguese; no name means two months (mar is March, mai May, set September in every language)
_MONTH_NAMES = [
    "jan january januar jänner janvier janv enero ene gennaio gen januari janeiro",
    "feb february februar février févr fevrier fevr febrero febbraio februari fevereiro fev",
    "mar march märz mär maerz mars marzo mrt maart março marco",
    "apr april avril avr abril abr aprile",
    "may mai mayo maggio mag mei maio",
    "jun june juni juin junio giugno giu junho",
    "jul july juli juillet juil julio luglio lug julho",
    "aug august août aout agosto ago augustus",
    "sep sept september septembre septiembre settembre set setembro",
    "oct october oktober okt octobre octubre ottobre ott outubro out",
    "nov november novembre noviembre novembro",
    "dec december dezember dez décembre déc decembre diciembre dic dicembre dezembro",
]
MONTH_NUMBER = {name: k for k, names in enumerate(_MONTH_NAMES, start=1) for name in names.split()}
MONTH_WORDS = "|".join(sorted(MONTH_NUMBER, key=len, reverse=True))         # longest first
_MONTH = rf"(?P<mon>{MONTH_WORDS})\.?"
_SEP = r"[\s\-/.,']*"
_WEEK = r"(?:w|wk|week)\s*"
_FORMS = [                                  # (period, pattern): whole cell, any case
    ("quarter", rf"(?P<year>\d{{4}}){_SEP}q(?P<n>[1-4])"),                  # 1965Q1, 1965-Q1, 1965 Q1
    ("quarter", rf"q(?P<n>[1-4]){_SEP}(?P<year>\d{{4}})"),                  # Q1 1965, Q1-1965
    ("quarter", rf"(?:fy{_SEP})?(?P<year>\d{{2}}|\d{{4}}){_SEP}q(?P<n>[1-4])"),  # FY20 Q1, FY2020-Q1, 24Q1
    ("quarter", rf"q(?P<n>[1-4]){_SEP}(?:fy{_SEP})?(?P<year>\d{{2}}|\d{{4}})"),  # Q1 FY20, Q1-24, Q1 '24
    ("week", rf"(?P<year>\d{{4}}){_SEP}{_WEEK}(?P<n>\d{{1,2}})(?:-(?P<day>[1-7]))?"),  # 2020-W05, 2020-W05-3
    ("week", rf"{_WEEK}(?P<n>\d{{1,2}}){_SEP}(?P<year>\d{{4}})"),           # W05 2020, Week 5, 2020
    ("month", rf"(?P<year>\d{{4}}){_SEP}m(?P<n>\d{{1,2}})"),                # 1980M01
    ("month", rf"(?P<year>\d{{4}}){_SEP}{_MONTH}"),                         # 1980-Jan
    ("month", rf"{_MONTH}{_SEP}(?P<year>\d{{4}}|\d{{2}})"),                 # Jan 1980, Jan-80
    ("sub", r"(?P<year>\d{4})[:.](?P<n>\d{1,2})"),                         # 1965:1, 1965.1, 1980:01
    ("year", rf"fy{_SEP}(?P<year>\d{{4}}|\d{{2}})"),                        # FY2020, FY 20
    ("year", r"(?P<year>\d{4})"),                     # 1990 among 1990 Q1, … (ONS files mix them)
]
_COMPILED = [(period, re.compile(rf"^(?:{p})$", re.I)) for period, p in _FORMS]
_ANY = re.compile("|".join(f"(?:{re.sub(r'[(][?]P<[a-z]+>', '(?:', p)})" for _, p in _FORMS), re.I)
_FINENESS = ["year", "quarter", "month", "week"]
_PERIOD_WORDS = {"year": "yearly", "quarter": "quarterly", "month": "monthly", "week": "weekly"}
_FISCAL = re.compile(r"(?i)^(?:fy\s*)?(\d{4})\s*[-/–]\s*(\d{2}|\d{4})$")    # 1990-91, 1990/1991

# a column whose name says it holds the time ("Date", "order_date", "Quarter", "Jahr", "ds", …)
TIME_NAME = re.compile(r"(?i)(?<![a-z])(dates?|datum|fecha|time|timestamp|datetime|day|week|month|"
                        r"quarter|qtr|year|yr|jahr|monat|period|ds|ts|unix|epoch|unix_?time)(?![a-z])")
# Unix times that fall in 1990..2100, by unit: seconds, milliseconds, microseconds, nanoseconds
_EPOCH_UNITS = [("s", 1), ("ms", 10 ** 3), ("us", 10 ** 6), ("ns", 10 ** 9)]
_EPOCH_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# Excel's dates saved as numbers: days since 30 December 1899 (45292 is 1 January 2024), here
# 1954-10-03 to 2119-01-09; a fraction is the time of day
EXCEL_DAYS, EXCEL_ORIGIN = (20_000, 80_000), "1899-12-30"
_YEAR_NAME = re.compile(r"(?i)(?<![a-z])(year|yr|jahr|ann[ée]e|a[ñn]o|anno)s?(?![a-z])")
_ID_NAME = re.compile(r"(?i)(?<![a-z])(id|code|store|shop|key|sku|no|nr|num|number)(?![a-z])")


def label_dates(cells: pd.Series) -> pd.Series | None:
    """Cells written as period labels → the first day of each period (datetime64[ns], NaT where
    a cell is no label or its year is outside 1678..2200); None when the cells are not labels.

    >>> v = label_dates(pd.Series(["Q1 1965", "1965-q2", "2020-W05", "Jan-80", "1980M03", None]))
    >>> v.dt.strftime("%Y-%m-%d").tolist()
    ['1965-01-01', '1965-04-01', '2020-01-27', '1980-01-01', '1980-03-01', nan]
    """
    text = cells.dropna().astype("str").str.strip()
    if text.empty:
        return None
    labels = pd.Index(pd.unique(text))
    fiscal = _fiscal_years(labels)
    if fiscal is not None:
        out = pd.Series(fiscal[labels.get_indexer(text)], index=text.index).reindex(cells.index)
        out.attrs["note"] = (f"Read fiscal years such as {labels[0]!r} as the year they start in "
                             f"({pd.Timestamp(fiscal[0]).year}).")
        return out.astype("datetime64[ns]")
    if text.head(50).str.fullmatch(_ANY).mean() < 0.5:
        return None
    stamps = np.full(len(labels), np.datetime64("NaT"), dtype="datetime64[ns]")
    kinds = np.full(len(labels), -1)
    todo = np.ones(len(labels), dtype=bool)
    for period, form in _COMPILED:
        parts = pd.Series(labels[todo]).str.extract(form)
        hit = parts["year"].notna().to_numpy()
        if not hit.any():
            continue
        rows = np.flatnonzero(todo)[hit]
        if period == "sub":                # 1965:1 … 1965:4 are quarters; 1965:01 or 1965:7 months
            n = parts.loc[hit, "n"]
            period = "month" if (n.str.startswith("0").any() or n.astype(int).max() > 4) else "quarter"
        stamps[rows] = first_days(period, parts[hit])
        kinds[rows] = _FINENESS.index(period)
        todo[rows] = False
    out = pd.Series(np.datetime64("NaT"), index=cells.index, dtype="datetime64[ns]")
    at = labels.get_indexer(text)
    finest = kinds.max()
    coarse = (kinds >= 0) & (kinds < finest)
    if coarse.any() and (kinds == finest).sum() >= 3:   # 1990, 1990 Q1, …: the yearly rows are totals
        stamps[coarse] = np.datetime64("NaT")
        mask = pd.Series(False, index=cells.index)
        mask[text.index] = coarse[at]
        words = [_PERIOD_WORDS[_FINENESS[k]] for k in sorted(set(kinds[coarse]))]
        out.attrs["coarse"] = mask
        out.attrs["note"] = (f"The file mixes {' and '.join(words)} rows ({labels[coarse][0]!r}) with "
                             f"{_PERIOD_WORDS[_FINENESS[finest]]} ones ({labels[kinds == finest][0]!r}); used the "
                             f"{_PERIOD_WORDS[_FINENESS[finest]]} rows and left out the {int(mask.sum())} others.")
    out[text.index] = stamps[at]
    fy = labels[(kinds >= 0) & labels.str.contains("(?i)fy", regex=True)]
    if len(fy):                      # FY20 Q1: the fiscal year's start is the company's own
        note = (f"Read fiscal periods such as {fy[0]!r} as the calendar ones they name ({fy[0]!r} → "
                f"{pd.Timestamp(stamps[labels.get_loc(fy[0])]):%Y-%m-%d}); if the fiscal year starts in another "
                "month, the dates are shifted by that much, and the forecast is the same.")
        out.attrs["note"] = " ".join(n for n in (out.attrs.get("note"), note) if n)
    return out


def first_days(period: str, parts: pd.DataFrame) -> np.ndarray:
    """The first day of each period from its year and number (or month name); NaT when invalid."""
    raw = parts["year"].to_numpy(dtype=str)
    year = parts["year"].astype("int64").to_numpy()
    short = np.char.str_len(raw) == 2                  # Jan-80: the %y rule, 69..99 → 1900s
    year = np.where(short, np.where(year >= 69, 1900, 2000) + year, year)
    if period == "year":
        n = np.ones_like(year)
    elif "mon" in parts:
        n = parts["mon"].str.lower().map(MONTH_NUMBER).to_numpy(dtype="int64")
    else:
        n = parts["n"].astype("int64").to_numpy()
    ok = (year >= FIRST_YEAR) & (year <= LAST_YEAR)
    year = np.where(ok, year, 2000)                     # placeholders, masked below
    if period == "week":
        jan4 = ((year - 1970) * 12).astype("datetime64[M]").astype("datetime64[D]") + 3
        monday = jan4 - (jan4.astype("int64") + 3) % 7 + 7 * (n - 1)       # 1970-01-01 was a Thursday
        thursday = monday + 3
        ok &= (n >= 1) & (thursday.astype("datetime64[Y]").astype("int64") + 1970 == year)
        days = monday
        if "day" in parts:                             # an ISO week date: its weekday, 1 = Monday
            days = monday + parts["day"].fillna("1").astype("int64").to_numpy() - 1
    else:
        month = 3 * (n - 1) + 1 if period == "quarter" else n
        ok &= (month >= 1) & (month <= 12)
        days = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    return np.where(ok, days.astype("datetime64[ns]"), np.datetime64("NaT"))


def _fiscal_years(labels: pd.Index) -> np.ndarray | None:
    """Fiscal years written as a span (1990-91, 1990/1991, FY1990-91) → the January 1st of the year
    each starts in; None unless every label is such a span of one year."""
    parts = pd.Series(labels).str.extract(_FISCAL)
    if parts[0].isna().any():
        return None
    start = parts[0].astype("int64").to_numpy()
    end = parts[1].astype("int64").to_numpy()
    two = parts[1].str.len().to_numpy() == 2
    if not np.all(np.where(two, end == (start + 1) % 100, end == start + 1)):
        return None
    ok = (start >= FIRST_YEAR) & (start <= LAST_YEAR)
    days = (np.where(ok, start, 2000) - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
    return np.where(ok, days, np.datetime64("NaT"))


def number_dates(name, values: np.ndarray, text: pd.Series) -> tuple[pd.Series, str] | None:
    """A column of numbers whose name says time, read as dates: Excel's day numbers (45292 for
    1 January 2024, a fraction for the time), Unix times (1609459200, or in milliseconds and
    finer) or a year and its period (1965.1 … 1965.4); the dates and a note saying how they
    were read, or None.

    >>> d, note = number_dates("Time", np.array([45292., 45292.5, 45293.]), pd.Series(["45292", "45292.5", "45293"]))
    >>> d.dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2024-01-01 00:00', '2024-01-01 12:00', '2024-01-02 00:00']
    >>> note
    "Read the numbers in column 'Time' as dates the way Excel counts them, in days since 1900 (45292 → 2024-01-01)."
    """
    if not TIME_NAME.search(str(name)) or says_year(name):
        return None
    v = values[~np.isnan(values)]
    if len(v) >= 3 and EXCEL_DAYS[0] <= v.min() and v.max() < EXCEL_DAYS[1] and _evenly_spaced(v):
        d = pd.Series(pd.to_datetime(values, unit="D", origin=EXCEL_ORIGIN), index=text.index).astype("datetime64[ns]")
        first = d.first_valid_index()
        stamp = f"{d[first]:%Y-%m-%d %H:%M}".removesuffix(" 00:00")
        return d, (f"Read the numbers in column {name!r} as dates the way Excel counts them, in days since "
                   f"1900 ({text[first]} → {stamp}).")
    if len(v) >= 3 and (v == np.round(v)).all():
        lo, hi = pd.Timestamp("1990-01-01").value // 10 ** 9, pd.Timestamp("2100-01-01").value // 10 ** 9
        for unit, scale in _EPOCH_UNITS:
            if lo * scale <= v.min() and v.max() < hi * scale:
                d = pd.Series(pd.to_datetime(values, unit=unit), index=text.index).astype("datetime64[ns]")
                first = d.first_valid_index()
                return d, (f"Read the numbers in column {name!r} as Unix times in {_EPOCH_WORDS[unit]} "
                           f"({text[first]} → {d[first]:%Y-%m-%d %H:%M} UTC).")
    d = label_dates(text)
    if d is None or d.notna().sum() != text.notna().sum():
        return None
    first = d.first_valid_index()
    return d, f"Read the numbers in column {name!r} as a year and its period ({text[first]} → {d[first]:%Y-%m-%d})."


def _evenly_spaced(v: np.ndarray) -> bool:
    """Numbers that step evenly, as dates do (a day, a week, a month of 28 to 31 days; a few gaps
    allowed), not amounts that happen to lie in the range of dates: four in five steps between
    the different values within a tenth of their median step.

    >>> days, amounts = np.array([45292., 45293, 45295, 45296, 45297, 45298]), np.array([20500., 31000, 47000])
    >>> _evenly_spaced(days), _evenly_spaced(amounts)
    (True, False)
    """
    steps = np.diff(np.unique(v))
    if len(steps) < 2:
        return False
    mid = np.median(steps)
    return bool(np.mean(np.abs(steps - mid) <= 0.1 * mid) >= 0.8)


def says_year(name) -> bool:
    """The column's name says it holds years ("year", "YEAR", "Jahr", "fiscal_year", …)."""
    return bool(_YEAR_NAME.search(str(name)))


def year_dates(values: np.ndarray, index, name="", chosen: bool = False) -> pd.Series | None:
    """Integer years or YYYYMMDD numbers as dates; None when they are not that.

    Years count when the name says year (or the caller chose the column), or, unnamed, when they
    lie in 1800..2200 or step regularly upwards (1700, 1701, …); a named column of years before
    1678 is refused, since the timestamps cannot hold them.

    >>> year_dates(np.array([1700., 1701., 1702.]), range(3), "YEAR").dt.year.tolist()
    [1700, 1701, 1702]
    """
    v = values[~np.isnan(values)]
    if len(v) < 3 or not (v == np.round(v)).all():
        return None
    text = pd.Series([None if np.isnan(x) else str(int(x)) for x in values], index=index, dtype=object)
    lo, hi = v.min(), v.max()
    if 1000 <= lo and hi <= LAST_YEAR:
        named = chosen or says_year(name)
        steps = np.diff(v)
        regular = bool((steps > 0).all() and (steps == steps[0]).all())
        if not (named or (not _ID_NAME.search(str(name)) and (lo >= 1800 or regular))):
            return None
        if lo < FIRST_YEAR:
            if not named:
                return None
            raise DataError(f"Column {name!r} holds years from {int(lo)}; genlib's dates start in "
                            f"{FIRST_YEAR}, so these years cannot be the time axis. Keep the rows from "
                            f"{FIRST_YEAR} on, or remove the column to forecast by position.")
        return pd.to_datetime(text, format="%Y", errors="coerce").astype("datetime64[ns]")
    if lo >= FIRST_YEAR * 10000 + 101 and hi <= LAST_YEAR * 10000 + 1231:
        d = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
        if d.notna().sum() == len(v):
            return d.astype("datetime64[ns]")
    return None
