"""Selections, aligned maps, directions and the movement view in the page
(AppTest: a lasso or box arrives as the view's event, as the browser sends
it; tests/e2e/test_maps_browser.py draws them with the mouse)."""

from __future__ import annotations

import base64
import csv
import io
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app import catalogue
from explorer.latent import selection as sel
from explorer.latent.align import align
from explorer.latent.directions import class_centroids
from tests.helpers import APP, errors, plain, send_view_event, view_data

DS = "fashion-mnist"
MODELS = {f"ckpt_left_{DS}": f"{DS}-ae-z2", f"ckpt_right_{DS}": f"{DS}-vae-z2"}


def run(query: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in {**MODELS, **state}.items():
        at.session_state[k] = v
    if query:
        at.query_params.update(query)
    return at.run()


def spaces():
    ae = catalogue.get_space(
        str(catalogue.REPO_WEIGHTS / MODELS[f"ckpt_left_{DS}"]), DS, ("test",)
    )
    vae = catalogue.get_space(
        str(catalogue.REPO_WEIGHTS / MODELS[f"ckpt_right_{DS}"]), DS, ("test",)
    )
    return ae, vae


def maps_of(at) -> dict:
    [data] = view_data(at)
    return data


def test_a_box_on_one_map_selects_its_images_and_the_panel_sums_them_up():
    at = run()
    ae, _ = spaces()
    # the box around the middle of the AE's map
    lo, hi = np.percentile(ae.coords, [40, 60], axis=0)
    box = [[float(lo[0]), float(hi[0])], [float(lo[1]), float(hi[1])]]
    at = send_view_event(at, {"kind": "select", "slot": "left", "box": box})
    assert not errors(at)
    want = np.flatnonzero(sel.in_box(ae.coords, box[0], box[1]))
    assert 0 < len(want) < len(ae.coords)
    assert np.array_equal(at.session_state.selection, want)
    heads = [plain(h.value) for h in at.subheader]
    assert f"Selection: {len(want):,} images" in heads
    # the view greys both maps around the same images (a file of indices)
    data = maps_of(at)
    assert data["selection"]["n"] == len(want) and data["n_images"] == 10_000
    # the link carries it, and the panel offers the CSV
    assert sel.decode(at.query_params["set"], 10_000).tolist() == want.tolist()
    assert any(
        b.label == "Download the selection (CSV)" for b in at.get("download_button")
    )
    # the class mix is in the panel, most common first
    labels = catalogue.get_dataset(DS, ("test",)).labels[want]
    top = np.bincount(labels).argmax()
    names = catalogue.get_dataset(DS, ("test",)).class_names
    text = " ".join(plain(m.value) for m in at.markdown)
    assert f"{names[top]}: {np.bincount(labels).max():,}" in text
    # Clear: nothing selected, and the link forgets it
    at.button(key="clear_selection").click().run()
    assert len(at.session_state.selection) == 0 and "set" not in at.query_params
    assert maps_of(at)["selection"] is None


def test_a_lasso_on_the_right_map_selects_the_images_inside_it():
    at = run()
    _, vae = spaces()
    c = vae.coords.mean(0)
    poly = [[c[0] - 1, c[1] - 1], [c[0] + 1, c[1] - 1], [c[0], c[1] + 1]]
    at = send_view_event(
        at,
        {
            "kind": "select",
            "slot": "right",
            "lasso": [list(map(float, p)) for p in poly],
        },
    )
    want = np.flatnonzero(sel.in_lasso(vae.coords, poly))
    assert len(want) and np.array_equal(at.session_state.selection, want)
    # a broken lasso is refused: the selection stands, panel and link too
    at = send_view_event(at, {"kind": "select", "slot": "right", "lasso": [[0, 0]]})
    assert not errors(at)
    assert np.array_equal(at.session_state.selection, want)
    assert f"Selection: {len(want):,} images" in [plain(h.value) for h in at.subheader]
    assert sel.decode(at.query_params["set"], 10_000).tolist() == want.tolist()
    # a shape with nothing inside says so
    at = send_view_event(
        at, {"kind": "select", "slot": "right", "box": [[900, 901], [900, 901]]}
    )
    assert len(at.session_state.selection) == 0
    assert [plain(i.value) for i in at.info] == ["No image lies inside that shape."]
    # a broken one, with nothing selected, says why it was refused
    at = send_view_event(at, {"kind": "select", "slot": "right", "lasso": [[0, 0]]})
    assert not errors(at) and len(at.session_state.selection) == 0
    assert [plain(i.value) for i in at.info] == [
        "That selection could not be read: a lasso needs 3 or more [x, y] points, "
        "not (1, 2)."
    ]
    at = send_view_event(at, {"kind": "select", "slot": "right", "clear": True})
    assert len(at.session_state.selection) == 0
    assert not at.info  # a clear is no refusal: the note goes


def test_the_csv_holds_both_models_codes_and_measures():
    ae, vae = spaces()
    ds = catalogue.get_dataset(DS, ("test",))
    idx = np.array([3, 14, 15])
    measures = {
        n: catalogue.get_measures(str(catalogue.REPO_WEIGHTS / n), DS, ("test",))
        for n in MODELS.values()
    }
    codes = dict(zip(MODELS.values(), (ae.z, vae.z), strict=True))
    rows = list(
        csv.reader(
            io.StringIO(sel.to_csv(idx, ds.labels, ds.class_names, codes, measures))
        )
    )
    assert rows[0][:4] == ["index", "label", f"{DS}-ae-z2.z0", f"{DS}-ae-z2.z1"]
    assert f"{DS}-vae-z2.kl" in rows[0] and len(rows) == 4
    assert rows[2][1] == ds.class_names[ds.labels[14]]


def test_a_link_restores_a_selection_and_a_bad_one_is_named():
    at = run({"set": "5-9,100"})
    assert at.session_state.selection.tolist() == [5, 6, 7, 8, 9, 100]
    assert "Selection: 6 images" in [plain(h.value) for h in at.subheader]
    at = run({"set": "9-5"})
    assert len(at.session_state.selection) == 0
    assert any("set: the run" in plain(w.value) for w in at.warning)


def test_aligning_moves_the_right_map_onto_the_left_and_prints_the_disparity():
    at = run()
    before = next(m for m in maps_of(at)["maps"] if m["slot"] == "right")
    at.sidebar.toggle(key="align").set_value(True).run()
    assert not errors(at)
    ae, vae = spaces()
    a = align(ae.coords, vae.coords)
    caps = " ".join(plain(c.value) for c in at.caption)
    assert f"Disparity {a.disparity:.3f}" in caps
    right = next(m for m in maps_of(at)["maps"] if m["slot"] == "right")
    assert right["points"]["url"] != before["points"]["url"]  # new coordinates
    assert right["points"]["axis_titles"][0].startswith("x (aligned")
    # the browser's linear map is the aligned one: z -> p and back
    pr = right["projection"]
    z = vae.z[:5].astype(np.float64)
    p = (z - pr["mean"]) @ np.array(pr["components"]).T + pr["offset"]
    np.testing.assert_allclose(p, a.apply(vae.coords[:5]), atol=1e-4)
    back = pr["mean"] + (p - pr["offset"]) @ np.array(pr["back"])
    np.testing.assert_allclose(back, z, atol=1e-4)  # a 2-D latent: exact
    assert at.query_params["al"] == "1"
    # a click on the aligned map decodes the code under it
    at = send_view_event(at, {"kind": "space", "slot": "right", "x": 0.5, "y": -0.5})
    np.testing.assert_allclose(
        at.session_state.cursor["right"],
        vae.from_map(a.undo([[0.5, -0.5]])[0]),
        atol=1e-6,
    )


def test_directions_move_each_models_cursor_from_a_to_b():
    at = run(tab="Directions", dir_from="class A's centroid")
    assert not errors(at)
    at.selectbox(key="dir_a").set_value(1)
    at.selectbox(key="dir_b").set_value(3).run()
    at.slider(key="dir_t").set_value(1.0).run()
    assert not errors(at)
    ds = catalogue.get_dataset(DS, ("test",))
    for slot, sp in zip(("left", "right"), spaces(), strict=True):
        cents = class_centroids(sp.z, ds.labels, len(ds.class_names))
        # t = 1 from A's centroid is B's centroid
        np.testing.assert_allclose(at.session_state.cursor[slot], cents[3], atol=1e-5)
    # the analogy grid is drawn for both models
    caps = " ".join(plain(c.value) for c in at.caption)
    assert "decode of C + (Dress − Trouser)" in caps


def test_directions_start_from_the_cursor_and_follow_it_when_it_moves():
    from explorer.latent import directions as dirs

    at = run(tab="Directions")
    at.selectbox(key="dir_a").set_value(0)
    at.selectbox(key="dir_b").set_value(1).run()
    ds = catalogue.get_dataset(DS, ("test",))
    ae, vae = spaces()
    start = {s: at.session_state.cursor[s].copy() for s in ("left", "right")}
    at.slider(key="dir_t").set_value(0.5).run()
    at.slider(key="dir_l1").set_value(1.0).run()
    assert not errors(at)
    for slot, sp in (("left", ae), ("right", vae)):
        c = class_centroids(sp.z, ds.labels, len(ds.class_names))
        comps, sd = dirs.local_directions(sp.z, start[slot], 50)
        want = start[slot] + 0.5 * (c[1] - c[0]) + sd[0] * comps[0]
        np.testing.assert_allclose(at.session_state.cursor[slot], want, atol=1e-5)
    # a click elsewhere: the sliders start again from the clicked spot
    at = send_view_event(at, {"kind": "space", "slot": "left", "x": 1.0, "y": -1.0})
    clicked = at.session_state.cursor["left"].copy()
    at.slider(key="dir_l1").set_value(0.0).run()
    c = class_centroids(ae.z, ds.labels, len(ds.class_names))
    np.testing.assert_allclose(
        at.session_state.cursor["left"], clicked + 0.5 * (c[1] - c[0]), atol=1e-5
    )


def plotly_array(v) -> np.ndarray:
    """A plotly figure's array: a list, or typed (``{"dtype", "bdata"}``)."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v, dtype=float)


def test_the_movement_view_draws_a_line_per_image():
    at = run(tab="Movement")
    assert not errors(at)
    [chart] = at.get("plotly_chart")
    assert "Median move" in " ".join(plain(c.value) for c in at.caption)
    # nothing selected: a line for each of a seeded 300 of the 10,000 images,
    # from its place on the AE's map to its place on the VAE's aligned onto it
    ae, vae = spaces()
    a = align(ae.coords, vae.coords)
    traces = json.loads(chart.proto.spec)["data"]
    lines = [t for t in traces if t["mode"] == "lines"]
    dots = [t for t in traces if t["mode"] == "markers"]
    assert len(lines) == len(dots) == 10  # a pair per class
    idx = [plotly_array(d["customdata"]).astype(int) for d in dots]
    everyone = np.sort(np.concatenate(idx))
    assert len(everyone) == 300 and len(np.unique(everyone)) == 300
    for line, dot, i in zip(lines, dots, idx, strict=True):
        xy = np.stack([plotly_array(line["x"]), plotly_array(line["y"])], 1)
        assert xy.shape == (3 * len(i), 2) and np.isnan(xy[2::3]).all()
        np.testing.assert_allclose(xy[0::3], ae.coords[i], atol=1e-5)
        np.testing.assert_allclose(xy[1::3], a.apply(vae.coords[i]), atol=1e-4)
        ends = np.stack([plotly_array(dot["x"]), plotly_array(dot["y"])], 1)
        np.testing.assert_allclose(ends, xy[1::3], atol=1e-6)


@pytest.mark.parametrize("bad", ["0", "2"])
def test_a_link_with_align_on_or_a_bad_value(bad):
    at = run({"al": bad})
    if bad == "0":
        assert not errors(at) and at.sidebar.toggle(key="align").value is False
    else:
        assert any("al must be 0 or 1" in plain(w.value) for w in at.warning)
