"""One upload at a time: 120 short M3 series, each written to its own file and forecast alone.

    nice python bench/forecast_single.py                 # auto, and its peers in genlib
    nice python bench/forecast_single.py --models auto --per-part 10
    nice python bench/forecast_single.py --kind daily      # or hourly, m4-hourly
    nice python bench/forecast_single.py --kind hourly --models auto --holidays CN
    nice python bench/forecast_single.py --kind classic   # 11 classic series statsmodels ships
    nice python bench/forecast_single.py --kind daily --closed-day SUN   # files without Sundays
    nice python bench/forecast_single.py --kind hourly --open-hours 8 19  # files of opening hours
    nice python bench/forecast_single.py --kind shops --count 40   # simulated shops' daily sales
    nice python bench/forecast_single.py --kind meters --count 40  # simulated half-hourly meters

What a person uploading one file sees, measured: a fixed random draw (seed 0) of 30 series from
each M3 part (yearly, quarterly, monthly, other), each written to a CSV the way people export them
(a `Year` column of integers, quarter labels `Q1 1984`, month names `Jan 1990`, and no dates at
all for "other"), read with `load_series` and forecast with the command line's own function
(`fit_forecast`, what `python -m genlib forecast FILE --horizon H --level 80 95` runs) over the
NF values M3 held back. Scores:

- relative MASE: each series' MASE over seasonal naive's on the same series (period 1, 4, 12, 1),
  geometric mean over series (below 1: better than seasonal naive);
- sMAPE, mean over series;
- how often the 80 % and 95 % bands held the held-back values, mean over series;
- wall seconds for all the fits.

`--kind daily` and `--kind hourly` draw `--count` stretches (random length and end) of real
series instead: ETTh1/ETTh2's seven columns (daily: as daily means) and, daily, the eight LSTNet
exchange rates; each is forecast 14 days or 48 hours ahead, written with a Date or Time column.
`--kind m4-hourly` uploads each of the 414 M4 Hourly series alone (dated an hour apart).
`--kind classic` uploads eleven classic public series that statsmodels ships (yearly sunspots
and Nile flow, monthly CO2, El Niño and equipment orders, five quarterly economic series, the
weekly CO2 readings with their gaps; bench/datasets.py `classic_sample`): no data folder needed.
`--kind shops` (50 to 119 days of history) and `--kind shops-year` (120 to 799) simulate shops'
daily sales with a weekly pattern, noise, a few missing days and one written twice
(bench/datasets.py `shop_sample`), each forecast 28 days ahead: no data folder needed.
`--kind meters` simulates half-hourly meter readings (14 to 59 days of a daily shape of their own,
weekends of their own, AR(1) noise, a drifting level; bench/datasets.py `meter_sample`), each
forecast 2 days ahead: no data folder needed.
`--closed-day SUN` leaves that day of the week out of every daily stretch, as a shop's sales
file has no Sundays (the loader reads such files on the days they have; the season is 6 days).
`--open-hours 8 19` keeps only those hours of each hourly stretch, as a call centre's file has its
opening hours alone (the loader reads them on those hours; the season is a day of open hours).
Every model but auto (which calibrates its own) is forecast as the command line does, its bands
calibrated on the file's past (`conformal.Calibrated`); `--own-bands` keeps each model's own.
`--holidays CN` forecasts daily and hourly files with that country's public holidays (what
`--holidays` does on the command line) and counts the files where they were used; only ETT's
dates are real (its transformers are in China), the others' are made up.

bench/forecast_peers.py --task single scores statsforecast's AutoARIMA, AutoETS and AutoTheta on the
same draw (the same numbers, in its own environment).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.datasets import KINDS, data_dir, one_file_sample, score_single, summarise  # noqa: E402
from genlib.data.series import load_series  # noqa: E402
from genlib.forecast.calendar import daily_or_finer  # noqa: E402
from genlib.forecast.report import fit_forecast  # noqa: E402
from genlib.freq import WEEKDAYS  # noqa: E402

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def as_people_write_it(part: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table of one series as a person would export it."""
    ds = df["ds"]
    if part == "year":
        return pd.DataFrame({"Year": ds.dt.year, "Value": df["y"]})
    if part == "quarter":
        return pd.DataFrame({"Quarter": [f"Q{t.quarter} {t.year}" for t in ds], "Value": df["y"]})
    if part == "month":
        return pd.DataFrame({"Month": [f"{MONTHS[t.month - 1]} {t.year}" for t in ds], "Sales": df["y"]})
    if part in ("daily", "week"):
        return pd.DataFrame({"Date": ds.dt.strftime("%Y-%m-%d"), "Value": df["y"]})
    if part in ("hourly", "m4-hourly", "halfhourly"):
        return pd.DataFrame({"Time": ds.dt.strftime("%Y-%m-%d %H:%M"), "Load": df["y"]})
    return pd.DataFrame({"Value": df["y"]})                               # no dates at all


