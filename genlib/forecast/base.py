"""What every forecaster shares: the long-table contract, capabilities, intervals.

A forecaster follows scikit-learn: the constructor stores hyperparameters, `fit(df)` returns
`self`, fitted state ends in `_`, and `predict(h, levels)` returns one table for every model:

    unique_id | ds | mean | lo-80 | hi-80 | lo-95 | hi-95      (one lo/hi pair per level, in order)

`df` is the long table `genlib.load_series` produces: `unique_id` (str), `ds` (datetime64 or
integer), `y` (float), one row per series and time step, no gaps and no missing values.

A subclass writes two small methods on plain arrays and gets the checks and the table for free:

    _fit_arrays(series: list of 1-D float arrays, m: season length)   -> sets fitted state
    _predict_arrays(h, levels) -> (mean S×h, lo S×L×h, hi S×L×h)

>>> import numpy as np, pandas as pd
>>> from genlib.forecast.baselines import Naive
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01", periods=24, freq="MS"),
...                    "y": np.arange(24.0)})
>>> Naive().fit(df).predict(2).columns.tolist()
['unique_id', 'ds', 'mean', 'lo-80', 'hi-80', 'lo-95', 'hi-95']
"""
from __future__ import annotations

import dataclasses
import inspect
import warnings
from statistics import NormalDist
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from ..errors import DataError, GenlibError
from ..freq import check_freq, step_after
from ..freq import future_ds, infer_freq, season_length_for, season_words  # noqa: F401 (re-exported)


