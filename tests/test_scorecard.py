"""genlib.scorecard: scores saved beside a run and read back, in plain words, after every training
(unless switched off), as a background job, and never shared with a bundle or the gallery."""
from __future__ import annotations

import functools
import io
import json
import os
import pickle
import threading
import zipfile

import pytest
from PIL import Image

from genlib import pipeline, scorecard
from genlib.bundle import write_bundle
from genlib.data import load_builtin
from genlib.errors import GenlibError, RunError
from genlib.features import cache_folder
from genlib.gallery import publish
from genlib.jobs import JobRegistry
from genlib.jobstate import JobCallback, JobState, outcome
from genlib.runs import WRITING, load_run
from genlib.scorecard import (NEAREST, SCORES, card_rows, compact_words, nearest_strip, saved_scores,
                              score_job, score_run, verdict)

RAW_KEYS = ("fid", "kid", "copies_pixels", "class_coverage", "class_agreement", "nll", "bpd",
            "copy_threshold", "_")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """One runs folder for the module: the digits feature network trains once, in its .features."""
    return tmp_path_factory.mktemp("scorecard")


@pytest.fixture(scope="module")
def digits():
    return load_builtin("digits")


@pytest.fixture(scope="module")
def scored(root, digits):
    """A GAN of a few steps on digits, scored with 100 samples (the data found by its name)."""
    run_dir = pipeline.train_model("gan", digits, steps=5, device="cpu", out_dir=root / "gan",
                                   score=False).run_dir
    return run_dir, score_run(run_dir, n=100, device="cpu", cache_dir=cache_folder(root))


def test_score_run_saves_the_scores_and_the_nearest_pairs(scored, digits):
    run_dir, result = scored
    assert saved_scores(run_dir) == json.loads(json.dumps(result))
    assert result["compact"] is False and result["steps"] == 5 and result["n"] == 100
    assert result["scored_at"] and result["fid"] > 0 and 0 <= result["copies"] <= 1
    assert not scorecard.stale(result, run_dir)
    strip = Image.open(io.BytesIO(nearest_strip(run_dir)))
    # eight pairs side by side, two rows (sample above training picture), 16-pixel digits drawn 4×
    assert strip.size == (4 * (8 * 18 + 2), 4 * (2 * 18 + 2))


def test_damaged_or_missing_scores_read_as_none(tmp_path):
    assert saved_scores(tmp_path) is None and nearest_strip(tmp_path) is None
    assert saved_scores(None) is None and nearest_strip(None) is None
    for text in ("{not json", "[1, 2]", '{"fid": "a lot"}', "\x00\xff"):
        (tmp_path / SCORES).write_text(text, errors="surrogateescape")
        assert saved_scores(tmp_path) is None, text
    (tmp_path / NEAREST).write_bytes(b"not a picture")
    assert nearest_strip(tmp_path) is None


def test_card_rows_are_plain_words_with_units(scored):
    rows = card_rows(scored[1])
    text = " ".join(" ".join(row) for row in rows)
    for key in RAW_KEYS:
        assert key not in text.lower(), key
    what = {w: v for w, v, _ in rows}
    assert what["Classes drawn"] == f"{scored[1]['class_coverage']['covered']} of 10"
    assert what["Look real"].endswith(" %") and what["Variety"].endswith(" %")
    assert what["Near-copies of your pictures"].startswith(f"{100 * scored[1]['copies']:.1f} %")
    assert what["Distance from real pictures"] == (f"{scored[1]['fid']:.2f}" if scored[1]["fid"] < 10
                                                   else f"{scored[1]['fid']:,.1f}") + \
        f" (real pictures: {scored[1]['fid_real']:.2f})"
    assert card_rows({"fid": 30.0, "fid_real": 2.0, "nll": 80.0})[-1][1] == "80.0 nats per picture"
    assert card_rows({"bpd": 1.2345})[0][1] == "1.234 bits per pixel value"


def result_with(fid, fid_real=2.0, copies=0.0, covered=None):
    r = {"fid": fid, "fid_real": fid_real, "copies": copies, "n": 500}
    if covered is not None:
        share = [0.1] * covered + [0.0] * (10 - covered)
        r.update(class_coverage={"share": share, "covered": covered},
                 class_names=[f"digit {i}" for i in range(10)])
    return r


def test_verdict_follows_the_distance_ratio():
    words = [verdict(result_with(fid)) for fid in (2.4, 3.9, 7.9, 8.1, 40.0)]
    assert [w.split(":")[0] for w in words] == [
        "Very close to your pictures", "Close to your pictures",
        "Recognisable but clearly different from your pictures",
        "Far from your pictures yet", "Far from your pictures yet"]
    assert "train longer" in words[-1] and "20.0×" in words[-1] and "1.2×" in words[0]
    assert "near-copies" not in words[0] and "near-copies" in verdict(result_with(2.4, copies=0.05))
    assert "5.0 %" in verdict(result_with(2.4, copies=0.05))
    missing = verdict(result_with(2.4, covered=8))
    assert "Only 8 of 10 classes" in missing and "digit 8, digit 9" in missing
    assert "classes" not in verdict(result_with(2.4, covered=10))


