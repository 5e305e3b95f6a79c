"""A UMAP map in Chromium: drawn from a cached fit, clicked in empty space
(Python inverts it, the view decodes), with the sliders following.

The fit is written into the server's cache from the server's own codes (a
stand-in map of them: tests/latent/test_maps.py fits real UMAPs), so the
page finds it done, as it would on any start after the first fit."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from explorer.latent import maps
from harness.driver import (
    click_data,
    data_to_page,
    drawn_mark,
    empty_spots,
    image_src,
    link_params,
    mark,
    open_app,
    wait_change,
    wait_idle,
    wait_until,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

DS, MODEL = "fashion-mnist", "fashion-mnist-vae-z16"


def bent(means: np.ndarray) -> np.ndarray:
    return np.stack([np.tanh(means[:, 0]), means[:, 1] ** 3 + 0.1 * means[:, 2]], 1)


def assert_near(got, want, tol: float = 2.0) -> None:
    assert got is not None and np.hypot(got[0] - want[0], got[1] - want[1]) <= tol


def test_a_click_on_a_umap_map_decodes_there(browser, tmp_path):
    from harness.driver import streamlit_server

    shots = Path(os.environ.get("EXPLORER_SCREENSHOTS") or tmp_path)

    cache = tmp_path / "xdg"
    link = f"/?ds={DS}&l={MODEL}&r={DS}-ae-z2"
    with streamlit_server({"XDG_CACHE_HOME": str(cache)}) as url:
        ctx = browser.new_context(viewport={"width": 1500, "height": 2000})
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_app(page, url + link)  # the PCA map; the server caches its codes
        home = cache / "latent-explorer"
        [codes] = (home / "codes").rglob(f"{MODEL}-*/mean.npy")
        means = np.asarray(np.load(codes), dtype=np.float64)
        coords = bent(means)
        (home / "maps").mkdir()
        np.save(maps._file("umap", means, home / "maps", 0), coords)
        page.close()
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        left, _ = open_app(page, url + link + "&ml=umap")
        page.get_by_text("UMAP of the latent means").first.wait_for(timeout=20_000)
        assert (
            left.evaluate(
                "() => document.getElementById('map')._fullLayout.xaxis.title.text"
            )
            == "UMAP 1"
        )
        # a spot between images (inside their hull): the code the map's
        # inverse gives there, decoded
        proj = maps.MapProjection("umap", means, coords)
        spots = empty_spots(left, 20, np.random.default_rng(0))
        xy = next(p for p in spots if proj.inside(np.array([p]))[0])
        old = image_src(page, "decoded at", 0)
        sliders = page.locator(".lx-root input[type=range]")
        before = [sliders.nth(i).input_value() for i in range(sliders.count())]
        link_before = link_params(page)
        since = mark(page)
        click_data(page, left, *xy)
        wait_change(lambda: image_src(page, "decoded at", 0), old)
        wait_idle(page, since=since)
        # the link as that run wrote it, once the page has taken it
        zl_before = link_before.get("zl")
        wait_until(lambda: link_params(page).get("zl") != zl_before)
        assert link_params(page)["sel"] == "0"  # no image was selected: empty space
        zl = link_params(page)["zl"]
        got = np.array([float(v) for v in zl.split(",")])
        # (the click lands within a pixel of xy, and the URL keeps 5 digits)
        spread = np.sqrt(((means - means.mean(0)) ** 2).sum(1).mean())
        want = proj.inverse(np.array([xy]))[0]
        assert np.linalg.norm(got - want) < 0.05 * spread, (got, want)
        assert np.sqrt(((means - got) ** 2).sum(1)).min() > 1e-3  # not one image's
        assert_near(drawn_mark(left, "cursor"), data_to_page(left, *xy))
        after = [sliders.nth(i).input_value() for i in range(sliders.count())]
        assert after != before  # the sliders moved to the new code
        assert not page.get_by_text("Outside the data").count()
        page.screenshot(path=shots / "umap-click.png", full_page=True)
        ctx.close()
    assert not errors, errors
