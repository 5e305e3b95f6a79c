"""The app in a real Chromium against ``streamlit run``: clicks, sliders, interpolation.

Screenshots of every step go to ``$EXPLORER_SCREENSHOTS`` (default: a pytest
temporary folder, printed at the end of the run).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from harness.driver import (
    a_point,
    act,
    click_data,
    data_to_page,
    drawn_mark,
    empty_spot,
    hover_data,
    image_src,
    live_frames,
    mark,
    open_app,
    page_drawn,
    pixels_per_unit,
    scroll_zoom,
    set_live,
    shown_image,
    slider,
    streamlit_server,
    trace_counts,
    wait_answered,
    wait_change,
    wait_idle,
    wait_until,
    watch,
    window_drawn,
)
from tests.helpers import image_folder, train_on_folder

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1500, "height": 2300})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    frames = open_app(page, server)
    set_live(page, False)  # these tests drive the server-side sliders
    yield page, frames
    ctx.close()
    assert not errors, errors


def assert_mark_at(frame, cls: str, xy, tol: float = 2.0) -> None:
    """The mark ``cls`` is drawn at data coordinates ``xy`` (page pixels)."""
    got = drawn_mark(frame, cls)
    want = data_to_page(frame, float(xy[0]), float(xy[1]))
    assert got is not None, f"no {cls} mark drawn"
    assert np.hypot(got[0] - want[0], got[1] - want[1]) <= tol, (cls, got, want)


def isolated_point(frame, coords: np.ndarray) -> int:
    """The index of the point inside the central part of the visible map that
    lies farthest, on screen, from any other: a click there means it alone."""
    from sklearn.neighbors import NearestNeighbors

    (x0, x1), (y0, y1) = frame.evaluate(
        "() => { const L = document.getElementById('map')._fullLayout;"
        " return [L.xaxis.range, L.yaxis.range]; }"
    )
    px = coords * np.array(pixels_per_unit(frame))
    dist = NearestNeighbors(n_neighbors=2).fit(px).kneighbors(px)[0][:, 1]
    cx, cy = coords[:, 0], coords[:, 1]
    central = (
        (cx > x0 + 0.2 * (x1 - x0))
        & (cx < x1 - 0.2 * (x1 - x0))
        & (cy > y0 + 0.2 * (y1 - y0))
        & (cy < y1 - 0.2 * (y1 - y0))
    )
    return int(np.flatnonzero(central)[np.argmax(dist[central])])


def as_shown(img: np.ndarray, scale: int = 5) -> np.ndarray:
    """A uint8 ``[1, H, W]`` image enlarged as the page shows it."""
    return np.kron(img[0], np.ones((scale, scale), np.uint8))


def canvas_image(frame, scale: int = 5) -> np.ndarray:
    """The live decoder's image as drawn on its canvas: one sample at the
    centre of each ``scale`` x ``scale`` block, grey ``[H, W]`` uint8."""
    w, h, rgba = frame.evaluate(
        "() => { const c = document.getElementById('img');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);"
        " return [c.width, c.height, Array.from(d.data)]; }"
    )
    img = np.array(rgba, np.uint8).reshape(h, w, 4)[..., 0]
    return img[scale // 2 :: scale, scale // 2 :: scale]


def test_click_point_selects_it_in_both_maps(page, spaces, shots):
    page, (left, right) = page
    page.screenshot(path=shots / "01-start.png", full_page=True)
    assert page.get_by_text("Selected image #0").count() == 1
    i = isolated_point(left, spaces["ae"].coords)
    since = mark(page)
    click_data(page, left, *map(float, spaces["ae"].coords[i]))
    page.get_by_text(f"Selected image #{i}:").wait_for(timeout=30_000)
    wait_idle(page, since=since)
    wait_answered(page)  # the page's own answer drawn too
    # Both maps ring that very image, and the cursors sit on it.
    for frame, kind in ((left, "ae"), (right, "vae")):
        assert_mark_at(frame, "selected", spaces[kind].coords[i])
        assert_mark_at(frame, "cursor", spaces[kind].coords[i])
    # The images as the browser received them: the server's decodes of z[i].
    for nth, kind in enumerate(("ae", "vae")):
        sp = spaces[kind]
        want = as_shown(sp.decode(sp.z[i][None])[0])
        for caption in ("decoded at", "reconstruction"):
            got = shown_image(page, caption, nth)
            assert got.shape == want.shape
            assert np.abs(got.astype(int) - want).max() <= 1, (caption, kind)
    page.screenshot(path=shots / "02-point-clicked.png", full_page=True)


def test_click_empty_space_decodes_that_spot(page, shots):
    page, (left, right) = page
    old_left = image_src(page, "decoded at", 0)
    old_right = image_src(page, "decoded at", 1)
    x, y = empty_spot(left)
    since = mark(page)
    click_data(page, left, x, y)
    wait_change(lambda: image_src(page, "decoded at", 0), old_left)
    wait_idle(page, since=since)
    page.get_by_text("Far from the data").first.wait_for(timeout=10_000)
    assert_mark_at(left, "cursor", (x, y))
    assert image_src(page, "decoded at", 1) == old_right  # the other model is untouched
    # The sliders moved to the clicked spot (2-D latent: raw axes).
    z0 = slider(page, "z[0]", 0)
    lo, hi = float(z0.get_attribute("min")), float(z0.get_attribute("max"))
    step = float(z0.get_attribute("step"))
    assert float(z0.input_value()) == pytest.approx(min(max(x, lo), hi), abs=step)
    page.screenshot(path=shots / "03-space-clicked.png", full_page=True)


def test_slider_moves_the_decoded_image_and_the_marker(page, shots):
    page, (left, _) = page
    old_img = image_src(page, "decoded at", 0)
    old_mark = drawn_mark(left, "cursor")
    for _ in range(5):  # each press is a rerun, after which the slider is new
        slider(page, "z[0]", 0).focus()
        act(page, lambda: page.keyboard.press("ArrowRight"))
    wait_change(lambda: image_src(page, "decoded at", 0), old_img)
    moved = wait_change(lambda: drawn_mark(left, "cursor"), old_mark)
    assert moved[0] > old_mark[0] + 5 and moved[1] == pytest.approx(old_mark[1], abs=1)
    page.screenshot(path=shots / "04-slider.png", full_page=True)


def test_interpolation_from_selection(page, shots):
    page, (left, right) = page
    open_tab(page, "Interpolation")
    strip_img = page.locator("[data-testid='stImage'] img")
    srcs = strip_img.evaluate_all("els => els.map(e => e.src)")
    old_ring = drawn_mark(right, "selected")
    x, y = a_point(left, trace=7, index=2)
    since = mark(page)
    click_data(page, left, x, y)
    wait_change(lambda: drawn_mark(right, "selected"), old_ring)
    wait_idle(page, since=since)
    act(page, page.get_by_role("button", name="B ← selected").click)

    # The run has ended; the page draws what it sent as it gets to it: B's
    # circle where the selection's ring is, and both film strips anew.
    def b_on_the_ring() -> bool:
        b, ring = drawn_mark(right, "endpoint", 1), drawn_mark(right, "selected")
        return b is not None and np.hypot(b[0] - ring[0], b[1] - ring[1]) <= 1.0

    def strips() -> list:
        return strip_img.evaluate_all("els => els.map(e => e.src)")

    wait_until(b_on_the_ring)
    wait_until(lambda: strips()[-1] != srcs[-1] and strips()[-2] != srcs[-2])
    old_t = image_src(page, "at t =", 0)
    slider(page, "Position t along the path").focus()
    page.keyboard.press("Home")
    wait_change(lambda: image_src(page, "at t =", 0), old_t)
    page.screenshot(path=shots / "05-interpolation.png", full_page=True)


def axis_ranges(frame) -> list:
    return frame.evaluate(
        "() => { const L = document.getElementById('map')._fullLayout;"
        " return [L.xaxis.range.slice(), L.yaxis.range.slice()]; }"
    )


def test_zoom_survives_reruns(page, shots):
    page, (left, right) = page
    start = axis_ranges(left)
    # the view tells Python of the new range (a rerun)
    act(page, lambda: scroll_zoom(page, left, steps=3, delta=-200, pause_ms=150))
    zoomed = axis_ranges(left)
    assert zoomed != start
    old_img = image_src(page, "decoded at", 0)
    old_mark = drawn_mark(left, "cursor")
    slider(page, "z[1]", 0).focus()
    since = mark(page)
    page.keyboard.press("ArrowLeft")
    wait_change(lambda: image_src(page, "decoded at", 0), old_img)
    wait_change(lambda: drawn_mark(left, "cursor"), old_mark)
    wait_idle(page, since=since)
    assert axis_ranges(left) == zoomed
    # A selection (a full rerun of the page) keeps it too.
    x, y = a_point(right, trace=0, index=1)
    before = drawn_mark(left, "selected")  # read before the click: no race
    since = mark(page)
    click_data(page, right, x, y)
    wait_change(lambda: drawn_mark(left, "selected"), before)
    wait_idle(page, since=since)
    assert axis_ranges(left) == zoomed
    page.screenshot(path=shots / "06-zoomed.png", full_page=True)


def test_benchmark_interactions_run(page):
    from harness.driver import POINT, PYTHON, SLIDER, SPACE, measure_interactions

    page, frames = page
    out = measure_interactions(page, frames, n=2)
    assert set(out) == {POINT, SPACE, SLIDER, PYTHON}
    # Python catches up after each click, of either kind
    assert [len(out[k]) for k in (POINT, SPACE, SLIDER, PYTHON)] == [2, 2, 2, 4]
    assert all(0 < s < 30 for v in out.values() for s in v)
    # ... and after the browser drew its answer
    assert min(out[PYTHON][:2]) >= min(out[POINT])


def test_each_click_asks_for_one_rerun_and_the_link_follows(page):
    """The follow-up benchmark's clicks (``harness.followup``): each press on
    a point not clicked before, as far apart as a person's clicks (not a
    double click), asks Python for one rerun, and once it has ended the link
    names the image the page answered with."""
    from harness import followup

    page, (left, _) = page
    runs = watch(page)
    counts = trace_counts(left)
    rng, seen = np.random.default_rng(3), set()
    ended, windows = runs.runs, page.evaluate(_TOLD)
    for _ in range(8):
        x, y = followup.fresh_point(left, counts, rng, seen)
        drawn, arrived = followup.click(page, left, x, y)
        assert 0 < arrived <= drawn < 30
        assert followup._link_follows(page) is None
    # each click's own rerun, and at most one more if the page settling its
    # layout moved the axes once (Streamlit may fold that into a click's)
    moved = page.evaluate(_TOLD) - windows
    assert runs.runs - ended <= 8 + moved and moved <= 1


_TOLD = (
    "() => [...document.querySelectorAll('.lx-plot')]"
    ".reduce((n, gd) => n + +(gd.dataset.windowsTold || 0), 0)"
)


def test_a_relayout_to_the_same_window_asks_for_no_rerun(page):
    """A double click on a map that shows all of itself resets its axes to
    the same axes (plotly's reset: autorange both). Plotly reports that
    relayout; the view, once the window has come to rest, sees that Python
    has that window already and tells it nothing (each such report used to
    be a whole rerun)."""
    page, _ = page
    runs = watch(page)
    plot = "document.querySelector(\".lx-map[data-lx-slot='left'] .lx-plot\")"
    seen = f"() => +({plot}.dataset.windowsSeen || 0)"
    before, told, since = page.evaluate(seen), page.evaluate(_TOLD), runs.mark()
    page.evaluate(
        f"() => Plotly.relayout({plot}, "
        "{'xaxis.autorange': true, 'yaxis.autorange': true})"
    )
    page.wait_for_function(f"() => ({seen})() > {before}")
    assert page.evaluate(_TOLD) == told
    assert runs.asked <= since


def test_an_action_ends_once_the_view_has_drawn_what_its_run_sent(page):
    """``wait_idle``, where every browser test's action ends: the server
    ending the action's run is not enough; the page must show what the run
    sent, the view's maps included (the random actions' next press once came
    while the map was drawn anew under it). With the new points file held
    back, the run has ended and the page is not drawn; let through, the wait
    ends with the new points on the map."""
    page, (left, _) = page
    runs = watch(page)
    points = "() => +document.querySelector('.lx-plot').dataset.points"
    before = page.evaluate(points)
    held, release = [], []

    def hold(route):
        route.continue_() if release else held.append(route)

    page.route("**/points-*", hold)
    since = mark(page)
    thumb = slider(page, "Points shown")
    thumb.focus()
    page.keyboard.press("ArrowLeft")  # fewer points: a new points file
    wait_until(lambda: runs.settled(since) and held, 60, page)
    assert not page_drawn(page, runs.last_end)
    release.append(True)
    for route in held:
        route.continue_()
    wait_idle(page, 60_000, since)
    assert page_drawn(page, runs.last_end)
    assert 0 < page.evaluate(points) < before


def test_live_sliders_decode_in_the_browser_as_the_server_does(
    browser, server, spaces, shots
):
    import numpy as np

    from explorer import load_model
    from explorer.model.checkpoint import REPO_WEIGHTS
    from explorer.model.export import decode as reference_decode
    from explorer.model.export import export_decoder

    url = server  # (``server`` names the server's decode below)
    ctx = browser.new_context(viewport={"width": 1500, "height": 2300})
    page = ctx.new_page()
    left_map, _ = open_app(page, url)
    live_left, _ = live_frames(page)
    thumb = live_left.locator("input[aria-label='live z[0]']")
    box = thumb.bounding_box()
    frames0 = live_left.evaluate("() => window.liveStats.frames")
    cursor = drawn_mark(left_map, "cursor")
    y = box["y"] + box["height"] / 2
    x = box["x"] + box["width"] * float(
        live_left.evaluate(
            "() => { const i = document.querySelector('input[type=range]');"
            " return (i.value - i.min) / (i.max - i.min); }"
        )
    )
    echo = "() => document.querySelector('.lx-root').dataset.echo"
    heard = page.evaluate(echo)
    page.mouse.move(x, y)
    page.mouse.down()
    images = set()
    decoded = "() => window.liveStats.frames"
    for k in range(12):  # a drag: many input events before the release
        before = live_left.evaluate(decoded)
        page.mouse.move(x - 8 * (k + 1), y)
        # this move's decode is drawn (the view decodes once per frame)
        live_left.wait_for_function(f"() => ({decoded})() > {before}")
        images.add(canvas_image(live_left).tobytes())
    # The image and the map's x followed the hand; Python heard nothing yet.
    assert len(images) >= 6
    assert live_left.evaluate("() => window.liveStats.frames") - frames0 >= 6
    moved = drawn_mark(left_map, "cursor")
    assert moved[0] < cursor[0] - 5 and moved[1] == pytest.approx(cursor[1], abs=1)
    assert page.evaluate(echo) == heard
    since = mark(page)
    page.mouse.up()
    wait_change(lambda: page.evaluate(echo), heard)  # the release reaches Python
    wait_idle(page, since=since)
    page.screenshot(path=shots / "07-live-drag.png", full_page=True)
    # The image on the canvas is the server's decode of the z the hand set: the
    # dragged slider's value (a 2-D latent: the sliders are its raw
    # dimensions), and the other dimension where image 0 put it.
    dragged = live_left.evaluate("() => +document.querySelector('input').value")
    z = np.array([dragged, spaces["ae"].z[0][1]])
    shown = canvas_image(live_left).astype(int).ravel()
    model = load_model(REPO_WEIGHTS / "fashion-mnist-ae-z2")
    import torch

    with torch.no_grad():
        server = model.decode(torch.tensor(z[None], dtype=torch.float32))[0]
    server = (server.numpy() * 255 + 0.5).astype(int).ravel()
    assert np.abs(shown - server).max() <= 1
    ref = reference_decode(export_decoder(model), z).astype(int).ravel()
    assert np.abs(shown - ref).max() <= 1
    assert_mark_at(left_map, "cursor", z)
    second_visit_fetches_no_app_data_and_decodes_a_click(ctx, url, spaces)
    ctx.close()


DTYPES = """async () => {
    const v = Object.values(window.latentExplorer.views)[0];
    const bufs = await Promise.all(v.d.maps.map((m) =>
        fetch(m.decoder_url).then((r) => r.arrayBuffer())));
    return bufs.map((b) => {
        const n = new DataView(b).getUint32(4, true);
        const head = JSON.parse(new TextDecoder().decode(new Uint8Array(b, 8, n)));
        return head.layers.map((L) => L.dtype);
    });
}"""


def second_visit_fetches_no_app_data_and_decodes_a_click(ctx, server, spaces):
    """The same browser opens the page again: none of the app's files (points,
    means, decoders, the view's modules, plotly.js) comes from the server, and
    a click is answered in the page with its half-precision decoders, within
    a grey level of the server's decodes."""
    from harness import traffic

    page = ctx.new_page()
    seen = traffic.record(ctx, page)
    left, _ = open_app(page, server)
    page.wait_for_selector(".lx-root[data-clickable='1']")
    traffic.wait_settled(page, seen)
    assert seen.network() == []
    assert page.evaluate(DTYPES) == [["f2"] * 4, ["f4"] + ["f2"] * 3]  # AE, VAE
    i = isolated_point(left, spaces["ae"].coords)
    click_data(page, left, *map(float, spaces["ae"].coords[i]))
    wait_answered(page)
    for nth, kind in enumerate(("ae", "vae")):
        sp = spaces[kind]
        want = as_shown(sp.decode(sp.z[i][None])[0]).astype(int)
        got = shown_image(page, "decoded at", nth).astype(int)
        assert np.abs(got - want).max() <= 1, kind
    page.close()


