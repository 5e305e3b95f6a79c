"""Maps of more points than a browser should draw one by one.

Above ``LARGE_MAP`` shown points (default 100,000; ``EXPLORER_LARGE_MAP``), a
map is two layers, both for the window the user looks at:

- a density image of every shown point (a 2-D histogram: each bin coloured by
  the mix of its classes, or by the mean of the measure, more opaque where
  more points fall), drawn under the plot;
- at most ``DRAW_LIMIT`` (20,000) real points, drawn as usual (hover, click to select):
  every point in the window when they are few enough, else those with the
  lowest of a fixed random priority. A point drawn at one zoom stays drawn
  when zooming in, and zooming in far enough draws every point.

For the full view (no window), the map also names files of every shown
point: their order of priority, every image's map coordinates and, when
colouring by a measure, its values. The instant view (``components.view``)
fetches them in the background and then draws each window itself, the same
points and the same density as ``large_map`` would, with no round trip. (A
window passed to ``large_map`` draws that window's points on the server:
the benchmark's classic page asks for each window the user pans or zooms to.)
"""

from __future__ import annotations

import hashlib
import io
import os
from functools import cache

import numpy as np
from PIL import Image

from explorer.app.components.latent_map import (
    COLORS,
    MapPoints,
    write_once,
    write_points,
)

LARGE_MAP = int(os.environ.get("EXPLORER_LARGE_MAP") or 100_000)
DRAW_LIMIT = int(os.environ.get("EXPLORER_DRAW_LIMIT") or 20_000)
BINS = (400, 300)  # density image: columns, rows
MARGIN = 0.04

Window = tuple[tuple[float, float], tuple[float, float]]


def extent(coords: np.ndarray) -> Window:
    """The points' bounding box with a small margin."""
    lo, hi = coords.min(axis=0).astype(float), coords.max(axis=0).astype(float)
    pad = np.maximum((hi - lo) * MARGIN, 1e-6)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def inside(coords: np.ndarray, window: Window) -> np.ndarray:
    (x0, x1), (y0, y1) = window
    x, y = coords[:, 0], coords[:, 1]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


@cache
def _drawing_order(n: int) -> np.ndarray:
    """Every index of ``n`` points, first drawn first (a fixed random order)."""
    out = np.random.default_rng(0).permutation(n)
    out.setflags(write=False)
    return out


@cache
def priority(n: int) -> np.ndarray:
    """A fixed random rank of each of ``n`` points (which to draw first)."""
    out = np.empty(n, np.int64)
    out[_drawing_order(n)] = np.arange(n)
    out.setflags(write=False)
    return out


def by_priority(shown: np.ndarray, n_total: int) -> np.ndarray:
    """``shown`` (indices) in order of priority: the first ``limit`` of them
    inside any window are what ``pick`` picks there."""
    order = _drawing_order(n_total)
    if len(shown) == n_total:  # every point (indices are unique)
        return order
    keep = np.zeros(n_total, bool)
    keep[shown] = True
    return order[keep[order]]


def pick(candidates: np.ndarray, n_total: int, limit: int) -> np.ndarray:
    """At most ``limit`` of ``candidates`` (indices), by lowest priority; sorted."""
    if len(candidates) <= limit:
        return candidates
    rank = priority(n_total)[candidates]
    return np.sort(candidates[np.argpartition(rank, limit)[:limit]])


def viridis() -> list[list[int]]:
    """The 256 colours of the measure scale, as the density layer uses them."""
    return [[int(v) for v in c] for c in np.rint(_viridis())]


@cache
def _viridis() -> np.ndarray:
    from plotly.colors import hex_to_rgb, sample_colorscale, unlabel_rgb

    out = []
    for c in sample_colorscale("Viridis", list(np.linspace(0, 1, 256))):
        out.append(hex_to_rgb(c) if c.startswith("#") else unlabel_rgb(c))
    return np.array(out, dtype=np.float64)


