"""GAN: a DCGAN generator and discriminator sized to the image, trained as a two-player game.

    from genlib.models.gan import GAN, GANConfig
    model = GAN(GANConfig(), image_shape=(1, 28, 28), num_classes=10)
    model.setup_training(lr=2e-4)
    metrics = model.train_step(x, y)      # one discriminator step, then one generator step
    images = model.sample(16, seed=0)     # from the moving average of the generator

The generator grows noise into an image (Radford et al. 2016, "Unsupervised representation
learning with deep convolutional GANs"); for 28×28 it is the classic MNIST design: dense →
7×7×256 → upsampling convolutions 128 → 64 → C with batch norm and leaky ReLU, tanh out. Other
sides start from a 4×4 grid and double until they reach the image (16: two doublings, 32: three,
64: four). The discriminator mirrors it with strided convolutions, leaky ReLU and dropout.
Each doubling is a nearest-neighbour resize then a 3×3 convolution (`upsample="resize"`, Odena
et al. 2016), or DCGAN's 4×4 transposed convolution (`"transposed"`, which leaves a checkerboard
pattern on photos; runs saved before the setting existed use it).

Class-conditional when the data has labels and `conditional` is on (the default): the generator
sees a class embedding concatenated to the noise, the discriminator adds a projection term
(Miyato & Koyama 2018, "cGANs with projection discriminator"). A conditional model's `sample`
draws the classes in turn unless told which.

Two small guards against mode collapse, which short runs on small data are prone to: a
minibatch-spread feature in the discriminator (Karras et al. 2018) and a mode-seeking term in
the generator's loss (Mao et al. 2019), which stops a conditional generator from drawing one
picture per class. `sample` and `decode` use an exponential moving average of the generator's
weights (Yazıcı et al. 2019), which gives steadier pictures than the last step's weights; the
average gets batch-norm statistics of its own before it samples or is saved (`refresh_ema_statistics`).
With `spectral_norm` every weight of the discriminator, its class projection included, is divided
by its largest singular value (Miyato et al. 2018, "Spectral normalization for GANs"), so its
score cannot jump between nearby pictures; the quick preset uses it with the hinge loss.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ..graphstep import lerp_on_device
from ..settings import check_settings, setting
from .base import (UPSAMPLING, ImageCapabilities, ImageModel, Preset, ProgressCurve, check_image_shape,
                   adam, check_whole_numbers, class_labels, eval_mode, halvings, seeded_generator, upsampling)

LOSSES = ("nonsaturating", "hinge", "wgan-gp")
# batches of 256 draws that give the averaged generator its batch-norm statistics: on MNIST's quick
# GAN 8, 2 and 1 gave the same FID (7.33×, 7.28×, 7.27× real-vs-real); 2 costs a quarter of 8, and
# the statistics are refreshed at every preview (20 a training) and checkpoint
REFRESH_BATCHES = 2


# ---- config ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class GANConfig:
    # size of the noise vector z the generator turns into an image
    latent_dim: int = setting(
        64, label="Size of the random input",
        help="How many random numbers the generator turns into one picture. More leaves room for more "
             "variety; 64 to 128 is usual.", min=2, max=1024, hosted_max=256, unit="numbers")
    # width of G's last hidden layer and D's first; doubles per scale (≤ 8×)
    base_channels: int = setting(
        64, label="Width of the networks",
        help="How many features each network layer works with. Wider networks draw finer detail but "
             "train more slowly and need more memory.", min=4, max=512, hosted_max=128, unit="channels",
        advanced=False)
    # how G doubles its grid: "resize" (nearest ×2, then 3×3 conv) or "transposed" (4×4 stride-2 transposed conv)
    upsample: str = setting(
        "resize", label="How pictures grow",
        help="How the generator makes its pictures bigger, step by step. 'resize' (enlarge, then paint "
             "over) avoids a faint checkerboard pattern; 'transposed' is the older way, used by runs saved "
             "before this choice existed.", choices=UPSAMPLING)
    # "nonsaturating", "hinge" or "wgan-gp" (formulas next to the losses below)
    loss: str = setting(
        "nonsaturating", label="Scoring rule",
        help="How the judge scores pictures and how the generator is rewarded. 'nonsaturating' is the "
             "classic choice, 'hinge' is often steadier, 'wgan-gp' is the steadiest but slower (use it "
             "with 5 judge steps per generator step).", choices=LOSSES)
    # discriminator steps per generator step (5 is usual for wgan-gp)
    n_critic: int = setting(
        1, label="Judge steps per generator step",
        help="How many times the judge learns before the generator learns once. 1 suits the usual "
             "scoring rules, 5 suits 'wgan-gp'; each extra step makes training slower.",
        min=1, max=20, hosted_max=5, unit="steps")
    # λ of the gradient penalty (wgan-gp only)
    gp_weight: float = setting(
        10.0, label="Strength of the smoothness penalty",
        help="Only for the 'wgan-gp' scoring rule: how strongly the judge is kept smooth. 10 is the "
             "usual value.", min=0.0, max=1000.0)
    # dropout after each discriminator layer but the first (0, the default, turns it off: on MNIST's
    # quick preset 0.3 gave an FID 1.5× higher in the same steps)
    dropout: float = setting(
        0.0, label="Judge's forgetfulness (dropout)",
        help="The share of the judge's features switched off at random while it learns, so it cannot "
             "memorise the training pictures. 0 (off) learns fastest; try 0.3 on a few hundred pictures "
             "if the samples start to copy them.", min=0.0, max=0.9)
    # spectral normalisation of every discriminator layer, the class projection included (Miyato
    # et al. 2018); with the hinge loss and β (0, 0.9) it took MNIST's quick GAN from 8.2× to 4.5×
    # real-vs-real FID (mean of seeds 0/1/2) in the same steps; the layers alone, without the
    # projection: 6.8× and 9.0× on seeds 0 and 1
    spectral_norm: bool = setting(
        False, label="Keep the judge steady",
        help="Limits how sharply the judge's verdict can change from one picture to a slightly "
             "different one (spectral normalisation). The generator then gets steadier advice and "
             "learns cleaner pictures in the same time; the quick preset turns it on.")
    # when the data has labels: learn each class and draw a chosen one
    conditional: bool = setting(
        True, label="Learn each class",
        help="When the pictures have labels (digits, kinds of clothing), learn each class so you can "
             "ask for one. Has no effect on pictures without labels.", advanced=False)
    # size of the class embedding the generator sees next to the noise
    embed_dim: int = setting(
        32, label="Size of the class code",
        help="How many numbers describe each class to the generator. Only used when it learns each "
             "class.", min=2, max=512, hosted_max=128, unit="numbers")
    # moving average of G's weights used for sampling (0 turns it off)
    ema_decay: float = setting(
        0.999, label="Averaging of the generator",
        help="Pictures come from a slowly moving average of the generator, which is steadier than its "
             "latest state. Closer to 1 averages over more steps; 0 turns it off.", min=0.0, max=0.9999)
    # Adam β1 (DCGAN uses 0.5; 0.0 suits wgan-gp)
    beta1: float = setting(
        0.5, label="Optimizer momentum",
        help="How much each update keeps going in the direction of the last ones. 0.5 is the classic "
             "value for GANs, 0 suits 'wgan-gp'.", min=0.0, max=0.999)
    # Adam β2
    beta2: float = setting(
        0.999, label="Optimizer step-size memory",
        help="How long the optimizer remembers the size of past updates. 0.999 rarely needs changing.",
        min=0.0, max=0.9999)
    # the discriminator's learning rate is lr × this
    d_lr_ratio: float = setting(
        1.0, label="Judge's learning speed",
        help="The judge's learning rate as a multiple of the generator's. Above 1 the judge learns "
             "faster; below 1 slower.", min=0.01, max=100.0, unit="×")
    # mode-seeking term against per-class collapse (0 turns it off; on MNIST's quick preset 0.05
    # took recall from 18 % to 73 % and the FID from 30× to 18× real-vs-real, 0.2 and 0.5 did worse)
    diversity_weight: float = setting(
        0.05, label="Push for variety",
        help="Rewards the generator for drawing different pictures from different noise, against "
             "drawing the same picture again and again. 0 turns it off.", min=0.0, max=10.0)

    # what a field missing from an older saved config meant (`config_from_dict`): runs saved before
    # `upsample` existed hold weights for transposed convolutions
    legacy_defaults: ClassVar[dict] = {"upsample": "transposed", "spectral_norm": False}

    def __post_init__(self):
        check_settings(self)                                            # the declared limits and choices
        check_whole_numbers(self, "latent_dim", "base_channels", "n_critic", "embed_dim")


# ---- building blocks ------------------------------------------------------------------------
def _widths(base: int, k: int) -> list[int]:
    """Channel widths from the smallest grid (widest) to the largest: base·2^k … base, capped at 8×."""
    return [min(base * 2 ** (k - i), base * 8) for i in range(k + 1)]


class Generator(nn.Module):
    """z (+ class embedding) → dense → start×start grid → conv → upsampling convs doubling → tanh."""

    def __init__(self, latent_dim: int, image_shape, base: int, num_classes: int = 0, embed_dim: int = 32,
                 upsample: str = "resize"):
        super().__init__()
        C, side, _ = image_shape
        self.start, k = halvings(side)
        w = _widths(base, k)
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.fc = nn.Linear(latent_dim + (embed_dim if num_classes else 0), w[0] * self.start ** 2, bias=False)
        layers = [nn.BatchNorm2d(w[0]), nn.LeakyReLU(0.2),
                  nn.Conv2d(w[0], w[1], 3, padding=1, bias=False), nn.BatchNorm2d(w[1]), nn.LeakyReLU(0.2)]
        for i in range(1, k):                                           # "transposed" keeps 0.1's layer numbers
            layers += [*upsampling(w[i], w[i + 1], upsample, bias=False), nn.BatchNorm2d(w[i + 1]),
                       nn.LeakyReLU(0.2)]
        layers += [*upsampling(w[k], C, upsample), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)                     # B, latent + embed
        h = self.fc(z).view(len(z), -1, self.start, self.start)         # B, w0, s, s
        return self.net(h)                                              # B, C, H, W in [-1, 1]


class Discriminator(nn.Module):
    """Strided convs halving the image down to the generator's start grid, then one score per image."""

    def __init__(self, image_shape, base: int, num_classes: int = 0, dropout: float = 0.3,
                 spectral: bool = False):
        super().__init__()
        C, side, _ = image_shape
        start, k = halvings(side)
        w = _widths(base, k)[::-1]                                      # base, 2·base, … widest
        layers, c_in = [], C
        for i in range(k):                                              # side → side/2 … → start
            layers += [nn.Conv2d(c_in, w[i], 4, 2, 1), nn.LeakyReLU(0.2)]
            if i > 0:                                                   # not on the largest map: costly on a CPU
                layers.append(nn.Dropout(dropout))
            c_in = w[i]
        self.net = nn.Sequential(*layers)
        features = (c_in + 1) * start * start                           # + the minibatch-std channel
        self.fc = nn.Linear(features, 1)
        self.project = nn.Embedding(num_classes, features) if num_classes else None
        if spectral:                                                    # every weight, the projection too
            for m in [*self.net, self.fc, self.project]:
                if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    spectral_norm(m)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = minibatch_std(self.net(x)).flatten(1)                       # B, features
        score = self.fc(h).squeeze(1)                                   # B
        if self.project is not None:                                    # projection: + <embed(y), h>
            score = score + (self.project(y) * h).sum(1)
        return score


