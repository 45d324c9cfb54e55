"""Interval calibration and the noise test of AutoForecaster: pure functions on backtest arrays.

Calibration (split conformal, per horizon step). For each band level and each step k ahead,
the factor c_k by which the chosen model's bands must be scaled around its mean so that the
share of backtest actuals inside equals the level: the ⌈(n+1)·level⌉-th smallest band ratio
(Vovk et al. 2005; Angelopoulos & Bates 2023). Steps are calibrated apart because a model can
get the growth of its bands wrong (step 1 errors are smaller than step h).

Three rules keep the factors honest:

1. No selection bias. The winner of a selection looks better on the windows that chose it than
   it will on the future, so its own errors there are too small. Each window is scored with the
   model the selection rule picks from the *other* windows (leave one window out: the error of
   the whole procedure, selection included, as on the future). Where that is impossible (one
   window) the chosen model's own errors are used, and rule 3 guards them.
2. Enough points. A step with fewer than MIN_POINTS ratios borrows the ratios of all steps. A
   small panel (fewer than THIN independent windows, e.g. one series) is backtested again
   with DENSE_WINDOWS windows close together (as many as the series allows) to resolve the
   factor per step: one step apart, or further where that would span fewer than SPAN_CYCLES
   seasonal cycles (`dense_step`). 40 hourly windows one step apart span 87 hours, errors so
   alike that the bands came out narrow: on one-file hourly stretches (bench/forecast_single.py
   --kind hourly, two draws) the 80 % / 95 % bands held 76.4 / 90.1 % and 75.4 / 89.2 %, and
   81.2 / 94.5 % and 77.8 / 91.8 % with the windows 4 hours apart (a week). Spreading every
   kind of data as far as it allows would have widened daily bands past their level too (80 %
   band 83.4 → 87.4 %); 40 daily windows already span 7 weeks and stay one step apart.
3. Biased evidence never shrinks. Where a thin panel (fewer than THIN series × windows) had one
   backtest window per series, rule 1 cannot apply: the ratios are the chosen model's errors on
   the window that chose it, too small, so a factor below 1 is not trusted there and the model's
   own bands are kept (c = max(1, fitted)); widening is still applied. With honest windows (rule
   1), or a panel of THIN windows or more, the factor may shrink the bands. It once never shrank
   on any thin panel; measured on one-file uploads (bench/forecast_single.py, 80 % band held,
   never-shrink → shrink): 80 daily stretches 91.5 % → 83.4 %, 80 hourly stretches 90.0 % → 76.6 %,
   414 M4 Hourly series 90.0 % → 79.3 %, four draws of 120 M3 files 85.1 / 85.9 / 81.2 / 80.6 % →
   83.6 / 84.1 / 79.6 / 78.7 %; point forecasts unchanged.

Noise test (thin evidence in the choice). With W windows, the paired per-window differences
d_w = score(simple) − score(candidate) estimate the candidate's gain with a standard error
sd(d)/√W. The candidate replaces the simpler model only when mean(d) > t·SE, t the one-sided
CONFIDENCE quantile of Student's t with W − 1 degrees of freedom (1.06 for 3 windows): a
27 % backtest win whose window scores spread widely is within what chance gives.

>>> round(conformal_factor(np.linspace(0.05, 2, 40), 80), 2)
1.65
>>> beats_by_more_than_noise(np.array([0.3, 0.31, 0.29])), beats_by_more_than_noise(np.array([0.9, -0.5, 0.4]))
(True, False)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import GenlibError
from . import metrics
from .backtest import long_frame, rolling_forecasts, window_scales
from .base import level_name

MIN_POINTS = 20        # fewest ratios for a conformal quantile of one step
THIN = 30              # fewer series × windows: a thin panel, with windows close together
DENSE_WINDOWS = 40     # windows close together when the panel is thin
SPAN_CYCLES = 7        # …spanning at least this many seasonal cycles where the series allows
CONFIDENCE = 0.80      # a candidate must beat the simpler model at this one-sided confidence
HISTORY = 4000         # newest values before a series' earliest dense window that its windows are fitted on


def conformal_factor(r: np.ndarray, level: float) -> float:
    """Split-conformal scale: the ⌈(n+1)·level⌉-th smallest of the band ratios r (1 if too few).

    r = |y − mean| / (half-width on the side y fell): r ≤ 1 means inside the band.

    >>> round(conformal_factor(np.linspace(0.05, 2, 40), 80), 2)
    1.65
    """
    r = np.asarray(r, dtype=np.float64)
    r = r[~np.isnan(r)]
    if len(r) < MIN_POINTS:
        return 1.0
    k = int(np.ceil((len(r) + 1) * level / 100))
    return float(np.sort(r)[min(k, len(r)) - 1])


def band_ratios(y: np.ndarray, mean: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                scalable: bool = False) -> np.ndarray:
    """|y − mean| over the band's half-width on that side (∞ for a zero-width band missed, 0 for
    one hit). scalable: NaN for zero-width bands instead, for calibration: a factor cannot widen
    them, and one ∞ among a panel's ratios would make every series' band infinite (a 0/1 flag
    or a day-of-week column forecast exactly in training has such bands)."""
    up = y >= mean
    half = np.where(up, hi - mean, mean - lo)
    dev = np.abs(y - mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(half > 0, dev / half, np.nan if scalable else np.where(dev > 0, np.inf, 0.0))
    return np.where(np.isnan(half) | np.isnan(y), np.nan, r)


def step_factors(by_step: Sequence[Sequence[np.ndarray]], level: float, shrink: bool = True) -> np.ndarray:
    """Factor per step ahead for one level (rules 2 and 3 of the module docstring).

    by_step[k]: arrays of band ratios at step k+1; shrink: whether a factor below 1 is trusted
    (False: the ratios are selection-biased, rule 3).

    >>> r = [[np.full(50, 0.5)], [np.full(50, 1.5)]]
    >>> step_factors(r, 80).tolist(), step_factors(r, 80, shrink=False).tolist()
    ([0.5, 1.5], [1.0, 1.5])
    """
    steps = [np.concatenate(list(r)) if len(r) else np.empty(0) for r in by_step]
    steps = [r[~np.isnan(r)] for r in steps]
    pooled = conformal_factor(np.concatenate(steps), level) if steps else 1.0
    out = np.array([conformal_factor(r, level) if len(r) >= MIN_POINTS else pooled for r in steps])
    return out if shrink else np.maximum(out, 1.0)      # biased evidence: widen if needed, never shrink


def level_factors(factors: dict, level: float, h: int) -> np.ndarray:
    """Factors of a level for steps 1…h from `factors` (level → factor per step): interpolated
    between the fitted levels; steps beyond the backtest horizon keep the last fitted step's.

    >>> level_factors({80: np.array([1.0, 2.0]), 90: np.array([2.0, 4.0])}, 85, 3).tolist()
    [1.5, 3.0, 3.0]
    """
    if not factors:
        return np.ones(h)
    known = sorted(factors)
    table = np.array([factors[k] for k in known])                          # levels × steps
    steps = np.minimum(np.arange(h), table.shape[1] - 1)
    return np.array([np.interp(level, known, table[:, k]) for k in steps])


def gaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a − b per window; ∞ − ∞ (two scores of a series with no scale) is NaN, which the tests
    below leave out."""
    with np.errstate(invalid="ignore"):
        return a - b


