"""Data-parallel training across processes started by torchrun: one run, N processes, the same model.

    torchrun --nproc_per_node 2 -m genlib train --model vae --data digits --preset quick

Every process holds the whole model and draws its own slice of each global batch; after each
`loss.backward()` the model's `gradient_hook` (`average_gradients`) averages the gradients of all
processes, so every process takes the same optimizer step and the weights stay identical. This is
StyleGAN2-ADA's training loop rather than `DistributedDataParallel`: DDP cannot follow the gradient
penalty's double backward, nor the GAN's two optimizers with a frozen discriminator.

    world = init_from_env()        # reads RANK, WORLD_SIZE, LOCAL_RANK; one process: does nothing
    model.gradient_hook = average_gradients
    broadcast_parameters(model)    # rank 0's weights everywhere before the first step

NCCL on GPUs, gloo on processors. Only rank 0 (`is_main()`) writes files and talks to people.
Leaf module: imports torch and genlib.errors only.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from typing import Iterable, Iterator

import torch
import torch.distributed as dist

from .errors import GenlibError

__all__ = ["World", "init_from_env", "session", "world", "is_main", "average_gradients",
           "broadcast_parameters", "reduce_mean", "broadcast_object", "check_global_batch",
           "cpus_per_process", "words"]


@dataclasses.dataclass(frozen=True)
class World:
    """Where this process stands among the processes training one run."""

    rank: int = 0                  # 0 … world_size − 1; rank 0 saves and reports
    world_size: int = 1            # processes in all (every node's)
    local_rank: int = 0            # the process's number on its own machine: its GPU
    backend: str | None = None     # "nccl", "gloo", or None for a single process

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.world_size > 1


def world() -> World:
    """The current world: the initialised process group's, else a single process."""
    if not (dist.is_available() and dist.is_initialized()):
        return World()
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)),
                 dist.get_backend())


def init_from_env(quiet_others: bool = True) -> World:
    """Join the process group torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT).

    With WORLD_SIZE > 1 and no group yet, initialise one: NCCL when CUDA is available (each
    process on GPU `local_rank`), else gloo. Without torchrun's variables (WORLD_SIZE unset or 1)
    nothing happens and a single-process World comes back. With `quiet_others`, the standard
    output of every process but rank 0 goes to os.devnull, so the command line prints once.

        >>> init_from_env().world_size      # a plain `python` process
        1
    """
    if dist.is_available() and dist.is_initialized():
        return world()
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1:
        return World()
    if not dist.is_available():
        raise GenlibError("This PyTorch was built without torch.distributed, so it cannot train "
                          "across processes: run without torchrun.")
    rank, local_rank = int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=size)
    if quiet_others and rank != 0:
        sys.stdout.flush()                      # what was printed before is shown, the rest is not
        sys.stdout = open(os.devnull, "w")      # noqa: SIM115 — lives as long as the process
    return World(rank, size, local_rank, backend)


@contextlib.contextmanager
def session() -> Iterator[World]:
    """`with session() as world:` — `init_from_env`, and destroy the process group at the end
    only when this call created it (a caller that set one up keeps it). A process that trains
    several times (a script, a test) holds one session around them all: setting a group up again
    at once on the same port races with the other processes' leaving."""
    created = not (dist.is_available() and dist.is_initialized())
    w = init_from_env()
    try:
        yield w
    except BaseException:
        if created and w.parallel and dist.is_initialized():
            dist.destroy_process_group()
        raise
    if created and w.parallel and dist.is_initialized():
        dist.barrier()                  # leave together: no process still needs the group
        dist.destroy_process_group()


def is_main() -> bool:
    """True in rank 0 (and in a single process): the process that saves and reports."""
    return world().is_main


def check_global_batch(batch_size: int, world_size: int) -> None:
    """The global batch must split evenly between the processes; say so in plain words."""
    if world_size > 1 and batch_size % world_size:
        lower = batch_size - batch_size % world_size
        raise GenlibError(
            f"Pictures per step ({batch_size}) is the batch of all {world_size} processes together, "
            f"so it must be divisible by {world_size}: choose {lower or world_size} or "
            f"{lower + world_size}.")


def average_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Average the gradients of `params` over every process, in one all-reduce.

    The gradients are flattened into one buffer, summed across processes and divided by the world
    size. A parameter without a gradient takes part as zeros, so every process joins the same
    collective with the same buffer size; it keeps no gradient afterwards (which parameters get
    one is the same in every process: the same model runs the same code).
    """
    w = world()
    if not w.parallel:
        return
    params = [p for p in params]
    if not params:
        return
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float()
                      for p in params])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= w.world_size
    offset = 0
    for p in params:
        n = p.numel()
        if p.grad is not None:
            p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
        offset += n


def broadcast_parameters(model: torch.nn.Module) -> None:
    """Rank 0's weights and buffers (batch-norm statistics, the EMA counter) to every process."""
    if not world().parallel:
        return
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            dist.broadcast(t.data, src=0)


def reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of `tensor` over every process (a new tensor; the same one back in a single process)."""
    w = world()
    if not w.parallel:
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / w.world_size


def broadcast_object(obj):
    """Rank 0's `obj` (anything picklable: a run folder's path) in every process."""
    if not world().parallel:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def cpus_per_process() -> int | None:
    """This machine's processor cores shared by the processes torchrun started on it (None for a
    single process: the whole machine)."""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "0") or 0) or world().world_size
    if local <= 1:
        return None
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, cpus // local)


def words(world_size: int, backend: str = "", global_batch: int = 0) -> str:
    """How a run was trained across processes, for people; "" for one process.

        >>> words(2, "gloo", 64)
        'trained on 2 processes (gloo), 64 pictures per step in all'
    """
    if int(world_size or 1) <= 1:
        return ""
    return (f"trained on {world_size} processes{f' ({backend})' if backend else ''}, "
            f"{int(global_batch):,} pictures per step in all")