def test_benchmark_live_drag_runs(browser, server):
    from harness.driver import measure_live_drag, measure_live_steps

    ctx = browser.new_context(viewport={"width": 1500, "height": 2300})
    page = ctx.new_page()
    open_app(page, server)
    left, _ = live_frames(page)
    decodes = "() => window.liveStats.frames"
    image, before = canvas_image(left).tobytes(), left.evaluate(decodes)
    out = measure_live_drag(page, left, seconds=0.5)
    # the measured drag happened: the page decoded, and the image moved
    drawn = left.evaluate(decodes) - before
    assert drawn >= 1 and out["fps"] > 0
    assert 0 < out["ms_per_decode"] < 1000 and out["moves_per_s"] > 0
    assert canvas_image(left).tobytes() != image
    before = left.evaluate(decodes)
    steps = measure_live_steps(page, left, 3)
    # each step was one decode drawn (the measure waits for it)
    assert len(steps) == 3 and all(0 < s < 30 for s in steps)
    assert left.evaluate(decodes) - before >= 3
    ctx.close()


def open_tab(page, name: str) -> None:
    act(page, page.get_by_role("tab", name=name).click)


def test_upload_is_placed_on_both_maps(page, shots, tmp_path):
    from PIL import Image, ImageDraw

    page, frames = page
    im = Image.new("RGB", (90, 120), "white")
    ImageDraw.Draw(im).ellipse([20, 20, 70, 100], outline="black", width=8)
    im.save(tmp_path / "zero.png")
    (tmp_path / "notes.png").write_text("not an image at all")
    open_tab(page, "Your image")
    page.locator("input[type='file']").set_input_files(str(tmp_path / "notes.png"))
    page.get_by_text("Could not use the upload").wait_for(timeout=20_000)
    since = mark(page)
    page.locator("input[type='file']").set_input_files(str(tmp_path / "zero.png"))
    page.locator("[data-testid='stImage']", has_text="as the models see it").wait_for(
        timeout=20_000
    )
    wait_idle(page, since=since)
    for frame in frames:
        wait_change(lambda f=frame: drawn_mark(f, "upload") is not None, False)
    assert image_src(page, "reconstruction", 1)
    page.screenshot(path=str(shots / "upload.png"), full_page=True)


