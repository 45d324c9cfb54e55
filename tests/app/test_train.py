"""Train page: guard, presets with times, a real background training started, stopped, resumed."""
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
    presets = app.radio(key="preset").options
    assert len(presets) == 3 and all(" on this " in p and "about" in p for p in presets)
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
