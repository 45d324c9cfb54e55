"""The one training loop: every genlib model — GAN, VAE, PixelCNN, the neural forecasters — trains here.

    from genlib.data import load_builtin
    from genlib.train import train_model
    result = train_model("gan", load_builtin("digits"), preset="quick", device="cpu")
    result.run_dir          # runs/<id>/ with config.json, model.safetensors, samples.png, …

`fit` is the loop itself (minGPT's Trainer, makemore's one loop): seeding, device, bf16 autocast on
CUDA, learning-rate warm-up, gradient clipping (inside the model's `update`), a stop event checked
every step, preview samples from a fixed seed, checkpoints, exact resume, step time and ETA.
Callbacks are the only bridge to a user interface; genlib logs, it never prints (the console
callback below is what the command line plugs in).
"""
from __future__ import annotations

import dataclasses
import logging
import math
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch

from .errors import GenlibError, TrainingError

log = logging.getLogger(__name__)


# ---- configuration --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000                 # optimisation steps in total (a resumed run continues to this)
    batch_size: int = 64              # examples per step (capped at the dataset size)
    lr: float = 2e-4                  # peak learning rate handed to the model's optimizers
    warmup_steps: int = 0             # linear learning-rate warm-up from 0 over this many steps
    grad_clip: float | None = 1.0     # clip the global gradient norm to this (None: no clipping)
    device: str = "auto"              # "auto" (CUDA, then Apple MPS, then CPU), "cuda", "mps", "cpu"
    seed: int = 0                     # seeds weights, batch order and preview samples
    amp: bool = True                  # bf16 autocast on CUDA (ignored elsewhere)
    preview_every: int = 0            # draw preview samples every N steps (0: only at the end)
    preview_n: int = 64               # how many preview samples
    checkpoint_every: int = 0         # save a checkpoint every N steps (0: only at the end)
    log_every: int = 10               # report metrics to callbacks every N steps

    def __post_init__(self):
        if self.steps < 1:
            raise GenlibError(f"steps must be at least 1 (got {self.steps}).")
        if self.batch_size < 1:
            raise GenlibError(f"batch size must be at least 1 (got {self.batch_size}).")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise GenlibError(f"the learning rate must be a positive number (got {self.lr}).")
        if self.device not in ("auto", "cpu", "cuda", "mps") and not self.device.startswith("cuda:"):
            raise GenlibError(f"device must be auto, cpu, cuda or mps (got {self.device!r}).")
        for name in ("warmup_steps", "preview_every", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise GenlibError(f"{name.replace('_', ' ')} cannot be negative.")
        if self.log_every < 1 or self.preview_n < 1:
            raise GenlibError("log every and preview count must be at least 1.")


@dataclasses.dataclass
class TrainState:
    """Where a run stands; callbacks receive it, `fit` returns it."""

    total_steps: int
    step: int = 0                     # steps completed
    status: str = "running"           # running | finished | stopped | failed
    error: str | None = None          # a sentence for the user when status == "failed"
    device: str = "cpu"
    started_at: float = dataclasses.field(default_factory=time.time)
    elapsed: float = 0.0              # seconds spent training in this and earlier sessions
    step_time: float = 0.0            # smoothed seconds per step
    examples_per_second: float = 0.0
    history: list[dict[str, float]] = dataclasses.field(default_factory=list)
    last_checkpoint: str | None = None

    @property
    def eta_seconds(self) -> float:
        return max(self.total_steps - self.step, 0) * self.step_time

    @property
    def progress(self) -> float:
        return min(self.step / max(self.total_steps, 1), 1.0)


class Callback:
    """Subclass and override what you need. Called from the training thread."""

    def on_start(self, state: TrainState) -> None: ...
    def on_step(self, state: TrainState, metrics: dict[str, float]) -> None: ...
    def on_preview(self, state: TrainState, images: torch.Tensor) -> None: ...
    def on_checkpoint(self, state: TrainState, path: Path) -> None: ...
    def on_end(self, state: TrainState) -> None: ...


class ConsoleCallback(Callback):
    """A one-line progress bar on stderr, for the command line."""

    def __init__(self, stream=None, width: int = 28):
        self.stream = stream or sys.stderr
        self.width = width

    def on_step(self, state, metrics):
        done = int(self.width * state.progress)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items() if k != "step")
        self.stream.write(f"\r[{'#' * done}{'.' * (self.width - done)}] {state.step}/{state.total_steps}"
                          f"  {shown}  eta {format_seconds(state.eta_seconds)}   ")
        self.stream.flush()

    def on_end(self, state):
        self.stream.write(f"\n{state.status} after {state.step} steps in {format_seconds(state.elapsed)}"
                          f" on {state.device}\n")
        if state.error:
            self.stream.write(f"{state.error}\n")
        self.stream.flush()


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


