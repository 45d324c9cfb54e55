"""Cells → numbers and dates: one column at a time, saying which cells could not be read.

Numbers may carry thousands separators, currency and percent signs, accounting brackets, a
decimal comma or K, M and B for thousands, millions and billions; dates may be day-first or
month-first (settled by evidence, and said so), carry UTC offsets, or be period labels (Q1 1965,
2020-W05, Jan-80: `labels`), integer years and YYYYMMDD numbers.
"""
from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from genlib.freq import alias_from_steps, offset

from .labels import FIRST_YEAR, LAST_YEAR, MONTH_WORDS, label_dates

DATE_SHARE = 0.9              # share of filled cells that must read as dates to make a date column
NUMBER_SHARE = 0.8            # share of filled cells that must read as numbers to make a number column
MISSING = frozenset({"", "na", "n/a", "#n/a", "nan", "nat", "null", "none", "-", "--", "—", "–",
                     ".", "..", "...", "…", ":", "n.a.", "n.a", "n.v.", "#value!", "#div/0!", "#ref!", "#num!",
                     "#name?", "#null!", "n/e", "n.e.", "n/d", "n.d.", "s/d", "k.a.", "k. a."})
# . (FRED), .. (World Bank, OECD), : (Eurostat), #DIV/0! (Excel), n/e (ENTSO-E: not expected),
# n.d. and s/d (no data), k. A. (keine Angabe)
# a number with a data-quality mark after it: 125.4p, 12 e (Eurostat), 7.1 (r), 104.8*; the letters
# are the statistics offices' lowercase flags (provisional, estimated, revised, break, …)
_FLAGGED = re.compile(r"^(.*\d)\s*(?:\(\s*[a-zA-Z]{1,3}\s*\)|[*†‡]+|[bcdefnprsuz]{1,3})$")
_CURRENCY = "$€£¥₹"
_SEPARATORS = " \u00a0\u202f'"                # spaces and the Swiss apostrophe group digits too
_MONTHS = rf"({MONTH_WORDS})[a-z]*\.?"
_DATE_LIKE = re.compile(rf"^\d{{1,4}}[-/.]\d{{1,2}}"                                # 2024-01, 31/12
                        r"|^\d{4}[\s-]*(?i:q[1-4]|w\d{1,2}|m\d{1,2})$"             # 2024Q1, 2020-W05
                        r"|^(?i:q[1-4]|(?:w|wk|week)\s*\d{1,2})[\s/,-]*\d{4}$"       # Q1 1965, Week 5 2020
                        r"|^(?i:q[1-4])[\s/,'-]*(?i:fy)?\s*\d{2}$"                  # Q1-24, Q1 FY20
                        r"|^(?i:fy)\s*\d{2,4}"                                       # FY2020, FY 1990-91
                        rf"|(?i:{_MONTHS}[\s,.-]*\d|\d[\s,.-]*{_MONTHS})")        # Jan 2024, 3 March
_NUMBER_LIKE = re.compile(rf"^[(]?[-+−]?[{_CURRENCY}]?\s*[-+]?\d[\d.,{_SEPARATORS}]*\s*%?\s*"
                          rf"[{_CURRENCY}]?[)]?$")                                 # -1.234,5  $12  (7)  45%
# a day's name before a date in figures, in any language: Mon 06/01/2020, Mo. 06.01.2020, jeu 2020-01-09
_WEEKDAY = re.compile(r"^[^\W\d_]{2,10}\.?,?\s+(?=\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b)")
_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\b")   # day and month first, year last
# a date in Chinese, Japanese or Korean: 2024年1月5日, 2024年1月 (a month), 2024년 1월 5일
_CJK = re.compile(r"^\s*(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(?:(\d{1,2})\s*[日일]\s*)?")


def _cjk_date(m: re.Match) -> str:
    year, month, day = m.group(1), int(m.group(2)), m.group(3)
    return f"{year}-{month:02d}" + (f"-{int(day):02d} " if day else " ")


