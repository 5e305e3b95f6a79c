"""How each image moves from one model's map to the other's: a line per image
from its place on the left map to its place on the right map aligned onto
the left (Procrustes), for a readable sample or the selection."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer.app import catalogue, errors, i18n
from explorer.app import keys as K
from explorer.app import selection as selecting
from explorer.app.components.latent_map import COLORS
from explorer.app.i18n import N_, _
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import class_names

NAME = N_("Movement")

N_LINES = (100, 300, 1000, 3000)  # how many lines the user can ask for


def sample(pool: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """At most ``n`` of ``pool`` (dataset indices), a seeded sample, sorted."""
    if len(pool) <= n:
        return np.sort(pool)
    return np.sort(np.random.default_rng(seed).choice(pool, n, replace=False))


def render(ctx: Context) -> None:
    panels, ds = ctx.panels, ctx.ds
    spaces = [p for p in panels.values() if p.space is not None]
    if len(spaces) < 2:
        st.info(_("The movement view compares two models: choose a second one."))
        return
    left, right = spaces[0], spaces[1]
    aligned = aligned_coords(left, right, ctx.settings)
    if aligned is None:
        return
    moved, a = aligned
    chosen = selecting.current()
    pool = chosen if len(chosen) else np.asarray(left.shown)
    n = st.select_slider(
        _("Lines"),
        N_LINES,
        value=300,
        key=K.MOVEMENT_LINES,
        help=_("A seeded sample."),
    )
    idx = sample(pool, n)
    start, end = np.asarray(left.space.coords)[idx], np.asarray(moved)[idx]
    spread = np.sqrt(
        ((left.space.coords - left.space.coords.mean(0)) ** 2).sum(1).mean()
    )
    dist = np.linalg.norm(end - start, axis=1)
    which = (
        _("{n} of the {of} selected images")
        if len(chosen)
        else _("{n} of {of} images, a seeded sample")
    ).format(n=i18n.number(len(idx)), of=i18n.number(len(chosen) or len(pool)))
    st.caption(
        _(
            "A line per image from its place on the **{left}** map to its place "
            "on the **{right}** map, aligned onto the left (disparity "
            "{disparity}: 0 would be the same shape); the dot is the right map's "
            "place. {which}. Median move {median}× the left map's RMS spread: "
            "long lines are images the two models place differently."
        ).format(
            left=verbatim(left.entry.label),
            right=verbatim(right.entry.label),
            disparity=i18n.number(a.disparity, 3),
            which=which,
            median=i18n.number(np.median(dist) / spread, 2),
        )
    )
    st.plotly_chart(movement_figure(start, end, idx, ds), key=K.MOVEMENT_CHART)


def aligned_coords(left, right, settings) -> tuple[np.ndarray, object] | None:
    """The right map's coordinates aligned onto the left map, and the
    alignment; or None, said on the page, when they cannot be aligned."""
    if right.alignment is not None:  # aligned on the maps already
        return right.space.coords, right.alignment
    target = (str(left.entry.path), left.space.projection.kind)
    try:
        space, a = catalogue.get_aligned(
            str(right.entry.path),
            settings.dataset,
            settings.splits,
            right.space.projection.kind,
            target,
        )
    except ValueError as e:
        st.info(
            _(
                "The movement view needs the maps aligned, and they cannot be: "
                "{reason}."
            ).format(reason=verbatim(errors.describe(e)))
        )
        return None
    return space.coords, a


def movement_figure(
    start: np.ndarray, end: np.ndarray, idx: np.ndarray, ds
) -> go.Figure:
    """A line per image from ``start`` to ``end`` ``[N, 2]`` and a dot at the
    end, coloured by class (``idx``: the images' dataset indices)."""
    fig = go.Figure()
    labels = ds.labels[idx] if ds.labels is not None else np.zeros(len(idx), int)
    names = class_names(ds) if ds.labels is not None else (_("images"),)
    for c in np.unique(labels):
        m = labels == c
        k = int(m.sum())
        xs = np.stack([start[m, 0], end[m, 0], np.full(k, np.nan)], 1).ravel()
        ys = np.stack([start[m, 1], end[m, 1], np.full(k, np.nan)], 1).ravel()
        colour = COLORS[int(c) % len(COLORS)]
        name = plotly_text(names[int(c)] if int(c) < len(names) else c)
        fig.add_trace(
            go.Scattergl(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": colour, "width": 1},
                opacity=0.55,
                name=name,
                legendgroup=name,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scattergl(
                x=end[m, 0],
                y=end[m, 1],
                mode="markers",
                marker={"color": colour, "size": 4},
                name=name,
                legendgroup=name,
                showlegend=False,
                customdata=idx[m],
                # the name filled in, not part of the template: "%{...}" stays text
                hovertemplate="#%{customdata}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        height=520,
        margin={"l": 40, "r": 10, "t": 10, "b": 40},
        xaxis_title=_("left map x"),
        yaxis_title=_("left map y"),
        legend={"orientation": "h", "y": -0.12},
        plot_bgcolor="#fff",
    )
    fig.update_xaxes(gridcolor="#eee", zerolinecolor="#ccc")
    fig.update_yaxes(gridcolor="#eee", zerolinecolor="#ccc", scaleanchor="x")
    return fig
