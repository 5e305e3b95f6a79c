"""Interpolation between two images, decoded by both models."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _, ngettext
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    class_name,
    download,
    labels_for,
    live_panels,
    show,
    zoom,
)
from explorer.data.images import grid, to_gif
from explorer.latent.pathcheck import check_path
from explorer.latent.paths import INTERPOLATIONS, interpolate

NAME = N_("Interpolation")


def marks(ctx: Context, panel) -> dict:
    """The path from A to B on the map (whichever tab is open), and A and B."""
    ss = st.session_state
    sp = panel.space
    path = interpolate(
        sp.z[ss[K.INTERP_A]],
        sp.z[ss[K.INTERP_B]],
        ss.get(K.INTERP_STEPS, 10),
        ss.get(K.INTERP_METHOD, "linear"),
    )
    return {
        "a": sp.coords[ss[K.INTERP_A]].tolist(),
        "b": sp.coords[ss[K.INTERP_B]].tolist(),
        "path": sp.to_map(path).tolist(),
    }


def _set_endpoint(key: K.Key) -> None:
    st.session_state[key] = st.session_state[K.SEL]


def render(ctx: Context) -> None:
    panels, ds = ctx.panels, ctx.ds
    st.caption(
        _(
            "Decode the straight (or spherical) path between two images' latent "
            "means. An AE's decoder has seen nothing between the codes, so halfway "
            "it often draws nonsense; a VAE's morphs smoothly."
        )
    )
    t = path_controls(len(ds))
    live = live_panels(panels)
    strips = decodes_at(live, ds, t)
    for p, frames in strips:
        path_strip(p, frames, ds)
    path_chart(live, ds, t)


def path_controls(n: int) -> float:
    """A and B (indices, or the selected image), the kind of path, the steps
    in the strip, and t along the path; returns t."""
    ss = st.session_state
    for key in (K.INTERP_A, K.INTERP_B):  # kept inside this dataset's indices
        ss[key] = int(np.clip(ss[key], 0, n - 1))
    c = st.columns([1, 1, 1, 1, 1.3, 1.3])
    c[0].number_input(_("A (index)"), 0, n - 1, key=K.INTERP_A)
    c[1].number_input(_("B (index)"), 0, n - 1, key=K.INTERP_B)
    c[2].button(
        _("A ← selected"), on_click=_set_endpoint, args=(K.INTERP_A,), width="stretch"
    )
    c[3].button(
        _("B ← selected"), on_click=_set_endpoint, args=(K.INTERP_B,), width="stretch"
    )
    c[4].radio(
        _("Path"),
        list(INTERPOLATIONS),
        key=K.INTERP_METHOD,
        horizontal=True,
        format_func={m: path_name(m) for m in INTERPOLATIONS}.get,
    )
    c[5].slider(_("Steps in the strip"), 3, 20, key=K.INTERP_STEPS)
    return st.slider(
        _("Position t along the path"), 0.0, 1.0, step=0.01, key=K.INTERP_T
    )


# The kinds of path (``INTERPOLATIONS``' keys), as the page names them.
PATH_NAMES = {"linear": N_("linear"), "spherical": N_("spherical")}


def path_name(method: str) -> str:
    """The kind of path ``method`` in this session's language."""
    return i18n.marked(PATH_NAMES.get(method, method))


def decodes_at(live: list, ds, t: float) -> list:
    """Each model's decode at ``t``, side by side with what A and B are;
    returns ``(panel, frames)``: each model's decodes along the whole path."""
    ss = st.session_state
    cols = st.columns(len(live) + 1, vertical_alignment="center")
    strips = []
    for col, p in zip(cols, live, strict=False):
        sp = p.space
        a, b = sp.z[ss[K.INTERP_A]], sp.z[ss[K.INTERP_B]]
        zt = INTERPOLATIONS[ss[K.INTERP_METHOD]](a, b, np.array([t]))
        with col:
            show(
                sp.decode(zt, labels_for(sp, ds, 1))[0],
                _("{model} at t = {t}").format(
                    model=verbatim(p.entry.label), t=i18n.number(t, 2)
                ),
            )
        path = interpolate(a, b, ss[K.INTERP_STEPS], ss[K.INTERP_METHOD])
        strips.append((p, sp.decode(path, labels_for(sp, ds, len(path)))))
    with cols[-1]:
        st.caption(
            _(
                "A = #{a} ({a_class}), B = #{b} ({b_class}); {method} path, "
                "drawn on both maps."
            ).format(
                a=ss[K.INTERP_A],
                a_class=class_name(ds, ss[K.INTERP_A]),
                b=ss[K.INTERP_B],
                b_class=class_name(ds, ss[K.INTERP_B]),
                method=path_name(ss[K.INTERP_METHOD]),
            )
        )
    return strips


