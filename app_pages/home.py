"""Home: what the studio does, and two one-click starts."""
import streamlit as st

from app_pages import _shared as S

st.title("genlib studio")
st.markdown(
    "genlib studio learns to draw new pictures like the ones you give it (it trains a generative "
    "model: a GAN, a VAE or a PixelCNN), on this computer's graphics card (GPU) or, more slowly, its "
    "processor. It also forecasts time series from a table you upload (sales, visitors, "
    "temperatures…): the most likely future with a range around it, checked honestly against a "
    "simple rule that repeats the last season. "
    "Everything you train is saved, so you can come back to it, train it further, compare it, draw "
    "new pictures from it and download it.")

left, right = st.columns(2)
with left, st.container(border=True):
    st.subheader(":material/draw: Train a digit generator")
    st.caption("Loads 1,797 small pictures of handwritten digits and trains a small model on them "
               "(the quick setting); you watch its drawings sharpen as it learns.")
    if st.button("Train a digit generator", type="primary", key="start-digits"):
        S.load_digits()
        if S.start_training(S.images(), "gan", "quick") is not None:
            st.switch_page(S.PAGES["train"])

with right, st.container(border=True):
    st.subheader(":material/show_chart: Forecast a sample series")
    st.caption("Loads monthly CO₂ measurements from Mauna Loa, Hawaii (1958 to 2001), picks the method "
               "that best predicted years it had not seen, and draws the next 12 months with the ranges "
               "the values should fall in 80% and 95% of the time.")
    if st.button("Forecast a sample series", type="primary", key="start-forecast"):
        S.load_sample_series("co2")
        if S.forecast(S.series(), ["auto"], None, (80, 95), windows=3):
            st.switch_page(S.PAGES["forecast"])

st.divider()
st.markdown("Or start from your own data on the **Data** page (pictures in a ZIP file, or a table "
            "from Excel), then **Train** a model or **Forecast**, draw new pictures under **Sample**, "
            "and find everything you trained under **Runs**. What you load is kept for this "
            "browser: after a refresh it is loaded again.")
