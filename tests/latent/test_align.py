"""Procrustes alignment of one map onto another."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.latent.align import align


def rotation(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])


@pytest.mark.parametrize("reflect", [False, True])
def test_a_rotated_reflected_scaled_copy_aligns_exactly(reflect):
    rng = np.random.default_rng(0)
    target = rng.normal(size=(200, 2)) * [3.0, 1.0]
    flip = np.diag([1.0, -1.0]) if reflect else np.eye(2)
    source = (target @ flip @ rotation(70.0)) * 0.4 + [5.0, -2.0]
    a = align(target, source)
    assert a.disparity == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(a.apply(source), target, atol=1e-9)
    np.testing.assert_allclose(a.undo(a.apply(source)), source, atol=1e-9)
    assert a.reflected is reflect and a.scale == pytest.approx(2.5)
    assert abs(abs(a.degrees) - 70.0) < 1e-6 or reflect  # (a flip changes the angle)


def test_disparity_grows_with_disagreement_and_is_symmetric():
    rng = np.random.default_rng(1)
    target = rng.normal(size=(300, 2))
    near = target + rng.normal(scale=0.05, size=target.shape)
    far = rng.normal(size=target.shape)  # unrelated places
    d_near, d_far = align(target, near).disparity, align(target, far).disparity
    assert 0 < d_near < 0.01 < 0.5 < d_far <= 1.0
    assert align(near, target).disparity == pytest.approx(d_near)
    # the fit is the least-squares one: no other rotation does better
    a = align(target, near)
    best = ((a.apply(near) - target) ** 2).sum()
    for deg in (-2.0, 2.0):
        other = (near - a.source_mean) @ a.rotation @ rotation(deg) * a.scale
        assert ((other + a.target_mean - target) ** 2).sum() > best


def test_maps_that_cannot_be_aligned_say_why():
    with pytest.raises(ValueError, match="same images"):
        align(np.zeros((5, 2)), np.zeros((6, 2)))
    with pytest.raises(ValueError, match="coincide"):
        align(np.random.default_rng(0).normal(size=(5, 2)), np.ones((5, 2)))
