"""Run folders: the unit of persistence. Only JSON, CSV, PNG and safetensors — nothing is unpickled.

    runs/2026-11-28T150102-gan-digits/
        config.json           family, model config, build arguments, train config (and the
                              processes it trained on), genlib version
        model.safetensors     weights (and buffers: batch-norm statistics, the EMA generator)
        optimizer.safetensors optimizer tensors + random-number state; their structure as metadata
        metrics.csv           one row per logged step
        samples.png           preview grid from the fixed seed
        card.json             data name and fingerprint, health summary, device, duration, steps

    from genlib.runs import list_runs, load_run
    for summary in list_runs():
        print(summary.name, summary.family, summary.steps)
    run = load_run(list_runs()[0].dir)     # run.model is ready to sample

The training loop never touches files: `RunWriter(run_dir)` is the writer `genlib.train.fit` hands
its checkpoints to, and `read_checkpoint(run_dir, model)` gives it the `Checkpoint` to resume from.
Every file is written to a temporary name and renamed, so a crash while saving leaves the previous
checkpoint whole. A damaged or foreign folder raises `RunError`, never a traceback.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, safe_open, save_file

from . import runfiles
from ._version import __version__
from .distributed import words as distributed_words
from .errors import RunError
from .models import MODELS, model_from_config
from .models.base import config_to_dict
from .sample import grid_png
from .train import Checkpoint, TrainConfig
from .workspace import WRITING_MARKER, writer_is_alive

log = logging.getLogger(__name__)

if TYPE_CHECKING:                    # pandas only where a table is read back: training needs none
    import pandas as pd

FILES = ("config.json", "model.safetensors", "optimizer.safetensors", "metrics.csv", "samples.png",
         "card.json")
FORMAT = "genlib-run/1"


def runs_root() -> Path:
    """Where runs are saved: $GENLIB_RUNS_DIR, or ./runs."""
    return Path(os.environ.get("GENLIB_RUNS_DIR", "runs")).expanduser()


def new_run_dir(family: str, data_name: str, root: str | Path | None = None) -> Path:
    """Create a fresh, empty run folder with a unique, readable name: 2026-11-28T150102-gan-digits.

    The folder is created here (atomically: two trainings started in the same second get two
    folders, never one), so the name is reserved before training starts.
    """
    root = Path(root) if root else runs_root()
    root.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{family}-{data_name}").strip("-")[:60] or family
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    for k in range(1, 10_000):
        path = root / (f"{stamp}-{slug}" if k == 1 else f"{stamp}-{slug}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RunError(f"Could not create a new run folder in {root}: clean up old runs first.")


def display_name(family: str, data_name: str, when: dt.datetime | str | None = None) -> str:
    """The name a person reads for a run: "GAN on shapes, 1 Dec 14:05" (folder names stay unique).

        >>> display_name("gan", "shapes.zip", dt.datetime(2026, 12, 1, 14, 5))
        'GAN on shapes, 1 Dec 14:05'
    """
    spec = MODELS.get(family)
    model = (spec.short or spec.title) if spec else str(family).upper()
    data = data_words(data_name)
    if isinstance(when, str):
        try:
            when = dt.datetime.fromisoformat(when)
        except ValueError:
            when = None
    when = when or dt.datetime.now()
    return f"{model} on {data}, {when.day} {when.strftime('%b %H:%M')}"


def data_words(data_name: str) -> str:
    """A data set's name as a person says it: "shapes.zip" → "shapes"."""
    return re.sub(r"\.(zip|tar\.gz|tgz|tar|npz|npy)$", "", str(data_name or "data"), flags=re.IGNORECASE)


def read_card(run_dir: str | Path) -> dict:
    """A run's card.json ({} when it has none yet): cheap, for pages that show a run's totals."""
    path = Path(run_dir) / "card.json"
    return _read_json(path) if path.exists() else {}


def data_card(data) -> dict:
    """What a run records about its data: enough to recognise it again, never the data itself."""
    report = getattr(data, "report", None)
    return {
        "name": getattr(data, "name", "data"),
        "fingerprint": data.fingerprint() if hasattr(data, "fingerprint") else None,
        "count": len(data),
        "shape": list(getattr(data, "shape", ())),
        "class_names": list(getattr(data, "class_names", []) or []),
        "health": report.lines() if report is not None else [],
    }


