"""Maps of a latent space that decode anywhere: PCA, UMAP or t-SNE, each with
a way back from the map into the latent space.

``make_projection(kind, means)`` fits a map of the latent means and returns a
``MapProjection``: ``project(z [N, D]) -> [N, 2]`` and ``inverse(xy [N, 2]) ->
[N, D]``. The inverse goes into the latent space, not into pixels (the latent
has at most a few hundred dimensions, and the model's own decoder then draws
the image):

- **PCA**: the exact linear inverse (``projection.Projection``): the point on
  the PCA plane under a map point.
- **UMAP** (umap-learn) and **t-SNE** (openTSNE): neither has a usable inverse
  (umap-learn's ``inverse_transform`` optimises for seconds per point; openTSNE
  has none), so the inverse is barycentric interpolation over the Delaunay
  triangulation of the fitted means' map points (SciPy's
  ``LinearNDInterpolator``): exact at every fitted mean, linear between three
  neighbours on the map, and outside the data's hull the nearest mean (where
  ``inside`` is False, so the app says "far from the data").

New codes (a cursor, a path, an upload) are placed on a non-linear map by
their ``k`` nearest fitted means in the latent space, weighted by inverse
distance (scikit-learn's ``KNeighborsRegressor``): the starting point both
libraries' own ``transform`` optimises from, exact at a fitted mean, and
below a millisecond, so a slider can move the cursor on the map live.

A fit is cached on disk (``cached``) under the hash of the means it was
fitted on (so of the model and the data), the kind, the seed and the
library's version; a cached map is rebuilt from its coordinates alone.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.latent.projection import Projection
from explorer.problem import Problem

KINDS = ("pca", "umap", "tsne")
LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
LIBRARY = {"umap": "umap-learn", "tsne": "openTSNE"}
NEIGHBOURS = 10  # fitted means that place a new code on a non-linear map

Progress = Callable[[float, str], None]


class ProjectionError(Problem, ValueError):
    """A map that cannot be made (an unknown kind, too few points, a missing
    optional library)."""

    MESSAGES = {
        "dimensions": "codes of {got} dimensions on a map of a {want}-D latent",
        "triangulate": "the {map} map's points cannot be triangulated: {reason}",
        "kind": "unknown projection {kind!r}: one of {kinds}",
        "means": "means must be [N, D] with N > 0, not {shape}",
        "finite": "the means hold NaN or infinite values",
        "few": "a {map} map needs at least {least} images, not {n}",
        "many": "a {map} map of {n:,} images is not offered: its fit would take "
        "hours here (at most {most:,}; the PCA map has no limit)",
        "library": "a {map} map needs {library}, which is not installed here: "
        "pip install {library}",
        "failed": "the {map} fit failed: {reason}",
        "not_fitted": "the {map} map of {path} is not fitted yet",
    }


@dataclass
class MapProjection:
    """A 2-D map of latent codes and its inverse into the latent space.

    Attributes:
        kind: "pca", "umap" or "tsne".
        means: ``[N, D]`` the codes the map was fitted on.
        coords: ``[N, 2]`` their places on the map.
        linear: the PCA (or raw axes) for kind "pca", else None.
    """

    kind: str
    means: np.ndarray
    coords: np.ndarray
    linear: Projection | None = None
    _forward: object = field(default=None, init=False, repr=False)
    _inverse: object = field(default=None, init=False, repr=False)
    _nearest: object = field(default=None, init=False, repr=False)

    @property
    def latent_dim(self) -> int:
        return self.means.shape[1]

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    # What the app reads of a map's projection, as of a linear ``Projection``:

    @property
    def is_linear(self) -> bool:
        """Whether the map is linear (PCA or raw axes): its inverse is exact,
        and the prior's rings and a posterior's ellipses have an image on it."""
        return self.linear is not None

    @property
    def is_pca(self) -> bool:
        return self.linear is not None and self.linear.is_pca

    @property
    def note(self) -> str | None:
        return self.linear.note if self.linear is not None else None

    @property
    def mean(self) -> np.ndarray | None:
        return self.linear.mean if self.linear is not None else None

    @property
    def components(self) -> np.ndarray | None:
        return self.linear.components if self.linear is not None else None

    def axis_titles(self) -> tuple[str, str]:
        if self.linear is not None:
            return self.linear.axis_titles()
        return (f"{self.label} 1", f"{self.label} 2")

    def project(self, z: np.ndarray) -> np.ndarray:
        """``[N, D] -> [N, 2]``: where codes fall on the map."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        if z.shape[1] != self.latent_dim:
            raise ProjectionError("dimensions", got=z.shape[1], want=self.latent_dim)
        if self.linear is not None:
            return self.linear.project(z)
        if self._forward is None:
            from sklearn.neighbors import KNeighborsRegressor

            k = min(NEIGHBOURS, len(self.means))
            reg = KNeighborsRegressor(n_neighbors=k, weights="distance")
            self._forward = reg.fit(self.means, self.coords)
        return self._forward.predict(z)

    def inverse(self, xy: np.ndarray) -> np.ndarray:
        """``[N, 2] -> [N, D]``: the latent code under each map point."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        if self.linear is not None:
            return self.linear.inverse(xy)
        self._triangulate()
        z = self._inverse(xy)
        out = ~np.isfinite(z).all(axis=1)  # outside the hull: the nearest mean
        if out.any():
            z[out] = self._nearest(xy[out])
        return z

    def inside(self, xy: np.ndarray) -> np.ndarray:
        """Whether each map point lies inside the hull of the fitted points
        (outside it a non-linear map's inverse only repeats the nearest mean)."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        self._triangulate()
        return self._inverse.tri.find_simplex(xy) >= 0

    def _triangulate(self) -> None:
        if self._inverse is not None:
            return
        from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator
        from scipy.spatial import QhullError

        try:
            self._inverse = LinearNDInterpolator(self.coords, self.means)
        except QhullError as e:  # e.g. every point on one line
            reason = str(e).splitlines()[0]
            raise ProjectionError("triangulate", map=self.label, reason=reason) from e
        self._nearest = NearestNDInterpolator(self.coords, self.means)


def make_projection(
    kind: str, means: np.ndarray, seed: int = 0, progress: Progress | None = None
) -> MapProjection:
    """Fits a map of ``means`` ``[N, D]``: "pca" (raw axes for D <= 2),
    "umap" or "tsne". ``progress(fraction, message)`` hears how far a fit
    is. The same ``seed`` and means give the same map."""
    if kind not in KINDS:
        raise ProjectionError("kind", kind=kind, kinds=", ".join(KINDS))
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or not len(means):
        raise ProjectionError("means", shape=means.shape)
    if not np.isfinite(means).all():
        raise ProjectionError("finite")
    if kind == "pca":
        linear = Projection.fit(means)
        return MapProjection(kind, means, linear.project(means), linear)
    if len(means) < MIN_POINTS:
        raise ProjectionError("few", map=LABELS[kind], least=MIN_POINTS, n=len(means))
    if len(means) > MAX_POINTS:
        raise ProjectionError("many", map=LABELS[kind], n=len(means), most=MAX_POINTS)
    coords = (_fit_umap if kind == "umap" else _fit_tsne)(means, seed, progress)
    return MapProjection(kind, means, coords)


MIN_POINTS = 20  # fewer cannot fill UMAP's neighbourhoods or t-SNE's perplexity
MAX_POINTS = 100_000  # more would fit for hours on a small machine


def _library(kind: str):
    name = {"umap": "umap", "tsne": "openTSNE"}[kind]
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise ProjectionError("library", map=LABELS[kind], library=LIBRARY[kind]) from e


def _fit_umap(means: np.ndarray, seed: int, progress: Progress | None) -> np.ndarray:
    umap = _library("umap")
    if progress:
        progress(0.0, "nearest neighbours, then the layout")
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(15, len(means) - 1),
        min_dist=0.1,
        random_state=seed,
        n_jobs=1,  # a seed makes umap-learn run on one thread anyway
    )
    coords = np.asarray(reducer.fit_transform(means), dtype=np.float64)
    if progress:
        progress(1.0, "done")
    return coords


