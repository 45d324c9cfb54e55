"""Data: a built-in dataset or an upload → health report, preview, and corrections of the guesses."""
import streamlit as st

from genlib.data.images import IMAGE_SIZES
from genlib.plots import series_figure
from genlib.sample import make_grid
from app_pages import _shared as S
from app_pages import _widgets as W

SIDES = list(IMAGE_SIZES)
FREQS = ["h", "D", "B", "W-SUN", "W-MON", "MS", "ME", "QS", "YS"]

st.title("Data")
source = st.radio("What do you want to load?", ["Built-in dataset", "Images (ZIP, NPZ)",
                  "A table of time series (CSV, Excel, Parquet)"], horizontal=True, key="source")

if source == "Built-in dataset":
    choices = {d.name: f"Images · {d.title} — {d.count:,} images" for d in S.builtin_datasets()}
    choices |= {n: f"Series · {t}" for n, t in S.SAMPLE_SERIES.items()}
    name = st.selectbox("Dataset", list(choices), format_func=choices.get, key="builtin")
    if st.button("Load", type="primary", key="load-builtin"):
        if name in S.SAMPLE_SERIES:
            S.load_sample_series(name)
        else:
            S.set_images(S.builtin_images(name), {"kind": "builtin", "name": name, "options": {}})
else:
    kind = "images" if source.startswith("Images") else "series"
    types = ["zip", "npz", "npy", "gz"] if kind == "images" else ["csv", "txt", "tsv", "gz", "xlsx", "xls", "parquet"]
    upload = st.file_uploader(f"Upload {'images' if kind == 'images' else 'a table'}", type=types,
                              key=f"upload-{kind}")
    if upload is not None and (st.session_state.get(f"{kind}_source") or {}).get("file_id") != upload.file_id:
        S.load_upload(kind, upload.name, upload.getvalue(), upload.file_id)

images, series = S.images(), S.series()
if images is None and series is None:
    st.info("Nothing loaded yet: choose a built-in dataset or upload a file.")
    S.stop()

if images is not None:
    st.header(f"Images: {images.name}")
    W.health_card(images.report)
    st.image(make_grid(images.images[:64]), width=420, caption=f"The first {min(64, len(images))} "
             f"of {len(images):,} images, {'×'.join(map(str, images.shape))} (C×H×W)")
    with st.form("fix-images"):
        st.markdown("**Correct the guesses**")
        a, b = st.columns(2)
        side = images.shape[1]
        size = a.selectbox("Image size (pixels per side)", SIDES, SIDES.index(side) if side in SIDES else 0)
        color = b.selectbox("Colour", ["gray", "rgb"], 0 if images.shape[0] == 1 else 1)
        if st.form_submit_button("Reload with these settings"):
            S.reload_images(image_size=size, color=color)
            st.rerun()

if series is not None:
    st.header(f"Series: {series.name}")
    W.health_card(series.report)
    ids = list(dict.fromkeys(series.df["unique_id"]))
    shown = st.multiselect("Series to preview", ids, ids[:3], key="preview-ids") if len(ids) > 1 else ids
    for uid in shown[:6]:
        st.plotly_chart(series_figure(series.df[series.df["unique_id"] == uid], series.freq),
                        key=f"series-{uid}")
    g = series.guesses
    with st.form("fix-series"):
        st.markdown("**Correct the guesses**")
        columns = list(dict.fromkeys(g.get("columns") or [c for c in [g.get("date_column"), g.get("id_column"),
                                                                     *g.get("value_columns", [])] if c]))
        a, b, c, d = st.columns(4)
        date = a.selectbox("Date column", columns, columns.index(g["date_column"]) if g.get("date_column") in columns
                           else None, accept_new_options=True)
        values = b.multiselect("Value column(s)", columns, g.get("value_columns", []), accept_new_options=True)
        freqs = list(dict.fromkeys([series.freq, *FREQS])) if series.freq else FREQS
        freq = c.selectbox("Frequency", freqs, 0 if series.freq else None, accept_new_options=True, key="freq",
                           help="A pandas alias: h hourly, D daily, W-SUN weekly, MS monthly, QS quarterly…")
        order = d.selectbox("Dates are written", ["as guessed", "day first (31/12)", "month first (12/31)"])
        if st.form_submit_button("Reload with these settings", key="reload-series"):
            dayfirst = None if order == "as guessed" else order.startswith("day")
            S.reload_series(date_column=date, value_column=values or None, freq=freq, dayfirst=dayfirst)
            st.rerun()
