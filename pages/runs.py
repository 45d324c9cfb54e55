"""Runs: every saved run with its card; open, resume, compare, delete and download."""
import pandas as pd
import streamlit as st

from genlib.errors import GenlibError
from genlib.plots import compare_loss_figure, loss_figure
from genlib.runs import bundle_run, delete_run, list_runs, runs_root
from pages import _shared as S
from pages import _widgets as W

st.title("Runs")
runs = {r.name: r for r in list_runs()}
if not runs:
    st.info(f"No saved runs in `{runs_root()}` yet: every training you start is saved there.")
    st.page_link(S.PAGES["train"], label="Go to Train", icon=":material/model_training:")
    st.stop()

table = pd.DataFrame([{"run": r.name, "model": r.family, "data": r.data, "status": r.status,
                       "steps": r.steps, "device": r.device, "minutes": round(r.duration_seconds / 60, 1),
                       "updated": r.updated, "final metrics": " · ".join(
                           f"{k} {v:.3g}" for k, v in r.final_metrics.items() if isinstance(v, (int, float)))}
                      for r in runs.values()])
st.dataframe(table, hide_index=True, key="runs-table")


def card(name: str, key: str) -> None:
    """One run: what it was trained on, how long, where, how it ended, its samples."""
    try:
        run = S.open_run(str(runs[name].dir))
    except GenlibError as exc:
        S.show_error(exc)
        return
    c, data = run.card, run.card.get("data", {})
    with st.container(border=True):
        st.markdown(f"**{name}**")
        st.markdown(f"**Model** {run.family.upper()} ({c.get('preset', '?')}) · **data** {data.get('name', '?')}"
                    f" ({data.get('count', '?'):,} images {'×'.join(map(str, data.get('shape', [])))})  \n"
                    f"**Steps** {c.get('steps', 0):,} of {c.get('total_steps', 0):,} · **time** "
                    f"{W.minutes(c.get('duration_seconds'))} · **device** {c.get('device', '?')} · "
                    f"**status** {c.get('status', '?')}")
        if c.get("final_metrics"):
            st.caption(" · ".join(f"{k} {v:.4g}" for k, v in c["final_metrics"].items()))
        if run.samples_png:
            st.image(run.samples_png, width=320, caption="Samples from the fixed seed")
        if len(run.metrics):
            st.plotly_chart(loss_figure(run.metrics), key=f"curves-{key}")


view, compare = st.tabs(["One run", "Compare two"])
with view:
    name = st.selectbox("Run", list(runs), key="run")
    card(name, "one")
    path = str(runs[name].dir)
    a, b, c, d = st.columns(4)
    if a.button("Open in Sample", key="open"):
        st.session_state["sample_run"] = path
        st.switch_page(S.PAGES["sample"])
    if b.button("Resume training", key="resume-run", help="Needs the data it was trained on loaded."):
        S.resume_run(S.open_run(path))
    c.download_button("Download (ZIP)", lambda: bundle_run(path), f"{name}.zip", "application/zip",
                      key="download-run")
    if d.button("Delete…", key="delete"):
        st.session_state["confirm_delete"] = name
    if st.session_state.get("confirm_delete") == name:
        st.warning(f"Delete **{name}** and all its files? This cannot be undone.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete it", type="primary", key="delete-yes"):
            delete_run(path)
            st.session_state.pop("confirm_delete")
            st.rerun()
        if no.button("Cancel", key="delete-no"):
            st.session_state.pop("confirm_delete")
            st.rerun()

with compare:
    pair = st.multiselect("Two runs", list(runs), list(runs)[:2], max_selections=2, key="pair")
    if len(pair) == 2:
        left, right = st.columns(2)
        with left:
            card(pair[0], "left")
        with right:
            card(pair[1], "right")
        frames = {n: S.open_run(str(runs[n].dir)).metrics for n in pair}
        shared = [m for m in frames[pair[0]].columns if m in frames[pair[1]].columns and m not in ("step", "seconds")]
        if shared:
            metric = st.selectbox("Metric", shared, key="metric")
            st.plotly_chart(compare_loss_figure(frames, metric), key="compare-chart")
