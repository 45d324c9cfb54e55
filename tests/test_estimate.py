"""Honest times (genlib.estimate), a steady time left (genlib.train), and the check that tells a
newcomer when samples do not look like the data yet (genlib.sample.likeness)."""
import pytest
import torch

from genlib import estimate
from genlib.data import load_builtin
from genlib.models import MODELS, build_model
from genlib.pipeline import train_settings
from genlib.sample import class_columns, download_name, likeness, make_grid, untile
from genlib.train import TrainConfig, TrainState, fit


def test_measured_speed_is_cached_and_leaves_random_numbers_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = estimate.measure_speed("vae", "quick", (1, 16, 16), 10, device="cpu")
    assert torch.equal(before, torch.get_rng_state())
    assert a.step_seconds > 0 and a.preview_seconds > 0 and a.device == "cpu"
    assert estimate.measure_speed("vae", "quick", (1, 16, 16), 10, device="cpu") is a
    # the form repeats the preset's values: still the same model, so the same measurement
    same = MODELS["vae"].presets["quick"].model
    assert estimate.measure_speed("vae", "quick", (1, 16, 16), 10, device="cpu", overrides=same) is a


def test_a_measurement_taken_while_busy_is_taken_again_when_free():
    busy = estimate.measure_speed("gan", "quick", (1, 8, 8), 0, device="cpu", busy=True)
    assert busy.busy
    free = estimate.measure_speed("gan", "quick", (1, 8, 8), 0, device="cpu")
    assert free is not busy and not free.busy
    assert estimate.measure_speed("gan", "quick", (1, 8, 8), 0, device="cpu", busy=True) is free


def test_bigger_pictures_and_bigger_presets_take_longer():
    small = estimate.measure_speed("gan", "quick", (1, 8, 8), 0, device="cpu")
    big = estimate.measure_speed("gan", "quick", (3, 64, 64), 0, device="cpu")
    assert big.step_seconds > small.step_seconds
    settings = {p: train_settings("vae", p) for p in MODELS["vae"].presets}
    times = estimate.preset_times("vae", (1, 16, 16), 10, settings, chosen="quick", device="cpu")
    assert list(times) == ["quick", "standard", "best"]
    assert times["quick"].high < times["standard"].high < times["best"].high


def test_expected_time_counts_steps_previews_and_sharing():
    s = estimate.Speed(step_seconds=0.1, preview_seconds=2.0, setup_seconds=0.0, device="cpu")
    plain = estimate.expected_time(s, {"steps": 100, "preview_every": 0})
    previews = estimate.expected_time(s, {"steps": 100, "preview_every": 10})
    assert plain.low < 100 * 0.1 + 2 + 1 < plain.high                 # 100 steps + final preview
    assert previews.low - plain.low == pytest.approx(0.8 * 10 * 2.0)  # ten more previews
    shared = estimate.expected_time(s, {"steps": 100}, running=1)
    assert shared.high == pytest.approx(2 * plain.high) and shared.others == 1
    assert estimate.sharing_note(0, 0) is None and "twice" in estimate.sharing_note(1, 0)
    assert "GPU" in estimate.sharing_note(0, 2, is_gpu=True)


def test_a_devices_first_use_counts_only_for_a_training_in_a_fresh_process():
    """A GPU's context and libraries load once per process (seconds): a desktop app's training,
    in the same process, does not pay it again; a hosted server's, in a new worker process, does."""
    speed = estimate.measure_speed("vae", "quick", (1, 16, 16), 10, device="cpu")
    assert speed.start_seconds == estimate.start_device(torch.device("cpu"))
    s = estimate.Speed(step_seconds=0.1, preview_seconds=0.5, setup_seconds=0.2, device="cuda", start_seconds=6.0)
    same = estimate.expected_time(s, {"steps": 100}, is_gpu=True)
    fresh = estimate.expected_time(s, {"steps": 100}, is_gpu=True, fresh_process=True)
    assert fresh.low - same.low == pytest.approx(0.8 * 6.0) and fresh.high - same.high == pytest.approx(1.3 * 6.0)
    settings = {p: train_settings("vae", p) for p in MODELS["vae"].presets}
    plain = estimate.preset_times("vae", (1, 16, 16), 10, settings, chosen="quick", device="cpu")
    worker = estimate.preset_times("vae", (1, 16, 16), 10, settings, chosen="quick", device="cpu", fresh_process=True)
    assert worker["quick"].low >= plain["quick"].low


@pytest.mark.parametrize("low,high,words", [(41, 58, "about 40–60 s"), (5, 8, "about 5–10 s"),
                                             (170, 290, "about 3–5 min"), (3000, 3000, "about 50 min")])
def test_time_words(low, high, words):
    assert estimate.time_words(low, high) == words


def test_the_sidebar_advice_promises_no_numbers():
    text = estimate.device_advice(is_gpu=False)
    assert "minutes" not in text and "hours" not in text and "measures" in text


