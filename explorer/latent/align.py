"""Aligning one map onto another: orthogonal Procrustes on the images both
maps show (rotation, reflection, uniform scale and shift), and its disparity,
one number for how alike two maps' shapes are (0: the same up to those).

Two models' maps of the same images (an AE's and a VAE's) come out of their
own fits, so one may be a mirror image or a rotation of the other; aligned,
the same images sit in the same places, and what still differs is what the
models disagree about."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.problem import Problem


class AlignmentError(Problem, ValueError):
    """Two maps that cannot be aligned."""

    MESSAGES = {
        "shapes": "two maps of the same images are needed: [N, 2] each, not "
        "{target} and {source}",
        "coincide": "a map whose points all coincide cannot be aligned",
    }


@dataclass(frozen=True)
class Alignment:
    """``apply(xy) = (xy - source_mean) @ rotation * scale + target_mean``.

    Attributes:
        rotation: ``[2, 2]`` orthogonal; a determinant of -1 is a reflection.
        scale: uniform.
        source_mean, target_mean: ``[2]`` the two point sets' centres.
        disparity: the sum of squared differences left after the best fit,
            both sets standardised (SciPy's ``procrustes``): from 0 (the same
            shape) to 1.
    """

    rotation: np.ndarray
    scale: float
    source_mean: np.ndarray
    target_mean: np.ndarray
    disparity: float

    @property
    def reflected(self) -> bool:
        return bool(np.linalg.det(self.rotation) < 0)

    @property
    def degrees(self) -> float:
        """The angle of the rotation, counterclockwise, applied after the
        reflection across the x axis when ``reflected``."""
        flip = np.diag([1.0, -1.0])
        r = flip @ self.rotation if self.reflected else self.rotation
        return float(np.degrees(np.arctan2(r[0, 1], r[0, 0])))

    def apply(self, xy: np.ndarray) -> np.ndarray:
        """Source map coordinates ``[N, 2]`` in the target map's frame."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        return (xy - self.source_mean) @ self.rotation * self.scale + self.target_mean

    def undo(self, xy: np.ndarray) -> np.ndarray:
        """The inverse of ``apply``: target-frame points back on the source map."""
        xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
        return (xy - self.target_mean) / self.scale @ self.rotation.T + self.source_mean


def align(target: np.ndarray, source: np.ndarray) -> Alignment:
    """The rotation (reflections allowed), scale and shift that best put
    ``source`` ``[N, 2]`` onto ``target`` ``[N, 2]`` (row i of each is the
    same image), in the least-squares sense."""
    from scipy.linalg import orthogonal_procrustes
    from scipy.spatial import procrustes

    target = np.asarray(target, dtype=np.float64)
    source = np.asarray(source, dtype=np.float64)
    if target.shape != source.shape or target.ndim != 2 or target.shape[1] != 2:
        raise AlignmentError("shapes", target=target.shape, source=source.shape)
    a, b = source - source.mean(0), target - target.mean(0)
    if len(target) < 2 or not (a**2).sum() > 0 or not (b**2).sum() > 0:
        raise AlignmentError("coincide")
    rotation, total = orthogonal_procrustes(a, b)
    _, _, disparity = procrustes(target, source)
    return Alignment(
        rotation,
        float(total / (a**2).sum()),
        source.mean(0),
        target.mean(0),
        float(disparity),
    )


class AlignedProjection:
    """A map (a linear ``Projection`` or a ``maps.MapProjection``) moved by
    an ``Alignment`` into another map's frame: ``project`` lands in that
    frame, ``inverse`` and ``inside`` take its points back first. What the
    frame does not change (kind, label, note) is the inner map's.

    A linear map stays affine: ``project(z) = (z - mean) @ components.T +
    offset`` and ``inverse(p) = mean + (p - offset) @ back``, with the
    alignment folded into ``components`` (scaled by ``scale``), so the
    browser computes both as it does for an unaligned one."""

    def __init__(self, inner, alignment: Alignment) -> None:
        self.inner, self.alignment = inner, alignment

    def __getattr__(self, name: str):  # kind, label, is_linear, note, ...
        return getattr(self.inner, name)

    @property
    def scale(self) -> float:
        """Map units per latent unit along the map's plane (the prior's
        rings and quantiles scale by it)."""
        return self.alignment.scale * getattr(self.inner, "scale", 1.0)

    @property
    def components(self) -> np.ndarray:
        a = self.alignment
        return a.scale * a.rotation.T @ self.inner.components

    @property
    def offset(self) -> np.ndarray:
        return self.alignment.apply(self.inner.offset[None])[0]

    @property
    def back(self) -> np.ndarray:
        a = self.alignment
        return a.rotation.T @ self.inner.back / a.scale

    @property
    def coords(self) -> np.ndarray:  # a fitted map's points
        return self.alignment.apply(self.inner.coords)

    def project(self, z: np.ndarray) -> np.ndarray:
        return self.alignment.apply(self.inner.project(z))

    def inverse(self, xy: np.ndarray) -> np.ndarray:
        return self.inner.inverse(self.alignment.undo(xy))

    def inside(self, xy: np.ndarray) -> np.ndarray:
        return self.inner.inside(self.alignment.undo(xy))

    def axis_titles(self) -> tuple[str, str]:
        return ("x (aligned to the left map)", "y (aligned to the left map)")
