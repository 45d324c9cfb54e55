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

import copy
import math
import time
from statistics import NormalDist
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd
import torch

from genlib.errors import DataError, GenlibError, TrainingError
from genlib.forecast.base import (Capabilities, Forecaster, check_horizon, check_levels,
                                  check_min_length, resolve_season_length, split_series)
from genlib.freq import default_horizon
from genlib.forecast.neural_net import (  # noqa: F401 (the network's names, public here too)
    GRU_MAX_STEPS, HEADS, KINDS, NeuralARNet, NeuralNetConfig, WindowSet, interpolate_quantiles,
    interval_quantiles, levels_to_quantiles, make_windows, pinball_loss, window_scale)

# Per-kind defaults (a GRU step costs about five MLP steps on a CPU): steps=None stops at
# MAX_AUTO_STEPS, batch_size=None means BATCH_SIZE. Both keep M4 Weekly under ~30 s of CPU.
MAX_AUTO_STEPS = {"mlp": 2000, "gru": 1000}
BATCH_SIZE = {"mlp": 512, "gru": 256}
PREDICT_BATCH = 8192           # series forecast per forward pass
MIN_TRAIN_WINDOWS = 3          # a series must give at least this many training windows
GLOBAL_MIN_SERIES = 50         # auto tries a network on panels of at least this many series
PROBE_STEPS = 50               # seconds_per_fit times a short run of this many steps


