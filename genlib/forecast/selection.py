"""Which candidates auto may pick for a panel: rules on the backtest scores of every series.

`plan_windows` is how many backtest windows a series affords; `overall_best` is the
all-series winner (the fallback of every per-series pick) and `overall_combo` the same with the
steady mean of Theta, AutoETS and the linear AR as a contender; `rarely_better` drops candidates
whose few per-series wins are chance. Pure functions (the last two on {series: {candidate:
score}} dicts), used by `auto.AutoForecaster`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..freq import longer_cycle

MIN_TRAIN = 8          # fewest observations before the first backtest cutoff
# the steady default: the mean of Theta, AutoETS and the linear AR. A pick among a dozen models
# and averages on three backtest windows is mostly noise on short series. On all 3,003 M3 series,
# each fitted alone (relative MASE, geometric mean): Theta 0.763, ETS 0.748, AR 0.770, Theta+ETS
# 0.731, Theta+ETS+AR 0.717 (AR's errors differ most from the other two); with ETS's initial states
# estimated, ETS 0.734 and Theta+ETS+AR 0.714, still the best mean of one to three of Theta, ETS,
# AR, naive and drift. It is the all-series winner where the data have one seasonal cycle and it
# scores best over all series, and on thin
# evidence (fewer than THIN series × windows) every series keeps it: on four draws of 120 M3 files
# forecast one at a time (bench/forecast_single.py) a series left it 8 times for a model that beat
# it at 99 % confidence on its 3 windows, and 7 of the 8 forecast worse (auto with leaving: 0.732,
# 0.727, 0.714, 0.653; keeping it: 0.724, 0.705, 0.711, 0.653; statsforecast AutoETS 0.723, 0.702,
# 0.693, 0.740). M3 panels: README "All of M3".
STEADY = ("theta", "ets", "ar")
# …and where the data have no seasonal period (yearly, undated) the middle of ETS, AR and naive
# instead (middle.py has the figures): auto adds that model where the steady mean is every series'
# default (one upload) and m = 1.
MIDDLE = "middle"
# on thin evidence a series whose rival beat the kept baseline by no more than chance is forecast
# half by each (`hedge`): one file at a time (bench/forecast_single.py), relative MASE keeping the
# baseline → switching to the rival → hedging: 80 hourly stretches 0.864 → 0.847 → 0.850, a
# second draw 1.023 → 0.997 → 1.006; 80 daily stretches 0.731 → 0.729 → 0.724, a second draw
# 0.866 → 0.873 → 0.859; the 414 M4 Hourly series 0.634 → 0.620 → 0.625. Only hedging helped all.
SIMPLE = ("seasonal_naive", "naive")   # left only on more than chance (the thin-evidence rule)
RARE, RARE_PANEL = 0.1, 10   # a candidate as good as seasonal naive on fewer than 10 % of a
                             # panel (≥ 10 series) is not picked: its few wins are chance


def candidate_label(candidate: Any) -> str:
    """How auto labels a candidate: a registry name as given, a forecaster by its name."""
    return candidate if isinstance(candidate, str) else getattr(candidate, "name", type(candidate).__name__)


def rarely_better(scores: dict[str, dict[str, float]], tested: Sequence[str],
                  reference: str = "seasonal_naive") -> dict[str, float]:
    """Candidates that score at least as well as `reference` on fewer than RARE of the tested
    series: label → that share.

    Their few per-series wins are chance (naive and drift on M4 Hourly do as well as seasonal
    naive on 2 % of the series and are 9 times worse on average), so auto does not pick them.
    A tie counts for the candidate (with m = 1 naive is seasonal naive). Only measured on panels
    of at least RARE_PANEL series: one series cannot say a win is rare.

    >>> panel = {f"s{i}": {"seasonal_naive": 1.0, "naive": 3.0 - 2.5 * (i == 0), "ar": 0.5}
    ...          for i in range(20)}
    >>> rarely_better(panel, list(panel))
    {'naive': 0.05}
    """
    if len(tested) < RARE_PANEL:
        return {}
    labels = {lb for u in tested for lb in scores[u]} - {reference}
    out = {}
    for lb in sorted(labels):
        both = [scores[u] for u in tested if lb in scores[u] and reference in scores[u]]
        share = float(np.mean([per[lb] <= per[reference] for per in both])) if both else 1.0
        if share < RARE:
            out[lb] = share
    return out


def overall_best(scores: dict[str, dict[str, float]], order: dict[str, int]) -> str | None:
    """The candidate with the lowest mean score over the series where every candidate scored.

    >>> overall_best({"a": {"x": 1.0, "y": 2.0}, "b": {"x": 3.0, "y": 1.0}}, {"x": 0, "y": 1})
    'y'
    """
    labels = sorted({lb for per in scores.values() for lb in per}, key=lambda lb: order.get(lb, 99))
    full = [per for per in scores.values()
            if all(np.isfinite(per.get(lb, np.nan)) for lb in labels)]
    if not full or not labels:
        return None
    means = {lb: float(np.mean([per[lb] for per in full])) for lb in labels}
    return min(labels, key=lambda lb: (means[lb], order.get(lb, 99)))


def steady_mean(labels, m: int, pickable: dict | None = None, tested: Sequence[str] = ()) -> tuple[str, ...]:
    """The steady default with the candidates at hand: (MIDDLE,) where it is one of `labels`, the
    season length m is 1 and it was scored (`pickable`: series → {label: score}) on every
    `tested` series the three were; else STEADY.

    >>> steady_mean(["ar", "theta", "ets", "middle"], 1), steady_mean(["ar", "theta", "ets", "middle"], 4)
    (('middle',), ('theta', 'ets', 'ar'))
    >>> steady_mean(["ar", "theta", "ets", "middle"], 1, {"a": {"ar": 1, "theta": 1, "ets": 1}}, ["a"])
    ('theta', 'ets', 'ar')
    """
    scored = pickable is None or all(MIDDLE in pickable[u] for u in tested
                                     if all(lb in pickable[u] for lb in STEADY))
    return (MIDDLE,) if MIDDLE in labels and m == 1 and scored else STEADY


def one_cycle(m: int, freq, values) -> bool:
    """Whether data show one seasonal cycle: their frequency has no longer one (monthly data,
    opening hours), or a few series (one upload) too short to see it show a seasonal pattern
    (a shop's daily sales for less than a year and a week: the week is all there is to learn;
    `freq.longer_cycle`). Data of one cycle get the steady mean as their default, as monthly data
    do. Short daily files without a weekly pattern (exchange rates) keep the naive baselines.

    >>> week = np.tile([1., 1, 1, 1, 1, 3, 4], 20) + np.random.default_rng(0).normal(0, .3, 140)
    >>> one_cycle(12, "MS", []), one_cycle(7, "D", [week]), one_cycle(7, "D", [np.r_[week, week, week]])
    (True, True, False)
    """
    from .linear import seasonal_strength

    longer = longer_cycle(m, freq)
    return not longer or (0 < len(values) < FEW_SERIES and max(len(v) for v in values) < longer + m
                          and all(seasonal_strength(v, m) > SEASONAL_AT_ALL for v in values))


def steady_is_default(plans: Sequence[tuple[int, int]], thin: int) -> bool:
    """Whether the backtest `plans` ((h, windows) per series) make a thin panel, where the steady
    default is every series' forecast: fewer than `thin` (calibrate.THIN) windows in all.

    >>> steady_is_default([(6, 3)], 30), steady_is_default([(6, 3)] * 10, 30)
    (True, False)
    """
    return sum(w for h, w in plans if h > 0) < thin


def overall_combo(tested, pickable, order, window_scores, thin: bool, one_cycle: bool,
                  steady: tuple = STEADY) -> tuple | None:
    """The all-series winner as a combo: the best single candidate over all series, or the
    steady default (`steady`: steady_mean of the candidates) where the data have `one_cycle` (Theta
    and ETS cannot follow a second, as hourly and daily data have) and it scored better over all
    series or the evidence is `thin`. window_scores(uid, combo) gives a combo's per-window scores
    on a series."""
    best = overall_best(pickable, order)
    overall = (best,) if best is not None else None
    full = [u for u in tested if all(lb in pickable[u] for lb in steady)]
    if not one_cycle or not full or (thin and len(full) < len(tested)):
        return overall
    if thin or overall is None:
        return steady
    full = [u for u in full if best in pickable[u]]
    pooled = {c: np.mean([np.mean(window_scores(u, c)) for u in full]) for c in (overall, steady)}
    return steady if full and pooled[steady] < pooled[overall] else overall


def hedge(kept: tuple, rejected: tuple) -> tuple:
    """Half the kept baseline, half the mean of its rival, as one combo: the baseline repeated
    once per rival member (every mean over a combo's members then weighs it a half; a rival
    that averages in the baseline too gives it the rest of its share).

    >>> hedge(("naive",), ("ar", "theta"))
    ('naive', 'naive', 'ar', 'theta')
    """
    return kept * len(rejected) + rejected


def with_partner(best: tuple, ranked: Sequence[str], is_global, order: dict[str, int]) -> tuple:
    """A network learned from every series (`is_global(label)`) never forecasts a series alone:
    `best`, when it is that network alone, becomes its mean with the best other candidate of
    `ranked` (the series' single candidates, best first). The network's backtest comes from
    another training than its forecast (on less history, from other random starting weights), so
    its lead on one series transfers less than a per-series model's. M4 Hourly, three seeds of the
    network: auto's sMAPE 9.25 / 8.83 / 9.54 alone (MASE 0.777 / 0.743 / 0.778), 8.90 / 9.01 / 9.03
    paired (0.755 / 0.762 / 0.763); Weekly 6.09 / 6.09 / 6.15 → 6.06 / 6.06 / 6.07.

        >>> with_partner(("net",), ["net", "ar", "ets"], lambda lb: lb == "net", {"ar": 0, "net": 5})
        ('ar', 'net')
    """
    if len(best) != 1 or not is_global(best[0]) or len(ranked) < 2:
        return best
    partner = next(lb for lb in ranked if lb != best[0])
    return tuple(sorted((best[0], partner), key=lambda lb: order.get(lb, 99)))


# Short daily data of a few series (an upload) whose weekly pattern has a strength above
# SEASONAL_AT_ALL (explain.py's "weak seasonal pattern") count as one cycle (`one_cycle`): on 40
# simulated shops of 50 to 119 days (bench/forecast_single.py --kind shops --count 40) auto's
# relative MASE went 0.845 → 0.802; none of the 80 daily ETT and exchange-rate stretches of
# either draw that are that short has a weekly pattern so strong, so they forecast as before.
FEW_SERIES, SEASONAL_AT_ALL = 30, 0.3

# One upload gives three backtest windows, too few to show that a rival's lead over the steady
# mean will last (above), but a long series has room for more. A thin panel's series are tested
# on up to MORE_WINDOWS windows from their second half, and one tested on SURE_WINDOWS or more
# leaves the steady mean for a rival that beats it there by more than chance. Eleven classic
# series uploaded one at a time (bench/forecast_single.py --kind classic: sunspots, CO2, …):
# relative MASE 0.801 → 0.668 (sunspots' 11-year swings and the weekly CO2 readings went to the
# linear AR, which follows them; Theta and ETS cannot); the M3 draws, whose series are short
# (3 to 6 windows), forecast as before (0.728, 0.698, 0.705, 0.646 on draws 0–3).
DEFAULT_WINDOWS = 3    # windows="auto": 3 a series, more on one upload (more_windows)
MORE_WINDOWS = 12
SURE_WINDOWS = 6


def base_windows(windows: int | str) -> int:
    """Backtest windows of a series on a panel: `windows`, or DEFAULT_WINDOWS for "auto"."""
    return DEFAULT_WINDOWS if windows == "auto" else int(windows)


def window_plans(lengths: Sequence[int], h: int, windows: int | str, one_cycle: bool, thin: int) -> list:
    """(h, windows) of each series: base_windows(windows), or with "auto" on data with one
    seasonal cycle, more_windows where a series of a thin panel is long (hourly and daily data
    have no steady mean to leave and keep the base: more windows did worse on daily uploads)."""
    base, more = base_windows(windows), windows == "auto" and one_cycle
    return [plan_windows(n, h, more_windows(n, h, base, len(lengths), thin) if more else base)
            for n in lengths]


def more_windows(n: int, h: int, windows: int, n_series: int, thin: int) -> int:
    """Backtest windows for a series of n values: `windows`, or on a thin panel (n_series ×
    windows < thin: one upload) as many as fit in the second half of the series, up to
    MORE_WINDOWS, so that a long series gives real evidence and a short one is tested as before.

    >>> more_windows(2199, 26, 3, 1, 30), more_windows(126, 18, 3, 1, 30), more_windows(2199, 26, 3, 100, 30)
    (12, 3, 3)
    """
    if n_series * windows >= thin:
        return windows
    return max(windows, min(MORE_WINDOWS, int(n / 2) // max(h, 1)))


def plan_windows(n: int, h: int, windows: int, need: int = MIN_TRAIN) -> tuple[int, int]:
    """(h, windows) a series of length n can afford, keeping `need` values before the first cutoff.

    Fewer windows first, then a shorter horizon; (0, 0) when not even one step can be tested.

    >>> plan_windows(100, 12, 3), plan_windows(30, 12, 3), plan_windows(9, 4, 3)
    ((12, 3), (12, 1), (1, 1))
    """
    w = windows
    while w > 1 and n - w * h < need:
        w -= 1
    if n - w * h < need:
        h = (n - need) // w
    return (h, w) if h >= 1 else (0, 0)


# Intermittent series (sales of one product a day: mostly 0) are scored by squared errors
# (RMSSE, as M5 scored them) when the metric is MASE: the absolute error is smallest for the
# median, 0, and backtests picked repeating yesterday's 0. An average interval between non-zero
# values of 1.32 or more is intermittent (Syntetos, Boylan & Croston 2005).
INTERMITTENT_ADI = 1.32


def intermittent(y: np.ndarray) -> bool:
    """A series of counts or amounts that is 0 most of the time (`INTERMITTENT_ADI`): never
    below 0, and on average 1.32 steps or more from one non-zero value to the next.

    >>> intermittent(np.array([0., 3, 0, 0, 1, 0, 2, 0, 0, 0])), intermittent(np.array([5., 3, 0, 4, 1]))
    (True, False)
    """
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    nonzero = np.count_nonzero(y)
    return bool(len(y) >= 8 and (y >= 0).all() and nonzero and len(y) / nonzero >= INTERMITTENT_ADI)
