"""genlib: generative models and forecasting on your own data.

    import genlib
    data = genlib.load_builtin("digits")
    result = genlib.train_model("gan", data, preset="quick")
    genlib.save_samples(genlib.sample_images(result.model, 64, seed=0), "grid.png")

    series = genlib.load_series("sales.csv")
    model = genlib.get_model("auto", h=12).fit(series.df)
    model.predict(12, levels=(80, 95))

The public API; everything else is an implementation detail. Names are imported when first used
(PEP 562), so `import genlib` is cheap and the training path (models, train, runs, sample) needs
only torch, numpy and safetensors.
"""
from ._lazy import lazy_names
from ._version import __version__

# public name → the module that defines it
_API = {
    "GenlibError": "errors", "DataError": "errors", "RunError": "errors", "TrainingError": "errors",
    "HealthReport": "data", "ImageData": "data", "SeriesData": "data", "list_datasets": "data",
    "load_builtin": "data", "load_dataset": "data", "load_images": "data", "load_series": "data",
    "MODELS": "models", "build_model": "models",
    "Callback": "train", "TrainConfig": "train", "fit": "train",
    "resolve_device": "device", "DeviceInfo": "device", "device_info": "device",
    "train_model": "pipeline", "resume_run": "pipeline", "TrainResult": "pipeline",
    "list_runs": "runs", "load_run": "runs", "delete_run": "runs",
    "write_bundle": "bundle", "open_bundle": "bundle", "load_bundle": "bundle", "is_bundle": "bundle",
    "sample_images": "sample", "save_samples": "sample", "make_grid": "sample", "interpolate": "sample",
    "AutoForecaster": "forecast", "backtest": "forecast", "get_model": "forecast",
    "list_models": "forecast",
}

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


__getattr__, __dir__ = lazy_names(__name__, _API)
