"""A job's function in a worker process, so that no visitor's work can starve everyone's pages.

In one process, threads take turns on one interpreter lock. A hosted server's page redraws are
pure Python, and so is much of the work (the classic forecasters' loops, building previews): with
20 visitors, page redraws and jobs starved each other (bench/hosted_load.py). A worker process has
its own interpreter, memory that is returned when it ends, and can be ended when it does not stop.

Workers are forked from a fork server that imported genlib and torch once (`PRELOAD`), so a job
starts in a fraction of a second rather than the seconds an import of torch takes, and never from
the server itself (a fork copies its threads' locks half-way). The function and its arguments are
pickled to the worker: the server's own objects going to its own child, never a visitor's file.

The worker reports through a one-way pipe, at most every `FLUSH_SECONDS` (a fast loop does not
flood a busy server): ("update", fields) and ("metrics", [dict, …]) as a `JobCallback` writes
them, then ("end", fields) once, with the outcome and a slim result (genlib.jobqueue.slim_result).
`run` is the server's side: it applies the messages to the job's `JobState`, passes a stop request
on to the worker, and ends a worker that has not stopped `kill_after` seconds after being asked
(building a big model, or one step of it, cannot be interrupted).

genlib.jobs.Job runs its function here when the registry says so (`JobLimits.processes`: on by
default on a hosted server); the function must then be picklable: a module-level function, or a
`functools.partial` of one (genlib.pipeline.train_job, forecast_job).
"""
from __future__ import annotations

import io
import logging
import multiprocessing
import multiprocessing.context
import os
import threading
import time
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import set_spawning_popen
from typing import Any, Callable

from genlib.errors import GenlibError
from genlib.jobqueue import slim_result
from genlib.jobstate import JobCallback, explain_error, outcome

log = logging.getLogger(__name__)

# what the fork server imports once; torch._dynamo is what a process's first optimizer imports
# (a second or more), so no training job pays it (genlib.estimate.start_device counts on this)
PRELOAD = ["genlib.pipeline", "genlib.jobprocess", "torch._dynamo"]
FLUSH_SECONDS = 0.25          # progress reaches the page at most this often from a worker
KILL_AFTER = 30.0             # seconds a worker has to stop after being asked, then it is ended
DIED = ("The job's worker process ended without a result (the server may have run out of "
        "memory). Try again with smaller settings.")

_lock = threading.Lock()
_context = None


def context():
    """The fork-server context, its preload set once per server process."""
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


class _Popen(popen_forkserver.Popen):
    """The fork server's Popen, less one thing: the worker does not import the server's main
    script. multiprocessing sends `sys.modules["__main__"]`'s file to each child, which runs it
    as `__mp_main__`; under `streamlit run` that module is the page script being run (Streamlit
    sets it for each run), so every job would run a page of the app. The job's function only
    needs genlib, which pickles by module name."""

    def _launch(self, process_obj):                 # multiprocessing.popen_forkserver, 3.11–3.13
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        parent_w = os.dup(w)                        # the child's sentinel of this parent
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Worker(multiprocessing.context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class Messenger:
    """The worker's stand-in for a JobState: `JobCallback` writes here, the pipe carries it."""

    def __init__(self, conn, fields: dict):
        self._conn = conn
        self._fields = dict(fields)       # what `get` answers (the callback reads the device)
        self._pending: dict = {}
        self._metrics: list[dict] = []
        self._last = 0.0

    def update(self, **fields: Any) -> None:
        self._fields.update(fields)
        self._pending.update(fields)
        self.flush(force="preview" in fields or "run_dir" in fields)

    def add_metrics(self, metrics: dict) -> None:
        self._metrics.append(dict(metrics))
        self.flush()

    def get(self, name: str, default: Any = None) -> Any:
        return self._fields.get(name, default)

    def flush(self, force: bool = True) -> None:
        now = time.monotonic()
        if not force and now - self._last < FLUSH_SECONDS:
            return
        self._last = now
        if self._metrics:
            self._conn.send(("metrics", self._metrics))
            self._metrics = []
        if self._pending:
            self._conn.send(("update", self._pending))
            self._pending = {}


def _worker(fn: Callable, args: tuple, conn, stop, fields: dict, env: dict) -> None:
    """The worker process: run `fn(*args, callback, stop)`, report, send the outcome, exit."""
    for name in [n for n in os.environ if n.startswith("GENLIB_") and n not in env]:
        del os.environ[name]              # the fork server's environment is from its start:
    os.environ.update(env)                # the server's settings now are what counts
    messenger = Messenger(conn, fields)
    try:
        end = outcome(fn(*args, JobCallback(messenger), stop), stop.is_set())
        end["result"] = slim_result(end["result"])
    except BaseException as exc:  # noqa: BLE001 — every failure becomes a status
        if not isinstance(exc, GenlibError):
            log.exception("a job failed in its worker process")
        end = {"status": "failed", **explain_error(exc)}
    try:
        messenger.flush()
        try:
            conn.send(("end", end))
        except Exception:  # noqa: BLE001 — a result that cannot be pickled
            log.exception("a job's result could not be sent back from its worker")
            conn.send(("end", {"status": "failed", **explain_error(RuntimeError("unpicklable result"))}))
    except OSError:
        pass                              # the server went away: nobody to tell
    finally:
        conn.close()


def run(fn: Callable, state, stop_event: threading.Event, *, args: tuple = (),
        kill_after: float | None = None, name: str = "genlib-job") -> dict:
    """Run `fn(*args, callback, stop_event)` in a worker process, mirror its progress into
    `state` (a JobState) and return its outcome fields (genlib.jobstate.outcome). Setting
    `stop_event` asks the worker to stop; one still running `kill_after` seconds later is ended
    and the job counts as stopped (its last checkpoint is what is saved)."""
    kill_after = KILL_AFTER if kill_after is None else kill_after
    ctx = context()
    reader, writer = ctx.Pipe(duplex=False)
    stop = ctx.Event()
    env = {n: v for n, v in os.environ.items() if n.startswith("GENLIB_")}
    proc = _Worker(target=_worker, args=(fn, args, writer, stop, {"device": state.get("device")}, env),
                  name=name, daemon=True)
    proc.start()
    writer.close()                        # the worker holds the only writing end: EOF when it dies
    asked, end = None, None
    try:
        while end is None:
            if stop_event.is_set() and asked is None:
                stop.set()
                asked = time.monotonic()
            if asked is not None and time.monotonic() - asked > kill_after:
                log.warning("job worker %s did not stop within %s s: ending it", proc.pid, kill_after)
                proc.terminate()
                return {"status": "stopped", "killed": True}
            if not reader.poll(0.1):
                continue
            try:
                kind, payload = reader.recv()
            except (EOFError, OSError):
                break                     # the worker died without a word
            if kind == "update":
                state.update(**payload)
            elif kind == "metrics":
                for metrics in payload:
                    state.add_metrics(metrics)
            else:
                end = payload
    finally:
        pid, code = proc.pid, _finish(proc)
        reader.close()
    if end is None:
        log.error("job worker %s ended with exit code %s and no result", pid, code)
        return {"status": "failed", "error": DIED, "error_kind": "error", "message": "failed"}
    return end


def _finish(proc, grace: float = 5.0) -> int | None:
    """Let the worker exit, end it if it does not (terminate, then kill); its exit code."""
    proc.join(grace)
    if proc.is_alive():
        proc.terminate()
        proc.join(grace)
    if proc.is_alive():
        proc.kill()
        proc.join()
    code = proc.exitcode
    proc.close()
    return code
