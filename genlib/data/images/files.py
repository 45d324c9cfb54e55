"""Image files in a ZIP or a folder: listing them, probing each, decoding them to one size.

ZIP members are read in memory and never extracted, and each file's declared size, compression
ratio and pixel count are checked against the caps in `limits` before it is decoded.
"""
from __future__ import annotations

import collections
import dataclasses
import io
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable

import numpy as np
import torch

from ...errors import DataError
from ..types import HealthReport, ImageData
from . import limits
from .limits import _check_output_size, _check_ratio, _size, pick_image_size
from .tensors import _choose_channels, _finish, _plural

if TYPE_CHECKING:                 # Pillow is imported where files are decoded
    from PIL import Image

IMAGE_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "WEBP", "GIF"}   # Pillow format names we accept
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store", "__macosx"}
GRAY_MODES = {"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}

_SUPPORTED = ("a ZIP file or folder of PNG/JPEG/BMP/WebP/GIF images, a .npz or .npy array, "
              "or an IDX file (.gz allowed)")


# ---- ZIP and folder entries -------------------------------------------------------------
@dataclasses.dataclass
class _Entry:
    """One file in a ZIP or folder: its path parts and how to open it (never extracted)."""

    parts: tuple[str, ...]                  # path inside the ZIP / folder, split
    size: int                               # declared (ZIP) or on-disk size in bytes
    open: Callable[[], IO[bytes]]           # a fresh binary stream, read in memory
    problem: str | None = None              # a reason to skip found before reading

    @property
    def label(self) -> str:
        return "/".join(self.parts)


class _Skip(Exception):
    """An entry that cannot be used; the message is the reason shown in the report."""


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in name.replace("\\", "/").split("/") if p and p != ".")


def _is_junk(parts: tuple[str, ...]) -> bool:
    """Hidden files and folders, macOS and Windows litter: ignored without a word."""
    return any(p.startswith(".") or p.lower() in JUNK_NAMES for p in parts)


def _zip_entries(zf: zipfile.ZipFile, name: str) -> tuple[list[_Entry], int]:
    infos = zf.infolist()
    if len(infos) > limits.MAX_ZIP_ENTRIES:
        raise DataError(f"{name} holds {len(infos):,} entries, more than the "
                        f"{limits.MAX_ZIP_ENTRIES:,} genlib reads. Use fewer images.")
    entries, junk, total, packed = [], 0, 0, 0
    for info in infos:
        if info.is_dir():
            continue
        parts = _parts(info.filename)
        if not parts or _is_junk(parts):
            junk += 1
            continue
        problem = None
        if info.flag_bits & 0x1:
            problem = "encrypted: genlib cannot read password-protected ZIP members"
        elif info.file_size > limits.MAX_FILE_BYTES:
            problem = (f"too large: the ZIP says it unpacks to {_size(info.file_size)} (the "
                       f"limit for one image is {_size(limits.MAX_FILE_BYTES)})")
        elif info.file_size > limits.unpack_cap(info.compress_size):
            problem = (f"too large: it unpacks from {limits.amount(info.compress_size, 'bytes')}"
                       f" to {limits.amount(info.file_size, 'bytes')}, more than the "
                       f"{limits.ratio_cap():,}:1 compression genlib reads")
        else:
            total += info.file_size
            packed += info.compress_size
        entries.append(_Entry(parts, info.file_size, lambda i=info: zf.open(i), problem))
    if not entries and not junk:
        raise DataError(f"{name} is an empty ZIP file. Put your images in it (PNG, JPEG, BMP, "
                        "WebP or GIF), one folder per class if you have classes.")
    if total > limits.MAX_ZIP_TOTAL_BYTES:
        raise DataError(f"{name} unpacks to {_size(total)}, more than the "
                        f"{_size(limits.MAX_ZIP_TOTAL_BYTES)} genlib reads. Use fewer or smaller "
                        "images.")
    _check_ratio(total, packed, name, action="Zip the images again (PNG or JPEG files, with "
                 "ordinary compression), and check that it is the file you meant.")
    return entries, junk


