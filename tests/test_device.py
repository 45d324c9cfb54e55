"""The device: resolved once, described in plain words for the sidebar and the command line."""
import pytest
import torch

from genlib.device import describe_device, device_info, resolve_device
from genlib.errors import GenlibError


def test_device_info_describes_the_auto_device():
    info = device_info()
    assert info.kind in ("cuda", "mps", "cpu")
    text = info.summary()
    if info.kind == "cpu":
        assert text == "CPU — training will be slower" and "quick" in info.advice()
    else:
        assert info.name in text


def test_explicit_devices_are_checked_and_described():
    assert resolve_device("cpu").type == "cpu"
    assert describe_device("cpu") == f"CPU ({torch.get_num_threads()} threads)"
    with pytest.raises(GenlibError, match="auto, cpu, cuda or mps"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(GenlibError, match="--device cpu"):
            resolve_device("cuda:0")
    if not torch.cuda.is_available():
        assert resolve_device("auto", allow_mps=False).type == "cpu"
