"""Data-parallel training with real processes on the CPU (gloo), as torchrun starts them: gradient
averaging and sharding against one process, the GAN's two optimizers, EMA and gradient penalty,
one run folder, the readable batch error, and a 2-process run resumed in one process."""
from __future__ import annotations

import faulthandler
import json
import os
import socket
import threading
import time
import traceback
import warnings
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from genlib import distributed
from genlib.errors import GenlibError
from genlib.runs import list_runs, load_run

STEPS = 6
SETTINGS = {"batch_size": 16, "log_every": 1, "preview_every": 0, "checkpoint_every": 0, "preview_n": 4}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, job: str, out: str) -> None:
    """One process as torchrun would start it: the environment, then `job`; its result in a file."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                      LOCAL_WORLD_SIZE=str(world_size), GENLIB_SCORE="0")
    torch.set_num_threads(1)
    faulthandler.enable()       # a native abort (gloo's C++) prints every thread's Python stack
    try:
        if job in OWN_GROUP:    # several trainings in one process share one group, as a caller's would
            with distributed.session():
                result = JOBS[job](Path(out))
        else:                   # train_model sets the group up and takes it down
            result = JOBS[job](Path(out))
    except BaseException:     # noqa: BLE001 — reported to the test through the file
        result = {"crash": traceback.format_exc()}
    torch.save(result, Path(out) / f"rank{rank}.pt")


def spawn(job: str, out: Path, world_size: int = 2, timeout: float = 240) -> list[dict]:
    """Run `job` in `world_size` fresh processes; each one's result, by rank.

    A Python error in any process fails the test with its traceback. A process killed by a native
    signal (gloo's C++ has aborted a process on a shared CI machine, once in many runs, with
    "terminate called without an active exception") is started again once, on a new port and in a
    fresh folder; a second abort fails the test."""
    for attempt in (1, 2):
        folder = out / f"try{attempt}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            return _spawn_once(job, folder, world_size, timeout)
        except mp.ProcessExitedException as exc:
            if exc.exit_code >= 0 or attempt == 2:
                raise
            warnings.warn(f"{job}: process {exc.error_index} died of {exc.signal_name}; starting again")
    raise AssertionError("unreachable")


def _spawn_once(job: str, out: Path, world_size: int, timeout: float) -> list[dict]:
    ctx = mp.spawn(_worker, args=(world_size, _free_port(), job, str(out)), nprocs=world_size,
                   join=False)
    deadline = time.monotonic() + timeout
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.terminate()
            pytest.fail(f"{job}: the processes did not finish within {timeout:.0f} s")
    results = [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(world_size)]
    for r, res in enumerate(results):
        assert "crash" not in res, f"rank {r}:\n{res['crash']}"
    return results


def digits():
    from genlib.data import load_builtin

    return load_builtin("digits", n=64)


def _train(family: str, out: Path, overrides=None, steps: int = STEPS, stop_event=None, **settings):
    from genlib.pipeline import train_model

    return train_model(family, digits(), steps=steps, device="cpu", runs_root=out / "runs",
                       overrides=overrides, train_overrides={**SETTINGS, **settings}, score=False,
                       stop_event=stop_event)


def _pixelcnn(out: Path) -> dict:
    r = _train("pixelcnn", out)
    return {"status": r.state.status, "run_dir": str(r.run_dir), "history": r.state.history,
            "world": r.state.world_size, "global_batch": r.state.global_batch}


def _gan(out: Path) -> dict:
    r = _train("gan", out, overrides={"loss": "wgan-gp", "ema_decay": 0.9}, steps=3)
    return {"status": r.state.status, "error": r.state.error,
            "params": {k: v.detach().clone() for k, v in r.model.named_parameters()},
            "ema": {k: v.detach().clone() for k, v in r.model.generator_ema.named_parameters()}}


def _vae(out: Path) -> dict:
    try:
        _train("vae", out, batch_size=15)
        refused = ""
    except GenlibError as exc:
        refused = str(exc)
    r = _train("vae", out, steps=3)
    folders = sorted(p.name for p in (out / "runs").iterdir())
    stop = threading.Event()
    if os.environ["RANK"] == "1":           # a stop in any process stops them all, at the next read
        stop.set()
    stopped = _train("vae", out, steps=50, stop_event=stop, log_every=4)
    return {"refused": refused, "status": r.state.status, "run_dir": str(r.run_dir), "folders": folders,
            "stopped": (stopped.state.status, stopped.state.step)}


JOBS = {"pixelcnn": _pixelcnn, "gan": _gan, "vae": _vae}
OWN_GROUP = {"vae"}


@pytest.fixture(scope="module")
def two_process_pixelcnn(tmp_path_factory):
    """A PixelCNN trained by 2 processes on a global batch of 16 (once for the tests below)."""
    results = spawn("pixelcnn", tmp_path_factory.mktemp("ddp_pixelcnn"))
    return results, Path(results[0]["run_dir"]).parent      # the runs folder


def test_two_processes_train_one_run_that_matches_one_process(two_process_pixelcnn, tmp_path):
    results, runs_root = two_process_pixelcnn
    assert [(r["world"], r["global_batch"]) for r in results] == [(2, 16), (2, 16)]
    assert [r["status"] for r in results] == ["finished", "finished"]
    assert results[0]["run_dir"] == results[1]["run_dir"]
    runs = list_runs(runs_root)
    assert len(runs) == 1                                    # rank 1 wrote nothing of its own
    assert runs[0].trained_on == "trained on 2 processes (gloo), 16 pictures per step in all"
    run = load_run(runs[0].dir)
    assert run.distributed == {"world_size": 2, "backend": "gloo", "global_batch": 16}
    assert run.model.sample(2, seed=0).shape == (2, 1, 16, 16)

    # PixelCNN draws no noise: one process on the same global batch takes the very same steps
    single = _train("pixelcnn", tmp_path)
    assert load_run(single.run_dir).distributed["world_size"] == 1
    two = [row["bits_per_dim"] for row in results[0]["history"]]
    one = [row["bits_per_dim"] for row in single.state.history]
    assert len(two) == len(one) == STEPS and one[-1] < one[0]
    assert two == pytest.approx(one, rel=1e-4)
    assert list(run.metrics["bits_per_dim"]) == pytest.approx(one, rel=1e-4)


def test_a_two_process_run_resumes_in_one_process(two_process_pixelcnn, tmp_path):
    from genlib.pipeline import resume_run

    results, _ = two_process_pixelcnn
    run_dir = Path(results[0]["run_dir"])
    more = resume_run(run_dir, digits(), steps=STEPS + 3, device="cpu", score=False)
    assert more.state.status == "finished" and more.state.step == STEPS + 3
    assert [row["step"] for row in more.state.history] == list(range(1, STEPS + 4))
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["train_config"]["batch_size"] == 16
    assert saved["distributed"] == {"world_size": 1, "backend": "", "global_batch": 16}


def test_gan_with_gradient_penalty_and_ema_stays_identical_across_processes(tmp_path):
    r0, r1 = spawn("gan", tmp_path)
    assert r0["status"] == r1["status"] == "finished", r0["error"]
    for key in ("params", "ema"):
        assert r0[key].keys() == r1[key].keys()
        for name, value in r0[key].items():
            assert torch.equal(value, r1[key][name]), f"{key} {name} differs between the processes"
    from genlib.models import build_model, get_preset

    torch.manual_seed(0)                                    # the weights train_model starts from
    data = digits()
    first = dict(build_model("gan", data.shape, data.num_classes, **{**get_preset("gan", "quick").model,
                             "loss": "wgan-gp", "ema_decay": 0.9}).named_parameters())
    assert any(not torch.equal(v, first[k]) for k, v in r0["params"].items())   # they did train


def test_vae_trains_a_batch_that_does_not_split_is_refused_and_one_stop_stops_all(tmp_path):
    r0, r1 = spawn("vae", tmp_path)
    for r in (r0, r1):
        assert "divisible by 2" in r["refused"] and "choose 14 or 16" in r["refused"]
        assert r["status"] == "finished" and r["stopped"] == ("stopped", 4)
    assert r0["run_dir"] == r1["run_dir"] and r0["folders"] == [Path(r0["run_dir"]).name]


def test_one_process_world_does_nothing():
    import doctest

    assert doctest.testmod(distributed).failed == 0
    w = distributed.init_from_env()
    assert (w.rank, w.world_size, w.backend, w.is_main) == (0, 1, None, True)
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0)
    distributed.average_gradients([p])
    assert torch.equal(p.grad, torch.full((3,), 2.0))
    assert distributed.words(1) == "" and distributed.cpus_per_process() is None
    with pytest.raises(GenlibError, match="divisible by 4: choose 60 or 64"):
        distributed.check_global_batch(62, 4)


def test_each_process_takes_its_own_slice_of_the_same_global_batch():
    from genlib.train import _Batches

    x, y = torch.arange(40).float().view(40, 1), torch.arange(40)
    one = _Batches([x, y], 16, seed=3, device=torch.device("cpu"))
    two = [_Batches([x, y], 16, seed=3, device=torch.device("cpu"), rank=r, world_size=2) for r in (0, 1)]
    for step in range(5):                                   # 2 batches an epoch: crosses epochs
        parts = [b(step) for b in two]
        assert [len(p[0]) for p in parts] == [8, 8]
        assert torch.equal(torch.cat([parts[0][1], parts[1][1]]), one(step)[1])
    assert two[0].batch_size == 16 and two[0].local == 8
    small = _Batches([x[:7], y[:7]], 16, seed=0, device=torch.device("cpu"), rank=1, world_size=2)
    assert small.batch_size == 6 and len(small(0)[0]) == 3  # capped at the data, still split evenly
