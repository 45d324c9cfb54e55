"""The neural forecasters' network: its config, the pure functions of its losses and windows, and
the `Trainable` that `genlib.train.fit` trains (see genlib/forecast/neural.py for the forecaster).
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from genlib.errors import GenlibError
from genlib.models.base import Trainable, check_whole_numbers
from genlib.settings import check_settings, setting

KINDS = ("mlp", "gru")
HEADS = ("quantile", "gaussian")
GRU_MAX_STEPS = 8              # recurrent steps of the GRU: it reads the window in chunks
TARGET_CLIP = 100.0            # targets beyond this many window spreads are clipped in the loss


# ---- config ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class NeuralNetConfig:
    """The network's shape; `NeuralAR.fit` fills it from the data and the hyperparameters."""

    # "mlp" (AR-Net style) or "gru"
    kind: str = setting(
        "mlp", label="Kind of network",
        help="'mlp' looks at all the recent values at once and trains fast; 'gru' reads them in order, "
             "a few at a time, and can follow longer patterns but trains more slowly.",
        choices=KINDS, advanced=False)
    # L: past values the network reads
    input_size: int = setting(
        48, label="Past values it looks at",
        help="How many of the latest values the network reads to make a forecast. Longer windows "
             "can see longer patterns but need longer series.", min=1, max=10_000, hosted_max=2_000,
        unit="values")
    # H: future values it outputs at once
    horizon: int = setting(
        24, label="Steps it forecasts at once",
        help="How many future values the network gives in one go; longer forecasts repeat it, "
             "feeding its own forecast back in.", min=1, max=10_000, hosted_max=1_000, unit="steps")
    # width of the MLP layers / the GRU state
    hidden: int = setting(
        64, label="Width of the network",
        help="How many features each layer works with. Wider networks can learn more patterns but "
             "train more slowly and overfit short series sooner.", min=2, max=1024, hosted_max=256,
        unit="units")
    # hidden layers of the MLP / stacked GRU layers
    layers: int = setting(
        2, label="Depth of the network",
        help="How many layers the network stacks. 1 or 2 suit most series; more train more slowly.",
        min=1, max=16, hosted_max=4, unit="layers")
    # "quantile" (pinball loss) or "gaussian" (normal NLL)
    head: str = setting(
        "quantile", label="How it learns the uncertainty",
        help="'quantile' learns the edges of the chosen intervals directly and makes no assumption "
             "about their shape; 'gaussian' learns a bell curve, which gives an interval of any width.",
        choices=HEADS)
    # trained by the quantile head
    quantiles: tuple[float, ...] = setting(
        (0.025, 0.1, 0.5, 0.9, 0.975), label="Quantiles it learns",
        help="The chances, between 0 and 1, whose values the 'quantile' network learns: 0.1 and 0.9 "
             "give an 80% interval. Filled in from the interval levels you ask for.")
    # GRU chunk length; 0 → input_size / GRU_MAX_STEPS
    patch: int = setting(
        0, label="Values read per step",
        help="Only for 'gru': how many consecutive values the network reads at each step. 0 chooses "
             "for you (a season when that fits).", min=0, max=10_000, unit="values")
    # cosine-decay the learning rate to 10% over this many steps
    decay_steps: int = setting(
        0, label="Learning-rate decay length",
        help="Over how many training steps the learning rate falls smoothly to a tenth; 0 keeps it "
             "constant. Set from the number of training steps.", min=0, max=10_000_000, unit="steps")

    # networks trained side by side (different starting weights) whose forecasts are averaged
    members: int = setting(
        1, label="Networks averaged",
        help="How many networks learn side by side, each from its own random start; their "
             "forecasts are averaged, which steadies them. Each one adds training time.",
        min=1, max=16, hosted_max=8, unit="networks")

    def __post_init__(self):
        check_settings(self)                              # the declared limits and choices
        check_whole_numbers(self, "input_size", "horizon", "hidden", "layers", "patch", "decay_steps",
                            "members")
        if self.members > 1 and self.kind != "mlp":
            raise GenlibError("Averaging several networks works for the 'mlp' kind only; use members=1.")
        if self.head == "quantile" and 0.5 not in self.quantiles:
            raise GenlibError("The quantile head needs the median (0.5) among its quantiles.")

    @property
    def outputs_per_step(self) -> int:
        return len(self.quantiles) if self.head == "quantile" else 2


# ---- small pure functions ----------------------------------------------------------------------
def levels_to_quantiles(levels: Sequence[float]) -> tuple[float, ...]:
    """Quantiles that give central intervals at `levels` (percent), plus the median, sorted.

    >>> levels_to_quantiles((80, 95))
    (0.025, 0.1, 0.5, 0.9, 0.975)
    """
    qs = {0.5}
    for level in levels:
        if not 0 < float(level) < 100:
            raise GenlibError(f"Interval levels are percentages between 0 and 100; got {level!r}.")
        a = (100.0 - float(level)) / 200.0
        qs |= {round(a, 10), round(1.0 - a, 10)}
    return tuple(sorted(qs))


