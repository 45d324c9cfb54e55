"""Quality scores a page can show without computing them again, and a compact one after training.

    from genlib.scorecard import score_run, saved_scores, card_rows, verdict
    result = score_run("runs/2026-11-28T150102-gan-digits", n=2000)   # writes the two files below
    saved_scores("runs/2026-11-28T150102-gan-digits")["fid"]          # later: read, not recomputed
    verdict(result)             # 'Close to your pictures: their distance from real pictures is …'
    for what, value, meaning in card_rows(result): ...

A scored run folder holds two more files:

    scores.json   `genlib.evaluate.evaluate_run`'s result, plus "compact" (the quick score at the
                  end of a training), "scored_at" and "steps" (the run's steps when it was scored:
                  training it further makes the scores stale, see `stale`)
    nearest.png   the closest sample–training pairs, each sample above its nearest training picture

nearest.png shows the person's own pictures, so bundles and the gallery never copy it: they copy an
explicit list of files (genlib.bundle.MEMBERS, genlib.gallery.COPIED), and this is not on it.

Every image training ends with a compact score (`COMPACT_N` samples) unless it is switched off
(`train_model(score=False)`, or GENLIB_SCORE=0). The domain feature network it compares in is
trained once per dataset and kept in `<runs folder>/.features` (genlib.features.cache_folder): a
hosted visitor's runs folder is their own, so their pictures' network stays theirs.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from pathlib import Path

import torch

from . import evaluate
from .device import resolve_device
from .errors import RunError
from .features import cache_folder, domain_extractor
from .runs import _atomic_write, _write_json, is_being_written, load_run, read_card
from .sample import grid_png
from .settings import scoring_on

__all__ = ["SCORES", "NEAREST", "COMPACT_N", "COMPACT_N_SLOW", "compact_n", "score_run", "score_job", "saved_scores", "nearest_strip",
           "stale", "card_rows", "verdict", "compact_words", "score_after_training"]

log = logging.getLogger(__name__)

SCORES = "scores.json"        # in a run folder: the saved result
NEAREST = "nearest.png"       # in a run folder: the nearest sample–training pairs (private: never shared)
COMPACT_N = 500               # samples of the score at the end of a training (seconds, not minutes)
COMPACT_N_SLOW = 200          # … of a model that draws pixel by pixel (PixelCNN: 500 would add ~40 s)
STRIP_PAIRS = 8               # pairs nearest.png shows
PHASES = 3                    # feature network, samples, scores: the job's steps
COPY_WARNING = 0.01           # a larger share of near-copies earns a warning
# distance ratio (samples vs real pictures, over real vs real) → words; the last one has advice
LEVELS = ((1.25, "Very close to your pictures", ""),
          (2.0, "Close to your pictures", ""),
          (4.0, "Recognisable but clearly different from your pictures", ""),
          (math.inf, "Far from your pictures yet", ": train longer or choose a larger preset"))


# ---- scoring and saving --------------------------------------------------------------------------
def score_run(run_dir, data=None, *, n: int = 2000, seed: int = 0, device: str = "auto", cache_dir=None,
              compact: bool = False, callback=None, stop_event=None) -> dict | None:
    """Score the run in `run_dir` (`genlib.evaluate.evaluate_run`) and save the result as
    scores.json and the nearest pairs as nearest.png beside it. `data`: the pictures it was trained
    on (ImageData), else the built-in dataset its card names. `callback.progress` hears the three
    phases; a set `stop_event` stops between them (then nothing is saved and None is returned).

        >>> result = score_run("runs/my-gan", n=500)                       # doctest: +SKIP
        >>> saved_scores("runs/my-gan")["fid"] == result["fid"]          # doctest: +SKIP
        True
    """
    start = time.perf_counter()
    run_dir = Path(run_dir)
    if is_being_written(run_dir):
        raise RunError("This run is being trained right now; score it when that training has "
                       "stopped or finished.")
    evaluate.check_sample_count(n)
    run = load_run(run_dir)
    data = evaluate.find_data(run, data)
    device = str(resolve_device(device))
    steps = int(run.card.get("steps", run.config.get("step", 0)))
    _phase(callback, 1, "Preparing the feature network (trained once for these pictures)…")
    t0 = time.perf_counter()
    extractor = domain_extractor(data, cache_dir=cache_dir, device=device)
    network = time.perf_counter() - t0
    if stop_event is not None and stop_event.is_set():
        return None
    _phase(callback, 2, f"Drawing {n:,} samples…")
    t0 = time.perf_counter()
    fake, _ = evaluate.draw_samples(run.model.to(device).eval(), n, seed)
    sampling = time.perf_counter() - t0
    if stop_event is not None and stop_event.is_set():
        return None
    _phase(callback, 3, "Comparing the samples with your pictures…")
    result = evaluate.evaluate_run(run, data=data, n=n, seed=seed, device=device, features=extractor,
                                   samples=fake)
    result["timings"].update(features_network=round(network, 2), sampling=round(sampling, 2))
    result.update(compact=bool(compact), steps=steps, seconds=round(time.perf_counter() - start, 2),
                  scored_at=dt.datetime.now().isoformat(timespec="seconds"))
    strip = _strip(fake, data.images, result.get("nearest", []))
    if strip is not None:
        _atomic_write(run_dir / NEAREST, lambda p: p.write_bytes(strip))
    else:
        (run_dir / NEAREST).unlink(missing_ok=True)          # never an older run's pairs
    _write_json(run_dir / SCORES, result)                    # last: its presence means both are new
    return result


def score_job(run_dir, data, n, seed, cache_dir, callback, stop_event) -> dict | None:
    """`score_run` as a background job (picklable, so it runs in a worker process too):
    `REGISTRY.submit(owner, functools.partial(score_job, run_dir, data, n, seed, cache_dir),
    kind="evaluate")`. Its snapshot's step/total/message follow the three phases."""
    return score_run(run_dir, data, n=n, seed=seed, cache_dir=cache_dir, callback=callback,
                     stop_event=stop_event)


