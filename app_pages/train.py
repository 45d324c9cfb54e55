"""Train: choose a model and a preset, train in the background, watch it learn, stop or resume."""
import streamlit as st

from genlib import estimate, pipeline
from genlib.data.words import picture_words
from genlib.features import is_cached
from genlib.jobs import REGISTRY
from genlib.models import MODELS
from genlib.plots import loss_figure, progress_figure
from genlib.runs import data_words, read_card
from genlib.sample import likeness, untile
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


def expected_times(family, chosen, overrides=None, settings=None) -> dict:
    """Each preset's time on this machine for this data (genlib.estimate; measured once, cached)."""
    all_settings = {p: pipeline.train_settings(family, p) for p in MODELS[family].presets}
    all_settings[chosen] = {**all_settings[chosen], **(settings or {})}
    try:
        with st.spinner("Measuring how fast this machine trains on your pictures (once)…"):
            return estimate.preset_times(family, data.shape, data.num_classes, all_settings,
                                         chosen=chosen, overrides=overrides, running=others,
                                         waiting=waiting, count=len(data),
                                         scored_before=is_cached(data, S.features_cache()),
                                         fresh_process=REGISTRY.limits.processes)
    except Exception:  # noqa: BLE001 — settings the form will refuse anyway; no times then
        return {}


busy = current is not None and current.snapshot().active
running, waiting = REGISTRY.load()
others = max(0, running - (1 if busy and current.status == "running" else 0))
if data is not None:
    c, h, _ = data.shape
    st.caption(f"Data: **{data.name}** — {len(data):,} pictures of {picture_words(h, c)}"
               + (f", {data.num_classes} classes" if data.num_classes else ""))
    family = st.radio("Model", list(MODELS), format_func=lambda f: MODELS[f].title,
                      horizontal=True, key="family")
    st.markdown(MODELS[family].blurb)
    presets, gpu = MODELS[family].presets, S.device().is_gpu
    where = "GPU" if gpu else "processor"
    # one radio per family, with labels that never change (times go in the captions), so the
    # choice is always one of the options and the caption and the training always agree
    key = f"preset-{family}"
    if st.session_state.get(key) not in presets:
        st.session_state[key] = next(iter(presets))
    times = expected_times(family, st.session_state[key])
    preset = st.radio("Preset", list(presets), key=key, horizontal=True,
                      captions=[times[p].words() if p in times else "" for p in presets])
    p = presets[preset]
    st.caption(p.describe(data_words(data.name)))
    with st.expander("Advanced settings"):
        if S.hosted_rules():
            st.caption(S.hosted_rules())
        st.markdown("**Model**")
        overrides = W.config_form(MODELS[family].config_cls, p.model, key=f"m-{family}-{preset}")
        st.markdown("**Training**")
        settings = W.config_form(TrainConfig, pipeline.train_settings(family, preset),
                                 key=f"t-{family}-{preset}", skip=("device", "amp", "cuda_graph"))
    expected = expected_times(family, preset, overrides, settings).get(preset)
    if expected is not None:
        st.markdown(f"**Expected time:** {expected.words()} on this {where} "
                    f"(measured on your pictures with these settings).")
    note = estimate.sharing_note(others, waiting, gpu)
    if note:
        st.warning(note, icon=":material/group:")
    if st.button("Start training", type="primary", disabled=busy, key="start"):
        job = S.start_training(data, family, preset, overrides, settings)
        if job is not None:
            if expected is not None:
                st.session_state.setdefault("train_expected", {})[job.id] = expected.words()
            st.rerun()
    if busy:
        st.caption("A training is running for this session: stop it or wait for it to finish.")
    W.run_elsewhere(data, st.session_state.get("images_source"), family, preset, overrides, settings)


def image_shape(snap):
    """The shape of the pictures a job trains on (its data, or its run's card once it ended)."""
    if data is not None:
        return data.shape
    shape = (read_card(snap.run_dir).get("data") or {}).get("shape") if snap.run_dir else None
    return tuple(shape) if shape else None


def progress(job):
    if job is None:
        return
    snap = W.job_header(job, "stop")
    spec = MODELS.get(snap.meta.get("family"))
    curves, pictures = st.columns([3, 2])
    shape = image_shape(snap)
    if snap.history and spec is not None and shape:
        curve = spec.model_cls.progress_curve
        curves.plotly_chart(progress_figure(list(snap.history), curve, shape), key="curves")
        curves.caption(curve.explain)
        with curves.expander("Details: every number the training records"):
            st.plotly_chart(loss_figure(list(snap.history), names=spec.model_cls.metric_words,
                                        separate=True), key="raw-curves")
    if snap.preview is not None:
        pictures.image(snap.preview, width=360,
                       caption=f"Samples from fixed noise at step {snap.preview_step:,}")
        if data is not None and data.num_classes and snap.meta.get("overrides", {}).get("conditional", True):
            pictures.caption("Classes in turn, left to right and row by row: "
                             + ", ".join(data.class_names) + ", then again.")
        late = snap.done or (snap.total and snap.step >= snap.total // 2)
        if data is not None and late and shape == data.shape:
            seen = likeness(untile(snap.preview, data.shape), data.images)
            if not seen.looks_like_data:
                pictures.warning("These samples do not look like your pictures yet. "
                                 + " ".join(seen.problems) + " Train longer (resume it below) or "
                                 "choose a larger preset.", icon=":material/visibility_off:")


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
        st.caption(f"Saved as “{read_card(run_dir).get('display_name', '')}” "
                   f"in `{S.shown_path(run_dir)}`")
        W.score_line(run_dir)
        more = st.number_input("Steps to add", 10, 1_000_000, step=100, key="more-steps",
                               value=pipeline.steps_to_resume(snap.step, snap.step) - snap.step)
        a, b = st.columns(2)
        if a.button("Resume training", key="resume"):
            S.resume_run(S.open_run(run_dir), steps=snap.step + int(more))
        if b.button("Draw samples from it", key="to-sample"):
            st.switch_page(S.PAGES["sample"])
