"""Where images come from: a path, the bytes of an upload or a file object, sent to the right
reader by their first bytes (the file name only shapes the error messages)."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import IO, Union

import torch

from ...errors import DataError
from ..documents import OLE_MAGIC, document_kind, images_advice
from ..types import HealthReport, ImageData
from . import limits
from .arrays import (_gunzip_if_needed, _idx_sibling_labels, _idx_stem, _is_idx_header,
                     _looks_like_npz, _parse_idx, _read_npy, _read_npz)
from .files import (_SUPPORTED, _Entry, _folder_entries, _load_image_files, _load_one_file,
                    _Skip, _zip_entries)
from .limits import _check_color, _check_image_size, _check_upload_size, _read_capped, _size
from .tensors import images_from_array

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]


# ---- public entry points ----------------------------------------------------------------
def load_images(source: Source, *, name: str | None = None, image_size: int | None = None,
                color: str | None = None) -> ImageData:
    """Load a user's images: a path (ZIP, folder, .npz, .npy, IDX, .gz IDX) or uploaded bytes.

    `name` is the file name of bytes / file-like input (its extension names the format; the
    content is checked too). `image_size` None picks the largest of 16/28/32/64 not above the median
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


def load_image(source: Source, *, name: str | None = None, image_size: int,
               color: str) -> torch.Tensor:
    """Load one picture (PNG, JPEG, BMP, WebP or GIF) as a 1×C×S×S float32 tensor in [-1, 1].

    For a picture given to a trained model, such as one end of a VAE's walk. It is decoded,
    cropped to the centre square, resized to `image_size` and made "gray" (C=1) or "rgb" (C=3)
    exactly as each file of a ZIP is in `load_images`, under the same size and pixel caps.

    >>> import io; from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (40, 30), (255, 0, 0)).save(buf, "PNG")
    >>> x = load_image(buf.getvalue(), name="red.png", image_size=16, color="rgb")
    >>> x.shape, x[0, :, 0, 0].tolist()
    (torch.Size([1, 3, 16, 16]), [1.0, -1.0, -1.0])
    """
    side, color = _check_image_size(image_size), _check_color(color)
    if side is None or color is None:
        raise DataError("load_image needs the image_size and color of the model the picture is "
                        "for, e.g. load_image(path, image_size=32, color='rgb').")
    name, data = _read_picture(source, name)
    entry = _Entry((os.path.basename(name.replace("\\", "/")),), len(data),
                   lambda: io.BytesIO(data))
    try:
        return _load_one_file(entry, side, color)
    except _Skip as e:
        advice = next((a for start, a in _PICTURE_ADVICE if str(e).startswith(start)), "")
        raise DataError(f"genlib cannot use {name} as a picture: {e}. {advice}".rstrip()) from None


# ---- reading a file or upload -----------------------------------------------------------
def _seekable(f: IO[bytes], name: str) -> IO[bytes]:
    """A seekable view of an uploaded file object, refused if over the upload cap."""
    if getattr(f, "seekable", lambda: False)():
        start = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(start)
        _check_upload_size(end - start, name)
        return f
    data = f.read(limits.upload_cap() + 1)
    _check_upload_size(len(data), name)
    return io.BytesIO(data)


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
            doc = document_kind(head, zf)                 # a Word file, an Excel workbook…
            if doc is not None:
                raise DataError(images_advice(name, doc))
            if ext == ".npz" or _looks_like_npz(zf):
                report.facts["source"] = "npz"
                x, y, names = _read_npz(zf, name, report, image_size, color)
                return images_from_array(x, y, class_names=names, name=stem,
                                         image_size=image_size, color=color, report=report)
            return _load_image_files(_zip_entries(zf, name), stem, "zip", image_size, color,
                                     report)
    if head.startswith(b"\x93NUMPY"):
        report.facts["source"] = "npy"
        x = _read_npy(f, name, image_size, color)
        return images_from_array(x, name=stem, image_size=image_size, color=color,
                                 report=report)
    if head.startswith(b"\x1f\x8b") or _is_idx_header(head):
        raw = _gunzip_if_needed(_read_capped(f, limits.array_cap() + 64, name), name)
        if raw.startswith(b"\x93NUMPY"):      # a gzipped .npy: harmless to accept
            report.facts["source"] = "npy"
            x = _read_npy(io.BytesIO(raw), name, image_size, color)
            return images_from_array(x, name=stem, image_size=image_size, color=color,
                                     report=report)
        report.facts["source"] = "idx"
        x = _parse_idx(raw, name, image_size, color)
        labels = _idx_sibling_labels(path, len(x), report) if path is not None else None
        return images_from_array(x, labels, name=_idx_stem(stem), image_size=image_size,
                                 color=color, report=report)
    doc = document_kind(head)
    if head.startswith(OLE_MAGIC):                        # its parts are named further in
        doc = document_kind(_read_capped(f, limits.upload_cap(), name)) or "office"
        f.seek(start)
    if doc is not None and doc != "picture":
        raise DataError(images_advice(name, doc))
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
    from PIL import Image   # Pillow only when files are decoded

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


# ---- one picture ------------------------------------------------------------------------
_PICTURE_ADVICE = (("not an image", "Give a PNG, JPEG, BMP, WebP or GIF picture."),
                   ("corrupt", "The file is damaged: save or export it again as PNG or JPEG."),
                   ("too large", "Make it smaller and try again."),
                   ("too small", "Give a picture at least 2 pixels wide and high."))


def _read_picture(source: Source, name: str | None) -> tuple[str, bytes]:
    """The name and bytes of one picture, refused when over the upload or one-file cap."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            what = "a folder" if path.is_dir() else "no file"
            raise DataError(f"There is {what} at '{path}'. Give the path of one PNG, JPEG, BMP, "
                            "WebP or GIF picture.")
        name = name or path.name
        with open(path, "rb") as f:
            data = f.read(limits.MAX_FILE_BYTES + 1)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "the picture"
        data = bytes(source)
        _check_upload_size(len(data), name)
    elif hasattr(source, "read"):
        name = name or os.path.basename(str(getattr(source, "name", "") or "")) or "the picture"
        data = _seekable(source, name).read(limits.MAX_FILE_BYTES + 1)
    else:
        raise DataError(f"Cannot read a picture from a {type(source).__name__}: give a file "
                        "path, the bytes of an upload, or a binary file object.")
    if len(data) > limits.MAX_FILE_BYTES:
        raise DataError(f"{name} is larger than {_size(limits.MAX_FILE_BYTES)}, the most genlib "
                        "reads for one picture. Make it smaller (a JPEG, or fewer pixels) and "
                        "try again.")
    return name, data
