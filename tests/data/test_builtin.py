"""The built-in datasets: what list_datasets promises is what load_builtin gives."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genlib.data import DatasetInfo, list_datasets, load_builtin, load_dataset, load_images
from genlib.data.builtin import MNIST_DIR, SHAPE_CLASSES, _read_digits, make_shapes
from genlib.data.images import IMAGE_SIZES
from genlib.data.images.limits import _check_output_size
from genlib.errors import DataError

# Per-digit counts and mean pixel of the MNIST test set, from genlib/data/mnist/SOURCE.md.
MNIST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_MEAN_PIXEL = 33.79


@pytest.fixture(scope="module")
def mnist():
    return load_builtin("mnist")


def test_list_datasets_describes_each_builtin():
    infos = list_datasets()
    assert [d.name for d in infos] == ["mnist", "digits", "shapes"]
    for d in infos:
        assert isinstance(d, DatasetInfo)
        assert d.title and d.description and d.source and d.licence and d.count > 0
        assert len(d.shape) == 3
    assert infos[0].licence == "CC BY-SA 3.0"
    assert (MNIST_DIR / "SOURCE.md").is_file()


def test_mnist_is_the_full_test_set(mnist):
    info = list_datasets()[0]
    assert len(mnist) == info.count == 10_000
    assert mnist.shape == info.shape == (1, 28, 28)
    assert mnist.images.dtype == torch.float32
    assert mnist.images.min() == -1 and mnist.images.max() == 1
    assert torch.bincount(mnist.labels).tolist() == MNIST_LABEL_COUNTS
    assert mnist.class_names == [str(d) for d in range(10)]
    mean_pixel = ((mnist.images + 1) * 127.5).mean().item()
    assert abs(mean_pixel - MNIST_MEAN_PIXEL) < 0.01
    assert mnist.report.used == 10_000 and mnist.report.facts["licence"] == "CC BY-SA 3.0"


def test_mnist_goes_through_the_users_idx_path(mnist):
    as_file = load_images(MNIST_DIR / "t10k-images-idx3-ubyte.gz")
    assert torch.equal(as_file.images, mnist.images)
    assert torch.equal(as_file.labels, mnist.labels)
    assert as_file.name == "t10k"


def test_subsets_are_seeded_and_resizable(mnist):
    a = load_builtin("mnist", n=50, seed=1)
    assert len(a) == 50 and a.report.used == 50
    assert load_builtin("mnist", n=50, seed=1).fingerprint() == a.fingerprint()
    assert load_builtin("mnist", n=50, seed=2).fingerprint() != a.fingerprint()
    assert load_builtin("mnist", n=10, image_size=32, color="rgb").shape == (3, 32, 32)
    with pytest.raises(DataError, match="at most"):
        load_builtin("mnist", n=10_001)
    with pytest.raises(DataError, match="whole number"):
        load_builtin("digits", n=0)
    with pytest.raises(DataError, match="image_size"):
        load_builtin("shapes", image_size=1)


def test_digits_matches_scikit_learn():
    data = load_builtin("digits")
    assert len(data) == 1_797 and data.shape == (1, 16, 16) == list_datasets()[1].shape
    assert data.images.min() == -1 and data.images.max() == 1
    native = load_builtin("digits", image_size=8)
    assert native.shape == (1, 8, 8)
    from sklearn.datasets import load_digits            # the oracle for the fast CSV read
    digits = load_digits()
    images, labels = _read_digits()
    assert np.array_equal(images, digits.images) and np.array_equal(labels, digits.target)
    expected = torch.from_numpy(digits.images / 8 - 1).float()
    assert torch.allclose(native.images[:, 0], expected, atol=1e-6)
    assert native.labels.tolist() == digits.target.tolist()


def test_shapes_are_seeded_balanced_and_drawn():
    a = load_builtin("shapes", n=90, seed=3)
    assert a.shape == (3, 32, 32) and len(a) == 90
    assert a.class_names == list(SHAPE_CLASSES)
    assert torch.bincount(a.labels).tolist() == [30, 30, 30]
    assert load_builtin("shapes", n=90, seed=3).fingerprint() == a.fingerprint()
    assert load_builtin("shapes", n=90, seed=4).fingerprint() != a.fingerprint()
    assert load_builtin("shapes", n=6, image_size=16).shape == (3, 16, 16)
    assert len(load_builtin("shapes", n=None, image_size=8)) == list_datasets()[2].count

    images, labels = make_shapes(60, seed=0)
    corner = images[:, :1, :1].astype(int)               # the plain background colour
    assert (corner == corner[..., :1]).all()             # background is gray
    differs = (np.abs(images.astype(int) - corner).sum(-1) > 30).mean(axis=(1, 2))
    assert differs.min() > 0.04 and differs.max() < 0.6  # one visible shape, inside the frame
    edge = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], 1)
    assert (np.abs(edge.astype(int) - corner[:, 0]).sum(-1) <= 30).all()
    # polygons are sized to a circle's area, so every class covers about as much
    fill = [differs[labels == k].mean() for k in range(3)]
    assert abs(fill[0] - fill[2]) < 0.1


def test_load_dataset_routes_names_and_paths(tmp_path):
    assert load_dataset(" Digits ", n=5).name == "digits"
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((4, 8, 8), np.uint8))
    assert load_dataset(path, image_size=8).shape == (1, 8, 8)
    assert load_dataset(str(path)).name == "x"
    with pytest.raises(DataError, match="mnist, digits, shapes"):
        load_dataset("mnst")
    with pytest.raises(DataError, match="mnist, digits, shapes"):
        load_builtin("cifar")
    with pytest.raises(DataError, match="seed cannot be used with a file"):
        load_dataset(path, seed=3)
    with pytest.raises(DataError, match="name cannot be used with a built-in"):
        load_dataset("mnist", name="x")


def test_every_builtin_fits_a_shared_server_at_every_size_and_colour(mnist, monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    for info in list_datasets():
        for side in IMAGE_SIZES:
            _check_output_size(info.count, 3, side)          # the most memory a choice can take
    hosted = load_builtin("mnist")                           # through the IDX reader and its caps
    assert torch.equal(hosted.images, mnist.images)
    assert load_builtin("digits", image_size=64, color="rgb").shape == (3, 64, 64)
