"""Bytes → a table of cells: the file's format, encoding, delimiter, header and title lines.

`read_table` gives named columns with cells as text (CSV) or typed (Excel, Parquet), and row
numbers as the index: the numbers a person sees in a spreadsheet (the header is row 1; in a CSV
blank and title lines count too).

What is read is bounded before it is parsed: the file's bytes (`MAX_BYTES`, or the smaller
`DataLimits.series_upload_bytes` of a shared server), the compression ratio of a gzip or ZIP
file, and the rows of a CSV or Parquet file (each row becomes at least one row of the series
table, so more rows than `DataLimits.series_rows` cannot fit); a JSON file may be a quarter of
the bytes (`JSON_SHARE`: its parsed objects take many times its size).
"""
from __future__ import annotations

import codecs
import collections
import csv
import gzip
import io
import os
import re
import unicodedata
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from genlib.errors import DataError
from genlib.limits import amount, check_limit, check_ratio, limit_of, unpack_cap

from ..documents import OLE_MAGIC, document_kind, table_advice
from .cells import is_date_like, is_word
from .jsontable import json_frame, looks_like_json

MAX_BYTES = 200 * 1024 ** 2   # largest file read (after unzipping); bigger exports should be cut first
_RATIO_ACTION = "Load the file without compression, and check that it is the file you meant."
JSON_SHARE = 4                # a JSON file may be this many times smaller than MAX_BYTES (its objects are big)
DELIMITERS = (";", "\t", "|", ",")          # on a tie, the earlier one wins (";" before ",": decimal commas)


def file_title(fname: str) -> str:
    """A file's name without its extensions ("sales.csv.gz" → "sales"): the name of its series."""
    title = fname
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq"):
        if title.lower().endswith(suffix):
            title = title[: -len(suffix)]
    return title or "series"


def read_table(source, name, sheet, guesses, report) -> tuple[pd.DataFrame, str]:
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
        data = source.read(_max_bytes() + 1)
        if isinstance(data, str):
            raise DataError(f"{fname} was opened as text; open it in binary mode (open(path, 'rb')).")
        _check_size(len(data), fname)
        return bytes(data), fname
    raise DataError(f"Cannot read series from a {type(source).__name__}: give a file path, the "
                    "file's bytes, or a file opened in binary mode.")


def _max_bytes() -> int:
    """The largest file read now: MAX_BYTES, or a shared server's smaller limit."""
    return limit_of("series_upload_bytes", MAX_BYTES)


def _check_size(size: int, fname: str) -> None:
    check_limit("series_upload_bytes", size, "Keep only the columns and rows you need (or save it as "
                "Parquet) and load it again.", cap=MAX_BYTES, detail=f"{fname} is {amount(size, 'bytes')}")


def _check_rows(rows: int, fname: str) -> None:
    """Refuse, before parsing, a file with more rows than the series table may have."""
    check_limit("series_rows", rows, "Keep fewer rows (a shorter stretch of time, or fewer series) and "
                "load it again.", detail=f"{fname} has {rows:,} rows")


