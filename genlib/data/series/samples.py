"""Sample series that ship inside statsmodels (no download): a first forecast without a file.

Each sample is written out as the CSV a person would upload and read back with `load_series`,
so it goes through the same checks, guesses and report as any upload.

>>> data = load_sample_series("co2")
>>> data.name, data.freq, len(data.df) > 400
('co2', 'MS', True)
"""
from __future__ import annotations

from genlib.errors import GenlibError

from .load import SeriesData, load_series

SAMPLE_SERIES = {                   # name → what a person sees
    "co2": "Mauna Loa CO₂ — monthly means 1958–2001 (statsmodels)",
    "macrodata": "US macroeconomic series — quarterly 1959–2009 (statsmodels)",
}


def sample_series_csv(name: str) -> bytes:
    """A sample series as the CSV a person would upload (it then goes through load_series).

    >>> sample_series_csv("macrodata").splitlines()[0]
    b'date,realgdp,realcons,realinv,cpi,unemp'
    """
    if name not in SAMPLE_SERIES:
        raise GenlibError(f"There is no sample series called {name!r}: choose one of "
                          f"{', '.join(SAMPLE_SERIES)}.")
    import statsmodels.api as sm    # slow to import: only when a sample is asked for

    if name == "co2":                   # weekly with gaps → the classic monthly means
        df = sm.datasets.co2.load_pandas().data.resample("MS").mean().dropna()
        df.index.name = "date"
        return df.to_csv(float_format="%.2f").encode()
    # macrodata: year + quarter columns → one date column, wide layout
    d = sm.datasets.macrodata.load_pandas().data
    dates = [f"{int(y)}-{3 * int(q) - 2:02d}-01" for y, q in zip(d["year"], d["quarter"])]
    wide = d[["realgdp", "realcons", "realinv", "cpi", "unemp"]].assign(date=dates)
    return wide[["date", "realgdp", "realcons", "realinv", "cpi", "unemp"]].to_csv(index=False).encode()


def load_sample_series(name: str) -> SeriesData:
    """A sample series, loaded as if its CSV had been uploaded under the name "<name>.csv".

    >>> load_sample_series("macrodata").n_series
    5
    """
    return load_series(sample_series_csv(name), name=f"{name}.csv")
