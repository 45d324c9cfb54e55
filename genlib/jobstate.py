"""What a background job records and how it reports: the state pages read, the callback a
worker writes through, and the outcome of a call in plain words.

`JobState` is a lock-protected record; `snapshot()` gives a consistent `JobSnapshot` to any thread.
`JobCallback` (a `genlib.train.Callback`) writes a training loop's progress into anything with
`update(**fields)`, `add_metrics(dict)` and `get(name)`: a `JobState` in this process, or the
messenger of a worker process (genlib.jobprocess). `outcome(result, stopping)` turns what the job's
function returned into status fields; `explain_error(exc)` does so for an exception.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import threading
from typing import Any

import numpy as np
import torch

from genlib.errors import GenlibError
from genlib.settings import hosted_mode
from genlib.train import Callback

log = logging.getLogger(__name__)

HOSTED_ERROR = ("Something went wrong on the server; the job was stopped. "
                "Try again, or choose smaller settings.")
OOM_MESSAGE = "The GPU ran out of memory: choose a smaller batch size or image size."
ACTIVE = ("queued", "running")              # a job in one of these states holds its owner's slot
DONE = ("finished", "stopped", "failed")


@dataclasses.dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's progress, safe to read from any thread."""

    id: str                                   # job id, unique in the registry
    owner: str                                # who started it (a browser id, "cli", …)
    kind: str                                 # what it is: "train", "forecast", …
    title: str                                # one line for people: "GAN on digits (quick)"
    status: str                               # "queued" | "running" | "finished" | "stopped" | "failed"
    queue_position: int = 0                   # 1: next to start, 2: one job ahead, …; 0 unless queued
    stop_reason: str = ""                     # "user" | "time_limit" | "abandoned" | "" (not asked to stop)
    message: str = ""                         # what is happening now, in words
    error: str = ""                           # why it failed, in words ("" unless failed)
    error_kind: str = ""                      # "oom" | "nan" | "error" | "" : lets a page offer a fix
    step: int = 0                             # steps done
    total: int = 0                            # steps planned (0 when unknown)
    history: tuple = ()                       # metric dicts, each with a "step"
    preview: np.ndarray | None = None         # latest preview grid, H×W×3 uint8
    preview_step: int = 0                     # the step the preview was drawn at
    eta_seconds: float | None = None          # time left, from the training loop
    elapsed: float = 0.0                      # seconds it ran (set when it ends)
    device: str = ""                          # device the job runs on ("cpu", "cuda:0", …)
    uses_gpu: bool = False                    # whether it waits for / holds the server's GPU
    run_dir: str | None = None                # the run folder once the loop made one
    result: Any = None                        # what fn returned (a TrainResult, a forecast, …)
    meta: dict = dataclasses.field(default_factory=dict)  # what the page stored to resume or redo it
    created: float = 0.0                      # time.time() at submit
    started: float = 0.0                      # time.time() when it left the queue and began running
    ended: float = 0.0                        # time.time() when it finished, stopped or failed

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def fraction(self) -> float:
        """Progress in [0, 1]."""
        return min(1.0, self.step / self.total) if self.total else 0.0


class JobState:
    """The mutable, lock-protected record a worker writes and pages read via `snapshot()`."""

    def __init__(self, **fields: Any):
        self._lock = threading.Lock()
        self._fields = dict(fields)
        self._history: list[dict] = []

    def update(self, **fields: Any) -> None:
        with self._lock:
            self._fields.update(fields)

    def add_metrics(self, metrics: dict) -> None:
        with self._lock:
            self._history.append(dict(metrics))

    def get(self, name: str, default: Any = None) -> Any:
        with self._lock:
            return self._fields.get(name, default)

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return JobSnapshot(history=tuple(self._history), **self._fields)


