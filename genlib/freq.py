"""Frequencies in one place: pandas aliases, inferring them, seasons, plain words, future stamps.

A frequency is a pandas alias ("h", "D", "W-SUN", "MS", "QS", "YS", …) when the time stamps are
dates, or an integer step when they are positions (0, 1, 2, …). The loader spells every grid one
way (`normalise_alias`); forecasters take whatever alias the table's dates give. One spelling is
genlib's own: open days, "C-MON-TUE-WED-THU-FRI-SAT" (daily data with a day of the week that never
comes, such as a shop's sales without Sundays), pandas' CustomBusinessDay with that week; pass any
alias through `offset`, never straight to pandas. Opening hours ("h@09:00-17:00") are
`genlib.hours`'s; the functions here send them there.

>>> check_freq("W"), season_length_for("MS"), freq_words("W-SUN"), season_words(12, "MS")
('W-SUN', 12, 'weekly (Sundays)', '12 months')
>>> freq_words("C-MON-TUE-WED-THU-FRI-SAT"), season_length_for("C-MON-TUE-WED-THU-FRI-SAT")
('daily except Sundays', 6)
>>> default_horizon(12), default_horizon(7), default_horizon(7, shortest=40)
(12, 14, 10)
"""
from __future__ import annotations

import collections
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from genlib import hours
from genlib.errors import DataError

__all__ = ["NS_PER_DAY", "alias_from_steps", "check_freq", "date_stamps", "default_horizon", "freq_words",
           "future_ds", "infer_alias", "infer_freq", "longer_cycle", "normalise_alias", "offset",
           "open_days_alias", "season_length_for", "season_words", "seasonal_periods", "step_after",
           "WEEKDAYS"]

NS_PER_DAY = 86_400 * 10 ** 9
MAX_STEPS_PER_SEASON = 288      # a daily season of sub-daily data, up to 5-minute steps


# ---- aliases -----------------------------------------------------------------------------------
WEEKDAYS = hours.DAYS                  # ("MON", …, "SUN"): 0 = Monday, as pandas counts
_OPEN = re.compile(r"C-((?:MON|TUE|WED|THU|FRI|SAT|SUN)(?:-(?:MON|TUE|WED|THU|FRI|SAT|SUN))*)")


def check_freq(freq: str) -> str:
    """A frequency given by a person, checked and spelled the one way `normalise_alias` spells it.

    >>> check_freq("W"), check_freq("QS-APR"), check_freq("YE-DEC"), check_freq("c-sat-mon-tue-wed-thu-fri")
    ('W-SUN', 'QS', 'YE', 'C-MON-TUE-WED-THU-FRI-SAT')
    """
    if hours.is_open_hours(freq):
        try:
            h = hours.parse(freq)
        except ValueError as e:
            raise DataError(str(e)) from None
        return hours.spell(h.base, h.step, h.windows, h.days)
    if isinstance(freq, str) and freq.upper().startswith("C-"):
        m = _OPEN.fullmatch(freq.upper())
        if m is None:
            raise DataError(f"freq={freq!r}: open days are written 'C-' and the days of the week the "
                            "data have, e.g. 'C-MON-TUE-WED-THU-FRI-SAT' for every day but Sunday.")
        return open_days_alias(WEEKDAYS.index(d) for d in m.group(1).split("-"))
    try:
        off = to_offset(freq)
    except (ValueError, TypeError) as e:
        raise DataError(f"freq={freq!r} is not a pandas frequency; use one such as 'h' (hourly), 'D' "
                        "(daily), 'W' (weekly), 'MS' (monthly), 'QS' (quarterly) or 'YS' (yearly).") from e
    return normalise_alias(off.freqstr)


