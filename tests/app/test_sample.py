"""Sample page: a saved run → a grid, downloads, a latent walk (and for a VAE, between images)."""
import io

from PIL import Image

from apphelpers import goto, no_exceptions, texts


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (16, 16), value).save(buf, format="PNG")
    return buf.getvalue()


def test_sample_from_a_saved_vae_with_walks(app, saved_run):
    saved_run("vae")
    goto(app, "sample")
    no_exceptions(app)
    assert app.selectbox(key="model").value.startswith("Saved: ")
    app.number_input(key="n").set_value(9)
    app.number_input(key="seed").set_value(3).run()
    no_exceptions(app)
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["Download the grid (PNG)", "Download each image (ZIP)"]
    assert "Walk between two seeds" in texts(app)
    assert len(app.image) == 2                                 # the grid and the seed walk
    app.file_uploader(key="img-0").set_value(("a.png", _png(0), "image/png"))
    app.file_uploader(key="img-1").set_value(("b.png", _png(255), "image/png")).run()
    no_exceptions(app)
    assert len(app.image) == 3                                 # + the walk between the uploads


def test_sample_from_a_saved_gan(app, saved_run):
    saved_run("gan")
    goto(app, "sample")
    no_exceptions(app)
    assert "Walk between two seeds" in texts(app)
    assert "Walk between two of your images" not in texts(app)   # VAE only
