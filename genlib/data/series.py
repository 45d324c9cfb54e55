"""Time series from the files analysts export: CSV, Excel, Parquet → one long table.

`load_series` reads a file whatever its delimiter, encoding, decimal mark or layout, finds the
date column, the value column(s) and the id column by what they hold (never by their names),
infers the frequency, repairs what is safe to repair and says so, and refuses what is not a time
series with a sentence that names the rows or columns at fault.

The result is always the same long table, sorted by `unique_id` then `ds`:

    unique_id  str      one name per series
    ds         datetime64[ns]  (or int64 positions 0, 1, 2, … when the file has no dates)
    y          float64  no gaps, unless fill="none"

Layouts understood (`guesses["layout"]`):

    long    id, date, value              one series per id (any column order, any names)
    wide    date, value A, value B, …    one series per number column
    single  date, value                  one series
    rows    id, v1, v2, v3, …            one series per row (M4 style, ragged); the time is the
                                         position, or the header when the headers are dates

Row numbers in messages are those a spreadsheet shows: the header is row 1, and in a CSV blank
and title lines count too, so "row 17" is line 17 of the file.
"""
from __future__ import annotations

import codecs
import collections
import csv
import dataclasses
import gzip
import io
import os
import re
import unicodedata
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.frequencies import to_offset

from genlib.data.types import HealthReport
from genlib.errors import DataError

__all__ = ["SeriesData", "load_series", "MAX_BYTES", "MIN_POINTS"]

MAX_BYTES = 200 * 1024 ** 2   # largest file read (after unzipping); bigger exports should be cut first
MIN_POINTS = 3                # fewest observed values a series needs; forecasters check their own minimum
DATE_SHARE = 0.9              # share of filled cells that must read as dates to make a date column
NUMBER_SHARE = 0.8            # share of filled cells that must read as numbers to make a number column
MAX_TIMESTAMPS = 50_000_000   # refuse a frequency that would blow the table up past this many rows
FILLS = ("interpolate", "ffill", "zero", "none")
DELIMITERS = (";", "\t", "|", ",")          # on a tie, the earlier one wins (";" before ",": decimal commas)
MISSING = frozenset({"", "na", "n/a", "#n/a", "nan", "nat", "null", "none", "-", "--", "—", "–"})
_CURRENCY = "$€£¥₹"
_SEPARATORS = " \u00a0\u202f'"                # spaces and the Swiss apostrophe group digits too
_MONTHS = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_LIKE = re.compile(rf"^\d{{1,4}}[-/.]\d{{1,2}}|^\d{{4}}-?[qQ][1-4]$"         # 2024-01, 31/12, 2024Q1
                        rf"|(?i:{_MONTHS}[\s,.-]*\d|\d[\s,.-]*{_MONTHS})")        # Jan 2024, 3 March
_NUMBER_LIKE = re.compile(rf"^[(]?[-+−]?[{_CURRENCY}]?\s*[-+]?\d[\d.,{_SEPARATORS}]*\s*%?\s*"
                          rf"[{_CURRENCY}]?[)]?$")                                 # -1.234,5  $12  (7)  45%