def test_compact_words_are_one_short_line():
    line = compact_words(result_with(3.2, covered=10))
    assert line == ("Quality: close to your pictures (distance 1.6× that of real pictures), 10 of 10 "
                    "classes, no near-copies — from 500 samples.")
    assert "2.0 % near-copies" in compact_words(result_with(3.2, copies=0.02))


def test_score_run_refuses_a_run_being_trained(scored):
    run_dir = scored[0]
    (run_dir / WRITING).write_text(f"{os.getpid()}\n")
    try:
        with pytest.raises(RunError, match="being trained"):
            score_run(run_dir, n=100, device="cpu")
    finally:
        (run_dir / WRITING).unlink()


def test_score_run_says_when_the_data_cannot_be_found(root):
    tiny = load_builtin("digits", n=150)        # not the built-in set as a whole: not found by name
    run_dir = pipeline.train_model("gan", tiny, steps=2, device="cpu", out_dir=root / "tiny",
                                   score=False).run_dir
    with pytest.raises(GenlibError, match="Cannot find the pictures"):
        score_run(run_dir, n=100, device="cpu")
    assert saved_scores(run_dir) is None


@pytest.mark.scoring
def test_training_ends_with_a_compact_score(root, digits, tmp_path):
    result = pipeline.train_model("gan", digits, steps=5, device="cpu", out_dir=tmp_path / "run",
                                  runs_root=root)
    saved = saved_scores(result.run_dir)
    assert saved is not None and saved["compact"] is True and saved["n"] == scorecard.COMPACT_N
    assert saved["steps"] == 5 and result.scores["fid"] == saved["fid"]
    assert nearest_strip(result.run_dir) is not None
    assert saved["timings"]["features_network"] < 5          # the module's cached network, not a new one
    more = pipeline.train_model(None, digits, steps=7, device="cpu", resume=result.run_dir, runs_root=root)
    assert saved_scores(more.run_dir)["steps"] == 7          # resuming scores again


@pytest.mark.scoring
def test_no_score_when_switched_off(root, digits, tmp_path, monkeypatch):
    off = pipeline.train_model("gan", digits, steps=2, device="cpu", out_dir=tmp_path / "a",
                               runs_root=root, score=False)
    assert off.scores is None and not (off.run_dir / SCORES).exists()
    monkeypatch.setenv("GENLIB_SCORE", "0")
    env_off = pipeline.train_model("gan", digits, steps=2, device="cpu", out_dir=tmp_path / "b",
                                   runs_root=root)
    assert env_off.scores is None and not (env_off.run_dir / SCORES).exists()


@pytest.mark.scoring
def test_a_failing_score_leaves_the_training_whole(root, digits, tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the scorer broke")

    monkeypatch.setattr(scorecard, "score_run", broken)
    result = pipeline.train_model("gan", digits, steps=3, device="cpu", out_dir=tmp_path / "run",
                                  runs_root=root)
    assert result.state.status == "finished" and result.scores is None
    assert load_run(result.run_dir).card["steps"] == 3 and not (result.run_dir / SCORES).exists()
    assert "Scoring" in caplog.text and "the scorer broke" in caplog.text


def test_score_job_pickles_and_runs_as_a_job(scored, root):
    run_dir = scored[0]
    work = functools.partial(score_job, run_dir, None, 100, 1, cache_folder(root))
    assert pickle.loads(pickle.dumps(work)).args == work.args
    job = JobRegistry(max_running=None, abandon_after=None).submit("me", work, kind="evaluate",
                                                                   in_process=False)
    snap = job.wait(300)
    assert snap.status == "finished", snap.error
    assert (snap.step, snap.total) == (3, 3) and snap.result["seed"] == 1
    assert saved_scores(run_dir)["seed"] == 1


def test_a_stopped_score_job_saves_nothing(scored, root, tmp_path):
    state, stop = JobState(message=""), threading.Event()
    stop.set()
    before = (scored[0] / SCORES).read_bytes()
    result = score_job(scored[0], None, 100, 2, cache_folder(root), JobCallback(state), stop)
    assert result is None and outcome(result, stop.is_set())["status"] == "stopped"
    assert (scored[0] / SCORES).read_bytes() == before
    assert state.get("step") == 1 and state.get("message").startswith("Preparing")


def test_bundles_and_the_gallery_never_carry_the_nearest_pictures(scored, tmp_path):
    run_dir = scored[0]
    assert (run_dir / NEAREST).is_file()
    for public in (True, False):
        names = zipfile.ZipFile(io.BytesIO(write_bundle(run_dir, public=public))).namelist()
        assert NEAREST not in names and SCORES not in names, names
    entry = publish(run_dir, tmp_path / "gallery", title="Digits GAN")
    assert not (entry / NEAREST).exists() and not (entry / SCORES).exists()
