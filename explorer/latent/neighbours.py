"""The data nearest a latent point, and the typical gap between data points."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.spatial import cKDTree


class NearestData:
    """Nearest data points to any latent point (Euclidean, in the latent space).

    A k-d tree (SciPy's ``cKDTree``): a query answers in microseconds, where
    scikit-learn's ``NearestNeighbors`` spent about a millisecond checking
    its input and its thread pools, several times in each rerun of a click.
    The tree is built on the first query (once, whichever thread asks
    first), so a space is ready to draw before it is ready to search: a map
    of a million points appears while its tree is still being built.
    """

    def __init__(self, z: np.ndarray):
        self.n = len(z)
        self._z = z
        self._tree: cKDTree | None = None
        self._lock = threading.Lock()

    def _index(self) -> cKDTree:
        with self._lock:
            if self._tree is None:
                from scipy.spatial import cKDTree

                self._tree = cKDTree(np.asarray(self._z, dtype=np.float64))
        return self._tree

    def query(self, q: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``[M, k']`` and indices ``[M, k']`` of the nearest data
        points, nearest first, with ``k' = min(k, N)`` (there are no more
        than N)."""
        q = np.atleast_2d(np.asarray(q, dtype=np.float64))
        k = min(k, self.n)
        dist, idx = self._index().query(q, k=[*range(1, k + 1)])
        return dist, idx.astype(np.intp, copy=False)


def typical_distance(
    z: np.ndarray,
    sample: int = 2000,
    seed: int = 0,
    nearest: NearestData | None = None,
) -> float:
    """Median distance from a data point to its nearest other data point.

    Gives the scale against which "how far from the data" is judged; 0.0
    when there is no other point. ``nearest`` (an index over ``z``) saves
    building another.
    """
    if len(z) < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(z), size=min(sample, len(z)), replace=False)
    if nearest is None:
        nearest = NearestData(z)
    dist, _ = nearest.query(z[idx], k=2)
    return float(np.median(dist[:, 1]))


def nearest_images(nearest, z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``[k]`` and latent distances ``[k]`` of the data nearest ``z``."""
    dist, idx = nearest.query(np.atleast_2d(z), k=k)
    return idx[0], dist[0]