def _folder_entries(root: Path) -> tuple[list[_Entry], int]:
    entries, junk = [], 0
    for dirpath, dirnames, filenames in os.walk(root):        # symlinked folders not followed
        hidden = [d for d in dirnames if _is_junk((d,))]
        junk += len(hidden)
        dirnames[:] = sorted(d for d in dirnames if d not in hidden)
        rel = Path(dirpath).relative_to(root).parts
        for fname in filenames:
            if _is_junk((fname,)):
                junk += 1
                continue
            path = Path(dirpath, fname)
            size = path.stat().st_size
            too_big = size > limits.MAX_FILE_BYTES
            problem = (f"too large: {_size(size)} (the limit for one image is "
                       f"{_size(limits.MAX_FILE_BYTES)})") if too_big else None
            entries.append(_Entry((*rel, fname), size, lambda p=path: open(p, "rb"), problem))
            if len(entries) > limits.MAX_ZIP_ENTRIES:
                raise DataError(f"{root} holds more than {limits.MAX_ZIP_ENTRIES:,} files, more "
                                "than genlib reads. Use fewer images.")
    return entries, junk


# ---- image files → tensors --------------------------------------------------------------
# Small images (the usual training set: thousands of files of a few KB) are decoded once, in
# the first pass, and kept until the side length is known; big ones are only probed there and
# decoded in the second pass, shrunk while decoding where the format allows.
SMALL_FILE_BYTES = 1 << 20             # files up to this size are read whole in the first pass
SMALL_IMAGE_PIXELS = 256 * 256         # ...and decoded there when at most this many pixels
KEEP_DECODED_BYTES = 512 << 20         # decoded pixels kept between the passes, at most

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zipfile.BadZipFile,
                  zlib.error, NotImplementedError)   # what damaged files make Pillow/zipfile raise


@dataclasses.dataclass
class _Probe:
    """One usable image: what its header says, and its pixels when already decoded."""

    entry: _Entry
    format: str
    size: tuple[int, int]                   # (width, height) as stored
    mode: str                               # Pillow mode, e.g. "L", "RGB", "RGBA", "P"
    image: Image.Image | None = None        # decoded (L or RGB) if small, in the first pass
    flags: collections.Counter = dataclasses.field(default_factory=collections.Counter)


def _read_entry(entry: _Entry) -> bytes:
    with entry.open() as fh:
        data = fh.read(entry.size + 1)          # bounded by the declared size
    if len(data) != entry.size:
        raise _Skip("damaged: its size does not match what the ZIP says")
    return data


def _probe(entry: _Entry, keep_decoded: bool) -> _Probe:
    """Check one entry (format, pixel count) and decode it now if it is small; raise _Skip."""
    from PIL import Image, UnidentifiedImageError   # Pillow only when files are decoded

    if entry.problem:
        raise _Skip(entry.problem)
    ext = os.path.splitext(entry.parts[-1].lower())[1]
    small = entry.size <= SMALL_FILE_BYTES
    try:
        # A big file is opened as a stream: Pillow reads only the header of it.
        with (io.BytesIO(_read_entry(entry)) if small else entry.open()) as fh, \
                Image.open(fh) as im:
            probe = _Probe(entry, im.format or "?", im.size, im.mode)
            if probe.format not in IMAGE_FORMATS:
                raise _Skip(f"unsupported format ({probe.format}): convert it to PNG or JPEG")
            w, h = probe.size
            if w * h > limits.MAX_IMAGE_PIXELS:
                raise _Skip(f"too large: {w}×{h} is over {limits.MAX_IMAGE_PIXELS:,} pixels")
            if min(w, h) < 2:
                raise _Skip(f"too small: {w}×{h} pixels")
            if small and keep_decoded and w * h <= SMALL_IMAGE_PIXELS:
                probe.image = _prepare(im, probe.flags)
    except UnidentifiedImageError:
        raise _Skip("corrupt: it could not be read as an image" if ext in IMAGE_EXTENSIONS
                    else "not an image") from None
    except Image.DecompressionBombError:
        raise _Skip(f"too large: over {limits.MAX_IMAGE_PIXELS:,} pixels") from None
    except _DECODE_ERRORS as e:
        raise _Skip(f"corrupt: it could not be decoded ({e})") from None
    return probe