def test_manifold_grid_follows_the_zoom(page, shots):
    page, frames = page
    open_tab(page, "Manifold grid")
    old = image_src(page, "grid", 1)
    page.get_by_text("prior quantiles over the prior's 5–95%").wait_for()
    scroll_zoom(page, frames[1], steps=3, delta=-200, pause_ms=100)
    page.get_by_text("prior quantiles over the visible window").wait_for(timeout=20_000)
    wait_change(lambda: image_src(page, "grid", 1), old)
    page.screenshot(path=str(shots / "grid_zoomed.png"), full_page=True)


def test_url_restores_the_view_and_follows_it(browser, server, spaces, shots):
    ctx = browser.new_context(viewport={"width": 1500, "height": 2300})
    page = ctx.new_page()
    frames = open_app(page, server + "/?sel=17&tab=Interpolation&zr=0.5,-0.25&t=0.3")
    page.get_by_text("Position t along the path").wait_for()
    assert (
        page.get_by_role("tab", name="Interpolation").get_attribute("aria-selected")
        == "true"
    )
    assert_mark_at(frames[1], "cursor", (0.5, -0.25))
    for frame, kind in zip(frames, ("ae", "vae"), strict=True):
        assert_mark_at(frame, "selected", spaces[kind].coords[17])
    assert "sel=17" in page.url
    page.goto(server + "/?sel=banana&tab=Nowhere")
    page.get_by_text("Part of the link could not be used").wait_for(timeout=60_000)
    page.get_by_text("Selected image #0").wait_for()
    page.screenshot(path=str(shots / "bad_link.png"))
    ctx.close()


