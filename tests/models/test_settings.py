"""Declared settings and capabilities: what the app's forms, a hosted server's limits and the pages read.

Every config field of every image family and of the neural forecaster has a plain-words label and
help, limits that hold the default, and a stricter hosted limit where size costs memory or time;
each model says what it can do, and what it says is what works.
"""
import dataclasses
import re
import typing

import pytest
import torch

from genlib.errors import GenlibError
from genlib.forecast.neural import NeuralNetConfig
from genlib.models import MODELS, GenerativeModel, ImageCapabilities, ImageModel, build_model
from genlib.sample import interpolate, latent_noise
from genlib.settings import check_settings, describe

CONFIGS = [spec.config_cls for spec in MODELS.values()] + [NeuralNetConfig]
NAMES = [cls.__name__ for cls in CONFIGS]


def numbers(cls):
    """(name, Setting, type) of each numeric field: ints and floats, not flags or tuples."""
    hints = typing.get_type_hints(cls)
    return [(name, s, hints[name]) for name, s in describe(cls).items() if hints[name] in (int, float)]


@pytest.mark.parametrize("cls", CONFIGS, ids=NAMES)
def test_every_field_is_declared_in_plain_words(cls):
    declared = describe(cls)
    assert list(declared) == [f.name for f in dataclasses.fields(cls)]
    for name, s in declared.items():
        assert s.name == name
        assert len(s.label) >= 4 and len(s.help) >= 20, name
        assert s.help.endswith("."), name                              # whole sentences
        assert "_" not in s.label + s.help, name                       # no code names


@pytest.mark.parametrize("cls", CONFIGS, ids=NAMES)
def test_limits_hold_the_defaults_and_hosted_limits_are_stricter(cls):
    default, hints = cls(), typing.get_type_hints(cls)
    for name, s in describe(cls).items():
        if hints[name] is str:
            assert s.choices and getattr(default, name) in s.choices, name
    for name, s, _ in numbers(cls):
        value = getattr(default, name)
        assert s.min is not None and s.max is not None, name          # every number has absolute limits
        assert s.min <= value <= s.max, name
        if s.hosted_max is not None:
            assert value <= s.hosted_max <= s.max, name
            assert s.limit(hosted=True) == s.hosted_max and s.limit() == s.max
    check_settings(default, hosted=True)                               # the defaults run on a shared server


@pytest.mark.parametrize("family", list(MODELS))
def test_every_preset_is_allowed_on_a_shared_server(family):
    spec = MODELS[family]
    for preset in spec.presets.values():
        check_settings(spec.config_cls(**preset.model), hosted=True)


@pytest.mark.parametrize("cls", CONFIGS, ids=NAMES)
def test_values_past_the_limits_are_refused_by_label(cls):
    default = cls()
    for name, s, kind in numbers(cls):
        step = 1 if kind is int else max(abs(s.max), 1.0) * 1e-3
        with pytest.raises(GenlibError, match=re.escape(s.label) + ".*at most"):
            dataclasses.replace(default, **{name: kind(s.max + step)})
        with pytest.raises(GenlibError, match=re.escape(s.label) + ".*at least"):
            dataclasses.replace(default, **{name: kind(s.min - step)})


@pytest.mark.parametrize("cls", CONFIGS, ids=NAMES)
def test_hosted_limits_apply_only_on_a_shared_server(cls):
    default = cls()
    hosted = [(name, s, kind) for name, s, kind in numbers(cls) if s.hosted_max is not None]
    assert hosted                                                      # something costly is capped
    for name, s, kind in hosted:
        config = dataclasses.replace(default, **{name: kind(s.hosted_max + 2)})   # +2: odd sizes stay odd
        check_settings(config)                                         # allowed anywhere else
        with pytest.raises(GenlibError, match=re.escape(s.label) + ".*on this shared server"):
            check_settings(config, hosted=True)


