"""Training throughput: genlib's loop against a plain PyTorch loop, and against an H200 reference.

    python bench/train_throughput.py                        # gan, vae, pixelcnn; batch 64/256/1024
    python bench/train_throughput.py --device cpu --batches 64 --steps 10 --threads 1
    python bench/train_throughput.py --device cuda --preset best --steps 200 --warmup 20

Per family and batch size, images per second (real images consumed per step) of
  plain   a plain eager fp32 loop written here with no genlib code: the classic DCGAN (dense →
          7×7×256 → transposed convs 128 → 64 → 1; discriminator 64 → 128 → 256 → 1, BCE, Adam)
          and a conv VAE, both as wide as the genlib preset's model (its base_channels b: the
          DCGAN's widths are 4b, 2b, b, so b = 64, the "best" preset, is the classic shape); none
          for the PixelCNN;
  step    genlib's model, `train_step` called in a bare loop (what the model costs);
  fit     genlib's loop, `genlib.train.fit` (batching, warm-up, autocast, NaN checks, callbacks),
          timed from the end of its first `--warmup` steps to its end; on CUDA its step is
          recorded as one CUDA graph and replayed (`genlib.graphstep`; "graph" says whether it was);
  eager   (opt-in, `--loops … eager`) the same `fit` with that recording turned off
          (`cuda_graph=False`): what the graph gains;
  unfused (opt-in, `--loops step unfused`) the step loop with every resize-convolution computed
          the way it was before `ResizeConv2d`: the enlarged map built, then the 3×3 convolution;
and the ratios fit / plain, fit / eager and step / unfused where both are timed. On CUDA the figures
are set beside a reference measured on one H200 with PyTorch 2.11 (`REFERENCE`); elsewhere they are
not comparable and the bench says so. Random pictures stand in for data (throughput does not
depend on what the pictures show).
`--repeats` runs every measurement again, in turn, and reports the median.
Imports only torch and genlib's training path (genlib.models, genlib.train, genlib.device).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlib.device import resolve_device  # noqa: E402
from genlib.models import MODELS, build_model, count_parameters, get_preset  # noqa: E402
from genlib.models.base import ResizeConv2d  # noqa: E402
from genlib.train import Callback, TrainConfig, fit  # noqa: E402

# One H200, PyTorch 2.11, img/s (real images consumed per step), classic 28×28 DCGAN / conv VAE.
REFERENCE = {
    ("gan", 64): "eager fp32 10,900; graph bf16 51,400",
    ("gan", 256): "eager fp32 30,100; bf16+channels_last 33,300; graph 133,200",
    ("gan", 1024): "eager fp32 121,800; bf16+channels_last 121,200; graph 234,400",
    ("vae", None): "37,500 fp32 at batch 128 to 127,400 bf16+compile at batch 512",
}


# ---- the plain models: no genlib code --------------------------------------------------------
class PlainGenerator(nn.Module):
    """b = 64: the classic MNIST DCGAN, dense → 7×7×256 → transposed convs 128 → 64 → c."""

    def __init__(self, latent=100, side=28, c=1, b=64):
        super().__init__()
        self.s, self.b = side // 4, b
        self.fc = nn.Sequential(nn.Linear(latent, 4 * b * self.s * self.s, bias=False),
                                nn.BatchNorm1d(4 * b * self.s * self.s), nn.LeakyReLU(0.2))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4 * b, 2 * b, 5, 1, 2, bias=False), nn.BatchNorm2d(2 * b), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(2 * b, b, 5, 2, 2, output_padding=1, bias=False), nn.BatchNorm2d(b),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(b, c, 5, 2, 2, output_padding=1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.net(self.fc(z).view(len(z), 4 * self.b, self.s, self.s))


class PlainDiscriminator(nn.Module):
    """b = 64: the classic discriminator, strided convs 64 → 128 → 256 → one score."""

    def __init__(self, side=28, c=1, b=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c, b, 5, 2, 2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Conv2d(b, 2 * b, 5, 2, 2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Conv2d(2 * b, 4 * b, 5, 2, 2), nn.LeakyReLU(0.2), nn.Flatten())
        self.fc = nn.Linear(4 * b * (-(-side // 8)) ** 2, 1)

    def forward(self, x):
        return self.fc(self.net(x)).squeeze(1)


class PlainDCGAN(nn.Module):
    def __init__(self, side, c, b=64, latent=100):
        super().__init__()
        self.latent = latent
        self.G, self.D = PlainGenerator(latent, side, c, b), PlainDiscriminator(side, c, b)
        self.opt_g = torch.optim.Adam(self.G.parameters(), 2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), 2e-4, betas=(0.5, 0.999))

    def step(self, x):
        B = len(x)
        fake = self.G(torch.randn(B, self.latent, device=x.device))
        ones, zeros = torch.ones(B, device=x.device), torch.zeros(B, device=x.device)
        loss_d = F.binary_cross_entropy_with_logits(self.D(x), ones) + \
            F.binary_cross_entropy_with_logits(self.D(fake.detach()), zeros)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(self.D(fake), ones)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()


class PlainVAE(nn.Module):
    def __init__(self, side, c, b=32, latent=16):
        super().__init__()
        s = side // 4
        self.enc = nn.Sequential(nn.Conv2d(c, b, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(b, 2 * b, 4, 2, 1),
                                 nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * b * s * s, 2 * latent))
        self.dec = nn.Sequential(nn.Linear(latent, 2 * b * s * s), nn.LeakyReLU(0.2),
                                 nn.Unflatten(1, (2 * b, s, s)), nn.ConvTranspose2d(2 * b, b, 4, 2, 1),
                                 nn.LeakyReLU(0.2), nn.ConvTranspose2d(b, c, 4, 2, 1))
        self.opt = torch.optim.Adam(self.parameters(), 1e-3)

    def step(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        recon = F.binary_cross_entropy_with_logits(self.dec(z), (x + 1) / 2, reduction="sum") / len(x)
        kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()) / len(x)
        self.opt.zero_grad(set_to_none=True)
        (recon + kl).backward()
        self.opt.step()


PLAIN = {"gan": PlainDCGAN, "vae": PlainVAE}


# ---- timing ----------------------------------------------------------------------------------
def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_loop(step, x, batch, steps, warmup, device) -> float:
    """Images per second of `step(batch of x)` over `steps` steps after `warmup` untimed ones."""
    for i in range(warmup + steps):
        if i == warmup:
            sync(device)
            start = time.perf_counter()
        step(x[torch.randint(0, len(x), (batch,), device=device)])
    sync(device)
    return steps * batch / (time.perf_counter() - start)


class Clock(Callback):
    """Starts at the end of fit's warm-up steps (a log point), stops at its end."""

    def __init__(self, warmup, device):
        self.warmup, self.device, self.start, self.stop = warmup, device, None, None

    def on_step(self, state, metrics):
        if state.step == self.warmup and self.start is None:
            sync(self.device)
            self.start = time.perf_counter()

    def on_end(self, state):
        sync(self.device)
        self.stop = time.perf_counter()


