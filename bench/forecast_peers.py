"""The peers, measured here: statsforecast's AutoARIMA, AutoETS and AutoTheta on the tasks genlib's
forecasting benchmarks score, with the same numbers (sMAPE, MASE, 80/95 % band coverage, seconds).

statsforecast pins an older pandas than genlib, so it runs in its own environment; this script
imports nothing of genlib but its numpy-only metrics:

    python -m venv /tmp/sf && /tmp/sf/bin/pip install statsforecast xlrd
    /tmp/sf/bin/python bench/forecast_peers.py --task single        # bench/forecast_single.py's draw
    /tmp/sf/bin/python bench/forecast_peers.py --task single --kind daily       # or hourly, m4-hourly
    /tmp/sf/bin/python bench/forecast_peers.py --task m3 --m3 year quarter month other
    /tmp/sf/bin/python bench/forecast_peers.py --task m4 --models AutoETS AutoTheta

Each model is statsforecast's default for the season length of the task (M3: 1, 4, 12, 1; M4
Hourly 24, Weekly 52), with its own prediction intervals at levels 80 and 95.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genlib.forecast import metrics as M  # noqa: E402  (numpy only)

from bench.datasets import (KINDS, M3, M4, data_dir, load_m3, load_m4, one_file_sample,  # noqa: E402
                            sample_freq, score_single, summarise)

MODELS = ("AutoARIMA", "AutoETS", "AutoTheta")


def forecast(name: str, df: pd.DataFrame, h: int, season: int, freq, n_jobs: int) -> pd.DataFrame:
    """statsforecast's forecast of every series in df: unique_id, mean, lo-80 … hi-95."""
    from statsforecast import StatsForecast, models

    model = getattr(models, name)(season_length=season)
    if freq is None:                              # positions, not dates
        df = df.assign(ds=df["ds"].astype(int))
        freq = 1
    sf = StatsForecast(models=[model], freq=freq, n_jobs=n_jobs, fallback_model=models.Naive())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = sf.forecast(h=h, df=df, level=[80, 95])
    out = out.rename(columns={name: "mean", **{f"{name}-{s}-{lv}": f"{s}-{lv}"
                                                for s in ("lo", "hi") for lv in (80, 95)}})
    return out


def panel_scores(fc: pd.DataFrame, train: dict, test: dict, m: int) -> tuple[float, ...]:
    g = {k: v for k, v in fc.groupby("unique_id", sort=False)}
    s = np.mean([M.smape(test[k], g[k]["mean"].to_numpy()) for k in train])
    q = np.mean([M.mase(test[k], g[k]["mean"].to_numpy(), train[k], m) for k in train])
    c80 = np.mean([M.coverage(test[k], g[k]["lo-80"].to_numpy(), g[k]["hi-80"].to_numpy()) for k in train])
    c95 = np.mean([M.coverage(test[k], g[k]["lo-95"].to_numpy(), g[k]["hi-95"].to_numpy()) for k in train])
    return float(s), float(q), float(c80), float(c95)


def run_panel(title: str, train, test, df, h: int, m: int, season: int, freq, models, n_jobs: int) -> None:
    print(f"\n## {title}: {len(train)} series, h={h}, MASE period {m}, season length {season}\n")
    print("| model | sMAPE | MASE | coverage-80 % | coverage-95 % | fit+predict s |")
    print("|---|---|---|---|---|---|")
    for name in models:
        t0 = time.perf_counter()
        fc = forecast(name, df, h, season, freq, n_jobs)
        sec = time.perf_counter() - t0
        s, q, c80, c95 = panel_scores(fc, train, test, m)
        print(f"| statsforecast {name} | {s:.3f} | {q:.3f} | {c80:.1f} | {c95:.1f} | {sec:.1f} |", flush=True)


def run_single(data: Path, per_part: int, models, seed: int = 0, kind: str = "m3", count: int = 80) -> None:
    """Each series of bench/forecast_single.py's draw alone, as that script scores it."""
    sample = one_file_sample(data, kind, per_part, count, seed)
    print(f"\n## One series at a time: {len(sample)} {kind} series (draw {seed})\n")
    print("| model | relative MASE | sMAPE | 80 % band held | 95 % band held | seconds |")
    print("|---|---|---|---|---|---|")
    for name in models:
        rows, seconds = [], 0.0
        for part, uid, df, test, h, m in sample:
            t0 = time.perf_counter()
            fc = forecast(name, df, h, m, sample_freq(part), 1)
            seconds += time.perf_counter() - t0
            rows.append({"uid": uid, **score_single(df["y"].to_numpy(float), test, m, *(
                fc[c].to_numpy() for c in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")))})
        s = summarise(rows)
        print(f"| statsforecast {name} | {s['rel']:.3f} | {s['smape']:.2f} | {s['cov80']:.1f} % | "
              f"{s['cov95']:.1f} % | {seconds:.1f} |", flush=True)
        if kind == "classic":                     # eleven series: each one's relative MASE
            print("|   " + ", ".join(f"{r['uid']} {r['rel']:.3f}" for r in rows) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["single", "m3", "m4"], default="single")
    parser.add_argument("--m3", nargs="*", choices=list(M3), default=["month"])
    parser.add_argument("--m4", nargs="*", choices=list(M4), default=list(M4))
    parser.add_argument("--models", nargs="*", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seed", type=int, default=0, help="which random draw of series")
    parser.add_argument("--per-part", type=int, default=30)
    parser.add_argument("--kind", choices=KINDS, default="m3",
                        help="--task single: which uploads (as bench/forecast_single.py --kind)")
    parser.add_argument("--count", type=int, default=80, help="stretches drawn for daily or hourly")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data", help="folder holding m3_competition/ and m4_hourly_weekly/")
    args = parser.parse_args()
    data = data_dir(args.data)
    import statsforecast
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("# statsforecast on genlib's forecasting tasks")
    print(f"command: {' '.join(['python'] + sys.argv)}")
    print(f"machine: {platform.platform()}, {cores} cores, load average {os.getloadavg()[0]:.1f} at "
          f"start; python {platform.python_version()}, statsforecast {statsforecast.__version__}, "
          f"pandas {pd.__version__}")
    if args.task == "single":
        run_single(data, args.per_part, args.models, args.seed, args.kind, args.count)
    elif args.task == "m3":
        for part in args.m3:
            _, h, m, freq = M3[part]
            train, test, df = load_m3(data, part)
            run_panel(f"M3 {part}", train, test, df, h, m, m, freq, args.models, args.n_jobs)
    else:
        for f in args.m4:
            r = M4[f]
            train, test, df = load_m4(data, f)
            run_panel(f"M4 {f}", train, test, df, r["h"], r["m"], r["season"], None, args.models, args.n_jobs)


if __name__ == "__main__":
    main()