def density_image(
    coords: np.ndarray,
    window: Window,
    labels: np.ndarray | None = None,
    values: np.ndarray | None = None,
    value_range: tuple[float, float] | None = None,
    bins: tuple[int, int] = BINS,
) -> np.ndarray:
    """RGBA uint8 ``[rows, cols, 4]`` of the points in ``window`` (row 0 at the
    top). Colour: the count-weighted mix of the class colours, or the mean of
    ``values`` on the Viridis scale over ``value_range``; alpha grows with
    log(1 + count), and empty bins are clear."""
    (x0, x1), (y0, y1) = window
    bx, by = bins
    m = inside(coords, window)
    c = coords[m]
    ix = np.clip(((c[:, 0] - x0) / (x1 - x0) * bx).astype(np.int64), 0, bx - 1)
    iy = np.clip(((c[:, 1] - y0) / (y1 - y0) * by).astype(np.int64), 0, by - 1)
    cell = (by - 1 - iy) * bx + ix
    count = np.bincount(cell, minlength=bx * by).astype(np.float64)
    rgb = np.zeros((bx * by, 3))
    if values is not None:
        lo, hi = value_range or (float(values.min()), float(values.max()))
        mean = np.bincount(cell, weights=values[m], minlength=bx * by)
        mean = mean / np.maximum(count, 1)
        level = np.clip((mean - lo) / max(hi - lo, 1e-12), 0, 1)
        rgb = _viridis()[(level * 255).astype(np.int64)]
    else:
        from plotly.colors import hex_to_rgb

        palette = np.array([hex_to_rgb(h) for h in COLORS], np.float64)
        lab = np.zeros(len(c), np.int64) if labels is None else labels[m] % len(COLORS)
        for k in np.unique(lab):
            rgb += np.bincount(cell[lab == k], minlength=bx * by)[:, None] * palette[k]
        rgb /= np.maximum(count, 1)[:, None]
    alpha = np.where(
        count > 0, 0.2 + 0.75 * np.log1p(count) / np.log1p(max(count.max(), 1)), 0
    )
    out = np.concatenate([rgb, alpha[:, None] * 255], axis=1)
    return (out + 0.5).astype(np.uint8).reshape(by, bx, 4)


def png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _value_range(values: np.ndarray) -> tuple[float, float]:
    """The colour scale of ``values`` (the shown points' measure)."""
    # The colour scale spans the 1st to 99th percentile: a few extreme
    # images would otherwise squeeze everyone else into one colour.
    lo, hi = np.percentile(values, [1, 99])
    return float(lo), float(max(hi, lo + 1e-6))


def _window_files(
    coords: np.ndarray, shown: np.ndarray, values: np.ndarray | None
) -> dict:
    """The files the browser draws every other window from: the shown points
    in order of priority, every image's map coordinates and the measure."""
    order = by_priority(np.asarray(shown), len(coords)).astype("<i4")
    xy = np.ascontiguousarray(coords[:, :2], dtype="<f4")
    return {
        "order": write_once("order", order.tobytes(), "latent_map"),
        "coords": write_once("coords", xy.tobytes(), "latent_map"),
        "values": (
            None
            if values is None
            else write_once(
                "values", np.asarray(values, dtype="<f4").tobytes(), "latent_map"
            )
        ),
    }


def large_map(
    coords: np.ndarray,
    shown: np.ndarray,
    titles: tuple[str, str],
    labels: np.ndarray | None,
    class_names: tuple[str, ...],
    values: np.ndarray | None,
    values_title: str | None,
    window: Window | None,
    view_key: str,
    limit: int | None = None,
) -> tuple[MapPoints, np.ndarray]:
    """The map of ``shown`` (dataset indices) for ``window`` (default: all):
    the points file of the drawn points with the density of all shown points,
    and the dataset index of each drawn point. Without a window, the density
    also names the files the browser draws other windows from (``order``,
    ``coords``, ``values``; see the module's docstring)."""
    limit = limit or DRAW_LIMIT
    # every point, in order (the usual case): no copies of a million rows
    every = len(shown) == len(coords) and bool(np.all(shown[1:] > shown[:-1]))

    def of_shown(a: np.ndarray) -> np.ndarray:
        return a if every else a[shown]

    c = of_shown(coords)
    full_view = window is None
    window = window or extent(c)
    m = inside(c, window)
    drawn = pick(shown[m], len(coords), limit)
    value_range = None if values is None else _value_range(of_shown(values))
    rgba = density_image(
        c,
        window,
        None if labels is None else of_shown(labels),
        None if values is None else of_shown(values),
        value_range,
    )
    density = {
        "file": write_once("density", png(rgba), "latent_map", ".png"),
        "x": list(window[0]),
        "y": list(window[1]),
        "shown": int(len(shown)),
        "in_window": int(m.sum()),
        "value_range": list(value_range) if value_range else None,
        "limit": int(limit),
        "bins": list(BINS),
    }
    if full_view:
        density.update(_window_files(coords, shown, values))
    points = write_points(
        coords[drawn],
        None if labels is None or values is not None else labels[drawn],
        class_names if values is None else (),
        titles,
        None if values is None else values[drawn],
        values_title,
        view_key=view_key,
        density=density,
    )
    return points, drawn


def map_key(*parts) -> str:
    """A stable zoom key for a large map (kept while its window changes)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
