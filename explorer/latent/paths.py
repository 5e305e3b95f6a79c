"""Paths between two latent points: linear and spherical interpolation."""

from __future__ import annotations

import numpy as np


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Linear interpolation; ``t`` ``[T]`` gives ``[T, D]``."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    return (1 - t) * a + t * b


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for latent spaces).

    Follows the great circle between the directions of ``a`` and ``b`` while
    the norm changes linearly, so the path stays in the prior's typical shell.
    Falls back to ``lerp`` when the two are (anti)parallel or zero.
    """
    t = np.asarray(t, dtype=np.float64)[..., None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t[..., 0])
    cos = np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(a, b, t[..., 0])
    ua, ub = a / na, b / nb
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    return direction * ((1 - t) * na + t * nb)


INTERPOLATIONS = {"linear": lerp, "spherical": slerp}


def interpolate(
    a: np.ndarray, b: np.ndarray, steps: int, method: str = "linear"
) -> np.ndarray:
    """``steps`` points from ``a`` to ``b`` inclusive, ``[steps, D]``."""
    return INTERPOLATIONS[method](a, b, np.linspace(0.0, 1.0, steps))