def _fit_tsne(means: np.ndarray, seed: int, progress: Progress | None) -> np.ndarray:
    open_tsne = _library("tsne")
    iters = {"early": 250, "main": 500}
    done = [0]

    def tick(iteration, error, embedding):
        done[0] += 50
        if progress:
            total = iters["early"] + iters["main"]
            progress(min(done[0] / total, 1.0), f"iteration {done[0]} of {total}")

    tsne = open_tsne.TSNE(
        n_components=2,
        perplexity=min(30.0, (len(means) - 1) / 3),
        early_exaggeration_iter=iters["early"],
        n_iter=iters["main"],
        random_state=seed,
        n_jobs=2,
        callbacks=tick,
        callbacks_every_iters=50,
        verbose=False,
    )
    if progress:
        progress(0.0, "nearest neighbours")
    return np.asarray(tsne.fit(means), dtype=np.float64)


def version(kind: str) -> str:
    """The fitting library's version, part of a cached fit's key."""
    if kind == "pca":
        return "pca"
    try:
        return f"{kind}-{importlib.metadata.version(LIBRARY[kind])}"
    except importlib.metadata.PackageNotFoundError:
        return kind


def fit_key(kind: str, means: np.ndarray, seed: int) -> str:
    """Names a fit: the means' bytes (the model and the data), the kind, the
    seed and the library's version."""
    means = np.ascontiguousarray(means, dtype=np.float64)
    h = hashlib.sha256(f"{version(kind)}|{seed}|{means.shape}".encode())
    h.update(means.tobytes())
    return h.hexdigest()[:24]


