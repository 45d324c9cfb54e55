"""Public holidays as calendar effects: any forecaster, adjusted for the holidays of a country.

Daily (or business-daily) and hourly data: on a holiday, sales drop, a shop closes, electricity
load falls. `HolidayAdjusted(model, "US")` measures that on each series' own history, fits
`model` on the history with the holiday effect taken out, and puts it back on the holidays the
forecast covers. The holiday calendar is the `holidays` package's (about 250 countries,
observed days included); Prophet's `add_country_holidays` is the same idea as a regression.

Per series, on its own history (in a backtest, each window's history alone):

1. Holiday steps: those whose date is a public holiday of the country; an "(observed)" day
   shares its holiday's effect.
2. Deviation of each step from its ordinary neighbours, the same time one week before and one
   week after (those that exist and are not holidays themselves): on the log scale when the
   series is positive (a holiday takes a share: −30 %), else in the series' units.
3. Is there an effect at all? Ordinary days' deviations (the same construction, averaged per
   day) show the spread of chance. Holidays in a row (a Christmas week, a Golden Week) count
   as one: their mean deviation, in units of that spread (as if the days moved together, which
   a wandering series makes them do), squared and summed over such blocks, is χ² with one
   degree per block when holidays make no difference; the effect is used only above the 99 %
   quantile, and from two blocks on. A series without a holiday pattern is forecast exactly as
   without this step.
4. The effect: daily data, one per holiday (Christmas and Memorial Day differ); hourly data,
   one per time of day (a shop's holiday shows in its opening hours), over all holidays. Each
   is its own mean shrunk towards the mean of all holidays as far as chance could explain the
   difference (empirical Bayes, as James–Stein: weight τ² / (τ² + σ²/n) on its own mean, n its
   days, σ² the spread of ordinary steps, τ² how much the true effects vary). A holiday the
   history never saw gets the mean of all.
5. The model is fitted on the adjusted history; its forecast (mean and bands alike) gets the
   effect back on every holiday it covers.

Each series' note says what was found, in plain words, and which holidays of the forecast
moved (`notes_`).

>>> import numpy as np, pandas as pd
>>> from genlib.forecast.baselines import SeasonalNaive
>>> ds = pd.date_range("2022-01-01", "2024-12-20", freq="D")
>>> y = 100 + 20 * (ds.day_of_week < 5)
>>> y = np.where([d in holiday_dates("US", range(2022, 2025)) for d in ds.date], y * 0.5, y)
>>> df = pd.DataFrame({"unique_id": "shop", "ds": ds, "y": y})
>>> fc = HolidayAdjusted(SeasonalNaive(), "US").fit(df).predict(10)
>>> fc.loc[fc["ds"] == "2024-12-25", "mean"].round(1).tolist()     # a Wednesday, halved
[60.0]
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, GenlibError
from .. import hours
from ..freq import date_stamps, freq_words, offset, season_length_for
from .base import Forecaster, Wrapper, fit_with, split_series

CHANCE = 0.99         # effects are used when holidays differ from ordinary days beyond this
WEEK = pd.Timedelta(days=7)
_DAY_NS = 86_400 * 10**9
_BUSINESS = (pd.offsets.BusinessDay, pd.offsets.CustomBusinessDay)


# ---- the calendar -----------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Two-letter code → country name, for every country the holiday calendar knows, by name.

    >>> country_names()["US"], country_names()["GB"]
    ('United States', 'United Kingdom')
    """
    from holidays.registry import COUNTRIES

    names = {}
    for module, (_cls, code, *_) in COUNTRIES.items():
        name = module.replace("_", " ").title()
        for word, fixed in _SPELLING.items():
            name = name.replace(word, fixed)
        names[code] = name
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


_SPELLING = {" And ": " and ", " Of ": " of ", " The ": " the ", " Da ": " da ", "Dr ": "DR ",
             "Hongkong": "Hong Kong", "Mcdonald": "McDonald"}


