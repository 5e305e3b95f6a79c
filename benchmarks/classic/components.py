"""The classic design's two iframe components (Streamlit components v1): a
latent map around plotly.js, and the live sliders that decode in the
browser. The product draws both maps, the strip and the sliders in one
element (``explorer.app.components.view``); these are kept, outside the
package, as the benchmark's same-run baseline.

Each component's folder is its HTML and JavaScript here plus the product's
plotly.js bundle, copied once into a cache folder named by their content;
the data files (points, density images, decoders) are the product's, written
by it and fetched from its routes by URL.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np
import streamlit.components.v1 as components

from explorer.app import routes
from explorer.app.components.latent_map import COLORS, FRONTEND, MapPoints
from explorer.app.components.live import decoder_file
from explorer.fileio import atomic_write, cache_dir
from explorer.latent.space import LatentSpace

HERE = Path(__file__).parent / "frontend"
PLOTLY = FRONTEND / "latent_map" / "plotly-gl2d-3.7.0.min.js"


def component_dir(name: str) -> Path:
    """The folder component ``name`` is served from: its files and plotly.js."""
    return _component_dir(name, cache_dir())


@cache
def _component_dir(name: str, root: Path) -> Path:
    files = sorted((HERE / name).iterdir()) + [PLOTLY]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + f.read_bytes())
    folder = root / "classic-component" / f"{name}-{h.hexdigest()[:16]}"
    done = folder / ".complete"
    if not done.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for f in files:
            atomic_write(folder / f.name, f.read_bytes())
        done.touch()
    return folder


@cache
def _component(name: str):
    return components.declare_component(name, path=str(component_dir(name)))


def url(name: str) -> str:
    """A data file of the product's (``write_once``), by URL."""
    return routes.file_url("latent_map", name)


def latent_map(
    points: MapPoints,
    overlays: dict,
    key: str,
    height: int = 440,
    on_change=None,
    marker_size: float = 4.0,
) -> dict | None:
    """Draws a map in its iframe; returns the last event or None.

    Args:
        points: from ``explorer.app.components.latent_map.write_points``.
        overlays: the marks' map coordinates (``explorer.app.panel.overlays``).
        key: the widget key; the event is also in ``st.session_state[key]``.
        on_change: called (before the rerun) when the user clicks or zooms.

    Returns:
        ``{"kind": "point", "index": i, "x", "y", "id"}`` (a click on a
        point), ``{"kind": "space", "x", "y", "id"}`` (a click elsewhere) or
        ``{"kind": "view", "x": [x0, x1], "y": [y0, y1], "id"}`` (a pan or
        zoom ended); ``id`` is unique per event.
    """
    density = points.density and dict(points.density, file=url(points.density["file"]))
    return _component("latent_map")(
        points_file=url(points.file),
        n=points.n,
        class_names=list(points.class_names),
        colors=list(COLORS),
        axis_titles=list(points.axis_titles),
        values_title=points.values_title,
        view_key=points.view_key,
        density=density,
        overlays=overlays,
        height=height,
        marker_size=marker_size,
        key=key,
        default=None,
        on_change=on_change,
    )


def live_decoder(
    space: LatentSpace,
    path: str,
    cursor: np.ndarray,
    label: int | None,
    key: str,
    on_change=None,
    scale: int = 5,
) -> dict | None:
    """Sliders that decode in the browser as they move.

    Returns the last released value ``{"values": [K floats], "id"}`` (also in
    ``st.session_state[key]``); ``on_change`` runs before the rerun.
    """
    basis = space.basis
    cond = space.model.num_classes or 0
    onehot = np.zeros(cond)
    if cond:
        onehot[label] = 1.0
    return _component("live_decoder")(
        decoder_file=url(decoder_file(path, space)),
        labels=list(basis.labels),
        ranges=basis.ranges.tolist(),
        step=[float(hi - lo) / 200 for lo, hi in basis.ranges],
        s0=basis.coordinates(cursor).tolist(),
        z0=np.asarray(cursor, dtype=np.float64).tolist(),
        components=basis.components.tolist(),
        onehot=onehot.tolist(),
        scale=scale,
        key=key,
        default=None,
        on_change=on_change,
    )
