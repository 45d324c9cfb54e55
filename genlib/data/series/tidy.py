"""Long → tidy: sorted, one row per timestamp, on a regular grid, holes filled; each repair said.

The size of the result is checked before it is built: the number of series
(`DataLimits.series_count`) and the rows once every series is on its grid (`MAX_TIMESTAMPS`, or
the smaller `DataLimits.series_rows` of a shared server); a frequency that would make too many
rows is refused with the frequency that fits.
"""
from __future__ import annotations

import collections
import re

import numpy as np
import pandas as pd

from genlib.data.types import HealthReport
from genlib.errors import DataError
from genlib import hours
from genlib.freq import NS_PER_DAY, WEEKDAYS, freq_words, infer_alias, offset, open_days_alias, season_words
from genlib.limits import check_limit, limit_of

from . import events
from .spacing import other_frequency, other_note, step_ns

MIN_POINTS = 3                # fewest observed values a series needs; forecasters check their own minimum
MAX_TIMESTAMPS = 50_000_000   # refuse a frequency that would blow the table up past this many rows
FILLS = ("interpolate", "ffill", "zero", "none")
# what to do about dates without a frequency, as the Python call says it (describe.CHOICES: the
# command line's and the app's words)
CHOOSE_FREQ = ("Pass freq=… (such as 'h', 'D', 'W', 'MS') to put the values on a regular grid; values "
               "that fall in one period are then averaged, or added up with combine='sum'.")
DATES_NOT_NAMES = ("If they are dates, pass date_column=… with their column; if not, choose the columns "
                   "of the dates and the values.")


