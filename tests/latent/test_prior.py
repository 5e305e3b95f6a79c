import numpy as np
import pytest
import torch
from scipy import stats

from explorer.latent.measures import (
    dimension_report,
    image_measures,
    most_unusual,
    traversal,
)
from explorer.latent.neighbours import NearestData, nearest_images
from explorer.latent.posterior import posterior_ellipse, posterior_samples
from explorer.latent.prior import (
    RING_MASS,
    axis_values,
    manifold_grid,
    prior_rings,
    prior_samples,
)
from explorer.latent.projection import Projection, data_range
from explorer.model.autoencoder import build_model
from explorer.model.config import ModelConfig


def test_quantile_axis_is_the_inverse_normal_cdf():
    v = axis_values(5, None, None, quantiles=True)
    assert np.allclose(v, stats.norm.ppf(np.linspace(0.05, 0.95, 5)))
    # a visible window [0, 2]: evenly spaced in probability inside it
    w = axis_values(3, 0.0, 2.0, quantiles=True)
    assert np.allclose(w[[0, -1]], [0.0, 2.0])
    assert np.isclose(stats.norm.cdf(w[1]), (0.5 + stats.norm.cdf(2.0)) / 2)


def test_even_axis_and_bad_ranges():
    assert np.allclose(axis_values(3, -1, 1, quantiles=False), [-1, 0, 1])
    with pytest.raises(ValueError):
        axis_values(1, 0, 1, quantiles=False)
    with pytest.raises(ValueError):
        axis_values(3, 1, 1, quantiles=False)
    with pytest.raises(ValueError):
        axis_values(3, None, None, quantiles=False)


def test_raw_grid_rows_top_down():
    proj = Projection.fit(np.random.default_rng(0).normal(size=(50, 2)))
    g = manifold_grid(proj, 4, None, quantiles=True)
    assert g.z.shape == (16, 2) and g.n == 4
    assert np.allclose(g.z[:4, 1], g.ys[0]) and g.ys[0] > g.ys[-1]
    assert np.allclose(g.z[::4, 0], g.xs[0])
    ae = manifold_grid(proj, 3, None, False, np.array([[0, 2], [-1, 1]]))
    assert np.allclose(ae.xs, [0, 1, 2]) and np.allclose(ae.ys, [1, 0, -1])


def test_pca_grid_lies_on_the_plane_and_centres_on_the_prior():
    z = np.random.default_rng(1).normal(size=(300, 5)) * [3, 2, 1, 0.5, 0.1] + 1.0
    proj = Projection.fit(z)
    g = manifold_grid(proj, 5, None, quantiles=True)
    back = proj.project(g.z)
    assert np.allclose(back[:, 0].reshape(5, 5)[0], g.xs)
    centre = proj.project(np.zeros(5))[0]
    assert np.isclose(g.xs[2], centre[0]) and np.isclose(g.ys[2], centre[1])


def test_prior_samples_seeded_and_scaled():
    a = prior_samples(2, 5000, 0.5, seed=3)
    assert np.array_equal(a, prior_samples(2, 5000, 0.5, seed=3))
    assert abs(a.std() - 0.5) < 0.02
    assert np.all(prior_samples(3, 4, 0.0, 0) == 0)


def test_prior_rings_hold_the_expected_mass():
    proj = Projection.fit(np.random.default_rng(0).normal(size=(100, 2)))
    r1, r2 = prior_rings(proj)
    assert np.allclose(np.linalg.norm(r1, axis=1), 1)
    assert np.allclose(np.linalg.norm(r2, axis=1), 2)
    s = prior_samples(2, 20000, 1.0, 0)
    inside = (np.linalg.norm(s, axis=1) < 1).mean()
    assert abs(inside - RING_MASS[1]) < 0.01


