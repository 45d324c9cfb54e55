"""Read images a user gives (ZIP, folder, .npz, .npy, IDX) into one training-ready `ImageData`.

Every source ends the same way: float32 N×C×H×W in [-1, 1], square, one side length, gray
(C=1) or RGB (C=3), plus a `HealthReport` that lists what was used, skipped and repaired.

    data = load_images("faces.zip")                    # class sub-folders become labels
    data = load_images(upload.getvalue(), name=upload.name, image_size=32, color="rgb")
    x = load_image("me.jpg", image_size=32, color="rgb")   # one picture: 1×3×32×32

Safety: nothing is unpickled (`allow_pickle=False`, object arrays refused before reading), ZIP
members are read in memory and never extracted, and every size a file declares is checked
against the caps in `limits` before anything is decoded. The caps are re-exported here for
reading; to lower one (in a test), patch it on `genlib.data.images.limits`. On a shared server
(GENLIB_HOSTED=1) the stricter values of `genlib.limits.DataLimits` apply where they are smaller.

Modules: `sources` (paths, uploads, streams → a reader), `arrays` (IDX, .npy, .npz), `files`
(ZIP and folder entries, image decoding), `tensors` (arrays → normalised tensors), `limits`.
"""
from .arrays import read_idx
from .files import GRAY_MODES, IMAGE_EXTENSIONS, IMAGE_FORMATS, JUNK_NAMES
from .limits import (IMAGE_SIDES, IMAGE_SIZES, MAX_ARRAY_BYTES, MAX_DECODED_BYTES,
                     MAX_FILE_BYTES, MAX_IMAGE_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES,
                     MAX_ZIP_ENTRIES, MAX_ZIP_TOTAL_BYTES, MIN_SIDE, pick_image_size)
from .sources import Source, load_image, load_images
from .tensors import images_from_array

__all__ = ["load_images", "load_image", "images_from_array", "read_idx", "pick_image_size",
           "Source", "IMAGE_SIZES", "IMAGE_SIDES", "MIN_SIDE", "MAX_SIDE", "MAX_UPLOAD_BYTES",
           "MAX_FILE_BYTES", "MAX_ZIP_ENTRIES", "MAX_ZIP_TOTAL_BYTES", "MAX_IMAGE_PIXELS",
           "MAX_ARRAY_BYTES", "MAX_DECODED_BYTES", "IMAGE_FORMATS", "IMAGE_EXTENSIONS",
           "JUNK_NAMES", "GRAY_MODES"]
