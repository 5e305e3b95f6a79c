"""Measuring steps in Chromium that both designs share (the instant view's
suites and ``benchmarks.classic``'s baselines call them alike)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import driver

VIEWPORT = {"width": 1500, "height": 1400}


def data_env(data_dir: str | None) -> dict[str, str]:
    return {"EXPLORER_DATA_DIR": data_dir} if data_dir else {}


def with_training_images(page) -> int:
    """Adds the training split to the maps when it is on this machine (the
    bundled Fashion-MNIST test split plus the shared data's 60,000 training
    images: 70,000 points); returns the number of points drawn."""
    switch = page.get_by_role("switch", name="Add the training images (train split)")
    if switch.count() and switch.is_enabled():
        driver.act(page, lambda: switch.click(force=True), 300_000)
        driver.map_frames(page, 300_000)
    return int(
        driver.map_frames(page)[0].evaluate(
            "() => +document.getElementById('map').dataset.points"
        )
    )


@dataclass
class PageRun:
    """One design's page: seconds until both maps are drawn from a new server
    (the first start ever, then cold starts), the interactions' seconds (by
    the driver's names), and the points on the map they were measured on."""

    first: float
    cold: list[float]
    clicks: dict[str, list[float]]
    points: int


def _starts(browser, env: dict, repeats: int, app: Path | None) -> list[float]:
    starts = []
    # An empty cache folder: the first start ever encodes the bundled
    # data; the later ones read the codes it wrote.
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(repeats + 1):
            t = time.perf_counter()
            with driver.streamlit_server(
                {**env, "XDG_CACHE_HOME": cache}, app=app
            ) as url:
                page = browser.new_page(viewport=VIEWPORT)
                driver.maps_drawn(page, url)
                starts.append(time.perf_counter() - t)
                driver.wait_idle(page)  # the run goes on (and saves)
                page.close()
    return starts


def page_run(
    browser,
    env: dict,
    repeats: int,
    interactions: int,
    prepare: Callable,
    app: Path | None = None,
) -> tuple[PageRun, object]:
    """Starts, then ``interactions`` of each kind on one page after
    ``prepare(page)`` (whose result is returned beside the run); ``app``:
    the page served (the product's by default)."""
    starts = _starts(browser, env, repeats, app)
    with driver.streamlit_server(env, app=app) as url:
        page = browser.new_page(viewport=VIEWPORT)
        driver.open_app(page, url)
        prepared = prepare(page)
        points = with_training_images(page)
        frames = driver.map_frames(page)
        clicks = driver.measure_interactions(page, frames, interactions)
        page.close()
    return PageRun(starts[0], starts[1:], clicks, points), prepared


ZOOMS = (-300, 300, -300)  # wheel deltas of the zoom samples (3 steps each)


@dataclass
class Opens:
    """Seconds until both maps are drawn, [first open ever, reload, a new
    server's open (cold)]; until each zoom's window is drawn; and after the
    draw, until ``after`` returned (when given)."""

    drawn: list[float] = field(default_factory=list)
    zoom: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)


def open_and_zoom(
    browser,
    env: dict,
    address: str,
    drawn_now: Callable,
    after: Callable | None = None,
    app: Path | None = None,
) -> Opens:
    """Opens ``address`` (a path and query) on a first server twice (the
    first open ever, then a reload) and once on a new one (cold); after
    each, zooms in, out and in, each sample until ``drawn_now(frame)``, the
    state of what is drawn, has changed."""
    out = Opens()
    for opens in (2, 1):
        with driver.streamlit_server(env, app=app) as url:
            for _ in range(opens):
                page = browser.new_page(viewport=VIEWPORT)
                t = time.perf_counter()
                # until both maps are drawn; the page's run goes on
                frames = driver.maps_drawn(page, url + address, 300_000)
                out.drawn.append(time.perf_counter() - t)
                if after is not None:
                    after(frames)
                    out.after.append(time.perf_counter() - t - out.drawn[-1])
                driver.wait_idle(page, 300_000)
                out.zoom += _zooms(page, frames[0], drawn_now)
                page.close()
    return out


def _zooms(page, left, drawn_now: Callable) -> list[float]:
    took = []
    for delta in ZOOMS:  # in, out, in: a sample each
        old = drawn_now(left)
        since = driver.mark(page)
        driver.scroll_zoom(page, left, steps=3, delta=delta, pause_ms=30)
        t = time.perf_counter()
        driver.wait_until(lambda f=left, o=old, g=drawn_now: g(f) not in (None, o), 120)
        took.append(time.perf_counter() - t)
        driver.wait_idle(page, since=since)
    return took
