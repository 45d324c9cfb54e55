"""One training step, replayed as a single CUDA graph on an NVIDIA GPU, eager everywhere else.

At the batch sizes people train GANs with, a GPU spends most of an eager step waiting for Python
to launch its few hundred small kernels (forward, backward and Adam of two networks). PyTorch can
record those launches once and replay them with one call (`torch.cuda.CUDAGraph`, the "whole
network capture" recipe of PyTorch's CUDA semantics notes): the same kernels on the same memory, so
the same arithmetic, without the launch cost.

    step = Step(model, batches, amp=True, capture=True)
    metrics = step(i)        # {name: 0-d tensor}; batch i of `batches`, one update of `model`

What the recipe needs, and how a step provides it:
- fixed memory: the batch is gathered inside the graph from the data already on the GPU, by a
  fixed index buffer that each replay refills with that step's indices (one small copy);
- optimizers that run on the device: Adam's `capturable` mode, and the learning rate as a 0-d
  tensor on the GPU, so a warm-up or decay (`Trainable.set_lr_scale`) changes it in place;
- a warm-up: the first `WARMUP` steps run eagerly on a side stream (they are real training steps),
  so cuDNN, cuBLAS and the optimizers' state exist before the recording;
- random numbers: each replay draws fresh noise from PyTorch's generator (the graph registers it),
  the same numbers an eager step would draw from the same state;
- metrics: the step's 0-d metrics are stacked into one tensor the graph writes; each replay's
  values are copied out before the next.

The recording is attempted only on CUDA, for one process (the gradient average across processes
stays eager), for models that declare `capturable` (their step never reads a value on the host and
never changes shape). Anything else — a processor, Apple MPS, torchrun, a recording that fails —
trains eagerly through the same function, and a failed recording says so once in the log. On a
processor the eager path is what the CPU tests exercise.
Leaf module: imports torch only.
"""
from __future__ import annotations

import logging
from typing import Sequence

import torch

log = logging.getLogger(__name__)

WARMUP = 3          # eager steps before the recording (PyTorch's recipe warms up on a side stream)


class Step:
    """Runs training step `i`: gathers batch `i` of the device-resident data and calls
    `model.train_step` under bf16 autocast (`amp`), recorded as a CUDA graph when `capture`.

    `batches` has `tensors` (the data on the device) and `indices(i)` (batch i's rows, a device
    tensor of fixed length). `captured` says whether steps are replayed; `reason` why not.
    """

    def __init__(self, model, batches, amp: bool = False, capture: bool = True):
        self.model, self.batches, self.amp = model, batches, amp
        self.device = model.device
        self.graph = self.index = self.out = self.keys = self.stream = None
        self.captured, self.eager_steps = False, 0
        problem = capture_problem(model, self.device) if capture else "turned off"
        self.want, self.reason = problem is None, problem or ""
        if self.want:           # the warm-up steps and the recording share one side stream
            self.stream = torch.cuda.Stream(self.device)

    # ---- the step itself: one function for every path -----------------------------------------
    def _run(self, index: torch.Tensor, cache: bool = True) -> dict:
        batch = [t[index] for t in self.batches.tensors]
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp, cache_enabled=cache):
            return self.model.train_step(*batch)

    def __call__(self, i: int) -> dict:
        index = self.batches.indices(i)
        if self.captured:
            return self._replay(index)
        if not self.want:
            return self._run(index)
        if self.eager_steps < WARMUP:
            return self._warm_step(index)
        metrics = self._record(index)
        return metrics if metrics is not None else self._run(index)

    # ---- CUDA only -------------------------------------------------------------------------------
    def _warm_step(self, index: torch.Tensor) -> dict:
        """A real step, on the side stream the recording will use (PyTorch's recipe)."""
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream):
            metrics = self._run(index)
        torch.cuda.current_stream(self.device).wait_stream(self.stream)
        self.eager_steps += 1
        return metrics

    def _record(self, index: torch.Tensor) -> dict | None:
        """Record the step (nothing runs while recording), then replay it once: this step's update.
        None when the recording failed: the caller runs the step eagerly, as every later step."""
        self.want = False
        try:
            on_device_learning_rates(self.model.optimizers.values(), self.device)
            self.index = index.clone()
            graph = torch.cuda.CUDAGraph()
            torch.cuda.synchronize(self.device)
            # recorded on the warm-up's stream, whose library handles and workspaces already exist
            with torch.cuda.graph(graph, stream=self.stream, capture_error_mode="thread_local"):
                metrics = self._run(self.index, cache=False)
                self.keys = list(metrics)
                if not all(torch.is_tensor(v) and v.numel() == 1 for v in metrics.values()):
                    raise TypeError("the step returned metrics that are not 0-d tensors")
                self.out = torch.stack([v.detach().float().reshape(()) for v in metrics.values()])
        except Exception as exc:  # noqa: BLE001 — any failure means: train eagerly, correctly
            self.graph = self.out = None
            self.reason = f"recording failed ({type(exc).__name__}: {exc})"
            log.warning("The training step could not be recorded as a CUDA graph, so it runs step by "
                        "step (slower, same results): %s", exc)
            torch.cuda.synchronize(self.device)
            return None
        self.graph, self.captured = graph, True
        log.info("The training step is recorded as one CUDA graph and replayed from now on.")
        return self._replay(index)

    def _replay(self, index: torch.Tensor) -> dict:
        self.index.copy_(index)
        self.graph.replay()
        values = self.out.clone()                       # the next replay overwrites `out`
        return {k: values[j] for j, k in enumerate(self.keys)}


def capture_problem(model, device: torch.device) -> str | None:
    """Why the step of `model` on `device` cannot be recorded as a CUDA graph, or None when it can."""
    if device.type != "cuda":
        return f"not on an NVIDIA GPU ({device.type})"
    if not getattr(model, "capturable", False):
        return f"{type(model).__name__} steps are not recorded"
    if model.gradient_hook is not None:
        return "gradients are averaged across processes"
    if not hasattr(torch.cuda, "CUDAGraph"):
        return "this PyTorch has no CUDA graphs"
    return None


def on_device_learning_rates(optimizers: Sequence[torch.optim.Optimizer], device: torch.device) -> None:
    """Make every optimizer step on the device alone: `capturable`, with its learning rate a 0-d
    tensor there (which `Trainable.set_lr_scale` then changes in place). Adam's numbers are
    unchanged; `Trainable.optimizer_state` saves the rate as a number again."""
    for opt in optimizers:
        for group in opt.param_groups:
            if not torch.is_tensor(group["lr"]):
                group["lr"] = torch.tensor(float(group["lr"]), dtype=torch.float32, device=device)
            if "capturable" in group:
                group["capturable"] = True


def lerp_on_device(ema: list[torch.Tensor], params: list[torch.Tensor], w: torch.Tensor) -> None:
    """ema ← ema + w·(params − ema) with `w` a 0-d tensor, never read by the host (a CUDA graph
    records it; `torch._foreach_lerp_` would read `w` with `.item()` every step).

        >>> a, b = [torch.zeros(2)], [torch.ones(2)]
        >>> lerp_on_device(a, b, torch.tensor(0.25)); a[0].tolist()
        [0.25, 0.25]
    """
    diff = torch._foreach_sub(params, ema)
    torch._foreach_mul_(diff, w)
    torch._foreach_add_(ema, diff)
