"""β from AE to VAE: the series of one VAE trained with the KL term weighted
by β (``explorer.training.beta``), from β = 0 (an AE's space, with gaps) to
the β where the posterior collapses onto the prior.

One figure: on the left the rate–distortion plane (KL against
reconstruction, a point per β, the current one ringed), on the right the
held-out sample's map under the current β, each map turned onto β = 1's.
Its β slider and play button run in the browser: the points move from their
place under one β to their place under the next, the ring moves along the
curve and the line above says what β did. A table below gives every β's
numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app.components.latent_map import COLORS
from explorer.app.i18n import N_, _
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.tabs import Context
from explorer.training.beta import BetaRow, Series, find_series, read_series

NAME = N_("β from AE to VAE")

SERIES_OF = "{dataset}-vae-z2"  # the series' base name for a dataset
STEP_MS = 700  # one β to the next, while playing and on the slider
RING, CURVE = "#111", "#888"


def reading_words(row: BetaRow) -> str:
    """What β did, in one line of the session's language."""
    n = i18n.number
    if row.reading == "collapsed":
        return _(
            "KL → 0: the posterior collapsed onto the prior, and every image gets "
            "the same code"
        )
    if row.reading == "partial":
        return _(
            "{collapsed} of {dims} dimensions collapsed onto the prior: only "
            "{active} carries the images"
        ).format(
            collapsed=row.dims - row.active_units,
            dims=row.dims,
            active=row.active_units,
        )
    if row.reading == "gaps":
        return _(
            "σ → 0 (mean σ {sigma}) and the codes spread far past the prior (mean "
            "‖μ‖ {norm}): the space has gaps like an AE's"
        ).format(sigma=n(row.mean_sigma, 2), norm=n(row.mean_norm_mu, 3))
    return _(
        "the KL term holds the codes near the prior (mean ‖μ‖ {norm}): a "
        "continuous space that N(0, I) covers"
    ).format(norm=n(row.mean_norm_mu, 3))


def beta_text(beta: float) -> str:
    return "β = " + i18n.number(beta, 3)


def _map_range(xy: np.ndarray) -> list[float]:
    """A square range about 0 that holds the map and the prior's 3σ."""
    r = max(3.0, 1.08 * float(np.abs(xy).max()) if xy.size else 3.0)
    return [-r, r]


def _frame_data(series: Series, i: int, classes: list[int]) -> list[go.Scatter]:
    row, xy = series.rows[i], series.positions[i]
    ring = go.Scatter(x=[row.kl], y=[row.recon])
    points = []
    for c in classes:
        sel = series.labels == c if series.labels is not None else slice(None)
        points.append(go.Scatter(x=xy[sel, 0], y=xy[sel, 1]))
    return [ring, *points]


def figure(series: Series, class_names: list[str]) -> go.Figure:
    """The rate–distortion plane and the map, with a frame per β."""
    fig = make_subplots(1, 2, column_widths=[0.42, 0.58], horizontal_spacing=0.1)
    rows, start = series.rows, series.reference
    fig.add_scatter(
        x=[r.kl for r in rows], y=[r.recon for r in rows], mode="lines+markers+text",
        text=[beta_text(r.beta) for r in rows], textposition="top right",
        line={"color": CURVE}, marker={"color": CURVE, "size": 7},
        showlegend=False, hoverinfo="text", row=1, col=1,
    )  # fmt: skip
    classes = (
        sorted(int(c) for c in np.unique(series.labels))
        if series.labels is not None
        else [0]
    )
    first = _frame_data(series, start, classes)
    fig.add_scatter(
        **first[0].to_plotly_json(), mode="markers", showlegend=False,
        marker={"size": 18, "color": "rgba(0,0,0,0)",
                "line": {"color": RING, "width": 3}},
        hoverinfo="skip", row=1, col=1,
    )  # fmt: skip
    for c, trace in zip(classes, first[1:], strict=True):
        name = class_names[c] if c < len(class_names) else str(c)
        fig.add_scatter(
            **trace.to_plotly_json(), mode="markers", name=plotly_text(name),
            marker={"size": 4, "color": COLORS[c % len(COLORS)], "opacity": 0.75},
            hovertemplate=plotly_text(name) + "<extra></extra>", row=1, col=2,
        )  # fmt: skip
    for k in (1, 2):  # the prior's 1σ and 2σ circles
        fig.add_shape(
            type="circle", x0=-k, y0=-k, x1=k, y1=k, xref="x2", yref="y2",
            line={"color": "#999", "dash": "dot", "width": 1},
        )  # fmt: skip
    moving = list(range(1, 2 + len(classes)))
    fig.frames = [
        go.Frame(
            name=str(i),
            data=_frame_data(series, i, classes),
            traces=moving,
            layout={
                "xaxis2": {"range": _map_range(series.positions[i])},
                "yaxis2": {"range": _map_range(series.positions[i])},
                "title": {
                    "text": plotly_text(
                        beta_text(rows[i].beta) + ": " + reading_words(rows[i])
                    )
                },
            },
        )  # fmt: skip
        for i in range(len(rows))
    ]
    _controls(fig, series)
    fig.update_layout(**fig.frames[start].layout.to_plotly_json())
    return fig


