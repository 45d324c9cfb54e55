"""Neural autoregressive forecasters: one small network learns from every series at once.

Two kinds share everything but the body:

- ``kind="mlp"`` — AR-Net style (Triebe et al. 2019, "AR-Net: A simple auto-regressive neural
  network for time series"): the last ``input_size`` values go through a linear autoregression
  plus an MLP that output all ``h`` future steps at once (direct multi-horizon: no error
  feedback inside the horizon).
- ``kind="gru"`` — a GRU reads the same window in a few chunks of consecutive values (as in
  SegRNN, Lin et al. 2023: fewer recurrent steps, far faster on a CPU; a day per step for
  hourly data); its last state plus the same linear autoregression give the ``h`` outputs.

Each window is standardised on its own (mean and spread of the input window), so series of any
level and unit share one network, and the network adds its output to the window's last value
(it starts out as the naive forecast and learns the corrections). The head gives either
quantiles trained with the pinball loss (``head="quantile"``) or a normal mean and spread trained
with the negative log-likelihood (``head="gaussian"``); the point forecast (``mean`` column) is the
learned median or the normal mean.

Training goes through `genlib.train.fit`, the one loop every genlib model uses, so the app can
run a forecaster as a job with progress callbacks and a stop button:

    >>> import numpy as np, pandas as pd
    >>> t = np.arange(120)
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=120, freq="D"),
    ...                    "y": 10 + np.sin(2 * np.pi * t / 7)})
    >>> fc = NeuralAR(kind="mlp", h=7, steps=50, device="cpu").fit(df)
    >>> list(fc.predict(7, levels=(80,)).columns)
    ['unique_id', 'ds', 'mean', 'lo-80', 'hi-80']
"""
from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from genlib.errors import DataError, GenlibError, TrainingError
from genlib.forecast.base import (Capabilities, Forecaster, check_horizon, check_levels,
                                  check_min_length, resolve_season_length, split_series)
from genlib.models.base import GenerativeModel

KINDS = ("mlp", "gru")
HEADS = ("quantile", "gaussian")
GRU_MAX_STEPS = 8              # recurrent steps of the GRU: it reads the window in chunks
# Per-kind defaults (a GRU step costs about five MLP steps on a CPU): steps=None stops at
# MAX_AUTO_STEPS, batch_size=None means BATCH_SIZE. Both keep M4 Weekly under ~30 s of CPU.
MAX_AUTO_STEPS = {"mlp": 2000, "gru": 1000}
BATCH_SIZE = {"mlp": 512, "gru": 256}
TARGET_CLIP = 100.0            # targets beyond this many window spreads are clipped in the loss
PREDICT_BATCH = 8192           # series forecast per forward pass
MIN_TRAIN_WINDOWS = 3          # a series must give at least this many training windows


