"""Non-linear maps in the page: a UMAP or t-SNE fitted in the background
while the PCA map shows, then drawn, clicked and linked (AppTest; the fit
itself is stubbed with a fast non-linear map: tests/latent/test_maps.py fits
the real ones)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app import catalogue, fits
from explorer.latent import maps
from tests.helpers import APP, errors, plain, send_view_event, view_data

DS = "fashion-mnist"
MODELS = {f"ckpt_left_{DS}": f"{DS}-vae-z16", f"ckpt_right_{DS}": f"{DS}-ae-z2"}


def bent(means: np.ndarray) -> np.ndarray:
    """A fast stand-in for a fit: a non-linear 2-D map of the means."""
    return np.stack([np.tanh(means[:, 0]), means[:, 1] ** 3 + 0.1 * means[:, 2]], 1)


@pytest.fixture
def stub(monkeypatch):
    """UMAP fits that wait for ``gate`` (so a test sees one running)."""
    fits.fits.clear()
    gate = threading.Event()

    def fit(means, seed, progress):
        progress(0.0, "nearest neighbours")
        assert gate.wait(120)
        return bent(means)

    monkeypatch.setattr(maps, "_fit_umap", fit)
    yield gate
    gate.set()
    fits.fits.clear()


def wait_fits(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while fits.fits().running():
        assert time.monotonic() < deadline, "the fit did not finish"
        time.sleep(0.05)


def left_map(at) -> dict:
    [data] = view_data(at)
    return next(m for m in data["maps"] if m["slot"] == "left")


def test_a_umap_map_fits_in_the_background_then_decodes_anywhere(stub):
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in {**MODELS, f"map_left_{DS}": "umap"}.items():
        at.session_state[k] = v
    at.run()
    assert not errors(at)
    # while it fits: the PCA map, and the fit's progress
    assert left_map(at)["projection"] is not None
    bars = [p.proto.text for p in at.get("progress")]
    assert any("Fitting a UMAP map of 10,000 points" in t for t in bars), bars
    # a 2-D model's map has no choice to make
    assert [s.key for s in at.sidebar.selectbox if s.key.startswith("map_")] == [
        f"map_left_{DS}"
    ]
    stub.set()
    wait_fits()
    at.run()
    assert not errors(at)
    m = left_map(at)
    assert m["projection"] is None  # the view leaves its clicks to Python
    assert "rings" not in m["overlays"] and "ellipses" not in m["overlays"]
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "UMAP of the latent means" in captions
    assert "the sliders move along the latent's own dimensions" in captions
    assert at.query_params["ml"] == "umap"
    entry = next(e for e in catalogue.scan() if e.name == f"{DS}-vae-z16")
    space, _ = catalogue.get_mapped(str(entry.path), DS, ("test",), "umap")
    np.testing.assert_allclose(space.coords, bent(space.z))
    # a click between three points decodes their interpolated code
    xy = space.coords[[0, 1, 2]].mean(0)
    at = send_view_event(at, {"kind": "space", "slot": "left", "x": xy[0], "y": xy[1]})
    assert not errors(at)
    np.testing.assert_allclose(
        at.session_state["cursor"]["left"], space.projection.inverse(xy[None])[0]
    )
    assert not any("Outside the data" in w.value for w in at.warning)
    # outside the data's hull: the nearest image's code, and a warning
    far = space.coords.max(0) + 5.0
    at = send_view_event(
        at, {"kind": "space", "slot": "left", "x": far[0], "y": far[1]}
    )
    j = int(np.argmin(((space.coords - far) ** 2).sum(1)))
    np.testing.assert_allclose(at.session_state["cursor"]["left"], space.z[j])
    assert any("Outside the data on this UMAP map" in w.value for w in at.warning)
    assert left_map(at)["overlays"]["cursor"] == pytest.approx(list(far))  # as clicked
    # back to the PCA map: the cursor is placed there, the note is gone
    at = at.selectbox(key=f"map_left_{DS}").set_value("pca").run()
    pca, _ = catalogue.get_mapped(str(entry.path), DS, ("test",), "pca")
    cursor = at.session_state["cursor"]["left"]
    np.testing.assert_allclose(
        left_map(at)["overlays"]["cursor"], pca.to_map(cursor)[0], rtol=1e-9
    )
    assert not any("Outside the data" in w.value for w in at.warning)
    at = at.selectbox(key=f"map_left_{DS}").set_value("umap").run()
    # a point click moves the cursor there (the warning goes)
    at = send_view_event(at, {"kind": "point", "slot": "left", "index": 7})
    assert at.session_state.sel == 7
    assert not any("Outside the data" in w.value for w in at.warning)


def test_a_link_opens_its_umap_map(stub):
    stub.set()
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(
        {"ds": DS, "l": f"{DS}-vae-z16", "r": f"{DS}-ae-z2", "ml": "umap"}
    )
    at.run()
    wait_fits()
    at.run()
    assert not errors(at)
    assert at.selectbox(key=f"map_left_{DS}").value == "umap"
    assert left_map(at)["projection"] is None
    bad = AppTest.from_file(APP, default_timeout=180)
    bad.query_params.update({"ds": DS, "l": f"{DS}-vae-z16", "ml": "isomap"})
    bad.run()
    assert any("unknown map 'isomap'" in plain(w.value) for w in bad.warning)


def test_a_failed_fit_says_why_and_keeps_the_pca_map(monkeypatch):
    fits.fits.clear()

    def broken(means, seed, progress):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(maps, "_fit_tsne", broken)
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in {**MODELS, f"map_left_{DS}": "tsne"}.items():
        at.session_state[k] = v
    at.run()
    wait_fits()
    at.run()
    assert not errors(at)
    assert left_map(at)["projection"] is not None
    assert any(
        "No t-SNE map: the t-SNE fit failed: RuntimeError: out of memory"
        in plain(w.value)
        for w in at.warning
    )
    fits.fits.clear()
