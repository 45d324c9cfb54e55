"""genlib: generative models and forecasting on your own data.

    import genlib
    data = genlib.load_builtin("digits")
    result = genlib.train_model("gan", data, preset="quick")
    genlib.save_samples(genlib.sample_images(result.model, 64, seed=0), "grid.png")

    series = genlib.load_series("sales.csv")
    model = genlib.get_model("auto", h=12).fit(series.df)
    model.predict(12, levels=(80, 95))

The public API; everything else is an implementation detail.
"""
from ._version import __version__
from .data import (HealthReport, ImageData, SeriesData, list_datasets, load_builtin, load_dataset,
                   load_images, load_series)
from .errors import DataError, GenlibError, RunError, TrainingError
from .forecast import AutoForecaster, backtest, get_model, list_models
from .models import MODELS, build_model
from .device import DeviceInfo, device_info, resolve_device
from .pipeline import TrainResult, resume_run, train_model
from .bundle import is_bundle, load_bundle, open_bundle, write_bundle
from .runs import delete_run, list_runs, load_run
from .sample import interpolate, make_grid, sample_images, save_samples
from .train import Callback, TrainConfig, fit

__all__ = [
    "__version__", "GenlibError", "DataError", "RunError", "TrainingError",
    "HealthReport", "ImageData", "SeriesData", "list_datasets", "load_builtin", "load_dataset",
    "load_images", "load_series",
    "MODELS", "build_model", "Callback", "TrainConfig", "fit", "resolve_device", "DeviceInfo",
    "device_info", "train_model", "resume_run", "TrainResult",
    "list_runs", "load_run", "delete_run", "write_bundle", "open_bundle", "load_bundle", "is_bundle",
    "sample_images", "save_samples", "make_grid", "interpolate",
    "AutoForecaster", "backtest", "get_model", "list_models",
]