def open_days_alias(days) -> str:
    """The alias of daily data on these days of the week (0 = Monday): 'D' for all seven, 'B' for
    Monday to Friday, else genlib's open-days spelling.

    >>> open_days_alias(range(7)), open_days_alias([4, 0, 1, 2, 3]), open_days_alias([6, 0, 1, 2, 3])
    ('D', 'B', 'C-MON-TUE-WED-THU-SUN')
    """
    days = sorted({int(d) for d in days})
    if len(days) == 7:
        return "D"
    return "B" if days == [0, 1, 2, 3, 4] else "C-" + "-".join(WEEKDAYS[d] for d in days)


def _weekmask(freq: str) -> str:
    """numpy's and pandas' week mask of an open-days alias: '1111110' for Monday to Saturday."""
    days = freq[2:].split("-")
    return "".join("1" if d in days else "0" for d in WEEKDAYS)


def offset(freq: Any) -> pd.DateOffset:
    """The pandas offset of an alias, genlib's open days included (a CustomBusinessDay).

    >>> offset("MS").freqstr, offset("C-MON-TUE-WED-THU-FRI-SAT").weekmask
    ('MS', 'Mon Tue Wed Thu Fri Sat')
    """
    if isinstance(freq, str) and freq.startswith("C-"):
        mask = _weekmask(freq)
        return pd.offsets.CustomBusinessDay(weekmask=" ".join(
            d.title() for d, on in zip(WEEKDAYS, mask) if on == "1"))
    if hours.is_open_hours(freq):                 # the step; the stamps come from date_stamps
        return to_offset(hours.parse(freq).base)
    return to_offset(freq)


def date_stamps(first: Any, k: int, freq: Any) -> pd.DatetimeIndex:
    """k time stamps of `freq` from `first` on: pandas' date_range, opening hours included.

    >>> date_stamps(pd.Timestamp("2024-01-01 16:00"), 3, "h@09:00-17:00").strftime("%d %H").tolist()
    ['01 16', '01 17', '02 09']
    """
    if hours.is_open_hours(freq):
        return hours.stamps_from(first, k, freq)
    return pd.date_range(first, periods=k, freq=offset(freq))


def step_after(stamps: pd.DatetimeIndex, freq: Any) -> pd.DatetimeIndex:
    """Each time stamp moved one step of `freq` on (vectorised, open days too).

    >>> step_after(pd.DatetimeIndex(["2024-01-06", "2024-01-08 09:00"]), "C-MON-TUE-WED-THU-FRI-SAT").tolist()
    [Timestamp('2024-01-08 00:00:00'), Timestamp('2024-01-09 09:00:00')]
    """
    if hours.is_open_hours(freq):
        return hours.next_stamps(stamps, freq)
    if isinstance(freq, str) and freq.startswith("C-"):     # pandas adds a custom day one stamp at a time
        day = stamps.normalize()
        nxt = np.busday_offset(day.to_numpy().astype("datetime64[D]"), 1, roll="forward",
                               weekmask=_weekmask(freq))
        return pd.DatetimeIndex(nxt.astype(stamps.dtype)) + (stamps - day)
    return stamps + offset(freq)


def normalise_alias(alias: str) -> str:
    """One spelling per grid: QS-APR is QS, YE-DEC is YE, W is W-SUN, M is ME.

    >>> [normalise_alias(a) for a in ["QS-APR", "YE-DEC", "W", "M", "QE-NOV"]]
    ['QS', 'YE', 'W-SUN', 'ME', 'QE-NOV']
    """
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


