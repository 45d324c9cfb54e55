"""How good are the presets? Train them, then score their samples against real pictures.

    python bench/quality.py --data digits --preset standard              # GAN, VAE, PixelCNN
    python bench/quality.py --data mnist --preset quick --families gan   # the one-minute check
    python bench/quality.py --data mnist --preset standard --families gan vae --n 2000 --json out.json

For each family the preset trains on the *larger side* of the data: 80 % of the pictures, chosen
with the same fixed seed `genlib.features.split_indices` uses (MNIST's 10,000 give 8,000).
`genlib.evaluate.evaluate_run` compares `--n` samples with them in the features of genlib's domain
network, which learned from the other 20 % only (so samples and real pictures are equally new to
it); −log p(x) and bits per dimension are measured on that 20 %, which the model never saw.
Every row prints the ratio FID / FID(real vs real): the real-vs-real figure compares two halves of
the held-out pictures through the same features, and the samples are scored at that same size
(FID's bias grows as samples shrink), so 1.00 is as close as real data comes.

Published anchors (MNIST, 60,000 training pictures, not comparable one to one): VAE −log p(x)
86.76 nats (IWAE paper, k=5000), 89.78 (pythae reproduction); PixelCNN 0.12–0.15 bits per dimension
on binarised MNIST. Wall-clock times are this machine's; run it on a quiet one.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genlib.data import load_builtin  # noqa: E402
from genlib.data.types import ImageData  # noqa: E402
from genlib.evaluate import evaluate_run  # noqa: E402
from genlib.features import split_indices  # noqa: E402
from genlib.pipeline import train_model  # noqa: E402
from genlib.runs import load_run  # noqa: E402


def training_side(data: ImageData) -> ImageData:
    """The 80 % of `data` the models train on (the feature network learns from the other 20 %)."""
    train_idx, _ = split_indices(len(data))
    labels = None if data.labels is None else data.labels[train_idx]
    return ImageData(data.images[train_idx], labels, list(data.class_names), name=f"{data.name}-train")


def row(family: str, preset: str, seconds: float, steps: int, r: dict) -> dict:
    cov = r.get("class_coverage") or {}
    return {"family": family, "preset": preset, "steps": steps, "train_seconds": round(seconds, 1),
            "fid": r["fid"], "fid_matched": r["fid_matched"], "fid_real": r["fid_real"],
            "ratio": r["fid_matched"] / r["fid_real"],
            "kid": r["kid"], "precision": r["precision"], "recall": r["recall"],
            "density": r["density"], "coverage": r["coverage"], "copies": r["copies"],
            "copies_pixels": r["copies_pixels"], "classes": cov.get("covered"),
            "class_agreement": r.get("class_agreement"), "nll": r.get("nll"), "bpd": r.get("bpd"),
            "eval_seconds": r["seconds"]}


def table(rows: list[dict]) -> str:
    head = ("| model | preset | steps | train s | FID | FID at the reference's size | real vs real | ratio | precision | recall | "
            "coverage | classes | copies | −log p(x) / bpd |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        like = f"{r['nll']:.1f} nats" if r["nll"] is not None else f"{r['bpd']:.3f} bpd" \
            if r["bpd"] is not None else "—"
        classes = "—" if r["classes"] is None else str(r["classes"])
        lines.append(f"| {r['family'].upper()} | {r['preset']} | {r['steps']:,} | {r['train_seconds']:.0f} | "
                     f"{r['fid']:.2f} | {r['fid_matched']:.2f} | {r['fid_real']:.2f} | {r['ratio']:.2f}× | {r['precision']:.1%} | "
                     f"{r['recall']:.1%} | {r['coverage']:.1%} | {classes} | {r['copies']:.1%} | {like} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="digits", help="a built-in image dataset (digits, mnist)")
    ap.add_argument("--preset", default="standard")
    ap.add_argument("--families", nargs="+", default=["gan", "vae", "pixelcnn"])
    ap.add_argument("--n", type=int, default=2000, help="samples scored per model")
    ap.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="model settings to override, e.g. upsample=transposed")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--keep", help="save the runs in this folder (default: a temporary one)")
    ap.add_argument("--score-only", metavar="DIR",
                    help="train nothing: score every run saved in DIR (by --keep) again")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = int(value) if value.lstrip("-").isdigit() else value

    cores = os.cpu_count()
    print(f"command: python bench/quality.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"machine: {platform.platform()}, {cores} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    full = load_builtin(args.data)
    train = training_side(full)
    print(f"data: {args.data}, {len(full):,} pictures {'×'.join(map(str, full.shape))}; models train on "
          f"{len(train):,}, the other {len(full) - len(train):,} are the unseen real side")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or tmp
        saved = [load_run(d) for d in sorted(Path(args.score_only).iterdir()) if (d / "card.json").is_file()] \
            if args.score_only else []
        for job in saved or args.families:
            if isinstance(job, str):
                t0 = time.perf_counter()
                result = train_model(job, train, preset=args.preset, steps=args.steps, device=args.device,
                                     overrides=overrides or None, runs_root=root, score=False)
                seconds, run_dir, family = time.perf_counter() - t0, result.run_dir, job
                steps, preset = int(result.state.step), args.preset
            else:
                seconds, run_dir, family = float(job.card.get("duration_seconds", 0)), job.dir, job.family
                steps, preset = int(job.card.get("steps", 0)), job.card.get("preset", "?")
            scores = evaluate_run(run_dir, data=full, n=args.n, seed=0, device=args.device,
                                  cache_dir=Path(root) / ".features")
            rows.append(row(family, preset, seconds, steps, scores))
            r = rows[-1]
            print(f"{family}: trained {r['steps']:,} steps in {seconds:.0f} s; FID {r['fid']:.2f}, at the "
                  f"reference's size {r['fid_matched']:.2f} vs real {r['fid_real']:.2f} ({r['ratio']:.2f}×), scored in {r['eval_seconds']:.0f} s", flush=True)
    print()
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
