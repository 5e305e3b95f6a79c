"""The maps' interactions in Chromium, on the 70,000 points of Fashion-MNIST
test + train where the training split is here: a lasso until both maps grey
around it and until the selection panel is drawn (baseline: a click on a
point until Python's rerun, the same page), and pan frames per second with
the dots drawn as images (baseline: the same pan with images off)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import chromium
from benchmarks.rows import Row, rate_row, row
from harness import driver


@dataclass
class Samples:
    points: int
    lassos: dict[str, list[float]]  # driver.measure_lasso's seconds
    clicks: dict[str, list[float]]  # by the driver's names
    thumbs: int  # images drawn when zoomed in
    with_images: list[float]  # pan frames per second
    dots: list[float]


def _hexagons(frame, n: int, rng) -> list[np.ndarray]:
    """``n`` hexagons (data coordinates) somewhere in the middle of a map."""
    (x0, x1), (y0, y1) = frame.evaluate(
        "() => { const L = document.getElementById('map')._fullLayout;"
        " return [L.xaxis.range, L.yaxis.range]; }"
    )
    polygons = []
    for _ in range(n):
        c = rng.uniform(
            [x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0)],
            [x1 - 0.3 * (x1 - x0), y1 - 0.3 * (y1 - y0)],
        )
        r = 0.08 * np.array([x1 - x0, y1 - y0]) * rng.uniform(0.6, 1.4)
        a = np.linspace(0, 2 * np.pi, 7)[:-1]
        polygons.append(np.stack([c[0] + r[0] * np.cos(a), c[1] + r[1] * np.sin(a)], 1))
    return polygons


def measure(data_dir: str | None, repeats: int) -> Samples:
    from playwright.sync_api import sync_playwright

    env = chromium.data_env(data_dir)
    rng = np.random.default_rng(0)
    with sync_playwright() as p, driver.streamlit_server(env) as url:
        browser = driver.launch(p)
        page = browser.new_page(viewport=chromium.VIEWPORT)
        driver.open_app(page, url)
        driver.set_live(page, True)
        n = chromium.with_training_images(page)
        left, right = driver.map_frames(page)
        lassos = driver.measure_lasso(page, left, _hexagons(left, repeats * 3, rng))
        # the baseline: a point click until Python's rerun echoed it
        driver.act(page, page.get_by_role("button", name="Clear the selection").click)
        left.locator(".modebar-btn[data-title='Pan']").first.click(force=True)
        clicks = driver.measure_interactions(page, [left, right], repeats * 3)
        # pan with images on, then off, zoomed in the same
        thumbs = driver.zoom_to_thumbs(page, left)
        with_images = [driver.measure_pan_fps(page, left) for _ in range(repeats)]
        driver.act(
            page, page.get_by_text("Images instead of dots when zoomed in").click
        )
        dots = [driver.measure_pan_fps(page, left) for _ in range(repeats)]
        browser.close()
    return Samples(n, lassos, clicks, thumbs, with_images, dots)


def report(s: Samples) -> list[Row]:
    python = float(np.median(s.clicks[driver.PYTHON])) * 1e3
    return [
        row(
            "lasso until both maps grey around it",
            "ms",
            s.lassos["maps"],
            scale=1e3,
            baseline=f"a point click until Python's rerun: {python:.0f} ms",
            note=f"{s.points:,} points; the drawn points inside, greyed around in "
            "both maps by the browser, before Python is asked",
        ),
        row(
            "lasso until the selection panel is drawn",
            "ms",
            s.lassos["panel"],
            scale=1e3,
            baseline=f"a point click until Python's rerun: {python:.0f} ms",
            note=f"{s.points:,} points; Python selects every image inside the "
            "polygon (Shapely) and reruns: count, classes, mean image, decodes of "
            "the mean code, the link",
        ),
        rate_row(
            "pan with the dots drawn as images",
            "frames/s",
            s.with_images,
            "reported",
            baseline=f"the same pan with dots: {np.median(s.dots):.1f}/s",
            note=f"{s.points:,} points, zoomed in until {s.thumbs} images are drawn; "
            "plotly's drag pan for 2 s; the p95 column is the 5th percentile",
        ),
    ]
