"""How good is a trained run? Its samples compared with real pictures, in one call.

    from genlib.evaluate import evaluate_run, summary_lines
    result = evaluate_run("runs/2026-11-28T150102-gan-digits", n=2000, seed=0)
    result["fid"], result["fid_real"]        # 12.3 and the real-vs-real reference, 2.1
    print("\\n".join(summary_lines(result)))

What happens:

1. The run (a folder, or a bundle .zip) is opened, and its data found: the built-in dataset its
   card names (loaded the way `genlib.data.builtin.data_for_run` loads it), or the data given.
2. The pictures are split once, with a fixed seed (`genlib.features.split_indices`): the domain
   feature network learns from the smaller side (20 %; MNIST's 10,000 give 2,000), and the larger
   side (80 %), which that network never saw, is both the real side of the comparison and the
   training side of the copy check. A network reads pictures it learned from differently from new
   ones, and a generator's samples are new to it, so the real side must be new to it too.
3. `n` samples are drawn with `seed` (a conditional model draws the classes in turn), and samples,
   real pictures and training pictures go through one feature space (`genlib.features`: the
   domain network genlib trains on this data, or Inception-v3 when asked and present).
4. `genlib.metrics.report` gives FID (with the real-vs-real FID of two disjoint sets of the real
   side, each as large as the samples, at most half of it, as its floor), KID, precision, recall, density and coverage; `copies` gives the share of samples
   that are near-copies of a training picture, in features and in pixels; the domain classifier
   reads which classes the samples show; a VAE's importance-weighted −log p(x) in nats and a
   PixelCNN's bits per dimension are measured on the smaller side (unseen by the model when it
   trained on the larger side only, as bench/quality.py does).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import metrics
from .bundle import load_bundle
from .data import load_dataset
from .data.types import ImageData
from .device import resolve_device
from .errors import GenlibError
from .features import (HELD_OUT, SPLIT_SEED, Classifier, Extractor, domain_extractor, inception_extractor,
                       split_indices)
from .models.base import class_labels
from .data.builtin import data_for_run
from .runs import Run, load_run
from .sample import sample_images

__all__ = ["evaluate_run", "compare", "open_run", "find_data", "draw_samples", "summary_lines",
           "MIN_PICTURES", "NLL_MAX_IMAGES", "NLL_K"]

MIN_PICTURES = 100       # fewer real pictures give scores that mean nothing
MIN_SAMPLES = 10
NLL_MAX_IMAGES = 1000    # a VAE's −log p(x) is averaged over at most this many real pictures …
NLL_K = 64               # … with this many importance samples each (Burda et al. 2016)
COPY_REFERENCE = 10_000  # training pictures the copy threshold is measured among, at most
NEAREST = 16             # nearest sample–training pairs kept for the app to show
# A near-copy is closer to some training picture than COPY_RATIO × the median distance between
# training pictures and their nearest neighbour, in the domain features AND in pixels. Measured on
# the real side (new real pictures): with 0.5 in features alone, 9.9 % of new MNIST digits were
# "copies" (7.4 % in pixels; the many similar ones); with 0.25 in both, 0.15 % (digits: 0 %).
# `copies_real` reports that floor with every result.
COPY_RATIO = 0.25
COPY_RULE = (f"closer to a training picture than {COPY_RATIO:g} × the usual distance between training "
             f"pictures and their nearest neighbour, in the feature network's view and pixel by pixel")


# ---- finding what to evaluate -----------------------------------------------------------------
def open_run(source) -> Run:
    """A `Run` from a run folder, a bundle file (.zip) or an already loaded Run."""
    if isinstance(source, Run):
        return source
    path = Path(source)
    if path.is_file() or (path.suffix.lower() == ".zip" and not path.is_dir()):
        return load_bundle(path)
    return load_run(path)


def find_data(run: Run, data=None) -> ImageData:
    """The pictures to compare `run` with: `data` itself (ImageData), `data` loaded as a built-in
    name or a path at the run's image size and colour, or (None) the built-in dataset its card names."""
    c, side, _ = run.model.image_shape
    if isinstance(data, (str, Path)):
        data = load_dataset(str(data) if isinstance(data, str) else data, image_size=side,
                            color="gray" if c == 1 else "rgb")
    elif data is None:
        data = data_for_run(run.card, builtin=lambda name, **kw: load_dataset(name, **kw))
        if data is None:
            saved = run.card.get("data") or {}
            raise GenlibError(
                f"Cannot find the pictures this run was trained on (“{saved.get('name', 'unknown')}”"
                + (f", {saved['count']:,} images" if isinstance(saved.get("count"), int) else "")
                + "): only built-in datasets are found by themselves. Say which data to compare it "
                  "with: --data FILE_OR_FOLDER (or data=… in Python).")
    if tuple(data.shape) != tuple(run.model.image_shape):
        want = "×".join(map(str, run.model.image_shape))
        raise GenlibError(f"This run draws {want} pictures (channels×height×width) but the data is "
                          f"{'×'.join(map(str, data.shape))}. Load the data at the run's size "
                          f"(image_size={side}, color={'gray' if c == 1 else 'rgb'}).")
    if len(data) < MIN_PICTURES:
        raise GenlibError(f"Only {len(data):,} pictures: too few to measure anything. Evaluation needs "
                          f"at least {MIN_PICTURES} (a fifth of them become the real side).")
    return data


