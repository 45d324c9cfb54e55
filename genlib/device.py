"""Which device genlib computes on, and the same device described for people.

    resolve_device("auto")         # CUDA, then Apple MPS, then CPU
    device_info().summary()        # "GPU: NVIDIA H200 (139 GB)" or "CPU — training will be slower"
    with cpu_threads(training_threads(params, 28 * 28)):   # CPU training: 1 thread for small models
        ...

One `DeviceInfo` serves the training loop, the job queue, the command line and the app's sidebar.
Leaf module: imports torch and genlib.errors only.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Iterator

import torch

from .errors import GenlibError

DEVICES = ("auto", "cpu", "cuda", "mps")        # what a person can ask for ("cuda:1" too)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def resolve_device(name: str = "auto", *, allow_mps: bool = True) -> torch.device:
    """"auto" → CUDA, then Apple MPS (unless `allow_mps` is False), then CPU; an explicit device
    that is missing is an error that says what to choose instead.

        >>> resolve_device("cpu").type
        'cpu'
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if allow_mps and _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(name, str) or (name not in DEVICES and not name.startswith("cuda:")):
        raise GenlibError(f"device must be auto, cpu, cuda or mps (got {name!r}).")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GenlibError("No CUDA GPU is visible to PyTorch: use --device cpu (or auto), or install a "
                          "CUDA build of PyTorch.")
    if name == "mps" and not (allow_mps and _mps_available()):
        raise GenlibError("Apple MPS is not available here: use --device cpu (or auto).")
    return torch.device(name)


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """A device described for people."""

    kind: str                     # "cuda", "mps" or "cpu"
    name: str                     # "NVIDIA H200", "Apple GPU" or "CPU"
    memory_gb: float | None       # GPU memory in GiB (None on CPU and MPS)
    threads: int = 0              # CPU threads PyTorch uses (CPU only)

    @property
    def is_gpu(self) -> bool:
        return self.kind != "cpu"

    def summary(self) -> str:
        """One line for the sidebar: "GPU: NVIDIA H200 (139 GB)" or "CPU — training will be slower"."""
        if self.kind == "cpu":
            return "CPU — training will be slower"
        mem = f" ({self.memory_gb:.0f} GB)" if self.memory_gb else ""
        return f"GPU: {self.name}{mem}"

    def short(self) -> str:
        """A few words for a log line: "NVIDIA H200 (139 GiB)" or "CPU (2 threads)"."""
        if self.kind == "cuda":
            return f"{self.name} ({self.memory_gb:.0f} GiB)"
        if self.kind == "mps":
            return "Apple GPU (MPS)"
        return f"CPU ({self.threads} threads)"

    def advice(self) -> str:
        """What the device means for the presets."""
        if self.kind == "cpu":
            return ("No GPU was found, so training runs on the processor, more slowly than on a "
                    "GPU: start with the “quick” presets. Each preset shows the time it is "
                    "expected to take on this machine, measured on your data.")
        return ("Training runs on the GPU: every preset is practical; “best” gives the "
                "sharpest samples. One GPU training runs at a time on this server; others wait.")


def device_info(device: torch.device | str = "auto") -> DeviceInfo:
    """Describe `device` (by default the one "auto" resolves to).

        >>> device_info("cpu").kind
        'cpu'
    """
    device = resolve_device(device) if isinstance(device, str) else device
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return DeviceInfo("cuda", props.name, props.total_memory / 2**30)
    if device.type == "mps":
        return DeviceInfo("mps", "Apple GPU", None)
    return DeviceInfo("cpu", "CPU", None, torch.get_num_threads())


def describe_device(device: torch.device | str = "auto") -> str:
    """Plain words for the command line: "NVIDIA H200 (139 GiB)" or "CPU (2 threads)"."""
    return device_info(device).short()


# ---- processor threads for CPU training --------------------------------------------------------
# Measured with bench/train_throughput.py (quick and standard presets, 16×16 and 28×28, batch 64;
# PixelCNN 16) on a shared 2-core machine (load average 4–10): two threads were 3–10× SLOWER than
# one for every model there (medians of 2–3 runs), because each of the many small kernels of a small model waits for the busiest core. A
# thread pays off only when one step's arithmetic is large against that hand-off cost, which
# parameters × values per image tracks (for a conv net it grows as weights × positions).
THREAD_WORK = 2e9            # parameters × values per image at which a second thread starts to pay
MAX_TRAINING_THREADS = 8     # beyond this, small-batch CPU training gains little


def available_cpus() -> int:
    """Processor cores this process may use (its affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def training_threads(model_parameters: int, image_values: int, cpu_count: int | None = None) -> int:
    """PyTorch's intra-op thread count for training a model on the CPU.

    One thread for small models: more threads were measured 3–10× slower for them on a busy
    2-core machine (over-subscription). From `THREAD_WORK` (parameters × values of one image) one
    more thread per `THREAD_WORK`, up to the cores available and `MAX_TRAINING_THREADS`.

        >>> training_threads(200_000, 16 * 16, cpu_count=2)          # a quick GAN on digits
        1
        >>> training_threads(3_000_000, 28 * 28, cpu_count=2)        # a classic DCGAN on MNIST
        1
        >>> training_threads(10_000_000, 3 * 64 * 64, cpu_count=16)  # a wide model on 64×64 photos
        8
    """
    cpus = max(1, int(cpu_count) if cpu_count else available_cpus())
    work = max(0, int(model_parameters)) * max(0, int(image_values))
    return int(max(1, min(cpus, MAX_TRAINING_THREADS, work // THREAD_WORK)))


@contextlib.contextmanager
def cpu_threads(n: int) -> Iterator[int]:
    """Set PyTorch's intra-op threads to `n` (at least 1) for a block, then restore the old count.

    The count is process-wide: two trainings in one process share it.

        >>> before = torch.get_num_threads()
        >>> with cpu_threads(1) as n:
        ...     torch.get_num_threads() == n == 1
        True
        >>> torch.get_num_threads() == before
        True
    """
    before = torch.get_num_threads()
    n = max(1, int(n))
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)


def model_threads(model):
    """A block that runs `model` on the CPU with the thread count `training_threads` picks for it
    (sampling, timing a step); nothing changes on a GPU. On a busy 2-core machine a PixelCNN
    drew 16 pictures in 45 s with torch's two threads and in under 1 s with one.

        >>> from genlib.models import build_model
        >>> with model_threads(build_model("gan", (1, 16, 16), base_channels=8)) as n:
        ...     n == torch.get_num_threads() == 1
        True
    """
    if model.device.type != "cpu":
        return contextlib.nullcontext()
    values = 1
    for side in model.image_shape:
        values *= int(side)
    return cpu_threads(training_threads(sum(p.numel() for p in model.parameters()), values))
