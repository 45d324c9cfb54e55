"""The forecasting commands of `python -m genlib`: forecast, backtest and holidays.

    python -m genlib forecast sales.csv --horizon 12 --out forecast.csv
    python -m genlib backtest sales.csv --horizon 12 --windows 3 --out scores.csv
    python -m genlib holidays

`add_commands(subparsers)` registers them on the main parser (genlib/cli/__init__.py). Each handler takes
the parsed arguments and returns an exit code; a user mistake raises GenlibError, which the main
command line prints as one `error: …` line (exit code 2). Heavy imports happen inside the
handlers, so `python -m genlib --help` stays fast.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..data.series import FILLS
from ..errors import GenlibError
from ..forecast.registry import MODELS
from .args import F, positive_float, positive_int

MODEL_NAMES = tuple(MODELS)                                              # the registry's names
BACKTEST_DEFAULT = ("naive", "seasonal_naive", "drift", "ar", "theta")   # fast on a CPU
SHOWN_SCORES = ("MAE", "RMSE", "sMAPE", "MASE", "RMSSE", "CRPS", "MASE_rel")

_LOADING_HELP = """\
Reading the file (every guess can be overridden):
  CSV with any delimiter (, ; tab |), decimal comma, UTF-8/UTF-16/Latin-1; Excel .xlsx/.xls;
  Parquet. Layouts: long (id, date, value), wide (date + one column per series), one series
  per row (M4 style). The date, value and id columns are found by what they hold; the
  frequency is inferred from the dates (daily dates without a day of the week, such as a
  shop's sales without Sundays, are read on the days they have, and hourly data of opening
  hours on those hours: the forecast skips the closed times too). Gaps are filled by linear interpolation, repeated dates averaged, and every repair
  is listed before the forecast runs."""


def add_commands(subparsers) -> None:
    """Register `forecast` and `backtest` on an argparse subparsers object."""
    p = subparsers.add_parser(
        "forecast", help="forecast the time series in a CSV, Excel or Parquet file", formatter_class=F,
        description="Forecast every series in FILE H steps ahead, with prediction intervals, and\n"
                    "write one table: model, series, date, forecast, low 80 %, high 80 %, low 95 %,\n"
                    "high 95 % (one low/high pair per --level), rounded to four significant digits;\n"
                    "--raw writes unique_id, ds, mean, lo-80, hi-80, … at full precision.\n"
                    "The loading report and, for auto, the model chosen for each series and why\n"
                    "are printed first. A series too short for the model is forecast by naive\n"
                    "(repeat the last value) instead, and the notes say so.",
        epilog="Examples:\n"
               "  python -m genlib forecast sales.csv --horizon 12 --out forecast.csv\n"
               "  python -m genlib forecast sales.xlsx --horizon 8 --model ets --level 90 --out fc.csv\n"
               "  python -m genlib forecast export.csv --horizon 14 --date-column Datum "
               "--value-column Umsatz --dayfirst --out fc.csv\n"
               "  python -m genlib forecast shop.csv --horizon 28 --holidays US --out fc.csv\n"
               "\n"
               "Models: auto (default) tries several on the last stretches of each series and keeps\n"
               "the best, and says why; naive, seasonal_naive, drift and window_average are quick\n"
               "benchmarks (seasonal_naive_long repeats last week's hours or last year's days);\n"
               "ar is a linear autoregression; ets, arima and theta are classic\n"
               "statistical models; mstl takes out daily and weekly (or weekly and yearly)\n"
               "patterns first; neural_ar and neural_gru train a small neural network (auto\n"
               "also tries neural_ar on 50 series or more).\n"
               "\n" + _LOADING_HELP)
    p.add_argument("file", metavar="FILE", type=Path, help="the data: CSV, Excel (.xlsx/.xls) or Parquet")
    p.add_argument("--horizon", type=positive_int, required=True, metavar="H",
                   help="how many steps to forecast (in the data's frequency: 12 = a year of months)")
    p.add_argument("--model", default="auto", choices=MODEL_NAMES, metavar="MODEL",
                   help=f"which model: {', '.join(MODEL_NAMES)} (default: auto)")
    _add_common(p)
    p.add_argument("--budget", type=positive_float, metavar="SECONDS",
                   help="auto only: seconds for choosing and fitting; models are kept in order "
                        "(slowest last) while they fit (default: 30 plus a tenth of a second per "
                        "series, plus 60 when a neural network is tried, on 50 series or more: "
                        "every model for one series, the fast ones for thousands)")
    p.add_argument("--raw", action="store_true",
                   help="write the table for programs: unique_id, ds, mean, lo-80, hi-80, …, "
                        "full precision")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="where to write the forecasts")
    p.set_defaults(func=cmd_forecast)

    p = subparsers.add_parser(
        "backtest", help="score forecasting models on the past of your series", formatter_class=F,
        description="Check how well models would have forecast your data: cut each series K times\n"
                    "before its end, forecast the next H steps from each cut, compare with what\n"
                    "happened, and write one row of scores per model: MAE, RMSE, MAPE, sMAPE, MASE,\n"
                    "RMSSE, interval coverage and CRPS. The *_rel columns divide by seasonal naive's\n"
                    "score: below 1 beats that benchmark.",
        epilog="Examples:\n"
               "  python -m genlib backtest sales.csv --horizon 12 --windows 3 --out scores.csv\n"
               "  python -m genlib backtest sales.csv --horizon 6 --windows 4 --step 3 "
               "--models naive ar ets --out scores.csv\n"
               "\n"
               f"Default models: {' '.join(BACKTEST_DEFAULT)} (seasonal_naive is always added).\n"
               "A series needs HORIZON + (WINDOWS - 1) × STEP values after the models' own minimum\n"
               "history for every window; a shorter one is tested on fewer windows, or left out\n"
               "and named (the same rule as the app's Forecast page).\n"
               "\n" + _LOADING_HELP)
    p.add_argument("file", metavar="FILE", type=Path, help="the data: CSV, Excel (.xlsx/.xls) or Parquet")
    p.add_argument("--horizon", type=positive_int, required=True, metavar="H",
                   help="steps forecast from each cut")
    p.add_argument("--windows", type=positive_int, default=3, metavar="K",
                   help="how many cuts (default 3)")
    p.add_argument("--step", type=positive_int, metavar="S",
                   help="steps between cuts (default: the horizon, so windows do not overlap)")
    p.add_argument("--models", nargs="+", choices=MODEL_NAMES, metavar="MODEL",
                   help=f"models to compare (default: {' '.join(BACKTEST_DEFAULT)})")
    _add_common(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="where to write the scores")
    p.set_defaults(func=cmd_backtest)

    p = subparsers.add_parser(
        "holidays", help="list the countries and regions whose public holidays --holidays knows",
        formatter_class=F,
        description="List the countries whose public holidays forecast and backtest can take into\n"
                    "account (--holidays CODE), or with COUNTRY the regions of one country whose\n"
                    "holidays differ (--holidays DE-BY). Holiday dates come from the holidays\n"
                    "package, observed days included.",
        epilog="Examples:\n  python -m genlib holidays\n  python -m genlib holidays DE")
    p.add_argument("country", nargs="?", metavar="COUNTRY", help="list this country's regions")
    p.set_defaults(func=cmd_holidays)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--level", type=float, nargs="+", default=[80.0, 95.0], metavar="L",
                   help="prediction-interval levels in percent (default: 80 95)")
    p.add_argument("--season-length", type=positive_int, metavar="M",
                   help="steps in one season (default: from the frequency: hourly 24, daily 7, "
                        "weekly 52, monthly 12, quarterly 4)")
    p.add_argument("--own-bands", action="store_true",
                   help="keep each model's own prediction intervals. By default they are widened or "
                        "narrowed to hold their level on the series' own past (auto always does this "
                        "itself; the neural networks learn theirs)")
    p.add_argument("--holidays", metavar="COUNTRY",
                   help="daily or hourly data: take the public holidays of this country into account "
                        "(two-letter code: US, GB, DE, FR, IN, CN …, or a region's: DE-BY, US-CA; "
                        "`python -m genlib holidays` lists them). The effect is measured on each "
                        "series' past and used only where holidays clearly differ from ordinary days")
    g = p.add_argument_group("reading the file (only when the guess is wrong)")
    g.add_argument("--date-column", metavar="C", help="the column with the dates")
    g.add_argument("--value-column", nargs="+", metavar="C", help="the column(s) with the numbers")
    g.add_argument("--id-column", metavar="C", action="append",
                   help="the column naming each series (long layout); twice for a pair: --id-column store "
                        "--id-column item")
    g.add_argument("--freq", metavar="F",
                   help="pandas frequency: h, D, B, W, MS, ME, QS, YS …; the days of the week the "
                        "data have: C-MON-TUE-WED-THU-FRI-SAT; opening hours: h@09:00-17:00 (and "
                        "@MON-TUE-… for their days). Dates off the grid are averaged into their period "
                        "(added up with --combine sum)")
    order = g.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True, default=None,
                       help="dates are written day first: 31/12/2024")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="dates are written month first: 12/31/2024")
    g.add_argument("--sheet", metavar="NAME", help="Excel sheet to read (default: the first with data)")
    g.add_argument("--fill", default="interpolate", choices=list(FILLS),
                   help="how to fill gaps inside a series (default: interpolate)")
    g.add_argument("--combine", choices=["mean", "sum"],
                   help="values that fall on one date or period (one row per order, or daily values "
                        "read monthly): mean averages them, sum adds them up and counts a period "
                        "without rows as 0 (default: a guess from the column names, said in the report)")


# ---- handlers ----------------------------------------------------------------------------------
def cmd_forecast(args) -> int:
    """Load FILE, fit the model, forecast --horizon steps, write --out; print what happened."""
    from ..forecast.conformal import bands_sentence
    from ..forecast.plain import people_table
    from ..forecast.report import fit_forecast, trains_a_network

    _check_out(args.out)
    data = _load(args)
    holidays = _holidays(args, data)
    info = MODELS[args.model]
    network = trains_a_network([args.model], data.n_series)
    print(f"\nModel: {info.title} ({args.model}). Fitting {data.n_series:,} series …"
          + (" (this trains a neural network and can take a few minutes on a CPU)" if network else ""))
    progress = []
    if network:                                   # a progress bar per training
        from ..train import ConsoleCallback
        progress.append(ConsoleCallback())
    # the one rule for short series, shared with the app's Forecast page
    forecast, model, notes = fit_forecast(args.model, data.df, args.horizon, tuple(args.level),
                                          freq=data.freq, season_length=args.season_length,
                                          budget=args.budget, callbacks=progress, holidays=holidays,
                                          calibrate=not args.own_bands)
    if forecast.empty:
        raise GenlibError("The model returned no forecasts; check the file and the horizon.")
    _explain(model, notes)
    if bands_sentence(model):                     # what calibration did to the model's bands
        print("\nBands: " + bands_sentence(model))
    _write(forecast if args.raw else people_table({args.model: forecast}), args.out)
    print(f"\nWrote {len(forecast):,} rows ({data.n_series:,} series × {args.horizon} steps, "
          f"{_stamp(forecast['ds'].min())} to {_stamp(forecast['ds'].max())}) to {args.out}")
    return 0


def cmd_backtest(args) -> int:
    """Load FILE, backtest the models, write the scores to --out and print them."""
    import pandas as pd

    from ..forecast.backtest import backtest
    from ..forecast.conformal import calibrated_in
    from ..forecast.plain import title
    from ..forecast.report import forecast_model

    _check_out(args.out)
    data = _load(args)
    holidays = _holidays(args, data)
    models = list(dict.fromkeys(args.models or BACKTEST_DEFAULT))
    step = args.step or args.horizon
    print(f"\nBacktesting {', '.join(models)} on {data.n_series:,} series: {args.windows} window(s) "
          f"of {args.horizon} steps, {step} step(s) apart …")
    # each model as `forecast` fits it (its bands calibrated on each cut's history alone); seasonal
    # naive, the benchmark of the *_rel columns, keeps its own bands
    named = {name: name if name == "seasonal_naive" else
             forecast_model(name, args.horizon, tuple(args.level), freq=data.freq,
                            season_length=args.season_length, holidays=holidays,
                            calibrate=not args.own_bands) for name in models}
    result = backtest(data.df, named, h=args.horizon, windows=args.windows, step=args.step,
                      levels=tuple(args.level), season_length=args.season_length,
                      freq=data.freq, holidays=holidays)
    scores = result.scores
    _write(scores, args.out)
    shown = ["model"] + [c for c in scores.columns if c in SHOWN_SCORES or c.startswith("coverage-")]
    shown += ["seconds"] if "seconds" in scores.columns else []
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print("\n" + scores[shown].assign(model=scores["model"].map(title))
              .to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    ranked = scores[scores["model"] != "seasonal_naive"].dropna(subset=["MASE"]).sort_values("MASE")
    if len(ranked):
        best = ranked.iloc[0]
        rel = best.get("MASE_rel")
        versus = f" ({rel:.2f}× the error of Seasonal naive)" if rel is not None and rel == rel else ""
        print(f"\nLowest MASE: {title(best['model'])}{versus}. "
              "Below 1 in the *_rel columns means better than Seasonal naive.")
    fewer = sum(1 for w in result.series_windows.values() if 0 < w < result.windows)
    if fewer:
        print(f"{fewer:,} shorter series were tested on fewer windows.")
    _print_notes({uid: f"not tested: {why}." for uid, why in result.skipped.items()})
    calibrated = [title(n) for n, m in named.items() if calibrated_in(m) is not None]
    if calibrated:
        print(f"Coverage of {', '.join(calibrated)}: their bands as `forecast` writes them, widened or "
              "narrowed to hold their level on each cut's own past (--own-bands scores the models' "
              "own bands). Seasonal naive, the benchmark, keeps its own.")
    print(f"Wrote the scores of {len(scores)} models ({len(scores.columns)} columns) to {args.out}")
    return 0


def cmd_holidays(args) -> int:
    """Print every country the holiday calendar knows (code, name, how many regions), or the
    regions of one country."""
    from ..forecast.calendar import check_country, country_names, place_names

    places = place_names()
    if args.country:
        country = check_country(args.country).split("-")[0]
        regions = {c: n for c, n in places.items() if c.startswith(f"{country}-")}
        print(f"{country}  {places[country]}: the same holidays everywhere" if not regions else
              f"{country}  {places[country]}, and its {len(regions)} regions:")
        for code, name in regions.items():
            print(f"{code}  {name.split(': ', 1)[1]}")
        return 0
    for code, name in country_names().items():
        count = sum(c.startswith(f"{code}-") for c in places)
        print(f"{code}  {name}" + (f" ({count} regions: python -m genlib holidays {code})" if count else ""))
    return 0


# ---- pieces ------------------------------------------------------------------------------------
def _holidays(args, data) -> str | None:
    """--holidays checked against the data before any work (an unknown country, monthly data)."""
    if not args.holidays:
        return None
    from ..forecast.calendar import check_holidays, place_names

    code = check_holidays(args.holidays, data.freq)
    print(f"Public holidays: {place_names()[code]} ({code}).")
    return code


def _load(args):
    """load_series with the command line's overrides; prints the loading report."""
    from ..data import in_words
    from ..data.series import load_series

    data = load_series(args.file, date_column=args.date_column, value_column=args.value_column,
                       id_column=args.id_column, freq=args.freq, dayfirst=args.dayfirst,
                       fill=args.fill, sheet=args.sheet, combine=args.combine)
    f = data.report.facts
    span = f"from {f['start']} to {f['end']}" if data.has_dates else f"positions {f['start']} to {f['end']}"
    lengths = (f"{f['length_min']:,}" if f["length_min"] == f["length_max"] else
               f"{f['length_min']:,} to {f['length_max']:,} (median {f['length_median']:,.0f})")
    print(f"Loaded {args.file.name}: {data.n_series:,} series of {lengths} values, {span}.")
    for line in in_words(data.report, "cli").lines():      # the command line's own hints (--monthfirst)
        print(line)
    return data