def run(model: str, sample, folder: Path, holidays: str | None = None, calibrate: bool = True
        ) -> tuple[list[dict], float, list[str]]:
    rows, refused, t_all = [], [], 0.0
    for part, uid, df, test, h, m in sample:
        path = folder / f"{part}-{uid.replace(' ', '')}.csv"
        as_people_write_it(part, df).to_csv(path, index=False)
        try:
            data = load_series(path)
        except Exception as exc:  # noqa: BLE001 — a refused file is a result to report
            refused.append(f"{path.name}: {exc}")
            continue
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc, fitted, _ = fit_forecast(model, data.df, h, (80, 95), freq=data.freq, holidays=holidays
                                         if holidays and daily_or_finer(data.freq) else None,
                                         calibrate=calibrate)
        t_all += time.perf_counter() - t0
        moved = any(e.used for e in (getattr(fitted, "effects_", None) or {}).values())
        train = data.df["y"].to_numpy(float)
        row = score_single(train, test, m, *(fc[c].to_numpy() for c in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")))
        rows.append({"part": part, "uid": uid, "freq": str(data.freq), "holidays": moved, **row})
    return rows, t_all, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=["seasonal_naive", "theta", "ets", "ar", "auto"])
    parser.add_argument("--kind", choices=KINDS, default="m3",
                        help="which uploads: M3 series, stretches of daily or hourly series, "
                             "or every M4 Hourly series")
    parser.add_argument("--seed", type=int, default=0, help="which random draw of series")
    parser.add_argument("--per-part", type=int, default=30, help="series drawn from each M3 part")
    parser.add_argument("--count", type=int, default=80, help="stretches drawn for daily or hourly")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--closed-day", choices=WEEKDAYS,
                        help="daily: leave this day of the week out of every file (a shop closed on it)")
    parser.add_argument("--open-hours", type=int, nargs=2, metavar=("FIRST", "LAST"),
                        help="hourly: keep only these hours of each day in every file (opening hours)")
    parser.add_argument("--holidays", metavar="COUNTRY",
                        help="daily and hourly files: forecast with this country's public holidays")
    parser.add_argument("--own-bands", action="store_true",
                        help="each model's own bands, not calibrated on the file's past (auto calibrates its own)")
    parser.add_argument("--data", help="folder holding m3_competition/ (default: $GENLIB_BENCH_DATA "
                                       "or bench/data)")
    args = parser.parse_args()
    if args.closed_day and args.kind != "daily":
        parser.error("--closed-day goes with --kind daily")
    if args.open_hours and args.kind != "hourly":
        parser.error("--open-hours goes with --kind hourly")
    torch.set_num_threads(args.threads)
    data = data_dir(args.data)
    closed = WEEKDAYS.index(args.closed_day) if args.closed_day else None
    sample = one_file_sample(data, args.kind, args.per_part, args.count, args.seed, closed, args.open_hours)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# genlib forecasting one uploaded file at a time ({args.kind})")
    print(f"command: {' '.join(['python'] + sys.argv)}")
    print(f"machine: {platform.platform()}, {cores} cores, load average {os.getloadavg()[0]:.1f} at "
          f"start; python {platform.python_version()}, torch {torch.__version__}")
    print(f"{len(sample)} series: {args.per_part} from each of yearly, quarterly, monthly, other "
          f"(draw {args.seed})\n" if args.kind == "m3" else f"{len(sample)} classic series "
          f"({', '.join(f'{u} {h} ahead' for _, u, _, _, h, _ in sample)})\n" if args.kind == "classic"
          else f"{len(sample)} series ({args.kind}, draw {args.seed}, {sample[0][4]} steps ahead"
          + (f", no {args.closed_day} in any file" if args.closed_day else "")
          + (f", hours {args.open_hours[0]} to {args.open_hours[1]} only" if args.open_hours else "") + ")\n")
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            rows, seconds, refused = run(name, sample, Path(tmp), args.holidays, not args.own_bands)
            s = summarise(rows)
            key = "uid" if args.kind == "classic" else "part"      # eleven series: each one's scores
            by_part = {p: summarise([r for r in rows if r[key] == p])
                       for p in dict.fromkeys(r[key] for r in rows)}
            table.append((name, s, by_part, seconds, refused))
            print(f"  … {name} done in {seconds:.1f} s; files refused: {len(refused)}"
                  + (f"; public holidays used on {sum(r['holidays'] for r in rows)} files"
                     if args.holidays else ""), flush=True)
            for line in refused:
                print("    " + line)
            if name == "auto":
                freqs = pd.Series([r["freq"] for r in rows]).value_counts().to_dict()
                print(f"    frequencies read: {freqs}")
    print("\n| model | relative MASE | sMAPE | 80 % band held | 95 % band held | files read | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, s, _, seconds, refused in table:
        print(f"| {name} | {s['rel']:.3f} | {s['smape']:.2f} | {s['cov80']:.1f} % | {s['cov95']:.1f} % "
              f"| {s['n']} of {s['n'] + len(refused)} | {seconds:.1f} |")
    print(f"\nBy {'series' if args.kind == 'classic' else 'part'} (relative MASE, 80 % / 95 % band held):\n")
    parts = list(table[0][2]) if table else []
    print("| model | " + " | ".join(parts) + " |")
    print("|---|" + "---|" * len(parts))
    for name, _, by_part, _, _ in table:
        print(f"| {name} | " + " | ".join(f"{b['rel']:.3f} ({b['cov80']:.0f} / {b['cov95']:.0f} %)"
                                         for b in by_part.values()) + " |")


if __name__ == "__main__":
    main()
