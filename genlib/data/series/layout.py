"""A table of cells → one long table (unique_id, ds, y): which column holds the dates, which the
ids, which the values, and how the series are laid out (long, wide, single, rows).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from genlib.errors import DataError

from .cells import (DATE_SHARE, NUMBER_SHARE, Dates, all_numbers, as_text, read_dates, read_numbers,
                    sniff_decimal)
from .keys import find_id, joined_ids, measurements
from .labels import DATE_FORMS, MONTH_NUMBER, TIME_NAME, number_dates, says_year, year_dates
from .parts import (calendar_parts, column_starts, is_clock, period_columns, row_starts, stack_periods,
                    step_columns, with_time_of_day)
from .read import file_title



def _pick(table: pd.DataFrame, wanted: str, role: str, fname: str) -> str:
    cols = list(table.columns)
    if wanted in cols:
        return wanted
    folded = [c for c in cols if c.strip().lower() == str(wanted).strip().lower()]
    if len(folded) == 1:
        return folded[0]
    shown = ", ".join(repr(c) for c in cols[:30]) + (f" … ({len(cols)} in all)" if len(cols) > 30 else "")
    raise DataError(f"{role}={wanted!r}: {fname} has no such column. Its columns are: {shown}.")


def _bad_cells_error(column: str, bad: pd.Series, what: str, fix: str) -> DataError:
    cells = ", ".join(f"row {row}: {str(text)[:40]!r}" for row, text in bad.head(5).items())
    more = f" and {len(bad) - 5:,} more" if len(bad) > 5 else ""
    return DataError(f"Column {column!r} should hold {what} but {len(bad):,} cell(s) do not: "
                     f"{cells}{more}. {fix}")


def to_long(table: pd.DataFrame, fname: str, *, date_column, value_column, id_column, dayfirst,
            guesses, report) -> tuple[pd.DataFrame, dict]:
    """Find the date, id and value columns and stack the series into unique_id, ds, y."""
    if table.shape[1] == 0 or len(table) == 0:
        raise DataError(f"{fname} has a header but no rows of data." if table.shape[1] else
                        f"{fname} has no columns.")
    decimal, doubt = sniff_decimal(table, guesses.get("delimiter"))
    guesses.update(decimal=decimal, columns=list(table.columns))    # the Data page offers each of them
    if decimal == ",":
        report.warnings.append("Numbers use a decimal comma (1.234,5 = 1234.5).")
    if doubt:
        report.warnings.append(doubt)
    prefer_dayfirst = decimal == "," or guesses.get("delimiter") == ";"
    date_col, id_col, value_cols = _chosen_columns(table, fname, date_column, id_column, value_column)
    given_key = id_col if isinstance(id_col, tuple) else None
    if given_key:
        id_col = " + ".join(map(str, given_key))
        table = table.drop(columns=list(given_key)).assign(**{id_col: joined_ids(table, given_key)})
    across = period_columns(table, [id_col])
    if across is not None and date_col in (None, across[0]) and \
            (value_cols is None or set(value_cols) == {c for c, _ in across[2]}):
        found = _period_table(table, fname, across, id_col, decimal, guesses, report)
        if found is not None:
            return found

    numbers = all_numbers(table, (date_col, id_col), decimal)
    kinds = {c: "empty" if n.filled == 0 else "number" if n.share >= NUMBER_SHARE and not n.codes else "text"
             for c, n in numbers.items()}
    steps = step_columns(value_cols or [c for c in table.columns if kinds.get(c) == "number"]) \
        if date_col is None else None
    starts = row_starts(table, [id_col, *steps]) if steps else None
    for c in starts[0] if starts else []:            # Starting Year, Starting Month: not dates, not series
        kinds[c] = "start"
    date_col, dates, parts = _date_column(table, date_col, id_col, value_cols, kinds, numbers, dayfirst,
                                          prefer_dayfirst, decimal, report)
    guesses.update(date_column=date_col, dayfirst=dates.dayfirst if dates else None)
    id_col, value_cols = _id_and_values(table, fname, dates, date_col, id_col, value_cols, kinds, numbers,
                                        decimal, report)
    key = id_col
    if isinstance(id_col, tuple):                       # store + item: one series per pair
        id_col = " + ".join(map(str, key))
        table = table.assign(**{id_col: joined_ids(table, key)})
    ids = None
    if id_col is not None:
        ids = as_text(table[id_col])
        if pd.api.types.is_float_dtype(table[id_col].dtype) and (table[id_col].dropna() % 1 == 0).all():
            ids = table[id_col].map(lambda v: np.nan if pd.isna(v) else str(int(v))).astype("str")
    values = {c: numbers[c].values for c in value_cols}
    header_dates, described = False, None
    if dates is not None:
        long, layout = _stack_dated(table, dates, ids, id_col, values, report)
    elif ids is not None and ids.is_unique and ids.notna().all():
        layout = "rows"
        if steps and value_column is None and len(steps) < len(values):     # N, NF beside 1, 2, 3, …
            report.skipped += [(f"column {c!r}", f"not a time step (the values run through the columns "
                                f"numbered {steps[0]!r} … {steps[-1]!r})") for c in values if c not in steps]
            value_cols, values = steps, {c: values[c] for c in steps}
        long, header_dates = _stack_rows(ids, values, dayfirst, prefer_dayfirst, starts, report)
    elif ids is not None:                              # an id that repeats, no dates: positions per id
        keep = ids.notna()
        pos = ids[keep].groupby(ids[keep], sort=False).cumcount().to_numpy()
        layout = "long"
        long = _stack(ids[keep], pos, {c: v[keep.to_numpy()] for c, v in values.items()})
    else:
        layout = "single" if len(value_cols) == 1 else "wide"
        described = column_starts(values, fname) if layout == "wide" and value_column is None else None
        if described is not None:                      # the tourism competition's monthly_in.csv
            series, months, head = described
            long = pd.concat([pd.DataFrame({"unique_id": c, "y": v, "ds": (first + months * np.arange(len(v)))
                                            .astype("datetime64[ns]")}) for c, (first, v) in series.items()],
                             ignore_index=True)[["unique_id", "ds", "y"]]
            words = "length, start year" + ("" if head == 2 else " and start " + ("month" if months == 1 else
                                                                                   "quarter"))
            report.warnings.append(f"Read the first {head} rows of each column as its {words}; its values "
                                   "follow.")
        else:
            long = _stack(None, np.arange(len(table)), values)
    key = given_key or key
    guesses.update(layout=layout, id_column=list(key) if isinstance(key, tuple) else id_col,
                   value_columns=list(value_cols))
    started = layout == "rows" and starts is not None
    report.skipped += [(f"column {c!r}", "a start date, read only when each row is one series")
                       for c in (starts[0] if starts and not started else [])]
    info = {"has_dates": dates is not None or header_dates or started or described is not None,
            "date_column": date_col, "id_column": id_col, "value_columns": value_cols,
            "header_dates": header_dates, "layout": layout, "date_parts": starts[0] if started else parts,
            "starts": started}
    return long, info


def _period_table(table, fname, across, id_col, decimal, guesses, report):
    """A year × month (or quarter) table → its long rows and info; None when its period columns
    do not hold numbers or its years repeat with nothing to tell the rows apart."""
    year_col, years_found, cols, kind, footer = across
    names = [c for c, _ in cols]
    numbers = {c: read_numbers(table[c], decimal) for c in names}
    if any(n.filled and n.share < NUMBER_SHARE for n in numbers.values()):
        return None
    years = table[year_col]
    if id_col is None and years.dropna().duplicated().any():
        frame = table.drop(columns=[year_col, *names])
        id_col = next((c for c in frame.columns if not as_text(frame[c]).isna().all()
                       and not pd.DataFrame({"i": as_text(frame[c]), "y": years}).dropna().duplicated().any()), None)
        if id_col is None:
            return None
    _check_values(numbers, names, report)
    report.skipped += [(f"column {c!r}", f"not a {kind} (the series runs through the {kind} columns)")
                       for c in table.columns if c not in (year_col, id_col, *names)]
    report.skipped += [(f"row {r}", f"{str(t)[:40]!r} is not a year (a summary row, left out)")
                       for r, t in footer.items()]
    ids = as_text(table[id_col]) if id_col is not None else None
    long = stack_periods(years_found, cols, numbers, ids, file_title(fname))
    layout = "long" if ids is not None else "single"
    guesses.update(date_column=year_col, dayfirst=None, layout=layout, id_column=id_col, value_columns=names)
    info = {"has_dates": True, "date_column": year_col, "id_column": id_col, "value_columns": names,
            "header_dates": False, "layout": layout, "date_parts": [], "across": kind}
    return long, info


def _chosen_columns(table, fname, date_column, id_column, value_column):
    """The caller's columns, checked against the table (case and spaces forgiven)."""
    date_col = _pick(table, date_column, "date_column", fname) if date_column is not None else None
    if isinstance(id_column, (list, tuple)):          # ["store", "item"]: one series per pair
        id_col = tuple(_pick(table, c, "id_column", fname) for c in id_column)
        id_col = id_col[0] if len(id_col) == 1 else id_col or None
    else:
        id_col = _pick(table, id_column, "id_column", fname) if id_column is not None else None
    if isinstance(value_column, str):
        value_column = [value_column]
    value_cols = [_pick(table, v, "value_column", fname) for v in value_column] if value_column else None
    chosen = [c for c in [date_col, *(id_col if isinstance(id_col, tuple) else [id_col])] + (value_cols or [])
              if c is not None]
    if len(chosen) != len(set(chosen)):
        raise DataError(f"The same column is given twice among date_column, id_column and value_column "
                        f"({', '.join(map(repr, chosen))}); give each role its own column.")
    return date_col, id_col, value_cols


