"""Background jobs: real functions in real threads (no mocks), each test a few seconds at most."""
import gc
import os
import threading
import time
import weakref

import pytest
import torch

from genlib.errors import GenlibError, TrainingError
from genlib.jobs import (ACTIVE, GPU_QUEUED_MESSAGE, HOSTED_ERROR, OOM_MESSAGE, JobLimits,
                         JobRegistry, RunSummary, explain_error)

ENV = ("GENLIB_HOSTED", "GENLIB_MAX_JOBS", "GENLIB_JOB_SECONDS", "GENLIB_ABANDON_SECONDS",
       "GENLIB_JOB_PROCESSES")


@pytest.fixture(autouse=True)
def _local_server(monkeypatch):
    """Every test starts from a local server's defaults, whatever the developer's shell sets."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def counter(total=200, delay=0.005, fail_at=None, exc=None, log=None):
    """A real worker: counts, reports progress, honours the stop event; `log` lists who started."""
    def fn(callback, stop_event):
        if log is not None:
            log.append(callback.state.get("owner"))
        for i in range(total):
            if stop_event.is_set():
                return i
            if fail_at is not None and i == fail_at:
                raise exc
            callback.progress(i + 1, total, {"loss": 1.0 / (i + 1)})
            time.sleep(delay)
        return total
    return fn


def wait_for(predicate, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_job_runs_to_the_end_and_records_history():
    job = JobRegistry().submit("a", counter(50, 0.001), title="count")
    snap = job.wait(10)
    assert snap.status == "finished"
    assert snap.result == 50
    assert snap.step == 50 and snap.total == 50 and snap.fraction == 1.0
    assert [h["step"] for h in snap.history] == list(range(1, 51))
    assert snap.history[-1]["loss"] == pytest.approx(1 / 50)


def test_stop_ends_the_job_within_a_step():
    job = JobRegistry().submit("a", counter(10_000, 0.01))
    assert wait_for(lambda: job.snapshot().step >= 3)
    job.stop()
    t0 = time.time()
    snap = job.wait(5)
    assert time.time() - t0 < 1.0
    assert snap.status == "stopped"
    assert 3 <= snap.result < 10_000


def test_one_active_job_per_owner_but_owners_are_independent():
    reg = JobRegistry()
    first = reg.submit("alice", counter(10_000, 0.01))
    with pytest.raises(GenlibError, match="one training at a time"):
        reg.submit("alice", counter(5))
    other = reg.submit("bob", counter(5, 0.001))          # a CPU job of someone else runs at once
    assert other.wait(5).status == "finished"
    assert [j.id for j in reg.jobs("alice")] == [first.id]
    assert [j.id for j in reg.jobs("bob")] == [other.id]
    assert reg.get("bob", first.id) is None                # nobody reaches another owner's job
    first.stop()
    first.wait(5)
    again = reg.submit("alice", counter(3, 0.001))          # the slot is free after a stop
    assert again.wait(5).status == "finished"
    assert reg.latest("alice") is again


def test_gpu_jobs_wait_for_each_other_in_order():
    reg = JobRegistry()
    first = reg.submit("alice", counter(10_000, 0.01), uses_gpu=True)
    assert wait_for(lambda: first.status == "running")
    second = reg.submit("bob", counter(5, 0.001), uses_gpu=True)
    assert second.snapshot().message == f"{GPU_QUEUED_MESSAGE}: yours is next"
    assert second.status == "queued" and second.snapshot().step == 0
    assert second.snapshot().queue_position == 1 and first.snapshot().queue_position == 0
    assert reg.gpu_busy()
    first.stop()
    assert first.wait(5).status == "stopped"
    assert second.wait(5).status == "finished"
    assert not reg.gpu_busy()


def test_a_queued_job_can_be_stopped_before_it_starts():
    reg = JobRegistry()
    first = reg.submit("alice", counter(10_000, 0.01), uses_gpu=True)
    assert wait_for(lambda: first.status == "running")
    second = reg.submit("bob", counter(5), uses_gpu=True)
    assert wait_for(lambda: second.status == "queued")
    second.stop()
    assert second.wait(5).status == "stopped"
    assert second.snapshot().result is None
    first.stop()
    first.wait(5)


def test_errors_become_a_failed_status_in_plain_words():
    reg = JobRegistry()
    snap = reg.submit("a", counter(10, 0, fail_at=2, exc=GenlibError("The data is empty: load some."))).wait(5)
    assert (snap.status, snap.error, snap.error_kind) == ("failed", "The data is empty: load some.", "error")
    assert snap.step == 2

    snap = reg.submit("a", counter(10, 0, fail_at=1, exc=torch.cuda.OutOfMemoryError("CUDA out of memory."))).wait(5)
    assert (snap.status, snap.error, snap.error_kind) == ("failed", OOM_MESSAGE, "oom")

    nan = TrainingError("Training diverged at step 7: loss became nan.", kind="nan")
    snap = reg.submit("a", counter(10, 0, fail_at=1, exc=nan)).wait(5)
    assert snap.error == str(nan) and snap.error_kind == "nan"

    snap = reg.submit("a", counter(10, 0, fail_at=1, exc=KeyError("x"))).wait(5)
    assert snap.status == "failed" and "KeyError" in snap.error          # a local server names it
    assert reg.active("a") is None


def test_explain_error_recognises_oom_text_from_runtime_errors():
    assert explain_error(RuntimeError("CUDA error: out of memory"))["error_kind"] == "oom"
    assert explain_error(ValueError("bad"))["error_kind"] == "error"


def test_forget_drops_a_job_and_old_jobs_are_pruned():
    reg = JobRegistry(keep_per_owner=2)
    ids = [reg.submit("a", counter(1, 0)).id for _ in range(1)]
    reg.get("a", ids[0]).wait(5)
    for _ in range(3):
        j = reg.submit("a", counter(1, 0))
        j.wait(5)
        ids.append(j.id)
    assert len(reg.jobs("a")) <= 3
    last = reg.latest("a")
    reg.forget("a", last.id)
    assert reg.get("a", last.id) is None


def test_finished_jobs_of_any_owner_expire_after_max_age():
    reg = JobRegistry(max_age_hours=1e-4)                      # 0.36 seconds
    old = reg.submit("gone", counter(1, 0))
    assert old.wait(5).status == "finished" and old.snapshot().ended > 0
    running = reg.submit("busy", counter(10_000, 0.01))
    time.sleep(0.5)
    reg.submit("new", counter(1, 0)).wait(5)                    # pruning happens on submit
    assert reg.jobs("gone") == []
    assert reg.jobs("busy") == [running]                        # an active job is never dropped
    running.stop()
    running.wait(5)


def test_snapshots_are_consistent_while_the_worker_writes():
    job = JobRegistry().submit("a", counter(300, 0.0005))
    seen = []
    while job.status in ACTIVE:
        s = job.snapshot()
        seen.append(s)
        assert len(s.history) <= s.step + 1
    assert job.wait(5).status == "finished"
    steps = [s.step for s in seen]
    assert steps == sorted(steps)


def test_a_real_genlib_training_runs_as_a_job_and_stops(tmp_path):
    """A tiny real VAE on the built-in digits: progress, metrics, preview, stop, then resume."""
    from genlib.data import load_builtin
    from genlib.pipeline import train_model

    data = load_builtin("digits", n=128)
    reg = JobRegistry()

    def train(callback, stop_event, resume=None, steps=2000):
        return train_model("vae", data, preset="quick", steps=steps, device="cpu",
                           out_dir=tmp_path / "run", callbacks=[callback], stop_event=stop_event,
                           resume=resume, train_overrides={"log_every": 1,
                                                           "preview_every": 5, "preview_n": 4})

    job = reg.submit("me", train, title="VAE on digits")
    assert wait_for(lambda: job.snapshot().preview is not None, timeout=60)
    job.stop()
    snap = job.wait(30)
    assert snap.status == "stopped", snap.error
    assert 5 <= snap.step < 2000
    assert snap.history and "step" in snap.history[0]
    assert snap.preview.ndim == 3 and snap.preview.shape[2] == 3
    assert snap.run_dir == str(tmp_path / "run")
    assert (tmp_path / "run" / "model.safetensors").exists()
    assert snap.result == RunSummary(run_dir=str(tmp_path / "run"), status="stopped", step=snap.step)

    more = reg.submit("me", lambda cb, ev: train(cb, ev, resume=tmp_path / "run",
                                                 steps=snap.step + 3))
    done = more.wait(60)
    assert done.status == "finished", done.error
    assert done.step == snap.step + 3


# ---- the server's limits -------------------------------------------------------------------
def stop_all(*jobs):
    for job in jobs:
        job.stop()
    for job in jobs:
        assert job.wait(5).done


def test_a_cap_runs_jobs_one_after_another_in_order_with_positions():
    reg = JobRegistry(max_running=1)
    started, jobs = [], {}
    for who in ("a", "b", "c", "d"):
        jobs[who] = reg.submit(who, counter(10_000, 0.005, log=started))
    assert wait_for(lambda: started == ["a"])
    assert [jobs[w].status for w in "abcd"] == ["running", "queued", "queued", "queued"]
    assert [jobs[w].snapshot().queue_position for w in "abcd"] == [0, 1, 2, 3]
    assert jobs["b"].snapshot().message == "waiting for a free slot: yours is next"
    assert jobs["d"].snapshot().message == "waiting for a free slot: 2 jobs ahead of yours"
    assert reg.load() == (1, 3)
    for now, after in zip("abc", "bcd"):
        time.sleep(0.05)
        assert started[-1] == now                   # nobody starts while the slot is taken
        jobs[now].stop()
        assert jobs[now].wait(5).status == "stopped"
        assert wait_for(lambda: jobs[after].status == "running")
    assert started == ["a", "b", "c", "d"]
    assert jobs["d"].snapshot().queue_position == 0 and jobs["d"].snapshot().started > 0
    stop_all(jobs["d"])
    assert reg.load() == (0, 0)


def test_at_most_max_running_jobs_run_at_once():
    reg = JobRegistry(max_running=2)
    lock, now, most = threading.Lock(), [0], [0]

    def work(callback, stop_event):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.1)
        with lock:
            now[0] -= 1

    jobs = [reg.submit(str(i), work) for i in range(5)]
    assert all(j.wait(5).status == "finished" for j in jobs)
    assert most[0] == 2


def test_a_cpu_job_passes_a_gpu_job_that_waits_for_the_gpu():
    reg = JobRegistry(max_running=2)
    gpu = reg.submit("a", counter(10_000, 0.005), uses_gpu=True)
    waiting = reg.submit("b", counter(10_000, 0.005), uses_gpu=True)
    cpu = reg.submit("c", counter(10_000, 0.005))
    assert (gpu.status, waiting.status, cpu.status) == ("running", "queued", "running")
    assert waiting.snapshot().message == f"{GPU_QUEUED_MESSAGE}: yours is next"
    gpu.stop()
    assert wait_for(lambda: waiting.status == "running")
    stop_all(waiting, cpu)


def test_a_stopped_queued_job_leaves_the_queue_at_once_and_never_runs():
    reg = JobRegistry(max_running=1)
    started = []
    first = reg.submit("a", counter(10_000, 0.005, log=started))
    second = reg.submit("b", counter(5, 0.001, log=started))
    third = reg.submit("c", counter(5, 0.001, log=started))
    assert third.snapshot().queue_position == 2
    second.stop()
    snap = second.wait(0.5)                          # no wait for the running job to end
    assert (snap.status, snap.message, snap.stop_reason) == ("stopped", "stopped before it started", "user")
    assert third.snapshot().queue_position == 1
    assert third.snapshot().message == "waiting for a free slot: yours is next"
    reg.forget("c", third.id)                        # forgetting a queued job stops it too
    assert third.wait(0.5).status == "stopped"
    first.stop()
    assert first.wait(5).status == "stopped"
    time.sleep(0.1)
    assert started == ["a"] and reg.load() == (0, 0)
    assert reg.submit("b", counter(3, 0.001)).wait(5).status == "finished"


def test_the_time_limit_stops_a_running_job_and_says_how_to_continue():
    reg = JobRegistry(max_seconds=0.3)
    snap = reg.submit("a", counter(10_000, 0.005), title="count").wait(5)
    assert snap.status == "stopped" and snap.stop_reason == "time_limit"
    assert 0.3 <= snap.elapsed < 1.5 and 0 < snap.result < 10_000
    assert "time limit for one job (0.3 seconds) was reached" in snap.message
    assert "resume it" in snap.message
    assert reg.submit("a", counter(3, 0.001)).wait(5).status == "finished"   # quick jobs are untouched


def test_time_spent_in_the_queue_does_not_count_towards_the_limit():
    reg = JobRegistry(max_running=1, max_seconds=0.6)
    first = reg.submit("a", counter(40, 0.01))                               # about 0.4 s
    second = reg.submit("b", counter(10_000, 0.005), kind="forecast")
    assert first.wait(5).status == "finished"
    snap = second.wait(5)
    assert snap.status == "stopped" and snap.stop_reason == "time_limit"
    assert snap.elapsed >= 0.55 and snap.started >= first.snapshot().ended - 0.01
    assert "fewer steps" in snap.message                                    # not a training: no resume


def test_jobs_of_an_owner_nobody_watches_stop_and_leave_the_queue():
    reg = JobRegistry(max_running=1, abandon_after=0.4, check_every=0.05)
    started = []
    gone = reg.submit("gone", counter(10_000, 0.005, log=started))
    here = reg.submit("here", counter(10_000, 0.005, log=started))
    left = reg.submit("left", counter(10_000, 0.005, log=started))
    end = time.time() + 1.5
    while time.time() < end:                         # "here" has its page open; the others closed it
        reg.touch("here")
        time.sleep(0.05)
    g, l, h = gone.snapshot(), left.snapshot(), here.snapshot()
    assert (g.status, g.stop_reason) == ("stopped", "abandoned")
    assert g.message.startswith("Stopped because nobody was watching: its page was closed for over 0.4 seconds")
    assert (l.status, l.stop_reason) == ("stopped", "abandoned") and "left the queue" in l.message
    assert h.status == "running" and h.stop_reason == ""
    assert started == ["gone", "here"]
    stop_all(here)


def test_the_watcher_ends_with_its_registry():
    reg = JobRegistry(abandon_after=60, check_every=0.02)
    assert reg._watcher is None                      # started lazily
    reg.touch("someone")
    watcher = reg._watcher
    assert watcher.is_alive()
    del reg
    gc.collect()
    watcher.join(2)
    assert not watcher.is_alive()
    local = JobRegistry()
    local.touch("x")
    assert local._watcher is None                    # a local server never needs one


def test_an_ended_job_keeps_neither_the_model_nor_the_data(tmp_path):
    from genlib.pipeline import TrainResult
    from genlib.train import TrainState

    reg = JobRegistry()
    model, data = torch.nn.Linear(256, 256), torch.zeros(1000, 64)
    model_ref, data_ref = weakref.ref(model), weakref.ref(data)

    def train(callback, stop_event, model=model):
        callback.progress(7, 7)
        return TrainResult(run_dir=tmp_path / "run", model=model,
                           state=TrainState(total_steps=7, step=7, status="finished"))

    job = reg.submit("a", train, meta={"data": data, "family": "gan"}, drop_when_done=("data",))
    del model, data, train
    snap = job.wait(5)
    assert snap.status == "finished"
    assert snap.result == RunSummary(run_dir=str(tmp_path / "run"), status="finished", step=7)
    assert snap.meta == {"family": "gan"} and snap.run_dir == str(tmp_path / "run")
    assert wait_for(lambda: gc.collect() >= 0 and model_ref() is None and data_ref() is None, 5)

    forecast = {"forecasts": {"ets": [1.0, 2.0]}, "scores": {}}
    kept = reg.submit("a", lambda cb, ev: forecast, kind="forecast", meta={"series": "s"}).wait(5)
    assert kept.result is forecast and kept.meta == {"series": "s"}     # a forecast is the result


def test_a_hosted_server_hides_unexpected_exception_texts(monkeypatch, caplog):
    secret = KeyError("/srv/genlib/secret.key")
    hidden = explain_error(secret, hosted=True)
    assert hidden == {"error": HOSTED_ERROR, "error_kind": "error", "message": "failed"}
    assert "KeyError" in explain_error(secret, hosted=False)["error"]
    said = GenlibError("The file is empty: choose another.")
    assert explain_error(said, hosted=True)["error"] == str(said)                 # written for people
    assert explain_error(RuntimeError("CUDA out of memory"), hosted=True)["error"] == OOM_MESSAGE

    monkeypatch.setenv("GENLIB_HOSTED", "1")
    reg = JobRegistry(max_running=2, processes=False)      # a thread (tests/test_jobprocess.py: a process)
    snap = reg.submit("a", counter(10, 0, fail_at=1, exc=secret)).wait(5)
    assert (snap.status, snap.error) == ("failed", HOSTED_ERROR)
    assert "secret.key" in caplog.text                                   # the server's log has it


def test_limits_come_from_the_environment_else_local_or_hosted_defaults(monkeypatch):
    assert JobLimits.defaults() == JobLimits(None, None, None, 12.0)
    reg = JobRegistry()
    assert (reg.max_running, reg.max_seconds, reg.abandon_after, reg.max_age_hours) == (None, None, None, 12.0)

    monkeypatch.setenv("GENLIB_HOSTED", "1")
    half = max(1, len(os.sched_getaffinity(0)) // 2)
    assert JobLimits.defaults() == JobLimits(half, 900.0, 120.0, 2.0, processes=True)
    assert JobRegistry(max_running=5, abandon_after=None).limits == JobLimits(5, 900.0, None, 2.0, True)

    monkeypatch.setenv("GENLIB_MAX_JOBS", "3")
    monkeypatch.setenv("GENLIB_JOB_SECONDS", "60")
    monkeypatch.setenv("GENLIB_ABANDON_SECONDS", "0")                     # 0: never
    monkeypatch.setenv("GENLIB_JOB_PROCESSES", "0")
    assert JobRegistry().limits == JobLimits(3, 60.0, None, 2.0, processes=False)
    assert JobLimits.defaults(hosted=False) == JobLimits(3, 60.0, None, 12.0)
    monkeypatch.setenv("GENLIB_JOB_PROCESSES", "maybe")
    with pytest.raises(GenlibError, match="GENLIB_JOB_PROCESSES must be 1"):
        JobLimits.defaults()
    monkeypatch.delenv("GENLIB_JOB_PROCESSES")

    monkeypatch.setenv("GENLIB_MAX_JOBS", "two")
    with pytest.raises(GenlibError, match="GENLIB_MAX_JOBS must be a positive whole number of jobs"):
        JobLimits.defaults()
    monkeypatch.setenv("GENLIB_MAX_JOBS", "unlimited")
    monkeypatch.setenv("GENLIB_JOB_SECONDS", "-5")
    with pytest.raises(GenlibError, match="GENLIB_JOB_SECONDS must be a positive number of seconds"):
        JobLimits.defaults(hosted=False)
    with pytest.raises(GenlibError, match="allow at least 1"):
        JobLimits(max_running=0)
