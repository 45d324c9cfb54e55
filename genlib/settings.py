"""Declared settings: the label, help text and limits of every config field, in one place.

A config dataclass declares each field with `setting(...)`; the app's settings form, the error
messages and the limits (stricter ones for a hosted server) are all read from that declaration,
never from source text.

    @dataclasses.dataclass(frozen=True)
    class TrainConfig:
        steps: int = setting(1000, label="Training steps", help="Optimisation steps in total.",
                             min=1, max=10_000_000, hosted_max=20_000, unit="steps")

        def __post_init__(self):
            check_settings(self)

    describe(TrainConfig)["steps"].label      # "Training steps"
    check_settings(TrainConfig(steps=50_000), hosted=True)   # GenlibError: at most 20,000 steps …

Leaf module: imports nothing from genlib but the errors.
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

from .errors import GenlibError

_KEY = "genlib"


@dataclasses.dataclass(frozen=True)
class Setting:
    """What a person needs to know about one config field."""

    label: str                             # shown beside the widget: "Learning rate"
    help: str = ""                         # one or two plain sentences: what it changes, when to touch it
    min: float | None = None               # smallest allowed value (numbers)
    max: float | None = None               # largest allowed value anywhere
    hosted_max: float | None = None        # largest allowed value on a shared (hosted) server
    choices: tuple | None = None           # the allowed values (text fields)
    unit: str = ""                         # "steps", "images", "pixels", … (shown with the number)
    advanced: bool = True                  # False: shown in the main form, not under "Advanced"
    name: str = ""                         # the field's name (filled in by `describe`)

    def limit(self, hosted: bool = False) -> float | None:
        """The largest value allowed here (the hosted one when `hosted` and it is stricter)."""
        if hosted and self.hosted_max is not None:
            return self.hosted_max if self.max is None else min(self.max, self.hosted_max)
        return self.max


def setting(default: Any, *, label: str, help: str = "", min: float | None = None,
            max: float | None = None, hosted_max: float | None = None, choices=None, unit: str = "",
            advanced: bool = True) -> Any:
    """A dataclass field whose metadata carries its `Setting` (see the module docstring)."""
    meta = Setting(label=label, help=help, min=min, max=max, hosted_max=hosted_max,
                   choices=tuple(choices) if choices is not None else None, unit=unit, advanced=advanced)
    return dataclasses.field(default=default, metadata={_KEY: meta})


def describe(cls_or_config) -> dict[str, Setting]:
    """Every declared setting of a config class (or instance), by field name, in field order."""
    out = {}
    for f in dataclasses.fields(cls_or_config):
        meta = f.metadata.get(_KEY)
        if meta is not None:
            out[f.name] = dataclasses.replace(meta, name=f.name)
    return out


def hosted_mode() -> bool:
    """True when this process serves strangers (GENLIB_HOSTED=1): the stricter limits apply."""
    return os.environ.get("GENLIB_HOSTED", "").strip().lower() in ("1", "true", "yes", "on")


def scoring_on() -> bool:
    """False when GENLIB_SCORE=0 (or no, false, off): trainings then end without the compact
    quality score (genlib.scorecard); on by default."""
    return os.environ.get("GENLIB_SCORE", "").strip().lower() not in ("0", "false", "no", "off")


def check_settings(config, hosted: bool = False) -> None:
    """Raise GenlibError naming the first field whose value is outside its declared limits."""
    for name, s in describe(config).items():
        value = getattr(config, name)
        if value is None or isinstance(value, (tuple, list, dict)):
            continue
        if s.choices is not None:
            if value not in s.choices:
                raise GenlibError(f"{s.label} must be one of {', '.join(map(str, s.choices))} "
                                  f"(got {value!r}).")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise GenlibError(f"{s.label} must be a number (got {value}).")
        top = s.limit(hosted)
        if s.min is not None and value < s.min:
            raise GenlibError(f"{s.label} must be at least {_num(s.min)}{_unit(s)} (got {_num(value)}).")
        if top is not None and value > top:
            where = " on this shared server" if hosted and top == s.hosted_max else ""
            raise GenlibError(f"{s.label} can be at most {_num(top)}{_unit(s)}{where} (got {_num(value)}). "
                              f"Choose a smaller value.")


def _num(x: float) -> str:
    return f"{x:,}" if float(x).is_integer() and abs(x) >= 1 else f"{x:g}"


def _unit(s: Setting) -> str:
    return f" {s.unit}" if s.unit and not s.label.lower().endswith(s.unit) else ""
