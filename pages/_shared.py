"""What every page shares: who this browser is, what it has loaded, the running job, small widgets.

Not a page (st.navigation lists the pages in app.py). Pages import it as `pages._shared`.
State lives in three places:
- st.session_state: this browser tab's loaded data, opened models and results;
- genlib.jobs.REGISTRY: the server's jobs, by a per-browser id kept in the URL (?sid=…), so a
  refresh during training finds its job again and two browsers never see each other's jobs;
- the runs folder on disk (GENLIB_RUNS_DIR): everything that finished.
"""
from __future__ import annotations

import dataclasses
import inspect
import re
import uuid

import streamlit as st

from genlib.errors import GenlibError
from genlib.forecast.report import default_horizon, run_forecast  # noqa: F401 (pages use S.default_horizon)
from genlib.jobs import ACTIVE, REGISTRY, Job, device_info

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


# Sample series that ship inside statsmodels (no network): name → what a person sees.
SAMPLE_SERIES = {
    "co2": "Mauna Loa CO₂ — monthly means 1958–2001 (statsmodels)",
    "macrodata": "US macroeconomic series — quarterly 1959–2009 (statsmodels)",
}


@st.cache_resource(show_spinner="Loading the sample series…", max_entries=4)
def _sample_series(name: str):
    from genlib.data.series import load_series
    return load_series(sample_series_csv(name), name=f"{name}.csv")


def sample_series_csv(name: str) -> bytes:
    """A sample series as the CSV a person would upload (it then goes through load_series)."""
    import statsmodels.api as sm

    if name == "co2":                   # weekly with gaps → the classic monthly means
        df = sm.datasets.co2.load_pandas().data.resample("MS").mean().dropna()
        df.index.name = "date"
        return df.to_csv(float_format="%.2f").encode()
    if name == "macrodata":             # year + quarter columns → one date column, wide layout
        d = sm.datasets.macrodata.load_pandas().data
        dates = [f"{int(y)}-{3 * int(q) - 2:02d}-01" for y, q in zip(d["year"], d["quarter"])]
        wide = d[["realgdp", "realcons", "realinv", "cpi", "unemp"]].assign(date=dates)
        return wide[["date", "realgdp", "realcons", "realinv", "cpi", "unemp"]].to_csv(index=False).encode()
    raise GenlibError(f"There is no sample series called {name!r}: choose one of {', '.join(SAMPLE_SERIES)}.")


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
    from genlib.data import load_images
    from genlib.data.series import load_series

    loader, keep = (load_images, set_images) if kind == "images" else (load_series, set_series)
    try:
        data = loader(raw, name=name, **options)
    except GenlibError as exc:
        show_error(exc)
        return
    keep(data, {"kind": "upload", "file_id": file_id, "name": name, "bytes": raw, "options": options})


def reload_images(**options) -> None:
    """Load the current images again with corrected options (image size, colour)."""
    from genlib.data import load_images

    src = st.session_state["images_source"]
    try:
        data = (builtin_images(src["name"], **options) if src["kind"] == "builtin" else
                load_images(src["bytes"], name=src["name"], **options))
        set_images(data, {**src, "options": options})
    except GenlibError as exc:
        show_error(exc)


def reload_series(**options) -> None:
    """Load the current table again with corrected guesses (date/value columns, frequency)."""
    from genlib.data.series import load_series

    src = st.session_state["series_source"]
    raw, name = ((sample_series_csv(src["name"]), f"{src['name']}.csv") if src["kind"] == "sample"
                 else (src["bytes"], src["name"]))
    try:
        set_series(load_series(raw, name=name, **options), {**src, "options": options})
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
                   train_overrides: dict | None = None, steps: int | None = None,
                   resume: str | None = None) -> Job | None:
    """Train `family` on `data` in the background (a new run, or more steps of `resume`)."""
    from genlib.models import get_preset
    from genlib.train import train_model

    p = get_preset(family, preset)
    if train_overrides is None:
        train_overrides = {} if resume else train_defaults(p)
    train_overrides = dict(train_overrides)
    seed = train_overrides.pop("seed", 0)
    steps = steps or train_overrides.get("steps")
    train_overrides.pop("steps", None)                   # train_model takes steps on its own
    # the preset already sets these; pass only what the person changed
    train_overrides = {k: v for k, v in train_overrides.items()
                       if not (k in ("batch_size", "lr") and v == getattr(p, k))}

    def work(callback, stop_event):
        return train_model(family, data, preset=preset, steps=steps, overrides=overrides,
                           train_overrides=train_overrides, seed=seed, callbacks=[callback],
                           stop_event=stop_event, resume=resume)

    title = f"{family.upper()} on {data.name} ({preset})" + (" — resumed" if resume else "")
    meta = dict(family=family, preset=preset, overrides=overrides or {}, data=data,
                train_overrides={**train_overrides, "seed": seed}, steps=steps, resume=resume)
    return submit(work, kind="train", title=title, meta=meta)


