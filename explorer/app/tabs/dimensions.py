"""A VAE's latent dimensions: KL per dimension, active units, traversals."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer.app import catalogue, i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _, ngettext
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    labels_for,
    show,
    zoom,
)
from explorer.data.images import grid
from explorer.latent.measures import ACTIVE_THRESHOLD, DimensionReport, traversal

NAME = N_("Dimensions")


def render(ctx: Context) -> None:
    entries, ds, splits = ctx.dataset_entries, ctx.ds, ctx.settings.splits
    st.caption(
        _(
            "How much each latent dimension of a VAE carries: its KL to the prior, "
            "averaged over the data. A dimension with KL near 0 has collapsed: its "
            "posterior is the prior whatever the image, and the decoder ignores it "
            "(its traversal row is constant). The VAE's sliders come in this order."
        )
    )
    vaes = [e for e in entries if e.model_type in ("vae", "cvae") and not e.error]
    if not vaes:
        others = [e.label for e in entries if not e.error]
        st.info(
            ngettext(
                "No VAE for {dataset}: {models} encodes each image to one code, "
                "with no log-variance, so there is no KL per dimension.",
                "No VAE for {dataset}: {models} encode each image to one code, "
                "with no log-variance, so there is no KL per dimension.",
                max(len(others), 1),
            ).format(
                dataset=verbatim(catalogue.dataset_label(ds.name)),
                models=verbatim(", ".join(others)),
            )
        )
        return
    names = [e.name for e in vaes]
    wide = [e.name for e in vaes if (e.latent_dim or 0) > 2]
    name = st.selectbox(
        _("Model"),
        names,
        index=names.index(wide[0]) if wide else 0,
        format_func={e.name: e.label for e in vaes}.get,
        key=K.DIMS_MODEL(ds.name),
    )
    entry = vaes[names.index(name)]
    sp = catalogue.get_space(str(entry.path), ds.name, splits)
    kl_bars(sp.dims, name)
    traversals(sp, ds)


def kl_bars(r: DimensionReport, name: str) -> None:
    """The mean KL of each dimension, largest first, and how many are active."""
    order = r.order
    fig = go.Figure(
        go.Bar(
            x=[f"z[{d}]" for d in order],
            y=r.kl[order],
            marker_color=["#4e79a7" if r.active[d] else "#bab0ac" for d in order],
            hovertemplate="%{x}: KL %{y:.3f} nats<extra></extra>",
        )
    )
    fig.update_layout(
        height=260,
        margin=dict(l=50, r=10, t=10, b=40),
        yaxis_title=_("mean KL (nats)"),
        plot_bgcolor="#fff",
    )
    st.plotly_chart(fig, key=K.KL_BARS(name))
    n_active = int(r.active.sum())
    st.caption(
        _(
            "{active} of {total} dimensions active (variance of the posterior "
            "means > {threshold}); grey bars are collapsed. Total KL {kl} nats "
            "per image."
        ).format(
            active=n_active,
            total=len(r.kl),
            threshold=ACTIVE_THRESHOLD,
            kl=i18n.number(r.kl.sum(), 2),
        )
    )


def traversals(sp, ds) -> None:
    """One row of decodes per dimension, by KL, from the selected image."""
    order = sp.dims.order
    st.markdown(
        _("**Traversals** from the selected image: one row per dimension, by KL")
    )
    i = st.session_state[K.SEL]
    values = np.linspace(-3, 3, 9)
    rows = [traversal(sp.z[i], np.eye(sp.latent_dim)[d], values) for d in order]
    labels = labels_for(sp, ds, len(values))
    imgs = np.stack([sp.decode(z, labels) for z in rows])
    show(grid(imgs), scale=zoom(2, ds))
    st.caption(
        _(
            "Each row sets one dimension to −3 … 3 (the prior's ±3σ) and keeps the "
            "others at the selected image's mean; rows top to bottom: {rows}"
        ).format(rows=", ".join(f"z[{d}]" for d in order))
    )