def path_strip(p, frames: np.ndarray, ds) -> None:
    """One model's decodes from A to B in a row, with the PNG and GIF."""
    st.markdown(
        ngettext(
            "**{model}**: A → B in {n} step",
            "**{model}**: A → B in {n} steps",
            len(frames),
        ).format(model=verbatim(p.entry.label), n=len(frames))
    )
    png = show(grid(frames[None]), scale=zoom(3, ds))
    gif = to_gif(frames, scale=zoom(4, ds))
    d = st.columns([1, 1, 4])
    with d[0]:
        download(
            _("Strip (PNG)"),
            png,
            f"{p.entry.name}-strip.png",
            "image/png",
            K.DOWNLOAD("strip", p.slot),
        )
    with d[1]:
        download(
            _("Animation (GIF)"),
            gif,
            f"{p.entry.name}-morph.gif",
            "image/gif",
            K.DOWNLOAD("gif", p.slot),
        )


CHECK_STEPS = 41  # points along each path in the chart
DASH = {"linear": "solid", "spherical": "dot"}
MODEL_COLOURS = ("#4e79a7", "#e15759")


def path_chart(live, ds, t: float) -> None:
    """Along t, for each model and both paths: the prior's log-density, the
    distance to the nearest data mean, and the decode's round trip."""
    st.markdown(_("**Along the path**, for both models, straight and spherical:"))
    fig = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.08,
        subplot_titles=(
            _("prior log-density of z (nats)"),
            _(
                "distance to the nearest data mean<br>"
                "(× the typical neighbour distance)"
            ),
            _("round trip: decode vs decode(encode(decode))<br>(mean squared error)"),
        ),
    )
    for colour, p in zip(MODEL_COLOURS, live, strict=False):
        path_traces(fig, p, ds, colour)
    for col in (1, 2, 3):
        fig.add_vline(
            x=t, line=dict(color="#888", width=1, dash="dash"), row=1, col=col
        )
        fig.update_xaxes(title_text="t", range=[0, 1], row=1, col=col)
    fig.update_layout(
        height=320,
        margin=dict(l=40, r=10, t=60, b=40),
        plot_bgcolor="#fff",
        legend=dict(orientation="h", y=-0.25),
        font=dict(size=12),
    )
    fig.update_annotations(font_size=12)
    st.plotly_chart(fig, key=K.PATH_CHART)
    st.caption(
        _(
            "In many dimensions a VAE's codes lie on a shell of radius about √D, "
            "not near the origin where the prior's density peaks: a straight path "
            "between two codes dips inside the shell (its log-density rises), a "
            "spherical one stays on it. Far from every data mean (middle) the "
            "decoder is guessing, and a decode that does not survive its own "
            "re-encoding (right) is one the model does not take for its own; the "
            "gaps between an AE's codes show both."
        )
    )


def path_traces(fig: go.Figure, p, ds, colour: str) -> None:
    """Panel ``p``'s model's three measures along both paths from A to B."""
    ss = st.session_state
    sp = p.space
    a, b = sp.z[ss[K.INTERP_A]], sp.z[ss[K.INTERP_B]]
    for method in INTERPOLATIONS:
        c = check_path(sp, a, b, CHECK_STEPS, method, labels_for(sp, ds, 1))
        name = plotly_text(f"{p.entry.label}, {path_name(method)}")
        for col, y in enumerate((c.log_prior, c.nearest, c.roundtrip), start=1):
            fig.add_trace(
                go.Scatter(
                    x=c.t,
                    y=y,
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    mode="lines",
                    line=dict(color=colour, dash=DASH[method], width=2),
                    # the name filled in: a "%{...}" in it stays text
                    hovertemplate="%{fullData.name}<br>t = %{x:.2f}: %{y:.3g}"
                    "<extra></extra>",
                ),
                row=1,
                col=col,
            )
