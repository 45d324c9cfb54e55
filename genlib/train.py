"""The one training loop: every genlib model — GAN, VAE, PixelCNN, the neural forecasters — trains here.

    from genlib.data import load_builtin
    from genlib.models import build_model
    from genlib.train import TrainConfig, fit
    data = load_builtin("digits")
    model = build_model("vae", data.shape, data.num_classes)
    state = fit(model, data, TrainConfig(steps=200, device="cpu"))

`fit` is the loop itself (minGPT's Trainer, makemore's one loop): seeding, device, bf16 autocast on
CUDA, CPU threads chosen for the model, learning-rate warm-up, gradient clipping (inside the model's
`update`), a stop event checked every step, preview samples from a fixed seed, step time and ETA.
The loop never waits for the device between steps: `train_step`'s metrics (0-d tensors) are read
in one go every `log_every` steps, where the NaN check runs too. On an NVIDIA GPU the whole step is
recorded once as a CUDA graph and replayed (`genlib.graphstep`; eager elsewhere, and on failure).
Under torchrun the processes train one run together (`genlib.distributed`: gradients averaged by
hand, each its slice of the batch).

It touches no files: saving is a `writer` handed in (`genlib.runs.RunWriter`), and a resumed run
arrives as a `Checkpoint` that `genlib.runs.read_checkpoint` read. Callbacks are the only bridge to
a user interface; genlib logs, it never prints (the console callback below is what the command line
plugs in). Saving a run and choosing presets live one layer up, in `genlib.pipeline`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import torch

from . import distributed, graphstep
from .device import DEVICES, cpu_threads, describe_device, resolve_device, training_threads
from .errors import GenlibError
from .models.base import ImageModel
from .settings import check_settings, setting

__all__ = ["TrainConfig", "TrainState", "Checkpoint", "Callback", "ConsoleCallback", "Writer", "fit",
           "format_seconds", "resolve_device", "describe_device"]

log = logging.getLogger(__name__)


# ---- configuration --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int = setting(1000, label="Training steps", unit="steps", min=1, max=10_000_000,
                         hosted_max=20_000, advanced=False,
                         help="How many updates training makes in total; a resumed run continues "
                              "up to this number. More steps learn more and take longer.")
    batch_size: int = setting(64, label="Pictures per step", unit="images", min=1, max=4096,
                              hosted_max=256,
                              help="How many examples each update looks at (capped at the data's "
                                   "size). Larger is steadier and needs more memory.")
    lr: float = setting(2e-4, label="Learning rate", min=1e-12,
                        help="How big each update is. If training goes wild (the curves jump or "
                             "fail), halve it; if it learns too slowly, raise it a little.")
    warmup_steps: int = setting(0, label="Warm-up steps", unit="steps", min=0, max=1_000_000,
                                hosted_max=20_000,
                                help="Grow the learning rate from zero over this many steps; "
                                     "helps large models start calmly. 0 turns it off.")
    lr_decay: bool = setting(False, label="Slow down towards the end",
                             help="Lower the learning rate smoothly to zero by the last step (a cosine "
                                  "curve), so the model settles instead of jumping around its best. "
                                  "Counted over all the training steps.")
    grad_clip: float | None = setting(1.0, label="Update size limit", min=0.0,
                                      help="Caps how far one update can move the model, which "
                                           "keeps training stable; 0 turns the cap off (the quick GAN "
                                           "learns faster without it). Keep the preset's value unless "
                                           "you know why.")
    device: str = setting("auto", label="Device", choices=None,
                          help="auto (the GPU when there is one, else the processor), cpu, cuda or mps.")
    seed: int = setting(0, label="Random seed", min=0, max=2**31 - 1,
                        help="The same seed gives the same starting model, the same order of "
                             "pictures and the same preview samples.")
    amp: bool = setting(True, label="Mixed precision on the GPU",
                        help="Faster training on NVIDIA GPUs with 16-bit numbers where safe; "
                             "no effect on a processor.")
    preview_every: int = setting(0, label="Preview every", unit="steps", min=0, max=10_000_000,
                                 help="Draw preview samples every this many steps (0: only at the end).")
    preview_n: int = setting(64, label="Preview pictures", unit="images", min=1, max=1024,
                             hosted_max=64, help="How many pictures each preview draws.")
    checkpoint_every: int = setting(0, label="Save every", unit="steps", min=0, max=10_000_000,
                                    help="Save the model every this many steps, so a crash or a "
                                         "stop loses little (0: only at the end).")
    log_every: int = setting(10, label="Record the curves every", unit="steps", min=1, max=100_000,
                             help="How often the loss curves get a new point. Training checks "
                                  "for a failed (NaN) loss at these points too.")
    cuda_graph: bool = setting(True, label="Fast GPU steps",
                               help="On NVIDIA GPUs each update is recorded once (a CUDA graph) and replayed, "
                                    "several times faster for small models; the same results. "
                                    "Turn off if training fails only on the GPU.")
    threads: int = setting(0, label="Processor threads", unit="threads", min=0, max=1024, hosted_max=4,
                           help="How many processor cores one training uses (0: chosen for the "
                                "model; small models run fastest on one). No effect on a GPU.")

    def __post_init__(self):
        if not isinstance(self.device, str) or (self.device not in DEVICES
                                                 and not self.device.startswith("cuda:")):
            raise GenlibError(f"device must be auto, cpu, cuda or mps (got {self.device!r}).")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise GenlibError(f"the learning rate must be a positive number (got {self.lr}).")
        check_settings(self)


@dataclasses.dataclass
class TrainState:
    """Where a run stands; callbacks receive it, `fit` returns it."""

    total_steps: int
    step: int = 0                     # steps completed
    status: str = "running"           # running | finished | stopped | failed
    error: str | None = None          # a sentence for the user when status == "failed"
    error_kind: str = ""              # "nan" | "oom" | "error" when failed: lets a page offer a fix
    device: str = "cpu"
    elapsed: float = 0.0              # seconds spent training in this and earlier sessions
    step_time: float = 0.0            # smoothed seconds per step (the update alone)
    examples_per_second: float = 0.0
    history: list[dict[str, float]] = dataclasses.field(default_factory=list)
    last_checkpoint: str | None = None
    session_start_step: int = 0       # the step this session started from (a resumed run's checkpoint)
    session_seconds: float = 0.0      # seconds this session has trained, previews and saves included
    world_size: int = 1               # processes training together (torchrun; genlib.distributed)
    backend: str = ""                 # "nccl" or "gloo" across processes; "" for one process
    global_batch: int = 0             # pictures per step, all processes together
    cuda_graph: bool = False          # steps replayed as one recorded CUDA graph (genlib.graphstep)

    @property
    def eta_seconds(self) -> float:
        """Time left at this session's average pace: previews and checkpoints are part of that pace
        (so the estimate does not jump at each preview), and it only drifts when the pace changes."""
        done = self.step - self.session_start_step
        per_step = self.session_seconds / done if done >= 3 and self.session_seconds > 0 \
            else self.step_time
        return max(self.total_steps - self.step, 0) * per_step

    @property
    def progress(self) -> float:
        return min(self.step / max(self.total_steps, 1), 1.0)


@dataclasses.dataclass
class Checkpoint:
    """What a resumed run starts from (read by `genlib.runs.read_checkpoint`; weights are
    already in the model): step, time and curves so far, optimizer and random state."""

    step: int
    elapsed: float
    history: list[dict]
    optimizers: dict[str, dict]                 # name → optimizer state_dict
    rng_cpu: torch.Tensor
    rng_cuda: list[torch.Tensor] = dataclasses.field(default_factory=list)


class Writer(Protocol):
    """Where `fit` saves (genlib.runs.RunWriter): the loop decides when, the writer how."""

    def save(self, model, config: TrainConfig, state: TrainState,
             samples: torch.Tensor | None) -> Path: ...
    def end(self, state: TrainState) -> None: ...


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


# ---- batches --------------------------------------------------------------------------------
class _Batches:
    """Batch `step` is a pure function of (seed, step): a resumed run sees the same batches.

    Each epoch is a fresh permutation drawn from a generator seeded with (seed, epoch), moved to the
    device once per epoch (a step copies nothing from the host); the last incomplete batch of an
    epoch is dropped so every step has the same size. Across processes every one draws the same
    permutation and takes its own contiguous slice of each global batch of `batch_size`.
    """

    def __init__(self, tensors: Sequence[torch.Tensor], batch_size: int, seed: int, device: torch.device,
                 rank: int = 0, world_size: int = 1):
        n = len(tensors[0])
        if n < world_size:
            raise GenlibError("The dataset is empty: load some data before training." if n == 0 else
                              f"{n} pictures cannot be shared by {world_size} processes: load more data.")
        self.tensors = [t.to(device) for t in tensors]
        self.batch_size = min(batch_size, n // world_size * world_size)     # all processes together
        self.local = self.batch_size // world_size
        self.offset = rank * self.local
        self.per_epoch = n // self.batch_size
        self.seed, self.n, self.device = seed, n, device
        self._epoch, self._perm = -1, None

    def indices(self, step: int) -> torch.Tensor:
        """The rows of batch `step` (this process's slice), a device tensor of `local` indices."""
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.n, generator=g).to(self.device)
        start = i * self.batch_size + self.offset
        return self._perm[start:start + self.local]

    def __call__(self, step: int) -> list[torch.Tensor]:
        idx = self.indices(step)
        return [t[idx] for t in self.tensors]


