"""``latent-explorer explore`` in a real Chromium: a user's conv VAE (a module
named ``file.py:factory``) beside an MLP AE of the explorer's own, on a folder
of images made here. Clicks on both maps, and a slider the server answers
(the conv decoder cannot run in the browser)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.driver import (
    CAUGHT_UP,
    a_point,
    act,
    answered_image,
    click_data,
    drawn_mark,
    empty_spot,
    free_port,
    image_src,
    link_params,
    mark,
    open_app,
    wait_change,
    wait_idle,
)
from tests.helpers import image_folder, train_on_folder, user_conv_vae

# (the browser fixture skips without Playwright; the tests that need no
# browser run all the same)
pytestmark = pytest.mark.browser


def explore_process(args: list[str], env: dict, timeout: float = 120.0):
    """Runs ``latent-explorer explore ARGS``; returns the process, the URL it
    printed and its log."""
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "explorer", "explore", *args, "--headless"]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = Path(log.name).read_text()
        found = re.search(r"Latent Explorer: (http://\S+)", text)
        if found:
            return proc, found.group(1), log.name
        if proc.poll() is not None:
            raise AssertionError(f"explore exited {proc.returncode}:\n{text}")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"explore printed no URL:\n{Path(log.name).read_text()}")


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    root = tmp_path_factory.mktemp("explore")
    folder = image_folder(root / "squares", 90, classes=3, side=16)
    vae = user_conv_vae(root)
    (ae,) = train_on_folder(folder, root / "w", "squares", ("ae",), side=16)
    env = {"XDG_CACHE_HOME": str(root / "cache")}
    args = ["--data", f"folder:{folder}", "--model", vae, "--model", str(ae)]
    proc, url, log = explore_process([*args, "--port", str(free_port())], env)
    try:
        yield url, args, env
    finally:
        proc.terminate()
        proc.wait(30)
    print(Path(log).read_text()[-2000:])


def test_explore_clicks_and_a_server_slider_on_both_maps(browser, explored, tmp_path):
    url, _, _ = explored
    page = browser.new_context(viewport={"width": 1500, "height": 2000}).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    left, right = open_app(page, url)
    assert page.get_by_text("conv_vae", exact=True).count() >= 1
    # The conv decoder cannot run in the browser: the caption says why.
    page.get_by_text("cannot run in the browser").first.wait_for(timeout=10_000)
    for n, frame in enumerate((left, right)):
        # A point: selected on both maps. The server selects the very image
        # the page answered the click with (not the one selected before), and
        # the conv VAE's image (decoded by the server) follows it.
        x, y = a_point(frame, 1, n + 3)
        before = link_params(page).get("sel", "0")
        old_img = image_src(page, "decoded", 0)
        since = mark(page)
        click_data(page, frame, x, y)
        wait_idle(page, since=since)
        page.wait_for_function(CAUGHT_UP, polling="raf", timeout=30_000)
        chosen = answered_image(page)
        assert link_params(page)["sel"] == str(chosen) != before
        page.get_by_text(f"Selected image #{chosen}").first.wait_for(timeout=30_000)
        assert image_src(page, "decoded", 0) != old_img
        # Empty space: this side's cursor moves there and decodes it (the conv
        # VAE's image comes from the server; the MLP AE's is drawn live in
        # the browser); the conv VAE's image stays when the AE's map is hit.
        old_mark = drawn_mark(frame, "cursor")
        old_img = image_src(page, "decoded", 0)
        since = mark(page)
        click_data(page, frame, *empty_spot(frame))
        wait_change(lambda f=frame: drawn_mark(f, "cursor"), old_mark)
        wait_idle(page, since=since)
        # the view has drawn what that rerun sent: the image is final now
        page.wait_for_function(CAUGHT_UP, polling="raf", timeout=30_000)
        if n == 0:
            wait_change(lambda: image_src(page, "decoded", 0), old_img)
        else:
            assert image_src(page, "decoded", 0) == old_img
    # The conv VAE's first slider (the page's own; the AE's live sliders are
    # in the decoder's frame): the server decodes on release.
    old = image_src(page, "decoded", 0)
    pc1 = page.locator("input[type='range']").first
    for _ in range(4):
        pc1.focus()
        act(page, lambda: page.keyboard.press("ArrowRight"))
    wait_change(lambda: image_src(page, "decoded", 0), old)
    page.screenshot(path=tmp_path / "explore.png", full_page=True)
    assert not errors, errors


def test_a_second_run_reuses_the_encodings(explored):
    _, args, env = explored
    proc, url, log = explore_process([*args, "--port", str(free_port())], env)
    try:
        text = Path(log).read_text()
        assert "folder squares: reusing" in text, text
        assert "conv_vae: reusing its encoding" in text, text
        assert "squares-ae-z2: reusing its encoding" in text, text
    finally:
        proc.terminate()
        proc.wait(30)
