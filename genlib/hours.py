"""Opening hours: sub-daily data that only ever have some times of the day (a call centre's 09:00
to 17:00, a shop's hours from Monday to Saturday), read on those times alone.

The frequency is the step's pandas alias, '@', the first and the last time of the day, and, where
some days of the week never come, '@' and the days that do: "h@09:00-17:00",
"30min@08:00-17:30@MON-TUE-WED-THU-FRI-SAT". No pandas offset steps over the closed hours, so the
stamps are made here, vectorised: every step of the open window on every open day. `genlib.freq`
sends aliases with '@' to this module; nothing else needs to know.

>>> f = "h@09:00-17:00@MON-TUE-WED-THU-FRI-SAT"
>>> per_day(f), words(f), stamps_from(pd.Timestamp("2024-01-06 16:00"), 3, f).strftime("%a %H:%M").tolist()
(9, 'hourly, 09:00 to 17:00, except Sundays', ['Sat 16:00', 'Sat 17:00', 'Mon 09:00'])
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

__all__ = ["detect", "is_open", "is_open_hours", "next_stamps", "parse", "per_day", "per_week", "spell", "step_words",
           "stamps_between", "stamps_from", "words"]

NS_PER_DAY = 86_400 * 10 ** 9
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_FORM = re.compile(r"([^@]+)@(\d{2}):(\d{2})-(\d{2}):(\d{2})(?:@((?:MON|TUE|WED|THU|FRI|SAT|SUN)"
                   r"(?:-(?:MON|TUE|WED|THU|FRI|SAT|SUN))*))?")


class Hours(NamedTuple):
    base: str             # the step's alias: "h", "30min", …
    step: int             # the step in nanoseconds
    first: int            # the first open step of the day (0 = midnight)
    last: int             # the last open step of the day, included
    days: tuple           # the open days of the week, 0 = Monday


def is_open_hours(freq: Any) -> bool:
    return isinstance(freq, str) and "@" in freq


def parse(freq: str) -> Hours:
    """The parts of an opening-hours alias; ValueError (with the form to use) when it is not one."""
    m = _FORM.fullmatch(freq.strip())
    step = None
    if m:
        try:
            off = to_offset(m.group(1))
            step = off.nanos if isinstance(off, pd.offsets.Tick) else None
        except ValueError:
            step = None
    if m is None or not step or NS_PER_DAY % step:
        raise ValueError(f"{freq!r}: opening hours are written as a step that divides a day, '@', the "
                         "first and last time of the day, and optionally '@' and the open days, e.g. "
                         "'h@09:00-17:00' or '30min@08:00-17:30@MON-TUE-WED-THU-FRI-SAT'.")
    first, last = (int(m.group(k)) * 3_600 * 10 ** 9 + int(m.group(k + 1)) * 60 * 10 ** 9 for k in (2, 4))
    if first % step or last % step or last < first or last >= NS_PER_DAY:
        raise ValueError(f"{freq!r}: the first and last times must be steps of {m.group(1)} within one day, "
                         "the first before the last.")
    days = tuple(DAYS.index(d) for d in m.group(6).split("-")) if m.group(6) else tuple(range(7))
    return Hours(to_offset(m.group(1)).freqstr, step, first // step, last // step, tuple(sorted(set(days))))


def spell(base: str, step: int, first: int, last: int, days=tuple(range(7))) -> str:
    """The alias of these opening hours (slots counted in steps from midnight)."""
    clock = [f"{pd.Timestamp(int(k * step)):%H:%M}" for k in (first, last)]
    tail = "" if len(set(days)) == 7 else "@" + "-".join(DAYS[d] for d in sorted(set(days)))
    return f"{base}@{clock[0]}-{clock[1]}{tail}"


def per_day(freq: str) -> int:
    """Open steps in a day: the daily cycle's length."""
    h = parse(freq)
    return h.last - h.first + 1


def per_week(freq: str) -> int:
    return per_day(freq) * len(parse(freq).days)


def words(freq: str) -> str:
    """'hourly, 09:00 to 17:00, except Sundays', 'every 30 minutes, 08:00 to 17:30'."""
    h = parse(freq)
    clock = [f"{pd.Timestamp(int(k * h.step)):%H:%M}" for k in (h.first, h.last)]
    shut = [_DAY_NAMES[d] for d in range(7) if d not in h.days]
    return f"{step_words(h.base)}, {clock[0]} to {clock[1]}" + (f", except {' and '.join(shut)}" if shut else "")