# ---- reading the metrics ----------------------------------------------------------------------
class _Pending:
    """The metrics of the steps since the last read, as `train_step` returned them (floats or 0-d
    tensors, perhaps still being computed on the GPU): read in one go, so a step never waits.

    `read` makes one host sync and, across processes, one all-reduce that averages every value and
    carries a stop flag (any process stopping stops them all).
    """

    def __init__(self, device: torch.device, world: distributed.World):
        self.device, self.world = device, world
        self.rows: list[tuple[int, dict]] = []

    def add(self, step: int, metrics: dict) -> None:
        self.rows.append((step, metrics))

    def read(self, stop: bool) -> tuple[list[tuple[int, dict[str, float]]], bool]:
        """Every pending step's metrics as floats (the mean over processes), and whether to stop."""
        values = [v for _, m in self.rows for v in m.values()]
        tensors = [v.detach().reshape(()).to(self.device, torch.float32) for v in values if torch.is_tensor(v)]
        floats = [float(v) for v in values if not torch.is_tensor(v)] + [float(stop)]
        if self.world.parallel:
            both = torch.cat([torch.stack(tensors) if tensors else torch.zeros(0, device=self.device),
                              torch.tensor(floats, device=self.device)])
            both = distributed.reduce_mean(both).cpu().tolist()
            from_tensors, floats = both[:len(tensors)], both[len(tensors):]
        else:
            from_tensors = torch.stack(tensors).cpu().tolist() if tensors else []
        t_it, f_it = iter(from_tensors), iter(floats)
        rows = [(step, {k: next(t_it) if torch.is_tensor(v) else next(f_it) for k, v in m.items()})
                for step, m in self.rows]
        self.rows = []
        return rows, next(f_it) > 0


