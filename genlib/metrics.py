"""Image-quality metrics: is a generator good, and is it just copying its training pictures?

Pure functions on feature arrays (N×D; NumPy arrays or torch tensors, one row per picture),
whichever extractor made them. Arrays with more than two dimensions (N×C×H×W pixels) are
flattened to N×(C·H·W), so the nearest-neighbour checks work on raw pixels too.

    FID        ||mu1 − mu2||² + Tr(C1 + C2 − 2·(C1^½ C2 C1^½)^½)       Heusel et al. 2017
    KID        unbiased MMD² with k(a, b) = (a·b/d + 1)³, over subsets    Bińkowski et al. 2018
    precision  share of fake samples inside some real sample's k-NN ball  Kynkäänniemi et al. 2019
    recall     share of real samples inside some fake sample's k-NN ball  (same paper)
    density    mean number of real k-NN balls holding a fake sample, / k  Naeem et al. 2020
    coverage   share of real k-NN balls that hold at least one fake       (same paper)

Covariances and kernels are computed in float64; pairwise distances in float32 blocks of at
most `chunk` × `chunk` (torch.cdist) on the device of the first torch tensor given, so 10,000 ×
10,000 samples fit in memory.

>>> rng = np.random.default_rng(0)
>>> real, fake = rng.normal(size=(500, 8)), rng.normal(size=(500, 8)) + 3
>>> frechet_distance(real, fake) > 60 > frechet_distance(real, rng.normal(size=(500, 8)))
True
"""
from __future__ import annotations

import numpy as np
import torch

from .errors import DataError

CHUNK = 1024   # rows per block of pairwise distances: 1024 × 1024 float32 is 4 MB


# ---------------------------------------------------------------------------------------------
# inputs

def _rows(x, name: str) -> np.ndarray | torch.Tensor:
    """x as a 2-D array or tensor (N×D, higher dimensions flattened), checked to be finite."""
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x)
    if x.ndim < 2:
        raise DataError(f"{name} must be an N×D array of features (one row per picture); "
                        f"got shape {tuple(x.shape)}.")
    x = x.reshape(x.shape[0], -1)
    finite = torch.isfinite(x).all().item() if isinstance(x, torch.Tensor) else np.isfinite(x).all()
    if not finite:
        raise DataError(f"{name} contains NaN or infinite values; compute the features again "
                        "(a diverged generator makes NaN pictures).")
    return x


def _float64(x, name: str, min_rows: int = 1) -> np.ndarray:
    x = _rows(x, name)
    x = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else x.astype(np.float64)
    if len(x) < min_rows:
        raise DataError(f"{name} has {len(x)} rows; this metric needs at least {min_rows}.")
    return x


def _same_width(**arrays) -> None:
    widths = {name: a.shape[1] for name, a in arrays.items()}
    if len(set(widths.values())) > 1:
        raise DataError("The feature sets have different widths "
                        f"({', '.join(f'{n}: {w}' for n, w in widths.items())}); compute them all "
                        "with the same feature extractor.")


def _tensors(**arrays) -> list[torch.Tensor]:
    """float32 tensors on one device: that of the first torch tensor given, else the CPU."""
    rows = {name: _rows(a, name) for name, a in arrays.items()}
    _same_width(**rows)
    device = next((a.device for a in rows.values() if isinstance(a, torch.Tensor)), torch.device("cpu"))
    return [torch.as_tensor(a).detach().to(device=device, dtype=torch.float32) for a in rows.values()]


# ---------------------------------------------------------------------------------------------
# Fréchet distance (FID when the features are Inception's)