_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\b")   # day and month first, year last
_TZ = re.compile(r"\d[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$")


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
                value_column: str | list[str] | None = None, id_column: str | None = None,
                freq: str | None = None, dayfirst: bool | None = None, fill: str | None = "interpolate",
                sheet: str | int | None = None) -> SeriesData:
    """Read time series from a CSV, Excel or Parquet file (a path, its bytes, or an upload).

    Every guess can be overridden: `date_column`, `value_column` (one name or a list),
    `id_column`, `freq` (a pandas alias such as "D" or "MS"; dates off that grid are averaged
    into their period), `dayfirst` (True for 31/12/2020, False for 12/31/2020), `sheet` (Excel).
    `fill` says how missing values inside a series are filled: "interpolate" (linear, default),
    "ffill" (repeat the last value), "zero", or "none" (leave them empty).

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
        freq = _check_freq(freq)
    report = HealthReport(kind="series")
    guesses: dict[str, Any] = {}
    table, fname = _read_table(source, name, sheet, guesses, report)
    long, info = _to_long(table, fname, date_column=date_column, value_column=value_column,
                          id_column=id_column, dayfirst=dayfirst, guesses=guesses, report=report)
    df, freq_used = _tidy(long, has_dates=info["has_dates"], freq=freq, fill=fill, fname=fname,
                          report=report)
    guesses["freq"] = freq_used
    _describe(df, freq_used, freq is not None, info, guesses, report)
    title = name or fname
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq"):
        if title.lower().endswith(suffix):
            title = title[: -len(suffix)]
    return SeriesData(df=df, freq=freq_used, report=report, guesses=guesses, name=title or "series",
                      season_length=_season_length(freq_used))


# ---------------------------------------------------------------------------------------------
# Bytes → a table of cells (column names, row numbers as the index)
# ---------------------------------------------------------------------------------------------

def _read_table(source, name, sheet, guesses, report) -> tuple[pd.DataFrame, str]:
    """The file's table: named columns, cells as text (CSV) or typed (Excel, Parquet); the index
    holds the row numbers a person sees in a spreadsheet (the header is row 1)."""
    if isinstance(source, pd.DataFrame):
        guesses.update(format="dataframe", header=True)
        return _frame_table(source), name or "table"
    data, fname = _read_bytes(source, name)
    return _parse_bytes(data, fname, sheet, guesses, report), fname


def _read_bytes(source, name) -> tuple[bytes, str]:
    if isinstance(source, str) and "\n" in source:
        raise DataError("load_series got text, not a file path: pass the file's contents as bytes "
                        "(text.encode()) with name='….csv'.")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise DataError(f"No file at {path}. Check the path and the file name.")
        if path.is_dir():
            raise DataError(f"{path} is a folder; give the CSV, Excel or Parquet file inside it.")
        _check_size(path.stat().st_size, path.name)
        return path.read_bytes(), name or path.name
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), name or "the upload")
        return data, name or "upload"
    if hasattr(source, "read"):
        fname = name or os.path.basename(str(getattr(source, "name", "") or "")) or "upload"
        try:
            source.seek(0)        # an upload may have been read before
        except Exception:
            pass
        data = source.read(MAX_BYTES + 1)
        if isinstance(data, str):
            raise DataError(f"{fname} was opened as text; open it in binary mode (open(path, 'rb')).")
        _check_size(len(data), fname)
        return bytes(data), fname
    raise DataError(f"Cannot read series from a {type(source).__name__}: give a file path, the "
                    "file's bytes, or a file opened in binary mode.")


def _check_size(size: int, fname: str) -> None:
    if size > MAX_BYTES:
        raise DataError(f"{fname} is {size / 1024 ** 2:,.0f} MB; the limit is {MAX_BYTES / 1024 ** 2:,.0f} MB. "
                        "Keep only the columns and rows you need (or save it as Parquet) and load it again.")


def _parse_bytes(data: bytes, fname: str, sheet, guesses, report) -> pd.DataFrame:
    if not data.strip():
        raise DataError(f"{fname} is empty: there are no columns or rows to read.")
    ext = fname.lower().rsplit(".", 1)[-1] if "." in fname else ""
    if data[:2] == b"\x1f\x8b":                                       # gzip
        try:
            inner = gzip.GzipFile(fileobj=io.BytesIO(data)).read(MAX_BYTES + 1)
        except (OSError, EOFError) as e:
            raise DataError(f"{fname} looks gzip-compressed but could not be unpacked ({e}).") from e
        _check_size(len(inner), fname)
        inner_name = fname[:-3] if fname.lower().endswith(".gz") else fname
        guesses["compression"] = "gzip"
        return _parse_bytes(inner, inner_name, sheet, guesses, report)
    if data[:4] == b"PK\x03\x04":                                     # zip: xlsx, or an archive
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            if any(n.startswith("xl/") for n in names):
                return _read_excel(data, "xlsx", fname, sheet, guesses, report)
            if len(names) != 1:
                raise DataError(f"{fname} is a ZIP archive with {len(names)} files ({', '.join(names[:5])}); "
                                "unzip it and load the one data file.")
            info = zf.getinfo(names[0])
            _check_size(info.file_size, names[0])
            report.warnings.append(f"Read {names[0]} from inside the ZIP archive {fname}.")
            return _parse_bytes(zf.read(names[0]), os.path.basename(names[0]), sheet, guesses, report)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":             # OLE2: Excel 97-2003
        return _read_excel(data, "xls", fname, sheet, guesses, report)
    if data[:4] == b"PAR1":
        return _read_parquet(data, fname, guesses)
    if ext in ("xlsx", "xlsm", "xls", "parquet", "pq"):
        report.warnings.append(f"{fname} is not really a .{ext} file but text; read it as text (CSV).")
    return _read_text(data, fname, guesses, report)


def _read_excel(data, kind, fname, sheet, guesses, report) -> pd.DataFrame:
    engine = "openpyxl" if kind == "xlsx" else "xlrd"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind == "xls":                   # load only the sheets read, not the whole workbook
                import xlrd
                book = pd.ExcelFile(xlrd.open_workbook(file_contents=data, on_demand=True), engine=engine)
            else:
                book = pd.ExcelFile(io.BytesIO(data), engine=engine)
        except Exception as e:
            raise DataError(f"{fname} could not be opened as an Excel workbook ({e}). Open it in "
                            "Excel and save it again as .xlsx or .csv.") from e
        sheets = list(book.sheet_names)
        if sheet is not None:
            if isinstance(sheet, int) and 0 <= sheet < len(sheets):
                sheet = sheets[sheet]
            if sheet not in sheets:
                raise DataError(f"{fname} has no sheet {sheet!r}; its sheets are "
                                f"{', '.join(map(repr, sheets))}.")
            candidates = [sheet]
        else:
            candidates = sheets
        for sheet_name in candidates:
            grid = book.parse(sheet_name, header=None, dtype=object)
            if int(grid.notna().any(axis=1).sum()) >= 2:
                break
        else:
            raise DataError(f"{fname} has no sheet with data (sheets: {', '.join(map(repr, sheets))}).")
    guesses.update(format=kind, sheet=sheet_name)
    if sheet is None and len(sheets) > 1:
        others = [s for s in sheets if s != sheet_name]
        report.warnings.append(f"Read sheet {sheet_name!r}; the workbook also has "
                               f"{', '.join(map(repr, others[:5]))}"
                               f"{' …' if len(others) > 5 else ''} (pass sheet=… for another).")
    grid.index = grid.index + 1           # the sheet's row numbers (row 1 on top)
    return _grid_table(grid, guesses, report, typed=True)


def _read_parquet(data, fname, guesses) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as e:
        raise DataError(f"{fname} could not be read as Parquet ({e}).") from e
    guesses.update(format="parquet", header=True)
    return _frame_table(frame)


def _frame_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A typed table (Parquet, DataFrame): index moved into the columns, rows numbered from 1.

    Only an index that carries information (named, or dates) becomes a column; plain row numbers,
    even repeated ones after a concat, are dropped.
    """
    if any(n is not None for n in frame.index.names) or isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index()
    if frame.shape[1] == 0:
        raise DataError("The table has no columns.")
    frame = frame.copy()
    frame.columns = _unique_names([str(c) if str(c).strip() else "" for c in frame.columns])
    frame.index = np.arange(1, len(frame) + 1)
    return frame


def _read_text(data: bytes, fname, guesses, report) -> pd.DataFrame:
    text, encoding = _decode(data, fname)
    guesses.update(format="csv", encoding=encoding)
    if encoding.startswith("Windows-1252") or encoding.startswith("Latin-1"):
        report.warnings.append(f"{fname} is not UTF-8; read it as {encoding}. Check letters with accents.")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    delimiter = None
    hint = re.fullmatch(r"\s*sep=(.)\s*", lines[0]) if lines else None     # Excel's "sep=;" first line
    if hint:
        delimiter, lines = hint.group(1), lines[1:]
        text = "\n".join(lines)
    filled = [line for line in lines if line.strip()]
    if not filled:
        raise DataError(f"{fname} is empty: there are no columns or rows to read.")
    delimiter = delimiter or _sniff_delimiter([line[:4000] for line in filled[:50]])
    ncols = max(line.count(delimiter) for line in lines) + 1   # an upper bound: extra columns are empty
    try:
        if ncols <= 200:
            grid = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, names=range(ncols),
                               dtype=object, keep_default_na=False, na_values=[""],
                               skip_blank_lines=False, skipinitialspace=True, engine="c")
        else:                    # very wide (one series per row): the C parser is slow per column
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True))
            cells = np.full((len(rows), max(map(len, rows))), None, dtype=object)
            for i, row in enumerate(rows):
                cells[i, :len(row)] = row
            cells[cells == ""] = None
            grid = pd.DataFrame(cells, dtype=object)
    except (pd.errors.ParserError, csv.Error, ValueError) as e:
        raise DataError(f"{fname} could not be read as {_DELIMITER_WORDS[delimiter]} text ({e}). "
                        "Check for a stray quote character.") from e
    guesses["delimiter"] = delimiter
    grid.index = grid.index + (2 if hint else 1)               # the line numbers a person sees
    return _grid_table(grid, guesses, report)


_DELIMITER_WORDS = {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated",
                    "|": "pipe-separated"}


