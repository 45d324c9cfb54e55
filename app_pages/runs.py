"""Runs: every saved run with its card; open, resume, compare, delete and download."""
import pandas as pd
import streamlit as st

from genlib.bundle import write_bundle
from genlib.distributed import words as distributed_words
from genlib.errors import GenlibError
from genlib.models import MODELS
from genlib.plots import compare_loss_figure, loss_figure, progress_figure
from genlib.runs import delete_run, list_runs, runs_root
from genlib.settings import hosted_mode
from app_pages import _shared as S
from app_pages import _widgets as W

st.title("Runs")
with st.expander("Add a model from a bundle file"):
    st.caption("A bundle is the one file the Download button below makes (or "
               "`python -m genlib bundle`): open it here to sample from it, or to train it further "
               "when it was saved with its optimizer.")
    upload = st.file_uploader("Bundle (.zip)", type=["zip"], key="bundle-upload")
    if upload is not None and st.session_state.get("bundle_file") != upload.file_id:
        st.session_state["bundle_file"] = upload.file_id
        S.add_bundle(upload.name, upload.getvalue())
runs = {r.name: r for r in list_runs(S.my_runs_root())}
if not runs:
    st.info(f"No saved runs in `{S.shown_path(runs_root())}` yet: every training you start is saved "
            "there." if S.my_runs_root() is None else "No saved runs yet: every training you start is "
            "saved here, for you only, until you have been away for a while.")
    st.page_link(S.PAGES["train"], label="Go to Train", icon=":material/model_training:")
    S.stop()

table = pd.DataFrame([{"name": r.display_name, "run": r.name, "model": r.family, "data": r.data, "status": r.status,
                       "steps": r.steps, "device": r.device, "minutes": round(r.duration_seconds / 60, 1),
                       "updated": r.updated, "final metrics": " · ".join(
                           f"{k} {v:.3g}" for k, v in r.final_metrics.items() if isinstance(v, (int, float)))}
                      for r in runs.values()])
st.dataframe(table, hide_index=True, key="runs-table")


def shown(name: str) -> str:
    """A run's readable name in a select box (with its folder when two share that name)."""
    words = runs[name].display_name or name
    twins = sum(r.display_name == runs[name].display_name for r in runs.values())
    return f"{words} · {name}" if twins > 1 else words


def card(name: str, key: str) -> None:
    """One run: what it was trained on, how long, where, how it ended, its samples."""
    try:
        run = S.open_run(str(runs[name].dir))
    except GenlibError as exc:
        S.show_error(exc)
        return
    c, data = run.card, run.card.get("data", {})
    with st.container(border=True):
        st.markdown(f"**{run.display_name}** · `{name}`")
        st.markdown(f"**Model** {run.family.upper()} ({c.get('preset', '?')}) · **data** {data.get('name', '?')}"
                    f" ({data.get('count', '?'):,} images {'×'.join(map(str, data.get('shape', [])))})  \n"
                    f"**Steps** {c.get('steps', 0):,} of {c.get('total_steps', 0):,} · **time** "
                    f"{W.minutes(c.get('duration_seconds'))} · **device** {c.get('device', '?')} · "
                    f"**status** {c.get('status', '?')}")
        how = run.distributed
        trained = distributed_words(how["world_size"], how["backend"], how["global_batch"])
        if trained:                                       # "Trained on 2 processes (gloo), …"
            st.markdown(f"{trained[0].upper()}{trained[1:]}.")
        if c.get("final_metrics"):
            st.caption(" · ".join(f"{k} {v:.4g}" for k, v in c["final_metrics"].items()))
        if run.samples_png:
            st.image(run.samples_png, width=320, caption="Samples from the fixed seed")
        if len(run.metrics) and run.family in MODELS:
            cls = MODELS[run.family].model_cls
            st.plotly_chart(progress_figure(run.metrics, cls.progress_curve, run.model.image_shape),
                            key=f"curves-{key}")
            with st.expander("Details: every number the training recorded"):
                st.plotly_chart(loss_figure(run.metrics, names=cls.metric_words, separate=True),
                                key=f"raw-{key}")