def minibatch_std(h: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append one channel: the spread of features across small groups of images (Karras et al. 2018).

    A generator that draws the same image again and again gives groups with no spread, which the
    discriminator can then see: the cheapest guard against mode collapse. Groups are runs of
    consecutive images that never straddle the middle of the batch, where `train_step` joins the
    real images and the fakes.
    """
    B, C, H, W = h.shape
    half = B // 2 if B % 2 == 0 else B
    g = next(k for k in (group, 3, 2, 1) if half % k == 0)
    groups = h.float().view(B // g, g, C, H, W)
    var = (groups - groups.mean(dim=1, keepdim=True)).pow(2).mean(dim=1)     # B/g, C, H, W (.var is slow here)
    std = torch.sqrt(var + 1e-8)                                              # finite gradient at 0
    stat = std.mean(dim=(1, 2, 3)).to(h.dtype).repeat_interleave(g)          # B
    return torch.cat([h, stat.view(B, 1, 1, 1).expand(B, 1, H, W)], dim=1)


def _dcgan_init(module: nn.Module) -> None:
    """DCGAN's N(0, 0.02) weights. A spectrally normalised layer keeps PyTorch's own (its scale is
    divided out; measured so) and only its bias starts at 0."""
    if parametrize.is_parametrized(module, "weight"):
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


# ---- model ----------------------------------------------------------------------------------
class GAN(ImageModel):
    """Generator + discriminator; `train_step` returns loss_d, loss_g, score_real, score_fake (+ gp).

        >>> model = GAN(GANConfig(base_channels=8), image_shape=(1, 16, 16), num_classes=10)
        >>> model.sample(4, seed=0).shape
        torch.Size([4, 1, 16, 16])
    """

    family = "gan"
    channels_last = True                                            # conv nets: NHWC on CUDA
    capturable = True                                               # one CUDA graph per step
    family_capabilities = ImageCapabilities(latent_walk=True)      # no encoder, no likelihood
    # the judge's margin between real and generated pictures (its raw scores, before the loss)
    progress_curve = ProgressCurve(
        "How easily the judge tells generated pictures from real ones (lower is better)",
        "The gap between the judge's scores for real and for generated pictures. It often rises at "
        "first, while the judge learns, then falls as the generator's pictures get better; a gap "
        "that keeps growing means the generator is losing. Judge the pictures too: a GAN has no "
        "score that measures quality.", terms=(("score_real", 1.0), ("score_fake", -1.0)))
    metric_words = {"loss_d": "judge's loss", "loss_g": "generator's loss",
                    "score_real": "judge's score for real pictures",
                    "score_fake": "judge's score for generated pictures", "gp": "smoothness penalty"}

    def __init__(self, config: GANConfig | None = None, image_shape=(1, 28, 28), num_classes: int = 0):
        config = config or GANConfig()
        super().__init__(config)
        self.image_shape = check_image_shape(image_shape, "GAN")
        self.num_classes = int(num_classes)
        self.n_cond = self.num_classes if config.conditional else 0     # classes the networks see
        self.generator = Generator(config.latent_dim, self.image_shape, config.base_channels, self.n_cond,
                                   config.embed_dim, config.upsample)
        self.discriminator = Discriminator(self.image_shape, config.base_channels, self.n_cond, config.dropout,
                                           config.spectral_norm)
        self.apply(_dcgan_init)
        self.generator_ema = None
        self._ema_stale = False                        # True once the averaged weights move (refresh_ema_statistics)
        if config.ema_decay > 0:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval()
            self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def build_args(self) -> dict:
        return {"image_shape": list(self.image_shape), "num_classes": self.num_classes}

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        betas = (self.config.beta1, self.config.beta2)
        return {"d": adam(self.discriminator.parameters(), lr=lr * self.config.d_lr_ratio, betas=betas),
                "g": adam(self.generator.parameters(), lr=lr, betas=betas)}

    def train(self, mode: bool = True):
        super().train(mode)
        if self.generator_ema is not None:                              # the average only ever samples
            self.generator_ema.eval()
        return self

    def train_step(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Discriminator step(s) on real vs fake, then a generator step (pytorch/examples dcgan).

        With n_critic > 1 the discriminator sees the same real batch each time, against fresh fakes.
        Metrics are detached 0-d float32 tensors: nothing here waits for the GPU.
        """
        self.check_training_labels(y, "GAN")
        x = self.layout(x)
        cfg = self.config
        y = y if self.n_cond else None
        B = x.shape[0]
        # fakes come in pairs (2i, 2i+1) of the same class, for the mode-seeking term below
        y_fake = None if y is None else y[0::2].repeat_interleave(2)[:B]
        for i in range(cfg.n_critic):
            last = i == cfg.n_critic - 1
            z = torch.randn(B, cfg.latent_dim, device=x.device)
            with torch.set_grad_enabled(last):                          # G's graph only for its own step
                fake = self.generator(z, y_fake)
            both = self.discriminator(torch.cat([x, fake.detach()]), None if y is None else torch.cat([y, y_fake]))
            real_score, fake_score = both.float().chunk(2)              # one pass: D has no batch norm
            loss_d = discriminator_loss(cfg.loss, real_score, fake_score)
            if cfg.loss == "wgan-gp":
                gp = gradient_penalty(self.discriminator, x, fake.detach(), y)
                loss_d = loss_d + cfg.gp_weight * gp
            self.update("d", loss_d)

        self.discriminator.requires_grad_(False)                        # G's step needs no D gradients
        try:
            loss_g = generator_loss(cfg.loss, self.discriminator(fake, y_fake).float())
            if cfg.diversity_weight and B >= 2:
                loss_g = loss_g + cfg.diversity_weight * mode_seeking_penalty(fake, z)
            self.update("g", loss_g)
        finally:
            self.discriminator.requires_grad_(True)
        self._update_ema()
        metrics = {"loss_d": loss_d, "loss_g": loss_g, "score_real": real_score.mean(),
                   "score_fake": fake_score.mean()}
        if cfg.loss == "wgan-gp":
            metrics["gp"] = gp
        return {k: v.detach().float() for k, v in metrics.items()}

    @torch.no_grad()
    def _update_ema(self) -> None:
        """θ_ema ← d·θ_ema + (1−d)·θ, with d warmed up as min(decay, (1+t)/(10+t)) so early steps count less."""
        if self.generator_ema is None:
            return
        self.ema_updates += 1
        # a Python number on the CPU (free); a 0-d tensor elsewhere: reading the count would wait for the GPU
        ema, params = list(self.generator_ema.parameters()), [p.detach() for p in self.generator.parameters()]
        if self.ema_updates.is_cpu:
            w = ema_weight(float(self.ema_updates), self.config.ema_decay)
            torch._foreach_lerp_(ema, params, w)                        # one call for every weight
        else:       # lerp takes its weight as a host number: the same step with a weight on the device
            lerp_on_device(ema, params, ema_weight(self.ema_updates.float(), self.config.ema_decay))
        self._ema_stale = True                                          # its batch-norm statistics

    @torch.no_grad()
    def refresh_ema_statistics(self, batches: int = REFRESH_BATCHES, size: int = 256) -> None:
        """Give the averaged generator batch-norm statistics of its own ("standing statistics",
        Brock et al. 2019): `batches` × `size` seeded draws through it in training mode.

        The generator's running statistics describe its latest weights, not their average; copied
        into the average they drift further from it as training goes on (on MNIST the quick GAN's
        FID grew 4× between 800 and 1,600 steps with copied statistics, and fell with its own).
        Runs this once after the weights last changed, before sampling or saving; fixed noise, so
        the same weights give the same statistics, and the global random state is left alone.
        """
        if self.generator_ema is None or not self._ema_stale:
            return
        net, gen = self.generator_ema, seeded_generator(0)
        norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None                                           # a plain average over the batches
        try:
            net.train()
            for _ in range(batches):
                z = torch.randn(size, self.config.latent_dim, generator=gen).to(self.device)
                y = class_labels(None, size, self.n_cond)
                net(z, None if y is None else y.to(self.device))
        finally:
            net.eval()
            for m, momentum in zip(norms, momenta):
                m.momentum = momentum
        self._ema_stale = False

    def state_dict(self, *args, **kwargs):
        self.refresh_ema_statistics()                                   # a saved average samples as it would here
        return super().state_dict(*args, **kwargs)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        """Latent vectors (N×latent_dim) → images in [-1, 1], from the averaged generator when there is one."""
        self.refresh_ema_statistics()
        net = self.generator_ema if self.generator_ema is not None else self.generator
        y = class_labels(labels, len(z), self.n_cond)
        with eval_mode(self):
            x = net(z.to(self.device, torch.float32), None if y is None else y.to(self.device))
        return x.float().clamp(-1, 1)

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, labels=None) -> torch.Tensor:
        """`n` images in [-1, 1]; noise is drawn on the CPU so a seed gives the same images on any device."""
        z = torch.randn(n, self.config.latent_dim, generator=seeded_generator(seed))
        return self.decode(z, class_labels(labels, n, self.n_cond))


