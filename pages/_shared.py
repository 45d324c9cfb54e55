"""What every page shares: who this browser is, what it has loaded, its job, and small widgets.

Not a page (st.navigation lists the pages in app.py). Pages import it as `pages._shared`. Every
decision a command-line user would also need lives in genlib.pipeline; this module only keeps
state and draws. State lives in three places:
- st.session_state: this browser tab's loaded data, opened models and results;
- genlib.jobs.REGISTRY: the server's jobs, by a per-browser id kept in the URL (?sid=…), so a
  refresh during training finds its job again and two browsers never see each other's jobs;
- the runs folder on disk (GENLIB_RUNS_DIR): everything that finished.
"""
from __future__ import annotations

import dataclasses
import os
import re
import uuid

import streamlit as st

from genlib import pipeline
from genlib.device import device_info
from genlib.errors import GenlibError
from genlib.jobs import ACTIVE, REGISTRY, Job
from genlib.pipeline import SAMPLE_SERIES, default_horizon  # noqa: F401 (pages read them from here)
from genlib.settings import describe, hosted_mode

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


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min" if seconds < 5400 \
        else f"{seconds / 3600:.1f} h"


def job_status(snap, *, compact: bool = False) -> None:
    """Progress, status and the job's message in words."""
    if snap.status == "queued":
        st.info(snap.message, icon=":material/hourglass_top:")
    elif snap.status == "running":
        text = f"step {snap.step:,} of {snap.total:,}" if snap.total else snap.message
        if snap.eta_seconds:
            text += f" · about {minutes(snap.eta_seconds)} left"
        st.progress(snap.fraction, text=text)
    elif snap.status == "finished":
        st.success(f"Finished after {snap.step:,} steps" + ("" if compact else
                   f" in {minutes(snap.elapsed)} on {snap.device}."), icon=":material/check_circle:")
    elif snap.status == "stopped":
        why = (": the model so far is saved and can be resumed." if snap.kind == "train" else
               ": the forecast below uses the network as trained so far.")
        st.warning(f"Stopped at step {snap.step:,}" + ("" if compact else why),
                   icon=":material/stop_circle:")
    else:
        st.error(snap.error or "Failed.", icon=":material/error:")


def job_header(job: Job, stop_key: str):
    """A running or finished job's title, status and (while it runs) Stop button; its snapshot."""
    snap = job.snapshot()
    st.subheader(snap.title)
    job_status(snap)
    if snap.active:
        st.button("Stop", on_click=job.stop, key=stop_key, icon=":material/stop_circle:")
    return snap


def live(body, kind: str | None = None, every: float = 1.0) -> None:
    """Draw `body(job)` in a fragment that redraws every `every` seconds while the job runs;
    when it ends, the whole page reruns once so buttons and results appear."""
    current = job(kind)
    active = current is not None and current.status in ACTIVE

    def fragment():
        body(current)
        if active and current.status not in ACTIVE:
            st.rerun()

    fragment.__qualname__ = f"live_{getattr(body, '__name__', 'body')}"
    st.fragment(fragment, run_every=every if active else None)()


# ---- widgets ------------------------------------------------------------------------------
def health_card(report) -> None:
    """A loader's HealthReport as a readable card: used, skipped (why), repaired, notes."""
    with st.container(border=True):
        noun = "images" if report.kind == "images" else "series"
        st.markdown(f"**Health report** — used **{report.used:,}** {noun}")
        if report.skipped:
            with st.expander(f"Skipped {len(report.skipped):,} (and why)"):
                st.dataframe([{"item": i, "reason": r} for i, r in report.skipped],
                             hide_index=True, width="stretch")
        for fix in report.repairs:
            st.markdown(f":material/build: Repaired: {fix}")
        for note in report.warnings:
            st.markdown(f":material/info: {note}")
        facts = {k: v for k, v in report.facts.items() if v not in (None, "", [], {})}
        if facts:
            st.caption(" · ".join(f"{k.replace('_', ' ')}: {_fact(v)}" for k, v in facts.items()))


def _fact(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in list(value.items())[:12])
    if isinstance(value, (list, tuple)):
        return "×".join(map(str, value)) if all(isinstance(v, int) for v in value) else ", ".join(map(str, value))
    return str(value)


def config_form(cls, defaults: dict, key: str, skip: tuple = ()) -> dict:
    """One widget per declared setting of a config dataclass (genlib.settings: label, help,
    limits — the hosted ones on a shared server); returns {field: value}. `defaults` override the
    dataclass defaults (a preset's values); settings without a number, flag or text keep theirs."""
    hosted = hosted_mode()
    field_defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    values = {}
    shown = [s for name, s in describe(cls).items() if name not in skip]
    cols = st.columns(3)
    for i, s in enumerate(shown):
        default, k = defaults.get(s.name, field_defaults[s.name]), f"{key}-{s.name}"
        top = s.limit(hosted)
        with cols[i % 3]:
            if isinstance(default, bool):
                value = st.checkbox(s.label, default, key=k, help=s.help)
            elif s.choices:
                value = st.selectbox(s.label, list(s.choices), list(s.choices).index(default)
                                     if default in s.choices else 0, key=k, help=s.help)
            elif isinstance(default, int):
                lo, hi = _bound(s.min, int), _bound(top, int)
                value = int(st.number_input(s.label, lo, hi, _clamp(default, lo, hi), step=1, key=k,
                                            help=s.help))
            elif isinstance(default, float):
                lo, hi = _bound(s.min, float), _bound(top, float)
                value = float(st.number_input(s.label, lo, hi, float(_clamp(default, lo, hi)), key=k,
                                              format="%g", help=s.help))
            elif isinstance(default, str):
                value = st.text_input(s.label, default, key=k, help=s.help)
            else:
                continue                        # tuples / None: keep the preset's value
        values[s.name] = value
    return values


def _bound(value, kind):
    return None if value is None else kind(value)


def _clamp(value, lo, hi):
    return min(max(value, lo if lo is not None else value), hi if hi is not None else value)


# ---- the sidebar --------------------------------------------------------------------------
def sidebar(slot=None) -> None:
    """Device, loaded data and the running job with a Stop button; on every page."""
    with slot or st.sidebar:
        dev = device()
        st.markdown(f"**Device** · {dev.summary()}")
        st.caption(dev.advice())
        img, ser = images(), series()
        if img is not None:
            c, h, w = img.shape
            st.markdown(f"**Images** · {img.name}: {len(img):,} × {c}×{h}×{w}")
        if ser is not None:
            st.markdown(f"**Series** · {ser.name}: {ser.df['unique_id'].nunique():,} series, "
                        f"frequency {ser.freq}")
        if img is None and ser is None:
            st.caption("No data loaded yet.")
        live(_sidebar_job)


def _sidebar_job(current) -> None:
    if current is None:
        return
    snap = current.snapshot()
    st.markdown(f"**Job** · {snap.title}")
    job_status(snap, compact=True)
    if snap.active:
        st.button("Stop", key="sidebar-stop", on_click=current.stop, icon=":material/stop_circle:")


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