view, compare = st.tabs(["One run", "Compare two"])
with view:
    if st.session_state.get("runs_open") in runs:        # sent here by another page
        st.session_state["run"] = st.session_state.pop("runs_open")
    name = st.selectbox("Run", list(runs), format_func=shown, key="run")
    card(name, "one")
    path = str(runs[name].dir)
    a, b, c, d = st.columns(4)
    if a.button("Open in Sample", key="open"):
        st.session_state["sample_run"] = path
        st.switch_page(S.PAGES["sample"])
    if b.button("Resume training", key="resume-run", help="Needs the data it was trained on loaded."):
        S.resume_run(S.open_run(path))
    c.download_button("Download (ZIP)", lambda: write_bundle(path, public=hosted_mode()), f"{name}.zip",
                      "application/zip", key="download-run")
    if d.button("Delete…", key="delete"):
        st.session_state["confirm_delete"] = name
    if st.session_state.get("confirm_delete") == name:
        st.warning(f"Delete **{name}** and all its files? This cannot be undone.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete it", type="primary", key="delete-yes"):
            try:
                delete_run(path)
            except GenlibError as exc:
                S.show_error(exc)
            else:
                st.session_state.pop("confirm_delete")
                st.rerun()
        if no.button("Cancel", key="delete-no"):
            st.session_state.pop("confirm_delete")
            st.rerun()

    try:
        W.quality(S.open_run(path), "one", own=S.is_mine(path))
    except GenlibError:
        pass                                              # the card above says why it cannot open

    with st.expander("Publish to the gallery"):
        st.caption("Publishing puts a read-only copy of this model in the gallery, where every "
                   "visitor of this app can draw samples from it (not train it further or delete "
                   "it). Your data and file names are not included.")
        title = st.text_input("Title", name, key="publish-title", max_chars=80)
        weights = st.checkbox("Let others download the model file too", key="publish-weights")
        if st.button("Publish", key="publish"):
            try:
                entry = S.publish(path, title, weights)
            except GenlibError as exc:
                S.show_error(exc)
            else:
                st.success(f"Published as “{title}”: it is in the Sample page's list for everyone.")
                st.session_state["sample_run"] = str(entry)

with compare:
    pair = st.multiselect("Two runs", list(runs), list(runs)[:2], format_func=shown, max_selections=2,
                          key="pair")
    if len(pair) == 2:
        left, right = st.columns(2)
        with left:
            card(pair[0], "left")
        with right:
            card(pair[1], "right")
        W.quality_compare({shown(n): S.open_run(str(runs[n].dir)) for n in pair})
        frames = {shown(n): S.open_run(str(runs[n].dir)).metrics for n in pair}
        first, second = frames.values()
        shared = [m for m in first.columns if m in second.columns and m not in ("step", "seconds")]
        kinds = [runs[n].family for n in pair]
        if kinds[0] != kinds[1]:
            words = [MODELS[k].short if k in MODELS else k.upper() for k in kinds]
            st.info(f"A {words[0]} and a {words[1]} measure their training in different ways, so "
                    "their curves cannot share one chart: compare their samples above instead, or "
                    f"choose two {words[0]} runs to compare their curves.", icon=":material/info:")
        elif shared:
            words = MODELS[kinds[0]].model_cls.metric_words if kinds[0] in MODELS else {}
            metric = st.selectbox("Curve", shared, format_func=lambda m: words.get(m, m), key="metric")
            st.plotly_chart(compare_loss_figure(frames, metric), key="compare-chart")
        else:
            st.info("These two runs recorded no curves in common (one may have stopped before its "
                    "first record): compare their samples above.", icon=":material/info:")
