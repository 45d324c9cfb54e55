"""Data limits: declared in plain words, stricter on a shared server, and refused with one sentence
that names the limit, what was asked for and what to do."""
import dataclasses

import pytest

from genlib.errors import DataError, GenlibError
from genlib.limits import (RATIO_FLOOR_BYTES, DataLimits, amount, check_forecast_work, check_limit,
                           check_ratio, data_limits, limit_of, unpack_cap)
from genlib.settings import describe

MiB = 1 << 20


def test_every_limit_is_declared_in_plain_words_and_stricter_when_hosted():
    declared = describe(DataLimits)
    assert list(declared) == [f.name for f in dataclasses.fields(DataLimits)]
    default = DataLimits()
    for name, s in declared.items():
        assert len(s.label) >= 4 and len(s.help) >= 20 and s.help.endswith("."), name
        assert "_" not in s.label + s.help, name                     # no code names
        assert s.unit, name
        assert s.hosted_max is not None, name                         # a shared server caps everything
        assert getattr(default, name) == s.max, name                  # the default is today's limit
        assert s.max is None or s.hosted_max <= s.max, name
        assert s.limit(hosted=True) == s.hosted_max, name


def test_data_limits_give_the_hosted_values_on_a_shared_server(monkeypatch):
    local, hosted = data_limits(hosted=False), data_limits(hosted=True)
    assert local == DataLimits()
    assert hosted.decoded_bytes == 512 * MiB < local.decoded_bytes == 2 << 30
    assert hosted.series_rows == 2_000_000 and local.series_rows == 50_000_000
    assert hosted.image_upload_bytes == hosted.series_upload_bytes == 50 * MiB
    assert hosted.compression_ratio == 100 and local.compression_ratio == 1000
    assert hosted.series_count == 10_000 and local.series_count is None
    assert hosted.forecast_work == 50_000 and local.forecast_work is None
    monkeypatch.setenv("GENLIB_HOSTED", "1")                          # read at call time
    assert data_limits() == hosted and limit_of("series_rows") == 2_000_000
    monkeypatch.setenv("GENLIB_HOSTED", "0")
    assert data_limits() == local
    with pytest.raises(GenlibError, match="at most"):
        DataLimits(decoded_bytes=3 << 30)                             # no more than the declared max


def test_check_limit_at_and_past_the_edge_names_the_limit_and_the_action():
    check_limit("series_rows", 2_000_000, "Pass a coarser freq.", hosted=True)
    with pytest.raises(DataError) as e:
        check_limit("series_rows", 2_000_001, "Pass a coarser freq.", hosted=True)
    assert str(e.value) == ("Rows in the series table can be at most 2,000,000 rows on this shared "
                            "server (this file needs 2,000,001 rows). Pass a coarser freq.")
    check_limit("series_rows", 2_000_001, "Pass a coarser freq.", hosted=False)   # fine locally
    check_limit("series_count", 10 ** 9, "Split it.", hosted=False)                # no local limit


def test_a_smaller_module_cap_wins_and_is_not_blamed_on_the_server():
    with pytest.raises(DataError) as e:
        check_limit("decoded_bytes", 1001, "Use fewer images.", cap=1000, hosted=True,
                    detail="x.npz needs 1001 bytes")
    assert str(e.value) == ("Images in memory can be at most 1,000 bytes (x.npz needs 1001 bytes). "
                            "Use fewer images.")
    assert limit_of("decoded_bytes", cap=1000, hosted=True) == 1000
    assert limit_of("decoded_bytes", cap=1 << 40, hosted=True) == 512 * MiB
    assert limit_of("series_count", cap=7, hosted=False) == 7


def test_compression_ratio_at_and_past_the_edge():
    packed = 1 * MiB
    check_ratio(100 * packed, packed, "x.gz", "Unzip it.", hosted=True)            # exactly 100:1
    with pytest.raises(DataError, match=r"Compression ratio can be at most 100:1 on this shared "
                                        r"server \(x.gz unpacks from 1 MB to 100 MB, 100:1\)\. Unzip it\."):
        check_ratio(100 * packed + 1, packed, "x.gz", "Unzip it.", hosted=True)
    check_ratio(100 * packed + 1, packed, "x.gz", "Unzip it.", hosted=False)      # 1000:1 locally
    check_ratio(RATIO_FLOOR_BYTES - 1, 1, "x.gz", "Unzip it.", hosted=True)       # small: harmless
    with pytest.raises(DataError, match="to more than 2 MB"):
        check_ratio(2 * MiB, 10, "x.gz", "Unzip it.", more=True, hosted=True)
    assert unpack_cap(packed, hosted=True) == 100 * packed
    assert unpack_cap(packed, hosted=False) == 1000 * packed
    assert unpack_cap(1, hosted=True) == RATIO_FLOOR_BYTES


def test_forecast_work_at_and_past_the_edge():
    check_forecast_work(10_000, 1, 4, hosted=True)                    # 10,000 × 1 × 5 = 50,000
    check_forecast_work(2_500, 4, 4, hosted=True)
    with pytest.raises(GenlibError) as e:
        check_forecast_work(10_001, 1, 4, hosted=True)
    message = str(e.value)
    assert message.startswith("Forecast work can be at most 50,000 model fits on this shared server "
                              "(this forecast needs 50,005: 10,001 series × 1 model × 5 fits each, "
                              "4 backtest windows and the forecast).")
    assert "fewer series" in message and "fewer models" in message and "fewer backtest windows" in message
    check_forecast_work(100_000, 20, 10, hosted=False)                # no limit on one's own machine


def test_forecast_work_reads_the_server_mode_at_call_time(monkeypatch):
    monkeypatch.setenv("GENLIB_HOSTED", "1")
    with pytest.raises(GenlibError, match="on this shared server"):
        check_forecast_work(50_001, 1, 0)
    monkeypatch.delenv("GENLIB_HOSTED")
    check_forecast_work(50_000, 2, 0)


def test_amounts_read_as_a_person_writes_them():
    assert amount(50 * MiB, "bytes") == "50 MB" and amount(int(2.5 * (1 << 30)), "bytes") == "2.5 GB"
    assert amount(512, "bytes") == "512 bytes" and amount(1536, "bytes") == "1.5 KB"
    assert amount(2_000_000, "rows") == "2,000,000 rows" and amount(100, ":1") == "100:1"
    assert amount(2e6, "rows") == "2,000,000 rows"
