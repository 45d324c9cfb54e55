"""How long a training will take on this machine, on this data: measured, not promised.

    from genlib import estimate
    speed = estimate.measure_speed("gan", "quick", (3, 32, 32), num_classes=3)   # a few real steps
    guess = estimate.expected_time(speed, {"steps": 800, "preview_every": 40, "preview_n": 36})
    guess.words()                      # "about 40–60 s"
    estimate.eta_words(47.3)           # "about 45 s left"

A training of pictures ends with a compact quality score (genlib.scorecard): `measure_scoring`
times its parts for this data's size and count (the feature network's training steps, unless it
is cached; its pass over every picture; the metrics on features of that many pictures), so the
time shown includes it.

`measure_speed` builds the preset's model for the data's shape, times a few real training steps and
one preview draw on the device training will use, and keeps the result per (family, preset,
shape, classes, device, settings) for the life of the process: the first look costs a second or
two, the next ones nothing. A measurement taken while other jobs ran is taken again once the
machine is free. `expected_time` turns a speed and the training settings (steps, previews,
checkpoints) into a range, widened when other jobs share the processor. Pages only display it.

What a process pays once for a device (a GPU's context, its cuBLAS and cuDNN libraries: seconds on
a GPU) is paid before the timing starts and kept apart (`Speed.start_seconds`): a training in the
same process, as on a desktop, does not pay it again; one in a fresh worker process, as on a hosted
server, does (`expected_time(…, fresh_process=True)`).
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time

import torch

from . import graphstep
from .device import model_threads, resolve_device
from .models import build_model, get_preset, make_config
from .models.base import adam

__all__ = ["Speed", "Expected", "measure_speed", "measure_scoring", "expected_time", "time_words",
           "eta_words", "sharing_note", "device_advice"]

_CACHE: dict[tuple, "Speed"] = {}
_LOCK = threading.Lock()
PROBE_BATCH_CPU = 16          # a large model on a processor is timed on 4 and 16 pictures, then scaled
SMALL_SIDE = 8                # pixel-by-pixel samplers are timed on 8×8 pictures, then scaled
SAMPLER_GROWTH = 1.2          # … by (pixels / 64) ** this (PixelCNN on a CPU: 8×8 → 32×32 ≈ 16–21×)


@dataclasses.dataclass(frozen=True)
class Speed:
    """What one measurement found: seconds per training step and per preview draw."""

    step_seconds: float                # one training step of the preset's batch
    preview_seconds: float             # one preview of `preview_n` pictures
    setup_seconds: float               # building the model and moving the data (once per run)
    device: str                        # "cpu", "cuda", …
    busy: bool = False                 # other jobs were running while it was measured
    fast_sampling: bool = True         # one network pass per picture (False: pixel by pixel)
    start_seconds: float = 0.0         # the device's first use in a process (a fresh worker pays it)


@dataclasses.dataclass(frozen=True)
class Expected:
    """A training's expected wall-clock time as a range, and whether others share the machine."""

    low: float                         # seconds
    high: float                        # seconds
    others: int = 0                    # other jobs running (or waiting) beside it

    def words(self) -> str:
        """ "about 40–60 s", "about 3–5 min" or "about 1–2 h". """
        return time_words(self.low, self.high)


def _key(family, preset, image_shape, num_classes, device, overrides, batch_size) -> tuple:
    """The model as it will be built (the preset's settings plus `overrides`, whatever repeats the
    defaults), the data's shape, the device and the batch: what the speed depends on."""
    config = dataclasses.asdict(make_config(family, **{**get_preset(family, preset).model,
                                                       **(overrides or {})}))
    return (family, tuple(int(v) for v in image_shape), int(num_classes or 0), str(device),
            tuple(sorted((k, str(v)) for k, v in config.items())), int(batch_size))