def _file(kind: str, means: np.ndarray, folder: Path, seed: int) -> Path:
    return Path(folder) / f"{kind}-{fit_key(kind, means, seed)}.npy"


def load(kind: str, means: np.ndarray, folder: Path, seed: int = 0):
    """The map of ``means`` cached in ``folder``, or None when there is none
    (or a damaged one). A PCA is never cached: it is fitted at once."""
    if kind == "pca":
        return make_projection(kind, means, seed)
    means = np.asarray(means, dtype=np.float64)
    try:
        coords = np.load(_file(kind, means, folder, seed), allow_pickle=False)
    except (OSError, ValueError):
        return None  # none yet, or a damaged file
    if coords.shape != (len(means), 2) or not np.isfinite(coords).all():
        return None
    return MapProjection(kind, means, coords.astype(np.float64))


def cached(
    kind: str,
    means: np.ndarray,
    folder: Path,
    seed: int = 0,
    progress: Progress | None = None,
) -> MapProjection:
    """``make_projection``, with a non-linear map's coordinates kept in
    ``folder`` (one ``.npy`` per fit): the next call with the same means
    reads them back instead of fitting again."""
    done = load(kind, means, folder, seed)
    if done is not None:
        return done
    from explorer.fileio import atomic_write, exclusive

    path = _file(kind, np.asarray(means, dtype=np.float64), folder, seed)
    # One process fits (several serve the page); the others wait and read it.
    with exclusive(path):
        done = load(kind, means, folder, seed)
        if done is not None:
            return done
        proj = make_projection(kind, means, seed, progress)
        buf = io.BytesIO()
        np.save(buf, proj.coords, allow_pickle=False)
        try:
            atomic_write(path, buf.getvalue())
        except OSError:
            pass  # a read-only cache: fit each time
    return proj


def roundtrip_error(proj: MapProjection, z: np.ndarray) -> np.ndarray:
    """For held-out codes ``z`` ``[N, D]``: ``|inverse(project(z)) - z|``
    relative to the fitted means' spread (their RMS distance to their mean),
    one number per code."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    back = proj.inverse(proj.project(z))
    spread = np.sqrt(((proj.means - proj.means.mean(0)) ** 2).sum(1).mean())
    return np.linalg.norm(back - z, axis=1) / max(spread, 1e-12)
