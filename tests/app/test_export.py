"""Train page, "Run this on another machine": a training file of exactly the settings chosen and the
commands that train from it; the file round-trips through `python -m genlib train --config`."""
import io
import json

import numpy as np
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from apphelpers import goto, no_exceptions, texts
from genlib.cli import main


@pytest.fixture
def downloads(monkeypatch):
    """What the page offers to download, by file name (AppTest drops its media files after a run)."""
    saved = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        saved[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return saved


def chosen(app, prefix: str) -> dict:
    """Every setting the form shows under `prefix` (the page's keys: m-/t-<family>-<preset>-<field>)."""
    widgets = [*app.number_input, *app.checkbox, *app.selectbox, *app.text_input]
    return {w.key[len(prefix):]: w.value for w in widgets if w.key and w.key.startswith(prefix)}


def test_the_export_holds_the_chosen_settings_and_trains_the_same_run(app, downloads, tmp_path):
    goto(app, "train")
    app.button(key="use-digits").click().run()
    app.radio(key="family").set_value("vae").run()
    app.number_input(key="m-vae-quick-latent_dim").set_value(5)
    app.number_input(key="t-vae-quick-steps").set_value(3)
    app.number_input(key="t-vae-quick-batch_size").set_value(16)
    app.number_input(key="t-vae-quick-seed").set_value(7).run()
    no_exceptions(app)
    expander = next(e for e in app.expander if e.label == "Run this on another machine")
    codes = [c.value for c in expander.code]
    assert codes == ["python -m genlib train --config genlib-train.json",
                     "torchrun --nproc_per_node 2 -m genlib train --config genlib-train.json"]
    assert "set the number after --nproc_per_node to its GPU count" in texts(app)
    assert "copy that file" not in texts(app)                # built-in data: nothing to copy
    button = next(b for b in app.get("download_button") if b.key == "export-config")
    assert button.label == "Download genlib-train.json"

    config = json.loads(downloads["genlib-train.json"])
    assert (config["model"], config["preset"], config["data"]) == ("vae", "quick", "digits")
    assert (config["steps"], config["batch_size"], config["seed"]) == (3, 16, 7)
    assert config["model_settings"] == {"latent_dim": 5}     # only what differs from the preset

    path = tmp_path / "genlib-train.json"
    path.write_bytes(downloads["genlib-train.json"])
    run = tmp_path / "run"
    assert main(["train", "--config", str(path), "--device", "cpu", "--out", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    model, train = chosen(app, "m-vae-quick-"), chosen(app, "t-vae-quick-")
    assert len(model) > 2 and len(train) > 5
    assert {k: saved["model_config"][k] for k in model} == model
    assert {k: saved["train_config"][k] for k in train} == train
    assert saved["build_args"]["image_shape"] == [1, 16, 16]


def test_an_upload_is_named_with_the_file_to_copy_along(app, downloads):
    goto(app, "data")
    app.radio(key="source").set_value("Images (ZIP, NPZ)").run()
    buf = io.BytesIO()
    np.savez(buf, images=np.random.default_rng(0).integers(0, 255, (20, 28, 28), dtype=np.uint8))
    app.file_uploader(key="upload-images").set_value(("my pictures.npz", buf.getvalue(),
                                                       "application/octet-stream"))
    app.run()
    goto(app, "train")
    no_exceptions(app)
    config = json.loads(downloads["genlib-train.json"])
    assert config["data"] == "my pictures.npz" and config["image_size"] == 28
    assert "copy that file into the same folder as genlib-train.json" in texts(app)
    assert "**my pictures.npz**" in texts(app)
