"""The one sentence per series that says what `AutoForecaster` picked for it, and why.

    strong seasonal pattern every 12 months; Theta beat Seasonal naive (the simple baseline) by
    31 % when tested on the last 3 stretches of the series
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .base import season_words
from .baselines import repeat_words
from .linear import SEASONAL_STRENGTH_LIMIT, seasonal_strength
from .registry import MODELS
from .selection import MIDDLE, MIN_TRAIN, STEADY, SURE_WINDOWS, hedge


def title(label: str) -> str:
    """A candidate's name for people: the registry's title, else the label itself."""
    return MODELS[label].title if label in MODELS else label


# what a model's own words say when it forecast with a seasonal pattern its own test found (Theta's
# autocorrelation test, ETS's and ARIMA's information criterion, MSTL, seasonal differences)
SEASON_USED = ("season removed", "and a season", "a seasonal part", "patterns every", "over one season",
               "the last season plus")


def long_title(label: str, m: int, freq) -> str:
    """`title`, but the longer cycle's baseline says which cycle it repeats, as its own words in
    the same sentence do: "Seasonal naive (repeat the last week)", not "…, longer cycle".

        >>> long_title("seasonal_naive_long", 24, "h"), long_title("ets", 24, "h")
        ('Seasonal naive (repeat the last week)', 'Exponential smoothing (ETS)')
    """
    return repeat_words(m, freq) if label == "seasonal_naive_long" else title(label)


def uses_season(words) -> bool:
    """Whether any of the models' descriptions says it forecast with a seasonal pattern: then the
    sentence never calls the pattern absent, only weak (the model's own test found it).

        >>> uses_season(["Theta method (season removed first)"]), uses_season(["ETS with no trend and no season"])
        (True, False)
    """
    return any(key in w for w in words for key in SEASON_USED)


def explain(auto, uid: str, row: pd.Series, y: np.ndarray, m: int) -> str:
    """The sentence for series `uid` of a fitted AutoForecaster: its seasonal pattern, the model
    (or mean of models) it forecasts with, the backtest gain over the simple baseline, and what
    was kept, left out or stopped."""
    combo = auto.chosen_[uid]
    parts = []
    name = lambda label: long_title(label, m, auto.freq_)      # noqa: E731
    words = [auto.models_[c].describe(uid) for c in dict.fromkeys(combo)]
    if m > 1:
        strength = seasonal_strength(y, m)       # 0…1, after removing the trend
        kind = ("seasonal pattern" if strength > SEASONAL_STRENGTH_LIMIT else
                "weak seasonal pattern" if strength > 0.3 or uses_season(words) else
                "no clear seasonal pattern")
        parts.append(f"{kind} every {season_words(m, auto.freq_)}")
    what = words[0] if len(words) == 1 else "the mean of " + _and(words)
    kept = auto.kept_.get(uid)              # a hedge: half the kept baseline, half its rival
    pair = kept is not None and len(combo) > 1 and combo == hedge((kept[0],), kept[1])
    w = int(row["windows"])
    tests = f"tested on the last {w} stretch{'es' * (w > 1)} of the series"
    if w == 0:
        more = MIN_TRAIN + 1 - len(y)
        parts.append(f"the series is too short to compare models ({len(y)} values; "
                     f"{more} more needed), so {what} was used")
    elif uid in getattr(auto, "untested_steady_", ()):
        middle = combo == (MIDDLE,)
        parts.append(f"{what} was used: the series is too short to test "
                     f"{'it' if middle else _and(name(c) for c in combo)} on its own past ({len(y)} "
                     f"values), and on a short history {'this' if middle else 'their average'} "
                     "forecasts better than a pick")
        return "; ".join(parts + _left_out(auto))
    elif uid in auto.kept_ and (combo in (("seasonal_naive",), ("naive",)) or pair):
        pass                              # the kept sentence below says it all
    elif combo == ("seasonal_naive",) or not np.isfinite(row["improvement_pct"]):
        parts.append(f"{what} did best when {tests}")
    else:
        gain = row["improvement_pct"]
        verb = "beat" if gain >= 0.5 else ("matched" if gain > -0.5 else "was the best available, though behind")
        base = MODELS["seasonal_naive" if m > 1 else "naive"].title
        tail = f" by {abs(gain):.0f} %" if verb != "matched" else ""
        parts.append(f"{what} {verb} {base} (the simple baseline){tail} when {tests}")
    if uid in auto.kept_:
        kept, rejected, gain = auto.kept_[uid]
        names = [name("naive" if c == "seasonal_naive" and m <= 1 else c) for c in rejected]
        other = names[0] if len(names) == 1 else "the mean of " + _and(names)
        lead = f"{gain:.0f} % better" if gain >= 0.5 else "about as well"     # never "0 % better"
        chance = f"{other} scored {lead} in the backtest, within what chance gives on " \
                 f"{w} window{'s' * (w != 1)}"
        steady = getattr(auto, "steady_", STEADY)
        if getattr(auto, "thin_", False) and (len(combo) > 1 or combo == steady) and not pair and w < SURE_WINDOWS:
            chance = (f"{other} scored {lead} when {tests}, but a test this short "
                      + ("cannot show that the lead will last" if gain >= 0.5 else "cannot tell them apart"))
        if pair:
            parts.append(f"forecast as half {words[0]} and half {other}: "
                         f"{names[0] if len(names) == 1 else 'that mean'} scored {lead} "
                         f"when {tests}, within what chance gives on {w} windows, so neither is "
                         "trusted alone")
        else:
            parts.append(f"kept this forecast: {chance}, and the middle of three forecasts is the "
                         "steadier choice" if combo == (MIDDLE,) == steady else
                         f"kept {what}: {chance}" if len(combo) == 1 else
                         f"kept this average: {chance}, and averaging "
                         f"{_and(name(c) for c in combo)} is the steadier choice")
    elif uid in getattr(auto, "left_steady_", {}):       # a long series' windows showed it
        steady = getattr(auto, "steady_", STEADY)
        mean = "the middle of three forecasts" if steady == (MIDDLE,) else \
            f"the average of {_and(name(c) for c in steady)}"
        parts.append(f"it scored {auto.left_steady_[uid]:.0f} % better than {mean} on those {w} "
                     "stretches, more than chance explains, so it was used instead of that steadier "
                     f"{'forecast' if steady == (MIDDLE,) else 'average'}")
    elif len(combo) > 1 and w:
        single = auto.scores_.loc[uid, list(combo)].astype(float)
        best = single.idxmin()
        gain = 100 * (1 - row["score"] / single[best]) if single[best] > 0 else np.nan
        if auto.models_[best].capabilities.global_model and not gain > 0:       # selection.with_partner
            lead = 100 * (1 - single[best] / row["score"]) if row["score"] > 0 else 0.0
            parts.append(f"{name(best)} alone scored {f'{lead:.0f} % better' if lead >= 0.5 else 'about as well'}"
                         " in the backtest, but it never forecasts a series alone: its test comes from another "
                         "training than its forecast (on less history, from other random starting weights), so "
                         "its lead on one series is less sure than another model's")
        else:
            parts.append(f"averaging them scored {gain:.0f} % better in the backtest than "
                         f"{name(best)} alone (combinations cancel part of each model's errors)"
                         if np.isfinite(gain) and gain >= 0.5 else
                         "averaging them scored about as well as the best of them alone, with "
                         "less risk of one model's mistake")
    if w and getattr(auto, "metric_", {}).get(uid) != auto.metric:         # mostly 0: squared errors
        parts.append(f"the tests scored squared errors, since {100 * np.mean(np.asarray(y) == 0):.0f} % of "
                     "its values are 0 (the usual average error is smallest for a forecast of 0, which "
                     "says nothing about how much to expect)")
    return "; ".join(parts + _left_out(auto))


def _and(names) -> str:
    """["a", "b", "c"] → "a, b and c"."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _left_out(auto) -> list[str]:
    """What the time budget or a Stop left out, in words."""
    parts = []
    if auto.left_out_:
        parts.append(f"left out to stay within the {auto.budget_:.3g} s budget: " + ", ".join(
            f"{title(lb)} (about {c:.0f} s)" if np.isfinite(c) else title(lb)
            for lb, c in auto.left_out_.items()))
    if getattr(auto, "stopped_", None):
        parts.append("left out because its training was stopped: " + ", ".join(map(title, auto.stopped_)))
    return parts
