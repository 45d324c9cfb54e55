"""Feature spaces to compare pictures in: what FID, precision/recall and the copy check measure with.

    from genlib.data import load_builtin
    from genlib.features import domain_extractor, inception_extractor
    data = load_builtin("digits")
    features = domain_extractor(data)          # trained once per dataset, then loaded from disk
    f = features(data.images[:100])            # 100 × features.dim, on the CPU
    features.classify(data.images[:100])       # its guess of each picture's class (labelled data)
    inception_extractor()                      # Inception-v3, or None when it is not on this machine

An `Extractor` has a `name` (what a person reads next to a score), a `dim` and is called on N×C×H×W
pictures in [-1, 1]; a `Classifier` adds `classify`. Two kinds exist:

- Inception-v3 (the feature space of the published FID numbers), only when torchvision and its
  pretrained weights are already on the machine: genlib never downloads them.
- A small domain network genlib trains itself on the person's own pictures, once per dataset
  (keyed by the data's fingerprint and image shape) and cached under the runs folder as
  safetensors + JSON (nothing is pickled): with labels a LeNet-style classifier (the features are
  its penultimate layer, `classify` its most likely class), without labels a small convolutional
  autoencoder (the features are its bottleneck). It trains through `genlib.train.fit` on the
  smaller side of `split_indices` (a fifth of the pictures) and its card records how it did on
  the other four fifths (held-out accuracy, or reconstruction error), where samples are then
  compared: pictures a network learned from look different to it from new ones, and samples are
  new to it. Its features are centred on the pictures it learned from
  and scaled to unit variance on average, so FID and KID read alike for any data. Inception features know nothing about handwritten
  digits at 16×16; a network trained on the data itself does, which is why it is the default.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from ._version import __version__
from .data.types import ImageData
from .errors import GenlibError
from .models.base import Trainable, adam, eval_mode
from .runs import data_words, runs_root
from .train import TrainConfig, fit

__all__ = ["Extractor", "Classifier", "DomainConfig", "DomainNet", "DomainExtractor", "DomainClassifier",
           "domain_extractor", "cache_folder", "is_cached", "split_indices", "inception_extractor", "inception_weights"]

log = logging.getLogger(__name__)
FORMAT = "genlib-features/2"       # 2: trained on the smaller side of the split
HELD_OUT = 0.2           # share of the pictures the domain network never trains on
SPLIT_SEED = 0           # the split is fixed, so evaluation's real pictures stay unseen by it


# ---- what every feature space offers ------------------------------------------------------------
@runtime_checkable
class Extractor(Protocol):
    """Pictures N×C×H×W in [-1, 1] → features N×`dim` (a CPU float tensor), batched, without grad."""

    name: str                 # what a person reads beside a score: "Inception-v3"
    dim: int                  # numbers per picture

    def __call__(self, images: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class Classifier(Extractor, Protocol):
    """An extractor that also names each picture's class (the domain network on labelled data)."""

    num_classes: int

    def classify(self, images: torch.Tensor) -> torch.Tensor: ...


