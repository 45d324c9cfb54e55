"""Read images a user gives (ZIP, folder, .npz, .npy, IDX) into one training-ready `ImageData`.

Every source ends the same way: float32 N×C×H×W in [-1, 1], square, one side length, gray
(C=1) or RGB (C=3), plus a `HealthReport` that lists what was used, skipped and repaired.

    data = load_images("faces.zip")                    # class sub-folders become labels
    data = load_images(upload.getvalue(), name=upload.name, image_size=32, color="rgb")

Safety: nothing is unpickled (`allow_pickle=False`, object arrays refused before reading), ZIP
members are read in memory and never extracted, and every size a file declares is checked
against the caps below before anything is decoded.
"""
from __future__ import annotations

import collections
import dataclasses
import gzip
import hashlib
import io
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Callable, Iterable, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError
from .types import HealthReport, ImageData

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]

# ---- limits -----------------------------------------------------------------------------
# Module constants (not arguments) so tests can lower them with monkeypatch; read at call time.
IMAGE_SIDES = (16, 28, 32, 64)         # side lengths chosen automatically (nearest to the median)
MIN_SIDE, MAX_SIDE = 4, 512            # image_size a caller may ask for
MAX_UPLOAD_BYTES = 1 << 30             # bytes / file-like uploads: 1 GiB compressed
MAX_FILE_BYTES = 256 << 20             # one image file (or ZIP member as declared): 256 MiB
MAX_ZIP_ENTRIES = 200_000              # members in a ZIP, or files under a folder
MAX_ZIP_TOTAL_BYTES = 4 << 30          # sum of the declared sizes of the image members: 4 GiB
MAX_IMAGE_PIXELS = 40_000_000          # one image: 40 megapixels, larger ones are skipped
MAX_ARRAY_BYTES = 2 << 30              # one raw array (.npy member, IDX payload): 2 GiB
MAX_DECODED_BYTES = 2 << 30            # the float32 result: 2 GiB

