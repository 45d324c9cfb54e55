"""Shared by the forecasting tests."""
import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Tiny networks train faster on one thread, and the test machine's cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
