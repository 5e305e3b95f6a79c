"""The prior on the map: manifold grids over its quantiles (Kingma & Welling
2013, Fig. 4), its samples, and its k-sigma rings.

Map coordinates are those of a ``Projection``; latent points are ``[N, D]``
float arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.latent.projection import Projection

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
        projection: the map's projection (the grid lies on its plane), or a
            non-linear map (``maps.MapProjection``; without ``quantiles``).
        view: ``((x0, x1), (y0, y1))`` in map coordinates, or None: the
            prior's 5-95% quantiles (``quantiles``) or ``data_range``.
        quantiles: space the grid by the prior's quantiles (a VAE). On a PCA
            map the prior projected on the (orthonormal) axes is N(c, I),
            with c the map position of z = 0, so the quantiles are taken
            around c.
        data_range: ``[[x0, x1], [y0, y1]]`` of the data's map coordinates,
            the default extent without ``quantiles``.
    """
    centre = (
        projection.project(np.zeros(projection.components.shape[1]))[0]
        if quantiles
        else np.zeros(2)
    )
    if view is None and not quantiles:
        if data_range is None:
            raise ValueError("give a view or the data's range")
        view = (tuple(data_range[0]), tuple(data_range[1]))
    axes = []
    # (a map aligned to another is scaled: the prior is N(c, scale^2 I) there)
    s = getattr(projection, "scale", 1.0) if quantiles else 1.0
    for k in range(2):
        lo, hi = (None, None) if view is None else view[k]
        c = centre[k] if quantiles else 0.0
        lo_c = None if lo is None else (lo - c) / s
        hi_c = None if hi is None else (hi - c) / s
        axes.append(axis_values(n, lo_c, hi_c, quantiles) * s + c)
    xs, ys = axes[0], axes[1][::-1]
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    return Grid(projection.inverse(points), xs, ys)


# --- samples and rings -----------------------------------------------------------


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
    s = projection.scale  # 1, or an aligned map's scale
    if d == 1:  # the map is a line: the contours are two points on it
        along = projection.components[:, 0] / np.linalg.norm(projection.components)
        return [
            np.stack([centre - s * r * along, centre + s * r * along]) for r in radii
        ]
    return [circle(centre, s * r) for r in radii]