def tidy(df: pd.DataFrame, *, has_dates: bool, freq: str | None, fill: str, fname: str,
         report: HealthReport, combine: str | None = None, value_names=(),
         guesses: dict | None = None) -> tuple[pd.DataFrame, str | None]:
    """Sort, combine repeated timestamps, trim empty ends, drop short series, put the dates on a
    regular grid and fill the holes. Series are integer codes (of the sorted names) and times are
    int64 (nanoseconds or positions) so that thousands of series stay fast.

    combine: how values that land on one timestamp are combined, "mean" or "sum"; None guesses
    (`events.guess_combine`, from the names of the value columns) where many do — a log of events, one
    row per order — and averages a few repeats (a day written twice is a slip). Added up, a period
    without rows is 0. The choice goes in `guesses["combine"]`."""
    guesses = {} if guesses is None else guesses
    code, names = pd.factorize(df["unique_id"].to_numpy(dtype=object), sort=True)
    check_limit("series_count", len(names), "Keep fewer series in the file (filter it by id, or split "
                "it) and load each part on its own.", detail=f"{fname} holds {len(names):,} series")
    code = code.astype("int64")
    names = np.asarray(names, dtype=object)
    if has_dates:
        t = df["ds"].to_numpy().astype("datetime64[ns]").view("int64")
    else:
        t = df["ds"].to_numpy().astype("int64")
    y = df["y"].to_numpy(dtype="float64")
    if np.isnan(y).all():
        raise DataError(f"{fname}: every value is missing, so there is nothing to forecast.")

    # 1. date order within each series
    by_id = np.argsort(code, kind="stable")
    c1, t1 = code[by_id], t[by_id]
    backwards = int(((c1[1:] == c1[:-1]) & (t1[1:] < t1[:-1])).sum())
    order = np.lexsort((t, code))
    code, t, y = code[order], t[order], y[order]
    if backwards:
        report.repairs.append(f"Sorted the rows by date ({backwards:,} were out of order).")

    # 2. one row per (series, timestamp): combine repeats
    repeats = int(((code[1:] == code[:-1]) & (t[1:] == t[:-1])).sum())
    if combine is None and repeats >= events.SHARE * len(code):       # one row per sale, not a slip
        combine = events.guessed(value_names, report, f"{repeats:,} of the {len(code):,} rows repeat a date")
    code, t, y, merged, groups, example = _merge_repeats(code, t, y, combine == "sum")
    if merged:
        where = _where(names[example[0]], example[1], has_dates)
        report.repairs.append(f"{'Added up' if combine == 'sum' else 'Averaged'} {merged:,} rows that "
                              f"shared a timestamp into {groups:,} (e.g. {where}).")

    # 3. drop series without values, and empty values before the first and after the last value
    n_ids = len(names)
    has_value = np.bincount(code, weights=~np.isnan(y), minlength=n_ids) > 0
    if not has_value.all():
        report.skipped += [(f"series {u!r}", "no values") for u in names[~has_value]]
        keep = has_value[code]
        code, t, y = code[keep], t[keep], y[keep]
    starts, ends = _bounds(code)
    valid = ~np.isnan(y)
    seen = np.r_[0, np.cumsum(valid)]                    # seen[i]: values before row i
    group = np.repeat(np.arange(len(starts)), ends - starts)
    keep = (seen[1:] - seen[starts][group] > 0) & (seen[ends][group] - seen[:-1] > 0)
    if not keep.all():
        report.repairs.append(f"Ignored {int((~keep).sum()):,} empty values before the first or after the "
                              "last value of a series.")
        code, t, y = code[keep], t[keep], y[keep]

    # 4. drop series too short to forecast (counted before filling)
    counts = np.bincount(code, weights=~np.isnan(y), minlength=n_ids).astype("int64")
    present = np.unique(code)
    short = present[counts[present] < MIN_POINTS]
    if len(short):
        report.skipped += [(f"series {names[k]!r}",
                            f"only {counts[k]} value(s); at least {MIN_POINTS} are needed") for k in short]
        keep = ~np.isin(code, short)
        code, t, y = code[keep], t[keep], y[keep]
    if len(code) == 0 and counts.max() == 1 and len(names) >= MIN_POINTS:   # a value per "series"
        raise DataError(f"{fname}: each of the {len(names):,} series has a single value: "
                        f"{', '.join(repr(str(u)) for u in names[:3])} … were read as the names of "
                        f"series. {DATES_NOT_NAMES}")
    if len(code) == 0:
        raise DataError(f"{fname}: no series has at least {MIN_POINTS} values (the longest has "
                        f"{counts.max()}). "
                        "A forecast needs more history: add rows, or check that the right columns were "
                        "used (see date_column / value_column).")

    # 5. a regular time grid
    given = freq is not None
    missing = np.zeros(n_ids, dtype="int64")
    if has_dates:
        if freq is None:
            starts, _ = _bounds(code)
            freq = infer_alias(np.split(t, starts[1:]))
            if freq is not None:                  # a quarterly series among monthly ones: on its own
                code, t, y = _without_others(code, t, y, names, freq, report)
        regular, problem = None, None
        if freq is None:
            problem = DataError(f"{fname}: could not tell how far apart the dates are meant to be. "
                                f"{CHOOSE_FREQ}")
        elif given or not _mostly_empty(code, t, freq):
            try:
                regular = _regularise(code, t, y, names, freq, given, fname, report, combine == "sum")
            except _Uneven as exc:
                problem = exc
        if regular is None:                    # a log of events at irregular times: one row per order
            event = events.event_freq(code, t, *_bounds(code))
            if event is None and problem is not None:
                raise problem
            if event is not None:
                freq, given = event, True
                combine = combine or events.guessed(value_names, report)
                per = len(code) / max(_rows_at(code, t, step_ns(freq)), 1)
                report.warnings.append(events.read_as(freq, combine, per))
            regular = _regularise(code, t, y, names, freq, given, fname, report, combine == "sum")
        code, t, y, missing = regular
    else:
        check_limit("series_rows", len(code), "Keep fewer rows (fewer values, or fewer series) and load it "
                    "again.", cap=MAX_TIMESTAMPS, detail=f"{fname} holds {len(code):,} values")
        if given:
            report.warnings.append(f"freq={freq!r} was ignored: the file has no dates, so the time is the "
                                   "position of each value.")
            freq = None

    # 6. fill the holes
    holes = np.isnan(y)
    if holes.any():
        per = np.bincount(code[holes], minlength=n_ids)
        n_holes, n_stamps = int(holes.sum()), int(missing.sum())
        n_cells = n_holes - n_stamps
        what = " and ".join(p for p in [
            f"{n_stamps:,} missing timestamp{'s' * (n_stamps != 1)}" if n_stamps else "",
            f"{n_cells:,} empty cell{'s' * (n_cells != 1)}" if n_cells else ""] if p)
        where = ""
        if len(np.unique(code)) > 1:
            top = np.argsort(-per, kind="stable")[: min(5, int((per > 0).sum()))]
            where = ": " + ", ".join(f"{names[k]} {per[k]:,}" for k in top)
            where += f", … ({int((per > 0).sum()):,} series)" if (per > 0).sum() > 5 else ""
        if fill == "none":
            report.warnings.append(f"{n_holes:,} values are missing ({what}) and were left empty "
                                   f"(fill='none'); most forecasters need complete series{where}.")
        else:
            how = {"interpolate": "by linear interpolation", "ffill": "with the previous value",
                   "zero": "with 0"}[fill]
            filled = pd.Series(y)
            if fill == "interpolate":
                filled = filled.interpolate(method="linear")     # holes lie inside series only
            elif fill == "ffill":
                filled = filled.ffill()
            else:
                filled = filled.fillna(0.0)
            y = filled.to_numpy(dtype="float64")
            plural = "s" * (n_holes != 1)
            report.repairs.append(f"Filled {n_holes:,} missing value{plural} {how} ({what}){where}.")
        lengths = np.bincount(code, minlength=n_ids)
        sparse = np.flatnonzero(per > 0.5 * np.maximum(lengths, 1))
        shut = _closed_hours(t, holes, freq) if has_dates and fill != "none" and not hours.is_open_hours(freq) \
            else None
        some = _days_some_close(code, t, holes, names, freq) if has_dates and fill != "none" and not given \
            else None
        if some:
            report.warnings.append(some)
        if shut:
            report.warnings.append(shut)
        elif len(sparse):
            report.warnings.append(f"{len(sparse):,} series are more than half gaps "
                                   f"(e.g. {names[sparse[0]]!r}); "
                                   f"check the frequency ({freq}).")
    out = pd.DataFrame({"unique_id": names[code], "ds": t.view("datetime64[ns]") if has_dates else t, "y": y})
    out["unique_id"] = out["unique_id"].astype(str)
    guesses["combine"] = combine or "mean"
    return out, freq


