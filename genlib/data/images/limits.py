"""Image sizes, the caps on what genlib reads, and the checks of a caller's arguments.

The caps are module constants, not arguments, so that tests can lower them with monkeypatch
(`monkeypatch.setattr(limits, "MAX_ZIP_ENTRIES", 4)`): every module of the package reads them
from here, as `limits.MAX_…`, at call time. Four of them are also declared limits of
`genlib.limits.DataLimits` (upload, decoded and raw array bytes, compression ratio), stricter on
a shared server (GENLIB_HOSTED=1); the cap in force is the smaller of the two, read at call time.
"""
from __future__ import annotations

from typing import IO, Iterable

import numpy as np

from ...errors import DataError
from ...limits import amount, check_limit, check_ratio, limit_of
from ...limits import unpack_cap  # noqa: F401 - read by the other modules as limits.unpack_cap
from ...settings import hosted_mode

# ---- image sizes ------------------------------------------------------------------------
# IMAGE_SIZES is the menu a person picks from (the command line's --image-size, the app's Data
# page); IMAGE_SIDES are those picked for them when they give none. 8 is only on request (the
# 8×8 digits at their own size, say): guessed, it would shrink every small image that far.
IMAGE_SIZES = (8, 16, 28, 32, 64)      # side lengths a person can choose
IMAGE_SIDES = (16, 28, 32, 64)         # side lengths chosen automatically (never above the median)
MIN_SIDE, MAX_SIDE = 4, 512            # image_size a caller may ask for

# ---- caps -------------------------------------------------------------------------------
MAX_UPLOAD_BYTES = 1 << 30             # bytes / file-like uploads: 1 GiB compressed
MAX_FILE_BYTES = 256 << 20             # one image file (or ZIP member as declared): 256 MiB
MAX_ZIP_ENTRIES = 200_000              # members in a ZIP, or files under a folder
MAX_ZIP_TOTAL_BYTES = 4 << 30          # sum of the declared sizes of the image members: 4 GiB
MAX_IMAGE_PIXELS = 40_000_000          # one image: 40 megapixels, larger ones are skipped
MAX_ARRAY_BYTES = 2 << 30              # one raw array (.npy member, IDX payload): 2 GiB
MAX_DECODED_BYTES = 2 << 30            # the float32 result: 2 GiB
# ...and DataLimits.compression_ratio for ZIP and .npz members and gzip files (genlib.limits).


def upload_cap() -> int:
    """The most bytes an upload may have now (smaller on a shared server)."""
    return limit_of("image_upload_bytes", MAX_UPLOAD_BYTES)


def ratio_cap() -> int:
    """The largest compression ratio (unpacked size / packed size) genlib reads now."""
    return limit_of("compression_ratio")


def array_cap() -> int:
    """The most bytes one raw array may have now: it is held in memory beside the decoded images,
    so a shared server's smaller memory limit bounds it too."""
    return limit_of("decoded_bytes", MAX_ARRAY_BYTES)


def pick_image_size(sides: Iterable[int]) -> int:
    """The largest side length of IMAGE_SIDES that is not above the median of `sides`: pictures
    are shrunk to a standard size, never blown up (a 48-pixel photo becomes 32, not 64: four
    times the pixels to train on, all of them made up). Pictures smaller than 16 pixels get 16.

    >>> pick_image_size([8, 8, 9]), pick_image_size([28, 30]), pick_image_size([48]), pick_image_size([500, 300])
    (16, 28, 32, 64)
    """
    median = float(np.median(np.fromiter(sides, float)))
    return max([s for s in IMAGE_SIDES if s <= median] or [IMAGE_SIDES[0]])


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
    local = "" if hosted_mode() else ", or load the file from disk by its path"
    check_limit("image_upload_bytes", nbytes, f"Use fewer or smaller images{local}.",
                cap=MAX_UPLOAD_BYTES, detail=f"{name} is {amount(nbytes, 'bytes')}")


def _check_output_size(n: int, channels: int, side: int) -> None:
    """Refuse before decoding when the float32 result would not fit the memory cap."""
    nbytes = n * channels * side * side * 4
    check_limit("decoded_bytes", nbytes, "Use fewer images or choose a smaller image_size.",
                cap=MAX_DECODED_BYTES, detail=f"{n:,} images of {channels}×{side}×{side} need "
                                              f"{amount(nbytes, 'bytes')}")


def _check_array_size(nbytes: int, name: str) -> None:
    """Refuse, from its header, a raw array too large to hold in memory."""
    check_limit("decoded_bytes", nbytes, "Save fewer or smaller images.", cap=MAX_ARRAY_BYTES,
                detail=f"{name} is an array of {amount(nbytes, 'bytes')}")


_ARRAY_RATIO_ACTION = ("Save the images without compression (numpy.savez rather than "
                       "numpy.savez_compressed, an IDX file without gzip), and check that it is "
                       "the file you meant.")


def _check_ratio(unpacked: int, packed: int, name: str, more: bool = False,
                 action: str = _ARRAY_RATIO_ACTION) -> None:
    """Refuse a compressed member or file that unpacks to too many times its size (a bomb)."""
    check_ratio(unpacked, packed, name, action, more=more)


def _read_capped(f: IO[bytes], cap: int, name: str) -> bytes:
    data = f.read(cap + 1)
    if len(data) > cap:
        raise DataError(f"{name} holds more than {_size(cap)} of data, more than genlib reads. "
                        "Use fewer or smaller images.")
    return data


def _size(nbytes: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"
