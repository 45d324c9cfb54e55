"""Quality on the pages: a scored run's verdict, scores in words and nearest-copy strip on Runs and
Sample; two runs side by side; a run without scores measured by a real background job; the line
under a finished training. Real tiny runs on the built-in digits, scored by the real scorer."""
import json
import re
from pathlib import Path

import pytest

from apphelpers import goto, job_of, no_exceptions, poll, texts

RAW = re.compile(r"\b(fid|fid_real|kid|copies_pixels|class_coverage|json|nll|bpd)\b", re.IGNORECASE)
STRIP = "training picture most like it"


@pytest.fixture(scope="module")
def _features(tmp_path_factory):
    return tmp_path_factory.mktemp("features")


@pytest.fixture(autouse=True)
def _shared_feature_network(_runs_dir, _features):
    """The domain network is trained once for the digits in this module, not once per test."""
    import os

    runs = Path(os.environ["GENLIB_RUNS_DIR"])
    runs.mkdir(parents=True, exist_ok=True)
    (runs / ".features").symlink_to(_features, target_is_directory=True)


def _scores(run_dir):
    from genlib.scorecard import saved_scores
    return saved_scores(run_dir)


def _plain(at) -> None:
    """No code names on the page: not in the words, not in the tables."""
    shown = texts(at) + "\n" + "\n".join(df.value.to_string() for df in at.dataframe
                                         if "final metrics" not in df.value.columns)
    assert not RAW.search(shown), RAW.search(shown).group(0)


def _table(at, compared: bool = False):
    """One run's scores (first column "What"), or two runs' side by side (rows named "What")."""
    return next(df.value for df in at.dataframe if (df.value.index.name == "What") == compared
                and (compared or df.value.columns[0] == "What"))


def _strips(at) -> int:
    return sum(STRIP in str(i.proto) for i in at.image)


@pytest.mark.scoring                    # trainings end with their quick score
def test_a_scored_run_shows_its_quality_on_runs_and_sample(app, saved_run):
    from genlib.scorecard import verdict
    run_dir = saved_run("gan", n=None)                   # the whole digits: scored as training ends
    scores = _scores(run_dir)
    assert scores is not None and scores["compact"] and scores["n"] == 500
    goto(app, "runs")
    no_exceptions(app)
    page = texts(app)
    assert verdict(scores) in page
    assert "Measured on 500 of its pictures after 3 steps" in page
    table = _table(app)
    assert list(table.columns) == ["What", "Score", "What it means"]
    assert {"Distance from real pictures", "Near-copies of your pictures"} <= set(table["What"])
    assert _strips(app) == 1
    assert app.button(key="measure-one").label == "Measure again (2,000 samples)"
    assert "from its last measure" in app.button(key="measure-one").help
    _plain(app)

    goto(app, "sample")
    no_exceptions(app)
    assert "Is it copying your pictures?" in texts(app)
    assert "pictures it drew" in texts(app) and "500" in texts(app)
    assert _strips(app) == 1
    _plain(app)


@pytest.mark.scoring                    # trainings end with their quick score
def test_compare_two_scored_runs_side_by_side(app, saved_run):
    first, second = saved_run("gan", n=None), saved_run("vae", n=None)
    goto(app, "runs")
    app.multiselect(key="pair").set_value([first.name, second.name]).run()
    no_exceptions(app)
    table = _table(app, compared=True)
    assert len(table.columns) == 2 and "Distance from real pictures" in table.index
    assert "Likelihood of real pictures" in table.index          # the VAE's own row; the GAN: —
    assert "comes closer to the real pictures than" in texts(app)
    _plain(app)

    path = second / "scores.json"                                # measured another way
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "extractor": "another network"}))
    app.run()
    assert "cannot be compared" in texts(app)
    assert "comes closer" not in texts(app)


