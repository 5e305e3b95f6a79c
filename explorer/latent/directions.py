"""Directions to move a code along: from one class's centroid to another's
(attribute vectors, as in White 2016, "Sampling Generative Networks"), the
analogy they give (A is to B as C is to C + B - A), and the local principal
directions of the data around a point."""

from __future__ import annotations

import numpy as np

from explorer.problem import Problem


class DirectionError(Problem, ValueError):
    """A direction that cannot be taken from the codes at hand."""

    MESSAGES = {
        "centroid": "both classes need images to have a centroid",
        "dimensions": "local directions need a latent of 2 or more dimensions",
        "few": "local directions need 3 or more codes",
        "same": "the {k} codes nearest here are all the same point",
    }


def class_centroids(z: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """``[K, D]``: the mean code of each class (NaN for a class with no image)."""
    z = np.asarray(z, dtype=np.float64)
    labels = np.asarray(labels)
    sums = np.zeros((n_classes, z.shape[1]))
    np.add.at(sums, labels, z)
    counts = np.bincount(labels, minlength=n_classes)[:n_classes]
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def class_direction(centroids: np.ndarray, a: int, b: int) -> np.ndarray:
    """``[D]``: from class ``a``'s centroid to class ``b``'s (not normalised:
    moving a code by 1x it goes as far as the centroids are apart)."""
    d = centroids[b] - centroids[a]
    if not np.isfinite(d).all():
        raise DirectionError("centroid")
    return d


def along(start: np.ndarray, direction: np.ndarray, t) -> np.ndarray:
    """``start + t * direction`` for a scalar or ``[T]`` of ``t`` (``[D]`` or
    ``[T, D]``)."""
    t = np.asarray(t, dtype=np.float64)
    return np.asarray(start, dtype=np.float64) + t[..., None] * direction


def analogy(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """A is to B as C is to ``c + (b - a)`` (``c`` may be ``[N, D]``)."""
    return np.asarray(c, dtype=np.float64) + (np.asarray(b) - np.asarray(a))


def local_directions(
    z: np.ndarray, at: np.ndarray, k: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """The two principal directions ``[2, D]`` (unit rows) of the ``k`` codes
    of ``z`` nearest ``at``, and their standard deviations ``[2]``: where the
    data around that point spreads."""
    from sklearn.decomposition import PCA

    z = np.asarray(z, dtype=np.float64)
    if z.shape[1] < 2:
        raise DirectionError("dimensions")
    k = min(k, len(z))
    if k < 3:
        raise DirectionError("few")
    near = z[np.argpartition(((z - at) ** 2).sum(1), k - 1)[:k]]
    if not np.ptp(near, axis=0).max() > 0:
        raise DirectionError("same", k=k)
    pca = PCA(n_components=2, random_state=0).fit(near)
    return pca.components_, np.sqrt(pca.explained_variance_)
