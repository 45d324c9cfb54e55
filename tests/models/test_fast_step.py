"""A training step that never waits for the host, fused/foreach Adam, channels_last on CUDA only.

Every Trainable's `train_step` returns detached 0-d float32 tensors (no `.item()`); the optimizer
choice and the memory layout must not change a single number on the CPU.
"""
import copy
import math

import pytest
import torch

from genlib.errors import GenlibError
from genlib.features import DomainConfig, DomainNet
from genlib.forecast.neural_net import NeuralARNet, NeuralNetConfig
from genlib.models import MODELS, build_model
from genlib.models.base import adam, to_channels_last
from genlib.models.gan import ema_weight

TINY = {
    "gan": {"base_channels": 4, "latent_dim": 8, "embed_dim": 4},
    "vae": {"base_channels": 4, "latent_dim": 4},
    "pixelcnn": {"channels": 4, "layers": 1, "levels": 4, "first_kernel": 3},
}


def tiny(family, seed=0, num_classes=10, **overrides):
    torch.manual_seed(seed)
    return build_model(family, (1, 16, 16), num_classes, **{**TINY[family], **overrides})


def batch(n=8, num_classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 16, 16, generator=g) * 2 - 1, torch.randint(0, num_classes, (n,), generator=g)


def assert_0d_metrics(metrics, device):
    assert metrics
    for name, v in metrics.items():
        assert torch.is_tensor(v) and v.shape == () and v.dtype == torch.float32, (name, v)
        assert not v.requires_grad and v.device == device and math.isfinite(v), (name, v)


def other_trainables():
    """The Trainables that are not image models: the comparing network and the forecaster's net."""
    torch.manual_seed(0)
    classifier = DomainNet(DomainConfig(width=4, hidden=8, dim=4), (1, 16, 16), num_classes=10)
    autoencoder = DomainNet(DomainConfig(width=4, hidden=8, dim=4), (1, 16, 16), num_classes=0)
    x, y = batch()
    forecaster = NeuralARNet(NeuralNetConfig(input_size=12, horizon=3))
    windows = torch.randn(16, 12).cumsum(1), torch.randn(16, 3)
    return [(classifier, (x, y)), (autoencoder, (x,)), (forecaster, windows)]


@pytest.mark.parametrize("family,overrides", [(f, {}) for f in MODELS] + [("gan", {"loss": "wgan-gp"})])
def test_image_model_steps_return_detached_0d_tensors(family, overrides):
    model = tiny(family, **overrides)
    model.setup_training(1e-3, grad_clip=1.0)
    metrics = model.train_step(*batch())
    assert_0d_metrics(metrics, model.device)
    assert ("gp" in metrics) == (overrides.get("loss") == "wgan-gp")


def test_other_trainables_return_detached_0d_tensors():
    for net, data in other_trainables():
        net.setup_training(1e-3, grad_clip=1.0)
        assert_0d_metrics(net.train_step(*data), net.device)


def params_after_steps(model, data, foreach: bool, steps=2):
    model = copy.deepcopy(model)
    model.setup_training(1e-3, grad_clip=1.0)
    for opt in model.optimizers.values():
        assert opt.defaults["foreach"] is True and not opt.defaults["fused"], "the CPU uses foreach"
        for group in opt.param_groups:
            group["foreach"] = foreach                   # False: Adam's plain for-loop over tensors
    torch.manual_seed(1)
    for _ in range(steps):
        model.train_step(*data)
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("family", list(MODELS))
def test_foreach_adam_gives_the_for_loop_numbers_on_the_cpu(family):
    model = tiny(family)
    a = params_after_steps(model, batch(), foreach=True)
    b = params_after_steps(model, batch(), foreach=False)
    before = [p.detach() for p in model.parameters()]
    assert any(not torch.equal(x, y) for x, y in zip(a, before)), "the steps must move the weights"
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, atol=1e-6, rtol=0)


def test_foreach_adam_gives_the_for_loop_numbers_for_the_other_trainables():
    for net, data in other_trainables():
        a = params_after_steps(net, data, foreach=True)
        b = params_after_steps(net, data, foreach=False)
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, atol=1e-6, rtol=0)


def test_adam_is_fused_only_on_cuda():
    cpu = adam(torch.nn.Linear(2, 1).parameters(), lr=1e-3)
    assert cpu.defaults["foreach"] is True and not cpu.defaults["fused"]
    if torch.cuda.is_available():
        gpu = adam(torch.nn.Linear(2, 1).cuda().parameters(), lr=1e-3)
        assert gpu.defaults["fused"] is True


@pytest.mark.parametrize("family", list(MODELS))
def test_channels_last_is_a_no_op_on_the_cpu(family):
    model = tiny(family)
    model.setup_training(1e-3)
    assert all(p.is_contiguous() for p in model.parameters())
    x, _ = batch()
    assert model.layout(x) is x
    to_channels_last(model)                              # what setup_training does on CUDA
    if model.channels_last:                              # the test above can fail: conv weights exist
        assert any(p.ndim == 4 and not p.is_contiguous() for p in model.parameters())


@pytest.mark.parametrize("family", ["gan", "vae"])
def test_a_cpu_checkpoint_resumes_into_channels_last_and_fused_adam(family):
    """The CUDA path, run on the CPU: weights in channels_last, fused Adam, optimizer state saved
    by a contiguous, foreach run; the state takes the weights' layout and the run continues with
    the same numbers (dropout off: its random mask follows the memory layout)."""
    x, y = batch()
    kw = {"dropout": 0.0} if family == "gan" else {}
    a = tiny(family, **kw)
    a.setup_training(1e-3)
    torch.manual_seed(1)
    a.train_step(x, y)
    saved_weights, saved_opt = copy.deepcopy(a.state_dict()), copy.deepcopy(a.optimizer_state())
    torch.manual_seed(2)
    a.train_step(x, y)

    b = tiny(family, seed=5, **kw)
    b.load_state_dict(saved_weights)
    to_channels_last(b)
    b.setup_training(1e-3)
    for opt in b.optimizers.values():
        for group in opt.param_groups:
            group.update(fused=True, foreach=False)
    b.load_optimizer_state(saved_opt)
    for opt in b.optimizers.values():
        assert all(g["fused"] for g in opt.param_groups), "the saved run's choice must not come back"
        for p, state in opt.state.items():
            assert state["exp_avg"].stride() == p.stride(), "fused kernels need the weights' strides"
    torch.manual_seed(2)
    b.train_step(x, y)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(q, p, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("family", list(MODELS))
def test_bad_training_labels_are_refused_with_a_sentence(family):
    model = tiny(family)
    model.setup_training(1e-3)
    x, y = batch()
    y[0] = 10
    with pytest.raises(GenlibError, match="class numbers from 0 to 9"):
        model.train_step(x, y)
    y[0] = -1
    with pytest.raises(GenlibError, match="class numbers from 0 to 9"):
        model.train_step(x, y)


def test_gan_average_weight_is_the_same_as_a_number_and_as_a_tensor():
    """The CPU reads the update count as a number, a GPU keeps it a tensor (no sync): same weight."""
    for t in [1, 2, 10, 1000, 100_000]:
        for decay in (0.5, 0.999):
            number = ema_weight(float(t), decay)
            tensor = ema_weight(torch.tensor(float(t)), decay)
            assert torch.is_tensor(tensor) and tensor.item() == pytest.approx(number, rel=1e-6, abs=1e-9)
