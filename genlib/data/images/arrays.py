"""Arrays stored in files: IDX (the MNIST format, gzip optional), NumPy .npy and .npz.

Nothing is unpickled: object arrays are refused from their header, before any data is read,
and every array is read with `allow_pickle=False`. Nothing large is allocated before the header
is checked: the raw array's bytes, the decoded images' bytes (from the shape, the image_size and
the colour asked for) and, for compressed members and gzip files, the compression ratio.
"""
from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from ...errors import DataError
from ..types import HealthReport
from . import limits
from .files import _SUPPORTED, _is_junk, _parts
from .limits import _check_array_size, _check_ratio, _read_capped, _size
from .tensors import _check_array_fits

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IMAGE_KEYS = ("images", "x", "x_train", "imgs", "data")      # preferred .npz keys, in order
_LABEL_KEYS = ("labels", "y", "y_train", "label", "targets")


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
        raw = _read_capped(f, limits.array_cap() + 64, path.name)
    return _parse_idx(_gunzip_if_needed(raw, path.name), path.name)


# ---- IDX --------------------------------------------------------------------------------
def _is_idx_header(head: bytes) -> bool:
    return len(head) >= 4 and head[0] == 0 and head[1] == 0 and head[2] in _IDX_DTYPES \
        and 1 <= head[3] <= 4


def _gunzip_if_needed(raw: bytes, name: str) -> bytes:
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    ratio_cap = limits.unpack_cap(len(raw))
    cap = min(limits.array_cap() + 64, ratio_cap)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as g:
            out = g.read(cap + 1)        # bounded: a gzip bomb stops at the cap
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{name} is a damaged gzip file ({e}). Download or compress it "
                        "again.") from None
    if len(out) > ratio_cap:
        _check_ratio(len(out), len(raw), name, more=True)
    if len(out) > cap:
        raise DataError(f"{name} unpacks to more than {_size(cap)}, more than genlib reads. "
                        "Use fewer images.")
    return out


def _parse_idx(raw: bytes, name: str, image_size: int | None = None,
               color: str | None = None) -> np.ndarray:
    """Parse the IDX header (2 zero bytes, dtype code, ndim, ndim big-endian uint32 sizes).

    Images the header declares must fit the memory caps at `image_size` and `color`."""
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
    _check_array_size(count * dtype.itemsize, name)
    _check_array_fits(dims, image_size, color)
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
    _check_array_size(math.prod(shape) * dtype.itemsize, name)


def _read_array(f: IO[bytes], name: str) -> np.ndarray:
    try:
        return np.lib.format.read_array(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{name} is damaged or cut short ({e}). Save it again with "
                        "numpy.save or numpy.savez.") from None


def _read_npy(f: IO[bytes], name: str, image_size: int | None = None,
              color: str | None = None) -> np.ndarray:
    start = f.tell()
    shape, dtype = _npy_header(f, name)
    _refuse_unsafe(shape, dtype, name)
    _check_array_fits(shape, image_size, color)
    f.seek(start)
    return _read_array(f, name)


def _looks_like_npz(zf: zipfile.ZipFile) -> bool:
    """A ZIP whose members are all .npy is an .npz, whatever its name says."""
    names = [i.filename for i in zf.infolist() if not i.is_dir()]
    return bool(names) and all(n.endswith(".npy") for n in names)


def _read_npz(zf: zipfile.ZipFile, name: str, report: HealthReport, image_size: int | None = None,
              color: str | None = None) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Choose the images array (by key, else the largest 3-4D one) and a matching labels array.

    Each array read is checked first: its header (pickles, bytes, the images' memory at
    `image_size` and `color`) and its compression ratio in the archive."""
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
    _check_member_ratio(members[key], headers[key], f"{name}:{key}")     # a bomb is named first
    _refuse_unsafe(*headers[key], f"{name}:{key}")
    _check_array_fits(headers[key][0], image_size, color)
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
            # no compression-ratio check here: sorted labels pack 300:1 and are small anyway
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
            _check_array_size(math.prod(shape) * dtype.itemsize, f"{name}:class_names")
            with zf.open(members[lower["class_names"]]) as fh:
                names = [str(s) for s in _read_array(fh, f"{name}:class_names")]
    return x, y, names


def _check_member_ratio(info: zipfile.ZipInfo, header: tuple[tuple[int, ...], np.dtype],
                        name: str) -> None:
    """Refuse an .npz member that unpacks to too many times its compressed size. The size is the
    larger of what the ZIP declares and what the array's header calls for: either may lie."""
    shape, dtype = header
    unpacked = max(info.file_size, math.prod(shape) * dtype.itemsize)
    _check_ratio(unpacked, info.compress_size, name)
