"""Live decoding in the browser while a slider is dragged (server decode on release)."""

from __future__ import annotations

from functools import cache

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

from explorer.app.components.latent_map import component_dir, write_once
from explorer.latent.space import LatentSpace
from explorer.model.export import export_decoder


@cache
def _component():
    path = str(component_dir("live_decoder"))
    return components.declare_component("live_decoder", path=path)


@st.cache_resource(max_entries=16)
def decoder_file(path: str, _space: LatentSpace) -> str:
    """The checkpoint's decoder, exported once into the component's folder."""
    return write_once("decoder", export_decoder(_space.model), "live_decoder")


def live_decoder(
    space: LatentSpace,
    path: str,
    cursor: np.ndarray,
    label: int | None,
    key: str,
    on_change=None,
    scale: int = 5,
) -> dict | None:
    """Sliders that decode in the browser as they move.

    Returns the last released value ``{"values": [K floats], "id"}`` (also in
    ``st.session_state[key]``); ``on_change`` runs before the rerun.
    """
    basis = space.basis
    cond = space.model.num_classes or 0
    onehot = np.zeros(cond)
    if cond:
        onehot[label] = 1.0
    return _component()(
        decoder_file=decoder_file(path, space),
        labels=list(basis.labels),
        ranges=basis.ranges.tolist(),
        step=[float(hi - lo) / 200 for lo, hi in basis.ranges],
        s0=basis.coordinates(cursor).tolist(),
        z0=np.asarray(cursor, dtype=np.float64).tolist(),
        components=basis.components.tolist(),
        onehot=onehot.tolist(),
        scale=scale,
        key=key,
        default=None,
        on_change=on_change,
    )