def _decode(data: bytes, fname: str) -> tuple[str, str]:
    """Text and the name of its encoding: BOMs first, then UTF-8, then Windows-1252/Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "UTF-8 (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    head = data[:4096]
    if b"\x00" in head:
        even, odd = head[0::2].count(0) / max(1, len(head[0::2])), head[1::2].count(0) / max(1, len(head[1::2]))
        if odd > 0.3 and even < 0.05:
            return data.decode("utf-16-le", errors="replace"), "UTF-16 LE"
        if even > 0.3 and odd < 0.05:
            return data.decode("utf-16-be", errors="replace"), "UTF-16 BE"
        raise _binary_error(fname)
    try:
        text, encoding = data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "Windows-1252 (Latin-1)"
        except UnicodeDecodeError:
            text, encoding = data.decode("latin-1"), "Latin-1"
    sample = text[:4096]
    control = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if control > max(2, 0.01 * len(sample)):
        raise _binary_error(fname)
    return text, encoding


def _binary_error(fname: str) -> DataError:
    return DataError(f"{fname} is not a text file (it holds binary data), so it cannot be read as CSV. "
                     "Export the data as CSV, Excel (.xlsx) or Parquet and load that file.")


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most lines into ≥ 2 fields, then the most consistently."""
    best, best_score = ",", None
    for rank, d in enumerate(DELIMITERS):
        counts = [len(row) for row in csv.reader(lines, delimiter=d)]
        multi = sum(c >= 2 for c in counts) / len(counts)
        mode = collections.Counter(counts).most_common(1)[0][0]
        consistent = sum(c == mode for c in counts) / len(counts)
        score = (round(multi, 2), round(consistent, 2), -rank)
        if multi > 0 and (best_score is None or score > best_score):
            best, best_score = d, score
    return best


def _grid_table(grid: pd.DataFrame, guesses, report, typed: bool = False) -> pd.DataFrame:
    """Header row → column names; drop title lines above the table. `grid` has no header;
    `typed` cells (Excel) keep their types: columns of numbers or dates become numeric / datetime."""
    present = pd.notna(grid.to_numpy(dtype=object))
    rows, cols = present.any(axis=1), present.any(axis=0)         # blank lines, trailing delimiters
    grid, present = grid.iloc[rows, cols], present[rows][:, cols]
    if grid.empty:
        raise DataError("The file has no columns or rows with data.")
    filled = present.sum(axis=1)
    titles = []
    while len(filled) > 2 and filled[0] <= 1 and np.median(filled[1:21]) >= 2 and len(titles) < 10:
        titles.append(str(grid.iloc[0].dropna().iloc[0]))
        grid, filled = grid.iloc[1:], filled[1:]
    if titles:
        report.repairs.append(f"Skipped {len(titles)} title line(s) above the table ({titles[0]!r}).")
    header = _has_header(grid)
    guesses["header"] = header
    if header:
        names = ["" if pd.isna(c) else str(c).strip() for c in grid.iloc[0]]
        grid = grid.iloc[1:]
    else:
        names = [""] * grid.shape[1]
    grid = grid.copy()
    grid.columns = _unique_names(names)
    if typed:
        inferred = grid.infer_objects()
        for c in grid.columns:
            dtype = inferred[c].dtype
            if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
                grid[c] = inferred[c].astype("float64")
            elif pd.api.types.is_datetime64_any_dtype(dtype):
                grid[c] = inferred[c].astype("datetime64[ns]")
    return grid


def _unique_names(names: list[str]) -> list[str]:
    out, seen = [], collections.Counter()
    for i, n in enumerate(names):
        n = n or f"column {i + 1}"
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _has_header(grid: pd.DataFrame) -> bool:
    """Is the first row a header? Yes when some column has a word on top of values below it
    (numbers, dates), or a date on top of plain numbers (dates as column names)."""
    if len(grid) < 2:
        return True
    first = grid.iloc[0]
    below = grid.iloc[1:21]
    if not any(_is_word(c) or _is_date_like(c) for c in first if not pd.isna(c)):
        return False                     # a first row of plain numbers is data
    for j in range(grid.shape[1]):
        top, rest = first.iloc[j], below.iloc[:, j].dropna()
        if pd.isna(top) or rest.empty:
            continue
        values = sum(not _is_word(c) for c in rest) / len(rest)
        if _is_word(top) and values >= 0.5:
            return True
        if _is_date_like(top) and not _is_date_like(rest.iloc[0]) and values >= 0.5:
            return True
    # no column tells: a header when the whole first row is distinct words
    return all(_is_word(c) for c in first.dropna()) and first.dropna().is_unique and \
        any(not _is_word(c) for c in below.stack())


def _is_word(cell) -> bool:
    """A cell that is text rather than a number or a date."""
    if not isinstance(cell, str):
        return False
    s = cell.strip()
    return not (_NUMBER_LIKE.match(s) or _is_date_like(s) or s.lower() in MISSING)


def _is_date_like(cell) -> bool:
    if not isinstance(cell, str):
        return isinstance(cell, (pd.Timestamp, np.datetime64)) or hasattr(cell, "isoformat")
    s = cell.strip()
    if _DATE_LIKE.search(s):
        return True
    return bool(re.fullmatch(r"\d{4}", s)) and 1800 <= int(s) <= 2200


# ---------------------------------------------------------------------------------------------
# Cells → numbers and dates
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Numbers:
    """One column read as numbers."""

    values: np.ndarray          # float64 per row, NaN where empty or unreadable
    filled: int                 # cells that are not empty
    bad: pd.Series              # the unreadable cells (row number → text)
    cleaned: list[str]          # what was stripped to read them ("thousands separators", …)
    codes: bool = False         # zero-padded like 007: labels, not amounts

    @property
    def share(self) -> float:
        return 1.0 - len(self.bad) / self.filled if self.filled else 0.0


_NO_CELLS = pd.Series([], dtype=object)
_PLAIN_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def _as_text(col: pd.Series) -> pd.Series:
    """Cells as stripped strings, NaN where empty or a missing-value marker ("NA", "-", …)."""
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        s = col.str.strip()
    else:
        s = col.map(lambda v: v.strip() if isinstance(v, str) else (np.nan if _isna(v) else str(v)))
        s = s.astype("str")
    missing = s.str.lower().isin(MISSING)
    return s.mask(missing)


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _all_numbers(table: pd.DataFrame, skip, decimal: str) -> dict[str, _Numbers]:
    """Every column (but `skip`) read as numbers. Text tables go through one vectorised pass
    (Arrow): columns of plain numbers are done there, only the others are read one by one."""
    names = [c for c in table.columns if c not in skip]
    out: dict[str, _Numbers] = {}
    dtypes = table.dtypes
    text_cols = [c for c in names if pd.api.types.is_object_dtype(dtypes[c])]
    plain = _plain_block(table, text_cols) if decimal == "." else {}
    for c in names:
        out[c] = plain[c] if c in plain else _read_numbers(table[c], decimal)
    return out


def _plain_block(table: pd.DataFrame, names: list[str]) -> dict[str, _Numbers]:
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
        out[names[k]] = _Numbers(values[k], int(per_col[k]), _NO_CELLS, [], codes)
    return out


