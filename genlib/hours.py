"""Opening hours: sub-daily data that only ever have some times of the day (a call centre's 09:00
to 17:00, a shop's hours from Monday to Saturday, a restaurant's lunch and dinner), read on those
times alone.

The frequency is the step's pandas alias, '@', the first and the last time of each window of the
day (up to three, comma-separated), and, where some days of the week never come, '@' and the days
that do: "h@09:00-17:00", "30min@12:00-14:30,19:00-22:30@TUE-WED-THU-FRI-SAT-SUN". No pandas
offset steps over the closed hours, so the stamps are made here, vectorised: every step of the open
windows on every open day. `genlib.freq` sends aliases with '@' to this module; nothing else needs
to know.

>>> f = "h@09:00-17:00@MON-TUE-WED-THU-FRI-SAT"
>>> per_day(f), words(f), stamps_from(pd.Timestamp("2024-01-06 16:00"), 3, f).strftime("%a %H:%M").tolist()
(9, 'hourly, 09:00 to 17:00, except Sundays', ['Sat 16:00', 'Sat 17:00', 'Mon 09:00'])
>>> words("h@09:00-12:00,14:00-17:00"), per_day("h@09:00-12:00,14:00-17:00")
('hourly, 09:00 to 12:00 and 14:00 to 17:00', 8)
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
DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
MAX_WINDOWS = 3
_WINDOW = r"\d{2}:\d{2}-\d{2}:\d{2}"
_FORM = re.compile(rf"([^@]+)@({_WINDOW}(?:,{_WINDOW})*)(?:@((?:MON|TUE|WED|THU|FRI|SAT|SUN)"
                   r"(?:-(?:MON|TUE|WED|THU|FRI|SAT|SUN))*))?")


class Hours(NamedTuple):
    base: str             # the step's alias: "h", "30min", …
    step: int             # the step in nanoseconds
    windows: tuple        # (first, last) open step of each window of the day, last included (0 = midnight)
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
                         "first and last time of each window of the day, and optionally '@' and the open "
                         "days, e.g. 'h@09:00-17:00' or '30min@12:00-14:30,19:00-22:30@TUE-WED-THU-FRI-SAT'.")
    windows = []
    for window in m.group(2).split(","):
        first, last = (int(c[:2]) * 3_600 * 10 ** 9 + int(c[3:]) * 60 * 10 ** 9 for c in window.split("-"))
        if first % step or last % step or last < first or last >= NS_PER_DAY:
            raise ValueError(f"{freq!r}: the first and last times of {window} must be steps of {m.group(1)} "
                             "within one day, the first before the last.")
        windows.append((first // step, last // step))
    windows.sort()
    if len(windows) > MAX_WINDOWS or any(b[0] <= a[1] + 1 for a, b in zip(windows, windows[1:])):
        raise ValueError(f"{freq!r}: at most {MAX_WINDOWS} windows a day, apart from one another.")
    days = tuple(DAYS.index(d) for d in m.group(3).split("-")) if m.group(3) else tuple(range(7))
    return Hours(to_offset(m.group(1)).freqstr, step, tuple(windows), tuple(sorted(set(days))))


def spell(base: str, step: int, windows, days=tuple(range(7))) -> str:
    """The alias of these opening hours (windows of steps counted from midnight)."""
    times = ",".join("-".join(f"{pd.Timestamp(int(k * step)):%H:%M}" for k in w) for w in sorted(windows))
    tail = "" if len(set(days)) == 7 else "@" + "-".join(DAYS[d] for d in sorted(set(days)))
    return f"{base}@{times}{tail}"


def per_day(freq: str) -> int:
    """Open steps in a day: the daily cycle's length."""
    return sum(last - first + 1 for first, last in parse(freq).windows)


def per_week(freq: str) -> int:
    return per_day(freq) * len(parse(freq).days)


def words(freq: str) -> str:
    """'hourly, 09:00 to 17:00, except Sundays', 'every 30 minutes, 08:00 to 17:30'."""
    h = parse(freq)
    times = " and ".join(" to ".join(f"{pd.Timestamp(int(k * h.step)):%H:%M}" for k in w) for w in h.windows)
    shut = [DAY_NAMES[d] for d in range(7) if d not in h.days]
    return f"{step_words(h.base)}, {times}" + (f", except {' and '.join(shut)}" if shut else "")


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
    inside = np.zeros(len(ns), dtype=bool)
    for first, last in h.windows:
        inside |= (slot >= first) & (slot <= last)
    return (ns % h.step == 0) & inside & np.isin(weekday, h.days)


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
    over a week or more and those that do form one to three windows, each time there at least
    half the days; None otherwise (data round the clock, or gaps that fall anywhere). `days`: the
    open days of the week, found by the caller from the dates."""
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
    if len(opened) == slots or (seen[opened] < n_days / 2).any():
        return None
    breaks = np.flatnonzero(np.diff(opened) > 1)          # the last step of each window but the last
    if len(breaks) >= MAX_WINDOWS:
        return None
    firsts, lasts = np.r_[opened[0], opened[breaks + 1]], np.r_[opened[breaks], opened[-1]]
    return spell(off.freqstr, step, [(int(a), int(b)) for a, b in zip(firsts, lasts)], days)
