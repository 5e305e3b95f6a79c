"""The map forming in Chromium: the Training tab's replay, driven as a user
drives it (a click on the slider's step, then Play), moves the drawn points
of both maps to the snapshot file's means at that frame, within a pixel, and
the curves' cursor to the frame's epoch; plotly.js animates it in the page
(no rerun). One page load, on a server whose weights folder holds small
snapshot files written for the test."""

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
K = 3  # the frame the slider is moved to
# The replay's graph div (the one chart with animation frames), kept as
# window.gd, with its animations counted as plotly.js reports them done.
FIND = """() => {
    const gd = [...document.querySelectorAll('.js-plotly-plot')]
        .find((g) => g._transitionData && g._transitionData._frames.length);
    if (!gd) return false;
    if (window.gd !== gd) {
        window.gd = gd; window.animated = 0; window.shown = [];
        gd.on('plotly_animated', () => window.animated++);
        gd.on('plotly_animatingframe', (e) => window.shown.push(e.name));
    }
    return true;
}"""
# The drawn points of map i: each SVG point's translate, in pixels of the
# plot area, and the axes' ranges and lengths to convert them back.
DRAWN = """(i) => {
    const L = window.gd._fullLayout, s = i ? '2' : '';
    const xa = L['xaxis' + s], ya = L['yaxis' + s];
    const trace = window.gd.querySelectorAll('.scatterlayer .trace')[i];
    const xy = [...trace.querySelectorAll('path.point')].map((p) => {
        const m = /translate\\(([-\\d.e]+),\\s*([-\\d.e]+)\\)/
            .exec(p.getAttribute('transform'));
        return [+m[1], +m[2]];
    });
    return {xy, x: [xa.range, xa._length], y: [ya.range, ya._length]};
}"""
# Frame ``label`` is shown: the slider's current value says so and plotly.js
# has reported ``n`` animations done.
SHOWN = """([n, label]) => window.animated >= n && document.querySelector(
    '.slider-group > text.slider-label').textContent === label"""


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


def _pixels(means: np.ndarray, drawn: dict) -> np.ndarray:
    """Where plotly draws ``means`` ``[N, 2]`` in the plot area (pixels)."""
    (x0, x1), w = drawn["x"]
    (y0, y1), h = drawn["y"]
    return np.stack(
        [(means[:, 0] - x0) / (x1 - x0) * w, (y1 - means[:, 1]) / (y1 - y0) * h], 1
    )


def _check_frame(page, weights, k: int) -> None:
    for i, name in enumerate(MODELS):
        drawn = page.evaluate(DRAWN, i)
        want = read_snapshots(weights / name).means[k]
        np.testing.assert_allclose(
            np.array(drawn["xy"]), _pixels(want, drawn), atol=1.0, err_msg=name
        )


def test_the_replay_moves_the_drawn_points_to_the_snapshots(
    browser, replay_server, shots
):
    url, weights = replay_server
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    try:
        open_app(page, url + "/?tab=Training")
        page.wait_for_function(FIND)
        chart = page.locator("[data-testid='stPlotlyChart']").last
        chart.scroll_into_view_if_needed()
        labels = page.evaluate(
            "() => window.gd._fullLayout.sliders[0].steps.map((s) => s.label)"
        )
        assert len(labels) == len(STEPS)
        _check_frame(page, weights, 0)

        # the user's way: a click on the slider at step K's tick
        tick = page.locator(".slider-container .slider-tick-rect").nth(K).bounding_box()
        rail = page.locator(".slider-container .slider-rail-rect").bounding_box()
        page.mouse.click(tick["x"] + tick["width"] / 2, rail["y"] + rail["height"] / 2)
        page.wait_for_function(SHOWN, arg=[1, labels[K]])
        _check_frame(page, weights, K)
        epochs = read_snapshots(weights / MODELS[0]).epoch
        cursor = page.evaluate("() => window.gd._fullLayout.shapes.map((s) => s.x0)")
        assert cursor == pytest.approx([float(epochs[K])] * 2, rel=1e-5)
        chart.screenshot(path=str(shots / "replay-step.png"))

        # Play: every later frame in turn, to the last
        page.locator(".updatemenu-button").filter(has_text="Play").click()
        page.wait_for_function(SHOWN, arg=[2, labels[-1]])
        assert page.evaluate("() => window.shown") == [
            str(k) for k in range(K, len(STEPS))
        ]
        _check_frame(page, weights, len(STEPS) - 1)
        chart.screenshot(path=str(shots / "replay-played.png"))
    finally:
        context.close()