# ---- inferring a frequency ---------------------------------------------------------------------
def infer_freq(ds: pd.Series) -> Any:
    """The pandas alias of a datetime column, or the integer step of an integer one.

    Uses `pd.infer_freq`, then the most common gap when a few steps are irregular.

    >>> infer_freq(pd.Series(pd.date_range("2024-01-01", periods=5, freq="D")))
    'D'
    >>> infer_freq(pd.Series([0, 2, 4, 6]))
    2
    """
    values = pd.Series(ds).drop_duplicates().sort_values()
    if pd.api.types.is_datetime64_any_dtype(values):
        if len(values) >= 3:
            with warnings.catch_warnings():   # pandas 3 warns it will return an offset one day
                warnings.simplefilter("ignore")
                freq = pd.infer_freq(pd.DatetimeIndex(values.iloc[-500:]))
            if freq is not None:
                return getattr(freq, "freqstr", freq)
        gaps = values.diff().dropna()
        if len(gaps) == 0:
            raise DataError("A series with a single date has no frequency: pass freq= "
                            "(for example 'h', 'D', 'W-SUN', 'MS') or give it more points.")
        gap = gaps.mode().iloc[0]
        if gap == pd.Timedelta(days=1):                  # a day of the week that never comes
            return daily_alias(pd.DatetimeIndex(values))
        return _sub_daily_alias(pd.DatetimeIndex(values), to_offset(gap).freqstr)
    steps = np.diff(values.to_numpy())
    if len(steps) == 0:
        return 1
    return int(np.gcd.reduce(steps.astype(np.int64)))


def infer_alias(series: list[np.ndarray]) -> str | None:
    """The alias most series agree on (normalised), from many series of dates at once.

    pd.infer_freq on each series (the 200 longest), the most common answer; else from the most
    common step between dates (`alias_from_steps`). `series` holds int64 nanoseconds, sorted.

    >>> infer_alias([pd.date_range("2024-01-31", periods=6, freq="ME").as_unit("ns").asi8])
    'ME'
    """
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
                votes[normalise_alias(f)] += 1
    if votes:
        return votes.most_common(1)[0][0]
    return alias_from_steps(series)


def alias_from_steps(series: list[np.ndarray]) -> str | None:
    """A pandas alias from the most common step between consecutive dates (int64 ns arrays).

    >>> alias_from_steps([pd.DatetimeIndex(["2024-01-07", "2024-01-14", "2024-01-28"]).as_unit("ns").asi8])
    'W-SUN'
    """
    steps = np.concatenate([np.diff(a) for a in series if len(a) > 1] or [np.array([], dtype="int64")])
    steps = steps[steps > 0]
    if len(steps) == 0:
        return None
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    stamps = pd.DatetimeIndex(np.concatenate(series).astype("datetime64[ns]"))
    if step < NS_PER_DAY or step % NS_PER_DAY:
        if step < 28 * NS_PER_DAY:
            return _sub_daily_alias(stamps, normalise_alias(to_offset(pd.Timedelta(step, "ns")).freqstr))
    days = step // NS_PER_DAY
    if days == 1:
        return daily_alias(stamps)
    if days == 7:
        weekday = int(pd.Series(stamps.day_of_week).mode()[0])
        return "W-" + WEEKDAYS[weekday]
    if days < 28:
        return f"{days}D"
    start, end = (stamps.day == 1).all(), stamps.is_month_end.all()
    if days <= 31:
        return "ME" if end and not start else "MS"
    if 89 <= days <= 92:
        month = int(pd.Series(stamps.month).mode()[0])
        anchor = pd.Timestamp(2001, month, 1).strftime("%b").upper()
        if end and not start:
            return normalise_alias(f"QE-{anchor}")
        first = pd.Timestamp(2001, (month - 1) % 3 + 1, 1).strftime("%b").upper()
        return normalise_alias(f"QS-{first}")
    if 365 <= days <= 366:
        month = int(pd.Series(stamps.month).mode()[0])
        anchor = pd.Timestamp(2001, month, 1).strftime("%b").upper()
        return normalise_alias(f"YE-{anchor}" if end and not start else f"YS-{anchor}")
    return f"{days}D"


def _sub_daily_alias(stamps: pd.DatetimeIndex, alias: str) -> str:
    """A sub-daily alias, or its opening hours when some times of the day never come."""
    day = daily_alias(stamps)
    days = ((0, 1, 2, 3, 4) if day == "B" else
            tuple(WEEKDAYS.index(d) for d in day[2:].split("-")) if day.startswith("C-") else tuple(range(7)))
    return hours.detect(stamps, alias, days) or alias


