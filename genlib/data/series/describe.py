"""The loader's report: the layout and frequency in words, and the facts a page shows; the same
report in each audience's words (`in_words`). (Which series are too short to test a forecast on
is the forecasting layer's rule: genlib.forecast.report.short_series_note.)"""
from __future__ import annotations

import dataclasses

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
    parts = info.get("date_parts") or []
    if info.get("across"):
        kind = info["across"]
        text = (f"one series per value of {id_col!r}, " if id_col is not None else "one series, ") + \
            f"a row per year ({date_col!r}) and a column per {kind} ({values[0]!r} … {values[-1]!r})"
    elif info.get("starts"):
        step = {"MS": "month", "QS": "quarter"}.get(str(freq)[:2], "year")
        text += "; each row starts at the date in " + " and ".join(map(repr, parts)) + \
            f" and goes on a {step} a column"
    elif len(parts) > 1:
        text += "; dates from " + ", ".join(map(repr, parts[:-1])) + f" and {parts[-1]!r}"
    elif date_col is not None:
        text += f"; dates from {date_col!r}"
    elif info["header_dates"]:
        text += "; dates from the column headers"
    report.warnings.insert(0, f"Layout: {layout} — {text}.")
    if info["has_dates"]:
        how = "given" if freq_given else "inferred from the dates"
        if str(freq).startswith("C-") and not freq_given:     # a day of the week never comes
            shut = freq_words(freq).removeprefix("daily except ")
            how += (f": the file has no {shut}, so the forecast skips them too (set the frequency "
                    f"to daily, 'D', to fill them in instead)")
        elif "@" in str(freq) and not freq_given:             # opening hours
            base = str(freq).split("@")[0]
            how += (f": the file has no values at other times, so the forecast skips them too (set "
                    f"the frequency to {freq_words(base)}, '{base}', to fill them in instead)")
        report.warnings.insert(1, f"Frequency: {freq_words(freq)} ({freq!r}), {how}.")
    elif not any(w.startswith("The months across the top") for w in report.warnings):
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
        "date_column": " + ".join(map(str, parts)) if parts else date_col,
        "id_column": id_col,
        "value_columns": list(values),
    })


DATES_WIDGET = "“Dates are written”"
# A guess's correction as the Python call says it (what the report stores) → the same advice on
# the command line ("cli") and in the app's Data page ("app").
CHOICES = {
    "pass dayfirst=False (command line: --monthfirst)": {
        "cli": "use --monthfirst", "app": f"choose “month first (12/31)” under {DATES_WIDGET} below"},
    "pass dayfirst=True (command line: --dayfirst)": {
        "cli": "use --dayfirst", "app": f"choose “day first (31/12)” under {DATES_WIDGET} below"},
    "pass dayfirst=True or False to choose; command line: --dayfirst or --monthfirst": {
        "cli": "use --dayfirst or --monthfirst to choose", "app": f"choose under {DATES_WIDGET} below"},
    "Pass date_column=… if the file has dates.": {
        "cli": "Use --date-column NAME if the file has dates.",
        "app": "If the file has dates, choose their column under “Date column” below."},
    "Pass value_column=… to use only one.": {
        "cli": "Use --value-column NAME to use only one.",
        "app": "To use only one, choose it under “Value column(s)” below."},
    "To average them instead, pass combine='mean'.": {
        "cli": "To average them instead, use --combine mean.",
        "app": "To average them instead, choose “averaged” under “Values in one period” below."},
    "If they are amounts to add up (sales, orders, visits), pass combine='sum'.": {
        "cli": "If they are amounts to add up (sales, orders, visits), use --combine sum.",
        "app": "If they are amounts to add up (sales, orders, visits), choose “added up” under “Values in "
               "one period” below."},
    "For other periods (hours, weeks, months), pass freq=….": {
        "cli": "For other periods (hours, weeks, months), use --freq (h, W, MS).",
        "app": "For other periods (hours, weeks, months), choose under “Frequency” below."},
    "Pass freq=… (such as 'h', 'D', 'W', 'MS') to put the values on a regular grid; values that fall in one "
    "period are then averaged, or added up with combine='sum'.": {
        "cli": "Use --freq (such as h, D, W, MS) to put the values on a regular grid; values that fall in one "
               "period are then averaged, or added up with --combine sum.",
        "app": "Choose how often the values come under “Frequency” below to put them on a regular grid; "
               "values that fall in one period are then averaged, or added up (“Values in one period”)."},
    "If they are dates, pass date_column=… with their column; if not, choose the columns of the dates and "
    "the values.": {
        "cli": "If they are dates, use --date-column NAME with their column; if not, choose the columns of the "
               "dates and the values (--date-column, --value-column).",
        "app": "If they are dates, choose their column under “Date column” below; if not, choose the columns "
               "of the dates and the values there."},
    "or pick another column with date_column=….": {
        "cli": "or pick another column with --date-column NAME.",
        "app": "or choose another column under “Date column” below."},
    "or pick other columns with value_column=….": {
        "cli": "or pick other columns with --value-column NAME.",
        "app": "or choose other columns under “Value column(s)” below."},
    "or name it with value_column=….": {
        "cli": "or name it with --value-column NAME.",
        "app": "or choose it under “Value column(s)” below."},
    "(pass sheet=… for another)": {
        "cli": "(use --sheet NAME for another)",
        "app": "(to use another, save that sheet as its own file and load it)"},
}


