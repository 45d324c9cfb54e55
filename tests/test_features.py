"""Feature spaces: the domain network genlib trains on the data (classifier or autoencoder), its
cache on disk, and Inception-v3 only when it is already installed."""
from __future__ import annotations

import importlib.util

import pytest
import torch

from genlib.data import load_builtin
from genlib.data.types import ImageData
from genlib.errors import GenlibError
from genlib.features import (Classifier, DomainConfig, Extractor, domain_extractor, inception_extractor,
                             inception_weights, split_indices)


@pytest.fixture(scope="module")
def digits():
    return load_builtin("digits")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("features")


@pytest.fixture(scope="module")
def classifier(digits, cache):
    return domain_extractor(digits, cache_dir=cache)


def test_split_is_seeded_disjoint_and_a_fifth():
    train, held = split_indices(1797)
    assert len(held) == 359 and len(train) + len(held) == 1797
    assert not set(train.tolist()) & set(held.tolist())
    assert torch.equal(held, split_indices(1797)[1]) and not torch.equal(held, split_indices(1797, seed=1)[1])
    assert [len(i) for i in split_indices(10_000)] == [8000, 2000]      # MNIST: 2,000 set aside
    with pytest.raises(GenlibError):
        split_indices(1)


def test_the_domain_classifier_trains_fast_and_classifies_unseen_digits(classifier, digits):
    assert isinstance(classifier, Classifier) and isinstance(classifier, Extractor)
    assert not classifier.loaded_from_cache
    assert classifier.name == "digits classifier (genlib, trained on this data)"
    card = classifier.card
    # it learns from the smaller side of the split and is judged on the larger one (where samples
    # are compared: pictures it never saw, like samples)
    assert card["seconds"] < 60 and card["train_count"] == 359 and card["held_out_count"] == 1438
    unseen, _ = split_indices(len(digits))
    accuracy = float((classifier.classify(digits.images[unseen]) == digits.labels[unseen]).float().mean())
    assert accuracy > 0.8, accuracy                                   # chance is 0.1
    assert card["held_out_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    f = classifier(digits.images[:300])
    assert f.shape == (300, classifier.dim) and f.dtype == torch.float32 and torch.isfinite(f).all()
    assert f.std(0).min() > 0                                         # no dead feature


def test_the_second_call_loads_from_the_cache_without_training(classifier, digits, cache):
    [entry] = [p for p in cache.iterdir() if not p.name.startswith(".")]
    weights = entry / "network.safetensors"
    assert entry.name.startswith(digits.fingerprint()) and entry.name.endswith("1x16x16")
    assert (entry / "card.json").is_file() and not list(entry.glob("*.pt*"))   # no pickle
    before = weights.stat().st_mtime_ns
    again = domain_extractor(digits, cache_dir=cache)
    assert again.loaded_from_cache and weights.stat().st_mtime_ns == before
    x = digits.images[:50]
    assert torch.equal(again(x), classifier(x)) and torch.equal(again.classify(x), classifier.classify(x))
    assert again.card == classifier.card


def test_other_data_gets_its_own_network_and_a_damaged_cache_is_retrained(tmp_path):
    data = load_builtin("digits", n=200)
    quick = DomainConfig(steps=5)
    domain_extractor(data, cache_dir=tmp_path, config=quick)
    [entry] = list(tmp_path.iterdir())
    (entry / "network.safetensors").write_bytes(b"not weights")
    again = domain_extractor(data, cache_dir=tmp_path, config=quick)
    assert not again.loaded_from_cache and again(data.images[:4]).shape == (4, quick.dim)
    assert domain_extractor(data, cache_dir=tmp_path, config=quick).loaded_from_cache
    # another config (more steps) is another network: the cached one is not reused
    assert not domain_extractor(data, cache_dir=tmp_path, config=DomainConfig(steps=6)).loaded_from_cache


def test_pictures_without_labels_get_an_autoencoder(digits, tmp_path):
    data = ImageData(digits.images[:400], name="unlabelled")
    f = domain_extractor(data, cache_dir=tmp_path, config=DomainConfig(steps=150))
    assert not isinstance(f, Classifier) and f.card["kind"] == "autoencoder"
    assert f.name == "unlabelled autoencoder (genlib, trained on this data)"
    assert f.card["held_out_explained"] > 0.2         # reconstructs far better than the mean picture
    assert f(data.images[:7]).shape == (7, f.dim)


def test_training_leaves_the_callers_random_state_alone(tmp_path):
    data = load_builtin("digits", n=100)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    domain_extractor(data, cache_dir=tmp_path, config=DomainConfig(steps=3))
    assert torch.equal(torch.rand(3), expected)


def test_wrong_pictures_and_too_few_are_refused(classifier, tmp_path):
    with pytest.raises(GenlibError, match="1×16×16"):
        classifier(torch.zeros(2, 1, 28, 28))
    with pytest.raises(GenlibError, match="at least 10"):
        domain_extractor(load_builtin("digits", n=5), cache_dir=tmp_path)


def test_inception_is_none_when_torchvision_or_its_weights_are_absent(tmp_path, monkeypatch):
    if importlib.util.find_spec("torchvision") is None:
        assert inception_weights() is None and inception_extractor() is None
    # pretend torchvision is installed: no weights in the hub cache still means None
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "torchvision" else real_find_spec(name, *a))
    assert inception_weights(tmp_path) is None and inception_extractor(hub_dir=tmp_path) is None
    # weights present but unusable (here: no real torchvision, or a broken file) → None, no crash
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "inception_v3_google-0cc3c7bd.pth").write_bytes(b"broken")
    assert inception_weights(tmp_path).name == "inception_v3_google-0cc3c7bd.pth"
    assert inception_extractor(hub_dir=tmp_path) is None


def test_the_examples_in_the_docstrings_run():
    import doctest

    import genlib.features as features

    assert doctest.testmod(features).failed == 0


def test_copies_are_caught_and_new_real_pictures_are_not_called_copies(classifier, digits, cache):
    from genlib.evaluate import compare
    train_idx, held_idx = split_indices(len(digits))
    copied = digits.images[train_idx[:400]]                          # a generator that memorised
    g = torch.Generator().manual_seed(0)
    blurred = (copied + 0.6 * torch.randn(copied.shape, generator=g)).clamp(-1, 1)
    new = digits.images[held_idx]                                    # pictures no one trained on
    out = {name: compare(x, digits, cache_dir=cache) for name, x in
           (("copied", copied), ("blurred", blurred), ("new", new))}
    assert out["copied"]["copies"] == 1.0 and all(p["copy"] for p in out["copied"]["nearest"])
    assert out["new"]["copies"] == out["new"]["copies_real"] <= 0.01
    assert out["blurred"]["copies"] < 0.5