def daily_alias(stamps: pd.DatetimeIndex) -> str:
    """Daily data's alias: 'B' when no weekend day comes (10 dates or more); open days when one or
    two other days of the week never come over 8 weeks or more while every other day is there at
    least half the time (a shop closed on Sundays, a museum on Mondays); else 'D'.

    >>> d = pd.date_range("2024-01-01", periods=70, freq="D")
    >>> daily_alias(d), daily_alias(d[d.day_of_week != 6]), daily_alias(d[d.day_of_week < 5])
    ('D', 'C-MON-TUE-WED-THU-FRI-SAT', 'B')
    >>> daily_alias(d[:40][d[:40].day_of_week != 6])      # under 8 weeks: a gap, not a closed day
    'D'
    """
    dow = stamps.day_of_week
    if len(stamps) >= 10 and not (dow >= 5).any():
        return "B"
    days = np.unique(stamps.to_numpy().astype("datetime64[D]").astype("int64"))   # days since 1970
    if len(days) < 2 or days[-1] - days[0] < 56:
        return "D"
    present = np.bincount((days + 3) % 7, minlength=7)               # 1 Jan 1970 was a Thursday
    possible = np.bincount((np.arange(days[0], days[-1] + 1) + 3) % 7, minlength=7)
    open_ = present > 0
    if 5 <= open_.sum() <= 6 and (present[open_] >= possible[open_] / 2).all():
        return open_days_alias(np.flatnonzero(open_))
    return "D"


# ---- seasons and horizons ----------------------------------------------------------------------
def season_length_for(freq: Any) -> int:
    """The usual seasonal period for a frequency: hourly 24, daily 7, weekly 52, monthly 12…

    Sub-daily steps that divide a day give a daily cycle (30 min → 48) up to 288 steps a day;
    business days give 5, open days their number a week; yearly, integer steps and anything else
    give 1 (no seasonality).

    >>> [season_length_for(f) for f in ["h", "30min", "D", "W-SUN", "MS", "ME", "QS", "YE", 1, None]]
    [24, 48, 7, 52, 12, 12, 4, 1, 1, 1]
    """
    if freq is None or isinstance(freq, (int, np.integer)):
        return 1
    if isinstance(freq, str) and freq.startswith("C-"):
        return _weekmask(freq).count("1")                 # a week of open days
    if hours.is_open_hours(freq):
        return hours.per_day(freq)                        # a day of open hours
    try:
        off = to_offset(freq)
    except (ValueError, TypeError):
        return 1
    o, n = pd.offsets, max(int(off.n), 1)
    if isinstance(off, o.Tick) and 0 < off.nanos < NS_PER_DAY:
        per_day = NS_PER_DAY // (off.nanos // n)          # steps of one unit (1 h, 1 min…) a day
        return per_day // n if per_day % n == 0 and per_day // n <= MAX_STEPS_PER_SEASON else 1
    if isinstance(off, (o.MonthBegin, o.MonthEnd, o.BusinessMonthBegin, o.BusinessMonthEnd)):
        return 12 // n if 12 % n == 0 else 1              # 2 months → 6 a year
    table = [((o.BusinessDay,), 5), ((o.Day,), 7), ((o.Week,), 52),
             ((o.SemiMonthBegin, o.SemiMonthEnd), 24),
             ((o.QuarterBegin, o.QuarterEnd, o.BQuarterBegin, o.BQuarterEnd), 4)]
    for classes, m in table:
        if isinstance(off, classes):
            return m if n == 1 else 1
    return 1


