"""Background jobs: a training (or any long call) in a daemon thread that a page can poll.

A `Job` runs `fn(callback, stop_event)` in a thread (or, on a hosted server, in a worker process
watched by that thread: genlib.jobprocess). `callback` is a `JobCallback` (a
`genlib.train.Callback`) to pass to `train_model`/`fit`; it records the step, the metrics
history, the latest preview grid, the ETA and the status into a lock-protected `JobState`.
`stop_event` is a `threading.Event`; the training loop checks it every step. The worker never
touches a user interface: a page (or a script) reads `job.snapshot()` whenever it likes.

The `JobRegistry` (one per process, `REGISTRY`) keeps jobs by (owner, job id) so a browser
that refreshes finds its job again, and applies the server's limits (genlib.jobqueue.JobLimits,
stricter on a hosted server):
- one active job per owner; at most `max_running` jobs at once and GPU jobs one at a time, the
  others wait first come, first served with status "queued" and a `queue_position`;
- a running job is stopped (and saved, so it can be resumed) after `max_seconds`;
- pages call `touch(owner)` whenever they draw; the jobs of an owner not seen for
  `abandon_after` seconds are stopped, because nobody is watching them;
- a job that ended keeps only what a page shows: its TrainResult becomes a `RunSummary` (the
  model is in its run folder) and the `meta` entries named in `drop_when_done` are dropped.

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
import threading
import time
import uuid
from typing import Any, Callable

import torch

from genlib import jobprocess
from genlib.errors import GenlibError
from genlib.jobqueue import (GPU_QUEUED_MESSAGE, QUEUED_MESSAGE, JobLimits,  # noqa: F401
                             RunSummary, SlotQueue, slim_result, stopped_message, watch)
from genlib.jobstate import (ACTIVE, DONE, HOSTED_ERROR, OOM_MESSAGE, JobCallback,  # noqa: F401
                             JobSnapshot, JobState, explain_error, outcome)

log = logging.getLogger(__name__)


class Job:
    """One background call: `fn(callback, stop_event)` in a daemon thread.

    Build jobs with `JobRegistry.submit`; use `stop()`, `snapshot()` and `wait()`. A job made
    without a registry starts at once on `start()`; one in a registry waits for a free slot.
    """

    def __init__(self, fn: Callable[[JobCallback, threading.Event], Any], *, owner: str,
                 kind: str = "train", title: str = "", uses_gpu: bool = False,
                 meta: dict | None = None, registry: JobRegistry | None = None,
                 max_seconds: float | None = None, drop_when_done: tuple = (),
                 in_process: bool = False):
        self.id = uuid.uuid4().hex[:12]
        self.owner = owner
        self.kind = kind
        self.fn = fn
        self.uses_gpu = uses_gpu
        self.max_seconds = max_seconds
        self.drop_when_done = tuple(drop_when_done)
        self.in_process = in_process
        self.stop_event = threading.Event()
        self.state = JobState(id=self.id, owner=owner, kind=kind, title=title or kind,
                              status="queued", message="waiting to start", uses_gpu=uses_gpu,
                              meta=dict(meta or {}), created=time.time(),
                              device="cuda" if uses_gpu else "cpu")
        self.callback = JobCallback(self.state)
        self._registry = registry
        self._ended = threading.Event()
        self._timer: threading.Timer | None = None
        self._thread = threading.Thread(target=self._work, name=f"genlib-job-{self.id}",
                                        daemon=True)

    def start(self) -> Job:
        """Run now (no registry) or take a place in the registry's queue."""
        if self._registry is not None:
            self._registry._queue.enter(self)
        else:
            self.launch()
        return self

    def launch(self) -> None:
        """Start the thread (the queue calls this when a slot is free); the time limit starts now."""
        self.state.update(status="running", message="running", queue_position=0,
                          started=time.time())
        if self.max_seconds is not None:
            self._timer = threading.Timer(self.max_seconds, self.stop, args=("time_limit",))
            self._timer.daemon = True
            self._timer.start()
        self._thread.start()

    def stop(self, reason: str = "user") -> None:
        """Ask the job to stop: a queued job leaves the queue at once, a running training stops
        within one step and is saved. `reason`: "user", "time_limit" or "abandoned"."""
        if self.status in DONE:
            self.stop_event.set()
            return
        if not self.state.get("stop_reason"):
            self.state.update(stop_reason=reason)
        if self._registry is not None and self._registry._queue.leave(self):
            self._end(status="stopped", message=self._stopped_message(started=False))
            return
        self.stop_event.set()
        if self.status == "running":
            why = {"time_limit": "the server's time limit for one job was reached",
                   "abandoned": "nobody is watching"}.get(self.state.get("stop_reason"))
            self.state.update(message=f"{why}: stopping after this step" if why else
                              "stopping after this step")

    def snapshot(self) -> JobSnapshot:
        return self.state.snapshot()

    @property
    def status(self) -> str:
        return self.state.get("status")

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        """Block until the job is done (or `timeout` seconds pass); return a snapshot."""
        self._ended.wait(timeout)
        return self.snapshot()

    # ---- the worker (never calls a user interface) ----
    def _work(self) -> None:
        try:
            if self.in_process:
                fields = jobprocess.run(self.fn, self.state, self.stop_event,
                                        name=f"genlib-job-{self.id}")
            else:
                fields = outcome(self.fn(self.callback, self.stop_event), self.stop_event.is_set())
        except BaseException as exc:  # noqa: BLE001 — every failure becomes a status
            if not isinstance(exc, GenlibError):
                log.exception("job %s failed", self.id)
            fields = {"status": "failed", **explain_error(exc)}
        if fields.get("status") == "stopped":
            fields["message"] = self._stopped_message(killed=fields.pop("killed", False))
        self._end(**fields)

    def _stopped_message(self, started: bool = True, killed: bool = False) -> str:
        if killed:
            return ("Stopped: it did not stop within half a minute of being asked, so the server "
                    "ended it. The model is saved as of its last checkpoint.")
        return stopped_message(self.state.get("stop_reason"), self.kind, started=started,
                               max_seconds=self.max_seconds,
                               abandon_after=getattr(self._registry, "abandon_after", None))

    def _end(self, **fields: Any) -> None:
        """Record the outcome, drop what only the running job needed, free the slot."""
        started = self.state.get("started", 0.0)
        try:
            if self._timer is not None:
                self._timer.cancel()
            if "result" in fields:
                fields["result"] = slim_result(fields["result"])
            meta = {k: v for k, v in self.state.get("meta", {}).items()
                    if k not in self.drop_when_done}
            now = time.time()
            self.state.update(**fields, meta=meta, queue_position=0, ended=now,
                              elapsed=now - started if started else 0.0)
            self.fn = None                     # its closure may hold the data
            if self.uses_gpu and started and torch.cuda.is_available():
                torch.cuda.empty_cache()
        finally:
            if started and self._registry is not None:
                self._registry._queue.done(self)
            self._ended.set()