def score_after_training(run_dir, data, state, *, runs_root=None, device: str = "auto",
                         callbacks=(), stop_event=None) -> dict | None:
    """The compact score at the end of a training (`genlib.pipeline.train_model`): when switched on
    (GENLIB_SCORE), the training saved a checkpoint and there are enough pictures. A failure is
    logged and returns None: it never fails the training."""
    run_dir = Path(run_dir)
    if (not scoring_on() or state.status not in ("finished", "stopped")
            or not (run_dir / "model.safetensors").is_file()
            or getattr(data, "images", None) is None or len(data) < evaluate.MIN_PICTURES):
        return None
    for cb in callbacks:
        if hasattr(cb, "progress"):
            cb.progress(state.step, state.total_steps, message="Scoring the samples…")
    try:
        # a training that was asked to stop is scored anyway; one that finished stops scoring when asked
        result = score_run(run_dir, data, n=compact_n(load_run(run_dir).model), device=device,
                           cache_dir=cache_folder(runs_root),
                           compact=True, stop_event=stop_event if state.status == "finished" else None)
    except Exception:  # noqa: BLE001 — the run is saved and whole; only its score is missing
        log.warning("Scoring %s after training failed; the run is saved as it was.", run_dir,
                    exc_info=True)
        return None
    if result is not None:
        log.info("%s: %s", run_dir.name, compact_words(result))
    return result


def compact_n(model) -> int:
    """How many samples the score at the end of a training draws from `model`."""
    return COMPACT_N if model.capabilities.fast_sampling else COMPACT_N_SLOW


def _phase(callback, step: int, words: str) -> None:
    if callback is not None and hasattr(callback, "progress"):
        callback.progress(step, PHASES, message=words)