def _extractor(features, data: ImageData, cache_dir, device) -> Extractor:
    if features in (None, "domain"):
        return domain_extractor(data, cache_dir=cache_dir, device=str(device))
    if features == "inception":
        found = inception_extractor(device)
        if found is None:
            raise GenlibError("Inception-v3 needs torchvision and its pretrained weights in the torch hub "
                              "cache, and this machine lacks them (genlib never downloads them). Use the "
                              "domain features (the default).")
        return found
    if isinstance(features, Extractor):
        return features
    raise GenlibError(f"features must be 'domain', 'inception' or an Extractor (got {features!r}).")


# ---- the comparison -----------------------------------------------------------------------------
def compare(fake: torch.Tensor, data: ImageData, *, features="domain", seed: int = 0, k: int = 3,
            cache_dir=None, device="cpu", drawn: torch.Tensor | None = None) -> dict:
    """Scores of any pictures `fake` (N×C×H×W in [-1, 1]) against `data`: the metrics.report keys,
    copies (in features and in pixels), the nearest pairs, and which classes they show.

    `drawn`: the classes the pictures were drawn as (a conditional model), to score how often the
    domain classifier agrees. Keys are plain JSON values.
    """
    t0 = time.perf_counter()
    extractor = _extractor(features, data, cache_dir, device)
    t1 = time.perf_counter()
    # the larger side, which the domain network never saw, is the real side and the copy check's
    # training pictures; the smaller side (what that network learned from) gives the copy floor
    train_idx, held_idx = split_indices(len(data), share=HELD_OUT, seed=SPLIT_SEED)
    train, other = data.images[train_idx], data.images[held_idx]
    f_fake, f_train, f_other = extractor(fake), extractor(train), extractor(other)
    f_real = f_train
    t2 = time.perf_counter()
    real_a, real_b = metrics.real_reference(f_real, seed=seed, size=min(len(fake), len(f_real) // 2))
    out = metrics.report(real_a, real_b, f_fake, k=k, seed=seed)
    # how far apart training pictures usually are sets the copy threshold: measured among them all,
    # or among a seeded sample of COPY_REFERENCE of them when there are more (it stays fast)
    ref = None if len(train) <= COPY_REFERENCE else \
        torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:COPY_REFERENCE]
    f_ref = None if ref is None else f_train[ref]
    p_train = train.flatten(1)
    p_ref = None if ref is None else p_train[ref]
    near = metrics.copies(f_fake, f_train, reference=f_ref, ratio=COPY_RATIO)
    pixels = metrics.copies(fake.flatten(1).float(), p_train, reference=p_ref, ratio=COPY_RATIO)
    both = _both(near, pixels)
    # the same rule on new real pictures (the real side, never trained on by the feature network):
    # how often a genuine new picture would be called a copy, the floor to read `copies` against
    real_both = _both(metrics.copies(f_other, f_train, reference=f_ref, ratio=COPY_RATIO),
                      metrics.copies(other.flatten(1), p_train, reference=p_ref, ratio=COPY_RATIO))
    out.update(copies=float(both.mean()), copies_features=_share(near), copies_pixels=_share(pixels),
               copies_real=float(real_both.mean()), copy_threshold=near.get("threshold"),
               copy_rule=COPY_RULE, nearest=_nearest(near, train_idx, copy=both),
               nearest_pixels=_nearest(pixels, train_idx, copy=both))
    if data.labels is not None and data.num_classes >= 2:
        classifier = extractor if isinstance(extractor, Classifier) \
            else domain_extractor(data, cache_dir=cache_dir, device=str(device))
        guess = classifier.classify(fake)
        out["class_coverage"] = metrics.class_coverage(guess, data.num_classes)
        out["class_names"] = list(data.class_names)
        if drawn is not None:
            out["class_agreement"] = float((guess == drawn.cpu()).float().mean())
    card = getattr(extractor, "card", {})
    out.update(extractor=extractor.name,
               extractor_card={k_: card[k_] for k_ in ("kind", "held_out_accuracy", "held_out_explained",
                                                       "train_count", "held_out_count", "seconds") if k_ in card},
               real_count=2 * len(real_a), train_count=len(train_idx),
               timings={"features_network": round(t1 - t0, 2), "features": round(t2 - t1, 2),
                        "metrics": round(time.perf_counter() - t2, 2)})
    return _plain(out)


def _share(result) -> float:
    return float(result["share"] if isinstance(result, dict) else result)


def _both(features: dict, pixels: dict) -> np.ndarray:
    """Which pictures are near-copies by both checks (see COPY_RULE)."""
    below = lambda r: np.asarray(_plain(r["distance"]), dtype=float).reshape(-1) < float(r["threshold"])
    return below(features) & below(pixels)


def _nearest(result: dict, train_idx: torch.Tensor, keep: int = NEAREST, copy=None) -> list[dict]:
    """The `keep` closest sample–training pairs: sample index, index in the data, distance, copy?"""
    dist = np.asarray(_plain(result["distance"]), dtype=float).reshape(-1)
    index = np.asarray(_plain(result["index"]), dtype=int).reshape(-1)
    order = np.argsort(dist, kind="stable")[:keep]
    return [{"sample": int(i), "image": int(train_idx[index[i]]), "distance": float(dist[i]),
             "copy": bool(copy[i]) if copy is not None else False} for i in order]


def _plain(obj: Any):
    """Numpy and torch values → plain Python (JSON-ready)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if torch.is_tensor(obj):
        return _plain(obj.detach().cpu().numpy())
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# ---- a whole run ------------------------------------------------------------------------------------
def evaluate_run(run_dir_or_bundle, *, data=None, n: int = 2000, seed: int = 0, device: str = "auto",
                 features="domain", cache_dir=None, samples: torch.Tensor | None = None) -> dict:
    """Draw `n` samples from a run (folder, bundle or `Run`) and score them against real pictures.

    Returns a JSON-ready dict: fid, fid_real, fid_matched (fid at fid_real's sample size), kid, kid_std, precision, recall, density, coverage
    (`genlib.metrics.report`), copies (share of samples that are near-copies of a training
    picture, COPY_RULE; copies_features and copies_pixels by one check each; copies_real the share
    of new real pictures the rule flags, its floor), nearest (the closest pairs: sample index for `sample_images(model, n,
    seed)` with the same classes, index in the data), class_coverage (labelled data), nll (VAE,
    nats per image) or bpd (PixelCNN), extractor, held_out, n, seed, seconds.
    `samples`: the `n` pictures `draw_samples(model, n, seed)` gives, when they are drawn already
    (genlib.scorecard keeps them to show the nearest pairs).

        >>> result = evaluate_run("runs/my-gan", n=500)                    # doctest: +SKIP
        >>> result["fid"] > result["fid_real"]                             # doctest: +SKIP
        True
    """
    start = time.perf_counter()
    check_sample_count(n)
    run = open_run(run_dir_or_bundle)
    data = find_data(run, data)
    device = resolve_device(device)
    model = run.model.to(device).eval()
    drawn = class_labels(None, int(n), model.n_cond)        # classes in turn, or None
    t0 = time.perf_counter()
    fake = draw_samples(model, int(n), seed)[0] if samples is None else samples
    assert len(fake) == n, "samples must be the n pictures draw_samples(model, n, seed) gives"
    sampling = time.perf_counter() - t0
    result = compare(fake, data, features=features, seed=seed, cache_dir=cache_dir, device=device,
                     drawn=drawn)
    result["timings"]["sampling"] = round(sampling, 2)
    t0 = time.perf_counter()
    result.update(_likelihood(model, data))
    result["timings"]["likelihood"] = round(time.perf_counter() - t0, 2)
    result.update(run=run.display_name, family=run.family, data=data.name, n=int(n), seed=int(seed),
                  device=str(device), held_out=_held_out_words(run, data, result),
                  seconds=round(time.perf_counter() - start, 2))
    return result


def check_sample_count(n) -> None:
    """Raise GenlibError unless `n` is a whole number of samples, enough to score."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_SAMPLES:
        raise GenlibError(f"Ask for at least {MIN_SAMPLES} samples (got {n!r}); 1,000 or more give "
                          f"steady scores.")


def draw_samples(model, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The `n` samples `evaluate_run` scores, and the classes they were drawn as (a conditional
    model draws the classes in turn; None otherwise)."""
    drawn = class_labels(None, int(n), model.n_cond)
    return sample_images(model, int(n), seed=seed, labels=drawn), drawn


def _likelihood(model, data: ImageData) -> dict:
    """A VAE's importance-weighted −log p(x) (nats per image) or a PixelCNN's bits per dimension,
    on the real side of the split; {} for a GAN."""
    kind = model.capabilities.likelihood
    if kind is None:
        return {}
    _, held_idx = split_indices(len(data), share=HELD_OUT, seed=SPLIT_SEED)
    if kind == "nll":
        held_idx = held_idx[:NLL_MAX_IMAGES]
    x = data.images[held_idx]
    labels = data.labels[held_idx] if model.n_cond and data.labels is not None else None
    if kind == "nll":
        value = model.nll(x, labels, k=NLL_K, seed=0)
        return {"nll": float(value.mean()), "nll_images": len(x), "nll_k": NLL_K}
    return {"bpd": float(model.nll(x, labels).mean()), "bpd_images": len(x)}


def _held_out_words(run: Run, data: ImageData, result: dict) -> str:
    saved = (run.card.get("data") or {}).get("fingerprint")
    h, t = result["real_count"], result["train_count"]
    words = (f"{t:,} of the {len(data):,} {data.name} pictures (chosen with seed {SPLIT_SEED}) are the real side "
             f"of the comparison and of the copy check: the comparing network learned from the other "
             f"{len(data) - t:,} only, so to it they are as new as the samples. Two sets of {h // 2:,} of them "
             f"give the real-vs-real reference. ")
    if saved is None:
        return words + "The run's card does not say which pictures it trained on."
    if saved == data.fingerprint():
        return words + f"The run trained on all {len(data):,}."
    return words + "The run was trained on other pictures than these, so copies of them mean little."


# ---- in words ---------------------------------------------------------------------------------------
def summary_lines(result: dict) -> list[str]:
    """The scores of `evaluate_run` as a table in plain words, one line each (for the command line)."""
    pct = lambda v: f"{100 * v:.1f} %"
    rows = [("FID (lower is better)",
             f"{result['fid']:.2f}; at the reference's size {result.get('fid_matched', result['fid']):.2f} "
             f"(real vs real: {result['fid_real']:.2f})",
             "distance between the samples and real pictures; compare the second number with real vs real"),
            ("KID (lower is better)", f"{result['kid']:.3g} ± {result['kid_std']:.2g}",
             "like FID, without its bias for small samples (about 0 for real pictures)"),
            ("Precision", pct(result["precision"]), "samples that look like some real picture"),
            ("Recall", pct(result["recall"]), "real pictures the samples come near: variety"),
            ("Density", f"{result['density']:.2f}", "about 1 when samples sit where real pictures crowd"),
            ("Coverage", pct(result["coverage"]), "real pictures with a sample close by"),
            ("Copies", f"{pct(result['copies'])} (new real pictures: {pct(result.get('copies_real', 0))})",
             "samples nearly identical to a training picture, in features and in pixels")]
    cov = result.get("class_coverage")
    if isinstance(cov, dict) and "covered" in cov:
        covered = cov["covered"]
        shown = f"{covered:.0%}" if isinstance(covered, float) and covered <= 1 else f"{covered}"
        rows.append(("Classes drawn", f"{shown} of {len(result.get('class_names', [])) or '?'}",
                     "classes the domain classifier recognises among the samples"))
    if "class_agreement" in result:
        rows.append(("Class agreement", pct(result["class_agreement"]),
                     "samples the classifier reads as the class they were drawn as"))
    if "nll" in result:
        rows.append(("−log p(x)", f"{result['nll']:.1f} nats per picture",
                     f"importance-weighted (k={result['nll_k']}) on {result['nll_images']:,} real pictures"))
    if "bpd" in result:
        rows.append(("Bits per dimension", f"{result['bpd']:.3f}", "on the real side (lower is better)"))
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    card = result.get("extractor_card", {})
    how = f"; held-out accuracy {card['held_out_accuracy']:.1%}" if "held_out_accuracy" in card else ""
    lines = [f"{result['run']} ({result['family']}): {result['n']:,} samples, seed {result['seed']}, "
             f"scored in {result['seconds']:.1f} s on {result['device']}.",
             f"Features: {result['extractor']}{how}.",
             f"Real pictures: {result['held_out']}", ""]
    lines += [f"  {name.ljust(width)}  {value.ljust(vwidth)}  {meaning}" for name, value, meaning in rows]
    return lines
