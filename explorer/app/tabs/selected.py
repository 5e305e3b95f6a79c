"""The selected image: its reconstructions, posterior resamples and neighbours."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import keys as K
from explorer.app.i18n import N_
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    N_RESAMPLE,
    class_name,
    labels_for,
    live_panels,
    neighbour_strip,
    show,
    zoom,
)
from explorer.data.images import strip
from explorer.latent.posterior import posterior_samples

NAME = N_("Selected image")


def render(ctx: Context) -> None:
    panels, ds = ctx.panels, ctx.ds
    ss = st.session_state
    i = ss[K.SEL]
    st.subheader(f"Selected image #{i}: {class_name(ds, i)}")
    st.caption(
        "Click a point on either map to select it; both maps ring it. On a VAE's "
        "map the red ellipses are q(z|x)'s 1σ and 2σ contours."
    )
    live = live_panels(panels)
    cols = st.columns(1 + len(live))
    with cols[0]:
        show(ds.images[i], "original")
    for col, p in zip(cols[1:], live, strict=True):
        with col:
            sp = p.space
            show(
                sp.decode(sp.z[i][None], labels_for(sp, ds, 1))[0],
                f"{verbatim(p.entry.label)} reconstruction",
            )
    for p in live:
        sp = p.space
        st.markdown(f"**{verbatim(p.entry.label)}**")
        if sp.logvar is not None:
            seed = int(ss.get(K.RESAMPLE_SEED, 0))
            zs = posterior_samples(sp.z[i], sp.logvar[i], N_RESAMPLE, seed)
            show(
                strip(sp.decode(zs, labels_for(sp, ds, N_RESAMPLE))),
                scale=zoom(3, ds),
            )
            sigma = np.exp(0.5 * sp.logvar[i])
            st.caption(
                f"Decoded from z = μ + σ·ε for {N_RESAMPLE} draws of ε (seed {seed}):"
                f" what the decoder sees while training. σ = "
                + ", ".join(f"{s:.3f}" for s in sigma[:4])
                + ("…" if len(sigma) > 4 else "")
            )
        else:
            st.caption("An autoencoder gives one code per image: nothing to resample.")
        neighbour_strip(sp, ds, sp.z[i])
    if any(p.space.logvar is not None for p in live):
        st.button(
            "Resample ε",
            on_click=lambda: ss.update(resample_seed=ss.get(K.RESAMPLE_SEED, 0) + 1),
        )
