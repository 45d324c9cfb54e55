"""`python -m genlib evaluate`: how good a trained run's samples are, compared with real pictures.

    python -m genlib evaluate --run runs/<id>
    python -m genlib evaluate --run shared-gan.zip --data my_images.zip --n 5000 --json

The handler parses nothing itself: it makes the one `genlib.evaluate.evaluate_run` call.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..device import DEVICES
from .args import F, positive_int


def cmd_evaluate(args) -> int:
    from ..evaluate import evaluate_run, summary_lines

    result = evaluate_run(args.run, data=args.data, n=args.n, seed=args.seed, device=args.device,
                          features=args.features)
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(summary_lines(result)))
    return 0


def add_commands(sub) -> None:
    """Register `evaluate` on an argparse subparsers object."""
    p = sub.add_parser(
        "evaluate", help="score a trained run's samples against real pictures", formatter_class=F,
        description="Draw samples from a run and compare them with real pictures: FID (next to the "
                    "real-vs-real FID, the best a model can do on this data), KID, precision, recall, "
                    "density, coverage, near-copies of training pictures, classes drawn, and the "
                    "likelihood of a VAE (nats per picture) or a PixelCNN (bits per dimension). A fifth "
                    "of the pictures (chosen with a fixed seed) are the real side of the comparison.",
        epilog="Examples:\n"
               "  python -m genlib evaluate --run runs/my-gan\n"
               "  python -m genlib evaluate --run runs/my-vae --n 5000 --seed 1 --json\n"
               "  python -m genlib evaluate --run shared-gan.zip --data my_images.zip\n"
               "The first evaluation on some data trains a small feature network on it (seconds on a "
               "CPU) and keeps it in the runs folder's .features for the next time.")
    p.add_argument("--run", type=Path, required=True, metavar="DIR|FILE.zip",
                   help="the run folder train created, or a bundle of one")
    p.add_argument("--data", metavar="NAME_OR_PATH",
                   help="the pictures to compare with (default: the built-in dataset the run was "
                        "trained on); a built-in name or a ZIP, folder, NPZ/NPY or IDX file")
    p.add_argument("--n", type=positive_int, default=2000, help="samples to draw (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the samples (default 0)")
    p.add_argument("--device", default="auto", choices=list(DEVICES),
                   help="where to sample and compute features (default: auto = GPU if there is one)")
    p.add_argument("--features", default="domain", choices=("domain", "inception"),
                   help="domain: a small network genlib trains on this data (default); inception: "
                        "Inception-v3, only when torchvision and its weights are already installed")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=cmd_evaluate)
