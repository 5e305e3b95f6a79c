"""Training in the page ("Train a model now", ``explorer.training.job``), on
one server in Chromium: a second user's clicks on the maps and their server
follow-up while a first user's training runs, against the same clicks with
no training, in one run; the training's throughput as the page reports it;
and the time from a cancel until the training process has stopped."""

from __future__ import annotations

import os
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import chromium
from benchmarks.rows import Row, ms, rate_row, row
from harness import driver

TAB = "Train a model now"
IMAGES = 10_000  # the most the page trains on (2 epochs, a 2-D VAE)
BOTH = [("Image #", 0), ("decoded at", 0), ("decoded at", 1)]


@dataclass
class Samples:
    """Seconds from a second user's click to the answer drawn and to the
    server's follow-up (its rerun echoed), with no training and while one
    ran; the finished trainings' images/s; seconds from cancel to the
    training process gone."""

    idle: list[tuple[float, float]] = field(default_factory=list)
    busy: list[tuple[float, float]] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)


def _click(page, left, rng, counts) -> tuple[float, float] | None:
    """One click on a point of the left map: seconds to its images drawn and
    to Python's rerun caught up; None when the images did not change."""
    while True:  # a point a user can press: nothing (the mode bar) covers it
        c = int(rng.choice(np.flatnonzero(np.asarray(counts) > 0)))
        x, y = driver.a_point(left, c, int(rng.integers(counts[c])))
        if driver.pressable(left, x, y):
            break
    old = [driver.image_src(page, cap, i) for cap, i in BOTH]
    since = driver.mark(page)
    t = driver.press(page, left, x, y)
    try:
        driver.wait_all_change(page, BOTH, old, timeout=10_000)
        answer = time.perf_counter() - t
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError
        answer = None
    page.wait_for_function(driver.CAUGHT_UP, polling="raf", timeout=60_000)
    follow = time.perf_counter() - t
    driver.wait_idle(page, since=since)
    return None if answer is None else (answer, follow)


class Trainer:
    """The first user: the "Train a model now" tab, starting one training
    after another."""

    def __init__(self, page, url: str) -> None:
        self.page, self.k = page, 0
        driver.open_app(page, f"{url}/?tab={urllib.parse.quote(TAB)}")

    def training(self) -> dict:
        """The running job's status once it trains (a new one started when
        none runs)."""
        from explorer.training import job

        if job.current() is None:
            self.k += 1
            button = self.page.get_by_role("button", name="Start training")
            button.wait_for(timeout=60_000)
            self.page.get_by_label("Name", exact=True).fill(f"bench-{self.k}")
            images = self.page.get_by_label("Images", exact=True)
            images.fill(str(IMAGES))
            images.press("Tab")
            driver.act(self.page, button.click)
        driver.wait_until(
            lambda: (job.current() or {}).get("phase") == "training", timeout=120
        )
        return job.current()


def measure(data_dir: str | None, clicks: int, stops: int = 3) -> Samples:
    from playwright.sync_api import sync_playwright

    from explorer.training import job

    root = Path(tempfile.mkdtemp(prefix="bench-trainer-"))
    env = chromium.data_env(data_dir) | {
        "XDG_CACHE_HOME": str(root / "xdg"),
        job.TRAINED_ENV: str(root / "trained"),
    }
    os.environ[job.TRAINED_ENV] = env[job.TRAINED_ENV]  # (this process reads it)
    s, rng = Samples(), np.random.default_rng(0)
    with driver.streamlit_server(env) as url, sync_playwright() as p:
        browser = driver.launch(p)
        user = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = user.new_page()
        left, _ = driver.open_app(page, url)
        counts = driver.trace_counts(left)
        for _ in range(clicks):
            got = _click(page, left, rng, counts)
            if got is not None:
                s.idle.append(got)
        first = browser.new_context(viewport={"width": 1400, "height": 1600})
        trainer = Trainer(first.new_page(), url)
        seen = set()
        while len(s.busy) < clicks:
            status = trainer.training()
            got = _click(page, left, rng, counts)
            still = job.status(status["id"]) or {}
            if got is not None and still.get("phase") == "training":
                s.busy.append(got)
            seen.add(status["id"])
        for _ in range(stops):
            status = trainer.training()
            t = time.perf_counter()
            job.cancel(status["id"])
            driver.wait_until(lambda st=status: not job.alive(st["pid"]), 30)
            s.stops.append(time.perf_counter() - t)
        s.rates = [
            r["images_per_s"]
            for r in (job.status(i) or {} for i in seen)
            if r.get("phase") == "done" and r.get("images_per_s")
        ]
        browser.close()
    return s


def report(s: Samples) -> list[Row]:
    idle = [f for _a, f in s.idle]
    busy = [f for _a, f in s.busy]
    limit = 1.5 * float(np.median(idle)) * 1e3  # ms
    where = (
        "a second user's click on a point of the default page's left map (AE "
        "and VAE, 2-D, 10,000 points) while a first user's in-page training "
        f"runs ({IMAGES:,} images, 2 epochs, a 2-D VAE: one PyTorch thread, "
        "nice 10) and redraws its tab every 1.5 s"
    )
    return [
        row(
            "second user: click until Python's follow-up, while training",
            "ms",
            busy,
            "<= 1.5x with no training",
            lambda m, p: m <= limit,
            scale=1e3,
            baseline=f"no training, same run: {ms(idle)}",
            note=where,
        ),
        row(
            "second user: click until its images are drawn, while training",
            "ms",
            [a for a, _f in s.busy],
            "reported",
            scale=1e3,
            baseline=f"no training, same run: {ms([a for a, _f in s.idle])}",
            note="answered in the browser (exported decoders)",
        ),
        rate_row(
            "in-page training throughput",
            "images/s",
            s.rates,
            "reported",
            note="from the first step to the last, snapshots (2,000 held-out "
            "images encoded at each) and validation included; as the page "
            "shows it",
        ),
        row(
            "cancel until the training process has stopped",
            "ms",
            s.stops,
            "<= 1 s",
            lambda m, p: m <= 1.0e3,
            scale=1e3,
            note="the page's Cancel (a cancel file and SIGTERM) during the first "
            "epoch; the process stops at its next step, removes its staging "
            "folder and frees the lock",
        ),
    ]