def measure_speed(family: str, preset: str, image_shape, num_classes: int = 0, *,
                  device: str | torch.device = "auto", overrides: dict | None = None,
                  batch_size: int | None = None, preview_n: int | None = None,
                  busy: bool = False) -> Speed:
    """Time a few real training steps of `family`'s `preset` (with model `overrides`) on random
    pictures of `image_shape`, and one preview draw; cached per process (see the module docstring).

    `busy`: other jobs are running now; a measurement taken when the machine was free is kept,
    one taken while it was busy is taken again once it is free.

        >>> measure_speed("vae", "quick", (1, 16, 16), device="cpu").step_seconds > 0
        True
    """
    p = get_preset(family, preset)
    dev = resolve_device(device) if isinstance(device, str) else device
    batch = int(batch_size or p.batch_size)
    n_preview = int(preview_n or p.train.get("preview_n", 36))
    key = _key(family, preset, image_shape, num_classes, dev.type, overrides, batch) + (n_preview,)
    with _LOCK:
        known = _CACHE.get(key)
    if known is not None and (busy or not known.busy):
        return known
    speed = _measure(family, p, tuple(image_shape), int(num_classes or 0), dev, overrides or {}, batch,
                     n_preview, busy)
    with _LOCK:
        _CACHE[key] = speed
    return speed


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


_STARTED: dict[str, float] = {}     # device → seconds its first use took in this process


def start_device(dev: torch.device) -> float:
    """Pay, once per process, what the first training on `dev` pays whatever the model: a GPU's
    context and its libraries (cuBLAS, cuDNN, the optimizer's kernels), loaded by one small
    convolution and product, forward and backward, and one Adam step. Returns the seconds that
    first use took: what a fresh worker process pays again. PyTorch's compiler package, which the
    first optimizer of a process imports (a second or more), is imported first and not counted:
    the job workers' fork server has it already (genlib.jobprocess.PRELOAD)."""
    import torch._dynamo  # noqa: F401 — see the docstring

    key = str(dev)
    with _LOCK:
        if key in _STARTED:
            return _STARTED[key]
        t = time.perf_counter()
        x = torch.linspace(-1, 1, 128, device=dev).reshape(2, 1, 8, 8)     # no random numbers drawn
        w = torch.full((4, 1, 3, 3), 0.1, device=dev, requires_grad=True)
        m = torch.full((256, 2), 0.01, device=dev, requires_grad=True)
        opt = adam([w, m], lr=1e-3)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            y = torch.nn.functional.conv2d(x, w, padding=1).flatten(1) @ m
        y.float().sum().backward()
        opt.step()
        _sync(dev)
        _STARTED[key] = time.perf_counter() - t
        return _STARTED[key]


def _measure(family, p, shape, num_classes, dev, overrides, batch, n_preview, busy) -> Speed:
    settings = {**p.model, **overrides}
    start = start_device(dev)                         # once per process, kept out of `setup`
    with torch.random.fork_rng(devices=[]):          # measuring must not change anyone's random numbers
        torch.manual_seed(0)
        t0 = time.perf_counter()
        model = build_model(family, shape, num_classes, **settings).to(dev)
        model.setup_training(p.lr, 1.0)
        model.train()
        with model_threads(model):                    # the thread count training and sampling use
            small = min(batch, 4) if dev.type == "cpu" else batch
            _time_steps(model, shape, num_classes, dev, small, 1)       # pays for allocations
            setup = time.perf_counter() - t0
            t_small = _time_steps(model, shape, num_classes, dev, small, 3)
            if batch == small or t_small * batch / small < 1.0:        # cheap: time the real batch
                step_seconds = t_small if batch == small else _time_steps(model, shape, num_classes, dev,
                                                                         batch, 3)
            else:   # a large model on a processor: a step costs a fixed part plus a part per picture
                mid = min(batch, PROBE_BATCH_CPU)
                t_mid = _time_steps(model, shape, num_classes, dev, mid, 2)
                per_image = max(0.0, (t_mid - t_small) / (mid - small))
                step_seconds = t_mid + per_image * (batch - mid)
            preview = _time_preview(model, family, settings, shape, num_classes, dev, n_preview)
    return Speed(step_seconds, preview, setup, dev.type, busy, model.capabilities.fast_sampling, start)


def _time_steps(model, shape, num_classes, dev, probe: int, repeats: int) -> float:
    """The median seconds of `repeats` training steps on a random batch of `probe` pictures (on
    CUDA, the mean of replays of the step recorded as a CUDA graph, as training runs it)."""
    x = torch.rand(probe, *shape, device=dev) * 2 - 1
    y = torch.randint(0, num_classes, (probe,), device=dev) if num_classes else None
    batch = (x,) if y is None else (x, y)
    if dev.type == "cuda":
        return _time_replays(model, batch, dev, 5 * repeats)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            model.train_step(*batch)
        _sync(dev)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


