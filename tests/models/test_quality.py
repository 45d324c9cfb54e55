"""Quality on real data: each family's quick preset, trained on the built-in digits, must draw digits
that a classifier fitted on held-out real digits recognises — the class that was asked for, with
confidence, across (nearly) all ten classes, with real variety inside each class. A model that
trains but learns nothing fails here: its samples are unrecognisable, all one class, not the
class requested, or one picture per class (checked by hand on untrained models: all fail).

These train real models for tens of seconds each (`-m slow` selects them; CI runs them).
"""
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from genlib.data import load_builtin
from genlib.data.types import ImageData
from genlib.models import MODELS
from genlib.pipeline import train_model

pytestmark = pytest.mark.slow

N_SAMPLES = 200          # 20 per class: the classes are requested in turn
N_HELD_OUT = 400         # real digits the generative models never see; the classifier learns on them
MIN_CONFIDENT = 0.6      # share of samples the classifier calls a digit with probability > 0.5
MIN_AGREE = 0.6          # share of samples recognised as the class they were drawn for
MIN_CLASSES = 8          # distinct digits among the confident calls
MIN_SPREAD = 0.3         # within-class variety of samples relative to real digits (collapse → 0)


def within_class_spread(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean distance between two images of the same class, averaged over classes."""
    flat = images.flatten(1).double()
    return float(np.mean([torch.pdist(flat[labels == c]).mean().item()
                          for c in labels.unique().tolist() if (labels == c).sum() > 1]))


def assess(classifier, samples: torch.Tensor, requested: torch.Tensor, real: ImageData) -> dict:
    """How a classifier trained on real digits reads generated ones (numbers the test asserts on)."""
    probs = classifier.predict_proba(samples.flatten(1).double().numpy())
    pred, conf = probs.argmax(1), probs.max(1)
    return {"confident": float(np.mean(conf > 0.5)),
            "classes": int(len(set(pred[conf > 0.5].tolist()))),
            "agree": float(np.mean(pred == requested.numpy())),
            "spread": within_class_spread(samples, requested) / within_class_spread(real.images, real.labels)}


@pytest.fixture(scope="module")
def digits_split():
    data = load_builtin("digits")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    held, kept = order[:N_HELD_OUT], order[N_HELD_OUT:]
    train = ImageData(data.images[kept], data.labels[kept], data.class_names, name="digits")
    classifier = LogisticRegression(C=0.05, max_iter=500)
    classifier.fit(data.images[held].flatten(1).double().numpy(), data.labels[held].numpy())
    return train, classifier


def test_the_classifier_reads_real_digits(digits_split):
    # The yardstick itself: real digits it never saw must clear every bar by a margin.
    train, classifier = digits_split
    score = assess(classifier, train.images[:N_SAMPLES], train.labels[:N_SAMPLES], train)
    assert score["agree"] > 0.85 and score["confident"] > 0.8 and score["classes"] == 10, score
    assert 0.8 < score["spread"] < 1.2, score


@pytest.mark.parametrize("family", list(MODELS))
def test_quick_preset_draws_recognisable_digits(family, digits_split, tmp_path):
    train, classifier = digits_split
    result = train_model(family, train, preset="quick", device="cpu", seed=0, out_dir=tmp_path / family)
    assert result.state.status == "finished", result.state.error
    requested = torch.arange(N_SAMPLES) % 10
    samples = result.model.sample(N_SAMPLES, seed=1, labels=requested)
    score = assess(classifier, samples, requested, train)
    assert score["confident"] >= MIN_CONFIDENT, score
    assert score["agree"] >= MIN_AGREE, score
    assert score["classes"] >= MIN_CLASSES, score
    assert score["spread"] >= MIN_SPREAD, score                     # not one picture per class