# ---- writing ---------------------------------------------------------------------------------
def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any) -> None:
    _atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=2, default=_json_default)))


def _json_default(obj):
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")





def save_checkpoint(run_dir: str | Path, model, train_config, state, *, samples: torch.Tensor | None = None,
                    info: dict | None = None) -> Path:
    """Write (or overwrite) every file of a run; returns the path of model.safetensors."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "format": FORMAT,
        "genlib_version": __version__,
        "family": model.family,
        "model_config": config_to_dict(model.config),
        "build_args": model.build_args(),
        "train_config": dataclasses.asdict(train_config),
        "distributed": {"world_size": state.world_size, "backend": state.backend,     # how it trained
                        "global_batch": state.global_batch or train_config.batch_size},
        "step": state.step,
    }
    _write_json(run_dir / "config.json", config)
    weights = run_dir / "model.safetensors"
    _atomic_write(weights, lambda p: save_file(runfiles.plain_tensors(model.state_dict()), str(p),
                                               metadata={"format": FORMAT}))
    opt_tensors, structure = runfiles.flatten_optimizers(model.optimizer_state())
    opt_tensors["rng/cpu"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            opt_tensors[f"rng/cuda{i}"] = s
    meta = {"format": FORMAT, "structure": json.dumps(structure, default=_json_default),
            "step": str(state.step), "elapsed": repr(float(state.elapsed))}
    _atomic_write(run_dir / "optimizer.safetensors", lambda p: save_file(opt_tensors, str(p), metadata=meta))
    if state.history:
        _atomic_write(run_dir / "metrics.csv", lambda p: runfiles.write_history(p, state.history))
    if samples is not None:
        try:
            png = grid_png(samples, scale=2)
        except ImportError:          # a bare PyTorch box without Pillow: the weights matter, not the picture
            log.warning("Pillow is not installed: %s has no samples.png", run_dir)
        else:
            _atomic_write(run_dir / "samples.png", lambda p: p.write_bytes(png))
    card = _read_json(run_dir / "card.json") if (run_dir / "card.json").exists() else {}
    now = dt.datetime.now().isoformat(timespec="seconds")
    card.update({
        "format": FORMAT, "genlib_version": __version__, "family": model.family,
        "created": card.get("created", now), "updated": now, "status": state.status,
        "steps": state.step, "total_steps": state.total_steps, "device": state.device,
        "duration_seconds": round(state.elapsed, 2),
        "final_metrics": {k: v for k, v in (state.history[-1] if state.history else {}).items()
                          if k not in ("step", "seconds")},
    })
    if info:
        card.setdefault("info", {}).update(info)
        card.update({k: v for k, v in info.items() if k in ("preset", "data")})
    if "display_name" not in card:
        card["display_name"] = display_name(model.family, (card.get("data") or {}).get("name", "data"),
                                            card["created"])
    if state.error:
        card["error"] = state.error
    _write_json(run_dir / "card.json", card)
    return weights


def _distributed_of(config: dict) -> dict:
    """config.json's "distributed" section; runs saved before it existed trained in one process."""
    saved = config.get("distributed") if isinstance(config.get("distributed"), dict) else {}
    batch = (config.get("train_config") or {}).get("batch_size", 0)
    return {"world_size": int(saved.get("world_size", 1) or 1), "backend": str(saved.get("backend") or ""),
            "global_batch": int(saved.get("global_batch", batch) or 0)}


class RunWriter:
    """The writer `genlib.train.fit` saves through: every checkpoint becomes the run folder's files.

        state = fit(model, data, config, writer=RunWriter(new_run_dir("gan", "digits"), info))

    `info` (what was trained on, the preset) goes into card.json. When training fails, the last
    good checkpoint stays as it was and only the card records the failure.
    """

    def __init__(self, run_dir: str | Path, info: dict | None = None):
        self.run_dir = Path(run_dir)
        self.info = info

    def save(self, model, config, state, samples=None) -> Path:
        path = save_checkpoint(self.run_dir, model, config, state, samples=samples, info=self.info)
        marker = self.run_dir / WRITING
        if marker.exists():
            os.utime(marker)                # "still writing": fresh for whoever cleans up old folders
        return path

    def end(self, state) -> None:
        card_path = self.run_dir / "card.json"
        if state.status != "failed" or not card_path.exists():
            return
        card = _read_json(card_path)
        card.update(status="failed", error=state.error, error_kind=state.error_kind)
        _write_json(card_path, card)