def _without_others(code, t, y, names, freq: str, report: HealthReport):
    """Leave out the series regular at another frequency than the panel's (genlib.data.series.spacing)."""
    starts, _ = _bounds(code)
    others = other_frequency(np.split(t, starts[1:]), freq)
    if not others or len(others) >= len(starts):
        return code, t, y
    gone = code[starts[list(others)]]
    for k, own in others.items():
        name = names[code[starts[k]]]
        report.skipped.append((f"series {name!r}", f"{freq_words(own)} among {freq_words(freq)} series"))
        report.warnings.append(other_note(str(name), own, freq))
    keep = ~np.isin(code, gone)
    return code[keep], t[keep], y[keep]


def _closed_hours(t: np.ndarray, holes: np.ndarray, freq: str) -> str | None:
    """Sub-daily data whose file never has some hours of the day (a shop's or a call centre's
    opening hours): the sentence that says the hours between were made up and what to do instead."""
    off = offset(freq)
    if not isinstance(off, pd.offsets.Tick) or off.nanos >= NS_PER_DAY or NS_PER_DAY % off.nanos:
        return None
    per_day = NS_PER_DAY // off.nanos
    slot = (t % NS_PER_DAY) // off.nanos                      # the time of day of each row, as a slot
    seen = np.bincount(slot[~holes], minlength=per_day) > 0
    days = (t.max() - t.min()) // NS_PER_DAY
    if seen.all() or days < 7 or seen.sum() == 0:
        return None
    clock = [f"{pd.Timestamp(int(k * off.nanos)):%H:%M}" for k in np.flatnonzero(seen)]
    open_ = np.flatnonzero(seen)
    span = (f"between {clock[0]} and {clock[-1]}" if open_[-1] - open_[0] + 1 == len(open_) else
            f"at {len(open_)} of the {per_day} times of day its frequency ({freq_words(freq)}) has")
    return (f"The file has values only {span}: the other times of day never come, and they were "
            "filled in by interpolation, so the forecast for them is made up. To forecast whole days "
            "instead, choose daily ('D'): each day's values are then averaged.")


