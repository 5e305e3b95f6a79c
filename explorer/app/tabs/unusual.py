"""The images each model finds hardest, by a per-image measure."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import catalogue
from explorer.app import keys as K
from explorer.app.actions import select
from explorer.app.i18n import N_
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    N_UNUSUAL,
    class_name,
    live_panels,
    zoom,
)
from explorer.data.images import to_png
from explorer.latent.measures import MEASURES, most_unusual

NAME = N_("Unusual images")


def render(ctx: Context) -> None:
    panels, ds, splits = ctx.panels, ctx.ds, ctx.settings.splits
    st.caption(
        "The images each model finds hardest: the largest loss (reconstruction "
        "error plus KL for a VAE). Colour the maps by a measure in the sidebar "
        "to see where they sit. Select one to inspect it."
    )
    measure = st.radio(
        "Rank by",
        list(MEASURES),
        format_func=lambda k: MEASURES[k].text,
        key=K.UNUSUAL_BY,
        horizontal=True,
    )
    for p in live_panels(panels):
        m = catalogue.get_measures(str(p.entry.path), ds.name, splits)
        key = measure if measure in m else "loss"
        top = most_unusual(m[key], N_UNUSUAL)
        st.markdown(
            f"**{verbatim(p.entry.label)}**: top {len(top)} by {MEASURES[key].text} "
            f"(median over the data {np.median(m[key]):.1f})"
        )
        cols = st.columns(len(top))
        for col, i in zip(cols, top, strict=True):
            with col:
                k = zoom(3, ds)
                st.image(
                    to_png(ds.images[i], k),
                    width=ds.images.shape[-1] * k,
                    output_format="PNG",
                )
                st.caption(f"#{i} {class_name(ds, i)}\n\n{m[key][i]:.1f}")
                st.button(
                    "Select",
                    key=K.PICK(p.slot, i),
                    on_click=select,
                    args=(panels, int(i)),
                )