def _parse_bytes(data: bytes, fname: str, sheet, guesses, report) -> pd.DataFrame:
    if not data.strip():
        raise DataError(f"{fname} is empty: there are no columns or rows to read.")
    ext = fname.lower().rsplit(".", 1)[-1] if "." in fname else ""
    if data[:2] == b"\x1f\x8b":                                       # gzip
        ratio_cap = unpack_cap(len(data))
        try:                                                     # bounded: a gzip bomb stops at the cap
            inner = gzip.GzipFile(fileobj=io.BytesIO(data)).read(min(_max_bytes(), ratio_cap) + 1)
        except (OSError, EOFError) as e:
            raise DataError(f"{fname} looks gzip-compressed but could not be unpacked ({e}).") from e
        if len(inner) > ratio_cap:
            check_ratio(len(inner), len(data), fname, _RATIO_ACTION, more=True)
        _check_size(len(inner), fname)
        inner_name = fname[:-3] if fname.lower().endswith(".gz") else fname
        guesses["compression"] = "gzip"
        return _parse_bytes(inner, inner_name, sheet, guesses, report)
    if data[:4] == b"PK\x03\x04":                                     # zip: xlsx, or an archive
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise DataError(f"{fname} looks like a ZIP file (or an Excel workbook) but is damaged "
                            f"({e}). Save or export it again and load the new file.") from e
        with zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            infos = [zf.getinfo(n) for n in names]
            check_ratio(sum(i.file_size for i in infos), sum(i.compress_size for i in infos), fname,
                        _RATIO_ACTION)
            kind = document_kind(data[:8], zf)                     # Word, PowerPoint, OpenDocument…
            if kind == "excel" or (kind is None and any(n.startswith("xl/") for n in names)):
                return _read_excel(data, "xlsx", fname, sheet, guesses, report)
            if kind is not None:
                raise DataError(table_advice(fname, kind))
            if len(names) != 1:
                raise DataError(f"{fname} is a ZIP archive with {len(names)} files ({', '.join(names[:5])}); "
                                "unzip it and load the one data file.")
            info = zf.getinfo(names[0])
            _check_size(info.file_size, names[0])
            report.warnings.append(f"Read {names[0]} from inside the ZIP archive {fname}.")
            return _parse_bytes(zf.read(names[0]), os.path.basename(names[0]), sheet, guesses, report)
    if data[:4] == b"PAR1":
        return _read_parquet(data, fname, guesses)
    kind = document_kind(data)                   # the whole file: an old Office file names its parts inside
    if kind == "excel" or (kind is None and data.startswith(OLE_MAGIC)):
        return _read_excel(data, "xls", fname, sheet, guesses, report)       # OLE2: Excel 97-2003
    if kind is not None:
        raise DataError(table_advice(fname, kind))
    if looks_like_json(data, fname):
        cap = _max_bytes() // JSON_SHARE                # JSON's objects take many times its bytes
        if len(data) > cap:
            raise DataError(f"{fname} is {amount(len(data), 'bytes')} of JSON; reading JSON takes many times "
                            f"its size in memory, so files over {amount(cap, 'bytes')} are not read here. Save "
                            f"the table as CSV or Parquet (read up to {amount(_max_bytes(), 'bytes')}).")
        text, encoding = _decode(data, fname)
        guesses.update(format="json", encoding=encoding, header=True)
        frame = json_frame(text, fname, report)
        _check_rows(len(frame), fname)
        return _frame_table(frame)
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
        import pyarrow.parquet as pq            # the metadata first: rows and unpacked size

        meta = pq.ParquetFile(io.BytesIO(data)).metadata
    except ImportError:
        meta = None
    except Exception as e:
        raise DataError(f"{fname} could not be read as Parquet ({e}).") from e
    if meta is not None:
        _check_rows(meta.num_rows, fname)
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        check_ratio(unpacked, len(data), fname, _RATIO_ACTION)
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
    _check_rows(len(filled) - 1, fname)                      # less the header
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
    # a title line: one cell; or two (a label and its value, as World Bank files start) above a
    # table at least twice as wide
    # (not a header over an unnamed first column: ",sales" above "2024-01-01,5", as pandas writes
    # a table with its index)
    while len(filled) > 2 and len(titles) < 10 and np.median(filled[1:21]) >= 2 and (
            (filled[0] <= 1 and (present[0, 0] or not present[1:21, 0].all()))
            or (filled[0] <= 2 and filled[0] < 0.5 * np.median(filled[1:21])
                and is_word(grid.iloc[0].dropna().iloc[0]))):
        titles.append(str(grid.iloc[0].dropna().iloc[0]))
        grid, filled, present = grid.iloc[1:], filled[1:], present[1:]
    if titles:
        report.repairs.append(f"Skipped {len(titles)} title line(s) above the table ({titles[0]!r}).")
    notes, name = _notes_above(grid)
    if notes:
        keys = ", ".join(repr(str(k)) for k in grid.iloc[:min(notes, 3), 0])
        report.repairs.append(f"Skipped {notes} lines of notes above the data ({keys}{' …' if notes > 3 else ''}).")
        grid = grid.iloc[notes:]
    header = _has_header(grid)
    guesses["header"] = header
    if header:
        names = ["" if pd.isna(c) else str(c).strip() for c in grid.iloc[0]]
        grid = grid.iloc[1:]
        if _second_header(grid):                 # Sales | Visits above North | South | North | South
            names = _joined_names(names, grid.iloc[0])
            grid = grid.iloc[1:]
            report.repairs.append(f"Joined two header rows into column names ({names[1]!r}, …).")
    else:
        names = [""] * grid.shape[1]
        if name and len(names) == 2:
            names[1] = name
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


