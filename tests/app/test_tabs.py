"""The tabs under the maps and the shared link, run headless with AppTest on
the shipped fashion-mnist checkpoints and bundled test split. Every tab's
plain page is read from the shared walk (``tab_walk``: the tabs opened in
turn in one session); the tests below open a tab afresh, with settings."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from explorer import load_dataset, load_model
from explorer.app.components.latent_map import points_bytes, write_points
from explorer.app.tabs import names as tab_names
from explorer.app.tabs.metrics import metrics_table
from explorer.latent.measures import image_measures, most_unusual
from tests.helpers import (
    APP,
    errors,
    images,
    markup_in,
    plain,
    send_view_event,
    view_data,
)

pytestmark = pytest.mark.slow


def run(tab: str | None = None, query: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    state.setdefault("live", False)
    if tab:
        state["tab"] = tab
    for k, v in state.items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def button(at, label):
    return [b for b in at.button if b.label == label]


def test_every_tab_shows_its_content(tab_walk):
    for tab in tab_names():
        shown = tab_walk[tab]
        assert not shown.errors, tab
        assert shown.shows_content, (tab, shown.elements)
        assert not [t for t, _ in shown.elements if t == "info"], tab


def test_manifold_grid_over_prior_or_visible_window():
    at = run("Manifold grid", grid_n=6)
    assert not errors(at)
    grids = [px for cap, px in images(at, "Manifold grid") if cap == "6 × 6 grid"]
    side = (6 * 28 + 5) * 2
    assert [g.shape for g in grids] == [(side, side), (side, side)]
    captions = " ".join(c.value for c in at.caption)
    assert "prior quantiles over the prior's 5–95%" in captions
    assert "even steps over the data's range" in captions
    before = grids[1]
    at.session_state["view_right"] = ((0.0, 0.5), (0.0, 0.5))
    at = at.run()
    assert "prior quantiles over the visible window: x 0.00 … 0.50" in " ".join(
        c.value for c in at.caption
    )
    assert not np.array_equal(images(at, "Manifold grid")[1][1], before)


def test_prior_samples_redraw():
    at = run("Prior samples", prior_n=8)
    assert not errors(at)
    shown = [px for _, px in images(at, "Prior samples")]
    assert [px.shape for px in shown] == [(28 * 3, (8 * 28 + 7 * 2) * 3)] * 2
    at = button(at, "New samples")[0].click().run()
    assert not np.array_equal(images(at, "Prior samples")[1][1], shown[1])


def test_resample_row_for_the_vae_only():
    at = run("Selected image", sel=7)
    # original, 2 reconstructions; the AE's neighbours; the VAE's resamples
    # (8 at 3x) and neighbours (8 at 2x): an AE has nothing to resample
    row = (28 * 3, (8 * 28 + 7 * 2) * 3)
    nn = (28 * 2, (8 * 28 + 7 * 2) * 2)
    shapes = [px.shape for _, px in images(at, "Selected image")]
    assert shapes == [(140, 140)] * 3 + [nn, row, nn]
    before = images(at, "Selected image")[4][1]
    at = button(at, "Resample ε")[0].click().run()
    assert not np.array_equal(images(at, "Selected image")[4][1], before)


def test_unusual_images_are_the_highest_loss_and_selectable():
    at = run("Unusual images")
    assert not errors(at)
    ds = load_dataset("fashion-mnist", "test")
    model = load_model("fashion-mnist-ae-z2")
    x, y = ds.tensors()
    top = most_unusual(image_measures(model, x, y)["loss"], 3)
    picks = [b for b in at.button if b.key and b.key.startswith("pick_left_")]
    assert [int(b.key.split("_")[-1]) for b in picks[:3]] == top.tolist()
    at = picks[1].click().run()
    assert at.session_state["sel"] == int(top[1])


def map_args(at) -> list[dict]:
    """The arguments each latent map on the page was drawn with."""
    (data,) = view_data(at)
    return [m["points"] for m in data["maps"]]


def test_colour_by_a_measure():
    at = run(colour="loss")
    assert not errors(at)
    assert [a["values_title"] for a in map_args(at)] == ["loss", "loss"]
    at = at.selectbox(key="colour").set_value("kl").run()
    assert not errors(at)
    # an AE has no KL: its map falls back to the loss, the VAE's shows its KL
    assert [a["values_title"] for a in map_args(at)] == ["loss", "KL"]
    at = at.selectbox(key="colour").set_value("class").run()
    assert [a["values_title"] for a in map_args(at)] == [None, None]


def test_interpolation_charts_both_paths_of_both_models():
    import json

    at = run("Interpolation", interp_a=3, interp_b=42)
    assert not errors(at)
    [chart] = [c for c in at.get("plotly_chart") if "path_chart" in c.proto.id]
    spec = json.loads(chart.proto.spec)
    names = {t["name"] for t in spec["data"]}
    assert names == {
        f"fashion-mnist-{m}-z2, {path}"
        for m in ("ae", "vae")
        for path in ("linear", "spherical")
    }
    assert len(spec["data"]) == 12  # each in the three charts
    # the ends of every path are the images' own codes: no distance to the data
    middle = [t for t in spec["data"] if t["xaxis"] == "x2"]
    assert len(middle) == 4
    for t in middle:
        y = array(t["y"])
        assert len(y) == 41 and y[0] == pytest.approx(0, abs=1e-9)
        assert y[-1] == pytest.approx(0, abs=1e-9) and y.max() > 0


def array(v) -> np.ndarray:
    """A plotly figure's array: a list, or typed (``{"dtype", "bdata"}``)."""
    if isinstance(v, dict):
        import base64

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v, dtype=float)


