"""Sample: draw images from a trained model, walk its latent space, download the results."""
import streamlit as st
import torch

from genlib import pipeline
from genlib.bundle import write_bundle
from genlib.errors import GenlibError
from genlib.sample import (class_caption, class_columns, download_name, grid_png, images_zip,
                           interpolate, latent_noise, make_grid)
from app_pages import _shared as S
from app_pages import _widgets as W

st.title("Sample")
models = S.image_models()
if not models:
    st.info("No trained model yet: train one on the Train page (or save runs into the runs folder).")
    st.page_link(S.PAGES["train"], label="Go to Train", icon=":material/model_training:")
    S.stop()

preferred = st.session_state.pop("sample_run", None)
labels = list(models)
index = labels.index(next((k for k, v in models.items() if v == preferred), labels[0]))
label = st.selectbox("Model", labels, index, key="model")
try:
    run = S.open_run(models[label])
except GenlibError as exc:
    S.show_error(exc)
    S.stop()
model, family, can = run.model, run.family, run.model.capabilities
st.caption(f"**{run.display_name}**: {family.upper()} trained on "
           f"{run.card.get('data', {}).get('name', '?')} for {run.card.get('steps', 0):,} steps · "
           f"`{S.shown_path(run.dir)}`")

a, b, c = st.columns(3)
n = a.number_input("How many images", 1, 400, 36, key="n")
seed = b.number_input("Seed (the same seed gives the same images)", 0, 2**31 - 1, 0, key="seed")
classes = can.num_classes
names = (run.card.get("data", {}).get("class_names") or [str(i) for i in range(classes)])[:classes]
cls = c.selectbox("Class", [None, *range(classes)], format_func=lambda i: "all, in turn" if i is None
                  else names[i], key="class") if classes else None
images = S.samples(str(run.dir), str(run.card.get("updated", "")), int(n), int(seed), cls)
in_turn = bool(classes) and cls is None                 # classes in turn: one class per column
nrow = class_columns(int(n), classes) if in_turn else None
st.image(make_grid(images, nrow), width=min(640, 80 * (nrow or int(n ** 0.5 + 1))),
         caption=f"{n} samples, seed {seed}" + (f" — class {names[cls]}" if classes and cls is not None
                                                else ""))
if in_turn:
    st.caption(class_caption(int(n), names, nrow))
d, e = st.columns(2)
d.download_button("Download the grid (PNG)", grid_png(images, nrow, scale=2),
                  download_name(run.display_name, n, seed, "png"), "image/png", key="dl-grid")
e.download_button("Download each image (ZIP)", images_zip(images),
                  download_name(run.display_name, n, seed, "zip"), "application/zip", key="dl-zip")
entry = S.gallery_entry(run.dir)
if entry is not None:
    st.caption(f"From the gallery: “{entry.title}”, published {entry.published[:10]}.")
    if entry.allow_weights:
        st.download_button("Download the model (bundle)", lambda: write_bundle(run.dir, public=True),
                           f"{run.dir.name}.zip", "application/zip", key="dl-bundle")

if S.is_mine(run.dir) and entry is None:         # others' training pictures are not ours to show
    st.subheader("Is it copying your pictures?")
    W.copying(run, "sample")

y = torch.tensor([0 if cls is None else cls]) if classes else None
if can.latent_walk:
    st.subheader("Walk between two seeds")
    st.caption("Each picture decodes a point on the path between the noise of seed A and seed B"
               + (f" (class {names[int(y)]})." if classes else "."))
    f, g, h = st.columns(3)
    seed_a = f.number_input("Seed A", 0, 2**31 - 1, 1, key="seed-a")
    seed_b = g.number_input("Seed B", 0, 2**31 - 1, 2, key="seed-b")
    steps = h.slider("Steps", 3, 16, 8, key="steps")
    strip = interpolate(model, latent_noise(model, seed_a), latent_noise(model, seed_b), steps, labels=y)
    st.image(make_grid(strip, nrow=steps), width="stretch")

if can.encode:
    st.subheader("Walk between two of your images")
    st.caption("Upload two pictures: the model encodes each one and decodes the path between them"
               + (f"; both are read as class {names[int(y)]} (choose the class above)." if classes else "."))
    cols = st.columns(2)
    files = [col.file_uploader(f"Image {i + 1}", type=["png", "jpg", "jpeg", "bmp", "webp"], key=f"img-{i}")
             for i, col in enumerate(cols)]
    if all(files):
        C, H, _ = model.image_shape
        try:
            pair = [pipeline.load_one_image(f.getvalue(), f.name, side=H, channels=C) for f in files]
            ends = [model.encode(x, y)[0] for x in pair]                 # the means μ of q(z|x)
            strip = interpolate(model, ends[0], ends[1], 8, labels=y)
            st.image(make_grid(torch.cat([pair[0], strip, pair[1]]), nrow=10),
                     width="stretch", caption="your image A · the path · your image B")
        except GenlibError as exc:
            S.show_error(exc)