# ---- config ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class NeuralNetConfig:
    """The network's shape; `NeuralAR.fit` fills it from the data and the hyperparameters."""

    kind: str = "mlp"                 # "mlp" (AR-Net style) or "gru"
    input_size: int = 48              # L: past values the network reads
    horizon: int = 24                 # H: future values it outputs at once
    hidden: int = 64                  # width of the MLP layers / the GRU state
    layers: int = 2                   # hidden layers of the MLP / stacked GRU layers
    head: str = "quantile"            # "quantile" (pinball loss) or "gaussian" (normal NLL)
    quantiles: tuple[float, ...] = (0.025, 0.1, 0.5, 0.9, 0.975)  # trained by the quantile head
    patch: int = 0                    # GRU chunk length; 0 → input_size / GRU_MAX_STEPS
    decay_steps: int = 0              # cosine-decay the learning rate to 10% over this many steps

    def __post_init__(self):
        if self.kind not in KINDS:
            raise GenlibError(f"kind must be one of {KINDS}, not {self.kind!r}.")
        if self.head not in HEADS:
            raise GenlibError(f"head must be one of {HEADS}, not {self.head!r}.")
        if self.input_size < 1 or self.horizon < 1 or self.hidden < 1 or self.layers < 1:
            raise GenlibError("input_size, horizon, hidden and layers must all be at least 1.")
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
class MLPBody(nn.Module):
    """AR-Net style: a linear autoregression on the window (B, L) plus an MLP → (B, H * K)."""

    def __init__(self, cfg: NeuralNetConfig):
        super().__init__()
        dims = [cfg.input_size] + [cfg.hidden] * cfg.layers
        blocks: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.ReLU()]
        self.hidden = nn.Sequential(*blocks)
        self.out = nn.Linear(dims[-1], cfg.horizon * cfg.outputs_per_step)
        self.skip = nn.Linear(cfg.input_size, cfg.horizon * cfg.outputs_per_step)  # linear AR part

    def forward(self, x: torch.Tensor) -> torch.Tensor:
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
class NeuralARNet(GenerativeModel):
    """The network `NeuralAR` trains: raw windows in, forecasts in the series' own units out."""

    family: ClassVar[str] = "neural_ar"
    produces_images: ClassVar[bool] = False

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
        out = self.body(xs).view(x.shape[0], cfg.horizon, cfg.outputs_per_step)
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

    def train_step(self, x: torch.Tensor, y: torch.Tensor, *rest: torch.Tensor) -> dict[str, float]:
        if self.config.decay_steps:
            t = min(self.steps_done / self.config.decay_steps, 1.0)
            self.set_lr_scale(0.1 + 0.45 * (1.0 + math.cos(math.pi * t)))
        self.steps_done += 1
        loss = self.loss(x, y)
        self.update("model", loss)
        return {"loss": float(loss.detach())}

    @torch.no_grad()
    def forecast(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, L) raw → {"mean": (B, H)} plus "quantiles" (B, H, Q) or "sigma" (B, H), raw units."""
        out, loc, scale = self(x)
        loc, scale = loc.unsqueeze(-1), scale.unsqueeze(-1)
        if self.config.head == "quantile":
            q = loc + scale * out
            median = q[..., self.config.quantiles.index(0.5)]
            return {"mean": median, "quantiles": q}
        return {"mean": loc[..., 0] + scale[..., 0] * out[..., 0],
                "sigma": scale[..., 0] * out[..., 1]}

    def sample(self, n, seed=None, labels=None):
        raise NotImplementedError("A forecasting network has no samples; use NeuralAR.predict.")

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


# ---- the forecaster ----------------------------------------------------------------------------
class NeuralAR(Forecaster):
    """A neural autoregressive forecaster trained on all series at once (scikit-learn style).

    kind: "mlp" (AR-Net style, direct multi-horizon) or "gru".
    h: the horizon the network is trained for; None → 2 × season_length (at least 8), shortened
        to a quarter of the shortest series. `predict` with a longer h feeds the forecast back in
        (recursive, block by block); the spread of each later block is added in quadrature to
        the spread at the end of the block before, so intervals keep widening.
    input_size: past values the network reads; None → the longest of 2 × h, 2 × season_length,
        a week for hourly data (168) and 16, shortened so that the shortest series still gives
        a few training windows.
    hidden, layers: width and depth of the MLP, or state size and layers of the GRU.
    head: "quantile" learns the quantiles of the interval `levels` (pinball loss); `predict` can
        ask for those levels or any level between the narrowest and the widest (linear
        interpolation between learned quantiles); a wider level raises GenlibError.
        "gaussian" learns a mean and a spread (normal likelihood) and gives any level.
    steps, batch_size, lr: the training run (`genlib.train.fit`), with a cosine learning-rate
        decay when `decay`; steps None → about 30 passes over the windows, at least 500 and at
        most 2000 steps (1000 for the GRU); batch_size None → 512 (256 for the GRU).
        max_windows: training windows drawn per series at most.
    A series that never went below zero (sales, counts, traffic) gets forecasts and bands
    clipped at zero.
    device: "auto" trains on a GPU when there is one (it runs fine on a CPU); seed fixes the
        weights and the batches: the same seed gives the same forecast.
    callbacks, stop_event: handed to `genlib.train.fit` (progress bars, a stop button). A stopped
        run keeps the network as it was; `train_state_.status` is then "stopped".

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"unique_id": "s", "ds": np.arange(100), "y": np.arange(100.0)})
    >>> NeuralAR(h=5, steps=20, device="cpu").fit(df).predict(5).shape
    (5, 7)
    """

    capabilities: ClassVar[Capabilities] = Capabilities(
        intervals=True, many_series=True, needs_gpu=False, trains_network=True,
        min_length=16, uses_season=True)

    def __init__(self, kind: str = "mlp", *, h: int | None = None, input_size: int | None = None,
                 hidden: int = 64, layers: int = 2, head: str = "quantile",
                 levels: Sequence[float] = (80, 95), steps: int | None = None,
                 batch_size: int | None = None, lr: float = 3e-3, decay: bool = True,
                 max_windows: int = 512, device: str = "auto", seed: int = 0,
                 season_length: int | None = None,
                 freq: Any = None, callbacks: Sequence[Any] = (), stop_event: Any = None):
        super().__init__(season_length=season_length, freq=freq)
        self.kind = kind                    # "mlp" or "gru"
        self.h = h                          # trained horizon; None → from season_length
        self.input_size = input_size        # window length; None → from season_length and h
        self.hidden = hidden                # layer width / GRU state size
        self.layers = layers                # hidden layers / GRU layers
        self.head = head                    # "quantile" or "gaussian"
        self.levels = levels                # interval levels the quantile head learns
        self.steps = steps                  # optimizer steps; None → from the number of windows
        self.batch_size = batch_size        # windows per step; None → 512 (MLP) or 256 (GRU)
        self.lr = lr                        # peak Adam learning rate
        self.decay = decay                  # cosine learning-rate decay to 10% over the run
        self.max_windows = max_windows      # training windows drawn per series at most
        self.device = device                # "auto", "cpu", "cuda", "mps"
        self.seed = seed                    # weights and batches
        self.callbacks = callbacks          # genlib.train callbacks
        self.stop_event = stop_event        # threading.Event: set it to stop training

    @property
    def name(self) -> str:
        """Registry name of this kind (backtest labels its scores with it)."""
        return "neural_gru" if self.kind == "gru" else "neural_ar"

    @property
    def title(self) -> str:
        return "Neural network (GRU)" if self.kind == "gru" else "Neural network (MLP)"

    def describe(self, unique_id: str) -> str:
        return f"{self.title}, trained on all series together"

    # -- fit --------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> "NeuralAR":
        """Train one network on windows of every series of `df` (unique_id, ds, y); returns self."""
        from genlib.train import TrainConfig, fit as train_fit   # the one training loop

        if self.kind not in KINDS:
            raise GenlibError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}.")
        if self.head not in HEADS:
            raise GenlibError(f"head must be one of {', '.join(HEADS)}, not {self.head!r}.")
        data = split_series(df, self.freq)
        m = resolve_season_length(self.season_length, data.freq)
        check_min_length(self, data.ids, data.values, m)
        horizon, input_size = choose_sizes(data.ids, data.values, self.h, self.input_size, m)
        quantiles = (levels_to_quantiles(check_levels(self.levels)) if self.head == "quantile"
                     else (0.5,))
        x, y, sid = make_windows(data.values, input_size, horizon, self.max_windows, self.seed)
        windows = WindowSet(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(sid))
        batch_size = self.batch_size or BATCH_SIZE[self.kind]
        steps = self.steps or auto_steps(len(windows), batch_size, MAX_AUTO_STEPS[self.kind])
        cfg = NeuralNetConfig(kind=self.kind, input_size=input_size, horizon=horizon,
                              hidden=self.hidden, layers=self.layers, head=self.head,
                              quantiles=quantiles, patch=gru_patch(input_size, m),
                              decay_steps=steps if self.decay else 0)
        with torch.random.fork_rng(devices=[]):       # same seed → same weights, globals untouched
            torch.manual_seed(self.seed)
            net = NeuralARNet(cfg)
        train_cfg = TrainConfig(steps=steps, batch_size=batch_size, lr=self.lr,
                                device=self.device, seed=self.seed, amp=False, grad_clip=1.0)
        state = train_fit(net, windows, train_cfg, callbacks=self.callbacks,
                          stop_event=self.stop_event)
        if state.status == "failed":
            raise TrainingError(f"Training the neural forecaster failed: {state.error}")
        self.net_ = net.eval()
        self.train_state_ = state
        self.ids_ = data.ids
        self.last_ds_ = data.last_ds
        self.freq_ = data.freq
        self.season_length_ = m
        self.n_obs_ = np.array([len(v) for v in data.values])
        self.notes_: dict[str, str] = {}
        self.horizon_ = horizon
        self.input_size_ = input_size
        self.quantiles_ = quantiles
        self.context_ = np.stack([v[-input_size:] for v in data.values]).astype(np.float32)  # S, L
        self.nonnegative_ = np.array([bool((v >= 0).all()) for v in data.values])          # S
        return self

    # -- predict ----------------------------------------------------------------------------
    def _predict_arrays(self, h: int, levels: Sequence[float]):
        """mean (S, h); lo, hi (S, len(levels), h) — `Forecaster.predict` makes the table."""
        pairs = interval_quantiles(levels)
        if self.head == "quantile":
            lowest, highest = self.quantiles_[0], self.quantiles_[-1]
            for level, (a, b) in zip(levels, pairs):
                if a < lowest - 1e-9 or b > highest + 1e-9:
                    trained = tuple(check_levels(self.levels))
                    raise GenlibError(
                        f"This neural forecaster learned intervals up to {max(trained, default=0):g}% "
                        f"only; a {level:g}% interval needs quantiles it did not learn. Fit it with "
                        f"levels={tuple(sorted(set(trained) | {float(level)}))}, or use "
                        "head='gaussian', which gives any level.")
        mean, spread = self._forecast(h)               # (S, h), (S, h, K)
        S = mean.shape[0]
        floor = np.where(self.nonnegative_, 0.0, -np.inf)         # (S,): 0 for series never < 0
        lo, hi = np.empty((S, len(levels), h)), np.empty((S, len(levels), h))
        for j, (a, b) in enumerate(pairs):
            if self.head == "gaussian":
                z = NormalDist().inv_cdf(b)
                lo[:, j], hi[:, j] = mean - z * spread[..., 0], mean + z * spread[..., 0]
            else:
                q = mean[..., None] + spread
                lo[:, j] = interpolate_quantiles(q, self.quantiles_, a)
                hi[:, j] = interpolate_quantiles(q, self.quantiles_, b)
        f2, f3 = floor[:, None], floor[:, None, None]
        return np.maximum(mean, f2), np.maximum(lo, f3), np.maximum(hi, f3)

    def _forecast(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean (S, h) and spread (S, h, K): quantile offsets from the median, or sigma (K = 1).

        Beyond the trained horizon the mean is fed back as input, block by block; a later block's
        spread is the quadrature sum of its own and the spread at the end of the block before.
        """
        net, H, L = self.net_, self.horizon_, self.input_size_
        context = torch.from_numpy(self.context_).to(net.device)
        means, spreads, carry, done = [], [], None, 0
        while done < h:
            parts = [net.forecast(c) for c in torch.split(context, PREDICT_BATCH)]
            f = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
            mean = f["mean"]
            if "quantiles" in f:
                spread = f["quantiles"] - mean.unsqueeze(-1)
            else:
                spread = f["sigma"].unsqueeze(-1)
            if carry is not None:
                spread = torch.sign(spread) * torch.sqrt(spread ** 2 + carry.unsqueeze(1) ** 2)
            carry = spread[:, -1]
            means.append(mean.double().cpu().numpy())
            spreads.append(spread.double().cpu().numpy())
            done += H
            context = torch.cat([context, mean], dim=1)[:, -L:]
        return np.concatenate(means, axis=1)[:, :h], np.concatenate(spreads, axis=1)[:, :h]


