"""How much data genlib takes in, and how much forecasting work one request may ask for.

Each limit is declared once, as a `setting` of `DataLimits`: its `max` is what genlib allows
anywhere, its `hosted_max` the stricter value of a shared server (GENLIB_HOSTED=1). The loaders
read the values in force at call time, so setting GENLIB_HOSTED while the app runs applies them.

    data_limits(hosted=True).series_rows                # 2,000,000
    check_limit("series_count", 25_000, "Split the file.", hosted=True)
    # DataError: Number of series can be at most 10,000 on this shared server (this file needs
    #            25,000 series). Split the file.
    check_forecast_work(n_series=100, n_models=3, windows=4)   # 1,500 model fits: allowed

Leaf module: imports nothing from genlib but the settings and the errors.
"""
from __future__ import annotations

import dataclasses

from .errors import DataError, GenlibError
from .settings import check_settings, describe, hosted_mode, setting

MiB, GiB = 1 << 20, 1 << 30

# A file that unpacks to less than this is never treated as a bomb, whatever its ratio: a few
# kilobytes of blank pixels compress a thousandfold and harm nobody.
RATIO_FLOOR_BYTES = 1 * MiB


@dataclasses.dataclass(frozen=True)
class DataLimits:
    """The largest data genlib reads and the most forecasting work one request may start.

    The defaults are the limits anywhere; `data_limits(hosted=True)` gives a shared server's.
    A field of None has no limit.
    """

    image_upload_bytes: int = setting(
        1 * GiB, label="Image upload", unit="bytes", min=1, max=1 * GiB, hosted_max=50 * MiB,
        help="The largest file of images (a ZIP, .npz, .npy or IDX file) accepted as an upload.")
    series_upload_bytes: int = setting(
        200 * MiB, label="Table file", unit="bytes", min=1, max=200 * MiB, hosted_max=50 * MiB,
        help="The largest CSV, Excel or Parquet file read, measured after unzipping it.")
    decoded_bytes: int = setting(
        2 * GiB, label="Images in memory", unit="bytes", min=1, max=2 * GiB,
        hosted_max=512 * MiB,
        help="The most memory a set of images may take once decoded to training numbers "
             "(four bytes per pixel and channel). A shared server still takes every built-in "
             "dataset at every image size and colour.")
    compression_ratio: int = setting(
        1000, label="Compression ratio", unit=":1", min=1, max=1000, hosted_max=100,
        help="How many times larger than itself a compressed file (a ZIP, .npz or gzip file) may "
             "unpack, when it unpacks to a megabyte or more. Far larger ratios are the mark of a "
             "file made to fill the memory.")
    series_rows: int = setting(
        50_000_000, label="Rows in the series table", unit="rows", min=1, max=50_000_000,
        hosted_max=2_000_000,
        help="The most rows of time series once every series is put on its regular time grid "
             "(one row per series and time step).")
    series_count: int | None = setting(
        None, label="Number of series", unit="series", min=1, max=None, hosted_max=10_000,
        help="The most time series one file may hold.")
    model_parameters: int | None = setting(
        None, label="Model size", unit="parameters", min=1, max=None, hosted_max=20_000_000,
        help="The most weights one image model may have, counted before it is built (the 'best' "
             "presets at 64×64 colour have about 16 million).")
    forecast_work: int | None = setting(
        None, label="Forecast work", unit="model fits", min=1, max=None, hosted_max=50_000,
        help="The most models fitted by one forecast: series times models times the backtest "
             "windows plus the final forecast.")

    def __post_init__(self):
        check_settings(self)


def data_limits(hosted: bool | None = None) -> DataLimits:
    """The limits in force: a shared server's when `hosted` (None: when GENLIB_HOSTED=1).

    >>> data_limits(hosted=False).series_rows, data_limits(hosted=True).series_rows
    (50000000, 2000000)
    """
    hosted = hosted_mode() if hosted is None else hosted
    return DataLimits(**{name: s.limit(hosted) for name, s in describe(DataLimits).items()})


def limit_of(field: str, cap: float | None = None, hosted: bool | None = None) -> float | None:
    """The value of one limit in force, or `cap` (a module's own constant) when that is smaller.

    >>> limit_of("decoded_bytes", cap=1000, hosted=False)
    1000
    """
    value = getattr(data_limits(hosted), field)
    return value if cap is None or (value is not None and value <= cap) else cap


def check_limit(field: str, needed: float, action: str, *, cap: float | None = None,
                hosted: bool | None = None, detail: str | None = None,
                error: type[GenlibError] = DataError) -> None:
    """Raise `error` with the standard sentence when `needed` is over the limit `field` sets.

    "<label> can be at most <value> <unit> on this shared server (this file needs <n>). <action>"
    — "on this shared server" only when the hosted value is the one that refuses. `cap` is a
    module's own constant (tests lower it), applied when smaller; `detail` replaces "this file
    needs <n>" inside the brackets.

    >>> check_limit("series_rows", 3_000_000, "Pass a coarser freq.", hosted=True)
    Traceback (most recent call last):
    genlib.errors.DataError: Rows in the series table can be at most 2,000,000 rows on this shared server (this file needs 3,000,000 rows). Pass a coarser freq.
    """
    hosted = hosted_mode() if hosted is None else hosted
    s = describe(DataLimits)[field]
    limit = s.limit(hosted)
    shared = hosted and limit is not None and (s.max is None or limit < s.max)
    if cap is not None and (limit is None or cap < limit):
        limit, shared = cap, False
    if limit is None or needed <= limit:
        return
    where = " on this shared server" if shared else ""
    detail = detail or f"this file needs {amount(needed, s.unit)}"
    raise error(f"{s.label} can be at most {_amount(limit, s)}{where} ({detail}). {action}")


