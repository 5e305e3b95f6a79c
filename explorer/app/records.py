"""What one run of the page works with: the sidebar's ``Settings`` and a
``Panel`` per map (a checkpoint, its latent space and the points shown). The
state (``state``), the actions (``actions``) and the tabs all read these."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.app import catalogue
from explorer.latent.space import LatentSpace


@dataclass(frozen=True)
class Settings:
    dataset: str
    splits: tuple[str, ...]
    checkpoints: dict[str, catalogue.Entry]
    n_shown: int
    colour: str
    rings: bool
    maps: dict[str, str] = field(default_factory=dict)  # slot -> "pca", "umap", "tsne"
    align: bool = False  # the right map aligned to the left (align.py)


@dataclass
class Panel:
    """One side of the page: a checkpoint, its space, and the shown points."""

    slot: str
    entry: catalogue.Entry
    space: LatentSpace | None = None
    points: object = None
    shown: np.ndarray | None = None
    error: str | None = None
    fit: object = None  # fits.Fit of a non-linear map (running, done or failed)
    alignment: object = None  # align.Alignment onto the left map, if aligned
