"""What every page shares: what this browser has loaded, its jobs and runs.

Not a page (st.navigation lists the pages in app.py). Pages import it as `app_pages._shared`. Every
decision a command-line user would also need lives in genlib.pipeline; this module keeps state
(who the browser is: app_pages/_visitor.py; the widgets that draw: app_pages/_widgets.py). State
lives in three places:
- st.session_state: this browser tab's loaded data, opened models and results;
- genlib.jobs.REGISTRY: the server's jobs, by a per-browser id (in the address on one's own
  machine, in a signed cookie on a hosted server), so a refresh during training finds its job
  again and two browsers never see each other's jobs;
- the runs folder on disk (GENLIB_RUNS_DIR; on a hosted server, the visitor's own folder).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import streamlit as st

from genlib import gallery, pipeline
from genlib.device import device_info
from genlib.errors import GenlibError
from genlib.jobs import REGISTRY, Job
from genlib.pipeline import SAMPLE_SERIES, default_horizon  # noqa: F401 (pages read them from here)
from genlib.settings import hosted_mode
from app_pages._visitor import (  # noqa: F401 (pages use them as S.…)
    COOKIE, gallery_entry, gallery_root, hosted_rules, is_mine, my_runs_root, my_workspace, owner,
    seen, set_cookie, shown_path)

PAGES = {"home": "app_pages/home.py", "data": "app_pages/data.py", "train": "app_pages/train.py",
         "forecast": "app_pages/forecast.py", "sample": "app_pages/sample.py", "runs": "app_pages/runs.py"}
PUBLISH_LIMIT = 5                          # gallery entries one visitor may publish on a hosted server


# ---- the page's end ---------------------------------------------------------------------------
class PageStop(Exception):
    """Raised by `stop()`; app.py catches it, so the sidebar is still drawn after the page."""


def stop() -> None:
    """End this page here (like st.stop(), which would also discard the sidebar app.py draws after
    the page)."""
    raise PageStop


def publish(run_dir: str | Path, title: str, allow_weights: bool) -> Path:
    """Publish one of this visitor's runs to the gallery (a read-only copy)."""
    if not is_mine(run_dir):
        raise GenlibError("Only your own runs can be published.")
    return gallery.publish(run_dir, gallery_root(), title=title.strip() or Path(run_dir).name,
                           allow_weights=allow_weights, publisher=owner(),
                           max_per_publisher=PUBLISH_LIMIT if hosted_mode() else None,
                           max_total_bytes=gallery.limit_bytes())


def add_bundle(name: str, raw: bytes) -> None:
    """Open an uploaded bundle (checked as a stranger's file) into a new run folder of one's own."""
    from genlib import bundle, runs

    dest = None
    try:
        manifest = bundle.read_manifest(raw)
        dest = runs.new_run_dir(manifest.get("family", "model"), Path(name).stem, my_runs_root())
        bundle.open_bundle(raw, dest)
    except GenlibError as exc:
        if dest is not None and dest.is_dir() and not any(dest.iterdir()):
            dest.rmdir()
        show_error(exc)
    else:
        st.success(f"Added {dest.name}: choose it below, or open it in Sample.")


@st.cache_resource(show_spinner=False)
def device():
    """The device training will use (read once per server)."""
    return device_info()


# ---- shared read-only data (one copy per server) ---------------------------------------------
@st.cache_data(show_spinner=False)
def builtin_datasets() -> list:
    from genlib.data import list_datasets
    return list_datasets()


@st.cache_resource(show_spinner="Loading the built-in dataset…", max_entries=8)
def builtin_images(name: str, image_size: int | None = None, color: str | None = None):
    from genlib.data import load_builtin
    return load_builtin(name, image_size=image_size, color=color)


@st.cache_resource(show_spinner="Loading the sample series…", max_entries=4)
def _sample_series(name: str):
    return pipeline.load_sample_series(name)


def load_sample_series(name: str) -> None:
    set_series(_sample_series(name), {"kind": "sample", "name": name, "options": {}})


# ---- this session's data ------------------------------------------------------------------
def images():
    """This session's images; in a new session (a refresh), those this browser loaded last."""
    _restore()
    return st.session_state.get("images")


def series():
    """This session's series; in a new session (a refresh), those this browser loaded last."""
    _restore()
    return st.session_state.get("series")


def set_images(data, source: dict) -> None:
    """Keep loaded images and how they were loaded (to reload them with corrections), and record
    the source in this browser's workspace so a refresh loads them again."""
    st.session_state["images"], st.session_state["images_source"] = data, source
    _remember("images", source)


