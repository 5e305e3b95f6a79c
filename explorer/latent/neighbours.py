"""The data nearest a latent point, and the typical gap between data points."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.neighbors import NearestNeighbors


class NearestData:
    """Nearest data points to any latent point (Euclidean, in the latent space).

    The index is built on the first query (once, whichever thread asks
    first), so a space is ready to draw before it is ready to search: a map
    of a million points appears while its index is still being built, and
    scikit-learn (over a second to import) is imported then, not before.
    """

    def __init__(self, z: np.ndarray):
        self.n = len(z)
        self._z = z
        self._nn: NearestNeighbors | None = None
        self._lock = threading.Lock()

    def _index(self) -> NearestNeighbors:
        with self._lock:
            if self._nn is None:
                from sklearn.neighbors import NearestNeighbors

                self._nn = NearestNeighbors(n_neighbors=1).fit(self._z)
        return self._nn

    def query(self, q: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``[M, k']`` and indices ``[M, k']`` of the nearest data
        points, with ``k' = min(k, N)`` (there are no more than N)."""
        nn = self._index()
        dist, idx = nn.kneighbors(np.atleast_2d(q), n_neighbors=min(k, self.n))
        return dist, idx


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