def test_dimensions_tab_shows_kl_and_traversals():
    at = run("Dimensions")
    assert not errors(at)
    assert at.selectbox(key="dims_model_fashion-mnist").value == "fashion-mnist-vae-z16"
    [(_, traversal)] = images(at, "Dimensions")
    assert traversal.shape == ((16 * 28 + 15 * 2) * 2, (9 * 28 + 8 * 2) * 2)
    assert any("of 16 dimensions active" in c.value for c in at.caption)


def style(at) -> tuple[float, ...]:
    """The Conditional tab's style z (the session's, for its CVAE)."""
    name, z = at.session_state["cvae_style"]
    assert name == "fashion-mnist-cvae-z2"
    return z


def cvae_view(at) -> dict:
    """The data of the Conditional tab's view (the page's is the other)."""
    [data] = [v for v in view_data(at) if v["maps"][0]["slot"] == "cvae"]
    return data


def test_conditional_generation_by_class_and_style():
    at = run("Conditional", sel=11)
    assert not errors(at)
    # the view's decode (its data: the server's PNG here, live off), then the
    # server's strip of every class
    [(_, one), (_, every)] = images(at, "Conditional")
    assert every.shape == (28 * 3, (10 * 28 + 9 * 2) * 3)
    data = cvae_view(at)
    assert data["original"] is False and data["selected"] is None
    [m] = data["maps"]
    assert (m["caption"], m["label"], m["point_selects"], m["lasso"]) == (
        "T-shirt/top at z",
        0,
        False,
        False,
    )
    assert m["cursor"] == [0.0, 0.0]  # the prior's mean, at first
    assert set(m["overlays"]) == {"cursor", "rings"}
    assert at.session_state["cvae_style"] == ("fashion-mnist-cvae-z2", (0.0, 0.0))
    at = at.selectbox(key="cvae_class").set_value(5).run()
    [(_, five), _] = images(at, "Conditional")
    [m5] = cvae_view(at)["maps"]
    assert (m5["caption"], m5["label"]) == ("Sandal at z", 5)
    assert m5["cursor"] == m["cursor"]
    assert not np.array_equal(five, one)
    at = button(at, "Style of the selected image")[0].click().run()
    ds = load_dataset("fashion-mnist", "test")
    from explorer.latent.space import encode_space

    sp = encode_space("c", load_model("fashion-mnist-cvae-z2"), ds)
    assert style(at) == pytest.approx(sp.z[11], abs=1e-6)
    [m11] = cvae_view(at)["maps"]
    assert m11["cursor"] == pytest.approx(sp.z[11], abs=1e-6)
    assert m11["label"] == 5  # the class chosen, not the image's