def set_series(data, source: dict) -> None:
    st.session_state["series"], st.session_state["series_source"] = data, source
    st.session_state.pop("forecast_result", None)          # a forecast belongs to the series it came from
    _remember("series", source)


# What a restored source may pass to the loader again (the options the Data page sets).
_OPTIONS = {"images": ("image_size", "color"),
            "series": ("date_column", "value_column", "id_column", "freq", "dayfirst", "sheet", "fill",
                       "combine")}


def _remember(kind: str, source: dict) -> None:
    """Record `source` as what this browser loaded last (names and options, never the data)."""
    upload = source.get("path") if source.get("kind") == "upload" else None
    if source.get("kind") == "upload" and upload is None:
        return                                            # not kept on disk: nothing to reload from
    try:
        my_workspace().remember_data(kind, source["kind"], source["name"], source.get("options"),
                                   upload=upload, drop_replaced=not hosted_mode())
    except (GenlibError, OSError):
        pass                                              # the data stays loaded; only a refresh loses it


def _restore() -> None:
    """Once per browser session, when nothing is loaded yet: load again what this browser loaded
    last (recorded in its own workspace, so never another browser's data), with a note."""
    state = st.session_state
    if state.get("data_restored"):
        return
    state["data_restored"] = True
    if state.get("images") is not None or state.get("series") is not None:
        return
    try:
        ws = my_workspace()
        records = ws.last_data()
    except (GenlibError, OSError):
        return
    notes = []
    for kind, record in records.items():
        source = {"kind": record["source"], "name": record["name"],
                  "options": {k: v for k, v in record["options"].items() if k in _OPTIONS[kind]}}
        if record["source"] == "upload":
            source["path"] = str(ws.kept_upload(record["file"]))
        elif (kind == "images") != (record["source"] == "builtin"):
            continue                                      # images are built in, series are samples
        try:
            with st.spinner(f"Loading {record['name']} again, as on your last visit…"):
                if kind == "images":
                    data = pipeline.reload_images(source, builtin=builtin_images, **source["options"])
                elif record["source"] == "sample" and not source["options"]:
                    data = _sample_series(record["name"])
                else:
                    data = pipeline.reload_series(source, **source["options"])
        except GenlibError:
            continue                                      # gone or changed: the page asks for data
        state[kind], state[f"{kind}_source"] = data, source
        notes.append(f"Reloaded {data.name} from your last visit.")
    if notes:
        state["restored_note"] = " ".join(notes)
        st.toast(state["restored_note"], icon=":material/history:")


def load_upload(kind: str, name: str, raw: bytes, file_id: str = "", **options) -> None:
    """Read an uploaded file with genlib's loader (images or series) and keep it in the session.

    The Data page calls this with the uploader's bytes; tests can call it with any bytes. On a
    hosted server the bytes are not kept in memory: a copy goes to the visitor's own folder, for
    reloading with corrected settings, and is deleted with the workspace. On one's own machine the
    bytes stay in memory too, and the folder keeps only the last upload of each kind (images,
    series): what a refresh loads again."""
    from genlib.data import load_images, load_series

    loader, keep = (load_images, set_images) if kind == "images" else (load_series, set_series)
    try:
        data = loader(raw, name=name, **options)
    except GenlibError as exc:
        if kind == "images" or not _keep_failed(name, raw, file_id, exc):
            show_error(exc)
        return
    if kind == "series":
        st.session_state.pop("series_failed", None)
    keep(data, _upload_source(name, raw, file_id, options))


def _upload_source(name: str, raw: bytes, file_id: str, options: dict) -> dict:
    source = {"kind": "upload", "file_id": file_id, "name": name, "options": options}
    try:                                  # kept on disk in this browser's folder: a refresh reloads it
        source["path"] = str(my_workspace().keep_upload(name, raw))
    except OSError:
        if hosted_mode():
            raise
    if not hosted_mode():
        source["bytes"] = raw
    return source


def _keep_failed(name: str, raw: bytes, file_id: str, exc: GenlibError) -> bool:
    """A table the loader refused, kept (as an upload is) with its columns and the reason, so that
    the Data page can offer to read it again with other settings; False when it is not a table
    at all (a picture, a Word file, too large), which nothing on the page can change."""
    columns = pipeline.series_columns(raw, name)
    try:
        source = _upload_source(name, raw, file_id, {}) if columns else None
    except OSError:                                     # a shared server's disk: nowhere to keep it
        source = None
    if source is None:
        st.session_state.pop("series_failed", None)
        return False
    st.session_state["series_failed"] = {"source": source, "error": str(exc), "columns": columns, "options": {}}
    return True