def test_an_unscored_run_is_measured_in_the_background(app, saved_run):
    """Trainings in tests end without a score (GENLIB_SCORE=0, tests/conftest.py)."""
    run_dir = saved_run("gan", n=None)
    assert _scores(run_dir) is None
    goto(app, "runs")
    no_exceptions(app)
    assert "Not measured yet" in texts(app) and _strips(app) == 0
    button = app.button(key="measure-one")
    assert button.label == "Measure quality (2,000 samples)" and "on a 2-core processor" in button.help
    button.click().run()
    no_exceptions(app)
    job = job_of(app, "evaluate")
    assert job is not None and job.snapshot().meta["run_dir"] == str(run_dir)
    assert job.wait(240).status == "finished", job.snapshot().error
    poll(app, lambda at: "Measured on 2,000 of its pictures" in texts(at), timeout=60)
    no_exceptions(app)
    assert _scores(run_dir)["n"] == 2000 and _strips(app) == 1
    _plain(app)

    from genlib.data import load_builtin
    from genlib.pipeline import resume_run
    resume_run(run_dir, load_builtin("digits"), steps=5, device="cpu")    # trains on: scores age
    app.run()
    assert "These scores are from an earlier point: measured after 3 steps" in texts(app)


@pytest.mark.scoring                    # trainings end with their quick score
def test_sample_page_offers_to_measure_and_says_nothing_about_others_copies(app, saved_run,
                                                                           monkeypatch):
    monkeypatch.setenv("GENLIB_SCORE", "0")
    saved_run("gan", n=None)
    goto(app, "sample")
    no_exceptions(app)
    assert "Is it copying your pictures?" in texts(app)
    assert app.button(key="measure-sample").label == "Measure quality (2,000 samples)"

    monkeypatch.delenv("GENLIB_SCORE")
    from genlib import gallery
    from genlib.workspace import data_root
    scored = saved_run("gan", n=None)
    entry = gallery.publish(scored, data_root() / "gallery", title="Someone's digits",
                            publisher="5" * 32)                 # another visitor
    assert _scores(entry) is None or not (Path(entry) / "nearest.png").exists()
    goto(app, "sample")
    label = next(o for o in app.selectbox(key="model").options if o.startswith("Gallery: "))
    app.selectbox(key="model").set_value(label).run()
    no_exceptions(app)
    assert "Is it copying" not in texts(app) and "near-cop" not in texts(app)
    assert _strips(app) == 0 and not any(b.key == "measure-sample" for b in app.button)


@pytest.mark.scoring                    # trainings end with their quick score
def test_a_finished_training_shows_its_quick_score(app):
    goto(app, "train")
    app.button(key="use-digits").click().run()
    app.number_input(key="t-gan-quick-steps").set_value(5)
    app.button(key="start").click().run()
    job = job_of(app, "train")
    assert job.wait(240).status == "finished", job.snapshot().error
    poll(app, lambda at: "Quality:" in texts(at), timeout=60)
    no_exceptions(app)
    assert "from 500 samples" in texts(app)
    app.button(key="to-quality").click().run()
    no_exceptions(app)
    assert app.title[0].value == "Runs"
    assert app.selectbox(key="run").value == Path(job.snapshot().run_dir).name
    assert len(_table(app)) > 5 and _strips(app) == 1


def _status_words(**fields) -> str:
    """What W.job_status says about a job in the state `fields` describe."""
    from streamlit.testing.v1 import AppTest

    def page(fields):
        from genlib.jobs import JobSnapshot
        from app_pages import _widgets as W
        W.job_status(JobSnapshot(id="x", owner="o", title="t", **fields))

    at = AppTest.from_function(page, args=(fields,)).run()
    no_exceptions(at)
    return texts(at) + "\n".join(str(p.proto.text) for p in at.get("progress"))


def test_job_status_speaks_of_measuring_not_steps():
    words = _status_words(kind="train", status="running", step=5, total=5,
                          message="Scoring the samples…")
    assert "Trained 5 steps, saved. Scoring the samples…" in words
    words = _status_words(kind="evaluate", status="running", step=2, total=3,
                          message="Drawing 2,000 samples…")
    assert "Drawing 2,000 samples…" in words and "step 2 of 3" not in words
    assert "after 3 steps" not in _status_words(kind="evaluate", status="finished", step=3, total=3)
    words = _status_words(kind="evaluate", status="stopped", step=1, total=3, stop_reason="user")
    assert "nothing was measured" in words and "forecast" not in words
