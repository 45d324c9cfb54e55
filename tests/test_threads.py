"""Processor threads for CPU training: one for small models, more only when a step is large."""
import doctest

import pytest
import torch

import genlib.device as device_mod
from genlib.device import MAX_TRAINING_THREADS, THREAD_WORK, available_cpus, cpu_threads, training_threads
from genlib.models import count_parameters, get_preset


def test_the_examples_in_genlib_device_run():
    assert doctest.testmod(device_mod).failed == 0


@pytest.mark.parametrize("family", ["gan", "vae", "pixelcnn"])
@pytest.mark.parametrize("preset", ["quick", "standard"])
@pytest.mark.parametrize("side", [16, 28])
def test_presets_measured_slower_with_two_threads_get_one(family, preset, side):
    # bench/train_throughput.py on a shared 2-core machine: 2 threads were 3–10× slower for these
    params = count_parameters(family, (1, side, side), 10, **get_preset(family, preset).model)
    assert training_threads(params, side * side, cpu_count=2) == 1


def test_large_steps_get_more_threads_up_to_the_cores_and_the_cap():
    assert training_threads(int(THREAD_WORK), 1, cpu_count=16) == 1
    assert training_threads(int(THREAD_WORK) * 2, 1, cpu_count=16) == 2
    assert training_threads(int(THREAD_WORK) * 3, 1, cpu_count=2) == 2           # no more than the cores
    assert training_threads(int(THREAD_WORK) * 1000, 1, cpu_count=64) == MAX_TRAINING_THREADS
    assert training_threads(0, 0, cpu_count=4) == 1
    assert 1 <= training_threads(10**12, 1) <= available_cpus()                   # the machine's own cores


def test_cpu_threads_sets_and_restores_even_on_error():
    before = torch.get_num_threads()
    target = 2 if before == 1 else 1
    with cpu_threads(target) as n:
        assert n == target == torch.get_num_threads()
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), cpu_threads(target):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with cpu_threads(0) as n:                                                      # at least one
        assert n == 1 == torch.get_num_threads()
