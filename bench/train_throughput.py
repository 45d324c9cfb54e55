"""Training throughput of every image model: genlib's loop against a plain PyTorch loop.

    python bench/train_throughput.py                 # all families, batch 64 and 256, 28×28 gray
    python bench/train_throughput.py --steps 50 --device cuda --image-size 32 --channels 3

For each model and batch size, the same model trains `--steps` steps twice in this process: once
through `genlib.train.fit` (batching, warm-up, autocast, NaN checks, callbacks) and once in a plain
loop that only indexes a random batch and calls `train_step`. The ratio genlib / plain shows what
the loop costs (1.00 = nothing). Images per second are measured after `--warmup` untimed steps.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlib.models import MODELS, build_model, get_preset  # noqa: E402
from genlib.device import describe_device, resolve_device  # noqa: E402
from genlib.train import TrainConfig, fit  # noqa: E402


class Data:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def tensors(self):
        return (self.x, self.y)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def plain_loop(model, x, y, batch, steps, device):
    model.to(device).train()
    x, y = x.to(device), y.to(device)
    use_amp = device.type == "cuda"
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            model.train_step(x[idx], y[idx])
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def genlib_loop(model, x, y, batch, steps, device):
    cfg = TrainConfig(steps=steps, batch_size=batch, lr=2e-4, device=str(device), log_every=10)
    state = fit(model, Data(x, y), cfg)
    sync(device)
    return state.examples_per_second if state.step_time else float("nan"), state


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--batches", nargs="+", type=int, default=[64, 256])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--image-size", type=int, default=28)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    device = resolve_device(args.device)
    n = max(args.batches) * 4
    torch.manual_seed(0)
    x = torch.rand(n, args.channels, args.image_size, args.image_size) * 2 - 1
    y = torch.randint(0, 10, (n,))
    print(f"# genlib training throughput — {describe_device(device)}, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    print(f"# command: python {' '.join(sys.argv)}")
    print(f"# images {args.channels}×{args.image_size}×{args.image_size}, preset {args.preset} model sizes, "
          f"{args.steps} timed steps after {args.warmup} warm-up steps")
    print(f"{'model':10s} {'batch':>5s} {'plain img/s':>12s} {'genlib img/s':>13s} {'ratio':>6s}")
    for family in args.models:
        p = get_preset(family, args.preset)
        for batch in args.batches:
            def make():
                torch.manual_seed(0)
                m = build_model(family, (args.channels, args.image_size, args.image_size), 10, **p.model)
                m.to(device).setup_training(2e-4, 1.0)
                plain_loop(m, x, y, batch, args.warmup, device)  # warm-up: allocator, kernels
                return m
            plain = plain_loop(make(), x, y, batch, args.steps, device)
            # fit() measures a smoothed step time itself; time it end to end here to be fair.
            m = make()
            sync(device)
            start = time.perf_counter()
            genlib_loop(m, x, y, batch, args.steps, device)
            ours = args.steps * batch / (time.perf_counter() - start)
            print(f"{family:10s} {batch:5d} {plain:12.1f} {ours:13.1f} {ours / plain:6.2f}", flush=True)


if __name__ == "__main__":
    main()
