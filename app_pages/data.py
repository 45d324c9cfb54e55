"""Data: a built-in dataset or an upload → health report, preview, and corrections of the guesses."""
import streamlit as st

from genlib.data import in_words
from genlib.data.images import IMAGE_SIZES
from genlib.forecast.report import short_series_note
from genlib.freq import freq_words
from genlib.plots import series_figure
from genlib.sample import make_grid
from app_pages import _shared as S
from app_pages import _widgets as W

SIDES = list(IMAGE_SIZES)
FREQS = ["h", "D", "C-MON-TUE-WED-THU-FRI-SAT", "B", "W-SUN", "W-MON", "MS", "ME", "QS", "YS"]  # in words
ORDERS = ["as guessed", "day first (31/12)", "month first (12/31)"]
COMBINES = {"mean": "averaged", "sum": "added up"}
# Accepted by the uploaders so that genlib can say what a wrong file is (a Word file, a PDF…)
# instead of the browser refusing it without a word.
DOCUMENTS = ["pdf", "docx", "doc", "pptx", "ppt", "odt", "ods", "odp", "rtf"]
IMAGE_TYPES = ["zip", "npz", "npy", "gz", "png", "jpg", "jpeg", "xlsx", "xls", "csv", *DOCUMENTS]
TABLE_TYPES = ["csv", "txt", "tsv", "gz", "zip", "xlsx", "xlsm", "xls", "parquet", "png", "jpg", *DOCUMENTS]

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
    types, helps = (IMAGE_TYPES, "A ZIP file of pictures (PNG, JPEG…), one folder per class if you have "
                    "classes; or a NumPy .npz / .npy file of images.") if kind == "images" else \
        (TABLE_TYPES, "A CSV, Excel or Parquet file: one column of dates and one or more columns of "
         "numbers, or one series per row.")
    upload = st.file_uploader(f"Upload {'images' if kind == 'images' else 'a table'}", type=types,
                              key=f"upload-{kind}", help=helps)
    if upload is not None and (st.session_state.get(f"{kind}_source") or {}).get("file_id") != upload.file_id:
        S.load_upload(kind, upload.name, upload.getvalue(), upload.file_id)

images, series = S.images(), S.series()
if st.session_state.get("restored_note"):
    st.caption(st.session_state.pop("restored_note"))
if images is None and series is None:
    st.info("Nothing loaded yet: choose a built-in dataset or upload a file.")
    S.stop()

if images is not None:
    st.header(f"Images: {images.name}")
    W.health_card(in_words(images.report, "app"))
    examples = images.examples(per_class=8)
    if list(examples) == [""]:
        st.image(make_grid(examples[""]), width=420, caption=f"The first {len(examples['']):,} of "
                 f"{len(images):,} images, {images.shape[1]}×{images.shape[2]} pixels")
    else:
        st.image([make_grid(x, nrow=8) for x in examples.values()], width=320,
                 caption=[f"{name} ({int((images.labels == k).sum()):,} images)"
                          for k, name in enumerate(examples)])
        more = f", the first {len(examples)} shown" if images.num_classes > len(examples) else ""
        st.caption(f"A few images of each of the {images.num_classes} classes{more}; "
                   f"{len(images):,} images in all, {images.shape[1]}×{images.shape[2]} pixels.")
    with st.form("fix-images"):
        st.markdown("**Correct the guesses**")
        a, b = st.columns(2)
        side = images.shape[1]
        size = a.selectbox("Image size (pixels per side)", SIDES, SIDES.index(side) if side in SIDES else 0)
        color = b.selectbox("Colour", ["gray", "rgb"], 0 if images.shape[0] == 1 else 1,
                            format_func={"gray": "grey (one channel)", "rgb": "colour (red, green, blue)"}.get)
        if st.form_submit_button("Reload with these settings"):
            S.reload_images(image_size=size, color=color)
            st.rerun()

if series is not None:
    st.header(f"Series: {series.name}")
    W.health_card(in_words(series.report, "app"))
    short = short_series_note(series)
    if short:
        st.info(short, icon=":material/info:")
    ids = list(dict.fromkeys(series.df["unique_id"]))
    shown = st.multiselect("Series to preview", ids, ids[:3], key="preview-ids") if len(ids) > 1 else ids
    for uid in shown[:6]:
        st.plotly_chart(series_figure(series.df[series.df["unique_id"] == uid], series.freq),
                        key=f"series-{uid}")
    g = series.guesses
    with st.form("fix-series"):
        st.markdown("**Correct the guesses**")
        ids = g.get("id_column") if isinstance(g.get("id_column"), list) else [g.get("id_column")]
        columns = list(dict.fromkeys(g.get("columns") or [c for c in [g.get("date_column"), *ids,
                                                                     *g.get("value_columns", [])] if c]))
        a, c, d = st.columns(3)
        date = a.selectbox("Date column", columns, columns.index(g["date_column"]) if g.get("date_column") in columns
                           else None, accept_new_options=True)
        freqs = list(dict.fromkeys([series.freq, *FREQS])) if series.freq else FREQS
        freq = c.selectbox("Frequency", freqs, 0 if series.freq else None, accept_new_options=True, key="freq",
                           format_func=freq_words, help="How often the values come. A coarser one than "
                           "the data's (monthly for daily values) averages or adds up the values in each "
                           "period (see “Values in one period”); daily except Sundays leaves Sunday rows "
                           "out (a shop closed on Sundays).")
        order = d.selectbox("Dates are written", ORDERS, help="Whether 01/02 means the 1st of February "
                            "(day first) or January 2nd (month first).")
        e, f = st.columns([2, 1])
        values = e.multiselect("Value column(s)", columns, g.get("value_columns", []), accept_new_options=True,
                               help="The columns with the numbers to forecast: one series per column.")
        combine = f.selectbox("Values in one period", list(COMBINES), list(COMBINES).index(g.get("combine", "mean")),
                              format_func=COMBINES.get, key="combine",
                              help="When several values fall on one date or in one period (a file with one "
                                   "row per order, or daily values read monthly): add them up for sales, "
                                   "orders or visits (a period without rows counts as 0), average them for "
                                   "readings such as temperatures or prices.")
        if st.form_submit_button("Reload with these settings", key="reload-series"):
            dayfirst = None if order == ORDERS[0] else order.startswith("day")
            S.reload_series(date_column=date, value_column=values or None, freq=freq, dayfirst=dayfirst,
                            combine=combine)
            st.rerun()
