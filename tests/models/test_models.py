"""Family-specific tests with oracles: causal masks by gradients, the exact likelihood of a linear
Gaussian VAE, closed-form losses, the GAN's moving average. Tiny configs, CPU, seconds."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genlib.errors import GenlibError
from genlib.models import build_model
from genlib.models.base import ResizeConv2d, class_labels, halvings, seeded_generator
from genlib.models.gan import GAN, GANConfig, discriminator_loss, generator_loss, gradient_penalty, minibatch_std
from genlib.models.pixelcnn import PixelCNN, PixelCNNConfig, categorical
from genlib.models.vae import VAE, VAEConfig, kl_to_standard_normal


def images(n=8, shape=(1, 16, 16), seed=0, classes=10):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, *shape, generator=g) * 2 - 1, torch.randint(0, classes, (n,), generator=g)


# ---- shared helpers -------------------------------------------------------------------------
def test_halvings_and_class_labels():
    assert [halvings(s) for s in (8, 16, 28, 32, 64)] == [(4, 1), (4, 2), (7, 2), (4, 3), (4, 4)]
    assert class_labels(None, 5, 3).tolist() == [0, 1, 2, 0, 1]
    assert class_labels(2, 3, 3).tolist() == [2, 2, 2]
    assert class_labels(torch.tensor([1]), 2, 3).tolist() == [1, 1]
    assert class_labels(None, 4, 0) is None


# ---- GAN ------------------------------------------------------------------------------------
def tiny_gan(**kw):
    torch.manual_seed(0)
    return GAN(GANConfig(base_channels=4, latent_dim=8, embed_dim=4, **kw), (1, 16, 16), num_classes=10)


@pytest.mark.parametrize("loss", ["nonsaturating", "hinge", "wgan-gp"])
def test_gan_each_loss_trains(loss):
    model = tiny_gan(loss=loss, n_critic=2 if loss == "wgan-gp" else 1)
    model.setup_training(2e-4, grad_clip=1.0)
    x, y = images()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    metrics = model.train_step(x, y)
    assert all(math.isfinite(v) for v in metrics.values())
    assert ("gp" in metrics) == (loss == "wgan-gp")
    changed = {k.split(".")[0] for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert {"generator", "discriminator", "generator_ema"} <= changed


def test_gan_layouts_follow_the_image_side():
    # 28×28: the classic MNIST generator, dense → 7×7×256 → 128 → 64 → 1
    g = GAN(GANConfig(base_channels=64), (1, 28, 28)).generator
    assert g.fc.out_features == 7 * 7 * 256
    convs = [m for m in g.net if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert [m.out_channels for m in convs] == [128, 64, 1]
    for side, ups in [(16, 2), (32, 3), (64, 4)]:
        model = GAN(GANConfig(base_channels=4, latent_dim=4), (3, side, side))
        ups_found = sum(isinstance(m, (ResizeConv2d, nn.ConvTranspose2d)) for m in model.generator.net)
        assert ups_found == ups and model.generator.start == 4
        assert model.sample(2, seed=0).shape == (2, 3, side, side)
        assert model.discriminator(torch.zeros(2, 3, side, side)).shape == (2,)


def test_gan_spectral_norm_bounds_every_judge_layer_and_only_the_judge():
    """Each discriminator weight, the class projection included, is divided by its largest
    singular value (power iteration, kept as buffers so a resumed run continues exactly)."""
    from torch.nn.utils import parametrize

    model = tiny_gan(spectral_norm=True, loss="hinge")
    model.setup_training(1e-3)
    x, y = images()
    for _ in range(5):
        model.train_step(x, y)
    judged = [m for m in model.discriminator.modules() if parametrize.is_parametrized(m, "weight")]
    kinds = [kind for m in judged for kind in (nn.Conv2d, nn.Linear, nn.Embedding) if isinstance(m, kind)]
    assert kinds == [nn.Conv2d, nn.Conv2d, nn.Linear, nn.Embedding]
    for m in judged:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert 0.9 < float(sigma) < 1.1, type(m)
        raw = torch.linalg.matrix_norm(m.parametrizations.weight.original.detach().flatten(1), ord=2)
        assert not torch.isclose(raw, sigma, rtol=0.05)                 # the scale really is divided out
    assert not any(parametrize.is_parametrized(m) for m in model.generator.modules())
    assert not any(parametrize.is_parametrized(m) for m in tiny_gan().modules())   # off by default
    assert "discriminator.project.parametrizations.weight.0._u" in model.state_dict()


def test_gan_ema_is_an_average_of_the_generator():
    model = tiny_gan(ema_decay=0.9)
    for p_ema, p in zip(model.generator_ema.parameters(), model.generator.parameters()):
        assert torch.equal(p_ema, p) and not p_ema.requires_grad
    model.setup_training(1e-3)
    x, y = images()
    for _ in range(3):
        model.train_step(x, y)
    assert int(model.ema_updates) == 3
    assert any(not torch.equal(a, b) for a, b in zip(model.generator_ema.parameters(), model.generator.parameters()))
    z = torch.randn(4, 8, generator=seeded_generator(0))
    raw = model.generator.eval()(z, torch.arange(4))
    assert not torch.allclose(model.decode(z, torch.arange(4)), raw)
    assert not any(p.requires_grad for p in model.generator_ema.parameters())
    assert not model.train().generator_ema.training          # the average stays in eval mode


def test_gan_without_ema_samples_the_generator():
    model = tiny_gan(ema_decay=0.0)
    assert model.generator_ema is None and "ema_updates" not in model.state_dict()
    z = torch.randn(3, 8, generator=seeded_generator(5))
    assert torch.equal(model.sample(3, seed=5), model.generator.eval()(z, torch.arange(3)).clamp(-1, 1))


def test_gan_sample_is_decode_of_seeded_noise():
    model = tiny_gan()
    z = torch.randn(6, 8, generator=seeded_generator(3))           # what genlib.sample.latent_noise draws
    assert torch.equal(model.sample(6, seed=3), model.decode(z))


def test_gan_losses_match_their_formulas():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    bce = F.binary_cross_entropy_with_logits
    expect_d = bce(real, torch.ones(2)) + bce(fake, torch.zeros(2))
    assert torch.allclose(discriminator_loss("nonsaturating", real, fake), expect_d)
    assert torch.allclose(generator_loss("nonsaturating", fake), bce(fake, torch.ones(2)))
    assert torch.allclose(discriminator_loss("hinge", real, fake), torch.tensor((0 + 2) / 2 + (1.5 + 0) / 2))
    assert torch.allclose(discriminator_loss("wgan-gp", real, fake), fake.mean() - real.mean())


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = <w, x>: ∇D = w everywhere, so the penalty is (‖w‖ − 1)² exactly.
    w = torch.randn(1, 3, 4, 4)
    critic = lambda x, y=None: (x * w).flatten(1).sum(1)
    gp = gradient_penalty(critic, torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4))
    assert torch.allclose(gp, (w.norm() - 1) ** 2, rtol=1e-5)


def test_minibatch_std_never_mixes_reals_and_fakes():
    same = torch.ones(4, 2, 3, 3)                                   # "reals": no spread
    varied = torch.randn(4, 2, 3, 3)                                # "fakes": spread
    out = minibatch_std(torch.cat([same, varied]))
    assert out.shape == (8, 3, 3, 3)
    assert torch.all(out[:4, -1] < 1e-3) and torch.all(out[4:, -1] > 0.1)


# ---- VAE ------------------------------------------------------------------------------------
def tiny_vae(num_classes=10, **kw):
    torch.manual_seed(0)
    return VAE(VAEConfig(base_channels=4, latent_dim=3, **kw), (1, 16, 16), num_classes=num_classes)


def test_vae_encode_decode_shapes():
    model = tiny_vae()
    x, y = images(5)
    mu, logvar = model.encode(x, y)
    assert mu.shape == logvar.shape == (5, 3)
    out = model.decode(mu, y)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert model.reconstruct(x, y).shape == x.shape
    with pytest.raises(GenlibError, match="needs the label"):
        model.encode(x)


def test_vae_metrics_add_up():
    model = tiny_vae(beta=2.0)
    model.setup_training(1e-3)
    m = {k: float(v) for k, v in model.train_step(*images()).items()}
    assert m["kl"] >= 0 and m["recon"] > 0
    assert m["elbo"] == pytest.approx(-(m["recon"] + m["kl"]), rel=1e-5)
    assert m["loss"] == pytest.approx(m["recon"] + 2.0 * m["kl"], rel=1e-5)


def test_vae_nll_is_finite_and_importance_weighting_tightens_it():
    model = tiny_vae(num_classes=0)
    x = (images(32)[0] > 0).float() * 2 - 1                          # binary images: p(x) ≤ 1
    nll_64 = model.nll(x, k=64)
    assert nll_64.shape == (32,) and torch.isfinite(nll_64).all()
    assert nll_64.min() > 0
    assert nll_64.mean() < model.nll(x, k=1).mean()                 # IWAE ≤ ELBO bound
    assert torch.equal(nll_64, model.nll(x, k=64))                  # seeded


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(0.0, 1.0)
    assert torch.allclose(kl_to_standard_normal(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1),
                          atol=1e-5)


class LinearDecoder(nn.Module):
    def __init__(self, W, b):
        super().__init__()
        self.W, self.b = nn.Parameter(W, requires_grad=False), nn.Parameter(b, requires_grad=False)

    def forward(self, z, y1=None):
        return (z @ self.W.T + self.b).view(len(z), 1, 8, 8)


class ExactEncoder(nn.Module):
    """The true posterior of the linear Gaussian model (diagonal because W's columns are orthogonal)."""

    def __init__(self, W, b, sigma):
        super().__init__()
        self.W, self.b, self.sigma = W, b, sigma
        self.var = 1 / (1 + (W * W).sum(0) / sigma ** 2)             # diag of (I + WᵀW/σ²)⁻¹

    def forward(self, x, y1=None):
        mu = self.var * ((x.flatten(1) - self.b) @ self.W) / self.sigma ** 2
        return mu, torch.log(self.var).expand_as(mu)


def test_vae_nll_is_exact_for_a_linear_gaussian_model():
    # p(z) = N(0, I), p(x|z) = N(Wz + b, σ²I) has p(x) = N(b, WWᵀ + σ²I); with the exact posterior as
    # q(z|x), every importance weight equals p(x), so the estimate is exact for any k.
    torch.manual_seed(0)
    sigma, D, L = 0.3, 64, 3
    Q, _ = torch.linalg.qr(torch.randn(D, L))
    W, b = Q * torch.tensor([2.0, 1.0, 0.5]), torch.randn(D) * 0.1
    model = VAE(VAEConfig(latent_dim=L, likelihood="gaussian", learn_std=False, std=sigma), (1, 8, 8))
    model.encoder, model.decoder = ExactEncoder(W, b, sigma), LinearDecoder(W, b)
    x = (torch.randn(6, L) @ W.T + b + sigma * torch.randn(6, D)).view(6, 1, 8, 8)
    exact = -torch.distributions.MultivariateNormal(b, W @ W.T + sigma ** 2 * torch.eye(D)).log_prob(x.flatten(1))
    for k in (1, 16):
        assert torch.allclose(model.nll(x, k=k), exact, rtol=1e-4, atol=1e-3)


def test_vae_gaussian_std_learned_or_fixed():
    learned = tiny_vae(likelihood="gaussian")
    assert learned.log_std.shape == (1,)
    learned.setup_training(1e-2)
    before = learned.log_std.detach().clone()
    learned.train_step(*images())
    assert not torch.equal(before, learned.log_std)
    fixed = tiny_vae(likelihood="gaussian", learn_std=False)
    assert fixed.log_std is None and "log_std" not in fixed.state_dict()


# ---- PixelCNN -------------------------------------------------------------------------------
def tiny_pixelcnn(C=1, side=10, num_classes=0, **kw):
    torch.manual_seed(0)
    cfg = {"levels": 4, "channels": 6, "layers": 2, "first_kernel": 5, **kw}
    return PixelCNN(PixelCNNConfig(**cfg), (C, side, side), num_classes=num_classes).eval()


@pytest.mark.parametrize("C,num_classes", [(1, 0), (3, 5)])
def test_pixelcnn_is_causal_and_has_no_blind_spot(C, num_classes):
    # Oracle: ∂ logits(r, c) / ∂ x must be zero at pixel (r, c) and after it (raster order), in
    # every channel; and non-zero for the neighbours above (including above-right) and to the left.
    model, side = tiny_pixelcnn(C, 10, num_classes), 10
    x = model.values(torch.randint(0, 4, (2, C, side, side)))
    y = torch.tensor([1, 3]) if num_classes else None
    order = torch.arange(side * side).view(side, side)
    for r, c in [(0, 0), (0, 5), (4, 4), (9, 0), (6, 9), (9, 9)]:
        xi = x.clone().requires_grad_(True)
        model.net(xi, y)[:, :, :, r, c].sum().backward()
        touched = xi.grad.abs().sum((0, 1)) > 0                     # H, W
        assert not touched[order >= r * side + c].any(), (r, c)
        near = [(r - 1, c - 1), (r - 1, c), (r - 1, c + 1), (r - 1, c + 2), (r - 2, c + 2), (r, c - 1), (r, c - 2)]
        for rr, cc in near:
            if 0 <= rr and 0 <= cc < side:
                assert touched[rr, cc], ((r, c), (rr, cc))


@pytest.mark.parametrize("kw", [{}, {"kernel_size": 5, "first_kernel": 7, "levels": 256}])
def test_pixelcnn_incremental_sampling_matches_the_full_pass(kw):
    model = tiny_pixelcnn(3, 8, num_classes=4, layers=3, **kw)     # wider reaches than the cache's minimum
    x = model.values(torch.randint(0, 4, (2, 3, 8, 8)))
    y = torch.tensor([0, 2])
    with torch.no_grad():                                           # class maps matter too
        model.net.class_maps.normal_()
    full = model.net(x, y)
    for r in range(8):
        row = model.net.start_row(x, r, y)
        for c in range(8):
            assert torch.allclose(model.net.next_pixel(x, c, row), full[:, :, :, r, c], atol=1e-5), (r, c)


def test_pixelcnn_untrained_bits_per_dim_near_uniform():
    for levels in (2, 256):
        model = tiny_pixelcnn(levels=levels)
        bpd = model.nll(images(16, (1, 10, 10))[0])
        assert bpd.shape == (16,)
        assert abs(bpd.mean().item() - math.log2(levels)) < 0.15 * math.log2(levels), (levels, bpd.mean())


def test_pixelcnn_nll_agrees_with_the_training_loss():
    model = tiny_pixelcnn(num_classes=10)
    x, y = images(8, (1, 10, 10))
    before = model.nll(x, y).mean().item()
    model.setup_training(1e-3)
    assert float(model.train_step(x, y)["bits_per_dim"]) == pytest.approx(before, rel=1e-5)
    with pytest.raises(GenlibError, match="needs the label"):
        model.nll(x)


def test_pixelcnn_samples_are_quantised():
    model = tiny_pixelcnn(levels=2, side=8)
    s = model.sample(3, seed=0)
    assert set(s.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(model.values(model.quantise(s)), s)


def test_categorical_is_the_inverse_cdf():
    probs = torch.tensor([[0.2, 0.5, 0.3]])
    assert [categorical(probs, torch.tensor([u])).item() for u in (0.1, 0.6, 0.95, 0.999999)] == [0, 1, 2, 2]
    u = torch.rand(20000, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(categorical(probs.expand(20000, 3), u), minlength=3) / 20000
    assert torch.allclose(counts, probs[0], atol=0.02)


@pytest.mark.parametrize("family", ["gan", "vae", "pixelcnn"])
def test_conditional_samples_depend_on_the_class(family):
    tiny = {"gan": {"base_channels": 4, "latent_dim": 8}, "vae": {"base_channels": 4},
            "pixelcnn": {"channels": 8, "layers": 1, "levels": 4, "first_kernel": 3}}[family]
    torch.manual_seed(0)
    model = build_model(family, (1, 8, 8), 3, **tiny)
    assert not torch.equal(model.sample(4, seed=0, labels=0), model.sample(4, seed=0, labels=1))
