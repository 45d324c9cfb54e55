"""Data in, checked and ready to train on: images (files, uploads, built-ins) and time series.

Every loader returns its data together with a `HealthReport` of what it used, skipped and
repaired, and raises `genlib.errors.DataError` with a sentence saying what to do when it can't.
Names are imported when first used (PEP 562): image tensors need only torch and numpy, while
time series bring pandas and decoding picture files brings Pillow.
"""
import importlib

# public name → the submodule that defines it
_API = {
    "DatasetInfo": "builtin", "list_datasets": "builtin", "load_builtin": "builtin",
    "load_dataset": "builtin", "load_image": "images", "load_images": "images",
    "HealthReport": "types", "ImageData": "types", "SeriesData": "series", "load_series": "series",
    "in_words": "words",
}

__all__ = ["DatasetInfo", "HealthReport", "ImageData", "list_datasets", "load_builtin",
           "load_dataset", "load_image", "load_images", "load_series", "SeriesData", "in_words"]


def __getattr__(name: str):
    """A public name, or a submodule (`genlib.data.series`), imported on first use."""
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    elif not name.startswith("__"):
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