def test_a_click_or_slider_on_the_conditional_map_sets_the_style():
    """Each event of the Conditional tab's view sets the style z, and the
    server's row of every class follows it."""
    ds = load_dataset("fashion-mnist", "test")
    from explorer.latent.space import encode_space

    sp = encode_space("c", load_model("fashion-mnist-cvae-z2"), ds)
    lo, hi = sp.basis.ranges[:, 0], sp.basis.ranges[:, 1]

    def every_class(at) -> np.ndarray:
        [(_, px)] = [im for im in images(at, "Conditional") if im[0] == ""]
        return px

    at = run("Conditional", sel=11)
    every = every_class(at)

    # a point: that image's latent mean (one outside the sliders' ranges:
    # kept as it is, as the browser decoded it)
    i = next(j for j in range(12, 10**4) if np.any((sp.z[j] < lo) | (sp.z[j] > hi)))
    at = send_view_event(at, {"kind": "point", "slot": "cvae", "index": i}, "cvae_view")
    assert not errors(at)
    assert style(at) == pytest.approx(sp.z[i], abs=1e-6)
    assert at.session_state["sel"] == 11  # a point here selects nothing
    [m] = cvae_view(at)["maps"]
    assert m["cursor"] == pytest.approx(sp.z[i], abs=1e-6) and m["label"] == 0
    assert cvae_view(at)["echo"] == at.session_state["cvae_echo"]
    after_point = every_class(at)
    assert not np.array_equal(after_point, every)
    # empty space: the inverse projection's z there
    xy = sp.to_map(((lo + hi) / 2)[None])[0] * 0.5
    at = send_view_event(
        at, {"kind": "space", "slot": "cvae", "x": xy[0], "y": xy[1]}, "cvae_view"
    )
    assert style(at) == pytest.approx(sp.from_map(xy), abs=1e-6)
    after_space = every_class(at)
    assert not np.array_equal(after_space, after_point)
    # a slider released: the basis' coordinates
    values = [float(hi[0]), float(lo[1])]
    at = send_view_event(
        at, {"kind": "slider", "slot": "cvae", "values": values}, "cvae_view"
    )
    want = sp.basis.set_all(sp.from_map(xy), values)
    assert style(at) == pytest.approx(want, abs=1e-6)
    assert not np.array_equal(every_class(at), after_space)
    want_png = sp.decode(np.repeat(want[None], 10, 0), np.arange(10))
    from explorer.data.images import strip

    assert every_class(at).shape == (28 * 3, (10 * 28 + 9 * 2) * 3)
    assert np.array_equal(every_class(at)[::3, ::3], strip(want_png)[0])
    # a lasso on this map selects nothing (and the view offers none)
    box = {"box": [[-9.0, 9.0], [-9.0, 9.0]]}
    at = send_view_event(at, {"kind": "select", "slot": "cvae", **box}, "cvae_view")
    assert not errors(at)
    assert style(at) == pytest.approx(want, abs=1e-6)
    assert len(at.session_state["selection"]) == 0  # (it would hold every image)


def _digit_png() -> bytes:
    im = Image.new("RGB", (120, 160), "white")
    ImageDraw.Draw(im).rectangle([50, 20, 70, 140], fill="black")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_upload_is_encoded_by_both_models():
    at = run("Your image", uploaded={"name": "one.png", "data": _digit_png()})
    assert not errors(at)
    shown = images(at, "Your image")
    assert [c for c, _ in shown[:3]] == [
        "as the models see it",
        "fashion-mnist-ae-z2 reconstruction",
        "fashion-mnist-vae-z2 reconstruction",
    ]
    assert len(shown) == 5  # and each model's nearest images
    # the upload, made like the data: a light bar on black, inside the frame
    seen = shown[0][1]
    assert seen.shape == (140, 140) and seen[70, 70] > 128 and seen[5, 5] == 0


def test_bad_upload_gets_a_message_and_changes_nothing():
    at = run("Your image", uploaded={"name": "notes.png", "data": b"not an image"})
    assert not at.exception
    assert len(at.error) == 1 and plain(at.error[0].value) == (
        "Could not use the upload. notes.png: not a PNG or JPEG image we can read"
    )
    assert images(at, "Your image") == []
    assert [c for c, _ in images(at)].count("decoded at ×") == 2


