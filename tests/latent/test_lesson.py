"""The lesson's numbers, each against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.latent import lesson
from explorer.latent.prior import prior_samples
from explorer.latent.projection import Projection
from explorer.latent.space import encode_space
from explorer.model.autoencoder import build_model
from explorer.model.config import ModelConfig
from explorer.model.loss import kl_divergence, loss_terms, reconstruction_nll
from explorer.model.protocol import Encoding
from tests.helpers import tiny_dataset, tiny_vae

# --- the KL per dimension ---------------------------------------------------------


def test_kl_per_dim_sums_to_the_losss_kl_and_the_notes_form_is_twice_it():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    per_dim = lesson.kl_per_dim(mu, logvar)
    assert per_dim.shape == (5, 4) and per_dim.dtype == np.float64
    want = kl_divergence(torch.from_numpy(mu), torch.from_numpy(logvar)).numpy()
    np.testing.assert_allclose(per_dim.sum(1), want, rtol=1e-12)
    np.testing.assert_allclose(lesson.notes_form(mu, logvar), 2 * per_dim)
    s = np.linspace(-3, 3, 61)
    curve = lesson.kl_curve(s, mu=0.7)
    np.testing.assert_allclose(curve, lesson.kl_per_dim(np.full(61, 0.7), s))
    assert s[np.argmin(curve)] == 0.0 and curve.min() == pytest.approx(0.5 * 0.49)
    assert lesson.kl_curve(np.zeros(1))[0] == 0.0


def test_kl_per_dim_matches_a_monte_carlo_kl_of_the_two_gaussians():
    mu, logvar = np.array([0.0, 1.5, -0.8]), np.array([0.0, -1.2, 0.9])
    sd = np.exp(0.5 * logvar)
    z = mu + sd * np.random.default_rng(1).standard_normal((400_000, 3))
    log_q = -0.5 * (math.log(2 * math.pi) + logvar + ((z - mu) / sd) ** 2)
    log_p = -0.5 * (math.log(2 * math.pi) + z**2)
    terms = log_q - log_p  # [S, 3]
    se = terms.std(0) / math.sqrt(len(z))
    got = lesson.kl_per_dim(mu, logvar)
    assert np.all(np.abs(terms.mean(0) - got) <= 4 * se + 1e-12), (terms.mean(0), got)
    assert got[0] == 0.0 and np.all(got[1:] > 0.1)


def test_sample_prior_is_the_priors_samples():
    np.testing.assert_array_equal(
        lesson.sample_prior(3, 7, seed=4), prior_samples(3, 7, 1.0, 4)
    )


# --- one image's loss ----------------------------------------------------------------


def _tiny(kind: str, latent: int = 3):
    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type=kind,
        latent_dim=latent,
        image_shape=(1, 8, 8),
        hidden=(16,),
        num_classes=3,
        beta=0.5,
    )
    return build_model(cfg).eval()


@pytest.mark.parametrize("kind", ["vae", "cvae"])
def test_image_loss_with_one_fixed_eps_is_the_models_loss_terms(kind):
    model, ds = _tiny(kind), tiny_dataset()
    x, y = ds.images[5], int(ds.labels[5])
    eps = torch.randn(1, 3, generator=torch.Generator().manual_seed(3))
    xb = torch.from_numpy(x[None].astype(np.float32) / 255.0)
    yb = torch.tensor([y]) if kind == "cvae" else None
    with torch.inference_mode():
        want = loss_terms(model(xb, yb, eps=eps), xb, model.config)
    got = lesson.image_loss(model, x, y, samples=1, eps=eps)
    assert got.samples == 1 and got.beta == 0.5
    assert got.recon == pytest.approx(float(want.recon), rel=1e-6)
    assert got.kl == pytest.approx(float(want.kl), rel=1e-6)
    assert got.loss == pytest.approx(float(want.total), rel=1e-6)
    assert got.neg_elbo == pytest.approx(got.recon + got.kl)


def test_image_loss_averages_seeded_draws_and_takes_uint8_or_floats():
    model, x = tiny_vae(), tiny_dataset().images[0]
    a = lesson.image_loss(model, x, samples=32, seed=1)
    assert a == lesson.image_loss(model, x.astype(np.float32) / 255, samples=32, seed=1)
    assert a != lesson.image_loss(model, x, samples=32, seed=2)
    # the mean of 32 one-draw losses on the same draws
    eps = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    singles = [lesson.image_loss(model, x, samples=1, eps=e).recon for e in eps]
    assert a.recon == pytest.approx(np.mean(singles), rel=1e-6)
    assert a.samples == 32 and a.kl > 0
    space = encode_space("tiny", model, tiny_dataset())  # a map's space: its model
    assert lesson.image_loss(space, x, samples=32, seed=1) == a
    assert lesson.log_px_bound(space, x, k=8) == lesson.log_px_bound(model, x, k=8)


def test_an_aes_loss_is_its_reconstruction_at_the_code_and_no_kl():
    model, x = _tiny("ae"), tiny_dataset().images[0]
    xb = torch.from_numpy(x[None].astype(np.float32) / 255.0)
    with torch.inference_mode():
        want = reconstruction_nll(model(xb).logits, xb, model.config)[0]
    got = lesson.image_loss(model, x)
    assert got.kl == 0.0 and got.samples == 0
    assert got.recon == pytest.approx(float(want), rel=1e-6)
    assert got.loss == got.neg_elbo == got.recon
    assert lesson.log_px_bound(model, x) is None  # an AE defines no p(x)


class Foreign:
    """A model the explorer did not train: encode and decode, no config."""

    name, kind, latent_dim, image_shape = "foreign", "vae", 3, (1, 8, 8)
    num_classes, exportable = None, False

    def encode(self, x, y=None):
        return Encoding(torch.zeros(len(x), 3), torch.zeros(len(x), 3))

    def decode(self, z, y=None):
        return torch.full((len(z), 1, 8, 8), 0.5)


def test_a_model_of_unknown_likelihood_has_no_loss_and_no_bound():
    x = tiny_dataset().images[0]
    assert lesson.image_loss(Foreign(), x) is None
    assert lesson.log_px_bound(Foreign(), x) is None


# --- the importance-weighted bound, on a model whose log p(x) is exact ------------


class LinearGaussian:
    """z ~ N(0, I), x|z ~ N(a z + b, s² I) on 2 x 2 images, in float64, with a
    q(z|x) of our choosing; a ``ModelConfig`` with a Gaussian likelihood makes
    the loss's own ``reconstruction_nll`` its exact log p(x|z)."""

    name, kind, latent_dim, image_shape = "linear", "vae", 2, (1, 2, 2)
    num_classes, exportable = None, False
    # orthogonal columns: the exact posterior has a diagonal covariance
    a = 0.05 * np.array([[1.0, 0.5], [1.0, -0.5], [-1.0, 0.5], [-1.0, -0.5]])
    b, s = np.full(4, 0.5), 0.05

    def __init__(self, q_mean: np.ndarray, q_logvar: np.ndarray):
        self.config = ModelConfig(
            latent_dim=2,
            image_shape=(1, 2, 2),
            likelihood="gaussian",
            gaussian_sigma=self.s,
        )
        self.q = (torch.tensor(q_mean)[None], torch.tensor(q_logvar)[None])

    def encode(self, x, y=None):
        return Encoding(*self.q)

    def decode_logits(self, z, y=None):
        mean = z @ torch.tensor(self.a).T + torch.tensor(self.b)  # [K, 4] in (0, 1)
        return torch.logit(mean).reshape(-1, 1, 2, 2)

    @classmethod
    def exact(cls, x: np.ndarray):
        """log p(x), and the posterior's mean and variances."""
        a, s = cls.a, cls.s
        cov = a @ a.T + s**2 * np.eye(4)
        r = x - cls.b
        log_px = -0.5 * (
            4 * math.log(2 * math.pi)
            + np.linalg.slogdet(cov)[1]
            + r @ np.linalg.solve(cov, r)
        )
        post_cov = np.linalg.inv(np.eye(2) + a.T @ a / s**2)
        assert abs(post_cov[0, 1]) < 1e-15
        return log_px, post_cov @ a.T @ r / s**2, np.diag(post_cov)


