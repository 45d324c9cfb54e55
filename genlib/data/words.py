"""A loader's HealthReport in the words of whoever reads it: the Python call's (as stored), the
command line's, or the app's (its widgets named, facts with units and no code names).

    >>> from genlib.data import load_builtin
    >>> in_words(load_builtin("digits").report, "app").facts["size used"]
    '16×16 pixels, grey'
"""
from __future__ import annotations

import dataclasses

from .series.describe import in_words as series_in_words, words_for
from .types import HealthReport

_SOURCES = {"zip": "a ZIP file", "folder": "a folder", "npz": "a NumPy .npz file",
            "npy": "a NumPy .npy file", "idx": "an IDX file"}


def in_words(report: HealthReport, audience: str) -> HealthReport:
    """A copy of `report` for `audience`: "python" (as stored), "cli" or "app"."""
    if report.kind == "series":
        return series_in_words(report, audience)
    if audience not in ("python", "cli", "app"):
        raise ValueError(f"audience must be 'python', 'cli' or 'app', not {audience!r}")
    if audience != "app":
        return report
    return dataclasses.replace(report, facts=plain_image_facts(report.facts))


def error_words(message: str, audience: str) -> str:
    """A loader's error message with its advice in the words of `audience` ("python", "cli" or
    "app"): the app names its widgets, the command line its options, where Python names arguments.

    >>> error_words("x.csv has no column of numbers to forecast. … or name it with value_column=….", "cli")
    'x.csv has no column of numbers to forecast. … or name it with --value-column NAME.'
    """
    return words_for(message, audience)


def picture_words(side: int, channels: int | None = None) -> str:
    """One picture size in words: "16×16 pixels, grey", "32×32 pixels, colour".

    >>> picture_words(16, 1), picture_words(32, 3), picture_words(28)
    ('16×16 pixels, grey', '32×32 pixels, colour', '28×28 pixels')
    """
    tone = {1: ", grey", 3: ", colour"}.get(channels, "")
    return f"{side}×{side} pixels{tone}"


def plain_image_facts(facts: dict) -> dict:
    """The image loader's facts as people read them (pixels, grey or colour, per class).

    >>> plain_image_facts({"source": "zip", "sizes": {"20×30": 6}, "image_size": 16, "channels": 3,
    ...                    "class_counts": {"blue": 3, "red": 3}, "duplicates": 0})
    {'from': 'a ZIP file', 'sizes found': '20×30 pixels (6)', 'size used': '16×16 pixels, colour', 'images per class': 'blue 3, red 3'}
    """
    out = {}
    if facts.get("dataset"):
        out["dataset"] = facts["dataset"]
    source = facts.get("source")
    if source:
        out["from"] = _SOURCES.get(source, source)
    if facts.get("licence"):
        out["licence"] = facts["licence"]
    if facts.get("sizes"):
        out["sizes found"] = ", ".join(f"{k} pixels ({v:,})" if k != "other" else f"other sizes ({v:,})"
                                       for k, v in list(facts["sizes"].items())[:5])
    if facts.get("image_size"):
        out["size used"] = picture_words(facts["image_size"], facts.get("channels"))
    if facts.get("class_counts"):
        counts = list(facts["class_counts"].items())
        out["images per class"] = ", ".join(f"{k} {v:,}" for k, v in counts[:12]) + \
            (f" … ({len(counts)} classes)" if len(counts) > 12 else "")
    if facts.get("duplicates"):
        out["exact copies"] = f"{facts['duplicates']:,} images"
    if facts.get("junk_ignored"):
        out["system files ignored"] = f"{facts['junk_ignored']:,}"
    return out