class _SameBatch:
    """What `graphstep.Step` reads: data on the device and the rows of each step (always all)."""

    def __init__(self, tensors):
        self.tensors, self.rows = tensors, torch.arange(len(tensors[0]), device=tensors[0].device)

    def indices(self, step: int) -> torch.Tensor:
        return self.rows


def _time_replays(model, batch, dev, n: int) -> float:
    """Seconds per step of `n` steps run as `fit` runs them on a GPU: the first few eager, then
    one recorded CUDA graph replayed (eager steps when the model cannot be recorded)."""
    step = graphstep.Step(model, _SameBatch(batch), amp=True, capture=True)
    for i in range(graphstep.WARMUP + 1):
        step(i)
    _sync(dev)
    t = time.perf_counter()
    for i in range(n):
        step(i)
    _sync(dev)
    return (time.perf_counter() - t) / n


def _time_preview(model, family, settings, shape, num_classes, dev, n) -> float:
    """One preview draw. A pixel-by-pixel sampler is timed on small pictures and scaled: one small
    network pass per pixel, so its cost grows a little faster than the number of pixels."""
    if model.capabilities.fast_sampling:
        t = time.perf_counter()
        model.sample(n, seed=0)
        _sync(dev)
        return time.perf_counter() - t
    small = build_model(family, (shape[0], SMALL_SIDE, SMALL_SIDE), num_classes, **settings).to(dev)
    small.sample(1, seed=0)                           # warm up
    t = time.perf_counter()
    small.sample(n, seed=0)
    _sync(dev)
    return (time.perf_counter() - t) * (shape[1] * shape[2] / SMALL_SIDE ** 2) ** SAMPLER_GROWTH