def _read_numbers(col: pd.Series, decimal: str) -> _Numbers:
    """Read a column as numbers, stripping thousands separators, currency and percent signs
    only when that makes the cells numbers."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return _Numbers(np.full(len(col), np.nan), len(col), col.astype(str), [])
    if pd.api.types.is_numeric_dtype(col.dtype):
        v = col.to_numpy(dtype="float64", na_value=np.nan)
        inf = np.isinf(v)
        return _Numbers(np.where(inf, np.nan, v), int(col.notna().sum()), col[inf].astype(str), [])
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return _Numbers(np.full(len(col), np.nan), int(col.notna().sum()), col.dropna().astype(str), [])
    s = _as_text(col)
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
    v = v.mask(np.isinf(v))
    bad = s.dropna()[v.isna().to_numpy()]
    values = np.full(len(col), np.nan)
    values[present.to_numpy()] = v.to_numpy(dtype="float64")
    codes = bool(len(t)) and bool(s.dropna().str.fullmatch(r"0\d+").mean() > 0.5)
    return _Numbers(values, int(present.sum()), bad, cleaned, codes)


def _sniff_decimal(grid: pd.DataFrame, delimiter: str | None) -> tuple[str, str]:
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
class _Dates:
    """One column read as dates."""

    values: pd.Series           # datetime64[ns], NaT where empty or unreadable
    filled: int
    bad: pd.Series              # unreadable cells (row → text)
    dayfirst: bool | None       # None when the order of day and month never mattered
    note: str = ""              # how an ambiguous or contradictory order was settled

    @property
    def share(self) -> float:
        return 1.0 - len(self.bad) / self.filled if self.filled else 0.0


def _read_dates(col: pd.Series, dayfirst: bool | None, prefer_dayfirst: bool,
                quick: bool = True) -> _Dates | None:
    """Read a column as dates; None when it is plainly not dates (numbers, words)."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        v = col.dt.tz_convert(None) if getattr(col.dt, "tz", None) is not None else col
        return _Dates(v.astype("datetime64[ns]"), int(col.notna().sum()), col[:0], None)
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return None
    s = _as_text(col)
    present = s.dropna()
    if present.empty:
        return None
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


def _dates_result(s, values, used, note) -> _Dates:
    if values.attrs.get("utc"):
        note = (note + " " if note else "") + "The times carry UTC offsets; converted them to UTC."
    bad = s.dropna()[values[s.notna()].isna().to_numpy()]
    return _Dates(values, int(s.notna().sum()), bad, used, note)


def _parse_dates(s: pd.Series, dayfirst: bool) -> pd.Series:
    """to_datetime on text: the format is inferred from the first cell; cells that do not follow
    it are tried one by one; years outside 1800..2200 count as unreadable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        utc = bool(s.dropna().head(50).str.contains(_TZ).any())
        try:
            v = pd.to_datetime(s, errors="coerce", dayfirst=dayfirst, utc=utc)
        except ValueError:
            v = pd.to_datetime(s, errors="coerce", dayfirst=dayfirst, utc=True)
        if v.notna().sum() < DATE_SHARE * s.notna().sum():      # mixed formats: cell by cell
            try:
                v = pd.to_datetime(s, errors="coerce", dayfirst=dayfirst, utc=utc, format="mixed")
            except (ValueError, TypeError):
                pass
    converted = getattr(v.dt, "tz", None) is not None
    if converted:
        v = v.dt.tz_convert(None)
    year = v.dt.year
    v = v.mask((year < 1800) | (year > 2200)).astype("datetime64[ns]")
    v.attrs["utc"] = converted
    return v


def _regularity(v: pd.Series) -> float:
    """1.0 when the dates sit on a regular calendar grid without gaps, less the more they miss."""
    u = pd.DatetimeIndex(v.dropna().unique()).sort_values()
    if len(u) < 3:
        return 0.0
    alias = _alias_from_steps([u.asi8])
    if alias is None:
        return 0.0
    try:
        grid = pd.date_range(u[0], u[-1], freq=alias)
    except (ValueError, OverflowError):
        return 0.0
    on = u.isin(grid).mean()
    return float(on * len(u) / max(len(grid), len(u)))


def _year_dates(values: np.ndarray, index) -> pd.Series | None:
    """Integer years (1800..2200) or YYYYMMDD numbers as dates; None when they are not that."""
    v = values[~np.isnan(values)]
    if len(v) < 3 or not (v == np.round(v)).all():
        return None
    text = pd.Series([None if np.isnan(x) else str(int(x)) for x in values], index=index, dtype=object)
    if ((v >= 1800) & (v <= 2200)).all():
        return pd.to_datetime(text, format="%Y", errors="coerce").astype("datetime64[ns]")
    if ((v >= 18000101) & (v <= 22001231)).all():
        d = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
        if d.notna().sum() == len(v):
            return d.astype("datetime64[ns]")
    return None


# ---------------------------------------------------------------------------------------------
# Table → long (unique_id, ds, y)
# ---------------------------------------------------------------------------------------------

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


def _to_long(table: pd.DataFrame, fname: str, *, date_column, value_column, id_column, dayfirst,
             guesses, report) -> tuple[pd.DataFrame, dict]:
    """Find the date, id and value columns and stack the series into unique_id, ds, y."""
    if table.shape[1] == 0 or len(table) == 0:
        raise DataError(f"{fname} has a header but no rows of data." if table.shape[1] else
                        f"{fname} has no columns.")
    decimal, doubt = _sniff_decimal(table, guesses.get("delimiter"))
    guesses["decimal"] = decimal
    if decimal == ",":
        report.warnings.append("Numbers use a decimal comma (1.234,5 = 1234.5).")
    if doubt:
        report.warnings.append(doubt)
    prefer_dayfirst = decimal == "," or guesses.get("delimiter") == ";"
    date_col, id_col, value_cols = _chosen_columns(table, fname, date_column, id_column, value_column)

    numbers = _all_numbers(table, (date_col, id_col), decimal)
    kinds = {c: "empty" if n.filled == 0 else "number" if n.share >= NUMBER_SHARE and not n.codes else "text"
             for c, n in numbers.items()}
    date_col, dates = _date_column(table, date_col, id_col, value_cols, kinds, numbers, dayfirst,
                                   prefer_dayfirst, decimal, report)
    guesses.update(date_column=date_col, dayfirst=dates.dayfirst if dates else None)
    id_col, value_cols = _id_and_values(table, fname, dates, date_col, id_col, value_cols, kinds, numbers,
                                        decimal, report)
    ids = None
    if id_col is not None:
        ids = _as_text(table[id_col])
        if pd.api.types.is_float_dtype(table[id_col].dtype) and (table[id_col].dropna() % 1 == 0).all():
            ids = table[id_col].map(lambda v: np.nan if pd.isna(v) else str(int(v))).astype("str")
    values = {c: numbers[c].values for c in value_cols}
    header_dates = False
    if dates is not None:
        long, layout = _stack_dated(table, dates, ids, id_col, values, report)
    elif ids is not None and ids.is_unique and ids.notna().all():
        layout = "rows"
        long, header_dates = _stack_rows(ids, values, dayfirst, prefer_dayfirst)
    elif ids is not None:                              # an id that repeats, no dates: positions per id
        keep = ids.notna()
        pos = ids[keep].groupby(ids[keep], sort=False).cumcount().to_numpy()
        layout = "long"
        long = _stack(ids[keep], pos, {c: v[keep.to_numpy()] for c, v in values.items()})
    else:
        layout = "single" if len(value_cols) == 1 else "wide"
        long = _stack(None, np.arange(len(table)), values)
    guesses.update(layout=layout, id_column=id_col, value_columns=list(value_cols))
    info = {"has_dates": dates is not None or header_dates, "date_column": date_col, "id_column": id_col,
            "value_columns": value_cols, "header_dates": header_dates, "layout": layout}
    return long, info


def _chosen_columns(table, fname, date_column, id_column, value_column):
    """The caller's columns, checked against the table (case and spaces forgiven)."""
    date_col = _pick(table, date_column, "date_column", fname) if date_column is not None else None
    id_col = _pick(table, id_column, "id_column", fname) if id_column is not None else None
    if isinstance(value_column, str):
        value_column = [value_column]
    value_cols = [_pick(table, v, "value_column", fname) for v in value_column] if value_column else None
    chosen = [c for c in [date_col, id_col] + (value_cols or []) if c is not None]
    if len(chosen) != len(set(chosen)):
        raise DataError(f"The same column is given twice among date_column, id_column and value_column "
                        f"({', '.join(map(repr, chosen))}); give each role its own column.")
    return date_col, id_col, value_cols