# ---- the forecaster ----------------------------------------------------------------------------
class NeuralAR(Forecaster):
    """A neural autoregressive forecaster trained on all series at once (scikit-learn style).

    kind: "mlp" (AR-Net style, direct multi-horizon) or "gru".
    h: the horizon the network is trained for; None → genlib.freq.default_horizon: one season
        when it has 12 steps or more, else 2 × season_length (at least 8), shortened to a quarter
        of the shortest series. `predict` with a longer h feeds the forecast back in
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
    log: the network learns logarithms of the series ("auto": of every series above zero, True:
        all, which must be above zero; False: none). Growth and seasonal swings that scale with
        the level become additive, and forecasts of a positive series stay positive: M4 Hourly
        sMAPE / MASE 12.29 / 0.866 without, 10.24 / 0.920 with (MASE weighs the large series,
        whose errors the logarithm shrinks; auto picks per series). The point forecast is then
        the median on the original scale.
    members: networks trained side by side in one batched model, each from its own random
        start, their quantiles averaged (MLP only). M4 Hourly, 1 thread: 1 → 10.24 / 0.920 in
        30 s, 2 → 9.73 / 0.861 in 49 s, 3 → 9.74 / 0.859 in 64 s.
    A series that never went below zero (sales, counts, traffic) gets forecasts and bands
    clipped at zero.
    device: "auto" trains on a GPU when there is one (it runs fine on a CPU); seed fixes the
        weights and the batches: the same seed gives the same forecast.
    `fit(df, callbacks=..., stop_event=...)` hands both to `genlib.train.fit` (progress bars, a
    stop button); they are not hyperparameters. A stopped run keeps the network as it was;
    `train_state_.status` is then "stopped".

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"unique_id": "s", "ds": np.arange(100), "y": np.arange(100.0)})
    >>> NeuralAR(h=5, steps=20, device="cpu").fit(df).predict(5).shape
    (5, 7)
    """

    capabilities: ClassVar[Capabilities] = Capabilities(
        intervals=True, trains_network=True,
        min_length=16, uses_season=True, global_model=True, min_series=GLOBAL_MIN_SERIES)

    def __init__(self, kind: str = "mlp", *, h: int | None = None, input_size: int | None = None,
                 hidden: int = 64, layers: int = 2, head: str = "quantile",
                 levels: Sequence[float] = (80, 95), steps: int | None = None,
                 batch_size: int | None = None, lr: float = 3e-3, decay: bool = True,
                 max_windows: int = 512, log: bool | str = "auto", members: int = 1,
                 device: str = "auto", seed: int = 0,
                 season_length: int | None = None, freq: Any = None):
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
        self.log = log                      # learn log values: True, False, "auto" (series > 0)
        self.members = members              # networks trained side by side, forecasts averaged
        self.device = device                # "auto", "cpu", "cuda", "mps"
        self.seed = seed                    # weights and batches

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
    def fit(self, df: pd.DataFrame, *, callbacks: Sequence[Any] = (), stop_event: Any = None) -> "NeuralAR":
        """Train one network on windows of every series of `df` (unique_id, ds, y); returns self.

        `callbacks` (`genlib.train.Callback`s) follow the training; setting `stop_event` (a
        `threading.Event`) stops it early and keeps the network as it is then.
        """
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
        logged = self._logged(data.values)
        values = [np.log(v) if lg else v for v, lg in zip(data.values, logged)]
        x, y, sid = make_windows(values, input_size, horizon, self.max_windows, self.seed)
        windows = WindowSet(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(sid))
        batch_size = self.batch_size or BATCH_SIZE[self.kind]
        steps = self.steps or auto_steps(len(windows), batch_size, MAX_AUTO_STEPS[self.kind])
        cfg = NeuralNetConfig(kind=self.kind, input_size=input_size, horizon=horizon,
                              hidden=self.hidden, layers=self.layers, head=self.head,
                              quantiles=quantiles, patch=gru_patch(input_size, m),
                              decay_steps=steps if self.decay else 0, members=self.members)
        with torch.random.fork_rng(devices=[]):       # same seed → same weights, globals untouched
            torch.manual_seed(self.seed)
            net = NeuralARNet(cfg)
        train_cfg = TrainConfig(steps=steps, batch_size=batch_size, lr=self.lr,
                                device=self.device, seed=self.seed, amp=False, grad_clip=1.0)
        state = train_fit(net, windows, train_cfg, callbacks=callbacks, stop_event=stop_event)
        if state.status == "failed":
            raise TrainingError(f"Training the neural forecaster failed: {state.error}")
        self.net_ = net.eval()
        self.train_state_ = state
        self._keep_fitted(data, m)
        self.horizon_ = horizon
        self.input_size_ = input_size
        self.quantiles_ = quantiles
        self._keep_context(data.values, input_size)
        return self

    # -- predict ----------------------------------------------------------------------------
    def predict_from(self, df: pd.DataFrame, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        """Forecast h steps after each series of `df` with the network as trained (no refit):
        a backtest trains once and forecasts every later window from its own history."""
        self._check_fitted()
        data = split_series(df, self.freq)
        L = self.input_size_
        short = [(uid, len(v)) for uid, v in zip(data.ids, data.values) if len(v) < L]
        if short:
            uid, n = short[0]
            raise DataError(f"Series {uid!r} has {n} values; this network reads the last {L}. "
                            "Give it more history, or fit the network on these series.")
        other = copy.copy(self)
        other._keep_fitted(data, self.season_length_)
        other._keep_context(data.values, L)
        return other.predict(h, levels)

    def _logged(self, values: Sequence[np.ndarray]) -> np.ndarray:
        """Which series the network sees as logarithms: with log="auto", those above zero."""
        if self.log not in (True, False, "auto"):
            raise GenlibError(f"log must be True, False or 'auto', not {self.log!r}.")
        positive = np.array([bool((v > 0).all()) for v in values])
        if self.log is True and not positive.all():
            raise DataError("log=True needs values above zero in every series; use log='auto' "
                            "(logarithms for the series above zero only) or log=False.")
        return positive if self.log else np.zeros(len(values), dtype=bool)

    def _keep_context(self, values: Sequence[np.ndarray], L: int) -> None:
        """The last L values of each series (as the network sees them) and their floors."""
        self.logged_ = self._logged(values)                                              # S
        self.context_ = np.stack([np.log(v[-L:]) if lg else v[-L:]
                                  for v, lg in zip(values, self.logged_)]).astype(np.float32)  # S, L
        self.nonnegative_ = np.array([bool((v >= 0).all()) for v in values])            # S

    def min_history(self, h: int, season_length: int) -> int:
        """Values a series needs for this network to learn from it without shortening the input
        window of every series (`choose_sizes` fits the window to the shortest series): the
        trained horizon, the default window and MIN_TRAIN_WINDOWS − 1 more. auto leaves shorter
        series to its other candidates.

        >>> NeuralAR(h=18).min_history(18, 12)
        56
        """
        horizon = int(self.h or h)
        window = self.input_size or default_window(horizon, season_length)
        return max(self.capabilities.minimum(season_length),
                   horizon + window + MIN_TRAIN_WINDOWS - 1)

    def seconds_per_fit(self, df: pd.DataFrame, h: int) -> float | None:
        """Projected seconds of fit + predict on `df` (auto's time budget): a short run's cost per
        step, timed from step 10 to its end, times the steps the full fit will take, plus what
        the short run cost besides its steps. (Two short runs of 5 and 25 steps, differenced,
        projected 3.8 s for a 24.7 s fit on M4 Hourly: the first steps warm up.)"""
        data = split_series(df, self.freq)
        m = resolve_season_length(self.season_length, data.freq)
        try:
            check_min_length(self, data.ids, data.values, m)
            horizon, input_size = choose_sizes(data.ids, data.values, self.h, self.input_size, m)
        except GenlibError:
            return None                   # a fit would refuse at once: timing it says so
        span = input_size + horizon
        n_windows = sum(min(max(len(v) - span + 1, 0), self.max_windows) for v in data.values)
        batch = self.batch_size or BATCH_SIZE[self.kind]
        steps = self.steps or auto_steps(n_windows, batch, MAX_AUTO_STEPS[self.kind])
        probe = min(PROBE_STEPS, steps)
        from genlib.train import Callback

        class Clock(Callback):            # the time at every logged step (every 10)
            def on_step(self, state, metrics):
                marks.append((state.step, time.perf_counter()))

        marks: list[tuple[int, float]] = []
        import torch._dynamo  # noqa: F401 — a process's first optimizer imports it (1–5 s): not the network's cost
        t0 = time.perf_counter()
        self.clone(steps=probe).fit(df, callbacks=[Clock()]).predict(h)
        total = time.perf_counter() - t0
        (s0, a), (s1, b) = marks[0], marks[-1]    # from step 10: the first steps warm up
        per_step = (b - a) / (s1 - s0) if s1 > s0 else 0.0
        return max(total - probe * per_step, 0.0) + steps * per_step

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
        lg2, lg3 = self.logged_[:, None], self.logged_[:, None, None]
        with np.errstate(over="ignore"):
            mean, lo, hi = (np.where(lg2, np.exp(mean), mean), np.where(lg3, np.exp(lo), lo),
                            np.where(lg3, np.exp(hi), hi))
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


def default_window(horizon: int, m: int) -> int:
    """The input window when none is given: the longest of 2 × horizon, 2 × season, a week for
    hourly data (they repeat weekly as well as daily) and 16.

    >>> default_window(48, 24), default_window(18, 12)
    (168, 36)
    """
    return max(2 * horizon, 2 * m, 7 * m if m == 24 else 0, 16)


def choose_sizes(ids: Sequence[str], series: Sequence[np.ndarray], h: int | None,
                 input_size: int | None, m: int) -> tuple[int, int]:
    """The trained horizon and the window length, from the hyperparameters and the data.

    >>> choose_sizes(["a"], [np.zeros(200)], None, None, 7)
    (14, 28)
    """
    i_short = int(np.argmin([len(s) for s in series]))
    n = len(series[i_short])
    horizon = check_horizon(h) if h is not None else default_horizon(m, shortest=n)
    room = n - horizon - MIN_TRAIN_WINDOWS + 1            # longest window the shortest allows
    if room < 2:
        raise DataError(
            f"Series {ids[i_short]!r} has only {n} values: a neural forecaster for a horizon of "
            f"{horizon} needs at least {horizon + MIN_TRAIN_WINDOWS + 1}. Drop the short series "
            "or forecast a shorter horizon.")
    if input_size is None:
        return horizon, int(min(default_window(horizon, m), room))
    if input_size > room:
        raise DataError(
            f"input_size={input_size} is too long for series {ids[i_short]!r} ({n} values, "
            f"horizon {horizon}): use input_size ≤ {room}, or leave it None to fit the data.")
    return horizon, int(input_size)
