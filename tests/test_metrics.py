"""genlib.metrics: FID against the closed form and torchmetrics, KID, precision / recall / density /
coverage against a brute-force reference and on known situations (same data, mode collapse, far
away), the ordering real < good < bad, the copy check, class coverage and the docstring examples."""
import doctest
import json

import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm
from scipy.spatial.distance import cdist

import genlib.metrics as metrics_mod
from genlib.errors import DataError
from genlib.metrics import (class_coverage, copies, density_coverage, frechet_distance, frechet_from_stats,
                            kid, matched_fid, nearest, precision_recall, real_reference, report)


def spd(rng, d: int) -> np.ndarray:
    """A random well-conditioned covariance matrix."""
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.5 * np.eye(d)


def closed_form(mu1, c1, mu2, c2) -> float:
    """||mu1 − mu2||² + Tr(C1 + C2 − 2·(C1^½ C2 C1^½)^½) with scipy's general matrix square root."""
    r1 = sqrtm(c1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * np.real(sqrtm(r1 @ c2 @ r1))))


def mixture(rng, n: int, d: int = 16) -> np.ndarray:
    """Non-Gaussian 'real' features: three skewed clusters (the same three for every call)."""
    centres = np.random.default_rng(100).normal(scale=2.0, size=(3, d))
    return centres[rng.integers(0, 3, n)] + rng.gamma(2.0, 0.5, size=(n, d))


# ---------------------------------------------------------------------------------------------
# FID

def test_fid_matches_the_closed_form_for_gaussians():
    rng = np.random.default_rng(0)
    d = 4
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = spd(rng, d), spd(rng, d)
    expected = closed_form(mu1, c1, mu2, c2)
    assert expected > 1.0                                       # the test is not about a zero
    assert frechet_from_stats(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-9)

    x = rng.multivariate_normal(mu1, c1, size=200_000)
    y = rng.multivariate_normal(mu2, c2, size=200_000)
    assert frechet_distance(x, y) == pytest.approx(expected, rel=0.02)
    # a wrong covariance term (e.g. Tr(C1 C2)^½ replaced by the trace of the product) is far off
    wrong = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2) - 2 * np.sqrt(np.trace(c1 @ c2))
    assert abs(wrong - expected) > 0.1 * expected


def test_fid_is_zero_on_itself_symmetric_and_takes_tensors():
    rng = np.random.default_rng(1)
    x, y = mixture(rng, 3000), mixture(rng, 2500)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-9)
    assert frechet_distance(torch.tensor(x, dtype=torch.float64), torch.tensor(y)) == \
        pytest.approx(frechet_distance(x, y), rel=1e-9)
    assert frechet_distance(x, y + 1) > frechet_distance(x, y)


def test_fid_with_fewer_samples_than_dimensions_is_finite():
    # singular covariances: the case where a plain sqrtm returns complex or infinite values
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 64)), rng.normal(size=(30, 64)) + 0.5
    value = frechet_distance(x, y)
    assert np.isfinite(value) and value > 64 * 0.25             # at least the squared mean shift, roughly
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save:UserWarning")
def test_fid_and_kid_agree_with_torchmetrics():
    pytest.importorskip("torchmetrics")
    # the modules, not torchmetrics.image, which only lists them when torch-fidelity is installed
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    class Features(torch.nn.Module):
        """The features are precomputed: the 'extractor' hands them through."""
        num_features = 16

        def forward(self, x):
            return x

    rng = np.random.default_rng(3)
    x, y = mixture(rng, 1200), mixture(rng, 1200) * 1.2 + 0.3
    fid = FrechetInceptionDistance(feature=Features())
    fid.update(torch.tensor(x), real=True)
    fid.update(torch.tensor(y), real=False)
    assert frechet_distance(y, x) == pytest.approx(fid.compute().item(), rel=1e-6)

    # one subset of all samples: no randomness on either side
    kid_tm = KernelInceptionDistance(feature=Features(), subsets=1, subset_size=len(x))
    kid_tm.update(torch.tensor(x), real=True)
    kid_tm.update(torch.tensor(y), real=False)
    mean_tm, _ = kid_tm.compute()
    mean, std = kid(y, x, subsets=3, subset_size=5000)          # capped at 1200: every subset is everything
    assert mean == pytest.approx(mean_tm.item(), rel=1e-6) and std == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# KID