def split_indices(n: int, *, share: float = HELD_OUT, seed: int = SPLIT_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded split of `n` pictures into (training, held-out) indices, each sorted; the held-out
    part is `share` of them (rounded, at least one). MNIST's 10,000 give 8,000 and 2,000.

        >>> [len(i) for i in split_indices(10_000)]
        [8000, 2000]
    """
    if n < 2:
        raise GenlibError(f"Need at least two pictures to set some aside for evaluation (got {n}).")
    held = min(n - 1, max(1, round(n * share)))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    return perm[held:].sort().values, perm[:held].sort().values


def cache_folder(root: str | Path | None = None) -> Path:
    """Where domain networks are kept: `<root>/.features`, `root` being a runs folder (default:
    `genlib.runs.runs_root()`). A hosted server gives each visitor a runs folder of their own, so
    a network trained on one visitor's pictures is never where another visitor's jobs look.

        >>> cache_folder("runs/visitor-1").as_posix()
        'runs/visitor-1/.features'
    """
    return (Path(root) if root is not None else runs_root()) / ".features"


# ---- the domain network -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DomainConfig:
    width: int = 16           # channels of the first convolution (the second has twice as many)
    hidden: int = 128         # the fully connected layer before the features
    dim: int = 64             # features per picture (the classifier's penultimate layer / the bottleneck)
    max_side: int = 32        # larger pictures are averaged down to this side first (keeps it cheap)
    steps: int = 300          # training steps: ~10 s for digits, ~25 s for MNIST on one CPU thread
    batch_size: int = 128     # pictures per step
    lr: float = 2e-3          # Adam's learning rate
    seed: int = 0             # the same data gives the same network

    def __post_init__(self):
        for name in ("width", "hidden", "dim", "max_side", "steps", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise GenlibError(f"DomainConfig.{name} must be a whole number of at least 1.")


class DomainNet(Trainable):
    """LeNet-style trunk (conv 3×3, pool, conv 3×3, pool, two dense layers) → `dim` features; then a
    class head (labelled data, cross-entropy) or a small decoder (no labels, mean squared error)."""

    family = "domain"

    def __init__(self, config: DomainConfig, image_shape, num_classes: int = 0):
        super().__init__(config)
        c, h, w = (int(v) for v in image_shape)
        self.image_shape, self.num_classes = (c, h, w), int(num_classes)
        self.side = min(h, config.max_side)
        wd = config.width
        self.trunk = nn.Sequential(
            nn.Conv2d(c, wd, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(wd, 2 * wd, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(2 * wd * 16, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.dim))                       # B, dim: the features
        if self.num_classes:
            self.head = nn.Sequential(nn.ReLU(), nn.Linear(config.dim, self.num_classes))
        else:
            s0 = -(-self.side // 4)                                     # decoded grid, upsampled twice
            self.head = nn.Sequential(
                nn.Linear(config.dim, 2 * wd * s0 * s0), nn.ReLU(), nn.Unflatten(1, (2 * wd, s0, s0)),
                nn.ConvTranspose2d(2 * wd, wd, 4, 2, 1), nn.ReLU(),
                nn.ConvTranspose2d(wd, c, 4, 2, 1))
        # features are centred and scaled after training (`calibrate`), so that their numbers, and
        # KID's polynomial kernel on them, do not depend on how large the trunk's outputs grew
        self.register_buffer("center", torch.zeros(config.dim))
        self.register_buffer("scale", torch.ones(()))

    @property
    def kind(self) -> str:
        return "classifier" if self.num_classes else "autoencoder"

    def build_args(self) -> dict:
        return {"image_shape": list(self.image_shape), "num_classes": self.num_classes}

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"model": adam(self.parameters(), lr=lr)}

    def fit_size(self, x: torch.Tensor) -> torch.Tensor:
        """Pictures at the side the network reads (averaged down when larger than `max_side`)."""
        x = x.float()
        return F.adaptive_avg_pool2d(x, self.side) if x.shape[-1] != self.side else x

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk's raw output: what the class head and the decoder read."""
        return self.trunk(self.fit_size(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The features: `embed`, centred on the training pictures and scaled to unit variance
        (on average over the dimensions)."""
        return (self.embed(x) - self.center) * self.scale

    @torch.no_grad()
    def calibrate(self, images: torch.Tensor, batch_size: int = 512) -> None:
        """Set `center` and `scale` from the raw features of (training) pictures."""
        with eval_mode(self):
            f = torch.cat([self.embed(images[s:s + batch_size].to(self.device)).float()
                           for s in range(0, len(images), batch_size)])
        self.center.copy_(f.mean(0))
        self.scale.copy_(f.var(0).mean().clamp_min(1e-12).rsqrt())

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        out = torch.tanh(self.head(f))
        return F.interpolate(out, size=(self.side, self.side), mode="bilinear", align_corners=False) \
            if out.shape[-1] != self.side else out

    def train_step(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One Adam step; the loss comes back as a detached 0-d tensor (no wait for the GPU)."""
        f = self.embed(x)
        if self.num_classes:
            loss = F.cross_entropy(self.head(f).float(), y)
        else:
            loss = F.mse_loss(self.decode(f).float(), self.fit_size(x))
        self.update("model", loss)
        return {"loss": loss.detach().float()}


class DomainExtractor:
    """The domain network as an `Extractor`: features of any number of pictures, in batches."""

    def __init__(self, net: DomainNet, card: dict, device: str | torch.device = "cpu",
                 batch_size: int = 512, loaded_from_cache: bool = False):
        self.net = net.to(device).eval()
        self.card = card                        # what it was trained on and how well it does
        self.name = card["name"]
        self.dim = net.config.dim
        self.num_classes = net.num_classes
        self.batch_size = batch_size
        self.loaded_from_cache = loaded_from_cache

    def _batched(self, images: torch.Tensor, fn) -> torch.Tensor:
        if images.ndim != 4 or tuple(images.shape[1:]) != self.net.image_shape:
            raise GenlibError(f"The {self.name} reads pictures of {'×'.join(map(str, self.net.image_shape))}, "
                              f"not {'×'.join(map(str, images.shape[1:]))}.")
        device = self.net.device
        with torch.no_grad(), eval_mode(self.net):
            return torch.cat([fn(images[s:s + self.batch_size].to(device)).float().cpu()
                              for s in range(0, len(images), self.batch_size)]) if len(images) \
                else torch.zeros(0, self.dim)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return self._batched(images, self.net.features)

    def __repr__(self) -> str:
        return f"<{self.name}, {self.dim} features>"


class DomainClassifier(DomainExtractor):
    """The domain network on labelled data: features, and its guess of each picture's class."""

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """The most likely class of each picture, int64 (on the CPU)."""
        if not len(images):
            return torch.zeros(0, dtype=torch.long)
        logits = self._batched(images, lambda x: self.net.head(self.net.embed(x)))
        return logits.argmax(1)


def domain_extractor(data: ImageData, *, cache_dir: str | Path | None = None, device: str = "cpu",
                     config: DomainConfig | None = None) -> DomainExtractor:
    """The domain network for `data`: loaded from `cache_dir` (default: the runs folder's
    `.features`) when this data has one, else trained now (a few hundred steps, seconds on a CPU)
    and saved there. A classifier (`DomainClassifier`) when the data has labels.

        >>> from genlib.data import load_builtin
        >>> f = domain_extractor(load_builtin("digits"), cache_dir="/tmp/features")  # doctest: +SKIP
        >>> f.card["held_out_accuracy"] > 0.9                                      # doctest: +SKIP
        True
    """
    config = config or DomainConfig()
    if len(data) < 10:
        raise GenlibError(f"Need at least 10 pictures to learn what they look like (got {len(data)}).")
    num_classes = data.num_classes if data.labels is not None and data.num_classes >= 2 else 0
    entry = _entry(data, cache_dir)
    cls = DomainClassifier if num_classes else DomainExtractor
    net = _load(entry, config, data.shape, num_classes)
    if net is not None:
        return cls(net[0], net[1], device, loaded_from_cache=True)
    net, card = _train(data, config, num_classes, device)
    _save(entry, net, card)
    return cls(net, card, device)


def _entry(data: ImageData, cache_dir) -> Path:
    folder = Path(cache_dir) if cache_dir is not None else cache_folder()
    return folder / f"{data.fingerprint()}-{'x'.join(map(str, data.shape))}"


def is_cached(data: ImageData, cache_dir: str | Path | None = None) -> bool:
    """Whether `domain_extractor(data, cache_dir=…)` finds its network saved (no training needed)."""
    return _entry(data, cache_dir).is_dir()


def _train(data: ImageData, config: DomainConfig, num_classes: int, device: str) -> tuple[DomainNet, dict]:
    # the network learns from the smaller side of the split and is judged on the larger one, which
    # is where samples are compared (genlib.evaluate): pictures it learned from it reads differently
    # from new ones (trained on MNIST's 8,000, it put those very pictures at 5.4× the FID of two
    # sets of new ones), and a generator's samples are new pictures to it
    held_idx, train_idx = split_indices(len(data))
    labels = data.labels if num_classes else None
    part = ImageData(data.images[train_idx], None if labels is None else labels[train_idx],
                     list(data.class_names), data.name)
    # fit seeds the global generator; fork it so training here leaves the caller's random state alone
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = DomainNet(config, data.shape, num_classes)
        state = fit(net, part, TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                                           device=str(device), seed=config.seed, log_every=max(1, config.steps)))
    if state.status != "finished":
        raise GenlibError(f"Could not train the feature network on {data.name}: {state.error or state.status}")
    net.cpu().eval()
    net.calibrate(part.images)
    held = data.images[held_idx]
    what = data_words(data.name)
    card = {"format": FORMAT, "genlib_version": __version__, "kind": net.kind,
            "name": f"{what} {net.kind} (genlib, trained on this data)",
            "data": {"name": data.name, "fingerprint": data.fingerprint(), "count": len(data),
                     "shape": list(data.shape)},
            "config": dataclasses.asdict(config), "num_classes": num_classes,
            "train_count": len(train_idx), "held_out_count": len(held_idx),
            "seconds": round(state.elapsed, 2), "device": state.device,
            "created": dt.datetime.now().isoformat(timespec="seconds")}
    with torch.no_grad():
        if num_classes:
            guess = DomainClassifier(net, card).classify(held)
            card["held_out_accuracy"] = round(float((guess == labels[held_idx]).float().mean()), 4)
        else:
            x = net.fit_size(held)
            error = float(F.mse_loss(net.decode(net.embed(x)), x))
            baseline = float(((x - x.mean(0, keepdim=True)) ** 2).mean())   # the mean picture's error
            card["held_out_error"] = round(error, 5)
            card["held_out_explained"] = round(1 - error / max(baseline, 1e-12), 4)
    log.info("trained %s in %.1f s", card["name"], state.elapsed)
    return net, card


def _load(entry: Path, config: DomainConfig, shape, num_classes: int) -> tuple[DomainNet, dict] | None:
    """The cached network and its card, or None (absent, from another config, or damaged: retrain)."""
    if not (entry / "card.json").is_file():
        return None
    try:
        card = json.loads((entry / "card.json").read_text())
        if card.get("format") != FORMAT or card.get("config") != dataclasses.asdict(config) \
                or card.get("num_classes") != num_classes:
            return None
        net = DomainNet(config, shape, num_classes)
        net.load_state_dict(load_file(str(entry / "network.safetensors")), strict=True)
        return net.eval(), card
    except Exception as exc:  # noqa: BLE001 — a damaged cache entry is trained again, never fatal
        log.warning("the cached feature network in %s cannot be read (%s); training it again", entry, exc)
        return None


def _save(entry: Path, net: DomainNet, card: dict) -> None:
    """Write into a temporary folder, then rename it into place: a crash never leaves half an entry."""
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
        save_file(state, str(tmp / "network.safetensors"), metadata={"format": FORMAT})
        (tmp / "card.json").write_text(json.dumps(card, indent=2))
        if entry.exists():
            shutil.rmtree(entry, ignore_errors=True)             # stale or damaged: replaced
        os.replace(tmp, entry)
    except OSError as exc:                                       # a read-only disk: use it unsaved
        log.warning("could not cache the feature network in %s: %s", entry, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- Inception-v3, when it is already here --------------------------------------------------
INCEPTION_FILES = "inception_v3_google-*.pth"      # torchvision's pretrained weights (never downloaded)


def inception_weights(hub_dir: str | Path | None = None) -> Path | None:
    """torchvision's Inception-v3 weights in the torch hub cache, or None when torchvision or the
    file is missing."""
    if importlib.util.find_spec("torchvision") is None:
        return None
    folder = Path(hub_dir) if hub_dir is not None else Path(torch.hub.get_dir())
    found = sorted((folder / "checkpoints").glob(INCEPTION_FILES))
    return found[-1] if found else None


class InceptionExtractor:
    """Inception-v3's 2,048 pooled features, on pictures resized to 299×299 (gray repeated to RGB)."""

    name = "Inception-v3"
    dim = 2048

    def __init__(self, net: nn.Module, device: str | torch.device = "cpu", batch_size: int = 64):
        self.net, self.batch_size = net.to(device).eval(), batch_size
        self.mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        device, out = next(self.net.parameters()).device, []
        for s in range(0, len(images), self.batch_size):
            x = (images[s:s + self.batch_size].float().clamp(-1, 1) + 1) / 2
            x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
            x = F.interpolate((x - self.mean) / self.std, size=(299, 299), mode="bilinear", align_corners=False)
            out.append(self.net(x.to(device)).float().cpu())
        return torch.cat(out) if out else torch.zeros(0, self.dim)


def inception_extractor(device: str | torch.device = "cpu", hub_dir: str | Path | None = None):
    """Inception-v3 as an `Extractor` when torchvision and its weights are on this machine; else None
    (nothing is downloaded, nothing raises)."""
    path = inception_weights(hub_dir)
    if path is None:
        return None
    try:
        from torchvision.models import inception_v3

        net = inception_v3(weights=None, aux_logits=True, init_weights=False)
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        net.fc = nn.Identity()
        return InceptionExtractor(net, device)
    except Exception as exc:  # noqa: BLE001 — a broken install means "not available", as documented
        log.warning("Inception-v3 is present but cannot be loaded (%s)", exc)
        return None
