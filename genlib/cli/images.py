"""The image commands of `python -m genlib`: datasets, train, sample, bundle, runs.

    python -m genlib train --model gan --data digits --preset quick --device cpu
    python -m genlib train --resume runs/<id> --steps 6000
    python -m genlib train --config genlib-train.json --steps 3000   (a flag wins over the file)
    python -m genlib sample --run runs/<id> --n 64 --out grid.png
    python -m genlib bundle --run runs/<id> --out my-gan.zip --public
    python -m genlib sample --run my-gan.zip --n 64 --out grid.png      (a bundle works as a run)

Each handler parses nothing itself: it makes the genlib.pipeline call the app makes too.
"""
from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path

from ..data.builtin import DATASETS
from ..data.images import IMAGE_SIZES
from ..device import DEVICES, describe_device, resolve_device
from ..errors import GenlibError
from ..models import MODELS
from ..trainconfig import KEYS, read_train_config
from .args import F, positive_float, positive_int

PRESETS = tuple(dict.fromkeys(name for spec in MODELS.values() for name in spec.presets))


# ---- datasets -------------------------------------------------------------------------------------
def cmd_datasets(args) -> int:
    from ..data import list_datasets

    rows = [(d.name, f"{d.count:,}", "×".join(map(str, d.shape)), d.title, d.source) for d in list_datasets()]
    header = ("name", "images", "shape (C×H×W)", "what", "source")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\nOr pass your own images: a ZIP or folder of PNG/JPEG (sub-folders = classes), NPZ/NPY, or IDX.")
    return 0


# ---- train ----------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    if args.resume is None or not _names_a_bundle(args.resume):
        return _train(args)
    # a bundle: open it into a new run folder and go on there; the bundle itself stays as it was
    bundle, args.resume = args.resume, _open_to_resume(args.resume, args.out)
    print(f"Opened {bundle.name} into {args.resume}; training goes on there.")
    weights = args.resume / "model.safetensors"
    opened = weights.stat().st_mtime_ns
    try:
        return _train(args)
    except GenlibError:
        if weights.is_file() and weights.stat().st_mtime_ns == opened:   # nothing trained: no copy left
            shutil.rmtree(args.resume, ignore_errors=True)
        raise


def _names_a_bundle(path: Path) -> bool:
    """A run is a folder; a file (or a .zip name, so a typo reads "no bundle file") is a bundle."""
    return path.is_file() or (path.suffix.lower() == ".zip" and not path.is_dir())


def _open_to_resume(bundle: Path, out: Path | None) -> Path:
    from ..bundle import open_bundle, read_manifest
    from ..runs import new_run_dir

    family = read_manifest(bundle)["family"]
    dest = out or new_run_dir(family, bundle.stem)
    try:
        return open_bundle(bundle, dest, resumable=True)
    except GenlibError:
        if out is None:
            dest.rmdir()                              # the empty folder new_run_dir reserved
        raise


# flags that a training file may set too, and their values when neither gives one
_FROM_FILE = {"model": None, "data": None, "preset": "quick", "image_size": None, "color": None,
              "steps": None, "batch_size": None, "lr": None, "seed": 0, "device": "auto"}


def _settle(args) -> None:
    """Fill every flag not given from --config's file, then from the defaults (a flag given wins)."""
    file = {}
    if args.config is not None:
        if args.resume is not None:
            raise GenlibError("--config starts a new training and --resume goes on with a run's own "
                              "settings: use one of them.")
        given = {k: getattr(args, k) for k in _FROM_FILE if getattr(args, k) is not None}
        file = read_train_config(args.config, given)         # the flags checked with the file
    for key, default in _FROM_FILE.items():
        if getattr(args, key) is None:
            setattr(args, key, file.get(key, default))
    args.model_settings = dict(file.get("model_settings", {}))
    args.train_settings = dict(file.get("train_settings", {}))


def _say(*words) -> None:
    """print, from the first process only when torchrun starts several (each loads the data)."""
    if os.environ.get("RANK", "0") == "0":
        print(*words)


