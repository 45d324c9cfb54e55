"""Data in, checked and ready to train on: images (files, uploads, built-ins) and time series.

Every loader returns its data together with a `HealthReport` of what it used, skipped and
repaired, and raises `genlib.errors.DataError` with a sentence saying what to do when it can't.
Names are imported when first used (PEP 562): image tensors need only torch and numpy, while
time series bring pandas and decoding picture files brings Pillow.
"""
from .._lazy import lazy_names

# public name → the submodule that defines it
_API = {
    "DatasetInfo": "builtin", "list_datasets": "builtin", "load_builtin": "builtin",
    "load_dataset": "builtin", "load_image": "images", "load_images": "images",
    "HealthReport": "types", "ImageData": "types", "SeriesData": "series", "load_series": "series",
    "in_words": "words", "error_words": "words",
}

__all__ = ["DatasetInfo", "HealthReport", "ImageData", "list_datasets", "load_builtin",
           "load_dataset", "load_image", "load_images", "load_series", "SeriesData", "in_words",
           "error_words"]


__getattr__, __dir__ = lazy_names(__name__, _API)