# ---- capabilities ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a model can do, as data: the app greys out what a model cannot do instead of failing.

    >>> Capabilities(min_length=lambda m: 2 * m).minimum(12)
    24
    >>> Capabilities(min_length=lambda m, freq=None: m if freq else 2 * m).minimum(12, "MS")
    12
    """

    intervals: bool = True              # predict gives lo/hi bands (False: NaN bands)
    trains_network: bool = False        # trains a neural network (slower; runs as an app job)
    min_length: int | Callable[..., int] = 2   # fewest observations per series: int, f(season length)
                                               # or f(season length, freq) where the data's freq matters
    uses_season: bool = False           # reads season_length (a page can show that field)
    per_series: bool = False            # fits each series on its own, never pooling them: a
                                        # backtest fits all its windows as one panel (backtest.py)
    global_model: bool = False          # one model learned from every series, which forecasts any
                                        # history without refitting (`predict_from`): a backtest
                                        # trains it once, before its first window (backtest.py)
    min_series: int = 1                 # auto tries it only on panels of at least this many series
    multi_season: bool = False          # models several seasonal patterns: auto tries it only for
                                        # frequencies that have two (hourly, daily: mstl.py)

    def minimum(self, season_length: int, freq: Any = None) -> int:
        """The fewest observations a series needs for this model, for a given season length (and
        the data's frequency, where known: a day of opening hours has no week-long cycle)."""
        f = self.min_length
        if not callable(f):
            return int(f)
        takes_freq = len(inspect.signature(f).parameters) > 1
        return int(f(int(season_length), freq) if takes_freq else f(int(season_length)))


# ---- the long table ----------------------------------------------------------------------------
@dataclasses.dataclass
class SeriesSet:
    """The long table split into arrays: what `fit` hands to the math."""

    ids: list[str]                     # unique_id of each series, sorted
    values: list[np.ndarray]           # float64 observations of each series, oldest first
    first_ds: list[Any]                # first time stamp of each series
    last_ds: list[Any]                 # last time stamp of each series
    freq: Any                          # pandas alias or integer step


def split_series(df: pd.DataFrame, freq: Any = None, *, check_gaps: bool = True) -> SeriesSet:
    """Check the long table (unique_id, ds, y) and split it into one array per series.

    Raises DataError with the fix when a column is missing, values are missing or not numbers,
    time stamps repeat, or a series has gaps.

    >>> s = split_series(pd.DataFrame({"unique_id": ["a"] * 3, "ds": [1, 2, 3], "y": [1., 2, 3]}))
    >>> s.ids, s.values[0].tolist(), s.freq
    (['a'], [1.0, 2.0, 3.0], 1)
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError("Forecasters take a pandas DataFrame with columns unique_id, ds and y "
                        f"(got {type(df).__name__}); genlib.load_series makes one from a file.")
    missing = [c for c in ("unique_id", "ds", "y") if c not in df.columns]
    if missing:
        raise DataError(f"The series table lacks the column(s) {missing}: it needs unique_id, ds "
                        "and y, one row per series and time step (genlib.load_series makes it).")
    if len(df) == 0:
        raise DataError("The series table is empty: give at least one series with a few values.")
    frame = df[["unique_id", "ds", "y"]].copy()
    frame["unique_id"] = frame["unique_id"].astype(str)
    if not pd.api.types.is_numeric_dtype(frame["y"]):
        y = pd.to_numeric(frame["y"], errors="coerce")
        bad = frame.loc[y.isna() & frame["y"].notna(), "y"].head(3).tolist()
        raise DataError(f"Column y must hold numbers; it holds text such as {bad}. Clean the "
                        "column or load the file with genlib.load_series.")
    frame["y"] = frame["y"].astype(np.float64)
    bad = ~np.isfinite(frame["y"].to_numpy())
    if bad.any():
        ids = frame.loc[bad, "unique_id"].unique()
        raise DataError(f"{int(bad.sum())} value(s) of y are missing or infinite (series "
                        f"{_names(ids)}). Fill them first, e.g. load_series(..., fill='interpolate').")
    ds = frame["ds"]
    if not (pd.api.types.is_datetime64_any_dtype(ds) or pd.api.types.is_integer_dtype(ds)):
        raise DataError(f"Column ds must hold dates (datetime64) or integer steps; it has type "
                        f"{ds.dtype}. Convert it with pd.to_datetime, or load with load_series.")
    if ds.isna().any():
        raise DataError("Column ds has missing time stamps; every row needs one.")
    frame = frame.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
    uid = frame["unique_id"].to_numpy()
    new = np.r_[True, uid[1:] != uid[:-1]]
    t_all = frame["ds"].to_numpy()
    dup = ~new[1:] & (t_all[1:] == t_all[:-1])
    if dup.any():
        ids = np.unique(uid[1:][dup])
        raise DataError(f"Series {_names(ids)} have the same time stamp twice; keep one row per "
                        "series and time step (sum or average the duplicates first).")
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(frame)]
    t = frame["ds"]
    if freq is None:
        k = int(np.argmax(ends - starts))
        freq = infer_freq(t.iloc[starts[k]:ends[k]])
    elif not isinstance(freq, (int, np.integer)):
        if pd.api.types.is_integer_dtype(ds):
            raise DataError(f"freq={freq!r} is a calendar frequency but ds holds integers; "
                            "leave freq=None (or give the integer step).")
        if str(freq).upper().startswith("C-") or "@" in str(freq):
            freq = check_freq(freq)               # open days or hours; its error says how to write them
        else:
            try:
                freq = to_offset(freq).freqstr
            except (ValueError, TypeError):
                raise DataError(f"freq={freq!r} is not a pandas frequency; use one such as 'h', 'D', "
                                "'W-SUN', 'MS' or 'QS'.") from None
    if check_gaps:
        _check_regular(t, starts, uid, freq)
    y = frame["y"].to_numpy(np.float64)
    return SeriesSet([str(uid[a]) for a in starts], [y[a:b] for a, b in zip(starts, ends)],
                     [t.iloc[a] for a in starts], [t.iloc[b - 1] for b in ends], freq)


def _check_regular(t: pd.Series, starts: np.ndarray, uid: np.ndarray, freq: Any) -> None:
    """Each step inside a series must be exactly one `freq` (checked for all series at once)."""
    if len(t) < 2:
        return
    if isinstance(freq, (int, np.integer)):
        if not pd.api.types.is_integer_dtype(t):
            raise DataError("freq is an integer step but ds holds dates; leave freq=None.")
        v = t.to_numpy(np.int64)
        ok = v[1:] == v[:-1] + int(freq)
    else:
        idx = pd.DatetimeIndex(t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # non-vectorised offsets warn about speed
            ok = np.asarray(idx[1:] == step_after(idx[:-1], freq))
    ok[starts[1:] - 1] = True                        # the step from one series to the next
    if not ok.all():
        bad = str(uid[int(np.argmin(ok)) + 1])
        raise DataError(f"Series {bad!r} is not regular at frequency {freq!r}: time stamps are "
                        "missing or off the grid between its first and last date. Fill the gaps "
                        "(load_series(..., fill='interpolate') does) or pass the right freq=.")


def _names(ids: Sequence[Any], k: int = 3) -> str:
    ids = [str(i) for i in ids]
    more = f" and {len(ids) - k} more" if len(ids) > k else ""
    return ", ".join(repr(i) for i in ids[:k]) + more


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """Interval levels as a tuple of percentages strictly between 0 and 100."""
    if isinstance(levels, (int, float)):
        levels = (levels,)
    out = tuple(float(lv) for lv in levels)
    for lv in out:
        if not 0 < lv < 100:
            raise GenlibError(f"An interval level is a percentage between 0 and 100 (e.g. 80 or "
                              f"95); got {lv:g}.")
    return out


def check_horizon(h: Any) -> int:
    """The horizon as a positive int."""
    try:
        h_int = int(h)
    except (TypeError, ValueError):
        raise GenlibError(f"The horizon h must be a whole number of steps; got {h!r}.") from None
    if h_int < 1 or h_int != h:
        raise GenlibError(f"The horizon h must be a whole number of steps, at least 1; got {h!r}.")
    return h_int


def level_name(level: float) -> str:
    """80 → '80', 97.5 → '97.5': the suffix of the lo-/hi- columns."""
    return str(int(level)) if float(level).is_integer() else f"{level:g}"


def z_value(level: float) -> float:
    """Two-sided normal quantile: 80 → 1.2816, 95 → 1.9600."""
    return NormalDist().inv_cdf(0.5 + level / 200.0)


def gaussian_bands(mean: np.ndarray, sd: np.ndarray, levels: Sequence[float]):
    """lo, hi (S×L×h) of normal bands mean ± z·sd for each level."""
    z = np.array([z_value(lv) for lv in levels])[None, :, None]
    return mean[:, None, :] - z * sd[:, None, :], mean[:, None, :] + z * sd[:, None, :]


def floors(values: Sequence[np.ndarray]) -> np.ndarray:
    """Per series, what its forecast and bands stay above: 0 for a count or an amount (never
    below 0, and 0 at least once: a product's daily sales, visits), else -inf (a temperature).

    >>> floors([np.array([0., 2, 5]), np.array([3., 4]), np.array([-1., 0])]).tolist()
    [0.0, -inf, -inf]
    """
    return np.array([0.0 if len(v) and np.nanmin(v) == 0 else -np.inf for v in values])


def forecast_frame(ids: Sequence[str], last_ds: Sequence[Any], freq: Any, mean: np.ndarray,
                   lo: np.ndarray, hi: np.ndarray, levels: Sequence[float],
                   floor: np.ndarray | None = None) -> pd.DataFrame:
    """The one output table: unique_id, ds, mean, lo-L, hi-L for each level (S×h arrays in),
    each series' values raised to its `floor` where one is given (`floors`)."""
    if floor is not None and len(floor) == len(mean):
        mean, lo, hi = np.maximum(mean, floor[:, None]), np.maximum(lo, floor[:, None, None]), \
            np.maximum(hi, floor[:, None, None])
    S, h = mean.shape
    out = pd.DataFrame({
        "unique_id": np.repeat(np.asarray(ids, dtype=object), h),
        "ds": np.concatenate([future_ds(d, h, freq) for d in last_ds]) if S else [],
        "mean": mean.reshape(S * h),
    })
    for j, lv in enumerate(levels):
        out[f"lo-{level_name(lv)}"] = lo[:, j, :].reshape(S * h)
        out[f"hi-{level_name(lv)}"] = hi[:, j, :].reshape(S * h)
    return out


# ---- the base class ----------------------------------------------------------------------------
class Forecaster:
    """Base of every forecaster: checks the table, resolves freq and season length, builds output.

    Subclasses set `name`, `title`, `capabilities`, store hyperparameters in `__init__`, and
    implement `_fit_arrays` / `_predict_arrays` (or override `fit` / `predict` entirely).
    """

    name: ClassVar[str] = "forecaster"                  # registry name
    title: ClassVar[str] = "Forecaster"                 # plain-words name for pages
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, season_length: int | None = None, freq: Any = None):
        self.season_length = season_length   # seasonal period; None → from freq (season_length_for)
        self.freq = freq                     # pandas alias or integer step; None → from ds

    # -- scikit-learn plumbing --------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor arguments as stored (scikit-learn style)."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters
                if k != "self" and sig.parameters[k].kind not in (inspect.Parameter.VAR_KEYWORD,
                                                                  inspect.Parameter.VAR_POSITIONAL)
                and hasattr(self, k)}

    def set_params(self, **params: Any) -> "Forecaster":
        for k, v in params.items():
            if k not in self.get_params():
                raise GenlibError(f"{type(self).__name__} has no setting {k!r}; settings are "
                                  f"{sorted(self.get_params())}.")
            setattr(self, k, v)
        return self

    def clone(self, **changes: Any) -> "Forecaster":
        """A fresh unfitted copy with the same hyperparameters (changed where given)."""
        return type(self)(**{**self.get_params(), **changes})

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = [f"{k}={v!r}" for k, v in self.get_params().items()
                 if sig.parameters[k].default is inspect.Parameter.empty
                 or not _same(v, sig.parameters[k].default)]
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- fit / predict ----------------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> "Forecaster":
        """Fit every series of the long table `df` (unique_id, ds, y); returns self."""
        data = split_series(df, self.freq)
        m = resolve_season_length(self.season_length, data.freq)
        check_min_length(self, data.ids, data.values, m, data.freq)
        self._keep_fitted(data, m)
        self._fit_arrays(data.values, m)
        return self

    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        """Forecast h steps after each series' last time stamp, with intervals at `levels` %."""
        self._check_fitted()
        h = check_horizon(h)
        levels = check_levels(levels)
        mean, lo, hi = self._predict_arrays(h, levels)
        return forecast_frame(self.ids_, self.last_ds_, self.freq_, mean, lo, hi, levels, getattr(self, "floor_", None))

    def min_history(self, h: int, season_length: int) -> int:
        """The fewest values a series needs to be fitted and forecast h steps ahead (a network
        also needs room for its input window and a few training windows)."""
        return self.capabilities.minimum(season_length, getattr(self, "freq", None))

    def predict_from(self, df: pd.DataFrame, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        """Forecast h steps after the end of each series of `df`, with the model as fitted (no
        refit). Only models with `capabilities.global_model` can; the others raise GenlibError."""
        raise GenlibError(f"{self.title} fits each series it forecasts; fit it on these series "
                          "instead.")

    def seconds_per_fit(self, df: pd.DataFrame, h: int) -> float | None:
        """Projected seconds of `fit(df)` + `predict(h)`, when the model can say it cheaply (a
        network: a few timed steps × the steps it will train); None: time a fit instead."""
        return None

    def describe(self, unique_id: str) -> str:
        """A few words on what was fitted to one series (used in the auto explanation)."""
        return self.title

    def _check_fitted(self) -> None:
        if not hasattr(self, "ids_"):
            raise GenlibError(f"This {type(self).__name__} is not fitted yet: call fit(df) before "
                              "predict(h).")

    def _keep_fitted(self, data: SeriesSet, m: int) -> None:
        """The fitted state every forecaster keeps about the series it saw."""
        self.ids_ = data.ids
        self.last_ds_ = data.last_ds
        self.freq_ = data.freq
        self.season_length_ = m
        self.n_obs_ = np.array([len(v) for v in data.values])
        self.floor_ = floors(data.values)                 # 0 for counts and amounts: never forecast below
        self.notes_: dict[str, str] = {}

    def _fit_arrays(self, series: list[np.ndarray], m: int) -> None:
        raise NotImplementedError

    def _predict_arrays(self, h: int, levels: Sequence[float]):
        raise NotImplementedError


class Wrapper(Forecaster):
    """A forecaster around another one, `self.model` (frozen.Frozen, calendar.HolidayAdjusted):
    named, titled, capable and as long-needing as the model it wraps, and described by it."""

    model: Forecaster

    @property
    def name(self) -> str:                    # tables and auto label a model by its name
        return self.model.name

    @property
    def title(self) -> str:
        return self.model.title

    @property
    def capabilities(self) -> Capabilities:
        return self.model.capabilities

    @property
    def season_length(self) -> int | None:
        return self.model.season_length

    def min_history(self, h: int, season_length: int) -> int:
        return self.model.min_history(h, season_length)

    def describe(self, unique_id: str) -> str:
        return self.model.describe(unique_id)


def fit_with(model: "Forecaster", df: pd.DataFrame, callbacks: Sequence[Any] = (),
             stop_event: Any = None) -> "Forecaster":
    """`model.fit(df)`, handing progress `callbacks` and a `stop_event` to a fit that takes them
    (a network's, and auto's, which passes them on to its network): that training reports its
    steps and stops when the event is set. Other models fit in one go."""
    if (callbacks or stop_event is not None) and "stop_event" in inspect.signature(model.fit).parameters:
        return model.fit(df, callbacks=callbacks, stop_event=stop_event)
    return model.fit(df)


def resolve_season_length(season_length: int | None, freq: Any) -> int:
    """The season length to use: the one given (checked), else the usual one for the frequency."""
    if season_length is None:
        return season_length_for(freq)
    if int(season_length) != season_length or season_length < 1:
        raise GenlibError(f"season_length is the number of steps in one seasonal cycle (e.g. 12 "
                          f"for monthly data); it must be a whole number ≥ 1, not {season_length!r}.")
    return int(season_length)


def check_min_length(model: Any, ids: Sequence[str], values: Sequence[np.ndarray], m: int,
                     freq: Any = None) -> None:
    """Raise DataError naming the series that are too short for `model`, and the minimum."""
    need = model.capabilities.minimum(m, freq)
    short = [(uid, len(v)) for uid, v in zip(ids, values) if len(v) < need]
    if short:
        shown = ", ".join(f"{uid!r} ({n})" for uid, n in short[:3])
        more = f" and {len(short) - 3} more" if len(short) > 3 else ""
        raise DataError(f"{model.title} needs at least {need} observations per series (season "
                        f"length {m}); too short: {shown}{more}. Drop these series, give more "
                        "history, or pick a simpler model such as naive.")


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:   # arrays and other odd values: treat as changed
        return False
