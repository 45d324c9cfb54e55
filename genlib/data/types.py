"""The shapes data takes inside genlib, shared by loaders, training, runs and the app."""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import torch


@dataclasses.dataclass
class HealthReport:
    """What a loader found, used, skipped and repaired: shown to the user after every load.

    `lines()` gives plain sentences for the app and the command line; `to_dict()` is JSON-safe
    and goes into a run's card.json.
    """

    kind: str                                            # "images" or "series"
    used: int = 0                                        # images / series kept
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (item, reason)
    repairs: list[str] = dataclasses.field(default_factory=list)   # each fix applied, in words
    warnings: list[str] = dataclasses.field(default_factory=list)  # things worth knowing
    facts: dict[str, Any] = dataclasses.field(default_factory=dict)  # sizes, modes, class counts…

    def lines(self) -> list[str]:
        noun = "images" if self.kind == "images" else "series"
        out = [f"Used {self.used:,} {noun}."]
        if self.skipped:
            out.append(f"Skipped {len(self.skipped):,}:")
            out += [f"  {item}: {reason}" for item, reason in self.skipped[:20]]
            if len(self.skipped) > 20:
                out.append(f"  … and {len(self.skipped) - 20:,} more")
        out += [f"Repaired: {r}" for r in self.repairs]
        out += [f"Note: {w}" for w in self.warnings]
        return out

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["skipped"] = [list(s) for s in self.skipped]
        return d


@dataclasses.dataclass
class ImageData:
    """Images ready for training: float32 N×C×H×W in [-1, 1], optional integer labels."""

    images: torch.Tensor
    labels: torch.Tensor | None = None          # int64 N, or None
    class_names: list[str] = dataclasses.field(default_factory=list)
    name: str = "images"
    report: HealthReport = dataclasses.field(default_factory=lambda: HealthReport("images"))

    def __post_init__(self):
        assert self.images.ndim == 4, "images must be N×C×H×W"
        assert self.labels is None or len(self.labels) == len(self.images)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names) if self.labels is not None else 0

    def examples(self, per_class: int = 8, max_classes: int = 12) -> dict[str, torch.Tensor]:
        """The first `per_class` images of each class (of the first `max_classes`), by class
        name; {"": the first per_class × max_classes images} when there are no classes.

        >>> data = ImageData(torch.zeros(6, 1, 4, 4), torch.tensor([0, 1, 0, 1, 1, 1]), ["a", "b"])
        >>> {name: len(x) for name, x in data.examples(per_class=3).items()}
        {'a': 2, 'b': 3}
        """
        if self.labels is None or not self.class_names:
            return {"": self.images[:per_class * max_classes]}
        return {name: self.images[(self.labels == k).nonzero().flatten()[:per_class]]
                for k, name in enumerate(self.class_names[:max_classes])}

    def tensors(self) -> tuple[torch.Tensor, ...]:
        """What the training loop batches: (images, labels) or (images,)."""
        return (self.images,) if self.labels is None else (self.images, self.labels)

    def fingerprint(self) -> str:
        """A short hash of the pixels and labels: the same data always gives the same value."""
        h = hashlib.sha256()
        h.update(str(tuple(self.images.shape)).encode())
        h.update(((self.images + 1) * 127.5).round().to(torch.uint8).numpy().tobytes())
        if self.labels is not None:
            h.update(self.labels.numpy().astype("int64").tobytes())
        return h.hexdigest()[:16]
