"""The β tab in AppTest, on the shipped series: one frame per β whose points
are the snapshot files' last frames (turned, never scaled), the ring on the
rate–distortion plane at each β's own numbers, the slider's steps, the
readings, and the table; a dataset without a series says so."""

from __future__ import annotations

import json

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.app import keys as K
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


def test_each_frame_is_a_beta_of_the_shipped_series():
    members = find_series(weights_dir(), "fashion-mnist-vae-z2")
    at = _open()
    assert not errors(at)
    (chart,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    frames = chart["frames"]
    assert len(frames) == len(members) >= 7
    steps = chart["layout"]["sliders"][0]["steps"]
    assert [s["label"] for s in steps][0] == "β = 0"
    assert len(steps) == len(members)
    for frame, m in zip(frames, members, strict=True):
        s = read_snapshots(m.folder)
        ring, *classes = frame["data"]
        assert ring["x"] == [float(s.kl[-1])] and ring["y"] == [float(s.recon[-1])]
        # every image, class by class, at its code's distance from 0
        drawn = np.concatenate(
            [np.c_[np.asarray(t["x"]), np.asarray(t["y"])] for t in classes]
        )
        order = np.concatenate([np.flatnonzero(s.labels == c) for c in range(10)])
        want = s.means[-1][order]
        np.testing.assert_allclose(
            np.linalg.norm(drawn, axis=1), np.linalg.norm(want, axis=1), atol=1e-4
        )
        if m.beta == 1:  # the reference is drawn as it is
            np.testing.assert_allclose(drawn, want, atol=1e-4)
        assert frame["layout"]["title"]["text"].startswith(f"β = {m.beta:g}: ")
    titles = [f["layout"]["title"]["text"] for f in frames]
    assert "gaps like an AE's" in titles[0]
    assert "collapsed onto the prior" in titles[-1]
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
    at = _open(dataset="mnist")
    assert not errors(at)
    assert any("No β series for mnist" in i.value for i in at.info)