# a date range: its first date, then " - ", an en or em dash, or "to" (bis, au, al), then its last
_RANGE = re.compile(r"(?i)^\s*(?P<a>\S.*?\d)\s*(?:\s-\s|[–—]|\s(?:to|bis|au|al|until|through|thru)\s)\s*"
                    r"(?P<b>\S.*\d)\s*$")
_TZ = re.compile(r"\d[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$")


@dataclasses.dataclass
class Numbers:
    """One column read as numbers."""

    values: np.ndarray          # float64 per row, NaN where empty or unreadable
    filled: int                 # cells that are not empty
    bad: pd.Series              # the unreadable cells (row number → text)
    cleaned: list[str]          # what was stripped to read them ("thousands separators", …)
    codes: bool = False         # zero-padded like 007: labels, not amounts

    @property
    def share(self) -> float:
        return 1.0 - len(self.bad) / self.filled if self.filled else 0.0


# a number with K, M or B after it (thousands, millions, billions), as investing.com writes volumes;
# lowercase k too, but not m or b: Eurostat's flags are lowercase letters (12.3 b: a break)
_SCALED = r"^([-+]?\d[\d.,]*)\s?([KMB]|k)$"
_SCALES = {"K": 1e3, "k": 1e3, "M": 1e6, "B": 1e9}


def _scaled_example(cell: str, decimal: str) -> str:
    """81.29K → 81290 (for the sentence that says what was read).

    >>> _scaled_example("81.29K", "."), _scaled_example("1,2M", ","), _scaled_example("1,234K", ".")
    ('81290', '1200000', '1234000')
    """
    number, suffix = re.fullmatch(_SCALED, cell).groups()
    number = number.replace(".", "").replace(",", ".") if decimal == "," else number.replace(",", "")
    try:
        return f"{float(number) * _SCALES[suffix]:.10g}"
    except ValueError:
        return cell


_NO_CELLS = pd.Series([], dtype=object)
_PLAIN_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def as_text(col: pd.Series) -> pd.Series:
    """Cells as stripped strings, NaN where empty or a missing-value marker ("NA", "-", …)."""
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        s = col.str.strip()
    else:
        s = col.map(lambda v: v.strip() if isinstance(v, str) else (np.nan if _isna(v) else str(v)))
        s = s.astype("str")
    missing = s.str.lower().isin(MISSING)
    colon = s.str.startswith(":", na=False)
    if colon.any():                                                  # Eurostat's ": c", ": z"
        missing |= colon & s.str.fullmatch(r":\s*[a-z]{1,3}", na=False)
    return s.mask(missing)


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def all_numbers(table: pd.DataFrame, skip, decimal: str) -> dict[str, Numbers]:
    """Every column (but `skip`) read as numbers. Text tables go through one vectorised pass
    (Arrow): columns of plain numbers are done there, only the others are read one by one."""
    names = [c for c in table.columns if c not in skip]
    out: dict[str, Numbers] = {}
    dtypes = table.dtypes
    text_cols = [c for c in names if pd.api.types.is_object_dtype(dtypes[c])]
    plain = _plain_block(table, text_cols) if decimal == "." else {}
    for c in names:
        out[c] = plain[c] if c in plain else read_numbers(table[c], decimal)
    return out