def ema_weight(t, decay: float):
    """1 − min(decay, (1+t)/(10+t)): how far the average moves at update t (a number or a 0-d tensor).

        >>> round(ema_weight(1.0, 0.999), 4)
        0.8182
    """
    if torch.is_tensor(t):                                              # the same, without float32 cancellation
        return torch.clamp(9 / (10 + t), min=1 - decay)
    return 1 - min(decay, (1 + t) / (10 + t))


# ---- loss and sampling ----------------------------------------------------------------------
def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """D's loss from raw scores (float32).

    nonsaturating (Goodfellow et al. 2014): −log σ(D(x)) − log(1 − σ(D(G(z)))) = softplus(−D(x)) + softplus(D(G(z)))
    hinge (Lim & Ye 2017; Miyato et al. 2018):  max(0, 1 − D(x)) + max(0, 1 + D(G(z)))
    wgan-gp (Gulrajani et al. 2017):            D(G(z)) − D(x)   (+ λ·gradient penalty, added by the caller)
    """
    if kind == "nonsaturating":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return fake.mean() - real.mean()


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """G's loss: nonsaturating −log σ(D(G(z))) = softplus(−D(G(z))); hinge and wgan-gp −D(G(z))."""
    if kind == "nonsaturating":
        return F.softplus(-fake).mean()
    return -fake.mean()


