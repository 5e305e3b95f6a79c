"""Class-centroid directions, analogies and local directions."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.latent import directions as dirs


def clusters(seed: int = 0):
    """Three classes around known centres in 4-D."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0], [4, 0, 1, 0], [0, -3, 0, 2]], float)
    labels = np.repeat(np.arange(3), 200)
    z = centres[labels] + 0.3 * rng.standard_normal((600, 4))
    return z, labels, centres


def test_centroids_are_each_class_mean_and_nan_for_an_empty_class():
    z, labels, centres = clusters()
    c = dirs.class_centroids(z, labels, 4)
    for k in range(3):
        np.testing.assert_allclose(c[k], z[labels == k].mean(0))
    assert np.isnan(c[3]).all()
    with pytest.raises(ValueError, match="both classes"):
        dirs.class_direction(c, 0, 3)


def test_moving_along_a_to_b_from_as_centroid_reaches_bs():
    z, labels, _ = clusters()
    c = dirs.class_centroids(z, labels, 3)
    d = dirs.class_direction(c, 0, 2)
    np.testing.assert_allclose(dirs.along(c[0], d, 1.0), c[2])
    path = dirs.along(c[0], d, np.linspace(0, 1, 5))
    assert path.shape == (5, 4)
    np.testing.assert_allclose(path[2], (c[0] + c[2]) / 2)


def test_an_analogy_adds_b_minus_a_to_each_c():
    a, b = np.array([1.0, 0.0]), np.array([1.0, 2.0])
    cs = np.array([[0.0, 0.0], [5.0, 5.0]])
    np.testing.assert_allclose(dirs.analogy(a, b, cs), [[0, 2], [5, 7]])


def test_local_directions_follow_the_plane_the_nearby_codes_spread_in():
    rng = np.random.default_rng(1)
    # codes on a plane spanned by e0 (sd 2) and e2 (sd 1) in 5-D, plus noise
    z = np.zeros((500, 5))
    z[:, 0] = 2 * rng.standard_normal(500)
    z[:, 2] = rng.standard_normal(500)
    z += 0.01 * rng.standard_normal((500, 5))
    comps, sd = dirs.local_directions(z, np.zeros(5), k=400)
    assert abs(comps[0, 0]) > 0.99 and abs(comps[1, 2]) > 0.99
    assert sd[0] > sd[1] > 0.5
    np.testing.assert_allclose(np.linalg.norm(comps, axis=1), 1.0)
    with pytest.raises(ValueError):
        dirs.local_directions(z[:2], np.zeros(5))
    with pytest.raises(ValueError):
        dirs.local_directions(z[:, :1], np.zeros(1))