def _date_column(table, date_col, id_col, value_cols, kinds, numbers, dayfirst, prefer_dayfirst,
                 decimal, report) -> tuple[str | None, _Dates | None]:
    """The date column: the caller's, else the first text column that reads as dates, else a
    leading column of integer years or YYYYMMDD numbers. Marks other date columns in `kinds`."""
    dates, note = None, ""
    if date_col is not None:
        dates = _read_dates(table[date_col], dayfirst, prefer_dayfirst, quick=False)
        if dates is None:
            years = _year_dates(_read_numbers(table[date_col], decimal).values, table.index)
            if years is None:
                raise DataError(f"date_column={date_col!r} holds numbers, not dates (for example "
                                f"{table[date_col].dropna().iloc[0]!r}). Pick the column with the dates.")
            dates = _Dates(years, int(years.notna().sum()), years[:0], None)
        if dates.share < DATE_SHARE:
            raise _bad_cells_error(date_col, dates.bad, "dates",
                                   "Fix those cells, or pick another column with date_column=….")
    else:
        for c in [c for c in table.columns if kinds.get(c) == "text" and c != id_col]:
            d = _read_dates(table[c], dayfirst, prefer_dayfirst)
            if d is not None and d.filled and d.share >= DATE_SHARE:
                date_col, dates = c, d
                break
        nums = [c for c in table.columns if kinds.get(c) == "number" and c not in (value_cols or [])]
        if date_col is None and nums and (len(nums) > 1 or value_cols):
            c = nums[0]
            years = _year_dates(numbers[c].values, table.index)
            if years is not None and (years.is_unique or id_col is not None):
                date_col = c
                dates = _Dates(years, numbers[c].filled, years[:0], None)
                note = f"Read the numbers in column {c!r} as " + \
                    ("years." if np.nanmax(numbers[c].values) <= 2200 else "dates (YYYYMMDD).")
    if date_col is None:
        return None, None
    report.warnings += [n for n in (dates.note, note) if n]
    kinds.pop(date_col, None)
    for c in table.columns:                           # other date columns are not series
        if kinds.get(c) == "text" and c != id_col:
            d = _read_dates(table[c], None, prefer_dayfirst)
            if d is not None and d.share >= DATE_SHARE:
                kinds[c] = "date"
    return date_col, dates


def _id_and_values(table, fname, dates, date_col, id_col, value_cols, kinds, numbers, decimal, report):
    """The id column (the caller's, or the one whose values repeat with the dates) and the value
    columns (the caller's, or every column of numbers); reports the columns left out."""
    text_cols = [c for c in table.columns if kinds.get(c) == "text"]
    num_cols = [c for c in table.columns if kinds.get(c) == "number"]
    if id_col is None and dates is not None:
        id_col = _find_id(table, dates.values, text_cols, num_cols, numbers, value_cols)
    elif id_col is None:
        ids = [c for c in text_cols if 2 <= table[c].nunique() and table[c].notna().all()]
        id_col = ids[0] if ids else None
    if id_col is not None:
        kinds.pop(id_col, None)
        num_cols = [c for c in num_cols if c != id_col]
    if value_cols is None:
        value_cols = [c for c in num_cols if not _row_numbers(c, numbers[c].values)]
        report.skipped += [(f"column {c!r}", "row numbers (0, 1, 2, …), not measurements")
                           for c in num_cols if c not in value_cols]
    for c in table.columns:
        if c in kinds and c not in value_cols and c not in (date_col, id_col):
            reason = {"empty": "no values", "date": "a second date column", "number": "not chosen"}.get(
                kinds[c], "text, not numbers")
            report.skipped.append((f"column {c!r}", reason))
    if not value_cols:
        empty = [c for c in table.columns if kinds.get(c) == "empty"]
        if empty and not any(kinds.get(c) == "text" for c in table.columns):
            raise DataError(f"{fname}: every value is missing ({', '.join(map(repr, empty))} hold only empty "
                            "cells or markers such as NA or -), so there is nothing to forecast.")
        raise _no_numbers_error(fname, table, kinds, numbers, date_col, id_col)
    for c in value_cols:
        n = numbers[c] if c in numbers else _read_numbers(table[c], decimal)
        numbers[c] = n
        if len(n.bad):
            raise _bad_cells_error(c, n.bad, "numbers",
                                   "Fix those cells (or leave them empty for a missing value) and load "
                                   "the file again, or pick other columns with value_column=….")
        if n.cleaned:
            report.repairs.append(f"Removed {' and '.join(n.cleaned)} in column {c!r}.")
    return id_col, value_cols


def _stack_dated(table, dates: _Dates, ids, id_col, values: dict, report) -> tuple[pd.DataFrame, str]:
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


def _find_id(table, ds: pd.Series, text_cols, num_cols, numbers, value_cols) -> str | None:
    """The column whose values repeat with the dates: grouping by it removes the duplicate dates."""
    dup_dates = int(ds.dropna().duplicated().sum())
    if dup_dates == 0:
        return None
    best, best_key = None, None
    candidates = [(c, table[c]) for c in text_cols]
    candidates += [(c, pd.Series(numbers[c].values)) for c in num_cols
                   if c not in (value_cols or []) and (np.nan_to_num(numbers[c].values) % 1 == 0).all()]
    for c, values in candidates:
        k = values.nunique()
        if k < 2 or k > len(table) / 2:
            continue
        frame = pd.DataFrame({"id": values.to_numpy(), "ds": ds.to_numpy()}).dropna()
        dups = int(frame.duplicated().sum())
        if dups >= dup_dates:
            continue
        key = (dups, c in num_cols, k)       # fewest duplicates, text before numbers, fewest ids
        if best_key is None or key < best_key:
            best, best_key = c, key
    return best


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


