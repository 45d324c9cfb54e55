"""JSON as web APIs and exports write it: records, columns, records under a key, pairs, lines."""
import json

import pandas as pd
import pytest

from genlib.data.series import load_series
from genlib.errors import DataError

DAYS = pd.date_range("2024-01-01", periods=40)


def test_records_with_nested_objects():
    doc = [{"date": f"{d:%Y-%m-%d}", "sales": i, "store": {"id": 7, "city": "Oslo"}} for i, d in enumerate(DAYS)]
    data = load_series(json.dumps(doc).encode(), name="sales.json")
    assert data.freq == "D" and data.df["unique_id"].unique().tolist() == ["sales"]
    assert data.df["y"].tolist() == list(range(40)) and data.guesses["format"] == "json"


def test_fred_api_observations_under_a_key_with_constant_date_columns():
    """FRED's API: realtime_start and realtime_end are one date throughout (the vintage), the
    time axis is `date`; values are strings, '.' when missing."""
    obs = [{"realtime_start": "2024-05-01", "realtime_end": "2024-05-01",
            "date": f"{1990 + i // 4}-{3 * (i % 4) + 1:02d}-01", "value": "." if i == 5 else str(100 + i)}
           for i in range(40)]
    doc = {"realtime_start": "2024-05-01", "units": "lin", "count": 40, "observations": obs}
    data = load_series(json.dumps(doc).encode(), name="GDPC1.json")
    assert data.freq == "QS" and data.guesses["date_column"] == "date" and len(data.df) == 40
    assert data.df["y"].iloc[5] == 105.0                                        # '.' filled in
    assert 'Read the 40 rows under "observations" in GDPC1.json.' in data.report.warnings


def test_coingecko_pairs_joined_on_their_times():
    t0 = 1704067200000                                                           # 2024-01-01, in ms
    doc = {k: [[t0 + i * 86_400_000, base + i] for i in range(60)]
           for k, base in (("prices", 42000.0), ("market_caps", 8e11), ("total_volumes", 2e10))}
    data = load_series(json.dumps(doc).encode(), name="bitcoin.json")
    assert sorted(data.df["unique_id"].unique()) == ["market_caps", "prices", "total_volumes"]
    assert data.freq == "D" and data.df["ds"].min() == pd.Timestamp("2024-01-01")
    assert any("as Unix times in milliseconds" in w for w in data.report.warnings)


def test_columns_and_json_lines():
    cols = {"Date": [f"{d:%Y-%m-%d}" for d in DAYS], "Visits": list(range(40))}
    assert load_series(json.dumps(cols).encode(), name="v.json").df["y"].tolist() == list(range(40))
    lines = "\n".join(json.dumps({"ts": f"2024-01-01T{h:02d}:00:00Z", "kwh": h / 2}) for h in range(24))
    data = load_series(lines.encode(), name="meter.jsonl")
    assert data.freq == "h" and len(data.df) == 24


@pytest.mark.parametrize("text, message", [('{"a": [1, 2,}', "is not valid JSON"),
                                           ('{"status": "ok", "count": 3}', "holds JSON but no table")])
def test_json_without_a_table_says_what_to_do(text, message):
    with pytest.raises(DataError, match=message):
        load_series(text.encode(), name="x.json")


def test_a_large_json_file_is_refused_before_it_is_parsed(monkeypatch):
    """JSON's objects take many times the file's bytes in memory: a quarter of the table limit."""
    from genlib.data.series import read
    monkeypatch.setattr(read, "MAX_BYTES", 4000)
    doc = json.dumps([{"date": f"{d:%Y-%m-%d}", "sales": i} for i, d in enumerate(DAYS)])
    assert len(doc) > 1000
    with pytest.raises(DataError, match=r"of JSON; reading JSON takes many times its size in memory, so files "
                                        r"over 1,000 bytes are not read here\. Save the table as CSV or Parquet"):
        load_series(doc.encode(), name="big.json")
