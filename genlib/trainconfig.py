"""A training as one JSON file: what `python -m genlib train --config FILE` reads, and what the
app's "Run this on another machine" writes from the settings a person chose.

    {"model": "vae", "preset": "quick", "data": "digits", "image_size": 16, "color": "gray",
     "steps": 700, "batch_size": 64, "lr": 0.001, "seed": 0, "device": "auto",
     "model_settings": {"latent_dim": 16}, "train_settings": {"preview_every": 35}}

Only "model" is required. `model_settings` are the model's config fields changed from the preset,
`train_settings` any other `TrainConfig` field; both go to `genlib.pipeline.train_model` as
`overrides=` and `train_overrides=`, the same call the command line's flags and the app make.
A data path is read relative to the file's folder. Files ending in .yaml or .yml are read as
YAML when PyYAML is installed.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path

from .device import DEVICES
from .errors import GenlibError
from .models import MODELS, get_preset, get_spec, make_config
from .train import TrainConfig

FILE_NAME = "genlib-train.json"            # the name the app's download gets

# key → what it holds, in words (the order a written file uses)
KEYS = {
    "model": f"the model family: {', '.join(MODELS)} (required)",
    "preset": "quick, standard or best (default quick)",
    "data": "a built-in dataset (mnist, digits, shapes) or a path, relative to the file (default digits)",
    "image_size": "side length the pictures are resized to (default: chosen from the pictures)",
    "color": "gray or rgb (default: as the pictures are)",
    "steps": "training steps (default: the preset's)",
    "batch_size": "pictures per step, all processes together (default: the preset's)",
    "lr": "learning rate (default: the preset's)",
    "seed": "random seed (default 0)",
    "device": f"{', '.join(DEVICES)} or cuda:N (default auto)",
    "model_settings": "model settings changed from the preset, e.g. {\"latent_dim\": 16}",
    "train_settings": "other training settings, e.g. {\"preview_every\": 50}",
}
_KINDS = {"model": str, "preset": str, "data": str, "image_size": int | None, "color": str | None,
          "steps": int | None, "batch_size": int | None, "lr": float | None, "seed": int,
          "device": str, "model_settings": dict, "train_settings": dict}
DEFAULTS = {"preset": "quick", "data": "digits", "image_size": None, "color": None, "steps": None,
            "batch_size": None, "lr": None, "seed": 0, "device": "auto", "model_settings": {},
            "train_settings": {}}
_TOP = ("steps", "batch_size", "lr", "seed", "device")      # TrainConfig fields written at the top


def read_train_config(path: str | Path, given: dict | None = None) -> dict:
    """The checked settings of a training file, every key present (`DEFAULTS` where absent) and
    a relative data path made relative to the file's folder when that path is there. `given`
    (the command line's flags) win over the file's values and are checked with them.
    Raises GenlibError naming the key at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GenlibError(f"There is no training file at {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GenlibError(f"Cannot read {path} ({exc}).") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise GenlibError(f"Reading {path.name} needs PyYAML (pip install pyyaml); or write "
                              "the same settings as JSON.") from None
        try:
            values = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise GenlibError(f"{path.name} is not valid YAML ({exc}).") from None
    else:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GenlibError(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno}.") from None
    if given:                          # the file's own keys and types first, then with the flags
        _check_keys(values, path.name)
        values = {**values, **given}
    config = check_train_config(values, path.name)
    beside = path.parent / config["data"]
    if "data" not in (given or {}) and not Path(config["data"]).is_absolute() \
            and config["data"].lower() not in _builtin_names() and beside.exists():
        config["data"] = str(beside)
    return config


def check_train_config(values, where: str = "the training file") -> dict:
    """`values` checked key by key and type by type, with `DEFAULTS` filled in.

        >>> check_train_config({"model": "vae", "steps": 5})["preset"]
        'quick'
        >>> check_train_config({"model": "vae", "step": 5})
        Traceback (most recent call last):
        genlib.errors.GenlibError: the training file has no setting "step"; its settings are: model, preset, data, image_size, color, steps, batch_size, lr, seed, device, model_settings, train_settings.
    """
    _check_keys(values, where)
    if "model" not in values:
        raise GenlibError(f"{where} does not say which model to train: add \"model\": one of "
                          f"{', '.join(MODELS)}.")
    config = {"model": values["model"], **DEFAULTS, **values}
    family = config["model"]
    get_spec(family), get_preset(family, config["preset"])   # each raises naming the choices
    if config["color"] is not None and config["color"] not in ("gray", "rgb"):
        raise GenlibError(f"In {where}, \"color\" must be gray or rgb, not {config['color']!r}.")
    model_settings = _checked(get_spec(family).config_cls, config["model_settings"],
                              f"{where}, model_settings of {family}")
    train_settings = _checked(TrainConfig, config["train_settings"], f"{where}, train_settings")
    for key in _TOP:
        if key in train_settings:
            raise GenlibError(f"In {where}, put \"{key}\" at the top of the file, not in train_settings.")
    make_config(family, **model_settings)                  # values within their limits
    top = {k: config[k] for k in _TOP if config[k] is not None}
    TrainConfig(**{**train_settings, **top})               # each within its limits
    return {**config, "model_settings": model_settings, "train_settings": train_settings}


def export_training(family: str, preset: str, data: str, image_shape, *,
                    overrides: dict | None = None, settings: dict | None = None,
                    device: str = "auto") -> dict:
    """The training file for what the app is about to train: `overrides` and `settings` are the
    dicts the Train page passes to the job (model config fields, TrainConfig fields), `data` the
    built-in name or the uploaded file's name, `image_shape` (C, H, W) as loaded. Settings equal to
    what the command line would use anyway are left out, so the file shows what was chosen.

        >>> cfg = export_training("vae", "quick", "digits", (1, 16, 16),
        ...                       overrides={"latent_dim": 4}, settings={"steps": 30, "preview_n": 36})
        >>> cfg["model_settings"], cfg["train_settings"], cfg["steps"], cfg["color"]
        ({'latent_dim': 4}, {'preview_n': 36}, 30, 'gray')
        >>> check_train_config(cfg) == cfg
        True
    """
    p = get_preset(family, preset)
    base_model = make_config(family, **p.model)
    model_settings = {k: v for k, v in (overrides or {}).items() if getattr(base_model, k) != v}
    base_train = dataclasses.asdict(TrainConfig(**{"batch_size": p.batch_size, "lr": p.lr, **p.train}))
    chosen = {**base_train, "steps": p.steps, **(settings or {})}
    c, side = image_shape[0], image_shape[-1]
    config = {"model": family, "preset": preset, "data": data, "image_size": int(side),
              "color": "gray" if c == 1 else "rgb",
              "steps": chosen["steps"], "batch_size": chosen["batch_size"], "lr": chosen["lr"],
              "seed": chosen["seed"], "device": device,
              "model_settings": model_settings,
              "train_settings": {k: v for k, v in (settings or {}).items()
                                 if k not in _TOP and base_train.get(k) != v}}
    return check_train_config(json.loads(json.dumps(config)))   # what the file will hold, checked


def to_json(config: dict) -> str:
    """The file's text: the keys in `KEYS` order, two-space indents, a final newline."""
    return json.dumps({k: config[k] for k in KEYS if k in config}, indent=2) + "\n"


def commands(file_name: str = FILE_NAME, processes: int = 2) -> list[str]:
    """The commands that train from the file: one process, then torchrun with `processes`.

        >>> commands()[0]
        'python -m genlib train --config genlib-train.json'
    """
    return [f"python -m genlib train --config {file_name}",
            f"torchrun --nproc_per_node {processes} -m genlib train --config {file_name}"]


def train_arguments(config: dict) -> dict:
    """Keyword arguments of `genlib.pipeline.train_model` (after `family, data`) for a checked file."""
    train = {**config["train_settings"],
             **{k: config[k] for k in ("batch_size", "lr") if config[k] is not None}}
    return {"preset": config["preset"], "steps": config["steps"], "device": config["device"],
            "seed": config["seed"], "overrides": dict(config["model_settings"]),
            "train_overrides": train}


# ---- checking ----------------------------------------------------------------------------------
def _check_keys(values, where: str) -> None:
    """One object, known keys, each of its kind (what can be checked before knowing the model)."""
    if not isinstance(values, dict):
        raise GenlibError(f"{where} must hold one object of settings ({{\"model\": \"vae\", …}}), "
                          f"not {_kind_of(values)}.")
    for key, value in values.items():
        if key not in KEYS:
            raise GenlibError(f"{where} has no setting \"{key}\"; its settings are: {', '.join(KEYS)}.")
        if not _fits(_KINDS[key], value):
            raise GenlibError(f"In {where}, \"{key}\" must be {_words(_KINDS[key])}, not "
                              f"{_kind_of(value)}: {KEYS[key]}.")


def _checked(cls, values: dict, where: str) -> dict:
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    out = {}
    for key, value in values.items():
        if key not in fields:
            raise GenlibError(f"{where} has no setting \"{key}\"; its settings are: {', '.join(fields)}.")
        if not _fits(hints[key], value):
            raise GenlibError(f"In {where}, \"{key}\" must be {_words(hints[key])}, not {_kind_of(value)}.")
        out[key] = tuple(value) if isinstance(value, list) else value   # JSON arrays → tuples
    return out


def _fits(hint, value) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_fits(h, value) for h in typing.get_args(hint))
    hint = typing.get_origin(hint) or hint
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint in (str, dict):
        return isinstance(value, hint)
    if hint in (tuple, list):
        return isinstance(value, (list, tuple))
    return True                           # a kind not checked here: the config's own checks decide


def _words(hint) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_words(h) for h in typing.get_args(hint))
    hint = typing.get_origin(hint) or hint
    return {int: "a whole number", float: "a number", bool: "true or false", str: "text",
            dict: "an object {…}", tuple: "a list […]", list: "a list […]",
            type(None): "null"}.get(hint, str(hint))


def _kind_of(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true or false)"
    kind = {str: "text", int: "a whole number", float: "a number", dict: "an object",
            list: "a list"}.get(type(value), type(value).__name__)
    shown = json.dumps(value) if isinstance(value, (str, int, float)) else ""
    return f"{shown} ({kind})" if shown and len(shown) <= 40 else kind


def _builtin_names() -> tuple[str, ...]:
    from .data.builtin import DATASETS

    return tuple(DATASETS)
