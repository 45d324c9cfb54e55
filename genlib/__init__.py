"""genlib: generative models and forecasting on your own data.

The public API; everything else is an implementation detail.
"""
from ._version import __version__
from .errors import DataError, GenlibError, RunError, TrainingError

__all__ = ["__version__", "GenlibError", "DataError", "RunError", "TrainingError"]
