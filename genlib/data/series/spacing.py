"""Series of another frequency in a panel: a quarterly series in a file of monthly ones, a weekly
one among daily ones, a monthly one among quarterly ones. Read on the panel's grid, most of a
coarser series' values would be made up (a quarterly series read monthly is two thirds
interpolation) and its forecast would follow the made-up line; a finer one does not fit the grid
(the file was refused as "not evenly spaced"). Such a series is left out, and the report says how
to forecast it: in a file of its own, or every series at the coarser frequency.

Only where the frequency was inferred (a chosen one reads every series on it) and the series' own
dates are regular (`pd.infer_freq`) at a step at least `OTHER` times the panel's, or at most
1 / `OTHER` of it; the panel's frequency is the one most series have (genlib.freq.infer_alias), so
these are the fewer.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from genlib.freq import freq_words, normalise_alias, offset

OTHER = 1.5              # a step this many times the panel's, or its inverse (business days, 1.4 days, are not)


def step_ns(freq: str) -> float:
    """The average length of one step of `freq` in nanoseconds (a month ≈ 30.4 days).

        >>> round(step_ns("QS") / step_ns("MS"), 1), step_ns("h") * 24 == step_ns("D")
        (3.0, True)
    """
    off = offset(freq)
    if isinstance(off, pd.offsets.Tick):
        return float(off.nanos)
    start = pd.Timestamp("2000-01-01")
    return (start + 40 * off - start).total_seconds() * 1e9 / 40


def other_frequency(times: list[np.ndarray], freq: str) -> dict[int, str]:
    """{index in `times`: own alias} of the series (int64 ns, sorted) regular at another frequency
    than the panel's `freq`, coarser or finer.

        >>> months = pd.date_range("2020-01-01", periods=12, freq="MS").as_unit("ns").asi8
        >>> quarters = pd.date_range("2020-01-01", periods=6, freq="QS").as_unit("ns").asi8
        >>> other_frequency([months, quarters], "MS"), other_frequency([months, quarters], "QS")
        ({1: 'QS'}, {0: 'MS'})
    """
    step, out = step_ns(freq), {}
    for k, arr in enumerate(times):
        if len(arr) < 3 or 1 / OTHER < (arr[1] - arr[0]) / step < OTHER:
            continue            # its first step is the panel's: no pd.infer_freq (0.2 ms a series)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                own = pd.infer_freq(pd.DatetimeIndex(arr.astype("datetime64[ns]")))
        except (ValueError, TypeError):
            continue
        own = normalise_alias(getattr(own, "freqstr", own)) if own else None
        if own and own != freq and not 1 / OTHER < step_ns(own) / step < OTHER:
            out[k] = own
    return out


def other_note(name: str, own: str, freq: str) -> str:
    """What the Data page and the command line say about a series left out, and what to do."""
    mine, theirs = freq_words(own), freq_words(freq)
    coarser = step_ns(own) > step_ns(freq)
    why = f", and read {theirs} most of its values would be made up" if coarser else ""
    return (f"Left out {name!r}: its values are {mine}, the others' {theirs}{why}. To forecast it, load it "
            f"in a file of its own; to forecast every series {mine if coarser else theirs}, choose that "
            "frequency for this file (finer values are then averaged in each period).")