def _date_column(table, date_col, id_col, value_cols, kinds, numbers, dayfirst, prefer_dayfirst,
                 decimal, report) -> tuple[str | None, Dates | None, list[str]]:
    """The date column: the caller's, else the first text column that reads as dates, else a year
    column with the rest of the date beside it (Year + Month, …), else a leading column of integer
    years or YYYYMMDD numbers; with the other columns the dates were read from (a year's month, a
    day's hour or time). Marks other date columns in `kinds`."""
    dates, note, parts = None, "", []
    skip = [id_col, *(value_cols or []), *(c for c, kind in kinds.items() if kind == "start")]
    if date_col is not None:
        dates = read_dates(table[date_col], dayfirst, prefer_dayfirst, quick=False)
        if dates is None:
            years = year_dates(read_numbers(table[date_col], decimal).values, table.index, date_col,
                               chosen=True)
            if years is None:
                cells = as_text(table[date_col]).dropna()
                if cells.empty:
                    raise DataError(f"date_column={date_col!r} is empty. Pick the column with the dates.")
                raise DataError(f"date_column={date_col!r} holds numbers, not dates (for example "
                                f"{cells.iloc[0]!r}). Pick the column with the dates.")
            dates = Dates(years, int(years.notna().sum()), years[:0], None)
        found = calendar_parts(table, skip)                 # the chosen Year, with its Month beside it
        if found is not None and found[1][0] == date_col and found[0].share >= DATE_SHARE:
            dates, parts, note = found
        if dates.share < DATE_SHARE:
            raise _bad_cells_error(date_col, dates.bad, "dates",
                                   f"Write dates like {DATE_FORMS}, or pick another column with "
                                   "date_column=….")
    else:
        for c in [c for c in table.columns if kinds.get(c) == "text" and c != id_col and not is_clock(table[c])]:
            d = read_dates(table[c], dayfirst, prefer_dayfirst)
            if d is not None and d.filled and d.share >= DATE_SHARE:
                if date_col is None:
                    date_col, dates = c, d
                if d.values.nunique() > 1:      # not one date throughout (FRED's realtime_start)
                    date_col, dates = c, d
                    break
        found = calendar_parts(table, skip) if date_col is None else None
        if found is not None and found[0].share >= DATE_SHARE:
            dates, parts, note = found
            date_col = parts[0]
        nums = [c for c in table.columns if kinds.get(c) == "number" and c not in (value_cols or [])]
        for c in nums if date_col is None else []:       # 1965.1 (a year's quarter), 1609459200 (Unix)
            found = number_dates(c, numbers[c].values, as_text(table[c]))
            if found is not None and (found[0].dropna().is_unique or id_col):
                date_col, dates, note = c, Dates(found[0], numbers[c].filled, found[0][:0], None), found[1]
                break
        if date_col is None and nums and (len(nums) > 1 or value_cols):
            c = next((c for c in nums if says_year(c)), nums[0])
            years = year_dates(numbers[c].values, table.index, c)
            ids = [t for t in table.columns if kinds.get(t) == "text"] if id_col is None else [id_col]
            if years is not None and (years.is_unique or any(   # Entity, Year, …: a year per entity
                    not pd.DataFrame({"i": table[t], "y": years}).dropna().duplicated().any() for t in ids)):
                date_col = c
                dates = Dates(years, numbers[c].filled, years[:0], None)
                note = f"Read the numbers in column {c!r} as " + \
                    ("years." if np.nanmax(numbers[c].values) <= 2200 else "dates (YYYYMMDD).")
    if date_col is None:
        _check_no_unread_dates(table, kinds, id_col, dayfirst, prefer_dayfirst)
        return None, None, []
    if not parts:
        timed = with_time_of_day(table, dates, date_col, skip)
        if timed is not None and timed[0].share >= DATE_SHARE:
            dates, note = timed[0], " ".join(n for n in (note, timed[2]) if n)
            parts = [date_col, timed[1]]
    report.warnings += [n for n in dict.fromkeys((dates.note, note)) if n]
    for c in (date_col, *parts):
        kinds.pop(c, None)
    for c in table.columns:                           # other date columns are not series
        if kinds.get(c) == "text" and c != id_col:
            d = read_dates(table[c], None, prefer_dayfirst)
            if d is not None and d.share >= DATE_SHARE:
                kinds[c] = "date"
    return date_col, dates, parts


