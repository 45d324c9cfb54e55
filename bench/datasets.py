"""Where the benchmarks find the public datasets they score on (see bench/README.md).

Each benchmark takes `--data DIR` (default: $GENLIB_BENCH_DATA, else bench/data/) and stops with
one sentence saying what to download when a file is missing. The loaders and the one-file scores
here need only numpy and pandas (and genlib's numpy metrics), so a peer library's benchmark (bench/forecast_peers.py) can run in its own environment.
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT = Path(__file__).resolve().parent / "data"


def data_dir(given: str | None) -> Path:
    return Path(given or os.environ.get("GENLIB_BENCH_DATA") or DEFAULT).expanduser()


def require(path: Path, what: str) -> Path:
    """`path`, or exit with where to get `what` (bench/README.md names each source)."""
    if not path.exists():
        sys.exit(f"{path} is missing: put {what} there (bench/README.md says where to get it), "
                 f"or point --data at the folder that holds it.")
    return path


# ---- M3 ------------------------------------------------------------------------------------------
# part: sheet, horizon NF, MASE period, pandas frequency (None: no dates, as M3 "other" has none)
M3 = {"year": ("M3Year", 6, 1, "YS"), "quarter": ("M3Quart", 8, 4, "QS"),
      "month": ("M3Month", 18, 12, "MS"), "other": ("M3Other", 8, 1, None)}


def load_m3(data: Path, part: str = "month"):
    """(train, test, df) of one M3 part: {id: values}, {id: last NF values}, the training values as
    a long table (unique_id, ds, y) dated from each row's start (positions for "other")."""
    sheet, _, _, freq = M3[part]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pd.read_excel(require(data / "m3_competition" / "M3C.xls", "the M3 competition workbook"),
                            sheet_name=sheet, engine="xlrd")
    per_year = {"YS": 1, "QS": 4, "MS": 12}.get(freq, 1)
    train, test, parts = {}, {}, []
    for _, row in raw.iterrows():
        n, nf = int(row["N"]), int(row["NF"])
        values = row.iloc[6:6 + n].to_numpy(float)
        uid = str(row["Series"]).strip()
        if freq is None:
            ds = np.arange(n - nf)
        else:
            year, sub = int(row["Starting Year"]), 1 if freq == "YS" else int(row.iloc[5])
            ok = year > 1800 and 1 <= sub <= per_year
            start = pd.Timestamp(year=year, month=1 + (sub - 1) * 12 // per_year, day=1) if ok \
                else pd.Timestamp("1900-01-01")           # a few series have no start date
            ds = pd.date_range(start, periods=n - nf, freq=freq)
        train[uid], test[uid] = values[:-nf], values[-nf:]
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": values[:-nf]}))
    return train, test, pd.concat(parts, ignore_index=True)


# ---- M4 ------------------------------------------------------------------------------------------
M4 = {"Hourly": {"h": 48, "m": 24, "season": 24}, "Weekly": {"h": 13, "m": 1, "season": 52}}


def load_m4(data: Path, freq: str):
    """(train, test, df) of M4 Hourly or Weekly, as load_m3 (positions: M4 gives no dates)."""
    what = "the official M4 train and test CSVs"
    folder = data / "m4_hourly_weekly"
    train = pd.read_csv(require(folder / f"{freq}-train.csv", what), index_col=0)
    test = pd.read_csv(require(folder / f"{freq}-test.csv", what), index_col=0)
    ys = {k: r.dropna().to_numpy(float) for k, r in train.iterrows()}
    yt = {k: r.dropna().to_numpy(float) for k, r in test.iterrows()}
    df = pd.concat([pd.DataFrame({"unique_id": k, "ds": np.arange(len(y)), "y": y})
                    for k, y in ys.items()], ignore_index=True)
    return ys, yt, df


# ---- one upload at a time ----------------------------------------------------------------------
def single_sample(data: Path, per_part: int = 30, seed: int = 0):
    """A fixed random draw of M3 series of every part, each to be forecast on its own as a person
    uploading one file would: a list of (part, uid, train table, test values, horizon, period)."""
    rng = np.random.default_rng(seed)
    out = []
    for part, (_, h, m, _) in M3.items():
        train, test, df = load_m3(data, part)
        ids = sorted(train)
        for uid in sorted(rng.choice(ids, size=min(per_part, len(ids)), replace=False)):
            out.append((part, uid, df[df["unique_id"] == uid].reset_index(drop=True), test[uid], h, m))
    return out


# ---- daily and hourly uploads: stretches of real series ----------------------------------------
# kind: horizon, season length, shortest and longest stretch, pandas frequency
WINDOWS = {"daily": (14, 7, 90, 500, "D"), "hourly": (48, 24, 336, 1500, "h")}


def window_sample(data: Path, kind: str = "daily", count: int = 80, seed: int = 0, closed: int | None = None,
                  open_hours: tuple[int, int] | None = None):
    """`count` stretches of real daily or hourly series, each to be forecast on its own, in
    single_sample's format (part = kind). Hourly: the seven columns of ETTh1 and ETTh2 (dated).
    Daily: those columns as daily means, and the eight exchange rates (the file gives no dates:
    dated a day apart from 1990-01-01). Each stretch has a random length and a random end.
    closed: daily only, a day of the week (0 = Monday) left out of every stretch, as a shop's file
    has no Sundays: h and the stretch lengths count the days left, the season is 6 days long.
    open_hours: hourly only, (first, last) hour kept of each day, as a call centre's file has its
    opening hours alone: h and the lengths count the hours left, the season is a day of them."""
    h, m, shortest, longest, _ = WINDOWS[kind]
    m = m - 1 if closed is not None else m
    m = open_hours[1] - open_hours[0] + 1 if open_hours else m
    pool = []
    for name in ("ETTh1", "ETTh2"):
        ett = pd.read_csv(require(data / "ett_small" / f"{name}.csv", "ETTh1.csv and ETTh2.csv from the "
                                  "ETDataset"), parse_dates=["date"]).set_index("date")
        ett = ett.resample("D").mean() if kind == "daily" else ett
        pool += [(f"{name}.{c}", ett[c]) for c in ett.columns]
    if kind == "daily":
        fx = pd.read_csv(require(data / "exchange_rate" / "exchange_rate.txt.gz", "the LSTNet "
                                 "exchange-rate file"), header=None)
        days = pd.date_range("1990-01-01", periods=len(fx), freq="D")
        pool += [(f"rate{c}", pd.Series(fx[c].to_numpy(float), index=days)) for c in fx.columns]
    if closed is not None:
        pool = [(name, s[s.index.day_of_week != closed]) for name, s in pool]
    if open_hours:
        pool = [(name, s[(s.index.hour >= open_hours[0]) & (s.index.hour <= open_hours[1])]) for name, s in pool]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        name, s = pool[rng.integers(len(pool))]
        n = int(rng.integers(shortest, longest))
        end = int(rng.integers(n + h, len(s) + 1))
        train, test = s.iloc[end - n - h:end - h], s.iloc[end - h:end]
        df = pd.DataFrame({"unique_id": f"{name}@{end}", "ds": train.index, "y": train.to_numpy(float)})
        out.append((kind, f"{name}@{end}", df, test.to_numpy(float), h, m))
    return out


def m4_hourly_sample(data: Path):
    """Every M4 Hourly series alone, in single_sample's format, dated an hour apart from
    2024-01-01 (M4 gives no dates): 414 uploads of long hourly series."""
    ys, yt, _ = load_m4(data, "Hourly")
    return [("m4-hourly", k, pd.DataFrame({"unique_id": k, "y": y,
                                           "ds": pd.date_range("2024-01-01", periods=len(y), freq="h")}),
             yt[k], 48, 24) for k, y in ys.items()]


def classic_sample():
    """Eleven classic public series that statsmodels ships (no download), in single_sample's
    format (part = year, quarter, month or week), each to be forecast over its last 8 to 26
    values: yearly sunspots (from 1700; 20 years ahead, past 1988) and the Nile's flow; monthly
    Mauna Loa CO2 (trend and a strong season), Pacific sea temperatures (El Niño) and euro-area
    electrical equipment orders; quarterly US real GDP, unemployment and inflation (crosses
    zero), Danish money demand (55 quarters) and the interest rate of the interest/inflation
    set; and the weekly CO2 readings with the 59 missing weeks left as gaps in the file."""
    import statsmodels.api as sm
    from statsmodels.datasets import elec_equip

    def yearly(d, year, col):
        return pd.Series(d[col].to_numpy(float), index=pd.to_datetime(d[year].astype(int).astype(str)))

    def quarterly(d, col):
        start = f"{int(d['year'].iloc[0])}Q{int(d['quarter'].iloc[0])}"
        quarters = pd.period_range(start, periods=len(d), freq="Q").to_timestamp()
        return pd.Series(d[col].to_numpy(float), index=quarters)

    macro = sm.datasets.macrodata.load_pandas().data
    nino = sm.datasets.elnino.load_pandas().data
    nino = nino.set_index("YEAR").stack()
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    danish = sm.datasets.danish_data.load_pandas().data["lrm"]
    pool = [("year", "sunspots", yearly(sm.datasets.sunspots.load_pandas().data, "YEAR", "SUNACTIVITY"), 20),
            ("year", "nile", yearly(sm.datasets.nile.load_pandas().data, "year", "volume"), 10),
            ("month", "co2", co2.resample("MS").mean().interpolate(), 24),
            ("month", "elnino", pd.Series(nino.to_numpy(float), index=pd.date_range(
                f"{int(nino.index[0][0])}-01-01", periods=len(nino), freq="MS")), 24),
            ("month", "elec_equip", elec_equip.load_pandas().data.iloc[:, 0].astype(float).asfreq("MS"), 24),
            ("quarter", "realgdp", quarterly(macro, "realgdp"), 8),
            ("quarter", "unemp", quarterly(macro, "unemp"), 8),
            ("quarter", "infl", quarterly(macro, "infl"), 8),
            ("quarter", "danish_lrm", pd.Series(danish.to_numpy(float), index=danish.index), 8),
            ("quarter", "interest_R", quarterly(sm.datasets.interest_inflation.load_pandas().data, "R"), 8),
            ("week", "co2_weekly", co2, 26)]
    out = []
    for part, name, s, h in pool:
        train, test = s.iloc[:-h].dropna(), s.iloc[-h:]            # weekly: the gaps stay gaps
        df = pd.DataFrame({"unique_id": name, "ds": train.index, "y": train.to_numpy(float)})
        out.append((part, name, df, test.to_numpy(float), h, CLASSIC_SEASON[part]))
    return out


CLASSIC_SEASON = {"year": 1, "quarter": 4, "month": 12, "week": 52}
KINDS = ("m3", "daily", "hourly", "m4-hourly", "classic", "shops", "shops-year", "meters")   # one-file samples


def shop_sample(count: int = 40, seed: int = 0, year: bool = False):
    """`count` simulated shops' daily sales (no data folder), in single_sample's format (part
    "daily"), each forecast 28 days ahead: 50 to 119 days of history ("shops") or 120 to 799
    ("shops-year"); a weekly pattern of its own (each day 0.6 to 1.6 times the mean), a level, a
    slow random trend, a yearly swing of up to 25 %, negative-binomial noise; the file has up to
    5 days missing and one day written twice, as till exports do. A check of what auto does with
    daily sales, whose true pattern is known; no public daily sales series ships here."""
    rng = np.random.default_rng(seed)
    lo, hi, h, out = (120, 800, 28, []) if year else (50, 120, 28, [])
    for i in range(count):
        n = int(rng.integers(lo, hi))
        days = pd.date_range("2023-01-02", periods=n + h, freq="D")
        week = rng.uniform(0.6, 1.6, 7)
        week /= week.mean()
        level = rng.uniform(20, 500)
        trend = np.exp(np.cumsum(rng.normal(0, 0.004, n + h)) + rng.uniform(-0.3, 0.5) * np.arange(n + h) / 365)
        swing = 1 + rng.uniform(0, 0.25) * np.sin(2 * np.pi * (days.day_of_year / 365.25 + rng.uniform()))
        mu = level * week[days.day_of_week] * trend * swing
        k = rng.uniform(5, 60)
        y = rng.negative_binomial(k, k / (k + mu)).astype(float)
        frame = pd.DataFrame({"ds": days[:n], "y": y[:n]})
        frame = frame.drop(index=rng.choice(n - 10, size=int(rng.integers(0, 6)), replace=False) + 5)
        twice = frame.iloc[[int(rng.integers(10, len(frame) - 10))]]
        frame = pd.concat([frame, twice]).sort_index()
        out.append(("daily", f"shop {i}", frame, y[n:], h, 7))
    return out


def meter_sample(count: int = 40, seed: int = 0):
    """`count` simulated half-hourly meter readings (no data folder), in single_sample's format
    (part "halfhourly"), each forecast 2 days (96 half-hours) ahead from 14 to 59 days of history:
    a daily shape of its own (a home's morning and evening peaks of random sizes and times, its
    weekends up to 2 hours later and up to 30 % lower; or an office open 8 to 18, quiet at
    weekends), a level drifting by a random walk, AR(1) noise (0.5 to 0.9) of 3 to 10 % and a slow
    weather swing over 3 to 10 days. No public half-hourly series ships here; their true patterns
    are known."""
    rng = np.random.default_rng(seed)
    h, out = 96, []
    t_day = np.arange(48) / 2.0                                          # hour of the day
    for i in range(count):
        n = 48 * int(rng.integers(14, 60))
        stamps = pd.date_range("2024-01-01", periods=n + h, freq="30min") + pd.Timedelta(
            days=int(rng.integers(0, 7)))
        bump = lambda at, width: np.exp(-0.5 * ((t_day - at) / width) ** 2)   # noqa: E731
        if rng.uniform() < 0.3:                          # an office: open 8 to 18, quiet at weekends
            week_shape = 0.4 + 1.2 / (1 + np.exp(-(t_day - 8) * 2)) / (1 + np.exp((t_day - 18) * 2))
            weekend_shape = 0.4 + 0.1 * week_shape
        else:                                            # a home: two peaks, later at weekends
            week_shape = (0.5 + rng.uniform(0.3, 1.0) * bump(rng.uniform(6.5, 9), rng.uniform(0.7, 1.5))
                          + rng.uniform(0.5, 1.5) * bump(rng.uniform(17, 20.5), rng.uniform(1, 2.5)))
            weekend_shape = np.roll(week_shape, int(rng.integers(0, 5))) * rng.uniform(0.7, 1.0)
        day = np.arange(n + h) // 48
        weekend = stamps.day_of_week >= 5
        shape = np.where(weekend, weekend_shape[np.arange(n + h) % 48], week_shape[np.arange(n + h) % 48])
        level = rng.uniform(0.3, 50) * np.exp(np.cumsum(rng.normal(0, 0.03, day[-1] + 1)))[day]
        swing = 1 + rng.uniform(0, 0.2) * np.sin(2 * np.pi * np.arange(n + h) / (48 * rng.uniform(3, 10))
                                                 + rng.uniform(0, 2 * np.pi))
        phi, sd = rng.uniform(0.5, 0.9), rng.uniform(0.03, 0.10)
        noise = np.zeros(n + h)
        eps = rng.normal(0, sd * np.sqrt(1 - phi ** 2), n + h)
        for t in range(1, n + h):
            noise[t] = phi * noise[t - 1] + eps[t]
        y = np.maximum(level * shape * swing * (1 + noise), 0).round(3)
        out.append(("halfhourly", f"meter {i}", pd.DataFrame({"ds": stamps[:n], "y": y[:n]}), y[n:], h, 48))
    return out


def one_file_sample(data: Path, kind: str = "m3", per_part: int = 30, count: int = 80, seed: int = 0,
                    closed: int | None = None, open_hours: tuple[int, int] | None = None):
    """The one-file sample of a kind (KINDS): single_sample, window_sample, m4_hourly_sample or
    classic_sample (needs no data folder). closed, open_hours: see window_sample."""
    if kind == "m3":
        return single_sample(data, per_part, seed)
    if kind == "classic":
        return classic_sample()
    if kind in ("shops", "shops-year"):
        return shop_sample(count, seed, kind == "shops-year")
    if kind == "meters":
        return meter_sample(count, seed)
    return m4_hourly_sample(data) if kind == "m4-hourly" else window_sample(data, kind, count, seed, closed,
                                                                                      open_hours)


def sample_freq(part: str):
    """The pandas frequency of a one-file sample's part (None: no dates)."""
    return (M3[part][3] if part in M3 else "h" if part == "m4-hourly" else "W-SAT" if part == "week"
            else "30min" if part == "halfhourly"
            else WINDOWS[part][4])


def summarise(rows: list[dict]) -> dict:
    """The draw's scores: geometric-mean relative MASE, mean sMAPE and coverages."""
    rel = np.array([r["rel"] for r in rows if np.isfinite(r["rel"])])
    return {"rel": float(np.exp(np.mean(np.log(np.maximum(rel, 1e-9))))), "n": len(rows),
            "smape": float(np.mean([r["smape"] for r in rows])),
            "cov80": float(np.mean([r["cov80"] for r in rows])),
            "cov95": float(np.mean([r["cov95"] for r in rows]))}


def score_single(train: np.ndarray, test: np.ndarray, m: int, mean, lo80, hi80, lo95, hi95) -> dict:
    """One series of the draw: MASE relative to seasonal naive's, sMAPE, and how often the bands held."""
    from genlib.forecast import metrics as M          # numpy only, like this module
    from genlib.forecast.baselines import seasonal_naive

    h = len(test)
    base = M.mase(test, seasonal_naive(train, h, m)[0], train, m)
    q = M.mase(test, mean, train, m)
    return {"rel": q / base if base > 0 else float("nan"), "smape": M.smape(test, mean),
            "cov80": M.coverage(test, lo80, hi80), "cov95": M.coverage(test, lo95, hi95)}
