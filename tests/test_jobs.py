"""Background jobs: real functions in real threads (no mocks), each test a few seconds at most."""
import time

import pytest
import torch

from genlib.errors import GenlibError, TrainingError
from genlib.jobs import ACTIVE, OOM_MESSAGE, QUEUED_MESSAGE, JobRegistry, explain_error


def counter(total=200, delay=0.005, fail_at=None, exc=None):
    """A real worker: counts, reports progress, honours the stop event."""
    def fn(callback, stop_event):
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
    assert wait_for(lambda: second.snapshot().message.startswith(QUEUED_MESSAGE))
    assert second.status == "queued" and second.snapshot().step == 0
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
    assert snap.status == "failed" and "KeyError" in snap.error
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

    more = reg.submit("me", lambda cb, ev: train(cb, ev, resume=tmp_path / "run",
                                                 steps=snap.step + 3))
    done = more.wait(60)
    assert done.status == "finished", done.error
    assert done.step == snap.step + 3