def pad_ready(page, canvas, x: float, y: float, timeout: float = 20.0) -> None:
    """Hovers the drawing pad at page pixel (x, y) until it shows its drawing
    cursor, as a person waits for it before drawing: the pad turns its pen
    on only once it has loaded its (empty) first drawing, after the canvas
    is there, and fabric.js shows the pen's cursor on a move over the pad
    while the pen is on. A stroke before that draws nothing."""
    steps = itertools.cycle((1, -1))

    def pen_on() -> bool:
        page.mouse.move(x + next(steps), y)  # a move, so that fabric.js looks again
        return canvas.evaluate("(c) => c.style.cursor") == "crosshair"

    wait_until(pen_on, timeout, page)
    page.mouse.move(x, y)


def test_drawing_is_encoded_and_placed(page, shots):
    page, frames = page
    open_tab(page, "Your image")
    # the drawing pad (streamlit-drawable-canvas: fabric.js's canvas that
    # takes the mouse, inside the tab; the view above has canvases too)
    canvas = page.locator(
        "[data-testid='stTabs'] [role='tabpanel']:visible canvas.upper-canvas"
    )
    canvas.wait_for(timeout=20_000)
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pad_ready(page, canvas, cx, cy - 60)
    since = mark(page)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(cx + (5 if i % 2 else -5), cy - 60 + i * 10)
    page.mouse.up()
    page.locator("[data-testid='stImage']", has_text="as the models see it").wait_for(
        timeout=30_000
    )
    wait_idle(page, since=since)
    for frame in frames:
        wait_change(lambda f=frame: drawn_mark(f, "upload") is not None, False)
    page.screenshot(path=str(shots / "drawing.png"), full_page=True)