# ---- device ---------------------------------------------------------------------------------
def resolve_device(name: str = "auto") -> torch.device:
    """"auto" → CUDA, then Apple MPS, then CPU; an explicit device that is missing is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GenlibError("No CUDA GPU is visible to PyTorch: use --device cpu (or auto), or install a "
                          "CUDA build of PyTorch.")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise GenlibError("Apple MPS is not available here: use --device cpu (or auto).")
    return torch.device(name)


def describe_device(device: torch.device | str = "auto") -> str:
    """Plain words for the sidebar and the CLI: "NVIDIA H200 (139 GB)" or "CPU (2 cores)"."""
    device = resolve_device(device) if isinstance(device, str) else device
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


# ---- batches --------------------------------------------------------------------------------
class _Batches:
    """Batch `step` is a pure function of (seed, step): a resumed run sees the same batches.

    Each epoch is a fresh permutation drawn from a generator seeded with (seed, epoch); the last
    incomplete batch of an epoch is dropped so every step has the same size.
    """

    def __init__(self, tensors: Sequence[torch.Tensor], batch_size: int, seed: int, device: torch.device):
        n = len(tensors[0])
        if n == 0:
            raise GenlibError("The dataset is empty: load some data before training.")
        self.tensors = [t.to(device) for t in tensors]
        self.batch_size = min(batch_size, n)
        self.per_epoch = n // self.batch_size
        self.seed, self.n = seed, n
        self._epoch, self._perm = -1, None

    def __call__(self, step: int) -> list[torch.Tensor]:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g)
        idx = self._perm[i * self.batch_size:(i + 1) * self.batch_size].to(self.tensors[0].device)
        return [t[idx] for t in self.tensors]


# ---- the loop -------------------------------------------------------------------------------
def fit(model, data, config: TrainConfig, callbacks: Iterable[Callback] = (), *,
        stop_event: threading.Event | None = None, run_dir: str | Path | None = None,
        resume: bool = False, run_info: dict | None = None) -> TrainState:
    """Train `model` on `data` (anything with `.tensors()`) for `config.steps` steps.

    With `run_dir`, checkpoints, metrics.csv and samples.png are written there; with `resume=True`
    the loop first restores the model, optimizers, random state and history saved in `run_dir`
    and continues exactly where it stopped. Returns the final `TrainState`; a NaN loss or an
    out-of-memory error ends with status "failed" and a readable `error` instead of raising.

        >>> from genlib.models import build_model
        >>> from genlib.data import load_builtin
        >>> data = load_builtin("digits")
        >>> model = build_model("vae", data.shape, data.num_classes)
        >>> fit(model, data, TrainConfig(steps=2, device="cpu")).status
        'finished'
    """
    from . import runs  # runs imports the model registry; keep `import genlib.train` light

    callbacks = list(callbacks)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model.to(device)
    model.setup_training(config.lr, config.grad_clip)
    state = TrainState(total_steps=config.steps, device=str(device))
    run_dir = Path(run_dir) if run_dir is not None else None

    if resume:
        if run_dir is None:
            raise GenlibError("Resuming needs the run folder to resume from.")
        saved = runs.restore_training(run_dir, model, device)
        state.step, state.elapsed, state.history = saved.step, saved.elapsed, saved.history
        if state.step >= config.steps:
            raise GenlibError(f"This run already has {state.step} steps; ask for more steps than that "
                              f"to continue training it.")

    batches = _Batches(data.tensors(), config.batch_size, config.seed, device)
    use_amp = config.amp and device.type == "cuda"
    stop_event = stop_event or threading.Event()
    model.train()
    for cb in callbacks:
        cb.on_start(state)

    def save(final: bool = False):
        if run_dir is None:
            return
        preview = _preview(model, config) if final else None
        path = runs.save_checkpoint(run_dir, model, config, state, samples=preview, info=run_info)
        state.last_checkpoint = str(path)
        for cb in callbacks:
            cb.on_checkpoint(state, path)
        return preview

    session_start, last = time.perf_counter(), time.perf_counter()
    elapsed_before = state.elapsed
    try:
        while state.step < config.steps:
            if stop_event.is_set():
                state.status = "stopped"
                break
            if config.warmup_steps:
                model.set_lr_scale(min(1.0, (state.step + 1) / config.warmup_steps))
            batch = batches(state.step)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                metrics = model.train_step(*batch)
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:
                state.status = "failed"
                state.error = (f"Training diverged at step {state.step + 1}: {', '.join(bad)} became "
                               f"{metrics[bad[0]]}. The last good checkpoint is kept. Try a lower "
                               f"learning rate (e.g. half of {config.lr:g}) or a smaller batch size, "
                               f"then resume or start again.")
                break
            state.step += 1
            now = time.perf_counter()
            dt, last = now - last, now
            state.step_time = dt if state.step_time == 0 else 0.9 * state.step_time + 0.1 * dt
            state.examples_per_second = batches.batch_size / max(state.step_time, 1e-9)
            state.elapsed = elapsed_before + (now - session_start)
            if state.step % config.log_every == 0 or state.step == config.steps:
                row = {"step": state.step, **{k: float(v) for k, v in metrics.items()},
                       "seconds": round(state.elapsed, 3)}
                state.history.append(row)
                for cb in callbacks:
                    cb.on_step(state, metrics)
            if (config.preview_every and state.step % config.preview_every == 0
                    and state.step < config.steps and getattr(model, "produces_images", False)):
                images = _preview(model, config)
                for cb in callbacks:
                    cb.on_preview(state, images)
            if config.checkpoint_every and state.step % config.checkpoint_every == 0 \
                    and state.step < config.steps:
                save()
    except torch.cuda.OutOfMemoryError:
        state.status, state.error = "failed", (
            "The GPU ran out of memory. Choose a smaller batch size or image size, or train on the CPU.")
    except GenlibError as exc:
        state.status, state.error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 — a worker must end with a status, never die silently
        log.exception("training failed")
        state.status, state.error = "failed", f"Training failed unexpectedly: {type(exc).__name__}: {exc}"

    if state.status == "running":
        state.status = "finished"
    state.elapsed = elapsed_before + (time.perf_counter() - session_start)
    if state.status != "failed":
        preview = save(final=True)
        if preview is not None:
            for cb in callbacks:
                cb.on_preview(state, preview)
    model.eval()
    for cb in callbacks:
        cb.on_end(state)
    return state


def _preview(model, config: TrainConfig) -> torch.Tensor | None:
    """Samples from a fixed seed, so pictures are comparable from step to step (dcgan's fixed_noise)."""
    if not getattr(model, "produces_images", False):
        return None
    was_training = model.training
    images = model.sample(config.preview_n, seed=config.seed).float().cpu()
    model.train(was_training)
    return images


# ---- the high-level entry point the CLI and the app share --------------------------------------
@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    model: Any
    state: TrainState


def train_model(family: str, data, *, preset: str = "quick", steps: int | None = None,
                overrides: dict | None = None, train_overrides: dict | None = None,
                out_dir: str | Path | None = None, device: str = "auto", seed: int = 0,
                callbacks: Iterable[Callback] = (), stop_event: threading.Event | None = None,
                resume: str | Path | None = None) -> TrainResult:
    """Build a model of `family` for `data` from a preset, train it, and save it as a run.

    `overrides` change model config fields, `train_overrides` TrainConfig fields (both one to one
    with the app's "advanced" form). With `resume=RUN_DIR` the saved model continues training in
    that folder up to `steps` (default: the preset's steps, or the saved total).

        >>> from genlib.data import load_builtin
        >>> r = train_model("vae", load_builtin("digits"), steps=3, device="cpu", out_dir="/tmp/r")
        >>> r.state.status
        'finished'
    """
    from . import runs
    from .models import MODELS, build_model, get_preset

    if resume is not None:
        run = runs.load_run(resume)
        model, cfg = run.model, run.train_config
        fingerprint = run.card.get("data", {}).get("fingerprint")
        if fingerprint and fingerprint != data.fingerprint():
            log.warning("resuming on different data than the run started with")
        cfg = dataclasses.replace(cfg, **{"steps": steps or cfg.steps, "device": device,
                                          **(train_overrides or {})})
        state = fit(model, data, cfg, callbacks, stop_event=stop_event, run_dir=run.dir,
                    resume=True, run_info=run.card.get("info"))
        return TrainResult(run.dir, model, state)

    if family not in MODELS:
        raise GenlibError(f"Unknown model {family!r}: choose one of {', '.join(MODELS)}.")
    p = get_preset(family, preset)
    torch.manual_seed(seed)  # the initial weights are part of what `seed` reproduces
    model = build_model(family, data.shape, data.num_classes, **{**p.model, **(overrides or {})})
    cfg = TrainConfig(**{"steps": steps or p.steps, "batch_size": p.batch_size, "lr": p.lr,
                         "device": device, "seed": seed, **p.train, **(train_overrides or {})})
    run_dir = Path(out_dir) if out_dir else runs.new_run_dir(family, data.name)
    info = {"family": family, "preset": preset, "data": runs.data_card(data)}
    state = fit(model, data, cfg, callbacks, stop_event=stop_event, run_dir=run_dir, run_info=info)
    return TrainResult(run_dir, model, state)