def gradient_penalty(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     y: torch.Tensor | None = None) -> torch.Tensor:
    """E[(‖∇D(x̂)‖₂ − 1)²] at random points x̂ between real and fake images (Gulrajani et al. 2017)."""
    alpha = torch.rand(len(real), 1, 1, 1, device=real.device)
    x_hat = (alpha * real.float() + (1 - alpha) * fake.float()).requires_grad_(True)
    score = discriminator(x_hat, y).float()
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    norm = torch.sqrt(grad.float().pow(2).flatten(1).sum(1) + 1e-12)   # safe gradient at 0
    return ((norm - 1) ** 2).mean()


def mode_seeking_penalty(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """1 / (mean|G(z₁) − G(z₂)| / mean|z₁ − z₂|) over pairs (2i, 2i+1) drawn for the same class.

    Mao et al. 2019, "Mode seeking GANs for diverse image synthesis": a generator that maps
    different noise to the same image (per-class mode collapse) pays for it.
    """
    n = len(fake) // 2 * 2
    ratio = (fake[0:n:2] - fake[1:n:2]).float().abs().mean() / (z[0:n:2] - z[1:n:2]).float().abs().mean()
    return 1 / (ratio + 1e-5)


PRESETS = {
    # MNIST, FID in the domain features over real-vs-real, mean of seeds 0/1/2 (bench/quality.py):
    # 22.2× with β1 0.5, lr 5e-4, updates capped at norm 1 and 800 steps of 64; 9.2× uncapped with
    # β (0, 0.99) and lr 1e-3; 8.2× with 1,400 steps of 32; 4.5× with a spectrally normalised judge
    # and the hinge loss, β (0, 0.9); 3.8× with lr 7e-4 and 2,000 steps (1,800: 4.3×, 1,900: 4.2×),
    # which the fused resize-convolution (base.ResizeConv2d) made fit the same minute. Worse: lr 2e-3,
    # cosine decay, a longer average, a judge learning 2× faster, β1 0.5, no push for variety
    "quick": Preset(model={"base_channels": 16, "beta1": 0.0, "beta2": 0.9, "loss": "hinge",
                           "spectral_norm": True}, steps=2000, batch_size=32, lr=7e-4,
                    train={"grad_clip": 0.0}, expected_cpu_seconds=48, expected_gpu_seconds=3,
                    description="A small GAN for a first look at {data}: rough shapes and colours, "
                                "with detail still missing."),
    "standard": Preset(model={"base_channels": 32}, steps=3000, batch_size=64, lr=2e-4,
                       expected_cpu_seconds=210, expected_gpu_seconds=4,
                       description="A medium GAN trained longer: cleaner, more varied {data}."),
    "best": Preset(model={"base_channels": 64, "latent_dim": 128}, steps=10000, batch_size=128, lr=2e-4,
                   expected_cpu_seconds=3300, expected_gpu_seconds=13,
                   description="The classic DCGAN width, trained long: the best {data}, meant for a GPU."),
}