USERS = 3  # (two cores: more browsers at once only wait longer)


def test_three_users_at_once_keep_their_own_state():
    """The load test of ``python -m benchmarks --users N``, short (the
    benchmark runs eight): three browsers at once; every user has point clicks
    answered, the server selects the very image each page answered with,
    and no input is lost, missed or met with an error."""
    from benchmarks import load
    from benchmarks.rows import table

    rows = {r.name: r for r in load.report(load.measure(USERS, 6, None, alone=False))}
    problems = rows[f"errors, foreign selections, lost or missed inputs, {USERS} users"]
    assert problems.median == 0 and problems.met, problems
    assert "never answered (within 120 s): 0;" in problems.baseline, problems
    assert "presses the view never took as an input: 0" in problems.baseline
    idle = rows[f"users with no answered point click, {USERS} users"]
    assert idle.median == 0 and idle.met, idle
    r = rows[f"click a point, {USERS} users at once"]
    assert r.n >= USERS and 0 < r.median < 30_000, r  # ms
    # after the users leave, the server comes back near where it was once warm
    memory = rows[f"server memory after {USERS} users left, above the warm server"]
    assert memory.met, memory
    assert f"{USERS} users at once" in table(list(rows.values()))


def test_a_large_map_draws_density_and_the_visible_points(
    browser, tmp_path_factory, shots
):
    """A store above the large-map threshold (lowered here to 3,000 points,
    1,000 drawn): a density layer, a capped set of real points, more of them as
    the user zooms in (picked and binned in the browser, exactly as the server
    would), and a click on one selects that very image."""
    from explorer import load_model
    from explorer.app.components import density
    from explorer.data.load import load_dataset
    from explorer.data.store import pack
    from explorer.latent.encoded import encode, open_encoding
    from explorer.model.checkpoint import resolve

    root = tmp_path_factory.mktemp("spaces")
    store = pack(load_dataset("fashion-mnist", "test"), root / "fm", "fm-store")
    for name in ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2"):
        encode(load_model(name), resolve(name), store, progress=False)
    mean = np.asarray(open_encoding(store, resolve("fashion-mnist-ae-z2")).mean)
    env = {
        "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("xdg")),
        "EXPLORER_SPACES_DIR": str(root),
        "EXPLORER_LARGE_MAP": "3000",
        "EXPLORER_DRAW_LIMIT": "1000",
    }
    with streamlit_server(env) as url:
        ctx = browser.new_context(viewport={"width": 1500, "height": 1400})
        page = ctx.new_page()
        left, _ = open_app(page, url + "/?ds=fm-store")
        page.get_by_text("10,000 images: too many to draw one by one").first.wait_for()

        def state():
            return left.evaluate(
                "() => { const gd = document.getElementById('map');"
                " const L = gd._fullLayout;"
                " return {n: Number(gd.dataset.points), window: gd.dataset.window,"
                " all: gd.dataset.all,"
                " file: document.querySelector('#density img').dataset.file,"
                " shown: document.getElementById('density').style.display,"
                " x: L.xaxis.range.slice(), y: L.yaxis.range.slice(),"
                " xs: gd.data.flatMap((t) => Array.from(t.x)),"
                " ys: gd.data.flatMap((t) => Array.from(t.y))}; }"
            )

        start = state()
        assert start["shown"] == "block" and start["n"] == 1000
        # The server's density image has loaded and covers part of the plot.
        left.wait_for_function(
            "() => { const i = document.querySelector('#density img');"
            " return i.complete && i.naturalWidth > 0; }"
        )
        box = left.locator("#density img").bounding_box()
        assert box["width"] > 100 and box["height"] > 100
        # Every shown point follows in the background; then zooms are drawn here.
        wait_change(lambda: state()["all"], None, timeout=30)
        since = mark(page)
        scroll_zoom(page, left, steps=4, delta=-300, pause_ms=100)
        wait_change(lambda: window_drawn(left), None, timeout=30)
        wait_idle(page, since=since)  # the view told Python of the new range
        zoomed = state()
        x0, x1, y0, y1 = json.loads(zoomed["window"])
        assert [x0, x1] == sorted(zoomed["x"]) and [y0, y1] == sorted(zoomed["y"])
        # The view zooms itself (one redraw per step, plotly's wheel zoom not
        # run as well): four wheel steps of 300 (clamped to 20, as plotly
        # does) scale each range by exp(-4 * 20 / 200).
        full = np.ptp(start["x"]), np.ptp(start["y"])
        assert x1 - x0 == pytest.approx(full[0] * np.exp(-0.4), rel=1e-4)
        assert y1 - y0 == pytest.approx(full[1] * np.exp(-0.4), rel=1e-4)
        # no round trip: the server's points and density are the full view's still
        assert zoomed["file"] == start["file"]
        xs, ys = np.array(zoomed["xs"]), np.array(zoomed["ys"])
        assert len(xs) == zoomed["n"] and 0 < zoomed["n"]
        assert np.all((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1))
        # The very points the server would pick for this window (priority order).
        window = ((x0, x1), (y0, y1))
        every = np.arange(len(mean))
        want = density.pick(every[density.inside(mean, window)], len(mean), 1000)
        drawn = {(float(a), float(b)) for a, b in zip(xs, ys, strict=True)}
        assert drawn == {(float(a), float(b)) for a, b in mean[want]}
        # The drawn points in view now are more than the ones drawn there before.
        before = np.array(start["xs"]), np.array(start["ys"])
        inside_before = np.sum(
            (before[0] >= x0)
            & (before[0] <= x1)
            & (before[1] >= y0)
            & (before[1] <= y1)
        )
        assert zoomed["n"] > inside_before
        # The density layer, binned here, is the server's image of this window.
        pixels = left.evaluate(
            "() => { const c = document.querySelector('#density canvas');"
            " return [c.width, c.height, Array.from(c.getContext('2d')"
            ".getImageData(0, 0, c.width, c.height).data)]; }"
        )
        w, h, rgba = pixels
        labels = load_dataset("fashion-mnist", "test").labels
        server = density.density_image(mean, window, labels)
        got = np.array(rgba, np.int16).reshape(h, w, 4)
        # canvas stores alpha-premultiplied colour: compare where opaque enough
        solid = server[..., 3] > 128
        assert (got[..., 3] > 0).sum() == (server[..., 3] > 0).sum()
        assert np.abs(got[..., 3] - server[..., 3]).max() <= 1
        assert np.abs(got[solid][:, :3] - server[solid][:, :3]).max() <= 2
        n_in = int(density.inside(mean, window).sum())
        page.get_by_text(f"({n_in:,} in view)").first.wait_for()
        page.screenshot(path=str(shots / "large-map-zoomed.png"), full_page=True)

        # Click the drawn point farthest from any other drawn one (no doubt
        # which one a click there means).
        pts = np.stack([xs, ys], 1)
        scale = np.array([x1 - x0, y1 - y0])
        gaps = np.linalg.norm((pts[:, None] - pts[None]) / scale, axis=2)
        np.fill_diagonal(gaps, np.inf)
        x, y = pts[int(np.argmax(gaps.min(axis=1)))]
        want = np.flatnonzero(
            (mean[:, 0] == np.float32(x)) & (mean[:, 1] == np.float32(y))
        )
        assert len(want) == 1
        click_data(page, left, float(x), float(y))
        page.get_by_text(f"Selected image #{want[0]}").first.wait_for(timeout=30_000)
        ctx.close()