def _gauss_kl(m0, v0, m1, v1) -> float:
    """KL(N(m0, diag v0) || N(m1, diag v1))."""
    return float(0.5 * np.sum(v0 / v1 + (m1 - m0) ** 2 / v1 - 1 + np.log(v1 / v0)))


X = np.array([0.55, 0.53, 0.41, 0.47])  # an image of the linear model


def test_the_bound_is_within_3_se_of_the_exact_log_px_and_the_gap_is_the_kl():
    log_px, post_mean, post_var = LinearGaussian.exact(X)
    q_mean, q_var = post_mean + np.array([0.25, -0.3]), post_var * np.array([1.6, 0.7])
    model = LinearGaussian(q_mean, np.log(q_var))
    bound = lesson.log_px_bound(model, torch.tensor(X).reshape(1, 2, 2), k=4096)
    kl = _gauss_kl(q_mean, q_var, post_mean, post_var)
    assert bound.k == 4096 and kl > 0.2
    assert 0 < bound.log_px_se < 0.02 and 0 < bound.gap_se < 0.02
    assert abs(bound.log_px - log_px) < 3 * bound.log_px_se, (bound, log_px)
    assert abs(bound.gap - kl) < 3 * bound.gap_se, (bound, kl)
    assert bound.elbo == pytest.approx(log_px - kl, abs=4 * bound.gap_se)
    # the ELBO from the same draws is the loss's: -(recon + KL) of those draws
    loss = lesson.image_loss(model, torch.tensor(X).reshape(1, 2, 2), samples=4096)
    assert -loss.neg_elbo == pytest.approx(bound.elbo, abs=4 * bound.gap_se)


