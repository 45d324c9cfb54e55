"""Where the benchmarks find the public datasets they score on (see bench/README.md).

Each benchmark takes `--data DIR` (default: $GENLIB_BENCH_DATA, else bench/data/) and stops with
one sentence saying what to download when a file is missing.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / "data"


def data_dir(given: str | None) -> Path:
    return Path(given or os.environ.get("GENLIB_BENCH_DATA") or DEFAULT).expanduser()


def require(path: Path, what: str) -> Path:
    """`path`, or exit with where to get `what` (bench/README.md names each source)."""
    if not path.exists():
        sys.exit(f"{path} is missing: put {what} there (bench/README.md says where to get it), "
                 f"or point --data at the folder that holds it.")
    return path
