"""Turning model output into pictures and files: grids, PNG, NPZ, ZIP, latent interpolation.

    from genlib.runs import load_run
    from genlib.sample import sample_images, save_samples
    run = load_run("runs/2026-11-28-gan-digits")
    save_samples(sample_images(run.model, 64, seed=0), "grid.png")
"""
from __future__ import annotations

import dataclasses
import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import torch

from .device import model_threads
from .errors import GenlibError
from .models.base import ImageModel


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """N×C×H×W in [-1, 1] → N×H×W×C uint8 (C stays 1 for gray)."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2, pad_value: int = 255
              ) -> np.ndarray:
    """Tile N images into one H×W×3 uint8 array, `nrow` per row (default: as square as possible)."""
    pics = to_uint8(images)
    if pics.shape[-1] == 1:
        pics = np.repeat(pics, 3, axis=-1)
    n, h, w, c = pics.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    grid = np.full((rows * (h + padding) + padding, nrow * (w + padding) + padding, c), pad_value, np.uint8)
    for i, pic in enumerate(pics):
        r, k = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[top:top + h, left:left + w] = pic
    return grid


def grid_png(images: torch.Tensor, nrow: int | None = None, scale: int = 1) -> bytes:
    """A grid as PNG bytes, optionally enlarged `scale` times with crisp pixels."""
    from PIL import Image   # here, not at the top: training and sampling need no Pillow

    img = Image.fromarray(make_grid(images, nrow))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def images_zip(images: torch.Tensor, prefix: str = "sample") -> bytes:
    """Every image as its own PNG inside a ZIP (for download)."""
    from PIL import Image

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, pic in enumerate(to_uint8(images)):
            one = io.BytesIO()
            Image.fromarray(pic[..., 0] if pic.shape[-1] == 1 else pic).save(one, format="PNG")
            zf.writestr(f"{prefix}_{i:04d}.png", one.getvalue())
    return buf.getvalue()


def save_samples(images: torch.Tensor, path: str | Path) -> Path:
    """Write samples as a PNG grid (.png) or an array (.npz: key `images`, float32 N×C×H×W in [0, 1])."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".npz"):
        raise GenlibError(f"Cannot write samples to {path.name}: use a .png or .npz file name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        path.write_bytes(grid_png(images))
    else:
        arr = ((images.detach().float().cpu().clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)
        np.savez_compressed(path, images=arr)
    return path


@torch.no_grad()
def sample_images(model, n: int, seed: int | None = None, labels: torch.Tensor | None = None,
                  batch_size: int = 256) -> torch.Tensor:
    """`n` samples in [-1, 1] on the CPU, drawn in batches; the same seed gives the same images."""
    if n < 1:
        raise GenlibError("Ask for at least one sample.")
    out = []
    with model_threads(model):                          # one thread for a small model on a processor
        for start in range(0, n, batch_size):
            k = min(batch_size, n - start)
            part_seed = None if seed is None else seed + start  # each batch reproducible on its own
            part_labels = None if labels is None else labels[start:start + k]
            out.append(model.sample(k, seed=part_seed, labels=part_labels).float().cpu())
    return torch.cat(out)


@torch.no_grad()
def latent_noise(model, seed: int) -> torch.Tensor:
    """The latent vector a GAN or VAE would draw for `seed` (1×latent_dim)."""
    _require_latent_space(model)
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn(1, model.latent_dim, generator=g)


@torch.no_grad()
def interpolate(model, start: torch.Tensor, end: torch.Tensor, steps: int = 8,
                labels: torch.Tensor | None = None) -> torch.Tensor:
    """Decode `steps` points on the path between two latent vectors (spherical for Gaussian noise)."""
    _require_latent_space(model)
    a, b = start.reshape(1, -1).float(), end.reshape(1, -1).float()
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    omega = torch.acos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
    if omega.abs() < 1e-4:
        z = (1 - t) * a + t * b
    else:
        z = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    if labels is not None:
        labels = labels.to(device).expand(steps)
    images = model.decode(z.to(device), labels) if labels is not None else model.decode(z.to(device))
    model.train(was_training)
    return images.float().cpu()


def _require_latent_space(model) -> None:
    """The model declares a latent space (`capabilities.latent_walk`), or a GenlibError says so."""
    if not (isinstance(model, ImageModel) and model.capabilities.latent_walk):
        raise GenlibError("This model has no latent space to walk through: only a GAN or a VAE has one "
                          "(its `capabilities.latent_walk` is False).")


# ---- naming and labelling what is drawn ---------------------------------------------------------
def class_columns(n: int, num_classes: int) -> int:
    """Pictures per row of a grid of `n` samples drawn with the classes in turn (0, 1, …, 0, 1, …),
    chosen so that every column holds one class: a whole number of rounds of the classes, as
    close to a square grid as that allows.

        >>> class_columns(36, 3), class_columns(36, 10), class_columns(4, 10)
        (6, 10, 4)
    """
    if num_classes <= 0:
        return max(1, math.ceil(math.sqrt(n)))
    if n <= num_classes:
        return n
    rounds = max(1, round(math.sqrt(n) / num_classes))
    return num_classes * rounds


def class_caption(n: int, class_names, nrow: int) -> str:
    """Which class each column of a `class_columns` grid shows, in words.

        >>> class_caption(36, ["circle", "square", "triangle"], 6)
        'Each column is one class; left to right: circle, square, triangle, circle, square, triangle.'
    """
    names = [str(c) for c in class_names]
    if not names:
        return ""
    shown = [names[i % len(names)] for i in range(min(nrow, n))]
    return "Each column is one class; left to right: " + ", ".join(shown) + "."


def download_name(run_name: str, n: int, seed: int, ext: str = "png") -> str:
    """A file name that says what is inside: "gan-on-shapes-1-dec-14-05-36-samples-seed0.png".

        >>> download_name("GAN on shapes, 1 Dec 14:05", 36, 0)
        'gan-on-shapes-1-dec-14-05-36-samples-seed0.png'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", str(run_name).lower()).strip("-")[:80] or "samples"
    return f"{slug}-{int(n)}-samples-seed{int(seed)}.{ext}"


# ---- do the samples look like the data yet? ------------------------------------------------------
def untile(grid: np.ndarray, image_shape, padding: int = 2) -> torch.Tensor:
    """The pictures of a `make_grid` grid (H×W×3 uint8) back as N×C×H×W in [-1, 1] (gray: C = 1).
    Empty cells at the end of the last row (all padding) are left out."""
    c, h, w = (int(v) for v in image_shape)
    rows, cols = (grid.shape[0] - padding) // (h + padding), (grid.shape[1] - padding) // (w + padding)
    tiles = []
    for r in range(rows):
        for k in range(cols):
            top, left = padding + r * (h + padding), padding + k * (w + padding)
            tiles.append(grid[top:top + h, left:left + w, :c])
    while len(tiles) > 1 and (tiles[-1] == 255).all():
        tiles.pop()
    x = torch.from_numpy(np.stack(tiles)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1


@dataclasses.dataclass(frozen=True)
class Likeness:
    """How the colours, contrast and texture of some samples compare with the training pictures."""

    colour_distance: float     # histogram distance per channel, averaged: 0 the same … 1 nothing in common
    contrast_ratio: float      # spread of pixel values, samples ÷ data (1: the same)
    texture_ratio: float       # mean difference of neighbouring pixels, samples ÷ data (noise ≫ 1)
    problems: tuple = ()       # what a person should hear, one sentence each

    @property
    def looks_like_data(self) -> bool:
        return not self.problems


def likeness(samples: torch.Tensor, data: torch.Tensor, max_data: int = 512) -> Likeness:
    """Compare samples with (up to `max_data` of) the training pictures, both N×C×H×W in [-1, 1]:
    colour histograms per channel, contrast and how much neighbouring pixels differ. Cheap
    (a few milliseconds) and deliberately coarse: it catches noise, blank pictures and wrong
    colours, not fine detail.

        >>> x = torch.rand(64, 1, 8, 8) * 2 - 1
        >>> likeness(x[:32], x[32:]).looks_like_data
        True
        >>> likeness(torch.zeros(32, 1, 8, 8), x).looks_like_data
        False
    """
    s = samples.detach().float().cpu().clamp(-1, 1)
    d = data.detach().float().cpu()[:max_data].clamp(-1, 1)
    colour = float(np.mean([_hist_distance(s[:, ch], d[:, ch]) for ch in range(s.shape[1])]))
    contrast = float(s.std() / d.std().clamp_min(1e-6))
    texture = float(_roughness(s) / max(_roughness(d), 1e-6))
    problems = []
    if texture > 2.0:
        problems.append("The samples are much grainier than your pictures: they still look like "
                        "noise.")
    if contrast < 0.3:
        problems.append("The samples are nearly blank: they have far less contrast than your "
                        "pictures.")
    if colour > 0.5:
        problems.append("The samples' colours and shades do not match your pictures yet.")
    return Likeness(colour, contrast, texture, tuple(problems))


def _hist_distance(a: torch.Tensor, b: torch.Tensor, bins: int = 16) -> float:
    """Total variation distance between the histograms of two sets of values in [-1, 1]."""
    ha = torch.histc(a, bins, -1, 1)
    hb = torch.histc(b, bins, -1, 1)
    return float(0.5 * (ha / ha.sum().clamp_min(1) - hb / hb.sum().clamp_min(1)).abs().sum())


def _roughness(x: torch.Tensor) -> float:
    """Mean absolute difference between horizontally and vertically neighbouring pixels."""
    return float(((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., 1:] - x[..., :-1]).abs().mean()) / 2)