def step_words(base: str) -> str:
    """A sub-daily step in words, as genlib.freq.freq_words says it: 'hourly', 'every 15 minutes'.

    >>> [step_words(b) for b in ("h", "2h", "30min", "min", "10s")]
    ['hourly', 'every 2 hours', 'every 30 minutes', 'every minute', 'every 10 seconds']
    """
    m = re.fullmatch(r"(\d*)(h|min|s)", base)
    if m is None:
        return base
    n, unit = int(m.group(1) or 1), {"h": "hour", "min": "minute", "s": "second"}[m.group(2)]
    return "hourly" if base == "h" else f"every {unit}" if n == 1 else f"every {n} {unit}s"


# ---- stamps -----------------------------------------------------------------------------------
def is_open(ns: np.ndarray, freq: str) -> np.ndarray:
    """Which stamps (int64 nanoseconds) are open steps, without building a grid."""
    return _open(np.asarray(ns, dtype=np.int64), parse(freq))


def _open(ns: np.ndarray, h: Hours) -> np.ndarray:
    slot = (ns % NS_PER_DAY) // h.step
    weekday = (ns // NS_PER_DAY + 3) % 7                 # 1 January 1970 was a Thursday
    return (ns % h.step == 0) & (slot >= h.first) & (slot <= h.last) & np.isin(weekday, h.days)


def stamps_between(lo: Any, hi: Any, freq: str) -> np.ndarray:
    """Every open stamp from lo to hi, both included (int64 nanoseconds)."""
    h = parse(freq)
    lo, hi = pd.Timestamp(lo).as_unit("ns").value, pd.Timestamp(hi).as_unit("ns").value
    start = lo - lo % h.step + (h.step if lo % h.step else 0)
    grid = np.arange(start, hi + 1, h.step, dtype=np.int64)
    return grid[_open(grid, h)]


def stamps_from(first: Any, k: int, freq: str) -> pd.DatetimeIndex:
    """k open stamps from `first` on (first included when it is open), as pandas' date_range."""
    if k <= 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns]")
    weeks = k // per_week(freq) + 2                     # a week always holds per_week open stamps
    first = pd.Timestamp(first)
    found = stamps_between(first, first + pd.Timedelta(weeks=weeks), freq)[:k]
    return pd.DatetimeIndex(found.astype("datetime64[ns]"))


def next_stamps(stamps: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """The open stamp after each stamp (vectorised)."""
    ns = pd.DatetimeIndex(stamps).as_unit("ns").asi8
    if len(ns) == 0:
        return pd.DatetimeIndex(stamps)
    grid = stamps_between(pd.Timestamp(int(ns.min())), pd.Timestamp(int(ns.max())) + pd.Timedelta(weeks=1), freq)
    return pd.DatetimeIndex(grid[np.searchsorted(grid, ns, side="right")].astype("datetime64[ns]"))


# ---- finding them in a file ---------------------------------------------------------------------
def detect(stamps: pd.DatetimeIndex, base: str, days: tuple = tuple(range(7))) -> str | None:
    """The opening hours of sub-daily stamps at step `base` when some times of the day never come
    over a week or more and those that do form one window, each time there at least half the
    days; None otherwise (data round the clock, or gaps that fall anywhere). `days`: the open days
    of the week, found by the caller from the dates."""
    off = to_offset(base)
    if not isinstance(off, pd.offsets.Tick) or NS_PER_DAY % off.nanos or off.nanos >= NS_PER_DAY:
        return None
    step, ns = off.nanos, np.unique(pd.DatetimeIndex(stamps).as_unit("ns").asi8)
    if len(ns) < 2 or ns[-1] - ns[0] < 7 * NS_PER_DAY or (ns % step).any():
        return None
    slots = NS_PER_DAY // step
    seen = np.bincount((ns % NS_PER_DAY) // step, minlength=slots)
    opened = np.flatnonzero(seen)
    n_days = len(np.unique(ns // NS_PER_DAY))
    if len(opened) == slots or opened[-1] - opened[0] + 1 != len(opened) or (seen[opened] < n_days / 2).any():
        return None
    return spell(off.freqstr, step, int(opened[0]), int(opened[-1]), days)
