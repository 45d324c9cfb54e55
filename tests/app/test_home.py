"""The frame (navigation, sidebar) and the home page's two one-click starts."""
from apphelpers import goto, job_of, no_exceptions, poll, texts


def test_home_explains_the_app_and_the_sidebar_shows_the_device(app):
    no_exceptions(app)
    assert app.title[0].value == "genlib studio"
    words = texts(app)
    assert "GPU" in words and "forecasts time series" in words
    assert {b.label for b in app.button} >= {"Train a digit generator", "Forecast a sample series"}
    side = "\n".join(m.value for m in app.sidebar.markdown)
    assert "**Device**" in side and ("CPU — training will be slower" in side or "GPU:" in side)
    assert "No data loaded yet." in [c.value for c in app.sidebar.caption]
    assert len(app.query_params["sid"]) == 32            # the browser id lives in the URL


def test_every_page_loads_with_nothing_chosen(app):
    for page, guard in [("data", "Nothing loaded yet"), ("train", "Load images first"),
                        ("forecast", "Load a table of time series"), ("sample", "No trained model yet"),
                        ("runs", "No saved runs")]:
        goto(app, page)
        no_exceptions(app)
        assert guard in texts(app), page


def test_train_a_digit_generator_in_one_click(app):
    app.button(key="start-digits").click().run()
    no_exceptions(app)
    assert app.title[0].value == "Train a generator"              # switched to the Train page
    job = job_of(app, "train")
    assert job is not None and job.snapshot().title == "GAN on digits (quick)"
    poll(app, lambda at: job.snapshot().step > 0 and not at.exception)
    assert "digits: 1,797" in "\n".join(m.value for m in app.sidebar.markdown)
    app.button(key="stop").click().run()
    job.wait(60)
    poll(app, lambda at: "Stopped at step" in texts(at))
    no_exceptions(app)


def test_forecast_a_sample_series_in_one_click(app):
    app.button(key="start-forecast").click().run()
    no_exceptions(app)
    assert app.title[0].value == "Forecast"
    assert app.session_state["forecast_result"]["forecasts"]["auto"].shape[0] == 12    # a year of months
    assert "What auto chose" in texts(app)
    assert any(b.label == "Download the forecast (CSV)" for b in app.get("download_button"))