def test_a_bad_drawing_gets_its_message_in_chinese():
    """The upload's own words (``explorer.data.upload``) and a drawing's name
    are translated where the tab shows them."""
    at = run("Your image", query={"lang": "zh"}, uploaded={"name": None, "data": b"x"})
    assert not at.exception
    assert [plain(e.value) for e in at.error] == [
        "无法使用上传的图像。你画的图：不是能读取的 PNG 或 JPEG 图像"
    ]


def test_metrics_side_by_side(tmp_path):
    at = run("Metrics")
    assert not errors(at) and len(at.dataframe) == 1
    from explorer.model.checkpoint import REPO_WEIGHTS

    (tmp_path / "bare").mkdir()
    t = metrics_table(
        {"vae": REPO_WEIGHTS / "fashion-mnist-vae-z2", "bare": tmp_path / "bare"}
    )
    card = json.loads(
        (REPO_WEIGHTS / "fashion-mnist-vae-z2" / "metrics.json").read_text()
    )
    assert t["vae"][t["figure"].index("5-NN accuracy")] == f"{card['knn5_acc']:.4f}"
    assert set(t["bare"]) == {"—"}


def test_url_restores_the_view():
    q = {
        "l": "fashion-mnist-ae-z16",
        "ds": "fashion-mnist",
        "sel": "17",
        "a": "4",
        "b": "99",
        "path": "spherical",
        "t": "0.3",
        "tab": "Interpolation",
        "zr": "0.5,-0.25",
    }
    at = run(query=q)
    assert not errors(at) and not at.warning
    ss = at.session_state
    assert at.selectbox(key="ckpt_left_fashion-mnist").value == "fashion-mnist-ae-z16"
    assert (ss["sel"], ss["interp_a"], ss["interp_b"]) == (17, 4, 99)
    assert ss["interp_method"] == "spherical" and ss["interp_t"] == 0.3
    assert ss["tab"] == "Interpolation"
    assert np.allclose(ss["cursor"]["right"], [0.5, -0.25])
    # the page writes the view back
    assert at.query_params["sel"] == "17" and at.query_params["tab"] == "Interpolation"


def test_malformed_url_falls_back_with_a_notice():
    q = {"sel": "abc", "ds": "nope", "zl": "1,2,3", "tab": "Nowhere", "b": "99999"}
    at = run(query=q)
    assert not at.exception
    text = plain(at.warning[0].value)
    for part in ("sel", "unknown dataset", "3 numbers", "Nowhere", "99999"):
        assert part in text, part
    ss = at.session_state
    assert ss["sel"] == 0 and ss["tab"] == tab_names()[0]
    assert at.selectbox(key="dataset").value == "fashion-mnist"


def test_a_link_cannot_put_markup_into_the_notice():
    q = {
        "ds": "[Sign in again](https://example.invalid)",
        "l": "![](https://example.invalid/p.png)",
        "tab": "<img src=x onerror=alert(1)>",
    }
    at = run(query=q)
    assert not at.exception
    [notice] = [w.value for w in at.warning]
    assert markup_in(notice) == []  # no link, image or HTML: shown as typed
    for value in q.values():
        assert value in plain(notice)


def test_points_file_with_values():
    coords = np.array([[0.0, 1.0], [2.0, 3.0]])
    raw = points_bytes(coords, None, np.array([0.5, 7.0]))
    assert len(raw) == 13 * 2
    assert np.frombuffer(raw[-8:], "<f4").tolist() == [0.5, 7.0]
    pts = write_points(coords, None, (), ("x", "y"), np.array([1.0, 2.0]), "loss")
    same = write_points(coords, np.array([0, 1]), ("a", "b"), ("x", "y"))
    assert pts.values_title == "loss" and pts.view_key == same.view_key
    with pytest.raises(ValueError):
        write_points(coords, None, (), ("x", "y"), np.array([1.0, 2.0]))


def test_url_cannot_reach_files_outside_weights():
    q = {"ds": "fashion-mnist", "l": "../../etc/passwd", "r": "/etc", "t": "nan"}
    at = run(query=q)
    assert not at.exception
    text = plain(at.warning[0].value)
    assert "../../etc/passwd" in text and "'/etc'" in text and "t=" in text
    assert at.selectbox(key="ckpt_left_fashion-mnist").value == "fashion-mnist-ae-z2"
    assert at.selectbox(key="ckpt_right_fashion-mnist").value == "fashion-mnist-vae-z2"