class Data:
    def __init__(self, *tensors):
        self.tensors_ = tensors

    def tensors(self):
        return self.tensors_


def genlib_model(family, args, device):
    torch.manual_seed(0)
    with torch.device(device):          # built there; `.to` moves the buffers made from CPU constants too
        return build_model(family, (args.channels, args.image_size, args.image_size), args.classes,
                           **get_preset(family, args.preset).model).to(device)


def unfused_forward(self, x):
    """ResizeConv2d as two layers: nearest ×2, then the 3×3 convolution on the enlarged map."""
    return self._conv_forward(F.interpolate(x, scale_factor=2.0, mode="nearest"), self.weight, self.bias)


def measure(family, batch, args, device, x, y):
    """(plain, step, fit, unfused, eager, graph) images per second for one family and batch size, and
    whether fit's step was recorded as a CUDA graph."""
    amp = device.type == "cuda"
    plain = step = ours = unfused = eager = float("nan")
    if family in PLAIN and "plain" in args.loops:
        torch.manual_seed(0)
        cfg = genlib_model(family, args, torch.device("meta")).config     # the same widths as genlib's
        p = PLAIN[family](args.image_size, args.channels, cfg.base_channels, cfg.latent_dim).to(device).train()
        plain = timed_loop(p.step, x, batch, args.steps, args.warmup, device)

    if "step" in args.loops:
        m = genlib_model(family, args, device)
        m.setup_training(2e-4, 1.0)
        m.train()

        def one(xb):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                m.train_step(xb) if y is None else m.train_step(xb, y[:len(xb)])
        step = timed_loop(one, x, batch, args.steps, args.warmup, device)
        if "unfused" in args.loops:
            fused, ResizeConv2d.forward = ResizeConv2d.forward, unfused_forward
            try:
                m = genlib_model(family, args, device)
                m.setup_training(2e-4, 1.0)
                m.train()
                unfused = timed_loop(one, x, batch, args.steps, args.warmup, device)
            finally:
                ResizeConv2d.forward = fused
    graph = False
    for loop in ("fit", "eager"):
        if loop not in args.loops:
            continue
        speed, recorded = timed_fit(family, batch, args, device, x, y, cuda_graph=loop == "fit")
        if loop == "fit":
            ours, graph = speed, recorded
        else:
            eager = speed
    return plain, step, ours, unfused, eager, graph


