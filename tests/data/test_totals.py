"""A table's total among its series (genlib.data.series.totals): a pivot table's Grand Total row, a
Total column, an Average line are left out when their numbers say so, and never otherwise."""
from __future__ import annotations

import numpy as np
import pytest

from genlib.data.series import load_series
from genlib.data.series.totals import drop_totals, total_kind

MONTHS = [f"2022-{m:02d}" for m in range(1, 13)] + [f"2023-{m:02d}" for m in range(1, 13)]


def pivot_export(total_row: str = "Grand Total", break_total: bool = False) -> bytes:
    """An Excel pivot table saved as CSV: a title line, products down, months across, totals."""
    rng = np.random.default_rng(0)
    rows = {p: rng.integers(10, 100, len(MONTHS)) for p in ("Bikes", "Helmets", "Locks")}
    total = sum(rows.values())
    if break_total:
        total = total + rng.integers(5, 50, len(MONTHS))
    lines = ["Sum of Sales,Column Labels" + "," * len(MONTHS),
             "Row Labels," + ",".join(MONTHS) + ",Grand Total"]
    for name, v in {**rows, total_row: total}.items():
        lines.append(f"{name}," + ",".join(map(str, v)) + f",{v.sum()}")
    return ("\n".join(lines) + "\n").encode()


def test_a_pivot_tables_grand_total_row_is_left_out_and_said():
    data = load_series(pivot_export(), name="pivot.csv")
    assert sorted(data.df["unique_id"].unique()) == ["Bikes", "Helmets", "Locks"]
    assert data.freq == "MS" and len(data.df) == 3 * 24
    said = dict(data.report.skipped)
    assert "the sum of the other series" in said["series 'Grand Total'"]
    assert any("Left out 'Grand Total': it adds up" in n and "upload a file with that series alone" in n
               for n in data.report.warnings)


def test_a_row_named_total_that_does_not_add_up_is_a_series():
    data = load_series(pivot_export(break_total=True), name="pivot.csv")
    assert "Grand Total" in set(data.df["unique_id"])


@pytest.mark.parametrize("name", ["Gesamtergebnis", "总计", "Total general", "TOTAL"])
def test_totals_as_spreadsheet_programs_name_them_in_other_languages(name):
    data = load_series(pivot_export(total_row=name), name="pivot.csv")
    assert name not in set(data.df["unique_id"])


def test_a_total_column_beside_regions_and_an_average_column():
    dates = [f"2024-01-{d:02d}" for d in range(1, 22)]
    north = np.arange(21) % 7 + 10.0
    south = np.arange(21) % 5 + 3.0
    lines = ["Date,North,South,East,Total,Average"]
    for i, d in enumerate(dates):
        east = 2.5 + i
        values = [north[i], south[i], east]
        lines.append(f"{d},{north[i]},{south[i]},{east},{sum(values)},{round(sum(values) / 3, 2)}")
    data = load_series(("\n".join(lines) + "\n").encode(), name="regions.csv")
    assert sorted(data.df["unique_id"].unique()) == ["East", "North", "South"]
    said = dict(data.report.skipped)
    assert "the sum" in said["series 'Total'"] and "the average" in said["series 'Average'"]


def test_a_total_chosen_by_name_is_kept():
    dates = [f"2024-01-{d:02d}" for d in range(1, 11)]
    lines = ["Date,North,South,Total"] + [f"{d},{i},{2 * i},{3 * i}" for i, d in enumerate(dates)]
    data = load_series(("\n".join(lines) + "\n").encode(), name="r.csv", value_column=["North", "South", "Total"])
    assert set(data.df["unique_id"]) == {"North", "South", "Total"}


def test_names_that_only_look_like_totals():
    assert total_kind("Totana") is None and total_kind("Summer") is None and total_kind("Allentown") is None
    assert total_kind("Total:") == "sum" and total_kind("grand  total") == "sum" and total_kind("Mean") == "mean"


def test_one_other_series_is_not_enough_to_call_a_total():
    import pandas as pd

    long = pd.DataFrame({"unique_id": ["A"] * 4 + ["Total"] * 4, "ds": [1, 2, 3, 4] * 2, "y": [1, 2, 3, 4] * 2})
    kept, dropped = drop_totals(long)
    assert dropped == [] and kept is long