def test_colour_by_a_measure_colours_the_points_by_it(page, spaces):
    """Switching the colouring redraws the points in one trace on Viridis whose
    colours are each image's loss, as the server measured it."""
    from explorer import load_dataset
    from explorer.latent.measures import image_measures

    page, (left, _) = page
    field = page.locator(
        "[data-testid='stSidebar'] input[aria-label='Colour the points by']"
    )
    field.click()
    since = mark(page)
    page.get_by_role("option", name="loss (reconstruction + β·KL)").click()
    left.wait_for_function(
        "() => { const d = document.getElementById('map').data;"
        " return d.length === 1 && d[0].marker.colorscale === 'Viridis'; }",
        timeout=30_000,
    )
    wait_idle(page, since=since)
    drawn = left.evaluate(
        "() => { const t = document.getElementById('map').data[0];"
        " return [Array.from(t.x), Array.from(t.y), Array.from(t.marker.color),"
        " t.marker.showscale]; }"
    )
    xs, ys, colours, scale = drawn
    assert scale and len(colours) == len(spaces["ae"].coords) == len(xs)
    x, y = load_dataset("fashion-mnist", "test").tensors()
    loss = image_measures(spaces["ae"].model, x, y)["loss"]
    # points are drawn in dataset order; each is coloured by its own loss
    np.testing.assert_allclose(np.stack([xs, ys], 1), spaces["ae"].coords, rtol=1e-6)
    np.testing.assert_allclose(colours, loss, rtol=1e-5)


