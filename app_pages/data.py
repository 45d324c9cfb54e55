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
TABLE_TYPES = ["csv", "txt", "tsv", "gz", "zip", "xlsx", "xlsm", "xls", "parquet", "json", "jsonl", "ndjson",
               "png", "jpg", *DOCUMENTS]

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
        (TABLE_TYPES, "A CSV, Excel, Parquet or JSON file: one column of dates and one or more columns of "
         "numbers, or one series per row.")
    upload = st.file_uploader(f"Upload {'images' if kind == 'images' else 'a table'}", type=types,
                              key=f"upload-{kind}", help=helps)
    seen = {(st.session_state.get(f"{kind}_source") or {}).get("file_id"),
            ((S.failed_series() or {}).get("source") or {}).get("file_id") if kind == "series" else None}
    if upload is not None and upload.file_id not in seen:
        S.load_upload(kind, upload.name, upload.getvalue(), upload.file_id)

def series_form(key: str, columns: list, guesses: dict, freq_now, label: str) -> dict | None:
    """The loader's guesses for a table, to correct: its date and value columns, frequency, how
    dates are written and how values in one period combine. The choices when submitted, else None."""
    with st.form(key):
        st.markdown("**Correct the guesses**")
        a, c, d = st.columns(3)
        date = a.selectbox("Date column", columns, columns.index(guesses["date_column"])
                           if guesses.get("date_column") in columns else None, accept_new_options=True)
        freqs = list(dict.fromkeys([freq_now, *FREQS])) if freq_now else FREQS
        freq = c.selectbox("Frequency", freqs, 0 if freq_now else None, accept_new_options=True, key="freq",
                           format_func=freq_words, help="How often the values come. A coarser one than "
                           "the data's (monthly for daily values) averages or adds up the values in each "
                           "period (see “Values in one period”); daily except Sundays leaves Sunday rows "
                           "out (a shop closed on Sundays).")
        order = d.selectbox("Dates are written", ORDERS, help="Whether 01/02 means the 1st of February "
                            "(day first) or January 2nd (month first).")
        e, f = st.columns([2, 1])
        chosen = [c for c in guesses.get("value_columns", []) if c in columns]
        values = e.multiselect("Value column(s)", columns, chosen, accept_new_options=True,
                               help="The columns with the numbers to forecast: one series per column.")
        combine = f.selectbox("Values in one period", list(COMBINES),
                              list(COMBINES).index(guesses.get("combine") or "mean"),
                              format_func=COMBINES.get, key="combine",
                              help="When several values fall on one date or in one period (a file with one "
                                   "row per order, or daily values read monthly): add them up for sales, "
                                   "orders or visits (a period without rows counts as 0), average them for "
                                   "readings such as temperatures or prices.")
        if not st.form_submit_button(label, key=f"{key}-go"):
            return None
    dayfirst = None if order == ORDERS[0] else order.startswith("day")
    return {"date_column": date, "value_column": values or None, "freq": freq, "dayfirst": dayfirst,
            "combine": combine}


images, series = S.images(), S.series()
failed = S.failed_series()
if failed is not None and source.startswith("A table"):       # the last table uploaded was refused
    st.header(f"Series: {failed['source']['name']} (not loaded)")
    S.show_error(failed["error"])
    st.caption("Choose the columns and the frequency below and read the file again, or upload another file."
               + (f" Until then the Forecast page uses {series.name}, loaded before." if series is not None else ""))
    tried = failed["options"]
    guesses = {"date_column": tried.get("date_column"), "value_columns": tried.get("value_column") or [],
               "combine": tried.get("combine")}
    choices = series_form("retry-series", failed["columns"], guesses, tried.get("freq"), "Read it with these settings")
    if choices is not None:
        S.retry_series(**choices)
        st.rerun()
    S.stop()
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
    ids = g.get("id_column") if isinstance(g.get("id_column"), list) else [g.get("id_column")]
    columns = list(dict.fromkeys(g.get("columns") or [c for c in [g.get("date_column"), *ids,
                                                                 *g.get("value_columns", [])] if c]))
    choices = series_form("fix-series", columns, g, series.freq, "Reload with these settings")
    if choices is not None:
        S.reload_series(**choices)
        st.rerun()
