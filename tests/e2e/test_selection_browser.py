"""Selections, hover, images on the map and aligned maps in Chromium, with
the mouse: a lasso on one map greys the same images in both and fills the
selection panel; hovering an image rings it on the other map; zoomed in, the
dots become images; aligning moves the right map onto the left."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from explorer.latent import selection as sel
from explorer.latent.align import align
from harness.driver import (
    data_to_page,
    drawn_mark,
    hover_data,
    lasso,
    link_params,
    mark,
    open_app,
    pixels_per_unit,
    scroll_zoom,
    thumbs_drawn,
    wait_idle,
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


def greyed_around(frame, coords: np.ndarray) -> set[int] | None:
    """The dataset indices of the images a map shows selected (the others
    grey), as plotly holds them for drawing: each class trace's selected
    points, found among ``coords`` (the images' map coordinates) by their
    exact place. None when the map shows no selection."""
    picked = frame.evaluate(
        "() => { const gd = document.getElementById('map');"
        " const t = gd._fullData.slice(0, +gd.dataset.classTraces);"
        " if (t.every((d) => !Array.isArray(d.selectedpoints)"
        " && !ArrayBuffer.isView(d.selectedpoints))) return null;"
        " return t.flatMap((d) => Array.from(d.selectedpoints || [],"
        " (k) => [d.x[k], d.y[k]])); }"
    )
    if picked is None:
        return None
    where = {(float(x), float(y)): i for i, (x, y) in enumerate(coords)}
    return {where[(x, y)] for x, y in picked}


def downloaded_selection(page) -> set[int]:
    """The server's selection as it writes it: the indices of the panel's
    CSV download."""
    import csv

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the selection (CSV)").click()
    with open(download.value.path(), newline="") as f:
        return {int(r["index"]) for r in csv.DictReader(f)}


def test_a_lasso_selects_the_same_images_in_both_maps(page, spaces, shots):
    page, (left, right) = page
    ae = spaces["ae"].coords
    c, r = np.median(ae, 0), 0.6 * ae.std(0)
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    poly = np.stack([c[0] + r[0] * np.cos(angles), c[1] + r[1] * np.sin(angles)], 1)
    since = mark(page)
    lasso(page, left, poly)
    want = np.flatnonzero(sel.in_lasso(ae, poly))
    assert 100 < len(want) < len(ae)
    head = page.get_by_text("Selection: ").first
    head.wait_for(timeout=30_000)
    wait_idle(page, since=since)
    n = int(head.inner_text().split(":")[1].split()[0].replace(",", ""))
    # the server's selection: as many images as the panel says; every image
    # more than 2 screen pixels inside the polygon, none more than 2 outside
    # (the mouse's path rounds to pixels)
    chosen = downloaded_selection(page)
    assert len(chosen) == n
    assert abs(n - len(want)) <= 0.03 * len(want), (n, len(want))
    scale = np.array(pixels_per_unit(left))
    shape, dots = shapely.Polygon(poly * scale), shapely.points(ae * scale)
    inside = shapely.contains(shape, dots)
    clear = shapely.distance(shape.exterior, dots) > 2
    assert set(np.flatnonzero(inside & clear).tolist()) <= chosen
    assert not set(np.flatnonzero(~inside & clear).tolist()) & chosen
    # both maps grey everything but those very images (every point is drawn)
    vae = spaces["vae"].coords
    wait_until(
        lambda: greyed_around(left, ae) == chosen == greyed_around(right, vae), 20
    )
    assert "set" in link_params(page)
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
    hover_data(page, left, *map(float, ae[i]))  # plotly took the hover there
    wait_until(
        lambda: (
            right.evaluate("() => document.getElementById('map').dataset.hover")
            == str(i)
        ),
        10,
    )
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


IN_VIEW = """() => {
    const mv = Object.values(window.latentExplorer.views)[0].maps.get("left");
    const L = mv.gd._fullLayout, d = mv.loaded, out = [];
    const [x0, x1] = [...L.xaxis.range].sort((a, b) => a - b);
    const [y0, y1] = [...L.yaxis.range].sort((a, b) => a - b);
    for (let k = 0; k < d.n; k++) {
        const x = d.xs[k], y = d.ys[k];
        const i = d.index ? d.index[k] : k;
        if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
    }
    return out;
}"""


def test_zoomed_in_the_dots_become_images(page, shots):
    from explorer.app.routes import picked

    page, (left, _) = page
    picks = []
    page.on("request", lambda r: "/pick/" in r.url and picks.append(r.url))
    scroll_zoom(page, left, steps=30, delta=-300, pause_ms=30)
    wait_until(lambda: thumbs_drawn(left) > 0, 30)
    # only the images in view were fetched (each window's, in one request),
    # not the chunks that hold them: nearly every chunk of the dataset
    wait_until(lambda: thumbs_drawn(left) == len(page.evaluate(IN_VIEW)), 30)
    fetched = {int(i) for u in picks for i in picked(u.rsplit("/", 1)[1], 10**6)}
    assert set(page.evaluate(IN_VIEW)) <= fetched and len(fetched) <= 2_000
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
    since = mark(page)
    page.get_by_text("Align the right map to the left").click()
    page.get_by_text("Disparity").first.wait_for(timeout=30_000)
    wait_idle(page, since=since)
    a = align(spaces["ae"].coords, spaces["vae"].coords)
    want = a.apply(spaces["vae"].coords)
    # the view redraws the right map with that run's data
    right.wait_for_function(
        "() => document.getElementById('map')._fullLayout.xaxis.title.text"
        ".startsWith('x (aligned')"
    )
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
    from harness.driver import measure_lasso, measure_pan_fps, zoom_to_thumbs

    page, (left, right) = page
    ae = spaces["ae"].coords
    c, r = np.median(ae, 0), 0.5 * ae.std(0)
    a = np.linspace(0, 2 * np.pi, 7)[:-1]
    poly = np.stack([c[0] + r[0] * np.cos(a), c[1] + r[1] * np.sin(a)], 1)
    got = measure_lasso(page, left, [poly])
    assert 0 < got["maps"][0] < got["panel"][0] < 30
    # the measured lasso happened: both maps grey around the same images
    chosen = downloaded_selection(page)
    vae = spaces["vae"].coords
    wait_until(
        lambda: greyed_around(left, ae) == chosen == greyed_around(right, vae), 20
    )
    assert len(chosen) > 100
    left.locator(".modebar-btn[data-title='Pan']").first.click(force=True)
    assert zoom_to_thumbs(page, left) > 0
    ranges = "() => document.getElementById('map')._fullLayout.xaxis.range.slice()"
    before = left.evaluate(ranges)
    fps = measure_pan_fps(page, left, seconds=1.0)
    # the measured pan happened: the map moved, and frames were drawn meanwhile
    assert left.evaluate(ranges) != before and 1 <= fps < 1000
