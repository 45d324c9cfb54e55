"""What every page shares: who this browser is, what it has loaded, its jobs and runs.

Not a page (st.navigation lists the pages in app.py). Pages import it as `pages._shared`. Every
decision a command-line user would also need lives in genlib.pipeline; this module keeps state
(the widgets that draw it are in pages/_widgets.py). State lives in three places:
- st.session_state: this browser tab's loaded data, opened models and results;
- genlib.jobs.REGISTRY: the server's jobs, by a per-browser id kept in the URL (?sid=…), so a
  refresh during training finds its job again and two browsers never see each other's jobs;
- the runs folder on disk (GENLIB_RUNS_DIR): everything that finished.
"""
from __future__ import annotations

import os
import re
import uuid

import streamlit as st

from genlib import pipeline
from genlib.device import device_info
from genlib.errors import GenlibError
from genlib.jobs import REGISTRY, Job
from genlib.pipeline import SAMPLE_SERIES, default_horizon  # noqa: F401 (pages read them from here)

PAGES = {"home": "pages/home.py", "data": "pages/data.py", "train": "pages/train.py",
         "forecast": "pages/forecast.py", "sample": "pages/sample.py", "runs": "pages/runs.py"}
_SID = re.compile(r"^[0-9a-f]{32}$")


# ---- who is this --------------------------------------------------------------------------
def owner() -> str:
    """This browser's id: kept in session_state and mirrored in the URL so a refresh keeps it."""
    sid = st.session_state.get("owner")
    if sid is None:
        from_url = st.query_params.get("sid", "")
        sid = from_url if _SID.match(from_url) else uuid.uuid4().hex
        st.session_state["owner"] = sid
    if st.query_params.get("sid") != sid:
        st.query_params["sid"] = sid
    return sid


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
    return st.session_state.get("images")


def series():
    return st.session_state.get("series")


def set_images(data, source: dict) -> None:
    """Keep loaded images and how they were loaded (to reload them with corrections)."""
    st.session_state["images"], st.session_state["images_source"] = data, source


def set_series(data, source: dict) -> None:
    st.session_state["series"], st.session_state["series_source"] = data, source
    st.session_state.pop("forecast_result", None)          # a forecast belongs to the series it came from


def load_upload(kind: str, name: str, raw: bytes, file_id: str = "", **options) -> None:
    """Read an uploaded file with genlib's loader (images or series) and keep it in the session.

    The Data page calls this with the uploader's bytes; tests can call it with any bytes."""
    from genlib.data import load_images, load_series

    loader, keep = (load_images, set_images) if kind == "images" else (load_series, set_series)
    try:
        data = loader(raw, name=name, **options)
    except GenlibError as exc:
        show_error(exc)
        return
    keep(data, {"kind": "upload", "file_id": file_id, "name": name, "bytes": raw, "options": options})


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


def show_error(exc: Exception) -> None:
    """A GenlibError's sentence, without a traceback."""
    st.error(str(exc), icon=":material/error:")


# ---- jobs ---------------------------------------------------------------------------------
def job(kind: str | None = None) -> Job | None:
    """This browser's latest job (of `kind`), running or done."""
    return REGISTRY.latest(owner(), kind)


def submit(fn, *, kind: str, title: str, meta: dict) -> Job | None:
    """Start a background job for this browser; explain instead of failing when one runs."""
    try:
        return REGISTRY.submit(owner(), fn, kind=kind, title=title, meta=meta,
                               uses_gpu=device().is_gpu)
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

    def work(callback, stop_event):
        return pipeline.train_model(family, data, preset=preset, steps=steps, overrides=overrides,
                                    train_overrides=settings, callbacks=[callback],
                                    stop_event=stop_event, resume=resume)

    title = f"{family.upper()} on {data.name} ({preset})" + (" — resumed" if resume else "")
    meta = dict(family=family, preset=preset, overrides=overrides or {}, data=data,
                settings=settings, steps=steps, resume=resume)
    return submit(work, kind="train", title=title, meta=meta)


# ---- forecasting ----------------------------------------------------------------------------
def forecast(series, models, h, levels, windows, steps: int = 1000) -> None:
    """Forecast: classic models in this script run (seconds), networks as a background job."""
    if pipeline.forecast_needs_job(models):
        def work(callback, stop_event):
            return pipeline.forecast(series, models, h, levels, windows, steps, [callback], stop_event)

        submit(work, kind="forecast", title=f"Forecast {series.name} with {', '.join(models)}",
               meta={"series": series.name})
        return
    try:
        with st.spinner("Fitting, forecasting and backtesting…"):
            st.session_state["forecast_result"] = pipeline.forecast(series, models, h, levels, windows)
    except GenlibError as exc:
        show_error(exc)


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
    """What the Sample page offers: this session's trained models first, then saved runs.
    Returns label → run folder."""
    found = {}
    for j in reversed(REGISTRY.jobs(owner(), "train")):
        snap = j.snapshot()
        if snap.run_dir and snap.status in ("finished", "stopped"):
            found[f"This session: {snap.title} · {snap.step:,} steps"] = snap.run_dir
    mine = set(found.values())
    for r in pipeline.image_runs():
        if str(r.dir) not in mine:
            found[f"Saved: {r.name} · {r.steps:,} steps"] = str(r.dir)
    return found


def resume_run(run) -> None:
    """Continue a saved run in the background on the data it was trained on."""
    data = pipeline.data_for_run(run.card, loaded=images(), builtin=builtin_images)
    if data is None:
        st.warning(f"Load the data this run was trained on (“{run.card.get('data', {}).get('name')}”) "
                   "on the Data page first, then resume.")
        return
    if start_training(data, run.family, run.card.get("preset", "quick"), resume=str(run.dir)) is not None:
        st.switch_page(PAGES["train"])
