"""The use cases: what the app's pages and the command line both do, each as one call.

    from genlib import pipeline
    from genlib.data import load_builtin
    data = load_builtin("digits")
    result = pipeline.train_model("gan", data, preset="quick", device="cpu")
    more = pipeline.resume_run(result.run_dir, data)        # the one rule for how far to go on
    pipeline.forecast(pipeline.load_sample_series("co2"), ["auto"], h=12)

Imports run one way: pipeline → runs → train → models (and data, forecast); nothing below imports
this module. A page holds widgets and layout and makes one call here per action; the command line
parses arguments and makes the same calls.
"""
from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from . import distributed, runs
from .data import load_builtin, load_images, load_series
from .data.builtin import data_for_run  # noqa: F401 (API: the data of a saved run)
from .data.images import load_image
from .data.series import SAMPLE_SERIES, load_sample_series, sample_series_csv  # noqa: F401 (API)
from .errors import DataError, GenlibError
from .forecast.report import default_horizon, run_forecast, trains_a_network  # noqa: F401 (API)
from .forecast.registry import MODELS as FORECASTERS
from .limits import check_forecast_work, check_model_size
from .models import MODELS, build_model, count_parameters, get_preset, make_config
from .settings import describe, hosted_mode, check_settings
from .train import Callback, TrainConfig, TrainState, fit

__all__ = ["TrainResult", "train_model", "resume_run", "train_settings", "steps_to_resume",
           "Recovery", "recovery", "data_for_run", "check_same_data", "image_runs", "matching_runs",
           "forecast", "forecast_needs_job", "forecast_csv", "default_horizon", "SAMPLE_SERIES",
           "load_sample_series", "sample_series_csv", "load_one_image", "reload_images",
           "reload_series", "series_columns"]


# ---- training ---------------------------------------------------------------------------------
@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    model: Any
    state: TrainState
    scores: dict | None = None        # the compact quality score saved at the end (genlib.scorecard)