class JobCallback(Callback):
    """Training-loop callback that records progress into a `JobState` (never into a UI).

    Pass it in `callbacks=[...]` to `genlib.train.fit`/`train_model`. Functions that are not
    training loops can report with `progress(step, total, metrics)` instead.
    """

    def __init__(self, state: JobState):
        self.state = state
        self._last_step = -1

    # -- genlib.train.Callback methods --
    def on_start(self, state) -> None:
        self.state.update(total=int(getattr(state, "total_steps", 0) or 0),
                          step=int(getattr(state, "step", 0) or 0),
                          device=str(getattr(state, "device", "") or self.state.get("device")),
                          message="training")
        run_dir = getattr(state, "run_dir", None)
        if run_dir:
            self.state.update(run_dir=str(run_dir))

    def on_step(self, state, metrics: dict) -> None:
        step = int(getattr(state, "step", 0))
        eta = getattr(state, "eta_seconds", None)
        self.state.update(step=step, total=int(getattr(state, "total_steps", 0) or 0),
                          eta_seconds=None if eta is None or not math.isfinite(eta) else float(eta))
        if metrics and step != self._last_step:
            self._last_step = step
            self.state.add_metrics({"step": step, **_plain(metrics)})

    def on_preview(self, state, images) -> None:
        from genlib.sample import make_grid

        if images is not None:
            self.state.update(preview=make_grid(images),
                              preview_step=int(getattr(state, "step", 0)))

    def on_checkpoint(self, state, path) -> None:
        self.state.update(run_dir=str(_run_dir_of(path)))

    def on_end(self, state) -> None:
        self.state.update(step=int(getattr(state, "step", 0)))

    # -- for plain functions --
    def progress(self, step: int, total: int = 0, metrics: dict | None = None,
                 message: str | None = None) -> None:
        """Report progress from a function that is not a training loop."""
        self.state.update(step=int(step), total=int(total))
        if message is not None:
            self.state.update(message=message)
        if metrics:
            self.state.add_metrics({"step": int(step), **_plain(metrics)})


def _plain(metrics: dict) -> dict:
    return {k: (float(v) if isinstance(v, (int, float, np.floating, np.integer)) or
                hasattr(v, "item") else v) for k, v in metrics.items()}


def _run_dir_of(path) -> str:
    from pathlib import Path

    p = Path(path)
    return str(p.parent if p.suffix else p)


def explain_error(exc: BaseException, hosted: bool | None = None) -> dict:
    """Plain-words status fields for an exception raised inside a job.

    GenlibError messages (written for people) and out-of-memory advice are shown as they are;
    other exceptions are named only on a local server — on a hosted one (`hosted`, default
    `hosted_mode()`) strangers read a sentence without the exception's text (it is logged).

    >>> explain_error(GenlibError("The file is empty: choose another."))["error"]
    'The file is empty: choose another.'
    >>> explain_error(KeyError("secret"), hosted=True)["error"].startswith("Something went wrong")
    True
    """
    oom = isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())
    if oom:
        return {"error": OOM_MESSAGE, "error_kind": "oom", "message": "failed"}
    if isinstance(exc, GenlibError):
        return {"error": str(exc), "error_kind": exc.kind, "message": "failed"}
    if hosted_mode() if hosted is None else hosted:
        return {"error": HOSTED_ERROR, "error_kind": "error", "message": "failed"}
    return {"error": f"Something went wrong inside genlib ({type(exc).__name__}: {exc}). "
                     "Try again; if it happens again, report it with the run's settings.",
            "error_kind": "error", "message": "failed"}


def outcome(result: Any, stopping: bool) -> dict:
    """Status fields for what a job's function returned: a TrainResult's loop status (finished,
    stopped or failed with its error and `error_kind`), else "stopped" when a stop was asked
    (`stopping`) and "finished" otherwise. A stopped job's message is left for the job to word.

    >>> outcome(42, stopping=False)["status"], outcome(None, stopping=True)["status"]
    ('finished', 'stopped')
    """
    train_state = getattr(result, "state", None)
    status = getattr(train_state, "status", None)
    run_dir = getattr(result, "run_dir", None)
    fields: dict[str, Any] = {"result": result}
    if run_dir:
        fields["run_dir"] = str(run_dir)
    if train_state is not None:
        fields["step"] = int(getattr(train_state, "step", 0))
        fields["device"] = str(getattr(train_state, "device", ""))
    if status == "failed":
        error = getattr(train_state, "error", "") or "Training failed."
        fields.update(status="failed", error=str(error), message="failed",
                      error_kind=getattr(train_state, "error_kind", "") or "error")
    elif status == "stopped" or (status is None and stopping):
        fields.update(status="stopped")
    else:
        fields.update(status="finished", message="finished")
    return fields