def noise_allowance(d: np.ndarray, confidence: float = CONFIDENCE) -> float:
    """t·SE of the mean of the paired window differences d (∞ when they cannot tell: < 2 windows
    with a finite difference, or infinite scores).

    >>> round(float(noise_allowance(np.array([1.0, 2.0, 3.0]))), 3)
    0.612
    """
    d = np.asarray(d, dtype=np.float64)
    d = d[~np.isnan(d)]
    if len(d) < 2 or not np.all(np.isfinite(d)):
        return np.inf
    se = float(np.std(d, ddof=1)) / float(np.sqrt(len(d)))
    return float(stats.t.ppf(confidence, len(d) - 1)) * se


def beats_by_more_than_noise(d: np.ndarray, confidence: float = CONFIDENCE) -> bool:
    """Whether the mean of d (simpler model's score minus candidate's, per window) exceeds noise.

    One window cannot measure its own noise: then it is True (the margin rule alone decides).
    """
    d = np.asarray(d, dtype=np.float64)
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return True
    if not np.all(np.isfinite(d)):
        return bool(np.all(d == np.inf))          # only when the simpler model failed everywhere
    return bool(np.mean(d) > noise_allowance(d, confidence))


def dense_windows(n: int, h: int, need: int, most: int = DENSE_WINDOWS) -> int:
    """Windows one step apart that a series of n values affords (each keeps `need` values).

    >>> dense_windows(100, 12, 10), dense_windows(30, 12, 10), dense_windows(20, 12, 10)
    (40, 9, 0)
    """
    return int(max(0, min(most, n - h - need + 1)))