def check_ratio(unpacked: int, packed: int, name: str, action: str, *, more: bool = False,
                hosted: bool | None = None) -> None:
    """Refuse a compressed file (or member) that unpacks to too many times its own size.

    Files that unpack to less than RATIO_FLOOR_BYTES pass whatever their ratio. `more`: reading
    stopped at `unpacked` bytes, so the file unpacks to more than that.

    >>> check_ratio(200 << 20, 1 << 20, "x.npz", "Save it with numpy.savez.", hosted=True)
    Traceback (most recent call last):
    genlib.errors.DataError: Compression ratio can be at most 100:1 on this shared server (x.npz unpacks from 1 MB to 200 MB, 200:1). Save it with numpy.savez.
    """
    if unpacked < RATIO_FLOOR_BYTES:
        return
    ratio = unpacked / max(packed, 1)
    over = "more than " if more else ""
    check_limit("compression_ratio", ratio, action, hosted=hosted,
                detail=f"{name} unpacks from {amount(packed, 'bytes')} to {over}"
                       f"{amount(unpacked, 'bytes')}, {over}{ratio:,.0f}:1")


def unpack_cap(packed: int, hosted: bool | None = None) -> int:
    """The most bytes a compressed file of `packed` bytes may unpack to: read at most this much
    (plus one byte, to know there was more) and refuse with `check_ratio(…, more=True)`.

    >>> unpack_cap(1 << 20, hosted=True) == 100 << 20     # 100:1 on a shared server
    True
    >>> unpack_cap(10, hosted=True) == RATIO_FLOOR_BYTES  # small files: a megabyte at least
    True
    """
    return max(RATIO_FLOOR_BYTES, int(data_limits(hosted).compression_ratio * packed))


def check_model_size(parameters: int, *, hosted: bool | None = None) -> None:
    """Refuse a model with more weights than allowed, before anything is allocated.

    >>> check_model_size(850_000_000_000, hosted=True)
    Traceback (most recent call last):
    genlib.errors.GenlibError: Model size can be at most 20,000,000 parameters on this shared server (these settings make 850,000,000,000 parameters). Choose a narrower network or a smaller image size.
    """
    check_limit("model_parameters", parameters,
                "Choose a narrower network or a smaller image size.", hosted=hosted,
                error=GenlibError, detail=f"these settings make {parameters:,} parameters")


def check_forecast_work(n_series: int, n_models: int, windows: int, *,
                        hosted: bool | None = None) -> None:
    """Refuse a forecast that would fit more models than allowed: series × models × (windows + 1).

    Each series is fitted once per backtest window and once more for the forecast itself.

    >>> check_forecast_work(100, 3, 4, hosted=True)          # 1,500 model fits: fine
    >>> check_forecast_work(5_000, 3, 4, hosted=True)
    Traceback (most recent call last):
    genlib.errors.GenlibError: Forecast work can be at most 50,000 model fits on this shared server (this forecast needs 75,000: 5,000 series × 3 models × 5 fits each, 4 backtest windows and the forecast). Forecast fewer series, choose fewer models or use fewer backtest windows.
    """
    fits = n_series * n_models * (windows + 1)
    check_limit("forecast_work", fits,
                "Forecast fewer series, choose fewer models or use fewer backtest windows.",
                hosted=hosted, error=GenlibError,
                detail=f"this forecast needs {fits:,}: {_count(n_series, 'series')} × "
                       f"{_count(n_models, 'model')} × {_count(windows + 1, 'fit')} each, "
                       f"{_count(windows, 'backtest window')} and the forecast")


# ---- words --------------------------------------------------------------------------------
def amount(value: float, unit: str) -> str:
    """A number with its unit, as a person reads it: '50 MB', '2,000,000 rows', '50:1'.

    >>> amount(50 << 20, "bytes"), amount(2_000_000, "rows"), amount(50, ":1")
    ('50 MB', '2,000,000 rows', '50:1')
    """
    if unit == "bytes":
        for name, scale in (("GB", GiB), ("MB", MiB), ("KB", 1 << 10)):
            if value >= scale:
                x = value / scale
                text = f"{x:,.1f}"
                if text.endswith(".0"):             # 512 MB, but 512.02 MB for a little more
                    text = f"{x:,.2f}".rstrip("0").rstrip(".")
                return f"{text} {name}"
        return f"{value:,.0f} bytes"
    number = f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"
    return number + unit if unit.startswith(":") else f"{number} {unit}".rstrip()


def _amount(value: float, s) -> str:
    """The limit as the sentence shows it: the unit left out when the label already ends in it."""
    shown = amount(value, s.unit)
    if s.unit and s.unit != "bytes" and s.label.lower().endswith(s.unit):
        shown = shown.removesuffix(" " + s.unit)
    return shown


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 or noun.endswith('s') else 's'}"
