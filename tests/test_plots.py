"""Figures: the right traces, in the right places, from plain data."""
import numpy as np
import pandas as pd
import pytest

from genlib import plots


def test_loss_figure_draws_raw_and_smoothed_curves_per_metric_only():
    history = [{"step": s, "d_loss": 1.0 / s, "g_loss": 2.0, "seconds": s * 0.1, "lr": 1e-3}
               for s in range(1, 101)]
    fig = plots.loss_figure(history)
    names = [t.name for t in fig.data]
    assert names == ["d_loss", "d_loss (smoothed)", "g_loss", "g_loss (smoothed)"]
    assert list(fig.data[0].x[:3]) == [1, 2, 3]
    assert fig.data[1].y[-1] < fig.data[1].y[0]           # the smoothed loss still goes down


def test_loss_figure_thins_long_histories_and_handles_empty():
    df = pd.DataFrame({"step": np.arange(1, 10_001), "loss": np.random.default_rng(0).random(10_000)})
    fig = plots.loss_figure(df, max_points=500)
    assert len(fig.data[0].x) <= 500
    empty = plots.loss_figure([])
    assert not empty.data and empty.layout.annotations[0].text == "No metrics yet"


def test_compare_loss_figure_one_line_per_run():
    a = pd.DataFrame({"step": [1, 2], "loss": [2.0, 1.0]})
    b = pd.DataFrame({"step": [1, 2, 3], "loss": [3.0, 2.0, 1.0]})
    fig = plots.compare_loss_figure({"run-a": a, "run-b": b, "no-loss": pd.DataFrame({"step": [1]})}, "loss")
    assert [t.name for t in fig.data] == ["run-a", "run-b"]


def _series():
    ds = pd.date_range("2020-01-01", periods=30, freq="D")
    return pd.concat([pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.arange(30.0) * k})
                      for k, uid in enumerate(["a", "b", "c"], 1)], ignore_index=True)


def test_series_figure_lines_and_frequency_in_title():
    fig = plots.series_figure(_series(), "D", max_series=2)
    assert [t.name for t in fig.data] == ["a", "b"]
    assert fig.layout.title.text == "3 series (first 2 shown) — daily"


def test_forecast_figure_bands_widest_first_then_mean():
    hist = _series()
    fc = pd.DataFrame({"unique_id": "b", "ds": pd.date_range("2020-01-31", periods=5, freq="D"),
                       "mean": np.full(5, 60.0), "lo-80": 55.0, "hi-80": 65.0,
                       "lo-95": 50.0, "hi-95": 70.0})
    fig = plots.forecast_figure(hist, {"auto": fc}, "b", levels=(80, 95), tail=10)
    assert [t.name for t in fig.data] == ["history", "auto 95%", "auto 80%", "auto"]
    assert list(fig.data[0].y) == list(np.arange(20.0, 30.0) * 2)     # only series b, last 10
    band95 = fig.data[1]
    assert max(band95.y) == 70.0 and min(band95.y) == 50.0
    assert fig.data[1].fillcolor != fig.data[2].fillcolor


def test_backtest_figure_relative_bars_with_index_or_column():
    scores = pd.DataFrame({"MASE_rel": [0.7, 1.0, 1.3]}, index=pd.Index(["auto", "seasonal_naive", "naive"], name="model"))
    fig = plots.backtest_figure(scores)
    assert list(fig.data[0].x) == ["auto", "seasonal_naive", "naive"]
    assert list(fig.data[0].y) == [0.7, 1.0, 1.3]
    with pytest.raises(ValueError, match="RMSE_rel"):
        plots.backtest_figure(scores, "RMSE")


def test_plots_never_import_streamlit():
    import sys
    import subprocess
    code = "import genlib.plots, genlib.jobs, sys; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_headline_curve_speaks_per_family_and_lower_is_better():
    from genlib.models import MODELS
    from genlib.plots import loss_figure, progress_figure, progress_values

    vae = MODELS["vae"].model_cls.progress_curve
    rows = [{"step": i, "loss": 2000.0 - i, "elbo": -2000.0 + i, "recon": 1900.0 - i, "kl": 100.0}
            for i in range(1, 11)]
    values = progress_values(rows, vae, (3, 16, 16))
    assert values["value"].iloc[0] == (1900.0 - 1 + 100.0) / (3 * 16 * 16)   # per pixel value, not raw
    fig = progress_figure(rows, vae, (3, 16, 16))
    assert "lower is better" in fig.layout.yaxis.title.text
    for spec in MODELS.values():
        assert "lower is better" in spec.model_cls.progress_curve.title
        assert spec.model_cls.progress_curve.explain
    raw = loss_figure(rows, names=MODELS["vae"].model_cls.metric_words, separate=True)
    assert len(raw.layout.annotations) == 4 and "KL" in raw.layout.annotations[3].text


def test_forecast_figure_marks_public_holidays_with_their_names():
    import datetime

    hist = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-12-20", periods=48, freq="h"),
                         "y": np.arange(48.0)})
    fc = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-12-22", periods=96, freq="h"),
                       "mean": np.ones(96)})
    holidays = {datetime.date(2024, 12, 20): "Day off", datetime.date(2024, 12, 25): "Christmas Day",
                datetime.date(2025, 1, 1): "New Year's Day"}                       # the last: not shown
    fig = plots.forecast_figure(hist, {"auto": fc}, holidays=holidays)
    stars = [t for t in fig.data if t.name == "public holiday"]
    assert len(stars) == 1
    assert list(stars[0].text) == ["Day off", "Christmas Day"]
    assert [pd.Timestamp(x) for x in stars[0].x] == [pd.Timestamp("2024-12-20"), pd.Timestamp("2024-12-25")]
    assert list(stars[0].y) == [0.0, 1.0]                         # on the history, then the forecast
    assert not [t for t in plots.forecast_figure(hist, {"auto": fc}).data if t.name == "public holiday"]