# ---- reading ---------------------------------------------------------------------------------
def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{path.parent} is not a genlib run: {path.name} is missing. Choose the folder "
                       f"that training created (it holds config.json and model.safetensors).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path} is damaged ({exc.__class__.__name__}); this run cannot be opened. "
                       f"Train again or restore the file from a backup.") from None
    if not isinstance(obj, dict):
        raise RunError(f"{path} is not a genlib run file; choose a folder that training created.")
    return obj


def _load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    if not path.exists():
        raise RunError(f"{path.parent} has no {path.name}: the run was not saved completely. "
                       f"Train it again.")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return load_file(str(path)), meta
    except Exception as exc:  # safetensors raises its own error types for damaged headers
        raise RunError(f"{path} is damaged or not a safetensors file ({exc}); this run cannot be "
                       f"opened. Train again or restore the file from a backup.") from None


@dataclasses.dataclass
class Run:
    """A loaded run: the rebuilt model (in eval mode, on the CPU) and everything saved beside it."""

    dir: Path
    family: str
    model: Any
    config: dict
    train_config: Any
    card: dict
    metrics: pd.DataFrame

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def display_name(self) -> str:
        """ "GAN on shapes, 1 Dec 14:05": what a person reads (the folder name is `name`)."""
        return self.card.get("display_name") or self.dir.name

    @property
    def distributed(self) -> dict:
        """{"world_size", "backend", "global_batch"} of its latest training (1 process for old runs)."""
        return _distributed_of(self.config)

    @property
    def samples_png(self) -> bytes | None:
        p = self.dir / "samples.png"
        return p.read_bytes() if p.exists() else None


