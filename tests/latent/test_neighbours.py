"""``NearestData``: the k-d tree's answers equal a brute-force search."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.latent.neighbours import NearestData, nearest_images, typical_distance


def brute(z, q, k):
    d = np.linalg.norm(z[None, :, :] - q[:, None, :], axis=-1)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, axis=1), idx


@pytest.mark.parametrize("dim", [1, 2, 16])
def test_query_equals_brute_force(dim):
    rng = np.random.default_rng(dim)
    z = rng.normal(size=(500, dim)).astype(np.float32)
    q = rng.normal(size=(20, dim)).astype(np.float32)
    dist, idx = NearestData(z).query(q, k=7)
    want_d, want_i = brute(z.astype(np.float64), q.astype(np.float64), 7)
    assert dist.shape == idx.shape == (20, 7)
    np.testing.assert_allclose(dist, want_d, rtol=1e-6)
    np.testing.assert_array_equal(idx, want_i)


def test_one_neighbour_and_more_than_there_are():
    z = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]], dtype=np.float32)
    near = NearestData(z)
    dist, idx = near.query(np.array([0.9, 0.1]))
    assert dist.shape == idx.shape == (1, 1) and idx[0, 0] == 2
    dist, idx = near.query(np.zeros(2), k=10)  # only 3 points
    assert idx.tolist() == [[0, 2, 1]] and dist[0].tolist() == [0.0, 1.0, 5.0]
    i, d = nearest_images(near, np.zeros(2), 2)
    assert i.tolist() == [0, 2] and d.tolist() == [0.0, 1.0]


def test_typical_distance_is_the_median_gap():
    z = np.arange(10, dtype=np.float32)[:, None] * 2.0  # points 2 apart
    assert typical_distance(z) == pytest.approx(2.0)
    assert typical_distance(z[:1]) == 0.0