def frechet_from_stats(mu1, cov1, mu2, cov2) -> float:
    """Fréchet distance between the Gaussians N(mu1, cov1) and N(mu2, cov2).

    d² = ||mu1 − mu2||² + Tr(C1 + C2 − 2·(C1^½ C2 C1^½)^½)   (Dowson & Landau 1982; FID, Heusel
    et al. 2017). Tr (C1 C2)^½ is computed from the symmetric product C1^½ C2 C1^½ with two
    symmetric eigen-decompositions, whose tiny negative eigenvalues (rounding, or covariances
    of fewer samples than dimensions) are clipped to 0: no complex parts, no singular failures.

    >>> round(frechet_from_stats(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)), 6)
    4.0
    """
    mu1, mu2 = (np.asarray(m, dtype=np.float64).reshape(-1) for m in (mu1, mu2))
    cov1, cov2 = (np.atleast_2d(np.asarray(c, dtype=np.float64)) for c in (cov1, cov2))
    d = len(mu1)
    if len(mu2) != d or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise DataError(f"The statistics do not fit together: means of length {len(mu1)} and "
                        f"{len(mu2)}, covariances {cov1.shape} and {cov2.shape}; they must all "
                        "have the width of the features.")
    if not all(np.isfinite(a).all() for a in (mu1, mu2, cov1, cov2)):
        raise DataError("The means or covariances contain NaN or infinite values.")
    cov1, cov2 = (cov1 + cov1.T) / 2, (cov2 + cov2.T) / 2   # symmetric up to rounding already
    w, v = np.linalg.eigh(cov1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T        # C1^½
    middle = root1 @ cov2 @ root1
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    fid = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * tr_covmean
    return float(max(fid, 0.0))     # ≥ 0 in exact arithmetic; rounding can leave −1e-12


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], x.shape[1])


def frechet_distance(x, y) -> float:
    """Fréchet distance (FID on Inception features) between two feature sets (N×D and M×D).

    Fits a Gaussian to each set (mean, unbiased covariance, in float64) and compares them with
    `frechet_from_stats`. 0 for identical sets; grows with the difference. It is biased upwards
    for small sets, so compare values computed on sets of the same sizes only.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 4))
    >>> round(frechet_distance(x, x), 6)
    0.0
    >>> round(frechet_distance(x, x + 1), 6)    # a shift by 1 in 4 dimensions: ||mu1 − mu2||² = 4
    4.0
    """
    x, y = _float64(x, "x", 2), _float64(y, "y", 2)
    _same_width(x=x, y=y)
    return frechet_from_stats(*_stats(x), *_stats(y))


# ---------------------------------------------------------------------------------------------
# Kernel inception distance

