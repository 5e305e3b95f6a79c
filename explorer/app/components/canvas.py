"""A canvas element of our own: maps whose points move from step to step,
a curve panel with a per-step marker (a cursor or a ring), a slider and
Play/Pause, drawn on ``<canvas>`` and tweened in the browser with
``requestAnimationFrame`` (no rerun while it slides or plays). The Training
tab's replay and the β tab use it (``explorer.app.replay`` builds the
former's data).

Its data is one JSON string (``canvas``): the steps' labels, the start, an
optional line of text per step, the words, and the panels. A map panel's
positions go as base64 float32 (``encode``), not as JSON numbers: 10,000
points over 24 frames is 1.9 MB so, against ~5 MB as text. The modules
(``frontend/canvas/``) arrive by URL from the app's routes under a folder
named by their content, as the graph's do (``components.graph``);
``frontend/canvas/main.js`` documents what a test can read on the page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from functools import cache

import numpy as np
import streamlit as st

from explorer.app.components.latent_map import COLORS, FRONTEND
from explorer.app.components.view import element_loader, served_module

FOLDER = FRONTEND / "canvas"
TWEEN_MS = 400  # one step to the next, eased
HOLD_MS = 150  # a step's stay while playing, once its points have arrived

LOADER = element_loader("The element")


def encode(values: np.ndarray, dtype=np.float32) -> str:
    """``values`` as base64 of their little-endian bytes (``dtype``)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype).tobytes()).decode()


def decode(text: str, dtype=np.float32) -> np.ndarray:
    """The inverse of ``encode`` (flat)."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def map_panel(
    title: str,
    axes: tuple[str, str],
    frames: np.ndarray,
    pick: Sequence[int],
    labels: np.ndarray | None,
    names: Sequence[str],
    ranges: Sequence[Sequence[float]],
    width: float = 1.0,
    height: int = 440,
    circles: Sequence[float] = (),
    equal: bool = False,
    row: int = 0,
) -> dict:
    """A map panel.

    Args:
        title, axes: its title and its x and y axis titles (shown as text).
        frames: ``[F, N, 2]`` the points' positions in each frame.
        pick: ``[T]`` the frame each step shows.
        labels: ``[N]`` each point's class (< 256), its colour ``COLORS[c]``
            and its hover name ``names[c]``; None: one class.
        ranges: ``[x0, x1, y0, y1]`` for every step, or one per step ``[T, 4]``
            (tweened between steps).
        width, height: its share of its row of panels, its height in pixels.
        row: the row of panels it is in (rows top to bottom, by number).
        circles: radii of dotted circles about the origin (the prior's σs).
        equal: one unit as long on both axes (the ranges grow to fit).
    """
    frames = np.asarray(frames, np.float32)
    r = np.asarray(ranges, np.float64)
    out = {
        "kind": "map", "title": title, "axes": list(axes), "n": int(frames.shape[1]),
        "frames": encode(frames), "pick": [int(k) for k in pick],
        "labels": None if labels is None else encode(labels, np.uint8),
        "names": list(names), "palette": list(COLORS), "width": width,
        "height": height, "circles": [float(c) for c in circles], "equal": equal,
        "row": row,
    }  # fmt: skip
    out["ranges" if r.ndim == 2 else "range"] = r.tolist()
    return out


def series(
    name: str, colour: str, x: Sequence[float], y: Sequence[float], labels=None
) -> dict:
    """A line of a curve panel (``name`` in the legend when not empty; a
    text beside each point with ``labels``)."""
    return {"name": name, "colour": colour, "x": [float(v) for v in x],
            "y": [float(v) for v in y], "labels": labels}  # fmt: skip


def curve_panel(
    title: str,
    axes: tuple[str, str],
    lines: list[dict],
    marker_x: Sequence[float],
    marker_y: Sequence[float] | None = None,
    log_x: bool = False,
    width: float = 1.0,
    height: int = 300,
    row: int = 0,
) -> dict:
    """A curve panel of ``lines`` (``series``) with a marker per step: a
    vertical cursor at ``marker_x[step]``, or with ``marker_y`` a ring at
    ``(marker_x[step], marker_y[step])``; ``width``, ``height`` and ``row`` as
    a map panel's."""
    return {
        "kind": "curve", "title": title, "axes": list(axes), "series": lines,
        "log_x": log_x, "width": width, "height": height, "row": row,
        "marker": {"x": [float(v) for v in marker_x],
                   "y": None if marker_y is None else [float(v) for v in marker_y]},
    }  # fmt: skip


def data(
    steps: list[str],
    panels: list[dict],
    words: dict[str, str],
    start: int = 0,
    texts: list[str] | None = None,
) -> dict:
    """The element's data: the steps' labels, the panels, the words (``play``,
    ``pause``), the step shown first and an optional line of text per step."""
    return {"steps": steps, "panels": panels, "words": words, "start": start,
            "texts": texts, "tween_ms": TWEEN_MS, "hold_ms": HOLD_MS}  # fmt: skip


def module_url() -> str:
    """The element's entry module (``view.served_module``)."""
    return served_module(FOLDER, "canvas")


@cache
def _component():
    return st.components.v2.component(
        "latent_explorer_canvas", js=LOADER, isolate_styles=False
    )


def canvas(d: dict, key: str) -> object:
    """Mounts the element of ``d`` (``data``) under the component key ``key``."""
    payload = {
        "module_url": module_url(),
        "canvas": json.dumps(d, separators=(",", ":"), ensure_ascii=False),
    }
    return _component()(key=key, data=payload)
