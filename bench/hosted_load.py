"""Many strangers at once on one hosted server: page times, errors, leaks and server memory.

    python bench/hosted_load.py                 # 1 visitor, then 20 at once
    python bench/hosted_load.py --visitors 8    # a smaller crowd

Starts `streamlit run app.py` with GENLIB_HOSTED=1 (its own data folder, the hosted defaults: one
job at a time on a 2-core machine, each job in a worker process forked from a fork server) and drives real Chromium browser contexts (Debian's
/usr/bin/chromium through Playwright), each a different visitor doing what a visitor does: open
the app, open the Data page, load the sample CO₂ series and forecast it (a job in the shared
queue), then start a quick digit training, see it running or queued, and stop it. Prints, for 1
visitor and for N at once: page times (median and 95th percentile), failed journeys, leaks (a
visitor seeing another's job or run) and the server's peak memory, with the ratio N / 1. Memory
is the proportional set size (PSS) of the server, its fork server and its job workers together,
sampled every half second: pages shared between forked processes count once.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from harness import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

READY = ("() => document.querySelector('[data-testid=\"stApp\"]') && (!document.querySelector("
         "'[data-testid=\"stStatusWidget\"]') || !document.querySelector('[data-testid=\"stStatusWidget\"]')"
         ".innerText.includes('Running'))")


def memory_kib(pid: int) -> int:
    """Memory of a process and all its descendants (the fork server and the jobs' worker
    processes), in KiB: the sum of their proportional set sizes (Linux /proc smaps_rollup), so a
    page shared by forked workers counts once, not once per process."""
    total = 0
    for p in [pid, *_descendants(pid)]:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
    return total


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*") if Path(f"/proc/{p}/task").exists() else []:
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


class Watch(threading.Thread):
    """Samples the server's memory (with its worker processes) every half second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, memory_kib(self.pid))
            time.sleep(0.5)


async def ready(page, timeout=300_000):
    await page.wait_for_function(READY, timeout=timeout)


async def journey(browser, url: str, times: dict, problems: list, index: int) -> None:
    """One visitor, start to end; page times go to `times`, anything wrong to `problems`."""
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(600_000)
    try:
        t = time.perf_counter()
        await page.goto(url)
        await ready(page)
        await page.get_by_text("No data loaded yet.").wait_for()
        times["open the app"].append(time.perf_counter() - t)

        t = time.perf_counter()
        await page.get_by_test_id("stSidebarNav").get_by_text("Data", exact=True).click()
        await page.get_by_role("heading", name="Data").wait_for()
        await ready(page)
        times["open a page"].append(time.perf_counter() - t)

        t = time.perf_counter()
        await page.get_by_test_id("stSidebarNav").get_by_text("Forecast", exact=True).click()
        await page.get_by_role("button", name="Use the sample CO₂ series").click()
        await page.get_by_role("button", name="Forecast").wait_for()
        await ready(page)
        times["load a sample series"].append(time.perf_counter() - t)

        t = time.perf_counter()
        await page.get_by_role("button", name="Forecast").click()
        await page.get_by_text("What auto chose:").wait_for(timeout=900_000)
        times["forecast (queued job)"].append(time.perf_counter() - t)

        t = time.perf_counter()
        await page.get_by_test_id("stSidebarNav").get_by_text("Home", exact=True).click()
        await page.get_by_role("button", name="Train a digit generator").click()
        await page.get_by_role("heading", name="Train a generator").wait_for()
        await page.get_by_text(re.compile(r"step [\d,]+ of [\d,]+|waiting for a free slot")).first.wait_for()
        times["start a quick training"].append(time.perf_counter() - t)
        sidebar = page.get_by_test_id("stSidebar")            # redrawn every 10 s on a hosted server
        await sidebar.get_by_text("GAN on digits").first.wait_for(timeout=60_000)
        side = await sidebar.inner_text()
        if side.count("GAN on digits") != 1:                 # one's own job, and only that
            problems.append(f"visitor {index}: sidebar shows {side!r}")
        await page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
        await page.get_by_text(re.compile(r"Stopped at step|Finished after|stopped")).first.wait_for()

        await page.get_by_test_id("stSidebarNav").get_by_text("Runs", exact=True).click()
        await ready(page)
        main = await page.get_by_test_id("stMain").inner_text()
        if len(set(re.findall(r"\d{4}-\d\d-\d\dT\d{6}-gan-digits(?:-\d+)?", main))) > 1:
            problems.append(f"visitor {index}: sees more than one run on Runs")
    except Exception as exc:  # noqa: BLE001 — a failed journey is a result, not a crash
        problems.append(f"visitor {index}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        await context.close()


async def crowd(url: str, n: int) -> tuple[dict, list, float]:
    from playwright.async_api import async_playwright

    times = {k: [] for k in ("open the app", "open a page", "load a sample series",
                             "forecast (queued job)", "start a quick training")}
    problems: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        start = time.perf_counter()
        await asyncio.gather(*(journey(browser, url, times, problems, i) for i in range(n)))
        wall = time.perf_counter() - start
        await browser.close()
    return times, problems, wall


def summary(times: dict) -> dict:
    return {k: (statistics.median(v), sorted(v)[max(0, int(round(0.95 * len(v))) - 1)])
            for k, v in times.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=20)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit("Debian's chromium is needed: apt-get install -y chromium")
    cores = len(os.sched_getaffinity(0))
    print("# genlib studio, hosted: 1 visitor, then many at once")
    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {platform.platform()}, {cores} cores, load average {os.getloadavg()[0]:.1f} at start")
    results = {}
    for n in (1, args.visitors):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            (data / "runs").mkdir(parents=True)
            env = {"GENLIB_HOSTED": "1", "GENLIB_DATA_DIR": str(data),
                   "GENLIB_SECRET": "bench-secret-bench-secret-bench", "GENLIB_ABANDON_SECONDS": "900"}
            proc, url = start_server(data / "runs", env=env, args=("--client.showErrorDetails", "false"))
            watch = Watch(proc.pid)
            watch.start()
            try:
                times, problems, wall = asyncio.run(crowd(url, n))
            finally:
                watch.running = False
                peak = max(watch.peak, memory_kib(proc.pid))
                stop_server(proc)
            visitors = len([d for d in (data / "visitors").iterdir()]) if (data / "visitors").is_dir() else 0
        results[n] = (summary(times), problems, wall, peak, visitors)
        print(f"\n## {n} visitor{'s' if n > 1 else ''} at once: {wall:.0f} s in all, {len(problems)} "
              f"problem(s), {visitors} workspaces, server peak memory {peak / 1024:.0f} MiB")
        for line in problems:
            print(f"- {line}")
        print("\n| step | median s | p95 s |\n|---|---|---|")
        for k, (med, p95) in results[n][0].items():
            print(f"| {k} | {med:.2f} | {p95:.2f} |")
    one, many = results[1], results[args.visitors]
    print(f"\n## {args.visitors} visitors against 1 (ratio of medians)\n\n| step | ratio |\n|---|---|")
    for k in one[0]:
        if k in many[0]:
            print(f"| {k} | {many[0][k][0] / one[0][k][0]:.2f} |")
    print(f"| server peak memory | {many[3] / max(one[3], 1):.2f} ({one[3] / 1024:.0f} → "
          f"{many[3] / 1024:.0f} MiB) |")
    sys.exit(1 if many[1] or one[1] else 0)


if __name__ == "__main__":
    main()
