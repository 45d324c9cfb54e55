"""Linear AR on 100,000 series: seconds to fit and forecast, one series at a time against the
batched fit in one process, in worker processes on every core, and on a GPU (prints a table).

    nice python bench/forecast_scale.py                          # 100,000 series, each path once
    nice python bench/forecast_scale.py --series 20000 --repeat 3

Data: built in (no download). Seeded synthetic series, a quarter each of AR(1), AR(2), seasonal
(period 12) and trending random walks, lengths 60–300. The model is `AR` with default settings
(differencing and order chosen per series), the forecaster `AutoForecaster` fits as "ar".

The per-series path is the same functions called on one series at a time; it is timed on the
first `--baseline` series and extrapolated linearly (the table says so). Batched timings cover
the whole fit on arrays (what `AR.fit` does after splitting the table); one extra line times
`AR.fit(df)` through the long table, where pandas' split of the table adds its own seconds.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genlib.forecast import linear  # noqa: E402
from genlib.forecast.linear import AR, fit_panel  # noqa: E402

M = 12                                     # season length of the seasonal series
SETTINGS = {"p": None, "max_p": None, "d": None, "D": None, "ic": "aic"}   # AR()'s defaults


def make_series(count: int, seed: int = 0, lo: int = 60, hi: int = 300) -> list[np.ndarray]:
    """count seeded series: AR(1), AR(2), seasonal, trend (a quarter each), lengths lo…hi."""
    rng = np.random.default_rng(seed)
    n = rng.integers(lo, hi + 1, count)
    kind = rng.integers(0, 4, count)
    T = hi + 50                                          # 50 steps of burn-in
    e = rng.normal(size=(count, T))
    a1 = np.where(kind == 0, rng.uniform(-0.8, 0.9, count), np.where(kind == 1, rng.uniform(0.2, 0.6, count), 0.0))
    a2 = np.where(kind == 1, rng.uniform(-0.4, 0.2, count), 0.0)
    Y = np.zeros((count, T))
    for t in range(2, T):
        Y[:, t] = a1 * Y[:, t - 1] + a2 * Y[:, t - 2] + e[:, t]
    t = np.arange(T)
    seasonal = kind == 2
    Y[seasonal] += rng.uniform(1, 5, (seasonal.sum(), 1)) * np.sin(
        2 * np.pi * t / M + rng.uniform(0, 2 * np.pi, (seasonal.sum(), 1)))
    trend = kind == 3
    Y[trend] = np.cumsum(e[trend] + rng.uniform(-0.5, 0.5, (trend.sum(), 1)), axis=1)
    Y += rng.uniform(5, 500, (count, 1))
    return [Y[i, T - k:].copy() for i, k in enumerate(n)]


def long_table(series: list[np.ndarray]) -> pd.DataFrame:
    n = [len(y) for y in series]
    return pd.DataFrame({"unique_id": np.repeat([f"s{i:06d}" for i in range(len(series))], n),
                         "ds": np.concatenate([np.arange(k) for k in n]), "y": np.concatenate(series)})


def cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, repeat: int) -> tuple[list[tuple[float, float]], object]:
    """(wall seconds, CPU seconds) of each of `repeat` calls, and the last result."""
    out, result = [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), cpu_seconds()
        result = fn()
        out.append((time.perf_counter() - t0, cpu_seconds() - c0))
    return out, result


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = (f"{torch.cuda.get_device_name(0)}" if torch.cuda.is_available()
           else "none (torch.cuda.is_available() is False)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"CPU: {cpu}; {cores()} cores for this process; load average {load}\nGPU: {gpu}\n"
            f"Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} intra-op threads), numpy {np.__version__}")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Rows:
    """Prints each timing as soon as it is measured: path, seconds, series/s, ratio, note."""

    def __init__(self, count: int):
        self.count, self.base = count, None

    def append(self, row: tuple) -> None:
        path, runs, note = row
        if runs is None:
            print(f"{path:44s} {'—':>15s} {'—':>8s} {'—':>9s} {'—':>9s}  {note}", flush=True)
            return
        wall = [w for w, _ in runs]
        best, med = min(wall), statistics.median(wall)
        shown = f"{best:.2f}" if len(wall) == 1 else f"{best:.2f} / {med:.2f}"
        cpu = runs[wall.index(best)][1]
        ratio = f"{self.base / best:.1f}" if not path.startswith("predict") else ""
        print(f"{path:44s} {shown:>15s} {cpu:>8.1f} {self.count / best:>9,.0f} {ratio:>9s}  {note}",
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=100_000, help="how many series")
    ap.add_argument("--baseline", type=int, default=1000, help="series timed one at a time")
    ap.add_argument("--repeat", type=int, default=1, help="times each batched path is run")
    ap.add_argument("--h", type=int, default=12, help="forecast horizon")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-table", action="store_true", help="skip the fit through the long table")
    args = ap.parse_args()

    print("command:", "python " + " ".join(shlex.quote(a) for a in sys.argv))
    print(machine())
    t0 = time.perf_counter()
    series = make_series(args.series, args.seed)
    n = np.array([len(y) for y in series])
    print(f"data: {len(series):,} series, lengths {n.min()}–{n.max()} (mean {n.mean():.0f}), "
          f"{n.sum() / 1e6:.1f} M values, seed {args.seed}; made in {time.perf_counter() - t0:.1f} s\n")

    print(f"{'path':44s} {'wall s':>15s} {'CPU s':>8s} {'series/s':>9s} {'× faster':>9s}  note")
    rows = Rows(len(series))
    k = min(args.baseline, len(series))
    secs, _ = timed(lambda: [fit_panel([y], M, SETTINGS, "cpu") for y in series[:k]], 1)
    scale = len(series) / k
    rows.base = secs[0][0] * scale
    rows.append(("per series, CPU, one at a time", [(rows.base, secs[0][1] * scale)],
                 f"timed on {k:,} series ({secs[0][0]:.2f} s), extrapolated ×{scale:g}"))
    secs, fit = timed(lambda: fit_panel(series, M, SETTINGS, "cpu", 1), args.repeat)
    rows.append(("batched, CPU, n_jobs=1", secs, f"{torch.get_num_threads()} torch threads"))
    if cores() > 1:
        secs, fit2 = timed(lambda: fit_panel(series, M, SETTINGS, "cpu", -1), args.repeat)
        same = all(np.allclose(fit2[key], fit[key], rtol=1e-9, atol=1e-12) for key in fit)
        how = ("includes starting the workers" if n.sum() >= linear.WORKERS_FROM else
               f"under {linear.WORKERS_FROM:,} values: no workers, fitted in this process")
        rows.append((f"batched, CPU, n_jobs=-1 ({cores()} processes)", secs,
                     f"{how}; same fit as n_jobs=1: {same}"))
    else:
        rows.append(("batched, CPU, n_jobs=-1", None, "one core only: nothing to spread"))
    if torch.cuda.is_available():
        fit_panel(series[:2000], M, SETTINGS, "cuda")    # start CUDA before timing
        secs, fit3 = timed(lambda: fit_panel(series, M, SETTINGS, "cuda"), args.repeat)
        same = all(np.allclose(fit3[key], fit[key], rtol=1e-6, atol=1e-9) for key in fit)
        rows.append((f"batched, CUDA ({torch.cuda.get_device_name(0)})", secs,
                     f"same fit as the CPU (1e-6): {same}"))
    else:
        rows.append(("batched, CUDA", None, "no CUDA GPU here: not measured"))

    if not args.no_table:
        t0 = time.perf_counter()
        df = long_table(series)
        made = time.perf_counter() - t0
        secs, model = timed(lambda: AR(season_length=M, device="cpu").fit(df), args.repeat)
        rows.append(("AR.fit(df), CPU, n_jobs=1", secs, (f"long table of {len(df):,} rows (built in "
                     f"{made:.1f} s, not counted); includes pandas' split")))
        secs, _ = timed(lambda: model._predict_arrays(args.h, (80, 95)), args.repeat)
        rows.append((f"predict h={args.h}, arrays", secs, "mean and 80/95 % bands"))
        secs, fc = timed(lambda: model.predict(args.h), args.repeat)
        rows.append((f"predict h={args.h}, AR.predict table", secs, f"{len(fc):,} rows"))

    runs = f"fastest / median of {args.repeat} runs" if args.repeat > 1 else "one run"
    print(f"wall s: {runs}; "
          "CPU s: this process and its workers in that run (wall ≫ CPU / cores: a busy machine); "
          "× faster: against one series at a time")


if __name__ == "__main__":
    main()
