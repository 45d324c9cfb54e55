"""Do background trainings in threads freeze everyone's pages? A page-like workload, timed while
0, 1, 2 (and 4) real genlib trainings run as registry jobs in the same process.

    python bench/jobs_responsiveness.py                      # about a minute on 2 cores
    python bench/jobs_responsiveness.py --reps 60 --torch-threads 1

A Streamlit script run is pure Python that holds the GIL: it builds figures and dicts and turns
them into JSON. `page()` does the same: the app's loss figure (genlib.plots.loss_figure) from a
2,000-step history, serialised as the browser would get it, plus a dict of 10,000 items turned
into JSON. It runs `--reps` times with a short pause (a page is not redrawn back to back) in each
scenario:

- idle: no job;
- 1 and 2 trainings: `train_model("gan", digits, preset="quick", device="cpu")` as jobs of a
  `JobRegistry` with no cap, each with its callback and stop event, like the app's;
- cap 1, 4 submitted: `JobRegistry(max_running=1)`, four visitors start a training (one runs,
  three wait);
- 4 trainings, no cap: what the cap prevents (skip it with --skip-uncapped);
- 2 trainings in worker processes: the control. The same two trainings in two spawned processes
  cannot hold this process's GIL; if the page is about as slow with threads as with processes,
  what slows it is the cores the trainings use, not the GIL, and processes would not help.

Trainings use the app's settings for the preset (genlib.pipeline.train_settings: previews every
40 steps, checkpoints every 160) and are given 100,000 steps so that none ends while the page is timed; each is warmed up
(model built, first steps done) before timing starts and stopped afterwards. Printed: median and
95th percentile of the page's latency, their ratio to the idle baseline, and the training steps
per second of all running jobs together during the timing, and the page's median CPU time (its
own thread's): wall time minus CPU time is time the page spent waiting for the GIL or a core.
`--rounds` repeats the whole plan and pools the samples, so that a burst of other work on the
machine does not land on one scenario only. Run on a quiet machine: these are wall-clock times.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlib.data import load_builtin  # noqa: E402
from genlib.jobs import JobRegistry  # noqa: E402
from genlib.pipeline import train_model, train_settings  # noqa: E402
from genlib.plots import loss_figure  # noqa: E402
from genlib.train import Callback  # noqa: E402


# what the app trains with (previews and checkpoints along the way), less the preset's step count
APP_SETTINGS = {k: v for k, v in train_settings("gan", "quick").items() if k != "steps"}


def page(history: list[dict]) -> int:
    """What one Streamlit script run costs in pure Python: a figure and a big dict, as JSON."""
    fig = loss_figure(history)
    table = {f"row-{i}": {"step": i, "loss": i * 0.5, "label": str(i)} for i in range(10_000)}
    return len(fig.to_json()) + len(json.dumps(table))


def time_pages(history: list[dict], reps: int, pause: float) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (this thread's) of `reps` page runs."""
    wall, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.thread_time()
        page(history)
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
        time.sleep(pause)
    return wall, cpu


def trainer(data, out_dir: Path, steps: int):
    def work(callback, stop_event):
        return train_model("gan", data, preset="quick", steps=steps, device="cpu", out_dir=out_dir,
                           train_overrides=APP_SETTINGS, callbacks=[callback], stop_event=stop_event)
    return work


class StepCounter(Callback):
    """Reports a worker process's step through a shared integer."""

    def __init__(self, value):
        self.value = value

    def on_step(self, state, metrics):
        self.value.value = int(state.step)


def train_in_process(out_dir: str, steps: int, stop, step, threads: int) -> None:
    torch.set_num_threads(threads)
    train_model("gan", load_builtin("digits"), preset="quick", steps=steps, device="cpu",
                out_dir=out_dir, train_overrides=APP_SETTINGS, callbacks=[StepCounter(step)],
                stop_event=stop)


def thread_jobs(data, args, folder: Path, jobs: int, max_running):
    """Trainings as registry jobs: (running step counters, stop-and-wait, queued count)."""
    registry = JobRegistry(max_running=max_running, max_seconds=None, abandon_after=None)
    submitted = [registry.submit(f"visitor-{i}", trainer(data, folder / str(i), args.steps),
                                 title=f"GAN {i}") for i in range(jobs)]
    running = [j for j in submitted if j.status == "running"]

    def finish():
        for job in submitted:
            job.stop()
        for job in submitted:
            job.wait(120)
    return ([lambda j=j: j.snapshot().step for j in running], finish,
            sum(j.status == "queued" for j in submitted))


