"""A table's total among its series: a pivot table's "Grand Total" row, a "Total" column beside the
regions, an "All items" line of a statistics office's file. Forecast with the others it counts
every value twice, outweighs them on every chart and in every average score, and is usually not
what the person meant to forecast.

A series is taken for a total only when both hold:
- its name says so (`TOTAL_NAMES`, `MEAN_NAMES`: total, grand total, sum, Gesamtergebnis, 总计,
  average, … in the languages spreadsheet programs write them), and
- its values are, date by date, the sum (or the mean) of the other series' values on at least
  `MATCH_SHARE` of the dates where all of them have one, at least `MIN_DATES` dates, with at least
  two other series (rounded figures allowed).

Such a series is left out, and the report says so with what to do to forecast it. A series the
person chose themselves (`value_column`, a single series) is never touched.

    >>> import pandas as pd
    >>> long = pd.DataFrame({"unique_id": ["A"] * 3 + ["B"] * 3 + ["Total"] * 3,
    ...                      "ds": [1, 2, 3] * 3, "y": [1, 2, 3, 10, 20, 30, 11, 22, 33.0]})
    >>> kept, dropped = drop_totals(long)
    >>> sorted(kept["unique_id"].unique()), dropped
    (['A', 'B'], [('Total', 'sum')])
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

MIN_DATES = 3            # dates on which all series have a value, to compare on
MATCH_SHARE = 0.9        # share of those dates where the total must add up
RTOL = 5e-3              # rounded figures: a total within 0.5 % of the sum adds up

TOTAL_NAMES = {
    "total", "totals", "grand total", "sum", "all", "overall", "total général", "total general",
    "total geral", "totale", "totale complessivo", "totaal", "eindtotaal", "gesamt", "gesamtergebnis",
    "insgesamt", "summe", "suma", "suma total", "razem", "celkem", "yhteensä", "totalt", "i alt",
    "итого", "общий итог", "всего", "合计", "总计", "合計", "総計", "총합계", "합계", "toplam",
}
MEAN_NAMES = {"average", "mean", "avg", "durchschnitt", "mittelwert", "moyenne", "media", "promedio",
              "média", "gemiddelde", "среднее", "平均", "평균"}
_TOTAL_WORDS = re.compile(r"^(grand\s+)?totals?\b|\btotals?$|^(sum|all)\s+of\b", re.IGNORECASE)


def total_kind(name) -> str | None:
    """"sum" or "mean" when `name` reads as a table's total or average, else None.

        >>> total_kind("Grand Total"), total_kind("Total sales"), total_kind("Average"), total_kind("Totana")
        ('sum', 'sum', 'mean', None)
    """
    words = re.sub(r"[\s:]+$", "", str(name).strip().lower())
    words = re.sub(r"\s+", " ", words)
    if words in TOTAL_NAMES or _TOTAL_WORDS.search(words):
        return "sum"
    if words in MEAN_NAMES:
        return "mean"
    return None


def drop_totals(long: pd.DataFrame, keep=()) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """`long` (unique_id, ds, y) without the series that are the others' total or mean, and
    [(name, "sum" | "mean")] of those left out; the series named in `keep` stay."""
    names = pd.unique(long["unique_id"])
    candidates = {n: k for n in names if (k := total_kind(n)) is not None and n not in keep}
    if not candidates or len(names) - len(candidates) < 2:
        return long, []
    wide = long.pivot_table(index="ds", columns="unique_id", values="y", aggfunc="mean", sort=False)
    others = wide.drop(columns=list(candidates))
    whole = others.notna().all(axis=1)
    dropped = []
    for name, kind in candidates.items():
        rows = whole & wide[name].notna()
        if rows.sum() < MIN_DATES:
            continue
        part = others[rows].to_numpy(dtype=float)
        expected = part.sum(axis=1) if kind == "sum" else part.mean(axis=1)
        value = wide.loc[rows, name].to_numpy(dtype=float)
        scale = np.abs(part).sum(axis=1) if kind == "sum" else np.abs(part).mean(axis=1)
        close = np.abs(value - expected) <= RTOL * np.maximum(scale, 1e-12) + 1e-9
        if close.mean() >= MATCH_SHARE:
            dropped.append((str(name), kind))
    if not dropped:
        return long, []
    gone = {n for n, _ in dropped}
    return long[~long["unique_id"].isin(gone)].reset_index(drop=True), dropped


def total_reason(kind: str) -> str:
    """The report's words for a total left out (genlib.data.series.load)."""
    return f"{'the sum' if kind == 'sum' else 'the average'} of the other series on each date: the table's total"


def total_note(name: str, kind: str) -> str:
    """The note on the Data page and the command line: what was left out, and how to forecast it."""
    what = "adds up" if kind == "sum" else "averages"
    return (f"Left out {name!r}: it {what} the other series on each date (the table's total), and "
            "forecast beside them it would count them twice. To forecast it, upload a file with that "
            "series alone.")