def _days_some_close(code, t, holes, names, freq: str) -> str | None:
    """A daily panel in which some series never have one or two days of the week (over 8 weeks or
    more, every other day there at least half the time) while others do: one frequency serves
    the whole file, so those series' closed days were filled in. The sentence that says so, and
    what to do (`freq.daily_alias` reads a file of such series alone on its open days)."""
    if freq != "D":
        return None
    n = len(names)
    c, day = code[~holes], t[~holes] // NS_PER_DAY
    present = np.bincount(c * 7 + (day + 3) % 7, minlength=n * 7).reshape(n, 7)    # 1 Jan 1970: a Thursday
    first, last = np.full(n, np.iinfo(np.int64).max), np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, c, day)
    np.maximum.at(last, c, day)
    shut = present == 0
    weeks = (last - first + 1) / 7
    closed = ((last - first >= 56) & (shut.sum(1) >= 1) & (shut.sum(1) <= 2)
              & (shut | (present >= weeks[:, None] / 2)).all(1))
    if not closed.any():
        return None
    pattern = collections.Counter(tuple(np.flatnonzero(shut[k])) for k in np.flatnonzero(closed))
    named = lambda days: " and ".join(hours.DAY_NAMES[d] for d in days)         # noqa: E731
    eg = lambda ks: ", ".join(repr(str(names[k])) for k in ks[:2])              # noqa: E731
    total, filled = len(np.unique(code)), "their forecast covers days they are closed"
    if len(pattern) > 1:            # shops closed on different days: name a few, each with its days
        shown = "; ".join(f"{str(names[k])!r} on {named(np.flatnonzero(shut[k]))}" for k in np.flatnonzero(closed)[:3])
        return (f"{int(closed.sum()):,} of {total:,} series never have a value on some day of the week "
                f"({shown}), but other series have values on those days, so the file is read as daily "
                f"and their closed days were filled in by interpolation: {filled}. To forecast them on "
                "their open days, load the series closed on the same days as a file of their own.")
    days = next(iter(pattern))
    which = np.flatnonzero(closed)
    others = np.flatnonzero((present[:, list(days)] > 0).any(1))            # open on those days
    if not len(others):
        return None
    alias = open_days_alias(d for d in range(7) if d not in days)
    one = " and ".join(hours.DAY_NAMES[d][:-1] for d in days)               # "Sunday rows"
    return (f"{len(which):,} of {total:,} series never {'have' if len(which) > 1 else 'has'} a value on "
            f"{named(days)} (e.g. {eg(which)}), but {len(others):,} "
            f"other{'s do' if len(others) > 1 else ' does'} (e.g. {eg(others)}), so the file is read as "
            f"daily and their {named(days)} were filled in by interpolation: {filled}. To forecast them "
            f"on their open days, load them without the series that have {named(days)}, or choose the "
            f"frequency {freq_words(alias)} ('{alias}'): the {one} rows of the others are then left out.")


def _mostly_empty(code, t, freq: str) -> bool:
    """A step under a day that the rows would fill less than a fifth of: the most common step of
    events at irregular times (35 seconds between two orders), not the file's frequency."""
    off = offset(freq)
    return (isinstance(off, pd.offsets.Tick) and off.nanos < NS_PER_DAY
            and len(code) < events.FILLED * _rows_at(code, t, off.nanos))


