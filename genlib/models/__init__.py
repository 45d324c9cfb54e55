"""The image model families genlib trains, as a registry the app's select boxes and the CLI read.

    from genlib.models import MODELS, build_model
    for spec in MODELS.values():
        print(spec.title, "—", spec.blurb)
    model = build_model("gan", image_shape=(1, 16, 16), num_classes=10, base_channels=32)
    model.capabilities.latent_walk                              # what the Sample page may offer
    count_parameters("gan", (1, 16, 16), 10, base_channels=32)  # the size, without building weights

Every family is an `ImageModel` built from a frozen config and the shape of the data, with
presets ("quick", "standard", "best") that pair config overrides with training numbers. Each
config field declares its label, help and limits (`genlib.settings`).
"""
from __future__ import annotations

import dataclasses
import typing

import torch

from ..errors import GenlibError
from . import gan, pixelcnn, vae
from .base import (GenerativeModel, ImageCapabilities, ImageModel, Preset, ProgressCurve, Trainable, config_from_dict,
                   config_to_dict)
from .gan import GAN, GANConfig
from .pixelcnn import PixelCNN, PixelCNNConfig
from .vae import VAE, VAEConfig

__all__ = ["MODELS", "ModelSpec", "Preset", "ProgressCurve", "Trainable", "ImageModel", "ImageCapabilities", "GenerativeModel",
           "GAN", "GANConfig", "VAE", "VAEConfig", "PixelCNN", "PixelCNNConfig", "build_model",
           "count_parameters", "model_from_config", "make_config", "get_spec", "get_preset", "config_to_dict"]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str                         # registry key, the same as the model class's `family`
    title: str                        # what the app shows
    blurb: str                        # one sentence for a newcomer: what the family is good at
    config_cls: type                  # the frozen config dataclass
    model_cls: type                   # the ImageModel subclass
    presets: dict[str, Preset]        # "quick", "standard", "best"
    short: str = ""                   # a word for run names: "GAN", "VAE", "PixelCNN"


MODELS: dict[str, ModelSpec] = {
    "gan": ModelSpec(
        "gan", "GAN (DCGAN)",
        "Two networks compete until the generator's pictures fool the judge: the sharpest images and "
        "instant sampling, but training can wobble and it gives no likelihood score.",
        GANConfig, GAN, gan.PRESETS, "GAN"),
    "vae": ModelSpec(
        "vae", "Variational autoencoder",
        "Learns a smooth map of the images that it can decode back: steady training, reconstructions and "
        "a likelihood score, with pictures a little softer than a GAN's.",
        VAEConfig, VAE, vae.PRESETS, "VAE"),
    "pixelcnn": ModelSpec(
        "pixelcnn", "PixelCNN",
        "Paints an image one pixel at a time from the pixels above and to the left: the best likelihood "
        "(bits per dimension) and crisp detail, but slow to sample.",
        PixelCNNConfig, PixelCNN, pixelcnn.PRESETS, "PixelCNN"),
}


def get_spec(family: str) -> ModelSpec:
    """The registry entry for `family`, or a GenlibError naming the families there are."""
    spec = MODELS.get(family) if isinstance(family, str) else None
    if spec is None:
        raise GenlibError(f"Unknown model family {family!r}: choose one of {', '.join(MODELS)}.")
    return spec


def get_preset(family: str, name: str = "quick") -> Preset:
    """A family's preset by name ("quick", "standard" or "best").

        >>> get_preset("vae", "quick").steps > 0
        True
    """
    presets = get_spec(family).presets
    if name not in presets:
        raise GenlibError(f"Unknown preset {name!r} for {family}: choose one of {', '.join(presets)}.")
    return presets[name]


def make_config(family: str, **overrides):
    """The family's config with `overrides` applied; unknown names or bad values raise GenlibError.

    Text values (from the command line) are read as the field's type: "32" → 32, "true" → True.

        >>> make_config("gan", base_channels="32").base_channels
        32
    """
    cls = get_spec(family).config_cls
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in overrides.items():
        if key not in fields:
            raise GenlibError(f"{family} has no setting {key!r}; its settings are: {', '.join(sorted(fields))}.")
        values[key] = _as_type(hints[key], value, f"{family} {key}")
    try:
        return cls(**values)
    except TypeError as exc:  # e.g. a list where a number belongs
        raise GenlibError(f"Invalid {family} settings ({exc}).") from None


def _as_type(kind, value, what: str):
    if not isinstance(value, str) or kind is str:
        return value
    text = value.strip().lower()
    try:
        if kind is bool:
            if text in ("true", "yes", "1", "on"):
                return True
            if text in ("false", "no", "0", "off"):
                return False
            raise ValueError(value)
        if kind in (int, float):
            return kind(text)
    except ValueError:
        raise GenlibError(f"{what} must be {'true or false' if kind is bool else 'a number'}, "
                          f"not {value!r}.") from None
    return value


def build_model(family: str, image_shape, num_classes: int = 0, **config_overrides) -> ImageModel:
    """A fresh, untrained model of `family` sized for images of `image_shape` = (C, H, W).

        >>> build_model("vae", (1, 16, 16), num_classes=10, base_channels=8).sample(2, seed=0).shape
        torch.Size([2, 1, 16, 16])
    """
    spec = get_spec(family)
    config = make_config(family, **config_overrides)
    return spec.model_cls(config, image_shape=tuple(image_shape), num_classes=int(num_classes or 0))


def count_parameters(family: str, image_shape, num_classes: int = 0, **overrides) -> int:
    """How many numbers (weights) the model `build_model` would build has, without allocating them.

    The model is built on PyTorch's "meta" device, which records shapes and no values, so a server
    can refuse a model too large for it before building it. Settings are checked as `build_model`
    checks them.

        >>> count_parameters("vae", (1, 16, 16), num_classes=10, base_channels=8) > 0
        True
    """
    with torch.device("meta"):
        model = build_model(family, image_shape, num_classes, **overrides)
    return sum(p.numel() for p in model.parameters())


def model_from_config(family: str, config_dict: dict, build_args: dict) -> ImageModel:
    """Rebuild a saved model's structure (untrained) from config.json: its config and `build_args()`."""
    spec = get_spec(family)
    config = config_from_dict(spec.config_cls, config_dict)
    args = {k: v for k, v in build_args.items() if k in ("image_shape", "num_classes")}
    if "image_shape" in args:
        args["image_shape"] = tuple(args["image_shape"])
    return spec.model_cls(config, **args)