def _plain_block(table: pd.DataFrame, names: list[str]) -> dict[str, Numbers]:
    """The columns whose every cell is a plain number (1, -2.5, 3e4), read in one pass."""
    if not names:
        return {}
    j = [table.columns.get_loc(c) for c in names]
    if all(pd.api.types.is_object_dtype(t) for t in table.dtypes):
        cells = table.to_numpy(dtype=object)[:, j]
    else:
        cells = table.iloc[:, j].to_numpy(dtype=object)
    present = pd.notna(cells)
    text = cells.T[present.T]                                   # column by column
    try:
        arr = pa.array(text, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return {}                                               # typed cells (Excel): one by one
    ok = pc.match_substring_regex(arr, _PLAIN_NUMBER).to_numpy(zero_copy_only=False)
    per_col = present.sum(axis=0)
    col_of = np.repeat(np.arange(len(names)), per_col)
    good = (np.bincount(col_of, weights=~ok, minlength=len(names)) == 0) & (per_col > 0)
    take = good[col_of]
    values = np.full(cells.T.shape, np.nan)
    floats = pc.cast(arr.filter(pa.array(take)), pa.float64()).to_numpy(zero_copy_only=False)
    mask = present.T & good[:, None]
    values[mask] = floats
    out = {}
    starts = np.r_[0, np.cumsum(per_col)]
    for k in np.flatnonzero(good):
        head = [c for c in text[starts[k]:starts[k] + 50] if len(c) > 1]
        codes = bool(head) and sum(c[0] == "0" and c[1].isdigit() for c in head) > len(head) / 2
        out[names[k]] = Numbers(values[k], int(per_col[k]), _NO_CELLS, [], codes)
    return out


def read_numbers(col: pd.Series, decimal: str) -> Numbers:
    """Read a column as numbers, stripping thousands separators, currency and percent signs
    only when that makes the cells numbers."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return Numbers(np.full(len(col), np.nan), len(col), col.astype(str), [])
    if pd.api.types.is_numeric_dtype(col.dtype):
        v = col.to_numpy(dtype="float64", na_value=np.nan)
        inf = np.isinf(v)
        return Numbers(np.where(inf, np.nan, v), int(col.notna().sum()), col[inf].astype(str), [])
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return Numbers(np.full(len(col), np.nan), int(col.notna().sum()), col.dropna().astype(str), [])
    s = as_text(col)
    present = s.notna()
    cleaned: list[str] = []
    t = s.dropna()
    paren = t.str.fullmatch(r"\(.*\)")
    if paren.any():
        t = t.where(~paren, "-" + t.str.slice(1, -1))
        cleaned.append("accounting negatives ((12) → -12)")
    currency = t.str.contains(f"[{re.escape(_CURRENCY)}]")
    if currency.any():
        t = t.str.replace(f"[{re.escape(_CURRENCY)}]", "", regex=True).str.strip()
        cleaned.append("currency signs")
    percent = t.str.endswith("%")
    if percent.any():
        t = t.str.rstrip("%").str.strip()
        cleaned.append("percent signs (12% → 12)")
    scaled = t.str.extract(_SCALED)               # 81.29K, 1.2M, 3.4B (investing.com's volumes), 12k
    scale = scaled[1].map(_SCALES)
    if scale.notna().any():
        example = t[scale.notna()].iloc[0]
        t = t.where(scale.isna(), scaled[0])
        cleaned.append(f"the K, M and B of thousands, millions and billions ({example} → "
                       f"{_scaled_example(example, decimal)})")
    marked = ~t.str[-1:].str.isdigit() & ~t.str.endswith("%")     # only these can carry a mark
    flags = t[marked].str.extract(_FLAGGED)[0].reindex(t.index)
    if flags.notna().any() and pd.to_numeric(flags.dropna().str.replace(",", "."), errors="coerce").notna().any():
        example = t[flags.notna()].iloc[0]
        t = t.where(flags.isna(), flags)
        cleaned.append(f"data-quality marks ({example} → {flags.dropna().iloc[0]})")
    below = t.str.startswith("<")
    if below.any():                          # <1 (Google Trends), <0.5 (below a detection limit)
        limit = pd.to_numeric(t[below].str[1:].str.strip(), errors="coerce")
        if limit.notna().any():
            example = t[below][limit.notna()].iloc[0]
            t = t.where(~below | limit.isna(), (limit / 2).astype(str))
            cleaned.append(f"the < of values below a limit ({example} read as {float(example[1:].strip()) / 2:g}, half "
                           "the limit)")
    t = t.str.replace("−", "-", regex=False)
    group = "." + _SEPARATORS if decimal == "," else "," + _SEPARATORS
    sep_class = f"[{re.escape(group)}]"
    grouped = t.str.contains(rf"\d{sep_class}\d{{3}}(?!\d)")
    if decimal == ",":
        pattern = rf"[-+]?\d{{1,3}}({sep_class}\d{{3}})+(,\d+)?"
    else:
        pattern = rf"[-+]?\d{{1,3}}({sep_class}\d{{3}})+(\.\d+)?"
    if grouped.any() and t[grouped].str.fullmatch(pattern).all():
        t = t.str.replace(sep_class, "", regex=True)
        cleaned.append("thousands separators (1,234 → 1234)" if decimal == "." else
                       "thousands separators (1.234 → 1234)")
    if decimal == ",":
        t = t.str.replace(",", ".", regex=False)
    v = pd.to_numeric(t, errors="coerce")
    v = v.mask(np.isinf(v)) * scale.fillna(1.0)
    bad = s.dropna()[v.isna().to_numpy()]
    values = np.full(len(col), np.nan)
    values[present.to_numpy()] = v.to_numpy(dtype="float64")
    codes = bool(len(t)) and bool(s.dropna().str.fullmatch(r"0\d+").mean() > 0.5)
    return Numbers(values, int(present.sum()), bad, cleaned, codes)


def sniff_decimal(grid: pd.DataFrame, delimiter: str | None) -> tuple[str, str]:
    """The decimal mark, "," when numbers are written 1.234,5 or 12,5, and a warning when the
    file leaves it open (1.234 alone could be either). CSV only: typed cells have no mark."""
    if delimiter is None:
        return ".", ""
    cells = grid.iloc[:200, :50].stack()
    cells = cells[cells.map(lambda c: isinstance(c, str))].astype("str")
    if cells.empty:
        return ".", ""
    cells = cells.str.replace(f"[{re.escape(_CURRENCY)}%\\s\u00a0\u202f]", "", regex=True)
    grouped_dot = cells.str.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+")             # 1.234: thousands or decimals
    dot = (cells.str.fullmatch(r"[-+]?\d+\.\d+") & ~grouped_dot).sum()         # 12.5: a decimal point
    if delimiter == ",":                                   # a comma inside quotes: "12,5" but not "1,234"
        comma = cells.str.fullmatch(r"[-+]?\d+,(\d{1,2}|\d{4,})").sum()
        return ("," if comma and not dot else "."), ""
    comma = cells.str.fullmatch(r"[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+").sum()
    if comma > dot or (not dot and cells.str.fullmatch(r"[-+]?\d{1,3}(\.\d{3}){2,}").any()):
        return ",", ""
    if grouped_dot.any() and not dot:
        example = cells[grouped_dot].iloc[0]
        return ".", (f"Numbers such as {example!r} could mean {example} or {example.replace('.', '')} "
                     "(a thousands dot); read them with a decimal point. If they are thousands, write "
                     "them without the dot.")
    return ".", ""


@dataclasses.dataclass
class Dates:
    """One column read as dates."""

    values: pd.Series           # datetime64[ns], NaT where empty or unreadable
    filled: int
    bad: pd.Series              # unreadable cells (row → text)
    dayfirst: bool | None       # None when the order of day and month never mattered
    note: str = ""              # how an ambiguous or contradictory order was settled

    @property
    def share(self) -> float:
        return 1.0 - len(self.bad) / self.filled if self.filled else 0.0


def read_dates(col: pd.Series, dayfirst: bool | None, prefer_dayfirst: bool,
               quick: bool = True) -> Dates | None:
    """Read a column as dates; None when it is plainly not dates (numbers, words). Date ranges
    (`2024-01-01 - 2024-01-07`, `Jan 1, 2024 – Jan 7, 2024`, `… to …`: a report's weeks) are
    read by their first day.

    >>> d = read_dates(pd.Series(["2024-01-01 - 2024-01-07", "2024-01-08 - 2024-01-14"]), None, False)
    >>> d.values.dt.strftime("%Y-%m-%d").tolist(), d.note
    (['2024-01-01', '2024-01-08'], "Read date ranges such as '2024-01-01 - 2024-01-07' by their first day.")
    """
    if not (pd.api.types.is_datetime64_any_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype)
            or pd.api.types.is_bool_dtype(col.dtype)):
        text = as_text(col)
        present = text.dropna()
        first = present.head(50).str.extract(_RANGE)["a"]         # a look at the first rows, then all
        if len(present) and first.notna().mean() >= DATE_SHARE:
            first = present.str.extract(_RANGE)["a"]
        if len(present) and first.notna().mean() >= DATE_SHARE:
            dates = _read_dates(first.reindex(text.index).fillna(text), dayfirst, prefer_dayfirst, quick)
            if dates is not None and dates.share >= DATE_SHARE:
                example = present[first.notna()].iloc[0]
                dates.note = " ".join(n for n in (f"Read date ranges such as {example!r} by their first day.",
                                                  dates.note) if n)
                return dates
    return _read_dates(col, dayfirst, prefer_dayfirst, quick)


def _read_dates(col: pd.Series, dayfirst: bool | None, prefer_dayfirst: bool, quick: bool) -> Dates | None:
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        v = col.dt.tz_convert(None) if getattr(col.dt, "tz", None) is not None else col
        return Dates(v.astype("datetime64[ns]"), int(col.notna().sum()), col[:0], None)
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return None
    s = as_text(col)
    present = s.dropna()
    if present.empty:
        return None
    if present.head(50).str.match(_CJK).any():                 # 2024年1月5日, 2024년 1월 5일 → 2024-01-05
        s = s.str.replace(_CJK, _cjk_date, regex=True)
        present = s.dropna()
    if present.head(50).str.contains(_WEEKDAY).any():          # "Mon 06/01/2020": the day's name goes
        s = s.str.replace(_WEEKDAY, "", regex=True)
        present = s.dropna()
    if quick:
        sample = present.head(200)
        datey = sample.map(lambda c: bool(_DATE_LIKE.search(c)) or c[:1].isdigit()).mean()
        numbery = sample.str.fullmatch(r"[-+]?\d+([.,]\d+)?").mean()
        if datey < 0.5 or numbery > 0.5 or _parse_dates(sample, bool(prefer_dayfirst)).notna().mean() < 0.5:
            return None                       # the sample says no: spare the whole column
    note = ""
    order = present.str.extract(_DMY)
    order = order.dropna().astype(int)
    used = dayfirst
    if dayfirst is None and len(order) >= 0.5 * len(present):
        day_evidence = order[0] > 12
        month_evidence = order[1] > 12
        if day_evidence.any() and not month_evidence.any():
            used = True
            row = day_evidence.idxmax()
            note = f"Read dates day-first (31/12 style): row {row} has {s[row]!r}."
        elif month_evidence.any() and not day_evidence.any():
            used = False
            row = month_evidence.idxmax()
            note = f"Read dates month-first (12/31 style): row {row} has {s[row]!r}."
        elif day_evidence.any() and month_evidence.any():
            used = day_evidence.sum() >= month_evidence.sum()
            note = (f"The dates mix day-first and month-first orders; read them "
                    f"{'day' if used else 'month'}-first (pass dayfirst=True or False to choose; "
                    "command line: --dayfirst or --monthfirst).")
        else:
            both = {flag: _parse_dates(s, flag) for flag in (True, False)}
            score = {flag: _regularity(v) for flag, v in both.items()}
            if score[True] != score[False]:
                used = score[True] > score[False]
                why = "gives evenly spaced dates"
            elif (order[0] == 1).all() and (order[1] != 1).any():
                used, why = True, "puts every date on the 1st of a month"
            elif (order[1] == 1).all() and (order[0] != 1).any():
                used, why = False, "puts every date on the 1st of a month"
            else:
                used, why = prefer_dayfirst, ("matches the file's decimal comma or ; separator"
                                              if prefer_dayfirst else "is the usual reading")
            example = s[order.index[0]]
            note = (f"Dates like {example!r} could be read day-first or month-first; read them "
                    f"{'day' if used else 'month'}-first because that {why}. If that is wrong, pass "
                    f"dayfirst={not used} (command line: {'--monthfirst' if used else '--dayfirst'}).")
            values = both[used]
            return _dates_result(s, values, used, note)
    elif len(order) < 0.5 * len(present):
        used = None                              # year first, or month names: order cannot matter
    values = _parse_dates(s, bool(used))
    return _dates_result(s, values, used, note)


def _dates_result(s, values, used, note) -> Dates:
    coarse = values.attrs.get("coarse")
    if coarse is not None:                   # rows of a coarser period: left out, not unreadable
        s = s.mask(coarse)
    if values.attrs.get("note"):
        note = (note + " " if note else "") + values.attrs["note"]
    if values.attrs.get("utc"):
        note = (note + " " if note else "") + "The times carry UTC offsets; converted them to UTC."
    bad = s.dropna()[values[s.notna()].isna().to_numpy()]
    return Dates(values, int(s.notna().sum()), bad, used, note)


def _parse_dates(s: pd.Series, dayfirst: bool) -> pd.Series:
    """Cells → datetime64[ns]: period labels (Q1 1965, 2020-W05, Jan-80) first, the rest by
    to_datetime, whose format is inferred from the first cell (cells that do not follow it are
    tried one by one); years outside 1678..2200 count as unreadable."""
    labels = label_dates(s)
    coarse = labels.attrs.get("coarse") if labels is not None else None
    handled = None if labels is None else labels.notna() | (False if coarse is None else coarse)
    if labels is not None and handled.sum() == s.notna().sum():
        labels.attrs["utc"] = False
        return labels
    rest = s if labels is None else s.mask(handled)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        utc = bool(rest.dropna().head(50).str.contains(_TZ).any())
        try:
            v = pd.to_datetime(rest, errors="coerce", dayfirst=dayfirst, utc=utc)
        except ValueError:
            v = pd.to_datetime(rest, errors="coerce", dayfirst=dayfirst, utc=True)
        if v.notna().sum() < DATE_SHARE * rest.notna().sum():   # mixed formats: cell by cell
            try:
                v = pd.to_datetime(rest, errors="coerce", dayfirst=dayfirst, utc=utc, format="mixed")
            except (ValueError, TypeError):
                pass
    converted = getattr(v.dt, "tz", None) is not None
    if converted:
        v = v.dt.tz_convert(None)
    year = v.dt.year
    v = v.mask((year < FIRST_YEAR) | (year > LAST_YEAR)).astype("datetime64[ns]")
    if labels is not None:
        v = labels.fillna(v)
        v.attrs.update({k: labels.attrs[k] for k in ("coarse", "note") if k in labels.attrs})
    v.attrs["utc"] = converted
    return v


def _regularity(v: pd.Series) -> float:
    """1.0 when the dates sit on a regular calendar grid without gaps, less the more they miss."""
    u = pd.DatetimeIndex(v.dropna().unique()).sort_values()
    if len(u) < 3:
        return 0.0
    alias = alias_from_steps([u.asi8])
    if alias is None:
        return 0.0
    try:
        grid = pd.date_range(u[0], u[-1], freq=offset(alias))
    except (ValueError, OverflowError):
        return 0.0
    on = u.isin(grid).mean()
    return float(on * len(u) / max(len(grid), len(u)))


def is_word(cell) -> bool:
    """A cell that is text rather than a number or a date."""
    if not isinstance(cell, str):
        return False
    s = cell.strip()
    return not (_NUMBER_LIKE.match(s) or is_date_like(s) or s.lower() in MISSING)


def is_date_like(cell) -> bool:
    if not isinstance(cell, str):
        return isinstance(cell, (pd.Timestamp, np.datetime64)) or hasattr(cell, "isoformat")
    s = cell.strip()
    if _DATE_LIKE.search(s):
        return True
    return bool(re.fullmatch(r"\d{4}", s)) and FIRST_YEAR <= int(s) <= LAST_YEAR
