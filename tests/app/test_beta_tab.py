"""The β tab in AppTest, on the shipped series: the canvas element's data,
one step per β whose points (decoded as the browser does) are the snapshot
files' last frames (turned, never scaled), the ring on the rate–distortion
plane at each β's own numbers, the slider's steps, the readings, and the
table; a dataset without a series says so."""

from __future__ import annotations

import json

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.app import keys as K
from explorer.app.components import canvas
from explorer.fileio import weights_dir
from explorer.training.beta import find_series
from explorer.training.snapshots import read_snapshots
from tests.helpers import APP, errors

TAB = "β from AE to VAE"


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["live"] = False
    at.query_params["tab"] = TAB
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _canvas(at) -> dict:
    """The canvas element's data (the β view's), as the browser gets it."""
    (el,) = [
        e
        for e in at.get("bidi_component")
        if e.proto.component_name == "latent_explorer_canvas"
    ]
    return json.loads(json.loads(el.proto.json)["canvas"])


def test_each_frame_is_a_beta_of_the_shipped_series():
    members = find_series(weights_dir(), "fashion-mnist-vae-z2")
    at = _open()
    assert not errors(at)
    d = _canvas(at)
    plane, codes = d["panels"]
    assert len(d["steps"]) == len(members) >= 7
    assert d["steps"][0] == "β = 0"
    assert codes["circles"] == [1.0, 2.0] and codes["equal"]
    xy = canvas.decode(codes["frames"]).reshape(-1, codes["n"], 2)
    labels = canvas.decode(codes["labels"], np.uint8)
    rings = plane["marker"]
    assert plane["log_x"]  # the KL from ~0 (collapsed) to tens of nats (β = 0)
    kls = [float(read_snapshots(m.folder).kl[-1]) for m in members]
    left = min(k for k in kls if k >= 0.05) / 2  # where a KL of ~0 is drawn
    for k, m in enumerate(members):
        s = read_snapshots(m.folder)
        assert codes["pick"][k] == k
        assert rings["x"][k] == max(float(s.kl[-1]), left)
        assert rings["y"][k] == float(s.recon[-1])
        # every image at its code's distance from 0, in its class
        want = s.means[-1]
        np.testing.assert_allclose(
            np.linalg.norm(xy[k], axis=1), np.linalg.norm(want, axis=1), atol=1e-4
        )
        assert labels.tolist() == s.labels.tolist()
        if m.beta == 1:  # the reference is drawn as it is
            np.testing.assert_allclose(xy[k], want, atol=1e-4)
            assert d["start"] == k
        assert d["texts"][k].startswith(f"β = {m.beta:g}: ")
        x0, x1, y0, y1 = codes["ranges"][k]  # square, holding every point
        assert -x0 == x1 == -y0 == y1 >= np.abs(xy[k]).max()
    assert "gaps like an AE's" in d["texts"][0]
    assert "collapsed onto the prior" in d["texts"][-1]
    assert plane["series"][0]["labels"] == d["steps"]
    (table,) = at.dataframe
    assert table.value["active units"].iloc[-1] == "0 / 2"
    assert table.value["active units"].iloc[0] == "2 / 2"
    # one β of the series opened on the right map
    pick = at.select_slider(key=K.BETA_PICK)
    assert pick.value == "fashion-mnist-vae-z2-b1"
    pick.set_value(members[2].name).run()
    at.button(key=K.BETA_OPEN).click().run()
    assert not errors(at)
    assert at.session_state[K.CHECKPOINT("right", "fashion-mnist")] == (members[2].name)


def test_a_dataset_without_a_series_says_so():
    at = _open(ds="mnist")
    assert not errors(at)
    assert any("No β series for mnist" in i.value for i in at.info)
