"""PixelCNN: draws an image one pixel at a time, each pixel from a softmax given the pixels before it.

    from genlib.models.pixelcnn import PixelCNN, PixelCNNConfig
    model = PixelCNN(PixelCNNConfig(levels=2), image_shape=(1, 28, 28), num_classes=10)
    model.setup_training(lr=1e-3)
    metrics = model.train_step(x, y)          # {"bits_per_dim": …}
    images = model.sample(16, seed=0)         # pixel by pixel, all 16 images at once
    bpd = model.nll(x, y)                     # bits per dimension, per image

The gated PixelCNN of van den Oord et al. 2016 ("Conditional image generation with PixelCNN
decoders"): a vertical stack sees the rows above, a horizontal stack the pixels to the left in
the current row, joined so the receptive field has no blind spot. The first layer is "mask A"
(it cannot see the pixel it predicts), the rest "mask B"; the masks are realised by padding and
shifting instead of zeroed weights. Each layer is gated, tanh(a)·σ(b), with a residual connection
in the horizontal stack.

Pixel values are quantised to `levels` per channel (256: the usual 8-bit softmax; 2: black and
white, for MNIST-like data). Colour: the channels of one pixel are predicted independently given
all earlier pixels (not R → G → B within the pixel): one network pass per pixel when sampling,
at a small cost in likelihood. Class-conditional (a per-layer class bias on the gates) when the
data has labels and `conditional` is on.

Sampling reruns only what a new pixel can change: once per row the vertical stack over the rows
that can reach it, then per pixel each layer's horizontal stack at that pixel's column alone, from
the layer inputs of the columns to its left cached while drawing them (`start_row` and
`next_pixel`, tested equal to the full pass; Ramachandran et al. 2017 cache the same way).
"""
from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GenlibError
from ..settings import check_settings, describe, setting
from .base import (ImageCapabilities, ImageModel, Preset, ProgressCurve, check_image_shape, check_whole_numbers,
                   adam, class_labels, eval_mode, seeded_generator)


# ---- config ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PixelCNNConfig:
    # values per channel: 256 (8-bit), 2 (black and white), or any 2–256
    levels: int = setting(
        256, label="Shades per colour",
        help="How many shades of each colour the model tells apart: 256 for photos, 2 for black-and-"
             "white digits. Fewer shades learn faster.", min=2, max=256, unit="shades", advanced=False)
    # width of every gated layer
    channels: int = setting(
        64, label="Width of the network",
        help="How many features each layer works with. Wider networks learn more detail but train and "
             "draw more slowly.", min=4, max=512, hosted_max=128, unit="channels", advanced=False)
    # gated layers after the first (more: wider context, slower)
    layers: int = setting(
        8, label="Depth of the network",
        help="How many layers look at the pixels already drawn. More layers see further back and draw "
             "better shapes, but train and draw more slowly.", min=1, max=64, hosted_max=16,
        unit="layers")
    # kernel of the gated layers (odd); each adds kernel_size // 2 rows of context
    kernel_size: int = setting(
        3, label="Reach of each layer",
        help="How many pixels across each layer looks at (an odd number). 3 is usual; larger reaches "
             "further but is slower.", min=3, max=15, hosted_max=7, unit="pixels")
    # kernel of the first, mask-A layer (odd)
    first_kernel: int = setting(
        7, label="Reach of the first layer",
        help="How many pixels across the first layer looks at (an odd number). 7 is usual.",
        min=3, max=15, hosted_max=11, unit="pixels")
    # when the data has labels: learn each class and draw a chosen one
    conditional: bool = setting(
        True, label="Learn each class",
        help="When the pictures have labels (digits, kinds of clothing), learn each class so you can "
             "ask for one. Has no effect on pictures without labels.", advanced=False)

    def __post_init__(self):
        check_settings(self)                                            # the declared limits
        check_whole_numbers(self, "levels", "channels", "layers", "kernel_size", "first_kernel")
        for name in ("kernel_size", "first_kernel"):
            if getattr(self, name) % 2 == 0:
                raise GenlibError(f"{describe(self)[name].label} must be an odd number (3, 5, 7, …) so the layer "
                                  f"is centred on a pixel (got {getattr(self, name)}).")