def _check_no_unread_dates(table, kinds, id_col, dayfirst, prefer_dayfirst) -> None:
    """No date column was found: refuse a text column that should have been one (its name says
    time and its cells hold numbers apart, like "Qtr 1/65", or most of its cells read as dates)
    rather than lay the file out without dates, naming the column and a cell it could not read."""
    for c in [c for c in table.columns if kinds.get(c) == "text" and c != id_col]:
        cells = as_text(table[c]).dropna()
        d = read_dates(table[c], dayfirst, prefer_dayfirst)
        named = TIME_NAME.search(str(c)) and cells.head(200).str.contains(r"\d+\D+\d").mean() >= 0.5
        if not named and (d is None or d.share < 0.5):
            continue
        row, cell = next(iter(d.bad.items())) if d is not None and len(d.bad) else next(iter(cells.items()))
        raise DataError(f"The column “{c}” looks like dates but “{cell}” (row {row}) is not a form genlib "
                        f"reads: write dates like {DATE_FORMS}.")


def _id_and_values(table, fname, dates, date_col, id_col, value_cols, kinds, numbers, decimal, report):
    """The id column (the caller's, or the one whose values repeat with the dates) and the value
    columns (the caller's, or every column of numbers); reports the columns left out."""
    text_cols = [c for c in table.columns if kinds.get(c) == "text"]
    num_cols = [c for c in table.columns if kinds.get(c) == "number"]
    if id_col is None and dates is not None:
        id_col = find_id(table, dates.values, text_cols, num_cols, numbers, value_cols)
    elif id_col is None:
        ids = [c for c in text_cols if (2 <= table[c].nunique() or len(table) == 1) and table[c].notna().all()]
        id_col = ids[0] if ids else None
    key = list(id_col) if isinstance(id_col, tuple) else [id_col]
    if id_col is not None:
        for c in key:
            kinds.pop(c, None)
        num_cols = [c for c in num_cols if c not in key]
    if value_cols is None:
        value_cols = [c for c in num_cols if not _row_numbers(c, numbers[c].values)]
        report.skipped += [(f"column {c!r}", "row numbers (0, 1, 2, …), not measurements")
                           for c in num_cols if c not in value_cols]
        # with dates each column is a series (without, in one series per row, each is a time step)
        kept = measurements(value_cols, numbers, dates, date_col, table.columns[0], report) \
            if dates is not None else value_cols
        for c in set(value_cols) - set(kept):                  # named with their reason already
            kinds.pop(c, None)
        value_cols = kept
    left = [c for c in table.columns if c in kinds and c not in value_cols and c not in (date_col, *key)
            and kinds[c] != "start"]
    empty = [c for c in left if kinds[c] == "empty"]
    for c in left:
        if len(empty) > 3 and c in empty[1:]:
            continue
        reason = {"empty": "no values", "date": "a second date column", "number": "not chosen"}.get(
            kinds[c], "text, not numbers")
        item = f"{len(empty)} columns ({empty[0]!r} … {empty[-1]!r})" if len(empty) > 3 and c in empty \
            else f"column {c!r}"
        report.skipped.append((item, reason))
    if not value_cols:
        empty = [c for c in table.columns if kinds.get(c) == "empty"]
        if empty and not any(kinds.get(c) == "text" for c in table.columns):
            raise DataError(f"{fname}: every value is missing ({', '.join(map(repr, empty))} hold only empty "
                            "cells or markers such as NA or -), so there is nothing to forecast.")
        raise _no_numbers_error(fname, table, kinds, numbers, date_col, id_col)
    for c in value_cols:
        if c not in numbers:
            numbers[c] = read_numbers(table[c], decimal)
    _check_values(numbers, value_cols, report)
    return id_col, value_cols