def train_defaults(p) -> dict:
    """The app's training settings for a preset: previews and checkpoints along the way, so the
    page can show pictures while it learns and a crash or refresh loses little."""
    return {"steps": p.steps, "batch_size": p.batch_size, "lr": p.lr,
            "preview_every": max(10, p.steps // 20), "checkpoint_every": max(50, p.steps // 5),
            "preview_n": 36, **p.train}


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


def field_help(cls) -> dict[str, str]:
    """The comment next to each dataclass field (house style puts one on every field)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    pattern = re.compile(r"^\s+(\w+)\s*:[^#\n]*#\s*(.*)$", re.M)
    return {m.group(1): m.group(2).strip() for m in pattern.finditer(source)}


def config_form(cls, defaults: dict, key: str, skip: tuple = ()) -> dict:
    """One widget per field of a config dataclass (one to one); returns {field: value}.

    `defaults` override the dataclass defaults (a preset's values); tuple fields keep theirs."""
    helps = field_help(cls)
    values = {}
    fields = [f for f in dataclasses.fields(cls) if f.name not in skip]
    cols = st.columns(3)
    for i, f in enumerate(fields):
        default = defaults.get(f.name, f.default)
        label, k, tip = f.name.replace("_", " "), f"{key}-{f.name}", helps.get(f.name)
        with cols[i % 3]:
            if isinstance(default, bool):
                value = st.checkbox(label, default, key=k, help=tip)
            elif isinstance(default, int):
                value = int(st.number_input(label, value=default, step=1, key=k, help=tip))
            elif isinstance(default, float):
                value = float(st.number_input(label, value=default, format="%g", key=k, help=tip))
            elif isinstance(default, str):
                options = _options(tip, default)
                value = (st.selectbox(label, options, options.index(default), key=k, help=tip)
                         if options else st.text_input(label, default, key=k, help=tip))
            else:
                continue                        # tuples / None: keep the preset's value
        values[f.name] = value
    return values


def _options(tip: str | None, default: str) -> list[str]:
    """Quoted choices in a field comment ('"mlp" or "gru"') become a select box."""
    found = re.findall(r'"([^"]+)"', tip or "")
    return found if default in found and len(found) > 1 else []


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
def forecast_now(series, models, h, levels, windows) -> None:
    """Forecast in this script run (classic models are quick) and keep the result."""
    try:
        with st.spinner("Fitting, forecasting and backtesting…"):
            st.session_state["forecast_result"] = run_forecast(series, models, h, levels, windows)
    except GenlibError as exc:
        show_error(exc)


def forecast_job(series, models, h, levels, windows, steps: int = 1000) -> Job | None:
    """Forecast with a neural model as a background job (it trains a network)."""
    def work(callback, stop_event):
        return run_forecast(series, models, h, levels, windows, steps, [callback], stop_event)

    return submit(work, kind="forecast", title=f"Forecast {series.name} with {', '.join(models)}",
                  meta={"series": series.name})


def forecast_csv(result: dict) -> bytes:
    """Every model's forecast in one CSV (a `model` column first)."""
    import pandas as pd

    frames = [f.assign(model=name) for name, f in result["forecasts"].items()]
    table = pd.concat(frames, ignore_index=True)
    return table[["model", *[c for c in table.columns if c != "model"]]].to_csv(index=False).encode()


# ---- models to sample from ----------------------------------------------------------------
@st.cache_resource(show_spinner="Opening the run…", max_entries=6)
def _load_run(path: str, updated: str):
    from genlib.runs import load_run
    return load_run(path)


def open_run(path: str):
    """A saved run (cached per server while it is unchanged on disk)."""
    import os
    card = os.path.join(path, "card.json")
    return _load_run(path, str(os.path.getmtime(card)) if os.path.exists(card) else "")


def image_models() -> dict[str, str]:
    """What the Sample page offers: this session's trained models first, then saved runs.
    Returns label → run folder."""
    from genlib.runs import list_runs

    found = {}
    for j in reversed(REGISTRY.jobs(owner(), "train")):
        snap = j.snapshot()
        if snap.run_dir and snap.status in ("finished", "stopped"):
            found[f"This session: {snap.title} · {snap.step:,} steps"] = snap.run_dir
    mine = set(found.values())
    for r in list_runs():
        if str(r.dir) not in mine and r.family in ("gan", "vae", "pixelcnn"):
            found[f"Saved: {r.name} · {r.steps:,} steps"] = str(r.dir)
    return found


def data_for_run(run):
    """The images a saved run was trained on: the session's if they match, else the built-in."""
    from genlib.data import list_datasets

    card = run.card.get("data", {})
    mine = images()
    if mine is not None and card.get("fingerprint") in (None, mine.fingerprint()):
        return mine
    if card.get("name") in {d.name for d in list_datasets()}:
        c, side, _ = card.get("shape") or (None, None, None)
        return builtin_images(card["name"], image_size=side, color={1: "gray", 3: "rgb"}.get(c))
    return None


def resume_run(run) -> None:
    """Continue a saved run in the background (to its planned steps, or half as many again)."""
    data = data_for_run(run)
    if data is None:
        st.warning(f"Load the data this run was trained on (“{run.card.get('data', {}).get('name')}”) "
                   "on the Data page first, then resume.")
        return
    done, planned = int(run.card.get("steps", 0)), int(run.card.get("total_steps", 0))
    steps = planned if planned > done else done + max(done // 2, 100)
    if start_training(data, run.family, run.card.get("preset", "quick"), steps=steps,
                      resume=str(run.dir)) is not None:
        st.switch_page(PAGES["train"])


def load_one_image(name: str, raw: bytes, side: int, channels: int):
    """One uploaded picture as a 1×C×H×W tensor in [-1, 1], through genlib's image loader.

    load_images() refuses a lone image (it loads training sets), so the picture goes in as a
    one-file ZIP: same decoding, cropping, resizing and colour handling as any upload."""
    import io
    import zipfile

    from genlib.data import load_images

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, raw)
    color = "gray" if channels == 1 else "rgb"
    return load_images(buf.getvalue(), name=f"{name}.zip", image_size=side, color=color).images[:1]
