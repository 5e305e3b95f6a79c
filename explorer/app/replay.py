"""The map forming: a replay of latent maps through training, as one Plotly
figure that animates in the browser (no rerun while it slides or plays).

``figure(maps, curves)`` takes, per map, its frames of 2-D positions
(``[S, N, 2]``), the fractional epoch of each frame and the points' colours
and hover names, and, per model, the loss terms of those frames. It draws the
maps side by side with the loss curves under them, one time slider and a
play/pause button; each slider step moves every point of every map to where
it was at that step's epoch (each map's frame nearest to it when the maps'
frames differ) and the curves' cursor (a vertical line) to that epoch. The
axes stay fixed over the animation (the range of all frames), so a moving
point moved in the latent space.

``positions(means)`` gives a map's 2-D frames from latent means: the raw
axes of a 2-D latent; above that one PCA fitted on the last frame and applied
to every frame. Nothing here reads Streamlit's state; the words come in as
arguments (already translated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# The plotly.js animation: each step's points glide to their new place
# (scatter, SVG: x and y are transitioned) with no full redraw; the cursor is
# a layout shape, which plotly.js applies at the frame's start.
STEP_MS = 450
TRANSITION = {"duration": 400, "easing": "cubic-in-out"}
CURSOR_COLOUR = "#555"
PAD = 0.05  # of each axis's span, around every frame's points


@dataclass(frozen=True)
class MapFrames:
    """One map's replay.

    Attributes:
        title: the map's title (a model's name, as Plotly text).
        xy: ``[S, N, 2]`` the points' positions at each frame.
        epoch: ``[S]`` each frame's fractional epoch (increasing).
        colours: ``[N]`` each point's colour (CSS).
        names: ``[N]`` each point's hover text (its class name).
        axes: the x and y axis titles.
    """

    title: str
    xy: np.ndarray
    epoch: np.ndarray
    colours: list[str]
    names: list[str]
    axes: tuple[str, str]


@dataclass(frozen=True)
class Curves:
    """One model's loss terms at its frames (nats per image); ``kl`` is None
    for a model without a KL term (an autoencoder)."""

    name: str
    colour: str
    epoch: np.ndarray  # [S]
    recon: np.ndarray  # [S]
    kl: np.ndarray | None


@dataclass(frozen=True)
class Words:
    """The figure's words, in the page's language."""

    recon: str  # the reconstruction panel's title
    kl: str  # the KL panel's title
    epoch: str  # the curves' x axis (log scale, step 0 at its left)
    step: str  # a slider step's label, with an ``{epoch}`` field
    play: str
    pause: str


def positions(means: np.ndarray) -> tuple[np.ndarray, bool]:
    """A map's frames from latent means ``[S, N, D]``: the means themselves
    for ``D == 2``, else their projection on the first two principal axes of
    the last frame (one fit, every frame through it). Returns ``[S, N, 2]``
    float32 and whether it is a projection."""
    means = np.asarray(means, dtype=np.float64)
    if means.shape[-1] <= 2:
        return means.astype(np.float32), False
    last = means[-1]
    centre = last.mean(0)
    _, _, vt = np.linalg.svd(last - centre, full_matrices=False)
    axes = vt[:2]  # [2, D]
    # a sign per axis that does not depend on the SVD routine's choice
    axes = axes * np.sign(axes[[0, 1], np.abs(axes).argmax(1)])[:, None]
    return ((means - centre) @ axes.T).astype(np.float32), True


def steps(maps: list[MapFrames]) -> tuple[np.ndarray, np.ndarray]:
    """The slider's steps: their epochs ``[T]`` and, per map, the frame each
    step shows ``[M, T]``. Maps of as many frames share their steps (frame i
    at step i, at the first map's epoch); otherwise a step per distinct
    epoch of any map, each map showing its frame nearest in epoch."""
    if len({len(m.epoch) for m in maps}) == 1:
        t = np.asarray(maps[0].epoch, dtype=np.float64)
        return t, np.tile(np.arange(len(t)), (len(maps), 1))
    t = np.unique(np.concatenate([np.asarray(m.epoch, np.float64) for m in maps]))
    pick = [np.abs(np.asarray(m.epoch)[None, :] - t[:, None]).argmin(1) for m in maps]
    return t, np.stack(pick)


def figure(maps: list[MapFrames], curves: list[Curves], words: Words) -> go.Figure:
    """The replay: ``maps`` side by side over the loss curves, a slider and
    a play/pause button under them (see the module's docstring)."""
    t, pick = steps(maps)
    fig = _grid(maps, words)
    for i, m in enumerate(maps):
        fig.add_scatter(
            x=m.xy[pick[i, 0], :, 0], y=m.xy[pick[i, 0], :, 1], mode="markers",
            marker={"color": m.colours, "size": 4, "opacity": 0.8},
            hovertext=m.names, hoverinfo="text", showlegend=False,
            row=1, col=i + 1,
        )  # fmt: skip
        (x0, x1), (y0, y1) = _range(m.xy[:, :, 0]), _range(m.xy[:, :, 1])
        fig.update_xaxes(range=[x0, x1], autorange=False, title_text=m.axes[0],
                         row=1, col=i + 1)  # fmt: skip
        fig.update_yaxes(range=[y0, y1], autorange=False, title_text=m.axes[1],
                         row=1, col=i + 1)  # fmt: skip
    floor = log_floor([t] + [c.epoch for c in curves])
    _add_curves(fig, curves, words, floor)
    axes = curve_axes(fig)
    fig.update_layout(shapes=_cursor(t[0], axes, floor))
    # Each frame names every trace: plotly.js, animating without a redraw,
    # empties a subplot none of whose traces is in the frame (the curves',
    # whose cursor moves); the curves' entries are empty: they stay as drawn.
    still = [go.Scatter() for _ in range(len(fig.data) - len(maps))]
    fig.frames = [
        go.Frame(
            name=str(k),
            data=[
                go.Scatter(x=m.xy[pick[i, k], :, 0], y=m.xy[pick[i, k], :, 1])
                for i, m in enumerate(maps)
            ]
            + still,
            traces=list(range(len(fig.data))),
            layout={"shapes": _cursor(t[k], axes, floor)},
        )
        for k in range(len(t))
    ]
    fig.update_layout(
        sliders=[_slider(t, words)], updatemenus=[_buttons(words)], height=790,
        margin={"l": 10, "r": 10, "t": 40, "b": 10}, hovermode="closest",
        legend={"x": 0.45, "y": 0.31, "xanchor": "right", "yanchor": "top",
                "bgcolor": "rgba(255,255,255,0.7)"},
    )  # fmt: skip
    return fig


def _grid(maps: list[MapFrames], words: Words) -> go.Figure:
    top = [{}, {}] if len(maps) == 2 else [{"colspan": 2}, None]
    return make_subplots(
        rows=2, cols=2, specs=[top, [{}, {}]], row_heights=[0.64, 0.36],
        vertical_spacing=0.14, horizontal_spacing=0.08,
        subplot_titles=[m.title for m in maps] + [words.recon, words.kl],
    )  # fmt: skip


def _range(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = PAD * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def log_floor(epochs: list[np.ndarray]) -> float:
    """Where the curves' log-x axis draws epoch 0 (step 0): at half the
    smallest positive epoch (the first step's), left of every other."""
    e = np.concatenate([np.asarray(a, np.float64) for a in epochs])
    return float(e[e > 0].min()) / 2 if np.any(e > 0) else 1.0


def _add_curves(
    fig: go.Figure, curves: list[Curves], words: Words, floor: float
) -> None:
    for c in curves:
        for col, values in ((1, c.recon), (2, c.kl)):
            if values is None:
                continue
            fig.add_scatter(
                x=np.maximum(np.asarray(c.epoch, np.float64), floor),
                y=np.asarray(values, np.float64),
                mode="lines+markers", marker={"size": 4}, line={"color": c.colour},
                name=c.name, legendgroup=c.name, showlegend=col == 1,
                row=2, col=col,
            )  # fmt: skip
    fig.update_xaxes(title_text=words.epoch, type="log", row=2)


def curve_axes(fig: go.Figure) -> list[tuple[str, str]]:
    """The curves' panels' axis references (reconstruction, KL): the second
    row's, numbered after the maps' (one map or two)."""
    out = []
    for col in (1, 2):
        cell = fig.get_subplot(2, col)
        x, y = cell.xaxis.plotly_name, cell.yaxis.plotly_name
        out.append((x.replace("axis", ""), y.replace("axis", "") + " domain"))
    return out


def _cursor(epoch: float, axes: list[tuple[str, str]], floor: float) -> list[dict]:
    """The curves' cursor at ``epoch``: a vertical line across each panel
    (a shape's x on a log axis is the value itself, not its log)."""
    x = float(max(epoch, floor))
    return [
        {
            "type": "line",
            "xref": xref,
            "yref": yref,
            "x0": x,
            "x1": x,
            "y0": 0,
            "y1": 1,
            "line": {"color": CURSOR_COLOUR, "width": 1.5, "dash": "dot"},
        }  # fmt: skip
        for xref, yref in axes
    ]


def _animate(frames: list | None, ms: int, transition: dict) -> dict:
    return [
        frames,
        {
            "mode": "immediate", "fromcurrent": True,
            "frame": {"duration": ms, "redraw": False}, "transition": transition,
        },
    ]  # fmt: skip


def _slider(t: np.ndarray, words: Words) -> dict:
    return {
        "active": 0, "x": 0.1, "len": 0.9, "y": 0, "yanchor": "top",
        "pad": {"t": 62},
        "currentvalue": {"visible": True, "xanchor": "left", "font": {"color": "#333"}},
        # the steps' own labels would overlap: the current one is shown above
        "font": {"color": "rgba(0,0,0,0)"}, "transition": TRANSITION,
        "steps": [
            {
                "method": "animate", "label": words.step.format(epoch=_epoch(e)),
                "args": _animate([str(k)], STEP_MS, TRANSITION),
            }
            for k, e in enumerate(t)
        ],
    }  # fmt: skip


def _buttons(words: Words) -> dict:
    return {
        "type": "buttons", "direction": "left", "showactive": False,
        "x": 0.08, "y": 0, "xanchor": "right", "yanchor": "top", "pad": {"t": 70},
        "buttons": [
            {"label": words.play, "method": "animate",
             "args": _animate(None, STEP_MS, TRANSITION)},
            {"label": words.pause, "method": "animate",
             "args": _animate([None], 0, {"duration": 0})},
        ],
    }  # fmt: skip


def _epoch(e: float) -> str:
    return f"{e:.3g}" if e < 1 else f"{e:.2f}".rstrip("0").rstrip(".")