def _check_values(numbers: dict, value_cols, report) -> None:
    """Refuse a value column with unreadable cells; say once per kind what was stripped to read
    them (currency signs, quality marks, …), naming the columns."""
    cleaned: dict[str, list] = {}                  # what was removed → (its first example, the columns)
    for c in value_cols:
        n = numbers[c]
        if len(n.bad):
            raise _bad_cells_error(c, n.bad, "numbers",
                                   "Fix those cells (or leave them empty for a missing value) and load "
                                   "the file again, or pick other columns with value_column=….")
        if n.cleaned:
            key = " and ".join(w.split(" (")[0] for w in n.cleaned)
            cleaned.setdefault(key, [" and ".join(n.cleaned), []])[1].append(c)
    for what, cols in cleaned.values():
        named = ", ".join(map(repr, cols[:3])) + (f" and {len(cols) - 3} more" if len(cols) > 3 else "")
        report.repairs.append(f"Removed {what} in column{'s' if len(cols) > 1 else ''} {named}.")


def _stack_dated(table, dates: Dates, ids, id_col, values: dict, report) -> tuple[pd.DataFrame, str]:
    """Long rows from a table with a date column; rows without a readable date or id are reported."""
    ds = dates.values
    bad = dates.bad
    if len(bad):
        report.skipped += [(f"row {r}", f"{str(t)[:40]!r} is not a date") for r, t in bad.head(50).items()]
        if len(bad) > 50:
            report.skipped.append((f"{len(bad) - 50:,} more rows", "dates that could not be read"))
    has_value = np.column_stack([~np.isnan(v) for v in values.values()]).any(axis=1)
    no_date = ds.isna().to_numpy() & has_value & ~ds.index.isin(bad.index)
    if no_date.any():
        rows = ", ".join(str(r) for r in ds.index[no_date][:5])
        report.skipped.append((f"{int(no_date.sum()):,} row(s) ({rows})", "no date"))
    keep = ds.notna()
    if ids is not None:
        no_id = keep & ids.isna()
        if no_id.any():
            rows = ", ".join(str(r) for r in no_id[no_id].index[:5])
            report.skipped.append((f"{int(no_id.sum()):,} row(s) ({rows})", f"no {id_col!r}"))
        keep &= ids.notna()
    layout = "long" if ids is not None else ("single" if len(values) == 1 else "wide")
    k = keep.to_numpy()
    return _stack(ids[keep] if ids is not None else None, ds[keep].to_numpy(),
                  {c: v[k] for c, v in values.items()}), layout


