"""The command line: the same use cases as the app (genlib.pipeline), without the browser.

    python -m genlib datasets
    python -m genlib train --model gan --data digits --preset quick --device cpu
    python -m genlib sample --run runs/<id> --n 64 --seed 0 --out grid.png
    python -m genlib runs
    python -m genlib evaluate --run runs/<id>
    python -m genlib forecast sales.csv --horizon 12 --out forecast.csv

`images.py` holds the image commands, `forecast.py` the forecasting ones, `args.py` the argument
types both use. Every user mistake ends as one line `error: …` and exit code 2; no traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys

from .._version import __version__
from ..errors import GenlibError
from . import evaluate, forecast, images
from .args import F, positive_int  # noqa: F401 (public: scripts build on these)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m genlib", formatter_class=F,
        description="genlib: train generative image models (GAN, VAE, PixelCNN) and forecast time "
                    "series, on your GPU or CPU.",
        epilog="Start here:\n"
               "  python -m genlib datasets\n"
               "  python -m genlib train --model gan --data digits --preset quick\n"
               "  python -m genlib sample --run runs/<the folder train printed> --n 64 --out grid.png\n"
               "  python -m genlib forecast sales.csv --horizon 12 --out forecast.csv\n"
               "Each command has its own --help.")
    parser.add_argument("--version", action="version", version=f"genlib {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    images.add_commands(sub)
    evaluate.add_commands(sub)
    forecast.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except GenlibError as exc:
        from ..data import error_words
        print(f"error: {error_words(str(exc), 'cli')}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nerror: interrupted.", file=sys.stderr)
        return 130