def _not_a_day(cell) -> bool:
    """A decimal number that cannot be a day and month (31.12): 105.23, 7.125, 2.6e+09."""
    m = re.fullmatch(r"[-+]?(\d+)\.(\d+)([eE][-+]?\d+)?", str(cell).strip())
    return bool(m) and (bool(m.group(3)) or int(m.group(1)) > 31 or len(m.group(2)) > 2 or int(m.group(2)) > 12)


def _notes_above(grid: pd.DataFrame) -> tuple[int, str]:
    """Lines of notes above header-less data, as the UK's ONS writes them ("Title", "CDID",
    "Release date", … each with its value, then "1990", "1990 Q1", …): how many, and the title.
    Notes are rows whose first cell is a word, above rows whose first cells are dates."""
    first = grid.iloc[:, 0].tolist()
    k = next((i for i, c in enumerate(first[:21]) if not is_word(c)), 0)
    data = [c for c in first[k:k + 50] if not pd.isna(c)]
    if k < 2 or not data or sum(is_date_like(c) for c in data) < 0.9 * len(data):
        return 0, ""
    top = grid.iloc[k - 1].dropna()
    if len(top) == grid.shape[1] and all(is_word(c) for c in top):
        k -= 1                                               # the last word row is the header
    title = next((str(v) for key, v in zip(first[:k], grid.iloc[:k, 1] if grid.shape[1] > 1 else [])
                  if str(key).strip().lower() == "title" and not pd.isna(v)), "")
    return k, title


def _second_header(grid: pd.DataFrame) -> bool:
    """Is the first row below the header a second header (the regions under merged cells that say
    Sales and Visits)? Yes when it holds two words or more and nothing else, over columns of
    values (numbers, dates)."""
    if len(grid) < 3:
        return False
    second, below = grid.iloc[0], grid.iloc[1:21]
    words = [j for j, c in enumerate(second) if not pd.isna(c)]
    if len(words) < 2 or not all(is_word(second.iloc[j]) for j in words):
        return False
    values = [below.iloc[:, j].dropna() for j in words]
    return all(len(v) and sum(not is_word(c) for c in v) >= 0.9 * len(v) for v in values)


def _joined_names(top: list[str], second: pd.Series) -> list[str]:
    """Two header rows → one name per column: "Sales / North"; a name above an empty cell (a
    merged one) carries on to the right.

    >>> _joined_names(["Date", "Sales", "", "Visits", ""], pd.Series([None, "North", "South", "North", "South"]))
    ['Date', 'Sales / North', 'Sales / South', 'Visits / North', 'Visits / South']
    """
    out, above = [], ""
    for name, below in zip(top, second):
        above = name or above
        below = "" if pd.isna(below) else str(below).strip()
        out.append(f"{above} / {below}" if above and below else above or below)
    return out


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
    if not any(is_word(c) or is_date_like(c) for c in first if not pd.isna(c)):
        return False                     # a first row of plain numbers is data
    for j in range(grid.shape[1]):
        top, rest = first.iloc[j], below.iloc[:, j].dropna()
        if pd.isna(top) or rest.empty:
            continue
        values = sum(not is_word(c) for c in rest) / len(rest)
        if is_word(top) and values >= 0.5:
            return True
        below_date = is_date_like(rest.iloc[0]) and not _not_a_day(rest.iloc[0])
        if is_date_like(top) and not _not_a_day(top) and not below_date and values >= 0.5:  # 1960 above 105.23
            return True
    # no column tells: a header when the whole first row is distinct words
    return all(is_word(c) for c in first.dropna()) and first.dropna().is_unique and \
        any(not is_word(c) for c in below.stack())
