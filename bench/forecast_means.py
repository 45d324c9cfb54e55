"""Which models to average: every mean of one to four of Theta, ETS, AR, naive and drift (or
--models), scored on all 3,003 M3 series (each model fitted per series;
relative MASE = each series' MASE over seasonal naive's, geometric mean over the series). auto's
steady mean (genlib/forecast/selection.py) is the best of them.

The same means are scored on the series of bench/forecast_single.py's one-file draws (--draws:
seeds 0 to 3, 120 series each). On those files auto forecasts every series with the steady mean,
so its column there is auto's score: a mean that wins on all of M3 but loses on the draws would
not move the one-file figures. Measured so: ARIMA as the mean's fourth member, 0.7135 → 0.7097
on all of M3, but 0.694 → 0.699 on the four draws (0.728, 0.698, 0.705, 0.646 → 0.745, 0.715,
0.689, 0.645).

    nice python bench/forecast_means.py --data DIR      # DIR holds m3_competition/M3C.xls
    nice python bench/forecast_means.py --models theta ets ar naive drift arima   # ARIMA too (~30 min)
"""
from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.datasets import M3, data_dir, load_m3, single_sample  # noqa: E402
from genlib.forecast import metrics  # noqa: E402
from genlib.forecast.registry import get_model  # noqa: E402

MODELS = ("theta", "ets", "ar", "naive", "drift")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder holding m3_competition/ (default: $GENLIB_BENCH_DATA or bench/data)")
    parser.add_argument("--top", type=int, default=12, help="means listed, best first")
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="registry names to average")
    parser.add_argument("--draws", type=int, default=4, help="one-file draws scored apart (seeds 0, 1, …)")
    args = parser.parse_args()
    folder = data_dir(args.data)
    print("# which models to average, on all of M3")
    print("command: python bench/forecast_means.py " + " ".join(sys.argv[1:]))
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; python {platform.python_version()}, "
          f"torch {torch.__version__}")
    logs: dict[tuple, dict] = {}            # combo → (part, series) → log relative MASE
    t0 = time.perf_counter()
    for part, (_, h, m, _) in M3.items():
        train, test, df = load_m3(folder, part)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = {name: {u: g["mean"].to_numpy() for u, g in
                         get_model(name, season_length=m).fit(df).predict(h).groupby("unique_id")}
                  for name in args.models}
        for u in train:
            snaive = np.resize(train[u][-m:], h)
            base = max(metrics.mase(test[u], snaive, train[u], m), 1e-9)
            for k in range(1, min(4, len(args.models)) + 1):
                for combo in itertools.combinations(args.models, k):
                    mean = np.mean([fc[c][u] for c in combo], axis=0)
                    score = max(metrics.mase(test[u], mean, train[u], m), 1e-9)
                    logs.setdefault(combo, {})[part, u] = np.log(score / base)
        print(f"  … {part}: {len(train)} series", flush=True)
    print(f"\n{len(next(iter(logs.values())))} series, {time.perf_counter() - t0:.0f} s\n")
    draws = [[(part, uid) for part, uid, *_ in single_sample(folder, 30, seed)] for seed in range(args.draws)]
    head = "".join(f" draw {k} |" for k in range(args.draws)) + (" mean of the draws |" if draws else "")
    print(f"| mean of | all of M3 |{head}\n|---|---|" + "---|" * (len(draws) + bool(draws)))
    ranked = sorted(logs.items(), key=lambda kv: np.mean(list(kv[1].values())))
    alone = [kv for kv in ranked if len(kv[0]) == 1]
    for combo, v in ranked[:args.top] + [kv for kv in alone if kv not in ranked[:args.top]]:
        on = [np.exp(np.mean([v[k] for k in ids])) for ids in draws]
        print(f"| {' + '.join(combo)} | {np.exp(np.mean(list(v.values()))):.4f} |"
              + "".join(f" {x:.3f} |" for x in on) + (f" {np.mean(on):.3f} |" if on else ""))


if __name__ == "__main__":
    main()