def _strip(fake: torch.Tensor, images: torch.Tensor, nearest: list) -> bytes | None:
    """The nearest pairs as one PNG: samples in the top row, each above its training picture."""
    pairs = nearest[:STRIP_PAIRS]
    if not pairs:
        return None
    top = fake[[p["sample"] for p in pairs]].float().cpu()
    bottom = images[[p["image"] for p in pairs]].float().cpu()
    return grid_png(torch.cat([top, bottom]), nrow=len(pairs), scale=max(1, 64 // fake.shape[-1]))


# ---- reading back -------------------------------------------------------------------------------
def saved_scores(run_dir) -> dict | None:
    """The result `score_run` saved in `run_dir`; None when there is none, or it is damaged.

        >>> saved_scores("runs/never-scored") is None
        True
    """
    if run_dir is None:
        return None
    try:
        result = json.loads((Path(run_dir) / SCORES).read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    ok = isinstance(result, dict) and all(isinstance(result.get(k), (int, float))
                                          for k in ("fid", "fid_real", "precision", "recall", "copies"))
    return result if ok else None


def nearest_strip(run_dir) -> bytes | None:
    """nearest.png's bytes (the nearest sample–training pairs), or None when there is none."""
    if run_dir is None:
        return None
    try:
        raw = (Path(run_dir) / NEAREST).read_bytes()
    except OSError:
        return None
    return raw if raw.startswith(b"\x89PNG") else None


def stale(result: dict, run_dir) -> bool:
    """True when the run trained further after `result` was scored (its card has more steps)."""
    try:
        steps = int(read_card(run_dir).get("steps", 0))
    except (RunError, TypeError, ValueError):
        return False
    return steps != int(result.get("steps", steps))


# ---- in words ------------------------------------------------------------------------------------
def card_rows(result: dict) -> list[tuple[str, str, str]]:
    """The scores as (what, value, meaning) in plain words, for people who do not program.

        >>> card_rows({"fid": 3.1, "fid_real": 2.2})[0]
        ('Distance from real pictures', '3.10 (real pictures: 2.20)', 'lower is better; two sets of real pictures, as many as the samples compared, score the number in brackets')
    """
    r, rows = result, []
    if _has(r, "fid", "fid_real"):
        fair = r.get("fid_matched", r["fid"])
        rows.append(("Distance from real pictures", f"{_num(fair)} (real pictures: {_num(r['fid_real'])})",
                     "lower is better; two sets of real pictures, as many as the samples compared, "
                     "score the number in brackets"))
    if _has(r, "kid", "kid_std"):
        rows.append(("Distance, fair to few samples", f"{r['kid']:.3g} ± {r['kid_std']:.2g}",
                     "lower is better; about 0 for real pictures, even with few samples"))
    if _has(r, "precision"):
        rows.append(("Look real", _pct(r["precision"]),
                     "samples that look like some real picture; higher is better"))
    if _has(r, "recall"):
        rows.append(("Variety", _pct(r["recall"]),
                     "real pictures the samples come near; higher is better"))
    if _has(r, "density"):
        rows.append(("Among the crowd", f"{r['density']:.2f}",
                     "about 1 when samples sit where real pictures crowd; far below 1: off to the side"))
    if _has(r, "coverage"):
        rows.append(("Real pictures matched", _pct(r["coverage"]),
                     "real pictures with a sample close by; higher is better"))
    if _has(r, "copies"):
        floor = f" (new real pictures: {_pct(r['copies_real'])})" if _has(r, "copies_real") else ""
        rows.append(("Near-copies of your pictures", _pct(r["copies"]) + floor,
                     "samples nearly identical to one of your training pictures; lower is better"))
    classes = _classes(r)
    if classes is not None:
        covered, total, _ = classes
        rows.append(("Classes drawn", f"{covered} of {total}",
                     "classes the feature network recognises among the samples"))
    if _has(r, "class_agreement"):
        rows.append(("Drawn as asked", _pct(r["class_agreement"]),
                     "samples recognised as the class they were drawn as"))
    if _has(r, "nll"):
        rows.append(("Likelihood of real pictures", f"{_num(r['nll'])} nats per picture",
                     "how unlikely the model finds real pictures; lower is better"))
    if _has(r, "bpd"):
        rows.append(("Likelihood of real pictures", f"{r['bpd']:.3f} bits per pixel value",
                     "how unlikely the model finds real pictures; lower is better"))
    if _has(r, "n"):
        rows.append(("Samples scored", f"{r['n']:,} samples",
                     "more samples give steadier numbers" + (" (a quick score)" if r.get("compact") else "")))
    return rows


def verdict(result: dict) -> str:
    """One plain judgement of `result` against its real-vs-real reference, with a warning about
    near-copies and a note about missing classes when they apply.

        >>> verdict({"fid": 3.0, "fid_real": 2.0, "copies": 0.0})
        'Close to your pictures: their distance from real pictures is 1.5× that between two sets of real pictures.'
    """
    ratio = _ratio(result)
    level, advice = _level(ratio)
    times = f"is {ratio:.1f}×" if math.isfinite(ratio) else "is far above"
    words = (f"{level}: their distance from real pictures {times} that between two sets of real pictures"
             + (f"; {advice.lstrip(': ')}." if advice else "."))
    copies = result.get("copies")
    if isinstance(copies, (int, float)) and copies > COPY_WARNING:
        words += (f" {_pct(copies)} of the samples are near-copies of your training pictures: the model "
                  f"may be memorising them, so look at them before you share its samples.")
    classes = _classes(result)
    if classes is not None and classes[0] < classes[1]:
        covered, total, missing = classes
        names = ", ".join(missing[:10]) + (", …" if len(missing) > 10 else "")
        words += (f" Only {covered} of {total} classes appear among the samples"
                  + (f" (rare or missing: {names})." if names else "."))
    return words


def compact_words(result: dict) -> str:
    """One short line for the end of a training.

        >>> compact_words({"fid": 3.2, "fid_real": 2.0, "copies": 0.0, "n": 500})
        'Quality: close to your pictures (distance 1.6× that of real pictures), no near-copies — from 500 samples.'
    """
    ratio = _ratio(result)
    level, _ = _level(ratio)
    parts = [f"Quality: {level[0].lower() + level[1:]}"
             + (f" (distance {ratio:.1f}× that of real pictures)" if math.isfinite(ratio) else "")]
    classes = _classes(result)
    if classes is not None:
        parts.append(f"{classes[0]} of {classes[1]} classes")
    copies = result.get("copies")
    if isinstance(copies, (int, float)):
        parts.append("no near-copies" if copies == 0 else f"{_pct(copies)} near-copies")
    n = result.get("n")
    return ", ".join(parts) + (f" — from {n:,} samples." if isinstance(n, int) else ".")


def _ratio(result: dict) -> float:
    """The samples' distance over real pictures' own (1: as close as real pictures are)."""
    fid = float(result.get("fid_matched", result.get("fid", math.inf)))   # at the reference's size
    real = float(result.get("fid_real", 0.0))
    if real > 0:
        return fid / real
    return 1.0 if fid <= 0 else math.inf


def _level(ratio: float) -> tuple[str, str]:
    return next((words, advice) for top, words, advice in LEVELS if ratio <= top)


def _classes(result: dict) -> tuple[int, int, list[str]] | None:
    """(classes covered, classes in all, names of the rare ones), or None for unlabelled data."""
    cov, names = result.get("class_coverage"), result.get("class_names") or []
    if not isinstance(cov, dict) or not isinstance(cov.get("covered"), int):
        return None
    share = cov.get("share") or []
    total = len(names) or len(share)
    # a class is covered with at least half its fair share of the samples (genlib.metrics.class_coverage)
    rare = [str(names[i]) if i < len(names) else str(i) for i, s in enumerate(share) if s < 1 / (2 * total)]
    return int(cov["covered"]), total, rare


def _has(result: dict, *keys: str) -> bool:
    return all(isinstance(result.get(k), (int, float)) and not isinstance(result.get(k), bool) for k in keys)


def _num(x: float) -> str:
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.2f}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"
