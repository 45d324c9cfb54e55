"""What every trainable genlib model shares: the contract `genlib.train.fit` relies on.

A model is an `nn.Module` built from a frozen config dataclass and the shape of the data
(nobody types an input size). It owns its optimizers and its math. `Trainable` is what the
training loop needs; `ImageModel` adds sampling and declared capabilities (GAN, VAE, PixelCNN):

    model = GAN(GANConfig(), image_shape=(1, 28, 28), num_classes=10)
    model.setup_training(lr=2e-4, grad_clip=1.0)    # fit() calls this
    metrics = model.train_step(x, y)                 # one update: {name: detached 0-d float32 tensor}
    images = model.sample(16, seed=0)                # [-1, 1], N×C×H×W, same seed → same images
    model.capabilities.latent_walk                   # True: the Sample page offers a latent walk

`fit` wraps `train_step` in autocast, warms up the learning rate by scaling every optimizer's
`initial_lr`, and saves `state_dict()` plus `optimizer_state()` in checkpoints.

A step never waits for the host: `train_step` returns its metrics as detached 0-d float32 tensors
on the model's device (no `.item()`), so a GPU runs ahead of Python; the loop reads them (one
sync) only every `log_every` steps. On CUDA, Adam is fused and conv models train in channels_last
(`setup_training`); on the CPU nothing changes, so CPU results and saved runs stay the same.
"""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, ClassVar, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GenlibError
from ..settings import describe


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named recipe for one family: model config overrides plus the training numbers that fit them.

    CPU times are measured on the built-in `digits` data (16×16 gray, 1,797 images) with one CPU
    thread, training plus the final preview; 28×28 images take about 2–2.5× as long (pixel count).
    GPU times are measured the same way on one NVIDIA H200 (`bench/preset_times.py`); smaller GPUs
    take longer, which is why the app times a few steps on the machine it runs on (genlib.estimate).
    """

    model: dict = dataclasses.field(default_factory=dict)  # model config fields changed from defaults
    train: dict = dataclasses.field(default_factory=dict)  # other TrainConfig fields (e.g. preview_n)
    steps: int = 1000                  # optimisation steps
    batch_size: int = 64               # images per step
    lr: float = 2e-4                   # peak learning rate for the model's optimizers
    expected_cpu_seconds: float = 0.0  # measured on 2 CPU cores (shared, so a rough guide)
    expected_gpu_seconds: float = 0.0  # measured on one NVIDIA H200 (a fast GPU)
    description: str = ""              # one sentence for the app's preset picker; "{data}" → the data's name

    def describe(self, data_name: str = "your pictures") -> str:
        """The preset's sentence about the person's own data.

            >>> Preset(description="Recognisable {data} quickly.").describe("shapes")
            'Recognisable shapes quickly.'
        """
        return self.description.replace("{data}", data_name)


class Trainable(nn.Module):
    """What `genlib.train.fit` needs from a model: a config, its optimizers and `train_step`.

    Image models (`ImageModel`) and the forecasters' networks (`genlib.forecast.neural.NeuralARNet`)
    both derive from it; only image models sample.
    """

    family: ClassVar[str] = ""          # registry name: "gan", "vae", "pixelcnn", "neural_ar", ...

    def __init__(self, config: Any):
        super().__init__()
        self.config = config
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.grad_clip: float | None = None
        # Called with each optimizer's parameters between backward and step: data-parallel
        # training (genlib.distributed) averages the gradients of every process here.
        self.gradient_hook = None

    # ---- training plumbing -------------------------------------------------------------
    # conv models set this: on CUDA their weights and inputs use the channels_last layout
    channels_last: ClassVar[bool] = False
    # models whose step never reads a value on the host nor changes shape set this: on CUDA the
    # whole step is recorded once as a CUDA graph and replayed (`genlib.graphstep`)
    capturable: ClassVar[bool] = False

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        """Return the named optimizers this model steps in `train_step`. Override."""
        return {"model": adam(self.parameters(), lr=lr)}

    def setup_training(self, lr: float, grad_clip: float | None = None) -> None:
        """Build the optimizers; call after `model.to(device)` (fused Adam and the memory layout
        follow the parameters' device)."""
        if self.channels_last and self.device.type == "cuda":
            to_channels_last(self)
        self.optimizers = self.configure_optimizers(lr)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self.grad_clip = grad_clip

    def set_lr_scale(self, scale: float) -> None:
        """Warm-up and schedules: every group's lr becomes `initial_lr * scale` (in place when
        it is a tensor on the GPU, which a recorded step reads: `genlib.graphstep`)."""
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                if torch.is_tensor(group["lr"]):
                    group["lr"].fill_(group["initial_lr"] * scale)
                else:
                    group["lr"] = group["initial_lr"] * scale

    def update(self, name: str, loss: torch.Tensor, params=None) -> None:
        """Zero, backward, clip and step the optimizer called `name` (one line in train_step)."""
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        group_params = params or [p for g in opt.param_groups for p in g["params"]]
        if self.gradient_hook is not None:
            self.gradient_hook(group_params)
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(group_params, self.grad_clip)
        opt.step()

    def optimizer_state(self) -> dict[str, dict]:
        """Every optimizer's state_dict, its settings as plain numbers: a learning rate kept on the
        GPU for a recorded step is saved as a number and `capturable` as off, so the checkpoint
        reads the same on any device."""
        states = {}
        for name, opt in self.optimizers.items():
            sd = opt.state_dict()
            groups = [{k: (float(v) if torch.is_tensor(v) and v.numel() == 1 else v) for k, v in g.items()}
                      for g in sd["param_groups"]]
            states[name] = {**sd, "param_groups": [{**g, "capturable": False} if g.get("capturable") else g
                                                   for g in groups]}
        return states

    def load_optimizer_state(self, states: dict[str, dict]) -> None:
        """Load saved optimizer states; the fused/foreach/capturable choice and the memory layout of
        the state tensors follow this model's parameters, not the machine that saved them."""
        for name, state in states.items():
            opt = self.optimizers[name]
            kinds = [{k: g[k] for k in ("fused", "foreach", "capturable") if k in g} for g in opt.param_groups]
            groups = [{**saved, **kind} for saved, kind in zip(state["param_groups"], kinds)]
            opt.load_state_dict({**state, "param_groups": groups})   # torch places `step` for fused
            for group in opt.param_groups:
                for p in group["params"]:
                    for k, v in opt.state.get(p, {}).items():
                        if torch.is_tensor(v) and v.shape == p.shape and v.stride() != p.stride():
                            opt.state[p][k] = torch.empty_like(p).copy_(v)  # fused kernels need p's strides

    # ---- the contract each model implements -----------------------------------------------
    def train_step(self, *batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update. Returns {metric: detached 0-d float32 tensor on the model's device}: no
        `.item()`, so the step never waits for the GPU; the loop reads them every `log_every` steps."""
        raise NotImplementedError

    def build_args(self) -> dict:
        """Keyword arguments (besides config) that rebuild this model: saved in config.json."""
        return {}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


@dataclasses.dataclass(frozen=True)
class ImageCapabilities:
    """What an image model can do, as data, so a page offers only what works (darts' `supports_*`).

        >>> ImageCapabilities(latent_walk=True).likelihood is None
        True
    """

    conditional: bool = False         # draws a chosen class (trained on labels with `conditional` on)
    num_classes: int = 0              # classes it can draw: 0 when not conditional
    latent_walk: bool = False         # has a latent space: `latent_dim`, `decode(z, labels)` (GAN, VAE)
    encode: bool = False              # can encode a picture into that space: `encode`, `reconstruct` (VAE)
    likelihood: str | None = None     # its `nll` score: "nll" (nats per image, VAE), "bpd" (bits per
                                      # dimension, PixelCNN), None (GAN: no likelihood)
    fast_sampling: bool = True        # one network pass per picture; False: pixel by pixel (PixelCNN)


@dataclasses.dataclass(frozen=True)
class ProgressCurve:
    """The one curve a newcomer watches while a model trains (lower is better), declared per family.

    The curve is `Σ weight · metric` over `terms` of a history row, divided by the numbers in one
    image (C×H×W) when `per_value`, so that it reads the same for any image size.

        >>> ProgressCurve("Bits", terms=(("bpd", 1.0),)).value({"bpd": 2.5}, (1, 16, 16))
        2.5
    """

    title: str                        # the chart's title: "Bits per pixel value (lower is better)"
    explain: str = ""                 # one or two plain sentences: what it measures, what good looks like
    terms: tuple = ()                 # ((metric, weight), …) of the train_step metrics
    per_value: bool = False           # divide by C×H×W

    def value(self, row, image_shape) -> float | None:
        """The curve's value for one history row, or None when a metric is missing."""
        if not self.terms or any(m not in row or row[m] is None for m, _ in self.terms):
            return None
        total = sum(float(row[m]) * w for m, w in self.terms)
        if self.per_value:
            c, h, w = image_shape
            total /= max(1, int(c) * int(h) * int(w))
        return total


class ImageModel(Trainable):
    """A model of images: `image_shape`, `num_classes`, `sample` and its declared `capabilities`."""

    # What the family can do; `capabilities` adds what this instance learned (its classes).
    family_capabilities: ClassVar[ImageCapabilities] = ImageCapabilities()
    # The headline curve of the Train page, and plain words for the raw metrics of `train_step`.
    progress_curve: ClassVar[ProgressCurve] = ProgressCurve("Training loss (lower is better)",
                                                            terms=(("loss", 1.0),))
    metric_words: ClassVar[dict] = {}
    image_shape: tuple[int, int, int]  # (C, H, W) the model was built for
    num_classes: int = 0               # classes in the training data
    n_cond: int = 0                    # classes the networks see: num_classes, or 0 when unconditional

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """`n` images in [-1, 1], N×C×H×W; the same seed gives the same images."""
        raise NotImplementedError

    def check_training_labels(self, y: torch.Tensor | None, family: str) -> None:
        """A conditional model's batch must carry labels in 0 … n_cond−1 (`require_labels`). The range
        is checked on every CPU batch (no sync) but only on the first batch on a GPU, where reading
        the labels' minimum would make every step wait for the device."""
        require_labels(y, self.n_cond, family)
        if self.n_cond and (y.device.type == "cpu" or not getattr(self, "_labels_checked", False)):
            check_label_range(y, self.n_cond)
            self._labels_checked = True

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """A batch of images in the memory layout the weights use: channels_last on CUDA for conv
        models (`Trainable.channels_last`), unchanged elsewhere."""
        if self.channels_last and x.is_cuda and x.ndim == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    @property
    def capabilities(self) -> ImageCapabilities:
        """What this model can do: the family's declaration plus the classes it can draw.

            >>> from genlib.models import build_model
            >>> build_model("vae", (1, 16, 16), num_classes=10, base_channels=8).capabilities.num_classes
            10
        """
        return dataclasses.replace(self.family_capabilities, conditional=self.n_cond > 0,
                                   num_classes=int(self.n_cond))


GenerativeModel = ImageModel   # the name before the split (tests and older code import it)


def config_to_dict(config: Any) -> dict:
    return dataclasses.asdict(config)


def config_from_dict(cls: type, values: dict) -> Any:
    """Rebuild a config dataclass from a saved dict, ignoring keys a newer or older genlib does not know.

    A key missing from the dict takes the class's `legacy_defaults` value when it names one (what
    files written before the field existed meant), else the dataclass default:

        >>> from genlib.models.gan import GANConfig
        >>> config_from_dict(GANConfig, {"base_channels": 8}).upsample     # a run saved by genlib 0.1
        'transposed'
    """
    names = {f.name for f in dataclasses.fields(cls)}
    values = {**getattr(cls, "legacy_defaults", {}), **values}
    kept = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in names}
    return cls(**kept)


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Switch `module` to eval mode for a block, then restore the mode it had (sampling, scoring)."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def halvings(side: int) -> tuple[int, int]:
    """How a square image of `side` pixels shrinks by halves to a small grid: (start side, halvings).

    16 → (4, 2), 28 → (7, 2), 32 → (4, 3), 64 → (4, 4). Generators grow from `start`, encoders and
    discriminators shrink to it.
    """
    start, k = side, 0
    while start % 2 == 0 and start // 2 >= 4:
        start, k = start // 2, k + 1
    return start, k


UPSAMPLING = ("resize", "transposed")


# row (and column) weights of the two output phases of a nearest ×2 then 3×3 convolution: output
# row 2i takes input rows i−1, i, i through kernel rows 0, 1, 2; output row 2i+1 takes i, i, i+1
_PHASES = torch.tensor([[[1., 0, 0], [0, 1, 1], [0, 0, 0]],
                        [[0., 0, 0], [1, 1, 0], [0, 0, 1]]])          # phase, input offset −1…+1, kernel row


class ResizeConv2d(nn.Conv2d):
    """Nearest-neighbour ×2 then a 3×3 convolution, computed without building the enlarged map.

    Each output pixel of the enlarged map reads a 2×2 patch of the input, so the pair is exactly
    one 3×3 convolution of the input into 4× the channels, one per output phase (its kernels are
    sums of the 3×3 weights), followed by a pixel shuffle (Shi et al. 2016). Same weights, same
    function (to float rounding), same checkerboard-free pictures; on a CPU the last layer of
    MNIST's quick GAN (16 → 1 channels) trains 4.8× faster, a 32 px colour one 4.9× faster.

        >>> conv = ResizeConv2d(2, 3)
        >>> x = torch.randn(1, 2, 5, 5)
        >>> plain = conv._conv_forward(F.interpolate(x, scale_factor=2.0), conv.weight, conv.bias)
        >>> torch.allclose(conv(x), plain, atol=1e-5)
        True
    """

    def __init__(self, c_in: int, c_out: int, bias: bool = True):
        super().__init__(c_in, c_out, 3, padding=1, bias=bias)
        self.register_buffer("phases", _PHASES.clone(), persistent=False)   # not in saved weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o, i = self.weight.shape[:2]
        r = self.phases.to(self.weight.dtype)
        kernel = torch.einsum("aiu,ocuv,bjv->oabcij", r, self.weight, r).reshape(4 * o, i, 3, 3)
        bias = None if self.bias is None else self.bias.repeat_interleave(4)
        return F.pixel_shuffle(F.conv2d(x, kernel, bias, padding=1), 2)


def upsampling(c_in: int, c_out: int, how: str, bias: bool = True) -> list[nn.Module]:
    """The layers that double a feature map's side, for generators and decoders to splice in.

    "resize": nearest-neighbour ×2, then a 3×3 convolution (Odena et al. 2016, "Deconvolution and
    checkerboard artifacts"): every output pixel sees the same weights, so no checkerboard. Both
    happen in `ResizeConv2d`; an empty `nn.Identity` keeps the place the separate resize layer had,
    so runs saved with it keep their weight names.
    "transposed": one 4×4 transposed convolution with stride 2 (DCGAN); its windows overlap unevenly,
    so neighbouring pixels sum different weights, a checkerboard that training has to undo.

        >>> [type(m).__name__ for m in upsampling(8, 4, "resize")]
        ['Identity', 'ResizeConv2d']
    """
    if how == "transposed":
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)]
    return [nn.Identity(), ResizeConv2d(c_in, c_out, bias=bias)]


def check_image_shape(image_shape, family: str) -> tuple[int, int, int]:
    """Validate (C, H, W) for an image model; square sides from 8 to 256 pixels, 1 or 3 channels."""
    try:
        c, h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise GenlibError(f"The image shape must be (channels, height, width); got {image_shape!r}.") from None
    if c not in (1, 3):
        raise GenlibError(f"A {family} needs gray (1 channel) or colour (3 channel) images, not {c} channels. "
                          f"Load the data with color='gray' or color='rgb'.")
    if h != w or not 8 <= h <= 256 or halvings(h)[1] < 1:
        raise GenlibError(f"A {family} needs square images with an even side from 8 to 256 pixels "
                          f"(got {h}×{w}). Load the data with image_size=16, 28, 32 or 64.")
    return c, h, w


def check_whole_numbers(config: Any, *names: str) -> None:
    """Settings that count things (widths, layers, steps) must be whole numbers; the message uses
    the field's label. `check_settings` checks the limits, not the kind of number."""
    declared = describe(config)
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int):
            label = declared[name].label if name in declared else name
            raise GenlibError(f"{label} must be a whole number (got {value!r}).")