def train_settings(family: str, preset: str) -> dict:
    """The training settings the app starts a preset with: the preset's numbers plus previews and
    checkpoints along the way, so the page shows pictures while it learns and a crash loses little.

        >>> train_settings("gan", "quick")["steps"] == get_preset("gan", "quick").steps
        True
    """
    p = get_preset(family, preset)
    return {"steps": p.steps, "batch_size": p.batch_size, "lr": p.lr,
            "preview_every": max(10, p.steps // 20), "checkpoint_every": max(50, p.steps // 5),
            "preview_n": 36, **p.train}


def train_model(family: str | None, data, *, preset: str = "quick", steps: int | None = None,
                overrides: dict | None = None, train_overrides: dict | None = None,
                out_dir: str | Path | None = None, device: str = "auto", seed: int = 0,
                callbacks: Iterable[Callback] = (), stop_event=None,
                resume: str | Path | None = None, runs_root: str | Path | None = None,
                score: bool = True) -> TrainResult:
    """Build a model of `family` for `data` from a preset, train it, and save it as a run.

    `overrides` change model config fields, `train_overrides` TrainConfig fields (one to one with
    the app's settings form; a "seed" or "steps" there wins). The run is saved in `out_dir`, else
    in a new folder under `runs_root` (default: `genlib.runs.runs_root()`). With `resume=RUN_DIR`
    the saved run continues instead (see `resume_run`). On a hosted server (GENLIB_HOSTED=1) the stricter limits
    of every setting apply before anything is built. An image training that saved a checkpoint
    ends with a compact quality score saved beside it (genlib.scorecard; its domain network is
    kept in `<runs_root>/.features`) unless `score=False` or GENLIB_SCORE=0. Under torchrun every
    process calls this and they train one run together (`genlib.distributed`): the preset's batch
    is the batch of all processes, and rank 0 alone writes the folder and scores it.

        >>> from genlib.data import load_builtin
        >>> r = train_model("vae", load_builtin("digits"), steps=3, device="cpu", out_dir="/tmp/r")
        >>> r.state.status
        'finished'
    """
    if resume is not None:
        return resume_run(resume, data, steps=steps, device=device, train_overrides=train_overrides,
                          callbacks=callbacks, stop_event=stop_event, score=score, runs_root=runs_root)
    if family not in MODELS:
        raise GenlibError(f"Unknown model {family!r}: choose one of {', '.join(MODELS)}.")
    p = get_preset(family, preset)
    train_overrides = dict(train_overrides or {})
    seed = int(train_overrides.pop("seed", seed))
    steps = train_overrides.pop("steps", None) or steps or p.steps
    with distributed.session() as world:          # torchrun's processes train one run together
        cfg = TrainConfig(**{"batch_size": p.batch_size, "lr": p.lr, **p.train, **train_overrides,
                             "steps": steps, "device": _process_device(device, world), "seed": seed})
        distributed.check_global_batch(cfg.batch_size, world.world_size)
        model_settings = {**p.model, **(overrides or {})}
        if hosted_mode():       # refuse before anything is built or allocated
            check_settings(cfg, hosted=True)
            check_settings(make_config(family, **model_settings), hosted=True)
            check_model_size(count_parameters(family, data.shape, data.num_classes, **model_settings))
        torch.manual_seed(seed)  # the initial weights are part of what `seed` reproduces
        model = build_model(family, data.shape, data.num_classes, **model_settings)
        run_dir = None
        if world.is_main:       # one folder, written by rank 0 only; the others learn its name
            run_dir = Path(out_dir) if out_dir else runs.new_run_dir(family, data.name, runs_root)
        run_dir = distributed.broadcast_object(run_dir)
        info = {"family": family, "preset": preset, "data": runs.data_card(data)}
        callbacks = list(callbacks) if world.is_main else []
        with _writing(run_dir, world):
            state = fit(model, data, cfg, callbacks, stop_event=stop_event,
                        writer=runs.RunWriter(run_dir, info) if world.is_main else None)
    return _scored(TrainResult(run_dir, model, state), data, score and world.is_main, device, callbacks,
                   stop_event, runs_root)


def _process_device(device: str, world: distributed.World) -> str:
    """This process's device: with torchrun on GPUs, GPU `local_rank` of its machine."""
    if not world.parallel:
        return device
    if world.backend == "nccl":
        if device not in ("auto", "cuda"):
            raise GenlibError(f"Processes started by torchrun on a machine with GPUs train on the GPUs "
                              f"(one each), not on {device}: use --device auto or cuda.")
        return f"cuda:{world.local_rank}"
    if device in ("auto", "cpu"):
        return "cpu"
    raise GenlibError(f"Processes started by torchrun without CUDA train on the processor, not on "
                      f"{device}: use --device cpu or auto.")


def _writing(run_dir: Path, world: distributed.World):
    """Claim the run folder for this training (rank 0 only: it alone writes)."""
    return runs.writing(run_dir) if world.is_main else contextlib.nullcontext()


def steps_to_resume(done: int, planned: int) -> int:
    """How far a resumed run goes when nobody says: to its planned steps if it stopped early,
    else half as many steps again (at least 100 more).

        >>> steps_to_resume(300, 800), steps_to_resume(800, 800)
        (800, 1200)
    """
    return planned if planned > done else done + max(done // 2, 100)


def resume_run(run_dir: str | Path, data, *, steps: int | None = None, device: str = "auto",
               train_overrides: dict | None = None, callbacks: Iterable[Callback] = (),
               stop_event=None, score: bool = True, runs_root: str | Path | None = None) -> TrainResult:
    """Continue the run in `run_dir` on `data`, exactly where it stopped, up to `steps` steps in all
    (default: `steps_to_resume`). Refuses data other than what the run was trained on. Ends with a
    compact quality score, as `train_model` does."""
    with distributed.session() as world:
        run = runs.load_run(run_dir)
        check_same_data(run.card, data)
        done, planned = int(run.card.get("steps", 0)), int(run.card.get("total_steps", 0))
        steps = steps or steps_to_resume(done, planned)
        cfg = dataclasses.replace(run.train_config, **{**(train_overrides or {}), "steps": steps,
                                                       "device": _process_device(device, world)})
        distributed.check_global_batch(cfg.batch_size, world.world_size)
        if hosted_mode():
            check_settings(cfg, hosted=True)
        callbacks = list(callbacks) if world.is_main else []
        with _writing(run.dir, world):
            start = runs.read_checkpoint(run.dir, run.model)
            state = fit(run.model, data, cfg, callbacks, stop_event=stop_event, start=start,
                        writer=runs.RunWriter(run.dir, run.card.get("info")) if world.is_main else None)
    return _scored(TrainResult(run.dir, run.model, state), data, score and world.is_main, device, callbacks,
                   stop_event, runs_root)


def _scored(result: TrainResult, data, score: bool, device, callbacks, stop_event, root) -> TrainResult:
    """The training's compact quality score, saved in its run folder (a failure only logs)."""
    if score:
        from .scorecard import score_after_training   # it imports evaluate, which imports this module

        result.scores = score_after_training(result.run_dir, data, result.state, runs_root=root,
                                             device=device, callbacks=callbacks, stop_event=stop_event)
    return result


def check_same_data(card: dict, data) -> None:
    """Raise DataError unless `data` is what the run's card says it was trained on (by content,
    never by name)."""
    saved = card.get("data") or {}
    fingerprint = saved.get("fingerprint")
    if fingerprint and fingerprint != data.fingerprint():
        count = saved.get("count")
        raise DataError(
            f"This run was trained on other pictures (“{saved.get('name', '?')}”"
            + (f", {count:,} images" if isinstance(count, int) else "")
            + f") than the ones loaded now (“{data.name}”, {len(data):,} images). Load the data it "
              "was trained on, then resume; or start a new training on this data.")


@dataclasses.dataclass(frozen=True)
class Recovery:
    """What to change after a failed training, and the settings to start again with."""

    changes: dict              # e.g. {"batch_size": 32}
    settings: dict             # every training setting, with the changes applied

    def words(self) -> str:
        """ "Pictures per step 32" — the labels a person sees in the settings form."""
        labels = describe(TrainConfig)
        return ", ".join(f"{labels[k].label.lower()} {v:g}" for k, v in self.changes.items())


def recovery(error_kind: str, family: str, preset: str, used: dict | None = None) -> Recovery | None:
    """The one policy after a failed run: out of memory → half the batch; diverged (NaN) → half the
    learning rate; anything else has no automatic fix (None).

        >>> recovery("nan", "gan", "quick").changes["lr"] == get_preset("gan", "quick").lr / 2
        True
    """
    settings = {**train_settings(family, preset), **(used or {})}
    if error_kind == "oom":
        changes = {"batch_size": max(1, int(settings["batch_size"]) // 2)}
    elif error_kind == "nan":
        changes = {"lr": float(settings["lr"]) / 2}
    else:
        return None
    return Recovery(changes, {**settings, **changes})


# ---- runs -------------------------------------------------------------------------------------
def image_runs(root: str | Path | None = None) -> list[runs.RunSummary]:
    """Saved runs of image models (the families in the registry), newest first."""
    return [r for r in runs.list_runs(root) if r.family in MODELS]


def matching_runs(data, root: str | Path | None = None) -> list[runs.RunSummary]:
    """Saved image runs that were trained on exactly this data (same fingerprint)."""
    fingerprint = data.fingerprint()
    return [r for r in image_runs(root) if r.data_fingerprint == fingerprint]


# ---- forecasting ------------------------------------------------------------------------------
def forecast(series, models, h: int | None = None, levels=(80, 95), windows: int = 3,
             steps: int = 1000, callbacks=(), stop_event=None, holidays: str | None = None) -> dict:
    """Fit each model, forecast `h` steps (default: `default_horizon`), backtest against seasonal
    naive, and explain what auto chose; `holidays`: a country's code, whose public holidays every
    model then takes into account (daily or hourly data). See
    `genlib.forecast.report.run_forecast`."""
    if not models:
        raise GenlibError("Choose at least one model to forecast with.")
    unknown = [m for m in models if m not in FORECASTERS]
    if unknown:
        raise GenlibError(f"Unknown forecasting model {unknown[0]!r}: choose from {', '.join(FORECASTERS)}.")
    check_forecast_work(int(series.df["unique_id"].nunique()), len(models), int(windows))
    return run_forecast(series, list(models), h, tuple(levels) or (80,), windows, steps, callbacks,
                        stop_event, holidays=holidays)


def forecast_needs_job(models, n_series: int = 1) -> bool:
    """True when a forecast trains a network (minutes: run it as a background job): a network
    model, or auto on a panel large enough for its network candidate."""
    return trains_a_network(models, n_series)


def forecast_csv(result: dict, raw: bool = False) -> bytes:
    """Every model's forecast of a `forecast` result in one CSV, the model first. For people:
    model titles, columns model, series, date, forecast, low 80 %, high 80 %, … rounded to four
    significant digits. raw=True: what programs read (model, unique_id, ds, mean, lo-80, …, code
    names, full precision)."""
    from .forecast.plain import people_table, raw_table

    table = (raw_table if raw else people_table)(result["forecasts"])
    return table.to_csv(index=False).encode()


# ---- pictures ---------------------------------------------------------------------------------
def load_one_image(raw: bytes, name: str, side: int, channels: int) -> torch.Tensor:
    """One uploaded picture as a 1×C×H×W tensor in [-1, 1], decoded like any training image and
    sized for a model of `channels` × `side` × `side`."""
    return load_image(raw, name=name, image_size=side, color="gray" if channels == 1 else "rgb")


def reload_images(source: dict, builtin: Callable = load_builtin, **options):
    """Load images again with corrected options (image size, colour) from where they came from:
    {"kind": "builtin", "name": …} or {"kind": "upload", "name": …, and "bytes": … or "path": …}."""
    if source["kind"] == "builtin":
        return builtin(source["name"], **options)
    return load_images(_upload(source), name=source["name"], **options)


def reload_series(source: dict, **options):
    """Load a table again with corrected guesses (date/value columns, frequency, day-first) from
    where it came from: {"kind": "sample", "name": …} or {"kind": "upload", "name": …, "bytes": …}."""
    if source["kind"] == "sample":
        return load_series(sample_series_csv(source["name"]), name=f"{source['name']}.csv", **options)
    return load_series(_upload(source), name=source["name"], **options)


def series_columns(raw: bytes, name: str) -> list[str]:
    """The column names of a table, as the series loader reads them (for choosing its columns
    when the loader's guesses failed); [] when the file is not a table it can read."""
    from .data.series.read import read_table
    from .data.types import HealthReport

    try:
        table, _ = read_table(raw, name, None, {}, HealthReport(kind="series"))
    except GenlibError:
        return []
    return [str(c) for c in table.columns]


def _upload(source: dict):
    """An upload's bytes, or the copy kept on disk (hosted servers keep no raw bytes in memory)."""
    if "bytes" in source:
        return source["bytes"]
    path = Path(source.get("path", ""))
    if not path.is_file():
        raise GenlibError("The uploaded file is no longer kept on the server: upload it again.")
    return path.read_bytes()


# ---- background jobs --------------------------------------------------------------------------
# genlib.jobs runs `fn(callback, stop_event)`; on a hosted server in a worker process, so the
# function must pickle: these module-level functions, bound with functools.partial.
def train_job(family: str, data, callback: Callback, stop_event, **options) -> TrainResult:
    """`train_model` as a background job: `functools.partial(train_job, family, data, preset=…)`."""
    return train_model(family, data, callbacks=[callback], stop_event=stop_event, **options)


def forecast_job(series, models, h, levels, windows, steps, callback: Callback, stop_event,
                 holidays: str | None = None) -> dict:
    """`forecast` as a background job: `functools.partial(forecast_job, series, models, …)`."""
    return forecast(series, models, h, levels, windows, steps, [callback], stop_event, holidays)