def process_jobs(args, folder: Path, jobs: int):
    """The same trainings in spawned worker processes."""
    ctx = mp.get_context("spawn")
    stop, counters = ctx.Event(), [ctx.Value("i", 0) for _ in range(jobs)]
    procs = [ctx.Process(target=train_in_process, daemon=True,
                         args=(str(folder / str(i)), args.steps, stop, c, torch.get_num_threads()))
             for i, c in enumerate(counters)]
    for p in procs:
        p.start()

    def finish():
        stop.set()
        for p in procs:
            p.join(120)
    return [lambda c=c: c.value for c in counters], finish, 0


def scenario(name, data, history, args, tmp: Path, *, jobs: int, max_running=None,
             processes: bool = False) -> dict:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    steps_of, finish, queued = (process_jobs(args, folder, jobs) if processes else
                                thread_jobs(data, args, folder, jobs, max_running))
    end = time.time() + 180
    while any(step() < args.warmup_steps for step in steps_of) and time.time() < end:
        time.sleep(0.1)
    before = sum(step() for step in steps_of)
    t0 = time.perf_counter()
    wall, cpu = time_pages(history, args.reps, args.pause)
    rate = (sum(step() for step in steps_of) - before) / (time.perf_counter() - t0)
    finish()
    return {"name": name, "running": len(steps_of), "queued": queued, "wall": wall, "cpu": cpu,
            "steps_per_s": [rate]}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu}; {cores} cores for this process; load average {load}; Python "
            f"{platform.python_version()}; torch {torch.__version__} with {torch.get_num_threads()} "
            f"intra-op threads")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=40, help="page runs timed per scenario")
    ap.add_argument("--pause", type=float, default=0.05, help="seconds between two page runs")
    ap.add_argument("--steps", type=int, default=100_000, help="steps each training is given")
    ap.add_argument("--warmup-steps", type=int, default=10,
                    help="steps each training does before timing (progress is reported every 10)")
    ap.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--rounds", type=int, default=2, help="times the whole plan runs (samples pooled)")
    ap.add_argument("--skip-uncapped", action="store_true", help="leave out 4 trainings without a cap")
    ap.add_argument("--skip-processes", action="store_true", help="leave out the worker-process control")
    args = ap.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    print("# genlib jobs: page latency while trainings run in threads of the same process")
    print(f"# command: python {' '.join(sys.argv)}")
    print(f"# machine: {machine()}")
    print(f"# page: loss figure of 2,000 steps + dict of 10,000 items, both to JSON; {args.reps} runs, "
          f"{args.pause:g} s apart; trainings: GAN, preset quick, built-in digits, CPU")
    data = load_builtin("digits")
    rng = np.random.default_rng(0)
    history = [{"step": s, "loss_d": float(v), "loss_g": float(w)}
               for s, v, w in zip(range(1, 2001), rng.random(2000), rng.random(2000))]
    time_pages(history, 5, 0)                                              # warm-up: imports, caches
    plan = [("idle", 0, None, False), ("1 training", 1, None, False),
            ("2 trainings", 2, None, False), ("cap 1, 4 submitted", 4, 1, False)]
    if not args.skip_uncapped:
        plan.append(("4 trainings, no cap", 4, None, False))
    if not args.skip_processes:
        plan.append(("2 trainings, processes", 2, None, True))
    pooled: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, jobs, cap, procs in plan:
                r = scenario(name, data, history, args, Path(tmp), jobs=jobs, max_running=cap,
                             processes=procs)
                if name in pooled:
                    for key in ("wall", "cpu", "steps_per_s"):
                        pooled[name][key] += r[key]
                else:
                    pooled[name] = r
    base = statistics.median(pooled["idle"]["wall"])
    print(f"# load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'scenario':24s} {'running':>7s} {'queued':>6s} {'median ms':>9s} {'p95 ms':>7s} "
          f"{'x idle':>6s} {'cpu ms':>6s} {'train steps/s':>13s}")
    for r in pooled.values():
        med = statistics.median(r["wall"])
        print(f"{r['name']:24s} {r['running']:7d} {r['queued']:6d} {1000 * med:9.1f} "
              f"{1000 * float(np.percentile(r['wall'], 95)):7.1f} {med / base:6.2f} "
              f"{1000 * statistics.median(r['cpu']):6.1f} {statistics.mean(r['steps_per_s']):13.1f}")

if __name__ == "__main__":
    main()
