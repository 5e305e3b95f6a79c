"""Samples of the prior, decoded, and where they land on the maps."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    FAR,
    NO_GAP,
    NO_MODEL,
    labels_for,
    live_panels,
    show,
    zoom,
)
from explorer.data.images import grid
from explorer.latent.prior import RING_MASS, prior_samples

NAME = N_("Prior samples")


def marks(ctx: Context, panel) -> dict:
    """Where the prior's samples land, while this tab is open."""
    if ctx.tab != NAME:
        return {}
    return {"samples": panel.space.to_map(prior_zs(panel.space)).tolist()}


def prior_zs(sp) -> np.ndarray:
    ss = st.session_state
    return prior_samples(
        sp.latent_dim,
        int(ss.get(K.PRIOR_N, 16)),
        float(ss.get(K.PRIOR_TAU, 1.0)),
        int(ss.get(K.PRIOR_SEED, 0)),
    )


def render(ctx: Context) -> None:
    panels, ds = ctx.panels, ctx.ds
    ss = st.session_state
    st.caption(
        _(
            "Draw z ~ N(0, τ² I) and decode it with both models; the diamonds on "
            "the maps show where the draws fall, the dashed rings the prior's 1σ "
            "and 2σ contours ({one} and {two} of its mass on a 2-D map). A VAE was "
            "trained to decode these; an AE was not, so where its codes do not "
            "look like N(0, I), its samples are garbage."
        ).format(one=f"{RING_MASS[1]:.0%}", two=f"{RING_MASS[2]:.0%}")
    )
    c = st.columns([2, 2, 1])
    c[0].slider(_("Temperature τ"), 0.0, 2.0, 1.0, 0.05, key=K.PRIOR_TAU)
    c[1].slider(_("Samples"), 4, 32, 16, 4, key=K.PRIOR_N)
    c[2].button(
        _("New samples"),
        on_click=lambda: ss.update(prior_seed=ss.get(K.PRIOR_SEED, 0) + 1),
    )
    live = live_panels(panels)
    if not live:
        st.info(i18n.marked(NO_MODEL))
        return
    cols = st.columns(len(live))
    for col, p in zip(cols, live, strict=True):
        sp = p.space
        zs = prior_zs(sp)
        imgs = sp.decode(zs, labels_for(sp, ds, len(zs)))
        rows = (
            imgs.reshape(-1, 8, *imgs.shape[1:]) if len(imgs) % 8 == 0 else imgs[None]
        )
        with col:
            st.markdown("**" + verbatim(p.entry.label) + "**")  # a name: no words
            show(grid(rows), scale=zoom(3, ds))
            if sp.spacing > 0:
                far = np.mean([sp.nearest_point(z)[1] / sp.spacing > FAR for z in zs])
                st.caption(
                    _(
                        "{share} of the draws land far from any data point (more "
                        "than {far}× the typical gap between neighbours)."
                    ).format(share=f"{far:.0%}", far=f"{FAR:g}")
                )
            else:
                st.caption(i18n.marked(NO_GAP))
