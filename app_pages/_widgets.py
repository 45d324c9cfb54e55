"""Widgets every page shares: job progress and its live redraw, the health card, the settings
form built from declared settings, and the sidebar. They draw; they decide nothing."""
from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from genlib import estimate
from genlib.data.words import picture_words
from genlib.errors import GenlibError
from genlib.freq import freq_words
from genlib.jobs import ACTIVE, Job
from genlib.settings import describe, hosted_mode
from genlib.trainconfig import FILE_NAME, commands, export_training, to_json
from app_pages import _shared as S


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min" if seconds < 5400 \
        else f"{seconds / 3600:.1f} h"


def stopping(snap) -> bool:
    """Asked to stop and still saving: the page says so instead of offering Stop again."""
    return snap.status == "running" and bool(getattr(snap, "stop_reason", ""))


def scoring(snap) -> bool:
    """A training that ended and is now measuring its quality (genlib.scorecard's last phase)."""
    return snap.message.startswith("Scoring")


def time_left(snap) -> str | None:
    """Time left in words: the loop's steady estimate once a few steps have run, before that the
    estimate the Train page measured when the training was started."""
    first = snap.meta.get("start_step", 0) if isinstance(snap.meta, dict) else 0
    if snap.total and snap.step - first >= max(10, (snap.total - first) // 50) and snap.eta_seconds:
        return estimate.eta_words(snap.eta_seconds)
    expected = st.session_state.get("train_expected", {}).get(snap.id)
    return f"{expected} in all (measured before it started)" if expected else None


def job_status(snap, *, compact: bool = False) -> None:
    """Progress, status and the job's message in words."""
    if snap.status == "queued":
        st.info(snap.message, icon=":material/hourglass_top:")
    elif snap.status == "running" and snap.kind == "train" and scoring(snap):
        st.info(f"Trained {snap.step:,} steps, saved. {snap.message} (a quick measure of its "
                "quality, usually under half a minute)", icon=":material/speed:")
    elif stopping(snap):
        st.info("Stopping… saving the model so far (a few seconds).", icon=":material/hourglass_top:")
    elif snap.status == "running" and snap.step == 0 and snap.kind == "train":
        st.info("Preparing… building the model and reading your pictures; the progress bar starts "
                "with the first steps.", icon=":material/hourglass_top:")
    elif snap.status == "running":
        text = f"step {snap.step:,} of {snap.total:,}" if snap.total and snap.kind != "evaluate" \
            else snap.message
        left = time_left(snap) if snap.kind == "train" else (
            f"about {minutes(snap.eta_seconds)} left" if snap.eta_seconds else None)
        st.progress(snap.fraction, text=text + (f" · {left}" if left else ""))
    elif snap.status == "finished" and (not snap.step or snap.kind == "evaluate"):   # no steps
        st.success("Finished" + ("" if compact else f" in {minutes(snap.elapsed)}."),
                   icon=":material/check_circle:")
    elif snap.status == "finished":
        st.success(f"Finished after {snap.step:,} steps" + ("" if compact else
                   f" in {minutes(snap.elapsed)}{_in_all(snap)} on {snap.device}."),
                   icon=":material/check_circle:")
    elif snap.status == "stopped":
        if getattr(snap, "stop_reason", "user") in ("time_limit", "abandoned"):
            st.warning(snap.message, icon=":material/stop_circle:")      # the server stopped it: why
        elif snap.kind == "evaluate":
            st.warning("Stopped" + ("" if compact else ": nothing was measured or saved."),
                       icon=":material/stop_circle:")
        else:
            why = (": the model so far is saved and can be resumed." if snap.kind == "train" else
                   ": the forecast below uses the network as trained so far.")
            st.warning(f"Stopped at step {snap.step:,}" + ("" if compact else why),
                       icon=":material/stop_circle:")
    else:
        st.error(snap.error or "Failed.", icon=":material/error:")


def _in_all(snap) -> str:
    """ " (12 min in all, with the earlier training)" for a resumed training, else ""."""
    if snap.kind != "train" or not snap.run_dir:
        return ""
    try:
        from genlib.runs import read_card
        total = float(read_card(snap.run_dir).get("duration_seconds") or 0)
    except Exception:  # noqa: BLE001 — a missing or damaged card only loses this remark
        return ""
    return f" ({minutes(total)} in all, with the earlier training)" if total > snap.elapsed + 2 else ""


def job_header(job: Job, stop_key: str):
    """A running or finished job's title, status and (while it runs) Stop button; its snapshot."""
    snap = job.snapshot()
    st.subheader(snap.title)
    job_status(snap)
    if snap.active and not stopping(snap):
        st.button("Stop", on_click=job.stop, key=stop_key, icon=":material/stop_circle:")
    return snap


def live(body, kind: str | None = None, every: float | None = None) -> None:
    """Draw `body(job)` in a fragment that redraws every `every` seconds while the job runs;
    when it ends, the whole page reruns once so buttons and results appear.

    Each redraw is Python work that competes with the jobs for the interpreter: on a shared server
    pages redraw less often (every 2 s while a job runs, every 5 s while it waits in line)."""
    current = S.job(kind)
    active = current is not None and current.status in ACTIVE
    if every is None:
        every = (5.0 if current is not None and current.status == "queued" else 2.0) \
            if hosted_mode() else 1.0

    def fragment():
        S.seen()
        body(current)
        if active and current.status not in ACTIVE:
            st.rerun()

    fragment.__qualname__ = f"live_{getattr(body, '__name__', 'body')}"
    st.fragment(fragment, run_every=every if active else None)()


# ---- widgets ------------------------------------------------------------------------------
def health_card(report) -> None:
    """A loader's HealthReport as a readable card: used, skipped (why), repaired, notes."""
    with st.container(border=True):
        noun = "images" if report.kind == "images" else "series"
        st.markdown(f"**Health report** — used **{report.used:,}** {noun}")
        if report.skipped:
            with st.expander(f"Skipped {len(report.skipped):,} (and why)"):
                st.dataframe([{"item": i, "reason": r} for i, r in report.skipped],
                             hide_index=True, width="stretch")
        for fix in report.repairs:
            st.markdown(f":material/build: Repaired: {fix}")
        for note in report.warnings:
            st.markdown(f":material/info: {note}")
        facts = {k: v for k, v in report.facts.items() if v not in (None, "", [], {})}
        if facts:
            st.caption(" · ".join(f"{k.replace('_', ' ')}: {_fact(v)}" for k, v in facts.items()))


def _fact(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in list(value.items())[:12])
    if isinstance(value, (list, tuple)):
        return "×".join(map(str, value)) if all(isinstance(v, int) for v in value) else ", ".join(map(str, value))
    return str(value)


def config_form(cls, defaults: dict, key: str, skip: tuple = ()) -> dict:
    """One widget per declared setting of a config dataclass (genlib.settings: label, help,
    limits — the hosted ones on a shared server); returns {field: value}. `defaults` override the
    dataclass defaults (a preset's values); settings without a number, flag or text keep theirs."""
    hosted = hosted_mode()
    field_defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    values = {}
    shown = [s for name, s in describe(cls).items() if name not in skip]
    cols = st.columns(3)
    for i, s in enumerate(shown):
        default, k = defaults.get(s.name, field_defaults[s.name]), f"{key}-{s.name}"
        top = s.limit(hosted)
        with cols[i % 3]:
            if isinstance(default, bool):
                value = st.checkbox(s.label, default, key=k, help=s.help)
            elif s.choices:
                value = st.selectbox(s.label, list(s.choices), list(s.choices).index(default)
                                     if default in s.choices else 0, key=k, help=s.help)
            elif isinstance(default, int):
                lo, hi = _bound(s.min, int), _bound(top, int)
                value = int(st.number_input(s.label, lo, hi, _clamp(default, lo, hi), step=1, key=k,
                                            help=s.help))
            elif isinstance(default, float):
                lo, hi = _bound(s.min, float), _bound(top, float)
                value = float(st.number_input(s.label, lo, hi, float(_clamp(default, lo, hi)), key=k,
                                              format="%g", help=s.help))
            elif isinstance(default, str):
                value = st.text_input(s.label, default, key=k, help=s.help)
            else:
                continue                        # tuples / None: keep the preset's value
        values[s.name] = value
    return values


def run_elsewhere(data, source: dict | None, family: str, preset: str, overrides: dict,
                  settings: dict) -> None:
    """"Run this on another machine": the training file of exactly these settings (the dicts the
    page passes to the training job) and the commands that train from it."""
    upload = (source or {}).get("kind") == "upload"
    name = (source or {}).get("name") or data.name
    with st.expander("Run this on another machine", icon=":material/terminal:"):
        try:
            config = export_training(family, preset, name, data.shape, overrides=overrides,
                                     settings=settings)
        except GenlibError as exc:
            st.warning(f"These settings cannot be written down yet: {exc}")
            return
        st.download_button(f"Download {FILE_NAME}", to_json(config), file_name=FILE_NAME,
                           mime="application/json", key="export-config",
                           icon=":material/download:")
        if upload:
            st.markdown(f"The file names your pictures by their file, **{name}**: copy that file "
                        f"into the same folder as {FILE_NAME} on the other machine.")
        one, many = commands()
        st.markdown(f"With genlib installed there, train in the folder that holds {FILE_NAME}:")
        st.code(one, language="bash")
        st.markdown("To train on every GPU of a machine, set the number after --nproc_per_node to "
                    "its GPU count; pictures per step is split across them.")
        st.code(many, language="bash")


def _bound(value, kind):
    return None if value is None else kind(value)


def _clamp(value, lo, hi):
    return min(max(value, lo if lo is not None else value), hi if hi is not None else value)


# ---- quality (genlib.scorecard) ------------------------------------------------------------
NEAREST_CAPTION = ("Each of your model's pictures above the training picture most like it: "
                   "near-copies would look the same.")
# seconds to score 2,000 samples of a quick-preset run on the digits with 2 and 1 processor cores
# (measured; a PixelCNN draws a picture pixel by pixel), for a run without a measure of its own;
# the feature network trains once per data set on top
SCORE_SECONDS = {"gan": (3, 7), "vae": (14, 18), "pixelcnn": (160, 300)}


def scores_of(run_dir) -> dict | None:
    """A run's saved scores, or None (never measured, or a damaged file: measure again)."""
    from genlib import scorecard
    return scorecard.saved_scores(run_dir)


def measure_time(run, scores: dict | None, n: int) -> str:
    """How long measuring `n` samples of `run` should take, in words: its last measure's own
    timings, drawing and reading the samples scaled by n (the comparison with the real pictures
    and the likelihood do not grow with n; the feature network is kept from then), else genlib's
    measured range for its family."""
    timings = (scores or {}).get("timings")
    if isinstance(timings, dict) and isinstance(scores.get("n"), int) and scores["n"] > 0:
        scaled = sum(float(timings.get(k, 0)) for k in ("sampling", "features"))
        fixed = sum(float(timings.get(k, 0)) for k in ("metrics", "likelihood"))
        return f"about {minutes(fixed + scaled * n / scores['n'] + 1)} (from its last measure)"
    low, high = SCORE_SECONDS.get(run.family, (10, 300))
    return (f"about {minutes(low)} to {minutes(high)} on a 2-core processor for a quick model (less "
            "on a GPU, more for a larger one), plus 10–15 s the first time for these pictures, to "
            "train the small network that compares them")


def measure_button(run, key: str, scores: dict | None, n: int = S.SCORE_N) -> None:
    """The "Measure quality" button of one of the visitor's own runs, then its job's live view."""
    running = S.job("evaluate")
    busy = running is not None and running.snapshot().active
    label = f"Measure again ({n:,} samples)" if scores else f"Measure quality ({n:,} samples)"
    if st.button(label, key=f"measure-{key}", disabled=busy, icon=":material/speed:",
                 help=f"Draws {n:,} pictures and compares them with the pictures it learned from: "
                      f"{measure_time(run, scores, n)}. It runs in the background.") \
            and S.measure_quality(run, n) is not None:
        st.rerun()                                        # the button greys out while it runs
    path = str(run.dir)

    def measuring(job):
        if job is None or job.snapshot().meta.get("run_dir") != path:
            return
        snap = job.snapshot()
        if snap.active:
            job_header(job, f"stop-measure-{key}")
        elif snap.status == "failed":
            st.error(snap.error or "Measuring failed: try again.", icon=":material/error:")
        elif snap.status == "stopped":
            st.caption("Measuring was stopped before the end: nothing was saved. Measure again when "
                       "you like.")

    live(measuring, "evaluate")


def quality(run, key: str, own: bool) -> None:
    """A run's "Quality" section: the verdict, the scores in words, when and on how many pictures
    they were measured, the nearest-copy strip; for one's own runs a button to measure (again)."""
    from genlib import scorecard
    scores = scores_of(run.dir)
    st.markdown("#### Quality")
    if scores is None:
        st.caption("Not measured yet: measuring draws pictures from the model and compares them "
                   "with the pictures it learned from, to say how close they come and whether it "
                   "copies them." if own else "Not measured yet.")
    else:
        st.markdown(f"**{scorecard.verdict(scores)}**")
        st.caption(measured_words(scores))
        if scorecard.stale(scores, run.dir):
            st.info(f"These scores are from an earlier point: measured after {scores['steps']:,} "
                    f"steps, and it has trained to {int(run.card.get('steps') or 0):,} steps since."
                    + (" Measure again to see where it stands now." if own else ""),
                    icon=":material/history:")
        st.dataframe(rows_table(scorecard.card_rows(scores)), hide_index=True, width="stretch",
                     key=f"scores-{key}")
        strip = scorecard.nearest_strip(run.dir) if own else None
        if strip:
            st.image(strip, caption=NEAREST_CAPTION, width="stretch")
        if scores.get("held_out"):
            with st.expander("How it was measured"):
                st.markdown(scores["held_out"])
    if own:
        measure_button(run, key, scores)


def measured_words(scores: dict) -> str:
    """ "Measured on 2,000 of its pictures after 1,200 steps, in 14 s." """
    n, steps, took = scores.get("n"), scores.get("steps"), scores.get("seconds")
    return ("Measured on " + (f"{n:,} of its pictures" if isinstance(n, int) else "its pictures")
            + (f" after {steps:,} steps" if isinstance(steps, int) else "")
            + (f", in {minutes(took)}" if isinstance(took, (int, float)) else "") + "."
            + (" A quick measure made at the end of training: 2,000 pictures give steadier "
               "numbers." if scores.get("compact") else ""))


def rows_table(rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["What", "Score", "What it means"])


def quality_compare(named: dict) -> None:
    """Two runs' saved scores side by side ({label: run}), and whether the numbers can be compared."""
    from genlib import scorecard
    scores = {label: scores_of(run.dir) for label, run in named.items()}
    missing = [label for label, s in scores.items() if s is None]
    if missing:
        st.info(f"Not measured yet: {' and '.join(f'“{m}”' for m in missing)}. Choose it in the "
                "“One run” tab and press “Measure quality” to compare.", icon=":material/speed:")
    if len(missing) == len(scores):
        return
    table: dict[str, dict] = {}                     # the longer card's row order first
    for label, s in sorted(scores.items(), key=lambda kv: -len(scorecard.card_rows(kv[1] or {}))):
        for what, value, _ in (scorecard.card_rows(s) if s else []):
            table.setdefault(what, {})[label] = value
    frame = pd.DataFrame.from_dict(table, orient="index", columns=list(named)).fillna("—")
    st.dataframe(frame.rename_axis("What"), width="stretch", key="scores-compare")
    if not missing:
        st.markdown(compare_words(named, scores))


def compare_words(named: dict, scores: dict) -> str:
    """Which of two measured runs comes closer to the real pictures, or why that cannot be said."""
    (a, run_a), (b, run_b) = named.items()
    sa, sb = scores[a], scores[b]
    data_a, data_b = (run.card.get("data") or {} for run in (run_a, run_b))
    same_data = (data_a.get("fingerprint") == data_b.get("fingerprint") if data_a.get("fingerprint")
                 and data_b.get("fingerprint") else data_a.get("name") == data_b.get("name"))
    if not same_data:
        return ("These two learned different pictures, so their numbers cannot be compared: each "
                "is measured against its own pictures. Compare their samples instead.")
    if sa.get("extractor") != sb.get("extractor"):
        return ("These two were measured with different networks for comparing pictures, so their "
                "numbers cannot be compared: press “Measure again” on both (in the “One run” tab).")
    fa, fb = sa.get("fid"), sb.get("fid")
    if not isinstance(fa, (int, float)) or not isinstance(fb, (int, float)):
        return "These scores do not say which comes closer to the real pictures: measure both again."
    near, far = (a, b) if fa <= fb else (b, a)
    words = (f"“{near}” comes closer to the real pictures than “{far}” (distance "
             f"{min(fa, fb):.1f} against {max(fa, fb):.1f}; lower is closer), measured the same way "
             "on the same pictures.")
    if isinstance(sa.get("n"), int) and isinstance(sb.get("n"), int) and sa["n"] != sb["n"]:
        words += (f" They were measured on different numbers of pictures ({sa.get('n'):,} and "
                  f"{sb.get('n'):,}), which moves these numbers a little: measure both with "
                  f"{S.SCORE_N:,} for a fair comparison.")
    return words


def score_line(run_dir) -> None:
    """Under a finished training: its quick score and verdict (when one was saved), and a way to
    the Runs page for the whole card."""
    from pathlib import Path

    from genlib import scorecard
    scores = scores_of(run_dir)
    if scores is None:                  # scoring off (GENLIB_SCORE=0) or failed: nothing to say
        return
    st.markdown(f"**{scorecard.verdict(scores)}**  \n{scorecard.compact_words(scores)}")
    if st.button("See its quality in full (Runs page)", key="to-quality", icon=":material/speed:"):
        st.session_state["runs_open"] = Path(run_dir).name
        st.switch_page(S.PAGES["runs"])


def copying(run, key: str) -> None:
    """ "Is it copying your pictures?" for one of the visitor's own runs: the share of near-copies
    in words and the nearest-copy strip, or a button to measure."""
    from genlib import scorecard
    scores = scores_of(run.dir)
    if scores is None:
        st.caption("Not measured yet: measuring compares its pictures with the ones it learned "
                   "from and shows the closest pairs.")
        measure_button(run, key, None)
        return
    st.markdown(copy_words(scores))
    strip = scorecard.nearest_strip(run.dir)
    if strip:
        st.image(strip, caption=NEAREST_CAPTION, width="stretch")
    st.caption(measured_words(scores) + " The full scores are on the Runs page.")


def copy_words(scores: dict) -> str:
    """The share of near-copies among the samples scored, in a sentence."""
    share, n = scores.get("copies"), scores.get("n")
    if not isinstance(share, (int, float)) or not isinstance(n, int):
        return "This measure does not say how many pictures are near-copies: measure it again."
    count = round(share * n)
    real = scores.get("copies_real")
    also = (f" For comparison, {real:.1%} of new real pictures it never saw would count as near-copies "
            "by the same rule (nearly identical to a training picture, in outline and pixel by pixel)."
            if isinstance(real, (int, float)) else "")
    if count == 0:
        return f"None of the {n:,} pictures it drew is a near-copy of one of your training pictures.{also}"
    return (f"**{share:.1%}** of the {n:,} pictures it drew (about {count:,}) are near-copies of "
            f"one of your training pictures.{also}")


# ---- the sidebar --------------------------------------------------------------------------
def sidebar(slot=None) -> None:
    """Device, loaded data and the running job with a Stop button; on every page."""
    with slot or st.sidebar:
        dev = S.device()
        st.markdown(f"**Device** · {dev.summary()}")
        st.caption(estimate.device_advice(dev.is_gpu))
        img, ser = S.images(), S.series()
        if img is not None:
            c, h, _ = img.shape
            st.markdown(f"**Images** · {img.name}: {len(img):,} pictures, {picture_words(h, c)}")
        if ser is not None:
            every = freq_words(ser.freq) if isinstance(ser.freq, str) else "no dates"
            st.markdown(f"**Series** · {ser.name}: {ser.df['unique_id'].nunique():,} series, {every}")
        if img is None and ser is None:
            st.caption("No data loaded yet.")
        live(_sidebar_job, every=10.0 if hosted_mode() else None)   # the page itself shows progress


def _sidebar_job(current) -> None:
    if current is None:
        return
    snap = current.snapshot()
    st.markdown(f"**Job** · {snap.title}")
    job_status(snap, compact=True)
    if snap.active and not stopping(snap):
        st.button("Stop", key="sidebar-stop", on_click=current.stop, icon=":material/stop_circle:")