def _stack_rows(ids: pd.Series, values: dict[str, pd.Series], dayfirst, prefer_dayfirst):
    """One series per row: the time is the position across the columns, or the column names
    when those are dates."""
    names = list(values)
    block = np.column_stack(list(values.values()))                                   # series × time
    header = _read_dates(pd.Series(names, dtype="str"), dayfirst, prefer_dayfirst)
    header_dates = header is not None and header.share >= DATE_SHARE and len(names) >= 3
    ds = header.values.to_numpy() if header_dates else np.arange(len(names))
    n, t = block.shape
    # rows are ragged: a row's series ends at its last value (that is the format, not a repair)
    last = t - 1 - np.argmax(~np.isnan(block[:, ::-1]), axis=1)
    keep = (np.arange(t)[None, :] <= last[:, None]).ravel()
    frame = pd.DataFrame({"unique_id": np.repeat(ids.to_numpy(dtype=object), t)[keep],
                          "ds": np.tile(ds, n)[keep], "y": block.ravel()[keep]})
    if header_dates:
        frame = frame[frame["ds"].notna()]
    return frame, header_dates


def _no_numbers_error(fname, table, kinds, numbers, date_col, id_col) -> DataError:
    described = []
    for c in table.columns[:12]:
        if c == date_col:
            described.append(f"{c!r} (dates)")
        elif c == id_col:
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


# ---------------------------------------------------------------------------------------------
# Long → tidy: sorted, one row per timestamp, regular, filled
# ---------------------------------------------------------------------------------------------

def _tidy(df: pd.DataFrame, *, has_dates: bool, freq: str | None, fill: str, fname: str,
          report: HealthReport) -> tuple[pd.DataFrame, str | None]:
    """Sort, average repeated timestamps, trim empty ends, drop short series, put the dates on a
    regular grid and fill the holes. Series are integer codes (of the sorted names) and times are
    int64 (nanoseconds or positions) so that thousands of series stay fast."""
    code, names = pd.factorize(df["unique_id"].to_numpy(dtype=object), sort=True)
    code = code.astype("int64")
    names = np.asarray(names, dtype=object)
    if has_dates:
        t = df["ds"].to_numpy().astype("datetime64[ns]").view("int64")
    else:
        t = df["ds"].to_numpy().astype("int64")
    y = df["y"].to_numpy(dtype="float64")
    if np.isnan(y).all():
        raise DataError(f"{fname}: every value is missing, so there is nothing to forecast.")

    # 1. date order within each series
    by_id = np.argsort(code, kind="stable")
    c1, t1 = code[by_id], t[by_id]
    backwards = int(((c1[1:] == c1[:-1]) & (t1[1:] < t1[:-1])).sum())
    order = np.lexsort((t, code))
    code, t, y = code[order], t[order], y[order]
    if backwards:
        report.repairs.append(f"Sorted the rows by date ({backwards:,} were out of order).")

    # 2. one row per (series, timestamp): average repeats
    code, t, y, merged, groups, example = _average_repeats(code, t, y)
    if merged:
        where = _where(names[example[0]], example[1], has_dates)
        report.repairs.append(f"Averaged {merged:,} rows that shared a timestamp into {groups:,} "
                              f"(e.g. {where}).")

    # 3. drop series without values, and empty values before the first and after the last value
    n_ids = len(names)
    has_value = np.bincount(code, weights=~np.isnan(y), minlength=n_ids) > 0
    if not has_value.all():
        report.skipped += [(f"series {u!r}", "no values") for u in names[~has_value]]
        keep = has_value[code]
        code, t, y = code[keep], t[keep], y[keep]
    starts, ends = _bounds(code)
    valid = ~np.isnan(y)
    seen = np.r_[0, np.cumsum(valid)]                    # seen[i]: values before row i
    group = np.repeat(np.arange(len(starts)), ends - starts)
    keep = (seen[1:] - seen[starts][group] > 0) & (seen[ends][group] - seen[:-1] > 0)
    if not keep.all():
        report.repairs.append(f"Ignored {int((~keep).sum()):,} empty values before the first or after the "
                              "last value of a series.")
        code, t, y = code[keep], t[keep], y[keep]

    # 4. drop series too short to forecast (counted before filling)
    counts = np.bincount(code, weights=~np.isnan(y), minlength=n_ids).astype("int64")
    present = np.unique(code)
    short = present[counts[present] < MIN_POINTS]
    if len(short):
        report.skipped += [(f"series {names[k]!r}",
                            f"only {counts[k]} value(s); at least {MIN_POINTS} are needed") for k in short]
        keep = ~np.isin(code, short)
        code, t, y = code[keep], t[keep], y[keep]
    if len(code) == 0:
        raise DataError(f"{fname}: no series has at least {MIN_POINTS} values (the longest has "
                        f"{counts.max()}). "
                        "A forecast needs more history: add rows, or check that the right columns were "
                        "used (see date_column / value_column).")

    # 5. a regular time grid
    given = freq is not None
    missing = np.zeros(n_ids, dtype="int64")
    if has_dates:
        if freq is None:
            starts, _ = _bounds(code)
            freq = _infer_freq(np.split(t, starts[1:]))
            if freq is None:
                raise DataError(f"{fname}: could not tell how far apart the dates are meant to be. "
                                "Pass freq='D' (or 'h', 'W', 'MS', …).")
        code, t, y, missing = _regularise(code, t, y, names, freq, given, fname, report)
    elif given:
        report.warnings.append(f"freq={freq!r} was ignored: the file has no dates, so the time is the "
                               "position of each value.")
        freq = None

    # 6. fill the holes
    holes = np.isnan(y)
    if holes.any():
        per = np.bincount(code[holes], minlength=n_ids)
        n_holes, n_stamps = int(holes.sum()), int(missing.sum())
        n_cells = n_holes - n_stamps
        what = " and ".join(p for p in [
            f"{n_stamps:,} missing timestamp{'s' * (n_stamps != 1)}" if n_stamps else "",
            f"{n_cells:,} empty cell{'s' * (n_cells != 1)}" if n_cells else ""] if p)
        where = ""
        if len(np.unique(code)) > 1:
            top = np.argsort(-per, kind="stable")[: min(5, int((per > 0).sum()))]
            where = ": " + ", ".join(f"{names[k]} {per[k]:,}" for k in top)
            where += f", … ({int((per > 0).sum()):,} series)" if (per > 0).sum() > 5 else ""
        if fill == "none":
            report.warnings.append(f"{n_holes:,} values are missing ({what}) and were left empty "
                                   f"(fill='none'); most forecasters need complete series{where}.")
        else:
            how = {"interpolate": "by linear interpolation", "ffill": "with the previous value",
                   "zero": "with 0"}[fill]
            filled = pd.Series(y)
            if fill == "interpolate":
                filled = filled.interpolate(method="linear")     # holes lie inside series only
            elif fill == "ffill":
                filled = filled.ffill()
            else:
                filled = filled.fillna(0.0)
            y = filled.to_numpy(dtype="float64")
            plural = "s" * (n_holes != 1)
            report.repairs.append(f"Filled {n_holes:,} missing value{plural} {how} ({what}){where}.")
        lengths = np.bincount(code, minlength=n_ids)
        sparse = np.flatnonzero(per > 0.5 * np.maximum(lengths, 1))
        if len(sparse):
            report.warnings.append(f"{len(sparse):,} series are more than half gaps "
                                   f"(e.g. {names[sparse[0]]!r}); "
                                   f"check the frequency ({freq}).")
    out = pd.DataFrame({"unique_id": names[code], "ds": t.view("datetime64[ns]") if has_dates else t, "y": y})
    out["unique_id"] = out["unique_id"].astype(str)
    return out, freq


