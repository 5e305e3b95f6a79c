"""The 2-D map of a latent space and the sliders' directions: a linear
projection (raw axes for D <= 2, else the PCA plane of the posterior means)
with its exact inverse, and the ranges the sliders and the map cover."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """A linear map from the latent space (D) to the 2-D map, and back.

    For D <= 2 the map shows the raw axes. Otherwise it is the PCA of the
    posterior means: ``p = (z - mean) @ components.T``, and the inverse puts a
    map point back on the PCA plane: ``z = mean + p @ components``.

    Attributes:
        mean: ``[D]``.
        components: ``[2, D]``, orthonormal rows (the identity for D = 2).
        explained: the share of variance of each map axis, or None for raw axes.
    """

    mean: np.ndarray
    components: np.ndarray
    explained: tuple[float, float] | None
    note: str | None = None

    @classmethod
    def fit(cls, z: np.ndarray) -> Projection:
        """Raw axes for ``z`` ``[N, D]`` with D <= 2, else a 2-component PCA.

        A PCA needs points that spread in two directions: with fewer than 3
        points, or points that do not spread in two directions, the map shows
        the raw axes z[0], z[1] instead, and ``note`` says why.
        """
        n, d = z.shape
        if d <= 2:
            line = "a 1-D latent: the map is a line (y is always 0)" if d == 1 else None
            return cls(np.zeros(d), np.eye(2, d), None, line)
        spread = _spread(z)
        if n < 3 or spread[1] <= SPREAD_EPS * max(spread[0], 1.0):
            why = (
                f"{n} point{'s' if n > 1 else ''} cannot span a PCA plane"
                if n < 3
                else "the latent means do not spread in two directions"
                if spread[0] > SPREAD_EPS
                else "every image has the same latent mean"
            )
            return cls(
                np.zeros(d),
                np.eye(2, d),
                None,
                f"{why}, so the map shows the raw axes z[0], z[1] instead of a PCA",
            )
        from sklearn.decomposition import PCA  # only when there is a plane to fit

        pca = PCA(n_components=2, random_state=0).fit(z)
        ratio = pca.explained_variance_ratio_
        return cls(
            pca.mean_.copy(), pca.components_.copy(), (float(ratio[0]), float(ratio[1]))
        )

    @property
    def is_pca(self) -> bool:
        return self.explained is not None

    @property
    def is_linear(self) -> bool:
        """Always (see ``maps.MapProjection`` for maps that are not)."""
        return True

    @property
    def kind(self) -> str:
        """The map's kind among ``maps.KINDS`` (raw axes count as "pca")."""
        return "pca"

    @property
    def offset(self) -> np.ndarray:
        """Where z = mean lands (``align.AlignedProjection`` moves it)."""
        return np.zeros(2)

    @property
    def back(self) -> np.ndarray:
        """``[2, D]``: ``inverse(p) = mean + (p - offset) @ back``."""
        return self.components

    @property
    def scale(self) -> float:
        """Map units per latent unit along the plane (1: orthonormal axes)."""
        return 1.0

    def project(self, z: np.ndarray) -> np.ndarray:
        """``[N, D] -> [N, 2]`` map coordinates (a 1-D latent sits on y = 0)."""
        return (np.atleast_2d(z) - self.mean) @ self.components.T

    def inverse(self, p: np.ndarray) -> np.ndarray:
        """``[N, 2] -> [N, D]``: the latent point on the plane under a map point."""
        return self.mean + np.atleast_2d(p) @ self.components

    def axis_titles(self) -> tuple[str, str]:
        if self.explained is None:
            return ("z[0]", "z[1]") if self.components.shape[1] > 1 else ("z[0]", "")
        return tuple(
            f"PC{i + 1} ({v:.0%} of variance)" for i, v in enumerate(self.explained)
        )


# Singular values below this (relative to the largest, or to 1) count as none.
SPREAD_EPS = 1e-6


