"""What the explorer computes beyond the map, free of any UI: manifold grids,
prior samples and rings, posterior ellipses, per-image measures, per-dimension
KL, traversals and conditional rows.

Map coordinates are those of a ``Projection`` (raw axes for D <= 2, else the
PCA plane of the posterior means); latent points are ``[N, D]`` float arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.latent import Projection, slider_ranges
from explorer.models import Autoencoder, kl_divergence, reconstruction_nll

# The share of a 2-D standard normal inside radius r is 1 - exp(-r^2 / 2).
RING_MASS = {r: 1.0 - float(np.exp(-(r**2) / 2)) for r in (1, 2)}
# Quantile grids stop this far from 0 and 1 (Kingma & Welling 2013, Fig. 4,
# use linspace(0.05, 0.95)); the inverse CDF is infinite at the ends.
QUANTILE_EDGE = 0.05


def normal_ppf(p: np.ndarray) -> np.ndarray:
    """The inverse CDF of N(0, 1)."""
    return torch.special.ndtri(torch.as_tensor(p, dtype=torch.float64)).numpy()


def normal_cdf(x: np.ndarray) -> np.ndarray:
    return torch.special.ndtr(torch.as_tensor(x, dtype=torch.float64)).numpy()


def axis_values(
    n: int, lo: float | None, hi: float | None, quantiles: bool
) -> np.ndarray:
    """``n`` grid positions along one map axis.

    With ``quantiles`` (a VAE, whose prior is N(0, 1) on each map axis), the
    positions are evenly spaced in probability: the inverse CDF of
    ``linspace(p_lo, p_hi, n)``, where ``[p_lo, p_hi]`` is the CDF of the
    visible range (default: ``[0.05, 0.95]``, the whole prior). Otherwise they
    are evenly spaced over ``[lo, hi]``.
    """
    if n < 2:
        raise ValueError("a grid needs at least 2 points per side")
    if quantiles:
        p_lo = QUANTILE_EDGE if lo is None else max(normal_cdf(lo), 1e-6)
        p_hi = 1 - QUANTILE_EDGE if hi is None else min(normal_cdf(hi), 1 - 1e-6)
        if p_hi <= p_lo:
            raise ValueError(f"empty range [{lo}, {hi}]")
        return normal_ppf(np.linspace(p_lo, p_hi, n))
    if lo is None or hi is None or hi <= lo:
        raise ValueError(f"an evenly spaced grid needs lo < hi, got [{lo}, {hi}]")
    return np.linspace(lo, hi, n)


@dataclass(frozen=True)
class Grid:
    """A manifold grid: ``z`` ``[n * n, D]`` row by row, top row first (largest
    y, as on the map), and the map positions of its columns and rows."""

    z: np.ndarray
    xs: np.ndarray
    ys: np.ndarray

    @property
    def n(self) -> int:
        return len(self.xs)


def manifold_grid(
    projection: Projection,
    n: int,
    view: tuple[tuple[float, float], tuple[float, float]] | None,
    quantiles: bool,
    data_range: np.ndarray | None = None,
) -> Grid:
    """An ``n x n`` grid over the map, lifted to the latent space.

    Args:
        projection: the map's projection (the grid lies on its plane).
        view: ``((x0, x1), (y0, y1))`` in map coordinates, or None: the
            prior's 5-95% quantiles (``quantiles``) or ``data_range``.
        quantiles: space the grid by the prior's quantiles (a VAE). On a PCA
            map the prior projected on the (orthonormal) axes is N(c, I),
            with c the map position of z = 0, so the quantiles are taken
            around c.
        data_range: ``[[x0, x1], [y0, y1]]`` of the data's map coordinates,
            the default extent without ``quantiles``.
    """
    centre = projection.project(np.zeros(projection.components.shape[1]))[0]
    if view is None and not quantiles:
        if data_range is None:
            raise ValueError("give a view or the data's range")
        view = (tuple(data_range[0]), tuple(data_range[1]))
    axes = []
    for k in range(2):
        lo, hi = (None, None) if view is None else view[k]
        c = centre[k] if quantiles else 0.0
        lo_c = None if lo is None else lo - c
        hi_c = None if hi is None else hi - c
        axes.append(axis_values(n, lo_c, hi_c, quantiles) + c)
    xs, ys = axes[0], axes[1][::-1]
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    return Grid(projection.inverse(points), xs, ys)


def data_range(coords: np.ndarray, pad: float = 0.05) -> np.ndarray:
    """``[[x0, x1], [y0, y1]]``: the 0.5-99.5% extent of map coordinates, padded
    by ``pad`` of it on each side (an axis the points do not spread along:
    their value +- 1); the same extent as the sliders' (``slider_ranges``)."""
    return slider_ranges(coords, margin=pad)


# --- the prior -------------------------------------------------------------------