def _mmd2(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD² of two samples of equal size m with the kernel (a·b/d + 1)³, as in
    torch-fidelity: k(x, x') terms without the diagonal over m(m − 1), k(x, y) terms over m²."""
    m, d = a.shape

    def kernel(u, v):
        k = u @ v.T
        k /= d
        k += 1
        return k * k * k        # 5× faster than ** 3, which goes through pow()

    k_aa, k_bb, k_ab = kernel(a, a), kernel(b, b), kernel(a, b)
    within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    return float(within - 2 * k_ab.sum() / m**2)


def kid(x, y, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Kernel inception distance: (mean, standard deviation) of the unbiased MMD² over subsets.

    Each of `subsets` draws takes `subset_size` rows of each set without replacement (capped
    at the smaller set) and computes the unbiased MMD² with the polynomial kernel
    k(a, b) = (a·b/d + 1)³ (Bińkowski et al. 2018, "Demystifying MMD GANs"). The spread is the
    standard deviation of the subset values (ddof 0, as torch-fidelity and torchmetrics report
    it): the standard error of one `subset_size` estimate. Unbiased means that two samples of
    one distribution give values around 0, sometimes slightly negative.

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    >>> mean, std = kid(x, y, subsets=20, subset_size=100)
    >>> abs(mean) < 3 * std
    True
    >>> kid(x, y + 1, subsets=20, subset_size=100)[0] > 0.5
    True
    """
    x, y = _float64(x, "x", 2), _float64(y, "y", 2)
    _same_width(x=x, y=y)
    if subsets < 1 or subset_size < 2:
        raise DataError(f"KID needs subsets ≥ 1 and subset_size ≥ 2 (got {subsets}, {subset_size}).")
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    scores = [_mmd2(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(scores)), float(np.std(scores))


# ---------------------------------------------------------------------------------------------
# nearest neighbours, in blocks

def _knn(queries: torch.Tensor, refs: torch.Tensor, k: int, *, exclude_self: bool = False,
         chunk: int = CHUNK) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest rows of `refs` for every row of `queries`: distances and indices, N×k,
    nearest first. `exclude_self` (queries is refs) leaves each row's own match out."""
    n, m = len(queries), len(refs)
    out_d = torch.empty(n, k, device=queries.device)
    out_i = torch.empty(n, k, dtype=torch.long, device=queries.device)
    for i in range(0, n, chunk):
        q = queries[i:i + chunk]
        best_d = torch.full((len(q), 0), float("inf"), device=q.device)
        best_i = torch.empty((len(q), 0), dtype=torch.long, device=q.device)
        for j in range(0, m, chunk):
            dist = torch.cdist(q, refs[j:j + chunk])                              # c × c'
            if exclude_self and j < i + len(q) and i < j + dist.shape[1]:         # blocks that overlap
                lo, hi = max(i, j), min(i + len(q), j + dist.shape[1])
                own = torch.arange(lo, hi, device=q.device)
                dist[own - i, own - j] = float("inf")
            # only this block's k best can enter the running best: select them before merging
            kk = min(k, dist.shape[1])
            block_d, block_i = (dist.min(dim=1, keepdim=True) if kk == 1
                                else torch.topk(dist, kk, dim=1, largest=False))
            cand_d = torch.cat([best_d, block_d], dim=1)
            cand_i = torch.cat([best_i, block_i + j], dim=1)
            best_d, pos = torch.topk(cand_d, min(k, cand_d.shape[1]), dim=1, largest=False)
            best_i = torch.gather(cand_i, 1, pos)
        out_d[i:i + chunk], out_i[i:i + chunk] = best_d, best_i
    return out_d, out_i


def _radii(x: torch.Tensor, k: int, name: str) -> torch.Tensor:
    """Distance from every row to its k-th nearest other row of the same set."""
    if not 1 <= k < len(x):
        raise DataError(f"{name} has {len(x)} samples; k = {k} nearest neighbours needs at least "
                        f"{k + 1} (and k ≥ 1). Use more samples or a smaller k.")
    return _knn(x, x, k, exclude_self=True)[0][:, k - 1]


def nearest(queries, references, *, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the index of its nearest reference row and their Euclidean distance.

    Distances are computed in blocks of `chunk` × `chunk` rows, so large sets fit in memory.

    >>> index, distance = nearest([[0., 0.], [5., 5.]], [[4., 5.], [0., 1.], [9., 9.]])
    >>> index.tolist(), distance.tolist()
    ([1, 0], [1.0, 1.0])
    """
    q, r = _tensors(queries=queries, references=references)
    if len(q) == 0 or len(r) == 0:
        raise DataError("nearest needs at least one query and one reference row.")
    dist, index = _knn(q, r, 1, chunk=max(1, int(chunk)))
    return index[:, 0].cpu().numpy(), dist[:, 0].double().cpu().numpy()


# ---------------------------------------------------------------------------------------------
# precision, recall, density, coverage

def _prdc(real, fake, k: int, chunk: int = CHUNK) -> dict[str, float]:
    """All four manifold metrics in one pass over the real × fake distance blocks."""
    real, fake = _tensors(real=real, fake=fake)
    r_real, r_fake = _radii(real, k, "real"), _radii(fake, k, "fake")
    fake_in_real = torch.zeros(len(fake), dtype=torch.bool, device=real.device)   # precision
    real_in_fake = torch.zeros(len(real), dtype=torch.bool, device=real.device)   # recall
    balls_per_fake = torch.zeros(len(fake), device=real.device)                   # density
    real_nearest_fake = torch.full((len(real),), float("inf"), device=real.device)  # coverage
    for i in range(0, len(real), chunk):
        for j in range(0, len(fake), chunk):
            dist = torch.cdist(real[i:i + chunk], fake[j:j + chunk])             # real × fake
            r_i, r_j = r_real[i:i + chunk, None], r_fake[None, j:j + chunk]
            fake_in_real[j:j + chunk] |= (dist <= r_i).any(dim=0)
            real_in_fake[i:i + chunk] |= (dist <= r_j).any(dim=1)
            balls_per_fake[j:j + chunk] += (dist < r_i).sum(dim=0)
            real_nearest_fake[i:i + chunk] = torch.minimum(real_nearest_fake[i:i + chunk],
                                                           dist.min(dim=1).values)
    return {"precision": fake_in_real.float().mean().item(),
            "recall": real_in_fake.float().mean().item(),
            "density": (balls_per_fake.mean() / k).item(),
            "coverage": (real_nearest_fake < r_real).float().mean().item()}


def precision_recall(real, fake, *, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), both in [0, 1].

    Each sample's ball reaches to its k-th nearest neighbour in its own set. Precision: the share
    of fake samples inside some real sample's ball (are the pictures realistic?). Recall: the
    share of real samples inside some fake sample's ball (is all the variety there?). A boundary
    counts as inside, as in the paper's code.

    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(500, 2))
    >>> p, r = precision_recall(real, real[:5].repeat(100, axis=0) + 0.01 * rng.normal(size=(500, 2)))
    >>> p > 0.9 and r < 0.2          # mode collapse: realistic but no variety
    True
    """
    out = _prdc(real, fake, k)
    return out["precision"], out["recall"]


def density_coverage(real, fake, *, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity metrics").

    Balls reach to each real sample's k-th nearest real neighbour. Density: the mean number of
    real balls that hold a fake sample, divided by k (≈ 1 when fake matches real; above 1 when
    the fakes crowd where the real data is densest). Coverage: the share of real balls that hold
    at least one fake sample (≈ 1 − 2⁻ᵏ for equal-size samples of one distribution). Strict
    inequalities, as in the paper's code.

    >>> rng = np.random.default_rng(0)
    >>> density, coverage = density_coverage(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))
    >>> 0.8 < density < 1.2 and coverage > 0.9
    True
    """
    out = _prdc(real, fake, k)
    return out["density"], out["coverage"]


# ---------------------------------------------------------------------------------------------
# memorisation, classes, reference

def copies(fake, train, *, reference=None, ratio: float = 0.5) -> dict:
    """Memorisation check: which samples are near-copies of a training picture.

    The rule: a sample is a near-copy when the distance to its nearest training picture is below
    `ratio` × the median nearest-neighbour distance among the real pictures themselves, i.e.
    closer to the training set than real pictures usually are to each other. That median is
    computed within `reference` when given (a few thousand real pictures keep it fast for a
    large training set), else within `train`, each picture's own match left out. Works on
    features and on pixels alike (N×C×H×W arrays are flattened).

    Returns {"share": share of near-copies, "index": nearest training row per sample (int
    array), "distance": that distance (float array), "threshold": the distance below which a
    sample counts as a copy}.

    >>> train = np.arange(20.0).reshape(10, 2)            # neighbours √8 ≈ 2.83 apart
    >>> out = copies(np.array([[2.0, 3.0], [2.0, 4.5], [30.0, 30.0]]), train)
    >>> out["share"], out["index"].tolist(), round(out["threshold"], 3)
    (0.3333333333333333, [1, 1, 9], 1.414)
    """
    if not ratio > 0:
        raise DataError(f"ratio must be positive (got {ratio}).")
    if reference is None:
        fake, train = _tensors(fake=fake, train=train)
        ref, name = train, "train"
    else:
        fake, train, ref = _tensors(fake=fake, train=train, reference=reference)
        name = "reference"
    if len(fake) == 0:
        raise DataError("copies needs at least one sample.")
    if len(ref) < 2:
        raise DataError(f"{name} needs at least 2 pictures to measure how far apart real pictures are.")
    typical = float(np.median(_knn(ref, ref, 1, exclude_self=True)[0][:, 0].cpu().numpy()))
    index, distance = nearest(fake, train)
    threshold = ratio * typical
    return {"share": float(np.mean(distance < threshold)), "index": index, "distance": distance,
            "threshold": float(threshold)}


def class_coverage(labels, num_classes: int) -> dict:
    """Share of samples per class and how many classes are really there (to catch mode collapse).

    `labels` are the classes a classifier gives the generated samples. A class counts as covered
    when it has at least half its fair share of the samples, 1 / (2·num_classes).
    Returns {"share": list of num_classes floats, "covered": number of covered classes}.

    >>> class_coverage([0, 0, 1, 2, 2, 2], 4)
    {'share': [0.3333333333333333, 0.16666666666666666, 0.5, 0.0], 'covered': 3}
    """
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels).reshape(-1)
    if num_classes < 1:
        raise DataError(f"num_classes must be at least 1 (got {num_classes}).")
    if len(labels) == 0:
        raise DataError("class_coverage needs at least one label.")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= num_classes:
        raise DataError(f"labels must be whole numbers from 0 to {num_classes - 1} "
                        f"(got values from {labels.min()} to {labels.max()}).")
    share = np.bincount(labels, minlength=num_classes) / len(labels)
    return {"share": share.tolist(), "covered": int((share >= 1 / (2 * num_classes)).sum())}


def real_reference(features, *, seed: int = 0, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random sets of `size` real features each (default and at most N // 2), for
    the real-vs-real reference: FID(set b, set a) is what a perfect generator would score with
    that many samples.

    >>> a, b = real_reference(np.arange(10.0).reshape(5, 2))
    >>> a.shape, b.shape, set(a[:, 0]) & set(b[:, 0])
    ((2, 2), (2, 2), set())
    """
    x = _rows(features, "features")
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x
    if len(x) < 4:
        raise DataError(f"features has {len(x)} rows; two halves need at least 4.")
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2 if size is None else max(2, min(int(size), len(x) // 2))
    return x[order[:half]], x[order[half:2 * half]]


def _subset(x, size: int, seed: int = 0):
    """`size` random rows of `x` (all of them when it has no more)."""
    if len(x) <= size:
        return x
    pick = np.sort(np.random.default_rng(seed).permutation(len(x))[:size])
    return x[torch.as_tensor(pick)] if isinstance(x, torch.Tensor) else np.asarray(x)[pick]


def matched_fid(fake, real, size: int, *, seed: int = 0, repeats: int = 4) -> float:
    """FID of `fake` against `real` with `size` samples: the mean over up to `repeats` disjoint
    random subsets of that size (all of `fake` when it has no more rows).

    FID is biased upwards, the more so the fewer samples (Chong & Forsyth 2020), so a real-vs-real
    reference from two halves of a few hundred pictures is only comparable with samples scored at
    the same size: 2,000 samples against 180 real pictures score lower than 180 other real
    pictures would, and a perfect generator would look better than real data.

    >>> rng = np.random.default_rng(0)
    >>> real, fake = rng.normal(size=(200, 4)), rng.normal(size=(2000, 4))
    >>> matched_fid(fake, real, 200) > frechet_distance(fake, real)
    True
    """
    fake = _float64(fake, "fake", 2)
    size = int(size)
    if size < 2 or len(fake) <= size:
        return frechet_distance(fake, real)
    order = np.random.default_rng(seed).permutation(len(fake))
    parts = [order[i * size:(i + 1) * size] for i in range(min(repeats, len(fake) // size))]
    return float(np.mean([frechet_distance(fake[p], real) for p in parts]))


def report(real_a, real_b, fake, *, train=None, k: int = 3, seed: int = 0) -> dict:
    """Every metric at once, as plain floats (ready for JSON).

    `real_a` and `real_b` are two disjoint sets of real features (`real_reference`), `fake` the
    generated ones, `train` (optional) the training pictures' features for the copy check.
    Keys: "fid" (fake vs real_a), "fid_real" (real_b vs real_a: the score of a perfect generator
    with as many samples as real_b), "fid_matched" (`matched_fid`: fake at real_b's size, the
    number to set beside fid_real, since FID's bias grows as samples shrink), "kid", "kid_std", "precision", "recall",
    "density", "coverage" (against real_a with k nearest neighbours, on as many samples as real_a
    has: the k-th neighbour radii shrink as a set grows, so unequal sizes bias them), and "copies" (the
    share of near-copies of `train`, see `copies`) when `train` is given.

    >>> rng = np.random.default_rng(0)
    >>> real_a, real_b = real_reference(rng.normal(size=(400, 4)))
    >>> out = report(real_a, real_b, rng.normal(size=(200, 4)) + 1)
    >>> sorted(out), out["fid_matched"] > out["fid_real"]
    (['coverage', 'density', 'fid', 'fid_matched', 'fid_real', 'kid', 'kid_std', 'precision', 'recall'], True)
    """
    kid_mean, kid_std = kid(fake, real_a, seed=seed)
    matched = _subset(fake, len(_rows(real_a, "real_a")), seed)
    out = {"fid": frechet_distance(fake, real_a), "fid_real": frechet_distance(real_b, real_a),
           "fid_matched": matched_fid(fake, real_a, len(_rows(real_b, "real_b")), seed=seed),
           "kid": kid_mean, "kid_std": kid_std, **_prdc(real_a, matched, k)}
    if train is not None:
        out["copies"] = copies(fake, train)["share"]
    return {key: float(value) for key, value in out.items()}