@functools.lru_cache(maxsize=1)
def place_names() -> dict[str, str]:
    """Every country, then its regions where holidays differ by region: code → name, as
    'DE' → 'Germany', 'DE-BY' → 'Germany: Bayern' (the region's code where it has no name).

    >>> place_names()["DE-BY"], place_names()["US-CA"]
    ('Germany: Bayern', 'United States: California')
    """
    import holidays

    regions = holidays.list_supported_countries()
    places = {}
    for code, country in country_names().items():
        places[code] = country
        named = {}
        for alias, sub in (_holiday_class(code).subdivisions_aliases or {}).items():
            named.setdefault(sub, alias)
        for sub in regions.get(code, ()):
            places[f"{code}-{sub}"] = f"{country}: {named.get(sub, sub)}"
    return places


def _holiday_class(code: str):
    import importlib

    from holidays.registry import COUNTRIES

    for module, (cls, country, *_) in COUNTRIES.items():
        if country == code:
            return getattr(importlib.import_module(f"holidays.countries.{module}"), cls)
    raise KeyError(code)


def check_country(country: str) -> str:
    """The code of a country ('DE') or of one of its regions ('DE-BY'), upper case, from a code
    or a name; GenlibError naming what to write instead.

    >>> check_country(" de "), check_country("de by"), check_country("Germany: Bayern")
    ('DE', 'DE-BY', 'DE-BY')
    """
    text = str(country or "").strip()
    code = re.sub(r"[\s_]+", "-", text.upper())
    by_code = {c.upper(): c for c in place_names()}          # regions such as DE-Augsburg
    if code in by_code:
        return by_code[code]
    by_name = {name.lower(): c for c, name in place_names().items()}
    if text.lower() in by_name:
        return by_name[text.lower()]
    head, _, region = code.partition("-")
    if head in country_names() and region:
        regions = [c for c in place_names() if c.startswith(f"{head}-")]
        listed = ", ".join(regions[:12]) + (" …" if len(regions) > 12 else "")
        what = (f"write one of {listed} (`python -m genlib holidays {head}` lists them)" if regions
                else f"its holidays are the same everywhere: write {head}")
        raise GenlibError(f"{country_names()[head]} has no region {region!r} with holidays of its "
                          f"own; {what}.")
    raise GenlibError(f"No public-holiday calendar for {text!r}: write the country's two-letter "
                      "code, such as US, GB, DE, FR, IN, BR or CN, or a region's, such as DE-BY or "
                      "US-CA (`python -m genlib holidays` lists them all).")


@functools.lru_cache(maxsize=64)
def _calendar(place: str, first: int, last: int) -> dict:
    """holiday_dates, cached: every series of a panel asks for the same years."""
    import holidays

    country, _, region = place.partition("-")
    raw = holidays.country_holidays(country, subdiv=region or None, years=range(first, last + 1))
    return {d: _BRACKETS.sub("", name).strip() for d, name in raw.items()}


# "(observed)", "(substituted from 02/11/2018)", "(estimated)": the same holiday, or kind of day
_BRACKETS = re.compile(r"\s*\((?:observed|estimated|[^)]*\d[^)]*)\)", re.IGNORECASE)


def holiday_dates(country: str, years: range) -> dict:
    """{date: holiday name} of one country's (or region's) public holidays in `years`, with
    "(observed)" and dated remarks dropped from names: an observed day shares its holiday's
    effect, and China's "Day off (substituted from 02/11/2018)" days are one kind of day.

    >>> import datetime
    >>> holiday_dates("US", range(2024, 2025))[datetime.date(2024, 12, 25)]
    'Christmas Day'
    """
    return dict(_calendar(check_country(country), int(years.start), int(years.stop) - 1))


