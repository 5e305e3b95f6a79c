"""The map forming: a replay of latent maps through training, as the data
of the canvas element (``explorer.app.components.canvas``), which animates it
in the browser (no rerun while it slides or plays).

``element(maps, curves, words)`` takes, per map, its frames of 2-D positions
(``[S, N, 2]``), the fractional epoch of each frame and the points' classes,
and, per model, the loss terms of those frames. It lays the maps side by
side with the loss curves under them, one time slider and Play/Pause; each
slider step moves every point of every map to where it was at that step's
epoch (each map's frame nearest to it when the maps' frames differ) and the
curves' cursor (a vertical line) to that epoch. The axes stay fixed over the
animation (the range of all frames), so a moving point moved in the latent
space.

``positions(means)`` gives a map's 2-D frames from latent means: the raw
axes of a 2-D latent; above that one PCA fitted on the last frame and applied
to every frame. Nothing here reads Streamlit's state; the words come in as
arguments (already translated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.app.components import canvas

PAD = 0.05  # of each axis's span, around every frame's points
MAP_HEIGHT, CURVE_HEIGHT = 460, 300


@dataclass(frozen=True)
class MapFrames:
    """One map's replay.

    Attributes:
        title: the map's title (a model's name, shown as text).
        xy: ``[S, N, 2]`` the points' positions at each frame.
        epoch: ``[S]`` each frame's fractional epoch (increasing).
        labels: ``[N]`` each point's class, or None (unlabelled: one class).
        names: each class's hover name (its name, in the page's language).
        axes: the x and y axis titles.
    """

    title: str
    xy: np.ndarray
    epoch: np.ndarray
    labels: np.ndarray | None
    names: list[str]
    axes: tuple[str, str]


@dataclass(frozen=True)
class Curves:
    """One model's loss terms at its frames (nats per image); ``kl`` is None
    for a model without a KL term (an autoencoder)."""

    name: str
    colour: str
    epoch: np.ndarray  # [S]
    recon: np.ndarray  # [S]
    kl: np.ndarray | None


@dataclass(frozen=True)
class Words:
    """The element's words, in the page's language."""

    recon: str  # the reconstruction panel's title
    kl: str  # the KL panel's title
    epoch: str  # the curves' x axis (log scale, step 0 at its left)
    step: str  # a slider step's label, with an ``{epoch}`` field
    play: str
    pause: str
    nats: str  # the curves' y axis


def positions(means: np.ndarray) -> tuple[np.ndarray, bool]:
    """A map's frames from latent means ``[S, N, D]``: the means themselves
    for ``D == 2``, else their projection on the first two principal axes of
    the last frame (one fit, every frame through it); a 1-D latent on the
    x axis (y = 0). Returns ``[S, N, 2]`` float32 and whether it is a
    projection."""
    means = np.asarray(means, dtype=np.float64)
    if means.shape[-1] == 1:
        means = np.concatenate([means, np.zeros_like(means)], axis=-1)
    if means.shape[-1] <= 2:
        return means.astype(np.float32), False
    last = means[-1]
    centre = last.mean(0)
    _, _, vt = np.linalg.svd(last - centre, full_matrices=False)
    axes = vt[:2]  # [2, D]
    # a sign per axis that does not depend on the SVD routine's choice
    axes = axes * np.sign(axes[[0, 1], np.abs(axes).argmax(1)])[:, None]
    return ((means - centre) @ axes.T).astype(np.float32), True


def steps(maps: list[MapFrames]) -> tuple[np.ndarray, np.ndarray]:
    """The slider's steps: their epochs ``[T]`` and, per map, the frame each
    step shows ``[M, T]``. Maps of as many frames share their steps (frame i
    at step i, at the first map's epoch); otherwise a step per distinct
    epoch of any map, each map showing its frame nearest in epoch."""
    if len({len(m.epoch) for m in maps}) == 1:
        t = np.asarray(maps[0].epoch, dtype=np.float64)
        return t, np.tile(np.arange(len(t)), (len(maps), 1))
    t = np.unique(np.concatenate([np.asarray(m.epoch, np.float64) for m in maps]))
    pick = [np.abs(np.asarray(m.epoch)[None, :] - t[:, None]).argmin(1) for m in maps]
    return t, np.stack(pick)


def element(maps: list[MapFrames], curves: list[Curves], words: Words) -> dict:
    """The replay's element data: ``maps`` side by side over the loss curves
    (reconstruction, KL), a slider and Play/Pause (see the module's
    docstring)."""
    t, pick = steps(maps)
    panels = [
        canvas.map_panel(
            m.title, m.axes, m.xy, pick[i], m.labels, m.names,
            [*_range(m.xy[:, :, 0]), *_range(m.xy[:, :, 1])],
            height=MAP_HEIGHT,
        )
        for i, m in enumerate(maps)
    ]  # fmt: skip
    floor = log_floor([t] + [c.epoch for c in curves])
    cursor = np.maximum(t, floor)
    for title, term in ((words.recon, "recon"), (words.kl, "kl")):
        lines = [
            canvas.series(
                c.name, c.colour, np.maximum(np.asarray(c.epoch, np.float64), floor),
                getattr(c, term),
            )
            for c in curves
            if getattr(c, term) is not None
        ]  # fmt: skip
        if lines:  # (an autoencoder alone has no KL panel)
            panels.append(
                canvas.curve_panel(
                    title, (words.epoch, words.nats), lines, cursor, log_x=True,
                    height=CURVE_HEIGHT, row=1,
                )
            )  # fmt: skip
    labels = [words.step.format(epoch=_epoch(e)) for e in t]
    # (shown first: the last frame, the saved weights' map, as the maps above
    # draw it; Play from there starts over at step 0)
    return canvas.data(
        labels,
        panels,
        {"play": words.play, "pause": words.pause},
        start=len(labels) - 1,
    )


def _range(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = PAD * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def log_floor(epochs: list[np.ndarray]) -> float:
    """Where the curves' log-x axis draws epoch 0 (step 0): at half the
    smallest positive epoch (the first step's), left of every other."""
    e = np.concatenate([np.asarray(a, np.float64) for a in epochs])
    return float(e[e > 0].min()) / 2 if np.any(e > 0) else 1.0


def _epoch(e: float) -> str:
    return f"{e:.3g}" if e < 1 else f"{e:.2f}".rstrip("0").rstrip(".")
