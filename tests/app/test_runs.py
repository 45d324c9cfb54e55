"""Runs page: cards, compare two, download, delete with confirmation, open and resume."""
from apphelpers import goto, job_of, no_exceptions, texts


def test_runs_cards_compare_download_and_delete(app, saved_run):
    first, second = saved_run("vae"), saved_run("gan")
    goto(app, "runs")
    no_exceptions(app)
    assert len(app.dataframe) == 1 and len(app.dataframe[0].value) == 2
    assert "**Steps** 3 of 3" in texts(app)
    assert app.get("download_button")[0].label == "Download (ZIP)"
    assert "VAE on digits, " in texts(app) and "GAN on digits, " in texts(app)   # readable names
    app.multiselect(key="pair").set_value([first.name, second.name]).run()
    no_exceptions(app)
    assert len(app.image) == 3                             # one card + the two compared
    assert any("cannot share one chart" in i.value for i in app.info)          # why no chart
    app.selectbox(key="run").set_value(first.name).run()
    app.button(key="delete").click().run()
    assert "cannot be undone" in texts(app) and first.exists()
    app.button(key="delete-no").click().run()
    assert first.exists()
    app.button(key="delete").click().run()
    app.button(key="delete-yes").click().run()
    no_exceptions(app)
    assert not first.exists() and second.exists()
    assert len(app.dataframe[0].value) == 1


def test_two_runs_of_one_family_compare_their_curves(app, saved_run):
    first, second = saved_run("vae"), saved_run("vae")
    goto(app, "runs")
    app.multiselect(key="pair").set_value([first.name, second.name]).run()
    no_exceptions(app)
    assert "training loss (per picture)" in app.selectbox(key="metric").options     # plain names
    assert not any("cannot share one chart" in i.value for i in app.info)


def test_a_run_on_other_pictures_is_not_resumed_on_the_builtin_set(app, saved_run):
    """Trained on 64 of the digits: the full built-in set has the same name but other pictures."""
    saved_run("vae")
    goto(app, "runs")
    app.button(key="resume-run").click().run()
    assert app.title[0].value == "Runs" and job_of(app, "train") is None
    assert any("Load the data this run was trained on" in w.value for w in app.warning)
    assert any("64 pictures" in w.value for w in app.warning)          # which data, in plain words


def test_resume_with_other_pictures_loaded_asks_for_the_right_ones(app, saved_run):
    """The run learned 64 digits; the full digits are loaded: the page asks, nothing trains."""
    saved_run("vae")
    goto(app, "train")
    app.button(key="use-digits").click().run()
    goto(app, "runs")
    app.button(key="resume-run").click().run()
    no_exceptions(app)
    assert job_of(app, "train") is None
    warning = next(w.value for w in app.warning if "Load the data" in w.value)
    assert "(“digits”, 1,797) are not the same pictures" in warning, warning


def test_open_a_run_in_sample_and_resume_it(app, saved_run):
    run_dir = saved_run("vae", n=None)                  # the whole built-in digits
    goto(app, "runs")
    app.button(key="open").click().run()
    no_exceptions(app)
    from genlib.runs import read_card
    assert app.title[0].value == "Sample"
    assert read_card(run_dir)["display_name"] in app.selectbox(key="model").value
    goto(app, "runs")
    app.button(key="resume-run").click().run()
    no_exceptions(app)
    assert app.title[0].value == "Train a generator"
    job = job_of(app, "train")
    snap = job.wait(120)
    assert snap.status == "finished", snap.error
    assert snap.run_dir == str(run_dir) and snap.step > 3


def test_a_run_trained_on_several_processes_says_so(app, saved_run):
    import json

    several, one = saved_run("vae"), saved_run("vae")
    path = several / "config.json"
    config = json.loads(path.read_text())
    assert config["distributed"]["world_size"] == 1          # what a one-process training records
    config["distributed"] = {"world_size": 2, "backend": "gloo", "global_batch": 64}
    path.write_text(json.dumps(config))
    goto(app, "runs")
    line = "Trained on 2 processes (gloo), 64 pictures per step in all."
    app.selectbox(key="run").set_value(several.name).run()
    no_exceptions(app)
    assert line in [m.value for m in app.tabs[0].markdown]          # the "One run" tab
    app.selectbox(key="run").set_value(one.name).run()
    assert not [m.value for m in app.tabs[0].markdown if "processes" in m.value]