def _bounds(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) row of each run of equal codes."""
    starts = np.r_[0, np.flatnonzero(code[1:] != code[:-1]) + 1]
    return starts, np.r_[starts[1:], len(code)]


def _average_repeats(code, t, y):
    """Merge rows with the same (code, t) — sorted input — into their mean. Returns the arrays,
    the rows merged, the timestamps they made, and one example (code, t)."""
    same = (code[1:] == code[:-1]) & (t[1:] == t[:-1])
    if not same.any():
        return code, t, y, 0, 0, None
    first = np.r_[True, ~same]
    group = np.cumsum(first) - 1
    ok = ~np.isnan(y)
    total = np.bincount(group, weights=np.where(ok, y, 0.0))
    n = np.bincount(group, weights=ok.astype("float64"))
    sizes = np.bincount(group)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    k = np.flatnonzero(first)[np.flatnonzero(sizes > 1)[0]]
    return code[first], t[first], mean, int(sizes[sizes > 1].sum()), int((sizes > 1).sum()), (code[k], t[k])


def _where(uid, t, has_dates: bool = True) -> str:
    if has_dates:
        stamp = pd.Timestamp(int(t)).strftime("%Y-%m-%d %H:%M").replace(" 00:00", "")
    else:
        stamp = f"position {int(t)}"
    return f"{uid!r} at {stamp}"


def _check_freq(freq: str) -> str:
    try:
        off = to_offset(freq)
    except (ValueError, TypeError) as e:
        raise DataError(f"freq={freq!r} is not a pandas frequency; use one such as 'h' (hourly), 'D' "
                        "(daily), 'W' (weekly), 'MS' (monthly), 'QS' (quarterly) or 'YS' (yearly).") from e
    return _normalise_alias(off.freqstr)


def _normalise_alias(alias: str) -> str:
    """One spelling per grid: QS-APR is QS, YE-DEC is YE, W is W-SUN, M is ME."""
    alias = {"M": "ME", "Q": "QE", "Y": "YE", "A": "YE", "H": "h", "T": "min", "S": "s"}.get(alias, alias)
    m = re.fullmatch(r"(\d*)(QS|QE|BQS|BQE)-(\w{3})", alias)
    starts = m is not None and m.group(2).endswith("S")
    quarter_months = ("JAN", "APR", "JUL", "OCT") if starts else ("MAR", "JUN", "SEP", "DEC")
    if m and m.group(3) in quarter_months:
        return m.group(1) + m.group(2)
    m = re.fullmatch(r"(\d*)(YS|YE|BYS|BYE)-(\w{3})", alias)
    if m and m.group(3) == ("JAN" if m.group(2).endswith("S") else "DEC"):
        return m.group(1) + m.group(2)
    if re.fullmatch(r"\d*W", alias):
        return alias + "-SUN"
    return alias


def _infer_freq(series: list[np.ndarray]) -> str | None:
    """pd.infer_freq on each series (the 200 longest), the most common answer; else from the
    most common step between dates. `series` holds int64 nanoseconds, sorted."""
    votes: collections.Counter = collections.Counter()
    for arr in sorted(series, key=len, reverse=True)[:200]:
        if len(arr) >= 3:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")      # pandas 4 will return an offset: both handled
                    f = pd.infer_freq(pd.DatetimeIndex(arr.astype("datetime64[ns]")))
            except (ValueError, TypeError):
                f = None
            f = getattr(f, "freqstr", f)
            if f and not (f.startswith("B") and len(arr) < 10):   # 3 weekdays are not business days yet
                votes[_normalise_alias(f)] += 1
    if votes:
        return votes.most_common(1)[0][0]
    return _alias_from_steps(series)


_DAY = 86_400 * 10 ** 9


def _alias_from_steps(series: list[np.ndarray]) -> str | None:
    """A pandas alias from the most common step between consecutive dates (int64 ns arrays)."""
    steps = np.concatenate([np.diff(a) for a in series if len(a) > 1] or [np.array([], dtype="int64")])
    steps = steps[steps > 0]
    if len(steps) == 0:
        return None
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    stamps = pd.DatetimeIndex(np.concatenate(series).astype("datetime64[ns]"))
    if step < _DAY or step % _DAY:
        if step < 28 * _DAY:
            return _normalise_alias(to_offset(pd.Timedelta(step, "ns")).freqstr)
    days = step // _DAY
    if days == 1:
        return "B" if len(stamps) >= 10 and not (stamps.day_of_week >= 5).any() else "D"
    if days == 7:
        weekday = int(pd.Series(stamps.day_of_week).mode()[0])
        return "W-" + ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"][weekday]
    if days < 28:
        return f"{days}D"
    start, end = (stamps.day == 1).all(), stamps.is_month_end.all()
    if days <= 31:
        return "ME" if end and not start else "MS"
    if 89 <= days <= 92:
        month = int(pd.Series(stamps.month).mode()[0])
        anchor = pd.Timestamp(2001, month, 1).strftime("%b").upper()
        if end and not start:
            return _normalise_alias(f"QE-{anchor}")
        first = pd.Timestamp(2001, (month - 1) % 3 + 1, 1).strftime("%b").upper()
        return _normalise_alias(f"QS-{first}")
    if 365 <= days <= 366:
        month = int(pd.Series(stamps.month).mode()[0])
        anchor = pd.Timestamp(2001, month, 1).strftime("%b").upper()
        return _normalise_alias(f"YE-{anchor}" if end and not start else f"YS-{anchor}")
    return f"{days}D"


def _regularise(code, t, y, names, freq: str, given: bool, fname: str, report: HealthReport):
    """Put every series on the `freq` grid. Dates off the grid move into their period (start-
    anchored frequencies round down, end-anchored ones such as ME or W-SUN round up); when
    several land together they are averaged — only if the caller gave freq, otherwise that is an
    error. Missing timestamps become NaN rows. Returns code, t, y and the missing count per code."""
    off = to_offset(freq)
    lo, hi = pd.Timestamp(int(t.min())), pd.Timestamp(int(t.max()))
    ends_period = re.match(r"\d*(W|ME|QE|YE|BME|BQE|BYE|SME)\b", freq) is not None
    # anchor: where the data's own grid starts when every stamp is on it (hourly at :30, daily at
    # 09:00), else the period boundary (the hour, midnight, the 1st of the month) so that binning
    # puts values in calendar periods
    if isinstance(off, pd.offsets.Tick):
        if (hi - lo) / pd.Timedelta(off.nanos, "ns") > MAX_TIMESTAMPS:
            raise DataError(f"{fname}: freq {freq!r} would need more than {MAX_TIMESTAMPS:,} timestamps "
                            f"between {lo} and {hi}; pass a coarser freq.")
        aligned = ((t - t.min()) % off.nanos == 0).all()
        start = lo if aligned or _DAY % off.nanos else lo.floor(off)
    else:
        same_time = (t % _DAY == t.min() % _DAY).all()
        base = lo if same_time else lo.normalize()
        start = base if ends_period else off.rollback(base)
    grid = pd.date_range(start, hi + off, freq=off).as_unit("ns").asi8
    if len(grid) > MAX_TIMESTAMPS:
        raise DataError(f"{fname}: freq {freq!r} would need {len(grid):,} timestamps between {lo} and {hi}; "
                        "pass a coarser freq.")
    pos = np.searchsorted(grid, t, side="left")
    on = grid[np.minimum(pos, len(grid) - 1)] == t
    if not on.all():
        if not ends_period:
            pos = np.where(on, pos, pos - 1)
        k = int(np.flatnonzero(~on)[0])
        n_off = int((~on).sum())
        collide = (code[1:] == code[:-1]) & (pos[1:] == pos[:-1])
        if collide.any() and not given:
            raise DataError(
                f"{fname}: the dates are not evenly spaced. Most steps are {_freq_words(freq)} ({freq!r}), but "
                f"{n_off:,} dates fall between (e.g. {_where(names[code[k]], t[k])}). Pass freq='{freq}' (or "
                "another frequency such as 'h', 'D', 'W', 'MS') to put the values on a regular grid; values "
                "that fall in the same period are then averaged.")
        example = (f"{pd.Timestamp(int(t[k])):%Y-%m-%d %H:%M} → "
                   f"{pd.Timestamp(int(grid[pos[k]])):%Y-%m-%d %H:%M}").replace(" 00:00", "")
        code, pos, y, merged, groups, _ = _average_repeats(code, pos, y)
        report.repairs.append(
            f"Moved {n_off:,} dates onto the {_freq_words(freq)} grid ({freq!r}), e.g. {example}"
            + (f"; averaged {merged:,} values that landed together into {groups:,}." if merged else "."))
    # missing timestamps: every series spans its first..last grid position
    starts, ends = _bounds(code)
    first, last = pos[starts], pos[ends - 1]
    lengths = last - first + 1
    total = int(lengths.sum())
    if total > MAX_TIMESTAMPS:
        raise DataError(f"{fname}: at frequency {freq!r} the series would need {total:,} rows; pass a "
                        "coarser freq.")
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    group = np.repeat(np.arange(len(starts)), ends - starts)
    y_full = np.full(total, np.nan)
    y_full[offsets[group] + pos - first[group]] = y
    full_pos = np.arange(total) - np.repeat(offsets, lengths) + np.repeat(first, lengths)
    missing = np.zeros(len(names), dtype="int64")
    missing[code[starts]] = lengths - (ends - starts)
    return np.repeat(code[starts], lengths), grid[full_pos], y_full, missing


_FREQ_WORDS = {"h": "hourly", "D": "daily", "B": "business-daily", "MS": "monthly",
               "ME": "monthly (month ends)", "QS": "quarterly", "QE": "quarterly (quarter ends)",
               "YS": "yearly", "YE": "yearly (year ends)",
               "min": "every minute", "s": "every second"}
_DAYS = {"MON": "Mondays", "TUE": "Tuesdays", "WED": "Wednesdays", "THU": "Thursdays", "FRI": "Fridays",
         "SAT": "Saturdays", "SUN": "Sundays"}


def _freq_words(freq: str | None) -> str:
    if not freq:
        return "no dates"
    if freq in _FREQ_WORDS:
        return _FREQ_WORDS[freq]
    m = re.fullmatch(r"W-(\w{3})", freq)
    if m:
        return f"weekly ({_DAYS.get(m.group(1), m.group(1))})"
    m = re.fullmatch(r"(\d+)(min|h|D|s)", freq)
    if m:
        unit = {"min": "minutes", "h": "hours", "D": "days", "s": "seconds"}[m.group(2)]
        return f"every {m.group(1)} {unit}"
    return freq


def _season_length(freq: str | None) -> int:
    """Steps in one season: a day for sub-daily data (up to 288 steps), a week for daily, a year
    for weekly, monthly and quarterly data, else 1. The same rule as
    genlib.forecast.season_length_for (kept here so that loading needs no forecasting code)."""
    if not freq:
        return 1
    off, o = to_offset(freq), pd.offsets
    n = max(int(off.n), 1)
    if isinstance(off, pd.offsets.Tick) and off.nanos < _DAY:
        per_day = _DAY // (off.nanos // n)
        return per_day // n if per_day % n == 0 and per_day // n <= 288 else 1
    table = [((o.BusinessDay,), 5), ((o.Day,), 7), ((o.Week,), 52),
             ((o.MonthBegin, o.MonthEnd, o.BusinessMonthBegin, o.BusinessMonthEnd), 12),
             ((o.SemiMonthBegin, o.SemiMonthEnd), 24),
             ((o.QuarterBegin, o.QuarterEnd, o.BQuarterBegin, o.BQuarterEnd), 4)]
    for classes, m in table:
        if isinstance(off, classes):
            return (12 // n if 12 % n == 0 else 1) if m == 12 else (m if n == 1 else 1)
    return 1


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------

def _describe(df, freq, freq_given, info, guesses, report) -> None:
    lengths = df.groupby("unique_id", sort=False).size()
    n = len(lengths)
    report.used = n
    date_col, id_col, values = info["date_column"], info["id_column"], info["value_columns"]
    shown = ", ".join(repr(v) for v in values[:5])
    shown += f" … ({len(values)} columns)" if len(values) > 5 else ""
    layout = info["layout"]
    if layout == "long":
        text = f"one series per value of {id_col!r}" + (f" and per column ({shown})" if len(values) > 1
                                                          else f", values from {values[0]!r}")
    elif layout == "wide":
        text = f"one series per column of numbers ({shown})"
    elif layout == "rows":
        text = f"one series per row, named by {id_col!r}, values left to right"
    else:
        text = f"one series, values from {values[0]!r}"
    if date_col is not None:
        text += f"; dates from {date_col!r}"
    elif info["header_dates"]:
        text += "; dates from the column headers"
    report.warnings.insert(0, f"Layout: {layout} — {text}.")
    if info["has_dates"]:
        how = "given" if freq_given else "inferred from the dates"
        report.warnings.insert(1, f"Frequency: {_freq_words(freq)} ({freq!r}), {how}.")
    else:
        report.warnings.insert(1, "No date column found: each value's position (0, 1, 2, …) is its time "
                                  "step, so forecasts are numbered, not dated. Pass date_column=… if the "
                                  "file has dates.")
    if len(values) > 1 and layout == "long":
        report.warnings.append(f"Several columns of numbers ({shown}): each became its own series per "
                               f"{id_col!r} (named 'id/column'). Pass value_column=… to use only one.")
    ds = df["ds"]
    fmt = (lambda t: t.strftime("%Y-%m-%d %H:%M").replace(" 00:00", "")) if info["has_dates"] else int
    report.facts.update({
        "n_series": n,
        "n_points": int(len(df)),
        "length_min": int(lengths.min()),
        "length_median": float(lengths.median()),
        "length_max": int(lengths.max()),
        "freq": freq,
        "start": fmt(ds.min()),
        "end": fmt(ds.max()),
        "layout": layout,
        "date_column": date_col,
        "id_column": id_col,
        "value_columns": list(values),
    })
