"""Which columns name the series and which hold what to forecast: the id column (or the pair
of columns, such as store and item, that tells a day's rows apart) and, among the columns of
numbers, the measurements (not a part of the date repeated, nor the season of the year; beside
measurements, no constant, row counter, 0/1 flag or column of category codes).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .cells import as_text
from .parts import PART_WORD, date_part, date_parts

SEASON_WORD = re.compile(r"(?i)season|saison|jahreszeit|estaci[oó]n|stagione")
# names of columns that hold category codes rather than amounts (bike sharing's weathersit)
# (the weather alone, as in Kaggle's bike file: a `weather_temp` column is a measurement)
CODE_WORD = re.compile(r"(?i)code|type|categor|class|status|kind|situation|condition|weathersit|"
                       r"^\s*(?:weather|wetter|m[eé]t[eé]o|clima|tiempo)\s*$|tipo|typ\b|klasse")
MAX_CODES = 10         # a column of codes holds at most this many different whole numbers


def find_id(table, ds: pd.Series, text_cols, num_cols, numbers, value_cols) -> str | tuple | None:
    """The column whose values repeat with the dates (grouping by it removes the duplicate dates),
    or the pair of columns that does (store and item); None when the dates do not repeat.

    A key that leaves (almost) no date twice wins — a day written twice in one series is a slip
    in the data, which tidying averages and says, not a second series — and one that names every
    row before one that leaves some rows without a name (Our World in Data's `continent`, empty
    for the World), then the fewest series (a column of sales can be unique within each day by
    chance, but it makes thousands of "series"), then text before numbers, then the longer names
    (`location` before `iso_code`). A column of numbers is a key only where another column of numbers
    is left to forecast. Without such a key, the single column that leaves the fewest duplicates."""
    dup_dates = int(ds.dropna().duplicated().sum())
    if dup_dates == 0:
        return None
    whole = [c for c in num_cols if c not in (value_cols or []) and (np.nan_to_num(numbers[c].values) % 1 == 0).all()]
    measured = [c for c in num_cols if c not in whole] + [c for c in (value_cols or []) if c in num_cols]
    candidates = [(c, table[c]) for c in text_cols]
    if measured or len(whole) > 1:
        candidates += [(c, pd.Series(numbers[c].values, index=table.index)) for c in whole]
    codes, count = {}, {}
    for c, values in candidates:
        k = values.nunique()
        if 2 <= k <= len(table) / 2:
            codes[c], count[c] = pd.factorize(values)[0], k
    day = pd.factorize(ds)[0]
    known = (day >= 0)
    slips = max(1, int(0.01 * known.sum()))              # duplicates a key may leave: slips in the data

    def left(cols) -> tuple[int, int]:              # duplicate (key, date) rows, distinct keys
        ok = known.copy()
        for c in cols:
            ok &= codes[c] >= 0
        frame = pd.DataFrame({"d": day[ok], **{c: codes[c][ok] for c in cols}})
        return int(frame.duplicated().sum()), int(frame.drop(columns="d").drop_duplicates().shape[0])

    numeric = set(num_cols)
    gaps = {c: bool((known & (codes[c] < 0)).any()) for c in codes}        # rows it leaves unnamed
    # the same count of names: the longer names (a country's name before its code)
    length = {c: -float(as_text(table[c]).str.len().mean()) if c in text_cols else 0.0 for c in codes}
    singles = {c: left([c]) for c in codes}
    keys = [((gaps[c], k, c in numeric, 1, length[c]), c) for c, (dups, k) in singles.items() if dups <= slips]
    fewest = min([key[1] for key, _ in keys if not key[0]], default=None)
    small = sorted((c for c in codes if fewest is None or count[c] < fewest), key=count.get)[:8]
    for i, a in enumerate(small):                     # two columns together: store and item
        for b in small[i + 1:]:
            dups, k = left([a, b])
            uses = {a, b} & numeric
            if dups <= slips and (measured or len(set(whole) - uses) > 0):
                keys.append(((gaps[a] or gaps[b], k, len(uses), 2, length[a] + length[b]), (a, b)))
    if keys:
        return min(keys, key=lambda e: e[0])[1]
    best, best_key = None, None
    for c, (dups, k) in singles.items():
        if dups >= dup_dates:
            continue
        key = (dups, c in numeric, k)       # fewest duplicates, text before numbers, fewest ids
        if best_key is None or key < best_key:
            best, best_key = c, key
    return best


def joined_ids(table: pd.DataFrame, cols) -> pd.Series:
    """Two (or more) key columns → one name per series: "CA_1 / HOBBIES", "store 1 / item 3"
    (numbers are named by their column); missing where a part is."""
    out = None
    for c in cols:
        text = as_text(table[c])
        num = pd.to_numeric(text, errors="coerce")
        if num.notna().sum() == text.notna().sum():
            text = num.map(lambda v: np.nan if pd.isna(v) else f"{c} {v:g}").astype("str")
        out = text if out is None else out + " / " + text
    return out


def measurements(value_cols: list, numbers: dict, dates, date_col, first, report) -> list:
    """The columns worth forecasting among the columns of numbers: not a part of the date beside
    it (a DayOfWeek column) and, when measurements sit beside them, not the same number in every
    row, not a row counter (1, 2, 3, … in the table's `first` column, where an index is written)
    and not 0/1 flags (Open, Promo, SchoolHoliday in a store file). Each left out is named with
    the reason; asked for by name, each is forecast."""
    kept, parts = [], None
    for c in value_cols:
        part = None
        if len(value_cols) > 1 and PART_WORD.search(str(c)):     # its name must say so (Day, Month, …)
            parts = date_parts(dates.values) if parts is None else parts      # once per file
            part = date_part(numbers[c].values, parts)
        elif len(value_cols) > 1 and SEASON_WORD.search(str(c)) and _of_the_season(numbers[c].values, dates.values):
            part = "season"
        if part is not None:
            report.skipped.append((f"column {c!r}", f"the {part} of the dates in {date_col!r}, not a measurement"))
        else:
            kept.append(c)
    kinds = {c: _kind(numbers[c].values, c == first, str(c)) for c in kept}
    if any(k is None for k in kinds.values()):
        ask = "; choose it as a value column to forecast it"
        reasons = {"counter": "a row counter (1, 2, 3, …), not a measurement" + ask,
                   "flag": "0/1 flags (such as open or on promotion), not a measurement" + ask,
                   "codes": "codes of a category (such as the weather: 1, 2, 3), not a measurement" + ask}
        report.skipped += [(f"column {c!r}", reasons.get(k) or f"the same number ({_shown(numbers[c].values)}) "
                            "in every row: nothing to forecast") for c, k in kinds.items() if k is not None]
        kept = [c for c in kept if kinds[c] is None]
    return kept


def _of_the_season(values: np.ndarray, dates: pd.Series) -> bool:
    """A column of 2 to 4 codes that is the season of each date (UCI bike sharing's `season`,
    1 = winter … 4 = autumn, turning near the 21st of March, June, September and December): the
    same code on the same day of every year (a turning day may move by a day: four may differ),
    changing at most four times a year."""
    v = np.asarray(values, dtype="float64")
    known = ~np.isnan(v) & dates.notna().to_numpy()
    x = v[known]
    codes = np.unique(x)
    if len(x) < 3 or not 2 <= len(codes) <= 4 or (codes % 1 != 0).any():
        return False
    d = pd.DatetimeIndex(dates[known])
    day = d.to_numpy().astype("datetime64[D]").astype("int64")
    order = np.argsort(day, kind="stable")
    per_day = pd.Series(x).groupby(d.month * 100 + d.day).nunique()
    years = max((day.max() - day.min()) / 365.25, 1.0)
    turns = (np.diff(x[order]) != 0).sum()
    # the same code on the same day of each year, give or take a day where a season turns
    return bool((per_day > 1).sum() <= 4 and turns <= 4 * years + 1)


def _kind(values: np.ndarray, first: bool, name: str = "") -> str | None:
    """"constant", "counter" (the first column: 0 or 1, then up by one each row), "flag" (0s and
    1s), "codes" (a column named like a category — weathersit, type, status — holding 2 to
    `MAX_CODES` different whole numbers) or None.

        >>> _kind(np.array([1., 2, 1, 3, 2]), False, "weathersit"), _kind(np.array([1., 2, 1, 3, 2]), False, "orders")
        ('codes', None)
    """
    v = np.asarray(values)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return None
    if v.min() == v.max():
        return "constant"
    if first and len(v) >= 10 and v[0] in (0.0, 1.0) and (np.diff(v) == 1).all():
        return "counter"
    if np.isin(v, (0.0, 1.0)).all():
        return "flag"
    if CODE_WORD.search(name) and (v % 1 == 0).all() and len(np.unique(v)) <= MAX_CODES:
        return "codes"
    return None


def _shown(values: np.ndarray) -> str:
    return f"{float(values[~np.isnan(values)][0]):g}"