def _train(args) -> int:
    from .. import pipeline
    from ..data import load_dataset
    from ..models import get_preset
    from ..runs import load_run
    from ..train import ConsoleCallback

    _settle(args)
    device = resolve_device(args.device)
    load_kw = {k: v for k, v in (("image_size", args.image_size), ("color", args.color)) if v}
    if args.resume is not None and args.data is None:
        # the run's own data when it is a built-in dataset; else the person must say which
        data = pipeline.data_for_run(load_run(args.resume).card, builtin=lambda n, **kw: load_dataset(n, **kw))
        if data is None:
            raise GenlibError(f"Say which data {args.resume} was trained on: add --data FILE.")
    else:
        data = load_dataset(args.data or "digits", **load_kw)
    for line in data.report.lines():
        _say(line)
    family = args.model
    if args.resume is None and family is None:
        raise GenlibError(f"Choose a model with --model {', '.join(MODELS)}.")
    train_overrides = {**args.train_settings,
                       **{k: v for k, v in (("batch_size", args.batch_size), ("lr", args.lr),
                                            ("preview_every", args.preview_every),
                                            ("checkpoint_every", args.checkpoint_every)) if v is not None}}
    steps = args.steps
    if args.epochs is not None:
        batch = args.batch_size or get_preset(family or "gan", args.preset).batch_size
        steps = max(1, args.epochs * (len(data) // min(batch, len(data))))
    if args.resume is None:
        p = get_preset(family, args.preset)
        _say(f"Training {MODELS[family].title} on {data.name} ({len(data):,} images, "
             f"{'×'.join(map(str, data.shape))}) with the {args.preset} preset on {describe_device(device)}.")
        if device.type == "cuda":
            _say(f"Expected time: about {p.expected_gpu_seconds:.0f} s on a fast GPU (an H200) for "
                 f"digit-sized pictures; longer on smaller GPUs and larger pictures.")
        else:
            _say(f"Expected time: about {p.expected_cpu_seconds:.0f} s on this kind of device.")
    # Ctrl-C stops after the current step and still saves the run, so it can be resumed.
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        result = pipeline.train_model(family, data, preset=args.preset, steps=steps, out_dir=args.out,
                                      device=str(device), seed=args.seed, overrides=args.model_settings,
                                      train_overrides=train_overrides,
                                      callbacks=[ConsoleCallback()], resume=args.resume, stop_event=stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    if result.state.status == "failed":
        raise GenlibError(result.state.error or "Training failed.")
    print(f"Saved the run to {result.run_dir}  (samples: {result.run_dir / 'samples.png'})")
    if result.state.status == "stopped":
        print(f"Stopped early; continue with: python -m genlib train --resume {result.run_dir} "
              f"--steps {result.state.total_steps}")
    return 0


# ---- sample ---------------------------------------------------------------------------------------
def cmd_sample(args) -> int:
    from ..bundle import load_bundle
    from ..runs import load_run
    from ..sample import sample_images, save_samples

    bundle = _names_a_bundle(args.run)
    run = load_bundle(args.run) if bundle else load_run(args.run)
    images = sample_images(run.model, args.n, seed=args.seed)
    path = save_samples(images, args.out)
    print(f"Wrote {args.n} samples from {run.family} ({args.run.name if bundle else run.name}) to {path}")
    return 0


# ---- bundle ---------------------------------------------------------------------------------------
def cmd_bundle(args) -> int:
    from ..bundle import read_manifest, write_bundle

    path = write_bundle(args.run, args.out, include_optimizer=args.with_optimizer, public=args.public)
    manifest = read_manifest(path)
    print(f"Wrote {path} ({_size(path.stat().st_size)}): a {manifest['family']} trained for "
          f"{manifest['steps']:,} steps ({manifest['format']}).")
    for entry in manifest["files"]:
        print(f"  {entry['name']:22s} {_size(entry['size']):>9s}  sha256 {entry['sha256'][:16]}")
    if manifest["resumable"]:
        print(f"It holds the optimizer: python -m genlib train --resume {path} goes on training it.")
    else:
        print("It samples but cannot be resumed (add --with-optimizer for a bundle that can).")
    if manifest["public"]:
        print("Public: its card names no data file, skipped file or class folder (class names only "
              "when the model draws chosen classes).")
    print(f"Sample from it: python -m genlib sample --run {path} --n 64 --out grid.png")
    return 0


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


# ---- runs -----------------------------------------------------------------------------------------
def cmd_runs(args) -> int:
    from ..runs import list_runs, runs_root

    runs = list_runs(args.root)
    if not runs:
        print(f"No runs in {args.root or runs_root()} yet. Train one: python -m genlib train --model gan --data digits")
        return 0
    for r in runs:
        metrics = "  ".join(f"{k} {v:.4g}" for k, v in list(r.final_metrics.items())[:3])
        print(f"{r.dir}  {r.family:8s} {r.data:12s} {r.status:9s} {r.steps:>6} steps  "
              f"{r.duration_seconds:7.1f}s  {r.device:6s} {metrics}")
    return 0


# ---- the parser -----------------------------------------------------------------------------------
def add_commands(sub) -> None:
    """Register datasets, train, sample, bundle and runs on an argparse subparsers object."""
    p = sub.add_parser("datasets", help="list the built-in datasets", formatter_class=F,
                       description="List the datasets that ship with genlib, with size, shape and source.")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser(
        "train", help="train a GAN, VAE or PixelCNN on images", formatter_class=F,
        description="Train a generative image model and save it as a run folder (config.json, "
                    "model.safetensors, metrics.csv, samples.png, card.json).",
        epilog="Examples:\n"
               "  python -m genlib train --model gan --data digits --preset quick --device cpu\n"
               "  python -m genlib train --model vae --data mnist --steps 3000 --out runs/my-vae\n"
               "  python -m genlib train --model pixelcnn --data my_images.zip --image-size 28\n"
               "  python -m genlib train --resume runs/my-vae --steps 6000      (continue training)\n"
               "  python -m genlib train --resume shared-vae.zip --data mnist   (a bundle with its optimizer)\n"
               "  python -m genlib train --config genlib-train.json             (every setting from a file)\n"
               "  torchrun --nproc_per_node 2 -m genlib train --config genlib-train.json   (2 GPUs)\n"
               "Presets: quick (a minute or so on a CPU), standard, best (want a GPU).\n"
               "A training file (JSON; the app's \"Run this on another machine\" writes one) holds:\n"
               + "".join(f"  {k:15s} {v}\n" for k, v in KEYS.items())
               + "Flags given as well override the file's values.")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="take the settings from a training file (JSON); flags given as well "
                        "override the file's values")
    p.add_argument("--model", choices=list(MODELS),
                   help="gan: sharp samples; vae: smooth latent space and likelihoods; pixelcnn: "
                        "pixel-by-pixel likelihood model")
    p.add_argument("--data",
                   help=f"a built-in dataset ({', '.join(DATASETS)}) or a path: ZIP, folder, NPZ/NPY, "
                        f"IDX (default: digits; with --resume, the run's own built-in data)")
    p.add_argument("--preset", choices=list(PRESETS),
                   help="size and length of training (default: quick)")
    p.add_argument("--steps", type=positive_int, help="optimisation steps (overrides the preset)")
    p.add_argument("--epochs", type=positive_int, help="passes over the data (instead of --steps)")
    p.add_argument("--batch-size", type=positive_int, help="images per step")
    p.add_argument("--lr", type=positive_float, help="learning rate")
    p.add_argument("--image-size", type=int, choices=list(IMAGE_SIZES),
                   help="side length to resize images to (default: chosen from the pictures' sizes)")
    p.add_argument("--color", choices=("gray", "rgb"),
                   help="make every picture gray or colour (default: as the pictures are)")
    p.add_argument("--device", choices=list(DEVICES),
                   help="where to train (default: auto = GPU if there is one)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--preview-every", type=int, help="save preview samples every N steps")
    p.add_argument("--checkpoint-every", type=int, help="save a checkpoint every N steps")
    p.add_argument("--out", type=Path, help="run folder to create (default: runs/<time>-<model>-<data>)")
    p.add_argument("--resume", type=Path, metavar="DIR|FILE.zip",
                   help="continue training the run in DIR, or a bundle made with --with-optimizer "
                        "(opened into a new run folder, or --out)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "sample", help="draw images from a trained run", formatter_class=F,
        description="Draw new images from a trained model. The same --seed gives the same images.",
        epilog="Examples:\n"
               "  python -m genlib sample --run runs/my-gan --n 64 --out grid.png\n"
               "  python -m genlib sample --run runs/my-gan --n 1000 --seed 1 --out samples.npz\n"
               "  python -m genlib sample --run shared-gan.zip --n 64 --out grid.png     (a bundle)\n"
               "A .npz file holds `images`: float32, N×C×H×W, values in [0, 1].")
    p.add_argument("--run", type=Path, required=True, metavar="DIR|FILE.zip",
                   help="the run folder train created, or a bundle of one")
    p.add_argument("--n", type=positive_int, default=64, help="how many images (default 64)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, required=True, help="FILE.png (a grid) or FILE.npz (an array)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser(
        "bundle", help="put a run into one file to share", formatter_class=F,
        description="Write a run as one versioned ZIP file (a bundle): its config, weights, curves, "
                    "samples and card, with a manifest of sizes and checksums. Anyone with genlib can "
                    "sample from it; with --with-optimizer they can train it further.",
        epilog="Examples:\n"
               "  python -m genlib bundle --run runs/my-gan --out my-gan.zip\n"
               "  python -m genlib bundle --run runs/my-gan --out my-gan.zip --public --with-optimizer\n"
               "Opening a bundle checks every file against the manifest and never unpickles anything.")
    p.add_argument("--run", type=Path, required=True, metavar="DIR", help="the run folder train created")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.zip", help="the bundle to write")
    p.add_argument("--with-optimizer", action="store_true",
                   help="include the optimizer state, so the bundle can be resumed (larger file)")
    p.add_argument("--public", action="store_true",
                   help="leave out the names of uploaded files, skipped files and class folders")
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser("runs", help="list saved runs", formatter_class=F,
                       description="List the saved runs, newest first ($GENLIB_RUNS_DIR or ./runs).")
    p.add_argument("--root", type=Path, help="folder that holds the runs")
    p.set_defaults(func=cmd_runs)
