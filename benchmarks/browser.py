"""The page in Chromium, in the instant design (``components.view``: the
browser answers a click, Python catches up) and in the classic one
(``benchmarks.classic``) as the baseline, measured the same way in the same
run: starts until both maps are drawn, clicks, and the live sliders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import chromium, classic
from benchmarks.rows import Row, ms, rate_row, row
from harness import driver


@dataclass
class Samples:
    instant: chromium.PageRun
    classic: chromium.PageRun
    live: list[dict[str, float]]  # per drag: driver.measure_live_drag's figures
    steps: list[float]  # seconds from a key press to the live decode drawn


def measure(repeats: int, interactions: int, data_dir: str | None) -> Samples:
    from playwright.sync_api import sync_playwright

    env = chromium.data_env(data_dir)

    def live(page):
        left, _ = driver.live_frames(page)
        drags = [driver.measure_live_drag(page, left) for _ in range(repeats * 3)]
        return drags, driver.measure_live_steps(page, left, interactions)

    with sync_playwright() as p:
        browser = driver.launch(p)
        new, (drags, steps) = chromium.page_run(
            browser, env, repeats, interactions, live
        )
        old = classic.page_run(browser, env, repeats, interactions)
        browser.close()
    return Samples(new, old, drags, steps)


def report(s: Samples) -> list[Row]:
    new, old = s.instant.clicks, s.classic.clicks
    where = f"{s.instant.points:,} points"
    fps = [r["fps"] for r in s.live]
    decode_ms = float(np.median([r["ms_per_decode"] for r in s.live]))
    slider_ms = float(np.median(old[driver.SLIDER])) * 1e3
    return [
        row(
            "first start ever until both maps drawn",
            "s",
            [s.instant.first],
            "reported",
            baseline=f"classic: {s.classic.first:.1f} s",
            note="a new server process and an empty cache folder: the bundled "
            "data (10,000 points) is encoded by both models",
        ),
        row(
            "cold start until both maps drawn (second start)",
            "s",
            s.instant.cold,
            "<= 4 s",
            lambda m, p: m <= 4,
            baseline=f"classic: {np.median(s.classic.cold):.1f} s",
            note="a new server process each time, the codes cached by the first "
            "start; until both maps and the image strip are drawn (classic: both "
            "map frames); the page's run goes on after that",
        ),
        row(
            driver.POINT,
            "ms",
            new[driver.POINT],
            "<= 50 ms median, <= 100 ms p95",
            lambda m, p: m <= 50 and p <= 100,
            scale=1e3,
            baseline=f"classic: {ms(old[driver.POINT])}",
            note=f"{where}; answered in the browser (exported decoders, the "
            "dataset's image chunks); the classic design waits for a rerun",
        ),
        row(
            driver.SPACE,
            "ms",
            new[driver.SPACE],
            "<= 50 ms median",
            lambda m, p: m <= 50,
            scale=1e3,
            baseline=f"classic: {ms(old[driver.SPACE])}",
            note=f"{where}; the inverse PCA and the decode in the browser",
        ),
        row(
            driver.PYTHON,
            "ms",
            new[driver.PYTHON],
            "<= 400 ms median",
            lambda m, p: m <= 400,
            scale=1e3,
            baseline=f"classic (the click itself): {ms(old[driver.POINT])}",
            note="from the click until Python's rerun echoed it (neighbours, "
            "tabs and the link follow), point and empty-space clicks",
        ),
        rate_row(
            "live decode while dragging a slider",
            "frames/s",
            fps,
            ">= 30",
            lambda m, p: m >= 30,
            baseline=f"classic, server decode on release: {1e3 / slider_ms:.1f}/s",
            note=f"decoded in the browser, {decode_ms:.1f} ms per image, at most "
            "one decode per animation frame; the p95 column is the 5th percentile",
        ),
        row(
            "slider change until the image changed (in the browser, default)",
            "ms",
            s.steps,
            "<= 200 ms median",
            lambda m, p: m <= 200,
            scale=1e3,
            baseline=f"classic, server decode: {slider_ms:.0f} ms",
            note="key press until the new image is drawn",
        ),
    ]
