"""The forecast and backtest commands, run through a parser built with add_commands."""
import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genlib.errors import DataError, GenlibError
from genlib.cli.forecast import add_commands

ROOT = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genlib")
    add_commands(p.add_subparsers(dest="command"))
    return p


def run(argv):
    args = parser().parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture
def sales_csv(tmp_path) -> Path:
    """Two shops, 48 months each, seasonal; semicolons, decimal commas, day-first dates, one gap."""
    rows = []
    for shop, level in (("north", 100.0), ("south", 40.0)):
        for i, d in enumerate(pd.date_range("2020-01-01", periods=48, freq="MS")):
            if shop == "south" and i == 30:
                continue                                        # a missing month: filled
            y = level + 10 * np.sin(2 * np.pi * i / 12) + 0.5 * i
            rows.append(f"{d:%d/%m/%Y};{shop};{y:.2f}".replace(".", ","))
    path = tmp_path / "sales.csv"
    path.write_text("Datum;Filiale;Umsatz\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_forecast_writes_the_table_and_prints_the_report(sales_csv, tmp_path, capsys):
    out = tmp_path / "fc.csv"
    assert run(["forecast", sales_csv, "--horizon", 6, "--model", "seasonal_naive", "--raw",
                "--out", out]) == 0
    fc = pd.read_csv(out, parse_dates=["ds"])
    assert list(fc.columns) == ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert fc.groupby("unique_id").size().to_dict() == {"north": 6, "south": 6}
    assert fc["ds"].min() == pd.Timestamp("2024-01-01") and fc["ds"].max() == pd.Timestamp("2024-06-01")
    assert (fc["lo-95"] <= fc["lo-80"]).all() and (fc["lo-80"] <= fc["mean"]).all()
    assert (fc["mean"] <= fc["hi-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()
    north = fc[fc["unique_id"] == "north"]["mean"].to_numpy()
    expected = [100 + 10 * np.sin(2 * np.pi * i / 12) + 0.5 * i for i in range(36, 42)]   # last year
    assert np.allclose(north, expected, atol=0.01)
    text = capsys.readouterr().out
    assert "Loaded sales.csv: 2 series of 48 values, from 2020-01-01 to 2023-12-01." in text
    assert "Used 2 series." in text and "Filled 1 missing value" in text
    assert "Frequency: monthly ('MS')" in text and "Wrote 12 rows (2 series × 6 steps, 2024-01-01 to 2024-06-01)" in text


def test_forecast_levels_and_overrides(sales_csv, tmp_path):
    out = tmp_path / "fc.csv"
    run(["forecast", sales_csv, "--horizon", 3, "--model", "naive", "--level", 50, 90,
         "--date-column", "Datum", "--value-column", "Umsatz", "--id-column", "Filiale",
         "--dayfirst", "--freq", "MS", "--out", out])
    fc = pd.read_csv(out)
    assert list(fc.columns) == ["model", "series", "date", "forecast", "low 50 %", "high 50 %",
                                "low 90 %", "high 90 %"]
    assert set(fc["model"]) == {"Naive"}


def test_an_order_log_forecasts_daily_totals_or_with_combine_mean_daily_averages(tmp_path, capsys):
    rng = np.random.default_rng(0)
    times = pd.Timestamp("2024-02-01") + pd.to_timedelta(np.sort(rng.uniform(0, 42 * 86400, 400)), unit="s")
    path = tmp_path / "orders.csv"
    path.write_text("Created at,Total\n" + "".join(f"{t:%Y-%m-%d %H:%M},{rng.uniform(10, 60):.2f}\n"
                                                    for t in times))
    out = tmp_path / "fc.csv"
    assert run(["forecast", path, "--horizon", 7, "--model", "naive", "--raw", "--out", out]) == 0
    text = capsys.readouterr().out
    assert "read as daily totals" in text and "To average them instead, use --combine mean." in text
    assert "For other periods (hours, weeks, months), use --freq (h, W, MS)." in text and "pass " not in text
    totals = pd.read_csv(out)["mean"]
    assert run(["forecast", path, "--horizon", 7, "--model", "naive", "--raw", "--out", out,
                "--combine", "mean"]) == 0
    assert "read as daily averages" in capsys.readouterr().out
    assert pd.read_csv(out)["mean"].iloc[0] < totals.iloc[0] / 3                # ~10 orders a day


def test_forecast_table_for_people_is_rounded_and_the_raw_one_is_not(sales_csv, tmp_path):
    people, raw = tmp_path / "people.csv", tmp_path / "raw.csv"
    run(["forecast", sales_csv, "--horizon", 6, "--model", "ar", "--out", people])
    run(["forecast", sales_csv, "--horizon", 6, "--model", "ar", "--raw", "--out", raw])
    p, r = pd.read_csv(people), pd.read_csv(raw)
    assert p["model"].unique().tolist() == ["Linear autoregression"]
    assert list(p.columns)[:4] == ["model", "series", "date", "forecast"]
    north = p[p["series"] == "north"]               # values near 120: four significant digits
    assert all(len(f"{v}".split(".")[-1]) <= 1 for v in north["forecast"])
    raw_north = r[r["unique_id"] == "north"]["mean"].to_numpy()
    assert np.array_equal(north["forecast"].to_numpy(), raw_north.round(1))


def test_short_series_still_get_a_forecast_with_the_reason(tmp_path, capsys):
    rows = [f"long,{d:%Y-%m-%d},{100 + i % 12}" for i, d in
            enumerate(pd.date_range("2020-01-01", periods=40, freq="MS"))]
    rows += [f"short,{d:%Y-%m-%d},{5 + i}" for i, d in
             enumerate(pd.date_range("2022-09-01", periods=5, freq="MS"))]
    path = tmp_path / "mixed.csv"
    path.write_text("id,date,value\n" + "\n".join(rows) + "\n")
    out = tmp_path / "fc.csv"
    assert run(["forecast", path, "--horizon", 3, "--model", "ets", "--out", out]) == 0
    fc = pd.read_csv(out)
    assert fc.groupby("series").size().to_dict() == {"long": 3, "short": 3}
    assert fc[fc["series"] == "short"]["forecast"].tolist() == [9.0, 9.0, 9.0]     # naive
    text = capsys.readouterr().out
    assert "short: Exponential smoothing (ETS) needs at least 10 values" in text
    scores = tmp_path / "scores.csv"
    assert run(["backtest", path, "--horizon", 3, "--windows", 3, "--models", "naive",
                "--out", scores]) == 0
    text = capsys.readouterr().out
    assert "short: not tested: too short to test the models: 11 more values needed" in text


def test_forecast_auto_explains_its_choice_per_series(sales_csv, tmp_path, capsys):
    out = tmp_path / "fc.csv"
    assert run(["forecast", sales_csv, "--horizon", 6, "--out", out]) == 0      # --model auto
    text = capsys.readouterr().out
    assert "Why, per series:" in text
    assert "  north: " in text and "  south: " in text
    assert len(pd.read_csv(out)) == 12


def test_backtest_writes_and_prints_the_scores(sales_csv, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert run(["backtest", sales_csv, "--horizon", 6, "--windows", 2, "--step", 3,
                "--models", "naive", "ar", "--out", out]) == 0
    scores = pd.read_csv(out)
    assert scores["model"].tolist() == ["naive", "ar", "seasonal_naive"]
    assert {"MAE", "MASE", "coverage-80", "coverage-95", "MASE_rel"} <= set(scores.columns)
    assert scores.set_index("model").loc["seasonal_naive", "MASE_rel"] == pytest.approx(1.0)
    text = capsys.readouterr().out
    assert "Backtesting naive, ar on 2 series: 2 window(s) of 6 steps, 3 step(s) apart" in text
    assert "Lowest MASE:" in text and "Seasonal naive" in text and "seasonal_naive" not in text


def test_backtest_default_models(sales_csv, tmp_path):
    out = tmp_path / "scores.csv"
    run(["backtest", sales_csv, "--horizon", 3, "--windows", 1, "--out", out])
    assert set(pd.read_csv(out)["model"]) == {"naive", "seasonal_naive", "drift", "ar", "theta"}


def test_backtest_scores_the_bands_forecast_writes_and_own_bands_the_models_own(tmp_path, capsys):
    """White noise: naive's own bands grow as a random walk's and hold nearly everything. The
    forecast command widens or narrows them on the series' past, and the backtest scores them so."""
    rng = np.random.default_rng(1)
    path = tmp_path / "noise.csv"
    pd.DataFrame({"date": pd.date_range("2020-01-01", periods=400, freq="D"),
                  "value": 10 + rng.normal(0, 1, 400)}).to_csv(path, index=False)
    scores = {}
    for flag in ([], ["--own-bands"]):
        out = tmp_path / f"scores{len(flag)}.csv"
        run(["backtest", path, "--horizon", 14, "--windows", 3, "--models", "naive", *flag, "--out", out])
        scores[bool(flag)] = pd.read_csv(out).set_index("model")
    text = capsys.readouterr().out
    assert text.count("Coverage of Naive: their bands as `forecast` writes them") == 1
    own, calibrated = scores[True].loc["naive"], scores[False].loc["naive"]
    assert own["coverage-80"] > 95 and 65 < calibrated["coverage-80"] < 90
    assert own["MASE"] == calibrated["MASE"]                           # the same point forecasts
    assert scores[True].loc["seasonal_naive", "coverage-80"] == scores[False].loc["seasonal_naive",
                                                                                   "coverage-80"]
    written = {}
    for flag in ([], ["--own-bands"]):
        out = tmp_path / f"fc{len(flag)}.csv"
        run(["forecast", path, "--horizon", 14, "--model", "naive", "--raw", *flag, "--out", out])
        written[bool(flag)] = pd.read_csv(out)
    width = {k: (fc["hi-80"] - fc["lo-80"]).to_numpy() for k, fc in written.items()}
    assert (width[False] < width[True]).all() and np.allclose(written[False]["mean"], written[True]["mean"])
    assert "Bands: The model's own 80 % bands held" in capsys.readouterr().out


def test_series_without_dates_get_numbered_forecasts(tmp_path):
    path = tmp_path / "m4.csv"
    path.write_text('"V1","V2","V3","V4","V5","V6","V7"\n"W1","1","2","3","4","5","6"\n'
                    '"W2","5","6","7","8",,\n')
    out = tmp_path / "fc.csv"
    run(["forecast", path, "--horizon", 2, "--model", "drift", "--out", out])
    fc = pd.read_csv(out)
    assert fc[fc["series"] == "W1"]["position"].tolist() == [6, 7]
    assert fc[fc["series"] == "W1"]["forecast"].tolist() == pytest.approx([7.0, 8.0])


def test_user_mistakes_raise_genlib_errors(sales_csv, tmp_path):
    with pytest.raises(DataError, match="No file at"):
        run(["forecast", tmp_path / "missing.csv", "--horizon", 3, "--out", tmp_path / "x.csv"])
    with pytest.raises(DataError, match="no such column"):
        run(["forecast", sales_csv, "--horizon", 3, "--date-column", "when", "--out", tmp_path / "x.csv"])
    with pytest.raises(GenlibError, match="does not exist"):
        run(["forecast", sales_csv, "--horizon", 3, "--model", "naive", "--out", tmp_path / "no" / "x.csv"])
    with pytest.raises(GenlibError, match="percentage between 0 and 100"):
        run(["forecast", sales_csv, "--horizon", 3, "--model", "naive", "--level", 120,
             "--out", tmp_path / "x.csv"])


@pytest.mark.parametrize("argv", [["forecast", "f.csv", "--out", "x.csv"],                 # no horizon
                                  ["forecast", "f.csv", "--horizon", "0", "--out", "x.csv"],
                                  ["forecast", "f.csv", "--horizon", "3", "--model", "prophet", "--out", "x.csv"],
                                  ["forecast", "f.csv", "--horizon", "3", "--dayfirst", "--monthfirst",
                                   "--out", "x.csv"]])
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(argv)
    assert exc.value.code == 2


def test_help_reads_well(capsys):
    for command in ("forecast", "backtest"):
        with pytest.raises(SystemExit):
            parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        assert "Examples:" in text and f"python -m genlib {command} sales.csv --horizon" in text
        assert "--dayfirst" in text and "Reading the file" in text


def test_every_registered_model_can_be_chosen(tmp_path):
    from genlib.forecast.registry import MODELS
    for name in MODELS:
        args = parser().parse_args(["forecast", "f.csv", "--horizon", "2", "--model", name,
                                    "--out", str(tmp_path / "f.csv")])
        assert args.model == name
    with pytest.raises(SystemExit):
        parser().parse_args(["forecast", "f.csv", "--horizon", "2", "--model", "prophet", "--out", "x.csv"])


def test_wired_into_python_m_genlib(sales_csv, tmp_path, capsys):
    from genlib.cli import main

    out = tmp_path / "fc.csv"
    assert main(["forecast", str(tmp_path / "nope.csv"), "--horizon", "2", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("error: No file at")
    ok = subprocess.run([sys.executable, "-m", "genlib", "forecast", str(sales_csv), "--horizon", "2",
                         "--model", "naive", "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert len(pd.read_csv(out)) == 4


@pytest.fixture
def shop_csv(tmp_path) -> Path:
    """A shop's daily sales, halved on US public holidays, from 2022 to 10 December 2024."""
    from genlib.forecast.calendar import holiday_dates

    holidays = holiday_dates("US", range(2022, 2025))
    rng = np.random.default_rng(0)
    ds = pd.date_range("2022-01-03", "2024-12-10", freq="D")
    y = (200 * (1 + 0.3 * (ds.day_of_week >= 5)) * np.where([d in holidays for d in ds.date], 0.5, 1)
         * np.exp(rng.normal(0, 0.05, len(ds))))
    path = tmp_path / "shop.csv"
    path.write_text("date,sales\n" + "".join(f"{d:%Y-%m-%d},{v:.2f}\n" for d, v in zip(ds, y)))
    return path


def test_forecast_and_backtest_with_public_holidays(shop_csv, sales_csv, tmp_path, capsys):
    out = tmp_path / "fc.csv"
    assert run(["forecast", shop_csv, "--horizon", 28, "--model", "ets", "--holidays", "us",
                "--raw", "--out", out]) == 0
    text = capsys.readouterr().out
    assert "Public holidays: United States (US)." in text
    assert re.search(r"on average (49|50|51) % lower", text)
    assert "Christmas Day (25 Dec 2024) and New Year's Day (1 Jan 2025)" in text
    fc = pd.read_csv(out, parse_dates=["ds"]).set_index("ds")["mean"]
    assert fc["2024-12-25"] / fc["2024-12-18"] == pytest.approx(0.5, abs=0.1)   # both Wednesdays
    scores = {}
    for holidays in ([], ["--holidays", "US"]):
        run(["backtest", shop_csv, "--horizon", 28, "--windows", 3, "--models", "ets", *holidays,
             "--out", out])
        scores[bool(holidays)] = pd.read_csv(out).set_index("model").loc["ets", "MASE"]
    assert scores[True] < 0.9 * scores[False]
    with pytest.raises(DataError, match="daily or hourly data.*monthly"):
        run(["forecast", sales_csv, "--horizon", 3, "--holidays", "US", "--out", out])
    with pytest.raises(GenlibError, match="two-letter code"):
        run(["backtest", shop_csv, "--horizon", 3, "--holidays", "Atlantis", "--out", out])
    assert run(["holidays"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "IS  Iceland" in listed and len(listed) > 200
    assert "DE  Germany (17 regions: python -m genlib holidays DE)" in listed
    assert run(["holidays", "germany"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == "DE  Germany, and its 17 regions:" and "DE-BY  Bayern" in listed
    assert run(["holidays", "IS"]) == 0
    assert capsys.readouterr().out == "IS  Iceland: the same holidays everywhere\n"
    with pytest.raises(GenlibError, match="no region 'XX'.*DE-BY"):
        run(["forecast", shop_csv, "--horizon", 3, "--holidays", "DE-XX", "--out", out])