def dense_step(n: int, h: int, need: int, windows: int, m: int) -> int:
    """Steps between the `windows` dense windows of a series of n values: 1, or more so that
    they and their h steps span SPAN_CYCLES cycles of m where the series has room.

    >>> dense_step(1500, 48, 100, 40, 24), dense_step(300, 14, 30, 40, 7), dense_step(100, 48, 40, 13, 24)
    (4, 1, 1)
    """
    if windows < 2:
        return 1
    want = -(-max(SPAN_CYCLES * max(m, 1) - h, 0) // (windows - 1))
    room = (n - h - need) // (windows - 1)
    return int(max(1, min(want, room)))


def combo_arrays(tr: dict, combo: tuple, uid: str):
    """Backtest arrays (y, mean, lo, hi) of the mean forecast of the candidates `combo` on one series."""
    y = tr[combo[0]].y[uid]
    mean = np.mean([tr[c].mean[uid] for c in combo], axis=0)
    lo = np.mean([tr[c].lo[uid] for c in combo], axis=0)
    hi = np.mean([tr[c].hi[uid] for c in combo], axis=0)
    return y, mean, lo, hi


def combo_window_scores(tr: dict, combo: tuple, values, uid: str, m: int, plan: tuple,
                        metric: str) -> np.ndarray:
    """Per-window selection metric of the mean forecast of `combo` on one series (as
    `score_forecasts`); ∞ where undefined. plan: the series' (h, windows)."""
    y, mean, _, _ = combo_arrays(tr, combo, uid)
    hh, ww = plan
    scale = window_scales([values], hh, ww, hh, m)
    per_window = {
        "mae": lambda: metrics.mae(y, mean),
        "smape": lambda: metrics.smape(y, mean),
        "mase": lambda: metrics.mae(y, mean) / scale["mae"][:, 0],
        "rmsse": lambda: np.sqrt(metrics.rmse(y, mean) ** 2 / scale["mse"][:, 0]),
    }[metric]()
    return np.where(np.isfinite(per_window), per_window, np.inf)


def calibrate_factors(data, trials: dict, plans: dict, honest: dict, chosen: dict, models: dict,
                      m: int, levels: Sequence[float], min_train: int) -> dict:
    """Factor per level and step ahead (rules 1–3 of the module docstring): level → array.

    plans: uid → (h, windows) of each tested series; honest: uid → [(combo, window)], the
    combo the selection picks without that window; chosen: uid → the final combo.
    """
    H = max(h for h, _ in plans.values())
    by_step = [[[] for _ in range(H)] for _ in levels]        # level → step → ratio arrays
    for uid, (hh, _) in plans.items():
        tr = trials[plans[uid]]
        for combo, w in honest[uid]:
            y, mean, lo, hi = combo_arrays(tr, combo, uid)
            for j in range(len(levels)):
                r = band_ratios(y[w], mean[w], lo[j][w], hi[j][w], scalable=True)
                for k in range(hh):
                    by_step[j][k].append(r[k:k + 1])
    independent = sum(w for _, w in plans.values())
    if independent < THIN:                # thin panel: windows close together, per step
        dense = dense_ratios(data, {u: h for u, (h, _) in plans.items()}, chosen, models, m,
                             levels, min_train)
        for j in range(len(levels)):
            for k in range(H):
                by_step[j][k].extend(dense[j][k])
    shrink = independent >= THIN or any(w > 1 for _, w in plans.values())
    return {lv: step_factors(by_step[j], lv, shrink) for j, lv in enumerate(levels)}


def dense_ratios(data, plans: dict, chosen: dict, models: dict, m: int, levels: Sequence[float],
                 min_train: int) -> list:
    """Band ratios of each series' chosen model(s) (their mean) on windows close together
    (`dense_step` apart).

    plans: uid → backtest horizon; returns level → step → list of ratio arrays.
    """
    frame = long_frame(data)
    length = dict(zip(data.ids, (len(v) for v in data.values)))
    H = max(plans.values())
    out = [[[] for _ in range(H)] for _ in levels]
    groups: dict[tuple, list[str]] = {}
    for uid, hh in plans.items():
        combo = chosen[uid]
        need = max(min_train, *(models[c].capabilities.minimum(
            getattr(models[c], "season_length", None) or m, data.freq) for c in combo))
        w = dense_windows(length[uid], hh, need)
        if w > 1:
            step = dense_step(length[uid], hh, need, w, m)
            groups.setdefault((combo, hh, w, step), []).append(uid)
    for (combo, hh, w, step), uids in groups.items():
        try:
            ratios = window_ratios(models, combo, frame[frame["unique_id"].isin(set(uids))], hh, w, step, levels)
        except GenlibError:
            continue                      # the model cannot fit this often: backtest ratios only
        for j in range(len(levels)):
            for k in range(hh):
                out[j][k].append(ratios[j][k])
    return out


def window_ratios(models: dict, combo: tuple, frame: pd.DataFrame, hh: int, w: int, step: int,
                  levels: Sequence[float]) -> list:
    """Band ratios of the mean forecast of the models `combo` on `w` windows `step` apart at the
    end of every series of `frame` (a `long_frame`): level → step → array over windows × series.
    Each window is fitted on at most HISTORY values before the earliest one (bounded memory: 40
    windows of a series of 2 million values would stack 80 million rows). GenlibError when a
    model cannot fit this often."""
    frame = frame[frame["pos"] >= frame["size"] - (HISTORY + (w - 1) * step + hh)]
    n = frame["unique_id"].nunique()
    fcs = {c: rolling_forecasts(models[c], frame, hh, w, step, levels) for c in dict.fromkeys(combo)}

    def mean_of(col: str) -> np.ndarray:     # W × S × h, mean over the combo (a repeat weighs)
        return np.mean([fcs[c][col].to_numpy(np.float64).reshape(w, n, hh) for c in combo], axis=0)

    y, mean = mean_of("y"), mean_of("mean")
    out = []
    for lv in levels:
        r = band_ratios(y, mean, mean_of(f"lo-{level_name(lv)}"), mean_of(f"hi-{level_name(lv)}"), scalable=True)
        out.append([r[:, :, k].ravel() for k in range(hh)])
    return out


def backtest_coverage(trials: dict, tested: Sequence[str], levels: Sequence[float]) -> pd.DataFrame:
    """Share (%) of backtest actuals inside each candidate's own bands over the tested series:
    model, coverage-80, coverage-95, … (the backtest table's names)."""
    tested = set(tested)
    inside: dict[str, dict[float, list]] = {}
    for per in trials.values():
        for label, tr in per.items():
            for uid in tested & set(tr.y):
                for j, lv in enumerate(levels):
                    r = band_ratios(tr.y[uid], tr.mean[uid], tr.lo[uid][j], tr.hi[uid][j])
                    inside.setdefault(label, {}).setdefault(lv, []).append(r[~np.isnan(r)].ravel() <= 1)
    return pd.DataFrame([{"model": label, **{f"coverage-{level_name(lv)}": 100 * float(np.mean(np.concatenate(b)))
                                             for lv, b in per.items()}}
                         for label, per in inside.items()],
                        columns=["model", *[f"coverage-{level_name(lv)}" for lv in levels]])