def daily_or_finer(freq: Any) -> bool:
    """True when holidays apply to data of this frequency: days, business days, hours, minutes.

    >>> daily_or_finer("D"), daily_or_finer("h"), daily_or_finer("B"), daily_or_finer("MS"), daily_or_finer(1)
    (True, True, True, False, False)
    """
    if not isinstance(freq, str):
        return False
    try:
        off = offset(freq)
    except ValueError:
        return False
    if isinstance(off, _BUSINESS):
        return off.n == 1
    try:
        step = pd.Timedelta(off)
    except (TypeError, ValueError):
        return False
    return pd.Timedelta(0) < step <= pd.Timedelta(days=1) and pd.Timedelta(days=1) % step == pd.Timedelta(0)


def _sub_daily(freq: str) -> bool:
    off = offset(freq)
    return not isinstance(off, _BUSINESS) and pd.Timedelta(off) < pd.Timedelta(days=1)


def check_holidays(country: str, freq: Any) -> str:
    """The country's code when its public holidays can be used on data of frequency `freq`;
    DataError saying what to do otherwise (an unknown country, monthly or undated data).

    >>> check_holidays("de", "D")
    'DE'
    """
    code = check_country(country)
    if not daily_or_finer(freq):
        what = freq_words(freq) if isinstance(freq, str) else "numbered, without dates"
        raise DataError(f"Public holidays apply to daily or hourly data with dates; this data is "
                        f"{what}. Forecast it without public holidays.")
    return code


