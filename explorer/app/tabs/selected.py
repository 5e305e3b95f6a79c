"""The selected image: its reconstructions, posterior resamples and neighbours."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _
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
    st.subheader(
        _("Selected image #{index}: {name}").format(index=i, name=class_name(ds, i))
    )
    st.caption(
        _(
            "Click a point on either map to select it; both maps ring it. On a "
            "VAE's map the red ellipses are q(z|x)'s 1σ and 2σ contours."
        )
    )
    live = live_panels(panels)
    cols = st.columns(1 + len(live))
    with cols[0]:
        show(ds.images[i], _("original"))
    for col, p in zip(cols[1:], live, strict=True):
        with col:
            sp = p.space
            show(
                sp.decode(sp.z[i][None], labels_for(sp, ds, 1))[0],
                _("{model} reconstruction").format(model=verbatim(p.entry.label)),
            )
    for p in live:
        sp = p.space
        st.markdown("**" + verbatim(p.entry.label) + "**")
        if sp.logvar is not None:
            seed = int(ss.get(K.RESAMPLE_SEED, 0))
            zs = posterior_samples(sp.z[i], sp.logvar[i], N_RESAMPLE, seed)
            show(
                strip(sp.decode(zs, labels_for(sp, ds, N_RESAMPLE))),
                scale=zoom(3, ds),
            )
            sigma = np.exp(0.5 * sp.logvar[i])
            sigmas = ", ".join(i18n.number(s, 3) for s in sigma[:4])
            st.caption(
                _(
                    "Decoded from z = μ + σ·ε for {n} draws of ε (seed {seed}): "
                    "what the decoder sees while training. σ = {sigmas}"
                ).format(
                    n=N_RESAMPLE,
                    seed=seed,
                    sigmas=sigmas + ("…" if len(sigma) > 4 else ""),
                )
            )
        else:
            st.caption(
                _("An autoencoder gives one code per image: nothing to resample.")
            )
        neighbour_strip(sp, ds, sp.z[i])
    if any(p.space.logvar is not None for p in live):
        st.button(
            _("Resample ε"),
            on_click=lambda: ss.update(resample_seed=ss.get(K.RESAMPLE_SEED, 0) + 1),
        )