def long_day(m: int, freq: Any) -> bool:
    """Whether a season of m steps is a day of more than 24 (half-hours, quarter-hours, 5-minute
    readings): a daily pattern beyond R's limit of 24 for ETS seasons and M4's seasonality test,
    which the forecasters take out first instead (baselines.deseasonalize).

    >>> long_day(48, "30min"), long_day(96, "15min"), long_day(24, "h"), long_day(52, "W-SUN")
    (True, True, False, False)
    """
    if m <= 24 or not isinstance(freq, str):
        return False
    try:
        off = to_offset(freq)
    except (ValueError, TypeError):
        return False
    return isinstance(off, pd.offsets.Tick) and 0 < off.nanos < NS_PER_DAY and season_length_for(freq) == m


# the second (longer) pattern of each usual season length: a week of hours, a year of days
LONGER = {24: 168, 48: 336, 7: 365}
PERIOD_WORDS = {(24, 24): "day", (24, 168): "week", (48, 48): "day", (48, 336): "week",
                (7, 7): "week", (7, 365): "year"}        # (season length, period) → words


def longer_cycle(m: int, freq: Any = None) -> int | None:
    """The longer cycle of data whose season length is m (LONGER), None where it has none: opening
    hours have none (7 open hours a day is not a week of days).

    >>> longer_cycle(24, "h"), longer_cycle(7, "D"), longer_cycle(7, "h@09:00-15:00"), longer_cycle(12)
    (168, 365, None, None)
    """
    return None if hours.is_open_hours(freq) else LONGER.get(m)


def seasonal_periods(m: int, freq: Any = None) -> tuple[int, ...]:
    """The seasonal periods of data whose usual season length is m (`season_length_for`).

    >>> seasonal_periods(24), seasonal_periods(7), seasonal_periods(12), seasonal_periods(1)
    ((24, 168), (7, 365), (12,), ())
    """
    if m <= 1:
        return ()
    longer = longer_cycle(m, freq)
    return (m, longer) if longer else (m,)


