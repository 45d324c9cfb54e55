"""AutoForecaster: for each series, keep the model that would have forecast it best.

fit(df):
1. Backtest every candidate on every series (rolling origin: `windows` cutoffs, `h` steps
   each, refitting at each cutoff). Short series get fewer windows or a shorter horizon;
   series too short for any backtest get seasonal naive (or naive) and say so.
2. Score each candidate per series by its mean MASE over the windows (or `metric`). With
   `combine`, the means of the best two and best three candidates are scored too (forecast
   combinations are often better than any one model; Makridakis et al. 2020). The best
   scorer wins; ties go to the earlier candidate (seasonal naive first). On by default: on M4
   combining lowered MASE 0.949 → 0.920 (Hourly) and 2.156 → 2.135 (Weekly).
   A series' own winner must beat the candidate that is best over all series by `margin`
   (a fraction of its score), else the overall winner is used: on short series a per-series
   pick is mostly noise (M3 monthly: per-series picks 14.43 sMAPE, always Theta 13.94).
   margin="auto" measures which margin works on the data at hand: it picks on the earlier
   backtest windows and judges on the last (M4 Hourly → 0, Weekly → 0, M3 monthly → 0.5).
   A candidate that does as well as seasonal naive on fewer than a tenth of a panel's series
   takes no part (`rarely_better_`): its few wins are chance (naive and drift on M4 Hourly,
   2 % of the series; Hourly sMAPE / MASE 15.13 / 0.952 without this rule, 13.26 / 0.919 with).
   Thin evidence: a candidate replaces the simpler model (the overall winner, itself kept only
   if it beats seasonal naive / naive by more than chance over all series) only when its
   per-window gain exceeds t × its standard error (calibrate.py): on 3 windows of a noisy series
   a 27 % backtest win can be noise, and the explanation says so; where the kept model is seasonal
   naive or naive and the evidence thin, the forecast is half it, half the rival (`hedge`). With
   one seasonal cycle the mean of Theta, AutoETS and the linear AR (selection.STEADY) is the
   overall winner where it scores best; on thin evidence it is every series' forecast (without a
   seasonal period: the middle of ETS, AR and naive, middle.py; selection.py has the figures)
   unless it was tested on SURE_WINDOWS windows or more (a long series: selection.window_plans)
   and a rival beats it there by more than chance.
3. Calibrate the intervals per step ahead (split conformal, calibrate.py): errors of the model
   the selection would pick without seeing each window (no selection bias), pooled over series;
   a thin panel adds windows close together (calibrate.py rule 2).
4. Refit each winning model on the full history of the series it won.

On a panel of 50 series or more a network learned from all of them (`neural_ar`, a `global_model`;
M4 Hourly sMAPE 13.26 → 10.11 with it) joins the candidates: its backtest trains it once, before the
first window; it is refitted on every series long enough for it, never alone (selection.with_partner).

`choices_` (one row per series) and `explanation_` (one sentence per series) say what was picked and
by how much it beat seasonal naive; the sentence opens with the strength of the seasonal pattern
(classical decomposition after removing the trend: strong above 0.64, the threshold R's
`forecast::nsdiffs` uses, weak above 0.3). `scores_` holds every candidate's backtest score per series.

>>> import numpy as np, pandas as pd
>>> t = np.arange(96)
>>> y = 10 + 3 * np.sin(2 * np.pi * t / 12) + 0.1 * t + np.random.default_rng(0).normal(0, .3, 96)
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2015-01", periods=96, freq="MS"), "y": y})
>>> auto = AutoForecaster(candidates=("seasonal_naive", "ar"), h=12).fit(df)
>>> auto.choices_["model"].tolist()
['ar']
>>> auto.explanation_["a"][:56]
'seasonal pattern every 12 months; Linear autoregression '
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd

from ..errors import GenlibError
from ..freq import default_horizon, seasonal_periods
from .backtest import long_frame, rolling_forecasts, score_forecasts, window_scales
from .calibrate import (CONFIDENCE, DENSE_WINDOWS, THIN, backtest_coverage, band_ratios,  # noqa: F401
                        beats_by_more_than_noise, calibrate_factors, combo_window_scores, conformal_factor,
                        gaps, level_factors)
from .base import (Capabilities, Forecaster, check_horizon, check_levels, fit_with, floors, forecast_frame,
                   level_name, resolve_season_length, split_series)
from .budget import SHARE, affordable, plan_candidates
from .explain import explain
from .registry import MODELS, accepts, get_model
from .selection import (MIDDLE, MIN_TRAIN, SIMPLE, STEADY, SURE_WINDOWS, base_windows,  # noqa: F401
                        candidate_label, hedge, intermittent, one_cycle, overall_best, overall_combo,
                        plan_windows, rarely_better, steady_is_default, steady_mean, window_plans,
                        with_partner)


# by cost; a network on panels of 50+ series. Opt-in: "arima", "mstl" (only hourly or daily data;
# on 12 single M4 Hourly series auto's MASE went 1.016 → 1.008 with it, sMAPE 13.77 → 15.08)
DEFAULT_CANDIDATES = ("seasonal_naive", "seasonal_naive_long", "naive", "drift", "ar", "theta", "ets", "neural_ar")
# budget="auto": 30 s + 0.1 s a series, + 60 s with a network (it trains as long on 50 series as
BUDGET_BASE, BUDGET_PER_SERIES, BUDGET_NETWORK = 30.0, 0.1, 60.0   # on 5,000: M4 Hourly 24 s a fit)
METRICS, MARGINS = ("mase", "smape", "rmsse", "mae"), (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)   # MARGINS: margin="auto"


@dataclasses.dataclass
class _Trial:
    """Backtest of one candidate on a group of series: arrays windows × h per series."""

    y: dict          # uid → W×h actuals
    mean: dict       # uid → W×h forecasts
    lo: dict         # uid → L×W×h lower bands
    hi: dict         # uid → L×W×h upper bands
    window_scores: dict   # uid → score of each window (W), ∞ where undefined


class AutoForecaster(Forecaster):
    """Picks, per series, the candidate (or mean of the best few) with the best backtest score.

    candidates: registry names or forecaster objects; h: backtest horizon (None →
    genlib.freq.default_horizon of the season length; give the horizon you will forecast);
    windows: backtest cutoffs per series ("auto": 3, up to 12 on one long upload: selection.
    window_plans); metric: "mase" (RMSSE for a series mostly 0: selection.intermittent), "smape",
    "rmsse" or "mae"; combine: also try the means of the best 2 and 3; margin: how much a series'
    own pick must beat the overall winner ("auto": measured); calibrate: conformal scaling of the
    bands; levels: bands calibrated in fit (others are interpolated); n_jobs: processes for
    per-series statsmodels fits; budget: seconds for fit ("auto": 30 + 0.1 per series, + 60 with
    a network; None: no limit) — candidates kept in order while their projected cost fits
    (budget.py); see `left_out_`."""

    name = "auto"
    title = "Automatic choice"
    capabilities: ClassVar[Capabilities] = Capabilities(min_length=2, uses_season=True)

    def __init__(self, candidates: Sequence[Any] = DEFAULT_CANDIDATES, h: int | None = None,
                 windows: int | str = "auto", metric: str = "mase", combine: bool = True,
                 margin: float | str = "auto", calibrate: bool = True,
                 levels: Sequence[float] = (80, 95), n_jobs: int = 1,
                 budget: float | str | None = "auto", season_length: int | None = None, freq=None):
        self.candidates = tuple(candidates)   # names or forecasters tried on every series
        self.h = h                            # backtest horizon; None → default_horizon(season)
        self.windows = windows                # backtest cutoffs per series; "auto": window_plans
        self.metric = metric                  # "mase", "smape", "rmsse" or "mae"
        self.combine = combine                # also score means of the best 2 and 3
        self.margin = margin                  # a per-series pick must beat the overall winner by
                                              # this fraction; "auto": measured (see _pick_margin)
        self.calibrate = calibrate            # conformal scaling of the interval bands
        self.levels = tuple(levels)           # levels calibrated during fit
        self.n_jobs = n_jobs                  # processes for per-series statsmodels fits
        self.budget = budget                  # seconds for fit; "auto" → 30 + 0.1 per series
        self.season_length = season_length    # seasonal period; None → from freq
        self.freq = freq                      # pandas alias or integer step; None → from ds

    # -- fit --------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, *, callbacks: Sequence[Any] = (), stop_event: Any = None) -> "AutoForecaster":
        """Backtest the candidates per series, keep the winners, refit them on all the data.

        `callbacks` follow a network candidate's training. Setting `stop_event` (the app's Stop
        button) ends that training within a step; the network is then left out (`stopped_`) and
        auto finishes with the other candidates, which take seconds.
        """
        if self.metric not in METRICS:
            raise GenlibError(f"metric must be one of {', '.join(METRICS)}, not {self.metric!r}.")
        if not (self.margin == "auto" or (isinstance(self.margin, (int, float))
                                          and 0 <= self.margin <= 1)):
            raise GenlibError(f"margin must be 'auto' or a fraction between 0 and 1, not {self.margin!r}.")
        if self.windows != "auto" and not (isinstance(self.windows, (int, np.integer)) and self.windows >= 1):
            raise GenlibError(f"windows must be 'auto' or a whole number ≥ 1, not {self.windows!r}.")
        if self.budget not in (None, "auto") and not (isinstance(self.budget, (int, float)) and self.budget > 0):
            raise GenlibError(f"budget must be a number of seconds above 0, 'auto' or None, not {self.budget!r}.")
        levels = check_levels(self.levels)
        data = split_series(df, self.freq)
        m = resolve_season_length(self.season_length, data.freq)
        self.ids_, self.last_ds_, self.freq_, self.season_length_ = (
            data.ids, data.last_ds, data.freq, m)
        self.metric_ = {uid: "rmsse" if self.metric == "mase" and intermittent(v) else self.metric
                        for uid, v in zip(data.ids, data.values)}
        self.floor_ = floors(data.values)                       # 0 for counts and amounts
        self.notes_: dict[str, str] = {}
        h_req = int(self.h) if self.h else default_horizon(m)
        models = self._candidate_models(m, h_req, len(data.ids))
        frame = long_frame(data)
        network = any(md.capabilities.global_model for md in models.values())
        self.budget_ = (BUDGET_BASE + BUDGET_PER_SERIES * len(data.ids) + BUDGET_NETWORK * network
                        if self.budget == "auto" else self.budget)
        self.left_out_, self.per_fit_ = {}, {}     # label → projected s (left out), s per fit
        self.deadline_ = self.budget_ and time.perf_counter() + SHARE * self.budget_
        lengths = np.array([len(v) for v in data.values])
        self.n_obs_, self.h_ = lengths, h_req
        self.one_cycle_ = one_cycle(m, data.freq, data.values)          # no second cycle to learn
        plans = window_plans(lengths, h_req, self.windows, self.one_cycle_, THIN)   # one upload
        self.plan_ = dict(zip(data.ids, plans))
        if m == 1 and set(STEADY) <= set(models) and steady_is_default(plans, THIN):   # no season:
            models.setdefault(MIDDLE, get_model(MIDDLE, freq=self.freq, season_length=m))  # middle.py
        if self.budget_ is not None:
            fits = max([w for _, w in plans] + [base_windows(self.windows)]) + 1
            kept, self.left_out_, self.per_fit_ = plan_candidates(models, frame, h_req, fits, float(
                self.budget_), least={lb: MODELS[lb].seconds_per_fit for lb in models if lb in MODELS})
            models = {label: models[label] for label in kept}
        scores: dict[str, dict[str, float]] = {uid: {} for uid in data.ids}
        trials: dict[tuple, dict[str, _Trial]] = {}
        train = {"callbacks": tuple(callbacks), "stop_event": stop_event}
        self.stopped_: dict[str, None] = {}         # labels left out by Stop, in order

        def stopped() -> bool:
            return stop_event is not None and stop_event.is_set()

        for plan in sorted(set(p for p in plans if p[0] > 0)):
            hh, ww = plan
            members = [i for i, p in enumerate(plans) if p == plan]
            values = [data.values[i] for i in members]
            scale = window_scales(values, hh, ww, hh, m)
            trials[plan] = {}
            for label, model in models.items():
                network = model.capabilities.trains_network
                if not (network and stopped()):
                    trial = self._trial(model, label, frame, data, members, scale, hh, ww, m, levels, train)
                if network and stopped():               # never started, or cut short: no fair scores
                    self.stopped_.setdefault(label, None)
                    continue
                if trial is not None:
                    trials[plan][label] = trial
                    for uid, ws in trial.window_scores.items():
                        scores[uid][label] = float(np.mean(ws))
        self._choose(data, plans, trials, scores, m, levels, models)
        self._fit_winners(frame, models, m, train)
        cut = {lb for lb in self.models_ if models[lb].capabilities.trains_network} if stopped() else set()
        if cut:                                                 # stopped while refitting: choose again
            self.stopped_.update(dict.fromkeys(cut))
            trials = {p: {lb: t for lb, t in tr.items() if lb not in cut} for p, tr in trials.items()}
            scores = {uid: {lb: v for lb, v in sc.items() if lb not in cut} for uid, sc in scores.items()}
            self._choose(data, plans, trials, scores, m, levels, models)
            self._fit_winners(frame, models, m)
        return self

    def _candidate_models(self, m: int, h: int, n_series: int) -> dict[str, Forecaster]:
        """label → forecaster, built for this season length and horizon; names whose models need
        a larger panel or two seasonal patterns are left out where they lack them."""
        if not self.candidates:
            raise GenlibError("AutoForecaster needs at least one candidate model.")
        out: dict[str, Forecaster] = {}
        items, freq = list(self.candidates), getattr(self, "freq_", self.freq)   # freeze_network asks first
        if "seasonal_naive" not in [candidate_label(c) for c in items]:
            items.append("seasonal_naive")        # the reference every score is compared with
        for c in items:
            if isinstance(c, str):
                if c == "auto":
                    raise GenlibError("'auto' cannot be a candidate of itself.")
                if c not in MODELS:
                    raise GenlibError(f"Unknown candidate {c!r}; choose from {', '.join(MODELS)}.")
                caps = MODELS[c].cls.capabilities
                if caps.min_series > n_series or (caps.multi_season and len(seasonal_periods(m, freq)) < 2):
                    continue                      # a network on a few series; MSTL on one season
                kw = {"season_length": m, "freq": self.freq}
                if accepts(MODELS[c].cls, "n_jobs"):
                    kw["n_jobs"] = self.n_jobs
                if accepts(MODELS[c].cls, "h"):
                    kw["h"] = h                   # networks learn the horizon they will forecast
                model, label = get_model(c, **kw), c
            elif isinstance(c, Forecaster):
                model, label = c, candidate_label(c)
            else:
                raise GenlibError(f"Candidate {c!r} is neither a model name nor a forecaster.")
            out[label] = model
        return out

    def _trial(self, model, label, frame, data, members, scale, h, w, m, levels, train) -> _Trial | None:
        """Backtest one candidate on the series (indices `members`) long enough for it."""
        model_m = getattr(model, "season_length", None) or m
        need = model.min_history(h, model_m)
        ok = [j for j, i in enumerate(members) if len(data.values[i]) - w * h >= need]
        if not ok:
            return None
        ids = [data.ids[members[j]] for j in ok]
        sub = frame[frame["unique_id"].isin(set(ids))]
        try:
            fc = rolling_forecasts(model, sub, h, w, h, levels, **train)
        except GenlibError as exc:
            for uid in ids:
                self.notes_.setdefault(uid, f"{label} was skipped: {exc}")
            return None
        sc = score_forecasts(fc, scale, h, levels, series_index=np.array(ok))
        S, col = len(ids), {"mase": "MASE", "smape": "sMAPE", "rmsse": "RMSSE", "mae": "MAE"}
        per_window = np.where([[self.metric_[u] == "rmsse" for u in ids]],       # rows: window, series
                              *(sc[c].to_numpy(np.float64).reshape(w, S) for c in ("RMSSE", col[self.metric])))
        y = fc["y"].to_numpy(np.float64).reshape(w, S, h)
        mean = fc["mean"].to_numpy(np.float64).reshape(w, S, h)
        lo = np.stack([fc[f"lo-{level_name(lv)}"].to_numpy(np.float64).reshape(w, S, h)
                       for lv in levels])
        hi = np.stack([fc[f"hi-{level_name(lv)}"].to_numpy(np.float64).reshape(w, S, h)
                       for lv in levels])
        return _Trial(
            y={u: y[:, j] for j, u in enumerate(ids)},
            mean={u: mean[:, j] for j, u in enumerate(ids)},
            lo={u: lo[:, :, j] for j, u in enumerate(ids)},
            hi={u: hi[:, :, j] for j, u in enumerate(ids)},
            window_scores={u: np.where(np.isfinite(per_window[:, j]), per_window[:, j], np.inf)
                           for j, u in enumerate(ids)})

    def _choose(self, data, plans, trials, scores, m, levels, models) -> None:
        """Pick the winner of each series, score it against seasonal naive, calibrate bands."""
        order = {label: k for k, label in enumerate(self._labels())}
        position = {uid: i for i, uid in enumerate(data.ids)}
        cache: dict = {}

        def window_scores(uid: str, combo: tuple) -> np.ndarray:
            """Per-window scores of the mean forecast of `combo` on one series (cached)."""
            if (uid, combo) not in cache:
                tr = trials[self.plan_[uid]]
                if len(combo) == 1:
                    cache[uid, combo] = tr[combo[0]].window_scores[uid]
                else:
                    cache[uid, combo] = combo_window_scores(
                        tr, combo, data.values[position[uid]], uid, m, self.plan_[uid], self.metric_[uid])
            return cache[uid, combo]

        def select(uid: str, use, margin: float, overall: tuple | None):
            """(combo, score, noise) for one series judged on the windows `use` (slice or
            indices); noise: (kept, rejected combo, gain %) when the thin-evidence rule kept
            `overall` (a model or the steady mean) although `rejected` scored better."""
            single = {lb: float(np.mean(window_scores(uid, (lb,))[use])) for lb in pickable[uid]}
            ranked = sorted(single, key=lambda lb: (single[lb], order.get(lb, 99)))
            ranked = [lb for lb in ranked if np.isfinite(single[lb])] or ranked[:1]
            options = {(ranked[0],): single[ranked[0]]}
            if self.combine:
                for k in (2, 3):
                    if len(ranked) >= k:
                        combo = tuple(sorted(ranked[:k], key=lambda lb: order.get(lb, 99)))
                        options[combo] = float(np.mean(window_scores(uid, combo)[use]))
            known = overall is not None and all(lb in single for lb in overall)
            if known and len(overall) > 1:
                options[overall] = float(np.mean(window_scores(uid, overall)[use]))
            best = min(options, key=lambda c: (options[c], len(c)))
            noise = None
            if known and best != overall:
                ov = float(np.mean(window_scores(uid, overall)[use]))
                d = gaps(window_scores(uid, overall)[use], window_scores(uid, best)[use])
                steady = overall in ((SIMPLE[0],), (SIMPLE[1],), self.steady_)     # a safe default
                # a few windows cannot show a lead lasts; SURE_WINDOWS of a long series can
                used = self.plan_[uid][1] if isinstance(use, slice) else len(use)
                stays = thin and overall == self.steady_ and used < SURE_WINDOWS
                if steady and (stays or not beats_by_more_than_noise(d)):
                    gain = 100 * (1 - options[best] / ov) if ov > 0 else np.nan
                    noise, best = ("+".join(overall), best, gain), overall
                    if thin and overall != self.steady_:    # a baseline: half it, half the rival
                        best = hedge(overall, noise[1])
                        options[best] = float(np.mean(window_scores(uid, best)[use]))
                elif options[best] > (1 - margin) * ov:
                    best = overall               # not clearly better than the all-series winner
                options[best] = ov if best == overall else options[best]
            best = with_partner(best, ranked, lambda lb: models[lb].capabilities.global_model, order)
            options.setdefault(best, float(np.mean(window_scores(uid, best)[use])))
            return best, options[best], noise

        tested = [uid for uid in data.ids if self.plan_[uid][0] > 0 and scores[uid]]
        # too few windows to pick on; one seasonal cycle (hourly and daily data have two: no steady mean)
        thin, single = sum(self.plan_[u][1] for u in tested) < THIN, self.one_cycle_
        self.thin_ = thin
        self.rarely_better_ = rarely_better(scores, tested)
        pickable = {u: {lb: s for lb, s in per.items() if lb not in self.rarely_better_}
                    for u, per in scores.items()}
        self.steady_ = steady_mean(models, m, pickable, tested)      # the middle where m = 1
        overall = overall_combo(tested, pickable, order, window_scores, thin, single, self.steady_)
        simple = overall_best({u: {lb: s for lb, s in pickable[u].items()
                                   if lb in SIMPLE} for u in tested}, order)
        if overall not in (None, (simple,), self.steady_ if thin else None) and simple is not None:
            # the all-series winner must itself beat the simpler model by more than chance (on
            # thin evidence the steady mean stands: measured better than the baselines)
            d = np.concatenate([gaps(window_scores(u, (simple,)), window_scores(u, overall))
                                for u in tested if all(lb in pickable[u] for lb in overall + (simple,))]
                               or [np.zeros(0)])
            if not beats_by_more_than_noise(d[np.isfinite(d)] if np.isfinite(d).any() else d):
                overall = (simple,)
        margin = self.margin
        if margin == "auto":
            margin = self._pick_margin(tested, pickable, order, window_scores, select,
                                        steady=overall == self.steady_)
        self.margin_ = float(margin)
        self.overall_best_ = "+".join(overall) if overall is not None else None
        chosen: dict[str, tuple[str, ...]] = {}
        best_score: dict[str, float] = {}
        self.kept_: dict[str, tuple] = {}
        self.left_steady_: dict[str, float] = {}    # uid → % its pick beat the steady mean by
        prior = thin and single and all(lb in models for lb in STEADY)
        self.untested_steady_ = set()
        for uid in data.ids:
            n = len(data.values[position[uid]])
            if uid not in tested:
                chosen[uid] = ("seasonal_naive",) if n > m > 1 else ("naive",)
                best_score[uid] = np.nan
            else:
                chosen[uid], best_score[uid], noise = select(uid, slice(None), margin, overall)
                if noise is not None:
                    self.kept_[uid] = noise
                if thin and overall == self.steady_ and chosen[uid] != self.steady_:   # SURE_WINDOWS
                    ov = float(np.mean(window_scores(uid, self.steady_)))            # showed it
                    self.left_steady_[uid] = 100 * (1 - best_score[uid] / ov) if ov > 0 else np.nan
            # thin evidence, too short a series to backtest the steady mean: still the mean, untested
            if (prior and chosen[uid] != self.steady_ and not all(lb in pickable[uid] for lb in STEADY)
                    and all(n >= models[lb].capabilities.minimum(m) for lb in STEADY)):
                short = any(n < models[lb].capabilities.minimum(m) for lb in self.steady_)
                chosen[uid], best_score[uid] = STEADY if short else self.steady_, np.nan
                self.kept_.pop(uid, None)
                self.untested_steady_.add(uid)
        self.coverage_ = backtest_coverage(trials, tested, levels)
        self.factors_ = {lv: np.ones(1) for lv in levels}
        calibrated = [uid for uid in tested if uid not in self.untested_steady_]
        if self.calibrate and calibrated:
            honest = {}          # uid → [(combo, window)]: the pick made without that window
            for uid in calibrated:
                W = self.plan_[uid][1]
                honest[uid] = ([(select(uid, np.delete(np.arange(W), w), margin, overall)[0], w)
                                for w in range(W)] if W > 1 else [(chosen[uid], 0)])
            plans = {uid: self.plan_[uid] for uid in calibrated}
            models = affordable(models, self.per_fit_, DENSE_WINDOWS, self.deadline_)
            self.factors_ = calibrate_factors(data, trials, plans, honest, chosen, models, m, levels,
                                              MIN_TRAIN)
            self.calibration_windows_ = sum(w for _, w in plans.values())
        self.chosen_ = chosen
        self.scores_ = pd.DataFrame.from_dict(scores, orient="index").reindex(data.ids)
        self.scores_.index.name = "unique_id"
        rows = []
        for uid in data.ids:
            label = "+".join(dict.fromkeys(chosen[uid]))      # a hedge's baseline once
            sn = scores[uid].get("seasonal_naive", np.nan)
            s = best_score[uid]
            gain = 100 * (1 - s / sn) if (np.isfinite(s) and np.isfinite(sn) and sn > 0) else np.nan
            h, w = self.plan_[uid]
            rows.append({"unique_id": uid, "model": label, "score": s,
                         "seasonal_naive_score": sn, "improvement_pct": gain,
                         "windows": w, "h": h})
        self.choices_ = pd.DataFrame(rows)

    def _labels(self) -> list[str]:
        out = [candidate_label(c) for c in self.candidates]
        return (["seasonal_naive"] if "seasonal_naive" not in out else []) + out

    def _pick_margin(self, tested, scores, order, window_scores, select, steady: bool = False) -> float:
        """The margin whose picks score best on windows they did not see (per-series picks are
        noisy on short backtests; then the overall winner is safer): every margin in MARGINS picks
        on all windows but one and is judged on that one, in turn for every window (the last
        window alone flipped the choice on noise: M4 Hourly)."""
        multi = [uid for uid in tested if self.plan_[uid][1] >= 2]
        if not multi:
            return 0.0
        folds = []                      # (uid, window left out, windows kept, overall winner without it)
        for w in range(max(self.plan_[uid][1] for uid in multi)):
            keep = {uid: np.delete(np.arange(self.plan_[uid][1]), w) for uid in multi if self.plan_[uid][1] > w}
            early = {uid: {lb: float(np.mean(window_scores(uid, (lb,))[k])) for lb in scores[uid]}
                     for uid, k in keep.items()}
            best = overall_best(early, order)
            overall = self.steady_ if steady else (best,) if best else None
            folds += [(uid, w, k, overall) for uid, k in keep.items()]
        loss = {}
        for margin in MARGINS:
            judged = np.asarray([window_scores(uid, select(uid, k, margin, overall)[0])[w]
                                 for uid, w, k, overall in folds])
            loss[margin] = float(np.mean(judged[np.isfinite(judged)])) if np.isfinite(judged).any() else np.inf
        self.margin_losses_ = loss
        return min(MARGINS, key=lambda mg: (loss[mg], mg))

    def _fit_winners(self, frame: pd.DataFrame, models: dict, m: int, train: dict | None = None) -> None:
        """Refit every model that won somewhere on the full history of the series it won."""
        needed = {lb: [u for u, combo in self.chosen_.items() if lb in combo]
                  for lb in dict.fromkeys(lb for combo in self.chosen_.values() for lb in combo)}
        self.models_ = {}
        for label, uids in needed.items():
            model = models.get(label) or get_model(label, season_length=m, freq=self.freq)
            if model.capabilities.global_model:   # a network learns from every series long enough
                won, need = set(uids), model.min_history(self.h_, m)
                uids = [u for u, n in zip(self.ids_, self.n_obs_) if n >= need or u in won]
            sub = frame.loc[frame["unique_id"].isin(set(uids)), ["unique_id", "ds", "y"]]
            fitted = fit_with(model.clone(), sub, **(train or {}))
            self.models_[label] = fitted
            for uid, note in getattr(fitted, "notes_", {}).items():
                self.notes_[uid] = note
        rows = self.choices_.set_index("unique_id")
        values = dict(zip(self.ids_, np.split(frame["y"].to_numpy(), np.cumsum(
            frame.groupby("unique_id", sort=False).size().to_numpy())[:-1])))
        self.explanation_ = {uid: explain(self, uid, rows.loc[uid], values[uid], m)
                             for uid in self.ids_}

    # -- predict ----------------------------------------------------------------------------
    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        """Forecast with each series' winner (or the mean of its winners), calibrated bands."""
        self._check_fitted()
        h = check_horizon(h)
        levels = check_levels(levels)
        parts = {label: model.predict(h, levels) for label, model in self.models_.items()}
        by_label = {}
        for label, fc in parts.items():
            cols = ["mean"] + [f"{s}-{level_name(lv)}" for lv in levels for s in ("lo", "hi")]
            arr = fc[cols].to_numpy(np.float64).reshape(-1, h, len(cols))
            by_label[label] = dict(zip(fc["unique_id"].to_numpy()[::h], arr))
        S, L = len(self.ids_), len(levels)
        mean, lo, hi = np.empty((S, h)), np.empty((S, L, h)), np.empty((S, L, h))
        factors = np.array([self._factor(lv, h) for lv in levels])                # L × h
        for i, uid in enumerate(self.ids_):
            a = np.mean([by_label[c][uid] for c in self.chosen_[uid]], axis=0)   # h × cols
            mean[i] = a[:, 0]
            lo_i, hi_i = a[:, 1::2].T, a[:, 2::2].T                               # L × h
            lo[i] = mean[i] - factors * (mean[i] - lo_i)
            hi[i] = mean[i] + factors * (hi_i - mean[i])
        return forecast_frame(self.ids_, self.last_ds_, self.freq_, mean, lo, hi, levels, getattr(self, "floor_", None))

    def _factor(self, level: float, h: int) -> np.ndarray:
        """Calibration factors of a level for steps 1…h: fitted per step, interpolated between
        fitted levels; steps beyond the backtest horizon keep the last fitted step's factor."""
        return level_factors(self.factors_, level, h)

    def describe(self, unique_id: str) -> str:
        self._check_fitted()
        return self.explanation_[unique_id]
