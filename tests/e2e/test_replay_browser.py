"""The map forming in Chromium: the Training tab's replay (the canvas
element, ``explorer.app.components.canvas``), driven as a user drives it (a
click on the slider at a step, then Play), moves the drawn points of both
maps to the snapshot file's means at that step, within a pixel, and the
curves' cursor to the step's epoch; the browser animates it alone (no
rerun). One page load, on a server whose weights folder holds small snapshot
files written for the test."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from explorer.fileio import weights_dir
from explorer.training.snapshots import SNAPSHOT_FILE, read_snapshots
from harness.driver import open_app, streamlit_server
from tests.snapshot_files import write_snapshots

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

MODELS = ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2")  # left, right
STEPS = [0, 1, 3, 10, 30, 100, 200]
K = 3  # the step the slider is moved to
ROOT = ".lx-canvas[data-ready='1']"
# Step ``k`` is shown: its tween has ended and Play (if it ran) has stopped.
SHOWN = """(k) => { const r = document.querySelector('.lx-canvas');
    return r.dataset.step === String(k) && r.dataset.settled === '1'
        && r.dataset.playing !== '1'; }"""
# Every step the element moves to from now on, in order.
RECORD = """() => { const r = document.querySelector('.lx-canvas');
    window.shown = [];
    new MutationObserver(() => window.shown.push(+r.dataset.step))
        .observe(r, {attributeFilter: ['data-step']}); }"""
# The darkest channel of panel i's canvas at CSS pixels ``xy`` (the white
# plot area and its light grid: above 230; a point's colour: below).
INK = """([i, xy]) => { const c = document.querySelectorAll('.lx-canvas canvas')[i];
    const g = c.getContext('2d'), s = c.width / c.clientWidth;
    return xy.map(([x, y]) => Math.min(...g.getImageData(
        Math.round(x * s), Math.round(y * s), 1, 1).data.slice(0, 3))); }"""


@pytest.fixture(scope="module")
def replay_server(tmp_path_factory):
    """A server of the default pair with snapshot files of the test's own:
    300 points of a 2-D latent, 7 frames, in each model's folder."""
    weights = tmp_path_factory.mktemp("weights")
    for seed, name in enumerate(MODELS):
        ignore = shutil.ignore_patterns(SNAPSHOT_FILE)
        shutil.copytree(weights_dir() / name, weights / name, ignore=ignore)
        write_snapshots(weights / name, STEPS, 300, 2, vae="vae" in name, seed=seed)
    cache = tmp_path_factory.mktemp("xdg")
    env = {"EXPLORER_WEIGHTS_DIR": str(weights), "XDG_CACHE_HOME": str(cache)}
    with streamlit_server(env) as url:
        yield url, weights


def _pixels(means: np.ndarray, t: dict) -> np.ndarray:
    """Where the element's transform ``t`` puts ``means`` ``[N, 2]`` (CSS
    pixels of the panel's canvas)."""
    (x0, x1), (y0, y1) = t["x"], t["y"]
    return np.stack(
        [
            t["left"] + (means[:, 0] - x0) / (x1 - x0) * t["width"],
            t["top"] + (y1 - means[:, 1]) / (y1 - y0) * t["height"],
        ],
        1,
    )


def _check_step(page, weights, k: int) -> None:
    for i, name in enumerate(MODELS):
        drawn = page.evaluate(
            "(i) => document.querySelector('.lx-canvas').replayDrawn(i)", i
        )
        want = _pixels(read_snapshots(weights / name).means[k], drawn["transform"])
        np.testing.assert_allclose(np.array(drawn["xy"]), want, atol=1.0, err_msg=name)
        # and the canvas has a point's colour there, for a few of them
        ink = page.evaluate(INK, [i, want[::30].tolist()])
        assert max(ink) < 230, (name, ink)


def test_the_replay_moves_the_drawn_points_to_the_snapshots(
    browser, replay_server, shots
):
    url, weights = replay_server
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    try:
        open_app(page, url + "/?tab=Training")
        root = page.locator(ROOT)
        root.scroll_into_view_if_needed()
        # shown first: the last snapshot (the saved weights' map)
        page.wait_for_function(SHOWN, arg=len(STEPS) - 1)
        assert root.get_attribute("data-steps") == str(len(STEPS))
        _check_step(page, weights, len(STEPS) - 1)

        # the user's way: a click on the slider where step K sits
        box = page.locator(".lx-canvas-slider").bounding_box()
        thumb = 16  # Chromium's range thumb (px): the steps span the rest
        x = box["x"] + thumb / 2 + (box["width"] - thumb) * K / (len(STEPS) - 1)
        page.mouse.click(x, box["y"] + box["height"] / 2)
        page.wait_for_function(SHOWN, arg=K)
        _check_step(page, weights, K)
        epochs = read_snapshots(weights / MODELS[0]).epoch
        cursor = page.evaluate(
            "() => document.querySelector('.lx-canvas').replayDrawn(2).value[0]"
        )
        assert cursor == pytest.approx(float(epochs[K]), rel=1e-5)
        root.screenshot(path=str(shots / "replay-step.png"))

        # Play: every later step in turn, to the last
        page.evaluate(RECORD)
        page.locator(".lx-canvas-play").click()
        page.wait_for_function(SHOWN, arg=len(STEPS) - 1)
        assert page.evaluate("() => window.shown") == list(range(K + 1, len(STEPS)))
        _check_step(page, weights, len(STEPS) - 1)
        root.screenshot(path=str(shots / "replay-played.png"))
    finally:
        context.close()
