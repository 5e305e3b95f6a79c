"""The benchmark's classic page (``benchmarks/classic``): the product's page
with the maps drawn as before the view, kept outside the package as the
baseline of the view's rows. It must still work, or its baselines mean
nothing."""

from __future__ import annotations

import json
import types

import numpy as np
from streamlit.testing.v1 import AppTest

from benchmarks import classic
from benchmarks.classic import page as classic_page
from tests.app.test_page import store, weights  # noqa: F401 (fixtures)
from tests.helpers import errors


def run_classic(**state) -> AppTest:
    at = AppTest.from_file(str(classic.PAGE), default_timeout=180)
    state.setdefault("live", False)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def components(at: AppTest, name: str) -> list[dict]:
    """The arguments of each of the page's components named ``name``."""
    found = []

    def walk(node):
        if getattr(node, "type", "") == "component_instance" and (
            node.proto.component_name.endswith(name)
        ):
            found.append(json.loads(node.proto.json_args))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def large_caption(at: AppTest, nth: int) -> str:
    return [c.value for c in at.caption if "too many to draw" in c.value][nth]


def test_the_classic_page_draws_two_iframe_maps_and_a_click_selects():
    at = run_classic(sel=3)
    assert not errors(at)
    left, right = components(at, "latent_map")
    assert left["points_file"].startswith("/_lx/files/latent_map/points-")
    assert right["overlays"]["selected"] and "rings" in right["overlays"]
    # live decoding off: server sliders at the cursor's coordinates
    sliders = [s for s in at.slider if s.key and s.key.startswith("s_left_")]
    assert len(sliders) == 2


def test_a_classic_click_selects_a_point_or_places_the_cursor(monkeypatch):
    """The iframe's event (AppTest has no iframe to click) through its callback."""
    from explorer.app import actions, records
    from explorer.latent.space import encode_space
    from tests.helpers import tiny_dataset, tiny_vae

    sp = encode_space("tiny", tiny_vae(), tiny_dataset())
    entry = types.SimpleNamespace(name="tiny")
    panels = {
        s: records.Panel(s, entry, space=sp, shown=np.arange(20)[::-1])
        for s in ("left", "right")
    }
    ss = types.SimpleNamespace(session_state={"sel": 0, "cursor": {}})
    monkeypatch.setattr(actions, "st", ss)
    monkeypatch.setattr(classic_page, "st", ss)
    state = ss.session_state
    state[classic_page.MAP_EVENT("left")] = {"kind": "point", "index": 2, "id": 1}
    classic_page.on_map_click(panels, "left")
    assert state["sel"] == 17  # the shown point's dataset index
    np.testing.assert_allclose(state["cursor"]["right"], sp.z[17])
    classic_page.on_map_click(panels, "left")  # the same event again: nothing
    state[classic_page.MAP_EVENT("right")] = {
        "kind": "space",
        "x": 0.5,
        "y": -0.5,
        "id": 2,
    }
    classic_page.on_map_click(panels, "right")
    np.testing.assert_allclose(state["cursor"]["right"], sp.from_map([0.5, -0.5]))
    np.testing.assert_allclose(state["cursor"]["left"], sp.z[17])
    state[classic_page.MAP_EVENT("left")] = {
        "kind": "view",
        "x": [0, 1],
        "y": [2, 3],
        "id": 3,
    }
    classic_page.on_map_click(panels, "left")
    assert state["view_left"] == ((0, 1), (2, 3))


def test_live_decoding_mounts_a_live_decoder_per_map():
    at = run_classic(live=True)
    assert not errors(at)
    decoders = components(at, "live_decoder")
    assert len(decoders) == 2
    assert all(
        d["decoder_file"].startswith("/_lx/files/latent_map/decoder-") for d in decoders
    )


def test_the_classic_large_map_asks_the_page_for_each_window(store):  # noqa: F811
    """A window (as a pan or zoom reports it) is drawn by the server."""
    at = run_classic(dataset="fm")
    assert not errors(at)
    assert "1,000 of them are drawn" in large_caption(at, 0)
    assert "(10,000 in view)" in large_caption(at, 0)
    mean = np.load(store / "fashion-mnist-vae-z2" / "mean.npy")
    at.session_state["view_right"] = ((-1.0, 0.0), (-1.0, 0.0))
    at = at.run()
    inside = np.sum(
        (mean[:, 0] >= -1) & (mean[:, 0] <= 0) & (mean[:, 1] >= -1) & (mean[:, 1] <= 0)
    )
    cap = large_caption(at, 1)
    assert f"({inside:,} in view)" in cap
    assert f"{min(inside, 1000):,} of them are drawn" in cap