# ---- learning-rate schedule ----------------------------------------------------------------------
def lr_scale(config: TrainConfig, step: int) -> float:
    """The factor on the learning rate for step `step` (0-based): the warm-up's linear rise, times
    the cosine decay to zero at the last step when `lr_decay` is on (Loshchilov & Hutter 2017).

        >>> config = TrainConfig(steps=101, warmup_steps=10, lr_decay=True)
        >>> [round(lr_scale(config, s), 3) for s in (0, 9, 50, 100)]
        [0.1, 0.98, 0.5, 0.0]
    """
    scale = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    if config.lr_decay:
        scale *= 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, config.steps - 1))))
    return scale


# ---- processor threads --------------------------------------------------------------------------
def _threads(model, batches: _Batches, config: TrainConfig, device: torch.device):
    """The CPU thread count for this training (a no-op context on a GPU)."""
    if device.type != "cpu":
        return contextlib.nullcontext()
    n = config.threads or training_threads(sum(p.numel() for p in model.parameters()),
                                           batches.tensors[0][0].numel(), distributed.cpus_per_process())
    return cpu_threads(n)


# ---- the loop -------------------------------------------------------------------------------
_RANK_SEED = 7919          # process r's noise comes from seed + r·7919 (rank 0: the one-process seed)


def fit(model, data, config: TrainConfig, callbacks: Iterable[Callback] = (), *,
        stop_event: threading.Event | None = None, writer: Writer | None = None,
        start: Checkpoint | None = None) -> TrainState:
    """Train `model` on `data` (anything with `.tensors()`) for `config.steps` steps.

    With a `writer`, checkpoints (and the final preview samples) are handed to it to save; with
    `start`, the loop continues exactly where that checkpoint stopped (same batches, same random
    state). Returns the final `TrainState`; a NaN loss or an out-of-memory error ends with status
    "failed", an `error_kind` and a readable `error` instead of raising.

    The step's metrics are read (one wait for the device) every `log_every` steps and before a
    preview, a checkpoint, a stop and the end. Started by torchrun (`genlib.distributed`), every
    process trains its slice of each global batch of `config.batch_size` and gradients are averaged;
    only rank 0 reports, previews and saves.

        >>> from genlib.models import build_model
        >>> from genlib.data import load_builtin
        >>> data = load_builtin("digits")
        >>> model = build_model("vae", data.shape, data.num_classes)
        >>> fit(model, data, TrainConfig(steps=2, device="cpu")).status
        'finished'
    """
    world = distributed.world()
    distributed.check_global_batch(config.batch_size, world.world_size)
    callbacks = list(callbacks) if world.is_main else []
    writer = writer if world.is_main else None
    device = resolve_device(config.device)
    torch.manual_seed(config.seed + world.rank * _RANK_SEED)
    model.to(device)
    model.setup_training(config.lr, config.grad_clip)
    state = TrainState(total_steps=config.steps, device=str(device), world_size=world.world_size,
                       backend=world.backend or "")
    if start is not None:
        _restore(model, start, state)
        if world.rank:          # the checkpoint holds rank 0's random state; the others draw anew
            torch.manual_seed((config.seed + world.rank * _RANK_SEED) * 1_000_003 + state.step)
    state.session_start_step = state.step
    hook_before = model.gradient_hook
    if world.parallel:
        model.gradient_hook = distributed.average_gradients
        distributed.broadcast_parameters(model)

    batches = _Batches(data.tensors(), config.batch_size, config.seed, device, world.rank, world.world_size)
    state.global_batch = batches.batch_size
    use_amp = config.amp and device.type == "cuda"
    step_once = graphstep.Step(model, batches, use_amp, capture=config.cuda_graph)
    stop_event = stop_event or threading.Event()
    draws = isinstance(model, ImageModel)
    pending = _Pending(device, world)
    model.train()
    for cb in callbacks:
        cb.on_start(state)

    def save(samples=None):
        if writer is None:
            return
        path = writer.save(model, config, state, samples)
        state.last_checkpoint = str(path)
        for cb in callbacks:
            cb.on_checkpoint(state, path)

    session_start = time.perf_counter()
    elapsed_before = state.elapsed
    mark = [session_start, state.step]          # time and step the step time is measured from

    def read() -> bool:
        """Read the pending metrics; False when training must end (a NaN, or a stop)."""
        rows, stop = pending.read(stop_event.is_set())
        for step, metrics in rows:
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:     # the last checkpoint came from an earlier read that found all finite
                state.step, state.status, state.error_kind = step - 1, "failed", "nan"
                state.error = (f"Training diverged at step {step}: {', '.join(bad)} became "
                               f"{metrics[bad[0]]}. The last good checkpoint is kept. Try a lower "
                               f"learning rate (e.g. half of {config.lr:g}) or a smaller batch size, "
                               f"then resume or start again.")
                return False
        now = time.perf_counter()
        if state.step > mark[1]:                # measured here, where the device has caught up
            n, dt = state.step - mark[1], (now - mark[0]) / (state.step - mark[1])
            keep = 0.0 if state.step_time == 0 else 0.9 ** n
            state.step_time = keep * state.step_time + (1 - keep) * dt
            state.examples_per_second = batches.batch_size / max(state.step_time, 1e-9)
            mark[:] = [now, state.step]
        step, metrics = rows[-1] if rows else (0, {})
        if step and (step % config.log_every == 0 or step == config.steps):
            state.history.append({"step": step, **metrics, "seconds": round(state.elapsed, 3)})
            for cb in callbacks:
                cb.on_step(state, metrics)
        if stop and state.step < config.steps:       # a stop after the last step changes nothing
            state.status = "stopped"
        return not stop

    crash = None
    try:
        with _threads(model, batches, config, device):
            while state.step < config.steps:
                if not world.parallel and stop_event.is_set():   # across processes: at reads only
                    read()                      # the steps so far, then "stopped" (or a NaN: "failed")
                    break
                if config.warmup_steps or config.lr_decay:
                    model.set_lr_scale(lr_scale(config, state.step))
                metrics = step_once(state.step)         # one update; a CUDA graph's replay on a GPU
                state.step += 1
                pending.add(state.step, metrics)
                state.session_seconds = time.perf_counter() - session_start
                state.elapsed = elapsed_before + state.session_seconds
                s = state.step
                preview = draws and config.preview_every and s % config.preview_every == 0 and s < config.steps
                checkpoint = config.checkpoint_every and s % config.checkpoint_every == 0 and s < config.steps
                if not (s % config.log_every == 0 or s == config.steps or preview or checkpoint):
                    continue
                if not read():
                    break
                if preview and world.is_main:
                    images = _preview(model, config)
                    for cb in callbacks:
                        cb.on_preview(state, images)
                if checkpoint:
                    save()
                if preview or checkpoint:       # the step time counts the updates, not these
                    mark[:] = [time.perf_counter(), state.step]
            if pending.rows and state.status == "running":
                read()
    except torch.cuda.OutOfMemoryError as exc:
        crash = exc
        state.status, state.error_kind, state.error = "failed", "oom", (
            "The GPU ran out of memory. Choose a smaller batch size or image size, or train on the CPU.")
    except GenlibError as exc:
        crash = exc
        state.status, state.error_kind, state.error = "failed", getattr(exc, "kind", "error"), str(exc)
    except Exception as exc:  # noqa: BLE001 — a worker must end with a status, never die silently
        crash = exc
        log.exception("training failed")
        state.status, state.error_kind = "failed", "error"
        state.error = f"Training failed unexpectedly: {type(exc).__name__}: {exc}"
    finally:
        model.gradient_hook = hook_before
        state.cuda_graph = step_once.captured

    if state.status == "running":
        state.status = "finished"
    state.elapsed = elapsed_before + (time.perf_counter() - session_start)
    if state.status != "failed" and writer is not None:
        # the run's samples.png: drawn once at the end, only when something keeps it
        preview = _preview(model, config) if draws else None
        save(preview)
        if preview is not None:
            for cb in callbacks:
                cb.on_preview(state, preview)
    if writer is not None:
        writer.end(state)
    model.eval()
    for cb in callbacks:
        cb.on_end(state)
    if crash is not None and world.parallel:
        # the other processes wait in a collective this one will never join: end them (torchrun
        # stops every process when one fails) rather than leave them hanging
        raise crash
    return state


def _restore(model, start: Checkpoint, state: TrainState) -> None:
    """Optimizer and random state of a checkpoint (its weights are already in `model`)."""
    model.load_optimizer_state(start.optimizers)
    torch.set_rng_state(start.rng_cpu)
    if torch.cuda.is_available() and start.rng_cuda:
        torch.cuda.set_rng_state_all(start.rng_cuda[:torch.cuda.device_count()])
    state.step, state.elapsed, state.history = start.step, start.elapsed, list(start.history)
    if state.step >= state.total_steps:
        raise GenlibError(f"This run already has {state.step} steps; ask for more steps than that "
                          f"to continue training it.")


def _preview(model, config: TrainConfig) -> torch.Tensor:
    """Samples from a fixed seed, so pictures are comparable from step to step (dcgan's fixed_noise)."""
    was_training = model.training
    images = model.sample(config.preview_n, seed=config.seed).float().cpu()
    model.train(was_training)
    return images
