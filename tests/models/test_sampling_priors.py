"""Where samples come from: the GAN's averaged generator with batch-norm statistics of its own,
and the VAE's prior fitted to the training codes. Tiny configs, CPU, seconds."""
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from genlib.models.base import config_from_dict, seeded_generator
from genlib.models.gan import REFRESH_BATCHES, GAN, GANConfig
from genlib.models.vae import VAE, VAEConfig


def images(n=32, shape=(1, 16, 16), seed=0, classes=10):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, *shape, generator=g) * 2 - 1, torch.randint(0, classes, (n,), generator=g)


def trained_gan(steps=4):
    torch.manual_seed(0)
    model = GAN(GANConfig(base_channels=4, latent_dim=8, embed_dim=4, ema_decay=0.9), (1, 16, 16), num_classes=10)
    model.setup_training(1e-2)
    x, y = images()
    for _ in range(steps):
        model.train_step(x, y)
    return model


def norms(module):
    return [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]


# ---- GAN: the average's own statistics -------------------------------------------------------
def test_the_average_gets_statistics_of_its_own_weights():
    model = trained_gan()
    model.sample(2, seed=0)                                    # sampling refreshes them
    ema, live = norms(model.generator_ema), norms(model.generator)
    assert not any(torch.allclose(a.running_mean, b.running_mean) for a, b in zip(ema, live))
    # they are what the averaged weights give in training mode on the refresh's seeded noise
    twin = trained_gan()
    net = twin.generator_ema
    for m in norms(net):
        m.reset_running_stats()
        m.momentum = None
    net.train()
    g = seeded_generator(0)
    with torch.no_grad():
        for _ in range(REFRESH_BATCHES):
            net(torch.randn(256, 8, generator=g), torch.arange(256) % 10)
    for a, b in zip(ema, norms(net)):
        torch.testing.assert_close(a.running_mean, b.running_mean)
        torch.testing.assert_close(a.running_var, b.running_var)


def test_refreshing_is_repeatable_and_leaves_the_global_random_state():
    a, b = trained_gan(), trained_gan()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = a.sample(6, seed=1)
    assert torch.equal(torch.rand(3), expected)
    assert torch.equal(first, b.sample(6, seed=1))
    assert torch.equal(first, a.sample(6, seed=1))              # a second draw does not refresh again


def test_a_saved_average_samples_as_it_did_before_saving(tmp_path):
    model = trained_gan()
    save_file(model.state_dict(), tmp_path / "m.safetensors")  # saving refreshes first
    before = model.sample(5, seed=3)
    torch.manual_seed(9)
    fresh = GAN(GANConfig(base_channels=4, latent_dim=8, embed_dim=4, ema_decay=0.9), (1, 16, 16), num_classes=10)
    fresh.load_state_dict(load_file(tmp_path / "m.safetensors"))
    assert torch.equal(fresh.sample(5, seed=3), before)


def test_more_training_makes_the_statistics_stale_again():
    model = trained_gan()
    model.sample(1, seed=0)
    kept = [m.running_mean.clone() for m in norms(model.generator_ema)]
    x, y = images(seed=1)
    model.train_step(x, y)
    model.sample(1, seed=0)
    assert any(not torch.equal(k, m.running_mean) for k, m in zip(kept, norms(model.generator_ema)))


# ---- VAE: the fitted prior ------------------------------------------------------------------
def tiny_vae(**kw):
    torch.manual_seed(0)
    return VAE(VAEConfig(base_channels=4, latent_dim=3, **kw), (1, 16, 16), num_classes=2)


def test_old_runs_keep_the_standard_prior():
    config = config_from_dict(VAEConfig, {"base_channels": 8})          # saved before the fields existed
    assert (config.prior, config.upsample) == ("standard", "transposed")
    assert "prior_mean" not in VAE(config, (1, 16, 16)).state_dict()
    assert VAEConfig().prior == "fitted"


def test_the_standard_prior_is_plain_noise():
    model = tiny_vae(prior="standard")
    z = model.prior_draw(4, torch.tensor([0, 1, 0, 1]), seeded_generator(2))
    assert torch.equal(z, torch.randn(4, 3, generator=seeded_generator(2)))


def test_the_fitted_prior_draws_each_class_from_its_gaussian():
    model = tiny_vae()
    means = torch.tensor([[2.0, -1.0, 0.0], [-3.0, 0.5, 1.0]])
    cov = torch.tensor([[1.0, 0.5, 0.0], [0.5, 2.0, 0.0], [0.0, 0.0, 0.25]])
    model.prior_mean.copy_(means)
    model.prior_second.copy_(cov + means[:, :, None] * means[:, None, :])
    labels = torch.arange(40_000) % 2
    z = model.prior_draw(40_000, labels, seeded_generator(0))
    for c in (0, 1):
        zc = z[labels == c]
        torch.testing.assert_close(zc.mean(0), means[c], atol=0.05, rtol=0)
        torch.testing.assert_close(torch.cov(zc.T), cov, atol=0.08, rtol=0)


def test_the_fitted_prior_follows_the_training_codes():
    model = tiny_vae()
    model.setup_training(1e-3)
    x, y = images(n=64, classes=2)
    z_means = []
    for step in range(600):
        model.train_step(x, y)
    # after many steps on one batch the moving moments match that batch's codes (q(z|x) barely moves)
    with torch.no_grad():
        mu, _ = model.encode(x, y)
    for c in (0, 1):
        sel = y == c
        z_means.append(mu[sel].mean(0))
        torch.testing.assert_close(model.prior_mean[c], mu[sel].mean(0), atol=0.15, rtol=0)
    assert not torch.allclose(z_means[0], torch.zeros(3), atol=1e-3)   # the codes are not just N(0, I)'s mean
    second = model.prior_second[0] - model.prior_mean[0][:, None] * model.prior_mean[0][None, :]
    assert torch.all(torch.linalg.eigvalsh(second) > 0)                  # a usable covariance
    assert model.sample(4, seed=0).shape == (4, 1, 16, 16)


def test_a_broken_fit_falls_back_to_plain_noise():
    model = tiny_vae()
    model.prior_second.fill_(float("nan"))
    z = model.prior_draw(3, torch.tensor([0, 1, 0]), seeded_generator(1))
    assert torch.isfinite(z).all()
