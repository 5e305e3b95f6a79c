"""What happens along an interpolation path, for the interpolation tab's
chart: at each step t, the prior's log-density of z, how far z is from the
nearest data mean, and how well the model re-encodes its own decode there.

These show why a straight line through an AE's gaps decodes nonsense (far
from every code, and the decode does not survive its own re-encoding) and
why a spherical path keeps a VAE on the prior's shell (the log-density stays
level instead of rising towards the origin)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.latent.paths import interpolate


@dataclass(frozen=True)
class PathCheck:
    """One path's measures, each ``[T]`` over ``t`` from 0 to 1.

    Attributes:
        method: "linear" or "spherical".
        t: the steps.
        log_prior: ``log N(z; 0, I)``, in nats.
        nearest: the distance from z to the nearest data mean, in units of
            the typical distance between neighbouring means (so two models'
            spaces compare).
        roundtrip: the mean squared difference (pixels in [0, 1]) between
            the decode of z and the decode of its re-encoding.
    """

    method: str
    t: np.ndarray
    log_prior: np.ndarray
    nearest: np.ndarray
    roundtrip: np.ndarray


def log_prior(z: np.ndarray) -> np.ndarray:
    """``log N(z; 0, I)`` of each row of ``z`` ``[T, D]``."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    return -0.5 * (z**2).sum(1) - 0.5 * z.shape[1] * np.log(2 * np.pi)


def check_path(
    space,
    a: np.ndarray,
    b: np.ndarray,
    steps: int,
    method: str = "linear",
    labels: np.ndarray | None = None,
) -> PathCheck:
    """The measures along the ``method`` path from ``a`` to ``b`` in
    ``steps`` steps, for a ``LatentSpace`` (``labels``: a conditional
    model's class, the same along the path)."""
    z = interpolate(np.asarray(a, float), np.asarray(b, float), steps, method)
    dist, _ = space.nearest.query(z)
    x = space.decode(z, labels)
    again = space.decode(space.encode(x, labels), labels)
    diff = (x.astype(np.float64) - again.astype(np.float64)) / 255.0
    return PathCheck(
        method,
        np.linspace(0.0, 1.0, steps),
        log_prior(z),
        dist[:, 0] / max(space.spacing, 1e-12),
        (diff**2).reshape(len(z), -1).mean(1),
    )
