"""Forecast page: guard, a classic forecast made in the page, a neural forecast as a job."""
from apphelpers import goto, job_of, no_exceptions, poll, texts


def _co2(app):
    goto(app, "forecast")
    assert "Load a table of time series" in texts(app)
    app.button(key="use-co2").click().run()
    no_exceptions(app)


def test_forecast_with_auto_shows_bands_explanation_backtest_and_download(app):
    _co2(app)
    form = app.get("form")[0]
    form.number_input[0].set_value(6)
    form.button[0].click()
    app.run()
    no_exceptions(app)
    result = app.session_state["forecast_result"]
    fc = result["forecasts"]["auto"]
    assert len(fc) == 6 and list(fc.columns[:3]) == ["unique_id", "ds", "mean"]
    assert (fc["lo-95"] <= fc["lo-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()
    assert "What auto chose" in texts(app)
    scores = result["scores"]
    assert "seasonal_naive" in str(scores) and any(c.endswith("_rel") for c in scores.columns)
    assert len(app.get("plotly_chart")) == 2
    assert app.get("download_button")[0].label == "Download the forecast (CSV)"


def test_several_models_and_levels(app):
    _co2(app)
    form = app.get("form")[0]
    form.multiselect[0].set_value(["seasonal_naive", "ets"])
    form.multiselect[1].set_value([50, 90])
    form.button[0].click()
    app.run()
    no_exceptions(app)
    result = app.session_state["forecast_result"]
    assert set(result["forecasts"]) == {"seasonal_naive", "ets"}
    assert {"lo-50", "hi-90"} <= set(result["forecasts"]["ets"].columns)


def test_a_neural_forecast_runs_as_a_background_job(app):
    _co2(app)
    form = app.get("form")[0]
    form.multiselect[0].set_value(["neural_ar"])
    form.number_input[0].set_value(6)
    form.number_input[2].set_value(100)                      # network training steps
    form.button[0].click()
    app.run()
    no_exceptions(app)
    job = job_of(app, "forecast")
    assert job is not None
    snap = job.wait(300)
    assert snap.status == "finished", snap.error
    poll(app, lambda at: "forecast_result" in at.session_state and at.get("plotly_chart"))
    assert len(app.session_state["forecast_result"]["forecasts"]["neural_ar"]) == 6
    no_exceptions(app)


def test_a_neural_forecast_can_be_stopped_and_still_forecasts(app):
    _co2(app)
    form = app.get("form")[0]
    form.multiselect[0].set_value(["neural_gru"])
    form.number_input[0].set_value(6)
    form.number_input[2].set_value(100_000)
    form.button[0].click()
    app.run()
    job = job_of(app, "forecast")
    poll(app, lambda at: job.snapshot().step > 0)
    app.button(key="stop-forecast").click().run()
    snap = job.wait(60)
    assert snap.status == "stopped" and snap.step < 100_000
    poll(app, lambda at: "forecast_result" in at.session_state)
    assert "Stopped at step" in texts(app)
    assert len(app.session_state["forecast_result"]["forecasts"]["neural_gru"]) == 6
