"""The lesson in Chromium (``explorer.app.lesson``): opening a step from its
link (``?lesson=N``) until both maps and the step's own numbers are drawn,
beside the plain page's cold start in the same run, each a new server
process on a warm cache; and the language switch, counted in script runs
(its target: no more than one rerun) and timed beside a rerun of the same
page that changes nothing but the step shown."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from functools import partial

from benchmarks import chromium
from benchmarks.rows import Row, row
from harness import driver

FRAME = ".st-key-lesson_frame"
# Drawn once a step's body has run (its numbers, plots and check): the
# frame's status line under the body ("Your turn: ...", or "Step done").
BODY_DRAWN = ".st-key-lesson_status [data-testid='stMarkdownContainer']"


@dataclass
class Samples:
    plain: list[float]  # cold starts of the plain page, until both maps drawn
    steps: dict[int, list[float]]  # step -> cold opens until maps and body drawn
    switch: list[float]  # seconds of a language switch until its run ended
    switch_runs: list[int]  # script runs each switch took
    rerun: list[float]  # seconds of a "Next step" rerun, the baseline


def _open(browser, env: dict, cache: str, query: str) -> float:
    """A new server process; seconds from its start until the page of
    ``query`` has both maps drawn (and, for a lesson, the step's body)."""
    t = time.perf_counter()
    with driver.streamlit_server({**env, "XDG_CACHE_HOME": cache}) as url:
        page = browser.new_page(viewport=chromium.VIEWPORT, locale="en-US")
        driver.maps_drawn(page, url + "/" + query)
        if "lesson" in query:
            page.locator(BODY_DRAWN).first.wait_for(timeout=120_000)
        took = time.perf_counter() - t
        driver.wait_idle(page)
        page.close()
    return took


def _switches(browser, env: dict, cache: str, repeats: int) -> tuple:
    """Language switches through the sidebar's select, and "Next step"
    reruns, on one page of a lesson."""
    switch, runs, rerun = [], [], []
    with driver.streamlit_server({**env, "XDG_CACHE_HOME": cache}) as url:
        page = browser.new_page(viewport=chromium.VIEWPORT, locale="en-US")
        driver.open_app(page, url + "/?lesson=1")
        for i in range(repeats * 2):
            lang = ("中文", "English")[i % 2]
            box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
            before = driver.watch(page).runs
            t = time.perf_counter()
            driver.act(page, partial(_choose, page, box.first, lang))
            switch.append(time.perf_counter() - t)
            runs.append(driver.watch(page).runs - before)
        nav = page.locator(f"{FRAME} [data-testid='stButton'] button")
        for _ in range(repeats * 2):
            t = time.perf_counter()
            driver.act(page, nav.nth(nav.count() - 2).click)  # next step
            rerun.append(time.perf_counter() - t)
        page.close()
    return switch, runs, rerun


def _choose(page, box, option: str) -> None:
    box.click()
    page.get_by_role("option", name=option).click()


def measure(repeats: int, steps: tuple[int, ...], data_dir: str | None) -> Samples:
    from playwright.sync_api import sync_playwright

    env = chromium.data_env(data_dir)
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as p:
        browser = driver.launch(p)
        _open(browser, env, cache, "")  # the first start ever fills the cache
        plain = [_open(browser, env, cache, "") for _ in range(repeats)]
        opens = {
            n: [_open(browser, env, cache, f"?lesson={n}") for _ in range(repeats)]
            for n in steps
        }
        switch, runs, rerun = _switches(browser, env, cache, repeats)
        browser.close()
    return Samples(plain, opens, switch, runs, rerun)


def report(s: Samples) -> list[Row]:
    import numpy as np

    base = f"plain page's cold start: {np.median(s.plain):.1f} s"
    rows = [
        row(
            f"lesson step {n}: cold open until maps and numbers drawn",
            "s",
            samples,
            "reported",
            baseline=base,
            note="a new server process on a warm cache, ?lesson="
            f"{n}: both maps, then the step's body (its live numbers, plots "
            "and check) drawn",
        )
        for n, samples in s.steps.items()
    ]
    return rows + [
        row(
            "language switch: script runs",
            "runs",
            [float(r) for r in s.switch_runs],
            "<= 1 run",
            lambda m, p: max(s.switch_runs) <= 1,
            note="English <-> 中文 in the sidebar's select, on a lesson's page",
        ),
        row(
            "language switch until its run ended",
            "ms",
            s.switch,
            "reported",
            scale=1e3,
            baseline=f"a 'Next step' rerun: {np.median(s.rerun) * 1e3:.0f} ms",
            note="the whole page again in the other language",
        ),
    ]