def test_kid_is_zero_within_its_error_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(4)
    x, y = mixture(rng, 2000), mixture(rng, 2000)
    mean, std = kid(x, y, subsets=50, subset_size=500)
    assert std > 0 and abs(mean) < 3 * std
    shifted, shifted_std = kid(x, y + 0.5, subsets=50, subset_size=500)
    assert shifted > 5 * shifted_std and shifted > 10 * abs(mean)
    assert kid(x, y, subsets=50, subset_size=500, seed=1) != (mean, std)   # the seed picks the subsets
    assert kid(x, y, subsets=50, subset_size=500) == (mean, std)


# ---------------------------------------------------------------------------------------------
# precision, recall, density, coverage

def brute_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    """The papers' formulas on full float64 distance matrices (as in the prdc package)."""
    def radii(x):
        d = cdist(x, x)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    r_real, r_fake, d = radii(real), radii(fake), cdist(real, fake)
    return {"precision": (d <= r_real[:, None]).any(axis=0).mean(),
            "recall": (d <= r_fake[None, :]).any(axis=1).mean(),
            "density": (d < r_real[:, None]).sum(axis=0).mean() / k,
            "coverage": (d.min(axis=1) < r_real).mean()}


@pytest.mark.parametrize("k", [3, 5])
def test_manifold_metrics_match_a_brute_force_reference_across_chunks(k):
    rng = np.random.default_rng(5)
    real, fake = mixture(rng, 1500, d=8), mixture(rng, 1300, d=8) * 1.1   # more rows than one chunk
    expected = brute_prdc(real, fake, k)
    p, r = precision_recall(real, fake, k=k)
    density, coverage = density_coverage(real, fake, k=k)
    got = {"precision": p, "recall": r, "density": density, "coverage": coverage}
    for key in got:             # float32 distances may flip a point on a ball's very edge
        assert got[key] == pytest.approx(expected[key], abs=3 / 1300), key
    assert 0.1 < expected["precision"] < 0.99 and 0.1 < expected["recall"] < 0.99   # not trivial cases


def test_same_distribution_scores_near_one():
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))
    p, r = precision_recall(real, fake, k=3)
    density, coverage = density_coverage(real, fake, k=5)
    assert p > 0.75 and r > 0.75
    assert 0.9 < density < 1.1 and coverage > 0.9


def test_mode_collapse_is_precise_but_neither_recalls_nor_covers():
    rng = np.random.default_rng(7)
    real = rng.normal(size=(2000, 8))
    fake = real[rng.integers(0, 2000, 5)].repeat(400, axis=0) + 1e-3 * rng.normal(size=(2000, 8))
    p, r = precision_recall(real, fake, k=3)
    _, coverage = density_coverage(real, fake, k=5)
    assert p > 0.95 and r < 0.05 and coverage < 0.05


def test_far_away_fakes_score_zero():
    rng = np.random.default_rng(8)
    real = rng.normal(size=(500, 8))
    fake = rng.normal(size=(500, 8)) + 50
    assert precision_recall(real, fake) == (0.0, 0.0)
    assert density_coverage(real, fake) == (0.0, 0.0)


def test_ordering_real_then_good_then_bad_and_the_report():
    rng = np.random.default_rng(9)
    real_a, real_b = real_reference(mixture(rng, 4000))
    good = mixture(rng, 2000) + 0.5 * rng.normal(size=(2000, 16))   # real pictures with a little noise
    bad = rng.normal(size=(2000, 16)) * 2 + 1                 # noise with the right rough scale
    fid_real, fid_good, fid_bad = (frechet_distance(f, real_a) for f in (real_b, good, bad))
    assert fid_real < fid_good < fid_bad
    assert 2 * fid_real < fid_good and 5 * fid_good < fid_bad

    # the report on 600 of each (KID's 100 subsets of 600 stay fast)
    real_a, real_b, good, bad = real_a[:600], real_b[:600], good[:600], bad[:600]
    out_good = report(real_a, real_b, good, train=real_a)
    out_bad = report(real_a, real_b, bad)
    json.dumps(out_good)                                      # plain floats
    assert set(out_good) == {"fid", "fid_real", "fid_matched", "kid", "kid_std", "precision", "recall",
                             "density", "coverage", "copies"}
    assert "copies" not in out_bad
    assert out_good["fid"] == pytest.approx(frechet_distance(good, real_a))
    assert out_good["fid_real"] < out_good["fid"] < out_bad["fid"]
    assert out_good["kid"] < out_bad["kid"] and out_good["precision"] > out_bad["precision"]
    assert out_good["coverage"] > out_bad["coverage"] and out_good["copies"] == 0.0


