"""The Conditional tab's map in Chromium: a second view on the page (its own
``.lx-root``), whose point clicks decode in the browser at once with the
class chosen in the tab, and whose event sets the style z that the server's
row of every class then follows."""

from __future__ import annotations

import numpy as np
import pytest

from harness.driver import (
    MapRef,
    click_data,
    mark,
    open_app,
    pressable,
    src_bytes,
    wait_change,
    wait_idle,
    wait_until,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

CVAE = "fashion-mnist-cvae-z2"
ROOT = ".lx-root:has(.lx-map[data-lx-slot='cvae'])"
EVERY_WIDTH = (10 * 28 + 9 * 2) * 3  # the every-class strip, 3x

# The CVAE view's decode (its strip's canvas), as a PNG data URL once drawn.
DECODE = """() => {
    const c = document.querySelector(".lx-decoded[data-lx-slot='cvae'] canvas");
    return c && c.dataset.drawn ? c.toDataURL() : null;
}"""
# The src of the server's every-class strip (the one image that wide).
EVERY = """(w) => {
    const im = [...document.querySelectorAll("[data-testid='stImage'] img")]
        .find((i) => i.naturalWidth === w);
    return im ? im.getAttribute("src") : null;
}"""
# The CVAE view's newest input, the last one it answered, and Python's echo.
IDS = """(root) => { const r = document.querySelector(root);
    return [r.dataset.latest, r.dataset.answered, r.dataset.echo]; }"""
# The z and class the CVAE view decoded last.
DECODED = """() => { const v = Object.values(window.latentExplorer.views)
    .find((v) => v.maps.has("cvae"));
    const d = v.decoded.get("cvae"); return [Array.from(d.z), d.label]; }"""


def decoded_pixels(page) -> np.ndarray:
    import base64
    import io

    from PIL import Image

    url = page.evaluate(DECODE)
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.int16)


def reference(sp, z, label: int, scale: int) -> np.ndarray:
    """The server's decode of ``z`` with class ``label``, at the view's scale."""
    img = sp.decode(np.asarray(z)[None], np.array([label]))[0, 0]
    return np.kron(img, np.ones((scale, scale))).astype(np.int16)


def lone_point(cvae, sp, ds) -> tuple[float, float]:
    """Map coordinates of an image not of class 0 whose nearest neighbour on
    the map is far (a click there hits it), where nothing covers the map."""
    from sklearn.neighbors import NearestNeighbors

    dist = NearestNeighbors(n_neighbors=2).fit(sp.coords).kneighbors(sp.coords)[0]
    for j in np.argsort(-dist[:, 1]):
        x, y = map(float, sp.coords[j])
        if ds.labels[j] != 0 and pressable(cvae, x, y):
            return x, y
    raise AssertionError("no lone point to click")


def test_a_click_on_the_conditional_map_decodes_at_once_with_the_class(
    browser, server, shots
):
    from explorer import load_dataset, load_model
    from explorer.latent.space import encode_space

    ds = load_dataset("fashion-mnist", "test")
    sp = encode_space("c", load_model(CVAE), ds)
    ctx = browser.new_context(viewport={"width": 1500, "height": 1800})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_app(page, server + "/?tab=Conditional&sel=11")
    assert page.locator(".lx-root").count() == 2  # the page's view and the tab's
    cvae = MapRef(page, "cvae")
    cvae.wait_for_selector("#map[data-ready='1']", timeout=60_000)
    page.locator(".lx-map[data-lx-slot='cvae']").scroll_into_view_if_needed()
    # no selected image in its strip, no lasso or box on its map
    assert page.locator(f"{ROOT} .lx-original").count() == 0
    assert cvae.locator(".modebar-btn[data-title='Lasso Select']").count() == 0
    wait_until(lambda: page.evaluate(DECODE) is not None)
    # decoded here: the data names the decoder and carries no server image
    assert page.evaluate(
        "() => { const m = Object.values(window.latentExplorer.views)"
        ".find((v) => v.maps.has('cvae')).d.maps[0];"
        " return Boolean(m.decoder_url) && m.image === null; }"
    )
    before, every = page.evaluate(DECODE), page.evaluate(EVERY, EVERY_WIDTH)
    assert every is not None
    scale = 5
    np.testing.assert_allclose(
        decoded_pixels(page), reference(sp, np.zeros(2), 0, scale), atol=2
    )

    # An image of another class than the chosen one (T-shirt/top, 0), apart
    # from the others (a CVAE's map mixes the classes): the view decodes its
    # z with the chosen class at once; then the rerun's every-class row.
    x, y = lone_point(cvae, sp, ds)
    since = mark(page)
    click_data(page, cvae, x, y)
    wait_change(lambda: page.evaluate(DECODE), before)
    # the view's own answer: the click's id answered in the page
    wait_until(lambda: len(set(page.evaluate(IDS, ROOT)[:2])) == 1)
    latest = page.evaluate(IDS, ROOT)[0]
    z, label = page.evaluate(DECODED)
    assert label == 0
    [i] = np.flatnonzero(np.all(np.abs(sp.z - z) < 1e-5, axis=1))
    own = int(ds.labels[i])
    assert own != 0
    got = decoded_pixels(page)
    np.testing.assert_allclose(got, reference(sp, z, 0, scale), atol=2)
    assert np.abs(got - reference(sp, z, own, scale)).max() > 20  # not its class
    wait_idle(page, since=since)
    wait_until(lambda: page.evaluate(IDS, ROOT)[2] == latest)  # Python echoed it
    # (while the rerun redraws it, the row may be gone for a moment)
    wait_until(lambda: page.evaluate(EVERY, EVERY_WIDTH) not in (None, every))
    after = page.evaluate(EVERY, EVERY_WIDTH)
    want = sp.decode(np.repeat(np.asarray(z)[None], 10, 0), np.arange(10))
    row = shown_image_src(page, after)
    np.testing.assert_allclose(row[::3, ::3][:, :28], want[0, 0], atol=1)
    np.testing.assert_allclose(row[::3, ::3][:, -28:], want[9, 0], atol=1)

    # The class: Streamlit's select; the view decodes the same z with it.
    clicked = page.evaluate(DECODE)
    page.locator("input[aria-label='Class']").click()
    since = mark(page)
    page.get_by_role("option", name="Sandal", exact=True).click()
    wait_change(lambda: page.evaluate(DECODE), clicked)
    wait_idle(page, since=since)
    wait_until(lambda: page.evaluate(DECODED)[1] == 5)
    z5, _ = page.evaluate(DECODED)
    np.testing.assert_allclose(z5, z, atol=1e-6)
    np.testing.assert_allclose(decoded_pixels(page), reference(sp, z, 5, scale), atol=2)
    page.screenshot(path=shots / "conditional.png", full_page=True)
    ctx.close()
    assert not errors, errors


def shown_image_src(page, src: str) -> np.ndarray:
    """The pixels of the ``st.image`` whose src is ``src``, as served."""
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(src_bytes(page, src))), dtype=np.int16)
