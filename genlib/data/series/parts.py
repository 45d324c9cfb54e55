"""Dates written across several columns → one time axis.

The ways people export them, each read here:

- a year column and the rest of the date beside it: Year + Month (1–12 or Jan, January),
  Year + Quarter (1–4 or Q1), Year + Week (ISO weeks 1–53), Year + Month + Day (`calendar_parts`);
- a date and its time of day in two columns: Date + Hour (0–23, or 1–24 counted as hour ending),
  Date + Time (13:30, 1:30 PM) (`with_time_of_day`);
- one row per year and one column per month or quarter (Year, Jan, Feb, …, Dec; Year, Q1, …, Q4),
  the layout of statistical tables (`period_columns`, stacked by `stack_periods`);
- a day and its numbered period (UK settlement periods 1–48, hours 1–24, 15-minute blocks 1–96)
  (`with_time_of_day`);
- one series per row with its start in columns (Starting Year, Starting Month) and the values in
  columns numbered 1, 2, 3, … — the M3 competition's files (`step_columns`, `row_starts`).

The year column is found as `labels.year_dates` finds one (its name says year, its cells are
whole years); the other parts by their names (Month, Quarter, Week, Day, Hour, Time) and by
holding only values that part can take, so a column of sales named "Month" is never read as one.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .cells import DATE_SHARE, Dates, as_text
from .labels import FIRST_YEAR, LAST_YEAR, MONTH_NUMBER, MONTH_WORDS, first_days, says_year


def _name(*words: str) -> re.Pattern:
    return re.compile(rf"(?i)(?<![a-z])({'|'.join(words)})s?(?:_?(?:name|num|number|no|nr|of_?year))?(?![a-z])")


_PART_NAMES = {
    "month": _name("month", "mon", "mth", "monat", "mois", "mes", "mese", "maand"),
    "quarter": _name("quarter", "qtr", "quartal", "trimestre", "kwartaal", "q"),
    "week": _name("week", "wk", "woche", "semaine", "semana", "iso_?week"),
    "day": _name("day", "dd", "tag", "jour", "dia", "día", "giorno", "dag"),
    "hour": _name("hour", "hr", "hh", "he", "hour_?ending", "hour_?beginning", "stunde", "heure", "hora"),
}
_RANGE = {"month": (1, 12), "quarter": (1, 4), "week": (1, 53), "day": (1, 31)}
_MONTH_WORD = re.compile(rf"(?i)^({MONTH_WORDS})\.?$")
_QUARTER_WORD = re.compile(r"(?i)^q([1-4])$")
_PERIOD = re.compile(r"(?i)^\s*(settlement[\s_]*period|period|sp|half[\s_-]*hour(?:ly)?(?:[\s_]*period)?|hh|"
                     r"(?:time[\s_]*)?block|interval)s?(?:[\s_]*(?:number|no|nr|num))?\.?\s*$")
PART_WORD = re.compile(r"(?i)day|week|month|year|quarter|hour|dow|doy|qtr|mon|mth|mnth|wk|yr|hr|"
                        r"tag|jour|dia|mes|jahr|ann")
_START = r"(?:start(?:ing)?|begin(?:ning)?|first|from)"
_STARTS = {part: re.compile(rf"(?i)^\s*(?:{_START}[\s_.-]*{words}|{words}[\s_.-]*{_START})s?\s*$")
           for part, words in (("year", "(?:year|yr)"), ("month", "(?:month|mon|mth)"),
                               ("quarter", "(?:quarter|qtr)"), ("other", r"\w+"))}
_CLOCK = re.compile(r"(?i)^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([ap])?\.?(?:m\.?)?$")


def _whole(cells: pd.Series, lo: int, hi: int) -> np.ndarray | None:
    """Cells that are whole numbers in lo..hi (float, NaN where empty); None when any is not."""
    v = pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64")
    given = cells.notna().to_numpy()
    ok = ~np.isnan(v[given])
    if not given.any() or not ok.all():
        return None
    w = v[given]
    return v if ((w == np.round(w)) & (w >= lo) & (w <= hi)).all() else None


def _part_values(part: str, cells: pd.Series) -> np.ndarray | None:
    """One column's cells as that part's numbers (month 1–12, quarter 1–4, …), or None."""
    text = as_text(cells)
    if part == "month" and text.dropna().str.fullmatch(_MONTH_WORD).all() and text.notna().any():
        return text.str.lower().str.rstrip(".").map(MONTH_NUMBER).to_numpy(dtype="float64")
    if part == "quarter" and text.dropna().str.fullmatch(_QUARTER_WORD).all() and text.notna().any():
        return text.str.extract(_QUARTER_WORD)[0].astype("float64").to_numpy()
    lo, hi = _RANGE.get(part, (0, 24))
    return _whole(text, lo, hi)


def _years(table: pd.DataFrame, skip) -> tuple[str, np.ndarray, str, pd.Series] | None:
    """The year column (name says year, whole years in 1678..2200), its years, a note when empty
    cells below a year were filled from above (merged cells in a spreadsheet), and the words
    below the last year (a "Total" or "Average" row: up to 5, no year, left out)."""
    for c in table.columns:
        if c in skip or not says_year(c):
            continue
        text = as_text(table[c])
        v, footer = _whole(text, FIRST_YEAR, LAST_YEAR), text[:0]
        if v is None:
            v, footer = _above_footer(text)
        if v is None:
            continue
        note = ""
        below = np.zeros(len(v), dtype=bool)
        if len(footer):
            below[text.index.get_indexer(footer.index).min():] = True
        if np.isnan(v[~below]).any() and not np.isnan(v[0]):
            v = np.where(below, np.nan, pd.Series(v).ffill().to_numpy())
            note = f"Filled the empty cells of column {c!r} with the year above them."
        return c, v, note, footer
    return None


def _above_footer(text: pd.Series) -> tuple[np.ndarray | None, pd.Series]:
    """Whole years with up to 5 cells of words below the last one (Total, Average, a source
    line): the years (NaN elsewhere) and those cells; (None, empty) when the column is not so."""
    v = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    given = text.notna().to_numpy()
    with np.errstate(invalid="ignore"):
        year = given & (v == np.round(v)) & (v >= FIRST_YEAR) & (v <= LAST_YEAR)
    other = given & ~year
    if not year.any() or not other.any() or other.sum() > 5 or other[:np.flatnonzero(year)[-1]].any() \
            or not np.isnan(v[other]).all():
        return None, text[:0]
    return np.where(year, v, np.nan), text[other]


def calendar_parts(table: pd.DataFrame, skip) -> tuple[Dates, list[str], str] | None:
    """Year + Month (+ Day), Year + Week or Year + Quarter columns → dates, the columns used and a
    note; None when the table has no year column with such a part beside it. `skip`: columns
    with another role (the caller's ids and values)."""
    found = _years(table, skip)
    if found is None:
        return None
    year_col, year, note, footer = found
    parts = {}
    for c in table.columns:
        if c in skip or c == year_col:
            continue
        for part, pattern in _PART_NAMES.items():
            if part != "hour" and part not in parts and pattern.fullmatch(str(c).strip()):
                v = _part_values(part, table[c])
                if v is not None:
                    parts[part] = (c, v)
                break
    period = next((p for p in ("month", "week", "quarter") if p in parts), None)
    if period is None:
        return None
    col, n = parts[period]
    ok = ~np.isnan(year) & ~np.isnan(n)
    frame = pd.DataFrame({"year": np.where(ok, year, 2000).astype("int64").astype(str),
                          "n": np.where(ok, n, 1).astype("int64").astype(str)})
    days = first_days(period, frame)
    used = [year_col, col]
    if period == "month" and "day" in parts:
        dcol, day = parts["day"]
        shifted = days + (np.nan_to_num(day, nan=1).astype("int64") - 1).astype("timedelta64[D]")
        same_month = shifted.astype("datetime64[M]") == days.astype("datetime64[M]")
        days = np.where(same_month & ~np.isnan(day), shifted, np.datetime64("NaT"))
        used.append(dcol)
    values = pd.Series(np.where(ok, days, np.datetime64("NaT")), index=table.index, dtype="datetime64[ns]")
    dates, used, note = _result(table, values, used, note)
    dates.bad = pd.concat([dates.bad, footer[~footer.index.isin(dates.bad.index)]]).sort_index()
    return dates, used, note


def is_clock(cells: pd.Series) -> bool:
    """The cells are times of day (13:30, 1:30 PM, 08:00:00): a part of a date, not a date."""
    text = as_text(cells.head(200)).dropna()
    return not text.empty and bool(text.str.fullmatch(_CLOCK).all())


def with_time_of_day(table: pd.DataFrame, dates: Dates, date_col: str, skip) -> tuple[Dates, str, str] | None:
    """A column of days + a column of hours (0–23, or 1–24 as hour ending) or of clock times
    beside it → timestamps, the column used and a note; None when there is none such."""
    ds = dates.values
    if ds.dropna().empty or (ds.dropna() != ds.dropna().dt.normalize()).any():
        return None
    for c in table.columns:
        hourly = _PART_NAMES["hour"].fullmatch(str(c).strip())
        numbered = _PERIOD.fullmatch(str(c).strip())
        if c in skip or c == date_col or not (hourly or numbered or is_clock(table[c])):
            continue
        text = as_text(table[c])
        if text.notna().sum() < DATE_SHARE * ds.notna().sum():
            continue
        clock = text.dropna().str.extract(_CLOCK)
        if clock[0].notna().all():
            hour, half = clock[0].astype(int), clock[3].str.lower()
            hour = hour.where(half.isna(), hour % 12 + 12 * (half == "p"))
            secs = hour * 3600 + clock[1].astype(int) * 60 + clock[2].fillna("0").astype(int)
            if (secs >= 24 * 3600).any():
                continue
            offset = pd.Series(pd.to_timedelta(secs, unit="s"), index=text.dropna().index)
            return _timed(table, ds, offset, date_col, c, f"Read the times of day from column {c!r}.")
        v = _whole(text, 0, 24) if hourly else None
        if v is None:
            found = _day_periods(text, ds, str(c))
            if found is not None:
                days, offset, note = found
                return _timed(table, days, offset, date_col, c, note)
            continue
        h = v[~np.isnan(v)]
        ending = h.max() == 24 or (h.min() >= 1 and re.search(r"(?i)end|(?<![a-z])he(?![a-z])", str(c)))
        if ending:
            v = v - 1
        offset = pd.Series(pd.to_timedelta(v[~np.isnan(v)], unit="h"), index=text.index[~np.isnan(v)])
        note = f"Read the hours from column {c!r}" + (" as hours ending (1 = 00:00–01:00)." if ending else ".")
        return _timed(table, ds, offset, date_col, c, note)
    return None


def _day_periods(text: pd.Series, ds: pd.Series, name: str):
    """A day's numbered periods (1–48 half-hours, 1–24 hours, 1–96 quarter hours, 1–288 five
    minutes; from 0 where a 0 appears) → the days, each period's offset from midnight and a note;
    None when the numbers are not such. A day with a clock change has one hour more or less of
    periods; UK settlement periods (the name says "settlement") start at UK midnight and are put
    on UTC, so those days leave no gap or repeat."""
    v = _whole(text, 0, 300)
    if v is None or np.isnan(v).all():
        return None
    lo, hi = np.nanmin(v), np.nanmax(v)
    per_day = next((n for n in (24, 48, 96, 288) if hi <= n + n // 24), None)
    if per_day is None or hi <= 0.75 * per_day or lo > 1:
        return None
    minutes = 24 * 60 // per_day
    given = ~np.isnan(v)
    offset = pd.Series(pd.to_timedelta((v[given] - lo) * minutes, unit="min"), index=text.index[given])
    length = {24: "hours", 48: "half-hours", 96: "quarter-hours", 288: "five-minute periods"}[per_day]
    note = f"Read column {name!r} as the day's {length} ({int(lo)} = 00:00"
    if re.search(r"(?i)settlement", name):
        try:
            local = pd.DatetimeIndex(ds).tz_localize("Europe/London", nonexistent="NaT", ambiguous="NaT")
            ds = pd.Series(local.tz_convert("UTC").tz_localize(None), index=ds.index)
            note += " UK time; times are in UTC, so the clock changes leave no gap or repeat"
        except Exception:                                 # no time-zone data on this machine
            pass
    return ds, offset, note + ")."


def _timed(table, ds: pd.Series, offset: pd.Series, date_col: str, col: str, note: str):
    values = (ds + offset.reindex(ds.index)).astype("datetime64[ns]")
    dates, _, _ = _result(table, values, [date_col, col], "")
    return dates, col, note


def _result(table, values: pd.Series, used: list[str], note: str):
    filled = int(table[used].notna().any(axis=1).sum())
    present = table[used].notna().all(axis=1)
    bad_rows = present & values.isna()
    rows = table.loc[bad_rows, used].astype(str)
    bad = rows.agg(" ".join, axis=1) if len(rows) else pd.Series([], dtype="str")
    return Dates(values, filled, bad, None, note), used, note


def period_columns(table: pd.DataFrame, skip):
    """One row per year, one column per month (Jan … Dec, January … December) or quarter (Q1 …
    Q4): the year column and its years, the period columns with their month (1–12), "month" or
    "quarter", and the words below the years (rows left out); None when the table is not so."""
    found = _years(table, skip)
    if found is None:
        return None
    names = {c: str(c).strip() for c in table.columns if c not in skip and c != found[0]}
    months = [(c, MONTH_NUMBER[n.lower().rstrip(".")]) for c, n in names.items() if _MONTH_WORD.fullmatch(n)]
    quarters = [(c, 3 * int(_QUARTER_WORD.fullmatch(n).group(1)) - 2) for c, n in names.items()
                if _QUARTER_WORD.fullmatch(n)]
    for kind, cols, whole in (("month", months, 12), ("quarter", quarters, 4)):
        if len({m for _, m in cols}) == whole == len(cols):
            return found[0], found[1], sorted(cols, key=lambda cm: cm[1]), kind, found[3]
    return None


def stack_periods(year: np.ndarray, cols: list[tuple[str, int]], numbers: dict, ids: pd.Series | None,
                  name: str) -> pd.DataFrame:
    """The long rows of a year × period table: row by row, the periods left to right."""
    block = np.column_stack([numbers[c].values for c, _ in cols])                    # years × periods
    month = np.array([m for _, m in cols])
    ok = ~np.isnan(year)
    months = (np.where(ok, year, 1970).astype("int64")[:, None] - 1970) * 12 + month[None, :] - 1
    ds = months.astype("datetime64[M]").astype("datetime64[ns]")
    uid = np.full(len(year), name, dtype=object) if ids is None else ids.to_numpy(dtype=object)
    if ids is not None:
        ok &= ids.notna().to_numpy()
    keep = np.repeat(ok, len(cols))
    return pd.DataFrame({"unique_id": np.repeat(uid, len(cols))[keep], "ds": ds.ravel()[keep],
                         "y": block.ravel()[keep]})


def step_columns(cols) -> list[str] | None:
    """The columns named 1, 2, 3, … (or 0, 1, 2, …) in order: the time steps of a table with one
    series per row, as the M3 competition's files have them; None when there are fewer than 3."""
    named = [c for c in cols if re.fullmatch(r"\s*\d{1,5}\s*", str(c))]
    steps = [int(c) for c in named]
    if len(named) < 3 or steps[0] not in (0, 1) or steps != list(range(steps[0], steps[0] + len(steps))):
        return None
    return named


def row_starts(table: pd.DataFrame, skip) -> tuple[list[str], np.ndarray, int, pd.Series] | None:
    """Where each row's series starts: a start-year column ("Starting Year", "start_year"; whole
    years) and, beside it, a start month (1–12 or a name) or quarter (1–4) → the columns used, the
    month each row starts (datetime64[M]), the months between its values (1, 3, or 12 with a year
    alone) and the cells of the rows whose start is no date (NaT there: M3's files have a year 0
    and a quarter 9); None when there is no start year, when fewer than 9 in 10 starts are dates,
    or when another start column (a "Start Period") leaves the spacing unknown."""
    named = {part: [c for c in table.columns if c not in skip and pattern.fullmatch(str(c))]
             for part, pattern in _STARTS.items()}
    if not named["year"]:
        return None
    used, step = named["year"][:1], 12
    year = _mostly(table[used[0]], FIRST_YEAR, LAST_YEAR)
    month = np.where(np.isnan(year), np.nan, 1.0) if year is not None else None
    for part, months in (("month", 1), ("quarter", 3)):
        if named[part] and year is not None:
            col = named[part][0]
            words = _part_values(part, table[col]) if part == "month" else None
            v = _mostly(table[col], *_RANGE[part]) if words is None else words
            month = None if v is None else 1 + (v - 1) * months
            used, step = used + [col], months
            break
    if month is None or set(named["other"]) - set(used):
        return None
    ok = ~np.isnan(year) & ~np.isnan(month)
    given = table[used].notna().any(axis=1).to_numpy()
    if ok.sum() < DATE_SHARE * given.sum():
        return None
    start = np.where(ok, (np.nan_to_num(year, nan=1970) - 1970) * 12 + np.nan_to_num(month, nan=1) - 1, 0)
    cells = table.loc[given & ~ok, used].map(lambda v: "empty" if pd.isna(v) else f"{v:g}" if isinstance(v, float)
                                            else str(v).strip())
    bad = cells.agg(" ".join, axis=1) if len(cells) else pd.Series([], dtype="str")
    return used, np.where(ok, start.astype("int64").astype("datetime64[M]"), np.datetime64("NaT", "M")), step, bad


def _mostly(cells: pd.Series, lo: int, hi: int) -> np.ndarray | None:
    """Whole numbers, NaN where a cell is empty or outside lo..hi; None when a cell is no number."""
    v = pd.to_numeric(as_text(cells), errors="coerce").to_numpy(dtype="float64")
    if (cells.notna().to_numpy() & np.isnan(v)).any():
        return None
    with np.errstate(invalid="ignore"):
        return np.where((v == np.round(v)) & (v >= lo) & (v <= hi), v, np.nan)


def date_part(values: np.ndarray, parts: dict) -> str | None:
    """The part of the date a column of numbers repeats ("the day of the week" for Rossmann's
    DayOfWeek: 1 = Monday, or 0 = Monday, or Sunday first, or M5's wday: 1 = Saturday; "the week
    number" for M5's wm_yr_wk; the month, the year, the hour, …), or
    None when it is a measurement. `parts`: `date_parts` of the file's dates. The part must
    change within the file (a column of 1s in a file of January dates is not "the month"); the
    caller asks only for a column whose name says a part (`PART_WORD`: a column of 3, 4, 5 on
    the 3rd, 4th and 5th is not the day by that alone)."""
    v = np.asarray(values, dtype="float64")
    ok = ~np.isnan(v) & parts["known"]
    if ok.sum() < 3 or (v[ok] % 1 != 0).any():
        return None
    for part, forms in parts.items():
        for form in forms if part not in ("known", "day") else []:
            form = form[ok]
            if form.min() != form.max() and np.array_equal(v[ok], form):
                return part
    day = parts["day"][ok]
    if _names_weekdays(v[ok], day):
        return "day of the week"
    if _numbers_weeks(v[ok], day):
        return "week number"
    return None


def _names_weekdays(v: np.ndarray, day: np.ndarray) -> bool:
    """Seven whole numbers, one for each day of the week, whichever day they start on (M5's
    `wday`: 1 = Saturday).

    >>> day = np.arange(14)                                   # 1 Jan 1970 (a Thursday) on
    >>> _names_weekdays((day + 2) % 7 + 1, day), _names_weekdays(day % 5, day)
    (True, False)
    """
    dow = (day + 3) % 7                                       # Monday 0: 1 Jan 1970 was a Thursday
    if len(np.unique(v)) != 7 or len(np.unique(dow)) != 7:
        return False
    return len(np.unique(np.column_stack([dow, v]), axis=0)) == 7


def _numbers_weeks(v: np.ndarray, day: np.ndarray) -> bool:
    """The number of each row's week, whichever day weeks start on: the same on every day of a
    week, up by one a week (M5's `wm_yr_wk`: 11101, 11102, …, 11152, 11201; a week of the year,
    back to 1 each January), on rows a day apart or closer (a weekly file's sales change every
    row too). Four weeks at least; four in five changes up by one.

    >>> day = np.arange(2, 60)                                # from Saturday 3 Jan 1970
    >>> bool(_numbers_weeks(11101 + day // 7, day)), bool(_numbers_weeks(day // 7 * 3.0, day))
    (True, False)
    """
    for start in range(7):                                    # weeks from each day of the week
        week = (day - start) // 7
        order = np.argsort(week, kind="stable")
        w, x = week[order], v[order]
        same = w[1:] == w[:-1]
        if not same.any() or (x[1:][same] != x[:-1][same]).any():
            continue
        first = np.r_[True, ~same]                            # each week's first row
        if first.sum() < 4 or len(x) < 2 * first.sum():
            continue
        return bool(np.mean(np.diff(x[first]) == np.diff(w[first])) >= 0.8)
    return False


def date_parts(dates: pd.Series) -> dict:
    """The parts of each date that a column may repeat, by name (several ways of counting the
    day of the week), as float arrays; "known" marks the rows with a date, "day" counts days
    since 1 January 1970 (for weekday codes and week numbers that start on any day)."""
    known = dates.notna().to_numpy()
    d = pd.DatetimeIndex(dates.fillna(pd.Timestamp("2000-01-03")))
    dow = d.day_of_week.to_numpy()
    forms = {"year": [d.year], "quarter": [d.quarter], "month": [d.month], "day of the month": [d.day],
             "day of the week": [dow, dow + 1, (dow + 1) % 7, (dow + 1) % 7 + 1],
             "week of the year": [d.isocalendar().week], "day of the year": [d.day_of_year], "hour": [d.hour]}
    day = d.to_numpy().astype("datetime64[D]").astype("int64")              # days since 1 Jan 1970
    return {"known": known, "day": day,
            **{k: [np.asarray(f, dtype="float64") for f in v] for k, v in forms.items()}}


def column_starts(values: dict, fname: str):
    """One series per column with its description in its first rows — its length, its start year
    and (monthly, quarterly) its start month or quarter, then its values — as the tourism
    competition's files (monthly_in.csv) have them → {column: (first month, values)}, the months
    between values, and the rows read as the description; None when the first row is not each
    column's count of values below the description."""
    cols = list(values)
    if not cols:
        return None
    block = np.column_stack([values[c] for c in cols])                    # rows × columns
    if len(block) < 4 or np.isnan(block[:2]).any():
        return None
    n, year = block[0], block[1]
    counts = {k: (~np.isnan(block[k:])).sum(axis=0) for k in (2, 3)}
    if not ((n >= 1) & (year == np.round(year)) & (year >= FIRST_YEAR) & (year <= LAST_YEAR)).all():
        return None
    if (counts[2] == n).all():
        head, step, first = 2, 12, np.ones(len(cols))
    elif (counts[3] == n).all() and not np.isnan(block[2]).any() and (block[2] == np.round(block[2])).all():
        said = " ".join(str(c) for c in cols[:3]).lower() + " " + fname.lower()
        quarter = block[2].max() <= 4 and ("quart" in said or re.match(r"q\d", str(cols[0]).lower()))
        if not quarter and not (block[2].max() > 4 or "month" in said or re.match(r"m\d", str(cols[0]).lower())):
            return None                                 # 1–4: quarters or months, nothing says which
        if block[2].min() < 1 or block[2].max() > (4 if quarter else 12):
            return None
        head, step, first = 3, 3 if quarter else 1, (3 * (block[2] - 1) + 1) if quarter else block[2]
    else:
        return None
    start = ((year - 1970) * 12 + first - 1).astype("int64").astype("datetime64[M]")
    series = {}
    for j, c in enumerate(cols):                      # its values up to its last: a gap stays a gap
        v = block[head:, j]
        series[c] = (start[j], v[:np.flatnonzero(~np.isnan(v))[-1] + 1])
    return series, step, head
