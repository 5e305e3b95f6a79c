"""The manifold grid: the decoder over an n x n grid of the map."""

from __future__ import annotations

import streamlit as st

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    NO_MODEL,
    download,
    labels_for,
    live_panels,
    show,
    zoom,
)
from explorer.data.images import grid
from explorer.latent.prior import Grid, manifold_grid
from explorer.latent.projection import data_range

NAME = N_("Manifold grid")

# Where the grid spans (the values kept; shown translated).
EXTENTS = (
    N_("the visible part of each map"),
    N_("the whole prior (VAE) or data (AE)"),
)


def render(ctx: Context) -> None:
    panels, ds = ctx.panels, ctx.ds
    st.caption(
        _(
            "Decode an N × N grid over each map. A VAE's grid is spaced by its "
            "prior's quantiles (the inverse normal CDF, as in Kingma & Welling "
            "2013, Fig. 4), so each cell holds equal prior mass; an AE's spans the "
            "data evenly. Where an AE's codes leave holes, its grid shows what "
            "fills them."
        )
    )
    c = st.columns([2, 3])
    n = c[0].slider(_("Images per side (N)"), 5, 30, 15, key=K.GRID_N)
    extent = c[1].radio(
        _("Over"),
        EXTENTS,
        key=K.GRID_EXTENT,
        horizontal=True,
        format_func={e: i18n.marked(e) for e in EXTENTS}.get,
        help=_("Pan or zoom a map and the grid follows what you see."),
    )
    live = live_panels(panels)
    if not live:
        st.info(i18n.marked(NO_MODEL))
        return
    cols = st.columns(len(live))
    for col, p in zip(cols, live, strict=True):
        with col:
            grid_column(p, ds, n, visible=extent == EXTENTS[0])


def grid_column(p, ds, n: int, visible: bool) -> None:
    """Panel ``p``'s model decoded over an ``n`` x ``n`` grid of its map (of
    its visible window, if ``visible`` and the user moved it), and the PNG."""
    sp = p.space
    # the prior has no image on a non-linear map: even steps there
    quantiles = sp.logvar is not None and sp.projection.is_linear
    view = st.session_state.get(K.VIEW_WINDOW(p.slot)) if visible else None
    g = manifold_grid(
        sp.projection,
        n,
        view,
        quantiles,
        data_range(sp.coords),
    )
    rows = n
    if sp.latent_dim == 1:  # the map's y means nothing: one row along z[0]
        rows, g = 1, Grid(g.z[:n], g.xs, g.ys[:1])
    imgs = sp.decode(g.z, labels_for(sp, ds, len(g.z)))
    st.markdown("**" + verbatim(p.entry.label) + "**")  # a name: no words
    if rows == 1:
        st.caption(_("A 1-D latent has no second axis: one row along z[0]."))
    png = show(
        grid(imgs.reshape(rows, n, *imgs.shape[1:]), 1),
        _("{rows} × {n} grid").format(rows=rows, n=n),
        scale=zoom(1 if n > 20 else 2, ds),
    )
    spacing = _("prior quantiles") if quantiles else _("even steps")
    where = (
        _("visible window")
        if view
        else (_("prior's 5–95%") if quantiles else _("data's range"))
    )
    st.caption(
        _("{spacing} over the {where}: x {x0} … {x1}, y {y0} … {y1}").format(
            spacing=spacing,
            where=where,
            x0=i18n.number(g.xs[0], 2),
            x1=i18n.number(g.xs[-1], 2),
            y0=i18n.number(g.ys[-1], 2),
            y1=i18n.number(g.ys[0], 2),
        )
    )
    download(
        _("Grid (PNG)"),
        png,
        f"{p.entry.name}-grid.png",
        "image/png",
        K.DOWNLOAD("grid", p.slot),
    )