IMAGE_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "WEBP", "GIF"}   # Pillow format names we accept
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store", "__macosx"}
GRAY_MODES = {"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IMAGE_KEYS = ("images", "x", "x_train", "imgs", "data")      # preferred .npz keys, in order
_LABEL_KEYS = ("labels", "y", "y_train", "label", "targets")
_SUPPORTED = ("a ZIP file or folder of PNG/JPEG/BMP/WebP/GIF images, a .npz or .npy array, "
              "or an IDX file (.gz allowed)")


# ---- public entry points ----------------------------------------------------------------
def load_images(source: Source, *, name: str | None = None, image_size: int | None = None,
                color: str | None = None) -> ImageData:
    """Load a user's images: a path (ZIP, folder, .npz, .npy, IDX, .gz IDX) or uploaded bytes.

    `name` is the file name of bytes / file-like input (its extension names the format; the
    content is checked too). `image_size` None picks the nearest of 16/28/32/64 to the median
    side; `color` None keeps gray when every image is gray, "gray" or "rgb" forces one.
    In a ZIP or folder, sub-folders become class labels (sorted by name).

    >>> import io, numpy as np
    >>> buf = io.BytesIO(); np.save(buf, np.zeros((10, 28, 28), np.uint8))
    >>> data = load_images(buf.getvalue(), name="zeros.npy")
    >>> data.images.shape, data.images.dtype, float(data.images.min())
    (torch.Size([10, 1, 28, 28]), torch.float32, -1.0)
    """
    image_size = _check_image_size(image_size)
    color = _check_color(color)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if path.is_dir():
            return _load_image_files(_folder_entries(path), name or path.name, "folder",
                                     image_size, color, HealthReport("images"))
        if not path.is_file():
            raise DataError(f"There is no file or folder at '{path}'. Check the path, or give "
                            f"{_SUPPORTED}.")
        with open(path, "rb") as f:
            return _load_stream(f, name or path.name, image_size, color, path=path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_upload_size(len(data), name or "the upload")
        return _load_stream(io.BytesIO(data), name or "upload", image_size, color)
    if hasattr(source, "read"):
        name = name or os.path.basename(str(getattr(source, "name", "") or "")) or "upload"
        return _load_stream(_seekable(source, name), name, image_size, color)
    raise DataError(f"Cannot read images from a {type(source).__name__}: give a file path, "
                    "the bytes of an upload, or a binary file object.")


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


def read_idx(source: str | os.PathLike | bytes) -> np.ndarray:
    """Read one IDX file (the MNIST format; gzip optional) into a NumPy array of its own dtype.

    The header is checked: magic bytes, data type, dimensions, and that the payload has exactly
    the bytes the dimensions call for.

    >>> import struct
    >>> raw = struct.pack(">BBBBII", 0, 0, 0x08, 2, 2, 3) + bytes(range(6))
    >>> read_idx(raw).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _parse_idx(_gunzip_if_needed(bytes(source), "the IDX data"), "the IDX data")
    path = Path(source)
    with open(path, "rb") as f:
        raw = _read_capped(f, MAX_ARRAY_BYTES + 64, path.name)
    return _parse_idx(_gunzip_if_needed(raw, path.name), path.name)


def pick_image_size(sides: Iterable[int]) -> int:
    """The side length of IMAGE_SIDES nearest to the median of `sides` (ties → the larger).

    >>> pick_image_size([8, 8, 9]), pick_image_size([28, 30]), pick_image_size([500, 300])
    (16, 28, 64)
    """
    median = float(np.median(np.fromiter(sides, float)))
    return min(IMAGE_SIDES, key=lambda s: (abs(s - median), -s))


# ---- argument checks --------------------------------------------------------------------
def _check_image_size(image_size: int | None) -> int | None:
    if image_size is None:
        return None
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) \
            or not MIN_SIDE <= image_size <= MAX_SIDE:
        raise DataError(f"image_size must be a whole number of pixels from {MIN_SIDE} to "
                        f"{MAX_SIDE} (got {image_size!r}); 16, 28, 32 or 64 suit most models.")
    return int(image_size)


def _check_color(color: str | None) -> str | None:
    if color is None:
        return None
    value = str(color).lower().replace("grey", "gray")
    if value not in ("gray", "rgb"):
        raise DataError(f"color must be None (keep), 'gray' or 'rgb', not {color!r}.")
    return value


def _check_upload_size(nbytes: int, name: str) -> None:
    if nbytes > MAX_UPLOAD_BYTES:
        raise DataError(f"{name} is {_size(nbytes)}, more than the {_size(MAX_UPLOAD_BYTES)} "
                        "genlib accepts as an upload. Use fewer or smaller images, or load the "
                        "file from disk by its path.")


def _check_output_size(n: int, channels: int, side: int) -> None:
    """Refuse before decoding when the float32 result would not fit the memory cap."""
    nbytes = n * channels * side * side * 4
    if nbytes > MAX_DECODED_BYTES:
        raise DataError(f"{n:,} images of {channels}×{side}×{side} would take {_size(nbytes)} "
                        f"of memory, more than the {_size(MAX_DECODED_BYTES)} limit. Use fewer "
                        "images or choose a smaller image_size.")


# ---- reading a file or upload -----------------------------------------------------------
def _seekable(f: IO[bytes], name: str) -> IO[bytes]:
    """A seekable view of an uploaded file object, refused if over the upload cap."""
    if getattr(f, "seekable", lambda: False)():
        start = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(start)
        _check_upload_size(end - start, name)
        return f
    data = f.read(MAX_UPLOAD_BYTES + 1)
    _check_upload_size(len(data), name)
    return io.BytesIO(data)


def _read_capped(f: IO[bytes], cap: int, name: str) -> bytes:
    data = f.read(cap + 1)
    if len(data) > cap:
        raise DataError(f"{name} holds more than {_size(cap)} of data, more than genlib reads. "
                        "Use fewer or smaller images.")
    return data


def _load_stream(f: IO[bytes], name: str, image_size: int | None, color: str | None,
                 path: Path | None = None) -> ImageData:
    """Pick the reader from the first bytes (the extension only shapes the error message)."""
    start = f.tell()
    head = f.read(16)
    f.seek(start)
    ext = _extension(name)
    report = HealthReport("images", facts={"file": name})
    stem = _stem(name)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise DataError(f"{name} looks like a ZIP file but is damaged ({e}). Make the ZIP "
                            "again and upload it once more.") from None
        with zf:
            if ext == ".npz" or _looks_like_npz(zf):
                report.facts["source"] = "npz"
                x, y, names = _read_npz(zf, name, report)
                return images_from_array(x, y, class_names=names, name=stem,
                                         image_size=image_size, color=color, report=report)
            return _load_image_files(_zip_entries(zf, name), stem, "zip", image_size, color,
                                     report)
    if head.startswith(b"\x93NUMPY"):
        report.facts["source"] = "npy"
        x = _read_npy(f, name)
        return images_from_array(x, name=stem, image_size=image_size, color=color,
                                 report=report)
    if head.startswith(b"\x1f\x8b") or _is_idx_header(head):
        raw = _gunzip_if_needed(_read_capped(f, MAX_ARRAY_BYTES + 64, name), name)
        if raw.startswith(b"\x93NUMPY"):      # a gzipped .npy: harmless to accept
            report.facts["source"] = "npy"
            return images_from_array(_read_npy(io.BytesIO(raw), name), name=stem,
                                     image_size=image_size, color=color, report=report)
        report.facts["source"] = "idx"
        x = _parse_idx(raw, name)
        labels = _idx_sibling_labels(path, len(x), report) if path is not None else None
        return images_from_array(x, labels, name=_idx_stem(stem), image_size=image_size,
                                 color=color, report=report)
    if _is_single_image(f):
        raise DataError(f"{name} is a single image. To train a model, put many images (a few "
                        "hundred at least) in a ZIP file or a folder, one sub-folder per class "
                        "if you have classes.")
    what = {".npz": "a NumPy .npz file (it is not a ZIP archive of arrays; save one with "
                    "numpy.savez)",
            ".npy": "a NumPy .npy file (it lacks the .npy header; save one with numpy.save)",
            ".zip": "a ZIP file (it does not start like one; make the ZIP again)"}.get(ext)
    if what:
        raise DataError(f"{name} is not {what}.")
    raise DataError(f"genlib cannot read {name}: give {_SUPPORTED}.")


def _is_single_image(f: IO[bytes]) -> bool:
    start = f.tell()
    try:
        with Image.open(f) as im:
            return im.format is not None
    except Exception:   # noqa: BLE001 - anything Pillow cannot open is simply "not an image"
        return False
    finally:
        f.seek(start)


def _extension(name: str) -> str:
    lower = name.lower()
    return ".gz" if lower.endswith(".gz") else os.path.splitext(lower)[1]


def _stem(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "images"
    for ext in (".gz", ".zip", ".npz", ".npy"):
        if base.lower().endswith(ext):
            base = base[: -len(ext)]
    return base or "images"


# ---- IDX --------------------------------------------------------------------------------
def _is_idx_header(head: bytes) -> bool:
    return len(head) >= 4 and head[0] == 0 and head[1] == 0 and head[2] in _IDX_DTYPES \
        and 1 <= head[3] <= 4


def _gunzip_if_needed(raw: bytes, name: str) -> bytes:
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    cap = MAX_ARRAY_BYTES + 64
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as g:
            out = g.read(cap + 1)        # bounded: a gzip bomb stops at the cap
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{name} is a damaged gzip file ({e}). Download or compress it "
                        "again.") from None
    if len(out) > cap:
        raise DataError(f"{name} unpacks to more than {_size(cap)}, more than genlib reads. "
                        "Use fewer images.")
    return out


def _parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Parse the IDX header (2 zero bytes, dtype code, ndim, ndim big-endian uint32 sizes)."""
    if not _is_idx_header(raw[:4]):
        raise DataError(f"{name} is not an IDX file (the format of MNIST): its first bytes are "
                        f"not an IDX header. Give {_SUPPORTED}.")
    ndim = raw[3]
    offset = 4 + 4 * ndim
    if len(raw) < offset:
        raise DataError(f"{name} is cut short: it ends inside the IDX header. Download it "
                        "again.")
    dims = struct.unpack(f">{ndim}I", raw[4:offset])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    count = math.prod(dims)
    if count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise DataError(f"{name} declares {count * dtype.itemsize:,} bytes of data, more than "
                        f"the {_size(MAX_ARRAY_BYTES)} limit. Use fewer images.")
    if len(raw) - offset != count * dtype.itemsize:
        raise DataError(f"{name} is damaged: its header says {'×'.join(map(str, dims))} values "
                        f"({count * dtype.itemsize:,} bytes) but it holds {len(raw) - offset:,} "
                        "bytes. Download it again.")
    arr = np.frombuffer(raw, dtype, count=count, offset=offset).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _idx_stem(stem: str) -> str:
    for tail in ("-images-idx3-ubyte", "-images.idx3-ubyte", "-idx3-ubyte", ".idx3-ubyte"):
        if stem.endswith(tail):
            return stem[: -len(tail)] or stem
    return stem


def _idx_sibling_labels(path: Path, n: int, report: HealthReport) -> np.ndarray | None:
    """MNIST-style pairs: `…-images-idx3-ubyte[.gz]` next to `…-labels-idx1-ubyte[.gz]`."""
    if "images" not in path.name:
        return None
    base = path.name.replace("images", "labels").replace("idx3", "idx1")
    for candidate in dict.fromkeys([base, base.removesuffix(".gz"), base + ".gz"]):
        sibling = path.with_name(candidate)
        if sibling != path and sibling.is_file():
            labels = read_idx(sibling)
            if labels.ndim == 1 and len(labels) == n:
                report.facts["labels_from"] = sibling.name
                return labels
            report.warnings.append(f"Ignored {sibling.name}: it holds {labels.shape} values, "
                                   f"not one label for each of the {n:,} images.")
            return None
    return None


# ---- .npy / .npz ------------------------------------------------------------------------
def _npy_header(f: IO[bytes], name: str) -> tuple[tuple[int, ...], np.dtype]:
    """Read only the .npy header (shape, dtype) so nothing large or unsafe is read yet."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"version {version} holds structured data, not plain pixels")
    except (ValueError, OSError, EOFError, SyntaxError) as e:
        raise DataError(f"{name} is not a valid .npy array ({e}). Save plain numeric arrays "
                        "with numpy.save or numpy.savez.") from None
    return tuple(shape), np.dtype(dtype)


def _refuse_unsafe(shape: tuple[int, ...], dtype: np.dtype, name: str) -> None:
    if dtype.hasobject:
        raise DataError(f"{name} holds Python objects (pickled data), which genlib never loads "
                        "because unpickling can run code. Save a plain numeric array instead, "
                        "e.g. numpy.save('images.npy', images.astype('uint8')).")
    if dtype.fields is not None:
        raise DataError(f"{name} holds records with named fields, not pixels. Save a plain "
                        "numeric array, e.g. numpy.save('images.npy', images.astype('uint8')).")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise DataError(f"{name} is an array of {_size(nbytes)}, more than the "
                        f"{_size(MAX_ARRAY_BYTES)} limit. Save fewer or smaller images.")


def _read_array(f: IO[bytes], name: str) -> np.ndarray:
    try:
        return np.lib.format.read_array(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{name} is damaged or cut short ({e}). Save it again with "
                        "numpy.save or numpy.savez.") from None


def _read_npy(f: IO[bytes], name: str) -> np.ndarray:
    start = f.tell()
    shape, dtype = _npy_header(f, name)
    _refuse_unsafe(shape, dtype, name)
    f.seek(start)
    return _read_array(f, name)


def _looks_like_npz(zf: zipfile.ZipFile) -> bool:
    """A ZIP whose members are all .npy is an .npz, whatever its name says."""
    names = [i.filename for i in zf.infolist() if not i.is_dir()]
    return bool(names) and all(n.endswith(".npy") for n in names)


def _read_npz(zf: zipfile.ZipFile, name: str,
              report: HealthReport) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Choose the images array (by key, else the largest 3-4D one) and a matching labels array."""
    members = {i.filename[:-4]: i for i in zf.infolist()
               if i.filename.endswith(".npy") and not _is_junk(_parts(i.filename))}
    if not members:
        raise DataError(f"{name} holds no arrays. Save your images with "
                        "numpy.savez('data.npz', images=images, labels=labels).")
    if len(members) > 1000:
        raise DataError(f"{name} holds {len(members):,} arrays; genlib expects one array of "
                        "images (and optionally one of labels). Stack the images into one array.")
    headers = {}
    for key, info in members.items():
        with zf.open(info) as fh:
            headers[key] = _npy_header(fh, f"{name}:{key}")
    safe = {k: h for k, h in headers.items() if not h[1].hasobject and h[1].fields is None}
    if not safe:
        _refuse_unsafe(*next(iter(headers.values())), name)   # raises the pickle sentence
    lower = {k.lower(): k for k in safe}
    key = next((lower[k] for k in _IMAGE_KEYS if k in lower and len(safe[lower[k]][0]) >= 2),
               None)
    if key is None:
        candidates = [k for k, (shape, _) in safe.items() if len(shape) in (3, 4)]
        if not candidates and len(safe) == 1:
            candidates = list(safe)        # one 2-D array: maybe flat rows of pixels
        if not candidates:
            found = ", ".join(f"{k} {shape}" for k, (shape, _) in headers.items())
            raise DataError(f"{name} has no array shaped like images (found: {found}). Save "
                            "one array of N×H×W or N×H×W×C pixels, e.g. "
                            "numpy.savez('data.npz', images=images).")
        key = max(candidates, key=lambda k: math.prod(safe[k][0]))
    _refuse_unsafe(*headers[key], f"{name}:{key}")
    with zf.open(members[key]) as fh:
        x = _read_array(fh, f"{name}:{key}")
    report.facts["array"] = key
    if len(safe) > 1:
        report.facts["arrays_found"] = {k: list(shape) for k, (shape, _) in headers.items()}
    y = names = None
    label_key = next((lower[k] for k in _LABEL_KEYS if k in lower and lower[k] != key), None)
    if label_key is not None:
        shape, dtype = headers[label_key]
        if len(shape) >= 1 and shape[0] == len(x):
            _refuse_unsafe(shape, dtype, f"{name}:{label_key}")
            with zf.open(members[label_key]) as fh:
                y = _read_array(fh, f"{name}:{label_key}")
            report.facts["labels_from"] = label_key
        else:
            report.warnings.append(f"Ignored the array '{label_key}' as labels: it has shape "
                                   f"{shape}, not one label for each of the {len(x):,} images.")
    if y is not None and "class_names" in lower:
        shape, dtype = headers[lower["class_names"]]
        if len(shape) == 1 and dtype.kind in "US":
            with zf.open(members[lower["class_names"]]) as fh:
                names = [str(s) for s in _read_array(fh, f"{name}:class_names")]
    return x, y, names


# ---- arrays → tensors -------------------------------------------------------------------
def _to_nchw(x: np.ndarray, name: str, report: HealthReport) -> np.ndarray:
    """Recognise the layout (N×H×W, N×H×W×C, N×C×H×W, or N×D flat squares) → N×C×H×W view."""
    if x.dtype.hasobject or x.dtype.kind not in "biuf":
        raise DataError(f"{name} holds values of type {x.dtype}, not numbers. Save pixels as "
                        "uint8 (0-255) or float (0-1).")
    shape = "×".join(map(str, x.shape))
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1] or side < 2:
            raise DataError(f"{name} is a table of shape {shape}, not images. Save an array of "
                            "N×H×W or N×H×W×C pixels.")
        report.repairs.append(f"Read each row of {x.shape[1]} values as a {side}×{side} gray "
                              "image.")
        report.facts["layout"] = "N×(H·W)"
        return x.reshape(len(x), 1, side, side)
    if x.ndim == 3:
        if x.shape[2] in (3, 4) and x.shape[1] > 4:
            raise DataError(f"{name} has shape {shape}: that looks like one colour image "
                            "(H×W×C), not a set of images. Stack your images into an "
                            "N×H×W×C array.")
        report.facts["layout"] = "N×H×W"
        return x[:, None]
    if x.ndim == 4:
        last, first = x.shape[3] in (1, 3, 4), x.shape[1] in (1, 3, 4)
        if last and (not first or x.shape[1] == x.shape[2]):
            report.facts["layout"] = "N×H×W×C"
            return x.transpose(0, 3, 1, 2)
        if first:
            report.facts["layout"] = "N×C×H×W"
            return x
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
    if h * w > MAX_IMAGE_PIXELS:
        raise DataError(f"The images in {name} are {h}×{w} pixels, more than genlib reads "
                        f"({MAX_IMAGE_PIXELS:,}). Save smaller images.")
    lo, hi = value_range or _value_range(x, name, report)
    report.facts["value_range"] = [lo, hi]
    if (lo, hi) != (-1.0, 1.0):
        report.repairs.append(f"Scaled pixel values from [{lo:g}, {hi:g}] to [-1, 1].")
    side = image_size or pick_image_size([min(h, w)])
    c_mid = 1 if c == 1 else 3                                   # after alpha compositing
    _check_output_size(n, 1 if c == 1 or color == "gray" else 3, side)
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
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DataError(f"{name} holds {len(infos):,} entries, more than the "
                        f"{MAX_ZIP_ENTRIES:,} genlib reads. Use fewer images.")
    entries, junk, total = [], 0, 0
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
        elif info.file_size > MAX_FILE_BYTES:
            problem = (f"too large: the ZIP says it unpacks to {_size(info.file_size)} (the "
                       f"limit for one image is {_size(MAX_FILE_BYTES)})")
        else:
            total += info.file_size
        entries.append(_Entry(parts, info.file_size, lambda i=info: zf.open(i), problem))
    if not entries and not junk:
        raise DataError(f"{name} is an empty ZIP file. Put your images in it (PNG, JPEG, BMP, "
                        "WebP or GIF), one folder per class if you have classes.")
    if total > MAX_ZIP_TOTAL_BYTES:
        raise DataError(f"{name} unpacks to {_size(total)}, more than the "
                        f"{_size(MAX_ZIP_TOTAL_BYTES)} genlib reads. Use fewer or smaller "
                        "images.")
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
            problem = (f"too large: {_size(size)} (the limit for one image is "
                       f"{_size(MAX_FILE_BYTES)})") if size > MAX_FILE_BYTES else None
            entries.append(_Entry((*rel, fname), size, lambda p=path: open(p, "rb"), problem))
            if len(entries) > MAX_ZIP_ENTRIES:
                raise DataError(f"{root} holds more than {MAX_ZIP_ENTRIES:,} files, more than "
                                "genlib reads. Use fewer images.")
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
            if w * h > MAX_IMAGE_PIXELS:
                raise _Skip(f"too large: {w}×{h} is over {MAX_IMAGE_PIXELS:,} pixels")
            if min(w, h) < 2:
                raise _Skip(f"too small: {w}×{h} pixels")
            if small and keep_decoded and w * h <= SMALL_IMAGE_PIXELS:
                probe.image = _prepare(im, probe.flags)
    except UnidentifiedImageError:
        raise _Skip("corrupt: it could not be read as an image" if ext in IMAGE_EXTENSIONS
                    else "not an image") from None
    except Image.DecompressionBombError:
        raise _Skip(f"too large: over {MAX_IMAGE_PIXELS:,} pixels") from None
    except _DECODE_ERRORS as e:
        raise _Skip(f"corrupt: it could not be decoded ({e})") from None
    return probe


def _decode(probe: _Probe, side: int) -> np.ndarray:
    """One image as S×S (gray) or S×S×3 uint8, centre square, decoding it if not done yet."""
    if probe.image is not None:
        im = probe.image
    else:
        try:
            with Image.open(io.BytesIO(_read_entry(probe.entry))) as im:
                if im.format in ("JPEG", "MPO"):
                    im.draft(None, (side, side))   # libjpeg shrinks big photos while decoding
                im = _prepare(im, probe.flags)
        except Image.DecompressionBombError:
            raise _Skip(f"too large: over {MAX_IMAGE_PIXELS:,} pixels") from None
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
    all_gray_modes = all(m in GRAY_MODES for m in modes)
    _check_output_size(len(probes), 1 if color == "gray" or
                       (all_gray_modes and color != "rgb") else 3, side)

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
    x = torch.from_numpy(pixels[:len(kept)]).permute(0, 3, 1, 2).float().div_(255)
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


# ---- small helpers ----------------------------------------------------------------------
def _top(counts: dict[str, int], k: int = 10) -> dict[str, int]:
    """The k most common entries, the rest summed under 'other' (keeps card.json small)."""
    items = list(counts.items())
    out = dict(items[:k])
    if len(items) > k:
        out["other"] = sum(v for _, v in items[k:])
    return out


def _plural(n: int, noun: str) -> str:
    """'1 image', '2,000 images'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _size(nbytes: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"
