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


def aligned_pca(seed: int = 0):
    from explorer.latent.align import AlignedProjection
    from explorer.latent.projection import Projection

    rng = np.random.default_rng(seed)
    z = rng.normal(size=(300, 6)) * [3, 2, 1, 0.5, 0.2, 0.1]
    inner = Projection.fit(z)
    target = inner.project(z) @ rotation(40) * 2.5 + [1.0, -3.0]
    a = align(target, inner.project(z) @ np.diag([1.0, -1.0]))  # a mirror image
    return z, inner, AlignedProjection(inner, a), a


def test_an_aligned_linear_map_is_one_affine_map_both_ways():
    z, inner, proj, a = aligned_pca()
    p = proj.project(z)
    np.testing.assert_allclose(p, a.apply(inner.project(z)))
    # the browser's formulas: p = (z - mean) @ components.T + offset, and back
    np.testing.assert_allclose((z - proj.mean) @ proj.components.T + proj.offset, p)
    on_plane = proj.mean + (p - proj.offset) @ proj.back
    np.testing.assert_allclose(on_plane, inner.inverse(inner.project(z)), atol=1e-9)
    np.testing.assert_allclose(proj.inverse(p), on_plane, atol=1e-9)
    assert (
        proj.is_linear and proj.kind == "pca" and proj.scale == pytest.approx(a.scale)
    )
    assert proj.axis_titles()[0].startswith("x (aligned")


def test_the_priors_rings_and_quantile_grid_scale_with_an_aligned_map():
    from explorer.latent.prior import manifold_grid, prior_rings

    _, inner, proj, a = aligned_pca()
    centre = proj.project(np.zeros(6))[0]
    for r, ring in zip((1, 2), prior_rings(proj), strict=True):
        np.testing.assert_allclose(np.linalg.norm(ring - centre, axis=1), r * a.scale)
    plain = manifold_grid(inner, 5, None, quantiles=True)
    moved = manifold_grid(proj, 5, None, quantiles=True)
    c0 = inner.project(np.zeros(6))[0]
    np.testing.assert_allclose(
        (moved.xs - centre[0]) / a.scale, plain.xs - c0[0], atol=1e-12
    )


def test_an_aligned_nonlinear_map_takes_clicks_back_to_its_own_frame():
    from explorer.latent import maps
    from explorer.latent.align import AlignedProjection

    rng = np.random.default_rng(3)
    means = rng.normal(size=(200, 4))
    coords = np.stack([np.tanh(means[:, 0]), means[:, 1] ** 3], 1)
    inner = maps.MapProjection("umap", means, coords)
    a = align(coords @ rotation(30) + 2, coords)
    proj = AlignedProjection(inner, a)
    np.testing.assert_allclose(proj.coords, a.apply(coords))
    clicks = a.apply(coords[:10])
    np.testing.assert_allclose(proj.inverse(clicks), inner.inverse(coords[:10]))
    assert proj.inside(clicks).all() and not proj.is_linear and proj.kind == "umap"
