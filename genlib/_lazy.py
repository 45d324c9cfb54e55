"""Public names imported on first use (PEP 562), for genlib and its packages.

    __getattr__, __dir__ = lazy_names(__name__, {"load_series": "series", …})

in a package's __init__ makes `package.load_series` import `.series` the first time it is
read, and `package.series` import that submodule; `import package` itself stays cheap.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_names(package: str, api: dict[str, str]) -> tuple[Callable, Callable]:
    """(__getattr__, __dir__) for `package`: api maps each public name to its submodule."""

    def __getattr__(name: str):
        """A public name, or a submodule, imported on first use."""
        if name in api:
            value = getattr(importlib.import_module(f".{api[name]}", package), name)
        elif not name.startswith("__"):
            try:
                value = importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        module = sys.modules[package]
        return sorted({*vars(module), *getattr(module, "__all__", ())})

    return __getattr__, __dir__
