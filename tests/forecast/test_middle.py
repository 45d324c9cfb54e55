"""The middle of three forecasts (genlib.forecast.middle) and where auto uses it: one upload of
data without a seasonal period (yearly, undated)."""
import numpy as np
import pandas as pd
import pytest

from genlib.errors import GenlibError
from genlib.forecast.auto import AutoForecaster
from genlib.forecast.middle import MEMBERS, Middle
from genlib.forecast.registry import get_model


def yearly(ys: dict) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": k, "ds": pd.date_range("1950", periods=len(y), freq="YS"),
                                    "y": y}) for k, y in ys.items()], ignore_index=True)


def walks(k: int, n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {f"s{i:02d}": 100 + np.cumsum(rng.normal(1, 4, n)) for i in range(k)}


def test_each_step_is_the_median_of_the_three_models_and_of_their_band_edges():
    """Two series given in reverse order: every step of every series is the median of ETS's, the
    AR's and naive's forecasts (each fitted alone), and so is each band edge, which stays on its
    side of the forecast."""
    ys = walks(2, 40)
    df = yearly({"b": ys["s00"], "a": ys["s01"] * 0.5})
    fc = Middle().fit(df).predict(5, levels=(80, 95))
    members = [get_model(lb).fit(df).predict(5, levels=(80, 95)) for lb in MEMBERS]
    for col in ("mean", "lo-80", "hi-80", "lo-95", "hi-95"):
        want = np.median(np.stack([m[col].to_numpy() for m in members]), axis=0)
        np.testing.assert_allclose(fc[col].to_numpy(), want)
    assert fc["unique_id"].tolist() == ["a"] * 5 + ["b"] * 5
    assert (fc["lo-95"] <= fc["lo-80"]).all() and (fc["lo-80"] <= fc["mean"]).all()
    assert (fc["mean"] <= fc["hi-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()


def test_a_runaway_trend_is_outvoted():
    """Flat for 25 years, then five rises: ETS and the AR carry the new trend on differently and
    naive stops; the middle is never above the higher or below the lower of the other two."""
    df = yearly({"a": np.r_[np.full(25, 10.0), 11, 12, 13, 14, 15] + np.random.default_rng(0).normal(0, .2, 30)})
    fc = Middle().fit(df).predict(6)
    each = np.stack([get_model(lb).fit(df).predict(6)["mean"].to_numpy() for lb in MEMBERS])
    assert (fc["mean"].to_numpy() <= each.max(axis=0)).all() and (fc["mean"].to_numpy() >= each.min(axis=0)).all()
    assert "the middle, at each step, of Exponential smoothing (ETS)" in Middle().fit(df).describe("a")


def test_too_short_is_refused_with_the_longest_member_minimum():
    with pytest.raises(GenlibError):
        Middle().fit(yearly({"a": np.arange(9.0)}))
    assert Middle.capabilities.minimum(1) == 10


def test_auto_uses_it_for_one_upload_without_a_season_and_not_for_a_panel_or_a_season():
    """One yearly upload (thin evidence, no seasonal period): the middle is the steady default
    and the forecast. A panel of 20 yearly series (60 windows) keeps its candidates as before,
    and one quarterly upload keeps the mean of Theta, ETS and AR."""
    one = AutoForecaster(h=4).fit(yearly({"a": walks(1, 40)["s00"]}))
    assert one.steady_ == ("middle",) and one.overall_best_ == "middle" and one.chosen_["a"] == ("middle",)
    fc = one.predict(4, levels=(80,))
    assert np.isfinite(fc[["mean", "lo-80", "hi-80"]].to_numpy()).all()
    panel = AutoForecaster(h=4).fit(yearly(walks(20, 40)))
    assert "middle" not in panel.scores_.columns and panel.steady_ == ("theta", "ets", "ar")
    q = yearly({"a": walks(1, 40)["s00"]}).assign(ds=pd.date_range("1950", periods=40, freq="QS"))
    quarterly = AutoForecaster(h=4).fit(q)
    assert "middle" not in quarterly.scores_.columns and quarterly.chosen_["a"] == ("theta", "ets", "ar")
