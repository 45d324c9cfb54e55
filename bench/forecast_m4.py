"""M4 Hourly and Weekly: accuracy and wall time of every genlib forecaster (prints tables).

    nice python bench/forecast_m4.py                      # both frequencies, default models
    nice python bench/forecast_m4.py --freq Weekly --slow  # also statsmodels ETS and ARIMA (minutes)
    nice python bench/forecast_m4.py --models auto-before neural_ar auto   # issue 11: before/after

Data: DATA/m4_hourly_weekly/{Hourly,Weekly}-{train,test}.csv, the official M4 files (bench/README.md).
Rules (M4): Hourly h=48, MASE period 24; Weekly h=13, MASE period 1. Models see a season
length of 24 (Hourly) and 52 (Weekly). sMAPE and MASE are means over series (M4 definition),
OWA is relative to our own Naive2, which must equal the official one.

Step 1 reproduces the official Naive / seasonal naive / Naive2 scores exactly — this pins the
metric code — then every model is fitted on all series at once and timed (fit + predict).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genlib.forecast import AutoForecaster, get_model  # noqa: E402
from genlib.forecast.auto import DEFAULT_CANDIDATES  # noqa: E402
from genlib.forecast import metrics as M  # noqa: E402
from genlib.forecast.baselines import naive, naive2, seasonal_naive  # noqa: E402

from bench.datasets import M4, data_dir, load_m4  # noqa: E402

DATA = data_dir(None)
RULES = M4
# published M4 scores (sMAPE, MASE): M4-methods "Evaluation and Ranks.xlsx"; AutoARIMA from the brief
PUBLISHED = {
    "Hourly": {"Naive": (43.003, 11.608), "sNaive": (13.912, 1.193), "Naive2": (18.383, 2.395),
               "Theta": (18.138, 2.455)},
    "Weekly": {"Naive": (9.161, 2.777), "sNaive": (9.161, 2.777), "Naive2": (9.161, 2.777),
               "Theta": (9.093, 2.637), "statsforecast AutoARIMA": (8.424, 2.268)},
}


def load(freq: str):
    return load_m4(DATA, freq)


def scores(forecasts: dict, ys: dict, yt: dict, m: int) -> tuple[float, float]:
    s = [M.smape(yt[k], forecasts[k]) for k in ys]
    q = [M.mase(yt[k], forecasts[k], ys[k], m) for k in ys]
    return float(np.mean(s)), float(np.mean(q))


def interval_scores(fc: pd.DataFrame, ys: dict, yt: dict, m: int, h: int) -> tuple[float, float, float]:
    """(coverage of the 80 % band, coverage of the 95 % band, MSIS of the 95 % band): means over series."""
    cov80, cov, msis = [], [], []
    for k, g in fc.groupby("unique_id", sort=False):
        lo, hi = g["lo-95"].to_numpy(), g["hi-95"].to_numpy()
        cov80.append(M.coverage(yt[k], g["lo-80"].to_numpy(), g["hi-80"].to_numpy()))
        cov.append(M.coverage(yt[k], lo, hi))
        msis.append(M.msis(yt[k], lo, hi, ys[k], m, 95))
    return float(np.mean(cov80)), float(np.mean(cov)), float(np.mean(msis))


def run(freq: str, models: list[str], n_jobs: int, budget: float | str = "auto", seed: int = 0) -> None:
    rules = RULES[freq]
    h, m, season = rules["h"], rules["m"], rules["season"]
    ys, yt, df = load(freq)
    print(f"\n## M4 {freq}: {len(ys)} series, h={h}, MASE period {m}, model season length {season}\n")

    print("Official benchmarks reproduced (sMAPE / MASE):")
    bench = {"Naive": lambda y: naive(y, h)[0], "sNaive": lambda y: seasonal_naive(y, h, m)[0],
             "Naive2": lambda y: naive2(y, h, m)}
    ours = {}
    for name, f in bench.items():
        ours[name] = scores({k: f(y) for k, y in ys.items()}, ys, yt, m)
        pub = PUBLISHED[freq][name]
        ok = "exact" if (round(ours[name][0], 3), round(ours[name][1], 3)) == pub else "DIFFERENT"
        print(f"  {name:7s} ours {ours[name][0]:7.3f} / {ours[name][1]:6.3f}   published "
              f"{pub[0]:7.3f} / {pub[1]:6.3f}   {ok}")
    s2, q2 = ours["Naive2"]

    rows = []
    for name in models:
        if name == "auto":     # the default: candidates chosen by the time budget
            candidates = DEFAULT_CANDIDATES if not seed else tuple(
                get_model(c, season_length=season, h=h, seed=seed) if c == "neural_ar" else c
                for c in DEFAULT_CANDIDATES)
            model = AutoForecaster(candidates, h=h, season_length=season, n_jobs=n_jobs, budget=budget)
        elif name == "auto-before":   # the defaults before the network joined them (issue 11)
            model = AutoForecaster(candidates=("seasonal_naive", "naive", "drift", "ar", "theta", "ets"),
                                   h=h, season_length=season, n_jobs=n_jobs, budget=budget)
        elif name == "auto+ets":      # the defaults before, plus the fast ETS; no time limit
            model = AutoForecaster(candidates=("seasonal_naive", "naive", "drift", "ar", "theta", "ets"),
                                   h=h, season_length=season, n_jobs=n_jobs, budget=None)
        elif name == "auto+ets_statsmodels":
            model = AutoForecaster(candidates=("seasonal_naive", "naive", "drift", "ar", "theta",
                                               "ets_statsmodels"),
                                   h=h, season_length=season, n_jobs=n_jobs, budget=None)
        else:
            kw = {"n_jobs": n_jobs} if name in ("ets_statsmodels", "arima_statsmodels") else {}
            if name.startswith("neural"):
                kw.update(h=h, seed=seed)  # a network learns the horizon it will forecast
            model = get_model(name, season_length=season, **kw)
        t0 = time.perf_counter()
        fc = model.fit(df).predict(h, levels=(80, 95))
        seconds = time.perf_counter() - t0
        means = {k: g["mean"].to_numpy() for k, g in fc.groupby("unique_id", sort=False)}
        s, q = scores(means, ys, yt, m)
        cov80, cov, msis = interval_scores(fc, ys, yt, m, h)
        rows.append((name, s, q, M.owa(s, q, s2, q2), cov80, cov, msis, seconds))
        print(f"  … {name} done in {seconds:.1f} s", flush=True)
        if name.startswith("auto"):
            counts = model.choices_["model"].value_counts()
            if getattr(model, "left_out_", None):
                print("    left out for time: " + ", ".join(f"{k} (~{v:.0f} s)" for k, v in model.left_out_.items()))
            print("    winners: " + ", ".join(f"{k} {v}" for k, v in counts.head(8).items())
                  + f"; overall best {model.overall_best_}, margin {model.margin_:g}, "
                  f"interval factors (step 1 … {h}) "
                  f"{', '.join(f'{k:g}%: {v[0]:.2f} … {v[-1]:.2f}' for k, v in model.factors_.items())}")

    print("\n| model | sMAPE | MASE | OWA | coverage-80 % | coverage-95 % | MSIS | fit+predict s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, s, q, o, cov80, cov, msis, sec in rows:
        print(f"| {name} | {s:.3f} | {q:.3f} | {o:.3f} | {cov80:.1f} | {cov:.1f} | {msis:.2f} | {sec:.1f} |")
    for name, (s, q) in PUBLISHED[freq].items():
        if name in ("Theta", "statsforecast AutoARIMA"):
            print(f"| {name} (published) | {s:.3f} | {q:.3f} | {M.owa(s, q, s2, q2):.3f} | | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--freq", choices=["Hourly", "Weekly", "both"], default="both")
    parser.add_argument("--models", nargs="*", default=["naive", "seasonal_naive", "drift",
                                                         "window_average", "theta", "ar", "ets",
                                                         "auto-before", "auto"])
    parser.add_argument("--budget", type=float, help="auto's time budget in seconds (default: its "
                                                      "own, 30 s + 0.1 s per series + 60 s for the network)")
    parser.add_argument("--slow", action="store_true",
                        help="also statsmodels ETS, auto with it, and ARIMA (Weekly): many minutes")
    parser.add_argument("--seed", type=int, default=0, help="the network's seed (its own and in auto): "
                        "auto's score on Hourly moved 8.90–9.03 sMAPE over seeds 0–2")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    parser.add_argument("--n-jobs", type=int, default=2, help="processes for statsmodels fits")
    parser.add_argument("--data", help="folder holding m4_hourly_weekly/ (default: $GENLIB_BENCH_DATA "
                                       "or bench/data)")
    args = parser.parse_args()
    global DATA
    DATA = data_dir(args.data)
    torch.set_num_threads(args.threads)
    # ARIMA searches seasonal orders for m ≤ 24: hours per run on Hourly, so Weekly only
    slow = {"Hourly": ["ets_statsmodels", "auto+ets_statsmodels"],
            "Weekly": ["ets_statsmodels", "arima_statsmodels", "auto+ets_statsmodels"]}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("# genlib forecasting on M4")
    print(f"command: {' '.join(['python'] + sys.argv)}")
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{cores} cores, load average {os.getloadavg()[0]:.1f} at start; python "
          f"{platform.python_version()}, torch {torch.__version__} ({args.threads} thread), "
          f"n_jobs {args.n_jobs}")
    for freq in (["Hourly", "Weekly"] if args.freq == "both" else [args.freq]):
        run(freq, args.models + (slow[freq] if args.slow else []), args.n_jobs, args.budget or "auto", args.seed)


if __name__ == "__main__":
    main()
