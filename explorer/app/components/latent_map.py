"""The latent maps' data files: the points of a map, and the folder the app
writes such files into for the browser, each named by its content.

A map's points go to the browser once, as a binary file (``write_points``);
each rerun sends only the small overlay marks, so a map is never rebuilt and
the user's zoom survives. The folder also holds plotly.js's "gl2d" partial
bundle (scatter and scattergl only, MIT, vendored from npm
``plotly.js-gl2d-dist-min``; 1.6 MB instead of the full 4.8 MB), the
decoders exported for the browser and a large map's density images; the
routes (``explorer.app.routes``) serve it, and the view
(``components.view``) fetches from it by URL.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from explorer.app import routes
from explorer.fileio import atomic_write, cache_dir

FRONTEND = Path(__file__).parent / "frontend"

# The class colours: Petroff's ten-colour sequence, chosen so that every pair
# stays apart for normal vision and under simulated protanopia, deuteranopia
# and tritanopia, and every colour stays visible on white (M. A. Petroff,
# "Accessible Color Sequences for Data Visualization", arXiv:2107.02270, 2021;
# matplotlib's "petroff10" style). Tableau 10, used before, turns its red and
# green into one colour for a deuteranope (tests/app/test_palette.py). The
# one definition: the view gets it in its data, the density images and the
# Movement tab read it here.
COLORS = (
    "#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6",
    "#a96b59", "#e76300", "#b9ac70", "#717581", "#92dadd",
)  # fmt: skip


def component_dir(name: str = "latent_map") -> Path:
    """The folder of ``frontend/<name>``'s files (plotly.js), copied once
    per version into the cache, where the app also writes the data files
    the browser fetches once (points, decoder weights, density images): the
    package folder may be read-only."""
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


# The view (components.view) fetches this folder's files through the routes.
routes.serve_folder("latent_map", lambda: component_dir("latent_map"))

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
    try:
        os.utime(path)
    except FileNotFoundError:  # none yet (or another process evicted it now)
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
