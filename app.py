"""genlib studio: the router and the sidebar every page shares.

    streamlit run app.py                       (runs are saved in $GENLIB_RUNS_DIR, default ./runs)
    GENLIB_HOSTED=1 streamlit run app.py       (for strangers: see README.md, "Hosting")
"""
import streamlit as st

from app_pages._shared import PageStop, owner, seen, set_cookie
from app_pages._widgets import sidebar

st.set_page_config(page_title="genlib studio", page_icon=":material/auto_awesome:", layout="wide")
owner()                                    # this browser's id (a signed cookie when hosted)
seen()                                     # its jobs are watched: they keep running

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/folder_open:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/forecast.py", title="Forecast", icon=":material/show_chart:"),
    st.Page("app_pages/sample.py", title="Sample", icon=":material/palette:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/inventory_2:"),
]
page = st.navigation(pages)
slot = st.sidebar.container()              # device, data, job: drawn after the page so they
try:                                       # show what the page just did (and after S.stop())
    page.run()
except PageStop:
    pass
finally:
    sidebar(slot)
    set_cookie()