def class_labels(labels, n: int, num_classes: int) -> torch.Tensor | None:
    """The labels a conditional model samples with, as an int64 tensor of length `n` (on the CPU).

    None → classes in turn (0, 1, …, 0, 1, …) so every class shows up; an int → all `n` of that class;
    a sequence or tensor → used as given. For an unconditional model (`num_classes == 0`) only None
    is accepted.
    """
    if num_classes == 0:
        if labels is not None:
            raise GenlibError("This model was trained without classes, so it cannot draw a chosen class; "
                              "leave the class empty.")
        return None
    if labels is None:
        return torch.arange(n) % num_classes
    if isinstance(labels, int):
        labels = [labels] * n
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1).cpu()
    if len(labels) == 1 and n > 1:
        labels = labels.expand(n)
    if len(labels) != n:
        raise GenlibError(f"Got {len(labels)} class labels for {n} samples; give one label per sample "
                          f"(or a single label for all).")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise GenlibError(f"Class labels must be between 0 and {num_classes - 1} for this model "
                          f"(got {labels.min().item()}..{labels.max().item()}).")
    return labels.clone()


def require_labels(y, n_cond: int, family: str) -> None:
    """A conditional model's training batch must carry labels; say what to do when it does not."""
    if n_cond and y is None:
        raise GenlibError(f"This {family} was built to learn {n_cond} classes, but the training data has no "
                          f"labels. Train on data with labels, or turn off `conditional`.")


