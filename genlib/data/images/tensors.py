"""Arrays of pixels → training-ready tensors: layout, value range, square crop and resize,
channels, labels, and the facts and warnings every source shares.

Every source ends here: `images_from_array` for arrays, `_choose_channels` and `_finish` for
image files.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import DataError
from ..types import HealthReport, ImageData
from . import limits
from .limits import _check_color, _check_image_size, _check_output_size, pick_image_size


def images_from_array(array: np.ndarray, labels: np.ndarray | None = None, *,
                      class_names: list[str] | None = None, name: str = "images",
                      image_size: int | None = None, color: str | None = None,
                      value_range: tuple[float, float] | None = None,
                      report: HealthReport | None = None) -> ImageData:
    """Turn an in-memory array of images (N×H×W, N×H×W×C or N×C×H×W) into `ImageData`.

    This is the path every array takes (.npz, .npy, IDX and the built-ins). `value_range`
    (lo, hi) says what black and white are; None detects [0, 1], [-1, 1] or [0, 255].

    >>> data = images_from_array(np.full((4, 8, 8), 255, np.uint8), image_size=16)
    >>> data.shape, float(data.images.max())
    ((1, 16, 16), 1.0)
    """
    report = report or HealthReport("images")
    image_size = _check_image_size(image_size)
    color = _check_color(color)
    x = _to_nchw(np.asarray(array), name, report)
    y, names = (None, [])
    if labels is not None:
        y, names = _labels_from_array(np.asarray(labels), len(x), class_names, report)
    images = _normalise_array(x, value_range, image_size, color, name, report)
    return _finish(images, y, names, name, report)


# ---- arrays → tensors -------------------------------------------------------------------
def _layout(shape: tuple[int, ...]) -> tuple[str, int, int, int, int] | None:
    """The layout of an array of images from its shape alone (a file's header is enough):
    (name, N, C, H, W), or None when the shape is not a set of images."""
    if len(shape) == 2:
        side = math.isqrt(shape[1])
        return ("N×(H·W)", shape[0], 1, side, side) if side * side == shape[1] and side >= 2 \
            else None
    if len(shape) == 3:
        if shape[2] in (3, 4) and shape[1] > 4:
            return None                                          # one H×W×C colour image
        return ("N×H×W", shape[0], 1, shape[1], shape[2])
    if len(shape) == 4:
        last, first = shape[3] in (1, 3, 4), shape[1] in (1, 3, 4)
        if last and (not first or shape[1] == shape[2]):
            return ("N×H×W×C", shape[0], shape[3], shape[1], shape[2])
        if first:
            return ("N×C×H×W", *shape)
    return None


def _channels_held(c: int, color: str | None) -> int:
    """Channels of float32 pixels held while C stored channels become the colour asked for:
    3 unless the images are gray and stay gray (gray → RGB and RGB → gray both hold 3)."""
    return 3 if c > 1 or color == "rgb" else 1


def _check_array_fits(shape: tuple[int, ...], image_size: int | None, color: str | None) -> None:
    """Refuse, from the shape alone (before the array is read), images whose float32 result
    would not fit the memory cap at `image_size` (None: the side that would be picked)."""
    layout = _layout(tuple(int(d) for d in shape))
    if layout is None:
        return                  # not images: `_to_nchw` explains it once the (capped) array is read
    _, n, c, h, w = layout
    side = image_size or pick_image_size([min(h, w)])
    _check_output_size(n, _channels_held(c, color), side)


def _to_nchw(x: np.ndarray, name: str, report: HealthReport) -> np.ndarray:
    """Recognise the layout (N×H×W, N×H×W×C, N×C×H×W, or N×D flat squares) → N×C×H×W view."""
    if x.dtype.hasobject or x.dtype.kind not in "biuf":
        raise DataError(f"{name} holds values of type {x.dtype}, not numbers. Save pixels as "
                        "uint8 (0-255) or float (0-1).")
    shape = "×".join(map(str, x.shape))
    layout = _layout(x.shape)
    if layout is not None:
        report.facts["layout"], n, c, h, w = layout
        if x.ndim == 2:
            report.repairs.append(f"Read each row of {x.shape[1]} values as a {h}×{w} gray "
                                  "image.")
            return x.reshape(n, 1, h, w)
        if x.ndim == 3:
            return x[:, None]
        return x.transpose(0, 3, 1, 2) if layout[0] == "N×H×W×C" else x
    if x.ndim == 2:
        raise DataError(f"{name} is a table of shape {shape}, not images. Save an array of "
                        "N×H×W or N×H×W×C pixels.")
    if x.ndim == 3:
        raise DataError(f"{name} has shape {shape}: that looks like one colour image "
                        "(H×W×C), not a set of images. Stack your images into an "
                        "N×H×W×C array.")
    raise DataError(f"{name} has shape {shape}, which is not a set of images. Save an array of "
                    "N×H×W (gray), N×H×W×C or N×C×H×W with C = 1, 3 or 4 channels.")


def _value_range(x: np.ndarray, name: str, report: HealthReport) -> tuple[float, float]:
    """What black and white are: detected from the dtype and the values, and said in the report."""
    if x.dtype == np.uint8:
        return 0.0, 255.0
    if x.dtype == np.bool_:
        return 0.0, 1.0
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{name} has NaN or infinite values. Replace them (e.g. with "
                        "numpy.nan_to_num) and save again.")
    lo, hi = float(x.min()), float(x.max())
    report.facts["values_found"] = [lo, hi]
    tol = 1e-3 if x.dtype.kind == "f" else 0
    if lo >= -tol and hi <= 1 + tol:
        out = (0.0, 1.0)
    elif lo >= -1 - tol and hi <= 1 + tol:
        out = (-1.0, 1.0)
    elif lo >= -tol and hi <= 255 + tol:
        out = (0.0, 255.0)
    elif x.dtype.kind == "u" and x.dtype.itemsize == 2:
        out = (0.0, 65535.0)
    elif hi > lo:
        report.warnings.append(f"Pixel values run from {lo:g} to {hi:g}, which is not a usual "
                               "image scale, so the lowest became black and the highest white.")
        out = (lo, hi)
    else:
        raise DataError(f"Every value in {name} is {lo:g}: there is no image in it.")
    if out[1] >= 255 and hi < out[1] / 4:
        report.warnings.append(f"The brightest value is {hi:g} on a 0-{out[1]:g} scale, so the "
                               "images will look almost black. If your pixels use a smaller "
                               "scale (e.g. 0-16), divide by it and save floats in [0, 1].")
    return out


def _normalise_array(x: np.ndarray, value_range: tuple[float, float] | None,
                     image_size: int | None, color: str | None, name: str,
                     report: HealthReport) -> torch.Tensor:
    """N×C×H×W array (any dtype) → float32 [0, 1] N×C'×S×S, in chunks to bound memory."""
    n, c, h, w = x.shape
    if n == 0:
        raise DataError(f"{name} holds no images (its first dimension is 0).")
    if h < 2 or w < 2:
        raise DataError(f"The images in {name} are {h}×{w} pixels, too small to learn from.")
    if h * w > limits.MAX_IMAGE_PIXELS:
        raise DataError(f"The images in {name} are {h}×{w} pixels, more than genlib reads "
                        f"({limits.MAX_IMAGE_PIXELS:,}). Save smaller images.")
    lo, hi = value_range or _value_range(x, name, report)
    report.facts["value_range"] = [lo, hi]
    if (lo, hi) != (-1.0, 1.0):
        report.repairs.append(f"Scaled pixel values from [{lo:g}, {hi:g}] to [-1, 1].")
    side = image_size or pick_image_size([min(h, w)])
    c_mid = 1 if c == 1 else 3                                   # after alpha compositing
    _check_output_size(n, _channels_held(c, color), side)
    out = torch.empty(n, c_mid, side, side)
    chunk = max(1, (64 << 20) // max(1, c * h * w * 4))         # ~64 MiB of float per chunk
    for i in range(0, n, chunk):
        t = torch.from_numpy(np.ascontiguousarray(x[i:i + chunk]).astype(np.float32))
        t = ((t - lo) / (hi - lo)).clamp_(0, 1)
        if c == 4:                                               # RGBA over white
            t = t[:, :3] * t[:, 3:] + (1 - t[:, 3:])
        out[i:i + chunk] = _square_resize(t, side)
    if c == 4:
        report.repairs.append(f"Composited {_plural(n, 'RGBA image')} onto a white background.")
    if h != w:
        report.repairs.append(f"Cropped {_plural(n, 'image')} from {w}×{h} to the centre "
                              f"{min(h, w)}×{min(h, w)} square.")
    if min(h, w) != side:
        report.repairs.append(f"Resized {_plural(n, 'image')} from {min(h, w)}×{min(h, w)} to "
                              f"{side}×{side}.")
    report.facts["sizes"] = {f"{w}×{h}": n}
    return _choose_channels(out, color, report, n_color_sources=n if c > 1 else 0)


def _square_resize(t: torch.Tensor, side: int) -> torch.Tensor:
    """Centre-crop B×C×H×W to a square, then resize (bilinear, antialiased when shrinking)."""
    h, w = t.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    t = t[..., top:top + s, left:left + s]
    if s == side:
        return t
    return F.interpolate(t, size=(side, side), mode="bilinear", antialias=s > side,
                         align_corners=False).clamp_(0, 1)


def _choose_channels(x: torch.Tensor, color: str | None, report: HealthReport,
                     n_color_sources: int, n_gray_sources: int = 0) -> torch.Tensor:
    """Apply the colour rule to float [0, 1] N×C×S×S: gray when every image is gray.

    `n_color_sources` / `n_gray_sources` count the images stored in colour / gray modes, so the
    report can say how many each change touched.
    """
    n, c = x.shape[:2]
    if c == 3 and color != "rgb":
        if bool((x[:, 0] == x[:, 1]).all() and (x[:, 1] == x[:, 2]).all()):
            if n_color_sources:
                report.repairs.append(f"Stored {_plural(n_color_sources, 'RGB image')} whose "
                                      "three channels are equal as 1-channel gray.")
            x = x[:, :1].clone()
        elif color == "gray":
            # ITU-R 601 luma, the weights Pillow's convert("L") uses.
            x = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
            report.repairs.append(f"Converted {_plural(n, 'image')} to gray, as asked "
                                  "(color='gray').")
        elif n_gray_sources:
            report.repairs.append("Repeated the gray channel of "
                                  f"{_plural(n_gray_sources, 'gray image')} into RGB to match "
                                  "the colour ones.")
    elif c == 1 and color == "rgb":
        x = x.expand(-1, 3, -1, -1).contiguous()
        report.repairs.append(f"Repeated the gray channel of {_plural(n, 'image')} into RGB, "
                              "as asked (color='rgb').")
    return x


def _labels_from_array(y: np.ndarray, n: int, class_names: list[str] | None,
                       report: HealthReport) -> tuple[torch.Tensor | None, list[str]]:
    """Labels as int64 0..K-1 plus their names; anything unusable is ignored with a warning."""
    if y.ndim == 2 and y.shape[0] == n and y.shape[1] > 1 and y.dtype.kind in "biuf" \
            and np.isin(y, (0, 1)).all() and (y.sum(1) == 1).all():
        y = y.argmax(1)
        report.repairs.append("Read the one-hot label rows as class numbers.")
    if y.ndim != 1 or len(y) != n:
        report.warnings.append(f"Ignored the labels: their shape {y.shape} is not one label for "
                               f"each of the {n:,} images.")
        return None, []
    if y.dtype.kind in "US":
        names, codes = np.unique(y.astype(str), return_inverse=True)
        names = [str(s) for s in names]
    elif y.dtype.kind in "biuf" and (y.dtype.kind != "f" or np.all(np.mod(y, 1) == 0)):
        values, codes = np.unique(y.astype(np.int64), return_inverse=True)
        if len(values) > 1000:
            report.warnings.append(f"Ignored the labels: {len(values):,} different values look "
                                   "like IDs or measurements, not classes.")
            return None, []
        if class_names is not None and values[0] >= 0 and values[-1] < len(class_names):
            names, codes = list(class_names), y.astype(np.int64)
        elif np.array_equal(values, np.arange(len(values))):
            names = [str(v) for v in values]
        else:
            names = [str(v) for v in values]
            report.repairs.append(f"Numbered the {len(values)} label values ("
                                  f"{', '.join(names[:5])}{', …' if len(names) > 5 else ''}) "
                                  f"as classes 0-{len(values) - 1}.")
    else:
        report.warnings.append(f"Ignored the labels: values of type {y.dtype} are not class "
                               "numbers or names.")
        return None, []
    return torch.from_numpy(np.asarray(codes, np.int64).reshape(n)), names


def _finish(images01: torch.Tensor, labels: torch.Tensor | None, class_names: list[str],
            name: str, report: HealthReport) -> ImageData:
    """[0, 1] → [-1, 1], and the facts and warnings every source shares."""
    images = images01.contiguous().mul_(2).sub_(1)      # in place when already contiguous
    n, c, s, _ = images.shape
    report.used = n
    report.facts.update(image_size=s, channels=c)
    if labels is not None and len(class_names) < 2:
        report.facts["classes"] = class_names
        labels, class_names = None, []                  # one class is no class at all
    if labels is not None:
        counts = np.bincount(labels.numpy(), minlength=len(class_names))
        report.facts["class_counts"] = {k: int(v) for k, v in zip(class_names, counts)}
        if counts.min() * 10 < counts.max():
            report.warnings.append(f"The classes are unbalanced: '{class_names[counts.argmin()]}'"
                                   f" has {counts.min():,} images, '{class_names[counts.argmax()]}'"
                                   f" {counts.max():,}. Samples of rare classes will be poorer.")
    duplicates = _count_duplicates(images)
    report.facts["duplicates"] = duplicates
    if duplicates:
        report.warnings.append(f"{_plural(duplicates, 'image')} "
                               f"{'is an exact copy' if duplicates == 1 else 'are exact copies'} "
                               "of another image in the data (kept). Remove them if they were not "
                               "meant to be there: repeats push a model to memorise.")
    if n < 100:
        report.warnings.append(f"Only {_plural(n, 'image')}: a generative model will mostly "
                               "copy them. A thousand or more gives it something to learn.")
    return ImageData(images=images, labels=labels, class_names=class_names, name=name,
                     report=report)


def _count_duplicates(images: torch.Tensor) -> int:
    """Images identical to an earlier one (after loading, so the same picture at any source)."""
    flat = images.reshape(len(images), -1)
    seen, dupes = set(), 0
    for i in range(0, len(flat), 4096):                  # hash in blocks: no full extra copy
        block = ((flat[i:i + 4096] + 1) * 127.5).round().to(torch.uint8).numpy()
        for row in block:
            digest = hashlib.blake2b(row.tobytes(), digest_size=16).digest()
            dupes += digest in seen
            seen.add(digest)
    return dupes


def _plural(n: int, noun: str) -> str:
    """'1 image', '2,000 images'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