# ---- building blocks ------------------------------------------------------------------------
def shift_down(x: torch.Tensor) -> torch.Tensor:
    """Row i gets row i−1 (row 0 gets zeros): what lets the horizontal stack see only rows above."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def shift_right(x: torch.Tensor) -> torch.Tensor:
    """Column j gets column j−1: the mask-A step that hides the pixel being predicted."""
    return F.pad(x, (1, 0))[..., :-1]


MAP_CHANNELS = 8                      # channels of each class's learned location map (conditional models)


def gate(t: torch.Tensor) -> torch.Tensor:
    """tanh(a) · σ(b) over the two halves of the channels."""
    a, b = t.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated layer: vertical stack (rows ≤ i), horizontal stack (row i, columns ≤ j), link v → h.

    The class enters each gate twice (van den Oord et al. 2016, §2.3): a bias per class, and a
    location-dependent bias read from the class's learned map (B×MAP_CHANNELS×h×w, cropped to the
    pixels being computed) through a 1×1 convolution; it never looks at the image, so it is causal.
    """

    def __init__(self, c_in: int, c: int, k: int, first: bool, num_classes: int = 0):
        super().__init__()
        self.p, self.first = k // 2, first
        self.v_conv = nn.Conv2d(c_in, 2 * c, (self.p + 1, k))          # rows i−p … i, columns j−p … j+p
        self.h_conv = nn.Conv2d(c_in, 2 * c, (1, self.p + 1))          # columns j−p … j of row i
        self.v_to_h = nn.Conv2d(2 * c, 2 * c, 1)
        self.h_out = nn.Conv2d(c, c, 1)
        self.cond = nn.Embedding(num_classes, 4 * c) if num_classes else None
        self.cond_map = nn.Conv2d(MAP_CHANNELS, 4 * c, 1, bias=False) if num_classes else None

    def _bias(self, y, cmap, which: int):
        if self.cond is None:
            return 0.0
        flat = self.cond(y).chunk(2, dim=1)[which][:, :, None, None]   # B, 2c, 1, 1
        return flat + self.cond_map(cmap).chunk(2, dim=1)[which]       # B, 2c, h, w

    def vertical(self, v: torch.Tensor, y=None, cmap=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(pre-gate features, output) of the vertical stack; row i depends on input rows ≤ i."""
        pre = self.v_conv(F.pad(v, (self.p, self.p, self.p, 0)))
        return pre, gate(pre + self._bias(y, cmap, 0))

    def horizontal(self, h: torch.Tensor, link: torch.Tensor, y=None, cmap=None) -> torch.Tensor:
        """Horizontal stack; `link` carries the vertical stack of the row above (already shifted)."""
        h_in = shift_right(h) if self.first else h
        pre = self.h_conv(F.pad(h_in, (self.p, 0))) + link + self._bias(y, cmap, 1)
        out = self.h_out(gate(pre))
        return out if self.first else out + h                          # residual after the first layer

    def at_column(self, window: torch.Tensor, link: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        """`horizontal` at one column, as matrix products: `window` is the input at the p+1 columns
        ending there (B×c_in×(p+1), already shifted for the first layer), `link` the link plus class
        bias there (B×2c), `h` the input there for the residual (None for the first layer)."""
        pre = F.linear(window.flatten(1), self.h_conv.weight.flatten(1), self.h_conv.bias) + link
        out = F.linear(gate(pre), self.h_out.weight.flatten(1), self.h_out.bias)
        return out if self.first else out + h

    def forward(self, v, h, y=None, cmap=None):
        pre, v = self.vertical(v, y, cmap)
        return v, self.horizontal(h, self.v_to_h(shift_down(pre)), y, cmap)


class GatedPixelCNN(nn.Module):
    """Image (B×C×H×W, quantised values in [-1, 1]) → logits B×levels×C×H×W."""

    def __init__(self, image_shape, levels: int, channels: int, layers: int, k: int, k0: int,
                 num_classes: int = 0):
        super().__init__()
        C, H, W = image_shape
        self.C, self.levels = C, levels
        self.layers = nn.ModuleList([GatedLayer(C, channels, k0, True, num_classes)] +
                                    [GatedLayer(channels, channels, k, False, num_classes) for _ in range(layers)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, C * levels, 1))
        self.class_maps = nn.Parameter(torch.zeros(num_classes, MAP_CHANNELS, H, W)) if num_classes else None
        self.reach = 1 + sum(layer.p for layer in self.layers)         # rows above that can affect a pixel

    def _maps(self, y, rows: slice, cols: slice = slice(None)):
        return None if self.class_maps is None else self.class_maps[y][:, :, rows, cols]

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        cmap = self._maps(y, slice(None))
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h, y, cmap)
        return self.logits(h)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        out = self.head(h)
        B, _, H, W = out.shape
        return out.view(B, self.C, self.levels, H, W).transpose(1, 2)   # B, levels, C, H, W

    # `forward` taken apart for drawing pixel by pixel (exactly equal to it, see the tests): once per
    # row, what the rows above pass down; then per pixel, each layer's horizontal stack at that one
    # column only, from its inputs at the columns to the left, cached while they were drawn.
    def start_row(self, x: torch.Tensor, r: int, y=None) -> dict:
        """What drawing row `r` needs, from the `reach` rows above it (the rest of the image cannot
        affect row r): per layer, the vertical stack's link plus the class bias (B×2c×W), and the
        row's cache of each later layer's input (B×c×(p+W), p zero columns in front), filled
        column by column by `next_pixel`."""
        lo = max(0, r - self.reach)
        v, cmap = x[:, :, lo:r], self._maps(y, slice(lo, r))
        row_map = self._maps(y, slice(r, r + 1))
        links = []
        for layer in self.layers:
            if r == 0:                                                  # first row: nothing above
                pre = x.new_zeros(x.shape[0], layer.v_to_h.in_channels, 1, x.shape[3])
            else:
                pre, v = layer.vertical(v, y, cmap)
                pre = pre[:, :, -1:]
            links.append((layer.v_to_h(pre) + layer._bias(y, row_map, 1))[:, :, 0])
        inputs = [x.new_zeros(x.shape[0], layer.h_conv.in_channels, layer.p + x.shape[3])
                  for layer in self.layers[1:]]
        return {"row": r, "links": links, "inputs": inputs}

    def next_pixel(self, x: torch.Tensor, c: int, row: dict) -> torch.Tensor:
        """Logits (B×levels×C) of pixel (row, c); call for c = 0, 1, … in turn (it caches each
        layer's output at column c for the pixels after it)."""
        r, links = row["row"], row["links"]
        first = self.layers[0]
        seen = x[:, :, r, max(0, c - first.p - 1):c]                     # mask A: columns c−p−1 … c−1
        h = first.at_column(F.pad(seen, (first.p + 1 - seen.shape[-1], 0)), links[0][:, :, c], None)
        for layer, link, cache in zip(self.layers[1:], links[1:], row["inputs"]):
            cache[:, :, layer.p + c] = h
            h = layer.at_column(cache[:, :, c:c + layer.p + 1], link[:, :, c], h)
        for module in self.head:                                        # the 1×1 convolutions as matrices
            h = F.linear(h, module.weight.flatten(1), module.bias) if isinstance(module, nn.Conv2d) else module(h)
        return h.view(h.shape[0], self.C, self.levels).transpose(1, 2)


# ---- model ----------------------------------------------------------------------------------
class PixelCNN(ImageModel):
    """Gated PixelCNN; `train_step` returns bits_per_dim (the loss, on quantised pixels).

        >>> model = PixelCNN(PixelCNNConfig(levels=2, channels=8, layers=1), image_shape=(1, 8, 8))
        >>> model.sample(2, seed=0).shape
        torch.Size([2, 1, 8, 8])
    """

    family = "pixelcnn"
    family_capabilities = ImageCapabilities(likelihood="bpd", fast_sampling=False)  # pixel by pixel
    capturable = True                                               # one CUDA graph per step
    progress_curve = ProgressCurve(
        "Bits per pixel value (lower is better)",
        "How many bits the model needs to write down each pixel value of a training picture: the "
        "better it predicts a pixel from the ones above and to the left, the fewer. Guessing blindly "
        "costs 8 bits with 256 shades (4 with 16); simple pictures reach 1 or less.",
        terms=(("bits_per_dim", 1.0),))
    metric_words = {"bits_per_dim": "bits per pixel value"}

    def __init__(self, config: PixelCNNConfig | None = None, image_shape=(1, 28, 28), num_classes: int = 0):
        config = config or PixelCNNConfig()
        super().__init__(config)
        self.image_shape = check_image_shape(image_shape, "PixelCNN")
        self.num_classes = int(num_classes)
        self.n_cond = self.num_classes if config.conditional else 0
        self.net = GatedPixelCNN(self.image_shape, config.levels, config.channels, config.layers,
                                 config.kernel_size, config.first_kernel, self.n_cond)

    def build_args(self) -> dict:
        return {"image_shape": list(self.image_shape), "num_classes": self.num_classes}

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"model": adam(self.parameters(), lr=lr)}

    def quantise(self, x: torch.Tensor) -> torch.Tensor:
        """[-1, 1] → integer levels 0 … levels−1 (the discrete data the model describes)."""
        L = self.config.levels
        return ((x.float() + 1) / 2 * (L - 1)).round().clamp(0, L - 1).long()

    def values(self, q: torch.Tensor) -> torch.Tensor:
        """Integer levels → the values in [-1, 1] the network reads and `sample` returns."""
        return q.float() / (self.config.levels - 1) * 2 - 1

    def _labels(self, y, n: int, required: bool):
        """Labels on the device; `required` for scoring (the images' own classes), else for drawing."""
        if not self.n_cond:
            return None if required else class_labels(y, n, 0)         # drawing a class needs classes
        if y is None and required:
            raise GenlibError("This PixelCNN was trained with classes, so it needs the label of each image; "
                              "pass labels=… (the dataset's labels).")
        return class_labels(y, n, self.n_cond).to(self.device)

    def train_step(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One Adam step on the mean negative log-likelihood in bits per dimension (a detached
        0-d tensor: no wait for the GPU)."""
        self.check_training_labels(y, "PixelCNN")
        q = self.quantise(x)
        logits = self.net(self.values(q), y if self.n_cond else None)
        bpd = bits_per_dim(logits, q).mean()
        self.update("model", bpd)
        return {"bits_per_dim": bpd.detach().float()}

    @torch.no_grad()
    def nll(self, x: torch.Tensor, labels=None, batch_size: int = 256) -> torch.Tensor:
        """Exact −log₂ p(x) per dimension, per image (a CPU tensor of length N), on quantised pixels.

            >>> model = PixelCNN(PixelCNNConfig(levels=2, channels=8, layers=1), image_shape=(1, 8, 8))
            >>> model.nll(torch.zeros(3, 1, 8, 8)).shape
            torch.Size([3])
        """
        y_all = self._labels(labels, len(x), required=True)
        out = []
        with eval_mode(self):
            for s in range(0, len(x), batch_size):
                q = self.quantise(x[s:s + batch_size].to(self.device))
                yb = None if y_all is None else y_all[s:s + batch_size]
                out.append(bits_per_dim(self.net(self.values(q), yb), q).cpu())
        return torch.cat(out) if out else torch.zeros(0)

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, labels=None) -> torch.Tensor:
        """`n` images drawn pixel by pixel, all at once; the random numbers come from the CPU so a
        seed gives the same images on any device (up to float differences in the softmax)."""
        C, H, W = self.image_shape
        u = torch.rand(H, W, n, C, generator=seeded_generator(seed)).to(self.device)  # one per value drawn
        y = self._labels(labels, n, required=False)
        x = torch.zeros(n, C, H, W, device=self.device)
        with eval_mode(self):
            for r in range(H):
                row = self.net.start_row(x, r, y)
                for c in range(W):
                    probs = torch.softmax(self.net.next_pixel(x, c, row).float(), dim=1)  # n, levels, C
                    q = categorical(probs.transpose(1, 2), u[r, c])                              # n, C
                    x[:, :, r, c] = self.values(q)
        return x


# ---- loss and sampling ----------------------------------------------------------------------
def bits_per_dim(logits: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """−log₂ p(x) / (C·H·W) per image from logits B×levels×C×H×W and integer targets B×C×H×W.

    The softmax cross-entropy in nats divided by ln 2 (van den Oord et al. 2016, "Pixel recurrent
    neural networks", reports NLL this way).
    """
    nats = F.cross_entropy(logits.float(), q, reduction="none")        # B, C, H, W
    return nats.flatten(1).mean(1) / math.log(2)


def categorical(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF draw: index of the first level whose cumulative probability exceeds `u` (…×levels → …)."""
    cdf = probs.cumsum(-1)
    return (cdf < u.unsqueeze(-1) * cdf[..., -1:]).sum(-1).clamp(max=probs.shape[-1] - 1)


# Every preset decays the learning rate to zero (cosine): a PixelCNN draws each pixel from the
# distribution it predicts, and the jitter a steady learning rate leaves in the last steps shows in
# every sample (digits, FID against real-vs-real: standard 15.5× → 3.0× with lr 2e-3, quick 27.6× →
# 2.0×). The GAN and the VAE got worse with it (MNIST quick GAN 17.8× → 55×, digits quick VAE 1.2× → 1.6×).
# Standard draws 16 shades: 256 shades need far more pictures and steps (digits: 1.16× with 16, 3.0×
# with 256, same network and steps); "best" keeps 256 for a likelihood comparable with papers.
PRESETS = {
    "quick": Preset(model={"channels": 16, "layers": 3, "levels": 16}, steps=400, batch_size=16, lr=3e-3,
                    train={"preview_n": 16, "lr_decay": True}, expected_cpu_seconds=30, expected_gpu_seconds=2,
                    description="A small PixelCNN for a first look at {data}, with 16 shades per "
                                "channel; drawing is pixel by pixel, so previews are small."),
    "standard": Preset(model={"channels": 32, "layers": 6, "levels": 16}, steps=2000, batch_size=32, lr=2e-3,
                       train={"preview_n": 16, "lr_decay": True}, expected_cpu_seconds=870,
                       expected_gpu_seconds=7,
                       description="A medium PixelCNN with 16 shades per channel: clean {data}. Choose "
                                   "best for all 256 shades and a bits-per-pixel score comparable with "
                                   "published ones."),
    "best": Preset(model={"channels": 64, "layers": 10, "levels": 256}, steps=10000, batch_size=64, lr=5e-4,
                   train={"preview_n": 36, "lr_decay": True}, expected_cpu_seconds=31000, expected_gpu_seconds=70,
                   description="The usual gated PixelCNN size, trained long: the best likelihood on {data}, "
                               "meant for a GPU."),
}
