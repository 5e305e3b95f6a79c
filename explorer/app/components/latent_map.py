"""The latent map: a custom Streamlit component around plotly.js.

``st.plotly_chart`` reports clicks on points only. This component runs
plotly.js itself with ``clickanywhere``, so a click on empty space reports its
exact coordinates. It uses plotly.js's "gl2d" partial bundle (scatter and
scattergl only, MIT, vendored from npm ``plotly.js-gl2d-dist-min``; 1.6 MB
instead of the full 4.8 MB, which each map's frame would parse at start).
The points go to the browser once, as a binary file served from the
component's folder; each rerun sends only the small overlay marks, so the
figure is never rebuilt and the user's zoom survives.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import streamlit.components.v1 as components

from explorer.app import routes
from explorer.fileio import atomic_write, cache_dir

FRONTEND = Path(__file__).parent / "frontend"

# Tableau 10: distinct, colour-blind-aware, and readable on white.
COLORS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip


def component_dir(name: str = "latent_map") -> Path:
    """The folder a component is served from, made once per version.

    It holds a copy of the component's HTML and JS and the data files the
    browser fetches once (points, decoder weights), which the app writes
    there (the package folder may be read-only).
    """
    return _component_dir(name, cache_dir())


@cache
def _component_dir(name: str, root: Path) -> Path:
    src = FRONTEND / name
    h = hashlib.sha256()
    for f in sorted(src.iterdir()):
        h.update(f.name.encode() + f.read_bytes())
    folder = root / "component" / f"{name}-{h.hexdigest()[:16]}"
    done = folder / ".complete"
    if not done.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for f in src.iterdir():
            atomic_write(folder / f.name, f.read_bytes())
        done.touch()
    return folder


# The view (components.view) fetches these folders' files through the routes.
routes.serve_folder("latent_map", lambda: component_dir("latent_map"))
routes.serve_folder("live_decoder", lambda: component_dir("live_decoder"))

# The data files the app writes for the browser (points, density images,
# decoders) are kept up to this many bytes per component folder; past it the
# least recently used go (a large map writes one file per window).
CACHE_BYTES = 512 * 2**20
DATA_FILES = (
    "points-",
    "density-",
    "decoder-",
    "index-",
    "means-",
    "labels-",
    "order-",
    "coords-",
    "values-",
)


def write_once(
    name: str,
    data: bytes,
    component: str,
    suffix: str = ".bin",
    cap: int = CACHE_BYTES,
) -> str:
    """Writes ``data`` into a component's folder under a name made from its
    content (so the browser may cache it forever); returns the file name.

    A file already there is marked used (its time set to now). A new one may
    push the folder's data files past ``cap`` bytes:
    then the least recently used others are deleted until it fits.
    """
    fname = f"{name}-{hashlib.sha256(data).hexdigest()[:20]}{suffix}"
    path = component_dir(component) / fname
    if path.is_file():
        os.utime(path)
    else:
        atomic_write(path, data)
        evict(path.parent, cap, keep=path)
    return fname


def evict(folder: Path, cap: int, keep: Path) -> list[Path]:
    """Deletes the least recently used data files of ``folder`` (never
    ``keep``) until their total size is at most ``cap``; returns them."""
    files = []
    for f in folder.iterdir():
        if f.name.startswith(DATA_FILES):
            try:
                st = f.stat()
            except FileNotFoundError:  # another session evicted it just now
                continue
            files.append((st.st_mtime_ns, st.st_size, f))
    total = sum(size for _, size, _ in files)
    gone = []
    for _, size, f in sorted(files):
        if total <= cap:
            break
        if f != keep:
            f.unlink(missing_ok=True)
            total -= size
            gone.append(f)
    return gone


@cache
def _component():
    return components.declare_component("latent_map", path=str(component_dir()))


@dataclass(frozen=True)
class MapPoints:
    """A points file in the component folder, and what the legend needs."""

    file: str
    n: int
    class_names: tuple[str, ...]
    axis_titles: tuple[str, str]
    values_title: str | None = None
    view_key: str = ""
    density: dict | None = None  # a large map's density layer (ui.density)


def points_bytes(
    coords: np.ndarray, labels: np.ndarray | None, values: np.ndarray | None = None
) -> bytes:
    """float32 x ``[N]``, float32 y ``[N]``, uint8 label ``[N]``, and with
    ``values`` (colour by a measure) float32 value ``[N]``."""
    n = len(coords)
    lab = (
        np.zeros(n, np.uint8)
        if labels is None
        else np.clip(labels, 0, 255).astype(np.uint8)
    )
    xy = np.ascontiguousarray(coords[:, :2].T, dtype="<f4")
    out = xy.tobytes() + lab.tobytes()
    if values is not None:
        out += np.ascontiguousarray(values, dtype="<f4").tobytes()
    return out


def write_points(
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: tuple[str, ...],
    axis_titles: tuple[str, str],
    values: np.ndarray | None = None,
    values_title: str | None = None,
    view_key: str | None = None,
    density: dict | None = None,
) -> MapPoints:
    """Writes the points file (named by its content) and describes it.

    With ``values`` the map is coloured by them (a continuous scale titled
    ``values_title``) instead of by class. The zoom is kept across colourings
    of the same coordinates, and across files of the same ``view_key``.
    """
    if (values is None) != (values_title is None):
        raise ValueError("give values and values_title together")
    name = write_once("points", points_bytes(coords, labels, values), "latent_map")
    if view_key is None:
        view_key = hashlib.sha256(
            np.ascontiguousarray(coords, dtype="<f4")
        ).hexdigest()[:16]
    return MapPoints(
        name,
        len(coords),
        tuple(class_names),
        axis_titles,
        values_title,
        view_key,
        density,
    )


def latent_map(
    points: MapPoints,
    overlays: dict,
    key: str,
    height: int = 440,
    on_change=None,
    marker_size: float = 4.0,
) -> dict | None:
    """Draws the map; returns the last click event or None.

    Args:
        points: from ``write_points``.
        overlays: map coordinates of the marks (each optional):
            ``selected``, ``cursor``, ``a``, ``b``, ``upload``: ``[x, y]``;
            ``path``, ``samples``: ``[[x, y], ...]``; ``rings`` (the prior's),
            ``ellipses`` (a posterior's): lists of closed polylines.
        key: the widget key; the event is also in ``st.session_state[key]``.
        on_change: called (before the rerun) when the user clicks.

    Returns:
        ``{"kind": "point", "index": i, "x", "y", "id"}`` (a click on a
        point), ``{"kind": "space", "x", "y", "id"}`` (a click elsewhere) or
        ``{"kind": "view", "x": [x0, x1], "y": [y0, y1], "id"}`` (a pan or
        zoom ended); ``id`` is unique per event.
    """
    return _component()(
        points_file=points.file,
        n=points.n,
        class_names=list(points.class_names),
        colors=list(COLORS),
        axis_titles=list(points.axis_titles),
        values_title=points.values_title,
        view_key=points.view_key,
        density=points.density,
        overlays=overlays,
        height=height,
        marker_size=marker_size,
        key=key,
        default=None,
        on_change=on_change,
    )