def test_text_settings_are_refused_outside_their_choices():
    with pytest.raises(GenlibError, match="Scoring rule must be one of nonsaturating, hinge, wgan-gp"):
        MODELS["gan"].config_cls(loss="wasserstein")
    with pytest.raises(GenlibError, match="Kind of network must be one of mlp, gru"):
        NeuralNetConfig(kind="lstm")
    with pytest.raises(GenlibError, match="Width of the networks must be a whole number"):
        MODELS["vae"].config_cls(base_channels=32.5)
    with pytest.raises(GenlibError, match="Reach of each layer must be an odd number"):
        MODELS["pixelcnn"].config_cls(kernel_size=4)


# ---- capabilities -----------------------------------------------------------------------------
TINY = {"gan": {"base_channels": 4, "latent_dim": 8, "embed_dim": 4}, "vae": {"base_channels": 4, "latent_dim": 4},
        "pixelcnn": {"channels": 4, "layers": 1, "levels": 4, "first_kernel": 3}}
DECLARED = {
    "gan": dict(latent_walk=True, encode=False, likelihood=None, fast_sampling=True),
    "vae": dict(latent_walk=True, encode=True, likelihood="nll", fast_sampling=True),
    "pixelcnn": dict(latent_walk=False, encode=False, likelihood="bpd", fast_sampling=False),
}


@pytest.mark.parametrize("family", list(MODELS))
def test_capabilities_say_what_each_family_can_do(family):
    torch.manual_seed(0)
    model = build_model(family, (1, 8, 8), 3, **TINY[family])
    assert isinstance(model, ImageModel) and GenerativeModel is ImageModel
    assert model.capabilities == ImageCapabilities(conditional=True, num_classes=3, **DECLARED[family])
    plain = build_model(family, (1, 8, 8), 3, conditional=False, **TINY[family]).capabilities
    assert not plain.conditional and plain.num_classes == 0
    assert build_model(family, (1, 8, 8), 0, **TINY[family]).capabilities.num_classes == 0


@pytest.mark.parametrize("family", list(MODELS))
def test_what_a_model_declares_is_what_works(family):
    torch.manual_seed(0)
    model = build_model(family, (1, 8, 8), 3, **TINY[family])
    caps, x, y = model.capabilities, torch.rand(2, 1, 8, 8) * 2 - 1, torch.tensor([0, 2])
    if caps.latent_walk:
        strip = interpolate(model, latent_noise(model, 1), latent_noise(model, 2), 4, labels=torch.tensor([1]))
        assert strip.shape == (4, 1, 8, 8)
    else:
        with pytest.raises(GenlibError, match="no latent space"):
            latent_noise(model, 1)
    if caps.encode:
        mu, logvar = model.encode(x, y)
        assert mu.shape == logvar.shape == (2, model.latent_dim)
    else:
        assert not hasattr(model, "encode")
    if caps.likelihood is None:
        assert not hasattr(model, "nll")
    else:
        assert caps.likelihood in ("nll", "bpd") and model.nll(x, y).shape == (2,)


def test_every_setting_reads_as_words_and_presets_speak_of_the_data():
    from genlib.models import MODELS
    from genlib.settings import describe
    from genlib.train import TrainConfig

    for cls in [TrainConfig, *(spec.config_cls for spec in MODELS.values())]:
        for name, s in describe(cls).items():
            jargon = {"lr", "grad clip", "n critic", "gp weight", "beta1", "beta2", "ema decay",
                      "embed dim", "latent dim", "base channels", "d lr ratio", "kernel size"}
            assert s.label and "_" not in s.label and s.label.lower() not in jargon, name
            assert s.help, name
    for spec in MODELS.values():
        for preset in spec.presets.values():
            assert "digits" not in preset.describe("shapes") and "{data}" not in preset.describe("x")


def test_each_family_s_headline_curve_comes_from_its_real_metrics():
    import torch

    from genlib.models import MODELS, build_model

    x = torch.rand(4, 1, 8, 8) * 2 - 1
    for family, spec in MODELS.items():
        model = build_model(family, (1, 8, 8), 0, **({"channels": 8, "layers": 1} if family == "pixelcnn"
                                                      else {"base_channels": 8}))
        model.setup_training(1e-3, 1.0)
        value = spec.model_cls.progress_curve.value(model.train_step(x), (1, 8, 8))
        assert value is not None and value == value, family
