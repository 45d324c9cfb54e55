"""The hosted mode as a visitor meets it on the pages (AppTest, headless): a made-up id in the
address, settings forms that stop at the shared server's limits, a decompression bomb, a frequency
that would blow a table up, uploads kept on disk in the visitor's own folder."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parents[1] / "app"))
from apphelpers import APP, TIMEOUT, goto, texts  # noqa: E402


@pytest.fixture
def hosted(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    monkeypatch.setenv("GENLIB_SECRET", "test-secret-not-for-production")
    monkeypatch.setenv("GENLIB_DATA_DIR", str(tmp_path / "data"))

    def visitor(**query) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        for k, v in query.items():
            at.query_params[k] = v
        return at.run()
    return visitor


def test_an_id_in_the_address_is_never_taken(hosted):
    chosen = "0123456789abcdef0123456789abcdef"
    at = hosted(sid=chosen)
    assert at.session_state["owner"] != chosen and len(at.session_state["owner"]) == 32
    assert "sid" not in at.query_params
    assert hosted(sid=chosen).session_state["owner"] != at.session_state["owner"]


def test_the_settings_form_offers_only_what_the_shared_server_allows(hosted):
    """The widgets stop at the hosted limits (what gets past them anyway — a script, a crafted
    request — is refused by genlib.pipeline: tests/test_pipeline.py)."""
    at = hosted()
    goto(at, "train")
    at.button(key="use-digits").click().run()
    family = at.session_state["family"]
    assert at.number_input(key=f"t-{family}-quick-steps").max == 20_000
    assert at.number_input(key=f"t-{family}-quick-batch_size").max == 256
    assert at.number_input(key=f"t-{family}-quick-preview_n").max == 64
    assert at.number_input(key=f"m-{family}-quick-base_channels").max == 128
    assert "shared with other visitors: each setting stops at a lower limit" in texts(at)


def test_a_decompression_bomb_is_refused_with_a_sentence(hosted):
    at = hosted()
    goto(at, "data")
    at.radio(key="source").set_value("Images (ZIP, NPZ)").run()
    buf = io.BytesIO()
    np.savez_compressed(buf, images=np.zeros((2_000, 3, 64, 64), np.float32))   # ~98 MB of zeros
    assert len(buf.getvalue()) < 1 << 20
    at.file_uploader(key="upload-images").set_value(("bomb.npz", buf.getvalue(), "application/octet-stream"))
    at.run()
    assert at.session_state["images"] is None if "images" in at.session_state else True   # nothing kept
    assert any("Compression ratio can be at most 100:1 on this shared server" in e.value for e in at.error)


def test_a_frequency_that_would_blow_up_the_table_is_refused(hosted):
    """The Data page's "Reload with these settings" goes through genlib.pipeline.reload_series."""
    from genlib import pipeline
    from genlib.errors import DataError

    with pytest.raises(DataError, match=r"at most 2,000,000 rows on this shared server .*23,012,641"):
        pipeline.reload_series({"kind": "sample", "name": "co2", "options": {}}, freq="min")


def test_a_visitors_uploads_live_in_their_own_folder_not_in_memory(hosted, tmp_path):
    at = hosted()
    goto(at, "data")
    at.radio(key="source").set_value("A table of time series (CSV, Excel, Parquet)").run()
    csv = "date,sales\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 29))
    at.file_uploader(key="upload-series").set_value(("sales.csv", csv.encode(), "text/csv")).run()
    source = at.session_state["series_source"]
    assert "bytes" not in source and Path(source["path"]).read_bytes() == csv.encode()
    assert Path(source["path"]).is_relative_to(tmp_path / "data" / "visitors" / at.session_state["owner"])
    refused = ("t,v\n2024-01-01 00:00,1\n2024-01-02 00:00,2\n2024-01-03 00:00,3\n2024-01-03 12:00,4\n"
               "2024-01-04 00:00,5\n2024-01-05 00:00,6\n")                     # dates between the days
    at.file_uploader(key="upload-series").set_value(("uneven.csv", refused.encode(), "text/csv")).run()
    failed = at.session_state["series_failed"]["source"]                 # kept to read again: on disk too
    assert "bytes" not in failed and Path(failed["path"]).read_bytes() == refused.encode()
    assert Path(failed["path"]).is_relative_to(tmp_path / "data" / "visitors" / at.session_state["owner"])