def _bounds(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) row of each run of equal codes."""
    starts = np.r_[0, np.flatnonzero(code[1:] != code[:-1]) + 1]
    return starts, np.r_[starts[1:], len(code)]


def _merge_repeats(code, t, y, add: bool = False):
    """Merge rows with the same (code, t) — sorted input — into their mean (their sum: `add`).
    Returns the arrays, the rows merged, the timestamps they made, and one example (code, t)."""
    same = (code[1:] == code[:-1]) & (t[1:] == t[:-1])
    if not same.any():
        return code, t, y, 0, 0, None
    first = np.r_[True, ~same]
    group = np.cumsum(first) - 1
    ok = ~np.isnan(y)
    total = np.bincount(group, weights=np.where(ok, y, 0.0))
    n = np.bincount(group, weights=ok.astype("float64"))
    sizes = np.bincount(group)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total if add else total / np.maximum(n, 1), np.nan)
    k = np.flatnonzero(first)[np.flatnonzero(sizes > 1)[0]]
    return code[first], t[first], mean, int(sizes[sizes > 1].sum()), int((sizes > 1).sum()), (code[k], t[k])


def _where(uid, t, has_dates: bool = True) -> str:
    if has_dates:
        stamp = pd.Timestamp(int(t)).strftime("%Y-%m-%d %H:%M").replace(" 00:00", "")
    else:
        stamp = f"position {int(t)}"
    return f"{uid!r} at {stamp}"


def _closed_days_out(code, t, y, freq: str, fname: str, report: HealthReport):
    """Rows on the days an open-days frequency has none of (a shop's Sunday rows of 0 when the
    person chose "daily except Sundays") are left out and said, not averaged into Saturday."""
    closed = ~np.isin(pd.DatetimeIndex(t).day_of_week, [WEEKDAYS.index(d) for d in freq[2:].split("-")])
    if not closed.any():
        return code, t, y
    words = freq_words(freq).removeprefix("daily except ")
    if closed.all():
        raise DataError(f"{fname}: every date is on {words}, which the frequency {freq_words(freq)!r} "
                        "leaves out. Choose another frequency, such as daily ('D').")
    report.repairs.append(f"Left out {int(closed.sum()):,} rows on {words} (the frequency is "
                          f"{freq_words(freq)}; choose daily, 'D', to keep them).")
    return code[~closed], t[~closed], y[~closed]


def _closed_hours_out(code, t, y, freq: str, fname: str, report: HealthReport):
    """Rows outside the opening hours a person chose are left out and said (as closed days)."""
    h = hours.parse(freq)
    closed = ~hours.is_open(t - t % h.step, freq)          # the step each row falls in
    if not closed.any():
        return code, t, y
    if closed.all():
        raise DataError(f"{fname}: no value falls within the opening hours {freq_words(freq)!r}. Choose "
                        f"another frequency, such as {freq_words(h.base)} ('{h.base}').")
    report.repairs.append(f"Left out {int(closed.sum()):,} rows outside the opening hours ({freq_words(freq)}; "
                          f"choose {freq_words(h.base)}, '{h.base}', to keep them).")
    return code[~closed], t[~closed], y[~closed]


class _Uneven(DataError):
    """Dates that fall between the steps of the frequency the file seemed to have."""


def _regularise(code, t, y, names, freq: str, given: bool, fname: str, report: HealthReport,
                add: bool = False):
    """Put every series on the `freq` grid. Dates off the grid move into their period (start-
    anchored frequencies round down, end-anchored ones such as ME or W-SUN round up); when
    several land together they are averaged (added up: `add`) — only if the caller gave freq,
    otherwise that is an error. Missing timestamps become NaN rows (0 when values are added up:
    nothing happened then). Returns code, t, y and the missing count per code."""
    if freq.startswith("C-"):
        code, t, y = _closed_days_out(code, t, y, freq, fname, report)
    if hours.is_open_hours(freq):
        code, t, y = _closed_hours_out(code, t, y, freq, fname, report)
    off = offset(freq)
    lo, hi = pd.Timestamp(int(t.min())), pd.Timestamp(int(t.max()))
    ends_period = re.match(r"\d*(W|ME|QE|YE|BME|BQE|BYE|SME)\b", freq) is not None
    # anchor: where the data's own grid starts when every stamp is on it (hourly at :30, daily at
    # 09:00), else the period boundary (the hour, midnight, the 1st of the month) so that binning
    # puts values in calendar periods
    if isinstance(off, pd.offsets.Tick):
        _check_grid_rows(code, t, freq, fname)               # before the grid is built: it may be huge
        aligned = ((t - t.min()) % off.nanos == 0).all()
        start = lo if aligned or NS_PER_DAY % off.nanos else lo.floor(off)
    else:
        same_time = (t % NS_PER_DAY == t.min() % NS_PER_DAY).all()
        base = lo if same_time else lo.normalize()
        start = base if ends_period else off.rollback(base)
    if hours.is_open_hours(freq):                            # the open steps only, and one past the last
        grid = hours.stamps_between(lo.floor(off), hi, freq)
        grid = np.append(grid, hours.next_stamps(pd.DatetimeIndex([int(grid[-1])]), freq).asi8)
    else:
        grid = pd.date_range(start, hi + off, freq=off).as_unit("ns").asi8
    _check_rows(len(grid) - 1, code, t, freq, fname)        # the step past the last date is no row
    pos = np.searchsorted(grid, t, side="left")
    on = grid[np.minimum(pos, len(grid) - 1)] == t
    if not on.all():
        if not ends_period:
            pos = np.where(on, pos, pos - 1)
        k = int(np.flatnonzero(~on)[0])
        n_off = int((~on).sum())
        collide = (code[1:] == code[:-1]) & (pos[1:] == pos[:-1])
        if collide.any() and not given:
            raise _Uneven(
                f"{fname}: the dates are not evenly spaced. Most steps are {freq_words(freq)} ({freq!r}), but "
                f"{n_off:,} dates fall between (e.g. {_where(names[code[k]], t[k])}). {CHOOSE_FREQ}")
        example = (f"{pd.Timestamp(int(t[k])):%Y-%m-%d %H:%M} → "
                   f"{pd.Timestamp(int(grid[pos[k]])):%Y-%m-%d %H:%M}").replace(" 00:00", "")
        code, pos, y, merged, groups, _ = _merge_repeats(code, pos, y, add)
        report.repairs.append(
            f"Moved {n_off:,} dates onto the {freq_words(freq)} grid ({freq!r}), e.g. {example}"
            + (f"; {'added up' if add else 'averaged'} {merged:,} values that landed together into "
               f"{groups:,}." if merged else "."))
    # missing timestamps: every series spans its first..last grid position
    starts, ends = _bounds(code)
    first, last = pos[starts], pos[ends - 1]
    lengths = last - first + 1
    total = int(lengths.sum())
    _check_rows(total, code, grid[pos], freq, fname)          # t no longer matches code once averaged
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    group = np.repeat(np.arange(len(starts)), ends - starts)
    y_full = np.full(total, np.nan)
    y_full[offsets[group] + pos - first[group]] = y
    full_pos = np.arange(total) - np.repeat(offsets, lengths) + np.repeat(first, lengths)
    missing = np.zeros(len(names), dtype="int64")
    missing[code[starts]] = lengths - (ends - starts)
    if add and missing.any():                               # added up: a period without rows is 0
        seen = np.zeros(total, dtype=bool)
        seen[offsets[group] + pos - first[group]] = True
        y_full[~seen] = 0.0
        report.repairs.append(f"Counted {season_words(int(missing.sum()), freq)} without rows as 0: "
                              "values are added up, and nothing was recorded then.")
        missing[:] = 0
    return np.repeat(code[starts], lengths), grid[full_pos], y_full, missing


# ---- how many rows a frequency makes -------------------------------------------------------------
_COARSER = ("s", "min", "h", "D", "W-SUN", "MS", "QS", "YS")    # frequencies suggested, finest first


def _rows_at(code, t, step_ns: float) -> int:
    """Rows of the table when each series (`code`, sorted times `t`) runs first..last at `step_ns`."""
    starts, ends = _bounds(code)
    return int(((t[ends - 1] - t[starts]) // step_ns + 1).sum())


def _check_grid_rows(code, t, freq: str, fname: str) -> None:
    """Refuse a fixed-step frequency (h, min, s, …) that would make too many rows, from the first
    and last date of each series alone: the shared grid and every series' rows are both counted."""
    step = step_ns(freq)
    _check_rows(max(_rows_at(code, t, step), int((t.max() - t.min()) // step) + 1), code, t, freq, fname)


def _check_rows(rows: int, code, t, freq: str, fname: str) -> None:
    """The standard sentence when `rows` is over the limit, naming the frequency that fits."""
    cap = limit_of("series_rows", MAX_TIMESTAMPS)
    if rows <= cap:
        return
    starts, _ = _bounds(code)
    own = infer_alias(np.split(t, starts[1:]))
    if own is not None and own != freq and _rows_at(code, t, step_ns(own)) <= cap:
        action = (f"The dates are {freq_words(own)}: pass freq='{own}' (or no freq, to use the file's own), "
                  "or a coarser one.")
    else:
        fits = [f for f in _COARSER if step_ns(f) > step_ns(freq) and _rows_at(code, t, step_ns(f)) <= cap]
        action = (f"Pass a coarser freq such as '{fits[0]}' ({freq_words(fits[0])}), which averages the values "
                  "of each period, or load a shorter stretch of time." if fits else
                  "Load a shorter stretch of time or fewer series.")
    check_limit("series_rows", rows, action, cap=MAX_TIMESTAMPS,
                detail=f"{fname} needs {rows:,} rows at freq '{freq}', {freq_words(freq)}")
