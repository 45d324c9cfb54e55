"""How generators and decoders double their pictures: resize-convolution (the default) or transposed.

Both ways give the same shapes at every side; a saved config without `upsample` (written before
the setting existed, with transposed weights) rebuilds as "transposed"; and the resize way draws
no checkerboard (Odena et al. 2016), which the transposed one does. Tiny configs, CPU, seconds.
"""
import dataclasses

import pytest
import torch
from torch import nn

from genlib.errors import GenlibError
from genlib.models import build_model, make_config, model_from_config
from genlib.models.base import ResizeConv2d, config_from_dict, config_to_dict
from genlib.models.gan import GANConfig
from genlib.models.vae import VAEConfig

from tests.conftest import ROOT

FAMILIES = {"gan": GANConfig, "vae": VAEConfig}
MODES = ("resize", "transposed")
SIDES = (8, 12, 16, 28, 32, 48, 64)                     # every start/halvings pattern the models use
TINY = {"gan": {"base_channels": 4, "latent_dim": 8, "embed_dim": 4}, "vae": {"base_channels": 4, "latent_dim": 4}}


def layer_kinds(model) -> set[type]:
    return {type(m) for m in model.modules()}


# ---- (a) shapes and sampling ----------------------------------------------------------------
@pytest.mark.parametrize("how", MODES)
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("side", SIDES)
def test_both_ways_give_the_image_shape_and_sample(family, how, side):
    torch.manual_seed(0)
    model = build_model(family, (3, side, side), 3, upsample=how, **TINY[family])
    kinds = layer_kinds(model)
    assert (nn.ConvTranspose2d in kinds) == (how == "transposed") and (ResizeConv2d in kinds) == (how == "resize")
    images = model.sample(4, seed=0)
    assert images.shape == (4, 3, side, side) and images.isfinite().all() and images.abs().max() <= 1
    assert torch.equal(images, model.sample(4, seed=0))
    model.setup_training(1e-3, grad_clip=1.0)
    x = torch.rand(4, 3, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    metrics = model.train_step(x, torch.tensor([0, 1, 2, 0]))
    assert all(v == v for v in metrics.values())                        # no NaN


@pytest.mark.parametrize("bias", (True, False))
@pytest.mark.parametrize("c_in, c_out, side", [(16, 1, 14), (8, 3, 7), (4, 6, 5)])
def test_resize_conv_is_a_nearest_resize_then_a_conv(c_in, c_out, side, bias):
    """The fused layer computes nearest ×2 then its own 3×3 convolution, forward and backward,
    and saves exactly the weights a plain Conv2d has (runs saved before it load unchanged)."""
    torch.manual_seed(0)
    fused = ResizeConv2d(c_in, c_out, bias=bias)
    plain = nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias)
    plain.load_state_dict(fused.state_dict())                           # same names, same shapes
    x = torch.randn(3, c_in, side, side, requires_grad=True)
    a = fused(x)
    b = plain(nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"))
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(a)
    grads_a = torch.autograd.grad(a, [x, fused.weight], g)
    grads_b = torch.autograd.grad(b, [x, plain.weight], g)
    for ga, gb in zip(grads_a, grads_b):
        torch.testing.assert_close(ga, gb, rtol=1e-4, atol=1e-4)
    channels_last = x.detach().to(memory_format=torch.channels_last)
    torch.testing.assert_close(fused(channels_last), a.detach(), rtol=1e-5, atol=1e-5)


def test_resize_keeps_parameter_counts_close():
    for family in FAMILIES:
        counts = {how: sum(p.numel() for p in build_model(family, (1, 28, 28), 10, upsample=how).parameters())
                  for how in MODES}
        assert 0.7 * counts["transposed"] < counts["resize"] <= counts["transposed"], family


# ---- (b) old saved configs --------------------------------------------------------------------
@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_config_without_the_setting_rebuilds_as_transposed(family):
    cls = FAMILIES[family]
    assert cls().upsample == "resize" and make_config(family).upsample == "resize"
    saved = config_to_dict(cls(base_channels=8))
    assert saved["upsample"] == "resize"
    old = {k: v for k, v in saved.items() if k != "upsample"}          # what genlib 0.1 wrote
    assert config_from_dict(cls, old) == cls(base_channels=8, upsample="transposed")
    for how in MODES:                                                   # a new file keeps its value
        config = cls(base_channels=8, upsample=how)
        assert config_from_dict(cls, config_to_dict(config)) == config
    model = model_from_config(family, old, {"image_shape": [1, 16, 16], "num_classes": 10})
    assert nn.ConvTranspose2d in layer_kinds(model) and ResizeConv2d not in layer_kinds(model)


@pytest.mark.parametrize("name", ["gan-v0.1", "vae-v0.1"])
def test_runs_saved_before_the_setting_load_their_transposed_weights(name):
    from genlib.runs import load_run

    run = load_run(ROOT / "tests" / "fixtures" / name)                  # strict: every weight name matches
    assert run.model.config.upsample == "transposed"
    assert run.model.sample(2, seed=0).shape == (2, 1, 16, 16)


# ---- (c) the checkerboard ---------------------------------------------------------------------
def checkerboard(x: torch.Tensor, margin: int) -> float:
    """How far neighbouring pixels of each 2×2 cell differ (rows and columns), relative to |x|.

    A 2-pixel pattern scores high; a flat or smooth picture scores about 0.
    """
    x = x[..., margin:-margin, margin:-margin]
    rows = (x[..., 0::2, :] - x[..., 1::2, :]).abs().mean()
    cols = (x[..., :, 0::2] - x[..., :, 1::2]).abs().mean()
    return float((rows + cols) / x.abs().mean())


def grow_flat_grid(family: str, how: str, side: int, n: int = 8) -> tuple[torch.Tensor, int]:
    """An untrained model's upsampling stack fed a flat n×n grid of ones; returns (output, margin).

    A flat input has no pattern, so any pattern in the output is the upsampling's own. Eval mode:
    batch norm then applies fixed statistics (in training mode one flat image would normalise to
    0). The zero padding at the edges spreads inwards by under two pixels per pixel of the input
    grid (1 → 3 → 7 … per doubling), so the comparison leaves that margin out.
    """
    torch.manual_seed(0)
    model = build_model(family, (1, side, side), 0, upsample=how, base_channels=8).eval()
    with torch.no_grad():
        if family == "gan":
            net = model.generator.net
            out = net(torch.ones(1, net[0].num_features, n, n))
        else:
            decoder = model.decoder
            out = decoder.grow(torch.ones(1, decoder.fc[0].out_features // decoder.start ** 2, n, n))
    scale = out.shape[-1] // n                                          # 2 ** doublings
    return out, 2 * scale


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("side", (16, 28, 32, 64))
def test_resize_draws_no_checkerboard_where_transposed_does(family, side):
    scores = {}
    for how in MODES:
        out, margin = grow_flat_grid(family, how, side)
        assert out.abs().mean() > 0                                     # a real signal, not all zeros
        scores[how] = checkerboard(out, margin)
    assert scores["transposed"] > 0.1, scores                          # the known artefact shows up
    assert scores["resize"] < scores["transposed"] / 100, scores


# ---- (d) bad values -----------------------------------------------------------------------------
@pytest.mark.parametrize("family", list(FAMILIES))
def test_an_unknown_way_is_refused_in_words(family):
    cls = FAMILIES[family]
    with pytest.raises(GenlibError, match="How pictures grow must be one of resize, transposed"):
        cls(upsample="bilinear")
    with pytest.raises(GenlibError, match="How pictures grow"):
        dataclasses.replace(cls(), upsample="Resize")
    with pytest.raises(GenlibError, match="How pictures grow"):
        make_config(family, upsample="deconv")