def load_run(run_dir: str | Path, device: str | torch.device = "cpu") -> Run:
    """Rebuild the model saved in `run_dir` (weights only: optimizers are restored by resume)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"There is no run folder at {run_dir}. Check the path (`python -m genlib runs` "
                       f"lists saved runs).")
    config = _read_json(run_dir / "config.json")
    if config.get("format") != FORMAT or "family" not in config:
        raise RunError(f"{run_dir} was not written by genlib (config.json has no genlib format mark); "
                       f"choose a folder that training created.")
    try:
        model = model_from_config(config["family"], config.get("model_config", {}),
                                  config.get("build_args", {}))
        train_config = TrainConfig(**{k: v for k, v in config.get("train_config", {}).items()
                                      if k in {f.name for f in dataclasses.fields(TrainConfig)}})
    except (TypeError, ValueError) as exc:
        raise RunError(f"{run_dir}/config.json does not describe a model this genlib can build ({exc}). "
                       f"It may come from another version (it says {config.get('genlib_version')}).") from None
    tensors, _ = _load_tensors(run_dir / "model.safetensors")
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise RunError(f"The weights in {run_dir} do not fit the model described in config.json "
                       f"({str(exc).splitlines()[0]}). The folder may mix files from two runs.") from None
    model.to(device).eval()
    card = _read_json(run_dir / "card.json") if (run_dir / "card.json").exists() else {}
    import pandas as pd

    try:
        metrics = pd.read_csv(run_dir / "metrics.csv") if (run_dir / "metrics.csv").exists() else pd.DataFrame()
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        metrics = pd.DataFrame()
    return Run(run_dir, config["family"], model, config, train_config, card, metrics)


def read_checkpoint(run_dir: str | Path, model) -> Checkpoint:
    """Put the weights of `run_dir` into `model` and return the rest of its last checkpoint
    (optimizer and random state, step, time, curves) for `genlib.train.fit(start=…)`."""
    run_dir = Path(run_dir)
    tensors, _ = _load_tensors(run_dir / "model.safetensors")
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise RunError(f"The saved weights in {run_dir} do not fit this model ({str(exc).splitlines()[0]}).") from None
    opt_tensors, meta = _load_tensors(run_dir / "optimizer.safetensors")
    try:
        structure = json.loads(meta["structure"])
        optimizers = runfiles.unflatten_optimizers(opt_tensors, structure)
        step, elapsed = int(meta["step"]), float(meta["elapsed"])
        rng_cpu = opt_tensors["rng/cpu"]
    except (KeyError, ValueError, json.JSONDecodeError) as exc:
        raise RunError(f"The optimizer state in {run_dir} is damaged ({exc}); it cannot be resumed, "
                       f"but it can still be sampled. Start a new run to train further.") from None
    rng_cuda, i = [], 0
    while f"rng/cuda{i}" in opt_tensors:
        rng_cuda.append(opt_tensors[f"rng/cuda{i}"])
        i += 1
    history = [row for row in runfiles.read_history(run_dir / "metrics.csv") if row.get("step", 0) <= step]
    return Checkpoint(step, elapsed, history, optimizers, rng_cpu, rng_cuda)




# ---- listing and managing ----------------------------------------------------------------------
@dataclasses.dataclass
class RunSummary:
    dir: Path
    name: str
    family: str
    data: str
    status: str
    steps: int
    total_steps: int
    device: str
    duration_seconds: float
    updated: str
    final_metrics: dict
    data_fingerprint: str | None = None   # what the run was trained on (see ImageData.fingerprint)
    display_name: str = ""                # "GAN on shapes, 1 Dec 14:05" (card.json; the folder name before)
    world_size: int = 1                   # processes its latest training ran on (torchrun)
    backend: str = ""                     # their backend: "nccl", "gloo", "" for one process
    global_batch: int = 0                 # pictures per step, all processes together

    @property
    def trained_on(self) -> str:
        """ "trained on 2 processes (gloo), 64 pictures per step in all", or "" for one process."""
        return distributed_words(self.world_size, self.backend, self.global_batch)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["dir"] = str(self.dir)
        return d


def list_runs(root: str | Path | None = None) -> list[RunSummary]:
    """Every readable run under `root`, newest first; unreadable folders are passed over."""
    root = Path(root) if root else runs_root()
    if not root.is_dir():
        return []
    out = []
    for d in root.iterdir():
        if not (d / "config.json").is_file():
            continue
        try:
            config = _read_json(d / "config.json")
            card = _read_json(d / "card.json") if (d / "card.json").exists() else {}
        except RunError:
            continue
        if config.get("format") != FORMAT:
            continue
        out.append(RunSummary(
            dir=d, name=d.name, family=config.get("family", "?"),
            data=(card.get("data") or {}).get("name", "?"), status=card.get("status", "?"),
            steps=int(card.get("steps", config.get("step", 0))),
            total_steps=int(card.get("total_steps", 0)), device=card.get("device", "?"),
            duration_seconds=float(card.get("duration_seconds", 0.0)),
            updated=card.get("updated", ""), final_metrics=card.get("final_metrics", {}),
            data_fingerprint=(card.get("data") or {}).get("fingerprint"),
            display_name=card.get("display_name") or display_name(
                config.get("family", "?"), (card.get("data") or {}).get("name", "?"),
                card.get("created")),
            **_distributed_of(config)))
    return sorted(out, key=lambda r: r.updated, reverse=True)


def _check_is_run(run_dir: Path) -> None:
    config = _read_json(run_dir / "config.json")
    if config.get("format") != FORMAT:
        raise RunError(f"{run_dir} is not a genlib run; nothing was deleted.")


def delete_run(run_dir: str | Path) -> None:
    """Delete a run folder — only if it really is a genlib run and no training is writing it."""
    run_dir = Path(run_dir)
    _check_is_run(run_dir)
    if is_being_written(run_dir):
        raise RunError("This run is being trained right now; stop that training first, then delete it.")
    shutil.rmtree(run_dir)


# ---- one writer at a time ----------------------------------------------------------------------
WRITING = WRITING_MARKER      # marker file: a training is writing this run (its process id inside)


def is_being_written(run_dir: str | Path) -> bool:
    """True while a living process trains into `run_dir` (a crashed one's marker does not count)."""
    return writer_is_alive(run_dir)


class writing:
    """`with writing(run_dir):` — claim a run folder for one training; a second claim (another job
    resuming the same run) raises RunError instead of interleaving two writers' files."""

    def __init__(self, run_dir: str | Path):
        self.marker = Path(run_dir) / WRITING

    def __enter__(self):
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if is_being_written(self.marker.parent):
                raise RunError("This run is being trained right now (by you or in another tab); wait "
                               "for that training to finish or stop it, then try again.") from None
            self.marker.unlink(missing_ok=True)           # left by a crashed process
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        return self

    def __exit__(self, *exc):
        self.marker.unlink(missing_ok=True)
        return False
