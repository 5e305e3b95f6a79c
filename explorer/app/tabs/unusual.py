"""The images each model finds hardest, by a per-image measure."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import catalogue, i18n
from explorer.app import keys as K
from explorer.app.actions import select
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    N_UNUSUAL,
    class_name,
    live_panels,
    zoom,
)
from explorer.data.images import data_url, to_png
from explorer.latent.measures import MEASURES, most_unusual

NAME = N_("Unusual images")

# Each measure's words (``MEASURES``' ``text``; ``N_``: translated where
# shown); a test checks that every measure has them.
RANKS = {
    "loss": N_("loss: reconstruction error + beta * KL (nats)"),
    "recon": N_(
        "reconstruction error (-log p(x|z) at the mean, nats; the squared "
        "error for a model the explorer did not train)"
    ),
    "kl": N_("KL(q(z|x) || p(z)) (nats)"),
}


def render(ctx: Context) -> None:
    panels, ds, splits = ctx.panels, ctx.ds, ctx.settings.splits
    st.caption(
        _(
            "The images each model finds hardest: the largest loss (reconstruction "
            "error plus KL for a VAE). Colour the maps by a measure in the sidebar "
            "to see where they sit. Select one to inspect it."
        )
    )
    measure = st.radio(
        _("Rank by"),
        list(MEASURES),
        format_func=lambda k: i18n.marked(RANKS[k]),
        key=K.UNUSUAL_BY,
        horizontal=True,
    )
    for p in live_panels(panels):
        m = catalogue.get_measures(str(p.entry.path), ds.name, splits)
        key = measure if measure in m else "loss"
        top = most_unusual(m[key], N_UNUSUAL)
        heading = _("**{model}**: top {n} by {measure} (median over the data {median})")
        st.markdown(
            heading.format(
                model=verbatim(p.entry.label),
                n=len(top),
                measure=i18n.marked(RANKS[key]),
                median=i18n.number(np.median(m[key]), 1),
            )
        )
        cols = st.columns(len(top))
        for col, i in zip(cols, top, strict=True):
            with col:
                k = zoom(3, ds)
                st.image(
                    data_url(to_png(ds.images[i], k)), width=ds.images.shape[-1] * k
                )
                # no words: the image's number, its class, its measure
                value = i18n.number(m[key][i], 1)
                below = f"#{i} {class_name(ds, i)}\n\n{value}"
                st.caption(below)
                st.button(
                    _("Select"),
                    key=K.PICK(p.slot, i),
                    on_click=select,
                    args=(panels, int(i)),
                )
