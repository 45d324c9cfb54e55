"""The loader's report: the layout and frequency in words, and the facts a page shows."""
from __future__ import annotations

from genlib.freq import freq_words


def describe(df, freq, freq_given, info, guesses, report) -> None:
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
        report.warnings.insert(1, f"Frequency: {freq_words(freq)} ({freq!r}), {how}.")
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