def _spread(z: np.ndarray) -> np.ndarray:
    """The two largest singular values of the centred points (zeros padded)."""
    sv = np.linalg.svd(z - z.mean(0), compute_uv=False)
    return np.pad(sv, (0, max(0, 2 - len(sv))))[:2]


def slider_ranges(z: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """Per-dimension ``[D, 2]`` ranges covering the data (0.5-99.5%) plus a margin.

    A dimension the data does not spread along (one image, or identical
    codes) gets the range of its value +- 1 (the prior's sigma), so a slider
    can still move through the space there.
    """
    lo, hi = np.percentile(z, [0.5, 99.5], axis=0)
    pad = margin * (hi - lo)
    lo, hi = lo - pad, hi + pad
    flat = hi - lo <= SPREAD_EPS * np.maximum(1.0, np.abs(lo))
    lo, hi = np.where(flat, lo - 1.0, lo), np.where(flat, hi + 1.0, hi)
    return np.stack([lo, hi], axis=1)


@dataclass(frozen=True)
class SliderBasis:
    """The directions the sliders move along.

    Raw latent dimensions when D <= ``max_raw``; otherwise the first few
    principal components of the data. Moving slider ``i`` moves the latent
    point along ``components[i]`` only, so the rest of the point is kept.

    Attributes:
        mean: ``[D]`` origin of the slider coordinates.
        components: ``[K, D]`` orthonormal directions.
        labels: one label per slider.
        ranges: ``[K, 2]`` slider bounds covering the data.
    """

    mean: np.ndarray
    components: np.ndarray
    labels: tuple[str, ...]
    ranges: np.ndarray

    @classmethod
    def fit(cls, z: np.ndarray, max_raw: int = 8, n_components: int = 4) -> SliderBasis:
        n, d = z.shape
        if d <= max_raw:
            labels = tuple(f"z[{i}]" for i in range(d))
            return cls(np.zeros(d), np.eye(d), labels, slider_ranges(z))
        k = min(n_components, d)
        if n <= k or _spread(z)[0] <= SPREAD_EPS:
            # Too few points, or none apart, for k principal components: the
            # first raw dimensions instead.
            dims = range(min(max_raw, d))
            return cls.along(z, dims, tuple(f"z[{i}]" for i in dims))
        from sklearn.decomposition import PCA

        pca = PCA(n_components=k, random_state=0).fit(z)
        labels = tuple(
            f"PC{i + 1} ({v:.0%})" for i, v in enumerate(pca.explained_variance_ratio_)
        )
        coords = pca.transform(z)
        return cls(
            pca.mean_.copy(), pca.components_.copy(), labels, slider_ranges(coords)
        )

    @classmethod
    def along(cls, z: np.ndarray, dims, labels: tuple[str, ...]) -> SliderBasis:
        """One slider per raw dimension in ``dims``, in that order."""
        dims = np.asarray(dims, dtype=int)
        comps = np.eye(z.shape[1])[dims]
        return cls(
            np.zeros(z.shape[1]), comps, tuple(labels), slider_ranges(z[:, dims])
        )

    def coordinates(self, z: np.ndarray) -> np.ndarray:
        """Slider values ``[K]`` of a latent point ``[D]``."""
        return (z - self.mean) @ self.components.T

    def move(self, z: np.ndarray, i: int, value: float) -> np.ndarray:
        """``z`` with slider ``i`` set to ``value`` and everything else kept."""
        return z + (value - self.coordinates(z)[i]) * self.components[i]

    def set_all(self, z: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``z`` with every slider set to ``values`` ``[K]`` (the rest kept)."""
        delta = np.asarray(values, dtype=np.float64) - self.coordinates(z)
        return z + delta @ self.components


def data_range(coords: np.ndarray, pad: float = 0.05) -> np.ndarray:
    """``[[x0, x1], [y0, y1]]``: the 0.5-99.5% extent of map coordinates, padded
    by ``pad`` of it on each side (an axis the points do not spread along:
    their value +- 1); the same extent as the sliders' (``slider_ranges``)."""
    return slider_ranges(coords, margin=pad)
