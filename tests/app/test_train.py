"""Train page: guard, presets with measured times, a real background training started, stopped,
resumed; the preset choice always valid and the same as what trains; plain words everywhere."""
import re

from apphelpers import goto, job_of, no_exceptions, poll, texts


def _load_digits_and_open_train(app):
    goto(app, "train")
    app.button(key="use-digits").click().run()
    no_exceptions(app)


def test_train_page_guard_offers_digits_and_lists_models_with_presets(app):
    goto(app, "train")
    assert "Load images first" in texts(app)
    app.button(key="use-digits").click().run()
    no_exceptions(app)
    assert set(app.radio(key="family").options) >= {"GAN", "VAE", "PixelCNN"} or \
        len(app.radio(key="family").options) == 3
    radio = app.radio(key="preset-gan")
    assert radio.options == ["quick", "standard", "best"] and radio.value == "quick"
    captions = list(radio.proto.captions)
    assert len(captions) == 3 and all(re.match(r"about \d", c) for c in captions), captions
    assert "Expected time:** about" in texts(app) and "measured on your pictures" in texts(app)
    assert "digits" in texts(app) and "{data}" not in texts(app)
    assert any("Advanced settings" in e.label for e in app.expander)
    from genlib.models import get_preset
    assert app.number_input(key="t-gan-quick-steps").value == get_preset("gan", "quick").steps


def test_a_training_starts_shows_progress_and_stops_then_resumes(app):
    _load_digits_and_open_train(app)
    app.radio(key="family").set_value(app.radio(key="family").options[1]).run()     # the VAE
    family = app.session_state["family"]
    app.number_input(key=f"t-{family}-quick-steps").set_value(100_000)
    app.number_input(key=f"t-{family}-quick-preview_every").set_value(5)
    app.button(key="start").click().run()
    no_exceptions(app)
    job = job_of(app, "train")
    assert job is not None
    poll(app, lambda at: bool(at.get("plotly_chart")) and any("fixed noise" in str(i.proto) for i in at.image))
    assert app.button(key="start").disabled                   # one training per session
    assert any(b.key == "stop" for b in app.button)
    assert app.get("plotly_chart") and any("fixed noise" in str(i.proto) for i in app.image)
    app.button(key="stop").click().run()
    snap = job.wait(60)
    assert snap.status == "stopped" and 0 < snap.step < 100_000
    poll(app, lambda at: "Stopped at step" in texts(at))
    no_exceptions(app)
    app.number_input(key="more-steps").set_value(10)
    app.button(key="resume").click().run()
    resumed = job_of(app, "train")
    assert resumed.id != job.id and resumed.snapshot().title.endswith("resumed")
    done = resumed.wait(120)
    assert done.status == "finished", done.error
    assert done.step == snap.step + 10
    poll(app, lambda at: "Finished after" in texts(at))


def test_a_diverging_training_is_explained_and_a_fix_is_offered(app):
    _load_digits_and_open_train(app)
    app.radio(key="family").set_value(app.radio(key="family").options[1]).run()
    family = app.session_state["family"]
    app.number_input(key=f"t-{family}-quick-lr").set_value(1e12)
    app.number_input(key=f"t-{family}-quick-grad_clip").set_value(1e12)
    app.button(key="start").click().run()
    snap = job_of(app, "train").wait(120)
    assert snap.status == "failed" and snap.error_kind == "nan", snap.error
    poll(app, lambda at: bool(at.error))
    assert "diverged" in app.error[0].value
    fix = app.button(key="fix")
    assert "learning rate 5e+11" in fix.label


def test_the_preset_stays_valid_across_model_switches_and_is_what_trains(app):
    _load_digits_and_open_train(app)
    from genlib.models import MODELS
    app.radio(key="family").set_value("vae").run()
    app.radio(key="preset-vae").set_value("standard").run()
    assert MODELS["vae"].presets["standard"].describe("digits") in texts(app)
    for family in ("gan", "pixelcnn", "vae", "gan"):
        app.radio(key="family").set_value(family).run()
        no_exceptions(app)
        radio = app.radio(key=f"preset-{family}")
        assert radio.value in MODELS[family].presets                 # never "nothing selected"
        assert MODELS[family].presets[radio.value].describe("digits") in texts(app)
    app.radio(key="preset-gan").set_value("standard").run()
    shown = app.radio(key="preset-gan").value
    assert MODELS["gan"].presets[shown].describe("digits") in texts(app)
    app.number_input(key=f"t-gan-{shown}-steps").set_value(20)
    app.button(key="start").click().run()
    job = job_of(app, "train")
    assert job.snapshot().meta["preset"] == shown == "standard"
    assert "(standard)" in job.snapshot().title


def test_settings_speak_plain_words(app):
    """No field names on screen: every setting has a label in words and a help text."""
    _load_digits_and_open_train(app)
    for family in ("gan", "vae", "pixelcnn"):
        app.radio(key="family").set_value(family).run()
        widgets = [*app.number_input, *app.checkbox, *app.selectbox, *app.text_input]
        settings = [w for w in widgets if w.key and w.key.startswith(("m-", "t-"))]
        assert len(settings) > 8
        for w in settings:
            assert "_" not in w.label and w.label.lower() not in ("lr", "grad clip", "n critic"), w.label
            assert w.label[0].isupper() and w.help, w.label


def test_preparing_and_stopping_are_said_at_once():
    """The status words straight from a job's snapshot: before the first step, after Stop."""
    from streamlit.testing.v1 import AppTest

    def page(status, step, stop_reason):
        import streamlit as st

        from genlib.jobs import JobSnapshot
        from app_pages._widgets import job_status
        st.title("status")
        job_status(JobSnapshot(id="x", owner="o", kind="train", title="t", status=status, step=step,
                               total=100, stop_reason=stop_reason))

    for args, words in [(("running", 0, ""), "Preparing…"), (("running", 40, "user"), "Stopping…")]:
        at = AppTest.from_function(page, args=args).run()
        assert words in at.info[0].value, [i.value for i in at.info]
        assert not at.button                                     # no second Stop while stopping
