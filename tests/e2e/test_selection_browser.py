"""Selections, hover, images on the map and aligned maps in Chromium, with
the mouse: a lasso on one map greys the same images in both and fills the
selection panel; hovering an image rings it on the other map; zoomed in, the
dots become images; aligning moves the right map onto the left."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.latent import selection as sel
from explorer.latent.align import align
from tests.e2e.driver import (
    data_to_page,
    drawn_mark,
    hover_data,
    lasso,
    open_app,
    scroll_zoom,
    thumbs_drawn,
    wait_idle,
    wait_settled,
    wait_until,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1500, "height": 2300})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    frames = open_app(page, server)
    yield page, frames
    ctx.close()
    assert not errors, errors


def isolated(frame, coords: np.ndarray, among: np.ndarray) -> int:
    """The image of ``among`` whose dot lies farthest, on screen, from any
    other dot: the mouse over it means it alone."""
    from sklearn.neighbors import NearestNeighbors

    px = np.array([data_to_page(frame, *map(float, c)) for c in coords[among]])
    every = np.array(
        frame.evaluate(
            "() => { const gd = document.getElementById('map'), L = gd._fullLayout;"
            " return gd.data.flatMap((t) => Array.from(t.x, (x, k) =>"
            " [L.xaxis.d2p(x), L.yaxis.d2p(t.y[k])])); }"
        )
    )
    origin = data_to_page(frame, 0.0, 0.0)
    zero = frame.evaluate(
        "() => { const L = document.getElementById('map')._fullLayout;"
        " return [L.xaxis.d2p(0), L.yaxis.d2p(0)]; }"
    )
    every = every + np.subtract(origin, zero)  # plot pixels -> page pixels
    gap = NearestNeighbors(n_neighbors=2).fit(every).kneighbors(px)[0][:, 1]
    return int(among[np.argmax(gap)])


def selected_count(frame) -> int | None:
    v = frame.evaluate("() => document.getElementById('map').dataset.selected")
    return int(v) if v else None


def test_a_lasso_selects_the_same_images_in_both_maps(page, spaces, shots):
    page, (left, right) = page
    ae = spaces["ae"].coords
    c, r = np.median(ae, 0), 0.6 * ae.std(0)
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    poly = np.stack([c[0] + r[0] * np.cos(angles), c[1] + r[1] * np.sin(angles)], 1)
    lasso(page, left, poly)
    want = np.flatnonzero(sel.in_lasso(ae, poly))
    assert 100 < len(want) < len(ae)
    # the panel: as many images as the polygon holds, to within the pixels
    # the mouse path rounds to
    head = page.get_by_text("Selection: ").first
    head.wait_for(timeout=30_000)
    n = int(head.inner_text().split(":")[1].split()[0].replace(",", ""))
    assert abs(n - len(want)) <= 0.03 * len(want), (n, len(want))
    wait_idle(page)
    # both maps grey everything but those images (every point is drawn here)
    wait_until(lambda: selected_count(left) == n and selected_count(right) == n, 20)
    assert "set=" in page.url
    page.get_by_text("mean image").first.wait_for()
    # (a full-page screenshot resizes the page: last)
    page.screenshot(path=str(shots / "selection-lasso.png"), full_page=True)


def test_hovering_an_image_rings_it_on_the_other_map(page, spaces):
    page, (left, right) = page
    ae, vae = spaces["ae"].coords, spaces["vae"].coords
    (x0, x1), (y0, y1) = left.evaluate(
        "() => { const L = document.getElementById('map')._fullLayout;"
        " return [L.xaxis.range, L.yaxis.range]; }"
    )
    central = np.flatnonzero(
        (np.abs(ae[:, 0] - (x0 + x1) / 2) < 0.25 * (x1 - x0))
        & (np.abs(ae[:, 1] - (y0 + y1) / 2) < 0.25 * (y1 - y0))
    )
    i = isolated(left, ae, central)
    hover_data(page, left, *map(float, ae[i]))
    j = int(
        wait_settled(
            lambda: right.evaluate(
                "() => document.getElementById('map').dataset.hover"
            ),
            quiet=0.4,
        )
        or -1
    )
    assert j == i
    got = drawn_mark(right, "hover")
    want_px = data_to_page(right, *map(float, vae[i]))
    assert np.hypot(got[0] - want_px[0], got[1] - want_px[1]) <= 2.0
    # the mouse away: the ring goes
    page.mouse.move(5, 5)
    wait_until(
        lambda: (
            not right.evaluate("() => document.getElementById('map').dataset.hover")
        ),
        10,
    )


def test_zoomed_in_the_dots_become_images(page, shots):
    page, (left, _) = page
    scroll_zoom(page, left, steps=30, delta=-300, pause_ms=30)
    wait_until(lambda: thumbs_drawn(left) > 0, 30)
    n_in_view = left.evaluate(
        "() => { const gd = document.getElementById('map'), L = gd._fullLayout;"
        " const [x0, x1] = L.xaxis.range, [y0, y1] = L.yaxis.range; let n = 0;"
        " for (const t of gd.data) for (let k = 0; k < t.x.length; k++)"
        " if (t.x[k] >= x0 && t.x[k] <= x1 && t.y[k] >= y0 && t.y[k] <= y1) n++;"
        " return n; }"
    )
    thumbs = thumbs_drawn(left)
    assert 0 < n_in_view <= 500 and thumbs == n_in_view
    page.screenshot(path=str(shots / "thumbnails.png"), full_page=True)
    # the sidebar's toggle turns them off
    page.get_by_text("Images instead of dots when zoomed in").click()
    wait_until(lambda: thumbs_drawn(left) == 0, 30)


def test_aligning_moves_the_right_map_onto_the_left(page, spaces, shots):
    page, (left, right) = page
    page.get_by_text("Align the right map to the left").click()
    page.get_by_text("Disparity").first.wait_for(timeout=30_000)
    wait_idle(page)
    a = align(spaces["ae"].coords, spaces["vae"].coords)
    want = a.apply(spaces["vae"].coords)
    title = right.evaluate(
        "() => document.getElementById('map')._fullLayout.xaxis.title.text"
    )
    assert title.startswith("x (aligned")
    xs = np.sort(
        right.evaluate(
            "() => document.getElementById('map').data.flatMap((t) => Array.from(t.x))"
        )
    )
    assert len(xs) == len(want)
    np.testing.assert_allclose(xs, np.sort(want[:, 0]), atol=1e-3)
    page.screenshot(path=str(shots / "aligned.png"), full_page=True)


def test_the_benchmarks_lasso_and_pan_measures_run(page, spaces):
    """``python -m benchmarks --maps``'s browser rows, once each."""
    from tests.e2e.driver import measure_lasso, measure_pan_fps, zoom_to_thumbs

    page, (left, _) = page
    ae = spaces["ae"].coords
    c, r = np.median(ae, 0), 0.5 * ae.std(0)
    a = np.linspace(0, 2 * np.pi, 7)[:-1]
    poly = np.stack([c[0] + r[0] * np.cos(a), c[1] + r[1] * np.sin(a)], 1)
    got = measure_lasso(page, left, [poly])
    assert 0 < got["maps"][0] < got["panel"][0] < 30
    left.locator(".modebar-btn[data-title='Pan']").first.click(force=True)
    assert zoom_to_thumbs(page, left) > 0
    assert measure_pan_fps(page, left, seconds=1.0) > 0