def auto_steps(n_windows: int, batch_size: int, most: int = 2000, epochs: int = 30) -> int:
    """Training steps when none are given: `epochs` passes over the windows, within [500, most].

    >>> auto_steps(200_000, 512), auto_steps(400, 512)
    (2000, 500)
    """
    return int(min(max(epochs * n_windows // max(min(batch_size, n_windows), 1), 500), most))


def gru_patch(input_size: int, m: int) -> int:
    """GRU chunk length: one season when the window holds 3 to GRU_MAX_STEPS of them (a day of
    hourly data per step), else the window cut into GRU_MAX_STEPS chunks.

    >>> gru_patch(168, 24), gru_patch(65, 52), gru_patch(10, 1)
    (24, 9, 2)
    """
    if m > 1 and 3 <= math.ceil(input_size / m) <= GRU_MAX_STEPS:
        return m
    return math.ceil(input_size / GRU_MAX_STEPS)


def choose_sizes(ids: Sequence[str], series: Sequence[np.ndarray], h: int | None,
                 input_size: int | None, m: int) -> tuple[int, int]:
    """The trained horizon and the window length, from the hyperparameters and the data.

    >>> choose_sizes(["a"], [np.zeros(200)], None, None, 7)
    (14, 28)
    """
    i_short = int(np.argmin([len(s) for s in series]))
    n = len(series[i_short])
    horizon = check_horizon(h) if h is not None else min(max(2 * m, 8), max(1, n // 4))
    room = n - horizon - MIN_TRAIN_WINDOWS + 1            # longest window the shortest allows
    if room < 2:
        raise DataError(
            f"Series {ids[i_short]!r} has only {n} values: a neural forecaster for a horizon of "
            f"{horizon} needs at least {horizon + MIN_TRAIN_WINDOWS + 1}. Drop the short series "
            "or forecast a shorter horizon.")
    if input_size is None:
        week = 7 * m if m == 24 else 0          # hourly data repeat weekly as well as daily
        return horizon, int(min(max(2 * horizon, 2 * m, week, 16), room))
    if input_size > room:
        raise DataError(
            f"input_size={input_size} is too long for series {ids[i_short]!r} ({n} values, "
            f"horizon {horizon}): use input_size ≤ {room}, or leave it None to fit the data.")
    return horizon, int(input_size)