def test_with_the_exact_posterior_as_q_every_weight_is_p_x_and_the_gap_is_zero():
    log_px, post_mean, post_var = LinearGaussian.exact(X)
    model = LinearGaussian(post_mean, np.log(post_var))
    bound = lesson.log_px_bound(model, torch.tensor(X).reshape(1, 2, 2), k=256)
    assert bound.log_px == pytest.approx(log_px, abs=1e-9)
    assert bound.elbo == pytest.approx(log_px, abs=1e-9)
    assert abs(bound.gap) < 1e-9 and bound.log_px_se < 1e-9 and bound.gap_se < 1e-9


def test_the_standard_errors_are_the_spread_of_the_estimates_over_seeds():
    _, post_mean, post_var = LinearGaussian.exact(X)
    # q near the posterior: the gap's error is a few times smaller than the
    # estimate's (their first-order errors cancel), which a wrong SE would miss
    model = LinearGaussian(post_mean + 0.1, np.log(post_var * 1.2))
    x = torch.tensor(X).reshape(1, 2, 2)
    runs = [lesson.log_px_bound(model, x, k=64, seed=s) for s in range(40)]
    for value, se in (("log_px", "log_px_se"), ("gap", "gap_se")):
        spread = np.std([getattr(r, value) for r in runs], ddof=1)
        typical = np.mean([getattr(r, se) for r in runs])
        assert 0.7 < spread / typical < 1.4, (value, spread, typical)
    assert all(r.gap >= 0 for r in runs)  # log of a mean >= mean of logs


