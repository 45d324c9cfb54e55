"""Data in, checked and ready to train on: images (files, uploads, built-ins) and time series.

Every loader returns its data together with a `HealthReport` of what it used, skipped and
repaired, and raises `genlib.errors.DataError` with a sentence saying what to do when it can't.
"""
from .builtin import DatasetInfo, list_datasets, load_builtin, load_dataset
from .images import load_image, load_images
from .types import HealthReport, ImageData

from .series import SeriesData, load_series
from .words import in_words

__all__ = ["DatasetInfo", "HealthReport", "ImageData", "list_datasets", "load_builtin",
           "load_dataset", "load_image", "load_images", "load_series", "SeriesData", "in_words"]
