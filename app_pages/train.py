"""Train: choose a model and a preset, train in the background, watch it learn, stop or resume."""
import streamlit as st

from genlib import pipeline
from genlib.models import MODELS
from genlib.plots import loss_figure
from genlib.train import TrainConfig
from app_pages import _shared as S
from app_pages import _widgets as W

st.title("Train a generator")
data = S.images()
current = S.job("train")
if data is None and current is None:
    st.info("Load images first: pick a built-in dataset or upload your own on the Data page.")
    st.page_link(S.PAGES["data"], label="Go to Data", icon=":material/folder_open:")
    st.button("Use the built-in digits", on_click=S.load_digits, key="use-digits")
    S.stop()

busy = current is not None and current.snapshot().active
if data is not None:
    c, h, w = data.shape
    st.caption(f"Data: **{data.name}** — {len(data):,} images of {c}×{h}×{w}"
               + (f", {data.num_classes} classes" if data.num_classes else ""))
    family = st.radio("Model", list(MODELS), format_func=lambda f: MODELS[f].title,
                      horizontal=True, key="family")
    st.markdown(MODELS[family].blurb)
    presets = MODELS[family].presets
    dev = S.device()

    def preset_label(name):
        p = presets[name]
        return f"{name} — about {W.minutes(p.expected_gpu_seconds if dev.is_gpu else p.expected_cpu_seconds)} on this {'GPU' if dev.is_gpu else 'CPU'}"

    preset = st.radio("Preset", list(presets), format_func=preset_label, key="preset")
    p = presets[preset]
    st.caption(p.description)
    with st.expander("Advanced settings"):
        if S.hosted_rules():
            st.caption(S.hosted_rules())
        st.markdown("**Model**")
        overrides = W.config_form(MODELS[family].config_cls, p.model, key=f"m-{family}-{preset}")
        st.markdown("**Training**")
        settings = W.config_form(TrainConfig, pipeline.train_settings(family, preset),
                                 key=f"t-{family}-{preset}", skip=("device", "amp"))
    if st.button("Start training", type="primary", disabled=busy, key="start"):
        if S.start_training(data, family, preset, overrides, settings):
            st.rerun()
    if busy:
        st.caption("A training is running for this session: stop it or wait for it to finish.")


def progress(job):
    if job is None:
        return
    snap = W.job_header(job, "stop")
    curves, pictures = st.columns([3, 2])
    if snap.history:
        curves.plotly_chart(loss_figure(list(snap.history)), key="curves")
    if snap.preview is not None:
        pictures.image(snap.preview, width=360,
                       caption=f"Samples from fixed noise at step {snap.preview_step:,}")


W.live(progress, "train")

if current is not None and current.snapshot().done:
    snap, meta = current.snapshot(), current.snapshot().meta
    run_dir = snap.run_dir
    fix = (pipeline.recovery(snap.error_kind, meta["family"], meta["preset"], meta["settings"])
           if snap.status == "failed" else None)
    if fix is not None and data is not None:
        if st.button(f"Start again with {fix.words()}", type="primary", key="fix"):
            S.start_training(data, meta["family"], meta["preset"], meta["overrides"],
                             fix.settings, steps=meta["steps"])
            st.rerun()
    elif run_dir and snap.status in ("finished", "stopped"):
        st.caption(f"Saved as `{S.shown_path(run_dir)}`")
        more = st.number_input("Steps to add", 10, 1_000_000, step=100, key="more-steps",
                               value=pipeline.steps_to_resume(snap.step, snap.step) - snap.step)
        a, b = st.columns(2)
        if a.button("Resume training", key="resume"):
            S.resume_run(S.open_run(run_dir), steps=snap.step + int(more))
        if b.button("Draw samples from it", key="to-sample"):
            st.switch_page(S.PAGES["sample"])
