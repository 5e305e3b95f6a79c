"""A model's decoder, exported for the browser (the view decodes with it
while a slider is dragged and at every click)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app.components.latent_map import write_once
from explorer.latent.space import LatentSpace
from explorer.model.export import export_decoder, half_layers

GRID = 64  # the check's grid: GRID x GRID points over the sliders' plane
CODES = 2048  # and this many of the data's codes


@st.cache_resource(max_entries=16, show_spinner=False)  # (a fast export)
def decoder_file(path: str, _space: LatentSpace) -> str:
    """The checkpoint's decoder, exported once into the maps' data folder
    (``components.latent_map``), every layer in float32; returns its file
    name."""
    return write_once("decoder", export_decoder(_space.model), "latent_map")


@st.cache_resource(max_entries=16, show_spinner=False)
def view_decoder_file(path: str, _space: LatentSpace) -> str:
    """The decoder the view fetches: each layer in float16 where every decode
    of ``check_points`` stays within one grey level of float32's
    (``export.half_layers``), else float32; returns its file name."""
    z, labels = check_points(_space)
    half = half_layers(_space.model, z, labels)
    return write_once("decoder", export_decoder(_space.model, half), "latent_map")


def check_points(space: LatentSpace) -> tuple[np.ndarray, np.ndarray | None]:
    """Where the half-precision check decodes: a ``GRID`` x ``GRID`` grid over
    the first two sliders' ranges (the rest at the sliders' origin), and
    ``CODES`` of the data's codes, evenly spaced; a conditional model's
    points cycle through its classes. Returns ``z`` ``[N, D]`` and labels
    ``[N]`` (None: not conditional)."""
    b = space.basis
    axes = [np.linspace(lo, hi, GRID) for lo, hi in b.ranges[:2]]
    if len(axes) == 1:
        axes.append(np.zeros(1))
    grid = np.stack(np.meshgrid(*axes), -1).reshape(-1, 2)
    comps = b.components[:2]
    z = b.mean + grid[:, : len(comps)] @ comps
    step = max(1, len(space.z) // CODES)
    z = np.concatenate([z, space.z[::step][:CODES]]).astype(np.float32)
    cond = space.model.config.num_classes if space.conditional else 0
    return z, (np.arange(len(z)) % cond if cond else None)
