"""Forecast: pick series, horizon, models and levels → forecast with bands, backtest, download."""
import streamlit as st

from genlib import pipeline
from genlib.forecast.registry import MODELS
from genlib.plots import backtest_figure, forecast_figure, loss_figure
from app_pages import _shared as S
from app_pages import _widgets as W

st.title("Forecast")
series = S.series()
if series is None:
    st.info("Load a table of time series on the Data page first, or try the sample series.")
    st.page_link(S.PAGES["data"], label="Go to Data", icon=":material/folder_open:")
    if st.button("Use the sample CO₂ series", key="use-co2"):
        S.load_sample_series("co2")
        st.rerun()
    S.stop()

st.caption(f"Data: **{series.name}** — {series.df['unique_id'].nunique():,} series, frequency "
           f"{series.freq or 'none (positions)'}")
with st.form("forecast-form"):
    names = list(MODELS)
    models = st.multiselect("Models", names, ["auto"] if "auto" in names else names[:1],
                            format_func=lambda m: MODELS[m].title,
                            help="“auto” backtests the candidates on each series and keeps the best.")
    a, b, c, d = st.columns(4)
    h = a.number_input("Horizon (steps ahead)", 1, 10_000, S.default_horizon(series))
    levels = b.multiselect("Prediction bands (%)", [50, 80, 90, 95, 99], [80, 95])
    windows = c.number_input("Backtest windows", 1, 20, 3, help="Rolling origins used to score each model.")
    steps = d.number_input("Network training steps", 10, 100_000, 1000, step=100,
                           help="Only for the neural models: more steps learn more and take longer.")
    submitted = st.form_submit_button("Forecast", type="primary")
with st.expander("What each model is good at"):
    for name in names:
        st.markdown(f"**{MODELS[name].title}** — {MODELS[name].blurb}")

if submitted:
    if not models:
        st.warning("Choose at least one model.")
    else:
        S.forecast(series, models, h, levels or [80], windows, steps)    # networks train as a job


def training(job):
    if job is None or job.snapshot().done and job.snapshot().status == "finished":
        return
    snap = W.job_header(job, "stop-forecast")
    if snap.history:
        st.plotly_chart(loss_figure(list(snap.history), title="Neural network training"), key="nn-curves")


W.live(training, "forecast")
job = S.job("forecast")
if job is not None and job.snapshot().result is not None and st.session_state.get("forecast_job") != job.id:
    st.session_state["forecast_result"], st.session_state["forecast_job"] = job.snapshot().result, job.id

result = st.session_state.get("forecast_result")
if result is None:
    S.stop()
ids = list(dict.fromkeys(series.df["unique_id"]))
uid = st.selectbox("Series", ids, key="show-id") if len(ids) > 1 else ids[0]
tail = int(max(4 * result["h"], 3 * series.season_length, 60))
st.plotly_chart(forecast_figure(series.df, result["forecasts"], uid, levels=result["levels"], tail=tail),
                key="forecast-chart")
if uid in result["explanations"]:
    st.info(f"**What auto chose:** {result['explanations'][uid]}", icon=":material/smart_toy:")
st.download_button("Download the forecast (CSV)", pipeline.forecast_csv(result), f"{series.name}-forecast.csv",
                   "text/csv", key="dl-forecast")
if result.get("not_backtested"):
    st.caption(f"Not backtested: {', '.join(MODELS[m].title for m in result['not_backtested'])} — "
               "each backtest window would train the network again, which takes a long while.")
if result["scores"] is not None:
    st.subheader("Backtest: how each model did on the last windows")
    st.caption("First the scores relative to seasonal naive (“_rel”): below 1 beats it, above 1 "
               "loses to it. Then the raw errors, the share of actual values inside each band "
               "(coverage, %), and the seconds each model took.")
    scores = result["scores"]
    rel = [c for c in scores.columns if c.endswith("_rel")]
    order = ["model", *rel, *[c for c in scores.columns if c != "model" and c not in rel]]
    st.dataframe(scores[order], hide_index=True, key="scores",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in order[1:]})
    st.plotly_chart(backtest_figure(result["scores"], "MASE"), key="backtest-chart")
