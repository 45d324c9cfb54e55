"""Jobs in worker processes (a hosted server's default): real processes from the fork server,
real trainings and forecasts; the job functions live at module level so that they pickle."""
import functools
import os
import time

import pytest

from genlib import jobprocess
from genlib.errors import GenlibError
from genlib.jobs import HOSTED_ERROR, JobRegistry, RunSummary

ENV = ("GENLIB_HOSTED", "GENLIB_MAX_JOBS", "GENLIB_JOB_SECONDS", "GENLIB_ABANDON_SECONDS",
       "GENLIB_JOB_PROCESSES")


@pytest.fixture(autouse=True)
def _local_server(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def count(total, delay, callback, stop_event, obey=True):
    """Counts and reports; returns (steps done, the worker's pid)."""
    for i in range(total):
        if obey and stop_event.is_set():
            return i, os.getpid()
        callback.progress(i + 1, total, {"loss": 1.0 / (i + 1)})
        time.sleep(delay)
    return total, os.getpid()


def fail(kind, callback, stop_event):
    if kind == "genlib":
        raise GenlibError("The file is empty: choose another.")
    if kind == "die":
        os._exit(3)                           # the worker vanishes (as under the OOM killer)
    if kind == "hosted?":
        return os.environ.get("GENLIB_HOSTED", "")
    raise KeyError("/srv/genlib/secret.key")


def wait_for(predicate, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_job_runs_in_another_process_and_every_metric_comes_back():
    reg = JobRegistry(processes=True)
    snap = reg.submit("a", functools.partial(count, 300, 0.001), title="count").wait(60)
    assert snap.status == "finished", snap.error
    steps, pid = snap.result
    assert steps == 300 and pid != os.getpid()
    assert (snap.step, snap.total) == (300, 300)
    assert [h["step"] for h in snap.history] == list(range(1, 301))      # batched, none lost


def test_stop_reaches_the_worker_and_a_deaf_worker_is_ended(monkeypatch):
    reg = JobRegistry(processes=True)
    job = reg.submit("a", functools.partial(count, 100_000, 0.005))
    assert wait_for(lambda: job.snapshot().step > 5)
    job.stop()
    snap = job.wait(30)
    assert snap.status == "stopped" and 5 < snap.result[0] < 100_000

    monkeypatch.setattr(jobprocess, "KILL_AFTER", 0.5)
    deaf = reg.submit("b", functools.partial(count, 100_000, 0.005, obey=False))
    assert wait_for(lambda: deaf.snapshot().step > 5)
    deaf.stop("time_limit")
    snap = deaf.wait(30)
    assert snap.status == "stopped" and "ended it" in snap.message
    assert reg.active("b") is None                                   # its slot is free again


def test_failures_in_a_worker_become_plain_statuses(monkeypatch, caplog):
    reg = JobRegistry(processes=True)
    said = reg.submit("a", functools.partial(fail, "genlib")).wait(60)
    assert (said.status, said.error) == ("failed", "The file is empty: choose another.")
    died = reg.submit("b", functools.partial(fail, "die")).wait(60)
    assert died.status == "failed" and died.error == jobprocess.DIED

    monkeypatch.setenv("GENLIB_HOSTED", "1")          # the server's setting now, not the fork server's
    assert reg.submit("c", functools.partial(fail, "hosted?")).wait(60).result == "1"
    hidden = reg.submit("d", functools.partial(fail, "secret")).wait(60)
    assert (hidden.status, hidden.error) == ("failed", HOSTED_ERROR)
    monkeypatch.delenv("GENLIB_HOSTED")
    assert reg.submit("e", functools.partial(fail, "hosted?")).wait(60).result == ""


def test_a_worker_never_runs_the_servers_main_script(tmp_path, monkeypatch):
    """Under `streamlit run`, sys.modules["__main__"] is the page being run: a worker that
    imported it (multiprocessing's default) would run a page of the app for every job."""
    import sys
    import types

    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('the page ran')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    snap = JobRegistry(processes=True).submit("a", functools.partial(count, 3, 0)).wait(60)
    assert snap.status == "finished" and snap.result[0] == 3
    assert not marker.exists()


def test_a_closure_cannot_run_in_a_process_and_says_so_instead_of_hanging():
    snap = JobRegistry(processes=True).submit("a", lambda callback, stop_event: 1).wait(30)
    assert snap.status == "failed" and snap.error


def test_a_real_training_and_a_real_forecast_run_in_workers(tmp_path):
    from genlib import pipeline
    from genlib.data import load_builtin
    from genlib.data.series import load_sample_series

    reg = JobRegistry(processes=True, max_running=1)
    data = load_builtin("digits")
    work = functools.partial(pipeline.train_job, "vae", data, preset="quick", steps=12,
                             train_overrides={"preview_every": 5, "checkpoint_every": 10},
                             runs_root=tmp_path)
    snap = reg.submit("a", work, title="VAE").wait(180)
    assert snap.status == "finished", snap.error
    assert isinstance(snap.result, RunSummary) and snap.result.step == 12
    assert (tmp_path / os.path.basename(snap.run_dir) / "card.json").exists()
    assert snap.preview is not None and snap.preview.ndim == 3              # the preview grid came back
    assert snap.history and "step" in snap.history[-1]

    series = load_sample_series("co2")
    work = functools.partial(pipeline.forecast_job, series, ["naive", "seasonal_naive"], 12,
                             (80,), 2, 100)
    snap = reg.submit("a", work, kind="forecast").wait(180)
    assert snap.status == "finished", snap.error
    assert set(snap.result["forecasts"]) == {"naive", "seasonal_naive"}
    assert len(snap.result["forecasts"]["naive"]) == 12
