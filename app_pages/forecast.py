"""Forecast: pick series, horizon, models and levels → forecast with bands, plain scores, download."""
import pandas as pd
import streamlit as st

from genlib import pipeline
from genlib.forecast import plain
from genlib.forecast.calendar import daily_or_finer, holiday_dates, place_names
from genlib.forecast.registry import MODELS
from genlib.freq import freq_words
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

every = freq_words(series.freq) if isinstance(series.freq, str) else "positions, no dates"
st.caption(f"Data: **{series.name}** — {series.df['unique_id'].nunique():,} series, {every}")
with st.form("forecast-form"):
    names = list(MODELS)
    models = st.multiselect("Models", names, ["auto"] if "auto" in names else names[:1],
                            format_func=plain.title,
                            help="Automatic choice tests several models on each series and keeps the best.")
    a, b, c, d = st.columns(4)
    h = a.number_input("Horizon (steps ahead)", 1, 10_000, S.default_horizon(series))
    levels = b.multiselect("Prediction bands (%)", [50, 80, 90, 95, 99], [80, 95])
    windows = c.number_input("Tests on the past", 1, 20, 3,
                             help="How many stretches at the end of each series the models are tested "
                                  "on. Short series are tested on fewer, or not at all; they still get "
                                  "a forecast.")
    steps = d.number_input("Network training steps", 10, 100_000, 1000, step=100,
                           help="Only for the neural models: more steps learn more and take longer.")
    holidays = None
    if daily_or_finer(series.freq):               # public holidays mean something for days and hours
        places = place_names()
        holidays = st.selectbox(
            "Public holidays of", [None, *places], key="holidays",
            format_func=lambda c: "None: treat holidays like other days" if c is None else
            f"{places[c]} ({c})",
            help="Sales, visits or electricity use often change on public holidays. Choose the "
                 "country, or its region where holidays differ (type to search): how much holidays "
                 "changed your data is measured on its past, and the forecast uses it only where "
                 "holidays clearly differ from ordinary days.")
    submitted = st.form_submit_button("Forecast", type="primary")
with st.expander("What each model is good at"):
    for name in names:
        st.markdown(f"**{MODELS[name].title}** — {MODELS[name].blurb}")

if submitted:
    if not models:
        st.warning("Choose at least one model.")
    else:
        S.forecast(series, models, h, levels or [80], windows, steps, holidays)  # networks: a job


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
titled = {plain.title(m): fc for m, fc in result["forecasts"].items()}
shaded = (st.selectbox("Shaded bands for", list(titled), key="bands-for") if len(titled) > 1
          else next(iter(titled)))
tail = int(max(4 * result["h"], 3 * series.season_length, 60))
marked = None
if result.get("holidays"):                        # stars on the public holidays shown
    years = pd.DatetimeIndex(pd.concat([series.df["ds"], *(fc["ds"] for fc in titled.values())])).year
    marked = holiday_dates(result["holidays"], range(int(years.min()), int(years.max()) + 1))
st.plotly_chart(forecast_figure(series.df, titled, uid, levels=result["levels"], tail=tail, bands=shaded,
                                holidays=marked), key="forecast-chart")
banded = {plain.title(m): sentence for m, sentence in result.get("bands", {}).items()}
if shaded in banded:                              # what calibration did to the shaded bands
    st.caption(f"**Bands of {shaded}:** {banded[shaded]}")
if uid in result["explanations"]:
    st.info(f"**What auto chose:** {result['explanations'][uid]}", icon=":material/smart_toy:")
for note in result.get("notes", {}).get(uid, []):
    st.info(f"**Note:** {note}", icon=":material/info:")
others = len(result.get("notes", {})) - (uid in result.get("notes", {}))
if others > 0:
    why = "what public holidays did, or " if result.get("holidays") else ""
    st.caption(f"{others:,} other series have notes ({why}too short for a model or for the tests); "
               "choose one under Series to read them.")
left, right = st.columns(2)
left.download_button("Download the forecast (CSV)", pipeline.forecast_csv(result), f"{series.name}-forecast.csv",
                     "text/csv", key="dl-forecast", help="Columns: model, series, date, forecast, low and "
                     "high end of each band; rounded to four significant digits.")
right.download_button("Download for a program (raw CSV)", pipeline.forecast_csv(result, raw=True),
                      f"{series.name}-forecast-raw.csv", "text/csv", key="dl-forecast-raw",
                      help="Columns: model, unique_id, ds, mean, lo-80, hi-80, …; full precision.")
if result.get("not_backtested"):
    st.caption(f"Not tested on the past: {', '.join(plain.title(m) for m in result['not_backtested'])} — "
               "each test would train the network again, which takes a long while.")
if result.get("stopped_tests"):
    st.caption(f"Not tested on the past: {', '.join(plain.title(m) for m in result['stopped_tests'])} — "
               "you stopped its test; its forecast above stands.")

st.subheader("How each model did on the past")
if result["scores"] is None:
    if result.get("backtest_note"):
        st.info(result["backtest_note"], icon=":material/info:")
    S.stop()
st.caption(plain.backtest_summary(result))
scope = (st.radio("Scores for", [plain.ALL_SERIES, uid], horizontal=True, key="scores-for")
         if len(ids) > 1 else plain.ALL_SERIES)
table = plain.plain_scores(result, scope)
if len(table):
    st.dataframe(table, hide_index=True, key="plain-scores")
else:
    st.info(f"{uid} was not tested: {(result.get('notes', {}).get(uid) or ['too short'])[-1]}",
            icon=":material/info:")
st.caption(f"Scores for {'all series together' if scope == plain.ALL_SERIES else uid}. **Error compared "
           f"with the simple baseline**: how much smaller (better) or larger (worse) the typical miss was "
           f"than that of {plain.title(plain.BASELINE)}, which repeats the last season. **How often the "
           "band held**: the share of actual values that fell inside it; close to the band's percentage "
           "is honest. **Seconds**: the time the tests took, all series together.")
with st.expander("Details: every score, for all series together"):
    details = plain.detail_scores(result)
    st.dataframe(details, hide_index=True, key="scores")
    st.markdown("\n".join(f"- **{col}** — {text}" for col, text in plain.glossary(details.columns).items()))
    st.plotly_chart(backtest_figure(details, "MASE"), key="backtest-chart")