def in_words(report, audience: str):
    """A copy of a series `report` in the words of `audience`: "python" (as stored), "cli" (the
    command line's options) or "app" (the Data page's widgets, and facts in plain words).

    >>> from genlib.data.series import load_sample_series
    >>> in_words(load_sample_series("co2").report, "app").facts["frequency"]
    'monthly'
    """
    if audience not in ("python", "cli", "app"):
        raise ValueError(f"audience must be 'python', 'cli' or 'app', not {audience!r}")
    if audience == "python":
        return report

    def say(text: str) -> str:
        text = words_for(text, audience)
        if audience == "app" and report.facts.get("freq"):     # the alias beside its words
            text = text.replace(f" ({report.facts['freq']!r})", "")
        return text

    return dataclasses.replace(report, warnings=[say(w) for w in report.warnings],
                               repairs=[say(r) for r in report.repairs],
                               facts=plain_facts(report.facts) if audience == "app" else dict(report.facts))


def words_for(text: str, audience: str) -> str:
    """A sentence of the loader (a report's line, or a DataError's message) with its advice in
    the words of `audience` ("python": as written, "cli" or "app"; `CHOICES`).

    >>> words_for("x.csv: could not tell how far apart the dates are meant to be. Pass freq=… (such as "
    ...           "'h', 'D', 'W', 'MS') to put the values on a regular grid; values that fall in one period "
    ...           "are then averaged, or added up with combine='sum'.", "app")[63:]  # doctest: +ELLIPSIS
    'Choose how often the values come under “Frequency” below to put them on a regular grid; ...'
    """
    if audience == "python":
        return text
    for phrase, words in CHOICES.items():
        text = text.replace(phrase, words[audience])
    return text


def plain_facts(facts: dict) -> dict:
    """The loader's facts as people read them: units on numbers, frequencies in words.

    >>> plain_facts({"n_series": 3, "length_min": 48, "length_median": 60.0, "length_max": 60,
    ...              "freq": "MS", "start": "2019-01-01", "end": "2023-12-01"})["lengths"]
    '48 to 60 values, typically 60'
    """
    if "n_series" not in facts:
        return dict(facts)
    lo, hi, mid = facts["length_min"], facts["length_max"], facts["length_median"]
    n = facts["n_series"]
    out = {"series": f"{n:,}",
           "lengths" if n > 1 else "length": f"{lo:,} values" if lo == hi
           else f"{lo:,} to {hi:,} values, typically {round(mid):,}",
           "frequency": freq_words(facts.get("freq")),
           "from": facts.get("start"), "to": facts.get("end")}
    if facts.get("date_column"):
        out["date column"] = facts["date_column"]
    if facts.get("id_column"):
        out["names from"] = facts["id_column"]
    if facts.get("value_columns"):
        out["numbers from"] = ", ".join(map(str, facts["value_columns"][:8])) + \
            (f" … ({len(facts['value_columns'])} columns)" if len(facts["value_columns"]) > 8 else "")
    return out