def test_time_left_is_steady_through_previews():
    """Steps of 0.1 s and a 0.5 s preview every 10 steps: the time left falls smoothly, where a
    moving average of the last steps jumped by a third at every preview."""
    state, elapsed, ema, etas, jumps = TrainState(total_steps=200), 0.0, 0.0, [], []
    for step in range(1, 201):
        dt = 0.1 + (0.5 if step % 10 == 1 and step > 1 else 0.0)   # the preview after step 10, 20, …
        elapsed += dt
        ema = dt if step == 1 else 0.9 * ema + 0.1 * dt
        state.step, state.session_seconds, state.step_time = step, elapsed, ema
        etas.append(state.eta_seconds)
        jumps.append((200 - step) * ema)
    steady = [b / a for a, b in zip(etas[50:150], etas[51:151])]
    jumpy = [b / a for a, b in zip(jumps[50:150], jumps[51:151])]
    assert max(steady) < 1.08                          # a preview nudges it, shown rounded
    assert max(jumpy) > 1.3                            # what people saw: 40 → 49 → 55 s


def test_eta_uses_the_session_pace():
    state = TrainState(total_steps=100, step=50, session_start_step=40, session_seconds=5.0,
                       step_time=0.01)
    assert state.eta_seconds == pytest.approx(50 * 0.5)
    assert TrainState(total_steps=100, step=1, step_time=0.2).eta_seconds == pytest.approx(99 * 0.2)


def test_likeness_knows_the_data_from_noise_and_blanks():
    data = load_builtin("shapes", n=200)
    x = data.images
    assert likeness(x[:36], x[36:]).looks_like_data
    noise = likeness(torch.rand(36, *data.shape) * 2 - 1, x)
    assert not noise.looks_like_data and "noise" in noise.problems[0]
    blank = likeness(torch.zeros(36, *data.shape), x)
    assert not blank.looks_like_data and any("blank" in p for p in blank.problems)


def test_an_untrained_gan_is_flagged_and_a_trained_vae_is_not():
    data = load_builtin("digits", n=256)
    torch.manual_seed(0)
    gan = build_model("gan", data.shape, data.num_classes, base_channels=8)
    assert not likeness(untile(make_grid(gan.sample(36, seed=0)), data.shape), data.images).looks_like_data
    vae = build_model("vae", data.shape, data.num_classes, base_channels=16, latent_dim=8)
    fit(vae, data, TrainConfig(steps=300, batch_size=64, lr=2e-3, device="cpu"))
    seen = likeness(untile(make_grid(vae.sample(36, seed=0)), data.shape), data.images)
    assert seen.looks_like_data, seen


def test_untile_gives_back_the_pictures_of_a_grid():
    x = torch.rand(10, 3, 8, 8) * 2 - 1
    back = untile(make_grid(x), (3, 8, 8))
    assert back.shape == x.shape and (back - x).abs().max() < 0.01


def test_grid_columns_hold_one_class_and_files_say_what_they_hold():
    for n, k in [(36, 3), (36, 10), (100, 10), (7, 3)]:
        nrow = class_columns(n, k)
        assert nrow % k == 0 or nrow == n
    assert download_name("GAN on shapes, 1 Dec 14:05", 36, 7, "zip") == \
        "gan-on-shapes-1-dec-14-05-36-samples-seed7.zip"


def test_the_score_at_the_end_costs_more_for_more_pictures_and_less_once_its_network_is_cached():
    few = estimate.measure_scoring((1, 16, 16), 300, 10, device="cpu")
    many = estimate.measure_scoring((1, 16, 16), 20_000, 10, device="cpu")
    cached = estimate.measure_scoring((1, 16, 16), 300, 10, device="cpu", cached=True)
    assert 0 < cached < few < many
    colour = estimate.measure_scoring((3, 32, 32), 20_000, 0, device="cpu", cached=True)
    assert colour > estimate.measure_scoring((1, 16, 16), 20_000, 0, device="cpu", cached=True)


@pytest.mark.scoring
def test_expected_times_include_the_score_at_the_end_unless_it_is_off(monkeypatch):
    settings = {p: train_settings("gan", p) for p in MODELS["gan"].presets}
    plain = estimate.preset_times("gan", (1, 16, 16), 10, settings, chosen="quick", device="cpu")
    scored = estimate.preset_times("gan", (1, 16, 16), 10, settings, chosen="quick", device="cpu",
                                   count=1_797)
    assert scored["quick"].low > plain["quick"].low
    too_few = estimate.preset_times("gan", (1, 16, 16), 10, settings, chosen="quick", device="cpu", count=50)
    assert too_few["quick"] == plain["quick"]                  # under 100 pictures nothing is scored
    monkeypatch.setenv("GENLIB_SCORE", "0")
    off = estimate.preset_times("gan", (1, 16, 16), 10, settings, chosen="quick", device="cpu", count=1_797)
    assert off["quick"] == plain["quick"]


def test_a_pixel_by_pixel_sampler_is_scored_on_fewer_samples():
    from genlib.scorecard import COMPACT_N, COMPACT_N_SLOW, compact_n
    assert compact_n(build_model("pixelcnn", (1, 8, 8), 0, channels=8, layers=2)) == COMPACT_N_SLOW < COMPACT_N
    assert compact_n(build_model("gan", (1, 16, 16), 0, base_channels=8)) == COMPACT_N