def measure_scoring(image_shape, count: int, num_classes: int = 0, *, cached: bool = False,
                    device: str | torch.device = "auto", n: int | None = None) -> float:
    """Seconds the quality score at the end of a training adds, apart from drawing its samples:
    training the feature network (`genlib.features`, skipped when `cached`), its pass over `count`
    pictures and `n` samples, and the metrics on features of those sizes; measured here with a few
    real steps on random pictures and a real metrics run on random features, cached per process.

        >>> 0 < measure_scoring((1, 16, 16), 1_797, 10, device="cpu") < 120
        True
    """
    from . import metrics
    from .evaluate import COPY_REFERENCE
    from .features import HELD_OUT, DomainConfig, DomainNet
    from .scorecard import COMPACT_N

    n = int(n or COMPACT_N)
    dev = resolve_device(device) if isinstance(device, str) else device
    key = ("scoring", tuple(int(v) for v in image_shape), int(count), int(num_classes or 0), dev.type,
           bool(cached), n)
    with _LOCK:
        known = _CACHE.get(key)
    if known is not None:
        return known
    config = DomainConfig()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = DomainNet(config, tuple(image_shape), num_classes if num_classes >= 2 else 0).to(dev)
        net.setup_training(config.lr, 1.0)
        x = torch.rand(config.batch_size, *image_shape, device=dev) * 2 - 1
        y = torch.randint(0, max(num_classes, 1), (config.batch_size,), device=dev) if num_classes >= 2 else None
        batch = (x,) if y is None else (x, y)
        train = 0.0
        if not cached:
            net.train_step(*batch)                                        # pays for allocations
            train = _fastest(lambda: net.train_step(*batch), dev) * config.steps
        net.eval()
        t = time.perf_counter()
        with torch.no_grad():
            net.features(x)
        _sync(dev)
        per_picture = (time.perf_counter() - t) / len(x)
        # the metrics: blocks of pairwise distances (features and pixels) and KID's subsets, timed
        # on one block each and counted for the sizes the score meets
        held = max(4, int(count * HELD_OUT))
        train_n = max(2, count - held)
        ref = min(train_n, COPY_REFERENCE)
        pixels = math.prod(int(v) for v in image_shape)
        block = metrics.CHUNK ** 2
        g = torch.Generator().manual_seed(0)
        compare = 0.0
        for dim, pairs in ((config.dim, ref * ref + n * train_n + (held // 2) ** 2 + 2 * n * held + n * n),
                           (pixels, ref * ref + n * train_n)):
            q, r = torch.randn(metrics.CHUNK, dim, generator=g), torch.randn(metrics.CHUNK, dim, generator=g)
            compare += _fastest(lambda: torch.topk(torch.cdist(q, r), 3, dim=1, largest=False), dev) \
                * pairs / block
        m = min(1000, n, held // 2)
        x = torch.randn(m, config.dim, generator=g).double().numpy()
        compare += _fastest(lambda: metrics.kid(x, x, subsets=1, subset_size=m), dev) * 100
    seconds = train + per_picture * (2 * count + n) + compare   # every picture read twice: fit and score
    with _LOCK:
        _CACHE[key] = seconds
    return seconds


def _compact_n(speed: Speed) -> int:
    from .scorecard import COMPACT_N, COMPACT_N_SLOW

    return COMPACT_N if speed.fast_sampling else COMPACT_N_SLOW


def _fastest(fn, dev, repeats: int = 3) -> float:
    """The fastest of `repeats` timed calls: other work on the machine only ever adds time."""
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        _sync(dev)
        best = min(best, time.perf_counter() - t)
    return best


def expected_time(speed: Speed, settings: dict, *, running: int = 0, waiting: int = 0,
                  is_gpu: bool = False, scoring: float = 0.0, fresh_process: bool = False) -> Expected:
    """The wall-clock time of a training with `settings` (steps, preview_every, checkpoint_every;
    as genlib.pipeline.train_settings gives them) at `speed`, as a range.

    `running`: other jobs training now on this machine; on a processor they share its cores, so
    the upper end grows with them (on a GPU jobs take turns, so waiting ones add their time).
    `scoring`: the seconds of the quality score at the end (`measure_scoring`); its samples are
    drawn at the preview's speed. `fresh_process`: the training runs in a new worker process
    (a hosted server's jobs), which pays the device's first use (`Speed.start_seconds`) again.

        >>> s = Speed(step_seconds=0.05, preview_seconds=0.1, setup_seconds=0.5, device="cpu")
        >>> e = expected_time(s, {"steps": 800, "preview_every": 40})
        >>> round(e.low) < 800 * 0.05 < round(e.high)
        True
    """
    steps = int(settings.get("steps", 0) or 0)
    every = int(settings.get("preview_every", 0) or 0)
    previews = (steps // every if every else 0) + 1          # + the final samples
    saves = steps // int(settings["checkpoint_every"]) if settings.get("checkpoint_every") else 0
    total = speed.setup_seconds + steps * speed.step_seconds + previews * speed.preview_seconds \
        + saves * 0.05 + 1.0 + (speed.start_seconds if fresh_process else 0.0)
    if scoring:
        n_preview = max(1, int(settings.get("preview_n", 36) or 36))
        total += scoring + speed.preview_seconds * _compact_n(speed) / n_preview
    low, high = 0.8 * total, 1.3 * total
    others = max(0, int(running)) + (max(0, int(waiting)) if is_gpu else 0)
    if others:
        high *= others + 1                               # the cores (or the GPU's turns) are shared
        low *= 1 + 0.5 * others
    return Expected(low, high, others)


def _round_nice(seconds: float, up: bool) -> float:
    """Round to a unit a person reads: 5 s, then 10 s, then minutes, then quarter hours."""
    step = 5 if seconds < 60 else 10 if seconds < 180 else 60 if seconds < 3600 else 900
    f = math.ceil if up else math.floor
    return max(step if up else 0, f(seconds / step) * step)


def time_words(low: float, high: float) -> str:
    """A range in the unit that fits: "about 40–60 s", "about 3–5 min", "about 2–3 h".

        >>> time_words(41, 58), time_words(170, 290), time_words(5000, 9000)
        ('about 40–60 s', 'about 3–5 min', 'about 1–2.5 h')
    """
    lo, hi = _round_nice(low, up=False), _round_nice(max(high, low), up=True)
    if hi < 90:
        return f"about {lo:.0f}–{hi:.0f} s" if lo < hi else f"about {hi:.0f} s"
    if hi < 5400:
        a, b = max(1, round(lo / 60)), max(1, math.ceil(hi / 60))
        return f"about {a}–{b} min" if a < b else f"about {b} min"
    a, b = round(lo / 1800) / 2, math.ceil(hi / 1800) / 2
    return f"about {a:g}–{b:g} h" if a < b else f"about {b:g} h"


def eta_words(seconds: float | None) -> str | None:
    """Time left, rounded so that it does not flicker: "about 45 s left", "about 4 min left".

        >>> eta_words(47.3), eta_words(200), eta_words(None)
        ('about 50 s left', 'about 3 min left', None)
    """
    if seconds is None or not math.isfinite(seconds):
        return None
    if seconds < 10:
        return "a few seconds left"
    if seconds < 90:
        return f"about {round(seconds / 10) * 10:.0f} s left"
    if seconds < 5400:
        return f"about {round(seconds / 60):.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


def sharing_note(running: int, waiting: int = 0, is_gpu: bool = False) -> str | None:
    """A sentence when other jobs share this machine (genlib.jobs.REGISTRY.load()), else None.

        >>> sharing_note(1)
        'Another training is using this processor now, so yours will be slower than usual (up to about twice as long).'
    """
    if running <= 0 and waiting <= 0:
        return None
    if is_gpu:
        return (f"{running + waiting} other job{'s' if running + waiting > 1 else ''} use or wait for "
                "the GPU: yours waits for its turn, which adds their time.")
    if running == 1:
        return ("Another training is using this processor now, so yours will be slower than usual "
                "(up to about twice as long).")
    return (f"{running} other trainings are using this processor now, so yours will be slower than "
            f"usual (up to about {running + 1} times as long).")


def device_advice(is_gpu: bool) -> str:
    """What the device means for training times, without promising numbers the Train page measures."""
    if is_gpu:
        return ("Training runs on the GPU: every preset is practical. The Train page shows how long "
                "each preset takes here, measured on your pictures.")
    return ("No GPU was found, so training runs on the processor. The Train page measures how long "
            "each preset takes on this machine with your pictures: “quick” is meant for a first "
            "look, “best” for a GPU.")


def preset_times(family: str, image_shape, num_classes: int, settings: dict, *, chosen: str,
                 device: str | torch.device = "auto", overrides: dict | None = None,
                 running: int = 0, waiting: int = 0, count: int | None = None,
                 scored_before: bool = False, fresh_process: bool = False) -> dict[str, Expected]:
    """Expected times of every preset of `family` (`settings`: preset → training settings).

    The quick preset and the `chosen` one are measured here (`measure_speed`, with `overrides`
    for the chosen one); the others are scaled from the quick measurement by the presets'
    reference times, so that showing three labels costs two short measurements, not three long ones.
    With `count` (the number of pictures) every time includes the quality score at the end of the
    training (`measure_scoring`; `scored_before`: this data's feature network is cached), when
    scoring is on (GENLIB_SCORE) and there are enough pictures for it. `fresh_process`: the
    training will run in a new worker process (see `expected_time`).

        >>> from genlib.pipeline import train_settings
        >>> from genlib.models import MODELS
        >>> t = preset_times("vae", (1, 16, 16), 0, {p: train_settings("vae", p) for p in MODELS["vae"].presets},
        ...                  chosen="quick", device="cpu")
        >>> t["quick"].low < t["best"].low
        True
    """
    from .models import get_spec

    from .evaluate import MIN_PICTURES
    from .settings import scoring_on

    dev = resolve_device(device) if isinstance(device, str) else device
    gpu, busy = dev.type != "cpu", running > 0
    presets = get_spec(family).presets
    scoring = measure_scoring(image_shape, count, num_classes, cached=scored_before, device=dev) \
        if count and count >= MIN_PICTURES and scoring_on() else 0.0

    def measured(name, extra=None):
        s = settings[name]
        speed = measure_speed(family, name, image_shape, num_classes, device=dev, overrides=extra,
                              batch_size=s.get("batch_size"), preview_n=s.get("preview_n"), busy=busy)
        return expected_time(speed, s, running=running, waiting=waiting, is_gpu=gpu, scoring=scoring,
                             fresh_process=fresh_process)

    out = {"quick": measured("quick", overrides if chosen == "quick" else None)} if "quick" in presets \
        else {}
    if chosen not in out:
        out[chosen] = measured(chosen, overrides)
    base = "quick" if "quick" in out else chosen
    prior = {n: p.expected_gpu_seconds if gpu else p.expected_cpu_seconds for n, p in presets.items()}
    for name in presets:
        if name not in out and prior[base] > 0:
            k = prior[name] / prior[base]
            e = out[base]
            out[name] = Expected(e.low * k, e.high * k * 1.2, e.others)   # scaled: a wider range
    return {n: out[n] for n in presets if n in out}
