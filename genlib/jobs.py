"""Background jobs: a training (or any long call) in a daemon thread that a page can poll.

A `Job` runs `fn(callback, stop_event)` in a thread. `callback` is a `JobCallback` (a
`genlib.train.Callback`) to pass to `train_model`/`fit`; it records the step, the metrics
history, the latest preview grid, the ETA and the status into a lock-protected `JobState`.
`stop_event` is a `threading.Event`; the training loop checks it every step. The worker never
touches a user interface: a page (or a script) reads `job.snapshot()` whenever it likes.

The `JobRegistry` (one per process, `REGISTRY`) keeps jobs by (owner, job id) so a browser
that refreshes finds its job again, lets one owner run one job at a time, and lets one GPU job
run at a time across the server — the others wait with status "queued".

    >>> import time
    >>> def count(callback, stop_event):
    ...     for i in range(1_000):
    ...         if stop_event.is_set():
    ...             return i
    ...         callback.progress(i + 1, 1_000, {"value": float(i)})
    ...         time.sleep(0.001)
    ...     return 1_000
    >>> job = JobRegistry().submit("me", count, title="count to 1000")
    >>> job.wait(30).status
    'finished'
    >>> job.snapshot().result
    1000
"""
from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
import uuid
from typing import Any, Callable

import numpy as np
import torch

from genlib.errors import GenlibError
from genlib.train import Callback

log = logging.getLogger(__name__)

QUEUED_MESSAGE = "queued — waiting for the GPU (another training is running)"
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
    message: str = ""                         # what is happening now, in words
    error: str = ""                           # why it failed, in words ("" unless failed)
    error_kind: str = ""                      # "oom" | "nan" | "error" | "" : lets a page offer a fix
    step: int = 0                             # steps done
    total: int = 0                            # steps planned (0 when unknown)
    history: tuple = ()                       # metric dicts, each with a "step"
    preview: np.ndarray | None = None         # latest preview grid, H×W×3 uint8
    preview_step: int = 0                     # the step the preview was drawn at
    eta_seconds: float | None = None          # time left, from the training loop
    elapsed: float = 0.0                      # seconds since the job started running
    device: str = ""                          # device the job runs on ("cpu", "cuda:0", …)
    uses_gpu: bool = False                    # whether it waits for / holds the server's GPU
    run_dir: str | None = None                # the run folder once the loop made one
    result: Any = None                        # what fn returned (a TrainResult, a forecast, …)
    meta: dict = dataclasses.field(default_factory=dict)  # what the page stored to resume or redo it
    created: float = 0.0                      # time.time() at submit
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


class Job:
    """One background call: `fn(callback, stop_event)` in a daemon thread.

    Build jobs with `JobRegistry.submit`; use `stop()`, `snapshot()` and `wait()`.
    """

    def __init__(self, fn: Callable[[JobCallback, threading.Event], Any], *, owner: str,
                 kind: str = "train", title: str = "", uses_gpu: bool = False,
                 meta: dict | None = None, registry: "JobRegistry | None" = None):
        self.id = uuid.uuid4().hex[:12]
        self.owner = owner
        self.kind = kind
        self.fn = fn
        self.uses_gpu = uses_gpu
        self.stop_event = threading.Event()
        self.state = JobState(id=self.id, owner=owner, kind=kind, title=title or kind,
                              status="queued" if uses_gpu else "running",
                              message="starting", uses_gpu=uses_gpu, meta=dict(meta or {}),
                              created=time.time(), device="cuda" if uses_gpu else "cpu")
        self.callback = JobCallback(self.state)
        self._registry = registry
        self._thread = threading.Thread(target=self._work, name=f"genlib-job-{self.id}",
                                        daemon=True)

    def start(self) -> "Job":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the job to stop; the training loop stops within one step."""
        self.stop_event.set()
        if self.state.get("status") == "running":
            self.state.update(message="stopping after this step")

    def snapshot(self) -> JobSnapshot:
        return self.state.snapshot()

    @property
    def status(self) -> str:
        return self.state.get("status")

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        """Block until the job is done (or `timeout` seconds pass); return a snapshot."""
        self._thread.join(timeout)
        return self.snapshot()

    # ---- the worker (never calls a user interface) ----
    def _work(self) -> None:
        gpu = self._registry._gpu if (self.uses_gpu and self._registry) else None
        if gpu is not None:
            if not gpu.acquire(self):
                self.state.update(status="stopped", message="stopped before it started",
                                  ended=time.time())
                return
        started = time.time()
        try:
            self.state.update(status="running", message="running")
            result = self.fn(self.callback, self.stop_event)
            self._finish(result)
        except BaseException as exc:  # noqa: BLE001 — every failure becomes a status
            self.state.update(status="failed", **explain_error(exc))
            if not isinstance(exc, GenlibError):
                log.exception("job %s failed", self.id)
        finally:
            self.state.update(elapsed=time.time() - started, ended=time.time())
            if gpu is not None:
                gpu.release(self)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()

    def _finish(self, result: Any) -> None:
        train_state = getattr(result, "state", None)
        status = getattr(train_state, "status", None)
        run_dir = getattr(result, "run_dir", None)
        fields: dict[str, Any] = {"result": result}
        if run_dir:
            fields["run_dir"] = str(run_dir)
        if train_state is not None:
            fields["step"] = int(getattr(train_state, "step", self.state.get("step")))
            fields["device"] = str(getattr(train_state, "device", self.state.get("device")))
        if status == "failed":
            error = getattr(train_state, "error", "") or "Training failed."
            fields.update(status="failed", error=str(error), message="failed",
                          error_kind=getattr(train_state, "error_kind", "") or "error")
        elif status == "stopped" or (status is None and self.stop_event.is_set()):
            fields.update(status="stopped", message="stopped")
        else:
            fields.update(status="finished", message="finished")
        self.state.update(**fields)


def explain_error(exc: BaseException) -> dict:
    """Plain-words status fields for an exception raised inside a job.

    >>> explain_error(GenlibError("The file is empty: choose another."))["error"]
    'The file is empty: choose another.'
    """
    oom = isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())
    if oom:
        return {"error": OOM_MESSAGE, "error_kind": "oom", "message": "failed"}
    if isinstance(exc, GenlibError):
        return {"error": str(exc), "error_kind": exc.kind, "message": "failed"}
    return {"error": f"Something went wrong inside genlib ({type(exc).__name__}: {exc}). "
                     "Try again; if it happens again, report it with the run's settings.",
            "error_kind": "error", "message": "failed"}


class _GpuQueue:
    """First come, first served access to the server's one GPU."""

    def __init__(self):
        self._cond = threading.Condition()
        self._waiting: list[Job] = []
        self.holder: Job | None = None

    def acquire(self, job: Job) -> bool:
        """Wait for the GPU; False if the job was stopped while it waited."""
        with self._cond:
            self._waiting.append(job)
            while self.holder is not None or self._waiting[0] is not job:
                if job.stop_event.is_set():
                    self._waiting.remove(job)
                    self._cond.notify_all()
                    return False
                ahead = self._waiting.index(job) + (self.holder is not None)
                job.state.update(status="queued", message=QUEUED_MESSAGE +
                                 (f"; {ahead} job(s) ahead" if ahead > 1 else ""))
                self._cond.wait(0.2)
            self._waiting.pop(0)
            self.holder = job
            return True

    def release(self, job: Job) -> None:
        with self._cond:
            if self.holder is job:
                self.holder = None
            self._cond.notify_all()


