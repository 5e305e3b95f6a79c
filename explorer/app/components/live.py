"""A model's decoder, exported for the browser (the view decodes with it
while a slider is dragged and at every click)."""

from __future__ import annotations

import streamlit as st

from explorer.app.components.latent_map import write_once
from explorer.latent.space import LatentSpace
from explorer.model.export import export_decoder


@st.cache_resource(max_entries=16, show_spinner=False)  # (a fast export)
def decoder_file(path: str, _space: LatentSpace) -> str:
    """The checkpoint's decoder, exported once into the maps' data folder
    (``components.latent_map``); returns its file name."""
    return write_once("decoder", export_decoder(_space.model), "latent_map")