def default_horizon(season_length: int, shortest: int | None = None) -> int:
    """How far to forecast when nobody says: a season when it is long (a year of months, a day
    of hours), else two seasons and at least 8 steps; at most a quarter of the `shortest` series.

    >>> default_horizon(12), default_horizon(24), default_horizon(1), default_horizon(4)
    (12, 24, 8, 8)
    >>> default_horizon(12, shortest=30), default_horizon(12, shortest=3)
    (7, 1)
    """
    m = int(season_length)
    h = m if m >= 12 else max(2 * m, 8)
    if shortest is not None:
        h = max(1, min(h, int(shortest) // 4))
    return h


def future_ds(last: Any, h: int, freq: Any) -> np.ndarray:
    """The h time stamps after `last`: dates from a pandas alias, or integers by a step.

    >>> future_ds(10, 3, 1).tolist()
    [11, 12, 13]
    >>> future_ds(pd.Timestamp("2024-01-31"), 2, "ME").astype("datetime64[D]").tolist()
    [datetime.date(2024, 2, 29), datetime.date(2024, 3, 31)]
    """
    if isinstance(freq, (int, np.integer)):
        return int(last) + int(freq) * np.arange(1, h + 1, dtype=np.int64)
    if hours.is_open_hours(freq):
        return hours.stamps_from(hours.next_stamps(pd.DatetimeIndex([last]), freq)[0], h, freq).to_numpy()
    off = offset(freq)
    return pd.date_range(start=pd.Timestamp(last) + off, periods=h, freq=off).to_numpy()


# ---- plain words -------------------------------------------------------------------------------
_FREQ_WORDS = {"h": "hourly", "D": "daily", "B": "business-daily", "MS": "monthly",
               "ME": "monthly (month ends)", "QS": "quarterly", "QE": "quarterly (quarter ends)",
               "YS": "yearly", "YE": "yearly (year ends)",
               "BMS": "monthly (first business day)", "BME": "monthly (last business day)",
               "SMS-15": "twice a month (1st and 15th)", "SME-15": "twice a month (15th and month end)",
               "min": "every minute", "s": "every second"}
_UNITS = {"min": "minutes", "h": "hours", "D": "days", "s": "seconds", "B": "business days",
          "MS": "months", "ME": "months", "QS": "quarters", "QE": "quarters", "YS": "years", "YE": "years"}
_MONTHS = {pd.Timestamp(2001, k, 1).strftime("%b").upper(): pd.Timestamp(2001, k, 1).strftime("%B")
           for k in range(1, 13)}
_DAYS = dict(zip(hours.DAYS, hours.DAY_NAMES))      # MON → Mondays


def freq_words(freq: str | None) -> str:
    """A normalised alias in plain words: 'daily', 'weekly (Sundays)', 'every 15 minutes'…

    >>> [freq_words(f) for f in ["MS", "W-MON", "15min", None]]
    ['monthly', 'weekly (Mondays)', 'every 15 minutes', 'no dates']
    >>> [freq_words(f) for f in ["2MS", "YS-JUL", "2W-SUN"]]
    ['every 2 months', 'yearly (starting in July)', 'every 2 weeks (Sundays)']
    """
    if not freq:
        return "no dates"
    if isinstance(freq, str) and freq.startswith("C-"):
        shut = [_DAYS[d] for d, on in zip(WEEKDAYS, _weekmask(freq)) if on == "0"]
        return "daily except " + " and ".join(shut)
    if hours.is_open_hours(freq):
        return hours.words(freq)
    if freq in _FREQ_WORDS:
        return _FREQ_WORDS[freq]
    m = re.fullmatch(r"(\d*)W-(\w{3})", freq)
    if m:
        every = f"every {m.group(1)} weeks" if m.group(1) not in ("", "1") else "weekly"
        return f"{every} ({_DAYS.get(m.group(2), m.group(2))})"
    m = re.fullmatch(r"(YS|YE)-(\w{3})", freq)              # years that start in another month
    if m and m.group(2) in _MONTHS:
        return f"yearly ({'starting' if m.group(1) == 'YS' else 'ending'} in {_MONTHS[m.group(2)]})"
    m = re.fullmatch(r"(\d+)(min|h|D|s|B|MS|ME|QS|QE|YS|YE)", freq)
    if m:
        return f"every {m.group(1)} {_UNITS[m.group(2)]}"
    return freq


def season_words(m: int, freq: Any) -> str:
    """'12 months', '24 hours', '7 days', '52 weeks' or '7 steps': the season in plain words.
    Steps of several minutes or hours are counted in the time they span: 48 half-hours are '24
    hours', not '48 steps'.

    >>> season_words(24, "h"), season_words(7, 1), season_words(1, "MS")
    ('24 hours', '7 steps', '1 month')
    >>> season_words(48, "30min"), season_words(336, "30min"), season_words(3, "30min"), season_words(12, "2h")
    ('24 hours', '168 hours', '90 minutes', '24 hours')
    """
    unit = "steps"
    if isinstance(freq, str) and freq.startswith("C-"):
        unit = "open days"
    elif hours.is_open_hours(freq):
        unit = "open hours" if hours.parse(freq).base == "h" else "open steps"
    elif freq is not None and not isinstance(freq, (int, np.integer)):
        try:
            off, o = to_offset(freq), pd.offsets
            table = [(o.Hour, "hours"), (o.Minute, "minutes"), (o.BusinessDay, "business days"),
                     (o.Day, "days"), (o.Week, "weeks"), (o.MonthBegin, "months"),
                     (o.MonthEnd, "months"), (o.QuarterBegin, "quarters"),
                     (o.QuarterEnd, "quarters")]
            for cls, word in table:
                if isinstance(off, cls) and off.n == 1:
                    unit = word
                    break
            else:
                if isinstance(off, (o.Hour, o.Minute)) and off.n > 1:    # a step of several
                    minutes = m * off.n * (60 if isinstance(off, o.Hour) else 1)
                    m, unit = (minutes // 60, "hours") if minutes % 60 == 0 else (minutes, "minutes")
        except (ValueError, TypeError):
            pass
    return f"{m} {unit[:-1] if m == 1 else unit}"