class JobRegistry:
    """Every job of this server process, by (owner, job id); one module-level instance: REGISTRY.

    - an owner (a browser, the CLI) has at most one active job: `submit` raises `GenlibError`
      while one is queued or running;
    - jobs with `uses_gpu=True` run one at a time across the server, in submit order;
    - finished jobs stay (with their result) until `forget`, until `keep_per_owner` newer jobs
      of the same owner push them out, or until they are `max_age_hours` old (a browser that
      never comes back must not keep its models in the server's memory for ever).
    """

    def __init__(self, keep_per_owner: int = 10, max_age_hours: float = 12.0):
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Job] = {}
        self._gpu = _GpuQueue()
        self.keep_per_owner = keep_per_owner
        self.max_age_hours = max_age_hours

    def submit(self, owner: str, fn: Callable[[JobCallback, threading.Event], Any], *,
               kind: str = "train", title: str = "", uses_gpu: bool = False,
               meta: dict | None = None) -> Job:
        """Start `fn(callback, stop_event)` in the background for `owner` and return its Job."""
        with self._lock:
            running = self._active(owner)
            if running is not None:
                raise GenlibError(
                    f"“{running.snapshot().title}” is still running: one training at a time per "
                    "session. Stop it or wait until it finishes, then start the next one.")
            job = Job(fn, owner=owner, kind=kind, title=title, uses_gpu=uses_gpu, meta=meta,
                      registry=self)
            self._jobs[(owner, job.id)] = job
            self._prune(owner)
        return job.start()

    def get(self, owner: str, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get((owner, job_id))

    def jobs(self, owner: str, kind: str | None = None) -> list[Job]:
        """The owner's jobs, oldest first (only theirs: owners never see each other's jobs)."""
        with self._lock:
            return [j for (o, _), j in self._jobs.items()
                    if o == owner and (kind is None or j.kind == kind)]

    def latest(self, owner: str, kind: str | None = None) -> Job | None:
        found = self.jobs(owner, kind)
        return found[-1] if found else None

    def active(self, owner: str) -> Job | None:
        with self._lock:
            return self._active(owner)

    def forget(self, owner: str, job_id: str) -> None:
        """Drop a finished job (and the model it holds); a running job is stopped first."""
        with self._lock:
            job = self._jobs.pop((owner, job_id), None)
        if job is not None:
            job.stop()

    def gpu_busy(self) -> bool:
        return self._gpu.holder is not None

    def _active(self, owner: str) -> Job | None:
        for (o, _), j in self._jobs.items():
            if o == owner and j.status in ACTIVE:
                return j
        return None

    def _prune(self, owner: str) -> None:
        mine = [k for k, j in self._jobs.items() if k[0] == owner and j.status in DONE]
        for key in mine[:max(0, len(mine) - self.keep_per_owner)]:
            del self._jobs[key]
        too_old = time.time() - self.max_age_hours * 3600
        for key in [k for k, j in self._jobs.items()
                    if j.status in DONE and 0 < j.state.get("ended", 0) < too_old]:
            del self._jobs[key]


REGISTRY = JobRegistry()   # the server's registry: the app's pages all use this one
