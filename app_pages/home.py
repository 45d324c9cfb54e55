"""Home: what the studio does, and two one-click starts."""
import streamlit as st

from app_pages import _shared as S

st.title("genlib studio")
st.markdown(
    "genlib studio teaches a generative model — a GAN, a VAE or a PixelCNN — to draw new images "
    "like the ones you give it, on this machine's GPU or, more slowly, its CPU. "
    "It also forecasts time series from a table you upload, with prediction bands and an honest "
    "comparison against a simple seasonal baseline. "
    "Every training is saved as a run, so you can come back to it, resume it, compare it, sample "
    "from it and download it.")

left, right = st.columns(2)
with left, st.container(border=True):
    st.subheader(":material/draw: Train a digit generator")
    st.caption("Loads the built-in handwritten digits and trains a small GAN (the “quick” preset); "
               "you watch the samples sharpen as it learns.")
    if st.button("Train a digit generator", type="primary", key="start-digits"):
        S.load_digits()
        if S.start_training(S.images(), "gan", "quick") is not None:
            st.switch_page(S.PAGES["train"])

with right, st.container(border=True):
    st.subheader(":material/show_chart: Forecast a sample series")
    st.caption("Loads the Mauna Loa CO₂ series (shipped with statsmodels), lets genlib choose a "
               "model by backtesting, and draws a year ahead with 80% and 95% bands.")
    if st.button("Forecast a sample series", type="primary", key="start-forecast"):
        S.load_sample_series("co2")
        if S.forecast(S.series(), ["auto"], None, (80, 95), windows=3):
            st.switch_page(S.PAGES["forecast"])

st.divider()
st.markdown("Or start from your own data on the **Data** page, then **Train**, **Forecast**, "
            "**Sample**, and find every saved run under **Runs**.")