def _controls(fig: go.Figure, series: Series) -> None:
    """The β slider and the play/pause buttons, both run by plotly.js."""
    step = {
        "frame": {"duration": STEP_MS, "redraw": False},
        "transition": {"duration": STEP_MS, "easing": "cubic-in-out"},
        "mode": "immediate",
    }
    fig.update_layout(
        sliders=[{
            "active": series.reference, "currentvalue": {"visible": False},
            "pad": {"t": 40}, "len": 0.9, "x": 0.1,
            "steps": [
                {"label": beta_text(r.beta), "method": "animate",
                 "args": [[str(i)], step]}
                for i, r in enumerate(series.rows)
            ],
        }],
        updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.08, "y": -0.06,
            "xanchor": "right", "yanchor": "top", "showactive": False,
            "buttons": [
                {"label": plotly_text(_("Play")), "method": "animate",
                 "args": [None, {**step, "fromcurrent": True}]},
                {"label": plotly_text(_("Pause")), "method": "animate",
                 "args": [[None], {**step, "frame": {"duration": 0, "redraw": False}}]},
            ],
        }],
        height=520, margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "y": -0.32},
        title={"x": 0.02, "font": {"size": 15}},
    )  # fmt: skip
    fig.update_xaxes(title_text=plotly_text(_("KL (nats): the rate")), row=1, col=1)
    fig.update_yaxes(
        title_text=plotly_text(_("reconstruction (nats): the distortion")),
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text="z₁", row=1, col=2)
    fig.update_yaxes(title_text="z₂", scaleanchor="x2", row=1, col=2)


def table(series: Series) -> dict[str, list[str]]:
    """Every β's numbers, as the page's table shows them."""
    n = i18n.number
    rows = series.rows
    return {
        "β": [n(r.beta, 3) for r in rows],
        _("KL (nats)"): [n(r.kl, 3) for r in rows],
        _("reconstruction (nats)"): [n(r.recon, 4) for r in rows],
        _("active units"): [f"{r.active_units} / {r.dims}" for r in rows],
        _("mean σ"): [n(r.mean_sigma, 2) for r in rows],
        _("mean ‖μ‖"): [n(r.mean_norm_mu, 3) for r in rows],
        _("what β did"): [reading_words(r) for r in rows],
    }


@st.cache_data(show_spinner=False, max_entries=4)
def load(folders: tuple[str, ...], base: str, stamp: tuple) -> Series | None:
    """The series ``base`` found in ``folders`` (cached by the files' times)."""
    for folder in folders:
        members = find_series(folder, base)
        if len(members) >= 2:
            return read_series(members)
    return None


def _stamp(folders: tuple[str, ...], base: str) -> tuple:
    return tuple(
        (p.name, p.stat().st_mtime_ns)
        for f in folders
        for p in sorted(Path(f).glob(f"{base}-b*/snapshots.safetensors"))
    )


def render(ctx: Context) -> None:
    base = SERIES_OF.format(dataset=ctx.settings.dataset)
    folders = tuple(sorted({str(Path(e.path).parent) for e in ctx.dataset_entries}))
    series = load(folders, base, _stamp(folders, base))
    if series is None:
        st.info(
            _(
                "No β series for {dataset}: it ships for Fashion-MNIST; "
                "`bash weights/train.sh beta` trains one."
            ).format(dataset=verbatim(ctx.settings.dataset))
        )
        return
    st.caption(
        _(
            "The same VAE (the same seed, data and net) trained with the KL term "
            "weighted by β. Left: each β's KL against its reconstruction, on "
            "{n} held-out images. Right: those images' codes under the current β "
            "(the means μ, each map turned onto β = 1's; dotted: the prior's 1σ "
            "and 2σ). Slide β or press Play: each image moves from its place "
            "under one β to its place under the next."
        ).format(n=len(series.index))
    )
    st.plotly_chart(
        figure(series, list(ctx.ds.class_names)), width="stretch", key=K.BETA_CHART
    )
    st.dataframe(table(series), hide_index=True, width="stretch")
    swap(ctx, series)


def swap(ctx: Context, series: Series) -> None:
    """Opens one β of the series on the right map (the main maps')."""
    names = [m.name for m in series.members]
    betas = {m.name: m.beta for m in series.members}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        name = st.select_slider(
            _("A β for the right map"),
            options=names,
            value=names[series.reference],
            format_func=lambda n: beta_text(betas[n]),
            key=K.BETA_PICK,
        )
    slot = "right" if "right" in ctx.panels else next(iter(ctx.panels), "right")
    with right:
        st.button(
            _("Open it on the right map"),
            on_click=_open,
            args=(slot, ctx.settings.dataset, name),
            key=K.BETA_OPEN,
        )


def _open(slot: str, dataset: str, name: str) -> None:
    st.session_state[K.CHECKPOINT(slot, dataset)] = name
