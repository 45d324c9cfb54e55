"""Logs of events: one row per order, visit or reading, at irregular times or many on one date.

Such a file is read at a calendar period (hour, day, week, month: the finest that most of its
periods have rows in) with the values of each period added up or averaged. Which of the two is
a guess from the names of the value columns (sales, orders and visits add up; temperatures and
prices average), said in the report with how to choose the other (`combine`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from genlib.data.types import HealthReport
from genlib.freq import NS_PER_DAY, freq_words

SHARE = 0.2             # repeated dates in at least this share of rows: events, not slips
PERIODS = {"h": "hour", "D": "day", "W-SUN": "week", "MS": "month"}      # finest first
FULL = 0.8              # the period chosen has rows in at least this share of its periods
MIN_PERIODS = 8         # and each series spans at least this many of them
FILLED = 0.2            # an inferred step under a day whose grid the rows fill less than this share
                        # of is the most common gap between events, not the file's frequency
# what to do instead, as the Python call says it (describe.CHOICES: the command line's and the app's words)
TO_AVERAGE = "To average them instead, pass combine='mean'."
TO_ADD = "If they are amounts to add up (sales, orders, visits), pass combine='sum'."
OTHER_FREQ = "For other periods (hours, weeks, months), pass freq=…."
# names of columns that count or add up (sales, orders, visits): their values in a period add up
AMOUNT_WORD = re.compile(r"(?i)sales|revenue|amount|total|sum\b|quantity|qty|units|count|orders?\b|"
                         r"visits|sessions|clicks|views|downloads|bookings|tickets|calls|cases|deaths|"
                         r"births|tax|shipping|spend|cost|income|expense|sold|umsatz|menge|anzahl|"
                         r"ventes|ventas|cantidad|importe|montant|betrag|kwh|consumption|usage|rain|precip")


def guess_combine(value_names) -> str:
    """"sum" when every value column is named like an amount or a count (sales, orders, visits,
    kWh used), else "mean" (readings, prices, temperatures: their average says more).

    >>> guess_combine(["Total", "Taxes"]), guess_combine(["Temperature"]), guess_combine([])
    ('sum', 'mean', 'mean')
    """
    names = [str(n) for n in value_names]
    return "sum" if names and all(AMOUNT_WORD.search(n) for n in names) else "mean"


def guessed(value_names, report: HealthReport, why: str = "") -> str:
    """The guessed way to combine values that land together ("sum" or "mean"), said in `report`
    with the reason (`why`, and the names of the columns) and how to choose the other."""
    how = guess_combine(value_names)
    names = list(value_names)
    what = ", ".join(repr(str(n)) for n in names[:3]) + (" …" if len(names) > 3 else "")
    since = f"{why}, and " if why else ""
    if how == "sum":
        report.warnings.append(f"Values that fall on the same date or period were added up: {since}{what} "
                               f"{'look' if len(names) > 1 else 'looks'} like amounts or counts. "
                               f"{TO_AVERAGE}")
    else:
        report.warnings.append(f"Values that fall on the same date or period were averaged{': ' + why if why else ''}. "
                               f"{TO_ADD}")
    return how


def event_freq(code: np.ndarray, t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> str | None:
    """The finest calendar period (`PERIODS`) in which most periods of the series' spans have a
    row, each series spanning `MIN_PERIODS` at least: the frequency to read a log of events at;
    None when there is none. `code`, `t`: series codes and nanosecond times, sorted by both;
    `starts`, `ends`: each series' first row and the row after its last.

    >>> t = np.sort(np.random.default_rng(0).uniform(0, 30, 200)) * 86_400e9      # 200 in 30 days
    >>> code = np.zeros(200, dtype=int)
    >>> event_freq(code, t.astype("int64"), np.array([0]), np.array([200]))
    'D'
    """
    day = t // NS_PER_DAY
    stamp = pd.DatetimeIndex(t)
    bins = {"h": t // (NS_PER_DAY // 24), "D": day, "W-SUN": (day + 3) // 7,     # weeks from Monday
            "MS": (stamp.year * 12 + stamp.month).to_numpy()}
    for freq, b in bins.items():
        span = b[ends - 1] - b[starts] + 1
        distinct = np.r_[True, (b[1:] != b[:-1]) | (code[1:] != code[:-1])].sum()
        if span.min() >= MIN_PERIODS and distinct >= FULL * span.sum():
            return freq
    return None


def read_as(freq: str, combine: str, per: float) -> str:
    """The sentence that says a log of events was read at `freq` (about `per` rows a period)."""
    what = "totals" if combine == "sum" else "averages"
    return (f"The dates are irregular, about {per:.3g} rows a {PERIODS[freq]} (one row per order, visit or "
            f"reading): read as {freq_words(freq)} {what}. {OTHER_FREQ}")
