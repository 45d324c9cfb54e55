"""Sampling speed: how long a batch of new pictures takes, per family, and PixelCNN's cached drawing
against drawing with a full network pass per pixel.

    python bench/sampling.py                                 # digits-sized pictures, 256 at once
    python bench/sampling.py --device cuda --shape 1 28 28 --n 1024
    python bench/sampling.py --families pixelcnn --preset quick --threads 1

For each family, `model.sample(n)` of the preset's model (untrained: speed does not depend on the
weights), timed after one warm-up call, median of `--repeats`. For PixelCNN, also
  full pass   a sampler written here that runs the whole network over the whole picture for every
              pixel (what drawing costs with no cache), with the same random numbers,
at `--full-n` pictures (the full pass is slow), the ratio full pass / genlib, and a check that
both drew the same pictures.
Imports only torch and genlib's training path.
"""
from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlib.device import cpu_threads, resolve_device  # noqa: E402
from genlib.models import build_model, get_preset  # noqa: E402
from genlib.models.base import class_labels, eval_mode, seeded_generator  # noqa: E402
from genlib.models.pixelcnn import categorical  # noqa: E402


@torch.no_grad()
def full_pass_sample(model, n: int, seed: int, labels=None) -> torch.Tensor:
    """PixelCNN drawing with no cache: the whole network over the whole picture for every pixel,
    the same random numbers and labels as `PixelCNN.sample`."""
    C, H, W = model.image_shape
    u = torch.rand(H, W, n, C, generator=seeded_generator(seed)).to(model.device)
    y = class_labels(labels, n, model.n_cond).to(model.device) if model.n_cond else None
    x = torch.zeros(n, C, H, W, device=model.device)
    with eval_mode(model):
        for r in range(H):
            for c in range(W):
                out = model.net(x, y)[:, :, :, r, c]
                probs = torch.softmax(out.float(), dim=1)                   # n, levels, C
                x[:, :, r, c] = model.values(categorical(probs.transpose(1, 2), u[r, c]))
    return x


def timed(fn, repeats: int, device: torch.device) -> tuple[float, object]:
    """Median seconds of `fn()` over `repeats` calls after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--families", nargs="+", default=["gan", "vae", "pixelcnn"])
    p.add_argument("--preset", default="standard")
    p.add_argument("--shape", nargs=3, type=int, default=[1, 16, 16], metavar=("C", "H", "W"))
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--n", type=int, default=256, help="pictures per batch")
    p.add_argument("--full-n", type=int, default=16, help="pictures for PixelCNN's full-pass comparison")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's choice)")
    args = p.parse_args(argv)
    device = resolve_device(args.device)
    print(f"# {platform.node()} · {platform.processor() or platform.machine()} · torch {torch.__version__} · "
          f"device {device} · {args.n} pictures of {args.shape[0]}×{args.shape[1]}×{args.shape[2]} · "
          f"preset {args.preset} · median of {args.repeats}")
    print(f"# python {' '.join(sys.argv)}")
    with cpu_threads(args.threads) if args.threads else contextlib.nullcontext():
        print(f"# CPU threads: {torch.get_num_threads()}")
        for family in args.families:
            torch.manual_seed(0)
            model = build_model(family, tuple(args.shape), args.classes,
                                **get_preset(family, args.preset).model).to(device)
            seconds, ours = timed(lambda: model.sample(args.n, seed=0, labels=None), args.repeats, device)
            line = f"{family:9s} genlib {seconds * 1000:10.1f} ms  ({args.n / seconds:,.0f} pictures/s)"
            if family == "pixelcnn":                                    # both at --full-n pictures
                k = args.full_n
                small, ours = timed(lambda: model.sample(k, seed=0), args.repeats, device)
                full, theirs = timed(lambda: full_pass_sample(model, k, seed=0), 1, device)
                differ = (ours != theirs).float().mean().item()
                line += (f"\n{'':9s} at {k} pictures: genlib {small * 1000:.1f} ms, full pass {full * 1000:.1f} ms, "
                         f"ratio {full / small:.1f}×, values that differ {differ:.2%}")
            print(line, flush=True)


if __name__ == "__main__":
    main()
