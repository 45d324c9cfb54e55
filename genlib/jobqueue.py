"""The server's limits for background jobs, the one queue that enforces them, and what a job
that ended may keep in memory (`slim_result`: a TrainResult becomes a `RunSummary`).

`JobLimits` says how much one server lets its visitors run: jobs at once, seconds per job, how
long a job may run with nobody watching, how long finished jobs are kept. `JobLimits.defaults()`
reads them from the environment, else uses the local or hosted (GENLIB_HOSTED=1) defaults:

    setting          env var                  local       hosted
    max_running      GENLIB_MAX_JOBS          no cap      max(1, cores // 2)
    max_seconds      GENLIB_JOB_SECONDS       no limit    900 (15 minutes)
    abandon_after    GENLIB_ABANDON_SECONDS   never       120
    processes        GENLIB_JOB_PROCESSES     no          yes (each job in a worker process)
    max_age_hours    -                        12          2

An env var set to 0, "none" or "unlimited" lifts that limit; GENLIB_JOB_PROCESSES is 1 or 0.

`SlotQueue` starts jobs first come, first served: at most `max_running` at once, and jobs that use
the GPU one at a time (a GPU job waiting for the GPU lets later CPU jobs pass it while CPU slots are
free). It only needs jobs with `uses_gpu`, `state.update(...)` and `launch()` (genlib.jobs.Job).

    >>> JobLimits.defaults(hosted=False).max_running is None
    True
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import weakref
from typing import Any

from genlib.errors import GenlibError
from genlib.settings import hosted_mode

log = logging.getLogger(__name__)

QUEUED_MESSAGE = "waiting for a free slot"
GPU_QUEUED_MESSAGE = "waiting for the GPU (another training is running)"
_NO_LIMIT = ("0", "none", "unlimited", "off")


@dataclasses.dataclass(frozen=True)
class JobLimits:
    """How much one server runs for its visitors (None: no limit)."""

    max_running: int | None = None        # jobs running at once, all kinds; the rest wait in line
    max_seconds: float | None = None      # running time of one job before the server stops it
    abandon_after: float | None = None    # seconds without a page view before an owner's jobs stop
    max_age_hours: float = 12.0           # finished jobs are forgotten this long after they ended
    processes: bool = False               # run each job in a worker process (genlib.jobprocess)

    def __post_init__(self):
        if self.max_running is not None and self.max_running < 1:
            raise GenlibError(f"At most {self.max_running} jobs at once would run nothing: "
                              "allow at least 1, or None for no cap.")

    @classmethod
    def defaults(cls, hosted: bool | None = None) -> JobLimits:
        """The limits from GENLIB_MAX_JOBS, GENLIB_JOB_SECONDS and GENLIB_ABANDON_SECONDS, else
        the defaults of a local (one person) or hosted (strangers share it) server."""
        hosted = hosted_mode() if hosted is None else hosted
        if hosted:
            base = cls(max_running=max(1, _cores() // 2), max_seconds=15 * 60.0,
                       abandon_after=120.0, max_age_hours=2.0, processes=True)
        else:
            base = cls()
        return cls(max_running=_env("GENLIB_MAX_JOBS", base.max_running, int, "whole number of jobs"),
                   max_seconds=_env("GENLIB_JOB_SECONDS", base.max_seconds, float, "number of seconds"),
                   abandon_after=_env("GENLIB_ABANDON_SECONDS", base.abandon_after, float,
                                      "number of seconds"),
                   max_age_hours=base.max_age_hours,
                   processes=_env_flag("GENLIB_JOB_PROCESSES", base.processes))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:        # macOS and Windows have no affinity
        return os.cpu_count() or 1


def _env(name: str, default: Any, kind: type, what: str) -> Any:
    text = os.environ.get(name, "").strip().lower()
    if not text:
        return default
    if text in _NO_LIMIT:
        return None
    try:
        value = kind(text)
    except ValueError:
        value = -1
    if value == float("inf"):
        return None
    if not value > 0:
        raise GenlibError(f"{name} must be a positive {what}, or 0 for no limit "
                          f"(got {os.environ[name]!r}).")
    return value


def _env_flag(name: str, default: bool) -> bool:
    text = os.environ.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("1", "yes", "true", "on"):
        return True
    if text in ("0", "no", "false", "off"):
        return False
    raise GenlibError(f"{name} must be 1 (yes) or 0 (no), got {os.environ[name]!r}.")


def ahead_words(n: int) -> str:
    """'yours is next', '1 job ahead of yours', '3 jobs ahead of yours'."""
    return "yours is next" if n == 0 else f"{n} job{'s' if n > 1 else ''} ahead of yours"


class SlotQueue:
    """First come, first served: at most `max_running` jobs at once, GPU jobs one at a time."""

    def __init__(self, max_running: int | None = None):
        self._lock = threading.Lock()
        self._waiting: list = []
        self._running: list = []
        self.max_running = max_running

    def enter(self, job) -> None:
        """Put `job` in line; it starts (`job.launch()`) as soon as a slot is free, maybe now."""
        with self._lock:
            self._waiting.append(job)
            starting = self._fill()
        self._launch(starting)

    def leave(self, job) -> bool:
        """Take a waiting job out of the line: True if it was waiting (then it never starts)."""
        with self._lock:
            if job not in self._waiting:
                return False
            self._waiting.remove(job)
            self._tell_positions()
        return True

    def done(self, job) -> None:
        """A running job ended: its slot (and the GPU) go to the next in line."""
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            starting = self._fill()
        self._launch(starting)

    def position(self, job) -> int:
        """1 for the next job to start, 2 for the one after, …; 0 when not waiting."""
        with self._lock:
            return self._waiting.index(job) + 1 if job in self._waiting else 0

    def waiting(self) -> list:
        with self._lock:
            return list(self._waiting)

    def running(self) -> list:
        with self._lock:
            return list(self._running)

    def gpu_busy(self) -> bool:
        with self._lock:
            return any(j.uses_gpu for j in self._running)

    # ---- under the lock ----
    def _full(self) -> bool:
        return self.max_running is not None and len(self._running) >= self.max_running

    def _fill(self) -> list:
        starting = []
        gpu_busy = any(j.uses_gpu for j in self._running)
        for job in list(self._waiting):
            if self._full():
                break
            if job.uses_gpu and gpu_busy:
                continue
            self._waiting.remove(job)
            self._running.append(job)
            starting.append(job)
            gpu_busy = gpu_busy or job.uses_gpu
        self._tell_positions()
        return starting

    def _tell_positions(self) -> None:
        gpu_busy = any(j.uses_gpu for j in self._running)
        for i, job in enumerate(self._waiting):
            why = GPU_QUEUED_MESSAGE if job.uses_gpu and gpu_busy else QUEUED_MESSAGE
            job.state.update(status="queued", queue_position=i + 1, message=f"{why}: {ahead_words(i)}")

    def _launch(self, starting: list) -> None:
        for job in starting:          # outside the lock: a job that ends at once calls done()
            job.launch()


def stopped_message(reason: str, kind: str, *, started: bool = True,
                    max_seconds: float | None = None, abandon_after: float | None = None) -> str:
    """What a stopped job says, by why it stopped ("user", "time_limit", "abandoned")."""
    then = ("The model so far is saved: resume it to train further." if kind == "train"
            else "Start it again with fewer steps to finish within the limit.")
    if reason == "time_limit":
        return (f"Stopped: the server's time limit for one job ({duration(max_seconds)}) "
                f"was reached. {then}")
    if reason == "abandoned":
        gone = f"its page was closed for over {duration(abandon_after)}" if abandon_after else \
            "its page was closed"
        return (f"Stopped because nobody was watching: {gone}"
                + (f". {then}" if started else ", so it left the queue before it started."))
    return "stopped" if started else "stopped before it started"


def duration(seconds: float | None) -> str:
    """'90 seconds', '15 minutes', '3 hours'."""
    if seconds is None:
        return "no limit"
    if seconds < 120:
        return f"{seconds:g} seconds"
    return f"{seconds / 60:g} minutes" if seconds < 2 * 3600 else f"{seconds / 3600:g} hours"


def watch(owner: Any, method: str, every: str) -> threading.Thread:
    """A daemon thread that calls `owner.<method>()` every `owner.<every>` seconds for as long as
    `owner` exists (it holds only a weak reference, so a dropped registry ends its watcher)."""
    ref = weakref.ref(owner)

    def loop():
        while (obj := ref()) is not None:
            pause = getattr(obj, every)
            try:
                getattr(obj, method)()
            except Exception:  # the watcher must outlive one bad check
                log.exception("the job watcher's check failed")
            del obj
            time.sleep(pause)

    thread = threading.Thread(target=loop, name="genlib-jobs-watcher", daemon=True)
    thread.start()
    return thread


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What an ended training keeps in memory: where its run is saved (the model is on disk)."""

    run_dir: str | None                       # the run folder (open it with genlib.runs.load_run)
    status: str                               # the loop's status: "finished", "stopped" or "failed"
    step: int                                 # steps trained


def slim_result(result: Any) -> Any:
    """A TrainResult (it holds the model) becomes a `RunSummary`; anything else is kept."""
    if not (hasattr(result, "run_dir") and hasattr(result, "model")):
        return result
    state = getattr(result, "state", None)
    return RunSummary(run_dir=str(result.run_dir) if result.run_dir else None,
                      status=str(getattr(state, "status", "") or ""),
                      step=int(getattr(state, "step", 0) or 0))