def prior_samples(dim: int, n: int, temperature: float, seed: int) -> np.ndarray:
    """``n`` draws of z ~ N(0, temperature^2 I) ``[n, dim]``, reproducible."""
    if temperature < 0:
        raise ValueError("the temperature must be >= 0")
    rng = np.random.default_rng(seed)
    return temperature * rng.standard_normal((n, dim))


def circle(centre: np.ndarray, radius: float, n: int = 73) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n)
    return np.asarray(centre) + radius * np.stack([np.cos(t), np.sin(t)], axis=1)


def prior_rings(projection: Projection, radii=(1, 2)) -> list[np.ndarray]:
    """The prior's k-sigma contours on the map, ``[[n, 2], ...]``.

    The map axes are orthonormal directions, so N(0, I) projects to a unit
    2-D Gaussian centred where z = 0 lands; its contours are circles.
    """
    d = projection.components.shape[1]
    centre = projection.project(np.zeros(d))[0]
    if d == 1:  # the map's y is always 0: the contours are two points
        return [np.array([[centre[0] - r, 0.0], [centre[0] + r, 0.0]]) for r in radii]
    return [circle(centre, r) for r in radii]


# --- the posterior ---------------------------------------------------------------


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


# --- per-image measures ----------------------------------------------------------

MEASURES = {
    "loss": "loss: reconstruction error + beta * KL (nats)",
    "recon": "reconstruction error (-log p(x|z) at the mean, nats)",
    "kl": "KL(q(z|x) || p(z)) (nats)",
}


@torch.inference_mode()
def batch_measures(
    model: Autoencoder, x: torch.Tensor, y: torch.Tensor | None, enc
) -> dict[str, torch.Tensor]:
    """Per-image ``recon``, ``kl`` (a VAE only) and ``loss`` of one batch ``x``
    whose encoding ``enc`` is given (see ``image_measures``)."""
    cfg = model.config
    out = {"recon": reconstruction_nll(model.decode_logits(enc.mean, y), x, cfg)}
    if enc.logvar is not None:
        out["kl"] = kl_divergence(enc.mean, enc.logvar)
        out["loss"] = out["recon"] + cfg.beta * out["kl"]
    else:
        out["loss"] = out["recon"]
    return out


def image_measures(
    model: Autoencoder,
    x: torch.Tensor,
    y: torch.Tensor | None,
    batch_size: int = 5000,
) -> dict[str, np.ndarray]:
    """Per-image ``recon``, ``kl`` and ``loss`` ``[N]`` (float32).

    ``recon`` is -log p(x|z) with z the posterior mean (deterministic, so the
    ranking is stable); ``kl`` is the closed-form KL to the prior (absent for
    an AE); ``loss`` is recon + beta * kl, the model's training objective at
    the mean.
    """
    parts: dict[str, list[torch.Tensor]] = {}
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        yb = y[i : i + batch_size] if model.config.conditional else None
        for k, v in batch_measures(model, xb, yb, model.encode(xb, yb)).items():
            parts.setdefault(k, []).append(v)
    return {k: torch.cat(v).float().numpy() for k, v in parts.items()}


def most_unusual(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values, largest first."""
    k = min(k, len(values))
    top = np.argpartition(-values, k - 1)[:k]
    return top[np.argsort(-values[top], kind="stable")]


# --- dimensions ------------------------------------------------------------------

ACTIVE_THRESHOLD = 0.01  # the usual active-unit cut (Burda et al. 2015, Sec. 5.2)


@dataclass(frozen=True)
class DimensionReport:
    """Per latent dimension: mean KL to the prior over the data, the variance
    of the posterior means across the data, and whether it is active."""

    kl: np.ndarray
    mean_var: np.ndarray
    active: np.ndarray

    @property
    def order(self) -> np.ndarray:
        """Dimensions by KL, largest first."""
        return np.argsort(-self.kl, kind="stable")


def dimension_report(mean: np.ndarray, logvar: np.ndarray) -> DimensionReport:
    """KL per dimension, ``1/2 E_x[exp(lv) - (1 + lv) + mu^2]``, and active
    units (variance of the means above ``ACTIVE_THRESHOLD``)."""
    kl = 0.5 * (np.exp(logvar) - (1 + logvar) + mean**2).mean(0)
    var = mean.var(0)
    return DimensionReport(kl, var, var > ACTIVE_THRESHOLD)


def traversal(z: np.ndarray, direction: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``z`` moved to each coordinate ``values`` along a unit ``direction``
    (the rest of ``z`` kept): ``[len(values), D]``."""
    direction = np.asarray(direction, dtype=np.float64)
    here = float(z @ direction)
    return z + (np.asarray(values)[:, None] - here) * direction


def nearest_images(nearest, z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``[k]`` and latent distances ``[k]`` of the data nearest ``z``."""
    dist, idx = nearest.query(np.atleast_2d(z), k=k)
    return idx[0], dist[0]
