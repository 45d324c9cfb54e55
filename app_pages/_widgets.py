"""Widgets every page shares: job progress and its live redraw, the health card, the settings
form built from declared settings, and the sidebar. They draw; they decide nothing."""
from __future__ import annotations

import dataclasses

import streamlit as st

from genlib import estimate
from genlib.data.words import picture_words
from genlib.freq import freq_words
from genlib.jobs import ACTIVE, Job
from genlib.settings import describe, hosted_mode
from app_pages import _shared as S


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min" if seconds < 5400 \
        else f"{seconds / 3600:.1f} h"


def stopping(snap) -> bool:
    """Asked to stop and still saving: the page says so instead of offering Stop again."""
    return snap.status == "running" and bool(getattr(snap, "stop_reason", ""))


def time_left(snap) -> str | None:
    """Time left in words: the loop's steady estimate once a few steps have run, before that the
    estimate the Train page measured when the training was started."""
    first = snap.meta.get("start_step", 0) if isinstance(snap.meta, dict) else 0
    if snap.total and snap.step - first >= max(10, (snap.total - first) // 50) and snap.eta_seconds:
        return estimate.eta_words(snap.eta_seconds)
    expected = st.session_state.get("train_expected", {}).get(snap.id)
    return f"{expected} in all (measured before it started)" if expected else None


def job_status(snap, *, compact: bool = False) -> None:
    """Progress, status and the job's message in words."""
    if snap.status == "queued":
        st.info(snap.message, icon=":material/hourglass_top:")
    elif stopping(snap):
        st.info("Stopping… saving the model so far (a few seconds).", icon=":material/hourglass_top:")
    elif snap.status == "running" and snap.step == 0 and snap.kind == "train":
        st.info("Preparing… building the model and reading your pictures; the progress bar starts "
                "with the first steps.", icon=":material/hourglass_top:")
    elif snap.status == "running":
        text = f"step {snap.step:,} of {snap.total:,}" if snap.total else snap.message
        left = time_left(snap) if snap.kind == "train" else (
            f"about {minutes(snap.eta_seconds)} left" if snap.eta_seconds else None)
        st.progress(snap.fraction, text=text + (f" · {left}" if left else ""))
    elif snap.status == "finished" and not snap.step:       # a forecast of classic models: no steps
        st.success("Finished" + ("" if compact else f" in {minutes(snap.elapsed)}."),
                   icon=":material/check_circle:")
    elif snap.status == "finished":
        st.success(f"Finished after {snap.step:,} steps" + ("" if compact else
                   f" in {minutes(snap.elapsed)}{_in_all(snap)} on {snap.device}."),
                   icon=":material/check_circle:")
    elif snap.status == "stopped":
        if getattr(snap, "stop_reason", "user") in ("time_limit", "abandoned"):
            st.warning(snap.message, icon=":material/stop_circle:")      # the server stopped it: why
        else:
            why = (": the model so far is saved and can be resumed." if snap.kind == "train" else
                   ": the forecast below uses the network as trained so far.")
            st.warning(f"Stopped at step {snap.step:,}" + ("" if compact else why),
                       icon=":material/stop_circle:")
    else:
        st.error(snap.error or "Failed.", icon=":material/error:")


def _in_all(snap) -> str:
    """ " (12 min in all, with the earlier training)" for a resumed training, else ""."""
    if snap.kind != "train" or not snap.run_dir:
        return ""
    try:
        from genlib.runs import read_card
        total = float(read_card(snap.run_dir).get("duration_seconds") or 0)
    except Exception:  # noqa: BLE001 — a missing or damaged card only loses this remark
        return ""
    return f" ({minutes(total)} in all, with the earlier training)" if total > snap.elapsed + 2 else ""


def job_header(job: Job, stop_key: str):
    """A running or finished job's title, status and (while it runs) Stop button; its snapshot."""
    snap = job.snapshot()
    st.subheader(snap.title)
    job_status(snap)
    if snap.active and not stopping(snap):
        st.button("Stop", on_click=job.stop, key=stop_key, icon=":material/stop_circle:")
    return snap


def live(body, kind: str | None = None, every: float | None = None) -> None:
    """Draw `body(job)` in a fragment that redraws every `every` seconds while the job runs;
    when it ends, the whole page reruns once so buttons and results appear.

    Each redraw is Python work that competes with the jobs for the interpreter: on a shared server
    pages redraw less often (every 2 s while a job runs, every 5 s while it waits in line)."""
    current = S.job(kind)
    active = current is not None and current.status in ACTIVE
    if every is None:
        every = (5.0 if current is not None and current.status == "queued" else 2.0) \
            if hosted_mode() else 1.0

    def fragment():
        S.seen()
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
        dev = S.device()
        st.markdown(f"**Device** · {dev.summary()}")
        st.caption(estimate.device_advice(dev.is_gpu))
        img, ser = S.images(), S.series()
        if img is not None:
            c, h, _ = img.shape
            st.markdown(f"**Images** · {img.name}: {len(img):,} pictures, {picture_words(h, c)}")
        if ser is not None:
            every = freq_words(ser.freq) if isinstance(ser.freq, str) else "no dates"
            st.markdown(f"**Series** · {ser.name}: {ser.df['unique_id'].nunique():,} series, {every}")
        if img is None and ser is None:
            st.caption("No data loaded yet.")
        live(_sidebar_job, every=10.0 if hosted_mode() else None)   # the page itself shows progress


def _sidebar_job(current) -> None:
    if current is None:
        return
    snap = current.snapshot()
    st.markdown(f"**Job** · {snap.title}")
    job_status(snap, compact=True)
    if snap.active and not stopping(snap):
        st.button("Stop", key="sidebar-stop", on_click=current.stop, icon=":material/stop_circle:")