def _row_numbers(name: str, values: np.ndarray) -> bool:
    """A leading index column (what DataFrame.to_csv writes): 0..n-1 or 1..n and no real name."""
    v = np.asarray(values)
    if len(v) < 3 or np.isnan(v).any():
        return False
    unnamed = re.fullmatch(r"column 1|unnamed.*|index|#|row|no\.?", name.strip().lower()) is not None
    return unnamed and (np.array_equal(v, np.arange(len(v))) or np.array_equal(v, np.arange(1, len(v) + 1)))


def _stack(ids: pd.Series | None, ds: np.ndarray, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long rows from aligned arrays: one series per id (× value column) or per value column."""
    parts = []
    for c, y in values.items():
        if ids is None:
            uid = np.full(len(y), c, dtype=object)
        elif len(values) == 1:
            uid = ids.to_numpy(dtype=object)
        else:
            uid = (ids.astype(str) + "/" + c).to_numpy(dtype=object)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def _stack_rows(ids: pd.Series, values: dict[str, pd.Series], dayfirst, prefer_dayfirst, starts, report):
    """One series per row: the time is the position across the columns, the column names when
    those are dates, or each row's own start (`row_starts`) counted on by a month, quarter or
    year a column."""
    names = list(values)
    block = np.column_stack(list(values.values()))                                   # series × time
    n, t = block.shape
    header_dates = False
    if starts is not None:
        cols, first, months, bad = starts
        ds = (first[:, None] + months * np.arange(t)[None, :]).astype("datetime64[ns]").ravel()
        lost = np.isnat(first) & ~np.isnan(block).all(axis=1)
        where = " and ".join(map(repr, cols))
        report.skipped += [(f"series {uid!r}", f"its start ({bad.get(row, 'empty')} in {where}) is not a date")
                           for row, uid in ids[lost].head(50).items()]
        if lost.sum() > 50:
            report.skipped.append((f"{int(lost.sum()) - 50} more series", "a start that is not a date"))
    else:
        header = read_dates(pd.Series(names, dtype="str"), dayfirst, prefer_dayfirst)
        if header is None:                                   # 1960, 1961, …: years (World Bank files)
            years = year_dates(pd.to_numeric(pd.Series(names), errors="coerce").to_numpy(dtype="float64"),
                               range(len(names)), "year")
            if years is not None and years.notna().all():
                header = Dates(years, len(names), years[:0], None)
        header_dates = header is not None and header.share >= DATE_SHARE and len(names) >= 3
        ds = np.tile(header.values.to_numpy() if header_dates else np.arange(len(names)), n)
        if not header_dates and len(names) >= 3 and all(str(c).strip().lower().rstrip(".") in MONTH_NUMBER
                                                        for c in names):
            report.warnings.append(f"The months across the top ({names[0]} … {names[-1]}) have no year, so "
                                   "each value's time is its position and the forecasts are numbered; write "
                                   f"the year in the headers ({names[0]} 2024, …) for dated forecasts.")
        if header_dates:                                     # a pivot table's Grand Total, an Average
            report.skipped += [(f"column {c!r}", "not a date among dates in the header (a total or an "
                                "average of the others?)") for c, d in zip(names, header.values) if pd.isna(d)]
    # rows are ragged: a row's series ends at its last value (that is the format, not a repair)
    last = t - 1 - np.argmax(~np.isnan(block[:, ::-1]), axis=1)
    keep = (np.arange(t)[None, :] <= last[:, None]).ravel()
    frame = pd.DataFrame({"unique_id": np.repeat(ids.to_numpy(dtype=object), t)[keep],
                          "ds": ds[keep], "y": block.ravel()[keep]})
    if header_dates or starts is not None:
        frame = frame[frame["ds"].notna()]
    return frame, header_dates


def _no_numbers_error(fname, table, kinds, numbers, date_col, id_col) -> DataError:
    described = []
    for c in table.columns[:12]:
        if c == date_col:
            described.append(f"{c!r} (dates)")
        elif c == id_col or (isinstance(id_col, tuple) and c in id_col):
            described.append(f"{c!r} (ids)")
        elif kinds.get(c) == "text" and len(numbers[c].bad):
            row, text = next(iter(numbers[c].bad.items()))
            share = f"only {numbers[c].share:.0%} numbers; " if numbers[c].share > 0 else ""
            described.append(f"{c!r} (text: {share}row {row}: {str(text)[:30]!r})")
        else:
            described.append(f"{c!r} ({kinds.get(c, 'text')})")
    more = f" … ({table.shape[1]} columns in all)" if table.shape[1] > 12 else ""
    return DataError(f"{fname} has no column of numbers to forecast. Columns: {', '.join(described)}{more}. "
                     "A series needs one column of numbers (and ideally one of dates); fix the text "
                     "in the column you want, or name it with value_column=….")
