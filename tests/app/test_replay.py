"""The replay's element data without a page: the slider's steps when the
models' snapshots differ in number (each map shows its frame nearest in
epoch), the positions sent as float32 (decoded here, as the browser does),
the projection of a latent above 2-D, and one map alone."""

from __future__ import annotations

import numpy as np

from explorer.app import replay
from explorer.app.components import canvas

WORDS = replay.Words("recon", "KL", "epoch", "epoch {epoch}", "Play", "Pause", "n")


def _map(epoch, n: int = 5, dim: int = 2, seed: int = 0) -> replay.MapFrames:
    rng = np.random.default_rng(seed)
    xy = rng.normal(size=(len(epoch), n, dim)).astype(np.float32)
    labels = np.arange(n) % 3
    return replay.MapFrames(
        "m", xy, np.asarray(epoch), labels, ["a", "b", "c"], ("x", "y")
    )


def _frames(panel: dict) -> np.ndarray:
    return canvas.decode(panel["frames"]).reshape(-1, panel["n"], 2)


def test_maps_of_other_frame_counts_step_through_every_epoch_nearest():
    a = _map([0.0, 0.5, 1.0, 2.0])
    b = _map([0.0, 0.4, 2.0], seed=1)
    t, pick = replay.steps([a, b])
    np.testing.assert_allclose(t, [0.0, 0.4, 0.5, 1.0, 2.0])
    assert pick.tolist() == [[0, 1, 1, 2, 3], [0, 1, 1, 1, 2]]
    curves = [replay.Curves("b", "#f00", b.epoch, np.array([3.0, 2, 1]), None)]
    d = replay.element([a, b], curves, WORDS)
    assert d["steps"] == ["epoch 0", "epoch 0.4", "epoch 0.5", "epoch 1", "epoch 2"]
    left, right, recon = d["panels"]  # (no KL panel: no model has a KL term)
    assert [p["kind"] for p in d["panels"]] == ["map", "map", "curve"]
    assert right["pick"] == [0, 1, 1, 1, 2]
    # step 3 shows b's frame 1, as float32, exactly
    np.testing.assert_array_equal(_frames(right)[right["pick"][3]], b.xy[1])
    np.testing.assert_array_equal(_frames(left), a.xy)
    assert canvas.decode(left["labels"], np.uint8).tolist() == [0, 1, 2, 0, 1]
    assert left["names"] == ["a", "b", "c"]
    # the ranges hold every frame; the cursor's x is each step's epoch, step 0
    # at the log axis's floor (half the first positive epoch)
    x0, x1, y0, y1 = left["range"]
    assert x0 < a.xy[..., 0].min() and x1 > a.xy[..., 0].max()
    assert y0 < a.xy[..., 1].min() and y1 > a.xy[..., 1].max()
    assert recon["marker"]["x"] == [0.2, 0.4, 0.5, 1.0, 2.0]
    assert recon["log_x"] and recon["series"][0]["y"] == [3.0, 2.0, 1.0]


def test_above_2d_one_pca_of_the_last_frame_serves_every_frame():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(3, 50, 4)) * np.array([5.0, 2.0, 0.5, 0.1])
    xy, projected = replay.positions(means)
    assert projected and xy.shape == (3, 50, 2)
    centre = means[-1].mean(0)
    axes = np.linalg.svd(means[-1] - centre)[2][:2]
    want = (means - centre) @ axes.T  # [3, 50, 2], up to each axis's sign
    sign = np.sign(np.sum(xy[-1] * want[-1], 0))
    np.testing.assert_allclose(xy, want * sign, atol=1e-4)  # every frame


def test_one_map_alone_spans_its_row_over_the_curves():
    m = _map([0.0, 1.0])
    curves = [replay.Curves("m", "#00f", m.epoch, np.ones(2), np.ones(2))]
    d = replay.element([m], curves, WORDS)
    kinds = [(p["kind"], p["row"], p["width"]) for p in d["panels"]]
    assert kinds == [("map", 0, 1.0), ("curve", 1, 1.0), ("curve", 1, 1.0)]
    assert [p["marker"]["x"] for p in d["panels"][1:]] == [[0.5, 1.0]] * 2
    assert d["words"] == {"play": "Play", "pause": "Pause"} and d["texts"] is None