def test_a_perfect_generator_scores_like_real_pictures_only_at_the_same_sample_size():
    # 180 + 180 real pictures against 2,000 samples of the very same distribution: scored with all
    # 2,000, FID's smaller bias makes the samples look closer than real pictures (ratio ~0.5, the
    # artefact seen on the 359 held-out digits); at the reference's size the ratio is about 1
    rng = np.random.default_rng(3)
    cov = np.diag(np.linspace(0.2, 2.0, 16))
    draw = lambda n: rng.multivariate_normal(np.zeros(16), cov, size=n)
    ratios, matched = [], []
    for _ in range(5):
        real_a, real_b, fake = draw(180), draw(180), draw(2000)
        ratios.append(frechet_distance(fake, real_a) / frechet_distance(real_b, real_a))
        matched.append(matched_fid(fake, real_a, 180) / frechet_distance(real_b, real_a))
    assert np.mean(ratios) < 0.7
    assert 0.85 < np.mean(matched) < 1.15


# ---------------------------------------------------------------------------------------------
# nearest, copies, classes, halves

def test_nearest_matches_brute_force_across_chunks():
    rng = np.random.default_rng(10)
    q, r = rng.normal(size=(53, 5)), rng.normal(size=(41, 5))
    index, distance = nearest(q, r, chunk=7)
    d = cdist(q, r)
    assert index.tolist() == d.argmin(axis=1).tolist()
    np.testing.assert_allclose(distance, d.min(axis=1), rtol=1e-4, atol=1e-4)


def test_copies_finds_exactly_the_copied_share():
    rng = np.random.default_rng(11)
    train = rng.normal(size=(400, 32))
    copied = rng.choice(400, 30, replace=False)
    fake = np.concatenate([train[copied], rng.normal(size=(70, 32))])
    out = copies(fake, train)
    assert out["share"] == pytest.approx(0.3)
    assert out["index"][:30].tolist() == copied.tolist()
    assert (out["distance"][:30] < 1e-2).all() and (out["distance"][30:] > out["threshold"]).all()
    within = cdist(train, train)
    np.fill_diagonal(within, np.inf)
    assert out["threshold"] > 0
    assert out["threshold"] == pytest.approx(0.5 * np.median(within.min(axis=1)), rel=1e-4)

    # the same pictures as N×C×H×W pixel arrays, and a separate set of real pictures as reference
    pixels = copies(fake.reshape(100, 2, 4, 4), train.reshape(400, 2, 4, 4),
                    reference=rng.normal(size=(300, 32)))
    assert pixels["share"] == pytest.approx(0.3) and pixels["threshold"] > 0


def test_class_coverage_catches_a_collapse():
    collapsed = class_coverage(np.full(1000, 7), 10)
    assert collapsed["covered"] == 1 and collapsed["share"][7] == 1.0
    uniform = class_coverage(torch.arange(1000) % 10, 10)
    assert uniform["covered"] == 10 and sum(uniform["share"]) == pytest.approx(1.0)
    # half the fair share (1/20 = 50 of 1000) is the line
    labels = np.concatenate([np.zeros(50, int), np.ones(49, int), np.full(901, 2)])
    assert class_coverage(labels, 10)["covered"] == 2
    with pytest.raises(DataError, match="0 to 9"):
        class_coverage([0, 10], 10)


def test_real_reference_gives_disjoint_halves():
    x = np.arange(202.0).reshape(101, 2)
    a, b = real_reference(x, seed=3)
    assert a.shape == b.shape == (50, 2)
    assert not set(a[:, 0]) & set(b[:, 0])
    assert np.array_equal(real_reference(x, seed=3)[0], a) and not np.array_equal(real_reference(x)[0], a)


def test_mistakes_raise_errors_that_say_what_to_do():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(50, 4))
    with pytest.raises(DataError, match="same feature extractor"):
        frechet_distance(x, rng.normal(size=(50, 5)))
    with pytest.raises(DataError, match="NaN"):
        kid(x, np.full((50, 4), np.nan))
    with pytest.raises(DataError, match="smaller k"):
        precision_recall(x, x[:3], k=3)
    with pytest.raises(DataError, match="N×D"):
        nearest(np.zeros(4), x)


def test_docstring_examples_run():
    result = doctest.testmod(metrics_mod)
    assert result.attempted > 10 and result.failed == 0
