"""The replay's figure without a page: the slider's steps when the models'
snapshots differ in number (each map shows its frame nearest in epoch), the
projection of a latent above 2-D, and one map alone."""

from __future__ import annotations

import numpy as np

from explorer.app import replay

WORDS = replay.Words("recon", "KL", "epoch", "epoch {epoch}", "Play", "Pause")


def _map(epoch, n: int = 5, dim: int = 2, seed: int = 0) -> replay.MapFrames:
    rng = np.random.default_rng(seed)
    xy = rng.normal(size=(len(epoch), n, dim)).astype(np.float32)
    return replay.MapFrames(
        "m", xy, np.asarray(epoch), ["#000"] * n, ["a"] * n, ("x", "y")
    )


def test_maps_of_other_frame_counts_step_through_every_epoch_nearest():
    a = _map([0.0, 0.5, 1.0, 2.0])
    b = _map([0.0, 0.4, 2.0])
    t, pick = replay.steps([a, b])
    np.testing.assert_allclose(t, [0.0, 0.4, 0.5, 1.0, 2.0])
    assert pick.tolist() == [[0, 1, 1, 2, 3], [0, 1, 1, 1, 2]]
    fig = replay.figure([a, b], [], WORDS)
    assert len(fig.frames) == 5
    labels = [s["label"] for s in fig.layout.sliders[0].steps]
    assert labels == ["epoch 0", "epoch 0.4", "epoch 0.5", "epoch 1", "epoch 2"]
    np.testing.assert_array_equal(fig.frames[3].data[1].x, b.xy[1, :, 0])


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


def test_one_map_alone_spans_the_row_and_the_cursor_follows_its_axes():
    fig = replay.figure([_map([0.0, 1.0])], [], WORDS)
    assert fig.layout.shapes[0].xref == "x2" and fig.layout.shapes[1].xref == "x3"
    assert [f.layout.shapes[0].x0 for f in fig.frames] == [0.5, 1.0]
