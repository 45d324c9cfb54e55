"""JSON → a table: what web APIs and exports write, read with `json` (never unpickled).

Understood shapes, the table found where it lies:

    [{"date": …, "sales": …}, …]                 records (JSON Lines too: one object a line)
    {"date": [...], "sales": [...]}              columns of equal length
    {"status": "ok", "data": [{…}, …]}           records under a key, one or two levels down
                                                 (FRED's API: "observations")
    {"prices": [[t, v], …], "volumes": [[t, v], …]}   pairs sharing their first element, joined
                                                 on it (CoinGecko's market charts): a column each
    [[t, v], …]                                  rows of values
"""
from __future__ import annotations

import json

import pandas as pd

from genlib.errors import DataError

_EXTENSIONS = ("json", "jsonl", "ndjson", "geojson")


def looks_like_json(data: bytes, fname: str) -> bool:
    """The file's name or first character says JSON."""
    ext = fname.lower().rsplit(".", 1)[-1] if "." in fname else ""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return ext in _EXTENSIONS or head in (b"[", b"{")


def json_frame(text: str, fname: str, report) -> pd.DataFrame:
    """The table in a JSON text (see the module docstring); DataError when there is none."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        try:                                                    # JSON Lines: an object a line
            doc = [json.loads(ln) for ln in lines]
        except json.JSONDecodeError:
            raise DataError(f"{fname} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}). "
                            "Export it again, or save the table as CSV.") from e
        if len(lines) < 2:
            raise DataError(f"{fname} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}). "
                            "Export it again, or save the table as CSV.") from e
    frame, where = _find_table(doc)
    if frame is None or frame.empty:
        raise DataError(f"{fname} holds JSON but no table: no list of records (such as "
                        '[{"date": "2024-01-01", "sales": 5}, …]) nor columns of equal length. Save the '
                        "table as CSV, or export it as a list of records.")
    if where:
        report.warnings.append(f"Read the {len(frame):,} rows under {where} in {fname}.")
    return frame


def _find_table(doc, depth: int = 0) -> tuple[pd.DataFrame | None, str]:
    """The table in a parsed document and where it was ('"data"', '"prices", "volumes"', or '')."""
    if isinstance(doc, list):
        return _from_list(doc), ""
    if not isinstance(doc, dict) or depth > 2:
        return None, ""
    lists = {k: v for k, v in doc.items() if isinstance(v, list) and v}
    if lists and len({len(v) for v in lists.values()}) == 1 and all(
            not isinstance(x, (dict, list)) for v in lists.values() for x in v[:50]):
        return pd.DataFrame(lists), ""                           # columns of equal length
    pairs = {k: v for k, v in lists.items() if all(isinstance(x, list) and len(x) == 2 for x in v[:50])}
    if pairs:                                                    # {"prices": [[t, v], …], …}
        joined = None
        for k, v in pairs.items():
            part = pd.DataFrame([x for x in v if isinstance(x, list) and len(x) == 2], columns=["time", k])
            part = part.drop_duplicates("time", keep="last").set_index("time")
            joined = part if joined is None else joined.join(part, how="outer")
        return joined.reset_index(), ", ".join(f'"{k}"' for k in pairs)
    best, where = None, ""
    for k, v in doc.items():                                     # records under a key, or deeper
        frame, inner = (_from_list(v), "") if isinstance(v, list) else _find_table(v, depth + 1)
        if frame is not None and (best is None or len(frame) > len(best)):
            best, where = frame, " › ".join(p for p in (f'"{k}"', inner) if p)
    return best, where


def _from_list(items: list) -> pd.DataFrame | None:
    """Records (nested objects flattened to "a.b" names) or rows of values; None otherwise."""
    if not items:
        return None
    if all(isinstance(x, dict) for x in items[:50]):
        return pd.json_normalize([x for x in items if isinstance(x, dict)])
    if all(isinstance(x, list) for x in items[:50]):
        width = max(len(x) for x in items[:50])
        if width >= 2:
            return pd.DataFrame([x for x in items if isinstance(x, list)]).iloc[:, :width]
    return None