def test_ellipse_axes_are_the_projected_standard_deviations():
    proj = Projection.fit(np.random.default_rng(0).normal(size=(100, 2)))
    mean, logvar = np.array([1.0, -1.0]), np.log(np.array([4.0, 0.25]))
    e = posterior_ellipse(mean, logvar, proj, k=2)
    d = e - mean
    assert np.isclose(np.abs(d[:, 0]).max(), 2 * 2.0, atol=1e-2)
    assert np.isclose(np.abs(d[:, 1]).max(), 2 * 0.5, atol=1e-2)
    # on a PCA map: matches the covariance of projected samples
    z = np.random.default_rng(2).normal(size=(400, 4)) * [3, 2, 1, 1]
    proj = Projection.fit(z)
    m, lv = np.zeros(4), np.log(np.array([1.0, 2.0, 0.5, 3.0]))
    s = proj.project(posterior_samples(m, lv, 40000, 0))
    cov = np.cov(s.T)
    e = posterior_ellipse(m, lv, proj, k=1) - proj.project(m)[0]
    # every point of the 1-sigma contour has Mahalanobis distance 1
    maha = np.einsum("ni,ij,nj->n", e, np.linalg.inv(cov), e)
    assert np.allclose(maha, 1, atol=0.05)


def test_posterior_samples_follow_mean_and_sigma():
    s = posterior_samples(np.array([2.0, 0.0]), np.log([0.01, 1.0]), 20000, 0)
    assert np.allclose(s.mean(0), [2, 0], atol=0.03)
    assert np.allclose(s.std(0), [0.1, 1.0], atol=0.02)
    assert np.array_equal(
        s, posterior_samples(np.array([2.0, 0]), np.log([0.01, 1]), 20000, 0)
    )


def test_kl_per_dimension_and_active_units():
    rng = np.random.default_rng(0)
    mean = np.stack([rng.normal(size=1000) * 2, np.zeros(1000)], 1)
    logvar = np.stack([np.full(1000, np.log(0.1)), np.zeros(1000)], 1)
    r = dimension_report(mean, logvar)
    expected0 = 0.5 * (0.1 - 1 - np.log(0.1) + (mean[:, 0] ** 2).mean())
    assert np.isclose(r.kl[0], expected0) and r.kl[1] == 0
    assert r.active.tolist() == [True, False]
    assert r.order.tolist() == [0, 1]


def test_traversal_moves_one_direction_only():
    z = np.array([1.0, 2.0, 3.0])
    t = traversal(z, np.array([0, 1.0, 0]), np.array([-1.0, 0.0, 5.0]))
    assert np.allclose(t[:, 1], [-1, 0, 5]) and np.allclose(t[:, [0, 2]], [1, 3])


def test_most_unusual_and_neighbours():
    v = np.array([0.1, 5.0, 3.0, 9.0])
    assert most_unusual(v, 2).tolist() == [3, 1]
    assert most_unusual(v, 10).tolist() == [3, 1, 2, 0]
    z = np.array([[0.0, 0], [1, 0], [5, 5]])
    idx, dist = nearest_images(NearestData(z), np.array([0.9, 0.0]), 2)
    assert idx.tolist() == [1, 0] and np.allclose(dist, [0.1, 0.9])


def test_data_range_pads_the_extent():
    r = data_range(np.array([[0.0, 0], [10, 1]] * 50), pad=0.1)
    # the 0.5-99.5% extent is [0, 10] x [0, 1]; 10% of each side added
    np.testing.assert_allclose(r, [[-1.0, 11.0], [-0.1, 1.1]])
    np.testing.assert_allclose(
        data_range(np.array([[0.0, 0], [10, 1]] * 50), pad=0.0), [[0, 10], [0, 1]]
    )


def test_image_measures_match_the_loss():
    torch.manual_seed(0)
    for kind in ("ae", "vae", "cvae"):
        cfg = ModelConfig(model_type=kind, latent_dim=2, hidden=(16,), beta=2.0)
        model = build_model(cfg).eval()
        x = torch.rand(7, 1, 28, 28)
        y = torch.arange(7) % 10
        m = image_measures(model, x, y, batch_size=3)
        assert m["recon"].shape == (7,) and np.all(m["recon"] > 0)
        if kind == "ae":
            assert "kl" not in m and np.array_equal(m["loss"], m["recon"])
        else:
            assert np.allclose(m["loss"], m["recon"] + 2.0 * m["kl"])


def test_data_range_of_a_flat_axis_is_its_value_plus_minus_one():
    coords = np.stack([np.linspace(0, 10, 50), np.full(50, 2.0)], axis=1)
    r = data_range(coords, pad=0.1)
    np.testing.assert_allclose(r[1], [1.0, 3.0])
    lo, hi = np.percentile(coords[:, 0], [0.5, 99.5])
    np.testing.assert_allclose(r[0], [lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)])