def test_the_bound_on_a_real_vae_is_above_its_elbo_and_seeded():
    model, x = tiny_vae(), tiny_dataset().images[3]
    bound = lesson.log_px_bound(model, x, k=128, seed=5)
    assert bound == lesson.log_px_bound(model, x, k=128, seed=5)
    assert bound.gap >= 0 and bound.log_px > bound.elbo
    assert -lesson.image_loss(model, x, samples=128, seed=5).neg_elbo == (
        pytest.approx(bound.elbo, abs=5 * bound.gap_se + 0.5)
    )


# --- the emptiest spot -------------------------------------------------------------


def test_the_empty_spot_of_a_ring_is_its_centre():
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    ring = np.stack([2 + np.cos(t), -1 + np.sin(t)], axis=1)
    xy, radius = lesson.empty_spot(ring)
    np.testing.assert_allclose(xy, [2, -1], atol=0.01)
    assert radius == pytest.approx(1.0, abs=0.01)


def test_the_empty_spot_of_a_square_with_a_hole_is_in_the_hole_and_deterministic():
    pts = np.random.default_rng(0).uniform(0, 1, (6000, 2))
    hole, r = np.array([0.3, 0.65]), 0.15
    pts = pts[np.linalg.norm(pts - hole, axis=1) > r]
    xy, radius = lesson.empty_spot(pts)
    assert np.linalg.norm(xy - hole) < 0.03 and radius == pytest.approx(r, abs=0.03)
    again = lesson.empty_spot(pts)
    np.testing.assert_array_equal(again[0], xy)
    assert again[1] == radius


# --- densities on the map ----------------------------------------------------------


def _mixture_case():
    """Five posteriors in 3-D on a map that is neither orthonormal nor centred."""
    rng = np.random.default_rng(2)
    mu = rng.normal(scale=1.2, size=(5, 3))
    logvar = rng.uniform(-2.5, -0.5, size=(5, 3))
    proj = Projection(
        mean=np.array([0.3, -0.2, 0.1]),
        components=np.array([[0.8, 0.6, 0.3], [-0.2, 0.5, 0.9]]),
        explained=(0.5, 0.3),
    )
    return mu, logvar, proj


def _histogram(points: np.ndarray, density: lesson.Density) -> np.ndarray:
    """A density ``[G, G]`` (rows y) from samples, binned around the grid."""
    dx, dy = np.diff(density.x)[0], np.diff(density.y)[0]
    ex = np.append(density.x - dx / 2, density.x[-1] + dx / 2)
    ey = np.append(density.y - dy / 2, density.y[-1] + dy / 2)
    counts, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=[ey, ex])
    return counts / (len(points) * dx * dy)


def test_the_aggregate_posterior_matches_a_histogram_of_projected_samples():
    mu, logvar, proj = _mixture_case()
    agg = lesson.aggregate_posterior(mu, logvar, proj, grid=30)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, 5, 400_000)
    z = mu[pick] + np.exp(0.5 * logvar[pick]) * rng.standard_normal((400_000, 3))
    hist = _histogram(proj.project(z), agg)
    peak = agg.values.max()
    assert np.abs(hist - agg.values).max() < 0.06 * peak
    # the histogram holds nearly all the samples: the default extent covers them
    cell = np.diff(agg.x)[0] * np.diff(agg.y)[0]
    assert hist.sum() * cell > 0.99


def test_the_prior_on_the_map_matches_a_histogram_of_projected_samples():
    _, _, proj = _mixture_case()
    prior = lesson.prior_density(proj, grid=30)
    z = np.random.default_rng(4).standard_normal((400_000, 3))
    hist = _histogram(proj.project(z), prior)
    assert np.abs(hist - prior.values).max() < 0.06 * prior.values.max()


def test_both_densities_integrate_to_one_on_a_wide_grid():
    mu, logvar, proj = _mixture_case()
    wide = ((-9.0, 9.0), (-9.0, 9.0))
    agg = lesson.aggregate_posterior(mu, logvar, proj, grid=200, extent=wide)
    prior = lesson.prior_density(proj, grid=200, extent=agg.extent)
    cell = np.diff(agg.x)[0] * np.diff(agg.y)[0]
    assert agg.values.sum() * cell == pytest.approx(1.0, abs=1e-3)
    assert prior.values.sum() * cell == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_array_equal(prior.x, agg.x)