def _decode(probe: _Probe, side: int) -> np.ndarray:
    """One image as S×S (gray) or S×S×3 uint8, centre square, decoding it if not done yet."""
    from PIL import Image

    if probe.image is not None:
        im = probe.image
    else:
        try:
            with Image.open(io.BytesIO(_read_entry(probe.entry))) as im:
                if im.format in ("JPEG", "MPO"):
                    im.draft(None, (side, side))   # libjpeg shrinks big photos while decoding
                im = _prepare(im, probe.flags)
        except Image.DecompressionBombError:
            raise _Skip(f"too large: over {limits.MAX_IMAGE_PIXELS:,} pixels") from None
        except _DECODE_ERRORS as e:
            raise _Skip(f"corrupt: it could not be decoded ({e})") from None
    w, h = im.size
    s = min(w, h)
    if w != h:
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    if s != side:
        im = im.resize((side, side), Image.Resampling.LANCZOS if s > side
                       else Image.Resampling.BICUBIC, reducing_gap=3.0 if s > 3 * side else None)
    return np.asarray(im)


def _prepare(im: Image.Image, flags: collections.Counter) -> Image.Image:
    """Decode an opened image to L or RGB: first frame, EXIF upright, 16-bit → 8, alpha on white.

    `flags` counts what was done ("animated", "rotated", "alpha") for the report.
    """
    from PIL import Image, ImageOps

    flags["animated"] += bool(getattr(im, "is_animated", False))
    im.load()
    if im.getexif().get(0x0112, 1) != 1:           # EXIF orientation: turn photos upright
        im = ImageOps.exif_transpose(im)
        flags["rotated"] += 1
    if im.mode.startswith("I") or im.mode == "F":   # 16/32-bit gray → 8-bit
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
        if im.mode == "F" and a.max() <= 1:
            top = 1.0
        im = Image.fromarray(np.clip(a / top * 255 + 0.5, 0, 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        flags["alpha"] += 1
    return im.convert("L" if im.mode in ("1", "L") else "RGB")


def _load_image_files(listing: tuple[list[_Entry], int], name: str, kind: str,
                      image_size: int | None, color: str | None,
                      report: HealthReport) -> ImageData:
    """Two passes: check every file (sizes, modes, what to skip), then decode each to S×S."""
    entries, junk = listing
    entries.sort(key=lambda e: e.parts)
    report.facts.update(source=kind, junk_ignored=junk)
    if not entries:
        hidden = f" apart from {junk:,} hidden or system files" if junk else ""
        raise DataError(f"{name} holds no files{hidden}. Put your images in it (PNG, JPEG, BMP, "
                        "WebP or GIF), one folder per class if you have classes.")
    probes, kept_bytes = [], 0
    for entry in entries:
        try:
            probes.append(_probe(entry, keep_decoded=kept_bytes < KEEP_DECODED_BYTES))
        except _Skip as e:
            report.skipped.append((entry.label, str(e)))
            continue
        if probes[-1].image is not None:
            kept_bytes += math.prod(probes[-1].size) * len(probes[-1].image.getbands())
    if not probes:
        first = f" (first: {report.skipped[0][0]}: {report.skipped[0][1]})" \
            if report.skipped else ""
        raise DataError(f"Found no usable images in {name}: {len(report.skipped):,} files were "
                        f"skipped{first}. Give PNG, JPEG, BMP, WebP or GIF images, one folder "
                        "per class if you have classes.")
    sizes = collections.Counter(p.size for p in probes)
    modes = collections.Counter(p.mode for p in probes)
    report.facts["sizes"] = _top({f"{w}×{h}": k for (w, h), k in sizes.most_common()})
    report.facts["modes"] = dict(modes.most_common())
    report.facts["formats"] = dict(collections.Counter(p.format for p in probes).most_common())
    side = image_size or pick_image_size(min(p.size) for p in probes)
    # float32 pixels are made from 1 channel when every image is gray and stays gray, else from 3
    gray = all(m in GRAY_MODES for m in modes) and color != "rgb"
    _check_output_size(len(probes), 1 if gray else 3, side)

    pixels = np.empty((len(probes), side, side, 3), np.uint8)
    kept = []
    for probe in probes:
        try:
            a = _decode(probe, side)
        except _Skip as e:
            report.skipped.append((probe.entry.label, str(e)))
            continue
        pixels[len(kept)] = a if a.ndim == 3 else a[..., None]   # gray fills all 3 channels
        probe.image = None                        # free the full-size copy as we go
        kept.append(probe)
    if not kept:
        raise DataError(f"None of the images in {name} could be decoded (first: "
                        f"{report.skipped[0][0]}: {report.skipped[0][1]}). Export them again "
                        "as PNG or JPEG.")
    counts = sum((p.flags for p in kept), collections.Counter())
    _file_repairs(kept, side, counts, report)
    labels, class_names = _folder_labels([p.entry.parts for p in kept], report)
    x = torch.from_numpy(pixels[:len(kept), ..., :1] if gray else pixels[:len(kept)])
    x = x.permute(0, 3, 1, 2).float().div_(255)
    n_color = sum(p.mode not in GRAY_MODES for p in kept)
    x = _choose_channels(x, color, report, n_color_sources=n_color,
                         n_gray_sources=len(kept) - n_color)
    return _finish(x, labels, class_names, name, report)


def _file_repairs(kept: list[_Probe], side: int, counts: collections.Counter,
                  report: HealthReport) -> None:
    cropped = sum(p.size[0] != p.size[1] for p in kept)
    if cropped:
        report.repairs.append(f"Cropped {_plural(cropped, 'non-square image')} to the centre "
                              "square.")
    resized = collections.Counter(f"{p.size[0]}×{p.size[1]}" for p in kept
                                  if min(p.size) != side)
    if resized:
        parts = [f"{k} ({v:,})" for k, v in resized.most_common(3)]
        more = f" and {len(resized) - 3} more sizes" if len(resized) > 3 else ""
        report.repairs.append(f"Resized {_plural(sum(resized.values()), 'image')} to "
                              f"{side}×{side} from {', '.join(parts)}{more}.")
    if counts["alpha"]:
        report.repairs.append(f"Composited {_plural(counts['alpha'], 'image')} with transparency "
                              "onto a white background.")
    if counts["animated"]:
        report.repairs.append("Used the first frame of "
                              f"{_plural(counts['animated'], 'animated image')}.")
    if counts["rotated"]:
        report.repairs.append(f"Turned {_plural(counts['rotated'], 'photo')} upright, as the "
                              "EXIF orientation says.")


def _folder_labels(paths: list[tuple[str, ...]],
                   report: HealthReport) -> tuple[torch.Tensor | None, list[str]]:
    """Class = first folder below the folders every image shares ('data/train/cat/1.png' → cat)."""
    dirs = [p[:-1] for p in paths]
    k = 0
    while all(len(d) > k for d in dirs) and len({d[k] for d in dirs}) == 1:
        k += 1
    rel = [d[k:] for d in dirs]
    if not any(rel):
        return None, []
    if not all(rel):
        loose = sum(not r for r in rel)
        report.warnings.append(f"{loose:,} images sit beside the class folders rather than in "
                               "one, so no class labels were used. Move every image into a "
                               "class folder to train with classes.")
        return None, []
    class_names = sorted({r[0] for r in rel})
    index = {c: i for i, c in enumerate(class_names)}
    return torch.tensor([index[r[0]] for r in rel], dtype=torch.int64), class_names


# ---- one image file ---------------------------------------------------------------------
def _load_one_file(entry: _Entry, side: int, color: str) -> torch.Tensor:
    """One image file → 1×C×S×S float32 in [-1, 1], by the steps each file of a ZIP takes in
    `_load_image_files` (probe, decode, colour rule, scale); raises _Skip with the reason."""
    probe = _probe(entry, keep_decoded=True)
    gray = color == "gray" or (probe.mode in GRAY_MODES and color != "rgb")
    _check_output_size(1, 1 if gray else 3, side)
    a = _decode(probe, side)
    pixels = np.empty((1, side, side, 3), np.uint8)
    pixels[0] = a if a.ndim == 3 else a[..., None]              # gray fills all 3 channels
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255)
    n_color = int(probe.mode not in GRAY_MODES)
    x = _choose_channels(x, color, HealthReport("images"), n_color_sources=n_color,
                         n_gray_sources=1 - n_color)
    return x.contiguous().mul_(2).sub_(1)                       # [0, 1] → [-1, 1], as _finish


# ---- small helpers ----------------------------------------------------------------------
def _top(counts: dict[str, int], k: int = 10) -> dict[str, int]:
    """The k most common entries, the rest summed under 'other' (keeps card.json small)."""
    items = list(counts.items())
    out = dict(items[:k])
    if len(items) > k:
        out["other"] = sum(v for _, v in items[k:])
    return out