AUTO = "auto"   # a JobRegistry limit read from the environment, else the local / hosted default


class JobRegistry:
    """Every job of this server process, by (owner, job id); one module-level instance: REGISTRY.

    - an owner (a browser, the CLI) has at most one active job: `submit` raises `GenlibError`
      while one is queued or running;
    - at most `max_running` jobs run at once (None: no cap) and jobs with `uses_gpu=True` one at
      a time; the others wait in one first-come-first-served queue;
    - a job running for `max_seconds` is stopped; so are the jobs of an owner that `touch` has not
      seen for `abandon_after` seconds (checked every `check_every` seconds by a daemon thread);
    - finished jobs stay (slimmed) until `forget`, until `keep_per_owner` newer jobs of the same
      owner push them out, or until they are `max_age_hours` old.

    - with `processes`, jobs run in worker processes (genlib.jobprocess): a hosted server's pages
      and its visitors' jobs then never wait for each other's interpreter lock.

    Limits left at "auto" come from `JobLimits.defaults(hosted)`: GENLIB_MAX_JOBS,
    GENLIB_JOB_SECONDS, GENLIB_ABANDON_SECONDS, GENLIB_JOB_PROCESSES, else the local or hosted
    (GENLIB_HOSTED=1) default.
    """

    def __init__(self, keep_per_owner: int = 10, max_age_hours: float | str = AUTO, *,
                 max_running: int | None | str = AUTO, max_seconds: float | None | str = AUTO,
                 abandon_after: float | None | str = AUTO, check_every: float = 2.0,
                 hosted: bool | None = None, processes: bool | str = AUTO):
        given = {"max_running": max_running, "max_seconds": max_seconds,
                 "abandon_after": abandon_after, "max_age_hours": max_age_hours,
                 "processes": processes}
        self.limits = dataclasses.replace(JobLimits.defaults(hosted), **{
            k: v for k, v in given.items() if not (isinstance(v, str) and v == AUTO)})
        self.max_seconds, self.abandon_after = self.limits.max_seconds, self.limits.abandon_after
        self.max_age_hours = self.limits.max_age_hours
        self.keep_per_owner, self.check_every = keep_per_owner, check_every
        self._queue = SlotQueue(self.limits.max_running)
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Job] = {}
        self._seen: dict[str, float] = {}           # owner → time.monotonic() of its last page view
        self._watcher: threading.Thread | None = None

    @property
    def max_running(self) -> int | None:
        return self._queue.max_running

    def submit(self, owner: str, fn: Callable[[JobCallback, threading.Event], Any], *,
               kind: str = "train", title: str = "", uses_gpu: bool = False,
               meta: dict | None = None, drop_when_done: tuple = (),
               in_process: bool | None = None) -> Job:
        """Run `fn(callback, stop_event)` in the background for `owner` (now, or when a slot is
        free) and return its Job. `drop_when_done`: `meta` keys to let go of when it ends.
        `in_process`: run it in a worker process (default: the registry's `limits.processes`,
        on for a hosted server); `fn` must then be picklable."""
        with self._lock:
            running = self._active(owner)
            if running is not None:
                raise GenlibError(
                    f"“{running.snapshot().title}” is still running: one training at a time per "
                    "session. Stop it or wait until it finishes, then start the next one.")
            job = Job(fn, owner=owner, kind=kind, title=title, uses_gpu=uses_gpu, meta=meta,
                      registry=self, max_seconds=self.max_seconds, drop_when_done=drop_when_done,
                      in_process=self.limits.processes if in_process is None else in_process)
            self._jobs[(owner, job.id)] = job
            self._seen[owner] = time.monotonic()
            self._prune(owner)
        self._watch()
        return job.start()

    def touch(self, owner: str) -> None:
        """Record that `owner`'s page is open now (pages call it on every draw): jobs of owners
        not seen for `abandon_after` seconds are stopped."""
        with self._lock:
            self._seen[owner] = time.monotonic()
        self._watch()

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
        return self._queue.gpu_busy()

    def load(self) -> tuple[int, int]:
        """(jobs running, jobs waiting) across the server, for a page to show how busy it is."""
        return len(self._queue.running()), len(self._queue.waiting())

    def reap(self) -> list[Job]:
        """Stop the jobs of owners not seen for `abandon_after` seconds and forget jobs older
        than `max_age_hours`; return the jobs stopped. The watcher thread calls it."""
        now = time.monotonic()
        with self._lock:
            gone = set() if self.abandon_after is None else {
                o for o, seen in self._seen.items() if now - seen > self.abandon_after}
            stale = [j for (o, _), j in self._jobs.items()
                     if o in gone and j.status in ACTIVE and not j.stop_event.is_set()]
            self._prune_old()
            for o in gone - {o for o, _ in self._jobs}:
                del self._seen[o]
        for job in stale:
            log.info("stopping job %s: nobody has watched it for %s s", job.id, self.abandon_after)
            job.stop("abandoned")
        return stale

    def _watch(self) -> None:
        """Start the watcher thread the first time it is needed (never on a local server)."""
        with self._lock:
            if self.abandon_after is not None and self._watcher is None:
                self._watcher = watch(self, "reap", every="check_every")

    def _active(self, owner: str) -> Job | None:
        for (o, _), j in self._jobs.items():
            if o == owner and j.status in ACTIVE:
                return j
        return None

    def _prune(self, owner: str) -> None:
        mine = [k for k, j in self._jobs.items() if k[0] == owner and j.status in DONE]
        for key in mine[:max(0, len(mine) - self.keep_per_owner)]:
            del self._jobs[key]
        self._prune_old()

    def _prune_old(self) -> None:
        too_old = time.time() - self.max_age_hours * 3600
        for key in [k for k, j in self._jobs.items()
                    if j.status in DONE and 0 < j.state.get("ended", 0) < too_old]:
            del self._jobs[key]


REGISTRY = JobRegistry()   # the server's registry: the app's pages all use this one