def _explain(model, notes: dict, limit: int = 20) -> None:
    """Print auto's choice for each series (explanation_), then the notes on short series and
    on fits that fell back to a simpler model."""
    from ..forecast.plain import title

    explanation = getattr(model, "explanation_", None)
    if explanation:
        choices = getattr(model, "choices_", None)
        if choices is not None and "model" in getattr(choices, "columns", ()):
            counts = choices["model"].value_counts()
            print("\nChosen: " + ", ".join(f"{title(m)} for {n:,} series" for m, n in counts.items()) + ".")
        print("\nWhy, per series:")
        items = list(explanation.items())
        for uid, sentence in items[:limit]:
            print(f"  {uid}: {sentence}")
        if len(items) > limit:
            print(f"  … and {len(items) - limit:,} more series.")
    _print_notes(notes, limit)


def _print_notes(notes: dict, limit: int = 20) -> None:
    if notes:
        print("\nNotes:")
        for uid, note in list(notes.items())[:limit]:
            print(f"  {uid}: {note}")
        if len(notes) > limit:
            print(f"  … and {len(notes) - limit:,} more.")


def _stamp(t) -> str:
    """2024-01-01 for midnight, 2024-01-01 13:00 otherwise; positions as they are."""
    if hasattr(t, "strftime"):
        return t.strftime("%Y-%m-%d %H:%M").replace(" 00:00", "")
    return str(t)


def _check_out(path: Path) -> None:
    """Fail before the work, not after it, when --out cannot be written."""
    path = Path(path)
    if not path.parent.is_dir():
        raise GenlibError(f"Cannot write {path}: the folder {path.parent} does not exist. Create it "
                          "or choose another --out.")
    if path.is_dir():
        raise GenlibError(f"--out {path} is a folder; give a file name such as {path / 'forecast.csv'}.")


def _write(table, path: Path) -> None:
    path = Path(path)
    try:
        table.to_csv(path, index=False)
    except OSError as exc:
        raise GenlibError(f"Cannot write {path} ({exc.strerror or exc}). Choose another --out.") from None
