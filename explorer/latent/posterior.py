"""One image's posterior q(z|x) = N(mean, diag(exp(logvar))): its contour on
the map and its samples."""

from __future__ import annotations

import numpy as np

from explorer.latent.projection import Projection


def posterior_ellipse(
    mean: np.ndarray, logvar: np.ndarray, projection: Projection, k: float, n: int = 73
) -> np.ndarray:
    """The k-sigma contour of q(z|x) = N(mean, diag(exp(logvar))) on the map.

    A linear map A (the projection's components) sends the Gaussian to
    N(A mean, A diag(var) A^T); its contour is the unit circle scaled by the
    square roots of that covariance's eigenvalues, along its eigenvectors.
    """
    a = projection.components
    centre = projection.project(mean)[0]
    cov = (a * np.exp(logvar)) @ a.T
    vals, vecs = np.linalg.eigh(cov)
    t = np.linspace(0, 2 * np.pi, n)
    unit = np.stack([np.cos(t), np.sin(t)], axis=1)
    return centre + k * (unit * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def posterior_samples(
    mean: np.ndarray, logvar: np.ndarray, n: int, seed: int
) -> np.ndarray:
    """z = mean + sigma * eps for ``n`` seeded eps ~ N(0, I): ``[n, D]`` (the
    reparameterization trick: what the decoder sees while training)."""
    eps = np.random.default_rng(seed).standard_normal((n, len(mean)))
    return mean + np.exp(0.5 * logvar) * eps
