"""genlib studio: the router and the sidebar every page shares.

    streamlit run app.py          (runs are saved in $GENLIB_RUNS_DIR, default ./runs)
"""
import streamlit as st

from pages._shared import owner
from pages._widgets import sidebar

st.set_page_config(page_title="genlib studio", page_icon=":material/auto_awesome:", layout="wide")
owner()                                    # this browser's id, kept in the URL (?sid=…)

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/folder_open:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/show_chart:"),
    st.Page("pages/sample.py", title="Sample", icon=":material/palette:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/inventory_2:"),
]
page = st.navigation(pages)
slot = st.sidebar.container()              # device, data, job: drawn after the page so they
try:                                       # show what the page just did (and after st.stop())
    page.run()
finally:
    sidebar(slot)