def test_many_posteriors_are_subsampled_by_a_seeded_choice():
    rng = np.random.default_rng(5)
    mu, logvar = rng.normal(size=(500, 2)), rng.uniform(-3, -1, (500, 2))
    proj = Projection.fit(mu)
    a = lesson.aggregate_posterior(mu, logvar, proj, grid=20, max_points=100, seed=1)
    b = lesson.aggregate_posterior(mu, logvar, proj, grid=20, max_points=100, seed=1)
    full = lesson.aggregate_posterior(mu, logvar, proj, grid=20, extent=a.extent)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, full.values)


def test_holes_are_where_the_prior_has_mass_and_the_data_none():
    # every posterior sits left of x = -0.3: the prior's right half is empty
    rng = np.random.default_rng(6)
    mu = np.stack([rng.uniform(-3, -0.3, 400), rng.normal(size=400)], axis=1)
    logvar = np.full((400, 2), -4.0)
    proj = Projection.fit(np.eye(2))  # raw axes
    agg = lesson.aggregate_posterior(mu, logvar, proj, grid=60)
    prior = lesson.prior_density(proj, grid=60, extent=agg.extent)
    found = lesson.holes(agg, prior, top=5)
    assert found.shape == (5, 2)
    col = np.searchsorted(agg.x, found[:, 0])
    row = np.searchsorted(agg.y, found[:, 1])
    assert np.all(found[:, 0] > 0)  # on the empty side
    assert np.all(agg.values[row, col] < 1e-3 * agg.values.max())  # no data there
    assert np.all(prior.values[row, col] > 0.1 * prior.values.max())  # prior mass
    gaps = np.linalg.norm(found[:, None] - found[None], axis=2)
    assert gaps[np.triu_indices(5, 1)].min() > 3 * np.diff(agg.x)[0]  # five places


def test_holes_stay_where_the_prior_has_mass_when_the_data_covers_its_centre():
    # the data narrower than the prior: the ratio grows without end in the
    # prior's tails, but a hole is only where the prior is >= 10% of its peak
    mu = np.random.default_rng(8).normal(scale=0.6, size=(600, 2))
    proj = Projection.fit(np.eye(2))
    agg = lesson.aggregate_posterior(mu, np.full((600, 2), -2.4), proj, grid=60)
    prior = lesson.prior_density(proj, grid=60, extent=agg.extent)
    found = lesson.holes(agg, prior, top=3)
    radius = math.sqrt(2 * math.log(10))  # the prior is 10% of its peak there
    assert len(found) == 3 and np.all(np.linalg.norm(found, axis=1) <= radius)


def test_a_map_that_is_not_linear_has_no_density():
    class Umap:
        is_linear = False

    with pytest.raises(ValueError, match="linear"):
        lesson.prior_density(Umap())


# --- does it look like data? -------------------------------------------------------


def test_nearest_distance_is_the_brute_force_minimum():
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, (300, 1, 8, 8), dtype=np.uint8)
    images = np.concatenate(
        [rng.integers(0, 256, (4, 1, 8, 8), dtype=np.uint8), data[[17]]]
    )
    got = lesson.nearest_distance(images, data, chunk=64)
    a = images.reshape(5, -1) / 255.0
    b = data.reshape(300, -1) / 255.0
    want = (((a[:, None] - b[None]) ** 2).mean(2)).min(1)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert got[4] == pytest.approx(0.0, abs=1e-6) and got.dtype == np.float32
    floats = lesson.nearest_distance(images / 255.0, data, chunk=1000)
    np.testing.assert_allclose(floats, got, rtol=1e-4, atol=1e-6)