# ---- one series -------------------------------------------------------------------------------
def _wall(ds: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Time stamps as a clock on the wall reads them: a holiday is a local date."""
    return ds.tz_localize(None) if ds.tz is not None else ds


def _names_of(ds: pd.DatetimeIndex, calendar: dict) -> np.ndarray:
    """The holiday name of each time stamp's date ('' on ordinary days)."""
    if not calendar:
        return np.full(len(ds), "", dtype=object)
    where = pd.DatetimeIndex(list(calendar)).get_indexer(ds.normalize())
    return np.where(where >= 0, np.array(list(calendar.values()), dtype=object)[where], "")


class Effect:
    """What the holidays did to one series (step 2–4), and how to take it out and put it back."""

    def __init__(self, ds: pd.DatetimeIndex, y: np.ndarray, calendar: dict, week: int, hourly: bool):
        self.log = bool(np.all(y > 0))
        self.hourly = hourly
        z = np.log(y) if self.log else np.asarray(y, dtype=float)
        names = _names_of(ds, calendar)
        holiday = names != ""
        n = len(z)
        total, count = np.zeros(n), np.zeros(n)
        for j in (np.arange(n) - week, np.arange(n) + week):     # a week before, a week after
            ok = (j >= 0) & (j < n)
            ok[ok] &= ~holiday[j[ok]]
            total[ok] += z[j[ok]]
            count[ok] += 1
        valid = count > 0
        dev = z - total / np.maximum(count, 1)
        stamp = ds.to_numpy().astype("datetime64[ns]").view("int64")
        day, clock = stamp // _DAY_NS, stamp % _DAY_NS
        days, at = np.unique(day[valid], return_inverse=True)
        day_mean = np.bincount(at, weights=dev[valid]) / np.bincount(at)
        day_holiday = np.bincount(at, weights=holiday[valid]) > 0
        ordinary = day_mean[~day_holiday]
        seen = days[day_holiday]
        block = np.cumsum(np.diff(seen, prepend=seen[:1] - 2) > 1) - 1    # holidays in a row: one
        self.n_days = len(seen)
        self.n_blocks = len(np.unique(block))
        self.n_in_calendar = len(np.unique(day[holiday]))
        self.used = False
        self.effects: dict = {}
        self.mean = 0.0
        self.too_short = len(ordinary) < 10          # too few ordinary days to know chance
        if self.n_blocks < 2 or self.too_short:
            return
        spread = float(np.std(ordinary, ddof=1))
        # the χ² quantile from scipy.special: scipy.stats takes 2 s to import
        from scipy.special import chdtri

        block_mean = np.bincount(block, weights=day_mean[day_holiday]) / np.bincount(block)
        stat = float(np.sum((block_mean / spread) ** 2)) if spread > 0 else np.inf
        self.used = bool(stat > chdtri(self.n_blocks, 1 - CHANCE))
        if not self.used:
            return
        on = valid & holiday
        self.mean = float(dev[on].mean())
        keys, at = np.unique(clock[on] if hourly else names[on].astype(str), return_inverse=True)
        counts = np.bincount(at)
        means = np.bincount(at, weights=dev[on]) / counts
        noise = float(np.var(dev[valid & ~holiday], ddof=1)) / counts
        between = max(0.0, float(np.var(means, ddof=1)) - float(noise.mean())) if len(keys) > 1 else 0.0
        weight = between / (between + noise) if between > 0 else np.zeros(len(keys))
        own = weight * means + (1 - weight) * self.mean
        keys = [pd.Timedelta(int(k)) for k in keys] if hourly else [str(k) for k in keys]
        self.effects = dict(zip(keys, own.astype(float).tolist()))

    def shift(self, ds: pd.DatetimeIndex, calendar: dict) -> np.ndarray:
        """The effect at each time stamp, on the model's scale (0 on ordinary days)."""
        names = _names_of(ds, calendar)
        out = np.zeros(len(ds))
        if not self.used:
            return out
        keys = (ds - ds.normalize()) if self.hourly else names
        for i in np.flatnonzero(names != ""):
            out[i] = self.effects.get(keys[i], self.mean)
        return out

    def remove(self, y: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return y / np.exp(shift) if self.log else y - shift

    def apply(self, v: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return v * np.exp(shift) if self.log else v + shift

    def size_words(self) -> str:
        """The mean effect in plain words: '31 % lower' or '4.2 lower'."""
        if self.log:
            pct = (np.exp(self.mean) - 1) * 100
            return f"{abs(pct):.0f} % {'lower' if pct < 0 else 'higher'}"
        return f"{abs(self.mean):.3g} {'lower' if self.mean < 0 else 'higher'}"


# ---- the wrapper ------------------------------------------------------------------------------
class HolidayAdjusted(Wrapper):
    """`model`, fitted on each series with the public holidays of `country` taken out and
    forecasting them back in (module docstring). Daily or hourly data with dates only."""

    def __init__(self, model: Forecaster, country: str):
        self.model = model
        self.country = check_country(country)

    @property
    def freq(self):
        return self.model.freq

    def __getattr__(self, attr: str):         # auto's fitted state: explanation_, scores_, …
        if attr.startswith("__") or attr == "model":
            raise AttributeError(attr)
        return getattr(self.model, attr)

    def clone(self, **changes: Any) -> HolidayAdjusted:
        return HolidayAdjusted(self.model.clone(**changes), self.country)

    def get_params(self) -> dict[str, Any]:
        return {"model": self.model, "country": self.country}

    def fit(self, df: pd.DataFrame, *, callbacks: Sequence[Any] = (), stop_event: Any = None
            ) -> HolidayAdjusted:
        adjusted, self.effects_, self.freq_ = self._adjust(df)
        self.model = fit_with(self.model, adjusted, callbacks, stop_event)
        self.ids_ = list(self.effects_)
        return self

    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        self._check_fitted()
        return self._put_back(self.model.predict(h, levels), self.effects_)

    def predict_from(self, df: pd.DataFrame, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        adjusted, effects, _ = self._adjust(df)
        return self._put_back(self.model.predict_from(adjusted, h, levels), effects)

    def seconds_per_fit(self, df: pd.DataFrame, h: int) -> float | None:
        return self.model.seconds_per_fit(df, h)

    @property
    def notes_(self) -> dict[str, str]:
        """The model's own notes, then what the holidays did to each series."""
        own = dict(getattr(self.model, "notes_", None) or {})
        for uid, note in getattr(self, "holiday_notes_", {}).items():
            own[uid] = f"{own[uid]} {note}" if uid in own else note
        return own

    # -- the work -------------------------------------------------------------------------------
    def _adjust(self, df: pd.DataFrame) -> tuple[pd.DataFrame, dict, Any]:
        data = split_series(df, self.model.freq)
        check_holidays(self.country, data.freq)
        hourly = _sub_daily(data.freq)
        off = offset(data.freq)
        week = (season_length_for(data.freq) if isinstance(off, _BUSINESS) else hours.per_week(data.freq)
                if hours.is_open_hours(data.freq) else int(WEEK / pd.Timedelta(off)))
        effects, stamps, values = {}, [], []
        for uid, first, y in zip(data.ids, data.first_ds, data.values):
            stamped = date_stamps(first, len(y), data.freq)   # regular: split_series checks
            ds = _wall(stamped)
            calendar = _calendar(self.country, ds[0].year, ds[-1].year)
            effect = Effect(ds, np.asarray(y, dtype=float), calendar, week, hourly)
            effects[uid] = effect
            stamps.append(stamped)
            values.append(effect.remove(np.asarray(y, dtype=float), effect.shift(ds, calendar)))
        adjusted = pd.DataFrame({"unique_id": np.repeat(data.ids, [len(v) for v in values]),
                                 "ds": stamps[0].append(stamps[1:]), "y": np.concatenate(values)})
        return adjusted, effects, data.freq

    def _put_back(self, fc: pd.DataFrame, effects: dict) -> pd.DataFrame:
        fc = fc.copy()
        ds = _wall(pd.DatetimeIndex(fc["ds"]))
        calendar = _calendar(self.country, ds.min().year - 1, ds.max().year)
        columns = [c for c in fc.columns if c == "mean" or c.startswith(("lo-", "hi-"))]
        values = {c: fc[c].to_numpy(dtype=float, copy=True) for c in columns}
        notes = {}
        for uid, rows in fc.groupby("unique_id", sort=False).indices.items():
            effect = effects[uid]
            shift = effect.shift(ds[rows], calendar)
            notes[uid] = self._note(effect, ds[rows], shift, calendar)
            moved = rows[shift != 0]                   # other days keep the model's numbers exactly
            for c in columns:
                values[c][moved] = effect.apply(values[c][moved], shift[shift != 0])
        for c in columns:
            fc[c] = values[c]
        self.holiday_notes_ = notes
        return fc

    def _note(self, effect: Effect, future: pd.DatetimeIndex, shift: np.ndarray, calendar: dict) -> str:
        head = f"Public holidays ({place_names()[self.country].replace(': ', ', ')}):"
        if effect.n_in_calendar < 2:
            seen = "no holiday falls" if effect.n_in_calendar == 0 else "only one holiday falls"
            return f"{head} {seen} inside this series' dates, too few to measure their effect, so " \
                   "they were treated as ordinary days."
        if effect.n_blocks < 2 or effect.too_short:
            return (f"{head} this series is too short to compare its {effect.n_in_calendar} holiday "
                    "days with the same days a week before and after, so holidays were treated as "
                    "ordinary days.")
        if not effect.used:
            return (f"{head} on its {effect.n_days} holiday days this series differed from the same "
                    "days a week before and after no more than chance explains, so holidays were "
                    "treated as ordinary days.")
        moved = sorted({(d.date(), calendar[d.date()]) for d, s in zip(future, shift) if s != 0})
        where = ("no holiday falls inside the forecast." if not moved else
                 "the forecast takes that into account on " + _listed(
                     [f"{name} ({d.day} {d:%b %Y})" for d, name in moved]) + ".")
        return (f"{head} on its {effect.n_days} holiday days this series was on average "
                f"{effect.size_words()} than on the same days a week before and after, more than "
                f"chance explains; {where}")


def _listed(items: list[str], most: int = 4) -> str:
    from .explain import _and

    return _and(items[:most] + ([f"{len(items) - most} more"] if len(items) > most else []))