def failed_series() -> dict | None:
    """The table this browser uploaded last if the loader refused it: {"source", "error" (the
    loader's words), "columns", "options" (tried last)}; None once a table loads."""
    return st.session_state.get("series_failed")


def retry_series(**options) -> None:
    """Read the refused table again with the settings a person chose on the Data page."""
    failed = st.session_state["series_failed"]
    try:
        data = pipeline.reload_series(failed["source"], **options)
    except GenlibError as exc:
        failed["error"], failed["options"] = str(exc), options
        return
    st.session_state.pop("series_failed")
    set_series(data, {**failed["source"], "options": options})


def reload_images(**options) -> None:
    """Load the current images again with corrected options (image size, colour)."""
    src = st.session_state["images_source"]
    try:
        set_images(pipeline.reload_images(src, builtin=builtin_images, **options), {**src, "options": options})
    except GenlibError as exc:
        show_error(exc)


def reload_series(**options) -> None:
    """Load the current table again with corrected guesses (date/value columns, frequency)."""
    src = st.session_state["series_source"]
    try:
        set_series(pipeline.reload_series(src, **options), {**src, "options": options})
    except GenlibError as exc:
        show_error(exc)


def load_digits() -> None:
    """The one-click start's data: the built-in digits."""
    set_images(builtin_images("digits"), {"kind": "builtin", "name": "digits"})


def show_error(exc: Exception | str) -> None:
    """A GenlibError's sentence, without a traceback, its advice in the app's words."""
    from genlib.data import error_words
    st.error(error_words(str(exc), "app"), icon=":material/error:")


# ---- jobs ---------------------------------------------------------------------------------
def job(kind: str | None = None) -> Job | None:
    """This browser's latest job (of `kind`), running or done."""
    return REGISTRY.latest(owner(), kind)


def submit(fn, *, kind: str, title: str, meta: dict) -> Job | None:
    """Start a background job for this browser; explain instead of failing when one runs. The
    data it trains on is let go when it ends (the run folder keeps what the pages need)."""
    try:
        return REGISTRY.submit(owner(), fn, kind=kind, title=title, meta=meta,
                               uses_gpu=device().is_gpu, drop_when_done=("data",))
    except GenlibError as exc:
        show_error(exc)
        return None


def start_training(data, family: str, preset: str, overrides: dict | None = None,
                   settings: dict | None = None, steps: int | None = None,
                   resume: str | None = None) -> Job | None:
    """Train `family` on `data` in the background: a new run with the app's `settings` for the
    preset (genlib.pipeline.train_settings, as changed in the form), or more steps of `resume`."""
    if settings is None:
        settings = {} if resume else pipeline.train_settings(family, preset)

    if resume is not None and not is_mine(resume):
        st.warning("Only your own runs can be trained further: train a new model instead.")
        return None
    root = my_runs_root()

    work = functools.partial(pipeline.train_job, family, data, preset=preset, steps=steps,
                             overrides=overrides, train_overrides=settings, resume=resume,
                             runs_root=root)

    title = f"{family.upper()} on {data.name} ({preset})" + (" — resumed" if resume else "")
    meta = dict(family=family, preset=preset, overrides=overrides or {}, data=data,
                settings=settings, steps=steps, resume=resume)
    return submit(work, kind="train", title=title, meta=meta)


# ---- forecasting ----------------------------------------------------------------------------
def forecast(series, models, h, levels, windows, steps: int = 1000, holidays: str | None = None) -> bool:
    """Forecast. Networks train as a background job, and so does everything on a hosted server
    (the job queue shares the processor fairly); classic models on one's own machine run in this
    script run (seconds). `holidays`: a country's code, whose public holidays the models take
    into account. True when a result or a job is under way."""
    if pipeline.forecast_needs_job(models, series.df["unique_id"].nunique()) or hosted_mode():
        work = functools.partial(pipeline.forecast_job, series, models, h, levels, windows, steps,
                                 holidays=holidays)
        st.session_state.pop("forecast_result", None)
        return submit(work, kind="forecast", title=f"Forecast {series.name} with {', '.join(models)}",
                      meta={"series": series.name}) is not None
    try:
        with st.spinner("Fitting, forecasting and backtesting…"):
            st.session_state["forecast_result"] = pipeline.forecast(series, models, h, levels, windows,
                                                                    holidays=holidays)
        return True
    except GenlibError as exc:
        show_error(exc)
        return False