def timed_fit(family, batch, args, device, x, y, cuda_graph=True):
    """Images per second of `genlib.train.fit` after its warm-up steps, and whether its step was
    recorded as a CUDA graph."""
    m = genlib_model(family, args, device)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    extra = {"threads": args.threads} if args.threads and "threads" in fields else {}
    if "cuda_graph" in fields:
        extra["cuda_graph"] = cuda_graph
    cfg = TrainConfig(steps=args.warmup + args.steps, batch_size=batch, lr=2e-4, device=str(device),
                      log_every=args.warmup, warmup_steps=0, **extra)
    clock = Clock(args.warmup, device)
    state = fit(m, Data(x) if y is None else Data(x, y), cfg, [clock])
    if state.status != "finished" or clock.start is None:
        raise SystemExit(f"fit did not finish: {state.status} {state.error}")
    return args.steps * batch / (clock.stop - clock.start), bool(getattr(state, "cuda_graph", False))


def ratio(a: float, b: float, width: int) -> str:
    return f"{'—':>{width}s}" if math.isnan(a) or math.isnan(b) else f"{a / b:{width}.2f}"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--batches", nargs="+", type=int, default=[64, 256, 1024])
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default 20 on CPU, 200 on CUDA)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3 / 20)")
    ap.add_argument("--repeats", type=int, default=1, help="run each measurement again; report the median")
    ap.add_argument("--image-size", type=int, default=28)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--classes", type=int, default=0, help="labels 0…N−1 (0: unconditional, as the plain GAN)")
    ap.add_argument("--preset", default=None, help="genlib model size (default quick on CPU, best on CUDA)")
    ap.add_argument("--threads", type=int, default=0, help="CPU intra-op threads (0: leave as is)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--loops", nargs="+", default=["plain", "step", "fit"],
                    choices=["plain", "step", "fit", "unfused", "eager"],
                    help="which loops to time (plain, step and fit by default)")
    args = ap.parse_args(argv)

    device = resolve_device(args.device)
    gpu = device.type == "cuda"
    args.steps = args.steps or (200 if gpu else 20)
    args.warmup = max(1, args.warmup if args.warmup is not None else (20 if gpu else 3))
    args.preset = args.preset or ("best" if gpu else "quick")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.image_size % 4:
        raise SystemExit("--image-size must be a multiple of 4 (the plain models halve it twice)")
    torch.manual_seed(0)
    n = max(args.batches) * 2
    x = (torch.rand(n, args.channels, args.image_size, args.image_size) * 2 - 1).to(device)
    y = torch.randint(0, args.classes, (n,), device=device) if args.classes else None

    hw = torch.cuda.get_device_name(device) if gpu else f"{cpu_name()}, {torch.get_num_threads()} threads"
    print(f"# device {device} ({hw}); PyTorch {torch.__version__}; CPU {cpu_name()}")
    print(f"# command: python {' '.join(sys.argv)}")
    print(f"# images {args.channels}×{args.image_size}×{args.image_size}, {args.classes or 'no'} classes; genlib "
          f"preset {args.preset!r} sizes; {args.steps} timed steps after {args.warmup} warm-up, "
          f"median of {args.repeats}; genlib {'bf16 autocast' if gpu else 'fp32'}, plain eager fp32")
    print(f"{'model':9s} {'params':>8s} {'batch':>5s} {'plain img/s':>12s} {'step img/s':>11s} "
          f"{'fit img/s':>10s} {'graph':>5s} {'fit/plain':>9s} {'eager img/s':>11s} {'fit/eager':>9s} "
          f"{'unfused img/s':>13s} {'step/unfused':>12s}")
    results = {}
    for family in args.models:
        params = count_parameters(family, (args.channels, args.image_size, args.image_size), args.classes,
                                  **get_preset(family, args.preset).model)
        for batch in args.batches:
            runs = [measure(family, batch, args, device, x, y) for _ in range(args.repeats)]
            plain, step, ours, unfused, eager = (statistics.median(r[i] for r in runs) for i in range(5))
            graph = "yes" if all(r[5] for r in runs) else "no"
            results[family, batch] = ours
            print(f"{family:9s} {params:8d} {batch:5d} {plain:12.0f} {step:11.0f} {ours:10.0f} {graph:>5s} "
                  f"{ratio(ours, plain, 9)} {eager:11.0f} {ratio(ours, eager, 9)} {unfused:13.0f} "
                  f"{ratio(step, unfused, 12)}", flush=True)

    if not gpu:
        print("# Not on CUDA: the H200 reference (PyTorch 2.11) is not comparable here, so it is not shown.")
        return
    print("# against one H200, PyTorch 2.11 (img/s):")
    for (family, batch), ours in results.items():
        ref = REFERENCE.get((family, batch)) or REFERENCE.get((family, None))
        if ref:
            print(f"#   {family} batch {batch}: genlib fit {ours:,.0f}; reference {ref}")


if __name__ == "__main__":
    main()