def window_scale(x: torch.Tensor, eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-window location and scale (B, 1): mean and standard deviation of the window.

    Instance normalisation as in RevIN (Kim et al. 2022): the network sees every window on the
    same footing and its outputs are mapped back with the same location and scale.

    The spread has a floor (a thousandth of the window's mean absolute value, and `eps`), so
    constant and all-zero windows scale by a small positive number instead of dividing by zero.
    """
    loc = x.mean(dim=1, keepdim=True)
    spread = x.std(dim=1, keepdim=True, unbiased=False)
    floor = 1e-3 * x.abs().mean(dim=1, keepdim=True) + eps
    return loc, torch.maximum(spread, floor)


def pinball_loss(pred: torch.Tensor, y: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile (pinball) loss, Koenker & Bassett (1978).

    pred (B, H, Q), y (B, H), quantiles (Q,):  rho_q(u) = max(q * u, (q - 1) * u),  u = y - pred.
    """
    u = y.unsqueeze(-1) - pred
    return torch.maximum(quantiles * u, (quantiles - 1) * u).mean()


def gaussian_nll(mu: torch.Tensor, sigma: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of y under N(mu, sigma^2), constant dropped (all B, H).

    -log p(y) = log sigma + (y - mu)^2 / (2 sigma^2) + const, as in DeepAR (Salinas et al. 2020).
    """
    return (torch.log(sigma) + 0.5 * ((y - mu) / sigma) ** 2).mean()


def interval_quantiles(levels: Sequence[float]) -> list[tuple[float, float]]:
    """(lower, upper) quantile of each central interval level, in the order given."""
    return [((100.0 - float(l)) / 200.0, 1.0 - (100.0 - float(l)) / 200.0) for l in levels]


def interpolate_quantiles(values: np.ndarray, trained: Sequence[float], q: float) -> np.ndarray:
    """Quantile `q` from sorted trained quantiles values (..., Q) by linear interpolation in q.

    Only inside the trained range: outside it there is nothing to interpolate between.
    """
    trained = np.asarray(trained, dtype=float)
    j = int(np.searchsorted(trained, q))
    if j < len(trained) and math.isclose(trained[j], q, abs_tol=1e-9):
        return values[..., j]
    if j == 0 or j == len(trained):
        raise GenlibError(f"quantile {q} is outside the trained range")  # caller words it
    w = (q - trained[j - 1]) / (trained[j] - trained[j - 1])
    return (1 - w) * values[..., j - 1] + w * values[..., j]


def make_windows(series: Sequence[np.ndarray], input_size: int, horizon: int,
                 max_windows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training windows from every series: x (N, L), y (N, H), series index (N,).

    Each series gives the windows that fit inside it, stride 1; a long series gives at most
    `max_windows`, drawn at random (seeded) from all of its windows so the whole history counts.
    """
    rng = np.random.default_rng(seed)
    xs, ys, ids = [], [], []
    span = input_size + horizon
    for i, values in enumerate(series):
        n_windows = len(values) - span + 1
        if n_windows <= 0:
            continue
        starts = np.arange(n_windows)
        if n_windows > max_windows:
            starts = np.sort(rng.choice(starts, size=max_windows, replace=False))
        idx = starts[:, None] + np.arange(span)[None, :]
        w = values[idx]
        xs.append(w[:, :input_size])
        ys.append(w[:, input_size:])
        ids.append(np.full(len(starts), i, dtype=np.int64))
    return (np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32),
            np.concatenate(ids))


# ---- building blocks ---------------------------------------------------------------------------
class MembersLinear(nn.Module):
    """M linear layers applied at once, one per member: (M, B, in) → (M, B, out) in one batched
    matrix product (each member starts from nn.Linear's own initialisation)."""

    def __init__(self, members: int, a: int, b: int):
        super().__init__()
        layers = [nn.Linear(a, b) for _ in range(members)]
        self.weight = nn.Parameter(torch.stack([lin.weight.detach().T for lin in layers]))  # M, a, b
        self.bias = nn.Parameter(torch.stack([lin.bias.detach() for lin in layers]).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class MLPBody(nn.Module):
    """AR-Net style: a linear autoregression on the window (B, L) plus an MLP → (B, H * K); with
    `members` > 1, that many networks side by side → (M, B, H * K)."""

    def __init__(self, cfg: NeuralNetConfig):
        super().__init__()
        dims = [cfg.input_size] + [cfg.hidden] * cfg.layers
        self.members = cfg.members
        linear = nn.Linear if cfg.members == 1 else (lambda a, b: MembersLinear(cfg.members, a, b))
        blocks: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [linear(a, b), nn.ReLU()]
        self.hidden = nn.Sequential(*blocks)
        self.out = linear(dims[-1], cfg.horizon * cfg.outputs_per_step)
        self.skip = linear(cfg.input_size, cfg.horizon * cfg.outputs_per_step)  # linear AR part

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.members > 1:
            x = x.unsqueeze(0).expand(self.members, *x.shape)
        return self.out(self.hidden(x)) + self.skip(x)


class GRUBody(nn.Module):
    """A GRU reads the window in chunks of `patch` values (B, T, patch); its last state plus a
    linear autoregression on the window → (B, H * K).

    Chunks keep the GRU to a few recurrent steps: a GRU step costs the same for one value as
    for a chunk, and on a CPU the step count is what makes a GRU slow.
    """

    def __init__(self, cfg: NeuralNetConfig):
        super().__init__()
        self.patch = cfg.patch or math.ceil(cfg.input_size / GRU_MAX_STEPS)
        self.steps = math.ceil(cfg.input_size / self.patch)
        self.gru = nn.GRU(self.patch, cfg.hidden, num_layers=cfg.layers, batch_first=True)
        self.out = nn.Linear(cfg.hidden, cfg.horizon * cfg.outputs_per_step)
        self.skip = nn.Linear(cfg.input_size, cfg.horizon * cfg.outputs_per_step)  # linear AR part

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.steps * self.patch - x.shape[1]
        if pad:                                # repeat the oldest value to fill the first chunk
            x = torch.cat([x[:, :1].expand(-1, pad), x], dim=1)
        _, state = self.gru(x.view(x.shape[0], self.steps, self.patch))  # state (layers, B, hidden)
        return self.out(state[-1]) + self.skip(x[:, pad:])


# ---- model -------------------------------------------------------------------------------------
class NeuralARNet(Trainable):
    """The network `NeuralAR` trains: raw windows in, forecasts in the series' own units out."""

    family: ClassVar[str] = "neural_ar"

    def __init__(self, config: NeuralNetConfig):
        super().__init__(config)
        self.body = MLPBody(config) if config.kind == "mlp" else GRUBody(config)
        self.register_buffer("quantiles", torch.tensor(config.quantiles, dtype=torch.float32))
        self.steps_done = 0                                   # drives the learning-rate decay

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, L) raw → head output (B, H, K) in window-scaled units, loc (B, 1), scale (B, 1)."""
        cfg = self.config
        loc, scale = window_scale(x)
        xs = (x - loc) / scale
        out = self.body(xs)
        out = out.view(*out.shape[:-1], cfg.horizon, cfg.outputs_per_step)   # ([M,] B, H, K)
        last = xs[:, -1:].unsqueeze(-1)                       # (B, 1, 1): start from naive
        if cfg.head == "quantile":
            out = torch.sort(out + last, dim=-1).values       # non-crossing quantiles
        else:
            mu = out[..., :1] + last
            sigma = F.softplus(out[..., 1:]) + 1e-3
            out = torch.cat([mu, sigma], dim=-1)
        return out, loc, scale

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out, loc, scale = self(x)
        # A flat window followed by a jump (zeros, then a sale) would otherwise give targets of
        # millions of window spreads and swamp the gaussian loss; the pinball loss hardly cares.
        ys = ((y - loc) / scale).clamp(-TARGET_CLIP, TARGET_CLIP)
        if self.config.head == "quantile":
            return pinball_loss(out, ys, self.quantiles)
        return gaussian_nll(out[..., 0], out[..., 1], ys)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, *rest: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.config.decay_steps:
            t = min(self.steps_done / self.config.decay_steps, 1.0)
            self.set_lr_scale(0.1 + 0.45 * (1.0 + math.cos(math.pi * t)))
        self.steps_done += 1
        loss = self.loss(x, y)
        self.update("model", loss)
        return {"loss": loss.detach().float()}                # 0-d tensor: no wait for the GPU

    @torch.no_grad()
    def forecast(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, L) raw → {"mean": (B, H)} plus "quantiles" (B, H, Q) or "sigma" (B, H), raw units."""
        out, loc, scale = self(x)
        if out.dim() == 4:                   # members: average their quantiles (which stay sorted),
            if self.config.head == "quantile":    # or the moments of their mixture of normals
                out = out.mean(0)
            else:
                mu, sigma = out[..., 0], out[..., 1]
                mean = mu.mean(0)
                spread = ((sigma ** 2 + mu ** 2).mean(0) - mean ** 2).clamp_min(0).sqrt()
                out = torch.stack([mean, spread], dim=-1)
        loc, scale = loc.unsqueeze(-1), scale.unsqueeze(-1)
        if self.config.head == "quantile":
            q = loc + scale * out
            median = q[..., self.config.quantiles.index(0.5)]
            return {"mean": median, "quantiles": q}
        return {"mean": loc[..., 0] + scale[..., 0] * out[..., 0],
                "sigma": scale[..., 0] * out[..., 1]}

    def build_args(self) -> dict:
        return {}


@dataclasses.dataclass
class WindowSet:
    """Training windows over all series, in the form `genlib.train.fit` takes."""

    x: torch.Tensor            # (N, L) raw past values
    y: torch.Tensor            # (N, H) raw future values
    series_index: torch.Tensor  # (N,) which series each window came from

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.x, self.y, self.series_index

    def __len__(self) -> int:
        return self.x.shape[0]