HOSTILE_CLASSES = [
    '<a href="https://example.invalid">sign in</a>',
    "%{x} and %{y:.2f}",
    "[link](https://example.invalid) **bold**",
]


def test_class_names_from_a_store_show_as_typed(browser, tmp_path, shots):
    """A store's class names are data: plotly's little HTML (<a href>) and its
    hover templates (%{...}) must show them as typed, and so must the page."""
    import json as json_

    data = image_folder(tmp_path / "data" / "hostile", 60, classes=3)
    spaces = tmp_path / "spaces"
    train_on_folder(data, tmp_path / "weights", "hostile", store=spaces / "hostile")
    meta_path = spaces / "hostile" / "dataset.json"
    meta = json_.loads(meta_path.read_text())
    meta["class_names"] = HOSTILE_CLASSES
    meta_path.write_text(json_.dumps(meta))
    env = {
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "EXPLORER_WEIGHTS_DIR": str(tmp_path / "weights"),
        "EXPLORER_SPACES_DIR": str(spaces),
    }
    with streamlit_server(env) as url:
        ctx = browser.new_context(viewport={"width": 1500, "height": 1600})
        page = ctx.new_page()
        left, _ = open_app(page, url + "/?ds=hostile")
        legend = left.locator(".legend .legendtext")
        texts = legend.evaluate_all("(els) => els.map((e) => e.textContent)")
        assert texts == HOSTILE_CLASSES
        assert left.locator(".legend a").count() == 0  # no link was made
        # hover a point of the %{...} class: its name, not a filled template
        x, y = a_point(left, trace=1, index=0)
        hover_data(page, left, x, y)
        left.locator(".hoverlayer .hovertext").first.wait_for(timeout=10_000)
        hover = left.locator(".hoverlayer").evaluate("(e) => e.textContent")
        assert HOSTILE_CLASSES[1] in hover
        # the page's own text: the selected image's class, as typed, no link
        page.get_by_text(f"Selected image #0: {HOSTILE_CLASSES[0]}").wait_for()
        assert page.locator("a[href='https://example.invalid']").count() == 0
        page.screenshot(path=str(shots / "hostile-classes.png"), full_page=True)
        ctx.close()
