"""How long each preset takes to train, against what genlib says beforehand (prints a table).

    python bench/preset_times.py                                  # every preset on the GPU if there is one
    python bench/preset_times.py --device cpu --presets quick --threads 1

Per family and preset, on the built-in `digits` pictures (16×16 gray, 10 classes; the data the
presets' stated times are measured on):
  stated     the preset's own figure (`expected_gpu_seconds` on a GPU, `expected_cpu_seconds` on a
             processor), what the app shows before it has measured anything;
  estimate   `genlib.estimate`'s range, from a few real steps and one preview on this device;
  measured   `genlib.train.fit` with the preset's settings plus the final preview draw, from the
             model's construction to the last picture. Presets of more than `--max-steps` steps are
             trained for that many and the rest extrapolated at the measured pace (the table says so).
The quality score at the end of a training in the app is not included (`GENLIB_SCORE=0` in the app).
Imports only torch and genlib's training path.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlib import estimate  # noqa: E402
from genlib.data import load_builtin  # noqa: E402
from genlib.device import describe_device, resolve_device  # noqa: E402
from genlib.models import MODELS, build_model, get_preset  # noqa: E402
from genlib.train import TrainConfig, fit  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measured(family, preset, data, device, max_steps):
    """Seconds to train `preset` and draw its final preview, and the steps actually run."""
    p = get_preset(family, preset)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    steps = min(p.steps, max_steps)
    extra = {k: v for k, v in p.train.items() if k in fields}
    cfg = TrainConfig(**{**extra, "steps": steps, "batch_size": p.batch_size, "lr": p.lr,
                         "device": str(device), "log_every": 50})
    t0 = time.perf_counter()
    torch.manual_seed(0)
    model = build_model(family, data.shape, data.num_classes, **p.model)
    state = fit(model, data, cfg)
    sync(device)
    t_fit = time.perf_counter()
    model.sample(cfg.preview_n, seed=0)
    sync(device)
    t_end = time.perf_counter()
    if state.status != "finished":
        raise SystemExit(f"{family} {preset}: {state.status} {state.error}")
    per_step = state.session_seconds / max(1, steps)
    total = (t_end - t0) + per_step * (p.steps - steps)
    return total, steps, state.cuda_graph, t_end - t_fit


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--presets", nargs="+", default=["quick", "standard", "best"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--max-steps", type=int, default=3000, help="train at most this many steps, then extrapolate")
    ap.add_argument("--threads", type=int, default=0, help="CPU intra-op threads (0: genlib's choice)")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    gpu = device.type != "cpu"
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_builtin("digits")
    print(f"# device {describe_device(device)}; PyTorch {torch.__version__}; data digits {data.shape}")
    print(f"# command: python {' '.join(sys.argv)}")
    print(f"{'model':9s} {'preset':9s} {'steps':>6s} {'stated s':>9s} {'estimate':>16s} {'measured s':>11s} "
          f"{'graph':>5s} {'preview s':>9s}  note")
    for family in args.models:
        for preset in args.presets:
            p = get_preset(family, preset)
            stated = p.expected_gpu_seconds if gpu else p.expected_cpu_seconds
            speed = estimate.measure_speed(family, preset, data.shape, data.num_classes, device=device)
            guess = estimate.expected_time(speed, {"steps": p.steps, "preview_n": p.train.get("preview_n", 64)},
                                           is_gpu=gpu)
            total, steps, graph, preview = measured(family, preset, data, device, args.max_steps)
            note = "" if steps == p.steps else f"trained {steps} steps, the rest extrapolated"
            print(f"{family:9s} {preset:9s} {p.steps:6d} {stated:9.0f} {guess.low:7.1f}–{guess.high:7.1f} "
                  f"{total:11.1f} {'yes' if graph else 'no':>5s} {preview:9.2f}  {note}", flush=True)
    print(f"# the device's first use in this process took {estimate.start_device(device):.1f} s (a GPU's context and "
          "libraries): outside every figure above; a hosted server's trainings, each in a fresh worker process, "
          "pay it again and their estimate includes it")


if __name__ == "__main__":
    main()