# ---- models to sample from ----------------------------------------------------------------
@st.cache_resource(show_spinner="Opening the run…", max_entries=6)
def _load_run(path: str, updated: str):
    from genlib.runs import load_run
    return load_run(path)


def open_run(path: str):
    """A saved run (cached per server while it is unchanged on disk)."""
    card = os.path.join(path, "card.json")
    return _load_run(path, str(os.path.getmtime(card)) if os.path.exists(card) else "")


def image_models() -> dict[str, str]:
    """What the Sample page offers: this session's trained models first, then one's saved runs,
    then the gallery's published models. Returns label → run folder."""
    found = {}
    for j in reversed(REGISTRY.jobs(owner(), "train")):
        snap = j.snapshot()
        if snap.run_dir and snap.status in ("finished", "stopped"):
            found[f"This session: {snap.title} · {snap.step:,} steps"] = snap.run_dir
    mine = set(found.values())
    for r in pipeline.image_runs(my_runs_root()):
        if str(r.dir) not in mine:
            label = f"Saved: {r.display_name or r.name} · {r.steps:,} steps"
            found[label if label not in found else f"{label} · {r.name}"] = str(r.dir)
    for entry in gallery.list_gallery(gallery_root()):
        found[f"Gallery: {entry.title} · {entry.family.upper()}, {entry.steps:,} steps"] = str(entry.dir)
    return found


@st.cache_data(show_spinner="Drawing…", max_entries=64)
def samples(path: str, updated: str, n: int, seed: int, cls: int | None):
    """Samples of a run, cached by (run, n, seed, class): a rerun redraws nothing."""
    import torch

    from genlib.sample import sample_images
    model = open_run(path).model
    return sample_images(model, n, seed=seed, labels=None if cls is None else torch.full((n,), cls))


def resume_run(run, steps: int | None = None) -> None:
    """Continue a saved run in the background on the data it was trained on (to `steps` in all;
    default: genlib.pipeline.steps_to_resume), then show the Train page."""
    data = pipeline.data_for_run(run.card, loaded=images(), builtin=builtin_images)
    if data is None:          # matched by content (fingerprint): never trains on other pictures
        ask_for_data(run, "resume", "training on them would make a different model",
                     "To learn from other pictures, start a new training instead.")
        return
    if start_training(data, run.family, run.card.get("preset", "quick"), steps=steps,
                      resume=str(run.dir)) is not None:
        st.switch_page(PAGES["train"])


def ask_for_data(run, then: str, why: str, instead: str = "") -> None:
    """Say which pictures to load on the Data page before one can `then` (resume, measure)."""
    saved, now = run.card.get("data") or {}, images()
    count, shape = saved.get("count"), "×".join(map(str, saved.get("shape") or []))
    st.warning(f"Load the data this run was trained on (“{saved.get('name', '?')}”"
               + (f", {count:,} pictures" if isinstance(count, int) else "")
               + (f" of {shape}" if shape else "") + f") on the Data page first, then {then}. "
               + (f"The pictures loaded now (“{now.name}”, {len(now):,}) are not the same "
                  f"pictures, so {why}. " if now is not None else "") + instead,
               icon=":material/folder_open:")


# ---- quality ------------------------------------------------------------------------------
SCORE_N = 2000                             # samples a "Measure quality" button scores


def features_cache() -> str | None:
    """Where the scorer keeps its feature networks: the visitor's own runs folder on a hosted
    server (never shared between visitors), else genlib's default (the runs folder)."""
    root = my_runs_root()
    return None if root is None else str(Path(root) / ".features")


def measure_quality(run, n: int = SCORE_N) -> Job | None:
    """Score one of this visitor's runs in the background (genlib.scorecard.score_job): `n`
    samples against the pictures it trained on; the scores are saved in its run folder."""
    from genlib import scorecard

    if not is_mine(run.dir):
        st.warning("Only your own runs can be measured here.", icon=":material/lock:")
        return None
    loaded = images()
    data = pipeline.data_for_run(run.card, loaded=loaded, builtin=builtin_images)
    if data is None:          # an upload only the visitor has: the loaded pictures must match
        ask_for_data(run, "measure it", "scores against them would not say what it learned")
        return None
    work = functools.partial(scorecard.score_job, str(run.dir), data if data is loaded else None,
                             int(n), 0, features_cache())
    return submit(work, kind="evaluate", title=f"Measuring the quality of “{run.display_name}”",
                  meta={"run_dir": str(run.dir), "n": int(n)})