def check_label_range(y: torch.Tensor, num_classes: int) -> None:
    """Training labels must be class numbers 0 … num_classes−1; say what to do when they are not.

        >>> check_label_range(torch.tensor([0, 3]), 3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        genlib.errors.GenlibError: The training labels must be class numbers from 0 to 2 (got 0..3): ...
    """
    if not len(y):
        return
    lo, hi = (int(v) for v in torch.aminmax(y))
    if lo < 0 or hi >= num_classes:
        raise GenlibError(f"The training labels must be class numbers from 0 to {num_classes - 1} (got "
                          f"{lo}..{hi}): this model was built for {num_classes} classes. Train a new model "
                          f"on this data, or relabel it.")


def adam(params, lr: float, **kwargs) -> torch.optim.Adam:
    """Adam, fused into one kernel when every parameter is on CUDA, else `foreach` (the same
    numbers as the plain loop on the CPU, fewer calls). Call after `model.to(device)`.

        >>> adam(nn.Linear(2, 1).parameters(), lr=1e-3).defaults["foreach"]
        True
    """
    params = list(params)
    on_cuda = bool(params) and all(p.is_cuda for p in params)
    kind = {"fused": True} if on_cuda else {"foreach": True}
    return torch.optim.Adam(params, lr=lr, **kind, **kwargs)


def to_channels_last(module: nn.Module) -> nn.Module:
    """Store `module`'s 4-d weights in channels_last (NHWC) memory: the same values, a layout that
    cuDNN's convolutions prefer with bf16 on recent GPUs. `setup_training` calls it on CUDA only,
    so CPU training and saved runs (always written contiguous) are unchanged."""
    return module.to(memory_format=torch.channels_last)


def seeded_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator | None:
    """A generator for reproducible sampling, or None to use the global RNG."""
    if seed is None:
        return None
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g
